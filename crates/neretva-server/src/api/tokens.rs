//! API tokens: hashed at rest, shown once, scoped, expiring and revocable.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use neretva_model::Uuid;
use neretva_model::access::may_administer;
use neretva_model::user::{Role, Scope, Token};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::AppState;
use crate::api::{Page, Paged, parse_id, rfc3339};
use crate::auth::new_token;
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{ApiJson, Auth};

/// A token as the API shows it; the secret is never shown again after creation.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenDto {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    /// `read`, `write` or `admin`.
    pub scope: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
    pub active: bool,
}

impl From<Token> for TokenDto {
    fn from(token: Token) -> TokenDto {
        TokenDto {
            active: token.is_active(OffsetDateTime::now_utc()),
            id: token.id,
            user_id: token.user_id,
            name: token.name,
            scope: token.scope.to_string(),
            created_at: rfc3339(token.created_at),
            expires_at: token.expires_at.map(rfc3339),
            revoked_at: token.revoked_at.map(rfc3339),
            last_used_at: token.last_used_at.map(rfc3339),
        }
    }
}

/// A new token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    pub name: String,
    /// `read` (default), `write` or `admin`.
    #[serde(default)]
    pub scope: Option<String>,
    /// Days until the token expires (1–3650); default 90.
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

/// A created token, with its secret shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    pub token: TokenDto,
    /// Send as `Authorization: Bearer <secret>`. It cannot be shown again.
    pub secret: String,
}

/// The widest scope a role may hold.
pub fn max_scope(role: Role, operator: bool) -> Scope {
    match role {
        Role::Admin if operator => Scope::Admin,
        Role::Auditor | Role::Authority => Scope::Read,
        _ => Scope::Write,
    }
}

/// Filters for the token list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TokenFilter {
    /// Another user's id (administrators only); default: the caller's own tokens.
    pub user: Option<Uuid>,
    /// List every user's tokens (administrators only).
    pub all: Option<bool>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Lists the caller's tokens (administrators: anyone's).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", params(TokenFilter),
    responses((status = 200, body = Paged<TokenDto>)), security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    filter: Result<Query<TokenFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Paged<TokenDto>>> {
    let Query(filter) = filter?;
    let admin = may_administer(&auth.principal());
    let user = if filter.all == Some(true) { None } else { Some(filter.user.unwrap_or(auth.0.user_id)) };
    if !admin && user != Some(auth.0.user_id) {
        return Err(ApiError::forbidden("only administrators may list other users' tokens"));
    }
    let tokens: Vec<TokenDto> =
        state.store().list_tokens(user).await?.into_iter().map(TokenDto::from).collect();
    Ok(Json(Page { limit: filter.limit, cursor: filter.cursor }.apply(tokens)?))
}

/// Creates a token for the caller; the secret is in the response and never shown again.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = TokenInput,
    responses((status = 201, body = CreatedToken), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<TokenInput>,
) -> ApiResult<Response> {
    let created = create_token(&state, &auth, input).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// Creates a token for the caller within the scope its role and credential allow; shared by
/// this API and the web interface, which shows the secret once as this API does.
pub(crate) async fn create_token(
    state: &AppState,
    auth: &Auth,
    input: TokenInput,
) -> ApiResult<CreatedToken> {
    neretva_model::check_text("name", &input.name, 100)?;
    let scope = input.scope.as_deref().unwrap_or("read").parse::<Scope>()?;
    let allowed = max_scope(auth.0.role, auth.0.operator).min(auth.0.scope);
    if scope > allowed {
        return Err(ApiError::forbidden(format!(
            "a {} with this credential may create tokens up to scope {allowed}",
            auth.0.role
        ))
        .with_field("scope"));
    }
    let days = input.expires_in_days.unwrap_or(90);
    if !(1..=3650).contains(&days) {
        return Err(ApiError::bad_request("expires_in_days", "must be 1 to 3650"));
    }
    let expires_at = OffsetDateTime::now_utc() + time::Duration::days(i64::from(days));
    let params = state.config().password_params;
    let (user_id, name) = (auth.0.user_id, input.name.clone());
    let (new, secret) =
        tokio::task::spawn_blocking(move || new_token(params, user_id, &name, scope, Some(expires_at)))
            .await
            .map_err(|_| ApiError::new(ErrorCode::Internal, "internal error"))?
            .map_err(|error| {
                tracing::error!(error = %error, "Token hashing failed.");
                ApiError::new(ErrorCode::Internal, "internal error")
            })?;
    let token = state.store().create_token(&auth.actor(), &new).await?;
    Ok(CreatedToken { token: token.into(), secret })
}

/// Revokes a token: one's own, or anyone's as administrator.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", params(("id" = Uuid, Path)),
    responses((status = 200, body = TokenDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<TokenDto>> {
    let id = parse_id("id", &id)?;
    let admin = may_administer(&auth.principal());
    let Some((token, _)) = state.store().get_token(id).await? else {
        return Err(ApiError::not_found("token"));
    };
    if token.user_id != auth.0.user_id && !admin {
        return Err(ApiError::not_found("token"));
    }
    let token = state.store().revoke_token(&auth.actor(), id, OffsetDateTime::now_utc()).await?;
    state.verified().forget(id);
    Ok(Json(token.into()))
}
