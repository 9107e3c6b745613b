//! Times the store side of an ingestion: `dedup_check` and `insert_events` in the pipeline's
//! batches (about 9,000 events each, as a 10,000-line batch gives after filtering), on a fresh
//! database file, with events read from a JSON-lines fixture.
//!
//! ```sh
//! cargo run --release -p neretva-store-sqlite --example ingest_bench -- EVENTS.jsonl REPORT DB [ROUNDS]
//! ```
//!
//! Each line of `EVENTS.jsonl` is an object with `line`, `raw`, `json`, `to` and `ts` (unix
//! microseconds of observation and source time), `tax`, `typ`, `sip` (32 hex digits of the
//! IPv4-mapped address), `asn` and `fqdn`. Every round stores the report `REPORT` again under a
//! new id and all events again with new ids, new deduplication keys and other source addresses,
//! so later rounds show how the costs grow with the database.
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
    source_ip: Option<u128>,
    source_asn: Option<u32>,
    source_fqdn: Option<String>,
}

fn hex_id() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

#[tokio::main(worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (events_path, report_path, db) = (&args[1], &args[2], Path::new(&args[3]));
    let rounds: u32 = args.get(4).map_or(1, |n| n.parse().unwrap());
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let fixture: Vec<Fixture> = std::fs::read_to_string(events_path)
        .unwrap()
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let text = |name: &str| v[name].as_str().map(str::to_owned);
            Fixture {
                line: v["line"].as_u64().unwrap(),
                raw: text("raw").unwrap(),
                json: text("json").unwrap(),
                time_observation: v["to"].as_i64().unwrap(),
                time_source: v["ts"].as_i64(),
                taxonomy: text("tax"),
                classification_type: text("typ"),
                source_ip: text("sip")
                    .filter(|s| !s.is_empty())
                    .map(|hex| u128::from_str_radix(&hex, 16).unwrap()),
                source_asn: v["asn"].as_u64().map(|asn| u32::try_from(asn).unwrap()),
                source_fqdn: text("fqdn"),
            }
        })
        .collect();
    let data = std::fs::read(report_path).unwrap();
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
                source_ip: f.source_ip.map(|ip| IpAddr::V6(Ipv6Addr::from(ip ^ shift)).to_canonical()),
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
            source: report_path.clone(),
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
