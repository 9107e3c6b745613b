//! Incidents: listing and search, the analyst queue and deadline feed, statistics, the
//! regulator's quarterly summary, the significance helper, and everything done to one incident
//! (changes, workflow, tasks, observables, timeline, links, merge).
//!
//! Every read filters through `may_see` (`may_see_incident`): the incident's TLP, its reporting
//! and affected organisations, its assignee, and the sectors competent authorities supervise.
//! An incident the caller may not see answers 404. Exports (CSV) also need the incident's PAP to
//! allow taking it out (`access::may_export`), and are audited. Handling (workflow, assignment,
//! tasks, observables, links, merges, feedback) is the operating CERT's staff's; constituents of
//! an organisation the incident concerns may comment and add evidence.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use neretva_incident::calendar::CalendarItem;
use neretva_incident::classification::RsitClass;
use neretva_incident::deadline::{
    DeadlineConfig, DeadlineInput, Obligation, ObligationKind, obligations, queue_key,
};
use neretva_incident::incident::{Change, Incident, IncidentDraft, IncidentSource, Severity};
use neretva_incident::link::LinkKind;
use neretva_incident::observable::{Observable, ObservableKind};
use neretva_incident::playbook::{Task, TaskDraft, TaskStatus};
use neretva_incident::significance::{Facts, PastIncident, assess};
use neretva_incident::stats::{StatsRecord, statistics};
use neretva_incident::summary::{Quarter, SummaryRecord, summarise};
use neretva_incident::timeline::TimelineKind;
use neretva_incident::workflow::Status;
use neretva_model::access::{Principal, UserPrincipal, Visibility, may_export, may_see, may_write};
use neretva_model::audit::{AuditEvent, digest_hex};
use neretva_model::text::{CsvStyle, csv_line};
use neretva_model::tlp::{Pap, Tlp};
use neretva_model::user::{Role, Scope};
use neretva_model::{FieldError, Timestamp, Uuid};
use neretva_store::incidents::{
    IncidentCursor, IncidentOrder, IncidentQuery, IncidentScope, StoredIncident, StoredObservable,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::{parse_id, rfc3339};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::incidents::{NoteKind, Ops};
use crate::registry::RegistrySnapshot;

// Access.

/// The NIS2 sectors of the organisations an incident concerns.
pub(crate) fn incident_sectors<'r>(registry: &'r RegistrySnapshot, incident: &Incident) -> Vec<&'r str> {
    let mut sectors = Vec::new();
    for org in incident.reporter_org.iter().chain(&incident.affected_orgs) {
        if let Some(sector) = registry.sector_of(*org)
            && !sectors.contains(&sector)
        {
            sectors.push(sector);
        }
    }
    sectors
}

/// Whether the principal may see an incident.
pub(crate) fn may_see_incident(
    registry: &RegistrySnapshot,
    principal: &Principal,
    incident: &Incident,
) -> bool {
    let ancestors = incident.reporter_org.map_or(&[][..], |org| registry.ancestors(org));
    let sectors = incident_sectors(registry, incident);
    may_see(principal, &Visibility { sectors: &sectors, ..incident.visibility(ancestors) })
}

/// What a non-staff principal might see, to narrow searches in the database; `None` for the
/// operating CERT's staff. A superset of `may_see`, which still decides row by row.
pub(crate) fn scope(registry: &RegistrySnapshot, user: &UserPrincipal) -> Option<IncidentScope> {
    if user.is_operator_staff() {
        return None;
    }
    let mut org_ids = vec![user.org_id];
    org_ids.extend(registry.descendants(user.org_id));
    org_ids.extend(user.org_ancestors.iter().copied());
    let sectors = if user.role == Role::Authority { user.sectors.clone() } else { Vec::new() };
    Some(IncidentScope { user_id: Some(user.user_id), org_ids, sectors })
}

/// The operating CERT's staff with a credential that may write: they handle incidents.
pub(crate) fn require_handler(auth: &Auth) -> ApiResult<()> {
    if auth.0.is_operator_staff() && may_write(&auth.principal()) {
        Ok(())
    } else {
        Err(ApiError::forbidden("only the operating CERT's analysts and admins handle incidents"))
    }
}

/// Whether the caller may add to an incident it can see (comments, evidence): handlers, and
/// writers of an organisation the incident concerns.
pub(crate) fn may_contribute(auth: &Auth, incident: &Incident) -> bool {
    if !may_write(&auth.principal()) {
        return false;
    }
    auth.0.is_operator_staff()
        || incident.reporter_org == Some(auth.0.org_id)
        || incident.affected_orgs.contains(&auth.0.org_id)
}

/// Loads an incident the caller may see, or answers 404.
pub(crate) async fn visible(state: &AppState, auth: &Auth, id: &str) -> ApiResult<StoredIncident> {
    let id = parse_id("id", id)?;
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    state
        .store()
        .get_incident(id)
        .await?
        .filter(|stored| may_see_incident(&registry, &auth.principal(), &stored.incident))
        .ok_or_else(|| ApiError::not_found("incident"))
}

pub(crate) fn ops<'a>(
    state: &'a AppState,
    auth: &'a Auth,
    actor: &'a neretva_store::Actor,
    registry: &'a RegistrySnapshot,
) -> Ops<'a> {
    Ops {
        store: state.store(),
        actor,
        user: Some(auth.0.user_id),
        now: neretva_store::encode::now(),
        deadlines: state.config().deadlines,
        registry,
    }
}

/// What a handler does with the incident it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Reads it: the caller may see it.
    Read,
    /// Adds to it (comments, evidence): handlers, and writers of an organisation it concerns.
    Contribute,
    /// Handles it: the operating CERT's staff with a credential that may write.
    Handle,
}

/// The incident a handler acts on, loaded and checked once: visible to the caller (else 404),
/// and open to the kind of access asked for (else 403); with the registry and the audit actor
/// the operations need.
pub(crate) struct Target {
    pub stored: StoredIncident,
    pub registry: std::sync::Arc<RegistrySnapshot>,
    pub actor: neretva_store::Actor,
}

impl Target {
    pub(crate) async fn load(state: &AppState, auth: &Auth, id: &str, access: Access) -> ApiResult<Target> {
        let stored = visible(state, auth, id).await?;
        match access {
            Access::Read => {}
            Access::Contribute if may_contribute(auth, &stored.incident) => {}
            Access::Contribute => {
                return Err(ApiError::forbidden("this credential may not add to this incident"));
            }
            Access::Handle => require_handler(auth)?,
        }
        Ok(Target { stored, registry: state.registry(), actor: auth.actor() })
    }

    pub(crate) fn id(&self) -> Uuid {
        self.stored.incident.id
    }

    /// The operations, acting as the caller.
    pub(crate) fn ops<'a>(&'a self, state: &'a AppState, auth: &'a Auth) -> Ops<'a> {
        ops(state, auth, &self.actor, &self.registry)
    }

    /// An incident as the caller sees it now.
    pub(crate) fn dto(&self, state: &AppState, auth: &Auth, stored: &StoredIncident) -> IncidentDto {
        incident_dto(
            stored,
            &self.registry,
            Some(&auth.principal()),
            &state.config().deadlines,
            neretva_store::encode::now(),
        )
    }
}

// Wire types.

/// An organisation an incident concerns.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgRef {
    pub id: Uuid,
    pub short_name: String,
}

/// A reporting obligation and how it stands now.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObligationDto {
    /// `early_warning`, `notification`, `csirt_feedback`, `intermediate_report`, `final_report`,
    /// `progress_report` or `gdpr_notification`.
    pub kind: String,
    /// The legal basis, e.g. `NIS2 Art. 23(4)(a)`.
    pub basis: String,
    /// `entity` or `csirt`.
    pub owed_by: String,
    pub due_at: String,
    pub met_at: Option<String>,
    /// `overdue`, `due_soon`, `due`, `met_late` or `met`.
    pub state: String,
}

impl From<&Obligation> for ObligationDto {
    fn from(obligation: &Obligation) -> ObligationDto {
        let text = |value: serde_json::Value| value.as_str().unwrap_or_default().to_owned();
        ObligationDto {
            kind: text(serde_json::to_value(obligation.kind).unwrap_or_default()),
            basis: obligation.kind.basis().to_owned(),
            owed_by: text(serde_json::to_value(obligation.owed_by).unwrap_or_default()),
            due_at: rfc3339(obligation.due_at),
            met_at: obligation.met_at.map(rfc3339),
            state: obligation.state.to_string(),
        }
    }
}

/// An incident as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentDto {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    /// The RSIT type slug, e.g. `phishing`.
    pub classification: String,
    /// The RSIT classification (taxonomy), e.g. `fraud`.
    pub taxonomy: String,
    /// `low`, `medium`, `high` or `critical`.
    pub severity: String,
    /// e.g. `TLP:AMBER+STRICT`.
    pub tlp: String,
    /// e.g. `PAP:AMBER`.
    pub pap: String,
    /// `new`, `triage`, `in_progress`, `resolved` or `closed`.
    pub status: String,
    /// The statuses it may move to.
    pub allowed_transitions: Vec<String>,
    pub assignee: Option<Uuid>,
    /// The reporting organisation, when the caller may see it.
    pub reporter: Option<OrgRef>,
    /// The affected organisations the caller may see.
    pub affected: Vec<OrgRef>,
    pub cross_border: bool,
    /// Where it came from: `{"type": "report", "report_id"}`, `email`, `events` or `analyst`.
    #[schema(value_type = Object)]
    pub source: serde_json::Value,
    pub aware_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub triaged_at: Option<String>,
    pub resolved_at: Option<String>,
    pub closed_at: Option<String>,
    pub merged_into: Option<Uuid>,
    /// Send back as `version` to refuse a change when someone else changed it first.
    pub version: i64,
    /// The reporting obligations (NIS2, GDPR) and their states now.
    pub deadlines: Vec<ObligationDto>,
    /// The state of the most urgent open obligation (`overdue`, `due_soon`, `due`), or `met`.
    pub urgency: String,
    pub next_due: Option<String>,
    /// Intermediate reports asked of the entity (NIS2 Art. 23(4)(c)), oldest first.
    pub intermediate_requests: Vec<IntermediateRequestDto>,
    /// The recorded significance assessment, if any: `facts`, `significant`, `criteria` (the
    /// identifiers met), `recurring_with`, `excluded_as_planned`, `assessed_at`, `assessed_by`.
    #[schema(value_type = Option<Object>)]
    pub significance: Option<serde_json::Value>,
}

impl IncidentDto {
    /// A time as the API writes it (RFC 3339 in UTC).
    pub fn time(at: Timestamp) -> String {
        rfc3339(at)
    }
}

/// A request for an intermediate report and how it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntermediateRequestDto {
    pub requested_at: String,
    pub due_at: String,
    /// The organisation that asked (the CSIRT or a competent authority), when the caller may
    /// see it.
    pub requester: Option<OrgRef>,
    /// The intermediate, progress or final report that answered it.
    pub met_at: Option<String>,
    /// `overdue`, `due_soon`, `due`, `met_late` or `met`.
    pub state: String,
}

/// The intermediate report requests of an incident's deadlines, with their states at `now`.
pub fn intermediate_requests(
    input: Option<&DeadlineInput>,
    registry: &RegistrySnapshot,
    principal: Option<&Principal>,
    deadlines: &DeadlineConfig,
    now: Timestamp,
) -> Vec<IntermediateRequestDto> {
    let Some(input) = input else { return Vec::new() };
    let list = obligations(input, deadlines, now);
    input
        .intermediate_requests
        .iter()
        .map(|request| {
            let met_at = request.met_at(input);
            let state = list
                .iter()
                .find(|o| {
                    o.kind == ObligationKind::IntermediateReport
                        && o.due_at == request.due_at
                        && o.met_at == met_at
                })
                .map_or_else(|| "due".to_owned(), |o| o.state.to_string());
            IntermediateRequestDto {
                requested_at: rfc3339(request.requested_at),
                due_at: rfc3339(request.due_at),
                requester: request.requester_org.and_then(|org| org_ref(registry, principal, org)),
                met_at: met_at.map(rfc3339),
                state,
            }
        })
        .collect()
}

fn org_ref(registry: &RegistrySnapshot, principal: Option<&Principal>, org: Uuid) -> Option<OrgRef> {
    principal
        .is_none_or(|principal| registry.may_see_org(principal, org))
        .then(|| OrgRef { id: org, short_name: registry.short_name(org) })
}

/// The wire form of an incident with its deadlines at `now`; organisations are named when
/// `principal` may see them (all of them for `None`, the command line's view).
pub fn incident_dto(
    stored: &StoredIncident,
    registry: &RegistrySnapshot,
    principal: Option<&Principal>,
    deadlines: &DeadlineConfig,
    now: Timestamp,
) -> IncidentDto {
    let incident = &stored.incident;
    let list = stored.deadlines.as_ref().map(|input| obligations(input, deadlines, now)).unwrap_or_default();
    let key = queue_key(&list);
    IncidentDto {
        id: incident.id,
        title: incident.title.clone(),
        description: incident.description.clone(),
        classification: incident.classification.slug().to_owned(),
        taxonomy: incident.classification.taxonomy().to_owned(),
        severity: incident.severity.as_str().to_owned(),
        tlp: incident.tlp.label().to_owned(),
        pap: incident.pap.label().to_owned(),
        status: incident.status.as_str().to_owned(),
        allowed_transitions: if incident.merged_into.is_some() {
            Vec::new()
        } else {
            incident.status.allowed_next().iter().map(|s| s.as_str().to_owned()).collect()
        },
        assignee: incident.assignee,
        reporter: incident.reporter_org.and_then(|org| org_ref(registry, principal, org)),
        affected: incident
            .affected_orgs
            .iter()
            .filter_map(|org| org_ref(registry, principal, *org))
            .collect(),
        cross_border: incident.cross_border,
        source: serde_json::to_value(&incident.source).unwrap_or_default(),
        aware_at: incident.aware_at.map(rfc3339),
        created_at: rfc3339(incident.created_at),
        updated_at: rfc3339(incident.updated_at),
        triaged_at: incident.triaged_at.map(rfc3339),
        resolved_at: incident.resolved_at.map(rfc3339),
        closed_at: incident.closed_at.map(rfc3339),
        merged_into: incident.merged_into,
        version: stored.version,
        deadlines: list.iter().map(ObligationDto::from).collect(),
        urgency: key.urgency.to_string(),
        next_due: key.next_due.map(rfc3339),
        intermediate_requests: intermediate_requests(
            stored.deadlines.as_ref(),
            registry,
            principal,
            deadlines,
            now,
        ),
        significance: incident.significance.as_ref().and_then(|record| serde_json::to_value(record).ok()),
    }
}

/// A page of incidents.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentPage {
    pub items: Vec<IncidentDto>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

fn encode_cursor(cursor: IncidentCursor) -> String {
    match cursor.next_due {
        Some(due) => format!("{}_{}", due.unix_timestamp_nanos() / 1000, cursor.id),
        None => format!("-_{}", cursor.id),
    }
}

fn decode_cursor(text: &str) -> ApiResult<IncidentCursor> {
    let invalid = || ApiError::bad_request("cursor", "invalid cursor");
    let (due, id) = text.split_once('_').ok_or_else(invalid)?;
    let id = Uuid::try_parse(id).map_err(|_| invalid())?;
    let next_due = match due {
        "-" => None,
        micros => {
            let micros: i128 = micros.parse().map_err(|_| invalid())?;
            Some(Timestamp::from_unix_timestamp_nanos(micros * 1000).map_err(|_| invalid())?)
        }
    };
    Ok(IncidentCursor { id, next_due })
}

fn cursor_of(stored: &StoredIncident) -> IncidentCursor {
    IncidentCursor { id: stored.incident.id, next_due: stored.next_due }
}

/// Rounds of database pages one listing reads at most while filling a page with what the
/// caller may see.
const MAX_ROUNDS: usize = 20;

/// Reads pages of `query` until `limit` incidents the caller may see are found; returns them
/// and where to go on from (the last incident examined), if anything may follow.
pub(crate) async fn visible_page(
    state: &AppState,
    registry: &RegistrySnapshot,
    principal: &Principal,
    mut query: IncidentQuery,
    limit: usize,
) -> ApiResult<(Vec<StoredIncident>, Option<IncidentCursor>)> {
    let mut found = Vec::with_capacity(limit);
    // The first database page is the page asked for and an eighth more (the CERT's staff see
    // everything, so one round reads hardly more than it shows); each further round reads
    // twice as many as the one before.
    let mut rows = (limit + limit / 8).clamp(50, 10_000);
    for _ in 0..MAX_ROUNDS {
        query.limit = u32::try_from(rows).unwrap_or(10_000);
        rows = (rows * 2).min(10_000);
        let batch = state.store().list_incidents(&query).await?;
        let full = batch.len() == query.limit as usize;
        for stored in batch {
            query.after = Some(cursor_of(&stored));
            if may_see_incident(registry, principal, &stored.incident) {
                found.push(stored);
                if found.len() == limit {
                    return Ok((found, query.after));
                }
            }
        }
        if !full {
            return Ok((found, None));
        }
    }
    Ok((found, query.after))
}

/// Every incident of a query the caller may see (statistics, summaries), a database page at a
/// time.
async fn all_visible(
    state: &AppState,
    registry: &RegistrySnapshot,
    principal: &Principal,
    mut query: IncidentQuery,
) -> ApiResult<Vec<StoredIncident>> {
    let mut found = Vec::new();
    query.limit = 10_000;
    loop {
        let batch = state.store().list_incidents(&query).await?;
        let full = batch.len() == query.limit as usize;
        query.after = batch.last().map(cursor_of);
        found.extend(
            batch.into_iter().filter(|stored| may_see_incident(registry, principal, &stored.incident)),
        );
        if !full {
            return Ok(found);
        }
    }
}

// Parsing.

fn parse_time(field: &str, text: &str) -> Result<Timestamp, FieldError> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(neretva_store::encode::truncate)
        .map_err(|_| {
            FieldError::new(field, format!("{text:?} is not an RFC 3339 time such as 2026-11-01T00:00:00Z"))
        })
}

fn parse_tlp(field: &str, text: &str) -> Result<Tlp, FieldError> {
    text.parse().map_err(|error: neretva_model::tlp::LabelError| FieldError::new(field, error.to_string()))
}

fn parse_pap(field: &str, text: &str) -> Result<Pap, FieldError> {
    text.parse().map_err(|error: neretva_model::tlp::LabelError| FieldError::new(field, error.to_string()))
}

fn parse_class(field: &str, text: &str) -> Result<RsitClass, FieldError> {
    text.parse().map_err(|error: neretva_incident::classification::UnknownClass| {
        FieldError::new(field, error.to_string())
    })
}

fn parse_severity(field: &str, text: &str) -> Result<Severity, FieldError> {
    text.parse().map_err(|error: FieldError| FieldError::new(field, error.message))
}

fn parse_status(field: &str, text: &str) -> Result<Status, FieldError> {
    text.parse()
        .map_err(|error: neretva_incident::workflow::UnknownStatus| FieldError::new(field, error.to_string()))
}

fn resolve_org(registry: &RegistrySnapshot, field: &str, key: &str) -> Result<Uuid, FieldError> {
    registry
        .resolve(key)
        .map(|org| org.id)
        .ok_or_else(|| FieldError::new(field, format!("unknown organisation {key:?}")))
}

/// An observable given as `kind:value`, or a value whose kind is guessed.
fn parse_observable(field: &str, text: &str) -> Result<Observable, FieldError> {
    if let Some((kind, value)) = text.split_once(':')
        && let Ok(kind) = kind.parse::<ObservableKind>()
        && !value.starts_with("//")
    {
        return Observable::parse(kind, value).map_err(|error| error.at(field));
    }
    Observable::guess(text).map_err(|error| error.at(field))
}

fn collect<T>(errors: &mut Vec<FieldError>, result: Result<T, FieldError>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(error) => {
            errors.push(error);
            None
        }
    }
}

/// A user named by username or id.
async fn resolve_user(state: &AppState, field: &str, key: &str) -> ApiResult<neretva_model::user::User> {
    let found = match Uuid::try_parse(key) {
        Ok(id) => state.store().get_user(id).await?,
        Err(_) => state.store().find_user(key).await?,
    };
    found.ok_or_else(|| ApiError::validation(vec![FieldError::new(field, format!("unknown user {key:?}"))]))
}

// Listing and search.

/// Filters of the incident search; every filter narrows the result.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct IncidentFilter {
    /// Text in the title, the description or an observable's value (case-insensitive).
    pub q: Option<String>,
    /// Statuses, comma-separated, e.g. `new,triage`.
    pub status: Option<String>,
    pub severity: Option<String>,
    /// An RSIT type, e.g. `phishing`.
    pub classification: Option<String>,
    /// An organisation (id or short name) that reported or is affected by the incident.
    pub organisation: Option<String>,
    /// A username or id, or `me`.
    pub assignee: Option<String>,
    /// An observable, `kind:value` or a value whose kind is guessed (`192.0.2.1`).
    pub observable: Option<String>,
    /// RFC 3339; created at or after.
    pub since: Option<String>,
    /// RFC 3339; created before.
    pub until: Option<String>,
    /// Include incidents merged into others.
    pub include_merged: Option<bool>,
    /// 1–1000, default 100.
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

fn page_limit(limit: Option<u32>) -> ApiResult<usize> {
    match limit {
        None => Ok(100),
        Some(n @ 1..=1000) => Ok(n as usize),
        Some(n) => Err(ApiError::bad_request("limit", format!("limit must be 1 to 1000, got {n}"))),
    }
}

async fn build_query(
    state: &AppState,
    registry: &RegistrySnapshot,
    auth: &Auth,
    filter: &IncidentFilter,
) -> ApiResult<IncidentQuery> {
    let mut errors = Vec::new();
    let mut query = IncidentQuery { scope: scope(registry, &auth.0), ..IncidentQuery::default() };
    if let Some(text) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        if text.len() > 1000 {
            errors.push(FieldError::new("q", "at most 1000 bytes"));
        }
        query.text = Some(text.to_owned());
    }
    if let Some(statuses) = &filter.status {
        for status in statuses.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            query.statuses.extend(collect(&mut errors, parse_status("status", status)));
        }
    }
    query.severity =
        filter.severity.as_deref().and_then(|s| collect(&mut errors, parse_severity("severity", s)));
    query.classification =
        filter.classification.as_deref().and_then(|c| collect(&mut errors, parse_class("classification", c)));
    if let Some(key) = &filter.organisation {
        match registry.resolve(key).filter(|org| registry.may_see_org(&auth.principal(), org.id)) {
            Some(org) => query.org_id = Some(org.id),
            None => return Err(ApiError::not_found("organisation")),
        }
    }
    if let Some(key) = &filter.assignee {
        query.assignee =
            Some(if key == "me" { auth.0.user_id } else { resolve_user(state, "assignee", key).await?.id });
    }
    query.observable =
        filter.observable.as_deref().and_then(|o| collect(&mut errors, parse_observable("observable", o)));
    query.created_since = filter.since.as_deref().and_then(|t| collect(&mut errors, parse_time("since", t)));
    query.created_until = filter.until.as_deref().and_then(|t| collect(&mut errors, parse_time("until", t)));
    query.exclude_merged = !filter.include_merged.unwrap_or(false);
    if let Some(cursor) = &filter.cursor {
        query.after = Some(IncidentCursor { id: parse_id("cursor", cursor)?, next_due: None });
    }
    if errors.is_empty() { Ok(query) } else { Err(ApiError::validation(errors)) }
}

/// Searches incidents, newest first; `format=csv` exports the page (only incidents whose PAP
/// allows the caller to take them out), audited.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents", params(IncidentFilter),
    responses((status = 200, body = IncidentPage), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    filter: Result<Query<IncidentFilter>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(filter) = filter?;
    let limit = page_limit(filter.limit)?;
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let query = build_query(&state, &registry, &auth, &filter).await?;
    let principal = auth.principal();
    let (found, next) = visible_page(&state, &registry, &principal, query, limit).await?;
    let now = neretva_store::encode::now();
    let next_cursor = next.map(|cursor| cursor.id.to_string());
    match filter.format.as_deref() {
        None | Some("json") => {
            let items = found
                .iter()
                .map(|stored| {
                    incident_dto(stored, &registry, Some(&principal), &state.config().deadlines, now)
                })
                .collect();
            Ok(Json(IncidentPage { items, next_cursor }).into_response())
        }
        Some("csv") => {
            let exportable: Vec<&StoredIncident> =
                found.iter().filter(|stored| may_export(&principal, stored.incident.pap)).collect();
            let text = incidents_csv(&exportable, &registry, &principal);
            state
                .store()
                .append_audit(&AuditEvent {
                    actor: auth.actor().0,
                    action: "incident.export".into(),
                    object_type: "incident".into(),
                    object_id: format!("{} incidents as csv", exportable.len()),
                    digest: digest_hex(text.as_bytes()),
                })
                .await?;
            let mut response = ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], text).into_response();
            if let Some(cursor) = next_cursor.and_then(|c| axum::http::HeaderValue::from_str(&c).ok()) {
                response.headers_mut().insert("x-next-cursor", cursor);
            }
            Ok(response)
        }
        Some(other) => {
            Err(ApiError::bad_request("format", format!("unknown format {other:?}; expected json or csv")))
        }
    }
}

fn incidents_csv(items: &[&StoredIncident], registry: &RegistrySnapshot, principal: &Principal) -> String {
    let mut out = String::from(
        "id,title,status,severity,classification,taxonomy,tlp,pap,reporter,affected,cross_border,created_at,aware_at,resolved_at\r\n",
    );
    for stored in items {
        let incident = &stored.incident;
        let reporter = incident
            .reporter_org
            .and_then(|org| org_ref(registry, Some(principal), org))
            .map(|o| o.short_name);
        let affected: Vec<String> = incident
            .affected_orgs
            .iter()
            .filter_map(|org| org_ref(registry, Some(principal), *org))
            .map(|o| o.short_name)
            .collect();
        let cells = [
            incident.id.to_string(),
            incident.title.clone(),
            incident.status.as_str().to_owned(),
            incident.severity.as_str().to_owned(),
            incident.classification.slug().to_owned(),
            incident.classification.taxonomy().to_owned(),
            incident.tlp.label().to_owned(),
            incident.pap.label().to_owned(),
            reporter.unwrap_or_default(),
            affected.join(";"),
            incident.cross_border.to_string(),
            rfc3339(incident.created_at),
            incident.aware_at.map(rfc3339).unwrap_or_default(),
            incident.resolved_at.map(rfc3339).unwrap_or_default(),
        ];
        out.push_str(&csv_line(&cells, CsvStyle::Spreadsheet));
    }
    out
}

/// Filters of the queue and the deadline feed.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QueueFilter {
    /// A username or id, or `me`.
    pub assignee: Option<String>,
    /// 1–1000, default 50.
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The analyst queue: open incidents, the most urgent deadline first (overdue, then due soon,
/// then due, each by due time), incidents without a deadline last.
#[utoipa::path(get, path = "/api/v1/incidents/queue", tag = "incidents", params(QueueFilter),
    responses((status = 200, body = IncidentPage), (status = 400, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn queue(
    State(state): State<AppState>,
    auth: Auth,
    filter: Result<Query<QueueFilter>, QueryRejection>,
) -> ApiResult<Json<IncidentPage>> {
    let Query(filter) = filter?;
    let limit = page_limit(Some(filter.limit.unwrap_or(50)))?;
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let mut query = IncidentQuery {
        order: IncidentOrder::Queue,
        scope: scope(&registry, &auth.0),
        ..IncidentQuery::default()
    };
    if let Some(key) = &filter.assignee {
        query.assignee =
            Some(if key == "me" { auth.0.user_id } else { resolve_user(&state, "assignee", key).await?.id });
    }
    query.after = filter.cursor.as_deref().map(decode_cursor).transpose()?;
    let principal = auth.principal();
    let (found, next) = visible_page(&state, &registry, &principal, query, limit).await?;
    let now = neretva_store::encode::now();
    let config = state.config().deadlines;
    // The stored order is as of each incident's last change; the states are as of now.
    let mut keyed: Vec<(neretva_incident::deadline::QueueKey, &StoredIncident)> = found
        .iter()
        .map(|stored| {
            let list =
                stored.deadlines.as_ref().map(|input| obligations(input, &config, now)).unwrap_or_default();
            (queue_key(&list), stored)
        })
        .collect();
    keyed.sort_by_key(|(key, _)| *key);
    let items: Vec<IncidentDto> = keyed
        .into_iter()
        .map(|(_, stored)| incident_dto(stored, &registry, Some(&principal), &config, now))
        .collect();
    Ok(Json(IncidentPage { items, next_cursor: next.map(encode_cursor) }))
}

/// One open obligation that is overdue or due soon.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadlineItem {
    pub incident_id: Uuid,
    pub title: String,
    pub severity: String,
    pub assignee: Option<Uuid>,
    #[serde(flatten)]
    pub obligation: ObligationDto,
}

/// Filters of the deadline feed.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeadlineFilter {
    /// Also list obligations due within this many hours (default: the due-soon window).
    pub within_hours: Option<u32>,
    /// `csirt` for what the CERT owes, `entity` for what reporting entities owe.
    pub owed_by: Option<String>,
    /// `json` (default), `ics` (iCalendar, one `VTODO` per item) or `csv`; without it, an
    /// `Accept` of `text/calendar` or `text/csv` chooses.
    pub format: Option<String>,
}

/// The format of the deadline feed: `?format=` first, then the `Accept` header.
fn feed_format(format: Option<&str>, headers: &axum::http::HeaderMap) -> ApiResult<&'static str> {
    match format {
        Some("json") => Ok("json"),
        Some("ics" | "ical" | "icalendar") => Ok("ics"),
        Some("csv") => Ok("csv"),
        Some(other) => Err(ApiError::bad_request(
            "format",
            format!("unknown format {other:?}; expected json, ics or csv"),
        )),
        None => {
            let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or_default();
            let accept = accept.to_ascii_lowercase();
            Ok(if accept.contains("text/calendar") {
                "ics"
            } else if accept.contains("text/csv") {
                "csv"
            } else {
                "json"
            })
        }
    }
}

/// A stable identifier of an obligation for calendars: the incident, the kind, and for an
/// intermediate report the time it was asked for.
fn obligation_uid(stored: &StoredIncident, item: &DeadlineItem) -> String {
    let mut uid = format!("{}-{}", stored.incident.id, item.obligation.kind);
    if item.obligation.kind == "intermediate_report"
        && let Some(request) = stored.deadlines.as_ref().and_then(|input| {
            input.intermediate_requests.iter().find(|r| rfc3339(r.due_at) == item.obligation.due_at)
        })
    {
        uid.push_str(&format!("-{}", request.requested_at.unix_timestamp()));
    }
    uid.push_str("@neretva");
    uid
}

/// The deadline feed as CSV (through the shared CSV writer, formula-like cells made inert).
pub fn deadlines_csv(due: &[DueItem<'_>]) -> String {
    let mut out =
        String::from("incident_id,title,severity,assignee,kind,basis,owed_by,due_at,met_at,state\r\n");
    for item in due.iter().map(|due| &due.item) {
        let cells = [
            item.incident_id.to_string(),
            item.title.clone(),
            item.severity.clone(),
            item.assignee.map(|a| a.to_string()).unwrap_or_default(),
            item.obligation.kind.clone(),
            item.obligation.basis.clone(),
            item.obligation.owed_by.clone(),
            item.obligation.due_at.clone(),
            item.obligation.met_at.clone().unwrap_or_default(),
            item.obligation.state.clone(),
        ];
        out.push_str(&csv_line(&cells, CsvStyle::Spreadsheet));
    }
    out
}

/// The deadline feed for notifications: every open obligation of a visible, open incident that
/// is overdue or due soon, the earliest first; as JSON, iCalendar (`VTODO`s with stable UIDs) or
/// CSV.
#[utoipa::path(get, path = "/api/v1/incidents/deadlines", tag = "incidents", params(DeadlineFilter),
    responses((status = 200, body = Vec<DeadlineItem>, description = "JSON, or text/calendar, or text/csv"),
        (status = 400, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn deadlines(
    State(state): State<AppState>,
    auth: Auth,
    headers: axum::http::HeaderMap,
    filter: Result<Query<DeadlineFilter>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(filter) = filter?;
    let format = feed_format(filter.format.as_deref(), &headers)?;
    let config = state.config().deadlines;
    let within_minutes = match filter.within_hours {
        None => i64::from(config.due_soon_minutes),
        Some(hours @ 0..=8760) => i64::from(hours) * 60,
        Some(hours) => {
            return Err(ApiError::bad_request("within_hours", format!("{hours} must be 0 to 8760")));
        }
    };
    if let Some(party) = filter.owed_by.as_deref()
        && !matches!(party, "csirt" | "entity")
    {
        return Err(ApiError::bad_request(
            "owed_by",
            format!("unknown party {party:?}; expected csirt or entity"),
        ));
    }
    let now = neretva_store::encode::now();
    let horizon = now + time::Duration::minutes(within_minutes);
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let query = IncidentQuery {
        order: IncidentOrder::Queue,
        due_before: Some(horizon),
        scope: scope(&registry, &auth.0),
        ..IncidentQuery::default()
    };
    let found = all_visible(&state, &registry, &auth.principal(), query).await?;
    let due = due_items(&found, &config, now, horizon, filter.owed_by.as_deref());
    match format {
        "ics" => {
            let body = deadlines_ics(&due, now);
            Ok(([(header::CONTENT_TYPE, "text/calendar; charset=utf-8")], body).into_response())
        }
        "csv" => {
            Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], deadlines_csv(&due)).into_response())
        }
        _ => Ok(Json(due.into_iter().map(|due| due.item).collect::<Vec<_>>()).into_response()),
    }
}

/// One open obligation of the deadline feed, with the incident it belongs to.
pub struct DueItem<'a> {
    pub item: DeadlineItem,
    pub stored: &'a StoredIncident,
    pub obligation: Obligation,
}

/// The open obligations of `found` due before `horizon` (owed by `owed_by`, `csirt` or
/// `entity`, if given), the earliest first.
pub fn due_items<'a>(
    found: &'a [StoredIncident],
    config: &DeadlineConfig,
    now: Timestamp,
    horizon: Timestamp,
    owed_by: Option<&str>,
) -> Vec<DueItem<'a>> {
    let mut due = Vec::new();
    for stored in found {
        let Some(input) = &stored.deadlines else { continue };
        for obligation in obligations(input, config, now) {
            if !obligation.state.is_open() || obligation.due_at > horizon {
                continue;
            }
            let dto = ObligationDto::from(&obligation);
            if owed_by.is_some_and(|party| party != dto.owed_by) {
                continue;
            }
            let item = DeadlineItem {
                incident_id: stored.incident.id,
                title: stored.incident.title.clone(),
                severity: stored.incident.severity.as_str().to_owned(),
                assignee: stored.incident.assignee,
                obligation: dto,
            };
            due.push(DueItem { item, stored, obligation });
        }
    }
    due.sort_by_key(|due| (due.obligation.due_at, due.item.incident_id));
    due
}

/// The deadline feed as iCalendar: one `VTODO` per obligation with a stable `UID`.
pub fn deadlines_ics(due: &[DueItem<'_>], now: Timestamp) -> String {
    let calendar: Vec<CalendarItem> = due
        .iter()
        .map(|due| {
            let item = &due.item;
            CalendarItem {
                uid: obligation_uid(due.stored, item),
                due_at: due.obligation.due_at,
                summary: format!(
                    "{} ({}): {}",
                    kind_label(due.obligation.kind),
                    item.obligation.basis,
                    item.title
                ),
                description: format!(
                    "Incident {}, severity {}. Owed by the {}. State: {}.",
                    item.incident_id, item.severity, item.obligation.owed_by, item.obligation.state
                ),
                state: due.obligation.state,
                categories: vec![
                    item.obligation.owed_by.clone(),
                    due.stored.incident.classification.slug().to_owned(),
                    item.severity.clone(),
                ],
            }
        })
        .collect();
    neretva_incident::calendar::to_ics("Incident deadlines", &calendar, now)
}

/// An obligation's name in words.
fn kind_label(kind: ObligationKind) -> &'static str {
    match kind {
        ObligationKind::EarlyWarning => "Early warning",
        ObligationKind::Notification => "Incident notification",
        ObligationKind::CsirtFeedback => "CSIRT feedback",
        ObligationKind::IntermediateReport => "Intermediate report",
        ObligationKind::FinalReport => "Final report",
        ObligationKind::ProgressReport => "Progress report",
        ObligationKind::GdprNotification => "GDPR notification",
    }
}

/// The time range of statistics.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StatsFilter {
    /// RFC 3339; incidents created at or after.
    pub since: Option<String>,
    /// RFC 3339; … and before.
    pub until: Option<String>,
}

fn sector_and_level<'r>(
    registry: &'r RegistrySnapshot,
    incident: &Incident,
) -> (Option<&'r str>, Option<&'r str>) {
    let org = incident.reporter_org.or_else(|| incident.affected_orgs.first().copied());
    (org.and_then(|org| registry.sector_of(org)), org.and_then(|org| registry.authority_level_of(org)))
}

/// Statistics of the incidents the caller may see: counts by RSIT type and taxonomy, sector,
/// level of authority and month, and the times to triage and to resolve.
#[utoipa::path(get, path = "/api/v1/incidents/stats", tag = "incidents", params(StatsFilter),
    responses((status = 200, body = Object)), security(("bearer" = []), ("session" = [])))]
pub async fn stats(
    State(state): State<AppState>,
    auth: Auth,
    filter: Result<Query<StatsFilter>, QueryRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let Query(filter) = filter?;
    let mut errors = Vec::new();
    let since = filter.since.as_deref().and_then(|t| collect(&mut errors, parse_time("since", t)));
    let until = filter.until.as_deref().and_then(|t| collect(&mut errors, parse_time("until", t)));
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let query = IncidentQuery {
        created_since: since,
        created_until: until,
        exclude_merged: true,
        scope: scope(&registry, &auth.0),
        ..IncidentQuery::default()
    };
    let found = all_visible(&state, &registry, &auth.principal(), query).await?;
    let records: Vec<StatsRecord> = found
        .iter()
        .map(|stored| {
            let (sector, level) = sector_and_level(&registry, &stored.incident);
            StatsRecord::of(&stored.incident, sector, level)
        })
        .collect();
    let result = statistics(&records, state.config().deadlines.zone);
    Ok(Json(serde_json::to_value(result).unwrap_or_default()))
}

/// The quarter and format of a summary.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SummaryFilter {
    /// e.g. `2026-Q4`.
    pub quarter: String,
    /// `json` (default), `csv` or `html`.
    pub format: Option<String>,
}

/// The anonymised quarterly summary (NIS2 Art. 23(9)) of the incidents the caller may see,
/// aggregated by sector, RSIT type, severity and cross-border flag; exports are audited.
#[utoipa::path(get, path = "/api/v1/incidents/summary", tag = "incidents", params(SummaryFilter),
    responses((status = 200, description = "the summary as JSON, CSV or HTML"), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn summary(
    State(state): State<AppState>,
    auth: Auth,
    filter: Result<Query<SummaryFilter>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(filter) = filter?;
    let quarter: Quarter = filter.quarter.parse().map_err(ApiError::from)?;
    let format = filter.format.as_deref().unwrap_or("json");
    let content_type = match format {
        "json" => "application/json",
        "csv" => "text/csv; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        other => {
            return Err(ApiError::bad_request(
                "format",
                format!("unknown format {other:?}; expected json, csv or html"),
            ));
        }
    };
    let zone = state.config().deadlines.zone;
    let (from, until) = quarter.bounds(zone);
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let query = IncidentQuery {
        created_since: Some(from),
        created_until: Some(until),
        exclude_merged: true,
        scope: scope(&registry, &auth.0),
        ..IncidentQuery::default()
    };
    let found = all_visible(&state, &registry, &auth.principal(), query).await?;
    let records: Vec<SummaryRecord> = found
        .iter()
        .map(|stored| SummaryRecord::of(&stored.incident, sector_and_level(&registry, &stored.incident).0))
        .collect();
    let summary = summarise(quarter, zone, &records);
    let body = match format {
        "csv" => summary.to_csv(),
        "html" => summary.to_html(),
        _ => summary.to_json(),
    };
    state
        .store()
        .append_audit(&AuditEvent {
            actor: auth.actor().0,
            action: "incident.summary.export".into(),
            object_type: "summary".into(),
            object_id: format!("{quarter} as {format}"),
            digest: digest_hex(body.as_bytes()),
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

/// The facts of an incident for the significance test.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignificanceRequest {
    /// `neretva_incident::significance::Facts`: provider kind, occurrence, losses, impacts.
    #[schema(value_type = Object)]
    pub facts: Facts,
    /// Earlier incidents of the entity with the same apparent root cause (the recurrence rule).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub past: Vec<PastIncident>,
}

/// Assesses whether an incident is significant under NIS2 Art. 23(3) and Implementing
/// Regulation 2024/2690, with the recurring-incident rule; stores nothing.
#[utoipa::path(post, path = "/api/v1/incidents/significance", tag = "incidents", request_body = SignificanceRequest,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn significance(
    _auth: Auth,
    ApiJson(request): ApiJson<SignificanceRequest>,
) -> ApiResult<Json<serde_json::Value>> {
    if request.past.len() > 1000 {
        return Err(ApiError::validation(vec![FieldError::new("past", "more than 1000 incidents")]));
    }
    let assessment = assess(&request.facts, &request.past);
    Ok(Json(serde_json::to_value(assessment).unwrap_or_default()))
}

/// Which stored feed events to match again.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RematchRequest {
    /// The events of one feed report.
    pub report: Option<Uuid>,
    /// RFC 3339: events whose time (source, else observation) is at or after it.
    pub since: Option<String>,
}

/// Matches stored feed events against the observables of every open incident and links the new
/// matches (events linked already are skipped, so it can run again); incidents holding a newly
/// matched observable record it in their timelines. The pipeline does this by itself for every
/// report it ingests; this is for events stored before an observable was added elsewhere, or by
/// another process. The operating CERT's analysts and admins; audited.
#[utoipa::path(post, path = "/api/v1/incidents/rematch", tag = "incidents", request_body = RematchRequest,
    responses((status = 200, body = crate::incidents::RematchOutcome), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn rematch(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(request): ApiJson<RematchRequest>,
) -> ApiResult<Json<crate::incidents::RematchOutcome>> {
    require_handler(&auth)?;
    let scope = match (request.report, request.since.as_deref()) {
        (Some(report), None) => {
            state.store().get_report(report).await?.ok_or_else(|| ApiError::not_found("report"))?;
            crate::incidents::RematchScope::Report(report)
        }
        (None, Some(since)) => crate::incidents::RematchScope::Since(parse_time("since", since)?),
        _ => {
            return Err(ApiError::validation(vec![FieldError::new(
                "report",
                "name exactly one of report and since",
            )]));
        }
    };
    let registry = state.registry();
    let actor = auth.actor();
    let outcome = ops(&state, &auth, &actor, &registry).rematch(scope).await?;
    Ok(Json(outcome))
}

// One incident.

/// A new incident.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIncident {
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// An RSIT type; default `undetermined`, or the feed events' type.
    pub classification: Option<String>,
    /// Default `medium`.
    pub severity: Option<String>,
    /// Default `TLP:AMBER+STRICT`.
    pub tlp: Option<String>,
    /// Default `PAP:AMBER`.
    pub pap: Option<String>,
    /// The reporting organisation (id or short name).
    pub reporter_org: Option<String>,
    #[serde(default)]
    pub affected_orgs: Vec<String>,
    #[serde(default)]
    pub cross_border: bool,
    /// RFC 3339; when the affected entity became aware: starts the NIS2 deadlines.
    pub aware_at: Option<String>,
    /// Stored feed events the incident is about: their organisations become affected and their
    /// addresses, names and hashes observables.
    #[serde(default)]
    pub event_ids: Vec<Uuid>,
    /// An analyst or admin of the operating CERT (username or id, or `me`). A `TLP:RED` incident,
    /// which only its assignee sees, is assigned to its creator unless another is named.
    pub assignee: Option<String>,
}

/// Opens an incident (the operating CERT's analysts and admins).
#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents", request_body = CreateIncident,
    responses((status = 201, body = IncidentDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(request): ApiJson<CreateIncident>,
) -> ApiResult<(StatusCode, Json<IncidentDto>)> {
    require_handler(&auth)?;
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let mut errors = Vec::new();
    let mut draft = IncidentDraft::titled(request.title);
    draft.description = request.description;
    if let Some(class) = &request.classification {
        draft.classification =
            collect(&mut errors, parse_class("classification", class)).unwrap_or(draft.classification);
    }
    if let Some(severity) = &request.severity {
        draft.severity = collect(&mut errors, parse_severity("severity", severity)).unwrap_or(draft.severity);
    }
    if let Some(tlp) = &request.tlp {
        draft.tlp = collect(&mut errors, parse_tlp("tlp", tlp)).unwrap_or(draft.tlp);
    }
    if let Some(pap) = &request.pap {
        draft.pap = collect(&mut errors, parse_pap("pap", pap)).unwrap_or(draft.pap);
    }
    draft.reporter_org = request
        .reporter_org
        .as_deref()
        .and_then(|key| collect(&mut errors, resolve_org(&registry, "reporter_org", key)));
    for (index, key) in request.affected_orgs.iter().enumerate() {
        draft
            .affected_orgs
            .extend(collect(&mut errors, resolve_org(&registry, &format!("affected_orgs[{index}]"), key)));
    }
    draft.cross_border = request.cross_border;
    draft.aware_at =
        request.aware_at.as_deref().and_then(|t| collect(&mut errors, parse_time("aware_at", t)));
    if request.event_ids.len() > 1000 {
        errors.push(FieldError::new("event_ids", "more than 1000 events"));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let assignee = match request.assignee.as_deref() {
        None if draft.tlp == Tlp::Red => Some(auth.0.user_id),
        None => None,
        Some(key) => Some(staff_user(&state, &registry, &auth, key).await?),
    };
    let actor = auth.actor();
    let ops = ops(&state, &auth, &actor, &registry);
    let stored = if request.event_ids.is_empty() {
        ops.create(draft, IncidentSource::Analyst, assignee).await?
    } else {
        let events = state.store().get_events(&request.event_ids).await?;
        let unknown: Vec<FieldError> = request
            .event_ids
            .iter()
            .enumerate()
            .filter(|(_, id)| !events.iter().any(|event| event.event.id == **id))
            .map(|(index, id)| FieldError::new(format!("event_ids[{index}]"), format!("unknown event {id}")))
            .collect();
        if !unknown.is_empty() {
            return Err(ApiError::validation(unknown));
        }
        if request.classification.is_none() {
            let types: Vec<&str> =
                events.iter().filter_map(|e| e.event.classification_type.as_deref()).collect();
            draft.classification = crate::incidents::class_of_events(&types);
        }
        for event in &events {
            for org in &event.event.org_ids {
                if !draft.affected_orgs.contains(org) && draft.reporter_org != Some(*org) {
                    draft.affected_orgs.push(*org);
                }
            }
        }
        let source = IncidentSource::Events { event_ids: request.event_ids.clone() };
        let stored = ops.create(draft, source, assignee).await?;
        let mut observables: Vec<Observable> = Vec::new();
        for event in &events {
            if let Ok(parsed) = neretva_event::intelmq_json::from_line(&event.event.json) {
                for observable in neretva_incident::observable::from_event(&parsed) {
                    if !observables.contains(&observable) && observables.len() < 100 {
                        observables.push(observable);
                    }
                }
            }
        }
        for observable in observables {
            ops.add_observable(stored.incident.id, observable, true, None).await?;
        }
        state.store().get_incident(stored.incident.id).await?.unwrap_or(stored)
    };
    let now = neretva_store::encode::now();
    Ok((
        StatusCode::CREATED,
        Json(incident_dto(&stored, &registry, Some(&auth.principal()), &state.config().deadlines, now)),
    ))
}

/// Shows an incident with its deadlines.
#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents", params(("id" = Uuid, Path)),
    responses((status = 200, body = IncidentDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<IncidentDto>> {
    let target = Target::load(&state, &auth, &id, Access::Read).await?;
    Ok(Json(target.dto(&state, &auth, &target.stored)))
}

/// Changes to an incident's fields; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchIncident {
    pub title: Option<String>,
    pub description: Option<String>,
    pub classification: Option<String>,
    pub severity: Option<String>,
    pub tlp: Option<String>,
    pub pap: Option<String>,
    pub cross_border: Option<bool>,
    /// RFC 3339.
    pub aware_at: Option<String>,
    /// Organisations (ids or short names) to add to the affected ones.
    #[serde(default)]
    pub add_orgs: Vec<String>,
    #[serde(default)]
    pub remove_orgs: Vec<String>,
    /// The version read; the change is refused (409) when the incident changed since.
    pub version: Option<i64>,
}

/// Changes an incident's fields; every change is recorded in its timeline.
#[utoipa::path(patch, path = "/api/v1/incidents/{id}", tag = "incidents", params(("id" = Uuid, Path)),
    request_body = PatchIncident,
    responses((status = 200, body = IncidentDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<PatchIncident>,
) -> ApiResult<Json<IncidentDto>> {
    let target = Target::load(&state, &auth, &id, Access::Handle).await?;
    let registry = &target.registry;
    let mut errors = Vec::new();
    let mut changes = Vec::new();
    if let Some(title) = patch.title {
        changes.push(Change::Title { title });
    }
    if let Some(description) = patch.description {
        changes.push(Change::Description { description });
    }
    if let Some(class) = &patch.classification {
        changes.extend(
            collect(&mut errors, parse_class("classification", class))
                .map(|classification| Change::Classify { classification }),
        );
    }
    if let Some(severity) = &patch.severity {
        changes.extend(
            collect(&mut errors, parse_severity("severity", severity))
                .map(|severity| Change::Severity { severity }),
        );
    }
    if let Some(tlp) = &patch.tlp {
        changes.extend(collect(&mut errors, parse_tlp("tlp", tlp)).map(|tlp| Change::Tlp { tlp }));
    }
    if let Some(pap) = &patch.pap {
        changes.extend(collect(&mut errors, parse_pap("pap", pap)).map(|pap| Change::Pap { pap }));
    }
    if let Some(cross_border) = patch.cross_border {
        changes.push(Change::CrossBorder { cross_border });
    }
    if let Some(aware_at) = &patch.aware_at {
        changes.extend(
            collect(&mut errors, parse_time("aware_at", aware_at))
                .map(|aware_at| Change::AwareAt { aware_at }),
        );
    }
    for (index, key) in patch.add_orgs.iter().enumerate() {
        changes.extend(
            collect(&mut errors, resolve_org(registry, &format!("add_orgs[{index}]"), key))
                .map(|org| Change::AddOrg { org }),
        );
    }
    for (index, key) in patch.remove_orgs.iter().enumerate() {
        changes.extend(
            collect(&mut errors, resolve_org(registry, &format!("remove_orgs[{index}]"), key))
                .map(|org| Change::RemoveOrg { org }),
        );
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let updated =
        target.ops(&state, &auth).change(target.id(), changes, patch.version, "incident.update").await?;
    Ok(Json(target.dto(&state, &auth, &updated)))
}

/// A move along the workflow.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    /// `triage`, `in_progress`, `resolved` or `closed`.
    pub to: String,
    /// The version read; refused (409) when the incident changed since.
    pub version: Option<i64>,
}

/// Moves an incident along the workflow; a transition the workflow does not allow answers 409
/// with the `allowed` transitions.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/transition", tag = "incidents", params(("id" = Uuid, Path)),
    request_body = TransitionRequest,
    responses((status = 200, body = IncidentDto), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "not allowed from the current status; `allowed` lists what is")),
    security(("bearer" = []), ("session" = [])))]
pub async fn transition(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<TransitionRequest>,
) -> ApiResult<Json<IncidentDto>> {
    let target = Target::load(&state, &auth, &id, Access::Handle).await?;
    let to = parse_status("to", &request.to)?;
    let updated = target.ops(&state, &auth).transition(target.id(), to, request.version).await?;
    Ok(Json(target.dto(&state, &auth, &updated)))
}

/// Who handles an incident.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// A username or id of the operating CERT's analysts and admins, `me`, or null to unassign.
    pub assignee: Option<String>,
    pub version: Option<i64>,
}

/// Assigns an incident to one of the operating CERT's analysts or admins.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/assign", tag = "incidents", params(("id" = Uuid, Path)),
    request_body = AssignRequest,
    responses((status = 200, body = IncidentDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn assign(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<AssignRequest>,
) -> ApiResult<Json<IncidentDto>> {
    let target = Target::load(&state, &auth, &id, Access::Handle).await?;
    let assignee = match request.assignee.as_deref() {
        None => None,
        Some(key) => Some(staff_user(&state, &target.registry, &auth, key).await?),
    };
    let updated = target
        .ops(&state, &auth)
        .change(target.id(), vec![Change::Assign { assignee }], request.version, "incident.assign")
        .await?;
    Ok(Json(target.dto(&state, &auth, &updated)))
}

/// An analyst or admin of the operating CERT, named by username or id (or `me`).
async fn staff_user(
    state: &AppState,
    registry: &RegistrySnapshot,
    auth: &Auth,
    key: &str,
) -> ApiResult<Uuid> {
    if key == "me" {
        return Ok(auth.0.user_id);
    }
    let user = resolve_user(state, "assignee", key).await?;
    let staff = registry.operator_id == Some(user.org_id)
        && matches!(user.role, Role::Admin | Role::Analyst)
        && !user.disabled;
    if !staff {
        return Err(ApiError::validation(vec![FieldError::new(
            "assignee",
            format!("{} is not an analyst or admin of the operating CERT", user.username),
        )]));
    }
    Ok(user.id)
}

/// The incident's timeline, oldest first, as `neretva_incident` records it.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/timeline", tag = "incidents", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<Object>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn timeline(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<serde_json::Value>>> {
    let target = Target::load(&state, &auth, &id, Access::Read).await?;
    let entries = state.store().incident_timeline(target.id()).await?;
    let registry = &target.registry;
    let principal = auth.principal();
    let mut shown = Vec::with_capacity(entries.len());
    let mut seen: std::collections::HashMap<Uuid, bool> = std::collections::HashMap::new();
    for entry in &entries {
        // Links and merges name other incidents: only those the caller may see are shown.
        let other = match &entry.kind {
            TimelineKind::Linked { other, .. } | TimelineKind::Unlinked { other, .. } => Some(*other),
            TimelineKind::Merged { from } => Some(*from),
            TimelineKind::MergedInto { into } => Some(*into),
            _ => None,
        };
        if let Some(other) = other {
            let visible = match seen.get(&other) {
                Some(visible) => *visible,
                None => {
                    let visible = state
                        .store()
                        .get_incident(other)
                        .await?
                        .is_some_and(|other| may_see_incident(registry, &principal, &other.incident));
                    seen.insert(other, visible);
                    visible
                }
            };
            if !visible {
                continue;
            }
        }
        shown.push(serde_json::to_value(entry).unwrap_or_default());
    }
    Ok(Json(shown))
}

/// A comment or an action taken outside the platform.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentRequest {
    pub text: String,
    /// `comment` (default) or `action`.
    pub kind: Option<String>,
}

/// Adds a comment (or an action taken) to the timeline; handlers, and writers of an
/// organisation the incident concerns.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/comments", tag = "incidents", params(("id" = Uuid, Path)),
    request_body = CommentRequest,
    responses((status = 201, body = IncidentDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn comment(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<CommentRequest>,
) -> ApiResult<(StatusCode, Json<IncidentDto>)> {
    let target = Target::load(&state, &auth, &id, Access::Contribute).await?;
    let kind = match request.kind.as_deref() {
        None | Some("comment") => NoteKind::Comment,
        Some("action") if auth.0.is_operator_staff() => NoteKind::Action,
        Some(other) => {
            return Err(ApiError::bad_request(
                "kind",
                format!("unknown kind {other:?}; expected comment or action"),
            ));
        }
    };
    let updated = target.ops(&state, &auth).note(target.id(), kind, &request.text).await?;
    Ok((StatusCode::CREATED, Json(target.dto(&state, &auth, &updated))))
}

/// The CSIRT's feedback to the reporting entity.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    pub text: String,
}

/// Records the CSIRT's feedback on an early warning (NIS2 Art. 23(5)), which meets the 24-hour
/// feedback deadline.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/feedback", tag = "incidents", params(("id" = Uuid, Path)),
    request_body = FeedbackRequest,
    responses((status = 201, body = IncidentDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn feedback(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<FeedbackRequest>,
) -> ApiResult<(StatusCode, Json<IncidentDto>)> {
    let target = Target::load(&state, &auth, &id, Access::Handle).await?;
    let updated = target.ops(&state, &auth).note(target.id(), NoteKind::Feedback, &request.text).await?;
    Ok((StatusCode::CREATED, Json(target.dto(&state, &auth, &updated))))
}

/// A task of an incident.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskDto {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    /// `open`, `in_progress`, `done` or `skipped`.
    pub status: String,
    pub assignee: Option<Uuid>,
    /// The playbook template it came from.
    pub template: Option<String>,
    pub due_at: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
}

impl From<&Task> for TaskDto {
    fn from(task: &Task) -> TaskDto {
        TaskDto {
            id: task.id,
            title: task.title.clone(),
            description: task.description.clone(),
            status: serde_json::to_value(task.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            assignee: task.assignee,
            template: task.template.clone(),
            due_at: task.due_at.map(rfc3339),
            created_at: rfc3339(task.created_at),
            finished_at: task.finished_at.map(rfc3339),
        }
    }
}

/// The incident's tasks (seeded from the playbook of its RSIT type, and added since).
#[utoipa::path(get, path = "/api/v1/incidents/{id}/tasks", tag = "incidents", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<TaskDto>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn tasks(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<TaskDto>>> {
    let target = Target::load(&state, &auth, &id, Access::Read).await?;
    let tasks = state.store().incident_tasks(target.id()).await?;
    Ok(Json(tasks.iter().map(TaskDto::from).collect()))
}

/// A new task.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTask {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub assignee: Option<Uuid>,
    /// RFC 3339.
    pub due_at: Option<String>,
}

/// Adds a task.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/tasks", tag = "incidents", params(("id" = Uuid, Path)),
    request_body = CreateTask,
    responses((status = 201, body = TaskDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn add_task(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<CreateTask>,
) -> ApiResult<(StatusCode, Json<TaskDto>)> {
    let target = Target::load(&state, &auth, &id, Access::Handle).await?;
    let due_at = request.due_at.as_deref().map(|t| parse_time("due_at", t)).transpose()?;
    let draft = TaskDraft {
        title: request.title,
        description: request.description,
        assignee: request.assignee,
        due_at,
    };
    let (task, _) = target.ops(&state, &auth).add_task(target.id(), draft).await?;
    Ok((StatusCode::CREATED, Json(TaskDto::from(&task))))
}

/// A task's new status.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchTask {
    /// `open`, `in_progress`, `done` or `skipped`.
    pub status: String,
}

/// Changes a task's status.
#[utoipa::path(patch, path = "/api/v1/incidents/{id}/tasks/{task}", tag = "incidents",
    params(("id" = Uuid, Path), ("task" = Uuid, Path)), request_body = PatchTask,
    responses((status = 200, body = TaskDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn update_task(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, task)): Path<(String, String)>,
    ApiJson(request): ApiJson<PatchTask>,
) -> ApiResult<Json<TaskDto>> {
    let target = Target::load(&state, &auth, &id, Access::Handle).await?;
    let task_id = parse_id("task", &task)?;
    let status: TaskStatus = serde_json::from_value(serde_json::Value::String(request.status.clone()))
        .map_err(|_| {
            ApiError::validation(vec![FieldError::new(
                "status",
                format!(
                    "unknown task status {:?}; expected open, in_progress, done or skipped",
                    request.status
                ),
            )])
        })?;
    let task = target.ops(&state, &auth).set_task_status(target.id(), task_id, status).await?;
    Ok(Json(TaskDto::from(&task)))
}

/// An observable of an incident.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObservableDto {
    /// `ipv4`, `ipv6`, `cidr`, `domain`, `url`, `email`, `md5`, `sha1`, `sha256`, `sha512`,
    /// `asn`, `filename` or `cve`.
    pub kind: String,
    /// The canonical value.
    pub value: String,
    /// Whether it is an indicator of compromise.
    pub ioc: bool,
    pub note: Option<String>,
    pub added_by: Option<Uuid>,
    pub added_at: String,
    /// Stored feed events that matched it (those the caller may see are listed by
    /// `observables/events`); counted for the operating CERT's staff only.
    pub matched_events: Option<u64>,
    /// False when the count stopped at its bound and is a lower bound.
    pub match_complete: Option<bool>,
    pub matched_at: Option<String>,
}

fn observable_dto(stored: &StoredObservable, staff: bool) -> ObservableDto {
    let entry = &stored.entry;
    let matches = stored.matches.filter(|_| staff);
    ObservableDto {
        kind: entry.observable.kind().as_str().to_owned(),
        value: entry.observable.value().to_owned(),
        ioc: entry.ioc,
        note: entry.note.clone(),
        added_by: entry.added_by,
        added_at: rfc3339(entry.added_at),
        matched_events: matches.map(|m| m.total),
        match_complete: matches.map(|m| m.complete),
        matched_at: matches.map(|m| rfc3339(m.matched_at)),
    }
}

/// The format of an observable listing.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ObservableFormat {
    /// `json` (default) or `csv` (an export: the incident's PAP must allow it; audited).
    pub format: Option<String>,
}

/// The incident's observables.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/observables", tag = "incidents",
    params(("id" = Uuid, Path), ObservableFormat),
    responses((status = 200, body = Vec<ObservableDto>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn observables(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    format: Result<Query<ObservableFormat>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(format) = format?;
    let target = Target::load(&state, &auth, &id, Access::Read).await?;
    let stored = &target.stored;
    let observables = state.store().incident_observables(target.id()).await?;
    let staff = auth.0.is_operator_staff();
    match format.format.as_deref() {
        None | Some("json") => {
            Ok(Json(observables.iter().map(|o| observable_dto(o, staff)).collect::<Vec<_>>()).into_response())
        }
        Some("csv") => {
            if !may_export(&auth.principal(), stored.incident.pap) {
                return Err(ApiError::forbidden(format!(
                    "the incident is {}: its observables may not be exported",
                    stored.incident.pap
                )));
            }
            let mut text = String::from("kind,value,ioc,note\r\n");
            for observable in &observables {
                let entry = &observable.entry;
                text.push_str(&csv_line(
                    [
                        entry.observable.kind().to_string(),
                        entry.observable.value().to_owned(),
                        entry.ioc.to_string(),
                        entry.note.clone().unwrap_or_default(),
                    ],
                    CsvStyle::Spreadsheet,
                ));
            }
            state
                .store()
                .append_audit(&AuditEvent {
                    actor: auth.actor().0,
                    action: "incident.observables.export".into(),
                    object_type: "incident".into(),
                    object_id: stored.incident.id.to_string(),
                    digest: digest_hex(text.as_bytes()),
                })
                .await?;
            Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], text).into_response())
        }
        Some(other) => {
            Err(ApiError::bad_request("format", format!("unknown format {other:?}; expected json or csv")))
        }
    }
}

/// A new observable.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateObservable {
    /// The kind; guessed from the value when absent.
    pub kind: Option<String>,
    /// The value, defanged or not (`hxxp://example[.]net`).
    pub value: String,
    /// An indicator of compromise (default) or not (a victim's address).
    pub ioc: Option<bool>,
    pub note: Option<String>,
}

/// An observable as added, with how many feed events it matched.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddedObservable {
    #[serde(flatten)]
    pub observable: ObservableDto,
    /// Matching events the caller may see (at most 100 are listed).
    pub events: Vec<Uuid>,
}

/// Adds an observable; stored feed events that match it are found and linked (at most 1,000,
/// with the total count).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/observables", tag = "incidents", params(("id" = Uuid, Path)),
    request_body = CreateObservable,
    responses((status = 201, body = AddedObservable), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn add_observable(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<CreateObservable>,
) -> ApiResult<(StatusCode, Json<AddedObservable>)> {
    let target = Target::load(&state, &auth, &id, Access::Handle).await?;
    let observable = match &request.kind {
        Some(kind) => {
            let kind: ObservableKind = kind.parse()?;
            Observable::parse(kind, &request.value).map_err(|error| error.at("value"))?
        }
        None => Observable::guess(&request.value).map_err(|error| error.at("value"))?,
    };
    let (entry, matches) = target
        .ops(&state, &auth)
        .add_observable(target.id(), observable, request.ioc.unwrap_or(true), request.note)
        .await?;
    let principal = auth.principal();
    let ids: Vec<Uuid> = matches.iter().flat_map(|m| m.events.iter()).take(100).map(|m| m.event_id).collect();
    let events = state
        .store()
        .get_events(&ids)
        .await?
        .iter()
        .filter(|event| crate::api::events::may_see_event(&target.registry, &principal, event))
        .map(|event| event.event.id)
        .collect();
    let stored_observable =
        StoredObservable { incident_id: target.id(), entry, matches: matches.map(|m| m.summary) };
    let observable = observable_dto(&stored_observable, auth.0.is_operator_staff());
    Ok((StatusCode::CREATED, Json(AddedObservable { observable, events })))
}

/// An observable named in a query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ObservableKey {
    pub kind: String,
    pub value: String,
}

fn observable_of(key: &ObservableKey) -> ApiResult<Observable> {
    let kind: ObservableKind = key.kind.parse()?;
    Ok(Observable::parse(kind, &key.value).map_err(|error| error.at("value"))?)
}

/// Removes an observable.
#[utoipa::path(delete, path = "/api/v1/incidents/{id}/observables", tag = "incidents",
    params(("id" = Uuid, Path), ObservableKey),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn remove_observable(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    key: Result<Query<ObservableKey>, QueryRejection>,
) -> ApiResult<StatusCode> {
    let Query(key) = key?;
    let target = Target::load(&state, &auth, &id, Access::Handle).await?;
    target.ops(&state, &auth).remove_observable(target.id(), observable_of(&key)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The stored feed events an observable of the incident matched, those the caller may see.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/observables/events", tag = "incidents",
    params(("id" = Uuid, Path), ObservableKey),
    responses((status = 200, body = Vec<crate::api::events::EventDto>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn observable_events(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    key: Result<Query<ObservableKey>, QueryRejection>,
) -> ApiResult<Json<Vec<crate::api::events::EventDto>>> {
    let Query(key) = key?;
    let target = Target::load(&state, &auth, &id, Access::Read).await?;
    let observable = observable_of(&key)?;
    let held = state
        .store()
        .incident_observables(target.id())
        .await?
        .iter()
        .any(|o| o.entry.observable == observable);
    if !held {
        return Err(ApiError::not_found("observable"));
    }
    let principal = auth.principal();
    let matched = state.store().observable_matches(&observable).await?.map(|m| m.events).unwrap_or_default();
    let ids: Vec<Uuid> = matched.iter().map(|m| m.event_id).collect();
    // The linked events in one query, newest first as linked.
    let events = state
        .store()
        .get_events(&ids)
        .await?
        .into_iter()
        .filter_map(|event| crate::api::events::visible_dto(event, &target.registry, &principal))
        .collect();
    Ok(Json(events))
}

/// A link as seen from the incident.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkDto {
    pub other: Uuid,
    /// `related`, `duplicate_of`, `has_duplicate`, `parent_of` or `child_of`.
    pub kind: String,
}

/// The incident's links to incidents the caller may see.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/links", tag = "incidents", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<LinkDto>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn links(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<LinkDto>>> {
    let target = Target::load(&state, &auth, &id, Access::Read).await?;
    let principal = auth.principal();
    let mut out = Vec::new();
    for link in state.store().incident_links(target.id()).await? {
        let other = state.store().get_incident(link.to).await?;
        if other.is_some_and(|other| may_see_incident(&target.registry, &principal, &other.incident)) {
            let kind = serde_json::to_value(link.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            out.push(LinkDto { other: link.to, kind });
        }
    }
    Ok(Json(out))
}

/// A new link.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLink {
    pub other: Uuid,
    /// `related`, `duplicate_of`, `has_duplicate`, `parent_of` or `child_of`, as seen from this
    /// incident.
    pub kind: String,
}

/// Links two incidents.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/links", tag = "incidents", params(("id" = Uuid, Path)),
    request_body = CreateLink,
    responses((status = 201, body = LinkDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn add_link(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<CreateLink>,
) -> ApiResult<(StatusCode, Json<LinkDto>)> {
    let target = Target::load(&state, &auth, &id, Access::Handle).await?;
    visible(&state, &auth, &request.other.to_string()).await?;
    let kind: LinkKind = serde_json::from_value(serde_json::Value::String(request.kind.clone())).map_err(|_| {
        ApiError::validation(vec![FieldError::new(
            "kind",
            format!("unknown link kind {:?}; expected related, duplicate_of, has_duplicate, parent_of or child_of", request.kind),
        )])
    })?;
    target.ops(&state, &auth).link(target.id(), request.other, kind).await?;
    Ok((StatusCode::CREATED, Json(LinkDto { other: request.other, kind: request.kind })))
}

/// Removes the link to another incident.
#[utoipa::path(delete, path = "/api/v1/incidents/{id}/links/{other}", tag = "incidents",
    params(("id" = Uuid, Path), ("other" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn remove_link(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, other)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let target = Target::load(&state, &auth, &id, Access::Handle).await?;
    let other = visible(&state, &auth, &other).await?;
    target.ops(&state, &auth).unlink(target.id(), other.incident.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The incident merged into this one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    pub source: Uuid,
}

/// Merges another incident (`source`) into this one: its observables, tasks, evidence, links
/// and timeline move here, and it is closed pointing to this one.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/merge", tag = "incidents", params(("id" = Uuid, Path)),
    request_body = MergeRequest,
    responses((status = 200, body = IncidentDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn merge_into(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<MergeRequest>,
) -> ApiResult<Json<IncidentDto>> {
    let target = Target::load(&state, &auth, &id, Access::Handle).await?;
    let source = visible(&state, &auth, &request.source.to_string()).await?;
    let merged = target.ops(&state, &auth).merge(target.id(), source.incident.id).await?;
    Ok(Json(target.dto(&state, &auth, &merged)))
}

/// A request for an intermediate report.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntermediateRequestBody {
    /// RFC 3339: when the report is due, at most a year ahead.
    pub due_at: String,
    /// What the requester wants to know, recorded in the timeline.
    pub note: Option<String>,
}

/// The intermediate reports asked of the entity, with how each stands.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/requests", tag = "incidents", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<IntermediateRequestDto>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn requests(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<IntermediateRequestDto>>> {
    let target = Target::load(&state, &auth, &id, Access::Read).await?;
    Ok(Json(intermediate_requests(
        target.stored.deadlines.as_ref(),
        &target.registry,
        Some(&auth.principal()),
        &state.config().deadlines,
        neretva_store::encode::now(),
    )))
}

/// Asks the entity for an intermediate report on the status of the incident (NIS2 Art.
/// 23(4)(c)) by `due_at`: the operating CERT's analysts and admins, or a competent authority
/// supervising the incident's sector (with a credential that may write). The request becomes
/// an obligation of the entity in the incident's deadlines, the queue and the deadline feed,
/// met by the next intermediate (or progress or final) report; it is recorded in the timeline
/// with the requesting organisation, and audited.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/requests", tag = "incidents", params(("id" = Uuid, Path)),
    request_body = IntermediateRequestBody,
    responses((status = 201, body = IncidentDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn request_intermediate(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<IntermediateRequestBody>,
) -> ApiResult<(StatusCode, Json<IncidentDto>)> {
    let target = Target::load(&state, &auth, &id, Access::Read).await?;
    // A competent authority that may see the incident supervises its sector.
    let authority = auth.0.role == Role::Authority && auth.0.scope >= Scope::Write;
    if !authority {
        require_handler(&auth)?;
    }
    let due_at = parse_time("due_at", &request.due_at)?;
    let (_, updated) = target
        .ops(&state, &auth)
        .request_intermediate(target.id(), due_at, Some(auth.0.org_id), request.note)
        .await?;
    Ok((StatusCode::CREATED, Json(target.dto(&state, &auth, &updated))))
}

/// A significance assessment to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignificanceRecordBody {
    /// `neretva_incident::significance::Facts`; without `provider`, the entity type follows the
    /// registry's sector and subsector of the reporting organisation.
    #[schema(value_type = Object)]
    pub facts: Facts,
    /// The version read; refused (409) when the incident changed since.
    pub version: Option<i64>,
}

/// An incident with the assessment just recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignificanceRecorded {
    pub incident: IncidentDto,
    /// The full assessment: `significant`, `met` (with legal bases), `loss_threshold_eur`,
    /// `recurrence`.
    #[schema(value_type = Object)]
    pub assessment: serde_json::Value,
}

/// Records a significance assessment (NIS2 Art. 23(3), Implementing Regulation 2024/2690) on an
/// incident, replacing an earlier one: the entity's earlier incidents with a recorded root
/// cause count for the recurring-incident rule. Shown in the incident, counted in the
/// quarterly summary, recorded in the timeline and audited. The operating CERT's analysts and
/// admins.
#[utoipa::path(put, path = "/api/v1/incidents/{id}/significance", tag = "incidents", params(("id" = Uuid, Path)),
    request_body = SignificanceRecordBody,
    responses((status = 200, body = SignificanceRecorded), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn record_significance(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<SignificanceRecordBody>,
) -> ApiResult<Json<SignificanceRecorded>> {
    let target = Target::load(&state, &auth, &id, Access::Handle).await?;
    let (updated, assessment) =
        target.ops(&state, &auth).assess_significance(target.id(), request.facts, request.version).await?;
    Ok(Json(SignificanceRecorded {
        incident: target.dto(&state, &auth, &updated),
        assessment: serde_json::to_value(assessment).unwrap_or_default(),
    }))
}
