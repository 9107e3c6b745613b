//! The incident: what the CERT handles, with its classification, labels, status and people.
//!
//! An incident changes only through [`Incident::transition`] (the workflow) and
//! [`Incident::apply`] (everything else); each returns the [`TimelineEntry`] that records the
//! change, so the timeline is complete by construction.

use std::fmt;
use std::str::FromStr;

use neretva_model::access::Visibility;
use neretva_model::tlp::{Pap, Tlp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::classification::RsitClass;
use crate::significance::Recorded;
use crate::timeline::{TimelineEntry, TimelineKind};
use crate::workflow::{Status, TransitionError, check_transition};
use crate::{Errors, FieldError, Timestamp, limits};

/// How bad an incident is, from the CERT's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 4] = [Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

    /// The stored spelling, e.g. `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = FieldError;
    fn from_str(input: &str) -> Result<Severity, FieldError> {
        let lower = input.trim().to_ascii_lowercase();
        Severity::ALL.into_iter().find(|s| s.as_str() == lower).ok_or_else(|| {
            FieldError::new(
                "severity",
                format!("unknown severity {input:?}; expected low, medium, high or critical"),
            )
        })
    }
}

/// Where an incident came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum IncidentSource {
    /// A constituent's report through the API or portal.
    Report { report_id: Uuid },
    /// An e-mail taken in (see `intake`).
    Email { intake_id: Uuid },
    /// One or more stored feed events.
    Events { event_ids: Vec<Uuid> },
    /// Opened by an analyst.
    Analyst,
}

/// What a user supplies to open an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentDraft {
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "RsitClass::undetermined")]
    pub classification: RsitClass,
    #[serde(default = "default_severity")]
    pub severity: Severity,
    /// Incidents name victims, so they start as `TLP:AMBER+STRICT`.
    #[serde(default = "default_tlp")]
    pub tlp: Tlp,
    #[serde(default = "default_pap")]
    pub pap: Pap,
    /// The organisation that reported it, if a constituent did.
    #[serde(default)]
    pub reporter_org: Option<Uuid>,
    #[serde(default)]
    pub affected_orgs: Vec<Uuid>,
    #[serde(default)]
    pub cross_border: bool,
    /// When the affected entity became aware of it: the start of the NIS2 deadlines.
    #[serde(default, with = "crate::utc::option")]
    pub aware_at: Option<Timestamp>,
}

fn default_severity() -> Severity {
    Severity::Medium
}

fn default_tlp() -> Tlp {
    Tlp::AmberStrict
}

fn default_pap() -> Pap {
    Pap::Amber
}

impl IncidentDraft {
    /// A draft with the defaults and the given title.
    pub fn titled(title: impl Into<String>) -> IncidentDraft {
        IncidentDraft {
            title: title.into(),
            description: String::new(),
            classification: RsitClass::undetermined(),
            severity: default_severity(),
            tlp: default_tlp(),
            pap: default_pap(),
            reporter_org: None,
            affected_orgs: Vec::new(),
            cross_border: false,
            aware_at: None,
        }
    }

    /// Checks every field; `now` bounds `aware_at`.
    pub fn validate(&self, now: Timestamp) -> Vec<FieldError> {
        let mut errors = Errors::default();
        errors.text("title", &self.title, limits::TITLE);
        errors.optional("description", Some(&self.description), limits::TEXT);
        check_orgs(&mut errors, "affected_orgs", &self.affected_orgs);
        if let Some(aware_at) = self.aware_at
            && aware_at > now
        {
            errors.push("aware_at", "is in the future");
        }
        errors.into_vec()
    }
}

fn check_orgs(errors: &mut Errors, field: &str, orgs: &[Uuid]) {
    if orgs.len() > limits::LIST_ITEMS {
        errors.push(field, format!("more than {} organisations", limits::LIST_ITEMS));
    }
    for (index, org) in orgs.iter().enumerate() {
        if orgs[..index].contains(org) {
            errors.push(format!("{field}[{index}]"), format!("{org} is listed twice"));
        }
    }
}

/// A stored incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub classification: RsitClass,
    pub severity: Severity,
    pub tlp: Tlp,
    pub pap: Pap,
    pub status: Status,
    pub assignee: Option<Uuid>,
    pub reporter_org: Option<Uuid>,
    pub affected_orgs: Vec<Uuid>,
    /// Whether it affects (or may affect) other countries: NIS2 Art. 23 and the summaries.
    pub cross_border: bool,
    pub source: IncidentSource,
    #[serde(with = "crate::utc::option")]
    pub aware_at: Option<Timestamp>,
    #[serde(with = "crate::utc")]
    pub created_at: Timestamp,
    #[serde(with = "crate::utc")]
    pub updated_at: Timestamp,
    /// When triage ended: the first move out of `triage` (to `in_progress`, `resolved` or `closed`).
    #[serde(with = "crate::utc::option")]
    pub triaged_at: Option<Timestamp>,
    /// The latest move to `resolved`; cleared when the incident is reopened.
    #[serde(with = "crate::utc::option")]
    pub resolved_at: Option<Timestamp>,
    /// The latest move to `closed`; cleared when the incident is reopened.
    #[serde(with = "crate::utc::option")]
    pub closed_at: Option<Timestamp>,
    /// The incident this one was merged into; it is then closed for good.
    pub merged_into: Option<Uuid>,
    /// The latest significance assessment (NIS2 Art. 23(3), Implementing Regulation
    /// 2024/2690), if one was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub significance: Option<Box<Recorded>>,
}

/// A change to an incident other than its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    Title {
        title: String,
    },
    Description {
        description: String,
    },
    Assign {
        assignee: Option<Uuid>,
    },
    Classify {
        classification: RsitClass,
    },
    Severity {
        severity: Severity,
    },
    Tlp {
        tlp: Tlp,
    },
    Pap {
        pap: Pap,
    },
    AddOrg {
        org: Uuid,
    },
    RemoveOrg {
        org: Uuid,
    },
    CrossBorder {
        cross_border: bool,
    },
    AwareAt {
        #[serde(with = "crate::utc")]
        aware_at: Timestamp,
    },
    /// Records a significance assessment, replacing an earlier one.
    Significance {
        record: Box<Recorded>,
    },
}

impl Incident {
    /// Opens an incident from a validated draft, with the `created` timeline entry.
    pub fn open(
        id: Uuid,
        draft: IncidentDraft,
        source: IncidentSource,
        actor: Option<Uuid>,
        now: Timestamp,
    ) -> Result<(Incident, TimelineEntry), Vec<FieldError>> {
        let errors = draft.validate(now);
        if !errors.is_empty() {
            return Err(errors);
        }
        let entry = TimelineEntry::new(now, actor, TimelineKind::Created { source: source.clone() });
        let incident = Incident {
            id,
            title: draft.title,
            description: draft.description,
            classification: draft.classification,
            severity: draft.severity,
            tlp: draft.tlp,
            pap: draft.pap,
            status: Status::New,
            assignee: None,
            reporter_org: draft.reporter_org,
            affected_orgs: draft.affected_orgs,
            cross_border: draft.cross_border,
            source,
            aware_at: draft.aware_at,
            created_at: now,
            updated_at: now,
            triaged_at: None,
            resolved_at: None,
            closed_at: None,
            merged_into: None,
            significance: None,
        };
        Ok((incident, entry))
    }

    /// Moves the incident along the workflow and keeps its timestamps.
    pub fn transition(
        &mut self,
        to: Status,
        actor: Option<Uuid>,
        now: Timestamp,
    ) -> Result<TimelineEntry, TransitionError> {
        check_transition(self.status, to)?;
        let from = self.status;
        if from == Status::Triage && self.triaged_at.is_none() {
            self.triaged_at = Some(now);
        }
        if from.is_reopen(to) {
            self.resolved_at = None;
            self.closed_at = None;
        }
        match to {
            Status::Resolved => self.resolved_at = Some(now),
            Status::Closed => self.closed_at = Some(now),
            Status::New | Status::Triage | Status::InProgress => {}
        }
        self.status = to;
        self.updated_at = now;
        Ok(TimelineEntry::new(now, actor, TimelineKind::StatusChanged { from, to }))
    }

    /// Applies a change; `Ok(None)` when it changes nothing (assigning the current assignee).
    pub fn apply(
        &mut self,
        change: Change,
        actor: Option<Uuid>,
        now: Timestamp,
    ) -> Result<Option<TimelineEntry>, FieldError> {
        let kind = match change {
            Change::Title { title } => {
                neretva_model::check_text("title", &title, limits::TITLE)?;
                if title == self.title {
                    return Ok(None);
                }
                self.title = title.clone();
                TimelineKind::TitleChanged { title }
            }
            Change::Description { description } => {
                neretva_model::check_optional_text("description", &description, limits::TEXT)?;
                if description == self.description {
                    return Ok(None);
                }
                self.description = description;
                TimelineKind::DescriptionChanged
            }
            Change::Assign { assignee } => {
                let from = std::mem::replace(&mut self.assignee, assignee);
                if from == assignee {
                    return Ok(None);
                }
                TimelineKind::Assigned { from, to: assignee }
            }
            Change::Classify { classification } => {
                let from = std::mem::replace(&mut self.classification, classification);
                if from == classification {
                    return Ok(None);
                }
                TimelineKind::Classified { from, to: classification }
            }
            Change::Severity { severity } => {
                let from = std::mem::replace(&mut self.severity, severity);
                if from == severity {
                    return Ok(None);
                }
                TimelineKind::SeverityChanged { from, to: severity }
            }
            Change::Tlp { tlp } => {
                let from = std::mem::replace(&mut self.tlp, tlp);
                if from == tlp {
                    return Ok(None);
                }
                TimelineKind::TlpChanged { from, to: tlp }
            }
            Change::Pap { pap } => {
                let from = std::mem::replace(&mut self.pap, pap);
                if from == pap {
                    return Ok(None);
                }
                TimelineKind::PapChanged { from, to: pap }
            }
            Change::AddOrg { org } => {
                if self.affected_orgs.contains(&org) {
                    return Ok(None);
                }
                if self.affected_orgs.len() >= limits::LIST_ITEMS {
                    return Err(FieldError::new(
                        "affected_orgs",
                        format!("more than {} organisations", limits::LIST_ITEMS),
                    ));
                }
                self.affected_orgs.push(org);
                TimelineKind::OrgAdded { org }
            }
            Change::RemoveOrg { org } => {
                let before = self.affected_orgs.len();
                self.affected_orgs.retain(|known| *known != org);
                if self.affected_orgs.len() == before {
                    return Ok(None);
                }
                TimelineKind::OrgRemoved { org }
            }
            Change::CrossBorder { cross_border } => {
                if cross_border == self.cross_border {
                    return Ok(None);
                }
                self.cross_border = cross_border;
                TimelineKind::CrossBorderChanged { cross_border }
            }
            Change::AwareAt { aware_at } => {
                if aware_at > now {
                    return Err(FieldError::new("aware_at", "is in the future"));
                }
                let from = self.aware_at.replace(aware_at);
                if from == Some(aware_at) {
                    return Ok(None);
                }
                TimelineKind::AwareAtChanged { from, to: aware_at }
            }
            Change::Significance { record } => {
                let kind = TimelineKind::SignificanceAssessed {
                    significant: record.significant,
                    criteria: record.criteria.clone(),
                };
                self.significance = Some(record);
                kind
            }
        };
        self.updated_at = now;
        Ok(Some(TimelineEntry::new(now, actor, kind)))
    }

    /// What `may_see` needs: the incident's TLP, owned by the reporting organisation (or the
    /// operator when an analyst opened it), addressed to the affected organisations and to the
    /// assignee (a `TLP:RED` incident is visible to its assignee only).
    pub fn visibility<'a>(&'a self, reporter_ancestors: &'a [Uuid]) -> Visibility<'a> {
        Visibility {
            tlp: self.tlp,
            owner_org: self.reporter_org,
            owner_ancestors: reporter_ancestors,
            recipient_orgs: &self.affected_orgs,
            recipient_users: self.assignee.as_slice(),
            sharing_group: None,
            sectors: &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use neretva_model::access::{Principal, UserPrincipal, may_see};
    use neretva_model::user::{Role, Scope};
    use proptest::prelude::*;
    use time::macros::datetime;

    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    pub(crate) fn opened(now: Timestamp) -> Incident {
        let mut draft = IncidentDraft::titled("Ransomware at a hospital");
        draft.reporter_org = Some(id(2));
        draft.affected_orgs = vec![id(3)];
        Incident::open(id(1), draft, IncidentSource::Analyst, Some(id(100)), now).unwrap().0
    }

    #[test]
    fn drafts_report_every_problem() {
        let mut draft = IncidentDraft::titled(" ");
        draft.description = "a\u{7}b".into();
        draft.affected_orgs = vec![id(3), id(4), id(3)];
        draft.aware_at = Some(datetime!(2030-01-01 0:00 UTC));
        let errors = draft.validate(datetime!(2025-01-01 0:00 UTC));
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "description", "affected_orgs[2]", "aware_at"]);
    }

    #[test]
    fn drafts_deserialise_with_defaults() {
        let draft: IncidentDraft =
            serde_json::from_str(r#"{"title": "Phishing", "classification": "phishing"}"#).unwrap();
        assert_eq!(draft.tlp, Tlp::AmberStrict);
        assert_eq!(draft.pap, Pap::Amber);
        assert_eq!(draft.severity, Severity::Medium);
        assert_eq!(draft.classification.taxonomy(), "fraud");
        assert!(serde_json::from_str::<IncidentDraft>(r#"{"title": "x", "colour": "red"}"#).is_err());
    }

    #[test]
    fn transitions_keep_the_timestamps() {
        let t0 = datetime!(2025-01-01 8:00 UTC);
        let mut incident = opened(t0);
        let step = |incident: &mut Incident, to, hour| {
            incident.transition(to, None, t0 + time::Duration::hours(hour)).map(|entry| entry.kind)
        };
        assert!(step(&mut incident, Status::Closed, 1).is_err());
        assert_eq!(
            step(&mut incident, Status::Triage, 1),
            Ok(TimelineKind::StatusChanged { from: Status::New, to: Status::Triage })
        );
        step(&mut incident, Status::InProgress, 2).unwrap();
        step(&mut incident, Status::Resolved, 5).unwrap();
        assert_eq!(incident.triaged_at, Some(t0 + time::Duration::hours(2)));
        assert_eq!(incident.resolved_at, Some(t0 + time::Duration::hours(5)));
        step(&mut incident, Status::Closed, 6).unwrap();
        step(&mut incident, Status::InProgress, 7).unwrap();
        assert_eq!((incident.resolved_at, incident.closed_at), (None, None));
        step(&mut incident, Status::Resolved, 9).unwrap();
        assert_eq!(incident.triaged_at, Some(t0 + time::Duration::hours(2)), "triage ends once");
        assert_eq!(incident.resolved_at, Some(t0 + time::Duration::hours(9)));
        assert_eq!(incident.updated_at, t0 + time::Duration::hours(9));
    }

    #[test]
    fn changes_are_recorded_and_no_ops_are_not() {
        let now = datetime!(2025-01-01 8:00 UTC);
        let mut incident = opened(now);
        let entry = incident.apply(Change::Assign { assignee: Some(id(7)) }, Some(id(100)), now).unwrap();
        assert_eq!(entry.map(|e| e.kind), Some(TimelineKind::Assigned { from: None, to: Some(id(7)) }));
        assert_eq!(incident.apply(Change::Assign { assignee: Some(id(7)) }, None, now), Ok(None));
        assert_eq!(incident.apply(Change::AddOrg { org: id(3) }, None, now), Ok(None));
        assert!(incident.apply(Change::RemoveOrg { org: id(3) }, None, now).unwrap().is_some());
        assert!(incident.affected_orgs.is_empty());
        let error = incident.apply(Change::Title { title: String::new() }, None, now).unwrap_err();
        assert_eq!(error.field, "title");
        let future = Change::AwareAt { aware_at: now + time::Duration::hours(1) };
        assert_eq!(incident.apply(future, None, now).unwrap_err().message, "is in the future");
    }

    #[test]
    fn visibility_follows_the_incidents_tlp() {
        let incident = opened(datetime!(2025-01-01 8:00 UTC));
        let user = |org: u128| {
            Principal::User(UserPrincipal {
                user_id: id(1000 + org),
                username: format!("u{org}"),
                org_id: id(org),
                role: Role::Constituent,
                org_ancestors: vec![],
                operator: false,
                scope: Scope::Admin,
                sectors: Vec::new(),
            })
        };
        let ancestors = [];
        let visibility = incident.visibility(&ancestors);
        assert!(may_see(&user(2), &visibility), "the reporter");
        assert!(may_see(&user(3), &visibility), "an affected organisation");
        assert!(!may_see(&user(4), &visibility), "anyone else");
    }

    fn status_strategy() -> impl Strategy<Value = Status> {
        prop::sample::select(Status::ALL.to_vec())
    }

    proptest! {
        /// Whatever is attempted, the incident only ever takes allowed steps and its timestamps
        /// agree with its status.
        #[test]
        fn workflow_invariants_hold(attempts in prop::collection::vec(status_strategy(), 0..40)) {
            let t0 = datetime!(2025-01-01 8:00 UTC);
            let mut incident = opened(t0);
            for (step, to) in attempts.into_iter().enumerate() {
                let before = incident.status;
                let now = t0 + time::Duration::minutes(step as i64 + 1);
                match incident.transition(to, None, now) {
                    Ok(entry) => {
                        prop_assert!(before.allowed_next().contains(&to));
                        prop_assert_eq!(entry.kind, TimelineKind::StatusChanged { from: before, to });
                        prop_assert_eq!(incident.status, to);
                    }
                    Err(error) => {
                        prop_assert_eq!(incident.status, before);
                        prop_assert_eq!(error.allowed, before.allowed_next().to_vec());
                    }
                }
                match incident.status {
                    Status::New | Status::Triage => prop_assert!(incident.triaged_at.is_none()),
                    _ => prop_assert!(incident.triaged_at.is_some()),
                }
                prop_assert_eq!(incident.status == Status::Resolved, incident.resolved_at.is_some() && incident.closed_at.is_none());
                prop_assert_eq!(incident.status == Status::Closed, incident.closed_at.is_some());
                if let (Some(triaged), Some(resolved)) = (incident.triaged_at, incident.resolved_at) {
                    prop_assert!(triaged <= resolved);
                }
            }
        }
    }
}
