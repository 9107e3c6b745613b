//! Sessions, CSRF, lock-out and rate limiting.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

use crate::support::{PASSWORD, TestApp, assert_status, config, test_app, test_app_with};

async fn login(app: &TestApp, username: &str, password: &str) -> crate::support::Reply {
    app.call(None, "POST", "/api/v1/auth/login", Some(json!({"username": username, "password": password})))
        .await
}

fn session_cookie(reply: &crate::support::Reply) -> String {
    let set_cookie = reply.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    set_cookie.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn session_login_requires_csrf_for_changes() {
    let app = test_app().await;
    let reply = login(&app, "analyst", PASSWORD).await;
    assert_status(&reply, StatusCode::OK);
    let cookie = session_cookie(&reply);
    let csrf = reply.body["csrf_token"].as_str().unwrap().to_owned();

    let me = app
        .send(Request::get("/api/v1/auth/me").header(header::COOKIE, &cookie).body(Body::empty()).unwrap())
        .await;
    assert_status(&me, StatusCode::OK);
    assert_eq!(me.body["user"]["username"], "analyst");
    assert_eq!(me.body["operator"], true);

    let body = json!({"value": "198.51.100.0/28"}).to_string();
    let without = app
        .send(
            Request::post("/api/v1/organisations/EP-A/assets")
                .header(header::COOKIE, &cookie)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.clone()))
                .unwrap(),
        )
        .await;
    assert_status(&without, StatusCode::FORBIDDEN);
    assert_eq!(without.body["code"], "csrf_failed");
    let with = app
        .send(
            Request::post("/api/v1/organisations/EP-A/assets")
                .header(header::COOKIE, &cookie)
                .header("x-csrf-token", &csrf)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_status(&with, StatusCode::CREATED);

    let logout = app
        .send(
            Request::post("/api/v1/auth/logout").header(header::COOKIE, &cookie).body(Body::empty()).unwrap(),
        )
        .await;
    assert_status(&logout, StatusCode::NO_CONTENT);
    let after = app
        .send(Request::get("/api/v1/auth/me").header(header::COOKIE, &cookie).body(Body::empty()).unwrap())
        .await;
    assert_status(&after, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn repeated_failures_lock_the_account() {
    let app = test_app().await;
    for _ in 0..5 {
        let reply = login(&app, "alice", "wrong-password-123").await;
        assert_status(&reply, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.body["code"], "invalid_credentials");
    }
    let reply = login(&app, "alice", PASSWORD).await;
    assert_status(&reply, StatusCode::FORBIDDEN);
    assert_eq!(reply.body["code"], "account_locked");
    // Unknown users get the same answer as wrong passwords.
    let reply = login(&app, "nobody", PASSWORD).await;
    assert_eq!(reply.body["code"], "invalid_credentials");
    // The lock-out is audited.
    let audit = app.get("auditor", "/api/v1/audit?action=user.lockout").await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 1, "{}", audit.text);
}

#[tokio::test]
async fn login_attempts_are_rate_limited() {
    let app = test_app_with(neretva_server::ServerConfig { login_attempts_per_minute: 3, ..config() }).await;
    for _ in 0..3 {
        assert_status(&login(&app, "bob", "wrong-password-123").await, StatusCode::UNAUTHORIZED);
    }
    let reply = login(&app, "bob", PASSWORD).await;
    assert_status(&reply, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.body["code"], "rate_limited");
    assert!(reply.headers.contains_key(header::RETRY_AFTER));
}

#[tokio::test]
async fn disabling_a_user_ends_its_access() {
    let app = test_app().await;
    let bob = app.get("bob", "/api/v1/auth/me").await;
    let bob_id = bob.body["user"]["id"].as_str().unwrap().to_owned();
    let reply = app.call(Some("admin"), "POST", &format!("/api/v1/users/{bob_id}/disable"), None).await;
    assert_status(&reply, StatusCode::OK);
    let reply = app.get("bob", "/api/v1/auth/me").await;
    assert_status(&reply, StatusCode::FORBIDDEN);
    assert_eq!(reply.body["code"], "account_disabled");
    assert_eq!(login(&app, "bob", PASSWORD).await.body["code"], "account_disabled");
}

#[tokio::test]
async fn html_login_form_uses_a_csrf_token() {
    let app = test_app().await;
    let form = app.send(Request::get("/login").body(Body::empty()).unwrap()).await;
    assert_status(&form, StatusCode::OK);
    let csp = form.headers.get(header::CONTENT_SECURITY_POLICY).unwrap().to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"));
    let cookie =
        form.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().split(';').next().unwrap().to_owned();
    let token =
        form.text.split("name=\"csrf_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();

    let post = |csrf: String, cookie: String| {
        Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, cookie)
            .body(Body::from(format!("username=analyst&password={PASSWORD}&csrf_token={csrf}")))
            .unwrap()
    };
    let forged = app.send(post("forged".into(), cookie.clone())).await;
    assert_status(&forged, StatusCode::FORBIDDEN);
    let ok = app.send(post(token, cookie)).await;
    assert_status(&ok, StatusCode::SEE_OTHER);
    let session =
        ok.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().split(';').next().unwrap().to_owned();
    let start =
        app.send(Request::get("/").header(header::COOKIE, session).body(Body::empty()).unwrap()).await;
    assert!(start.text.contains("Signed in as analyst"), "{}", start.text);
}
