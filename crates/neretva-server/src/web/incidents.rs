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
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
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
use crate::api::incidents::{
    Access, AssignRequest, CommentRequest, CreateObservable, CreateTask, FeedbackRequest, IncidentDto,
    ObservableKey, PatchIncident, PatchTask, Target, TransitionRequest, incident_dto, scope, visible_page,
};
use crate::error::{ApiError, ErrorCode};
use crate::extract::ApiJson;
use crate::web::{WebForm, WebUser, encode_query_value, short_time, t};

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
