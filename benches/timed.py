#!/usr/bin/env python3
"""Runs one command and appends `PREFIX|wall|peak RSS KB|user|system` to a file.

    benches/timed.py OUT PREFIX -- COMMAND [ARGS...]   # stdout and stderr: OUT.out

What GNU time's `-f "%e|%M|%U|%S"` gives, to the microsecond instead of the hundredth
of a second: at the 100 MiB corpus a run takes ~0.2 s, where 10 ms is 5%. The times are
the kernel's for the command and the children it waited for (`wait4`), as GNU time
reports them. The peak RSS is GNU time's own (`%M`): a child forked from Python would
count Python's pages until it execs. The command's exit status is ignored: magediag
exits 1 when it finds an error, and the corpus has planted failures.
"""
import os
import subprocess
import sys
import time


def main() -> int:
    if len(sys.argv) < 5 or sys.argv[3] != "--":
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    out, prefix, command = sys.argv[1], sys.argv[2], sys.argv[4:]
    rss_file = out + ".rss"
    with open(out + ".out", "wb") as sink:
        start = time.perf_counter()
        child = subprocess.Popen(
            ["/usr/bin/time", "-f", "%M", "-o", rss_file, *command],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        _, _, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
    child.returncode = 0  # reaped by wait4 already
    with open(rss_file) as f:
        rss = f.read().split()[-1]
    os.remove(rss_file)
    with open(out, "a") as results:
        results.write(
            f"{prefix}|{wall:.6f}|{rss}|{usage.ru_utime:.6f}|{usage.ru_stime:.6f}\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
