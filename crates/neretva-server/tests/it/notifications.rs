//! The notification delivery record through the API: each organisation sees its own.

use axum::http::StatusCode;
use neretva_store::notifications::{NewMessage, NotificationWrite};
use neretva_store::{Actor, Store};

use crate::support::{assert_status, test_app};

async fn record(app: &crate::support::TestApp, org: &str, n: u8) -> uuid::Uuid {
    let org_id = app.store.find_org(org).await.unwrap().unwrap().id;
    let id = uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | u128::from(n));
    let event = uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_1000 | u128::from(n));
    let write = NotificationWrite {
        org_id,
        messages: vec![NewMessage {
            id,
            message_id: format!("{n}@cert.example.ba"),
            org_id,
            contact_id: None,
            email: format!("soc-{n}@example.ba"),
            kind: "digest".into(),
            resend_of: None,
            incident_id: (n == 1).then(incident),
            subject: format!("[TLP:AMBER] digest {n}"),
            tlp: "TLP:AMBER".into(),
            language: "en".into(),
            encrypted: false,
            raw: b"Subject: x\r\n\r\nbody\r\n".to_vec(),
            event_ids: vec![event],
            failure: (n == 2).then(|| "no valid address".to_owned()),
        }],
        taken: vec![],
        notified_keys: vec![],
        suppressed_keys: vec![],
        schedules: vec![],
        announcements: vec![],
    };
    app.store.record_notifications(&Actor::system(), &write).await.unwrap();
    id
}

/// The incident the first recorded message is about.
fn incident() -> uuid::Uuid {
    uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_2001)
}

fn subjects(reply: &crate::support::Reply) -> Vec<String> {
    let mut subjects: Vec<String> = reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["subject"].as_str().unwrap().to_owned())
        .collect();
    subjects.sort();
    subjects
}

#[tokio::test]
async fn each_organisation_sees_its_own_deliveries() {
    let app = test_app().await;
    let to_a = record(&app, "EP-A", 1).await;
    let to_b = record(&app, "EP-B", 2).await;

    let analyst = app.get("analyst", "/api/v1/notifications").await;
    assert_status(&analyst, StatusCode::OK);
    assert_eq!(subjects(&analyst), ["[TLP:AMBER] digest 1", "[TLP:AMBER] digest 2"]);
    let alice = app.get("alice", "/api/v1/notifications").await;
    assert_eq!(subjects(&alice), ["[TLP:AMBER] digest 1"]);
    assert_eq!(alice.body["items"][0]["organisation"], "EP-A");
    let bob = app.get("bob", "/api/v1/notifications?status=failed").await;
    assert_eq!(subjects(&bob), ["[TLP:AMBER] digest 2"]);
    assert_eq!(bob.body["items"][0]["last_error"], "no valid address");
    assert_eq!(subjects(&app.get("carol", "/api/v1/notifications").await), Vec::<String>::new());

    // One message with its events; another organisation's is not found, nor are its filters.
    let one = app.get("alice", &format!("/api/v1/notifications/{to_a}")).await;
    assert_status(&one, StatusCode::OK);
    assert_eq!(one.body["events"].as_array().unwrap().len(), 1);
    assert_status(&app.get("alice", &format!("/api/v1/notifications/{to_b}")).await, StatusCode::NOT_FOUND);
    assert_status(&app.get("alice", "/api/v1/notifications?organisation=EP-B").await, StatusCode::NOT_FOUND);
    // Incident updates by incident, within what the caller may see.
    let about = format!("/api/v1/notifications?incident={}", incident());
    let analyst = app.get("analyst", &about).await;
    assert_eq!(subjects(&analyst), ["[TLP:AMBER] digest 1"]);
    assert_eq!(analyst.body["items"][0]["incident"], incident().to_string());
    assert_eq!(subjects(&app.get("bob", &about).await), Vec::<String>::new());
    let bad = app.get("analyst", "/api/v1/notifications?status=lost").await;
    assert_status(&bad, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["field"], "status");
}

/// A notifier over the test store, sending (never, in these tests) to a loopback port.
fn attach_notifier(app: &crate::support::TestApp) {
    let keys = concat!(env!("CARGO_MANIFEST_DIR"), "/../neretva-notify/test_data/keys");
    let armored = std::fs::read_to_string(format!("{keys}/cert-secret.asc")).unwrap();
    let signer =
        neretva_notify::openpgp::Signer::from_armored(&armored, "correct horse battery staple").unwrap();
    let mut schedules = neretva_notify::schedule::Schedules::default();
    schedules.by_type.insert("scanner".into(), neretva_notify::schedule::Schedule::Weekly);
    let config = neretva_notifier::NotifierConfig {
        cert_name: "CERT-BIH".into(),
        from: neretva_notify::mime::Mailbox {
            name: Some("CERT-BIH".into()),
            address: "cert@cert.example.ba".into(),
        },
        smtp: neretva_notifier::SmtpConfig {
            host: "127.0.0.1".into(),
            port: 9,
            tls: neretva_notifier::TlsMode::Plain,
            username: None,
            password: None,
            timeout: std::time::Duration::from_secs(2),
        },
        schedules,
        suppression_window: time::Duration::hours(24),
        default_clearance: neretva_model::tlp::Tlp::AmberStrict,
        contact_clearance: Default::default(),
        org_language: Default::default(),
        contact_roles: Vec::new(),
        max_attempts: 3,
        retry_after: time::Duration::minutes(5),
        overrides: Default::default(),
        reminder_before: vec![time::Duration::hours(6)],
        deadlines: Default::default(),
    };
    let store: std::sync::Arc<dyn Store> = app.store.clone();
    let notifier = neretva_notifier::Notifier::new(store, config, signer).unwrap();
    let _ = app.state.clone().with_notifier(std::sync::Arc::new(notifier));
}

async fn contact(app: &crate::support::TestApp, org: &str, email: &str) {
    let org_id = app.store.find_org(org).await.unwrap().unwrap().id;
    let fields = neretva_model::contact::ContactFields {
        name: format!("Abuse desk of {org}"),
        role: Some("abuse".into()),
        email: email.into(),
        phone: None,
        languages: vec![neretva_model::contact::Language::Bs],
        pgp_key: None,
        clearance: None,
    };
    app.store.create_contact(&Actor::system(), org_id, &fields, None).await.unwrap();
}

/// Stores a feed event of `kind` routed to `org`, with an optional TLP.
async fn queue_event(app: &crate::support::TestApp, org: &str, kind: &str, ip: &str, tlp: Option<&str>) {
    let org_id = app.store.find_org(org).await.unwrap().unwrap().id;
    let now = time::OffsetDateTime::now_utc();
    let mut json = serde_json::json!({"source.ip": ip, "classification.type": kind,
        "classification.taxonomy": "vulnerable", "feed.name": "test",
        "time.observation": now.format(&time::format_description::well_known::Rfc3339).unwrap()});
    if let Some(tlp) = tlp {
        json["tlp"] = tlp.into();
    }
    let event = neretva_store::feeds::NewEvent {
        taxonomy: Some("vulnerable".into()),
        classification_type: Some(kind.into()),
        source_ip: Some(ip.parse().unwrap()),
        org_ids: vec![org_id],
        ..neretva_store::feeds::NewEvent::new(uuid::Uuid::now_v7(), "test", 1, "raw", now, json.to_string())
    };
    app.store.insert_events(&[event]).await.unwrap();
}

#[tokio::test]
async fn preview_shows_what_is_due_and_what_waits_to_those_who_may_see_it() {
    let app = test_app().await;
    // Without a notifier the server says so.
    let off = app.get("analyst", "/api/v1/notifications/preview?organisation=EP-A").await;
    assert_status(&off, StatusCode::SERVICE_UNAVAILABLE);
    attach_notifier(&app);
    contact(&app, "EP-A", "soc@ep-a.example.ba").await;
    contact(&app, "EP-B", "soc@ep-b.example.ba").await;
    // An infected system is told at once; a scanner waits for the weekly digest; a TLP:RED
    // event is visible to nobody but its recipients' own and is not previewed.
    queue_event(&app, "EP-A", "infected-system", "192.0.2.10", None).await;
    queue_event(&app, "EP-A", "scanner", "192.0.2.11", None).await;
    queue_event(&app, "EP-A", "infected-system", "192.0.2.12", Some("TLP:RED")).await;
    queue_event(&app, "EP-B", "infected-system", "198.51.100.1", None).await;

    for user in ["analyst", "alice"] {
        let preview = app.get(user, "/api/v1/notifications/preview?organisation=EP-A").await;
        assert_status(&preview, StatusCode::OK);
        let body = &preview.body;
        assert_eq!(body["organisation"], "EP-A");
        assert_eq!(body["due_events"], 1, "{user}: {}", preview.text);
        let due = body["due"].as_array().unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0]["email"], "soc@ep-a.example.ba");
        assert_eq!(due[0]["language"], "bs");
        assert_eq!(due[0]["events"], 1);
        assert!(due[0]["subject"].as_str().unwrap().starts_with("[TLP:AMBER+STRICT]"), "{}", preview.text);
        let csv = &due[0]["attachments"][0];
        assert_eq!(csv["name"], "events.csv");
        let content = csv["content"].as_str().unwrap();
        assert!(content.contains("192.0.2.10"));
        assert!(!content.contains("192.0.2.12") && !content.contains("198.51.100.1"));
        let later = body["later"].as_array().unwrap();
        assert_eq!(later.len(), 1, "{}", preview.text);
        assert_eq!(later[0]["schedule"], "weekly");
        assert_eq!(later[0]["events"], 1);
        assert_eq!(later[0]["types"]["scanner"], 1);
    }
    // Another constituent, a parentless community member and an unknown name: not found.
    for (user, org) in [("bob", "EP-A"), ("carol", "EP-A"), ("alice", "EP-B"), ("analyst", "NOPE")] {
        let reply = app.get(user, &format!("/api/v1/notifications/preview?organisation={org}")).await;
        assert_status(&reply, StatusCode::NOT_FOUND);
    }
    let missing = app.get("analyst", "/api/v1/notifications/preview").await;
    assert_status(&missing, StatusCode::BAD_REQUEST);
    // Nothing was recorded.
    let listed = app.get("analyst", "/api/v1/notifications").await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn only_staff_with_write_credentials_resend_and_it_is_audited() {
    let app = test_app().await;
    let to_a = record(&app, "EP-A", 1).await;
    let to_b = record(&app, "EP-B", 3).await;
    let resend = |user: &'static str, id: uuid::Uuid| {
        let app = &app;
        async move { app.call(Some(user), "POST", &format!("/api/v1/notifications/{id}/resend"), None).await }
    };
    assert_status(&resend("analyst", to_a).await, StatusCode::SERVICE_UNAVAILABLE);
    attach_notifier(&app);
    contact(&app, "EP-A", "soc@ep-a.example.ba").await;
    // The recorded message names an event that is not stored: nothing to resend.
    assert_status(&resend("analyst", to_a).await, StatusCode::NOT_FOUND);

    queue_event(&app, "EP-A", "infected-system", "192.0.2.20", None).await;
    let org_a = app.store.find_org("EP-A").await.unwrap().unwrap().id;
    let queued = app.store.queued_notifications(org_a, 10).await.unwrap();
    let write = NotificationWrite {
        org_id: org_a,
        messages: vec![NewMessage {
            id: uuid::Uuid::now_v7(),
            message_id: "told@cert.example.ba".into(),
            org_id: org_a,
            contact_id: None,
            email: "old@ep-a.example.ba".into(),
            kind: "digest".into(),
            resend_of: None,
            incident_id: None,
            subject: "[TLP:AMBER+STRICT] told".into(),
            tlp: "TLP:AMBER+STRICT".into(),
            language: "en".into(),
            encrypted: false,
            raw: b"Subject: told\r\n\r\nbody\r\n".to_vec(),
            event_ids: vec![queued[0].event.event.id],
            failure: None,
        }],
        ..NotificationWrite::default()
    };
    let told = app.store.record_notifications(&Actor::system(), &write).await.unwrap()[0].id;

    // A constituent may see the message but not resend it; another constituent does not see it;
    // the auditor has no write credential.
    assert_status(&resend("alice", told).await, StatusCode::FORBIDDEN);
    assert_status(&resend("bob", told).await, StatusCode::NOT_FOUND);
    assert_status(&resend("alice", to_b).await, StatusCode::NOT_FOUND);
    assert_status(&resend("auditor", told).await, StatusCode::FORBIDDEN);

    let done = resend("analyst", told).await;
    assert_status(&done, StatusCode::CREATED);
    let items = done.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", done.text);
    assert_eq!(items[0]["kind"], "resend");
    assert_eq!(items[0]["resend_of"], told.to_string());
    assert_eq!(items[0]["email"], "soc@ep-a.example.ba");
    assert_eq!(items[0]["status"], "pending");
    assert_eq!(items[0]["event_count"], 1);
    let audit = app
        .store
        .list_audit(&neretva_store::AuditQuery {
            action: Some("notification.create".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        audit.iter().any(|entry| entry.event.actor == "user:analyst"
            && entry.event.object_id == items[0]["id"].as_str().unwrap()),
        "{audit:?}"
    );
}

#[tokio::test]
async fn permanent_failures_show_on_the_organisation_to_those_who_may_see_its_contacts() {
    let app = test_app().await;
    // Message 2 to EP-B fails at once ("no valid address"); one to EP-A fails on delivery.
    let to_a = record(&app, "EP-A", 1).await;
    record(&app, "EP-B", 2).await;
    let failed_at = time::OffsetDateTime::now_utc();
    app.store
        .record_attempt(
            to_a,
            failed_at,
            &neretva_store::notifications::Attempt::Failed { error: "550 5.1.1 mailbox unknown".into() },
        )
        .await
        .unwrap();

    for user in ["analyst", "alice"] {
        let summary = app.get(user, "/api/v1/organisations/EP-A/notifications").await;
        assert_status(&summary, StatusCode::OK);
        assert_eq!(summary.body["organisation"], "EP-A");
        let failing = summary.body["failing"].as_array().unwrap();
        assert_eq!(failing.len(), 1, "{}", summary.text);
        assert_eq!(failing[0]["email"], "soc-1@example.ba");
        assert_eq!(failing[0]["last_error"], "550 5.1.1 mailbox unknown");
        let at = failing[0]["last_failed_at"].as_str().unwrap();
        let at = time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).unwrap();
        assert!((at - failed_at).abs() < time::Duration::seconds(1));
        assert_eq!(summary.body["contacts"].as_array().unwrap().len(), 1);

        let org = app.get(user, "/api/v1/organisations/EP-A").await;
        assert_status(&org, StatusCode::OK);
        let failures = org.body["notification_failures"].as_array().unwrap();
        assert_eq!(failures.len(), 1, "{}", org.text);
        assert_eq!(failures[0]["email"], "soc-1@example.ba");
        assert!(!org.text.contains("soc-2@example.ba"));
    }
    let b = app.get("bob", "/api/v1/organisations/EP-B/notifications").await;
    assert_eq!(b.body["failing"][0]["last_error"], "no valid address");
    // Another constituent and a community member see nothing of EP-A's deliveries.
    for user in ["bob", "carol"] {
        let summary = app.get(user, "/api/v1/organisations/EP-A/notifications").await;
        assert_status(&summary, StatusCode::NOT_FOUND);
        let org = app.get(user, "/api/v1/organisations/EP-A").await;
        assert!(
            !org.text.contains("soc-1@example.ba") && !org.text.contains("mailbox unknown"),
            "{}",
            org.text
        );
    }
    // A list of organisations carries no delivery details.
    let list = app.get("analyst", "/api/v1/organisations").await;
    assert_status(&list, StatusCode::OK);
    assert!(!list.text.contains("notification_failures"));
}

#[tokio::test]
async fn contacts_carry_their_notification_clearance() {
    let app = test_app().await;
    let body = |clearance: serde_json::Value| serde_json::json!({"name": "CISO", "email": "ciso@ep-a.example.ba", "clearance": clearance});
    let created = app
        .call(Some("analyst"), "POST", "/api/v1/organisations/EP-A/contacts", Some(body("red".into())))
        .await;
    assert_status(&created, StatusCode::CREATED);
    assert_eq!(created.body["clearance"], "TLP:RED");
    let id = created.body["id"].as_str().unwrap().to_owned();
    let stored = app.store.get_contact(id.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.fields.clearance, Some(neretva_model::tlp::Tlp::Red));

    let cleared = app
        .call(Some("analyst"), "PUT", &format!("/api/v1/contacts/{id}"), Some(body(serde_json::Value::Null)))
        .await;
    assert_status(&cleared, StatusCode::OK);
    assert_eq!(cleared.body["clearance"], serde_json::Value::Null);
    let bad = app
        .call(Some("analyst"), "POST", "/api/v1/organisations/EP-A/contacts", Some(body("TLP:PINK".into())))
        .await;
    assert_status(&bad, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["details"][0]["field"], "clearance", "{}", bad.text);
}

#[tokio::test]
async fn only_staff_with_write_credentials_send_advisories() {
    let app = test_app().await;
    let advisory = |extra: serde_json::Value| {
        let mut body = serde_json::json!({"subject": "Patch the VPN", "body": "Patch now.\n"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    let post = |user: &'static str, body: serde_json::Value| {
        let app = &app;
        async move { app.call(Some(user), "POST", "/api/v1/notifications/advisories", Some(body)).await }
    };
    let to_a = advisory(serde_json::json!({"organisations": ["EP-A"]}));
    assert_status(&post("analyst", to_a.clone()).await, StatusCode::SERVICE_UNAVAILABLE);
    attach_notifier(&app);
    contact(&app, "EP-A", "soc@ep-a.example.ba").await;
    contact(&app, "EP-B", "soc@ep-b.example.ba").await;
    for user in ["alice", "auditor", "carol"] {
        assert_status(&post(user, to_a.clone()).await, StatusCode::FORBIDDEN);
    }
    let sent = post("analyst", to_a).await;
    assert_status(&sent, StatusCode::CREATED);
    let items = sent.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", sent.text);
    assert_eq!(items[0]["kind"], "advisory");
    assert_eq!(items[0]["subject"], "[TLP:GREEN] Patch the VPN");
    assert_eq!(items[0]["email"], "soc@ep-a.example.ba");
    assert_eq!(items[0]["status"], "pending");
    // The recipient organisation sees it in its delivery record; the other does not.
    let id = items[0]["id"].as_str().unwrap();
    assert_status(&app.get("alice", &format!("/api/v1/notifications/{id}")).await, StatusCode::OK);
    assert_status(&app.get("bob", &format!("/api/v1/notifications/{id}")).await, StatusCode::NOT_FOUND);

    // A sector (all four test organisations): TLP:RED is withheld from contacts with the default
    // clearance; the two organisations without contacts are recorded as failed, not skipped.
    let red = post("analyst", advisory(serde_json::json!({"sector": "energy", "tlp": "red"}))).await;
    assert_status(&red, StatusCode::CREATED);
    assert_eq!(red.body["withheld"], 2);
    let failed = red.body["items"].as_array().unwrap();
    assert_eq!(failed.len(), 2, "{}", red.text);
    assert!(failed.iter().all(|m| m["status"] == "failed" && m["email"] == ""), "{}", red.text);
    for (body, field) in [
        (advisory(serde_json::json!({"organisations": ["EP-A"], "all": true})), "organisations"),
        (advisory(serde_json::json!({})), "organisations"),
        (advisory(serde_json::json!({"organisations": ["NOPE"]})), "organisations[0]"),
        (advisory(serde_json::json!({"all": true, "tlp": "pink"})), "tlp"),
        (advisory(serde_json::json!({"all": true, "subject": "two\nlines"})), "subject"),
        (advisory(serde_json::json!({"all": true, "body": "  "})), "body"),
    ] {
        let reply = post("analyst", body).await;
        assert_status(&reply, StatusCode::BAD_REQUEST);
        assert_eq!(reply.body["field"], field, "{}", reply.text);
    }
    let audit = app
        .store
        .list_audit(&neretva_store::AuditQuery { actor: Some("user:analyst".into()), ..Default::default() })
        .await
        .unwrap();
    assert!(
        audit.iter().any(|entry| entry.event.action == "notification.create" && entry.event.object_id == id)
    );
}
