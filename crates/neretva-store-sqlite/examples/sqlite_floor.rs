//! Temporary: raw SQLite insert cost.
#![allow(clippy::print_stdout, clippy::unwrap_used)]
use rusqlite::{Connection, params};
use std::time::Instant;

fn cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap().split_whitespace().collect();
    (fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap()) / 100.0
}

fn main() {
    let variant = std::env::args().nth(1).unwrap();
    let pre = std::env::var("PRE").unwrap_or_default();
    let path = std::env::temp_dir().join(format!("floor-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut conn = Connection::open(&path).unwrap();
    conn.execute_batch(&pre).unwrap();
    conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-262144;")
        .unwrap();
    let idtype = if variant.contains("blobid") { "BLOB" } else { "TEXT" };
    let wr = if variant.contains("worowid") { "WITHOUT ROWID" } else { "" };
    conn.execute_batch(&format!("CREATE TABLE events (id {idtype} PRIMARY KEY NOT NULL, report_id TEXT NOT NULL, feed TEXT NOT NULL, line INTEGER NOT NULL, time_observation INTEGER NOT NULL, time_source INTEGER, taxonomy TEXT, classification_type TEXT, source_ip BLOB, source_asn INTEGER, source_fqdn TEXT, destination_ip BLOB, stored_at INTEGER NOT NULL, raw TEXT NOT NULL, json TEXT NOT NULL) {wr}")).unwrap();
    if let Ok(extra) = std::env::var("IDX") {
        conn.execute_batch(&extra).unwrap();
    }
    if variant.contains("idx") {
        conn.execute_batch("CREATE INDEX a ON events (coalesce(time_source, time_observation)); CREATE INDEX b ON events (time_observation); CREATE INDEX c ON events (taxonomy, id); CREATE INDEX d ON events (classification_type, id); CREATE INDEX e ON events (feed, id); CREATE INDEX f ON events (report_id, id); CREATE INDEX g ON events (source_asn, id) WHERE source_asn IS NOT NULL; CREATE INDEX h ON events (source_ip) WHERE source_ip IS NOT NULL;").unwrap();
    }
    let json = "x".repeat(std::env::var("JSON_LEN").map(|v| v.parse().unwrap()).unwrap_or(900));
    let raw = "y".repeat(std::env::var("RAW_LEN").map(|v| v.parse().unwrap()).unwrap_or(200));
    let mut x: u64 = 88172645463325252;
    let mut total = 0.0;
    let mut wall = 0.0;
    let mut n = 0u64;
    for _batch in 0..30 {
        let c = cpu();
        let t = Instant::now();
        let tx = conn.transaction().unwrap();
        {
            let mut st = tx.prepare_cached("INSERT INTO events (id, report_id, feed, line, time_observation, time_source, taxonomy, classification_type, source_ip, source_asn, source_fqdn, destination_ip, stored_at, raw, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)").unwrap();
            for _ in 0..10_000 {
                n += 1;
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let id = uuid::Uuid::from_u128(((n as u128) << 64) | x as u128);
                let mut ip = [0u8; 16];
                ip[10] = 0xff;
                ip[11] = 0xff;
                ip[12..].copy_from_slice(&(x as u32).to_be_bytes());
                if idtype == "BLOB" {
                    st.execute(params![
                        &id.as_bytes()[..],
                        "0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee",
                        "shadowserver-scan-ntp",
                        n as i64,
                        1_700_000_000_000_000i64 + n as i64,
                        1_700_000_000_000_000i64,
                        "vulnerable",
                        "vulnerable-system",
                        &ip[..],
                        64500 + (x % 100) as i64,
                        "host.example.ba",
                        Option::<Vec<u8>>::None,
                        1_700_000_000_000_000i64,
                        raw,
                        json
                    ])
                    .unwrap();
                } else {
                    st.execute(params![
                        id.to_string(),
                        "0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee",
                        "shadowserver-scan-ntp",
                        n as i64,
                        1_700_000_000_000_000i64 + n as i64,
                        1_700_000_000_000_000i64,
                        "vulnerable",
                        "vulnerable-system",
                        &ip[..],
                        64500 + (x % 100) as i64,
                        "host.example.ba",
                        Option::<Vec<u8>>::None,
                        1_700_000_000_000_000i64,
                        raw,
                        json
                    ])
                    .unwrap();
                }
            }
        }
        tx.commit().unwrap();
        total += cpu() - c;
        wall += t.elapsed().as_secs_f64();
    }
    println!(
        "{variant}: {n} rows, cpu {total:.2}s = {:.0}/s cpu, wall {:.0}/s",
        n as f64 / total,
        n as f64 / wall
    );
    drop(conn);
    for s in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{s}", path.display()));
    }
}
