//! The feed pipeline's operations: raw reports and their parse errors, events with their
//! routing and notifications, and the deduplication keys.
//!
//! Events are the hot path: a batch goes in with three binary `COPY`s (events, routing,
//! notifications) in the caller's one transaction.

use neretva_store::encode::{check_event, page};
use std::collections::HashSet;
use std::pin::pin;

use deadpool_postgres::GenericClient;
use neretva_model::Timestamp;
use neretva_model::audit::AuditEvent;
use neretva_store::StoreError;
use neretva_store::feeds::{
    DayCount, DedupKey, EventCountQuery, EventCounts, EventQuery, NewEvent, NewReport, ReportCounts,
    ReportError, ReportInfo, ReportQuery, ReportStatus, SourceRecord, StoredEvent,
};
use neretva_store::rollup::{EventRollup, OrgDayRow, event_day, scoped_day_counts, since_day};
use tokio_postgres::Row;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use uuid::Uuid;

use crate::codec::{
    Error, Result, check_text, dedup_key, ip_from_key, ip_key, ip_range, now, to_i64, to_u64, truncate,
    without_nul,
};
use crate::ops;

/// Rows a purge deletes per transaction, so no transaction grows without bound.
pub(crate) const PURGE_BATCH: u64 = 10_000;
/// Rows per statement when a batch goes in as arrays.
const BATCH: usize = 10_000;
/// The longest text filter, as in the SQLite backend (which cannot take much longer ones).
const MAX_TEXT_FILTER: usize = 10_000;

// Reports.

const REPORT_COLUMNS: &str = "r.id, r.feed, r.parser, r.source, r.received_at, r.sha256, r.size,
    r.status, r.records, r.events, r.errors, r.duplicates, r.dropped, r.parsed_at, r.failure,
    r.data IS NULL";

fn report_from_row(row: &Row) -> Result<ReportInfo> {
    let status: String = row.try_get(7)?;
    let count = |index: usize, column: &str| -> Result<u64> { to_u64(column, row.try_get(index)?) };
    Ok(ReportInfo {
        id: row.try_get(0)?,
        feed: row.try_get(1)?,
        parser: row.try_get(2)?,
        source: row.try_get(3)?,
        received_at: row.try_get(4)?,
        sha256: row.try_get(5)?,
        size: count(6, "size")?,
        status: ReportStatus::parse(&status)
            .ok_or_else(|| Error(StoreError::Backend(format!("column status holds {status:?}"))))?,
        counts: ReportCounts {
            records: count(8, "records")?,
            events: count(9, "events")?,
            errors: count(10, "errors")?,
            duplicates: count(11, "duplicates")?,
            dropped: count(12, "dropped")?,
        },
        parsed_at: row.try_get(13)?,
        failure: row.try_get(14)?,
        data_purged: row.try_get(15)?,
    })
}

pub(crate) async fn get_report<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<ReportInfo>> {
    let sql = format!("SELECT {REPORT_COLUMNS} FROM reports r WHERE r.id = $1");
    let statement = client.prepare_cached(&sql).await?;
    client.query_opt(&statement, &[&id]).await?.as_ref().map(report_from_row).transpose()
}

/// The report stored with this feed and content, if any.
async fn find_report<C: GenericClient>(client: &C, feed: &str, sha256: &str) -> Result<Option<ReportInfo>> {
    let sql = format!("SELECT {REPORT_COLUMNS} FROM reports r WHERE r.feed = $1 AND r.sha256 = $2");
    let statement = client.prepare_cached(&sql).await?;
    client.query_opt(&statement, &[&feed, &sha256]).await?.as_ref().map(report_from_row).transpose()
}

/// Stores a report unless its content is already stored for the feed. Content already stored
/// is found before the data is sent; a concurrent store of the same content waits on the
/// unique key and then finds the winner's report. The audit head is locked only after the
/// data went in, so a large report does not hold up other audited changes.
pub(crate) async fn store_report<C: GenericClient>(
    client: &C,
    report: &NewReport,
) -> Result<(ReportInfo, bool)> {
    if let Some(stored) = find_report(client, &report.feed, &report.sha256).await? {
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
    let statement = client
        .prepare_cached(
            "INSERT INTO reports (id, feed, parser, source, received_at, sha256, size, status, data)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (feed, sha256) DO NOTHING",
        )
        .await?;
    let inserted = client
        .execute(
            &statement,
            &[
                &info.id,
                &info.feed,
                &info.parser,
                &info.source,
                &info.received_at,
                &info.sha256,
                &to_i64(size, "data")?,
                &info.status.as_str(),
                &report.data.as_slice(),
            ],
        )
        .await?;
    if inserted == 0 {
        let stored = find_report(client, &report.feed, &report.sha256).await?;
        let stored = stored
            .ok_or_else(|| Error(StoreError::Backend("a report with the same content vanished".into())))?;
        return Ok((stored, false));
    }
    let event = AuditEvent {
        actor: report.actor().0,
        action: "report.store".to_owned(),
        object_type: "report".to_owned(),
        object_id: info.id.to_string(),
        digest: info.sha256.clone(),
    };
    // The time is taken under the head's lock, so the chain's times stay in order.
    ops::lock_head(client).await?;
    ops::append_audit(client, now(), event).await?;
    Ok((info, true))
}

pub(crate) async fn report_data<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<Vec<u8>>> {
    let statement = client.prepare_cached("SELECT data FROM reports WHERE id = $1").await?;
    let row = client.query_opt(&statement, &[&id]).await?;
    // No row, or a row whose data was purged.
    Ok(row.map(|row| row.try_get::<_, Option<Vec<u8>>>(0)).transpose()?.flatten())
}

/// Reports whose data one transaction of `purge_report_data` deletes at most (each may be
/// hundreds of megabytes).
pub(crate) const REPORT_PURGE_BATCH: u64 = 100;

/// Deletes the data of up to `batch` reports received before `before`; returns how many.
pub(crate) async fn purge_report_data<C: GenericClient>(
    client: &C,
    before: Timestamp,
    batch: u64,
) -> Result<u64> {
    let statement = client
        .prepare_cached(
            "UPDATE reports SET data = NULL WHERE id IN (
                 SELECT id FROM reports WHERE data IS NOT NULL AND received_at < $1 LIMIT $2)",
        )
        .await?;
    Ok(client.execute(&statement, &[&before, &to_i64(batch, "batch")?]).await?)
}

pub(crate) async fn list_reports<C: GenericClient>(
    client: &C,
    query: &ReportQuery,
) -> Result<Vec<ReportInfo>> {
    let sql = format!(
        "SELECT {REPORT_COLUMNS} FROM reports r
         WHERE ($1::text IS NULL OR r.feed = $1) AND ($2::uuid IS NULL OR r.id < $2)
         ORDER BY r.id DESC
         LIMIT $3"
    );
    let statement = client.prepare_cached(&sql).await?;
    let rows = client.query(&statement, &[&query.feed, &query.before, &page(query.limit)]).await?;
    rows.iter().map(report_from_row).collect()
}

async fn require_report<C: GenericClient>(client: &C, id: Uuid) -> Result<()> {
    let statement = client.prepare_cached("SELECT 1 FROM reports WHERE id = $1").await?;
    match client.query_opt(&statement, &[&id]).await? {
        Some(_) => Ok(()),
        None => Err(StoreError::not_found("report", id).into()),
    }
}

/// Records the counts and replaces the errors, in the caller's transaction; the errors go in
/// as arrays, `BATCH` rows per statement.
pub(crate) async fn finish_report<C: GenericClient>(
    client: &C,
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
    let update = client
        .prepare_cached(
            "UPDATE reports SET status = $2, records = $3, events = $4, errors = $5,
                 duplicates = $6, dropped = $7, parsed_at = $8, failure = $9
             WHERE id = $1",
        )
        .await?;
    let changed = client
        .execute(
            &update,
            &[
                &id,
                &status.as_str(),
                &to_i64(counts.records, "records")?,
                &to_i64(counts.events, "events")?,
                &to_i64(counts.errors, "errors")?,
                &to_i64(counts.duplicates, "duplicates")?,
                &to_i64(counts.dropped, "dropped")?,
                &truncate(at),
                &failure.map(without_nul).as_deref(),
            ],
        )
        .await?;
    if changed == 0 {
        return Err(StoreError::not_found("report", id).into());
    }
    let delete = client.prepare_cached("DELETE FROM report_errors WHERE report_id = $1").await?;
    client.execute(&delete, &[&id]).await?;
    let insert = client
        .prepare_cached(
            "INSERT INTO report_errors (report_id, line, position, field, message, raw)
             SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[],
                                      $6::text[])",
        )
        .await?;
    for (chunk_index, chunk) in errors.chunks(BATCH).enumerate() {
        let offset = chunk_index * BATCH;
        let mut lines = Vec::with_capacity(chunk.len());
        let mut positions = Vec::with_capacity(chunk.len());
        for (index, error) in chunk.iter().enumerate() {
            lines.push(to_i64(error.line, "line")?);
            positions.push(i64::try_from(offset + index).unwrap_or(i64::MAX));
        }
        let fields: Vec<Option<String>> = chunk
            .iter()
            .map(|error| error.field.as_deref().map(|field| without_nul(field).into_owned()))
            .collect();
        let messages: Vec<_> = chunk.iter().map(|error| without_nul(&error.message)).collect();
        let raws: Vec<_> = chunk.iter().map(|error| without_nul(&error.raw)).collect();
        let messages: Vec<&str> = messages.iter().map(|text| &**text).collect();
        let raws: Vec<&str> = raws.iter().map(|text| &**text).collect();
        client.execute(&insert, &[&id, &lines, &positions, &fields, &messages, &raws]).await?;
    }
    get_report(client, id).await?.ok_or_else(|| StoreError::not_found("report", id).into())
}

pub(crate) async fn source_record<C: GenericClient>(client: &C, feed: &str) -> Result<Option<SourceRecord>> {
    let statement = client
        .prepare_cached("SELECT feed, kind, state, saved_at FROM source_records WHERE feed = $1")
        .await?;
    let row = client.query_opt(&statement, &[&feed]).await?;
    row.map(|row| -> Result<SourceRecord> {
        Ok(SourceRecord {
            feed: row.try_get(0)?,
            kind: row.try_get(1)?,
            state: row.try_get(2)?,
            saved_at: row.try_get(3)?,
        })
    })
    .transpose()
}

pub(crate) async fn save_source_record<C: GenericClient>(client: &C, record: &SourceRecord) -> Result<()> {
    record.check()?;
    let statement = client
        .prepare_cached(
            "INSERT INTO source_records (feed, kind, state, saved_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (feed) DO UPDATE SET kind = excluded.kind, state = excluded.state,
                 saved_at = excluded.saved_at",
        )
        .await?;
    let saved_at = truncate(record.saved_at);
    client.execute(&statement, &[&record.feed, &record.kind, &record.state, &saved_at]).await?;
    Ok(())
}

pub(crate) async fn report_errors<C: GenericClient>(
    client: &C,
    id: Uuid,
    limit: u32,
) -> Result<Vec<ReportError>> {
    require_report(client, id).await?;
    let statement = client
        .prepare_cached(
            "SELECT line, field, message, raw FROM report_errors WHERE report_id = $1
             ORDER BY line, position
             LIMIT $2",
        )
        .await?;
    let rows = client.query(&statement, &[&id, &page(limit)]).await?;
    rows.iter()
        .map(|row| {
            Ok(ReportError {
                line: to_u64("line", row.try_get(0)?)?,
                field: row.try_get(1)?,
                message: row.try_get(2)?,
                raw: row.try_get(3)?,
            })
        })
        .collect()
}

// Events.

pub(crate) const EVENT_COLUMNS: &str = "e.id, e.report_id, e.feed, e.line, e.raw, e.time_observation,
    e.time_source, e.taxonomy, e.classification_type, e.source_ip, e.source_asn, e.source_fqdn,
    e.destination_ip, e.json, e.stored_at,
    ARRAY(SELECT o.org_id FROM event_orgs o WHERE o.event_id = e.id ORDER BY o.org_id)";

pub(crate) fn event_from_row(row: &Row) -> Result<StoredEvent> {
    let source_asn = row
        .try_get::<_, Option<i64>>(10)?
        .map(|asn| {
            u32::try_from(asn)
                .map_err(|_| Error(StoreError::Backend(format!("column source_asn holds {asn}"))))
        })
        .transpose()?;
    Ok(StoredEvent {
        event: NewEvent {
            id: row.try_get(0)?,
            report_id: row.try_get(1)?,
            feed: row.try_get(2)?,
            line: to_u64("line", row.try_get(3)?)?,
            raw: row.try_get(4)?,
            time_observation: row.try_get(5)?,
            time_source: row.try_get(6)?,
            taxonomy: row.try_get(7)?,
            classification_type: row.try_get(8)?,
            source_ip: ip_from_key("source_ip", row.try_get(9)?)?,
            source_asn,
            source_fqdn: row.try_get(11)?,
            destination_ip: ip_from_key("destination_ip", row.try_get(12)?)?,
            org_ids: row.try_get(15)?,
            json: row.try_get(13)?,
        },
        stored_at: row.try_get(14)?,
    })
}

const EVENT_COPY: &str = "COPY events (id, report_id, feed, line, time_observation, time_source,
    taxonomy, classification_type, source_ip, source_asn, source_fqdn, destination_ip, stored_at,
    raw, json) FROM STDIN (FORMAT binary)";

const EVENT_TYPES: &[Type] = &[
    Type::UUID,
    Type::UUID,
    Type::TEXT,
    Type::INT8,
    Type::TIMESTAMPTZ,
    Type::TIMESTAMPTZ,
    Type::TEXT,
    Type::TEXT,
    Type::BYTEA,
    Type::INT8,
    Type::TEXT,
    Type::BYTEA,
    Type::TIMESTAMPTZ,
    Type::TEXT,
    Type::TEXT,
];

/// Inserts a batch with its routing and notifications, in the caller's transaction.
pub(crate) async fn insert_events(
    tx: &deadpool_postgres::Transaction<'_>,
    at: Timestamp,
    events: &[NewEvent],
) -> Result<u64> {
    for event in events {
        check_event(event)?;
    }
    let sink = tx.copy_in(EVENT_COPY).await?;
    let mut writer = pin!(BinaryCopyInWriter::new(sink, EVENT_TYPES));
    for event in events {
        let line = to_i64(event.line, "line")?;
        let source_ip = event.source_ip.map(ip_key);
        let destination_ip = event.destination_ip.map(ip_key);
        writer
            .as_mut()
            .write(&[
                &event.id,
                &event.report_id,
                &event.feed,
                &line,
                &truncate(event.time_observation),
                &event.time_source.map(truncate),
                &event.taxonomy,
                &event.classification_type,
                &source_ip.as_ref().map(|key| &key[..]),
                &event.source_asn.map(i64::from),
                &event.source_fqdn,
                &destination_ip.as_ref().map(|key| &key[..]),
                &at,
                &event.raw,
                &event.json,
            ])
            .await?;
    }
    writer.as_mut().finish().await?;

    // Each organisation once per event.
    let mut routes: Vec<(Uuid, Uuid)> = Vec::new();
    let mut orgs: Vec<Uuid> = Vec::new();
    let mut rollup = EventRollup::new();
    for event in events {
        orgs.clear();
        orgs.extend_from_slice(&event.org_ids);
        orgs.sort_unstable();
        orgs.dedup();
        routes.extend(orgs.iter().map(|org| (event.id, *org)));
        let day = event_day(event.time_source.unwrap_or(event.time_observation));
        rollup.add(day, event.classification_type.as_deref(), &orgs, 1);
    }
    apply_rollup(tx, &rollup).await?;
    if routes.is_empty() {
        return Ok(events.len() as u64);
    }
    let sink = tx.copy_in("COPY event_orgs (event_id, org_id) FROM STDIN (FORMAT binary)").await?;
    let mut writer = pin!(BinaryCopyInWriter::new(sink, &[Type::UUID, Type::UUID]));
    for (event_id, org_id) in &routes {
        writer.as_mut().write(&[event_id, org_id]).await?;
    }
    writer.as_mut().finish().await?;
    let sink = tx
        .copy_in("COPY notification_queue (org_id, event_id, queued_at) FROM STDIN (FORMAT binary)")
        .await?;
    let mut writer = pin!(BinaryCopyInWriter::new(sink, &[Type::UUID, Type::UUID, Type::TIMESTAMPTZ],));
    for (event_id, org_id) in &routes {
        writer.as_mut().write(&[org_id, event_id, &at]).await?;
    }
    writer.as_mut().finish().await?;
    Ok(events.len() as u64)
}

pub(crate) async fn get_event<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<StoredEvent>> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events e WHERE e.id = $1");
    let statement = client.prepare_cached(&sql).await?;
    client.query_opt(&statement, &[&id]).await?.as_ref().map(event_from_row).transpose()
}

/// Events by id in one query, in the order of `ids`.
pub(crate) async fn get_events<C: GenericClient>(client: &C, ids: &[Uuid]) -> Result<Vec<StoredEvent>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events e WHERE e.id = ANY($1)");
    let statement = client.prepare_cached(&sql).await?;
    let rows = client.query(&statement, &[&ids]).await?;
    let mut found: std::collections::HashMap<Uuid, StoredEvent> = std::collections::HashMap::new();
    for row in &rows {
        let event = event_from_row(row)?;
        found.insert(event.event.id, event);
    }
    Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
}

/// A query's SQL and its parameters, built filter by filter, so that each query names only
/// the columns it filters on and the planner can pick an index for them.
#[derive(Default)]
struct Filters {
    sql: String,
    values: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Filters {
    /// Adds a parameter and returns its placeholder.
    fn bind(&mut self, value: impl ToSql + Sync + Send + 'static) -> String {
        self.values.push(Box::new(value));
        format!("${}", self.values.len())
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

pub(crate) async fn query_events<C: GenericClient>(
    client: &C,
    query: &EventQuery,
) -> Result<Vec<StoredEvent>> {
    let mut filters = Filters::default();
    if let Some(since) = query.since {
        let since = filters.bind(truncate(since));
        filters.and(&format!("coalesce(e.time_source, e.time_observation) >= {since}"));
    }
    if let Some(until) = query.until {
        let until = filters.bind(truncate(until));
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
        let ids = filters.bind(org_ids.clone());
        filters.and(&format!("e.id IN (SELECT o.event_id FROM event_orgs o WHERE o.org_id = ANY({ids}))"));
    }
    if let Some(network) = &query.network {
        let range = ip_range(network);
        let first = filters.bind(range.first.to_vec());
        let last = filters.bind(range.last.to_vec());
        let except = range.except.map(|(from, to)| {
            let (from, to) = (filters.bind(from.to_vec()), filters.bind(to.to_vec()));
            (from, to)
        });
        let within = |column: &str| match &except {
            None => format!("e.{column} BETWEEN {first} AND {last}"),
            Some((from, to)) => {
                format!("e.{column} BETWEEN {first} AND {last} AND e.{column} NOT BETWEEN {from} AND {to}")
            }
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
    if let Some(report_id) = query.report_id {
        let report_id = filters.bind(report_id);
        filters.and(&format!("e.report_id = {report_id}"));
    }
    if let Some(text) = &query.text {
        if text.len() > MAX_TEXT_FILTER {
            let message = format!("at most {MAX_TEXT_FILTER} bytes");
            return Err(StoreError::conflict("text", message).into());
        }
        check_text("text", text)?;
        let pattern = filters.bind(contains_pattern(text));
        // The "C" collation folds ASCII letters only, as SQLite's LIKE does.
        filters.and(&format!("e.json COLLATE \"C\" ILIKE {pattern} ESCAPE '\\'"));
    }
    if let Some(before) = query.before {
        let before = filters.bind(before);
        filters.and(&format!("e.id < {before}"));
    }
    if let Some(floor) = query.floor {
        let floor = filters.bind(floor);
        filters.and(&format!("e.id >= {floor}"));
    }
    let limit = filters.bind(page(query.limit));
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM events e WHERE true{} ORDER BY e.id DESC LIMIT {limit}",
        filters.sql
    );
    let statement = client.prepare_cached(&sql).await?;
    let params: Vec<&(dyn ToSql + Sync)> =
        filters.values.iter().map(|value| &**value as &(dyn ToSql + Sync)).collect();
    let rows = client.query(&statement, &params).await?;
    rows.iter().map(event_from_row).collect()
}

/// The id `depth` events below `before`, newest first, read from the primary key alone.
pub(crate) async fn event_scan_floor<C: GenericClient>(
    client: &C,
    before: Option<Uuid>,
    depth: u32,
) -> Result<Option<Uuid>> {
    if depth == 0 {
        return Ok(None);
    }
    let offset = i64::from(depth) - 1;
    let row = match before {
        Some(before) => {
            let statement = client
                .prepare_cached("SELECT id FROM events WHERE id < $1 ORDER BY id DESC OFFSET $2 LIMIT 1")
                .await?;
            client.query_opt(&statement, &[&before, &offset]).await?
        }
        None => {
            let statement =
                client.prepare_cached("SELECT id FROM events ORDER BY id DESC OFFSET $1 LIMIT 1").await?;
            client.query_opt(&statement, &[&offset]).await?
        }
    };
    Ok(row.map(|row| row.get(0)))
}

/// Changes the rollups by a write's aggregated events, in the caller's transaction: one
/// upsert per table for every key (in key order, so concurrent writers lock rows in the same
/// order), then the rows brought to zero are deleted.
async fn apply_rollup<C: GenericClient>(client: &C, rollup: &EventRollup) -> Result<()> {
    let days = rollup.day_deltas();
    if !days.is_empty() {
        let day: Vec<i64> = days.iter().map(|delta| delta.day).collect();
        let typed: Vec<bool> = days.iter().map(|delta| delta.classification_type.is_some()).collect();
        let kind: Vec<&str> = days.iter().map(|delta| delta.classification_type.unwrap_or("")).collect();
        let events: Vec<i64> = days.iter().map(|delta| delta.events).collect();
        let statement = client
            .prepare_cached(
                "INSERT INTO event_day_counts AS c (day, typed, classification_type, events)
                 SELECT * FROM unnest($1::bigint[], $2::boolean[], $3::text[], $4::bigint[])
                 ON CONFLICT (day, typed, classification_type) DO UPDATE SET events = c.events + excluded.events",
            )
            .await?;
        client.execute(&statement, &[&day, &typed, &kind, &events]).await?;
        if days.iter().any(|delta| delta.events < 0) {
            let statement = client
                .prepare_cached(
                    "DELETE FROM event_day_counts c
                     USING unnest($1::bigint[], $2::boolean[], $3::text[]) AS k (day, typed, kind)
                     WHERE c.day = k.day AND c.typed = k.typed AND c.classification_type = k.kind
                       AND c.events = 0",
                )
                .await?;
            client.execute(&statement, &[&day, &typed, &kind]).await?;
        }
    }
    let orgs = rollup.org_deltas();
    if !orgs.is_empty() {
        let org: Vec<Uuid> = orgs.iter().map(|delta| delta.org_id).collect();
        let day: Vec<i64> = orgs.iter().map(|delta| delta.day).collect();
        let typed: Vec<bool> = orgs.iter().map(|delta| delta.classification_type.is_some()).collect();
        let kind: Vec<&str> = orgs.iter().map(|delta| delta.classification_type.unwrap_or("")).collect();
        let shared: Vec<&str> = orgs.iter().map(|delta| delta.shared).collect();
        let events: Vec<i64> = orgs.iter().map(|delta| delta.events).collect();
        let statement = client
            .prepare_cached(
                "INSERT INTO event_org_day_counts AS c (org_id, day, typed, classification_type, shared, events)
                 SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::boolean[], $4::text[], $5::text[],
                                      $6::bigint[])
                 ON CONFLICT (org_id, day, typed, classification_type, shared)
                 DO UPDATE SET events = c.events + excluded.events",
            )
            .await?;
        client.execute(&statement, &[&org, &day, &typed, &kind, &shared, &events]).await?;
        if orgs.iter().any(|delta| delta.events < 0) {
            let statement = client
                .prepare_cached(
                    "DELETE FROM event_org_day_counts c
                     USING unnest($1::uuid[], $2::bigint[], $3::boolean[], $4::text[], $5::text[])
                         AS k (org_id, day, typed, kind, shared)
                     WHERE c.org_id = k.org_id AND c.day = k.day AND c.typed = k.typed
                       AND c.classification_type = k.kind AND c.shared = k.shared AND c.events = 0",
                )
                .await?;
            client.execute(&statement, &[&org, &day, &typed, &kind, &shared]).await?;
        }
    }
    Ok(())
}

/// Deletes the events whose ids `doomed` selects, with their routing and notifications, in one
/// statement, and takes the events it deleted out of the rollups; returns how many. Call it in
/// a transaction.
async fn delete_events<C: GenericClient>(
    client: &C,
    doomed: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64> {
    let statement = client
        .prepare_cached(&format!(
            "WITH doomed AS MATERIALIZED ({doomed}),
                  orgs AS (DELETE FROM event_orgs WHERE event_id IN (SELECT id FROM doomed)
                           RETURNING event_id, org_id),
                  queue AS (DELETE FROM notification_queue
                            WHERE event_id IN (SELECT id FROM doomed)),
                  gone AS (DELETE FROM events WHERE id IN (SELECT id FROM doomed)
                           RETURNING id, coalesce(time_source, time_observation) AS t, classification_type),
                  routed AS (SELECT g.t, g.classification_type,
                                    array_remove(array_agg(o.org_id ORDER BY o.org_id), NULL) AS orgs
                             FROM gone g LEFT JOIN orgs o ON o.event_id = g.id
                             GROUP BY g.id, g.t, g.classification_type)
             SELECT floor(extract(epoch FROM t) / 86400)::bigint, classification_type, orgs, count(*)
             FROM routed GROUP BY 1, 2, 3"
        ))
        .await?;
    let mut rollup = EventRollup::new();
    let mut deleted = 0;
    for row in client.query(&statement, params).await? {
        let count: i64 = row.try_get(3)?;
        let orgs: Vec<Uuid> = row.try_get(2)?;
        let kind: Option<&str> = row.try_get(1)?;
        rollup.add(row.try_get(0)?, kind, &orgs, -count);
        deleted += to_u64("count", count)?;
    }
    apply_rollup(client, &rollup).await?;
    Ok(deleted)
}

/// Deletes a report's events with their routing and notifications, in the caller's transaction.
pub(crate) async fn delete_report_events<C: GenericClient>(client: &C, report_id: Uuid) -> Result<u64> {
    delete_events(client, "SELECT id FROM events WHERE report_id = $1", &[&report_id]).await
}

/// Deletes up to `batch` events observed before `before`, with their routing and
/// notifications, in the caller's transaction; returns how many.
pub(crate) async fn purge_events<C: GenericClient>(client: &C, before: Timestamp, batch: u64) -> Result<u64> {
    let doomed = "SELECT id FROM events WHERE time_observation < $1 LIMIT $2";
    delete_events(client, doomed, &[&truncate(before), &to_i64(batch, "batch")?]).await
}

// Deduplication.

/// Checks and records keys atomically against concurrent checkers in any process: each key
/// is one row of `INSERT ... ON CONFLICT DO UPDATE ... WHERE ... RETURNING`, which inserts a
/// new key, records again an expired one or one its own report recorded, and leaves a live one
/// of another report alone; only the first two come back. A checker racing on the same key waits for the other's row and then sees it live.
/// Keys go in sorted, so two checkers always lock shared keys in the same order and cannot
/// deadlock.
pub(crate) async fn dedup_check<C: GenericClient>(
    client: &C,
    keys: &[DedupKey],
    window_start: Timestamp,
) -> Result<Vec<bool>> {
    for key in keys {
        check_text("key", &key.key)?;
    }
    let mut duplicate = vec![true; keys.len()];
    let mut batch = HashSet::with_capacity(keys.len());
    // The first occurrence of each key, in the order of the stored keys, so concurrent checkers
    // lock rows in the same order.
    let mut first: Vec<(Vec<u8>, usize)> = (0..keys.len())
        .filter(|index| batch.insert(keys[*index].key.as_str()))
        .map(|index| (dedup_key(&keys[index].key), index))
        .collect();
    first.sort_unstable();
    let statement = client
        .prepare_cached(
            "INSERT INTO dedup_keys AS d (key, seen_at, report_id)
             SELECT * FROM unnest($1::bytea[], $2::timestamptz[], $3::uuid[])
             ON CONFLICT (key) DO UPDATE SET seen_at = excluded.seen_at,
                 report_id = excluded.report_id
             WHERE d.seen_at < $4 OR d.report_id = excluded.report_id
             RETURNING d.key",
        )
        .await?;
    let window_start = truncate(window_start);
    let mut new: HashSet<Vec<u8>> = HashSet::new();
    for chunk in first.chunks(BATCH) {
        let names: Vec<&[u8]> = chunk.iter().map(|(key, _)| key.as_slice()).collect();
        let times: Vec<Timestamp> = chunk.iter().map(|(_, index)| truncate(keys[*index].seen_at)).collect();
        let reports: Vec<Uuid> = chunk.iter().map(|(_, index)| keys[*index].report_id).collect();
        for row in client.query(&statement, &[&names, &times, &reports, &window_start]).await? {
            new.insert(row.try_get(0)?);
        }
    }
    for (key, index) in first {
        duplicate[index] = !new.contains(&key);
    }
    Ok(duplicate)
}

/// Forgets up to `batch` keys seen before `before`; returns how many.
pub(crate) async fn dedup_purge<C: GenericClient>(client: &C, before: Timestamp, batch: u64) -> Result<u64> {
    let statement = client
        .prepare_cached(
            "DELETE FROM dedup_keys
             WHERE key IN (SELECT key FROM dedup_keys WHERE seen_at < $1 LIMIT $2)",
        )
        .await?;
    Ok(client.execute(&statement, &[&truncate(before), &to_i64(batch, "batch")?]).await?)
}

// Notifications.

pub(crate) async fn pending_notifications<C: GenericClient>(
    client: &C,
    org_id: Option<Uuid>,
    limit: u32,
) -> Result<Vec<(Uuid, Uuid)>> {
    let rows = match org_id {
        Some(org_id) => {
            let statement = client
                .prepare_cached(
                    "SELECT org_id, event_id FROM notification_queue
                     WHERE taken_at IS NULL AND org_id = $1
                     ORDER BY id
                     LIMIT $2",
                )
                .await?;
            client.query(&statement, &[&org_id, &page(limit)]).await?
        }
        None => {
            let statement = client
                .prepare_cached(
                    "SELECT org_id, event_id FROM notification_queue
                     WHERE taken_at IS NULL
                     ORDER BY id
                     LIMIT $1",
                )
                .await?;
            client.query(&statement, &[&page(limit)]).await?
        }
    };
    rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).collect()
}

/// Events by day and type, and by organisation, from the rollups.
pub(crate) async fn event_counts<C: GenericClient>(
    client: &C,
    query: &EventCountQuery,
) -> Result<EventCounts> {
    let since = since_day(query.since);
    let kind_of = |row: &Row, typed: usize| -> Result<Option<String>> {
        Ok(if row.try_get::<_, bool>(typed)? { Some(row.try_get(typed + 1)?) } else { None })
    };
    let Some(org_ids) = &query.org_ids else {
        let statement = client
            .prepare_cached(
                "SELECT day, typed, classification_type, events FROM event_day_counts
                 WHERE day >= $1 AND events <> 0
                 ORDER BY day, typed, classification_type",
            )
            .await?;
        let rows = client.query(&statement, &[&since]).await?;
        let mut by_day = Vec::with_capacity(rows.len());
        for row in &rows {
            by_day.push(DayCount {
                day: row.try_get(0)?,
                classification_type: kind_of(row, 1)?,
                events: to_u64("events", row.try_get(3)?)?,
            });
        }
        let statement = client
            .prepare_cached(
                "SELECT org_id, sum(events)::bigint FROM event_org_day_counts WHERE day >= $1
                 GROUP BY org_id HAVING sum(events) > 0 ORDER BY 2 DESC, 1",
            )
            .await?;
        let rows = client.query(&statement, &[&since]).await?;
        let mut by_org = Vec::with_capacity(rows.len());
        for row in &rows {
            by_org.push((row.try_get(0)?, to_u64("events", row.try_get(1)?)?));
        }
        return Ok(EventCounts { by_day, by_org });
    };
    if org_ids.is_empty() {
        return Ok(EventCounts::default());
    }
    let statement = client
        .prepare_cached(
            "SELECT org_id, day, typed, classification_type, shared, events FROM event_org_day_counts
             WHERE org_id = ANY($1) AND day >= $2",
        )
        .await?;
    let mut rows = Vec::new();
    for row in &client.query(&statement, &[org_ids, &since]).await? {
        rows.push(OrgDayRow {
            org_id: row.try_get(0)?,
            day: row.try_get(1)?,
            classification_type: kind_of(row, 2)?,
            shared: row.try_get(4)?,
            events: row.try_get(5)?,
        });
    }
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
