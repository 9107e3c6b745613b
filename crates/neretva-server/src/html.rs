//! The minimal HTML front door: a login form and a start page. The full web interface builds
//! on this module's security headers and form conventions.

use axum::Router;
use axum::extract::{Form, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::AppState;
use crate::api::auth::{LoginAttempt, clear_session_cookie, login_user, session_cookie};
use crate::auth::{constant_time_eq, random_secret};
use crate::extract::MaybeAuth;
use neretva_model::access::Principal;

/// Cookie holding the CSRF token of the login form (double-submit, before any session exists).
const LOGIN_CSRF_COOKIE: &str = "neretva_login_csrf";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(start_page))
        .route("/login", get(login_form).post(login_submit))
        .route("/static/neretva.css", get(stylesheet))
}

/// Adds the security headers every response carries.
pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: header::HeaderName, value: &'static str| {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    if is_api {
        set(headers, header::CACHE_CONTROL, "no-store");
    }
    response
}

pub(crate) use neretva_model::text::html_escape as escape;

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Neretva</title><link rel=\"stylesheet\" href=\"/static/neretva.css\"></head>\
         <body><main>{body}</main></body></html>",
        escape(title)
    ))
}

async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        "body{font-family:system-ui,sans-serif;margin:0;background:#f4f6f8;color:#1b1f24}\
         main{max-width:32rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px}\
         label{display:block;margin-top:1rem}input{width:100%;padding:.5rem;font-size:1rem}\
         button{margin-top:1.5rem;padding:.6rem 1.2rem;font-size:1rem;background:#0b5394;color:#fff;border:0;border-radius:4px}\
         .error{color:#a40000}",
    )
}

async fn start_page(MaybeAuth(principal): MaybeAuth) -> Response {
    match principal {
        Principal::Anonymous => Redirect::to("/login").into_response(),
        Principal::User(user) => page(
            "Neretva",
            &format!(
                "<h1>Neretva</h1><p>Signed in as <strong>{}</strong> ({}).</p>\
                 <p>The API is at <a href=\"/api/v1/openapi.json\">/api/v1</a>.</p>",
                escape(&user.username),
                user.role
            ),
        )
        .into_response(),
    }
}

fn login_page(csrf: &str, error: Option<&str>) -> Html<String> {
    let error =
        error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))).unwrap_or_default();
    page(
        "Sign in",
        &format!(
            "<h1>Neretva</h1>{error}<form method=\"post\" action=\"/login\">\
             <input type=\"hidden\" name=\"csrf_token\" value=\"{}\">\
             <label for=\"username\">Username</label>\
             <input id=\"username\" name=\"username\" autocomplete=\"username\" required>\
             <label for=\"password\">Password</label>\
             <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
             <button type=\"submit\">Sign in</button></form>",
            escape(csrf)
        ),
    )
}

fn login_csrf_cookie(state: &AppState, value: &str) -> String {
    let secure = if state.config().cookie_secure { "; Secure" } else { "" };
    format!("{LOGIN_CSRF_COOKIE}={value}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600{secure}")
}

async fn login_form(State(state): State<AppState>) -> Response {
    let csrf = random_secret();
    let mut response = login_page(&csrf, None).into_response();
    if let Ok(value) = HeaderValue::from_str(&login_csrf_cookie(&state, &csrf)) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    username: String,
    password: String,
    csrf_token: String,
}

async fn login_submit(
    State(state): State<AppState>,
    attempt: LoginAttempt,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let cookie_token = crate::extract::cookie(&headers, LOGIN_CSRF_COOKIE);
    if !cookie_token.is_some_and(|token| constant_time_eq(token, &form.csrf_token)) {
        return (
            StatusCode::FORBIDDEN,
            login_page(&random_secret(), Some("The form expired; please try again.")),
        )
            .into_response();
    }
    match login_user(&state, &attempt, &form.username, &form.password).await {
        Ok(login) => {
            let mut response = Redirect::to("/").into_response();
            if let Ok(value) = HeaderValue::from_str(&session_cookie(&state, &login.cookie)) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
        Err(error) => {
            let csrf = random_secret();
            let status = error.code.describe().1;
            let mut response = (status, login_page(&csrf, Some(&error.message))).into_response();
            if let Ok(value) = HeaderValue::from_str(&login_csrf_cookie(&state, &csrf)) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            if let Ok(value) = HeaderValue::from_str(&clear_session_cookie(&state)) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
    }
}
