//! The deduplication state: an append-only log in the database and, per store, an index of it in
//! memory.
//!
//! Keys are hashes, so a B-tree keyed by them takes each new key on a random page: every batch
//! of checks rewrote most pages of such a table, and the more keys the window held, the more each
//! batch cost (a second per 90,000 keys with 1.4 million keys stored). The log is written in
//! order instead, and the keys are looked up in memory:
//!
//! - `dedup_keys` holds one row per recording (a new key, or one recorded again); a key's row with
//!   the largest `seq` is its state. Rows are only appended, except by a purge.
//! - `dedup_state` holds the next `seq` and a generation that every purge that forgets keys
//!   increases.
//! - [`DedupIndex`] maps each key to its newest row. Within a write transaction (which every
//!   check and purge takes) it first catches up: it reads the rows appended since it last looked,
//!   or all rows when the generation changed (another store purged). So stores in other
//!   processes, or on other connections, share the state through the database.
//!
//! A purge walks the log in `seq` order and deletes the rows a newer row of their key replaced,
//! and the newest rows seen before the cut-off (forgetting their keys). As it walks in order, a
//! key's older rows are gone before its newest one, so a store loading the log meanwhile never
//! takes an older row for the state.

use std::collections::hash_map::Entry as MapEntry;
use std::collections::{HashMap, HashSet};

use neretva_model::Timestamp;
use neretva_store::feeds::DedupKey;
use rusqlite::{Connection, params};
use uuid::Uuid;

use crate::codec::{Result, check_text, micros, truncate, uuid_blob_col};
use crate::rows_insert::RowsInsert;

/// Rows a purge reads per transaction.
const PURGE_SCAN: i64 = 50_000;
/// Keys are appended to the log by statements of this many rows.
const APPEND_ROWS: usize = 64;

/// A key's newest row.
#[derive(Debug, Clone, Copy)]
struct Row {
    seq: i64,
    seen_at: i64,
    /// The report, as its place in `DedupIndex::reports`.
    report: u32,
}

/// A key as stored: a key of 64 lower-case hex digits (a SHA-256) as its first 16 bytes (128 bits
/// tell hashes apart as well as 256, and the pipeline's own repeat check uses them too), any other
/// key as its UTF-8 bytes followed by one NUL, or two when that would make 16 bytes. Keys hold no
/// NUL (`check_text`), so the two kinds never meet and distinct keys stay distinct.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Hash(u128),
    Other(Vec<u8>),
}

impl Key {
    fn new(key: &str) -> Key {
        let bytes = key.as_bytes();
        if bytes.len() == 64
            && bytes.iter().all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
            && let Ok(hash) = u128::from_str_radix(&key[..32], 16)
        {
            return Key::Hash(hash);
        }
        let mut other = Vec::with_capacity(bytes.len() + 2);
        other.extend_from_slice(bytes);
        other.push(0);
        if other.len() == 16 {
            other.push(0);
        }
        Key::Other(other)
    }

    fn from_stored(bytes: Vec<u8>) -> Key {
        match <[u8; 16]>::try_from(bytes.as_slice()) {
            Ok(hash) => Key::Hash(u128::from_be_bytes(hash)),
            Err(_) => Key::Other(bytes),
        }
    }

    fn stored(&self) -> Vec<u8> {
        match self {
            Key::Hash(hash) => hash.to_be_bytes().to_vec(),
            Key::Other(other) => other.clone(),
        }
    }
}

/// Each key's newest row of the log, as of `loaded_to`.
#[derive(Debug, Default)]
pub(crate) struct DedupIndex {
    /// The generation of the log the index reflects; `None` before the first load, and after a
    /// failed write, when it must load again.
    generation: Option<i64>,
    /// The largest `seq` the index has read.
    loaded_to: i64,
    /// Hash keys, the usual kind, apart: 16 bytes each, no allocation.
    hashes: HashMap<u128, Row>,
    others: HashMap<Vec<u8>, Row>,
    reports: Vec<Uuid>,
    report_numbers: HashMap<Uuid, u32>,
}

impl DedupIndex {
    /// Forgets everything, so the next check loads the log again.
    pub(crate) fn invalidate(&mut self) {
        *self = DedupIndex::default();
    }

    fn get(&self, key: &Key) -> Option<Row> {
        match key {
            Key::Hash(hash) => self.hashes.get(hash).copied(),
            Key::Other(other) => self.others.get(other).copied(),
        }
    }

    /// Records a row unless the index holds a newer one of its key.
    fn put(&mut self, key: Key, row: Row) {
        fn newer<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Row>, key: K, row: Row) {
            match map.entry(key) {
                MapEntry::Occupied(mut slot) => {
                    if slot.get().seq < row.seq {
                        slot.insert(row);
                    }
                }
                MapEntry::Vacant(slot) => {
                    slot.insert(row);
                }
            }
        }
        match key {
            Key::Hash(hash) => newer(&mut self.hashes, hash, row),
            Key::Other(other) => newer(&mut self.others, other, row),
        }
        self.loaded_to = self.loaded_to.max(row.seq);
    }

    fn remove(&mut self, key: &Key) {
        match key {
            Key::Hash(hash) => self.hashes.remove(hash),
            Key::Other(other) => self.others.remove(other),
        };
    }

    fn report_number(&mut self, report: Uuid) -> u32 {
        if let Some(number) = self.report_numbers.get(&report) {
            return *number;
        }
        let number = u32::try_from(self.reports.len()).unwrap_or(u32::MAX);
        self.reports.push(report);
        self.report_numbers.insert(report, number);
        number
    }

    fn report(&self, number: u32) -> Option<Uuid> {
        self.reports.get(number as usize).copied()
    }

    /// Catches up with the log in the caller's write transaction: reads the rows appended since
    /// the index last looked, or the whole log when it changed otherwise. Returns the next `seq`.
    fn sync(&mut self, conn: &Connection) -> Result<i64> {
        let (next_seq, generation): (i64, i64) = conn
            .prepare_cached("SELECT next_seq, generation FROM dedup_state WHERE id = 1")?
            .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        if self.generation != Some(generation) {
            self.invalidate();
            self.generation = Some(generation);
        }
        let mut statement = conn.prepare_cached(
            "SELECT seq, key, seen_at, report_id FROM dedup_keys WHERE seq > ?1 ORDER BY seq",
        )?;
        let mut rows = statement.query([self.loaded_to])?;
        while let Some(row) = rows.next()? {
            let seq: i64 = row.get(0)?;
            let key = Key::from_stored(row.get(1)?);
            let seen_at: i64 = row.get(2)?;
            let report = self.report_number(uuid_blob_col(row, 3)?);
            self.put(key, Row { seq, seen_at, report });
        }
        Ok(next_seq)
    }
}

/// Checks and records keys in the caller's write transaction, which serialises checkers. The
/// index is updated as the rows go in; the caller invalidates it when the transaction fails.
pub(crate) fn check(
    conn: &Connection,
    index: &mut DedupIndex,
    keys: &[DedupKey],
    window_start: Timestamp,
) -> Result<Vec<bool>> {
    for key in keys {
        check_text("key", &key.key)?;
    }
    let window_start = micros(truncate(window_start));
    let mut next_seq = index.sync(conn)?;
    let first_seq = next_seq;
    let mut appended = Vec::new();
    let mut batch = HashSet::with_capacity(keys.len());
    let mut duplicates = Vec::with_capacity(keys.len());
    for key in keys {
        // A repeat within the batch is a duplicate.
        if !batch.insert(key.key.as_str()) {
            duplicates.push(true);
            continue;
        }
        let stored = Key::new(&key.key);
        // A live key of another report is a duplicate and stays as it is; a new key, an expired
        // one, or one its own report recorded, is recorded (again).
        let duplicate = index.get(&stored).is_some_and(|row| {
            row.seen_at >= window_start && index.report(row.report) != Some(key.report_id)
        });
        duplicates.push(duplicate);
        if duplicate {
            continue;
        }
        let seen_at = micros(truncate(key.seen_at));
        appended.push((next_seq, stored.stored(), seen_at, key.report_id));
        let report = index.report_number(key.report_id);
        index.put(stored, Row { seq: next_seq, seen_at, report });
        next_seq += 1;
    }
    // The log's rows go at its end, so a statement of many rows changes a page or two: its
    // statement journal (`rows_insert.rs`) stays small and in memory.
    let columns = "dedup_keys (seq, key, seen_at, report_id)";
    let mut append = RowsInsert::new(conn, columns, "(?, ?, ?, ?)", 4, APPEND_ROWS, appended.len())?;
    for (seq, key, seen_at, report_id) in &appended {
        append.push(&[seq, key, seen_at, &&report_id.as_bytes()[..]])?;
    }
    append.finish()?;
    if next_seq != first_seq {
        conn.prepare_cached("UPDATE dedup_state SET next_seq = ?1 WHERE id = 1")?.execute([next_seq])?;
    }
    Ok(duplicates)
}

/// Purges the part of the log after `after` (a `seq`; 0 for the start) that one transaction
/// reads: deletes the rows a newer one of their key replaced, and forgets the keys whose newest
/// row was seen before `before`. Returns how many keys it forgot and where to go on, `None` at
/// the end of the log.
pub(crate) fn purge(
    conn: &Connection,
    index: &mut DedupIndex,
    before: Timestamp,
    after: i64,
) -> Result<(u64, Option<i64>)> {
    let before = micros(truncate(before));
    index.sync(conn)?;
    let rows: Vec<(i64, Vec<u8>, i64)> = conn
        .prepare_cached("SELECT seq, key, seen_at FROM dedup_keys WHERE seq > ?1 ORDER BY seq LIMIT ?2")?
        .query_map(params![after, PURGE_SCAN], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut delete = conn.prepare_cached("DELETE FROM dedup_keys WHERE seq = ?1")?;
    let mut forgotten = 0;
    for (seq, key, seen_at) in &rows {
        let key = Key::from_stored(key.clone());
        let replaced = index.get(&key).is_some_and(|newest| newest.seq > *seq);
        if replaced {
            delete.execute([seq])?;
        } else if *seen_at < before {
            delete.execute([seq])?;
            index.remove(&key);
            forgotten += 1;
        }
    }
    if forgotten > 0 {
        // Other stores load the log again: their indexes still hold the forgotten keys.
        let generation: i64 = conn
            .prepare_cached(
                "UPDATE dedup_state SET generation = generation + 1 WHERE id = 1 RETURNING generation",
            )?
            .query_row([], |row| row.get(0))?;
        index.generation = Some(generation);
    }
    let next = match rows.last() {
        Some((seq, ..)) if rows.len() as i64 == PURGE_SCAN => Some(*seq),
        _ => None,
    };
    Ok((forgotten, next))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use neretva_store::Store;
    use time::macros::datetime;

    use super::*;
    use crate::SqliteStore;

    fn at(seconds: i64) -> Timestamp {
        datetime!(2026-11-28 12:00:00 UTC) + time::Duration::seconds(seconds)
    }

    /// A key of 64 hex digits made from `name`, or, for a name starting with '~', another kind.
    fn key(name: &str, seen_at: i64, report: u128) -> DedupKey {
        let key = match name.strip_prefix('~') {
            Some(other) => other.to_owned(),
            None => {
                name.bytes().map(|byte| format!("{byte:02x}")).collect::<String>()
                    + &"0".repeat(64 - 2 * name.len())
            }
        };
        DedupKey { key, seen_at: at(seen_at), report_id: Uuid::from_u128(report) }
    }

    struct TempDb(PathBuf);

    impl Drop for TempDb {
        fn drop(&mut self) {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
            }
        }
    }

    fn temp_db() -> TempDb {
        TempDb(std::env::temp_dir().join(format!("neretva-dedup-{}.db", Uuid::new_v4())))
    }

    #[test]
    fn stored_keys_of_both_kinds_never_meet() {
        let hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(Key::new(hash), Key::Hash(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef));
        assert_eq!(Key::new(hash).stored(), hex_bytes(&hash[..32]));
        // Upper case, other lengths and other text are other keys, none of them 16 bytes long.
        for other in [&hash.to_uppercase(), &hash[..63], "", "fifteen bytes!!", "sixteen bytes!!!", "x"] {
            let Key::Other(bytes) = Key::new(other) else { panic!("{other:?} taken for a hash") };
            assert_ne!(bytes.len(), 16, "{other:?}");
            assert!(bytes.starts_with(other.as_bytes()));
            assert_eq!(Key::from_stored(bytes.clone()), Key::Other(bytes));
        }
        // (Keys with a NUL are refused before they get here.)
        assert_ne!(Key::new("fifteen bytes!!"), Key::new("fifteen bytes!!!"));
    }

    fn hex_bytes(hex: &str) -> Vec<u8> {
        (0..hex.len() / 2)
            .map(|index| u8::from_str_radix(&hex[2 * index..2 * index + 2], 16).unwrap_or(0))
            .collect()
    }

    /// Two stores on one file, as two processes: what one records, the other sees; what one
    /// purges, the other forgets too.
    #[tokio::test]
    async fn stores_share_the_log() {
        let db = temp_db();
        let first = SqliteStore::open(&db.0).expect("open");
        first.migrate().await.expect("migrate");
        let second = SqliteStore::open(&db.0).expect("open again");
        let window = at(-1000);
        assert_eq!(
            first.dedup_check(&[key("a", 0, 1), key("~b", 0, 1)], window).await.expect("check"),
            [false, false]
        );
        assert_eq!(
            second.dedup_check(&[key("a", 1, 2), key("~b", 1, 2)], window).await.expect("check"),
            [true, true]
        );
        assert_eq!(second.dedup_check(&[key("c", 1, 2)], window).await.expect("check"), [false]);
        assert_eq!(first.dedup_check(&[key("c", 2, 1)], window).await.expect("check"), [true]);
        // The same report records a key again, later: it stays live past the first time.
        assert_eq!(first.dedup_check(&[key("a", 500, 1)], window).await.expect("check"), [false]);
        // The second store forgets a and b seen before 100 (a's newest row is at 500).
        assert_eq!(second.dedup_purge(at(100)).await.expect("purge"), 2);
        assert_eq!(
            first
                .dedup_check(&[key("a", 600, 3), key("~b", 600, 3), key("c", 600, 3)], window)
                .await
                .expect("check"),
            [true, false, false]
        );
        assert_eq!(second.dedup_check(&[key("~b", 700, 4)], window).await.expect("check"), [true]);
    }

    /// A purge that takes several transactions, over keys recorded several times.
    #[tokio::test]
    async fn purges_go_through_the_whole_log() {
        let db = temp_db();
        let store = SqliteStore::open(&db.0).expect("open");
        store.migrate().await.expect("migrate");
        let n = usize::try_from(PURGE_SCAN).unwrap_or(0) + 5_000;
        let keys = |seen_at: i64, report: u128| -> Vec<DedupKey> {
            (0..n)
                .map(|index| DedupKey {
                    key: format!("{index:032x}{index:032x}"),
                    seen_at: at(seen_at),
                    report_id: Uuid::from_u128(report),
                })
                .collect()
        };
        assert!(store.dedup_check(&keys(0, 1), at(-10)).await.expect("check").iter().all(|dup| !dup));
        // The same report records the even keys again, later.
        let even: Vec<DedupKey> = keys(100, 1).into_iter().step_by(2).collect();
        assert!(store.dedup_check(&even, at(-10)).await.expect("check").iter().all(|dup| !dup));
        // Forgets the odd keys; the even keys' older rows go too.
        assert_eq!(store.dedup_purge(at(50)).await.expect("purge"), (n / 2) as u64);
        let rows: i64 = store
            .with_writer(|conn| Ok(conn.query_row("SELECT count(*) FROM dedup_keys", [], |row| row.get(0))?))
            .await
            .expect("count");
        assert_eq!(rows as usize, n - n / 2);
        // A fresh store loads the same state.
        let fresh = SqliteStore::open(&db.0).expect("open again");
        let outcome = fresh.dedup_check(&keys(200, 2), at(-10)).await.expect("check");
        for (index, duplicate) in outcome.into_iter().enumerate() {
            assert_eq!(duplicate, index % 2 == 0, "key {index}");
        }
    }
}
