//! Incidents, incident reports, e-mail intake and evidence custody on SQLite.
//!
//! Domain objects are kept as JSON (`body`); the columns beside them are what queries filter and
//! sort on. Writes run inside the caller's write transaction, which the single writer
//! connection serialises, so an update guarded by its expected version cannot interleave with
//! another.

use neretva_incident::evidence::{CustodyEvent, CustodyRecord, Evidence, Sha256, next_custody};
use neretva_incident::link::Link;
use neretva_incident::observable::{Observable, ObservableEntry};
use neretva_incident::playbook::Task;
use neretva_incident::timeline::TimelineEntry;
use neretva_model::Timestamp;
use neretva_model::audit::{AuditEvent, digest_json};
use neretva_store::StoreError;
use neretva_store::incidents::{
    BlobRef, Children, IncidentOrder, IncidentQuery, IncidentReportQuery, IncidentScope, IncidentWrite,
    IntakeQuery, MAX_MATCHES, MatchAddition, MatchSummary, MatchedEvent, MatchesAdded, ObservableMatches,
    ReportChannel, StoredIncident, StoredIncidentReport, StoredIntake, StoredObservable, like_pattern,
    page_limit, search_text,
};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use uuid::Uuid;

use crate::codec::{Result, check_text, json_col, micros, opt_time_col, time_col, truncate, uuid_col};
use crate::ops::append_audit;

/// The longest search text accepted.
const MAX_TEXT_FILTER: usize = 1_000;

/// The queue position of an incident without an open deadline: after every due time.
const NO_DUE: i64 = i64::MAX;

/// The statuses of incidents still being handled (the queue's).
const OPEN_STATUSES: &str = "('new', 'triage', 'in_progress')";

fn audit(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    action: &str,
    kind: &str,
    id: &str,
    digest: String,
) -> Result<()> {
    let event = AuditEvent {
        actor: actor.to_owned(),
        action: action.to_owned(),
        object_type: kind.to_owned(),
        object_id: id.to_owned(),
        digest,
    };
    append_audit(conn, at, event)?;
    Ok(())
}

fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    Ok(serde_json::to_string(value)?)
}

// Incidents.

const INCIDENT_COLUMNS: &str = "i.version, i.queue_due, i.body, i.deadlines";

fn incident_from_row(row: &Row<'_>) -> rusqlite::Result<StoredIncident> {
    let queue_due: i64 = row.get(1)?;
    let next_due = if queue_due == NO_DUE {
        None
    } else {
        Timestamp::from_unix_timestamp_nanos(i128::from(queue_due) * 1000).ok()
    };
    let deadlines: Option<String> = row.get(3)?;
    let deadlines = match deadlines {
        Some(text) => Some(serde_json::from_str(&text).map_err(|error| {
            rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, Box::new(error))
        })?),
        None => None,
    };
    Ok(StoredIncident { incident: json_col(row, 2)?, version: row.get(0)?, deadlines, next_due })
}

pub(crate) fn get_incident(conn: &Connection, id: Uuid) -> Result<Option<StoredIncident>> {
    let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents i WHERE i.id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id.to_string()], incident_from_row).optional()?)
}

fn check_incident_text(write: &IncidentWrite) -> Result<()> {
    check_text("title", &write.incident.title)?;
    check_text("description", &write.incident.description)?;
    for entry in &write.timeline {
        check_text("timeline", &json(entry)?)?;
    }
    for task in &write.tasks {
        check_text("tasks.title", &task.title)?;
        check_text("tasks.description", &task.description)?;
    }
    for observable in &write.observables {
        check_text("observables.value", observable.entry.observable.value())?;
        if let Some(note) = &observable.entry.note {
            check_text("observables.note", note)?;
        }
    }
    for item in &write.evidence {
        check_text("evidence", &json(item)?)?;
    }
    Ok(())
}

/// Applies one write; returns the incident as stored.
fn write_incident(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    write: &IncidentWrite,
) -> Result<StoredIncident> {
    check_incident_text(write)?;
    let incident = &write.incident;
    let id = incident.id.to_string();
    let queue_due = write.next_due.map_or(NO_DUE, |due| micros(truncate(due)));
    let deadlines = write.deadlines.as_ref().map(json).transpose()?;
    let body = json(incident)?;
    let version = match write.expected_version {
        None => {
            conn.prepare_cached(
                "INSERT INTO incidents (id, version, status, severity, classification, tlp, assignee_id,
                     merged, created_at, queue_due, body, deadlines)
                 VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                id,
                incident.status.as_str(),
                incident.severity.as_str(),
                incident.classification.slug(),
                incident.tlp.slug(),
                incident.assignee.map(|user| user.to_string()),
                incident.merged_into.is_some(),
                micros(truncate(incident.created_at)),
                queue_due,
                body,
                deadlines,
            ])?;
            1
        }
        Some(expected) => {
            let changed = conn
                .prepare_cached(
                    "UPDATE incidents SET version = version + 1, status = ?3, severity = ?4,
                         classification = ?5, tlp = ?6, assignee_id = ?7, merged = ?8, queue_due = ?9,
                         body = ?10, deadlines = ?11
                     WHERE id = ?1 AND version = ?2",
                )?
                .execute(params![
                    id,
                    expected,
                    incident.status.as_str(),
                    incident.severity.as_str(),
                    incident.classification.slug(),
                    incident.tlp.slug(),
                    incident.assignee.map(|user| user.to_string()),
                    incident.merged_into.is_some(),
                    queue_due,
                    body,
                    deadlines,
                ])?;
            if changed == 0 {
                return Err(match get_incident(conn, incident.id)? {
                    None => StoreError::not_found("incident", incident.id),
                    Some(stored) => version_conflict(incident.id, stored.version),
                }
                .into());
            }
            expected + 1
        }
    };
    conn.prepare_cached("DELETE FROM incident_orgs WHERE incident_id = ?1")?.execute([&id])?;
    for org in incident.reporter_org.iter().chain(&incident.affected_orgs) {
        conn.prepare_cached("INSERT OR IGNORE INTO incident_orgs (org_id, incident_id) VALUES (?1, ?2)")?
            .execute(params![org.to_string(), id])?;
    }
    if write.children == Children::Replace {
        for table in ["incident_timeline", "incident_tasks", "incident_observables", "evidence"] {
            conn.prepare_cached(&format!("DELETE FROM {table} WHERE incident_id = ?1"))?.execute([&id])?;
        }
        conn.prepare_cached("DELETE FROM incident_links WHERE from_id = ?1 OR to_id = ?1")?.execute([&id])?;
    }
    for entry in &write.timeline {
        conn.prepare_cached("INSERT INTO incident_timeline (incident_id, at, body) VALUES (?1, ?2, ?3)")?
            .execute(params![id, micros(truncate(entry.at)), json(entry)?])?;
    }
    for task in &write.tasks {
        conn.prepare_cached(
            "INSERT INTO incident_tasks (id, incident_id, body) VALUES (?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET incident_id = excluded.incident_id, body = excluded.body",
        )?
        .execute(params![task.id.to_string(), id, json(task)?])?;
    }
    for observable in &write.removed_observables {
        conn.prepare_cached(
            "DELETE FROM incident_observables WHERE incident_id = ?1 AND kind = ?2 AND value = ?3",
        )?
        .execute(params![id, observable.kind().as_str(), observable.value()])?;
    }
    for observable in &write.observables {
        let entry = &observable.entry;
        conn.prepare_cached(
            "INSERT INTO incident_observables (incident_id, kind, value, body) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (incident_id, kind, value) DO UPDATE SET body = excluded.body",
        )?
        .execute(params![
            id,
            entry.observable.kind().as_str(),
            entry.observable.value(),
            json(entry)?
        ])?;
        if let Some(matches) = &observable.matches {
            store_matches(conn, &entry.observable, matches)?;
        }
    }
    for link in &write.removed_links {
        let link = link.canonical();
        conn.prepare_cached("DELETE FROM incident_links WHERE from_id = ?1 AND to_id = ?2")?
            .execute(params![link.from.to_string(), link.to.to_string()])?;
    }
    for link in &write.links {
        let link = link.canonical();
        let inserted = conn
            .prepare_cached(
                "INSERT OR IGNORE INTO incident_links (from_id, to_id, kind) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![link.from.to_string(), link.to.to_string(), json(&link.kind)?])?;
        if inserted == 0 && write.children == Children::Append {
            return Err(StoreError::conflict("link", "the incidents are already linked").into());
        }
    }
    for item in &write.evidence {
        let exists = conn
            .prepare_cached("SELECT 1 FROM evidence WHERE incident_id = ?1 AND sha256 = ?2")?
            .query_row(params![id, item.sha256.to_string()], |_| Ok(()))
            .optional()?
            .is_some();
        if exists {
            if write.children == Children::Append {
                return Err(StoreError::conflict("sha256", "the incident already has this evidence").into());
            }
            continue;
        }
        conn.prepare_cached(
            "INSERT INTO evidence (incident_id, sha256, size, body) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![
            id,
            item.sha256.to_string(),
            crate::codec::to_i64(item.size, "size")?,
            json(item)?
        ])?;
    }
    for record in &write.custody {
        insert_custody(conn, record)?;
    }
    let values: Vec<String> = {
        let mut statement = conn
            .prepare_cached("SELECT value FROM incident_observables WHERE incident_id = ?1 ORDER BY seq")?;
        let rows = statement.query_map([&id], |row| row.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let values: Vec<&str> = values.iter().map(String::as_str).collect();
    conn.prepare_cached(
        "INSERT INTO incident_search (incident_id, text) VALUES (?1, ?2)
         ON CONFLICT (incident_id) DO UPDATE SET text = excluded.text",
    )?
    .execute(params![id, search_text(incident, &values)])?;
    audit(conn, at, actor, &write.action, "incident", &id, digest_json(incident))?;
    Ok(StoredIncident {
        incident: incident.clone(),
        version,
        deadlines: write.deadlines.clone(),
        next_due: write.next_due.map(truncate),
    })
}

fn version_conflict(id: Uuid, version: i64) -> StoreError {
    StoreError::conflict(
        "version",
        format!(
            "incident {id} changed since it was read (it is at version {version}); reload it and try again"
        ),
    )
}

pub(crate) fn write_incidents(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    writes: &[IncidentWrite],
) -> Result<Vec<StoredIncident>> {
    writes.iter().map(|write| write_incident(conn, at, actor, write)).collect()
}

/// Narrows an incident query to what a scope may see (see `IncidentScope`).
fn scope_condition(filters: &mut Filters, scope: &IncidentScope) -> Result<String> {
    let mut alternatives = vec!["i.tlp IN ('clear', 'green')".to_owned()];
    if let Some(user) = scope.user_id {
        let user = filters.bind(user.to_string());
        alternatives.push(format!("i.assignee_id = {user}"));
    }
    if !scope.org_ids.is_empty() {
        let ids: Vec<String> = scope.org_ids.iter().map(Uuid::to_string).collect();
        let ids = filters.bind(serde_json::to_string(&ids)?);
        alternatives.push(format!(
            "EXISTS (SELECT 1 FROM incident_orgs o WHERE o.incident_id = i.id
                     AND o.org_id IN (SELECT value FROM json_each({ids})))"
        ));
    }
    if !scope.sectors.is_empty() {
        let sectors = filters.bind(serde_json::to_string(&scope.sectors)?);
        alternatives.push(format!(
            "EXISTS (SELECT 1 FROM incident_orgs o JOIN organisations g ON g.id = o.org_id
                     WHERE o.incident_id = i.id AND g.sector IN (SELECT value FROM json_each({sectors})))"
        ));
    }
    Ok(format!("({})", alternatives.join(" OR ")))
}

pub(crate) fn list_incidents(conn: &Connection, query: &IncidentQuery) -> Result<Vec<StoredIncident>> {
    let mut filters = Filters::default();
    if !query.statuses.is_empty() {
        let statuses: Vec<&str> = query.statuses.iter().map(|status| status.as_str()).collect();
        let statuses = filters.bind(serde_json::to_string(&statuses)?);
        filters.and(&format!("i.status IN (SELECT value FROM json_each({statuses}))"));
    }
    if let Some(severity) = query.severity {
        let severity = filters.bind(severity.as_str().to_owned());
        filters.and(&format!("i.severity = {severity}"));
    }
    if let Some(classification) = query.classification {
        let classification = filters.bind(classification.slug().to_owned());
        filters.and(&format!("i.classification = {classification}"));
    }
    if let Some(assignee) = query.assignee {
        let assignee = filters.bind(assignee.to_string());
        filters.and(&format!("i.assignee_id = {assignee}"));
    }
    if let Some(org) = query.org_id {
        let org = filters.bind(org.to_string());
        filters.and(&format!("i.id IN (SELECT incident_id FROM incident_orgs WHERE org_id = {org})"));
    }
    if let Some(since) = query.created_since {
        let since = filters.bind(micros(truncate(since)));
        filters.and(&format!("i.created_at >= {since}"));
    }
    if let Some(until) = query.created_until {
        let until = filters.bind(micros(truncate(until)));
        filters.and(&format!("i.created_at < {until}"));
    }
    if let Some(due) = query.due_before {
        let due = filters.bind(micros(truncate(due)));
        filters.and(&format!("i.queue_due < {due}"));
    }
    if query.exclude_merged {
        filters.and("i.merged = 0");
    }
    if let Some(observable) = &query.observable {
        let kind = filters.bind(observable.kind().as_str().to_owned());
        let value = filters.bind(observable.value().to_owned());
        filters.and(&format!(
            "i.id IN (SELECT incident_id FROM incident_observables WHERE kind = {kind} AND value = {value})"
        ));
    }
    if let Some(text) = &query.text {
        if text.len() > MAX_TEXT_FILTER {
            return Err(StoreError::conflict("text", format!("at most {MAX_TEXT_FILTER} bytes")).into());
        }
        check_text("text", text)?;
        let pattern = filters.bind(like_pattern(text));
        filters.and(&format!(
            "i.id IN (SELECT incident_id FROM incident_search WHERE text LIKE {pattern} ESCAPE '\\')"
        ));
    }
    if let Some(scope) = &query.scope {
        let condition = scope_condition(&mut filters, scope)?;
        filters.and(&condition);
    }
    let order = match query.order {
        IncidentOrder::Newest => {
            if let Some(after) = query.after {
                let before = filters.bind(after.id.to_string());
                filters.and(&format!("i.id < {before}"));
            }
            "i.id DESC"
        }
        IncidentOrder::Queue => {
            filters.and(&format!("i.status IN {OPEN_STATUSES}"));
            if let Some(after) = query.after {
                let due = filters.bind(after.next_due.map_or(NO_DUE, |due| micros(truncate(due))));
                let id = filters.bind(after.id.to_string());
                filters.and(&format!("(i.queue_due > {due} OR (i.queue_due = {due} AND i.id > {id}))"));
            }
            "i.queue_due, i.id"
        }
    };
    let limit = filters.bind(i64::from(page_limit(query.limit)));
    let sql = format!(
        "SELECT {INCIDENT_COLUMNS} FROM incidents i WHERE true{} ORDER BY {order} LIMIT {limit}",
        filters.sql
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map(params_from_iter(&filters.values), incident_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[derive(Default)]
struct Filters {
    sql: String,
    values: Vec<Value>,
}

impl Filters {
    fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        format!("?{}", self.values.len())
    }

    fn and(&mut self, condition: &str) {
        self.sql.push_str(" AND ");
        self.sql.push_str(condition);
    }
}

fn bodies<T: serde::de::DeserializeOwned>(conn: &Connection, sql: &str, id: Uuid) -> Result<Vec<T>> {
    let mut statement = conn.prepare_cached(sql)?;
    let rows = statement.query_map([id.to_string()], |row| json_col(row, 0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn incident_timeline(conn: &Connection, id: Uuid) -> Result<Vec<TimelineEntry>> {
    bodies(conn, "SELECT body FROM incident_timeline WHERE incident_id = ?1 ORDER BY at, seq", id)
}

pub(crate) fn incident_tasks(conn: &Connection, id: Uuid) -> Result<Vec<Task>> {
    bodies(conn, "SELECT body FROM incident_tasks WHERE incident_id = ?1 ORDER BY seq", id)
}

pub(crate) fn incident_evidence(conn: &Connection, id: Uuid) -> Result<Vec<Evidence>> {
    bodies(conn, "SELECT body FROM evidence WHERE incident_id = ?1 ORDER BY seq", id)
}

pub(crate) fn incident_observables(conn: &Connection, id: Uuid) -> Result<Vec<StoredObservable>> {
    let mut statement = conn.prepare_cached(
        "SELECT o.body, m.total, m.complete, m.matched_at
         FROM incident_observables o
         LEFT JOIN observable_matches m ON m.kind = o.kind AND m.value = o.value
         WHERE o.incident_id = ?1 ORDER BY o.seq",
    )?;
    let rows = statement.query_map([id.to_string()], |row| {
        let entry: ObservableEntry = json_col(row, 0)?;
        let total: Option<i64> = row.get(1)?;
        let matches = match (total, opt_time_col(row, 3)?) {
            (Some(total), Some(matched_at)) => Some(MatchSummary {
                total: u64::try_from(total).unwrap_or_default(),
                complete: row.get(2)?,
                matched_at,
            }),
            _ => None,
        };
        Ok(StoredObservable { incident_id: id, entry, matches })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn store_matches(conn: &Connection, observable: &Observable, matches: &ObservableMatches) -> Result<()> {
    let (kind, value) = (observable.kind().as_str(), observable.value());
    conn.prepare_cached("DELETE FROM observable_events WHERE kind = ?1 AND value = ?2")?
        .execute(params![kind, value])?;
    for matched in matches.events.iter().take(MAX_MATCHES) {
        conn.prepare_cached(
            "INSERT OR REPLACE INTO observable_events (kind, value, event_id, fields) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![kind, value, matched.event_id.to_string(), json(&matched.fields)?])?;
    }
    let summary = &matches.summary;
    conn.prepare_cached(
        "INSERT INTO observable_matches (kind, value, total, complete, matched_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (kind, value) DO UPDATE SET total = excluded.total, complete = excluded.complete,
             matched_at = excluded.matched_at",
    )?
    .execute(params![
        kind,
        value,
        crate::codec::to_i64(summary.total, "total")?,
        summary.complete,
        micros(truncate(summary.matched_at))
    ])?;
    Ok(())
}

pub(crate) fn observable_matches(
    conn: &Connection,
    observable: &Observable,
) -> Result<Option<ObservableMatches>> {
    let (kind, value) = (observable.kind().as_str(), observable.value());
    let summary = conn
        .prepare_cached(
            "SELECT total, complete, matched_at FROM observable_matches WHERE kind = ?1 AND value = ?2",
        )?
        .query_row(params![kind, value], |row| {
            Ok(MatchSummary {
                total: u64::try_from(row.get::<_, i64>(0)?).unwrap_or_default(),
                complete: row.get(1)?,
                matched_at: time_col(row, 2)?,
            })
        })
        .optional()?;
    let Some(summary) = summary else { return Ok(None) };
    let mut statement = conn.prepare_cached(
        "SELECT event_id, fields FROM observable_events WHERE kind = ?1 AND value = ?2 ORDER BY event_id DESC",
    )?;
    let rows = statement.query_map(params![kind, value], |row| {
        Ok(MatchedEvent { event_id: uuid_col(row, 0)?, fields: json_col(row, 1)? })
    })?;
    let events = rows.collect::<rusqlite::Result<_>>()?;
    Ok(Some(ObservableMatches { events, summary }))
}

pub(crate) fn open_observables(conn: &Connection, limit: u32) -> Result<Vec<Observable>> {
    let limit = if limit == 0 { 100_000 } else { limit };
    let sql = format!(
        "SELECT o.body FROM incident_observables o JOIN incidents i ON i.id = o.incident_id
         WHERE i.status IN {OPEN_STATUSES} AND i.merged = 0
         GROUP BY o.kind, o.value ORDER BY min(o.seq) LIMIT ?1"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map([i64::from(limit)], |row| json_col::<ObservableEntry>(row, 0))?;
    Ok(rows.map(|entry| entry.map(|entry| entry.observable)).collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn add_observable_matches(
    conn: &Connection,
    now: Timestamp,
    at: Timestamp,
    actor: &str,
    additions: &[MatchAddition],
) -> Result<Vec<MatchesAdded>> {
    let mut outcome = Vec::with_capacity(additions.len());
    for addition in additions {
        let (kind, value) = (addition.observable.kind().as_str(), addition.observable.value());
        let linked: i64 = conn
            .prepare_cached("SELECT count(*) FROM observable_events WHERE kind = ?1 AND value = ?2")?
            .query_row(params![kind, value], |row| row.get(0))?;
        let mut room = MAX_MATCHES.saturating_sub(usize::try_from(linked).unwrap_or(MAX_MATCHES));
        let mut added = MatchesAdded::default();
        for matched in &addition.events {
            let known = conn
                .prepare_cached(
                    "SELECT 1 FROM observable_events WHERE kind = ?1 AND value = ?2 AND event_id = ?3",
                )?
                .query_row(params![kind, value, matched.event_id.to_string()], |_| Ok(()))
                .optional()?
                .is_some();
            if known {
                continue;
            }
            if room == 0 {
                added.over_limit += 1;
                continue;
            }
            conn.prepare_cached(
                "INSERT INTO observable_events (kind, value, event_id, fields) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                kind,
                value,
                matched.event_id.to_string(),
                json(&matched.fields)?
            ])?;
            room -= 1;
            added.linked += 1;
        }
        if added.linked > 0 || added.over_limit > 0 {
            conn.prepare_cached(
                "INSERT INTO observable_matches (kind, value, total, complete, matched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (kind, value) DO UPDATE SET total = total + excluded.total,
                     complete = complete AND excluded.complete, matched_at = excluded.matched_at",
            )?
            .execute(params![
                kind,
                value,
                crate::codec::to_i64(added.linked + added.over_limit, "total")?,
                added.over_limit == 0,
                micros(truncate(at))
            ])?;
        }
        outcome.push(added);
    }
    let linked: u64 = outcome.iter().map(|added| added.linked).sum();
    if linked > 0 {
        let object = format!("{linked} events to {} observables", additions.len());
        let digest = neretva_model::audit::digest_hex(object.as_bytes());
        audit(conn, now, actor, "incident.observables.rematch", "observable", &object, digest)?;
    }
    Ok(outcome)
}

pub(crate) fn incident_links(conn: &Connection, id: Uuid) -> Result<Vec<Link>> {
    let mut statement = conn.prepare_cached(
        "SELECT from_id, to_id, kind FROM incident_links WHERE from_id = ?1 OR to_id = ?1 ORDER BY from_id, to_id",
    )?;
    let rows = statement.query_map([id.to_string()], |row| {
        Ok(Link { from: uuid_col(row, 0)?, to: uuid_col(row, 1)?, kind: json_col(row, 2)? })
    })?;
    let links: Vec<Link> = rows.collect::<rusqlite::Result<_>>()?;
    Ok(links.into_iter().filter_map(|link| link.seen_from(id)).collect())
}

// Custody.

fn insert_custody(conn: &Connection, record: &CustodyRecord) -> Result<()> {
    let inserted = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO evidence_custody (incident_id, sha256, seq, body) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![
            record.event.incident_id.to_string(),
            record.event.sha256.to_string(),
            crate::codec::to_i64(record.seq, "seq")?,
            json(record)?
        ])?;
    if inserted == 0 {
        return Err(StoreError::conflict("seq", "the custody chain changed; try again").into());
    }
    Ok(())
}

pub(crate) fn custody(conn: &Connection, incident_id: Uuid, sha256: &Sha256) -> Result<Vec<CustodyRecord>> {
    let mut statement = conn.prepare_cached(
        "SELECT body FROM evidence_custody WHERE incident_id = ?1 AND sha256 = ?2 ORDER BY seq",
    )?;
    let rows =
        statement.query_map(params![incident_id.to_string(), sha256.to_string()], |row| json_col(row, 0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn record_custody(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    event: &CustodyEvent,
) -> Result<CustodyRecord> {
    if let Some(detail) = &event.detail {
        check_text("detail", detail)?;
    }
    let (incident, sha256) = (event.incident_id.to_string(), event.sha256.to_string());
    let held = conn
        .prepare_cached("SELECT 1 FROM evidence WHERE incident_id = ?1 AND sha256 = ?2")?
        .query_row(params![incident, sha256], |_| Ok(()))
        .optional()?
        .is_some();
    if !held {
        return Err(StoreError::not_found("evidence", format!("{sha256} of incident {incident}")).into());
    }
    let last: Option<CustodyRecord> = conn
        .prepare_cached(
            "SELECT body FROM evidence_custody WHERE incident_id = ?1 AND sha256 = ?2 ORDER BY seq DESC LIMIT 1",
        )?
        .query_row(params![incident, sha256], |row| json_col(row, 0))
        .optional()?;
    let record = next_custody(last.as_ref(), event.clone());
    insert_custody(conn, &record)?;
    audit(
        conn,
        at,
        actor,
        &format!("evidence.{}", event.action.as_str()),
        "evidence",
        &format!("{incident}/{sha256}"),
        record.hash.clone(),
    )?;
    Ok(record)
}

pub(crate) fn blobs(conn: &Connection) -> Result<Vec<BlobRef>> {
    let mut statement = conn.prepare_cached(
        "SELECT sha256, max(size) FROM (
             SELECT sha256, size FROM evidence
             UNION ALL SELECT raw_sha256, raw_size FROM mail_intake
         ) GROUP BY sha256 ORDER BY sha256",
    )?;
    let rows = statement.query_map([], |row| {
        let text: String = row.get(0)?;
        let size: i64 = row.get(1)?;
        Ok((text, size))
    })?;
    let mut blobs = Vec::new();
    for row in rows {
        let (text, size) = row?;
        let sha256 =
            text.parse::<Sha256>().map_err(|error| StoreError::Backend(format!("stored digest: {error}")))?;
        blobs.push(BlobRef { sha256, size: u64::try_from(size).unwrap_or_default() });
    }
    Ok(blobs)
}

// Incident reports.

const REPORT_COLUMNS: &str =
    "r.id, r.incident_id, r.org_id, r.submitted_by, r.channel, r.received_at, r.body";

fn report_from_row(row: &Row<'_>) -> rusqlite::Result<StoredIncidentReport> {
    let channel: String = row.get(4)?;
    Ok(StoredIncidentReport {
        id: uuid_col(row, 0)?,
        incident_id: uuid_col(row, 1)?,
        org_id: crate::codec::opt_uuid_col(row, 2)?,
        submitted_by: crate::codec::opt_uuid_col(row, 3)?,
        channel: ReportChannel::parse(&channel).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, channel.into())
        })?,
        received_at: time_col(row, 5)?,
        report: json_col(row, 6)?,
    })
}

pub(crate) fn submit_incident_report(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    report: &StoredIncidentReport,
    writes: &[IncidentWrite],
) -> Result<StoredIncidentReport> {
    write_incidents(conn, at, actor, writes)?;
    let body = json(&report.report)?;
    check_text("report", &body)?;
    conn.prepare_cached(
        "INSERT INTO incident_reports (id, incident_id, org_id, submitted_by, channel, stage, tlp, received_at, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        report.id.to_string(),
        report.incident_id.to_string(),
        report.org_id.map(|id| id.to_string()),
        report.submitted_by.map(|id| id.to_string()),
        report.channel.as_str(),
        report.report.stage.kind().as_str(),
        report.report.tlp.slug(),
        micros(truncate(report.received_at)),
        body,
    ])?;
    audit(
        conn,
        at,
        actor,
        "incident_report.submit",
        "incident_report",
        &report.id.to_string(),
        digest_json(&report.report),
    )?;
    Ok(StoredIncidentReport { received_at: truncate(report.received_at), ..report.clone() })
}

pub(crate) fn get_incident_report(conn: &Connection, id: Uuid) -> Result<Option<StoredIncidentReport>> {
    let sql = format!("SELECT {REPORT_COLUMNS} FROM incident_reports r WHERE r.id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id.to_string()], report_from_row).optional()?)
}

pub(crate) fn list_incident_reports(
    conn: &Connection,
    query: &IncidentReportQuery,
) -> Result<Vec<StoredIncidentReport>> {
    let mut filters = Filters::default();
    if let Some(incident) = query.incident_id {
        let incident = filters.bind(incident.to_string());
        filters.and(&format!("r.incident_id = {incident}"));
    }
    if let Some(scope) = &query.scope {
        let mut alternatives = vec!["r.tlp IN ('clear', 'green')".to_owned()];
        if !scope.org_ids.is_empty() {
            let ids: Vec<String> = scope.org_ids.iter().map(Uuid::to_string).collect();
            let ids = filters.bind(serde_json::to_string(&ids)?);
            alternatives.push(format!("r.org_id IN (SELECT value FROM json_each({ids}))"));
        }
        if !scope.sectors.is_empty() {
            let sectors = filters.bind(serde_json::to_string(&scope.sectors)?);
            alternatives.push(format!(
                "r.org_id IN (SELECT g.id FROM organisations g WHERE g.sector IN (SELECT value FROM json_each({sectors})))"
            ));
        }
        filters.and(&format!("({})", alternatives.join(" OR ")));
    }
    if let Some(before) = query.before {
        let before = filters.bind(before.to_string());
        filters.and(&format!("r.id < {before}"));
    }
    let limit = filters.bind(i64::from(page_limit(query.limit)));
    let sql = format!(
        "SELECT {REPORT_COLUMNS} FROM incident_reports r WHERE true{} ORDER BY r.id DESC LIMIT {limit}",
        filters.sql
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map(params_from_iter(&filters.values), report_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

// E-mail intake.

fn intake_from_row(row: &Row<'_>) -> rusqlite::Result<StoredIntake> {
    Ok(StoredIntake { record: json_col(row, 0)?, incident_id: crate::codec::opt_uuid_col(row, 1)? })
}

pub(crate) fn record_intake(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    intake: &StoredIntake,
    writes: &[IncidentWrite],
) -> Result<StoredIntake> {
    write_incidents(conn, at, actor, writes)?;
    let record = &intake.record;
    let body = json(record)?;
    check_text("intake", &body)?;
    conn.prepare_cached(
        "INSERT INTO mail_intake (id, received_at, failed, incident_id, raw_sha256, raw_size, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        record.id.to_string(),
        micros(truncate(record.received_at)),
        record.mail().is_none(),
        intake.incident_id.map(|id| id.to_string()),
        record.raw_sha256.to_string(),
        crate::codec::to_i64(record.raw_size, "raw_size")?,
        body,
    ])?;
    audit(
        conn,
        at,
        actor,
        "mail_intake.record",
        "mail_intake",
        &record.id.to_string(),
        record.raw_sha256.to_string(),
    )?;
    Ok(intake.clone())
}

pub(crate) fn get_intake(conn: &Connection, id: Uuid) -> Result<Option<StoredIntake>> {
    Ok(conn
        .prepare_cached("SELECT body, incident_id FROM mail_intake WHERE id = ?1")?
        .query_row([id.to_string()], intake_from_row)
        .optional()?)
}

pub(crate) fn list_intakes(conn: &Connection, query: &IntakeQuery) -> Result<Vec<StoredIntake>> {
    let mut statement = conn.prepare_cached(
        "SELECT body, incident_id FROM mail_intake
         WHERE (?1 IS NULL OR failed = ?1) AND (?2 IS NULL OR id < ?2)
         ORDER BY id DESC LIMIT ?3",
    )?;
    let rows = statement.query_map(
        params![query.failed, query.before.map(|id| id.to_string()), i64::from(page_limit(query.limit))],
        intake_from_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
