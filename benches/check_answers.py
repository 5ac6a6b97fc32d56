#!/usr/bin/env python3
"""Checks magediag's scan against the corpus answers (gen_corpus.py's OUT.answers.json).

  benches/check_answers.py CORPUS_DIR [--bin PATH] [--rules DIR] [--kinds http403,http404,auth401]

Every file with a planted failure of a checked kind must get at least one diagnosis of
severity error (in any deployment run: --all-runs); no file without a planted failure
may get one. Kinds the loaded rules do not cover (by default: memory and disk_full,
which the shipped auth rules do not diagnose) are reported, not checked. Exit 1 on a miss.
"""
import argparse, collections, json, subprocess, sys

ap = argparse.ArgumentParser()
ap.add_argument("corpus")
ap.add_argument("--bin", default="target/release/magediag")
ap.add_argument("--rules")
ap.add_argument("--kinds", default="http403,http404,auth401")
args = ap.parse_args()

answers = json.load(open(args.corpus.rstrip("/") + ".answers.json"))
checked = set(args.kinds.split(","))
planted = collections.defaultdict(set)
for path, _line, kind in answers["locations"]:
    planted[path].add(kind)

cmd = [args.bin, "scan", args.corpus, "--all-runs", "--format", "json"]
if args.rules:
    cmd += ["--rules", args.rules]
out = subprocess.run(cmd, capture_output=True, text=True)
if out.returncode == 2 and not out.stdout:
    sys.exit(f"magediag failed: {out.stderr}")
report = json.loads(out.stdout)

errors = collections.defaultdict(set)
for source in report["sources"]:
    rel = source["path"][len(args.corpus.rstrip("/")) + 1:]
    for d in source["diagnoses"]:
        if d["severity"] == "error":
            errors[rel].add(d["rule"])
scanned = {s["path"][len(args.corpus.rstrip("/")) + 1:] for s in report["sources"]}

missed = sorted(p for p, kinds in planted.items() if kinds & checked and not errors.get(p))
false = sorted(p for p in errors if not planted.get(p))
uncovered = sorted(p for p, kinds in planted.items() if not kinds & checked)
print(f"files scanned: {len(scanned)}; with a planted failure of a checked kind: "
      f"{sum(1 for k in planted.values() if k & checked)}; diagnosed: "
      f"{sum(1 for p, k in planted.items() if k & checked and errors.get(p))}")
print(f"missed (planted, no error diagnosis): {len(missed)}")
for p in missed[:20]:
    print("  ", p, sorted(planted[p]))
print(f"false errors (no planted failure): {len(false)}")
for p in false[:20]:
    print("  ", p, sorted(errors[p]))
print(f"files whose only planted kinds are unchecked ({','.join(sorted(set(answers['kinds']) - checked))}): "
      f"{len(uncovered)}, of which diagnosed anyway: {sum(1 for p in uncovered if errors.get(p))}")
sys.exit(1 if missed or false else 0)
