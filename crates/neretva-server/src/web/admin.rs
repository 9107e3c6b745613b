//! Administration pages: users, API tokens and the audit log with its verification.
//!
//! Only the operating CERT's administrators (`may_administer`) reach the user and token pages,
//! and only those who may read the audit log (`may_read_audit`: the operator's admins and
//! auditors) the audit pages; everyone else gets "not found", so the pages do not reveal that
//! they exist. Every change goes through the API's handlers (`api::users`, `api::tokens`), so it
//! is checked and audited exactly as over the API. A new token's secret and a reset password are
//! shown once, on the page answering the form, and never again.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use neretva_model::Uuid;
use neretva_model::access::{may_administer, may_read_audit};
use neretva_model::user::Role;
use neretva_store::AuditQuery;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::AppState;
use crate::api::audit::AuditDto;
use crate::api::tokens::{TokenFilter, TokenInput};
use crate::api::users::{PasswordChange, UserFilter, UserInput, UserUpdate};
use crate::extract::ApiJson;
use crate::web::constituency::{api_failure, data, given, is_input_problem, problems};
use crate::web::{Confirm, WebForm, WebUser, button, encode_query_value};

/// Users and tokens per page.
const PER_PAGE: u32 = 100;
/// Audit entries per page.
const AUDIT_PER_PAGE: usize = 100;
/// The longest filter text taken.
const MAX_FILTER: usize = 300;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(index))
        .route("/admin/users", get(users).post(create_user))
        .route("/admin/users/{id}/role", post(change_role))
        .route("/admin/users/{id}/lock", button(UserAction::Lock, user_action))
        .route("/admin/users/{id}/unlock", button(UserAction::Unlock, user_action))
        .route("/admin/users/{id}/release", button(UserAction::Release, user_action))
        .route("/admin/users/{id}/password", post(reset_password))
        .route("/admin/tokens", get(tokens).post(create_token))
        .route("/admin/tokens/{id}/revoke", post(revoke_token))
        .route("/admin/audit", get(audit))
        .route("/admin/audit/verify", get(verify))
}

/// The refusal of a page to anyone but administrators: "not found", so that nobody else learns
/// even that the page exists.
fn refuse_unless_admin(web: &WebUser) -> Option<Response> {
    (!may_administer(&web.principal())).then(|| web.not_found())
}

/// The refusal of the audit pages to anyone who may not read the audit log.
fn refuse_unless_auditor(web: &WebUser) -> Option<Response> {
    (!may_read_audit(&web.principal())).then(|| web.not_found())
}

async fn index(web: WebUser) -> Response {
    if may_administer(&web.principal()) {
        Redirect::to("/admin/users").into_response()
    } else if may_read_audit(&web.principal()) {
        Redirect::to("/admin/audit").into_response()
    } else {
        web.not_found()
    }
}

// Users.

#[derive(Debug, Default, Deserialize)]
struct UsersQuery {
    organisation: Option<String>,
    role: Option<String>,
    cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
struct NewUserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    sectors: String,
    /// Never shown again when the form is refused.
    #[serde(default, skip_serializing)]
    password: String,
}

/// A user as a row of the list.
#[derive(Debug, Serialize)]
struct UserRow {
    id: Uuid,
    username: String,
    display_name: Option<String>,
    email: Option<String>,
    organisation: String,
    role: String,
    disabled: bool,
    locked_until: Option<String>,
    last_login_at: Option<String>,
    itself: bool,
}

async fn users(
    State(state): State<AppState>,
    web: WebUser,
    query: Result<Query<UsersQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Some(refusal) = refuse_unless_admin(&web) {
        return refusal;
    }
    let Ok(Query(query)) = query else {
        return web.bad_request("query", "unknown or malformed filter");
    };
    users_page(&state, &web, &query, None).await
}

async fn users_page(
    state: &AppState,
    web: &WebUser,
    query: &UsersQuery,
    refused: Option<(&NewUserForm, Vec<String>)>,
) -> Response {
    let registry = state.registry();
    if let Some(key) = given(query.organisation.clone())
        && registry.resolve(&key).is_none()
    {
        return web.bad_request("organisation", &format!("no organisation {key:?}"));
    }
    let filter = UserFilter {
        organisation: given(query.organisation.clone()),
        role: given(query.role.clone()),
        limit: Some(PER_PAGE),
        cursor: given(query.cursor.clone()),
    };
    let page = match crate::api::users::list(State(state.clone()), web.auth(), Ok(Query(filter))).await {
        Ok(axum::Json(page)) => page,
        Err(error) => return api_failure(web, error),
    };
    let rows: Vec<UserRow> = page
        .items
        .into_iter()
        .map(|user| UserRow {
            itself: user.id == web.user.user_id,
            id: user.id,
            username: user.username,
            display_name: user.display_name,
            email: user.email,
            organisation: registry.short_name(user.org_id),
            role: user.role.as_str().to_owned(),
            disabled: user.disabled,
            locked_until: user.locked_until,
            last_login_at: user.last_login_at,
        })
        .collect();
    let next = page.next_cursor.map(|cursor| {
        let mut link = format!("/admin/users?cursor={}", encode_query_value(&cursor));
        for (name, value) in [("organisation", &query.organisation), ("role", &query.role)] {
            if let Some(value) = value.as_deref().filter(|value| !value.is_empty()) {
                link.push_str(&format!("&{name}={}", encode_query_value(value)));
            }
        }
        link
    });
    let (form, problems) = match refused {
        Some((form, problems)) => (Some(form), problems),
        None => (None, Vec::new()),
    };
    let status = if problems.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let context = context! {
        users => data(&rows),
        next => next,
        first => query.cursor.is_some().then_some("/admin/users"),
        roles => Role::ALL.iter().map(|role| role.as_str()).collect::<Vec<_>>(),
        language_tags => neretva_model::contact::Language::ALL.iter().map(|l| l.tag()).collect::<Vec<_>>(),
        query => context! {
            organisation => query.organisation.as_deref().unwrap_or(""),
            role => query.role.as_deref().unwrap_or(""),
        },
        form => data(&form),
        problems => problems,
    };
    (status, web.render("web/admin/users.html", context)).into_response()
}

async fn create_user(State(state): State<AppState>, WebForm { web, form }: WebForm<NewUserForm>) -> Response {
    if let Some(refusal) = refuse_unless_admin(&web) {
        return refusal;
    }
    let input = UserInput {
        username: form.username.trim().to_owned(),
        organisation: form.organisation.trim().to_owned(),
        role: form.role.trim().to_owned(),
        sectors: form
            .sectors
            .split(',')
            .map(str::trim)
            .filter(|sector| !sector.is_empty())
            .map(str::to_owned)
            .collect(),
        display_name: given(Some(form.display_name.clone())),
        email: given(Some(form.email.clone())),
        language: given(Some(form.language.clone())),
        password: Some(form.password.clone()).filter(|password| !password.is_empty()),
    };
    match crate::api::users::create(State(state.clone()), web.auth(), ApiJson(input)).await {
        Ok(_) => Redirect::to("/admin/users").into_response(),
        Err(error) if is_input_problem(&error) => {
            users_page(&state, &web, &UsersQuery::default(), Some((&form, problems(&error)))).await
        }
        Err(error) => api_failure(&web, error),
    }
}

#[derive(Debug, Deserialize)]
struct RoleForm {
    role: String,
}

async fn change_role(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, form }: WebForm<RoleForm>,
) -> Response {
    if let Some(refusal) = refuse_unless_admin(&web) {
        return refusal;
    }
    let update = UserUpdate {
        display_name: None,
        email: None,
        role: Some(form.role),
        sectors: None,
        language: None,
        organisation: None,
    };
    match crate::api::users::update(State(state), web.auth(), Path(id), ApiJson(update)).await {
        Ok(_) => Redirect::to("/admin/users").into_response(),
        Err(error) => api_failure(&web, error),
    }
}

/// The buttons of a user's row on the users page, each one of the API's user handlers.
#[derive(Clone, Copy)]
enum UserAction {
    /// Disables the account (`users/{id}/disable`).
    Lock,
    /// Enables it again (`users/{id}/enable`).
    Unlock,
    /// Lifts a lock-out after failed logins before it expires (`users/{id}/unlock`).
    Release,
}

/// One of a user's buttons: back to the users page, or the API's refusal.
async fn user_action(state: AppState, web: WebUser, id: String, action: UserAction) -> Response {
    if let Some(refusal) = refuse_unless_admin(&web) {
        return refusal;
    }
    let (state, auth, id) = (State(state), web.auth(), Path(id));
    let outcome = match action {
        UserAction::Lock => crate::api::users::disable(state, auth, id).await,
        UserAction::Unlock => crate::api::users::enable(state, auth, id).await,
        UserAction::Release => crate::api::users::unlock(state, auth, id).await,
    };
    match outcome {
        Ok(_) => Redirect::to("/admin/users").into_response(),
        Err(error) => api_failure(&web, error),
    }
}

/// Sets a new random password on another user's account and shows it this once.
async fn reset_password(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, .. }: WebForm<Confirm>,
) -> Response {
    if let Some(refusal) = refuse_unless_admin(&web) {
        return refusal;
    }
    let user = match crate::api::users::get(State(state.clone()), web.auth(), Path(id.clone())).await {
        Ok(axum::Json(user)) => user,
        Err(error) => return api_failure(&web, error),
    };
    if user.id == web.user.user_id {
        return web.bad_request("id", "change your own password with your current password");
    }
    let password = crate::auth::random_secret();
    let change = PasswordChange { current_password: None, new_password: password.clone() };
    match crate::api::users::set_password(State(state), web.auth(), Path(id), ApiJson(change)).await {
        Ok(_) => web
            .render("web/admin/password.html", context! { username => user.username, password => password }),
        Err(error) => api_failure(&web, error),
    }
}

// Tokens.

#[derive(Debug, Default, Deserialize)]
struct TokensQuery {
    all: Option<String>,
    cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
struct TokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    expires_in_days: String,
}

/// A token as a row of the list (never with its secret, which is not stored).
#[derive(Debug, Serialize)]
struct TokenRow {
    id: Uuid,
    user: String,
    name: String,
    scope: String,
    created_at: String,
    expires_at: Option<String>,
    last_used_at: Option<String>,
    active: bool,
}

async fn tokens(
    State(state): State<AppState>,
    web: WebUser,
    query: Result<Query<TokensQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Some(refusal) = refuse_unless_admin(&web) {
        return refusal;
    }
    let Ok(Query(query)) = query else {
        return web.bad_request("query", "unknown or malformed filter");
    };
    tokens_page(&state, &web, &query, None).await
}

async fn tokens_page(
    state: &AppState,
    web: &WebUser,
    query: &TokensQuery,
    refused: Option<(&TokenForm, Vec<String>)>,
) -> Response {
    let all = query.all.as_deref() == Some("1");
    let filter = TokenFilter {
        user: None,
        all: Some(all),
        limit: Some(PER_PAGE),
        cursor: given(query.cursor.clone()),
    };
    let page = match crate::api::tokens::list(State(state.clone()), web.auth(), Ok(Query(filter))).await {
        Ok(axum::Json(page)) => page,
        Err(error) => return api_failure(web, error),
    };
    let names: HashMap<Uuid, String> = if all {
        match state.store().list_users(None).await {
            Ok(users) => users.into_iter().map(|user| (user.id, user.username)).collect(),
            Err(error) => return web.internal(&error),
        }
    } else {
        HashMap::from([(web.user.user_id, web.user.username.clone())])
    };
    let rows: Vec<TokenRow> = page
        .items
        .into_iter()
        .map(|token| TokenRow {
            user: names.get(&token.user_id).cloned().unwrap_or_else(|| token.user_id.to_string()),
            id: token.id,
            name: token.name,
            scope: token.scope,
            created_at: token.created_at,
            expires_at: token.expires_at,
            last_used_at: token.last_used_at,
            active: token.active,
        })
        .collect();
    let next = page.next_cursor.map(|cursor| {
        format!("/admin/tokens?cursor={}{}", encode_query_value(&cursor), if all { "&all=1" } else { "" })
    });
    let (form, problems) = match refused {
        Some((form, problems)) => (Some(form), problems),
        None => (None, Vec::new()),
    };
    let status = if problems.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let context = context! {
        tokens => data(&rows),
        all => all,
        next => next,
        scopes => ["read", "write", "admin"],
        form => data(&form),
        problems => problems,
    };
    (status, web.render("web/admin/tokens.html", context)).into_response()
}

async fn create_token(State(state): State<AppState>, WebForm { web, form }: WebForm<TokenForm>) -> Response {
    if let Some(refusal) = refuse_unless_admin(&web) {
        return refusal;
    }
    let days = match form.expires_in_days.trim() {
        "" => None,
        text => match text.parse::<u32>() {
            Ok(days) => Some(days),
            Err(_) => {
                let problems = vec!["expires_in_days: must be a whole number of days, 1 to 3650".to_owned()];
                return tokens_page(&state, &web, &TokensQuery::default(), Some((&form, problems))).await;
            }
        },
    };
    let input = TokenInput {
        name: form.name.trim().to_owned(),
        scope: given(Some(form.scope.clone())),
        expires_in_days: days,
    };
    match crate::api::tokens::create_token(&state, &web.auth(), input).await {
        Ok(created) => {
            let context = context! { token => data(&created.token), secret => created.secret };
            (StatusCode::CREATED, web.render("web/admin/token_created.html", context)).into_response()
        }
        Err(error) if is_input_problem(&error) || error.code == crate::error::ErrorCode::Forbidden => {
            tokens_page(&state, &web, &TokensQuery::default(), Some((&form, problems(&error)))).await
        }
        Err(error) => api_failure(&web, error),
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, .. }: WebForm<Confirm>,
) -> Response {
    if let Some(refusal) = refuse_unless_admin(&web) {
        return refusal;
    }
    if Uuid::try_parse(&id).is_err() {
        return web.not_found();
    }
    match crate::api::tokens::revoke(State(state), web.auth(), Path(id)).await {
        Ok(_) => Redirect::to("/admin/tokens").into_response(),
        Err(error) => api_failure(&web, error),
    }
}

// The audit log.

#[derive(Debug, Default, Deserialize)]
struct AuditPageQuery {
    actor: Option<String>,
    action: Option<String>,
    object: Option<String>,
    since: Option<String>,
    until: Option<String>,
    after: Option<i64>,
}

impl AuditPageQuery {
    fn link(&self, base: &str, after: Option<i64>) -> String {
        let mut pairs = Vec::new();
        for (name, value) in [
            ("actor", &self.actor),
            ("action", &self.action),
            ("object", &self.object),
            ("since", &self.since),
            ("until", &self.until),
        ] {
            if let Some(value) = value.as_deref().filter(|value| !value.is_empty()) {
                pairs.push(format!("{name}={}", encode_query_value(value)));
            }
        }
        if let Some(after) = after {
            pairs.push(format!("after={after}"));
        }
        if pairs.is_empty() { base.to_owned() } else { format!("{base}?{}", pairs.join("&")) }
    }
}

/// A time bound of the audit filter: RFC 3339, or a date (midnight UTC).
fn parse_bound(field: &str, text: Option<&str>) -> Result<Option<OffsetDateTime>, String> {
    let Some(text) = text.map(str::trim).filter(|text| !text.is_empty()) else { return Ok(None) };
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(Some(at));
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    match time::Date::parse(text, &format) {
        Ok(date) => Ok(Some(date.midnight().assume_utc())),
        Err(_) => {
            Err(format!("{field}: expected a time such as 2026-11-01T00:00:00Z or a date such as 2026-11-01"))
        }
    }
}

async fn audit(
    State(state): State<AppState>,
    web: WebUser,
    query: Result<Query<AuditPageQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Some(refusal) = refuse_unless_auditor(&web) {
        return refusal;
    }
    let Ok(Query(query)) = query else {
        return web.bad_request("query", "unknown or malformed filter");
    };
    audit_page(&state, &web, &query, None).await
}

async fn verify(
    State(state): State<AppState>,
    web: WebUser,
    query: Result<Query<AuditPageQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Some(refusal) = refuse_unless_auditor(&web) {
        return refusal;
    }
    let Ok(Query(query)) = query else {
        return web.bad_request("query", "unknown or malformed filter");
    };
    match crate::api::audit::verify(State(state.clone()), web.auth()).await {
        Ok(axum::Json(result)) => audit_page(&state, &web, &query, Some(result)).await,
        Err(error) => api_failure(&web, error),
    }
}

async fn audit_page(
    state: &AppState,
    web: &WebUser,
    query: &AuditPageQuery,
    verification: Option<crate::api::audit::VerifyDto>,
) -> Response {
    for (field, value) in [("actor", &query.actor), ("action", &query.action), ("object", &query.object)] {
        if value.as_ref().is_some_and(|value| value.len() > MAX_FILTER) {
            return web.bad_request(field, &format!("at most {MAX_FILTER} characters"));
        }
    }
    let since = match parse_bound("since", query.since.as_deref()) {
        Ok(since) => since,
        Err(problem) => return web.bad_request("since", &problem),
    };
    let until = match parse_bound("until", query.until.as_deref()) {
        Ok(until) => until,
        Err(problem) => return web.bad_request("until", &problem),
    };
    // The store filters by time as by the rest; one more entry than shown tells whether there
    // is a next page.
    let page = AuditQuery {
        after_seq: query.after.unwrap_or(0).max(0),
        limit: AUDIT_PER_PAGE as u32 + 1,
        actor: given(query.actor.clone()),
        action: given(query.action.clone()),
        object_id: given(query.object.clone()),
        since,
        until,
    };
    let mut entries = match state.store().list_audit(&page).await {
        Ok(entries) => entries,
        Err(error) => return web.internal(&error),
    };
    let more = entries.len() > AUDIT_PER_PAGE;
    entries.truncate(AUDIT_PER_PAGE);
    let next = more.then(|| query.link("/admin/audit", entries.last().map(|entry| entry.seq)));
    let shown: Vec<AuditDto> = entries.into_iter().map(AuditDto::from).collect();
    let context = context! {
        entries => data(&shown),
        next => next,
        from_start => query.after.is_some().then(|| query.link("/admin/audit", None)),
        verify_link => query.link("/admin/audit/verify", query.after),
        verification => data(&verification),
        query => context! {
            actor => query.actor.as_deref().unwrap_or(""),
            action => query.action.as_deref().unwrap_or(""),
            object => query.object.as_deref().unwrap_or(""),
            since => query.since.as_deref().unwrap_or(""),
            until => query.until.as_deref().unwrap_or(""),
        },
    };
    web.render("web/admin/audit.html", context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_bounds_take_times_and_dates_and_name_the_field() {
        let at = parse_bound("since", Some("2026-11-01T10:00:00Z")).unwrap().unwrap();
        assert_eq!(at.unix_timestamp(), 1_793_527_200);
        let day = parse_bound("until", Some(" 2026-11-02 ")).unwrap().unwrap();
        assert_eq!(day.unix_timestamp(), 1_793_577_600);
        assert_eq!(parse_bound("since", Some("")).unwrap(), None);
        let problem = parse_bound("since", Some("yesterday")).unwrap_err();
        assert!(problem.starts_with("since: "), "{problem}");
    }

    #[test]
    fn audit_links_keep_the_filters_and_encode_them() {
        let query = AuditPageQuery {
            actor: Some("user:ana maria".into()),
            action: Some(String::new()),
            object: None,
            since: Some("2026-11-01".into()),
            until: None,
            after: Some(7),
        };
        assert_eq!(
            query.link("/admin/audit", Some(250)),
            "/admin/audit?actor=user%3Aana%20maria&since=2026-11-01&after=250"
        );
        assert_eq!(
            query.link("/admin/audit", None),
            "/admin/audit?actor=user%3Aana%20maria&since=2026-11-01"
        );
    }
}
