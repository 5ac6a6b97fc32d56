#!/usr/bin/env bash
# Two (or more) magediag builds side by side, interleaved, on the bench corpus:
#
#   benches/ab.sh RUNS BIN_A BIN_B [BIN...]        # e.g. benches/ab.sh 9 /tmp/before target/release/magediag
#   CORPUS=/tmp/magelogs benches/ab.sh 3 A B        # the 1 GiB corpus (default: /tmp/magelogs-100m)
#   WITH_RG=1 benches/ab.sh 5 A B                   # ripgrep too, in each round (wall, CPU in user)
#
# Each round runs every build once over the folder (`scan DIR --format json`) and once on
# stdin (`--format json < DIR.log`), in turn, so that a busy host hurts all alike; it
# prints each build's median wall and user time and the walls of every run. Make the
# corpus first with benches/run.sh (100M or 1G). Used to judge one change: compare
# medians within one call, not across calls (the host's speed moves by 10-30%).
set -euo pipefail
RUNS=${1:?usage: benches/ab.sh RUNS BIN_A BIN_B [BIN...]}
shift
[ $# -ge 2 ] || { echo "usage: benches/ab.sh RUNS BIN_A BIN_B [BIN...]" >&2; exit 2; }
CORPUS=${CORPUS:-/tmp/magelogs-100m}
[ -d "$CORPUS" ] && [ -f "$CORPUS.log" ] || {
  echo "no corpus at $CORPUS and $CORPUS.log: run benches/run.sh first" >&2; exit 2; }
TIMES=$(mktemp /tmp/magediag-ab.XXXXXX)
trap 'rm -f "$TIMES" "$TIMES.out"' EXIT
TIMED=$(dirname "$0")/timed.py
PATTERNS=${BENCH_DIR:-/work/shared/bench}/patterns.txt
RG=$(command -v rg || echo /tmp/rgbin/bin/rg)
for _ in $(seq "$RUNS"); do
  if [ -n "${WITH_RG:-}" ]; then
    python3 "$TIMED" "$TIMES" "rg|folder" -- "$RG" -z -c -f "$PATTERNS" "$CORPUS"
    python3 "$TIMED" "$TIMES" "rg|stdin" -- sh -c "'$RG' -c -f '$PATTERNS' < '$CORPUS.log'"
  fi
  for bin in "$@"; do
    # magediag exits 1 when it finds an error (the corpus has planted failures):
    # timed.py ignores the status.
    python3 "$TIMED" "$TIMES" "$bin|folder" -- "$bin" scan "$CORPUS" --format json
    python3 "$TIMED" "$TIMES" "$bin|stdin" -- sh -c "'$bin' --format json < '$CORPUS.log'"
  done
done
python3 - "$TIMES" <<'PY'
import collections, statistics, sys
runs = collections.OrderedDict()
for line in open(sys.argv[1]):
    build, kind, wall, _rss, user, _system = line.strip().split("|")
    runs.setdefault((kind, build), []).append((float(wall), float(user)))
for (kind, build), v in sorted(runs.items(), key=lambda item: item[0][0]):
    walls = sorted(w for w, _ in v)
    print(f"{kind:6} {build:40} wall {statistics.median(walls):.3f} s  user "
          f"{statistics.median(u for _, u in v):.3f} s  walls {[round(w, 3) for w in walls]}")
PY
