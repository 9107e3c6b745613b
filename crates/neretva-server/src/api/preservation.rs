//! Preservation requests under Budapest Convention Art. 29, handled by the 24/7 point of contact
//! (Art. 35).
//!
//! Access: only law-enforcement users (`law_enforcement`) and the admins and analysts of the
//! organisation configured as the 24/7 point (`[preservation] point_of_contact`) see requests;
//! for everyone else, the operating CERT's admins included, every path here answers 404, so the
//! requests' existence does not leak. Those who see them change them with a credential that may
//! write (403 otherwise).
//!
//! Every change reads the request, applies one pure step (`neretva_governance::preservation`),
//! validates the whole result, and writes it under the version read with its audit entry in one
//! transaction: nothing is half-written.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use neretva_governance::preservation::{self, NewRequest, PreservationRequest, Reminder};
use neretva_model::access::may_write;
use neretva_model::user::Role;
use neretva_model::{FieldError, Uuid};
use neretva_store::records::StoredPreservation;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::Date;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::strategy::{on_date, parse_date, today};
use crate::api::{parse_id, rfc3339};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::registry::RegistrySnapshot;

// Access.

/// Whether the caller handles preservation requests: law enforcement, or an admin or analyst of
/// the configured 24/7 point of contact.
pub fn may_handle(registry: &RegistrySnapshot, point_of_contact: Option<&str>, auth: &Auth) -> bool {
    let user = &auth.0;
    user.role == Role::LawEnforcement
        || matches!(user.role, Role::Admin | Role::Analyst)
            && point_of_contact.and_then(|key| registry.resolve(key)).is_some_and(|org| org.id == user.org_id)
}

/// Answers 404 to whoever does not handle preservation requests.
async fn require_handler(state: &AppState, auth: &Auth) -> ApiResult<()> {
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    if may_handle(&registry, state.config().preservation.point_of_contact.as_deref(), auth) {
        Ok(())
    } else {
        Err(ApiError::not_found("preservation request"))
    }
}

/// Loads a request the caller may see, or answers 404.
async fn visible(state: &AppState, auth: &Auth, id: &str) -> ApiResult<StoredPreservation> {
    require_handler(state, auth).await?;
    let id = parse_id("id", id)?;
    state.store().get_preservation(id).await?.ok_or_else(|| ApiError::not_found("preservation request"))
}

fn require_writer(auth: &Auth) -> ApiResult<()> {
    if may_write(&auth.principal()) {
        Ok(())
    } else {
        Err(ApiError::forbidden("a credential that may write is needed to change preservation requests"))
    }
}

/// Validates a request: its fields, and the custodian organisation when one is named.
async fn check(state: &AppState, request: &PreservationRequest) -> ApiResult<()> {
    let mut problems = preservation::validate(request);
    if let Some(org) = request.custodian_org
        && state.store().get_org(org).await?.is_none()
    {
        problems.push(FieldError::new("custodian_org", format!("no organisation {org}")));
    }
    if problems.is_empty() { Ok(()) } else { Err(ApiError::validation(problems)) }
}

/// Reads a visible request, applies a step and writes it under the version read (or the one
/// the caller names), audited as `action`.
async fn change(
    state: &AppState,
    auth: &Auth,
    id: &str,
    version: Option<i64>,
    action: &str,
    apply: impl FnOnce(&mut PreservationRequest) -> Result<(), FieldError>,
) -> ApiResult<Json<PreservationDto>> {
    let stored = visible(state, auth, id).await?;
    require_writer(auth)?;
    let mut request = stored.record.clone();
    apply(&mut request)?;
    check(state, &request).await?;
    let version = version.unwrap_or(stored.version);
    let written = state.store().update_preservation(&auth.actor(), &request, version, action).await?;
    Ok(Json(dto(&written, today())))
}

// Wire types.

/// A preservation request as stored, with its status today.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreservationDto {
    pub id: Uuid,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    /// The status today: `received`, `preserved`, `extended`, `followed_up`, `released`, or
    /// `expired` (preserved or extended, past its expiry).
    pub status: String,
    /// Days to the expiry while the data is held under a term (negative once past).
    pub days_left: Option<i64>,
    /// The request: the fields of Art. 29(2), dates, extensions, the follow-up MLA reference.
    #[schema(value_type = Object)]
    pub request: Value,
}

fn dto(stored: &StoredPreservation, today: Date) -> PreservationDto {
    PreservationDto {
        id: stored.record.id,
        version: stored.version,
        created_at: rfc3339(stored.created_at),
        updated_at: rfc3339(stored.updated_at),
        status: stored.record.status_on(today).as_str().to_owned(),
        days_left: stored.record.days_left(today),
        request: serde_json::to_value(&stored.record).unwrap_or(Value::Null),
    }
}

// Handlers.

/// Lists the preservation requests, by reference, with their status today.
#[utoipa::path(get, path = "/api/v1/preservation", tag = "preservation",
    responses((status = 200, body = [PreservationDto]), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<PreservationDto>>> {
    require_handler(&state, &auth).await?;
    let today = today();
    Ok(Json(state.store().list_preservations().await?.iter().map(|stored| dto(stored, today)).collect()))
}

/// Records a received (or sent) request with the fields of Art. 29(2).
#[utoipa::path(post, path = "/api/v1/preservation", tag = "preservation",
    request_body(content = Object, description = "reference, direction (received|sent), requesting_authority, \
        requesting_party, offence, facts, data_sought, relation_to_offence, custodian, custodian_org (id), \
        necessity, mla_intended (must be true), received_on (YYYY-MM-DD), notes"),
    responses((status = 201, body = PreservationDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    require_handler(&state, &auth).await?;
    require_writer(&auth)?;
    let new: NewRequest =
        serde_json::from_value(body).map_err(|error| ApiError::bad_request("request", error.to_string()))?;
    let request = PreservationRequest::new(Uuid::new_v4(), new);
    check(&state, &request).await?;
    let stored = state.store().create_preservation(&auth.actor(), &request).await?;
    Ok((StatusCode::CREATED, Json(dto(&stored, today()))).into_response())
}

/// The day reminders are computed for.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RemindersQuery {
    /// YYYY-MM-DD; today when left out.
    pub on: Option<String>,
}

/// The requests due for a reminder: held under a term that ends within the largest configured
/// lead (`[preservation] reminder_days`, default 14 and 3 days), soonest first.
#[utoipa::path(get, path = "/api/v1/preservation/reminders", tag = "preservation", params(RemindersQuery),
    responses((status = 200, body = [Object]), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn reminders(
    State(state): State<AppState>,
    auth: Auth,
    query: Result<Query<RemindersQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<Reminder>>> {
    require_handler(&state, &auth).await?;
    let Query(query) = query?;
    let day = on_date("on", query.on.as_deref())?;
    let requests: Vec<PreservationRequest> =
        state.store().list_preservations().await?.into_iter().map(|stored| stored.record).collect();
    Ok(Json(preservation::due_reminders(&requests, day, &state.config().preservation.reminder_days)))
}

/// One preservation request.
#[utoipa::path(get, path = "/api/v1/preservation/{id}", tag = "preservation", params(("id" = Uuid, Path)),
    responses((status = 200, body = PreservationDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<PreservationDto>> {
    Ok(Json(dto(&visible(&state, &auth, &id).await?, today())))
}

/// The data was preserved.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreserveInput {
    /// The day of preservation (YYYY-MM-DD).
    pub on: String,
    /// The expiry; at least 60 days after `on` (Art. 29(7)), which is the default.
    pub until: Option<String>,
    /// The version read; the current one when left out.
    pub version: Option<i64>,
}

/// Records the preservation: the term runs at least 60 days (Art. 29(7)).
#[utoipa::path(post, path = "/api/v1/preservation/{id}/preserve", tag = "preservation", params(("id" = Uuid, Path)),
    request_body = PreserveInput,
    responses((status = 200, body = PreservationDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn preserve(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PreserveInput>,
) -> ApiResult<Json<PreservationDto>> {
    let on = parse_date("on", &body.on)?;
    let until = body.until.as_deref().map(|until| parse_date("until", until)).transpose()?;
    change(&state, &auth, &id, body.version, "preservation.preserve", |request| {
        preservation::preserve(request, on, until)
    })
    .await
}

/// An extension, on the requesting Party's request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendInput {
    pub requested_on: String,
    /// The new expiry, after the current one.
    pub until: String,
    pub note: Option<String>,
    pub version: Option<i64>,
}

/// Extends the term of a preserved request before it expires.
#[utoipa::path(post, path = "/api/v1/preservation/{id}/extend", tag = "preservation", params(("id" = Uuid, Path)),
    request_body = ExtendInput,
    responses((status = 200, body = PreservationDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn extend(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ExtendInput>,
) -> ApiResult<Json<PreservationDto>> {
    let requested_on = parse_date("requested_on", &body.requested_on)?;
    let until = parse_date("until", &body.until)?;
    change(&state, &auth, &id, body.version, "preservation.extend", |request| {
        preservation::extend(request, requested_on, until, body.note)
    })
    .await
}

/// The follow-up mutual-legal-assistance request arrived.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpInput {
    /// The MLA request's reference.
    pub reference: String,
    pub received_on: String,
    pub version: Option<i64>,
}

/// Links the follow-up MLA request: the data stays preserved until a decision on it.
#[utoipa::path(post, path = "/api/v1/preservation/{id}/follow-up", tag = "preservation", params(("id" = Uuid, Path)),
    request_body = FollowUpInput,
    responses((status = 200, body = PreservationDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn follow_up(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<FollowUpInput>,
) -> ApiResult<Json<PreservationDto>> {
    let on = parse_date("received_on", &body.received_on)?;
    change(&state, &auth, &id, body.version, "preservation.follow_up", |request| {
        preservation::follow_up(request, body.reference, on)
    })
    .await
}

/// The preserved data was released.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseInput {
    pub on: String,
    pub version: Option<i64>,
}

/// Records the release of the preserved data (or the closing of an unpreserved request).
#[utoipa::path(post, path = "/api/v1/preservation/{id}/release", tag = "preservation", params(("id" = Uuid, Path)),
    request_body = ReleaseInput,
    responses((status = 200, body = PreservationDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn release(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReleaseInput>,
) -> ApiResult<Json<PreservationDto>> {
    let on = parse_date("on", &body.on)?;
    change(&state, &auth, &id, body.version, "preservation.release", |request| {
        preservation::release(request, on)
    })
    .await
}
