//! Merging one incident (the source) into another (the target).
//!
//! [`merge`] is a pure function of the two incidents with everything attached to them. What it
//! does:
//!
//! - **Observables**: the union; for an observable in both, the target's entry is kept, marked
//!   as an indicator if either was, with the source's note if the target had none.
//! - **Tasks**: the source's tasks move to the target. Two tasks from the same playbook
//!   template are one task: the target's is kept, and takes the source's status when only the
//!   source's was finished.
//! - **Organisations**: the union of the affected organisations; the source's reporting
//!   organisation becomes an affected organisation of the target, so it still sees what it
//!   reported.
//! - **Labels**: the higher severity, the stricter TLP and PAP, the earlier `aware_at`,
//!   cross-border if either was; the target's classification unless it was `undetermined`.
//!   Each change is a timeline entry of the target, as if made by the merging user.
//! - **Evidence**: the union by SHA-256; each item new to the target starts a custody chain in
//!   the target with an `added` record naming the source incident (the source's chains stay).
//! - **Timeline**: the source's entries are copied into the target's, marked with
//!   `merged_from`, in time order; the target records `merged`, the source `merged_into`.
//! - **Links**: the source's links move to the target; links between the two disappear, and a
//!   link the target already has with the same incident keeps the target's kind.
//! - **The source** is closed (whatever its status: the one exception to the workflow), points
//!   to the target with `merged_into`, and keeps only its own timeline; its observables, tasks,
//!   evidence and links now belong to the target.

use uuid::Uuid;

use crate::Timestamp;
use crate::classification::RsitClass;
use crate::evidence::{CustodyAction, CustodyEvent, CustodyRecord, Evidence, next_custody};
use crate::incident::{Change, Incident};
use crate::link::Link;
use crate::observable::ObservableEntry;
use crate::playbook::Task;
use crate::timeline::{TimelineEntry, TimelineKind};
use crate::workflow::Status;

/// An incident with everything attached to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentCase {
    pub incident: Incident,
    pub observables: Vec<ObservableEntry>,
    pub tasks: Vec<Task>,
    pub timeline: Vec<TimelineEntry>,
    pub links: Vec<Link>,
    pub evidence: Vec<Evidence>,
}

/// The result of a merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    pub target: IncidentCase,
    pub source: IncidentCase,
    /// The first custody record, in the target, of each evidence item that moved.
    pub custody: Vec<CustodyRecord>,
}

/// Why a merge was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("an incident cannot be merged into itself")]
    SameIncident,
    #[error("incident {id} was already merged into {into}")]
    AlreadyMerged { id: Uuid, into: Uuid },
}

/// Merges `source` into `target`; see the module documentation.
pub fn merge(
    mut target: IncidentCase,
    mut source: IncidentCase,
    actor: Option<Uuid>,
    now: Timestamp,
) -> Result<Merged, MergeError> {
    let (target_id, source_id) = (target.incident.id, source.incident.id);
    if target_id == source_id {
        return Err(MergeError::SameIncident);
    }
    for incident in [&target.incident, &source.incident] {
        if let Some(into) = incident.merged_into {
            return Err(MergeError::AlreadyMerged { id: incident.id, into });
        }
    }

    // Labels, organisations and times, each change recorded in the target's timeline.
    let (mine, theirs) = (&target.incident, &source.incident);
    let mut changes = Vec::new();
    if theirs.severity > mine.severity {
        changes.push(Change::Severity { severity: theirs.severity });
    }
    if theirs.tlp > mine.tlp {
        changes.push(Change::Tlp { tlp: theirs.tlp });
    }
    if theirs.pap > mine.pap {
        changes.push(Change::Pap { pap: theirs.pap });
    }
    if mine.classification == RsitClass::undetermined() && theirs.classification != RsitClass::undetermined()
    {
        changes.push(Change::Classify { classification: theirs.classification });
    }
    if let Some(aware_at) = theirs.aware_at
        && mine.aware_at.is_none_or(|mine| aware_at < mine)
    {
        changes.push(Change::AwareAt { aware_at });
    }
    if theirs.cross_border && !mine.cross_border {
        changes.push(Change::CrossBorder { cross_border: true });
    }
    let orgs = theirs
        .reporter_org
        .filter(|org| Some(*org) != mine.reporter_org)
        .into_iter()
        .chain(theirs.affected_orgs.iter().copied());
    for org in orgs {
        changes.push(Change::AddOrg { org });
    }
    let mut entries = Vec::new();
    for change in changes {
        // Every change here is valid (no text, times in the past); a refused one changes nothing.
        if let Ok(Some(entry)) = target.incident.apply(change, actor, now) {
            entries.push(entry);
        }
    }

    // Observables.
    for entry in std::mem::take(&mut source.observables) {
        match target.observables.iter_mut().find(|mine| mine.observable == entry.observable) {
            Some(mine) => {
                mine.ioc |= entry.ioc;
                if mine.note.is_none() {
                    mine.note = entry.note;
                }
            }
            None => target.observables.push(entry),
        }
    }

    // Tasks.
    for mut task in std::mem::take(&mut source.tasks) {
        let twin = task
            .template
            .as_ref()
            .and_then(|key| target.tasks.iter_mut().find(|mine| mine.template.as_ref() == Some(key)));
        match twin {
            Some(mine) => {
                if task.status.is_finished() && !mine.status.is_finished() {
                    mine.status = task.status;
                    mine.finished_at = task.finished_at;
                }
            }
            None => {
                task.incident_id = target_id;
                target.tasks.push(task);
            }
        }
    }

    // Evidence.
    let mut custody = Vec::new();
    for mut item in std::mem::take(&mut source.evidence) {
        if target.evidence.iter().any(|mine| mine.sha256 == item.sha256) {
            continue;
        }
        item.incident_id = target_id;
        custody.push(next_custody(
            None,
            CustodyEvent {
                incident_id: target_id,
                sha256: item.sha256,
                action: CustodyAction::Added,
                actor,
                at: now,
                detail: Some(format!("merged from incident {source_id}")),
            },
        ));
        target.evidence.push(item);
    }

    // Links.
    for link in std::mem::take(&mut source.links) {
        let Some(seen) = link.seen_from(source_id) else { continue };
        if seen.to == target_id {
            continue;
        }
        let moved = Link { from: target_id, ..seen };
        let known =
            target.links.iter().any(|mine| mine.seen_from(target_id).is_some_and(|mine| mine.to == moved.to));
        if !known {
            target.links.push(moved);
        }
    }
    target.links.retain(|link| link.seen_from(target_id).is_none_or(|seen| seen.to != source_id));

    // Timelines.
    let copied = source.timeline.iter().cloned().map(|mut entry| {
        entry.merged_from = Some(source_id);
        entry
    });
    target.timeline.extend(copied);
    // Stable: entries at the same instant keep the target's first.
    target.timeline.sort_by_key(|entry| entry.at);
    target.timeline.extend(entries);
    target.timeline.push(TimelineEntry::new(now, actor, TimelineKind::Merged { from: source_id }));
    target.incident.updated_at = now;

    // The source becomes a closed pointer to the target.
    let from = source.incident.status;
    source.incident.status = Status::Closed;
    source.incident.closed_at = Some(now);
    source.incident.merged_into = Some(target_id);
    source.incident.updated_at = now;
    if from != Status::Closed {
        source.timeline.push(TimelineEntry::new(
            now,
            actor,
            TimelineKind::StatusChanged { from, to: Status::Closed },
        ));
    }
    source.timeline.push(TimelineEntry::new(now, actor, TimelineKind::MergedInto { into: target_id }));

    Ok(Merged { target, source, custody })
}

#[cfg(test)]
mod tests {
    use neretva_model::tlp::{Pap, Tlp};
    use time::macros::datetime;

    use super::*;
    use crate::evidence::{EvidenceSource, Sha256, verify_custody};
    use crate::incident::{IncidentDraft, IncidentSource, Severity};
    use crate::link::LinkKind;
    use crate::observable::{Observable, ObservableKind};
    use crate::playbook::{TaskStatus, seed_tasks};

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn case(n: u128, draft: IncidentDraft, opened: Timestamp) -> IncidentCase {
        let (incident, created) =
            Incident::open(id(n), draft, IncidentSource::Analyst, None, opened).unwrap();
        let mut next = n * 100;
        let tasks = seed_tasks(id(n), incident.classification, opened, || {
            next += 1;
            id(next)
        });
        IncidentCase {
            incident,
            observables: vec![],
            tasks,
            timeline: vec![created],
            links: vec![],
            evidence: vec![],
        }
    }

    fn observable(
        kind: ObservableKind,
        value: &str,
        ioc: bool,
        note: Option<&str>,
        at: Timestamp,
    ) -> ObservableEntry {
        ObservableEntry {
            observable: Observable::parse(kind, value).unwrap(),
            ioc,
            note: note.map(str::to_owned),
            added_by: None,
            added_at: at,
        }
    }

    fn evidence(incident: u128, bytes: &[u8], at: Timestamp) -> Evidence {
        Evidence {
            incident_id: id(incident),
            sha256: Sha256::of(bytes),
            size: bytes.len() as u64,
            filename: None,
            content_type: "application/octet-stream".into(),
            description: None,
            source: EvidenceSource::Upload,
            added_by: None,
            added_at: at,
        }
    }

    #[test]
    fn merging_b_into_a() {
        let t0 = datetime!(2025-02-03 8:00 UTC);
        let now = datetime!(2025-02-04 12:00 UTC);
        let mut draft_a = IncidentDraft::titled("Phishing against bank customers");
        draft_a.classification = "phishing".parse().unwrap();
        draft_a.reporter_org = Some(id(50));
        draft_a.affected_orgs = vec![id(50)];
        draft_a.tlp = Tlp::Amber;
        draft_a.aware_at = Some(t0);
        let mut a = case(1, draft_a, t0);
        let mut draft_b = IncidentDraft::titled("Fake bank login page");
        draft_b.classification = "phishing".parse().unwrap();
        draft_b.severity = Severity::High;
        draft_b.tlp = Tlp::AmberStrict;
        draft_b.pap = Pap::Red;
        draft_b.reporter_org = Some(id(60));
        draft_b.affected_orgs = vec![id(50), id(61)];
        draft_b.cross_border = true;
        draft_b.aware_at = Some(t0 - time::Duration::hours(5));
        let mut b = case(2, draft_b, t0 + time::Duration::hours(1));

        a.observables = vec![observable(ObservableKind::Domain, "login-banka.example.net", false, None, t0)];
        b.observables = vec![
            observable(ObservableKind::Domain, "login-banka.example.net", true, Some("landing page"), t0),
            observable(ObservableKind::Ipv4, "203.0.113.7", true, None, t0),
        ];
        b.tasks[0].set_status(TaskStatus::Done, None, t0 + time::Duration::hours(2));
        b.tasks.push(Task { template: None, title: "Call the registrar".into(), ..b.tasks[1].clone() });
        let custom_task = b.tasks.last().unwrap().id;
        a.evidence = vec![evidence(1, b"shared", t0)];
        b.evidence = vec![evidence(2, b"shared", t0), evidence(2, b"screenshot", t0)];
        a.links = vec![Link { from: id(1), to: id(9), kind: LinkKind::Related }];
        b.links = vec![
            Link { from: id(2), to: id(1), kind: LinkKind::DuplicateOf },
            Link { from: id(8), to: id(2), kind: LinkKind::ParentOf },
            Link { from: id(2), to: id(9), kind: LinkKind::ChildOf },
        ];
        b.timeline.push(
            TimelineEntry::comment(t0 + time::Duration::minutes(30), id(7), "Seen by the bank's SOC.")
                .unwrap(),
        );

        let Merged { target, source, custody } = merge(a, b, Some(id(7)), now).unwrap();

        let incident = &target.incident;
        assert_eq!(
            (incident.severity, incident.tlp, incident.pap),
            (Severity::High, Tlp::AmberStrict, Pap::Red)
        );
        assert_eq!(incident.aware_at, Some(t0 - time::Duration::hours(5)));
        assert!(incident.cross_border);
        assert_eq!(incident.affected_orgs, [id(50), id(60), id(61)]);
        assert_eq!(incident.updated_at, now);

        let observables: Vec<(String, bool, Option<&str>)> =
            target.observables.iter().map(|o| (o.observable.to_string(), o.ioc, o.note.as_deref())).collect();
        assert_eq!(
            observables,
            [
                ("domain:login-banka.example.net".to_owned(), true, Some("landing page")),
                ("ipv4:203.0.113.7".to_owned(), true, None),
            ]
        );

        let acknowledge: Vec<&Task> =
            target.tasks.iter().filter(|t| t.template.as_deref() == Some("acknowledge")).collect();
        assert_eq!(acknowledge.len(), 1, "one task per template");
        assert_eq!((acknowledge[0].incident_id, acknowledge[0].status), (id(1), TaskStatus::Done));
        let moved = target.tasks.iter().find(|t| t.id == custom_task).unwrap();
        assert_eq!(moved.incident_id, id(1));
        assert_eq!(target.tasks.len(), 8, "7 phishing playbook tasks and the custom one");

        assert_eq!(target.evidence.len(), 2);
        assert!(target.evidence.iter().all(|e| e.incident_id == id(1)));
        assert_eq!(custody.len(), 1);
        assert_eq!(custody[0].event.sha256, Sha256::of(b"screenshot"));
        assert_eq!(custody[0].event.detail.as_deref(), Some(&*format!("merged from incident {}", id(2))));
        assert_eq!(verify_custody(&custody), Ok(()));

        let mut links = target.links.clone();
        links.sort();
        assert_eq!(
            links,
            [
                Link { from: id(1), to: id(8), kind: LinkKind::ChildOf },
                Link { from: id(1), to: id(9), kind: LinkKind::Related },
            ]
        );

        let kinds: Vec<String> = target
            .timeline
            .iter()
            .map(|e| {
                format!(
                    "{}{}",
                    serde_json::to_value(&e.kind).unwrap()["kind"].as_str().unwrap(),
                    if e.merged_from.is_some() { " (copied)" } else { "" }
                )
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "created",
                "comment (copied)",
                "created (copied)",
                "severity_changed",
                "tlp_changed",
                "pap_changed",
                "aware_at_changed",
                "cross_border_changed",
                "org_added",
                "org_added",
                "merged",
            ]
        );

        assert_eq!(source.incident.status, Status::Closed);
        assert_eq!(source.incident.merged_into, Some(id(1)));
        assert!(
            source.observables.is_empty()
                && source.tasks.is_empty()
                && source.evidence.is_empty()
                && source.links.is_empty()
        );
        let last: Vec<&TimelineKind> = source.timeline.iter().rev().take(2).map(|e| &e.kind).collect();
        assert_eq!(
            last,
            [
                &TimelineKind::MergedInto { into: id(1) },
                &TimelineKind::StatusChanged { from: Status::New, to: Status::Closed }
            ]
        );
    }

    #[test]
    fn refused_merges() {
        let t0 = datetime!(2025-02-03 8:00 UTC);
        let a = case(1, IncidentDraft::titled("A"), t0);
        assert_eq!(merge(a.clone(), a.clone(), None, t0), Err(MergeError::SameIncident));
        let mut b = case(2, IncidentDraft::titled("B"), t0);
        b.incident.merged_into = Some(id(3));
        assert_eq!(merge(a, b, None, t0), Err(MergeError::AlreadyMerged { id: id(2), into: id(3) }));
    }
}
