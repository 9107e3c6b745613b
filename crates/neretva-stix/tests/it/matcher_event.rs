//! Patterns against harmonised feed events.

use expect_test::expect;
use neretva_event::Event;
use neretva_stix::matcher::Matcher;
use neretva_stix::matcher::event::{event_observation, match_event};
use neretva_stix::pattern::Pattern;
use neretva_stix::timestamp::Timestamp;

fn event(fields: &[(&str, &str)]) -> Event {
    let mut event = Event::new();
    for (name, value) in fields {
        event.set(name, value).unwrap();
    }
    event
}

fn now() -> Timestamp {
    Timestamp::parse_stix("2026-01-01T00:00:00Z").unwrap()
}

#[track_caller]
fn matches(pattern: &str, event: &Event) -> bool {
    let matcher = Matcher::new(&Pattern::parse(pattern).unwrap()).unwrap();
    match_event(&matcher, event, now()).unwrap()
}

#[test]
fn an_event_becomes_one_observation() {
    let scan = event(&[
        ("source.ip", "198.51.100.7"),
        ("source.port", "4444"),
        ("source.fqdn", "c2.example.net"),
        ("source.asn", "64500"),
        ("destination.ip", "2001:db8::1"),
        ("destination.port", "443"),
        ("protocol.transport", "tcp"),
        ("malware.hash.sha256", "ab4f1b8b0e1f3c8d6e4f1b8b0e1f3c8d6e4f1b8b0e1f3c8d6e4f1b8b0e1f3c8d"),
        ("time.source", "2025-03-04T05:06:07.123+00:00"),
    ]);
    let bundle = event_observation(&scan, now());
    expect![[r#"{"id":"bundle--00000000-0000-4000-8000-000000000000","objects":[{"created":"2025-03-04T05:06:07.123Z","first_observed":"2025-03-04T05:06:07.123Z","id":"observed-data--00000000-0000-4000-8000-000000000000","last_observed":"2025-03-04T05:06:07.123Z","modified":"2025-03-04T05:06:07.123Z","number_observed":1,"object_refs":["ipv4-addr--00000000-0000-4000-8000-000000000001","domain-name--00000000-0000-4000-8000-000000000002","autonomous-system--00000000-0000-4000-8000-000000000003","ipv6-addr--00000000-0000-4000-8000-000000000004","network-traffic--00000000-0000-4000-8000-000000000005","file--00000000-0000-4000-8000-000000000006"],"spec_version":"2.1","type":"observed-data"},{"id":"ipv4-addr--00000000-0000-4000-8000-000000000001","spec_version":"2.1","type":"ipv4-addr","value":"198.51.100.7"},{"id":"domain-name--00000000-0000-4000-8000-000000000002","resolves_to_refs":["ipv4-addr--00000000-0000-4000-8000-000000000001"],"spec_version":"2.1","type":"domain-name","value":"c2.example.net"},{"id":"autonomous-system--00000000-0000-4000-8000-000000000003","number":64500,"spec_version":"2.1","type":"autonomous-system"},{"id":"ipv6-addr--00000000-0000-4000-8000-000000000004","spec_version":"2.1","type":"ipv6-addr","value":"2001:db8::1"},{"dst_port":443,"dst_ref":"ipv6-addr--00000000-0000-4000-8000-000000000004","id":"network-traffic--00000000-0000-4000-8000-000000000005","protocols":["tcp"],"spec_version":"2.1","src_port":4444,"src_ref":"ipv4-addr--00000000-0000-4000-8000-000000000001","type":"network-traffic"},{"hashes":{"SHA-256":"ab4f1b8b0e1f3c8d6e4f1b8b0e1f3c8d6e4f1b8b0e1f3c8d6e4f1b8b0e1f3c8d"},"id":"file--00000000-0000-4000-8000-000000000006","spec_version":"2.1","type":"file"}],"type":"bundle"}"#]]
    .assert_eq(&bundle.to_string());
    assert!(matches("[ipv4-addr:value ISSUBSET '198.51.100.0/24']", &scan));
    assert!(matches("[domain-name:resolves_to_refs[*].value = '198.51.100.7']", &scan));
    assert!(matches(
        "[network-traffic:src_ref.value = '198.51.100.7' AND network-traffic:dst_port = 443]",
        &scan
    ));
    assert!(matches("[network-traffic:dst_ref.value ISSUBSET '2001:db8::/32']", &scan));
    assert!(matches("[autonomous-system:number = 64500]", &scan));
    assert!(matches(
        "[file:hashes.'SHA-256' = 'ab4f1b8b0e1f3c8d6e4f1b8b0e1f3c8d6e4f1b8b0e1f3c8d6e4f1b8b0e1f3c8d']",
        &scan
    ));
    assert!(matches(
        "[ipv4-addr:value = '198.51.100.7'] START t'2025-03-04T00:00:00Z' STOP t'2025-03-05T00:00:00Z'",
        &scan
    ));
    assert!(!matches(
        "[ipv4-addr:value = '198.51.100.7'] START t'2025-03-05T00:00:00Z' STOP t'2025-03-06T00:00:00Z'",
        &scan
    ));
    assert!(!matches("[url:value LIKE '%']", &scan));
}

#[test]
fn urls_accounts_and_the_fallback_time() {
    let phish =
        event(&[("source.url", "http://login.example.org/a?b=1"), ("source.account", "victim@example.org")]);
    assert!(matches("[url:value = 'http://login.example.org/a?b=1']", &phish));
    assert!(matches("[email-addr:value = 'victim@example.org']", &phish));
    assert!(!matches("[user-account:account_login = 'victim@example.org']", &phish));
    assert!(matches(
        "[url:value LIKE '%example.org%'] START t'2025-12-31T00:00:00Z' STOP t'2026-01-02T00:00:00Z'",
        &phish
    ));
    let login = event(&[("destination.account", "root")]);
    assert!(matches("[user-account:account_login = 'root']", &login));
}
