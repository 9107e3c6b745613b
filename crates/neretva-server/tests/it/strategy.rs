//! The strategy tracker through the API: a coordinator loads the Guidelines, breaks objective A
//! into actions at two levels of authority, records KPI measurements and prints the
//! implementation report; bad input names its field and writes nothing; who may read and write.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, assert_status, test_app};

fn version(reply: &crate::support::Reply) -> i64 {
    reply.body["version"].as_i64().unwrap()
}

fn actions(reply: &crate::support::Reply) -> Vec<Value> {
    reply.body["document"]["objectives"][0]["measures"][0]["actions"].as_array().cloned().unwrap_or_default()
}

async fn stored_version(app: &TestApp, id: &str) -> i64 {
    version(&app.get("admin", &format!("/api/v1/strategy/{id}")).await)
}

#[tokio::test]
async fn a_coordinator_tracks_the_guidelines_to_the_report() {
    let app = test_app().await;
    let loaded = app.call(Some("admin"), "POST", "/api/v1/strategy/defaults", None).await;
    assert_status(&loaded, StatusCode::CREATED);
    let id = loaded.body["id"].as_str().unwrap().to_owned();
    let codes: Vec<&str> = loaded.body["document"]["objectives"]
        .as_array()
        .unwrap()
        .iter()
        .map(|objective| objective["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["A", "B", "C", "D", "E", "F", "G", "H", "I"]);
    let again = app.call(Some("admin"), "POST", "/api/v1/strategy/defaults", None).await;
    assert_status(&again, StatusCode::CONFLICT);
    assert_eq!(again.body["field"], "code");

    let base = format!("/api/v1/strategy/{id}");
    let measure = json!({"objective": "A", "code": "A.1", "title": "Transpose NIS2", "tags": ["nis2-7:a"]});
    assert_status(
        &app.call(Some("analyst"), "POST", &format!("{base}/measures"), Some(measure)).await,
        StatusCode::CREATED,
    );
    let state_action = json!({
        "measure": "A.1", "title": "Draft the state law", "owner_org": "CERT-BIH", "start": "2026-01-01",
        "due": "2026-06-30", "status": "in_progress", "progress": 40, "tags": ["nis2-7:b"],
        "kpis": [{"code": "acts", "name": "Acts adopted", "target": 2}],
        "evidence": [{"title": "Draft", "url": "https://example.ba/draft"}]
    });
    assert_status(
        &app.call(Some("analyst"), "POST", &format!("{base}/actions"), Some(state_action)).await,
        StatusCode::CREATED,
    );
    let entity_action = json!({
        "measure": "A.1", "title": "Draft the entity law", "owner_org": "EP-A", "authority_level": "Republika Srpska",
        "start": "2026-02-01", "due": "2026-12-31",
        "kpis": [{"code": "acts", "name": "Acts adopted", "baseline": 0, "target": 1}]
    });
    let added = app.call(Some("analyst"), "POST", &format!("{base}/actions"), Some(entity_action)).await;
    assert_status(&added, StatusCode::CREATED);
    let listed = actions(&added);
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[1]["status"], "planned");
    let (first, second) =
        (listed[0]["id"].as_str().unwrap().to_owned(), listed[1]["id"].as_str().unwrap().to_owned());

    // Bad input: every problem named by its field, nothing written.
    let before = version(&added);
    let bad = json!({"measure": "A.1", "title": "x", "owner_org": "NOPE", "start": "2026-13-01", "due": "2026-01-01",
        "status": "finished"});
    let reply = app.call(Some("analyst"), "POST", &format!("{base}/actions"), Some(bad)).await;
    assert_status(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> =
        reply.body["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["owner_org", "start", "status"]);
    let backwards = json!({"measure": "A.1", "title": "x", "owner_org": "EP-B", "start": "2026-05-01", "due": "2026-04-30"});
    let reply = app.call(Some("analyst"), "POST", &format!("{base}/actions"), Some(backwards)).await;
    assert_status(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["field"], "objectives[0].measures[0].actions[2].due");
    let contact = json!({"responsible_contacts": ["00000000-0000-0000-0000-000000000404"]});
    let reply = app.call(Some("analyst"), "PATCH", &format!("{base}/actions/{first}"), Some(contact)).await;
    assert_status(&reply, StatusCode::CONFLICT);
    assert_eq!(reply.body["field"], "objectives[0].measures[0].actions[0].responsible_contacts[0]");
    let reply = app
        .call(
            Some("analyst"),
            "POST",
            &format!("{base}/measures"),
            Some(json!({"objective": "Z", "code": "Z.1", "title": "x"})),
        )
        .await;
    assert_status(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["field"], "objective");
    assert_eq!(stored_version(&app, &id).await, before);

    // KPI measurements and a finished action.
    let measurement = json!({"date": "2026-03-31", "value": 1, "note": "first act adopted"});
    let reply = app
        .call(
            Some("analyst"),
            "POST",
            &format!("{base}/actions/{first}/kpis/acts/measurements"),
            Some(measurement),
        )
        .await;
    assert_status(&reply, StatusCode::CREATED);
    let reply = app
        .call(
            Some("analyst"),
            "POST",
            &format!("{base}/actions/{first}/kpis/nope/measurements"),
            Some(json!({"date": "2026-03-31", "value": 1})),
        )
        .await;
    assert_status(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["field"], "kpi");
    let reply = app
        .call(Some("analyst"), "PATCH", &format!("{base}/actions/{second}"), Some(json!({"status": "done"})))
        .await;
    assert_status(&reply, StatusCode::OK);
    assert_eq!(actions(&reply)[1]["progress"], 100);

    // Views.
    let progress = app.get("alice", &format!("{base}/progress?on=2026-07-01")).await;
    assert_status(&progress, StatusCode::OK);
    assert_eq!(progress.body["total"]["actions"], 2);
    assert_eq!(progress.body["total"]["progress"], 70.0);
    assert_eq!(progress.body["by_objective"][0]["overdue"], 1);
    let levels: Vec<(String, Value)> = progress.body["by_level"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (row["key"].as_str().unwrap().to_owned(), row["progress"].clone()))
        .collect();
    assert_eq!(levels[0], ("State".to_owned(), json!(40.0)));
    assert_eq!(levels[2], ("Republika Srpska".to_owned(), json!(100.0)));
    let overdue = app.get("analyst", &format!("{base}/overdue?on=2026-07-01")).await;
    assert_eq!(overdue.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(overdue.body["items"][0]["id"], first.as_str());
    assert_eq!(app.get("analyst", &format!("{base}/overdue?on=2026-06-30")).await.body["items"], json!([]));
    let changes = app.get("analyst", &format!("{base}/changes?since=2000-01-01")).await;
    assert_status(&changes, StatusCode::OK);
    assert_eq!(changes.body["items"][0]["id"], second.as_str());
    assert_eq!(
        app.get("analyst", &format!("{base}/changes?since=2999-01-01T00:00:00Z")).await.body["items"],
        json!([])
    );
    assert_status(
        &app.get("analyst", &format!("{base}/changes?since=yesterday")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );

    // The implementation report in three formats, each export audited.
    let csv = app.get("analyst", &format!("{base}/report?format=csv&on=2026-07-01")).await;
    assert_status(&csv, StatusCode::OK);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    assert!(csv.text.contains("A,A.1,"), "{}", csv.text);
    assert!(csv.text.contains("Draft the state law,CERT BiH,State,2026-01-01,2026-06-30,in_progress,40,yes,acts: 1 on 2026-03-31 of 2"), "{}", csv.text);
    let html = app.get("analyst", &format!("{base}/report?format=html&on=2026-07-01")).await;
    assert!(
        html.text.contains("<h1>Implementation report: Guidelines for a Strategic Cybersecurity Framework"),
        "{}",
        html.text
    );
    let html = app.get("analyst", &format!("{base}/report?format=html&on=2026-07-01&lang=sr-Cyrl")).await;
    assert!(html.text.contains("<html lang=\"sr-Cyrl\">"), "{}", html.text);
    assert!(html.text.contains("<h1>Извештај о спровођењу: "), "{}", html.text);
    assert!(html.text.contains("<td>у току (рок прекорачен)</td>"), "{}", html.text);
    assert_status(
        &app.get("analyst", &format!("{base}/report?format=html&lang=klingon")).await,
        StatusCode::BAD_REQUEST,
    );
    let report = app.get("alice", &format!("{base}/report?on=2026-07-01")).await;
    assert_eq!(report.body["actions"][1]["owner"], "Elektro A");
    assert_eq!(report.body["actions"][0]["kpis"][0]["attainment"], 50.0);
    assert_status(&app.get("analyst", &format!("{base}/report?format=pdf")).await, StatusCode::BAD_REQUEST);
    let audit = app.get("admin", "/api/v1/audit?limit=1000").await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["object_type"] == "strategy")
        .map(|entry| entry["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "strategy.create",
            "strategy.measure.add",
            "strategy.action.add",
            "strategy.action.add",
            "strategy.kpi.measure",
            "strategy.action.update",
            "strategy.report.export",
            "strategy.report.export",
            "strategy.report.export",
            "strategy.report.export"
        ]
    );
}

#[tokio::test]
async fn readers_writers_and_restricted_documents() {
    let app = test_app().await;
    let loaded = app.call(Some("admin"), "POST", "/api/v1/strategy/defaults", None).await;
    let id = loaded.body["id"].as_str().unwrap().to_owned();
    // An action plan of EP-B under TLP:AMBER+STRICT: its own audience and the CERT's staff only.
    let plan = json!({"code": "AP-EPB", "title": "EP-B action plan", "owner_org": app.store_org("EP-B").await,
        "tlp": "TLP:AMBER+STRICT", "objectives": [{"code": "X", "title": "Harden the grid", "measures": [
            {"code": "X.1", "title": "Segmentation", "actions": [{"title": "Segment OT", "owner_org": app.store_org("EP-B").await,
            "authority_level": "Federation of BiH", "start": "2026-01-01", "due": "2026-03-01", "status": "planned", "progress": 0}]}]}]});
    let created = app.call(Some("analyst"), "POST", "/api/v1/strategy", Some(plan)).await;
    assert_status(&created, StatusCode::CREATED);
    let plan_id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(actions(&created)[0]["title"], "Segment OT");

    let codes = |reply: &crate::support::Reply| -> Vec<String> {
        reply.body.as_array().unwrap().iter().map(|item| item["code"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(codes(&app.get("bob", "/api/v1/strategy").await), ["AP-EPB", "BIH-SCF-2019"]);
    assert_eq!(codes(&app.get("auditor", "/api/v1/strategy").await), ["AP-EPB", "BIH-SCF-2019"]);
    assert_eq!(codes(&app.get("alice", "/api/v1/strategy").await), ["BIH-SCF-2019"]);
    for path in ["", "/progress", "/overdue", "/changes?since=2000-01-01", "/report?format=csv"] {
        let reply = app.get("alice", &format!("/api/v1/strategy/{plan_id}{path}")).await;
        assert_status(&reply, StatusCode::NOT_FOUND);
        assert!(!reply.text.contains("Segment"), "{}", reply.text);
    }
    // Writes to a document one may not see are 404 too, before any permission question.
    let reply = app.call(Some("alice"), "DELETE", &format!("/api/v1/strategy/{plan_id}"), None).await;
    assert_status(&reply, StatusCode::NOT_FOUND);
    assert_status(&app.get("bob", &format!("/api/v1/strategy/{plan_id}")).await, StatusCode::OK);

    // Constituents and auditors read, only the CERT's admins and analysts write.
    let measure = json!({"objective": "B", "code": "B.1", "title": "Register operators"});
    for user in ["alice", "bob", "auditor"] {
        let reply = app
            .call(Some(user), "POST", &format!("/api/v1/strategy/{id}/measures"), Some(measure.clone()))
            .await;
        assert_status(&reply, StatusCode::FORBIDDEN);
    }
    assert_status(
        &app.call(Some("bob"), "POST", "/api/v1/strategy/defaults", None).await,
        StatusCode::FORBIDDEN,
    );
    assert_status(&app.call(None, "GET", "/api/v1/strategy", None).await, StatusCode::UNAUTHORIZED);
    assert_status(
        &app.call(None, "GET", &format!("/api/v1/strategy/{id}"), None).await,
        StatusCode::UNAUTHORIZED,
    );

    // Replacing under the version read; a stale version is a conflict.
    let current = app.get("analyst", &format!("/api/v1/strategy/{plan_id}")).await;
    let mut document = current.body["document"].clone();
    document["title"] = json!("EP-B action plan 2026");
    let body = json!({"version": version(&current), "document": document});
    let replaced =
        app.call(Some("analyst"), "PUT", &format!("/api/v1/strategy/{plan_id}"), Some(body.clone())).await;
    assert_status(&replaced, StatusCode::OK);
    assert_eq!(replaced.body["document"]["title"], "EP-B action plan 2026");
    // The action did not change, so it keeps its time.
    assert_eq!(actions(&replaced)[0]["updated_at"], actions(&current)[0]["updated_at"]);
    let stale = app.call(Some("analyst"), "PUT", &format!("/api/v1/strategy/{plan_id}"), Some(body)).await;
    assert_status(&stale, StatusCode::CONFLICT);
    assert_eq!(stale.body["field"], "version");
    // Unknown fields and unknown organisations are refused.
    let mut bad = replaced.body["document"].clone();
    bad["colour"] = json!("red");
    let reply = app
        .call(
            Some("analyst"),
            "PUT",
            &format!("/api/v1/strategy/{plan_id}"),
            Some(json!({"version": 2, "document": bad})),
        )
        .await;
    assert_status(&reply, StatusCode::BAD_REQUEST);
    assert!(reply.text.contains("colour"), "{}", reply.text);
    let mut bad = replaced.body["document"].clone();
    bad["owner_org"] = json!("00000000-0000-0000-0000-000000000999");
    let reply = app
        .call(
            Some("analyst"),
            "PUT",
            &format!("/api/v1/strategy/{plan_id}"),
            Some(json!({"version": 2, "document": bad})),
        )
        .await;
    assert_status(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["field"], "owner_org");

    assert_status(
        &app.call(Some("analyst"), "DELETE", &format!("/api/v1/strategy/{plan_id}"), None).await,
        StatusCode::NO_CONTENT,
    );
    assert_status(&app.get("bob", &format!("/api/v1/strategy/{plan_id}")).await, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_openapi_document_lists_the_tracker() {
    let app = test_app().await;
    let reply = app.call(None, "GET", "/api/v1/openapi.json", None).await;
    let paths = reply.body["paths"].as_object().unwrap();
    for path in [
        "/api/v1/strategy",
        "/api/v1/strategy/defaults",
        "/api/v1/strategy/{id}",
        "/api/v1/strategy/{id}/actions/{action}/kpis/{kpi}/measurements",
        "/api/v1/strategy/{id}/report",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
}
