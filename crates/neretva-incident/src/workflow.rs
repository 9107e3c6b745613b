//! The status workflow of an incident.
//!
//! `new → triage → in_progress → resolved → closed`, with rejection at triage and reopening:
//!
//! | from          | allowed next                      |
//! |---------------|-----------------------------------|
//! | `new`         | `triage`                          |
//! | `triage`      | `in_progress`, `resolved`, `closed` |
//! | `in_progress` | `resolved`                        |
//! | `resolved`    | `closed`, `in_progress` (reopen)  |
//! | `closed`      | `in_progress` (reopen)            |
//!
//! Staying in the same status is not a transition. Merging an incident into another closes it
//! whatever its status (see `merge`); that is the only way around this table.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where an incident is in its handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Reported or created, nobody has looked at it yet.
    New,
    /// An analyst is classifying it and deciding what to do.
    Triage,
    /// Being handled.
    InProgress,
    /// Handled; waiting for confirmation or the final report.
    Resolved,
    /// Done (or rejected at triage).
    Closed,
}

impl Status {
    /// Every status, in workflow order.
    pub const ALL: [Status; 5] =
        [Status::New, Status::Triage, Status::InProgress, Status::Resolved, Status::Closed];

    /// The statuses this one may move to.
    pub fn allowed_next(self) -> &'static [Status] {
        match self {
            Status::New => &[Status::Triage],
            Status::Triage => &[Status::InProgress, Status::Resolved, Status::Closed],
            Status::InProgress => &[Status::Resolved],
            Status::Resolved => &[Status::Closed, Status::InProgress],
            Status::Closed => &[Status::InProgress],
        }
    }

    /// Whether moving from this status to `to` is a reopening.
    pub fn is_reopen(self, to: Status) -> bool {
        matches!(self, Status::Resolved | Status::Closed) && to == Status::InProgress
    }

    /// Whether the incident still needs work (it heads the queue if its deadlines are near).
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Resolved | Status::Closed)
    }

    /// The stored spelling, e.g. `in_progress`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Triage => "triage",
            Status::InProgress => "in_progress",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = UnknownStatus;
    fn from_str(input: &str) -> Result<Status, UnknownStatus> {
        let normalised = input.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == normalised)
            .ok_or_else(|| UnknownStatus { input: input.to_owned() })
    }
}

/// A text that is not a status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status {input:?}; expected new, triage, in_progress, resolved or closed")]
pub struct UnknownStatus {
    pub input: String,
}

/// A refused transition, with what would have been allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("cannot move an incident from {from} to {to}; allowed from {from}: {}", list(allowed))]
pub struct TransitionError {
    pub from: Status,
    pub to: Status,
    pub allowed: Vec<Status>,
}

fn list(statuses: &[Status]) -> String {
    statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

/// Checks one transition against the workflow table.
pub fn check_transition(from: Status, to: Status) -> Result<(), TransitionError> {
    if from.allowed_next().contains(&to) {
        Ok(())
    } else {
        Err(TransitionError { from, to, allowed: from.allowed_next().to_vec() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole table, as (from, to, allowed) rows: every pair is listed, so a change to the
    /// workflow changes this test.
    #[test]
    fn transition_table() {
        use Status::*;
        let allowed = [
            (New, Triage),
            (Triage, InProgress),
            (Triage, Resolved),
            (Triage, Closed),
            (InProgress, Resolved),
            (Resolved, Closed),
            (Resolved, InProgress),
            (Closed, InProgress),
        ];
        for from in Status::ALL {
            for to in Status::ALL {
                let expected = allowed.contains(&(from, to));
                assert_eq!(check_transition(from, to).is_ok(), expected, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn refusal_lists_the_allowed_transitions() {
        let error = check_transition(Status::New, Status::Closed).unwrap_err();
        assert_eq!(error.to_string(), "cannot move an incident from new to closed; allowed from new: triage");
        let error = check_transition(Status::Triage, Status::Triage).unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot move an incident from triage to triage; allowed from triage: in_progress, resolved, closed"
        );
        assert_eq!(
            serde_json::to_value(&error).unwrap(),
            serde_json::json!({"from": "triage", "to": "triage", "allowed": ["in_progress", "resolved", "closed"]})
        );
    }

    #[test]
    fn every_status_is_reachable_and_closed_can_reopen() {
        let mut reached = vec![Status::New];
        let mut index = 0;
        while let Some(status) = reached.get(index).copied() {
            for next in status.allowed_next() {
                if !reached.contains(next) {
                    reached.push(*next);
                }
            }
            index += 1;
        }
        assert_eq!(reached.len(), Status::ALL.len());
        assert!(Status::Closed.is_reopen(Status::InProgress));
        assert!(!Status::Triage.is_reopen(Status::InProgress));
    }

    #[test]
    fn statuses_parse() {
        for status in Status::ALL {
            assert_eq!(status.as_str().parse(), Ok(status));
        }
        assert_eq!("In Progress".parse(), Ok(Status::InProgress));
        assert!("open".parse::<Status>().is_err());
    }
}
