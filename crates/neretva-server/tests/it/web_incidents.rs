//! The incident pages and the constituent portal over HTTP, signed in with a session cookie as
//! a browser is: what a constituent must not see of another organisation (404 pages, nothing in
//! the queue or the portal's lists), CSRF refusal and version checks on triage forms, escaping of
//! incident titles, and a report sent through the portal's stages and triaged by an analyst.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

use crate::support::{TestApp, assert_status, location, sign_in, test_app};

const HOSTILE_TITLE: &str = "Ransomware at EP-B <script>alert('x')</script> & \"friends\"";

/// An incident reported by EP-B (bob's organisation) through the API, with an observable.
async fn incident_of_ep_b(app: &TestApp) -> String {
    crate::support::incident_of_ep_b(app, HOSTILE_TITLE).await
}

#[tokio::test]
async fn a_constituent_never_sees_another_organisations_incident_in_any_page() {
    let app = test_app().await;
    let id = incident_of_ep_b(&app).await;
    let alice = sign_in(&app, "alice").await;
    let hidden = [
        format!("/incidents/{id}"),
        format!("/portal/reports/{id}"),
        format!("/portal/reports/new?stage=intermediate&incident={id}"),
        format!("/incidents/{id}/observables?kind=ipv4&value=198.51.100.77"),
        format!("/incidents/{id}/evidence/{}", "0".repeat(64)),
    ];
    for uri in &hidden {
        let reply = alice.get(&app, uri).await;
        assert_status(&reply, StatusCode::NOT_FOUND);
        assert!(!reply.text.contains("Ransomware at EP-B"), "{uri} leaks the title");
    }
    // Changes to it answer 404 too, with a valid token, and change nothing.
    for (uri, fields) in [
        (format!("/portal/reports/{id}/messages"), vec![("text", "hello")]),
        (format!("/incidents/{id}/transition"), vec![("to", "triage")]),
    ] {
        let reply = alice.post(&app, &uri, &fields).await;
        assert_status(&reply, StatusCode::NOT_FOUND);
    }
    let send = alice
        .post(
            &app,
            "/portal/reports",
            &[
                ("step", "send"),
                ("stage", "intermediate"),
                ("incident", &id),
                ("title", "Follow-up"),
                ("aware_at", "2026-01-01T00:00"),
                ("status_update", "Nothing new."),
            ],
        )
        .await;
    assert_status(&send, StatusCode::NOT_FOUND);
    // The lists never name it.
    for uri in ["/incidents", "/incidents?status=new", "/portal", "/portal/reports/new"] {
        let reply = alice.get(&app, uri).await;
        assert_status(&reply, StatusCode::OK);
        assert!(!reply.text.contains("Ransomware at EP-B"), "{uri} lists another organisation's incident");
        assert!(!reply.text.contains(&id), "{uri} names another organisation's incident");
    }
    let timeline = app.get("analyst", &format!("/api/v1/incidents/{id}/timeline")).await;
    assert!(!timeline.text.contains("hello"), "a refused message was recorded");
    let status = app.get("analyst", &format!("/api/v1/incidents/{id}")).await;
    assert_eq!(status.body["status"], "new");

    // Its own organisation sees it, in the portal and on the incident page.
    let bob = sign_in(&app, "bob").await;
    assert_status(&bob.get(&app, &format!("/portal/reports/{id}")).await, StatusCode::OK);
    assert!(bob.get(&app, "/portal").await.text.contains("Ransomware at EP-B"));
}

#[tokio::test]
async fn incident_titles_are_escaped_everywhere_they_are_shown() {
    let app = test_app().await;
    let id = incident_of_ep_b(&app).await;
    let analyst = sign_in(&app, "analyst").await;
    let bob = sign_in(&app, "bob").await;
    let pages = [
        (&analyst, "/incidents".to_owned()),
        (&analyst, format!("/incidents/{id}")),
        (&analyst, format!("/incidents/{id}/observables?kind=ipv4&value=198.51.100.77")),
        (&bob, "/portal".to_owned()),
        (&bob, format!("/portal/reports/{id}")),
        (&bob, "/portal/reports/new".to_owned()),
        (&bob, format!("/portal/reports/new?stage=final&incident={id}")),
    ];
    for (browser, uri) in pages {
        let reply = browser.get(&app, &uri).await;
        assert_status(&reply, StatusCode::OK);
        assert!(!reply.text.contains("<script>alert"), "{uri} does not escape the title");
        assert!(reply.text.contains("&lt;script&gt;alert("), "{uri} does not show the title");
    }
}

#[tokio::test]
async fn triage_forms_refuse_a_missing_or_wrong_csrf_token() {
    let app = test_app().await;
    let id = incident_of_ep_b(&app).await;
    let analyst = sign_in(&app, "analyst").await;
    let uri = format!("/incidents/{id}/transition");
    for token in ["", "forged"] {
        let reply = analyst.post(&app, &uri, &[("csrf_token", token), ("to", "triage")]).await;
        assert_status(&reply, StatusCode::FORBIDDEN);
    }
    let other = sign_in(&app, "admin").await;
    let reply = analyst.post(&app, &uri, &[("csrf_token", &other.csrf), ("to", "triage")]).await;
    assert_status(&reply, StatusCode::FORBIDDEN);
    let shown = app.get("analyst", &format!("/api/v1/incidents/{id}")).await;
    assert_eq!(shown.body["status"], "new", "a refused form changed the incident");
    // Without the cookie, the form goes to the login page and changes nothing either.
    let request = Request::builder()
        .method("POST")
        .uri(&uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("csrf_token={}&to=triage", analyst.csrf)))
        .unwrap();
    let reply = app.send(request).await;
    assert!(reply.status.is_redirection(), "{}", reply.status);
    assert!(location(&reply).starts_with("/login"));
    assert_eq!(app.get("analyst", &format!("/api/v1/incidents/{id}")).await.body["status"], "new");
}

#[tokio::test]
async fn triage_goes_through_the_domain_with_version_checks_and_audit() {
    let app = test_app().await;
    let id = incident_of_ep_b(&app).await;
    let analyst = sign_in(&app, "analyst").await;
    let version = app.get("analyst", &format!("/api/v1/incidents/{id}")).await.body["version"].to_string();
    let page = analyst.get(&app, &format!("/incidents/{id}")).await;
    assert_status(&page, StatusCode::OK);
    assert!(page.text.contains(&format!("name=\"version\" value=\"{version}\"")));

    let moved = analyst
        .post(&app, &format!("/incidents/{id}/transition"), &[("to", "triage"), ("version", &version)])
        .await;
    assert_status(&moved, StatusCode::SEE_OTHER);
    assert_eq!(location(&moved), format!("/incidents/{id}"));
    // The version read before the change is stale now: refused, shown, nothing changed.
    let stale = analyst
        .post(&app, &format!("/incidents/{id}/transition"), &[("to", "in_progress"), ("version", &version)])
        .await;
    assert_status(&stale, StatusCode::CONFLICT);
    assert!(stale.text.contains("Someone changed this incident"), "{}", stale.text);
    // A transition the workflow does not allow is refused with its reason.
    let invalid = analyst.post(&app, &format!("/incidents/{id}/transition"), &[("to", "new")]).await;
    assert_status(&invalid, StatusCode::CONFLICT);

    let analyst_id =
        app.get("analyst", "/api/v1/auth/me").await.body["user"]["id"].as_str().unwrap().to_owned();
    let assigned = analyst.post(&app, &format!("/incidents/{id}/assign"), &[("assignee", &analyst_id)]).await;
    assert_status(&assigned, StatusCode::SEE_OTHER);
    let labelled = analyst
        .post(
            &app,
            &format!("/incidents/{id}/labels"),
            &[("severity", "critical"), ("tlp", "TLP:AMBER"), ("pap", "PAP:GREEN")],
        )
        .await;
    assert_status(&labelled, StatusCode::SEE_OTHER);
    let noted = analyst
        .post(
            &app,
            &format!("/incidents/{id}/notes"),
            &[("kind", "feedback"), ("text", "Isolate the file server.")],
        )
        .await;
    assert_status(&noted, StatusCode::SEE_OTHER);
    let task =
        analyst.post(&app, &format!("/incidents/{id}/tasks"), &[("title", "Collect the ransom note")]).await;
    assert_status(&task, StatusCode::SEE_OTHER);
    let observable = analyst
        .post(&app, &format!("/incidents/{id}/observables"), &[("value", "evil[.]example"), ("ioc", "on")])
        .await;
    assert_status(&observable, StatusCode::SEE_OTHER);
    let bad_observable = analyst.post(&app, &format!("/incidents/{id}/observables"), &[("value", "")]).await;
    assert_status(&bad_observable, StatusCode::UNPROCESSABLE_ENTITY);

    let shown = app.get("analyst", &format!("/api/v1/incidents/{id}")).await;
    assert_eq!(shown.body["status"], "triage");
    assert_eq!(shown.body["assignee"], analyst_id.as_str());
    assert_eq!(shown.body["severity"], "critical");
    assert_eq!(shown.body["tlp"], "TLP:AMBER");
    let tasks = app.get("analyst", &format!("/api/v1/incidents/{id}/tasks")).await;
    let added =
        tasks.body.as_array().unwrap().iter().find(|t| t["title"] == "Collect the ransom note").unwrap();
    let task_id = added["id"].as_str().unwrap();
    let done = analyst.post(&app, &format!("/incidents/{id}/tasks/{task_id}"), &[("status", "done")]).await;
    assert_status(&done, StatusCode::SEE_OTHER);
    let tasks = app.get("analyst", &format!("/api/v1/incidents/{id}/tasks")).await;
    assert!(tasks.body.as_array().unwrap().iter().any(|t| t["id"] == task_id && t["status"] == "done"));
    let observables = app.get("analyst", &format!("/api/v1/incidents/{id}/observables")).await;
    assert!(observables.text.contains("evil.example"), "{}", observables.text);

    let page = analyst.get(&app, &format!("/incidents/{id}")).await;
    assert!(page.text.contains("Isolate the file server."));
    assert!(page.text.contains("Collect the ransom note"));

    // Every change is in the audit log under the analyst.
    let audit = app.get("admin", "/api/v1/audit?limit=1000").await;
    for action in [
        "incident.transition",
        "incident.assign",
        "incident.update",
        "incident.feedback",
        "incident.task.add",
        "incident.task.status",
        "incident.observable.add",
    ] {
        assert!(
            audit.text.contains(action) && audit.text.contains("user:analyst"),
            "{action} not audited: {}",
            audit.text
        );
    }

    // A constituent of the incident's organisation sees it and may write to the CERT, not triage.
    let bob = sign_in(&app, "bob").await;
    let refused = bob.post(&app, &format!("/incidents/{id}/transition"), &[("to", "in_progress")]).await;
    assert_status(&refused, StatusCode::FORBIDDEN);
    let page = bob.get(&app, &format!("/incidents/{id}")).await;
    assert_status(&page, StatusCode::OK);
    assert!(
        !page.text.contains(&format!("action=\"/incidents/{id}/transition\"")),
        "triage forms shown to a constituent"
    );
}

#[tokio::test]
async fn a_report_through_the_portal_stages_is_triaged_and_followed() {
    let app = test_app().await;
    let alice = sign_in(&app, "alice").await;
    let step1 = alice.get(&app, "/portal/reports/new").await;
    assert_status(&step1, StatusCode::OK);
    assert!(step1.text.contains("name=\"stage\""));
    let step2 = alice.get(&app, "/portal/reports/new?stage=early_warning").await;
    assert_status(&step2, StatusCode::OK);
    assert!(step2.text.contains("name=\"aware_at\""));

    let aware = (time::OffsetDateTime::now_utc() - time::Duration::hours(3))
        .format(time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]"));
    let aware = aware.unwrap();
    let early = [
        ("stage", "early_warning"),
        ("title", "Defaced web site of EP-A"),
        ("aware_at", aware.as_str()),
        ("tlp", "TLP:AMBER+STRICT"),
        ("suspected_malicious", "yes"),
        ("cross_border", "no"),
        ("summary", "The public site shows a political message."),
    ];
    // A problem is shown at its field, nothing is sent.
    let mut missing: Vec<(&str, &str)> = early.iter().filter(|(name, _)| *name != "title").copied().collect();
    missing.push(("step", "review"));
    let invalid = alice.post(&app, "/portal/reports", &missing).await;
    assert_status(&invalid, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(invalid.text.contains("id=\"e-title\""), "{}", invalid.text);
    let mut review: Vec<(&str, &str)> = early.to_vec();
    review.push(("step", "review"));
    let reviewed = alice.post(&app, "/portal/reports", &review).await;
    assert_status(&reviewed, StatusCode::OK);
    assert!(reviewed.text.contains("value=\"Defaced web site of EP-A\""));
    assert!(app.get("analyst", "/api/v1/incidents").await.body["items"].as_array().unwrap().is_empty());
    let mut send: Vec<(&str, &str)> = early.to_vec();
    send.push(("step", "send"));
    let sent = alice.post(&app, "/portal/reports", &send).await;
    assert_status(&sent, StatusCode::SEE_OTHER);
    let target = location(&sent);
    let id = target.trim_start_matches("/portal/reports/").trim_end_matches("?sent=1").to_owned();
    let followed = alice.get(&app, &target).await;
    assert_status(&followed, StatusCode::OK);
    assert!(followed.text.contains("Defaced web site of EP-A"));

    // The analyst finds it in the queue, moves it to triage and assigns it.
    let analyst = sign_in(&app, "analyst").await;
    let queue = analyst.get(&app, "/incidents").await;
    assert!(queue.text.contains("Defaced web site of EP-A"));
    assert_status(
        &analyst.post(&app, &format!("/incidents/{id}/transition"), &[("to", "triage")]).await,
        StatusCode::SEE_OTHER,
    );
    assert_status(
        &analyst.post(&app, &format!("/incidents/{id}/assign"), &[("assignee", "analyst")]).await,
        StatusCode::SEE_OTHER,
    );
    assert_status(
        &analyst
            .post(
                &app,
                &format!("/incidents/{id}/notes"),
                &[("kind", "feedback"), ("text", "Restore from backup.")],
            )
            .await,
        StatusCode::SEE_OTHER,
    );
    let mine = analyst.get(&app, "/incidents?assignee=me").await;
    assert!(mine.text.contains("Defaced web site of EP-A"));

    // The constituent sees the new status and the CERT's feedback, then sends the notification.
    let followed = alice.get(&app, &format!("/portal/reports/{id}")).await;
    assert!(followed.text.contains("Triage"), "{}", followed.text);
    assert!(followed.text.contains("Restore from backup."));
    let notification = [
        ("step", "send"),
        ("stage", "notification"),
        ("incident", id.as_str()),
        ("title", "Defaced web site of EP-A"),
        ("aware_at", aware.as_str()),
        ("initial_assessment", "A vulnerable plug-in was used."),
        ("severity", "medium"),
        ("impact", "Reputation."),
        ("indicators", "203.0.113.9\nhxxp://deface[.]example/x"),
    ];
    let sent = alice.post(&app, "/portal/reports", &notification).await;
    assert_status(&sent, StatusCode::SEE_OTHER);
    let reports = app.get("alice", &format!("/api/v1/reports/incidents?incident={id}")).await;
    assert_eq!(reports.body["items"].as_array().unwrap().len(), 2);
    let message =
        alice.post(&app, &format!("/portal/reports/{id}/messages"), &[("text", "Backup restored.")]).await;
    assert_status(&message, StatusCode::SEE_OTHER);
    let page = analyst.get(&app, &format!("/incidents/{id}")).await;
    assert!(page.text.contains("Backup restored."));
    assert!(page.text.contains("203.0.113.9"));
}

/// EP-A owns 192.0.2.0/26 and EP-B 192.0.2.64/26; one feed report names two addresses of
/// each.
async fn upload_events(app: &TestApp) {
    for (org, net) in [("EP-A", "192.0.2.0/26"), ("EP-B", "192.0.2.64/26")] {
        let path = format!("/api/v1/organisations/{org}/assets");
        let reply = app.call(Some("analyst"), "POST", &path, Some(json!({"value": net}))).await;
        assert_status(&reply, StatusCode::CREATED);
    }
    let mut csv = String::from(
        "\"timestamp\",\"severity\",\"ip\",\"protocol\",\"port\",\"hostname\",\"tag\",\"asn\",\"geo\",\"region\",\"city\",\"naics\",\"hostname_source\",\"sector\",\"dns_version\",\"min_amplification\"\n",
    );
    for ip in ["192.0.2.1", "192.0.2.2", "192.0.2.65", "192.0.2.66"] {
        csv.push_str(&format!(
            "\"2026-11-27 10:00:00\",\"medium\",\"{ip}\",\"udp\",\"53\",\"\",\"openresolver\",\"64500\",\"BA\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"\n"
        ));
    }
    let request = Request::post("/api/v1/reports?feed=shadowserver-dns")
        .header(header::AUTHORIZATION, format!("Bearer {}", app.tokens["analyst"]))
        .body(Body::from(csv))
        .unwrap();
    assert_status(&app.send(request).await, StatusCode::CREATED);
}

#[tokio::test]
async fn portal_events_are_the_organisations_own_and_download_as_csv_json_and_intelmq_lines() {
    let app = test_app().await;
    upload_events(&app).await;
    let alice = sign_in(&app, "alice").await;
    let page = alice.get(&app, "/portal/events").await;
    assert_status(&page, StatusCode::OK);
    assert!(page.text.contains("192.0.2.1") && page.text.contains("192.0.2.2"), "{}", page.text);
    let csv = alice.get(&app, "/portal/events/export?format=csv").await;
    assert_status(&csv, StatusCode::OK);
    assert!(csv.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/csv"));
    assert!(csv.headers[header::CONTENT_DISPOSITION].to_str().unwrap().starts_with("attachment"));
    assert!(csv.text.contains("192.0.2.1"));
    let json = alice.get(&app, "/portal/events/export?format=json").await;
    assert_status(&json, StatusCode::OK);
    assert_eq!(json.body["items"].as_array().unwrap().len(), 2, "{}", json.text);
    let intelmq = alice.get(&app, "/portal/events/export?format=intelmq-jsonl").await;
    assert_status(&intelmq, StatusCode::OK);
    assert_eq!(intelmq.headers[header::CONTENT_DISPOSITION], "attachment; filename=\"neretva-events.jsonl\"");
    assert_eq!(intelmq.text.lines().count(), 2, "{}", intelmq.text);
    assert!(page.text.contains("format=intelmq-jsonl"), "the page links the export");
    for reply in [&page, &csv, &json, &intelmq] {
        assert!(
            !reply.text.contains("192.0.2.65") && !reply.text.contains("192.0.2.66"),
            "EP-B's events leak"
        );
    }
    // Naming another organisation's network finds nothing of it.
    let probe = alice.get(&app, "/portal/events?ip=192.0.2.64%2F26").await;
    assert_status(&probe, StatusCode::OK);
    assert!(!probe.text.contains("192.0.2.65"));
    let bob = sign_in(&app, "bob").await;
    let theirs = bob.get(&app, "/portal/events/export?format=json").await;
    assert_eq!(theirs.body["items"].as_array().unwrap().len(), 2, "{}", theirs.text);
    let bad = alice.get(&app, "/portal/events?ip=not-an-address").await;
    assert_status(&bad, StatusCode::BAD_REQUEST);
}
