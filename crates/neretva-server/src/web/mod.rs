//! The web interface: server-rendered HTML pages in five languages.
//!
//! One file per area (`dashboard`, `events`, `feeds`, …), each exposing `router()` merged
//! below. Pages take a [`WebUser`] (a valid session, else a redirect to `/login?next=…`), read
//! through the same store calls and access functions as the API handlers, and render a
//! minijinja template under `templates/web/` that extends `layout.html`, with auto-escaping.
//! Every POST form carries the session's `csrf_token`, checked by [`check_csrf`] (or the
//! [`WebForm`] extractor) before anything is done. Texts come from `texts/*.toml` through
//! `t()` ([`texts`]).
//!
//! **Architecture Invariant:** no page builds HTML by concatenating user data: templates escape
//! every value, and the SVG charts are rendered by Rust code that escapes every text.

mod admin;
mod constituency;
mod dashboard;
mod events;
mod feeds;
mod incidents;
mod learning;
mod multipart;
mod portal;
mod sharing;
pub(crate) mod svg;
pub(crate) mod texts;
mod training;

use std::sync::OnceLock;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use minijinja::value::Kwargs;
use minijinja::{Environment, State as TemplateState, Value, context};
use neretva_model::access::{Principal, UserPrincipal};
use neretva_model::contact::Language;
use neretva_model::user::{Role, Scope};
use neretva_store::{Actor, StoreError, UserPatch};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::AppState;
use crate::api::auth::{LoginAttempt, clear_session_cookie, login_user, session_cookie};
use crate::auth::{constant_time_eq, csrf_token, parse_session_cookie, random_secret};
use crate::extract::{Auth, SESSION_COOKIE, cookie};

pub(crate) use events::misp_path_page;
pub(crate) use neretva_model::text::html_escape as escape;
pub(crate) use texts::{t, t_n};

/// Cookie holding the CSRF token of the login form (double-submit, before any session exists).
const LOGIN_CSRF_COOKIE: &str = "neretva_login_csrf";
/// Cookie remembering the language chosen before signing in (and after signing out).
const LANGUAGE_COOKIE: &str = "neretva_lang";

/// Every template, by name; an area adds its own here.
pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    ("web/layout.html", include_str!("../../templates/web/layout.html")),
    ("web/login.html", include_str!("../../templates/web/login.html")),
    ("web/error.html", include_str!("../../templates/web/error.html")),
    ("web/dashboard/index.html", include_str!("../../templates/web/dashboard/index.html")),
    ("web/events/list.html", include_str!("../../templates/web/events/list.html")),
    ("web/events/detail.html", include_str!("../../templates/web/events/detail.html")),
    ("web/feeds/index.html", include_str!("../../templates/web/feeds/index.html")),
    ("web/feeds/report.html", include_str!("../../templates/web/feeds/report.html")),
    (
        "web/constituency/organisations.html",
        include_str!("../../templates/web/constituency/organisations.html"),
    ),
    (
        "web/constituency/organisation.html",
        include_str!("../../templates/web/constituency/organisation.html"),
    ),
    (
        "web/constituency/organisation_form.html",
        include_str!("../../templates/web/constituency/organisation_form.html"),
    ),
    (
        "web/constituency/organisation_delete.html",
        include_str!("../../templates/web/constituency/organisation_delete.html"),
    ),
    ("web/constituency/lookup.html", include_str!("../../templates/web/constituency/lookup.html")),
    ("web/sharing/nav.html", include_str!("../../templates/web/sharing/nav.html")),
    ("web/sharing/events.html", include_str!("../../templates/web/sharing/events.html")),
    ("web/sharing/event.html", include_str!("../../templates/web/sharing/event.html")),
    ("web/sharing/indicators.html", include_str!("../../templates/web/sharing/indicators.html")),
    ("web/sharing/groups.html", include_str!("../../templates/web/sharing/groups.html")),
    ("web/sharing/group.html", include_str!("../../templates/web/sharing/group.html")),
    ("web/sharing/taxii.html", include_str!("../../templates/web/sharing/taxii.html")),
    ("web/sharing/taxii_remove.html", include_str!("../../templates/web/sharing/taxii_remove.html")),
    ("web/admin/nav.html", include_str!("../../templates/web/admin/nav.html")),
    ("web/admin/users.html", include_str!("../../templates/web/admin/users.html")),
    ("web/admin/password.html", include_str!("../../templates/web/admin/password.html")),
    ("web/admin/tokens.html", include_str!("../../templates/web/admin/tokens.html")),
    ("web/admin/token_created.html", include_str!("../../templates/web/admin/token_created.html")),
    ("web/admin/audit.html", include_str!("../../templates/web/admin/audit.html")),
    ("web/incidents/queue.html", include_str!("../../templates/web/incidents/queue.html")),
    ("web/incidents/incident.html", include_str!("../../templates/web/incidents/incident.html")),
    ("web/incidents/observable.html", include_str!("../../templates/web/incidents/observable.html")),
    ("web/incidents/evidence.html", include_str!("../../templates/web/incidents/evidence.html")),
    ("web/incidents/merge.html", include_str!("../../templates/web/incidents/merge.html")),
    ("web/portal/index.html", include_str!("../../templates/web/portal/index.html")),
    ("web/portal/new.html", include_str!("../../templates/web/portal/new.html")),
    ("web/portal/field.html", include_str!("../../templates/web/portal/field.html")),
    ("web/portal/report.html", include_str!("../../templates/web/portal/report.html")),
    ("web/portal/events.html", include_str!("../../templates/web/portal/events.html")),
    ("web/learning/catalogue.html", include_str!("../../templates/web/learning/catalogue.html")),
    ("web/learning/course.html", include_str!("../../templates/web/learning/course.html")),
    ("web/learning/lesson.html", include_str!("../../templates/web/learning/lesson.html")),
    ("web/learning/attempt.html", include_str!("../../templates/web/learning/attempt.html")),
    ("web/learning/refused.html", include_str!("../../templates/web/learning/refused.html")),
    ("web/learning/certificates.html", include_str!("../../templates/web/learning/certificates.html")),
    ("web/learning/verify.html", include_str!("../../templates/web/learning/verify.html")),
    ("web/learning/progress.html", include_str!("../../templates/web/learning/progress.html")),
    ("web/learning/languages.html", include_str!("../../templates/web/learning/languages.html")),
    ("web/training/nav.html", include_str!("../../templates/web/training/nav.html")),
    ("web/training/session_rows.html", include_str!("../../templates/web/training/session_rows.html")),
    ("web/training/programmes.html", include_str!("../../templates/web/training/programmes.html")),
    ("web/training/programme.html", include_str!("../../templates/web/training/programme.html")),
    ("web/training/sessions.html", include_str!("../../templates/web/training/sessions.html")),
    ("web/training/session.html", include_str!("../../templates/web/training/session.html")),
    ("web/training/profile.html", include_str!("../../templates/web/training/profile.html")),
    ("web/training/trainers.html", include_str!("../../templates/web/training/trainers.html")),
    ("web/training/statistics.html", include_str!("../../templates/web/training/statistics.html")),
    ("web/training/exercises.html", include_str!("../../templates/web/training/exercises.html")),
    ("web/training/exercise.html", include_str!("../../templates/web/training/exercise.html")),
    ("web/training/facilitate.html", include_str!("../../templates/web/training/facilitate.html")),
    ("web/training/report.html", include_str!("../../templates/web/training/report.html")),
];

/// The Rust sources that call `t(...)`, checked for unknown keys by the texts' tests.
#[cfg(test)]
pub(crate) const SOURCES: &[(&str, &str)] = &[
    ("web/mod.rs", include_str!("mod.rs")),
    ("web/dashboard.rs", include_str!("dashboard.rs")),
    ("web/events.rs", include_str!("events.rs")),
    ("web/feeds.rs", include_str!("feeds.rs")),
    ("web/constituency.rs", include_str!("constituency.rs")),
    ("web/sharing.rs", include_str!("sharing.rs")),
    ("web/admin.rs", include_str!("admin.rs")),
    ("web/incidents.rs", include_str!("incidents.rs")),
    ("web/portal.rs", include_str!("portal.rs")),
    ("web/learning.rs", include_str!("learning.rs")),
    ("web/training.rs", include_str!("training.rs")),
];

/// One entry of the main navigation: where it goes, its text key, who sees it.
struct NavItem {
    href: &'static str,
    key: &'static str,
    shown: fn(&UserPrincipal) -> bool,
}

fn everyone(_: &UserPrincipal) -> bool {
    true
}

fn operator_staff(user: &UserPrincipal) -> bool {
    user.is_operator_staff()
}

fn handles_incidents(user: &UserPrincipal) -> bool {
    user.is_operator_staff() || user.role == Role::Authority
}

fn constituent(user: &UserPrincipal) -> bool {
    matches!(user.role, Role::Constituent | Role::LawEnforcement)
}

fn shares(user: &UserPrincipal) -> bool {
    user.is_operator_staff() || user.role == Role::Community
}

fn administers(user: &UserPrincipal) -> bool {
    user.operator && matches!(user.role, Role::Admin | Role::Auditor)
}

/// The main navigation, in order. Each page's own handler still checks access: hiding an entry
/// is a convenience, not a rule.
const NAV: &[NavItem] = &[
    NavItem { href: "/", key: "common.nav.dashboard", shown: everyone },
    NavItem { href: "/events", key: "common.nav.events", shown: everyone },
    NavItem { href: "/incidents", key: "common.nav.incidents", shown: handles_incidents },
    NavItem { href: "/portal", key: "common.nav.portal", shown: constituent },
    NavItem { href: "/feeds", key: "common.nav.feeds", shown: operator_staff },
    NavItem { href: "/constituency", key: "common.nav.constituency", shown: operator_staff },
    NavItem { href: "/sharing", key: "common.nav.sharing", shown: shares },
    NavItem { href: "/learning", key: "learning.nav", shown: everyone },
    NavItem { href: "/training", key: "training.nav.training", shown: everyone },
    NavItem { href: "/exercises", key: "training.nav.exercises", shown: everyone },
    NavItem { href: "/admin", key: "common.nav.admin", shown: administers },
];

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login_submit))
        .route("/logout", post(logout))
        .route("/language", post(set_language))
        .route("/static/neretva.css", get(stylesheet))
        .route("/static/neretva.js", get(script))
        .merge(dashboard::router())
        .merge(events::router())
        .merge(feeds::router())
        .merge(constituency::router())
        .merge(sharing::router())
        .merge(admin::router())
        .merge(incidents::router())
        .merge(portal::router())
        .merge(learning::router())
        .merge(training::router())
}

/// The Content-Security-Policy of every response: no inline scripts or styles.
pub(crate) const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the security headers every response carries; pages and API answers are not cached.
pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let cacheable = path.starts_with("/static/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: header::HeaderName, value: &'static str| {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(headers, header::CONTENT_SECURITY_POLICY, CSP);
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(headers, header::CACHE_CONTROL, if cacheable { "public, max-age=3600" } else { "no-store" });
    response
}

async fn stylesheet() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("../../static/neretva.css"))
}

async fn script() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], include_str!("../../static/neretva.js"))
}

/// The template environment, built once: every template, `t()`, auto-escaping by extension.
fn environment() -> &'static Environment<'static> {
    static ENVIRONMENT: OnceLock<Environment<'static>> = OnceLock::new();
    ENVIRONMENT.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);
        for (name, source) in TEMPLATES {
            if let Err(error) = env.add_template(name, source) {
                // The tests render every template; a broken one is a bug caught there.
                tracing::error!(template = name, error = %error, "A web template does not compile.");
            }
        }
        env.add_function("t", template_t);
        env
    })
}

/// `t("key")`, `t("key", n=count)`, `t("key", name=value)` in templates; the language is the
/// context's `lang`.
fn template_t(state: &TemplateState<'_, '_>, key: &str, kwargs: Kwargs) -> Result<String, minijinja::Error> {
    let language = state
        .lookup("lang")
        .and_then(|lang| lang.as_str().and_then(|tag| tag.parse::<Language>().ok()))
        .unwrap_or(Language::En);
    let n = if kwargs.has("n") { Some(kwargs.get::<i64>("n")?) } else { None };
    let mut args = Vec::new();
    for name in kwargs.args().filter(|name| *name != "n") {
        let value: Value = kwargs.get(name)?;
        args.push((name, value.to_string()));
    }
    Ok(texts::texts().get(language, key, n, &args))
}

/// Renders a template; a failure is logged and answered with a plain 500.
fn render_template(name: &str, context: Value) -> Response {
    let rendered = environment().get_template(name).and_then(|template| template.render(context));
    match rendered {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(template = name, error = %error, "Rendering a page failed.");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// A signed-in user of the web interface.
#[derive(Debug, Clone)]
pub(crate) struct WebUser {
    pub user: UserPrincipal,
    /// The user's display name, else the username.
    pub name: String,
    pub org_name: Option<String>,
    pub language: Language,
    /// The session's CSRF token, for every POST form.
    pub csrf_token: String,
    /// The request's path and query, for the language switcher's way back.
    pub path: String,
}

impl WebUser {
    pub(crate) fn principal(&self) -> Principal {
        Principal::User(self.user.clone())
    }

    /// The caller as the API handlers see it, to reuse their access helpers.
    pub(crate) fn auth(&self) -> Auth {
        Auth(self.user.clone())
    }

    /// The actor recorded in the audit log.
    pub(crate) fn actor(&self) -> Actor {
        Actor(format!("user:{}", self.user.username))
    }

    /// Renders a page: the layout's context (language, user, navigation, CSRF token) with the
    /// page's own `context`.
    pub(crate) fn render(&self, template: &str, context: Value) -> Response {
        let language = self.language;
        let nav: Vec<Value> = NAV
            .iter()
            .filter(|item| (item.shown)(&self.user))
            .map(|item| {
                let current = if item.href == "/" {
                    self.path == "/" || self.path.starts_with("/?")
                } else {
                    self.path == item.href
                        || self.path.starts_with(&format!("{}/", item.href))
                        || self.path.starts_with(&format!("{}?", item.href))
                };
                context! { href => item.href, label => t(language, item.key), current => current }
            })
            .collect();
        let base = context! {
            lang => language.tag(),
            csrf_token => &self.csrf_token,
            user => context! {
                username => &self.user.username,
                name => &self.name,
                role => self.user.role.as_str(),
                org => &self.org_name,
            },
            nav => nav,
            languages => language_choices(language),
            path => &self.path,
        };
        render_template(template, context! { ..context, ..base })
    }

    /// An error page with `status` and a message (a text key of `common.errors`).
    pub(crate) fn error(&self, status: StatusCode, message_key: &str) -> Response {
        let context = context! {
            status => status.as_u16(),
            title => t(self.language, message_key),
        };
        (status, self.render("web/error.html", context)).into_response()
    }

    /// The page for something that does not exist or that the user may not see (the same
    /// answer, so existence does not leak).
    pub(crate) fn not_found(&self) -> Response {
        self.error(StatusCode::NOT_FOUND, "common.errors.not_found")
    }

    /// The page for an action the user's role does not allow.
    pub(crate) fn forbidden(&self) -> Response {
        self.error(StatusCode::FORBIDDEN, "common.errors.forbidden")
    }

    /// A store failure: logged, answered with a 500 page without details.
    pub(crate) fn internal(&self, error: &StoreError) -> Response {
        tracing::error!(error = %error, path = %self.path, "A web page failed.");
        self.error(StatusCode::INTERNAL_SERVER_ERROR, "common.errors.internal")
    }

    /// A request with a bad field: a 400 page naming the field and the problem.
    pub(crate) fn bad_request(&self, field: &str, problem: &str) -> Response {
        let context = context! {
            status => 400,
            title => t(self.language, "common.errors.bad_request"),
            detail => format!("{field}: {problem}"),
        };
        (StatusCode::BAD_REQUEST, self.render("web/error.html", context)).into_response()
    }
}

/// The languages offered by the switcher.
fn language_choices(current: Language) -> Vec<Value> {
    Language::ALL
        .iter()
        .map(|language| {
            context! {
                tag => language.tag(),
                name => texts::language_name(*language),
                selected => *language == current,
            }
        })
        .collect()
}

/// The language of a request without a signed-in user: the language cookie, else the browser's
/// `Accept-Language`, else English.
pub(crate) fn request_language(headers: &HeaderMap) -> Language {
    cookie(headers, LANGUAGE_COOKIE)
        .and_then(|tag| tag.parse::<Language>().ok())
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|value| value.to_str().ok())
                .and_then(texts::from_accept_language)
        })
        .unwrap_or(Language::En)
}

/// Where to go back to after a form: a local path only (no scheme, no `//host`), else `/`.
pub(crate) fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control)
                && path.len() <= 2048 =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
pub(crate) fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn to_login(parts: &Parts, expired: bool) -> Response {
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut target = String::from("/login");
    if parts.method == Method::GET && path != "/" {
        target.push_str("?next=");
        target.push_str(&encode_query_value(path));
    }
    if expired {
        target.push(if target.contains('?') { '&' } else { '?' });
        target.push_str("expired=1");
    }
    Redirect::to(&target).into_response()
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<WebUser, Response> {
        let Some(value) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_login(parts, false));
        };
        let Some((session_id, secret)) = parse_session_cookie(value) else {
            return Err(to_login(parts, true));
        };
        let failed = |error: StoreError| {
            tracing::error!(error = %error, "Reading a session failed.");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        };
        let now = OffsetDateTime::now_utc();
        let Some(session) = state.store().get_session(session_id).await.map_err(failed)? else {
            return Err(to_login(parts, true));
        };
        if session.expires_at <= now || !state.verified().verify(session_id, &session.secret_hash, secret) {
            return Err(to_login(parts, true));
        }
        let Some(user) = state.store().get_user(session.user_id).await.map_err(failed)? else {
            return Err(to_login(parts, true));
        };
        if user.disabled {
            return Err(to_login(parts, true));
        }
        let registry = state.registry_fresh(std::time::Duration::from_secs(30)).await;
        let principal = registry.principal(&user, Scope::Admin);
        let language = user.language.unwrap_or_else(|| request_language(&parts.headers));
        Ok(WebUser {
            org_name: registry.orgs.get(&user.org_id).map(|org| org.fields.name.clone()),
            name: user.display_name.clone().unwrap_or_else(|| user.username.clone()),
            user: principal,
            language,
            csrf_token: csrf_token(secret),
            path: parts.uri.path_and_query().map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
        })
    }
}

/// Checks a form's CSRF token against the session's; a mismatch answers a 403 page and the
/// caller does nothing.
// The error is the page the handler answers at once, as axum's own rejections are.
#[allow(clippy::result_large_err)]
pub(crate) fn check_csrf(web: &WebUser, sent: &str) -> Result<(), Response> {
    if constant_time_eq(sent, &web.csrf_token) {
        Ok(())
    } else {
        Err(web.error(StatusCode::FORBIDDEN, "common.errors.csrf"))
    }
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf_token: String,
}

/// A POSTed form from a signed-in user whose CSRF token was checked before the handler runs.
/// The form type must allow (or ignore) the `csrf_token` field.
pub(crate) struct WebForm<T> {
    pub web: WebUser,
    pub form: T,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for WebForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<WebForm<T>, Response> {
        let (mut parts, body) = request.into_parts();
        let web = WebUser::from_request_parts(&mut parts, state).await?;
        let request = Request::from_parts(parts, body);
        let bytes = Bytes::from_request(request, state).await.map_err(IntoResponse::into_response)?;
        let sent: CsrfField =
            serde_urlencoded::from_bytes(&bytes).unwrap_or(CsrfField { csrf_token: String::new() });
        check_csrf(&web, &sent.csrf_token)?;
        match serde_urlencoded::from_bytes::<T>(&bytes) {
            Ok(form) => Ok(WebForm { web, form }),
            Err(error) => Err(web.bad_request("form", &error.to_string())),
        }
    }
}

/// The form of a button that sends nothing but its CSRF token.
#[derive(Debug, Deserialize)]
pub(crate) struct Confirm {}

/// The POST route of one of a family of buttons at `…/{id}/…` that send nothing but their CSRF
/// token (the lock buttons of a user's row, an exercise's controls): `handler` gets the
/// signed-in user, the path's id and which of the buttons it was.
pub(crate) fn button<A, H, F>(which: A, handler: H) -> MethodRouter<AppState>
where
    A: Copy + Send + Sync + 'static,
    H: Fn(AppState, WebUser, String, A) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response> + Send + 'static,
{
    post(move |State(state): State<AppState>, Path(id): Path<String>, form: WebForm<Confirm>| {
        handler(state, form.web, id, which)
    })
}

/// Formats a time for tables: `2026-11-29 09:24 UTC`.
pub(crate) fn short_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

// Sign-in, sign-out and the language.

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
    lang: Option<String>,
    expired: Option<String>,
}

fn login_csrf_cookie(state: &AppState, value: &str) -> String {
    let secure = if state.config().cookie_secure { "; Secure" } else { "" };
    format!("{LOGIN_CSRF_COOKIE}={value}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600{secure}")
}

fn language_cookie(state: &AppState, language: Language) -> String {
    let secure = if state.config().cookie_secure { "; Secure" } else { "" };
    format!("{LANGUAGE_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000{secure}", language.tag())
}

fn append_cookie(response: &mut Response, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

struct LoginPage<'a> {
    language: Language,
    csrf: &'a str,
    next: &'a str,
    username: &'a str,
    error: Option<String>,
    notice: Option<String>,
}

fn login_page(state: &AppState, page: &LoginPage<'_>, status: StatusCode) -> Response {
    let context = context! {
        lang => page.language.tag(),
        csrf_token => page.csrf,
        next => page.next,
        username => page.username,
        error => &page.error,
        notice => &page.notice,
        languages => language_choices(page.language),
    };
    let mut response = (status, render_template("web/login.html", context)).into_response();
    append_cookie(&mut response, &login_csrf_cookie(state, page.csrf));
    response
}

async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<LoginQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or(LoginQuery { next: None, lang: None, expired: None });
    let chosen = query.lang.as_deref().and_then(|tag| tag.parse::<Language>().ok());
    let language = chosen.unwrap_or_else(|| request_language(&headers));
    let next = local_path(query.next.as_deref());
    let notice = query.expired.is_some().then(|| t(language, "common.login.expired"));
    let csrf = random_secret();
    let page = LoginPage { language, csrf: &csrf, next: &next, username: "", error: None, notice };
    let mut response = login_page(&state, &page, StatusCode::OK);
    if let Some(language) = chosen {
        append_cookie(&mut response, &language_cookie(&state, language));
    }
    response
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    username: String,
    password: String,
    csrf_token: String,
    next: Option<String>,
}

async fn login_submit(
    State(state): State<AppState>,
    attempt: LoginAttempt,
    headers: HeaderMap,
    form: Result<axum::Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let language = request_language(&headers);
    let Ok(axum::Form(form)) = form else {
        let csrf = random_secret();
        let error = Some(t(language, "common.login.incomplete"));
        let page = LoginPage { language, csrf: &csrf, next: "/", username: "", error, notice: None };
        return login_page(&state, &page, StatusCode::BAD_REQUEST);
    };
    let next = local_path(form.next.as_deref());
    let cookie_token = cookie(&headers, LOGIN_CSRF_COOKIE);
    if !cookie_token.is_some_and(|token| constant_time_eq(token, &form.csrf_token)) {
        let csrf = random_secret();
        let error = Some(t(language, "common.login.form_expired"));
        let page =
            LoginPage { language, csrf: &csrf, next: &next, username: &form.username, error, notice: None };
        return login_page(&state, &page, StatusCode::FORBIDDEN);
    }
    match login_user(&state, &attempt, &form.username, &form.password).await {
        Ok(login) => {
            let mut response = Redirect::to(&next).into_response();
            append_cookie(&mut response, &session_cookie(&state, &login.cookie));
            response
        }
        Err(error) => {
            let key = match error.code {
                crate::error::ErrorCode::RateLimited => "common.login.rate_limited",
                crate::error::ErrorCode::AccountLocked => "common.login.locked",
                crate::error::ErrorCode::AccountDisabled => "common.login.disabled",
                _ => "common.login.invalid",
            };
            let status = error.code.describe().1;
            let csrf = random_secret();
            let page = LoginPage {
                language,
                csrf: &csrf,
                next: &next,
                username: &form.username,
                error: Some(t(language, key)),
                notice: None,
            };
            let mut response = login_page(&state, &page, status);
            append_cookie(&mut response, &clear_session_cookie(&state));
            response
        }
    }
}

#[derive(Deserialize)]
struct LogoutForm {}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    WebForm { web, .. }: WebForm<LogoutForm>,
) -> Response {
    if let Some((session_id, _)) = cookie(&headers, SESSION_COOKIE).and_then(parse_session_cookie) {
        if let Err(error) = state.store().delete_session(session_id).await {
            return web.internal(&error);
        }
        state.verified().forget(session_id);
    }
    let mut response = Redirect::to("/login").into_response();
    append_cookie(&mut response, &clear_session_cookie(&state));
    append_cookie(&mut response, &language_cookie(&state, web.language));
    response
}

#[derive(Deserialize)]
struct LanguageForm {
    language: String,
    next: Option<String>,
}

/// Saves the user's language (audited as a user update) and goes back.
async fn set_language(
    State(state): State<AppState>,
    WebForm { web, form }: WebForm<LanguageForm>,
) -> Response {
    let Ok(language) = form.language.parse::<Language>() else {
        return web.bad_request("language", "expected en, bs, hr, sr-Latn or sr-Cyrl");
    };
    let patch = UserPatch { language: Some(Some(language)), ..UserPatch::default() };
    if let Err(error) = state.store().update_user(&web.actor(), web.user.user_id, &patch).await {
        return web.internal(&error);
    }
    let mut response = Redirect::to(&local_path(form.next.as_deref())).into_response();
    append_cookie(&mut response, &language_cookie(&state, language));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        let env = environment();
        for (name, _) in TEMPLATES {
            env.get_template(name).unwrap_or_else(|error| panic!("{name}: {error}"));
        }
    }

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path(Some("/events?q=x")), "/events?q=x");
        assert_eq!(local_path(Some("//evil.example/")), "/");
        assert_eq!(local_path(Some("https://evil.example/")), "/");
        assert_eq!(local_path(Some("/\\evil.example")), "/");
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(encode_query_value("/events?q=a b&x=ć"), "%2Fevents%3Fq%3Da%20b%26x%3D%C4%87");
    }
}
