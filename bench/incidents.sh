#!/usr/bin/env bash
# Latency of the analyst queue and the incident search over HTTP (p50, p95, max per scenario)
# with 10,000 incidents and 100,000 observables (crates/neretva-server/examples/incidents_latency.rs).
#   bench/incidents.sh                              N=10000 incidents in SQLite under /tmp
#   N=1000 bench/incidents.sh                       a smaller data set
#   DATA_DIR=/var/tmp/neretva bench/incidents.sh    the database elsewhere
#   DATABASE_URL=postgres://user:pw@host/db bench/incidents.sh   PostgreSQL instead of SQLite
#   OBSERVABLES=10 REQUESTS=200 WARMUP=20           observables per incident; requests per scenario
# The first run with a given N loads the incidents through the Store trait; later runs reuse the
# database (incidents-N.sqlite). The table goes to standard output.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${N:-10000}"
DATA_DIR="${DATA_DIR:-/tmp/neretva-incidents-bench}"
OBSERVABLES="${OBSERVABLES:-10}"
REQUESTS="${REQUESTS:-200}"
WARMUP="${WARMUP:-20}"

(cd "$ROOT" && cargo build --release -q -p neretva-server --example incidents_latency)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/incidents_latency"

if [ -n "${DATABASE_URL:-}" ]; then
  STORE=(--database-url "$DATABASE_URL")
else
  mkdir -p "$DATA_DIR"
  STORE=(--sqlite "$DATA_DIR/incidents-$N-$OBSERVABLES.sqlite")
fi

{
  echo "== incidents_latency: N=$N, $OBSERVABLES observables per incident, $REQUESTS requests per scenario after $WARMUP warm-up requests"
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/^Mem:/ { print $2 }') GiB memory, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "build: $(rustc -V), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD -- 2>/dev/null || echo ' with uncommitted changes')"
} >&2

exec "$BIN" "${STORE[@]}" --incidents "$N" --observables-per-incident "$OBSERVABLES" --requests "$REQUESTS" --warmup "$WARMUP"
