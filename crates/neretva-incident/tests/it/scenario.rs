//! One phishing incident from the constituent's early warning to the regulator's summary.

use neretva_event::Event;
use neretva_incident::deadline::{
    DeadlineConfig, DeadlineInput, ObligationKind, ObligationState, Submission, obligations, queue_key,
};
use neretva_incident::incident::{Change, Incident, IncidentSource};
use neretva_incident::intake::intake;
use neretva_incident::merge::{IncidentCase, merge};
use neretva_incident::observable::ObservableEntry;
use neretva_incident::playbook::seed_tasks;
use neretva_incident::report::{IncidentReport, StageKind};
use neretva_incident::significance::{Facts, ServiceImpact, assess};
use neretva_incident::stats::{StatsRecord, statistics};
use neretva_incident::summary::{SummaryRecord, summarise};
use neretva_incident::timeline::{TimelineEntry, TimelineKind};
use neretva_incident::workflow::Status;
use neretva_mail::MailLimits;
use time::Duration;
use time::macros::datetime;
use uuid::Uuid;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

#[test]
fn phishing_incident_end_to_end() {
    let bank = id(42);
    let analyst = id(7);
    let aware = datetime!(2025-02-03 7:30 UTC);
    let mut counter = 1000;
    let mut new_id = move || {
        counter += 1;
        id(counter)
    };

    // The bank's early warning, two hours after it became aware.
    let early: IncidentReport = serde_json::from_value(serde_json::json!({
        "title": "Phishing site impersonating our e-banking",
        "aware_at": "2025-02-03T07:30:00Z",
        "classification": "phishing",
        "stage": {"kind": "early_warning", "suspected_malicious": "yes", "summary": "Customers report a fake login page."}
    }))
    .unwrap();
    let t1 = aware + Duration::hours(2);
    assert_eq!(early.validate(t1), vec![]);
    let (mut incident, created) = Incident::open(
        id(1),
        early.to_draft(Some(bank)),
        IncidentSource::Report { report_id: id(500) },
        None,
        t1,
    )
    .unwrap();
    let tasks = seed_tasks(incident.id, incident.classification, t1, &mut new_id);
    assert!(tasks.iter().any(|t| t.template.as_deref() == Some("phishing-takedown")));
    let mut timeline = vec![created];
    let mut submissions = vec![Submission { stage: StageKind::EarlyWarning, at: t1 }];

    let config = DeadlineConfig::default();
    let mut deadlines = DeadlineInput::aware_at(aware);
    deadlines.submissions = submissions.clone();
    let now = aware + Duration::hours(10);
    let list = obligations(&deadlines, &config, now);
    let feedback = list.iter().find(|o| o.kind == ObligationKind::CsirtFeedback).unwrap();
    assert_eq!((feedback.due_at, feedback.state), (t1 + Duration::hours(24), ObligationState::Due));
    assert_eq!(queue_key(&list).urgency, ObligationState::Due);

    // Triage: the analyst takes it, answers the early warning, and works on it.
    timeline.push(incident.transition(Status::Triage, Some(analyst), t1 + Duration::hours(1)).unwrap());
    timeline.extend(
        incident
            .apply(Change::Assign { assignee: Some(analyst) }, Some(analyst), t1 + Duration::hours(1))
            .unwrap(),
    );
    let feedback_at = t1 + Duration::hours(3);
    timeline.push(TimelineEntry::new(
        feedback_at,
        Some(analyst),
        TimelineKind::FeedbackSent { text: "Takedown requested; block the domain.".into() },
    ));
    deadlines.feedback_at = Some(feedback_at);
    timeline.push(incident.transition(Status::InProgress, Some(analyst), t1 + Duration::hours(4)).unwrap());
    assert_eq!(incident.triaged_at, Some(t1 + Duration::hours(4)));

    // The notification brings indicators; they become observables and match a stored feed event.
    let notification: IncidentReport = serde_json::from_value(serde_json::json!({
        "title": "Phishing site impersonating our e-banking",
        "incident_id": incident.id,
        "aware_at": "2025-02-03T07:30:00Z",
        "stage": {
            "kind": "notification",
            "initial_assessment": "About 40 customers entered credentials.",
            "severity": "high",
            "impact": "Fraudulent transfers attempted from 6 accounts.",
            "indicators": [{"value": "hxxps://login-banka[.]example[.]net/ebank"}, {"value": "login-banka.example.net"}]
        }
    }))
    .unwrap();
    let t2 = aware + Duration::hours(30);
    assert_eq!(notification.validate(t2), vec![]);
    submissions.push(Submission { stage: StageKind::Notification, at: t2 });
    let observables: Vec<ObservableEntry> = notification
        .indicators()
        .unwrap()
        .into_iter()
        .map(|observable| ObservableEntry { observable, ioc: true, note: None, added_by: None, added_at: t2 })
        .collect();
    let mut event = Event::new();
    event.set("source.url", "https://LOGIN-BANKA.example.net:443/ebank").unwrap();
    event.set("classification.type", "phishing").unwrap();
    let matched: Vec<Vec<&str>> = observables.iter().map(|o| o.observable.matches(&event)).collect();
    assert_eq!(matched, [vec!["source.url"], vec!["source.url"]]);

    // A customer's e-mail about the same site becomes a second incident, merged into the first.
    let raw = b"From: customer@example.org\nTo: incident@cert.example.ba\nSubject: Fake bank page\n\nSee login-banka.example.net\n";
    let record = intake(id(600), raw, "mailbox", t2, &MailLimits::default());
    let (other, other_created) = Incident::open(
        id(2),
        record.draft(None).unwrap(),
        IncidentSource::Email { intake_id: record.id },
        None,
        t2,
    )
    .unwrap();
    let target = IncidentCase { incident, observables, tasks, timeline, links: vec![], evidence: vec![] };
    let source = IncidentCase {
        incident: other,
        observables: vec![],
        tasks: vec![],
        timeline: vec![other_created],
        links: vec![],
        evidence: vec![],
    };
    let merged = merge(target, source, Some(analyst), t2 + Duration::hours(1)).unwrap();
    assert_eq!(merged.source.incident.merged_into, Some(id(1)));
    let mut incident = merged.target.incident;
    assert_eq!(incident.status, Status::InProgress);

    // Resolution and the final report, in time.
    let resolved_at = aware + Duration::days(10);
    incident.transition(Status::Resolved, Some(analyst), resolved_at).unwrap();
    submissions.push(Submission { stage: StageKind::Final, at: aware + Duration::days(20) });
    deadlines.submissions = submissions;
    deadlines.handling_ended_at = incident.resolved_at;
    let list = obligations(&deadlines, &config, aware + Duration::days(21));
    let states: Vec<(ObligationKind, ObligationState)> = list.iter().map(|o| (o.kind, o.state)).collect();
    assert_eq!(
        states,
        [
            (ObligationKind::EarlyWarning, ObligationState::Met),
            (ObligationKind::CsirtFeedback, ObligationState::Met),
            (ObligationKind::Notification, ObligationState::Met),
            (ObligationKind::FinalReport, ObligationState::Met),
        ]
    );
    assert_eq!(queue_key(&list).next_due, None);

    // A bank is outside Implementing Regulation 2024/2690: the Directive's test applies.
    let facts = Facts {
        provider: None,
        occurred_at: aware,
        planned: false,
        severe_disruption_or_loss: false,
        considerable_damage_to_others: true,
        direct_financial_loss_eur: Some(35_000),
        annual_turnover_eur: None,
        trade_secrets_exfiltrated: false,
        death: false,
        health_damage: false,
        malicious_access: false,
        service: ServiceImpact::default(),
        root_cause: Some("phishing kit".into()),
    };
    let assessment = assess(&facts, &[]);
    assert!(assessment.significant);
    assert_eq!(assessment.met[0].id, "nis2-art23-3-b");

    // The regulator's quarter and the CERT's statistics.
    let summary =
        summarise("2025-Q1".parse().unwrap(), config.zone, &[SummaryRecord::of(&incident, Some("banking"))]);
    assert_eq!(
        (summary.total, summary.rows[0].rsit_type, summary.rows[0].sector),
        (1, "phishing", "banking")
    );
    let stats = statistics(&[StatsRecord::of(&incident, Some("banking"), Some("State"))], config.zone);
    assert_eq!(stats.time_to_triage.map(|d| d.median_seconds), Some(4 * 3600));
    assert_eq!(
        stats.time_to_resolve.map(|d| d.median_seconds),
        Some((Duration::days(10) - Duration::hours(2)).whole_seconds())
    );
}
