//! The contact-point directory and communication checks through the API: who sees which points
//! (a Budapest 24/7 point only its organisation and the CERT's staff), which campaigns and
//! targets, who acknowledges; bad input names its fields and writes nothing; the one-time link
//! pages.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use neretva_governance::checks::{Step, token_hash};
use neretva_store::Actor;
use neretva_store::contact_points::{NewToken, StepRecord};
use serde_json::{Value, json};

use crate::support::{TestApp, assert_status, test_app};

fn ids(reply: &crate::support::Reply) -> Vec<String> {
    let mut found: Vec<String> = reply
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["email"].as_str().unwrap().to_owned())
        .collect();
    found.sort();
    found
}

async fn add(app: &TestApp, org: &str, kind: &str, email: &str, extra: Value) -> String {
    let mut body =
        json!({"org": org, "kind": kind, "name": "Duty officer", "email": email, "language": "hr"});
    if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
        body.extend(extra);
    }
    let reply = app.call(Some("analyst"), "POST", "/api/v1/contact-points", Some(body)).await;
    assert_status(&reply, StatusCode::CREATED);
    reply.body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn each_caller_sees_only_the_points_it_may() {
    let app = test_app().await;
    let a_technical = add(&app, "EP-A", "cbm8-technical", "tech@a.example.ba", json!({})).await;
    let a_247 = add(&app, "EP-A", "budapest-24x7", "247@a.example.ba", json!({})).await;
    let b_sector = add(&app, "EP-B", "sector", "soc@b.example.ba", json!({"sector": "energy"})).await;
    add(&app, "CERT-BIH", "cbm8-policy", "policy@cert.example.ba", json!({})).await;

    let all = ["247@a.example.ba", "policy@cert.example.ba", "soc@b.example.ba", "tech@a.example.ba"];
    for user in ["admin", "analyst", "auditor"] {
        assert_eq!(ids(&app.get(user, "/api/v1/contact-points").await), all, "{user}");
    }
    assert_eq!(
        ids(&app.get("alice", "/api/v1/contact-points").await),
        ["247@a.example.ba", "tech@a.example.ba"]
    );
    assert_eq!(ids(&app.get("bob", "/api/v1/contact-points").await), ["soc@b.example.ba"]);
    assert!(ids(&app.get("carol", "/api/v1/contact-points").await).is_empty());
    assert_eq!(
        ids(&app.get("analyst", "/api/v1/contact-points?kind=budapest-24x7").await),
        ["247@a.example.ba"]
    );
    for (user, id) in [("bob", &a_technical), ("bob", &a_247), ("carol", &a_247), ("alice", &b_sector)] {
        assert_status(&app.get(user, &format!("/api/v1/contact-points/{id}")).await, StatusCode::NOT_FOUND);
    }
    assert_status(&app.get("alice", &format!("/api/v1/contact-points/{a_247}")).await, StatusCode::OK);

    // Only the CERT's staff change the directory.
    let body = json!({"org": "EP-A", "kind": "cert", "name": "X", "email": "x@a.example.ba"});
    assert_status(
        &app.call(Some("alice"), "POST", "/api/v1/contact-points", Some(body)).await,
        StatusCode::FORBIDDEN,
    );
    assert_status(
        &app.call(Some("bob"), "DELETE", &format!("/api/v1/contact-points/{a_technical}"), None).await,
        StatusCode::NOT_FOUND,
    );
    assert_status(
        &app.call(Some("alice"), "DELETE", &format!("/api/v1/contact-points/{a_technical}"), None).await,
        StatusCode::FORBIDDEN,
    );

    // Every problem at once.
    let bad = json!({"org": "NOPE", "kind": "cbm9", "name": "X", "email": "x", "language": "de"});
    let reply = app.call(Some("admin"), "POST", "/api/v1/contact-points", Some(bad)).await;
    assert_status(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> =
        reply.body["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["org", "kind", "language"]);
    let bad = json!({"org": "EP-A", "kind": "sector", "name": " ", "email": "x"});
    let reply = app.call(Some("admin"), "POST", "/api/v1/contact-points", Some(bad)).await;
    let fields: Vec<&str> =
        reply.body["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "email", "sector"]);
    assert_eq!(app.get("admin", "/api/v1/contact-points").await.body.as_array().unwrap().len(), 4);

    // Replacing under the version read.
    let read = app.get("admin", &format!("/api/v1/contact-points/{a_technical}")).await;
    let point = json!({"org": "EP-A", "kind": "cbm8-technical", "name": "SOC", "email": "soc@a.example.ba"});
    let replaced = app
        .call(
            Some("admin"),
            "PUT",
            &format!("/api/v1/contact-points/{a_technical}"),
            Some(json!({"version": read.body["version"], "point": point.clone()})),
        )
        .await;
    assert_status(&replaced, StatusCode::OK);
    assert_eq!(replaced.body["version"], 2);
    let stale = app
        .call(
            Some("admin"),
            "PUT",
            &format!("/api/v1/contact-points/{a_technical}"),
            Some(json!({"version": 1, "point": point})),
        )
        .await;
    assert_status(&stale, StatusCode::CONFLICT);

    // Team profiles: read by whoever may see the organisation, exported as RFC 2350 text.
    let profile = json!({
        "document": {"last_updated": "2026-11-02"},
        "contact": {"team_name": "EP-A CERT", "address": "Mostar", "time_zone": "CET",
                    "email": "cert@a.example.ba", "customer_contact": "E-mail."},
        "charter": {"mission_statement": "Protect the grid.", "constituency": "EP-A."}
    });
    assert_status(
        &app.call(Some("alice"), "PUT", "/api/v1/contact-points/profiles/EP-A", Some(profile.clone())).await,
        StatusCode::FORBIDDEN,
    );
    assert_status(
        &app.call(Some("admin"), "PUT", "/api/v1/contact-points/profiles/EP-A", Some(profile)).await,
        StatusCode::OK,
    );
    let text = app.get("alice", "/api/v1/contact-points/profiles/EP-A/rfc2350").await;
    assert_status(&text, StatusCode::OK);
    assert!(text.text.contains("3.1 Mission Statement\n\n   Protect the grid.\n"), "{}", text.text);
    assert_status(&app.get("bob", "/api/v1/contact-points/profiles/EP-A").await, StatusCode::NOT_FOUND);
    assert_status(
        &app.get("bob", "/api/v1/contact-points/profiles/EP-A/rfc2350").await,
        StatusCode::NOT_FOUND,
    );
}

#[tokio::test]
async fn campaigns_show_each_organisation_only_its_targets() {
    let app = test_app().await;
    let a_technical = add(&app, "EP-A", "cbm8-technical", "tech@a.example.ba", json!({})).await;
    let b_sector = add(&app, "EP-B", "sector", "soc@b.example.ba", json!({"sector": "energy"})).await;
    add(&app, "EP-A", "budapest-24x7", "247@a.example.ba", json!({})).await;

    let deadline = (time::OffsetDateTime::now_utc() + time::Duration::hours(2))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let bad = json!({"name": "Q4", "kinds": ["cert", "cert"], "orgs": ["NOPE"], "deadline": "2020-01-01T00:00:00Z",
                     "remind_at": "tomorrow"});
    let reply = app.call(Some("admin"), "POST", "/api/v1/communication-checks", Some(bad)).await;
    assert_status(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> =
        reply.body["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["orgs[0]", "remind_at", "deadline", "kinds[1]"]);
    let campaign = json!({"name": "Q4", "kinds": ["cbm8-technical", "sector"], "deadline": deadline});
    assert_status(
        &app.call(Some("alice"), "POST", "/api/v1/communication-checks", Some(campaign.clone())).await,
        StatusCode::FORBIDDEN,
    );
    let created = app.call(Some("admin"), "POST", "/api/v1/communication-checks", Some(campaign)).await;
    assert_status(&created, StatusCode::CREATED);
    assert_eq!(created.body["stats"]["targets"], 2);
    let id = created.body["id"].as_str().unwrap().to_owned();

    let targets = |reply: &crate::support::Reply| -> Vec<String> {
        reply.body["targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["email"].as_str().unwrap().to_owned())
            .collect()
    };
    let url = format!("/api/v1/communication-checks/{id}");
    assert_eq!(targets(&app.get("analyst", &url).await).len(), 2);
    assert_eq!(targets(&app.get("alice", &url).await), ["tech@a.example.ba"]);
    assert_eq!(targets(&app.get("bob", &url).await), ["soc@b.example.ba"]);
    assert_status(&app.get("carol", &url).await, StatusCode::NOT_FOUND);
    assert!(app.get("carol", "/api/v1/communication-checks").await.body.as_array().unwrap().is_empty());
    assert_eq!(app.get("alice", "/api/v1/communication-checks").await.body[0]["stats"]["targets"], 1);

    // Acknowledging through the API: one's own points only, once.
    let ack = format!("{url}/acknowledge");
    assert_status(
        &app.call(Some("alice"), "POST", &ack, Some(json!({"point": b_sector}))).await,
        StatusCode::NOT_FOUND,
    );
    let done = app.call(Some("alice"), "POST", &ack, Some(json!({"point": a_technical}))).await;
    assert_status(&done, StatusCode::OK);
    assert_eq!(
        (done.body["acknowledged_via"].as_str(), done.body["acknowledged_by"].as_str()),
        (Some("api"), Some("alice"))
    );
    assert_status(
        &app.call(Some("alice"), "POST", &ack, Some(json!({"point": a_technical}))).await,
        StatusCode::CONFLICT,
    );
    let report = app.get("analyst", "/api/v1/communication-checks/report").await;
    assert_eq!(report.body[0]["stats"]["reachability_percent"], 50.0);
    let csv = app.get("bob", "/api/v1/communication-checks/report?format=csv").await;
    assert!(
        csv.text.contains(",Q4,") && csv.text.contains(",1,0,0,0,0,0,0,"),
        "bob's figures only: {}",
        csv.text
    );

    // Running needs the notifier.
    assert_status(
        &app.call(Some("admin"), "POST", &format!("{url}/run"), None).await,
        StatusCode::SERVICE_UNAVAILABLE,
    );
    assert_status(&app.call(Some("bob"), "POST", &format!("{url}/run"), None).await, StatusCode::FORBIDDEN);

    // The one-time link pages.
    let token = "ab".repeat(32);
    let campaign_id = neretva_model::Uuid::parse_str(&id).unwrap();
    app.store_steps(campaign_id, &b_sector, &token).await;
    let page = |method: &str| {
        Request::builder().method(method).uri(format!("/ack/{token}")).body(Body::empty()).unwrap()
    };
    let shown = app.send(page("GET")).await;
    assert_status(&shown, StatusCode::OK);
    assert!(shown.text.contains("Potvrdi primitak"), "in the point's language (hr): {}", shown.text);
    let recorded = app.send(page("POST")).await;
    assert_status(&recorded, StatusCode::OK);
    assert!(recorded.text.contains("zabilježena"), "{}", recorded.text);
    assert_status(&app.send(page("POST")).await, StatusCode::CONFLICT);
    assert_status(&app.send(page("GET")).await, StatusCode::CONFLICT);
    let bob_view = app.get("bob", &url).await;
    assert_eq!(bob_view.body["targets"][0]["acknowledged_via"], "link");
}

impl TestApp {
    /// Records a challenge to `point` with `token`, as a run would.
    async fn store_steps(&self, campaign: neretva_model::Uuid, point: &str, token: &str) {
        use neretva_store::Store as _;
        let step = StepRecord {
            point_id: neretva_model::Uuid::parse_str(point).unwrap(),
            step: Step::Send,
            at: time::OffsetDateTime::now_utc(),
            token: Some(NewToken {
                token_hash: token_hash(token),
                expires_at: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
            }),
            error: None,
        };
        self.store.record_check_steps(&Actor("test".into()), campaign, &[step]).await.unwrap();
    }
}
