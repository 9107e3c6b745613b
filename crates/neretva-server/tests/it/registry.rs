//! The constituency registry through the API.

use axum::http::StatusCode;
use serde_json::json;

use crate::support::{assert_status, test_app};

const KEY: &str = include_str!("../../../neretva-model/test_data/openpgp/ed25519-cv25519.asc");
const SECRET_KEY: &str = include_str!("../../../neretva-model/test_data/openpgp/secret-key.asc");

#[tokio::test]
async fn contacts_keep_a_checked_openpgp_key() {
    let app = test_app().await;
    let reply = app
        .call(Some("analyst"), "POST", "/api/v1/organisations/EP-A/contacts", Some(json!({
            "name": "Amra Hodžić", "role": "CISO", "email": "ciso@ep-a.example.ba", "phone": "+387 33 123 456",
            "languages": ["bs", "sr-Cyrl"], "pgp_key": KEY
        })))
        .await;
    assert_status(&reply, StatusCode::CREATED);
    let fingerprint = reply.body["pgp_fingerprint"].as_str().unwrap();
    assert_eq!(fingerprint.len(), 40, "{fingerprint}");
    assert_eq!(reply.body["languages"], json!(["bs", "sr-Cyrl"]));

    let secret = app
        .call(
            Some("analyst"),
            "POST",
            "/api/v1/organisations/EP-A/contacts",
            Some(json!({
                "name": "Oops", "email": "oops@ep-a.example.ba", "pgp_key": SECRET_KEY
            })),
        )
        .await;
    assert_status(&secret, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(secret.body["field"], "pgp_key");

    // An organisation's own admin may not exist here, but its constituent may not edit it.
    let id = reply.body["id"].as_str().unwrap();
    let edit = app
        .call(
            Some("alice"),
            "PUT",
            &format!("/api/v1/contacts/{id}"),
            Some(json!({"name": "X", "email": "x@ep-a.example.ba"})),
        )
        .await;
    assert_status(&edit, StatusCode::FORBIDDEN);
    let edit = app
        .call(
            Some("analyst"),
            "PUT",
            &format!("/api/v1/contacts/{id}"),
            Some(json!({"name": "Amra H.", "email": "ciso@ep-a.example.ba"})),
        )
        .await;
    assert_status(&edit, StatusCode::OK);
    assert_eq!(edit.body["pgp_fingerprint"], serde_json::Value::Null, "the key was removed by the update");
}

#[tokio::test]
async fn organisations_update_and_delete_with_rules() {
    let app = test_app().await;
    let reply = app
        .call(
            Some("analyst"),
            "PUT",
            "/api/v1/organisations/EP-B",
            Some(json!({
                "name": "Elektro B d.o.o.", "short_name": "EP-B", "authority_level": "Republika Srpska",
                "sector": "energy", "subsector": "gas", "entity_type": "important", "parent": "CERT-BIH"
            })),
        )
        .await;
    assert_status(&reply, StatusCode::OK);
    assert_eq!(reply.body["parent"], "CERT-BIH");
    assert_eq!(reply.body["subsector"], "gas");
    // A parent cycle is refused.
    let cycle = app
        .call(
            Some("analyst"),
            "PUT",
            "/api/v1/organisations/CERT-BIH",
            Some(json!({
                "name": "CERT BiH", "short_name": "CERT-BIH", "authority_level": "State", "parent": "EP-B"
            })),
        )
        .await;
    assert_status(&cycle, StatusCode::CONFLICT);
    assert_eq!(cycle.body["field"], "parent_id");
    // An organisation with users cannot be deleted; one without can.
    let refused = app.call(Some("analyst"), "DELETE", "/api/v1/organisations/EP-A", None).await;
    assert_status(&refused, StatusCode::CONFLICT);
    let created = app
        .call(
            Some("analyst"),
            "POST",
            "/api/v1/organisations",
            Some(json!({"name": "Temp", "short_name": "TMP", "authority_level": "Brčko District"})),
        )
        .await;
    assert_status(&created, StatusCode::CREATED);
    let deleted = app.call(Some("analyst"), "DELETE", "/api/v1/organisations/TMP", None).await;
    assert_status(&deleted, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn overlaps_between_organisations_are_reported() {
    let app = test_app().await;
    for (org, value) in
        [("EP-A", "198.51.100.0/25"), ("EP-B", "198.51.100.16/28"), ("EP-B", "AS64500"), ("EP-A", "AS64500")]
    {
        let reply = app
            .call(
                Some("analyst"),
                "POST",
                &format!("/api/v1/organisations/{org}/assets"),
                Some(json!({"value": value})),
            )
            .await;
        assert_status(&reply, StatusCode::CREATED);
    }
    let lookup = app.get("analyst", "/api/v1/lookup?q=198.51.100.20").await;
    assert_eq!(lookup.body["owners"][0]["short_name"], "EP-B");
    assert_eq!(lookup.body["overlap"], true);
    assert_eq!(lookup.body["matches"].as_array().unwrap().len(), 2);
    let overlaps = app.get("analyst", "/api/v1/lookup/overlaps").await;
    assert_eq!(overlaps.body.as_array().unwrap().len(), 2, "{}", overlaps.text);
    let none_for_alice = app.get("alice", "/api/v1/lookup/overlaps").await;
    assert_eq!(none_for_alice.body, json!([]));
}
