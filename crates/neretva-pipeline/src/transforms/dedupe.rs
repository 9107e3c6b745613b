//! `dedupe`: the key that identifies an event for deduplication.

use neretva_event::{Event, Value};
use sha2::{Digest, Sha256};

/// SHA-256 (hex) of the key fields' names and values. With no fields configured, every field
/// except `time.observation` and `raw` is part of the key, as in IntelMQ's deduplicator.
pub fn key(event: &Event, fields: &[String]) -> String {
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
    if fields.is_empty() {
        for (name, value) in event.iter() {
            if name != "time.observation" && name != "raw" {
                feed(name, Some(value));
            }
        }
    } else {
        for name in fields {
            feed(name, event.get(name));
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
        assert_eq!(key(&a, &[]), key(&b, &[]));
        b.set("source.port", "53").unwrap();
        assert_ne!(key(&a, &[]), key(&b, &[]));
        let only_ip = ["source.ip".to_owned()];
        assert_eq!(key(&a, &only_ip), key(&b, &only_ip));
    }
}
