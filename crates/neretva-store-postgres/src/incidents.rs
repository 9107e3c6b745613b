//! Incidents, incident reports, e-mail intake and evidence custody on PostgreSQL.
//!
//! Domain objects are kept as jsonb (`body`); the columns beside them are what queries filter
//! and sort on. Writes run inside the caller's transaction after it locked the audit head, which
//! serialises writers across processes, so an update guarded by its expected version cannot
//! interleave with another.

use deadpool_postgres::GenericClient;
use neretva_incident::deadline::DeadlineInput;
use neretva_incident::evidence::{CustodyEvent, CustodyRecord, Evidence, Sha256, next_custody};
use neretva_incident::incident::Incident;
use neretva_incident::link::{Link, LinkKind};
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
use tokio_postgres::Row;
use tokio_postgres::types::{Json, ToSql};
use uuid::Uuid;

use crate::codec::{Error, Result, check_text, to_i64, truncate};
use crate::ops::{append_audit, append_audits};

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

/// Rows of one child table, gathered from every write of a batch, bound as arrays.
struct Rows<T> {
    incident: Vec<Uuid>,
    values: Vec<T>,
}

impl<T> Default for Rows<T> {
    fn default() -> Rows<T> {
        Rows { incident: Vec::new(), values: Vec::new() }
    }
}

impl<T> Rows<T> {
    fn push(&mut self, incident: Uuid, value: T) {
        self.incident.push(incident);
        self.values.push(value);
    }
}

/// Applies a batch of writes with a fixed number of statements whatever the number of incidents
/// and their children: each table is written once for the whole batch from arrays (`unnest`).
/// A batch that names one incident twice is applied one write at a time, so each write sees the
/// version the one before it left.
pub(crate) async fn write_incidents<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    writes: &[IncidentWrite],
) -> Result<Vec<StoredIncident>> {
    let mut ids = std::collections::HashSet::new();
    if writes.iter().all(|write| ids.insert(write.incident.id)) {
        return write_batch(client, at, actor, writes).await;
    }
    let mut stored = Vec::with_capacity(writes.len());
    for write in writes {
        stored.extend(write_batch(client, at, actor, std::slice::from_ref(write)).await?);
    }
    Ok(stored)
}

async fn write_batch<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    writes: &[IncidentWrite],
) -> Result<Vec<StoredIncident>> {
    for write in writes {
        check_incident_text(write)?;
    }
    let ids: Vec<Uuid> = writes.iter().map(|write| write.incident.id).collect();

    // The incidents' rows: inserted or updated under their versions.
    let column = |f: &dyn Fn(&IncidentWrite) -> String| writes.iter().map(f).collect::<Vec<String>>();
    let statuses = column(&|w| w.incident.status.as_str().to_owned());
    let severities = column(&|w| w.incident.severity.as_str().to_owned());
    let classifications = column(&|w| w.incident.classification.slug().to_owned());
    let tlps = column(&|w| w.incident.tlp.slug().to_owned());
    let assignees: Vec<Option<Uuid>> = writes.iter().map(|w| w.incident.assignee).collect();
    let merged: Vec<bool> = writes.iter().map(|w| w.incident.merged_into.is_some()).collect();
    let next_due: Vec<Option<Timestamp>> = writes.iter().map(|w| w.next_due.map(truncate)).collect();
    let bodies: Vec<Json<&Incident>> = writes.iter().map(|w| Json(&w.incident)).collect();
    let deadlines: Vec<Option<Json<&DeadlineInput>>> =
        writes.iter().map(|w| w.deadlines.as_ref().map(Json)).collect();
    let created: Vec<Timestamp> = writes.iter().map(|w| truncate(w.incident.created_at)).collect();
    let expected: Vec<Option<i64>> = writes.iter().map(|w| w.expected_version).collect();
    let statement = client
        .prepare_cached(
            "INSERT INTO incidents (id, version, status, severity, classification, tlp, assignee_id,
                 merged, created_at, next_due, body, deadlines)
             SELECT u.id, 1, u.status, u.severity, u.classification, u.tlp, u.assignee, u.merged,
                 u.created, u.next_due, u.body, u.deadlines
             FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::uuid[],
                 $7::boolean[], $8::timestamptz[], $9::timestamptz[], $10::jsonb[], $11::jsonb[],
                 $12::bigint[])
                 AS u(id, status, severity, classification, tlp, assignee, merged, created, next_due,
                      body, deadlines, expected)
             WHERE u.expected IS NULL",
        )
        .await?;
    let params: [&(dyn ToSql + Sync); 12] = [
        &ids,
        &statuses,
        &severities,
        &classifications,
        &tlps,
        &assignees,
        &merged,
        &created,
        &next_due,
        &bodies,
        &deadlines,
        &expected,
    ];
    client.execute(&statement, &params).await?;
    if expected.iter().any(Option::is_some) {
        let statement = client
            .prepare_cached(
                "UPDATE incidents i SET version = i.version + 1, status = u.status, severity = u.severity,
                     classification = u.classification, tlp = u.tlp, assignee_id = u.assignee,
                     merged = u.merged, next_due = u.next_due, body = u.body, deadlines = u.deadlines
                 FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::uuid[],
                     $7::boolean[], $8::timestamptz[], $9::timestamptz[], $10::jsonb[], $11::jsonb[],
                     $12::bigint[])
                     AS u(id, status, severity, classification, tlp, assignee, merged, created, next_due,
                          body, deadlines, expected)
                 WHERE i.id = u.id AND i.version = u.expected
                 RETURNING i.id",
            )
            .await?;
        let updated: std::collections::HashSet<Uuid> = client
            .query(&statement, &params)
            .await?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?;
        for write in writes.iter().filter(|write| write.expected_version.is_some()) {
            let id = write.incident.id;
            if !updated.contains(&id) {
                return Err(match get_incident(client, id).await? {
                    None => StoreError::not_found("incident", id),
                    Some(stored) => version_conflict(id, stored.version),
                }
                .into());
            }
        }
    }

    // The organisations each incident concerns.
    let mut orgs: Rows<Uuid> = Rows::default();
    for write in writes {
        for org in write.incident.reporter_org.iter().chain(&write.incident.affected_orgs) {
            orgs.push(write.incident.id, *org);
        }
    }
    let statement = client.prepare_cached("DELETE FROM incident_orgs WHERE incident_id = ANY($1)").await?;
    client.execute(&statement, &[&ids]).await?;
    let statement = client
        .prepare_cached(
            "INSERT INTO incident_orgs (org_id, incident_id) SELECT * FROM unnest($1::uuid[], $2::uuid[])
             ON CONFLICT DO NOTHING",
        )
        .await?;
    client.execute(&statement, &[&orgs.values, &orgs.incident]).await?;

    // Writes that replace their children start from none.
    let replaced: Vec<Uuid> =
        writes.iter().filter(|w| w.children == Children::Replace).map(|w| w.incident.id).collect();
    if !replaced.is_empty() {
        for table in ["incident_timeline", "incident_tasks", "incident_observables", "evidence"] {
            let statement =
                client.prepare_cached(&format!("DELETE FROM {table} WHERE incident_id = ANY($1)")).await?;
            client.execute(&statement, &[&replaced]).await?;
        }
        let statement = client
            .prepare_cached("DELETE FROM incident_links WHERE from_id = ANY($1) OR to_id = ANY($1)")
            .await?;
        client.execute(&statement, &[&replaced]).await?;
    }

    // Timeline entries, in the order given.
    let mut timeline: Rows<(Timestamp, Json<&TimelineEntry>)> = Rows::default();
    for write in writes {
        for entry in &write.timeline {
            timeline.push(write.incident.id, (truncate(entry.at), Json(entry)));
        }
    }
    if !timeline.values.is_empty() {
        let (times, entries): (Vec<_>, Vec<_>) = timeline.values.into_iter().unzip();
        let statement = client
            .prepare_cached(
                "INSERT INTO incident_timeline (incident_id, at, body)
                 SELECT u.incident_id, u.at, u.body
                 FROM unnest($1::uuid[], $2::timestamptz[], $3::jsonb[]) WITH ORDINALITY
                     AS u(incident_id, at, body, n)
                 ORDER BY u.n",
            )
            .await?;
        client.execute(&statement, &[&timeline.incident, &times, &entries]).await?;
    }

    // Tasks by id: the last write of a task in the batch wins.
    let mut tasks: Vec<(Uuid, Uuid, &Task)> = Vec::new();
    for write in writes {
        for task in &write.tasks {
            match tasks.iter_mut().find(|(id, _, _)| *id == task.id) {
                Some(known) => *known = (task.id, write.incident.id, task),
                None => tasks.push((task.id, write.incident.id, task)),
            }
        }
    }
    if !tasks.is_empty() {
        let task_ids: Vec<Uuid> = tasks.iter().map(|(id, _, _)| *id).collect();
        let owners: Vec<Uuid> = tasks.iter().map(|(_, incident, _)| *incident).collect();
        let bodies: Vec<Json<&Task>> = tasks.iter().map(|(_, _, task)| Json(*task)).collect();
        let statement = client
            .prepare_cached(
                "INSERT INTO incident_tasks (id, incident_id, body)
                 SELECT u.id, u.incident_id, u.body
                 FROM unnest($1::uuid[], $2::uuid[], $3::jsonb[]) WITH ORDINALITY AS u(id, incident_id, body, n)
                 ORDER BY u.n
                 ON CONFLICT (id) DO UPDATE SET incident_id = excluded.incident_id, body = excluded.body",
            )
            .await?;
        client.execute(&statement, &[&task_ids, &owners, &bodies]).await?;
    }

    // Observables: removals, then additions (the last of one observable in an incident wins).
    let mut removed: Rows<(String, String)> = Rows::default();
    for write in writes {
        for observable in &write.removed_observables {
            removed.push(
                write.incident.id,
                (observable.kind().as_str().to_owned(), observable.value().to_owned()),
            );
        }
    }
    if !removed.values.is_empty() {
        let (kinds, values): (Vec<_>, Vec<_>) = removed.values.into_iter().unzip();
        let statement = client
            .prepare_cached(
                "DELETE FROM incident_observables o USING unnest($1::uuid[], $2::text[], $3::text[])
                     AS u(incident_id, kind, value)
                 WHERE o.incident_id = u.incident_id AND o.kind = u.kind AND o.value = u.value",
            )
            .await?;
        client.execute(&statement, &[&removed.incident, &kinds, &values]).await?;
    }
    let mut added: Vec<(Uuid, &ObservableEntry)> = Vec::new();
    let mut matched: Vec<(&Observable, &ObservableMatches)> = Vec::new();
    for write in writes {
        for observable in &write.observables {
            let key = &observable.entry.observable;
            match added.iter_mut().find(|(id, entry)| *id == write.incident.id && entry.observable == *key) {
                Some(known) => known.1 = &observable.entry,
                None => added.push((write.incident.id, &observable.entry)),
            }
            if let Some(matches) = &observable.matches {
                match matched.iter_mut().find(|(known, _)| *known == key) {
                    Some(known) => known.1 = matches,
                    None => matched.push((key, matches)),
                }
            }
        }
    }
    if !added.is_empty() {
        let owners: Vec<Uuid> = added.iter().map(|(id, _)| *id).collect();
        let kinds: Vec<&str> = added.iter().map(|(_, e)| e.observable.kind().as_str()).collect();
        let values: Vec<&str> = added.iter().map(|(_, e)| e.observable.value()).collect();
        let bodies: Vec<Json<&ObservableEntry>> = added.iter().map(|(_, e)| Json(*e)).collect();
        let statement = client
            .prepare_cached(
                "INSERT INTO incident_observables (incident_id, kind, value, body)
                 SELECT u.incident_id, u.kind, u.value, u.body
                 FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[]) WITH ORDINALITY
                     AS u(incident_id, kind, value, body, n)
                 ORDER BY u.n
                 ON CONFLICT (incident_id, kind, value) DO UPDATE SET body = excluded.body",
            )
            .await?;
        client.execute(&statement, &[&owners, &kinds, &values, &bodies]).await?;
    }
    if !matched.is_empty() {
        store_matches(client, &matched).await?;
    }

    // Links: removals, then additions; a link added to a write that appends must be new.
    let mut gone: (Vec<Uuid>, Vec<Uuid>) = (Vec::new(), Vec::new());
    let mut links: (Vec<Uuid>, Vec<Uuid>, Vec<String>) = (Vec::new(), Vec::new(), Vec::new());
    let mut must_be_new = Vec::new();
    for write in writes {
        for link in write.removed_links.iter().copied().map(Link::canonical) {
            gone.0.push(link.from);
            gone.1.push(link.to);
        }
        for link in write.links.iter().copied().map(Link::canonical) {
            links.0.push(link.from);
            links.1.push(link.to);
            links.2.push(json_text(&link.kind)?);
            if write.children == Children::Append {
                must_be_new.push((link.from, link.to));
            }
        }
    }
    if !gone.0.is_empty() {
        let statement = client
            .prepare_cached(
                "DELETE FROM incident_links l USING unnest($1::uuid[], $2::uuid[]) AS u(from_id, to_id)
                 WHERE l.from_id = u.from_id AND l.to_id = u.to_id",
            )
            .await?;
        client.execute(&statement, &[&gone.0, &gone.1]).await?;
    }
    if !links.0.is_empty() {
        let statement = client
            .prepare_cached(
                "INSERT INTO incident_links (from_id, to_id, kind)
                 SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[])
                 ON CONFLICT DO NOTHING RETURNING from_id, to_id",
            )
            .await?;
        let inserted: Vec<(Uuid, Uuid)> = client
            .query(&statement, &[&links.0, &links.1, &links.2])
            .await?
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect::<Result<_>>()?;
        if must_be_new.iter().any(|link| !inserted.contains(link)) {
            return Err(StoreError::conflict("link", "the incidents are already linked").into());
        }
    }

    // Evidence; an item added to a write that appends must be new to its incident.
    let mut evidence: Rows<&Evidence> = Rows::default();
    let mut evidence_new = Vec::new();
    for write in writes {
        for item in &write.evidence {
            evidence.push(write.incident.id, item);
            if write.children == Children::Append {
                evidence_new.push((write.incident.id, item.sha256.to_string()));
            }
        }
    }
    if !evidence.values.is_empty() {
        let digests: Vec<String> = evidence.values.iter().map(|item| item.sha256.to_string()).collect();
        let sizes: Vec<i64> =
            evidence.values.iter().map(|item| to_i64(item.size, "size")).collect::<Result<_, _>>()?;
        let bodies: Vec<Json<&Evidence>> = evidence.values.iter().map(|item| Json(*item)).collect();
        let statement = client
            .prepare_cached(
                "INSERT INTO evidence (incident_id, sha256, size, body)
                 SELECT u.incident_id, u.sha256, u.size, u.body
                 FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::jsonb[]) WITH ORDINALITY
                     AS u(incident_id, sha256, size, body, n)
                 ORDER BY u.n
                 ON CONFLICT (incident_id, sha256) DO NOTHING RETURNING incident_id, sha256",
            )
            .await?;
        let inserted: Vec<(Uuid, String)> = client
            .query(&statement, &[&evidence.incident, &digests, &sizes, &bodies])
            .await?
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect::<Result<_>>()?;
        if evidence_new.iter().any(|item| !inserted.contains(item)) {
            return Err(StoreError::conflict("sha256", "the incident already has this evidence").into());
        }
    }
    let custody: Vec<&CustodyRecord> = writes.iter().flat_map(|write| &write.custody).collect();
    if !custody.is_empty() {
        insert_custody(client, &custody).await?;
    }

    // The search text of each incident: title, description and its observables' values.
    let statement = client
        .prepare_cached(
            "SELECT incident_id, value FROM incident_observables WHERE incident_id = ANY($1)
             ORDER BY incident_id, seq",
        )
        .await?;
    let mut values: std::collections::HashMap<Uuid, Vec<String>> = std::collections::HashMap::new();
    for row in client.query(&statement, &[&ids]).await? {
        values.entry(row.try_get(0)?).or_default().push(row.try_get(1)?);
    }
    let texts: Vec<String> = writes
        .iter()
        .map(|write| {
            let own = values.get(&write.incident.id).map(Vec::as_slice).unwrap_or_default();
            let own: Vec<&str> = own.iter().map(String::as_str).collect();
            search_text(&write.incident, &own)
        })
        .collect();
    let statement = client
        .prepare_cached(
            "INSERT INTO incident_search (incident_id, text) SELECT * FROM unnest($1::uuid[], $2::text[])
             ON CONFLICT (incident_id) DO UPDATE SET text = excluded.text",
        )
        .await?;
    client.execute(&statement, &[&ids, &texts]).await?;

    let events = writes
        .iter()
        .map(|write| AuditEvent {
            actor: actor.to_owned(),
            action: write.action.clone(),
            object_type: "incident".to_owned(),
            object_id: write.incident.id.to_string(),
            digest: digest_json(&write.incident),
        })
        .collect();
    append_audits(client, at, events).await?;
    Ok(writes
        .iter()
        .map(|write| StoredIncident {
            incident: write.incident.clone(),
            version: write.expected_version.map_or(1, |version| version + 1),
            deadlines: write.deadlines.clone(),
            next_due: write.next_due.map(truncate),
        })
        .collect())
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

/// Replaces the links and summaries of observables matched again, for every observable at once.
async fn store_matches<C: GenericClient>(
    client: &C,
    matched: &[(&Observable, &ObservableMatches)],
) -> Result<()> {
    let kinds: Vec<&str> = matched.iter().map(|(o, _)| o.kind().as_str()).collect();
    let values: Vec<&str> = matched.iter().map(|(o, _)| o.value()).collect();
    let statement = client
        .prepare_cached(
            "DELETE FROM observable_events e USING unnest($1::text[], $2::text[]) AS u(kind, value)
             WHERE e.kind = u.kind AND e.value = u.value",
        )
        .await?;
    client.execute(&statement, &[&kinds, &values]).await?;
    let (mut event_kinds, mut event_values, mut event_ids, mut fields) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (observable, matches) in matched {
        for event in matches.events.iter().take(MAX_MATCHES) {
            event_kinds.push(observable.kind().as_str());
            event_values.push(observable.value());
            event_ids.push(event.event_id);
            // IntelMQ field names hold no commas.
            fields.push(event.fields.join(","));
        }
    }
    if !event_ids.is_empty() {
        let statement = client
            .prepare_cached(
                "INSERT INTO observable_events (kind, value, event_id, fields)
                 SELECT u.kind, u.value, u.event_id, string_to_array(u.fields, ',')
                 FROM unnest($1::text[], $2::text[], $3::uuid[], $4::text[]) AS u(kind, value, event_id, fields)
                 ON CONFLICT DO NOTHING",
            )
            .await?;
        client.execute(&statement, &[&event_kinds, &event_values, &event_ids, &fields]).await?;
    }
    let totals: Vec<i64> =
        matched.iter().map(|(_, m)| to_i64(m.summary.total, "total")).collect::<Result<_, _>>()?;
    let complete: Vec<bool> = matched.iter().map(|(_, m)| m.summary.complete).collect();
    let times: Vec<Timestamp> = matched.iter().map(|(_, m)| truncate(m.summary.matched_at)).collect();
    let statement = client
        .prepare_cached(
            "INSERT INTO observable_matches (kind, value, total, complete, matched_at)
             SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::boolean[], $5::timestamptz[])
             ON CONFLICT (kind, value) DO UPDATE SET total = excluded.total, complete = excluded.complete,
                 matched_at = excluded.matched_at",
        )
        .await?;
    client.execute(&statement, &[&kinds, &values, &totals, &complete, &times]).await?;
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

pub(crate) async fn open_observables<C: GenericClient>(client: &C, limit: u32) -> Result<Vec<Observable>> {
    let limit = if limit == 0 { 100_000 } else { limit };
    let statement = client
        .prepare_cached(
            "SELECT (array_agg(o.body ORDER BY o.seq))[1] FROM incident_observables o
             JOIN incidents i ON i.id = o.incident_id
             WHERE i.status IN ('new', 'triage', 'in_progress') AND NOT i.merged
             GROUP BY o.kind, o.value ORDER BY min(o.seq) LIMIT $1",
        )
        .await?;
    let rows = client.query(&statement, &[&i64::from(limit)]).await?;
    rows.iter().map(|row| Ok(body::<ObservableEntry>(row, 0)?.observable)).collect()
}

pub(crate) async fn add_observable_matches<C: GenericClient>(
    client: &C,
    now: Timestamp,
    at: Timestamp,
    actor: &str,
    additions: &[MatchAddition],
) -> Result<Vec<MatchesAdded>> {
    let count = client
        .prepare_cached("SELECT count(*) FROM observable_events WHERE kind = $1 AND value = $2")
        .await?;
    let known = client
        .prepare_cached(
            "SELECT event_id FROM observable_events WHERE kind = $1 AND value = $2 AND event_id = ANY($3)",
        )
        .await?;
    let insert = client
        .prepare_cached(
            "INSERT INTO observable_events (kind, value, event_id, fields)
             SELECT $1, $2, u.event_id, string_to_array(u.fields, ',')
             FROM unnest($3::uuid[], $4::text[]) AS u(event_id, fields)
             ON CONFLICT DO NOTHING",
        )
        .await?;
    let summary = client
        .prepare_cached(
            "INSERT INTO observable_matches (kind, value, total, complete, matched_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (kind, value) DO UPDATE SET total = observable_matches.total + excluded.total,
                 complete = observable_matches.complete AND excluded.complete, matched_at = excluded.matched_at",
        )
        .await?;
    let mut outcome = Vec::with_capacity(additions.len());
    for addition in additions {
        let (kind, value) = (addition.observable.kind().as_str(), addition.observable.value());
        let linked: i64 = client.query_one(&count, &[&kind, &value]).await?.try_get(0)?;
        let mut room = MAX_MATCHES.saturating_sub(usize::try_from(linked).unwrap_or(MAX_MATCHES));
        let ids: Vec<Uuid> = addition.events.iter().map(|matched| matched.event_id).collect();
        let known: std::collections::HashSet<Uuid> = client
            .query(&known, &[&kind, &value, &ids])
            .await?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?;
        let mut added = MatchesAdded::default();
        let (mut new_ids, mut new_fields) = (Vec::new(), Vec::new());
        for matched in &addition.events {
            if known.contains(&matched.event_id) || new_ids.contains(&matched.event_id) {
                continue;
            }
            if room == 0 {
                added.over_limit += 1;
                continue;
            }
            room -= 1;
            new_ids.push(matched.event_id);
            new_fields.push(matched.fields.join(","));
        }
        added.linked = new_ids.len() as u64;
        if !new_ids.is_empty() {
            client.execute(&insert, &[&kind, &value, &new_ids, &new_fields]).await?;
        }
        if added.linked > 0 || added.over_limit > 0 {
            let total = to_i64(added.linked + added.over_limit, "total")?;
            client
                .execute(&summary, &[&kind, &value, &total, &(added.over_limit == 0), &truncate(at)])
                .await?;
        }
        outcome.push(added);
    }
    let linked: u64 = outcome.iter().map(|added| added.linked).sum();
    if linked > 0 {
        let object = format!("{linked} events to {} observables", additions.len());
        let digest = neretva_model::audit::digest_hex(object.as_bytes());
        audit(client, now, actor, "incident.observables.rematch", "observable", &object, digest).await?;
    }
    Ok(outcome)
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

/// Appends custody records; a record whose place in its chain is taken is a conflict.
async fn insert_custody<C: GenericClient>(client: &C, records: &[&CustodyRecord]) -> Result<()> {
    let incidents: Vec<Uuid> = records.iter().map(|r| r.event.incident_id).collect();
    let digests: Vec<String> = records.iter().map(|r| r.event.sha256.to_string()).collect();
    let seqs: Vec<i64> = records.iter().map(|r| to_i64(r.seq, "seq")).collect::<Result<_, _>>()?;
    let bodies: Vec<Json<&CustodyRecord>> = records.iter().map(|r| Json(*r)).collect();
    let statement = client
        .prepare_cached(
            "INSERT INTO evidence_custody (incident_id, sha256, seq, body)
             SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::jsonb[])
             ON CONFLICT DO NOTHING",
        )
        .await?;
    let inserted = client.execute(&statement, &[&incidents, &digests, &seqs, &bodies]).await?;
    if inserted != records.len() as u64 {
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
    insert_custody(client, &[&record]).await?;
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
