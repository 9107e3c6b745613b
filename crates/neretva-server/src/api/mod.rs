//! The REST API under `/api/v1`: one module per resource, each with its wire types (DTOs).

pub mod assessments;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod checks;
pub mod contact_points;
pub mod contacts;
pub mod events;
pub mod evidence;
pub mod exercises;
pub mod feeds;
pub mod groups;
pub mod health;
pub mod incident_reports;
pub mod incidents;
pub mod intel;
pub mod learning;
pub mod lookup;
pub mod notifications;
pub mod orgs;
pub mod preservation;
pub mod strategy;
pub mod taxii;
pub mod tokens;
pub mod training;
pub mod users;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, patch, post, put};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::error::{ApiError, ErrorCode};

pub(crate) fn router(state: &AppState) -> Router<AppState> {
    let import_limit = state.config().max_import_bytes;
    // One more byte than the limit reaches the handler, which answers 413 naming the limit.
    let mail_limit = state.config().mail_limits.max_message_bytes.saturating_add(1);
    Router::new()
        .route("/openapi.json", get(crate::openapi::document))
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/me", get(auth::me))
        .route("/organisations", get(orgs::list).post(orgs::create))
        .route("/organisations/import", post(orgs::import).layer(DefaultBodyLimit::max(import_limit)))
        .route("/organisations/export", get(orgs::export))
        .route("/organisations/{org}", get(orgs::get).put(orgs::update).delete(orgs::remove))
        .route("/organisations/{org}/contacts", get(contacts::list_for_org).post(contacts::create))
        .route("/organisations/{org}/notifications", get(notifications::for_org))
        .route("/organisations/{org}/assets", get(assets::list_for_org).post(assets::create))
        .route("/contacts", get(contacts::list))
        .route("/contacts/{id}", get(contacts::get).put(contacts::update).delete(contacts::remove))
        .route("/assets", get(assets::list))
        .route("/assets/{id}", get(assets::get).delete(assets::remove))
        .route("/lookup", get(lookup::lookup))
        .route("/lookup/overlaps", get(lookup::overlaps))
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}", get(users::get).patch(users::update))
        .route("/users/{id}/password", post(users::set_password))
        .route("/users/{id}/disable", post(users::disable))
        .route("/users/{id}/enable", post(users::enable))
        .route("/users/{id}/unlock", post(users::unlock))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{id}", delete(tokens::revoke))
        .route("/events", get(events::list))
        .route("/notifications", get(notifications::list))
        .route("/notifications/preview", get(notifications::preview))
        .route("/notifications/advisories", post(notifications::advisory))
        .route("/notifications/{id}", get(notifications::get))
        .route("/notifications/{id}/resend", post(notifications::resend))
        .route("/events/{id}", get(events::get))
        .route("/feeds", get(feeds::list))
        .route("/feeds/{name}/fetch", post(feeds::fetch))
        .route(
            "/reports",
            get(events::list_reports).post(events::upload).layer(DefaultBodyLimit::max(import_limit)),
        )
        .route("/reports/{id}", get(events::get_report))
        .route("/reports/{id}/errors", get(events::report_errors))
        .route("/reports/{id}/reparse", post(events::reparse))
        // Static segments take priority over `{id}`: these never reach the feed reports.
        .route("/reports/incidents", get(incident_reports::list).post(incident_reports::submit))
        .route(
            "/reports/incidents/email",
            get(incident_reports::intakes)
                .post(incident_reports::intake)
                .layer(DefaultBodyLimit::max(mail_limit)),
        )
        .route("/reports/incidents/{id}", get(incident_reports::get))
        .route(
            "/intel/events",
            get(intel::list).post(intel::create).layer(DefaultBodyLimit::max(intel::MAX_DOCUMENT)),
        )
        .route(
            "/intel/events/{id}",
            get(intel::get)
                .put(intel::update)
                .patch(intel::patch)
                .delete(intel::remove)
                .layer(DefaultBodyLimit::max(intel::MAX_DOCUMENT)),
        )
        .route("/intel/events/{id}/sightings", post(intel::add_sighting))
        .route("/intel/events/{id}/export", get(intel::export))
        .route("/intel/events/{id}/correlations", get(intel::correlations))
        .route("/intel/import", post(intel::import).layer(DefaultBodyLimit::max(intel::MAX_DOCUMENT)))
        .route("/intel/attributes", get(intel::attributes))
        .route("/intel/sharing-groups", get(intel::list_groups).post(intel::create_group))
        .route(
            "/intel/sharing-groups/{id}",
            patch(intel::patch_group).put(intel::replace_group).delete(intel::delete_group),
        )
        .route("/incidents", get(incidents::list).post(incidents::create))
        .route("/incidents/queue", get(incidents::queue))
        .route("/incidents/deadlines", get(incidents::deadlines))
        .route("/incidents/stats", get(incidents::stats))
        .route("/incidents/summary", get(incidents::summary))
        .route("/incidents/significance", post(incidents::significance))
        .route("/incidents/rematch", post(incidents::rematch))
        .route("/incidents/{id}", get(incidents::get).patch(incidents::update))
        .route("/incidents/{id}/transition", post(incidents::transition))
        .route("/incidents/{id}/assign", post(incidents::assign))
        .route("/incidents/{id}/timeline", get(incidents::timeline))
        .route("/incidents/{id}/comments", post(incidents::comment))
        .route("/incidents/{id}/feedback", post(incidents::feedback))
        .route("/incidents/{id}/requests", get(incidents::requests).post(incidents::request_intermediate))
        .route("/incidents/{id}/significance", put(incidents::record_significance))
        .route("/incidents/{id}/tasks", get(incidents::tasks).post(incidents::add_task))
        .route("/incidents/{id}/tasks/{task}", patch(incidents::update_task))
        .route(
            "/incidents/{id}/observables",
            get(incidents::observables).post(incidents::add_observable).delete(incidents::remove_observable),
        )
        .route("/incidents/{id}/observables/events", get(incidents::observable_events))
        .route("/incidents/{id}/observables/intel", get(intel::incident_intel))
        .route("/incidents/{id}/links", get(incidents::links).post(incidents::add_link))
        .route("/incidents/{id}/links/{other}", delete(incidents::remove_link))
        .route("/incidents/{id}/merge", post(incidents::merge_into))
        .route(
            "/incidents/{id}/evidence",
            // The upload enforces the evidence size limit itself while it streams.
            get(evidence::list).post(evidence::upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/incidents/{id}/evidence/{sha256}", get(evidence::get))
        .route("/incidents/{id}/evidence/{sha256}/content", get(evidence::download))
        .route("/incidents/{id}/evidence/{sha256}/export", post(evidence::export))
        .route("/taxii/collections", get(taxii::list).post(taxii::create))
        .route("/taxii/collections/{id}", get(taxii::get).put(taxii::update).delete(taxii::remove))
        .route("/contact-points", get(contact_points::list).post(contact_points::create))
        .route(
            "/contact-points/{id}",
            get(contact_points::get).put(contact_points::replace).delete(contact_points::remove),
        )
        .route(
            "/contact-points/profiles/{org}",
            get(contact_points::get_profile).put(contact_points::put_profile),
        )
        .route("/contact-points/profiles/{org}/rfc2350", get(contact_points::export_rfc2350))
        .route("/communication-checks", get(checks::list).post(checks::create))
        .route("/communication-checks/report", get(checks::report))
        .route("/communication-checks/{id}", get(checks::get))
        .route("/communication-checks/{id}/run", post(checks::run))
        .route("/communication-checks/{id}/acknowledge", post(checks::acknowledge))
        .route("/strategy", get(strategy::list).post(strategy::create))
        .route("/strategy/defaults", post(strategy::load_defaults))
        .route("/strategy/{id}", get(strategy::get).put(strategy::replace).delete(strategy::remove))
        .route("/strategy/{id}/measures", post(strategy::add_measure))
        .route("/strategy/{id}/actions", post(strategy::add_action))
        .route("/strategy/{id}/actions/{action}", patch(strategy::update_action))
        .route("/strategy/{id}/actions/{action}/kpis/{kpi}/measurements", post(strategy::add_measurement))
        .route("/strategy/{id}/progress", get(strategy::progress))
        .route("/strategy/{id}/overdue", get(strategy::overdue))
        .route("/strategy/{id}/changes", get(strategy::changes))
        .route("/groups", get(groups::list).post(groups::create))
        .route("/groups/{id}", get(groups::get).patch(groups::update).delete(groups::remove))
        .route("/groups/{id}/members", post(groups::add_member))
        .route("/groups/{id}/members/{member}", delete(groups::remove_member))
        .route("/groups/{id}/members/{member}/self", get(groups::get_self).put(groups::put_self))
        .route("/groups/{id}/diversity", get(groups::diversity))
        .route("/groups/{id}/meetings", post(groups::add_meeting))
        .route("/groups/{id}/meetings/{meeting}", patch(groups::update_meeting))
        .route("/groups/{id}/items", post(groups::add_item))
        .route("/groups/{id}/items/{item}", patch(groups::update_item))
        .route("/groups/{id}/documents", post(groups::add_document))
        .route("/groups/{id}/documents/{document}", get(groups::get_document).delete(groups::remove_document))
        .route("/groups/{id}/announcements", post(groups::announce))
        .route("/groups/{id}/announcements/{announcement}", get(groups::get_announcement))
        .route("/strategy/{id}/report", get(strategy::implementation_report))
        .route("/preservation", get(preservation::list).post(preservation::create))
        .route("/preservation/reminders", get(preservation::reminders))
        .route("/preservation/{id}", get(preservation::get))
        .route("/preservation/{id}/preserve", post(preservation::preserve))
        .route("/preservation/{id}/extend", post(preservation::extend))
        .route("/preservation/{id}/follow-up", post(preservation::follow_up))
        .route("/preservation/{id}/release", post(preservation::release))
        .route("/assessments", get(assessments::list).post(assessments::create))
        .route("/assessments/catalogue", get(assessments::catalogue))
        .route("/assessments/sectors", get(assessments::sectors))
        .route("/assessments/{id}", get(assessments::get).delete(assessments::remove))
        .route("/assessments/{id}/scores", post(assessments::set_scores))
        .route("/assessments/{id}/compare/{other}", get(assessments::compare))
        .route("/assessments/{id}/radar.svg", get(assessments::radar))
        .route("/assessments/{id}/trend.svg", get(assessments::trend))
        .route(
            "/learning/courses",
            get(learning::list_courses).post(learning::import).layer(DefaultBodyLimit::max(import_limit)),
        )
        .route("/learning/courses/{id}", get(learning::get_course))
        .route("/learning/courses/{id}/lessons/{module}/{lesson}", get(learning::lesson))
        .route("/learning/courses/{id}/images/{name}", get(learning::image))
        .route("/learning/courses/{id}/export", get(learning::export_course))
        .route("/learning/enrolments", get(learning::list_enrolments).post(learning::enrol))
        .route("/learning/enrolments/{id}", get(learning::get_enrolment))
        .route("/learning/enrolments/{id}/lessons", post(learning::read_lesson))
        .route("/learning/enrolments/{id}/attempts", post(learning::start_attempt))
        .route("/learning/attempts/{id}", get(learning::get_attempt))
        .route("/learning/attempts/{id}/submit", post(learning::submit_attempt))
        .route("/learning/certificates/verify/{code}", get(learning::verify))
        .route("/learning/records/xapi", get(learning::xapi))
        .merge(training::router())
        .merge(exercises::router(import_limit))
        .route("/audit", get(audit::list))
        .route("/audit/verify", get(audit::verify))
        .fallback(not_found)
}

async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such API endpoint")
}

/// Paging for listings: `limit` (1–1000, default 100) and an opaque `cursor`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Page {
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl Page {
    pub(crate) fn limit(&self) -> Result<usize, ApiError> {
        match self.limit {
            None => Ok(100),
            Some(n @ 1..=1000) => Ok(n as usize),
            Some(n) => Err(ApiError::bad_request("limit", format!("limit must be 1 to 1000, got {n}"))),
        }
    }

    /// Applies offset paging over an already filtered, ordered list.
    pub(crate) fn apply<T>(&self, items: Vec<T>) -> Result<Paged<T>, ApiError> {
        let limit = self.limit()?;
        let offset = match &self.cursor {
            None => 0,
            Some(cursor) => {
                cursor.parse::<usize>().map_err(|_| ApiError::bad_request("cursor", "invalid cursor"))?
            }
        };
        let total = items.len();
        let items: Vec<T> = items.into_iter().skip(offset).take(limit).collect();
        let next = offset + items.len();
        Ok(Paged { items, next_cursor: (next < total).then(|| next.to_string()) })
    }
}

/// A page of results.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Parses an id path segment.
pub(crate) fn parse_id(field: &str, text: &str) -> Result<neretva_model::Uuid, ApiError> {
    neretva_model::Uuid::try_parse(text)
        .map_err(|_| ApiError::bad_request(field, format!("{text:?} is not a valid id")))
}

/// Formats a timestamp as RFC 3339.
pub(crate) fn rfc3339(at: neretva_model::Timestamp) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
