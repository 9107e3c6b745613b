//! Bad input: stable codes, the offending field, nothing half-written, no panic.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

use crate::support::{assert_status, test_app};

#[tokio::test]
async fn invalid_fields_are_named() {
    let app = test_app().await;
    let cases = [
        (
            "/api/v1/organisations/EP-A/assets",
            json!({"kind": "cidr", "value": "192.0.2.300/24"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "value",
        ),
        (
            "/api/v1/organisations/EP-A/assets",
            json!({"value": "192.0.2.1/24"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "value",
        ),
        (
            "/api/v1/organisations",
            json!({"name": "X", "short_name": "X", "authority_level": "State", "sector": "nuclear"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "sector",
        ),
        (
            "/api/v1/organisations",
            json!({"name": "X", "short_name": "X", "authority_level": "Canton"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "authority_level",
        ),
        (
            "/api/v1/organisations",
            json!({"name": "X", "short_name": "X", "authority_level": "State", "colour": "red"}),
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "colour",
        ),
        (
            "/api/v1/organisations",
            json!({"name": "Elektro A", "short_name": "EPA2", "authority_level": "State"}),
            StatusCode::CONFLICT,
            "conflict",
            "name",
        ),
        (
            "/api/v1/organisations/EP-A/contacts",
            json!({"name": "X", "email": "x@ep-a.example.ba", "pgp_key": "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot a key\n-----END PGP PUBLIC KEY BLOCK-----\n"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "pgp_key",
        ),
        (
            "/api/v1/organisations/EP-A/contacts",
            json!({"name": "X", "email": "not-an-address"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "email",
        ),
    ];
    for (uri, body, status, code, field) in cases {
        let reply = app.call(Some("analyst"), "POST", uri, Some(body.clone())).await;
        assert_eq!(reply.status, status, "{uri} {body}: {}", reply.text);
        assert_eq!(reply.body["code"], code, "{uri} {body}: {}", reply.text);
        assert_eq!(reply.body["field"], field, "{uri} {body}: {}", reply.text);
    }
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = test_app().await;
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let reply = app
        .send(
            Request::post("/api/v1/organisations")
                .header(header::AUTHORIZATION, format!("Bearer {}", app.tokens["analyst"]))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(huge))
                .unwrap(),
        )
        .await;
    assert_status(&reply, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.body["code"], "payload_too_large");
}

#[tokio::test]
async fn a_bad_import_writes_nothing_and_reports_every_line() {
    let app = test_app().await;
    let before = app.get("analyst", "/api/v1/organisations").await.body["items"].as_array().unwrap().len();
    let csv = "record,org,name,short_name,country,sector,entity_type,authority_level,kind,value\n\
               organisation,,Good One,GOOD,BA,energy,essential,State,,\n\
               organisation,,Bad Sector,BADSEC,BA,nuclear,essential,State,,\n\
               asset,GOOD,,,,,,,cidr,10.0.0.1/8\n";
    let reply = app
        .send(
            Request::post("/api/v1/organisations/import")
                .header(header::AUTHORIZATION, format!("Bearer {}", app.tokens["analyst"]))
                .header(header::CONTENT_TYPE, "text/csv")
                .body(Body::from(csv))
                .unwrap(),
        )
        .await;
    assert_status(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["code"], "import_rejected");
    let lines: Vec<u64> =
        reply.body["details"].as_array().unwrap().iter().map(|d| d["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [3, 4], "{}", reply.text);
    let after = app.get("analyst", "/api/v1/organisations").await.body["items"].as_array().unwrap().len();
    assert_eq!(before, after, "nothing was written");
}

#[tokio::test]
async fn import_then_export_round_trips() {
    let app = test_app().await;
    let document = json!({"organisations": [
        {"name": "Toplane Sarajevo Demo", "short_name": "TOP-DEMO", "country": "BA", "sector": "energy",
         "subsector": "district-heating-cooling", "entity_type": "important", "authority_level": "Federation of BiH",
         "parent": "CERT-BIH",
         "contacts": [{"name": "Dežurni", "email": "soc@toplane.example.ba", "languages": ["bs"]}],
         "assets": [{"kind": "cidr", "value": "2001:db8:40::/48"}, {"kind": "asn", "value": "AS64510"}]}
    ]});
    let reply = app.call(Some("analyst"), "POST", "/api/v1/organisations/import", Some(document)).await;
    assert_status(&reply, StatusCode::OK);
    assert_eq!(reply.body["organisations_created"], 1);
    assert_eq!(reply.body["assets"], 2);
    let lookup = app.get("analyst", "/api/v1/lookup?q=2001:db8:40::1").await;
    assert_eq!(lookup.body["owners"][0]["short_name"], "TOP-DEMO");
    let export = app.get("analyst", "/api/v1/organisations/export").await;
    assert!(export.text.contains("TOP-DEMO") && export.text.contains("2001:db8:40::/48"));
    let again = app
        .send(
            Request::post("/api/v1/organisations/import?mode=upsert")
                .header(header::AUTHORIZATION, format!("Bearer {}", app.tokens["analyst"]))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(export.text.clone()))
                .unwrap(),
        )
        .await;
    assert_status(&again, StatusCode::OK);
    assert_eq!(again.body["organisations_created"], 0);
}

#[tokio::test]
async fn service_endpoints_answer() {
    let app = test_app().await;
    let health = app.send(Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_status(&health, StatusCode::OK);
    assert_eq!(health.body["database"], "sqlite");
    let openapi = app.send(Request::get("/api/v1/openapi.json").body(Body::empty()).unwrap()).await;
    assert_status(&openapi, StatusCode::OK);
    assert!(openapi.body["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/organisations",
        "/api/v1/lookup",
        "/api/v1/tokens",
        "/api/v1/audit/verify",
        "/api/v1/auth/login",
    ] {
        assert!(openapi.body["paths"].get(path).is_some(), "{path} missing from OpenAPI");
    }
    let unknown = app.get("analyst", "/api/v1/nothing-here").await;
    assert_status(&unknown, StatusCode::NOT_FOUND);
    assert_eq!(unknown.body["code"], "not_found");
    let bad_query = app.get("analyst", "/api/v1/lookup?q=this+is+not+anything!").await;
    assert_status(&bad_query, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_query.body["field"], "q");
}
