//! Stories of constituent notifications: the queue read with its events, a pass over an
//! organisation recorded in one transaction (messages, the events each told about, taken queue
//! entries, suppression and schedule state), delivery attempts, and the listings.

use neretva_incident::incident::{Incident, IncidentDraft, IncidentSource};
use neretva_incident::workflow::Status;
use neretva_store::feeds::NewReport;
use neretva_store::incidents::IncidentWrite;
use neretva_store::notifications::{
    Announcement, Attempt, DeliveryStatus, MessageQuery, NewMessage, NotificationWrite, PendingStatus,
};
use neretva_store::{Actor, AuditQuery, Store, StoreError, verify_audit};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{admin, assert_conflict, at, new_event, new_report, ordered_id, org_fields};

fn org(n: u128) -> Uuid {
    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0a00 + n)
}

fn message(
    n: u64,
    org_id: Uuid,
    contact: Option<Uuid>,
    events: &[Uuid],
    failure: Option<&str>,
) -> NewMessage {
    NewMessage {
        id: ordered_id(5_000 + n),
        message_id: if failure.is_some() {
            String::new()
        } else {
            format!("{}@cert.example.ba", ordered_id(5_000 + n))
        },
        org_id,
        contact_id: contact,
        email: if contact.is_some() { "abuse@ep.example.ba".into() } else { String::new() },
        kind: "digest".into(),
        resend_of: None,
        incident_id: None,
        subject: "[TLP:AMBER+STRICT] CERT: događaji (2)".into(),
        tlp: "TLP:AMBER+STRICT".into(),
        language: "bs".into(),
        encrypted: contact.is_some(),
        raw: if failure.is_some() {
            Vec::new()
        } else {
            b"From: cert@cert.example.ba\r\n\r\nbody\r\n".to_vec()
        },
        event_ids: events.to_vec(),
        failure: failure.map(str::to_owned),
    }
}

/// The queue, a recorded pass, attempts and listings.
pub async fn notification_delivery_record(store: &dyn Store) {
    let report: NewReport = new_report(1, "scan", b"notify");
    store.store_report(&report).await.expect("report");
    let (a, b) = (org(1), org(2));
    let mut e1 = new_event(1, report.id, "scan");
    e1.org_ids = vec![a];
    let mut e2 = new_event(2, report.id, "scan");
    e2.org_ids = vec![a, b];
    let mut e3 = new_event(3, report.id, "scan");
    e3.org_ids = vec![b];
    store.insert_events(&[e1.clone(), e2.clone(), e3.clone()]).await.expect("events");

    // The organisations with pending entries, and one's entries with their events.
    assert_eq!(store.notification_orgs().await.expect("orgs"), [a, b]);
    let queued = store.queued_notifications(a, 0).await.expect("queued");
    assert_eq!(queued.iter().map(|q| q.event.event.id).collect::<Vec<_>>(), [e1.id, e2.id]);
    assert!(queued.iter().all(|q| q.org_id == a));
    assert_eq!(queued[0].event.event.json, e1.json);
    assert_eq!(queued[1].event.event.org_ids, [a, b]);
    assert!(queued[0].queue_id < queued[1].queue_id);
    assert_eq!(store.queued_notifications(a, 1).await.expect("queued").len(), 1);

    // One pass over organisation A: a message to its contact and a record of a message that
    // could not be made (an organisation without contacts), both about the two events.
    let contact = Uuid::from_u128(77);
    let write = NotificationWrite {
        org_id: a,
        messages: vec![
            message(1, a, Some(contact), &[e1.id, e2.id], None),
            message(2, a, None, &[e1.id, e2.id], Some("organisation has no contact with an e-mail address")),
        ],
        taken: queued.iter().map(|q| q.queue_id).collect(),
        notified_keys: vec!["k1".into()],
        suppressed_keys: vec!["k2".into(), "k2".into()],
        schedules: vec!["daily".into()],
        announcements: Vec::new(),
    };
    let actor = Actor("system".into());
    let stored = store.record_notifications(&actor, &write).await.expect("record");
    assert_eq!(stored.len(), 2);
    let (m1, m2) = (&stored[0], &stored[1]);
    assert_eq!((m1.status, m1.attempts, m1.event_count), (DeliveryStatus::Pending, 0, 2));
    assert_eq!(m1.contact_id, Some(contact));
    assert!(m1.encrypted);
    assert_eq!(m1.subject, "[TLP:AMBER+STRICT] CERT: događaji (2)");
    assert_eq!(m2.status, DeliveryStatus::Failed);
    assert_eq!(m2.last_error.as_deref(), Some("organisation has no contact with an e-mail address"));
    assert_eq!(m2.contact_id, None);

    // A's entries are taken; B's are still pending.
    assert_eq!(store.notification_orgs().await.expect("orgs"), [b]);
    assert!(store.queued_notifications(a, 0).await.expect("queued").is_empty());
    assert_eq!(store.queued_notifications(b, 0).await.expect("queued").len(), 2);
    assert_eq!(store.pending_notifications(Some(a), 0).await.expect("pending"), []);

    // Suppression and schedule state.
    let keys = ["k1".to_owned(), "k2".to_owned(), "k3".to_owned()];
    let state = store.suppression_state(a, &keys).await.expect("suppression");
    assert_eq!(state.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["k1"]);
    assert_eq!(state[0].1, m1.created_at);
    assert!(store.suppression_state(b, &keys).await.expect("suppression").is_empty());
    assert_eq!(store.suppressed_count(a).await.expect("count"), 2);
    assert_eq!(store.suppressed_count(b).await.expect("count"), 0);
    let schedules = store.schedule_state(a).await.expect("schedules");
    assert_eq!(schedules.len(), 1);
    assert_eq!((schedules[0].schedule.as_str(), schedules[0].last_sent_at), ("daily", m1.created_at));

    // Only the pending message is due, with its bytes.
    let now = OffsetDateTime::now_utc() + Duration::seconds(1);
    let due = store.due_messages(now, 0).await.expect("due");
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].0.id, m1.id);
    assert_eq!(due[0].1, write.messages[0].raw);
    // A temporary failure postpones it.
    let retry_at = now + Duration::minutes(5);
    let retried = store
        .record_attempt(
            m1.id,
            now,
            &Attempt::Retry { error: "451 4.3.0 try again".into(), next_at: retry_at },
        )
        .await
        .expect("attempt");
    assert_eq!((retried.status, retried.attempts), (DeliveryStatus::Pending, 1));
    assert_eq!(retried.last_error.as_deref(), Some("451 4.3.0 try again"));
    assert!(store.due_messages(now, 0).await.expect("due").is_empty());
    assert_eq!(store.due_messages(retry_at, 0).await.expect("due").len(), 1);
    let sent = store.record_attempt(m1.id, retry_at, &Attempt::Sent).await.expect("attempt");
    assert_eq!((sent.status, sent.attempts), (DeliveryStatus::Sent, 2));
    assert!(sent.sent_at.is_some() && sent.next_attempt_at.is_none());
    assert!(store.due_messages(retry_at + Duration::days(1), 0).await.expect("due").is_empty());
    assert!(matches!(
        store.record_attempt(Uuid::from_u128(9), now, &Attempt::Sent).await,
        Err(StoreError::NotFound { .. })
    ));

    // The delivery record, by organisation, event and status.
    assert_eq!(store.message_events(m1.id).await.expect("events"), [e1.id, e2.id]);
    assert_eq!(store.get_message(m2.id).await.expect("get").as_ref(), Some(m2));
    let list = |query: MessageQuery| async move {
        store.list_messages(&query).await.expect("list").iter().map(|m| m.id).collect::<Vec<_>>()
    };
    assert_eq!(
        list(MessageQuery { org_ids: Some(vec![a]), ..MessageQuery::default() }).await,
        [m2.id, m1.id]
    );
    assert_eq!(
        list(MessageQuery { org_ids: Some(vec![b]), ..MessageQuery::default() }).await,
        Vec::<Uuid>::new()
    );
    assert_eq!(
        list(MessageQuery { org_ids: Some(vec![]), ..MessageQuery::default() }).await,
        Vec::<Uuid>::new()
    );
    assert_eq!(list(MessageQuery { event_id: Some(e2.id), ..MessageQuery::default() }).await, [m2.id, m1.id]);
    assert_eq!(
        list(MessageQuery { event_id: Some(e3.id), ..MessageQuery::default() }).await,
        Vec::<Uuid>::new()
    );
    assert_eq!(
        list(MessageQuery { status: Some(DeliveryStatus::Sent), ..MessageQuery::default() }).await,
        [m1.id]
    );
    assert_eq!(list(MessageQuery { before: Some(m2.id), ..MessageQuery::default() }).await, [m1.id]);
    assert_eq!(list(MessageQuery { limit: 1, ..MessageQuery::default() }).await, [m2.id]);

    // Every message made and every delivery is audited, and the chain holds.
    let audit = store.list_audit(&AuditQuery { limit: 1000, ..AuditQuery::default() }).await.expect("audit");
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .filter(|entry| entry.event.object_type == "notification")
        .map(|entry| (entry.event.action.as_str(), entry.event.object_id.as_str()))
        .collect();
    let (id1, id2) = (m1.id.to_string(), m2.id.to_string());
    assert_eq!(
        actions,
        [
            ("notification.create", id1.as_str()),
            ("notification.create", id2.as_str()),
            ("notification.sent", id1.as_str())
        ]
    );
    assert!(verify_audit(store).await.expect("verify").broken.is_none());
}

/// A permanent failure ends the message's attempts.
pub async fn notification_permanent_failure(store: &dyn Store) {
    let report = new_report(1, "scan", b"notify-fail");
    store.store_report(&report).await.expect("report");
    let mut event = new_event(1, report.id, "scan");
    event.org_ids = vec![org(1)];
    store.insert_events(std::slice::from_ref(&event)).await.expect("events");
    let queued = store.queued_notifications(org(1), 0).await.expect("queued");
    let write = NotificationWrite {
        org_id: org(1),
        messages: vec![message(1, org(1), Some(Uuid::from_u128(5)), &[event.id], None)],
        taken: vec![queued[0].queue_id],
        ..NotificationWrite::default()
    };
    let stored = store.record_notifications(&Actor::system(), &write).await.expect("record");
    let now = OffsetDateTime::now_utc() + Duration::seconds(1);
    let failed = store
        .record_attempt(stored[0].id, now, &Attempt::Failed { error: "550 5.1.1 no such user\0".into() })
        .await
        .expect("attempt");
    assert_eq!((failed.status, failed.attempts), (DeliveryStatus::Failed, 1));
    assert_eq!(failed.last_error.as_deref(), Some("550 5.1.1 no such user\u{fffd}"));
    assert!(store.due_messages(now + Duration::days(1), 0).await.expect("due").is_empty());
    let listed = store
        .list_messages(&MessageQuery { status: Some(DeliveryStatus::Failed), ..MessageQuery::default() })
        .await
        .expect("list");
    assert_eq!(listed, [failed]);
}

/// Each address's deliveries, on the organisation: the newest failure with its error, and
/// whether a later message got through; another organisation's never mixed in.
pub async fn notification_contact_deliveries(store: &dyn Store) {
    let (a, b) = (org(1), org(2));
    let to = |n: u64, org_id: Uuid, email: &str, failure: Option<&str>| NewMessage {
        email: email.to_owned(),
        ..message(n, org_id, (!email.is_empty()).then(|| Uuid::from_u128(u128::from(n))), &[], failure)
    };
    let write = |org_id: Uuid, messages: Vec<NewMessage>| NotificationWrite {
        org_id,
        messages,
        ..NotificationWrite::default()
    };
    let first = store
        .record_notifications(
            &Actor::system(),
            &write(
                a,
                vec![
                    to(1, a, "soc@a.example.ba", None),
                    to(2, a, "ciso@a.example.ba", None),
                    to(3, a, "", Some("organisation has no contact")),
                ],
            ),
        )
        .await
        .expect("record");
    let t0 = OffsetDateTime::now_utc() + Duration::seconds(1);
    // soc@ fails for good; ciso@ fails at first, then a later message is sent.
    store
        .record_attempt(first[0].id, t0, &Attempt::Failed { error: "550 5.1.1 no such user".into() })
        .await
        .expect("attempt");
    store
        .record_attempt(first[1].id, t0, &Attempt::Failed { error: "554 refused".into() })
        .await
        .expect("attempt");
    let second = store
        .record_notifications(&Actor::system(), &write(a, vec![to(4, a, "ciso@a.example.ba", None)]))
        .await
        .expect("record");
    store.record_attempt(second[0].id, t0 + Duration::seconds(5), &Attempt::Sent).await.expect("sent");
    store
        .record_notifications(
            &Actor::system(),
            &write(b, vec![to(5, b, "soc@b.example.ba", Some("invalid address: no domain"))]),
        )
        .await
        .expect("record");

    let deliveries = store.contact_deliveries(a).await.expect("deliveries");
    let emails: Vec<&str> = deliveries.iter().map(|d| d.email.as_str()).collect();
    assert_eq!(emails, ["", "ciso@a.example.ba", "soc@a.example.ba"]);
    let (none, ciso, soc) = (&deliveries[0], &deliveries[1], &deliveries[2]);
    assert!(none.failing());
    assert_eq!((none.failed, none.contact_id), (1, None));
    assert_eq!(none.last_error.as_deref(), Some("organisation has no contact"));
    assert!(none.last_failed_at.is_some());
    assert!(!ciso.failing(), "{ciso:?}");
    assert_eq!((ciso.messages, ciso.sent, ciso.failed, ciso.pending), (2, 1, 1, 0));
    assert_eq!(ciso.contact_id, Some(Uuid::from_u128(4)));
    assert_eq!(ciso.last_error.as_deref(), Some("554 refused"));
    assert!(soc.failing());
    assert_eq!((soc.messages, soc.sent, soc.failed), (1, 0, 1));
    assert_eq!(soc.last_error.as_deref(), Some("550 5.1.1 no such user"));
    let at = soc.last_failed_at.expect("failed at");
    assert!((at - t0).abs() < Duration::milliseconds(1), "{at} {t0}");

    let other = store.contact_deliveries(b).await.expect("deliveries");
    assert_eq!(other.len(), 1);
    assert_eq!(other[0].email, "soc@b.example.ba");
    assert!(store.contact_deliveries(org(9)).await.expect("deliveries").is_empty());
}

/// Incident updates are recorded once per organisation, incident and topic: an incident past
/// `new` whose status was not announced to an organisation it concerns is pending until a
/// write records the announcement; the same announcement again refuses the whole write (no
/// message is written twice), and a write with no message (no contact cleared) still settles it.
pub async fn notification_incident_announcements(store: &dyn Store) {
    let ep = store.create_org(&admin(), &org_fields("EP", "Elektroprenos")).await.expect("org").id;
    let tel = store.create_org(&admin(), &org_fields("TEL", "Telekom")).await.expect("org").id;
    let mut draft = IncidentDraft::titled("Ransomware at the billing servers");
    draft.reporter_org = Some(ep);
    draft.affected_orgs = vec![ep, tel];
    draft.aware_at = Some(at(0));
    let (mut incident, created) =
        Incident::open(Uuid::now_v7(), draft, IncidentSource::Analyst, None, at(0)).expect("draft");
    let mut write = IncidentWrite::new(incident.clone(), None, "incident.create");
    write.timeline = vec![created];
    store.write_incidents(&admin(), &[write]).await.expect("create");
    let id = incident.id;
    // A new incident has no status change to tell.
    assert_eq!(store.pending_status_announcements(0).await.expect("pending"), []);

    let moved = incident.transition(Status::Triage, None, at(60)).expect("transition");
    let mut write = IncidentWrite::new(incident.clone(), Some(1), "incident.transition");
    write.timeline = vec![moved];
    store.write_incidents(&admin(), &[write]).await.expect("transition");
    let pending = |status: Status, orgs: &[Uuid]| {
        let mut orgs = orgs.to_vec();
        orgs.sort();
        orgs.into_iter().map(|org_id| PendingStatus { incident_id: id, org_id, status }).collect::<Vec<_>>()
    };
    assert_eq!(
        store.pending_status_announcements(0).await.expect("pending"),
        pending(Status::Triage, &[ep, tel])
    );
    assert_eq!(store.pending_status_announcements(1).await.expect("pending").len(), 1);

    // EP's announcement with its message, which names the incident.
    let announce = |org_id: Uuid, topic: &str, messages: Vec<NewMessage>| NotificationWrite {
        org_id,
        messages,
        announcements: vec![Announcement { incident_id: id, topic: topic.to_owned() }],
        ..NotificationWrite::default()
    };
    let status_message = |n: u64| NewMessage {
        kind: "incident-status".into(),
        incident_id: Some(id),
        ..message(n, ep, Some(Uuid::from_u128(7)), &[], None)
    };
    let stored = store
        .record_notifications(&Actor::system(), &announce(ep, "status/triage", vec![status_message(1)]))
        .await
        .expect("record");
    assert_eq!((stored[0].incident_id, stored[0].kind.as_str()), (Some(id), "incident-status"));
    assert_eq!(
        store.pending_status_announcements(0).await.expect("pending"),
        pending(Status::Triage, &[tel])
    );
    // The same announcement again (another pass, another process) is refused whole.
    assert_conflict(
        store
            .record_notifications(&Actor::system(), &announce(ep, "status/triage", vec![status_message(2)]))
            .await,
        "announcement",
    );
    let by_org = MessageQuery { org_ids: Some(vec![ep]), ..MessageQuery::default() };
    assert_eq!(store.list_messages(&by_org).await.expect("list").len(), 1);
    assert!(store.get_message(ordered_id(5_002)).await.expect("get").is_none());
    // TEL's contacts are not cleared: nothing is sent, and the status is settled all the same.
    assert_eq!(
        store
            .record_notifications(&Actor::system(), &announce(tel, "status/triage", Vec::new()))
            .await
            .expect("record"),
        []
    );
    assert_eq!(store.pending_status_announcements(0).await.expect("pending"), []);

    // Reminders: two topics recorded at once; each organisation's topics are its own.
    let reminders = NotificationWrite {
        org_id: ep,
        announcements: ["reminder/notification/1796040000/360m", "reminder/notification/1796040000/60m"]
            .into_iter()
            .map(|topic| Announcement { incident_id: id, topic: topic.into() })
            .collect(),
        ..NotificationWrite::default()
    };
    store.record_notifications(&Actor::system(), &reminders).await.expect("reminders");
    assert_eq!(
        store.announced(ep, id).await.expect("announced"),
        ["reminder/notification/1796040000/360m", "reminder/notification/1796040000/60m", "status/triage"]
    );
    assert_eq!(store.announced(tel, id).await.expect("announced"), ["status/triage"]);
    assert_eq!(store.announced(ep, Uuid::now_v7()).await.expect("announced"), Vec::<String>::new());

    // The next status is pending again for both; incident updates are listed by incident.
    let moved = incident.transition(Status::InProgress, None, at(120)).expect("transition");
    let mut write = IncidentWrite::new(incident.clone(), Some(2), "incident.transition");
    write.timeline = vec![moved];
    store.write_incidents(&admin(), &[write]).await.expect("transition");
    assert_eq!(
        store.pending_status_announcements(0).await.expect("pending"),
        pending(Status::InProgress, &[ep, tel])
    );
    let by_incident = MessageQuery { incident_id: Some(id), ..MessageQuery::default() };
    let listed: Vec<Uuid> =
        store.list_messages(&by_incident).await.expect("list").iter().map(|m| m.id).collect();
    assert_eq!(listed, [stored[0].id]);
    let other = MessageQuery { incident_id: Some(Uuid::now_v7()), ..MessageQuery::default() };
    assert!(store.list_messages(&other).await.expect("list").is_empty());
    assert!(verify_audit(store).await.expect("verify").broken.is_none());
}
