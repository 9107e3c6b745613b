#!/usr/bin/env bash
# Feed pipeline benchmarks, run side by side with IntelMQ 3.5.0 on the same generated inputs.
#   bench/feeds.sh                 N=100000 events, 3 runs of each Neretva scenario, 1 of IntelMQ's Redis chain
#   N=10000 RUNS=1 bench/feeds.sh  quicker
#   INTELMQ=reuse bench/feeds.sh   Neretva only, IntelMQ's figures from the last run with the same N
# Needs the IntelMQ anchor (../shared/anchors/intelmq, or NERETVA_ANCHORS), Python 3 with venv,
# network access to PyPI once, and redis-server for IntelMQ's deployed (Redis) pipeline.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ANCHORS="${NERETVA_ANCHORS:-$ROOT/../shared/anchors}"
N="${N:-100000}"
RUNS="${RUNS:-3}"
# shellcheck source=/dev/null
source "$ANCHORS/intelmq/common.sh"   # PY (IntelMQ's venv), SCRATCH, HERE
IN="$SCRATCH/inputs"; OUTD="$SCRATCH/out"; WORK="$(mktemp -d)"
mkdir -p "$IN" "$OUTD"; chmod 777 "$OUTD"
trap 'rm -rf "$WORK"; [ -n "${REDIS_PID:-}" ] && kill "$REDIS_PID"' EXIT
REDIS_PID=""
if ! "$PY" -c 'import redis; redis.Redis(host="127.0.0.1",port=6379,socket_connect_timeout=1).ping()' 2>/dev/null; then
  redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no --dir "$WORK" >"$WORK/redis.log" 2>&1 &
  REDIS_PID=$!; sleep 1
fi
mkdir -p "$INTELMQ_ROOT_DIR/var/lib/bots"
cp "$HERE/../../reference/shadowserver/intelmq.json" "$INTELMQ_ROOT_DIR/var/lib/bots/shadowserver-schema.json"
[ -f "$IN/2026-03-01-scan_dns-at-geo-$N.csv" ] || "$PY" "$HERE/gen_inputs.py" "$IN" "$N" >/dev/null
[ -f "$IN/2026-03-01-scan_dns-at-geo-1000000.csv" ] || "$PY" "$HERE/gen_inputs.py" "$IN" 1000000 >/dev/null
SCAN="$IN/2026-03-01-scan_dns-at-geo-$N.csv"
BIG="$IN/2026-03-01-scan_dns-at-geo-1000000.csv"

(cd "$ROOT" && cargo build --release -q -p neretva && cargo build --release -q -p neretva-feeds --example parse_file)
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
NERETVA="$TARGET/release/neretva"
PARSE="$TARGET/release/examples/parse_file"

field() { "$PY" -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])['$1'])"; }

# IntelMQ takes minutes; its figures are kept per N, so INTELMQ=reuse can time Neretva alone.
SAVED="$SCRATCH/intelmq-figures-$N"
if [ "${INTELMQ:-run}" = reuse ] && [ -f "$SAVED.parse" ] && [ -f "$SAVED.e2e" ]; then
  echo "== IntelMQ 3.5.0: figures of the last run with $N lines (INTELMQ=reuse)"
  INTELMQ_PARSE=$(cat "$SAVED.parse"); INTELMQ_E2E=$(cat "$SAVED.e2e"); echo "$INTELMQ_PARSE"; echo "$INTELMQ_E2E"
else
  echo "== IntelMQ 3.5.0: Shadowserver scan_dns parser, $N lines (in process)"
  INTELMQ_PARSE=$("$PY" "$HERE/bench_intelmq.py" parse --feed shadowserver --input "$SCAN" | tail -1); echo "$INTELMQ_PARSE"
  echo "== IntelMQ 3.5.0: parser + taxonomy + deduplicator + filter + format_field + file, Redis, one process per bot"
  INTELMQ_E2E=$("$PY" "$HERE/bench_redis.py" --mode e2e --feed shadowserver --input "$SCAN" \
    --chain taxonomy,deduplicator,filter,format_field --output-file "$OUTD/redis-e2e.jsonl" | tail -1); echo "$INTELMQ_E2E"
  echo "$INTELMQ_PARSE" >"$SAVED.parse"; echo "$INTELMQ_E2E" >"$SAVED.e2e"
fi

echo "== Neretva: Shadowserver scan_dns parser, $N lines (best of $RUNS)"
NERETVA_PARSE=$("$PARSE" shadowserver "$SCAN" "$RUNS"); echo "$NERETVA_PARSE"
echo "== Neretva: Shadowserver scan_dns parser, 1,000,000 lines (best of $RUNS)"
NERETVA_BIG=$("$PARSE" shadowserver "$BIG" "$RUNS"); echo "$NERETVA_BIG"

echo "== Neretva: ingest end to end into SQLite (parse, taxonomy, deduplicate, filter, modify, store), $N lines"
best=""; rss=""; cpu=""
for _ in $(seq 1 "$RUNS"); do
  rm -rf "$WORK/data"
  "$NERETVA" --config "$ROOT/bench/e2e.toml" --data-dir "$WORK/data" migrate >/dev/null
  start=$(date +%s.%N)
  /usr/bin/time -f '%M %U %S' -o "$WORK/rss" "$NERETVA" --config "$ROOT/bench/e2e.toml" --data-dir "$WORK/data" \
    ingest --feed shadowserver "$SCAN" --json >"$WORK/summary.json" 2>/dev/null
  end=$(date +%s.%N)
  secs=$(echo "$end - $start" | bc -l)
  if [ -z "$best" ] || [ "$(echo "$secs < $best" | bc -l)" = 1 ]; then
    best=$secs; read -r rss user system <"$WORK/rss"; cpu=$(echo "$user + $system" | bc -l)
  fi
done
events=$("$PY" -c "import json; print(json.load(open('$WORK/summary.json'))['records'])")
NERETVA_E2E_RATE=$(echo "$events / $best" | bc -l)
echo "{\"seconds\": $best, \"cpu_seconds\": $cpu, \"records\": $events, \"rate_per_s\": $NERETVA_E2E_RATE, \"peak_rss_kb\": $rss}"

ip=$(echo "$INTELMQ_PARSE" | field rate_per_s); np=$(echo "$NERETVA_PARSE" | field rate_per_s)
nb=$(echo "$NERETVA_BIG" | field rate_per_s); nbc=$(echo "$NERETVA_BIG" | field cpu_rate_per_s)
ie=$(echo "$INTELMQ_E2E" | field rate_per_s)
irss=$(echo "$INTELMQ_E2E" | "$PY" -c "import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(d.get('peak_rss_kb_sum', d.get('peak_rss_kb')))")
printf '\n| scenario (%s lines) | IntelMQ 3.5.0 | Neretva | ratio |\n|---|---|---|---|\n' "$N"
printf '| Shadowserver scan_dns parse, events/s | %.0f | %.0f | %.0f× |\n' "$ip" "$np" "$(echo "$np / $ip" | bc -l)"
printf '| end to end into store, events/s | %.0f (Redis, 6 processes) | %.0f (one process, SQLite) | %.0f× |\n' "$ie" "$NERETVA_E2E_RATE" "$(echo "$NERETVA_E2E_RATE / $ie" | bc -l)"
printf '| end to end, CPU seconds of the Neretva process (both threads) | | %s | |\n' "$cpu"
printf '| end to end peak memory | %s kB (all bots) | %s kB | |\n' "$irss" "$rss"
printf '| Shadowserver scan_dns parse, 1,000,000 lines, lines/s on one core | | %.0f | |\n' "$nb"
# The parsing thread's own CPU time, which a busy machine does not inflate as it does the wall time.
printf '| the same, lines per CPU-second of the parsing thread | | %.0f | |\n' "$nbc"
