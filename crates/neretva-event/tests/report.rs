//! Reports from IntelMQ messages, stamping events, and `compare`.

use expect_test::expect;
use neretva_event::intelmq_json::{from_line, to_line};
use neretva_event::{Event, Report, compare};

#[test]
fn report_from_intelmq_and_stamp() {
    let json = serde_json::json!({
        "__type": "Report",
        "feed.name": "Test-Accessible-SMB",
        "feed.provider": "Shadowserver",
        "feed.accuracy": 90,
        "feed.code": "smb",
        "feed.documentation": "https://www.shadowserver.org/what-we-do/network-reporting/",
        "feed.url": "hxxps://example.com/reports",
        "rtir_id": 7,
        "extra.file_name": "2019-01-01-test_smb-test-geo.csv",
        "raw": "aXAscG9ydAoxOTIuMC4yLjEsNDQ1Cg==",
        "time.observation": "2015-01-01T00:00:00+00:00",
    });
    let report = Report::from_intelmq(&json).expect("report");
    assert_eq!(report.raw, b"ip,port\n192.0.2.1,445\n");
    assert_eq!(report.feed_url.as_deref(), Some("https://example.com/reports"));
    assert_eq!(report.feed_accuracy, Some(90.0));
    assert_eq!(report.extra("file_name"), Some(&serde_json::json!("2019-01-01-test_smb-test-geo.csv")));
    let mut event = report.new_event();
    event.set("source.ip", "192.0.2.1").expect("ip");
    expect![[r#"{"feed.accuracy": 90.0, "feed.code": "smb", "feed.documentation": "https://www.shadowserver.org/what-we-do/network-reporting/", "feed.name": "Test-Accessible-SMB", "feed.provider": "Shadowserver", "feed.url": "https://example.com/reports", "rtir_id": 7, "source.ip": "192.0.2.1", "time.observation": "2015-01-01T00:00:00+00:00"}"#]]
        .assert_eq(&to_line(&event));
    // The report's extra members are not copied (IntelMQ's new_event does not).
    assert!(!event.contains("extra"));
}

#[test]
fn report_errors_are_all_reported() {
    let json = serde_json::json!({
        "__type": "Event",
        "feed.name": "x",
        "feed.url": "",
        "feed.accuracy": 200,
        "raw": "@@@",
        "source.ip": "192.0.2.1",
        "time.observation": "soon",
    });
    let errors = Report::from_intelmq(&json).expect_err("bad report");
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    expect![[r#"
        __type: "\"Event\"" is not "Report"
        feed.accuracy: "200" is not between 0 and 100
        raw: "@@@" is not valid base64
        source.ip: "192.0.2.1" is for an unknown report field
        time.observation: "soon" is not a date and time"#]]
    .assert_eq(&shown.join("\n"));
    assert!(Report::from_intelmq(&serde_json::json!([1])).is_err());
    // A report without time.observation stamps none.
    let report = Report::from_intelmq(&serde_json::json!({"feed.name": "F", "raw": ""})).expect("report");
    assert_eq!(report.time_observation, None);
    assert_eq!(to_line(&report.new_event()), r#"{"feed.name": "F"}"#);
}

#[test]
fn compare_lists_differences() {
    let expected = serde_json::json!({
        "__type": "Event",
        "classification.type": "infected-system",
        "source.asn": 64512,
        "source.geolocation.latitude": 52,
        "source.ip": "192.0.2.1",
        "source.port": 445,
        "raw": "eA==",
        "time.observation": "2015-01-01T00:00:00+02:00",
        "extra.list": [1, 2],
    });
    let actual = from_line(r#"{"classification.type": "infected-system", "source.asn": 64512, "source.geolocation.latitude": 52.0, "source.ip": "192.0.2.2", "destination.port": 1, "raw": "eQ==", "extra.list": [1, 2.0], "time.observation": "2020-01-01T00:00:00+00:00"}"#).expect("line");
    expect![[r#"
        destination.port: not expected, got 1
        raw: expected "eA==", got "eQ=="
        source.ip: expected "192.0.2.1", got "192.0.2.2"
        source.port: expected 445, missing"#]]
    .assert_eq(&compare(&expected, &actual, true).join("\n"));
    expect![[r#"
        destination.port: not expected, got 1
        source.ip: expected "192.0.2.1", got "192.0.2.2"
        source.port: expected 445, missing"#]]
    .assert_eq(&compare(&expected, &actual, false).join("\n"));
    assert_eq!(compare(&serde_json::json!({}), &Event::new(), true), Vec::<String>::new());
    assert_eq!(compare(&serde_json::json!(1), &Event::new(), true).len(), 1);
}
