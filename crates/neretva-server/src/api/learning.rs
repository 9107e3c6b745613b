//! Capacity building: courses, enrolments, lesson progress, quiz attempts, certificates and
//! learning records (xAPI).
//!
//! Reading: courses are training material every signed-in user may read. Learning records
//! (enrolments, attempts, certificates, xAPI statements) are `TLP:AMBER+STRICT` to the
//! learner's organisation with the learner as a named recipient (`may_see`), and within that
//! audience only the learner, the organisation's admins and the operating CERT's staff see them;
//! records others may not see answer 404. A certificate's code is public: anyone may verify it
//! at `/api/v1/learning/certificates/verify/{code}` and learns the holder's name, the course and
//! the date only.
//!
//! Writing: courses are imported by the operating CERT's admins and analysts. A learner enrols
//! themselves; an organisation's admin (or the operating CERT's admin) assigns a course to a
//! member. Reading lessons, starting and submitting attempts are the learner's own. Every change
//! is written with its audit entry in one transaction; exports are audited.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use neretva_learning::certificate::normalise_code;
use neretva_learning::course::{Course, QuestionKind, text_in};
use neretva_learning::enrolment::{self, Enrolment};
use neretva_learning::package::{self, Limits, Package, PackageError};
use neretva_learning::quiz::{self, Attempt, Refusal, Response as Answer};
use neretva_learning::{export, markdown};
use neretva_model::access::{Visibility, may_see, may_write};
use neretva_model::audit::{AuditEvent, digest_hex};
use neretva_model::contact::Language;
use neretva_model::tlp::Tlp;
use neretva_model::user::Role;
use neretva_model::{FieldError, Uuid};
use neretva_store::StoreError;
use neretva_store::learning::{EnrolmentQuery, StoredCourse, StoredEnrolment};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::{parse_id, rfc3339};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode, ErrorDetail};
use crate::extract::{ApiJson, Auth};
use crate::learning::{issue_certificate, statements_for};

// Access.

/// Whether the caller may see a learner's records: in the `TLP:AMBER+STRICT` audience of the
/// learner's organisation (the learner named), and the learner, an admin or the CERT's staff.
pub(crate) fn may_see_record(auth: &Auth, enrolment: &Enrolment) -> bool {
    let recipients = [enrolment.user_id];
    let visibility = Visibility {
        recipient_users: &recipients,
        ..Visibility::owned(enrolment.org_id, &[], Tlp::AmberStrict)
    };
    may_see(&auth.principal(), &visibility)
        && (auth.0.user_id == enrolment.user_id || auth.0.role == Role::Admin || auth.0.is_operator_staff())
}

fn require_writer(auth: &Auth) -> ApiResult<()> {
    if may_write(&auth.principal()) {
        Ok(())
    } else {
        Err(ApiError::forbidden("this credential may not change anything"))
    }
}

/// Course imports: the operating CERT's admins and analysts.
fn require_course_editor(auth: &Auth) -> ApiResult<()> {
    if auth.0.is_operator_staff() && may_write(&auth.principal()) {
        Ok(())
    } else {
        Err(ApiError::forbidden("only the operating CERT's admins and analysts import courses"))
    }
}

/// The learner's own records only: progress and attempts are not made on someone's behalf.
fn require_learner(auth: &Auth, enrolment: &Enrolment) -> ApiResult<()> {
    require_writer(auth)?;
    if auth.0.user_id == enrolment.user_id {
        Ok(())
    } else {
        Err(ApiError::forbidden("only the learner reads lessons and takes the quiz of an enrolment"))
    }
}

async fn course(state: &AppState, id: Uuid) -> ApiResult<StoredCourse> {
    state.store().get_course(id).await?.ok_or_else(|| ApiError::not_found("course"))
}

/// Loads an enrolment the caller may see, or answers 404.
async fn visible_enrolment(state: &AppState, auth: &Auth, id: &str) -> ApiResult<StoredEnrolment> {
    let id = parse_id("id", id)?;
    state
        .store()
        .get_enrolment(id)
        .await?
        .filter(|stored| may_see_record(auth, &stored.enrolment))
        .ok_or_else(|| ApiError::not_found("enrolment"))
}

/// Loads an attempt whose enrolment the caller may see, or answers 404.
async fn visible_attempt(state: &AppState, auth: &Auth, id: &str) -> ApiResult<(Attempt, StoredEnrolment)> {
    let id = parse_id("id", id)?;
    let attempt = state.store().get_attempt(id).await?.ok_or_else(|| ApiError::not_found("attempt"))?;
    let enrolment = state
        .store()
        .get_enrolment(attempt.enrolment_id)
        .await?
        .filter(|stored| may_see_record(auth, &stored.enrolment))
        .ok_or_else(|| ApiError::not_found("attempt"))?;
    Ok((attempt, enrolment))
}

/// The language asked for, when the course has it; else the course's default.
fn language(course: &Course, lang: Option<&str>) -> ApiResult<Language> {
    match lang {
        None => Ok(course.default_language()),
        Some(text) => {
            let language: Language =
                text.parse().map_err(|error: FieldError| ApiError::bad_request("lang", error.message))?;
            Ok(if course.languages.contains(&language) { language } else { course.default_language() })
        }
    }
}

fn refusal(error: Refusal) -> ApiError {
    let (field, reason) = match error {
        Refusal::NoQuiz => return ApiError::new(ErrorCode::Conflict, error.to_string()).with_field("course"),
        Refusal::DeadlinePassed { .. } => ("deadline", "deadline"),
        Refusal::AlreadyPassed => ("attempt", "passed"),
        Refusal::NoAttemptsLeft { .. } => ("attempt", "no_attempts"),
        Refusal::AttemptOpen { .. } => ("attempt", "open"),
        Refusal::AlreadySubmitted { .. } => ("attempt", "submitted"),
    };
    ApiError::new(ErrorCode::Conflict, error.to_string()).with_field(field).with_reason(reason)
}

/// A store error, a conflict with the reason the web pages translate (see [`refusal`]).
fn conflict_reason(reason: &'static str) -> impl FnOnce(StoreError) -> ApiError {
    move |error| {
        let conflict = matches!(error, StoreError::Conflict { .. });
        let error = ApiError::from(error);
        if conflict { error.with_reason(reason) } else { error }
    }
}

fn package_errors(errors: Vec<PackageError>) -> ApiError {
    package_rejected("course", errors)
}

/// The answer to a package with problems: 422 `import_rejected`, every problem in `details` with
/// its file as `field` and its `line`; `what` names the package (`course`, `scenario`).
pub(crate) fn package_rejected(what: &str, errors: Vec<PackageError>) -> ApiError {
    let count = errors.len();
    let first = errors.first().map(ToString::to_string).unwrap_or_default();
    let mut error = ApiError::new(
        ErrorCode::ImportRejected,
        format!("{what} package rejected, nothing was imported: {count} problems, first: {first}"),
    );
    error.field = errors.first().map(|error| error.file.clone());
    error.details = errors
        .into_iter()
        .map(|error| ErrorDetail {
            field: error.file,
            message: error.message,
            line: error.line.map(u64::from),
        })
        .collect();
    error
}

// Wire types.

/// The language of texts: `en`, `bs`, `hr`, `sr-Latn` or `sr-Cyrl`; the course's first language
/// when left out or not one of the course's.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LangQuery {
    pub lang: Option<String>,
}

/// A course version in a listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct CourseSummary {
    pub id: Uuid,
    pub code: String,
    pub version: u32,
    pub title: String,
    pub languages: Vec<String>,
    pub modules: usize,
    pub lessons: usize,
    pub has_quiz: bool,
    pub imported_at: String,
}

fn summary(stored: &StoredCourse, language: Language) -> CourseSummary {
    let course = &stored.course;
    CourseSummary {
        id: stored.id,
        code: course.code.clone(),
        version: course.version,
        title: text_in(&course.title, language, course.default_language()).to_owned(),
        languages: course.languages.iter().map(|language| language.tag().to_owned()).collect(),
        modules: course.modules.len(),
        lessons: course.lessons().count(),
        has_quiz: course.quiz.is_some(),
        imported_at: rfc3339(stored.imported_at),
    }
}

/// A lesson in a course's outline.
#[derive(Debug, Serialize, ToSchema)]
pub struct LessonOutline {
    /// `module/lesson`: the key of lesson progress.
    pub key: String,
    pub title: String,
}

/// A module in a course's outline.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModuleOutline {
    pub id: String,
    pub title: String,
    pub lessons: Vec<LessonOutline>,
}

/// The quiz's rules.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuizRules {
    pub pass_mark: u8,
    pub max_attempts: u32,
    pub time_limit_minutes: u32,
    pub questions_per_attempt: u32,
}

/// A course in one language.
#[derive(Debug, Serialize, ToSchema)]
pub struct CourseDto {
    #[serde(flatten)]
    pub summary: CourseSummary,
    pub language: String,
    pub description: String,
    pub modules: Vec<ModuleOutline>,
    pub quiz: Option<QuizRules>,
}

/// One lesson, as safe HTML (raw HTML of the Markdown shown as text; images served under
/// `/api/v1/learning/courses/{id}/images/`).
#[derive(Debug, Serialize, ToSchema)]
pub struct LessonDto {
    pub key: String,
    pub language: String,
    pub title: String,
    pub html: String,
}

/// A file of a course package: `text` (UTF-8) or `base64` (images).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PackageFile {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
}

/// A course package as JSON.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PackageDto {
    pub files: Vec<PackageFile>,
}

/// A new enrolment: the caller's own, or `user_id`'s when an administrator assigns the course.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEnrolment {
    pub course_id: Uuid,
    pub user_id: Option<Uuid>,
}

/// How far an enrolment is.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressDto {
    pub lessons_done: u32,
    pub lessons_total: u32,
    pub has_quiz: bool,
    pub quiz_passed: bool,
    pub complete: bool,
}

/// An attempt in an enrolment.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptSummary {
    pub id: Uuid,
    pub number: u32,
    pub started_at: String,
    pub deadline: String,
    pub submitted_at: Option<String>,
    pub score: Option<u8>,
    pub passed: Option<bool>,
}

/// An enrolment with its progress, attempts and certificate.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolmentDto {
    pub id: Uuid,
    pub course_id: Uuid,
    pub user_id: Uuid,
    pub org_id: Uuid,
    pub assigned_by: Option<Uuid>,
    pub enrolled_at: String,
    pub version: i64,
    /// The lessons read (`module/lesson`).
    pub lessons_done: Vec<String>,
    pub passed_at: Option<String>,
    pub completed_at: Option<String>,
    pub progress: ProgressDto,
    pub attempts: Vec<AttemptSummary>,
    /// The certificate's verification code, once the course is complete.
    pub certificate: Option<String>,
}

fn attempt_summary(attempt: &Attempt) -> AttemptSummary {
    AttemptSummary {
        id: attempt.id,
        number: attempt.number,
        started_at: rfc3339(attempt.started_at),
        deadline: rfc3339(attempt.deadline),
        submitted_at: attempt.submitted_at.map(rfc3339),
        score: attempt.outcome.as_ref().map(|outcome| outcome.score),
        passed: attempt.outcome.as_ref().map(|outcome| outcome.passed),
    }
}

async fn enrolment_dto(
    state: &AppState,
    stored: &StoredEnrolment,
    course: &Course,
) -> ApiResult<EnrolmentDto> {
    let enrolment = &stored.enrolment;
    let progress = enrolment::progress(course, enrolment);
    let attempts = state.store().list_attempts(enrolment.id).await?;
    let certificate = state.store().enrolment_certificate(enrolment.id).await?;
    Ok(EnrolmentDto {
        id: enrolment.id,
        course_id: enrolment.course_id,
        user_id: enrolment.user_id,
        org_id: enrolment.org_id,
        assigned_by: enrolment.assigned_by,
        enrolled_at: rfc3339(enrolment.enrolled_at),
        version: stored.version,
        lessons_done: enrolment.lessons_done.keys().cloned().collect(),
        passed_at: enrolment.passed_at.map(rfc3339),
        completed_at: enrolment.completed_at.map(rfc3339),
        progress: ProgressDto {
            lessons_done: progress.lessons_done,
            lessons_total: progress.lessons_total,
            has_quiz: progress.has_quiz,
            quiz_passed: progress.quiz_passed,
            complete: progress.complete,
        },
        attempts: attempts.iter().map(attempt_summary).collect(),
        certificate: certificate.map(|certificate| certificate.code),
    })
}

/// An option of a question, without whether it is right.
#[derive(Debug, Serialize, ToSchema)]
pub struct OptionDto {
    pub id: String,
    pub text: String,
}

/// A question as the learner sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionDto {
    pub id: String,
    /// `single` (answer: an option id), `multiple` (a list of option ids), `true_false` (true or
    /// false) or `short_answer` (text).
    #[serde(rename = "type")]
    pub kind: String,
    pub text: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<OptionDto>,
}

/// Feedback on one answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackDto {
    pub question: String,
    pub answered: bool,
    pub correct: bool,
    pub messages: Vec<String>,
}

/// The result of a submitted attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeDto {
    pub correct: u32,
    pub total: u32,
    /// In percent.
    pub score: u8,
    pub pass_mark: u8,
    pub passed: bool,
    pub feedback: Vec<FeedbackDto>,
}

/// An attempt: its questions in the learner's language and, once submitted, its result.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptDto {
    #[serde(flatten)]
    pub summary: AttemptSummary,
    pub enrolment_id: Uuid,
    pub language: String,
    pub questions: Vec<QuestionDto>,
    pub outcome: Option<OutcomeDto>,
    /// Attempts left after this one.
    pub attempts_left: u32,
    /// The certificate's code when this submission completed the course.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
}

fn attempt_dto(
    course: &Course,
    attempt: &Attempt,
    language: Language,
    certificate: Option<String>,
) -> AttemptDto {
    let fallback = course.default_language();
    let questions = course
        .quiz
        .iter()
        .flat_map(|quiz| attempt.questions.iter().filter_map(|id| quiz.question(id)))
        .map(|question| {
            let options = match &question.kind {
                QuestionKind::Single { options } | QuestionKind::Multiple { options } => options
                    .iter()
                    .map(|option| OptionDto {
                        id: option.id.clone(),
                        text: text_in(&option.text, language, fallback).to_owned(),
                    })
                    .collect(),
                _ => Vec::new(),
            };
            QuestionDto {
                id: question.id.clone(),
                kind: question.kind.name().to_owned(),
                text: text_in(&question.text, language, fallback).to_owned(),
                options,
            }
        })
        .collect();
    let pass_mark = course.quiz.as_ref().map_or(0, |quiz| quiz.pass_mark);
    let max = course.quiz.as_ref().map_or(0, |quiz| quiz.max_attempts);
    AttemptDto {
        summary: attempt_summary(attempt),
        enrolment_id: attempt.enrolment_id,
        language: language.tag().to_owned(),
        questions,
        outcome: attempt.outcome.as_ref().map(|outcome| OutcomeDto {
            correct: outcome.correct,
            total: outcome.total,
            score: outcome.score,
            pass_mark,
            passed: outcome.passed,
            feedback: outcome
                .feedback
                .iter()
                .map(|item| FeedbackDto {
                    question: item.question.clone(),
                    answered: item.answered,
                    correct: item.correct,
                    messages: item.messages.clone(),
                })
                .collect(),
        }),
        attempts_left: max.saturating_sub(attempt.number),
        certificate,
    }
}

// Courses.

/// Imports a course package: a zip (`Content-Type: application/zip`) of the package folder, or
/// its files as JSON. A package with any problem is rejected whole (422 `import_rejected`, every
/// problem in `details` with its file as `field` and its `line`).
#[utoipa::path(post, path = "/api/v1/learning/courses", tag = "learning",
    request_body(content = PackageDto, description = "the package's files as JSON, or a zip (application/zip)"),
    responses((status = 201, body = CourseSummary), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn import(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require_course_editor(&auth)?;
    let limits = Limits::default();
    let package = read_package(&headers, &body, &limits, package_errors)?;
    let course = package::parse(&package, &limits).map_err(package_errors)?;
    let stored = state.store().import_course(&auth.actor(), Uuid::now_v7(), &course).await?;
    Ok((StatusCode::CREATED, Json(summary(&stored, stored.course.default_language()))).into_response())
}

/// Reads a package sent as a zip (`application/zip`) or as its files in JSON (`PackageDto`);
/// `rejected` turns the package's problems into the answer.
pub(crate) fn read_package(
    headers: &HeaderMap,
    body: &[u8],
    limits: &Limits,
    rejected: fn(Vec<PackageError>) -> ApiError,
) -> ApiResult<Package> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("");
    let media = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match media.as_str() {
        "application/zip" | "application/x-zip-compressed" => {
            Package::from_zip(body, limits).map_err(rejected)
        }
        "application/json" => {
            let dto: PackageDto = serde_json::from_slice(body)
                .map_err(|error| ApiError::new(ErrorCode::InvalidJson, format!("invalid JSON: {error}")))?;
            package_from_dto(dto).map_err(rejected)
        }
        _ => Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the package as application/zip or as application/json",
        )),
    }
}

fn package_from_dto(dto: PackageDto) -> Result<Package, Vec<PackageError>> {
    let mut package = Package::default();
    let mut errors = Vec::new();
    for file in dto.files {
        let data = match (file.text, file.base64) {
            (Some(text), None) => text.into_bytes(),
            (None, Some(encoded)) => match STANDARD.decode(encoded.as_bytes()) {
                Ok(data) => data,
                Err(error) => {
                    errors.push(PackageError {
                        file: file.path,
                        line: None,
                        message: format!("base64: {error}"),
                    });
                    continue;
                }
            },
            _ => {
                errors.push(PackageError {
                    file: file.path,
                    line: None,
                    message: "give the file as `text` or as `base64`, not both".into(),
                });
                continue;
            }
        };
        if package.files().contains_key(&file.path) {
            errors.push(PackageError {
                file: file.path,
                line: None,
                message: "the file is given twice".into(),
            });
        } else if let Err(error) = package.insert(&file.path, data) {
            errors.push(error);
        }
    }
    if errors.is_empty() { Ok(package) } else { Err(errors) }
}

/// Every course version, by code and version.
#[utoipa::path(get, path = "/api/v1/learning/courses", tag = "learning", params(LangQuery),
    responses((status = 200, body = [CourseSummary])), security(("bearer" = []), ("session" = [])))]
pub async fn list_courses(
    State(state): State<AppState>,
    _auth: Auth,
    query: Result<Query<LangQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<CourseSummary>>> {
    let Query(query) = query?;
    let courses = state.store().list_courses().await?;
    let mut items = Vec::with_capacity(courses.len());
    for stored in &courses {
        items.push(summary(stored, language(&stored.course, query.lang.as_deref())?));
    }
    Ok(Json(items))
}

/// A course's outline in one language.
#[utoipa::path(get, path = "/api/v1/learning/courses/{id}", tag = "learning",
    params(("id" = Uuid, Path), LangQuery),
    responses((status = 200, body = CourseDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get_course(
    State(state): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
    query: Result<Query<LangQuery>, QueryRejection>,
) -> ApiResult<Json<CourseDto>> {
    let Query(query) = query?;
    let stored = course(&state, parse_id("id", &id)?).await?;
    let course = &stored.course;
    let language = language(course, query.lang.as_deref())?;
    let fallback = course.default_language();
    Ok(Json(CourseDto {
        summary: summary(&stored, language),
        language: language.tag().to_owned(),
        description: text_in(&course.description, language, fallback).to_owned(),
        modules: course
            .modules
            .iter()
            .map(|module| ModuleOutline {
                id: module.id.clone(),
                title: text_in(&module.title, language, fallback).to_owned(),
                lessons: module
                    .lessons
                    .iter()
                    .map(|lesson| LessonOutline {
                        key: lesson.key(module),
                        title: text_in(&lesson.title, language, fallback).to_owned(),
                    })
                    .collect(),
            })
            .collect(),
        quiz: course.quiz.as_ref().map(|quiz| QuizRules {
            pass_mark: quiz.pass_mark,
            max_attempts: quiz.max_attempts,
            time_limit_minutes: quiz.time_limit_minutes,
            questions_per_attempt: quiz.drawn(),
        }),
    }))
}

/// One lesson as safe HTML.
#[utoipa::path(get, path = "/api/v1/learning/courses/{id}/lessons/{module}/{lesson}", tag = "learning",
    params(("id" = Uuid, Path), ("module" = String, Path), ("lesson" = String, Path), LangQuery),
    responses((status = 200, body = LessonDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn lesson(
    State(state): State<AppState>,
    _auth: Auth,
    Path((id, module, lesson)): Path<(String, String, String)>,
    query: Result<Query<LangQuery>, QueryRejection>,
) -> ApiResult<Json<LessonDto>> {
    let Query(query) = query?;
    let course_id = parse_id("id", &id)?;
    let stored = course(&state, course_id).await?;
    let course = &stored.course;
    let language = language(course, query.lang.as_deref())?;
    let key = format!("{module}/{lesson}");
    let (module, lesson) = course.lesson(&key).ok_or_else(|| ApiError::not_found("lesson"))?;
    let fallback = course.default_language();
    let base = format!("/api/v1/learning/courses/{course_id}/images/");
    Ok(Json(LessonDto {
        key: lesson.key(module),
        language: language.tag().to_owned(),
        title: text_in(&lesson.title, language, fallback).to_owned(),
        html: markdown::render(text_in(&lesson.body, language, fallback), &base),
    }))
}

/// An image of a course's lessons.
#[utoipa::path(get, path = "/api/v1/learning/courses/{id}/images/{name}", tag = "learning",
    params(("id" = Uuid, Path), ("name" = String, Path)),
    responses((status = 200, description = "the image"), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn image(
    State(state): State<AppState>,
    _auth: Auth,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let stored = course(&state, parse_id("id", &id)?).await?;
    let image = stored.course.image(&name).ok_or_else(|| ApiError::not_found("image"))?;
    Ok((
        [
            (header::CONTENT_TYPE, image.media_type.clone()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'".to_owned()),
        ],
        image.data.clone(),
    )
        .into_response())
}

/// A course back as its package's files (the JSON form of an import), audited as an export.
#[utoipa::path(get, path = "/api/v1/learning/courses/{id}/export", tag = "learning",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = PackageDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn export_course(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<PackageDto>> {
    let stored = course(&state, parse_id("id", &id)?).await?;
    let package = export::export(&stored.course)
        .map_err(|error| ApiError::new(ErrorCode::Internal, format!("export failed: {error}")))?;
    let files: Vec<PackageFile> = package
        .files()
        .iter()
        .map(|(path, data)| match std::str::from_utf8(data) {
            Ok(text) if !path.starts_with("images/") => {
                PackageFile { path: path.clone(), text: Some(text.to_owned()), base64: None }
            }
            _ => PackageFile { path: path.clone(), text: None, base64: Some(STANDARD.encode(data)) },
        })
        .collect();
    let dto = PackageDto { files };
    let bytes = serde_json::to_vec(&dto).unwrap_or_default();
    state
        .store()
        .append_audit(&AuditEvent {
            actor: auth.actor().0,
            action: "learning.course.export".into(),
            object_type: "course".into(),
            object_id: stored.id.to_string(),
            digest: digest_hex(&bytes),
        })
        .await?;
    Ok(Json(dto))
}

// Enrolments.

/// Enrols the caller in a course, or assigns it to `user_id` (an admin of the user's
/// organisation, or of the operating CERT); a second enrolment is a conflict on `course_id`.
#[utoipa::path(post, path = "/api/v1/learning/enrolments", tag = "learning", request_body = NewEnrolment,
    responses((status = 201, body = EnrolmentDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn enrol(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<NewEnrolment>,
) -> ApiResult<Response> {
    require_writer(&auth)?;
    let stored_course = course(&state, body.course_id).await?;
    let (user_id, org_id, assigned_by) = match body.user_id {
        None => (auth.0.user_id, auth.0.org_id, None),
        Some(user_id) if user_id == auth.0.user_id => (auth.0.user_id, auth.0.org_id, None),
        Some(user_id) => {
            let user = state.store().get_user(user_id).await?;
            let admin_of = |org: Uuid| {
                auth.0.role == Role::Admin && (auth.0.org_id == org || auth.0.is_operator_staff())
            };
            match user {
                Some(user) if admin_of(user.org_id) => (user.id, user.org_id, Some(auth.0.user_id)),
                // Users of other organisations are not revealed.
                Some(user) if auth.0.org_id == user.org_id => {
                    return Err(ApiError::forbidden(
                        "only an administrator of the organisation assigns courses",
                    ));
                }
                _ => return Err(ApiError::not_found("user")),
            }
        }
    };
    let enrolment = Enrolment {
        id: Uuid::now_v7(),
        course_id: stored_course.id,
        user_id,
        org_id,
        assigned_by,
        enrolled_at: OffsetDateTime::now_utc(),
        lessons_done: BTreeMap::new(),
        passed_at: None,
        completed_at: None,
    };
    let stored = state.store().enrol(&auth.actor(), &enrolment).await.map_err(conflict_reason("enrolled"))?;
    Ok((StatusCode::CREATED, Json(enrolment_dto(&state, &stored, &stored_course.course).await?))
        .into_response())
}

/// Which enrolments to list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EnrolmentFilter {
    pub user: Option<Uuid>,
    pub course: Option<Uuid>,
    pub org: Option<Uuid>,
}

/// The records the caller may see: a learner's own; an organisation admin's, its members';
/// the operating CERT staff's, all.
pub(crate) async fn visible_enrolments(
    state: &AppState,
    auth: &Auth,
    filter: &EnrolmentFilter,
) -> ApiResult<Vec<StoredEnrolment>> {
    let mut query = EnrolmentQuery { user_id: filter.user, org_id: filter.org, course_id: filter.course };
    if !auth.0.is_operator_staff() {
        if auth.0.role == Role::Admin {
            query.org_id = Some(auth.0.org_id);
        } else {
            query.user_id = Some(auth.0.user_id);
        }
    }
    let found = state.store().list_enrolments(&query).await?;
    Ok(found
        .into_iter()
        .filter(|stored| filter.user.is_none_or(|user| stored.enrolment.user_id == user))
        .filter(|stored| filter.org.is_none_or(|org| stored.enrolment.org_id == org))
        .filter(|stored| may_see_record(auth, &stored.enrolment))
        .collect())
}

/// The enrolments the caller may see, oldest first.
#[utoipa::path(get, path = "/api/v1/learning/enrolments", tag = "learning", params(EnrolmentFilter),
    responses((status = 200, body = [EnrolmentDto])), security(("bearer" = []), ("session" = [])))]
pub async fn list_enrolments(
    State(state): State<AppState>,
    auth: Auth,
    query: Result<Query<EnrolmentFilter>, QueryRejection>,
) -> ApiResult<Json<Vec<EnrolmentDto>>> {
    let Query(filter) = query?;
    let mut courses: BTreeMap<Uuid, StoredCourse> = BTreeMap::new();
    let mut items = Vec::new();
    for stored in visible_enrolments(&state, &auth, &filter).await? {
        let course_id = stored.enrolment.course_id;
        let found = match courses.entry(course_id) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => entry.insert(course(&state, course_id).await?),
        };
        items.push(enrolment_dto(&state, &stored, &found.course).await?);
    }
    Ok(Json(items))
}

/// One enrolment with its progress, attempts and certificate.
#[utoipa::path(get, path = "/api/v1/learning/enrolments/{id}", tag = "learning", params(("id" = Uuid, Path)),
    responses((status = 200, body = EnrolmentDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get_enrolment(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<EnrolmentDto>> {
    let stored = visible_enrolment(&state, &auth, &id).await?;
    let course = course(&state, stored.enrolment.course_id).await?;
    Ok(Json(enrolment_dto(&state, &stored, &course.course).await?))
}

/// A lesson read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LessonRead {
    /// `module/lesson`.
    pub lesson: String,
}

/// Marks a lesson read (the learner only); completing the course issues its certificate.
#[utoipa::path(post, path = "/api/v1/learning/enrolments/{id}/lessons", tag = "learning",
    params(("id" = Uuid, Path)), request_body = LessonRead,
    responses((status = 200, body = EnrolmentDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn read_lesson(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<LessonRead>,
) -> ApiResult<Json<EnrolmentDto>> {
    let stored = visible_enrolment(&state, &auth, &id).await?;
    require_learner(&auth, &stored.enrolment)?;
    let course = course(&state, stored.enrolment.course_id).await?;
    let mut enrolment = stored.enrolment.clone();
    let now = OffsetDateTime::now_utc();
    let completed = enrolment::mark_lesson(&course.course, &mut enrolment, &body.lesson, now)?;
    let certificate = if completed {
        Some(issue_certificate(state.store(), &course.course, &enrolment, now).await?)
    } else {
        None
    };
    let written = state
        .store()
        .update_enrolment(&auth.actor(), &enrolment, stored.version, certificate.as_ref())
        .await
        .map_err(conflict_reason("changed"))?;
    Ok(Json(enrolment_dto(&state, &written, &course.course).await?))
}

// Attempts.

/// Starts the next quiz attempt (the learner only): refused while one is open, after a pass,
/// or when every attempt is used. The questions are drawn at random from the pools.
#[utoipa::path(post, path = "/api/v1/learning/enrolments/{id}/attempts", tag = "learning",
    params(("id" = Uuid, Path), LangQuery),
    responses((status = 201, body = AttemptDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn start_attempt(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    query: Result<Query<LangQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(query) = query?;
    let stored = visible_enrolment(&state, &auth, &id).await?;
    require_learner(&auth, &stored.enrolment)?;
    let course = course(&state, stored.enrolment.course_id).await?;
    let language = language(&course.course, query.lang.as_deref())?;
    let previous = state.store().list_attempts(stored.enrolment.id).await?;
    let seed = u64::from_le_bytes(crate::auth::random_bytes());
    let attempt = quiz::start(
        course.course.quiz.as_ref(),
        &previous,
        Uuid::now_v7(),
        stored.enrolment.id,
        seed,
        OffsetDateTime::now_utc(),
    )
    .map_err(refusal)?;
    // A conflict here is another attempt started at the same moment.
    let attempt =
        state.store().start_attempt(&auth.actor(), &attempt).await.map_err(conflict_reason("open"))?;
    Ok((StatusCode::CREATED, Json(attempt_dto(&course.course, &attempt, language, None))).into_response())
}

/// One attempt: its questions and, once submitted, its result and feedback.
#[utoipa::path(get, path = "/api/v1/learning/attempts/{id}", tag = "learning",
    params(("id" = Uuid, Path), LangQuery),
    responses((status = 200, body = AttemptDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get_attempt(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    query: Result<Query<LangQuery>, QueryRejection>,
) -> ApiResult<Json<AttemptDto>> {
    let Query(query) = query?;
    let (attempt, stored) = visible_attempt(&state, &auth, &id).await?;
    let course = course(&state, stored.enrolment.course_id).await?;
    let language = language(&course.course, query.lang.as_deref())?;
    let certificate = state.store().enrolment_certificate(stored.enrolment.id).await?.map(|c| c.code);
    Ok(Json(attempt_dto(&course.course, &attempt, language, certificate)))
}

/// The answers of an attempt, by question id: an option id (`single`), a list of option ids
/// (`multiple`), `true`/`false` (`true_false`) or text (`short_answer`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    #[schema(value_type = Object)]
    pub answers: BTreeMap<String, Value>,
}

/// Submits an attempt (the learner only) and answers with the score and feedback per answer; a
/// pass that completes the course issues its certificate. An attempt submitted already, or
/// after its deadline, is refused (409, field `attempt` or `deadline`).
#[utoipa::path(post, path = "/api/v1/learning/attempts/{id}/submit", tag = "learning",
    params(("id" = Uuid, Path), LangQuery), request_body = Submission,
    responses((status = 200, body = AttemptDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn submit_attempt(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    query: Result<Query<LangQuery>, QueryRejection>,
    ApiJson(body): ApiJson<Submission>,
) -> ApiResult<Json<AttemptDto>> {
    let Query(query) = query?;
    let (attempt, stored) = visible_attempt(&state, &auth, &id).await?;
    require_learner(&auth, &stored.enrolment)?;
    let course = course(&state, stored.enrolment.course_id).await?;
    let quiz = course.course.quiz.as_ref().ok_or_else(|| refusal(Refusal::NoQuiz))?;
    let language = language(&course.course, query.lang.as_deref())?;
    let mut answers = BTreeMap::new();
    let mut problems = Vec::new();
    for (question, value) in body.answers {
        match serde_json::from_value::<Answer>(value) {
            Ok(answer) => {
                answers.insert(question, answer);
            }
            Err(_) => problems.push(FieldError::new(
                format!("answers.{question}"),
                "an answer is an option id, a list of option ids, true or false, or text",
            )),
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::validation(problems));
    }
    let now = OffsetDateTime::now_utc();
    let submitted = quiz::submit(quiz, &attempt, answers, language, course.course.default_language(), now)
        .map_err(refusal)?
        .map_err(ApiError::validation)?;
    let mut enrolment = stored.enrolment.clone();
    let passed = submitted.outcome.as_ref().is_some_and(|outcome| outcome.passed);
    let completed = passed && enrolment::record_pass(&course.course, &mut enrolment, now);
    let certificate = if completed {
        Some(issue_certificate(state.store(), &course.course, &enrolment, now).await?)
    } else {
        None
    };
    state
        .store()
        .submit_attempt(&auth.actor(), &submitted, &enrolment, stored.version, certificate.as_ref())
        .await
        .map_err(|error| {
            // Submitted twice at once (on `attempt`), or the enrolment changed meanwhile.
            let changed = matches!(&error, StoreError::Conflict { field, .. } if field == "version");
            conflict_reason(if changed { "changed" } else { "submitted" })(error)
        })?;
    let code = certificate.map(|certificate| certificate.code);
    Ok(Json(attempt_dto(&course.course, &submitted, language, code)))
}

// Certificates and records.

/// What anyone holding a certificate's code learns.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateCheck {
    pub valid: bool,
    pub code: String,
    pub holder: String,
    pub course: String,
    /// The course's title in each of its languages.
    #[schema(value_type = Object)]
    pub course_titles: BTreeMap<String, String>,
    pub course_version: u32,
    /// The day it was issued (YYYY-MM-DD, UTC).
    pub issued_on: String,
}

/// Verifies a certificate's code; no login needed. Codes are read leniently (lower case, no
/// dashes, `O` for `0`); an unknown code answers 404.
#[utoipa::path(get, path = "/api/v1/learning/certificates/verify/{code}", tag = "learning",
    params(("code" = String, Path)),
    responses((status = 200, body = CertificateCheck), (status = 404, body = ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<CertificateCheck>> {
    let unknown = || ApiError::not_found("certificate");
    let code = normalise_code(&code).ok_or_else(unknown)?;
    let certificate = state.store().get_certificate(&code).await?.ok_or_else(unknown)?;
    Ok(Json(CertificateCheck {
        valid: true,
        code: certificate.code,
        holder: certificate.holder,
        course: certificate.course_code,
        course_titles: certificate
            .course_title
            .iter()
            .map(|(language, title)| (language.tag().to_owned(), title.clone()))
            .collect(),
        course_version: certificate.course_version,
        issued_on: certificate.issued_at.date().to_string(),
    }))
}

/// The learning records to export, and the URL their ids are under.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct XapiQuery {
    pub user: Option<Uuid>,
    pub course: Option<Uuid>,
    pub org: Option<Uuid>,
    /// The instance's public URL (`https://neretva.example`); `https://<Host>` when left out.
    pub base: Option<String>,
}

/// The learning records the caller may see as xAPI 1.0.3 statements (ADL verbs), audited as an
/// export.
#[utoipa::path(get, path = "/api/v1/learning/records/xapi", tag = "learning", params(XapiQuery),
    responses((status = 200, description = "a JSON array of xAPI statements"), (status = 400, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn xapi(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    query: Result<Query<XapiQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(query) = query?;
    let base = match query.base {
        Some(base) => base,
        None => {
            let host = headers.get(header::HOST).and_then(|value| value.to_str().ok()).unwrap_or("localhost");
            format!("https://{host}")
        }
    };
    let valid_base = (base.starts_with("https://") || base.starts_with("http://"))
        && base.len() <= 200
        && !base
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>' | '?' | '#'));
    if !valid_base {
        return Err(ApiError::bad_request("base", "base must be an http(s) URL without query or fragment"));
    }
    let filter = EnrolmentFilter { user: query.user, course: query.course, org: query.org };
    let enrolments = visible_enrolments(&state, &auth, &filter).await?;
    let statements = statements_for(state.store(), &enrolments, &base).await?;
    let body = serde_json::to_vec(&statements).unwrap_or_default();
    state
        .store()
        .append_audit(&AuditEvent {
            actor: auth.actor().0,
            action: "learning.records.export".into(),
            object_type: "learning_records".into(),
            object_id: format!("{} enrolments", enrolments.len()),
            digest: digest_hex(&body),
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}
