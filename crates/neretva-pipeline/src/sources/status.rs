//! What each feed's source last did, for the feeds page and `GET /api/v1/feeds`: a failing
//! download stores no report, so the reports alone cannot show that a source stopped working.
//!
//! The running source tasks (`neretva serve`) record every poll, report and failure here, in
//! memory; a process without sources has none. A poll is one look at the source (a directory
//! listing, a conditional download, a walk of a TAXII collection, a Shadowserver report list
//! with its downloads); it failed when anything in it failed.
//!
//! What outlives the process ([`Lasting`]: when the source last looked, last worked and last
//! failed, the failing polls in a row, the `http` source's validators and the messages an `imap`
//! source leaves unseen on purpose) is saved in the store after polls
//! ([`SourceStatus::to_save`]: at once when the failures, validators or left messages changed,
//! else at most every [`SAVE_EVERY`]), and taken up when the source starts again, so a restart
//! neither forgets that a source has been failing for days nor downloads an unchanged file or
//! fetches a message it left before.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use neretva_model::Timestamp;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::sources::http::Validators;

/// How long a source's saved state may lag behind while nothing but its times changed.
pub const SAVE_EVERY: time::Duration = time::Duration::minutes(10);

/// The state of one feed's source.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SourceState {
    /// The source's kind (`directory`, `http`, `file`, `taxii`, `shadowserver-api`, `imap`).
    pub kind: String,
    /// When the source task started.
    #[serde(with = "time::serde::rfc3339::option")]
    pub started_at: Option<Timestamp>,
    /// When the last poll ended.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_poll: Option<Timestamp>,
    /// When the last poll without a failure ended.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_success: Option<Timestamp>,
    /// The last failure, as logged.
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_error_at: Option<Timestamp>,
    /// Polls in a row that failed; 0 once one succeeds.
    pub failing_polls: u64,
    /// Reports the source brought in since it started (new or stored before).
    pub reports: u64,
    /// Failures since it started.
    pub errors: u64,
    /// Whether the poll under way has failed.
    #[serde(skip)]
    failed_this_poll: bool,
    /// The `http` source's last processed download's validators.
    #[serde(skip)]
    validators: Option<KeptValidators>,
    /// The `imap` source's unseen messages it leaves as they are.
    #[serde(skip)]
    left_messages: Option<LeftMessages>,
    /// What was saved last, and when.
    #[serde(skip)]
    saved: Option<(Lasting, Timestamp)>,
}

/// The part of a source's state saved in the store (as JSON, the
/// [`SourceRecord`](neretva_store::feeds::SourceRecord)'s `state`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lasting {
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_poll: Option<Timestamp>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_success: Option<Timestamp>,
    #[serde(default)]
    pub last_error: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_error_at: Option<Timestamp>,
    #[serde(default)]
    pub failing_polls: u64,
    /// The `http` source's validators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<KeptValidators>,
    /// The `imap` source's messages left as they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imap: Option<LeftMessages>,
}

/// The unseen messages an `imap` source leaves as they are (they match none of its filters, are
/// too large, or cannot be read), by the folder's `UIDVALIDITY` and their UIDs, so that after a
/// restart it does not fetch them again (nor report the same failure again). At most
/// [`MAX_LEFT_MESSAGES`] are kept, the newest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftMessages {
    pub uidvalidity: u64,
    pub uids: Vec<u32>,
}

/// The most messages an `imap` source's saved state lists as left (about 11 bytes each of the
/// 64 KiB a state may take); older ones are fetched once more after a restart.
pub const MAX_LEFT_MESSAGES: usize = 2_000;

impl LeftMessages {
    /// The newest [`MAX_LEFT_MESSAGES`] of `uids` of a folder, sorted; `None` when there are none.
    pub fn new(uidvalidity: u64, uids: impl IntoIterator<Item = u32>) -> Option<LeftMessages> {
        let mut uids: Vec<u32> = uids.into_iter().collect();
        uids.sort_unstable();
        uids.dedup();
        uids.drain(..uids.len().saturating_sub(MAX_LEFT_MESSAGES));
        (!uids.is_empty()).then_some(LeftMessages { uidvalidity, uids })
    }
}

/// An `http` source's URL (without its query) and the validators of its last processed
/// download, sent back with the next request to that URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptValidators {
    pub url: String,
    #[serde(flatten)]
    pub validators: Validators,
}

impl Lasting {
    /// Whether saving `self` over `saved` tells more than newer times.
    fn differs_from(&self, saved: &Lasting) -> bool {
        (&self.last_error, self.failing_polls, &self.http, &self.imap)
            != (&saved.last_error, saved.failing_polls, &saved.http, &saved.imap)
    }
}

/// The longest failure message saved, in bytes (a store keeps a state of 64 KiB at most).
const MAX_SAVED_ERROR: usize = 4_096;

/// `text` cut to at most `max` bytes, at a character's start.
fn shortened(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl SourceState {
    /// How many unseen messages an `imap` source leaves as they are (matching none of its
    /// filters, too large, or unreadable), so a provider that changed its subject line shows.
    pub fn messages_left(&self) -> usize {
        self.left_messages.as_ref().map_or(0, |left| left.uids.len())
    }

    fn lasting(&self) -> Lasting {
        Lasting {
            last_poll: self.last_poll,
            last_success: self.last_success,
            last_error: self.last_error.as_deref().map(|error| shortened(error, MAX_SAVED_ERROR).to_owned()),
            last_error_at: self.last_error_at,
            failing_polls: self.failing_polls,
            http: self.validators.clone(),
            imap: self.left_messages.clone(),
        }
    }
}

/// The states of all sources, by feed name, and a way to have a running one look now.
#[derive(Debug, Default)]
pub struct SourceStatus {
    feeds: Mutex<BTreeMap<String, SourceState>>,
    wakers: Mutex<BTreeMap<String, Arc<Notify>>>,
}

impl SourceStatus {
    /// Asks the feed's running source to look now instead of at its next scheduled poll (a
    /// watched directory looks twice, a second apart, so a new file is read). False when no
    /// source of that feed runs in this process.
    pub fn wake(&self, feed: &str) -> bool {
        let wakers = self.wakers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        wakers.get(feed).map(|waker| waker.notify_one()).is_some()
    }

    /// Whether a source of `feed` runs on a schedule that [`SourceStatus::wake`] can cut short
    /// (a file source reads its file once and is done).
    pub fn wakeable(&self, feed: &str) -> bool {
        self.wakers.lock().unwrap_or_else(std::sync::PoisonError::into_inner).contains_key(feed)
    }

    /// What a running source of `feed` waits on besides its schedule.
    pub(crate) fn waker(&self, feed: &str) -> Arc<Notify> {
        let mut wakers = self.wakers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(wakers.entry(feed.to_owned()).or_default())
    }

    /// Every source's state, by feed name.
    pub fn snapshot(&self) -> BTreeMap<String, SourceState> {
        self.lock().clone()
    }

    /// One feed's source state, if it has a running source.
    pub fn get(&self, feed: &str) -> Option<SourceState> {
        self.lock().get(feed).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, SourceState>> {
        // A panic while holding the lock leaves plain counters behind; they are still usable.
        self.feeds.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn update(&self, feed: &str, change: impl FnOnce(&mut SourceState)) {
        change(self.lock().entry(feed.to_owned()).or_default());
    }

    /// A source starts, taking up what its last run saved (`restored`, saved at `saved_at`).
    pub(crate) fn started(
        &self,
        feed: &str,
        kind: &str,
        now: Timestamp,
        restored: Option<(Lasting, Timestamp)>,
    ) {
        self.update(feed, |state| {
            *state = SourceState { kind: kind.to_owned(), started_at: Some(now), ..SourceState::default() };
            if let Some((lasting, saved_at)) = restored {
                state.last_poll = lasting.last_poll;
                state.last_success = lasting.last_success;
                state.last_error.clone_from(&lasting.last_error);
                state.last_error_at = lasting.last_error_at;
                state.failing_polls = lasting.failing_polls;
                state.validators.clone_from(&lasting.http);
                state.left_messages.clone_from(&lasting.imap);
                state.saved = Some((lasting, saved_at));
            }
        });
    }

    /// The validators an `http` source of `url` remembered, saved or in this run.
    pub(crate) fn validators(&self, feed: &str, url: &str) -> Option<Validators> {
        let states = self.lock();
        let kept = states.get(feed)?.validators.as_ref()?;
        (kept.url == url).then(|| kept.validators.clone())
    }

    /// Remembers an `http` source's validators, to be saved with its state.
    pub(crate) fn keep_validators(&self, feed: &str, url: &str, validators: Validators) {
        self.update(feed, |state| {
            state.validators = Some(KeptValidators { url: url.to_owned(), validators })
        });
    }

    /// The messages an `imap` source left as they are, saved or in this run.
    pub(crate) fn left_messages(&self, feed: &str) -> Option<LeftMessages> {
        self.lock().get(feed)?.left_messages.clone()
    }

    /// Remembers the messages an `imap` source leaves, to be saved with its state.
    pub(crate) fn keep_left_messages(&self, feed: &str, left: Option<LeftMessages>) {
        self.update(feed, |state| state.left_messages = left);
    }

    /// What to save of the feed's source after a poll ending at `now`, if anything: when the
    /// failures, validators or left messages changed since the last save, or that save is
    /// [`SAVE_EVERY`] old. It counts as saved; [`SourceStatus::save_failed`] says otherwise.
    pub(crate) fn to_save(&self, feed: &str, now: Timestamp) -> Option<Lasting> {
        let mut states = self.lock();
        let state = states.get_mut(feed)?;
        let lasting = state.lasting();
        let due = match &state.saved {
            None => true,
            Some((saved, saved_at)) => lasting.differs_from(saved) || now - *saved_at >= SAVE_EVERY,
        };
        due.then(|| {
            state.saved = Some((lasting.clone(), now));
            lasting
        })
    }

    /// A save [`SourceStatus::to_save`] asked for failed: the next poll tries again.
    pub(crate) fn save_failed(&self, feed: &str) {
        self.update(feed, |state| state.saved = None);
    }

    pub(crate) fn report(&self, feed: &str) {
        self.update(feed, |state| state.reports += 1);
    }

    pub(crate) fn failed(&self, feed: &str, error: String, now: Timestamp) {
        self.update(feed, |state| {
            state.errors += 1;
            state.last_error = Some(error);
            state.last_error_at = Some(now);
            state.failed_this_poll = true;
        });
    }

    /// Ends a poll: a success unless something failed since the last one ended.
    pub(crate) fn polled(&self, feed: &str, now: Timestamp) {
        self.update(feed, |state| {
            state.last_poll = Some(now);
            if std::mem::take(&mut state.failed_this_poll) {
                state.failing_polls += 1;
            } else {
                state.failing_polls = 0;
                state.last_success = Some(now);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn polls_fail_in_a_row_until_one_succeeds() {
        let status = SourceStatus::default();
        let (t0, t1, t2, t3) = (
            datetime!(2026-11-30 08:00 UTC),
            datetime!(2026-11-30 09:00 UTC),
            datetime!(2026-11-30 10:00 UTC),
            datetime!(2026-11-30 11:00 UTC),
        );
        status.started("ss", "shadowserver-api", t0, None);
        status.report("ss");
        status.polled("ss", t0);
        status.failed("ss", "https://dl.example/x: the server answered 500".into(), t1);
        status.failed("ss", "https://dl.example/y: the server answered 502".into(), t1);
        status.polled("ss", t1);
        status.failed("ss", "the API answered with an error: Invalid HMAC".into(), t2);
        status.polled("ss", t2);
        let state = status.get("ss").unwrap();
        assert_eq!((state.failing_polls, state.errors, state.reports), (2, 3, 1));
        assert_eq!(
            (state.last_poll, state.last_success, state.last_error_at),
            (Some(t2), Some(t0), Some(t2))
        );
        assert_eq!(state.last_error.as_deref(), Some("the API answered with an error: Invalid HMAC"));
        status.polled("ss", t3);
        let state = status.get("ss").unwrap();
        assert_eq!((state.failing_polls, state.last_success), (0, Some(t3)));
        assert_eq!(state.last_error_at, Some(t2), "the last failure stays visible");
        assert_eq!(status.snapshot().len(), 1);
        assert!(status.get("other").is_none());
        let json = serde_json::to_value(&state).unwrap();
        assert_eq!(json["last_success"], "2026-11-30T11:00:00Z");
        assert!(json.get("failed_this_poll").is_none());
    }

    #[test]
    fn what_lasts_is_saved_when_it_changes_and_taken_up_again() {
        let status = SourceStatus::default();
        let t0 = datetime!(2026-11-30 08:00 UTC);
        status.started("abuse", "http", t0, None);
        let validators = Validators { etag: Some("\"v1\"".into()), last_modified: None };
        status.keep_validators("abuse", "https://feeds.example/list.csv", validators.clone());
        status.polled("abuse", t0);
        let first = status.to_save("abuse", t0).unwrap();
        assert_eq!(
            (first.http.as_ref().and_then(|kept| kept.validators.etag.as_deref()), first.last_success),
            (Some("\"v1\""), Some(t0))
        );
        // Only newer times: not saved again before SAVE_EVERY has passed.
        let t1 = t0 + time::Duration::minutes(5);
        status.polled("abuse", t1);
        assert_eq!(status.to_save("abuse", t1), None);
        let t2 = t0 + SAVE_EVERY;
        status.polled("abuse", t2);
        assert_eq!(status.to_save("abuse", t2).unwrap().last_success, Some(t2));
        // A failure is saved at once, and again after a failed save.
        let t3 = t2 + time::Duration::minutes(1);
        status.failed("abuse", "https://feeds.example/list.csv: the server answered 503".into(), t3);
        status.polled("abuse", t3);
        let failing = status.to_save("abuse", t3).unwrap();
        assert_eq!(failing.failing_polls, 1);
        status.save_failed("abuse");
        assert_eq!(status.to_save("abuse", t3), Some(failing.clone()));
        assert_eq!(status.to_save("abuse", t3), None);

        // The next run starts from the saved document.
        let json = serde_json::to_string(&failing).unwrap();
        let restored: Lasting = serde_json::from_str(&json).unwrap();
        assert_eq!(restored, failing);
        let again = SourceStatus::default();
        let t4 = t3 + time::Duration::minutes(1);
        again.started("abuse", "http", t4, Some((restored, t3)));
        let state = again.get("abuse").unwrap();
        assert_eq!((state.failing_polls, state.last_success, state.reports), (1, Some(t2), 0));
        assert_eq!(state.started_at, Some(t4));
        assert_eq!(again.validators("abuse", "https://feeds.example/list.csv"), Some(validators));
        assert_eq!(again.validators("abuse", "https://feeds.example/other.csv"), None);
        assert_eq!(again.to_save("abuse", t4), None, "nothing new since the saved state");
        assert_eq!((shortened("Izvještaj", 6), shortened("Izvještaj", 7)), ("Izvje", "Izvješ"));
        assert_eq!(shortened("ok", 4_096), "ok");
        // Older documents lack fields; they default.
        let bare: Lasting = serde_json::from_str("{}").unwrap();
        assert_eq!(bare, Lasting::default());
    }

    #[test]
    fn messages_left_are_saved_at_once_and_taken_up_again() {
        assert_eq!(LeftMessages::new(7, []), None);
        let left = LeftMessages::new(7, [9, 3, 9]).unwrap();
        assert_eq!(left, LeftMessages { uidvalidity: 7, uids: vec![3, 9] });
        // Only the newest are kept, so a saved state stays well within its 64 KiB.
        let many = LeftMessages::new(7, 1..=5_000).unwrap();
        assert_eq!(many.uids.len(), MAX_LEFT_MESSAGES);
        assert_eq!((many.uids[0], many.uids[MAX_LEFT_MESSAGES - 1]), (3_001, 5_000));
        let most = Lasting { imap: Some(many), last_error: Some("x".repeat(4_096)), ..Lasting::default() };
        assert!(serde_json::to_string(&most).unwrap().len() < 32 * 1024);

        let status = SourceStatus::default();
        let t0 = datetime!(2026-11-30 08:00 UTC);
        status.started("mail", "imap", t0, None);
        status.polled("mail", t0);
        assert_eq!(status.to_save("mail", t0).unwrap().imap, None);
        // A message left is saved with the next poll, not ten minutes later.
        let t1 = t0 + time::Duration::minutes(1);
        status.keep_left_messages("mail", Some(left.clone()));
        status.polled("mail", t1);
        let saved = status.to_save("mail", t1).unwrap();
        assert_eq!(saved.imap.as_ref(), Some(&left));
        let restored: Lasting = serde_json::from_str(&serde_json::to_string(&saved).unwrap()).unwrap();
        let again = SourceStatus::default();
        again.started("mail", "imap", t1, Some((restored, t1)));
        assert_eq!(again.left_messages("mail"), Some(left));
        assert_eq!(again.get("mail").map(|state| state.messages_left()), Some(2));
        // None left any more (read, or gone): saved at once too.
        let t2 = t1 + time::Duration::minutes(1);
        again.keep_left_messages("mail", None);
        again.polled("mail", t2);
        assert_eq!(again.to_save("mail", t2).map(|lasting| lasting.imap), Some(None));
    }
}
