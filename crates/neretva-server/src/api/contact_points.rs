//! The contact-point directory: OSCE CBM 8 policy and technical points, Budapest Convention
//! Art. 35 24/7 points, sector and CERT contact points, and CERT teams' RFC 2350 profiles.
//!
//! Reading: a point is its organisation's member data (`TLP:AMBER+STRICT` to the organisation,
//! those above it and the operating CERT's staff, as contacts are). A Budapest 24/7 point is
//! narrower: the operating CERT's staff and the members of its own organisation only, never
//! the organisations above it. A point the caller may not see answers 404. A team profile is
//! read by whoever may see its organisation.
//!
//! Writing: the operating CERT's admins and analysts with a credential that may write.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use neretva_governance::contact_points::{self, ContactPoint, PointKind};
use neretva_governance::rfc2350::{self, TeamProfile};
use neretva_model::access::may_write;
use neretva_model::audit::{AuditEvent, digest_hex};
use neretva_model::contact::Language;
use neretva_model::{FieldError, Uuid};
use neretva_store::contact_points::{StoredPoint, StoredProfile};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::{parse_id, rfc3339};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::registry::RegistrySnapshot;

/// Whether the caller may see a contact point.
pub fn may_see_point(registry: &RegistrySnapshot, auth: &Auth, point: &ContactPoint) -> bool {
    if point.kind == PointKind::Budapest24x7 {
        return auth.0.is_operator_staff() || auth.0.org_id == point.org_id;
    }
    registry.may_see_member_data(&auth.principal(), point.org_id)
}

/// The directory's keepers: the operating CERT's staff with a credential that may write.
pub fn require_keeper(auth: &Auth) -> ApiResult<()> {
    if auth.0.is_operator_staff() && may_write(&auth.principal()) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only the operating CERT's admins and analysts change the contact-point directory",
        ))
    }
}

/// A contact point as stored, with its version (send it back to replace the point).
#[derive(Debug, Serialize, ToSchema)]
pub struct PointDto {
    pub id: Uuid,
    pub org_id: Uuid,
    /// The organisation's short name.
    pub org: String,
    /// `cbm8-policy`, `cbm8-technical`, `budapest-24x7`, `sector` or `cert`.
    pub kind: String,
    pub sector: Option<String>,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    /// `en`, `bs`, `hr`, `sr-Latn` or `sr-Cyrl`.
    pub language: String,
    pub hours: Option<String>,
    pub pgp_key: Option<String>,
    pub pgp_fingerprint: Option<String>,
    pub notes: Option<String>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

pub fn point_dto(registry: &RegistrySnapshot, stored: &StoredPoint) -> PointDto {
    let point = &stored.point;
    PointDto {
        id: point.id,
        org_id: point.org_id,
        org: registry.short_name(point.org_id),
        kind: point.kind.tag().to_owned(),
        sector: point.sector.clone(),
        name: point.name.clone(),
        email: point.email.clone(),
        phone: point.phone.clone(),
        language: point.language.tag().to_owned(),
        hours: point.hours.clone(),
        pgp_key: point.pgp_key.clone(),
        pgp_fingerprint: point.pgp_fingerprint.clone(),
        notes: point.notes.clone(),
        version: stored.version,
        created_at: rfc3339(stored.created_at),
        updated_at: rfc3339(stored.updated_at),
    }
}

/// A contact point as sent by a client.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PointInput {
    /// The organisation's id or short name.
    pub org: String,
    pub kind: String,
    #[serde(default)]
    pub sector: Option<String>,
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
    /// `en` when left out.
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub hours: Option<String>,
    /// An ASCII-armoured OpenPGP public key.
    #[serde(default)]
    pub pgp_key: Option<String>,
    /// The key's fingerprint as read out of band; checked against the key.
    #[serde(default)]
    pub pgp_fingerprint: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// Makes a checked point from input: every problem by field.
pub fn point_from(
    registry: &RegistrySnapshot,
    input: PointInput,
    id: Uuid,
) -> Result<ContactPoint, Vec<FieldError>> {
    let mut problems = Vec::new();
    let org = registry.resolve(&input.org).map(|org| org.id);
    if org.is_none() {
        problems.push(FieldError::new("org", format!("no organisation {:?}", input.org)));
    }
    let kind = PointKind::parse("kind", &input.kind).map_err(|error| problems.push(error)).ok();
    let language = match input.language.as_deref() {
        None => Some(Language::En),
        Some(text) => text
            .parse::<Language>()
            .map_err(|error| problems.push(FieldError::new("language", error.message)))
            .ok(),
    };
    let (Some(org_id), Some(kind), Some(language)) = (org, kind, language) else {
        return Err(problems);
    };
    let mut point = ContactPoint {
        id,
        org_id,
        kind,
        sector: input.sector,
        name: input.name,
        email: input.email,
        phone: input.phone,
        language,
        hours: input.hours,
        pgp_key: input.pgp_key,
        pgp_fingerprint: input.pgp_fingerprint,
        notes: input.notes,
    };
    problems.extend(contact_points::normalise(&mut point, OffsetDateTime::now_utc()));
    if problems.is_empty() { Ok(point) } else { Err(problems) }
}

async fn visible(
    state: &AppState,
    auth: &Auth,
    id: &str,
) -> ApiResult<(StoredPoint, std::sync::Arc<RegistrySnapshot>)> {
    let id = parse_id("id", id)?;
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let stored = state
        .store()
        .get_contact_point(id)
        .await?
        .filter(|stored| may_see_point(&registry, auth, &stored.point))
        .ok_or_else(|| ApiError::not_found("contact point"))?;
    Ok((stored, registry))
}

/// Filters of the listing.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PointFilter {
    /// An organisation's id or short name.
    pub org: Option<String>,
    /// A kind: `cbm8-policy`, `cbm8-technical`, `budapest-24x7`, `sector`, `cert`.
    pub kind: Option<String>,
    /// A NIS2 sector of sector points.
    pub sector: Option<String>,
}

/// Lists the contact points the caller may see, by organisation, kind and address.
#[utoipa::path(get, path = "/api/v1/contact-points", tag = "contact-points", params(PointFilter),
    responses((status = 200, body = [PointDto]), (status = 400, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(filter): Query<PointFilter>,
) -> ApiResult<Json<Vec<PointDto>>> {
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let org = match filter.org.as_deref() {
        Some(key) => Some(
            registry
                .resolve(key)
                .map(|org| org.id)
                .ok_or_else(|| ApiError::bad_request("org", format!("no organisation {key:?}")))?,
        ),
        None => None,
    };
    let kind = filter.kind.as_deref().map(|text| PointKind::parse("kind", text)).transpose()?;
    let points = state
        .store()
        .list_contact_points(org)
        .await?
        .into_iter()
        .filter(|stored| may_see_point(&registry, &auth, &stored.point))
        .filter(|stored| kind.is_none_or(|kind| stored.point.kind == kind))
        .filter(|stored| filter.sector.is_none() || stored.point.sector == filter.sector)
        .map(|stored| point_dto(&registry, &stored))
        .collect();
    Ok(Json(points))
}

/// Adds a contact point (keepers only); its OpenPGP key is checked and its fingerprint set.
#[utoipa::path(post, path = "/api/v1/contact-points", tag = "contact-points", request_body = PointInput,
    responses((status = 201, body = PointDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<PointInput>,
) -> ApiResult<Response> {
    require_keeper(&auth)?;
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let point = point_from(&registry, input, Uuid::now_v7()).map_err(ApiError::validation)?;
    let stored = state.store().create_contact_point(&auth.actor(), &point).await?;
    Ok((StatusCode::CREATED, Json(point_dto(&registry, &stored))).into_response())
}

/// One contact point.
#[utoipa::path(get, path = "/api/v1/contact-points/{id}", tag = "contact-points", params(("id" = Uuid, Path)),
    responses((status = 200, body = PointDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<PointDto>> {
    let (stored, registry) = visible(&state, &auth, &id).await?;
    Ok(Json(point_dto(&registry, &stored)))
}

/// A point replaced whole, under the version read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplacePoint {
    pub version: i64,
    pub point: PointInput,
}

/// Replaces a contact point (keepers only) when `version` is still current.
#[utoipa::path(put, path = "/api/v1/contact-points/{id}", tag = "contact-points", params(("id" = Uuid, Path)),
    request_body = ReplacePoint,
    responses((status = 200, body = PointDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn replace(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReplacePoint>,
) -> ApiResult<Json<PointDto>> {
    let (stored, registry) = visible(&state, &auth, &id).await?;
    require_keeper(&auth)?;
    let point = point_from(&registry, body.point, stored.point.id).map_err(ApiError::validation)?;
    let written = state.store().update_contact_point(&auth.actor(), &point, body.version).await?;
    Ok(Json(point_dto(&registry, &written)))
}

/// Deletes a contact point (keepers only); campaigns keep their record of it.
#[utoipa::path(delete, path = "/api/v1/contact-points/{id}", tag = "contact-points", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let (stored, _) = visible(&state, &auth, &id).await?;
    require_keeper(&auth)?;
    state.store().delete_contact_point(&auth.actor(), stored.point.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A team's RFC 2350 profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileDto {
    pub org_id: Uuid,
    pub org: String,
    pub updated_at: String,
    /// The profile: `document`, `contact`, `charter`, `policies`, `services`, `forms`,
    /// `disclaimers` (RFC 2350 sections 1 to 7).
    #[schema(value_type = Object)]
    pub profile: Value,
}

fn profile_dto(registry: &RegistrySnapshot, stored: &StoredProfile) -> ProfileDto {
    ProfileDto {
        org_id: stored.profile.org_id,
        org: registry.short_name(stored.profile.org_id),
        updated_at: rfc3339(stored.updated_at),
        profile: serde_json::to_value(&stored.profile).unwrap_or(Value::Null),
    }
}

/// Reads a profile from JSON with the organisation of the path: every problem by field.
pub fn profile_from(value: Value, org_id: Uuid) -> Result<TeamProfile, Vec<FieldError>> {
    let mut value = value;
    if let Value::Object(map) = &mut value {
        map.insert("org_id".into(), Value::String(org_id.to_string()));
    }
    let mut profile: TeamProfile =
        serde_json::from_value(value).map_err(|error| vec![FieldError::new("profile", error.to_string())])?;
    let problems = rfc2350::normalise(&mut profile, OffsetDateTime::now_utc());
    if problems.is_empty() { Ok(profile) } else { Err(problems) }
}

async fn visible_profile(
    state: &AppState,
    auth: &Auth,
    org: &str,
) -> ApiResult<(StoredProfile, std::sync::Arc<RegistrySnapshot>)> {
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let org_id = registry
        .resolve(org)
        .map(|org| org.id)
        .filter(|id| registry.may_see_org(&auth.principal(), *id))
        .ok_or_else(|| ApiError::not_found("team profile"))?;
    let stored =
        state.store().get_team_profile(org_id).await?.ok_or_else(|| ApiError::not_found("team profile"))?;
    Ok((stored, registry))
}

/// An organisation's RFC 2350 team profile.
#[utoipa::path(get, path = "/api/v1/contact-points/profiles/{org}", tag = "contact-points",
    params(("org" = String, Path, description = "the organisation's id or short name")),
    responses((status = 200, body = ProfileDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get_profile(
    State(state): State<AppState>,
    auth: Auth,
    Path(org): Path<String>,
) -> ApiResult<Json<ProfileDto>> {
    let (stored, registry) = visible_profile(&state, &auth, &org).await?;
    Ok(Json(profile_dto(&registry, &stored)))
}

/// Stores or replaces an organisation's RFC 2350 team profile (keepers only).
#[utoipa::path(put, path = "/api/v1/contact-points/profiles/{org}", tag = "contact-points",
    params(("org" = String, Path, description = "the organisation's id or short name")),
    request_body(content = Object, description = "the profile: document, contact, charter, policies, services, forms, disclaimers"),
    responses((status = 200, body = ProfileDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn put_profile(
    State(state): State<AppState>,
    auth: Auth,
    Path(org): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<ProfileDto>> {
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let org_id = registry
        .resolve(&org)
        .map(|org| org.id)
        .filter(|id| registry.may_see_org(&auth.principal(), *id))
        .ok_or_else(|| ApiError::not_found("organisation"))?;
    require_keeper(&auth)?;
    let profile = profile_from(body, org_id).map_err(ApiError::validation)?;
    let stored = state.store().put_team_profile(&auth.actor(), &profile).await?;
    Ok(Json(profile_dto(&registry, &stored)))
}

/// An organisation's team profile as the plain-text RFC 2350 document.
#[utoipa::path(get, path = "/api/v1/contact-points/profiles/{org}/rfc2350", tag = "contact-points",
    params(("org" = String, Path, description = "the organisation's id or short name")),
    responses((status = 200, content_type = "text/plain", body = String), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn export_rfc2350(
    State(state): State<AppState>,
    auth: Auth,
    Path(org): Path<String>,
) -> ApiResult<Response> {
    let (stored, _) = visible_profile(&state, &auth, &org).await?;
    let text = rfc2350::render(&stored.profile);
    state
        .store()
        .append_audit(&AuditEvent {
            actor: auth.actor().0,
            action: "team_profile.export".into(),
            object_type: "team_profile".into(),
            object_id: stored.profile.org_id.to_string(),
            digest: digest_hex(text.as_bytes()),
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}
