//! Sharing pages: intel events, indicators, sharing groups and TAXII collections.
//!
//! Intel events are read through the API's `Gate` (the sharing groups and the registry, loaded
//! once per request): every event passes `Gate::may_see` and every attribute
//! `Gate::may_see_attribute`, and an event the user may not see is not found. Correlations,
//! sharing groups and the attribute search come from the API's own handlers and helpers, so a
//! page never shows more than the API would. TAXII collections are filtered with the same
//! `CollectionAccess` and `may_see_object` checks as the TAXII server.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use neretva_intel::access::view_sharing_group;
use neretva_intel::model::{Analysis, Distribution, IntelEvent, ThreatLevel};
use neretva_model::Uuid;
use neretva_model::taxii::{CollectionAccess, ObjectAccess, may_see_object};
use neretva_store::intel::{AttributeQuery, DEFAULT_TLP, IntelEventQuery, StoredIntelEvent};
use neretva_store::taxii::ObjectQuery;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::intel::{DEFAULT_PAP, Gate, SharingGroupPatch, visible_event};
use crate::api::taxii::{CollectionDto, CollectionInput};
use crate::error::{ApiError, ErrorCode};
use crate::extract::ApiJson;
use crate::registry::RegistrySnapshot;
use crate::web::constituency::{api_failure, data, given, is_input_problem, problems};
use crate::web::{Confirm, WebForm, WebUser, encode_query_value};

/// Intel events per page of the list.
const EVENTS_PER_PAGE: u32 = 50;
/// Attributes read by one indicator page or value search.
const ATTRIBUTES_READ: u32 = 1000;
/// Objects counted per TAXII collection; more are shown as "at least".
const OBJECTS_COUNTED: u32 = 10_000;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/sharing", get(|| async { Redirect::to("/sharing/events") }))
        .route("/sharing/events", get(events))
        .route("/sharing/events/{id}", get(event))
        .route("/sharing/indicators", get(indicators))
        .route("/sharing/groups", get(groups))
        .route("/sharing/groups/{id}", get(group).post(edit_group))
        .route("/sharing/groups/{id}/members", post(add_member))
        .route("/sharing/groups/{id}/members/{member}/remove", post(remove_member))
        .route("/sharing/taxii", get(taxii).post(create_collection))
        .route("/sharing/taxii/{id}/remove", get(remove_collection_form).post(remove_collection))
}

fn threat_key(level: ThreatLevel) -> &'static str {
    match level {
        ThreatLevel::High => "high",
        ThreatLevel::Medium => "medium",
        ThreatLevel::Low => "low",
        ThreatLevel::Undefined => "undefined",
    }
}

fn analysis_key(analysis: Analysis) -> &'static str {
    match analysis {
        Analysis::Initial => "initial",
        Analysis::Ongoing => "ongoing",
        Analysis::Completed => "completed",
    }
}

/// The text key suffix of a distribution (`sharing.dist.<key>`).
fn distribution_key(distribution: Distribution) -> &'static str {
    match distribution {
        Distribution::Organisation => "org",
        Distribution::Community => "community",
        Distribution::Connected => "connected",
        Distribution::All => "all",
        Distribution::SharingGroup => "group",
    }
}

/// One intel event as a row of the list.
#[derive(Debug, Serialize)]
struct EventRow {
    uuid: Uuid,
    info: String,
    date: String,
    owner: String,
    owner_id: Uuid,
    creator: String,
    tlp: &'static str,
    pap: &'static str,
    distribution: &'static str,
    published: bool,
    tags: Vec<String>,
    attributes: usize,
    threat_level: &'static str,
}

fn event_row(gate: &Gate, stored: &StoredIntelEvent) -> EventRow {
    let event = &stored.event;
    EventRow {
        uuid: event.uuid,
        info: event.info.clone(),
        date: event.date.to_string(),
        owner: gate.registry.short_name(stored.owner_org),
        owner_id: stored.owner_org,
        creator: event.orgc.name.clone(),
        tlp: event.tlp(DEFAULT_TLP).label(),
        pap: event.pap(DEFAULT_PAP).label(),
        distribution: distribution_key(event.distribution),
        published: event.published,
        tags: event.tags.iter().map(|tag| tag.name.clone()).collect(),
        attributes: event
            .all_attributes()
            .filter(|(_, attribute)| !attribute.deleted && gate.may_see_attribute(stored, attribute))
            .count(),
        threat_level: threat_key(event.threat_level),
    }
}

#[derive(Debug, Default, Deserialize)]
struct EventsQuery {
    text: Option<String>,
    tag: Option<String>,
    distribution: Option<String>,
    organisation: Option<String>,
    published: Option<String>,
    value: Option<String>,
    before: Option<i64>,
}

impl EventsQuery {
    /// A link to this list with the same filters, older than `before`.
    fn link(&self, before: Option<i64>) -> String {
        let mut pairs = Vec::new();
        for (name, value) in [
            ("text", &self.text),
            ("tag", &self.tag),
            ("distribution", &self.distribution),
            ("organisation", &self.organisation),
            ("published", &self.published),
        ] {
            if let Some(value) = value.as_deref().filter(|value| !value.is_empty()) {
                pairs.push(format!("{name}={}", encode_query_value(value)));
            }
        }
        if let Some(before) = before {
            pairs.push(format!("before={before}"));
        }
        if pairs.is_empty() {
            "/sharing/events".to_owned()
        } else {
            format!("/sharing/events?{}", pairs.join("&"))
        }
    }
}

/// The longest filter text taken.
const MAX_FILTER: usize = 500;

async fn events(
    State(state): State<AppState>,
    web: WebUser,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return web.bad_request("query", "unknown or malformed filter");
    };
    for (field, value) in [("text", &query.text), ("tag", &query.tag), ("value", &query.value)] {
        if value.as_ref().is_some_and(|value| value.len() > MAX_FILTER) {
            return web.bad_request(field, &format!("at most {MAX_FILTER} characters"));
        }
    }
    let published = match query.published.as_deref() {
        None | Some("") => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return web.bad_request("published", "expected true or false"),
    };
    let distribution = match query.distribution.as_deref() {
        None | Some("") => None,
        Some(text) => match Distribution::ALL.into_iter().find(|d| distribution_key(*d) == text) {
            Some(distribution) => Some(distribution),
            None => {
                return web.bad_request("distribution", "expected org, community, connected, all or group");
            }
        },
    };
    let gate = match Gate::load(&state, &web.auth()).await {
        Ok(gate) => gate,
        Err(error) => return api_failure(&web, error),
    };
    let mut context_rows = Vec::new();
    let mut value_hits = None;
    let mut older = None;
    if let Some(value) = given(query.value.clone()) {
        // A value search: the attributes holding the value that the user may see, with their events.
        let search = AttributeQuery {
            value: Some(value),
            include_deleted: false,
            limit: ATTRIBUTES_READ,
            ..AttributeQuery::default()
        };
        let found = match state.store().search_intel_attributes(&search).await {
            Ok(found) => found,
            Err(error) => return web.internal(&error),
        };
        match crate::api::intel::visible_attributes(&state, &gate, found).await {
            Ok(hits) => value_hits = Some(hits),
            Err(error) => return api_failure(&web, error),
        }
    } else {
        let org = match given(query.organisation.clone()) {
            None => None,
            Some(key) => match gate.registry.resolve(&key) {
                Some(org) if gate.registry.may_see_org(&gate.principal, org.id) => Some(org.id),
                // An organisation the user may not see has no events it may see here either.
                _ => Some(Uuid::nil()),
            },
        };
        let store_query = IntelEventQuery {
            text: given(query.text.clone()),
            tag: given(query.tag.clone()),
            published,
            org,
            before: query.before,
            limit: EVENTS_PER_PAGE,
            ..IntelEventQuery::default()
        };
        let page = match state.store().list_intel_events(&store_query).await {
            Ok(page) => page,
            Err(error) => return web.internal(&error),
        };
        if page.len() == EVENTS_PER_PAGE as usize {
            older = page.last().map(|stored| query.link(Some(stored.seq)));
        }
        context_rows = page
            .iter()
            .filter(|stored| gate.may_see(stored))
            .filter(|stored| distribution.is_none_or(|wanted| stored.event.distribution == wanted))
            .map(|stored| event_row(&gate, stored))
            .collect();
    }
    let context = context! {
        events => data(&context_rows),
        value_hits => data(&value_hits),
        older => older,
        newest => query.before.is_some().then(|| query.link(None)),
        distributions => Distribution::ALL.iter().map(|d| distribution_key(*d)).collect::<Vec<_>>(),
        query => context! {
            text => query.text.as_deref().unwrap_or(""),
            tag => query.tag.as_deref().unwrap_or(""),
            distribution => query.distribution.as_deref().unwrap_or(""),
            organisation => query.organisation.as_deref().unwrap_or(""),
            published => query.published.as_deref().unwrap_or(""),
            value => query.value.as_deref().unwrap_or(""),
        },
    };
    web.render("web/sharing/events.html", context)
}

/// An attribute of an event as its page shows it.
#[derive(Debug, Serialize)]
struct AttributeRow {
    uuid: Uuid,
    object: Option<String>,
    attr_type: String,
    category: String,
    value: String,
    to_ids: bool,
    tlp: &'static str,
    comment: String,
    tags: Vec<String>,
    sightings: usize,
}

fn attribute_rows(gate: &Gate, stored: &StoredIntelEvent) -> Vec<AttributeRow> {
    let event_tlp = stored.event.tlp(DEFAULT_TLP);
    stored
        .event
        .all_attributes()
        .filter(|(_, attribute)| !attribute.deleted && gate.may_see_attribute(stored, attribute))
        .map(|(object, attribute)| AttributeRow {
            uuid: attribute.uuid,
            object: object.map(|object| match &attribute.object_relation {
                Some(relation) => format!("{} / {relation}", object.name),
                None => object.name.clone(),
            }),
            attr_type: attribute.attr_type.clone(),
            category: attribute.category.clone(),
            value: attribute.value.clone(),
            to_ids: attribute.to_ids,
            tlp: attribute.tlp(event_tlp).label(),
            comment: attribute.comment.clone(),
            tags: attribute.tags.iter().map(|tag| tag.name.clone()).collect(),
            sightings: attribute.sightings.len(),
        })
        .collect()
}

/// The name of the event's sharing group, when the user may know the group.
fn group_name(gate: &Gate, event: &IntelEvent) -> Option<String> {
    let group = gate.groups.get(&event.sharing_group?)?;
    view_sharing_group(&gate.principal, group).map(|view| view.name)
}

async fn event(State(state): State<AppState>, web: WebUser, Path(id): Path<String>) -> Response {
    let gate = match Gate::load(&state, &web.auth()).await {
        Ok(gate) => gate,
        Err(error) => return api_failure(&web, error),
    };
    // Not a valid id, or not visible: the same answer.
    let stored = match visible_event(&state, &gate, &id).await {
        Ok(stored) => stored,
        Err(error) if error.code == crate::error::ErrorCode::InvalidRequest => return web.not_found(),
        Err(error) => return api_failure(&web, error),
    };
    let correlations = match crate::api::intel::event_correlations(&state, &gate, &web.auth(), &stored).await
    {
        Ok(correlations) => correlations,
        Err(error) => return api_failure(&web, error),
    };
    let attributes = attribute_rows(&gate, &stored);
    let values: std::collections::HashMap<Uuid, &str> =
        attributes.iter().map(|row| (row.uuid, row.value.as_str())).collect();
    let intel_links: Vec<_> = correlations
        .intel
        .iter()
        .map(|link| {
            context! {
                value => values.get(&link.attribute).copied().unwrap_or(""),
                other_event => link.other_event.to_string(),
                other_info => &link.other_event_info,
                relation => &link.relation,
            }
        })
        .collect();
    let event = &stored.event;
    let context = context! {
        event => data(&event_row(&gate, &stored)),
        analysis => analysis_key(event.analysis),
        sharing_group => group_name(&gate, event),
        sharing_group_id => data(&event.sharing_group),
        attributes => data(&attributes),
        intel_links => intel_links,
        incidents => data(&correlations.incidents),
        feed_events => data(&correlations.feed_events),
        over_correlating => data(&correlations.over_correlating),
    };
    web.render("web/sharing/event.html", context)
}

#[derive(Debug, Default, Deserialize)]
struct IndicatorQuery {
    #[serde(rename = "type")]
    attr_type: Option<String>,
    value: Option<String>,
}

async fn indicators(
    State(state): State<AppState>,
    web: WebUser,
    query: Result<Query<IndicatorQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return web.bad_request("query", "unknown or malformed filter");
    };
    let attr_type = given(query.attr_type.clone());
    let mut problem = None;
    let value = match (given(query.value.clone()), &attr_type) {
        (Some(value), _) if value.len() > MAX_FILTER => {
            return web.bad_request("value", &format!("at most {MAX_FILTER} characters"));
        }
        (Some(value), Some(attr_type)) => match neretva_intel::value::canonicalise(attr_type, &value) {
            Ok(value) => Some(value),
            Err(reason) => {
                problem = Some(format!("value: {reason}"));
                None
            }
        },
        (value, _) => value,
    };
    let mut rows = Vec::new();
    if problem.is_none() {
        let gate = match Gate::load(&state, &web.auth()).await {
            Ok(gate) => gate,
            Err(error) => return api_failure(&web, error),
        };
        let search = AttributeQuery {
            value,
            attr_type: attr_type.clone(),
            category: None,
            to_ids: Some(true),
            include_deleted: false,
            limit: ATTRIBUTES_READ,
        };
        let found = match state.store().search_intel_attributes(&search).await {
            Ok(found) => found,
            Err(error) => return web.internal(&error),
        };
        match crate::api::intel::visible_attributes(&state, &gate, found).await {
            Ok(found) => rows = found,
            Err(error) => return api_failure(&web, error),
        }
    }
    let status = if problem.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let context = context! {
        indicators => data(&rows),
        problem => problem,
        limited => ATTRIBUTES_READ,
        query => context! {
            attr_type => query.attr_type.as_deref().unwrap_or(""),
            value => query.value.as_deref().unwrap_or(""),
        },
    };
    (status, web.render("web/sharing/indicators.html", context)).into_response()
}

/// A sharing group as the user may see it, members by name.
#[derive(Debug, Serialize)]
struct GroupView {
    uuid: Uuid,
    name: String,
    description: String,
    confidential: bool,
    owner: Option<OrgName>,
    members: Vec<OrgName>,
    complete: bool,
}

#[derive(Debug, Serialize)]
struct OrgName {
    id: Uuid,
    short_name: String,
    name: String,
    /// Whether the user may open the organisation's page.
    visible: bool,
}

fn org_name(registry: &RegistrySnapshot, web: &WebUser, id: Uuid) -> OrgName {
    let org = registry.orgs.get(&id);
    OrgName {
        id,
        short_name: org.map(|org| org.fields.short_name.clone()).unwrap_or_default(),
        name: org.map_or_else(|| id.to_string(), |org| org.fields.name.clone()),
        visible: registry.may_see_org(&web.principal(), id),
    }
}

async fn group_views(state: &AppState, web: &WebUser) -> Result<Vec<GroupView>, Response> {
    let groups = match crate::api::intel::list_groups(State(state.clone()), web.auth()).await {
        Ok(axum::Json(groups)) => groups,
        Err(error) => return Err(api_failure(web, error)),
    };
    let registry = state.registry();
    Ok(groups
        .into_iter()
        .map(|group| GroupView {
            uuid: group.uuid,
            name: group.name,
            description: group.description,
            confidential: group.confidential,
            owner: group.owner_org.map(|id| org_name(&registry, web, id)),
            members: group.members.iter().map(|id| org_name(&registry, web, *id)).collect(),
            complete: group.complete,
        })
        .collect())
}

async fn groups(State(state): State<AppState>, web: WebUser) -> Response {
    match group_views(&state, &web).await {
        Ok(groups) => web.render("web/sharing/groups.html", context! { groups => data(&groups) }),
        Err(response) => response,
    }
}

async fn group(State(state): State<AppState>, web: WebUser, Path(id): Path<String>) -> Response {
    group_page(&state, &web, &id, &[]).await
}

/// A sharing group's page, with the edit forms for those who may change it (its owner
/// organisation and the operator's staff, as the API's `PATCH`) and a refused change's problems.
async fn group_page(state: &AppState, web: &WebUser, id: &str, problems: &[String]) -> Response {
    let Ok(uuid) = Uuid::try_parse(id) else { return web.not_found() };
    let group = match group_views(state, web).await {
        Ok(groups) => match groups.into_iter().find(|group| group.uuid == uuid) {
            Some(group) => group,
            None => return web.not_found(),
        },
        Err(response) => return response,
    };
    let may_manage = neretva_model::access::may_write(&web.principal())
        && (web.user.is_operator_staff()
            || group.owner.as_ref().is_some_and(|owner| owner.id == web.user.org_id));
    let status = if problems.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let context = context! { group => data(&group), may_manage => may_manage, problems => data(&problems) };
    (status, web.render("web/sharing/group.html", context)).into_response()
}

/// The answer to a sharing group form: back to the group, or its page with the problems; 404
/// and 403 as the API answers them.
async fn after_group_change<T>(
    state: &AppState,
    web: &WebUser,
    id: &str,
    result: Result<T, ApiError>,
) -> Response {
    match result {
        Ok(_) => Redirect::to(&format!("/sharing/groups/{}", encode_query_value(id))).into_response(),
        Err(error) if is_input_problem(&error) => group_page(state, web, id, &problems(&error)).await,
        Err(error) => api_failure(web, error),
    }
}

#[derive(Debug, Deserialize)]
struct GroupForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    confidential: Option<String>,
}

async fn edit_group(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, form }: WebForm<GroupForm>,
) -> Response {
    let patch = SharingGroupPatch {
        name: Some(form.name.trim().to_owned()),
        description: Some(form.description.trim().to_owned()),
        confidential: Some(form.confidential.is_some()),
        ..SharingGroupPatch::default()
    };
    let result =
        crate::api::intel::patch_group(State(state.clone()), web.auth(), Path(id.clone()), ApiJson(patch))
            .await;
    after_group_change(&state, &web, &id, result).await
}

#[derive(Debug, Deserialize)]
struct MemberForm {
    #[serde(default)]
    member: String,
}

/// An organisation named in a form: a short name among the organisations the user may see
/// (others are "no organisation", so a name typed does not reveal which exist), or an id, which
/// the API takes for any organisation.
fn member_of(state: &AppState, web: &WebUser, key: &str) -> Result<Uuid, ApiError> {
    let registry = state.registry();
    let key = key.trim();
    let by_id = Uuid::try_parse(key).ok().filter(|id| registry.orgs.contains_key(id));
    by_id
        .or_else(|| {
            registry
                .resolve(key)
                .filter(|org| registry.may_see_org(&web.principal(), org.id))
                .map(|org| org.id)
        })
        .ok_or_else(|| {
            ApiError::validation(vec![neretva_model::FieldError::new(
                "member",
                format!("no organisation {key:?}"),
            )])
        })
}

async fn add_member(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, form }: WebForm<MemberForm>,
) -> Response {
    let result = match member_of(&state, &web, &form.member) {
        Ok(member) => {
            let patch = SharingGroupPatch { add_members: vec![member], ..SharingGroupPatch::default() };
            crate::api::intel::patch_group(State(state.clone()), web.auth(), Path(id.clone()), ApiJson(patch))
                .await
                .map(|_| ())
        }
        // The group is checked first, as the API would: nothing is said of one the user may
        // not change.
        Err(error) => match crate::api::intel::managed_group(&state, &web.auth(), &id).await {
            Ok(_) => Err(error),
            Err(refusal) => Err(refusal),
        },
    };
    after_group_change(&state, &web, &id, result).await
}

async fn remove_member(
    State(state): State<AppState>,
    Path((id, member)): Path<(String, String)>,
    WebForm { web, .. }: WebForm<Confirm>,
) -> Response {
    let Ok(member) = Uuid::try_parse(&member) else { return web.not_found() };
    let patch = SharingGroupPatch { remove_members: vec![member], ..SharingGroupPatch::default() };
    let result =
        crate::api::intel::patch_group(State(state.clone()), web.auth(), Path(id.clone()), ApiJson(patch))
            .await;
    after_group_change(&state, &web, &id, result).await
}

/// A TAXII collection with the user's rights and the objects it may see in it.
#[derive(Debug, Serialize)]
struct CollectionView {
    collection: CollectionDto,
    can_write: bool,
    objects: u64,
    /// Whether counting stopped at the limit.
    more: bool,
}

async fn taxii(State(state): State<AppState>, web: WebUser) -> Response {
    taxii_page(&state, &web, None).await
}

/// A new collection as typed in the form.
#[derive(Debug, Default, Deserialize, Serialize)]
struct CollectionForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    alias: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    sharing: String,
    /// Short names, separated by commas or spaces.
    #[serde(default)]
    sharing_orgs: String,
    #[serde(default)]
    writers: String,
    #[serde(default)]
    default_tlp: String,
}

impl CollectionForm {
    fn input(&self) -> CollectionInput {
        CollectionInput {
            title: self.title.trim().to_owned(),
            description: given(Some(self.description.clone())),
            alias: given(Some(self.alias.clone())),
            owner: given(Some(self.owner.clone())),
            sharing: self.sharing.trim().to_owned(),
            sharing_orgs: self
                .sharing_orgs
                .split([',', ' ', '\n', '\r', '\t'])
                .filter(|key| !key.is_empty())
                .map(str::to_owned)
                .collect(),
            writers: given(Some(self.writers.clone())),
            default_tlp: given(Some(self.default_tlp.clone())),
        }
    }
}

/// Creates a TAXII collection through the API (administrators); a refused form comes back with
/// what was typed and its problems.
async fn create_collection(
    State(state): State<AppState>,
    WebForm { web, form }: WebForm<CollectionForm>,
) -> Response {
    match crate::api::taxii::create(State(state.clone()), web.auth(), ApiJson(form.input())).await {
        Ok(_) => Redirect::to("/sharing/taxii").into_response(),
        Err(error) if is_input_problem(&error) || error.code == ErrorCode::Conflict => {
            let problems = problems(&error);
            taxii_page(&state, &web, Some((&form, problems))).await
        }
        Err(error) => api_failure(&web, error),
    }
}

/// A collection an administrator may remove, by id or alias; others get the API's answer.
async fn removable(state: &AppState, web: &WebUser, key: &str) -> Result<CollectionDto, Response> {
    if !neretva_model::access::may_administer(&web.principal()) {
        return Err(web.not_found());
    }
    match crate::api::taxii::get(State(state.clone()), web.auth(), Path(key.to_owned())).await {
        Ok(axum::Json(collection)) => Ok(collection),
        Err(error) => Err(api_failure(web, error)),
    }
}

async fn remove_collection_form(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
) -> Response {
    match removable(&state, &web, &id).await {
        Ok(collection) => {
            web.render("web/sharing/taxii_remove.html", context! { collection => data(&collection) })
        }
        Err(response) => response,
    }
}

async fn remove_collection(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, .. }: WebForm<Confirm>,
) -> Response {
    let collection = match removable(&state, &web, &id).await {
        Ok(collection) => collection,
        Err(response) => return response,
    };
    match crate::api::taxii::remove(State(state.clone()), web.auth(), Path(collection.id.to_string())).await {
        Ok(_) => Redirect::to("/sharing/taxii").into_response(),
        Err(error) => api_failure(&web, error),
    }
}

async fn taxii_page(
    state: &AppState,
    web: &WebUser,
    refused: Option<(&CollectionForm, Vec<String>)>,
) -> Response {
    let registry = state.registry();
    let principal = web.principal();
    let api_root = state.config().taxii.api_root.clone();
    let collections = match state.store().list_collections().await {
        Ok(collections) => collections,
        Err(error) => return web.internal(&error),
    };
    let mut views = Vec::new();
    for collection in &collections {
        let fields = &collection.fields;
        let access = CollectionAccess {
            owner_org: fields.owner_org,
            owner_ancestors: registry.ancestors(fields.owner_org),
            sharing: &fields.sharing,
            writers: fields.writers,
        };
        if !access.may_read(&principal) {
            continue;
        }
        let query = ObjectQuery { with_body: false, ..ObjectQuery::new(collection.id, OBJECTS_COUNTED) };
        let objects = match state.store().query_objects(&query).await {
            Ok(objects) => objects,
            Err(error) => return web.internal(&error),
        };
        let more = objects.len() >= OBJECTS_COUNTED as usize;
        let visible = objects
            .iter()
            .filter(|object| {
                let object_access = ObjectAccess {
                    tlp: object.tlp,
                    poster_org: object.org_id,
                    poster_ancestors: registry.ancestors(object.org_id),
                    poster_user: object.user_id,
                };
                may_see_object(&principal, &access, &object_access)
            })
            .count();
        views.push(CollectionView {
            collection: CollectionDto::new(collection, &registry, &api_root),
            can_write: access.may_write(&principal),
            objects: visible as u64,
            more,
        });
    }
    let status = if refused.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let (form, problems) = match refused {
        Some((form, problems)) => (data(form), problems),
        None => (
            data(&CollectionForm {
                sharing: "organisation".into(),
                writers: "owner".into(),
                default_tlp: "TLP:GREEN".into(),
                ..CollectionForm::default()
            }),
            Vec::new(),
        ),
    };
    let context = context! {
        collections => data(&views),
        discovery => "/taxii2/",
        may_administer => neretva_model::access::may_administer(&principal),
        form => form,
        problems => problems,
        tlps => neretva_model::tlp::Tlp::ALL.iter().map(|tlp| tlp.label()).collect::<Vec<_>>(),
    };
    (status, web.render("web/sharing/taxii.html", context)).into_response()
}
