//! Times the store side of an ingestion: `dedup_check` and `insert_events` in the pipeline's
//! batches (9,040 events each, as a batch of 10,000 lines gives after the end-to-end benchmark's
//! filter), on a fresh database file, with the events and the report of a database that
//! `neretva ingest` filled.
//!
//! ```sh
//! # the end-to-end benchmark of BENCHMARKS.md leaves its database in /tmp/e2e
//! cargo run --release -p neretva-store-sqlite --example ingest_bench -- /tmp/e2e/neretva.db /tmp/bench.db [ROUNDS]
//! ```
//!
//! Every round stores the source's first report again under a new id and all its events again
//! with new ids, new deduplication keys and other source addresses, so later rounds show how the
//! costs grow with the database (`ROUNDS`, 1 by default). For experiments, `BENCH_SQL` runs
//! SQL after the migration (e.g. `DROP INDEX ...`) and `BENCH_ONLY=insert` or `dedup` times one
//! of the two.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::net::{IpAddr, Ipv6Addr};
use std::path::Path;
use std::time::{Duration, Instant};

use neretva_store::Store;
use neretva_store::feeds::{DedupKey, NewEvent, NewReport, ReportCounts};
use neretva_store_sqlite::SqliteStore;
use uuid::Uuid;

/// As the `neretva` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Events per batch: the pipeline's 10,000 lines less the filtered ones.
const BATCH: usize = 9_040;

fn ts(micros: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000).unwrap()
}

struct Fixture {
    line: u64,
    raw: String,
    json: String,
    time_observation: i64,
    time_source: Option<i64>,
    taxonomy: Option<String>,
    classification_type: Option<String>,
    source_ip: Option<Vec<u8>>,
    source_asn: Option<u32>,
    source_fqdn: Option<String>,
}

/// The events of the source database, in the order they were stored, and its first report.
fn load(path: &Path) -> (Vec<Fixture>, Vec<u8>) {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut statement = conn
        .prepare(
            "SELECT line, raw, json, time_observation, time_source, taxonomy, classification_type,
                 source_ip, source_asn, source_fqdn
             FROM events ORDER BY seq",
        )
        .unwrap();
    let events = statement
        .query_map([], |row| {
            Ok(Fixture {
                line: row.get::<_, i64>(0)?.try_into().unwrap_or(0),
                raw: row.get(1)?,
                json: row.get(2)?,
                time_observation: row.get(3)?,
                time_source: row.get(4)?,
                taxonomy: row.get(5)?,
                classification_type: row.get(6)?,
                source_ip: row.get(7)?,
                source_asn: row.get(8)?,
                source_fqdn: row.get(9)?,
            })
        })
        .unwrap()
        .collect::<rusqlite::Result<Vec<_>>>()
        .unwrap();
    let data =
        conn.query_row("SELECT data FROM report_data ORDER BY rowid LIMIT 1", [], |row| row.get(0)).unwrap();
    (events, data)
}

fn hex_id() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

#[tokio::main(worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (source, db) = (Path::new(&args[1]), Path::new(&args[2]));
    let rounds: u32 = args.get(3).map_or(1, |n| n.parse().unwrap());
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let (fixture, data) = load(source);
    let now = time::OffsetDateTime::now_utc();
    let start = Instant::now();
    let store = SqliteStore::open(db).unwrap();
    store.migrate().await.unwrap();
    if let Ok(sql) = std::env::var("BENCH_SQL") {
        store.execute_raw(&sql).await.unwrap();
    }
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let mut sizes = Vec::new();
    for round in 0..rounds {
        let report_id = Uuid::now_v7();
        // Another /8 for every round's addresses (an IPv4-mapped address keeps its prefix).
        let shift = u128::from(round * 37 % 256) << 24;
        let events: Vec<NewEvent> = fixture
            .iter()
            .map(|f| NewEvent {
                id: Uuid::now_v7(),
                report_id,
                feed: "shadowserver".into(),
                line: f.line,
                raw: f.raw.clone(),
                time_observation: ts(f.time_observation),
                time_source: f.time_source.map(ts),
                taxonomy: f.taxonomy.clone(),
                classification_type: f.classification_type.clone(),
                source_ip: f.source_ip.as_deref().map(|ip| {
                    let ip = u128::from_be_bytes(ip.try_into().unwrap());
                    IpAddr::V6(Ipv6Addr::from(ip ^ shift)).to_canonical()
                }),
                source_asn: f.source_asn,
                source_fqdn: f.source_fqdn.clone(),
                destination_ip: None,
                org_ids: Vec::new(),
                json: f.json.clone(),
            })
            .collect();
        let keys: Vec<DedupKey> =
            events.iter().map(|_| DedupKey { key: hex_id(), seen_at: now, report_id }).collect();
        let round_start = Instant::now();
        let report = NewReport {
            id: report_id,
            feed: "shadowserver".into(),
            parser: "shadowserver".into(),
            source: "ingest_bench".into(),
            received_at: now,
            sha256: hex_id(),
            data: data.clone(),
        };
        store.store_report(&report).await.unwrap();
        let stored = round_start.elapsed();
        let (mut dedup, mut insert) = (Duration::ZERO, Duration::ZERO);
        for (events, keys) in events.chunks(BATCH).zip(keys.chunks(BATCH)) {
            if only != "insert" {
                let t = Instant::now();
                let flags = store.dedup_check(keys, now - time::Duration::hours(24)).await.unwrap();
                assert!(flags.iter().all(|dup| !dup));
                dedup += t.elapsed();
            }
            if only != "dedup" {
                let t = Instant::now();
                store.insert_events(events).await.unwrap();
                insert += t.elapsed();
            }
        }
        let counts =
            ReportCounts { records: 100_000, events: events.len() as u64, ..ReportCounts::default() };
        store.finish_report(report_id, counts, &[], None, now).await.unwrap();
        sizes.push(events.len());
        if rounds > 1 {
            println!(
                "round {round}: report {:.3} s, dedup {:.3} s, insert {:.3} s, round {:.3} s",
                stored.as_secs_f64(),
                dedup.as_secs_f64(),
                insert.as_secs_f64(),
                round_start.elapsed().as_secs_f64()
            );
        } else {
            let t = Instant::now();
            drop(store);
            let close = t.elapsed();
            let size = std::fs::metadata(db).unwrap().len();
            println!(
                "report {:.3} s, dedup {:.3} s, insert {:.3} s, close {:.3} s, total {:.3} s; {} events, {} bytes, {:.0} B/event",
                stored.as_secs_f64(),
                dedup.as_secs_f64(),
                insert.as_secs_f64(),
                close.as_secs_f64(),
                start.elapsed().as_secs_f64(),
                events.len(),
                size,
                (size - data.len() as u64) as f64 / events.len() as f64
            );
            return;
        }
    }
    let t = Instant::now();
    drop(store);
    let close = t.elapsed();
    let size = std::fs::metadata(db).unwrap().len();
    let total: usize = sizes.iter().sum();
    println!(
        "close {:.3} s, total {:.3} s; {total} events, {size} bytes, {:.0} B/event",
        close.as_secs_f64(),
        start.elapsed().as_secs_f64(),
        (size - data.len() as u64 * u64::from(rounds)) as f64 / total as f64
    );
}
