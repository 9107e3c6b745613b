//! The timeline of an incident: comments, actions and every recorded change, oldest first.

use neretva_model::tlp::{Pap, Tlp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::classification::RsitClass;
use crate::evidence::Sha256;
use crate::incident::{IncidentSource, Severity};
use crate::link::LinkKind;
use crate::observable::ObservableKind;
use crate::playbook::TaskStatus;
use crate::report::StageKind;
use crate::workflow::Status;
use crate::{FieldError, Timestamp, limits};

/// One entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    #[serde(with = "crate::utc")]
    pub at: Timestamp,
    /// The user who did it; `None` for the system (intake, deadlines, merges by rule).
    pub actor: Option<Uuid>,
    #[serde(flatten)]
    pub kind: TimelineKind,
    /// Set on entries copied from an incident merged into this one: where they came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_from: Option<Uuid>,
}

impl TimelineEntry {
    /// An entry not copied from another incident.
    pub fn new(at: Timestamp, actor: Option<Uuid>, kind: TimelineKind) -> TimelineEntry {
        TimelineEntry { at, actor, kind, merged_from: None }
    }

    /// A comment by a user, checked for length and characters.
    pub fn comment(at: Timestamp, actor: Uuid, text: &str) -> Result<TimelineEntry, FieldError> {
        neretva_model::check_text("text", text, limits::TEXT)?;
        Ok(TimelineEntry::new(at, Some(actor), TimelineKind::Comment { text: text.to_owned() }))
    }

    /// An action taken outside the platform ("called the ISP's NOC"), checked like a comment.
    pub fn action(at: Timestamp, actor: Uuid, text: &str) -> Result<TimelineEntry, FieldError> {
        neretva_model::check_text("text", text, limits::TEXT)?;
        Ok(TimelineEntry::new(at, Some(actor), TimelineKind::Action { text: text.to_owned() }))
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TimelineKind {
    Created {
        source: IncidentSource,
    },
    Comment {
        text: String,
    },
    /// Something done outside the platform.
    Action {
        text: String,
    },
    StatusChanged {
        from: Status,
        to: Status,
    },
    TitleChanged {
        title: String,
    },
    DescriptionChanged,
    Assigned {
        from: Option<Uuid>,
        to: Option<Uuid>,
    },
    Classified {
        from: RsitClass,
        to: RsitClass,
    },
    SeverityChanged {
        from: Severity,
        to: Severity,
    },
    TlpChanged {
        from: Tlp,
        to: Tlp,
    },
    PapChanged {
        from: Pap,
        to: Pap,
    },
    OrgAdded {
        org: Uuid,
    },
    OrgRemoved {
        org: Uuid,
    },
    CrossBorderChanged {
        cross_border: bool,
    },
    AwareAtChanged {
        #[serde(with = "crate::utc::option")]
        from: Option<Timestamp>,
        #[serde(with = "crate::utc")]
        to: Timestamp,
    },
    ObservableAdded {
        observable_kind: ObservableKind,
        value: String,
    },
    ObservableRemoved {
        observable_kind: ObservableKind,
        value: String,
    },
    TaskAdded {
        task: Uuid,
        title: String,
    },
    TaskStatusChanged {
        task: Uuid,
        from: TaskStatus,
        to: TaskStatus,
    },
    EvidenceAdded {
        sha256: Sha256,
        filename: Option<String>,
    },
    /// A constituent's report at one of the NIS2 stages arrived.
    ReportReceived {
        report: Uuid,
        stage: StageKind,
    },
    /// The CSIRT answered an early warning (the 24-hour feedback of NIS2 Art. 23(5)).
    FeedbackSent {
        text: String,
    },
    Linked {
        other: Uuid,
        link: LinkKind,
    },
    Unlinked {
        other: Uuid,
        link: LinkKind,
    },
    /// The CSIRT or a competent authority asked for an intermediate report (NIS2 Art. 23(4)(c)).
    IntermediateRequested {
        #[serde(with = "crate::utc")]
        due_at: Timestamp,
        /// The organisation that asked.
        requester_org: Option<Uuid>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// A significance assessment was recorded.
    SignificanceAssessed {
        significant: bool,
        /// The identifiers of the criteria met.
        criteria: Vec<String>,
    },
    /// Feed events stored after an observable was added matched it.
    EventsMatched {
        observable_kind: ObservableKind,
        value: String,
        /// Events newly linked.
        events: u64,
    },
    /// Another incident was merged into this one.
    Merged {
        from: Uuid,
    },
    /// This incident was merged into another and closed.
    MergedInto {
        into: Uuid,
    },
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn entries_serialise_flat_with_their_kind() {
        let at = datetime!(2025-01-14 9:00 UTC);
        let entry = TimelineEntry::new(
            at,
            None,
            TimelineKind::StatusChanged { from: Status::New, to: Status::Triage },
        );
        assert_eq!(
            serde_json::to_value(&entry).unwrap(),
            serde_json::json!({"at": "2025-01-14T09:00:00Z", "actor": null, "kind": "status_changed", "from": "new", "to": "triage"})
        );
        let back: TimelineEntry = serde_json::from_value(serde_json::to_value(&entry).unwrap()).unwrap();
        assert_eq!(back, entry);
    }

    #[test]
    fn comments_are_checked() {
        let at = datetime!(2025-01-14 9:00 UTC);
        assert!(TimelineEntry::comment(at, Uuid::nil(), "Called the ISP.").is_ok());
        assert_eq!(TimelineEntry::comment(at, Uuid::nil(), "  ").unwrap_err().field, "text");
        let long = "x".repeat(limits::TEXT + 1);
        assert!(TimelineEntry::action(at, Uuid::nil(), &long).is_err());
    }
}
