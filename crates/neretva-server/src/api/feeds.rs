//! `GET /api/v1/feeds`: the configured feeds, what each one's source last did in this server,
//! and each one's newest report: what a monitoring script asks to learn that a feed stopped.

use axum::Json;
use axum::extract::State;
use neretva_pipeline::sources::SourceState;
use neretva_store::feeds::ReportQuery;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::api::events::{ReportDto, require_feed_staff};
use crate::api::rfc3339;
use crate::error::ApiResult;
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
    /// What the source did since this server started; none without a running source.
    pub source_state: Option<SourceStateDto>,
    /// The feed's newest stored report.
    pub last_report: Option<ReportDto>,
}

/// What a feed's source did since the server started.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceStateDto {
    pub started_at: Option<String>,
    /// When the last poll (a directory listing, a download, a collection walk) ended.
    pub last_poll: Option<String>,
    /// When the last poll without any failure ended.
    pub last_success: Option<String>,
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
    /// Polls in a row that failed; 0 once one succeeds.
    pub failing_polls: u64,
    /// Reports the source brought in.
    pub reports: u64,
    /// Failures since the start.
    pub errors: u64,
}

impl From<SourceState> for SourceStateDto {
    fn from(state: SourceState) -> SourceStateDto {
        SourceStateDto {
            started_at: state.started_at.map(rfc3339),
            last_poll: state.last_poll.map(rfc3339),
            last_success: state.last_success.map(rfc3339),
            last_error: state.last_error,
            last_error_at: state.last_error_at.map(rfc3339),
            failing_polls: state.failing_polls,
            reports: state.reports,
            errors: state.errors,
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
