//! Incident handling over HTTP: the access matrix (roles × own and other organisation × TLP)
//! through every read path, the workflow's 409, evidence limits and custody, e-mail intake,
//! and the routes shared with feed reports.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use neretva_incident::deadline::CivilZone;
use neretva_incident::summary::Quarter;
use neretva_model::user::Role;
use serde_json::{Value, json};

use crate::support::{ExtraUser, Reply, TestApp, assert_status, config, test_app_extended};

/// Beyond the standard users: an admin and a community member of EP-A, an analyst of EP-B, and
/// two competent authorities, one for energy (EP-A's sector) and one for health.
const EXTRA: &[ExtraUser] = &[
    ("epadmin", Role::Admin, "EP-A", &[]),
    ("dave", Role::Community, "EP-A", &[]),
    ("ebanalyst", Role::Analyst, "EP-B", &[]),
    ("regulator", Role::Authority, "REG", &["energy"]),
    ("healthreg", Role::Authority, "REG", &["health"]),
];

/// A temporary evidence directory, removed at the end.
struct EvidenceDir(std::path::PathBuf);

impl EvidenceDir {
    fn new() -> EvidenceDir {
        EvidenceDir(std::env::temp_dir().join(format!("neretva-evidence-{}", uuid::Uuid::new_v4())))
    }
}

impl Drop for EvidenceDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn app(max_evidence_bytes: u64) -> (TestApp, EvidenceDir) {
    let dir = EvidenceDir::new();
    let mut config = config();
    config.evidence_dir = Some(dir.0.clone());
    config.evidence_limits.max_bytes = max_evidence_bytes;
    (test_app_extended(config, EXTRA).await, dir)
}

const TLPS: [&str; 5] = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"];

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap()
}

/// Opens one incident per TLP, reported by and affecting EP-A, aware 30 hours ago (so its early
/// warning is overdue), PAP:GREEN; the RED one is assigned to its creator, the analyst.
async fn seed_incidents(app: &TestApp) -> Vec<(String, String)> {
    let aware = rfc3339(time::OffsetDateTime::now_utc() - time::Duration::hours(30));
    let mut ids = Vec::new();
    for tlp in TLPS {
        let reply = app
            .call(
                Some("analyst"),
                "POST",
                "/api/v1/incidents",
                Some(json!({
                    "title": format!("Incident {tlp}"), "classification": "phishing", "tlp": tlp, "pap": "GREEN",
                    "reporter_org": "EP-A", "affected_orgs": ["EP-A"], "aware_at": aware,
                })),
            )
            .await;
        assert_status(&reply, StatusCode::CREATED);
        ids.push((tlp.to_owned(), reply.body["id"].as_str().unwrap().to_owned()));
    }
    ids
}

/// Submits one report per TLP for EP-A, by alice.
async fn seed_reports(app: &TestApp) -> Vec<(String, String)> {
    let mut ids = Vec::new();
    for tlp in TLPS {
        let reply = app
            .call(
                Some("alice"),
                "POST",
                "/api/v1/reports/incidents",
                Some(json!({
                    "title": format!("Report {tlp}"), "tlp": tlp,
                    "aware_at": rfc3339(time::OffsetDateTime::now_utc() - time::Duration::hours(2)),
                    "stage": {"kind": "early_warning", "suspected_malicious": "yes", "summary": "Fake login page."}
                })),
            )
            .await;
        assert_status(&reply, StatusCode::CREATED);
        ids.push((tlp.to_owned(), reply.body["report"]["id"].as_str().unwrap().to_owned()));
    }
    ids
}

fn titles(reply: &Reply) -> BTreeSet<String> {
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["title"].as_str().unwrap().to_owned())
        .collect()
}

/// Which TLPs each user sees of incidents reported by EP-A (RED assigned to the analyst).
fn incident_expectations() -> Vec<(&'static str, &'static [&'static str])> {
    const UP_TO_STRICT: &[&str] = &["CLEAR", "GREEN", "AMBER", "AMBER+STRICT"];
    const SHARED: &[&str] = &["CLEAR", "GREEN"];
    vec![
        // Operator staff: everything but RED, which only its assignee sees.
        ("admin", UP_TO_STRICT),
        ("analyst", &["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]),
        ("auditor", UP_TO_STRICT),
        // Own organisation, any role.
        ("epadmin", UP_TO_STRICT),
        ("alice", UP_TO_STRICT),
        ("dave", UP_TO_STRICT),
        // Another organisation (a client of the same CERT, or outside it), any role.
        ("ebanalyst", SHARED),
        ("bob", SHARED),
        ("carol", SHARED),
        // A competent authority of the incident's sector, and one of another sector.
        ("regulator", UP_TO_STRICT),
        ("healthreg", SHARED),
    ]
}

#[tokio::test]
async fn access_matrix_nothing_leaks_through_any_read_path() {
    let (app, _dir) = app(1024 * 1024).await;
    let incidents = seed_incidents(&app).await;
    let reports = seed_reports(&app).await;
    let quarter = Quarter::of(time::OffsetDateTime::now_utc(), CivilZone::default());

    for (user, seen) in incident_expectations() {
        let expected: BTreeSet<String> = seen.iter().map(|tlp| format!("Incident {tlp}")).collect();
        let context = format!("user {user}");

        // Lists and searches: the analysts' incidents, among the reports' own incidents.
        let list = app.get(user, "/api/v1/incidents?q=incident%20&limit=100").await;
        assert_status(&list, StatusCode::OK);
        assert_eq!(titles(&list), expected, "{context}: list");
        let queue = app.get(user, "/api/v1/incidents/queue?limit=1000").await;
        let queued: BTreeSet<String> =
            titles(&queue).into_iter().filter(|t| t.starts_with("Incident ")).collect();
        assert_eq!(queued, expected, "{context}: queue");

        // Single reads and their parts answer 404 for what the user may not see.
        for (tlp, id) in &incidents {
            let visible = seen.contains(&tlp.as_str());
            let status = if visible { StatusCode::OK } else { StatusCode::NOT_FOUND };
            for path in ["", "/timeline", "/tasks", "/observables", "/links", "/evidence", "/requests"] {
                let reply = app.get(user, &format!("/api/v1/incidents/{id}{path}")).await;
                assert_eq!(reply.status, status, "{context}: {tlp} {path}: {}", reply.text);
            }
            let reports_of = app.get(user, &format!("/api/v1/reports/incidents?incident={id}")).await;
            assert_status(&reports_of, StatusCode::OK);
        }

        // Exports: the CSV holds exactly the visible incidents (PAP:GREEN allows exporting).
        let csv = app.get(user, "/api/v1/incidents?q=incident%20&format=csv").await;
        assert_status(&csv, StatusCode::OK);
        let exported: BTreeSet<String> =
            csv.text.lines().skip(1).map(|line| line.split(',').nth(1).unwrap().to_owned()).collect();
        assert_eq!(exported, expected, "{context}: csv export");

        // The deadline feed: the overdue early warnings of the visible incidents only.
        let feed = app.get(user, "/api/v1/incidents/deadlines").await;
        assert_status(&feed, StatusCode::OK);
        let due: BTreeSet<String> = feed
            .body
            .as_array()
            .unwrap()
            .iter()
            .filter(|item| item["kind"] == "early_warning" && item["state"] == "overdue")
            .map(|item| item["title"].as_str().unwrap().to_owned())
            .filter(|title| title.starts_with("Incident "))
            .collect();
        assert_eq!(due, expected, "{context}: deadline feed");
        // The same feed as iCalendar and CSV names the same incidents and no others.
        for format in ["ics", "csv"] {
            let other = app.get(user, &format!("/api/v1/incidents/deadlines?format={format}")).await;
            assert_status(&other, StatusCode::OK);
            let text = other.text.replace("\r\n ", "");
            for (tlp, _) in &incidents {
                let title = format!("Incident {tlp}");
                // "Incident AMBER" is a prefix of "Incident AMBER+STRICT": match the whole title.
                let named = text.contains(&format!(": {title}\r\n")) || text.contains(&format!(",{title},"));
                assert_eq!(named, expected.contains(&title), "{context}: {format} feed names {title}");
            }
        }

        // Aggregates count only what the user may see (reports' incidents included).
        let stats = app.get(user, "/api/v1/incidents/stats").await;
        assert_status(&stats, StatusCode::OK);
        let summary =
            app.get(user, &format!("/api/v1/incidents/summary?quarter={quarter}&format=json")).await;
        assert_status(&summary, StatusCode::OK);
        let all_visible = app.get(user, "/api/v1/incidents?limit=1000").await;
        let count = all_visible.body["items"].as_array().unwrap().len() as u64;
        assert_eq!(stats.body["total"].as_u64(), Some(count), "{context}: stats");
        assert_eq!(summary.body["total"].as_u64(), Some(count), "{context}: summary");
        for format in ["csv", "html"] {
            let exported =
                app.get(user, &format!("/api/v1/incidents/summary?quarter={quarter}&format={format}")).await;
            assert_status(&exported, StatusCode::OK);
            for leak in ["Incident CLEAR", "Incident GREEN", "EP-A", "Elektro"] {
                assert!(!exported.text.contains(leak), "{context}: the summary is anonymised");
            }
        }
    }

    // Reports: owned by EP-A; RED only to its submitter.
    let report_expectations: Vec<(&str, &[&str])> = vec![
        ("admin", &["CLEAR", "GREEN", "AMBER", "AMBER+STRICT"]),
        ("alice", &["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]),
        ("dave", &["CLEAR", "GREEN", "AMBER", "AMBER+STRICT"]),
        ("bob", &["CLEAR", "GREEN"]),
        ("carol", &["CLEAR", "GREEN"]),
        ("regulator", &["CLEAR", "GREEN", "AMBER", "AMBER+STRICT"]),
        ("healthreg", &["CLEAR", "GREEN"]),
    ];
    for (user, seen) in report_expectations {
        let list = app.get(user, "/api/v1/reports/incidents").await;
        assert_status(&list, StatusCode::OK);
        let listed: BTreeSet<String> = list.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["report"]["title"].as_str().unwrap().to_owned())
            .collect();
        let expected: BTreeSet<String> = seen.iter().map(|tlp| format!("Report {tlp}")).collect();
        assert_eq!(listed, expected, "user {user}: reports");
        for (tlp, id) in &reports {
            let reply = app.get(user, &format!("/api/v1/reports/incidents/{id}")).await;
            let status = if seen.contains(&tlp.as_str()) { StatusCode::OK } else { StatusCode::NOT_FOUND };
            assert_eq!(reply.status, status, "user {user}: report {tlp}");
        }
    }
    // The exports were audited.
    let audit = app.get("admin", "/api/v1/audit?action=incident.summary.export&limit=1000").await;
    assert!(audit.body["items"].as_array().map_or(0, Vec::len) >= 33, "{}", audit.text);
}

#[tokio::test]
async fn pap_keeps_exports_to_the_operating_cert() {
    let (app, _dir) = app(1024 * 1024).await;
    let reply = app
        .call(
            Some("analyst"),
            "POST",
            "/api/v1/incidents",
            Some(json!({"title": "Quiet one", "tlp": "AMBER", "pap": "RED", "reporter_org": "EP-A"})),
        )
        .await;
    assert_status(&reply, StatusCode::CREATED);
    let id = reply.body["id"].as_str().unwrap().to_owned();
    let observable = app
        .call(
            Some("analyst"),
            "POST",
            &format!("/api/v1/incidents/{id}/observables"),
            Some(json!({"value": "198.51.100.7"})),
        )
        .await;
    assert_status(&observable, StatusCode::CREATED);
    let upload = upload(&app, "analyst", &id, b"pcap bytes", Some("10")).await;
    assert_status(&upload, StatusCode::CREATED);
    let sha256 = upload.body["sha256"].as_str().unwrap().to_owned();

    // Alice sees it (TLP:AMBER, her organisation) but may not take it out.
    assert_status(&app.get("alice", &format!("/api/v1/incidents/{id}")).await, StatusCode::OK);
    let csv = app.get("alice", "/api/v1/incidents?format=csv").await;
    assert!(!csv.text.contains("Quiet one"), "{}", csv.text);
    assert_status(
        &app.get("alice", &format!("/api/v1/incidents/{id}/observables?format=csv")).await,
        StatusCode::FORBIDDEN,
    );
    let download = app.get("alice", &format!("/api/v1/incidents/{id}/evidence/{sha256}/content")).await;
    assert_status(&download, StatusCode::FORBIDDEN);
    // The analyst may.
    let csv = app.get("analyst", "/api/v1/incidents?format=csv").await;
    assert!(csv.text.contains("Quiet one"));
    let observables = app.get("analyst", &format!("/api/v1/incidents/{id}/observables?format=csv")).await;
    assert!(observables.text.contains("198.51.100.7"));
    let download = app.get("analyst", &format!("/api/v1/incidents/{id}/evidence/{sha256}/content")).await;
    assert_status(&download, StatusCode::OK);
    assert_eq!(download.text, "pcap bytes");
}

async fn upload(app: &TestApp, user: &str, id: &str, bytes: &[u8], length: Option<&str>) -> Reply {
    let mut request = Request::builder()
        .method("POST")
        .uri(format!("/api/v1/incidents/{id}/evidence?filename=capture.pcap"))
        .header(header::AUTHORIZATION, format!("Bearer {}", app.tokens[user]))
        .header(header::CONTENT_TYPE, "application/vnd.tcpdump.pcap");
    if let Some(length) = length {
        request = request.header(header::CONTENT_LENGTH, length);
    }
    app.send(request.body(Body::from(bytes.to_vec())).unwrap()).await
}

#[tokio::test]
async fn invalid_transitions_answer_409_with_the_allowed_ones() {
    let (app, _dir) = app(1024).await;
    let created =
        app.call(Some("analyst"), "POST", "/api/v1/incidents", Some(json!({"title": "Scan"}))).await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["allowed_transitions"], json!(["triage"]));
    let uri = format!("/api/v1/incidents/{id}/transition");
    let refused = app.call(Some("analyst"), "POST", &uri, Some(json!({"to": "closed"}))).await;
    assert_status(&refused, StatusCode::CONFLICT);
    assert_eq!(refused.body["code"], "conflict");
    assert_eq!(refused.body["allowed"], json!(["triage"]));
    assert_eq!(refused.body["field"], "to");
    let moved = app.call(Some("analyst"), "POST", &uri, Some(json!({"to": "triage", "version": 1}))).await;
    assert_status(&moved, StatusCode::OK);
    assert_eq!(moved.body["allowed_transitions"], json!(["in_progress", "resolved", "closed"]));
    // A stale version is refused, naming the field.
    let stale =
        app.call(Some("analyst"), "POST", &uri, Some(json!({"to": "in_progress", "version": 1}))).await;
    assert_status(&stale, StatusCode::CONFLICT);
    assert_eq!(stale.body["field"], "version");
    let unknown = app.call(Some("analyst"), "POST", &uri, Some(json!({"to": "done"}))).await;
    assert_status(&unknown, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.body["field"], "to");
    // Constituents and auditors see it only if allowed and never move it.
    let by_auditor = app.call(Some("auditor"), "POST", &uri, Some(json!({"to": "in_progress"}))).await;
    assert_status(&by_auditor, StatusCode::FORBIDDEN);
    let by_bob = app.call(Some("bob"), "POST", &uri, Some(json!({"to": "in_progress"}))).await;
    assert_status(&by_bob, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn oversized_evidence_answers_413_with_the_limit_and_stores_nothing() {
    let (app, dir) = app(1024).await;
    let created = app
        .call(
            Some("analyst"),
            "POST",
            "/api/v1/incidents",
            Some(json!({"title": "Leak", "reporter_org": "EP-A"})),
        )
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let big = vec![b'x'; 4000];
    // Refused from the declared length, and while streaming when no length is declared.
    for length in [Some("4000"), None] {
        let reply = upload(&app, "analyst", &id, &big, length).await;
        assert_status(&reply, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(reply.body["code"], "payload_too_large");
        assert_eq!(reply.body["limit"], 1024);
    }
    assert_eq!(app.get("analyst", &format!("/api/v1/incidents/{id}/evidence")).await.body, json!([]));
    let stored: Vec<_> =
        walk(&dir.0).into_iter().filter(|path| !path.starts_with(dir.0.join("tmp"))).collect();
    assert!(stored.is_empty(), "{stored:?}");

    // Within the limit: stored, listed, and its custody grows with every access.
    let added = upload(&app, "alice", &id, b"firewall log", None).await;
    assert_status(&added, StatusCode::CREATED);
    let sha256 = added.body["sha256"].as_str().unwrap().to_owned();
    assert_status(&upload(&app, "alice", &id, b"firewall log", None).await, StatusCode::CONFLICT);
    assert_status(&upload(&app, "bob", &id, b"other", None).await, StatusCode::NOT_FOUND);
    let download = app.get("analyst", &format!("/api/v1/incidents/{id}/evidence/{sha256}/content")).await;
    assert_eq!(download.text, "firewall log");
    let exported = app
        .call(
            Some("analyst"),
            "POST",
            &format!("/api/v1/incidents/{id}/evidence/{sha256}/export"),
            Some(json!({"detail": "to the police, case 12/26"})),
        )
        .await;
    assert_status(&exported, StatusCode::OK);
    let detail = app.get("analyst", &format!("/api/v1/incidents/{id}/evidence/{sha256}")).await;
    let actions: Vec<&str> = detail.body["custody"]
        .as_array()
        .unwrap()
        .iter()
        .map(|record| record["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["added", "downloaded", "exported", "viewed"]);
    assert_eq!(detail.body["custody_intact"], true);
    assert!(walk(&dir.0).iter().any(|path| path.ends_with(&sha256)));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

async fn post_mail(app: &TestApp, user: &str, raw: &[u8]) -> Reply {
    let request = Request::builder()
        .method("POST")
        .uri("/api/v1/reports/incidents/email")
        .header(header::AUTHORIZATION, format!("Bearer {}", app.tokens[user]))
        .header(header::CONTENT_TYPE, "message/rfc822")
        .body(Body::from(raw.to_vec()))
        .unwrap();
    app.send(request).await
}

#[tokio::test]
async fn e_mail_intake_keeps_malformed_messages_with_their_reason() {
    let (app, _dir) = app(1024 * 1024).await;
    let failed = post_mail(&app, "analyst", b"this is not an e-mail at all").await;
    assert_status(&failed, StatusCode::CREATED);
    assert_eq!(failed.body["outcome"], "failed");
    assert!(!failed.body["reason"].as_str().unwrap().is_empty());
    assert_eq!(failed.body["incident_id"], Value::Null);

    let raw =
        b"From: soc@ep-a.example.ba\r\nTo: incident@cert.example.ba\r\nSubject: Ransomware note found\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\
Our file server shows a ransom note.\r\n--b\r\nContent-Type: text/plain; name=note.txt\r\n\
Content-Disposition: attachment; filename=note.txt\r\n\r\nPAY US\r\n--b--\r\n";
    let parsed = post_mail(&app, "alice", raw).await;
    assert_status(&parsed, StatusCode::CREATED);
    assert_eq!(parsed.body["outcome"], "parsed");
    assert_eq!(parsed.body["attachments"], 1);
    let incident = parsed.body["incident_id"].as_str().unwrap().to_owned();
    let shown = app.get("alice", &format!("/api/v1/incidents/{incident}")).await;
    assert_status(&shown, StatusCode::OK);
    assert_eq!(shown.body["title"], "Ransomware note found");
    assert_eq!(shown.body["reporter"]["short_name"], "EP-A");
    let evidence = app.get("alice", &format!("/api/v1/incidents/{incident}/evidence")).await;
    let types: Vec<&str> =
        evidence.body.as_array().unwrap().iter().map(|item| item["content_type"].as_str().unwrap()).collect();
    assert_eq!(types, ["message/rfc822", "text/plain"]);

    let intakes = app.get("analyst", "/api/v1/reports/incidents/email?outcome=failed").await;
    assert_status(&intakes, StatusCode::OK);
    assert_eq!(intakes.body.as_array().unwrap().len(), 1);
    assert_eq!(intakes.body[0]["id"], failed.body["id"]);
    assert_status(&app.get("alice", "/api/v1/reports/incidents/email").await, StatusCode::FORBIDDEN);
    // A competent authority changes nothing.
    assert_status(&post_mail(&app, "regulator", raw).await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn feed_reports_and_incident_reports_share_the_reports_path() {
    let (app, _dir) = app(1024).await;
    let submitted = app
        .call(
            Some("alice"),
            "POST",
            "/api/v1/reports/incidents",
            Some(json!({
                "title": "DDoS on the customer portal", "aware_at": rfc3339(time::OffsetDateTime::now_utc()),
                "stage": {"kind": "notification", "initial_assessment": "Volumetric attack.", "severity": "high",
                          "impact": "Portal down for 2 hours.", "indicators": [{"value": "203.0.113.9"}]}
            })),
        )
        .await;
    assert_status(&submitted, StatusCode::CREATED);
    let report = submitted.body["report"]["id"].as_str().unwrap().to_owned();
    assert_eq!(submitted.body["incident"]["severity"], "high");
    // Incident reports: the static segment wins over the feed report's `{id}`.
    let listed = app.get("analyst", "/api/v1/reports/incidents").await;
    assert_status(&listed, StatusCode::OK);
    assert_eq!(listed.body["items"][0]["id"], report.as_str());
    let one = app.get("analyst", &format!("/api/v1/reports/incidents/{report}")).await;
    assert_eq!(one.body["stage"], "notification");
    // Feed reports keep their routes and shapes.
    let feeds = app.get("analyst", "/api/v1/reports").await;
    assert_status(&feeds, StatusCode::OK);
    assert!(feeds.body.is_array());
    let missing = app.get("analyst", &format!("/api/v1/reports/{report}")).await;
    assert_status(&missing, StatusCode::NOT_FOUND);
    assert_eq!(missing.body["message"], "report not found");
    assert_status(
        &app.get("analyst", &format!("/api/v1/reports/{report}/errors")).await,
        StatusCode::NOT_FOUND,
    );
    assert_status(&app.get("alice", "/api/v1/reports").await, StatusCode::FORBIDDEN);
    // Both kinds are in the OpenAPI document.
    let doc = app.call(None, "GET", "/api/v1/openapi.json", None).await;
    for path in [
        "/api/v1/reports",
        "/api/v1/reports/incidents",
        "/api/v1/reports/incidents/email",
        "/api/v1/incidents/queue",
    ] {
        assert!(doc.body["paths"].get(path).is_some(), "{path} documented");
    }
}

#[tokio::test]
async fn an_incident_from_report_to_merge() {
    let (app, _dir) = app(1024 * 1024).await;
    // A feed event the indicator will match.
    let event = store_event(&app, "198.51.100.23").await;
    let submitted = app
        .call(
            Some("alice"),
            "POST",
            "/api/v1/reports/incidents",
            Some(json!({
                "title": "Botnet traffic from our network", "classification": "infected-system",
                "aware_at": rfc3339(time::OffsetDateTime::now_utc() - time::Duration::hours(3)),
                "stage": {"kind": "notification", "initial_assessment": "One host beacons out.", "severity": "medium",
                          "impact": "None yet.", "indicators": [{"value": "198.51.100.23"}, {"kind": "domain", "value": "c2[.]example"}]}
            })),
        )
        .await;
    assert_status(&submitted, StatusCode::CREATED);
    let id = submitted.body["incident"]["id"].as_str().unwrap().to_owned();
    let deadlines: Vec<&str> = submitted.body["incident"]["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert!(deadlines.contains(&"csirt_feedback") && deadlines.contains(&"final_report"), "{deadlines:?}");

    // The indicator became an observable that matched the stored event.
    let observables = app.get("analyst", &format!("/api/v1/incidents/{id}/observables")).await;
    let address = observables.body.as_array().unwrap().iter().find(|o| o["kind"] == "ipv4").unwrap().clone();
    assert_eq!(address["matched_events"], 1);
    let events = app
        .get("analyst", &format!("/api/v1/incidents/{id}/observables/events?kind=ipv4&value=198.51.100.23"))
        .await;
    assert_eq!(events.body[0]["id"], event.to_string());
    assert_eq!(
        app.get("alice", &format!("/api/v1/incidents/{id}/observables")).await.body[0]["matched_events"],
        Value::Null
    );

    // Handling: assign, triage, tasks from the playbook, feedback, comments.
    let base = format!("/api/v1/incidents/{id}");
    assert_status(
        &app.call(Some("analyst"), "POST", &format!("{base}/assign"), Some(json!({"assignee": "me"}))).await,
        StatusCode::OK,
    );
    assert_status(
        &app.call(Some("alice"), "POST", &format!("{base}/assign"), Some(json!({"assignee": "me"}))).await,
        StatusCode::FORBIDDEN,
    );
    let assigned = app
        .call(Some("analyst"), "POST", &format!("{base}/assign"), Some(json!({"assignee": "alice"})))
        .await;
    assert_status(&assigned, StatusCode::UNPROCESSABLE_ENTITY);
    app.call(Some("analyst"), "POST", &format!("{base}/transition"), Some(json!({"to": "triage"}))).await;
    let tasks = app.get("analyst", &format!("{base}/tasks")).await;
    let task = tasks.body[0]["id"].as_str().unwrap().to_owned();
    let done = app
        .call(Some("analyst"), "PATCH", &format!("{base}/tasks/{task}"), Some(json!({"status": "done"})))
        .await;
    assert_eq!(done.body["status"], "done");
    let feedback = app
        .call(
            Some("analyst"),
            "POST",
            &format!("{base}/feedback"),
            Some(json!({"text": "Isolate the host."})),
        )
        .await;
    assert_status(&feedback, StatusCode::CREATED);
    let met = feedback.body["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "csirt_feedback")
        .unwrap()
        .clone();
    assert_eq!(met["state"], "met");
    assert_status(
        &app.call(
            Some("alice"),
            "POST",
            &format!("{base}/comments"),
            Some(json!({"text": "Host isolated."})),
        )
        .await,
        StatusCode::CREATED,
    );
    assert_status(
        &app.call(Some("bob"), "POST", &format!("{base}/comments"), Some(json!({"text": "Hi"}))).await,
        StatusCode::NOT_FOUND,
    );
    assert_status(
        &app.call(Some("regulator"), "POST", &format!("{base}/comments"), Some(json!({"text": "Hi"}))).await,
        StatusCode::FORBIDDEN,
    );
    let patched = app
        .call(
            Some("analyst"),
            "PATCH",
            &base,
            Some(json!({"severity": "high", "add_orgs": ["EP-B"], "tlp": "AMBER"})),
        )
        .await;
    assert_status(&patched, StatusCode::OK);
    assert_eq!(patched.body["severity"], "high");
    assert_eq!(app.get("bob", &base).await.status, StatusCode::OK, "EP-B is affected now");

    // A duplicate, linked and then merged.
    let duplicate = app
        .call(
            Some("analyst"),
            "POST",
            "/api/v1/incidents",
            Some(json!({"title": "Same botnet host", "reporter_org": "EP-A"})),
        )
        .await;
    let other = duplicate.body["id"].as_str().unwrap().to_owned();
    let linked = app
        .call(
            Some("analyst"),
            "POST",
            &format!("{base}/links"),
            Some(json!({"other": other, "kind": "has_duplicate"})),
        )
        .await;
    assert_status(&linked, StatusCode::CREATED);
    let again = app
        .call(
            Some("analyst"),
            "POST",
            &format!("{base}/links"),
            Some(json!({"other": other, "kind": "related"})),
        )
        .await;
    assert_status(&again, StatusCode::CONFLICT);
    assert_eq!(
        app.get("analyst", &format!("/api/v1/incidents/{other}/links")).await.body[0]["kind"],
        "duplicate_of"
    );
    let merged =
        app.call(Some("analyst"), "POST", &format!("{base}/merge"), Some(json!({"source": other}))).await;
    assert_status(&merged, StatusCode::OK);
    let source = app.get("analyst", &format!("/api/v1/incidents/{other}")).await;
    assert_eq!(
        (source.body["status"].as_str(), source.body["merged_into"].as_str()),
        (Some("closed"), Some(id.as_str()))
    );
    let timeline = app.get("analyst", &format!("{base}/timeline")).await;
    let kinds: Vec<&str> =
        timeline.body.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for kind in [
        "created",
        "report_received",
        "observable_added",
        "assigned",
        "status_changed",
        "task_status_changed",
        "feedback_sent",
        "comment",
        "severity_changed",
        "linked",
        "merged",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    // Searching finds it by observable and by text; statistics count it.
    let found = app.get("analyst", "/api/v1/incidents?observable=c2.example").await;
    assert_eq!(found.body["items"][0]["id"], id.as_str());
    let found = app.get("analyst", "/api/v1/incidents?q=BOTNET").await;
    assert_eq!(found.body["items"].as_array().unwrap().len(), 1, "the merged duplicate is left out");
    let stats = app.get("analyst", "/api/v1/incidents/stats").await;
    assert_eq!(stats.body["total"], 1);
    let significance = app
        .call(
            Some("alice"),
            "POST",
            "/api/v1/incidents/significance",
            Some(json!({"facts": {"occurred_at": "2026-01-10T10:00:00Z", "planned": false, "severe_disruption_or_loss": true,
                "considerable_damage_to_others": false, "trade_secrets_exfiltrated": false, "death": false,
                "health_damage": false, "malicious_access": false}})),
        )
        .await;
    assert_status(&significance, StatusCode::OK);
    assert_eq!(significance.body["significant"], true, "{}", significance.text);
}

/// Stores a feed event with a source address, routed to EP-A.
async fn store_event(app: &TestApp, ip: &str) -> uuid::Uuid {
    use neretva_store::Store;
    use neretva_store::feeds::NewEvent;
    let org = app.store.find_org("EP-A").await.unwrap().unwrap();
    let id = uuid::Uuid::now_v7();
    let now = time::OffsetDateTime::now_utc();
    let json = json!({"source.ip": ip, "classification.type": "infected-system", "classification.taxonomy": "malicious-code",
        "feed.name": "test", "time.observation": rfc3339(now)})
    .to_string();
    let event = NewEvent {
        id,
        taxonomy: Some("malicious-code".into()),
        classification_type: Some("infected-system".into()),
        source_ip: Some(ip.parse().unwrap()),
        org_ids: vec![org.id],
        ..NewEvent::new(uuid::Uuid::now_v7(), "test", 1, "raw", now, json)
    };
    app.store.insert_events(&[event]).await.unwrap();
    id
}

#[tokio::test]
async fn competent_authorities_are_users_with_sectors() {
    let (app, _dir) = app(1024).await;
    let created = app
        .call(
            Some("admin"),
            "POST",
            "/api/v1/users",
            Some(json!({"username": "agency", "organisation": "REG", "role": "authority", "sectors": ["energy", "health"]})),
        )
        .await;
    assert_status(&created, StatusCode::CREATED);
    assert_eq!(created.body["sectors"], json!(["energy", "health"]));
    let id = created.body["id"].as_str().unwrap().to_owned();
    let wrong = app
        .call(
            Some("admin"),
            "POST",
            "/api/v1/users",
            Some(
                json!({"username": "other", "organisation": "REG", "role": "analyst", "sectors": ["energy"]}),
            ),
        )
        .await;
    assert_status(&wrong, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.body["field"], "sectors");
    let unknown = app
        .call(
            Some("admin"),
            "PATCH",
            &format!("/api/v1/users/{id}"),
            Some(json!({"sectors": ["shipbuilding"]})),
        )
        .await;
    assert_status(&unknown, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.body["field"], "sectors[0]");
    // Leaving the role drops the sectors.
    let demoted = app
        .call(Some("admin"), "PATCH", &format!("/api/v1/users/{id}"), Some(json!({"role": "community"})))
        .await;
    assert_status(&demoted, StatusCode::OK);
    assert_eq!(demoted.body["sectors"], json!([]));
    // The authority's token is read-only.
    let token = app.call(Some("regulator"), "POST", "/api/v1/incidents", Some(json!({"title": "x"}))).await;
    assert_status(&token, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_incident_from_feed_events() {
    let (app, _dir) = app(1024).await;
    let event = store_event(&app, "192.0.2.45").await;
    let created = app
        .call(
            Some("analyst"),
            "POST",
            "/api/v1/incidents",
            Some(json!({"title": "Infected host at EP-A", "event_ids": [event]})),
        )
        .await;
    assert_status(&created, StatusCode::CREATED);
    assert_eq!(created.body["classification"], "infected-system", "from the events' type");
    assert_eq!(created.body["source"], json!({"type": "events", "event_ids": [event]}));
    assert_eq!(created.body["affected"][0]["short_name"], "EP-A", "the events' organisation");
    let id = created.body["id"].as_str().unwrap();
    let observables = app.get("analyst", &format!("/api/v1/incidents/{id}/observables")).await;
    let address =
        observables.body.as_array().unwrap().iter().find(|o| o["value"] == "192.0.2.45").unwrap().clone();
    assert_eq!(address["matched_events"], 1);
    // EP-A's constituent sees it (TLP:AMBER+STRICT, affected), EP-B's does not.
    assert_status(&app.get("alice", &format!("/api/v1/incidents/{id}")).await, StatusCode::OK);
    assert_status(&app.get("bob", &format!("/api/v1/incidents/{id}")).await, StatusCode::NOT_FOUND);
    let unknown = app
        .call(
            Some("analyst"),
            "POST",
            "/api/v1/incidents",
            Some(json!({"title": "x", "event_ids": [uuid::Uuid::nil()]})),
        )
        .await;
    assert_status(&unknown, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.body["field"], "event_ids[0]");
}

#[tokio::test]
async fn overdue_and_due_soon_incidents_head_the_queue_and_the_deadline_feed() {
    let (app, _dir) = app(1024).await;
    let now = time::OffsetDateTime::now_utc();
    let mut ids = Vec::new();
    // Created in an order unlike the queue's: no deadline, due in a day, overdue, due soon.
    for (title, aware_hours_ago) in
        [("none", None), ("due", Some(1)), ("overdue", Some(30)), ("soon", Some(20))]
    {
        let mut body = json!({"title": title, "reporter_org": "EP-A"});
        if let Some(hours) = aware_hours_ago {
            body["aware_at"] = json!(rfc3339(now - time::Duration::hours(hours)));
        }
        let reply = app.call(Some("analyst"), "POST", "/api/v1/incidents", Some(body)).await;
        assert_status(&reply, StatusCode::CREATED);
        ids.push(reply.body["id"].as_str().unwrap().to_owned());
    }
    let queue = app.get("analyst", "/api/v1/incidents/queue").await;
    let order: Vec<(&str, &str)> = queue.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| (item["title"].as_str().unwrap(), item["urgency"].as_str().unwrap()))
        .collect();
    assert_eq!(order, [("overdue", "overdue"), ("soon", "due_soon"), ("due", "due"), ("none", "met")]);
    // Paging with the cursor keeps the order.
    let first = app.get("analyst", "/api/v1/incidents/queue?limit=2").await;
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let second = app.get("analyst", &format!("/api/v1/incidents/queue?limit=2&cursor={cursor}")).await;
    let titles: Vec<&str> = first.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second.body["items"].as_array().unwrap())
        .map(|item| item["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["overdue", "soon", "due", "none"]);
    // The feed: only what is overdue or due soon, the earliest first.
    let feed = app.get("analyst", "/api/v1/incidents/deadlines").await;
    let items: Vec<(&str, &str, &str)> = feed
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (item["title"].as_str().unwrap(), item["kind"].as_str().unwrap(), item["state"].as_str().unwrap())
        })
        .collect();
    assert_eq!(items, [("overdue", "early_warning", "overdue"), ("soon", "early_warning", "due_soon")]);
    let csirt = app.get("analyst", "/api/v1/incidents/deadlines?owed_by=csirt").await;
    assert_eq!(csirt.body, json!([]));
    // Resolving an incident takes it out of the queue.
    let overdue = &ids[2];
    for to in ["triage", "resolved"] {
        app.call(
            Some("analyst"),
            "POST",
            &format!("/api/v1/incidents/{overdue}/transition"),
            Some(json!({"to": to})),
        )
        .await;
    }
    let queue = app.get("analyst", "/api/v1/incidents/queue").await;
    assert_eq!(queue.body["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn timelines_name_only_incidents_the_caller_may_see() {
    let (app, _dir) = app(1024).await;
    let create = |title: &'static str, tlp: &'static str| {
        let app = &app;
        async move {
            let reply = app
                .call(
                    Some("analyst"),
                    "POST",
                    "/api/v1/incidents",
                    Some(json!({"title": title, "tlp": tlp, "reporter_org": "EP-A"})),
                )
                .await;
            reply.body["id"].as_str().unwrap().to_owned()
        }
    };
    let shared = create("Shared", "GREEN").await;
    let hidden = create("Hidden", "AMBER+STRICT").await;
    let linked = app
        .call(
            Some("analyst"),
            "POST",
            &format!("/api/v1/incidents/{shared}/links"),
            Some(json!({"other": hidden, "kind": "related"})),
        )
        .await;
    assert_status(&linked, StatusCode::CREATED);
    let kinds = |reply: &Reply| -> Vec<String> {
        reply.body.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect()
    };
    let for_analyst = app.get("analyst", &format!("/api/v1/incidents/{shared}/timeline")).await;
    assert!(kinds(&for_analyst).contains(&"linked".to_owned()));
    let for_bob = app.get("bob", &format!("/api/v1/incidents/{shared}/timeline")).await;
    assert_status(&for_bob, StatusCode::OK);
    assert!(!kinds(&for_bob).contains(&"linked".to_owned()), "{}", for_bob.text);
    assert!(!for_bob.text.contains(&hidden));
    assert_eq!(app.get("bob", &format!("/api/v1/incidents/{shared}/links")).await.body, json!([]));
}

#[tokio::test]
async fn a_personal_data_breach_runs_the_gdpr_clock() {
    let (app, _dir) = app(1024).await;
    let now = time::OffsetDateTime::now_utc();
    let gdpr = |notified: Option<String>| {
        json!({"aware_at": rfc3339(now - time::Duration::hours(80)), "nature": "Customer records copied.",
               "data_subject_categories": ["customers"], "record_categories": ["contact details"],
               "likely_consequences": "Phishing of customers.", "measures": "Passwords reset.", "notified_at": notified})
    };
    let early = app
        .call(
            Some("alice"),
            "POST",
            "/api/v1/reports/incidents",
            Some(json!({"title": "Customer database copied", "aware_at": rfc3339(now - time::Duration::hours(80)),
                "stage": {"kind": "early_warning", "suspected_malicious": "yes"}, "gdpr": gdpr(None)})),
        )
        .await;
    assert_status(&early, StatusCode::CREATED);
    let state = |reply: &Value, kind: &str| -> String {
        reply["deadlines"].as_array().unwrap().iter().find(|o| o["kind"] == kind).unwrap()["state"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let incident = early.body["incident"].clone();
    assert_eq!(state(&incident, "gdpr_notification"), "overdue", "72 hours after awareness");
    assert_eq!(state(&incident, "early_warning"), "met_late", "24 hours after awareness");
    assert_eq!(state(&incident, "notification"), "overdue");
    let id = incident["id"].as_str().unwrap();
    let notified = rfc3339(now - time::Duration::hours(10));
    let follow_up = app
        .call(
            Some("alice"),
            "POST",
            "/api/v1/reports/incidents",
            Some(json!({"title": "Customer database copied", "incident_id": id, "aware_at": rfc3339(now - time::Duration::hours(80)),
                "stage": {"kind": "notification", "initial_assessment": "One database.", "severity": "high", "impact": "40,000 customers."},
                "gdpr": gdpr(Some(notified))})),
        )
        .await;
    assert_status(&follow_up, StatusCode::CREATED);
    let incident = follow_up.body["incident"].clone();
    assert_eq!(incident["id"], id, "the follow-up joins the incident");
    assert_eq!(
        state(&incident, "gdpr_notification"),
        "met",
        "the authority was notified before the 72 hours ran out"
    );
    assert_eq!(state(&incident, "notification"), "met_late");
    // Another organisation cannot follow it up.
    let foreign = app
        .call(
            Some("bob"),
            "POST",
            "/api/v1/reports/incidents",
            Some(json!({"title": "x", "incident_id": id, "aware_at": rfc3339(now),
                "stage": {"kind": "intermediate", "status_update": "?"}})),
        )
        .await;
    assert_status(&foreign, StatusCode::NOT_FOUND);
}

/// An API token of `scope` for an existing user, under a new name.
async fn token_for(app: &mut TestApp, username: &str, scope: neretva_model::user::Scope, name: &str) {
    use neretva_store::Store;
    let user = app.store.find_user(username).await.unwrap().unwrap();
    let params = config().password_params;
    let (token, secret) = neretva_server::auth::new_token(params, user.id, "test", scope, None).unwrap();
    app.store.create_token(&neretva_store::Actor("test".into()), &token).await.unwrap();
    app.tokens.insert(name.to_owned(), secret);
}

#[tokio::test]
async fn intermediate_reports_are_asked_for_tracked_and_met() {
    let (mut app, _dir) = app(1024).await;
    token_for(&mut app, "regulator", neretva_model::user::Scope::Write, "regulator-w").await;
    let now = time::OffsetDateTime::now_utc();
    let submitted = app
        .call(
            Some("alice"),
            "POST",
            "/api/v1/reports/incidents",
            Some(json!({
                "title": "Outage of the SCADA gateway", "aware_at": rfc3339(now - time::Duration::hours(3)),
                "stage": {"kind": "notification", "initial_assessment": "Gateway unreachable.", "severity": "high",
                          "impact": "Remote control lost."}
            })),
        )
        .await;
    assert_status(&submitted, StatusCode::CREATED);
    let report = submitted.body["report"]["id"].as_str().unwrap().to_owned();
    let id = submitted.body["incident"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/incidents/{id}/requests");
    let ask =
        |due: time::OffsetDateTime| json!({"due_at": rfc3339(due), "note": "Status of the restoration?"});

    // Who may ask: not the entity, not another organisation, not a read-only credential.
    assert_status(
        &app.call(Some("alice"), "POST", &path, Some(ask(now + time::Duration::days(2)))).await,
        StatusCode::FORBIDDEN,
    );
    assert_status(
        &app.call(Some("bob"), "POST", &path, Some(ask(now + time::Duration::days(2)))).await,
        StatusCode::NOT_FOUND,
    );
    assert_status(
        &app.call(Some("regulator"), "POST", &path, Some(ask(now + time::Duration::days(2)))).await,
        StatusCode::FORBIDDEN,
    );
    let past = app.call(Some("analyst"), "POST", &path, Some(ask(now - time::Duration::hours(1)))).await;
    assert_status(&past, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(past.body["field"], "due_at");

    // The CSIRT asks for one in two days, the energy regulator for one within the hour.
    let by_cert = app.call(Some("analyst"), "POST", &path, Some(ask(now + time::Duration::days(2)))).await;
    assert_status(&by_cert, StatusCode::CREATED);
    let by_regulator =
        app.call(Some("regulator-w"), "POST", &path, Some(ask(now + time::Duration::minutes(50)))).await;
    assert_status(&by_regulator, StatusCode::CREATED);
    // The CSIRT's staff see who asked (the regulator may not see the CSIRT's own record).
    let seen_by_cert = app.get("analyst", &format!("/api/v1/incidents/{id}")).await;
    let requests = seen_by_cert.body["intermediate_requests"].as_array().unwrap().clone();
    let seen: Vec<(&str, &str)> = requests
        .iter()
        .map(|r| (r["requester"]["short_name"].as_str().unwrap(), r["state"].as_str().unwrap()))
        .collect();
    assert_eq!(seen, [("CERT-BIH", "due"), ("REG", "due_soon")]);
    let kinds: Vec<&str> = by_regulator.body["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "intermediate_report").count(), 2);
    assert_eq!(
        by_regulator.body["urgency"], "due_soon",
        "the regulator's request heads the incident's deadlines"
    );

    // The feed for notifications lists the one due soon, owed by the entity.
    let feed = app.get("analyst", "/api/v1/incidents/deadlines?owed_by=entity").await;
    let due: Vec<&str> =
        feed.body.as_array().unwrap().iter().map(|item| item["kind"].as_str().unwrap()).collect();
    assert_eq!(due, ["intermediate_report"]);

    // The entity sees what it is asked for, on the incident and on its report.
    let own = app.get("alice", &path).await;
    assert_status(&own, StatusCode::OK);
    assert_eq!(own.body.as_array().unwrap().len(), 2);
    let on_report = app.get("alice", &format!("/api/v1/reports/incidents/{report}")).await;
    assert_eq!(on_report.body["intermediate_requests"].as_array().unwrap().len(), 2);
    assert_status(&app.get("bob", &path).await, StatusCode::NOT_FOUND);

    // An intermediate report answers both.
    let answered = app
        .call(
            Some("alice"),
            "POST",
            "/api/v1/reports/incidents",
            Some(json!({
                "title": "Outage of the SCADA gateway", "aware_at": rfc3339(now - time::Duration::hours(3)),
                "incident_id": id, "stage": {"kind": "intermediate", "status_update": "Restored on the backup link."}
            })),
        )
        .await;
    assert_status(&answered, StatusCode::CREATED);
    let states: Vec<String> = app
        .get("alice", &path)
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(states, ["met", "met"]);

    // Recorded in the timeline with who asked, and audited.
    let timeline = app.get("analyst", &format!("/api/v1/incidents/{id}/timeline")).await;
    let asked =
        timeline.body.as_array().unwrap().iter().filter(|e| e["kind"] == "intermediate_requested").count();
    assert_eq!(asked, 2);
    let audit = app.get("admin", "/api/v1/audit?limit=200").await;
    let audited = audit.body["items"]
        .as_array()
        .or(audit.body.as_array())
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "incident.intermediate.request")
        .count();
    assert_eq!(audited, 2);
}

async fn trust_service_provider(app: &TestApp) {
    let reply = app
        .call(
            Some("admin"),
            "POST",
            "/api/v1/organisations",
            Some(json!({"name": "Trust Services BiH", "short_name": "TSP", "country": "BA",
                "sector": "digital-infrastructure", "subsector": "trust-service", "entity_type": "essential",
                "authority_level": "State"})),
        )
        .await;
    assert_status(&reply, StatusCode::CREATED);
}

#[tokio::test]
async fn trust_service_providers_notify_within_24_hours_and_significance_is_recorded() {
    let (app, _dir) = app(1024).await;
    trust_service_provider(&app).await;
    let now = time::OffsetDateTime::now_utc();
    let aware = (now - time::Duration::hours(2)).replace_nanosecond(0).unwrap();
    let open = |title: &'static str, org: &'static str| {
        let app = &app;
        async move {
            let reply = app
                .call(
                    Some("analyst"),
                    "POST",
                    "/api/v1/incidents",
                    Some(json!({"title": title, "reporter_org": org, "aware_at": rfc3339(aware), "classification": "dos"})),
                )
                .await;
            assert_status(&reply, StatusCode::CREATED);
            reply.body
        }
    };
    let notification_due = |body: &Value| {
        body["deadlines"].as_array().unwrap().iter().find(|d| d["kind"] == "notification").unwrap()["due_at"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // The registry's subsector decides: 24 hours for the trust service provider, 72 for EP-A.
    let tsp = open("Signing service down", "TSP").await;
    assert_eq!(notification_due(&tsp), rfc3339(aware + time::Duration::hours(24)));
    let energy = open("Portal down", "EP-A").await;
    assert_eq!(notification_due(&energy), rfc3339(aware + time::Duration::hours(72)));

    // Significance: the entity type comes from the registry (a trust service provider, whose
    // service was completely unavailable for more than 20 minutes).
    let id = tsp["id"].as_str().unwrap();
    let path = format!("/api/v1/incidents/{id}/significance");
    let facts = json!({"occurred_at": rfc3339(aware), "root_cause": "Expired HSM certificate",
        "direct_financial_loss_eur": 300000, "service": {"complete_unavailability_minutes": 45}});
    assert_status(
        &app.call(Some("alice"), "PUT", &path, Some(json!({"facts": facts}))).await,
        StatusCode::NOT_FOUND,
    );
    let stale = app.call(Some("analyst"), "PUT", &path, Some(json!({"facts": facts, "version": 99}))).await;
    assert_status(&stale, StatusCode::CONFLICT);
    let recorded = app.call(Some("analyst"), "PUT", &path, Some(json!({"facts": facts}))).await;
    assert_status(&recorded, StatusCode::OK);
    assert_eq!(recorded.body["assessment"]["significant"], true);
    let met: Vec<&str> = recorded.body["assessment"]["met"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(met, ["ir2690-art14-a"]);
    let shown = app.get("analyst", &format!("/api/v1/incidents/{id}")).await;
    assert_eq!(shown.body["significance"]["significant"], true);
    assert_eq!(shown.body["significance"]["facts"]["provider"], "trust_service_provider");
    assert_eq!(shown.body["significance"]["criteria"], json!(["ir2690-art14-a"]));
    let timeline = app.get("analyst", &format!("/api/v1/incidents/{id}/timeline")).await;
    assert!(timeline.body.as_array().unwrap().iter().any(|e| e["kind"] == "significance_assessed"));
    let bad = app
        .call(
            Some("analyst"),
            "PUT",
            &path,
            Some(json!({"facts": {"occurred_at": rfc3339(now + time::Duration::days(1))}})),
        )
        .await;
    assert_status(&bad, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["field"], "occurred_at");

    // Two more incidents of the entity with another root cause, neither significant alone
    // (the first, significant on its own, does not count): together over EUR 500,000, the
    // recurring-incident rule makes the later one significant.
    let mut recurring = Value::Null;
    let mut earlier = String::new();
    for (title, loss) in [("Signing service slow", 300_000), ("Signing service slow again", 250_000)] {
        let incident = open(title, "TSP").await;
        let incident_id = incident["id"].as_str().unwrap().to_owned();
        let facts = json!({"facts": {"occurred_at": rfc3339(now - time::Duration::hours(1)),
            "root_cause": "Expired HSM  certificate", "direct_financial_loss_eur": loss}});
        let path = format!("/api/v1/incidents/{incident_id}/significance");
        let reply = app.call(Some("analyst"), "PUT", &path, Some(facts)).await;
        assert_status(&reply, StatusCode::OK);
        recurring = reply.body;
        if earlier.is_empty() {
            assert_eq!(recurring["assessment"]["significant"], false);
            earlier = incident_id;
        }
    }
    assert_eq!(recurring["assessment"]["recurrence"]["incidents"], json!([earlier]));
    assert_eq!(recurring["incident"]["significance"]["criteria"], json!(["ir2690-art4"]));

    // The quarterly summary counts significant incidents, and says nothing of the others.
    let quarter = Quarter::of(now, CivilZone::default());
    let summary = app.get("analyst", &format!("/api/v1/incidents/summary?quarter={quarter}")).await;
    assert_eq!(summary.body["significant"], 2);
    let by: Vec<(&str, u64)> = summary.body["by_significance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["key"].as_str().unwrap(), c["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(by, [("significant", 2), ("not_significant", 1), ("not_assessed", 1)]);
    let csv = app.get("analyst", &format!("/api/v1/incidents/summary?quarter={quarter}&format=csv")).await;
    assert!(
        csv.text
            .starts_with("quarter,sector,rsit_taxonomy,rsit_type,severity,cross_border,significance,count")
    );
}

#[tokio::test]
async fn feed_events_stored_later_link_to_open_incidents() {
    let (app, _dir) = app(1024).await;
    let created = app
        .call(
            Some("analyst"),
            "POST",
            "/api/v1/incidents",
            Some(json!({"title": "Resolver abused", "reporter_org": "EP-A"})),
        )
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let closed = app
        .call(
            Some("analyst"),
            "POST",
            "/api/v1/incidents",
            Some(json!({"title": "Old case", "reporter_org": "EP-A"})),
        )
        .await;
    let closed_id = closed.body["id"].as_str().unwrap().to_owned();
    for (incident, value) in [(&id, "192.0.2.77"), (&id, "192.0.2.0/30"), (&closed_id, "192.0.2.78")] {
        let added = app
            .call(
                Some("analyst"),
                "POST",
                &format!("/api/v1/incidents/{incident}/observables"),
                Some(json!({"value": value})),
            )
            .await;
        assert_status(&added, StatusCode::CREATED);
        assert_eq!(added.body["matched_events"], 0);
    }
    for to in ["triage", "resolved"] {
        app.call(
            Some("analyst"),
            "POST",
            &format!("/api/v1/incidents/{closed_id}/transition"),
            Some(json!({"to": to})),
        )
        .await;
    }

    // A feed report arrives later: its events are matched as it is ingested.
    let mut csv = String::from(
        "\"timestamp\",\"severity\",\"ip\",\"protocol\",\"port\",\"hostname\",\"tag\",\"asn\",\"geo\",\"region\",\"city\",\"naics\",\"hostname_source\",\"sector\",\"dns_version\",\"min_amplification\"\n",
    );
    for ip in ["192.0.2.77", "192.0.2.78", "198.51.100.1"] {
        csv.push_str(&format!(
            "\"2026-11-27 10:00:00\",\"medium\",\"{ip}\",\"udp\",\"53\",\"\",\"openresolver\",\"64500\",\"BA\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"\n"
        ));
    }
    let uploaded = app
        .send(
            Request::post("/api/v1/reports?feed=shadowserver-dns")
                .header(header::AUTHORIZATION, format!("Bearer {}", app.tokens["analyst"]))
                .body(Body::from(csv))
                .unwrap(),
        )
        .await;
    assert_status(&uploaded, StatusCode::CREATED);
    let report = uploaded.body["id"].as_str().unwrap().to_owned();
    let observables = app.get("analyst", &format!("/api/v1/incidents/{id}/observables")).await;
    let counts: Vec<(&str, u64)> = observables
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["value"].as_str().unwrap(), o["matched_events"].as_u64().unwrap()))
        .collect();
    assert_eq!(counts, [("192.0.2.77", 1), ("192.0.2.0/30", 0)], "the address, not outside the network");
    let events = app
        .get("analyst", &format!("/api/v1/incidents/{id}/observables/events?kind=ipv4&value=192.0.2.77"))
        .await;
    assert_eq!(events.body.as_array().unwrap().len(), 1);
    assert_eq!(
        events.body[0]["source.ip"].as_str().or(events.body[0]["event"]["source.ip"].as_str()),
        Some("192.0.2.77")
    );
    let timeline = app.get("analyst", &format!("/api/v1/incidents/{id}/timeline")).await;
    let matched: Vec<&Value> =
        timeline.body.as_array().unwrap().iter().filter(|e| e["kind"] == "events_matched").collect();
    assert_eq!(matched.len(), 1);
    assert_eq!((matched[0]["value"].as_str(), matched[0]["events"].as_u64()), (Some("192.0.2.77"), Some(1)));
    // The resolved incident's observable is not matched again.
    let old = app.get("analyst", &format!("/api/v1/incidents/{closed_id}/observables")).await;
    assert_eq!(old.body[0]["matched_events"], 0);

    // Matching the same report again changes nothing; only handlers may ask.
    let again =
        app.call(Some("analyst"), "POST", "/api/v1/incidents/rematch", Some(json!({"report": report}))).await;
    assert_status(&again, StatusCode::OK);
    assert_eq!((again.body["events_examined"].as_u64(), again.body["linked"].as_u64()), (Some(3), Some(0)));
    assert_eq!(again.body["observables"], 2);
    let forbidden =
        app.call(Some("alice"), "POST", "/api/v1/incidents/rematch", Some(json!({"report": report}))).await;
    assert_status(&forbidden, StatusCode::FORBIDDEN);
    let both = app
        .call(
            Some("analyst"),
            "POST",
            "/api/v1/incidents/rematch",
            Some(json!({"report": report, "since": "2026-01-01T00:00:00Z"})),
        )
        .await;
    assert_status(&both, StatusCode::UNPROCESSABLE_ENTITY);
    let timeline = app.get("analyst", &format!("/api/v1/incidents/{id}/timeline")).await;
    assert_eq!(timeline.body.as_array().unwrap().iter().filter(|e| e["kind"] == "events_matched").count(), 1);
}

#[tokio::test]
async fn the_deadline_feed_as_icalendar_and_csv() {
    let (app, _dir) = app(1024).await;
    let now = time::OffsetDateTime::now_utc();
    let created = app
        .call(
            Some("analyst"),
            "POST",
            "/api/v1/incidents",
            Some(json!({"title": "Ransomware; at the clinic, ward 3", "reporter_org": "EP-A",
                "aware_at": rfc3339(now - time::Duration::hours(30))})),
        )
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let ics = app.get("analyst", "/api/v1/incidents/deadlines?format=ics").await;
    assert_status(&ics, StatusCode::OK);
    assert_eq!(ics.headers[header::CONTENT_TYPE], "text/calendar; charset=utf-8");
    let unfolded = ics.text.replace("\r\n ", "");
    assert!(unfolded.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
    assert!(unfolded.contains(&format!("UID:{id}-early_warning@neretva\r\n")));
    assert!(unfolded.contains("Ransomware\\; at the clinic\\, ward 3"), "{unfolded}");
    assert!(ics.text.split("\r\n").all(|line| line.len() <= 75));
    // The UID stays when the awareness time is corrected.
    app.call(
        Some("analyst"),
        "PATCH",
        &format!("/api/v1/incidents/{id}"),
        Some(json!({"aware_at": rfc3339(now - time::Duration::hours(29))})),
    )
    .await;
    let again = app.get("analyst", "/api/v1/incidents/deadlines?format=ics").await;
    assert!(again.text.replace("\r\n ", "").contains(&format!("UID:{id}-early_warning@neretva\r\n")));
    // Accept chooses when there is no format; CSV through the shared writer.
    let accepted = app
        .send(
            Request::get("/api/v1/incidents/deadlines")
                .header(header::AUTHORIZATION, format!("Bearer {}", app.tokens["analyst"]))
                .header(header::ACCEPT, "text/csv")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(accepted.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let mut lines = accepted.text.lines();
    assert_eq!(
        lines.next(),
        Some("incident_id,title,severity,assignee,kind,basis,owed_by,due_at,met_at,state")
    );
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with(&format!("{id},\"Ransomware; at the clinic, ward 3\",medium,,early_warning,"))
    );
    // Access is checked as for JSON: another organisation's constituent sees nothing.
    let other = app.get("bob", "/api/v1/incidents/deadlines?format=ics").await;
    assert!(!other.text.contains("VTODO"));
    let own = app.get("alice", "/api/v1/incidents/deadlines?format=csv").await;
    assert_eq!(own.text.lines().count(), 2);
    let unknown = app.get("analyst", "/api/v1/incidents/deadlines?format=pdf").await;
    assert_status(&unknown, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.body["field"], "format");
}
