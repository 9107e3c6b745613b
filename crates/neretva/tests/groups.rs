//! Working groups through the real binary: the API under `/api/v1/groups` (access, bad input,
//! action items linked to strategy actions, documents under TLP, self-declarations, diversity),
//! the `neretva groups` commands, and announcements delivered through a real SMTP server
//! (aiosmtpd, when `NERETVA_TEST_PYTHON_SMTP` names a Python with it).

#![allow(clippy::unwrap_used)]

mod support;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use support::{DEMO, DataDir, Running, json as json_ok, neretva, ok, request, serve, serve_with};

/// Creates a user with an e-mail address and a write token; returns the token.
fn add_user(dir: &Path, name: &str, org: &str, role: &str, email: &str) -> String {
    let mut add = neretva(dir)
        .args(["user", "add", name, "--org", org, "--role", role, "--email", email, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin.take().unwrap().write_all(b"groups-test-password-long\n").unwrap();
    ok(&add.wait_with_output().unwrap());
    let token = json_ok(
        &neretva(dir)
            .args(["token", "create", "--user", name, "--name", name, "--scope", "write", "--json"])
            .output()
            .unwrap(),
    );
    token["secret"].as_str().unwrap().to_owned()
}

/// One API call: status and JSON body (or `Null`).
fn call(port: u16, token: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let auth = format!("Bearer {token}");
    let text = body.map(|b| b.to_string()).unwrap_or_default();
    let (status, _, body) =
        request(port, method, path, &[("Authorization", &auth), ("Content-Type", "application/json")], &text);
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// A strategic document with one action, through the API; returns (document id, action id).
fn strategy_action(port: u16, token: &str) -> (String, String) {
    let (status, document) = call(port, token, "POST", "/api/v1/strategy/defaults", Some(json!({})));
    assert_eq!(status, 201, "{document}");
    let id = document["id"].as_str().unwrap().to_owned();
    let measure = json!({ "objective": "I", "code": "I.1", "title": "Public-private partnership" });
    assert_eq!(call(port, token, "POST", &format!("/api/v1/strategy/{id}/measures"), Some(measure)).0, 201);
    let action = json!({
        "measure": "I.1", "title": "Convene the energy sector working group", "owner_org": "CERT-BIH",
        "start": "2026-01-01", "due": "2026-12-31"
    });
    let (status, document) =
        call(port, token, "POST", &format!("/api/v1/strategy/{id}/actions"), Some(action));
    assert_eq!(status, 201, "{document}");
    let action = document["document"]["objectives"][8]["measures"][0]["actions"][0]["id"].as_str().unwrap();
    (id, action.to_owned())
}

/// The demo constituency, a coordinator, members by organisation and by address, an outsider.
struct Setup {
    dir: DataDir,
    analyst: String,
    member: String,
    by_address: String,
    outsider: String,
}

fn setup(name: &str) -> Setup {
    let dir = DataDir::new(name);
    let d = dir.0.as_path();
    ok(&neretva(d).arg("migrate").output().unwrap());
    ok(&neretva(d).args(["org", "import", DEMO]).output().unwrap());
    let analyst = add_user(d, "analyst", "CERT-BIH", "analyst", "analyst@cert.example.ba");
    let member = add_user(d, "ana", "EP-NERETVA", "constituent", "ana@ep.example.ba");
    let by_address = add_user(d, "prof", "NOS-UNA", "community", "prof@unsa.example.ba");
    let outsider = add_user(d, "mirko", "HE-DRINA", "constituent", "mirko@he.example.ba");
    Setup { dir, analyst, member, by_address, outsider }
}

#[test]
fn groups_access_bad_input_strategy_links_documents_and_diversity() {
    let setup = setup("groups-api");
    let d = setup.dir.0.as_path();
    let (_server, port) = serve(d);
    let (analyst, member, prof, outsider) =
        (&setup.analyst, &setup.member, &setup.by_address, &setup.outsider);

    // The main group and an energy sub-group.
    let (status, main) = call(
        port,
        analyst,
        "POST",
        "/api/v1/groups",
        Some(json!({
            "code": "NWG", "name": "Neretva Group", "diversity_goals": "balanced representation"
        })),
    );
    assert_eq!(status, 201, "{main}");
    let (status, energy) = call(
        port,
        analyst,
        "POST",
        "/api/v1/groups",
        Some(json!({
            "code": "NWG-ENERGY", "name": "Energy sub-group", "parent": "NWG", "sector": "energy"
        })),
    );
    assert_eq!(status, 201, "{energy}");
    let id = energy["id"].as_str().unwrap().to_owned();
    let path = |rest: &str| format!("/api/v1/groups/{id}{rest}");
    // A sub-group of a sub-group, and members may not create groups.
    let (status, error) = call(
        port,
        analyst,
        "POST",
        "/api/v1/groups",
        Some(json!({"code": "X", "name": "X", "parent": "NWG-ENERGY"})),
    );
    assert_eq!((status, error["field"].as_str()), (409, Some("parent")), "{error}");
    assert_eq!(call(port, member, "POST", "/api/v1/groups", Some(json!({"code": "Y", "name": "Y"}))).0, 403);

    // Members: from the registry, from outside; bad input refused by field, nothing written.
    let ana = json!({"name": "Ana Anić", "email": "ana@ep.example.ba", "org": "EP-NERETVA", "kind": "private",
        "sector": "energy", "language": "hr", "role": "chair"});
    let (status, group) = call(port, analyst, "POST", &path("/members"), Some(ana.clone()));
    assert_eq!(status, 201, "{group}");
    let prof_member = json!({"name": "Prof. Emina", "email": "prof@unsa.example.ba",
        "outside_org": "University of Sarajevo", "kind": "academia", "language": "bs"});
    let (status, group) = call(port, analyst, "POST", &path("/members"), Some(prof_member));
    assert_eq!(status, 201, "{group}");
    let version = group["version"].as_i64().unwrap();
    let (status, error) = call(port, analyst, "POST", &path("/members"), Some(ana));
    assert_eq!((status, error["field"].as_str()), (422, Some("email")), "{error}");
    assert!(error["message"].as_str().unwrap().contains("already a member"), "{error}");
    let unknown = json!({"name": "Nobody", "email": "n@x.example.ba", "org": "NO-SUCH-ORG", "kind": "kinda"});
    let (status, error) = call(port, analyst, "POST", &path("/members"), Some(unknown));
    assert_eq!(status, 422, "{error}");
    let fields: Vec<&str> =
        error["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["org", "kind"], "{error}");
    let backwards = json!({"title": "Kick-off", "starts_at": "2026-12-01T10:00:00Z",
        "ends_at": "2026-12-01T09:00:00Z", "place": "Sarajevo"});
    let (status, error) = call(port, analyst, "POST", &path("/meetings"), Some(backwards));
    assert_eq!((status, error["field"].as_str()), (422, Some("meetings[0].ends_at")), "{error}");
    let (_, group) = call(port, analyst, "GET", &path(""), None);
    assert_eq!(group["version"].as_i64(), Some(version), "nothing was written");
    assert_eq!(group["meetings"], json!([]));

    // A meeting, and an action item linked to a strategy action.
    let (document, action) = strategy_action(port, analyst);
    let meeting = json!({"title": "Kick-off", "starts_at": "2026-12-01T10:00:00Z",
        "ends_at": "2026-12-01T12:00:00Z", "online_url": "https://meet.example.ba/nwg", "agenda": ["Terms"]});
    let (status, group) = call(port, analyst, "POST", &path("/meetings"), Some(meeting));
    assert_eq!(status, 201, "{group}");
    let meeting_id = group["meetings"][0]["id"].as_str().unwrap().to_owned();
    let wrong_action = json!({"title": "ToR", "owner": "ana@ep.example.ba", "due": "2026-12-20",
        "strategy": {"document": document, "action": "00000000-0000-0000-0000-000000000001"}});
    let (status, error) = call(port, analyst, "POST", &path("/items"), Some(wrong_action));
    assert_eq!((status, error["field"].as_str()), (422, Some("strategy.action")), "{error}");
    let item = json!({"title": "Draft the terms of reference", "owner": "ana@ep.example.ba", "due": "2026-12-20",
        "meeting": meeting_id, "strategy": {"document": "BIH-SCF-2019", "action": action}});
    let (status, group) = call(port, analyst, "POST", &path("/items"), Some(item));
    assert_eq!(status, 201, "{group}");
    assert_eq!(group["action_items"][0]["strategy"], json!({"document": document, "action": action}));
    let item_id = group["action_items"][0]["id"].as_str().unwrap().to_owned();
    let (status, group) = call(
        port,
        analyst,
        "PATCH",
        &path(&format!("/items/{item_id}")),
        Some(json!({"status": "in_progress"})),
    );
    assert_eq!((status, group["action_items"][0]["status"].as_str()), (200, Some("in_progress")));
    let minutes = json!({"minutes": "# Minutes\nAgreed.", "add_decisions": ["Meet monthly"]});
    let (status, group) =
        call(port, analyst, "PATCH", &path(&format!("/meetings/{meeting_id}")), Some(minutes));
    assert_eq!((status, group["meetings"][0]["decisions"][0]["text"].as_str()), (200, Some("Meet monthly")));

    // Documents under TLP: AMBER to the members, RED to the named member only.
    let amber = json!({"title": "Sector risks", "tlp": "AMBER", "content": "# Risks"});
    let (status, amber) = call(port, analyst, "POST", &path("/documents"), Some(amber));
    assert_eq!(status, 201, "{amber}");
    let red = json!({"title": "Chair's contacts", "tlp": "RED", "content": "+387", "recipients": ["ana@ep.example.ba"]});
    let (status, red) = call(port, analyst, "POST", &path("/documents"), Some(red));
    assert_eq!(status, 201, "{red}");
    let (amber, red) = (amber["id"].as_str().unwrap(), red["id"].as_str().unwrap());
    assert_eq!(call(port, member, "GET", &path(&format!("/documents/{red}")), None).0, 200);
    assert_eq!(call(port, prof, "GET", &path(&format!("/documents/{red}")), None).0, 404);
    assert_eq!(call(port, analyst, "GET", &path(&format!("/documents/{red}")), None).0, 404);
    let (status, shared) = call(port, prof, "GET", &path(&format!("/documents/{amber}")), None);
    assert_eq!((status, shared["content"].as_str()), (200, Some("# Risks")));
    let (_, seen) = call(port, prof, "GET", &path(""), None);
    assert_eq!(seen["documents"].as_array().unwrap().len(), 1, "{seen}");

    // A non-member sees nothing: not the group, not its parts, not in listings.
    for rest in ["", "/diversity", &format!("/documents/{amber}"), &format!("/documents/{red}")] {
        let (status, body) = call(port, outsider, "GET", &path(rest), None);
        assert_eq!(status, 404, "{rest}: {body}");
        assert!(!body.to_string().contains("Energy sub-group"), "{body}");
    }
    let sneaky =
        json!({"name": "Mirko", "email": "mirko@he.example.ba", "org": "HE-DRINA", "kind": "private"});
    let (status, body) = call(port, outsider, "POST", &path("/members"), Some(sneaky));
    assert_eq!(status, 404, "{body}");
    assert_eq!(call(port, outsider, "GET", "/api/v1/groups", None).1, json!([]));
    let (_, listed) = call(port, prof, "GET", "/api/v1/groups", None);
    let codes: Vec<&str> = listed.as_array().unwrap().iter().map(|g| g["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["NWG-ENERGY"], "a member of the sub-group only");
    assert_eq!(call(port, member, "PATCH", &path(""), Some(json!({"name": "Mine"}))).0, 403);

    // Self-declarations: only the member reads and writes their own; others see aggregates.
    let members = seen["members"].as_array().unwrap();
    let ana_id = members.iter().find(|m| m["email"] == "ana@ep.example.ba").unwrap()["id"].as_str().unwrap();
    let self_path = path(&format!("/members/{ana_id}/self"));
    let (status, declared) =
        call(port, member, "PUT", &self_path, Some(json!({"gender": "female", "age_band": "35_44"})));
    assert_eq!((status, declared["gender"].as_str()), (200, Some("female")));
    assert_eq!(call(port, member, "GET", &self_path, None).1["age_band"], "35_44");
    assert_eq!(call(port, analyst, "GET", &self_path, None).0, 404);
    assert_eq!(call(port, prof, "PUT", &self_path, Some(json!({"gender": "male"}))).0, 404);
    let (status, error) = call(port, member, "PUT", &self_path, Some(json!({"gender": "robot"})));
    assert_eq!((status, error["field"].as_str()), (422, Some("gender")));
    let (_, full) = call(port, analyst, "GET", &path(""), None);
    assert!(!full.to_string().contains("female") && !full.to_string().contains("35_44"), "{full}");
    let (status, diversity) = call(port, prof, "GET", &path("/diversity"), None);
    assert_eq!(status, 200);
    assert_eq!(diversity["members"], 2);
    assert!(
        diversity["by_gender"].as_array().unwrap().iter().all(|c| c["count"].is_null() || c["count"] == 0)
    );
    assert!(diversity["rule"].as_str().unwrap().contains("below 3"));

    // Announcing needs the notifier; this server runs none.
    let (status, _) =
        call(port, analyst, "POST", &path("/announcements"), Some(json!({"subject": "s", "body": "b"})));
    assert_eq!(status, 503);

    // The command line sees the same data and never prints the declaration.
    let run = |args: &[&str]| neretva(d).args(args).output().unwrap();
    let shown = json_ok(&run(&["groups", "show", "NWG-ENERGY", "--json"]));
    assert_eq!(shown["action_items"][0]["strategy"]["action"], action.as_str());
    assert!(!shown.to_string().contains("female"), "{shown}");
    let listed = json_ok(&run(&["groups", "list", "--json"]));
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let added = json_ok(&run(&[
        "groups",
        "add-item",
        "NWG-ENERGY",
        "--title",
        "Report to the main group",
        "--owner",
        "prof@unsa.example.ba",
        "--due",
        "2027-01-15",
        "--strategy",
        "BIH-SCF-2019",
        "--action",
        &action,
        "--json",
    ]));
    assert_eq!(added["action_items"].as_array().unwrap().len(), 2);
    let refused = run(&[
        "groups",
        "add-member",
        "NWG",
        "--name",
        "X",
        "--email",
        "x@x.example.ba",
        "--org",
        "NOPE",
        "--kind",
        "public",
    ]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no organisation \"NOPE\""));
    let diversity = json_ok(&run(&["groups", "diversity", "NWG-ENERGY", "--json"]));
    assert_eq!(diversity["members"], 2);
}

/// The messages the SMTP sink wrote, by recipient.
fn received(directory: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(directory).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".eml") && !name.starts_with('.') {
            let recipient = name.trim_end_matches(".eml").split_once('-').unwrap().1.to_owned();
            found.push((
                recipient,
                String::from_utf8_lossy(&std::fs::read(directory.join(&name)).unwrap()).into(),
            ));
        }
    }
    found.sort();
    found
}

/// Decodes quoted-printable soft line breaks and `=XX` escapes.
fn unquote(text: &str) -> String {
    let joined = text.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Some(byte) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn groups_announce_to_members_through_a_real_smtp_server() {
    let Some(python) = std::env::var("NERETVA_TEST_PYTHON_SMTP").ok().filter(|p| !p.is_empty()) else {
        eprintln!("NERETVA_TEST_PYTHON_SMTP is not set: the announcement test needs aiosmtpd");
        return;
    };
    let setup = setup("groups-smtp");
    let d = setup.dir.0.as_path();
    let sink = d.join("sink");
    std::fs::create_dir_all(&sink).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let handlers = concat!(env!("CARGO_MANIFEST_DIR"), "/../neretva-notifier/tests");
    let smtp = Running(
        Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "smtp_sink.Sink"])
            .arg(&sink)
            .env("PYTHONPATH", handlers)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "aiosmtpd did not listen");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let keys = concat!(env!("CARGO_MANIFEST_DIR"), "/../neretva-notify/test_data/keys");
    let config = d.join("notify.toml");
    std::fs::write(
        &config,
        format!(
            "[notify]\nfrom = 'CERT <cert@cert.example.ba>'\nsigning_key = '{keys}/cert-secret.asc'\n\
             interval_seconds = 1\n[notify.smtp]\nhost = '127.0.0.1'\nport = {port}\ntls = 'plain'\n"
        ),
    )
    .unwrap();
    let mut command = neretva(d);
    command.arg("--config").arg(&config).env("NERETVA_SECRET_NOTIFY_KEY", "correct horse battery staple");
    let (_server, api) = serve_with(command);
    let analyst = &setup.analyst;

    let (status, group) =
        call(api, analyst, "POST", "/api/v1/groups", Some(json!({"code": "NWG", "name": "Neretva Group"})));
    assert_eq!(status, 201, "{group}");
    let id = group["id"].as_str().unwrap().to_owned();
    for (name, email, language) in [
        ("Ana", "ana@ep.example.ba", "hr"),
        ("Petar", "petar@ers.example.ba", "sr-Cyrl"),
        ("Broken", "refuse-permanent@ep.example.ba", "en"),
    ] {
        let member = json!({"name": name, "email": email, "org": "EP-NERETVA", "kind": "private", "language": language});
        assert_eq!(call(api, analyst, "POST", &format!("/api/v1/groups/{id}/members"), Some(member)).0, 201);
    }
    let announcement =
        json!({"subject": "Kick-off meeting", "body": "Monday, 10:00, Mostar.", "tlp": "GREEN"});
    let (status, recorded) =
        call(api, analyst, "POST", &format!("/api/v1/groups/{id}/announcements"), Some(announcement));
    assert_eq!(status, 201, "{recorded}");
    assert_eq!(recorded["deliveries"].as_array().unwrap().len(), 3);
    let announcement_id = recorded["id"].as_str().unwrap();

    // The notifier delivers within its interval; the refused address fails, the others are sent.
    let started = std::time::Instant::now();
    let statuses = loop {
        let (_, shown) =
            call(api, analyst, "GET", &format!("/api/v1/groups/{id}/announcements/{announcement_id}"), None);
        let statuses: Vec<(String, String)> = shown["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| (d["email"].as_str().unwrap().to_owned(), d["status"].as_str().unwrap().to_owned()))
            .collect();
        if statuses.iter().all(|(_, status)| status != "pending") {
            break statuses;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "not delivered: {shown}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let mut statuses = statuses;
    statuses.sort();
    assert_eq!(
        statuses,
        [
            ("ana@ep.example.ba".to_owned(), "sent".to_owned()),
            ("petar@ers.example.ba".to_owned(), "sent".to_owned()),
            ("refuse-permanent@ep.example.ba".to_owned(), "failed".to_owned()),
        ]
    );
    let messages = received(&sink);
    assert_eq!(
        messages.iter().map(|(to, _)| to.as_str()).collect::<Vec<_>>(),
        ["ana@ep.example.ba", "petar@ers.example.ba"]
    );
    for (to, raw) in &messages {
        assert!(raw.contains("Content-Type: multipart/signed;"), "{to}: not signed");
        assert!(raw.contains("application/pgp-signature"), "{to}");
        assert!(raw.contains("Subject: "), "{to}");
    }
    let ana = unquote(&messages[0].1);
    assert!(ana.contains("Članovima radne skupine"), "{ana}");
    assert!(ana.contains("Monday, 10:00, Mostar."), "{ana}");
    let petar = unquote(&messages[1].1);
    assert!(petar.contains("Члановима радне групе"), "{petar}");
    drop(smtp);
}
