//! Tabletop exercises under `/api/v1/learning`: scenarios, exercise runs, injects, responses,
//! the facilitators' live timeline, their assessment and the after-action report.
//!
//! Reading: an exercise is `TLP:RED` to the people named in it (its creator, its facilitators
//! and its participants), decided by `may_see`; anyone else gets 404. Within that audience a
//! participant sees only the injects delivered to their role and their own responses, never the
//! facilitators' notes or an inject not yet delivered; the timeline, the assessment and the
//! report are the facilitators'. Scenarios (which hold every inject and the notes) are read by
//! the operating CERT's staff and by the facilitators of an exercise of the scenario.
//!
//! Writing: scenarios are imported and exercises created by the operating CERT's admins and
//! analysts; facilitators start, pause, resume and end an exercise, release or skip injects and
//! assess it; participants respond. Every change is written with its audit entry in one
//! transaction; reports are audited as exports.

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use neretva_learning::course::{Texts, text_in};
use neretva_learning::exercise::report;
use neretva_learning::exercise::run::{
    self, Exercise, InjectStatus, ObjectiveAssessment, Participant, Rating, Refusal, State as RunState,
};
use neretva_learning::exercise::scenario::{self, Scenario, format_offset};
use neretva_learning::markdown;
use neretva_learning::package::{Limits, PackageError};
use neretva_model::access::{Visibility, may_see, may_write};
use neretva_model::audit::{AuditEvent, digest_hex};
use neretva_model::contact::Language;
use neretva_model::tlp::Tlp;
use neretva_model::{FieldError, Timestamp, Uuid};
use neretva_store::exercises::{StoredExercise, StoredScenario};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::learning::{PackageDto, package_rejected, read_package};
use crate::api::{parse_id, rfc3339};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{ApiJson, Auth};

/// The routes, merged under `/api/v1`.
pub(crate) fn router(import_limit: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/learning/scenarios",
            get(list_scenarios).post(import_scenario).layer(DefaultBodyLimit::max(import_limit)),
        )
        .route("/learning/scenarios/{id}", get(get_scenario))
        .route("/learning/exercises", get(list_exercises).post(create_exercise))
        .route("/learning/exercises/{id}", get(get_exercise))
        .route("/learning/exercises/{id}/start", post(start))
        .route("/learning/exercises/{id}/pause", post(pause))
        .route("/learning/exercises/{id}/resume", post(resume))
        .route("/learning/exercises/{id}/end", post(end))
        .route("/learning/exercises/{id}/injects/{inject}/release", post(release))
        .route("/learning/exercises/{id}/injects/{inject}/skip", post(skip))
        .route("/learning/exercises/{id}/injects/{inject}/responses", post(respond))
        .route("/learning/exercises/{id}/timeline", get(timeline))
        .route("/learning/exercises/{id}/assessment", put(assess))
        .route("/learning/exercises/{id}/report", get(report))
}

// Access.

/// Where the caller sits in an exercise.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seat {
    Facilitator,
    Participant(String),
}

/// The caller's seat, when the exercise is visible to them: `TLP:RED` to the people it names.
fn seat(auth: &Auth, run: &Exercise) -> Option<Seat> {
    let mut people = vec![run.created_by];
    people.extend(&run.facilitators);
    people.extend(run.participants.iter().map(|participant| participant.user_id));
    let visibility = Visibility { recipient_users: &people, ..Visibility::owned(run.org_id, &[], Tlp::Red) };
    if !may_see(&auth.principal(), &visibility) {
        return None;
    }
    if run.is_facilitator(auth.0.user_id) {
        Some(Seat::Facilitator)
    } else {
        run.role_of(auth.0.user_id).map(|role| Seat::Participant(role.to_owned()))
    }
}

fn require_writer(auth: &Auth) -> ApiResult<()> {
    if may_write(&auth.principal()) {
        Ok(())
    } else {
        Err(ApiError::forbidden("this credential may not change anything"))
    }
}

/// Scenario imports and new exercises: the operating CERT's admins and analysts.
fn require_organiser(auth: &Auth) -> ApiResult<()> {
    if auth.0.is_operator_staff() && may_write(&auth.principal()) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only the operating CERT's admins and analysts import scenarios and create exercises",
        ))
    }
}

fn require_facilitator(auth: &Auth, seat: &Seat) -> ApiResult<()> {
    require_writer(auth)?;
    match seat {
        Seat::Facilitator => Ok(()),
        Seat::Participant(_) => Err(ApiError::forbidden("only the exercise's facilitators do this")),
    }
}

/// An exercise the caller may see, with its scenario and the caller's seat; else 404.
async fn visible(
    state: &AppState,
    auth: &Auth,
    id: &str,
) -> ApiResult<(StoredExercise, StoredScenario, Seat)> {
    let id = parse_id("id", id)?;
    let stored = state.store().get_exercise(id).await?.ok_or_else(|| ApiError::not_found("exercise"))?;
    let seat = seat(auth, &stored.exercise).ok_or_else(|| ApiError::not_found("exercise"))?;
    let scenario = state
        .store()
        .get_scenario(stored.exercise.scenario_id)
        .await?
        .ok_or_else(|| ApiError::not_found("exercise"))?;
    Ok((stored, scenario, seat))
}

/// Whether the caller may read a scenario: the CERT's staff, or a facilitator of an exercise of
/// it.
fn may_read_scenario(auth: &Auth, scenario: Uuid, exercises: &[StoredExercise]) -> bool {
    auth.0.is_operator_staff()
        || exercises.iter().any(|stored| {
            stored.exercise.scenario_id == scenario && seat(auth, &stored.exercise) == Some(Seat::Facilitator)
        })
}

fn refusal(error: Refusal) -> ApiError {
    ApiError::new(ErrorCode::Conflict, error.to_string()).with_field(error.field())
}

/// The language asked for, else the caller's own, else the scenario's default; a language the
/// scenario lacks shows its default texts.
fn language(auth_language: Option<Language>, lang: Option<&str>) -> ApiResult<Option<Language>> {
    match lang {
        None => Ok(auth_language),
        Some(text) => {
            let language: Language =
                text.parse().map_err(|error: FieldError| ApiError::bad_request("lang", error.message))?;
            Ok(Some(language))
        }
    }
}

async fn caller_language(state: &AppState, auth: &Auth, lang: Option<&str>) -> ApiResult<Option<Language>> {
    let own = state.store().get_user(auth.0.user_id).await?.and_then(|user| user.language);
    language(own, lang)
}

fn scenario_errors(errors: Vec<PackageError>) -> ApiError {
    package_rejected("scenario", errors)
}

fn now() -> Timestamp {
    OffsetDateTime::now_utc()
}

/// The names participants and facilitators are shown by.
async fn names(state: &AppState, run: &Exercise) -> ApiResult<BTreeMap<Uuid, String>> {
    let mut names = BTreeMap::new();
    let people = std::iter::once(run.created_by)
        .chain(run.facilitators.iter().copied())
        .chain(run.participants.iter().map(|p| p.user_id));
    for id in people {
        if let Some(user) = state.store().get_user(id).await? {
            names.insert(id, user.display_name.unwrap_or(user.username));
        }
    }
    Ok(names)
}

// Wire types.

/// The language of texts (`en`, `bs`, `hr`, `sr-Latn`, `sr-Cyrl`); the caller's own language,
/// else the scenario's first, when left out.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExerciseLangQuery {
    pub lang: Option<String>,
}

/// A scenario version in a listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScenarioSummary {
    pub id: Uuid,
    pub code: String,
    pub version: u32,
    pub title: String,
    pub languages: Vec<String>,
    pub roles: Vec<String>,
    pub injects: usize,
    pub imported_at: String,
}

fn scenario_summary(stored: &StoredScenario, language: Option<Language>) -> ScenarioSummary {
    let scenario = &stored.scenario;
    let fallback = scenario.default_language();
    ScenarioSummary {
        id: stored.id,
        code: scenario.code.clone(),
        version: scenario.version,
        title: text_in(&scenario.title, language.unwrap_or(fallback), fallback).to_owned(),
        languages: scenario.languages.iter().map(|language| language.tag().to_owned()).collect(),
        roles: scenario.roles.iter().map(|role| role.id.clone()).collect(),
        injects: scenario.injects.len(),
        imported_at: rfc3339(stored.imported_at),
    }
}

/// An inject as the facilitators see it in a scenario.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScenarioInjectDto {
    pub id: String,
    /// `+h:mm` or `+h:mm:ss` after the start.
    pub offset: String,
    pub offset_seconds: u32,
    pub title: String,
    /// The body as safe HTML.
    pub html: String,
    /// Role ids; empty means every role.
    pub roles: Vec<String>,
    pub expects_response: bool,
    pub response_prompt: Option<String>,
    pub deadline_minutes: Option<u32>,
    pub notes: Option<String>,
}

/// A role or an objective: its id and text.
#[derive(Debug, Serialize, ToSchema)]
pub struct NamedDto {
    pub id: String,
    pub text: String,
}

/// A scenario in one language, with every inject and the facilitators' notes.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScenarioDto {
    #[serde(flatten)]
    pub summary: ScenarioSummary,
    pub language: String,
    pub description: String,
    pub objectives: Vec<NamedDto>,
    pub role_names: Vec<NamedDto>,
    pub schedule: Vec<ScenarioInjectDto>,
}

/// A person of an exercise: a user (id or username) and, for a participant, the role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewParticipant {
    pub user: String,
    pub role: String,
}

/// A new exercise: a scenario, a name, its facilitators besides the creator, its participants
/// with their roles and when it starts by itself (left out: when a facilitator starts it).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewExercise {
    pub scenario_id: Uuid,
    pub name: String,
    /// RFC 3339.
    pub start: Option<String>,
    /// Users (ids or usernames).
    #[serde(default)]
    pub facilitators: Vec<String>,
    pub participants: Vec<NewParticipant>,
}

/// A participant and the role played.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParticipantDto {
    pub user_id: Uuid,
    pub name: String,
    pub role: String,
}

/// An exercise in a listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExerciseSummary {
    pub id: Uuid,
    pub name: String,
    pub scenario_id: Uuid,
    /// `planned`, `running`, `paused` or `ended`.
    pub state: String,
    pub scheduled_start: Option<String>,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    /// Whether the caller facilitates it.
    pub facilitator: bool,
    /// The caller's role, when they take part.
    pub role: Option<String>,
    pub version: i64,
}

fn exercise_summary(stored: &StoredExercise, seat: &Seat) -> ExerciseSummary {
    let run = &stored.exercise;
    ExerciseSummary {
        id: run.id,
        name: run.name.clone(),
        scenario_id: run.scenario_id,
        state: run.state.as_str().to_owned(),
        scheduled_start: run.scheduled_start.map(rfc3339),
        started_at: run.started_at.map(rfc3339),
        ended_at: run.ended_at.map(rfc3339),
        facilitator: *seat == Seat::Facilitator,
        role: match seat {
            Seat::Participant(role) => Some(role.clone()),
            Seat::Facilitator => None,
        },
        version: stored.version,
    }
}

/// A response to an inject.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResponseDto {
    pub id: Uuid,
    pub inject: String,
    pub user_id: Uuid,
    pub name: String,
    pub role: String,
    pub text: String,
    pub submitted_at: String,
    /// Seconds from the inject's delivery to the response.
    pub seconds_to_respond: i64,
    /// After the inject's deadline: accepted, but flagged.
    pub late: bool,
}

/// A delivered inject as a player sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveredInjectDto {
    pub id: String,
    pub title: String,
    /// The body as safe HTML.
    pub html: String,
    pub delivered_at: String,
    pub expects_response: bool,
    pub response_prompt: Option<String>,
    /// When a response becomes late.
    pub respond_by: Option<String>,
    /// Whether the caller has responded.
    pub responded: bool,
}

/// An exercise as the caller sees it: a participant the injects delivered to their role and
/// their own responses; a facilitator every delivered inject and every response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExerciseDto {
    #[serde(flatten)]
    pub summary: ExerciseSummary,
    pub language: String,
    pub scenario_title: String,
    pub role_name: Option<String>,
    pub participants: Vec<ParticipantDto>,
    pub injects: Vec<DeliveredInjectDto>,
    pub responses: Vec<ResponseDto>,
}

/// A participant's answer to an inject.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewResponse {
    pub text: String,
}

/// The next inject to come.
#[derive(Debug, Serialize, ToSchema)]
pub struct NextInjectDto {
    pub inject: String,
    pub title: String,
    /// When it falls due if the exercise goes on unpaused; none while paused or planned.
    pub due_at: Option<String>,
    /// Exercise time left until it.
    pub seconds_remaining: i64,
}

/// One inject on the facilitators' timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineInjectDto {
    pub id: String,
    pub offset: String,
    pub title: String,
    pub roles: Vec<String>,
    /// `delivered`, `skipped` or `pending`.
    pub status: String,
    pub delivered_at: Option<String>,
    /// The facilitator who released it early.
    pub released_by: Option<Uuid>,
    pub skipped_at: Option<String>,
    pub due_at: Option<String>,
    pub seconds_remaining: Option<i64>,
    pub expects_response: bool,
    pub deadline_minutes: Option<u32>,
    pub notes: Option<String>,
    pub responses: Vec<ResponseDto>,
    /// Participants the inject went to who have not responded (when it asks for a response).
    pub awaiting: Vec<String>,
}

/// The facilitators' live timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineDto {
    #[serde(flatten)]
    pub summary: ExerciseSummary,
    pub now: String,
    /// Exercise time (pauses left out), in seconds.
    pub exercise_seconds: i64,
    pub next: Option<NextInjectDto>,
    pub injects: Vec<TimelineInjectDto>,
}

/// The assessment of one objective: `met`, `partially` or `not_met`, with notes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveAssessmentDto {
    pub rating: String,
    #[serde(default)]
    pub notes: String,
}

/// The facilitators' assessment: objectives by id, observations and lessons learned.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentDto {
    #[serde(default)]
    pub objectives: BTreeMap<String, ObjectiveAssessmentDto>,
    #[serde(default)]
    pub observations: Vec<String>,
}

/// The report's language and format (`md`, `html` or `json`; `json` when left out).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    pub lang: Option<String>,
    pub format: Option<String>,
}

fn response_dto(
    response: &run::Response,
    stored: &StoredExercise,
    names: &BTreeMap<Uuid, String>,
) -> ResponseDto {
    let delivered = stored.deliveries.iter().find(|d| d.inject_id == response.inject_id);
    ResponseDto {
        id: response.id,
        inject: response.inject_id.clone(),
        user_id: response.user_id,
        name: names.get(&response.user_id).cloned().unwrap_or_default(),
        role: response.role.clone(),
        text: response.text.clone(),
        submitted_at: rfc3339(response.submitted_at),
        seconds_to_respond: delivered
            .map_or(0, |delivery| (response.submitted_at - delivery.delivered_at).whole_seconds().max(0)),
        late: response.late,
    }
}

// Scenarios.

/// Imports a scenario package: a zip (`Content-Type: application/zip`) of the folder with
/// `scenario.yaml`, or its files as JSON. A package with any problem is rejected whole (422
/// `import_rejected`, every problem in `details` with its file as `field` and its `line`).
#[utoipa::path(post, path = "/api/v1/learning/scenarios", tag = "learning",
    request_body(content = PackageDto, description = "the package's files as JSON, or a zip (application/zip)"),
    responses((status = 201, body = ScenarioSummary), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn import_scenario(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require_organiser(&auth)?;
    let limits = Limits::default();
    let package = read_package(&headers, &body, &limits, scenario_errors)?;
    let scenario = scenario::parse(&package, &limits).map_err(scenario_errors)?;
    let stored = state.store().import_scenario(&auth.actor(), Uuid::now_v7(), &scenario).await?;
    Ok((StatusCode::CREATED, Json(scenario_summary(&stored, None))).into_response())
}

/// The scenario versions the caller may read (the CERT's staff: all; a facilitator: those of
/// their exercises), by code and version.
#[utoipa::path(get, path = "/api/v1/learning/scenarios", tag = "learning", params(ExerciseLangQuery),
    responses((status = 200, body = [ScenarioSummary])), security(("bearer" = []), ("session" = [])))]
pub async fn list_scenarios(
    State(state): State<AppState>,
    auth: Auth,
    query: Result<Query<ExerciseLangQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<ScenarioSummary>>> {
    let Query(query) = query?;
    let language = caller_language(&state, &auth, query.lang.as_deref()).await?;
    let exercises = state.store().list_exercises().await?;
    let scenarios = state.store().list_scenarios().await?;
    Ok(Json(
        scenarios
            .iter()
            .filter(|stored| may_read_scenario(&auth, stored.id, &exercises))
            .map(|stored| scenario_summary(stored, language))
            .collect(),
    ))
}

/// A scenario in one language with every inject, its schedule and the facilitators' notes.
#[utoipa::path(get, path = "/api/v1/learning/scenarios/{id}", tag = "learning",
    params(("id" = Uuid, Path), ExerciseLangQuery),
    responses((status = 200, body = ScenarioDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get_scenario(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    query: Result<Query<ExerciseLangQuery>, QueryRejection>,
) -> ApiResult<Json<ScenarioDto>> {
    let Query(query) = query?;
    let id = parse_id("id", &id)?;
    let exercises = state.store().list_exercises().await?;
    let stored = state
        .store()
        .get_scenario(id)
        .await?
        .filter(|_| may_read_scenario(&auth, id, &exercises))
        .ok_or_else(|| ApiError::not_found("scenario"))?;
    let language = caller_language(&state, &auth, query.lang.as_deref()).await?;
    let scenario = &stored.scenario;
    let fallback = scenario.default_language();
    let lang = language.unwrap_or(fallback);
    let text = |texts: &Texts| -> String { text_in(texts, lang, fallback).to_owned() };
    let optional = |texts: &Texts| (!texts.is_empty()).then(|| text(texts));
    Ok(Json(ScenarioDto {
        summary: scenario_summary(&stored, language),
        language: lang.tag().to_owned(),
        description: text(&scenario.description),
        objectives: scenario
            .objectives
            .iter()
            .map(|o| NamedDto { id: o.id.clone(), text: text(&o.text) })
            .collect(),
        role_names: scenario
            .roles
            .iter()
            .map(|r| NamedDto { id: r.id.clone(), text: text(&r.name) })
            .collect(),
        schedule: scenario
            .schedule()
            .into_iter()
            .map(|inject| ScenarioInjectDto {
                id: inject.id.clone(),
                offset: format_offset(inject.offset_seconds),
                offset_seconds: inject.offset_seconds,
                title: text(&inject.title),
                html: markdown::render(text_in(&inject.body, lang, fallback), ""),
                roles: inject.roles.clone(),
                expects_response: inject.expects_response,
                response_prompt: optional(&inject.response_prompt),
                deadline_minutes: inject.deadline_minutes,
                notes: optional(&inject.notes),
            })
            .collect(),
    }))
}

// Exercises.

/// A user by id or username.
async fn find_user(state: &AppState, key: &str) -> ApiResult<Option<neretva_model::user::User>> {
    if let Ok(id) = Uuid::try_parse(key) {
        return Ok(state.store().get_user(id).await?);
    }
    Ok(state.store().find_user(key).await?)
}

/// Creates an exercise of a scenario; every problem is reported at once (422), nothing is
/// written then.
#[utoipa::path(post, path = "/api/v1/learning/exercises", tag = "learning", request_body = NewExercise,
    responses((status = 201, body = ExerciseSummary), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create_exercise(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<NewExercise>,
) -> ApiResult<Response> {
    require_organiser(&auth)?;
    let mut errors = Vec::new();
    let scenario = state.store().get_scenario(body.scenario_id).await?;
    if scenario.is_none() {
        errors.push(FieldError::new("scenario_id", format!("no scenario {}", body.scenario_id)));
    }
    let name = body.name.trim().to_owned();
    if let Err(error) = neretva_model::check_text("name", &name, 200) {
        errors.push(error);
    }
    let start = match body
        .start
        .as_deref()
        .map(|text| OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339))
    {
        None => None,
        Some(Ok(at)) => Some(at),
        Some(Err(_)) => {
            errors.push(FieldError::new("start", "must be an RFC 3339 time such as 2026-12-01T09:00:00Z"));
            None
        }
    };
    if body.participants.is_empty() || body.participants.len() > run::MAX_PEOPLE {
        errors.push(FieldError::new("participants", format!("1 to {} participants", run::MAX_PEOPLE)));
    }
    if body.facilitators.len() > run::MAX_PEOPLE {
        errors.push(FieldError::new("facilitators", format!("at most {}", run::MAX_PEOPLE)));
    }
    let mut facilitators = Vec::new();
    for (index, key) in body.facilitators.iter().enumerate() {
        match find_user(&state, key).await? {
            None => {
                errors.push(FieldError::new(format!("facilitators[{index}]"), format!("no user {key:?}")))
            }
            Some(user) if user.id == auth.0.user_id || facilitators.contains(&user.id) => {}
            Some(user) => facilitators.push(user.id),
        }
    }
    let mut participants: Vec<Participant> = Vec::new();
    for (index, entry) in body.participants.iter().take(run::MAX_PEOPLE).enumerate() {
        let field = format!("participants[{index}]");
        if let Some(stored) = &scenario
            && stored.scenario.role(&entry.role).is_none()
        {
            errors.push(FieldError::new(
                format!("{field}.role"),
                format!("{:?} is not a role of the scenario", entry.role),
            ));
        }
        match find_user(&state, &entry.user).await? {
            None => {
                errors.push(FieldError::new(format!("{field}.user"), format!("no user {:?}", entry.user)))
            }
            Some(user) if participants.iter().any(|p| p.user_id == user.id) => errors
                .push(FieldError::new(format!("{field}.user"), format!("{:?} is named twice", entry.user))),
            Some(user) if user.id == auth.0.user_id || facilitators.contains(&user.id) => {
                errors.push(FieldError::new(
                    format!("{field}.user"),
                    "a facilitator does not play a role in the exercise",
                ))
            }
            Some(user) => participants.push(Participant { user_id: user.id, role: entry.role.clone() }),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let at = now();
    let exercise = Exercise {
        id: Uuid::now_v7(),
        scenario_id: body.scenario_id,
        name,
        org_id: auth.0.org_id,
        created_by: auth.0.user_id,
        created_at: at,
        facilitators,
        participants,
        scheduled_start: start,
        state: RunState::Planned,
        started_at: None,
        paused_at: None,
        paused_millis: 0,
        ended_at: None,
        skipped: BTreeMap::new(),
        assessment: Default::default(),
    };
    let stored = state.store().create_exercise(&auth.actor(), &exercise).await?;
    Ok((StatusCode::CREATED, Json(exercise_summary(&stored, &Seat::Facilitator))).into_response())
}

/// The exercises the caller facilitates or takes part in, oldest first.
#[utoipa::path(get, path = "/api/v1/learning/exercises", tag = "learning",
    responses((status = 200, body = [ExerciseSummary])), security(("bearer" = []), ("session" = [])))]
pub async fn list_exercises(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<Vec<ExerciseSummary>>> {
    let exercises = state.store().list_exercises().await?;
    Ok(Json(
        exercises
            .iter()
            .filter_map(|stored| seat(&auth, &stored.exercise).map(|seat| exercise_summary(stored, &seat)))
            .collect(),
    ))
}

/// An exercise as the caller sees it: a participant the injects delivered to their role (never
/// one not yet delivered, never the facilitators' notes) and their own responses.
#[utoipa::path(get, path = "/api/v1/learning/exercises/{id}", tag = "learning",
    params(("id" = Uuid, Path), ExerciseLangQuery),
    responses((status = 200, body = ExerciseDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get_exercise(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    query: Result<Query<ExerciseLangQuery>, QueryRejection>,
) -> ApiResult<Json<ExerciseDto>> {
    let Query(query) = query?;
    let (stored, scenario, seat) = visible(&state, &auth, &id).await?;
    let language = caller_language(&state, &auth, query.lang.as_deref()).await?;
    let scenario = &scenario.scenario;
    let fallback = scenario.default_language();
    let lang = language.unwrap_or(fallback);
    let names = names(&state, &stored.exercise).await?;
    let role = match &seat {
        Seat::Participant(role) => Some(role.as_str()),
        Seat::Facilitator => None,
    };
    let mine = |response: &&run::Response| role.is_none() || response.user_id == auth.0.user_id;
    let injects = stored
        .deliveries
        .iter()
        .filter_map(|delivery| scenario.inject(&delivery.inject_id).map(|inject| (delivery, inject)))
        .filter(|(_, inject)| role.is_none_or(|role| inject.targets(role)))
        .map(|(delivery, inject)| DeliveredInjectDto {
            id: inject.id.clone(),
            title: text_in(&inject.title, lang, fallback).to_owned(),
            html: markdown::render(text_in(&inject.body, lang, fallback), ""),
            delivered_at: rfc3339(delivery.delivered_at),
            expects_response: inject.expects_response,
            response_prompt: inject
                .expects_response
                .then(|| text_in(&inject.response_prompt, lang, fallback).to_owned()),
            respond_by: inject
                .deadline_minutes
                .map(|minutes| rfc3339(delivery.delivered_at + time::Duration::minutes(i64::from(minutes)))),
            responded: stored
                .responses
                .iter()
                .any(|r| r.inject_id == inject.id && r.user_id == auth.0.user_id),
        })
        .collect();
    Ok(Json(ExerciseDto {
        summary: exercise_summary(&stored, &seat),
        language: lang.tag().to_owned(),
        scenario_title: text_in(&scenario.title, lang, fallback).to_owned(),
        role_name: role
            .and_then(|role| scenario.role(role))
            .map(|r| text_in(&r.name, lang, fallback).to_owned()),
        participants: stored
            .exercise
            .participants
            .iter()
            .map(|p| ParticipantDto {
                user_id: p.user_id,
                name: names.get(&p.user_id).cloned().unwrap_or_default(),
                role: p.role.clone(),
            })
            .collect(),
        injects,
        responses: stored.responses.iter().filter(mine).map(|r| response_dto(r, &stored, &names)).collect(),
    }))
}

/// Applies a change of the run by a facilitator and writes it under the version read.
async fn change(
    state: &AppState,
    auth: &Auth,
    id: &str,
    action: &str,
    apply: impl FnOnce(&Scenario, &StoredExercise) -> Result<Exercise, Refusal>,
) -> ApiResult<Json<ExerciseSummary>> {
    let (stored, scenario, seat) = visible(state, auth, id).await?;
    require_facilitator(auth, &seat)?;
    let next = apply(&scenario.scenario, &stored).map_err(refusal)?;
    let written = state.store().update_exercise(&auth.actor(), &next, stored.version, action).await?;
    Ok(Json(exercise_summary(&written, &seat)))
}

/// Starts a planned exercise now (before its scheduled start, or without one).
#[utoipa::path(post, path = "/api/v1/learning/exercises/{id}/start", tag = "learning", params(("id" = Uuid, Path)),
    responses((status = 200, body = ExerciseSummary), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn start(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<ExerciseSummary>> {
    change(&state, &auth, &id, "learning.exercise.start", |_, stored| run::start(&stored.exercise, now()))
        .await
}

/// Pauses a running exercise: exercise time stands still until it resumes.
#[utoipa::path(post, path = "/api/v1/learning/exercises/{id}/pause", tag = "learning", params(("id" = Uuid, Path)),
    responses((status = 200, body = ExerciseSummary), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn pause(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<ExerciseSummary>> {
    change(&state, &auth, &id, "learning.exercise.pause", |_, stored| run::pause(&stored.exercise, now()))
        .await
}

/// Resumes a paused exercise; the injects to come move on by the pause's length.
#[utoipa::path(post, path = "/api/v1/learning/exercises/{id}/resume", tag = "learning", params(("id" = Uuid, Path)),
    responses((status = 200, body = ExerciseSummary), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn resume(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<ExerciseSummary>> {
    change(&state, &auth, &id, "learning.exercise.resume", |_, stored| run::resume(&stored.exercise, now()))
        .await
}

/// Ends a running or paused exercise; injects not delivered stay undelivered.
#[utoipa::path(post, path = "/api/v1/learning/exercises/{id}/end", tag = "learning", params(("id" = Uuid, Path)),
    responses((status = 200, body = ExerciseSummary), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn end(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<ExerciseSummary>> {
    change(&state, &auth, &id, "learning.exercise.end", |_, stored| run::end(&stored.exercise, now())).await
}

/// Skips an inject not yet delivered: it never will be.
#[utoipa::path(post, path = "/api/v1/learning/exercises/{id}/injects/{inject}/skip", tag = "learning",
    params(("id" = Uuid, Path), ("inject" = String, Path)),
    responses((status = 200, body = ExerciseSummary), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn skip(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, inject)): Path<(String, String)>,
) -> ApiResult<Json<ExerciseSummary>> {
    let by = auth.0.user_id;
    change(&state, &auth, &id, "learning.inject.skip", |scenario, stored| {
        run::skip(scenario, &stored.exercise, &stored.deliveries, &inject, by, now())
    })
    .await
}

/// Releases an inject now, before its time: delivered to its roles and e-mailed like the
/// others.
#[utoipa::path(post, path = "/api/v1/learning/exercises/{id}/injects/{inject}/release", tag = "learning",
    params(("id" = Uuid, Path), ("inject" = String, Path)),
    responses((status = 200, body = ExerciseSummary), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn release(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, inject)): Path<(String, String)>,
) -> ApiResult<Json<ExerciseSummary>> {
    let (stored, scenario, seat) = visible(&state, &auth, &id).await?;
    require_facilitator(&auth, &seat)?;
    let at = now();
    let delivery =
        run::release(&scenario.scenario, &stored.exercise, &stored.deliveries, &inject, auth.0.user_id, at)
            .map_err(refusal)?;
    let written = crate::exercises::release(
        state.store(),
        state.notifier(),
        state.config().public_url.as_deref(),
        &auth.actor(),
        &scenario.scenario,
        &stored,
        delivery,
        at,
    )
    .await?;
    Ok(Json(exercise_summary(&written, &seat)))
}

/// A participant's response to a delivered inject that asks for one; a late one is accepted
/// and flagged; a second response is refused with 409 on `response`.
#[utoipa::path(post, path = "/api/v1/learning/exercises/{id}/injects/{inject}/responses", tag = "learning",
    params(("id" = Uuid, Path), ("inject" = String, Path)), request_body = NewResponse,
    responses((status = 201, body = ResponseDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn respond(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, inject)): Path<(String, String)>,
    ApiJson(body): ApiJson<NewResponse>,
) -> ApiResult<Response> {
    let (stored, scenario, seat) = visible(&state, &auth, &id).await?;
    require_writer(&auth)?;
    if seat == Seat::Facilitator {
        return Err(ApiError::forbidden("facilitators do not respond to injects"));
    }
    let scenario = &scenario.scenario;
    // A participant learns nothing of injects not delivered to their role.
    let delivered_to_me = stored.deliveries.iter().any(|d| d.inject_id == inject)
        && matches!((&seat, scenario.inject(&inject)), (Seat::Participant(role), Some(found)) if found.targets(role));
    if !delivered_to_me {
        return Err(ApiError::not_found("inject"));
    }
    let text = run::check_response_text(&body.text)?;
    let response = run::respond(
        scenario,
        &stored.exercise,
        &stored.deliveries,
        &inject,
        auth.0.user_id,
        text,
        Uuid::now_v7(),
        now(),
    )
    .map_err(refusal)?;
    let recorded = state.store().record_exercise_response(&auth.actor(), &response).await?;
    let names = names(&state, &stored.exercise).await?;
    Ok((StatusCode::CREATED, Json(response_dto(&recorded, &stored, &names))).into_response())
}

/// The facilitators' live timeline: every inject with where it is (delivered, skipped, or
/// pending with the time left), its responses (late ones flagged) and who has not answered yet.
#[utoipa::path(get, path = "/api/v1/learning/exercises/{id}/timeline", tag = "learning",
    params(("id" = Uuid, Path), ExerciseLangQuery),
    responses((status = 200, body = TimelineDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn timeline(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    query: Result<Query<ExerciseLangQuery>, QueryRejection>,
) -> ApiResult<Json<TimelineDto>> {
    let Query(query) = query?;
    let (stored, scenario, seat) = visible(&state, &auth, &id).await?;
    if seat != Seat::Facilitator {
        return Err(ApiError::forbidden("the timeline is the facilitators'"));
    }
    let language = caller_language(&state, &auth, query.lang.as_deref()).await?;
    Ok(Json(timeline_dto(
        &stored,
        &scenario.scenario,
        &names(&state, &stored.exercise).await?,
        language,
        now(),
    )))
}

/// The timeline as the API and the command line show it.
pub fn timeline_dto(
    stored: &StoredExercise,
    scenario: &Scenario,
    names: &BTreeMap<Uuid, String>,
    language: Option<Language>,
    at: Timestamp,
) -> TimelineDto {
    let run = &stored.exercise;
    let fallback = scenario.default_language();
    let lang = language.unwrap_or(fallback);
    let text = |texts: &Texts| -> String { text_in(texts, lang, fallback).to_owned() };
    let entries = run::timeline(scenario, run, &stored.deliveries, &stored.responses, at);
    let injects = entries
        .iter()
        .map(|entry| {
            let inject = entry.inject;
            let (status, delivered_at, released_by, skipped_at, due_at, remaining) = match &entry.status {
                InjectStatus::Delivered(d) => {
                    ("delivered", Some(d.delivered_at), d.released_by, None, None, None)
                }
                InjectStatus::Skipped(s) => ("skipped", None, None, Some(s.at), None, None),
                InjectStatus::Pending { due_at, remaining } => {
                    ("pending", None, None, None, *due_at, Some(remaining.whole_seconds()))
                }
            };
            let answered: BTreeSet<Uuid> = entry.responses.iter().map(|r| r.user_id).collect();
            let awaiting = if inject.expects_response && delivered_at.is_some() {
                run.participants
                    .iter()
                    .filter(|p| inject.targets(&p.role) && !answered.contains(&p.user_id))
                    .map(|p| names.get(&p.user_id).cloned().unwrap_or_else(|| p.user_id.to_string()))
                    .collect()
            } else {
                Vec::new()
            };
            TimelineInjectDto {
                id: inject.id.clone(),
                offset: format_offset(inject.offset_seconds),
                title: text(&inject.title),
                roles: inject.roles.clone(),
                status: status.to_owned(),
                delivered_at: delivered_at.map(rfc3339),
                released_by,
                skipped_at: skipped_at.map(rfc3339),
                due_at: due_at.map(rfc3339),
                seconds_remaining: remaining,
                expects_response: inject.expects_response,
                deadline_minutes: inject.deadline_minutes,
                notes: (!inject.notes.is_empty()).then(|| text(&inject.notes)),
                responses: entry.responses.iter().map(|r| response_dto(r, stored, names)).collect(),
                awaiting,
            }
        })
        .collect();
    let next =
        run::next_inject(scenario, run, &stored.deliveries, at).map(|(inject, remaining)| NextInjectDto {
            inject: inject.id.clone(),
            title: text(&inject.title),
            due_at: match run.state {
                RunState::Running => run.due_at(inject.offset_seconds).map(rfc3339),
                _ => None,
            },
            seconds_remaining: remaining.whole_seconds(),
        });
    TimelineDto {
        summary: exercise_summary(stored, &Seat::Facilitator),
        now: rfc3339(at),
        exercise_seconds: run.elapsed(at).whole_seconds(),
        next,
        injects,
    }
}

/// Records the facilitators' assessment: each objective `met`, `partially` or `not_met` with
/// notes, and the observations (lessons learned); it replaces the previous one.
#[utoipa::path(put, path = "/api/v1/learning/exercises/{id}/assessment", tag = "learning",
    params(("id" = Uuid, Path)), request_body = AssessmentDto,
    responses((status = 200, body = ExerciseSummary), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn assess(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AssessmentDto>,
) -> ApiResult<Json<ExerciseSummary>> {
    let mut errors = Vec::new();
    let mut objectives = BTreeMap::new();
    for (objective, assessed) in body.objectives {
        let field = format!("objectives.{objective}");
        let Some(rating) = Rating::parse(&assessed.rating) else {
            errors.push(FieldError::new(format!("{field}.rating"), "must be met, partially or not_met"));
            continue;
        };
        let notes = assessed.notes.trim().to_owned();
        if let Err(error) =
            neretva_model::check_optional_text(&format!("{field}.notes"), &notes, run::MAX_NOTE_CHARS)
        {
            errors.push(error);
        }
        objectives.insert(objective, ObjectiveAssessment { rating, notes });
    }
    if body.observations.len() > run::MAX_OBSERVATIONS {
        errors.push(FieldError::new("observations", format!("at most {}", run::MAX_OBSERVATIONS)));
    }
    let mut observations = Vec::new();
    for (index, observation) in body.observations.iter().enumerate() {
        let observation = observation.trim();
        match neretva_model::check_text(&format!("observations[{index}]"), observation, run::MAX_NOTE_CHARS) {
            Ok(()) => observations.push(observation.to_owned()),
            Err(error) => errors.push(error),
        }
    }
    let (stored, _, seat) = visible(&state, &auth, &id).await?;
    require_facilitator(&auth, &seat)?;
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let by = auth.0.user_id;
    change(&state, &auth, &stored.exercise.id.to_string(), "learning.exercise.assess", |scenario, stored| {
        run::assess(scenario, &stored.exercise, objectives, observations, by, now())
    })
    .await
}

/// The after-action report in one language: JSON (by default), Markdown (`format=md`) or HTML
/// (`format=html`); audited as an export.
#[utoipa::path(get, path = "/api/v1/learning/exercises/{id}/report", tag = "learning",
    params(("id" = Uuid, Path), ReportQuery),
    responses((status = 200, description = "the report as JSON, text/markdown or text/html"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn report(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(query) = query?;
    let (stored, scenario, seat) = visible(&state, &auth, &id).await?;
    if seat != Seat::Facilitator {
        return Err(ApiError::forbidden("the after-action report is the facilitators'"));
    }
    let language = caller_language(&state, &auth, query.lang.as_deref()).await?;
    let language = language.unwrap_or(scenario.scenario.default_language());
    let names = names(&state, &stored.exercise).await?;
    let built = report::build(
        &scenario.scenario,
        &stored.exercise,
        &stored.deliveries,
        &stored.responses,
        &names,
        language,
    );
    let (body, media) = match query.format.as_deref().unwrap_or("json") {
        "json" => (serde_json::to_string_pretty(&built).unwrap_or_default(), "application/json"),
        "md" | "markdown" => (report::render_markdown(&built), "text/markdown; charset=utf-8"),
        "html" => (report::render_html(&built), "text/html; charset=utf-8"),
        other => {
            return Err(ApiError::bad_request(
                "format",
                format!("unknown format {other:?} (md, html or json)"),
            ));
        }
    };
    state
        .store()
        .append_audit(&AuditEvent {
            actor: auth.actor().0,
            action: "learning.exercise.report".into(),
            object_type: "exercise".into(),
            object_id: stored.exercise.id.to_string(),
            digest: digest_hex(body.as_bytes()),
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, media)], body).into_response())
}
