#!/usr/bin/env python3
"""Writes the exact inputs of the anchor's bench_matcher.py (patterns and observed-data bundles).

Usage: matcher_inputs.py ANCHOR_DIR N_OBS M_PATTERNS OUT_DIR [--seed S]
Runs bench_matcher.py's own generation code (everything before its timed part), so the
patterns and observations are the ones the reference matcher is measured on, and writes
OUT_DIR/patterns_M.json and OUT_DIR/observations_N_M.json.
"""
import json, os, sys

anchor, n_obs, m_pat, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
extra = sys.argv[5:]
source = open(os.path.join(anchor, "bench_matcher.py")).read()
head = source[: source.index("ru0 = resource.getrusage")]
sys.argv = [os.path.join(anchor, "bench_matcher.py"), n_obs, m_pat] + extra
scope = {"__file__": os.path.join(anchor, "bench_matcher.py"), "__name__": "bench_inputs"}
exec(compile(head, "bench_matcher.py", "exec"), scope)
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "patterns_%s_%s.json" % (n_obs, m_pat)), "w") as f:
    json.dump(scope["patterns"], f)
with open(os.path.join(out, "observations_%s_%s.json" % (n_obs, m_pat)), "w") as f:
    json.dump(scope["observations"], f)
