//! The strategy and action-plan tracker: strategic documents, their objectives, measures and
//! actions, KPI measurements, progress views and the implementation report.
//!
//! Reading: a document is owned by its `owner_org` and labelled with a TLP; every read asks
//! `may_see` (the Guidelines and most plans are `TLP:GREEN`, so every authenticated user reads
//! them; an `TLP:AMBER` action plan only its owner's audience and the CERT's staff). A document
//! the caller may not see answers 404, on every path below it too.
//!
//! Writing: the coordinators are the operating CERT's admins and analysts with a credential
//! that may write (as for incidents); everyone else gets 403 on documents they may see. Every
//! change reads the document, applies one pure change (`neretva_governance::strategy`),
//! validates the whole result (every problem, by field path), and writes it under the version
//! read, with its audit entry, in one transaction: nothing is half-written.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use neretva_governance::defaults;
use neretva_governance::report;
use neretva_governance::strategy::{
    self, Action, ActionPatch, ActionStatus, EvidenceLink, Kpi, MeasureDraft, Measurement, ReferenceKind,
    StrategyDocument,
};
use neretva_model::access::{Visibility, may_see, may_write};
use neretva_model::audit::{AuditEvent, digest_hex};
use neretva_model::contact::Language;
use neretva_model::{FieldError, Timestamp, Uuid};
use neretva_store::governance::StoredStrategy;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::{parse_id, rfc3339};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::registry::RegistrySnapshot;

// Access.

/// Whether the principal may see a document.
pub(crate) fn may_see_document(
    registry: &RegistrySnapshot,
    auth: &Auth,
    document: &StrategyDocument,
) -> bool {
    let ancestors = registry.ancestors(document.owner_org);
    may_see(&auth.principal(), &Visibility::owned(document.owner_org, ancestors, document.tlp))
}

/// The coordinators: the operating CERT's staff with a credential that may write.
fn require_coordinator(auth: &Auth) -> ApiResult<()> {
    if auth.0.is_operator_staff() && may_write(&auth.principal()) {
        Ok(())
    } else {
        Err(ApiError::forbidden("only the operating CERT's admins and analysts change strategic documents"))
    }
}

/// Loads a document the caller may see, or answers 404.
async fn visible(state: &AppState, auth: &Auth, id: &str) -> ApiResult<StoredStrategy> {
    let id = parse_id("id", id)?;
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    state
        .store()
        .get_strategy(id)
        .await?
        .filter(|stored| may_see_document(&registry, auth, &stored.document))
        .ok_or_else(|| ApiError::not_found("strategic document"))
}

/// Validates a document: its fields, and the organisations it names (an organisation missing
/// from the registry snapshot is looked up in the store before it is called unknown; contacts
/// are checked by the store, in the transaction that writes).
async fn check(state: &AppState, document: &StrategyDocument) -> ApiResult<()> {
    let mut problems = strategy::validate(document, &state.config().authority_levels);
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    for reference in strategy::references(document) {
        if reference.kind == ReferenceKind::Organisation
            && !registry.orgs.contains_key(&reference.id)
            && state.store().get_org(reference.id).await?.is_none()
        {
            problems.push(FieldError::new(reference.field, format!("no organisation {}", reference.id)));
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(ApiError::validation(problems)) }
}

/// Reads a visible document, applies a change as a coordinator and writes it under the version
/// read, audited as `action`.
async fn change(
    state: &AppState,
    auth: &Auth,
    id: &str,
    action: &str,
    apply: impl FnOnce(&mut StrategyDocument, Timestamp) -> Result<(), FieldError>,
) -> ApiResult<StoredStrategy> {
    let stored = visible(state, auth, id).await?;
    require_coordinator(auth)?;
    let mut document = stored.document.clone();
    apply(&mut document, OffsetDateTime::now_utc())?;
    check(state, &document).await?;
    Ok(state.store().update_strategy(&auth.actor(), &document, stored.version, action).await?)
}

// Wire types.

/// A strategic document as stored, with its version (send it back to replace the document).
#[derive(Debug, Serialize, ToSchema)]
pub struct StrategyDto {
    pub id: Uuid,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    /// The document: `code`, `title`, `owner_org`, `tlp`, `objectives[].measures[].actions[]`
    /// with `kpis`, `evidence` and `tags`.
    #[schema(value_type = Object)]
    pub document: Value,
}

fn dto(stored: &StoredStrategy) -> StrategyDto {
    StrategyDto {
        id: stored.document.id,
        version: stored.version,
        created_at: rfc3339(stored.created_at),
        updated_at: rfc3339(stored.updated_at),
        document: serde_json::to_value(&stored.document).unwrap_or(Value::Null),
    }
}

/// A document in a listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct StrategySummary {
    pub id: Uuid,
    pub code: String,
    pub title: String,
    /// The owner's short name.
    pub owner: String,
    pub tlp: String,
    pub version: i64,
    pub updated_at: String,
    pub objectives: usize,
    pub actions: u32,
    /// The mean progress of the actions that are not cancelled, today.
    pub progress: Option<f64>,
    pub overdue: u32,
}

pub(crate) fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

pub(crate) fn parse_date(field: &str, text: &str) -> Result<Date, FieldError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &format)
        .map_err(|_| FieldError::new(field, format!("{text:?} is not a date (YYYY-MM-DD)")))
}

pub(crate) fn on_date(field: &str, text: Option<&str>) -> Result<Date, FieldError> {
    text.map_or(Ok(today()), |text| parse_date(field, text))
}

fn parse_status(field: &str, text: &str) -> Result<ActionStatus, FieldError> {
    ActionStatus::parse(text).ok_or_else(|| {
        FieldError::new(
            field,
            format!("{text:?} is not one of planned, in_progress, done, delayed, cancelled"),
        )
    })
}

/// The value, or `None` with the problem kept.
pub(crate) fn keep<T>(problems: &mut Vec<FieldError>, result: Result<T, FieldError>) -> Option<T> {
    result.map_err(|error| problems.push(error)).ok()
}

/// Resolves an organisation by id or short name; `field` names it in the error.
fn resolve_org(registry: &RegistrySnapshot, field: &str, key: &str) -> Result<(Uuid, String), FieldError> {
    registry
        .resolve(key)
        .map(|org| (org.id, org.fields.authority_level.clone()))
        .ok_or_else(|| FieldError::new(field, format!("no organisation {key:?}")))
}

/// Makes a document from posted JSON: ids for the actions without one, the server's time
/// on every action.
fn document_from(value: Value, id: Uuid, now: Timestamp) -> ApiResult<StrategyDocument> {
    strategy::document_from_json(value, id, now, Uuid::new_v4)
        .map_err(|message| ApiError::bad_request("document", message))
}

// Documents.

/// Lists the strategic documents the caller may see, by code, with their progress today.
#[utoipa::path(get, path = "/api/v1/strategy", tag = "strategy",
    responses((status = 200, body = [StrategySummary])), security(("bearer" = []), ("session" = [])))]
pub async fn list(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<StrategySummary>>> {
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let today = today();
    let items = state
        .store()
        .list_strategies()
        .await?
        .into_iter()
        .filter(|stored| may_see_document(&registry, &auth, &stored.document))
        .map(|stored| {
            let total = strategy::progress_total(&stored.document, today);
            StrategySummary {
                id: stored.document.id,
                code: stored.document.code.clone(),
                title: stored.document.title.clone(),
                owner: registry.short_name(stored.document.owner_org),
                tlp: stored.document.tlp.to_string(),
                version: stored.version,
                updated_at: rfc3339(stored.updated_at),
                objectives: stored.document.objectives.len(),
                actions: total.actions,
                progress: total.progress,
                overdue: total.overdue,
            }
        })
        .collect();
    Ok(Json(items))
}

/// Creates a strategic document (coordinators only).
#[utoipa::path(post, path = "/api/v1/strategy", tag = "strategy",
    request_body(content = Object, description = "the document: code, title, owner_org (id), tlp, objectives"),
    responses((status = 201, body = StrategyDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    require_coordinator(&auth)?;
    let document = document_from(body, Uuid::new_v4(), OffsetDateTime::now_utc())?;
    check(&state, &document).await?;
    let stored = state.store().create_strategy(&auth.actor(), &document).await?;
    Ok((StatusCode::CREATED, Json(dto(&stored))).into_response())
}

/// Which organisation owns the default documents.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DefaultsRequest {
    /// An organisation's id or short name; the operating CERT when left out.
    pub owner: Option<String>,
}

/// Loads the BiH Guidelines for a Strategic Cybersecurity Framework (objectives A–I) as a
/// document (coordinators only); loading them twice is a conflict on `code`.
#[utoipa::path(post, path = "/api/v1/strategy/defaults", tag = "strategy", request_body = DefaultsRequest,
    responses((status = 201, body = StrategyDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn load_defaults(
    State(state): State<AppState>,
    auth: Auth,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    require_coordinator(&auth)?;
    let request: DefaultsRequest = if body.iter().all(u8::is_ascii_whitespace) {
        DefaultsRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|error| ApiError::bad_request("owner", error.to_string()))?
    };
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let owner = match request.owner.as_deref() {
        Some(key) => resolve_org(&registry, "owner", key)?.0,
        None => {
            registry.operator_id.ok_or_else(|| ApiError::bad_request("owner", "no operator organisation"))?
        }
    };
    let document = defaults::guidelines(Uuid::new_v4(), owner);
    check(&state, &document).await?;
    let stored = state.store().create_strategy(&auth.actor(), &document).await?;
    Ok((StatusCode::CREATED, Json(dto(&stored))).into_response())
}

/// One strategic document.
#[utoipa::path(get, path = "/api/v1/strategy/{id}", tag = "strategy", params(("id" = Uuid, Path)),
    responses((status = 200, body = StrategyDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<StrategyDto>> {
    Ok(Json(dto(&visible(&state, &auth, &id).await?)))
}

/// A document replaced whole, under the version read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceStrategy {
    pub version: i64,
    #[schema(value_type = Object)]
    pub document: Value,
}

/// Replaces a document (coordinators only) when `version` is still current; actions that
/// changed get the server's time as `updated_at`.
#[utoipa::path(put, path = "/api/v1/strategy/{id}", tag = "strategy", params(("id" = Uuid, Path)),
    request_body = ReplaceStrategy,
    responses((status = 200, body = StrategyDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn replace(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReplaceStrategy>,
) -> ApiResult<Json<StrategyDto>> {
    let stored = visible(&state, &auth, &id).await?;
    require_coordinator(&auth)?;
    let now = OffsetDateTime::now_utc();
    let mut document = document_from(body.document, stored.document.id, now)?;
    strategy::stamp_changes(&stored.document, &mut document, now);
    check(&state, &document).await?;
    let written =
        state.store().update_strategy(&auth.actor(), &document, body.version, "strategy.update").await?;
    Ok(Json(dto(&written)))
}

/// Deletes a document (coordinators only).
#[utoipa::path(delete, path = "/api/v1/strategy/{id}", tag = "strategy", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let stored = visible(&state, &auth, &id).await?;
    require_coordinator(&auth)?;
    state.store().delete_strategy(&auth.actor(), stored.document.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// Measures, actions, measurements.

/// A new measure under an objective.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMeasure {
    /// The objective's code, e.g. `A`.
    pub objective: String,
    /// Unique in the document, e.g. `A.1`.
    pub code: String,
    pub title: String,
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Adds a measure to an objective (coordinators only).
#[utoipa::path(post, path = "/api/v1/strategy/{id}/measures", tag = "strategy", params(("id" = Uuid, Path)),
    request_body = NewMeasure,
    responses((status = 201, body = StrategyDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn add_measure(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewMeasure>,
) -> ApiResult<Response> {
    let draft =
        MeasureDraft { code: body.code, title: body.title, description: body.description, tags: body.tags };
    let stored = change(&state, &auth, &id, "strategy.measure.add", |document, _| {
        strategy::add_measure(document, &body.objective, draft)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(dto(&stored))).into_response())
}

/// A KPI of an action.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KpiInput {
    pub code: String,
    pub name: String,
    pub unit: Option<String>,
    pub baseline: Option<f64>,
    pub target: f64,
}

impl From<KpiInput> for Kpi {
    fn from(input: KpiInput) -> Kpi {
        Kpi {
            code: input.code,
            name: input.name,
            unit: input.unit,
            baseline: input.baseline,
            target: input.target,
            measurements: Vec::new(),
        }
    }
}

/// An evidence link.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceInput {
    pub title: String,
    pub url: String,
}

impl From<EvidenceInput> for EvidenceLink {
    fn from(input: EvidenceInput) -> EvidenceLink {
        EvidenceLink { title: input.title, url: input.url }
    }
}

/// A new action under a measure.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAction {
    /// The measure's code, e.g. `A.1`.
    pub measure: String,
    pub title: String,
    pub description: Option<String>,
    /// The owner organisation's id or short name.
    pub owner_org: String,
    /// A configured level of authority; the owner's level when left out.
    pub authority_level: Option<String>,
    /// Contact ids from the registry.
    #[serde(default)]
    pub responsible_contacts: Vec<Uuid>,
    /// YYYY-MM-DD.
    pub start: String,
    /// YYYY-MM-DD, not before `start`.
    pub due: String,
    /// `planned` (default), `in_progress`, `done`, `delayed` or `cancelled`.
    pub status: Option<String>,
    /// 0–100, default 0 (100 when done).
    pub progress: Option<u8>,
    #[serde(default)]
    pub kpis: Vec<KpiInput>,
    #[serde(default)]
    pub evidence: Vec<EvidenceInput>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Adds an action to a measure (coordinators only); answers the document, whose new action is
/// the measure's last.
#[utoipa::path(post, path = "/api/v1/strategy/{id}/actions", tag = "strategy", params(("id" = Uuid, Path)),
    request_body = NewAction,
    responses((status = 201, body = StrategyDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn add_action(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewAction>,
) -> ApiResult<Response> {
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let mut problems = Vec::new();
    let owner = resolve_org(&registry, "owner_org", &body.owner_org).map_err(|e| problems.push(e)).ok();
    let start = parse_date("start", &body.start).map_err(|e| problems.push(e)).ok();
    let due = parse_date("due", &body.due).map_err(|e| problems.push(e)).ok();
    let status = match body.status.as_deref() {
        None => Some(ActionStatus::Planned),
        Some(text) => parse_status("status", text).map_err(|e| problems.push(e)).ok(),
    };
    let (Some((owner_org, owner_level)), Some(start), Some(due), Some(status)) = (owner, start, due, status)
    else {
        return Err(ApiError::validation(problems));
    };
    let progress = body.progress.unwrap_or(if status == ActionStatus::Done { 100 } else { 0 });
    let measure = body.measure;
    let action = Action {
        id: Uuid::new_v4(),
        title: body.title,
        description: body.description,
        owner_org,
        authority_level: body.authority_level.unwrap_or(owner_level),
        responsible_contacts: body.responsible_contacts,
        start,
        due,
        status,
        progress,
        kpis: body.kpis.into_iter().map(Kpi::from).collect(),
        evidence: body.evidence.into_iter().map(EvidenceLink::from).collect(),
        tags: body.tags,
        updated_at: OffsetDateTime::now_utc(),
    };
    let stored = change(&state, &auth, &id, "strategy.action.add", |document, now| {
        strategy::add_action(document, &measure, action, now)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(dto(&stored))).into_response())
}

/// Changes to an action; fields left out stay. `add_evidence` and `add_kpis` are appended.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionChanges {
    pub title: Option<String>,
    /// An organisation's id or short name.
    pub owner_org: Option<String>,
    pub authority_level: Option<String>,
    pub responsible_contacts: Option<Vec<Uuid>>,
    pub start: Option<String>,
    pub due: Option<String>,
    pub status: Option<String>,
    pub progress: Option<u8>,
    #[serde(default)]
    pub add_evidence: Vec<EvidenceInput>,
    #[serde(default)]
    pub add_kpis: Vec<KpiInput>,
    pub tags: Option<Vec<String>>,
}

/// Changes an action: status, progress, dates, owner, contacts, evidence, KPIs, tags
/// (coordinators only).
#[utoipa::path(patch, path = "/api/v1/strategy/{id}/actions/{action}", tag = "strategy",
    params(("id" = Uuid, Path), ("action" = Uuid, Path)), request_body = ActionChanges,
    responses((status = 200, body = StrategyDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn update_action(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, action)): Path<(String, String)>,
    ApiJson(body): ApiJson<ActionChanges>,
) -> ApiResult<Json<StrategyDto>> {
    let action_id = parse_id("action", &action)?;
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let mut problems = Vec::new();
    let owner_org = body
        .owner_org
        .as_deref()
        .and_then(|key| keep(&mut problems, resolve_org(&registry, "owner_org", key)).map(|o| o.0));
    let start = body.start.as_deref().and_then(|text| keep(&mut problems, parse_date("start", text)));
    let due = body.due.as_deref().and_then(|text| keep(&mut problems, parse_date("due", text)));
    let status = body.status.as_deref().and_then(|text| keep(&mut problems, parse_status("status", text)));
    if !problems.is_empty() {
        return Err(ApiError::validation(problems));
    }
    let patch = ActionPatch {
        title: body.title,
        owner_org,
        authority_level: body.authority_level,
        responsible_contacts: body.responsible_contacts,
        start,
        due,
        status,
        progress: body.progress,
        add_evidence: body.add_evidence.into_iter().map(EvidenceLink::from).collect(),
        add_kpis: body.add_kpis.into_iter().map(Kpi::from).collect(),
        tags: body.tags,
    };
    let stored = change(&state, &auth, &id, "strategy.action.update", |document, now| {
        strategy::update_action(document, action_id, patch, now)
    })
    .await?;
    Ok(Json(dto(&stored)))
}

/// A KPI's value on a date.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMeasurement {
    /// YYYY-MM-DD; a second value for the same date replaces the first.
    pub date: String,
    pub value: f64,
    pub note: Option<String>,
}

/// Records a KPI measurement (coordinators only).
#[utoipa::path(post, path = "/api/v1/strategy/{id}/actions/{action}/kpis/{kpi}/measurements", tag = "strategy",
    params(("id" = Uuid, Path), ("action" = Uuid, Path), ("kpi" = String, Path, description = "The KPI's code")),
    request_body = NewMeasurement,
    responses((status = 201, body = StrategyDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn add_measurement(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, action, kpi)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<NewMeasurement>,
) -> ApiResult<Response> {
    let action_id = parse_id("action", &action)?;
    let date = parse_date("date", &body.date)?;
    let measurement = Measurement { date, value: body.value, note: body.note };
    let stored = change(&state, &auth, &id, "strategy.kpi.measure", |document, now| {
        strategy::record_measurement(document, action_id, &kpi, measurement, now)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(dto(&stored))).into_response())
}

// Views.

/// The day a view describes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OnDate {
    /// YYYY-MM-DD; today (UTC) when left out. An action is overdue when due before this day.
    pub on: Option<String>,
}

/// Progress of a document: all actions, by objective and by level of authority.
#[utoipa::path(get, path = "/api/v1/strategy/{id}/progress", tag = "strategy", params(("id" = Uuid, Path), OnDate),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn progress(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    query: Result<Query<OnDate>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(query) = query?;
    let day = on_date("on", query.on.as_deref())?;
    let stored = visible(&state, &auth, &id).await?;
    let document = &stored.document;
    Ok(Json(serde_json::json!({
        "date": day.to_string(),
        "total": strategy::progress_total(document, day),
        "by_objective": strategy::progress_by_objective(document, day),
        "by_level": strategy::progress_by_level(document, &state.config().authority_levels, day),
    })))
}

/// The actions of a document overdue on a day, earliest due first.
#[utoipa::path(get, path = "/api/v1/strategy/{id}/overdue", tag = "strategy", params(("id" = Uuid, Path), OnDate),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn overdue(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    query: Result<Query<OnDate>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(query) = query?;
    let day = on_date("on", query.on.as_deref())?;
    let stored = visible(&state, &auth, &id).await?;
    let items = strategy::overdue(&stored.document, day);
    Ok(Json(serde_json::json!({ "date": day.to_string(), "items": items })))
}

/// Since when changes are listed.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Since {
    /// RFC 3339 or YYYY-MM-DD (midnight UTC).
    pub since: String,
}

/// The actions of a document changed at or after a time, latest first.
#[utoipa::path(get, path = "/api/v1/strategy/{id}/changes", tag = "strategy", params(("id" = Uuid, Path), Since),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn changes(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    query: Result<Query<Since>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(query) = query?;
    let since = OffsetDateTime::parse(&query.since, &time::format_description::well_known::Rfc3339)
        .or_else(|_| parse_date("since", &query.since).map(|day| day.midnight().assume_utc()))
        .map_err(|_| {
            FieldError::new("since", format!("{:?} is not an RFC 3339 time or a date", query.since))
        })?;
    let stored = visible(&state, &auth, &id).await?;
    let items = strategy::changed_since(&stored.document, since, today());
    Ok(Json(serde_json::json!({ "since": rfc3339(since), "items": items })))
}

/// The format and day of the implementation report.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// `json` (default), `csv` or `html`.
    pub format: Option<String>,
    /// YYYY-MM-DD; today (UTC) when left out.
    pub on: Option<String>,
    /// The language of the HTML report: `en` (default), `bs`, `hr`, `sr-Latn` or `sr-Cyrl`.
    pub lang: Option<String>,
}

/// The implementation report of a document as JSON, CSV or HTML; every export is audited.
#[utoipa::path(get, path = "/api/v1/strategy/{id}/report", tag = "strategy", params(("id" = Uuid, Path), ReportQuery),
    responses((status = 200, description = "the report as JSON, CSV or HTML"), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn implementation_report(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(query) = query?;
    let format = query.format.as_deref().unwrap_or("json");
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
    let day = on_date("on", query.on.as_deref())?;
    let language = match query.lang.as_deref() {
        None => Language::En,
        Some(tag) => tag.parse::<Language>().map_err(|_| {
            ApiError::bad_request(
                "lang",
                format!("unknown language {tag:?}; expected en, bs, hr, sr-Latn or sr-Cyrl"),
            )
        })?,
    };
    let stored = visible(&state, &auth, &id).await?;
    let registry = state.registry();
    let names: BTreeMap<Uuid, String> =
        registry.orgs.values().map(|org| (org.id, org.fields.name.clone())).collect();
    let built = report::build(&stored.document, &state.config().authority_levels, &names, day);
    let body = match format {
        "csv" => report::to_csv(&built),
        "html" => report::to_html(&built, language),
        _ => report::to_json(&built),
    };
    state
        .store()
        .append_audit(&AuditEvent {
            actor: auth.actor().0,
            action: "strategy.report.export".into(),
            object_type: "strategy".into(),
            object_id: stored.document.id.to_string(),
            digest: digest_hex(body.as_bytes()),
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}
