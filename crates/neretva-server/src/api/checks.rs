//! Communication checks: campaigns that send every contact point in a scope a one-time link,
//! record the acknowledgments, remind and escalate the silent ones, and report reachability and
//! the median response time per campaign and over time.
//!
//! Reading: the operating CERT's staff see every campaign and target; anyone else sees only
//! the campaigns that reach their own organisation, with only its targets, and the figures
//! computed from those rows. A campaign the caller sees no target of answers 404.
//!
//! Writing: creating and running campaigns is for the directory's keepers (the operating
//! CERT's admins and analysts); a target is acknowledged through the API by its own
//! organisation's members or the keepers.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use neretva_governance::checks::{self, Campaign, CampaignStats, CheckScope, SeriesPoint};
use neretva_governance::contact_points::{ContactPoint, PointKind};
use neretva_model::access::may_write;
use neretva_model::audit::{AuditEvent, digest_hex};
use neretva_model::{FieldError, Timestamp, Uuid};
use neretva_store::contact_points::{Acknowledgment, StoredCampaign, StoredTarget};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::contact_points::require_keeper;
use crate::api::{parse_id, rfc3339};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{ApiJson, Auth};
use crate::registry::RegistrySnapshot;

/// The targets of a campaign the caller may see.
pub fn visible_targets<'a>(auth: &Auth, stored: &'a StoredCampaign) -> Vec<&'a StoredTarget> {
    stored
        .targets
        .iter()
        .filter(|target| auth.0.is_operator_staff() || target.org_id == auth.0.org_id)
        .collect()
}

/// A campaign's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsDto {
    pub targets: u64,
    pub sent: u64,
    pub send_failed: u64,
    pub acknowledged: u64,
    pub reminded: u64,
    pub escalated: u64,
    /// Acknowledged targets as a percentage of all targets.
    pub reachability_percent: Option<f64>,
    /// The median time from the first challenge to the acknowledgment, in seconds.
    pub median_response_seconds: Option<f64>,
}

pub fn stats_dto(stats: &CampaignStats) -> StatsDto {
    StatsDto {
        targets: stats.targets,
        sent: stats.sent,
        send_failed: stats.send_failed,
        acknowledged: stats.acknowledged,
        reminded: stats.reminded,
        escalated: stats.escalated,
        reachability_percent: stats.reachability_percent,
        median_response_seconds: stats.median_response_seconds,
    }
}

/// One contact point a campaign reaches.
#[derive(Debug, Serialize, ToSchema)]
pub struct TargetDto {
    pub point_id: Uuid,
    pub org_id: Uuid,
    pub org: String,
    pub kind: String,
    pub name: String,
    pub email: String,
    pub language: String,
    pub sent_at: Option<String>,
    pub send_failed: bool,
    pub last_error: Option<String>,
    pub reminded_at: Option<String>,
    pub escalated_at: Option<String>,
    pub acknowledged_at: Option<String>,
    pub acknowledged_by: Option<String>,
    /// `link` or `api`.
    pub acknowledged_via: Option<String>,
    pub user_agent: Option<String>,
    /// Seconds from the first challenge to the acknowledgment.
    pub response_seconds: Option<f64>,
}

pub fn target_dto(registry: &RegistrySnapshot, target: &StoredTarget) -> TargetDto {
    let state = &target.state;
    TargetDto {
        point_id: target.point_id,
        org_id: target.org_id,
        org: registry.short_name(target.org_id),
        kind: target.kind.tag().to_owned(),
        name: target.name.clone(),
        email: target.email.clone(),
        language: target.language.tag().to_owned(),
        sent_at: state.sent_at.map(rfc3339),
        send_failed: state.send_failed,
        last_error: target.last_error.clone(),
        reminded_at: state.reminded_at.map(rfc3339),
        escalated_at: state.escalated_at.map(rfc3339),
        acknowledged_at: state.acknowledged_at.map(rfc3339),
        acknowledged_by: target.acknowledged_by.clone(),
        acknowledged_via: target.acknowledged_via.clone(),
        user_agent: target.user_agent.clone(),
        response_seconds: state
            .sent_at
            .zip(state.acknowledged_at)
            .map(|(sent, acknowledged)| (acknowledged - sent).as_seconds_f64().max(0.0)),
    }
}

/// A campaign with its targets and figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignDto {
    pub id: Uuid,
    pub name: String,
    pub kinds: Vec<String>,
    pub sectors: Vec<String>,
    pub orgs: Vec<Uuid>,
    pub points: Vec<Uuid>,
    pub created_at: String,
    pub created_by: String,
    pub deadline: String,
    pub remind_at: Option<String>,
    pub escalate_at: Option<String>,
    pub escalate_to: Option<String>,
    pub stats: StatsDto,
    pub targets: Vec<TargetDto>,
}

pub fn campaign_dto(
    registry: &RegistrySnapshot,
    stored: &StoredCampaign,
    targets: &[&StoredTarget],
) -> CampaignDto {
    let campaign = &stored.campaign;
    let states: Vec<_> = targets.iter().map(|target| target.state).collect();
    CampaignDto {
        id: campaign.id,
        name: campaign.name.clone(),
        kinds: campaign.scope.kinds.iter().map(|kind| kind.tag().to_owned()).collect(),
        sectors: campaign.scope.sectors.clone(),
        orgs: campaign.scope.orgs.clone(),
        points: campaign.scope.points.clone(),
        created_at: rfc3339(campaign.created_at),
        created_by: stored.created_by.clone(),
        deadline: rfc3339(campaign.deadline),
        remind_at: campaign.remind_at.map(rfc3339),
        escalate_at: campaign.escalate_at.map(rfc3339),
        escalate_to: campaign.escalate_to.clone(),
        stats: stats_dto(&checks::campaign_stats(&states)),
        targets: targets.iter().map(|target| target_dto(registry, target)).collect(),
    }
}

/// A new campaign.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignInput {
    pub name: String,
    /// Kinds of points to reach; all when empty.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// NIS2 sectors of sector points to reach.
    #[serde(default)]
    pub sectors: Vec<String>,
    /// Organisations (ids or short names) whose points to reach.
    #[serde(default)]
    pub orgs: Vec<String>,
    /// Points reached whatever the other lists say.
    #[serde(default)]
    pub points: Vec<Uuid>,
    /// RFC 3339; the links expire then.
    pub deadline: String,
    #[serde(default)]
    pub remind_at: Option<String>,
    #[serde(default)]
    pub escalate_at: Option<String>,
    /// Where escalations go (the CERT's coordinator).
    #[serde(default)]
    pub escalate_to: Option<String>,
}

fn parse_time(problems: &mut Vec<FieldError>, field: &str, text: &str) -> Option<Timestamp> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|_| problems.push(FieldError::new(field, format!("{text:?} is not an RFC 3339 time"))))
        .ok()
}

/// Makes a checked campaign and its targets from input: every problem by field; `points` are
/// the directory's points the scope chooses from.
pub fn campaign_from(
    registry: &RegistrySnapshot,
    input: CampaignInput,
    points: &[ContactPoint],
    id: Uuid,
    now: Timestamp,
) -> Result<(Campaign, Vec<ContactPoint>), Vec<FieldError>> {
    let mut problems = Vec::new();
    let mut kinds = Vec::new();
    for (index, text) in input.kinds.iter().enumerate() {
        match PointKind::parse(&format!("kinds[{index}]"), text) {
            Ok(kind) => kinds.push(kind),
            Err(error) => problems.push(error),
        }
    }
    let mut orgs = Vec::new();
    for (index, key) in input.orgs.iter().enumerate() {
        match registry.resolve(key) {
            Some(org) => orgs.push(org.id),
            None => {
                problems.push(FieldError::new(format!("orgs[{index}]"), format!("no organisation {key:?}")))
            }
        }
    }
    let deadline = parse_time(&mut problems, "deadline", &input.deadline);
    let remind_at = input.remind_at.as_deref().and_then(|text| parse_time(&mut problems, "remind_at", text));
    let escalate_at =
        input.escalate_at.as_deref().and_then(|text| parse_time(&mut problems, "escalate_at", text));
    let Some(deadline) = deadline else {
        return Err(problems);
    };
    let campaign = Campaign {
        id,
        name: input.name,
        scope: CheckScope { kinds, sectors: input.sectors, orgs, points: input.points },
        created_at: now,
        deadline,
        remind_at,
        escalate_at,
        escalate_to: input.escalate_to,
    };
    // The input names the scope's lists at the top level.
    let top_level = |errors: Vec<FieldError>| -> Vec<FieldError> {
        errors
            .into_iter()
            .map(|error| match error.field.strip_prefix("scope.") {
                Some(field) => FieldError::new(field, error.message),
                None => error,
            })
            .collect()
    };
    problems.extend(top_level(checks::validate(&campaign, now)));
    if !problems.is_empty() {
        return Err(problems);
    }
    let chosen =
        checks::select(&campaign.scope, points, |org| registry.orgs.contains_key(&org)).map_err(top_level)?;
    let targets = chosen.into_iter().cloned().collect();
    Ok((campaign, targets))
}

/// Lists the campaigns the caller sees, newest first, with their figures.
#[utoipa::path(get, path = "/api/v1/communication-checks", tag = "communication-checks",
    responses((status = 200, body = [CampaignDto])), security(("bearer" = []), ("session" = [])))]
pub async fn list(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<CampaignDto>>> {
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let campaigns = state.store().list_checks().await?;
    let items = campaigns
        .iter()
        .filter_map(|stored| {
            let targets = visible_targets(&auth, stored);
            (!targets.is_empty()).then(|| campaign_dto(&registry, stored, &targets))
        })
        .collect();
    Ok(Json(items))
}

/// Creates a campaign (keepers only); its targets are the directory's points its scope takes,
/// fixed at creation. Nothing is sent until the campaign runs.
#[utoipa::path(post, path = "/api/v1/communication-checks", tag = "communication-checks",
    request_body = CampaignInput,
    responses((status = 201, body = CampaignDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<CampaignInput>,
) -> ApiResult<Response> {
    require_keeper(&auth)?;
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let points: Vec<ContactPoint> =
        state.store().list_contact_points(None).await?.into_iter().map(|stored| stored.point).collect();
    let (campaign, targets) =
        campaign_from(&registry, input, &points, Uuid::now_v7(), OffsetDateTime::now_utc())
            .map_err(ApiError::validation)?;
    let stored = state.store().create_check(&auth.actor(), &campaign, &targets).await?;
    let visible = visible_targets(&auth, &stored);
    Ok((StatusCode::CREATED, Json(campaign_dto(&registry, &stored, &visible))).into_response())
}

async fn visible(state: &AppState, auth: &Auth, id: &str) -> ApiResult<StoredCampaign> {
    let id = parse_id("id", id)?;
    state
        .store()
        .get_check(id)
        .await?
        .filter(|stored| !visible_targets(auth, stored).is_empty())
        .ok_or_else(|| ApiError::not_found("communication check"))
}

/// One campaign with the targets the caller sees.
#[utoipa::path(get, path = "/api/v1/communication-checks/{id}", tag = "communication-checks",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = CampaignDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<CampaignDto>> {
    let stored = visible(&state, &auth, &id).await?;
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    Ok(Json(campaign_dto(&registry, &stored, &visible_targets(&auth, &stored))))
}

/// What a run did.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunDto {
    pub sent: u64,
    pub reminded: u64,
    pub escalated: u64,
    pub failed: u64,
}

/// Sends what is due now (keepers only): the challenges not yet sent, the reminders after
/// `remind_at`, the escalation after `escalate_at`. Needs the notifier (`[notify]`) and the
/// public address the links point to (`public_url`).
#[utoipa::path(post, path = "/api/v1/communication-checks/{id}/run", tag = "communication-checks",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = RunDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn run(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<RunDto>> {
    let stored = visible(&state, &auth, &id).await?;
    require_keeper(&auth)?;
    let (Some(notifier), Some(public_url)) = (state.notifier(), state.config().public_url.as_deref()) else {
        return Err(ApiError::new(
            ErrorCode::Unavailable,
            "communication checks need the notifier ([notify]) and public_url to be configured",
        ));
    };
    let summary = crate::checks::run_campaign(
        state.store(),
        notifier,
        public_url,
        &auth.actor(),
        stored.campaign.id,
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok(Json(RunDto {
        sent: summary.sent,
        reminded: summary.reminded,
        escalated: summary.escalated,
        failed: summary.failed,
    }))
}

/// An acknowledgment through the API.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AckInput {
    /// The contact point acknowledging.
    pub point: Uuid,
}

/// Acknowledges a check for a contact point of the caller's organisation (or, for the keepers,
/// any target); a target already acknowledged or a campaign past its deadline is a conflict.
#[utoipa::path(post, path = "/api/v1/communication-checks/{id}/acknowledge", tag = "communication-checks",
    params(("id" = Uuid, Path)), request_body = AckInput,
    responses((status = 200, body = TargetDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn acknowledge(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AckInput>,
) -> ApiResult<Json<TargetDto>> {
    let stored = visible(&state, &auth, &id).await?;
    if !visible_targets(&auth, &stored).iter().any(|target| target.point_id == input.point) {
        return Err(ApiError::not_found("communication check target"));
    }
    if !may_write(&auth.principal()) {
        return Err(ApiError::forbidden("the credential may not write"));
    }
    let ack = Acknowledgment { by: auth.0.username.clone(), via: "api".into(), user_agent: None };
    let target = state
        .store()
        .acknowledge_check_target(
            &auth.actor(),
            stored.campaign.id,
            input.point,
            OffsetDateTime::now_utc(),
            &ack,
        )
        .await?;
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    Ok(Json(target_dto(&registry, &target)))
}

/// The report's format.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// One campaign of the report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportRow {
    pub campaign: Uuid,
    pub name: String,
    pub created_at: String,
    pub deadline: String,
    pub stats: StatsDto,
}

/// Reachability and median response time per campaign, oldest first (the time series), from
/// the targets the caller sees; as JSON or CSV. Audited as an export.
#[utoipa::path(get, path = "/api/v1/communication-checks/report", tag = "communication-checks", params(ReportQuery),
    responses((status = 200, description = "the report as JSON (an array of ReportRow) or CSV", body = [ReportRow]),
        (status = 400, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn report(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<ReportQuery>,
) -> ApiResult<Response> {
    let campaigns = state.store().list_checks().await?;
    let points: Vec<SeriesPoint> = campaigns
        .iter()
        .filter_map(|stored| {
            let targets = visible_targets(&auth, stored);
            (!targets.is_empty()).then(|| series_point(stored, &targets))
        })
        .collect();
    let series = checks::series(points);
    let (content_type, body) = match query.format.as_deref().unwrap_or("json") {
        "json" => {
            let rows: Vec<ReportRow> = series
                .iter()
                .map(|point| ReportRow {
                    campaign: point.campaign,
                    name: point.name.clone(),
                    created_at: rfc3339(point.created_at),
                    deadline: rfc3339(point.deadline),
                    stats: stats_dto(&point.stats),
                })
                .collect();
            ("application/json", serde_json::to_string(&rows).unwrap_or_default())
        }
        "csv" => ("text/csv; charset=utf-8", checks::report_csv(&series)),
        other => return Err(ApiError::bad_request("format", format!("{other:?} is not json or csv"))),
    };
    state
        .store()
        .append_audit(&AuditEvent {
            actor: auth.actor().0,
            action: "check.report.export".into(),
            object_type: "check".into(),
            object_id: "report".into(),
            digest: digest_hex(body.as_bytes()),
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

/// A campaign's point in the series, from the given targets.
pub fn series_point(stored: &StoredCampaign, targets: &[&StoredTarget]) -> SeriesPoint {
    let states: Vec<_> = targets.iter().map(|target| target.state).collect();
    SeriesPoint {
        campaign: stored.campaign.id,
        name: stored.campaign.name.clone(),
        created_at: stored.campaign.created_at,
        deadline: stored.campaign.deadline,
        stats: checks::campaign_stats(&states),
    }
}
