//! A test instance: SQLite in memory, a small constituency and one user per role.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use neretva_model::Uuid;
use neretva_model::org::{EntityType, OrganisationFields};
use neretva_model::user::{Role, Scope};
use neretva_server::auth::{PasswordParams, hash_secret, new_token};
use neretva_server::{AppState, ServerConfig, app};
use neretva_store::{Actor, NewUser, Store};
use neretva_store_sqlite::SqliteStore;
use serde_json::Value;
use tower::ServiceExt;

pub(crate) struct TestApp {
    pub store: Arc<SqliteStore>,
    pub router: axum::Router,
    /// API tokens (write scope, admin scope for the admin) by username.
    pub tokens: std::collections::HashMap<String, String>,
    /// The router's state (shared), for adding parts such as the notifier.
    pub state: AppState,
}

pub(crate) const PASSWORD: &str = "correct-horse-battery";

pub(crate) fn config() -> ServerConfig {
    ServerConfig {
        password_params: PasswordParams::insecure_fast(),
        cookie_secure: false,
        login_attempts_per_minute: 1000,
        ..ServerConfig::default()
    }
}

fn org(name: &str, short_name: &str, parent: Option<Uuid>) -> OrganisationFields {
    OrganisationFields {
        name: name.into(),
        short_name: short_name.into(),
        address: None,
        country: "BA".into(),
        sector: Some("energy".into()),
        subsector: None,
        entity_type: EntityType::Essential,
        authority_level: "State".into(),
        parent_id: parent,
    }
}

/// Users: admin, analyst, auditor at the CERT; alice at EP-A, bob at EP-B, carol (community) at RES.
pub(crate) async fn test_app() -> TestApp {
    test_app_with(config()).await
}

pub(crate) async fn test_app_with(config: ServerConfig) -> TestApp {
    test_app_extended(config, &[]).await
}

/// A user beyond the standard ones: username, role, organisation short name, sectors.
pub(crate) type ExtraUser = (&'static str, Role, &'static str, &'static [&'static str]);

/// The standard instance plus a regulatory agency (`REG`, no parent) and `extra` users.
pub(crate) async fn test_app_extended(config: ServerConfig, extra: &[ExtraUser]) -> TestApp {
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    store.migrate().await.unwrap();
    let actor = Actor("test".into());
    let cert = store.create_org(&actor, &org("CERT BiH", "CERT-BIH", None)).await.unwrap();
    let a = store.create_org(&actor, &org("Elektro A", "EP-A", Some(cert.id))).await.unwrap();
    let b = store.create_org(&actor, &org("Elektro B", "EP-B", Some(cert.id))).await.unwrap();
    let research = store.create_org(&actor, &org("Research Institute", "RES", None)).await.unwrap();
    let mut orgs = std::collections::HashMap::from([("EP-A", a.id), ("EP-B", b.id), ("RES", research.id)]);
    orgs.insert("CERT-BIH", cert.id);
    if !extra.is_empty() {
        let mut agency = org("Regulatory Agency", "REG", None);
        agency.sector = Some("public-administration".into());
        let agency = store.create_org(&actor, &agency).await.unwrap();
        orgs.insert("REG", agency.id);
    }
    let params = config.password_params;
    let mut tokens = std::collections::HashMap::new();
    let standard: Vec<(&str, Role, Uuid, Vec<String>)> = [
        ("admin", Role::Admin, cert.id),
        ("analyst", Role::Analyst, cert.id),
        ("auditor", Role::Auditor, cert.id),
        ("alice", Role::Constituent, a.id),
        ("bob", Role::Constituent, b.id),
        ("carol", Role::Community, research.id),
    ]
    .into_iter()
    .map(|(username, role, org)| (username, role, org, Vec::new()))
    .chain(extra.iter().map(|(username, role, org, sectors)| {
        (*username, *role, orgs[org], sectors.iter().map(|s| (*s).to_owned()).collect())
    }))
    .collect();
    for (username, role, org_id, sectors) in standard {
        let user = store
            .create_user(
                &actor,
                &NewUser {
                    org_id,
                    username: username.into(),
                    display_name: None,
                    email: None,
                    role,
                    sectors,
                    language: None,
                    password_hash: Some(hash_secret(params, PASSWORD).unwrap()),
                },
            )
            .await
            .unwrap();
        let scope = match role {
            Role::Admin => Scope::Admin,
            Role::Auditor | Role::Authority => Scope::Read,
            _ => Scope::Write,
        };
        let (token, secret) = new_token(params, user.id, "test", scope, None).unwrap();
        store.create_token(&actor, &token).await.unwrap();
        tokens.insert(username.to_owned(), secret);
    }
    let dyn_store: Arc<dyn Store> = store.clone();
    let pipeline_config: neretva_pipeline::PipelineConfig = serde_json::from_value(serde_json::json!({
        "feeds": [{"name": "shadowserver-dns", "parser": "shadowserver", "parser_options": {"report_type": "scan_dns"}}]
    }))
    .unwrap();
    let pipeline = neretva_pipeline::Pipeline::build(&pipeline_config, None).unwrap();
    let state = AppState::new(dyn_store, config, None).await.unwrap().with_pipeline(Arc::new(pipeline));
    let router = app(state.clone());
    TestApp { store, router, tokens, state }
}

/// A response's status, headers and JSON body (or `Value::Null` for an empty or non-JSON body).
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl TestApp {
    pub(crate) async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { status, headers, body, text }
    }

    /// A request with the user's bearer token (or anonymous for `None`).
    pub(crate) async fn call(
        &self,
        user: Option<&str>,
        method: &str,
        uri: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(user) = user {
            request = request.header(header::AUTHORIZATION, format!("Bearer {}", self.tokens[user]));
        }
        let body = match body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.send(request.body(body).unwrap()).await
    }

    /// An organisation's id by short name.
    pub(crate) async fn store_org(&self, short_name: &str) -> String {
        self.store.find_org(short_name).await.unwrap().unwrap().id.to_string()
    }

    pub(crate) async fn get(&self, user: &str, uri: &str) -> Reply {
        self.call(Some(user), "GET", uri, None).await
    }
}

#[track_caller]
pub(crate) fn assert_status(reply: &Reply, status: StatusCode) {
    assert_eq!(reply.status, status, "body: {}", reply.text);
}

/// A browser session of the web interface: the session cookie and the CSRF token of its forms.
pub(crate) struct Browser {
    pub(crate) cookie: String,
    pub(crate) csrf: String,
}

/// Signs in through the login API as a browser does and keeps the session cookie.
pub(crate) async fn sign_in(app: &TestApp, username: &str) -> Browser {
    let reply = app
        .call(
            None,
            "POST",
            "/api/v1/auth/login",
            Some(serde_json::json!({"username": username, "password": PASSWORD})),
        )
        .await;
    assert_status(&reply, StatusCode::OK);
    let set_cookie = reply.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    Browser { cookie, csrf: reply.body["csrf_token"].as_str().unwrap().to_owned() }
}

impl Browser {
    pub(crate) async fn get(&self, app: &TestApp, uri: &str) -> Reply {
        let request =
            Request::builder().uri(uri).header(header::COOKIE, &self.cookie).body(Body::empty()).unwrap();
        app.send(request).await
    }

    /// Posts a form; the session's CSRF token is added unless the fields name one.
    pub(crate) async fn post(&self, app: &TestApp, uri: &str, fields: &[(&str, &str)]) -> Reply {
        let mut pairs: Vec<(&str, &str)> = fields.to_vec();
        if !fields.iter().any(|(name, _)| *name == "csrf_token") {
            pairs.push(("csrf_token", &self.csrf));
        }
        let body = serde_urlencoded::to_string(&pairs).unwrap();
        let request = Request::builder()
            .method("POST")
            .uri(uri)
            .header(header::COOKIE, &self.cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        app.send(request).await
    }
}

/// The `Location` header of a reply, empty when there is none.
pub(crate) fn location(reply: &Reply) -> String {
    reply.headers.get(header::LOCATION).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// An incident reported by EP-B (bob's organisation), aware 30 hours ago.
pub(crate) async fn incident_of_ep_b(app: &TestApp, title: &str) -> String {
    let aware = (time::OffsetDateTime::now_utc() - time::Duration::hours(30))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let reply = app
        .call(
            Some("bob"),
            "POST",
            "/api/v1/reports/incidents",
            Some(serde_json::json!({
                "title": title, "aware_at": aware,
                "stage": {"kind": "notification", "initial_assessment": "Files encrypted.", "severity": "high",
                          "impact": "Billing down.", "indicators": [{"value": "198.51.100.77"}]}
            })),
        )
        .await;
    assert_status(&reply, StatusCode::CREATED);
    reply.body["incident"]["id"].as_str().unwrap().to_owned()
}
