//! Evidence of an incident: uploads streamed into the content-addressed store with the size
//! limit enforced while they arrive (413 naming the limit), listings, and reads that record the
//! chain of custody (viewed, downloaded, exported). Downloads take evidence out of the platform,
//! so the incident's PAP must allow it (`access::may_export`).

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use neretva_incident::evidence::{CustodyAction, CustodyRecord, Evidence, Sha256};
use neretva_model::FieldError;
use neretva_model::access::may_export;
use neretva_store::blobs::BlobError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::incidents::{may_contribute, ops, require_handler, visible};
use crate::api::rfc3339;
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{ApiJson, Auth};
use crate::incidents::{IncidentError, new_evidence};

/// An evidence item.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceDto {
    pub sha256: String,
    pub size: u64,
    pub filename: Option<String>,
    pub content_type: String,
    pub description: Option<String>,
    /// `{"type": "upload"}`, `{"type": "email", "intake_id"}` or `{"type": "report", "report_id"}`.
    #[schema(value_type = Object)]
    pub source: serde_json::Value,
    pub added_by: Option<uuid::Uuid>,
    pub added_at: String,
}

impl From<&Evidence> for EvidenceDto {
    fn from(item: &Evidence) -> EvidenceDto {
        EvidenceDto {
            sha256: item.sha256.to_string(),
            size: item.size,
            filename: item.filename.clone(),
            content_type: item.content_type.clone(),
            description: item.description.clone(),
            source: serde_json::to_value(&item.source).unwrap_or_default(),
            added_by: item.added_by,
            added_at: rfc3339(item.added_at),
        }
    }
}

/// One record of the chain of custody.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustodyDto {
    pub seq: u64,
    /// `added`, `viewed`, `downloaded` or `exported`.
    pub action: String,
    pub actor: Option<uuid::Uuid>,
    pub at: String,
    pub detail: Option<String>,
    pub hash: String,
}

impl From<&CustodyRecord> for CustodyDto {
    fn from(record: &CustodyRecord) -> CustodyDto {
        CustodyDto {
            seq: record.seq,
            action: record.event.action.as_str().to_owned(),
            actor: record.event.actor,
            at: rfc3339(record.event.at),
            detail: record.event.detail.clone(),
            hash: record.hash.clone(),
        }
    }
}

/// An item with its chain of custody.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceDetail {
    #[serde(flatten)]
    pub evidence: EvidenceDto,
    pub custody: Vec<CustodyDto>,
    /// Whether the chain verifies (no record removed, altered or re-linked).
    pub custody_intact: bool,
}

/// The incident's evidence.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/evidence", tag = "evidence", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Vec<EvidenceDto>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<EvidenceDto>>> {
    let stored = visible(&state, &auth, &id).await?;
    let items = state.store().incident_evidence(stored.incident.id).await?;
    Ok(Json(items.iter().map(EvidenceDto::from).collect()))
}

/// What describes an upload.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UploadOptions {
    /// The file name, without directories.
    pub filename: Option<String>,
    pub description: Option<String>,
}

/// Uploads an evidence item (the request body, with its `Content-Type`): stored once by its
/// SHA-256; an item over the size limit answers 413 with the `limit`.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/evidence", tag = "evidence",
    params(("id" = uuid::Uuid, Path), UploadOptions),
    request_body(content = String, content_type = "application/octet-stream"),
    responses((status = 201, body = EvidenceDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the incident has this item already"),
        (status = 413, body = ErrorBody, description = "over the size limit, named in `limit`"),
        (status = 503, body = ErrorBody, description = "no evidence store is configured")),
    security(("bearer" = []), ("session" = [])))]
pub async fn upload(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    options: Result<Query<UploadOptions>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<EvidenceDto>)> {
    let Query(options) = options?;
    let stored = visible(&state, &auth, &id).await?;
    if !may_contribute(&auth, &stored.incident) {
        return Err(ApiError::forbidden("this credential may not add evidence to this incident"));
    }
    let blobs = state.blobs().ok_or_else(|| {
        ApiError::new(ErrorCode::Unavailable, "no evidence store is configured on this server")
    })?;
    let limits = state.config().evidence_limits;
    let too_large = || {
        ApiError::too_large(
            format!("the attachment is more than the limit of {} bytes", limits.max_bytes),
            limits.max_bytes,
        )
    };
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limits.max_bytes) {
        return Err(too_large());
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    // The description is checked before any byte is stored.
    let probe = new_evidence(
        Sha256::of(b""),
        1,
        options.filename.clone(),
        content_type.clone(),
        options.description.clone(),
    );
    probe.check(&[], &limits).map_err(IncidentError::from)?;

    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Bytes>(8);
    let writer = tokio::task::spawn_blocking(move || -> Result<(Sha256, u64), BlobError> {
        let mut writer = blobs.writer(limits.max_bytes)?;
        while let Some(chunk) = receiver.blocking_recv() {
            writer.write(&chunk)?;
        }
        writer.finish()
    });
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| {
            ApiError::new(ErrorCode::InvalidRequest, format!("reading the body failed: {error}"))
        })?;
        if let Ok(data) = frame.into_data()
            && sender.send(data).await.is_err()
        {
            // The writer stopped (over the limit, or a failed write): its result says why.
            break;
        }
    }
    drop(sender);
    let written = writer
        .await
        .map_err(|error| ApiError::new(ErrorCode::Internal, format!("evidence task failed: {error}")))?;
    let (sha256, size) = match written {
        Ok(written) => written,
        Err(BlobError::TooLarge { .. }) => return Err(too_large()),
        Err(error) => return Err(IncidentError::from(error).into()),
    };
    let item = new_evidence(sha256, size, options.filename, content_type, options.description);
    let actor = auth.actor();
    let evidence =
        ops(&state, &auth, &actor, &state.registry()).add_evidence(stored.incident.id, item, &limits).await?;
    Ok((StatusCode::CREATED, Json(EvidenceDto::from(&evidence))))
}

async fn item_of(state: &AppState, incident: uuid::Uuid, sha256: &str) -> ApiResult<Evidence> {
    let sha256: Sha256 =
        sha256.parse().map_err(|error: FieldError| ApiError::bad_request("sha256", error.message))?;
    state
        .store()
        .incident_evidence(incident)
        .await?
        .into_iter()
        .find(|item| item.sha256 == sha256)
        .ok_or_else(|| ApiError::not_found("evidence"))
}

/// Shows an item with its chain of custody; the view is recorded in it.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/evidence/{sha256}", tag = "evidence",
    params(("id" = uuid::Uuid, Path), ("sha256" = String, Path)),
    responses((status = 200, body = EvidenceDetail), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, sha256)): Path<(String, String)>,
) -> ApiResult<Json<EvidenceDetail>> {
    let stored = visible(&state, &auth, &id).await?;
    let item = item_of(&state, stored.incident.id, &sha256).await?;
    let actor = auth.actor();
    ops(&state, &auth, &actor, &state.registry())
        .custody(stored.incident.id, item.sha256, CustodyAction::Viewed, None)
        .await?;
    let chain = state.store().custody(stored.incident.id, &item.sha256).await?;
    Ok(Json(EvidenceDetail {
        evidence: EvidenceDto::from(&item),
        custody_intact: neretva_incident::evidence::verify_custody(&chain).is_ok(),
        custody: chain.iter().map(CustodyDto::from).collect(),
    }))
}

async fn content(state: &AppState, item: &Evidence) -> ApiResult<Response> {
    let blobs = state.blobs().ok_or_else(|| {
        ApiError::new(ErrorCode::Unavailable, "no evidence store is configured on this server")
    })?;
    let sha256 = item.sha256;
    let bytes = tokio::task::spawn_blocking(move || -> Result<Option<Vec<u8>>, BlobError> {
        let Some(mut file) = blobs.open(&sha256)? else { return Ok(None) };
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut file, &mut bytes)
            .map_err(|source| BlobError::Io { path: sha256.to_string(), source })?;
        Ok(Some(bytes))
    })
    .await
    .map_err(|error| ApiError::new(ErrorCode::Internal, format!("evidence task failed: {error}")))?
    .map_err(IncidentError::from)?;
    let Some(bytes) = bytes else {
        tracing::error!(sha256 = %item.sha256, "Evidence file is missing; run `neretva evidence verify`.");
        return Err(ApiError::new(ErrorCode::Internal, "the evidence file is missing"));
    };
    let name = item
        .filename
        .clone()
        .unwrap_or_else(|| item.sha256.to_string())
        .replace(['"', '\\', '\r', '\n'], "_");
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::HeaderName::from_static("x-content-sha256"), item.sha256.to_string()),
        ],
        bytes,
    )
        .into_response())
}

/// Downloads an item (as `application/octet-stream`, never rendered); recorded in the chain of
/// custody. The incident's PAP must allow taking it out.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/evidence/{sha256}/content", tag = "evidence",
    params(("id" = uuid::Uuid, Path), ("sha256" = String, Path)),
    responses((status = 200, description = "the bytes"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn download(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, sha256)): Path<(String, String)>,
) -> ApiResult<Response> {
    let stored = visible(&state, &auth, &id).await?;
    let item = item_of(&state, stored.incident.id, &sha256).await?;
    if !may_export(&auth.principal(), stored.incident.pap) {
        return Err(ApiError::forbidden(format!(
            "the incident is {}: its evidence may not be downloaded",
            stored.incident.pap
        )));
    }
    let response = content(&state, &item).await?;
    let actor = auth.actor();
    ops(&state, &auth, &actor, &state.registry())
        .custody(stored.incident.id, item.sha256, CustodyAction::Downloaded, None)
        .await?;
    Ok(response)
}

/// Where an item goes when it is handed over.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// To whom and why, e.g. `to the police, case 12/26`.
    pub detail: String,
}

/// Hands an item over outside the platform (to law enforcement, another CERT): recorded with its
/// recipient in the chain of custody, and the bytes returned (the operating CERT's handlers).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/evidence/{sha256}/export", tag = "evidence",
    params(("id" = uuid::Uuid, Path), ("sha256" = String, Path)), request_body = ExportRequest,
    responses((status = 200, description = "the bytes"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn export(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, sha256)): Path<(String, String)>,
    ApiJson(request): ApiJson<ExportRequest>,
) -> ApiResult<Response> {
    let stored = visible(&state, &auth, &id).await?;
    require_handler(&auth)?;
    let item = item_of(&state, stored.incident.id, &sha256).await?;
    neretva_model::check_text("detail", &request.detail, neretva_incident::limits::SHORT_TEXT)?;
    let response = content(&state, &item).await?;
    let actor = auth.actor();
    ops(&state, &auth, &actor, &state.registry())
        .custody(stored.incident.id, item.sha256, CustodyAction::Exported, Some(request.detail))
        .await?;
    Ok(response)
}
