//! `neretva intel import|export|search` as a real process on a fresh SQLite data directory.

#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};

mod support;

use support::{DEMO, DataDir, json_exited as json_of, neretva};

#[test]
fn intel_import_search_and_export() {
    let dir = DataDir::new("intel-commands");
    let d = dir.0.as_path();
    let run = |args: &[&str]| neretva(d).args(args).output().unwrap();
    assert!(run(&["migrate"]).status.success());
    assert!(run(&["org", "import", DEMO]).status.success());

    let attribute = |uuid: &str, attr_type: &str, value: &str| json!({ "uuid": uuid, "type": attr_type, "value": value, "to_ids": true });
    let document = json!([
        { "Event": {
            "uuid": "11111111-0000-4000-8000-000000000001", "info": "Phishing kit", "date": "2026-11-20",
            "published": true, "distribution": "1",
            "Attribute": [attribute("11111111-0000-4000-8000-0000000000a1", "ip-dst", "45.9.148.10")],
        }},
        { "Event": {
            "uuid": "11111111-0000-4000-8000-000000000002", "info": "Loader", "date": "2026-11-21",
            "distribution": "1",
            "Attribute": [
                attribute("11111111-0000-4000-8000-0000000000b1", "ip-src", "45.9.148.10"),
                attribute("11111111-0000-4000-8000-0000000000b2", "ip-dst", "not an address"),
            ],
        }},
    ]);
    let file = d.join("events.json");
    std::fs::write(&file, document.to_string()).unwrap();
    let imported = json_of(&run(&["intel", "import", file.to_str().unwrap(), "--json"]), false);
    let stored = imported["stored"].as_array().unwrap();
    assert_eq!(stored.len(), 2, "{imported}");
    assert_eq!(stored[1]["correlations"], json!(1), "{imported}");
    let problems = imported["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{imported}");
    assert!(problems[0].as_str().unwrap().contains("[1].Event.Attribute[1]"), "{imported}");

    let typed = json_of(&run(&["intel", "search", "45.9.148.10", "--type", "ip-dst", "--json"]), true);
    assert_eq!(typed.as_array().unwrap().len(), 1, "{typed}");
    let found = json_of(&run(&["intel", "search", "45.9.148.10", "--json"]), true);
    let events: Vec<&str> =
        found.as_array().unwrap().iter().map(|row| row["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["11111111-0000-4000-8000-000000000002", "11111111-0000-4000-8000-000000000001"]);
    assert!(!run(&["intel", "search", "45.9.148.99", "--json"]).status.success());

    let exported = json_of(&run(&["intel", "export", "--format", "misp"]), true);
    assert_eq!(exported.as_array().unwrap().len(), 2);
    let feed = d.join("feed");
    let summary = json_of(
        &run(&["intel", "export", "--format", "misp-feed", "--out", feed.to_str().unwrap(), "--json"]),
        true,
    );
    assert_eq!(summary["events"], json!(2));
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(feed.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(
        manifest.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["11111111-0000-4000-8000-000000000001"]
    );
    let stix = d.join("stix");
    json_of(&run(&["intel", "export", "--format", "stix", "--out", stix.to_str().unwrap(), "--json"]), true);
    let bundle: Value = serde_json::from_slice(
        &std::fs::read(stix.join("11111111-0000-4000-8000-000000000001.stix.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(bundle["type"], json!("bundle"));
    let refused = run(&["intel", "export", "--format", "misp-feed"]);
    assert!(!refused.status.success());
}
