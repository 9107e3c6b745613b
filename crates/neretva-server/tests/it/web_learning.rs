//! The learning pages over HTTP, signed in with a session cookie as a browser is: a learner
//! enrols, reads the lessons, fails and then passes the quiz through the plain forms and gets a
//! certificate that the public verification page shows without login; CSRF refusal; another
//! organisation's learner never sees the records (404 pages, nothing in the lists); a second
//! submission refused clearly; course texts escaped; an organisation's admin assigns a course.

use std::path::Path;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine;
use neretva_store::Store;
use serde_json::{Value, json};

use crate::support::{
    Browser, ExtraUser, Reply, TestApp, assert_status, config, location, sign_in, test_app_extended,
};

const COURSE: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../neretva-learning/test_data/courses/incident-basics");

/// An administrator of EP-A and one of EP-B, besides the standard users.
const EXTRA: &[ExtraUser] = &[
    ("ada", neretva_model::user::Role::Admin, "EP-A", &[]),
    ("boris", neretva_model::user::Role::Admin, "EP-B", &[]),
];

async fn app() -> TestApp {
    test_app_extended(config(), EXTRA).await
}

async fn anonymous(app: &TestApp, uri: &str) -> Reply {
    app.send(Request::builder().uri(uri).body(Body::empty()).unwrap()).await
}

/// A value as the templates write it into an attribute (`/` escaped as `&#x2f;`).
fn escaped(value: &str) -> String {
    value.replace('/', "&#x2f;")
}

/// The files of the example course folder, as the API's JSON package; `edit` changes a text
/// file's content by path.
fn package(edit: &dyn Fn(&str, String) -> String) -> Value {
    fn walk(root: &Path, dir: &Path, files: &mut Vec<Value>, edit: &dyn Fn(&str, String) -> String) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(root, &path, files, edit);
                continue;
            }
            let name = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            let data = std::fs::read(&path).unwrap();
            if name.starts_with("images/") {
                let encoded = base64::engine::general_purpose::STANDARD.encode(&data);
                files.push(json!({"path": name, "base64": encoded}));
            } else {
                let text = edit(&name, String::from_utf8(data).unwrap());
                files.push(json!({"path": name, "text": text}));
            }
        }
    }
    let mut files = Vec::new();
    walk(Path::new(COURSE), Path::new(COURSE), &mut files, edit);
    json!({ "files": files })
}

/// Imports the example course (as the CERT's analyst); returns its id.
async fn import(app: &TestApp, edit: &dyn Fn(&str, String) -> String) -> String {
    let reply = app.call(Some("analyst"), "POST", "/api/v1/learning/courses", Some(package(edit))).await;
    assert_status(&reply, StatusCode::CREATED);
    reply.body["id"].as_str().unwrap().to_owned()
}

/// The right answer to each question of the example course, as form values.
fn right(question: &str) -> Vec<&'static str> {
    match question {
        "early-warning" => vec!["h24"],
        "phishing-is-incident" => vec!["true"],
        "tlp-levels" => vec!["clear", "amber"],
        "csirt" => vec![" computer "],
        other => panic!("unknown question {other}"),
    }
}

fn wrong(question: &str) -> Vec<&'static str> {
    match question {
        "early-warning" => vec!["h72"],
        "phishing-is-incident" => vec!["false"],
        "tlp-levels" => vec!["white"],
        "csirt" => vec!["cyber"],
        other => panic!("unknown question {other}"),
    }
}

/// The id of the attempt a redirect goes to (`/learning/attempts/{id}?lang=…`).
fn attempt_id(reply: &Reply) -> String {
    let target = location(reply);
    let rest = target.strip_prefix("/learning/attempts/").unwrap_or_else(|| panic!("{target}"));
    rest.split('?').next().unwrap().to_owned()
}

/// The question ids of an attempt page's form, in order.
fn questions(page: &str) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for piece in page.split("name=\"q.").skip(1) {
        let id = piece.split('"').next().unwrap().to_owned();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// Answers an attempt page's questions with `answer` and submits the form.
async fn submit(
    app: &TestApp,
    browser: &Browser,
    attempt: &str,
    lang: &str,
    answer: fn(&str) -> Vec<&'static str>,
) -> Reply {
    let page = browser.get(app, &format!("/learning/attempts/{attempt}?lang={lang}")).await;
    assert_status(&page, StatusCode::OK);
    let ids = questions(&page.text);
    assert_eq!(ids.len(), 3, "{}", page.text);
    let names: Vec<String> = ids.iter().map(|id| format!("q.{id}")).collect();
    let mut fields: Vec<(&str, &str)> = vec![("lang", lang)];
    for (id, name) in ids.iter().zip(&names) {
        for value in answer(id) {
            fields.push((name, value));
        }
    }
    browser.post(app, &format!("/learning/attempts/{attempt}/submit"), &fields).await
}

#[tokio::test]
async fn a_learner_fails_then_passes_and_anyone_verifies_the_certificate_without_login() {
    let app = app().await;
    let course = import(&app, &|_, text| text).await;
    let alice = sign_in(&app, "alice").await;

    // The catalogue lists the course with its languages; the navigation has "Learning".
    let catalogue = alice.get(&app, "/learning").await;
    assert_status(&catalogue, StatusCode::OK);
    assert!(catalogue.text.contains("Incident handling basics"), "{}", catalogue.text);
    assert!(catalogue.text.contains("English, Bosanski"));
    assert!(catalogue.text.contains("href=\"&#x2f;learning\" aria-current=\"page\""));

    let enrol = alice.post(&app, "/learning/enrol", &[("course_id", &course)]).await;
    assert_status(&enrol, StatusCode::SEE_OTHER);
    assert_eq!(location(&enrol), format!("/learning/courses/{course}"));

    // The course in Bosnian, then a lesson with its image from the API's image path, which
    // answers the session cookie.
    let page = alice.get(&app, &format!("/learning/courses/{course}?lang=bs")).await;
    assert_status(&page, StatusCode::OK);
    assert!(page.text.contains("Osnove postupanja s incidentima"));
    assert!(page.text.contains("Šta je incident?"));
    let lesson = alice
        .get(&app, &format!("/learning/courses/{course}/lessons/intro/what-is-an-incident?lang=bs"))
        .await;
    assert_status(&lesson, StatusCode::OK);
    let image = format!("/api/v1/learning/courses/{course}/images/cycle.png");
    assert!(lesson.text.contains(&format!("<img src=\"{image}\"")), "{}", lesson.text);
    let next = escaped(&format!("/learning/courses/{course}/lessons/reporting/deadlines?lang=bs"));
    assert!(lesson.text.contains(&format!("href=\"{next}\" rel=\"next\"")), "{}", lesson.text);
    let picture = alice.get(&app, &image).await;
    assert_status(&picture, StatusCode::OK);
    assert_eq!(picture.headers[header::CONTENT_TYPE], "image/png");

    // Marking the lessons read goes on to the next lesson, then back to the course.
    let done = alice
        .post(
            &app,
            &format!("/learning/courses/{course}/lessons/intro/what-is-an-incident/complete"),
            &[("lang", "bs")],
        )
        .await;
    assert_status(&done, StatusCode::SEE_OTHER);
    assert_eq!(location(&done), format!("/learning/courses/{course}/lessons/reporting/deadlines?lang=bs"));
    let done = alice
        .post(
            &app,
            &format!("/learning/courses/{course}/lessons/reporting/deadlines/complete"),
            &[("lang", "en")],
        )
        .await;
    assert_eq!(location(&done), format!("/learning/courses/{course}?lang=en"));
    let page = alice.get(&app, &format!("/learning/courses/{course}")).await;
    assert!(page.text.contains("2 of 2 lessons read"), "{}", page.text);

    // The quiz: start, fail with feedback in Bosnian, start again, pass.
    let enrolment =
        app.get("alice", "/api/v1/learning/enrolments").await.body[0]["id"].as_str().unwrap().to_owned();
    let start =
        alice.post(&app, &format!("/learning/enrolments/{enrolment}/attempts"), &[("lang", "bs")]).await;
    assert_status(&start, StatusCode::SEE_OTHER);
    let first = attempt_id(&start);
    let failed = submit(&app, &alice, &first, "bs", wrong).await;
    assert_status(&failed, StatusCode::SEE_OTHER);
    let result = alice.get(&app, &location(&failed)).await;
    assert_status(&result, StatusCode::OK);
    // The interface in the user's language (English), the questions and feedback in the
    // course language chosen (Bosnian).
    assert!(result.text.contains("Not passed"), "{}", result.text);
    assert!(result.text.contains("2 attempts are left."), "{}", result.text);
    assert!(result.text.contains("Šta znači slovo C u skraćenici CSIRT?"), "{}", result.text);
    assert!(result.text.contains("lang=\"bs\""));

    // A second submission of the same attempt is refused, and says so.
    let again = submit_raw(&app, &alice, &first).await;
    assert_status(&again, StatusCode::CONFLICT);
    assert!(again.text.contains("This attempt was submitted already"), "{}", again.text);

    let start =
        alice.post(&app, &format!("/learning/enrolments/{enrolment}/attempts"), &[("lang", "en")]).await;
    let second = attempt_id(&start);
    let passed = submit(&app, &alice, &second, "en", right).await;
    let result = alice.get(&app, &location(&passed)).await;
    assert!(result.text.contains("Passed"), "{}", result.text);
    let code = result
        .text
        .split("class=\"certificate-code\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(code.len(), 23, "{code}");

    // No further attempt after a pass.
    let refused = alice.post(&app, &format!("/learning/enrolments/{enrolment}/attempts"), &[]).await;
    assert_status(&refused, StatusCode::CONFLICT);
    assert!(refused.text.contains("You have passed the quiz already."));

    let mine = alice.get(&app, "/learning/certificates").await;
    assert!(
        mine.text.contains(&format!("href=\"{}\"", escaped(&format!("/verify/{code}")))),
        "{}",
        mine.text
    );

    // Anyone, without login, in their language; codes read leniently.
    let public = anonymous(&app, &format!("/verify/{code}")).await;
    assert_status(&public, StatusCode::OK);
    assert!(public.text.contains("Valid certificate") && public.text.contains("alice"), "{}", public.text);
    assert!(public.text.contains("Incident handling basics"));
    let lenient = anonymous(&app, &format!("/verify/{}?lang=bs", code.replace('-', "").to_lowercase())).await;
    assert_status(&lenient, StatusCode::OK);
    assert!(
        lenient.text.contains("Važeći certifikat")
            && lenient.text.contains("Osnove postupanja s incidentima")
    );
    let typed = anonymous(&app, &format!("/verify?code={}", code.to_lowercase())).await;
    assert_status(&typed, StatusCode::SEE_OTHER);
    assert_eq!(location(&typed), format!("/verify/{code}"));
    let form = anonymous(&app, "/verify").await;
    assert_status(&form, StatusCode::OK);
    assert!(form.text.contains("action=\"/verify\""));
}

/// Submits an attempt's form with one answer, as a browser's back button and resend would.
async fn submit_raw(app: &TestApp, browser: &Browser, attempt: &str) -> Reply {
    browser.post(app, &format!("/learning/attempts/{attempt}/submit"), &[("q.csirt", "x")]).await
}

#[tokio::test]
async fn unknown_and_malformed_codes_are_not_found_and_reveal_nothing() {
    let app = app().await;
    for uri in ["/verify/00000-00000-00000-00000", "/verify/not-a-code", "/verify?code=%3Cscript%3E"] {
        let reply = anonymous(&app, uri).await;
        assert_status(&reply, StatusCode::NOT_FOUND);
        assert!(reply.text.contains("No certificate was found for this code."), "{uri}");
        assert!(!reply.text.contains("<script>"), "{uri}");
        assert!(!reply.text.contains("Holder"), "{uri}");
    }
}

#[tokio::test]
async fn forms_without_the_sessions_csrf_token_are_refused_and_change_nothing() {
    let app = app().await;
    let course = import(&app, &|_, text| text).await;
    let alice = sign_in(&app, "alice").await;
    let reply =
        alice.post(&app, "/learning/enrol", &[("course_id", &course), ("csrf_token", "forged")]).await;
    assert_status(&reply, StatusCode::FORBIDDEN);
    assert_eq!(app.get("alice", "/api/v1/learning/enrolments").await.body, json!([]));

    let enrolled = app
        .call(Some("alice"), "POST", "/api/v1/learning/enrolments", Some(json!({"course_id": course})))
        .await;
    let enrolment = enrolled.body["id"].as_str().unwrap().to_owned();
    let uris = [
        format!("/learning/courses/{course}/lessons/intro/what-is-an-incident/complete"),
        format!("/learning/enrolments/{enrolment}/attempts"),
        "/learning/assign".to_owned(),
    ];
    for uri in &uris {
        let reply = alice.post(&app, uri, &[("csrf_token", "")]).await;
        assert_status(&reply, StatusCode::FORBIDDEN);
    }
    let after = app.get("alice", &format!("/api/v1/learning/enrolments/{enrolment}")).await;
    assert_eq!(after.body["lessons_done"], json!([]));
    assert_eq!(after.body["attempts"], json!([]));
}

#[tokio::test]
async fn another_organisations_learner_or_admin_never_sees_the_records() {
    let app = app().await;
    let course = import(&app, &|_, text| text).await;
    let alice = sign_in(&app, "alice").await;
    alice.post(&app, "/learning/enrol", &[("course_id", &course)]).await;
    let enrolment =
        app.get("alice", "/api/v1/learning/enrolments").await.body[0]["id"].as_str().unwrap().to_owned();
    let start =
        alice.post(&app, &format!("/learning/enrolments/{enrolment}/attempts"), &[("lang", "en")]).await;
    let attempt = attempt_id(&start);
    let question =
        questions(&alice.get(&app, &format!("/learning/attempts/{attempt}")).await.text)[0].clone();

    for outsider in ["bob", "boris"] {
        let browser = sign_in(&app, outsider).await;
        let page = browser.get(&app, &format!("/learning/attempts/{attempt}")).await;
        assert_status(&page, StatusCode::NOT_FOUND);
        assert!(!page.text.contains(&format!("q.{question}")));
        let name = format!("q.{question}");
        for (uri, fields) in [
            (format!("/learning/attempts/{attempt}/submit"), vec![(name.as_str(), "x")]),
            (format!("/learning/enrolments/{enrolment}/attempts"), vec![]),
        ] {
            let reply = browser.post(&app, &uri, &fields).await;
            assert_status(&reply, StatusCode::NOT_FOUND);
        }
        // The course itself is training material every signed-in user reads; the lists show
        // nothing of alice.
        let catalogue = browser.get(&app, "/learning").await;
        assert_status(&catalogue, StatusCode::OK);
        assert!(!catalogue.text.contains("alice"), "{outsider}: {}", catalogue.text);
        assert!(catalogue.text.contains("not enrolled in any course yet"));
        let certificates = browser.get(&app, "/learning/certificates").await;
        assert!(certificates.text.contains("You have no certificate yet"));
        let course_page = browser.get(&app, &format!("/learning/courses/{course}")).await;
        assert!(!course_page.text.contains(&attempt), "{outsider}");
    }
    // The attempt was not touched.
    let state = app.get("alice", &format!("/api/v1/learning/attempts/{attempt}")).await;
    assert_eq!(state.body["submitted_at"], Value::Null);

    // EP-A's administrator follows alice's records, and cannot answer for her.
    let ada = sign_in(&app, "ada").await;
    let catalogue = ada.get(&app, "/learning").await;
    assert!(catalogue.text.contains("alice"), "{}", catalogue.text);
    let page = ada.get(&app, &format!("/learning/attempts/{attempt}")).await;
    assert_status(&page, StatusCode::OK);
    assert!(!page.text.contains("name=\"q."), "an admin sees no answer form");
    let reply = ada.post(&app, &format!("/learning/attempts/{attempt}/submit"), &[]).await;
    assert_status(&reply, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_organisations_admin_assigns_a_course_to_members_only() {
    let app = app().await;
    let course = import(&app, &|_, text| text).await;
    let ada = sign_in(&app, "ada").await;
    let page = ada.get(&app, "/learning").await;
    assert!(page.text.contains("action=\"/learning/assign\""));
    let alice_id = app.store.find_user("alice").await.unwrap().unwrap().id.to_string();
    let assigned =
        ada.post(&app, "/learning/assign", &[("course_id", &course), ("user_id", &alice_id)]).await;
    assert_status(&assigned, StatusCode::SEE_OTHER);
    assert_eq!(location(&assigned), "/learning?done=assigned");
    let alice = sign_in(&app, "alice").await;
    assert!(alice.get(&app, "/learning").await.text.contains("assigned"));
    // Again: refused clearly.
    let twice = ada.post(&app, "/learning/assign", &[("course_id", &course), ("user_id", &alice_id)]).await;
    assert_status(&twice, StatusCode::CONFLICT);
    assert!(twice.text.contains("enrolled in the course already"));
    // bob (EP-B) is not ada's to assign: not found, as an unknown user. A learner may not assign.
    let bob_id = app.store.find_user("bob").await.unwrap().unwrap().id.to_string();
    let other = ada.post(&app, "/learning/assign", &[("course_id", &course), ("user_id", &bob_id)]).await;
    assert_status(&other, StatusCode::NOT_FOUND);
    let bob = sign_in(&app, "bob").await;
    assert!(!bob.get(&app, "/learning").await.text.contains("action=\"/learning/assign\""));
    let refused = bob.post(&app, "/learning/assign", &[("course_id", &course), ("user_id", &alice_id)]).await;
    assert_status(&refused, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn course_texts_and_lessons_are_escaped() {
    let app = app().await;
    let hostile = "<script>alert('x')</script> & \"quotes\"";
    let course = import(&app, &|path, text| match path {
        "course.yaml" => {
            text.replace("en: Incident handling basics", &format!("en: '{}'", hostile.replace('\'', "''")))
        }
        "lessons/en/intro/what-is-an-incident.md" => format!("{text}\n<script>alert('lesson')</script>\n"),
        _ => text,
    })
    .await;
    let alice = sign_in(&app, "alice").await;
    let pages = [
        "/learning".to_owned(),
        format!("/learning/courses/{course}?lang=en"),
        format!("/learning/courses/{course}/lessons/intro/what-is-an-incident?lang=en"),
    ];
    for uri in &pages {
        let page = alice.get(&app, uri).await;
        assert_status(&page, StatusCode::OK);
        assert!(!page.text.contains("<script>alert"), "{uri}: {}", page.text);
    }
    let page = alice.get(&app, &format!("/learning/courses/{course}?lang=en")).await;
    assert!(page.text.contains("&lt;script&gt;alert("), "{}", page.text);
    let lesson = alice.get(&app, &pages[2]).await;
    assert!(lesson.text.contains("&lt;script&gt;alert("), "{}", lesson.text);
}

#[tokio::test]
async fn pages_need_a_session_but_verification_does_not() {
    let app = app().await;
    for uri in ["/learning", "/learning/certificates"] {
        let reply = anonymous(&app, uri).await;
        assert_status(&reply, StatusCode::SEE_OTHER);
        assert!(location(&reply).starts_with("/login"), "{uri}");
    }
    assert_status(&anonymous(&app, "/verify").await, StatusCode::OK);
}
