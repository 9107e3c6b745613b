//! Which queued events an organisation hears about now: due by schedule, not repeats within
//! the suppression window, and, per contact, nothing above the contact's clearance.

use std::collections::{HashMap, HashSet};

use neretva_event::Event;
use neretva_model::tlp::Tlp;
use neretva_model::{Timestamp, Uuid};
use sha2::{Digest as _, Sha256};
use time::Duration;

use crate::schedule::Schedules;

/// One queued (organisation, event) pair with its event.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    /// The queue entry's id in the store.
    pub queue_id: i64,
    pub event_id: Uuid,
    pub queued_at: Timestamp,
    pub event: Event,
}

impl Queued {
    /// The event's classification type, `undetermined` when it has none.
    pub fn classification_type(&self) -> &str {
        self.event.get_str("classification.type").unwrap_or("undetermined")
    }

    /// The event's TLP: its `tlp` field, else `TLP:AMBER+STRICT` (events are the routed
    /// organisations' own business).
    pub fn tlp(&self) -> Tlp {
        event_tlp(&self.event)
    }
}

/// An event's TLP, `TLP:AMBER+STRICT` when it carries none.
pub fn event_tlp(event: &Event) -> Tlp {
    event.get_str("tlp").and_then(|t| t.parse::<Tlp>().ok()).unwrap_or(Tlp::AmberStrict)
}

/// The queued events of one organisation that are due at `now`, and how many wait.
pub fn select_due<'a>(
    org: Uuid,
    queued: &'a [Queued],
    schedules: &Schedules,
    now: Timestamp,
) -> (Vec<&'a Queued>, usize) {
    let mut due = Vec::with_capacity(queued.len());
    let mut waiting = 0;
    for entry in queued {
        if schedules.of(org, entry.classification_type()).is_due(entry.queued_at, now, schedules.hour) {
            due.push(entry);
        } else {
            waiting += 1;
        }
    }
    (due, waiting)
}

/// The fields that make two events "the same" for suppression: the same kind of problem at the
/// same place.
const SUPPRESSION_FIELDS: [&str; 10] = [
    "classification.type",
    "source.ip",
    "source.port",
    "source.fqdn",
    "source.url",
    "destination.ip",
    "destination.port",
    "protocol.transport",
    "protocol.application",
    "malware.name",
];

/// The suppression key of an event for an organisation: 32 hex digits of a SHA-256 over the
/// organisation and [`SUPPRESSION_FIELDS`].
pub fn suppression_key(org: Uuid, event: &Event) -> String {
    let mut hasher = Sha256::new();
    hasher.update(org.as_bytes());
    let mut text = String::new();
    for name in SUPPRESSION_FIELDS {
        text.clear();
        if let Some(value) = event.get(name) {
            value.write_text(&mut text);
        }
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(text.as_bytes());
        hasher.update([0]);
    }
    hex::encode(&hasher.finalize()[..16])
}

/// Due events split into those to send and the repeats to count instead.
#[derive(Debug, Default)]
pub struct Filtered<'a> {
    pub send: Vec<(&'a Queued, String)>,
    pub suppressed: Vec<(&'a Queued, String)>,
}

/// Splits due events: an event whose key was notified at or after `now - window`
/// (`last_notified`), or that repeats an earlier event of the same batch, is suppressed.
pub fn suppress<'a>(
    org: Uuid,
    due: &[&'a Queued],
    last_notified: &HashMap<String, Timestamp>,
    window: Duration,
    now: Timestamp,
) -> Filtered<'a> {
    let since = now - window;
    let mut seen = HashSet::new();
    let mut filtered = Filtered::default();
    for entry in due {
        let key = suppression_key(org, &entry.event);
        let recent = last_notified.get(&key).is_some_and(|at| *at >= since && window > Duration::ZERO);
        if recent || !seen.insert(key.clone()) {
            filtered.suppressed.push((entry, key));
        } else {
            filtered.send.push((entry, key));
        }
    }
    filtered
}

/// The events a contact cleared for `clearance` may receive, and how many are withheld.
pub fn within_clearance<'a>(events: &[&'a Queued], clearance: Tlp) -> (Vec<&'a Queued>, usize) {
    let mut allowed = Vec::with_capacity(events.len());
    let mut withheld = 0;
    for entry in events {
        // TLP:RED goes to named individuals only: a contact mailbox must be cleared for it.
        if entry.tlp() <= clearance {
            allowed.push(*entry);
        } else {
            withheld += 1;
        }
    }
    (allowed, withheld)
}

/// The label of a set of events: the most restrictive of their TLPs.
pub fn digest_tlp<'a>(events: impl IntoIterator<Item = &'a Event>) -> Tlp {
    events.into_iter().map(event_tlp).max().unwrap_or(Tlp::Clear)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::schedule::Schedule;

    fn queued(id: u128, kind: &str, ip: &str, tlp: Option<&str>, queued_at: Timestamp) -> Queued {
        let mut event = Event::new();
        event.set("classification.type", kind).unwrap();
        event.set("source.ip", ip).unwrap();
        if let Some(tlp) = tlp {
            event.set("tlp", tlp).unwrap();
        }
        Queued { queue_id: id as i64, event_id: Uuid::from_u128(id), queued_at, event }
    }

    #[test]
    fn due_by_schedule() {
        let org = Uuid::from_u128(7);
        let at = datetime!(2026-11-25 7:00 UTC);
        let entries = [
            queued(1, "infected-system", "192.0.2.1", None, at),
            queued(2, "scanner", "192.0.2.2", None, at),
        ];
        let schedules = Schedules::default();
        let (due, waiting) = select_due(org, &entries, &schedules, datetime!(2026-11-25 7:05 UTC));
        assert_eq!(due.iter().map(|q| q.queue_id).collect::<Vec<_>>(), [1]);
        assert_eq!(waiting, 1);
        let (due, waiting) = select_due(org, &entries, &schedules, datetime!(2026-11-26 6:00 UTC));
        assert_eq!((due.len(), waiting), (2, 0));
        assert_eq!(schedules.of(org, "scanner"), Schedule::Daily);
    }

    #[test]
    fn repeats_are_suppressed_within_the_window() {
        let org = Uuid::from_u128(7);
        let now = datetime!(2026-11-25 7:00 UTC);
        let entries = [
            queued(1, "scanner", "192.0.2.1", None, now),
            queued(2, "scanner", "192.0.2.1", None, now),
            queued(3, "scanner", "192.0.2.3", None, now),
            queued(4, "scanner", "192.0.2.4", None, now),
        ];
        let due: Vec<&Queued> = entries.iter().collect();
        let mut last = HashMap::new();
        last.insert(suppression_key(org, &entries[2].event), now - Duration::hours(23));
        last.insert(suppression_key(org, &entries[3].event), now - Duration::hours(25));
        let filtered = suppress(org, &due, &last, Duration::hours(24), now);
        let ids = |list: &[(&Queued, String)]| list.iter().map(|(q, _)| q.queue_id).collect::<Vec<_>>();
        assert_eq!(ids(&filtered.send), [1, 4]);
        assert_eq!(ids(&filtered.suppressed), [2, 3]);
        // Another organisation's key differs.
        assert_ne!(
            suppression_key(Uuid::from_u128(8), &entries[0].event),
            suppression_key(org, &entries[0].event)
        );
        // A zero window turns suppression of earlier notifications off.
        let filtered = suppress(org, &due, &last, Duration::ZERO, now);
        assert_eq!(ids(&filtered.send), [1, 3, 4]);
    }

    #[test]
    fn nothing_above_the_clearance() {
        let at = datetime!(2026-11-25 7:00 UTC);
        let entries = [
            queued(1, "scanner", "192.0.2.1", Some("GREEN"), at),
            queued(2, "scanner", "192.0.2.2", None, at),
            queued(3, "scanner", "192.0.2.3", Some("RED"), at),
        ];
        let all: Vec<&Queued> = entries.iter().collect();
        let (allowed, withheld) = within_clearance(&all, Tlp::Amber);
        assert_eq!((allowed.len(), withheld), (1, 2));
        let (allowed, withheld) = within_clearance(&all, Tlp::AmberStrict);
        assert_eq!((allowed.len(), withheld), (2, 1));
        assert_eq!(digest_tlp(allowed.iter().map(|q| &q.event)), Tlp::AmberStrict);
        let (allowed, _) = within_clearance(&all, Tlp::Red);
        assert_eq!(digest_tlp(allowed.iter().map(|q| &q.event)), Tlp::Red);
    }
}
