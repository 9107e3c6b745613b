//! What each feed's source last did, for the feeds page and `GET /api/v1/feeds`: a failing
//! download stores no report, so the reports alone cannot show that a source stopped working.
//!
//! The running source tasks (`neretva serve`) record every poll, report and failure here, in
//! memory; a process without sources has none. A poll is one look at the source (a directory
//! listing, a conditional download, a walk of a TAXII collection, a Shadowserver report list
//! with its downloads); it failed when anything in it failed.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use neretva_model::Timestamp;
use serde::Serialize;
use tokio::sync::Notify;

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

    pub(crate) fn started(&self, feed: &str, kind: &str, now: Timestamp) {
        self.update(feed, |state| {
            *state = SourceState { kind: kind.to_owned(), started_at: Some(now), ..SourceState::default() };
        });
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
        status.started("ss", "shadowserver-api", t0);
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
}
