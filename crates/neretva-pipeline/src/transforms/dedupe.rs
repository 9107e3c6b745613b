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

/// SHA-256 (hex) of the key fields' names and values (see [`Keys::digest`]).
pub fn key(event: &Event, fields: &KeyFields) -> String {
    hex(&Keys::default().digest(event, fields))
}

/// Lower-case hex, as keys are stored.
pub fn hex(digest: &[u8; 32]) -> String {
    // Into a buffer of the exact size: `hex::encode` pushes one character at a time.
    let mut out = [0u8; 64];
    let _ = hex::encode_to_slice(digest, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Computes keys event after event, keeping its buffers from one to the next.
#[derive(Debug, Default)]
pub struct Keys {
    /// What is hashed.
    input: Vec<u8>,
    /// A value's text, for values that are not text already.
    text: String,
}

impl Keys {
    /// SHA-256 over each key field in turn: the length of its name (four bytes, big-endian), the
    /// name, the length of its text and the text; an absent field's text is NUL and `absent`.
    /// The input is gathered first and hashed at once, which costs less than hashing its many
    /// small pieces one by one.
    pub fn digest(&mut self, event: &Event, fields: &KeyFields) -> [u8; 32] {
        let Keys { input, text } = self;
        input.clear();
        let mut add = |name: &str, value: Option<&Value>| {
            let value_text = match value {
                Some(Value::Str(value)) => value.as_bytes(),
                Some(value) => {
                    text.clear();
                    value.write_text(text);
                    text.as_bytes()
                }
                None => "\u{0}absent".as_bytes(),
            };
            input.extend_from_slice(&(name.len() as u32).to_be_bytes());
            input.extend_from_slice(name.as_bytes());
            input.extend_from_slice(&(value_text.len() as u32).to_be_bytes());
            input.extend_from_slice(value_text);
        };
        match fields {
            KeyFields::AllBut(ignored) => {
                for (name, value) in event.iter() {
                    if !ignored.iter().any(|ignored| ignored == name) {
                        add(name, Some(value));
                    }
                }
            }
            KeyFields::Only(fields) => {
                for name in fields {
                    add(name, event.get(name));
                }
            }
        }
        Sha256::digest(input.as_slice()).into()
    }
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

    /// The key as first defined, hashing each piece as it comes and each value's `Display` form:
    /// gathering the input and writing values' texts without formatting must not change it.
    #[test]
    fn keys_are_the_hash_of_each_field_in_turn() {
        let mut event = Event::new();
        for (field, value) in [
            ("source.ip", "192.0.2.10"),
            ("destination.ip", "2001:db8::7"),
            ("source.network", "192.0.2.0/24"),
            ("source.port", "53"),
            ("source.geolocation.latitude", "48.2"),
            ("time.source", "2026-03-01T16:55:42.5+02:00"),
            ("source.fqdn", "example.org"),
            ("extra.amplification", "1.5"),
            ("extra.list", "[1, \"é\", {\"b\": true, \"a\": null}]"),
            ("extra.flag", "true"),
        ] {
            event.set(field, value).unwrap();
        }
        let reference = |fields: &[(&str, Option<String>)]| {
            let mut hasher = Sha256::new();
            for (name, text) in fields {
                let text = text.clone().unwrap_or_else(|| "\u{0}absent".to_owned());
                hasher.update((name.len() as u32).to_be_bytes());
                hasher.update(name.as_bytes());
                hasher.update((text.len() as u32).to_be_bytes());
                hasher.update(text.as_bytes());
            }
            hex(&hasher.finalize().into())
        };
        let all: Vec<(&str, Option<String>)> =
            event.iter().map(|(name, value)| (name, Some(value.to_string()))).collect();
        assert_eq!(all.len(), 10);
        let mut keys = Keys::default();
        assert_eq!(hex(&keys.digest(&event, &KeyFields::AllBut(Vec::new()))), reference(&all));
        let only = KeyFields::Only(vec!["source.port".to_owned(), "source.asn".to_owned()]);
        assert_eq!(
            hex(&keys.digest(&event, &only)),
            reference(&[("source.port", Some("53".to_owned())), ("source.asn", None)])
        );
        // The buffers kept from the last event change nothing.
        assert_eq!(key(&event, &KeyFields::AllBut(Vec::new())), reference(&all));
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
