//! Tabletop exercises end to end: a scenario imported with `neretva learning scenario import`,
//! an exercise run by `neretva serve` whose three injects are delivered on schedule (and by
//! e-mail through a real SMTP server on 127.0.0.1, aiosmtpd, when `NERETVA_TEST_PYTHON_SMTP`
//! names a Python with it), responses (a second one refused), the facilitators' timeline and
//! report, what participants and outsiders may not see, and an exercise whose injects fell due
//! while the server was down, delivered once it is up, in order.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{DEMO, DataDir, Running, json_exited as json_of, neretva, ok, serve_with};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const SCENARIO: &str = r#"code: substation-drill
version: 1
languages: [en, bs]
title: {en: Substation drill, bs: Vjezba trafostanice}
objectives:
  - id: report-early
    text: {en: The operator reports early, bs: Operator rano prijavljuje}
roles:
  - id: energy_operator
    name: {en: Energy operator, bs: Operator}
  - id: cert_duty_officer
    name: {en: CERT duty officer, bs: Dezurni CERT-a}
injects:
  - id: first-alarm
    offset: "+0:00:02"
    roles: [energy_operator]
    title: {en: First alarm, bs: Prvi alarm}
    body: {en: "The **SCADA** historian stops.", bs: "**SCADA** historian staje."}
    expects_response: true
    response_prompt: {en: What do you do?, bs: Sta radite?}
    deadline: 10
    notes: {en: FACILITATOR-SECRET-1, bs: FACILITATOR-SECRET-1}
  - id: cert-call
    offset: "+0:00:04"
    roles: [cert_duty_officer]
    title: {en: Call to the CERT, bs: Poziv CERT-u}
    body: {en: The operator calls., bs: Operator zove.}
    expects_response: true
    response_prompt: {en: Which NIS2 deadline applies?, bs: Koji NIS2 rok vazi?}
    notes: {en: FACILITATOR-SECRET-2, bs: FACILITATOR-SECRET-2}
  - id: press
    offset: "+0:00:06"
    title: {en: Press inquiry, bs: Upit novinara}
    body: {en: A journalist calls everyone., bs: Novinar zove sve.}
  - id: much-later
    offset: "+1:00"
    roles: [energy_operator]
    title: {en: UNDELIVERED-TITLE, bs: UNDELIVERED-TITLE}
    body: {en: Not yet., bs: Ne jos.}
"#;

/// The offsets of the three injects that fall due in the test, in seconds.
const OFFSETS: [(&str, i64); 3] = [("first-alarm", 2), ("cert-call", 4), ("press", 6)];

fn python() -> Option<String> {
    std::env::var("NERETVA_TEST_PYTHON_SMTP").ok().filter(|p| !p.is_empty())
}

fn add_user(dir: &Path, name: &str, org: &str, role: &str, language: &str) -> String {
    let mut add = neretva(dir)
        .args(["user", "add", name, "--org", org, "--role", role, "--language", language])
        .args(["--display-name", &format!("Player {name}"), "--email", &format!("{name}@example.ba")])
        .arg("--password-stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin.take().unwrap().write_all(b"exercise-test-password\n").unwrap();
    ok(&add.wait_with_output().unwrap());
    let token = json_of(
        &neretva(dir)
            .args(["token", "create", "--user", name, "--name", name, "--scope", "write", "--json"])
            .output()
            .unwrap(),
        true,
    );
    token["secret"].as_str().unwrap().to_owned()
}

/// A JSON request; the answer's status and body (JSON, or the text when not JSON).
fn call(port: u16, method: &str, path: &str, token: &str, body: &Value) -> (u16, Value, String) {
    let bearer = format!("Bearer {token}");
    let headers = [("Content-Type", "application/json"), ("Authorization", bearer.as_str())];
    let text = if body.is_null() { String::new() } else { body.to_string() };
    let (status, _, answer) = support::request(port, method, path, &headers, &text);
    (status, serde_json::from_str(&answer).unwrap_or(Value::String(answer.clone())), answer)
}

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
    let running = Running(child);
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "aiosmtpd did not listen on port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    (running, port)
}

/// The messages received so far, by recipient, in the order received; quoted-printable soft
/// line breaks joined.
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
        let text =
            String::from_utf8_lossy(&std::fs::read(directory.join(&name)).unwrap()).replace("=\r\n", "");
        found.entry(recipient).or_default().push(text);
    }
    found
}

/// The configuration: a fast exercise tick, the public address and, with a mail server,
/// notifications every second.
fn write_config(dir: &Path, http_port: u16, smtp_port: Option<u16>) -> PathBuf {
    let path = dir.join("neretva.toml");
    let mut text = format!(
        "operator_org = \"CERT-BIH\"\npublic_url = \"http://127.0.0.1:{http_port}/\"\n\n[exercises]\ntick_seconds = 1\n"
    );
    if let Some(port) = smtp_port {
        let key = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../neretva-notify/test_data/keys/cert-secret.asc");
        text.push_str(&format!(
            "\n[notify]\ncert_name = \"CERT-BIH\"\nfrom = \"CERT-BIH <cert@cert-bih.example.ba>\"\n\
             signing_key = {key:?}\npassphrase_env = \"NERETVA_SECRET_TEST_KEY\"\ninterval_seconds = 1\n\n\
             [notify.smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"plain\"\ntimeout_seconds = 20\n"
        ));
    }
    std::fs::write(&path, text).unwrap();
    path
}

fn time_of(value: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(value.as_str().unwrap(), &Rfc3339).unwrap()
}

/// Polls the timeline until `count` injects are delivered.
fn wait_delivered(port: u16, id: &str, token: &str, count: usize) -> Value {
    let started = Instant::now();
    loop {
        let (status, timeline, text) =
            call(port, "GET", &format!("/api/v1/learning/exercises/{id}/timeline"), token, &Value::Null);
        assert_eq!(status, 200, "{text}");
        let delivered =
            timeline["injects"].as_array().unwrap().iter().filter(|i| i["status"] == "delivered").count();
        if delivered >= count {
            return timeline;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "{count} injects were not delivered: {timeline:#}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The injects delivered, in the order recorded, checked against their offsets: none before it.
#[track_caller]
fn check_schedule(timeline: &Value) {
    let started = time_of(&timeline["started_at"]);
    let injects = timeline["injects"].as_array().unwrap();
    let delivered: Vec<(&str, OffsetDateTime)> = injects
        .iter()
        .filter(|inject| inject["status"] == "delivered")
        .map(|inject| (inject["id"].as_str().unwrap(), time_of(&inject["delivered_at"])))
        .collect();
    let ids: Vec<&str> = delivered.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, OFFSETS.iter().map(|(id, _)| *id).collect::<Vec<_>>(), "{timeline:#}");
    for ((id, at), (_, offset)) in delivered.iter().zip(OFFSETS) {
        assert!(*at >= started + time::Duration::seconds(offset), "{id} delivered at {at} before its offset");
    }
    for pair in delivered.windows(2) {
        assert!(pair[0].1 <= pair[1].1, "delivered in order: {delivered:?}");
    }
    let later = injects.iter().find(|inject| inject["id"] == "much-later").unwrap();
    assert_eq!(later["status"], "pending");
}

#[test]
fn an_exercise_runs_three_injects_on_schedule() {
    let dir = DataDir::new("exercises");
    let d = dir.0.as_path();
    let smtp = python().map(|python| {
        let mail = d.join("mail");
        std::fs::create_dir_all(&mail).unwrap();
        let (server, port) = start_smtp(&python, &mail);
        (server, port, mail)
    });
    if smtp.is_none() {
        eprintln!("NERETVA_TEST_PYTHON_SMTP is not set; the injects are checked without e-mail");
    }
    let http_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = write_config(d, http_port, smtp.as_ref().map(|(_, port, _)| *port));
    let command = || {
        let mut command = neretva(d);
        command.arg("--config").arg(&config).env("NERETVA_SECRET_TEST_KEY", "correct horse battery staple");
        command
    };
    let run = |args: &[&str]| command().args(args).output().unwrap();
    ok(&run(&["migrate"]));
    ok(&run(&["org", "import", DEMO]));
    let facilitator = add_user(d, "vedran", "CERT-BIH", "analyst", "en");
    let operator = add_user(d, "amra", "EP-NERETVA", "constituent", "bs");
    let duty = add_user(d, "dario", "CERT-BIH", "analyst", "en");
    let outsider = add_user(d, "zlatan", "CERT-RS", "admin", "sr-Latn");

    // A scenario with a problem is refused whole, naming its line; the good one is imported.
    let package = d.join("drill");
    std::fs::create_dir_all(&package).unwrap();
    std::fs::write(
        package.join("scenario.yaml"),
        SCENARIO.replace("offset: \"+0:00:04\"", "offset: \"+0:61\""),
    )
    .unwrap();
    let refused =
        json_of(&run(&["learning", "scenario", "import", package.to_str().unwrap(), "--json"]), false);
    assert_eq!(refused["problems"][0]["line"], 24, "{refused:#}");
    std::fs::write(package.join("scenario.yaml"), SCENARIO).unwrap();
    let imported =
        json_of(&run(&["learning", "scenario", "import", package.to_str().unwrap(), "--json"]), true);
    assert_eq!((imported["injects"].as_u64(), imported["roles"].as_u64()), (Some(4), Some(2)));
    let scenario_id = imported["id"].as_str().unwrap().to_owned();

    // An exercise created while the server is down, due to start 60 seconds ago: its injects
    // are delivered by the first pass once the server is up.
    let missed_start = (OffsetDateTime::now_utc() - time::Duration::seconds(60)).format(&Rfc3339).unwrap();
    let missed = json_of(
        &run(&[
            "learning",
            "exercise",
            "create",
            "--scenario",
            "substation-drill",
            "--name",
            "Missed drill",
            "--start",
            &missed_start,
            "--facilitator",
            "vedran",
            "--participant",
            "amra:energy_operator",
            "--participant",
            "dario:cert_duty_officer",
            "--json",
        ]),
        true,
    );
    assert_eq!(missed["state"], "planned");
    let missed_id = missed["id"].as_str().unwrap().to_owned();
    let bad = run(&[
        "learning",
        "exercise",
        "create",
        "--scenario",
        "substation-drill",
        "--facilitator",
        "vedran",
        "--participant",
        "amra:pilot",
        "--participant",
        "nobody:police",
    ]);
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("\"pilot\" is not a role") && stderr.contains("no user \"nobody\""), "{stderr}");

    let (server, port) = serve_with(command());
    let missed_timeline = wait_delivered(port, &missed_id, &facilitator, 3);
    check_schedule(&missed_timeline);
    assert_eq!(time_of(&missed_timeline["started_at"]), time_of(&Value::String(missed_start.clone())));

    // The exercise of the test: created and started through the API.
    let (status, created, text) = call(
        port,
        "POST",
        "/api/v1/learning/exercises",
        &facilitator,
        &json!({ "scenario_id": scenario_id, "name": "Substation drill, live",
                 "participants": [{"user": "amra", "role": "energy_operator"}, {"user": "dario", "role": "cert_duty_officer"}] }),
    );
    assert_eq!(status, 201, "{text}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, _, text) = call(
        port,
        "POST",
        "/api/v1/learning/exercises",
        &operator,
        &json!({ "scenario_id": scenario_id, "name": "x", "participants": [{"user": "dario", "role": "energy_operator"}] }),
    );
    assert_eq!(status, 403, "only the CERT's staff create exercises: {text}");
    let path = |rest: &str| format!("/api/v1/learning/exercises/{id}{rest}");
    let (status, started, text) = call(port, "POST", &path("/start"), &facilitator, &Value::Null);
    assert_eq!((status, started["state"].as_str()), (200, Some("running")), "{text}");
    let (status, _, text) = call(port, "POST", &path("/start"), &facilitator, &Value::Null);
    assert_eq!(status, 409, "{text}");

    let timeline = wait_delivered(port, &id, &facilitator, 3);
    check_schedule(&timeline);
    assert_eq!(timeline["next"]["inject"], "much-later");

    // What a participant sees: the injects delivered to their role, never notes or injects to
    // come; others see nothing at all.
    let (status, view, text) = call(port, "GET", &path(""), &operator, &Value::Null);
    assert_eq!(status, 200, "{text}");
    let ids: Vec<&str> =
        view["injects"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["first-alarm", "press"]);
    assert_eq!(view["role"], "energy_operator");
    assert_eq!(view["injects"][0]["title"], "Prvi alarm", "in the participant's language");
    assert!(view["injects"][0]["html"].as_str().unwrap().contains("<strong>SCADA</strong>"));
    for secret in ["FACILITATOR-SECRET", "UNDELIVERED-TITLE", "Poziv CERT-u", "Call to the CERT"] {
        assert!(!text.contains(secret), "a participant sees {secret}: {text}");
    }
    let (status, view, text) = call(port, "GET", &path("?lang=en"), &duty, &Value::Null);
    assert_eq!(status, 200, "{text}");
    let ids: Vec<&str> =
        view["injects"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["cert-call", "press"]);
    assert!(!text.contains("FACILITATOR-SECRET") && !text.contains("First alarm"), "{text}");
    for rest in ["", "/timeline", "/report"] {
        let (status, _, text) = call(port, "GET", &path(rest), &outsider, &Value::Null);
        assert_eq!(status, 404, "an outsider gets 404 for {rest:?}: {text}");
    }
    let (status, _, _) =
        call(port, "POST", &path("/injects/press/responses"), &outsider, &json!({"text": "x"}));
    assert_eq!(status, 404);
    let (status, _, _) = call(port, "POST", &path("/pause"), &outsider, &Value::Null);
    assert_eq!(status, 404);
    let (status, listed, _) = call(port, "GET", "/api/v1/learning/exercises", &outsider, &Value::Null);
    assert_eq!((status, listed), (200, json!([])));
    let (status, _, _) =
        call(port, "GET", &format!("/api/v1/learning/scenarios/{scenario_id}"), &operator, &Value::Null);
    assert_eq!(status, 404, "scenarios hold the notes: participants do not read them");
    for rest in ["/timeline", "/report"] {
        let (status, _, _) = call(port, "GET", &path(rest), &operator, &Value::Null);
        assert_eq!(status, 403, "{rest} is the facilitators'");
    }
    let (status, _, _) = call(port, "POST", &path("/pause"), &operator, &Value::Null);
    assert_eq!(status, 403);

    // Responses: once each; not to another role's inject, not to one that asks for none.
    let respond = |token: &str, inject: &str, text: &str| {
        call(port, "POST", &path(&format!("/injects/{inject}/responses")), token, &json!({ "text": text }))
    };
    let (status, answer, text) =
        respond(&operator, "first-alarm", "Isolated the historian, called the CERT.");
    assert_eq!(status, 201, "{text}");
    assert_eq!((answer["late"].as_bool(), answer["role"].as_str()), (Some(false), Some("energy_operator")));
    let (status, refused, text) = respond(&operator, "first-alarm", "Second thoughts.");
    assert_eq!((status, refused["field"].as_str()), (409, Some("response")), "{text}");
    let (status, _, _) = respond(&operator, "cert-call", "Not mine.");
    assert_eq!(status, 404, "an inject of another role does not exist for the participant");
    let (status, _, _) = respond(&operator, "much-later", "Not yet delivered.");
    assert_eq!(status, 404);
    let (status, refused, _) = respond(&operator, "press", "No response asked.");
    assert_eq!((status, refused["field"].as_str()), (409, Some("inject")));
    let (status, _, _) = respond(&operator, "first-alarm", "   ");
    assert_eq!(status, 422);
    let (status, _, text) = respond(&duty, "cert-call", "Early warning within 24 hours.");
    assert_eq!(status, 201, "{text}");

    // The facilitators' timeline shows the responses; skip, pause and resume.
    let (status, timeline, text) = call(port, "GET", &path("/timeline"), &facilitator, &Value::Null);
    assert_eq!(status, 200, "{text}");
    let inject =
        |id: &str| timeline["injects"].as_array().unwrap().iter().find(|i| i["id"] == id).unwrap().clone();
    assert_eq!(inject("first-alarm")["responses"][0]["name"], "Player amra");
    assert_eq!(inject("first-alarm")["notes"], "FACILITATOR-SECRET-1");
    assert_eq!(inject("cert-call")["responses"].as_array().unwrap().len(), 1);
    assert_eq!(inject("cert-call")["awaiting"], json!([]));
    let (status, _, text) = call(port, "POST", &path("/pause"), &facilitator, &Value::Null);
    assert_eq!(status, 200, "{text}");
    let (status, _, text) = call(port, "POST", &path("/resume"), &facilitator, &Value::Null);
    assert_eq!(status, 200, "{text}");
    let (status, _, text) = call(port, "POST", &path("/injects/much-later/skip"), &facilitator, &Value::Null);
    assert_eq!(status, 200, "{text}");
    let (status, _, _) = call(port, "POST", &path("/injects/much-later/release"), &facilitator, &Value::Null);
    assert_eq!(status, 409, "a skipped inject is not released");
    let (status, _, _) = call(port, "POST", &path("/injects/press/release"), &facilitator, &Value::Null);
    assert_eq!(status, 409, "a delivered inject is not released again");

    let (status, _, text) = call(
        port,
        "PUT",
        &path("/assessment"),
        &facilitator,
        &json!({ "objectives": { "report-early": { "rating": "met", "notes": "At +0:10." } },
                 "observations": ["The <b>duty</b> phone list was out of date."] }),
    );
    assert_eq!(status, 200, "{text}");
    let (status, _, _) = call(
        port,
        "PUT",
        &path("/assessment"),
        &facilitator,
        &json!({ "objectives": { "nope": { "rating": "met" } } }),
    );
    assert_eq!(status, 409);
    let (status, _, _) = call(
        port,
        "PUT",
        &path("/assessment"),
        &facilitator,
        &json!({ "objectives": { "report-early": { "rating": "great" } } }),
    );
    assert_eq!(status, 422);
    let (status, ended, text) = call(port, "POST", &path("/end"), &facilitator, &Value::Null);
    assert_eq!((status, ended["state"].as_str()), (200, Some("ended")), "{text}");
    let (status, _, _) = respond(&duty, "press", "Too late.");
    assert_eq!(status, 409);

    let (status, openapi, _) = call(port, "GET", "/api/v1/openapi.json", &facilitator, &Value::Null);
    assert_eq!(status, 200);
    for documented in [
        "/api/v1/learning/scenarios",
        "/api/v1/learning/exercises/{id}/injects/{inject}/responses",
        "/api/v1/learning/exercises/{id}/timeline",
        "/api/v1/learning/exercises/{id}/report",
    ] {
        assert!(openapi["paths"].get(documented).is_some(), "{documented} missing from OpenAPI");
    }

    // The report, through the API and the command line.
    let (status, _, markdown) =
        call(port, "GET", &path("/report?lang=bs&format=md"), &facilitator, &Value::Null);
    assert_eq!(status, 200, "{markdown}");
    assert!(markdown.starts_with("# Izvještaj nakon vježbe: Substation drill, live"), "{markdown}");
    assert!(markdown.contains("Player amra (Operator)") && markdown.contains("**ispunjen**"), "{markdown}");
    let (status, _, html) =
        call(port, "GET", &path("/report?lang=hr&format=html"), &facilitator, &Value::Null);
    assert_eq!(status, 200);
    assert!(html.contains("Izvješće nakon vježbe") && html.contains("&lt;b&gt;duty&lt;/b&gt;"), "{html}");
    let (status, report, _) = call(port, "GET", &path("/report"), &facilitator, &Value::Null);
    assert_eq!((status, report["responses"].as_u64()), (200, Some(2)));
    let cyrillic = ok(&run(&["learning", "exercise", "report", &id, "--lang", "sr-Cyrl"]));
    assert!(cyrillic.starts_with("# Извештај након вежбе"), "{cyrillic}");
    let listed = json_of(&run(&["learning", "exercises", "--json"]), true);
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let cli_timeline = json_of(&run(&["learning", "exercise", "timeline", &missed_id, "--json"]), true);
    assert_eq!(cli_timeline["injects"][0]["status"], "delivered");

    // A restarted server delivers nothing twice: the missed exercise still has its three
    // deliveries after passes of the new process.
    drop(server);
    let (_server, port) = serve_with(command());
    let (status, again, _) = call(
        port,
        "GET",
        &format!("/api/v1/learning/exercises/{missed_id}/timeline"),
        &facilitator,
        &Value::Null,
    );
    assert_eq!(status, 200);
    let passes = Instant::now();
    while passes.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let (_, after, _) = call(
        port,
        "GET",
        &format!("/api/v1/learning/exercises/{missed_id}/timeline"),
        &facilitator,
        &Value::Null,
    );
    let deliveries = |timeline: &Value| -> Vec<(Value, Value, Value)> {
        timeline["injects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|inject| (inject["id"].clone(), inject["status"].clone(), inject["delivered_at"].clone()))
            .collect()
    };
    assert_eq!(deliveries(&after), deliveries(&again));
    assert_eq!(deliveries(&after), deliveries(&missed_timeline));
    assert_eq!(after["version"], missed_timeline["version"], "nothing was written again");
    let verified = json_of(&run(&["audit", "verify", "--json"]), true);
    assert_eq!(verified["ok"], true, "{verified:#}");

    // Every inject was delivered once, and each delivery told its participants by e-mail.
    if let Some((_smtp, _, mail)) = &smtp {
        let started = Instant::now();
        let found = loop {
            let found = received(mail);
            if found.values().map(Vec::len).sum::<usize>() >= 8 {
                break found;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "8 messages did not arrive: {:?}",
                found.keys()
            );
            std::thread::sleep(Duration::from_millis(200));
        };
        assert_eq!(found["amra@example.ba"].len(), 4, "two injects of each exercise");
        assert_eq!(found["dario@example.ba"].len(), 4);
        // The link goes to the participant's web page, not to the API.
        let link = format!("/exercises/{id}");
        let to_amra =
            found["amra@example.ba"].iter().find(|m| m.contains(&link) && m.contains("Prvi alarm")).unwrap();
        assert!(!to_amra.contains("/api/v1/learning/exercises"), "{to_amra}");
        assert!(to_amra.contains("multipart/signed"), "{to_amra}");
        assert!(to_amra.contains("Nije stvarni incident") && to_amra.contains("Prvi alarm"), "{to_amra}");
        assert!(!to_amra.contains("FACILITATOR-SECRET"), "{to_amra}");
        let to_dario = found["dario@example.ba"].iter().find(|m| m.contains("Call to the CERT")).unwrap();
        assert!(to_dario.contains("It is not a real incident"), "{to_dario}");
        assert!(!found.contains_key("vedran@example.ba") && !found.contains_key("zlatan@example.ba"));
    }
}
