//! The MISP-compatible REST API: the part of MISP's API that PyMISP and MISP servers use, served
//! at MISP's own paths (`/events/…`, `/attributes/…`, `/servers/getVersion`, …) over the intel
//! events of `/api/v1/intel`.
//!
//! **Paths.** CakePHP's forms are accepted: a `.json` suffix on the action or the last segment,
//! and named parameters as path segments (`/events/view/12/deleted[]:1/excludeLocalTags:1`).
//! Events are named by numeric id (their `seq`) or uuid; attributes by numeric id or uuid.
//!
//! **Auth.** An API token in `Authorization` (raw, as MISP keys are sent, or after `Bearer ` or
//! `Token `) or in `X-MISP-AUTH`. Session cookies are not accepted here. A missing or bad key is
//! 403 with MISP's message.
//!
//! **Access.** Exactly as `/api/v1/intel`: every event passes `Gate::may_see` (the event's TLP,
//! distribution and sharing group through `neretva_model::access::may_see`), every attribute
//! `Gate::may_see_attribute`; what the caller may not see is 404 or absent from results.
//! Writes need `may_write`, and changes the owner organisation or the operator's staff. Every
//! write goes through the store, which audits it; searches are audited here.
//!
//! **Answers.** MISP's JSON: `{"Event": {…}}`, `{"response": […]}` for `restSearch`, numbers as
//! strings, errors as `{"name", "message", "url", "errors"}` with MISP's status codes.

pub mod wire;

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use neretva_intel::access::view_sharing_group;
use neretva_intel::model::{Attribute, IntelEvent, OrgRef, Sighting, SightingKind};
use neretva_intel::search::{SearchFilter, SearchRequest};
use neretva_intel::tag::Tag;
use neretva_model::Uuid;
use neretva_model::access::may_write;
use neretva_model::audit::AuditEvent;
use neretva_store::intel::{IntelEventQuery, MAX_PAGE, StoredIntelEvent};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::AppState;
use crate::api::intel::{
    Gate, MAX_DOCUMENT, after_write, check_group, read_event, require_owner, require_writer,
};
use crate::error::{ApiError, ErrorCode};
use crate::extract::{Auth, token_user, user_principal};
use crate::misp::wire::{Context, GroupIds};

/// The MISP version this API answers as (`servers/getVersion`); PyMISP needs `N.N.N`.
pub const MISP_VERSION: &str = "2.5.2";
/// The PyMISP version the API was tested with.
pub const PYMISP_VERSION: &str = "2.5.34.4";
/// The most events one search reads, newest first, before it answers with what it found.
pub const SEARCH_SCAN: usize = 50_000;

/// The MISP-compatible routes.
pub fn router(state: &AppState) -> Router<AppState> {
    let limit = state.config().max_import_bytes.min(MAX_DOCUMENT);
    let mut router = Router::new();
    for controller in
        ["servers", "users", "events", "attributes", "tags", "sightings", "sharingGroups", "sharing_groups"]
    {
        router = router.route(&format!("/{controller}/{{*rest}}"), any(entry));
    }
    router.layer(DefaultBodyLimit::max(limit))
}

/// A MISP error: status and MISP's body.
struct MispError {
    status: StatusCode,
    message: String,
    errors: Value,
}

impl MispError {
    fn new(status: StatusCode, message: impl Into<String>) -> MispError {
        MispError { status, message: message.into(), errors: Value::Object(Map::new()) }
    }

    fn not_found(what: &str) -> MispError {
        MispError::new(StatusCode::NOT_FOUND, format!("Invalid {what}."))
    }

    fn bad_request(message: impl Into<String>) -> MispError {
        MispError::new(StatusCode::BAD_REQUEST, message)
    }

    fn into_response(self, url: &str) -> Response {
        let body =
            json!({ "name": self.message, "message": self.message, "url": url, "errors": self.errors });
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<ApiError> for MispError {
    fn from(error: ApiError) -> MispError {
        let (_, status) = error.code.describe();
        let status = if error.code == ErrorCode::Unauthenticated { StatusCode::FORBIDDEN } else { status };
        let mut errors = Map::new();
        for detail in &error.details {
            errors.insert(detail.field.clone(), Value::String(detail.message.clone()));
        }
        if let (true, Some(field)) = (errors.is_empty(), &error.field) {
            errors.insert(field.clone(), Value::String(error.message.clone()));
        }
        MispError { status, message: error.message, errors: Value::Object(errors) }
    }
}

impl From<neretva_store::StoreError> for MispError {
    fn from(error: neretva_store::StoreError) -> MispError {
        ApiError::from(error).into()
    }
}

type MispResult<T> = Result<T, MispError>;

/// A request's path as CakePHP reads it: controller, action, arguments, named parameters.
#[derive(Debug, Default, PartialEq, Eq)]
struct Route {
    controller: String,
    action: String,
    args: Vec<String>,
    named: HashMap<String, Vec<String>>,
}

impl Route {
    /// Whether a pushing MISP server sent it (`/metadata:1`).
    fn is_sync(&self) -> bool {
        self.named.get("metadata").is_some_and(|values| values.iter().any(|value| value == "1"))
    }
}

fn strip_json(text: &str) -> &str {
    text.strip_suffix(".json").unwrap_or(text)
}

fn parse_route(path: &str) -> Route {
    let mut segments = path.trim_matches('/').split('/').filter(|segment| !segment.is_empty());
    let mut route = Route {
        controller: segments.next().map(strip_json).unwrap_or_default().to_owned(),
        action: segments.next().map(strip_json).unwrap_or_default().to_owned(),
        ..Route::default()
    };
    for segment in segments {
        let segment = percent_decode(strip_json(segment));
        match segment.split_once(':') {
            Some((key, value)) if !key.is_empty() && !key.contains('-') => {
                route.named.entry(key.trim_end_matches("[]").to_owned()).or_default().push(value.to_owned());
            }
            _ => route.args.push(segment),
        }
    }
    route
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && index + 2 < bytes.len()
            && let Ok(hex) = std::str::from_utf8(&bytes[index + 1..index + 3])
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The caller, from a MISP key header.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> MispResult<Auth> {
    let key = headers
        .get("x-misp-auth")
        .or_else(|| headers.get(header::AUTHORIZATION))
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            let value = value.trim();
            ["Bearer ", "bearer ", "Token ", "token "]
                .iter()
                .find_map(|prefix| value.strip_prefix(prefix))
                .unwrap_or(value)
                .trim()
        })
        .filter(|key| !key.is_empty());
    let refused = || {
        MispError::new(
            StatusCode::FORBIDDEN,
            "Authentication failed. Please make sure you pass the API key of an API enabled user along in the Authorization header.",
        )
    };
    let Some(key) = key else { return Err(refused()) };
    let (user_id, scope) = token_user(state, key, OffsetDateTime::now_utc()).await.map_err(|_| refused())?;
    let user = user_principal(state, user_id, scope).await.map_err(|_| refused())?;
    Ok(Auth(user))
}

async fn entry(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    // A signed-in browser's `/events/{uuid}` is the web interface's event page.
    if let Some(page) = crate::web::misp_path_page(&state, &method, &uri, &headers).await {
        return page;
    }
    let path = uri.path().to_owned();
    let result = match authenticate(&state, &headers).await {
        Ok(auth) => dispatch(&state, &auth, &method, &path, &body).await,
        Err(error) => Err(error),
    };
    match result {
        Ok(response) if method == Method::HEAD => {
            let status = response.status();
            (status, "").into_response()
        }
        Ok(response) => response,
        Err(error) if method == Method::HEAD => (error.status, "").into_response(),
        Err(error) => error.into_response(&path),
    }
}

fn ok(value: Value) -> MispResult<Response> {
    Ok(axum::Json(value).into_response())
}

/// The JSON object of a request body; an empty body is an empty object.
fn body_object(body: &[u8]) -> MispResult<Map<String, Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(MispError::bad_request("The request body must be a JSON object.")),
        Err(error) => Err(MispError::bad_request(format!("The request body is not JSON: {error}"))),
    }
}

async fn dispatch(
    state: &AppState,
    auth: &Auth,
    method: &Method,
    path: &str,
    body: &[u8],
) -> MispResult<Response> {
    let route = parse_route(path);
    let get = *method == Method::GET || *method == Method::HEAD;
    let post = *method == Method::POST || *method == Method::PUT;
    let arg = route.args.first().map(String::as_str);
    match (route.controller.as_str(), route.action.as_str(), arg) {
        ("servers", "getVersion", None) if get => ok(version(auth)),
        ("servers", "getPyMISPVersion", None) if get => ok(json!({ "version": PYMISP_VERSION })),
        ("users", "view", Some("me")) if get => ok(me(state, auth)),
        ("attributes", "describeTypes", None) if get => ok(wire::describe_types()),
        ("events", "view", Some(id)) if get || post => view_event(state, auth, id).await,
        ("events", "add", None) if post && route.is_sync() => receive_pushed(state, auth, None, body).await,
        ("events", "edit", Some(id)) if post && route.is_sync() => {
            receive_pushed(state, auth, Some(id), body).await
        }
        ("events", "filterEventIdsForPush", None) if post => filter_for_push(state, auth, body).await,
        ("events", "add", None) if post => add_event(state, auth, body).await,
        ("events", "edit", Some(id)) if post => edit_event(state, auth, id, body).await,
        ("events", "delete", Some(id)) if post || *method == Method::DELETE => {
            delete_event(state, auth, id).await
        }
        ("events", "publish" | "alert", Some(id)) if post => publish(state, auth, id, true).await,
        ("events", "unpublish", Some(id)) if post => publish(state, auth, id, false).await,
        ("events", "index", None) if get || post => index(state, auth, body, &route).await,
        ("events", "restSearch", None) if get || post => search_events(state, auth, body).await,
        ("attributes", "restSearch", None) if get || post => search_attributes(state, auth, body).await,
        ("attributes", "add", Some(event)) if post => add_attribute(state, auth, event, body).await,
        ("attributes", "edit", Some(id)) if post => edit_attribute(state, auth, id, body).await,
        ("attributes", "delete", Some(id)) if post || *method == Method::DELETE => {
            let hard = route.named.get("hard").is_some_and(|values| values.iter().any(|v| v == "1"))
                || body_object(body)?
                    .get("hard")
                    .is_some_and(|hard| hard == 1 || hard == "1" || hard == true);
            delete_attribute(state, auth, id, hard).await
        }
        ("attributes", "view", Some(id)) if get => view_attribute(state, auth, id).await,
        ("tags", "attachTagToObject", None) if post => tag(state, auth, body, true).await,
        ("tags", "removeTagFromObject", None) if post => tag(state, auth, body, false).await,
        ("sightings", "add", attribute) if post => add_sighting(state, auth, attribute, body).await,
        ("sharingGroups" | "sharing_groups", "index", None) if get => sharing_groups(state, auth, None).await,
        ("sharingGroups" | "sharing_groups", "view", Some(id)) if get => {
            sharing_groups(state, auth, Some(id)).await
        }
        _ => Err(MispError::new(
            StatusCode::NOT_FOUND,
            format!("{method} {path} is not part of the MISP API this server implements."),
        )),
    }
}

fn version(auth: &Auth) -> Value {
    let writer = may_write(&auth.principal());
    json!({
        "version": MISP_VERSION,
        "pymisp_recommended_version": PYMISP_VERSION,
        "perm_sync": writer,
        "perm_sighting": writer,
        "perm_galaxy_editor": false,
        "perm_analyst_data": false,
        "request_encoding": [],
        "filter_sightings": true,
    })
}

fn me(state: &AppState, auth: &Auth) -> Value {
    let user = &auth.0;
    let registry = state.registry();
    let org_name = registry.orgs.get(&user.org_id).map_or_else(String::new, |org| org.fields.name.clone());
    let writer = may_write(&auth.principal());
    json!({
        "User": {
            "id": user.user_id.to_string(),
            "email": user.username,
            "org_id": user.org_id.to_string(),
            "role_id": user.role.as_str(),
            "disabled": false,
        },
        "Role": {
            "id": user.role.as_str(),
            "name": user.role.as_str(),
            "perm_add": writer,
            "perm_modify": writer,
            "perm_modify_org": writer,
            "perm_publish": writer,
            "perm_sighting": writer,
            "perm_tagger": writer,
            "perm_sync": false,
            "perm_admin": false,
            "perm_site_admin": false,
            "perm_auth": true,
        },
        "UserSetting": {},
        "Organisation": { "uuid": user.org_id.to_string(), "name": org_name },
    })
}

/// What answering with events needs, loaded once per request.
struct Scope {
    gate: Gate,
    groups: GroupIds,
    group_names: HashMap<Uuid, String>,
}

impl Scope {
    async fn load(state: &AppState, auth: &Auth) -> MispResult<Scope> {
        let gate = Gate::load(state, auth).await?;
        let groups = GroupIds::new(state.store().sharing_group_ids().await?);
        let group_names = gate
            .groups
            .values()
            .filter_map(|group| view_sharing_group(&gate.principal, group))
            .map(|view| (view.uuid, view.name))
            .collect();
        Ok(Scope { gate, groups, group_names })
    }

    fn context(&self) -> Context<'_> {
        Context { groups: &self.groups, group_names: &self.group_names, registry: &self.gate.registry }
    }

    /// The event as MISP serves it, without the attributes the caller may not see.
    fn event_json(&self, stored: &StoredIntelEvent) -> Map<String, Value> {
        let visible: Vec<Uuid> = stored
            .event
            .all_attributes()
            .filter(|(_, attribute)| self.gate.may_see_attribute(stored, attribute))
            .map(|(_, attribute)| attribute.uuid)
            .collect();
        wire::event_fields(stored, &self.context(), &|uuid| visible.contains(&uuid))
    }

    fn wrapped(&self, stored: &StoredIntelEvent) -> Value {
        json!({ "Event": self.event_json(stored) })
    }

    fn attribute_json(&self, stored: &StoredIntelEvent, attribute: Uuid) -> Value {
        let fields = self.event_json(stored);
        fields
            .get("Attribute")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .chain(
                fields
                    .get("Object")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|object| object.get("Attribute").and_then(Value::as_array))
                    .flatten(),
            )
            .find(|item| item.get("uuid").and_then(Value::as_str) == Some(attribute.to_string().as_str()))
            .cloned()
            .unwrap_or(Value::Null)
    }
}

/// The event named by a numeric id or a uuid, if the caller may see it.
async fn visible_event(state: &AppState, gate: &Gate, id: &str) -> MispResult<StoredIntelEvent> {
    let found = match (id.parse::<i64>(), Uuid::try_parse(id)) {
        (Ok(seq), _) => state.store().get_intel_event_by_seq(seq).await?,
        (_, Ok(uuid)) => state.store().get_intel_event(uuid).await?,
        _ => return Err(MispError::not_found("event")),
    };
    found.filter(|stored| gate.may_see(stored)).ok_or_else(|| MispError::not_found("event"))
}

/// The attribute named by a numeric id or a uuid, with its event, if the caller may see both.
async fn visible_attribute(state: &AppState, gate: &Gate, id: &str) -> MispResult<(StoredIntelEvent, Uuid)> {
    let found = match (id.parse::<i64>(), Uuid::try_parse(id)) {
        (Ok(number), _) => state.store().find_intel_attribute(number).await?,
        (_, Ok(uuid)) => state.store().intel_attribute_event(uuid).await?.map(|event| (event, uuid)),
        _ => None,
    };
    let Some((event, attribute)) = found else { return Err(MispError::not_found("attribute")) };
    let stored = state
        .store()
        .get_intel_event(event)
        .await?
        .filter(|stored| gate.may_see(stored))
        .ok_or_else(|| MispError::not_found("attribute"))?;
    let visible = stored
        .event
        .all_attributes()
        .any(|(_, found)| found.uuid == attribute && gate.may_see_attribute(&stored, found));
    if !visible {
        return Err(MispError::not_found("attribute"));
    }
    Ok((stored, attribute))
}

async fn view_event(state: &AppState, auth: &Auth, id: &str) -> MispResult<Response> {
    let scope = Scope::load(state, auth).await?;
    let stored = visible_event(state, &scope.gate, id).await?;
    ok(scope.wrapped(&stored))
}

/// The event of a request body (flat or `{"Event": …}`), with numeric group ids translated.
fn incoming_event(state: &AppState, auth: &Auth, scope: &Scope, body: &[u8]) -> MispResult<IntelEvent> {
    let mut document = Value::Object(body_object(body)?);
    if let Some(inner) = document.get_mut("Event") {
        wire::groups_to_uuids(inner, &scope.groups);
    } else {
        wire::groups_to_uuids(&mut document, &scope.groups);
        if document.get("uuid").is_none() {
            document["uuid"] = Value::String(Uuid::new_v4().to_string());
        }
    }
    let event = read_event(state, auth, &document.to_string())?;
    check_group(&scope.gate, &event)?;
    Ok(event)
}

async fn add_event(state: &AppState, auth: &Auth, body: &[u8]) -> MispResult<Response> {
    require_writer(auth)?;
    let scope = Scope::load(state, auth).await?;
    let mut event = incoming_event(state, auth, &scope, body)?;
    if state.store().get_intel_event(event.uuid).await?.is_some() {
        return Err(MispError::new(StatusCode::FORBIDDEN, "An event with this uuid already exists."));
    }
    event.org = Some(own_org(state, auth));
    let stored = state.store().create_intel_event(&auth.actor(), auth.0.org_id, &event).await?;
    after_write(state, &scope.gate, auth, None, Some(&stored)).await;
    ok(scope.wrapped(&stored))
}

fn own_org(state: &AppState, auth: &Auth) -> OrgRef {
    let registry = state.registry();
    let name = registry
        .orgs
        .get(&auth.0.org_id)
        .map_or_else(|| auth.0.org_id.to_string(), |org| org.fields.name.clone());
    OrgRef { uuid: auth.0.org_id, name }
}

/// MISP's edit: the sent fields replace the stored ones; attributes and objects the body does
/// not name are kept; the event is unpublished and its timestamp moves to now.
async fn edit_event(state: &AppState, auth: &Auth, id: &str, body: &[u8]) -> MispResult<Response> {
    let scope = Scope::load(state, auth).await?;
    let stored = visible_event(state, &scope.gate, id).await?;
    require_owner(auth, &stored)?;
    let mut document = body_object(body)?;
    let inner = match document.remove("Event") {
        Some(Value::Object(inner)) => inner,
        _ => document,
    };
    // The stored event with the sent fields over it.
    let mut merged = neretva_intel::misp::event_fields(&stored.event);
    for (key, value) in inner {
        if !matches!(
            key.as_str(),
            "id" | "uuid"
                | "org_id"
                | "orgc_id"
                | "Org"
                | "Orgc"
                | "timestamp"
                | "attribute_count"
                | "locked"
        ) {
            if key == "sharing_group_id" {
                merged.remove("SharingGroup");
            }
            merged.insert(key, value);
        }
    }
    let mut event = incoming_event(state, auth, &scope, Value::Object(merged).to_string().as_bytes())?;
    for attribute in &stored.event.attributes {
        if !event.all_attributes().any(|(_, sent)| sent.uuid == attribute.uuid) {
            event.attributes.push(attribute.clone());
        }
    }
    for object in &stored.event.objects {
        if !event.objects.iter().any(|sent| sent.uuid == object.uuid) {
            event.objects.push(object.clone());
        }
    }
    let now = OffsetDateTime::now_utc();
    event.org = stored.event.org.clone().or_else(|| Some(own_org(state, auth)));
    event.orgc = stored.event.orgc.clone();
    event.timestamp = now;
    event.published = false;
    event.publish_timestamp = stored.event.publish_timestamp;
    keep_sightings(&stored.event, &mut event);
    let updated = state.store().update_intel_event(&auth.actor(), &event).await?;
    after_write(state, &scope.gate, auth, Some(&stored), Some(&updated)).await;
    ok(scope.wrapped(&updated))
}

/// Sightings are recorded through `sightings/add` only: an edit keeps the stored ones.
fn keep_sightings(stored: &IntelEvent, event: &mut IntelEvent) {
    let sightings: HashMap<Uuid, Vec<Sighting>> =
        stored.all_attributes().map(|(_, attribute)| (attribute.uuid, attribute.sightings.clone())).collect();
    let apply = |attribute: &mut Attribute| {
        attribute.sightings = sightings.get(&attribute.uuid).cloned().unwrap_or_default();
    };
    event.attributes.iter_mut().for_each(apply);
    event.objects.iter_mut().flat_map(|object| object.attributes.iter_mut()).for_each(apply);
}

/// `events/filterEventIdsForPush`: of the events a pushing server offers (`[{"Event": {"uuid",
/// "timestamp"}}]`), the uuids this instance wants: those it does not hold, and those the caller
/// may see whose stored copy is older.
async fn filter_for_push(state: &AppState, auth: &Auth, body: &[u8]) -> MispResult<Response> {
    require_writer(auth)?;
    let offered: Vec<Value> = match serde_json::from_slice(body) {
        Ok(Value::Array(items)) => items,
        _ => return Err(MispError::bad_request("expected a list of {\"Event\": {\"uuid\", \"timestamp\"}}")),
    };
    if offered.len() > 10_000 {
        return Err(MispError::bad_request("at most 10000 events per request"));
    }
    let gate = Gate::load(state, auth).await?;
    let mut wanted = Vec::new();
    for item in &offered {
        let event = item.get("Event").unwrap_or(item);
        let Some(uuid) =
            event.get("uuid").and_then(Value::as_str).and_then(|text| Uuid::try_parse(text).ok())
        else {
            continue;
        };
        let timestamp = match event.get("timestamp") {
            Some(Value::String(text)) => text.parse::<i64>().ok(),
            Some(Value::Number(number)) => number.as_i64(),
            _ => None,
        };
        match state.store().get_intel_event(uuid).await? {
            None => wanted.push(Value::String(uuid.to_string())),
            Some(stored)
                if gate.may_see(&stored)
                    && timestamp.is_some_and(|time| time > stored.event.timestamp.unix_timestamp()) =>
            {
                wanted.push(Value::String(uuid.to_string()));
            }
            Some(_) => {}
        }
    }
    ok(Value::Array(wanted))
}

/// `events/add/metadata:1` and `events/edit/{uuid}/metadata:1`: an event pushed by a MISP
/// server. The levels are kept as the sender downgraded them, local tags are removed, the
/// creator (`Orgc`) is kept and the caller's organisation owns the copy; a copy that is not
/// newer than the stored one is refused with MISP's 403.
async fn receive_pushed(
    state: &AppState,
    auth: &Auth,
    id: Option<&str>,
    body: &[u8],
) -> MispResult<Response> {
    require_writer(auth)?;
    let scope = Scope::load(state, auth).await?;
    let document = body_object(body)?;
    if !document.contains_key("Event") {
        return Err(MispError::bad_request("a pushed event comes as {\"Event\": {…}}"));
    }
    let mut event = incoming_event(state, auth, &scope, Value::Object(document).to_string().as_bytes())?;
    if let Some(id) = id {
        let named = match id.parse::<i64>() {
            Ok(seq) => state.store().get_intel_event_by_seq(seq).await?.map(|stored| stored.event.uuid),
            Err(_) => Uuid::try_parse(id).ok(),
        };
        if named != Some(event.uuid) {
            return Err(MispError::bad_request("the event's uuid differs from the event in the path"));
        }
    }
    event.tags.retain(|tag| !tag.local);
    for attribute in
        event.attributes.iter_mut().chain(event.objects.iter_mut().flat_map(|o| o.attributes.iter_mut()))
    {
        attribute.tags.retain(|tag| !tag.local);
    }
    event.org = Some(own_org(state, auth));
    let before = state.store().get_intel_event(event.uuid).await?;
    let stored = match &before {
        None => state.store().create_intel_event(&auth.actor(), auth.0.org_id, &event).await?,
        Some(existing) => {
            if !scope.gate.may_see(existing) {
                return Err(MispError::not_found("event"));
            }
            require_owner(auth, existing)?;
            if event.timestamp <= existing.event.timestamp {
                return Err(MispError::new(
                    StatusCode::FORBIDDEN,
                    "Event in the request not newer than the local copy.",
                ));
            }
            state.store().update_intel_event(&auth.actor(), &event).await?
        }
    };
    after_write(state, &scope.gate, auth, before.as_ref(), Some(&stored)).await;
    ok(scope.wrapped(&stored))
}

async fn delete_event(state: &AppState, auth: &Auth, id: &str) -> MispResult<Response> {
    let gate = Gate::load(state, auth).await?;
    let stored = visible_event(state, &gate, id).await?;
    require_owner(auth, &stored)?;
    state.store().delete_intel_event(&auth.actor(), stored.event.uuid).await?;
    after_write(state, &gate, auth, Some(&stored), None).await;
    ok(json!({
        "saved": true,
        "success": true,
        "name": "Event deleted.",
        "message": "Event deleted.",
        "url": format!("/events/delete/{}", stored.seq),
        "id": stored.seq.to_string(),
    }))
}

async fn publish(state: &AppState, auth: &Auth, id: &str, published: bool) -> MispResult<Response> {
    let gate = Gate::load(state, auth).await?;
    let stored = visible_event(state, &gate, id).await?;
    require_owner(auth, &stored)?;
    let mut event = stored.event.clone();
    event.published = published;
    if published {
        event.publish_timestamp = Some(OffsetDateTime::now_utc());
    }
    let updated = state.store().update_intel_event(&auth.actor(), &event).await?;
    after_write(state, &gate, auth, Some(&stored), Some(&updated)).await;
    let message = if published { "Event published without alerts" } else { "Event unpublished." };
    ok(json!({
        "saved": true,
        "success": true,
        "name": message,
        "message": message,
        "url": format!("/events/{}/{}", if published { "publish" } else { "unpublish" }, stored.seq),
        "id": stored.seq.to_string(),
    }))
}

/// The events matching a search that the caller may see, newest first, at most `SEARCH_SCAN`
/// read; `visit` gets each and says whether to go on.
async fn scan(
    state: &AppState,
    gate: &Gate,
    request: &SearchRequest,
    mut visit: impl FnMut(&StoredIntelEvent) -> bool,
) -> MispResult<()> {
    if !request.event_ids.is_empty() && request.filter.uuids.is_empty() {
        let mut ids = request.event_ids.clone();
        ids.sort_unstable_by(|a, b| b.cmp(a));
        ids.dedup();
        for seq in ids {
            if let Some(stored) = state.store().get_intel_event_by_seq(seq).await?
                && gate.may_see(&stored)
                && request.filter.event_matches(&stored.event)
                && !visit(&stored)
            {
                break;
            }
        }
        return Ok(());
    }
    let mut before = None;
    let mut read = 0;
    loop {
        let query = IntelEventQuery {
            published: request.filter.published,
            before,
            limit: MAX_PAGE,
            ..IntelEventQuery::default()
        };
        let page = state.store().list_intel_events(&query).await?;
        let full = page.len() == MAX_PAGE as usize;
        before = page.last().map(|stored| stored.seq);
        for stored in &page {
            read += 1;
            let id_ok = request.event_ids.is_empty() || request.event_ids.contains(&stored.seq);
            if id_ok && gate.may_see(stored) && request.filter.event_matches(&stored.event) && !visit(stored)
            {
                return Ok(());
            }
        }
        if !full || read >= SEARCH_SCAN {
            return Ok(());
        }
    }
}

fn search_request(body: &Map<String, Value>) -> MispResult<SearchRequest> {
    SearchRequest::from_json(body, OffsetDateTime::now_utc().unix_timestamp()).map_err(|error| {
        let mut errors = Map::new();
        errors.insert(error.key.clone(), Value::String(error.message.clone()));
        MispError {
            status: StatusCode::BAD_REQUEST,
            message: error.to_string(),
            errors: Value::Object(errors),
        }
    })
}

async fn audit_search(
    state: &AppState,
    auth: &Auth,
    action: &str,
    body: &Map<String, Value>,
    found: usize,
) -> MispResult<()> {
    let query = Value::Object(body.clone()).to_string();
    state
        .store()
        .append_audit(&AuditEvent {
            actor: auth.actor().0,
            action: action.into(),
            object_type: "intel_search".into(),
            object_id: format!("{found} found"),
            digest: neretva_model::audit::digest_json(&query),
        })
        .await?;
    Ok(())
}

async fn search_events(state: &AppState, auth: &Auth, body: &[u8]) -> MispResult<Response> {
    let body = body_object(body)?;
    let request = search_request(&body)?;
    let scope = Scope::load(state, auth).await?;
    let (offset, limit) = (request.offset(), request.limit as usize);
    let mut seen = 0;
    let mut out = Vec::new();
    scan(state, &scope.gate, &request, |stored| {
        if seen >= offset {
            out.push(scope.wrapped(stored));
        }
        seen += 1;
        out.len() < limit
    })
    .await?;
    audit_search(state, auth, "misp.events.search", &body, out.len()).await?;
    ok(json!({ "response": out }))
}

async fn search_attributes(state: &AppState, auth: &Auth, body: &[u8]) -> MispResult<Response> {
    let body = body_object(body)?;
    let request = search_request(&body)?;
    let scope = Scope::load(state, auth).await?;
    let (offset, limit) = (request.offset(), request.limit as usize);
    // Events qualify on their own fields; each attribute is then matched on its own.
    let event_level = SearchRequest {
        filter: SearchFilter {
            values: Default::default(),
            types: Default::default(),
            categories: Default::default(),
            tags: Default::default(),
            uuids: Vec::new(),
            to_ids: None,
            ..request.filter.clone()
        },
        event_ids: request.event_ids.clone(),
        limit: request.limit,
        page: 1,
    };
    let mut seen = 0;
    let mut out = Vec::new();
    scan(state, &scope.gate, &event_level, |stored| {
        let mut fields: Option<Map<String, Value>> = None;
        for (_, attribute) in stored.event.all_attributes() {
            if !request.filter.attribute_matches(&stored.event, attribute)
                || !scope.gate.may_see_attribute(stored, attribute)
            {
                continue;
            }
            if seen >= offset {
                let event = fields.get_or_insert_with(|| scope.event_json(stored));
                let mut item = match scope.attribute_json(stored, attribute.uuid) {
                    Value::Object(item) => item,
                    _ => continue,
                };
                item.insert(
                    "Event".into(),
                    json!({
                        "id": stored.seq.to_string(),
                        "uuid": stored.event.uuid.to_string(),
                        "info": stored.event.info,
                        "distribution": event.get("distribution").cloned().unwrap_or(Value::Null),
                        "orgc_uuid": stored.event.orgc.uuid.to_string(),
                    }),
                );
                out.push(Value::Object(item));
                if out.len() >= limit {
                    return false;
                }
            }
            seen += 1;
        }
        true
    })
    .await?;
    audit_search(state, auth, "misp.attributes.search", &body, out.len()).await?;
    ok(json!({ "response": { "Attribute": out } }))
}

/// `events/index`: PyMISP's `search_index` filters (and a pulling server's `minimal`).
async fn index(state: &AppState, auth: &Auth, body: &[u8], route: &Route) -> MispResult<Response> {
    let body = body_object(body)?;
    let mut query = Map::new();
    let copy = |from: &str, to: &str, query: &mut Map<String, Value>| {
        if let Some(value) = body.get(from).filter(|value| !value.is_null()) {
            query.insert(to.to_owned(), value.clone());
        }
    };
    for (from, to) in [
        ("published", "published"),
        ("timestamp", "timestamp"),
        ("publish_timestamp", "publish_timestamp"),
        ("org", "org"),
        ("tags", "tags"),
        ("tag", "tags"),
        ("limit", "limit"),
        ("page", "page"),
        ("eventid", "eventid"),
        ("uuid", "uuid"),
    ] {
        copy(from, to, &mut query);
    }
    for (key, values) in &route.named {
        if let Some(value) = values.first()
            && matches!(key.as_str(), "limit" | "page" | "published" | "timestamp")
        {
            query.insert(key.clone(), Value::String(value.clone()));
        }
    }
    if let Some(info) = body.get("eventinfo").and_then(Value::as_str).filter(|info| !info.is_empty()) {
        let pattern = if info.contains('%') { info.to_owned() } else { format!("%{info}%") };
        query.insert("eventinfo".into(), Value::String(pattern));
    }
    for (from, to) in [("datefrom", "from"), ("dateuntil", "to")] {
        match body.get(from) {
            Some(Value::Number(number)) => {
                if let Some(date) = number.as_i64().and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
                {
                    query.insert(to.into(), Value::String(neretva_intel::misp::format_date(date.date())));
                }
            }
            Some(Value::String(text)) if !text.is_empty() => {
                query.insert(to.into(), Value::String(text.clone()));
            }
            _ => {}
        }
    }
    let minimal = body.get("minimal").is_some_and(|value| value == 1 || value == "1" || value == true)
        || route.named.get("minimal").is_some_and(|values| values.iter().any(|v| v == "1"));
    let request = search_request(&query)?;
    let scope = Scope::load(state, auth).await?;
    let (offset, limit) = (request.offset(), request.limit as usize);
    let mut seen = 0;
    let mut out = Vec::new();
    scan(state, &scope.gate, &request, |stored| {
        if seen >= offset {
            out.push(if minimal {
                wire::minimal_row(stored)
            } else {
                wire::index_row(stored, &scope.context())
            });
        }
        seen += 1;
        out.len() < limit
    })
    .await?;
    audit_search(state, auth, "misp.events.index", &query, out.len()).await?;
    ok(Value::Array(out))
}

/// Reads one attribute from a body (`{"Attribute": {…}}` or the attribute itself) through the
/// event importer, so every check of `/api/v1/intel` applies.
fn incoming_attribute(
    state: &AppState,
    auth: &Auth,
    scope: &Scope,
    stored: &StoredIntelEvent,
    mut attribute: Map<String, Value>,
) -> MispResult<Attribute> {
    if let Some(Value::Object(inner)) = attribute.remove("Attribute") {
        attribute = inner;
    }
    if !attribute.contains_key("uuid") {
        attribute.insert("uuid".into(), Value::String(Uuid::new_v4().to_string()));
    }
    let document = json!({
        "uuid": stored.event.uuid.to_string(),
        "info": stored.event.info,
        "Orgc": { "uuid": stored.event.orgc.uuid.to_string(), "name": stored.event.orgc.name },
        "Attribute": [Value::Object(attribute)],
    });
    let mut document = document;
    wire::groups_to_uuids(&mut document, &scope.groups);
    let mut event = read_event(state, auth, &document.to_string())?;
    check_group(&scope.gate, &event)?;
    event.attributes.pop().ok_or_else(|| MispError::bad_request("no attribute in the request"))
}

async fn add_attribute(state: &AppState, auth: &Auth, event: &str, body: &[u8]) -> MispResult<Response> {
    let scope = Scope::load(state, auth).await?;
    let stored = visible_event(state, &scope.gate, event).await?;
    require_owner(auth, &stored)?;
    let body = body_object(body)?;
    let mut attribute = incoming_attribute(state, auth, &scope, &stored, body)?;
    if stored.event.all_attributes().any(|(_, existing)| existing.uuid == attribute.uuid) {
        return Err(MispError::new(StatusCode::FORBIDDEN, "An attribute with this uuid already exists."));
    }
    let now = OffsetDateTime::now_utc();
    attribute.timestamp = now;
    let uuid = attribute.uuid;
    let mut event = stored.event.clone();
    event.attributes.push(attribute);
    event.timestamp = now;
    event.published = false;
    let updated = state.store().update_intel_event(&auth.actor(), &event).await?;
    after_write(state, &scope.gate, auth, Some(&stored), Some(&updated)).await;
    ok(json!({ "Attribute": scope.attribute_json(&updated, uuid) }))
}

async fn edit_attribute(state: &AppState, auth: &Auth, id: &str, body: &[u8]) -> MispResult<Response> {
    let scope = Scope::load(state, auth).await?;
    let (stored, uuid) = visible_attribute(state, &scope.gate, id).await?;
    require_owner(auth, &stored)?;
    let mut body = body_object(body)?;
    if let Some(Value::Object(inner)) = body.remove("Attribute") {
        body = inner;
    }
    let Some((_, current)) = stored.event.all_attributes().find(|(_, found)| found.uuid == uuid) else {
        return Err(MispError::not_found("attribute"));
    };
    // The stored attribute, with the sent fields over it.
    let mut merged = match neretva_intel::misp::event_fields(&IntelEvent {
        attributes: vec![current.clone()],
        objects: Vec::new(),
        ..stored.event.clone()
    })
    .remove("Attribute")
    {
        Some(Value::Array(mut items)) => match items.pop() {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        },
        _ => Map::new(),
    };
    for (key, value) in body {
        if !matches!(key.as_str(), "id" | "event_id" | "object_id" | "uuid" | "timestamp") {
            merged.insert(key, value);
        }
    }
    let mut attribute = incoming_attribute(state, auth, &scope, &stored, merged)?;
    let now = OffsetDateTime::now_utc();
    attribute.timestamp = now;
    attribute.sightings = current.sightings.clone();
    attribute.object_relation = current.object_relation.clone();
    let mut event = stored.event.clone();
    replace_attribute(&mut event, attribute);
    event.timestamp = now;
    event.published = false;
    let updated = state.store().update_intel_event(&auth.actor(), &event).await?;
    after_write(state, &scope.gate, auth, Some(&stored), Some(&updated)).await;
    ok(json!({ "Attribute": scope.attribute_json(&updated, uuid) }))
}

fn replace_attribute(event: &mut IntelEvent, attribute: Attribute) {
    if let Some(slot) = event
        .attributes
        .iter_mut()
        .chain(event.objects.iter_mut().flat_map(|object| object.attributes.iter_mut()))
        .find(|slot| slot.uuid == attribute.uuid)
    {
        *slot = attribute;
    }
}

async fn delete_attribute(state: &AppState, auth: &Auth, id: &str, hard: bool) -> MispResult<Response> {
    let gate = Gate::load(state, auth).await?;
    let (stored, uuid) = visible_attribute(state, &gate, id).await?;
    require_owner(auth, &stored)?;
    let mut event = stored.event.clone();
    let now = OffsetDateTime::now_utc();
    if hard {
        event.attributes.retain(|attribute| attribute.uuid != uuid);
        for object in &mut event.objects {
            object.attributes.retain(|attribute| attribute.uuid != uuid);
        }
    } else if let Some(attribute) = neretva_store::intel::attribute_mut(&mut event, uuid) {
        attribute.deleted = true;
        attribute.timestamp = now;
    }
    event.timestamp = now;
    event.published = false;
    let updated = state.store().update_intel_event(&auth.actor(), &event).await?;
    after_write(state, &gate, auth, Some(&stored), Some(&updated)).await;
    ok(json!({ "message": "Attribute deleted." }))
}

async fn view_attribute(state: &AppState, auth: &Auth, id: &str) -> MispResult<Response> {
    let scope = Scope::load(state, auth).await?;
    let (stored, uuid) = visible_attribute(state, &scope.gate, id).await?;
    ok(json!({ "Attribute": scope.attribute_json(&stored, uuid) }))
}

/// `tags/attachTagToObject` and `tags/removeTagFromObject`: `{"uuid", "tag", "local"}`, the
/// uuid naming an event or an attribute.
async fn tag(state: &AppState, auth: &Auth, body: &[u8], attach: bool) -> MispResult<Response> {
    let body = body_object(body)?;
    let uuid = body
        .get("uuid")
        .and_then(Value::as_str)
        .and_then(|text| Uuid::try_parse(text).ok())
        .ok_or_else(|| MispError::bad_request("uuid: the uuid of an event or an attribute is needed"))?;
    let name = match body.get("tag") {
        Some(Value::String(name)) => name.clone(),
        Some(Value::Number(number)) => number.to_string(),
        _ => return Err(MispError::bad_request("tag: the tag's name is needed")),
    };
    neretva_intel::tag::check_name(&name)
        .map_err(|reason| MispError::bad_request(format!("tag: {reason}")))?;
    let local = body.get("local").is_some_and(|value| value == true || value == 1 || value == "1");
    let gate = Gate::load(state, auth).await?;
    let (stored, attribute) = match state.store().get_intel_event(uuid).await? {
        Some(stored) if gate.may_see(&stored) => (stored, None),
        Some(_) => return Err(MispError::not_found("object")),
        None => {
            let (stored, attribute) = visible_attribute(state, &gate, &uuid.to_string())
                .await
                .map_err(|_| MispError::not_found("object"))?;
            (stored, Some(attribute))
        }
    };
    require_owner(auth, &stored)?;
    let mut event = stored.event.clone();
    let tags = match attribute {
        None => &mut event.tags,
        Some(attribute) => match neretva_store::intel::attribute_mut(&mut event, attribute) {
            Some(found) => &mut found.tags,
            None => return Err(MispError::not_found("object")),
        },
    };
    if attach {
        if !tags.iter().any(|tag| tag.name == name) {
            tags.push(Tag { local, ..Tag::new(name.clone()) });
        }
    } else {
        tags.retain(|tag| tag.name != name);
    }
    event.timestamp = OffsetDateTime::now_utc();
    let updated = state.store().update_intel_event(&auth.actor(), &event).await?;
    after_write(state, &gate, auth, Some(&stored), Some(&updated)).await;
    let message = if attach { "Tag attached." } else { "Tag removed." };
    ok(json!({ "saved": true, "success": message, "check_publish": true }))
}

/// `sightings/add[/{attribute}]`: on one attribute (by path, or `id`/`uuid` in the body), or on
/// every visible attribute holding `value`.
async fn add_sighting(
    state: &AppState,
    auth: &Auth,
    attribute: Option<&str>,
    body: &[u8],
) -> MispResult<Response> {
    require_writer(auth)?;
    let body = body_object(body)?;
    let body = match body.get("Sighting") {
        Some(Value::Object(inner)) => inner.clone(),
        _ => body,
    };
    let gate = Gate::load(state, auth).await?;
    let kind = match body.get("type") {
        None | Some(Value::Null) => SightingKind::Sighting,
        Some(value) => value
            .as_str()
            .and_then(|text| text.parse::<u8>().ok())
            .or_else(|| value.as_u64().and_then(|n| u8::try_from(n).ok()))
            .and_then(SightingKind::from_number)
            .ok_or_else(|| {
                MispError::bad_request("type: 0 (sighting), 1 (false positive) or 2 (expiration)")
            })?,
    };
    let source = body.get("source").and_then(Value::as_str).unwrap_or_default().to_owned();
    neretva_model::check_optional_text("source", &source, 255).map_err(ApiError::from)?;
    let named = attribute
        .map(str::to_owned)
        .or_else(|| body.get("uuid").and_then(Value::as_str).map(str::to_owned))
        .or_else(|| {
            body.get("id")
                .and_then(|id| id.as_str().map(str::to_owned).or_else(|| id.as_i64().map(|n| n.to_string())))
        });
    let mut targets: Vec<(Uuid, Uuid)> = Vec::new();
    if let Some(named) = named {
        let (stored, uuid) = visible_attribute(state, &gate, &named).await?;
        targets.push((stored.event.uuid, uuid));
    } else if let Some(value) = body.get("value").and_then(Value::as_str) {
        let query = neretva_store::intel::AttributeQuery {
            value: Some(value.trim().to_owned()),
            limit: MAX_PAGE,
            ..Default::default()
        };
        for found in state.store().search_intel_attributes(&query).await? {
            if let Some(stored) = state.store().get_intel_event(found.event).await?
                && gate.may_see(&stored)
                && stored
                    .event
                    .all_attributes()
                    .any(|(_, a)| a.uuid == found.uuid && gate.may_see_attribute(&stored, a))
            {
                targets.push((found.event, found.uuid));
            }
        }
        if targets.is_empty() {
            return Err(MispError::not_found("attribute"));
        }
    } else {
        return Err(MispError::bad_request("give an attribute (in the path, or id or uuid) or a value"));
    }
    let org = own_org(state, auth);
    let time = match body.get("date_sighting").or_else(|| body.get("timestamp")) {
        Some(value) => value
            .as_str()
            .and_then(|text| text.parse::<i64>().ok())
            .or_else(|| value.as_i64())
            .and_then(|seconds| OffsetDateTime::from_unix_timestamp(seconds).ok())
            .ok_or_else(|| MispError::bad_request("date_sighting: Unix seconds"))?,
        None => OffsetDateTime::now_utc(),
    };
    let mut last = Value::Null;
    for (event, attribute) in targets {
        let sighting =
            Sighting { uuid: Uuid::new_v4(), kind, source: source.clone(), time, org: Some(org.clone()) };
        let updated = state.store().add_intel_sighting(&auth.actor(), event, attribute, &sighting).await?;
        last = json!({
            "uuid": sighting.uuid.to_string(),
            "attribute_id": updated.attribute_id(attribute).map(|id| id.to_string()),
            "attribute_uuid": attribute.to_string(),
            "event_id": updated.seq.to_string(),
            "type": kind.number().to_string(),
            "source": source,
            "date_sighting": time.unix_timestamp().to_string(),
            "org_id": org.uuid.to_string(),
            "Organisation": { "uuid": org.uuid.to_string(), "name": org.name },
        });
    }
    ok(json!({ "Sighting": last }))
}

async fn sharing_groups(state: &AppState, auth: &Auth, id: Option<&str>) -> MispResult<Response> {
    let principal = auth.principal();
    let registry = state.registry();
    let ids = GroupIds::new(state.store().sharing_group_ids().await?);
    let groups = state.store().list_sharing_groups().await?;
    let views = groups.iter().filter_map(|group| view_sharing_group(&principal, group)).filter_map(|view| {
        let number = ids.by_uuid.get(&view.uuid).copied()?;
        Some((number, view))
    });
    match id {
        None => {
            let listed: Vec<Value> =
                views.map(|(number, view)| wire::sharing_group(&view, number, &registry)).collect();
            ok(json!({ "response": listed }))
        }
        Some(id) => {
            let found = views.into_iter().find(|(number, view)| {
                id.parse::<i64>().ok() == Some(*number) || Uuid::try_parse(id).ok() == Some(view.uuid)
            });
            match found {
                Some((number, view)) => ok(wire::sharing_group(&view, number, &registry)),
                None => Err(MispError::not_found("sharing group")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_sharing_group_ids_become_uuids() {
        let group = Uuid::from_u128(7);
        let groups = GroupIds::new(vec![(group, 3)]);
        let mut event = json!({
            "distribution": "4", "sharing_group_id": "3", "SharingGroup": {"id": "3"},
            "Attribute": [{"sharing_group_id": 3}, {"sharing_group_id": "0"}, {"sharing_group_id": "99"}],
            "Object": [{"sharing_group_id": "3", "Attribute": [{"sharing_group_id": "3"}]}]
        });
        wire::groups_to_uuids(&mut event, &groups);
        let text = group.to_string();
        assert_eq!(event["sharing_group_id"], text.as_str());
        assert!(event.get("SharingGroup").is_none());
        assert_eq!(event["Attribute"][0]["sharing_group_id"], text.as_str());
        assert!(event["Attribute"][1].get("sharing_group_id").is_none());
        // An unknown number stays, so the import refuses it.
        assert_eq!(event["Attribute"][2]["sharing_group_id"], "99");
        assert_eq!(event["Object"][0]["Attribute"][0]["sharing_group_id"], text.as_str());
    }

    #[test]
    fn cakephp_paths() {
        let route = parse_route("/events/view/12/deleted[]:0/deleted[]:1/excludeLocalTags:1.json");
        assert_eq!((route.controller.as_str(), route.action.as_str()), ("events", "view"));
        assert_eq!(route.args, ["12"]);
        assert_eq!(route.named["deleted"], ["0", "1"]);
        assert_eq!(route.named["excludeLocalTags"], ["1"]);
        let route = parse_route("/attributes/describeTypes.json");
        assert_eq!(route.action, "describeTypes");
        assert!(route.args.is_empty());
        let route = parse_route("/events/add/metadata:1");
        assert_eq!(route.named["metadata"], ["1"]);
        assert!(route.args.is_empty());
        let route = parse_route("/events/view/5b0c5e4a-1f7e-4b5e-9a63-9a0d2b8e1c11");
        assert_eq!(route.args, ["5b0c5e4a-1f7e-4b5e-9a63-9a0d2b8e1c11"]);
        assert_eq!(parse_route("/users/view/me.json").args, ["me"]);
        assert_eq!(percent_decode("a%20b%zz%"), "a b%zz%");
    }
}
