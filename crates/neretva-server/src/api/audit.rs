//! The audit log and its verification.

use axum::Json;
use axum::extract::{Query, State};
use neretva_model::access::may_read_audit;
use neretva_model::audit::AuditEntry;
use neretva_store::AuditQuery;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::api::rfc3339;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Auth;

/// An audit entry as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditDto {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    /// SHA-256 of the object after the change, or of the exported bytes.
    pub digest: String,
    pub prev_hash: String,
    pub hash: String,
}

impl From<AuditEntry> for AuditDto {
    fn from(entry: AuditEntry) -> AuditDto {
        AuditDto {
            seq: entry.seq,
            at: rfc3339(entry.at),
            actor: entry.event.actor,
            action: entry.event.action,
            object_type: entry.event.object_type,
            object_id: entry.event.object_id,
            digest: entry.event.digest,
            prev_hash: entry.prev_hash,
            hash: entry.hash,
        }
    }
}

/// Filters and paging for the audit log (oldest first).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditFilter {
    /// Only entries after this sequence number.
    pub after: Option<i64>,
    pub limit: Option<u32>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub object_id: Option<String>,
    /// Only entries written at or after this time (RFC 3339).
    pub since: Option<String>,
    /// Only entries written before this time (RFC 3339).
    pub until: Option<String>,
}

/// A time bound of the audit filter.
fn bound(field: &str, text: Option<&str>) -> ApiResult<Option<time::OffsetDateTime>> {
    text.map(|text| {
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).map_err(|_| {
            ApiError::bad_request(
                field,
                format!("{text:?} is not an RFC 3339 time such as 2026-11-01T00:00:00Z"),
            )
        })
    })
    .transpose()
}

/// A page of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditDto>,
    /// Pass as `after` to get the next page.
    pub next_after: Option<i64>,
}

fn require_auditor(auth: &Auth) -> ApiResult<()> {
    if may_read_audit(&auth.principal()) {
        Ok(())
    } else {
        Err(ApiError::forbidden("only the operating CERT's admins and auditors may read the audit log"))
    }
}

/// Reads the audit log.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditFilter),
    responses((status = 200, body = AuditPage), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    filter: Result<Query<AuditFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<AuditPage>> {
    let Query(filter) = filter?;
    require_auditor(&auth)?;
    let limit = match filter.limit {
        None => 100,
        Some(n @ 1..=1000) => n,
        Some(n) => return Err(ApiError::bad_request("limit", format!("limit must be 1 to 1000, got {n}"))),
    };
    let since = bound("since", filter.since.as_deref())?;
    let until = bound("until", filter.until.as_deref())?;
    let entries = state
        .store()
        .list_audit(&AuditQuery {
            after_seq: filter.after.unwrap_or(0),
            limit,
            actor: filter.actor,
            action: filter.action,
            object_id: filter.object_id,
            since,
            until,
        })
        .await?;
    let next_after = (entries.len() == limit as usize).then(|| entries.last().map(|e| e.seq)).flatten();
    Ok(Json(AuditPage { items: entries.into_iter().map(AuditDto::from).collect(), next_after }))
}

/// The result of verifying the audit chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyDto {
    pub ok: bool,
    /// Entries verified before the first problem (or all).
    pub checked: u64,
    /// The first altered or removed entry, when the chain is broken.
    pub first_bad_seq: Option<i64>,
    pub problem: Option<String>,
    pub verified_at: String,
}

/// Re-computes the hash chain and names the first altered or removed entry.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = VerifyDto), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn verify(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<VerifyDto>> {
    require_auditor(&auth)?;
    let result = neretva_store::verify_audit(state.store()).await?;
    Ok(Json(VerifyDto {
        ok: result.broken.is_none(),
        checked: result.checked,
        first_bad_seq: result.broken.as_ref().map(first_bad_seq),
        problem: result.broken.map(|broken| broken.to_string()),
        verified_at: rfc3339(time::OffsetDateTime::now_utc()),
    }))
}

/// The sequence number of the first entry a chain break concerns.
pub fn first_bad_seq(broken: &neretva_model::audit::ChainBreak) -> i64 {
    use neretva_model::audit::ChainBreak;
    match broken {
        ChainBreak::Altered { seq } => *seq,
        ChainBreak::Unlinked { seq } => seq - 1,
        ChainBreak::Gap { prev, .. } => prev + 1,
        ChainBreak::Truncated { last, .. } => last + 1,
    }
}
