//! Maturity self-assessments: SIM3 for CSIRTs and the NIS2 Art. 21(2) self-assessment for
//! operators, with comparison, ENISA tiers, SVG charts and sector aggregates.
//!
//! Access: an assessment is the assessed organisation's `TLP:AMBER+STRICT` data, like its
//! contacts: the organisation, the organisations above it (its CERTs) and the operating CERT's
//! staff see it; everyone else gets 404. It is taken and changed by those who may change the
//! organisation's data (`RegistrySnapshot::may_edit_member_data`: the operator's staff with
//! write access, admins and analysts of an organisation above it, the organisation's own
//! admins); others who see it get 403. A competent authority sees no single assessment, only
//! the aggregates of the NIS2 self-assessments of its sectors (`/api/v1/assessments/sectors`);
//! the operator's staff see the aggregates of every sector.
//!
//! Every change validates the whole assessment and writes it under the version read with its
//! audit entry in one transaction.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use neretva_governance::maturity::{
    self, Assessment, Comparison, Framework, Parameter, SectorAggregate, Tier, enisa_tier,
};
use neretva_governance::svg;
use neretva_model::contact::Language;
use neretva_model::user::Role;
use neretva_model::{FieldError, Uuid};
use neretva_store::records::StoredAssessment;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::strategy::{parse_date, today};
use crate::api::{parse_id, rfc3339};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::registry::RegistrySnapshot;

/// The most scores one request sets.
const MAX_SCORES_PER_REQUEST: usize = 100;

// Access.

/// Loads an assessment the caller may see, or answers 404.
async fn visible(state: &AppState, auth: &Auth, id: &str) -> ApiResult<StoredAssessment> {
    let id = parse_id("id", id)?;
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    state
        .store()
        .get_assessment(id)
        .await?
        .filter(|stored| registry.may_see_member_data(&auth.principal(), stored.record.org_id))
        .ok_or_else(|| ApiError::not_found("assessment"))
}

fn require_assessor(registry: &RegistrySnapshot, auth: &Auth, org: Uuid) -> ApiResult<()> {
    if registry.may_edit_member_data(&auth.principal(), org) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only the organisation's admins, the CERTs above it and the operating CERT's staff take its assessments",
        ))
    }
}

fn parse_framework(field: &str, text: &str) -> Result<Framework, FieldError> {
    Framework::parse(text)
        .ok_or_else(|| FieldError::new(field, format!("unknown framework {text:?}; expected sim3 or nis2")))
}

/// Scores as posted, each checked against the framework's catalogue; every problem by index.
fn apply_scores(assessment: &mut Assessment, scores: Vec<ScoreInput>) -> ApiResult<()> {
    if scores.len() > MAX_SCORES_PER_REQUEST {
        return Err(ApiError::bad_request(
            "scores",
            format!("at most {MAX_SCORES_PER_REQUEST} scores at once"),
        ));
    }
    let mut problems = Vec::new();
    for (index, score) in scores.into_iter().enumerate() {
        if let Err(mut error) = maturity::set_score(assessment, &score.parameter, score.level, score.evidence)
        {
            error.field = format!("scores[{index}].{}", error.field);
            problems.push(error);
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(ApiError::validation(problems)) }
}

fn check(assessment: &Assessment) -> ApiResult<()> {
    let problems = maturity::validate(assessment);
    if problems.is_empty() { Ok(()) } else { Err(ApiError::validation(problems)) }
}

// Wire types.

/// A score as posted.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreInput {
    /// `O-1` … `P-17` for SIM3, `a` … `j` for NIS2.
    pub parameter: String,
    /// 0–4.
    pub level: u8,
    pub evidence: Option<String>,
}

/// An assessment with what is read off it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentDto {
    pub id: Uuid,
    pub version: i64,
    /// The assessed organisation's short name.
    pub organisation: String,
    pub created_at: String,
    pub updated_at: String,
    /// How many parameters are scored, of how many.
    pub scored: usize,
    pub parameters: usize,
    pub mean: Option<f64>,
    /// SIM3 only: `basic`, `intermediate` or `advanced`; none below basic or when incomplete.
    #[schema(value_type = Option<String>)]
    pub enisa_tier: Option<Tier>,
    /// The assessment: `org_id`, `framework`, `title`, `assessed_on`, `scores[]` (parameter,
    /// level, evidence).
    #[schema(value_type = Object)]
    pub assessment: serde_json::Value,
}

fn dto(registry: &RegistrySnapshot, stored: &StoredAssessment) -> AssessmentDto {
    let (scored, parameters) = stored.record.completeness();
    AssessmentDto {
        id: stored.record.id,
        version: stored.version,
        organisation: registry.short_name(stored.record.org_id),
        created_at: rfc3339(stored.created_at),
        updated_at: rfc3339(stored.updated_at),
        scored,
        parameters,
        mean: stored.record.mean(),
        enisa_tier: enisa_tier(&stored.record),
        assessment: serde_json::to_value(&stored.record).unwrap_or(serde_json::Value::Null),
    }
}

// Handlers.

/// Filters of the assessment list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// An organisation's id or short name.
    pub org: Option<String>,
    /// `sim3` or `nis2`.
    pub framework: Option<String>,
}

/// Lists the assessments the caller may see, by organisation and day.
#[utoipa::path(get, path = "/api/v1/assessments", tag = "assessments", params(ListQuery),
    responses((status = 200, body = [AssessmentDto]), (status = 400, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<AssessmentDto>>> {
    let Query(query) = query?;
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let framework = query.framework.as_deref().map(|text| parse_framework("framework", text)).transpose()?;
    let org = match query.org.as_deref() {
        None => None,
        Some(key) => Some(
            registry
                .resolve(key)
                .filter(|org| registry.may_see_member_data(&auth.principal(), org.id))
                .ok_or_else(|| ApiError::bad_request("org", format!("no organisation {key:?}")))?
                .id,
        ),
    };
    let mut items: Vec<StoredAssessment> = state
        .store()
        .list_assessments(org)
        .await?
        .into_iter()
        .filter(|stored| framework.is_none_or(|framework| stored.record.framework == framework))
        .filter(|stored| registry.may_see_member_data(&auth.principal(), stored.record.org_id))
        .collect();
    items.sort_by_key(|stored| (registry.short_name(stored.record.org_id), stored.record.assessed_on));
    Ok(Json(items.iter().map(|stored| dto(&registry, stored)).collect()))
}

/// A new assessment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAssessment {
    /// The assessed organisation's id or short name.
    pub org: String,
    /// `sim3` or `nis2`.
    pub framework: String,
    pub title: String,
    /// YYYY-MM-DD; today when left out.
    pub assessed_on: Option<String>,
    #[serde(default)]
    pub scores: Vec<ScoreInput>,
}

/// Starts an assessment, with any scores already known.
#[utoipa::path(post, path = "/api/v1/assessments", tag = "assessments", request_body = NewAssessment,
    responses((status = 201, body = AssessmentDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<NewAssessment>,
) -> ApiResult<Response> {
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let mut problems = Vec::new();
    let org = registry.resolve(&body.org).filter(|org| registry.may_see_org(&auth.principal(), org.id));
    if org.is_none() {
        problems.push(FieldError::new("org", format!("no organisation {:?}", body.org)));
    }
    let framework = parse_framework("framework", &body.framework).map_err(|e| problems.push(e)).ok();
    let day = match body.assessed_on.as_deref() {
        None => Some(today()),
        Some(text) => parse_date("assessed_on", text).map_err(|e| problems.push(e)).ok(),
    };
    let (Some(org), Some(framework), Some(day), true) = (org, framework, day, problems.is_empty()) else {
        return Err(ApiError::validation(problems));
    };
    require_assessor(&registry, &auth, org.id)?;
    let mut assessment = Assessment::new(Uuid::new_v4(), org.id, framework, body.title, day);
    apply_scores(&mut assessment, body.scores)?;
    check(&assessment)?;
    let stored = state.store().create_assessment(&auth.actor(), &assessment).await?;
    Ok((StatusCode::CREATED, Json(dto(&registry, &stored))).into_response())
}

/// The framework of the catalogue.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CatalogueQuery {
    /// `sim3` (default) or `nis2`.
    pub framework: Option<String>,
}

/// A framework's catalogue: its parameters and what each level of the 0–4 scale means.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogueDto {
    pub framework: String,
    #[schema(value_type = Vec<Object>)]
    pub parameters: &'static [Parameter],
    pub levels: Vec<&'static str>,
}

/// The parameters of SIM3 (the 44 of v1 and O-6 of v2) or the ten NIS2 Art. 21(2) areas.
#[utoipa::path(get, path = "/api/v1/assessments/catalogue", tag = "assessments", params(CatalogueQuery),
    responses((status = 200, body = CatalogueDto), (status = 400, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn catalogue(
    _auth: Auth,
    query: Result<Query<CatalogueQuery>, QueryRejection>,
) -> ApiResult<Json<CatalogueDto>> {
    let Query(query) = query?;
    let framework = parse_framework("framework", query.framework.as_deref().unwrap_or("sim3"))?;
    Ok(Json(CatalogueDto {
        framework: framework.as_str().to_owned(),
        parameters: framework.catalogue(),
        levels: framework.levels().to_vec(),
    }))
}

/// The NIS2 self-assessments by sector: per measure area, how many organisations scored it,
/// the mean and the median, over each organisation's latest assessment. A competent authority
/// gets its sectors; the operator's staff every sector.
#[utoipa::path(get, path = "/api/v1/assessments/sectors", tag = "assessments",
    responses((status = 200, body = [Object]), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn sectors(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<SectorAggregate>>> {
    let user = &auth.0;
    let allowed: Option<Vec<String>> = if user.is_operator_staff() {
        None
    } else if user.role == Role::Authority {
        Some(user.sectors.clone())
    } else {
        return Err(ApiError::forbidden(
            "only competent authorities and the operating CERT's staff see sector aggregates",
        ));
    };
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let assessments: Vec<Assessment> =
        state.store().list_assessments(None).await?.into_iter().map(|stored| stored.record).collect();
    let sector_of = |org: Uuid| {
        registry
            .sector_of(org)
            .filter(|sector| allowed.as_ref().is_none_or(|allowed| allowed.iter().any(|s| s == sector)))
            .map(str::to_owned)
    };
    Ok(Json(maturity::sector_aggregates(&assessments, sector_of)))
}

/// One assessment, with its mean and ENISA tier.
#[utoipa::path(get, path = "/api/v1/assessments/{id}", tag = "assessments", params(("id" = Uuid, Path)),
    responses((status = 200, body = AssessmentDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<AssessmentDto>> {
    let stored = visible(&state, &auth, &id).await?;
    Ok(Json(dto(&state.registry(), &stored)))
}

/// Scores to set, all or none.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoresInput {
    pub scores: Vec<ScoreInput>,
    /// The version read; the current one when left out.
    pub version: Option<i64>,
}

/// Sets (or replaces) scores with their evidence; one bad score and none is set.
#[utoipa::path(post, path = "/api/v1/assessments/{id}/scores", tag = "assessments", params(("id" = Uuid, Path)),
    request_body = ScoresInput,
    responses((status = 200, body = AssessmentDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn set_scores(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ScoresInput>,
) -> ApiResult<Json<AssessmentDto>> {
    let stored = visible(&state, &auth, &id).await?;
    let registry = state.registry();
    require_assessor(&registry, &auth, stored.record.org_id)?;
    let mut assessment = stored.record.clone();
    apply_scores(&mut assessment, body.scores)?;
    check(&assessment)?;
    let version = body.version.unwrap_or(stored.version);
    let written =
        state.store().update_assessment(&auth.actor(), &assessment, version, "assessment.score").await?;
    Ok(Json(dto(&registry, &written)))
}

/// Deletes an assessment.
#[utoipa::path(delete, path = "/api/v1/assessments/{id}", tag = "assessments", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let stored = visible(&state, &auth, &id).await?;
    require_assessor(&state.registry(), &auth, stored.record.org_id)?;
    state.store().delete_assessment(&auth.actor(), stored.record.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Compares an assessment (`id`, before) with another of the same framework (`other`, after),
/// parameter by parameter.
#[utoipa::path(get, path = "/api/v1/assessments/{id}/compare/{other}", tag = "assessments",
    params(("id" = Uuid, Path), ("other" = Uuid, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn compare(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, other)): Path<(String, String)>,
) -> ApiResult<Json<Comparison>> {
    let before = visible(&state, &auth, &id).await?;
    let after = visible(&state, &auth, &other).await?;
    Ok(Json(maturity::compare(&before.record, &after.record)?))
}

/// Another assessment drawn on the same radar.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RadarQuery {
    /// Another assessment's id, of the same framework.
    pub with: Option<String>,
}

fn svg_response(body: String) -> Response {
    ([(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")], body).into_response()
}

/// The assessment as an SVG radar chart over its framework's parameters; with `with`, another
/// assessment drawn over it.
#[utoipa::path(get, path = "/api/v1/assessments/{id}/radar.svg", tag = "assessments",
    params(("id" = Uuid, Path), RadarQuery),
    responses((status = 200, content_type = "image/svg+xml", body = String), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn radar(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    query: Result<Query<RadarQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(query) = query?;
    let stored = visible(&state, &auth, &id).await?;
    let mut shown = vec![stored.record];
    if let Some(other) = query.with.as_deref() {
        let other = visible(&state, &auth, other).await?;
        if other.record.framework != shown[0].framework {
            return Err(FieldError::new("with", "the other assessment uses another framework").into());
        }
        shown.push(other.record);
    }
    let registry = state.registry();
    let title =
        format!("{} — {}", registry.short_name(shown[0].org_id), shown[0].framework.as_str().to_uppercase());
    let refs: Vec<&Assessment> = shown.iter().collect();
    Ok(svg_response(svg::assessment_radar(&title, shown[0].framework, &refs)))
}

/// The language of a chart's words.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TrendQuery {
    /// `en` (default), `bs`, `hr`, `sr-Latn` or `sr-Cyrl`.
    pub lang: Option<String>,
}

/// The organisation's history of the assessment's framework as an SVG trend chart: the mean
/// level of each assessment by day (and, for SIM3, of each category), the legend in `lang`.
#[utoipa::path(get, path = "/api/v1/assessments/{id}/trend.svg", tag = "assessments",
    params(("id" = Uuid, Path), TrendQuery),
    responses((status = 200, content_type = "image/svg+xml", body = String), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn trend(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    query: Result<Query<TrendQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(query) = query?;
    let language = match query.lang.as_deref() {
        None => Language::En,
        Some(tag) => tag.parse::<Language>().map_err(|_| {
            FieldError::new(
                "lang",
                format!("unknown language {tag:?}; expected en, bs, hr, sr-Latn or sr-Cyrl"),
            )
        })?,
    };
    let stored = visible(&state, &auth, &id).await?;
    let (org, framework) = (stored.record.org_id, stored.record.framework);
    let all: Vec<Assessment> =
        state.store().list_assessments(Some(org)).await?.into_iter().map(|stored| stored.record).collect();
    let history = maturity::history(&all, org, framework);
    let title = format!(
        "{} — {} {}",
        state.registry().short_name(org),
        framework.as_str().to_uppercase(),
        svg::trend_words(language).trend
    );
    Ok(svg_response(svg::assessment_trend(&title, framework, &history, language)))
}
