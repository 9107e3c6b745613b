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
    // A `misp-feed` source subscribed to the exported feed (served on 127.0.0.1) takes its
    // published event, and the `misp-feed` parser makes a feed event of its attribute for IDS.
    let port = serve_directory(feed.clone());
    let config = d.join("feed-source.toml");
    std::fs::write(
        &config,
        format!(
            "[[pipeline.feeds]]\nname = \"own-feed\"\nparser = \"misp-feed\"\n\
             source = {{ kind = \"misp-feed\", url = \"http://127.0.0.1:{port}/\", max_age_days = 0 }}\n"
        ),
    )
    .unwrap();
    let fetch = |args: &[&str]| neretva(d).env("NERETVA_CONFIG", &config).args(args).output().unwrap();
    let fetched = json_of(&fetch(&["feeds", "fetch", "own-feed", "--json"]), true);
    assert_eq!(
        (fetched["ok"].as_bool(), fetched["reports_fetched"].as_u64()),
        (Some(true), Some(1)),
        "{fetched}"
    );
    let report = &fetched["new_reports"][0];
    assert!(
        report["source"].as_str().unwrap().starts_with("misp-feed:11111111-0000-4000-8000-000000000001@"),
        "{report}"
    );
    assert_eq!((report["events"].as_u64(), report["errors"].as_u64()), (Some(1), Some(0)), "{report}");
    // Looked at again, the unchanged event is not downloaded again.
    let again = json_of(&fetch(&["feeds", "fetch", "own-feed", "--json"]), true);
    assert_eq!((again["ok"].as_bool(), again["reports_fetched"].as_u64()), (Some(true), Some(0)), "{again}");

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

/// Serves the files of `dir` over HTTP on 127.0.0.1 (one request per connection) while the test
/// runs; returns the port.
fn serve_directory(dir: std::path::PathBuf) -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            reader.read_line(&mut request).unwrap();
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 2 {
                line.clear();
            }
            let path = request.split_whitespace().nth(1).unwrap_or("/").trim_start_matches('/').to_owned();
            let file = (!path.contains(['/', '\\']) && !path.is_empty())
                .then(|| std::fs::read(dir.join(&path)).ok())
                .flatten();
            match file {
                Some(bytes) => {
                    write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        bytes.len()
                    )
                    .unwrap();
                    stream.write_all(&bytes).unwrap();
                }
                None => {
                    write!(stream, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        .unwrap()
                }
            }
        }
    });
    port
}
