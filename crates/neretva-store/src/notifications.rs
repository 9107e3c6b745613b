//! Storage types of constituent notifications: queued events with their stored event, the
//! messages made from them (the delivery record: which contacts were told about which events,
//! when, by which Message-ID, with every attempt and failure), the schedule and suppression
//! state, and the topics of incident updates already made (a status change or a reminder is
//! made once per incident, organisation and topic).

use neretva_incident::workflow::Status;
use neretva_model::{Timestamp, Uuid};

use crate::feeds::StoredEvent;

/// One pending entry of the notification queue, with its event.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedNotification {
    pub queue_id: i64,
    pub org_id: Uuid,
    pub queued_at: Timestamp,
    pub event: StoredEvent,
}

/// Where a message is on its way out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Waiting for its first or next attempt.
    Pending,
    /// Accepted by the SMTP server.
    Sent,
    /// Given up: a permanent refusal, too many attempts, or never sendable (no valid address,
    /// a key that cannot encrypt, no contact at all).
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<DeliveryStatus> {
        match text {
            "pending" => Some(DeliveryStatus::Pending),
            "sent" => Some(DeliveryStatus::Sent),
            "failed" => Some(DeliveryStatus::Failed),
            _ => None,
        }
    }
}

/// A message to record, with the events it tells about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub id: Uuid,
    /// The Message-ID header without angle brackets; empty for a message never built.
    pub message_id: String,
    pub org_id: Uuid,
    /// The contact written to; `None` when the organisation has no contact.
    pub contact_id: Option<Uuid>,
    pub email: String,
    /// `digest`, `resend`, `advisory`, `incident-status` or `incident-reminder`.
    pub kind: String,
    /// The message this one sends again.
    pub resend_of: Option<Uuid>,
    /// The incident an incident update is about.
    pub incident_id: Option<Uuid>,
    pub subject: String,
    /// The TLP label of the message (`TLP:AMBER+STRICT`).
    pub tlp: String,
    /// The language's BCP 47 tag.
    pub language: String,
    pub encrypted: bool,
    /// The whole message (RFC 5322), as it will be sent; empty for a message never built.
    pub raw: Vec<u8>,
    pub event_ids: Vec<Uuid>,
    /// `Some(reason)` records a message that cannot be sent at all as failed at once.
    pub failure: Option<String>,
}

/// One pass of the notifier over one organisation, written in one transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotificationWrite {
    pub org_id: Uuid,
    pub messages: Vec<NewMessage>,
    /// Queue entries dealt with (told, suppressed or withheld): no longer pending.
    pub taken: Vec<i64>,
    /// Suppression keys of the events told now.
    pub notified_keys: Vec<String>,
    /// Suppression keys of the repeats counted instead of told.
    pub suppressed_keys: Vec<String>,
    /// The schedules (`immediate`, `daily`, ...) this pass delivered for.
    pub schedules: Vec<String>,
    /// Incident updates this write makes, each at most once: when one of them was recorded
    /// before (by another pass or another process), the whole write is refused with
    /// `StoreError::Conflict` on `announcement` and nothing is written.
    pub announcements: Vec<Announcement>,
}

/// An incident update made for the write's organisation: the incident and the topic
/// (`status/resolved`, `reminder/final_report/<due>/60m`; see `neretva_notify::incident`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    pub incident_id: Uuid,
    pub topic: String,
}

/// The refusal of a write whose incident update was recorded before.
pub fn already_announced(org_id: Uuid, announcement: &Announcement) -> crate::StoreError {
    crate::StoreError::conflict(
        "announcement",
        format!(
            "the update {} of incident {} was already recorded for organisation {org_id}",
            announcement.topic, announcement.incident_id
        ),
    )
}

/// An incident whose current status has not been announced to one of the organisations it
/// concerns (its reporter or an affected organisation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingStatus {
    pub incident_id: Uuid,
    pub org_id: Uuid,
    pub status: Status,
}

/// A recorded message, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub id: Uuid,
    pub message_id: String,
    pub org_id: Uuid,
    pub contact_id: Option<Uuid>,
    pub email: String,
    pub kind: String,
    pub resend_of: Option<Uuid>,
    pub incident_id: Option<Uuid>,
    pub subject: String,
    pub tlp: String,
    pub language: String,
    pub encrypted: bool,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub created_at: Timestamp,
    pub last_attempt_at: Option<Timestamp>,
    pub next_attempt_at: Option<Timestamp>,
    pub sent_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub event_count: u64,
}

/// The outcome of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Sent,
    /// A temporary failure: try again at `next_at`.
    Retry {
        error: String,
        next_at: Timestamp,
    },
    /// A permanent failure, or the last attempt failed.
    Failed {
        error: String,
    },
}

/// Filters for listing messages, newest first (by id).
#[derive(Debug, Clone, Default)]
pub struct MessageQuery {
    /// Only messages to these organisations; `None` for all.
    pub org_ids: Option<Vec<Uuid>>,
    /// Only messages that told about this event.
    pub event_id: Option<Uuid>,
    /// Only incident updates about this incident.
    pub incident_id: Option<Uuid>,
    pub status: Option<DeliveryStatus>,
    /// Only messages with a smaller id (paging).
    pub before: Option<Uuid>,
    /// 0 means 100; at most 10,000.
    pub limit: u32,
}

/// When an organisation last received a digest of a schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleState {
    pub org_id: Uuid,
    pub schedule: String,
    pub last_sent_at: Timestamp,
}

/// How messages to one address of an organisation fared: the organisation's view of its
/// contacts' deliveries, failures first to see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactDelivery {
    /// The address written to; empty for messages recorded because the organisation had no
    /// contact to write to.
    pub email: String,
    /// The contact of the newest message to the address.
    pub contact_id: Option<Uuid>,
    pub messages: u64,
    pub sent: u64,
    pub failed: u64,
    pub pending: u64,
    pub last_sent_at: Option<Timestamp>,
    /// When the newest failure was recorded (its last attempt, or its creation for a message
    /// that could never be sent).
    pub last_failed_at: Option<Timestamp>,
    /// The error of the newest failed message.
    pub last_error: Option<String>,
}

impl ContactDelivery {
    /// Whether the newest outcome for this address is a failure (nothing sent since).
    pub fn failing(&self) -> bool {
        match (self.last_failed_at, self.last_sent_at) {
            (Some(failed), Some(sent)) => failed > sent,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}
