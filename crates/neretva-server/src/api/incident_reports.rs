//! Incident reports: constituents' NIS2 reports submitted as JSON, and e-mails taken in as raw
//! messages, under `/api/v1/reports/incidents` (beside the feed reports of `/api/v1/reports`).
//!
//! A report is `TLP`-labelled by its submitter and owned by the reporting organisation: it, the
//! organisations above it, the operating CERT's staff and the competent authorities of its
//! sector see it (`may_see_report`). Raw e-mails are the CERT's: only its staff list them.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use neretva_incident::intake::IntakeOutcome;
use neretva_incident::report::IncidentReport;
use neretva_model::access::{Principal, Visibility, may_see, may_write};
use neretva_model::{FieldError, Uuid};
use neretva_store::incidents::{
    IncidentReportQuery, IntakeQuery, ReportChannel, StoredIncidentReport, StoredIntake,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::incidents::{OrgRef, may_contribute, may_see_incident, ops, scope};
use crate::api::{parse_id, rfc3339};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{ApiJson, Auth};
use crate::registry::RegistrySnapshot;

/// Whether the principal may see an incident report.
pub(crate) fn may_see_report(
    registry: &RegistrySnapshot,
    principal: &Principal,
    report: &StoredIncidentReport,
) -> bool {
    let sectors: Vec<&str> = report.org_id.and_then(|org| registry.sector_of(org)).into_iter().collect();
    let ancestors = report.org_id.map_or(&[][..], |org| registry.ancestors(org));
    may_see(
        principal,
        &Visibility {
            tlp: report.report.tlp,
            owner_org: report.org_id,
            owner_ancestors: ancestors,
            recipient_orgs: &[],
            recipient_users: report.submitted_by.as_slice(),
            sharing_group: None,
            sectors: &sectors,
        },
    )
}

/// An incident report as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentReportDto {
    pub id: Uuid,
    /// The incident it opened or follows up.
    pub incident_id: Uuid,
    pub organisation: Option<OrgRef>,
    pub submitted_by: Option<Uuid>,
    /// `api` or `staff` (filed by the CERT for the organisation).
    pub channel: String,
    /// `early_warning`, `notification`, `intermediate`, `final` or `progress`.
    pub stage: String,
    pub tlp: String,
    pub received_at: String,
    /// The report as submitted.
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
    /// Shown with one report: the intermediate reports the CSIRT or a competent authority asked
    /// of the entity about the incident (NIS2 Art. 23(4)(c)), and how each stands.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intermediate_requests: Option<Vec<crate::api::incidents::IntermediateRequestDto>>,
}

fn report_dto(
    report: &StoredIncidentReport,
    registry: &RegistrySnapshot,
    principal: &Principal,
) -> IncidentReportDto {
    IncidentReportDto {
        id: report.id,
        incident_id: report.incident_id,
        organisation: report
            .org_id
            .filter(|org| registry.may_see_org(principal, *org))
            .map(|org| OrgRef { id: org, short_name: registry.short_name(org) }),
        submitted_by: report.submitted_by,
        channel: report.channel.as_str().to_owned(),
        stage: report.report.stage.kind().as_str().to_owned(),
        tlp: report.report.tlp.label().to_owned(),
        received_at: rfc3339(report.received_at),
        report: serde_json::to_value(&report.report).unwrap_or_default(),
        intermediate_requests: None,
    }
}

/// Filters of the report list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportFilter {
    /// Only the reports of this incident.
    pub incident: Option<Uuid>,
    /// 1–1000, default 100.
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<Uuid>,
}

/// A page of incident reports, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentReportPage {
    pub items: Vec<IncidentReportDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Lists the incident reports the caller may see, newest first.
#[utoipa::path(get, path = "/api/v1/reports/incidents", tag = "incident reports", params(ReportFilter),
    responses((status = 200, body = IncidentReportPage), (status = 400, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    filter: Result<Query<ReportFilter>, QueryRejection>,
) -> ApiResult<Json<IncidentReportPage>> {
    let Query(filter) = filter?;
    let limit = match filter.limit {
        None => 100,
        Some(n @ 1..=1000) => n as usize,
        Some(n) => return Err(ApiError::bad_request("limit", format!("limit must be 1 to 1000, got {n}"))),
    };
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let principal = auth.principal();
    let mut query = IncidentReportQuery {
        incident_id: filter.incident,
        scope: scope(&registry, &auth.0),
        before: filter.cursor,
        limit: 1000,
    };
    let mut items = Vec::new();
    let mut next_cursor = None;
    for _ in 0..20 {
        let batch = state.store().list_incident_reports(&query).await?;
        let full = batch.len() == query.limit as usize;
        for report in &batch {
            query.before = Some(report.id);
            if may_see_report(&registry, &principal, report) {
                items.push(report_dto(report, &registry, &principal));
                if items.len() == limit {
                    break;
                }
            }
        }
        if items.len() == limit || !full {
            next_cursor =
                (items.len() == limit || full).then(|| query.before.map(|id| id.to_string())).flatten();
            break;
        }
    }
    Ok(Json(IncidentReportPage { items, next_cursor }))
}

/// Shows one incident report.
#[utoipa::path(get, path = "/api/v1/reports/incidents/{id}", tag = "incident reports", params(("id" = Uuid, Path)),
    responses((status = 200, body = IncidentReportDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<IncidentReportDto>> {
    let id = parse_id("id", &id)?;
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let principal = auth.principal();
    let report = state
        .store()
        .get_incident_report(id)
        .await?
        .filter(|report| may_see_report(&registry, &principal, report))
        .ok_or_else(|| ApiError::not_found("incident report"))?;
    let mut dto = report_dto(&report, &registry, &principal);
    // What the entity is asked for follows the report it sent, even where the incident itself
    // is not visible to it.
    let incident = state.store().get_incident(report.incident_id).await?;
    dto.intermediate_requests = Some(crate::api::incidents::intermediate_requests(
        incident.as_ref().and_then(|stored| stored.deadlines.as_ref()),
        &registry,
        Some(&principal),
        &state.config().deadlines,
        neretva_store::encode::now(),
    ));
    Ok(Json(dto))
}

/// On whose behalf a report or e-mail comes in.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SubmitOptions {
    /// The reporting organisation (id or short name); only the operating CERT's staff name one
    /// (filing a report received another way). Others report for their own organisation.
    pub organisation: Option<String>,
}

/// The outcome of a submitted report.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmittedReport {
    pub report: IncidentReportDto,
    pub incident: crate::api::incidents::IncidentDto,
}

/// The reporting organisation of a submission: the caller's own, or (for staff) the one named.
fn reporter(
    registry: &RegistrySnapshot,
    auth: &Auth,
    named: Option<&str>,
) -> ApiResult<(Uuid, ReportChannel)> {
    match named {
        None => Ok((auth.0.org_id, ReportChannel::Api)),
        Some(_) if !auth.0.is_operator_staff() => {
            Err(ApiError::forbidden("only the operating CERT's staff file reports for another organisation"))
        }
        Some(key) => registry.resolve(key).map(|org| (org.id, ReportChannel::Staff)).ok_or_else(|| {
            ApiError::validation(vec![FieldError::new(
                "organisation",
                format!("unknown organisation {key:?}"),
            )])
        }),
    }
}

/// Submits an incident report at one NIS2 stage: it opens an incident, or follows up the one
/// named by `incident_id`; its indicators become observables matched against stored events.
#[utoipa::path(post, path = "/api/v1/reports/incidents", tag = "incident reports", params(SubmitOptions),
    request_body(content = Object, description = "an incident report: title, aware_at, stage {kind, ...}, tlp, classification, nis1, gdpr"),
    responses((status = 201, body = SubmittedReport), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn submit(
    State(state): State<AppState>,
    auth: Auth,
    options: Result<Query<SubmitOptions>, QueryRejection>,
    ApiJson(report): ApiJson<IncidentReport>,
) -> ApiResult<(StatusCode, Json<SubmittedReport>)> {
    let Query(options) = options?;
    if !may_write(&auth.principal()) {
        return Err(ApiError::forbidden("this credential may not submit reports"));
    }
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let (org_id, channel) = reporter(&registry, &auth, options.organisation.as_deref())?;
    if let Some(incident_id) = report.incident_id {
        let incident = state
            .store()
            .get_incident(incident_id)
            .await?
            .filter(|stored| may_see_incident(&registry, &auth.principal(), &stored.incident))
            .ok_or_else(|| ApiError::not_found("incident").with_field("incident_id"))?;
        let concerns = incident.incident.reporter_org == Some(org_id)
            || incident.incident.affected_orgs.contains(&org_id);
        if !concerns || !may_contribute(&auth, &incident.incident) && !auth.0.is_operator_staff() {
            return Err(ApiError::forbidden("the incident does not concern the reporting organisation")
                .with_field("incident_id"));
        }
    }
    let actor = auth.actor();
    let (stored, incident) =
        ops(&state, &auth, &actor, &state.registry()).submit_report(report, Some(org_id), channel).await?;
    let principal = auth.principal();
    let now = neretva_store::encode::now();
    Ok((
        StatusCode::CREATED,
        Json(SubmittedReport {
            report: report_dto(&stored, &registry, &principal),
            incident: crate::api::incidents::incident_dto(
                &incident,
                &registry,
                Some(&principal),
                &state.config().deadlines,
                now,
            ),
        }),
    ))
}

/// An e-mail taken in.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntakeDto {
    pub id: Uuid,
    pub received_at: String,
    /// Where it came from (the uploader or the file).
    pub origin: String,
    pub raw_sha256: String,
    pub raw_size: u64,
    /// `parsed` or `failed`.
    pub outcome: String,
    /// Why a failed message could not be taken in.
    pub reason: Option<String>,
    pub from: Option<String>,
    pub subject: Option<String>,
    pub attachments: usize,
    /// The incident it opened.
    pub incident_id: Option<Uuid>,
}

impl From<&StoredIntake> for IntakeDto {
    fn from(intake: &StoredIntake) -> IntakeDto {
        let record = &intake.record;
        let (outcome, reason) = match &record.outcome {
            IntakeOutcome::Parsed { .. } => ("parsed", None),
            IntakeOutcome::Failed { reason, .. } => ("failed", Some(reason.clone())),
        };
        let mail = record.mail();
        IntakeDto {
            id: record.id,
            received_at: rfc3339(record.received_at),
            origin: record.origin.clone(),
            raw_sha256: record.raw_sha256.to_string(),
            raw_size: record.raw_size,
            outcome: outcome.to_owned(),
            reason,
            from: mail.map(|mail| mail.from.address.clone()),
            subject: mail.map(|mail| mail.subject.clone()),
            attachments: mail.map_or(0, |mail| mail.attachments.len()),
            incident_id: intake.incident_id,
        }
    }
}

/// Takes in a raw e-mail (`message/rfc822`): a parsed message opens an incident with the message
/// and its attachments as evidence; a malformed one is kept as a failed intake with the reason
/// (201 either way, `outcome` tells which). The reporting organisation is the caller's, or for
/// the operating CERT's staff the one named, or the one owning the sender's domain.
#[utoipa::path(post, path = "/api/v1/reports/incidents/email", tag = "incident reports", params(SubmitOptions),
    request_body(content = String, content_type = "message/rfc822"),
    responses((status = 201, body = IntakeDto), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 503, body = ErrorBody, description = "no evidence store is configured")),
    security(("bearer" = []), ("session" = [])))]
pub async fn intake(
    State(state): State<AppState>,
    auth: Auth,
    options: Result<Query<SubmitOptions>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<IntakeDto>)> {
    let Query(options) = options?;
    let limits = state.config().mail_limits;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(
                format!("the message is more than the limit of {} bytes", limits.max_message_bytes),
                limits.max_message_bytes as u64,
            )
        } else {
            ApiError::new(ErrorCode::InvalidRequest, rejection.body_text())
        }
    })?;
    if !may_write(&auth.principal()) {
        return Err(ApiError::forbidden("this credential may not submit reports"));
    }
    let blobs = state.blobs().ok_or_else(|| {
        ApiError::new(ErrorCode::Unavailable, "no evidence store is configured on this server")
    })?;
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let (mut org_id, _) = reporter(&registry, &auth, options.organisation.as_deref())?;
    if auth.0.is_operator_staff() && options.organisation.is_none() {
        // Forwarded by the CERT's mailbox: the sender's organisation, if its domain is known.
        org_id = crate::incidents::sender_org(&registry, &body).unwrap_or(org_id);
        if Some(org_id) == registry.operator_id {
            org_id = Uuid::nil();
        }
    }
    let reporter_org = (!org_id.is_nil()).then_some(org_id);
    let actor = auth.actor();
    let origin = format!("upload:{}", auth.0.username);
    let evidence_limits = state.config().evidence_limits;
    let stored = ops(&state, &auth, &actor, &state.registry())
        .intake_mail(&blobs, &body, &origin, reporter_org, &limits, &evidence_limits)
        .await?;
    Ok((StatusCode::CREATED, Json(IntakeDto::from(&stored))))
}

/// Filters of the intake list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct IntakeFilter {
    /// `failed` or `parsed`.
    pub outcome: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<Uuid>,
}

/// Lists e-mails taken in, newest first, failed ones with their reason (the operating CERT's
/// staff only).
#[utoipa::path(get, path = "/api/v1/reports/incidents/email", tag = "incident reports", params(IntakeFilter),
    responses((status = 200, body = Vec<IntakeDto>), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn intakes(
    State(state): State<AppState>,
    auth: Auth,
    filter: Result<Query<IntakeFilter>, QueryRejection>,
) -> ApiResult<Json<Vec<IntakeDto>>> {
    let Query(filter) = filter?;
    if !auth.0.is_operator_staff() {
        return Err(ApiError::forbidden("only the operating CERT's staff see the e-mail intake"));
    }
    let failed = match filter.outcome.as_deref() {
        None => None,
        Some("failed") => Some(true),
        Some("parsed") => Some(false),
        Some(other) => {
            return Err(ApiError::bad_request(
                "outcome",
                format!("unknown outcome {other:?}; expected failed or parsed"),
            ));
        }
    };
    let limit = filter.limit.unwrap_or(100).clamp(1, 1000);
    let found = state.store().list_intakes(&IntakeQuery { failed, before: filter.cursor, limit }).await?;
    Ok(Json(found.iter().map(IntakeDto::from).collect()))
}
