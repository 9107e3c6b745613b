//! Feeds (`/feeds`): each feed's last run, its counts and failures, what each feed's source
//! last did (a failing download stores no report), the newest reports, each report's records
//! that failed to parse with their line numbers and a button to parse it again
//! (`/feeds/reports/{id}`), and upload forms (pasted text, or a report file) that ingest a
//! report through the API's upload path. The CERT's staff only; anyone else gets 404.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::{Value, context};
use neretva_model::Uuid;
use neretva_model::contact::Language;
use neretva_store::feeds::{ReportInfo, ReportQuery, ReportStatus};
use neretva_store::{Store, StoreError};
use serde::Deserialize;

use crate::AppState;
use crate::api::events::{Archives, ingest_report, ingest_upload, reparse_report, writing_staff_pipeline};
use crate::api::feeds::request_fetch;
use crate::web::multipart::{Multipart, UPLOAD_OVERHEAD, base_name};
use crate::web::{WebForm, WebUser, button, check_csrf, encode_query_value, short_time, t, t_n};

/// The newest reports read for the feeds' health.
const HEALTH_REPORTS: u32 = 1_000;
/// Reports listed per page.
const PAGE: u32 = 50;
/// Failed records shown for one report.
const ERRORS_SHOWN: u32 = 1_000;
/// The largest report pasted into the upload form (the body limit applies as well).
const MAX_UPLOAD: usize = 1024 * 1024;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/feeds", get(page))
        .route("/feeds/upload", post(upload))
        .route("/feeds/upload-file", post(upload_file))
        .route("/feeds/fetch", post(fetch))
        .route("/feeds/reports/{id}", get(report_page))
        .route("/feeds/reports/{id}/reparse", button((), reparse))
}

/// One feed's state from its newest reports.
struct FeedState {
    last: ReportInfo,
    reports: u64,
    events: u64,
    errors: u64,
    failed: u64,
}

fn status_text(language: Language, status: ReportStatus) -> String {
    t(language, &format!("feeds.status.{}", status.as_str()))
}

/// The health of each feed with reports among the newest [`HEALTH_REPORTS`]: its last report,
/// and the counts over those reports. For the dashboard and the feeds page.
pub(crate) async fn health(store: &dyn Store, language: Language) -> Result<Vec<Value>, StoreError> {
    let reports =
        store.list_reports(&ReportQuery { feed: None, before: None, limit: HEALTH_REPORTS }).await?;
    let mut feeds: BTreeMap<String, FeedState> = BTreeMap::new();
    for report in reports {
        let failed = u64::from(report.status == ReportStatus::Failed);
        let entry = feeds.entry(report.feed.clone()).or_insert_with(|| FeedState {
            last: report.clone(),
            reports: 0,
            events: 0,
            errors: 0,
            failed: 0,
        });
        entry.reports += 1;
        entry.events += report.counts.events;
        entry.errors += report.counts.errors;
        entry.failed += failed;
    }
    Ok(feeds
        .into_iter()
        .map(|(feed, state)| {
            let last = &state.last;
            let (health, class) = if last.status == ReportStatus::Failed {
                (t(language, "dashboard.feeds.failing"), "bad")
            } else if last.counts.errors > 0 {
                (t(language, "dashboard.feeds.with_errors"), "soon")
            } else {
                (t(language, "dashboard.feeds.ok"), "good")
            };
            context! {
                feed => feed,
                last_id => last.id.to_string(),
                last_at => short_time(last.received_at),
                last_status => status_text(language, last.status),
                last_events => last.counts.events,
                last_errors => last.counts.errors,
                last_failure => &last.failure,
                health => health,
                health_class => class,
                reports => state.reports,
                events => state.events,
                errors => state.errors,
                failed => state.failed,
            }
        })
        .collect())
}

/// Each configured feed with a source: its kind and what it did (its last poll, success and
/// failure also from before a restart, as the source saved them).
fn sources(state: &AppState, language: Language) -> Vec<Value> {
    let Some(pipeline) = state.pipeline() else { return Vec::new() };
    pipeline
        .feed_names()
        .into_iter()
        .filter_map(|feed| {
            let kind = pipeline.source_kind(feed)?;
            let source = pipeline.source_status().get(feed);
            let (health, class) = match &source {
                None => (t(language, "feeds.sources.not_running"), "muted"),
                Some(source) if source.failing_polls > 0 => (t(language, "dashboard.feeds.failing"), "bad"),
                Some(source) if source.last_poll.is_none() => (t(language, "feeds.sources.waiting"), "muted"),
                Some(_) => (t(language, "dashboard.feeds.ok"), "good"),
            };
            let running = pipeline.source_status().wakeable(feed);
            let source = source.unwrap_or_default();
            let left = match source.messages_left() {
                0 => None,
                n => Some(t_n(language, "feeds.sources.left", i64::try_from(n).unwrap_or(i64::MAX))),
            };
            Some(context! {
                feed => feed,
                running => running,
                kind => kind,
                health => health,
                health_class => class,
                failing_polls => source.failing_polls,
                last_poll => source.last_poll.map(short_time),
                last_success => source.last_success.map(short_time),
                last_error => source.last_error,
                last_error_at => source.last_error_at.map(short_time),
                reports => source.reports,
                left => left,
            })
        })
        .collect()
}

fn report_row(language: Language, report: &ReportInfo) -> Value {
    context! {
        id => report.id.to_string(),
        feed => &report.feed,
        source => &report.source,
        received_at => short_time(report.received_at),
        status => status_text(language, report.status),
        failed => report.status == ReportStatus::Failed,
        records => report.counts.records,
        events => report.counts.events,
        errors => report.counts.errors,
        duplicates => report.counts.duplicates,
        dropped => report.counts.dropped,
        size => report.size,
        failure => &report.failure,
        data_purged => report.data_purged,
    }
}

#[derive(Debug, Default, Deserialize)]
struct FeedFilter {
    feed: Option<String>,
    cursor: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    web: WebUser,
    filter: Result<Query<FeedFilter>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if !web.user.is_operator_staff() {
        return web.not_found();
    }
    let Ok(Query(filter)) = filter else {
        return web.bad_request("query", "unknown or malformed parameter");
    };
    let feed = filter.feed.filter(|feed| !feed.is_empty());
    let before = match filter.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(text) => match Uuid::try_parse(text) {
            Ok(id) => Some(id),
            Err(_) => return web.bad_request("cursor", "not a report id"),
        },
    };
    let language = web.language;
    let health = match health(state.store(), language).await {
        Ok(health) => health,
        Err(error) => return web.internal(&error),
    };
    let query = ReportQuery { feed: feed.clone(), before, limit: PAGE };
    let reports = match state.store().list_reports(&query).await {
        Ok(reports) => reports,
        Err(error) => return web.internal(&error),
    };
    let next_cursor =
        (reports.len() == PAGE as usize).then(|| reports.last().map(|r| r.id.to_string())).flatten();
    let mut next_link = None;
    if let Some(cursor) = next_cursor {
        let mut link = format!("/feeds?cursor={cursor}");
        if let Some(feed) = &feed {
            link.push_str(&format!("&feed={}", crate::web::encode_query_value(feed)));
        }
        next_link = Some(link);
    }
    let configured: Vec<String> = state
        .pipeline()
        .map(|pipeline| pipeline.feed_names().into_iter().map(str::to_owned).collect())
        .unwrap_or_default();
    let context = context! {
        health => health,
        sources => sources(&state, language),
        reports => reports.iter().map(|r| report_row(language, r)).collect::<Vec<_>>(),
        feed => feed,
        paged => before.is_some(),
        next_link => next_link,
        configured => configured,
        may_upload => neretva_model::access::may_write(&web.principal()) && state.pipeline().is_some(),
        may_fetch => neretva_model::access::may_write(&web.principal()),
    };
    web.render("web/feeds/index.html", context)
}

async fn report_page(State(state): State<AppState>, web: WebUser, Path(id): Path<String>) -> Response {
    if !web.user.is_operator_staff() {
        return web.not_found();
    }
    let Ok(id) = Uuid::try_parse(&id) else { return web.not_found() };
    let report = match state.store().get_report(id).await {
        Ok(Some(report)) => report,
        Ok(None) => return web.not_found(),
        Err(error) => return web.internal(&error),
    };
    let errors = match state.store().report_errors(id, ERRORS_SHOWN).await {
        Ok(errors) => errors,
        Err(error) => return web.internal(&error),
    };
    let language = web.language;
    let context = context! {
        report => report_row(language, &report),
        sha256 => &report.sha256,
        parser => &report.parser,
        parsed_at => report.parsed_at.map(short_time),
        errors => errors.iter().map(|e| context! {
            line => e.line,
            field => &e.field,
            message => &e.message,
            raw => &e.raw,
        }).collect::<Vec<_>>(),
        errors_capped => report.counts.errors > u64::from(ERRORS_SHOWN),
        errors_shown => ERRORS_SHOWN,
        events_link => format!("/events?report={}", report.id),
        may_reparse => neretva_model::access::may_write(&web.principal())
            && state.pipeline().is_some()
            && !report.data_purged,
    };
    web.render("web/feeds/report.html", context)
}

/// Parses a stored report again through the API's path, then shows it with its new counts.
async fn reparse(state: AppState, web: WebUser, id: String, (): ()) -> Response {
    if !web.user.is_operator_staff() {
        return web.not_found();
    }
    let Ok(id) = Uuid::try_parse(&id) else { return web.not_found() };
    match reparse_report(&state, &web.auth(), id).await {
        Ok(report) => Redirect::to(&format!("/feeds/reports/{}", report.id)).into_response(),
        Err(error) => error_page(&web, "report", &error),
    }
}

#[derive(Debug, Deserialize)]
struct UploadForm {
    feed: String,
    #[serde(default)]
    file_name: String,
    content: String,
}

/// Ingests a pasted report through the API's upload path, then shows it.
async fn upload(State(state): State<AppState>, WebForm { web, form }: WebForm<UploadForm>) -> Response {
    if !web.user.is_operator_staff() {
        return web.not_found();
    }
    if form.content.len() > MAX_UPLOAD {
        return web.bad_request("content", "at most 1 MiB; upload larger reports through the API");
    }
    if form.content.trim().is_empty() {
        return web.bad_request("content", "the report is empty");
    }
    let file_name = Some(form.file_name.trim()).filter(|name| !name.is_empty());
    match ingest_report(&state, &web.auth(), form.feed.trim(), file_name, form.content.into_bytes()).await {
        Ok((report, _)) => Redirect::to(&format!("/feeds/reports/{}", report.id)).into_response(),
        Err(error) => error_page(&web, error.field.as_deref().unwrap_or("report"), &error),
    }
}

/// Ingests an uploaded report file (`multipart/form-data`: the CSRF token, the feed and an
/// optional file name first, then the file) through the API's upload path, so gzip and bzip2
/// are unpacked as there, and a zip or tar archive is one report per file (as a feed source's
/// directory takes it); then shows the report, or the feed's reports for an archive of several.
/// The file is read up to the pipeline's report size limit.
async fn upload_file(
    State(state): State<AppState>,
    web: WebUser,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if !web.user.is_operator_staff() {
        return web.not_found();
    }
    // Who may upload, and the pipeline's limit, are known before the file is read.
    let limit = match writing_staff_pipeline(&state, &web.auth(), "upload") {
        Ok(pipeline) => pipeline.max_report_bytes(),
        Err(error) => return error_page(&web, "feed", &error),
    };
    let too_large = |web: &WebUser| {
        let mut response = web
            .bad_request("file", &format!("the file is larger than the report size limit of {limit} bytes"));
        *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
        response
    };
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit.saturating_add(UPLOAD_OVERHEAD)) {
        return too_large(&web);
    }
    let mut form = match Multipart::new(&headers, body) {
        Ok(form) => form,
        Err(error) => return web.bad_request("form", &error.to_string()),
    };
    let fields = [("csrf_token", 256), ("feed", 1024), ("file_name", 1024)];
    let (texts, file) = match form.fields_before(&fields, "file").await {
        Ok(read) => read,
        Err(error) => return web.bad_request("form", &error.to_string()),
    };
    let text = |name: &str| texts.get(name).map_or("", String::as_str);
    // Nothing is read or stored before the token is checked: it precedes the file in the form.
    if let Err(refusal) = check_csrf(&web, text("csrf_token")) {
        return refusal;
    }
    let (feed, file_name) = (text("feed"), text("file_name"));
    let Some(name) = file
        .as_ref()
        .and_then(|file| file.filename.as_deref())
        .map(base_name)
        .filter(|name| !name.is_empty())
    else {
        return web.bad_request("file", "choose a report file");
    };
    let name = Some(file_name.trim()).filter(|given| !given.is_empty()).unwrap_or(name).to_owned();
    let mut data = Vec::new();
    loop {
        match form.chunk().await {
            Ok(Some(chunk)) if (data.len() + chunk.len()) as u64 > limit => {
                // The browser gets the answer rather than a closed connection.
                form.drain(limit.saturating_add(UPLOAD_OVERHEAD)).await;
                return too_large(&web);
            }
            Ok(Some(chunk)) => data.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(error) => return web.bad_request("file", &error.to_string()),
        }
    }
    form.drain(UPLOAD_OVERHEAD).await;
    let feed = feed.trim();
    match ingest_upload(&state, &web.auth(), feed, Some(&name), data, Archives::EachReport).await {
        Ok(reports) if reports.len() == 1 => {
            Redirect::to(&format!("/feeds/reports/{}", reports[0].0.id)).into_response()
        }
        // An archive of several reports: the feed's reports, newest first.
        Ok(_) => Redirect::to(&format!("/feeds?feed={}", encode_query_value(feed))).into_response(),
        Err(error) => error_page(&web, error.field.as_deref().unwrap_or("file"), &error),
    }
}

#[derive(Debug, Deserialize)]
struct FetchForm {
    feed: String,
}

/// Has a feed's running source look now, then shows the feeds page again.
async fn fetch(State(state): State<AppState>, WebForm { web, form }: WebForm<FetchForm>) -> Response {
    if !web.user.is_operator_staff() {
        return web.not_found();
    }
    match request_fetch(&state, &web.auth(), form.feed.trim()) {
        Ok(()) => Redirect::to("/feeds").into_response(),
        Err(error) => error_page(&web, "feed", &error),
    }
}

/// The page for an API error of a form: forbidden, or the error's message with its status,
/// naming the form's `field`.
fn error_page(web: &WebUser, field: &str, error: &crate::error::ApiError) -> Response {
    let status = error.code.describe().1;
    if status == StatusCode::FORBIDDEN {
        return web.forbidden();
    }
    let mut response = web.bad_request(field, &error.message);
    *response.status_mut() = status;
    response
}
