//! `GET /api/v1/feeds`: the configured feeds, what each one's source last did in this server,
//! and each one's newest report: what a monitoring script asks to learn that a feed stopped.
//! `POST /api/v1/feeds/{name}/fetch` has a running source look now.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use neretva_pipeline::sources::SourceState;
use neretva_store::feeds::ReportQuery;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::api::events::{ReportDto, require_feed_staff};
use crate::api::rfc3339;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::Auth;

/// A configured feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedDto {
    pub name: String,
    /// The parser, as `neretva feeds list` names it.
    pub parser: String,
    pub provider: Option<String>,
    /// The kind of the feed's source (`directory`, `http`, `file`, `taxii`, `shadowserver-api`, `imap`);
    /// none when its reports come only from uploads and `neretva ingest`.
    pub source: Option<String>,
    /// What the source did (the last poll, success and failure also before this server
    /// started, as the source saved them); none without a running source.
    pub source_state: Option<SourceStateDto>,
    /// The feed's newest stored report.
    pub last_report: Option<ReportDto>,
}

/// What a feed's source did: the times of its last poll, success and failure and the failing
/// polls in a row as saved by the source, also across restarts; its reports and failures since
/// this server started.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceStateDto {
    /// When the source started in this server.
    pub started_at: Option<String>,
    /// When the last poll (a directory listing, a download, a collection walk) ended.
    pub last_poll: Option<String>,
    /// When the last poll without any failure ended.
    pub last_success: Option<String>,
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
    /// Polls in a row that failed; 0 once one succeeds.
    pub failing_polls: u64,
    /// Reports the source brought in since the server started.
    pub reports: u64,
    /// Failures since the start.
    pub errors: u64,
    /// An `imap` source's unseen messages it leaves as they are (matching none of its filters,
    /// too large, or unreadable); none for other sources.
    pub messages_left: Option<u64>,
}

impl From<SourceState> for SourceStateDto {
    fn from(state: SourceState) -> SourceStateDto {
        let messages_left = (state.kind == "imap").then(|| state.messages_left() as u64);
        SourceStateDto {
            started_at: state.started_at.map(rfc3339),
            last_poll: state.last_poll.map(rfc3339),
            last_success: state.last_success.map(rfc3339),
            last_error: state.last_error,
            last_error_at: state.last_error_at.map(rfc3339),
            failing_polls: state.failing_polls,
            reports: state.reports,
            errors: state.errors,
            messages_left,
        }
    }
}

/// The configured feeds, sorted by name, with their sources' states and newest reports; the
/// operating CERT's staff only.
#[utoipa::path(get, path = "/api/v1/feeds", tag = "reports",
    responses((status = 200, body = Vec<FeedDto>), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<FeedDto>>> {
    require_feed_staff(&auth)?;
    let Some(pipeline) = state.pipeline() else { return Ok(Json(Vec::new())) };
    let mut feeds = Vec::new();
    for name in pipeline.feed_names() {
        let (parser, provider) = pipeline.feed_parser(name).unwrap_or_default();
        let query = ReportQuery { feed: Some(name.to_owned()), before: None, limit: 1 };
        let last_report = state.store().list_reports(&query).await?.into_iter().next().map(ReportDto::from);
        feeds.push(FeedDto {
            name: name.to_owned(),
            parser: parser.to_owned(),
            provider: provider.map(str::to_owned),
            source: pipeline.source_kind(name).map(str::to_owned),
            source_state: pipeline.source_status().get(name).map(SourceStateDto::from),
            last_report,
        });
    }
    Ok(Json(feeds))
}

/// Whether a fetch was asked for.
#[derive(Debug, Serialize, ToSchema)]
pub struct FetchRequested {
    pub feed: String,
    /// Always true: the source looks as soon as it is not already looking; its state and the
    /// reports it brings show in `GET /api/v1/feeds`.
    pub requested: bool,
}

/// Asks the feed's running source to look now instead of at its next scheduled poll (a watched
/// directory looks twice, a second apart). The CERT's staff with a credential that may write.
#[utoipa::path(post, path = "/api/v1/feeds/{name}/fetch", tag = "reports", params(("name" = String, Path)),
    responses((status = 202, body = FetchRequested), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "no such feed"),
        (status = 409, body = crate::error::ErrorBody, description = "the feed has no source running in this server")),
    security(("bearer" = []), ("session" = [])))]
pub async fn fetch(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> ApiResult<(StatusCode, Json<FetchRequested>)> {
    request_fetch(&state, &auth, &name)?;
    Ok((StatusCode::ACCEPTED, Json(FetchRequested { feed: name, requested: true })))
}

/// Wakes the feed's running source for the caller; the API's fetch and the feeds page share it.
pub(crate) fn request_fetch(state: &AppState, auth: &Auth, name: &str) -> ApiResult<()> {
    require_feed_staff(auth)?;
    if !neretva_model::access::may_write(&auth.principal()) {
        return Err(ApiError::forbidden("this credential may not fetch"));
    }
    let pipeline = state.pipeline().filter(|pipeline| pipeline.has_feed(name));
    let Some(pipeline) = pipeline else {
        return Err(ApiError::new(ErrorCode::NotFound, format!("unknown feed {name:?}")).with_field("name"));
    };
    if !pipeline.source_status().wake(name) {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "feed {name:?} has no source running in this server; `neretva feeds fetch {name}` looks once"
            ),
        )
        .with_field("name"));
    }
    Ok(())
}
