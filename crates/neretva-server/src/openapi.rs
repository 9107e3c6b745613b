//! The OpenAPI document, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Neretva API",
        description = "The REST API of Neretva, the platform for national and sectoral CERTs. \
            Authenticate with `Authorization: Bearer <token>` or a session cookie from \
            `/api/v1/auth/login` (then send `X-CSRF-Token` on requests that change something). \
            Errors are JSON objects with a stable `code`, a `message` and the offending `field`.",
        license(name = "EUPL-1.2")
    ),
    paths(
        api::health::healthz, api::health::metrics,
        api::auth::login, api::auth::logout, api::auth::me,
        api::orgs::list, api::orgs::get, api::orgs::create, api::orgs::update, api::orgs::remove,
        api::orgs::import, api::orgs::export,
        api::contacts::list, api::contacts::list_for_org, api::contacts::get, api::contacts::create,
        api::contacts::update, api::contacts::remove,
        api::assets::list, api::assets::list_for_org, api::assets::get, api::assets::create, api::assets::remove,
        api::lookup::lookup, api::lookup::overlaps,
        api::users::list, api::users::get, api::users::create, api::users::update, api::users::set_password,
        api::users::disable, api::users::enable, api::users::unlock,
        api::tokens::list, api::tokens::create, api::tokens::revoke,
        api::audit::list, api::audit::verify,
        api::events::list, api::events::get, api::events::upload, api::events::list_reports,
        api::events::get_report, api::events::report_errors, api::events::reparse, api::feeds::list, api::feeds::fetch,
        api::incident_reports::list, api::incident_reports::get, api::incident_reports::submit,
        api::incident_reports::intake, api::incident_reports::intakes,
        api::incidents::list, api::incidents::queue, api::incidents::deadlines, api::incidents::stats,
        api::incidents::summary, api::incidents::significance, api::incidents::create, api::incidents::get,
        api::incidents::update, api::incidents::transition, api::incidents::assign, api::incidents::timeline,
        api::incidents::comment, api::incidents::feedback, api::incidents::tasks, api::incidents::add_task,
        api::incidents::update_task, api::incidents::observables, api::incidents::add_observable,
        api::incidents::remove_observable, api::incidents::observable_events, api::incidents::links,
        api::incidents::add_link, api::incidents::remove_link, api::incidents::merge_into,
        api::incidents::rematch, api::incidents::requests, api::incidents::request_intermediate,
        api::incidents::record_significance,
        api::evidence::list, api::evidence::upload, api::evidence::get, api::evidence::download,
        api::evidence::export,
        api::taxii::list, api::taxii::get, api::taxii::create, api::taxii::update, api::taxii::remove,
        api::intel::list, api::intel::get, api::intel::create, api::intel::update, api::intel::remove,
        api::intel::add_sighting, api::intel::export, api::intel::attributes, api::intel::list_groups,
        api::intel::create_group, api::intel::import, api::intel::patch, api::intel::patch_group,
        api::intel::replace_group, api::intel::delete_group, api::intel::correlations, api::intel::incident_intel,
        api::notifications::list, api::notifications::get, api::notifications::preview,
        api::notifications::resend, api::notifications::for_org, api::notifications::advisory,
        api::strategy::list, api::strategy::create, api::strategy::load_defaults, api::strategy::get,
        api::strategy::replace, api::strategy::remove, api::strategy::add_measure, api::strategy::add_action,
        api::strategy::update_action, api::strategy::add_measurement, api::strategy::progress,
        api::strategy::overdue, api::strategy::changes, api::strategy::implementation_report,
        api::groups::list, api::groups::create, api::groups::get, api::groups::update, api::groups::remove,
        api::groups::add_member, api::groups::remove_member, api::groups::get_self, api::groups::put_self,
        api::groups::diversity, api::groups::add_meeting, api::groups::update_meeting, api::groups::add_item,
        api::groups::update_item, api::groups::add_document, api::groups::get_document,
        api::groups::remove_document, api::groups::announce, api::groups::get_announcement,
        api::preservation::list, api::preservation::create, api::preservation::reminders, api::preservation::get,
        api::preservation::preserve, api::preservation::extend, api::preservation::follow_up,
        api::preservation::release,
        api::assessments::list, api::assessments::create, api::assessments::catalogue, api::assessments::sectors,
        api::assessments::get, api::assessments::set_scores, api::assessments::remove, api::assessments::compare,
        api::assessments::radar, api::assessments::trend,
        api::contact_points::list, api::contact_points::create, api::contact_points::get,
        api::contact_points::replace, api::contact_points::remove, api::contact_points::get_profile,
        api::contact_points::put_profile, api::contact_points::export_rfc2350,
        api::checks::list, api::checks::create, api::checks::get, api::checks::run, api::checks::acknowledge,
        api::checks::report,
        api::learning::import, api::learning::list_courses, api::learning::get_course, api::learning::lesson,
        api::learning::image, api::learning::export_course, api::learning::enrol, api::learning::list_enrolments,
        api::learning::get_enrolment, api::learning::read_lesson, api::learning::start_attempt,
        api::learning::get_attempt, api::learning::submit_attempt, api::learning::verify, api::learning::xapi,
        api::training::create_programme, api::training::list_programmes, api::training::get_programme,
        api::training::update_programme, api::training::create_session, api::training::list_sessions,
        api::training::get_session, api::training::update_session, api::training::register,
        api::training::attendance, api::training::submit_feedback, api::training::feedback_summary,
        api::training::feedback_form, api::training::trainers, api::training::grant, api::training::get_profile,
        api::training::put_profile, api::training::statistics,
        api::exercises::import_scenario, api::exercises::list_scenarios, api::exercises::get_scenario,
        api::exercises::create_exercise, api::exercises::list_exercises, api::exercises::get_exercise,
        api::exercises::start, api::exercises::pause, api::exercises::resume, api::exercises::end,
        api::exercises::release, api::exercises::skip, api::exercises::respond, api::exercises::timeline,
        api::exercises::assess, api::exercises::report,
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "auth", description = "Login sessions"),
        (name = "organisations", description = "The constituency registry"),
        (name = "contacts", description = "Contacts of organisations"),
        (name = "assets", description = "IP ranges, ASNs and domains of organisations"),
        (name = "lookup", description = "Who owns an address, domain or AS"),
        (name = "users", description = "User accounts"),
        (name = "tokens", description = "API tokens"),
        (name = "audit", description = "The hash-chained audit log"),
        (name = "events", description = "Harmonised feed events (IntelMQ field names)"),
        (name = "reports", description = "Raw feed reports, stored before parsing"),
        (name = "groups", description = "Working groups and sector sub-groups: members, meetings, action items, documents under TLP, announcements, diversity aggregates"),
        (name = "incident reports", description = "Constituents' NIS2 incident reports and e-mails taken in"),
        (name = "incidents", description = "Incident handling: workflow, tasks, observables, timeline, deadlines, summaries"),
        (name = "evidence", description = "Evidence of incidents and its chain of custody"),
        (name = "taxii", description = "TAXII 2.1 collections and their sharing scopes (the protocol is served under /taxii2/)"),
        (name = "notifications", description = "The delivery record of constituent notifications"),
        (name = "strategy", description = "The strategy and action-plan tracker: documents, objectives, measures, actions, KPIs, progress, implementation reports"),
        (name = "preservation", description = "Budapest Convention Art. 29 preservation requests (law enforcement and the 24/7 point of contact only)"),
        (name = "assessments", description = "Maturity self-assessments: SIM3 with ENISA tiers, NIS2 Art. 21; comparison, SVG charts, sector aggregates"),
        (name = "contact-points", description = "The contact-point directory (OSCE CBM 8, Budapest Convention 24/7, sector and CERT contact points) and CERT teams' RFC 2350 profiles"),
        (name = "communication-checks", description = "Communication checks: one-time links to every contact point in a scope, acknowledgments, reminders, escalations, reachability reports"),
        (name = "learning", description = "Capacity building: courses (Markdown and YAML packages), enrolments, progress, quizzes, certificates, xAPI records; tabletop exercises with timed injects, responses, a live timeline and after-action reports"),
        (name = "intel", description = "Threat intelligence: intel events in MISP's model, attributes, sightings, sharing groups"),
        (name = "health", description = "Liveness and metrics"),
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("nrt_…").build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::extract::SESSION_COOKIE))),
        );
    }
}

/// Serves the OpenAPI document.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
