//! The feed pipeline's operations: raw reports and their parse errors, events with their
//! routing and notifications, and the deduplication keys.
//!
//! Events are the hot path: a batch is inserted by cached statements of many rows
//! (`rows_insert.rs`) in the caller's one write transaction, its strings and ids bound straight
//! from the caller's events (ids as their 16 bytes), and one `event_ranges` row per report
//! instead of an index entry per event for the report and the observation time. Deduplication
//! is in `dedup.rs`.

use neretva_model::Timestamp;
use neretva_model::audit::AuditEvent;
use neretva_store::StoreError;
use neretva_store::encode::{check_event, page};
use neretva_store::feeds::{
    DayCount, EventCountQuery, EventCounts, EventQuery, NewEvent, NewReport, ReportCounts, ReportError,
    ReportInfo, ReportQuery, ReportStatus, SourceRecord, StoredEvent,
};
use neretva_store::rollup::{
    EventRollup, OrgDayRow, event_day, parse_org_list, scoped_day_counts, since_day,
};
use rusqlite::blob::ZeroBlob;
use rusqlite::types::{Type, Value};
use rusqlite::{Connection, MAIN_DB, OptionalExtension, Row, params, params_from_iter};
use uuid::Uuid;

use crate::codec::{
    IpRange, Result, check_text, ip_key, ip_range, micros, opt_ip_col, opt_micros, opt_time_col, time_col,
    to_i64, truncate, u64_col, uuid_blob_col, uuid_col, without_nul,
};
use crate::event_blocks::{BLOCK_JOIN, BlockBuilder};
use crate::ops;
use crate::rows_insert::RowsInsert;

/// Rows a purge deletes per transaction, so other writers get their turn in between.
pub(crate) const PURGE_BATCH: u64 = 5_000;
/// The longest text filter; SQLite refuses much longer LIKE patterns.
const MAX_TEXT_FILTER: usize = 10_000;

fn invalid(index: usize, message: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(index, Type::Text, message.into())
}

// Reports.

const REPORT_COLUMNS: &str = "r.id, r.feed, r.parser, r.source, r.received_at, r.sha256, r.size,
    r.status, r.records, r.events, r.errors, r.duplicates, r.dropped, r.parsed_at, r.failure,
    NOT EXISTS (SELECT 1 FROM report_data d WHERE d.report_id = r.id)";

fn report_from_row(row: &Row<'_>) -> rusqlite::Result<ReportInfo> {
    let status: String = row.get(7)?;
    Ok(ReportInfo {
        id: uuid_col(row, 0)?,
        feed: row.get(1)?,
        parser: row.get(2)?,
        source: row.get(3)?,
        received_at: time_col(row, 4)?,
        sha256: row.get(5)?,
        size: u64_col(row, 6)?,
        status: ReportStatus::parse(&status)
            .ok_or_else(|| invalid(7, format!("unknown report status {status:?}")))?,
        counts: ReportCounts {
            records: u64_col(row, 8)?,
            events: u64_col(row, 9)?,
            errors: u64_col(row, 10)?,
            duplicates: u64_col(row, 11)?,
            dropped: u64_col(row, 12)?,
        },
        parsed_at: opt_time_col(row, 13)?,
        failure: row.get(14)?,
        data_purged: row.get(15)?,
    })
}

pub(crate) fn get_report(conn: &Connection, id: Uuid) -> Result<Option<ReportInfo>> {
    let sql = format!("SELECT {REPORT_COLUMNS} FROM reports r WHERE r.id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id.to_string()], report_from_row).optional()?)
}

/// The report stored with this feed and content, if any.
pub(crate) fn find_report(conn: &Connection, feed: &str, sha256: &str) -> Result<Option<ReportInfo>> {
    let sql = format!("SELECT {REPORT_COLUMNS} FROM reports r WHERE r.feed = ?1 AND r.sha256 = ?2");
    Ok(conn.prepare_cached(&sql)?.query_row([feed, sha256], report_from_row).optional()?)
}

/// Stores a report unless its content is already stored for the feed. The data goes straight
/// from the caller's buffer into the database pages through incremental BLOB I/O.
pub(crate) fn store_report(
    conn: &Connection,
    at: Timestamp,
    report: &NewReport,
) -> Result<(ReportInfo, bool)> {
    if let Some(stored) = find_report(conn, &report.feed, &report.sha256)? {
        return Ok((stored, false));
    }
    for (field, text) in [
        ("feed", &report.feed),
        ("parser", &report.parser),
        ("source", &report.source),
        ("sha256", &report.sha256),
    ] {
        check_text(field, text)?;
    }
    let size = report.data.len() as u64;
    let info = ReportInfo {
        id: report.id,
        feed: report.feed.clone(),
        parser: report.parser.clone(),
        source: report.source.clone(),
        received_at: truncate(report.received_at),
        sha256: report.sha256.clone(),
        size,
        status: ReportStatus::Received,
        counts: ReportCounts::default(),
        parsed_at: None,
        failure: None,
        data_purged: false,
    };
    let id = info.id.to_string();
    conn.prepare_cached(
        "INSERT INTO reports (id, feed, parser, source, received_at, sha256, size, status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        id,
        info.feed,
        info.parser,
        info.source,
        micros(info.received_at),
        info.sha256,
        to_i64(size, "data")?,
        info.status.as_str(),
    ])?;
    conn.prepare_cached("INSERT INTO report_data (report_id, data) VALUES (?1, ?2)")?
        .execute(params![id, ZeroBlob(size)])?;
    if !report.data.is_empty() {
        let rowid = conn.last_insert_rowid();
        let mut blob = conn.blob_open(MAIN_DB, "report_data", "data", rowid, false)?;
        blob.write_at(&report.data, 0)?;
        blob.close()?;
    }
    let event = AuditEvent {
        actor: report.actor().0,
        action: "report.store".to_owned(),
        object_type: "report".to_owned(),
        object_id: info.id.to_string(),
        digest: info.sha256.clone(),
    };
    ops::append_audit(conn, at, event)?;
    Ok((info, true))
}

/// The data, read straight into one buffer of its size.
/// Reports whose data one transaction of `purge_report_data` deletes at most (each may be
/// hundreds of megabytes).
pub(crate) const REPORT_PURGE_BATCH: u64 = 100;

/// Deletes the data of up to `batch` reports received before `before`; returns how many.
pub(crate) fn purge_report_data(conn: &Connection, before: Timestamp, batch: u64) -> Result<u64> {
    let deleted = conn
        .prepare_cached(
            "DELETE FROM report_data WHERE report_id IN (
                 SELECT r.id FROM reports r JOIN report_data d ON d.report_id = r.id
                 WHERE r.received_at < ?1 LIMIT ?2)",
        )?
        .execute(params![micros(truncate(before)), to_i64(batch, "batch")?])?;
    Ok(deleted as u64)
}

pub(crate) fn report_data(conn: &Connection, id: Uuid) -> Result<Option<Vec<u8>>> {
    let rowid: Option<i64> = conn
        .prepare_cached("SELECT rowid FROM report_data WHERE report_id = ?1")?
        .query_row([id.to_string()], |row| row.get(0))
        .optional()?;
    let Some(rowid) = rowid else { return Ok(None) };
    let blob = conn.blob_open(MAIN_DB, "report_data", "data", rowid, true)?;
    let mut data = vec![0; blob.len()];
    blob.read_at_exact(&mut data, 0)?;
    blob.close()?;
    Ok(Some(data))
}

pub(crate) fn list_reports(conn: &Connection, query: &ReportQuery) -> Result<Vec<ReportInfo>> {
    let sql = format!(
        "SELECT {REPORT_COLUMNS} FROM reports r
         WHERE (?1 IS NULL OR r.feed = ?1) AND (?2 IS NULL OR r.id < ?2)
         ORDER BY r.id DESC
         LIMIT ?3"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map(
        params![query.feed, query.before.map(|id| id.to_string()), page(query.limit)],
        report_from_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn require_report(conn: &Connection, id: Uuid) -> Result<()> {
    let found = conn
        .prepare_cached("SELECT 1 FROM reports WHERE id = ?1")?
        .query_row([id.to_string()], |_| Ok(()))
        .optional()?;
    found.ok_or_else(|| StoreError::not_found("report", id).into())
}

/// Records the counts and replaces the errors, in the caller's transaction.
pub(crate) fn finish_report(
    conn: &Connection,
    id: Uuid,
    counts: ReportCounts,
    errors: &[ReportError],
    failure: Option<&str>,
    at: Timestamp,
) -> Result<ReportInfo> {
    let status = match failure {
        Some(_) => ReportStatus::Failed,
        None => ReportStatus::Parsed,
    };
    let id_text = id.to_string();
    let changed = conn
        .prepare_cached(
            "UPDATE reports SET status = ?2, records = ?3, events = ?4, errors = ?5,
                 duplicates = ?6, dropped = ?7, parsed_at = ?8, failure = ?9
             WHERE id = ?1",
        )?
        .execute(params![
            id_text,
            status.as_str(),
            to_i64(counts.records, "records")?,
            to_i64(counts.events, "events")?,
            to_i64(counts.errors, "errors")?,
            to_i64(counts.duplicates, "duplicates")?,
            to_i64(counts.dropped, "dropped")?,
            micros(truncate(at)),
            failure.map(without_nul),
        ])?;
    if changed == 0 {
        return Err(StoreError::not_found("report", id).into());
    }
    conn.prepare_cached("DELETE FROM report_errors WHERE report_id = ?1")?.execute([&id_text])?;
    // One prepared statement for the whole batch, in this one transaction.
    let mut insert = conn.prepare_cached(
        "INSERT INTO report_errors (report_id, line, position, field, message, raw)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (position, error) in errors.iter().enumerate() {
        insert.execute(params![
            id_text,
            to_i64(error.line, "line")?,
            i64::try_from(position).unwrap_or(i64::MAX),
            error.field.as_deref().map(without_nul),
            without_nul(&error.message),
            without_nul(&error.raw),
        ])?;
    }
    get_report(conn, id)?.ok_or_else(|| StoreError::not_found("report", id).into())
}

pub(crate) fn report_errors(conn: &Connection, id: Uuid, limit: u32) -> Result<Vec<ReportError>> {
    require_report(conn, id)?;
    let mut statement = conn.prepare_cached(
        "SELECT line, field, message, raw FROM report_errors WHERE report_id = ?1
         ORDER BY line, position
         LIMIT ?2",
    )?;
    let rows = statement.query_map(params![id.to_string(), page(limit)], |row| {
        Ok(ReportError { line: u64_col(row, 0)?, field: row.get(1)?, message: row.get(2)?, raw: row.get(3)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn source_record(conn: &Connection, feed: &str) -> Result<Option<SourceRecord>> {
    let mut statement =
        conn.prepare_cached("SELECT feed, kind, state, saved_at FROM source_records WHERE feed = ?1")?;
    let record = statement
        .query_row([feed], |row| {
            Ok(SourceRecord {
                feed: row.get(0)?,
                kind: row.get(1)?,
                state: row.get(2)?,
                saved_at: time_col(row, 3)?,
            })
        })
        .optional()?;
    Ok(record)
}

pub(crate) fn save_source_record(conn: &Connection, record: &SourceRecord) -> Result<()> {
    record.check()?;
    conn.prepare_cached(
        "INSERT INTO source_records (feed, kind, state, saved_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (feed) DO UPDATE SET kind = excluded.kind, state = excluded.state,
             saved_at = excluded.saved_at",
    )?
    .execute(params![record.feed, record.kind, record.state, micros(record.saved_at)])?;
    Ok(())
}

// Events.

/// An event's columns, over `events e` and its block `b` (`BLOCK_JOIN`); the texts are read
/// from the block, or from the row when it has none.
pub(crate) const EVENT_COLUMNS: &str = "e.id, e.report_id, e.feed, e.line,
    coalesce(neretva_event_text(b.data, e.slot, 1), e.raw), e.time_observation,
    e.time_source, e.taxonomy, e.classification_type, e.source_ip, e.source_asn, e.source_fqdn,
    e.destination_ip, coalesce(neretva_event_text(b.data, e.slot, 0), e.json), e.stored_at,
    (SELECT group_concat(hex(o.org_id), '' ORDER BY o.org_id) FROM event_orgs o
     WHERE o.event_id = e.id)";

pub(crate) fn event_from_row(row: &Row<'_>) -> rusqlite::Result<StoredEvent> {
    let source_asn = row
        .get::<_, Option<i64>>(10)?
        .map(|asn| u32::try_from(asn).map_err(|_| invalid(10, format!("AS number {asn}"))))
        .transpose()?;
    // The organisations' ids as one run of 32 hex digits each.
    let org_ids = match row.get_ref(15)?.as_str_or_null().map_err(|error| invalid(15, error.to_string()))? {
        None => Vec::new(),
        Some(list) => list
            .as_bytes()
            .chunks(32)
            .map(|hex| {
                std::str::from_utf8(hex)
                    .ok()
                    .and_then(|hex| u128::from_str_radix(hex, 16).ok())
                    .filter(|_| hex.len() == 32)
                    .map(Uuid::from_u128)
                    .ok_or_else(|| invalid(15, format!("org ids {list:?}")))
            })
            .collect::<rusqlite::Result<_>>()?,
    };
    Ok(StoredEvent {
        event: NewEvent {
            id: uuid_blob_col(row, 0)?,
            report_id: uuid_blob_col(row, 1)?,
            feed: row.get(2)?,
            line: u64_col(row, 3)?,
            raw: row.get(4)?,
            time_observation: time_col(row, 5)?,
            time_source: opt_time_col(row, 6)?,
            taxonomy: row.get(7)?,
            classification_type: row.get(8)?,
            source_ip: opt_ip_col(row, 9)?,
            source_asn,
            source_fqdn: row.get(11)?,
            destination_ip: opt_ip_col(row, 12)?,
            org_ids,
            json: row.get(13)?,
        },
        stored_at: time_col(row, 14)?,
    })
}

/// Events go in by statements of this many rows (`rows_insert.rs`).
const INSERT_ROWS: usize = 32;

/// Inserts a batch with its routing and notifications, in the caller's transaction; the events'
/// texts go into blocks (`event_blocks.rs`) of consecutive events.
pub(crate) fn insert_events(conn: &Connection, at: Timestamp, events: &[NewEvent]) -> Result<u64> {
    for event in events {
        check_event(event)?;
    }
    if events.is_empty() {
        return Ok(0);
    }
    let stored_at = micros(at);
    // SQLite gives each new row one more than the largest seq, so the rows' seqs are known before
    // they go in (for their blocks and ranges); checked after the last.
    let first_seq: i64 = conn
        .prepare_cached("SELECT coalesce(max(seq), 0) + 1 FROM events")?
        .query_row([], |row| row.get(0))?;
    // The seq is left to SQLite (see `rows_insert.rs`); the texts are in the blocks.
    let mut insert_event = RowsInsert::new(
        conn,
        "events (id, report_id, feed, line, time_observation, time_source, taxonomy, classification_type,
             source_ip, source_asn, source_fqdn, destination_ip, stored_at, block, slot, raw, json)",
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '')",
        15,
        INSERT_ROWS,
        events.len(),
    )?;
    let mut insert_block = conn
        .prepare_cached("INSERT INTO event_blocks (id, first_seq, last_seq, data) VALUES (?1, ?2, ?3, ?4)")?;
    let mut block_id: i64 = conn
        .prepare_cached("SELECT coalesce(max(id), 0) + 1 FROM event_blocks")?
        .query_row([], |row| row.get(0))?;
    let mut block = BlockBuilder::default();
    let mut block_seqs = (0, 0);
    let mut insert_org = conn.prepare_cached("INSERT INTO event_orgs (event_id, org_id) VALUES (?1, ?2)")?;
    let mut queue = conn
        .prepare_cached("INSERT INTO notification_queue (org_id, event_id, queued_at) VALUES (?1, ?2, ?3)")?;
    let mut orgs: Vec<Uuid> = Vec::new();
    let mut ranges: Vec<Range> = Vec::new();
    let mut rollup = EventRollup::new();
    for (index, event) in events.iter().enumerate() {
        if block.is_full() {
            insert_block.execute(params![block_id, block_seqs.0, block_seqs.1, block.finish()])?;
            block_id += 1;
        }
        let slot =
            block.push(&event.json, &event.raw).map_err(|error| StoreError::conflict("json", error))?;
        let seq = first_seq + to_i64(index as u64, "seq")?;
        let id = event.id.as_bytes();
        let observed = micros(truncate(event.time_observation));
        insert_event.push(&[
            &&id[..],
            &&event.report_id.as_bytes()[..],
            &event.feed,
            &to_i64(event.line, "line")?,
            &observed,
            &opt_micros(event.time_source.map(truncate)),
            &event.taxonomy,
            &event.classification_type,
            &event.source_ip.map(ip_key),
            &event.source_asn,
            &event.source_fqdn,
            &event.destination_ip.map(ip_key),
            &stored_at,
            &block_id,
            &slot,
        ])?;
        block_seqs = if slot == 0 { (seq, seq) } else { (block_seqs.0, seq) };
        match ranges.iter_mut().find(|range| range.report_id == event.report_id) {
            Some(range) => range.extend(seq, observed),
            None => ranges.push(Range {
                report_id: event.report_id,
                first: seq,
                last: seq,
                min_observed: observed,
            }),
        }
        let day = event_day(event.time_source.unwrap_or(event.time_observation));
        rollup.add(day, event.classification_type.as_deref(), &event.org_ids, 1);
        if event.org_ids.is_empty() {
            continue;
        }
        orgs.clear();
        orgs.extend_from_slice(&event.org_ids);
        orgs.sort_unstable();
        orgs.dedup();
        for org in &orgs {
            let org = &org.as_bytes()[..];
            insert_org.execute((&id[..], org))?;
            queue.execute((org, &id[..], stored_at))?;
        }
    }
    insert_event.finish()?;
    let last_seq = first_seq + to_i64(events.len() as u64, "seq")? - 1;
    let given: i64 = conn.prepare_cached("SELECT max(seq) FROM events")?.query_row([], |row| row.get(0))?;
    if given != last_seq {
        return Err(
            StoreError::Backend(format!("the events were given seqs up to {given}, not {last_seq}")).into()
        );
    }
    if !block.is_empty() {
        insert_block.execute(params![block_id, block_seqs.0, block_seqs.1, block.finish()])?;
    }
    let mut insert_range = conn.prepare_cached(
        "INSERT INTO event_ranges (first_seq, last_seq, report_id, min_observed) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for range in &ranges {
        insert_range.execute(params![
            range.first,
            range.last,
            &range.report_id.as_bytes()[..],
            range.min_observed
        ])?;
    }
    apply_rollup(conn, &rollup)?;
    Ok(events.len() as u64)
}

/// Changes the rollups by a write's aggregated events (each key once), in the caller's
/// transaction; a row brought to zero is deleted.
fn apply_rollup(conn: &Connection, rollup: &EventRollup) -> Result<()> {
    let mut add_day = conn.prepare_cached(
        "INSERT INTO event_day_counts (day, typed, classification_type, events) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (day, typed, classification_type) DO UPDATE SET events = events + excluded.events",
    )?;
    let mut clear_day = conn.prepare_cached(
        "DELETE FROM event_day_counts
         WHERE day = ?1 AND typed = ?2 AND classification_type = ?3 AND events = 0",
    )?;
    for delta in rollup.day_deltas() {
        let (typed, kind) = (delta.classification_type.is_some(), delta.classification_type.unwrap_or(""));
        add_day.execute(params![delta.day, typed, kind, delta.events])?;
        if delta.events < 0 {
            clear_day.execute(params![delta.day, typed, kind])?;
        }
    }
    let mut add_org = conn.prepare_cached(
        "INSERT INTO event_org_day_counts (org_id, day, typed, classification_type, shared, events)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (org_id, day, typed, classification_type, shared)
         DO UPDATE SET events = events + excluded.events",
    )?;
    let mut clear_org = conn.prepare_cached(
        "DELETE FROM event_org_day_counts
         WHERE org_id = ?1 AND day = ?2 AND typed = ?3 AND classification_type = ?4 AND shared = ?5
           AND events = 0",
    )?;
    for delta in rollup.org_deltas() {
        let org = &delta.org_id.as_bytes()[..];
        let (typed, kind) = (delta.classification_type.is_some(), delta.classification_type.unwrap_or(""));
        add_org.execute(params![org, delta.day, typed, kind, delta.shared, delta.events])?;
        if delta.events < 0 {
            clear_org.execute(params![org, delta.day, typed, kind, delta.shared])?;
        }
    }
    Ok(())
}

/// The routing of an event as `EVENT_COLUMNS` reads it (`o` is `event_orgs`), for rollups.
const EVENT_ORG_LIST: &str = "(SELECT group_concat(hex(o.org_id), '' ORDER BY o.org_id) FROM event_orgs o
     WHERE o.event_id = e.id)";

/// Takes a removed event (or `count` of them) of a time in microseconds, a type and a routing
/// as `EVENT_ORG_LIST` reads it out of the rollups.
fn remove_from_rollup(
    rollup: &mut EventRollup,
    time: i64,
    kind: Option<&str>,
    orgs: Option<&str>,
    count: i64,
) -> Result<()> {
    let orgs = match orgs {
        None => Vec::new(),
        Some(list) => parse_org_list(list)
            .ok_or_else(|| StoreError::Backend(format!("event routing {list:?} is not a list of ids")))?,
    };
    rollup.add(time.div_euclid(DAY_MICROS), kind, &orgs, -count);
    Ok(())
}

/// A report's events in one batch: the smallest and the largest seq among them, and their
/// earliest observation time (a row of `event_ranges`).
struct Range {
    report_id: Uuid,
    first: i64,
    last: i64,
    min_observed: i64,
}

impl Range {
    fn extend(&mut self, seq: i64, observed: i64) {
        self.first = self.first.min(seq);
        self.last = self.last.max(seq);
        self.min_observed = self.min_observed.min(observed);
    }
}

/// The ranges and events of `REPORT_EVENTS` before its condition, so a query can join more.
macro_rules! report_event_rows {
    () => {
        "event_ranges r CROSS JOIN events e NOT INDEXED
    ON e.seq BETWEEN r.first_seq AND r.last_seq AND e.report_id = r.report_id"
    };
}

/// The events of the report `?1`, through its ranges: `r` is the range, `e` the event. The
/// ranges drive (`CROSS JOIN` keeps them the outer loop) and the events are read by `seq`
/// (`NOT INDEXED` leaves the planner only the rowid, not an index of another filter).
const REPORT_EVENTS: &str = concat!(report_event_rows!(), " WHERE r.report_id = ?1");

pub(crate) fn get_event(conn: &Connection, id: Uuid) -> Result<Option<StoredEvent>> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events e {BLOCK_JOIN} WHERE e.id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([&id.as_bytes()[..]], event_from_row).optional()?)
}

/// Events by id in one query per 500 ids, in the order of `ids`.
pub(crate) fn get_events(conn: &Connection, ids: &[Uuid]) -> Result<Vec<StoredEvent>> {
    let mut found: std::collections::HashMap<Uuid, StoredEvent> = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        let placeholders = vec!["?"; chunk.len()].join(", ");
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events e {BLOCK_JOIN} WHERE e.id IN ({placeholders})");
        let mut statement = conn.prepare_cached(&sql)?;
        let keys: Vec<Vec<u8>> = chunk.iter().map(|id| id.as_bytes().to_vec()).collect();
        let rows = statement.query_map(rusqlite::params_from_iter(keys), event_from_row)?;
        for event in rows {
            let event = event?;
            found.insert(event.event.id, event);
        }
    }
    Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
}

/// A query's SQL and its parameters, built filter by filter, so that each query names only
/// the columns it filters on and SQLite can pick an index for them.
#[derive(Default)]
struct Filters {
    sql: String,
    values: Vec<Value>,
}

impl Filters {
    /// Adds a parameter and returns its placeholder.
    fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        format!("?{}", self.values.len())
    }

    fn and(&mut self, condition: &str) {
        self.sql.push_str(" AND ");
        self.sql.push_str(condition);
    }
}

/// A LIKE pattern finding `text` anywhere, its wildcards and escape character escaped.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

pub(crate) fn query_events(conn: &Connection, query: &EventQuery) -> Result<Vec<StoredEvent>> {
    let mut filters = Filters::default();
    // A report's events are read through its ranges (`REPORT_EVENTS`, whose `?1` is the report).
    let from = match query.report_id {
        Some(report_id) => {
            filters.bind(report_id.as_bytes().to_vec());
            format!("{} {BLOCK_JOIN} WHERE r.report_id = ?1", report_event_rows!())
        }
        None => format!("events e {BLOCK_JOIN} WHERE true"),
    };
    if let Some(since) = query.since {
        let since = filters.bind(micros(truncate(since)));
        filters.and(&format!("coalesce(e.time_source, e.time_observation) >= {since}"));
    }
    if let Some(until) = query.until {
        let until = filters.bind(micros(truncate(until)));
        filters.and(&format!("coalesce(e.time_source, e.time_observation) < {until}"));
    }
    if let Some(taxonomy) = &query.taxonomy {
        let taxonomy = filters.bind(taxonomy.clone());
        filters.and(&format!("e.taxonomy = {taxonomy}"));
    }
    if let Some(kind) = &query.classification_type {
        let kind = filters.bind(kind.clone());
        filters.and(&format!("e.classification_type = {kind}"));
    }
    if let Some(org_ids) = &query.org_ids {
        if org_ids.is_empty() {
            return Ok(Vec::new());
        }
        let only_orgs = query.since.is_none()
            && query.until.is_none()
            && query.taxonomy.is_none()
            && query.classification_type.is_none()
            && query.network.is_none()
            && query.asn.is_none()
            && query.feed.is_none()
            && query.text.is_none()
            && query.report_id.is_none();
        if only_orgs && org_ids.len() <= MERGED_ORGS {
            // A constituent's page: the newest events of each of its organisations, read
            // backwards from the routing index and merged, instead of every event of them.
            let limit = filters.bind(page(query.limit));
            let before = query.before.map(|id| filters.bind(id.as_bytes().to_vec()));
            let branches: Vec<String> = org_ids
                .iter()
                .map(|org| {
                    let org = filters.bind(org.as_bytes().to_vec());
                    let before =
                        before.as_ref().map(|b| format!(" AND o.event_id < {b}")).unwrap_or_default();
                    format!(
                        "SELECT event_id FROM (SELECT o.event_id FROM event_orgs o
                         WHERE o.org_id = {org}{before} ORDER BY o.event_id DESC LIMIT {limit})"
                    )
                })
                .collect();
            filters.and(&format!("e.id IN ({})", branches.join(" UNION ")));
        } else {
            let ids: Vec<String> = org_ids.iter().map(|id| id.simple().to_string()).collect();
            let ids = filters.bind(serde_json::to_string(&ids)?);
            filters.and(&format!(
                "e.id IN (SELECT o.event_id FROM event_orgs o
                          WHERE o.org_id IN (SELECT unhex(value) FROM json_each({ids})))"
            ));
        }
    }
    if let Some(network) = &query.network {
        let range = ip_range(network);
        let first = filters.bind(range.first.to_vec());
        let last = filters.bind(range.last.to_vec());
        let except = range.except.map(|(from, to)| {
            let (from, to) = (filters.bind(from.to_vec()), filters.bind(to.to_vec()));
            (from, to)
        });
        // A network holding many events is read newest first through the id, filtering addresses
        // (`+` keeps SQLite off the address indexes): a page is found after a few thousand rows.
        // Reading a large network's rows through an address index would mean reading and
        // sorting all of them.
        let prefix = if network_is_dense(conn, &range, page(query.limit))? { "+e" } else { "e" };
        let within = |column: &str| match &except {
            None => format!("{prefix}.{column} BETWEEN {first} AND {last}"),
            Some((from, to)) => format!(
                "{prefix}.{column} BETWEEN {first} AND {last} AND {prefix}.{column} NOT BETWEEN {from} AND {to}"
            ),
        };
        let condition = format!("(({}) OR ({}))", within("source_ip"), within("destination_ip"));
        filters.and(&condition);
    }
    if let Some(asn) = query.asn {
        let asn = filters.bind(i64::from(asn));
        filters.and(&format!("e.source_asn = {asn}"));
    }
    if let Some(feed) = &query.feed {
        let feed = filters.bind(feed.clone());
        filters.and(&format!("e.feed = {feed}"));
    }
    if let Some(text) = &query.text {
        if text.len() > MAX_TEXT_FILTER {
            let message = format!("at most {MAX_TEXT_FILTER} bytes");
            return Err(StoreError::conflict("text", message).into());
        }
        check_text("text", text)?;
        // Rows written before blocks keep their JSON in the row (see `event_blocks.rs`).
        let pattern = filters.bind(contains_pattern(text));
        let needle = filters.bind(text.clone());
        filters.and(&format!(
            "CASE WHEN e.block IS NULL THEN e.json LIKE {pattern} ESCAPE '\\'
             ELSE neretva_event_contains(b.data, e.slot, {needle}) END"
        ));
    }
    if let Some(before) = query.before {
        let before = filters.bind(before.as_bytes().to_vec());
        filters.and(&format!("e.id < {before}"));
    }
    if let Some(floor) = query.floor {
        let floor = filters.bind(floor.as_bytes().to_vec());
        filters.and(&format!("e.id >= {floor}"));
    }
    let limit = filters.bind(page(query.limit));
    let sql = format!("SELECT {EVENT_COLUMNS} FROM {from}{} ORDER BY e.id DESC LIMIT {limit}", filters.sql);
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map(params_from_iter(&filters.values), event_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The id `depth` events below `before`, newest first, read from the id index alone.
pub(crate) fn event_scan_floor(conn: &Connection, before: Option<Uuid>, depth: u32) -> Result<Option<Uuid>> {
    if depth == 0 {
        return Ok(None);
    }
    let offset = i64::from(depth) - 1;
    let floor = match before {
        Some(before) => conn
            .prepare_cached("SELECT id FROM events WHERE id < ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2")?
            .query_row(params![before.as_bytes().to_vec(), offset], |row| uuid_blob_col(row, 0))
            .optional()?,
        None => conn
            .prepare_cached("SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?1")?
            .query_row(params![offset], |row| uuid_blob_col(row, 0))
            .optional()?,
    };
    Ok(floor)
}

/// A filter on at most this many organisations alone merges their newest events.
const MERGED_ORGS: usize = 64;

/// Network filters count the network's events on the address indexes up to this many.
const NETWORK_PROBE: i64 = 50_000;

/// Whether a page of `limit` events in the range is found sooner by reading events newest first
/// and filtering (about `limit × events / matches` rows) than by reading every match through the
/// address indexes and sorting them (`matches` rows): when matches² > limit × events.
fn network_is_dense(conn: &Connection, range: &IpRange, limit: i64) -> Result<bool> {
    let (matches, events): (i64, i64) = conn
        .prepare_cached(
            "SELECT (SELECT count(*) FROM (SELECT 1 FROM events WHERE source_ip BETWEEN ?1 AND ?2 LIMIT ?3))
                  + (SELECT count(*) FROM (SELECT 1 FROM events WHERE destination_ip BETWEEN ?1 AND ?2
                                           LIMIT ?3)),
                    (SELECT coalesce(max(seq), 0) FROM events)",
        )?
        .query_row(params![&range.first[..], &range.last[..], NETWORK_PROBE], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
    Ok(matches.saturating_mul(matches) > limit.saturating_mul(events))
}

/// Deletes a report's events with their routing and notifications, and the report's ranges.
pub(crate) fn delete_report_events(conn: &Connection, report_id: Uuid) -> Result<u64> {
    let report_id = &report_id.as_bytes()[..];
    let mut rollup = EventRollup::new();
    let mut statement = conn.prepare_cached(&format!(
        "SELECT t, kind, orgs, count(*) FROM (
             SELECT coalesce(e.time_source, e.time_observation) AS t, e.classification_type AS kind,
                    {EVENT_ORG_LIST} AS orgs
             FROM {REPORT_EVENTS})
         GROUP BY 1, 2, 3"
    ))?;
    let mut rows = statement.query([report_id])?;
    while let Some(row) = rows.next()? {
        let (kind, orgs): (Option<String>, Option<String>) = (row.get(1)?, row.get(2)?);
        remove_from_rollup(&mut rollup, row.get(0)?, kind.as_deref(), orgs.as_deref(), row.get(3)?)?;
    }
    drop(rows);
    apply_rollup(conn, &rollup)?;
    let blocks: Vec<i64> = conn
        .prepare_cached(&format!("SELECT DISTINCT e.block FROM {REPORT_EVENTS} AND e.block IS NOT NULL"))?
        .query_map([report_id], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    conn.prepare_cached(&format!(
        "DELETE FROM event_orgs WHERE event_id IN (SELECT e.id FROM {REPORT_EVENTS})"
    ))?
    .execute([report_id])?;
    conn.prepare_cached(&format!(
        "DELETE FROM notification_queue WHERE event_id IN (SELECT e.id FROM {REPORT_EVENTS})"
    ))?
    .execute([report_id])?;
    let deleted = conn
        .prepare_cached(&format!("DELETE FROM events WHERE seq IN (SELECT e.seq FROM {REPORT_EVENTS})"))?
        .execute([report_id])?;
    conn.prepare_cached("DELETE FROM event_ranges WHERE report_id = ?1")?.execute([report_id])?;
    drop_empty_blocks(conn, blocks)?;
    Ok(deleted as u64)
}

/// Deletes those of the blocks whose events are all deleted.
fn drop_empty_blocks(conn: &Connection, blocks: impl IntoIterator<Item = i64>) -> Result<()> {
    let mut drop = conn.prepare_cached(
        "DELETE FROM event_blocks AS b WHERE b.id = ?1 AND NOT EXISTS (
             SELECT 1 FROM events e WHERE e.seq BETWEEN b.first_seq AND b.last_seq AND e.block = ?1)",
    )?;
    for block in blocks {
        drop.execute([block])?;
    }
    Ok(())
}

/// Deletes up to `batch` events observed before `before`, with their routing and
/// notifications; returns how many. The events are found through the ranges holding events
/// that old; a range is shrunk to the events of its report left in it, or deleted with the last.
pub(crate) fn purge_events(conn: &Connection, before: Timestamp, batch: u64) -> Result<u64> {
    let before = micros(truncate(before));
    let ranges: Vec<(i64, i64, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT first_seq, last_seq, report_id FROM event_ranges WHERE min_observed < ?1
             ORDER BY min_observed",
        )?
        .query_map([before], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut find = conn.prepare_cached(&format!(
        "SELECT e.seq, e.id, coalesce(e.time_source, e.time_observation), e.classification_type,
                {EVENT_ORG_LIST}, e.block
         FROM events e
         WHERE e.seq BETWEEN ?1 AND ?2 AND e.report_id = ?3 AND e.time_observation < ?4
         LIMIT ?5"
    ))?;
    let mut rollup = EventRollup::new();
    let mut orgs = conn.prepare_cached("DELETE FROM event_orgs WHERE event_id = ?1")?;
    let mut queue = conn.prepare_cached("DELETE FROM notification_queue WHERE event_id = ?1")?;
    let mut events = conn.prepare_cached("DELETE FROM events WHERE seq = ?1")?;
    let mut rest = conn.prepare_cached(
        "SELECT min(seq), max(seq), min(time_observation) FROM events
         WHERE seq BETWEEN ?1 AND ?2 AND report_id = ?3",
    )?;
    let mut drop_range = conn.prepare_cached("DELETE FROM event_ranges WHERE first_seq = ?1")?;
    let mut keep_range = conn.prepare_cached(
        "INSERT INTO event_ranges (first_seq, last_seq, report_id, min_observed) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut deleted = 0;
    let mut blocks = std::collections::BTreeSet::new();
    for (first, last, report_id) in &ranges {
        if deleted >= batch {
            break;
        }
        let limit = to_i64(batch - deleted, "batch")?;
        type Doomed = (i64, Vec<u8>, i64, Option<String>, Option<String>, Option<i64>);
        let doomed: Vec<Doomed> = find
            .query_map(params![first, last, report_id, before, limit], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        for (seq, id, time, kind, routing, block) in &doomed {
            blocks.extend(*block);
            remove_from_rollup(&mut rollup, *time, kind.as_deref(), routing.as_deref(), 1)?;
            orgs.execute([id])?;
            queue.execute([id])?;
            events.execute([seq])?;
        }
        deleted += doomed.len() as u64;
        let (low, high, min_observed): (Option<i64>, Option<i64>, Option<i64>) = rest
            .query_row(params![first, last, report_id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
        drop_range.execute([first])?;
        if let (Some(low), Some(high), Some(min_observed)) = (low, high, min_observed) {
            keep_range.execute(params![low, high, report_id, min_observed])?;
        }
    }
    drop_empty_blocks(conn, blocks)?;
    apply_rollup(conn, &rollup)?;
    Ok(deleted)
}

// Notifications.

pub(crate) fn pending_notifications(
    conn: &Connection,
    org_id: Option<Uuid>,
    limit: u32,
) -> Result<Vec<(Uuid, Uuid)>> {
    let pair = |row: &Row<'_>| Ok((uuid_blob_col(row, 0)?, uuid_blob_col(row, 1)?));
    let rows = match org_id {
        Some(org_id) => conn
            .prepare_cached(
                "SELECT org_id, event_id FROM notification_queue
                 WHERE taken_at IS NULL AND org_id = ?1
                 ORDER BY id
                 LIMIT ?2",
            )?
            .query_map(params![&org_id.as_bytes()[..], page(limit)], pair)?
            .collect::<rusqlite::Result<_>>()?,
        None => conn
            .prepare_cached(
                "SELECT org_id, event_id FROM notification_queue
                 WHERE taken_at IS NULL
                 ORDER BY id
                 LIMIT ?1",
            )?
            .query_map([page(limit)], pair)?
            .collect::<rusqlite::Result<_>>()?,
    };
    Ok(rows)
}

/// Microseconds in a day, for grouping stored times by UTC day.
const DAY_MICROS: i64 = 86_400_000_000;

/// Events by day and type, and by organisation, from the rollups.
pub(crate) fn event_counts(conn: &Connection, query: &EventCountQuery) -> Result<EventCounts> {
    let since = since_day(query.since);
    let kind_of = |row: &Row<'_>, typed: usize| -> rusqlite::Result<Option<String>> {
        Ok(if row.get::<_, bool>(typed)? { Some(row.get(typed + 1)?) } else { None })
    };
    let Some(org_ids) = &query.org_ids else {
        let by_day = conn
            .prepare_cached(
                "SELECT day, typed, classification_type, events FROM event_day_counts
                 WHERE day >= ?1 AND events <> 0
                 ORDER BY day, typed, classification_type",
            )?
            .query_map([since], |row| {
                Ok(DayCount {
                    day: row.get(0)?,
                    classification_type: kind_of(row, 1)?,
                    events: u64_col(row, 3)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let by_org = conn
            .prepare_cached(
                "SELECT org_id, sum(events) FROM event_org_day_counts WHERE day >= ?1
                 GROUP BY org_id HAVING sum(events) > 0 ORDER BY 2 DESC, 1",
            )?
            .query_map([since], |row| Ok((uuid_blob_col(row, 0)?, u64_col(row, 1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        return Ok(EventCounts { by_day, by_org });
    };
    if org_ids.is_empty() {
        return Ok(EventCounts::default());
    }
    let ids: Vec<String> = org_ids.iter().map(|id| id.simple().to_string()).collect();
    let ids = serde_json::to_string(&ids)?;
    let rows: Vec<OrgDayRow> = conn
        .prepare_cached(
            "SELECT org_id, day, typed, classification_type, shared, events FROM event_org_day_counts
             WHERE org_id IN (SELECT unhex(value) FROM json_each(?1)) AND day >= ?2",
        )?
        .query_map(params![ids, since], |row| {
            Ok(OrgDayRow {
                org_id: uuid_blob_col(row, 0)?,
                day: row.get(1)?,
                classification_type: kind_of(row, 2)?,
                shared: row.get(4)?,
                events: row.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let by_day = scoped_day_counts(&rows, org_ids);
    let mut sums: std::collections::BTreeMap<Uuid, i64> = std::collections::BTreeMap::new();
    for row in &rows {
        *sums.entry(row.org_id).or_default() += row.events;
    }
    let mut by_org: Vec<(Uuid, u64)> = sums
        .into_iter()
        .filter(|(_, events)| *events > 0)
        .map(|(org, events)| (org, events as u64))
        .collect();
    by_org.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(EventCounts { by_day, by_org })
}
