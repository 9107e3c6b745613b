//! `neretva assessment` and `neretva preservation` as real processes, and their API with the
//! leak matrix: a SIM3 assessment taken twice and compared, its radar fetched; preservation
//! requests seen only by law enforcement and the 24/7 point of contact.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::Write;
use std::process::Stdio;

use serde_json::{Value, json};
use support::{DEMO, DataDir, Running, json_exited as json_of, neretva, ok, request};

fn add_user(dir: &std::path::Path, name: &str, org: &str, role: &[&str], scope: &str) -> String {
    let mut add = neretva(dir)
        .args(["user", "add", name, "--org", org, "--role"])
        .args(role)
        .arg("--password-stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin.take().unwrap().write_all(b"records-test-password-long\n").unwrap();
    ok(&add.wait_with_output().unwrap());
    let token = json_of(
        &neretva(dir)
            .args(["token", "create", "--user", name, "--name", name, "--scope", scope, "--json"])
            .output()
            .unwrap(),
        true,
    );
    token["secret"].as_str().unwrap().to_owned()
}

/// `neretva serve` with CERT-RS designated as the 24/7 point of contact.
fn serve(dir: &std::path::Path) -> (Running, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = Running(
        neretva(dir)
            .env("NERETVA_PRESERVATION__POINT_OF_CONTACT", "CERT-RS")
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "the server did not start");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    (server, port)
}

/// A call with a bearer token: status, head, body.
fn call(port: u16, token: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, String, String) {
    let auth = format!("Bearer {token}");
    let mut headers = vec![("Authorization", auth.as_str())];
    if body.is_some() {
        headers.push(("Content-Type", "application/json"));
    }
    let body = body.map(Value::to_string).unwrap_or_default();
    request(port, method, path, &headers, &body)
}

fn body_json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|error| panic!("{error}: {body}"))
}

#[test]
fn sim3_twice_compared_and_preservation_seen_only_by_its_handlers() {
    let dir = DataDir::new("records");
    let d = dir.0.as_path();
    let run = |args: &[&str]| neretva(d).args(args).output().unwrap();
    ok(&run(&["migrate"]));
    ok(&run(&["org", "import", DEMO]));

    // SIM3 taken twice through the command line: every parameter at 1, a year later at 2 with
    // a formalised mandate.
    let catalogue: Vec<&str> = vec![
        "O-1", "O-2", "O-3", "O-4", "O-5", "O-6", "O-7", "O-8", "O-9", "O-10", "O-11", "H-1", "H-2", "H-3",
        "H-4", "H-5", "H-6", "H-7", "T-1", "T-2", "T-3", "T-4", "T-5", "T-6", "T-7", "T-8", "T-9", "T-10",
        "P-1", "P-2", "P-3", "P-4", "P-5", "P-6", "P-7", "P-8", "P-9", "P-10", "P-11", "P-12", "P-13",
        "P-14", "P-15", "P-16", "P-17",
    ];
    let scores = |level: u8| -> Value {
        Value::Array(catalogue.iter().map(|p| json!({"parameter": p, "level": level})).collect())
    };
    let mut ids = Vec::new();
    for (day, level) in [("2025-06-01", 1u8), ("2026-06-01", 2)] {
        let started = run(&[
            "assessment",
            "start",
            "--org",
            "CERT-BIH",
            "--framework",
            "sim3",
            "--title",
            "SIM3",
            "--on",
            day,
        ]);
        let id = ok(&started).trim().to_owned();
        let file = d.join(format!("scores-{level}.json"));
        std::fs::write(&file, scores(level).to_string()).unwrap();
        let imported = json_of(&run(&["assessment", "import", &id, file.to_str().unwrap(), "--json"]), true);
        assert_eq!(imported["scored"], 45);
        ids.push(id);
    }
    let set = json_of(
        &run(&[
            "assessment",
            "set",
            &ids[1],
            "O-1",
            "3",
            "--evidence",
            "mandate in the Official Gazette",
            "--json",
        ]),
        true,
    );
    assert_eq!((set["enisa_tier"].as_str(), set["version"].as_i64()), (Some("intermediate"), Some(3)));
    // Bad input: nothing written, every problem named.
    let bad_file = d.join("bad.json");
    std::fs::write(&bad_file, r#"[{"parameter": "O-2", "level": 4}, {"parameter": "X-9", "level": 1}, {"parameter": "O-3", "level": 7}]"#).unwrap();
    let bad = json_of(&run(&["assessment", "import", &ids[1], bad_file.to_str().unwrap(), "--json"]), false);
    assert_eq!(bad["problems"].as_array().unwrap().len(), 2, "{bad}");
    let shown = json_of(&run(&["assessment", "show", &ids[1], "--json"]), true);
    assert_eq!(
        (shown["version"].as_i64(), shown["assessment"]["scores"][1]["level"].as_u64()),
        (Some(3), Some(2))
    );
    let unknown = run(&["assessment", "start", "--org", "NOPE", "--framework", "nis2", "--title", "x"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no organisation \"NOPE\""));

    let comparison = json_of(&run(&["assessment", "compare", &ids[0], &ids[1], "--json"]), true);
    assert_eq!((comparison["improved"].as_u64(), comparison["regressed"].as_u64()), (Some(45), Some(0)));
    assert_eq!(
        (comparison["tier_before"].as_str(), comparison["tier_after"].as_str()),
        (Some("basic"), Some("intermediate"))
    );
    assert_eq!(comparison["rows"][0]["delta"], 2);
    let radar = d.join("radar.svg");
    ok(&run(&["assessment", "radar", &ids[0], "--with", &ids[1], "-o", radar.to_str().unwrap()]));
    let radar = std::fs::read_to_string(&radar).unwrap();
    assert!(
        radar.starts_with("<svg ") && radar.contains(">O-6</text>") && radar.matches("<polygon").count() == 6
    );
    let trend = ok(&run(&["assessment", "trend", &ids[1]]));
    assert!(trend.contains(">2025-06-01</text>") && trend.contains(">2026-06-01</text>"));

    // Preservation from the command line: every problem of a bad request, nothing stored.
    let request_file = d.join("request.json");
    let mut new_request = json!({
        "reference": "HR-2026/41", "requesting_authority": "Public Prosecutor, Cybercrime Department",
        "requesting_party": "Croatia", "offence": "illegal access (Art. 2)",
        "facts": "intrusion into a hospital's mail server", "data_sought": "VPN gateway logs, March 2026",
        "relation_to_offence": "the intruder connected through the gateway", "custodian": "TELEKOM-DINARA",
        "necessity": "logs are rotated after 30 days", "mla_intended": false, "received_on": "2026-04-01"
    });
    std::fs::write(&request_file, new_request.to_string()).unwrap();
    let refused = json_of(&run(&["preservation", "add", request_file.to_str().unwrap(), "--json"]), false);
    assert!(refused["problems"][0].as_str().unwrap().starts_with("mla_intended:"), "{refused}");
    assert_eq!(json_of(&run(&["preservation", "list", "--json"]), true), json!([]));

    let police = add_user(d, "police", "ADI-BIH", &["law_enforcement"], "write");
    let point = add_user(d, "rs-analyst", "CERT-RS", &["analyst"], "write");
    let cert_admin = add_user(d, "cert-admin", "CERT-BIH", &["admin"], "admin");
    let constituent = add_user(d, "energy", "EP-NERETVA", &["constituent"], "write");
    let regulator = add_user(d, "regulator", "FZI", &["authority", "--sector", "energy"], "read");
    let fbih_admin = add_user(d, "fbih-admin", "CERT-FBIH", &["admin"], "write");

    let (_server, port) = serve(d);

    // Assessments through the API: the radar as SVG, the comparison; others get 404.
    let (status, head, svg) = call(
        port,
        &cert_admin,
        "GET",
        &format!("/api/v1/assessments/{}/radar.svg?with={}", ids[1], ids[0]),
        None,
    );
    assert_eq!(status, 200, "{svg}");
    assert!(head.to_lowercase().contains("content-type: image/svg+xml"), "{head}");
    assert!(svg.starts_with("<svg ") && svg.contains("CERT-BIH — SIM3"));
    let (status, _, body) =
        call(port, &cert_admin, "GET", &format!("/api/v1/assessments/{}/compare/{}", ids[0], ids[1]), None);
    assert_eq!((status, body_json(&body)["improved"].as_u64()), (200, Some(45)));
    for (who, token) in
        [("constituent", &constituent), ("authority", &regulator), ("police", &police), ("fbih", &fbih_admin)]
    {
        for path in
            [format!("/api/v1/assessments/{}", ids[0]), format!("/api/v1/assessments/{}/radar.svg", ids[0])]
        {
            assert_eq!(call(port, token, "GET", &path, None).0, 404, "{who} {path}");
        }
        let (status, _, body) = call(port, token, "GET", "/api/v1/assessments", None);
        assert_eq!((status, body.as_str()), (200, "[]"), "{who}");
    }
    // An operator's NIS2 self-assessment through the API; the regulator sees its sector's aggregate.
    let nis2 = json!({"org": "EP-NERETVA", "framework": "nis2", "title": "Art. 21", "assessed_on": "2026-05-01",
        "scores": [{"parameter": "a", "level": 2, "evidence": "policy approved"}, {"parameter": "b", "level": 3}]});
    let (status, _, body) = call(port, &constituent, "POST", "/api/v1/assessments", Some(&nis2));
    assert_eq!(status, 403, "a constituent that is not its organisation's admin: {body}");
    let (status, _, body) = call(port, &cert_admin, "POST", "/api/v1/assessments", Some(&nis2));
    assert_eq!(status, 201, "{body}");
    let bad = json!({"org": "NOPE", "framework": "cmmi", "title": "x", "assessed_on": "2026-13-01"});
    let (status, _, body) = call(port, &cert_admin, "POST", "/api/v1/assessments", Some(&bad));
    assert_eq!(status, 422);
    assert_eq!(body_json(&body)["details"].as_array().unwrap().len(), 3, "{body}");
    let (status, _, body) = call(port, &regulator, "GET", "/api/v1/assessments/sectors", None);
    assert_eq!(status, 200, "{body}");
    let sectors = body_json(&body);
    assert_eq!(
        (sectors[0]["sector"].as_str(), sectors[0]["organisations"].as_u64()),
        (Some("energy"), Some(1))
    );
    assert_eq!(sectors[0]["areas"][1]["mean"], 3.0);
    assert_eq!(call(port, &constituent, "GET", "/api/v1/assessments/sectors", None).0, 403);

    // Preservation: law enforcement records it; only it and the 24/7 point see it.
    new_request["mla_intended"] = json!(true);
    let (status, _, body) = call(port, &police, "POST", "/api/v1/preservation", Some(&new_request));
    assert_eq!(status, 201, "{body}");
    let id = body_json(&body)["id"].as_str().unwrap().to_owned();
    for (who, token, visible) in [
        ("police", &police, true),
        ("24/7 point", &point, true),
        ("operator admin", &cert_admin, false),
        ("other CERT admin", &fbih_admin, false),
        ("constituent", &constituent, false),
        ("authority", &regulator, false),
    ] {
        let expected = if visible { 200 } else { 404 };
        for path in [
            "/api/v1/preservation".to_owned(),
            format!("/api/v1/preservation/{id}"),
            "/api/v1/preservation/reminders".into(),
        ] {
            let (status, _, body) = call(port, token, "GET", &path, None);
            assert_eq!(status, expected, "{who} {path}: {body}");
            assert!(visible || !body.contains("HR-2026"), "{who} {path}: {body}");
        }
        let preserve = json!({"on": "2026-04-02"});
        let (status, _, _) = call(
            port,
            token,
            "POST",
            &format!("/api/v1/preservation/{id}/preserve"),
            Some(&json!({"on": "2025-01-01"})),
        );
        assert_eq!(status, if visible { 422 } else { 404 }, "{who}");
        if !visible {
            assert_eq!(
                call(port, token, "POST", &format!("/api/v1/preservation/{id}/preserve"), Some(&preserve)).0,
                404
            );
        }
    }
    // Dates out of order were refused with nothing written; the 24/7 point preserves it for the
    // minimum 60 days, and it comes up for a reminder.
    let (_, _, body) = call(port, &point, "GET", &format!("/api/v1/preservation/{id}"), None);
    assert_eq!(
        (body_json(&body)["version"].as_i64(), body_json(&body)["status"].as_str()),
        (Some(1), Some("received"))
    );
    let (status, _, body) = call(
        port,
        &point,
        "POST",
        &format!("/api/v1/preservation/{id}/preserve"),
        Some(&json!({"on": "2026-04-02", "until": "2026-05-01"})),
    );
    assert_eq!(status, 422);
    assert_eq!(body_json(&body)["field"], "until");
    let (status, _, body) = call(
        port,
        &point,
        "POST",
        &format!("/api/v1/preservation/{id}/preserve"),
        Some(&json!({"on": "2026-04-02"})),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body_json(&body)["request"]["expires_on"], "2026-06-01");
    let (_, _, body) = call(port, &police, "GET", "/api/v1/preservation/reminders?on=2026-05-20", None);
    assert_eq!(
        body_json(&body),
        json!([{"id": id, "reference": "HR-2026/41", "expires_on": "2026-06-01", "days_left": 12, "lead": 14}])
    );
    let (status, _, _) = call(port, &police, "POST", "/api/v1/preservation", Some(&new_request));
    assert_eq!(status, 409, "the reference is taken");
    let (status, _, body) = call(
        port,
        &police,
        "POST",
        &format!("/api/v1/preservation/{id}/follow-up"),
        Some(&json!({"reference": "MLA-HR-7", "received_on": "2026-05-15"})),
    );
    assert_eq!((status, body_json(&body)["status"].as_str()), (200, Some("followed_up")), "{body}");

    // Everything audited.
    let (status, _, body) = call(port, &cert_admin, "GET", "/api/v1/audit?limit=1000", None);
    assert_eq!(status, 200, "{body}");
    let audit = body_json(&body);
    let actions: Vec<&str> =
        audit["items"].as_array().unwrap().iter().filter_map(|entry| entry["action"].as_str()).collect();
    for action in [
        "assessment.create",
        "assessment.score",
        "preservation.create",
        "preservation.preserve",
        "preservation.follow_up",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}
