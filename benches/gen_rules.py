#!/usr/bin/env python3
"""Synthetic rule files for measuring how cost grows with the rule count.

  benches/gen_rules.py OUT_DIR N      # N rules, 2 signals of 1 pattern each

Patterns are taken from the shared bench's patterns.txt in turn (the kind of regex real
rules use; past 66 they repeat with another capture name, so the prefilter and the
regexes do the work twice). Pass the folder to magediag with --rules OUT_DIR.
"""
import os, sys

out, n = sys.argv[1], int(sys.argv[2])
patterns = [p for p in open("/work/shared/bench/patterns.txt").read().splitlines() if p.strip()]
os.makedirs(out, exist_ok=True)
lines = []
for i in range(n):
    sigs = []
    for j in range(2):
        k = 2 * i + j
        pattern = patterns[k % len(patterns)]
        if k >= len(patterns):
            pattern = f"(?P<g{k}>{pattern})"
        sigs.append(f"synthetic.s{k}")
        lines += ["[[signal]]", f'id = "synthetic.s{k}"', f"patterns = ['''{pattern}''']", ""]
    lines += [
        "[[rule]]", f'id = "synthetic-{i}"', 'category = "network"', 'severity = "warning"',
        f'title = "synthetic rule {i}"', f"when = 'any({sigs[0]}) && count({sigs[1]}) >= 1'",
        "summary = '{count} event(s)'", "causes = []", "remediation = []", "",
    ]
with open(os.path.join(out, "synthetic.toml"), "w") as f:
    f.write("\n".join(lines))
print(f"wrote {out}/synthetic.toml: {n} rules, {2 * n} signals")
