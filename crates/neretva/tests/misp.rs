//! The MISP-compatible API as a real process: events written and searched over MISP's paths
//! with raw `Authorization` keys, what another organisation may not see, and, when
//! `NERETVA_TEST_PYTHON` names a Python with `pymisp` 2.5.34.4 installed, PyMISP driven through
//! connect, event and attribute CRUD, tags, publishing, searches, sharing groups and sightings
//! (`tests/misp/pymisp_check.py`). With the variable set, any problem fails the test.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

mod support;

use support::{DEMO, DataDir, json as json_of, neretva, ok};

/// One HTTP/1.1 request with MISP's headers; returns the status and the body.
fn http(port: u16, method: &str, path: &str, authorization: Option<&str>, body: &str) -> (u16, String) {
    http_accepting(port, method, path, authorization, "application/json", body)
}

fn http_accepting(
    port: u16,
    method: &str,
    path: &str,
    authorization: Option<&str>,
    accept: &str,
    body: &str,
) -> (u16, String) {
    let mut headers = vec![("Accept", accept), ("Content-Type", "application/json")];
    headers.extend(authorization.map(|key| ("Authorization", key)));
    let (status, _, body) = support::request(port, method, path, &headers, body);
    (status, body)
}

#[track_caller]
fn json_body(status: u16, expected: u16, body: &str) -> Value {
    assert_eq!(status, expected, "{body}");
    serde_json::from_str(body).unwrap()
}

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/misp/pymisp_check.py");
const GROUP: &str = "Energy sector";

fn add_user(dir: &std::path::Path, name: &str, org: &str, role: &str) -> String {
    let mut add = neretva(dir)
        .args(["user", "add", name, "--org", org, "--role", role, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin.take().unwrap().write_all(b"misp-test-password-long\n").unwrap();
    ok(&add.wait_with_output().unwrap());
    let token = json_of(
        &neretva(dir)
            .args(["token", "create", "--user", name, "--name", name, "--scope", "write", "--json"])
            .output()
            .unwrap(),
    );
    token["secret"].as_str().unwrap().to_owned()
}

#[test]
fn misp_api_serves_pymisp() {
    let dir = DataDir::new("misp");
    let d = dir.0.as_path();
    let run = |args: &[&str]| neretva(d).args(args).output().unwrap();
    ok(&run(&["migrate"]));
    ok(&run(&["org", "import", DEMO]));
    let key = add_user(d, "analyst", "CERT-BIH", "analyst");
    let other_key = add_user(d, "outsider", "EP-NERETVA", "community");

    let (_server, port) = support::serve(d);

    // Keys: raw, Bearer, X-MISP-AUTH-style raw; none or a wrong one is refused with MISP's 403.
    let (status, body) = http(port, "GET", "/servers/getVersion", Some(&key), "");
    let version = json_body(status, 200, &body);
    assert_eq!(version["version"], "2.5.2");
    let (status, _) = http(port, "GET", "/servers/getVersion", Some(&format!("Bearer {key}")), "");
    assert_eq!(status, 200);
    let (status, body) = http(port, "GET", "/servers/getVersion", None, "");
    assert!(json_body(status, 403, &body)["message"].as_str().unwrap().starts_with("Authentication failed"));
    let (status, _) =
        http(port, "GET", "/users/view/me.json", Some("nrt_00000000000000000000000000000000_x"), "");
    assert_eq!(status, 403);
    let (status, body) = http(port, "GET", "/users/view/me.json", Some(&key), "");
    let me = json_body(status, 200, &body);
    assert!(me["User"].is_object() && me["Role"].is_object() && me["UserSetting"].is_object(), "{me}");
    let (status, body) = http(port, "GET", "/attributes/describeTypes.json", Some(&key), "");
    let types = json_body(status, 200, &body);
    assert_eq!(types["result"]["sane_defaults"]["ip-dst"]["default_category"], "Network activity");

    // A sharing group both organisations belong to, made through /api/v1.
    let (status, body) =
        http(port, "GET", "/api/v1/organisations?limit=1000", Some(&format!("Bearer {key}")), "");
    let orgs = json_body(status, 200, &body);
    let orgs = orgs.get("items").unwrap_or(&orgs).as_array().unwrap().clone();
    let outsider_org = orgs.iter().find(|org| org["short_name"] == "EP-NERETVA").unwrap()["id"].clone();
    let group = json!({ "name": GROUP, "members": [outsider_org] }).to_string();
    let (status, body) =
        http(port, "POST", "/api/v1/intel/sharing-groups", Some(&format!("Bearer {key}")), &group);
    assert_eq!(status, 201, "{body}");

    // A community event, added as PyMISP adds (flat, enums as strings).
    let community = json!({
        "info": "Community phishing notes", "distribution": "1", "threat_level_id": "3", "analysis": "0",
        "uuid": "5c000000-0000-4000-8000-000000000001",
        "Tag": [{"name": "tlp:green"}],
        "Attribute": [{"type": "domain", "value": "shared.example", "uuid": "5c000000-0000-4000-8000-0000000000a1"}]
    });
    let (status, body) = http(port, "POST", "/events/add", Some(&key), &community.to_string());
    let added = json_body(status, 200, &body);
    let id = added["Event"]["id"].as_str().unwrap().to_owned();
    assert!(id.parse::<i64>().unwrap() > 0);
    assert!(added["Event"]["Attribute"][0]["id"].as_str().unwrap().parse::<i64>().unwrap() > 0);
    let (status, _) = http(port, "POST", "/events/add", Some(&key), &community.to_string());
    assert_eq!(status, 403, "a second event with the same uuid is refused");
    // An organisation-only event.
    let private = json!({ "Event": {
        "info": "Private lead", "distribution": "0", "uuid": "5c000000-0000-4000-8000-000000000002",
        "Attribute": [{"type": "ip-dst", "value": "203.0.113.77", "uuid": "5c000000-0000-4000-8000-0000000000b1"}]
    }});
    let (status, body) = http(port, "POST", "/events/add", Some(&key), &private.to_string());
    let private_id = json_body(status, 200, &body)["Event"]["id"].as_str().unwrap().to_owned();

    // The other organisation sees the community event, never the private one.
    for path in
        [format!("/events/view/{id}"), "/events/view/5c000000-0000-4000-8000-000000000001.json".to_owned()]
    {
        let (status, body) = http(port, "GET", &path, Some(&other_key), "");
        assert_eq!(json_body(status, 200, &body)["Event"]["info"], "Community phishing notes");
    }
    for path in [
        format!("/events/view/{private_id}"),
        "/events/view/5c000000-0000-4000-8000-000000000002/deleted[]:0/excludeLocalTags:1".to_owned(),
    ] {
        let (status, body) = http(port, "GET", &path, Some(&other_key), "");
        assert_eq!(status, 404, "{body}");
        assert!(!body.contains("Private lead") && !body.contains("203.0.113.77"), "{body}");
        assert_eq!(http(port, "HEAD", &path, Some(&other_key), "").0, 404);
        assert_eq!(http(port, "HEAD", &path, Some(&key), "").0, 200);
    }
    let search = json!({"returnFormat": "json", "value": "203.0.113.%"}).to_string();
    let (status, body) = http(port, "POST", "/events/restSearch", Some(&key), &search);
    assert_eq!(json_body(status, 200, &body)["response"].as_array().unwrap().len(), 1);
    let (status, body) = http(port, "POST", "/events/restSearch", Some(&other_key), &search);
    assert_eq!(json_body(status, 200, &body)["response"], json!([]));
    let (status, body) = http(port, "POST", "/attributes/restSearch", Some(&other_key), &search);
    assert_eq!(json_body(status, 200, &body)["response"]["Attribute"], json!([]));
    let (status, body) = http(port, "POST", "/attributes/restSearch", Some(&key), &search);
    assert_eq!(json_body(status, 200, &body)["response"]["Attribute"][0]["value"], "203.0.113.77");
    let (status, body) = http(port, "POST", &format!("/events/delete/{private_id}"), Some(&other_key), "");
    assert_eq!(status, 404, "{body}");
    let (status, body) = http(port, "POST", "/events/restSearch", Some(&key), r#"{"returnFormat":"csv"}"#);
    assert!(json_body(status, 400, &body)["message"].as_str().unwrap().contains("returnFormat"));
    let (status, _) = http(port, "GET", "/events/frobnicate", Some(&key), "");
    assert_eq!(status, 404);

    match std::env::var_os("NERETVA_TEST_PYTHON") {
        Some(python) => {
            let output = Command::new(python)
                .args([SCRIPT, &format!("http://127.0.0.1:{port}"), &key, &other_key, GROUP])
                .output()
                .unwrap();
            let stdout = ok(&output);
            let report: Value = serde_json::from_str(stdout.trim()).unwrap();
            assert_eq!(report["failures"], json!([]), "{report}");
            assert!(report["checks"].as_u64().unwrap() >= 15, "{report}");
        }
        None => eprintln!("NERETVA_TEST_PYTHON is not set: the PyMISP run was left out"),
    }

    // Pull into a second instance, as a MISP server pulls: published events only, distribution
    // narrowed one step, local tags removed, organisation-only events left home, incremental.
    let (status, body) = http(port, "POST", &format!("/events/publish/{id}"), Some(&key), "");
    assert_eq!(status, 200, "{body}");
    let connected = json!({
        "info": "Connected botnet C2", "distribution": "2", "published": true, "timestamp": "1700000000",
        "uuid": "5c000000-0000-4000-8000-000000000003",
        "Tag": [{"name": "tlp:green"}, {"name": "internal:triage", "local": true}],
        "Attribute": [{"type": "ip-dst", "value": "198.51.100.23", "uuid": "5c000000-0000-4000-8000-0000000000c1"}]
    });
    let (status, body) = http(port, "POST", "/events/add", Some(&key), &connected.to_string());
    assert_eq!(status, 200, "{body}");
    let (status, body) =
        http(port, "POST", "/events/publish/5c000000-0000-4000-8000-000000000003", Some(&key), "");
    assert_eq!(status, 200, "{body}");
    // Published through the MISP API, the event is in the community's TAXII collection too.
    let taxii = |path: &str| {
        let bearer = format!("Bearer {key}");
        let (status, body) =
            http_accepting(port, "GET", path, Some(&bearer), "application/taxii+json;version=2.1", "");
        json_body(status, 200, &body)
    };
    let collections = taxii("/taxii2/neretva/collections/");
    let community = collections["collections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|collection| collection["title"] == "Intel events for the community")
        .unwrap_or_else(|| panic!("{collections}"))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let objects = taxii(&format!("/taxii2/neretva/collections/{community}/objects/")).to_string();
    assert!(objects.contains("198.51.100.23"), "{objects}");
    let (status, body) = http(port, "POST", &format!("/events/publish/{private_id}"), Some(&key), "");
    assert_eq!(status, 200, "{body}");

    let puller = DataDir::new("misp-pull");
    let p = puller.0.as_path();
    ok(&neretva(p).arg("migrate").output().unwrap());
    ok(&neretva(p).args(["org", "import", DEMO]).output().unwrap());
    let key_file = p.join("remote.key");
    std::fs::write(&key_file, format!("{key}\n")).unwrap();
    let remote = format!("http://127.0.0.1:{port}");
    let pull = || {
        json_of(
            &neretva(p)
                .args(["intel", "sync", "pull", "--url", &remote, "--key-file"])
                .arg(&key_file)
                .arg("--json")
                .output()
                .unwrap(),
        )
    };
    let first = pull();
    assert_eq!(first["remote_version"], "2.5.2", "{first}");
    assert_eq!(first["problems"], json!([]), "{first}");
    assert_eq!(first["organisation_only"], 1, "{first}");
    let mut pulled: Vec<(String, u64)> = first["created"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| (event["info"].as_str().unwrap().to_owned(), event["distribution"].as_u64().unwrap()))
        .collect();
    pulled.sort();
    assert_eq!(
        pulled,
        [("Community phishing notes".to_owned(), 0), ("Connected botnet C2".to_owned(), 1)],
        "{first}"
    );
    let exported = json_of(&neretva(p).args(["intel", "export"]).output().unwrap());
    let text = exported.to_string();
    assert!(text.contains("198.51.100.23") && !text.contains("internal:triage"), "{text}");
    assert!(!text.contains("Private lead") && !text.contains("203.0.113.77"), "{text}");

    let again = pull();
    assert_eq!(
        (again["created"].as_array().unwrap().len(), again["unchanged"].as_u64()),
        (0, Some(2)),
        "{again}"
    );
    // A change on the remote (an edit, then publishing again) is pulled as an update.
    let edit = json!({ "info": "Connected botnet C2, second wave" }).to_string();
    let (status, body) =
        http(port, "POST", "/events/edit/5c000000-0000-4000-8000-000000000003", Some(&key), &edit);
    assert_eq!(status, 200, "{body}");
    let (status, body) =
        http(port, "POST", "/events/publish/5c000000-0000-4000-8000-000000000003", Some(&key), "");
    assert_eq!(status, 200, "{body}");
    let third = pull();
    assert_eq!(third["updated"][0]["info"], "Connected botnet C2, second wave", "{third}");
    assert_eq!(third["unchanged"], 1, "{third}");

    let refused = neretva(p)
        .args(["intel", "sync", "pull", "--url", &remote, "--key-file"])
        .arg(p.join("missing.key"))
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let wrong_key = p.join("wrong.key");
    std::fs::write(&wrong_key, "nrt_00000000000000000000000000000000_x").unwrap();
    let refused = neretva(p)
        .args(["intel", "sync", "pull", "--url", &remote, "--key-file"])
        .arg(&wrong_key)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("403"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    // The remote side of a MISP push: which events it wants, then the events, refused when
    // not newer than the stored copy.
    let offer = json!([
        {"Event": {"uuid": "5c000000-0000-4000-8000-000000000003", "timestamp": "1"}},
        {"Event": {"uuid": "5c000000-0000-4000-8000-000000000009", "timestamp": "1800000000"}}
    ]);
    let (status, body) = http(port, "POST", "/events/filterEventIdsForPush", Some(&key), &offer.to_string());
    assert_eq!(json_body(status, 200, &body), json!(["5c000000-0000-4000-8000-000000000009"]));
    let pushed = json!({"Event": {
        "uuid": "5c000000-0000-4000-8000-000000000009", "info": "Pushed from a partner", "distribution": "1",
        "published": true, "timestamp": "1800000000", "date": "2027-01-15",
        "Orgc": {"uuid": "9a000000-0000-4000-8000-000000000001", "name": "Partner CERT"},
        "Tag": [{"name": "tlp:green"}, {"name": "partner:local", "local": true}],
        "Attribute": [{"type": "domain", "value": "pushed.example", "uuid": "5c000000-0000-4000-8000-0000000000d1"}]
    }});
    assert_eq!(
        http(port, "HEAD", "/events/view/5c000000-0000-4000-8000-000000000009", Some(&key), "").0,
        404
    );
    let (status, body) = http(port, "POST", "/events/add/metadata:1", Some(&key), &pushed.to_string());
    let stored = json_body(status, 200, &body);
    assert_eq!(stored["Event"]["Orgc"]["name"], "Partner CERT");
    assert_eq!(stored["Event"]["distribution"], "1");
    assert!(!body.contains("partner:local"), "{body}");
    let (status, body) = http(
        port,
        "POST",
        "/events/edit/5c000000-0000-4000-8000-000000000009/metadata:1",
        Some(&key),
        &pushed.to_string(),
    );
    assert_eq!(
        json_body(status, 403, &body)["message"],
        "Event in the request not newer than the local copy."
    );
    let mut newer = pushed.clone();
    newer["Event"]["timestamp"] = json!("1800000100");
    newer["Event"]["info"] = json!("Pushed from a partner, updated");
    let (status, body) = http(
        port,
        "POST",
        "/events/edit/5c000000-0000-4000-8000-000000000009/metadata:1",
        Some(&key),
        &newer.to_string(),
    );
    assert_eq!(json_body(status, 200, &body)["Event"]["info"], "Pushed from a partner, updated");

    for d in [d, p] {
        let audit = json_of(&neretva(d).args(["audit", "verify", "--json"]).output().unwrap());
        assert_eq!(audit["ok"], true);
    }
}
