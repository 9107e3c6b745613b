//! Working groups: the main group and its sector sub-groups, members, meetings, action items
//! (linked to strategy actions), documents under TLP, announcements and diversity aggregates.
//!
//! Reading: a group is seen by the operating CERT's staff and by its members: users whose
//! organisation is a member's organisation, or whose e-mail address is a member's. Everyone
//! else gets 404, on every path below the group too. A shared document is read through
//! `may_see`: owned by the convener, addressed to the members' organisations and to the caller
//! when the caller is a member by address (for `TLP:RED`, only when named as a recipient), and
//! restricted at `TLP:GREEN` to the members' organisations; a document the caller may not read
//! is left out of listings and answers 404.
//!
//! Writing: the managers are the operating CERT's admins and analysts with a credential that may
//! write; members and auditors get 403 on groups they may see. Every change reads the group,
//! applies one change, validates the whole result (every problem, by field path) and writes it
//! under the version read, with its audit entry, in one transaction: nothing is half-written.
//!
//! Privacy: a member's self-declared gender and age band are set and read only by the member
//! (`.../members/{member}/self`), never by managers or admins; everyone who sees the group sees
//! them only as aggregates with small counts suppressed (`.../diversity`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use neretva_governance::groups::{
    self, ActionItem, AgeBand, Decision, DocumentFormat, Gender, ItemStatus, Meeting, Member, MemberRole,
    SelfDeclaration, SharedDocument, StakeholderKind, StrategyLink, WorkingGroup,
};
use neretva_model::access::{Principal, Visibility, may_see, may_write};
use neretva_model::contact::Language;
use neretva_model::tlp::Tlp;
use neretva_model::{FieldError, Timestamp, Uuid};
use neretva_store::groups::{StoredGroup, has_action};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::AppState;
use crate::api::notifications::{notifier, notify_error};
use crate::api::strategy::{keep, parse_date};
use crate::api::{parse_id, rfc3339};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::groups::{AnnounceError, AnnouncementInput, announce as record_announcement};
use crate::registry::RegistrySnapshot;

// Access.

/// Who asks: the principal and the user's e-mail address (membership by address).
struct Caller {
    auth: Auth,
    email: Option<String>,
}

impl Caller {
    fn principal(&self) -> Principal {
        self.auth.principal()
    }

    fn is_staff(&self) -> bool {
        self.auth.0.is_operator_staff()
    }

    /// Whether the caller sees the group: the CERT's staff, and the members.
    fn sees(&self, group: &WorkingGroup) -> bool {
        self.is_staff() || groups::is_member(group, self.auth.0.org_id, self.email.as_deref())
    }

    /// The member the caller is, by e-mail address.
    fn member<'a>(&self, group: &'a WorkingGroup) -> Option<&'a Member> {
        groups::member_by_email(group, self.email.as_deref())
    }

    /// Whether the caller may read a document of a group it sees.
    fn reads(&self, registry: &RegistrySnapshot, group: &WorkingGroup, document: &SharedDocument) -> bool {
        let orgs = groups::member_orgs(group);
        let user = self.auth.0.user_id;
        let named = match (document.tlp, self.member(group)) {
            (_, None) => false,
            (Tlp::Red, Some(member)) => document.recipients.contains(&member.id),
            (_, Some(_)) => true,
        };
        let users = if named { vec![user] } else { Vec::new() };
        let visibility = Visibility {
            tlp: document.tlp,
            owner_org: Some(group.convener_org),
            owner_ancestors: registry.ancestors(group.convener_org),
            recipient_orgs: &orgs,
            recipient_users: &users,
            sharing_group: Some(orgs.as_slice()),
            sectors: &[],
        };
        may_see(&self.principal(), &visibility)
    }
}

async fn caller(state: &AppState, auth: Auth) -> ApiResult<Caller> {
    let email = state.store().get_user(auth.0.user_id).await?.and_then(|user| user.email);
    Ok(Caller { auth, email })
}

/// The managers: the operating CERT's staff with a credential that may write.
fn require_manager(caller: &Caller) -> ApiResult<()> {
    if caller.is_staff() && may_write(&caller.principal()) {
        Ok(())
    } else {
        Err(ApiError::forbidden("only the operating CERT's admins and analysts manage working groups"))
    }
}

/// Loads a group the caller sees, or answers 404.
async fn visible(state: &AppState, caller: &Caller, id: &str) -> ApiResult<StoredGroup> {
    let id = parse_id("id", id)?;
    state
        .store()
        .get_group(id)
        .await?
        .filter(|stored| caller.sees(&stored.group))
        .ok_or_else(|| ApiError::not_found("working group"))
}

/// Checks, before the body is looked at, that the caller sees the group (else 404) and manages
/// it (else 403), so a non-member learns nothing from the validation of what it sent.
async fn managed(state: &AppState, caller: &Caller, id: &str) -> ApiResult<()> {
    visible(state, caller, id).await?;
    require_manager(caller)
}

fn check(group: &WorkingGroup) -> ApiResult<()> {
    let problems = groups::validate(group);
    if problems.is_empty() { Ok(()) } else { Err(ApiError::validation(problems)) }
}

/// Reads a visible group, applies a change as a manager and writes it under the version read,
/// audited as `action`.
async fn change(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: &str,
    apply: impl FnOnce(&mut WorkingGroup) -> ApiResult<()>,
) -> ApiResult<StoredGroup> {
    let stored = visible(state, caller, id).await?;
    require_manager(caller)?;
    let mut group = stored.group.clone();
    apply(&mut group)?;
    check(&group)?;
    Ok(state.store().update_group(&caller.auth.actor(), &group, stored.version, action).await?)
}

// Parsing.

fn parse_time(field: &str, text: &str) -> Result<Timestamp, FieldError> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|at| at.to_offset(time::UtcOffset::UTC))
        .map_err(|_| FieldError::new(field, format!("{text:?} is not an RFC 3339 time")))
}

fn parse_enum<T>(
    field: &str,
    text: &str,
    parse: fn(&str) -> Option<T>,
    allowed: &str,
) -> Result<T, FieldError> {
    parse(text).ok_or_else(|| FieldError::new(field, format!("{text:?} is not one of {allowed}")))
}

fn parse_tlp(field: &str, text: &str) -> Result<Tlp, FieldError> {
    text.parse::<Tlp>().map_err(|_| {
        FieldError::new(
            field,
            format!("{text:?} is not a TLP label (CLEAR, GREEN, AMBER, AMBER+STRICT, RED)"),
        )
    })
}

fn parse_language(field: &str, text: &str) -> Result<Language, FieldError> {
    text.parse::<Language>().map_err(|error| FieldError::new(field, error.message))
}

/// An organisation of the registry by id or short name.
fn resolve_org(registry: &RegistrySnapshot, field: &str, key: &str) -> Result<Uuid, FieldError> {
    registry
        .resolve(key)
        .map(|org| org.id)
        .ok_or_else(|| FieldError::new(field, format!("no organisation {key:?}")))
}

fn parse_member_ref(field: &str, group: &WorkingGroup, text: &str) -> Result<Uuid, FieldError> {
    Uuid::try_parse(text)
        .ok()
        .filter(|id| group.members.iter().any(|member| member.id == *id))
        .or_else(|| groups::member_by_email(group, Some(text)).map(|member| member.id))
        .ok_or_else(|| {
            FieldError::new(field, format!("no member {text:?} in the group (give an id or e-mail)"))
        })
}

// Wire types.

/// A group in a listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupSummary {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub parent: Option<Uuid>,
    pub sector: Option<String>,
    /// The convener's short name.
    pub convener: String,
    pub members: usize,
    pub meetings: usize,
    /// Action items open or in progress.
    pub open_items: usize,
    pub version: i64,
    pub updated_at: String,
}

/// A member as others see them: no gender, no age band.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberDto {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub org_id: Option<Uuid>,
    /// The registry organisation's short name, or the outside organisation's name.
    pub organisation: String,
    pub sector: Option<String>,
    /// `public`, `private`, `academia` or `civil_society`.
    pub kind: String,
    /// `chair`, `secretary`, `member` or `observer`.
    pub role: String,
    pub language: String,
    pub joined: String,
}

/// A shared document without its content.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentSummary {
    pub id: Uuid,
    pub title: String,
    pub tlp: String,
    /// `markdown` or `text`.
    pub format: String,
    pub bytes: usize,
    pub added_by: String,
    pub added_at: String,
}

/// A shared document with its content.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentDto {
    #[serde(flatten)]
    pub summary: DocumentSummary,
    pub content: String,
    /// The members named as recipients of a `TLP:RED` document.
    pub recipients: Vec<Uuid>,
}

/// An announcement as recorded on the group.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnnouncementSummary {
    pub id: Uuid,
    pub subject: String,
    pub tlp: String,
    pub sent_by: String,
    pub sent_at: String,
    pub messages: usize,
}

/// A sub-group of a group.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubGroup {
    pub id: Uuid,
    pub code: String,
    pub name: String,
}

/// A working group as the caller may see it, with its version (send it back on no path: every
/// change reads the current version itself).
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupDto {
    pub id: Uuid,
    pub version: i64,
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    pub parent: Option<Uuid>,
    pub sector: Option<String>,
    pub convener_org: Uuid,
    pub convener: String,
    pub diversity_goals: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub members: Vec<MemberDto>,
    /// Meetings: `id`, `title`, `starts_at`, `ends_at`, `place`, `online_url`, `agenda`,
    /// `minutes`, `decisions`.
    #[schema(value_type = Object)]
    pub meetings: Value,
    /// Action items: `id`, `title`, `owner` (member), `due`, `status`, `meeting`, `strategy`
    /// (`document`, `action`).
    #[schema(value_type = Object)]
    pub action_items: Value,
    /// The documents the caller may read.
    pub documents: Vec<DocumentSummary>,
    pub announcements: Vec<AnnouncementSummary>,
    /// The sub-groups the caller sees.
    pub subgroups: Vec<SubGroup>,
}

fn member_dto(registry: &RegistrySnapshot, member: &Member) -> MemberDto {
    MemberDto {
        id: member.id,
        name: member.name.clone(),
        email: member.email.clone(),
        org_id: member.org_id,
        organisation: member
            .org_id
            .map(|org| registry.short_name(org))
            .or_else(|| member.outside_org.clone())
            .unwrap_or_default(),
        sector: member.sector.clone(),
        kind: member.kind.as_str().into(),
        role: member.role.as_str().into(),
        language: member.language.tag().into(),
        joined: member.joined.to_string(),
    }
}

fn document_summary(document: &SharedDocument) -> DocumentSummary {
    DocumentSummary {
        id: document.id,
        title: document.title.clone(),
        tlp: document.tlp.to_string(),
        format: match document.format {
            DocumentFormat::Markdown => "markdown".into(),
            DocumentFormat::Text => "text".into(),
        },
        bytes: document.content.len(),
        added_by: document.added_by.clone(),
        added_at: rfc3339(document.added_at),
    }
}

async fn dto(state: &AppState, caller: &Caller, stored: &StoredGroup) -> ApiResult<GroupDto> {
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let group = &stored.group;
    let subgroups = state
        .store()
        .list_groups()
        .await?
        .into_iter()
        .filter(|other| other.group.parent == Some(group.id) && caller.sees(&other.group))
        .map(|other| SubGroup { id: other.group.id, code: other.group.code, name: other.group.name })
        .collect();
    Ok(GroupDto {
        id: group.id,
        version: stored.version,
        code: group.code.clone(),
        name: group.name.clone(),
        description: group.description.clone(),
        parent: group.parent,
        sector: group.sector.clone(),
        convener_org: group.convener_org,
        convener: registry.short_name(group.convener_org),
        diversity_goals: group.diversity_goals.clone(),
        created_at: rfc3339(stored.created_at),
        updated_at: rfc3339(stored.updated_at),
        members: group.members.iter().map(|member| member_dto(&registry, member)).collect(),
        meetings: serde_json::to_value(&group.meetings).unwrap_or(Value::Null),
        action_items: serde_json::to_value(&group.action_items).unwrap_or(Value::Null),
        documents: group
            .documents
            .iter()
            .filter(|document| caller.reads(&registry, group, document))
            .map(document_summary)
            .collect(),
        announcements: group
            .announcements
            .iter()
            .map(|announcement| AnnouncementSummary {
                id: announcement.id,
                subject: announcement.subject.clone(),
                tlp: announcement.tlp.to_string(),
                sent_by: announcement.sent_by.clone(),
                sent_at: rfc3339(announcement.sent_at),
                messages: announcement.messages.len(),
            })
            .collect(),
        subgroups,
    })
}

async fn respond(
    state: &AppState,
    caller: &Caller,
    stored: &StoredGroup,
    status: StatusCode,
) -> ApiResult<Response> {
    Ok((status, Json(dto(state, caller, stored).await?)).into_response())
}

// Groups.

/// Lists the groups the caller sees (the CERT's staff: all; others: those they are members of),
/// by code.
#[utoipa::path(get, path = "/api/v1/groups", tag = "groups",
    responses((status = 200, body = [GroupSummary])), security(("bearer" = []), ("session" = [])))]
pub async fn list(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<GroupSummary>>> {
    let caller = caller(&state, auth).await?;
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let items = state
        .store()
        .list_groups()
        .await?
        .into_iter()
        .filter(|stored| caller.sees(&stored.group))
        .map(|stored| GroupSummary {
            id: stored.group.id,
            code: stored.group.code.clone(),
            name: stored.group.name.clone(),
            parent: stored.group.parent,
            sector: stored.group.sector.clone(),
            convener: registry.short_name(stored.group.convener_org),
            members: stored.group.members.len(),
            meetings: stored.group.meetings.len(),
            open_items: stored
                .group
                .action_items
                .iter()
                .filter(|item| matches!(item.status, ItemStatus::Open | ItemStatus::InProgress))
                .count(),
            version: stored.version,
            updated_at: rfc3339(stored.updated_at),
        })
        .collect();
    Ok(Json(items))
}

/// A new group.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    /// Unique, e.g. `NWG` or `NWG-ENERGY`: letters, digits, `-`, `_`, `.`.
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    /// The main group's id or code, for a sub-group.
    pub parent: Option<String>,
    /// The convening organisation's id or short name; the operating CERT when left out.
    pub convener_org: Option<String>,
    /// A NIS2 sector slug for a sector sub-group (`energy`, ...).
    pub sector: Option<String>,
    pub diversity_goals: Option<String>,
}

async fn resolve_group(state: &AppState, field: &str, key: &str) -> ApiResult<Uuid> {
    let found = match Uuid::try_parse(key) {
        Ok(id) => state.store().get_group(id).await?,
        Err(_) => state.store().find_group(key).await?,
    };
    found.map(|stored| stored.group.id).ok_or_else(|| {
        ApiError::validation(vec![FieldError::new(field, format!("no working group {key:?}"))])
    })
}

/// Creates a group or sub-group (managers only).
#[utoipa::path(post, path = "/api/v1/groups", tag = "groups", request_body = NewGroup,
    responses((status = 201, body = GroupDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<NewGroup>,
) -> ApiResult<Response> {
    let caller = caller(&state, auth).await?;
    require_manager(&caller)?;
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let convener = match body.convener_org.as_deref() {
        Some(key) => resolve_org(&registry, "convener_org", key)?,
        None => registry
            .operator_id
            .ok_or_else(|| ApiError::bad_request("convener_org", "no operator organisation"))?,
    };
    let parent = match body.parent.as_deref() {
        Some(key) => Some(resolve_group(&state, "parent", key).await?),
        None => None,
    };
    let group = WorkingGroup {
        id: Uuid::new_v4(),
        code: body.code,
        name: body.name,
        description: body.description,
        parent,
        convener_org: convener,
        sector: body.sector,
        diversity_goals: body.diversity_goals,
        members: Vec::new(),
        meetings: Vec::new(),
        action_items: Vec::new(),
        documents: Vec::new(),
        announcements: Vec::new(),
    };
    check(&group)?;
    let stored = state.store().create_group(&caller.auth.actor(), &group).await?;
    respond(&state, &caller, &stored, StatusCode::CREATED).await
}

/// One group, as the caller may see it.
#[utoipa::path(get, path = "/api/v1/groups/{id}", tag = "groups", params(("id" = Uuid, Path)),
    responses((status = 200, body = GroupDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Response> {
    let caller = caller(&state, auth).await?;
    let stored = visible(&state, &caller, &id).await?;
    respond(&state, &caller, &stored, StatusCode::OK).await
}

/// Changes to a group's own fields; fields left out stay.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub sector: Option<String>,
    pub diversity_goals: Option<String>,
}

/// Changes a group's name, description, sector or diversity goals (managers only).
#[utoipa::path(patch, path = "/api/v1/groups/{id}", tag = "groups", params(("id" = Uuid, Path)),
    request_body = GroupChanges,
    responses((status = 200, body = GroupDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<GroupChanges>,
) -> ApiResult<Response> {
    let caller = caller(&state, auth).await?;
    let stored = change(&state, &caller, &id, "group.update", |group| {
        if let Some(name) = body.name {
            group.name = name;
        }
        if body.description.is_some() {
            group.description = body.description;
        }
        if body.sector.is_some() {
            group.sector = body.sector;
        }
        if body.diversity_goals.is_some() {
            group.diversity_goals = body.diversity_goals;
        }
        Ok(())
    })
    .await?;
    respond(&state, &caller, &stored, StatusCode::OK).await
}

/// Deletes a group without sub-groups (managers only).
#[utoipa::path(delete, path = "/api/v1/groups/{id}", tag = "groups", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let caller = caller(&state, auth).await?;
    let stored = visible(&state, &caller, &id).await?;
    require_manager(&caller)?;
    state.store().delete_group(&caller.auth.actor(), stored.group.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// Members.

/// A new member.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    pub name: String,
    pub email: String,
    /// An organisation of the registry (id or short name); or give `outside_org`.
    pub org: Option<String>,
    /// The name of an organisation outside the registry.
    pub outside_org: Option<String>,
    /// A NIS2 sector slug.
    pub sector: Option<String>,
    /// `public`, `private`, `academia` or `civil_society`.
    pub kind: String,
    /// `chair`, `secretary`, `member` (default) or `observer`.
    pub role: Option<String>,
    /// `en` (default), `bs`, `hr`, `sr-Latn` or `sr-Cyrl`: the language of announcements.
    pub language: Option<String>,
    /// YYYY-MM-DD; today when left out.
    pub joined: Option<String>,
}

/// Adds a member (managers only); an address already in the group, an unknown organisation or
/// sector are refused by field. Gender and age band are not taken here: only the member
/// declares them.
#[utoipa::path(post, path = "/api/v1/groups/{id}/members", tag = "groups", params(("id" = Uuid, Path)),
    request_body = NewMember,
    responses((status = 201, body = GroupDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn add_member(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewMember>,
) -> ApiResult<Response> {
    let caller = caller(&state, auth).await?;
    managed(&state, &caller, &id).await?;
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let mut problems = Vec::new();
    let org_id = body.org.as_deref().and_then(|key| keep(&mut problems, resolve_org(&registry, "org", key)));
    let kind = keep(
        &mut problems,
        parse_enum("kind", &body.kind, StakeholderKind::parse, "public, private, academia, civil_society"),
    );
    let role = match body.role.as_deref() {
        None => Some(MemberRole::Member),
        Some(text) => keep(
            &mut problems,
            parse_enum("role", text, MemberRole::parse, "chair, secretary, member, observer"),
        ),
    };
    let language = match body.language.as_deref() {
        None => Some(Language::En),
        Some(text) => keep(&mut problems, parse_language("language", text)),
    };
    let joined = match body.joined.as_deref() {
        None => Some(OffsetDateTime::now_utc().date()),
        Some(text) => keep(&mut problems, parse_date("joined", text)),
    };
    let (Some(kind), Some(role), Some(language), Some(joined), true) =
        (kind, role, language, joined, problems.is_empty())
    else {
        return Err(ApiError::validation(problems));
    };
    let member = Member {
        id: Uuid::new_v4(),
        name: body.name,
        email: body.email.trim().to_owned(),
        org_id,
        outside_org: body.outside_org,
        sector: body.sector,
        kind,
        role,
        language,
        joined,
        gender: None,
        age_band: None,
    };
    let problems = groups::check_member("", &member);
    if !problems.is_empty() {
        return Err(ApiError::validation(problems));
    }
    let stored = change(&state, &caller, &id, "group.member.add", |group| {
        groups::add_member(group, member).map_err(ApiError::from)
    })
    .await?;
    respond(&state, &caller, &stored, StatusCode::CREATED).await
}

/// Removes a member (managers only); one who owns open action items or is named on a
/// `TLP:RED` document is refused.
#[utoipa::path(delete, path = "/api/v1/groups/{id}/members/{member}", tag = "groups",
    params(("id" = Uuid, Path), ("member" = Uuid, Path)),
    responses((status = 200, body = GroupDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn remove_member(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, member)): Path<(String, String)>,
) -> ApiResult<Response> {
    let caller = caller(&state, auth).await?;
    let member = parse_id("member", &member)?;
    let stored = change(&state, &caller, &id, "group.member.remove", |group| {
        if !group.members.iter().any(|m| m.id == member) {
            return Err(ApiError::not_found("member"));
        }
        groups::remove_member(group, member).map_err(ApiError::from)
    })
    .await?;
    respond(&state, &caller, &stored, StatusCode::OK).await
}

/// A member's own self-declaration.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SelfDeclarationDto {
    /// `female`, `male` or `other`; null or left out: not declared.
    pub gender: Option<String>,
    /// `under_25`, `25_34`, `35_44`, `45_54`, `55_64` or `65_plus`; null or left out: not declared.
    pub age_band: Option<String>,
}

/// The member the caller is, or 404 (also for managers and admins: only the member reads and
/// writes their own declaration).
fn own_member(caller: &Caller, group: &WorkingGroup, member: &str) -> ApiResult<Uuid> {
    let member = parse_id("member", member)?;
    caller
        .member(group)
        .filter(|own| own.id == member)
        .map(|own| own.id)
        .ok_or_else(|| ApiError::not_found("self-declaration"))
}

/// The caller's own gender and age band as declared (the member only).
#[utoipa::path(get, path = "/api/v1/groups/{id}/members/{member}/self", tag = "groups",
    params(("id" = Uuid, Path), ("member" = Uuid, Path)),
    responses((status = 200, body = SelfDeclarationDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get_self(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, member)): Path<(String, String)>,
) -> ApiResult<Json<SelfDeclarationDto>> {
    let caller = caller(&state, auth).await?;
    let stored = visible(&state, &caller, &id).await?;
    let member = own_member(&caller, &stored.group, &member)?;
    let found = stored.group.members.iter().find(|m| m.id == member);
    Ok(Json(SelfDeclarationDto {
        gender: found.and_then(|m| m.gender).map(|g| g.as_str().into()),
        age_band: found.and_then(|m| m.age_band).map(|a| a.as_str().into()),
    }))
}

/// Declares (or withdraws) the caller's own gender and age band (the member only, with a
/// credential that may write); others see them only in the diversity aggregates.
#[utoipa::path(put, path = "/api/v1/groups/{id}/members/{member}/self", tag = "groups",
    params(("id" = Uuid, Path), ("member" = Uuid, Path)), request_body = SelfDeclarationDto,
    responses((status = 200, body = SelfDeclarationDto), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn put_self(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, member)): Path<(String, String)>,
    ApiJson(body): ApiJson<SelfDeclarationDto>,
) -> ApiResult<Json<SelfDeclarationDto>> {
    let caller = caller(&state, auth).await?;
    let stored = visible(&state, &caller, &id).await?;
    let member = own_member(&caller, &stored.group, &member)?;
    if caller.auth.0.scope < neretva_model::user::Scope::Write {
        return Err(ApiError::forbidden("a read-only credential cannot change the declaration"));
    }
    let mut problems = Vec::new();
    let gender = body.gender.as_deref().and_then(|text| {
        keep(&mut problems, parse_enum("gender", text, Gender::parse, "female, male, other"))
    });
    let age_band = body.age_band.as_deref().and_then(|text| {
        keep(
            &mut problems,
            parse_enum("age_band", text, AgeBand::parse, "under_25, 25_34, 35_44, 45_54, 55_64, 65_plus"),
        )
    });
    if !problems.is_empty() {
        return Err(ApiError::validation(problems));
    }
    let mut group = stored.group.clone();
    groups::declare(&mut group, member, SelfDeclaration { gender, age_band })?;
    state.store().update_group(&caller.auth.actor(), &group, stored.version, "group.member.declare").await?;
    Ok(Json(SelfDeclarationDto {
        gender: gender.map(|g| g.as_str().into()),
        age_band: age_band.map(|a| a.as_str().into()),
    }))
}

/// The group's composition: by kind of stakeholder and by sector in full, by self-declared
/// gender and age band with every count below 3 suppressed (null), and the rule applied.
#[utoipa::path(get, path = "/api/v1/groups/{id}/diversity", tag = "groups", params(("id" = Uuid, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn diversity(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let caller = caller(&state, auth).await?;
    let stored = visible(&state, &caller, &id).await?;
    Ok(Json(serde_json::to_value(groups::diversity(&stored.group)).unwrap_or(Value::Null)))
}

// Meetings.

/// A new meeting.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMeeting {
    pub title: String,
    /// RFC 3339.
    pub starts_at: String,
    /// RFC 3339, not before `starts_at`.
    pub ends_at: String,
    pub place: Option<String>,
    pub online_url: Option<String>,
    #[serde(default)]
    pub agenda: Vec<String>,
}

/// Schedules a meeting (managers only).
#[utoipa::path(post, path = "/api/v1/groups/{id}/meetings", tag = "groups", params(("id" = Uuid, Path)),
    request_body = NewMeeting,
    responses((status = 201, body = GroupDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn add_meeting(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewMeeting>,
) -> ApiResult<Response> {
    let caller = caller(&state, auth).await?;
    managed(&state, &caller, &id).await?;
    let mut problems = Vec::new();
    let starts_at = keep(&mut problems, parse_time("starts_at", &body.starts_at));
    let ends_at = keep(&mut problems, parse_time("ends_at", &body.ends_at));
    let (Some(starts_at), Some(ends_at)) = (starts_at, ends_at) else {
        return Err(ApiError::validation(problems));
    };
    let meeting = Meeting {
        id: Uuid::new_v4(),
        title: body.title,
        starts_at,
        ends_at,
        place: body.place,
        online_url: body.online_url,
        agenda: body.agenda,
        minutes: None,
        decisions: Vec::new(),
    };
    let stored = change(&state, &caller, &id, "group.meeting.add", |group| {
        group.meetings.push(meeting);
        Ok(())
    })
    .await?;
    respond(&state, &caller, &stored, StatusCode::CREATED).await
}

/// Changes to a meeting; fields left out stay, `add_decisions` are appended.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingChanges {
    pub title: Option<String>,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub place: Option<String>,
    pub online_url: Option<String>,
    pub agenda: Option<Vec<String>>,
    /// Markdown; replaces the minutes.
    pub minutes: Option<String>,
    #[serde(default)]
    pub add_decisions: Vec<String>,
}

/// Changes a meeting: its time, place, agenda, minutes, decisions (managers only).
#[utoipa::path(patch, path = "/api/v1/groups/{id}/meetings/{meeting}", tag = "groups",
    params(("id" = Uuid, Path), ("meeting" = Uuid, Path)), request_body = MeetingChanges,
    responses((status = 200, body = GroupDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn update_meeting(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, meeting)): Path<(String, String)>,
    ApiJson(body): ApiJson<MeetingChanges>,
) -> ApiResult<Response> {
    let caller = caller(&state, auth).await?;
    managed(&state, &caller, &id).await?;
    let meeting_id = parse_id("meeting", &meeting)?;
    let mut problems = Vec::new();
    let starts_at = body.starts_at.as_deref().and_then(|t| keep(&mut problems, parse_time("starts_at", t)));
    let ends_at = body.ends_at.as_deref().and_then(|t| keep(&mut problems, parse_time("ends_at", t)));
    if !problems.is_empty() {
        return Err(ApiError::validation(problems));
    }
    let stored = change(&state, &caller, &id, "group.meeting.update", |group| {
        let meeting = groups::meeting_mut(group, meeting_id).map_err(|_| ApiError::not_found("meeting"))?;
        if let Some(title) = body.title {
            meeting.title = title;
        }
        if let Some(at) = starts_at {
            meeting.starts_at = at;
        }
        if let Some(at) = ends_at {
            meeting.ends_at = at;
        }
        if body.place.is_some() {
            meeting.place = body.place;
        }
        if body.online_url.is_some() {
            meeting.online_url = body.online_url;
        }
        if let Some(agenda) = body.agenda {
            meeting.agenda = agenda;
        }
        if body.minutes.is_some() {
            meeting.minutes = body.minutes;
        }
        meeting
            .decisions
            .extend(body.add_decisions.into_iter().map(|text| Decision { id: Uuid::new_v4(), text }));
        Ok(())
    })
    .await?;
    respond(&state, &caller, &stored, StatusCode::OK).await
}

// Action items.

/// The strategy action an item serves.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StrategyLinkInput {
    /// The strategic document's id or code.
    pub document: String,
    /// The action's id.
    pub action: Uuid,
}

/// A new action item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewItem {
    pub title: String,
    /// A member's id or e-mail address.
    pub owner: String,
    /// YYYY-MM-DD.
    pub due: String,
    /// `open` (default), `in_progress`, `done` or `cancelled`.
    pub status: Option<String>,
    /// The meeting that decided it.
    pub meeting: Option<Uuid>,
    pub strategy: Option<StrategyLinkInput>,
}

/// Resolves a strategy link: the document must exist and be visible to the caller, and have the
/// action.
async fn resolve_link(
    state: &AppState,
    caller: &Caller,
    input: &StrategyLinkInput,
) -> ApiResult<StrategyLink> {
    let found = match Uuid::try_parse(&input.document) {
        Ok(id) => state.store().get_strategy(id).await?,
        Err(_) => state.store().find_strategy(&input.document).await?,
    };
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let Some(stored) = found
        .filter(|stored| crate::api::strategy::may_see_document(&registry, &caller.auth, &stored.document))
    else {
        return Err(FieldError::new(
            "strategy.document",
            format!("no strategic document {:?}", input.document),
        )
        .into());
    };
    if !has_action(&stored.document, input.action) {
        return Err(FieldError::new(
            "strategy.action",
            format!("strategic document {:?} has no action {}", stored.document.code, input.action),
        )
        .into());
    }
    Ok(StrategyLink { document: stored.document.id, action: input.action })
}

fn parse_status(field: &str, text: &str) -> Result<ItemStatus, FieldError> {
    parse_enum(field, text, ItemStatus::parse, "open, in_progress, done, cancelled")
}

/// Adds an action item, optionally linked to an action of the strategy tracker (managers
/// only).
#[utoipa::path(post, path = "/api/v1/groups/{id}/items", tag = "groups", params(("id" = Uuid, Path)),
    request_body = NewItem,
    responses((status = 201, body = GroupDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn add_item(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewItem>,
) -> ApiResult<Response> {
    let caller = caller(&state, auth).await?;
    managed(&state, &caller, &id).await?;
    let link = match &body.strategy {
        Some(input) => Some(resolve_link(&state, &caller, input).await?),
        None => None,
    };
    let mut problems = Vec::new();
    let due = keep(&mut problems, parse_date("due", &body.due));
    let status = match body.status.as_deref() {
        None => Some(ItemStatus::Open),
        Some(text) => keep(&mut problems, parse_status("status", text)),
    };
    let (Some(due), Some(status)) = (due, status) else {
        return Err(ApiError::validation(problems));
    };
    let stored = change(&state, &caller, &id, "group.item.add", |group| {
        let owner = parse_member_ref("owner", group, &body.owner)?;
        group.action_items.push(ActionItem {
            id: Uuid::new_v4(),
            title: body.title,
            owner,
            due,
            status,
            meeting: body.meeting,
            strategy: link,
        });
        Ok(())
    })
    .await?;
    respond(&state, &caller, &stored, StatusCode::CREATED).await
}

/// Changes to an action item; fields left out stay.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemChanges {
    pub title: Option<String>,
    /// A member's id or e-mail address.
    pub owner: Option<String>,
    pub due: Option<String>,
    pub status: Option<String>,
    pub strategy: Option<StrategyLinkInput>,
}

/// Changes an action item: status, owner, due date, title, strategy link (managers only).
#[utoipa::path(patch, path = "/api/v1/groups/{id}/items/{item}", tag = "groups",
    params(("id" = Uuid, Path), ("item" = Uuid, Path)), request_body = ItemChanges,
    responses((status = 200, body = GroupDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn update_item(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, item)): Path<(String, String)>,
    ApiJson(body): ApiJson<ItemChanges>,
) -> ApiResult<Response> {
    let caller = caller(&state, auth).await?;
    managed(&state, &caller, &id).await?;
    let item_id = parse_id("item", &item)?;
    let link = match &body.strategy {
        Some(input) => Some(resolve_link(&state, &caller, input).await?),
        None => None,
    };
    let mut problems = Vec::new();
    let due = body.due.as_deref().and_then(|t| keep(&mut problems, parse_date("due", t)));
    let status = body.status.as_deref().and_then(|t| keep(&mut problems, parse_status("status", t)));
    if !problems.is_empty() {
        return Err(ApiError::validation(problems));
    }
    let stored = change(&state, &caller, &id, "group.item.update", |group| {
        let owner = body.owner.as_deref().map(|key| parse_member_ref("owner", group, key)).transpose()?;
        let item = groups::item_mut(group, item_id).map_err(|_| ApiError::not_found("action item"))?;
        if let Some(title) = body.title {
            item.title = title;
        }
        if let Some(owner) = owner {
            item.owner = owner;
        }
        if let Some(due) = due {
            item.due = due;
        }
        if let Some(status) = status {
            item.status = status;
        }
        if link.is_some() {
            item.strategy = link;
        }
        Ok(())
    })
    .await?;
    respond(&state, &caller, &stored, StatusCode::OK).await
}

// Documents.

/// A document to share.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDocument {
    pub title: String,
    /// `TLP:CLEAR`, `TLP:GREEN`, `TLP:AMBER`, `TLP:AMBER+STRICT` or `TLP:RED`.
    pub tlp: String,
    /// `markdown` (default) or `text`.
    pub format: Option<String>,
    /// At most 512 KiB.
    pub content: String,
    /// For `TLP:RED`: the members (ids or e-mail addresses) who may read it.
    #[serde(default)]
    pub recipients: Vec<String>,
}

/// Shares a document with the group under a TLP label (managers only).
#[utoipa::path(post, path = "/api/v1/groups/{id}/documents", tag = "groups", params(("id" = Uuid, Path)),
    request_body = NewDocument,
    responses((status = 201, body = DocumentSummary), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn add_document(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewDocument>,
) -> ApiResult<Response> {
    let caller = caller(&state, auth).await?;
    managed(&state, &caller, &id).await?;
    let mut problems = Vec::new();
    let tlp = keep(&mut problems, parse_tlp("tlp", &body.tlp));
    let format = match body.format.as_deref() {
        None | Some("markdown") => Some(DocumentFormat::Markdown),
        Some("text") => Some(DocumentFormat::Text),
        Some(other) => {
            problems.push(FieldError::new("format", format!("{other:?} is not one of markdown, text")));
            None
        }
    };
    let (Some(tlp), Some(format)) = (tlp, format) else {
        return Err(ApiError::validation(problems));
    };
    let document_id = Uuid::new_v4();
    let actor = caller.auth.0.username.clone();
    let stored = change(&state, &caller, &id, "group.document.add", |group| {
        let mut problems = Vec::new();
        let recipients: Vec<Uuid> = body
            .recipients
            .iter()
            .enumerate()
            .filter_map(|(index, key)| {
                keep(&mut problems, parse_member_ref(&format!("recipients[{index}]"), group, key))
            })
            .collect();
        if !problems.is_empty() {
            return Err(ApiError::validation(problems));
        }
        group.documents.push(SharedDocument {
            id: document_id,
            title: body.title,
            tlp,
            format,
            content: body.content,
            recipients,
            added_by: actor,
            added_at: OffsetDateTime::now_utc(),
        });
        Ok(())
    })
    .await?;
    let document = stored.group.documents.iter().find(|d| d.id == document_id).map(document_summary);
    Ok((StatusCode::CREATED, Json(document)).into_response())
}

/// A shared document with its content, when the caller may read it under its TLP.
#[utoipa::path(get, path = "/api/v1/groups/{id}/documents/{document}", tag = "groups",
    params(("id" = Uuid, Path), ("document" = Uuid, Path)),
    responses((status = 200, body = DocumentDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get_document(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, document)): Path<(String, String)>,
) -> ApiResult<Json<DocumentDto>> {
    let caller = caller(&state, auth).await?;
    let document = parse_id("document", &document)?;
    let stored = visible(&state, &caller, &id).await?;
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let found = stored
        .group
        .documents
        .iter()
        .find(|d| d.id == document && caller.reads(&registry, &stored.group, d))
        .ok_or_else(|| ApiError::not_found("document"))?;
    Ok(Json(DocumentDto {
        summary: document_summary(found),
        content: found.content.clone(),
        recipients: found.recipients.clone(),
    }))
}

/// Removes a shared document (managers only).
#[utoipa::path(delete, path = "/api/v1/groups/{id}/documents/{document}", tag = "groups",
    params(("id" = Uuid, Path), ("document" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn remove_document(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, document)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let caller = caller(&state, auth).await?;
    let document = parse_id("document", &document)?;
    change(&state, &caller, &id, "group.document.remove", |group| {
        let before = group.documents.len();
        group.documents.retain(|d| d.id != document);
        if group.documents.len() == before { Err(ApiError::not_found("document")) } else { Ok(()) }
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

// Announcements.

/// An announcement to the members.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAnnouncement {
    /// One line, at most 200 characters.
    pub subject: String,
    /// Plain text, at most 256 KiB.
    pub body: String,
    /// The TLP label; `TLP:GREEN` when left out.
    pub tlp: Option<String>,
}

/// The delivery of one message of an announcement.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnnouncementDelivery {
    pub message: Uuid,
    pub email: String,
    pub language: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// An announcement with its deliveries.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnnouncementDto {
    pub id: Uuid,
    pub subject: String,
    pub tlp: String,
    pub sent_by: String,
    pub sent_at: String,
    pub deliveries: Vec<AnnouncementDelivery>,
}

fn delivery(message: &neretva_store::notifications::StoredMessage) -> AnnouncementDelivery {
    AnnouncementDelivery {
        message: message.id,
        email: message.email.clone(),
        language: message.language.clone(),
        status: message.status.as_str().into(),
        attempts: message.attempts,
        last_error: message.last_error.clone(),
    }
}

/// Announces to every member by e-mail (managers only): one OpenPGP-signed message per member
/// in the member's language, recorded with the announcement and sent by the notifier; a member
/// whose address cannot be written to is recorded as failed, the others still get theirs.
#[utoipa::path(post, path = "/api/v1/groups/{id}/announcements", tag = "groups", params(("id" = Uuid, Path)),
    request_body = NewAnnouncement,
    responses((status = 201, body = AnnouncementDto), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn announce(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewAnnouncement>,
) -> ApiResult<Response> {
    let caller = caller(&state, auth).await?;
    let stored = visible(&state, &caller, &id).await?;
    require_manager(&caller)?;
    let tlp = match body.tlp.as_deref() {
        None => Tlp::Green,
        Some(text) => parse_tlp("tlp", text)?,
    };
    let notifier = notifier(&state)?;
    let input =
        AnnouncementInput { subject: body.subject, body: body.body, tlp, sent_by: caller.auth.actor().0 };
    let (_, announcement, messages) = record_announcement(
        state.store(),
        notifier,
        &caller.auth.actor(),
        &stored,
        &input,
        OffsetDateTime::now_utc(),
    )
    .await
    .map_err(|error| match error {
        AnnounceError::Invalid(problems) => ApiError::validation(problems),
        AnnounceError::Store(error) => error.into(),
        AnnounceError::Notifier(error) => notify_error(error),
    })?;
    let dto = AnnouncementDto {
        id: announcement.id,
        subject: announcement.subject,
        tlp: announcement.tlp.to_string(),
        sent_by: announcement.sent_by,
        sent_at: rfc3339(announcement.sent_at),
        deliveries: messages.iter().map(delivery).collect(),
    };
    Ok((StatusCode::CREATED, Json(dto)).into_response())
}

/// An announcement with the delivery of each message (the CERT's staff only).
#[utoipa::path(get, path = "/api/v1/groups/{id}/announcements/{announcement}", tag = "groups",
    params(("id" = Uuid, Path), ("announcement" = Uuid, Path)),
    responses((status = 200, body = AnnouncementDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get_announcement(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, announcement)): Path<(String, String)>,
) -> ApiResult<Json<AnnouncementDto>> {
    let caller = caller(&state, auth).await?;
    let announcement = parse_id("announcement", &announcement)?;
    let stored = visible(&state, &caller, &id).await?;
    if !caller.is_staff() {
        return Err(ApiError::forbidden("only the operating CERT's staff see deliveries"));
    }
    let found = stored
        .group
        .announcements
        .iter()
        .find(|a| a.id == announcement)
        .ok_or_else(|| ApiError::not_found("announcement"))?;
    let mut deliveries = Vec::with_capacity(found.messages.len());
    for message in &found.messages {
        if let Some(message) = state.store().get_message(*message).await? {
            deliveries.push(delivery(&message));
        }
    }
    Ok(Json(AnnouncementDto {
        id: found.id,
        subject: found.subject.clone(),
        tlp: found.tlp.to_string(),
        sent_by: found.sent_by.clone(),
        sent_at: rfc3339(found.sent_at),
        deliveries,
    }))
}
