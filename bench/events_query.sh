#!/usr/bin/env bash
# Query latency of GET /api/v1/events (p50, p95, max per scenario) over N stored events, measured in
# process through the real HTTP application (crates/neretva-server/examples/events_latency.rs).
#   bench/events_query.sh                            N=10000000 events in SQLite under /tmp
#   N=1000000 bench/events_query.sh                  a smaller data set
#   DATA_DIR=/var/tmp/neretva bench/events_query.sh  the database elsewhere
#   DATABASE_URL=postgres://user:pw@host/db bench/events_query.sh   PostgreSQL instead of SQLite
#   REQUESTS=200 WARMUP=20 (per scenario)
#   MAX_SECONDS=120                 a slow scenario stops after 120 s once it has 20 samples (default: no limit)
#   ONLY=constituent                only the scenarios whose name contains this text
# The first run with a given N loads the events through the Store trait (progress and load rate on
# standard error; about 1.7 kB of disk per event in SQLite); later runs reuse the database
# (events-N.sqlite), and an interrupted load resumes. The table goes to standard output.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${N:-10000000}"
DATA_DIR="${DATA_DIR:-/tmp/neretva-events-bench}"
REQUESTS="${REQUESTS:-200}"
WARMUP="${WARMUP:-20}"
MAX_SECONDS="${MAX_SECONDS:-0}"

(cd "$ROOT" && cargo build --release -q -p neretva-server --example events_latency)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/events_latency"

if [ -n "${DATABASE_URL:-}" ]; then
  STORE=(--database-url "$DATABASE_URL")
else
  mkdir -p "$DATA_DIR"
  DB="$DATA_DIR/events-$N.sqlite"
  STORE=(--sqlite "$DB")
  if [ ! -f "$DB" ]; then
    need_kib=$(( N * 7 / 4 ))   # about 1.7 kB per event
    avail_kib=$(df -Pk "$DATA_DIR" | awk 'NR == 2 { print $4 }')
    if [ "$avail_kib" -lt "$need_kib" ]; then
      echo "warning: $DATA_DIR has $((avail_kib / 1048576)) GiB free; $N events need about $((need_kib / 1048576)) GiB" >&2
    fi
  fi
fi

{
  echo "== events_latency: N=$N, $REQUESTS requests per scenario after $WARMUP warm-up requests, MAX_SECONDS=$MAX_SECONDS"
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/^Mem:/ { print $2 }') GiB memory, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "build: $(rustc -V), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD -- 2>/dev/null || echo ' with uncommitted changes')"
} >&2

exec "$BIN" "${STORE[@]}" --events "$N" --requests "$REQUESTS" --warmup "$WARMUP" --max-seconds "$MAX_SECONDS" \
  ${ONLY:+--only "$ONLY"}
