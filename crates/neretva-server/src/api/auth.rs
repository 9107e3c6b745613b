//! Login, logout and "who am I".

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use neretva_model::Uuid;
use neretva_model::user::{Role, User};
use neretva_store::{LoginOutcome, Session};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::AppState;
use crate::api::rfc3339;
use crate::auth::{
    csrf_token, format_session_cookie, hash_secret, parse_session_cookie, random_secret, verify_secret,
};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{ApiJson, Auth, SESSION_COOKIE, cookie};

/// The client address of a login attempt, for rate limiting.
#[derive(Debug, Clone, Copy)]
pub struct LoginAttempt {
    pub client: IpAddr,
}

impl<S: Send + Sync> FromRequestParts<S> for LoginAttempt {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<LoginAttempt, ApiError> {
        let client = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
        Ok(LoginAttempt { client })
    }
}

/// Credentials for `POST /api/v1/auth/login`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// A successful login.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub user: UserDto,
    /// Send as `X-CSRF-Token` with every cookie-authenticated request that changes something.
    pub csrf_token: String,
    pub expires_at: String,
}

/// A user as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserDto {
    pub id: Uuid,
    pub org_id: Uuid,
    pub username: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    #[schema(value_type = String, example = "analyst")]
    pub role: Role,
    /// The NIS2 sectors a competent authority supervises.
    pub sectors: Vec<String>,
    pub language: Option<String>,
    pub disabled: bool,
    pub locked_until: Option<String>,
    pub last_login_at: Option<String>,
    pub created_at: String,
}

impl From<User> for UserDto {
    fn from(user: User) -> UserDto {
        UserDto {
            id: user.id,
            org_id: user.org_id,
            username: user.username,
            display_name: user.display_name,
            email: user.email,
            role: user.role,
            sectors: user.sectors,
            language: user.language.map(|language| language.tag().to_owned()),
            disabled: user.disabled,
            locked_until: user.locked_until.map(rfc3339),
            last_login_at: user.last_login_at.map(rfc3339),
            created_at: rfc3339(user.created_at),
        }
    }
}

/// A new session, before its cookie is set.
pub(crate) struct NewLogin {
    pub user: User,
    pub cookie: String,
    pub csrf_token: String,
    pub expires_at: OffsetDateTime,
}

fn invalid_credentials() -> ApiError {
    ApiError::new(ErrorCode::InvalidCredentials, "invalid username or password")
}

/// Checks a user's password with the login rules: the per-address rate limit, the same argon2
/// time for unknown users, disabled and locked accounts refused, failures counted (and the
/// account locked after `lockout_threshold` of them), a success recorded. Returns the user.
pub(crate) async fn check_password(
    state: &AppState,
    attempt: &LoginAttempt,
    username: &str,
    password: &str,
) -> ApiResult<User> {
    if let Err(wait) = state.login_limiter().check(attempt.client) {
        let mut error = ApiError::new(
            ErrorCode::RateLimited,
            format!("too many login attempts; try again in {wait} seconds"),
        );
        error.retry_after = Some(wait);
        return Err(error);
    }
    if username.len() > 256 || password.len() > 4096 {
        return Err(invalid_credentials());
    }
    let store = state.store();
    let now = OffsetDateTime::now_utc();
    let user = store.find_user(&username.trim().to_lowercase()).await?;
    let hash = match &user {
        Some(user) => store.password_hash(user.id).await?,
        None => None,
    };
    // Spend the same argon2 time whether or not the user exists.
    let hash_to_check = hash.clone().unwrap_or_else(|| state.dummy_hash().to_owned());
    let password = password.to_owned();
    let matches =
        tokio::task::spawn_blocking(move || verify_secret(&hash_to_check, &password)).await.unwrap_or(false);
    let Some(user) = user else { return Err(invalid_credentials()) };
    if user.disabled {
        return Err(ApiError::new(ErrorCode::AccountDisabled, "this account is disabled"));
    }
    if let Some(until) = user.locked_until.filter(|until| *until > now) {
        return Err(ApiError::new(
            ErrorCode::AccountLocked,
            format!("account locked after repeated failed logins until {}", rfc3339(until)),
        ));
    }
    if !matches || hash.is_none() {
        let config = state.config();
        let failures = user.failed_logins + 1;
        let lock_until = (failures >= config.lockout_threshold).then(|| now + config.lockout_duration);
        store.record_login(user.id, LoginOutcome::Failure { at: now, lock_until }).await?;
        if lock_until.is_some() {
            tracing::warn!(username = %user.username, "Account locked after repeated failed logins.");
        }
        return Err(invalid_credentials());
    }
    Ok(store.record_login(user.id, LoginOutcome::Success { at: now }).await?)
}

/// Checks a password login with rate limiting and lock-out, and opens a session.
pub(crate) async fn login_user(
    state: &AppState,
    attempt: &LoginAttempt,
    username: &str,
    password: &str,
) -> ApiResult<NewLogin> {
    let user = check_password(state, attempt, username, password).await?;
    let now = OffsetDateTime::now_utc();
    let store = state.store();
    let session_id = Uuid::now_v7();
    let secret = random_secret();
    let params = state.config().password_params;
    let secret_for_hash = secret.clone();
    let secret_hash = tokio::task::spawn_blocking(move || hash_secret(params, &secret_for_hash))
        .await
        .map_err(|_| ApiError::new(ErrorCode::Internal, "internal error"))?
        .map_err(|error| {
            tracing::error!(error = %error, "Hashing a session secret failed.");
            ApiError::new(ErrorCode::Internal, "internal error")
        })?;
    let ttl = time::Duration::try_from(state.config().session_ttl).unwrap_or(time::Duration::hours(8));
    let expires_at = now + ttl;
    store
        .create_session(&Session {
            id: session_id,
            user_id: user.id,
            secret_hash,
            created_at: now,
            expires_at,
        })
        .await?;
    Ok(NewLogin {
        user,
        cookie: format_session_cookie(session_id, &secret),
        csrf_token: csrf_token(&secret),
        expires_at,
    })
}

/// The `Set-Cookie` value for a session.
pub(crate) fn session_cookie(state: &AppState, value: &str) -> String {
    let secure = if state.config().cookie_secure { "; Secure" } else { "" };
    let max_age = state.config().session_ttl.as_secs();
    format!("{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
}

/// The `Set-Cookie` value that removes the session cookie.
pub(crate) fn clear_session_cookie(state: &AppState) -> String {
    let secure = if state.config().cookie_secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}")
}

/// Logs in with a username and password and sets the session cookie.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse),
        (status = 401, body = ErrorBody, description = "invalid_credentials"),
        (status = 403, body = ErrorBody, description = "account_locked or account_disabled"),
        (status = 429, body = ErrorBody, description = "rate_limited")))]
pub async fn login(
    State(state): State<AppState>,
    attempt: LoginAttempt,
    ApiJson(request): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let login = login_user(&state, &attempt, &request.username, &request.password).await?;
    let body = LoginResponse {
        user: login.user.into(),
        csrf_token: login.csrf_token,
        expires_at: rfc3339(login.expires_at),
    };
    let mut response = Json(body).into_response();
    if let Ok(value) = HeaderValue::from_str(&session_cookie(&state, &login.cookie)) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// Ends the current session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204, description = "logged out")))]
pub async fn logout(State(state): State<AppState>, headers: axum::http::HeaderMap) -> ApiResult<Response> {
    if let Some((session_id, _)) = cookie(&headers, SESSION_COOKIE).and_then(parse_session_cookie) {
        state.store().delete_session(session_id).await?;
        state.verified().forget(session_id);
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(value) = HeaderValue::from_str(&clear_session_cookie(&state)) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// Who the caller is.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user: UserDto,
    pub organisation: Option<String>,
    /// Whether the caller's organisation operates this instance.
    pub operator: bool,
    pub scope: String,
}

/// Describes the authenticated caller.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn me(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Me>> {
    let user = state.store().get_user(auth.0.user_id).await?.ok_or_else(|| ApiError::not_found("user"))?;
    let registry = state.registry();
    Ok(Json(Me {
        organisation: registry.orgs.get(&user.org_id).map(|org| org.fields.short_name.clone()),
        user: user.into(),
        operator: auth.0.operator,
        scope: auth.0.scope.to_string(),
    }))
}
