#!/usr/bin/env bash
# magediag beside ripgrep, GNU grep and the `cat` floor on the shared bench corpus.
#
#   benches/run.sh [100M|1G] [RUNS]        # default: 100M, 3 runs
#   MAGEDIAG_RULES=/tmp/rules benches/run.sh 1G 5   # also pass --rules DIR to magediag
#
# Makes the corpus under /tmp if missing (gen_corpus.py), builds magediag (release),
# installs ripgrep into /tmp/rgbin if it is not on PATH, then runs every tool RUNS times,
# interleaved (tool A, B, C, A, B, C, ...) so that a busy machine hurts all alike, and
# prints a Markdown table: median wall time (min-max), MB/s of log text, median CPU time
# (user + system, all threads and child processes: steadier than wall time on a busy
# host), peak RSS, and the ratio to ripgrep. Two blocks: the folder (`scan` vs
# `rg -z -c -f`) and stdin (one file).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-100M}
RUNS=${2:-3}
BENCH=${BENCH_DIR:-/work/shared/bench}
PATTERNS=$BENCH/patterns.txt
case $SIZE in
  1G) DIR=/tmp/magelogs; FILE=/tmp/magelogs.log; GEN_DIR=(); GEN_FILE=(--single) ;;
  *) DIR=/tmp/magelogs-$(echo "$SIZE" | tr 'A-Z' 'a-z'); FILE=$DIR.log
     GEN_DIR=(--size "$SIZE"); GEN_FILE=(--single --size "$SIZE") ;;
esac
[ -d "$DIR" ] || python3 "$BENCH/gen_corpus.py" "$DIR" "${GEN_DIR[@]}"
[ -f "$FILE" ] || python3 "$BENCH/gen_corpus.py" "$FILE" "${GEN_FILE[@]}"

cargo build --release --quiet
TARGET=${CARGO_TARGET_DIR:-target}
MAGEDIAG=$TARGET/release/magediag
RG=$(command -v rg || echo /tmp/rgbin/bin/rg)
[ -x "$RG" ] || cargo install ripgrep --root /tmp/rgbin --quiet
RULES=()
[ -n "${MAGEDIAG_RULES:-}" ] && RULES=(--rules "$MAGEDIAG_RULES")

# Warm the page cache so every tool reads from memory.
find "$DIR" -type f -exec cat {} + > /dev/null
cat "$FILE" > /dev/null

bytes() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['bytes_uncompressed'])" "$1"; }
DIR_BYTES=$(bytes "$DIR.answers.json")
FILE_BYTES=$(bytes "$FILE.answers.json")
RESULTS=$(mktemp /tmp/magediag-bench.XXXXXX)

# run NAME BLOCK COMMAND...: one timed run, appended to $RESULTS as
# "block|name|secs|kb|user secs|system secs" (benches/timed.py: GNU time's numbers, to
# the microsecond). Output goes to a file, not /dev/null: GNU grep stops at the first
# match when its output is /dev/null.
run() {
  local name=$1 block=$2; shift 2
  python3 benches/timed.py "$RESULTS" "$block|$name" -- "$@"
}

for _ in $(seq "$RUNS"); do
  run "floor: cat" folder sh -c "find '$DIR' -type f -exec cat {} + > /dev/null"
  run "rg -z -c -f patterns.txt" folder "$RG" -z -c -f "$PATTERNS" "$DIR"
  run "grep -E -c -f patterns.txt -r (LC_ALL=C)" folder env LC_ALL=C grep -E -c -f "$PATTERNS" -r "$DIR"
  run "magediag scan --format json" folder "$MAGEDIAG" scan "$DIR" --format json "${RULES[@]}"
  run "floor: cat" stdin sh -c "cat < '$FILE' > /dev/null"
  run "rg -c -f patterns.txt" stdin sh -c "'$RG' -c -f '$PATTERNS' < '$FILE'"
  run "grep -E -c -f patterns.txt (LC_ALL=C)" stdin sh -c "LC_ALL=C grep -E -c -f '$PATTERNS' < '$FILE'"
  run "magediag --format json" stdin sh -c "'$MAGEDIAG' --format json ${RULES[*]} < '$FILE'"
done

python3 - "$RESULTS" "$DIR_BYTES" "$FILE_BYTES" "$SIZE" "$RUNS" "$(nproc)" <<'PY'
import collections, statistics, sys
path, dir_bytes, file_bytes, size, runs, cores = sys.argv[1:]
rows = collections.OrderedDict()
for line in open(path):
    block, name, secs, kb, user, system = line.strip().split("|")
    rows.setdefault((block, name), []).append((float(secs), int(kb), float(user) + float(system)))
print(f"\n{size} corpus, {runs} interleaved runs, {cores} cores, page cache warm\n")
for block, total in (("folder", int(dir_bytes)), ("stdin", int(file_bytes))):
    print(f"| {block} ({total / 2**20:.0f} MiB of log text) | wall, median (min-max) | MB/s | CPU, median | peak RSS | vs rg |")
    print("|---|---:|---:|---:|---:|---:|")
    rg = next(statistics.median(s for s, _, _ in v) for (b, n), v in rows.items() if b == block and n.startswith("rg"))
    for (b, name), v in rows.items():
        if b != block:
            continue
        secs = [s for s, _, _ in v]
        med = max(statistics.median(secs), 0.005)
        cpu = statistics.median(c for _, _, c in v)
        rss = max(k for _, k, _ in v) / 1024
        print(f"| {name} | {med:.3f} s ({min(secs):.3f}-{max(secs):.3f}) | {total / 1e6 / med:.0f} | {cpu:.3f} s | {rss:.0f} MB | {med / rg:.2f} |")
    print()
PY
rm -f "$RESULTS" "$RESULTS.out"
