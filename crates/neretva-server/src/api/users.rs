//! User accounts.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use neretva_model::FieldError;
use neretva_model::access::may_administer;
use neretva_model::contact::Language;
use neretva_model::user::{Role, User, check_password, check_username};
use neretva_store::{NewUser, UserPatch};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::api::auth::UserDto;
use crate::api::orgs::require_admin;
use crate::api::{Page, Paged, parse_id};
use crate::auth::{hash_secret, verify_secret};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::{ApiJson, Auth};

/// Whether the caller may see a user: itself, every user for the operator's admins and auditors,
/// and the users of its own organisation for an organisation's admin.
fn may_see_user(auth: &Auth, user: &User) -> bool {
    let me = &auth.0;
    me.user_id == user.id
        || me.operator && matches!(me.role, Role::Admin | Role::Auditor)
        || me.role == Role::Admin && me.org_id == user.org_id
}

async fn visible_user(state: &AppState, auth: &Auth, id: &str) -> ApiResult<User> {
    let id = parse_id("id", id)?;
    state
        .store()
        .get_user(id)
        .await?
        .filter(|user| may_see_user(auth, user))
        .ok_or_else(|| ApiError::not_found("user"))
}

/// Filters for the user list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UserFilter {
    /// An organisation's id or short name.
    pub organisation: Option<String>,
    pub role: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Lists the users the caller may see.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(UserFilter),
    responses((status = 200, body = Paged<UserDto>)), security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    filter: Result<Query<UserFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Paged<UserDto>>> {
    let Query(filter) = filter?;
    let role = filter.role.as_deref().map(str::parse::<Role>).transpose()?;
    let org_id = match filter.organisation.as_deref() {
        None => None,
        Some(key) => Some(
            state
                .registry()
                .resolve(key)
                .map(|org| org.id)
                .ok_or_else(|| ApiError::not_found("organisation"))?,
        ),
    };
    let users: Vec<UserDto> = state
        .store()
        .list_users(org_id)
        .await?
        .into_iter()
        .filter(|user| may_see_user(&auth, user))
        .filter(|user| role.is_none_or(|role| user.role == role))
        .map(UserDto::from)
        .collect();
    Ok(Json(Page { limit: filter.limit, cursor: filter.cursor }.apply(users)?))
}

/// Shows one user.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = Uuid, Path)),
    responses((status = 200, body = UserDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<UserDto>> {
    Ok(Json(visible_user(&state, &auth, &id).await?.into()))
}

/// A new user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    pub username: String,
    /// The organisation's id or short name.
    pub organisation: String,
    /// `admin`, `analyst`, `constituent`, `community`, `auditor`, `authority` or `law_enforcement`.
    pub role: String,
    /// For a competent authority (`authority`): the NIS2 sectors it supervises.
    #[serde(default)]
    pub sectors: Vec<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// `en`, `bs`, `hr`, `sr-Latn` or `sr-Cyrl`.
    #[serde(default)]
    pub language: Option<String>,
    /// At least 12 characters; without one the user cannot log in until a password is set.
    #[serde(default)]
    pub password: Option<String>,
}

pub(crate) async fn hash_password(state: &AppState, password: String) -> ApiResult<String> {
    let params = state.config().password_params;
    tokio::task::spawn_blocking(move || hash_secret(params, &password))
        .await
        .map_err(|_| ApiError::new(ErrorCode::Internal, "internal error"))?
        .map_err(|error| {
            tracing::error!(error = %error, "Password hashing failed.");
            ApiError::new(ErrorCode::Internal, "internal error")
        })
}

fn optional_email(email: Option<String>) -> Result<Option<String>, FieldError> {
    match email.filter(|email| !email.is_empty()) {
        None => Ok(None),
        Some(email) => {
            neretva_model::contact::check_email(&email)?;
            Ok(Some(email))
        }
    }
}

/// Creates a user (administrators of the operating CERT only).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = UserInput,
    responses((status = 201, body = UserDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<UserInput>,
) -> ApiResult<Response> {
    require_admin(&auth)?;
    let mut errors = Vec::new();
    let username = input.username.trim().to_lowercase();
    if let Err(error) = check_username(&username) {
        errors.push(error);
    }
    let role = input.role.parse::<Role>().map_err(|error| errors.push(error)).ok();
    let language = input
        .language
        .as_deref()
        .map(str::parse::<Language>)
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let email = optional_email(input.email).map_err(|e| errors.push(e)).ok().flatten();
    if let Some(password) = &input.password
        && let Err(error) = check_password(password)
    {
        errors.push(error);
    }
    let org = state.registry().resolve(&input.organisation).map(|org| org.id);
    if org.is_none() {
        errors.push(FieldError::new("organisation", format!("no organisation {:?}", input.organisation)));
    }
    if let Some(role) = role
        && let Err(error) = neretva_model::user::check_sectors(role, &input.sectors)
    {
        errors.push(error);
    }
    let (Some(role), Some(org_id), true) = (role, org, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let password_hash = match input.password {
        Some(password) => Some(hash_password(&state, password).await?),
        None => None,
    };
    let user = state
        .store()
        .create_user(
            &auth.actor(),
            &NewUser {
                org_id,
                username,
                display_name: input.display_name,
                email,
                role,
                sectors: input.sectors,
                language,
                password_hash,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(UserDto::from(user))).into_response())
}

/// Changes to a user; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub role: Option<String>,
    /// The sectors of a competent authority; a role other than `authority` has none.
    pub sectors: Option<Vec<String>>,
    pub language: Option<String>,
    pub organisation: Option<String>,
}

/// Updates a user. Users may change their own name, e-mail and language; role and organisation
/// only an administrator.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", params(("id" = Uuid, Path)),
    request_body = UserUpdate,
    responses((status = 200, body = UserDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<UserUpdate>,
) -> ApiResult<Json<UserDto>> {
    let user = visible_user(&state, &auth, &id).await?;
    let admin = may_administer(&auth.principal());
    if !admin
        && (user.id != auth.0.user_id
            || input.role.is_some()
            || input.sectors.is_some()
            || input.organisation.is_some())
    {
        return Err(ApiError::forbidden(
            "only administrators may change other users, roles and organisations",
        ));
    }
    if !neretva_model::access::may_write(&auth.principal()) {
        return Err(ApiError::forbidden("this credential may not change anything"));
    }
    let mut errors = Vec::new();
    let mut patch = UserPatch::default();
    if let Some(name) = input.display_name {
        patch.display_name = Some(Some(name).filter(|n| !n.is_empty()));
    }
    if let Some(email) = input.email {
        patch.email = Some(optional_email(Some(email)).map_err(|e| errors.push(e)).ok().flatten());
    }
    if let Some(role) = input.role {
        patch.role = role.parse::<Role>().map_err(|e| errors.push(e)).ok();
    }
    if let Some(language) = input.language {
        patch.language = Some(if language.is_empty() {
            None
        } else {
            language.parse::<Language>().map_err(|e| errors.push(e)).ok()
        });
    }
    if let Some(key) = input.organisation {
        match state.registry().resolve(&key) {
            Some(org) => patch.org_id = Some(org.id),
            None => errors.push(FieldError::new("organisation", format!("no organisation {key:?}"))),
        }
    }
    // The role and sectors after the change must agree: leaving `authority` drops the sectors.
    let role = patch.role.unwrap_or(user.role);
    let sectors = match (input.sectors, role) {
        (Some(sectors), _) => sectors,
        (None, Role::Authority) => user.sectors.clone(),
        (None, _) => Vec::new(),
    };
    if let Err(error) = neretva_model::user::check_sectors(role, &sectors) {
        errors.push(error);
    }
    if sectors != user.sectors {
        patch.sectors = Some(sectors);
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(Json(state.store().update_user(&auth.actor(), user.id, &patch).await?.into()))
}

/// A password change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// Required when changing one's own password.
    #[serde(default)]
    pub current_password: Option<String>,
    pub new_password: String,
}

/// Sets a user's password: one's own with the current password, or anyone's as administrator.
#[utoipa::path(post, path = "/api/v1/users/{id}/password", tag = "users", params(("id" = Uuid, Path)),
    request_body = PasswordChange,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn set_password(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    let user = visible_user(&state, &auth, &id).await?;
    let own = user.id == auth.0.user_id;
    if !own && !may_administer(&auth.principal()) {
        return Err(ApiError::forbidden("only administrators may set other users' passwords"));
    }
    if own {
        let current = input.current_password.unwrap_or_default();
        let hash = state.store().password_hash(user.id).await?.unwrap_or_default();
        let matches =
            tokio::task::spawn_blocking(move || verify_secret(&hash, &current)).await.unwrap_or(false);
        if !matches {
            return Err(ApiError::new(ErrorCode::InvalidCredentials, "current password is wrong")
                .with_field("current_password"));
        }
    }
    check_password(&input.new_password).map_err(|mut error| {
        error.field = "new_password".into();
        error
    })?;
    let hash = hash_password(&state, input.new_password).await?;
    state.store().set_password(&auth.actor(), user.id, &hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_disabled(state: AppState, auth: Auth, id: String, disabled: bool) -> ApiResult<Json<UserDto>> {
    require_admin(&auth)?;
    let user = visible_user(&state, &auth, &id).await?;
    if disabled && user.id == auth.0.user_id {
        return Err(ApiError::new(ErrorCode::Conflict, "you cannot disable your own account"));
    }
    let user = state.store().set_user_disabled(&auth.actor(), user.id, disabled).await?;
    Ok(Json(user.into()))
}

/// Disables a user and ends its sessions; its tokens stop working.
#[utoipa::path(post, path = "/api/v1/users/{id}/disable", tag = "users", params(("id" = Uuid, Path)),
    responses((status = 200, body = UserDto), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn disable(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<UserDto>> {
    set_disabled(state, auth, id, true).await
}

/// Lifts a lock-out after repeated failed logins before it expires: the count of failures goes
/// back to zero and the user may sign in again at once. Audited as `user.unlock`.
#[utoipa::path(post, path = "/api/v1/users/{id}/unlock", tag = "users", params(("id" = Uuid, Path)),
    responses((status = 200, body = UserDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn unlock(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<UserDto>> {
    require_admin(&auth)?;
    let user = visible_user(&state, &auth, &id).await?;
    let user = state.store().unlock_user(&auth.actor(), user.id).await?;
    Ok(Json(user.into()))
}

/// Enables a disabled user.
#[utoipa::path(post, path = "/api/v1/users/{id}/enable", tag = "users", params(("id" = Uuid, Path)),
    responses((status = 200, body = UserDto), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn enable(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<UserDto>> {
    set_disabled(state, auth, id, false).await
}
