//! The notification delivery record: which contacts were told about which events, when, by
//! which message, and what failed.

use axum::Json;
use axum::extract::{Path, Query, State};
use neretva_model::Uuid;
use neretva_store::notifications::{DeliveryStatus, MessageQuery, StoredMessage};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::events::event_scope;
use crate::api::{parse_id, rfc3339};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Auth;
use crate::registry::RegistrySnapshot;

/// Filters of the delivery record; every filter narrows the result.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct NotificationFilter {
    /// An organisation's id or short name.
    pub organisation: Option<String>,
    /// Only messages that told about this event.
    pub event: Option<Uuid>,
    /// `pending`, `sent` or `failed`.
    pub status: Option<String>,
    /// 1–1000, default 100.
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<Uuid>,
}

/// One notification message and its delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationDto {
    pub id: Uuid,
    /// The e-mail's `Message-ID`.
    pub message_id: String,
    /// The organisation's short name.
    pub organisation: String,
    pub email: String,
    /// `digest` or `resend`.
    pub kind: String,
    pub resend_of: Option<Uuid>,
    pub subject: String,
    pub tlp: String,
    pub language: String,
    pub encrypted: bool,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: u32,
    pub created_at: String,
    pub last_attempt_at: Option<String>,
    pub next_attempt_at: Option<String>,
    pub sent_at: Option<String>,
    pub last_error: Option<String>,
    pub event_count: u64,
    /// The events the message told about (only when one message is shown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<Uuid>>,
}

/// A page of the delivery record, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationPage {
    pub items: Vec<NotificationDto>,
    pub next_cursor: Option<Uuid>,
}

fn dto(message: StoredMessage, registry: &RegistrySnapshot) -> NotificationDto {
    let organisation =
        registry.orgs.get(&message.org_id).map(|org| org.fields.short_name.clone()).unwrap_or_default();
    NotificationDto {
        id: message.id,
        message_id: message.message_id,
        organisation,
        email: message.email,
        kind: message.kind,
        resend_of: message.resend_of,
        subject: message.subject,
        tlp: message.tlp,
        language: message.language,
        encrypted: message.encrypted,
        status: message.status.as_str().to_owned(),
        attempts: message.attempts,
        created_at: rfc3339(message.created_at),
        last_attempt_at: message.last_attempt_at.map(rfc3339),
        next_attempt_at: message.next_attempt_at.map(rfc3339),
        sent_at: message.sent_at.map(rfc3339),
        last_error: message.last_error,
        event_count: message.event_count,
        events: None,
    }
}

/// Whether the caller may see messages to `org`: the CERT's staff see all, an organisation's
/// members those to it and to the organisations below it.
fn may_see_messages_of(scope: Option<&[Uuid]>, org: Uuid) -> bool {
    scope.is_none_or(|orgs| orgs.contains(&org))
}

/// Lists the delivery record the caller may see: the CERT's staff every message, an
/// organisation's members the messages to it and to the organisations below it.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", params(NotificationFilter),
    responses((status = 200, body = NotificationPage), (status = 400, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    filter: Result<Query<NotificationFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<NotificationPage>> {
    let Query(filter) = filter?;
    let registry = state.registry();
    let scope = event_scope(&registry, &auth);
    let org_ids = match filter.organisation.as_deref() {
        None => scope,
        Some(key) => {
            let org = registry
                .resolve(key)
                .filter(|org| may_see_messages_of(scope.as_deref(), org.id))
                .ok_or_else(|| ApiError::not_found("organisation"))?;
            Some(vec![org.id])
        }
    };
    let status = match filter.status.as_deref() {
        None => None,
        Some(text) => Some(
            DeliveryStatus::parse(text)
                .ok_or_else(|| ApiError::bad_request("status", "must be pending, sent or failed"))?,
        ),
    };
    let limit = filter.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("limit", "must be between 1 and 1000"));
    }
    let query = MessageQuery { org_ids, event_id: filter.event, status, before: filter.cursor, limit };
    let found = state.store().list_messages(&query).await?;
    let next_cursor = (found.len() == limit as usize).then(|| found.last().map(|m| m.id)).flatten();
    let items = found.into_iter().map(|message| dto(message, &registry)).collect();
    Ok(Json(NotificationPage { items, next_cursor }))
}

/// One message of the delivery record, with the events it told about.
#[utoipa::path(get, path = "/api/v1/notifications/{id}", tag = "notifications",
    params(("id" = String, Path, description = "The message's id")),
    responses((status = 200, body = NotificationDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<NotificationDto>> {
    let id = parse_id("id", &id)?;
    let registry = state.registry();
    let scope = event_scope(&registry, &auth);
    let message = state
        .store()
        .get_message(id)
        .await?
        .filter(|message| may_see_messages_of(scope.as_deref(), message.org_id))
        .ok_or_else(|| ApiError::not_found("notification"))?;
    let events = state.store().message_events(id).await?;
    let mut shown = dto(message, &registry);
    shown.events = Some(events);
    Ok(Json(shown))
}
