//! Preservation requests and maturity self-assessments in the OpenAPI document (their
//! behaviour and leak matrix are tested on the real binary, `crates/neretva/tests/records.rs`).

use crate::support::test_app;

#[tokio::test]
async fn the_openapi_document_lists_preservation_and_assessments() {
    let app = test_app().await;
    let reply = app.call(None, "GET", "/api/v1/openapi.json", None).await;
    let paths = reply.body["paths"].as_object().unwrap();
    for path in [
        "/api/v1/preservation",
        "/api/v1/preservation/reminders",
        "/api/v1/preservation/{id}",
        "/api/v1/preservation/{id}/preserve",
        "/api/v1/preservation/{id}/extend",
        "/api/v1/preservation/{id}/follow-up",
        "/api/v1/preservation/{id}/release",
        "/api/v1/assessments",
        "/api/v1/assessments/catalogue",
        "/api/v1/assessments/sectors",
        "/api/v1/assessments/{id}",
        "/api/v1/assessments/{id}/scores",
        "/api/v1/assessments/{id}/compare/{other}",
        "/api/v1/assessments/{id}/radar.svg",
        "/api/v1/assessments/{id}/trend.svg",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
}
