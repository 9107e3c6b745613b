//! Benchmark: the daily digests of many organisations, built and signed (and, for every other
//! organisation, encrypted to its contact), on one thread.
//!
//! `cargo run --release -p neretva-notify --example notify_bench -- [ORGS] [EVENTS_PER_ORG]`
//! (default 1,000 organisations × 1,000 events). Events are made per organisation, as the
//! notifier reads an organisation's queue, so memory holds one organisation's events at a time.
//! Prints the wall and CPU time, the bytes of mail produced and the peak resident memory.

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::time::Instant;

use neretva_event::Event;
use neretva_model::contact::Language;
use neretva_model::tlp::Tlp;
use neretva_notify::mime::Mailbox;
use neretva_notify::openpgp::{RecipientKey, Signer};
use neretva_notify::render::{DigestInput, Overrides, Renderer};
use neretva_notify::{Envelope, compose, digest_content};
use rand::SeedableRng;
use rand::rngs::StdRng;

const TYPES: [&str; 8] = [
    "infected-system",
    "scanner",
    "ddos-amplifier",
    "potentially-unwanted-accessible",
    "vulnerable-system",
    "brute-force",
    "phishing",
    "information-disclosure",
];

fn events(org: u32, count: u32) -> Vec<Event> {
    (0..count)
        .map(|i| {
            let mut event = Event::new();
            let kind = TYPES[(i as usize + org as usize) % TYPES.len()];
            event.set("classification.type", kind).unwrap();
            event.classify();
            event.set("source.ip", &format!("10.{}.{}.{}", org % 250, (i / 250) % 250, i % 250)).unwrap();
            event.set("source.port", &(1024 + i % 60000).to_string()).unwrap();
            event.set("source.asn", &(64500 + org % 500).to_string()).unwrap();
            event
                .set(
                    "time.source",
                    &format!("2026-11-27T{:02}:{:02}:{:02}+00:00", i % 24, i % 60, (i * 7) % 60),
                )
                .unwrap();
            event.set("time.observation", "2026-11-27T23:00:00+00:00").unwrap();
            event.set("feed.name", "shadowserver").unwrap();
            event.set("feed.provider", "Shadowserver").unwrap();
            event.set("protocol.transport", "tcp").unwrap();
            event.set("protocol.application", "smb").unwrap();
            event.set_raw(format!("\"2026-11-27 {i}\",\"10.{org}.0.{i}\",445,tcp,smb").as_bytes());
            event
        })
        .collect()
}

/// Peak resident memory in KiB (Linux), read from `/proc/self/status`.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn cpu_seconds() -> f64 {
    // utime + stime of this process, in clock ticks (100 per second on Linux).
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
            Some((fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?) / 100.0)
        })
        .unwrap_or(0.0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let orgs: u32 = args.next().map_or(1000, |a| a.parse().unwrap());
    let per_org: u32 = args.next().map_or(1000, |a| a.parse().unwrap());
    let keys = concat!(env!("CARGO_MANIFEST_DIR"), "/test_data/keys/");
    let signer = Signer::from_armored(
        &std::fs::read_to_string(format!("{keys}cert-secret.asc")).unwrap(),
        "correct horse battery staple",
    )
    .unwrap();
    let now = time::OffsetDateTime::now_utc();
    let key =
        RecipientKey::parse(&std::fs::read_to_string(format!("{keys}contact-public.asc")).unwrap(), now)
            .unwrap();
    let renderer = Renderer::new(&Overrides::new()).unwrap();
    let from = Mailbox { name: Some("CERT".into()), address: "cert@cert.example.ba".into() };
    let mut rng = StdRng::seed_from_u64(1);

    let started = Instant::now();
    let cpu_start = cpu_seconds();
    let (mut bytes, mut events_total, mut make_time) = (0usize, 0u64, std::time::Duration::ZERO);
    let mut render_time = std::time::Duration::ZERO;
    for org in 0..orgs {
        let made = Instant::now();
        let events = events(org, per_org);
        make_time += made.elapsed();
        events_total += events.len() as u64;
        let refs: Vec<&Event> = events.iter().collect();
        let name = format!("Organisation {org}");
        let input = DigestInput {
            cert: "CERT",
            org: &name,
            org_short: "ORG",
            language: Language::ALL[org as usize % Language::ALL.len()],
            tlp: Tlp::AmberStrict,
            events: &refs,
            suppressed: 0,
        };
        let rendering = Instant::now();
        let content = digest_content(&renderer, &input).unwrap();
        render_time += rendering.elapsed();
        let to = Mailbox { name: Some("Abuse".into()), address: format!("abuse@org{org}.example.ba") };
        let message_id = format!("bench-{org}@cert.example.ba");
        let envelope = Envelope { from: &from, to: &to, message_id: &message_id, date: now };
        let encrypt = (org % 2 == 1).then_some(&key);
        let raw = compose(&mut rng, &content, &envelope, &signer, encrypt).unwrap();
        bytes += raw.len();
    }
    let elapsed = started.elapsed();
    let cpu = cpu_seconds() - cpu_start;
    println!(
        "organisations={orgs} events={events_total} wall_s={:.2} cpu_s={cpu:.2} event_generation_s={:.2} \
         render_s={:.2} compose_s={:.2} mail_bytes={bytes} peak_rss_mib={:.1}",
        elapsed.as_secs_f64(),
        make_time.as_secs_f64(),
        render_time.as_secs_f64(),
        (elapsed - make_time - render_time).as_secs_f64(),
        peak_rss_kib().unwrap_or(0) as f64 / 1024.0,
    );
}
