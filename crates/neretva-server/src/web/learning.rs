//! Capacity building in the web interface: the course catalogue with the user's enrolments (and,
//! for an organisation's administrator, assigning courses to members), a course's outline in one
//! of its languages, lessons with "mark complete" and previous/next, quiz attempts as plain
//! forms that work without JavaScript with their result and feedback, the user's certificates,
//! and the public verification pages `/verify` and `/verify/{code}` that need no login.
//!
//! Every page calls the API's learning handlers with the signed-in user (`web.auth()`), so the
//! access rules (learning records `TLP:AMBER+STRICT` to the learner's organisation; 404 for
//! what the user may not see) and the audit entries are the API's.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use minijinja::{Value, context};
use neretva_learning::certificate::normalise_code;
use neretva_learning::course::{Course, Texts, text_in};
use neretva_model::Uuid;
use neretva_model::contact::Language;
use neretva_model::user::Role;
use neretva_store::learning::StoredCourse;
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::AppState;
use crate::api::learning::{
    self as api, AttemptDto, EnrolmentDto, EnrolmentFilter, LangQuery, LessonRead, NewEnrolment, Submission,
};
use crate::error::{ApiError, ErrorCode};
use crate::extract::ApiJson;
use crate::web::incidents::error_page;
use crate::web::{
    WebForm, WebUser, encode_query_value, language_choices, render_template, request_language, short_time, t,
    texts,
};

/// The longest answer to a short-answer question a form may send, in bytes.
const MAX_ANSWER: usize = 1000;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/learning", get(catalogue))
        .route("/learning/enrol", post(enrol))
        .route("/learning/assign", post(assign))
        .route("/learning/certificates", get(certificates))
        .route("/learning/courses/{id}", get(course_page))
        .route("/learning/courses/{id}/lessons/{module}/{lesson}", get(lesson_page))
        .route("/learning/courses/{id}/lessons/{module}/{lesson}/complete", post(complete_lesson))
        .route("/learning/enrolments/{id}/attempts", post(start_attempt))
        .route("/learning/attempts/{id}", get(attempt_page))
        .route("/learning/attempts/{id}/submit", post(submit_attempt))
        .route("/verify", get(verify_form))
        .route("/verify/{code}", get(verify_page))
}

// Shared pieces.

/// `?lang=` of a page: the course language asked for.
#[derive(Debug, Default, Deserialize)]
struct LangParams {
    lang: Option<String>,
}

/// A form whose only field (besides the CSRF token) is the course language shown.
#[derive(Debug, Default, Deserialize)]
struct LangForm {
    lang: Option<String>,
}

fn params<T: Default>(query: Result<Query<T>, QueryRejection>) -> T {
    query.map(|Query(params)| params).unwrap_or_default()
}

/// The language a course is shown in: the one asked for when the course has it, else the
/// user's when the course has it, else the course's first. The flag is `false` in that last
/// case, when the page offers the course's languages to choose from.
fn course_language(course: &Course, asked: Option<&str>, user: Language) -> (Language, bool) {
    let asked = asked.and_then(|tag| tag.parse::<Language>().ok()).filter(|l| course.languages.contains(l));
    match asked {
        Some(language) => (language, true),
        None if course.languages.contains(&user) => (user, true),
        None => (course.default_language(), false),
    }
}

/// The course's languages as links to `base` in each (`base` has no query).
fn language_links(course: &Course, current: Language, base: &str) -> Vec<Value> {
    course
        .languages
        .iter()
        .map(|language| {
            context! {
                tag => language.tag(),
                name => texts::language_name(*language),
                current => *language == current,
                href => format!("{base}?lang={}", language.tag()),
            }
        })
        .collect()
}

fn lang_query(language: Language) -> Result<Query<LangQuery>, QueryRejection> {
    Ok(Query(LangQuery { lang: Some(language.tag().to_owned()) }))
}

/// A text of a certificate or course in `language`, else in any language it has.
fn title_in(texts: &Texts, language: Language) -> String {
    let fallback = texts.keys().next().copied().unwrap_or(language);
    text_in(texts, language, fallback).to_owned()
}

fn lesson_href(course_id: Uuid, key: &str, language: Language) -> String {
    format!("/learning/courses/{course_id}/lessons/{key}?lang={}", language.tag())
}

fn course_href(course_id: Uuid, language: Language) -> String {
    format!("/learning/courses/{course_id}?lang={}", language.tag())
}

fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

fn when(text: &str) -> String {
    parse_time(text).map_or_else(|| text.to_owned(), short_time)
}

/// A course by the id in the path; 404 for an id that is not one.
async fn load_course(state: &AppState, web: &WebUser, id: &str) -> Result<StoredCourse, Response> {
    let Ok(id) = Uuid::try_parse(id) else { return Err(web.not_found()) };
    match state.store().get_course(id).await {
        Ok(Some(course)) => Ok(course),
        Ok(None) => Err(web.not_found()),
        Err(error) => Err(web.internal(&error)),
    }
}

/// The enrolments the API lists for `filter`, read as the signed-in user.
async fn enrolments(
    state: &AppState,
    web: &WebUser,
    filter: EnrolmentFilter,
) -> Result<Vec<EnrolmentDto>, Response> {
    api::list_enrolments(State(state.clone()), web.auth(), Ok(Query(filter)))
        .await
        .map(|Json(items)| items)
        .map_err(|error| error_page(web, &error))
}

/// The user's own enrolment in a course, if any.
async fn own_enrolment(
    state: &AppState,
    web: &WebUser,
    course: Uuid,
) -> Result<Option<EnrolmentDto>, Response> {
    let filter = EnrolmentFilter { user: Some(web.user.user_id), course: Some(course), org: None };
    Ok(enrolments(state, web, filter).await?.into_iter().next())
}

fn progress(enrolment: &EnrolmentDto) -> Value {
    let p = &enrolment.progress;
    context! {
        lessons_done => p.lessons_done,
        lessons_total => p.lessons_total,
        has_quiz => p.has_quiz,
        quiz_passed => p.quiz_passed,
        complete => p.complete,
        certificate => &enrolment.certificate,
    }
}

/// The text of a refused change (a conflict of the API), in the user's language when the API
/// named its reason, else in the API's words.
fn refusal_text(language: Language, error: &ApiError) -> String {
    match error.reason() {
        Some(reason) => t(language, &format!("learning.refused.{reason}")),
        None => error.message.clone(),
    }
}

/// The page of a refused change (409): what was refused, why, and the way back.
fn refused(web: &WebUser, error: &ApiError, back: &str) -> Response {
    let context = context! {
        message => refusal_text(web.language, error),
        detail => &error.message,
        back => back,
    };
    (StatusCode::CONFLICT, web.render("web/learning/refused.html", context)).into_response()
}

fn api_error(web: &WebUser, error: &ApiError, back: &str) -> Response {
    if error.code == ErrorCode::Conflict { refused(web, error, back) } else { error_page(web, error) }
}

// The catalogue.

#[derive(Debug, Default, Deserialize)]
struct CatalogueParams {
    done: Option<String>,
}

async fn catalogue(
    State(state): State<AppState>,
    web: WebUser,
    query: Result<Query<CatalogueParams>, QueryRejection>,
) -> Result<Response, Response> {
    let params = params(query);
    let Json(courses) = api::list_courses(State(state.clone()), web.auth(), lang_query(web.language))
        .await
        .map_err(|error| error_page(&web, &error))?;
    let titles: HashMap<Uuid, &str> = courses.iter().map(|c| (c.id, c.title.as_str())).collect();
    let mine =
        enrolments(&state, &web, EnrolmentFilter { user: Some(web.user.user_id), course: None, org: None })
            .await?;
    let enrolled: BTreeSet<Uuid> = mine.iter().map(|e| e.course_id).collect();
    let rows: Vec<Value> = courses
        .iter()
        .map(|course| {
            let languages: Vec<&str> = course
                .languages
                .iter()
                .filter_map(|tag| tag.parse::<Language>().ok())
                .map(texts::language_name)
                .collect();
            context! {
                id => course.id.to_string(),
                title => &course.title,
                code => &course.code,
                version => course.version,
                languages => languages,
                lessons => course.lessons,
                has_quiz => course.has_quiz,
                enrolled => enrolled.contains(&course.id),
            }
        })
        .collect();
    let enrolment_rows: Vec<Value> = mine
        .iter()
        .map(|e| {
            context! {
                course_id => e.course_id.to_string(),
                title => titles.get(&e.course_id).copied().unwrap_or_default(),
                progress => progress(e),
                assigned => e.assigned_by.is_some(),
            }
        })
        .collect();
    // An organisation's administrator assigns courses to its members and follows their records.
    let mut members = Vec::new();
    let mut records = Vec::new();
    if web.user.role == Role::Admin {
        let users = state.store().list_users(Some(web.user.org_id)).await.map_err(|e| web.internal(&e))?;
        let names: HashMap<Uuid, String> = users
            .iter()
            .map(|user| (user.id, user.display_name.clone().unwrap_or_else(|| user.username.clone())))
            .collect();
        let mut active: Vec<_> = users.iter().filter(|user| !user.disabled).collect();
        active.sort_by(|a, b| a.username.cmp(&b.username));
        members = active
            .iter()
            .map(|user| context! { id => user.id.to_string(), name => names.get(&user.id), username => &user.username })
            .collect();
        let filter = EnrolmentFilter { user: None, course: None, org: Some(web.user.org_id) };
        records = enrolments(&state, &web, filter)
            .await?
            .iter()
            .map(|e| {
                context! {
                    learner => names.get(&e.user_id).cloned().unwrap_or_else(|| e.user_id.to_string()),
                    course_id => e.course_id.to_string(),
                    title => titles.get(&e.course_id).copied().unwrap_or_default(),
                    progress => progress(e),
                }
            })
            .collect();
    }
    let notice = match params.done.as_deref() {
        Some("assigned") => Some(t(web.language, "learning.catalogue.assigned")),
        _ => None,
    };
    let context = context! {
        courses => rows,
        enrolments => enrolment_rows,
        admin => web.user.role == Role::Admin,
        members => members,
        records => records,
        notice => notice,
    };
    Ok(web.render("web/learning/catalogue.html", context))
}

#[derive(Debug, Deserialize)]
struct EnrolForm {
    course_id: String,
    #[serde(default)]
    user_id: String,
}

/// Enrols the signed-in user and opens the course (an enrolment that exists already is kept).
async fn enrol(State(state): State<AppState>, WebForm { web, form }: WebForm<EnrolForm>) -> Response {
    let Ok(course_id) = Uuid::try_parse(form.course_id.trim()) else { return web.not_found() };
    let request = NewEnrolment { course_id, user_id: None };
    match api::enrol(State(state), web.auth(), ApiJson(request)).await {
        Ok(_) => Redirect::to(&format!("/learning/courses/{course_id}")).into_response(),
        Err(error) if error.code == ErrorCode::Conflict && error.field.as_deref() == Some("course_id") => {
            Redirect::to(&format!("/learning/courses/{course_id}")).into_response()
        }
        Err(error) => error_page(&web, &error),
    }
}

/// Assigns a course to a member of the administrator's organisation, through the API's
/// enrolment (which checks the administrator may).
async fn assign(State(state): State<AppState>, WebForm { web, form }: WebForm<EnrolForm>) -> Response {
    let Ok(course_id) = Uuid::try_parse(form.course_id.trim()) else {
        return web.bad_request("course_id", "choose a course");
    };
    let Ok(user_id) = Uuid::try_parse(form.user_id.trim()) else {
        return web.bad_request("user_id", "choose a member");
    };
    let request = NewEnrolment { course_id, user_id: Some(user_id) };
    match api::enrol(State(state), web.auth(), ApiJson(request)).await {
        Ok(_) => Redirect::to("/learning?done=assigned").into_response(),
        Err(error) => api_error(&web, &error, "/learning"),
    }
}

// A course and its lessons.

async fn course_page(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    query: Result<Query<LangParams>, QueryRejection>,
) -> Result<Response, Response> {
    let params = params(query);
    let stored = load_course(&state, &web, &id).await?;
    let (language, available) = course_language(&stored.course, params.lang.as_deref(), web.language);
    let Json(dto) =
        api::get_course(State(state.clone()), web.auth(), Path(stored.id.to_string()), lang_query(language))
            .await
            .map_err(|error| error_page(&web, &error))?;
    let enrolment = own_enrolment(&state, &web, stored.id).await?;
    let done: BTreeSet<&str> =
        enrolment.iter().flat_map(|e| e.lessons_done.iter().map(String::as_str)).collect();
    let modules: Vec<Value> = dto
        .modules
        .iter()
        .map(|module| {
            let lessons: Vec<Value> = module
                .lessons
                .iter()
                .map(|lesson| {
                    context! {
                        title => &lesson.title,
                        href => lesson_href(stored.id, &lesson.key, language),
                        done => done.contains(lesson.key.as_str()),
                    }
                })
                .collect();
            context! { title => &module.title, lessons => lessons }
        })
        .collect();
    let now = OffsetDateTime::now_utc();
    let (attempts, open_attempt, can_start) = match &enrolment {
        None => (Vec::new(), None, false),
        Some(e) => {
            let rows: Vec<Value> = e
                .attempts
                .iter()
                .map(|a| {
                    context! {
                        number => a.number,
                        href => format!("/learning/attempts/{}?lang={}", a.id, language.tag()),
                        started => when(&a.started_at),
                        submitted => a.submitted_at.is_some(),
                        score => a.score,
                        passed => a.passed,
                    }
                })
                .collect();
            let open = e
                .attempts
                .iter()
                .find(|a| a.submitted_at.is_none() && parse_time(&a.deadline).is_some_and(|d| now <= d))
                .map(|a| format!("/learning/attempts/{}?lang={}", a.id, language.tag()));
            let max = dto.quiz.as_ref().map_or(0, |quiz| quiz.max_attempts as usize);
            let can_start =
                dto.quiz.is_some() && !e.progress.quiz_passed && open.is_none() && e.attempts.len() < max;
            (rows, open, can_start)
        }
    };
    let context = context! {
        course => context! {
            id => stored.id.to_string(),
            title => &dto.summary.title,
            description => &dto.description,
            code => &dto.summary.code,
            version => dto.summary.version,
        },
        language => language.tag(),
        available => available,
        course_languages => language_links(&stored.course, language, &format!("/learning/courses/{}", stored.id)),
        modules => modules,
        quiz => dto.quiz.as_ref().map(|q| context! {
            pass_mark => q.pass_mark,
            max_attempts => q.max_attempts,
            time_limit => q.time_limit_minutes,
            questions => q.questions_per_attempt,
        }),
        enrolment => enrolment.as_ref().map(|e| context! { id => e.id.to_string(), progress => progress(e) }),
        attempts => attempts,
        open_attempt => open_attempt,
        can_start => can_start,
    };
    Ok(web.render("web/learning/course.html", context))
}

/// Every lesson of a course in order: its key and its title in `language`.
fn outline(course: &Course, language: Language) -> Vec<(String, String)> {
    let fallback = course.default_language();
    course
        .lessons()
        .map(|(module, lesson)| (lesson.key(module), text_in(&lesson.title, language, fallback).to_owned()))
        .collect()
}

async fn lesson_page(
    State(state): State<AppState>,
    web: WebUser,
    Path((id, module, lesson)): Path<(String, String, String)>,
    query: Result<Query<LangParams>, QueryRejection>,
) -> Result<Response, Response> {
    let params = params(query);
    let stored = load_course(&state, &web, &id).await?;
    let course = &stored.course;
    let (language, _) = course_language(course, params.lang.as_deref(), web.language);
    let Json(dto) = api::lesson(
        State(state.clone()),
        web.auth(),
        Path((stored.id.to_string(), module, lesson)),
        lang_query(language),
    )
    .await
    .map_err(|error| error_page(&web, &error))?;
    let lessons = outline(course, language);
    let index = lessons.iter().position(|(key, _)| *key == dto.key).unwrap_or(0);
    let link = |at: Option<usize>| {
        at.and_then(|i| lessons.get(i)).map(|(key, title)| {
            context! {
                href => lesson_href(stored.id, key, language),
                title => title,
            }
        })
    };
    let fallback = course.default_language();
    let module_title = course.lesson(&dto.key).map(|(module, _)| text_in(&module.title, language, fallback));
    let enrolment = own_enrolment(&state, &web, stored.id).await?;
    let done = enrolment.as_ref().is_some_and(|e| e.lessons_done.contains(&dto.key));
    let context = context! {
        course => context! {
            id => stored.id.to_string(),
            title => text_in(&course.title, language, fallback),
            href => course_href(stored.id, language),
        },
        module_title => module_title,
        lesson => context! {
            title => &dto.title,
            html => &dto.html,
            complete_href => format!("/learning/courses/{}/lessons/{}/complete", stored.id, dto.key),
        },
        language => language.tag(),
        course_languages => language_links(course, language, &format!("/learning/courses/{}/lessons/{}", stored.id, dto.key)),
        position => index + 1,
        total => lessons.len(),
        previous => link(index.checked_sub(1)),
        next => link(Some(index + 1)),
        enrolled => enrolment.is_some(),
        done => done,
    };
    Ok(web.render("web/learning/lesson.html", context))
}

/// Marks a lesson read and goes on to the next one (the course page after the last).
async fn complete_lesson(
    State(state): State<AppState>,
    Path((id, module, lesson)): Path<(String, String, String)>,
    WebForm { web, form }: WebForm<LangForm>,
) -> Result<Response, Response> {
    let stored = load_course(&state, &web, &id).await?;
    let (language, _) = course_language(&stored.course, form.lang.as_deref(), web.language);
    let key = format!("{module}/{lesson}");
    let lessons = outline(&stored.course, language);
    let Some(index) = lessons.iter().position(|(k, _)| *k == key) else { return Err(web.not_found()) };
    let Some(enrolment) = own_enrolment(&state, &web, stored.id).await? else {
        let error = ApiError::new(ErrorCode::Conflict, "enrol in the course first");
        return Err(refused(&web, &error, &course_href(stored.id, language)));
    };
    let _read = api::read_lesson(
        State(state.clone()),
        web.auth(),
        Path(enrolment.id.to_string()),
        ApiJson(LessonRead { lesson: key }),
    )
    .await
    .map_err(|error| api_error(&web, &error, &course_href(stored.id, language)))?;
    let target = match lessons.get(index + 1) {
        Some((next, _)) => lesson_href(stored.id, next, language),
        None => course_href(stored.id, language),
    };
    Ok(Redirect::to(&target).into_response())
}

// Quiz attempts.

/// Starts the next attempt of the user's enrolment and opens it.
async fn start_attempt(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, form }: WebForm<LangForm>,
) -> Result<Response, Response> {
    let lang = form.lang.filter(|tag| tag.parse::<Language>().is_ok());
    let Json(enrolment) = api::get_enrolment(State(state.clone()), web.auth(), Path(id))
        .await
        .map_err(|error| error_page(&web, &error))?;
    let back = format!(
        "/learning/courses/{}{}",
        enrolment.course_id,
        lang.as_deref().map(|tag| format!("?lang={tag}")).unwrap_or_default()
    );
    api::start_attempt(
        State(state.clone()),
        web.auth(),
        Path(enrolment.id.to_string()),
        Ok(Query(LangQuery { lang: lang.clone() })),
    )
    .await
    .map_err(|error| api_error(&web, &error, &back))?;
    // The attempt just started is the enrolment's newest.
    let attempts = state.store().list_attempts(enrolment.id).await.map_err(|error| web.internal(&error))?;
    let Some(newest) = attempts.iter().max_by_key(|attempt| attempt.number) else {
        return Err(web.error(StatusCode::INTERNAL_SERVER_ERROR, "common.errors.internal"));
    };
    let query = lang.map(|tag| format!("?lang={tag}")).unwrap_or_default();
    Ok(Redirect::to(&format!("/learning/attempts/{}{query}", newest.id)).into_response())
}

async fn attempt_page(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    query: Result<Query<LangParams>, QueryRejection>,
) -> Result<Response, Response> {
    let params = params(query);
    let lang = params
        .lang
        .filter(|tag| tag.parse::<Language>().is_ok())
        .unwrap_or_else(|| web.language.tag().to_owned());
    let Json(attempt) = api::get_attempt(
        State(state.clone()),
        web.auth(),
        Path(id),
        Ok(Query(LangQuery { lang: Some(lang) })),
    )
    .await
    .map_err(|error| error_page(&web, &error))?;
    render_attempt(&state, &web, &attempt).await
}

/// An attempt: its questions as a form while it may be answered, else its result and feedback.
async fn render_attempt(state: &AppState, web: &WebUser, attempt: &AttemptDto) -> Result<Response, Response> {
    let enrolment = match state.store().get_enrolment(attempt.enrolment_id).await {
        Ok(Some(stored)) => stored.enrolment,
        Ok(None) => return Err(web.not_found()),
        Err(error) => return Err(web.internal(&error)),
    };
    let stored = load_course(state, web, &enrolment.course_id.to_string()).await?;
    let course = &stored.course;
    let language = attempt.language.parse::<Language>().unwrap_or_else(|_| course.default_language());
    let now = OffsetDateTime::now_utc();
    let deadline = parse_time(&attempt.summary.deadline);
    let submitted = attempt.outcome.is_some();
    let expired = !submitted && deadline.is_some_and(|d| now > d);
    let learner = enrolment.user_id == web.user.user_id;
    let feedback: HashMap<&str, &api::FeedbackDto> = attempt
        .outcome
        .iter()
        .flat_map(|outcome| outcome.feedback.iter().map(|item| (item.question.as_str(), item)))
        .collect();
    let questions: Vec<Value> = attempt
        .questions
        .iter()
        .enumerate()
        .map(|(index, question)| {
            let item = feedback.get(question.id.as_str());
            context! {
                number => index + 1,
                id => &question.id,
                kind => &question.kind,
                text => &question.text,
                options => question.options.iter().map(|option| context! { id => &option.id, text => &option.text }).collect::<Vec<_>>(),
                answered => item.map(|i| i.answered),
                correct => item.map(|i| i.correct),
                messages => item.map(|i| i.messages.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let fallback = course.default_language();
    let quiz = course.quiz.as_ref();
    let context = context! {
        course => context! {
            id => stored.id.to_string(),
            title => text_in(&course.title, language, fallback),
            href => course_href(stored.id, language),
        },
        language => language.tag(),
        course_languages => language_links(course, language, &format!("/learning/attempts/{}", attempt.summary.id)),
        attempt => context! {
            id => attempt.summary.id.to_string(),
            number => attempt.summary.number,
            started => when(&attempt.summary.started_at),
            deadline => when(&attempt.summary.deadline),
            submitted => submitted,
            expired => expired,
            enrolment_id => attempt.enrolment_id.to_string(),
        },
        max_attempts => quiz.map(|q| q.max_attempts),
        pass_mark => quiz.map(|q| q.pass_mark),
        time_limit => quiz.map(|q| q.time_limit_minutes),
        questions => questions,
        outcome => attempt.outcome.as_ref().map(|o| context! {
            correct => o.correct,
            total => o.total,
            score => o.score,
            pass_mark => o.pass_mark,
            passed => o.passed,
        }),
        attempts_left => attempt.attempts_left,
        certificate => &attempt.certificate,
        may_answer => learner && !submitted && !expired,
        may_retry => learner && submitted && attempt.outcome.as_ref().is_some_and(|o| !o.passed) && attempt.attempts_left > 0,
        may_restart => learner && expired && attempt.attempts_left > 0,
    };
    Ok(web.render("web/learning/attempt.html", context))
}

/// Submits the answers of the quiz form: `q.<question>` fields (several for a multiple choice
/// question), `lang`, the CSRF token. Unanswered questions are left out (they count as wrong).
async fn submit_attempt(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, form }: WebForm<Vec<(String, String)>>,
) -> Result<Response, Response> {
    let lang = form
        .iter()
        .find(|(name, _)| name == "lang")
        .map(|(_, value)| value.clone())
        .filter(|tag| tag.parse::<Language>().is_ok());
    let Json(attempt) =
        api::get_attempt(State(state.clone()), web.auth(), Path(id), Ok(Query(LangQuery { lang })))
            .await
            .map_err(|error| error_page(&web, &error))?;
    let mut answers = BTreeMap::new();
    for question in &attempt.questions {
        let name = format!("q.{}", question.id);
        let values: Vec<&str> =
            form.iter().filter(|(field, _)| *field == name).map(|(_, value)| value.as_str()).collect();
        if values.iter().any(|value| value.len() > MAX_ANSWER) {
            return Err(web.bad_request(&name, &format!("an answer has at most {MAX_ANSWER} bytes")));
        }
        let answer = match (question.kind.as_str(), values.as_slice()) {
            (_, []) => continue,
            ("multiple", _) => json!(values),
            ("true_false", ["true"]) => json!(true),
            ("true_false", ["false"]) => json!(false),
            ("true_false", _) => return Err(web.bad_request(&name, "expected one answer, true or false")),
            ("short_answer", [text]) if text.trim().is_empty() => continue,
            (_, [one]) => json!(one),
            (_, _) => return Err(web.bad_request(&name, "expected one answer")),
        };
        answers.insert(question.id.clone(), answer);
    }
    let target = format!("/learning/attempts/{}?lang={}", attempt.summary.id, attempt.language);
    let _submitted = api::submit_attempt(
        State(state.clone()),
        web.auth(),
        Path(attempt.summary.id.to_string()),
        Ok(Query(LangQuery { lang: Some(attempt.language.clone()) })),
        ApiJson(Submission { answers }),
    )
    .await
    .map_err(|error| api_error(&web, &error, &target))?;
    Ok(Redirect::to(&target).into_response())
}

// Certificates.

/// The user's certificates, with their verification codes and public links.
async fn certificates(State(state): State<AppState>, web: WebUser) -> Result<Response, Response> {
    let mine =
        enrolments(&state, &web, EnrolmentFilter { user: Some(web.user.user_id), course: None, org: None })
            .await?;
    let mut rows = Vec::new();
    for code in mine.iter().filter_map(|enrolment| enrolment.certificate.as_ref()) {
        let Some(certificate) = state.store().get_certificate(code).await.map_err(|e| web.internal(&e))?
        else {
            continue;
        };
        rows.push(context! {
            code => &certificate.code,
            course => title_in(&certificate.course_title, web.language),
            version => certificate.course_version,
            issued_on => certificate.issued_at.date().to_string(),
            href => format!("/verify/{}", certificate.code),
        });
    }
    Ok(web.render("web/learning/certificates.html", context! { certificates => rows }))
}

// Public verification.

#[derive(Debug, Default, Deserialize)]
struct VerifyParams {
    code: Option<String>,
    lang: Option<String>,
}

/// The language of a public page: `?lang=`, else the language cookie or the browser's.
fn public_language(headers: &HeaderMap, lang: Option<&str>) -> Language {
    lang.and_then(|tag| tag.parse::<Language>().ok()).unwrap_or_else(|| request_language(headers))
}

/// Renders a page for anyone, signed in or not, with the languages as links to `path`.
fn render_public(language: Language, path: &str, status: StatusCode, context: Value) -> Response {
    let links: Vec<Value> = Language::ALL
        .iter()
        .map(|l| {
            context! {
                tag => l.tag(),
                name => texts::language_name(*l),
                current => *l == language,
                href => format!("{path}?lang={}", l.tag()),
            }
        })
        .collect();
    let base = context! {
        lang => language.tag(),
        languages => language_choices(language),
        next => path,
        page_languages => links,
    };
    (status, render_template("web/learning/verify.html", context! { ..context, ..base })).into_response()
}

/// `/verify`: a form to type a code; `?code=` goes on to `/verify/{code}`.
async fn verify_form(headers: HeaderMap, query: Result<Query<VerifyParams>, QueryRejection>) -> Response {
    let params = params(query);
    let language = public_language(&headers, params.lang.as_deref());
    let typed = params.code.as_deref().map(str::trim).filter(|code| !code.is_empty());
    match typed {
        None => render_public(language, "/verify", StatusCode::OK, context! { asked => false }),
        Some(code) => match normalise_code(code) {
            Some(code) => {
                let lang = params.lang.as_deref().filter(|tag| tag.parse::<Language>().is_ok());
                let query = lang.map(|tag| format!("?lang={}", encode_query_value(tag))).unwrap_or_default();
                Redirect::to(&format!("/verify/{code}{query}")).into_response()
            }
            None => render_public(
                language,
                "/verify",
                StatusCode::NOT_FOUND,
                context! { asked => true, typed => code.chars().take(40).collect::<String>() },
            ),
        },
    }
}

/// `/verify/{code}`: the certificate's holder, course and date, or "not found" (the same page
/// for a malformed and an unknown code).
async fn verify_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    query: Result<Query<VerifyParams>, QueryRejection>,
) -> Response {
    let params = params(query);
    let language = public_language(&headers, params.lang.as_deref());
    let typed: String = code.chars().take(40).collect();
    match api::verify(State(state), Path(code)).await {
        Ok(Json(check)) => {
            let path = format!("/verify/{}", check.code);
            let titles: Texts = check
                .course_titles
                .iter()
                .filter_map(|(tag, title)| tag.parse::<Language>().ok().map(|l| (l, title.clone())))
                .collect();
            let context = context! {
                asked => true,
                typed => &check.code,
                certificate => context! {
                    valid => check.valid,
                    code => &check.code,
                    holder => &check.holder,
                    course => title_in(&titles, language),
                    course_code => &check.course,
                    version => check.course_version,
                    issued_on => &check.issued_on,
                },
            };
            render_public(language, &path, StatusCode::OK, context)
        }
        Err(error) if error.code == ErrorCode::NotFound => render_public(
            language,
            "/verify",
            StatusCode::NOT_FOUND,
            context! { asked => true, typed => typed },
        ),
        Err(error) => {
            tracing::error!(error = %error.message, "Verifying a certificate failed.");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn course(languages: &[Language]) -> Course {
        Course {
            code: "c".into(),
            version: 1,
            languages: languages.to_vec(),
            title: Texts::new(),
            description: Texts::new(),
            modules: Vec::new(),
            quiz: None,
            images: Vec::new(),
        }
    }

    #[test]
    fn a_course_is_shown_in_the_language_asked_else_the_users_else_its_first() {
        let both = course(&[Language::En, Language::Bs]);
        assert_eq!(course_language(&both, Some("bs"), Language::En), (Language::Bs, true));
        assert_eq!(course_language(&both, None, Language::Bs), (Language::Bs, true));
        assert_eq!(course_language(&both, Some("hr"), Language::Bs), (Language::Bs, true));
        assert_eq!(course_language(&both, Some("xx"), Language::Hr), (Language::En, false));
        assert_eq!(course_language(&both, None, Language::SrCyrl), (Language::En, false));
    }
}
