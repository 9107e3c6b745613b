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
use axum::routing::get;
use minijinja::context;
use neretva_intel::access::view_sharing_group;
use neretva_intel::model::{Analysis, Distribution, IntelEvent, ThreatLevel};
use neretva_model::Uuid;
use neretva_model::taxii::{CollectionAccess, ObjectAccess, may_see_object};
use neretva_store::intel::{AttributeQuery, DEFAULT_TLP, IntelEventQuery, StoredIntelEvent};
use neretva_store::taxii::ObjectQuery;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::intel::{DEFAULT_PAP, Gate, visible_event};
use crate::api::taxii::CollectionDto;
use crate::registry::RegistrySnapshot;
use crate::web::constituency::{api_failure, data, given};
use crate::web::{WebUser, encode_query_value};

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
        .route("/sharing/groups/{id}", get(group))
        .route("/sharing/taxii", get(taxii))
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
    let correlations =
        match crate::api::intel::correlations(State(state.clone()), web.auth(), Path(id.clone())).await {
            Ok(axum::Json(correlations)) => correlations,
            Err(error) => return api_failure(&web, error),
        };
    // The titles of the correlated events, each read once; all of them are visible (the
    // handler keeps only those).
    let mut titles = std::collections::HashMap::new();
    for link in &correlations.intel {
        if titles.contains_key(&link.other_event) {
            continue;
        }
        match state.store().get_intel_event(link.other_event).await {
            Ok(Some(other)) if gate.may_see(&other) => {
                titles.insert(link.other_event, other.event.info.clone());
            }
            Ok(_) => {}
            Err(error) => return web.internal(&error),
        }
    }
    let attributes = attribute_rows(&gate, &stored);
    let values: std::collections::HashMap<Uuid, &str> =
        attributes.iter().map(|row| (row.uuid, row.value.as_str())).collect();
    let intel_links: Vec<_> = correlations
        .intel
        .iter()
        .filter(|link| titles.contains_key(&link.other_event))
        .map(|link| {
            context! {
                value => values.get(&link.attribute).copied().unwrap_or(""),
                other_event => link.other_event.to_string(),
                other_info => titles.get(&link.other_event),
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
    let Ok(uuid) = Uuid::try_parse(&id) else { return web.not_found() };
    match group_views(&state, &web).await {
        Ok(groups) => match groups.into_iter().find(|group| group.uuid == uuid) {
            Some(group) => web.render("web/sharing/group.html", context! { group => data(&group) }),
            None => web.not_found(),
        },
        Err(response) => response,
    }
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
    let context = context! { collections => data(&views), discovery => "/taxii2/" };
    web.render("web/sharing/taxii.html", context)
}
