#!/usr/bin/env bash
# STIX benchmarks, run side by side with the OASIS Python reference tools on the same inputs.
#   bench/stix.sh                              bundles of 10,000 and 100,000 indicators, matcher
#                                              1,000×100, 1,000×1,000 and 10,000×100; 3 runs each
#   REPS=1 SIZES=10000 MATCH="1000 100" bench/stix.sh     quicker
#   VALIDATE=1 bench/stix.sh                   also time stix2-validator (minutes per 10,000)
#   IMPORT=0 MATCH="1000 100" bench/stix.sh    the matcher only
# Needs the STIX anchor (../shared/anchors/stix, or NERETVA_ANCHORS/stix), Python 3 with venv and,
# once, network access to PyPI for stix2, stix2-validator, stix2-patterns and stix2-matcher.
# The Python figures come from the anchor's own scripts (run_bench.sh; bench_matcher.py run as its
# run_matcher.sh runs it, for the MATCH sizes); the
# Neretva figures from examples/bench_bundle and examples/bench_matcher on the same files.
# Compare CPU seconds (the *_cpu_s figures): the machine may be shared.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ANCHOR="${NERETVA_ANCHORS:-$ROOT/../shared/anchors}/stix"
VENV="${STIX_VENV:-/tmp/anchors/stix/venv}"
WORK="${STIX_WORK:-/tmp/anchors/stix}"
REPS="${REPS:-3}"
SIZES="${SIZES:-10000 100000}"
MATCH="${MATCH:-1000 100,1000 1000,10000 100}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
mkdir -p "$WORK"

PYTHON_OK=1
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV" && "$VENV/bin/pip" install -q stix2 stix2-validator stix2-patterns stix2-matcher \
    || { echo "!! could not install the Python reference tools (network?); measuring Neretva only"; PYTHON_OK=0; }
fi
"$VENV/bin/python" -c "import stix2, stix2validator, stix2patterns, stix2matcher" 2>/dev/null || PYTHON_OK=0

(cd "$ROOT" && cargo build --release -q -p neretva-stix --example bench_bundle --example bench_matcher)
BUNDLE="$TARGET/release/examples/bench_bundle"
MATCHER="$TARGET/release/examples/bench_matcher"
PY="$VENV/bin/python"
[ -x "$PY" ] || PY=python3
RESULTS="$WORK/neretva_results.jsonl"; : > "$RESULTS"
PY_LOG="$WORK/reference_results.log"; : > "$PY_LOG"

IMPORT="${IMPORT:-1}"
[ "$IMPORT" = 1 ] || SIZES=""
for n in $SIZES; do
  [ -f "$WORK/bundle_$n.json" ] || "$PY" "$ANCHOR/gen_bundle.py" "$n" "$WORK/bundle_$n.json"
done

echo "== Reference: stix2.parse and the pattern check (anchor run_bench.sh, $REPS fresh processes each)"
if [ "$PYTHON_OK" = 1 ] && [ -n "$SIZES" ]; then
  MODES="parse patterns" SIZES="$SIZES" bash "$ANCHOR/run_bench.sh" "$VENV" "$WORK" "$REPS" | tee -a "$PY_LOG"
  if [ "${VALIDATE:-0}" = 1 ]; then
    MODES="validate" SIZES="10000" bash "$ANCHOR/run_bench.sh" "$VENV" "$WORK" 1 | tee -a "$PY_LOG"
  fi
fi

echo "== Neretva: bundle import (read, check, validate every pattern), median of $REPS"
for n in $SIZES; do "$BUNDLE" "$WORK/bundle_$n.json" "$REPS" | tee -a "$RESULTS"; done
[ -z "$SIZES" ] || "$BUNDLE" "$WORK/bundle_${SIZES##* }.json" 1 --export "$WORK/neretva_export.json" >/dev/null
if [ "$PYTHON_OK" = 1 ] && [ "${VALIDATE:-0}" = 1 ]; then
  echo "== Reference: stix2-validator on Neretva's export of the largest bundle"
  "$PY" - "$WORK/neretva_export.json" <<'PYEOF' | tee -a "$PY_LOG"
import json, sys
from stix2validator import ValidationOptions, validate_parsed_json
res = validate_parsed_json(json.load(open(sys.argv[1])), ValidationOptions(version="2.1"))
results = res if isinstance(res, list) else getattr(res, "object_results", None) or [res]
print("EXPORT_VALIDATION errors=%d warnings=%d" % (sum(len(r.errors or []) for r in results), sum(len(r.warnings or []) for r in results)))
PYEOF
fi

echo "== Reference: stix2-matcher (the anchor's bench_matcher.py, as run_matcher.sh runs it: $REPS fresh processes each, median)"
IFS=',' read -ra CONFIGS <<< "$MATCH"
if [ "$PYTHON_OK" = 1 ]; then
  for cfg in "${CONFIGS[@]}"; do
    read -r nobs mpat <<< "$cfg"
    for _ in $(seq 1 "$REPS"); do "$PY" "$ANCHOR/bench_matcher.py" "$nobs" "$mpat"; done > "$WORK/matcher_raw.jsonl"
    "$PY" - "$WORK/matcher_raw.jsonl" <<'PYEOF2' | tee -a "$PY_LOG"
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
med = lambda k: statistics.median(r[k] for r in rows)
print("MEDIAN N_obs=%d M_pat=%d evals/s(wall)=%.0f evals/cpu_s=%.0f compile patterns/s(wall)=%.0f positives=%d peak_rss_mb=%.1f loadavg=%s" % (
  rows[0]["n_observed_data"], rows[0]["m_patterns"], med("evaluations_per_s"), med("evaluations_per_cpu_s"),
  med("patterns_compiled_per_s"), rows[0]["positives"], max(r["peak_rss_mb"] for r in rows),
  "/".join(str(r["loadavg_1m_at_end"]) for r in rows)))
PYEOF2
  done
fi

echo "== Neretva: matcher on the same patterns and observations, median of $REPS"
for cfg in "${CONFIGS[@]}"; do
  read -r nobs mpat <<< "$cfg"
  "$PY" "$ROOT/bench/stix/matcher_inputs.py" "$ANCHOR" "$nobs" "$mpat" "$WORK"
  "$MATCHER" "$WORK/patterns_${nobs}_${mpat}.json" "$WORK/observations_${nobs}_${mpat}.json" "$REPS" | tee -a "$RESULTS"
done

echo "== Ratios (Neretva / reference, CPU seconds)"
python3 - "$RESULTS" "$PY_LOG" <<'PYEOF'
import json, re, sys
neretva = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ref = open(sys.argv[2]).read()
parse = {int(m.group(1)): float(m.group(2)) for m in re.finditer(r"MEDIAN parse (\d+) .*?objs/cpu_s=([0-9.]+)", ref)}
match = {(int(m.group(1)), int(m.group(2))): (float(m.group(3)), int(m.group(4)))
         for m in re.finditer(r"MEDIAN N_obs=(\d+) M_pat=(\d+) .*?evals/cpu_s=([0-9.]+) .*?positives=(\d+)", ref)}
for row in neretva:
    if row["mode"] == "import":
        n = int(row["objects"])
        base = parse.get(n)
        ratio = "%.0fx" % (row["objs_per_cpu_s"] / base) if base else "n/a (no reference figure)"
        print("import %7d objects: Neretva %9.0f objects/CPU-s, stix2.parse %s -> %s" % (n, row["objs_per_cpu_s"], base, ratio))
    else:
        key = (row["n_observed_data"], row["m_patterns"])
        base, positives = match.get(key, (None, None))
        for kind in ("per_call", "prepared"):
            v = row[kind + "_evals_per_cpu_s"]
            ratio = "%.0fx" % (v / base) if base else "n/a"
            print("match %5d x %4d (%-8s): Neretva %11.0f evaluations/CPU-s, stix2-matcher %s -> %s; positives %d (reference %s)"
                  % (key[0], key[1], kind, v, base, ratio, row["positives"], positives))
PYEOF
