//! TAXII collections managed by administrators: `/api/v1/taxii/collections`.
//!
//! The TAXII protocol itself is served under `/taxii2/` (`crate::taxii`); this is where the
//! operator's administrators create, change and remove collections and their sharing scopes.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use neretva_model::access::{Principal, may_administer};
use neretva_model::taxii::{CollectionAccess, Sharing};
use neretva_model::tlp::Tlp;
use neretva_model::{FieldError, Uuid};
use neretva_store::taxii::{Collection, CollectionFields, STIX_MEDIA_TYPE};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::api::rfc3339;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::registry::RegistrySnapshot;

/// A collection as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CollectionDto {
    pub id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub alias: Option<String>,
    pub media_types: Vec<String>,
    pub owner_org: Uuid,
    /// The owner's short name.
    pub owner: Option<String>,
    /// `organisation`, `groups`, `community` or `public`.
    pub sharing: String,
    /// The organisations of a `groups` collection, by short name.
    pub sharing_orgs: Vec<String>,
    /// `nobody`, `owner` or `readers`.
    pub writers: String,
    /// The TLP of posted objects that carry none.
    pub default_tlp: String,
    /// The collection's TAXII URL path.
    pub url: String,
    pub created_at: String,
    pub updated_at: String,
}

impl CollectionDto {
    pub fn new(collection: &Collection, registry: &RegistrySnapshot, api_root: &str) -> CollectionDto {
        let fields = &collection.fields;
        CollectionDto {
            id: collection.id,
            title: fields.title.clone(),
            description: fields.description.clone(),
            alias: fields.alias.clone(),
            media_types: fields.media_types.clone(),
            owner_org: fields.owner_org,
            owner: registry.orgs.get(&fields.owner_org).map(|org| org.fields.short_name.clone()),
            sharing: fields.sharing.kind().to_owned(),
            sharing_orgs: fields.sharing.orgs().iter().map(|org| registry.short_name(*org)).collect(),
            writers: fields.writers.as_str().to_owned(),
            default_tlp: fields.default_tlp.label().to_owned(),
            url: format!("/taxii2/{api_root}/collections/{}/", collection.id),
            created_at: rfc3339(collection.created_at),
            updated_at: rfc3339(collection.updated_at),
        }
    }
}

/// A new collection, or the whole of a changed one.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionInput {
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    /// A unique short name (a-z, 0-9, - and _) usable in TAXII URLs in place of the id.
    #[serde(default)]
    pub alias: Option<String>,
    /// The owning organisation (id or short name); default: the operator.
    #[serde(default)]
    pub owner: Option<String>,
    /// `organisation`, `groups`, `community` or `public`.
    pub sharing: String,
    /// For `groups`: the organisations (ids or short names).
    #[serde(default)]
    pub sharing_orgs: Vec<String>,
    /// `nobody`, `owner` (default) or `readers`.
    #[serde(default)]
    pub writers: Option<String>,
    /// Default `TLP:GREEN`.
    #[serde(default)]
    pub default_tlp: Option<String>,
}

impl CollectionInput {
    /// The stored fields, with every problem reported at once.
    pub fn fields(&self, registry: &RegistrySnapshot) -> Result<CollectionFields, Vec<FieldError>> {
        let mut problems = Vec::new();
        let owner = match &self.owner {
            Some(key) => registry
                .resolve(key)
                .map(|org| org.id)
                .ok_or_else(|| FieldError::new("owner", format!("no organisation {key:?}"))),
            None => {
                registry.operator_id.ok_or_else(|| FieldError::new("owner", "name the owning organisation"))
            }
        };
        let mut orgs = Vec::new();
        for (index, key) in self.sharing_orgs.iter().enumerate() {
            match registry.resolve(key) {
                Some(org) => orgs.push(org.id),
                None => problems.push(FieldError::new(
                    format!("sharing_orgs[{index}]"),
                    format!("no organisation {key:?}"),
                )),
            }
        }
        let sharing = Sharing::from_parts(self.sharing.trim(), orgs);
        let writers = self.writers.as_deref().unwrap_or("owner").parse();
        let default_tlp = self
            .default_tlp
            .as_deref()
            .unwrap_or("TLP:GREEN")
            .parse::<Tlp>()
            .map_err(|error| FieldError::new("default_tlp", error.to_string()));
        // The text fields, checked whatever else is wrong.
        let probe = CollectionFields {
            title: self.title.clone(),
            description: self.description.clone().filter(|text| !text.trim().is_empty()),
            alias: self.alias.clone().filter(|text| !text.is_empty()),
            media_types: vec![STIX_MEDIA_TYPE.to_owned()],
            owner_org: Uuid::nil(),
            sharing: Sharing::Public,
            writers: neretva_model::taxii::Writers::Owner,
            default_tlp: Tlp::Green,
        };
        problems.extend(probe.check().err().unwrap_or_default());
        let (owner, sharing, writers, default_tlp) = match (owner, sharing, writers, default_tlp) {
            (Ok(owner), Ok(sharing), Ok(writers), Ok(tlp)) => (owner, sharing, writers, tlp),
            (owner, sharing, writers, tlp) => {
                problems.extend(owner.err());
                problems.extend(sharing.err());
                problems.extend(writers.err());
                problems.extend(tlp.err());
                return Err(problems);
            }
        };
        let fields = CollectionFields { owner_org: owner, sharing, writers, default_tlp, ..probe };
        if problems.is_empty() { Ok(fields) } else { Err(problems) }
    }
}

fn require_admin(auth: &Auth) -> ApiResult<()> {
    if may_administer(&auth.principal()) {
        Ok(())
    } else {
        Err(ApiError::forbidden("only the operator's administrators manage TAXII collections"))
    }
}

fn readable(collection: &Collection, registry: &RegistrySnapshot, principal: &Principal) -> bool {
    let fields = &collection.fields;
    CollectionAccess {
        owner_org: fields.owner_org,
        owner_ancestors: registry.ancestors(fields.owner_org),
        sharing: &fields.sharing,
        writers: fields.writers,
    }
    .may_read(principal)
}

/// Lists the TAXII collections the caller may read (administrators: all).
#[utoipa::path(get, path = "/api/v1/taxii/collections", tag = "taxii",
    responses((status = 200, body = Vec<CollectionDto>)), security(("bearer" = []), ("session" = [])))]
pub async fn list(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<CollectionDto>>> {
    let registry = state.registry();
    let principal = auth.principal();
    let api_root = &state.config().taxii.api_root;
    let items = state
        .store()
        .list_collections()
        .await?
        .iter()
        .filter(|collection| readable(collection, &registry, &principal))
        .map(|collection| CollectionDto::new(collection, &registry, api_root))
        .collect();
    Ok(Json(items))
}

async fn load(state: &AppState, auth: &Auth, key: &str) -> ApiResult<Collection> {
    let found = match Uuid::try_parse(key) {
        Ok(id) => state.store().get_collection(id).await?,
        Err(_) => state.store().find_collection(key).await?,
    };
    let registry = state.registry();
    found
        .filter(|collection| readable(collection, &registry, &auth.principal()))
        .ok_or_else(|| ApiError::not_found("collection"))
}

/// Shows one collection (by id or alias).
#[utoipa::path(get, path = "/api/v1/taxii/collections/{id}", tag = "taxii",
    params(("id" = String, Path, description = "collection id or alias")),
    responses((status = 200, body = CollectionDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(key): Path<String>,
) -> ApiResult<Json<CollectionDto>> {
    let collection = load(&state, &auth, &key).await?;
    Ok(Json(CollectionDto::new(&collection, &state.registry(), &state.config().taxii.api_root)))
}

/// Creates a collection (administrators).
#[utoipa::path(post, path = "/api/v1/taxii/collections", tag = "taxii", request_body = CollectionInput,
    responses((status = 201, body = CollectionDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<CollectionInput>,
) -> ApiResult<Response> {
    require_admin(&auth)?;
    let registry = state.registry();
    let fields = input.fields(&registry).map_err(ApiError::validation)?;
    let collection = state.store().create_collection(&auth.actor(), Uuid::new_v4(), &fields).await?;
    let dto = CollectionDto::new(&collection, &registry, &state.config().taxii.api_root);
    Ok((StatusCode::CREATED, Json(dto)).into_response())
}

/// Replaces a collection's settings (administrators).
#[utoipa::path(put, path = "/api/v1/taxii/collections/{id}", tag = "taxii", request_body = CollectionInput,
    params(("id" = String, Path, description = "collection id or alias")),
    responses((status = 200, body = CollectionDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(key): Path<String>,
    ApiJson(input): ApiJson<CollectionInput>,
) -> ApiResult<Json<CollectionDto>> {
    require_admin(&auth)?;
    let current = load(&state, &auth, &key).await?;
    let registry = state.registry();
    let fields = input.fields(&registry).map_err(ApiError::validation)?;
    let collection = state.store().update_collection(&auth.actor(), current.id, &fields).await?;
    Ok(Json(CollectionDto::new(&collection, &registry, &state.config().taxii.api_root)))
}

/// Deletes a collection with every object in it (administrators).
#[utoipa::path(delete, path = "/api/v1/taxii/collections/{id}", tag = "taxii",
    params(("id" = String, Path, description = "collection id or alias")),
    responses((status = 204, description = "deleted"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    Path(key): Path<String>,
) -> ApiResult<StatusCode> {
    require_admin(&auth)?;
    let current = load(&state, &auth, &key).await?;
    state.store().delete_collection(&auth.actor(), current.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
