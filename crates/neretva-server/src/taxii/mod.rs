//! The TAXII 2.1 server under `/taxii2/`: discovery, one API root, its collections, their
//! objects (with `limit`, `next`, `added_after` and `match[id|type|version|spec_version]`),
//! manifests, versions, deletion, and the status of add-objects requests.
//!
//! Every response, errors included, carries `Content-Type: application/taxii+json;version=2.1`;
//! every path answers with and without its trailing slash. Collections and objects are
//! filtered through `neretva_model::taxii::may_see_object`, which asks `may_see` twice (the
//! collection's sharing scope, then the object's TLP as posted by its organisation); a
//! collection the caller may not read does not exist for it (404).

pub mod caller;
pub mod paging;
pub mod wire;

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use neretva_model::Uuid;
use neretva_model::access::Principal;
use neretva_model::taxii::{CollectionAccess, ObjectAccess, may_see_object, visible_tlps};
use neretva_stix::object::marking::Markings;
use neretva_stix::object::{DEFAULT_MAX_DEPTH, Object};
use neretva_stix::timestamp::Timestamp as StixTimestamp;
use neretva_store::taxii::{
    AddObjects, Collection, Cursor, NewObject, ObjectQuery, STIX_MEDIA_TYPE, Status, StatusDetail,
    StoredObject, VersionFilter, format_date_added, format_micros,
};
use serde::Serialize;
use serde_json::Value;

use crate::AppState;
use crate::registry::RegistrySnapshot;
use crate::taxii::caller::{BasicCache, Caller};
use crate::taxii::wire::{
    TaxiiError, TaxiiResult, check_accept, check_content_type, taxii_headers, taxii_json,
};

/// TAXII settings, from the `[taxii]` section of the configuration.
#[derive(Debug, Clone)]
pub struct TaxiiConfig {
    /// The name of the one API root (`/taxii2/<api_root>/`).
    pub api_root: String,
    pub title: String,
    pub description: Option<String>,
    pub contact: Option<String>,
    /// The largest page; a larger `limit` is lowered to it.
    pub max_page_size: u32,
    /// The page size when the request names none.
    pub default_page_size: u32,
    /// The largest add-objects request, in bytes (413 above).
    pub max_content_length: usize,
    /// The most objects in one add-objects request.
    pub max_objects_per_request: usize,
    /// Whether callers without credentials may read public collections' `TLP:CLEAR` objects.
    pub anonymous: bool,
}

impl Default for TaxiiConfig {
    fn default() -> TaxiiConfig {
        TaxiiConfig {
            api_root: "neretva".into(),
            title: "Neretva TAXII server".into(),
            description: None,
            contact: None,
            max_page_size: 1000,
            default_page_size: 100,
            max_content_length: 16 * 1024 * 1024,
            max_objects_per_request: 10_000,
            anonymous: true,
        }
    }
}

/// What the TAXII server keeps between requests.
#[derive(Debug, Default)]
pub struct TaxiiState {
    pub(crate) basic: BasicCache,
    key: tokio::sync::OnceCell<Vec<u8>>,
}

impl AppState {
    pub(crate) fn taxii(&self) -> &TaxiiState {
        &self.inner.taxii
    }

    async fn paging_key(&self) -> TaxiiResult<&[u8]> {
        let key = self.taxii().key.get_or_try_init(|| self.store().taxii_paging_key()).await?;
        Ok(key)
    }
}

/// Adds a route at `path` and at `path` with a trailing slash.
fn both(router: Router<AppState>, path: &str, method: MethodRouter<AppState>) -> Router<AppState> {
    router.route(path, method.clone()).route(&format!("{path}/"), method)
}

/// The TAXII routes, with full paths.
pub(crate) fn router() -> Router<AppState> {
    let collection = "/taxii2/{root}/collections/{collection}";
    let mut router = Router::new();
    router = both(router, "/taxii2", get(discovery));
    router = both(router, "/taxii2/{root}", get(api_root));
    router = both(router, "/taxii2/{root}/collections", get(collections));
    router = both(router, collection, get(collection_info));
    router = both(router, &format!("{collection}/objects"), get(get_objects).post(add_objects));
    router = both(router, &format!("{collection}/objects/{{object}}"), get(get_object).delete(delete_object));
    router = both(router, &format!("{collection}/objects/{{object}}/versions"), get(object_versions));
    router = both(router, &format!("{collection}/manifest"), get(manifest));
    router = both(router, "/taxii2/{root}/status/{status}", get(status));
    router
}

// Resources.

#[derive(Serialize)]
struct Discovery<'a> {
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    contact: Option<&'a str>,
    default: String,
    api_roots: Vec<String>,
}

#[derive(Serialize)]
struct ApiRootResource<'a> {
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    versions: [&'static str; 1],
    max_content_length: usize,
}

#[derive(Serialize)]
struct CollectionResource {
    id: Uuid,
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alias: Option<String>,
    can_read: bool,
    can_write: bool,
    media_types: Vec<String>,
}

#[derive(Serialize)]
struct Collections {
    collections: Vec<CollectionResource>,
}

#[derive(Serialize)]
struct ManifestRecord {
    id: String,
    date_added: String,
    version: String,
    media_type: &'static str,
}

#[derive(Serialize)]
struct Envelope<T> {
    more: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
    objects: Vec<T>,
}

#[derive(Serialize)]
struct Versions {
    more: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
    versions: Vec<String>,
}

#[derive(Serialize)]
struct StatusResource<'a> {
    id: Uuid,
    status: &'static str,
    request_timestamp: String,
    total_count: usize,
    success_count: usize,
    successes: &'a [StatusDetail],
    failure_count: usize,
    failures: &'a [StatusDetail],
    pending_count: usize,
    pendings: &'a [StatusDetail],
}

fn status_resource(status: &Status) -> StatusResource<'_> {
    StatusResource {
        id: status.id,
        status: "complete",
        request_timestamp: format_micros(micros(status.request_timestamp)),
        total_count: status.total_count(),
        success_count: status.successes.len(),
        successes: &status.successes,
        failure_count: status.failures.len(),
        failures: &status.failures,
        pending_count: status.pendings.len(),
        pendings: &status.pendings,
    }
}

fn micros(at: neretva_model::Timestamp) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

fn root_path(state: &AppState) -> String {
    format!("/taxii2/{}/", state.config().taxii.api_root)
}

fn check_root(state: &AppState, root: &str) -> TaxiiResult<()> {
    if root == state.config().taxii.api_root { Ok(()) } else { Err(TaxiiError::not_found("API root")) }
}

/// Refuses an anonymous caller where reading needs an account, so a client is asked for
/// credentials (401) rather than told that nothing exists.
fn needs_account(caller: &Caller, what: &str) -> TaxiiError {
    if caller.is_anonymous() {
        TaxiiError::unauthorized(format!("sign in to {what}"))
    } else {
        TaxiiError::not_found("collection")
    }
}

// Handlers.

async fn discovery(
    State(state): State<AppState>,
    _caller: Caller,
    headers: HeaderMap,
) -> TaxiiResult<Response> {
    check_accept(&headers)?;
    let config = &state.config().taxii;
    let root = root_path(&state);
    Ok(taxii_json(
        StatusCode::OK,
        &Discovery {
            title: &config.title,
            description: config.description.as_deref(),
            contact: config.contact.as_deref(),
            default: root.clone(),
            api_roots: vec![root],
        },
    ))
}

async fn api_root(
    State(state): State<AppState>,
    _caller: Caller,
    Path(root): Path<String>,
    headers: HeaderMap,
) -> TaxiiResult<Response> {
    check_accept(&headers)?;
    check_root(&state, &root)?;
    let config = &state.config().taxii;
    Ok(taxii_json(
        StatusCode::OK,
        &ApiRootResource {
            title: &config.title,
            description: config.description.as_deref(),
            versions: [wire::TAXII_MEDIA_TYPE],
            max_content_length: config.max_content_length,
        },
    ))
}

/// A collection with what access control needs about it.
struct Resolved {
    collection: Collection,
    registry: std::sync::Arc<RegistrySnapshot>,
}

impl Resolved {
    fn access(&self) -> CollectionAccess<'_> {
        let fields = &self.collection.fields;
        CollectionAccess {
            owner_org: fields.owner_org,
            owner_ancestors: self.registry.ancestors(fields.owner_org),
            sharing: &fields.sharing,
            writers: fields.writers,
        }
    }

    fn may_see(&self, principal: &Principal, object: &StoredObject) -> bool {
        let access = ObjectAccess {
            tlp: object.tlp,
            poster_org: object.org_id,
            poster_ancestors: self.registry.ancestors(object.org_id),
            poster_user: object.user_id,
        };
        may_see_object(principal, &self.access(), &access)
    }

    fn resource(&self, principal: &Principal) -> CollectionResource {
        let fields = &self.collection.fields;
        CollectionResource {
            id: self.collection.id,
            title: fields.title.clone(),
            description: fields.description.clone(),
            alias: fields.alias.clone(),
            can_read: true,
            can_write: self.access().may_write(principal),
            media_types: fields.media_types.clone(),
        }
    }
}

async fn registry(state: &AppState) -> std::sync::Arc<RegistrySnapshot> {
    state.registry_fresh(Duration::from_secs(30)).await
}

/// The collection named by id or alias, if the caller may read it.
async fn resolve(state: &AppState, caller: &Caller, root: &str, key: &str) -> TaxiiResult<Resolved> {
    check_root(state, root)?;
    let found = match Uuid::try_parse(key) {
        Ok(id) => state.store().get_collection(id).await?,
        Err(_) if key.len() <= 64 => state.store().find_collection(key).await?,
        Err(_) => None,
    };
    let registry = registry(state).await;
    let Some(collection) = found else {
        return Err(needs_account(caller, "read collections"));
    };
    let resolved = Resolved { collection, registry };
    if !resolved.access().may_read(&caller.principal) {
        return Err(needs_account(caller, "read this collection"));
    }
    Ok(resolved)
}

async fn collections(
    State(state): State<AppState>,
    caller: Caller,
    Path(root): Path<String>,
    headers: HeaderMap,
) -> TaxiiResult<Response> {
    check_accept(&headers)?;
    check_root(&state, &root)?;
    let registry = registry(&state).await;
    let mut visible = Vec::new();
    for collection in state.store().list_collections().await? {
        let resolved = Resolved { collection, registry: registry.clone() };
        if resolved.access().may_read(&caller.principal) {
            visible.push(resolved.resource(&caller.principal));
        }
    }
    Ok(taxii_json(StatusCode::OK, &Collections { collections: visible }))
}

async fn collection_info(
    State(state): State<AppState>,
    caller: Caller,
    Path((root, key)): Path<(String, String)>,
    headers: HeaderMap,
) -> TaxiiResult<Response> {
    check_accept(&headers)?;
    let resolved = resolve(&state, &caller, &root, &key).await?;
    Ok(taxii_json(StatusCode::OK, &resolved.resource(&caller.principal)))
}

// Filters and pages.

/// The endpoint a page belongs to: part of what a `next` token is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Objects,
    Object,
    Manifest,
    Versions,
    Delete,
}

/// The query parameters of an objects, manifest or versions request.
#[derive(Debug, Default)]
struct Filters {
    limit: Option<u32>,
    next: Option<String>,
    added_after: Option<String>,
    ids: Option<String>,
    types: Option<String>,
    versions: Option<String>,
    spec_versions: Option<String>,
}

fn list(text: Option<&str>) -> Vec<String> {
    text.map(|text| {
        text.split(',').map(|part| part.trim().to_owned()).filter(|part| !part.is_empty()).collect()
    })
    .unwrap_or_default()
}

fn parse_time(field: &str, text: &str) -> TaxiiResult<i64> {
    StixTimestamp::parse_stix(text.trim()).map(StixTimestamp::unix_micros).ok_or_else(|| {
        TaxiiError::bad_request(format!("{field}: {text:?} is not a timestamp like 2025-01-01T00:00:00.000Z"))
    })
}

impl Filters {
    fn parse(pairs: Vec<(String, String)>, endpoint: Endpoint) -> TaxiiResult<Filters> {
        let mut filters = Filters::default();
        for (key, value) in pairs {
            let slot = match key.as_str() {
                "limit" if endpoint != Endpoint::Delete => {
                    let limit: u32 =
                        value.trim().parse().ok().filter(|limit| *limit > 0).ok_or_else(|| {
                            TaxiiError::bad_request(format!("limit: {value:?} is not a positive number"))
                        })?;
                    filters.limit = Some(limit);
                    continue;
                }
                "next" if endpoint != Endpoint::Delete => &mut filters.next,
                "added_after" if endpoint != Endpoint::Delete => &mut filters.added_after,
                "match[id]" if matches!(endpoint, Endpoint::Objects | Endpoint::Manifest) => &mut filters.ids,
                "match[type]" if matches!(endpoint, Endpoint::Objects | Endpoint::Manifest) => {
                    &mut filters.types
                }
                "match[version]" if endpoint != Endpoint::Versions => &mut filters.versions,
                "match[spec_version]" => &mut filters.spec_versions,
                other => {
                    return Err(TaxiiError::bad_request(format!("{other}: not a filter of this endpoint")));
                }
            };
            if slot.is_some() {
                return Err(TaxiiError::bad_request(format!(
                    "{key}: given twice; separate values with commas"
                )));
            }
            *slot = Some(value);
        }
        Ok(filters)
    }

    /// The query these filters ask for (before paging and visibility).
    fn query(&self, collection: Uuid, endpoint: Endpoint, object: Option<&str>) -> TaxiiResult<ObjectQuery> {
        let mut query = ObjectQuery::new(collection, 1);
        query.added_after =
            self.added_after.as_deref().map(|text| parse_time("added_after", text)).transpose()?;
        query.ids = match object {
            Some(id) => vec![id.to_owned()],
            None => list(self.ids.as_deref()),
        };
        query.types = list(self.types.as_deref());
        query.spec_versions = list(self.spec_versions.as_deref());
        let versions = list(self.versions.as_deref());
        query.versions = if matches!(endpoint, Endpoint::Versions) {
            VersionFilter { all: true, ..VersionFilter::default() }
        } else if versions.is_empty() {
            if endpoint == Endpoint::Delete {
                VersionFilter { all: true, ..VersionFilter::default() }
            } else {
                VersionFilter::last()
            }
        } else {
            let mut filter = VersionFilter::default();
            for version in &versions {
                match version.as_str() {
                    "all" => filter.all = true,
                    "first" => filter.first = true,
                    "last" => filter.last = true,
                    other => filter.at.push(parse_time("match[version]", other)?),
                }
            }
            filter
        };
        let too_many = query.ids.len() > 1000 || query.types.len() > 1000 || query.versions.at.len() > 1000;
        if too_many || query.spec_versions.len() > 10 {
            return Err(TaxiiError::bad_request("a filter lists too many values"));
        }
        query.with_body = matches!(endpoint, Endpoint::Objects | Endpoint::Object);
        Ok(query)
    }

    /// What a `next` token is bound to.
    fn fingerprint(&self, endpoint: Endpoint, object: Option<&str>) -> [u8; 8] {
        let kind = match endpoint {
            Endpoint::Objects => "objects",
            Endpoint::Object => "object",
            Endpoint::Manifest => "manifest",
            Endpoint::Versions => "versions",
            Endpoint::Delete => "delete",
        };
        let field = |value: &Option<String>| value.as_deref().unwrap_or_default().to_owned();
        paging::filter_hash(&[
            kind,
            object.unwrap_or_default(),
            &field(&self.added_after),
            &field(&self.ids),
            &field(&self.types),
            &field(&self.versions),
            &field(&self.spec_versions),
        ])
    }
}

/// How many rows one page may examine for visibility before it ends early (with `more` and a
/// `next` token), so a caller who may see little of a large collection cannot make one request
/// scan all of it.
const MAX_SCAN_PER_PAGE: usize = 20_000;

/// One page of what the caller may see.
struct Page {
    objects: Vec<StoredObject>,
    more: bool,
    next: Option<String>,
}

async fn visible_page(
    state: &AppState,
    caller: &Caller,
    resolved: &Resolved,
    filters: &Filters,
    endpoint: Endpoint,
    object: Option<&str>,
) -> TaxiiResult<Page> {
    let config = &state.config().taxii;
    let limit = filters.limit.unwrap_or(config.default_page_size).min(config.max_page_size).max(1) as usize;
    let mut query = filters.query(resolved.collection.id, endpoint, object)?;
    query.tlps = visible_tlps(&caller.principal).to_vec();
    let fingerprint = filters.fingerprint(endpoint, object);
    let key = state.paging_key().await?;
    if let Some(token) = filters.next.as_deref() {
        let cursor = paging::decode(key, token, resolved.collection.id, fingerprint)
            .map_err(|error| TaxiiError::bad_request(error.describe()))?;
        query.after = Some(cursor);
    }
    let mut objects = Vec::with_capacity(limit + 1);
    let mut scanned = 0;
    let mut last_scanned: Option<Cursor> = None;
    let mut exhausted = false;
    while objects.len() <= limit && scanned < MAX_SCAN_PER_PAGE {
        query.limit = u32::try_from((limit + 1 - objects.len()).max(64)).unwrap_or(u32::MAX);
        let rows = state.store().query_objects(&query).await?;
        let fetched = rows.len();
        for row in rows {
            scanned += 1;
            last_scanned = Some(row.cursor());
            query.after = Some(row.cursor());
            if resolved.may_see(&caller.principal, &row) {
                objects.push(row);
                if objects.len() > limit {
                    break;
                }
            }
        }
        if fetched < query.limit as usize {
            exhausted = objects.len() <= limit;
            break;
        }
    }
    let more = objects.len() > limit || !exhausted;
    objects.truncate(limit);
    let next = if more {
        let position =
            if objects.len() == limit { objects.last().map(StoredObject::cursor) } else { last_scanned };
        position.map(|cursor| paging::encode(key, resolved.collection.id, cursor, fingerprint))
    } else {
        None
    };
    Ok(Page { more: more && next.is_some(), objects, next })
}

fn date_headers(response: &mut Response, objects: &[StoredObject]) {
    let (Some(first), Some(last)) = (objects.first(), objects.last()) else { return };
    for (name, object) in [("x-taxii-date-added-first", first), ("x-taxii-date-added-last", last)] {
        if let Ok(value) = HeaderValue::from_str(&format_date_added(object.date_added)) {
            response.headers_mut().insert(name, value);
        }
    }
}

/// The envelope of a page of objects, written from the stored JSON texts without parsing them.
fn objects_envelope(page: &Page) -> String {
    let size: usize = page.objects.iter().map(|object| object.body.len() + 1).sum();
    let mut out = String::with_capacity(size + 200);
    out.push_str("{\"more\":");
    out.push_str(if page.more { "true" } else { "false" });
    if let Some(next) = &page.next {
        out.push_str(",\"next\":");
        out.push_str(&serde_json::to_string(next).unwrap_or_default());
    }
    out.push_str(",\"objects\":[");
    for (index, object) in page.objects.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str(&object.body);
    }
    out.push_str("]}");
    out
}

async fn objects_response(
    state: &AppState,
    caller: &Caller,
    resolved: &Resolved,
    page: Page,
    object: Option<&str>,
) -> TaxiiResult<Response> {
    let body = objects_envelope(&page);
    if !page.objects.is_empty() {
        let what = match object {
            Some(id) => format!("{id} ({} versions)", page.objects.len()),
            None => format!("{} objects", page.objects.len()),
        };
        state
            .store()
            .append_audit(&neretva_model::audit::AuditEvent {
                actor: caller.actor().0,
                action: "taxii.objects.export".into(),
                object_type: "taxii_collection".into(),
                object_id: format!("{}: {what}", resolved.collection.id),
                digest: neretva_model::audit::digest_hex(body.as_bytes()),
            })
            .await?;
    }
    let mut response = (StatusCode::OK, taxii_headers(), body).into_response();
    date_headers(&mut response, &page.objects);
    Ok(response)
}

type Pairs = Query<Vec<(String, String)>>;

fn pairs(
    query: Result<Pairs, axum::extract::rejection::QueryRejection>,
) -> TaxiiResult<Vec<(String, String)>> {
    query.map(|Query(pairs)| pairs).map_err(|error| TaxiiError::bad_request(error.body_text()))
}

async fn get_objects(
    State(state): State<AppState>,
    caller: Caller,
    Path((root, key)): Path<(String, String)>,
    query: Result<Pairs, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> TaxiiResult<Response> {
    check_accept(&headers)?;
    let resolved = resolve(&state, &caller, &root, &key).await?;
    let filters = Filters::parse(pairs(query)?, Endpoint::Objects)?;
    let page = visible_page(&state, &caller, &resolved, &filters, Endpoint::Objects, None).await?;
    objects_response(&state, &caller, &resolved, page, None).await
}

/// A page of one object's versions; 404 when the first page is empty because the caller may
/// see no version of the object at all (rather than because the filters leave none).
async fn object_page(
    state: &AppState,
    caller: &Caller,
    resolved: &Resolved,
    filters: &Filters,
    endpoint: Endpoint,
    object: &str,
) -> TaxiiResult<Page> {
    let page = visible_page(state, caller, resolved, filters, endpoint, Some(object)).await?;
    if page.objects.is_empty()
        && filters.next.is_none()
        && !object_exists(state, caller, resolved, object).await?
    {
        return Err(TaxiiError::not_found("object"));
    }
    Ok(page)
}

/// Whether the caller may see any version of an object, for telling an empty page from an
/// unknown object.
async fn object_exists(
    state: &AppState,
    caller: &Caller,
    resolved: &Resolved,
    object: &str,
) -> TaxiiResult<bool> {
    let mut query = ObjectQuery::new(resolved.collection.id, 1000);
    query.ids = vec![object.to_owned()];
    query.versions = VersionFilter { all: true, ..VersionFilter::default() };
    query.with_body = false;
    let rows = state.store().query_objects(&query).await?;
    Ok(rows.iter().any(|row| resolved.may_see(&caller.principal, row)))
}

async fn get_object(
    State(state): State<AppState>,
    caller: Caller,
    Path((root, key, object)): Path<(String, String, String)>,
    query: Result<Pairs, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> TaxiiResult<Response> {
    check_accept(&headers)?;
    let resolved = resolve(&state, &caller, &root, &key).await?;
    let filters = Filters::parse(pairs(query)?, Endpoint::Object)?;
    let page = object_page(&state, &caller, &resolved, &filters, Endpoint::Object, &object).await?;
    objects_response(&state, &caller, &resolved, page, Some(&object)).await
}

async fn object_versions(
    State(state): State<AppState>,
    caller: Caller,
    Path((root, key, object)): Path<(String, String, String)>,
    query: Result<Pairs, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> TaxiiResult<Response> {
    check_accept(&headers)?;
    let resolved = resolve(&state, &caller, &root, &key).await?;
    let filters = Filters::parse(pairs(query)?, Endpoint::Versions)?;
    let page = object_page(&state, &caller, &resolved, &filters, Endpoint::Versions, &object).await?;
    let versions = page.objects.iter().map(|row| format_micros(row.version)).collect();
    let mut response =
        taxii_json(StatusCode::OK, &Versions { more: page.more, next: page.next.clone(), versions });
    date_headers(&mut response, &page.objects);
    Ok(response)
}

async fn manifest(
    State(state): State<AppState>,
    caller: Caller,
    Path((root, key)): Path<(String, String)>,
    query: Result<Pairs, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> TaxiiResult<Response> {
    check_accept(&headers)?;
    let resolved = resolve(&state, &caller, &root, &key).await?;
    let filters = Filters::parse(pairs(query)?, Endpoint::Manifest)?;
    let page = visible_page(&state, &caller, &resolved, &filters, Endpoint::Manifest, None).await?;
    let records = page
        .objects
        .iter()
        .map(|row| ManifestRecord {
            id: row.stix_id.clone(),
            date_added: format_date_added(row.date_added),
            version: format_micros(row.version),
            media_type: STIX_MEDIA_TYPE,
        })
        .collect();
    let mut response =
        taxii_json(StatusCode::OK, &Envelope { more: page.more, next: page.next.clone(), objects: records });
    date_headers(&mut response, &page.objects);
    Ok(response)
}

async fn delete_object(
    State(state): State<AppState>,
    caller: Caller,
    Path((root, key, object)): Path<(String, String, String)>,
    query: Result<Pairs, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> TaxiiResult<Response> {
    check_accept(&headers)?;
    let resolved = resolve(&state, &caller, &root, &key).await?;
    if !resolved.access().may_write(&caller.principal) {
        if caller.is_anonymous() {
            return Err(TaxiiError::unauthorized("sign in to delete objects"));
        }
        return Err(TaxiiError::forbidden("you may not delete objects from this collection"));
    }
    let filters = Filters::parse(pairs(query)?, Endpoint::Delete)?;
    let mut query = filters.query(resolved.collection.id, Endpoint::Delete, Some(&object))?;
    query.limit = neretva_store::taxii::MAX_PAGE;
    let rows: Vec<i64> = state
        .store()
        .query_objects(&query)
        .await?
        .into_iter()
        .filter(|row| resolved.may_see(&caller.principal, row))
        .map(|row| row.row)
        .collect();
    if rows.is_empty() {
        return Err(TaxiiError::not_found("object"));
    }
    state.store().delete_objects(&caller.actor(), resolved.collection.id, &object, &rows).await?;
    Ok((StatusCode::OK, taxii_headers()).into_response())
}

/// The version of an object: `modified`, else `created`.
fn object_version(object: &Object) -> Option<i64> {
    object.common.modified.as_ref().or(object.common.created.as_ref()).map(|at| at.value().unix_micros())
}

fn raw_text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// Checks each object of an add-objects request with the STIX 2.1 rules of `neretva-stix`:
/// the good ones become objects to store, with their version and TLP (from their marking
/// references, the marking definitions posted beside them, or `default_tlp`); the others
/// become failures naming the JSON path and reason of every problem.
pub fn prepare_objects(
    items: &[Value],
    default_tlp: neretva_model::tlp::Tlp,
) -> (Vec<NewObject>, Vec<StatusDetail>) {
    let mut parsed = Vec::with_capacity(items.len());
    let mut failures = Vec::new();
    for (index, item) in items.iter().enumerate() {
        match Object::from_json(item.clone(), &format!("objects[{index}]"), DEFAULT_MAX_DEPTH) {
            Ok(object) => parsed.push((object, item)),
            Err(problems) => {
                let message = problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
                failures.push(StatusDetail {
                    id: raw_text(item, "id").unwrap_or_else(|| format!("objects[{index}]")),
                    version: raw_text(item, "modified").or_else(|| raw_text(item, "created")),
                    message: Some(message),
                });
            }
        }
    }
    let markings =
        Markings::from_objects(&parsed.iter().map(|(object, _)| object.clone()).collect::<Vec<_>>());
    let objects = parsed
        .iter()
        .map(|(object, raw)| NewObject {
            stix_id: object.id.as_str().to_owned(),
            object_type: object.object_type().to_owned(),
            version: object_version(object),
            spec_version: object.common.spec_version.clone().unwrap_or_else(|| "2.1".to_owned()),
            tlp: markings.tlp(object).unwrap_or(default_tlp),
            body: raw.to_string(),
        })
        .collect();
    (objects, failures)
}

async fn add_objects(
    State(state): State<AppState>,
    caller: Caller,
    Path((root, key)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> TaxiiResult<Response> {
    check_accept(&headers)?;
    let resolved = resolve(&state, &caller, &root, &key).await?;
    let Principal::User(user) = &caller.principal else {
        return Err(TaxiiError::unauthorized("sign in to add objects"));
    };
    if !resolved.access().may_write(&caller.principal) {
        return Err(TaxiiError::forbidden("you may not add objects to this collection"));
    }
    check_content_type(&headers)?;
    let config = &state.config().taxii;
    let limit = config.max_content_length;
    let too_large = || {
        TaxiiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request too large",
            format!("the envelope is larger than max_content_length ({limit} bytes)"),
        )
    };
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|error| {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
        while let Some(cause) = source {
            if cause.is::<http_body_util::LengthLimitError>() {
                return too_large();
            }
            source = cause.source();
        }
        TaxiiError::bad_request(format!("the request body could not be read: {error}"))
    })?;
    let envelope: Value = serde_json::from_slice(&bytes).map_err(|error| {
        TaxiiError::bad_request(format!(
            "line {}, column {}: the envelope is not JSON",
            error.line(),
            error.column()
        ))
    })?;
    let Some(items) = envelope.get("objects").and_then(Value::as_array) else {
        return Err(TaxiiError::bad_request("the envelope needs an \"objects\" list"));
    };
    if items.len() > config.max_objects_per_request {
        return Err(TaxiiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request too large",
            format!("{} objects; at most {} in one request", items.len(), config.max_objects_per_request),
        ));
    }
    let (objects, failures) = prepare_objects(items, resolved.collection.fields.default_tlp);
    let request = AddObjects {
        status_id: Uuid::now_v7(),
        collection_id: resolved.collection.id,
        org_id: user.org_id,
        user_id: Some(user.user_id),
        objects,
        failures,
    };
    let status = state.store().add_objects(&caller.actor(), &request).await?;
    Ok(taxii_json(StatusCode::ACCEPTED, &status_resource(&status)))
}

async fn status(
    State(state): State<AppState>,
    caller: Caller,
    Path((root, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> TaxiiResult<Response> {
    check_accept(&headers)?;
    check_root(&state, &root)?;
    let Principal::User(user) = &caller.principal else {
        return Err(TaxiiError::unauthorized("sign in to read a status"));
    };
    let found = match Uuid::try_parse(&id) {
        Ok(id) => state.store().get_status(id).await?,
        Err(_) => None,
    };
    let Some(status) =
        found.filter(|status| status.user_id == Some(user.user_id) || user.is_operator_staff())
    else {
        return Err(TaxiiError::not_found("status"));
    };
    Ok(taxii_json(StatusCode::OK, &status_resource(&status)))
}
