//! Harmonised events and the raw reports they came from.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use neretva_model::Uuid;
use neretva_model::access::{Principal, Visibility, may_see};
use neretva_model::text::{CsvStyle, csv_line};
use neretva_model::tlp::Tlp;
use neretva_pipeline::sinks::CSV_FIELDS;
use neretva_store::feeds::{EventFilterText, EventQuery, ReportInfo, ReportQuery, StoredEvent};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::{parse_id, rfc3339};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::Auth;
use crate::registry::RegistrySnapshot;

/// Filters of the event search; every filter narrows the result.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventFilter {
    /// RFC 3339; events whose source time (or observation time) is at or after it.
    pub since: Option<String>,
    /// RFC 3339; … and before it.
    pub until: Option<String>,
    /// RSIT taxonomy, e.g. `vulnerable`.
    pub taxonomy: Option<String>,
    /// RSIT type, e.g. `ddos-amplifier`.
    #[serde(rename = "type")]
    pub classification_type: Option<String>,
    /// An organisation's id or short name.
    pub organisation: Option<String>,
    /// An IP address or CIDR network matched against source and destination.
    pub ip: Option<String>,
    /// An AS number, with or without `AS`.
    pub asn: Option<String>,
    pub feed: Option<String>,
    pub report: Option<Uuid>,
    /// Text contained anywhere in the event (case-insensitive).
    pub q: Option<String>,
    /// 1–1000, default 100.
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `json` (default), `csv`, or `intelmq-jsonl`: one IntelMQ JSON object per line (what
    /// IntelMQ's JSON parser and file collector read), with the raw line in `raw`; the cursor of
    /// the next page of `csv` and `intelmq-jsonl` is in the `X-Next-Cursor` header.
    pub format: Option<String>,
}

/// An event as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventDto {
    pub id: Uuid,
    pub report_id: Uuid,
    pub feed: String,
    pub line: u64,
    /// The organisations the event concerns (those the caller may see).
    pub organisations: Vec<String>,
    /// The harmonised event, IntelMQ field names.
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
    /// The raw line of the report.
    pub raw: String,
    pub stored_at: String,
    /// The event as stored (the text `event` was read from), so an export in IntelMQ JSON lines
    /// reads it as it was written instead of writing `event` out again first.
    #[serde(skip)]
    pub stored_json: String,
}

/// A page of events, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    pub items: Vec<EventDto>,
    pub next_cursor: Option<String>,
    /// True when a free-text search (`q`) stopped after reading its share of events
    /// (`limits.text_search_scan`) before filling the page: older events are searched by
    /// following `next_cursor`.
    pub partial: bool,
}

/// The organisations whose events the principal may see, or `None` for all (operator staff).
pub(crate) fn event_scope(registry: &RegistrySnapshot, auth: &Auth) -> Option<Vec<Uuid>> {
    if auth.0.is_operator_staff() {
        return None;
    }
    // Its own organisation and every organisation below it (a CERT sees its constituents').
    let mine = auth.0.org_id;
    Some(
        registry
            .orgs
            .keys()
            .copied()
            .filter(|id| *id == mine || registry.ancestors(*id).contains(&mine))
            .collect(),
    )
}

/// Whether the principal may see one stored event: routed to an organisation it may see,
/// within the event's TLP (`TLP:AMBER+STRICT` when the feed set none).
pub(crate) fn may_see_event(
    registry: &RegistrySnapshot,
    principal: &Principal,
    stored: &StoredEvent,
) -> bool {
    let json = serde_json::from_str::<serde_json::Value>(&stored.event.json).unwrap_or_default();
    may_see_labelled(registry, principal, stored, event_tlp(&json))
}

/// The TLP of an event's IntelMQ object, `TLP:AMBER+STRICT` when it has none.
fn event_tlp(json: &serde_json::Value) -> Tlp {
    json.get("tlp").and_then(|t| t.as_str()).and_then(|t| t.parse::<Tlp>().ok()).unwrap_or(Tlp::AmberStrict)
}

/// Whether the principal may see one stored event of TLP `tlp`: routed to an organisation it may
/// see, within that TLP; CERT staff see every event below RED.
fn may_see_labelled(
    registry: &RegistrySnapshot,
    principal: &Principal,
    stored: &StoredEvent,
    tlp: Tlp,
) -> bool {
    if let Principal::User(user) = principal
        && user.is_operator_staff()
        && tlp != Tlp::Red
    {
        return true;
    }
    stored.event.org_ids.iter().any(|org| {
        may_see(
            principal,
            &Visibility { recipient_orgs: &[], ..Visibility::owned(*org, registry.ancestors(*org), tlp) },
        )
    })
}

fn build_query(filter: &EventFilter, registry: &RegistrySnapshot, auth: &Auth) -> ApiResult<EventQuery> {
    let limit = match filter.limit {
        None => 100,
        Some(n @ 1..=1000) => n,
        Some(n) => return Err(ApiError::bad_request("limit", format!("limit must be 1 to 1000, got {n}"))),
    };
    let text = EventFilterText {
        since: filter.since.as_deref(),
        until: filter.until.as_deref(),
        taxonomy: filter.taxonomy.as_deref(),
        classification_type: filter.classification_type.as_deref(),
        ip: filter.ip.as_deref(),
        asn: filter.asn.as_deref(),
        feed: filter.feed.as_deref(),
        report_id: filter.report,
        text: filter.q.as_deref(),
    };
    let query =
        EventQuery::from_text(&text).map_err(|error| ApiError::bad_request(error.field, error.message))?;
    let scope = event_scope(registry, auth);
    let org_ids = match filter.organisation.as_deref() {
        None => scope,
        Some(key) => {
            let org = registry
                .resolve(key)
                .filter(|org| scope.as_ref().is_none_or(|scope| scope.contains(&org.id)))
                .ok_or_else(|| ApiError::not_found("organisation"))?;
            Some(vec![org.id])
        }
    };
    let before = match filter.cursor.as_deref() {
        None => None,
        Some(cursor) => Some(parse_id("cursor", cursor)?),
    };
    Ok(EventQuery { org_ids, before, limit, ..query })
}

/// The event as the principal may see it, or `None` when it may not (its IntelMQ object is
/// parsed once, for its TLP and for the answer).
pub(crate) fn visible_dto(
    stored: StoredEvent,
    registry: &RegistrySnapshot,
    principal: &Principal,
) -> Option<EventDto> {
    let event = serde_json::from_str::<serde_json::Value>(&stored.event.json).unwrap_or_default();
    if !may_see_labelled(registry, principal, &stored, event_tlp(&event)) {
        return None;
    }
    let organisations = stored
        .event
        .org_ids
        .iter()
        .filter(|org| registry.may_see_org(principal, **org))
        .filter_map(|org| registry.orgs.get(org).map(|o| o.fields.short_name.clone()))
        .collect();
    Some(EventDto {
        id: stored.event.id,
        report_id: stored.event.report_id,
        feed: stored.event.feed,
        line: stored.event.line,
        organisations,
        event,
        raw: stored.event.raw,
        stored_at: rfc3339(stored.stored_at),
        stored_json: stored.event.json,
    })
}

/// One page of the event search as the caller may see it: the filters checked and turned into
/// a store query, a free-text search bounded by `limits.text_search_scan`, every event checked
/// with `may_see`. The API's list and export and the web interface's event pages share it.
pub(crate) async fn search(state: &AppState, auth: &Auth, filter: &EventFilter) -> ApiResult<EventPage> {
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let mut query = build_query(filter, &registry, auth)?;
    let limit = query.limit as usize;
    let principal = auth.principal();
    if query.text.is_some() {
        // Text is found by reading events: bound how many one page reads.
        query.floor = state.store().event_scan_floor(query.before, state.config().text_search_scan).await?;
    }
    let found = state.store().query_events(&query).await?;
    let partial = found.len() < limit && query.floor.is_some();
    let next_cursor = if found.len() == limit {
        found.last().map(|e| e.event.id.to_string())
    } else {
        query.floor.map(|floor| floor.to_string())
    };
    let items: Vec<EventDto> =
        found.into_iter().filter_map(|stored| visible_dto(stored, &registry, &principal)).collect();
    Ok(EventPage { items, next_cursor, partial })
}

/// Searches events. A constituent sees only events routed to its own organisation (and to the
/// organisations below it); `format=csv` exports the page as CSV, `format=intelmq-jsonl` as
/// IntelMQ JSON lines.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventFilter),
    responses(
        (status = 200, description = "A page of events: JSON, or by `format` CSV or IntelMQ JSON lines",
            content((EventPage = "application/json"), (String = "text/csv"), (String = "application/x-ndjson")),
            headers(("x-next-cursor" = String, description = "The next page's cursor (CSV and IntelMQ JSON lines)"))),
        (status = 400, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    filter: Result<Query<EventFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(filter) = filter?;
    let EventPage { items, next_cursor, partial } = search(&state, &auth, &filter).await?;
    match filter.format.as_deref() {
        None | Some("json") => Ok(Json(EventPage { items, next_cursor, partial }).into_response()),
        Some("csv") => Ok(csv_response(&items, next_cursor.as_deref())),
        Some("intelmq-jsonl") => Ok(intelmq_response(&items, next_cursor.as_deref())),
        Some(other) => Err(ApiError::bad_request(
            "format",
            format!("unknown format {other:?}; expected json, csv or intelmq-jsonl"),
        )),
    }
}

/// The page as IntelMQ JSON lines, each event with its raw line in `raw` (base64, as IntelMQ
/// keeps it), written as IntelMQ 3.5.0 reads them (`stored_line`: TLP 2.0's labels in TLP 1.0
/// terms; an event whose stored fields IntelMQ's types would not take is written as stored,
/// with `raw` added, rather than left out).
fn intelmq_response(items: &[EventDto], next_cursor: Option<&str>) -> Response {
    let mut text = String::new();
    for item in items {
        let (line, problems) =
            neretva_event::intelmq_json::stored_line(&item.stored_json, item.raw.as_bytes());
        if !problems.is_empty() {
            tracing::warn!(
                event = %item.id,
                problems = problems.len(),
                "A stored event does not read as IntelMQ JSON; exported as stored."
            );
        }
        text.push_str(&line);
        text.push('\n');
    }
    with_next_cursor(
        ([(header::CONTENT_TYPE, "application/x-ndjson; charset=utf-8")], text).into_response(),
        next_cursor,
    )
}

/// `response` with the cursor of the next page in `X-Next-Cursor`, when there is one.
fn with_next_cursor(mut response: Response, next_cursor: Option<&str>) -> Response {
    if let Some(cursor) = next_cursor.and_then(|c| axum::http::HeaderValue::from_str(c).ok()) {
        response.headers_mut().insert("x-next-cursor", cursor);
    }
    response
}

fn csv_response(items: &[EventDto], next_cursor: Option<&str>) -> Response {
    let mut text = String::new();
    let header: Vec<&str> = ["id", "organisations"].into_iter().chain(CSV_FIELDS.iter().copied()).collect();
    text.push_str(&csv_line(&header, CsvStyle::Spreadsheet));
    for item in items {
        let mut row = vec![item.id.to_string(), item.organisations.join(";")];
        for field in CSV_FIELDS {
            row.push(match item.event.get(*field) {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(serde_json::Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            });
        }
        text.push_str(&csv_line(&row, CsvStyle::Spreadsheet));
    }
    with_next_cursor(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], text).into_response(), next_cursor)
}

/// Shows one event.
#[utoipa::path(get, path = "/api/v1/events/{id}", tag = "events", params(("id" = Uuid, Path)),
    responses((status = 200, body = EventDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<EventDto>> {
    let id = parse_id("id", &id)?;
    let registry = state.registry();
    let principal = auth.principal();
    let stored = state.store().get_event(id).await?;
    stored
        .and_then(|stored| visible_dto(stored, &registry, &principal))
        .map(Json)
        .ok_or_else(|| ApiError::not_found("event"))
}

/// A stored report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportDto {
    pub id: Uuid,
    pub feed: String,
    pub parser: String,
    pub source: String,
    pub received_at: String,
    pub sha256: String,
    pub size: u64,
    /// `received`, `parsed` or `failed`.
    pub status: String,
    pub records: u64,
    pub events: u64,
    pub errors: u64,
    pub duplicates: u64,
    pub dropped: u64,
    pub parsed_at: Option<String>,
    pub failure: Option<String>,
    /// The raw data was deleted by report retention (`pipeline.report_retention_days`): the
    /// report cannot be parsed again; its counts, errors and events stay.
    pub data_purged: bool,
}

impl From<ReportInfo> for ReportDto {
    fn from(info: ReportInfo) -> ReportDto {
        ReportDto {
            id: info.id,
            feed: info.feed,
            parser: info.parser,
            source: info.source,
            received_at: rfc3339(info.received_at),
            sha256: info.sha256,
            size: info.size,
            status: info.status.as_str().to_owned(),
            records: info.counts.records,
            events: info.counts.events,
            errors: info.counts.errors,
            duplicates: info.counts.duplicates,
            dropped: info.counts.dropped,
            parsed_at: info.parsed_at.map(rfc3339),
            failure: info.failure,
            data_purged: info.data_purged,
        }
    }
}

pub(crate) fn require_feed_staff(auth: &Auth) -> ApiResult<()> {
    if auth.0.is_operator_staff() {
        Ok(())
    } else {
        Err(ApiError::forbidden("only the operating CERT's staff may see and upload feed reports"))
    }
}

/// Options of a report upload.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UploadOptions {
    /// A configured feed, or a parser name from `neretva feeds list`.
    pub feed: String,
    /// The report's file name, for parsers that read it (Shadowserver detects the report type
    /// from names such as `2026-11-27-scan_dns-ba-geo.csv`).
    pub file_name: Option<String>,
}

/// Uploads a raw report (the request body) for a feed; it is stored, then processed. A gzip or
/// bzip2 body is the report it holds and a zip or tar archive of one file that file (unpacked within
/// the report size limit; `file_name` then names the compressed file, and the report is stored
/// under the unpacked name).
#[utoipa::path(post, path = "/api/v1/reports", tag = "reports", params(UploadOptions),
    request_body(content = String, content_type = "application/octet-stream"),
    responses((status = 201, body = ReportDto), (status = 200, body = ReportDto, description = "the same content was stored before"),
        (status = 400, body = ErrorBody, description = "a file name with a path, broken compressed data, or a zip or tar archive of more than one file"),
        (status = 404, body = ErrorBody, description = "unknown feed"), (status = 413, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn upload(
    State(state): State<AppState>,
    auth: Auth,
    options: Result<Query<UploadOptions>, axum::extract::rejection::QueryRejection>,
    body: Bytes,
) -> ApiResult<Response> {
    let Query(options) = options?;
    let (report, already_stored) =
        ingest_report(&state, &auth, &options.feed, options.file_name.as_deref(), body.to_vec()).await?;
    let status = if already_stored { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(ReportDto::from(report))).into_response())
}

/// What an uploaded archive of several reports becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Archives {
    /// Refused: the API's upload is one report per call.
    OneReport,
    /// One report per file, as a feed source's directory takes an archive (the web form).
    EachReport,
}

/// Stores and processes an uploaded report for the caller (the CERT's staff with a credential
/// that may write); returns the report and whether the same content was stored before. The
/// API's upload and the web interface's paste form share it.
pub(crate) async fn ingest_report(
    state: &AppState,
    auth: &Auth,
    feed: &str,
    file_name: Option<&str>,
    body: Vec<u8>,
) -> ApiResult<(ReportInfo, bool)> {
    let mut stored = ingest_upload(state, auth, feed, file_name, body, Archives::OneReport).await?;
    stored.pop().ok_or_else(|| ApiError::new(ErrorCode::Internal, "internal error"))
}

/// [`ingest_report`] for an upload that may be an archive of several reports (`archives`):
/// each report with whether the same content was stored before, in the archive's order.
pub(crate) async fn ingest_upload(
    state: &AppState,
    auth: &Auth,
    feed: &str,
    file_name: Option<&str>,
    body: Vec<u8>,
    archives: Archives,
) -> ApiResult<Vec<(ReportInfo, bool)>> {
    let pipeline = writing_staff_pipeline(state, auth, "upload")?;
    if !pipeline.has_feed(feed) {
        return Err(ApiError::new(ErrorCode::NotFound, format!("unknown feed {feed:?}")).with_field("feed"));
    }
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let context = neretva_pipeline::process::Context {
        store: state.store(),
        index: &registry.index,
        now: OffsetDateTime::now_utc(),
    };
    let file_name = file_name.filter(|name| !name.is_empty());
    if let Some(name) = file_name
        && (name.contains(['/', '\\', '#']) || name.len() > 255)
    {
        return Err(ApiError::bad_request(
            "file_name",
            "a file name without '/', '\\' or '#', at most 255 bytes",
        ));
    }
    // A gzip or bzip2 upload is the report it holds, a zip or tar archive its members,
    // unpacked with the pipeline's limits as its sources unpack files.
    let reports = unpack_upload(file_name, body, pipeline.max_report_bytes(), archives).await?;
    let mut stored = Vec::with_capacity(reports.len());
    for (name, body) in reports {
        let source = match name {
            Some(name) => format!("upload:{}#{name}", auth.0.username),
            None => format!("upload:{}", auth.0.username),
        };
        let outcome = pipeline
            .ingest(&context, feed, &source, body, neretva_pipeline::IngestOptions::default())
            .await
            .map_err(|error| match error {
                neretva_pipeline::PipelineError::TooLarge { .. } => {
                    ApiError::new(ErrorCode::PayloadTooLarge, error.to_string())
                }
                neretva_pipeline::PipelineError::Store(store) => store.into(),
                other => {
                    tracing::error!(error = %other, "Report processing failed.");
                    ApiError::new(ErrorCode::Internal, "internal error")
                }
            })?;
        let report = outcome.report.ok_or_else(|| ApiError::new(ErrorCode::Internal, "internal error"))?;
        if !outcome.already_stored && outcome.counts.events > 0 {
            rematch_events(state, &registry, report.id).await;
        }
        stored.push((report, outcome.already_stored));
    }
    Ok(stored)
}

/// The feed pipeline, for the CERT's staff with a credential that may write (to `action`).
pub(crate) fn writing_staff_pipeline<'a>(
    state: &'a AppState,
    auth: &Auth,
    action: &str,
) -> ApiResult<&'a neretva_pipeline::Pipeline> {
    require_feed_staff(auth)?;
    if !neretva_model::access::may_write(&auth.principal()) {
        return Err(ApiError::forbidden(format!("this credential may not {action}")));
    }
    state.pipeline().ok_or_else(|| {
        ApiError::new(ErrorCode::Unavailable, "the feed pipeline is not configured on this server")
    })
}

/// Matches a report's new events to the observables of open incidents; a failure there keeps
/// the report and is logged.
async fn rematch_events(state: &AppState, registry: &RegistrySnapshot, report: Uuid) {
    let deadlines = state.config().deadlines;
    if let Err(error) = crate::incidents::rematch_report(state.store(), registry, deadlines, report).await {
        tracing::warn!(error = %error, %report, "Matching the report's events to incidents failed.");
    }
}

/// Parses a stored report again with its feed's parser as configured now (after a parser fix
/// or a newer Shadowserver schema), replacing its events, errors and counts.
#[utoipa::path(post, path = "/api/v1/reports/{id}/reparse", tag = "reports", params(("id" = Uuid, Path)),
    responses((status = 200, body = ReportDto, description = "the report with the new counts"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the report's raw data was purged (`pipeline.report_retention_days`), or its feed is no longer configured")),
    security(("bearer" = []), ("session" = [])))]
pub async fn reparse(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<ReportDto>> {
    let id = parse_id("id", &id)?;
    Ok(Json(reparse_report(&state, &auth, id).await?.into()))
}

/// Re-parses a stored report for the caller (the CERT's staff with a credential that may
/// write); the API and the report page's button share it.
pub(crate) async fn reparse_report(state: &AppState, auth: &Auth, id: Uuid) -> ApiResult<ReportInfo> {
    let pipeline = writing_staff_pipeline(state, auth, "re-parse reports")?;
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let context = neretva_pipeline::process::Context {
        store: state.store(),
        index: &registry.index,
        now: OffsetDateTime::now_utc(),
    };
    let outcome = pipeline.reparse(&context, id).await.map_err(|error| match error {
        neretva_pipeline::PipelineError::UnknownReport(_) => ApiError::not_found("report"),
        neretva_pipeline::PipelineError::ReportDataPurged(_)
        | neretva_pipeline::PipelineError::UnknownFeed(..) => {
            ApiError::new(ErrorCode::Conflict, error.to_string())
        }
        neretva_pipeline::PipelineError::Store(store) => store.into(),
        other => {
            tracing::error!(error = %other, report = %id, "Re-parsing a report failed.");
            ApiError::new(ErrorCode::Internal, "internal error")
        }
    })?;
    let report = outcome.report.ok_or_else(|| ApiError::new(ErrorCode::Internal, "internal error"))?;
    if outcome.counts.events > 0 {
        rematch_events(state, &registry, report.id).await;
    }
    // Who replaced a report's events is on record, with the report's content digest.
    state
        .store()
        .append_audit(&neretva_model::audit::AuditEvent {
            actor: auth.actor().0,
            action: "report.reparse".into(),
            object_type: "report".into(),
            object_id: report.id.to_string(),
            digest: report.sha256.clone(),
        })
        .await?;
    tracing::info!(report = %report.id, feed = %report.feed, events = outcome.counts.events, errors = outcome.counts.errors, user = %auth.0.username, "Report re-parsed.");
    Ok(report)
}

/// The reports of an upload named `file_name`, each with the name it is stored under, if any:
/// `file_name` itself, a gzip or bzip2 file's name without its extension, or an archive member's
/// name (also when the upload was not named). An archive of several is refused unless
/// `archives` takes each.
async fn unpack_upload(
    file_name: Option<&str>,
    body: Vec<u8>,
    max_report_bytes: u64,
    archives: Archives,
) -> ApiResult<Vec<(Option<String>, Vec<u8>)>> {
    use neretva_pipeline::sources::{DecompressLimits, SourceError, decompress};
    // An unnamed upload's name for `decompress`; a zip member's name replaces it.
    const UNNAMED: &str = "upload";
    let name = file_name.unwrap_or(UNNAMED).to_owned();
    let limits = DecompressLimits::new(max_report_bytes);
    let unpacked = tokio::task::spawn_blocking(move || decompress(&name, body, &limits))
        .await
        .map_err(|_| ApiError::new(ErrorCode::Internal, "internal error"))?;
    let mut reports = unpacked.map_err(|error| match error {
        SourceError::TooLarge { .. } | SourceError::ArchiveTooLarge { .. } => {
            ApiError::new(ErrorCode::PayloadTooLarge, error.to_string())
        }
        other => ApiError::bad_request("body", other.to_string()),
    })?;
    match reports.len() {
        1 => {
            let (name, report) = reports.remove(0);
            let named = file_name.is_some() || name != UNNAMED;
            Ok(vec![(named.then_some(name), report)])
        }
        0 => Err(ApiError::bad_request("body", "the archive holds no file")),
        _ if archives == Archives::EachReport => {
            Ok(reports.into_iter().map(|(name, report)| (Some(name), report)).collect())
        }
        n => Err(ApiError::bad_request(
            "body",
            format!(
                "the archive holds {n} files; upload each report alone (a feed source's directory unpacks archives)"
            ),
        )),
    }
}

/// Filters of the report list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportFilter {
    pub feed: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<Uuid>,
}

/// Lists stored reports, newest first, with their counts.
#[utoipa::path(get, path = "/api/v1/reports", tag = "reports", params(ReportFilter),
    responses((status = 200, body = Vec<ReportDto>)), security(("bearer" = []), ("session" = [])))]
pub async fn list_reports(
    State(state): State<AppState>,
    auth: Auth,
    filter: Result<Query<ReportFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Vec<ReportDto>>> {
    let Query(filter) = filter?;
    require_feed_staff(&auth)?;
    let limit = filter.limit.unwrap_or(100).clamp(1, 1000);
    let reports =
        state.store().list_reports(&ReportQuery { feed: filter.feed, before: filter.cursor, limit }).await?;
    Ok(Json(reports.into_iter().map(ReportDto::from).collect()))
}

/// Shows one report.
#[utoipa::path(get, path = "/api/v1/reports/{id}", tag = "reports", params(("id" = Uuid, Path)),
    responses((status = 200, body = ReportDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get_report(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<ReportDto>> {
    require_feed_staff(&auth)?;
    let id = parse_id("id", &id)?;
    let report = state.store().get_report(id).await?.ok_or_else(|| ApiError::not_found("report"))?;
    Ok(Json(report.into()))
}

/// A record of a report that could not be parsed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportErrorDto {
    pub line: u64,
    pub field: Option<String>,
    pub message: String,
    pub raw: String,
}

/// The records of a report that could not be parsed, with their lines.
#[utoipa::path(get, path = "/api/v1/reports/{id}/errors", tag = "reports", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<ReportErrorDto>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn report_errors(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<ReportErrorDto>>> {
    require_feed_staff(&auth)?;
    let id = parse_id("id", &id)?;
    state.store().get_report(id).await?.ok_or_else(|| ApiError::not_found("report"))?;
    let errors = state.store().report_errors(id, 10_000).await?;
    Ok(Json(
        errors
            .into_iter()
            .map(|e| ReportErrorDto { line: e.line, field: e.field, message: e.message, raw: e.raw })
            .collect(),
    ))
}
