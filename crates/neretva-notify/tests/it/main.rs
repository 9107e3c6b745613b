//! The notification crate through its public interface: digests rendered in every language,
//! and whole messages signed and encrypted, then verified and decrypted with rPGP.

#![allow(clippy::unwrap_used)]

mod message;
mod render;

use std::path::PathBuf;

use neretva_event::Event;

pub(crate) fn test_data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data").join(name)
}

pub(crate) fn key(name: &str) -> String {
    std::fs::read_to_string(test_data("keys").join(name)).unwrap()
}

/// A few events of different kinds, as a feed would give them.
pub(crate) fn events() -> Vec<Event> {
    let rows: &[&[(&str, &str)]] = &[
        &[
            ("time.source", "2026-11-27T08:01:02+00:00"),
            ("classification.type", "infected-system"),
            ("source.ip", "192.0.2.7"),
            ("source.port", "49152"),
            ("destination.ip", "198.51.100.1"),
            ("destination.port", "80"),
            ("malware.name", "emotet"),
            ("feed.name", "shadowserver"),
        ],
        &[
            ("time.source", "2026-11-27T09:30:00+00:00"),
            ("classification.type", "ddos-amplifier"),
            ("source.ip", "192.0.2.53"),
            ("source.port", "53"),
            ("protocol.transport", "udp"),
            ("protocol.application", "dns"),
            ("tlp", "GREEN"),
        ],
        &[
            ("time.source", "2026-11-26T23:59:59+00:00"),
            ("classification.type", "outage"),
            ("source.fqdn", "mail.ep.example.ba"),
            ("comment", "Šifra ćirilica: ђ"),
        ],
    ];
    rows.iter()
        .map(|fields| {
            let mut event = Event::new();
            for (name, text) in fields.iter() {
                event.set(name, text).unwrap();
            }
            event
        })
        .collect()
}
