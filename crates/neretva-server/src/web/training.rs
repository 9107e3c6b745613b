//! Training sessions and tabletop exercises in the web interface.
//!
//! Train-the-trainer (`/training/…`): programmes with their curriculum, sessions with
//! self-registration, attendance recorded by the session's trainers, the standard feedback form
//! and its aggregate, the learner profile, trainer qualification with its reasons and the
//! statistics of people trained. Tabletop exercises (`/exercises/…`): the list (with a form
//! creating one for the CERT's staff), the participant's page with the injects delivered so far
//! and a response form per inject, and the facilitators' page with the live timeline, the run's
//! controls, releasing and skipping injects, the assessment and the after-action report.
//!
//! Every page calls the API's handlers (`api::training`, `api::exercises`) with the signed-in
//! user as the caller: access (404 for a session or an exercise the user may not see, 403 for a
//! facilitator's page to a participant), validation, refusals and the audit log are the API's.

use std::collections::BTreeMap;

use axum::Json;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use neretva_learning::course::Texts;
use neretva_learning::training::{AuthorityLevel, FORM, Mode, Profession, form_text};
use neretva_model::Uuid;
use neretva_model::access::may_write;
use neretva_model::contact::Language;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json_;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::AppState;
use crate::api::exercises::{
    self as exercises_api, AssessmentDto, ExerciseLangQuery, NewExercise, NewParticipant, NewResponse,
    ObjectiveAssessmentDto, ReportQuery,
};
use crate::api::training::{
    self as training_api, AttendanceBody, AttendanceMark, FeedbackBody, NewRegistration, ProfileBody,
    ProfileQuery, SessionFilter, StatisticsQuery, TrainerQuery,
};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::web::constituency::{api_failure, data, given, is_input_problem, problems};
use crate::web::{Confirm, WebForm, WebUser, button, encode_query_value, short_time, t};

/// The largest API answer a page reads back (a created exercise, a report as JSON).
const MAX_ANSWER: usize = 16 * 1024 * 1024;
/// The longest text taken from a filter field.
const MAX_FILTER: usize = 200;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/training", get(programmes))
        .route("/training/programmes/{id}", get(programme))
        .route("/training/sessions", get(sessions))
        .route("/training/sessions/{id}", get(session))
        .route("/training/sessions/{id}/register", post(register))
        .route("/training/sessions/{id}/attendance", post(attendance))
        .route("/training/sessions/{id}/feedback", post(feedback))
        .route("/training/profile", get(profile).post(save_profile))
        .route("/training/trainers", get(trainers))
        .route("/training/statistics", get(statistics))
        .route("/exercises", get(exercises).post(create_exercise))
        .route("/exercises/{id}", get(exercise))
        .route("/exercises/{id}/facilitate", get(facilitate))
        .route("/exercises/{id}/start", button(Control::Start, control))
        .route("/exercises/{id}/pause", button(Control::Pause, control))
        .route("/exercises/{id}/resume", button(Control::Resume, control))
        .route("/exercises/{id}/end", button(Control::End, control))
        .route("/exercises/{id}/assessment", post(assess))
        .route("/exercises/{id}/report", get(report))
        .route("/exercises/{id}/injects/{inject}/respond", post(respond))
        .route("/exercises/{id}/injects/{inject}/release", post(release))
        .route("/exercises/{id}/injects/{inject}/skip", post(skip))
}

// Helpers.

/// A text in the user's language, else in the first language it has.
fn pick(texts: &Texts, language: Language) -> String {
    texts
        .get(&language)
        .or_else(|| texts.get(&Language::En))
        .or_else(|| texts.values().next())
        .cloned()
        .unwrap_or_default()
}

/// `h:mm:ss` of a number of seconds (negative shown as zero).
fn span(seconds: i64) -> String {
    let seconds = seconds.max(0);
    format!("{}:{:02}:{:02}", seconds / 3600, seconds % 3600 / 60, seconds % 60)
}

fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// Makes an API answer readable for a page: RFC 3339 times (`…_at`, `respond_by`, `now`)
/// become `2026-11-29 09:24 UTC`, and every `…seconds…` count gets a `…_text` sibling as
/// `h:mm:ss`.
fn readable(value: &mut Json_) {
    match value {
        Json_::Object(map) => {
            let mut spans = Vec::new();
            for (key, item) in map.iter_mut() {
                let is_time = key.ends_with("_at") || key == "respond_by" || key == "now";
                match item {
                    Json_::String(text) if is_time => {
                        if let Some(at) = parse_time(text) {
                            *text = short_time(at);
                        }
                    }
                    Json_::Number(number) if key.contains("seconds") => {
                        if let Some(seconds) = number.as_i64() {
                            spans.push((format!("{key}_text"), span(seconds)));
                        }
                    }
                    _ => readable(item),
                }
            }
            for (key, text) in spans {
                map.insert(key, Json_::String(text));
            }
        }
        Json_::Array(items) => items.iter_mut().for_each(readable),
        _ => {}
    }
}

/// A value for a template from an API answer, made readable.
fn view<T: Serialize>(value: &T) -> minijinja::Value {
    let mut json = serde_json::to_value(value).unwrap_or(Json_::Null);
    readable(&mut json);
    data(&json)
}

/// The body of an API answer as JSON.
async fn answer_json(response: Response) -> Option<Json_> {
    let bytes = axum::body::to_bytes(response.into_body(), MAX_ANSWER).await.ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn lang_query(web: &WebUser) -> Result<Query<ExerciseLangQuery>, QueryRejection> {
    Ok(Query(ExerciseLangQuery { lang: Some(web.language.tag().to_owned()) }))
}

/// A refused form shown again: its problems and the status of the refusal.
fn refusal_status(error: &ApiError) -> StatusCode {
    error.code.describe().1
}

// Programmes.

#[derive(Debug, Serialize)]
struct ProgrammeRow {
    id: Uuid,
    code: String,
    title: String,
    description: String,
    items: usize,
    total_hours: f64,
    trainer_course: String,
}

async fn programmes(State(state): State<AppState>, web: WebUser) -> Response {
    let list = match training_api::list_programmes(State(state), web.auth()).await {
        Ok(Json(list)) => list,
        Err(error) => return api_failure(&web, error),
    };
    let rows: Vec<ProgrammeRow> = list
        .iter()
        .map(|programme| ProgrammeRow {
            id: programme.id,
            code: programme.code.clone(),
            title: pick(&programme.title, web.language),
            description: pick(&programme.description, web.language),
            items: programme.curriculum.len(),
            total_hours: programme.total_hours,
            trainer_course: programme.trainer_course.clone(),
        })
        .collect();
    let context = context! {
        section => "programmes",
        staff => web.user.is_operator_staff(),
        programmes => data(&rows),
    };
    web.render("web/training/programmes.html", context)
}

#[derive(Debug, Serialize)]
struct ItemRow {
    number: usize,
    course: Option<String>,
    topic: String,
    hours: f64,
}

async fn programme(State(state): State<AppState>, web: WebUser, Path(id): Path<String>) -> Response {
    let found = match training_api::get_programme(State(state.clone()), web.auth(), Path(id)).await {
        Ok(Json(found)) => found,
        Err(error) => return api_failure(&web, error),
    };
    let filter = SessionFilter { programme: Some(found.id.to_string()), from: None, to: None };
    let sessions = match training_api::list_sessions(State(state), web.auth(), Ok(Query(filter))).await {
        Ok(Json(sessions)) => sessions,
        Err(error) => return api_failure(&web, error),
    };
    let items: Vec<ItemRow> = found
        .curriculum
        .iter()
        .enumerate()
        .map(|(index, item)| ItemRow {
            number: index + 1,
            course: item.course.clone(),
            topic: pick(&item.topic, web.language),
            hours: item.hours,
        })
        .collect();
    let context = context! {
        section => "programmes",
        staff => web.user.is_operator_staff(),
        programme => view(&found),
        title => pick(&found.title, web.language),
        description => pick(&found.description, web.language),
        items => data(&items),
        professions => found.professions.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        levels => found.levels.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
        sessions => view(&sessions),
    };
    web.render("web/training/programme.html", context)
}

// Sessions.

async fn sessions(State(state): State<AppState>, web: WebUser) -> Response {
    let filter = SessionFilter::default();
    let sessions = match training_api::list_sessions(State(state), web.auth(), Ok(Query(filter))).await {
        Ok(Json(sessions)) => sessions,
        Err(error) => return api_failure(&web, error),
    };
    let context = context! {
        section => "sessions",
        staff => web.user.is_operator_staff(),
        sessions => view(&sessions),
    };
    web.render("web/training/sessions.html", context)
}

#[derive(Debug, Default, Deserialize)]
struct SessionQuery {
    feedback: Option<String>,
}

async fn session(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    query: Result<Query<SessionQuery>, QueryRejection>,
) -> Response {
    let sent = query.is_ok_and(|Query(query)| query.feedback.as_deref() == Some("sent"));
    session_page(&state, &web, &id, Vec::new(), StatusCode::OK, sent).await
}

/// A session's page; `problems` of a refused form are shown at the top with `status`.
async fn session_page(
    state: &AppState,
    web: &WebUser,
    id: &str,
    problems: Vec<String>,
    status: StatusCode,
    sent: bool,
) -> Response {
    let found = match training_api::get_session(State(state.clone()), web.auth(), Path(id.to_owned())).await {
        Ok(Json(found)) => found,
        Err(error) => return api_failure(web, error),
    };
    let me = web.user.user_id;
    let trainer = found.lead_trainer == me || found.co_trainers.contains(&me);
    let staff = web.user.is_operator_staff();
    let writer = may_write(&web.principal());
    let own = found.participants.as_ref().and_then(|list| list.iter().find(|p| p.user_id == me));
    let attended = own.and_then(|p| p.attendance.as_deref()).is_some_and(|status| status != "absent");
    let summary = if trainer || staff || web.user.role == neretva_model::user::Role::Admin {
        match training_api::feedback_summary(State(state.clone()), web.auth(), Path(id.to_owned())).await {
            Ok(Json(summary)) => Some(summary),
            Err(error) if error.code == crate::error::ErrorCode::Forbidden => None,
            Err(error) => return api_failure(web, error),
        }
    } else {
        None
    };
    let mut trainers = Vec::new();
    for user_id in std::iter::once(found.lead_trainer).chain(found.co_trainers.iter().copied()) {
        match state.store().get_user(user_id).await {
            Ok(Some(user)) => trainers.push(user.display_name.unwrap_or(user.username)),
            Ok(None) => trainers.push(user_id.to_string()),
            Err(error) => return web.internal(&error),
        }
    }
    let (place, link) = match &found.mode {
        Mode::InPerson { location } => (location.clone(), None),
        Mode::Online { url } => {
            let safe = url.starts_with("https://") || url.starts_with("http://");
            (url.clone(), safe.then(|| url.clone()))
        }
    };
    let questions: Vec<minijinja::Value> = FORM
        .iter()
        .map(|question| {
            context! { field => question.field, rating => question.rating, text => form_text(question, web.language) }
        })
        .collect();
    let context = context! {
        section => "sessions",
        staff => staff,
        session => view(&found),
        trainers => trainers,
        place => place,
        link => link,
        may_register => writer && !found.you_are_registered && found.status == "planned" && !trainer,
        may_record => writer && (trainer || staff) && found.status != "cancelled",
        may_give_feedback => writer && attended,
        summary => summary.as_ref().map(view),
        questions => questions,
        problems => problems,
        sent => sent,
    };
    (status, web.render("web/training/session.html", context)).into_response()
}

async fn register(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, .. }: WebForm<Confirm>,
) -> Response {
    let body = NewRegistration { user_id: None };
    match training_api::register(State(state.clone()), web.auth(), Path(id.clone()), ApiJson(body)).await {
        Ok(_) => Redirect::to(&session_link(&id)).into_response(),
        Err(error) if is_input_problem(&error) => {
            let status = refusal_status(&error);
            session_page(&state, &web, &id, problems(&error), status, false).await
        }
        Err(error) => api_failure(&web, error),
    }
}

/// The session page's address (the id was accepted by the API, so it is a UUID).
fn session_link(id: &str) -> String {
    Uuid::try_parse(id)
        .map_or_else(|_| "/training/sessions".to_owned(), |id| format!("/training/sessions/{id}"))
}

/// Attendance marks: `status.<user id>` (`present`, `absent`, `partial` or empty for no
/// change) and `minutes.<user id>` for a partial one.
async fn attendance(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, form }: WebForm<Vec<(String, String)>>,
) -> Response {
    let mut statuses = BTreeMap::new();
    let mut minutes = BTreeMap::new();
    for (name, value) in &form {
        if let Some(user) = name.strip_prefix("status.") {
            statuses.insert(user.to_owned(), value.trim().to_owned());
        } else if let Some(user) = name.strip_prefix("minutes.") {
            minutes.insert(user.to_owned(), value.trim().to_owned());
        }
    }
    let mut marks = Vec::new();
    let mut errors = Vec::new();
    for (user, status) in statuses.iter().filter(|(_, status)| !status.is_empty()) {
        let Ok(user_id) = Uuid::try_parse(user) else {
            errors.push(format!("status.{user}: not a user id"));
            continue;
        };
        let given_minutes = minutes.get(user).map(String::as_str).unwrap_or("");
        let minutes = if status == "partial" {
            match given_minutes.parse::<u32>() {
                Ok(minutes) => Some(minutes),
                Err(_) => {
                    errors.push(format!(
                        "minutes.{user}: {}",
                        t(web.language, "training.session.minutes_needed")
                    ));
                    continue;
                }
            }
        } else {
            None
        };
        marks.push(AttendanceMark { user_id, status: status.clone(), minutes });
    }
    if marks.is_empty() && errors.is_empty() {
        errors.push(format!("attendance: {}", t(web.language, "training.session.nothing_marked")));
    }
    if !errors.is_empty() {
        return session_page(&state, &web, &id, errors, StatusCode::UNPROCESSABLE_ENTITY, false).await;
    }
    let body = AttendanceBody { attendance: marks };
    match training_api::attendance(State(state.clone()), web.auth(), Path(id.clone()), ApiJson(body)).await {
        Ok(_) => Redirect::to(&session_link(&id)).into_response(),
        Err(error) if is_input_problem(&error) => {
            let status = refusal_status(&error);
            session_page(&state, &web, &id, problems(&error), status, false).await
        }
        Err(error) => api_failure(&web, error),
    }
}

#[derive(Debug, Deserialize)]
struct FeedbackForm {
    #[serde(default)]
    content: String,
    #[serde(default)]
    trainer: String,
    #[serde(default)]
    relevance: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    most_useful: String,
    #[serde(default)]
    to_improve: String,
}

async fn feedback(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, form }: WebForm<FeedbackForm>,
) -> Response {
    let mut errors = Vec::new();
    let mut rating = |field: &str, text: &str| match text.trim().parse::<u8>() {
        Ok(value) => value,
        Err(_) => {
            errors.push(format!("{field}: {}", t(web.language, "training.feedback.rating_needed")));
            0
        }
    };
    let body = FeedbackBody {
        content: rating("content", &form.content),
        trainer: rating("trainer", &form.trainer),
        relevance: rating("relevance", &form.relevance),
        organisation: rating("organisation", &form.organisation),
        most_useful: form.most_useful.trim().to_owned(),
        to_improve: form.to_improve.trim().to_owned(),
    };
    if !errors.is_empty() {
        return session_page(&state, &web, &id, errors, StatusCode::UNPROCESSABLE_ENTITY, false).await;
    }
    match training_api::submit_feedback(State(state.clone()), web.auth(), Path(id.clone()), ApiJson(body))
        .await
    {
        Ok(_) => Redirect::to(&format!("{}?feedback=sent", session_link(&id))).into_response(),
        Err(error) if is_input_problem(&error) => {
            let status = refusal_status(&error);
            session_page(&state, &web, &id, problems(&error), status, false).await
        }
        Err(error) => api_failure(&web, error),
    }
}

// The learner profile.

#[derive(Debug, Default, Deserialize, Serialize)]
struct ProfileForm {
    #[serde(default)]
    profession: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    position: String,
}

async fn profile(State(state): State<AppState>, web: WebUser) -> Response {
    let query = ProfileQuery { user: None };
    let form = match training_api::get_profile(State(state), web.auth(), Ok(Query(query))).await {
        Ok(Json(found)) => ProfileForm {
            profession: found.profession.as_str().to_owned(),
            level: found.level.as_str().to_owned(),
            position: found.position.unwrap_or_default(),
        },
        Err(error) if error.code == crate::error::ErrorCode::NotFound => ProfileForm::default(),
        Err(error) => return api_failure(&web, error),
    };
    profile_page(&web, &form, Vec::new(), false, StatusCode::OK)
}

fn profile_page(
    web: &WebUser,
    form: &ProfileForm,
    problems: Vec<String>,
    saved: bool,
    status: StatusCode,
) -> Response {
    let context = context! {
        section => "profile",
        staff => web.user.is_operator_staff(),
        form => data(form),
        professions => Profession::ALL.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        levels => AuthorityLevel::ALL.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
        problems => problems,
        saved => saved,
    };
    (status, web.render("web/training/profile.html", context)).into_response()
}

async fn save_profile(
    State(state): State<AppState>,
    WebForm { web, form }: WebForm<ProfileForm>,
) -> Response {
    let mut errors = Vec::new();
    let profession =
        form.profession.trim().parse::<Profession>().map_err(|error| errors.push(error.to_string()));
    let level = form.level.trim().parse::<AuthorityLevel>().map_err(|error| errors.push(error.to_string()));
    let (Ok(profession), Ok(level)) = (profession, level) else {
        return profile_page(&web, &form, errors, false, StatusCode::UNPROCESSABLE_ENTITY);
    };
    let body = ProfileBody { user_id: None, profession, level, position: given(Some(form.position.clone())) };
    match training_api::put_profile(State(state), web.auth(), ApiJson(body)).await {
        Ok(_) => profile_page(&web, &form, Vec::new(), true, StatusCode::OK),
        Err(error) if is_input_problem(&error) => {
            let status = refusal_status(&error);
            profile_page(&web, &form, problems(&error), false, status)
        }
        Err(error) => api_failure(&web, error),
    }
}

// Trainers.

#[derive(Debug, Default, Deserialize)]
struct TrainersQuery {
    programme: Option<String>,
}

async fn trainers(
    State(state): State<AppState>,
    web: WebUser,
    query: Result<Query<TrainersQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return web.bad_request("query", "unknown or malformed filter");
    };
    let list = match training_api::list_programmes(State(state.clone()), web.auth()).await {
        Ok(Json(list)) => list,
        Err(error) => return api_failure(&web, error),
    };
    let chosen = given(query.programme).filter(|key| key.len() <= MAX_FILTER);
    let qualifications = match &chosen {
        Some(key) => {
            let query = TrainerQuery { programme: key.clone() };
            match training_api::trainers(State(state), web.auth(), Ok(Query(query))).await {
                Ok(Json(rows)) => Some(rows),
                Err(error) => return api_failure(&web, error),
            }
        }
        None => None,
    };
    let options: Vec<minijinja::Value> = list
        .iter()
        .map(|p| {
            let selected = chosen.as_deref().is_some_and(|key| key == p.code || key == p.id.to_string());
            context! { code => &p.code, title => pick(&p.title, web.language), selected => selected }
        })
        .collect();
    let context = context! {
        section => "trainers",
        staff => web.user.is_operator_staff(),
        programmes => options,
        chosen => chosen,
        trainers => qualifications.as_ref().map(view),
    };
    web.render("web/training/trainers.html", context)
}

// Statistics.

#[derive(Debug, Default, Deserialize)]
struct StatsQuery {
    by: Option<String>,
    interval: Option<String>,
    from: Option<String>,
    to: Option<String>,
    programme: Option<String>,
}

async fn statistics(
    State(state): State<AppState>,
    web: WebUser,
    query: Result<Query<StatsQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return web.bad_request("query", "unknown or malformed filter");
    };
    let short = |text: Option<String>| given(text).filter(|text| text.len() <= MAX_FILTER);
    let by = short(query.by).unwrap_or_else(|| "organisation".to_owned());
    let interval = short(query.interval).unwrap_or_else(|| "quarter".to_owned());
    let from = short(query.from);
    let to = short(query.to);
    let programme = short(query.programme);
    let api_query = StatisticsQuery {
        by: by.clone(),
        interval: Some(interval.clone()),
        from: from.clone(),
        to: to.clone(),
        programme: programme.clone(),
        format: None,
    };
    let answer = match training_api::statistics(State(state), web.auth(), Ok(Query(api_query))).await {
        Ok(answer) => answer,
        Err(error) => return api_failure(&web, error),
    };
    let rows = answer_json(answer).await.unwrap_or(Json_::Array(Vec::new()));
    let mut csv = format!(
        "/api/v1/learning/statistics?format=csv&by={}&interval={}",
        encode_query_value(&by),
        encode_query_value(&interval)
    );
    for (name, value) in [("from", &from), ("to", &to), ("programme", &programme)] {
        if let Some(value) = value {
            csv.push_str(&format!("&{name}={}", encode_query_value(value)));
        }
    }
    let context = context! {
        section => "statistics",
        staff => web.user.is_operator_staff(),
        rows => data(&rows),
        csv => csv,
        query => context! {
            by => by,
            interval => interval,
            from => from.unwrap_or_default(),
            to => to.unwrap_or_default(),
            programme => programme.unwrap_or_default(),
        },
        groupings => ["organisation", "sector", "level", "profession"],
        intervals => ["month", "quarter", "year"],
    };
    web.render("web/training/statistics.html", context)
}

// Exercises.

#[derive(Debug, Default, Deserialize, Serialize)]
struct NewExerciseForm {
    #[serde(default)]
    scenario_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    facilitators: String,
    #[serde(default)]
    participants: String,
}

fn organiser(web: &WebUser) -> bool {
    web.user.is_operator_staff() && may_write(&web.principal())
}

async fn exercises(State(state): State<AppState>, web: WebUser) -> Response {
    exercises_page(&state, &web, None).await
}

async fn exercises_page(
    state: &AppState,
    web: &WebUser,
    refused: Option<(&NewExerciseForm, Vec<String>, StatusCode)>,
) -> Response {
    let mut list = match exercises_api::list_exercises(State(state.clone()), web.auth()).await {
        Ok(Json(list)) => list,
        Err(error) => return api_failure(web, error),
    };
    list.reverse();
    let scenarios = if organiser(web) {
        match exercises_api::list_scenarios(State(state.clone()), web.auth(), lang_query(web)).await {
            Ok(Json(scenarios)) => scenarios,
            Err(error) => return api_failure(web, error),
        }
    } else {
        Vec::new()
    };
    let (form, problems, status) = match refused {
        Some((form, problems, status)) => (Some(form), problems, status),
        None => (None, Vec::new(), StatusCode::OK),
    };
    let context = context! {
        exercises => view(&list),
        organiser => organiser(web),
        scenarios => view(&scenarios),
        form => data(&form),
        problems => problems,
    };
    (status, web.render("web/training/exercises.html", context)).into_response()
}

/// `username:role` (or `username role`) per line.
fn parse_participants(text: &str) -> Result<Vec<NewParticipant>, Vec<String>> {
    let mut participants = Vec::new();
    let mut errors = Vec::new();
    for (index, line) in text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()) {
        match line.trim().split_once(|c: char| c == ':' || c.is_whitespace()) {
            Some((user, role)) if !user.trim().is_empty() && !role.trim().is_empty() => participants
                .push(NewParticipant { user: user.trim().to_owned(), role: role.trim().to_owned() }),
            _ => errors.push(format!("participants, line {}: write username:role", index + 1)),
        }
    }
    if errors.is_empty() { Ok(participants) } else { Err(errors) }
}

async fn create_exercise(
    State(state): State<AppState>,
    WebForm { web, form }: WebForm<NewExerciseForm>,
) -> Response {
    let mut errors = Vec::new();
    let scenario_id = Uuid::try_parse(form.scenario_id.trim())
        .map_err(|_| errors.push("scenario_id: choose a scenario".to_owned()));
    let participants =
        parse_participants(&form.participants).map_err(|mut problems| errors.append(&mut problems));
    let start = given(Some(form.start.clone())).map(|start| {
        // A `datetime-local` field gives `YYYY-MM-DDTHH:MM`, taken as UTC.
        if start.len() == 16 { format!("{start}:00Z") } else { start }
    });
    let (Ok(scenario_id), Ok(participants)) = (scenario_id, participants) else {
        return exercises_page(&state, &web, Some((&form, errors, StatusCode::UNPROCESSABLE_ENTITY))).await;
    };
    let facilitators = form
        .facilitators
        .split([',', '\n'])
        .map(str::trim)
        .filter(|user| !user.is_empty())
        .map(str::to_owned)
        .collect();
    let body =
        NewExercise { scenario_id, name: form.name.trim().to_owned(), start, facilitators, participants };
    match exercises_api::create_exercise(State(state.clone()), web.auth(), ApiJson(body)).await {
        Ok(answer) => {
            let id = answer_json(answer)
                .await
                .and_then(|json| json["id"].as_str().and_then(|id| Uuid::try_parse(id).ok()));
            match id {
                Some(id) => Redirect::to(&format!("/exercises/{id}/facilitate")).into_response(),
                None => Redirect::to("/exercises").into_response(),
            }
        }
        Err(error) if is_input_problem(&error) => {
            let status = refusal_status(&error);
            exercises_page(&state, &web, Some((&form, problems(&error), status))).await
        }
        Err(error) => api_failure(&web, error),
    }
}

async fn exercise(State(state): State<AppState>, web: WebUser, Path(id): Path<String>) -> Response {
    exercise_page(&state, &web, &id, None).await
}

/// A refused response, shown at its inject with the text typed.
struct RefusedResponse {
    inject: String,
    problems: Vec<String>,
    text: String,
    status: StatusCode,
}

/// The participant's page: the injects delivered to them so far, newest first, each with its
/// response form (or their response).
async fn exercise_page(
    state: &AppState,
    web: &WebUser,
    id: &str,
    refused: Option<RefusedResponse>,
) -> Response {
    let mut found = match exercises_api::get_exercise(
        State(state.clone()),
        web.auth(),
        Path(id.to_owned()),
        lang_query(web),
    )
    .await
    {
        Ok(Json(found)) => found,
        Err(error) => return api_failure(web, error),
    };
    found.injects.sort_by_key(|inject| std::cmp::Reverse(parse_time(&inject.delivered_at)));
    let now = OffsetDateTime::now_utc();
    let overdue: Vec<String> = found
        .injects
        .iter()
        .filter(|inject| !inject.responded)
        .filter(|inject| inject.respond_by.as_deref().and_then(parse_time).is_some_and(|by| now > by))
        .map(|inject| inject.id.clone())
        .collect();
    let status = refused.as_ref().map_or(StatusCode::OK, |refused| refused.status);
    let context = context! {
        exercise => view(&found),
        overdue => overdue,
        running => matches!(found.summary.state.as_str(), "running" | "paused"),
        refused => refused.as_ref().map(|r| context! { inject => &r.inject, problems => &r.problems, text => &r.text }),
    };
    (status, web.render("web/training/exercise.html", context)).into_response()
}

#[derive(Debug, Deserialize)]
struct ResponseForm {
    #[serde(default)]
    text: String,
}

async fn respond(
    State(state): State<AppState>,
    Path((id, inject)): Path<(String, String)>,
    WebForm { web, form }: WebForm<ResponseForm>,
) -> Response {
    let body = NewResponse { text: form.text.clone() };
    match exercises_api::respond(
        State(state.clone()),
        web.auth(),
        Path((id.clone(), inject.clone())),
        ApiJson(body),
    )
    .await
    {
        Ok(_) => match Uuid::try_parse(&id) {
            Ok(id) => Redirect::to(&format!("/exercises/{id}")).into_response(),
            Err(_) => Redirect::to("/exercises").into_response(),
        },
        Err(error) if is_input_problem(&error) => {
            let refused = RefusedResponse {
                inject,
                problems: problems(&error),
                text: form.text,
                status: refusal_status(&error),
            };
            exercise_page(&state, &web, &id, Some(refused)).await
        }
        Err(error) => api_failure(&web, error),
    }
}

async fn facilitate(State(state): State<AppState>, web: WebUser, Path(id): Path<String>) -> Response {
    facilitate_page(&state, &web, &id, Vec::new(), StatusCode::OK).await
}

/// The facilitators' page: the live timeline, the controls, the assessment and the report.
async fn facilitate_page(
    state: &AppState,
    web: &WebUser,
    id: &str,
    problems: Vec<String>,
    status: StatusCode,
) -> Response {
    let timeline =
        match exercises_api::timeline(State(state.clone()), web.auth(), Path(id.to_owned()), lang_query(web))
            .await
        {
            Ok(Json(timeline)) => timeline,
            Err(error) => return api_failure(web, error),
        };
    let found = match exercises_api::get_exercise(
        State(state.clone()),
        web.auth(),
        Path(id.to_owned()),
        lang_query(web),
    )
    .await
    {
        Ok(Json(found)) => found,
        Err(error) => return api_failure(web, error),
    };
    let scenario_id = timeline.summary.scenario_id.to_string();
    let scenario = match exercises_api::get_scenario(
        State(state.clone()),
        web.auth(),
        Path(scenario_id),
        lang_query(web),
    )
    .await
    {
        Ok(Json(scenario)) => scenario,
        Err(error) => return api_failure(web, error),
    };
    // The assessment recorded so far fills the form; the API just showed this user the
    // timeline, so they are one of the facilitators.
    let assessment = match state.store().get_exercise(timeline.summary.id).await {
        Ok(stored) => stored.map(|stored| stored.exercise.assessment).unwrap_or_default(),
        Err(error) => return web.internal(&error),
    };
    let objectives: Vec<minijinja::Value> = scenario
        .objectives
        .iter()
        .map(|objective| {
            let recorded = assessment.objectives.get(&objective.id);
            context! {
                id => &objective.id,
                text => &objective.text,
                rating => recorded.map_or("", |r| r.rating.as_str()),
                notes => recorded.map_or("", |r| r.notes.as_str()),
            }
        })
        .collect();
    let state_name = timeline.summary.state.clone();
    let lang = web.language.tag();
    let context = context! {
        timeline => view(&timeline),
        scenario_title => &found.scenario_title,
        participants => view(&found.participants),
        objectives => objectives,
        observations => assessment.observations.join("\n"),
        may_start => state_name == "planned",
        may_pause => state_name == "running",
        may_resume => state_name == "paused",
        may_end => matches!(state_name.as_str(), "running" | "paused"),
        may_release => matches!(state_name.as_str(), "running" | "paused"),
        report_md => format!("/api/v1/learning/exercises/{}/report?format=md&lang={}", timeline.summary.id, encode_query_value(lang)),
        report_json => format!("/api/v1/learning/exercises/{}/report?format=json&lang={}", timeline.summary.id, encode_query_value(lang)),
        problems => problems,
    };
    (status, web.render("web/training/facilitate.html", context)).into_response()
}

/// What a facilitator's button does.
#[derive(Debug, Clone, Copy)]
enum Control {
    Start,
    Pause,
    Resume,
    End,
}

/// One of a facilitator's buttons: back to the facilitators' page, or the page with the refusal.
async fn control(state: AppState, web: WebUser, id: String, control: Control) -> Response {
    let auth = web.auth();
    let path = Path(id.clone());
    let outcome = match control {
        Control::Start => exercises_api::start(State(state.clone()), auth, path).await,
        Control::Pause => exercises_api::pause(State(state.clone()), auth, path).await,
        Control::Resume => exercises_api::resume(State(state.clone()), auth, path).await,
        Control::End => exercises_api::end(State(state.clone()), auth, path).await,
    };
    after_change(&state, &web, &id, outcome.map(|_| ())).await
}

/// Back to the facilitators' page after a change, or the page with the refusal.
async fn after_change(state: &AppState, web: &WebUser, id: &str, outcome: Result<(), ApiError>) -> Response {
    match outcome {
        Ok(()) => match Uuid::try_parse(id) {
            Ok(id) => Redirect::to(&format!("/exercises/{id}/facilitate")).into_response(),
            Err(_) => Redirect::to("/exercises").into_response(),
        },
        Err(error) if is_input_problem(&error) => {
            let status = refusal_status(&error);
            facilitate_page(state, web, id, problems(&error), status).await
        }
        Err(error) => api_failure(web, error),
    }
}

async fn release(
    State(state): State<AppState>,
    Path((id, inject)): Path<(String, String)>,
    WebForm { web, .. }: WebForm<Confirm>,
) -> Response {
    let outcome = exercises_api::release(State(state.clone()), web.auth(), Path((id.clone(), inject))).await;
    after_change(&state, &web, &id, outcome.map(|_| ())).await
}

async fn skip(
    State(state): State<AppState>,
    Path((id, inject)): Path<(String, String)>,
    WebForm { web, .. }: WebForm<Confirm>,
) -> Response {
    let outcome = exercises_api::skip(State(state.clone()), web.auth(), Path((id.clone(), inject))).await;
    after_change(&state, &web, &id, outcome.map(|_| ())).await
}

/// The assessment form: `rating.<objective>` (`met`, `partially`, `not_met`, or empty for not
/// assessed), `notes.<objective>`, and `observations`, one per line.
async fn assess(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, form }: WebForm<Vec<(String, String)>>,
) -> Response {
    let mut ratings = BTreeMap::new();
    let mut notes = BTreeMap::new();
    let mut observations = Vec::new();
    for (name, value) in form {
        if let Some(objective) = name.strip_prefix("rating.") {
            ratings.insert(objective.to_owned(), value.trim().to_owned());
        } else if let Some(objective) = name.strip_prefix("notes.") {
            notes.insert(objective.to_owned(), value);
        } else if name == "observations" {
            observations
                .extend(value.lines().map(str::trim).filter(|line| !line.is_empty()).map(str::to_owned));
        }
    }
    let objectives = ratings
        .into_iter()
        .filter(|(_, rating)| !rating.is_empty())
        .map(|(objective, rating)| {
            let notes = notes.remove(&objective).unwrap_or_default();
            (objective, ObjectiveAssessmentDto { rating, notes })
        })
        .collect();
    let body = AssessmentDto { objectives, observations };
    let outcome =
        exercises_api::assess(State(state.clone()), web.auth(), Path(id.clone()), ApiJson(body)).await;
    after_change(&state, &web, &id, outcome.map(|_| ())).await
}

/// The after-action report in the user's language, from the API's JSON form of it (so it is
/// audited as the API's report is).
async fn report(State(state): State<AppState>, web: WebUser, Path(id): Path<String>) -> Response {
    let query = ReportQuery { lang: Some(web.language.tag().to_owned()), format: Some("json".to_owned()) };
    let answer =
        match exercises_api::report(State(state), web.auth(), Path(id.clone()), Ok(Query(query))).await {
            Ok(answer) => answer,
            Err(error) => return api_failure(&web, error),
        };
    let Some(mut report) = answer_json(answer).await else {
        return web.error(StatusCode::INTERNAL_SERVER_ERROR, "common.errors.internal");
    };
    readable(&mut report);
    let Ok(id) = Uuid::try_parse(&id) else {
        return web.not_found();
    };
    let lang = encode_query_value(web.language.tag());
    let context = context! {
        id => id.to_string(),
        report => data(&report),
        report_md => format!("/api/v1/learning/exercises/{id}/report?format=md&lang={lang}"),
        report_json => format!("/api/v1/learning/exercises/{id}/report?format=json&lang={lang}"),
    };
    web.render("web/training/report.html", context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn participants_are_read_one_per_line() {
        let parsed = parse_participants("amra:energy_operator\n\n  dario  cert_duty \n").unwrap();
        let pairs: Vec<(String, String)> = parsed.into_iter().map(|p| (p.user, p.role)).collect();
        assert_eq!(
            pairs,
            vec![("amra".into(), "energy_operator".into()), ("dario".into(), "cert_duty".into())]
        );
        assert_eq!(
            parse_participants("amra\nbob:x").unwrap_err(),
            vec!["participants, line 1: write username:role"]
        );
    }

    #[test]
    fn answers_are_made_readable() {
        let mut json = serde_json::json!({
            "delivered_at": "2026-11-29T09:24:31.5Z",
            "respond_by": "2026-11-29T09:39:00Z",
            "name": "2026-11-29T09:24:31Z",
            "seconds_remaining": 3725,
            "items": [{"submitted_at": "not a time"}],
        });
        readable(&mut json);
        assert_eq!(json["delivered_at"], "2026-11-29 09:24 UTC");
        assert_eq!(json["respond_by"], "2026-11-29 09:39 UTC");
        assert_eq!(json["name"], "2026-11-29T09:24:31Z");
        assert_eq!(json["seconds_remaining_text"], "1:02:05");
        assert_eq!(json["items"][0]["submitted_at"], "not a time");
    }
}
