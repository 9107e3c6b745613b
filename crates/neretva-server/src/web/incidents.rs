//! Incidents in the analyst console: the queue (overdue first, as the API's queue), one incident
//! with its deadlines, timeline, tasks, observables and their correlations, and evidence with
//! its chain of custody; the triage forms.
//!
//! Pages read and change incidents through the API's own handlers and helpers
//! (`api::incidents`, `api::evidence`, `api::intel`), called with the signed-in user as their
//! `Auth`: the same `may_see_incident` decides every read (404 otherwise), the same
//! `Access::Handle` every change, and every change runs through `neretva_server::incidents`
//! with the version the form was rendered with, audited in the store's transaction.

use std::collections::HashMap;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::value::Serde;
use minijinja::{Value, context};
use neretva_incident::classification::RsitClass;
use neretva_incident::deadline::queue_key;
use neretva_incident::deadline::{DeadlineConfig, obligations};
use neretva_incident::incident::Severity;
use neretva_incident::observable::ObservableKind;
use neretva_incident::timeline::{TimelineEntry, TimelineKind};
use neretva_incident::workflow::Status;
use neretva_model::access::may_export;
use neretva_model::contact::Language;
use neretva_model::tlp::{Pap, Tlp};
use neretva_model::user::Role;
use neretva_model::{Timestamp, Uuid};
use neretva_store::incidents::{IncidentCursor, IncidentOrder, IncidentQuery};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::evidence::UploadOptions;
use crate::api::incidents::{
    Access, AssignRequest, CommentRequest, CreateLink, CreateObservable, CreateTask, FeedbackRequest,
    IncidentDto, IntermediateRequestBody, MergeRequest, ObservableKey, PatchIncident, PatchTask,
    SignificanceRecordBody, Target, TransitionRequest, incident_dto, may_contribute, scope, visible_page,
};
use crate::error::{ApiError, ErrorCode};
use crate::extract::ApiJson;
use crate::web::multipart::{Multipart, UPLOAD_OVERHEAD, base_name, part_body};
use crate::web::{Confirm, WebForm, WebUser, check_csrf, encode_query_value, short_time, t};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/incidents", get(queue))
        .route("/incidents/{id}", get(show))
        .route("/incidents/{id}/transition", post(transition))
        .route("/incidents/{id}/assign", post(assign))
        .route("/incidents/{id}/labels", post(labels))
        .route("/incidents/{id}/notes", post(note))
        .route("/incidents/{id}/tasks", post(add_task))
        .route("/incidents/{id}/tasks/{task}", post(set_task))
        .route("/incidents/{id}/observables", get(observable_events).post(add_observable))
        .route("/incidents/{id}/evidence/{sha256}", get(evidence))
        // The upload enforces the evidence size limit itself while it streams.
        .route("/incidents/{id}/evidence", post(upload_evidence).layer(DefaultBodyLimit::disable()))
        .route("/incidents/{id}/links", post(add_link))
        .route("/incidents/{id}/links/{other}/remove", post(remove_link))
        .route("/incidents/{id}/merge", get(merge_confirm).post(merge))
        .route("/incidents/{id}/significance", post(record_significance))
        .route("/incidents/{id}/requests", post(request_intermediate))
}

/// Incidents per queue page.
const PAGE: usize = 50;

// Shared with the portal.

/// A time as the pages show it.
pub(crate) fn when(at: Timestamp) -> String {
    short_time(at)
}

/// An RFC 3339 time from a DTO as the pages show it (unchanged when it does not parse).
pub(crate) fn when_text(text: &str) -> String {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_or_else(|_| text.to_owned(), short_time)
}

/// The answer to an API error that is not shown on the page it came from: 404 (also for a
/// malformed id, which names nothing that exists), 403, or the error page with the message.
pub(crate) fn error_page(web: &WebUser, error: &ApiError) -> Response {
    match error.code {
        ErrorCode::NotFound => web.not_found(),
        ErrorCode::InvalidRequest if error.field.as_deref().is_some_and(|f| f == "id" || f == "task") => {
            web.not_found()
        }
        ErrorCode::Forbidden => web.forbidden(),
        ErrorCode::Internal | ErrorCode::Unavailable => {
            tracing::error!(error = %error.message, path = %web.path, "A web page failed.");
            web.error(StatusCode::INTERNAL_SERVER_ERROR, "common.errors.internal")
        }
        _ => web.bad_request(error.field.as_deref().unwrap_or("request"), &error.message),
    }
}

/// The problems of a refused change, one line each, for the page that shows them.
pub(crate) fn error_lines(language: Language, error: &ApiError) -> Vec<String> {
    if error.code == ErrorCode::Conflict && error.message.contains("reload it") {
        return vec![t(language, "incidents.error.stale")];
    }
    if error.details.is_empty() {
        return vec![error.message.clone()];
    }
    error.details.iter().map(|detail| format!("{}: {}", detail.field, detail.message)).collect()
}

/// Names of the operating CERT's users, by id (for assignees and timeline actors), and the
/// analysts and admins who may be assigned; empty for everyone else, who sees no staff names.
pub(crate) struct Staff {
    pub names: HashMap<Uuid, String>,
    pub assignable: Vec<(Uuid, String)>,
}

pub(crate) async fn staff(state: &AppState, web: &WebUser) -> Result<Staff, Response> {
    let mut staff = Staff { names: HashMap::new(), assignable: Vec::new() };
    if !web.user.is_operator_staff() {
        return Ok(staff);
    }
    let Some(operator) = state.registry().operator_id else { return Ok(staff) };
    let users = state.store().list_users(Some(operator)).await.map_err(|error| web.internal(&error))?;
    for user in users {
        if matches!(user.role, Role::Admin | Role::Analyst) && !user.disabled {
            staff.assignable.push((user.id, user.username.clone()));
        }
        staff.names.insert(user.id, user.username);
    }
    staff.assignable.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(staff)
}

/// The text key of a status, severity, obligation kind or state, for `t()`.
fn key(prefix: &str, slug: &str) -> String {
    format!("incidents.{prefix}.{slug}")
}

/// The serde name of a value (`in_progress`, `early_warning`, …).
pub(crate) fn serde_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

// The queue.

#[derive(Debug, Default, Deserialize)]
struct QueueParams {
    status: Option<String>,
    severity: Option<String>,
    organisation: Option<String>,
    assignee: Option<String>,
    cursor: Option<String>,
}

fn filled(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|value| !value.is_empty())
}

/// A queue cursor: the last incident's due time (microseconds, `-` for none) and id.
fn encode_cursor(cursor: IncidentCursor) -> String {
    match cursor.next_due {
        Some(due) => format!("{}_{}", due.unix_timestamp_nanos() / 1000, cursor.id),
        None => format!("-_{}", cursor.id),
    }
}

fn decode_cursor(text: &str) -> Option<IncidentCursor> {
    let (due, id) = text.split_once('_').unwrap_or(("-", text));
    let id = Uuid::try_parse(id).ok()?;
    let next_due = match due {
        "-" => None,
        micros => Some(Timestamp::from_unix_timestamp_nanos(micros.parse::<i128>().ok()? * 1000).ok()?),
    };
    Some(IncidentCursor { id, next_due })
}

/// One row of the queue.
#[derive(Serialize)]
struct QueueRow {
    id: Uuid,
    title: String,
    status: String,
    severity: String,
    classification: String,
    organisation: Option<String>,
    assignee: Option<String>,
    urgency: String,
    next_due: Option<String>,
    created: String,
}

async fn queue(
    State(state): State<AppState>,
    web: WebUser,
    params: Result<Query<QueueParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(params) = match params {
        Ok(params) => params,
        Err(error) => return web.bad_request("query", &error.body_text()),
    };
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let principal = web.principal();
    let mut query = IncidentQuery { scope: scope(&registry, &web.user), ..IncidentQuery::default() };
    // The open statuses (the default) follow the queue's order; closed ones come newest first.
    let status = filled(&params.status);
    match status {
        None => query.order = IncidentOrder::Queue,
        Some(text) => match text.parse::<Status>() {
            Ok(status) => {
                query.statuses = vec![status];
                query.order = if status.is_open() { IncidentOrder::Queue } else { IncidentOrder::Newest };
                query.exclude_merged = true;
            }
            Err(error) => return web.bad_request("status", &error.to_string()),
        },
    }
    if let Some(text) = filled(&params.severity) {
        match text.parse::<Severity>() {
            Ok(severity) => query.severity = Some(severity),
            Err(error) => return web.bad_request("severity", &error.message),
        }
    }
    if let Some(text) = filled(&params.organisation) {
        match registry.resolve(text).filter(|org| registry.may_see_org(&principal, org.id)) {
            Some(org) => query.org_id = Some(org.id),
            None => return web.bad_request("organisation", &format!("unknown organisation {text:?}")),
        }
    }
    if let Some(text) = filled(&params.assignee) {
        let found = if text == "me" {
            Ok(Some(web.user.user_id))
        } else {
            match Uuid::try_parse(text) {
                Ok(id) => state.store().get_user(id).await.map(|user| user.map(|user| user.id)),
                Err(_) => state.store().find_user(text).await.map(|user| user.map(|user| user.id)),
            }
        };
        match found {
            Ok(Some(id)) => query.assignee = Some(id),
            Ok(None) => return web.bad_request("assignee", &format!("unknown user {text:?}")),
            Err(error) => return web.internal(&error),
        }
    }
    if let Some(text) = filled(&params.cursor) {
        match decode_cursor(text) {
            Some(cursor) => query.after = Some(cursor),
            None => return web.bad_request("cursor", "invalid cursor"),
        }
    }
    let queue_order = query.order == IncidentOrder::Queue;
    let (found, next) = match visible_page(&state, &registry, &principal, query, PAGE).await {
        Ok(page) => page,
        Err(error) => return error_page(&web, &error),
    };
    let staff = match staff(&state, &web).await {
        Ok(staff) => staff,
        Err(response) => return response,
    };
    let config = state.config().deadlines;
    let now = neretva_store::encode::now();
    // As the API's queue: the stored order is as of each incident's last change, the states
    // are as of now.
    let mut keyed: Vec<_> = found
        .iter()
        .map(|stored| {
            let list =
                stored.deadlines.as_ref().map(|input| obligations(input, &config, now)).unwrap_or_default();
            (queue_key(&list), stored)
        })
        .collect();
    if queue_order {
        keyed.sort_by_key(|(key, _)| *key);
    }
    let rows: Vec<QueueRow> = keyed
        .into_iter()
        .map(|(urgency, stored)| {
            let incident = &stored.incident;
            let organisation = crate::incidents::entity_of(incident)
                .filter(|org| registry.may_see_org(&principal, *org))
                .map(|org| registry.short_name(org));
            QueueRow {
                id: incident.id,
                title: incident.title.clone(),
                status: incident.status.as_str().to_owned(),
                severity: incident.severity.as_str().to_owned(),
                classification: incident.classification.slug().to_owned(),
                organisation,
                assignee: incident.assignee.and_then(|id| staff.names.get(&id).cloned()),
                urgency: if urgency.next_due.is_some() { urgency.urgency.to_string() } else { "none".into() },
                next_due: urgency.next_due.map(when),
                created: when(incident.created_at),
            }
        })
        .collect();
    let filters: Vec<(&str, &str)> = [
        ("status", filled(&params.status)),
        ("severity", filled(&params.severity)),
        ("organisation", filled(&params.organisation)),
        ("assignee", filled(&params.assignee)),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.map(|value| (name, value)))
    .collect();
    let mut next_href = None;
    if let Some(cursor) = next {
        let mut href = String::from("/incidents?");
        for (name, value) in &filters {
            href.push_str(&format!("{name}={}&", encode_query_value(value)));
        }
        let cursor = if queue_order { encode_cursor(cursor) } else { cursor.id.to_string() };
        href.push_str(&format!("cursor={}", encode_query_value(&cursor)));
        next_href = Some(href);
    }
    let context = context! {
        rows => Value::from(Serde(&rows)),
        count => found.len(),
        queue_order => queue_order,
        statuses => Status::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        severities => Severity::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        filter => context! {
            status => filled(&params.status),
            severity => filled(&params.severity),
            organisation => filled(&params.organisation),
            assignee => filled(&params.assignee),
        },
        paged => params.cursor.is_some(),
        next_href => next_href,
        show_assignee => web.user.is_operator_staff(),
    };
    web.render("web/incidents/queue.html", context)
}

// One incident.

/// A timeline entry as the pages show it.
#[derive(Serialize)]
pub(crate) struct TimelineRow {
    pub at: String,
    /// The entry's kind (`status_changed`, …), for its label.
    pub kind: String,
    pub detail: String,
    pub actor: Option<String>,
}

/// A timeline entry in words, in the page's language.
pub(crate) fn timeline_row(
    web: &WebUser,
    registry: &crate::registry::RegistrySnapshot,
    staff: &Staff,
    entry: &TimelineEntry,
) -> TimelineRow {
    let language = web.language;
    let principal = web.principal();
    let user =
        |id: &Option<Uuid>| id.and_then(|id| staff.names.get(&id).cloned()).unwrap_or_else(|| "—".into());
    let org = |id: &Uuid| {
        if registry.may_see_org(&principal, *id) { registry.short_name(*id) } else { "—".into() }
    };
    let status = |s: &Status| t(language, &key("status", s.as_str()));
    let severity = |s: &Severity| t(language, &key("severity", s.as_str()));
    let detail = match &entry.kind {
        TimelineKind::Created { source } => serde_json::to_value(source)
            .ok()
            .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
            .unwrap_or_default(),
        TimelineKind::Comment { text }
        | TimelineKind::Action { text }
        | TimelineKind::FeedbackSent { text } => text.clone(),
        TimelineKind::StatusChanged { from, to } => format!("{} → {}", status(from), status(to)),
        TimelineKind::TitleChanged { title } => title.clone(),
        TimelineKind::DescriptionChanged => String::new(),
        TimelineKind::Assigned { from, to } => format!("{} → {}", user(from), user(to)),
        TimelineKind::Classified { from, to } => format!("{} → {}", from.slug(), to.slug()),
        TimelineKind::SeverityChanged { from, to } => format!("{} → {}", severity(from), severity(to)),
        TimelineKind::TlpChanged { from, to } => format!("{from} → {to}"),
        TimelineKind::PapChanged { from, to } => format!("{from} → {to}"),
        TimelineKind::OrgAdded { org: id } | TimelineKind::OrgRemoved { org: id } => org(id),
        TimelineKind::CrossBorderChanged { cross_border } => {
            t(language, if *cross_border { "incidents.field.yes" } else { "incidents.field.no" })
        }
        TimelineKind::AwareAtChanged { to, .. } => when(*to),
        TimelineKind::ObservableAdded { observable_kind, value }
        | TimelineKind::ObservableRemoved { observable_kind, value } => format!("{observable_kind}:{value}"),
        TimelineKind::TaskAdded { title, .. } => title.clone(),
        TimelineKind::TaskStatusChanged { from, to, .. } => format!(
            "{} → {}",
            t(language, &key("task", &serde_name(from))),
            t(language, &key("task", &serde_name(to)))
        ),
        TimelineKind::EvidenceAdded { sha256, filename } => {
            filename.clone().unwrap_or_else(|| sha256.to_string())
        }
        TimelineKind::ReportReceived { stage, .. } => {
            t(language, &format!("portal.stage.{}", stage.as_str()))
        }
        TimelineKind::Linked { other, link } | TimelineKind::Unlinked { other, link } => {
            format!("{} {other}", serde_name(link))
        }
        TimelineKind::IntermediateRequested { due_at, note, .. } => match note {
            Some(note) => format!("{} · {note}", when(*due_at)),
            None => when(*due_at),
        },
        TimelineKind::SignificanceAssessed { significant, criteria } => format!(
            "{}{}",
            t(language, if *significant { "incidents.field.yes" } else { "incidents.field.no" }),
            if criteria.is_empty() { String::new() } else { format!(" ({})", criteria.join(", ")) }
        ),
        TimelineKind::EventsMatched { observable_kind, value, events } => {
            format!("{observable_kind}:{value} (+{events})")
        }
        TimelineKind::Merged { from } => from.to_string(),
        TimelineKind::MergedInto { into } => into.to_string(),
    };
    let kind = serde_json::to_value(&entry.kind)
        .ok()
        .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_owned))
        .unwrap_or_default();
    TimelineRow {
        at: when(entry.at),
        kind,
        detail,
        actor: entry.actor.map(|id| staff.names.get(&id).cloned().unwrap_or_else(|| "—".into())),
    }
}

/// The incident's timeline as the API shows it to the caller (links to incidents it may not
/// see left out).
pub(crate) async fn visible_timeline(
    state: &AppState,
    web: &WebUser,
    id: Uuid,
) -> Result<Vec<TimelineEntry>, ApiError> {
    let axum::Json(values) =
        crate::api::incidents::timeline(State(state.clone()), web.auth(), Path(id.to_string())).await?;
    Ok(values.into_iter().filter_map(|value| serde_json::from_value::<TimelineEntry>(value).ok()).collect())
}

/// An obligation as the pages show it.
#[derive(Serialize)]
pub(crate) struct DeadlineRow {
    pub kind: String,
    pub basis: String,
    pub owed_by: String,
    pub due_at: String,
    pub met_at: Option<String>,
    pub state: String,
}

pub(crate) fn deadline_rows(dto: &IncidentDto) -> Vec<DeadlineRow> {
    dto.deadlines
        .iter()
        .map(|o| DeadlineRow {
            kind: o.kind.clone(),
            basis: o.basis.clone(),
            owed_by: o.owed_by.clone(),
            due_at: when_text(&o.due_at),
            met_at: o.met_at.as_deref().map(when_text),
            state: o.state.clone(),
        })
        .collect()
}

/// The incident as the page header shows it.
pub(crate) fn incident_view(dto: &IncidentDto, staff: &Staff) -> Value {
    context! {
        id => dto.id.to_string(),
        title => &dto.title,
        description => &dto.description,
        classification => &dto.classification,
        taxonomy => &dto.taxonomy,
        severity => &dto.severity,
        tlp => &dto.tlp,
        pap => &dto.pap,
        status => &dto.status,
        allowed => &dto.allowed_transitions,
        assignee_id => dto.assignee.map(|id| id.to_string()),
        assignee => dto.assignee.map(|id| staff.names.get(&id).cloned().unwrap_or_else(|| "—".into())),
        reporter => dto.reporter.as_ref().map(|org| org.short_name.clone()),
        affected => dto.affected.iter().map(|org| org.short_name.clone()).collect::<Vec<_>>(),
        cross_border => dto.cross_border,
        aware_at => dto.aware_at.as_deref().map(when_text),
        created_at => when_text(&dto.created_at),
        updated_at => when_text(&dto.updated_at),
        merged_into => dto.merged_into.map(|id| id.to_string()),
        version => dto.version,
        urgency => &dto.urgency,
        next_due => dto.next_due.as_deref().map(when_text),
        requests => dto.intermediate_requests.iter().map(|r| context! {
            requested_at => when_text(&r.requested_at),
            due_at => when_text(&r.due_at),
            requester => r.requester.as_ref().map(|org| org.short_name.clone()),
            met_at => r.met_at.as_deref().map(when_text),
            state => &r.state,
        }).collect::<Vec<_>>(),
    }
}

/// A refused change shown on the incident page.
struct Refusal {
    status: StatusCode,
    lines: Vec<String>,
}

async fn show(State(state): State<AppState>, web: WebUser, Path(id): Path<String>) -> Response {
    incident_page(&state, &web, &id, None).await
}

async fn incident_page(state: &AppState, web: &WebUser, id: &str, refusal: Option<Refusal>) -> Response {
    let auth = web.auth();
    let target = match Target::load(state, &auth, id, Access::Read).await {
        Ok(target) => target,
        Err(error) => return error_page(web, &error),
    };
    let registry = &target.registry;
    let principal = web.principal();
    let now = neretva_store::encode::now();
    let config: DeadlineConfig = state.config().deadlines;
    let dto = incident_dto(&target.stored, registry, Some(&principal), &config, now);
    let incident_id = target.id();
    let staff = match staff(state, web).await {
        Ok(staff) => staff,
        Err(response) => return response,
    };
    let handler = web.user.is_operator_staff() && neretva_model::access::may_write(&principal);
    let timeline = match visible_timeline(state, web, incident_id).await {
        Ok(entries) => entries,
        Err(error) => return error_page(web, &error),
    };
    let store = state.store();
    let (tasks, observables, evidence) = match tokio::try_join!(
        store.incident_tasks(incident_id),
        store.incident_observables(incident_id),
        store.incident_evidence(incident_id),
    ) {
        Ok(read) => read,
        Err(error) => return web.internal(&error),
    };
    let intel = match crate::api::intel::incident_intel(
        State(state.clone()),
        auth.clone(),
        Path(id.to_owned()),
    )
    .await
    {
        Ok(axum::Json(links)) => links,
        Err(error) => return error_page(web, &error),
    };
    let links =
        match crate::api::incidents::links(State(state.clone()), auth.clone(), Path(id.to_owned())).await {
            Ok(axum::Json(links)) => links,
            Err(error) => return error_page(web, &error),
        };
    let mut link_rows = Vec::with_capacity(links.len());
    for link in &links {
        // The API lists only incidents the user may see.
        let title = match store.get_incident(link.other).await {
            Ok(other) => other.map(|other| other.incident.title),
            Err(error) => return web.internal(&error),
        };
        link_rows.push(context! { other => link.other.to_string(), kind => &link.kind, title => title });
    }
    let may_upload = may_contribute(&auth, &target.stored.incident) && state.blobs().is_some();
    // A competent authority supervising the entity may ask for an intermediate report, as the
    // operating CERT's handlers.
    let may_request = handler || web.user.role == Role::Authority;
    let staff_view = web.user.is_operator_staff();
    let timeline_rows: Vec<TimelineRow> =
        timeline.iter().rev().map(|entry| timeline_row(web, registry, &staff, entry)).collect();
    let task_rows: Vec<Value> = tasks
        .iter()
        .map(|task| {
            context! {
                id => task.id.to_string(),
                title => &task.title,
                description => &task.description,
                status => serde_name(&task.status),
                done => matches!(task.status, neretva_incident::playbook::TaskStatus::Done),
                due_at => task.due_at.map(when),
            }
        })
        .collect();
    let observable_rows: Vec<Value> = observables
        .iter()
        .map(|stored| {
            let entry = &stored.entry;
            // Match counts tell about events others may not see: the CERT's staff only, as the API.
            let matches = stored.matches.filter(|_| staff_view);
            context! {
                kind => entry.observable.kind().as_str(),
                value => entry.observable.value(),
                ioc => entry.ioc,
                note => &entry.note,
                matched => matches.map(|m| m.total),
                complete => matches.map(|m| m.complete),
                href => format!(
                    "/incidents/{incident_id}/observables?kind={}&value={}",
                    encode_query_value(entry.observable.kind().as_str()),
                    encode_query_value(entry.observable.value())
                ),
            }
        })
        .collect();
    let evidence_rows: Vec<Value> = evidence
        .iter()
        .map(|item| {
            context! {
                sha256 => item.sha256.to_string(),
                filename => &item.filename,
                size => item.size,
                content_type => &item.content_type,
                added_at => when(item.added_at),
            }
        })
        .collect();
    let intel_rows: Vec<Value> = intel
        .iter()
        .map(|link| {
            context! {
                event => link.event.to_string(),
                info => &link.event_info,
                observable => &link.observable,
                relation => &link.relation,
            }
        })
        .collect();
    let status = refusal.as_ref().map_or(StatusCode::OK, |refusal| refusal.status);
    let context = context! {
        incident => incident_view(&dto, &staff),
        deadlines => Value::from(Serde(deadline_rows(&dto))),
        timeline => Value::from(Serde(&timeline_rows)),
        tasks => task_rows,
        observables => observable_rows,
        evidence => evidence_rows,
        intel => intel_rows,
        handler => handler,
        staff_view => staff_view,
        assignable => staff.assignable.iter().map(|(id, name)| context! { id => id.to_string(), name => name }).collect::<Vec<_>>(),
        severities => Severity::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        tlps => Tlp::ALL.iter().map(|t| t.label()).collect::<Vec<_>>(),
        paps => [Pap::Clear, Pap::Green, Pap::Amber, Pap::Red].iter().map(|p| p.label()).collect::<Vec<_>>(),
        observable_kinds => ObservableKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        may_download => may_export(&principal, target.stored.incident.pap),
        errors => refusal.map(|refusal| refusal.lines),
        links => link_rows,
        link_kinds => LINK_KINDS.to_vec(),
        may_upload => may_upload,
        max_evidence_bytes => state.config().evidence_limits.max_bytes,
        may_request => may_request,
        significance => significance_view(dto.significance.as_ref()),
        providers => PROVIDERS.to_vec(),
    };
    (status, web.render("web/incidents/incident.html", context)).into_response()
}

/// The answer to a triage form: back to the incident on success; the incident with the reason
/// when the change was refused (a stale version, a transition the workflow does not allow,
/// invalid input); 404 and 403 pages as the API answers them.
async fn after_change<T>(state: &AppState, web: &WebUser, id: &str, result: Result<T, ApiError>) -> Response {
    match result {
        Ok(_) => Redirect::to(&format!("/incidents/{}", encode_query_value(id))).into_response(),
        Err(error) => match error.code {
            ErrorCode::NotFound | ErrorCode::Forbidden | ErrorCode::Internal | ErrorCode::Unavailable => {
                error_page(web, &error)
            }
            _ => {
                let status = error.code.describe().1;
                let lines = error_lines(web.language, &error);
                incident_page(state, web, id, Some(Refusal { status, lines })).await
            }
        },
    }
}

fn version_of(text: &Option<String>) -> Option<i64> {
    filled(text).and_then(|v| v.parse().ok())
}

#[derive(Deserialize)]
struct TransitionForm {
    to: String,
    version: Option<String>,
}

async fn transition(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, form }: WebForm<TransitionForm>,
) -> Response {
    let request = TransitionRequest { to: form.to, version: version_of(&form.version) };
    let result = crate::api::incidents::transition(
        State(state.clone()),
        web.auth(),
        Path(id.clone()),
        ApiJson(request),
    )
    .await;
    after_change(&state, &web, &id, result).await
}

#[derive(Deserialize)]
struct AssignForm {
    assignee: Option<String>,
    version: Option<String>,
}

async fn assign(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, form }: WebForm<AssignForm>,
) -> Response {
    let request = AssignRequest {
        assignee: filled(&form.assignee).map(str::to_owned),
        version: version_of(&form.version),
    };
    let result =
        crate::api::incidents::assign(State(state.clone()), web.auth(), Path(id.clone()), ApiJson(request))
            .await;
    after_change(&state, &web, &id, result).await
}

#[derive(Deserialize)]
struct LabelsForm {
    severity: Option<String>,
    tlp: Option<String>,
    pap: Option<String>,
    version: Option<String>,
}

async fn labels(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, form }: WebForm<LabelsForm>,
) -> Response {
    let patch = PatchIncident {
        severity: filled(&form.severity).map(str::to_owned),
        tlp: filled(&form.tlp).map(str::to_owned),
        pap: filled(&form.pap).map(str::to_owned),
        version: version_of(&form.version),
        ..PatchIncident::default()
    };
    let result =
        crate::api::incidents::update(State(state.clone()), web.auth(), Path(id.clone()), ApiJson(patch))
            .await;
    after_change(&state, &web, &id, result).await
}

#[derive(Deserialize)]
struct NoteForm {
    kind: Option<String>,
    text: String,
}

async fn note(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, form }: WebForm<NoteForm>,
) -> Response {
    let result = match filled(&form.kind) {
        Some("feedback") => crate::api::incidents::feedback(
            State(state.clone()),
            web.auth(),
            Path(id.clone()),
            ApiJson(FeedbackRequest { text: form.text }),
        )
        .await
        .map(|_| ()),
        kind => crate::api::incidents::comment(
            State(state.clone()),
            web.auth(),
            Path(id.clone()),
            ApiJson(CommentRequest { text: form.text, kind: kind.map(str::to_owned) }),
        )
        .await
        .map(|_| ()),
    };
    after_change(&state, &web, &id, result).await
}

#[derive(Deserialize)]
struct TaskForm {
    title: String,
    description: Option<String>,
}

async fn add_task(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, form }: WebForm<TaskForm>,
) -> Response {
    let request = CreateTask {
        title: form.title,
        description: form.description.unwrap_or_default(),
        assignee: None,
        due_at: None,
    };
    let result =
        crate::api::incidents::add_task(State(state.clone()), web.auth(), Path(id.clone()), ApiJson(request))
            .await;
    after_change(&state, &web, &id, result).await
}

#[derive(Deserialize)]
struct TaskStatusForm {
    status: String,
}

async fn set_task(
    State(state): State<AppState>,
    Path((id, task)): Path<(String, String)>,
    WebForm { web, form }: WebForm<TaskStatusForm>,
) -> Response {
    let result = crate::api::incidents::update_task(
        State(state.clone()),
        web.auth(),
        Path((id.clone(), task)),
        ApiJson(PatchTask { status: form.status }),
    )
    .await;
    after_change(&state, &web, &id, result).await
}

#[derive(Deserialize)]
struct ObservableForm {
    kind: Option<String>,
    value: String,
    ioc: Option<String>,
    note: Option<String>,
}

async fn add_observable(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, form }: WebForm<ObservableForm>,
) -> Response {
    let request = CreateObservable {
        kind: filled(&form.kind).map(str::to_owned),
        value: form.value,
        ioc: Some(form.ioc.is_some()),
        note: filled(&form.note).map(str::to_owned),
    };
    let result = crate::api::incidents::add_observable(
        State(state.clone()),
        web.auth(),
        Path(id.clone()),
        ApiJson(request),
    )
    .await;
    after_change(&state, &web, &id, result).await
}

#[derive(Deserialize)]
struct ObservableParams {
    kind: String,
    value: String,
}

/// The feed events an observable matched that the user may see (the API's
/// `observables/events`).
async fn observable_events(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    params: Result<Query<ObservableParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(params) = match params {
        Ok(params) => params,
        Err(error) => return web.bad_request("query", &error.body_text()),
    };
    let auth = web.auth();
    let target = match Target::load(&state, &auth, &id, Access::Read).await {
        Ok(target) => target,
        Err(error) => return error_page(&web, &error),
    };
    let key = ObservableKey { kind: params.kind.clone(), value: params.value.clone() };
    let events = match crate::api::incidents::observable_events(
        State(state.clone()),
        auth,
        Path(id.clone()),
        Ok(Query(key)),
    )
    .await
    {
        Ok(axum::Json(events)) => events,
        Err(error) => return error_page(&web, &error),
    };
    let rows: Vec<Value> = events
        .iter()
        .map(|event| {
            let field =
                |name: &str| event.event.get(name).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
            let time = event
                .event
                .get("time.source")
                .or_else(|| event.event.get("time.observation"))
                .and_then(|v| v.as_str())
                .map(when_text)
                .unwrap_or_default();
            context! {
                id => event.id.to_string(),
                time => time,
                kind => field("classification.type"),
                source => [field("source.ip"), field("source.fqdn"), field("source.url")]
                    .into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" "),
                feed => &event.feed,
                organisations => event.organisations.join(", "),
            }
        })
        .collect();
    let context = context! {
        incident => context! { id => target.id().to_string(), title => &target.stored.incident.title },
        observable => context! { kind => &params.kind, value => &params.value },
        events => rows,
    };
    web.render("web/incidents/observable.html", context)
}

/// One evidence item with its chain of custody (the API's evidence view, recorded as viewed).
async fn evidence(
    State(state): State<AppState>,
    web: WebUser,
    Path((id, sha256)): Path<(String, String)>,
) -> Response {
    let auth = web.auth();
    let target = match Target::load(&state, &auth, &id, Access::Read).await {
        Ok(target) => target,
        Err(error) => return error_page(&web, &error),
    };
    let detail = match crate::api::evidence::get(State(state.clone()), auth, Path((id.clone(), sha256))).await
    {
        Ok(axum::Json(detail)) => detail,
        Err(error) if error.code == ErrorCode::InvalidRequest => return web.not_found(),
        Err(error) => return error_page(&web, &error),
    };
    let staff = match staff(&state, &web).await {
        Ok(staff) => staff,
        Err(response) => return response,
    };
    let item = &detail.evidence;
    let custody: Vec<Value> = detail
        .custody
        .iter()
        .map(|record| {
            context! {
                seq => record.seq,
                action => &record.action,
                actor => record.actor.map(|id| staff.names.get(&id).cloned().unwrap_or_else(|| "—".into())),
                at => when_text(&record.at),
                detail => &record.detail,
                hash => &record.hash,
            }
        })
        .collect();
    let principal = web.principal();
    let context = context! {
        incident => context! { id => target.id().to_string(), title => &target.stored.incident.title },
        item => context! {
            sha256 => &item.sha256,
            filename => &item.filename,
            size => item.size,
            content_type => &item.content_type,
            description => &item.description,
            added_at => when_text(&item.added_at),
        },
        custody => custody,
        intact => detail.custody_intact,
        may_download => may_export(&principal, target.stored.incident.pap),
        download_href => format!("/api/v1/incidents/{}/evidence/{}/content", target.id(), item.sha256),
    };
    web.render("web/incidents/evidence.html", context)
}

// Links, merges, significance, intermediate reports and evidence uploads.

/// The kinds of link between incidents, as seen from the incident whose page it is.
const LINK_KINDS: &[&str] = &["related", "duplicate_of", "has_duplicate", "parent_of", "child_of"];

/// The entity types of Implementing Regulation (EU) 2024/2690 (the API's `provider`).
const PROVIDERS: &[&str] = &[
    "dns_service_provider",
    "tld_name_registry",
    "cloud_computing",
    "data_centre",
    "content_delivery_network",
    "managed_service_provider",
    "managed_security_service_provider",
    "online_marketplace",
    "online_search_engine",
    "social_networking_platform",
    "trust_service_provider",
];

/// The recorded significance assessment as the page shows it: the outcome, each criterion met
/// with its legal basis, and the facts it was made from (to fill the form again).
fn significance_view(recorded: Option<&serde_json::Value>) -> Option<Value> {
    let recorded = recorded?;
    let criteria: Vec<Value> = recorded
        .get("criteria")
        .and_then(|c| c.as_array())
        .map(|ids| {
            ids.iter()
                .filter_map(|id| id.as_str())
                .map(|id| {
                    let known = neretva_incident::significance::CRITERIA.iter().find(|c| c.id == id);
                    context! {
                        id => id,
                        basis => known.map(|c| c.basis),
                        text => known.map(|c| c.text),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let flag = |name: &str| recorded.get(name).and_then(|v| v.as_bool()).unwrap_or(false);
    Some(context! {
        significant => flag("significant"),
        excluded_as_planned => flag("excluded_as_planned"),
        criteria => criteria,
        assessed_at => recorded.get("assessed_at").and_then(|v| v.as_str()).map(when_text),
        facts => Value::from(Serde(recorded.get("facts").cloned().unwrap_or_default())),
    })
}

/// The answer to a form naming another incident (a link, a merge): as [`after_change`], except
/// that the other incident being missing or invisible is shown on this incident's page, in the
/// same words for both, so nothing leaks. This incident is checked first: missing or invisible,
/// it answers the 404 page.
async fn after_change_with_other<T>(
    state: &AppState,
    web: &WebUser,
    id: &str,
    other: &str,
    result: Result<T, ApiError>,
    success: String,
) -> Response {
    match result {
        Ok(_) => Redirect::to(&success).into_response(),
        Err(error) if error.code == ErrorCode::NotFound => {
            form_refused(
                state,
                web,
                id,
                vec![t(web.language, "incidents.links.unknown").replace("{id}", other)],
            )
            .await
        }
        Err(error) => after_change(state, web, id, Err::<(), _>(error)).await,
    }
}

/// A form's mistakes shown on the incident's page (422). The page itself answers a user who may
/// not read the incident as the API would, saying nothing of the form.
async fn form_refused(state: &AppState, web: &WebUser, id: &str, lines: Vec<String>) -> Response {
    incident_page(state, web, id, Some(Refusal { status: StatusCode::UNPROCESSABLE_ENTITY, lines })).await
}

/// Another incident's id from a form, or the refusal shown on this incident's page.
async fn other_incident(state: &AppState, web: &WebUser, id: &str, text: &str) -> Result<Uuid, Response> {
    match Uuid::try_parse(text.trim()) {
        Ok(other) => Ok(other),
        Err(_) => Err(form_refused(state, web, id, vec![t(web.language, "incidents.links.not_an_id")]).await),
    }
}

#[derive(Deserialize)]
struct LinkForm {
    #[serde(default)]
    other: String,
    #[serde(default)]
    kind: String,
}

async fn add_link(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, form }: WebForm<LinkForm>,
) -> Response {
    let other = match other_incident(&state, &web, &id, &form.other).await {
        Ok(other) => other,
        Err(response) => return response,
    };
    let request = CreateLink { other, kind: form.kind };
    let result =
        crate::api::incidents::add_link(State(state.clone()), web.auth(), Path(id.clone()), ApiJson(request))
            .await;
    let back = format!("/incidents/{}", encode_query_value(&id));
    after_change_with_other(&state, &web, &id, &other.to_string(), result, back).await
}

async fn remove_link(
    State(state): State<AppState>,
    Path((id, other)): Path<(String, String)>,
    WebForm { web, .. }: WebForm<Confirm>,
) -> Response {
    let result = crate::api::incidents::remove_link(
        State(state.clone()),
        web.auth(),
        Path((id.clone(), other.clone())),
    )
    .await;
    let back = format!("/incidents/{}", encode_query_value(&id));
    after_change_with_other(&state, &web, &id, &other, result, back).await
}

#[derive(Deserialize)]
struct MergeParams {
    #[serde(default)]
    into: String,
}

/// The confirmation of a merge: both incidents, what moves, and the button that does it. Only
/// those who may handle both reach it.
async fn merge_confirm(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    params: Result<Query<MergeParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(params) = match params {
        Ok(params) => params,
        Err(error) => return web.bad_request("query", &error.body_text()),
    };
    let auth = web.auth();
    let source = match Target::load(&state, &auth, &id, Access::Handle).await {
        Ok(source) => source,
        Err(error) => return error_page(&web, &error),
    };
    let into = match other_incident(&state, &web, &id, &params.into).await {
        Ok(into) => into,
        Err(response) => return response,
    };
    let target = match Target::load(&state, &auth, &into.to_string(), Access::Handle).await {
        Ok(target) => target,
        Err(error) if error.code == ErrorCode::NotFound => {
            let lines = vec![t(web.language, "incidents.links.unknown").replace("{id}", &into.to_string())];
            return form_refused(&state, &web, &id, lines).await;
        }
        Err(error) => return error_page(&web, &error),
    };
    let view = |target: &Target| {
        let incident = &target.stored.incident;
        context! {
            id => incident.id.to_string(),
            title => &incident.title,
            status => incident.status.as_str(),
            created_at => when(incident.created_at),
        }
    };
    let context = context! { source => view(&source), target => view(&target) };
    web.render("web/incidents/merge.html", context)
}

#[derive(Deserialize)]
struct MergeForm {
    #[serde(default)]
    into: String,
}

/// Merges this incident into the one named in the form (the API's merge of `into`, with this one
/// as its source), then shows the incident it was merged into.
async fn merge(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, form }: WebForm<MergeForm>,
) -> Response {
    let into = match other_incident(&state, &web, &id, &form.into).await {
        Ok(into) => into,
        Err(response) => return response,
    };
    let source = match Target::load(&state, &web.auth(), &id, Access::Handle).await {
        Ok(source) => source.id(),
        Err(error) => return error_page(&web, &error),
    };
    let result = crate::api::incidents::merge_into(
        State(state.clone()),
        web.auth(),
        Path(into.to_string()),
        ApiJson(MergeRequest { source }),
    )
    .await;
    let success = format!("/incidents/{into}");
    after_change_with_other(&state, &web, &id, &into.to_string(), result, success).await
}

/// The significance form: the facts of NIS2 Art. 23(3) and Implementing Regulation (EU)
/// 2024/2690 that the assessment takes. Checkboxes are present when ticked.
#[derive(Deserialize)]
struct SignificanceForm {
    version: Option<String>,
    provider: Option<String>,
    #[serde(default)]
    occurred_at: String,
    planned: Option<String>,
    severe_disruption_or_loss: Option<String>,
    considerable_damage_to_others: Option<String>,
    trade_secrets_exfiltrated: Option<String>,
    death: Option<String>,
    health_damage: Option<String>,
    malicious_access: Option<String>,
    data_compromised: Option<String>,
    data_compromise_malicious: Option<String>,
    physical_access_compromised: Option<String>,
    direct_financial_loss_eur: Option<String>,
    annual_turnover_eur: Option<String>,
    users_in_union: Option<String>,
    users_unavailable: Option<String>,
    complete_unavailability_minutes: Option<String>,
    limited_availability_minutes: Option<String>,
    users_limited: Option<String>,
    root_cause: Option<String>,
}

/// A whole number from a form field: empty is none; anything else names the field.
fn number<T: std::str::FromStr>(problems: &mut Vec<String>, field: &str, text: &Option<String>) -> Option<T> {
    let text = filled(text)?;
    match text.replace([' ', '_'], "").parse::<T>() {
        Ok(value) => Some(value),
        Err(_) => {
            problems.push(format!("{field}: {text:?} is not a whole number"));
            None
        }
    }
}

impl SignificanceForm {
    /// The facts, or the problems of the fields, one line each.
    fn facts(&self) -> Result<neretva_incident::significance::Facts, Vec<String>> {
        use neretva_incident::significance::{Facts, ProviderKind, ServiceImpact};
        let mut problems = Vec::new();
        let provider = match filled(&self.provider) {
            None => None,
            Some(text) => {
                match serde_json::from_value::<ProviderKind>(serde_json::Value::String(text.to_owned())) {
                    Ok(kind) => Some(kind),
                    Err(_) => {
                        problems.push(format!("provider: unknown entity type {text:?}"));
                        None
                    }
                }
            }
        };
        let occurred_at = match crate::web::portal::parse_time(&self.occurred_at) {
            Ok(at) => Some(at),
            Err(problem) => {
                problems.push(format!("occurred_at: {problem}"));
                None
            }
        };
        let ticked = |value: &Option<String>| value.is_some();
        let service = ServiceImpact {
            users_in_union: number(&mut problems, "users_in_union", &self.users_in_union),
            users_unavailable: number(&mut problems, "users_unavailable", &self.users_unavailable),
            complete_unavailability_minutes: number(
                &mut problems,
                "complete_unavailability_minutes",
                &self.complete_unavailability_minutes,
            ),
            limited_availability_minutes: number(
                &mut problems,
                "limited_availability_minutes",
                &self.limited_availability_minutes,
            ),
            users_limited: number(&mut problems, "users_limited", &self.users_limited),
            data_compromised: ticked(&self.data_compromised),
            data_compromise_malicious: ticked(&self.data_compromise_malicious),
            physical_access_compromised: ticked(&self.physical_access_compromised),
            ..ServiceImpact::default()
        };
        let direct_financial_loss_eur =
            number(&mut problems, "direct_financial_loss_eur", &self.direct_financial_loss_eur);
        let annual_turnover_eur = number(&mut problems, "annual_turnover_eur", &self.annual_turnover_eur);
        match occurred_at {
            Some(occurred_at) if problems.is_empty() => Ok(Facts {
                provider,
                occurred_at,
                planned: ticked(&self.planned),
                severe_disruption_or_loss: ticked(&self.severe_disruption_or_loss),
                considerable_damage_to_others: ticked(&self.considerable_damage_to_others),
                direct_financial_loss_eur,
                annual_turnover_eur,
                trade_secrets_exfiltrated: ticked(&self.trade_secrets_exfiltrated),
                death: ticked(&self.death),
                health_damage: ticked(&self.health_damage),
                malicious_access: ticked(&self.malicious_access),
                service,
                root_cause: filled(&self.root_cause).map(str::to_owned),
            }),
            _ => Err(problems),
        }
    }
}

/// Records a significance assessment; the incident page then shows whether the incident is
/// significant and which criteria it meets.
async fn record_significance(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, form }: WebForm<SignificanceForm>,
) -> Response {
    let facts = match form.facts() {
        Ok(facts) => facts,
        Err(lines) => {
            // The incident is checked first, as the API would: nothing is said of one the user
            // may not handle.
            if let Err(error) = Target::load(&state, &web.auth(), &id, Access::Handle).await {
                return error_page(&web, &error);
            }
            return form_refused(&state, &web, &id, lines).await;
        }
    };
    let request = SignificanceRecordBody { facts, version: version_of(&form.version) };
    let result = crate::api::incidents::record_significance(
        State(state.clone()),
        web.auth(),
        Path(id.clone()),
        ApiJson(request),
    )
    .await;
    after_change(&state, &web, &id, result).await
}

#[derive(Deserialize)]
struct IntermediateForm {
    #[serde(default)]
    due_at: String,
    note: Option<String>,
}

/// Asks the entity for an intermediate report (NIS2 Art. 23(4)(c)) by a date.
async fn request_intermediate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, form }: WebForm<IntermediateForm>,
) -> Response {
    let due_at = match crate::web::portal::parse_time(&form.due_at) {
        Ok(at) => at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        Err(problem) => return form_refused(&state, &web, &id, vec![format!("due_at: {problem}")]).await,
    };
    let request = IntermediateRequestBody { due_at, note: filled(&form.note).map(str::to_owned) };
    let result = crate::api::incidents::request_intermediate(
        State(state.clone()),
        web.auth(),
        Path(id.clone()),
        ApiJson(request),
    )
    .await;
    after_change(&state, &web, &id, result).await
}

/// The longest description of an uploaded file taken from the form (the API checks its own,
/// shorter limit).
const MAX_UPLOAD_DESCRIPTION: usize = 16 * 1024;

/// Uploads an evidence file from a `multipart/form-data` form: the CSRF token and description
/// come first, then the file, which is streamed to the API's upload as it arrives (its size
/// limit and checks apply, its audit and chain of custody record it). Then the item's page
/// shows its chain of custody.
async fn upload_evidence(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let limits = state.config().evidence_limits;
    let most = limits.max_bytes.saturating_add(UPLOAD_OVERHEAD);
    let refuse = |status: StatusCode, line: String| {
        let refusal = Refusal { status, lines: vec![line] };
        let (state, web, id) = (&state, &web, &id);
        async move { incident_page(state, web, id, Some(refusal)).await }
    };
    let too_large =
        t(web.language, "incidents.evidence.too_large").replace("{limit}", &limits.max_bytes.to_string());
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > most) {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, too_large).await;
    }
    let mut form = match Multipart::new(&headers, body) {
        Ok(form) => form,
        Err(error) => return web.bad_request("form", &error.to_string()),
    };
    let (texts, file) = match form
        .fields_before(&[("csrf_token", 256), ("description", MAX_UPLOAD_DESCRIPTION)], "file")
        .await
    {
        Ok(read) => read,
        Err(error) => return web.bad_request("form", &error.to_string()),
    };
    // Nothing is stored before the token is checked: it precedes the file in the form.
    if let Err(refusal) = check_csrf(&web, texts.get("csrf_token").map_or("", String::as_str)) {
        return refusal;
    }
    let description =
        texts.get("description").map(|text| text.trim().to_owned()).filter(|text| !text.is_empty());
    let Some(file) =
        file.filter(|file| file.filename.as_deref().is_some_and(|name| !base_name(name).is_empty()))
    else {
        return form_refused(&state, &web, &id, vec![t(web.language, "incidents.evidence.no_file")]).await;
    };
    let mut upload_headers = HeaderMap::new();
    if let Some(value) = file.content_type.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
        upload_headers.insert(header::CONTENT_TYPE, value);
    }
    let options = UploadOptions {
        filename: file.filename.as_deref().map(|name| base_name(name).to_owned()),
        description,
    };
    let (sender, upload_body) = part_body();
    let upload = crate::api::evidence::upload(
        State(state.clone()),
        web.auth(),
        Path(id.clone()),
        Ok(Query(options)),
        upload_headers,
        upload_body,
    );
    let feed = {
        let form = &mut form;
        async move {
            loop {
                match form.chunk().await {
                    Ok(Some(chunk)) => {
                        // The upload stopped reading (refused, or over the limit): its answer says why.
                        if sender.send(Ok(chunk)).await.is_err() {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(error) => {
                        let _ = sender.send(Err(std::io::Error::other(error.to_string()))).await;
                        break;
                    }
                }
            }
        }
    };
    let (result, ()) = tokio::join!(upload, feed);
    // The browser gets the answer rather than a closed connection: the rest of the form is read,
    // up to the limit.
    form.drain(most).await;
    match result {
        Ok((_, axum::Json(item))) => Redirect::to(&format!(
            "/incidents/{}/evidence/{}",
            encode_query_value(&id),
            encode_query_value(&item.sha256)
        ))
        .into_response(),
        Err(error) if error.code == ErrorCode::PayloadTooLarge => {
            refuse(StatusCode::PAYLOAD_TOO_LARGE, too_large).await
        }
        Err(error) => after_change(&state, &web, &id, Err::<(), _>(error)).await,
    }
}

/// Every RSIT type, for select lists.
pub(crate) fn classifications() -> Vec<&'static str> {
    RsitClass::all().map(RsitClass::slug).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys the templates build from values (`t("incidents.status." ~ status)`) exist for every
    /// value the pages can show.
    #[test]
    fn keys_built_from_values_exist() {
        use neretva_incident::deadline::ObligationKind;
        let texts = crate::web::texts::texts();
        let mut keys = Vec::new();
        for status in Status::ALL {
            keys.push(key("status", status.as_str()));
        }
        for severity in Severity::ALL {
            keys.push(key("severity", severity.as_str()));
        }
        for state in ["overdue", "due_soon", "due", "met", "met_late", "none"] {
            keys.push(key("urgency", state));
        }
        for kind in [
            ObligationKind::EarlyWarning,
            ObligationKind::Notification,
            ObligationKind::CsirtFeedback,
            ObligationKind::IntermediateReport,
            ObligationKind::FinalReport,
            ObligationKind::ProgressReport,
            ObligationKind::GdprNotification,
        ] {
            keys.push(key("kind", &serde_name(&kind)));
        }
        for party in ["entity", "csirt"] {
            keys.push(key("owed", party));
        }
        for task in ["open", "in_progress", "done", "skipped"] {
            keys.push(key("task", task));
        }
        for action in ["added", "viewed", "downloaded", "exported"] {
            keys.push(key("custody", action));
        }
        for kind in [
            "created",
            "comment",
            "action",
            "status_changed",
            "title_changed",
            "description_changed",
            "assigned",
            "classified",
            "severity_changed",
            "tlp_changed",
            "pap_changed",
            "org_added",
            "org_removed",
            "cross_border_changed",
            "aware_at_changed",
            "observable_added",
            "observable_removed",
            "task_added",
            "task_status_changed",
            "evidence_added",
            "report_received",
            "feedback_sent",
            "linked",
            "unlinked",
            "intermediate_requested",
            "significance_assessed",
            "events_matched",
            "merged",
            "merged_into",
        ] {
            keys.push(key("tl", kind));
        }
        let missing: Vec<&String> = keys.iter().filter(|key| !texts.contains(key)).collect();
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn every_timeline_kind_has_a_label() {
        use neretva_incident::incident::IncidentSource;
        let texts = crate::web::texts::texts();
        let entry = TimelineEntry::new(
            Timestamp::UNIX_EPOCH,
            None,
            TimelineKind::Created { source: IncidentSource::Analyst },
        );
        let kind = serde_json::to_value(&entry.kind).unwrap_or_default();
        let name = kind.get("kind").and_then(|k| k.as_str()).unwrap_or_default();
        assert!(texts.contains(&key("tl", name)), "{name}");
    }

    #[test]
    fn queue_cursors_round_trip() {
        let id = Uuid::now_v7();
        let due = Timestamp::from_unix_timestamp(1_790_000_000).unwrap_or(Timestamp::UNIX_EPOCH);
        for cursor in [IncidentCursor { id, next_due: Some(due) }, IncidentCursor { id, next_due: None }] {
            assert_eq!(decode_cursor(&encode_cursor(cursor)), Some(cursor));
        }
        assert_eq!(decode_cursor("not a cursor"), None);
        assert_eq!(decode_cursor("12x_00000000-0000-0000-0000-000000000000"), None);
    }
}
