//! Stories of incident handling's storage: incidents and their writes, versions and conflicts,
//! tasks, observables and their matches, links, evidence and custody, the listing filters and
//! the queue, incident reports, e-mail intake, merges, and competent authorities' sectors.

use std::sync::Arc;

use neretva_incident::deadline::DeadlineInput;
use neretva_incident::evidence::{
    CustodyAction, CustodyEvent, Evidence, EvidenceSource, NewEvidence, Sha256, verify_custody,
};
use neretva_incident::incident::{Change, Incident, IncidentDraft, IncidentSource, Severity};
use neretva_incident::intake::intake;
use neretva_incident::link::{Link, LinkKind};
use neretva_incident::merge::{IncidentCase, merge};
use neretva_incident::observable::{Observable, ObservableEntry, ObservableKind};
use neretva_incident::playbook::{TaskStatus, seed_tasks};
use neretva_incident::report::IncidentReport;
use neretva_incident::timeline::{TimelineEntry, TimelineKind};
use neretva_incident::workflow::Status;
use neretva_mail::MailLimits;
use neretva_model::Timestamp;
use neretva_model::tlp::Tlp;
use neretva_model::user::Role;
use neretva_store::incidents::{
    Children, IncidentCursor, IncidentOrder, IncidentQuery, IncidentReportQuery, IncidentScope,
    IncidentWrite, IntakeQuery, MatchSummary, MatchedEvent, ObservableMatches, ObservableWrite,
    ReportChannel, StoredIncident, StoredIncidentReport, StoredIntake,
};
use neretva_store::{AuditQuery, Store, StoreError, UserPatch, verify_audit};
use uuid::Uuid;

use crate::{
    Harness, admin, assert_chain_intact, assert_conflict, assert_not_found, at, new_user, org_fields,
};

// Fixtures.

/// A draft reported by `org` (which it affects), aware at `at(0)`.
fn draft(title: &str, org: Option<Uuid>) -> IncidentDraft {
    let mut draft = IncidentDraft::titled(title);
    draft.classification = "phishing".parse().expect("class");
    draft.reporter_org = org;
    draft.affected_orgs = org.into_iter().collect();
    draft.aware_at = Some(at(0));
    draft
}

/// The write that creates an incident opened at `at(seconds)`, with its playbook tasks.
fn create(draft: IncidentDraft, seconds: i64, next_due: Option<Timestamp>) -> IncidentWrite {
    let now = at(seconds);
    let (incident, created) =
        Incident::open(Uuid::now_v7(), draft, IncidentSource::Analyst, None, now).expect("valid draft");
    let tasks = seed_tasks(incident.id, incident.classification, now, Uuid::now_v7);
    let mut write = IncidentWrite::new(incident, None, "incident.create");
    write.timeline = vec![created];
    write.tasks = tasks;
    write.deadlines = Some(DeadlineInput::aware_at(at(0)));
    write.next_due = next_due;
    write
}

async fn created(store: &dyn Store, write: IncidentWrite) -> StoredIncident {
    store.write_incidents(&admin(), &[write]).await.expect("create").remove(0)
}

fn observable(kind: ObservableKind, value: &str) -> Observable {
    Observable::parse(kind, value).expect("observable")
}

fn entry(observable: Observable, seconds: i64) -> ObservableEntry {
    ObservableEntry::new(observable, true, Some("seen in the logs".into()), None, at(seconds))
        .expect("entry")
        .0
}

fn evidence_of(incident: Uuid, bytes: &[u8], seconds: i64) -> Evidence {
    let new = NewEvidence {
        sha256: Sha256::of(bytes),
        size: bytes.len() as u64,
        filename: Some("firewall.log".into()),
        content_type: "text/plain".into(),
        description: None,
        source: EvidenceSource::Upload,
    };
    new.add(incident, &[], &Default::default(), None, at(seconds)).expect("evidence").0
}

fn ids(incidents: &[StoredIncident]) -> Vec<Uuid> {
    incidents.iter().map(|stored| stored.incident.id).collect()
}

async fn list(store: &dyn Store, query: IncidentQuery) -> Vec<Uuid> {
    ids(&store.list_incidents(&query).await.expect("list"))
}

// Stories.

/// An incident is created, read back whole, changed under its version, and refused when stale.
pub async fn incident_writes_and_versions(store: &dyn Store) {
    let org = store.create_org(&admin(), &org_fields("EP", "Elektroprenos")).await.expect("org");
    let write = create(draft("Phishing against customers", Some(org.id)), 0, Some(at(86_400)));
    let (tasks, created_entry) = (write.tasks.clone(), write.timeline[0].clone());
    let stored = created(store, write.clone()).await;
    assert_eq!(stored.version, 1);
    assert_eq!(store.get_incident(stored.incident.id).await.expect("get"), Some(stored.clone()));
    assert_eq!(store.incident_tasks(stored.incident.id).await.expect("tasks"), tasks);
    assert_eq!(store.incident_timeline(stored.incident.id).await.expect("timeline"), vec![created_entry]);
    assert_conflict(store.write_incidents(&admin(), &[write]).await, "id");

    // A transition under the read version moves it on; the same write again is stale.
    let analyst = Uuid::now_v7();
    let mut next = stored.incident.clone();
    let moved = next.transition(Status::Triage, Some(analyst), at(60)).expect("transition");
    let assigned =
        next.apply(Change::Assign { assignee: Some(analyst) }, Some(analyst), at(60)).expect("assign");
    let mut write = IncidentWrite::new(next.clone(), Some(1), "incident.transition");
    write.timeline = [Some(moved), assigned].into_iter().flatten().collect();
    let mut task = tasks[0].clone();
    write.timeline.extend(task.set_status(TaskStatus::Done, Some(analyst), at(61)));
    write.tasks = vec![task.clone()];
    let stored = store.write_incidents(&admin(), &[write.clone()]).await.expect("write").remove(0);
    assert_eq!((stored.version, stored.incident.status), (2, Status::Triage));
    assert_conflict(store.write_incidents(&admin(), &[write]).await, "version");
    let timeline = store.incident_timeline(next.id).await.expect("timeline");
    assert_eq!(timeline.len(), 4, "the stale write added nothing: {timeline:?}");
    let tasks_now = store.incident_tasks(next.id).await.expect("tasks");
    assert_eq!(tasks_now.len(), tasks.len(), "a task is replaced, not added");
    assert_eq!(tasks_now[0], task);
    let missing =
        IncidentWrite::new(Incident { id: Uuid::now_v7(), ..next.clone() }, Some(1), "incident.update");
    assert_not_found(store.write_incidents(&admin(), &[missing]).await, "incident");

    // A batch is all or nothing: a stale second write undoes the first.
    let mut first = next.clone();
    first.apply(Change::Severity { severity: Severity::High }, None, at(70)).expect("severity");
    let batch = [
        IncidentWrite::new(first, Some(2), "incident.update"),
        IncidentWrite::new(next.clone(), Some(1), "incident.update"),
    ];
    assert_conflict(store.write_incidents(&admin(), &batch).await, "version");
    assert_eq!(store.get_incident(next.id).await.expect("get").expect("stored").version, 2);

    // Text a database cannot hold is refused, naming the field.
    let mut nul = next.clone();
    nul.title = "a\0b".into();
    assert_conflict(store.write_incidents(&admin(), &[IncidentWrite::new(nul, Some(2), "x")]).await, "title");

    let actions: Vec<String> = store
        .list_audit(&AuditQuery { object_id: Some(next.id.to_string()), ..AuditQuery::default() })
        .await
        .expect("audit")
        .into_iter()
        .map(|entry| entry.event.action)
        .collect();
    assert_eq!(actions, ["incident.create", "incident.transition"]);
}

/// Observables are added with their matching events, searched, and removed.
pub async fn incident_observables(store: &dyn Store) {
    let first = created(store, create(draft("Fake login page", None), 0, None)).await.incident;
    let second = created(store, create(draft("Second wave of mail", None), 1, None)).await.incident;
    let domain = observable(ObservableKind::Domain, "login-banka.example.net");
    let address = observable(ObservableKind::Ipv4, "192.0.2.7");
    let events: Vec<MatchedEvent> = (0..3)
        .map(|n| MatchedEvent { event_id: Uuid::from_u128(900 + n), fields: vec!["source.fqdn".into()] })
        .collect();
    let summary = MatchSummary { total: 3, complete: true, matched_at: at(5) };
    let mut write = IncidentWrite::new(first.clone(), Some(1), "incident.observable.add");
    write.observables = vec![
        ObservableWrite {
            entry: entry(domain.clone(), 5),
            matches: Some(ObservableMatches { events: events.clone(), summary }),
        },
        ObservableWrite { entry: entry(address.clone(), 6), matches: None },
    ];
    store.write_incidents(&admin(), &[write]).await.expect("observables");
    let mut write = IncidentWrite::new(second.clone(), Some(1), "incident.observable.add");
    write.observables = vec![ObservableWrite { entry: entry(domain.clone(), 7), matches: None }];
    store.write_incidents(&admin(), &[write]).await.expect("observables");

    let stored = store.incident_observables(first.id).await.expect("observables");
    let values: Vec<&str> = stored.iter().map(|o| o.entry.observable.value()).collect();
    assert_eq!(values, ["login-banka.example.net", "192.0.2.7"]);
    assert_eq!(stored[0].matches, Some(summary));
    assert_eq!(stored[1].matches, None);
    // Matches belong to the observable: the second incident shares them.
    let shared = store.incident_observables(second.id).await.expect("observables");
    assert_eq!(shared[0].matches, Some(summary));
    let matches = store.observable_matches(&domain).await.expect("matches").expect("matched");
    let mut expected = events.clone();
    expected.reverse();
    assert_eq!(matches.events, expected, "newest event first");
    assert_eq!(store.observable_matches(&address).await.expect("matches"), None);

    // Search: the observable filter, and text in titles and observable values, any case.
    let by_observable = IncidentQuery { observable: Some(domain.clone()), ..IncidentQuery::default() };
    assert_eq!(list(store, by_observable).await, [second.id, first.id]);
    let by_text = IncidentQuery { text: Some("LOGIN".into()), ..IncidentQuery::default() };
    assert_eq!(list(store, by_text).await, [second.id, first.id]);
    let by_address = IncidentQuery { text: Some("192.0.2.7".into()), ..IncidentQuery::default() };
    assert_eq!(list(store, by_address).await, [first.id]);
    let wildcard = IncidentQuery { text: Some("%".into()), ..IncidentQuery::default() };
    assert_eq!(list(store, wildcard).await, Vec::<Uuid>::new(), "LIKE wildcards are literal");

    // Removing one takes it out of the search too.
    let mut write = IncidentWrite::new(first.clone(), Some(2), "incident.observable.remove");
    write.removed_observables = vec![address.clone()];
    store.write_incidents(&admin(), &[write]).await.expect("remove");
    assert_eq!(store.incident_observables(first.id).await.expect("observables").len(), 1);
    let by_address = IncidentQuery { text: Some("192.0.2.7".into()), ..IncidentQuery::default() };
    assert_eq!(list(store, by_address).await, Vec::<Uuid>::new());
}

/// Evidence is stored once per incident, and its custody chain grows and verifies.
pub async fn incident_evidence_and_custody(store: &dyn Store) {
    let incident = created(store, create(draft("Ransomware note", None), 0, None)).await.incident;
    let item = evidence_of(incident.id, b"log line", 10);
    let first = neretva_incident::evidence::next_custody(
        None,
        CustodyEvent {
            incident_id: incident.id,
            sha256: item.sha256,
            action: CustodyAction::Added,
            actor: None,
            at: at(10),
            detail: None,
        },
    );
    let mut write = IncidentWrite::new(incident.clone(), Some(1), "incident.evidence.add");
    write.evidence = vec![item.clone()];
    write.custody = vec![first];
    store.write_incidents(&admin(), &[write.clone()]).await.expect("evidence");
    write.expected_version = Some(2);
    write.custody.clear();
    assert_conflict(store.write_incidents(&admin(), &[write]).await, "sha256");
    assert_eq!(store.incident_evidence(incident.id).await.expect("evidence"), vec![item.clone()]);

    let analyst = Uuid::now_v7();
    for (action, seconds) in [(CustodyAction::Viewed, 20), (CustodyAction::Downloaded, 30)] {
        let event = CustodyEvent {
            incident_id: incident.id,
            sha256: item.sha256,
            action,
            actor: Some(analyst),
            at: at(seconds),
            detail: None,
        };
        store.record_custody(&admin(), &event).await.expect("custody");
    }
    let exported = CustodyEvent {
        incident_id: incident.id,
        sha256: item.sha256,
        action: CustodyAction::Exported,
        actor: Some(analyst),
        at: at(40),
        detail: Some("to the police, case 12/26".into()),
    };
    let record = store.record_custody(&admin(), &exported).await.expect("export");
    assert_eq!(record.seq, 4);
    let chain = store.custody(incident.id, &item.sha256).await.expect("chain");
    assert_eq!(chain.len(), 4);
    assert_eq!(verify_custody(&chain), Ok(()));
    let unknown = CustodyEvent { sha256: Sha256::of(b"other"), ..exported };
    assert_not_found(store.record_custody(&admin(), &unknown).await, "evidence");
    let blobs = store.blobs().await.expect("blobs");
    assert_eq!(blobs.len(), 1);
    assert_eq!((blobs[0].sha256, blobs[0].size), (item.sha256, 8));
    let audited = store
        .list_audit(&AuditQuery { action: Some("evidence.exported".into()), ..AuditQuery::default() })
        .await
        .expect("audit");
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].event.digest, record.hash);
}

/// Links are stored once whichever way they are written, and read from both sides.
pub async fn incident_links(store: &dyn Store) {
    let parent = created(store, create(draft("Campaign", None), 0, None)).await.incident;
    let child = created(store, create(draft("One victim", None), 1, None)).await.incident;
    let link = Link { from: parent.id, to: child.id, kind: LinkKind::ParentOf };
    let mut write = IncidentWrite::new(parent.clone(), Some(1), "incident.link");
    write.links = vec![link];
    store.write_incidents(&admin(), &[write]).await.expect("link");
    assert_eq!(store.incident_links(parent.id).await.expect("links"), vec![link]);
    assert_eq!(store.incident_links(child.id).await.expect("links"), vec![link.reversed()]);
    let mut again = IncidentWrite::new(child.clone(), Some(1), "incident.link");
    again.links = vec![Link { from: child.id, to: parent.id, kind: LinkKind::Related }];
    assert_conflict(store.write_incidents(&admin(), &[again]).await, "link");
    let mut remove = IncidentWrite::new(child.clone(), Some(1), "incident.unlink");
    remove.removed_links = vec![link.reversed()];
    store.write_incidents(&admin(), &[remove]).await.expect("unlink");
    assert_eq!(store.incident_links(parent.id).await.expect("links"), vec![]);
}

/// Every filter of the listing, the visibility scope, paging and the analyst queue.
pub async fn incident_listing_and_queue(store: &dyn Store) {
    let energy = store.create_org(&admin(), &org_fields("EP", "Elektroprenos")).await.expect("org");
    let mut health_fields = org_fields("KC", "Klinicki centar");
    health_fields.sector = Some("health".into());
    health_fields.subsector = None;
    let health = store.create_org(&admin(), &health_fields).await.expect("org");
    let analyst = Uuid::now_v7();

    // a: energy, amber+strict, due in 2 h; b: health, green, due in 1 h; c: nobody's, no deadline;
    // d: energy, resolved; e: health, assigned to the analyst, due in 3 h.
    let a = created(store, create(draft("Alpha", Some(energy.id)), 0, Some(at(7_200)))).await.incident;
    let mut green = draft("Bravo", Some(health.id));
    green.tlp = Tlp::Green;
    green.severity = Severity::Critical;
    let b = created(store, create(green, 1, Some(at(3_600)))).await.incident;
    let c = created(store, create(draft("Charlie", None), 2, None)).await.incident;
    let mut write = create(draft("Delta", Some(energy.id)), 3, Some(at(60)));
    for to in [Status::Triage, Status::Resolved] {
        write.incident.transition(to, None, at(4)).expect("transition");
    }
    let d = created(store, write).await.incident;
    let mut write = create(draft("Echo", Some(health.id)), 5, Some(at(10_800)));
    write.incident.assignee = Some(analyst);
    let e = created(store, write).await.incident;

    let all = list(store, IncidentQuery::default()).await;
    assert_eq!(all, [e.id, d.id, c.id, b.id, a.id], "newest first");
    let query = |edit: &dyn Fn(&mut IncidentQuery)| {
        let mut query = IncidentQuery::default();
        edit(&mut query);
        query
    };
    assert_eq!(list(store, query(&|q| q.statuses = vec![Status::Resolved])).await, [d.id]);
    assert_eq!(list(store, query(&|q| q.severity = Some(Severity::Critical))).await, [b.id]);
    assert_eq!(list(store, query(&|q| q.org_id = Some(energy.id))).await, [d.id, a.id]);
    assert_eq!(list(store, query(&|q| q.assignee = Some(analyst))).await, [e.id]);
    assert_eq!(list(store, query(&|q| q.created_since = Some(at(2)))).await, [e.id, d.id, c.id]);
    assert_eq!(list(store, query(&|q| q.created_until = Some(at(2)))).await, [b.id, a.id]);
    let class = "ddos".parse().expect("class");
    assert_eq!(list(store, query(&|q| q.classification = Some(class))).await, Vec::<Uuid>::new());

    // Scopes: shared (green) incidents, the organisations', the sectors', the assignee's.
    let scoped = |scope: IncidentScope| query(&move |q| q.scope = Some(scope.clone()));
    assert_eq!(list(store, scoped(IncidentScope::default())).await, [b.id]);
    let energy_scope = IncidentScope { org_ids: vec![energy.id], ..IncidentScope::default() };
    assert_eq!(list(store, scoped(energy_scope)).await, [d.id, b.id, a.id]);
    let health_sector = IncidentScope { sectors: vec!["health".into()], ..IncidentScope::default() };
    assert_eq!(list(store, scoped(health_sector)).await, [e.id, b.id]);
    let assigned = IncidentScope { user_id: Some(analyst), ..IncidentScope::default() };
    assert_eq!(list(store, scoped(assigned)).await, [e.id, b.id]);

    // Pages of two, newest first.
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_incidents(&IncidentQuery { limit: 2, after, ..IncidentQuery::default() })
            .await
            .expect("page");
        let Some(last) = page.last() else { break };
        after = Some(IncidentCursor { id: last.incident.id, next_due: last.next_due });
        pages.push(ids(&page));
    }
    assert_eq!(pages, [vec![e.id, d.id], vec![c.id, b.id], vec![a.id]]);

    // The queue: open incidents only, the earliest deadline first, none last; paged the same.
    let queue = IncidentQuery { order: IncidentOrder::Queue, ..IncidentQuery::default() };
    assert_eq!(list(store, queue.clone()).await, [b.id, a.id, e.id, c.id]);
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let page =
            store.list_incidents(&IncidentQuery { limit: 1, after, ..queue.clone() }).await.expect("page");
        let Some(last) = page.last() else { break };
        after = Some(IncidentCursor { id: last.incident.id, next_due: last.next_due });
        pages.extend(ids(&page));
    }
    assert_eq!(pages, [b.id, a.id, e.id, c.id]);
    let due_soon = IncidentQuery { due_before: Some(at(7_200)), ..queue.clone() };
    assert_eq!(list(store, due_soon).await, [b.id], "the deadline feed: due before a time");
    let stored = store.get_incident(b.id).await.expect("get").expect("stored");
    assert_eq!(stored.next_due, Some(at(3_600)));
}

/// A report opens an incident in the same transaction, a follow-up joins it, and listings
/// respect the scope.
pub async fn incident_reports(store: &dyn Store) {
    let energy = store.create_org(&admin(), &org_fields("EP", "Elektroprenos")).await.expect("org");
    let other = store.create_org(&admin(), &org_fields("HEP", "Other power")).await.expect("org");
    let early: IncidentReport = serde_json::from_value(serde_json::json!({
        "title": "Phishing site impersonating our e-banking",
        "aware_at": "2026-11-28T10:00:00Z",
        "stage": {"kind": "early_warning", "suspected_malicious": "yes", "summary": "A fake login page."}
    }))
    .expect("report");
    let write = create(early.to_draft(Some(energy.id)), 0, None);
    let incident_id = write.incident.id;
    let report = StoredIncidentReport {
        id: Uuid::now_v7(),
        incident_id,
        org_id: Some(energy.id),
        submitted_by: None,
        channel: ReportChannel::Api,
        received_at: at(0),
        report: early.clone(),
    };
    let stored = store.submit_incident_report(&admin(), &report, &[write]).await.expect("submit");
    assert_eq!(stored, report);
    assert!(store.get_incident(incident_id).await.expect("get").is_some(), "opened with the report");
    assert_eq!(store.get_incident_report(report.id).await.expect("get"), Some(report.clone()));

    let mut follow_up = early.clone();
    follow_up.incident_id = Some(incident_id);
    follow_up.tlp = Tlp::Clear;
    let incident = store.get_incident(incident_id).await.expect("get").expect("stored").incident;
    let received = TimelineEntry::new(
        at(10),
        None,
        TimelineKind::ReportReceived { report: Uuid::now_v7(), stage: early.stage.kind() },
    );
    let mut write = IncidentWrite::new(incident, Some(1), "incident.report");
    write.timeline = vec![received];
    let second =
        StoredIncidentReport { id: Uuid::now_v7(), received_at: at(10), report: follow_up, ..report.clone() };
    store.submit_incident_report(&admin(), &second, &[write]).await.expect("follow-up");
    let by_incident =
        IncidentReportQuery { incident_id: Some(incident_id), ..IncidentReportQuery::default() };
    let found = store.list_incident_reports(&by_incident).await.expect("list");
    assert_eq!(found.iter().map(|r| r.id).collect::<Vec<_>>(), [second.id, report.id]);
    let mine = IncidentScope { org_ids: vec![energy.id], ..IncidentScope::default() };
    let theirs = IncidentScope { org_ids: vec![other.id], ..IncidentScope::default() };
    let regulator = IncidentScope { sectors: vec!["energy".into()], ..IncidentScope::default() };
    for (scope, expected) in [(mine, 2), (theirs, 1), (regulator, 2)] {
        let query = IncidentReportQuery { scope: Some(scope), ..IncidentReportQuery::default() };
        assert_eq!(store.list_incident_reports(&query).await.expect("list").len(), expected);
    }
    let paged = IncidentReportQuery { before: Some(second.id), limit: 5, ..IncidentReportQuery::default() };
    assert_eq!(store.list_incident_reports(&paged).await.expect("list").len(), 1);

    // A report for an incident that does not exist writes nothing.
    let orphan = StoredIncidentReport { id: Uuid::now_v7(), incident_id: Uuid::now_v7(), ..report.clone() };
    assert!(store.submit_incident_report(&admin(), &orphan, &[]).await.is_err());
    assert_eq!(store.get_incident_report(orphan.id).await.expect("get"), None);
}

/// E-mail intake: a parsed message opens an incident, a malformed one is kept with its reason.
pub async fn mail_intake(store: &dyn Store) {
    let raw =
        b"From: soc@ep.example.ba\nTo: incident@cert.example.ba\nSubject: Fake bank page\n\nSee the link.\n";
    let parsed = intake(Uuid::now_v7(), raw, "incident.eml", at(0), &MailLimits::default());
    let mut opened = create(parsed.draft(None).expect("draft"), 0, None);
    opened.incident.source = IncidentSource::Email { intake_id: parsed.id };
    let incident_id = opened.incident.id;
    let stored = StoredIntake { record: parsed.clone(), incident_id: Some(incident_id) };
    store.record_intake(&admin(), &stored, &[opened]).await.expect("intake");
    let failed =
        intake(Uuid::now_v7(), b"\x00\x01 not a message", "broken.eml", at(1), &MailLimits::default());
    assert!(failed.mail().is_none());
    let failed = StoredIntake { record: failed, incident_id: None };
    store.record_intake(&admin(), &failed, &[]).await.expect("failed intake is kept");

    assert_eq!(store.get_intake(parsed.id).await.expect("get"), Some(stored.clone()));
    let all = store.list_intakes(&IntakeQuery::default()).await.expect("list");
    assert_eq!(all, [failed.clone(), stored.clone()]);
    let only_failed = IntakeQuery { failed: Some(true), ..IntakeQuery::default() };
    assert_eq!(store.list_intakes(&only_failed).await.expect("list"), std::slice::from_ref(&failed));
    let blobs = store.blobs().await.expect("blobs");
    assert_eq!(blobs.len(), 2, "both raw messages are kept");
    assert!(store.get_incident(incident_id).await.expect("get").is_some());
}

/// Merging writes both incidents whole in one transaction: the source's observables, tasks,
/// evidence and links move, its timeline stays, and it points to the target.
pub async fn incident_merge(store: &dyn Store) {
    let target = created(store, create(draft("Phishing", None), 0, None)).await.incident;
    let source_write = create(draft("Same phishing again", None), 1, None);
    let source = created(store, source_write).await.incident;
    let third = created(store, create(draft("Unrelated", None), 2, None)).await.incident;
    let mut write = IncidentWrite::new(source.clone(), Some(1), "incident.update");
    write.observables = vec![ObservableWrite {
        entry: entry(observable(ObservableKind::Domain, "bad.example"), 3),
        matches: None,
    }];
    write.evidence = vec![evidence_of(source.id, b"screenshot", 3)];
    write.links = vec![Link { from: source.id, to: third.id, kind: LinkKind::Related }];
    store.write_incidents(&admin(), &[write]).await.expect("source");

    let case = |id: Uuid| async move {
        let stored = store.get_incident(id).await.expect("get").expect("stored");
        let case = IncidentCase {
            incident: stored.incident,
            observables: store
                .incident_observables(id)
                .await
                .expect("observables")
                .into_iter()
                .map(|o| o.entry)
                .collect(),
            tasks: store.incident_tasks(id).await.expect("tasks"),
            timeline: store.incident_timeline(id).await.expect("timeline"),
            links: store.incident_links(id).await.expect("links"),
            evidence: store.incident_evidence(id).await.expect("evidence"),
        };
        (case, stored.version)
    };
    let (target_case, target_version) = case(target.id).await;
    let (source_case, source_version) = case(source.id).await;
    let merged = merge(target_case, source_case, None, at(100)).expect("merge");
    let whole = |case: &IncidentCase, version: i64, action: &str| {
        let mut write = IncidentWrite::new(case.incident.clone(), Some(version), action);
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
    let mut target_write = whole(&merged.target, target_version, "incident.merge");
    target_write.custody = merged.custody.clone();
    let source_write = whole(&merged.source, source_version, "incident.merged");
    store.write_incidents(&admin(), &[target_write, source_write]).await.expect("merge");

    let (target_after, _) = case(target.id).await;
    let (source_after, _) = case(source.id).await;
    assert_eq!(source_after.incident.merged_into, Some(target.id));
    assert_eq!(source_after.incident.status, Status::Closed);
    assert!(source_after.observables.is_empty() && source_after.evidence.is_empty());
    assert!(source_after.links.is_empty() && source_after.tasks.is_empty());
    assert_eq!(target_after.observables.len(), 1);
    assert_eq!(target_after.evidence.len(), 1);
    assert_eq!(target_after.links, [Link { from: target.id, to: third.id, kind: LinkKind::Related }]);
    assert_eq!(target_after.timeline, merged.target.timeline);
    let sha256 = target_after.evidence[0].sha256;
    assert_eq!(verify_custody(&store.custody(target.id, &sha256).await.expect("chain")), Ok(()));
    let open = IncidentQuery { exclude_merged: true, ..IncidentQuery::default() };
    assert_eq!(list(store, open).await, [third.id, target.id]);
}

/// Two analysts change the status of one incident at once: one wins, the other gets a conflict
/// on `version`, and the timeline records one change.
pub async fn incident_concurrent_transitions(harness: &dyn Harness) {
    let store = harness.store();
    let incident = created(store, create(draft("Contested", None), 0, None)).await.incident;
    let mut tasks = tokio::task::JoinSet::new();
    // Both read before either writes.
    let read = Arc::new(tokio::sync::Barrier::new(2));
    for (analyst, to) in [(1u128, Status::Triage), (2, Status::Triage)] {
        let other: Arc<dyn Store> = harness.reopen().await.expect("open another store");
        let id = incident.id;
        let read = Arc::clone(&read);
        tasks.spawn(async move {
            let stored = other.get_incident(id).await.expect("get").expect("stored");
            read.wait().await;
            let mut next = stored.incident.clone();
            let entry = next.transition(to, Some(Uuid::from_u128(analyst)), at(10)).expect("transition");
            let mut write = IncidentWrite::new(next, Some(stored.version), "incident.transition");
            write.timeline = vec![entry];
            other.write_incidents(&admin(), &[write]).await
        });
    }
    let mut outcomes = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        outcomes.push(joined.expect("task"));
    }
    let won = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
    assert_eq!(won, 1, "{outcomes:?}");
    let lost = outcomes.into_iter().find(Result::is_err).expect("a loser");
    assert!(matches!(lost, Err(StoreError::Conflict { ref field, .. }) if field == "version"), "{lost:?}");
    let stored = store.get_incident(incident.id).await.expect("get").expect("stored");
    assert_eq!((stored.version, stored.incident.status), (2, Status::Triage));
    let changes = store
        .incident_timeline(incident.id)
        .await
        .expect("timeline")
        .into_iter()
        .filter(|entry| matches!(entry.kind, TimelineKind::StatusChanged { .. }))
        .count();
    assert_eq!(changes, 1);
    assert_chain_intact(&verify_audit(store).await.expect("verify"), 2);
}

/// A competent authority's sectors are stored with the user and changed with a patch.
pub async fn authority_users(store: &dyn Store) {
    let ministry = store.create_org(&admin(), &org_fields("MIN", "Ministry")).await.expect("org");
    let mut new = new_user(ministry.id, "regulator");
    new.role = Role::Authority;
    new.sectors = vec!["energy".into(), "health".into()];
    let user = store.create_user(&admin(), &new).await.expect("user");
    assert_eq!(user.sectors, ["energy", "health"]);
    assert_eq!(store.get_user(user.id).await.expect("get").expect("stored"), user);
    let patch = UserPatch { sectors: Some(vec!["banking".into()]), ..UserPatch::default() };
    let user = store.update_user(&admin(), user.id, &patch).await.expect("patch");
    assert_eq!(store.find_user("regulator").await.expect("find").expect("stored").sectors, ["banking"]);
    assert_eq!(user.role, Role::Authority);
}

/// A batch of writes to many incidents with many children is stored whole, in order, under each
/// incident's version; a batch naming one incident twice applies its writes one after the other;
/// a stale version anywhere refuses the whole batch.
pub async fn incident_batch_writes(store: &dyn Store) {
    let org = store.create_org(&admin(), &org_fields("BT", "Batch telecom")).await.expect("org");
    let writes: Vec<IncidentWrite> = (0..30)
        .map(|n| {
            let mut write = create(draft(&format!("Batch {n}"), Some(org.id)), n, Some(at(3_600 + n)));
            write.observables = (0..12)
                .map(|k| ObservableWrite {
                    entry: entry(observable(ObservableKind::Ipv4, &format!("198.51.{n}.{k}")), n),
                    matches: (k == 0).then(|| ObservableMatches {
                        events: vec![MatchedEvent {
                            event_id: Uuid::from_u128(5_000 + n as u128),
                            fields: vec!["source.ip".into()],
                        }],
                        summary: MatchSummary { total: 1, complete: true, matched_at: at(n) },
                    }),
                })
                .collect();
            for k in 0..5 {
                write.timeline.push(
                    TimelineEntry::comment(at(n), Uuid::from_u128(1), &format!("note {k}")).expect("comment"),
                );
            }
            write
        })
        .collect();
    let stored = store.write_incidents(&admin(), &writes).await.expect("batch");
    assert_eq!(stored.len(), 30);
    for (write, stored) in writes.iter().zip(&stored) {
        assert_eq!(stored.version, 1);
        assert_eq!(store.get_incident(write.incident.id).await.expect("get"), Some(stored.clone()));
        let observables = store.incident_observables(write.incident.id).await.expect("observables");
        let values: Vec<&str> = observables.iter().map(|o| o.entry.observable.value()).collect();
        let expected: Vec<String> =
            write.observables.iter().map(|o| o.entry.observable.value().to_owned()).collect();
        assert_eq!(values, expected, "in the order given");
        assert_eq!(observables[0].matches.map(|m| m.total), Some(1));
        let timeline = store.incident_timeline(write.incident.id).await.expect("timeline");
        assert_eq!(timeline, write.timeline, "in the order given");
        assert_eq!(store.incident_tasks(write.incident.id).await.expect("tasks"), write.tasks);
    }
    let by_text = IncidentQuery { text: Some("198.51.29.11".into()), ..IncidentQuery::default() };
    assert_eq!(list(store, by_text).await, [stored[29].incident.id], "search text of a batch");
    let by_org = IncidentQuery { org_id: Some(org.id), limit: 100, ..IncidentQuery::default() };
    assert_eq!(list(store, by_org).await.len(), 30);

    // One incident twice in a batch: the second write follows the first.
    let first = stored[0].incident.clone();
    let mut one = IncidentWrite::new(first.clone(), Some(1), "incident.comment");
    one.timeline = vec![TimelineEntry::comment(at(100), Uuid::from_u128(1), "first").expect("comment")];
    let mut two = IncidentWrite::new(first.clone(), Some(2), "incident.comment");
    two.timeline = vec![TimelineEntry::comment(at(101), Uuid::from_u128(1), "second").expect("comment")];
    let twice = store.write_incidents(&admin(), &[one, two]).await.expect("twice");
    assert_eq!(twice.iter().map(|s| s.version).collect::<Vec<_>>(), [2, 3]);
    assert_eq!(
        store.incident_timeline(first.id).await.expect("timeline").len(),
        8,
        "created, five notes and two more"
    );

    // A stale version refuses the whole batch, including the good writes before it.
    let before = store.audit_head().await.expect("head");
    let good = IncidentWrite::new(stored[1].incident.clone(), Some(1), "incident.update");
    let stale = IncidentWrite::new(stored[2].incident.clone(), Some(7), "incident.update");
    assert_conflict(store.write_incidents(&admin(), &[good, stale]).await, "version");
    assert_eq!(store.get_incident(stored[1].incident.id).await.expect("get").map(|s| s.version), Some(1));
    assert_eq!(store.audit_head().await.expect("head"), before, "nothing audited");
    let verification = verify_audit(store).await.expect("verify");
    assert_eq!(verification.broken, None, "the chain is intact");
}

/// Feed events that match observables of open incidents after they were matched: the events
/// are read in one query, the open incidents' observables listed, and new links added once.
pub async fn incident_rematch_storage(store: &dyn Store) {
    use neretva_store::incidents::{MAX_MATCHES, MatchAddition};

    // Events, read back in one query in the order asked; unknown ids are left out.
    let (report, _) = store.store_report(&crate::new_report(1, "rematch", b"lines")).await.expect("report");
    let events: Vec<_> = (0..3).map(|n| crate::new_event(n, report.id, "rematch")).collect();
    store.insert_events(&events).await.expect("events");
    let ids = [events[2].id, Uuid::from_u128(1), events[0].id];
    let read: Vec<Uuid> =
        store.get_events(&ids).await.expect("get_events").iter().map(|e| e.event.id).collect();
    assert_eq!(read, [events[2].id, events[0].id]);
    assert!(store.get_events(&[]).await.expect("none").is_empty());

    // Observables of open incidents only, each once.
    let open = created(store, create(draft("Open", None), 0, None)).await.incident;
    let other = created(store, create(draft("Also open", None), 1, None)).await.incident;
    let mut closed_write = create(draft("Closed", None), 2, None);
    for to in [Status::Triage, Status::Resolved] {
        closed_write.incident.transition(to, None, at(3)).expect("transition");
    }
    let closed = created(store, closed_write).await.incident;
    let shared = observable(ObservableKind::Domain, "login-banka.example.net");
    let only_open = observable(ObservableKind::Ipv4, "192.0.2.7");
    let only_closed = observable(ObservableKind::Ipv4, "203.0.113.9");
    for (incident, list) in [
        (&open, vec![shared.clone(), only_open.clone()]),
        (&other, vec![shared.clone()]),
        (&closed, vec![only_closed.clone()]),
    ] {
        let mut write = IncidentWrite::new(incident.clone(), Some(1), "incident.observable.add");
        write.observables =
            list.into_iter().map(|o| ObservableWrite { entry: entry(o, 4), matches: None }).collect();
        store.write_incidents(&admin(), &[write]).await.expect("observables");
    }
    let listed = store.open_observables(0).await.expect("open observables");
    assert_eq!(listed, [shared.clone(), only_open.clone()]);
    assert_eq!(store.open_observables(1).await.expect("limited"), std::slice::from_ref(&shared));

    // New links are added once: the same events again change nothing.
    let matched = |n: u128| MatchedEvent { event_id: Uuid::from_u128(n), fields: vec!["source.fqdn".into()] };
    let addition = MatchAddition { observable: shared.clone(), events: vec![matched(10), matched(11)] };
    let added =
        store.add_observable_matches(&admin(), std::slice::from_ref(&addition), at(20)).await.expect("add");
    assert_eq!((added[0].linked, added[0].over_limit), (2, 0));
    let summary = store.observable_matches(&shared).await.expect("matches").expect("matched").summary;
    assert_eq!(summary, MatchSummary { total: 2, complete: true, matched_at: at(20) });
    let again = MatchAddition { observable: shared.clone(), events: vec![matched(11), matched(12)] };
    let added = store.add_observable_matches(&admin(), &[addition, again], at(30)).await.expect("again");
    assert_eq!(added.iter().map(|a| a.linked).collect::<Vec<_>>(), [0, 1]);
    let matches = store.observable_matches(&shared).await.expect("matches").expect("matched");
    assert_eq!(matches.summary.total, 3);
    assert_eq!(
        matches.events.iter().map(|e| e.event_id).collect::<Vec<_>>(),
        [Uuid::from_u128(12), Uuid::from_u128(11), Uuid::from_u128(10)]
    );
    let audit = store.list_audit(&AuditQuery::default()).await.expect("audit");
    assert_eq!(audit.iter().filter(|e| e.event.action == "incident.observables.rematch").count(), 2);

    // Past the links kept, the count goes on but becomes a lower bound.
    let many: Vec<MatchedEvent> = (0..MAX_MATCHES as u128 + 5).map(|n| matched(100_000 + n)).collect();
    let added = store
        .add_observable_matches(
            &admin(),
            &[MatchAddition { observable: only_open.clone(), events: many }],
            at(40),
        )
        .await
        .expect("many");
    assert_eq!((added[0].linked, added[0].over_limit), (MAX_MATCHES as u64, 5));
    let matches = store.observable_matches(&only_open).await.expect("matches").expect("matched");
    assert_eq!(
        (matches.events.len(), matches.summary.total, matches.summary.complete),
        (MAX_MATCHES, MAX_MATCHES as u64 + 5, false)
    );
    let verification = verify_audit(store).await.expect("verify");
    assert_eq!(verification.broken, None, "the chain is intact");
}

/// An intel event's correlations with incident observables: the probes find the candidates in
/// the stored observables (an address inside a stored network, a stored address inside a new
/// network, a stored name below a new one and a URL's host, equal hashes), the engine confirms
/// them, and the links are kept with the event until it is written again or deleted.
pub async fn intel_external_correlations(store: &dyn Store) {
    use neretva_intel::model::IntelEvent;
    use neretva_store::intel::{ExternalCorrelations, FeedValue, correlate_external, observable_probes};

    let incident = created(store, create(draft("Intrusion at a bank", None), 0, None)).await.incident;
    let unrelated = created(store, create(draft("Lost laptop", None), 1, None)).await.incident;
    let hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    let mut write = IncidentWrite::new(incident.clone(), Some(1), "incident.observable.add");
    write.observables = [
        (ObservableKind::Cidr, "45.9.148.0/24"),
        (ObservableKind::Ipv4, "91.200.12.7"),
        (ObservableKind::Domain, "mail.evil-cdn.top"),
        (ObservableKind::Url, "http://www.bad-host.top/login"),
        (ObservableKind::Sha256, hash),
    ]
    .into_iter()
    .enumerate()
    .map(|(n, (kind, value))| ObservableWrite {
        entry: entry(observable(kind, value), 2 + n as i64),
        matches: None,
    })
    .collect();
    store.write_incidents(&admin(), &[write]).await.expect("observables");
    let mut write = IncidentWrite::new(unrelated.clone(), Some(1), "incident.observable.add");
    write.observables = vec![ObservableWrite {
        entry: entry(observable(ObservableKind::Ipv4, "45.10.0.1"), 9),
        matches: None,
    }];
    store.write_incidents(&admin(), &[write]).await.expect("observables");

    let owner = store.create_org(&admin(), &org_fields("XCO", "Correlating")).await.expect("org");
    let document = serde_json::json!({ "Event": {
        "uuid": "e1000000-0000-4000-8000-000000000001",
        "info": "Bank intrusion infrastructure",
        "Orgc": { "uuid": "c0000000-0000-4000-8000-000000000001", "name": "CERT" },
        "Attribute": [
            { "uuid": "e1000000-0000-4000-8000-0000000000a1", "type": "ip-dst", "value": "45.9.148.10" },
            { "uuid": "e1000000-0000-4000-8000-0000000000a2", "type": "ip-dst", "value": "91.200.12.0/24" },
            { "uuid": "e1000000-0000-4000-8000-0000000000a3", "type": "domain", "value": "evil-cdn.top" },
            { "uuid": "e1000000-0000-4000-8000-0000000000a4", "type": "domain", "value": "bad-host.top" },
            { "uuid": "e1000000-0000-4000-8000-0000000000a5", "type": "sha256", "value": hash },
            { "uuid": "e1000000-0000-4000-8000-0000000000a6", "type": "ip-dst", "value": "45.10.0.2" },
        ],
    }});
    let context = neretva_intel::misp::ImportContext { now: at(0), default_org: None };
    let imported =
        neretva_intel::misp::parse(&document.to_string(), &context, &neretva_intel::misp::Limits::default())
            .expect("MISP JSON");
    let event: IntelEvent = imported.events.into_iter().next().expect("event");
    store.create_intel_event(&admin(), owner.id, &event).await.expect("intel event");

    let hits = store.find_observables(&observable_probes(&event), 100).await.expect("probes");
    assert!(hits.iter().all(|hit| hit.incident_id == incident.id), "{hits:?}");
    let feed = [FeedValue { event: Uuid::from_u128(77), attr_type: "ip-src", value: "45.9.148.10".into() }];
    let found = correlate_external(&event, &hits, &feed, &Default::default());
    let links: Vec<(String, String, Uuid, &str)> = found
        .links
        .iter()
        .map(|link| {
            (
                link.attribute.to_string()[34..].to_owned(),
                link.detail.clone(),
                link.target,
                link.relation.as_str(),
            )
        })
        .collect();
    assert_eq!(
        links,
        [
            ("a1".to_owned(), "cidr:45.9.148.0/24".to_owned(), incident.id, "network"),
            ("a2".to_owned(), "ipv4:91.200.12.7".to_owned(), incident.id, "network"),
            ("a3".to_owned(), "domain:mail.evil-cdn.top".to_owned(), incident.id, "host"),
            ("a4".to_owned(), "url:http://www.bad-host.top/login".to_owned(), incident.id, "host"),
            ("a5".to_owned(), format!("sha256:{hash}"), incident.id, "exact"),
            ("a1".to_owned(), "45.9.148.10".to_owned(), Uuid::from_u128(77), "exact"),
        ],
        "{found:?}"
    );

    store.put_intel_external_correlations(event.uuid, &found).await.expect("put");
    let stored = store.intel_external_correlations(event.uuid).await.expect("get");
    let mut expected = found.clone();
    expected.links.sort_by(|a, b| {
        (&a.kind, a.attribute, a.target, &a.detail).cmp(&(&b.kind, b.attribute, b.target, &b.detail))
    });
    assert_eq!(stored, expected);
    let missing = store.put_intel_external_correlations(Uuid::from_u128(5), &found).await;
    assert!(matches!(missing, Err(StoreError::NotFound { .. })), "{missing:?}");

    // From the other side: the incident's links, each with its intel event, bounded.
    let to_incident = store.intel_links_to("incident_observable", incident.id, 100).await.expect("links to");
    assert_eq!(to_incident.len(), 5, "{to_incident:?}");
    assert!(to_incident.iter().all(|(owner, link)| *owner == event.uuid && link.target == incident.id));
    let first_two = store.intel_links_to("incident_observable", incident.id, 2).await.expect("links to");
    assert_eq!(first_two, to_incident[..2]);
    let to_feed = store.intel_links_to("feed_event", Uuid::from_u128(77), 100).await.expect("links to");
    assert_eq!(to_feed.iter().map(|(_, link)| link.detail.as_str()).collect::<Vec<_>>(), ["45.9.148.10"]);
    assert!(store.intel_links_to("feed_event", incident.id, 100).await.expect("links to").is_empty());

    // Writing the event again drops them (they are computed again by the writer); so does
    // deleting it.
    store.update_intel_event(&admin(), &event).await.expect("update");
    assert_eq!(
        store.intel_external_correlations(event.uuid).await.expect("get"),
        ExternalCorrelations::default()
    );
    store.put_intel_external_correlations(event.uuid, &found).await.expect("put");
    store.delete_intel_event(&admin(), event.uuid).await.expect("delete");
    assert_eq!(
        store.intel_external_correlations(event.uuid).await.expect("get"),
        ExternalCorrelations::default()
    );
}
