//! Storage types of train-the-trainer programmes: programmes, sessions, participants with their
//! attendance, feedback forms, trainer grants and learner profiles.
//!
//! Programmes and sessions are stored as JSON with a version: a change reads one, applies a
//! pure change (`neretva_learning::training`) and writes it back under the version read.
//! Attendance is written with the session it marks held, in one transaction. A feedback form is
//! unique per session and user, so a second one is a conflict even from two requests at once.

use neretva_learning::training::{Programme, Session};
use neretva_model::{Timestamp, Uuid};

use crate::StoreError;

/// A stored programme with its version (1 when created, one more with each change).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredProgramme {
    pub programme: Programme,
    pub version: i64,
}

/// A stored session with its version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSession {
    pub session: Session,
    pub version: i64,
}

/// Which sessions to list: of a programme, starting in `[from, to)`.
#[derive(Debug, Clone, Default)]
pub struct SessionQuery {
    pub programme_id: Option<Uuid>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

/// Which participants to list; every given field must match.
#[derive(Debug, Clone, Default)]
pub struct ParticipantQuery {
    pub session_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub org_id: Option<Uuid>,
}

/// The conflict for a programme code in use.
pub fn code_taken(code: &str) -> StoreError {
    StoreError::conflict("code", format!("a programme with the code {code:?} exists already"))
}

/// The conflict for a record changed since it was read.
pub fn changed(what: &str, now: i64, read: i64) -> StoreError {
    StoreError::conflict("version", format!("the {what} changed (version {now} now, {read} read); try again"))
}

/// The conflict for a second registration.
pub fn already_registered() -> StoreError {
    StoreError::conflict("user_id", "the user is registered to the session already")
}

/// The conflict for a full session.
pub fn session_full(capacity: u32) -> StoreError {
    StoreError::conflict("capacity", format!("the session is full ({capacity} participants)"))
}

/// The conflict for registering to a cancelled session.
pub fn session_cancelled() -> StoreError {
    StoreError::conflict("status", "the session was cancelled")
}

/// The conflict for attendance of someone not registered.
pub fn not_registered(user: Uuid) -> StoreError {
    StoreError::conflict("attendance", format!("user {user} is not registered to the session"))
}

/// The conflict for a second feedback form.
pub fn feedback_given() -> StoreError {
    StoreError::conflict(
        "feedback",
        "feedback on this session was submitted already; a form is submitted once",
    )
}

/// The audit action of a session change: `learning.session.cancel` when it cancels the session.
pub fn session_action(old: &Session, new: &Session) -> &'static str {
    use neretva_learning::training::SessionStatus;
    if new.status == SessionStatus::Cancelled && old.status != SessionStatus::Cancelled {
        "learning.session.cancel"
    } else {
        "learning.session.update"
    }
}
