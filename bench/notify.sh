#!/usr/bin/env bash
# Notification benchmark: the daily digests of 1,000 organisations with 1,000 queued events
# each (1,000,000 events), rendered in the five languages in turn, with CSV and JSON
# attachments, PGP/MIME-signed, and encrypted for every other organisation; on one core.
#   bench/notify.sh [ORGS] [EVENTS_PER_ORG]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
cargo build --release -q -p neretva-notify --example notify_bench
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
exec taskset -c 0 "$TARGET/release/examples/notify_bench" "${1:-1000}" "${2:-1000}"
