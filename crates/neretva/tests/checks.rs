//! The contact-point directory and communication checks as real processes: `neretva
//! contact-points` and `neretva checks` on a fresh SQLite data directory, the challenges
//! delivered through a real SMTP server on 127.0.0.1 (aiosmtpd, when `NERETVA_TEST_PYTHON_SMTP`
//! names a Python with it), and the one-time links followed against `neretva serve`.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{DEMO, DataDir, Running, json_exited as json_of, neretva, request};

/// The Python interpreter with aiosmtpd, when the SMTP tests are to run.
fn python() -> Option<String> {
    std::env::var("NERETVA_TEST_PYTHON_SMTP").ok().filter(|p| !p.is_empty())
}

fn notify_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../neretva-notify/test_data/keys")
}

/// aiosmtpd on a free loopback port, writing each message to `directory`.
fn start_smtp(python: &str, directory: &Path) -> (Running, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let handler_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../neretva-notifier/tests");
    let child = Command::new(python)
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "smtp_sink.Sink"])
        .arg(directory)
        .env("PYTHONPATH", &handler_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {python} -m aiosmtpd: {error}"));
    let mut running = Running(child);
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = running.0.try_wait().unwrap() {
            panic!("aiosmtpd exited with {status}");
        }
        assert!(started.elapsed() < Duration::from_secs(30), "aiosmtpd did not listen on port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    (running, port)
}

/// The messages received so far, by recipient, in the order received.
fn received(directory: &Path) -> BTreeMap<String, Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(directory)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".eml") && !name.starts_with('.'))
        .collect();
    names.sort();
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for name in names {
        let recipient = name.trim_end_matches(".eml").split_once('-').unwrap().1.to_owned();
        let text = String::from_utf8_lossy(&std::fs::read(directory.join(&name)).unwrap()).into_owned();
        found.entry(recipient).or_default().push(text);
    }
    found
}

/// The one-time token of a challenge: the body is quoted-printable, so soft line breaks are
/// joined first.
fn token_of(message: &str) -> String {
    let text = message.replace("=\r\n", "");
    let start = text.find("/ack/").expect("a link") + "/ack/".len();
    let token: String = text[start..].chars().take_while(char::is_ascii_hexdigit).collect();
    assert_eq!(token.len(), 64, "{token}");
    token
}

/// Waits until `count` messages in all have arrived.
fn wait_for(directory: &Path, count: usize) -> BTreeMap<String, Vec<String>> {
    let started = Instant::now();
    loop {
        let found = received(directory);
        if found.values().map(Vec::len).sum::<usize>() >= count {
            return found;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{count} messages did not arrive");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn write_config(dir: &Path, smtp_port: u16, http_port: u16) -> PathBuf {
    let path = dir.join("neretva.toml");
    let key = notify_dir().join("cert-secret.asc");
    std::fs::write(
        &path,
        format!(
            "operator_org = \"CERT-BIH\"\npublic_url = \"http://127.0.0.1:{http_port}/\"\n\n[notify]\n\
             cert_name = \"CERT-BIH\"\nfrom = \"CERT-BIH <cert@cert-bih.example.ba>\"\n\
             signing_key = {key:?}\npassphrase_env = \"NERETVA_SECRET_TEST_KEY\"\ninterval_seconds = 3600\n\n\
             [notify.smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\ntls = \"plain\"\ntimeout_seconds = 20\n"
        ),
    )
    .unwrap();
    path
}

#[test]
fn directory_profiles_and_bad_input() {
    let dir = DataDir::new("contact-points");
    let d = dir.0.as_path();
    let run = |args: &[&str]| neretva(d).args(args).output().unwrap();
    assert!(run(&["migrate"]).status.success());
    assert!(run(&["org", "import", DEMO]).status.success());

    let key = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../neretva-model/test_data/openpgp/ed25519-cv25519.asc");
    let added = json_of(
        &run(&[
            "contact-points",
            "add",
            "--org",
            "CERT-BIH",
            "--kind",
            "cbm8-technical",
            "--name",
            "Duty officer",
            "--email",
            "duty@cert-bih.example.ba",
            "--language",
            "bs",
            "--hours",
            "24/7",
            "--key",
            key.to_str().unwrap(),
            "--fingerprint",
            "0B36 F332 8DEC 9091 2DD8 28AE F476 7022 8E39 3F7D",
            "--json",
        ]),
        true,
    );
    assert_eq!(added["pgp_fingerprint"], "0B36F3328DEC90912DD828AEF47670228E393F7D");
    assert_eq!(added["org"], "CERT-BIH");

    // Every problem at once, nothing stored.
    let bad = run(&[
        "contact-points",
        "add",
        "--org",
        "NOPE",
        "--kind",
        "cbm9",
        "--name",
        "X",
        "--email",
        "x",
        "--json",
    ]);
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("org: no organisation \"NOPE\"") && stderr.contains("kind: unknown kind \"cbm9\""),
        "{stderr}"
    );
    let wrong_key = run(&[
        "contact-points",
        "add",
        "--org",
        "CERT-BIH",
        "--kind",
        "cert",
        "--name",
        "X",
        "--email",
        "x@cert-bih.example.ba",
        "--key",
        key.to_str().unwrap(),
        "--fingerprint",
        "FD428998A29FC859DBA435F66F65D36EB7ECEAA7",
    ]);
    assert!(String::from_utf8_lossy(&wrong_key.stderr).contains("is not the key's fingerprint"));
    let listed = json_of(&run(&["contact-points", "list", "--json"]), true);
    assert_eq!(listed.as_array().unwrap().len(), 1);

    // An RFC 2350 profile from a file, exported as text.
    let profile = d.join("profile.json");
    std::fs::write(
        &profile,
        serde_json::json!({
            "document": { "last_updated": "2026-11-02", "locations": ["https://cert.example.ba/rfc2350.txt"] },
            "contact": { "team_name": "CERT-BIH", "address": "Sarajevo", "time_zone": "CET",
                         "email": "cert@cert-bih.example.ba", "customer_contact": "E-mail, 08:00-16:00." },
            "charter": { "mission_statement": "Help.", "constituency": "Bosnia and Herzegovina." }
        })
        .to_string(),
    )
    .unwrap();
    assert!(run(&["contact-points", "set-profile", "CERT-BIH", profile.to_str().unwrap()]).status.success());
    let text = String::from_utf8(run(&["contact-points", "export-rfc2350", "CERT-BIH"]).stdout).unwrap();
    assert!(text.starts_with("RFC 2350 description of CERT-BIH\n"), "{text}");
    assert!(text.contains("\n2.7 Electronic Mail Address\n\n   cert@cert-bih.example.ba\n"), "{text}");
    std::fs::write(&profile, r#"{"document": {"last_updated": "2026-11-02"}, "contact": {"team_name": "", "address": "A", "time_zone": "CET", "email": "nope", "customer_contact": "x"}, "charter": {"mission_statement": "m", "constituency": "c"}}"#).unwrap();
    let refused = run(&["contact-points", "set-profile", "CERT-BIH", profile.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("contact.team_name: must not be empty") && stderr.contains("contact.email:"),
        "{stderr}"
    );

    // Campaigns: dates out of order, unknown organisations, duplicate members.
    let create = |extra: &[&str]| {
        let mut args = vec!["checks", "create", "--name", "Q4"];
        args.extend_from_slice(extra);
        run(&args)
    };
    let out_of_order = create(&["--deadline", "+1h", "--remind-at", "+2h"]);
    assert!(String::from_utf8_lossy(&out_of_order.stderr).contains("remind_at: must be before the deadline"));
    let past = create(&["--deadline", "2020-01-01T00:00:00Z"]);
    assert!(String::from_utf8_lossy(&past.stderr).contains("deadline: must be in the future"));
    let unknown = create(&["--deadline", "+1h", "--org", "NOPE"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("orgs[0]: no organisation \"NOPE\""));
    let twice = create(&["--deadline", "+1h", "--kind", "cert", "--kind", "cert"]);
    assert!(String::from_utf8_lossy(&twice.stderr).contains("kinds[1]: cert is named twice"));
    let empty = create(&["--deadline", "+1h", "--kind", "budapest-24x7"]);
    assert!(String::from_utf8_lossy(&empty.stderr).contains("scope: takes no contact point"));
    assert_eq!(
        json_of(&run(&["checks", "list", "--json"]), true),
        serde_json::json!([]),
        "nothing half-written"
    );
    let run_without_notify = run(&["checks", "run"]);
    assert!(String::from_utf8_lossy(&run_without_notify.stderr).contains("public_url"));
}

/// A campaign to 50 contact points through aiosmtpd: the links acknowledge once, a reused or
/// expired link is refused, the silent ones are reminded, and the report counts it all.
#[test]
fn a_campaign_to_fifty_contact_points_through_smtp() {
    let Some(python) = python() else {
        eprintln!("NERETVA_TEST_PYTHON_SMTP is not set; skipping the SMTP campaign");
        return;
    };
    let dir = DataDir::new("checks-smtp");
    let d = dir.0.as_path();
    let mail = d.join("mail");
    std::fs::create_dir_all(&mail).unwrap();
    let (_smtp, smtp_port) = start_smtp(&python, &mail);
    let http_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = write_config(d, smtp_port, http_port);
    let run = |args: &[&str]| {
        neretva(d)
            .arg("--config")
            .arg(&config)
            .env("NERETVA_SECRET_TEST_KEY", "correct horse battery staple")
            .args(args)
            .output()
            .unwrap()
    };
    assert!(run(&["migrate"]).status.success());
    assert!(run(&["org", "import", DEMO]).status.success());
    let orgs = ["CERT-BIH", "CERT-FBIH", "CERT-RS", "CERT-BD", "EP-NERETVA"];
    let languages = ["en", "bs", "hr", "sr-Latn", "sr-Cyrl"];
    for n in 0..50 {
        let email = format!("poc{n:02}@example.ba");
        let name = format!("Point {n:02}");
        let kind = if n % 2 == 0 { "cbm8-policy" } else { "cbm8-technical" };
        let added = run(&[
            "contact-points",
            "add",
            "--org",
            orgs[n % 5],
            "--kind",
            kind,
            "--name",
            &name,
            "--email",
            &email,
            "--language",
            languages[n % 5],
        ]);
        assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    }
    let other = run(&[
        "contact-points",
        "add",
        "--org",
        "CERT-BIH",
        "--kind",
        "budapest-24x7",
        "--name",
        "Police",
        "--email",
        "247@police.example.ba",
        "--json",
    ]);
    let police = json_of(&other, true)["id"].as_str().unwrap().to_owned();

    let campaign = json_of(
        &run(&[
            "checks",
            "create",
            "--name",
            "Q4 reachability",
            "--kind",
            "cbm8-policy",
            "--kind",
            "cbm8-technical",
            "--deadline",
            "+1h",
            "--remind-at",
            "+90s",
            "--json",
        ]),
        true,
    );
    let id = campaign["id"].as_str().unwrap().to_owned();
    assert_eq!(campaign["stats"]["targets"], 50);
    let short = json_of(
        &run(&["checks", "create", "--name", "Short", "--point", &police, "--deadline", "+75s", "--json"]),
        true,
    );
    let short_id = short["id"].as_str().unwrap().to_owned();

    let (_server, port) = {
        // `serve` takes its port from --listen; the links name the same port.
        let server = Running(
            neretva(d)
                .arg("--config")
                .arg(&config)
                .env("NERETVA_SECRET_TEST_KEY", "correct horse battery staple")
                .args(["serve", "--listen", &format!("127.0.0.1:{http_port}")])
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap(),
        );
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", http_port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(60), "the server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        (server, http_port)
    };

    let sent = json_of(&run(&["checks", "run", &id, "--json"]), true);
    assert_eq!(sent, serde_json::json!({ "sent": 50, "reminded": 0, "escalated": 0, "failed": 0 }));
    assert_eq!(json_of(&run(&["checks", "run", &short_id, "--json"]), true)["sent"], 1);
    let first = wait_for(&mail, 51);
    assert_eq!(first.len(), 51, "one message per contact point");
    let again = json_of(&run(&["checks", "run", &id, "--json"]), true);
    assert_eq!(
        again,
        serde_json::json!({ "sent": 0, "reminded": 0, "escalated": 0, "failed": 0 }),
        "nothing twice"
    );

    // Every message is signed and in the point's language, with its own link.
    let message = |n: usize| first[&format!("poc{n:02}@example.ba")][0].clone();
    assert!(message(0).contains("multipart/signed"), "{}", message(0));
    let body = |text: &str| text.replace("=\r\n", "");
    assert!(body(&message(0)).contains("Please confirm that you received this message"));
    assert!(body(&message(1)).contains("Molimo vas da potvrdite prijem ove poruke"));
    assert!(body(&message(2)).contains("Molimo potvrdite primitak ove poruke"));
    let tokens: Vec<String> = (0..50).map(|n| token_of(&message(n))).collect();
    assert_eq!(tokens.iter().collect::<std::collections::BTreeSet<_>>().len(), 50, "tokens are unique");

    // The page asks before it records; the first 30 acknowledge.
    let (status, _, page) = request(port, "GET", &format!("/ack/{}", tokens[1]), &[], "");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<form method=\"post\"") && page.contains("Potvrdi prijem"), "{page}");
    let (status, _, page) = request(port, "GET", &format!("/ack/{}", tokens[1]), &[], "");
    assert_eq!(status, 200, "a GET records nothing: {page}");
    for token in &tokens[..30] {
        let (status, _, page) =
            request(port, "POST", &format!("/ack/{token}"), &[("User-Agent", "check-test/1.0")], "");
        assert_eq!(status, 200, "{page}");
    }
    let (status, _, page) = request(port, "POST", &format!("/ack/{}", tokens[0]), &[], "");
    assert_eq!(status, 409, "a link works once: {page}");
    assert!(page.contains("already used"), "{page}");
    let (status, _, page) = request(port, "POST", &format!("/ack/{}", "0".repeat(64)), &[], "");
    assert_eq!(status, 404, "{page}");
    let (status, _, _) = request(port, "POST", "/ack/not-a-token", &[], "");
    assert_eq!(status, 404);

    let status = json_of(&run(&["checks", "status", &id, "--json"]), true);
    assert_eq!(status["stats"]["acknowledged"], 30);
    let acknowledged: Vec<&serde_json::Value> =
        status["targets"].as_array().unwrap().iter().filter(|t| !t["acknowledged_at"].is_null()).collect();
    assert!(
        acknowledged.iter().all(|t| t["acknowledged_via"] == "link" && t["user_agent"] == "check-test/1.0")
    );
    assert!(acknowledged.iter().all(|t| t["acknowledged_by"] == t["email"]));

    // After the short campaign's deadline its link is refused; after remind_at the 20 silent
    // points get a reminder with a new link.
    let short_token = token_of(&first["247@police.example.ba"][0]);
    let deadline = time::OffsetDateTime::parse(
        campaign["remind_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    while time::OffsetDateTime::now_utc() < deadline + time::Duration::milliseconds(200) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let (status, _, page) = request(port, "POST", &format!("/ack/{short_token}"), &[], "");
    assert_eq!(status, 410, "an expired link: {page}");
    assert!(page.contains("expired"), "{page}");
    let short_status = json_of(&run(&["checks", "status", &short_id, "--json"]), true);
    assert_eq!(short_status["stats"]["acknowledged"], 0, "an expired link records nothing");

    let reminded = json_of(&run(&["checks", "run", &id, "--json"]), true);
    assert_eq!(reminded, serde_json::json!({ "sent": 0, "reminded": 20, "escalated": 0, "failed": 0 }));
    let all = wait_for(&mail, 71);
    for n in 30..50 {
        let messages = &all[&format!("poc{n:02}@example.ba")];
        assert_eq!(messages.len(), 2, "point {n} was reminded");
    }
    assert!(body(&all["poc30@example.ba"][1]).contains("We have not yet received your confirmation."));
    for n in 30..35 {
        let token = token_of(&all[&format!("poc{n:02}@example.ba")][1]);
        let (status, _, page) = request(port, "POST", &format!("/ack/{token}"), &[], "");
        assert_eq!(status, 200, "{page}");
    }

    // The report: 35 of 50 reached, and the median of the response times recorded.
    let status = json_of(&run(&["checks", "status", &id, "--json"]), true);
    let mut times: Vec<f64> =
        status["targets"].as_array().unwrap().iter().filter_map(|t| t["response_seconds"].as_f64()).collect();
    assert_eq!(times.len(), 35);
    times.sort_by(f64::total_cmp);
    let report = json_of(&run(&["checks", "report", "--format", "json"]), true);
    let row = report.as_array().unwrap().iter().find(|row| row["campaign"] == id.as_str()).unwrap();
    assert_eq!(row["stats"]["reachability_percent"], 70.0);
    assert_eq!(row["stats"]["acknowledged"], 35);
    assert_eq!(row["stats"]["reminded"], 20);
    assert_eq!(row["stats"]["median_response_seconds"].as_f64().unwrap(), times[17]);
    let csv = String::from_utf8(run(&["checks", "report", "--format", "csv"]).stdout).unwrap();
    assert!(csv.starts_with("campaign,name,created_at,deadline,targets,"), "{csv}");
    assert!(csv.contains(",Q4 reachability,") && csv.contains(",50,50,0,35,20,0,70,"), "{csv}");
}
