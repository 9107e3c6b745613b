//! The training and exercise pages over HTTP, signed in with a session cookie as a browser is:
//! forms refuse a missing or wrong CSRF token and change nothing, a user outside an exercise or
//! a session closed to their organisation gets 404 on every page and form of it, a participant
//! cannot open the facilitators' page, responds once (a second response shows the refusal), and
//! scenario texts are escaped on every page that shows them.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, assert_status, location, sign_in, test_app};

const SCENARIO: &str = r#"code: web-drill
version: 1
languages: [en]
title: {en: "Flood <script>alert('title')</script> & drill"}
description: {en: "A drill for the web pages."}
objectives:
  - id: warn
    text: {en: "Warn <b>early</b>"}
roles:
  - id: operator
    name: {en: "Operator team"}
injects:
  - id: first
    offset: "+00:00"
    roles: [operator]
    title: {en: "First <script>alert('inject')</script> alarm"}
    body: {en: "Servers are down. <script>alert('body')</script>"}
    expects_response: true
    response_prompt: {en: "What do you do first?"}
    deadline: 15
    notes: {en: "FACILITATOR-ONLY note"}
  - id: second
    offset: "+01:00"
    title: {en: "Second alarm"}
    body: {en: "More servers are down."}
"#;

const HOSTILE_NAME: &str = "Drill <script>alert('name')</script>";

/// Imports the scenario and creates an exercise facilitated by the analyst with `participant`
/// playing the operator; returns the exercise's id.
async fn exercise_with(app: &TestApp, participant: &str) -> String {
    let imported = app
        .call(
            Some("analyst"),
            "POST",
            "/api/v1/learning/scenarios",
            Some(json!({"files": [{"path": "scenario.yaml", "text": SCENARIO}]})),
        )
        .await;
    let scenario = if imported.status == StatusCode::CREATED {
        imported.body["id"].as_str().unwrap().to_owned()
    } else {
        // Imported already by an earlier call of the same test.
        let listed = app.get("analyst", "/api/v1/learning/scenarios").await;
        listed.body[0]["id"].as_str().unwrap().to_owned()
    };
    let created = app
        .call(
            Some("analyst"),
            "POST",
            "/api/v1/learning/exercises",
            Some(json!({"scenario_id": scenario, "name": HOSTILE_NAME,
                        "participants": [{"user": participant, "role": "operator"}]})),
        )
        .await;
    assert_status(&created, StatusCode::CREATED);
    created.body["id"].as_str().unwrap().to_owned()
}

/// Starts an exercise and releases its first inject through the API.
async fn start_and_release(app: &TestApp, id: &str) {
    let started =
        app.call(Some("analyst"), "POST", &format!("/api/v1/learning/exercises/{id}/start"), None).await;
    assert_status(&started, StatusCode::OK);
    let released = app
        .call(
            Some("analyst"),
            "POST",
            &format!("/api/v1/learning/exercises/{id}/injects/first/release"),
            None,
        )
        .await;
    assert_status(&released, StatusCode::OK);
}

#[tokio::test]
async fn nobody_outside_an_exercise_sees_it_on_any_page() {
    let app = test_app().await;
    let id = exercise_with(&app, "bob").await;
    start_and_release(&app, &id).await;
    let alice = sign_in(&app, "alice").await;
    for uri in [
        format!("/exercises/{id}"),
        format!("/exercises/{id}/facilitate"),
        format!("/exercises/{id}/report"),
        format!("/exercises/{}", uuid_like()),
    ] {
        let reply = alice.get(&app, &uri).await;
        assert_status(&reply, StatusCode::NOT_FOUND);
        assert!(!reply.text.contains("Drill &lt;script"), "{uri} leaks the exercise");
        assert!(!reply.text.contains("Servers are down"), "{uri} leaks an inject");
    }
    for (uri, fields) in [
        (format!("/exercises/{id}/injects/first/respond"), vec![("text", "Hello")]),
        (format!("/exercises/{id}/end"), vec![]),
        (format!("/exercises/{id}/injects/second/release"), vec![]),
    ] {
        let reply = alice.post(&app, &uri, &fields).await;
        assert_status(&reply, StatusCode::NOT_FOUND);
    }
    let list = alice.get(&app, "/exercises").await;
    assert_status(&list, StatusCode::OK);
    assert!(!list.text.contains(&id) && !list.text.contains("Drill &lt;script"), "the list names it");
    let timeline = app.get("analyst", &format!("/api/v1/learning/exercises/{id}/timeline")).await;
    assert_eq!(timeline.body["state"], "running", "a refused form changed the exercise");
    assert!(timeline.body["injects"][0]["responses"].as_array().unwrap().is_empty());
    // Bob, who plays in it, sees it listed and opens it.
    let bob = sign_in(&app, "bob").await;
    assert!(bob.get(&app, "/exercises").await.text.contains(&format!("/exercises/{id}")));
    assert_status(&bob.get(&app, &format!("/exercises/{id}")).await, StatusCode::OK);
}

fn uuid_like() -> &'static str {
    "01900000-0000-7000-8000-000000000000"
}

#[tokio::test]
async fn a_participant_responds_once_and_never_reaches_the_facilitators_page() {
    let app = test_app().await;
    let id = exercise_with(&app, "alice").await;
    let alice = sign_in(&app, "alice").await;
    let page = alice.get(&app, &format!("/exercises/{id}")).await;
    assert_status(&page, StatusCode::OK);
    assert!(!page.text.contains("First &lt;script"), "an inject shown before it was delivered");
    start_and_release(&app, &id).await;

    let page = alice.get(&app, &format!("/exercises/{id}")).await;
    assert_status(&page, StatusCode::OK);
    assert!(page.text.contains("First &lt;script&gt;alert("), "the delivered inject");
    assert!(page.text.contains("What do you do first?"), "its response prompt");
    assert!(page.text.contains(&format!("action=\"/exercises/{id}/injects/first/respond\"")));
    assert!(!page.text.contains("FACILITATOR-ONLY"), "the facilitators' notes leak");
    assert!(!page.text.contains("Second alarm"), "an inject to come leaks");

    let facilitate = alice.get(&app, &format!("/exercises/{id}/facilitate")).await;
    assert_status(&facilitate, StatusCode::FORBIDDEN);
    assert!(!facilitate.text.contains("FACILITATOR-ONLY") && !facilitate.text.contains("Second alarm"));
    assert_status(&alice.get(&app, &format!("/exercises/{id}/report")).await, StatusCode::FORBIDDEN);
    let refused = alice.post(&app, &format!("/exercises/{id}/injects/second/skip"), &[]).await;
    assert_status(&refused, StatusCode::FORBIDDEN);

    let sent = alice
        .post(&app, &format!("/exercises/{id}/injects/first/respond"), &[("text", "Isolate the hosts.")])
        .await;
    assert_status(&sent, StatusCode::SEE_OTHER);
    assert_eq!(location(&sent), format!("/exercises/{id}"));
    let page = alice.get(&app, &format!("/exercises/{id}")).await;
    assert!(page.text.contains("Isolate the hosts."), "the response is shown");
    assert!(
        !page.text.contains(&format!("action=\"/exercises/{id}/injects/first/respond\"")),
        "no second form"
    );

    let again = alice
        .post(&app, &format!("/exercises/{id}/injects/first/respond"), &[("text", "Pay the ransom.")])
        .await;
    assert_status(&again, StatusCode::CONFLICT);
    assert!(again.text.contains("role=\"alert\""), "the refusal is shown");
    assert!(again.text.contains("Your response was not accepted."), "{}", again.text);

    // The facilitator sees the response on the timeline, once.
    let analyst = sign_in(&app, "analyst").await;
    let timeline = analyst.get(&app, &format!("/exercises/{id}/facilitate")).await;
    assert_status(&timeline, StatusCode::OK);
    assert!(timeline.text.contains("Isolate the hosts."));
    assert!(!timeline.text.contains("Pay the ransom."));
    assert!(timeline.text.contains("FACILITATOR-ONLY"), "the notes are the facilitators'");
}

#[tokio::test]
async fn forms_refuse_a_missing_or_wrong_csrf_token() {
    let app = test_app().await;
    let id = exercise_with(&app, "alice").await;
    let analyst = sign_in(&app, "analyst").await;
    let other = sign_in(&app, "admin").await;
    for token in ["", "forged", other.csrf.as_str()] {
        let reply = analyst.post(&app, &format!("/exercises/{id}/start"), &[("csrf_token", token)]).await;
        assert_status(&reply, StatusCode::FORBIDDEN);
    }
    let state = app.get("analyst", &format!("/api/v1/learning/exercises/{id}")).await;
    assert_eq!(state.body["state"], "planned", "a refused form started the exercise");

    start_and_release(&app, &id).await;
    let alice = sign_in(&app, "alice").await;
    let reply = alice
        .post(
            &app,
            &format!("/exercises/{id}/injects/first/respond"),
            &[("csrf_token", "forged"), ("text", "x")],
        )
        .await;
    assert_status(&reply, StatusCode::FORBIDDEN);
    let reply = alice
        .post(&app, "/training/profile", &[("csrf_token", ""), ("profession", "cert"), ("level", "state")])
        .await;
    assert_status(&reply, StatusCode::FORBIDDEN);
    assert_status(&app.get("alice", "/api/v1/learning/profile").await, StatusCode::NOT_FOUND);
    let timeline = app.get("analyst", &format!("/api/v1/learning/exercises/{id}/timeline")).await;
    assert!(timeline.body["injects"][0]["responses"].as_array().unwrap().is_empty());

    // With the token the same forms work.
    let reply = alice.post(&app, "/training/profile", &[("profession", "cert"), ("level", "state")]).await;
    assert_status(&reply, StatusCode::OK);
    assert_eq!(app.get("alice", "/api/v1/learning/profile").await.body["profession"], "cert");
    let reply = analyst.post(&app, &format!("/exercises/{id}/end"), &[]).await;
    assert_status(&reply, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn scenario_texts_are_escaped_on_every_page() {
    let app = test_app().await;
    let id = exercise_with(&app, "alice").await;
    start_and_release(&app, &id).await;
    let alice = sign_in(&app, "alice").await;
    let analyst = sign_in(&app, "analyst").await;
    let sent = alice
        .post(
            &app,
            &format!("/exercises/{id}/injects/first/respond"),
            &[("text", "<img src=x onerror=alert(1)>")],
        )
        .await;
    assert_status(&sent, StatusCode::SEE_OTHER);
    let assessed = analyst
        .post(
            &app,
            &format!("/exercises/{id}/assessment"),
            &[
                ("rating.warn", "partially"),
                ("notes.warn", "<b>late</b>"),
                ("observations", "One\n<i>Two</i>"),
            ],
        )
        .await;
    assert_status(&assessed, StatusCode::SEE_OTHER);
    let pages = [
        (&analyst, "/exercises".to_owned()),
        (&analyst, format!("/exercises/{id}/facilitate")),
        (&analyst, format!("/exercises/{id}/report")),
        (&analyst, format!("/exercises/{id}")),
        (&alice, format!("/exercises/{id}")),
        (&alice, "/exercises".to_owned()),
    ];
    for (browser, uri) in pages {
        let reply = browser.get(&app, &uri).await;
        assert_status(&reply, StatusCode::OK);
        assert!(!reply.text.contains("<script>alert"), "{uri} does not escape a scenario text");
        assert!(!reply.text.contains("<img src=x"), "{uri} does not escape a response");
        assert!(!reply.text.contains("<b>late</b>") && !reply.text.contains("<i>Two</i>"), "{uri}");
        assert!(reply.text.contains("&lt;script&gt;alert("), "{uri} does not show the texts");
    }
    let report = analyst.get(&app, &format!("/exercises/{id}/report")).await;
    assert!(report.text.contains("&lt;img src=x onerror=alert(1)&gt;"), "the response in the report");
    assert!(report.text.contains("Partially met") || report.text.contains("partially met"), "the rating");
    // Templates escape `/` as `&#x2f;` too.
    let markdown =
        format!("/api/v1/learning/exercises/{id}/report?format=md&amp;lang=en").replace('/', "&#x2f;");
    assert!(report.text.contains(&markdown), "the link to the Markdown report");
    let exercises = analyst.get(&app, "/exercises").await;
    assert!(exercises.text.contains("Flood &lt;script&gt;alert("), "the scenario in the creation form");
}

#[tokio::test]
async fn the_creation_form_makes_an_exercise_or_names_every_problem() {
    let app = test_app().await;
    exercise_with(&app, "alice").await;
    let scenario =
        app.get("analyst", "/api/v1/learning/scenarios").await.body[0]["id"].as_str().unwrap().to_owned();
    let analyst = sign_in(&app, "analyst").await;
    let refused = analyst
        .post(
            &app,
            "/exercises",
            &[
                ("scenario_id", &scenario),
                ("name", "Web drill"),
                ("participants", "nobody:operator\nbob:pilot"),
            ],
        )
        .await;
    assert_status(&refused, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text.contains("participants[0].user"), "{}", refused.text);
    assert!(refused.text.contains("participants[1].role"), "{}", refused.text);
    assert!(refused.text.contains("nobody:operator"), "what was typed comes back");
    let created = analyst
        .post(
            &app,
            "/exercises",
            &[("scenario_id", &scenario), ("name", "Web drill"), ("participants", "bob:operator")],
        )
        .await;
    assert_status(&created, StatusCode::SEE_OTHER);
    let target = location(&created);
    assert!(target.starts_with("/exercises/") && target.ends_with("/facilitate"), "{target}");
    let page = analyst.get(&app, &target).await;
    assert_status(&page, StatusCode::OK);
    assert!(page.text.contains("Web drill"));
    // A constituent has no creation form and may not post one.
    let alice = sign_in(&app, "alice").await;
    assert!(!alice.get(&app, "/exercises").await.text.contains("action=\"/exercises\""));
    let reply = alice
        .post(
            &app,
            "/exercises",
            &[("scenario_id", &scenario), ("name", "Mine"), ("participants", "bob:operator")],
        )
        .await;
    assert_status(&reply, StatusCode::FORBIDDEN);
}

/// A programme and a session of it that started an hour ago, open only to EP-B (bob's
/// organisation), led by the analyst; returns the session's id.
async fn session_for_ep_b(app: &TestApp) -> String {
    let programme = app
        .call(
            Some("analyst"),
            "POST",
            "/api/v1/learning/programmes",
            Some(json!({
                "code": "ttt-web", "title": {"en": "Web trainers <script>alert('p')</script>"},
                "curriculum": [{"topic": {"en": "Incident basics"}, "hours": 2}],
                "trainer_course": "incident-basics"
            })),
        )
        .await;
    assert_status(&programme, StatusCode::CREATED);
    let ep_b = app.store_org("EP-B").await;
    let now = time::OffsetDateTime::now_utc();
    let text = |at: time::OffsetDateTime| at.format(&time::format_description::well_known::Rfc3339).unwrap();
    let session = app
        .call(
            Some("analyst"),
            "POST",
            "/api/v1/learning/sessions",
            Some(json!({
                "programme_id": programme.body["id"], "item": 0, "title": "Closed session for EP-B",
                "mode": {"type": "in_person", "location": "Mostar"},
                "starts_at": text(now - time::Duration::hours(1)), "ends_at": text(now + time::Duration::hours(2)),
                "language": "en", "capacity": 10, "audience": [ep_b]
            })),
        )
        .await;
    assert_status(&session, StatusCode::CREATED);
    session.body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_session_closed_to_an_organisation_is_not_found_by_its_neighbours() {
    let app = test_app().await;
    let id = session_for_ep_b(&app).await;
    let alice = sign_in(&app, "alice").await;
    let reply = alice.get(&app, &format!("/training/sessions/{id}")).await;
    assert_status(&reply, StatusCode::NOT_FOUND);
    assert!(!reply.text.contains("Closed session for EP-B"));
    for uri in ["/training/sessions", "/training"] {
        let reply = alice.get(&app, uri).await;
        assert_status(&reply, StatusCode::OK);
        assert!(!reply.text.contains("Closed session for EP-B"), "{uri} lists it");
    }
    for (uri, fields) in [
        (format!("/training/sessions/{id}/register"), vec![]),
        (
            format!("/training/sessions/{id}/feedback"),
            vec![("content", "5"), ("trainer", "5"), ("relevance", "5"), ("organisation", "5")],
        ),
    ] {
        assert_status(&alice.post(&app, &uri, &fields).await, StatusCode::NOT_FOUND);
    }
    let session = app.get("analyst", &format!("/api/v1/learning/sessions/{id}")).await;
    assert_eq!(session.body["registered"], 0, "a refused registration was recorded");
    // The programme is training material: everyone reads it, its title escaped.
    let programmes = alice.get(&app, "/training").await;
    assert!(programmes.text.contains("Web trainers &lt;script&gt;alert("));
    assert!(!programmes.text.contains("<script>alert"));
}

#[tokio::test]
async fn register_attend_and_give_feedback_once_through_the_pages() {
    let app = test_app().await;
    let id = session_for_ep_b(&app).await;
    let bob = sign_in(&app, "bob").await;
    let page = bob.get(&app, &format!("/training/sessions/{id}")).await;
    assert_status(&page, StatusCode::OK);
    assert!(page.text.contains(&format!("action=\"/training/sessions/{id}/register\"")));
    let registered = bob.post(&app, &format!("/training/sessions/{id}/register"), &[]).await;
    assert_status(&registered, StatusCode::SEE_OTHER);
    let again = bob.post(&app, &format!("/training/sessions/{id}/register"), &[]).await;
    assert_status(&again, StatusCode::CONFLICT);

    // Bob may not record attendance; the lead trainer does, with a form.
    let session = app.get("analyst", &format!("/api/v1/learning/sessions/{id}")).await;
    let bob_id = session.body["participants"][0]["user_id"].as_str().unwrap().to_owned();
    let status_field = format!("status.{bob_id}");
    let refused =
        bob.post(&app, &format!("/training/sessions/{id}/attendance"), &[(&status_field, "present")]).await;
    assert_status(&refused, StatusCode::FORBIDDEN);
    let analyst = sign_in(&app, "analyst").await;
    let page = analyst.get(&app, &format!("/training/sessions/{id}")).await;
    assert!(page.text.contains(&format!("name=\"{status_field}\"")), "the attendance form lists bob");
    let minutes_field = format!("minutes.{bob_id}");
    let missing = analyst
        .post(
            &app,
            &format!("/training/sessions/{id}/attendance"),
            &[(&status_field, "partial"), (&minutes_field, "")],
        )
        .await;
    assert_status(&missing, StatusCode::UNPROCESSABLE_ENTITY);
    let recorded = analyst
        .post(
            &app,
            &format!("/training/sessions/{id}/attendance"),
            &[(&status_field, "partial"), (&minutes_field, "90")],
        )
        .await;
    assert_status(&recorded, StatusCode::SEE_OTHER);
    let session: Value = app.get("analyst", &format!("/api/v1/learning/sessions/{id}")).await.body;
    assert_eq!(session["participants"][0]["attendance"], "partial");
    assert_eq!(session["participants"][0]["minutes"], 90);

    // Bob fills the feedback form once; the second is refused on the page.
    let page = bob.get(&app, &format!("/training/sessions/{id}")).await;
    assert!(page.text.contains(&format!("action=\"/training/sessions/{id}/feedback\"")));
    let fields = [
        ("content", "5"),
        ("trainer", "4"),
        ("relevance", "4"),
        ("organisation", "3"),
        ("most_useful", "The <b>exercise</b>"),
        ("to_improve", ""),
    ];
    let sent = bob.post(&app, &format!("/training/sessions/{id}/feedback"), &fields).await;
    assert_status(&sent, StatusCode::SEE_OTHER);
    let second = bob.post(&app, &format!("/training/sessions/{id}/feedback"), &fields).await;
    assert_status(&second, StatusCode::CONFLICT);
    assert!(second.text.contains("role=\"alert\""));
    let summary = analyst.get(&app, &format!("/training/sessions/{id}")).await;
    assert!(summary.text.contains("1 form received"), "the aggregate for the trainer");
    assert!(summary.text.contains("The &lt;b&gt;exercise&lt;&#x2f;b&gt;"), "the free text, escaped");
    let own = bob.get(&app, &format!("/training/sessions/{id}")).await;
    assert!(!own.text.contains("1 form received"), "a participant sees no aggregate");
}
