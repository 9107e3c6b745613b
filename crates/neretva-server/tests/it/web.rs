//! The web interface in process: sign-in, CSRF refusal, the Content-Security-Policy, session
//! expiry, escaping, languages, and no other organisation's data on any page.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use neretva_model::contact::Language;
use neretva_model::user::Role;
use neretva_server::auth::{format_session_cookie, hash_secret, random_secret};
use neretva_store::feeds::NewEvent;
use neretva_store::{Session, Store};
use serde_json::json;

use crate::support::{PASSWORD, Reply, TestApp, assert_status, config, test_app};

/// A signed-in browser: its session cookie and the CSRF token its pages carry.
struct Browser {
    cookie: String,
    csrf: String,
}

fn set_cookie(reply: &Reply, name: &str) -> Option<String> {
    reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(|value| value.split(';').next().unwrap_or_default().to_owned())
        .find(|pair| pair.starts_with(&format!("{name}=")))
}

fn hidden_csrf(text: &str) -> String {
    text.split("name=\"csrf_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned()
}

async fn sign_in(app: &TestApp, username: &str) -> Browser {
    let form = app.send(Request::get("/login").body(Body::empty()).unwrap()).await;
    assert_status(&form, StatusCode::OK);
    let login_cookie = set_cookie(&form, "neretva_login_csrf").unwrap();
    let token = hidden_csrf(&form.text);
    let reply = app
        .send(
            Request::post("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, login_cookie)
                .body(Body::from(format!(
                    "username={username}&password={PASSWORD}&csrf_token={token}&next=%2F"
                )))
                .unwrap(),
        )
        .await;
    assert_status(&reply, StatusCode::SEE_OTHER);
    let cookie = set_cookie(&reply, "neretva_session").unwrap();
    let start =
        app.send(Request::get("/").header(header::COOKIE, &cookie).body(Body::empty()).unwrap()).await;
    assert_status(&start, StatusCode::OK);
    Browser { csrf: hidden_csrf(&start.text), cookie }
}

impl Browser {
    async fn get(&self, app: &TestApp, path: &str) -> Reply {
        app.send(Request::get(path).header(header::COOKIE, &self.cookie).body(Body::empty()).unwrap()).await
    }

    async fn post(&self, app: &TestApp, path: &str, form: &str) -> Reply {
        app.send(
            Request::post(path)
                .header(header::COOKIE, &self.cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form.to_owned()))
                .unwrap(),
        )
        .await
    }
}

fn location(reply: &Reply) -> &str {
    reply.headers.get(header::LOCATION).unwrap().to_str().unwrap()
}

/// The report of the event tests through the upload form: EP-A owns 192.0.2.0/26 (four
/// events), EP-B 192.0.2.64/26 (three), one address is nobody's, line 4 is bad.
async fn upload_through_the_form(app: &TestApp, analyst: &Browser) -> String {
    for (org, net) in [("EP-A", "192.0.2.0/26"), ("EP-B", "192.0.2.64/26")] {
        let path = format!("/api/v1/organisations/{org}/assets");
        let reply = app.call(Some("analyst"), "POST", &path, Some(json!({"value": net}))).await;
        assert_status(&reply, StatusCode::CREATED);
    }
    let mut csv = String::from(
        "\"timestamp\",\"severity\",\"ip\",\"protocol\",\"port\",\"hostname\",\"tag\",\"asn\",\"geo\",\"region\",\"city\",\"naics\",\"hostname_source\",\"sector\",\"dns_version\",\"min_amplification\"\n",
    );
    for ip in [
        "192.0.2.1",
        "192.0.2.2",
        "not-an-ip",
        "192.0.2.3",
        "192.0.2.4",
        "192.0.2.65",
        "192.0.2.66",
        "192.0.2.67",
        "198.51.100.9",
    ] {
        csv.push_str(&format!(
            "\"2026-11-27 10:00:00\",\"medium\",\"{ip}\",\"udp\",\"53\",\"\",\"openresolver\",\"64500\",\"BA\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"\n"
        ));
    }
    let form = serde_urlencoded::to_string([
        ("csrf_token", analyst.csrf.as_str()),
        ("feed", "shadowserver-dns"),
        ("file_name", ""),
        ("content", csv.as_str()),
    ])
    .unwrap();
    let reply = analyst.post(app, "/feeds/upload", &form).await;
    assert_status(&reply, StatusCode::SEE_OTHER);
    let report_path = location(&reply).to_owned();
    assert!(report_path.starts_with("/feeds/reports/"), "{report_path}");
    let report = analyst.get(app, &report_path).await;
    assert_status(&report, StatusCode::OK);
    assert!(report.text.contains("<dd id=\"report-events\">8</dd>"), "{}", report.text);
    // The bad record with its line number.
    assert!(report.text.contains("<td class=\"num\">4</td>"), "{}", report.text);
    report_path.trim_start_matches("/feeds/reports/").to_owned()
}

#[tokio::test]
async fn sign_in_opens_the_dashboard_and_sign_out_ends_the_session() {
    let app = test_app().await;
    let anonymous = app.send(Request::get("/events?q=x").body(Body::empty()).unwrap()).await;
    assert_status(&anonymous, StatusCode::SEE_OTHER);
    assert_eq!(location(&anonymous), "/login?next=%2Fevents%3Fq%3Dx");

    let analyst = sign_in(&app, "analyst").await;
    let dashboard = analyst.get(&app, "/").await;
    assert!(dashboard.text.contains("<html lang=\"en\">"));
    assert!(dashboard.text.contains("Signed in as analyst"), "{}", dashboard.text);
    for path in ["/", "/events", "/feeds"] {
        assert_status(&analyst.get(&app, path).await, StatusCode::OK);
    }
    let reply = analyst.post(&app, "/logout", &format!("csrf_token={}", analyst.csrf)).await;
    assert_status(&reply, StatusCode::SEE_OTHER);
    assert_eq!(location(&reply), "/login");
    let after = analyst.get(&app, "/events").await;
    assert_status(&after, StatusCode::SEE_OTHER);
    assert!(location(&after).starts_with("/login?next=%2Fevents"));
}

#[tokio::test]
async fn every_form_refuses_a_missing_or_wrong_csrf_token() {
    let app = test_app().await;
    let analyst = sign_in(&app, "analyst").await;
    for (path, form) in [
        ("/language", "language=hr&next=%2F".to_owned()),
        ("/language", "language=hr&csrf_token=forged".to_owned()),
        ("/logout", String::new()),
        ("/feeds/upload", "feed=shadowserver-dns&content=x&csrf_token=0000".to_owned()),
        ("/feeds/reports/01939a52-0000-7000-8000-000000000000/reparse", "csrf_token=0000".to_owned()),
    ] {
        let reply = analyst.post(&app, path, &form).await;
        assert_status(&reply, StatusCode::FORBIDDEN);
        assert!(reply.text.contains("The form expired or did not come from this site"), "{}", reply.text);
    }
    // Nothing was done: the language is unchanged, no report was stored, the session lives.
    let user = app.store.find_user("analyst").await.unwrap().unwrap();
    assert_eq!(user.language, None);
    let reports = app.get("analyst", "/api/v1/reports").await;
    assert_eq!(reports.body, json!([]));
    assert_status(&analyst.get(&app, "/").await, StatusCode::OK);
    // The API's header check still applies to the session's API calls.
    let reply = analyst.post(&app, "/api/v1/organisations", "{}").await;
    assert_status(&reply, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn pages_carry_a_csp_without_inline_code() {
    let app = test_app().await;
    let analyst = sign_in(&app, "analyst").await;
    for path in ["/", "/events", "/feeds", "/login"] {
        let reply = analyst.get(&app, path).await;
        let csp = reply.headers.get(header::CONTENT_SECURITY_POLICY).unwrap().to_str().unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"), "{csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
        assert_eq!(reply.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
        // Every script is a file, no element has a style attribute, no inline handlers.
        for script in reply.text.split("<script").skip(1) {
            assert!(script.starts_with(" src=\"/static/"), "{path}: inline script {script}");
        }
        assert!(!reply.text.contains(" style=") && !reply.text.contains("<style"), "{path}");
        assert!(!reply.text.contains(" onclick=") && !reply.text.contains(" onchange="), "{path}");
    }
    let css = app.send(Request::get("/static/neretva.css").body(Body::empty()).unwrap()).await;
    assert_status(&css, StatusCode::OK);
    assert!(css.headers.get(header::CONTENT_TYPE).unwrap().to_str().unwrap().starts_with("text/css"));
}

#[tokio::test]
async fn an_expired_session_goes_back_to_the_login() {
    let app = test_app().await;
    let user = app.store.find_user("analyst").await.unwrap().unwrap();
    let secret = random_secret();
    let now = time::OffsetDateTime::now_utc();
    let session = Session {
        id: neretva_model::Uuid::now_v7(),
        user_id: user.id,
        secret_hash: hash_secret(config().password_params, &secret).unwrap(),
        created_at: now - time::Duration::hours(9),
        expires_at: now - time::Duration::hours(1),
    };
    app.store.create_session(&session).await.unwrap();
    let browser = Browser {
        cookie: format!("neretva_session={}", format_session_cookie(session.id, &secret)),
        csrf: String::new(),
    };
    let reply = browser.get(&app, "/events").await;
    assert_status(&reply, StatusCode::SEE_OTHER);
    assert_eq!(location(&reply), "/login?next=%2Fevents&expired=1");
    let login = app.send(Request::get(location(&reply)).body(Body::empty()).unwrap()).await;
    assert!(login.text.contains("Your session has ended"), "{}", login.text);
    // The template escapes `/` as `&#x2f;`.
    assert!(login.text.contains("name=\"next\" value=\"&#x2f;events\""), "{}", login.text);
}

#[tokio::test]
async fn constituents_never_see_another_organisations_events() {
    let app = test_app().await;
    let analyst = sign_in(&app, "analyst").await;
    let report = upload_through_the_form(&app, &analyst).await;

    // The analyst finds every event of the report through the search.
    let found = analyst.get(&app, &format!("/events?report={report}&ip=192.0.2.0%2F24")).await;
    assert_status(&found, StatusCode::OK);
    for ip in ["192.0.2.1", "192.0.2.4", "192.0.2.65", "192.0.2.67"] {
        assert!(found.text.contains(&format!("{ip}:53")), "{ip}: {}", found.text);
    }
    assert!(found.text.contains("7 events"), "{}", found.text);

    let bob_events = app.get("bob", "/api/v1/events").await;
    let bob_event = bob_events.body["items"][0]["id"].as_str().unwrap().to_owned();
    let alice = sign_in(&app, "alice").await;
    let list = alice.get(&app, "/events").await;
    assert_status(&list, StatusCode::OK);
    assert!(list.text.contains("192.0.2.1:53") && list.text.contains("4 events"), "{}", list.text);
    for other in ["192.0.2.65", "192.0.2.66", "192.0.2.67", "198.51.100.9", "EP-B", "Elektro B"] {
        assert!(!list.text.contains(other), "{other} leaked: {}", list.text);
    }
    // Another organisation's event does not exist for alice, nor does its organisation.
    let detail = alice.get(&app, &format!("/events/{bob_event}")).await;
    assert_status(&detail, StatusCode::NOT_FOUND);
    assert!(!detail.text.contains("192.0.2.6"), "{}", detail.text);
    let by_org = alice.get(&app, "/events?organisation=EP-B").await;
    assert_status(&by_org, StatusCode::BAD_REQUEST);
    assert!(!by_org.text.contains("192.0.2.6"), "{}", by_org.text);
    let dashboard = alice.get(&app, "/").await;
    assert!(dashboard.text.contains("Elektro A"), "{}", dashboard.text);
    for other in ["EP-B", "Elektro B", "Research Institute"] {
        assert!(!dashboard.text.contains(other), "{other} leaked: {}", dashboard.text);
    }
    // Feeds are the CERT's: not found for a constituent, report pages included.
    assert_status(&alice.get(&app, "/feeds").await, StatusCode::NOT_FOUND);
    assert_status(&alice.get(&app, &format!("/feeds/reports/{report}")).await, StatusCode::NOT_FOUND);
    let reparse = format!("/feeds/reports/{report}/reparse");
    let refused = alice.post(&app, &reparse, &format!("csrf_token={}", alice.csrf)).await;
    assert_status(&refused, StatusCode::NOT_FOUND);

    // The analyst has the report parsed again from its page: the same counts, no duplicates.
    let page = analyst.get(&app, &format!("/feeds/reports/{report}")).await;
    assert!(page.text.contains(&format!("action=\"{reparse}\"")), "{}", page.text);
    let again = analyst.post(&app, &reparse, &format!("csrf_token={}", analyst.csrf)).await;
    assert_status(&again, StatusCode::SEE_OTHER);
    assert_eq!(location(&again), format!("/feeds/reports/{report}"));
    let page = analyst.get(&app, location(&again)).await;
    assert!(page.text.contains("<dd id=\"report-events\">8</dd>"), "{}", page.text);
    assert_eq!(
        app.get("analyst", "/api/v1/events?limit=1000").await.body["items"].as_array().unwrap().len(),
        8
    );
    // Once its data is purged, the page says so and offers no re-parse.
    let later = time::OffsetDateTime::now_utc() + time::Duration::seconds(1);
    assert_eq!(neretva_store::Store::purge_report_data(app.store.as_ref(), later).await.unwrap(), 1);
    let page = analyst.get(&app, &format!("/feeds/reports/{report}")).await;
    assert!(page.text.contains("id=\"data-purged\"") && !page.text.contains(&reparse), "{}", page.text);

    // The analyst's dashboard counts every routed event and names both organisations.
    let dashboard = analyst.get(&app, "/").await;
    assert!(dashboard.text.contains("<svg") && dashboard.text.contains("role=\"img\""), "{}", dashboard.text);
    assert!(dashboard.text.contains("Elektro A") && dashboard.text.contains("Elektro B"));
    assert!(dashboard.text.contains("shadowserver-dns"), "feed health: {}", dashboard.text);
}

#[tokio::test]
async fn event_texts_are_escaped() {
    let app = test_app().await;
    let report = neretva_store::feeds::NewReport {
        id: neretva_model::Uuid::now_v7(),
        feed: "hostile".into(),
        parser: "generic_csv".into(),
        source: "upload:analyst".into(),
        received_at: time::OffsetDateTime::now_utc(),
        sha256: "0".repeat(64),
        data: b"x".to_vec(),
    };
    app.store.store_report(&report).await.unwrap();
    let id = neretva_model::Uuid::now_v7();
    let json = json!({
        "feed.name": "hostile",
        "classification.type": "<script>alert('type')</script>",
        "event_description.text": "<img src=x onerror=alert(1)>",
        "tlp": "TLP:AMBER",
    });
    let event = NewEvent {
        id,
        taxonomy: Some("other".into()),
        classification_type: Some("<script>alert('type')</script>".into()),
        ..NewEvent::new(
            report.id,
            "hostile",
            1,
            "<script>alert('raw')</script>",
            time::OffsetDateTime::now_utc(),
            json.to_string(),
        )
    };
    app.store.insert_events(&[event]).await.unwrap();
    let analyst = sign_in(&app, "analyst").await;
    for path in [format!("/events/{id}"), "/events".to_owned(), "/".to_owned()] {
        let page = analyst.get(&app, &path).await;
        assert_status(&page, StatusCode::OK);
        assert!(!page.text.contains("<script>alert"), "{path}: {}", page.text);
        assert!(!page.text.contains("<img src=x"), "{path}");
    }
    let detail = analyst.get(&app, &format!("/events/{id}")).await;
    assert!(
        detail.text.contains("&lt;script&gt;alert(&#x27;raw&#x27;)&lt;&#x2f;script&gt;"),
        "{}",
        detail.text
    );
    assert!(detail.text.contains("&lt;img src=x onerror=alert(1)&gt;"), "{}", detail.text);
}

#[tokio::test]
async fn the_language_follows_the_browser_then_the_users_choice() {
    let app = test_app().await;
    let login = app
        .send(
            Request::get("/login")
                .header(header::ACCEPT_LANGUAGE, "de, hr;q=0.8, en;q=0.5")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(login.text.contains("<html lang=\"hr\">") && login.text.contains("Prijavi se"), "{}", login.text);

    let analyst = sign_in(&app, "analyst").await;
    let form = format!("csrf_token={}&language=sr-Cyrl&next=%2Fevents", analyst.csrf);
    let reply = analyst.post(&app, "/language", &form).await;
    assert_status(&reply, StatusCode::SEE_OTHER);
    assert_eq!(location(&reply), "/events");
    let user = app.store.find_user("analyst").await.unwrap().unwrap();
    assert_eq!(user.language, Some(Language::SrCyrl));
    let events = analyst.get(&app, "/events").await;
    assert!(events.text.contains("<html lang=\"sr-Cyrl\">"), "{}", events.text);
    assert!(events.text.contains("Догађаји") && events.text.contains("Контролна табла"), "{}", events.text);
    // The saved choice wins over the browser's language.
    let with_header = app
        .send(
            Request::get("/")
                .header(header::COOKIE, &analyst.cookie)
                .header(header::ACCEPT_LANGUAGE, "en")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(with_header.text.contains("<html lang=\"sr-Cyrl\">"));
    // The change is audited as a user update.
    let audit = app.get("admin", "/api/v1/audit?action=user.update").await;
    assert!(audit.text.contains("user:analyst"), "{}", audit.text);

    let back = analyst.post(&app, "/language", &format!("csrf_token={}&language=en", analyst.csrf)).await;
    assert_eq!(location(&back), "/");
    let dashboard = analyst.get(&app, "/").await;
    assert!(dashboard.text.contains("Dashboard"));
    let unknown = analyst.post(&app, "/language", &format!("csrf_token={}&language=de", analyst.csrf)).await;
    assert_status(&unknown, StatusCode::BAD_REQUEST);
    let _ = Role::Analyst;
}
