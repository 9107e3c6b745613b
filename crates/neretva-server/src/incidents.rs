//! Incident handling over the `Store`: each operation reads what it changes, applies
//! `neretva_incident`'s domain functions, and writes the result as one `IncidentWrite` batch
//! under the versions it read, so a concurrent change is refused rather than overwritten.
//!
//! The HTTP handlers (`api::incidents`, `api::incident_reports`, `api::evidence`) and the command
//! line share these operations; they decide who may call them, this module what a call does.
//! Deadlines are kept with each incident (`DeadlineInput`) and updated by the operations that
//! change them (reports, feedback, awareness, resolution), so the queue needs no extra reads.

use neretva_incident::classification::RsitClass;
use neretva_incident::deadline::{
    DeadlineConfig, DeadlineInput, GdprClock, IntermediateRequest, Submission, obligations,
};
use neretva_incident::evidence::{
    CustodyAction, CustodyEvent, EvidenceError, EvidenceLimits, EvidenceSource, NewEvidence, Sha256,
};
use neretva_incident::incident::{Change, Incident, IncidentDraft, IncidentSource};
use neretva_incident::intake::IntakeRecord;
use neretva_incident::link::{Link, LinkError, LinkKind, check_link};
use neretva_incident::merge::{IncidentCase, MergeError, merge};
use neretva_incident::observable::{Observable, ObservableEntry, ObservableIndex, ObservableKind};
use neretva_incident::playbook::{Task, TaskDraft, TaskStatus, seed_tasks};
use neretva_incident::report::IncidentReport;
use neretva_incident::significance::{Assessment, Facts, PastIncident, ProviderKind, Recorded};
use neretva_incident::timeline::{TimelineEntry, TimelineKind};
use neretva_incident::workflow::{Status, TransitionError};
use neretva_mail::MailLimits;
use neretva_model::{FieldError, Timestamp, Uuid};
use neretva_store::blobs::{BlobError, BlobStore};
use neretva_store::feeds::EventQuery;
use neretva_store::incidents::{
    Children, IncidentQuery, IncidentWrite, MAX_MATCHES, MatchAddition, MatchSummary, MatchedEvent,
    ObservableMatches, ObservableWrite, ReportChannel, StoredIncident, StoredIncidentReport, StoredIntake,
};
use neretva_store::{Actor, Store, StoreError};

use crate::registry::RegistrySnapshot;

/// Feed events examined at most when matching one observable; past it the count is a lower
/// bound (`MatchSummary::complete` is false).
pub const MAX_SCANNED_EVENTS: usize = 100_000;

/// Why an operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    /// Input that fails validation; every problem with its field.
    #[error("invalid input: {}", .0.first().map(ToString::to_string).unwrap_or_default())]
    Invalid(Vec<FieldError>),
    /// The workflow does not allow the transition.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error(transparent)]
    Evidence(#[from] EvidenceError),
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error(transparent)]
    Merge(#[from] MergeError),
    /// The incident changed since the caller read it (the version it names is stale).
    #[error("incident {id} is at version {current}, not {expected}; reload it and try again")]
    Stale { id: Uuid, expected: i64, current: i64 },
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<FieldError> for IncidentError {
    fn from(error: FieldError) -> IncidentError {
        IncidentError::Invalid(vec![error])
    }
}

pub type Result<T, E = IncidentError> = std::result::Result<T, E>;

/// Who acts, when, and under which settings.
#[derive(Clone, Copy)]
pub struct Ops<'a> {
    pub store: &'a dyn Store,
    /// Recorded in the audit log.
    pub actor: &'a Actor,
    /// Recorded in timelines and custody; `None` for the system and the command line.
    pub user: Option<Uuid>,
    pub now: Timestamp,
    pub deadlines: DeadlineConfig,
    /// The constituency: the sector and subsector of the entity an incident concerns decide
    /// sector-specific rules (trust service providers notify within 24 hours; the entity type
    /// of Implementing Regulation 2024/2690 in significance assessments).
    pub registry: &'a RegistrySnapshot,
}

/// The organisation that owes an incident's reports: the reporting one, else the first affected
/// one (as the statistics and the summary place an incident).
pub fn entity_of(incident: &Incident) -> Option<Uuid> {
    incident.reporter_org.or_else(|| incident.affected_orgs.first().copied())
}

/// The entity type of the organisation that owes an incident's reports under Implementing
/// Regulation 2024/2690, from its sector and subsector in the registry.
pub fn provider_of(registry: &RegistrySnapshot, incident: &Incident) -> Option<ProviderKind> {
    let org = registry.orgs.get(&entity_of(incident)?)?;
    ProviderKind::of_sector(org.fields.sector.as_deref(), org.fields.subsector.as_deref())
}

/// The deadline input of an incident after a change: the awareness time and the end of handling
/// follow the incident, the 24-hour notification of trust service providers (NIS2 Art.
/// 23(4)(b)) follows the registry's subsector of the entity; submissions, feedback, requests
/// and the GDPR clock are kept.
pub fn refresh_deadlines(
    kept: Option<&DeadlineInput>,
    incident: &Incident,
    registry: &RegistrySnapshot,
) -> Option<DeadlineInput> {
    let aware_at = incident.aware_at?;
    let mut input = kept.cloned().unwrap_or_else(|| DeadlineInput::aware_at(aware_at));
    input.aware_at = aware_at;
    input.handling_ended_at = incident.resolved_at.or(incident.closed_at);
    input.trust_service_provider =
        provider_of(registry, incident) == Some(ProviderKind::TrustServiceProvider);
    Some(input)
}

/// The earliest due time of the open obligations: the queue's order.
pub fn next_due(input: Option<&DeadlineInput>, config: &DeadlineConfig, now: Timestamp) -> Option<Timestamp> {
    let input = input?;
    obligations(input, config, now).into_iter().filter(|o| o.state.is_open()).map(|o| o.due_at).min()
}

/// Records a report's submission (and its GDPR clock) in a deadline input.
fn add_submission(input: &mut DeadlineInput, report: &IncidentReport, at: Timestamp) {
    input.submissions.push(Submission { stage: report.stage.kind(), at });
    if let Some(gdpr) = &report.gdpr {
        let clock = input.gdpr.get_or_insert(GdprClock { aware_at: gdpr.aware_at, notified_at: None });
        clock.aware_at = clock.aware_at.min(gdpr.aware_at);
        if let Some(notified) = gdpr.notified_at {
            clock.notified_at = Some(clock.notified_at.map_or(notified, |known| known.min(notified)));
        }
    }
}

/// An incident with everything attached, as merging needs it.
async fn case(store: &dyn Store, stored: &StoredIncident) -> Result<IncidentCase> {
    let id = stored.incident.id;
    Ok(IncidentCase {
        incident: stored.incident.clone(),
        observables: store.incident_observables(id).await?.into_iter().map(|o| o.entry).collect(),
        tasks: store.incident_tasks(id).await?,
        timeline: store.incident_timeline(id).await?,
        links: store.incident_links(id).await?,
        evidence: store.incident_evidence(id).await?,
    })
}

/// The text an observable is looked for with in events' JSON: the value, or for a URL its host
/// (stored URLs may spell the scheme, case or port differently).
fn event_text(observable: &Observable) -> String {
    if observable.kind() != ObservableKind::Url {
        return observable.value().to_owned();
    }
    let rest = observable.value().split_once("://").map_or(observable.value(), |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    match host.rsplit_once(':') {
        Some((name, port)) if !name.ends_with(']') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name.to_owned()
        }
        _ => host.to_owned(),
    }
}

/// Finds the stored feed events an observable matches: candidates from the event index (an
/// address or network, an AS, or text in the event), each confirmed with the observable's own
/// matching rules. At most `MAX_MATCHES` are linked and `MAX_SCANNED_EVENTS` examined.
pub async fn match_events(
    store: &dyn Store,
    observable: &Observable,
    now: Timestamp,
) -> Result<Option<ObservableMatches>> {
    if observable.event_fields().is_empty() {
        return Ok(None);
    }
    let mut query = EventQuery { limit: 10_000, ..EventQuery::default() };
    match observable.kind() {
        ObservableKind::Ipv4 | ObservableKind::Ipv6 => {
            let address = observable.value().parse().map_err(|_| StoreError::Backend("observable".into()))?;
            query.network = Some(neretva_net::Cidr::host(address));
        }
        ObservableKind::Cidr => {
            query.network =
                Some(observable.value().parse().map_err(|_| StoreError::Backend("observable".into()))?);
        }
        ObservableKind::Asn => {
            let asn: neretva_net::Asn =
                observable.value().parse().map_err(|_| StoreError::Backend("observable".into()))?;
            query.asn = Some(asn.get());
        }
        _ => query.text = Some(event_text(observable)),
    }
    let mut events = Vec::new();
    let (mut total, mut scanned) = (0u64, 0usize);
    let complete = loop {
        let page = store.query_events(&query).await?;
        let full = page.len() == query.limit as usize;
        for stored in &page {
            scanned += 1;
            let Ok(event) = neretva_event::intelmq_json::from_line(&stored.event.json) else { continue };
            let fields = observable.matches(&event);
            if fields.is_empty() {
                continue;
            }
            total += 1;
            if events.len() < MAX_MATCHES {
                events.push(MatchedEvent {
                    event_id: stored.event.id,
                    fields: fields.into_iter().map(str::to_owned).collect(),
                });
            }
        }
        match page.last() {
            Some(last) if full => {
                if scanned >= MAX_SCANNED_EVENTS {
                    break false;
                }
                query.before = Some(last.event.id);
            }
            _ => break true,
        }
    };
    Ok(Some(ObservableMatches { events, summary: MatchSummary { total, complete, matched_at: now } }))
}

impl Ops<'_> {
    async fn load(&self, id: Uuid) -> Result<StoredIncident> {
        self.store.get_incident(id).await?.ok_or_else(|| StoreError::not_found("incident", id).into())
    }

    /// Loads an incident, refusing it when the caller names a version that is not current.
    pub async fn load_at(&self, id: Uuid, expected: Option<i64>) -> Result<StoredIncident> {
        let stored = self.load(id).await?;
        match expected {
            Some(expected) if expected != stored.version => {
                Err(IncidentError::Stale { id, expected, current: stored.version })
            }
            _ => Ok(stored),
        }
    }

    /// A write of a changed incident under the version read, with its deadlines refreshed.
    fn write(&self, stored: &StoredIncident, incident: Incident, action: &str) -> IncidentWrite {
        let deadlines = refresh_deadlines(stored.deadlines.as_ref(), &incident, self.registry);
        let mut write = IncidentWrite::new(incident, Some(stored.version), action);
        write.next_due = next_due(deadlines.as_ref(), &self.deadlines, self.now);
        write.deadlines = deadlines;
        write
    }

    async fn commit(&self, write: IncidentWrite) -> Result<StoredIncident> {
        let mut stored = self.store.write_incidents(self.actor, &[write]).await?;
        stored.pop().ok_or_else(|| StoreError::Backend("no incident written".into()).into())
    }

    /// The write that opens an incident, with its playbook's tasks and its deadlines.
    fn opening(
        &self,
        draft: IncidentDraft,
        source: IncidentSource,
        assignee: Option<Uuid>,
    ) -> Result<IncidentWrite> {
        let (mut incident, created) = Incident::open(Uuid::now_v7(), draft, source, self.user, self.now)
            .map_err(IncidentError::Invalid)?;
        let assigned = match assignee {
            Some(assignee) => {
                incident.apply(Change::Assign { assignee: Some(assignee) }, self.user, self.now)?
            }
            None => None,
        };
        let tasks = seed_tasks(incident.id, incident.classification, self.now, Uuid::now_v7);
        let deadlines = refresh_deadlines(None, &incident, self.registry);
        let mut write = IncidentWrite::new(incident, None, "incident.create");
        write.next_due = next_due(deadlines.as_ref(), &self.deadlines, self.now);
        write.deadlines = deadlines;
        write.timeline = [Some(created), assigned].into_iter().flatten().collect();
        write.tasks = tasks;
        Ok(write)
    }

    /// Opens an incident (an analyst's, or from feed events), assigned to `assignee` if given.
    pub async fn create(
        &self,
        draft: IncidentDraft,
        source: IncidentSource,
        assignee: Option<Uuid>,
    ) -> Result<StoredIncident> {
        let write = self.opening(draft, source, assignee)?;
        self.commit(write).await
    }

    /// Stores a constituent's report: it opens an incident, or follows up the one it names
    /// (recording the stage, adding new indicators, updating the deadlines).
    pub async fn submit_report(
        &self,
        report: IncidentReport,
        org_id: Option<Uuid>,
        channel: ReportChannel,
    ) -> Result<(StoredIncidentReport, StoredIncident)> {
        let errors = report.validate(self.now);
        if !errors.is_empty() {
            return Err(IncidentError::Invalid(errors));
        }
        let indicators = report.indicators().map_err(IncidentError::Invalid)?;
        let report_id = Uuid::now_v7();
        let received = TimelineEntry::new(
            self.now,
            self.user,
            TimelineKind::ReportReceived { report: report_id, stage: report.stage.kind() },
        );
        let mut write = match report.incident_id {
            None => self.opening(report.to_draft(org_id), IncidentSource::Report { report_id }, None)?,
            Some(id) => {
                let stored = self.load(id).await?;
                let mut incident = stored.incident.clone();
                incident.updated_at = self.now;
                let mut entries = Vec::new();
                if incident.aware_at.is_none() {
                    entries.extend(incident.apply(
                        Change::AwareAt { aware_at: report.aware_at },
                        self.user,
                        self.now,
                    )?);
                }
                let mut write = self.write(&stored, incident, "incident.report");
                write.timeline = entries;
                write
            }
        };
        let known: Vec<Observable> = match report.incident_id {
            Some(id) => {
                self.store.incident_observables(id).await?.into_iter().map(|o| o.entry.observable).collect()
            }
            None => Vec::new(),
        };
        write.timeline.push(received);
        for observable in indicators.into_iter().filter(|o| !known.contains(o)) {
            let matches = match_events(self.store, &observable, self.now).await?;
            let (entry, added) = ObservableEntry::new(observable, true, None, self.user, self.now)?;
            write.timeline.push(added);
            write.observables.push(ObservableWrite { entry, matches });
        }
        if write.deadlines.is_none() {
            write.deadlines = refresh_deadlines(None, &write.incident, self.registry)
                .or_else(|| Some(DeadlineInput::aware_at(report.aware_at)));
        }
        let deadlines = write.deadlines.get_or_insert_with(|| DeadlineInput::aware_at(report.aware_at));
        add_submission(deadlines, &report, self.now);
        write.next_due = next_due(write.deadlines.as_ref(), &self.deadlines, self.now);
        let incident_id = write.incident.id;
        let stored_report = StoredIncidentReport {
            id: report_id,
            incident_id,
            org_id,
            submitted_by: self.user,
            channel,
            received_at: self.now,
            report,
        };
        let stored_report = self.store.submit_incident_report(self.actor, &stored_report, &[write]).await?;
        Ok((stored_report, self.load(incident_id).await?))
    }

    /// Takes in a raw e-mail: the message and its attachments are stored as blobs; a parsed
    /// message opens an incident with them as evidence, a malformed one is kept as a failed
    /// intake with its reason.
    pub async fn intake_mail(
        &self,
        blobs: &BlobStore,
        raw: &[u8],
        origin: &str,
        reporter_org: Option<Uuid>,
        mail_limits: &MailLimits,
        evidence_limits: &EvidenceLimits,
    ) -> Result<StoredIntake> {
        let record: IntakeRecord =
            neretva_incident::intake::intake(Uuid::now_v7(), raw, origin, self.now, mail_limits);
        let (raw_owned, attachments) = {
            let attachments: Vec<Vec<u8>> = record
                .mail()
                .map(|mail| mail.attachments.iter().map(|a| a.bytes.clone()).collect())
                .unwrap_or_default();
            (raw.to_vec(), attachments)
        };
        let blobs = blobs.clone();
        tokio::task::spawn_blocking(move || -> Result<(), BlobError> {
            blobs.put(&raw_owned)?;
            for bytes in attachments.iter().filter(|bytes| !bytes.is_empty()) {
                blobs.put(bytes)?;
            }
            Ok(())
        })
        .await
        .map_err(|error| StoreError::Backend(format!("blob task failed: {error}")))??;
        let Some(draft) = record.draft(reporter_org) else {
            let intake = StoredIntake { record, incident_id: None };
            return Ok(self.store.record_intake(self.actor, &intake, &[]).await?);
        };
        let mut write = self.opening(draft, IncidentSource::Email { intake_id: record.id }, None)?;
        for item in record.evidence() {
            if item.size == 0 {
                continue;
            }
            let (evidence, entry, custody) =
                item.add(write.incident.id, &write.evidence, evidence_limits, self.user, self.now)?;
            write.evidence.push(evidence);
            write.timeline.push(entry);
            write.custody.push(custody);
        }
        let intake = StoredIntake { incident_id: Some(write.incident.id), record };
        Ok(self.store.record_intake(self.actor, &intake, &[write]).await?)
    }

    /// Moves an incident along the workflow.
    pub async fn transition(&self, id: Uuid, to: Status, expected: Option<i64>) -> Result<StoredIncident> {
        let stored = self.load_at(id, expected).await?;
        let mut incident = stored.incident.clone();
        if incident.merged_into.is_some() {
            return Err(StoreError::conflict("status", "the incident was merged into another").into());
        }
        let entry = incident.transition(to, self.user, self.now)?;
        let mut write = self.write(&stored, incident, "incident.transition");
        write.timeline.push(entry);
        self.commit(write).await
    }

    /// Applies changes to an incident's fields; changes that change nothing are left out.
    pub async fn change(
        &self,
        id: Uuid,
        changes: Vec<Change>,
        expected: Option<i64>,
        action: &str,
    ) -> Result<StoredIncident> {
        let stored = self.load_at(id, expected).await?;
        let mut incident = stored.incident.clone();
        let mut entries = Vec::new();
        let mut errors = Vec::new();
        for change in changes {
            match incident.apply(change, self.user, self.now) {
                Ok(entry) => entries.extend(entry),
                Err(error) => errors.push(error),
            }
        }
        if !errors.is_empty() {
            return Err(IncidentError::Invalid(errors));
        }
        if entries.is_empty() {
            return Ok(stored);
        }
        let mut write = self.write(&stored, incident, action);
        write.timeline = entries;
        self.commit(write).await
    }

    /// Adds a comment, an action taken, or the CSIRT's feedback to the timeline.
    pub async fn note(&self, id: Uuid, kind: NoteKind, text: &str) -> Result<StoredIncident> {
        let stored = self.load(id).await?;
        neretva_model::check_text("text", text, neretva_incident::limits::TEXT)?;
        let text = text.to_owned();
        let kind_of_entry = match kind {
            NoteKind::Comment => TimelineKind::Comment { text },
            NoteKind::Action => TimelineKind::Action { text },
            NoteKind::Feedback => TimelineKind::FeedbackSent { text },
        };
        // The command line acts as nobody in particular: its entries have no actor.
        let entry = TimelineEntry::new(self.now, self.user, kind_of_entry);
        let mut incident = stored.incident.clone();
        incident.updated_at = self.now;
        let action = match kind {
            NoteKind::Comment => "incident.comment",
            NoteKind::Action => "incident.action",
            NoteKind::Feedback => "incident.feedback",
        };
        let mut write = self.write(&stored, incident, action);
        if kind == NoteKind::Feedback
            && let Some(deadlines) = write.deadlines.as_mut()
            && deadlines.feedback_at.is_none()
        {
            deadlines.feedback_at = Some(self.now);
            write.next_due = next_due(write.deadlines.as_ref(), &self.deadlines, self.now);
        }
        write.timeline.push(entry);
        self.commit(write).await
    }

    /// Adds a task.
    pub async fn add_task(&self, id: Uuid, draft: TaskDraft) -> Result<(Task, StoredIncident)> {
        let stored = self.load(id).await?;
        let (task, entry) =
            Task::new(Uuid::now_v7(), id, draft, self.user, self.now).map_err(IncidentError::Invalid)?;
        let mut incident = stored.incident.clone();
        incident.updated_at = self.now;
        let mut write = self.write(&stored, incident, "incident.task.add");
        write.timeline.push(entry);
        write.tasks.push(task.clone());
        Ok((task, self.commit(write).await?))
    }

    /// Changes a task's status.
    pub async fn set_task_status(&self, id: Uuid, task_id: Uuid, status: TaskStatus) -> Result<Task> {
        let stored = self.load(id).await?;
        let mut task = self
            .store
            .incident_tasks(id)
            .await?
            .into_iter()
            .find(|task| task.id == task_id)
            .ok_or_else(|| StoreError::not_found("task", task_id))?;
        let Some(entry) = task.set_status(status, self.user, self.now) else { return Ok(task) };
        let mut incident = stored.incident.clone();
        incident.updated_at = self.now;
        let mut write = self.write(&stored, incident, "incident.task.status");
        write.timeline.push(entry);
        write.tasks.push(task.clone());
        self.commit(write).await?;
        Ok(task)
    }

    /// Adds an observable and links the stored feed events it matches; an observable the
    /// incident has is matched again and its note and indicator flag updated.
    pub async fn add_observable(
        &self,
        id: Uuid,
        observable: Observable,
        ioc: bool,
        note: Option<String>,
    ) -> Result<(ObservableEntry, Option<ObservableMatches>)> {
        let stored = self.load(id).await?;
        let matches = match_events(self.store, &observable, self.now).await?;
        let (entry, added) = ObservableEntry::new(observable, ioc, note, self.user, self.now)?;
        let mut incident = stored.incident.clone();
        incident.updated_at = self.now;
        let mut write = self.write(&stored, incident, "incident.observable.add");
        write.timeline.push(added);
        write.observables.push(ObservableWrite { entry: entry.clone(), matches: matches.clone() });
        self.commit(write).await?;
        Ok((entry, matches))
    }

    /// Removes an observable.
    pub async fn remove_observable(&self, id: Uuid, observable: Observable) -> Result<StoredIncident> {
        let stored = self.load(id).await?;
        let held =
            self.store.incident_observables(id).await?.iter().any(|o| o.entry.observable == observable);
        if !held {
            return Err(StoreError::not_found("observable", &observable).into());
        }
        let mut incident = stored.incident.clone();
        incident.updated_at = self.now;
        let mut write = self.write(&stored, incident, "incident.observable.remove");
        write.timeline.push(TimelineEntry::new(
            self.now,
            self.user,
            TimelineKind::ObservableRemoved {
                observable_kind: observable.kind(),
                value: observable.value().to_owned(),
            },
        ));
        write.removed_observables.push(observable);
        self.commit(write).await
    }

    /// Links two incidents; both timelines record it.
    pub async fn link(&self, id: Uuid, other: Uuid, kind: LinkKind) -> Result<Link> {
        let (from, to) = (self.load(id).await?, self.load(other).await?);
        let link = Link { from: id, to: other, kind };
        let existing: Vec<Link> = self
            .store
            .incident_links(id)
            .await?
            .into_iter()
            .chain(self.store.incident_links(other).await?)
            .collect();
        check_link(link, &existing)?;
        let mut writes = Vec::new();
        for (stored, seen) in [(&from, link), (&to, link.reversed())] {
            let mut incident = stored.incident.clone();
            incident.updated_at = self.now;
            let mut write = self.write(stored, incident, "incident.link");
            write.timeline.push(TimelineEntry::new(
                self.now,
                self.user,
                TimelineKind::Linked { other: seen.to, link: seen.kind },
            ));
            writes.push(write);
        }
        writes[0].links.push(link);
        self.store.write_incidents(self.actor, &writes).await?;
        Ok(link)
    }

    /// Removes the link between two incidents.
    pub async fn unlink(&self, id: Uuid, other: Uuid) -> Result<()> {
        let link = self
            .store
            .incident_links(id)
            .await?
            .into_iter()
            .find(|link| link.to == other)
            .ok_or_else(|| StoreError::not_found("link", format!("{id} to {other}")))?;
        let (from, to) = (self.load(id).await?, self.load(other).await?);
        let mut writes = Vec::new();
        for (stored, seen) in [(&from, link), (&to, link.reversed())] {
            let mut incident = stored.incident.clone();
            incident.updated_at = self.now;
            let mut write = self.write(stored, incident, "incident.unlink");
            write.timeline.push(TimelineEntry::new(
                self.now,
                self.user,
                TimelineKind::Unlinked { other: seen.to, link: seen.kind },
            ));
            writes.push(write);
        }
        writes[0].removed_links.push(link);
        self.store.write_incidents(self.actor, &writes).await?;
        Ok(())
    }

    /// Merges `source` into `target` (see `neretva_incident::merge`), both written whole in one
    /// transaction under the versions read.
    pub async fn merge(&self, target: Uuid, source: Uuid) -> Result<StoredIncident> {
        let (target_stored, source_stored) = (self.load(target).await?, self.load(source).await?);
        let target_case = case(self.store, &target_stored).await?;
        let source_case = case(self.store, &source_stored).await?;
        let merged = merge(target_case, source_case, self.user, self.now)?;
        let whole = |stored: &StoredIncident, case: &IncidentCase, action: &str| {
            let mut write = self.write(stored, case.incident.clone(), action);
            write.children = Children::Replace;
            write.timeline = case.timeline.clone();
            write.tasks = case.tasks.clone();
            write.observables = case
                .observables
                .iter()
                .map(|entry| ObservableWrite { entry: entry.clone(), matches: None })
                .collect();
            write.links = case.links.clone();
            write.evidence = case.evidence.clone();
            write
        };
        let mut target_write = whole(&target_stored, &merged.target, "incident.merge");
        // Submissions and feedback of the source count for the target's deadlines too.
        if let (Some(mine), Some(theirs)) =
            (target_write.deadlines.as_mut(), source_stored.deadlines.as_ref())
        {
            mine.submissions.extend(theirs.submissions.iter().copied());
            mine.feedback_at = match (mine.feedback_at, theirs.feedback_at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            target_write.next_due = next_due(target_write.deadlines.as_ref(), &self.deadlines, self.now);
        }
        target_write.custody = merged.custody.clone();
        let source_write = whole(&source_stored, &merged.source, "incident.merged");
        let mut written = self.store.write_incidents(self.actor, &[target_write, source_write]).await?;
        written.truncate(1);
        written.pop().ok_or_else(|| StoreError::Backend("no incident written".into()).into())
    }

    /// Asks the entity for an intermediate report (NIS2 Art. 23(4)(c)) by `due_at`, on behalf of
    /// `requester_org` (the CSIRT or a competent authority): recorded in the deadlines (an
    /// obligation of the entity until an intermediate, progress or final report arrives) and the
    /// timeline.
    pub async fn request_intermediate(
        &self,
        id: Uuid,
        due_at: Timestamp,
        requester_org: Option<Uuid>,
        note: Option<String>,
    ) -> Result<(IntermediateRequest, StoredIncident)> {
        let stored = self.load(id).await?;
        if stored.incident.merged_into.is_some() {
            return Err(StoreError::conflict("id", "the incident was merged into another").into());
        }
        if let Some(note) = &note {
            neretva_model::check_optional_text("note", note, neretva_incident::limits::SHORT_TEXT)?;
        }
        let mut incident = stored.incident.clone();
        incident.updated_at = self.now;
        let mut write = self.write(&stored, incident, "incident.intermediate.request");
        let Some(deadlines) = write.deadlines.as_mut() else {
            return Err(IncidentError::Invalid(vec![FieldError::new(
                "aware_at",
                "the incident has no awareness time, so no reporting obligations to add to",
            )]));
        };
        let request = IntermediateRequest::new(deadlines, due_at, self.user, requester_org, self.now)?;
        deadlines.intermediate_requests.push(request);
        write.next_due = next_due(write.deadlines.as_ref(), &self.deadlines, self.now);
        write.timeline.push(TimelineEntry::new(
            self.now,
            self.user,
            TimelineKind::IntermediateRequested { due_at, requester_org, note },
        ));
        Ok((request, self.commit(write).await?))
    }

    /// Records a significance assessment on an incident. The entity type of the Implementing
    /// Regulation is the registry's (from the entity's sector and subsector) unless the facts
    /// name one; the recurring-incident rule counts the entity's earlier incidents assessed with
    /// a root cause.
    pub async fn assess_significance(
        &self,
        id: Uuid,
        mut facts: Facts,
        expected: Option<i64>,
    ) -> Result<(StoredIncident, Assessment)> {
        let stored = self.load_at(id, expected).await?;
        if facts.provider.is_none() {
            facts.provider = provider_of(self.registry, &stored.incident);
        }
        let past = self.past_incidents(&stored.incident, facts.occurred_at).await?;
        let (record, assessment) =
            Recorded::assess(facts, &past, self.user, self.now).map_err(IncidentError::Invalid)?;
        let mut incident = stored.incident.clone();
        let entry = incident.apply(Change::Significance { record: Box::new(record) }, self.user, self.now)?;
        let mut write = self.write(&stored, incident, "incident.significance");
        write.timeline.extend(entry);
        Ok((self.commit(write).await?, assessment))
    }

    /// The entity's earlier incidents with a recorded root cause, up to seven months before
    /// `occurred_at` (the rule looks six calendar months back), at most 1,000.
    async fn past_incidents(&self, incident: &Incident, occurred_at: Timestamp) -> Result<Vec<PastIncident>> {
        let Some(org_id) = entity_of(incident) else { return Ok(Vec::new()) };
        let query = IncidentQuery {
            org_id: Some(org_id),
            created_since: Some(occurred_at - time::Duration::days(215)),
            exclude_merged: true,
            limit: 1_000,
            ..IncidentQuery::default()
        };
        Ok(self
            .store
            .list_incidents(&query)
            .await?
            .iter()
            .filter(|other| other.incident.id != incident.id && entity_of(&other.incident) == Some(org_id))
            .filter_map(|other| other.incident.significance.as_ref()?.as_past(other.incident.id))
            .collect())
    }

    /// Links feed events stored after the observables of open incidents were matched: the
    /// events of `scope` are matched against every observable of an open incident at once
    /// (`ObservableIndex`), new matches are added to the observables' links (events linked
    /// already are skipped, so running it again changes nothing), and each open incident holding
    /// a newly matched observable records it in its timeline. At most [`MAX_OPEN_OBSERVABLES`]
    /// observables and [`MAX_REMATCH_EVENTS`] events are examined.
    pub async fn rematch(&self, scope: RematchScope) -> Result<RematchOutcome> {
        let observables: Vec<Observable> = self
            .store
            .open_observables(MAX_OPEN_OBSERVABLES)
            .await?
            .into_iter()
            .filter(|observable| !observable.event_fields().is_empty())
            .collect();
        let mut outcome =
            RematchOutcome { observables: observables.len(), complete: true, ..RematchOutcome::default() };
        if observables.is_empty() {
            return Ok(outcome);
        }
        let index = ObservableIndex::new(observables);
        let mut query = EventQuery { limit: 10_000, ..EventQuery::default() };
        match scope {
            RematchScope::Report(report) => query.report_id = Some(report),
            RematchScope::Since(since) => query.since = Some(since),
        }
        let mut found: Vec<(Observable, Vec<MatchedEvent>)> = Vec::new();
        loop {
            let page = self.store.query_events(&query).await?;
            let full = page.len() == query.limit as usize;
            for stored in &page {
                outcome.events_examined += 1;
                let Ok(event) = neretva_event::intelmq_json::from_line(&stored.event.json) else { continue };
                for (observable, fields) in index.matching(&event) {
                    let position = match found.iter().position(|(known, _)| known == observable) {
                        Some(position) => position,
                        None => {
                            found.push((observable.clone(), Vec::new()));
                            found.len() - 1
                        }
                    };
                    let events = &mut found[position].1;
                    // Past twice the links kept, more would only be counted as over the limit.
                    if events.len() < 2 * MAX_MATCHES {
                        let fields = fields.into_iter().map(str::to_owned).collect();
                        events.push(MatchedEvent { event_id: stored.event.id, fields });
                    }
                }
            }
            match page.last() {
                Some(last) if full => {
                    if outcome.events_examined >= MAX_REMATCH_EVENTS {
                        outcome.complete = false;
                        break;
                    }
                    query.before = Some(last.event.id);
                }
                _ => break,
            }
        }
        if found.is_empty() {
            return Ok(outcome);
        }
        let additions: Vec<MatchAddition> =
            found.into_iter().map(|(observable, events)| MatchAddition { observable, events }).collect();
        let added = self.store.add_observable_matches(self.actor, &additions, self.now).await?;
        let mut entries: Vec<(Uuid, Vec<TimelineEntry>)> = Vec::new();
        for (addition, added) in additions.iter().zip(&added) {
            if added.linked == 0 {
                continue;
            }
            outcome.linked += added.linked;
            outcome.matched_observables += 1;
            let holders = IncidentQuery {
                observable: Some(addition.observable.clone()),
                statuses: vec![Status::New, Status::Triage, Status::InProgress],
                exclude_merged: true,
                limit: 1_000,
                ..IncidentQuery::default()
            };
            for holder in self.store.list_incidents(&holders).await? {
                let entry = TimelineEntry::new(
                    self.now,
                    self.user,
                    TimelineKind::EventsMatched {
                        observable_kind: addition.observable.kind(),
                        value: addition.observable.value().to_owned(),
                        events: added.linked,
                    },
                );
                match entries.iter_mut().find(|(id, _)| *id == holder.incident.id) {
                    Some((_, list)) => list.push(entry),
                    None => entries.push((holder.incident.id, vec![entry])),
                }
            }
        }
        outcome.incidents = entries.len();
        // Each incident records its new matches; one changed meanwhile is read again once.
        for (id, timeline) in entries {
            for attempt in 0..2 {
                let stored = self.load(id).await?;
                let mut incident = stored.incident.clone();
                incident.updated_at = self.now;
                let mut write = self.write(&stored, incident, "incident.events_matched");
                write.timeline = timeline.clone();
                match self.store.write_incidents(self.actor, &[write]).await {
                    Ok(_) => break,
                    Err(StoreError::Conflict { .. }) if attempt == 0 => continue,
                    Err(error) => return Err(error.into()),
                }
            }
        }
        Ok(outcome)
    }

    /// Adds an evidence item whose bytes are in the blob store already.
    pub async fn add_evidence(
        &self,
        id: Uuid,
        item: NewEvidence,
        limits: &EvidenceLimits,
    ) -> Result<neretva_incident::evidence::Evidence> {
        let stored = self.load(id).await?;
        let existing = self.store.incident_evidence(id).await?;
        let (evidence, entry, custody) = item.add(id, &existing, limits, self.user, self.now)?;
        let mut incident = stored.incident.clone();
        incident.updated_at = self.now;
        let mut write = self.write(&stored, incident, "incident.evidence.add");
        write.timeline.push(entry);
        write.evidence.push(evidence.clone());
        write.custody.push(custody);
        self.commit(write).await?;
        Ok(evidence)
    }

    /// Records an access to an evidence item in its chain of custody.
    pub async fn custody(
        &self,
        id: Uuid,
        sha256: Sha256,
        action: CustodyAction,
        detail: Option<String>,
    ) -> Result<()> {
        let event = CustodyEvent { incident_id: id, sha256, action, actor: self.user, at: self.now, detail };
        self.store.record_custody(self.actor, &event).await?;
        Ok(())
    }
}

/// Observables of open incidents examined at most by one re-match.
pub const MAX_OPEN_OBSERVABLES: u32 = 100_000;

/// Feed events examined at most by one re-match; past it the outcome is not complete.
pub const MAX_REMATCH_EVENTS: u64 = 1_000_000;

/// Which stored feed events a re-match examines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RematchScope {
    /// The events of one feed report (after it was ingested or re-parsed).
    Report(Uuid),
    /// Events whose time (source, else observation) is at or after this instant.
    Since(Timestamp),
}

/// What a re-match did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RematchOutcome {
    /// Observables of open incidents matched against.
    pub observables: usize,
    pub events_examined: u64,
    /// False when the examination stopped at its bound.
    pub complete: bool,
    /// Observables with newly linked events.
    pub matched_observables: usize,
    /// Links added (event to observable).
    pub linked: u64,
    /// Incidents that recorded new matches in their timelines.
    pub incidents: usize,
}

/// Links the events of a report just ingested (or re-parsed) to the observables of open
/// incidents they match, as the system; the pipeline's hook after every stored report. Reports
/// that stored no events cost one listing of open observables at most.
pub async fn rematch_report(
    store: &dyn Store,
    registry: &RegistrySnapshot,
    deadlines: DeadlineConfig,
    report: Uuid,
) -> Result<RematchOutcome> {
    let actor = Actor::system();
    let ops =
        Ops { store, actor: &actor, user: None, now: neretva_store::encode::now(), deadlines, registry };
    let outcome = ops.rematch(RematchScope::Report(report)).await?;
    if outcome.linked > 0 {
        tracing::info!(
            %report,
            linked = outcome.linked,
            observables = outcome.matched_observables,
            incidents = outcome.incidents,
            "New feed events matched observables of open incidents."
        );
    }
    Ok(outcome)
}

/// What a note on the timeline is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    Comment,
    /// Something done outside the platform.
    Action,
    /// The CSIRT's answer to the reporting entity (NIS2 Art. 23(5)): meets the feedback deadline.
    Feedback,
}

/// An upload's evidence description, checked before the bytes are stored.
pub fn new_evidence(
    sha256: Sha256,
    size: u64,
    filename: Option<String>,
    content_type: String,
    description: Option<String>,
) -> NewEvidence {
    NewEvidence { sha256, size, filename, content_type, description, source: EvidenceSource::Upload }
}

/// The organisation owning the domain of a message's sender, by the constituency's assets, when
/// exactly one does.
pub fn sender_org(registry: &crate::registry::RegistrySnapshot, raw: &[u8]) -> Option<Uuid> {
    let mail = neretva_mail::parse(raw, &MailLimits::default()).ok()?;
    let domain = mail.from.address.rsplit_once('@')?.1;
    let query: neretva_model::lookup::LookupQuery = domain.parse().ok()?;
    let mut owners = Vec::new();
    registry.index.add_owners(&query, &mut owners);
    (owners.len() == 1).then(|| owners[0])
}

/// The classification an incident opened from feed events gets: the events' RSIT type when
/// they agree, else undetermined.
pub fn class_of_events(types: &[&str]) -> RsitClass {
    let mut classes = types.iter().filter_map(|t| RsitClass::from_event_type(t));
    match classes.next() {
        Some(first) if classes.all(|class| class == first) => first,
        _ => RsitClass::undetermined(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_observables_are_looked_for_by_host() {
        let url = Observable::parse(ObservableKind::Url, "https://Login.Example.net:8443/a?b").unwrap();
        assert_eq!(event_text(&url), "login.example.net");
        let domain = Observable::parse(ObservableKind::Domain, "example.net").unwrap();
        assert_eq!(event_text(&domain), "example.net");
    }

    #[test]
    fn events_of_one_type_classify_an_incident() {
        assert_eq!(class_of_events(&["phishing", "phishing"]).slug(), "phishing");
        assert_eq!(class_of_events(&["phishing", "ddos"]), RsitClass::undetermined());
        assert_eq!(class_of_events(&[]), RsitClass::undetermined());
    }
}
