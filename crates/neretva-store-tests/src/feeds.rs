//! Stories of the feed pipeline's storage: raw reports and their errors, events and their
//! filters, deduplication and the notification queue.

use std::net::IpAddr;
use std::sync::Arc;

use neretva_model::Timestamp;
use neretva_model::audit::digest_hex;
use neretva_net::Cidr;
use neretva_store::feeds::{
    BatchDedup, DedupKey, EventBatch, EventQuery, NewEvent, NewReport, ReportCounts, ReportError,
    ReportQuery, ReportStatus, SOURCE_RECORD_MAX_BYTES, SourceRecord,
};
use neretva_store::{AuditQuery, Store, verify_audit};
use uuid::Uuid;

use crate::{Harness, assert_chain_intact, assert_conflict, assert_not_found, at};

// Fixtures.

/// The stories' epoch for ids, in unix milliseconds.
const ID_EPOCH: u64 = 1_796_000_000_000;

/// A UUID v7 of a fixed instant `n` milliseconds after the stories' epoch: ids made with a
/// larger `n` sort after.
pub fn ordered_id(n: u64) -> Uuid {
    uuid::Builder::from_unix_timestamp_millis(ID_EPOCH + n, &[0x5a; 10]).into_uuid()
}

/// The `n` of an event id made by `new_event(n, ...)`.
fn event_number(id: Uuid) -> u64 {
    let millis = u64::try_from(id.as_u128() >> 80).unwrap_or(0);
    let n = millis.saturating_sub(ID_EPOCH + 1_000);
    assert_eq!(ordered_id(1_000 + n), id, "not an event id of the stories");
    n
}

/// A raw report of a feed, with its SHA-256.
pub fn new_report(n: u64, feed: &str, data: &[u8]) -> NewReport {
    NewReport {
        id: ordered_id(n),
        feed: feed.into(),
        parser: "generic_csv".into(),
        source: format!("https://feeds.example.org/{feed}.csv"),
        received_at: at(0),
        sha256: digest_hex(data),
        data: data.to_vec(),
    }
}

/// A plain event of a report; stories set the fields they filter on.
pub fn new_event(n: u64, report_id: Uuid, feed: &str) -> NewEvent {
    NewEvent {
        id: ordered_id(1_000 + n),
        ..NewEvent::new(
            report_id,
            feed,
            n + 1,
            format!("line {n},192.0.2.1,scan"),
            at(0),
            format!(r#"{{"feed.name": "{feed}", "raw": "line {n}"}}"#),
        )
    }
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap_or_else(|error| panic!("bad address {text:?}: {error}"))
}

fn cidr(text: &str) -> Cidr {
    text.parse().unwrap_or_else(|error| panic!("bad network {text:?}: {error}"))
}

/// The organisations of the event stories, in ascending order.
fn org(n: u128) -> Uuid {
    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + n)
}

/// A deduplication key named `name`, seen by the report `ordered_id(report)`.
fn key(name: &str, seen_at: Timestamp, report: u64) -> DedupKey {
    DedupKey { key: digest_hex(name.as_bytes()), seen_at, report_id: ordered_id(report) }
}

fn report_error(line: u64, field: Option<&str>, message: &str) -> ReportError {
    ReportError {
        line,
        field: field.map(str::to_owned),
        message: message.into(),
        raw: format!("raw line {line}"),
    }
}

/// The ids of events, newest first as queries return them, as their `ordered_id` numbers.
async fn query(store: &dyn Store, query: EventQuery) -> Vec<u64> {
    let events = store.query_events(&query).await.expect("query events");
    events.iter().map(|stored| event_number(stored.event.id)).collect()
}

async fn actions(store: &dyn Store) -> Vec<(String, String, String, String)> {
    store
        .list_audit(&AuditQuery { limit: 1000, ..AuditQuery::default() })
        .await
        .expect("audit")
        .into_iter()
        .map(|entry| (entry.event.actor, entry.event.action, entry.event.object_id, entry.event.digest))
        .collect()
}

// Stories.

/// Reports: stored once per feed and content, listed newest first, finished with their errors,
/// re-finished with new ones; storing is audited.
pub async fn feed_reports(store: &dyn Store) {
    let mut first = new_report(1, "shadowserver-scan", b"ip,port\n192.0.2.1,53\n");
    first.source = "upload:ana".into();
    let (info, stored) = store.store_report(&first).await.expect("store");
    assert!(stored);
    assert_eq!(
        (info.id, info.feed.as_str(), info.parser.as_str()),
        (first.id, "shadowserver-scan", "generic_csv")
    );
    assert_eq!((info.source.as_str(), info.received_at, info.size), ("upload:ana", at(0), 21));
    assert_eq!(info.sha256, first.sha256);
    assert_eq!(info.status, ReportStatus::Received);
    assert_eq!(info.counts, ReportCounts::default());
    assert_eq!((info.parsed_at, info.failure.as_deref()), (None, None));
    assert_eq!(store.get_report(first.id).await.expect("get"), Some(info.clone()));
    assert_eq!(store.report_data(first.id).await.expect("data").as_deref(), Some(&first.data[..]));

    // The same content of the same feed is stored once; another feed stores its own copy.
    let again = new_report(2, "shadowserver-scan", &first.data);
    assert_eq!(store.store_report(&again).await.expect("store again"), (info.clone(), false));
    assert_eq!(store.get_report(again.id).await.expect("get"), None);
    let other_feed = new_report(3, "other-scan", &first.data);
    let (other_info, stored) = store.store_report(&other_feed).await.expect("store");
    assert!(stored);
    assert_eq!(other_info.sha256, info.sha256);

    // Large binary data comes back byte for byte; empty data too.
    let big: Vec<u8> =
        (0..3 * 1024 * 1024 + 17).map(|index: u32| (index.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let big_report = new_report(4, "big", &big);
    assert!(store.store_report(&big_report).await.expect("store big").1);
    let read = store.report_data(big_report.id).await.expect("data");
    assert!(read.as_deref() == Some(&big[..]), "big data round trip");
    let empty = new_report(5, "empty", b"");
    assert!(store.store_report(&empty).await.expect("store empty").1);
    assert_eq!(store.report_data(empty.id).await.expect("data"), Some(Vec::new()));
    assert_eq!(store.report_data(Uuid::new_v4()).await.expect("data"), None);

    // A stored id with other content is a conflict.
    let mut clash = new_report(1, "shadowserver-scan", b"different");
    clash.id = first.id;
    assert_conflict(store.store_report(&clash).await, "id");

    // Newest first, by feed, paged.
    let ids = |reports: Vec<neretva_store::feeds::ReportInfo>| {
        reports.into_iter().map(|report| report.id).collect::<Vec<_>>()
    };
    let list = |query: ReportQuery| async move { store.list_reports(&query).await.expect("list") };
    assert_eq!(ids(list(ReportQuery::default()).await), [empty.id, big_report.id, other_feed.id, first.id]);
    let by_feed =
        list(ReportQuery { feed: Some("shadowserver-scan".into()), ..ReportQuery::default() }).await;
    assert_eq!(by_feed, std::slice::from_ref(&info));
    assert_eq!(
        ids(list(ReportQuery { before: Some(big_report.id), ..ReportQuery::default() }).await),
        [other_feed.id, first.id]
    );
    assert_eq!(
        ids(list(ReportQuery { limit: 2, ..ReportQuery::default() }).await),
        [empty.id, big_report.id]
    );

    // Finishing records the counts and the errors, ordered by line and then as given.
    let counts = ReportCounts { records: 10, events: 4, errors: 4, duplicates: 1, dropped: 1 };
    let mut garbled = report_error(3, None, "not UTF-8");
    garbled.raw = "a\0b".into();
    let errors = vec![
        report_error(7, Some("source.ip"), "not an address"),
        report_error(3, Some("time.source"), "not a time"),
        garbled,
        report_error(2, None, "too few columns"),
    ];
    let finished = store.finish_report(first.id, counts, &errors, None, at(60)).await.expect("finish");
    assert_eq!(finished.status, ReportStatus::Parsed);
    assert_eq!(finished.counts, counts);
    assert_eq!((finished.parsed_at, finished.failure.as_deref()), (Some(at(60)), None));
    assert_eq!(store.get_report(first.id).await.expect("get"), Some(finished.clone()));
    let stored_errors = store.report_errors(first.id, 0).await.expect("errors");
    let mut expected = vec![errors[3].clone(), errors[1].clone(), errors[2].clone(), errors[0].clone()];
    expected[2].raw = "a\u{fffd}b".into();
    assert_eq!(stored_errors, expected);
    assert_eq!(store.report_errors(first.id, 2).await.expect("errors"), expected[..2]);
    assert_eq!(store.report_errors(other_feed.id, 0).await.expect("errors"), []);

    // Finishing again replaces the errors; a failure fails the report.
    let refinished = store
        .finish_report(
            first.id,
            ReportCounts { records: 1, errors: 1, ..ReportCounts::default() },
            &[report_error(9, None, "again")],
            Some("too many errors"),
            at(120),
        )
        .await
        .expect("finish again");
    assert_eq!(refinished.status, ReportStatus::Failed);
    assert_eq!(refinished.failure.as_deref(), Some("too many errors"));
    assert_eq!(refinished.parsed_at, Some(at(120)));
    assert_eq!(store.report_errors(first.id, 0).await.expect("errors"), [report_error(9, None, "again")]);

    // Many errors go in batches; pages are capped at 10,000.
    let many: Vec<ReportError> =
        (0..25_000u64).map(|index| report_error(25_000 - index, None, "bad")).collect();
    store.finish_report(other_feed.id, counts, &many, None, at(61)).await.expect("finish with many errors");
    let page = store.report_errors(other_feed.id, 50_000).await.expect("errors");
    assert_eq!(page.len(), 10_000);
    assert_eq!(page.iter().map(|error| error.line).collect::<Vec<_>>(), (1..=10_000).collect::<Vec<_>>());
    assert_eq!(store.report_errors(other_feed.id, 0).await.expect("errors").len(), 100);

    // Unknown reports.
    assert_not_found(store.finish_report(Uuid::new_v4(), counts, &[], None, at(1)).await, "report");
    assert_not_found(store.report_errors(Uuid::new_v4(), 0).await, "report");
    assert_eq!(store.get_report(Uuid::new_v4()).await.expect("get"), None);

    // Storing is audited, by the uploader or the system; nothing else is.
    assert_eq!(
        actions(store).await,
        [
            ("user:ana".to_owned(), "report.store".to_owned(), first.id.to_string(), first.sha256.clone()),
            (
                "system".to_owned(),
                "report.store".to_owned(),
                other_feed.id.to_string(),
                other_feed.sha256.clone()
            ),
            (
                "system".to_owned(),
                "report.store".to_owned(),
                big_report.id.to_string(),
                big_report.sha256.clone()
            ),
            ("system".to_owned(), "report.store".to_owned(), empty.id.to_string(), empty.sha256.clone()),
        ]
    );
    assert_chain_intact(&verify_audit(store).await.expect("verify"), 4);

    // Retention: the data of the reports received before a time goes; their rows and errors
    // stay, and the same content is still recognised and not stored again.
    let mut recent = new_report(6, "shadowserver-scan", b"ip\n192.0.2.9\n");
    recent.received_at = at(86_400);
    assert!(store.store_report(&recent).await.expect("store recent").1);
    assert_eq!(store.purge_report_data(at(3_600)).await.expect("purge"), 4);
    for old in [first.id, other_feed.id, big_report.id, empty.id] {
        assert_eq!(store.report_data(old).await.expect("data"), None, "{old}");
    }
    let purged = neretva_store::feeds::ReportInfo { data_purged: true, ..refinished.clone() };
    assert_eq!(store.get_report(first.id).await.expect("get"), Some(purged.clone()));
    let listed = store.list_reports(&ReportQuery::default()).await.expect("list");
    let flags: Vec<bool> = listed.iter().map(|report| report.data_purged).collect();
    assert_eq!(flags, [false, true, true, true, true], "only the recent report keeps its data");
    assert_eq!(store.report_errors(first.id, 0).await.expect("errors"), [report_error(9, None, "again")]);
    assert_eq!(store.report_data(recent.id).await.expect("data").as_deref(), Some(&recent.data[..]));
    let (known, stored) =
        store.store_report(&new_report(7, "shadowserver-scan", &first.data)).await.expect("store");
    assert_eq!((known.id, stored), (first.id, false));
    assert_eq!(store.purge_report_data(at(3_600)).await.expect("purge again"), 0);
    assert_eq!(store.purge_report_data(at(90_000)).await.expect("purge the rest"), 1);
    assert_eq!(store.report_data(recent.id).await.expect("data"), None);
}

/// The events of the query story; see the table in `feed_events`.
fn story_events(report_a: Uuid, report_b: Uuid) -> Vec<NewEvent> {
    let mut e1 = new_event(1, report_a, "scan");
    e1.taxonomy = Some("vulnerable".into());
    e1.classification_type = Some("vulnerable-system".into());
    e1.source_ip = Some(ip("192.0.2.10"));
    e1.source_asn = Some(64500);
    e1.source_fqdn = Some("ns1.example.ba".into());
    e1.time_source = Some(at(-3600));
    e1.time_observation = at(0);
    e1.org_ids = vec![org(2), org(1), org(2)];
    e1.json = r#"{"classification.identifier": "Open-Resolver", "extra": "100% sure"}"#.into();

    let mut e2 = new_event(2, report_a, "scan");
    e2.taxonomy = Some("vulnerable".into());
    e2.classification_type = Some("vulnerable-system".into());
    e2.source_ip = Some(ip("192.0.2.255"));
    e2.source_asn = Some(64500);
    e2.time_observation = at(10);
    e2.org_ids = vec![org(1)];
    e2.json = r#"{"comment": "under_score"}"#.into();

    let mut e3 = new_event(3, report_a, "scan");
    e3.taxonomy = Some("malicious-code".into());
    e3.classification_type = Some("infected-system".into());
    e3.source_ip = Some(ip("198.51.100.7"));
    e3.destination_ip = Some(ip("192.0.2.0"));
    e3.source_asn = Some(64501);
    e3.time_source = Some(at(20));
    e3.time_observation = at(30);
    e3.org_ids = vec![org(2)];
    e3.json = r#"{"source.port": 1000}"#.into();

    let mut e4 = new_event(4, report_b, "botnet");
    e4.taxonomy = Some("malicious-code".into());
    e4.classification_type = Some("c2-server".into());
    e4.source_ip = Some(ip("2001:db8::1"));
    e4.source_asn = Some(64502);
    e4.time_observation = at(40);
    e4.org_ids = vec![org(3)];
    e4.json = r#"{"source.geolocation.city": "Šipovo"}"#.into();

    let mut e5 = new_event(5, report_b, "botnet");
    e5.taxonomy = Some("intrusion-attempts".into());
    e5.classification_type = Some("brute-force".into());
    e5.destination_ip = Some(ip("2001:db8:1::5"));
    e5.time_observation = at(50);

    let mut e6 = new_event(6, report_b, "botnet");
    e6.source_ip = Some(ip("::ffff:192.0.2.77"));
    e6.time_observation = at(60);
    e6.org_ids = vec![org(3), org(1)];

    let mut e7 = new_event(7, report_b, "botnet");
    e7.source_ip = Some(ip("192.0.3.0"));
    e7.time_observation = at(70);

    vec![e1, e2, e3, e4, e5, e6, e7]
}

/// Events: stored in a batch with their routing and notifications, read back, found by every
/// filter and paged; a report's events deleted; old events purged with what hangs on them.
///
/// | event | report | feed   | taxonomy / type                       | addresses                   | ASN   | time (source, observation) | organisations |
/// |-------|--------|--------|---------------------------------------|-----------------------------|-------|----------------------------|---------------|
/// | 1     | A      | scan   | vulnerable / vulnerable-system        | src 192.0.2.10              | 64500 | -3600, 0                   | 2, 1, 2       |
/// | 2     | A      | scan   | vulnerable / vulnerable-system        | src 192.0.2.255             | 64500 | -, 10                      | 1             |
/// | 3     | A      | scan   | malicious-code / infected-system      | src 198.51.100.7, dst 192.0.2.0 | 64501 | 20, 30              | 2             |
/// | 4     | B      | botnet | malicious-code / c2-server            | src 2001:db8::1             | 64502 | -, 40                      | 3             |
/// | 5     | B      | botnet | intrusion-attempts / brute-force      | dst 2001:db8:1::5           |       | -, 50                      |               |
/// | 6     | B      | botnet |                                       | src ::ffff:192.0.2.77       |       | -, 60                      | 3, 1          |
/// | 7     | B      | botnet |                                       | src 192.0.3.0               |       | -, 70                      |               |
/// A feed's source state: none at first, saved, replaced by the next save (to the
/// microsecond), kept apart from other feeds', and refused when it is not text a store keeps.
pub async fn feed_source_records(store: &dyn Store) {
    assert_eq!(store.source_record("abuse-ch").await.expect("read"), None);
    let record = |feed: &str, kind: &str, state: &str, seconds| SourceRecord {
        feed: feed.to_owned(),
        kind: kind.to_owned(),
        state: state.to_owned(),
        saved_at: at(seconds),
    };
    let first = record("abuse-ch", "http", r#"{"etag":"\"a1\""}"#, 0);
    store.save_source_record(&first).await.expect("save");
    store.save_source_record(&record("mail", "imap", r#"{"failing_polls":2}"#, 5)).await.expect("save");
    assert_eq!(store.source_record("abuse-ch").await.expect("read"), Some(first));
    let mut second = record("abuse-ch", "http", r#"{"etag":"\"b2\"","last_success":"2026-11-28"}"#, 60);
    second.saved_at += time::Duration::nanoseconds(789);
    store.save_source_record(&second).await.expect("save");
    second.saved_at -= time::Duration::nanoseconds(789);
    assert_eq!(store.source_record("abuse-ch").await.expect("read"), Some(second.clone()));
    assert_eq!(store.source_record("mail").await.expect("read").expect("saved").kind, "imap");

    assert_conflict(store.save_source_record(&record("", "http", "{}", 0)).await, "feed");
    assert_conflict(
        store.save_source_record(&record("abuse-ch", "http", "{\"a\":\"\0\"}", 0)).await,
        "state",
    );
    let large = format!("\"{}\"", "x".repeat(SOURCE_RECORD_MAX_BYTES));
    assert_conflict(store.save_source_record(&record("abuse-ch", "http", &large, 0)).await, "state");
    // A refused save leaves the saved state as it was.
    assert_eq!(store.source_record("abuse-ch").await.expect("read"), Some(second));
}

pub async fn feed_events(store: &dyn Store) {
    let report_a = new_report(1, "scan", b"a");
    let report_b = new_report(2, "botnet", b"b");
    store.store_report(&report_a).await.expect("report");
    store.store_report(&report_b).await.expect("report");
    let events = story_events(report_a.id, report_b.id);
    assert_eq!(store.insert_events(&events).await.expect("insert"), 7);
    assert_eq!(store.insert_events(&[]).await.expect("insert nothing"), 0);

    // Read back as given, organisations once each in order, a mapped address as IPv4.
    let first = store.get_event(events[0].id).await.expect("get").expect("stored");
    let mut expected = events[0].clone();
    expected.org_ids = vec![org(1), org(2)];
    assert_eq!(first.event, expected);
    let sixth = store.get_event(events[5].id).await.expect("get").expect("stored");
    let mut expected = events[5].clone();
    expected.source_ip = Some(ip("192.0.2.77"));
    expected.org_ids = vec![org(1), org(3)];
    assert_eq!(sixth.event, expected);
    assert_eq!(sixth.stored_at, first.stored_at, "one batch, one time");
    assert_eq!(store.get_event(Uuid::new_v4()).await.expect("get"), None);
    let all = store.query_events(&EventQuery::default()).await.expect("all");
    assert_eq!(all.len(), 7);
    assert_eq!(all[6], first);

    // Every filter.
    let q = EventQuery::default;
    assert_eq!(query(store, q()).await, [7, 6, 5, 4, 3, 2, 1]);
    let times = EventQuery { since: Some(at(0)), until: Some(at(40)), ..q() };
    assert_eq!(query(store, times).await, [3, 2], "source time first, until excluded");
    let since = EventQuery { since: Some(at(-3600)), until: Some(at(10)), ..q() };
    assert_eq!(query(store, since).await, [1], "since included");
    let taxonomy = EventQuery { taxonomy: Some("vulnerable".into()), ..q() };
    assert_eq!(query(store, taxonomy).await, [2, 1]);
    let kind = EventQuery { classification_type: Some("c2-server".into()), ..q() };
    assert_eq!(query(store, kind).await, [4]);
    let both = EventQuery {
        taxonomy: Some("malicious-code".into()),
        classification_type: Some("infected-system".into()),
        ..q()
    };
    assert_eq!(query(store, both).await, [3]);
    for (orgs, expected) in [
        (vec![org(1)], vec![6, 2, 1]),
        (vec![org(3)], vec![6, 4]),
        (vec![org(1), org(3)], vec![6, 4, 2, 1]),
        (vec![org(9)], vec![]),
        (vec![], vec![]),
    ] {
        let by_org = EventQuery { org_ids: Some(orgs.clone()), ..q() };
        assert_eq!(query(store, by_org).await, expected, "organisations {orgs:?}");
    }
    // Pages of several organisations' events (event 6 concerns both), newest first.
    let org_page = |before: Option<u64>| EventQuery {
        org_ids: Some(vec![org(3), org(1)]),
        before: before.map(|n| ordered_id(1_000 + n)),
        limit: 2,
        ..q()
    };
    assert_eq!(query(store, org_page(None)).await, [6, 4]);
    assert_eq!(query(store, org_page(Some(4))).await, [2, 1]);
    assert_eq!(query(store, org_page(Some(1))).await, Vec::<u64>::new());
    for (network, expected) in [
        ("192.0.2.0/24", vec![6, 3, 2, 1]),
        ("192.0.2.10", vec![1]),
        ("192.0.2.254/31", vec![2]),
        ("192.0.3.0/24", vec![7]),
        ("0.0.0.0/0", vec![7, 6, 3, 2, 1]),
        ("2001:db8::/32", vec![5, 4]),
        ("2001:db8::1", vec![4]),
        ("2001:db8:1::/48", vec![5]),
        ("::/0", vec![5, 4]),
        ("::ffff:0:0/96", vec![]),
        ("203.0.113.0/24", vec![]),
    ] {
        let by_network = EventQuery { network: Some(cidr(network)), ..q() };
        assert_eq!(query(store, by_network).await, expected, "network {network}");
    }
    let asn = EventQuery { asn: Some(64500), ..q() };
    assert_eq!(query(store, asn).await, [2, 1]);
    let feed = EventQuery { feed: Some("botnet".into()), ..q() };
    assert_eq!(query(store, feed).await, [7, 6, 5, 4]);
    let report = EventQuery { report_id: Some(report_a.id), ..q() };
    assert_eq!(query(store, report).await, [3, 2, 1]);
    for (text, expected) in [
        ("open-RESOLVER", vec![1]),
        ("100%", vec![1]),
        ("e_tra", vec![]),
        ("under_score", vec![2]),
        ("under%score", vec![]),
        ("\\", vec![]),
        ("Šipovo", vec![4]),
        ("ŠIPOVO", vec![4]),
        ("šipovo", vec![]),
        ("nowhere", vec![]),
    ] {
        let by_text = EventQuery { text: Some(text.into()), ..q() };
        assert_eq!(query(store, by_text).await, expected, "text {text:?}");
    }
    let combined = EventQuery {
        feed: Some("scan".into()),
        network: Some(cidr("192.0.2.0/24")),
        org_ids: Some(vec![org(2)]),
        ..q()
    };
    assert_eq!(query(store, combined).await, [3, 1]);

    // Pages, newest first.
    let page =
        |before: Option<u64>| EventQuery { before: before.map(|n| ordered_id(1_000 + n)), limit: 3, ..q() };
    assert_eq!(query(store, page(None)).await, [7, 6, 5]);
    assert_eq!(query(store, page(Some(5))).await, [4, 3, 2]);
    assert_eq!(query(store, page(Some(2))).await, [1]);
    assert_eq!(query(store, page(Some(1))).await, Vec::<u64>::new());

    // A bounded scan: the floor `depth` events below a cursor, and searches from it.
    let floor = |before: Option<u64>, depth: u32| async move {
        let before = before.map(|n| ordered_id(1_000 + n));
        store.event_scan_floor(before, depth).await.expect("scan floor").map(event_number)
    };
    assert_eq!(floor(None, 1).await, Some(7));
    assert_eq!(floor(None, 3).await, Some(5));
    assert_eq!(floor(Some(5), 2).await, Some(3));
    assert_eq!(floor(Some(5), 4).await, Some(1));
    assert_eq!(floor(Some(5), 5).await, None);
    assert_eq!(floor(None, 0).await, None);
    let from = |n: u64| Some(ordered_id(1_000 + n));
    assert_eq!(query(store, EventQuery { floor: from(5), ..q() }).await, [7, 6, 5]);
    assert_eq!(query(store, EventQuery { floor: from(2), before: from(5), ..q() }).await, [4, 3, 2]);
    let scanned_text = EventQuery { text: Some("open-resolver".into()), floor: from(2), ..q() };
    assert_eq!(query(store, scanned_text).await, Vec::<u64>::new());

    // A notification is queued per event and organisation, oldest first.
    let e = |n: usize| events[n - 1].id;
    let queued = vec![
        (org(1), e(1)),
        (org(2), e(1)),
        (org(1), e(2)),
        (org(2), e(3)),
        (org(3), e(4)),
        (org(1), e(6)),
        (org(3), e(6)),
    ];
    assert_eq!(store.pending_notifications(None, 0).await.expect("queue"), queued);
    assert_eq!(
        store.pending_notifications(Some(org(1)), 0).await.expect("queue"),
        [(org(1), e(1)), (org(1), e(2)), (org(1), e(6))]
    );
    assert_eq!(store.pending_notifications(None, 2).await.expect("queue"), queued[..2]);
    assert_eq!(store.pending_notifications(Some(org(9)), 0).await.expect("queue"), []);

    // A batch with a stored id is refused whole; so is text PostgreSQL cannot hold.
    let mut fresh = new_event(8, report_b.id, "botnet");
    fresh.org_ids = vec![org(1)];
    assert_conflict(store.insert_events(&[fresh.clone(), events[0].clone()]).await, "id");
    assert_eq!(store.get_event(fresh.id).await.expect("get"), None);
    let mut nul = fresh.clone();
    nul.raw = "a\0b".into();
    assert_conflict(store.insert_events(&[nul]).await, "raw");
    assert_eq!(
        store.pending_notifications(None, 0).await.expect("queue"),
        queued,
        "nothing of a refused batch is queued"
    );

    // Deleting a report's events takes their routing and notifications along.
    assert_eq!(store.delete_report_events(report_a.id).await.expect("delete"), 3);
    assert_eq!(store.delete_report_events(report_a.id).await.expect("delete"), 0);
    assert_eq!(query(store, q()).await, [7, 6, 5, 4]);
    let by_org = EventQuery { org_ids: Some(vec![org(2)]), ..q() };
    assert_eq!(query(store, by_org).await, Vec::<u64>::new());
    assert_eq!(store.pending_notifications(None, 0).await.expect("queue"), queued[4..]);
    // A re-parse stores the events again.
    assert_eq!(store.insert_events(&events[..3]).await.expect("insert again"), 3);
    assert_eq!(query(store, q()).await, [7, 6, 5, 4, 3, 2, 1]);

    // Purging by observation time, with what hangs on the events.
    assert_eq!(store.purge_events(at(55)).await.expect("purge"), 5);
    assert_eq!(store.purge_events(at(55)).await.expect("purge"), 0);
    assert_eq!(query(store, q()).await, [7, 6]);
    assert_eq!(store.pending_notifications(None, 0).await.expect("queue"), [(org(1), e(6)), (org(3), e(6))]);
    let by_org = EventQuery { org_ids: Some(vec![org(1), org(2), org(3)]), ..q() };
    assert_eq!(query(store, by_org).await, [6]);

    // Events are not audited; only the two reports are.
    assert_eq!(actions(store).await.len(), 2);
}

/// Events in bulk: one large batch, capped and default pages, a cursor through all of them,
/// and a purge that takes several batches.
pub async fn feed_events_in_bulk(store: &dyn Store) {
    const EVENTS: u64 = 12_500;
    let report = new_report(1, "bulk", b"bulk");
    store.store_report(&report).await.expect("report");
    let events: Vec<NewEvent> = (1..=EVENTS)
        .map(|n| {
            let mut event = new_event(n, report.id, "bulk");
            event.time_observation = at(i64::try_from(n).unwrap_or(0));
            event.source_ip = Some(IpAddr::from([10, 0, (n >> 8) as u8, n as u8]));
            event.org_ids = vec![org(u128::from(n % 3))];
            event
        })
        .collect();
    assert_eq!(store.insert_events(&events[..10_000]).await.expect("insert"), 10_000);
    assert_eq!(store.insert_events(&events[10_000..]).await.expect("insert"), EVENTS - 10_000);
    let capped =
        store.query_events(&EventQuery { limit: 50_000, ..EventQuery::default() }).await.expect("query");
    assert_eq!(capped.len(), 10_000);
    assert_eq!(store.query_events(&EventQuery::default()).await.expect("query").len(), 100);
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = store
            .query_events(&EventQuery {
                before,
                limit: 4_000,
                network: Some(cidr("10.0.0.0/8")),
                ..EventQuery::default()
            })
            .await
            .expect("page");
        let Some(last) = page.last() else { break };
        before = Some(last.event.id);
        seen.extend(page.into_iter().map(|stored| stored.event.id));
    }
    let expected: Vec<Uuid> = events.iter().rev().map(|event| event.id).collect();
    assert!(seen == expected, "the cursor visits every event once, newest first");
    // A small network inside: found through the address index rather than by reading newest first
    // (the SQLite store picks by the number of matches); the same events either way.
    let small = EventQuery { limit: 4_000, network: Some(cidr("10.0.7.0/24")), ..EventQuery::default() };
    let expected: Vec<u64> = (1..=EVENTS).rev().filter(|n| (n >> 8) & 0xff == 7).collect();
    assert_eq!(query(store, small).await, expected);
    assert_eq!(
        store.pending_notifications(Some(org(0)), 10_000).await.expect("queue").len(),
        usize::try_from(EVENTS / 3).unwrap_or(0)
    );

    assert_eq!(store.purge_events(at(12_001)).await.expect("purge"), 12_000);
    let rest = EventQuery { limit: 1_000, ..EventQuery::default() };
    assert_eq!(query(store, rest).await, (12_001..=EVENTS).rev().collect::<Vec<_>>());
    assert_eq!(store.pending_notifications(None, 10_000).await.expect("queue").len(), 500);
}

/// Deduplication: a key repeats within a batch, across batches and reports, and after the
/// window; the report that recorded a key may see it again; a duplicate does not move the
/// window; old keys are purged.
pub async fn feed_dedup(store: &dyn Store) {
    let check = |keys: Vec<DedupKey>, window_start: Timestamp| async move {
        store.dedup_check(&keys, window_start).await.expect("dedup check")
    };
    assert_eq!(check(vec![], at(0)).await, Vec::<bool>::new());
    let batch = |names: &[&str], seen_at: i64, report: u64| -> Vec<DedupKey> {
        names.iter().map(|name| key(name, at(seen_at), report)).collect()
    };
    // Keys as (seen at, report) after each check in the comments.
    assert_eq!(
        check(batch(&["a", "b", "a", "c"], 0, 1), at(-100)).await,
        [false, false, true, false],
        "a (0, 1), b (0, 1), c (0, 1)"
    );
    assert_eq!(check(batch(&["b", "d", "d"], 10, 2), at(-100)).await, [true, false, true], "d (10, 2)");
    assert_eq!(
        check(batch(&["a", "d", "a"], 5, 1), at(-100)).await,
        [false, true, true],
        "the same report sees a again, a (5, 1); a repeat within the batch is a duplicate"
    );
    assert_eq!(
        check(batch(&["a"], 1000, 2), at(500)).await,
        [false],
        "a was seen before the window: a (1000, 2)"
    );
    assert_eq!(check(batch(&["a"], 1001, 1), at(900)).await, [true]);
    assert_eq!(check(batch(&["b"], 400, 2), at(-100)).await, [true], "b stays (0, 1)");
    assert_eq!(
        check(batch(&["b"], 450, 2), at(300)).await,
        [false],
        "b (450, 2): the repeat at 400 did not move the window"
    );
    // a (1000, 2), b (450, 2), c (0, 1), d (10, 2): purging before 500 forgets b, c and d.
    assert_eq!(store.dedup_purge(at(500)).await.expect("purge"), 3);
    assert_eq!(store.dedup_purge(at(500)).await.expect("purge"), 0);
    assert_eq!(check(batch(&["a", "c", "c"], 1100, 3), at(-100)).await, [true, false, true]);

    // A large batch: 10,000 new keys, then again with a fresh one mixed in.
    let many: Vec<DedupKey> = (0..10_000).map(|index| key(&format!("bulk-{index}"), at(2000), 4)).collect();
    assert!(check(many.clone(), at(0)).await.iter().all(|dup| !dup));
    let mut mixed: Vec<DedupKey> =
        many[..5_000].iter().map(|key| DedupKey { report_id: ordered_id(5), ..key.clone() }).collect();
    mixed.push(key("fresh", at(2001), 5));
    let outcome = check(mixed, at(0)).await;
    assert!(outcome[..5_000].iter().all(|dup| *dup));
    assert!(!outcome[5_000]);
}

/// Storing a batch with its deduplication keys: duplicates (of other reports, or within the
/// batch) are not stored, the rest are, and their keys count for later batches; a batch without
/// keys stores everything; keys that do not match the events are refused and store nothing.
pub async fn feed_store_events(store: &dyn Store) {
    let report = new_report(1, "dedup-feed", b"batch report");
    let (info, _) = store.store_report(&report).await.expect("store report");
    let events: Vec<NewEvent> = (0..4).map(|n| new_event(n, info.id, "dedup-feed")).collect();
    let keys = |names: &[&str], report: u64| -> Vec<DedupKey> {
        names.iter().map(|name| key(name, at(0), report)).collect()
    };
    store.dedup_check(&keys(&["seen"], 90), at(-100)).await.expect("dedup check");
    let batch = EventBatch {
        events: events.clone(),
        dedup: Some(BatchDedup { keys: keys(&["new", "seen", "other", "new"], 1), window_start: at(-100) }),
    };
    assert_eq!(store.store_events(batch).await.expect("store events"), [false, true, false, true]);
    let stored = query(store, EventQuery { feed: Some("dedup-feed".into()), ..EventQuery::default() }).await;
    assert_eq!(stored, [2, 0], "events 0 and 2 are stored, newest first");
    // The keys of stored events count now; without keys every event is stored.
    let later: Vec<NewEvent> = (4..6).map(|n| new_event(n, info.id, "dedup-feed")).collect();
    assert_eq!(store.dedup_check(&keys(&["other"], 2), at(-100)).await.expect("dedup check"), [true]);
    let batch = EventBatch { events: later.clone(), dedup: None };
    assert_eq!(store.store_events(batch).await.expect("store events"), [false, false]);
    // One key too few: refused, nothing stored, no key recorded.
    let wrong = EventBatch {
        events: (6..8).map(|n| new_event(n, info.id, "dedup-feed")).collect(),
        dedup: Some(BatchDedup { keys: keys(&["lonely"], 1), window_start: at(-100) }),
    };
    let error = store.store_events(wrong).await.expect_err("keys must match events");
    assert!(error.to_string().contains("one per event"), "{error}");
    assert_eq!(store.dedup_check(&keys(&["lonely"], 3), at(-100)).await.expect("dedup check"), [false]);
    let stored = query(store, EventQuery { feed: Some("dedup-feed".into()), ..EventQuery::default() }).await;
    assert_eq!(stored, [5, 4, 2, 0]);
}

/// Checkers in several tasks and on several stores (as several pipeline workers, each check
/// of another report) share the dedup state: exactly one of them sees each key as new.
pub async fn feed_dedup_concurrent(harness: &dyn Harness) {
    const KEYS: usize = 400;
    const STORES: usize = 3;
    const TASKS_PER_STORE: usize = 2;
    const ROUNDS: usize = 4;
    const BATCH: usize = 150;
    let name = |index: usize| format!("concurrent-{index}");
    let mut stores: Vec<Arc<dyn Store>> = Vec::new();
    for _ in 0..STORES {
        stores.push(harness.reopen().await.expect("open another store"));
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (store_index, store) in stores.iter().enumerate() {
        for task in 0..TASKS_PER_STORE {
            let store = Arc::clone(store);
            let worker = store_index * TASKS_PER_STORE + task;
            tasks.spawn(async move {
                let mut new = Vec::new();
                for round in 0..ROUNDS {
                    let mut indexes: Vec<usize> =
                        (0..BATCH).map(|i| (i * 7 + worker * 13 + round * 31) % KEYS).collect();
                    if worker % 2 == 1 {
                        indexes.reverse();
                    }
                    indexes.push(indexes[0]);
                    // Every check is of another report.
                    let report = u64::try_from(worker * ROUNDS + round).unwrap_or(0);
                    let keys: Vec<DedupKey> =
                        indexes.iter().map(|index| key(&name(*index), at(0), report)).collect();
                    let outcome = store.dedup_check(&keys, at(-10)).await.expect("check");
                    assert_eq!(outcome.len(), keys.len());
                    assert!(outcome[BATCH], "the repeat within the batch is a duplicate");
                    new.extend(
                        indexes
                            .iter()
                            .zip(outcome)
                            .filter(|(_, duplicate)| !duplicate)
                            .map(|(index, _)| *index),
                    );
                }
                new
            });
        }
    }
    let mut times_new = vec![0; KEYS];
    while let Some(joined) = tasks.join_next().await {
        for index in joined.expect("dedup task") {
            times_new[index] += 1;
        }
    }
    assert!(times_new.iter().all(|times| *times <= 1), "no key is new twice: {times_new:?}");
    // Every key seen is a duplicate now, and the rest are new once.
    let all: Vec<DedupKey> = (0..KEYS).map(|index| key(&name(index), at(1), 99)).collect();
    let outcome = harness.store().dedup_check(&all, at(-10)).await.expect("check all");
    for (index, duplicate) in outcome.into_iter().enumerate() {
        assert_eq!(duplicate, times_new[index] == 1, "key {index}");
    }
}

/// Event counts for overviews: by UTC day (of the source time, else the observation time) and
/// type, and by organisation; the time and the organisations narrow them.
pub async fn feed_event_counts(store: &dyn Store) {
    use neretva_store::feeds::{DayCount, EventCountQuery};

    let report = new_report(70, "counts", b"counts");
    store.store_report(&report).await.expect("report");
    let day = 86_400;
    let event = |n: u64, seconds: i64, kind: Option<&str>, orgs: &[Uuid]| {
        let mut event = new_event(n, report.id, "counts");
        event.time_observation = at(seconds);
        event.classification_type = kind.map(str::to_owned);
        event.org_ids = orgs.to_vec();
        event
    };
    let mut old = event(5, -10 * day, Some("scanner"), &[org(1)]);
    // The source time counts, not the (later) observation time.
    old.time_source = Some(at(-10 * day));
    old.time_observation = at(day);
    let events = vec![
        event(1, 0, Some("scanner"), &[org(1)]),
        event(2, 3600, Some("scanner"), &[org(1), org(2)]),
        event(3, 0, Some("ddos-amplifier"), &[org(2)]),
        event(4, day, None, &[]),
        old,
    ];
    assert_eq!(store.insert_events(&events).await.expect("insert"), 5);
    let today = at(0).unix_timestamp().div_euclid(day);
    let count = |day: i64, kind: Option<&str>, events: u64| DayCount {
        day,
        classification_type: kind.map(str::to_owned),
        events,
    };

    let all = EventCountQuery { since: at(-day), org_ids: None };
    let counts = store.event_counts(&all).await.expect("counts");
    assert_eq!(
        counts.by_day,
        [
            count(today, Some("ddos-amplifier"), 1),
            count(today, Some("scanner"), 2),
            count(today + 1, None, 1)
        ]
    );
    assert_eq!(counts.by_org, [(org(1), 2), (org(2), 2)]);

    let everything = EventCountQuery { since: at(-20 * day), ..all.clone() };
    let counts = store.event_counts(&everything).await.expect("counts");
    assert_eq!(counts.by_day[0], count(today - 10, Some("scanner"), 1), "the source time's day");
    assert_eq!(counts.by_org, [(org(1), 3), (org(2), 2)]);

    // Whole days: an event early on the day of `since` counts, though before `since` itself.
    let late_since = EventCountQuery { since: at(-10 * day + 3600), ..all.clone() };
    let counts = store.event_counts(&late_since).await.expect("counts");
    assert_eq!(counts.by_day[0], count(today - 10, Some("scanner"), 1));

    let one_org = EventCountQuery { org_ids: Some(vec![org(2)]), ..all.clone() };
    let counts = store.event_counts(&one_org).await.expect("counts");
    assert_eq!(counts.by_day, [count(today, Some("ddos-amplifier"), 1), count(today, Some("scanner"), 1)]);
    assert_eq!(counts.by_org, [(org(2), 2)]);

    // Both organisations: the event routed to both counts once by day, once for each by organisation.
    let both = EventCountQuery { org_ids: Some(vec![org(2), org(1)]), ..all.clone() };
    let counts = store.event_counts(&both).await.expect("counts");
    assert_eq!(counts.by_day, [count(today, Some("ddos-amplifier"), 1), count(today, Some("scanner"), 2)]);
    assert_eq!(counts.by_org, [(org(1), 2), (org(2), 2)]);

    let no_org = EventCountQuery { org_ids: Some(Vec::new()), ..all.clone() };
    assert_eq!(store.event_counts(&no_org).await.expect("counts"), Default::default());
    let other_org = EventCountQuery { org_ids: Some(vec![org(9)]), ..all };
    assert_eq!(store.event_counts(&other_org).await.expect("counts"), Default::default());
}

/// The counts of the stored events recounted from the events themselves (read back through
/// `query_events`), as `event_counts` must give them.
async fn recount(
    store: &dyn Store,
    since: Timestamp,
    scope: Option<&[Uuid]>,
) -> neretva_store::feeds::EventCounts {
    use std::collections::BTreeMap;

    use neretva_store::feeds::{DayCount, EventCounts};

    let events =
        store.query_events(&EventQuery { limit: 10_000, ..EventQuery::default() }).await.expect("events");
    assert!(events.len() < 10_000, "the stories store fewer events than a page");
    let day_of = |time: Timestamp| time.unix_timestamp().div_euclid(86_400);
    let mut by_day: BTreeMap<(i64, Option<String>), u64> = BTreeMap::new();
    let mut by_org: BTreeMap<Uuid, u64> = BTreeMap::new();
    for stored in events {
        let event = stored.event;
        let day = day_of(event.time_source.unwrap_or(event.time_observation));
        if day < day_of(since) {
            continue;
        }
        let orgs: Vec<Uuid> = match scope {
            None => event.org_ids.clone(),
            Some(scope) => event.org_ids.iter().copied().filter(|org| scope.contains(org)).collect(),
        };
        if scope.is_some() && orgs.is_empty() {
            continue;
        }
        *by_day.entry((day, event.classification_type.clone())).or_default() += 1;
        for org in orgs {
            *by_org.entry(org).or_default() += 1;
        }
    }
    let by_day = by_day.into_iter().map(|((day, classification_type), events)| DayCount {
        day,
        classification_type,
        events,
    });
    let mut by_org: Vec<(Uuid, u64)> = by_org.into_iter().collect();
    by_org.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    EventCounts { by_day: by_day.collect(), by_org }
}

/// Every scope of the rollup stories: all events, each organisation alone, and groups of them.
fn rollup_scopes() -> Vec<Option<Vec<Uuid>>> {
    vec![
        None,
        Some(vec![org(1)]),
        Some(vec![org(2)]),
        Some(vec![org(3)]),
        Some(vec![org(4)]),
        Some(vec![org(1), org(2)]),
        Some(vec![org(3), org(2)]),
        Some(vec![org(1), org(2), org(3)]),
        Some(vec![org(1), org(2), org(3), org(4)]),
    ]
}

/// Asserts that the rollups answer exactly what a recount of the events gives, for every scope
/// and two windows; returns the counts of all events over both windows.
async fn assert_rollups_exact(store: &dyn Store, stage: &str) -> neretva_store::feeds::EventCounts {
    use neretva_store::feeds::EventCountQuery;

    for since in [at(-40 * 86_400), at(-2 * 86_400)] {
        for scope in rollup_scopes() {
            let query = EventCountQuery { since, org_ids: scope.clone() };
            let counts = store.event_counts(&query).await.expect("counts");
            let expected = recount(store, since, scope.as_deref()).await;
            assert_eq!(counts, expected, "{stage}: since {since}, organisations {scope:?}");
            if let Some(scope) = &scope {
                assert!(
                    counts.by_org.iter().all(|(org, _)| scope.contains(org)),
                    "{stage}: another organisation counted for {scope:?}: {:?}",
                    counts.by_org
                );
            }
        }
    }
    let query = EventCountQuery { since: at(-40 * 86_400), org_ids: None };
    store.event_counts(&query).await.expect("counts")
}

/// The events of a rollup story's report `report`: spread over days (source times, observation
/// times and one before 1970), types and routings of none, one and several organisations.
fn rollup_events(report: Uuid, first: u64, routing: &dyn Fn(u64) -> Vec<Uuid>) -> Vec<NewEvent> {
    const KINDS: [Option<&str>; 4] = [Some("scanner"), None, Some("ddos-amplifier"), Some("phishing")];
    (first..first + 40)
        .map(|n| {
            let mut event = new_event(n, report, "rollups");
            let index = n as usize;
            event.time_observation = at(-(i64::try_from(n % 9).expect("small") * 86_400) - 7_200);
            if n % 5 == 0 {
                event.time_source = Some(at(-30 * 86_400 + i64::try_from(n).expect("small") * 3_600));
            }
            event.classification_type = KINDS[index % KINDS.len()].map(str::to_owned);
            event.org_ids = routing(n);
            event
        })
        .collect()
}

/// The rollups stay equal to a recount of the events through inserts (plain and deduplicated),
/// a report's deletion and re-parse with new routing, and purges; a scope of organisations never
/// counts another organisation's events, and an event of several of them counts once.
pub async fn feed_event_rollups(store: &dyn Store) {
    use neretva_store::feeds::{DayCount, EventCountQuery};

    let empty = EventCountQuery { since: at(-40 * 86_400), org_ids: None };
    assert_eq!(store.event_counts(&empty).await.expect("counts"), Default::default());

    let first = new_report(80, "rollups", b"first");
    let second = new_report(81, "rollups", b"second");
    for report in [&first, &second] {
        store.store_report(report).await.expect("report");
    }
    let routing = |n: u64| -> Vec<Uuid> {
        match n % 6 {
            0 => Vec::new(),
            1 => vec![org(1)],
            2 => vec![org(2), org(1)],
            3 => vec![org(3), org(1), org(2), org(3)],
            4 => vec![org(2)],
            _ => vec![org(3), org(2)],
        }
    };
    let first_events = rollup_events(first.id, 0, &routing);
    assert_eq!(store.insert_events(&first_events).await.expect("insert"), 40);
    assert_rollups_exact(store, "after the first insert").await;

    // Through the deduplicating write: the repeats within the batch are not stored, nor counted.
    let mut second_events = rollup_events(second.id, 100, &routing);
    let keys: Vec<DedupKey> =
        (0..second_events.len()).map(|index| key(&format!("rollup {}", index % 30), at(0), 81)).collect();
    second_events.iter_mut().for_each(|event| event.time_observation += time::Duration::hours(1));
    let batch =
        EventBatch { events: second_events, dedup: Some(BatchDedup { keys, window_start: at(-3600) }) };
    let duplicates = store.store_events(batch).await.expect("store");
    assert_eq!(duplicates.iter().filter(|duplicate| !**duplicate).count(), 30);
    let counts = assert_rollups_exact(store, "after the deduplicated insert").await;
    assert_eq!(counts.by_day.iter().map(|count| count.events).sum::<u64>(), 70);

    // A constituent of organisation 2: its events only, and the events shared with 1 and 3 once.
    let mine = EventCountQuery { since: at(-40 * 86_400), org_ids: Some(vec![org(2)]) };
    let counts = store.event_counts(&mine).await.expect("counts");
    let routed_to_2 = |events: &[u64]| events.iter().filter(|n| matches!(*n % 6, 2..=5)).count() as u64;
    let stored_first: Vec<u64> = (0..40).collect();
    let stored_second: Vec<u64> = (100..130).collect();
    let expected = routed_to_2(&stored_first) + routed_to_2(&stored_second);
    assert_eq!(counts.by_org, [(org(2), expected)]);
    assert_eq!(counts.by_day.iter().map(|count| count.events).sum::<u64>(), expected);
    let group = EventCountQuery { org_ids: Some(vec![org(1), org(2), org(3)]), ..mine.clone() };
    let counts = store.event_counts(&group).await.expect("counts");
    let routed = |events: &[u64]| events.iter().filter(|n| *n % 6 != 0).count() as u64;
    let expected = routed(&stored_first) + routed(&stored_second);
    assert_eq!(counts.by_day.iter().map(|count| count.events).sum::<u64>(), expected, "each event once");

    // Re-parse with new routing: the report's events are deleted, then stored routed anew.
    assert_eq!(store.delete_report_events(first.id).await.expect("delete"), 40);
    assert_rollups_exact(store, "after deleting a report's events").await;
    let rerouted = |n: u64| -> Vec<Uuid> {
        match n % 4 {
            0 => vec![org(4)],
            1 => vec![org(1), org(4)],
            2 => Vec::new(),
            _ => vec![org(3)],
        }
    };
    let again = rollup_events(first.id, 0, &rerouted);
    assert_eq!(store.insert_events(&again).await.expect("insert"), 40);
    assert_rollups_exact(store, "after re-parsing with new routing").await;
    let org_4 = EventCountQuery { org_ids: Some(vec![org(4)]), ..mine.clone() };
    let counts = store.event_counts(&org_4).await.expect("counts");
    assert_eq!(counts.by_org, [(org(4), 20)], "organisation 4 has only the re-routed events");

    // Retention: events observed before the cut-off go, those with an old source time but a
    // recent observation stay counted on their source time's day.
    let purged = store.purge_events(at(-4 * 86_400)).await.expect("purge");
    assert!(purged > 0);
    let counts = assert_rollups_exact(store, "after a purge").await;
    assert!(
        counts
            .by_day
            .first()
            .is_some_and(|count: &DayCount| count.day < at(-20 * 86_400).unix_timestamp() / 86_400),
        "old source times remain: {:?}",
        counts.by_day
    );

    // Deleting every event leaves nothing counted.
    store.delete_report_events(first.id).await.expect("delete");
    store.delete_report_events(second.id).await.expect("delete");
    for scope in rollup_scopes() {
        let query = EventCountQuery { since: at(-40 * 86_400), org_ids: scope };
        assert_eq!(store.event_counts(&query).await.expect("counts"), Default::default());
    }
}

/// Migration 20 fills the rollups from the events stored before it: the rollup tables are
/// dropped and the migration forgotten, and migrating again counts what a recount gives.
pub async fn feed_event_rollups_backfill(harness: &dyn Harness) {
    let store = harness.store();
    let report = new_report(90, "rollups", b"backfill");
    store.store_report(&report).await.expect("report");
    let routing = |n: u64| -> Vec<Uuid> {
        match n % 4 {
            0 => Vec::new(),
            1 => vec![org(1)],
            2 => vec![org(2), org(1), org(3)],
            _ => vec![org(3), org(2)],
        }
    };
    let mut events = rollup_events(report.id, 0, &routing);
    // A time before 1970 falls on a negative day.
    events[7].time_source = Some(time::macros::datetime!(1969-12-31 23:00 UTC));
    store.insert_events(&events).await.expect("insert");
    let before = assert_rollups_exact(store, "before the backfill").await;
    harness
        .execute_raw(
            "DROP TABLE event_org_day_counts; DROP TABLE event_day_counts;
             DELETE FROM schema_migrations WHERE version = 20;",
        )
        .await
        .expect("forget the rollups");
    let reopened = harness.reopen().await.expect("reopen");
    reopened.migrate().await.expect("migrate");
    let after = assert_rollups_exact(reopened.as_ref(), "after the backfill").await;
    assert_eq!(after, before);
    let everything = neretva_store::feeds::EventCountQuery {
        since: time::macros::datetime!(1969-12-01 00:00 UTC),
        org_ids: None,
    };
    let counts = reopened.event_counts(&everything).await.expect("counts");
    assert_eq!(counts.by_day[0].day, -1, "{:?}", counts.by_day);
    // Writes after the backfill keep it: deleting the events empties it.
    reopened.delete_report_events(report.id).await.expect("delete");
    assert_eq!(reopened.event_counts(&everything).await.expect("counts"), Default::default());
}
