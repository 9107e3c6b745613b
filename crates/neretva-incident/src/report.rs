//! Incident reports from constituents, in the stages of NIS2 Art. 23(4).
//!
//! | stage | NIS2 | content |
//! |---|---|---|
//! | [`EarlyWarning`] | (a), 24 h | suspected unlawful or malicious act; possible cross-border impact |
//! | [`Notification`] | (b), 72 h | update of the early warning, initial assessment, severity and impact, indicators of compromise |
//! | [`Intermediate`] | (c), on request | status update |
//! | [`FinalReport`] | (d), one month after the notification | detailed description with severity and impact, type of threat or root cause, applied and ongoing mitigation, cross-border impact |
//! | [`ProgressReport`] | (e), instead of the final report while still ongoing | status and mitigation so far |
//!
//! Two optional sections may come with any stage: [`Nis1Impact`] (the parameters of Directive
//! 2016/1148 Art. 14(4) and 16(4): users affected, duration, geographical spread, and for
//! digital service providers the extent of disruption and economic and societal impact) and
//! [`PersonalDataBreach`] (GDPR Art. 33(3): nature of the breach with categories and approximate
//! numbers of data subjects and records, likely consequences, measures taken or proposed, and the
//! data protection officer's contact).
//!
//! [`IncidentReport::validate`] reports every problem with the field's path, e.g.
//! `stage.initial_assessment`, `stage.indicators[3]`, `gdpr.data_subject_categories[0]`.

use std::fmt;

use neretva_model::tlp::Tlp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::classification::RsitClass;
use crate::incident::{IncidentDraft, Severity};
use crate::observable::{Observable, ObservableKind};
use crate::{Errors, FieldError, Timestamp, limits};

/// A stage of NIS2 Art. 23(4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageKind {
    EarlyWarning,
    Notification,
    Intermediate,
    Final,
    Progress,
}

impl StageKind {
    /// The stored spelling, e.g. `early_warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            StageKind::EarlyWarning => "early_warning",
            StageKind::Notification => "notification",
            StageKind::Intermediate => "intermediate",
            StageKind::Final => "final",
            StageKind::Progress => "progress",
        }
    }
}

impl fmt::Display for StageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An answer to a "where applicable" question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Yes,
    No,
    #[default]
    Unknown,
}

/// The nature of the root cause, as in the EU blueprint taxonomy (`nature-root-cause`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RootCauseCategory {
    SystemFailure,
    NaturalPhenomenon,
    HumanError,
    MaliciousAction,
    ThirdPartyFailure,
}

/// Art. 23(4)(a).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyWarning {
    /// Whether the incident is suspected to be caused by unlawful or malicious acts.
    #[serde(default)]
    pub suspected_malicious: Answer,
    /// Whether it could have a cross-border impact.
    #[serde(default)]
    pub cross_border: Answer,
    /// What is known so far.
    #[serde(default)]
    pub summary: String,
}

/// An indicator as a constituent gives it: the kind is guessed when missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorInput {
    #[serde(default)]
    pub kind: Option<ObservableKind>,
    pub value: String,
}

impl IndicatorInput {
    /// The checked observable.
    pub fn parse(&self) -> Result<Observable, crate::observable::ObservableError> {
        match self.kind {
            Some(kind) => Observable::parse(kind, &self.value),
            None => Observable::guess(&self.value),
        }
    }
}

/// Art. 23(4)(b).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notification {
    pub initial_assessment: String,
    pub severity: Severity,
    pub impact: String,
    /// Indicators of compromise, where available.
    #[serde(default)]
    pub indicators: Vec<IndicatorInput>,
    #[serde(default)]
    pub suspected_malicious: Answer,
    #[serde(default)]
    pub cross_border: Answer,
}

/// Art. 23(4)(c).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intermediate {
    pub status_update: String,
    /// The CSIRT's or authority's request this answers.
    #[serde(default)]
    pub request_reference: Option<String>,
}

/// Art. 23(4)(d).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinalReport {
    /// (i) including severity and impact.
    pub detailed_description: String,
    pub severity: Severity,
    pub impact: String,
    /// (ii) the type of threat or root cause that is likely to have triggered the incident.
    pub root_cause: String,
    #[serde(default)]
    pub root_cause_category: Option<RootCauseCategory>,
    /// (iii)
    pub applied_mitigations: String,
    #[serde(default)]
    pub ongoing_mitigations: Option<String>,
    /// (iv) where applicable.
    #[serde(default)]
    pub cross_border_impact: Option<String>,
}

/// Art. 23(4)(e).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgressReport {
    pub status_update: String,
    pub applied_mitigations: String,
    #[serde(default)]
    pub ongoing_mitigations: Option<String>,
    /// When handling is expected to end.
    #[serde(default, with = "crate::utc::option")]
    pub expected_end: Option<Timestamp>,
}

/// The stage-specific part of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Stage {
    EarlyWarning(EarlyWarning),
    Notification(Notification),
    Intermediate(Intermediate),
    Final(FinalReport),
    Progress(ProgressReport),
}

impl Stage {
    /// Which stage this is.
    pub fn kind(&self) -> StageKind {
        match self {
            Stage::EarlyWarning(_) => StageKind::EarlyWarning,
            Stage::Notification(_) => StageKind::Notification,
            Stage::Intermediate(_) => StageKind::Intermediate,
            Stage::Final(_) => StageKind::Final,
            Stage::Progress(_) => StageKind::Progress,
        }
    }
}

/// The NIS1 impact parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nis1Impact {
    #[serde(default)]
    pub users_affected: Option<u64>,
    #[serde(default)]
    pub duration_minutes: Option<u64>,
    /// A description of the area affected.
    #[serde(default)]
    pub geographical_spread: Option<String>,
    /// ISO 3166-1 alpha-2 codes of the countries affected.
    #[serde(default)]
    pub countries: Vec<String>,
    /// Digital service providers: extent of the disruption of the service.
    #[serde(default)]
    pub disruption_extent: Option<String>,
    /// Digital service providers: extent of the impact on economic and societal activities.
    #[serde(default)]
    pub economic_societal_impact: Option<String>,
}

/// The GDPR Art. 33(3) part, for a personal-data breach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonalDataBreach {
    /// When the controller became aware of the breach: the start of the 72 hours.
    #[serde(with = "crate::utc")]
    pub aware_at: Timestamp,
    /// (a) the nature of the breach.
    pub nature: String,
    pub data_subject_categories: Vec<String>,
    #[serde(default)]
    pub approx_data_subjects: Option<u64>,
    pub record_categories: Vec<String>,
    #[serde(default)]
    pub approx_records: Option<u64>,
    /// (b) the data protection officer or other contact point.
    #[serde(default)]
    pub dpo_contact: Option<String>,
    /// (c)
    pub likely_consequences: String,
    /// (d) measures taken or proposed, including to mitigate adverse effects.
    pub measures: String,
    /// Art. 33(1): reasons for notifying after 72 hours.
    #[serde(default)]
    pub delay_reasons: Option<String>,
    /// When the controller notified the data protection authority, once it has: meets the
    /// Art. 33(1) obligation in the deadlines.
    #[serde(default, with = "crate::utc::option")]
    pub notified_at: Option<Timestamp>,
}

/// A report as a constituent submits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentReport {
    pub title: String,
    /// The incident this report follows up, if known (later stages of the same incident).
    #[serde(default)]
    pub incident_id: Option<Uuid>,
    /// When the entity became aware of the incident.
    #[serde(with = "crate::utc")]
    pub aware_at: Timestamp,
    #[serde(default, with = "crate::utc::option")]
    pub occurred_at: Option<Timestamp>,
    #[serde(default)]
    pub classification: Option<RsitClass>,
    #[serde(default = "default_tlp")]
    pub tlp: Tlp,
    pub stage: Stage,
    #[serde(default)]
    pub nis1: Option<Nis1Impact>,
    #[serde(default)]
    pub gdpr: Option<PersonalDataBreach>,
}

fn default_tlp() -> Tlp {
    Tlp::AmberStrict
}

impl IncidentReport {
    /// Checks every field; `now` bounds the times. Indicators are parsed here too.
    pub fn validate(&self, now: Timestamp) -> Vec<FieldError> {
        let mut errors = Errors::default();
        errors.text("title", &self.title, limits::TITLE);
        if self.aware_at > now {
            errors.push("aware_at", "is in the future");
        }
        if let Some(occurred_at) = self.occurred_at {
            if occurred_at > now {
                errors.push("occurred_at", "is in the future");
            } else if occurred_at > self.aware_at {
                errors.push("occurred_at", "is after aware_at");
            }
        }
        errors.nested("stage", validate_stage(&self.stage, now));
        if let Some(nis1) = &self.nis1 {
            errors.nested("nis1", nis1.validate());
        }
        if let Some(gdpr) = &self.gdpr {
            errors.nested("gdpr", gdpr.validate(now));
        }
        errors.into_vec()
    }

    /// The indicators of a notification, checked; other stages have none.
    pub fn indicators(&self) -> Result<Vec<Observable>, Vec<FieldError>> {
        let Stage::Notification(notification) = &self.stage else { return Ok(Vec::new()) };
        let mut observables = Vec::new();
        let mut errors = Vec::new();
        for (index, indicator) in notification.indicators.iter().enumerate() {
            match indicator.parse() {
                Ok(observable) if !observables.contains(&observable) => observables.push(observable),
                Ok(_) => {}
                Err(error) => errors.push(error.at(format!("stage.indicators[{index}]"))),
            }
        }
        if errors.is_empty() { Ok(observables) } else { Err(errors) }
    }

    /// What the report says about cross-border impact, if anything.
    pub fn cross_border(&self) -> Answer {
        match &self.stage {
            Stage::EarlyWarning(stage) => stage.cross_border,
            Stage::Notification(stage) => stage.cross_border,
            Stage::Final(stage) if stage.cross_border_impact.is_some() => Answer::Yes,
            _ => Answer::Unknown,
        }
    }

    /// The incident a report opens when it does not follow up an existing one.
    pub fn to_draft(&self, reporter_org: Option<Uuid>) -> IncidentDraft {
        let mut draft = IncidentDraft::titled(self.title.clone());
        draft.description = match &self.stage {
            Stage::EarlyWarning(stage) => stage.summary.clone(),
            Stage::Notification(stage) => stage.initial_assessment.clone(),
            Stage::Intermediate(stage) => stage.status_update.clone(),
            Stage::Final(stage) => stage.detailed_description.clone(),
            Stage::Progress(stage) => stage.status_update.clone(),
        };
        if let Some(classification) = self.classification {
            draft.classification = classification;
        }
        if let Stage::Notification(Notification { severity, .. })
        | Stage::Final(FinalReport { severity, .. }) = &self.stage
        {
            draft.severity = *severity;
        }
        draft.tlp = self.tlp;
        draft.reporter_org = reporter_org;
        draft.affected_orgs = reporter_org.into_iter().collect();
        draft.cross_border = self.cross_border() == Answer::Yes;
        draft.aware_at = Some(self.aware_at);
        draft
    }
}

fn validate_stage(stage: &Stage, now: Timestamp) -> Vec<FieldError> {
    let mut errors = Errors::default();
    match stage {
        Stage::EarlyWarning(stage) => {
            errors.optional("summary", Some(&stage.summary), limits::TEXT);
        }
        Stage::Notification(stage) => {
            errors.text("initial_assessment", &stage.initial_assessment, limits::TEXT);
            errors.text("impact", &stage.impact, limits::TEXT);
            if stage.indicators.len() > limits::LIST_ITEMS {
                errors.push("indicators", format!("more than {} items", limits::LIST_ITEMS));
            } else {
                for (index, indicator) in stage.indicators.iter().enumerate() {
                    if let Err(error) = indicator.parse() {
                        errors.0.push(error.at(format!("indicators[{index}]")));
                    }
                }
            }
        }
        Stage::Intermediate(stage) => {
            errors.text("status_update", &stage.status_update, limits::TEXT);
            errors.optional("request_reference", stage.request_reference.as_deref(), limits::TITLE);
        }
        Stage::Final(stage) => {
            errors.text("detailed_description", &stage.detailed_description, limits::TEXT);
            errors.text("impact", &stage.impact, limits::TEXT);
            errors.text("root_cause", &stage.root_cause, limits::SHORT_TEXT);
            errors.text("applied_mitigations", &stage.applied_mitigations, limits::TEXT);
            errors.optional("ongoing_mitigations", stage.ongoing_mitigations.as_deref(), limits::TEXT);
            errors.optional("cross_border_impact", stage.cross_border_impact.as_deref(), limits::SHORT_TEXT);
        }
        Stage::Progress(stage) => {
            errors.text("status_update", &stage.status_update, limits::TEXT);
            errors.text("applied_mitigations", &stage.applied_mitigations, limits::TEXT);
            errors.optional("ongoing_mitigations", stage.ongoing_mitigations.as_deref(), limits::TEXT);
            if stage.expected_end.is_some_and(|end| end < now) {
                errors.push("expected_end", "is in the past");
            }
        }
    }
    errors.into_vec()
}

impl Nis1Impact {
    /// Checks the section; at least one parameter must be given.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = Errors::default();
        let empty = self.users_affected.is_none()
            && self.duration_minutes.is_none()
            && self.geographical_spread.is_none()
            && self.countries.is_empty()
            && self.disruption_extent.is_none()
            && self.economic_societal_impact.is_none();
        if empty {
            errors.push("", "give at least one impact parameter or leave the section out");
        }
        errors.optional("geographical_spread", self.geographical_spread.as_deref(), limits::SHORT_TEXT);
        if self.countries.len() > limits::LIST_ITEMS {
            errors.push("countries", format!("more than {} items", limits::LIST_ITEMS));
        } else {
            for (index, country) in self.countries.iter().enumerate() {
                let field = format!("countries[{index}]");
                if let Err(error) = neretva_model::org::check_country(country) {
                    errors.push(field, error.message);
                } else if self.countries[..index].contains(country) {
                    errors.push(field, format!("{country} is listed twice"));
                }
            }
        }
        errors.optional("disruption_extent", self.disruption_extent.as_deref(), limits::SHORT_TEXT);
        errors.optional(
            "economic_societal_impact",
            self.economic_societal_impact.as_deref(),
            limits::SHORT_TEXT,
        );
        errors.into_vec()
    }
}

impl PersonalDataBreach {
    /// Checks the section; `now` bounds `aware_at`.
    pub fn validate(&self, now: Timestamp) -> Vec<FieldError> {
        let mut errors = Errors::default();
        if self.aware_at > now {
            errors.push("aware_at", "is in the future");
        }
        errors.text("nature", &self.nature, limits::TEXT);
        if self.data_subject_categories.is_empty() {
            errors.push("data_subject_categories", "name at least one category of data subjects");
        }
        errors.list("data_subject_categories", &self.data_subject_categories);
        if self.record_categories.is_empty() {
            errors.push("record_categories", "name at least one category of personal data records");
        }
        errors.list("record_categories", &self.record_categories);
        errors.optional("dpo_contact", self.dpo_contact.as_deref(), limits::TITLE);
        errors.text("likely_consequences", &self.likely_consequences, limits::TEXT);
        errors.text("measures", &self.measures, limits::TEXT);
        errors.optional("delay_reasons", self.delay_reasons.as_deref(), limits::SHORT_TEXT);
        if let Some(notified_at) = self.notified_at {
            if notified_at > now {
                errors.push("notified_at", "is in the future");
            } else if notified_at < self.aware_at {
                errors.push("notified_at", "is before aware_at");
            }
        }
        errors.into_vec()
    }
}
