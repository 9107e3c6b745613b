//! What must not leak does not: organisations see only their own contacts and assets.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, assert_status, test_app};

/// Gives EP-A and EP-B a contact and assets each; returns (contact of B, asset of B).
async fn seed(app: &TestApp) -> (String, String) {
    let mut b_ids = (String::new(), String::new());
    for (org, net, domain) in
        [("EP-A", "192.0.2.0/26", "ep-a.example.ba"), ("EP-B", "192.0.2.64/26", "ep-b.example.ba")]
    {
        let contact = app
            .call(
                Some("analyst"),
                "POST",
                &format!("/api/v1/organisations/{org}/contacts"),
                Some(json!({
                    "name": format!("Abuse desk {org}"), "role": "abuse", "email": format!("abuse@{domain}"),
                    "languages": ["bs", "en"]
                })),
            )
            .await;
        assert_status(&contact, StatusCode::CREATED);
        let asset = app
            .call(
                Some("analyst"),
                "POST",
                &format!("/api/v1/organisations/{org}/assets"),
                Some(json!({"value": net})),
            )
            .await;
        assert_status(&asset, StatusCode::CREATED);
        let domain_asset = app
            .call(
                Some("analyst"),
                "POST",
                &format!("/api/v1/organisations/{org}/assets"),
                Some(json!({"kind": "domain", "value": domain})),
            )
            .await;
        assert_status(&domain_asset, StatusCode::CREATED);
        if org == "EP-B" {
            b_ids = (
                contact.body["id"].as_str().unwrap().to_owned(),
                asset.body["id"].as_str().unwrap().to_owned(),
            );
        }
    }
    b_ids
}

fn names(reply: &Value, key: &str) -> Vec<String> {
    let mut names: Vec<String> = reply["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item[key].as_str().unwrap_or_default().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn constituent_cannot_read_another_organisations_contacts_or_assets() {
    let app = test_app().await;
    let (b_contact, b_asset) = seed(&app).await;

    // Listings show alice only her own organisation's data.
    let contacts = app.get("alice", "/api/v1/contacts").await;
    assert_eq!(names(&contacts.body, "organisation"), ["EP-A"]);
    let assets = app.get("alice", "/api/v1/assets").await;
    assert_eq!(names(&assets.body, "organisation"), ["EP-A", "EP-A"]);

    // Direct reads of EP-B's objects answer 404, never revealing that they exist.
    for uri in [
        format!("/api/v1/contacts/{b_contact}"),
        format!("/api/v1/assets/{b_asset}"),
        "/api/v1/organisations/EP-B/contacts".to_owned(),
        "/api/v1/organisations/EP-B/assets".to_owned(),
        "/api/v1/organisations/EP-B".to_owned(),
    ] {
        let reply = app.get("alice", &uri).await;
        assert_status(&reply, StatusCode::NOT_FOUND);
        assert!(!reply.text.contains("ep-b.example.ba"), "{uri} leaked: {}", reply.text);
    }

    // Writes to EP-B are refused.
    let write = app
        .call(
            Some("alice"),
            "POST",
            "/api/v1/organisations/EP-B/assets",
            Some(json!({"value": "198.51.100.0/24"})),
        )
        .await;
    assert_status(&write, StatusCode::NOT_FOUND);
    let delete = app.call(Some("alice"), "DELETE", &format!("/api/v1/contacts/{b_contact}"), None).await;
    assert_status(&delete, StatusCode::NOT_FOUND);

    // Lookup of EP-B's network tells alice nothing; the CERT's analyst sees the owner.
    let lookup = app.get("alice", "/api/v1/lookup?q=192.0.2.70").await;
    assert_status(&lookup, StatusCode::OK);
    assert_eq!(lookup.body["matches"], json!([]));
    let lookup = app.get("analyst", "/api/v1/lookup?q=192.0.2.70").await;
    assert_eq!(lookup.body["owners"][0]["short_name"], "EP-B");
    let lookup = app.get("alice", "/api/v1/lookup?q=www.ep-b.example.ba").await;
    assert_eq!(lookup.body["matches"], json!([]));

    // The export holds only what alice may see: no EP-B at all, no contacts but her own.
    let export = app.get("alice", "/api/v1/organisations/export?format=json").await;
    assert_status(&export, StatusCode::OK);
    assert!(!export.text.contains("EP-B") && !export.text.contains("ep-b.example.ba"), "{}", export.text);
    assert!(export.text.contains("abuse@ep-a.example.ba"));
    let export = app.get("alice", "/api/v1/organisations/export?format=csv").await;
    assert!(!export.text.contains("ep-b.example.ba"), "{}", export.text);
}

#[tokio::test]
async fn organisation_visibility_follows_the_hierarchy() {
    let app = test_app().await;
    let visible = |user: &'static str| {
        let app = &app;
        async move { names(&app.get(user, "/api/v1/organisations").await.body, "short_name") }
    };
    // A constituent sees its own record and its parent CERT's (TLP:AMBER reaches clients).
    assert_eq!(visible("alice").await, ["CERT-BIH", "EP-A"]);
    assert_eq!(visible("carol").await, ["RES"]);
    assert_eq!(visible("analyst").await, ["CERT-BIH", "EP-A", "EP-B", "RES"]);
    assert_eq!(visible("auditor").await, ["CERT-BIH", "EP-A", "EP-B", "RES"]);
}

#[tokio::test]
async fn roles_are_enforced() {
    let app = test_app().await;
    seed(&app).await;
    // Registry changes: operator staff with write access only.
    let create = json!({"name": "New Org", "short_name": "NEW", "authority_level": "State"});
    for user in ["alice", "carol", "auditor"] {
        let reply = app.call(Some(user), "POST", "/api/v1/organisations", Some(create.clone())).await;
        assert_status(&reply, StatusCode::FORBIDDEN);
    }
    let reply = app.call(Some("analyst"), "POST", "/api/v1/organisations", Some(create)).await;
    assert_status(&reply, StatusCode::CREATED);
    // The audit log: admins and auditors only.
    for user in ["alice", "analyst", "carol"] {
        assert_status(&app.get(user, "/api/v1/audit").await, StatusCode::FORBIDDEN);
    }
    assert_status(&app.get("auditor", "/api/v1/audit").await, StatusCode::OK);
    // Users: others are invisible to a constituent.
    let users = app.get("alice", "/api/v1/users").await;
    assert_eq!(names(&users.body, "username"), ["alice"]);
    let reply = app
        .call(
            Some("alice"),
            "POST",
            "/api/v1/users",
            Some(json!({"username": "x1", "organisation": "EP-A", "role": "admin"})),
        )
        .await;
    assert_status(&reply, StatusCode::FORBIDDEN);
    // Anonymous callers get nothing.
    let reply = app.call(None, "GET", "/api/v1/contacts", None).await;
    assert_status(&reply, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body["code"], "unauthenticated");
}
