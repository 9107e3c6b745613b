//! The constituent portal: report an incident through the stages of NIS2 Art. 23 (a form in
//! three steps that works without JavaScript: the stage, the details with help per field, a
//! review before sending), follow the organisation's incidents (status, reports sent, what is
//! owed, messages from the CERT), and see and download the events that concern its networks.
//!
//! Reports are submitted through the API's `reports/incidents` handler, messages through its
//! incident comments, events through its event search (the constituent's organisation scope
//! applied there); incidents are read with `Target::load` (404 for what the user may not see).

use std::collections::{BTreeMap, HashSet};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::value::Serde;
use minijinja::{Value, context};
use neretva_incident::classification::RsitClass;
use neretva_incident::deadline::{Party, obligations};
use neretva_incident::incident::Severity;
use neretva_incident::report::{
    Answer, EarlyWarning, FinalReport, IncidentReport, IndicatorInput, Intermediate, Notification,
    PersonalDataBreach, ProgressReport, RootCauseCategory, Stage,
};
use neretva_incident::timeline::TimelineKind;
use neretva_incident::workflow::Status;
use neretva_model::tlp::Tlp;
use neretva_model::{Timestamp, Uuid};
use neretva_store::incidents::{IncidentCursor, IncidentOrder, IncidentQuery};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::incident_reports::{ReportFilter, SubmitOptions};
use crate::api::incidents::{Access, CommentRequest, Target, incident_dto, scope, visible_page};
use crate::error::{ApiError, ErrorCode};
use crate::extract::ApiJson;
use crate::web::incidents::{
    Staff, classifications, deadline_rows, error_lines, error_page, incident_view, serde_name,
    visible_timeline, when, when_text,
};
use crate::web::{WebForm, WebUser, encode_query_value, t};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/portal", get(home))
        .route("/portal/reports/new", get(new_report))
        .route("/portal/reports", post(submit))
        .route("/portal/reports/{id}", get(report))
        .route("/portal/reports/{id}/messages", post(message))
        .route("/portal/events", get(events))
        .route("/portal/events/export", get(export))
}

/// The stages, in the order NIS2 Art. 23(4) lists them.
const STAGES: [&str; 5] = ["early_warning", "notification", "intermediate", "final", "progress"];

/// Incidents per page of the portal's list.
const PAGE: usize = 25;

// The organisation's incidents.

#[derive(Debug, Default, Deserialize)]
struct HomeParams {
    cursor: Option<String>,
}

/// The organisation's incidents, newest first: the same visible page as the API's search,
/// narrowed to incidents reported by or affecting the user's organisation.
async fn own_incidents(
    state: &AppState,
    web: &WebUser,
    statuses: Vec<Status>,
    after: Option<Uuid>,
    limit: usize,
) -> Result<(Vec<neretva_store::incidents::StoredIncident>, Option<IncidentCursor>), ApiError> {
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let query = IncidentQuery {
        org_id: Some(web.user.org_id),
        statuses,
        exclude_merged: true,
        scope: scope(&registry, &web.user),
        order: IncidentOrder::Newest,
        after: after.map(|id| IncidentCursor { id, next_due: None }),
        ..IncidentQuery::default()
    };
    visible_page(state, &registry, &web.principal(), query, limit).await
}

async fn home(
    State(state): State<AppState>,
    web: WebUser,
    params: Result<Query<HomeParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let params = params.map(|Query(params)| params).unwrap_or_default();
    let after = match params.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(text) => match Uuid::try_parse(text) {
            Ok(id) => Some(id),
            Err(_) => return web.bad_request("cursor", "invalid cursor"),
        },
    };
    let (found, next) = match own_incidents(&state, &web, Vec::new(), after, PAGE).await {
        Ok(page) => page,
        Err(error) => return error_page(&web, &error),
    };
    let config = state.config().deadlines;
    let now = neretva_store::encode::now();
    let rows: Vec<Value> = found
        .iter()
        .map(|stored| {
            let owed = stored
                .deadlines
                .as_ref()
                .map(|input| obligations(input, &config, now))
                .unwrap_or_default()
                .into_iter()
                .filter(|o| o.owed_by == Party::Entity && o.state.is_open())
                .min_by_key(|o| o.due_at);
            context! {
                id => stored.incident.id.to_string(),
                title => &stored.incident.title,
                status => stored.incident.status.as_str(),
                opened => when(stored.incident.created_at),
                owed => owed.map(|o| context! {
                    kind => serde_name(&o.kind),
                    due_at => when(o.due_at),
                    state => o.state.to_string(),
                }),
            }
        })
        .collect();
    let context = context! {
        rows => rows,
        next_href => next.map(|cursor| format!("/portal?cursor={}", cursor.id)),
    };
    web.render("web/portal/index.html", context)
}

// Reporting.

/// The report form's fields, as the browser sends them (every field a string; empty is
/// absent). The same struct carries the form through the review step in hidden fields.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(default)]
struct ReportForm {
    stage: String,
    incident: String,
    title: String,
    aware_at: String,
    occurred_at: String,
    classification: String,
    tlp: String,
    suspected_malicious: String,
    cross_border: String,
    summary: String,
    initial_assessment: String,
    severity: String,
    impact: String,
    indicators: String,
    status_update: String,
    request_reference: String,
    detailed_description: String,
    root_cause: String,
    root_cause_category: String,
    applied_mitigations: String,
    ongoing_mitigations: String,
    cross_border_impact: String,
    expected_end: String,
    gdpr: String,
    gdpr_aware_at: String,
    gdpr_nature: String,
    gdpr_subjects: String,
    gdpr_approx_subjects: String,
    gdpr_records: String,
    gdpr_approx_records: String,
    gdpr_dpo: String,
    gdpr_consequences: String,
    gdpr_measures: String,
    gdpr_delay: String,
    gdpr_notified_at: String,
}

/// What the submit button asked for: the review, back to editing, or sending.
#[derive(Debug, Default, Deserialize)]
struct Step {
    #[serde(default)]
    step: String,
}

/// Problems of a form, by field name.
type FormErrors = BTreeMap<String, Vec<String>>;

fn add(errors: &mut FormErrors, field: &str, message: impl Into<String>) {
    errors.entry(field.to_owned()).or_default().push(message.into());
}

fn optional(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|line| !line.is_empty()).map(str::to_owned).collect()
}

/// A time from a `datetime-local` field (`2026-11-28T07:30`, seconds optional), read as UTC, or
/// an RFC 3339 time.
pub(crate) fn parse_time(text: &str) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Ok(at) = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339) {
        return Ok(neretva_store::encode::truncate(at));
    }
    let minutes = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let seconds = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    time::PrimitiveDateTime::parse(text, &minutes)
        .or_else(|_| time::PrimitiveDateTime::parse(text, &seconds))
        .map(|at| at.assume_utc())
        .map_err(|_| format!("{text:?} is not a date and time such as 2026-11-28T07:30"))
}

/// A time for a `datetime-local` field.
fn local_time(at: Timestamp) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

fn time_field(errors: &mut FormErrors, field: &str, text: &str, required: bool) -> Option<Timestamp> {
    match optional(text) {
        None => {
            if required {
                add(errors, field, "is required");
            }
            None
        }
        Some(text) => match parse_time(&text) {
            Ok(at) => Some(at),
            Err(message) => {
                add(errors, field, message);
                None
            }
        },
    }
}

fn number_field(errors: &mut FormErrors, field: &str, text: &str) -> Option<u64> {
    let text = optional(text)?;
    match text.replace(['.', ',', ' '], "").parse::<u64>() {
        Ok(n) => Some(n),
        Err(_) => {
            add(errors, field, format!("{text:?} is not a whole number"));
            None
        }
    }
}

fn answer(text: &str) -> Answer {
    match text {
        "yes" => Answer::Yes,
        "no" => Answer::No,
        _ => Answer::Unknown,
    }
}

fn severity_field(errors: &mut FormErrors, text: &str) -> Severity {
    match text.parse::<Severity>() {
        Ok(severity) => severity,
        Err(error) => {
            add(errors, "severity", if text.is_empty() { "is required".to_owned() } else { error.message });
            Severity::Medium
        }
    }
}

/// The form field a domain error's path names (`stage.indicators[3]` → `indicators`,
/// `gdpr.data_subject_categories[0]` → `gdpr_subjects`).
fn form_field(path: &str) -> String {
    let bare = path.split('[').next().unwrap_or(path);
    if let Some(rest) = bare.strip_prefix("stage.") {
        return rest.to_owned();
    }
    if let Some(rest) = bare.strip_prefix("gdpr.") {
        return match rest {
            "data_subject_categories" => "gdpr_subjects",
            "approx_data_subjects" => "gdpr_approx_subjects",
            "record_categories" => "gdpr_records",
            "dpo_contact" => "gdpr_dpo",
            "likely_consequences" => "gdpr_consequences",
            "delay_reasons" => "gdpr_delay",
            other => return format!("gdpr_{other}"),
        }
        .to_owned();
    }
    match bare {
        "incident_id" => "incident".to_owned(),
        other => other.to_owned(),
    }
}

/// The report a form describes, or every problem found, by field (the form's own checks, then
/// the domain's `IncidentReport::validate`).
fn build_report(form: &ReportForm, now: Timestamp) -> Result<IncidentReport, FormErrors> {
    let mut errors = FormErrors::new();
    let incident_id = match optional(&form.incident) {
        None => None,
        Some(text) => match Uuid::try_parse(&text) {
            Ok(id) => Some(id),
            Err(_) => {
                add(&mut errors, "incident", "is not an incident id");
                None
            }
        },
    };
    let aware_at = time_field(&mut errors, "aware_at", &form.aware_at, true);
    let occurred_at = time_field(&mut errors, "occurred_at", &form.occurred_at, false);
    let classification = match optional(&form.classification) {
        None => None,
        Some(text) => match text.parse::<RsitClass>() {
            Ok(class) => Some(class),
            Err(error) => {
                add(&mut errors, "classification", error.to_string());
                None
            }
        },
    };
    let tlp = match optional(&form.tlp) {
        None => Tlp::AmberStrict,
        Some(text) => text.parse::<Tlp>().unwrap_or_else(|error| {
            add(&mut errors, "tlp", error.to_string());
            Tlp::AmberStrict
        }),
    };
    let stage = match form.stage.as_str() {
        "early_warning" => Stage::EarlyWarning(EarlyWarning {
            suspected_malicious: answer(&form.suspected_malicious),
            cross_border: answer(&form.cross_border),
            summary: form.summary.trim().to_owned(),
        }),
        "notification" => Stage::Notification(Notification {
            initial_assessment: form.initial_assessment.trim().to_owned(),
            severity: severity_field(&mut errors, &form.severity),
            impact: form.impact.trim().to_owned(),
            indicators: lines(&form.indicators)
                .into_iter()
                .map(|value| IndicatorInput { kind: None, value })
                .collect(),
            suspected_malicious: answer(&form.suspected_malicious),
            cross_border: answer(&form.cross_border),
        }),
        "intermediate" => Stage::Intermediate(Intermediate {
            status_update: form.status_update.trim().to_owned(),
            request_reference: optional(&form.request_reference),
        }),
        "final" => Stage::Final(FinalReport {
            detailed_description: form.detailed_description.trim().to_owned(),
            severity: severity_field(&mut errors, &form.severity),
            impact: form.impact.trim().to_owned(),
            root_cause: form.root_cause.trim().to_owned(),
            root_cause_category: match form.root_cause_category.as_str() {
                "" => None,
                text => {
                    serde_json::from_value::<RootCauseCategory>(serde_json::Value::String(text.to_owned()))
                        .map_err(|_| {
                            add(&mut errors, "root_cause_category", format!("unknown category {text:?}"))
                        })
                        .ok()
                }
            },
            applied_mitigations: form.applied_mitigations.trim().to_owned(),
            ongoing_mitigations: optional(&form.ongoing_mitigations),
            cross_border_impact: optional(&form.cross_border_impact),
        }),
        "progress" => Stage::Progress(ProgressReport {
            status_update: form.status_update.trim().to_owned(),
            applied_mitigations: form.applied_mitigations.trim().to_owned(),
            ongoing_mitigations: optional(&form.ongoing_mitigations),
            expected_end: time_field(&mut errors, "expected_end", &form.expected_end, false),
        }),
        other => {
            add(&mut errors, "stage", format!("unknown stage {other:?}"));
            return Err(errors);
        }
    };
    let gdpr = if form.gdpr.is_empty() {
        None
    } else {
        let aware = time_field(&mut errors, "gdpr_aware_at", &form.gdpr_aware_at, true);
        Some(PersonalDataBreach {
            aware_at: aware.unwrap_or(now),
            nature: form.gdpr_nature.trim().to_owned(),
            data_subject_categories: lines(&form.gdpr_subjects),
            approx_data_subjects: number_field(
                &mut errors,
                "gdpr_approx_subjects",
                &form.gdpr_approx_subjects,
            ),
            record_categories: lines(&form.gdpr_records),
            approx_records: number_field(&mut errors, "gdpr_approx_records", &form.gdpr_approx_records),
            dpo_contact: optional(&form.gdpr_dpo),
            likely_consequences: form.gdpr_consequences.trim().to_owned(),
            measures: form.gdpr_measures.trim().to_owned(),
            delay_reasons: optional(&form.gdpr_delay),
            notified_at: time_field(&mut errors, "gdpr_notified_at", &form.gdpr_notified_at, false),
        })
    };
    let report = IncidentReport {
        title: form.title.trim().to_owned(),
        incident_id,
        aware_at: aware_at.unwrap_or(now),
        occurred_at,
        classification,
        tlp,
        stage,
        nis1: None,
        gdpr,
    };
    for error in report.validate(now) {
        // A time the form could not read is reported once, at its field.
        let field = form_field(&error.field);
        if !errors.contains_key(&field) {
            add(&mut errors, &field, error.message);
        }
    }
    if errors.is_empty() { Ok(report) } else { Err(errors) }
}

#[derive(Debug, Default, Deserialize)]
struct NewParams {
    stage: Option<String>,
    incident: Option<String>,
}

/// The stage choices with their help texts' keys.
fn stage_choices(selected: &str) -> Vec<Value> {
    STAGES.iter().map(|stage| context! { value => *stage, selected => *stage == selected }).collect()
}

/// The organisation's open incidents a follow-up report may name.
async fn open_incidents(state: &AppState, web: &WebUser) -> Result<Vec<Value>, ApiError> {
    let statuses = vec![Status::New, Status::Triage, Status::InProgress];
    let (found, _) = own_incidents(state, web, statuses, None, 100).await?;
    Ok(found
        .iter()
        .map(|stored| {
            context! {
                id => stored.incident.id.to_string(),
                title => &stored.incident.title,
                opened => when(stored.incident.created_at),
            }
        })
        .collect())
}

/// Step 1 (no stage chosen): the stage and the incident; step 2: the details of that stage.
async fn new_report(
    State(state): State<AppState>,
    web: WebUser,
    params: Result<Query<NewParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let params = params.map(|Query(params)| params).unwrap_or_default();
    let incident = params.incident.as_deref().map(str::trim).filter(|i| !i.is_empty()).map(str::to_owned);
    let stage = params.stage.as_deref().filter(|stage| STAGES.contains(stage));
    let Some(stage) = stage else {
        let incidents = match open_incidents(&state, &web).await {
            Ok(incidents) => incidents,
            Err(error) => return error_page(&web, &error),
        };
        let context = context! {
            step => 1,
            stages => stage_choices(params.stage.as_deref().unwrap_or("early_warning")),
            incidents => incidents,
            incident => incident,
        };
        return web.render("web/portal/new.html", context);
    };
    let mut form = ReportForm {
        stage: stage.to_owned(),
        tlp: Tlp::AmberStrict.label().to_owned(),
        ..ReportForm::default()
    };
    if let Some(id) = &incident {
        // A follow-up starts from what the incident says; one the user may not see is 404.
        let target = match Target::load(&state, &web.auth(), id, Access::Read).await {
            Ok(target) => target,
            Err(error) => return error_page(&web, &error),
        };
        let found = &target.stored.incident;
        form.incident = found.id.to_string();
        form.title = found.title.clone();
        form.aware_at = found.aware_at.map(local_time).unwrap_or_default();
        form.classification = found.classification.slug().to_owned();
        form.tlp = found.tlp.label().to_owned();
        form.severity = found.severity.as_str().to_owned();
    }
    details_page(&web, &form, &FormErrors::new(), StatusCode::OK)
}

/// How a field of the report form is entered.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Input {
    Text,
    Time,
    Area(u8),
    Choice,
}

/// One field of the report form: its name, how it is entered, whether it is required.
struct FieldSpec {
    name: &'static str,
    input: Input,
    required: bool,
}

const fn spec(name: &'static str, input: Input, required: bool) -> FieldSpec {
    FieldSpec { name, input, required }
}

/// The fields of a stage after the common ones, in the order NIS2 Art. 23(4) lists them.
fn stage_fields(stage: &str) -> Vec<FieldSpec> {
    use Input::{Area, Choice, Text, Time};
    match stage {
        "early_warning" => vec![
            spec("suspected_malicious", Choice, false),
            spec("cross_border", Choice, false),
            spec("summary", Area(4), false),
        ],
        "notification" => vec![
            spec("initial_assessment", Area(4), true),
            spec("severity", Choice, true),
            spec("impact", Area(3), true),
            spec("indicators", Area(4), false),
            spec("suspected_malicious", Choice, false),
            spec("cross_border", Choice, false),
        ],
        "intermediate" => vec![spec("status_update", Area(5), true), spec("request_reference", Text, false)],
        "final" => vec![
            spec("detailed_description", Area(6), true),
            spec("severity", Choice, true),
            spec("impact", Area(3), true),
            spec("root_cause", Area(2), true),
            spec("root_cause_category", Choice, false),
            spec("applied_mitigations", Area(3), true),
            spec("ongoing_mitigations", Area(3), false),
            spec("cross_border_impact", Area(2), false),
        ],
        "progress" => vec![
            spec("status_update", Area(5), true),
            spec("applied_mitigations", Area(3), true),
            spec("ongoing_mitigations", Area(3), false),
            spec("expected_end", Time, false),
        ],
        _ => Vec::new(),
    }
}

/// The fields every stage has.
fn common_fields() -> Vec<FieldSpec> {
    use Input::{Choice, Text, Time};
    vec![
        spec("title", Text, true),
        spec("aware_at", Time, true),
        spec("occurred_at", Time, false),
        spec("classification", Choice, false),
        spec("tlp", Choice, false),
    ]
}

/// The personal-data-breach section (GDPR Art. 33(3)).
fn gdpr_fields() -> Vec<FieldSpec> {
    use Input::{Area, Text, Time};
    vec![
        spec("gdpr_aware_at", Time, false),
        spec("gdpr_nature", Area(3), false),
        spec("gdpr_subjects", Area(2), false),
        spec("gdpr_approx_subjects", Text, false),
        spec("gdpr_records", Area(2), false),
        spec("gdpr_approx_records", Text, false),
        spec("gdpr_dpo", Text, false),
        spec("gdpr_consequences", Area(3), false),
        spec("gdpr_measures", Area(3), false),
        spec("gdpr_delay", Area(2), false),
        spec("gdpr_notified_at", Time, false),
    ]
}

/// The choices of a select field: value and label.
fn options(web: &WebUser, name: &str) -> Vec<(String, String)> {
    let language = web.language;
    let translated = |prefix: &str, values: &[&str]| -> Vec<(String, String)> {
        values.iter().map(|v| ((*v).to_owned(), t(language, &format!("{prefix}{v}")))).collect()
    };
    match name {
        "classification" => std::iter::once((String::new(), t(language, "portal.field.classification_none")))
            .chain(classifications().into_iter().map(|slug| (slug.to_owned(), slug.to_owned())))
            .collect(),
        "tlp" => Tlp::ALL.iter().map(|tlp| (tlp.label().to_owned(), tlp.label().to_owned())).collect(),
        "severity" => {
            let values: Vec<&str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
            std::iter::once((String::new(), "—".to_owned()))
                .chain(translated("incidents.severity.", &values))
                .collect()
        }
        "suspected_malicious" | "cross_border" => translated("portal.answer.", &["unknown", "yes", "no"]),
        "root_cause_category" => std::iter::once((String::new(), t(language, "portal.cause.none")))
            .chain(translated(
                "portal.cause.",
                &[
                    "system_failure",
                    "natural_phenomenon",
                    "human_error",
                    "malicious_action",
                    "third_party_failure",
                ],
            ))
            .collect(),
        _ => Vec::new(),
    }
}

/// The fields as the template draws them: label and help in the user's language, the value
/// entered, the problems found.
fn field_views(web: &WebUser, form: &ReportForm, errors: &FormErrors, specs: &[FieldSpec]) -> Vec<Value> {
    let language = web.language;
    let values = serde_json::to_value(form).unwrap_or_default();
    specs
        .iter()
        .map(|spec| {
            let value = values.get(spec.name).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
            let label = field_label(spec.name);
            let (kind, rows) = match spec.input {
                Input::Text => ("text", 0),
                Input::Time => ("datetime-local", 0),
                Input::Area(rows) => ("textarea", rows),
                Input::Choice => ("select", 0),
            };
            let choices: Vec<Value> = options(web, spec.name)
                .into_iter()
                .map(
                    |(option, text)| context! { selected => option == value, value => option, label => text },
                )
                .collect();
            context! {
                name => spec.name,
                kind => kind,
                rows => rows,
                required => spec.required,
                label => t(language, &label),
                help => t(language, &format!("{label}_help")),
                value => value,
                options => choices,
                error => errors.get(spec.name).map(|problems| problems.join("; ")),
            }
        })
        .collect()
}

/// Step 2: the details form, with the problems of an earlier attempt at their fields.
fn details_page(web: &WebUser, form: &ReportForm, errors: &FormErrors, status: StatusCode) -> Response {
    let count = errors.values().map(Vec::len).sum::<usize>();
    let mut fields = common_fields();
    fields.extend(stage_fields(&form.stage));
    let context = context! {
        step => 2,
        form => Value::from(Serde(form)),
        fields => field_views(web, form, errors, &fields),
        gdpr_fields => field_views(web, form, errors, &gdpr_fields()),
        stage_error => errors.get("stage").map(|problems| problems.join("; ")),
        incident_error => errors.get("incident").map(|problems| problems.join("; ")),
        error_count => count,
    };
    (status, web.render("web/portal/new.html", context)).into_response()
}

/// The form's filled fields in form order, for the review step's hidden inputs.
fn hidden_fields(form: &ReportForm) -> Vec<(String, String)> {
    let Ok(serde_json::Value::Object(map)) = serde_json::to_value(form) else { return Vec::new() };
    map.into_iter()
        .filter_map(|(name, value)| {
            value.as_str().filter(|v| !v.is_empty()).map(|v| (name.clone(), v.to_owned()))
        })
        .collect()
}

/// The text key of a form field's label.
fn field_label(name: &str) -> String {
    match name {
        "stage" => "portal.report.stage".to_owned(),
        "incident" => "portal.new.incident".to_owned(),
        "gdpr" => "portal.gdpr.include".to_owned(),
        _ => match name.strip_prefix("gdpr_") {
            Some(rest) => format!("portal.gdpr.{rest}"),
            None => format!("portal.field.{name}"),
        },
    }
}

/// The review step's rows: each filled field with its label and its value in words.
fn review_rows(web: &WebUser, form: &ReportForm) -> Vec<Value> {
    let language = web.language;
    hidden_fields(form)
        .into_iter()
        .map(|(name, value)| {
            let shown = match name.as_str() {
                "stage" => t(language, &format!("portal.stage.{value}")),
                "suspected_malicious" | "cross_border" => t(language, &format!("portal.answer.{value}")),
                "severity" => t(language, &format!("incidents.severity.{value}")),
                "root_cause_category" => t(language, &format!("portal.cause.{value}")),
                "gdpr" => t(language, "portal.answer.yes"),
                _ => value.clone(),
            };
            context! { name => &name, value => value, label => t(language, &field_label(&name)), shown => shown }
        })
        .collect()
}

/// Review, edit or send a report (the form's `step`).
async fn submit(State(state): State<AppState>, WebForm { web, form }: WebForm<FormWithStep>) -> Response {
    let FormWithStep { step, form } = form;
    let now = neretva_store::encode::now();
    if step.step == "edit" {
        return details_page(&web, &form, &FormErrors::new(), StatusCode::OK);
    }
    let report = match build_report(&form, now) {
        Ok(report) => report,
        Err(errors) => return details_page(&web, &form, &errors, StatusCode::UNPROCESSABLE_ENTITY),
    };
    if step.step != "send" {
        let context = context! {
            step => 3,
            form => Value::from(Serde(&form)),
            fields => review_rows(&web, &form),
        };
        return web.render("web/portal/new.html", context);
    }
    let result = crate::api::incident_reports::submit(
        State(state.clone()),
        web.auth(),
        Ok(Query(SubmitOptions::default())),
        ApiJson(report),
    )
    .await;
    match result {
        Ok((_, axum::Json(submitted))) => {
            Redirect::to(&format!("/portal/reports/{}?sent=1", submitted.incident.id)).into_response()
        }
        Err(error) if error.code == ErrorCode::ValidationFailed || error.field.is_some() => {
            let mut errors = FormErrors::new();
            if error.details.is_empty() {
                add(
                    &mut errors,
                    &form_field(error.field.as_deref().unwrap_or("title")),
                    error.message.clone(),
                );
            }
            for detail in &error.details {
                add(&mut errors, &form_field(&detail.field), detail.message.clone());
            }
            let status = error.code.describe().1;
            match error.code {
                ErrorCode::NotFound => web.not_found(),
                _ => details_page(&web, &form, &errors, status),
            }
        }
        Err(error) => error_page(&web, &error),
    }
}

/// The report form with the step button that sent it.
#[derive(Debug, Default, Deserialize)]
struct FormWithStep {
    #[serde(flatten)]
    step: Step,
    #[serde(flatten)]
    form: ReportForm,
}

// One incident, as its reporting organisation follows it.

#[derive(Debug, Default, Deserialize)]
struct ReportParams {
    sent: Option<String>,
}

/// The timeline entries the portal shows as messages and updates.
fn is_message(kind: &TimelineKind) -> bool {
    matches!(
        kind,
        TimelineKind::FeedbackSent { .. }
            | TimelineKind::Comment { .. }
            | TimelineKind::StatusChanged { .. }
            | TimelineKind::IntermediateRequested { .. }
            | TimelineKind::ReportReceived { .. }
    )
}

async fn report(
    State(state): State<AppState>,
    web: WebUser,
    Path(id): Path<String>,
    params: Result<Query<ReportParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let sent = params.is_ok_and(|Query(params)| params.sent.is_some());
    report_page(&state, &web, &id, sent, None).await
}

async fn report_page(
    state: &AppState,
    web: &WebUser,
    id: &str,
    sent: bool,
    refused: Option<(StatusCode, Vec<String>)>,
) -> Response {
    let auth = web.auth();
    let target = match Target::load(state, &auth, id, Access::Read).await {
        Ok(target) => target,
        Err(error) => return error_page(web, &error),
    };
    let principal = web.principal();
    let config = state.config().deadlines;
    let now = neretva_store::encode::now();
    let dto = incident_dto(&target.stored, &target.registry, Some(&principal), &config, now);
    let filter = ReportFilter { incident: Some(target.id()), limit: Some(100), cursor: None };
    let reports =
        match crate::api::incident_reports::list(State(state.clone()), auth.clone(), Ok(Query(filter))).await
        {
            Ok(axum::Json(page)) => page.items,
            Err(error) => return error_page(web, &error),
        };
    let timeline = match visible_timeline(state, web, target.id()).await {
        Ok(entries) => entries,
        Err(error) => return error_page(web, &error),
    };
    // Which entries the user's own organisation made; everything else comes from the CERT.
    let own: HashSet<Uuid> = match state.store().list_users(Some(web.user.org_id)).await {
        Ok(users) => users.into_iter().map(|user| user.id).collect(),
        Err(error) => return web.internal(&error),
    };
    let no_staff = Staff { names: Default::default(), assignable: Vec::new() };
    let messages: Vec<Value> = timeline
        .iter()
        .rev()
        .filter(|entry| is_message(&entry.kind))
        .map(|entry| {
            let row = crate::web::incidents::timeline_row(web, &target.registry, &no_staff, entry);
            let from_you = entry.actor.is_some_and(|actor| own.contains(&actor));
            context! { at => row.at, kind => row.kind, detail => row.detail, from_you => from_you }
        })
        .collect();
    let report_rows: Vec<Value> = reports
        .iter()
        .map(|report| {
            context! {
                id => report.id.to_string(),
                stage => &report.stage,
                received => when_text(&report.received_at),
                tlp => &report.tlp,
                channel => &report.channel,
            }
        })
        .collect();
    let owed: Vec<_> = deadline_rows(&dto).into_iter().filter(|row| row.owed_by == "entity").collect();
    let may_write = crate::api::incidents::may_contribute(&auth, &target.stored.incident);
    let (status, errors) = match refused {
        Some((status, lines)) => (status, Some(lines)),
        None => (StatusCode::OK, None),
    };
    let context = context! {
        incident => incident_view(&dto, &no_staff),
        owed => Value::from(Serde(&owed)),
        reports => report_rows,
        messages => messages,
        sent => sent,
        may_write => may_write,
        errors => errors,
        next_stage_href => format!("/portal/reports/new?incident={}", target.id()),
    };
    (status, web.render("web/portal/report.html", context)).into_response()
}

#[derive(Deserialize)]
struct MessageForm {
    text: String,
}

/// A message to the CERT: a comment on the incident (the API's comments, open to writers of an
/// organisation the incident concerns).
async fn message(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, form }: WebForm<MessageForm>,
) -> Response {
    let request = CommentRequest { text: form.text, kind: None };
    let result =
        crate::api::incidents::comment(State(state.clone()), web.auth(), Path(id.clone()), ApiJson(request))
            .await;
    match result {
        Ok(_) => Redirect::to(&format!("/portal/reports/{}", encode_query_value(&id))).into_response(),
        Err(error) => match error.code {
            ErrorCode::ValidationFailed | ErrorCode::Conflict | ErrorCode::InvalidRequest => {
                let status = error.code.describe().1;
                report_page(&state, &web, &id, false, Some((status, error_lines(web.language, &error)))).await
            }
            _ => error_page(&web, &error),
        },
    }
}

// Events of the organisation's networks.

#[derive(Debug, Default, Clone, Deserialize)]
struct EventParams {
    since: Option<String>,
    until: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    ip: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
    format: Option<String>,
}

fn value(text: &Option<String>) -> Option<String> {
    text.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

/// A date (`2026-11-28`) as the start of that day in UTC, or a time as given.
fn day_start(text: &str) -> String {
    if text.len() == 10 { format!("{text}T00:00:00Z") } else { text.to_owned() }
}

/// The API's event filter for the portal: the organisation scope is the API's own (the user's
/// organisation and those below it); the CERT's staff, who see every event there, are narrowed
/// to their own organisation's.
fn event_filter(
    web: &WebUser,
    params: &EventParams,
    format: Option<&str>,
) -> crate::api::events::EventFilter {
    crate::api::events::EventFilter {
        since: value(&params.since).map(|t| day_start(&t)),
        until: value(&params.until).map(|t| day_start(&t)),
        classification_type: value(&params.kind),
        organisation: web.user.is_operator_staff().then(|| web.user.org_id.to_string()),
        ip: value(&params.ip),
        q: value(&params.q),
        cursor: value(&params.cursor),
        limit: Some(50),
        format: format.map(str::to_owned),
        ..crate::api::events::EventFilter::default()
    }
}

async fn events(
    State(state): State<AppState>,
    web: WebUser,
    params: Result<Query<EventParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(params) = match params {
        Ok(params) => params,
        Err(error) => return web.bad_request("query", &error.body_text()),
    };
    let filter = event_filter(&web, &params, None);
    let page = match crate::api::events::search(&state, &web.auth(), &filter).await {
        Ok(page) => page,
        Err(error) if error.code == ErrorCode::InvalidRequest => {
            return web.bad_request(error.field.as_deref().unwrap_or("query"), &error.message);
        }
        Err(error) => return error_page(&web, &error),
    };
    let rows: Vec<Value> = page
        .items
        .iter()
        .map(|item| {
            let event = &item.event;
            let field = |name: &str| event.get(name).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
            let port = event.get("source.port").map(|v| v.to_string()).unwrap_or_default();
            let time = event
                .get("time.source")
                .or_else(|| event.get("time.observation"))
                .and_then(|v| v.as_str())
                .map(when_text)
                .unwrap_or_default();
            context! {
                id => item.id.to_string(),
                time => time,
                kind => field("classification.type"),
                source => [field("source.ip"), port, field("source.fqdn"), field("source.url")]
                    .into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" "),
                description => field("event_description.text"),
                feed => &item.feed,
                organisations => item.organisations.join(", "),
            }
        })
        .collect();
    let query = |extra: &[(&str, String)]| {
        let mut pairs: Vec<(&str, String)> = [
            ("since", value(&params.since)),
            ("until", value(&params.until)),
            ("type", value(&params.kind)),
            ("ip", value(&params.ip)),
            ("q", value(&params.q)),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.map(|value| (name, value)))
        .collect();
        pairs.extend(extra.iter().cloned());
        pairs
            .iter()
            .map(|(name, value)| format!("{name}={}", encode_query_value(value)))
            .collect::<Vec<_>>()
            .join("&")
    };
    let next_cursor = page.next_cursor.clone();
    let cursor = value(&params.cursor);
    let with_cursor: Vec<(&str, String)> = cursor.iter().map(|c| ("cursor", c.clone())).collect();
    let context = context! {
        rows => rows,
        partial => page.partial,
        filter => context! {
            since => value(&params.since),
            until => value(&params.until),
            kind => value(&params.kind),
            ip => value(&params.ip),
            q => value(&params.q),
        },
        next_href => next_cursor.map(|c| format!("/portal/events?{}", query(&[("cursor", c)]))),
        csv_href => format!("/portal/events/export?{}", query(&[with_cursor.clone(), vec![("format", "csv".to_owned())]].concat())),
        json_href => format!("/portal/events/export?{}", query(&[with_cursor.clone(), vec![("format", "json".to_owned())]].concat())),
        intelmq_href => format!("/portal/events/export?{}", query(&[with_cursor, vec![("format", "intelmq-jsonl".to_owned())]].concat())),
    };
    web.render("web/portal/events.html", context)
}

/// This page of events as a file: the API's CSV or JSON answer, as an attachment.
async fn export(
    State(state): State<AppState>,
    web: WebUser,
    params: Result<Query<EventParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(params) = match params {
        Ok(params) => params,
        Err(error) => return web.bad_request("query", &error.body_text()),
    };
    // The format and the file name's extension.
    let (format, extension) = match params.format.as_deref() {
        Some("csv") => ("csv", "csv"),
        Some("json") | None => ("json", "json"),
        Some("intelmq-jsonl") => ("intelmq-jsonl", "jsonl"),
        Some(other) => {
            return web.bad_request(
                "format",
                &format!("unknown format {other:?}; expected csv, json or intelmq-jsonl"),
            );
        }
    };
    let filter = event_filter(&web, &params, Some(format));
    match crate::api::events::list(State(state.clone()), web.auth(), Ok(Query(filter))).await {
        Ok(mut response) => {
            let name = format!("attachment; filename=\"neretva-events.{extension}\"");
            if let Ok(value) = HeaderValue::from_str(&name) {
                response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
            }
            response
        }
        Err(error) if error.code == ErrorCode::InvalidRequest => {
            web.bad_request(error.field.as_deref().unwrap_or("query"), &error.message)
        }
        Err(error) => error_page(&web, &error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use neretva_incident::report::StageKind;

    fn now() -> Timestamp {
        parse_time("2026-11-29T10:00").unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// Every label, help text and choice the report form builds from a field's name exists.
    #[test]
    fn every_form_field_has_a_label_and_a_help_text() {
        let texts = crate::web::texts::texts();
        let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(ReportForm::default()) else {
            panic!("the form does not serialise to an object");
        };
        let mut missing = Vec::new();
        for name in fields.keys() {
            let label = field_label(name);
            let help =
                if name == "gdpr" { "portal.gdpr.include_help".to_owned() } else { format!("{label}_help") };
            for key in [label, help] {
                if name != "stage" && name != "incident" && !texts.contains(&key) {
                    missing.push(key);
                }
            }
        }
        for stage in STAGES {
            missing.extend(
                [format!("portal.stage.{stage}"), format!("portal.stage.{stage}_help")]
                    .into_iter()
                    .filter(|key| !texts.contains(key)),
            );
        }
        for value in ["yes", "no", "unknown"] {
            missing.extend(Some(format!("portal.answer.{value}")).filter(|key| !texts.contains(key)));
        }
        for cause in [
            "none",
            "system_failure",
            "natural_phenomenon",
            "human_error",
            "malicious_action",
            "third_party_failure",
        ] {
            missing.extend(Some(format!("portal.cause.{cause}")).filter(|key| !texts.contains(key)));
        }
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn form_times_are_read_as_utc() {
        assert_eq!(parse_time("2026-11-28T07:30").map(local_time), Ok("2026-11-28T07:30".to_owned()));
        assert_eq!(parse_time("2026-11-28T07:30:15").map(|at| at.second()), Ok(15));
        assert_eq!(
            parse_time("2026-11-28T08:30:00+01:00").map(local_time),
            Ok("2026-11-28T07:30".to_owned())
        );
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn a_notification_form_makes_the_report() {
        let form = ReportForm {
            stage: "notification".into(),
            title: "Phishing site".into(),
            aware_at: "2026-11-28T07:30".into(),
            initial_assessment: "Credentials entered.".into(),
            severity: "high".into(),
            impact: "Fraud attempted.".into(),
            indicators: "hxxps://login-banka[.]example[.]net/ebank\n\n198.51.100.7\n".into(),
            ..ReportForm::default()
        };
        let report = build_report(&form, now()).unwrap_or_else(|errors| panic!("{errors:?}"));
        assert_eq!(report.stage.kind(), StageKind::Notification);
        assert_eq!(report.tlp, Tlp::AmberStrict);
        let Stage::Notification(stage) = &report.stage else { panic!("not a notification") };
        assert_eq!(stage.indicators.len(), 2);
        assert_eq!(stage.severity, Severity::High);
    }

    #[test]
    fn every_problem_is_named_at_its_field() {
        let form = ReportForm {
            stage: "final".into(),
            aware_at: "2030-01-01T00:00".into(),
            gdpr: "on".into(),
            gdpr_approx_records: "many".into(),
            ..ReportForm::default()
        };
        let errors = build_report(&form, now()).err().unwrap_or_default();
        for field in [
            "title",
            "aware_at",
            "severity",
            "detailed_description",
            "root_cause",
            "applied_mitigations",
            "gdpr_aware_at",
            "gdpr_approx_records",
            "gdpr_nature",
        ] {
            assert!(errors.contains_key(field), "{field} in {errors:?}");
        }
        let bad_indicator = ReportForm {
            stage: "notification".into(),
            title: "x".into(),
            aware_at: "2026-11-28T07:30".into(),
            initial_assessment: "a".into(),
            severity: "low".into(),
            impact: "b".into(),
            indicators: "not an indicator at all".into(),
            ..ReportForm::default()
        };
        let errors = build_report(&bad_indicator, now()).err().unwrap_or_default();
        assert!(errors.contains_key("indicators"), "{errors:?}");
    }

    #[test]
    fn unknown_stages_are_refused() {
        let form = ReportForm { stage: "rumour".into(), ..ReportForm::default() };
        assert!(build_report(&form, now()).err().unwrap_or_default().contains_key("stage"));
    }
}
