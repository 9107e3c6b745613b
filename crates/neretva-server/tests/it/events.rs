//! Feed reports and events through the API: a constituent sees only its own events.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use neretva_store::Store;
use serde_json::json;

use crate::support::{TestApp, assert_status, test_app};

/// EP-A owns 192.0.2.0/26 and EP-B 192.0.2.64/26; the report names four of A's addresses,
/// three of B's, one nobody's, and has one bad line (line 4).
async fn upload(app: &TestApp) -> serde_json::Value {
    for (org, net) in [("EP-A", "192.0.2.0/26"), ("EP-B", "192.0.2.64/26")] {
        let reply = app
            .call(
                Some("analyst"),
                "POST",
                &format!("/api/v1/organisations/{org}/assets"),
                Some(json!({"value": net})),
            )
            .await;
        assert_status(&reply, StatusCode::CREATED);
    }
    let mut csv = String::from(
        "\"timestamp\",\"severity\",\"ip\",\"protocol\",\"port\",\"hostname\",\"tag\",\"asn\",\"geo\",\"region\",\"city\",\"naics\",\"hostname_source\",\"sector\",\"dns_version\",\"min_amplification\"\n",
    );
    for ip in [
        "192.0.2.1",
        "192.0.2.2",
        "not-an-ip",
        "192.0.2.3",
        "192.0.2.4",
        "192.0.2.65",
        "192.0.2.66",
        "192.0.2.67",
        "198.51.100.9",
    ] {
        csv.push_str(&format!(
            "\"2026-11-27 10:00:00\",\"medium\",\"{ip}\",\"udp\",\"53\",\"\",\"openresolver\",\"64500\",\"BA\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"\n"
        ));
    }
    let reply = app
        .send(
            Request::post("/api/v1/reports?feed=shadowserver-dns")
                .header(header::AUTHORIZATION, format!("Bearer {}", app.tokens["analyst"]))
                .body(Body::from(csv))
                .unwrap(),
        )
        .await;
    assert_status(&reply, StatusCode::CREATED);
    reply.body
}

fn ips(reply: &crate::support::Reply) -> Vec<String> {
    let mut ips: Vec<String> = reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["event"]["source.ip"].as_str().unwrap().to_owned())
        .collect();
    ips.sort();
    ips
}

#[tokio::test]
async fn constituents_see_only_their_own_events() {
    let app = test_app().await;
    let report = upload(&app).await;
    assert_eq!(
        (report["records"].as_u64(), report["events"].as_u64(), report["errors"].as_u64()),
        (Some(9), Some(8), Some(1))
    );

    let alice = app.get("alice", "/api/v1/events").await;
    assert_status(&alice, StatusCode::OK);
    assert_eq!(ips(&alice), ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"]);
    assert!(
        alice.body["items"].as_array().unwrap().iter().all(|item| item["organisations"] == json!(["EP-A"]))
    );
    let bob = app.get("bob", "/api/v1/events?limit=1000").await;
    assert_eq!(ips(&bob), ["192.0.2.65", "192.0.2.66", "192.0.2.67"]);
    let carol = app.get("carol", "/api/v1/events").await;
    assert_eq!(ips(&carol), Vec::<String>::new());
    let analyst = app.get("analyst", "/api/v1/events?limit=1000").await;
    assert_eq!(ips(&analyst).len(), 8, "the CERT sees unrouted events too");

    // Filters never widen a constituent's view.
    let forbidden = app.get("alice", "/api/v1/events?organisation=EP-B").await;
    assert_status(&forbidden, StatusCode::NOT_FOUND);
    let by_ip = app.get("alice", "/api/v1/events?ip=192.0.2.64/26").await;
    assert_eq!(ips(&by_ip), Vec::<String>::new());
    let one_b_event = bob.body["items"][0]["id"].as_str().unwrap().to_owned();
    assert_status(&app.get("alice", &format!("/api/v1/events/{one_b_event}")).await, StatusCode::NOT_FOUND);
    assert_status(&app.get("bob", &format!("/api/v1/events/{one_b_event}")).await, StatusCode::OK);
    let csv = app.get("alice", "/api/v1/events?format=csv").await;
    assert!(csv.text.starts_with("id,organisations,time.source"), "{}", csv.text);
    assert_eq!(csv.text.lines().count(), 5);
    assert!(!csv.text.contains("192.0.2.65"));

    // IntelMQ JSON lines, a page at a time: the events IntelMQ would read, each with its raw
    // line, and nothing of another organisation's.
    let first = app.get("alice", "/api/v1/events?format=intelmq-jsonl&limit=3").await;
    assert_status(&first, StatusCode::OK);
    assert_eq!(first.headers[header::CONTENT_TYPE], "application/x-ndjson; charset=utf-8");
    let cursor = first.headers["x-next-cursor"].to_str().unwrap().to_owned();
    let rest =
        app.get("alice", &format!("/api/v1/events?format=intelmq-jsonl&limit=3&cursor={cursor}")).await;
    assert!(rest.headers.get("x-next-cursor").is_none());
    let mut exported = Vec::new();
    for line in first.text.lines().chain(rest.text.lines()) {
        let event = neretva_event::intelmq_json::from_line(line).unwrap_or_else(|e| panic!("{e:?}: {line}"));
        let fields: serde_json::Value = serde_json::from_str(line).unwrap();
        let ip = fields["source.ip"].as_str().unwrap().to_owned();
        let raw = String::from_utf8(event.raw().unwrap()).unwrap();
        assert!(raw.starts_with("\"2026-11-27 10:00:00\",\"medium\",\"") && raw.contains(&ip), "{raw}");
        assert!(line.contains("\"source.port\": 53, "), "IntelMQ's own separators: {line}");
        exported.push(ip);
    }
    exported.sort();
    assert_eq!(exported, ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"]);
    // IntelMQ 3.5.0 itself takes every line as an event (each field checked by its
    // harmonisation), when NERETVA_TEST_INTELMQ_PYTHON names a Python with it.
    if let Some(python) = std::env::var_os("NERETVA_TEST_INTELMQ_PYTHON") {
        let lines = std::env::temp_dir().join(format!("neretva-export-{}.jsonl", std::process::id()));
        std::fs::write(&lines, format!("{}{}", first.text, rest.text)).unwrap();
        let read = std::process::Command::new(python)
            .arg("-c")
            .arg(
                "import json, sys\n\
                 from intelmq.lib.message import Event\n\
                 lines = open(sys.argv[1]).read().splitlines()\n\
                 for line in lines:\n    fields = json.loads(line)\n    assert Event(fields).to_dict() == fields, line\n\
                 print(len(lines))",
            )
            .arg(&lines)
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&lines);
        let said = String::from_utf8_lossy(&read.stdout);
        assert!(
            read.status.success() && said.trim() == "4",
            "{said}{}",
            String::from_utf8_lossy(&read.stderr)
        );
    }
    // The API description names the three forms of a page.
    let doc = app.get("alice", "/api/v1/openapi.json").await;
    let content = &doc.body["paths"]["/api/v1/events"]["get"]["responses"]["200"]["content"];
    for media_type in ["application/json", "text/csv", "application/x-ndjson"] {
        assert!(content.get(media_type).is_some(), "{media_type}: {content}");
    }
    let unknown = app.get("alice", "/api/v1/events?format=xml").await;
    assert_status(&unknown, StatusCode::BAD_REQUEST);
    assert!(unknown.text.contains("expected json, csv or intelmq-jsonl"), "{}", unknown.text);

    // Reports and their errors are for the CERT's staff.
    let id = report["id"].as_str().unwrap();
    assert_status(&app.get("alice", "/api/v1/reports").await, StatusCode::FORBIDDEN);
    let errors = app.get("analyst", &format!("/api/v1/reports/{id}/errors")).await;
    assert_eq!(errors.body[0]["line"], 4, "{}", errors.text);
    assert!(errors.body[0]["raw"].as_str().unwrap().contains("not-an-ip"));

    // So are the configured feeds, each with its newest report (no source runs in this app).
    assert_status(&app.get("alice", "/api/v1/feeds").await, StatusCode::FORBIDDEN);
    let feeds = app.get("analyst", "/api/v1/feeds").await;
    assert_status(&feeds, StatusCode::OK);
    assert_eq!(feeds.body.as_array().unwrap().len(), 1, "{}", feeds.text);
    let feed = &feeds.body[0];
    assert_eq!(
        (feed["name"].as_str(), feed["parser"].as_str()),
        (Some("shadowserver-dns"), Some("shadowserver"))
    );
    assert!(feed["source"].is_null() && feed["source_state"].is_null(), "{feed}");
    assert_eq!(feed["last_report"]["id"], id);
    assert_eq!(feed["last_report"]["events"], 8);
    // A fetch needs a source running in this server; the feed must exist; staff only.
    let fetch = app.call(Some("analyst"), "POST", "/api/v1/feeds/shadowserver-dns/fetch", None).await;
    assert_status(&fetch, StatusCode::CONFLICT);
    assert!(fetch.text.contains("has no source running in this server"), "{}", fetch.text);
    let unknown = app.call(Some("analyst"), "POST", "/api/v1/feeds/nope/fetch", None).await;
    assert_status(&unknown, StatusCode::NOT_FOUND);
    let constituent = app.call(Some("alice"), "POST", "/api/v1/feeds/shadowserver-dns/fetch", None).await;
    assert_status(&constituent, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn staff_parse_a_stored_report_again_until_its_data_is_purged() {
    let app = test_app().await;
    let report = upload(&app).await;
    let id = report["id"].as_str().unwrap();
    let path = format!("/api/v1/reports/{id}/reparse");

    // The same parser gives the same events again, replacing the first ones; counts are fresh.
    let again = app.call(Some("analyst"), "POST", &path, None).await;
    assert_status(&again, StatusCode::OK);
    assert_eq!(
        (again.body["id"].as_str(), again.body["events"].as_u64()),
        (Some(id), Some(8)),
        "{}",
        again.text
    );
    assert_eq!((again.body["errors"].as_u64(), again.body["duplicates"].as_u64()), (Some(1), Some(0)));
    let events = app.get("analyst", "/api/v1/events?limit=1000").await;
    assert_eq!(ips(&events).len(), 8, "replaced, not added");
    let alice = app.get("alice", "/api/v1/events").await;
    assert_eq!(ips(&alice), ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"], "routed again");
    let audit = app.get("admin", "/api/v1/audit?action=report.reparse").await;
    let entries = audit.body["items"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{}", audit.text);
    assert_eq!(
        (entries[0]["actor"].as_str(), entries[0]["object_id"].as_str()),
        (Some("user:analyst"), Some(id))
    );

    // Staff who may write only; unknown reports and ids are told apart.
    for user in ["alice", "auditor"] {
        assert_status(&app.call(Some(user), "POST", &path, None).await, StatusCode::FORBIDDEN);
    }
    let unknown = format!("/api/v1/reports/{}/reparse", neretva_model::Uuid::new_v4());
    assert_status(&app.call(Some("analyst"), "POST", &unknown, None).await, StatusCode::NOT_FOUND);
    let bad = app.call(Some("analyst"), "POST", "/api/v1/reports/x/reparse", None).await;
    assert_status(&bad, StatusCode::BAD_REQUEST);

    // Once report retention purged the raw data, the report cannot be parsed again.
    let later = time::OffsetDateTime::now_utc() + time::Duration::seconds(1);
    assert_eq!(app.store.purge_report_data(later).await.unwrap(), 1);
    let purged = app.call(Some("analyst"), "POST", &path, None).await;
    assert_status(&purged, StatusCode::CONFLICT);
    assert!(
        purged.text.contains("its raw data was purged (pipeline.report_retention_days)"),
        "{}",
        purged.text
    );
    assert_eq!(ips(&app.get("analyst", "/api/v1/events?limit=1000").await).len(), 8, "the events stay");
    let shown = app.get("analyst", &format!("/api/v1/reports/{id}")).await;
    assert_eq!(
        (shown.body["data_purged"].as_bool(), shown.body["events"].as_u64()),
        (Some(true), Some(8)),
        "{}",
        shown.text
    );
}

#[tokio::test]
async fn compressed_uploads_are_unpacked_within_the_limits() {
    use std::io::Write as _;
    let app = test_app().await;
    let csv = "\"timestamp\",\"severity\",\"ip\",\"protocol\",\"port\",\"hostname\",\"tag\",\"asn\",\"geo\",\"region\",\"city\",\"naics\",\"hostname_source\",\"sector\",\"dns_version\",\"min_amplification\"\n\
        \"2026-11-27 10:00:00\",\"medium\",\"192.0.2.9\",\"udp\",\"53\",\"\",\"openresolver\",\"64500\",\"BA\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"\n";
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(csv.as_bytes()).unwrap();
    let zip = |members: &[&str]| {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for name in members {
            writer.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            writer.write_all(csv.replace("192.0.2.9", "192.0.2.10").as_bytes()).unwrap();
        }
        writer.finish().unwrap().into_inner()
    };
    let post = |query: &str, body: Vec<u8>| {
        app.send(
            Request::post(format!("/api/v1/reports?feed=shadowserver-dns{query}"))
                .header(header::AUTHORIZATION, format!("Bearer {}", app.tokens["analyst"]))
                .body(Body::from(body))
                .unwrap(),
        )
    };
    // A gzip file is the report it holds, stored under its name without `.gz`.
    let gzipped = post("&file_name=2026-11-27-scan_dns-ba.csv.gz", gzip.finish().unwrap()).await;
    assert_status(&gzipped, StatusCode::CREATED);
    assert_eq!(gzipped.body["events"], 1, "{}", gzipped.text);
    assert_eq!(gzipped.body["source"], "upload:analyst#2026-11-27-scan_dns-ba.csv");
    assert_eq!(gzipped.body["size"].as_u64(), Some(csv.len() as u64));
    // A zip archive of one file is that file; of two, refused.
    let one = post("", zip(&["2026-11-27-scan_dns-ba.csv"])).await;
    assert_status(&one, StatusCode::CREATED);
    assert_eq!(one.body["source"], "upload:analyst#2026-11-27-scan_dns-ba.csv");
    let two = post("", zip(&["a.csv", "b.csv"])).await;
    assert_status(&two, StatusCode::BAD_REQUEST);
    assert_eq!(two.body["field"], "body");
    assert!(two.text.contains("holds 2 files"), "{}", two.text);
    // Broken compressed data is a clear error, not a report of garbage.
    let broken = post("", b"\x1f\x8b\x08\x00broken".to_vec()).await;
    assert_status(&broken, StatusCode::BAD_REQUEST);
    assert!(broken.text.contains("cannot decompress gzip data"), "{}", broken.text);
    let events = app.get("analyst", "/api/v1/events?limit=100").await;
    assert_eq!(events.body["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn event_filters_and_paging() {
    let app = test_app().await;
    upload(&app).await;
    let page = app.get("analyst", "/api/v1/events?limit=3").await;
    assert_eq!(page.body["items"].as_array().unwrap().len(), 3);
    let cursor = page.body["next_cursor"].as_str().unwrap().to_owned();
    let next = app.get("analyst", &format!("/api/v1/events?limit=3&cursor={cursor}")).await;
    assert_eq!(next.body["items"].as_array().unwrap().len(), 3);
    assert_ne!(page.body["items"][0]["id"], next.body["items"][0]["id"]);
    for (query, count) in [
        ("ip=192.0.2.64/26", 3),
        ("ip=192.0.2.1", 1),
        ("type=vulnerable-system", 8),
        ("taxonomy=vulnerable", 8),
        ("taxonomy=fraud", 0),
        ("feed=shadowserver-dns", 8),
        ("q=198.51.100", 1),
        ("organisation=EP-B", 3),
        ("since=2026-11-27T00:00:00Z&until=2026-11-28T00:00:00Z", 8),
        ("since=2026-11-28T00:00:00Z", 0),
    ] {
        let reply = app.get("analyst", &format!("/api/v1/events?limit=1000&{query}")).await;
        assert_status(&reply, StatusCode::OK);
        assert_eq!(reply.body["items"].as_array().unwrap().len(), count, "{query}: {}", reply.text);
    }
    let bad = app.get("analyst", "/api/v1/events?since=yesterday").await;
    assert_status(&bad, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["field"], "since");
    let unknown_feed = app
        .send(
            Request::post("/api/v1/reports?feed=nothing")
                .header(header::AUTHORIZATION, format!("Bearer {}", app.tokens["analyst"]))
                .body(Body::from("x"))
                .unwrap(),
        )
        .await;
    assert_status(&unknown_feed, StatusCode::NOT_FOUND);
    assert_eq!(unknown_feed.body["field"], "feed");
}

/// An event stored with fields IntelMQ's types do not take (an older version's, say) is still
/// exported as IntelMQ JSON lines: as stored, with its raw line.
#[tokio::test]
async fn an_event_intelmq_would_not_read_is_exported_as_stored() {
    use neretva_store::feeds::NewEvent;
    let app = test_app().await;
    let now = time::OffsetDateTime::now_utc();
    let event = NewEvent::new(
        uuid::Uuid::now_v7(),
        "old",
        7,
        "192.0.2.300,old",
        now,
        json!({"source.ip": "192.0.2.300", "feed.name": "old"}).to_string(),
    );
    app.store.insert_events(&[event]).await.unwrap();
    let export = app.get("analyst", "/api/v1/events?format=intelmq-jsonl").await;
    assert_status(&export, StatusCode::OK);
    let line: serde_json::Value = serde_json::from_str(export.text.trim_end()).unwrap();
    assert_eq!(line, json!({"feed.name": "old", "raw": "MTkyLjAuMi4zMDAsb2xk", "source.ip": "192.0.2.300"}));
}

#[tokio::test]
async fn a_text_search_reads_a_bounded_share_of_events_per_page() {
    let app = crate::support::test_app_with(neretva_server::ServerConfig {
        text_search_scan: 3,
        ..crate::support::config()
    })
    .await;
    upload(&app).await;
    // Newest first the events are 198.51.100.9, .67, .66, .65, .4, .3, .2, .1; three per page are read.
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            None => "/api/v1/events?q=192.0.2.6".to_owned(),
            Some(cursor) => format!("/api/v1/events?q=192.0.2.6&cursor={cursor}"),
        };
        let reply = app.get("analyst", &url).await;
        assert_status(&reply, StatusCode::OK);
        pages.push((ips(&reply), reply.body["partial"].as_bool().unwrap()));
        match reply.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(pages.len() < 10, "the search does not end: {pages:?}");
    }
    assert_eq!(
        pages,
        [
            (vec!["192.0.2.66".to_owned(), "192.0.2.67".to_owned()], true),
            (vec!["192.0.2.65".to_owned()], true),
            (vec![], false),
        ]
    );
    // A constituent's search is bounded the same way and still sees only its own events.
    let bob = app.get("bob", "/api/v1/events?q=192.0.2").await;
    assert_eq!(
        (ips(&bob), bob.body["partial"].as_bool()),
        (vec!["192.0.2.66".to_owned(), "192.0.2.67".to_owned()], Some(true))
    );
}
