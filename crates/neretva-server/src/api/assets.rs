//! Assets of organisations: IP ranges, ASNs and domains.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use neretva_model::Uuid;
use neretva_model::asset::{Asset, AssetKind, AssetValue};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::api::orgs::{member_data_org, require_member_data_editor, visible_org};
use crate::api::{Page, Paged, parse_id, rfc3339};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::registry::RegistrySnapshot;

/// An asset as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssetDto {
    pub id: Uuid,
    pub org_id: Uuid,
    pub organisation: Option<String>,
    /// `cidr`, `asn` or `domain`.
    pub kind: String,
    /// The canonical value: `192.0.2.0/24`, `AS64500`, `example.ba`.
    pub value: String,
    pub description: Option<String>,
    pub created_at: String,
}

impl AssetDto {
    pub(crate) fn new(asset: Asset, registry: &RegistrySnapshot) -> AssetDto {
        AssetDto {
            id: asset.id,
            org_id: asset.org_id,
            organisation: registry.orgs.get(&asset.org_id).map(|org| org.fields.short_name.clone()),
            kind: asset.value.kind().as_str().to_owned(),
            value: asset.value.to_string(),
            description: asset.description,
            created_at: rfc3339(asset.created_at),
        }
    }
}

/// A new asset.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetInput {
    /// `cidr`, `asn` or `domain`; guessed from the value when absent.
    #[serde(default)]
    pub kind: Option<String>,
    pub value: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// Filters for asset listings.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AssetFilter {
    /// `cidr`, `asn` or `domain`.
    pub kind: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

fn respond(
    assets: Vec<Asset>,
    filter: AssetFilter,
    registry: &RegistrySnapshot,
    auth: &Auth,
) -> ApiResult<Json<Paged<AssetDto>>> {
    let kind = filter.kind.as_deref().map(str::parse::<AssetKind>).transpose()?;
    let principal = auth.principal();
    let visible: Vec<AssetDto> = assets
        .into_iter()
        .filter(|asset| registry.may_see_member_data(&principal, asset.org_id))
        .filter(|asset| kind.is_none_or(|kind| asset.value.kind() == kind))
        .map(|asset| AssetDto::new(asset, registry))
        .collect();
    Ok(Json(Page { limit: filter.limit, cursor: filter.cursor }.apply(visible)?))
}

/// Lists every asset the caller may see.
#[utoipa::path(get, path = "/api/v1/assets", tag = "assets", params(AssetFilter),
    responses((status = 200, body = Paged<AssetDto>)), security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    filter: Result<Query<AssetFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Paged<AssetDto>>> {
    let Query(filter) = filter?;
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let assets = state.store().list_assets(None).await?;
    respond(assets, filter, &registry, &auth)
}

/// Lists an organisation's assets.
#[utoipa::path(get, path = "/api/v1/organisations/{org}/assets", tag = "assets", params(
    ("org" = String, Path, description = "id or short name"), AssetFilter),
    responses((status = 200, body = Paged<AssetDto>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list_for_org(
    State(state): State<AppState>,
    auth: Auth,
    Path(key): Path<String>,
    filter: Result<Query<AssetFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Paged<AssetDto>>> {
    let Query(filter) = filter?;
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let org = member_data_org(&registry, &auth, &key)?;
    let assets = state.store().list_assets(Some(org.id)).await?;
    respond(assets, filter, &registry, &auth)
}

async fn visible_asset(state: &AppState, auth: &Auth, id: &str) -> ApiResult<Asset> {
    let id = parse_id("id", id)?;
    let registry = state.registry();
    state
        .store()
        .get_asset(id)
        .await?
        .filter(|asset| registry.may_see_member_data(&auth.principal(), asset.org_id))
        .ok_or_else(|| ApiError::not_found("asset"))
}

/// Shows one asset.
#[utoipa::path(get, path = "/api/v1/assets/{id}", tag = "assets", params(("id" = Uuid, Path)),
    responses((status = 200, body = AssetDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<AssetDto>> {
    let asset = visible_asset(&state, &auth, &id).await?;
    Ok(Json(AssetDto::new(asset, &state.registry())))
}

/// Adds an asset to an organisation.
#[utoipa::path(post, path = "/api/v1/organisations/{org}/assets", tag = "assets",
    params(("org" = String, Path, description = "id or short name")), request_body = AssetInput,
    responses((status = 201, body = AssetDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Path(key): Path<String>,
    ApiJson(input): ApiJson<AssetInput>,
) -> ApiResult<Response> {
    let registry = state.registry();
    let org = visible_org(&registry, &auth, &key)?;
    require_member_data_editor(&registry, &auth, org.id)?;
    let value = match input.kind.as_deref() {
        Some(kind) => AssetValue::parse(kind.parse()?, &input.value)?,
        None => AssetValue::guess(&input.value)?,
    };
    let description = input.description.filter(|d| !d.is_empty());
    if let Some(description) = &description {
        neretva_model::check_optional_text("description", description, 500)?;
    }
    let asset = state.store().add_asset(&auth.actor(), org.id, &value, description.as_deref()).await?;
    state.refresh_registry().await?;
    Ok((StatusCode::CREATED, Json(AssetDto::new(asset, &state.registry()))).into_response())
}

/// Removes an asset.
#[utoipa::path(delete, path = "/api/v1/assets/{id}", tag = "assets", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let asset = visible_asset(&state, &auth, &id).await?;
    require_member_data_editor(&state.registry(), &auth, asset.org_id)?;
    state.store().delete_asset(&auth.actor(), asset.id).await?;
    state.refresh_registry().await?;
    Ok(StatusCode::NO_CONTENT)
}
