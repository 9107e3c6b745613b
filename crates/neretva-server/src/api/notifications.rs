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
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
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
    /// Only incident updates (status changes, reminders) about this incident.
    pub incident: Option<Uuid>,
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
    /// `digest`, `resend`, `advisory`, `incident-status` or `incident-reminder`.
    pub kind: String,
    pub resend_of: Option<Uuid>,
    /// The incident an incident update is about.
    pub incident: Option<Uuid>,
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
        incident: message.incident_id,
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
    let query = MessageQuery {
        org_ids,
        event_id: filter.event,
        incident_id: filter.incident,
        status,
        before: filter.cursor,
        limit,
    };
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

/// The notifier, or 503 when this server does not run notifications.
pub(crate) fn notifier(state: &AppState) -> ApiResult<&neretva_notifier::Notifier> {
    state.notifier().ok_or_else(|| {
        ApiError::new(ErrorCode::Unavailable, "constituent notifications are not configured on this server")
    })
}

/// Which organisation to preview.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PreviewFilter {
    /// The organisation's id or short name.
    pub organisation: String,
}

/// One attachment of a previewed message.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewAttachment {
    pub name: String,
    pub content_type: String,
    /// The attachment's text (CSV or JSON).
    pub content: String,
}

/// What one contact would receive from a run now.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactPreview {
    pub email: String,
    pub language: String,
    /// The TLP of the message.
    pub tlp: String,
    /// The highest TLP the contact receives.
    pub clearance: String,
    pub encrypted: bool,
    /// Why no message would go to this contact (an invalid address, an unusable key).
    pub problem: Option<String>,
    /// Events the message would tell about.
    pub events: u64,
    /// Events held back because they are above the contact's clearance.
    pub withheld: u64,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub attachments: Vec<PreviewAttachment>,
}

/// Queued events a later digest will tell about.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaitingDto {
    /// `hourly`, `daily` or `weekly`.
    pub schedule: String,
    /// When the digest holding them is due.
    pub due_at: String,
    pub events: u64,
    /// Events per classification type.
    pub types: std::collections::BTreeMap<String, u64>,
}

/// A preview: what a run now would send, and what waits in the queue for later.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewDto {
    /// The organisation's short name.
    pub organisation: String,
    /// Events due now that would be told.
    pub due_events: u64,
    /// Events due now that repeat within the suppression window (counted, not told).
    pub suppressed: u64,
    pub due: Vec<ContactPreview>,
    pub later: Vec<WaitingDto>,
}

/// Renders what an organisation's contacts would receive from a notification run now, without
/// recording or sending anything, and what waits for a later digest. Only the CERT's staff and
/// the organisation's own users may preview, and only from the events they may see (TLP).
#[utoipa::path(get, path = "/api/v1/notifications/preview", tag = "notifications", params(PreviewFilter),
    responses((status = 200, body = PreviewDto), (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody, description = "notifications are not configured")),
    security(("bearer" = []), ("session" = [])))]
pub async fn preview(
    State(state): State<AppState>,
    auth: Auth,
    filter: Result<Query<PreviewFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<PreviewDto>> {
    let Query(filter) = filter?;
    let registry = state.registry();
    let org = registry
        .resolve(&filter.organisation)
        .filter(|org| auth.0.is_operator_staff() || auth.0.org_id == org.id)
        .ok_or_else(|| ApiError::not_found("organisation"))?
        .clone();
    let notifier = notifier(&state)?;
    let principal = auth.principal();
    let visible = |stored: &neretva_store::feeds::StoredEvent| {
        crate::api::events::may_see_event(&registry, &principal, stored)
    };
    let report =
        notifier.preview(&org, time::OffsetDateTime::now_utc(), &visible).await.map_err(notify_error)?;
    let due = report
        .due
        .into_iter()
        .map(|p| ContactPreview {
            email: p.email,
            language: p.language.tag().to_owned(),
            tlp: p.tlp.label().to_owned(),
            clearance: p.clearance.label().to_owned(),
            encrypted: p.encrypted,
            problem: p.problem,
            events: p.events,
            withheld: p.withheld,
            subject: p.content.as_ref().map(|c| c.subject.clone()),
            body: p.content.as_ref().map(|c| c.body.clone()),
            attachments: p
                .content
                .map(|c| {
                    c.attachments
                        .into_iter()
                        .map(|a| PreviewAttachment {
                            name: a.name,
                            content_type: a.content_type,
                            content: String::from_utf8_lossy(&a.data).into_owned(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect();
    let later = report
        .later
        .into_iter()
        .map(|w| WaitingDto {
            schedule: w.schedule.as_str().to_owned(),
            due_at: rfc3339(w.due_at),
            events: w.events,
            types: w.types,
        })
        .collect();
    Ok(Json(PreviewDto {
        organisation: org.fields.short_name.clone(),
        due_events: report.due_events,
        suppressed: report.suppressed,
        due,
        later,
    }))
}

/// The messages a resend recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResendDto {
    /// The new messages, pending until the notifier's next delivery pass (or failed at once
    /// when they cannot be sent at all).
    pub items: Vec<NotificationDto>,
}

/// Sends the events of an earlier message again to the organisation's current contacts: new
/// messages recorded as `resend` of it and audited under the caller. The CERT's staff with a
/// write credential only.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/resend", tag = "notifications",
    params(("id" = String, Path, description = "The message's id")),
    responses((status = 201, body = ResendDto), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody, description = "notifications are not configured")),
    security(("bearer" = []), ("session" = [])))]
pub async fn resend(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<(axum::http::StatusCode, Json<ResendDto>)> {
    let id = parse_id("id", &id)?;
    let registry = state.registry();
    let scope = event_scope(&registry, &auth);
    state
        .store()
        .get_message(id)
        .await?
        .filter(|message| may_see_messages_of(scope.as_deref(), message.org_id))
        .ok_or_else(|| ApiError::not_found("notification"))?;
    if !(auth.0.is_operator_staff() && neretva_model::access::may_write(&auth.principal())) {
        return Err(ApiError::forbidden(
            "resending a notification needs the CERT's staff with a write credential",
        ));
    }
    let notifier = notifier(&state)?;
    let created =
        notifier.resend(&auth.actor(), id, time::OffsetDateTime::now_utc()).await.map_err(notify_error)?;
    let items = created.into_iter().map(|message| dto(message, &registry)).collect();
    Ok((axum::http::StatusCode::CREATED, Json(ResendDto { items })))
}

/// A notifier error as an API error: what was not found is 404, the rest internal.
pub(crate) fn notify_error(error: neretva_notifier::NotifierError) -> ApiError {
    match error {
        neretva_notifier::NotifierError::Store(error) => error.into(),
        neretva_notifier::NotifierError::NotFound { kind, .. } => ApiError::not_found(kind),
        neretva_notifier::NotifierError::Invalid { field, message } => ApiError::bad_request(&field, message),
        other => {
            tracing::warn!(error = %other, "A notification request failed.");
            ApiError::new(ErrorCode::Internal, "the notification could not be made")
        }
    }
}

/// How notifications to one address of an organisation fared.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactDeliveryDto {
    /// The address; empty for messages recorded because the organisation had no contact.
    pub email: String,
    pub contact_id: Option<Uuid>,
    /// Whether the newest outcome is a failure (nothing sent since).
    pub failing: bool,
    pub messages: u64,
    pub sent: u64,
    pub failed: u64,
    pub pending: u64,
    pub last_sent_at: Option<String>,
    pub last_failed_at: Option<String>,
    /// The error of the newest failed message.
    pub last_error: Option<String>,
}

impl From<neretva_store::notifications::ContactDelivery> for ContactDeliveryDto {
    fn from(delivery: neretva_store::notifications::ContactDelivery) -> ContactDeliveryDto {
        ContactDeliveryDto {
            failing: delivery.failing(),
            email: delivery.email,
            contact_id: delivery.contact_id,
            messages: delivery.messages,
            sent: delivery.sent,
            failed: delivery.failed,
            pending: delivery.pending,
            last_sent_at: delivery.last_sent_at.map(rfc3339),
            last_failed_at: delivery.last_failed_at.map(rfc3339),
            last_error: delivery.last_error,
        }
    }
}

/// An organisation's notification deliveries.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgNotificationsDto {
    /// The organisation's short name.
    pub organisation: String,
    /// Addresses whose newest message failed for good, newest failure first.
    pub failing: Vec<ContactDeliveryDto>,
    /// Every address written to, by address.
    pub contacts: Vec<ContactDeliveryDto>,
    /// Repeats counted instead of told (suppression).
    pub suppressed: u64,
}

/// How an organisation's notifications fared per address: which contacts fail, with the last
/// error and when, and what was sent. Visible to those who may see the organisation's
/// contacts; 404 to everyone else.
#[utoipa::path(get, path = "/api/v1/organisations/{org}/notifications", tag = "notifications",
    params(("org" = String, Path, description = "id or short name")),
    responses((status = 200, body = OrgNotificationsDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn for_org(
    State(state): State<AppState>,
    auth: Auth,
    Path(key): Path<String>,
) -> ApiResult<Json<OrgNotificationsDto>> {
    let registry = state.registry();
    let org = crate::api::orgs::member_data_org(&registry, &auth, &key)?;
    let deliveries = state.store().contact_deliveries(org.id).await?;
    let suppressed = state.store().suppressed_count(org.id).await?;
    let mut failing: Vec<ContactDeliveryDto> = deliveries
        .iter()
        .filter(|delivery| delivery.failing())
        .cloned()
        .map(ContactDeliveryDto::from)
        .collect();
    failing.sort_by(|a, b| b.last_failed_at.cmp(&a.last_failed_at));
    Ok(Json(OrgNotificationsDto {
        organisation: org.fields.short_name.clone(),
        failing,
        contacts: deliveries.into_iter().map(ContactDeliveryDto::from).collect(),
        suppressed,
    }))
}

/// A CERT advisory and whom it goes to: exactly one of `organisations`, `sector` and `all`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvisoryInput {
    /// Organisations by id or short name.
    #[serde(default)]
    pub organisations: Vec<String>,
    /// Every organisation of this sector.
    #[serde(default)]
    pub sector: Option<String>,
    /// Every organisation of the constituency.
    #[serde(default)]
    pub all: bool,
    /// The subject (one line, at most 200 characters), after the TLP label.
    pub subject: String,
    /// The plain-text body (at most 256 KiB).
    pub body: String,
    /// The advisory's TLP label; `TLP:GREEN` when absent.
    #[serde(default)]
    pub tlp: Option<String>,
}

/// The messages an advisory recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdvisoryDto {
    /// One per contact cleared for the TLP: pending until the notifier's next delivery pass, or
    /// failed at once when it cannot be sent (no valid address, an unusable key, no contact).
    pub items: Vec<NotificationDto>,
    /// Contacts not cleared for the advisory's TLP (no message).
    pub withheld: u64,
}

/// Sends a CERT advisory to the contacts of the chosen organisations: signed (and encrypted to
/// contacts with a key), recorded in the delivery record as `advisory` under the caller and
/// sent by the notifier's delivery pass with its retries. The CERT's staff with a write
/// credential only.
#[utoipa::path(post, path = "/api/v1/notifications/advisories", tag = "notifications",
    request_body = AdvisoryInput,
    responses((status = 201, body = AdvisoryDto), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody, description = "notifications are not configured")),
    security(("bearer" = []), ("session" = [])))]
pub async fn advisory(
    State(state): State<AppState>,
    auth: Auth,
    crate::extract::ApiJson(input): crate::extract::ApiJson<AdvisoryInput>,
) -> ApiResult<(axum::http::StatusCode, Json<AdvisoryDto>)> {
    if !(auth.0.is_operator_staff() && neretva_model::access::may_write(&auth.principal())) {
        return Err(ApiError::forbidden("advisories are sent by the CERT's staff with a write credential"));
    }
    let registry = state.registry();
    let chosen = usize::from(!input.organisations.is_empty())
        + usize::from(input.sector.is_some())
        + usize::from(input.all);
    if chosen != 1 {
        return Err(ApiError::bad_request(
            "organisations",
            "name the recipients with exactly one of organisations, sector and all",
        ));
    }
    let orgs: Vec<neretva_model::org::Organisation> = if input.all {
        registry.orgs.values().cloned().collect()
    } else if let Some(sector) = &input.sector {
        let orgs: Vec<_> = registry
            .orgs
            .values()
            .filter(|org| org.fields.sector.as_deref() == Some(sector))
            .cloned()
            .collect();
        if orgs.is_empty() {
            return Err(ApiError::bad_request("sector", format!("no organisation of sector {sector:?}")));
        }
        orgs
    } else {
        let mut orgs = Vec::new();
        for (index, key) in input.organisations.iter().enumerate() {
            let org = registry.resolve(key).ok_or_else(|| {
                ApiError::bad_request(&format!("organisations[{index}]"), format!("no organisation {key:?}"))
            })?;
            if !orgs.iter().any(|o: &neretva_model::org::Organisation| o.id == org.id) {
                orgs.push(org.clone());
            }
        }
        orgs
    };
    let tlp = match input.tlp.as_deref() {
        None => neretva_model::tlp::Tlp::Green,
        Some(text) => text.parse().map_err(|error: neretva_model::tlp::LabelError| {
            ApiError::bad_request("tlp", error.to_string())
        })?,
    };
    let advisory = neretva_notifier::Advisory { subject: input.subject, body: input.body, tlp };
    if let Err(neretva_notifier::NotifierError::Invalid { field, message }) = advisory.check() {
        return Err(ApiError::bad_request(&field, message));
    }
    let notifier = notifier(&state)?;
    let summary = notifier
        .advisory(&auth.actor(), &orgs, &advisory, time::OffsetDateTime::now_utc())
        .await
        .map_err(notify_error)?;
    let items = summary.messages.into_iter().map(|message| dto(message, &registry)).collect();
    Ok((axum::http::StatusCode::CREATED, Json(AdvisoryDto { items, withheld: summary.withheld })))
}
