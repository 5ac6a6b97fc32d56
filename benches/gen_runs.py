#!/usr/bin/env python3
"""Writes one deploy log of many short deployment runs, for `--all-runs` memory.

    python3 benches/gen_runs.py /tmp/many-runs.log [--size 18M] [--seed 7]
    /usr/bin/time -v target/release/magediag --all-runs --format ndjson /tmp/many-runs.log > /dev/null

Each run starts with ece-tools' "Starting scenario(s)" line and holds a few progress
lines; most runs end in one of a handful of failures (keys refused, memory exhausted,
disk full, search engine down, a failed deploy command), the rest deploy fine. The same
arguments give byte-identical output. Generate it under /tmp, never in the repository.
"""
import argparse
import random
import sys

FAILURES = [
    [
        "W:   - Installing magento/module-{name} (103.0.{minor}): Downloading (connecting...)",
        "W:   The 'https://repo.magento.com/archives/magento/module-{name}/magento-module-{name}-103.0.{minor}.0.zip' URL could not be accessed: HTTP/1.1 403 Forbidden",
        "[{ts}] CRITICAL: [1] The command \"composer install\" failed.",
    ],
    [
        "PHP Fatal error:  Allowed memory size of 2147483648 bytes exhausted (tried to allocate {minor}4096 bytes) in /app/vendor/magento/framework/Code/Generator.php on line 11{minor}",
        "[{ts}] CRITICAL: [15] The command \"php ./bin/magento setup:di:compile --ansi --no-interaction\" failed.",
    ],
    [
        "  SQLSTATE[HY000]: General error: 3 Error writing file '/tmp/MY{minor}' (Errcode: 28 - No space left on device)",
        "[{ts}] CRITICAL: [126] The command \"php ./bin/magento setup:upgrade --keep-generated --ansi --no-interaction\" failed.",
    ],
    [
        "  No alive nodes found in your cluster",
        "[{ts}] CRITICAL: [126] The command \"php ./bin/magento setup:upgrade --keep-generated --ansi --no-interaction\" failed.",
    ],
    [
        "[{ts}] ERROR: [{minor}] Deployment failed.",
    ],
]

NAMES = ["catalog", "customer", "sales", "checkout", "quote", "store", "theme", "cms"]


def size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if text[-1].upper() in units:
        return int(text[:-1]) * units[text[-1].upper()]
    return int(text)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--size", default="18M")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    target = size(args.size)
    written = 0
    run = 0
    with open(args.out, "w", encoding="utf-8", newline="\n") as out:
        while written < target:
            run += 1
            day, second = divmod(run, 86400)
            ts = "2024-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.000000+00:00".format(
                1 + day // 28 % 12, 1 + day % 28, second // 3600, second // 60 % 60, second % 60
            )
            lines = [
                f"[{ts}] NOTICE: Starting scenario(s): scenario/deploy.xml (magento/ece-tools version: 2002.1.{run % 20})",
                f"[{ts}] NOTICE: Starting deploy.",
            ]
            kind = rng.randrange(len(FAILURES) + 1)
            if kind < len(FAILURES):
                fields = {"ts": ts, "name": rng.choice(NAMES), "minor": rng.randrange(10)}
                lines += [line.format(**fields) for line in FAILURES[kind]]
            else:
                lines.append(f"[{ts}] NOTICE: Deployment completed.")
            block = "\n".join(lines) + "\n"
            out.write(block)
            written += len(block.encode("utf-8"))
    print(f"{args.out}: {written} bytes, {run} runs", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
