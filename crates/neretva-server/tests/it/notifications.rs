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
    };
    app.store.record_notifications(&Actor::system(), &write).await.unwrap();
    id
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
    let bad = app.get("analyst", "/api/v1/notifications?status=lost").await;
    assert_status(&bad, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["field"], "status");
}
