//! API tokens and the audit log.

use axum::http::StatusCode;
use serde_json::json;

use crate::support::{assert_status, test_app};

#[tokio::test]
async fn tokens_are_shown_once_scoped_and_revocable() {
    let mut app = test_app().await;
    let created = app
        .call(
            Some("alice"),
            "POST",
            "/api/v1/tokens",
            Some(json!({"name": "reader", "scope": "read", "expires_in_days": 7})),
        )
        .await;
    assert_status(&created, StatusCode::CREATED);
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    let id = created.body["token"]["id"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("nrt_"));

    let listed = app.get("alice", "/api/v1/tokens").await;
    assert!(!listed.text.contains(&secret[20..]), "secrets are never listed");
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2);

    app.tokens.insert("alice-read".to_owned(), secret);
    assert_status(&app.get("alice-read", "/api/v1/contacts").await, StatusCode::OK);
    let write = app
        .call(
            Some("alice-read"),
            "POST",
            "/api/v1/organisations/EP-A/assets",
            Some(json!({"value": "198.51.100.0/28"})),
        )
        .await;
    assert_status(&write, StatusCode::FORBIDDEN);

    let escalate = app
        .call(Some("alice"), "POST", "/api/v1/tokens", Some(json!({"name": "root", "scope": "admin"})))
        .await;
    assert_status(&escalate, StatusCode::FORBIDDEN);

    let other = app.call(Some("bob"), "DELETE", &format!("/api/v1/tokens/{id}"), None).await;
    assert_status(&other, StatusCode::NOT_FOUND);
    let revoked = app.call(Some("alice"), "DELETE", &format!("/api/v1/tokens/{id}"), None).await;
    assert_status(&revoked, StatusCode::OK);
    let after = app.get("alice-read", "/api/v1/contacts").await;
    assert_status(&after, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn changes_and_exports_are_audited_and_tampering_is_found() {
    let app = test_app().await;
    let reply = app
        .call(
            Some("analyst"),
            "POST",
            "/api/v1/organisations/EP-A/assets",
            Some(json!({"value": "203.0.113.0/28"})),
        )
        .await;
    assert_status(&reply, StatusCode::CREATED);
    assert_status(&app.get("analyst", "/api/v1/organisations/export").await, StatusCode::OK);

    let audit = app.get("auditor", "/api/v1/audit?limit=1000").await;
    let actions: Vec<&str> =
        audit.body["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"asset.add") && actions.contains(&"registry.export"), "{actions:?}");
    let asset_entry =
        audit.body["items"].as_array().unwrap().iter().find(|e| e["action"] == "asset.add").unwrap();
    assert_eq!(asset_entry["actor"], "user:analyst");

    let verify = app.get("auditor", "/api/v1/audit/verify").await;
    assert_eq!(verify.body["ok"], true, "{}", verify.text);

    let seq = asset_entry["seq"].as_i64().unwrap();
    app.store
        .execute_raw(&format!("UPDATE audit_log SET actor = 'user:mallory' WHERE seq = {seq}"))
        .await
        .unwrap();
    let verify = app.get("auditor", "/api/v1/audit/verify").await;
    assert_eq!(verify.body["ok"], false);
    assert_eq!(verify.body["first_bad_seq"], seq, "{}", verify.text);
}
