//! Organisations: the constituency registry, with bulk import and export.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use neretva_model::Uuid;
use neretva_model::access::{may_administer, may_see};
use neretva_model::audit::{AuditEvent, digest_hex};
use neretva_model::org::{EntityType, Organisation, OrganisationFields};
use neretva_model::registry_io;
use neretva_store::{ImportMode, ImportSummary};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::{Page, Paged, rfc3339};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{ApiJson, Auth};
use crate::registry::RegistrySnapshot;

/// An organisation as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgDto {
    pub id: Uuid,
    pub name: String,
    pub short_name: String,
    pub address: Option<String>,
    pub country: String,
    pub sector: Option<String>,
    pub subsector: Option<String>,
    /// `essential`, `important` or `other`.
    pub entity_type: String,
    pub authority_level: String,
    pub parent_id: Option<Uuid>,
    /// The parent's short name.
    pub parent: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Addresses whose newest notification failed for good (one organisation shown, to those
    /// who may see its contacts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification_failures: Option<Vec<crate::api::notifications::ContactDeliveryDto>>,
}

impl OrgDto {
    pub fn new(org: &Organisation, registry: &RegistrySnapshot) -> OrgDto {
        let fields = &org.fields;
        OrgDto {
            id: org.id,
            name: fields.name.clone(),
            short_name: fields.short_name.clone(),
            address: fields.address.clone(),
            country: fields.country.clone(),
            sector: fields.sector.clone(),
            subsector: fields.subsector.clone(),
            entity_type: fields.entity_type.to_string(),
            authority_level: fields.authority_level.clone(),
            parent_id: fields.parent_id,
            parent: fields
                .parent_id
                .and_then(|id| registry.orgs.get(&id))
                .map(|parent| parent.fields.short_name.clone()),
            created_at: rfc3339(org.created_at),
            updated_at: rfc3339(org.updated_at),
            notification_failures: None,
        }
    }
}

/// What a client sends to create or replace an organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgInput {
    pub name: String,
    pub short_name: String,
    #[serde(default)]
    pub address: Option<String>,
    /// ISO 3166-1 alpha-2; defaults to `BA`.
    #[serde(default)]
    pub country: Option<String>,
    /// A NIS2 Annex I or II sector slug, e.g. `energy`.
    #[serde(default)]
    pub sector: Option<String>,
    #[serde(default)]
    pub subsector: Option<String>,
    /// `essential`, `important` or `other` (the default).
    #[serde(default)]
    pub entity_type: Option<String>,
    /// One of the configured levels of authority.
    pub authority_level: String,
    /// The parent organisation's id or short name.
    #[serde(default)]
    pub parent: Option<String>,
}

impl OrgInput {
    fn into_fields(self, state: &AppState, registry: &RegistrySnapshot) -> ApiResult<OrganisationFields> {
        let mut errors = Vec::new();
        let entity_type = match self.entity_type.as_deref().unwrap_or("other").parse::<EntityType>() {
            Ok(entity_type) => entity_type,
            Err(error) => {
                errors.push(error);
                EntityType::Other
            }
        };
        let parent_id = match self.parent.as_deref() {
            None | Some("") => None,
            Some(key) => match registry.resolve(key) {
                Some(parent) => Some(parent.id),
                None => {
                    errors.push(neretva_model::FieldError::new("parent", format!("no organisation {key:?}")));
                    None
                }
            },
        };
        let fields = OrganisationFields {
            name: self.name,
            short_name: self.short_name,
            address: self.address.filter(|address| !address.is_empty()),
            country: self.country.unwrap_or_else(|| "BA".into()),
            sector: self.sector.filter(|sector| !sector.is_empty()),
            subsector: self.subsector.filter(|subsector| !subsector.is_empty()),
            entity_type,
            authority_level: self.authority_level,
            parent_id,
        };
        errors.extend(fields.validate(&state.config().authority_levels));
        if errors.is_empty() { Ok(fields) } else { Err(ApiError::validation(errors)) }
    }
}

/// Filters for the organisation list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OrgFilter {
    pub sector: Option<String>,
    pub authority_level: Option<String>,
    pub entity_type: Option<String>,
    /// Text contained in the name or short name (case-insensitive).
    pub q: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

pub(crate) fn require_admin(auth: &Auth) -> ApiResult<()> {
    if may_administer(&auth.principal()) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "this needs an administrator of the operating CERT with an admin-scoped credential",
        ))
    }
}

/// Registry maintenance: the operator's admins and analysts with write access.
pub(crate) fn require_registry_writer(auth: &Auth) -> ApiResult<()> {
    let principal = auth.principal();
    if auth.0.is_operator_staff() && neretva_model::access::may_write(&principal) {
        Ok(())
    } else {
        Err(ApiError::forbidden("only the operating CERT's staff may change organisations"))
    }
}

/// Resolves an organisation the caller may see, or answers 404 (never revealing existence).
pub(crate) fn visible_org<'a>(
    registry: &'a RegistrySnapshot,
    auth: &Auth,
    key: &str,
) -> ApiResult<&'a Organisation> {
    registry
        .resolve(key)
        .filter(|org| registry.may_see_org(&auth.principal(), org.id))
        .ok_or_else(|| ApiError::not_found("organisation"))
}

/// Resolves an organisation whose contacts and assets the caller may see, or answers 404.
pub(crate) fn member_data_org<'a>(
    registry: &'a RegistrySnapshot,
    auth: &Auth,
    key: &str,
) -> ApiResult<&'a Organisation> {
    let org = visible_org(registry, auth, key)?;
    if registry.may_see_member_data(&auth.principal(), org.id) {
        Ok(org)
    } else {
        Err(ApiError::not_found("organisation"))
    }
}

/// Refuses changes to an organisation's contacts and assets the caller may not make.
pub(crate) fn require_member_data_editor(
    registry: &RegistrySnapshot,
    auth: &Auth,
    org_id: Uuid,
) -> ApiResult<()> {
    if registry.may_edit_member_data(&auth.principal(), org_id) {
        Ok(())
    } else {
        Err(ApiError::forbidden("you may not change this organisation's contacts and assets"))
    }
}

/// Lists the organisations the caller may see.
#[utoipa::path(get, path = "/api/v1/organisations", tag = "organisations", params(OrgFilter),
    responses((status = 200, body = Paged<OrgDto>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    filter: Result<Query<OrgFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Paged<OrgDto>>> {
    let Query(filter) = filter?;
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let principal = auth.principal();
    let needle = filter.q.as_deref().map(str::to_lowercase);
    let mut orgs: Vec<&Organisation> = registry
        .orgs
        .values()
        .filter(|org| registry.may_see_org(&principal, org.id))
        .filter(|org| filter.sector.as_ref().is_none_or(|s| org.fields.sector.as_ref() == Some(s)))
        .filter(|org| filter.authority_level.as_ref().is_none_or(|l| &org.fields.authority_level == l))
        .filter(|org| filter.entity_type.as_ref().is_none_or(|t| org.fields.entity_type.as_str() == t))
        .filter(|org| {
            needle.as_ref().is_none_or(|needle| {
                org.fields.name.to_lowercase().contains(needle)
                    || org.fields.short_name.to_lowercase().contains(needle)
            })
        })
        .collect();
    orgs.sort_by(|a, b| a.fields.name.cmp(&b.fields.name));
    let page = Page { limit: filter.limit, cursor: filter.cursor };
    let dtos = orgs.into_iter().map(|org| OrgDto::new(org, &registry)).collect();
    Ok(Json(page.apply(dtos)?))
}

/// Shows one organisation, by id or short name.
#[utoipa::path(get, path = "/api/v1/organisations/{org}", tag = "organisations",
    params(("org" = String, Path, description = "id or short name")),
    responses((status = 200, body = OrgDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(key): Path<String>,
) -> ApiResult<Json<OrgDto>> {
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let org = visible_org(&registry, &auth, &key)?;
    let mut dto = OrgDto::new(org, &registry);
    if registry.may_see_member_data(&auth.principal(), org.id) {
        let deliveries = state.store().contact_deliveries(org.id).await?;
        dto.notification_failures = Some(
            deliveries
                .into_iter()
                .filter(|delivery| delivery.failing())
                .map(crate::api::notifications::ContactDeliveryDto::from)
                .collect(),
        );
    }
    Ok(Json(dto))
}

/// Creates an organisation.
#[utoipa::path(post, path = "/api/v1/organisations", tag = "organisations", request_body = OrgInput,
    responses((status = 201, body = OrgDto), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "validation_failed, naming the field")),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<OrgInput>,
) -> ApiResult<Response> {
    require_registry_writer(&auth)?;
    let registry = state.registry();
    let fields = input.into_fields(&state, &registry)?;
    let org = state.store().create_org(&auth.actor(), &fields).await?;
    state.refresh_registry().await?;
    let registry = state.registry();
    Ok((StatusCode::CREATED, Json(OrgDto::new(&org, &registry))).into_response())
}

/// Replaces an organisation's fields.
#[utoipa::path(put, path = "/api/v1/organisations/{org}", tag = "organisations", request_body = OrgInput,
    params(("org" = String, Path, description = "id or short name")),
    responses((status = 200, body = OrgDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(key): Path<String>,
    ApiJson(input): ApiJson<OrgInput>,
) -> ApiResult<Json<OrgDto>> {
    require_registry_writer(&auth)?;
    let registry = state.registry();
    let id = visible_org(&registry, &auth, &key)?.id;
    let fields = input.into_fields(&state, &registry)?;
    let org = state.store().update_org(&auth.actor(), id, &fields).await?;
    state.refresh_registry().await?;
    Ok(Json(OrgDto::new(&org, &state.registry())))
}

/// Deletes an organisation with its contacts and assets (refused while it has users or clients).
#[utoipa::path(delete, path = "/api/v1/organisations/{org}", tag = "organisations",
    params(("org" = String, Path, description = "id or short name")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    Path(key): Path<String>,
) -> ApiResult<StatusCode> {
    require_registry_writer(&auth)?;
    let registry = state.registry();
    let id = visible_org(&registry, &auth, &key)?.id;
    state.store().delete_org(&auth.actor(), id).await?;
    state.refresh_registry().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Options of a bulk import.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportOptions {
    /// `create` (default: existing organisations are an error) or `upsert`.
    pub mode: Option<String>,
    /// `json` or `csv`; by default taken from the Content-Type.
    pub format: Option<String>,
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResult {
    pub organisations_created: u64,
    pub organisations_updated: u64,
    pub contacts: u64,
    pub assets: u64,
}

impl From<ImportSummary> for ImportResult {
    fn from(summary: ImportSummary) -> ImportResult {
        ImportResult {
            organisations_created: summary.organisations_created,
            organisations_updated: summary.organisations_updated,
            contacts: summary.contacts,
            assets: summary.assets,
        }
    }
}

/// Imports organisations with their contacts and assets from JSON or CSV, all or nothing.
/// Every bad row is reported with its line and field.
#[utoipa::path(post, path = "/api/v1/organisations/import", tag = "organisations", params(ImportOptions),
    request_body(content = String, content_type = "application/json", description = "a registry document (JSON or CSV)"),
    responses((status = 200, body = ImportResult),
        (status = 422, body = ErrorBody, description = "import_rejected: details list every line and field"),
        (status = 413, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn import(
    State(state): State<AppState>,
    auth: Auth,
    options: Result<Query<ImportOptions>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<ImportResult>> {
    let Query(options) = options?;
    require_registry_writer(&auth)?;
    let mode = match options.mode.as_deref() {
        None | Some("create") => ImportMode::CreateOnly,
        Some("upsert") => ImportMode::Upsert,
        Some(other) => {
            return Err(ApiError::bad_request(
                "mode",
                format!("unknown mode {other:?}; expected create or upsert"),
            ));
        }
    };
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let format = match options.format.as_deref() {
        Some(format) => format.to_owned(),
        None if content_type.starts_with("text/csv") => "csv".into(),
        None if content_type.starts_with("application/json") || content_type.is_empty() => "json".into(),
        None => {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                format!("unsupported Content-Type {content_type:?}; send application/json or text/csv"),
            ));
        }
    };
    let levels = &state.config().authority_levels;
    let parsed = match format.as_str() {
        "json" => registry_io::parse_json(&body, levels, time::OffsetDateTime::now_utc()),
        "csv" => registry_io::parse_csv(&body, levels, time::OffsetDateTime::now_utc()),
        other => {
            return Err(ApiError::bad_request(
                "format",
                format!("unknown format {other:?}; expected json or csv"),
            ));
        }
    };
    let document = parsed.map_err(|errors| ApiError::from(neretva_store::StoreError::Import(errors)))?;
    let summary = state.store().import_registry(&auth.actor(), &document, mode).await?;
    state.refresh_registry().await?;
    Ok(Json(summary.into()))
}

/// Options of an export.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportOptions {
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// Exports the organisations the caller may see, with the contacts and assets it may see.
/// Every export is recorded in the audit log with the digest of the bytes sent.
#[utoipa::path(get, path = "/api/v1/organisations/export", tag = "organisations", params(ExportOptions),
    responses((status = 200, content_type = "application/json", body = String)),
    security(("bearer" = []), ("session" = [])))]
pub async fn export(
    State(state): State<AppState>,
    auth: Auth,
    options: Result<Query<ExportOptions>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(options) = options?;
    let format = options.format.unwrap_or_else(|| "json".into());
    if format != "json" && format != "csv" {
        return Err(ApiError::bad_request(
            "format",
            format!("unknown format {format:?}; expected json or csv"),
        ));
    }
    let mut document = state.store().export_registry().await?;
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let principal = auth.principal();
    document.organisations.retain_mut(|record| {
        let Some(org) = registry.resolve(&record.fields.short_name) else { return false };
        if !may_see(&principal, &registry.org_visibility(org.id)) {
            return false;
        }
        if !registry.may_see_member_data(&principal, org.id) {
            record.contacts.clear();
            record.assets.clear();
        }
        true
    });
    let (bytes, content_type) = if format == "csv" {
        (registry_io::to_csv(&document), "text/csv; charset=utf-8")
    } else {
        (registry_io::to_json(&document), "application/json")
    };
    state
        .store()
        .append_audit(&AuditEvent {
            actor: auth.actor().0,
            action: "registry.export".into(),
            object_type: "registry".into(),
            object_id: format!("{} organisations as {format}", document.organisations.len()),
            digest: digest_hex(&bytes),
        })
        .await?;
    let disposition = format!("attachment; filename=\"constituency.{format}\"");
    Ok(([(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes)
        .into_response())
}
