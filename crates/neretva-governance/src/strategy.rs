//! The strategy and action-plan tracker: strategic documents (national guidelines, state and
//! entity strategies) break into objectives, objectives into measures, measures into actions.
//!
//! An action belongs to an owner organisation at a level of authority, has responsible
//! contacts, start and due dates, a status and a progress, KPIs with targets and dated
//! measurements, and evidence links. Every item carries cross-walk tags ([`crate::crosswalk`]).
//!
//! A document is stored whole; changes ([`add_measure`], [`add_action`], [`update_action`],
//! [`record_measurement`]) apply to a copy, [`validate`] checks the result, and the store writes
//! it under the version read. Each change stamps the actions it touches with `now`, which is
//! what [`changed_since`] reads.

use std::collections::{BTreeMap, HashSet};

use neretva_model::org::AuthorityLevels;
use neretva_model::tlp::Tlp;
use neretva_model::{FieldError, Timestamp, Uuid, check_optional_text, check_text};
use serde::{Deserialize, Serialize};
use time::Date;

use crate::crosswalk;

time::serde::format_description!(pub iso_date, Date, "[year]-[month]-[day]");

/// The most objectives in a document, measures in an objective, actions in a measure.
pub const MAX_OBJECTIVES: usize = 100;
pub const MAX_MEASURES: usize = 100;
pub const MAX_ACTIONS: usize = 500;
/// The most KPIs of an action, measurements of a KPI, evidence links and tags of an item.
pub const MAX_KPIS: usize = 20;
pub const MAX_MEASUREMENTS: usize = 1000;
pub const MAX_EVIDENCE: usize = 50;
pub const MAX_TAGS: usize = 40;
pub const MAX_CONTACTS: usize = 20;

/// A strategic document: guidelines, a strategy or an action plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyDocument {
    pub id: Uuid,
    /// A short unique handle, e.g. `BIH-SCF-2019`: letters, digits, `-`, `_` and `.`.
    pub code: String,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The organisation that adopted or coordinates the document.
    pub owner_org: Uuid,
    /// The level of authority the document was adopted at, if one.
    #[serde(default)]
    pub authority_level: Option<String>,
    /// Who may read it (`may_see`, owned by `owner_org`).
    pub tlp: Tlp,
    #[serde(default, with = "iso_date::option")]
    pub adopted: Option<Date>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub objectives: Vec<Objective>,
}

/// An objective (priority area) of a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objective {
    /// Unique in the document, e.g. `A`.
    pub code: String,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub measures: Vec<Measure>,
}

/// A measure that serves an objective.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    /// Unique in the document, e.g. `A.1`.
    pub code: String,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub actions: Vec<Action>,
}

/// What is done, by whom, at which level of authority, by when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    pub id: Uuid,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    pub owner_org: Uuid,
    pub authority_level: String,
    /// Contacts (of the registry) responsible for the action.
    #[serde(default)]
    pub responsible_contacts: Vec<Uuid>,
    #[serde(with = "iso_date")]
    pub start: Date,
    #[serde(with = "iso_date")]
    pub due: Date,
    pub status: ActionStatus,
    /// 0–100.
    pub progress: u8,
    #[serde(default)]
    pub kpis: Vec<Kpi>,
    #[serde(default)]
    pub evidence: Vec<EvidenceLink>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// When the action (or one of its KPIs) last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: Timestamp,
}

/// An action's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    Planned,
    InProgress,
    Done,
    Delayed,
    Cancelled,
}

impl ActionStatus {
    pub const ALL: [ActionStatus; 5] = [
        ActionStatus::Planned,
        ActionStatus::InProgress,
        ActionStatus::Done,
        ActionStatus::Delayed,
        ActionStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Planned => "planned",
            ActionStatus::InProgress => "in_progress",
            ActionStatus::Done => "done",
            ActionStatus::Delayed => "delayed",
            ActionStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<ActionStatus> {
        ActionStatus::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// Whether the action is finished one way or the other.
    pub fn is_closed(self) -> bool {
        matches!(self, ActionStatus::Done | ActionStatus::Cancelled)
    }
}

/// A key performance indicator with its target and measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kpi {
    /// Unique in the action, e.g. `trained-staff`.
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub unit: Option<String>,
    /// The value when the action started; 0 when not given.
    #[serde(default)]
    pub baseline: Option<f64>,
    pub target: f64,
    /// One per date, in date order.
    #[serde(default)]
    pub measurements: Vec<Measurement>,
}

/// A KPI's value on a date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measurement {
    #[serde(with = "iso_date")]
    pub date: Date,
    pub value: f64,
    #[serde(default)]
    pub note: Option<String>,
}

/// A link to evidence of implementation (a published act, minutes, a report).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceLink {
    pub title: String,
    pub url: String,
}

/// A record the store must find for the document to be written: an organisation or a contact,
/// with the field that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub field: String,
    pub kind: ReferenceKind,
    pub id: Uuid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceKind {
    Organisation,
    Contact,
}

// Validation.

struct Problems(Vec<FieldError>);

impl Problems {
    fn push(&mut self, result: Result<(), FieldError>) {
        if let Err(error) = result {
            self.0.push(error);
        }
    }

    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    fn limit(&mut self, field: &str, count: usize, max: usize) {
        if count > max {
            self.add(field, format!("at most {max} allowed, got {count}"));
        }
    }

    fn tags(&mut self, path: &str, tags: &[String]) {
        self.limit(&format!("{path}tags"), tags.len(), MAX_TAGS);
        let mut seen = HashSet::new();
        for (index, tag) in tags.iter().enumerate() {
            let field = format!("{path}tags[{index}]");
            if !seen.insert(tag.as_str()) {
                self.add(field, format!("duplicate tag {tag:?}"));
            } else {
                self.push(crosswalk::check(&field, tag));
            }
        }
    }

    fn optional(&mut self, field: &str, value: Option<&str>, max: usize) {
        if let Some(value) = value {
            self.push(check_optional_text(field, value, max));
        }
    }
}

/// Checks a code: 1 to 40 letters, digits, `-`, `_` and `.`.
pub fn check_code(field: &str, code: &str) -> Result<(), FieldError> {
    let valid = code.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if code.is_empty() || code.len() > 40 || !valid {
        return Err(FieldError::new(
            field,
            format!("{code:?} must be 1 to 40 letters, digits, '-', '_' or '.'"),
        ));
    }
    Ok(())
}

/// Checks an http or https URL with a host, at most 2,000 bytes, without spaces.
pub(crate) fn check_url(field: &str, url: &str) -> Result<(), FieldError> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    let host_ok = rest.is_some_and(|rest| {
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        !host.is_empty()
    });
    if !host_ok || url.len() > 2000 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(FieldError::new(field, format!("{url:?} is not an http or https URL")));
    }
    Ok(())
}

fn check_number(field: &str, value: f64) -> Result<(), FieldError> {
    if value.is_finite() { Ok(()) } else { Err(FieldError::new(field, "must be a finite number")) }
}

/// Checks a whole document against the configured levels of authority; returns every problem.
pub fn validate(document: &StrategyDocument, levels: &AuthorityLevels) -> Vec<FieldError> {
    let mut problems = Problems(Vec::new());
    problems.push(check_code("code", &document.code));
    problems.push(check_text("title", &document.title, 300));
    problems.optional("description", document.description.as_deref(), 10_000);
    if let Some(level) = &document.authority_level
        && let Err(error) = levels.check(level)
    {
        problems.add("authority_level", error.message);
    }
    problems.tags("", &document.tags);
    problems.limit("objectives", document.objectives.len(), MAX_OBJECTIVES);
    let mut objective_codes = HashSet::new();
    let mut measure_codes = HashSet::new();
    let mut action_ids = HashSet::new();
    for (o, objective) in document.objectives.iter().enumerate() {
        let path = format!("objectives[{o}].");
        problems.push(check_code(&format!("{path}code"), &objective.code));
        if !objective_codes.insert(objective.code.as_str()) {
            problems.add(format!("{path}code"), format!("duplicate objective {:?}", objective.code));
        }
        problems.push(check_text(&format!("{path}title"), &objective.title, 300));
        problems.optional(&format!("{path}description"), objective.description.as_deref(), 10_000);
        problems.tags(&path, &objective.tags);
        problems.limit(&format!("{path}measures"), objective.measures.len(), MAX_MEASURES);
        for (m, measure) in objective.measures.iter().enumerate() {
            let path = format!("{path}measures[{m}].");
            problems.push(check_code(&format!("{path}code"), &measure.code));
            if !measure_codes.insert(measure.code.as_str()) {
                problems.add(format!("{path}code"), format!("duplicate measure {:?}", measure.code));
            }
            problems.push(check_text(&format!("{path}title"), &measure.title, 300));
            problems.optional(&format!("{path}description"), measure.description.as_deref(), 10_000);
            problems.tags(&path, &measure.tags);
            problems.limit(&format!("{path}actions"), measure.actions.len(), MAX_ACTIONS);
            for (a, action) in measure.actions.iter().enumerate() {
                let path = format!("{path}actions[{a}].");
                if !action_ids.insert(action.id) {
                    problems.add(format!("{path}id"), format!("duplicate action {}", action.id));
                }
                check_action(&mut problems, &path, action, levels);
            }
        }
    }
    problems.0
}

fn check_action(problems: &mut Problems, path: &str, action: &Action, levels: &AuthorityLevels) {
    problems.push(check_text(&format!("{path}title"), &action.title, 300));
    problems.optional(&format!("{path}description"), action.description.as_deref(), 10_000);
    if let Err(error) = levels.check(&action.authority_level) {
        problems.add(format!("{path}authority_level"), error.message);
    }
    if action.due < action.start {
        problems.add(format!("{path}due"), format!("{} is before the start {}", action.due, action.start));
    }
    if action.progress > 100 {
        problems.add(format!("{path}progress"), format!("must be 0 to 100, got {}", action.progress));
    } else if action.status == ActionStatus::Done && action.progress != 100 {
        problems.add(format!("{path}progress"), "a done action has progress 100");
    }
    problems.limit(&format!("{path}responsible_contacts"), action.responsible_contacts.len(), MAX_CONTACTS);
    let mut contacts = HashSet::new();
    for (c, contact) in action.responsible_contacts.iter().enumerate() {
        if !contacts.insert(*contact) {
            problems.add(format!("{path}responsible_contacts[{c}]"), format!("duplicate contact {contact}"));
        }
    }
    problems.limit(&format!("{path}evidence"), action.evidence.len(), MAX_EVIDENCE);
    let mut urls = HashSet::new();
    for (e, link) in action.evidence.iter().enumerate() {
        problems.push(check_text(&format!("{path}evidence[{e}].title"), &link.title, 300));
        let field = format!("{path}evidence[{e}].url");
        if !urls.insert(link.url.as_str()) {
            problems.add(field, format!("duplicate evidence link {:?}", link.url));
        } else {
            problems.push(check_url(&field, &link.url));
        }
    }
    problems.tags(path, &action.tags);
    problems.limit(&format!("{path}kpis"), action.kpis.len(), MAX_KPIS);
    let mut kpi_codes = HashSet::new();
    for (k, kpi) in action.kpis.iter().enumerate() {
        let path = format!("{path}kpis[{k}].");
        problems.push(check_code(&format!("{path}code"), &kpi.code));
        if !kpi_codes.insert(kpi.code.as_str()) {
            problems.add(format!("{path}code"), format!("duplicate KPI {:?}", kpi.code));
        }
        problems.push(check_text(&format!("{path}name"), &kpi.name, 300));
        problems.optional(&format!("{path}unit"), kpi.unit.as_deref(), 40);
        if let Some(baseline) = kpi.baseline {
            problems.push(check_number(&format!("{path}baseline"), baseline));
        }
        problems.push(check_number(&format!("{path}target"), kpi.target));
        problems.limit(&format!("{path}measurements"), kpi.measurements.len(), MAX_MEASUREMENTS);
        for (i, measurement) in kpi.measurements.iter().enumerate() {
            let field = format!("{path}measurements[{i}]");
            problems.push(check_number(&format!("{field}.value"), measurement.value));
            problems.optional(&format!("{field}.note"), measurement.note.as_deref(), 2000);
            if i > 0 && kpi.measurements[i - 1].date >= measurement.date {
                problems.add(
                    format!("{field}.date"),
                    format!("{} is not after the previous measurement's date", measurement.date),
                );
            }
        }
    }
}

/// The organisations and contacts a document names, each with its field.
pub fn references(document: &StrategyDocument) -> Vec<Reference> {
    let mut found = vec![Reference {
        field: "owner_org".into(),
        kind: ReferenceKind::Organisation,
        id: document.owner_org,
    }];
    for (o, m, a, action) in actions_with_paths(document) {
        let path = format!("objectives[{o}].measures[{m}].actions[{a}].");
        found.push(Reference {
            field: format!("{path}owner_org"),
            kind: ReferenceKind::Organisation,
            id: action.owner_org,
        });
        for (c, contact) in action.responsible_contacts.iter().enumerate() {
            found.push(Reference {
                field: format!("{path}responsible_contacts[{c}]"),
                kind: ReferenceKind::Contact,
                id: *contact,
            });
        }
    }
    found
}

fn actions_with_paths(document: &StrategyDocument) -> impl Iterator<Item = (usize, usize, usize, &Action)> {
    document.objectives.iter().enumerate().flat_map(|(o, objective)| {
        objective.measures.iter().enumerate().flat_map(move |(m, measure)| {
            measure.actions.iter().enumerate().map(move |(a, action)| (o, m, a, action))
        })
    })
}

// Changes.

/// A new measure under an objective.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureDraft {
    pub code: String,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Adds a measure to an objective; the objective must exist (`objective` names it).
pub fn add_measure(
    document: &mut StrategyDocument,
    objective: &str,
    draft: MeasureDraft,
) -> Result<(), FieldError> {
    let Some(target) = document.objectives.iter_mut().find(|o| o.code == objective) else {
        return Err(FieldError::new("objective", format!("no objective {objective:?} in the document")));
    };
    target.measures.push(Measure {
        code: draft.code,
        title: draft.title,
        description: draft.description,
        tags: draft.tags,
        actions: Vec::new(),
    });
    Ok(())
}

/// Adds an action (its `updated_at` becomes `now`) to a measure (`measure` names it).
pub fn add_action(
    document: &mut StrategyDocument,
    measure: &str,
    mut action: Action,
    now: Timestamp,
) -> Result<(), FieldError> {
    let target = document
        .objectives
        .iter_mut()
        .flat_map(|objective| objective.measures.iter_mut())
        .find(|m| m.code == measure);
    let Some(target) = target else {
        return Err(FieldError::new("measure", format!("no measure {measure:?} in the document")));
    };
    action.updated_at = now;
    target.actions.push(action);
    Ok(())
}

/// Finds an action by id.
pub fn action(document: &StrategyDocument, id: Uuid) -> Option<&Action> {
    actions_with_paths(document).map(|(_, _, _, action)| action).find(|action| action.id == id)
}

fn action_mut(document: &mut StrategyDocument, id: Uuid) -> Option<&mut Action> {
    document
        .objectives
        .iter_mut()
        .flat_map(|objective| objective.measures.iter_mut())
        .flat_map(|measure| measure.actions.iter_mut())
        .find(|action| action.id == id)
}

/// Changes to an action; `None` leaves a field as it is. Evidence and KPIs listed are added.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionPatch {
    pub title: Option<String>,
    pub owner_org: Option<Uuid>,
    pub authority_level: Option<String>,
    pub responsible_contacts: Option<Vec<Uuid>>,
    #[serde(default, with = "iso_date::option")]
    pub start: Option<Date>,
    #[serde(default, with = "iso_date::option")]
    pub due: Option<Date>,
    pub status: Option<ActionStatus>,
    pub progress: Option<u8>,
    #[serde(default)]
    pub add_evidence: Vec<EvidenceLink>,
    #[serde(default)]
    pub add_kpis: Vec<Kpi>,
    pub tags: Option<Vec<String>>,
}

/// Applies a patch; setting the status to done without a progress sets the progress to 100.
pub fn update_action(
    document: &mut StrategyDocument,
    id: Uuid,
    patch: ActionPatch,
    now: Timestamp,
) -> Result<(), FieldError> {
    let Some(action) = action_mut(document, id) else {
        return Err(FieldError::new("action", format!("no action {id} in the document")));
    };
    if let Some(title) = patch.title {
        action.title = title;
    }
    if let Some(org) = patch.owner_org {
        action.owner_org = org;
    }
    if let Some(level) = patch.authority_level {
        action.authority_level = level;
    }
    if let Some(contacts) = patch.responsible_contacts {
        action.responsible_contacts = contacts;
    }
    if let Some(start) = patch.start {
        action.start = start;
    }
    if let Some(due) = patch.due {
        action.due = due;
    }
    if let Some(status) = patch.status {
        action.status = status;
        if status == ActionStatus::Done && patch.progress.is_none() {
            action.progress = 100;
        }
    }
    if let Some(progress) = patch.progress {
        action.progress = progress;
    }
    action.evidence.extend(patch.add_evidence);
    action.kpis.extend(patch.add_kpis);
    if let Some(tags) = patch.tags {
        action.tags = tags;
    }
    action.updated_at = now;
    Ok(())
}

/// Records a KPI's value on a date, in date order; a second value for the same date replaces
/// the first.
pub fn record_measurement(
    document: &mut StrategyDocument,
    id: Uuid,
    kpi: &str,
    measurement: Measurement,
    now: Timestamp,
) -> Result<(), FieldError> {
    let Some(action) = action_mut(document, id) else {
        return Err(FieldError::new("action", format!("no action {id} in the document")));
    };
    let Some(target) = action.kpis.iter_mut().find(|k| k.code == kpi) else {
        return Err(FieldError::new("kpi", format!("the action has no KPI {kpi:?}")));
    };
    match target.measurements.binary_search_by_key(&measurement.date, |m| m.date) {
        Ok(index) => target.measurements[index] = measurement,
        Err(index) => target.measurements.insert(index, measurement),
    }
    action.updated_at = now;
    Ok(())
}

// Views.

/// Whether an action that is not closed is past its due date on `today`.
pub fn is_overdue(action: &Action, today: Date) -> bool {
    !action.status.is_closed() && action.due < today
}

/// How far a KPI is from baseline to target, 0–100, by its latest measurement; `None` before
/// the first measurement.
pub fn kpi_attainment(kpi: &Kpi) -> Option<f64> {
    let latest = kpi.measurements.last()?.value;
    let baseline = kpi.baseline.unwrap_or(0.0);
    let span = kpi.target - baseline;
    let share = if span == 0.0 {
        if latest == kpi.target { 100.0 } else { 0.0 }
    } else {
        (latest - baseline) / span * 100.0
    };
    Some(share.clamp(0.0, 100.0))
}

/// An action with where it sits in the document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionView<'a> {
    pub objective: &'a str,
    pub measure: &'a str,
    #[serde(flatten)]
    pub action: &'a Action,
    pub overdue: bool,
}

/// Every action with its objective and measure, in document order.
pub fn action_views(document: &StrategyDocument, today: Date) -> Vec<ActionView<'_>> {
    let mut views = Vec::new();
    for objective in &document.objectives {
        for measure in &objective.measures {
            for action in &measure.actions {
                views.push(ActionView {
                    objective: &objective.code,
                    measure: &measure.code,
                    action,
                    overdue: is_overdue(action, today),
                });
            }
        }
    }
    views
}

/// Progress of a group of actions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    /// The objective's code or the level of authority.
    pub key: String,
    /// The objective's title, or the level again.
    pub title: String,
    pub actions: u32,
    /// Actions per status, every status listed.
    pub by_status: BTreeMap<&'static str, u32>,
    pub overdue: u32,
    /// The mean progress of the actions that are not cancelled, rounded to one decimal; `None`
    /// when there are none.
    pub progress: Option<f64>,
}

fn progress_of<'a>(
    key: String,
    title: String,
    actions: impl Iterator<Item = &'a Action>,
    today: Date,
) -> Progress {
    let mut by_status: BTreeMap<&'static str, u32> =
        ActionStatus::ALL.iter().map(|status| (status.as_str(), 0)).collect();
    let (mut count, mut overdue, mut sum, mut counted) = (0, 0, 0u64, 0u64);
    for action in actions {
        count += 1;
        *by_status.entry(action.status.as_str()).or_default() += 1;
        if is_overdue(action, today) {
            overdue += 1;
        }
        if action.status != ActionStatus::Cancelled {
            sum += u64::from(action.progress.min(100));
            counted += 1;
        }
    }
    let progress = (counted > 0).then(|| (sum as f64 / counted as f64 * 10.0).round() / 10.0);
    Progress { key, title, actions: count, by_status, overdue, progress }
}

/// Progress of every action of the document (key `all`).
pub fn progress_total(document: &StrategyDocument, today: Date) -> Progress {
    let actions = actions_with_paths(document).map(|(_, _, _, action)| action);
    progress_of("all".into(), document.title.clone(), actions, today)
}

/// Progress per objective, in document order (objectives without actions too).
pub fn progress_by_objective(document: &StrategyDocument, today: Date) -> Vec<Progress> {
    document
        .objectives
        .iter()
        .map(|objective| {
            let actions = objective.measures.iter().flat_map(|measure| measure.actions.iter());
            progress_of(objective.code.clone(), objective.title.clone(), actions, today)
        })
        .collect()
}

/// Progress per level of authority, in the configured order (levels without actions too); an
/// action at a level no longer configured gets its own group at the end.
pub fn progress_by_level(
    document: &StrategyDocument,
    levels: &AuthorityLevels,
    today: Date,
) -> Vec<Progress> {
    let all: Vec<&Action> = actions_with_paths(document).map(|(_, _, _, action)| action).collect();
    let mut keys: Vec<&str> = levels.0.iter().map(String::as_str).collect();
    for action in &all {
        if !keys.contains(&action.authority_level.as_str()) {
            keys.push(&action.authority_level);
        }
    }
    keys.into_iter()
        .map(|level| {
            let actions = all.iter().copied().filter(|action| action.authority_level == level);
            progress_of(level.to_owned(), level.to_owned(), actions, today)
        })
        .collect()
}

/// The actions overdue on `today`, earliest due first.
pub fn overdue(document: &StrategyDocument, today: Date) -> Vec<ActionView<'_>> {
    let mut views: Vec<ActionView<'_>> =
        action_views(document, today).into_iter().filter(|view| view.overdue).collect();
    views.sort_by_key(|view| (view.action.due, view.action.id));
    views
}

/// The actions changed at or after `since`, latest change first.
pub fn changed_since(document: &StrategyDocument, since: Timestamp, today: Date) -> Vec<ActionView<'_>> {
    let mut views: Vec<ActionView<'_>> =
        action_views(document, today).into_iter().filter(|view| view.action.updated_at >= since).collect();
    views.sort_by(|a, b| b.action.updated_at.cmp(&a.action.updated_at).then(a.action.id.cmp(&b.action.id)));
    views
}

/// A new document from its JSON, as posted to the API or read from a file: its id is `id`,
/// actions without an id get one from `new_id`, and every action's `updated_at` is `now`.
/// The error names what does not fit the document's shape.
pub fn document_from_json(
    mut value: serde_json::Value,
    id: Uuid,
    now: Timestamp,
    mut new_id: impl FnMut() -> Uuid,
) -> Result<StrategyDocument, String> {
    let Some(object) = value.as_object_mut() else {
        return Err("must be a JSON object".into());
    };
    object.insert("id".into(), serde_json::Value::String(id.to_string()));
    let stamp = time::serde::rfc3339::serialize(&now, serde_json::value::Serializer)
        .map_err(|error| error.to_string())?;
    if let Some(serde_json::Value::Array(objectives)) = object.get_mut("objectives") {
        for objective in objectives {
            let Some(serde_json::Value::Array(measures)) = objective.get_mut("measures") else { continue };
            for measure in measures {
                let Some(serde_json::Value::Array(actions)) = measure.get_mut("actions") else { continue };
                for action in actions {
                    if let Some(action) = action.as_object_mut() {
                        action.entry("id").or_insert_with(|| serde_json::Value::String(new_id().to_string()));
                        action.insert("updated_at".into(), stamp.clone());
                    }
                }
            }
        }
    }
    serde_json::from_value(value).map_err(|error| error.to_string())
}

/// Gives every action with the nil id a new one from `new_id` (documents posted without ids).
pub fn assign_ids(document: &mut StrategyDocument, mut new_id: impl FnMut() -> Uuid) {
    for objective in &mut document.objectives {
        for measure in &mut objective.measures {
            for action in &mut measure.actions {
                if action.id.is_nil() {
                    action.id = new_id();
                }
            }
        }
    }
}

/// Sets `updated_at` of the actions of `new` that are new or differ from `old` (apart from
/// `updated_at`) to `now`, and keeps `old`'s for the others: a document replaced whole stamps
/// exactly what changed.
pub fn stamp_changes(old: &StrategyDocument, new: &mut StrategyDocument, now: Timestamp) {
    let before: std::collections::HashMap<Uuid, &Action> =
        actions_with_paths(old).map(|(_, _, _, action)| (action.id, action)).collect();
    for objective in &mut new.objectives {
        for measure in &mut objective.measures {
            for action in &mut measure.actions {
                action.updated_at = match before.get(&action.id) {
                    Some(previous)
                        if Action { updated_at: previous.updated_at, ..action.clone() } == **previous =>
                    {
                        previous.updated_at
                    }
                    _ => now,
                };
            }
        }
    }
}
