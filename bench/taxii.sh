#!/usr/bin/env bash
# TAXII 2.1 page latency over HTTP with Basic authentication: Neretva with a 100,000-object
# collection beside medallion (the OASIS reference server) in the same run, one Python client
# (bench/taxii/client.py, requests with one keep-alive connection) measuring both.
#   bench/taxii.sh                          N=100000 objects in Neretva (SQLite); medallion 1k/2k
#   N=10000 bench/taxii.sh                  a smaller collection
#   DATABASE_URL=postgres://… bench/taxii.sh   Neretva on PostgreSQL
#   MEDALLION=0 bench/taxii.sh              Neretva only
#   REQUESTS=200                            requests for the first-page and deep-page figures
# Needs the STIX anchor (../shared/anchors/stix, or NERETVA_ANCHORS/stix) for the bundle
# generator and medallion's data generator, and Python 3 with venv (once, PyPI for requests
# and medallion). medallion's cost grows with the square of the collection (a first page of a
# 10,000-object collection took minutes), so it is measured at 1,000 and 2,000 objects.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ANCHOR="${NERETVA_ANCHORS:-$ROOT/../shared/anchors}/stix"
VENV="${TAXII_VENV:-/tmp/neretva-taxii-bench/venv}"
WORK="${TAXII_WORK:-/tmp/neretva-taxii-bench}"
N="${N:-100000}"
REQUESTS="${REQUESTS:-200}"
MEDALLION="${MEDALLION:-1}"
PORT="${PORT:-18431}"
MPORT="${MPORT:-18432}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
CLIENT="$ROOT/bench/taxii/client.py"
mkdir -p "$WORK"

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q requests medallion taxii2-client==2.3.0 \
    || { echo "!! could not install medallion (network?); measuring Neretva only"; MEDALLION=0; }
fi
PY="$VENV/bin/python"

(cd "$ROOT" && cargo build --release -q -p neretva)
NERETVA="$TARGET/release/neretva"

{
  echo "== TAXII page latency: Neretva with N=$N objects; $REQUESTS requests per figure"
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "build: $(rustc -V), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
}

[ -f "$WORK/bundle_$N.json" ] || "$PY" "$ANCHOR/gen_bundle.py" "$N" "$WORK/bundle_$N.json" >/dev/null

DATA="$WORK/neretva-$N"
rm -rf "$DATA"; mkdir -p "$DATA"
ARGS=(--data-dir "$DATA")
[ -n "${DATABASE_URL:-}" ] && ARGS+=(--database-url "$DATABASE_URL")
export NERETVA_LOG__LEVEL=warn
"$NERETVA" "${ARGS[@]}" migrate >/dev/null
if [ -n "${DATABASE_URL:-}" ]; then
  "$NERETVA" "${ARGS[@]}" taxii collections list --json | "$PY" -c 'import json,sys; sys.exit(1 if json.load(sys.stdin) else 0)' \
    || { echo "!! the PostgreSQL database already holds collections; use an empty one"; exit 1; }
fi
"$NERETVA" "${ARGS[@]}" org import "$ROOT/crates/neretva/demo/constituency.json" >/dev/null
echo "bench-password-0123" | "$NERETVA" "${ARGS[@]}" user add bench --org CERT-BIH --role analyst --password-stdin >/dev/null
COLL=$("$NERETVA" "${ARGS[@]}" taxii collections add "indicators-$N" --sharing community --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["id"])')
NERETVA_TAXII__MAX_CONTENT_LENGTH=$((64 * 1024 * 1024)) "$NERETVA" "${ARGS[@]}" serve --listen "127.0.0.1:$PORT" &
SPID=$!
trap 'kill ${SPID:-} ${MPID:-} 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.2; done
URL="http://127.0.0.1:$PORT/taxii2/neretva/collections/$COLL/objects/"
echo "== Neretva ($( [ -n "${DATABASE_URL:-}" ] && echo PostgreSQL || echo SQLite ))"
"$PY" "$CLIENT" load "$URL" bench bench-password-0123 "$WORK/bundle_$N.json" 1000
"$PY" "$CLIENT" first "$URL" bench bench-password-0123 "$REQUESTS"
"$PY" "$CLIENT" walk "$URL" bench bench-password-0123
"$PY" "$CLIENT" deep "$URL" bench bench-password-0123 "$REQUESTS"
echo "server: peak RSS $(awk '/VmHWM/{print int($2/1024)}' /proc/$SPID/status) MB, CPU $(awk -v t="$(getconf CLK_TCK)" '{printf "%.1f", ($14+$15)/t}' /proc/$SPID/stat) s"
kill $SPID; wait $SPID 2>/dev/null || true

if [ "$MEDALLION" = 1 ]; then
  MURL="http://127.0.0.1:$MPORT/api1/collections/365fed99-08fa-fdcd-a1b3-fb247eb41d01/objects/"
  for m in 1000 2000; do
    [ -f "$WORK/med$m/medallion_data.json" ] || "$PY" "$ANCHOR/medallion/make_data.py" "$m" "$WORK/med$m" "$MPORT" >/dev/null
    "$VENV/bin/medallion" --host 127.0.0.1 --port "$MPORT" --log-level ERROR "$WORK/med$m/medallion_config.json" >"$WORK/med$m/server.log" 2>&1 &
    MPID=$!
    for _ in $(seq 1 100); do curl -sf -o /dev/null -u admin:Password0 -H "Accept: application/taxii+json;version=2.1" "http://127.0.0.1:$MPORT/taxii2/" && break; sleep 0.2; done
    echo "== medallion, $m objects (memory backend)"
    "$PY" "$CLIENT" first "$MURL" admin Password0 3
    "$PY" "$CLIENT" walk "$MURL" admin Password0
    echo "server: peak RSS $(awk '/VmHWM/{print int($2/1024)}' /proc/$MPID/status) MB, CPU $(awk -v t="$(getconf CLK_TCK)" '{printf "%.1f", ($14+$15)/t}' /proc/$MPID/stat) s"
    kill $MPID; wait $MPID 2>/dev/null || true
  done
fi
