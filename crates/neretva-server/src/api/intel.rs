//! Threat intelligence: intel events (MISP's model), their attributes, sightings and sharing
//! groups.
//!
//! **Access.** Every read passes each event through `EventAudience::may_see`, which turns the
//! event's TLP, distribution and sharing group into the inputs of
//! `neretva_model::access::may_see`; an event the caller may not see is "not found". Correlation
//! links are shown only to events the caller may see too. Sharing groups are shown through
//! `view_sharing_group`: a member of a confidential group sees only itself among the members.
//! Writes need `may_write`; changing or deleting an event needs its owner organisation or the
//! operator's staff. Every write is audited by the store in the same transaction.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use neretva_intel::access::{EventAudience, SharingGroup, view_sharing_group};
use neretva_intel::misp::{self, ImportContext, Limits};
use neretva_intel::model::{Attribute, IntelEvent, OrgRef, Sighting, SightingKind};
use neretva_model::access::{Principal, may_export, may_write};
use neretva_model::audit::AuditEvent;
use neretva_model::tlp::Pap;
use neretva_model::{FieldError, Uuid};
use neretva_store::intel::{AttributeQuery, DEFAULT_TLP, IntelEventQuery, StoredIntelEvent};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::{parse_id, rfc3339};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::registry::RegistrySnapshot;

/// The PAP of events that carry no PAP tag: active use allowed.
pub const DEFAULT_PAP: Pap = Pap::Green;

/// The largest MISP JSON document the API takes, in bytes.
pub const MAX_DOCUMENT: usize = 16 << 20;

/// A correlation link to another event's attribute.
#[derive(Debug, Serialize, ToSchema)]
pub struct CorrelationDto {
    pub attribute: Uuid,
    pub other_event: Uuid,
    /// The other event's title (`info`).
    pub other_event_info: String,
    pub other_attribute: Uuid,
    /// `exact`, `network` or `host`.
    pub relation: String,
}

/// A value of the event met too many stored values to link.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverCorrelatingDto {
    pub attribute: Uuid,
    pub key: String,
    pub count: u32,
}

/// A stored intel event.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntelEventDto {
    pub uuid: Uuid,
    /// The paging position: pass as `before` for older events.
    pub seq: i64,
    pub owner_org: Uuid,
    /// The effective TLP (the event's TLP tag, else the instance's default).
    pub tlp: String,
    pub created_at: String,
    pub updated_at: String,
    /// The event as MISP JSON (`{"Event": {…}}`).
    #[schema(value_type = Object)]
    pub misp: Value,
    /// Links to attributes of other events the caller may see.
    pub correlations: Vec<CorrelationDto>,
    pub over_correlating: Vec<OverCorrelatingDto>,
}

/// A page of intel events, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntelEventPage {
    pub items: Vec<IntelEventDto>,
    /// Pass as `before` to get older events; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_before: Option<i64>,
}

/// Filters for intel event listings.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct IntelEventFilter {
    /// A case-insensitive part of the title (`info`).
    pub text: Option<String>,
    /// An exact tag name, e.g. `tlp:green`.
    pub tag: Option<String>,
    pub published: Option<bool>,
    /// The owner or creator organisation.
    pub org: Option<Uuid>,
    /// 1 to 1000, default 100.
    pub limit: Option<u32>,
    /// The `next_before` of the previous page.
    pub before: Option<i64>,
}

/// A sighting to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SightingInput {
    pub attribute: Uuid,
    /// `sighting` (default), `false_positive` or `expiration`.
    #[serde(default)]
    pub kind: Option<String>,
    /// Where it was seen.
    #[serde(default)]
    pub source: String,
}

/// Filters for attribute searches.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AttributeFilter {
    /// The value, canonicalised with `type` when given.
    pub value: Option<String>,
    #[serde(rename = "type")]
    pub attr_type: Option<String>,
    pub category: Option<String>,
    pub to_ids: Option<bool>,
    /// 1 to 1000, default 100.
    pub limit: Option<u32>,
}

/// An attribute found by a search, with its event.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttributeDto {
    pub event: Uuid,
    pub event_info: String,
    pub uuid: Uuid,
    #[serde(rename = "type")]
    pub attr_type: String,
    pub category: String,
    pub value: String,
    pub to_ids: bool,
    pub tlp: String,
}

/// What the caller may see of a sharing group.
#[derive(Debug, Serialize, ToSchema)]
pub struct SharingGroupDto {
    pub uuid: Uuid,
    pub name: String,
    pub description: String,
    pub confidential: bool,
    /// The owner, when the caller may see the membership.
    pub owner_org: Option<Uuid>,
    /// All members, or only the caller's organisation in a confidential group.
    pub members: Vec<Uuid>,
    /// Whether `members` is the whole membership.
    pub complete: bool,
}

/// A new sharing group, owned by the caller's organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SharingGroupInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub members: Vec<Uuid>,
    #[serde(default)]
    pub confidential: bool,
}

/// Export formats.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportFormat {
    /// `misp` (default) or `stix`.
    pub format: Option<String>,
}

fn limit(limit: Option<u32>) -> ApiResult<u32> {
    match limit {
        None => Ok(100),
        Some(n @ 1..=1000) => Ok(n),
        Some(n) => Err(ApiError::bad_request("limit", format!("limit must be 1 to 1000, got {n}"))),
    }
}

/// Who may see what: the sharing groups and the registry, loaded once per request. Shared by
/// this API and the MISP-compatible one (`crate::misp`).
pub(crate) struct Gate {
    pub(crate) principal: Principal,
    pub(crate) registry: Arc<RegistrySnapshot>,
    pub(crate) groups: HashMap<Uuid, SharingGroup>,
}

impl Gate {
    pub(crate) async fn load(state: &AppState, auth: &Auth) -> ApiResult<Gate> {
        let groups = state.store().list_sharing_groups().await?;
        Ok(Gate {
            principal: auth.principal(),
            registry: state.registry(),
            groups: groups.into_iter().map(|group| (group.uuid, group)).collect(),
        })
    }

    fn audience(&self, event: &IntelEvent, owner_org: Uuid) -> EventAudience {
        let group = event.sharing_group.and_then(|uuid| self.groups.get(&uuid));
        EventAudience::of_event(
            event,
            owner_org,
            self.registry.ancestors(owner_org).to_vec(),
            DEFAULT_TLP,
            group,
        )
    }

    pub(crate) fn may_see(&self, stored: &StoredIntelEvent) -> bool {
        self.audience(&stored.event, stored.owner_org).may_see(&self.principal)
    }

    /// Whether the caller may see an event, decided on its head alone (the same decision as
    /// [`Gate::may_see`] on the whole event).
    pub(crate) fn may_see_head(&self, head: &neretva_store::intel::IntelEventHead) -> bool {
        let Some(level) = neretva_intel::model::Distribution::from_number(head.distribution) else {
            return false;
        };
        let group = head.sharing_group.and_then(|uuid| self.groups.get(&uuid));
        EventAudience::new(
            head.owner_org,
            self.registry.ancestors(head.owner_org).to_vec(),
            head.tlp,
            level,
            group,
        )
        .may_see(&self.principal)
    }

    /// The titles of the events among `uuids` the caller may see, each read once from its head.
    pub(crate) async fn visible_titles(
        &self,
        state: &AppState,
        uuids: impl IntoIterator<Item = Uuid>,
    ) -> ApiResult<HashMap<Uuid, String>> {
        let mut wanted: Vec<Uuid> = uuids.into_iter().collect();
        wanted.sort_unstable();
        wanted.dedup();
        if wanted.is_empty() {
            return Ok(HashMap::new());
        }
        let heads = state.store().intel_event_heads(&wanted).await?;
        Ok(heads
            .into_iter()
            .filter(|head| self.may_see_head(head))
            .map(|head| (head.uuid, head.info))
            .collect())
    }

    /// Whether the caller may see an attribute of an event it may see: the attribute's own
    /// distribution and TLP tag may narrow the event's.
    pub(crate) fn may_see_attribute(&self, stored: &StoredIntelEvent, attribute: &Attribute) -> bool {
        let event_tlp = stored.event.tlp(DEFAULT_TLP);
        let level = attribute.distribution.effective(stored.event.distribution);
        let group =
            attribute.sharing_group.or(stored.event.sharing_group).and_then(|uuid| self.groups.get(&uuid));
        EventAudience::new(
            stored.owner_org,
            self.registry.ancestors(stored.owner_org).to_vec(),
            attribute.tlp(event_tlp),
            level,
            group,
        )
        .may_see(&self.principal)
    }
}

/// An event's links to other intel events the caller may see, with their titles; links to
/// events it may not see are left out.
async fn intel_links(
    state: &AppState,
    gate: &Gate,
    stored: &StoredIntelEvent,
) -> ApiResult<Vec<CorrelationDto>> {
    let titles = gate.visible_titles(state, stored.correlations.iter().map(|link| link.other_event)).await?;
    Ok(stored
        .correlations
        .iter()
        .filter_map(|link| {
            Some(CorrelationDto {
                attribute: link.attribute,
                other_event: link.other_event,
                other_event_info: titles.get(&link.other_event)?.clone(),
                other_attribute: link.other_attribute,
                relation: link.relation.clone(),
            })
        })
        .collect())
}

/// The DTO of an event the caller may see; links to events it may not see are left out.
async fn dto(state: &AppState, gate: &Gate, stored: StoredIntelEvent) -> ApiResult<IntelEventDto> {
    let correlations = intel_links(state, gate, &stored).await?;
    Ok(IntelEventDto {
        uuid: stored.event.uuid,
        seq: stored.seq,
        owner_org: stored.owner_org,
        tlp: stored.event.tlp(DEFAULT_TLP).slug().to_owned(),
        created_at: rfc3339(stored.created_at),
        updated_at: rfc3339(stored.updated_at),
        misp: misp::export_event(&stored.event),
        correlations,
        over_correlating: stored
            .over_correlating
            .into_iter()
            .map(|over| OverCorrelatingDto { attribute: over.attribute, key: over.key, count: over.count })
            .collect(),
    })
}

pub(crate) async fn visible_event(state: &AppState, gate: &Gate, id: &str) -> ApiResult<StoredIntelEvent> {
    let uuid = parse_id("id", id)?;
    state
        .store()
        .get_intel_event(uuid)
        .await?
        .filter(|stored| gate.may_see(stored))
        .ok_or_else(|| ApiError::not_found("intel event"))
}

pub(crate) fn require_writer(auth: &Auth) -> ApiResult<()> {
    if may_write(&auth.principal()) {
        Ok(())
    } else {
        Err(ApiError::forbidden("writing intel needs a write credential and a role that may write"))
    }
}

pub(crate) fn require_owner(auth: &Auth, stored: &StoredIntelEvent) -> ApiResult<()> {
    require_writer(auth)?;
    if auth.0.is_operator_staff() || auth.0.org_id == stored.owner_org {
        Ok(())
    } else {
        Err(ApiError::forbidden("only the owner organisation or the operator's staff may change this event"))
    }
}

/// An event may name only a sharing group the caller belongs to (or manages).
pub(crate) fn check_group(gate: &Gate, event: &IntelEvent) -> ApiResult<()> {
    if let Some(group) = event.sharing_group
        && gate.groups.get(&group).and_then(|group| view_sharing_group(&gate.principal, group)).is_none()
    {
        return Err(ApiError::validation(vec![FieldError::new(
            "Event.sharing_group_id",
            "no such sharing group",
        )]));
    }
    Ok(())
}

/// Reads exactly one event from a MISP JSON body; every problem with its JSON path.
pub(crate) fn read_event(state: &AppState, auth: &Auth, body: &str) -> ApiResult<IntelEvent> {
    let registry = state.registry();
    let org_name = registry
        .orgs
        .get(&auth.0.org_id)
        .map_or_else(|| auth.0.org_id.to_string(), |org| org.fields.name.clone());
    let context = ImportContext {
        now: time::OffsetDateTime::now_utc(),
        default_org: Some(OrgRef { uuid: auth.0.org_id, name: org_name }),
    };
    let limits = Limits { max_bytes: MAX_DOCUMENT, max_events: 1, ..Limits::default() };
    let imported = misp::parse(body, &context, &limits)
        .map_err(|error| ApiError::validation(vec![FieldError::new("body", error.to_string())]))?;
    if !imported.problems.is_empty() {
        return Err(ApiError::validation(
            imported
                .problems
                .into_iter()
                .map(|problem| FieldError::new(problem.path, problem.message))
                .collect(),
        ));
    }
    let mut events = imported.events.into_iter();
    match (events.next(), events.next()) {
        (Some(event), None) => Ok(event),
        _ => Err(ApiError::validation(vec![FieldError::new("body", "expected exactly one event")])),
    }
}

/// Lists the intel events the caller may see, newest first.
#[utoipa::path(get, path = "/api/v1/intel/events", tag = "intel", params(IntelEventFilter),
    responses((status = 200, body = IntelEventPage)), security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    filter: Result<Query<IntelEventFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<IntelEventPage>> {
    let Query(filter) = filter?;
    let limit = limit(filter.limit)?;
    let gate = Gate::load(&state, &auth).await?;
    let query = IntelEventQuery {
        text: filter.text,
        tag: filter.tag,
        published: filter.published,
        org: filter.org,
        before: filter.before,
        limit,
        ..IntelEventQuery::default()
    };
    let page = state.store().list_intel_events(&query).await?;
    let next_before = (page.len() == limit as usize).then(|| page.last().map(|stored| stored.seq)).flatten();
    let mut items = Vec::new();
    for stored in page.into_iter().filter(|stored| gate.may_see(stored)) {
        items.push(dto(&state, &gate, stored).await?);
    }
    Ok(Json(IntelEventPage { items, next_before }))
}

/// Shows one intel event.
#[utoipa::path(get, path = "/api/v1/intel/events/{id}", tag = "intel", params(("id" = Uuid, Path)),
    responses((status = 200, body = IntelEventDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<IntelEventDto>> {
    let gate = Gate::load(&state, &auth).await?;
    let stored = visible_event(&state, &gate, &id).await?;
    Ok(Json(dto(&state, &gate, stored).await?))
}

/// Stores an intel event from MISP JSON (`{"Event": {…}}` or the event itself), owned by the
/// caller's organisation, and correlates it.
#[utoipa::path(post, path = "/api/v1/intel/events", tag = "intel", request_body(content = Object,
    description = "one event as MISP JSON"),
    responses((status = 201, body = IntelEventDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(State(state): State<AppState>, auth: Auth, body: String) -> ApiResult<Response> {
    require_writer(&auth)?;
    let event = read_event(&state, &auth, &body)?;
    let gate = Gate::load(&state, &auth).await?;
    check_group(&gate, &event)?;
    let stored = state.store().create_intel_event(&auth.actor(), auth.0.org_id, &event).await?;
    after_write(&state, &gate, &auth, None, Some(&stored)).await;
    Ok((StatusCode::CREATED, Json(dto(&state, &gate, stored).await?)).into_response())
}

/// Replaces an intel event (its attributes, objects and tags) from MISP JSON.
#[utoipa::path(put, path = "/api/v1/intel/events/{id}", tag = "intel", params(("id" = Uuid, Path)),
    request_body(content = Object, description = "the event as MISP JSON"),
    responses((status = 200, body = IntelEventDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    body: String,
) -> ApiResult<Json<IntelEventDto>> {
    let gate = Gate::load(&state, &auth).await?;
    let stored = visible_event(&state, &gate, &id).await?;
    require_owner(&auth, &stored)?;
    let mut event = read_event(&state, &auth, &body)?;
    if event.uuid != stored.event.uuid {
        return Err(ApiError::validation(vec![FieldError::new("Event.uuid", "differs from the event's id")]));
    }
    check_group(&gate, &event)?;
    event.org = stored.event.org.clone().or(event.org);
    let updated = state.store().update_intel_event(&auth.actor(), &event).await?;
    after_write(&state, &gate, &auth, Some(&stored), Some(&updated)).await;
    Ok(Json(dto(&state, &gate, updated).await?))
}

/// Deletes an intel event with its attributes, sightings and links.
#[utoipa::path(delete, path = "/api/v1/intel/events/{id}", tag = "intel", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let gate = Gate::load(&state, &auth).await?;
    let stored = visible_event(&state, &gate, &id).await?;
    require_owner(&auth, &stored)?;
    state.store().delete_intel_event(&auth.actor(), stored.event.uuid).await?;
    after_write(&state, &gate, &auth, Some(&stored), None).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Records a sighting of an attribute, reported by the caller's organisation.
#[utoipa::path(post, path = "/api/v1/intel/events/{id}/sightings", tag = "intel", params(("id" = Uuid, Path)),
    request_body = SightingInput,
    responses((status = 201, body = IntelEventDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn add_sighting(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SightingInput>,
) -> ApiResult<Response> {
    require_writer(&auth)?;
    let gate = Gate::load(&state, &auth).await?;
    let stored = visible_event(&state, &gate, &id).await?;
    let kind = match input.kind.as_deref() {
        None => SightingKind::Sighting,
        Some(text) => SightingKind::parse(text)
            .ok_or_else(|| ApiError::bad_request("kind", "kind is sighting, false_positive or expiration"))?,
    };
    neretva_model::check_optional_text("source", &input.source, 255)?;
    let org_name =
        gate.registry.orgs.get(&auth.0.org_id).map(|org| org.fields.name.clone()).unwrap_or_default();
    let sighting = Sighting {
        uuid: Uuid::new_v4(),
        kind,
        source: input.source,
        time: time::OffsetDateTime::now_utc(),
        org: Some(OrgRef { uuid: auth.0.org_id, name: org_name }),
    };
    let updated = state
        .store()
        .add_intel_sighting(&auth.actor(), stored.event.uuid, input.attribute, &sighting)
        .await?;
    Ok((StatusCode::CREATED, Json(dto(&state, &gate, updated).await?)).into_response())
}

/// Exports an event as MISP JSON or as a STIX 2.1 bundle.
#[utoipa::path(get, path = "/api/v1/intel/events/{id}/export", tag = "intel", params(("id" = Uuid, Path), ExportFormat),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn export(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    format: Result<Query<ExportFormat>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(format) = format?;
    let gate = Gate::load(&state, &auth).await?;
    let stored = visible_event(&state, &gate, &id).await?;
    if !may_export(&gate.principal, stored.event.pap(DEFAULT_PAP)) {
        return Err(ApiError::forbidden("the event's PAP keeps it inside the platform"));
    }
    let format = format.format.unwrap_or_else(|| "misp".to_owned());
    let (content_type, body) = match format.as_str() {
        "misp" => ("application/json", misp::export_event(&stored.event).to_string()),
        "stix" => (
            neretva_store::taxii::STIX_MEDIA_TYPE,
            neretva_intel::stix::to_bundle(&stored.event, DEFAULT_TLP, DEFAULT_PAP).bundle.to_json_string(),
        ),
        other => {
            return Err(ApiError::bad_request("format", format!("format is misp or stix, got {other:?}")));
        }
    };
    state
        .store()
        .append_audit(&AuditEvent {
            actor: auth.actor().0,
            action: "intel.event.export".into(),
            object_type: "intel_event".into(),
            object_id: format!("{} as {format}", stored.event.uuid),
            digest: neretva_model::audit::digest_json(&body),
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

/// Finds attributes by value, type, category or `to_ids`, in events the caller may see.
#[utoipa::path(get, path = "/api/v1/intel/attributes", tag = "intel", params(AttributeFilter),
    responses((status = 200, body = Vec<AttributeDto>), (status = 400, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn attributes(
    State(state): State<AppState>,
    auth: Auth,
    filter: Result<Query<AttributeFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Vec<AttributeDto>>> {
    let Query(filter) = filter?;
    let limit = limit(filter.limit)?;
    let value = match (&filter.value, &filter.attr_type) {
        (Some(value), Some(attr_type)) => Some(
            neretva_intel::value::canonicalise(attr_type, value)
                .map_err(|reason| ApiError::bad_request("value", reason))?,
        ),
        (Some(value), None) => Some(value.trim().to_owned()),
        (None, _) => None,
    };
    if value.is_none() && filter.attr_type.is_none() && filter.category.is_none() {
        return Err(ApiError::bad_request("value", "give a value, a type or a category"));
    }
    let gate = Gate::load(&state, &auth).await?;
    let query = AttributeQuery {
        value,
        attr_type: filter.attr_type,
        category: filter.category,
        to_ids: filter.to_ids,
        include_deleted: false,
        limit,
    };
    let found = state.store().search_intel_attributes(&query).await?;
    Ok(Json(visible_attributes(&state, &gate, found).await?))
}

/// The attributes of a search that the caller may see: each event is read once and checked,
/// then each attribute (its own distribution and TLP tag may narrow its event's). Shared by this
/// API and the web interface's indicator pages.
pub(crate) async fn visible_attributes(
    state: &AppState,
    gate: &Gate,
    found: Vec<neretva_store::intel::StoredAttribute>,
) -> ApiResult<Vec<AttributeDto>> {
    let mut out = Vec::new();
    let mut events: HashMap<Uuid, Option<StoredIntelEvent>> = HashMap::new();
    for attribute in found {
        if let std::collections::hash_map::Entry::Vacant(entry) = events.entry(attribute.event) {
            let stored = state.store().get_intel_event(attribute.event).await?;
            entry.insert(stored.filter(|stored| gate.may_see(stored)));
        }
        let Some(Some(stored)) = events.get(&attribute.event) else { continue };
        // The attribute's own distribution and TLP tag may narrow the event's.
        let Some((_, full)) = stored.event.all_attributes().find(|(_, a)| a.uuid == attribute.uuid) else {
            continue;
        };
        if !gate.may_see_attribute(stored, full) {
            continue;
        }
        let event_tlp = stored.event.tlp(DEFAULT_TLP);
        out.push(AttributeDto {
            event: attribute.event,
            event_info: attribute.event_info,
            uuid: attribute.uuid,
            attr_type: attribute.attr_type,
            category: attribute.category,
            value: attribute.value,
            to_ids: attribute.to_ids,
            tlp: full.tlp(event_tlp).slug().to_owned(),
        });
    }
    Ok(out)
}

/// Lists the sharing groups the caller belongs to (or manages), as it may see them.
#[utoipa::path(get, path = "/api/v1/intel/sharing-groups", tag = "intel",
    responses((status = 200, body = Vec<SharingGroupDto>)), security(("bearer" = []), ("session" = [])))]
pub async fn list_groups(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<SharingGroupDto>>> {
    let principal = auth.principal();
    let groups = state.store().list_sharing_groups().await?;
    Ok(Json(
        groups
            .iter()
            .filter_map(|group| view_sharing_group(&principal, group))
            .map(|view| SharingGroupDto {
                uuid: view.uuid,
                name: view.name,
                description: view.description,
                confidential: view.confidential,
                owner_org: view.owner_org,
                members: view.members,
                complete: view.complete,
            })
            .collect(),
    ))
}

/// Creates a sharing group owned by the caller's organisation.
#[utoipa::path(post, path = "/api/v1/intel/sharing-groups", tag = "intel", request_body = SharingGroupInput,
    responses((status = 201, body = SharingGroupDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create_group(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<SharingGroupInput>,
) -> ApiResult<Response> {
    require_writer(&auth)?;
    let registry = state.registry();
    for member in &input.members {
        if !registry.orgs.contains_key(member) {
            return Err(ApiError::validation(vec![FieldError::new(
                "members",
                format!("no organisation {member}"),
            )]));
        }
    }
    let group = SharingGroup {
        uuid: Uuid::new_v4(),
        name: input.name,
        description: input.description,
        owner_org: auth.0.org_id,
        members: input.members,
        confidential: input.confidential,
    };
    let stored = state.store().put_sharing_group(&auth.actor(), &group).await?;
    let view =
        view_sharing_group(&auth.principal(), &stored).ok_or_else(|| ApiError::not_found("sharing group"))?;
    let dto = SharingGroupDto {
        uuid: view.uuid,
        name: view.name,
        description: view.description,
        confidential: view.confidential,
        owner_org: view.owner_org,
        members: view.members,
        complete: view.complete,
    };
    Ok((StatusCode::CREATED, Json(dto)).into_response())
}

/// One event stored by an import.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportedEventDto {
    pub uuid: Uuid,
    pub info: String,
    pub attributes: usize,
    pub correlations: usize,
}

/// A part of an import that was left out, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportProblemDto {
    /// Where, as a JSON path (`Event.Attribute[3].type`, `objects[2]`) or an event's uuid.
    pub path: String,
    pub message: String,
}

/// What an import stored and what it left out.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReportDto {
    pub stored: Vec<ImportedEventDto>,
    pub problems: Vec<ImportProblemDto>,
    /// Problems past the reporting limit, counted only.
    pub problems_not_shown: usize,
}

/// Import formats.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportFormat {
    /// `misp` or `stix`; guessed from the document when absent (a STIX bundle has
    /// `"type": "bundle"`).
    pub format: Option<String>,
}

/// Imports a MISP JSON document (one or many events) or a STIX 2.1 bundle: the good events are
/// stored (an event of the caller's organisation with a known uuid is replaced) and everything
/// left out is reported with its JSON path.
#[utoipa::path(post, path = "/api/v1/intel/import", tag = "intel", params(ImportFormat),
    request_body(content = Object, description = "MISP JSON or a STIX 2.1 bundle"),
    responses((status = 200, body = ImportReportDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn import(
    State(state): State<AppState>,
    auth: Auth,
    format: Result<Query<ImportFormat>, axum::extract::rejection::QueryRejection>,
    body: String,
) -> ApiResult<Json<ImportReportDto>> {
    let Query(format) = format?;
    require_writer(&auth)?;
    let gate = Gate::load(&state, &auth).await?;
    let org_name = gate
        .registry
        .orgs
        .get(&auth.0.org_id)
        .map_or_else(|| auth.0.org_id.to_string(), |org| org.fields.name.clone());
    let org = OrgRef { uuid: auth.0.org_id, name: org_name };
    let now = time::OffsetDateTime::now_utc();
    let format = match format.format.as_deref() {
        Some(format @ ("misp" | "stix")) => format.to_owned(),
        Some(other) => {
            return Err(ApiError::bad_request("format", format!("format is misp or stix, got {other:?}")));
        }
        None if body.contains("\"bundle\"")
            && body.trim_start().starts_with('{')
            && !body.contains("\"Event\"") =>
        {
            "stix".to_owned()
        }
        None => "misp".to_owned(),
    };
    let to_dto = |problem: neretva_intel::misp::Problem| ImportProblemDto {
        path: problem.path,
        message: problem.message,
    };
    let (events, mut problems, problems_not_shown) = if format == "misp" {
        let context = ImportContext { now, default_org: Some(org.clone()) };
        let limits = Limits { max_bytes: MAX_DOCUMENT, ..Limits::default() };
        let imported = misp::parse(&body, &context, &limits)
            .map_err(|error| ApiError::validation(vec![FieldError::new("body", error.to_string())]))?;
        let problems: Vec<ImportProblemDto> = imported.problems.into_iter().map(to_dto).collect();
        (imported.events, problems, imported.problems_not_shown)
    } else {
        let limits = neretva_stix::bundle::Limits {
            max_bytes: MAX_DOCUMENT,
            ..neretva_stix::bundle::Limits::default()
        };
        let bundle = neretva_stix::bundle::parse_bundle(&body, &limits)
            .map_err(|error| ApiError::validation(vec![FieldError::new("body", error.to_string())]))?;
        let context = neretva_intel::stix::StixContext { now, default_org: org.clone() };
        let (events, found) = neretva_intel::stix::from_objects(
            &bundle,
            &context,
            neretva_intel::model::Distribution::Community,
        );
        let mut problems: Vec<ImportProblemDto> = bundle
            .rejected
            .iter()
            .flat_map(|rejected| &rejected.problems)
            .map(|problem| ImportProblemDto { path: problem.path.clone(), message: problem.reason.clone() })
            .collect();
        problems.extend(found.into_iter().map(to_dto));
        (events, problems, 0)
    };
    let mut stored = Vec::new();
    for event in events {
        let path = format!("event {}", event.uuid);
        if let Some(group) = event.sharing_group
            && gate.groups.get(&group).and_then(|group| view_sharing_group(&gate.principal, group)).is_none()
        {
            problems.push(ImportProblemDto {
                path,
                message: "no such sharing group; the event is left out".into(),
            });
            continue;
        }
        let mut before = None;
        let result = match state.store().get_intel_event(event.uuid).await? {
            Some(existing) if auth.0.is_operator_staff() || existing.owner_org == auth.0.org_id => {
                before = Some(existing);
                state.store().update_intel_event(&auth.actor(), &event).await
            }
            Some(_) => {
                problems.push(ImportProblemDto {
                    path,
                    message: "an event with this uuid exists and may not be changed by the caller; the event is left out"
                        .into(),
                });
                continue;
            }
            None => state.store().create_intel_event(&auth.actor(), auth.0.org_id, &event).await,
        };
        if let Ok(saved) = &result {
            after_write(&state, &gate, &auth, before.as_ref(), Some(saved)).await;
        }
        match result {
            Ok(saved) => stored.push(ImportedEventDto {
                uuid: saved.event.uuid,
                info: saved.event.info.clone(),
                attributes: saved.event.attribute_count(),
                correlations: saved.correlations.len(),
            }),
            Err(neretva_store::StoreError::Conflict { field, message }) => {
                problems.push(ImportProblemDto { path: format!("{path}: {field}"), message });
            }
            Err(error) => return Err(error.into()),
        }
    }
    Ok(Json(ImportReportDto { stored, problems, problems_not_shown }))
}

/// Changes to an event's attributes, each by uuid.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeChanges {
    /// New attributes as MISP JSON (`type`, `value`, optionally `uuid`, `category`, `to_ids`,
    /// `comment`, `distribution`, `Tag`, ...).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub add: Vec<Value>,
    /// Attributes to remove, the event's own or its objects'.
    #[serde(default)]
    pub remove: Vec<Uuid>,
    /// Changed fields of attributes, each with the `uuid` of the attribute it changes and the
    /// MISP JSON fields to replace (`value`, `type`, `category`, `to_ids`, `comment`, `Tag`, ...).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub change: Vec<Value>,
}

/// A partial change of an intel event: absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntelEventPatch {
    /// The event's `updated_at` as read: when given, the change is refused with 409 if the
    /// event changed since. Without it, the change applies to the event as it is stored now.
    pub updated_at: Option<String>,
    /// The title (MISP's `info`).
    pub info: Option<String>,
    /// MISP's distribution: 0 organisation only, 1 this community, 2 connected communities,
    /// 3 all communities, 4 a sharing group. Any level but 4 drops the sharing group.
    pub distribution: Option<u8>,
    /// The sharing group (with `distribution` 4, which it implies when `distribution` is absent).
    pub sharing_group: Option<Uuid>,
    /// The event's tags, replacing the old ones (`tlp:amber`, `PAP:GREEN`, free tags).
    pub tags: Option<Vec<String>>,
    pub published: Option<bool>,
    /// 1 high, 2 medium, 3 low, 4 undefined.
    pub threat_level: Option<u8>,
    /// 0 initial, 1 ongoing, 2 completed.
    pub analysis: Option<u8>,
    #[serde(default)]
    pub attributes: AttributeChanges,
}

fn misp_number(value: u8) -> Value {
    Value::String(value.to_string())
}

/// Where each attribute of a MISP event object sits (`Event.Attribute[3]`,
/// `Event.Object[1].Attribute[0]`), by uuid.
fn attribute_places(event: &serde_json::Map<String, Value>) -> HashMap<String, (Option<usize>, usize)> {
    let mut places = HashMap::new();
    let uuid_of = |attribute: &Value| attribute.get("uuid").and_then(Value::as_str).map(str::to_owned);
    if let Some(Value::Array(attributes)) = event.get("Attribute") {
        for (index, attribute) in attributes.iter().enumerate() {
            if let Some(uuid) = uuid_of(attribute) {
                places.insert(uuid, (None, index));
            }
        }
    }
    if let Some(Value::Array(objects)) = event.get("Object") {
        for (object_index, object) in objects.iter().enumerate() {
            if let Some(Value::Array(attributes)) = object.get("Attribute") {
                for (index, attribute) in attributes.iter().enumerate() {
                    if let Some(uuid) = uuid_of(attribute) {
                        places.insert(uuid, (Some(object_index), index));
                    }
                }
            }
        }
    }
    places
}

fn place_path(place: (Option<usize>, usize)) -> String {
    match place {
        (None, index) => format!("Event.Attribute[{index}]"),
        (Some(object), index) => format!("Event.Object[{object}].Attribute[{index}]"),
    }
}

fn attributes_at(
    event: &mut serde_json::Map<String, Value>,
    object: Option<usize>,
) -> Option<&mut Vec<Value>> {
    let holder = match object {
        None => event,
        Some(index) => event.get_mut("Object")?.get_mut(index)?.as_object_mut()?,
    };
    holder.get_mut("Attribute")?.as_array_mut()
}

/// Applies a patch to an event's MISP JSON. Returns the new document and, for each attribute
/// the patch added or changed, the path of the patch entry by the path the attribute has in the
/// new document, so problems found reading it back name the patch's own entries.
fn apply_patch(
    stored: &IntelEvent,
    patch: &IntelEventPatch,
    now: time::OffsetDateTime,
) -> ApiResult<(Value, Vec<(String, String)>)> {
    let mut errors = Vec::new();
    let mut document = misp::export_event(stored);
    let Some(event) = document.get_mut("Event").and_then(Value::as_object_mut) else {
        return Err(ApiError::validation(vec![FieldError::new("Event", "the stored event has no body")]));
    };
    let stamp = Value::String(now.unix_timestamp().to_string());
    if let Some(info) = &patch.info {
        event.insert("info".into(), Value::String(info.clone()));
    }
    if let Some(level) = patch.threat_level {
        if !(1..=4).contains(&level) {
            errors.push(FieldError::new("threat_level", format!("1 to 4, got {level}")));
        }
        event.insert("threat_level_id".into(), misp_number(level));
    }
    if let Some(analysis) = patch.analysis {
        if analysis > 2 {
            errors.push(FieldError::new("analysis", format!("0 to 2, got {analysis}")));
        }
        event.insert("analysis".into(), misp_number(analysis));
    }
    let distribution = match (patch.distribution, patch.sharing_group) {
        (Some(level), Some(_)) if level != 4 => {
            errors.push(FieldError::new("sharing_group", "a sharing group needs distribution 4"));
            None
        }
        (Some(level), _) if level > 4 => {
            errors.push(FieldError::new("distribution", format!("0 to 4, got {level}")));
            None
        }
        (Some(level), _) => Some(level),
        (None, Some(_)) => Some(4),
        (None, None) => None,
    };
    if let Some(level) = distribution {
        event.insert("distribution".into(), misp_number(level));
        let group = patch.sharing_group.or(stored.sharing_group).filter(|_| level == 4);
        match group {
            Some(group) => {
                event.insert("sharing_group_id".into(), Value::String(group.to_string()));
                event.insert("SharingGroup".into(), serde_json::json!({ "uuid": group.to_string() }));
            }
            None if level == 4 => {
                errors.push(FieldError::new("sharing_group", "distribution 4 needs a sharing group"));
            }
            None => {
                event.insert("sharing_group_id".into(), Value::String("0".into()));
                event.remove("SharingGroup");
            }
        }
    }
    if let Some(tags) = &patch.tags {
        // Tags kept keep their flags (local, exportable, colour).
        let old: HashMap<String, Value> = event
            .get("Tag")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|tag| Some((tag.get("name")?.as_str()?.to_owned(), tag.clone())))
            .collect();
        let new: Vec<Value> = tags
            .iter()
            .map(|name| old.get(name).cloned().unwrap_or_else(|| serde_json::json!({ "name": name })))
            .collect();
        event.insert("Tag".into(), Value::Array(new));
    }
    if let Some(published) = patch.published {
        if published && !stored.published {
            event.insert("publish_timestamp".into(), stamp.clone());
        }
        event.insert("published".into(), Value::Bool(published));
    }
    let changes = &patch.attributes;
    let places = attribute_places(event);
    let mut origin: HashMap<String, String> = HashMap::new();
    for (index, change) in changes.change.iter().enumerate() {
        let path = format!("attributes.change[{index}]");
        let Some(fields) = change.as_object() else {
            errors.push(FieldError::new(path, "expected an object with the attribute's uuid"));
            continue;
        };
        let Some(uuid) = fields.get("uuid").and_then(Value::as_str) else {
            errors.push(FieldError::new(format!("{path}.uuid"), "the attribute's uuid is missing"));
            continue;
        };
        let Some(&(object, position)) = places.get(&uuid.to_lowercase()).or_else(|| places.get(uuid)) else {
            errors
                .push(FieldError::new(format!("{path}.uuid"), format!("the event has no attribute {uuid}")));
            continue;
        };
        if let Some(target) = attributes_at(event, object)
            .and_then(|attributes| attributes.get_mut(position))
            .and_then(Value::as_object_mut)
        {
            for (key, value) in fields.iter().filter(|(key, _)| *key != "uuid") {
                target.insert(key.clone(), value.clone());
            }
            target.insert("timestamp".into(), stamp.clone());
        }
        origin.insert(place_path((object, position)), path);
    }
    let mut removed = Vec::new();
    for (index, uuid) in changes.remove.iter().enumerate() {
        match places.get(&uuid.to_string()) {
            Some(&place) => removed.push(place),
            None => errors.push(FieldError::new(
                format!("attributes.remove[{index}]"),
                format!("the event has no attribute {uuid}"),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    // Remove from the end so the positions left are still right; changed entries' paths are
    // recomputed after removal.
    removed.sort_by(|a, b| b.cmp(a));
    removed.dedup();
    for (object, position) in &removed {
        if let Some(attributes) = attributes_at(event, *object)
            && *position < attributes.len()
        {
            attributes.remove(*position);
        }
    }
    if !removed.is_empty() {
        let old = std::mem::take(&mut origin);
        let moved = attribute_places(event);
        let by_path: HashMap<String, String> =
            places.iter().map(|(uuid, place)| (place_path(*place), uuid.clone())).collect();
        for (path, patch_path) in old {
            if let Some(place) = by_path.get(&path).and_then(|uuid| moved.get(uuid)) {
                origin.insert(place_path(*place), patch_path);
            }
        }
    }
    if !changes.add.is_empty() {
        let attributes = match event.get_mut("Attribute").and_then(Value::as_array_mut) {
            Some(attributes) => attributes,
            None => {
                event.insert("Attribute".into(), Value::Array(Vec::new()));
                event.get_mut("Attribute").and_then(Value::as_array_mut).ok_or_else(|| {
                    ApiError::validation(vec![FieldError::new("Event.Attribute", "not a list")])
                })?
            }
        };
        for (index, added) in changes.add.iter().enumerate() {
            let path = format!("attributes.add[{index}]");
            let Some(fields) = added.as_object() else {
                return Err(ApiError::validation(vec![FieldError::new(
                    path,
                    "expected a MISP attribute object",
                )]));
            };
            let mut fields = fields.clone();
            fields.entry("uuid").or_insert_with(|| Value::String(Uuid::new_v4().to_string()));
            fields.entry("timestamp").or_insert_with(|| stamp.clone());
            origin.insert(format!("Event.Attribute[{}]", attributes.len()), path);
            attributes.push(Value::Object(fields));
        }
    }
    event.insert("timestamp".into(), stamp);
    event.remove("attribute_count");
    Ok((document, origin.into_iter().collect()))
}

/// Changes part of an intel event (its title, distribution, sharing group, tags, publication,
/// threat level, analysis, and attributes added, removed or changed by uuid). Who may change it
/// is as for `PUT`; with `updated_at` the change applies only to the version read (409 if the
/// event changed since), without it to the version stored now. Correlations are computed again.
#[utoipa::path(patch, path = "/api/v1/intel/events/{id}", tag = "intel", params(("id" = Uuid, Path)),
    request_body = IntelEventPatch,
    responses((status = 200, body = IntelEventDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn patch(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<IntelEventPatch>,
) -> ApiResult<Json<IntelEventDto>> {
    let gate = Gate::load(&state, &auth).await?;
    let stored = visible_event(&state, &gate, &id).await?;
    require_owner(&auth, &stored)?;
    if let Some(read) = &patch.updated_at {
        let read = time::OffsetDateTime::parse(read, &time::format_description::well_known::Rfc3339)
            .map_err(|_| {
                ApiError::bad_request("updated_at", "an RFC 3339 time, as the event's updated_at")
            })?;
        if read != stored.updated_at {
            return Err(ApiError::from(neretva_store::StoreError::conflict(
                "updated_at",
                "the event was changed since it was read; read it again",
            )));
        }
    }
    let now = time::OffsetDateTime::now_utc();
    let (document, origin) = apply_patch(&stored.event, &patch, now)?;
    let registry = state.registry();
    let org_name = registry
        .orgs
        .get(&auth.0.org_id)
        .map_or_else(|| auth.0.org_id.to_string(), |org| org.fields.name.clone());
    let context = ImportContext { now, default_org: Some(OrgRef { uuid: auth.0.org_id, name: org_name }) };
    let limits = Limits { max_bytes: usize::MAX, max_events: 1, ..Limits::default() };
    let imported = misp::parse(&document.to_string(), &context, &limits)
        .map_err(|error| ApiError::validation(vec![FieldError::new("body", error.to_string())]))?;
    if !imported.problems.is_empty() {
        // Name the patch's entries where the problem is in one of them.
        let rename = |path: String| {
            origin
                .iter()
                .find(|(at, _)| path == *at || path.starts_with(&format!("{at}.")))
                .map_or_else(|| path.clone(), |(at, entry)| format!("{entry}{}", &path[at.len()..]))
        };
        return Err(ApiError::validation(
            imported
                .problems
                .into_iter()
                .map(|problem| FieldError::new(rename(problem.path), problem.message))
                .collect(),
        ));
    }
    let Some(mut event) = imported.events.into_iter().next() else {
        return Err(ApiError::validation(vec![FieldError::new(
            "body",
            "the patched event did not read back",
        )]));
    };
    check_group(&gate, &event)?;
    event.org = stored.event.org.clone().or(event.org);
    let updated = state.store().update_intel_event_at(&auth.actor(), &event, stored.updated_at).await?;
    after_write(&state, &gate, &auth, Some(&stored), Some(&updated)).await;
    Ok(Json(dto(&state, &gate, updated).await?))
}

fn group_dto(view: neretva_intel::access::SharingGroupView) -> SharingGroupDto {
    SharingGroupDto {
        uuid: view.uuid,
        name: view.name,
        description: view.description,
        confidential: view.confidential,
        owner_org: view.owner_org,
        members: view.members,
        complete: view.complete,
    }
}

/// A change to a sharing group: absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SharingGroupPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub confidential: Option<bool>,
    /// Organisations to add as members.
    #[serde(default)]
    pub add_members: Vec<Uuid>,
    /// Members to remove (never the owner organisation).
    #[serde(default)]
    pub remove_members: Vec<Uuid>,
}

/// A sharing group the caller may manage (its owner organisation or the operator's staff): 404
/// when the caller may not know the group, 403 when it is a member that may not change it.
pub(crate) async fn managed_group(state: &AppState, auth: &Auth, id: &str) -> ApiResult<SharingGroup> {
    let uuid = parse_id("id", id)?;
    let principal = auth.principal();
    let group = state
        .store()
        .get_sharing_group(uuid)
        .await?
        .filter(|group| view_sharing_group(&principal, group).is_some())
        .ok_or_else(|| ApiError::not_found("sharing group"))?;
    require_writer(auth)?;
    if auth.0.is_operator_staff() || auth.0.org_id == group.owner_org {
        Ok(group)
    } else {
        Err(ApiError::forbidden("only the group's owner organisation or the operator's staff may change it"))
    }
}

fn check_members(state: &AppState, group: &SharingGroup, field: &str, members: &[Uuid]) -> ApiResult<()> {
    let registry = state.registry();
    let errors: Vec<FieldError> = members
        .iter()
        .enumerate()
        .filter(|(_, member)| !registry.orgs.contains_key(member))
        .map(|(index, member)| {
            FieldError::new(format!("{field}[{index}]"), format!("no organisation {member}"))
        })
        .chain(members.iter().position(|member| *member == group.owner_org && field == "remove_members").map(
            |index| FieldError::new(format!("{field}[{index}]"), "the owner organisation is always a member"),
        ))
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(ApiError::validation(errors)) }
}

async fn store_group(
    state: &AppState,
    auth: &Auth,
    group: &SharingGroup,
) -> ApiResult<Json<SharingGroupDto>> {
    let stored = state.store().put_sharing_group(&auth.actor(), group).await?;
    if let Err(error) = crate::intel_taxii::sync_group(state.store(), &auth.actor(), &stored).await {
        tracing::warn!(group = %stored.uuid, %error, "Updating a sharing group's TAXII collection failed.");
    }
    let view =
        view_sharing_group(&auth.principal(), &stored).ok_or_else(|| ApiError::not_found("sharing group"))?;
    Ok(Json(group_dto(view)))
}

/// Changes a sharing group's name, description, confidentiality or members (added and removed).
/// Only its owner organisation and the operator's staff may; a member gets 403 and learns
/// nothing of the other members, and anyone else 404.
#[utoipa::path(patch, path = "/api/v1/intel/sharing-groups/{id}", tag = "intel", params(("id" = Uuid, Path)),
    request_body = SharingGroupPatch,
    responses((status = 200, body = SharingGroupDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn patch_group(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<SharingGroupPatch>,
) -> ApiResult<Json<SharingGroupDto>> {
    let mut group = managed_group(&state, &auth, &id).await?;
    check_members(&state, &group, "add_members", &patch.add_members)?;
    check_members(&state, &group, "remove_members", &patch.remove_members)?;
    if let Some(name) = patch.name {
        group.name = name;
    }
    if let Some(description) = patch.description {
        group.description = description;
    }
    if let Some(confidential) = patch.confidential {
        group.confidential = confidential;
    }
    group.members.retain(|member| !patch.remove_members.contains(member));
    for member in patch.add_members {
        if !group.has_member(member) {
            group.members.push(member);
        }
    }
    store_group(&state, &auth, &group).await
}

/// Replaces a sharing group's name, description, members and confidentiality; access as for
/// `PATCH`.
#[utoipa::path(put, path = "/api/v1/intel/sharing-groups/{id}", tag = "intel", params(("id" = Uuid, Path)),
    request_body = SharingGroupInput,
    responses((status = 200, body = SharingGroupDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn replace_group(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SharingGroupInput>,
) -> ApiResult<Json<SharingGroupDto>> {
    let group = managed_group(&state, &auth, &id).await?;
    check_members(&state, &group, "members", &input.members)?;
    let replaced = SharingGroup {
        name: input.name,
        description: input.description,
        members: input.members,
        confidential: input.confidential,
        ..group
    };
    store_group(&state, &auth, &replaced).await
}

/// Deletes a sharing group; access as for `PATCH`. A group events are restricted to is kept:
/// 409, saying how many events use it.
#[utoipa::path(delete, path = "/api/v1/intel/sharing-groups/{id}", tag = "intel", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn delete_group(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let group = managed_group(&state, &auth, &id).await?;
    state.store().delete_sharing_group(&auth.actor(), group.uuid).await?;
    if let Err(error) = crate::intel_taxii::remove_group(state.store(), &auth.actor(), group.uuid).await {
        tracing::warn!(group = %group.uuid, %error, "Removing a sharing group's TAXII collection failed.");
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A link from an attribute to an incident the caller may see, through one of its observables.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentCorrelationDto {
    pub attribute: Uuid,
    pub incident: Uuid,
    pub incident_title: String,
    /// The observable met, as `kind:value`.
    pub observable: String,
    /// `exact`, `network` or `host`.
    pub relation: String,
}

/// A link from an attribute to a stored feed event the caller may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedEventCorrelationDto {
    pub attribute: Uuid,
    pub event: Uuid,
    /// The event's value met.
    pub value: String,
    pub relation: String,
}

/// A value of the event that meets too many values of one kind to link.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverCorrelatingKindDto {
    pub attribute: Uuid,
    /// `intel_attribute`, `incident_observable` or `feed_event`.
    pub kind: String,
    pub key: String,
    pub count: u32,
}

/// An intel attribute that meets one of an incident's observables.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentIntelDto {
    /// The intel event.
    pub event: Uuid,
    pub event_info: String,
    pub attribute: Uuid,
    /// The observable met, as `kind:value`.
    pub observable: String,
    /// `exact`, `network` or `host`.
    pub relation: String,
}

/// The most links an incident's intel page lists.
const INCIDENT_INTEL_LIMIT: u32 = 1000;

/// The intel events whose attributes meet the incident's observables (as found when each intel
/// event was last written), those the caller may see; links from intel events the caller may
/// not see are left out without a trace. At most 1,000 links.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/observables/intel", tag = "incidents",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<IncidentIntelDto>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn incident_intel(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<IncidentIntelDto>>> {
    let target =
        crate::api::incidents::Target::load(&state, &auth, &id, crate::api::incidents::Access::Read).await?;
    let gate = Gate::load(&state, &auth).await?;
    let links =
        state.store().intel_links_to("incident_observable", target.id(), INCIDENT_INTEL_LIMIT).await?;
    let mut shown = Vec::new();
    let mut events: HashMap<Uuid, Option<String>> = HashMap::new();
    for (event, link) in links {
        let info = match events.get(&event) {
            Some(info) => info.clone(),
            None => {
                let info = state
                    .store()
                    .get_intel_event(event)
                    .await?
                    .filter(|stored| gate.may_see(stored))
                    .map(|stored| stored.event.info.clone());
                events.insert(event, info.clone());
                info
            }
        };
        if let Some(event_info) = info {
            shown.push(IncidentIntelDto {
                event,
                event_info,
                attribute: link.attribute,
                observable: link.detail,
                relation: link.relation,
            });
        }
    }
    Ok(Json(shown))
}

/// Where an event's values meet intel attributes, incidents' observables and stored feed events.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventCorrelationsDto {
    /// Links to attributes of other intel events the caller may see.
    pub intel: Vec<CorrelationDto>,
    /// Links to incidents the caller may see.
    pub incidents: Vec<IncidentCorrelationDto>,
    /// Links to feed events the caller may see.
    pub feed_events: Vec<FeedEventCorrelationDto>,
    /// Values too common to link: among intel attributes for everyone who sees the event; among
    /// incidents and feed events for the operator's staff only, as the count would tell others
    /// about incidents and events they may not see.
    pub over_correlating: Vec<OverCorrelatingKindDto>,
}

/// Where an event's values meet other intel events, incidents' observables and stored feed
/// events (exact values, addresses and networks both ways, host names and URL hosts, names
/// above and below), as found when the event was last written. Only what the caller may see is
/// listed: links to an incident or a feed event it may not see are left out without a trace.
#[utoipa::path(get, path = "/api/v1/intel/events/{id}/correlations", tag = "intel", params(("id" = Uuid, Path)),
    responses((status = 200, body = EventCorrelationsDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn correlations(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<EventCorrelationsDto>> {
    let gate = Gate::load(&state, &auth).await?;
    let stored = visible_event(&state, &gate, &id).await?;
    Ok(Json(event_correlations(&state, &gate, &auth, &stored).await?))
}

/// The correlations of an event the caller may see (see [`correlations`]), for the handler and
/// the event's web page, which has the gate and the event already.
pub(crate) async fn event_correlations(
    state: &AppState,
    gate: &Gate,
    auth: &Auth,
    stored: &StoredIntelEvent,
) -> ApiResult<EventCorrelationsDto> {
    let external = state.store().intel_external_correlations(stored.event.uuid).await?;
    let intel = intel_links(state, gate, stored).await?;
    let mut over_correlating: Vec<OverCorrelatingKindDto> = stored
        .over_correlating
        .iter()
        .map(|over| OverCorrelatingKindDto {
            attribute: over.attribute,
            kind: "intel_attribute".into(),
            key: over.key.clone(),
            count: over.count,
        })
        .collect();
    if auth.0.is_operator_staff() {
        over_correlating.extend(external.over_correlating.into_iter().map(|over| OverCorrelatingKindDto {
            attribute: over.attribute,
            kind: over.kind,
            key: over.key,
            count: over.count,
        }));
    }
    let mut incidents = Vec::new();
    let mut seen_incidents: HashMap<Uuid, Option<String>> = HashMap::new();
    let mut event_ids = Vec::new();
    for link in &external.links {
        if link.kind == "feed_event" {
            event_ids.push(link.target);
            continue;
        }
        let title = match seen_incidents.get(&link.target) {
            Some(title) => title.clone(),
            None => {
                let title = state
                    .store()
                    .get_incident(link.target)
                    .await?
                    .filter(|found| {
                        crate::api::incidents::may_see_incident(
                            &gate.registry,
                            &gate.principal,
                            &found.incident,
                        )
                    })
                    .map(|found| found.incident.title.clone());
                seen_incidents.insert(link.target, title.clone());
                title
            }
        };
        if let Some(incident_title) = title {
            incidents.push(IncidentCorrelationDto {
                attribute: link.attribute,
                incident: link.target,
                incident_title,
                observable: link.detail.clone(),
                relation: link.relation.clone(),
            });
        }
    }
    event_ids.sort();
    event_ids.dedup();
    let visible_events: std::collections::HashSet<Uuid> = state
        .store()
        .get_events(&event_ids)
        .await?
        .iter()
        .filter(|event| crate::api::events::may_see_event(&gate.registry, &gate.principal, event))
        .map(|event| event.event.id)
        .collect();
    let feed_events = external
        .links
        .iter()
        .filter(|link| link.kind == "feed_event" && visible_events.contains(&link.target))
        .map(|link| FeedEventCorrelationDto {
            attribute: link.attribute,
            event: link.target,
            value: link.detail.clone(),
            relation: link.relation.clone(),
        })
        .collect();
    Ok(EventCorrelationsDto { intel, incidents, feed_events, over_correlating })
}

/// What follows every write of an intel event, through this API or the MISP one: its links to
/// incidents and feed events are found again (`intel_links`) and the TAXII collections of
/// published events brought up to date. `before` is the event as it was, `after` as it is now
/// (`None` once deleted).
pub(crate) async fn after_write(
    state: &AppState,
    gate: &Gate,
    auth: &Auth,
    before: Option<&StoredIntelEvent>,
    after: Option<&StoredIntelEvent>,
) {
    if let Some(stored) = after {
        crate::intel_links::refresh_after_write(state.store(), &stored.event).await;
    }
    publish(state, gate, auth, before, after).await;
}

/// Brings the TAXII collections of published intel events up to date after a write that
/// succeeded (see `intel_taxii`); a failure is logged, since the event is stored.
async fn publish(
    state: &AppState,
    gate: &Gate,
    auth: &Auth,
    before: Option<&StoredIntelEvent>,
    after: Option<&StoredIntelEvent>,
) {
    let published = |stored| crate::intel_taxii::Published::of(stored, |uuid| gate.groups.get(&uuid));
    let event = after.or(before).map(|stored| stored.event.uuid);
    let result = crate::intel_taxii::sync(
        state.store(),
        &auth.actor(),
        gate.registry.operator_id,
        before.map(published),
        after.map(published),
    )
    .await;
    if let Err(error) = result {
        tracing::warn!(event = ?event, %error, "Updating the TAXII collections of an intel event failed.");
    }
}
