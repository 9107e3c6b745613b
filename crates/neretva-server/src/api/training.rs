//! Train-the-trainer programmes under `/api/v1/learning`: programmes with their curriculum,
//! training sessions with registration, attendance and the standard feedback form, trainer
//! qualification, learner profiles and statistics of people trained.
//!
//! Reading: programmes are training material every signed-in user may read. A session is seen
//! (title, time, mode, how many registered — no names) by members of the organisations it is
//! open to (everyone when its audience is empty), by its trainers, its participants, the
//! programme owner's admins and the operating CERT's staff; others get 404. A participant's
//! record (registration and attendance) is `TLP:AMBER+STRICT` to the participant's
//! organisation with the participant named: the participant and their organisation's admins
//! see it (`may_see`), and so do the session's trainers and the operating CERT's staff.
//! Feedback is shown only aggregated, never with names, to the session's trainers and staff.
//!
//! Writing: programmes are created by the operating CERT's admins and analysts, and by an
//! organisation's admins for their own organisation (the national institution owning it).
//! Sessions are planned by staff and the owner's admins; attendance is recorded by the
//! session's trainers and staff; trainer qualifications are granted by staff. Every change is
//! written with its audit entry in one transaction.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use axum::Json;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use neretva_learning::course::Texts;
use neretva_learning::training::{
    self, AuthorityLevel, CurriculumItem, FORM, Feedback, GroupBy, Interval, Mode, Participant, Presence,
    Profession, Profile, Programme, ProgrammeSpec, Qualification, Ratings, Refusal, Session, SessionStatus,
    TrainerGrant, check_feedback, check_grant, check_profile, check_programme, check_registration,
    check_session, form_text, people_trained, qualification_of, record_attendance, stats_csv, summarise,
};
use neretva_model::access::{Visibility, may_see, may_write};
use neretva_model::audit::{AuditEvent, digest_hex};
use neretva_model::contact::Language;
use neretva_model::tlp::Tlp;
use neretva_model::user::Role;
use neretva_model::{FieldError, Timestamp, Uuid};
use neretva_store::training::{ParticipantQuery, SessionQuery, StoredProgramme, StoredSession};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::{parse_id, rfc3339};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{ApiJson, Auth};
use crate::training::{qualification_status, trained_rows};

/// The most attendance marks in one request.
const MAX_MARKS: usize = 10_000;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/learning/programmes", get(list_programmes).post(create_programme))
        .route("/learning/programmes/{id}", get(get_programme).patch(update_programme))
        .route("/learning/sessions", get(list_sessions).post(create_session))
        .route("/learning/sessions/{id}", get(get_session).patch(update_session))
        .route("/learning/sessions/{id}/participants", post(register))
        .route("/learning/sessions/{id}/attendance", put(attendance))
        .route("/learning/sessions/{id}/feedback", get(feedback_summary).post(submit_feedback))
        .route("/learning/feedback/form", get(feedback_form))
        .route("/learning/trainers", get(trainers))
        .route("/learning/trainers/grants", post(grant))
        .route("/learning/profile", get(get_profile).put(put_profile))
        .route("/learning/statistics", get(statistics))
}

// Access.

fn require_writer(auth: &Auth) -> ApiResult<()> {
    if may_write(&auth.principal()) {
        Ok(())
    } else {
        Err(ApiError::forbidden("this credential may not change anything"))
    }
}

fn is_staff(auth: &Auth) -> bool {
    auth.0.is_operator_staff()
}

fn is_admin_of(auth: &Auth, org: Uuid) -> bool {
    auth.0.role == Role::Admin && auth.0.org_id == org
}

/// Programme and session editors: the operating CERT's staff and the owner's admins.
fn may_manage(auth: &Auth, programme: &Programme) -> bool {
    is_staff(auth) || is_admin_of(auth, programme.owner_org_id)
}

/// Whether the caller sees a session at all (else 404).
fn may_view_session(auth: &Auth, session: &Session, programme: &Programme, registered: bool) -> bool {
    may_manage(auth, programme)
        || session.is_trainer(auth.0.user_id)
        || registered
        || session.open_to(auth.0.org_id)
}

/// Whether the caller sees a participant's record.
fn may_see_participant(auth: &Auth, session: &Session, participant: &Participant) -> bool {
    if is_staff(auth) || session.is_trainer(auth.0.user_id) {
        return true;
    }
    let recipients = [participant.user_id];
    let visibility = Visibility {
        recipient_users: &recipients,
        ..Visibility::owned(participant.org_id, &[], Tlp::AmberStrict)
    };
    may_see(&auth.principal(), &visibility)
        && (auth.0.user_id == participant.user_id || is_admin_of(auth, participant.org_id))
}

fn refusal(error: Refusal) -> ApiError {
    ApiError::new(ErrorCode::Conflict, error.to_string()).with_field(error.field())
}

async fn programme(state: &AppState, id: Uuid) -> ApiResult<StoredProgramme> {
    state.store().get_programme(id).await?.ok_or_else(|| ApiError::not_found("programme"))
}

/// A programme by id or code.
async fn programme_by_key(state: &AppState, key: &str) -> ApiResult<StoredProgramme> {
    if let Ok(id) = Uuid::try_parse(key) {
        return programme(state, id).await;
    }
    state
        .store()
        .list_programmes()
        .await?
        .into_iter()
        .find(|stored| stored.programme.spec.code == key)
        .ok_or_else(|| ApiError::not_found("programme"))
}

async fn participants(state: &AppState, session: Uuid) -> ApiResult<Vec<Participant>> {
    let query = ParticipantQuery { session_id: Some(session), ..ParticipantQuery::default() };
    Ok(state.store().list_participants(&query).await?)
}

/// A session the caller may see, with its programme and participants, or 404.
async fn visible_session(
    state: &AppState,
    auth: &Auth,
    id: &str,
) -> ApiResult<(StoredSession, StoredProgramme, Vec<Participant>)> {
    let id = parse_id("id", id)?;
    let stored =
        state.store().get_training_session(id).await?.ok_or_else(|| ApiError::not_found("session"))?;
    let programme = programme(state, stored.session.programme_id).await?;
    let participants = participants(state, id).await?;
    let registered = participants.iter().any(|participant| participant.user_id == auth.0.user_id);
    if may_view_session(auth, &stored.session, &programme.programme, registered) {
        Ok((stored, programme, participants))
    } else {
        Err(ApiError::not_found("session"))
    }
}

fn parse_time(field: &str, text: &str) -> ApiResult<Timestamp> {
    if let Ok(at) = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339) {
        return Ok(at);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, &format).map(|date| date.midnight().assume_utc()).map_err(|_| {
        ApiError::bad_request(field, format!("{text:?} is not a date (YYYY-MM-DD) or RFC 3339 time"))
    })
}

fn parse_language(text: &str) -> ApiResult<Language> {
    text.parse().map_err(|error: FieldError| ApiError::bad_request("language", error.message))
}

// Wire types.

/// A new programme. `owner_org_id`: the national institution owning it; an organisation's
/// admin creates programmes of their own organisation only, the operating CERT's staff of any.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProgramme {
    pub owner_org_id: Option<Uuid>,
    pub code: String,
    /// The title per language (`en`, `bs`, `hr`, `sr-Latn`, `sr-Cyrl`).
    #[schema(value_type = Object)]
    pub title: Texts,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub description: Texts,
    /// Items `{course?, topic?: {language: text}, hours}`, in order.
    #[schema(value_type = Vec<Object>)]
    pub curriculum: Vec<CurriculumItem>,
    /// `police`, `prosecution`, `judiciary`, `cert`, `public_administration`,
    /// `private_sector`, `academia`, `other`.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub professions: Vec<Profession>,
    /// `state`, `entity`, `district`, `cantonal`, `municipal`, `other`.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub levels: Vec<AuthorityLevel>,
    pub trainer_course: String,
    /// 2 when left out.
    pub co_deliveries_required: Option<u32>,
}

/// A change of a programme: the fields given replace the stored ones.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgrammePatch {
    /// Staff only.
    pub owner_org_id: Option<Uuid>,
    pub code: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub title: Option<Texts>,
    #[schema(value_type = Option<Object>)]
    pub description: Option<Texts>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub curriculum: Option<Vec<CurriculumItem>>,
    #[schema(value_type = Option<Vec<String>>)]
    pub professions: Option<Vec<Profession>>,
    #[schema(value_type = Option<Vec<String>>)]
    pub levels: Option<Vec<AuthorityLevel>>,
    pub trainer_course: Option<String>,
    pub co_deliveries_required: Option<u32>,
}

/// A programme.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgrammeDto {
    pub id: Uuid,
    pub owner_org_id: Uuid,
    pub version: i64,
    pub created_at: String,
    pub code: String,
    #[schema(value_type = Object)]
    pub title: Texts,
    #[schema(value_type = Object)]
    pub description: Texts,
    #[schema(value_type = Vec<Object>)]
    pub curriculum: Vec<CurriculumItem>,
    #[schema(value_type = Vec<String>)]
    pub professions: Vec<Profession>,
    #[schema(value_type = Vec<String>)]
    pub levels: Vec<AuthorityLevel>,
    pub trainer_course: String,
    pub co_deliveries_required: u32,
    pub total_hours: f64,
}

fn programme_dto(stored: &StoredProgramme) -> ProgrammeDto {
    let programme = &stored.programme;
    let spec = &programme.spec;
    ProgrammeDto {
        id: programme.id,
        owner_org_id: programme.owner_org_id,
        version: stored.version,
        created_at: rfc3339(programme.created_at),
        code: spec.code.clone(),
        title: spec.title.clone(),
        description: spec.description.clone(),
        curriculum: spec.curriculum.clone(),
        professions: spec.professions.clone(),
        levels: spec.levels.clone(),
        trainer_course: spec.trainer_course.clone(),
        co_deliveries_required: spec.co_deliveries_required,
        total_hours: spec.curriculum.iter().map(|item| item.hours).sum(),
    }
}

/// A new session of a programme; the lead trainer is the caller when left out.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSession {
    pub programme_id: Uuid,
    /// The curriculum item delivered (0-based).
    pub item: u32,
    pub title: String,
    /// `{"type": "in_person", "location": ...}` or `{"type": "online", "url": ...}`.
    #[schema(value_type = Object)]
    pub mode: Mode,
    /// RFC 3339.
    pub starts_at: String,
    pub ends_at: String,
    /// `en`, `bs`, `hr`, `sr-Latn` or `sr-Cyrl`.
    pub language: String,
    pub lead_trainer: Option<Uuid>,
    #[serde(default)]
    pub co_trainers: Vec<Uuid>,
    pub capacity: u32,
    /// The organisations whose members may see and join it; empty for everyone.
    #[serde(default)]
    pub audience: Vec<Uuid>,
}

/// A change of a session; `status: "cancelled"` cancels it (attendance marks it held).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionPatch {
    pub title: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub mode: Option<Mode>,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub language: Option<String>,
    pub lead_trainer: Option<Uuid>,
    pub co_trainers: Option<Vec<Uuid>>,
    pub capacity: Option<u32>,
    pub audience: Option<Vec<Uuid>>,
    pub status: Option<String>,
}

/// A participant's registration and attendance.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParticipantDto {
    pub user_id: Uuid,
    pub username: String,
    pub display_name: Option<String>,
    pub org_id: Uuid,
    pub registered_at: String,
    /// `present`, `absent` or `partial`; absent until recorded.
    pub attendance: Option<String>,
    /// Minutes present, for `partial`.
    pub minutes: Option<u32>,
    pub recorded_at: Option<String>,
}

/// A session. `participants` lists only the records the caller may see (trainers and staff
/// all; an organisation's admin their members; a participant themselves).
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionDto {
    pub id: Uuid,
    pub programme_id: Uuid,
    pub programme_code: String,
    pub item: u32,
    pub title: String,
    #[schema(value_type = Object)]
    pub mode: Mode,
    pub starts_at: String,
    pub ends_at: String,
    pub language: String,
    pub lead_trainer: Uuid,
    pub co_trainers: Vec<Uuid>,
    pub capacity: u32,
    /// Whether everyone may see and join it.
    pub open: bool,
    /// `planned`, `held` or `cancelled`.
    pub status: String,
    pub version: i64,
    pub registered: usize,
    /// Whether the caller is registered.
    pub you_are_registered: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participants: Option<Vec<ParticipantDto>>,
}

fn session_dto(
    auth: &Auth,
    stored: &StoredSession,
    programme: &Programme,
    participants: &[Participant],
    names: Option<&BTreeMap<Uuid, (String, Option<String>)>>,
) -> SessionDto {
    let session = &stored.session;
    let listed = names.map(|names| {
        participants
            .iter()
            .filter(|participant| may_see_participant(auth, session, participant))
            .map(|participant| {
                let (username, display_name) = names.get(&participant.user_id).cloned().unwrap_or_default();
                ParticipantDto {
                    user_id: participant.user_id,
                    username,
                    display_name,
                    org_id: participant.org_id,
                    registered_at: rfc3339(participant.registered_at),
                    attendance: participant.attendance.map(|presence| presence.as_str().to_owned()),
                    minutes: match participant.attendance {
                        Some(Presence::Partial { minutes }) => Some(minutes),
                        _ => None,
                    },
                    recorded_at: participant.recorded_at.map(rfc3339),
                }
            })
            .collect()
    });
    SessionDto {
        id: session.id,
        programme_id: session.programme_id,
        programme_code: programme.spec.code.clone(),
        item: session.item,
        title: session.title.clone(),
        mode: session.mode.clone(),
        starts_at: rfc3339(session.starts_at),
        ends_at: rfc3339(session.ends_at),
        language: session.language.tag().to_owned(),
        lead_trainer: session.lead_trainer,
        co_trainers: session.co_trainers.clone(),
        capacity: session.capacity,
        open: session.audience.is_empty(),
        status: session.status.as_str().to_owned(),
        version: stored.version,
        registered: participants.len(),
        you_are_registered: participants.iter().any(|participant| participant.user_id == auth.0.user_id),
        participants: listed,
    }
}

/// The names of the participants the caller may see.
async fn names(
    state: &AppState,
    auth: &Auth,
    session: &Session,
    participants: &[Participant],
) -> ApiResult<BTreeMap<Uuid, (String, Option<String>)>> {
    let mut names = BTreeMap::new();
    for participant in
        participants.iter().filter(|participant| may_see_participant(auth, session, participant))
    {
        if let Some(user) = state.store().get_user(participant.user_id).await? {
            names.insert(user.id, (user.username, user.display_name));
        }
    }
    Ok(names)
}

async fn full_session_dto(
    state: &AppState,
    auth: &Auth,
    stored: &StoredSession,
    programme: &Programme,
    participants: &[Participant],
) -> ApiResult<SessionDto> {
    let names = names(state, auth, &stored.session, participants).await?;
    Ok(session_dto(auth, stored, programme, participants, Some(&names)))
}

// Programmes.

/// Creates a programme: the operating CERT's admins and analysts (for any owner, their own
/// organisation when left out), or an organisation's admin (owned by their organisation).
#[utoipa::path(post, path = "/api/v1/learning/programmes", tag = "learning", request_body = NewProgramme,
    responses((status = 201, body = ProgrammeDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create_programme(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<NewProgramme>,
) -> ApiResult<Response> {
    require_writer(&auth)?;
    let owner = body.owner_org_id.unwrap_or(auth.0.org_id);
    if !(is_staff(&auth) || is_admin_of(&auth, owner)) {
        return Err(ApiError::forbidden(
            "programmes are created by the operating CERT's staff and by an organisation's admins for their organisation",
        ));
    }
    if state.store().get_org(owner).await?.is_none() {
        return Err(ApiError::not_found("organisation"));
    }
    let spec = ProgrammeSpec {
        code: body.code,
        title: body.title,
        description: body.description,
        curriculum: body.curriculum,
        professions: body.professions,
        levels: body.levels,
        trainer_course: body.trainer_course,
        co_deliveries_required: body.co_deliveries_required.unwrap_or(training::DEFAULT_CO_DELIVERIES),
    };
    let errors = check_programme(&spec);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let programme =
        Programme { id: Uuid::now_v7(), owner_org_id: owner, spec, created_at: OffsetDateTime::now_utc() };
    let stored = state.store().create_programme(&auth.actor(), &programme).await?;
    Ok((StatusCode::CREATED, Json(programme_dto(&stored))).into_response())
}

/// Every programme, by code.
#[utoipa::path(get, path = "/api/v1/learning/programmes", tag = "learning",
    responses((status = 200, body = [ProgrammeDto])), security(("bearer" = []), ("session" = [])))]
pub async fn list_programmes(
    State(state): State<AppState>,
    _auth: Auth,
) -> ApiResult<Json<Vec<ProgrammeDto>>> {
    Ok(Json(state.store().list_programmes().await?.iter().map(programme_dto).collect()))
}

/// One programme, by id or code.
#[utoipa::path(get, path = "/api/v1/learning/programmes/{id}", tag = "learning", params(("id" = String, Path)),
    responses((status = 200, body = ProgrammeDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get_programme(
    State(state): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<ProgrammeDto>> {
    Ok(Json(programme_dto(&programme_by_key(&state, &id).await?)))
}

/// Changes a programme (staff, or the owner's admins); the owner changes by staff only.
#[utoipa::path(patch, path = "/api/v1/learning/programmes/{id}", tag = "learning", params(("id" = String, Path)),
    request_body = ProgrammePatch,
    responses((status = 200, body = ProgrammeDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn update_programme(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ProgrammePatch>,
) -> ApiResult<Json<ProgrammeDto>> {
    require_writer(&auth)?;
    let stored = programme_by_key(&state, &id).await?;
    if !may_manage(&auth, &stored.programme) {
        return Err(ApiError::forbidden(
            "only the operating CERT's staff and the owner's admins change a programme",
        ));
    }
    let mut programme = stored.programme.clone();
    if let Some(owner) = body.owner_org_id {
        if !is_staff(&auth) && owner != programme.owner_org_id {
            return Err(ApiError::forbidden("only the operating CERT's staff change a programme's owner"));
        }
        if state.store().get_org(owner).await?.is_none() {
            return Err(ApiError::not_found("organisation"));
        }
        programme.owner_org_id = owner;
    }
    let spec = &mut programme.spec;
    if let Some(code) = body.code {
        spec.code = code;
    }
    if let Some(title) = body.title {
        spec.title = title;
    }
    if let Some(description) = body.description {
        spec.description = description;
    }
    if let Some(curriculum) = body.curriculum {
        spec.curriculum = curriculum;
    }
    if let Some(professions) = body.professions {
        spec.professions = professions;
    }
    if let Some(levels) = body.levels {
        spec.levels = levels;
    }
    if let Some(course) = body.trainer_course {
        spec.trainer_course = course;
    }
    if let Some(required) = body.co_deliveries_required {
        spec.co_deliveries_required = required;
    }
    let errors = check_programme(spec);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let written = state.store().update_programme(&auth.actor(), &programme, stored.version).await?;
    Ok(Json(programme_dto(&written)))
}

// Sessions.

/// Plans a session (staff, or the programme owner's admins).
#[utoipa::path(post, path = "/api/v1/learning/sessions", tag = "learning", request_body = NewSession,
    responses((status = 201, body = SessionDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create_session(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<NewSession>,
) -> ApiResult<Response> {
    require_writer(&auth)?;
    let programme = programme(&state, body.programme_id).await?;
    if !may_manage(&auth, &programme.programme) {
        return Err(ApiError::forbidden(
            "sessions are planned by the operating CERT's staff and the programme owner's admins",
        ));
    }
    let session = Session {
        id: Uuid::now_v7(),
        programme_id: programme.programme.id,
        item: body.item,
        title: body.title,
        mode: body.mode,
        starts_at: parse_time("starts_at", &body.starts_at)?,
        ends_at: parse_time("ends_at", &body.ends_at)?,
        language: parse_language(&body.language)?,
        lead_trainer: body.lead_trainer.unwrap_or(auth.0.user_id),
        co_trainers: body.co_trainers,
        capacity: body.capacity,
        audience: body.audience,
        status: SessionStatus::Planned,
    };
    check_people(&state, &session).await?;
    let errors = check_session(&session, &programme.programme);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let stored = state.store().create_training_session(&auth.actor(), &session).await?;
    Ok((
        StatusCode::CREATED,
        Json(full_session_dto(&state, &auth, &stored, &programme.programme, &[]).await?),
    )
        .into_response())
}

/// The trainers and the audience must exist.
async fn check_people(state: &AppState, session: &Session) -> ApiResult<()> {
    for (field, user) in std::iter::once(("lead_trainer", &session.lead_trainer))
        .chain(session.co_trainers.iter().map(|user| ("co_trainers", user)))
    {
        if state.store().get_user(*user).await?.is_none() {
            return Err(ApiError::validation(vec![FieldError::new(field, format!("no user {user}"))]));
        }
    }
    for org in &session.audience {
        if state.store().get_org(*org).await?.is_none() {
            return Err(ApiError::validation(vec![FieldError::new(
                "audience",
                format!("no organisation {org}"),
            )]));
        }
    }
    Ok(())
}

/// Which sessions to list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SessionFilter {
    /// A programme's id or code.
    pub programme: Option<String>,
    /// Starting at or after (YYYY-MM-DD or RFC 3339).
    pub from: Option<String>,
    /// Starting before.
    pub to: Option<String>,
}

/// The sessions the caller may see, by start: public fields and how many registered, no names.
#[utoipa::path(get, path = "/api/v1/learning/sessions", tag = "learning", params(SessionFilter),
    responses((status = 200, body = [SessionDto]), (status = 400, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list_sessions(
    State(state): State<AppState>,
    auth: Auth,
    query: Result<Query<SessionFilter>, QueryRejection>,
) -> ApiResult<Json<Vec<SessionDto>>> {
    let Query(filter) = query?;
    let programme_id = match &filter.programme {
        Some(key) => Some(programme_by_key(&state, key).await?.programme.id),
        None => None,
    };
    let query = SessionQuery {
        programme_id,
        from: filter.from.as_deref().map(|text| parse_time("from", text)).transpose()?,
        to: filter.to.as_deref().map(|text| parse_time("to", text)).transpose()?,
    };
    let mut programmes: BTreeMap<Uuid, StoredProgramme> = BTreeMap::new();
    let mut items = Vec::new();
    for stored in state.store().list_training_sessions(&query).await? {
        let programme_id = stored.session.programme_id;
        if let Entry::Vacant(slot) = programmes.entry(programme_id) {
            let found = programme(&state, programme_id).await?;
            slot.insert(found);
        }
        let Some(programme) = programmes.get(&programme_id) else { continue };
        let participants = participants(&state, stored.session.id).await?;
        let registered = participants.iter().any(|participant| participant.user_id == auth.0.user_id);
        if may_view_session(&auth, &stored.session, &programme.programme, registered) {
            items.push(session_dto(&auth, &stored, &programme.programme, &participants, None));
        }
    }
    Ok(Json(items))
}

/// One session, with the participants' records the caller may see.
#[utoipa::path(get, path = "/api/v1/learning/sessions/{id}", tag = "learning", params(("id" = Uuid, Path)),
    responses((status = 200, body = SessionDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get_session(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<SessionDto>> {
    let (stored, programme, participants) = visible_session(&state, &auth, &id).await?;
    Ok(Json(full_session_dto(&state, &auth, &stored, &programme.programme, &participants).await?))
}

/// Changes or cancels a session (staff, the programme owner's admins, the lead trainer).
#[utoipa::path(patch, path = "/api/v1/learning/sessions/{id}", tag = "learning", params(("id" = Uuid, Path)),
    request_body = SessionPatch,
    responses((status = 200, body = SessionDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn update_session(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SessionPatch>,
) -> ApiResult<Json<SessionDto>> {
    require_writer(&auth)?;
    let (stored, programme, participants) = visible_session(&state, &auth, &id).await?;
    if !(may_manage(&auth, &programme.programme) || stored.session.lead_trainer == auth.0.user_id) {
        return Err(ApiError::forbidden(
            "only staff, the programme owner's admins and the lead trainer change a session",
        ));
    }
    if stored.session.status == SessionStatus::Cancelled {
        return Err(refusal(Refusal::Cancelled));
    }
    let mut session = stored.session.clone();
    if let Some(title) = body.title {
        session.title = title;
    }
    if let Some(mode) = body.mode {
        session.mode = mode;
    }
    if let Some(text) = &body.starts_at {
        session.starts_at = parse_time("starts_at", text)?;
    }
    if let Some(text) = &body.ends_at {
        session.ends_at = parse_time("ends_at", text)?;
    }
    if let Some(text) = &body.language {
        session.language = parse_language(text)?;
    }
    if let Some(lead) = body.lead_trainer {
        session.lead_trainer = lead;
    }
    if let Some(co) = body.co_trainers {
        session.co_trainers = co;
    }
    if let Some(capacity) = body.capacity {
        session.capacity = capacity;
    }
    if let Some(audience) = body.audience {
        session.audience = audience;
    }
    match body.status.as_deref() {
        None => {}
        Some("cancelled") => session.status = SessionStatus::Cancelled,
        Some(other) => {
            return Err(ApiError::validation(vec![FieldError::new(
                "status",
                format!(
                    "{other:?}: a session is only cancelled by a change; recording attendance marks it held"
                ),
            )]));
        }
    }
    check_people(&state, &session).await?;
    let mut errors = check_session(&session, &programme.programme);
    if usize::try_from(session.capacity).is_ok_and(|capacity| capacity < participants.len()) {
        errors.push(FieldError::new(
            "capacity",
            format!("{} participants are registered already", participants.len()),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let written = state.store().update_training_session(&auth.actor(), &session, stored.version).await?;
    Ok(Json(full_session_dto(&state, &auth, &written, &programme.programme, &participants).await?))
}

/// A registration: the caller's own, or `user_id`'s by their organisation's admin, a trainer
/// of the session or the operating CERT's staff.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRegistration {
    pub user_id: Option<Uuid>,
}

/// Registers a participant; refused when the session is cancelled, ended (except for staff and
/// trainers recording a past session), full, or the user is registered already.
#[utoipa::path(post, path = "/api/v1/learning/sessions/{id}/participants", tag = "learning",
    params(("id" = Uuid, Path)), request_body = NewRegistration,
    responses((status = 201, body = ParticipantDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn register(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewRegistration>,
) -> ApiResult<Response> {
    require_writer(&auth)?;
    let (stored, programme, _) = visible_session(&state, &auth, &id).await?;
    let session = &stored.session;
    let organiser =
        is_staff(&auth) || session.is_trainer(auth.0.user_id) || may_manage(&auth, &programme.programme);
    let user = match body.user_id {
        None => state.store().get_user(auth.0.user_id).await?.ok_or_else(|| ApiError::not_found("user"))?,
        Some(user_id) if user_id == auth.0.user_id => {
            state.store().get_user(user_id).await?.ok_or_else(|| ApiError::not_found("user"))?
        }
        Some(user_id) => match state.store().get_user(user_id).await? {
            Some(user) if organiser || is_admin_of(&auth, user.org_id) => user,
            Some(user) if user.org_id == auth.0.org_id => {
                return Err(ApiError::forbidden(
                    "only an administrator of the organisation registers its members",
                ));
            }
            // Users of other organisations are not revealed.
            _ => return Err(ApiError::not_found("user")),
        },
    };
    if !organiser && !session.open_to(user.org_id) {
        return Err(ApiError::forbidden("the session is not open to the user's organisation"));
    }
    let now = OffsetDateTime::now_utc();
    check_registration(session, now, organiser).map_err(refusal)?;
    let participant = Participant {
        session_id: session.id,
        user_id: user.id,
        org_id: user.org_id,
        registered_by: auth.0.user_id,
        registered_at: now,
        attendance: None,
        recorded_at: None,
        recorded_by: None,
    };
    let written = state.store().register_participant(&auth.actor(), &participant).await?;
    let dto = ParticipantDto {
        user_id: written.user_id,
        username: user.username,
        display_name: user.display_name,
        org_id: written.org_id,
        registered_at: rfc3339(written.registered_at),
        attendance: None,
        minutes: None,
        recorded_at: None,
    };
    Ok((StatusCode::CREATED, Json(dto)).into_response())
}

/// One participant's attendance.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceMark {
    pub user_id: Uuid,
    /// `present`, `absent` or `partial`.
    pub status: String,
    /// Minutes present, for `partial`.
    pub minutes: Option<u32>,
}

/// The attendance of a session's registered participants.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceBody {
    pub attendance: Vec<AttendanceMark>,
}

/// Records attendance (the session's trainers and staff), once the session started; it marks the
/// session held. Only registered participants (else 409, field `attendance`).
#[utoipa::path(put, path = "/api/v1/learning/sessions/{id}/attendance", tag = "learning",
    params(("id" = Uuid, Path)), request_body = AttendanceBody,
    responses((status = 200, body = SessionDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn attendance(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AttendanceBody>,
) -> ApiResult<Json<SessionDto>> {
    require_writer(&auth)?;
    let (stored, programme, participants) = visible_session(&state, &auth, &id).await?;
    if !(is_staff(&auth) || stored.session.is_trainer(auth.0.user_id)) {
        return Err(ApiError::forbidden(
            "attendance is recorded by the session's trainers and the operating CERT's staff",
        ));
    }
    if body.attendance.len() > MAX_MARKS {
        return Err(ApiError::validation(vec![FieldError::new(
            "attendance",
            format!("at most {MAX_MARKS} marks"),
        )]));
    }
    let mut marks = BTreeMap::new();
    let mut errors = Vec::new();
    for (index, mark) in body.attendance.iter().enumerate() {
        let presence = match (mark.status.as_str(), mark.minutes) {
            ("present", None) => Presence::Present,
            ("absent", None) => Presence::Absent,
            ("partial", Some(minutes)) => Presence::Partial { minutes },
            _ => {
                errors.push(FieldError::new(
                    format!("attendance[{index}]"),
                    "status is present, absent or partial, with minutes for partial only",
                ));
                continue;
            }
        };
        if marks.insert(mark.user_id, presence).is_some() {
            errors.push(FieldError::new(
                format!("attendance[{index}].user_id"),
                "the participant is marked twice",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut session = stored.session.clone();
    let changed =
        record_attendance(&mut session, &participants, &marks, auth.0.user_id, OffsetDateTime::now_utc())
            .map_err(refusal)?;
    let written = state.store().record_attendance(&auth.actor(), &session, stored.version, &changed).await?;
    let participants = self::participants(&state, session.id).await?;
    Ok(Json(full_session_dto(&state, &auth, &written, &programme.programme, &participants).await?))
}

/// The standard feedback form: four ratings 1 (poor) to 5 (excellent) and two free texts.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackBody {
    pub content: u8,
    pub trainer: u8,
    pub relevance: u8,
    pub organisation: u8,
    #[serde(default)]
    pub most_useful: String,
    #[serde(default)]
    pub to_improve: String,
}

/// A submitted form's receipt (no answers, no name).
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackReceipt {
    pub session_id: Uuid,
    pub submitted_at: String,
}

/// Submits the caller's feedback form: attendees who were present, once the session started,
/// once (a second form is 409, field `feedback`).
#[utoipa::path(post, path = "/api/v1/learning/sessions/{id}/feedback", tag = "learning",
    params(("id" = Uuid, Path)), request_body = FeedbackBody,
    responses((status = 201, body = FeedbackReceipt), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn submit_feedback(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<FeedbackBody>,
) -> ApiResult<Response> {
    require_writer(&auth)?;
    let (stored, _, participants) = visible_session(&state, &auth, &id).await?;
    let now = OffsetDateTime::now_utc();
    let feedback = Feedback {
        id: Uuid::now_v7(),
        session_id: stored.session.id,
        user_id: auth.0.user_id,
        ratings: Ratings {
            content: body.content,
            trainer: body.trainer,
            relevance: body.relevance,
            organisation: body.organisation,
        },
        most_useful: body.most_useful,
        to_improve: body.to_improve,
        submitted_at: now,
    };
    let participant = participants.iter().find(|participant| participant.user_id == auth.0.user_id);
    check_feedback(&stored.session, participant, &feedback, now)
        .map_err(refusal)?
        .map_err(ApiError::validation)?;
    let written = state.store().submit_feedback(&auth.actor(), &feedback).await?;
    let receipt =
        FeedbackReceipt { session_id: written.session_id, submitted_at: rfc3339(written.submitted_at) };
    Ok((StatusCode::CREATED, Json(receipt)).into_response())
}

/// Feedback aggregated without names: averages per rating and the free texts in alphabetical
/// order.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackSummaryDto {
    pub session_id: Uuid,
    pub responses: u32,
    pub content: Option<f64>,
    pub trainer: Option<f64>,
    pub relevance: Option<f64>,
    pub organisation: Option<f64>,
    pub overall: Option<f64>,
    pub most_useful: Vec<String>,
    pub to_improve: Vec<String>,
}

/// A session's feedback, aggregated (its trainers and the operating CERT's staff).
#[utoipa::path(get, path = "/api/v1/learning/sessions/{id}/feedback", tag = "learning",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = FeedbackSummaryDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn feedback_summary(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<FeedbackSummaryDto>> {
    let (stored, programme, _) = visible_session(&state, &auth, &id).await?;
    if !(is_staff(&auth)
        || stored.session.is_trainer(auth.0.user_id)
        || may_manage(&auth, &programme.programme))
    {
        return Err(ApiError::forbidden(
            "a session's feedback is for its trainers and the operating CERT's staff",
        ));
    }
    let forms = state.store().list_feedback(Some(stored.session.id)).await?;
    let summary = summarise(&forms);
    Ok(Json(FeedbackSummaryDto {
        session_id: stored.session.id,
        responses: summary.responses,
        content: summary.content,
        trainer: summary.trainer,
        relevance: summary.relevance,
        organisation: summary.organisation,
        overall: summary.overall,
        most_useful: summary.most_useful,
        to_improve: summary.to_improve,
    }))
}

/// The language of texts.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FormQuery {
    /// `en`, `bs`, `hr`, `sr-Latn` or `sr-Cyrl`; English when left out.
    pub lang: Option<String>,
}

/// A question of the feedback form.
#[derive(Debug, Serialize, ToSchema)]
pub struct FormQuestionDto {
    pub field: String,
    /// A rating 1–5, or a free text.
    pub rating: bool,
    pub text: String,
}

/// The standard feedback form's questions in a language.
#[utoipa::path(get, path = "/api/v1/learning/feedback/form", tag = "learning", params(FormQuery),
    responses((status = 200, body = [FormQuestionDto]), (status = 400, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn feedback_form(
    _auth: Auth,
    query: Result<Query<FormQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<FormQuestionDto>>> {
    let Query(query) = query?;
    let language = match query.lang.as_deref() {
        None => Language::En,
        Some(text) => {
            text.parse().map_err(|error: FieldError| ApiError::bad_request("lang", error.message))?
        }
    };
    Ok(Json(
        FORM.iter()
            .map(|question| FormQuestionDto {
                field: question.field.to_owned(),
                rating: question.rating,
                text: form_text(question, language).to_owned(),
            })
            .collect(),
    ))
}

// Trainers.

/// Whose qualification to show.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TrainerQuery {
    /// A programme's id or code.
    pub programme: String,
}

/// A user's qualification as a trainer of a programme, with what it rests on or lacks.
#[derive(Debug, Serialize, ToSchema)]
pub struct QualificationDto {
    pub user_id: Uuid,
    pub username: String,
    pub display_name: Option<String>,
    pub qualified: bool,
    pub since: Option<String>,
    pub granted: bool,
    pub trainer_course_completed: bool,
    pub co_deliveries: u32,
    pub co_deliveries_required: u32,
    pub sessions_led: u32,
    pub reasons: Vec<String>,
}

async fn qualification_dto(state: &AppState, qualification: Qualification) -> ApiResult<QualificationDto> {
    let user = state.store().get_user(qualification.user_id).await?;
    Ok(QualificationDto {
        user_id: qualification.user_id,
        username: user.as_ref().map(|user| user.username.clone()).unwrap_or_default(),
        display_name: user.and_then(|user| user.display_name),
        qualified: qualification.qualified,
        since: qualification.since.map(rfc3339),
        granted: qualification.granted,
        trainer_course_completed: qualification.trainer_course_completed,
        co_deliveries: qualification.co_deliveries,
        co_deliveries_required: qualification.co_deliveries_required,
        sessions_led: qualification.sessions_led,
        reasons: qualification.reasons,
    })
}

/// Trainer qualification of a programme with reasons: everyone on the way for the operating
/// CERT's staff, the caller's own status for everyone else.
#[utoipa::path(get, path = "/api/v1/learning/trainers", tag = "learning", params(TrainerQuery),
    responses((status = 200, body = [QualificationDto]), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn trainers(
    State(state): State<AppState>,
    auth: Auth,
    query: Result<Query<TrainerQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<QualificationDto>>> {
    let Query(query) = query?;
    let programme = programme_by_key(&state, &query.programme).await?;
    let all = qualification_status(state.store(), &programme.programme).await?;
    let mut items = Vec::new();
    if is_staff(&auth) {
        for qualification in all.into_values() {
            items.push(qualification_dto(&state, qualification).await?);
        }
    } else {
        let own = qualification_of(&all, &programme.programme, auth.0.user_id);
        items.push(qualification_dto(&state, own).await?);
    }
    Ok(Json(items))
}

/// A trainer qualification granted directly (the first trainers of a programme).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGrant {
    pub programme_id: Uuid,
    pub user_id: Uuid,
    /// Why: recorded with who granted it.
    pub reason: String,
    /// Qualified from this day or time (YYYY-MM-DD or RFC 3339), for trainers who delivered
    /// the programme before it was kept here; now when left out, never in the future.
    pub since: Option<String>,
}

/// A recorded grant.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantDto {
    pub id: Uuid,
    pub programme_id: Uuid,
    pub user_id: Uuid,
    pub granted_by: Uuid,
    pub reason: String,
    pub granted_at: String,
}

/// Grants a trainer qualification (the operating CERT's admins and analysts).
#[utoipa::path(post, path = "/api/v1/learning/trainers/grants", tag = "learning", request_body = NewGrant,
    responses((status = 201, body = GrantDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn grant(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<NewGrant>,
) -> ApiResult<Response> {
    require_writer(&auth)?;
    if !is_staff(&auth) {
        return Err(ApiError::forbidden("trainer qualifications are granted by the operating CERT's staff"));
    }
    let programme = programme(&state, body.programme_id).await?;
    if state.store().get_user(body.user_id).await?.is_none() {
        return Err(ApiError::not_found("user"));
    }
    let now = OffsetDateTime::now_utc();
    let granted_at = match &body.since {
        None => now,
        Some(text) => parse_time("since", text)?,
    };
    if granted_at > now {
        return Err(ApiError::validation(vec![FieldError::new(
            "since",
            "a qualification is granted from now or earlier",
        )]));
    }
    let grant = TrainerGrant {
        id: Uuid::now_v7(),
        programme_id: programme.programme.id,
        user_id: body.user_id,
        granted_by: auth.0.user_id,
        reason: body.reason,
        granted_at,
    };
    let errors = check_grant(&grant);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let written = state.store().grant_trainer(&auth.actor(), &grant).await?;
    let dto = GrantDto {
        id: written.id,
        programme_id: written.programme_id,
        user_id: written.user_id,
        granted_by: written.granted_by,
        reason: written.reason,
        granted_at: rfc3339(written.granted_at),
    };
    Ok((StatusCode::CREATED, Json(dto)).into_response())
}

// Profiles.

/// Whose profile: the caller's when left out.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ProfileQuery {
    pub user: Option<Uuid>,
}

/// A learner profile.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileBody {
    /// Whose: the caller's when left out; an organisation's admin sets its members'.
    #[serde(default)]
    pub user_id: Option<Uuid>,
    /// `police`, `prosecution`, `judiciary`, `cert`, `public_administration`,
    /// `private_sector`, `academia` or `other`.
    #[schema(value_type = String)]
    pub profession: Profession,
    /// `state`, `entity`, `district`, `cantonal`, `municipal` or `other`.
    #[schema(value_type = String)]
    pub level: AuthorityLevel,
    #[serde(default)]
    pub position: Option<String>,
}

/// The user whose profile the caller may read or write: their own, a member's for an
/// organisation's admin, anyone's for staff; else 404.
async fn profile_user(
    state: &AppState,
    auth: &Auth,
    user: Option<Uuid>,
) -> ApiResult<neretva_model::user::User> {
    let id = user.unwrap_or(auth.0.user_id);
    let found = state.store().get_user(id).await?.ok_or_else(|| ApiError::not_found("user"))?;
    if id == auth.0.user_id || is_staff(auth) || is_admin_of(auth, found.org_id) {
        Ok(found)
    } else {
        Err(ApiError::not_found("user"))
    }
}

/// A learner profile (own; an organisation's admin their members'; staff anyone's); 404 when
/// none was written.
#[utoipa::path(get, path = "/api/v1/learning/profile", tag = "learning", params(ProfileQuery),
    responses((status = 200, body = ProfileBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get_profile(
    State(state): State<AppState>,
    auth: Auth,
    query: Result<Query<ProfileQuery>, QueryRejection>,
) -> ApiResult<Json<ProfileBody>> {
    let Query(query) = query?;
    let user = profile_user(&state, &auth, query.user).await?;
    let profile = state.store().get_profile(user.id).await?.ok_or_else(|| ApiError::not_found("profile"))?;
    Ok(Json(ProfileBody {
        user_id: Some(profile.user_id),
        profession: profile.profession,
        level: profile.level,
        position: profile.position,
    }))
}

/// Writes a learner profile (own; an organisation's admin their members'; staff anyone's).
#[utoipa::path(put, path = "/api/v1/learning/profile", tag = "learning", request_body = ProfileBody,
    responses((status = 200, body = ProfileBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn put_profile(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<ProfileBody>,
) -> ApiResult<Json<ProfileBody>> {
    require_writer(&auth)?;
    let user = profile_user(&state, &auth, body.user_id).await?;
    let profile = Profile {
        user_id: user.id,
        org_id: user.org_id,
        profession: body.profession,
        level: body.level,
        position: body.position.filter(|position| !position.trim().is_empty()),
        updated_at: OffsetDateTime::now_utc(),
    };
    let errors = check_profile(&profile);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let written = state.store().put_profile(&auth.actor(), &profile).await?;
    Ok(Json(ProfileBody {
        user_id: Some(written.user_id),
        profession: written.profession,
        level: written.level,
        position: written.position,
    }))
}

// Statistics.

/// What to count.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StatisticsQuery {
    /// `organisation`, `sector`, `level` or `profession`.
    pub by: String,
    /// `month`, `quarter` (default) or `year`.
    pub interval: Option<String>,
    /// From this day or time (YYYY-MM-DD or RFC 3339).
    pub from: Option<String>,
    /// Before this day or time.
    pub to: Option<String>,
    /// Only this programme (id or code): its sessions and its courses.
    pub programme: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// People trained in one group and period.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatRowDto {
    pub period: String,
    pub group: String,
    pub people: u32,
    pub session_participants: u32,
    pub course_completions: u32,
}

/// People trained (distinct people present at a held session or completing a course) by
/// organisation, NIS2 sector, level of authority or profession, per month, quarter or year (the
/// operating CERT's staff); as CSV with `format=csv` (audited as an export).
#[utoipa::path(get, path = "/api/v1/learning/statistics", tag = "learning", params(StatisticsQuery),
    responses((status = 200, body = [StatRowDto]), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn statistics(
    State(state): State<AppState>,
    auth: Auth,
    query: Result<Query<StatisticsQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(query) = query?;
    if !is_staff(&auth) {
        return Err(ApiError::forbidden("statistics of people trained are for the operating CERT's staff"));
    }
    let by: GroupBy =
        query.by.parse().map_err(|error: FieldError| ApiError::bad_request("by", error.message))?;
    let interval: Interval = match &query.interval {
        None => Interval::Quarter,
        Some(text) => {
            text.parse().map_err(|error: FieldError| ApiError::bad_request("interval", error.message))?
        }
    };
    let from = query.from.as_deref().map(|text| parse_time("from", text)).transpose()?;
    let to = query.to.as_deref().map(|text| parse_time("to", text)).transpose()?;
    let programme = match &query.programme {
        Some(key) => Some(programme_by_key(&state, key).await?),
        None => None,
    };
    let rows = trained_rows(state.store(), programme.as_ref().map(|stored| &stored.programme)).await?;
    let stats = people_trained(&rows, by, interval, from, to);
    match query.format.as_deref() {
        None | Some("json") => Ok(Json(
            stats
                .into_iter()
                .map(|row| StatRowDto {
                    period: row.period,
                    group: row.group,
                    people: row.people,
                    session_participants: row.session_participants,
                    course_completions: row.course_completions,
                })
                .collect::<Vec<_>>(),
        )
        .into_response()),
        Some("csv") => {
            let csv = stats_csv(&stats);
            state
                .store()
                .append_audit(&AuditEvent {
                    actor: auth.actor().0,
                    action: "learning.statistics.export".into(),
                    object_type: "learning_statistics".into(),
                    object_id: format!("by {by} per {interval}"),
                    digest: digest_hex(csv.as_bytes()),
                })
                .await?;
            Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response())
        }
        Some(other) => Err(ApiError::bad_request("format", format!("{other:?}: the format is json or csv"))),
    }
}
