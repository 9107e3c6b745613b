//! Incidents, incident reports, e-mail intake and evidence custody on PostgreSQL.
//!
//! Domain objects are kept as jsonb (`body`); the columns beside them are what queries filter
//! and sort on. Writes run inside the caller's transaction after it locked the audit head, which
//! serialises writers across processes, so an update guarded by its expected version cannot
//! interleave with another.

use deadpool_postgres::GenericClient;
use neretva_incident::evidence::{CustodyEvent, CustodyRecord, Evidence, Sha256, next_custody};
use neretva_incident::link::{Link, LinkKind};
use neretva_incident::observable::{Observable, ObservableEntry};
use neretva_incident::playbook::Task;
use neretva_incident::timeline::TimelineEntry;
use neretva_model::Timestamp;
use neretva_model::audit::{AuditEvent, digest_json};
use neretva_store::StoreError;
use neretva_store::incidents::{
    BlobRef, Children, IncidentOrder, IncidentQuery, IncidentReportQuery, IncidentScope, IncidentWrite,
    IntakeQuery, MAX_MATCHES, MatchSummary, MatchedEvent, ObservableMatches, ReportChannel, StoredIncident,
    StoredIncidentReport, StoredIntake, StoredObservable, like_pattern, page_limit, search_text,
};
use tokio_postgres::Row;
use tokio_postgres::types::{Json, ToSql};
use uuid::Uuid;

use crate::codec::{Error, Result, check_text, to_i64, truncate};
use crate::ops::append_audit;

/// The longest search text accepted.
const MAX_TEXT_FILTER: usize = 1_000;

async fn audit<C: GenericClient>(
    client: &C,
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
    append_audit(client, at, event).await?;
    Ok(())
}

fn backend(what: &str, error: impl std::fmt::Display) -> Error {
    Error(StoreError::Backend(format!("{what}: {error}")))
}

fn body<T: serde::de::DeserializeOwned>(row: &Row, index: usize) -> Result<T> {
    Ok(row.try_get::<_, Json<T>>(index)?.0)
}

fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or_default()
}

// Incidents.

const INCIDENT_COLUMNS: &str = "i.version, i.next_due, i.body, i.deadlines";

fn incident_from_row(row: &Row) -> Result<StoredIncident> {
    let deadlines: Option<Json<_>> = row.try_get(3)?;
    Ok(StoredIncident {
        version: row.try_get(0)?,
        next_due: row.try_get(1)?,
        incident: body(row, 2)?,
        deadlines: deadlines.map(|Json(deadlines)| deadlines),
    })
}

pub(crate) async fn get_incident<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<StoredIncident>> {
    let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents i WHERE i.id = $1");
    let statement = client.prepare_cached(&sql).await?;
    client.query_opt(&statement, &[&id]).await?.as_ref().map(incident_from_row).transpose()
}

fn json_text<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|error| backend("json", error))
}

fn check_incident_text(write: &IncidentWrite) -> Result<()> {
    check_text("title", &write.incident.title)?;
    check_text("description", &write.incident.description)?;
    for entry in &write.timeline {
        check_text("timeline", &json_text(entry)?)?;
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
        check_text("evidence", &json_text(item)?)?;
    }
    Ok(())
}

fn version_conflict(id: Uuid, version: i64) -> StoreError {
    StoreError::conflict(
        "version",
        format!(
            "incident {id} changed since it was read (it is at version {version}); reload it and try again"
        ),
    )
}

async fn write_incident<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    write: &IncidentWrite,
) -> Result<StoredIncident> {
    check_incident_text(write)?;
    let incident = &write.incident;
    let id = incident.id;
    let next_due = write.next_due.map(truncate);
    let deadlines = write.deadlines.as_ref().map(Json);
    let version = match write.expected_version {
        None => {
            let statement = client
                .prepare_cached(
                    "INSERT INTO incidents (id, version, status, severity, classification, tlp, assignee_id,
                         merged, created_at, next_due, body, deadlines)
                     VALUES ($1, 1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .await?;
            client
                .execute(
                    &statement,
                    &[
                        &id,
                        &incident.status.as_str(),
                        &incident.severity.as_str(),
                        &incident.classification.slug(),
                        &incident.tlp.slug(),
                        &incident.assignee,
                        &incident.merged_into.is_some(),
                        &truncate(incident.created_at),
                        &next_due,
                        &Json(incident),
                        &deadlines,
                    ],
                )
                .await?;
            1
        }
        Some(expected) => {
            let statement = client
                .prepare_cached(
                    "UPDATE incidents SET version = version + 1, status = $3, severity = $4,
                         classification = $5, tlp = $6, assignee_id = $7, merged = $8, next_due = $9,
                         body = $10, deadlines = $11
                     WHERE id = $1 AND version = $2",
                )
                .await?;
            let changed = client
                .execute(
                    &statement,
                    &[
                        &id,
                        &expected,
                        &incident.status.as_str(),
                        &incident.severity.as_str(),
                        &incident.classification.slug(),
                        &incident.tlp.slug(),
                        &incident.assignee,
                        &incident.merged_into.is_some(),
                        &next_due,
                        &Json(incident),
                        &deadlines,
                    ],
                )
                .await?;
            if changed == 0 {
                return Err(match get_incident(client, id).await? {
                    None => StoreError::not_found("incident", id),
                    Some(stored) => version_conflict(id, stored.version),
                }
                .into());
            }
            expected + 1
        }
    };
    let statement = client.prepare_cached("DELETE FROM incident_orgs WHERE incident_id = $1").await?;
    client.execute(&statement, &[&id]).await?;
    let insert_org = client
        .prepare_cached(
            "INSERT INTO incident_orgs (org_id, incident_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .await?;
    for org in incident.reporter_org.iter().chain(&incident.affected_orgs) {
        client.execute(&insert_org, &[org, &id]).await?;
    }
    if write.children == Children::Replace {
        for table in ["incident_timeline", "incident_tasks", "incident_observables", "evidence"] {
            let statement =
                client.prepare_cached(&format!("DELETE FROM {table} WHERE incident_id = $1")).await?;
            client.execute(&statement, &[&id]).await?;
        }
        let statement =
            client.prepare_cached("DELETE FROM incident_links WHERE from_id = $1 OR to_id = $1").await?;
        client.execute(&statement, &[&id]).await?;
    }
    if !write.timeline.is_empty() {
        let statement = client
            .prepare_cached("INSERT INTO incident_timeline (incident_id, at, body) VALUES ($1, $2, $3)")
            .await?;
        for entry in &write.timeline {
            client.execute(&statement, &[&id, &truncate(entry.at), &Json(entry)]).await?;
        }
    }
    if !write.tasks.is_empty() {
        let statement = client
            .prepare_cached(
                "INSERT INTO incident_tasks (id, incident_id, body) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET incident_id = excluded.incident_id, body = excluded.body",
            )
            .await?;
        for task in &write.tasks {
            client.execute(&statement, &[&task.id, &id, &Json(task)]).await?;
        }
    }
    for observable in &write.removed_observables {
        let statement = client
            .prepare_cached(
                "DELETE FROM incident_observables WHERE incident_id = $1 AND kind = $2 AND value = $3",
            )
            .await?;
        client.execute(&statement, &[&id, &observable.kind().as_str(), &observable.value()]).await?;
    }
    for observable in &write.observables {
        let entry = &observable.entry;
        let statement = client
            .prepare_cached(
                "INSERT INTO incident_observables (incident_id, kind, value, body) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (incident_id, kind, value) DO UPDATE SET body = excluded.body",
            )
            .await?;
        client
            .execute(
                &statement,
                &[&id, &entry.observable.kind().as_str(), &entry.observable.value(), &Json(entry)],
            )
            .await?;
        if let Some(matches) = &observable.matches {
            store_matches(client, &entry.observable, matches).await?;
        }
    }
    for link in &write.removed_links {
        let link = link.canonical();
        let statement =
            client.prepare_cached("DELETE FROM incident_links WHERE from_id = $1 AND to_id = $2").await?;
        client.execute(&statement, &[&link.from, &link.to]).await?;
    }
    for link in &write.links {
        let link = link.canonical();
        let statement = client
            .prepare_cached(
                "INSERT INTO incident_links (from_id, to_id, kind) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .await?;
        let kind = json_text(&link.kind)?;
        let inserted = client.execute(&statement, &[&link.from, &link.to, &kind]).await?;
        if inserted == 0 && write.children == Children::Append {
            return Err(StoreError::conflict("link", "the incidents are already linked").into());
        }
    }
    for item in &write.evidence {
        let statement = client
            .prepare_cached(
                "INSERT INTO evidence (incident_id, sha256, size, body) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (incident_id, sha256) DO NOTHING",
            )
            .await?;
        let inserted = client
            .execute(&statement, &[&id, &item.sha256.to_string(), &to_i64(item.size, "size")?, &Json(item)])
            .await?;
        if inserted == 0 && write.children == Children::Append {
            return Err(StoreError::conflict("sha256", "the incident already has this evidence").into());
        }
    }
    for record in &write.custody {
        insert_custody(client, record).await?;
    }
    let statement = client
        .prepare_cached("SELECT value FROM incident_observables WHERE incident_id = $1 ORDER BY seq")
        .await?;
    let values: Vec<String> =
        client.query(&statement, &[&id]).await?.iter().map(|row| row.try_get(0)).collect::<Result<_, _>>()?;
    let values: Vec<&str> = values.iter().map(String::as_str).collect();
    let statement = client
        .prepare_cached(
            "INSERT INTO incident_search (incident_id, text) VALUES ($1, $2)
             ON CONFLICT (incident_id) DO UPDATE SET text = excluded.text",
        )
        .await?;
    client.execute(&statement, &[&id, &search_text(incident, &values)]).await?;
    audit(client, at, actor, &write.action, "incident", &id.to_string(), digest_json(incident)).await?;
    Ok(StoredIncident { incident: incident.clone(), version, deadlines: write.deadlines.clone(), next_due })
}

pub(crate) async fn write_incidents<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    writes: &[IncidentWrite],
) -> Result<Vec<StoredIncident>> {
    let mut stored = Vec::with_capacity(writes.len());
    for write in writes {
        stored.push(write_incident(client, at, actor, write).await?);
    }
    Ok(stored)
}

/// Parameters of a query built as it goes.
#[derive(Default)]
struct Filters {
    sql: String,
    values: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Filters {
    fn bind(&mut self, value: impl ToSql + Sync + Send + 'static) -> String {
        self.values.push(Box::new(value));
        format!("${}", self.values.len())
    }

    fn and(&mut self, condition: &str) {
        self.sql.push_str(" AND ");
        self.sql.push_str(condition);
    }

    fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.values.iter().map(|value| &**value as &(dyn ToSql + Sync)).collect()
    }
}

/// Narrows an incident query to what a scope may see (see `IncidentScope`).
fn scope_condition(filters: &mut Filters, scope: &IncidentScope) -> String {
    let mut alternatives = vec!["i.tlp IN ('clear', 'green')".to_owned()];
    if let Some(user) = scope.user_id {
        let user = filters.bind(user);
        alternatives.push(format!("i.assignee_id = {user}"));
    }
    if !scope.org_ids.is_empty() {
        let ids = filters.bind(scope.org_ids.clone());
        alternatives.push(format!(
            "EXISTS (SELECT 1 FROM incident_orgs o WHERE o.incident_id = i.id AND o.org_id = ANY({ids}))"
        ));
    }
    if !scope.sectors.is_empty() {
        let sectors = filters.bind(scope.sectors.clone());
        alternatives.push(format!(
            "EXISTS (SELECT 1 FROM incident_orgs o JOIN organisations g ON g.id = o.org_id
                     WHERE o.incident_id = i.id AND g.sector = ANY({sectors}))"
        ));
    }
    format!("({})", alternatives.join(" OR "))
}

pub(crate) async fn list_incidents<C: GenericClient>(
    client: &C,
    query: &IncidentQuery,
) -> Result<Vec<StoredIncident>> {
    let mut filters = Filters::default();
    if !query.statuses.is_empty() {
        let statuses: Vec<String> = query.statuses.iter().map(|status| status.as_str().to_owned()).collect();
        let statuses = filters.bind(statuses);
        filters.and(&format!("i.status = ANY({statuses})"));
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
        let assignee = filters.bind(assignee);
        filters.and(&format!("i.assignee_id = {assignee}"));
    }
    if let Some(org) = query.org_id {
        let org = filters.bind(org);
        filters.and(&format!("i.id IN (SELECT incident_id FROM incident_orgs WHERE org_id = {org})"));
    }
    if let Some(since) = query.created_since {
        let since = filters.bind(truncate(since));
        filters.and(&format!("i.created_at >= {since}"));
    }
    if let Some(until) = query.created_until {
        let until = filters.bind(truncate(until));
        filters.and(&format!("i.created_at < {until}"));
    }
    if let Some(due) = query.due_before {
        let due = filters.bind(truncate(due));
        filters.and(&format!("i.next_due < {due}"));
    }
    if query.exclude_merged {
        filters.and("NOT i.merged");
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
            "i.id IN (SELECT incident_id FROM incident_search WHERE text COLLATE \"C\" LIKE {pattern} ESCAPE '\\')"
        ));
    }
    if let Some(scope) = &query.scope {
        let condition = scope_condition(&mut filters, scope);
        filters.and(&condition);
    }
    let order = match query.order {
        IncidentOrder::Newest => {
            if let Some(after) = query.after {
                let before = filters.bind(after.id);
                filters.and(&format!("i.id < {before}"));
            }
            "i.id DESC"
        }
        IncidentOrder::Queue => {
            filters.and("i.status IN ('new', 'triage', 'in_progress')");
            if let Some(after) = query.after {
                let id = filters.bind(after.id);
                match after.next_due {
                    Some(due) => {
                        let due = filters.bind(truncate(due));
                        filters.and(&format!(
                            "(i.next_due > {due} OR i.next_due IS NULL OR (i.next_due = {due} AND i.id > {id}))"
                        ));
                    }
                    None => filters.and(&format!("(i.next_due IS NULL AND i.id > {id})")),
                }
            }
            "i.next_due ASC NULLS LAST, i.id"
        }
    };
    let limit = filters.bind(i64::from(page_limit(query.limit)));
    let sql = format!(
        "SELECT {INCIDENT_COLUMNS} FROM incidents i WHERE true{} ORDER BY {order} LIMIT {limit}",
        filters.sql
    );
    let statement = client.prepare_cached(&sql).await?;
    let rows = client.query(&statement, &filters.params()).await?;
    rows.iter().map(incident_from_row).collect()
}

async fn bodies<C: GenericClient, T: serde::de::DeserializeOwned>(
    client: &C,
    sql: &str,
    id: Uuid,
) -> Result<Vec<T>> {
    let statement = client.prepare_cached(sql).await?;
    client.query(&statement, &[&id]).await?.iter().map(|row| body(row, 0)).collect()
}

pub(crate) async fn incident_timeline<C: GenericClient>(client: &C, id: Uuid) -> Result<Vec<TimelineEntry>> {
    bodies(client, "SELECT body FROM incident_timeline WHERE incident_id = $1 ORDER BY at, seq", id).await
}

pub(crate) async fn incident_tasks<C: GenericClient>(client: &C, id: Uuid) -> Result<Vec<Task>> {
    bodies(client, "SELECT body FROM incident_tasks WHERE incident_id = $1 ORDER BY seq", id).await
}

pub(crate) async fn incident_evidence<C: GenericClient>(client: &C, id: Uuid) -> Result<Vec<Evidence>> {
    bodies(client, "SELECT body FROM evidence WHERE incident_id = $1 ORDER BY seq", id).await
}

pub(crate) async fn incident_observables<C: GenericClient>(
    client: &C,
    id: Uuid,
) -> Result<Vec<StoredObservable>> {
    let statement = client
        .prepare_cached(
            "SELECT o.body, m.total, m.complete, m.matched_at
             FROM incident_observables o
             LEFT JOIN observable_matches m ON m.kind = o.kind AND m.value = o.value
             WHERE o.incident_id = $1 ORDER BY o.seq",
        )
        .await?;
    let rows = client.query(&statement, &[&id]).await?;
    rows.iter()
        .map(|row| {
            let entry: ObservableEntry = body(row, 0)?;
            let total: Option<i64> = row.try_get(1)?;
            let complete: Option<bool> = row.try_get(2)?;
            let matched_at: Option<Timestamp> = row.try_get(3)?;
            let matches = match (total, complete, matched_at) {
                (Some(total), Some(complete), Some(matched_at)) => {
                    Some(MatchSummary { total: to_u64(total), complete, matched_at })
                }
                _ => None,
            };
            Ok(StoredObservable { incident_id: id, entry, matches })
        })
        .collect()
}

async fn store_matches<C: GenericClient>(
    client: &C,
    observable: &Observable,
    matches: &ObservableMatches,
) -> Result<()> {
    let (kind, value) = (observable.kind().as_str(), observable.value());
    let statement =
        client.prepare_cached("DELETE FROM observable_events WHERE kind = $1 AND value = $2").await?;
    client.execute(&statement, &[&kind, &value]).await?;
    let insert = client
        .prepare_cached(
            "INSERT INTO observable_events (kind, value, event_id, fields) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
        )
        .await?;
    for matched in matches.events.iter().take(MAX_MATCHES) {
        client.execute(&insert, &[&kind, &value, &matched.event_id, &matched.fields]).await?;
    }
    let summary = &matches.summary;
    let statement = client
        .prepare_cached(
            "INSERT INTO observable_matches (kind, value, total, complete, matched_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (kind, value) DO UPDATE SET total = excluded.total, complete = excluded.complete,
                 matched_at = excluded.matched_at",
        )
        .await?;
    client
        .execute(
            &statement,
            &[
                &kind,
                &value,
                &to_i64(summary.total, "total")?,
                &summary.complete,
                &truncate(summary.matched_at),
            ],
        )
        .await?;
    Ok(())
}

pub(crate) async fn observable_matches<C: GenericClient>(
    client: &C,
    observable: &Observable,
) -> Result<Option<ObservableMatches>> {
    let (kind, value) = (observable.kind().as_str(), observable.value());
    let statement = client
        .prepare_cached(
            "SELECT total, complete, matched_at FROM observable_matches WHERE kind = $1 AND value = $2",
        )
        .await?;
    let Some(row) = client.query_opt(&statement, &[&kind, &value]).await? else { return Ok(None) };
    let summary = MatchSummary {
        total: to_u64(row.try_get(0)?),
        complete: row.try_get(1)?,
        matched_at: row.try_get(2)?,
    };
    let statement = client
        .prepare_cached(
            "SELECT event_id, fields FROM observable_events WHERE kind = $1 AND value = $2 ORDER BY event_id DESC",
        )
        .await?;
    let events = client
        .query(&statement, &[&kind, &value])
        .await?
        .iter()
        .map(|row| Ok(MatchedEvent { event_id: row.try_get(0)?, fields: row.try_get(1)? }))
        .collect::<Result<_>>()?;
    Ok(Some(ObservableMatches { events, summary }))
}

pub(crate) async fn incident_links<C: GenericClient>(client: &C, id: Uuid) -> Result<Vec<Link>> {
    let statement = client
        .prepare_cached(
            "SELECT from_id, to_id, kind FROM incident_links WHERE from_id = $1 OR to_id = $1
             ORDER BY from_id, to_id",
        )
        .await?;
    let rows = client.query(&statement, &[&id]).await?;
    let mut links = Vec::with_capacity(rows.len());
    for row in &rows {
        let kind: String = row.try_get(2)?;
        let kind: LinkKind = serde_json::from_str(&kind).map_err(|error| backend("link kind", error))?;
        let link = Link { from: row.try_get(0)?, to: row.try_get(1)?, kind };
        links.extend(link.seen_from(id));
    }
    Ok(links)
}

// Custody.

async fn insert_custody<C: GenericClient>(client: &C, record: &CustodyRecord) -> Result<()> {
    let statement = client
        .prepare_cached(
            "INSERT INTO evidence_custody (incident_id, sha256, seq, body) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
        )
        .await?;
    let inserted = client
        .execute(
            &statement,
            &[
                &record.event.incident_id,
                &record.event.sha256.to_string(),
                &to_i64(record.seq, "seq")?,
                &Json(record),
            ],
        )
        .await?;
    if inserted == 0 {
        return Err(StoreError::conflict("seq", "the custody chain changed; try again").into());
    }
    Ok(())
}

pub(crate) async fn custody<C: GenericClient>(
    client: &C,
    incident_id: Uuid,
    sha256: &Sha256,
) -> Result<Vec<CustodyRecord>> {
    let statement = client
        .prepare_cached(
            "SELECT body FROM evidence_custody WHERE incident_id = $1 AND sha256 = $2 ORDER BY seq",
        )
        .await?;
    client
        .query(&statement, &[&incident_id, &sha256.to_string()])
        .await?
        .iter()
        .map(|row| body(row, 0))
        .collect()
}

pub(crate) async fn record_custody<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    event: &CustodyEvent,
) -> Result<CustodyRecord> {
    if let Some(detail) = &event.detail {
        check_text("detail", detail)?;
    }
    let sha256 = event.sha256.to_string();
    let statement =
        client.prepare_cached("SELECT 1 FROM evidence WHERE incident_id = $1 AND sha256 = $2").await?;
    if client.query_opt(&statement, &[&event.incident_id, &sha256]).await?.is_none() {
        let key = format!("{sha256} of incident {}", event.incident_id);
        return Err(StoreError::not_found("evidence", key).into());
    }
    let statement = client
        .prepare_cached(
            "SELECT body FROM evidence_custody WHERE incident_id = $1 AND sha256 = $2 ORDER BY seq DESC LIMIT 1",
        )
        .await?;
    let last: Option<CustodyRecord> = client
        .query_opt(&statement, &[&event.incident_id, &sha256])
        .await?
        .map(|row| body(&row, 0))
        .transpose()?;
    let record = next_custody(last.as_ref(), event.clone());
    insert_custody(client, &record).await?;
    let object = format!("{}/{sha256}", event.incident_id);
    let action = format!("evidence.{}", event.action.as_str());
    audit(client, at, actor, &action, "evidence", &object, record.hash.clone()).await?;
    Ok(record)
}

pub(crate) async fn blobs<C: GenericClient>(client: &C) -> Result<Vec<BlobRef>> {
    let statement = client
        .prepare_cached(
            "SELECT sha256, max(size) FROM (
                 SELECT sha256, size FROM evidence
                 UNION ALL SELECT raw_sha256, raw_size FROM mail_intake
             ) blobs GROUP BY sha256 ORDER BY sha256",
        )
        .await?;
    let rows = client.query(&statement, &[]).await?;
    rows.iter()
        .map(|row| {
            let text: String = row.try_get(0)?;
            let sha256 = text.parse::<Sha256>().map_err(|error| backend("stored digest", error))?;
            Ok(BlobRef { sha256, size: to_u64(row.try_get(1)?) })
        })
        .collect()
}

// Incident reports.

const REPORT_COLUMNS: &str =
    "r.id, r.incident_id, r.org_id, r.submitted_by, r.channel, r.received_at, r.body";

fn report_from_row(row: &Row) -> Result<StoredIncidentReport> {
    let channel: String = row.try_get(4)?;
    Ok(StoredIncidentReport {
        id: row.try_get(0)?,
        incident_id: row.try_get(1)?,
        org_id: row.try_get(2)?,
        submitted_by: row.try_get(3)?,
        channel: ReportChannel::parse(&channel)
            .ok_or_else(|| backend("column channel", format!("holds {channel:?}")))?,
        received_at: row.try_get(5)?,
        report: body(row, 6)?,
    })
}

pub(crate) async fn submit_incident_report<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    report: &StoredIncidentReport,
    writes: &[IncidentWrite],
) -> Result<StoredIncidentReport> {
    write_incidents(client, at, actor, writes).await?;
    let text = json_text(&report.report)?;
    check_text("report", &text)?;
    let statement = client
        .prepare_cached(
            "INSERT INTO incident_reports (id, incident_id, org_id, submitted_by, channel, stage, tlp,
                 received_at, body)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .await?;
    let received_at = truncate(report.received_at);
    client
        .execute(
            &statement,
            &[
                &report.id,
                &report.incident_id,
                &report.org_id,
                &report.submitted_by,
                &report.channel.as_str(),
                &report.report.stage.kind().as_str(),
                &report.report.tlp.slug(),
                &received_at,
                &Json(&report.report),
            ],
        )
        .await?;
    let digest = digest_json(&report.report);
    audit(client, at, actor, "incident_report.submit", "incident_report", &report.id.to_string(), digest)
        .await?;
    Ok(StoredIncidentReport { received_at, ..report.clone() })
}

pub(crate) async fn get_incident_report<C: GenericClient>(
    client: &C,
    id: Uuid,
) -> Result<Option<StoredIncidentReport>> {
    let sql = format!("SELECT {REPORT_COLUMNS} FROM incident_reports r WHERE r.id = $1");
    let statement = client.prepare_cached(&sql).await?;
    client.query_opt(&statement, &[&id]).await?.as_ref().map(report_from_row).transpose()
}

pub(crate) async fn list_incident_reports<C: GenericClient>(
    client: &C,
    query: &IncidentReportQuery,
) -> Result<Vec<StoredIncidentReport>> {
    let mut filters = Filters::default();
    if let Some(incident) = query.incident_id {
        let incident = filters.bind(incident);
        filters.and(&format!("r.incident_id = {incident}"));
    }
    if let Some(scope) = &query.scope {
        let mut alternatives = vec!["r.tlp IN ('clear', 'green')".to_owned()];
        if !scope.org_ids.is_empty() {
            let ids = filters.bind(scope.org_ids.clone());
            alternatives.push(format!("r.org_id = ANY({ids})"));
        }
        if !scope.sectors.is_empty() {
            let sectors = filters.bind(scope.sectors.clone());
            alternatives.push(format!(
                "r.org_id IN (SELECT g.id FROM organisations g WHERE g.sector = ANY({sectors}))"
            ));
        }
        filters.and(&format!("({})", alternatives.join(" OR ")));
    }
    if let Some(before) = query.before {
        let before = filters.bind(before);
        filters.and(&format!("r.id < {before}"));
    }
    let limit = filters.bind(i64::from(page_limit(query.limit)));
    let sql = format!(
        "SELECT {REPORT_COLUMNS} FROM incident_reports r WHERE true{} ORDER BY r.id DESC LIMIT {limit}",
        filters.sql
    );
    let statement = client.prepare_cached(&sql).await?;
    let rows = client.query(&statement, &filters.params()).await?;
    rows.iter().map(report_from_row).collect()
}

// E-mail intake.

fn intake_from_row(row: &Row) -> Result<StoredIntake> {
    Ok(StoredIntake { record: body(row, 0)?, incident_id: row.try_get(1)? })
}

pub(crate) async fn record_intake<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    intake: &StoredIntake,
    writes: &[IncidentWrite],
) -> Result<StoredIntake> {
    write_incidents(client, at, actor, writes).await?;
    let record = &intake.record;
    let text = json_text(record)?;
    check_text("intake", &text)?;
    let statement = client
        .prepare_cached(
            "INSERT INTO mail_intake (id, received_at, failed, incident_id, raw_sha256, raw_size, body)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .await?;
    client
        .execute(
            &statement,
            &[
                &record.id,
                &truncate(record.received_at),
                &record.mail().is_none(),
                &intake.incident_id,
                &record.raw_sha256.to_string(),
                &to_i64(record.raw_size, "raw_size")?,
                &Json(record),
            ],
        )
        .await?;
    let id = record.id.to_string();
    audit(client, at, actor, "mail_intake.record", "mail_intake", &id, record.raw_sha256.to_string()).await?;
    Ok(intake.clone())
}

pub(crate) async fn get_intake<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<StoredIntake>> {
    let statement = client.prepare_cached("SELECT body, incident_id FROM mail_intake WHERE id = $1").await?;
    client.query_opt(&statement, &[&id]).await?.as_ref().map(intake_from_row).transpose()
}

pub(crate) async fn list_intakes<C: GenericClient>(
    client: &C,
    query: &IntakeQuery,
) -> Result<Vec<StoredIntake>> {
    let statement = client
        .prepare_cached(
            "SELECT body, incident_id FROM mail_intake
             WHERE ($1::boolean IS NULL OR failed = $1) AND ($2::uuid IS NULL OR id < $2)
             ORDER BY id DESC LIMIT $3",
        )
        .await?;
    let rows = client
        .query(&statement, &[&query.failed, &query.before, &i64::from(page_limit(query.limit))])
        .await?;
    rows.iter().map(intake_from_row).collect()
}
