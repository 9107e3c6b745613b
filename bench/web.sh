#!/usr/bin/env bash
# Server time of the web interface's main pages (p50, p95, max per page) over N stored events,
# measured in process through the real HTTP application with a session cookie
# (crates/neretva-server/examples/events_latency.rs --web; the same synthetic events and
# constituency as bench/events_query.sh, so the two share their databases).
#   bench/web.sh                               N=10000000 events, INCIDENTS=10000 incidents (10
#                                              observables each) and INTEL=2000 shared events
#                                              (50 attributes each) in SQLite under /tmp
#   N=1000000 bench/web.sh                     a smaller data set
#   DATABASE_URL=postgres://user:pw@host/db bench/web.sh   PostgreSQL instead of SQLite
#   PROFILE=dev bench/web.sh                   the dev profile (no release build; slower figures)
#   REQUESTS=100 WARMUP=10 MAX_SECONDS=60 ONLY=dashboard (as in bench/events_query.sh)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${N:-10000000}"
INCIDENTS="${INCIDENTS:-10000}"
INTEL="${INTEL:-2000}"
DATA_DIR="${DATA_DIR:-/tmp/neretva-events-bench}"
REQUESTS="${REQUESTS:-100}"
WARMUP="${WARMUP:-10}"
MAX_SECONDS="${MAX_SECONDS:-0}"
PROFILE="${PROFILE:-release}"

if [ "$PROFILE" = "release" ]; then
  (cd "$ROOT" && cargo build --release -q -p neretva-server --example events_latency)
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/events_latency"
else
  (cd "$ROOT" && cargo build -q -p neretva-server --example events_latency)
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/examples/events_latency"
fi

if [ -n "${DATABASE_URL:-}" ]; then
  STORE=(--database-url "$DATABASE_URL")
else
  mkdir -p "$DATA_DIR"
  STORE=(--sqlite "$DATA_DIR/events-$N.sqlite")
fi

{
  echo "== web pages: N=$N events, $INCIDENTS incidents, $INTEL intel events, $REQUESTS requests per page after $WARMUP warm-up requests, profile $PROFILE, MAX_SECONDS=$MAX_SECONDS"
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/^Mem:/ { print $2 }') GiB memory, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "build: $(rustc -V), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD -- 2>/dev/null || echo ' with uncommitted changes')"
} >&2

exec "$BIN" "${STORE[@]}" --web --events "$N" --requests "$REQUESTS" --warmup "$WARMUP" --max-seconds "$MAX_SECONDS" \
  --incidents "$INCIDENTS" --intel "$INTEL" \
  ${ONLY:+--only "$ONLY"}
