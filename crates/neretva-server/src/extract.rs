//! Request extractors: who is calling, and JSON bodies with the API's error format.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, header};
use neretva_model::Uuid;
use neretva_model::access::{Principal, UserPrincipal};
use neretva_model::user::Scope;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::AppState;
use crate::auth::{constant_time_eq, csrf_token, parse_session_cookie, parse_token};
use crate::error::{ApiError, ErrorCode};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "neretva_session";
/// The header carrying the CSRF token on cookie-authenticated requests that change something.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// An authenticated caller; rejects anonymous requests with 401.
#[derive(Debug, Clone)]
pub struct Auth(pub UserPrincipal);

impl Auth {
    pub fn principal(&self) -> Principal {
        Principal::User(self.0.clone())
    }

    /// The actor recorded in the audit log.
    pub fn actor(&self) -> neretva_store::Actor {
        neretva_store::Actor(format!("user:{}", self.0.username))
    }
}

/// A caller who may be anonymous.
#[derive(Debug, Clone)]
pub struct MaybeAuth(pub Principal);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Auth, ApiError> {
        match authenticate(parts, state).await? {
            Some(user) => Ok(Auth(user)),
            None => Err(ApiError::new(
                ErrorCode::Unauthenticated,
                "authentication required: send 'Authorization: Bearer <token>' or log in",
            )),
        }
    }
}

impl FromRequestParts<AppState> for MaybeAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<MaybeAuth, ApiError> {
        Ok(MaybeAuth(match authenticate(parts, state).await? {
            Some(user) => Principal::User(user),
            None => Principal::Anonymous,
        }))
    }
}

/// Reads a cookie's value from the request headers.
pub(crate) fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

fn unauthenticated(message: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthenticated, message)
}

/// Resolves the caller from a bearer token or a session cookie; `None` when neither is sent.
async fn authenticate(parts: &Parts, state: &AppState) -> Result<Option<UserPrincipal>, ApiError> {
    let now = OffsetDateTime::now_utc();
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")));
    let (user_id, scope) = if let Some(text) = bearer {
        token_user(state, text, now).await?
    } else if let Some(value) = cookie(&parts.headers, SESSION_COOKIE) {
        let Some((session_id, secret)) = parse_session_cookie(value) else {
            return Err(unauthenticated("malformed session cookie; log in again"));
        };
        let Some(session) = state.store().get_session(session_id).await? else {
            return Err(unauthenticated("session expired; log in again"));
        };
        if session.expires_at <= now || !state.verified().verify(session_id, &session.secret_hash, secret) {
            return Err(unauthenticated("session expired; log in again"));
        }
        if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|value| value.to_str().ok());
            if !sent.is_some_and(|sent| constant_time_eq(sent, &csrf_token(secret))) {
                return Err(ApiError::new(
                    ErrorCode::CsrfFailed,
                    "missing or wrong X-CSRF-Token header for a cookie-authenticated request",
                ));
            }
        }
        (session.user_id, Scope::Admin)
    } else {
        return Ok(None);
    };
    user_principal(state, user_id, scope).await.map(Some)
}

/// Checks an API token's text (`nrt_…`): known, active, the secret right; notes its use.
/// Returns its user and scope.
pub(crate) async fn token_user(
    state: &AppState,
    text: &str,
    now: OffsetDateTime,
) -> Result<(Uuid, Scope), ApiError> {
    let Some((token_id, secret)) = parse_token(text.trim()) else {
        return Err(unauthenticated("malformed API token"));
    };
    let Some((token, hash)) = state.store().get_token(token_id).await? else {
        return Err(unauthenticated("unknown or revoked API token"));
    };
    if !token.is_active(now) {
        return Err(unauthenticated("API token expired or revoked"));
    }
    if !state.verified().verify(token_id, &hash, secret) {
        return Err(unauthenticated("unknown or revoked API token"));
    }
    let touch_due = token.last_used_at.is_none_or(|at| now - at > time::Duration::minutes(1));
    if touch_due {
        state.store().touch_token(token_id, now).await?;
    }
    Ok((token.user_id, token.scope))
}

/// The principal of a user holding a credential of `scope`; a removed or disabled user is
/// refused.
pub(crate) async fn user_principal(
    state: &AppState,
    user_id: Uuid,
    scope: Scope,
) -> Result<UserPrincipal, ApiError> {
    let Some(user) = state.store().get_user(user_id).await? else {
        return Err(unauthenticated("the credential's user no longer exists"));
    };
    if user.disabled {
        return Err(ApiError::new(ErrorCode::AccountDisabled, "this account is disabled"));
    }
    let registry = state.registry_fresh(std::time::Duration::from_secs(30)).await;
    Ok(registry.principal(&user, scope))
}

/// A JSON body whose errors use the API's error format and name the offending field.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<ApiJson<T>, ApiError> {
        let axum::Json(value) = axum::Json::<T>::from_request(request, state).await?;
        Ok(ApiJson(value))
    }
}
