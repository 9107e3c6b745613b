//! `dedupe`: the key that identifies an event for deduplication.

use neretva_event::{Event, Value};
use sha2::{Digest, Sha256};

/// Which fields make an event's key: IntelMQ's deduplicator's `filter_type` `whitelist`
/// (`Only`) or `blacklist` (`AllBut`), with `filter_keys` as the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyFields {
    /// These fields and members, present or absent.
    Only(Vec<String>),
    /// Every field and member present except these (IntelMQ's default: `raw` and
    /// `time.observation`).
    AllBut(Vec<String>),
}

impl Default for KeyFields {
    fn default() -> KeyFields {
        KeyFields::AllBut(vec!["raw".to_owned(), "time.observation".to_owned()])
    }
}

/// SHA-256 (hex) of the key fields' names and values.
pub fn key(event: &Event, fields: &KeyFields) -> String {
    let mut hasher = Sha256::new();
    let mut text = String::new();
    let mut feed = |name: &str, value: Option<&Value>| {
        text.clear();
        match value {
            Some(value) => value.write_text(&mut text),
            None => text.push_str("\u{0}absent"),
        }
        hasher.update((name.len() as u32).to_be_bytes());
        hasher.update(name.as_bytes());
        hasher.update((text.len() as u32).to_be_bytes());
        hasher.update(text.as_bytes());
    };
    match fields {
        KeyFields::AllBut(ignored) => {
            for (name, value) in event.iter() {
                if !ignored.iter().any(|ignored| ignored == name) {
                    feed(name, Some(value));
                }
            }
        }
        KeyFields::Only(fields) => {
            for name in fields {
                feed(name, event.get(name));
            }
        }
    }
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_observation_time_and_follow_configured_fields() {
        let mut a = Event::new();
        a.set("source.ip", "192.0.2.1").unwrap();
        a.set("time.observation", "2026-01-01T00:00:00+00:00").unwrap();
        let mut b = a.clone();
        b.set("time.observation", "2026-01-02T00:00:00+00:00").unwrap();
        let all = KeyFields::default();
        assert_eq!(key(&a, &all), key(&b, &all));
        b.set("source.port", "53").unwrap();
        assert_ne!(key(&a, &all), key(&b, &all));
        let only_ip = KeyFields::Only(vec!["source.ip".to_owned()]);
        assert_eq!(key(&a, &only_ip), key(&b, &only_ip));
        let but_port = KeyFields::AllBut(vec![
            "time.observation".to_owned(),
            "raw".to_owned(),
            "source.port".to_owned(),
        ]);
        assert_eq!(key(&a, &but_port), key(&b, &but_port));
        // An absent key field differs from every value.
        let mut c = Event::new();
        c.set("destination.ip", "192.0.2.9").unwrap();
        assert_ne!(key(&a, &only_ip), key(&c, &only_ip));
    }

    /// The key of the default is the key deduplication used before `KeyFields` existed, so keys
    /// stored then still find their repeats.
    #[test]
    fn the_default_key_is_unchanged() {
        let mut event = Event::new();
        event.set("source.ip", "192.0.2.1").unwrap();
        event.set("time.observation", "2026-01-01T00:00:00+00:00").unwrap();
        event.set("extra.port_note", "x").unwrap();
        expect_test::expect!["9287505cc392b5b35f22911369ece65b5777423a23cc273df26fbd16349ff094"]
            .assert_eq(&key(&event, &KeyFields::default()));
    }
}
