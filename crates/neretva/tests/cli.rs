//! The `neretva` command line, run as a real process against a temporary data directory.

#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use neretva_store::Store as _;
use serde_json::Value;

mod support;

use support::{DEMO, DataDir, Running, json, neretva, ok, request, run};

#[test]
fn check_config_reports_every_problem() {
    let dir = DataDir::new("config");
    let file = dir.0.join("bad.toml");
    std::fs::write(&file, "listen = 'nowhere'\ncolour = 'blue'\n[auth]\nlockout_threshold = 0\n").unwrap();
    let output = run(&dir.0, &["--config", file.to_str().unwrap(), "check-config", "--json"]);
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["errors"], serde_json::json!(["colour: unknown configuration key"]));

    std::fs::write(&file, "listen = 'nowhere'\n[auth]\nlockout_threshold = 0\n").unwrap();
    let output = run(&dir.0, &["--config", file.to_str().unwrap(), "check-config", "--json"]);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["errors"].as_array().unwrap().len(), 2, "{report}");

    let good = run(
        &dir.0,
        &["--config", concat!(env!("CARGO_MANIFEST_DIR"), "/neretva.example.toml"), "check-config", "--json"],
    );
    assert_eq!(json(&good)["ok"], true);

    // The tables the pipeline loads are checked as well.
    let missing = dir.0.join("GeoLite2-City.mmdb");
    std::fs::write(&file, format!("[pipeline]\ngeoip_table = \"{}\"\n", missing.display())).unwrap();
    let output = run(&dir.0, &["--config", file.to_str().unwrap(), "check-config", "--json"]);
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let error = report["errors"][0].as_str().unwrap();
    assert!(
        error.starts_with("cannot load the geolocation database (pipeline.geoip_table): cannot read "),
        "{error}"
    );
}

#[test]
fn registry_users_tokens_lookup_and_audit_from_the_command_line() {
    let dir = DataDir::new("registry");
    let d = dir.0.as_path();
    let migrated = json(&run(d, &["migrate", "--json"]));
    assert_eq!(migrated["from"], 0);
    assert!(migrated["to"].as_i64().unwrap() >= 1);

    let imported = json(&run(d, &["org", "import", DEMO, "--json"]));
    assert!(imported["organisations_created"].as_u64().unwrap() >= 25, "{imported}");
    // Importing again refuses every duplicate and writes nothing.
    let again = run(d, &["org", "import", DEMO, "--json"]);
    assert_eq!(again.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert!(report["errors"][0]["line"].as_u64().unwrap() > 0, "{report}");

    let bad = d.join("bad.csv");
    std::fs::write(
        &bad,
        "record,org,name,short_name,country,entity_type,authority_level,kind,value\n\
         organisation,,Fine,FINE,BA,other,State,,\n\
         asset,FINE,,,,,,cidr,192.0.2.999/24\n\
         organisation,,Fine Too,FINE2,BA,other,Atlantis,,\n",
    )
    .unwrap();
    let rejected = run(d, &["org", "import", bad.to_str().unwrap()]);
    assert_eq!(rejected.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&rejected.stderr);
    assert!(stderr.contains("line 3") && stderr.contains("line 4"), "{stderr}");

    let orgs = json(&run(d, &["org", "list", "--json"]));
    let cert = orgs.as_array().unwrap().iter().find(|o| o["short_name"] == "CERT-BIH").unwrap();
    assert_eq!(cert["authority_level"], "State");
    assert!(!orgs.to_string().contains("FINE"), "the bad import wrote nothing");

    let created = json(&run(d, &["user", "add", "ana", "--org", "CERT-BIH", "--role", "analyst", "--json"]));
    assert_eq!(created["user"]["role"], "analyst");
    assert!(created["password"].as_str().unwrap().len() >= 32, "a generated password is printed once");
    let mut passwd = neretva(d)
        .args(["user", "passwd", "ana", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    passwd.stdin.take().unwrap().write_all(b"a-long-enough-password\n").unwrap();
    ok(&passwd.wait_with_output().unwrap());
    let users = json(&run(d, &["user", "list", "--json"]));
    assert_eq!(users.as_array().unwrap().len(), 1);

    // A lock-out after failed logins is lifted from the command line, audited.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let lock_until = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    runtime.block_on(async {
        let store = neretva_store_sqlite::SqliteStore::open(&d.join("neretva.db")).unwrap();
        let ana = store.find_user("ana").await.unwrap().unwrap();
        let failure = neretva_store::LoginOutcome::Failure {
            at: time::OffsetDateTime::now_utc(),
            lock_until: Some(lock_until),
        };
        let locked = store.record_login(ana.id, failure).await.unwrap();
        assert!(locked.locked_until.is_some());
    });
    ok(&run(d, &["user", "unlock", "ana"]));
    runtime.block_on(async {
        let store = neretva_store_sqlite::SqliteStore::open(&d.join("neretva.db")).unwrap();
        let ana = store.find_user("ana").await.unwrap().unwrap();
        assert_eq!((ana.failed_logins, ana.locked_until), (0, None));
        let unlocks = store
            .list_audit(&neretva_store::AuditQuery {
                action: Some("user.unlock".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(unlocks.len(), 1);
        assert_eq!(unlocks[0].event.object_id, ana.id.to_string());
    });
    assert!(!run(d, &["user", "unlock", "nobody"]).status.success());

    let token =
        json(&run(d, &["token", "create", "--user", "ana", "--name", "feeds", "--scope", "write", "--json"]));
    assert!(token["secret"].as_str().unwrap().starts_with("nrt_"));
    let escalate = run(d, &["token", "create", "--user", "ana", "--name", "x", "--scope", "admin"]);
    assert!(!escalate.status.success(), "an analyst may not hold an admin token");
    let id = token["token"]["id"].as_str().unwrap();
    ok(&run(d, &["token", "revoke", id]));
    let tokens = json(&run(d, &["token", "list", "--json"]));
    assert_eq!(tokens[0]["active"], false);
    assert!(!tokens.to_string().contains(token["secret"].as_str().unwrap()));

    // Demo data: ISPs hold /25s with customers' /28s inside them.
    let lookup = json(&run(d, &["lookup", "192.0.2.1", "--json"]));
    assert!(!lookup["owners"].as_array().unwrap().is_empty(), "{lookup}");
    let nobody = run(d, &["lookup", "10.1.2.3"]);
    assert_eq!(nobody.status.code(), Some(1));
    let malformed = run(d, &["lookup", "not an address!"]);
    assert_eq!(malformed.status.code(), Some(2));

    let verified = json(&run(d, &["audit", "verify", "--json"]));
    assert_eq!(verified["ok"], true);
    assert!(verified["checked"].as_u64().unwrap() >= 5);

    // Tamper with one entry directly in the database: verify names it and fails.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let store = neretva_store_sqlite::SqliteStore::open(&d.join("neretva.db")).unwrap();
        store.execute_raw("UPDATE audit_log SET object_id = 'forged' WHERE seq = 3").await.unwrap();
    });
    let tampered = run(d, &["audit", "verify", "--json"]);
    assert_eq!(tampered.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&tampered.stdout).unwrap();
    assert_eq!(report["first_bad_seq"], 3, "{report}");
}

/// Sends one HTTP/1.1 request and returns the status, the headers and the body.
fn http(port: u16, request: &str) -> (u16, String, String) {
    support::exchange(port, request)
}

#[test]
fn demo_serves_on_a_real_socket() {
    let dir = DataDir::new("demo");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = Running(
        neretva(&dir.0)
            .args(["demo", "--listen", &listen])
            .env("NERETVA_AUTH__COOKIE_SECURE", "false")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let started = Instant::now();
    let health = loop {
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            drop(stream.write_all(b""));
            break http(port, "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the demo did not start");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(health.0, 200, "{health:?}");

    let sign_in = |username: &str| {
        let body = format!(r#"{{"username":"{username}","password":"demo-{username}-password"}}"#);
        let login =
            request(port, "POST", "/api/v1/auth/login", &[("Content-Type", "application/json")], &body);
        assert_eq!(login.0, 200, "{login:?}");
        login
            .1
            .lines()
            .find_map(|line| line.strip_prefix("set-cookie: "))
            .and_then(|value| value.split(';').next())
            .unwrap()
            .to_owned()
    };
    let cookie = sign_in("admin");
    let orgs = http(
        port,
        &format!(
            "GET /api/v1/organisations?limit=1000 HTTP/1.1\r\nHost: localhost\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert_eq!(orgs.0, 200);
    let orgs: Value = serde_json::from_str(&orgs.2).unwrap();
    assert!(orgs["items"].as_array().unwrap().len() >= 25);
    let metrics = http(port, "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    assert!(metrics.2.contains("neretva_http_requests_total"), "{}", metrics.2);

    // The demo's reports of yesterday went through the pipeline of its feeds: every row is an
    // event, routed to the organisation whose network it names.
    let events = |cookie: &str| -> Vec<Value> {
        let page = request(port, "GET", "/api/v1/events?limit=100", &[("Cookie", cookie)], "");
        assert_eq!(page.0, 200, "{page:?}");
        let page: Value = serde_json::from_str(&page.2).unwrap();
        page["items"].as_array().unwrap().clone()
    };
    let all = events(&cookie);
    assert_eq!(all.len(), 16, "{all:#?}");
    let mut feeds: Vec<&str> = all.iter().map(|event| event["feed"].as_str().unwrap()).collect();
    feeds.sort_unstable();
    feeds.dedup();
    assert_eq!(feeds, ["abusech-feodotracker", "abusech-urlhaus", "shadowserver"]);
    let unrouted = all.iter().filter(|event| event["organisations"].as_array().unwrap().is_empty()).count();
    assert_eq!(unrouted, 3, "a row of each report but the URLhaus one concerns no one: {all:#?}");
    assert!(all.iter().all(|event| !event["raw"].as_str().unwrap().contains("@DAY@")), "{all:#?}");
    let urlhaus =
        all.iter().find(|event| event["event"]["source.fqdn"] == "www.gt-bosna.example.ba").unwrap();
    assert_eq!(urlhaus["organisations"], serde_json::json!(["GT-BOSNA"]), "{urlhaus:#}");
    // The constituent sees its own organisation's events only.
    let mine = events(&sign_in("constituent"));
    let mut addresses: Vec<&str> =
        mine.iter().map(|event| event["event"]["source.ip"].as_str().unwrap()).collect();
    addresses.sort_unstable();
    assert_eq!(addresses, ["192.0.2.45", "192.0.2.50"], "{mine:#?}");
    assert!(
        mine.iter().all(|event| event["organisations"] == serde_json::json!(["EP-NERETVA"])),
        "{mine:#?}"
    );

    // A Shadowserver report dropped into the demo's drop directory is picked up while it serves.
    let drop = dir.0.join("drop");
    let report = include_str!("../demo/reports/scan_dns.csv").replace("@DAY@", "2026-11-27");
    let address = report.lines().nth(1).unwrap().split(',').nth(2).unwrap().trim_matches('"').to_owned();
    let report = report.replace(&address, "203.0.113.77");
    std::fs::write(drop.join(".partial"), report).unwrap();
    std::fs::rename(drop.join(".partial"), drop.join("2026-11-27-scan_dns-ba-geo.csv")).unwrap();
    let picked_up = Instant::now();
    loop {
        let page = request(port, "GET", "/api/v1/events?ip=203.0.113.77", &[("Cookie", &cookie)], "");
        let page: Value = serde_json::from_str(&page.2).unwrap();
        if page["items"].as_array().is_some_and(|items| !items.is_empty()) {
            break;
        }
        assert!(
            picked_up.elapsed() < Duration::from_secs(60),
            "the dropped report was not picked up: {page}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    while !drop.join("done/2026-11-27-scan_dns-ba-geo.csv").exists() {
        assert!(picked_up.elapsed() < Duration::from_secs(60), "the dropped report was not moved to done");
        std::thread::sleep(Duration::from_millis(50));
    }
    let feeds = request(port, "GET", "/api/v1/feeds", &[("Cookie", &cookie)], "");
    let feeds: Value = serde_json::from_str(&feeds.2).unwrap();
    let shadowserver = feeds.as_array().unwrap().iter().find(|feed| feed["name"] == "shadowserver").unwrap();
    assert_eq!(shadowserver["source"], "directory", "{feeds}");
    assert_eq!(feeds.as_array().unwrap().iter().filter(|feed| !feed["source"].is_null()).count(), 1);

    let _ = child.0.kill();
    let mut stdout = String::new();
    child.0.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    assert!(
        stdout.contains(&format!("http://{listen}/")) && stdout.contains("demo-admin-password"),
        "{stdout}"
    );
}

#[test]
fn ingest_stores_reports_and_prints_intelmq_json() {
    let dir = DataDir::new("ingest");
    let d = dir.0.as_path();
    ok(&run(d, &["demo", "--no-serve"]));
    let report = d.join("2026-11-27-scan_dns-bih-geo.csv");
    let mut csv = String::from(
        "\"timestamp\",\"severity\",\"ip\",\"protocol\",\"port\",\"hostname\",\"tag\",\"asn\",\"geo\",\"region\",\"city\",\"naics\",\"hostname_source\",\"sector\",\"dns_version\",\"min_amplification\"\n",
    );
    for ip in ["192.0.2.1", "192.0.2.1", "300.0.0.1", "198.51.100.77", "203.0.113.250"] {
        csv.push_str(&format!(
            "\"2026-11-27 10:00:00\",\"medium\",\"{ip}\",\"udp\",\"53\",\"\",\"openresolver\",\"\",\"BA\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"\n"
        ));
    }
    std::fs::write(&report, &csv).unwrap();
    let path = report.to_str().unwrap();

    // A dry run prints IntelMQ JSON lines on standard output and the summary on standard error.
    let dry = run(d, &["ingest", "--feed", "shadowserver", "--dry-run", "--output", "intelmq-jsonl", path]);
    let stdout = ok(&dry);
    assert_eq!(stdout.lines().count(), 3);
    for line in stdout.lines() {
        let event = neretva_event::intelmq_json::from_line(line).unwrap();
        assert!(event.get("raw").is_some() && event.get("classification.taxonomy").is_some());
    }
    let stderr = String::from_utf8_lossy(&dry.stderr);
    assert!(stderr.contains("1 duplicates") && stderr.contains(":4: ip:"), "{stderr}");

    // Or CSV: a header and a line per event, with chosen columns or the events API's.
    let csv_out = run(
        d,
        &[
            "ingest",
            "--feed",
            "shadowserver",
            "--dry-run",
            "--output",
            "csv",
            "--fields",
            "source.ip, source.port,classification.type,extra.tag",
            path,
        ],
    );
    assert_eq!(
        ok(&csv_out),
        "source.ip,source.port,classification.type,extra.tag\r\n\
         192.0.2.1,53,vulnerable-system,openresolver\r\n\
         198.51.100.77,53,vulnerable-system,openresolver\r\n\
         203.0.113.250,53,vulnerable-system,openresolver\r\n"
    );
    let default_columns =
        ok(&run(d, &["ingest", "--feed", "shadowserver", "--dry-run", "--output", "csv", path]));
    assert!(
        default_columns.starts_with("time.source,time.observation,classification.taxonomy,"),
        "{default_columns}"
    );
    assert_eq!(default_columns.lines().count(), 4);
    let unknown = run(
        d,
        &["ingest", "--feed", "shadowserver", "--dry-run", "--output", "csv", "--fields", "source.ipp", path],
    );
    assert_eq!(unknown.status.code(), Some(2), "a usage error, before any work");
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("--fields: \"source.ipp\" is not a field"),
        "{unknown:?}"
    );

    // A report on standard input, compressed, named as its file would be.
    let mut child = neretva(d)
        .args(["ingest", "--feed", "shadowserver", "--dry-run", "--json", "-"])
        .args(["--stdin-name", "2026-11-27-scan_dns-bih-geo.csv.gz"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(csv.as_bytes()).unwrap();
    child.stdin.take().unwrap().write_all(&gz.finish().unwrap()).unwrap();
    let piped = json(&child.wait_with_output().unwrap());
    assert_eq!((piped["events"].as_u64(), piped["errors"].as_u64()), (Some(3), Some(1)), "{piped}");
    assert_eq!(piped["error_lines"][0]["file"], "stdin#2026-11-27-scan_dns-bih-geo.csv", "{piped}");
    let twice = run(d, &["ingest", "--feed", "shadowserver", "-", "-"]);
    assert_eq!(twice.status.code(), Some(2));

    let summary = json(&run(d, &["ingest", "--feed", "shadowserver", path, "--json"]));
    assert_eq!(summary["events"], 3);
    assert_eq!(summary["errors"], 1);
    assert_eq!(summary["error_lines"][0]["line"], 4);
    assert_eq!(summary["duplicates"], 1);
    let routed: u64 =
        summary["per_organisation"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    assert!(routed >= 2, "demo networks own the documentation ranges: {summary}");
    let id = summary["reports"][0].as_str().unwrap().to_owned();

    // The same file again is recognised; a re-parse replaces the report's events.
    let again = json(&run(d, &["ingest", "--feed", "shadowserver", path, "--json"]));
    assert_eq!(again["reports_already_stored"], 1);
    assert_eq!((again["records"].as_u64(), again["events"].as_u64()), (Some(0), Some(0)), "{again}");
    assert_eq!(again["reports"][0], id);
    let reparsed = json(&run(d, &["reparse", &id, "--json"]));
    assert_eq!((reparsed["events"].as_u64(), reparsed["duplicates"].as_u64()), (Some(3), Some(1)));

    // Compressed files are unpacked as the pipeline's file sources unpack them: a gzip file is
    // the report it holds, a zip archive one report per member, each named for the parser
    // (Shadowserver reads the report type from it) and in the summary.
    let gzipped = d.join("2026-11-27-scan_dns-bih-geo.csv.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(csv.as_bytes()).unwrap();
    std::fs::write(&gzipped, encoder.finish().unwrap()).unwrap();
    let zipped = d.join("reports.zip");
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for name in ["2026-11-27-scan_dns-a.csv", "2026-11-28-scan_dns-b.csv"] {
        writer.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        writer.write_all(csv.as_bytes()).unwrap();
    }
    std::fs::write(&zipped, writer.finish().unwrap().into_inner()).unwrap();
    let (gz_path, zip_path) = (gzipped.to_str().unwrap(), zipped.to_str().unwrap());
    let unpacked =
        json(&run(d, &["ingest", "--feed", "shadowserver", "--dry-run", "--json", gz_path, zip_path]));
    assert_eq!((unpacked["files"].as_u64(), unpacked["events"].as_u64()), (Some(2), Some(9)), "{unpacked}");
    let files: Vec<&str> =
        unpacked["error_lines"].as_array().unwrap().iter().map(|e| e["file"].as_str().unwrap()).collect();
    assert_eq!(
        files,
        [
            format!("{gz_path}/2026-11-27-scan_dns-bih-geo.csv"),
            format!("{zip_path}/2026-11-27-scan_dns-a.csv"),
            format!("{zip_path}/2026-11-28-scan_dns-b.csv")
        ]
    );

    // A file over the configured limit, or missing, is listed and fails the command; the other
    // files are processed all the same.
    let big = d.join("2026-11-27-scan_dns-big.csv");
    std::fs::write(&big, format!("{csv}{}", "\n".repeat(1024))).unwrap();
    let big_path = big.to_str().unwrap();
    assert!(csv.len() < 1024);
    let limited = neretva(d)
        .env("NERETVA_PIPELINE__LIMITS__MAX_REPORT_BYTES", "1024")
        .args(["ingest", "--feed", "shadowserver", "--dry-run", "--json", gz_path, big_path, "missing.csv"])
        .output()
        .unwrap();
    assert_eq!(limited.status.code(), Some(1));
    let summary: Value = serde_json::from_slice(&limited.stdout).unwrap();
    assert_eq!((summary["files"].as_u64(), summary["events"].as_u64()), (Some(3), Some(3)), "{summary}");
    let failed = summary["failed_files"].as_array().unwrap();
    assert_eq!(failed.len(), 2, "{summary}");
    assert_eq!(failed[0]["file"], big_path);
    assert!(failed[0]["error"].as_str().unwrap().contains("1024"), "{summary}");
    assert_eq!(failed[1]["file"], "missing.csv");

    let unknown = run(d, &["ingest", "--feed", "no-such-feed", path]);
    assert_eq!(unknown.status.code(), Some(2));
    let feeds = json(&run(d, &["feeds", "list", "--json"]));
    let parsers = feeds["parsers"].as_array().unwrap();
    assert!(parsers.len() >= 20);
    // Each parser names the IntelMQ bot it replaces, where there is one.
    let bot = |name: &str| parsers.iter().find(|p| p["name"] == name).map(|p| p["intelmq_bot"].clone());
    assert_eq!(bot("shadowserver"), Some(serde_json::json!("shadowserver.parser")));
    assert_eq!(bot("stix-indicators"), Some(serde_json::Value::Null));
    let table = String::from_utf8(run(d, &["feeds", "list"]).stdout).unwrap();
    assert!(table.contains("INTELMQ BOT") && table.contains("spamhaus.parser_cert"), "{table}");
}

#[test]
fn serve_watches_a_directory_and_accepts_uploads() {
    let dir = DataDir::new("serve-feeds");
    let d = dir.0.as_path();
    ok(&run(d, &["demo", "--no-serve"]));
    let drop_dir = d.join("drop");
    std::fs::create_dir_all(&drop_dir).unwrap();
    // An iptoasn table, gzipped as published, looked at every second while serving.
    let asn_table = d.join("ip2asn-combined.tsv.gz");
    let write_asn_table = |asn: u32| {
        let tsv = format!(
            "192.0.2.0\t192.0.2.255\t{asn}\tBA\tEXAMPLE-{asn}\n198.51.100.0\t198.51.100.255\t{asn}\tBA\tEXAMPLE-{asn}\n"
        );
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gzip.write_all(tsv.as_bytes()).unwrap();
        // Written beside it and renamed, as a download script should.
        let partial = d.join("ip2asn-combined.tsv.gz.part");
        std::fs::write(&partial, gzip.finish().unwrap()).unwrap();
        std::fs::rename(&partial, &asn_table).unwrap();
    };
    write_asn_table(64500);
    let config = d.join("neretva.toml");
    std::fs::write(
        &config,
        format!(
            "[pipeline]\nasn_table = \"{}\"\ngeoip_table = \"{}\"\ntable_check_seconds = 1\n\n\
             [[pipeline.feeds]]\nname = \"shadowserver\"\nparser = \"shadowserver\"\n\
             source = {{ kind = \"directory\", path = \"{}\", pattern = \"*.csv\", poll_seconds = 3600, done_dir = \"{}\" }}\n",
            asn_table.display(),
            // The pipeline's test city database: 192.0.2.0/24 in Sarajevo.
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../neretva-pipeline/tests/data/geoip-city-test.mmdb").display(),
            drop_dir.display(),
            d.join("done").display()
        ),
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let _server = Running(
        neretva(d)
            .args(["--config", config.to_str().unwrap(), "serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("NERETVA_AUTH__COOKIE_SECURE", "false")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut csv = String::from(
        "\"timestamp\",\"severity\",\"ip\",\"protocol\",\"port\",\"hostname\",\"tag\",\"asn\",\"geo\",\"region\",\"city\",\"naics\",\"hostname_source\",\"sector\",\"dns_version\",\"min_amplification\"\n",
    );
    csv.push_str("\"2026-11-27 10:00:00\",\"medium\",\"192.0.2.1\",\"udp\",\"53\",\"\",\"openresolver\",\"\",\"BA\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"\n");
    std::fs::write(drop_dir.join("2026-11-27-scan_dns-bih-geo.csv"), &csv).unwrap();

    let token =
        json(&run(d, &["token", "create", "--user", "analyst", "--name", "t", "--scope", "write", "--json"]));
    let secret = token["secret"].as_str().unwrap().to_owned();
    let started = Instant::now();
    // The directory is looked at hourly: the report comes in because a fetch is asked for (the
    // source may still be starting when the server already answers).
    let bearer = format!("Bearer {secret}");
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            let reply =
                request(port, "POST", "/api/v1/feeds/shadowserver/fetch", &[("Authorization", &bearer)], "");
            if reply.0 == 202 {
                break;
            }
            assert_eq!(reply.0, 409, "{reply:?}");
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the source did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let unknown = request(port, "POST", "/api/v1/feeds/nope/fetch", &[("Authorization", &bearer)], "");
    assert_eq!(unknown.0, 404, "{unknown:?}");
    let events = loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            let reply = http(
                port,
                &format!(
                    "GET /api/v1/events?ip=192.0.2.1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {secret}\r\nConnection: close\r\n\r\n"
                ),
            );
            let body: Value = serde_json::from_str(&reply.2).unwrap_or(Value::Null);
            if body["items"].as_array().is_some_and(|items| !items.is_empty()) {
                break body;
            }
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the dropped report was not ingested");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(events["items"][0]["event"]["source.ip"], "192.0.2.1");
    assert_eq!(events["items"][0]["event"]["source.asn"], 64500, "enriched from the ASN table");
    assert_eq!(events["items"][0]["event"]["source.geolocation.city"], "Sarajevo", "and the city database");
    // The file is moved once its events are stored, so the move may follow the events shortly.
    let done = d.join("done/2026-11-27-scan_dns-bih-geo.csv");
    while !done.exists() {
        assert!(started.elapsed() < Duration::from_secs(60), "processed files move to done_dir");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !drop_dir.join("2026-11-27-scan_dns-bih-geo.csv").exists(),
        "the processed file left the drop directory"
    );

    // The source's state says it brought the report in.
    let feeds = loop {
        let reply = request(port, "GET", "/api/v1/feeds", &[("Authorization", &bearer)], "");
        let feeds: Value = serde_json::from_str(&reply.2).unwrap();
        if feeds[0]["source_state"]["last_success"].is_string() {
            break feeds;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no successful poll: {feeds}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let state = &feeds[0]["source_state"];
    assert_eq!(
        (feeds[0]["name"].as_str(), feeds[0]["source"].as_str()),
        (Some("shadowserver"), Some("directory"))
    );
    assert_eq!((state["reports"].as_u64(), state["errors"].as_u64()), (Some(1), Some(0)), "{feeds}");
    assert_eq!(
        feeds[0]["last_report"]["source"],
        format!("file:{}", d.join("drop/2026-11-27-scan_dns-bih-geo.csv").display())
    );

    let upload = csv.replace("192.0.2.1", "198.51.100.5");
    let reply = request(
        port,
        "POST",
        "/api/v1/reports?feed=shadowserver&file_name=2026-11-28-scan_dns-bih-geo.csv",
        &[("Authorization", &bearer)],
        &upload,
    );
    assert_eq!(reply.0, 201, "{reply:?}");
    let report: Value = serde_json::from_str(&reply.2).unwrap();
    assert_eq!(report["events"], 1, "{report}");
    assert_eq!(report["source"], "upload:analyst#2026-11-28-scan_dns-bih-geo.csv");

    // A newer ASN table is loaded without a restart: reports from then on are enriched from it.
    write_asn_table(64511);
    let mut last = 10;
    loop {
        last += 1;
        let address = format!("198.51.100.{last}");
        let reply = request(
            port,
            "POST",
            &format!("/api/v1/reports?feed=shadowserver&file_name=2026-11-28-scan_dns-bih-geo-{last}.csv"),
            &[("Authorization", &bearer)],
            &csv.replace("192.0.2.1", &address),
        );
        assert_eq!(reply.0, 201, "{reply:?}");
        let events =
            request(port, "GET", &format!("/api/v1/events?ip={address}"), &[("Authorization", &bearer)], "");
        let events: Value = serde_json::from_str(&events.2).unwrap();
        match events["items"][0]["event"]["source.asn"].as_u64() {
            Some(64511) => break,
            Some(64500) => {}
            other => panic!("AS {other:?} of {address}: {events}"),
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the changed ASN table was not loaded");
        // At most 150 tries in the minute, so the addresses stay within 198.51.100.0/24.
        std::thread::sleep(Duration::from_millis(400));
    }
}

/// `neretva events export` writes stored events as IntelMQ JSON lines (each with its report line)
/// or CSV, page after page, with the events API's filters.
#[test]
fn events_export_writes_stored_events_as_intelmq_lines_or_csv() {
    use base64::Engine as _;
    let dir = DataDir::new("events-export");
    let d = dir.0.as_path();
    ok(&run(d, &["migrate"]));
    let mut csv = String::from(
        "\"timestamp\",\"severity\",\"ip\",\"protocol\",\"port\",\"hostname\",\"tag\",\"asn\",\"geo\",\"region\",\"city\",\"naics\",\"hostname_source\",\"sector\",\"dns_version\",\"min_amplification\"\n",
    );
    for ip in ["192.0.2.1", "192.0.2.2", "192.0.2.3"] {
        csv.push_str(&format!(
            "\"2026-11-27 10:00:00\",\"medium\",\"{ip}\",\"udp\",\"53\",\"\",\"openresolver\",\"64500\",\"BA\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"\n"
        ));
    }
    let report = d.join("2026-11-27-scan_dns-bih-geo.csv");
    std::fs::write(&report, &csv).unwrap();
    ok(&run(d, &["ingest", "--feed", "shadowserver", report.to_str().unwrap()]));

    let all = run(d, &["events", "export"]);
    let text = ok(&all);
    let mut ips = Vec::new();
    for line in text.lines() {
        let fields: Value = serde_json::from_str(line).unwrap();
        let ip = fields["source.ip"].as_str().unwrap().to_owned();
        let raw = base64::engine::general_purpose::STANDARD.decode(fields["raw"].as_str().unwrap()).unwrap();
        let raw = String::from_utf8(raw).unwrap();
        assert!(raw.starts_with("\"2026-11-27 10:00:00\"") && raw.contains(&ip), "{raw}");
        assert!(line.contains("\"classification.type\": \"vulnerable-system\", "), "{line}");
        ips.push(ip);
    }
    assert_eq!(ips, ["192.0.2.3", "192.0.2.2", "192.0.2.1"], "newest first");
    assert!(String::from_utf8_lossy(&all.stderr).contains("3 events exported"));
    // Filters and a limit.
    assert_eq!(ok(&run(d, &["events", "export", "--ip", "192.0.2.2/32"])).lines().count(), 1);
    assert_eq!(ok(&run(d, &["events", "export", "--limit", "2"])).lines().count(), 2);
    assert_eq!(ok(&run(d, &["events", "export", "--feed", "other"])).lines().count(), 0);
    let csv = ok(&run(d, &["events", "export", "--output", "csv", "--fields", "source.ip,source.port"]));
    assert_eq!(csv, "source.ip,source.port\r\n192.0.2.3,53\r\n192.0.2.2,53\r\n192.0.2.1,53\r\n");
    let bad = run(d, &["events", "export", "--since", "yesterday"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--since: \"yesterday\" is not an RFC 3339 time"));
    let bad = run(d, &["events", "export", "--fields", "source.ip"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--fields chooses the columns of --output csv"));

    // An event IntelMQ's types would not take: written as stored in lines, left out of CSV.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let store = neretva_store_sqlite::SqliteStore::open(&d.join("neretva.db")).unwrap();
        let event = neretva_store::feeds::NewEvent::new(
            uuid::Uuid::now_v7(),
            "old",
            1,
            "192.0.2.300",
            time::OffsetDateTime::now_utc(),
            r#"{"source.ip": "192.0.2.300"}"#,
        );
        store.insert_events(&[event]).await.unwrap();
    });
    let lines = run(d, &["events", "export", "--json"]);
    assert_eq!(ok(&lines).lines().next(), Some(r#"{"raw":"MTkyLjAuMi4zMDA=","source.ip":"192.0.2.300"}"#));
    let summary: Value = serde_json::from_slice(&lines.stderr).unwrap();
    assert_eq!(
        (summary["events"].as_u64(), summary["unreadable"].as_array().map(Vec::len)),
        (Some(4), Some(1))
    );
    let left_out = run(d, &["events", "export", "--output", "csv"]);
    assert_eq!(left_out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&left_out.stdout).lines().count(), 4, "the header and three events");
    assert!(
        String::from_utf8_lossy(&left_out.stderr)
            .contains("1 events do not read as IntelMQ events (left out)")
    );

    // More than a page of the store's (1,000): every event once.
    let mut more = std::fs::read_to_string(&report).unwrap().lines().next().unwrap().to_owned() + "\n";
    for n in 0..1_100u32 {
        more.push_str(&format!(
            "\"2026-11-28 10:00:00\",\"medium\",\"198.51.{}.{}\",\"udp\",\"53\",\"\",\"openresolver\",\"64500\",\"BA\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"\n",
            n / 250,
            n % 250 + 1
        ));
    }
    let second = d.join("2026-11-28-scan_dns-bih-geo.csv");
    std::fs::write(&second, more).unwrap();
    ok(&run(d, &["ingest", "--feed", "shadowserver", second.to_str().unwrap()]));
    let every = ok(&run(d, &["events", "export"]));
    let distinct: std::collections::HashSet<&str> = every.lines().collect();
    assert_eq!((every.lines().count(), distinct.len()), (1_104, 1_104));
}

/// `neretva feeds status` tells how many unseen messages an `imap` source leaves as they are, as
/// the source saved them, so a provider that changed its subject line shows.
#[test]
fn feeds_status_counts_the_messages_an_imap_source_left() {
    let dir = DataDir::new("imap-status");
    let d = dir.0.as_path();
    ok(&run(d, &["migrate"]));
    let config = d.join("neretva.toml");
    std::fs::write(
        &config,
        "[[pipeline.feeds]]\nname = \"mail\"\nparser = \"shadowserver\"\n\
         source = { kind = \"imap\", host = \"127.0.0.1\", tls = \"none\", username = \"feeds\", password = \"x\" }\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let before = json(&run(d, &["--config", config, "feeds", "status", "--json"]));
    assert_eq!(before["sources"][0]["messages_left"], 0, "{before}");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let store = neretva_store_sqlite::SqliteStore::open(&d.join("neretva.db")).unwrap();
        let state = r#"{"last_poll": "2026-11-30T10:00:00Z", "last_success": "2026-11-30T10:00:00Z",
            "failing_polls": 0, "imap": {"uidvalidity": 7, "uids": [3, 4, 5]}}"#;
        let record = neretva_store::feeds::SourceRecord {
            feed: "mail".into(),
            kind: "imap".into(),
            state: state.into(),
            saved_at: time::OffsetDateTime::now_utc(),
        };
        store.save_source_record(&record).await.unwrap();
    });
    let status = run(d, &["--config", config, "feeds", "status", "--json"]);
    assert_eq!(status.status.code(), Some(0), "leaving messages is not a failure");
    let mail = &json(&status)["sources"][0];
    assert_eq!((mail["ok"].as_bool(), mail["messages_left"].as_u64()), (Some(true), Some(3)), "{mail}");
    let table = run(d, &["--config", config, "feeds", "status"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("ok, 3 messages left unseen"), "{text}");

    // A saved state that cannot be read is shown as such, for its feed only, and fails the
    // check (nothing tells whether the source works).
    runtime.block_on(async {
        let store = neretva_store_sqlite::SqliteStore::open(&d.join("neretva.db")).unwrap();
        let record = neretva_store::feeds::SourceRecord {
            feed: "mail".into(),
            kind: "imap".into(),
            state: r#"{"failing_polls": "many"}"#.into(),
            saved_at: time::OffsetDateTime::now_utc(),
        };
        store.save_source_record(&record).await.unwrap();
    });
    let status = run(d, &["--config", config, "feeds", "status", "--json"]);
    assert_eq!(status.status.code(), Some(1));
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    let mail = &status["sources"][0];
    assert_eq!((mail["ok"].as_bool(), &status["failing"]), (Some(false), &Value::from(1)), "{status}");
    assert!(mail["state_unreadable"].as_str().unwrap().contains("invalid type"), "{mail}");
    let table = run(d, &["--config", config, "feeds", "status"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("saved state unreadable") && text.contains("invalid type"), "{text}");
}

#[test]
fn feeds_fetch_looks_at_a_source_once() {
    let dir = DataDir::new("fetch");
    let d = dir.0.as_path();
    ok(&run(d, &["migrate"]));
    let drop_dir = d.join("drop");
    std::fs::create_dir_all(&drop_dir).unwrap();
    let csv = "\"timestamp\",\"severity\",\"ip\",\"protocol\",\"port\",\"hostname\",\"tag\",\"asn\",\"geo\",\"region\",\"city\",\"naics\",\"hostname_source\",\"sector\",\"dns_version\",\"min_amplification\"\n\
               \"2026-11-27 10:00:00\",\"medium\",\"192.0.2.1\",\"udp\",\"53\",\"\",\"openresolver\",\"64500\",\"BA\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"\n";
    std::fs::write(drop_dir.join("2026-11-27-scan_dns-bih-geo.csv"), csv).unwrap();
    let config = d.join("neretva.toml");
    std::fs::write(
        &config,
        format!(
            "[[pipeline.feeds]]\nname = \"drop\"\nparser = \"shadowserver\"\n\
             source = {{ kind = \"directory\", path = \"{}\", done_dir = \"{}\" }}\n\n\
             [[pipeline.feeds]]\nname = \"missing\"\nparser = \"shadowserver\"\n\
             source = {{ kind = \"file\", path = \"{}\" }}\n\n\
             [[pipeline.feeds]]\nname = \"uploads\"\nparser = \"shadowserver\"\n",
            drop_dir.display(),
            d.join("done").display(),
            d.join("no-such-report.csv").display()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();

    let feeds = json(&run(d, &["--config", config, "feeds", "list", "--json"]));
    let sources: Vec<&Value> =
        feeds["feeds"].as_array().unwrap().iter().map(|feed| &feed["source"]).collect();
    assert_eq!(sources, [&Value::from("directory"), &Value::from("file"), &Value::Null]);
    // Before any poll no source has a state.
    let status = run(d, &["--config", config, "feeds", "status", "--json"]);
    assert_eq!(status.status.code(), Some(0));
    let status = json(&status);
    let states: Vec<(&Value, &Value)> =
        status["sources"].as_array().unwrap().iter().map(|source| (&source["feed"], &source["ok"])).collect();
    assert_eq!(states, [(&Value::from("drop"), &Value::Null), (&Value::from("missing"), &Value::Null)]);

    // The directory's report is read at once (two looks a second apart) and moved on.
    let fetched = json(&run(d, &["--config", config, "feeds", "fetch", "drop", "--json"]));
    assert_eq!(
        (fetched["ok"].as_bool(), fetched["reports_fetched"].as_u64()),
        (Some(true), Some(1)),
        "{fetched}"
    );
    assert_eq!(fetched["source"], "directory");
    assert_eq!(fetched["new_reports"][0]["events"], 1, "{fetched}");
    assert!(d.join("done/2026-11-27-scan_dns-bih-geo.csv").exists());
    let again = json(&run(d, &["--config", config, "feeds", "fetch", "drop", "--json"]));
    assert_eq!(
        (again["reports_fetched"].as_u64(), again["new_reports"].as_array().map(Vec::len)),
        (Some(0), Some(0))
    );

    // A source that fails says why, and the command fails.
    let missing = run(d, &["--config", config, "feeds", "fetch", "missing"]);
    assert_eq!(missing.status.code(), Some(1));
    let text = String::from_utf8_lossy(&missing.stdout);
    assert!(text.starts_with("missing (file): 0 report(s) fetched, 0 new, 1 failure(s)"), "{text}");
    assert!(text.contains("last failure: cannot read ") && text.contains("no-such-report.csv"), "{text}");

    // The sources' states, as they saved them: the failing one makes the command fail, for
    // monitoring.
    let status = run(d, &["--config", config, "feeds", "status", "--json"]);
    assert_eq!(status.status.code(), Some(1));
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    let (drop, missing) = (&status["sources"][0], &status["sources"][1]);
    assert_eq!((drop["ok"].as_bool(), drop["source"].as_str()), (Some(true), Some("directory")), "{status}");
    assert!(drop["last_success"].is_string() && drop["last_error"].is_null(), "{status}");
    assert_eq!((missing["ok"].as_bool(), missing["failing_polls"].as_u64()), (Some(false), Some(1)));
    assert!(missing["last_error"].as_str().unwrap().contains("no-such-report.csv"), "{status}");
    assert!(missing["last_success"].is_null() && status["failing"] == 1, "{status}");
    let table = run(d, &["--config", config, "feeds", "status"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.starts_with("FEED") && text.contains("failing (1 poll)"), "{text}");

    // Once the file is there the source works again: this fetch names no failure, and the
    // status shows the source well, its last failure still visible.
    std::fs::write(d.join("no-such-report.csv"), csv).unwrap();
    let fetched = run(d, &["--config", config, "feeds", "fetch", "missing"]);
    assert_eq!(fetched.status.code(), Some(0));
    let text = String::from_utf8_lossy(&fetched.stdout);
    assert!(
        text.starts_with("missing (file): 1 report(s) fetched") && !text.contains("last failure"),
        "{text}"
    );
    let status = run(d, &["--config", config, "feeds", "status", "--json"]);
    assert_eq!(status.status.code(), Some(0));
    let missing = &json(&status)["sources"][1];
    assert_eq!((missing["ok"].as_bool(), missing["failing_polls"].as_u64()), (Some(true), Some(0)));
    assert!(missing["last_error"].as_str().unwrap().contains("no-such-report.csv"), "{missing}");
    // A feed whose source became another kind starts afresh: the file's state is not its.
    let text = std::fs::read_to_string(config).unwrap();
    let changed = text.replace(
        &format!("source = {{ kind = \"file\", path = \"{}\" }}", d.join("no-such-report.csv").display()),
        &format!("source = {{ kind = \"directory\", path = \"{}\" }}", drop_dir.display()),
    );
    assert_ne!(changed, text);
    std::fs::write(config, changed).unwrap();
    let status = json(&run(d, &["--config", config, "feeds", "status", "--json"]));
    let missing = &status["sources"][1];
    assert_eq!((missing["source"].as_str(), &missing["ok"]), (Some("directory"), &Value::Null), "{status}");

    // A feed without a source, or none at all, is an error that says what to do.
    let uploads = run(d, &["--config", config, "feeds", "fetch", "uploads"]);
    assert!(
        String::from_utf8_lossy(&uploads.stderr)
            .contains("has no source; `neretva ingest --feed uploads FILE`")
    );
    let unknown = run(d, &["--config", config, "feeds", "fetch", "nope"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no feed \"nope\" is configured"));
}

#[test]
fn retention_is_applied_once_from_the_command_line() {
    let dir = DataDir::new("retention");
    let d = dir.0.as_path();
    ok(&run(d, &["migrate"]));
    // IntelMQ events keep their observation time: one from 2020, one from now.
    let now = time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap();
    let lines = [("2020-01-01T00:00:00+00:00", "192.0.2.7"), (now.as_str(), "192.0.2.8")]
        .iter()
        .map(|(at, ip)| {
            format!(r#"{{"feed.name": "x", "time.observation": "{at}", "source.ip": "{ip}", "classification.type": "scanner", "raw": "eA=="}}"#)
        })
        .collect::<Vec<_>>()
        .join("\n");
    let file = d.join("events.jsonl");
    std::fs::write(&file, lines).unwrap();
    let ingested = json(&run(d, &["ingest", "--feed", "intelmq-json", file.to_str().unwrap(), "--json"]));
    assert_eq!(ingested["events"], 2, "{ingested}");

    // Without retention periods nothing is purged, and the command says so.
    let kept = ok(&run(d, &["retention"]));
    assert!(kept.starts_with("events kept (no retention period set); reports' raw data kept"), "{kept}");
    // With them, the old event goes and the new one and today's report stay.
    let with_periods = |args: &[&str]| {
        neretva(d)
            .env("NERETVA_PIPELINE__RETENTION_DAYS", "30")
            .env("NERETVA_PIPELINE__REPORT_RETENTION_DAYS", "7")
            .args(args)
            .output()
            .unwrap()
    };
    let purged = json(&with_periods(&["retention", "--json"]));
    assert_eq!(
        (purged["events_purged"].as_u64(), purged["report_data_purged"].as_u64()),
        (Some(1), Some(0)),
        "{purged}"
    );
    let again = json(&with_periods(&["retention", "--json"]));
    assert_eq!(again["events_purged"], 0, "{again}");
    let report = ingested["reports"][0].as_str().unwrap();
    let reparsed = json(&run(d, &["reparse", report, "--json"]));
    assert_eq!(reparsed["events"], 2, "the report's data stayed: {reparsed}");
}

#[test]
fn shadowserver_schema_is_installed_from_a_file_or_downloaded() {
    let dir = DataDir::new("schema");
    let d = dir.0.as_path();
    let builtin = json(&run(d, &["feeds", "shadowserver-schema", "--json"]));
    assert_eq!(builtin["origin"], "built in");
    let count = builtin["report_types"].as_array().unwrap().len();
    assert!(count >= 170, "{count}");

    let bad = d.join("bad.json");
    std::fs::write(&bad, "{\"scan_x\": {\"required_fields\": 7}}").unwrap();
    let refused = run(d, &["feeds", "shadowserver-schema", "--file", bad.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not installed"));

    // A tiny server on 127.0.0.1 stands in for Shadowserver.
    let schema = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../neretva-feeds/data/shadowserver-intelmq.json"
    ))
    .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/intelmq/v1/schema", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = [0u8; 4096];
        let _ = stream.read(&mut request).unwrap();
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            schema.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&schema).unwrap();
    });
    let updated = json(&run(d, &["feeds", "shadowserver-schema", "--update", "--url", &url, "--json"]));
    server.join().unwrap();
    assert!(updated["origin"].as_str().unwrap().ends_with("shadowserver-schema.json"));
    assert_eq!(updated["report_types"].as_array().unwrap().len(), count);
    // The installed schema is what ingestion uses.
    let report = d.join("2026-11-27-scan_dns-bih-geo.csv");
    std::fs::write(&report, "\"timestamp\",\"ip\",\"port\"\n\"2026-11-27 10:00:00\",\"192.0.2.1\",\"53\"\n")
        .unwrap();
    let summary =
        json(&run(d, &["ingest", "--feed", "shadowserver", "--dry-run", report.to_str().unwrap(), "--json"]));
    assert_eq!(summary["events"], 1, "{summary}");
}

#[test]
fn incidents_and_evidence_from_the_command_line() {
    let dir = DataDir::new("incidents");
    let d = dir.0.as_path();
    ok(&run(d, &["demo", "--no-serve"]));
    // A feed event the observable will match.
    let report = d.join("2026-11-27-scan_dns-bih-geo.csv");
    std::fs::write(
        &report,
        "\"timestamp\",\"severity\",\"ip\",\"protocol\",\"port\",\"hostname\",\"tag\",\"asn\",\"geo\",\"region\",\"city\",\"naics\",\"hostname_source\",\"sector\",\"dns_version\",\"min_amplification\"\n\
         \"2026-11-27 10:00:00\",\"medium\",\"192.0.2.1\",\"udp\",\"53\",\"\",\"openresolver\",\"\",\"BA\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"\n",
    )
    .unwrap();
    ok(&run(d, &["ingest", "--feed", "shadowserver", report.to_str().unwrap()]));

    let aware = (time::OffsetDateTime::now_utc() - time::Duration::hours(30))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let args = [
        "incident",
        "create",
        "--title",
        "Open resolver abused",
        "--classification",
        "ddos-amplifier",
        "--reporter",
        "EP-NERETVA",
        "--aware-at",
        &aware,
        "--json",
    ];
    let created = json(&run(d, &args));
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["deadlines"][0]["state"], "overdue", "{created}");

    // The workflow refuses what it does not allow, naming what it does.
    let refused = run(d, &["incident", "transition", &id, "closed"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("allowed from new: triage"));
    assert_eq!(json(&run(d, &["incident", "transition", &id, "triage", "--json"]))["status"], "triage");
    assert!(json(&run(d, &["incident", "assign", &id, "analyst", "--json"]))["assignee"].is_string());
    assert!(!run(d, &["incident", "assign", &id, "constituent"]).status.success(), "not the CERT's staff");
    ok(&run(d, &["incident", "comment", &id, "Called the operator."]));
    let added = json(&run(d, &["incident", "observable", "add", &id, "192.0.2.1", "--json"]));
    assert_eq!(
        (added["kind"].as_str(), added["matched_events"].as_u64()),
        (Some("ipv4"), Some(1)),
        "{added}"
    );

    let second = json(&run(d, &["incident", "create", "--title", "Same resolver", "--json"]));
    let second = second["id"].as_str().unwrap().to_owned();
    let listed = json(&run(d, &["incident", "list", "--query", "resolver", "--json"]));
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let queue = json(&run(d, &["incident", "queue", "--json"]));
    assert_eq!(queue[0]["id"], id.as_str(), "the overdue incident heads the queue");
    let merged = json(&run(d, &["incident", "merge", &id, &second, "--json"]));
    assert_eq!(merged["id"], id.as_str());
    let shown = json(&run(d, &["incident", "show", &second, "--json"]));
    assert_eq!(shown["incident"]["merged_into"], id.as_str());
    let shown = json(&run(d, &["incident", "show", &id, "--json"]));
    assert!(shown["tasks"].as_array().unwrap().len() >= 5, "seeded from the playbook");
    let stats = json(&run(d, &["incident", "stats", "--json"]));
    assert_eq!(stats["total"], 1, "the merged incident is not counted twice");
    let quarter = neretva_incident::summary::Quarter::of(
        time::OffsetDateTime::now_utc(),
        neretva_incident::deadline::CivilZone::default(),
    )
    .to_string();
    let summary_file = d.join("summary.csv");
    ok(&run(
        d,
        &[
            "incident",
            "summary",
            "--quarter",
            &quarter,
            "--format",
            "csv",
            "-o",
            summary_file.to_str().unwrap(),
        ],
    ));
    let summary = std::fs::read_to_string(&summary_file).unwrap();
    assert!(summary.contains("ddos-amplifier") && !summary.contains("EP-NERETVA"), "{summary}");

    // An intermediate report asked for, a significance assessment recorded, the deadline feed.
    let in_two_days = (time::OffsetDateTime::now_utc() + time::Duration::days(2))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let asked = json(&run(
        d,
        &["incident", "request", &id, "--due", &in_two_days, "--note", "Restored yet?", "--json"],
    ));
    assert_eq!(asked["intermediate_requests"][0]["state"], "due", "{asked}");
    assert!(!run(d, &["incident", "request", &id, "--due", &aware]).status.success(), "due in the past");
    let facts = d.join("facts.json");
    std::fs::write(&facts, format!(r#"{{"occurred_at": "{aware}", "severe_disruption_or_loss": true}}"#))
        .unwrap();
    let assessed =
        json(&run(d, &["incident", "significance", &id, "--facts", facts.to_str().unwrap(), "--json"]));
    assert_eq!(assessed["assessment"]["significant"], true, "{assessed}");
    assert_eq!(assessed["incident"]["significance"]["criteria"], serde_json::json!(["nis2-art23-3-a"]));
    let ics = run(d, &["incident", "deadlines", "--within-hours", "72", "--format", "ics"]);
    ok(&ics);
    let ics = String::from_utf8_lossy(&ics.stdout).replace("\r\n ", "");
    assert!(ics.contains(&format!("UID:{id}-intermediate_report-")), "{ics}");
    let csv = run(d, &["incident", "deadlines", "--within-hours", "72", "--format", "csv"]);
    assert!(String::from_utf8_lossy(&csv.stdout).starts_with("incident_id,title,severity,assignee,kind,"));

    // A later feed report with the same address is linked as it is ingested; matching again
    // finds nothing new.
    let later = d.join("2026-11-28-scan_dns-bih-geo.csv");
    std::fs::write(
        &later,
        "\"timestamp\",\"severity\",\"ip\",\"protocol\",\"port\",\"hostname\",\"tag\",\"asn\",\"geo\",\"region\",\"city\",\"naics\",\"hostname_source\",\"sector\",\"dns_version\",\"min_amplification\"\n\
         \"2026-11-28 10:00:00\",\"medium\",\"192.0.2.1\",\"udp\",\"53\",\"\",\"openresolver\",\"\",\"BA\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"\n",
    )
    .unwrap();
    let ingested = json(&run(d, &["ingest", "--feed", "shadowserver", later.to_str().unwrap(), "--json"]));
    let later_report = ingested["reports"][0].as_str().unwrap();
    let shown = json(&run(d, &["incident", "show", &id, "--json"]));
    let address =
        shown["observables"].as_array().unwrap().iter().find(|o| o["value"] == "192.0.2.1").unwrap().clone();
    assert_eq!(address["matched_events"], 2, "{shown}");
    let rematched = json(&run(d, &["incident", "rematch", "--report", later_report, "--json"]));
    assert_eq!((rematched["events_examined"].as_u64(), rematched["linked"].as_u64()), (Some(1), Some(0)));
    // Since a time: both reports' events and the demo's (of yesterday), nothing new either.
    let rematched = json(&run(d, &["incident", "rematch", "--since", "2026-01-01T00:00:00Z", "--json"]));
    assert!(rematched["events_examined"].as_u64().unwrap() >= 2, "{rematched}");
    assert_eq!(rematched["linked"], 0, "{rematched}");
    assert!(!run(d, &["incident", "rematch"]).status.success(), "--report or --since");

    // E-mail intake: a directory with a good and a malformed message.
    let mails = d.join("mails");
    std::fs::create_dir_all(&mails).unwrap();
    std::fs::write(
        mails.join("1-good.eml"),
        "From: soc@example.org\nTo: cert@example.ba\nSubject: Suspicious login\nContent-Type: text/plain\n\nSee the attached log.\n",
    )
    .unwrap();
    std::fs::write(mails.join("2-bad.eml"), "no headers here, just text\n").unwrap();
    std::fs::write(mails.join("notes.txt"), "not a message file").unwrap();
    let intake = json(&run(d, &["incident", "intake", mails.to_str().unwrap(), "--json"]));
    assert_eq!(
        (intake["files"].as_u64(), intake["accepted"].as_u64(), intake["failed"].as_u64()),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(intake["failures"][0]["kept"], true);

    // Evidence: the raw messages are stored; verify finds them intact, then an altered and a
    // missing file.
    let verified = json(&run(d, &["evidence", "verify", "--json"]));
    assert_eq!((verified["checked"].as_u64(), verified["ok"].as_u64()), (Some(2), Some(2)), "{verified}");
    let evidence = d.join("evidence");
    let mut files: Vec<PathBuf> = Vec::new();
    let mut stack = vec![evidence.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    assert_eq!(files.len(), 2);
    std::fs::write(&files[0], "tampered").unwrap();
    std::fs::remove_file(&files[1]).unwrap();
    let broken = run(d, &["evidence", "verify", "--json"]);
    assert_eq!(broken.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&broken.stdout).unwrap();
    assert_eq!(
        (report["mismatched"].as_array().unwrap().len(), report["missing"].as_array().unwrap().len()),
        (1, 1)
    );

    // Competent authorities are users with sectors.
    ok(&run(
        d,
        &["user", "add", "regulator", "--org", "CERT-BIH", "--role", "authority", "--sector", "energy"],
    ));
    let wrong =
        run(d, &["user", "add", "other", "--org", "CERT-BIH", "--role", "analyst", "--sector", "energy"]);
    assert!(!wrong.status.success());
}

#[test]
fn intel_match_evaluates_a_pattern_against_observed_data() {
    let dir = DataDir::new("intel");
    let observations = dir.0.join("observations.json");
    std::fs::write(
        &observations,
        r#"[{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [
          {"type": "observed-data", "id": "observed-data--0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
           "first_observed": "2024-01-01T00:00:00Z", "last_observed": "2024-01-01T00:00:00Z", "number_observed": 1,
           "object_refs": ["ipv4-addr--1c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"]},
          {"type": "ipv4-addr", "id": "ipv4-addr--1c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", "value": "198.51.100.7"}]}]"#,
    )
    .unwrap();
    let pattern = dir.0.join("pattern.txt");
    let intel = |text: &str, extra: &[&str]| {
        std::fs::write(&pattern, text).unwrap();
        let mut args = vec!["intel", "match", "--pattern-file", pattern.to_str().unwrap()];
        args.extend(["--observations", observations.to_str().unwrap()]);
        args.extend(extra);
        run(&dir.0, &args)
    };
    let hit = intel("[ipv4-addr:value ISSUBSET '198.51.100.0/24']\n", &[]);
    assert_eq!((hit.status.code(), String::from_utf8_lossy(&hit.stdout).trim()), (Some(0), "match"));
    let miss = intel("[ipv4-addr:value = '10.0.0.1']", &[]);
    assert_eq!((miss.status.code(), String::from_utf8_lossy(&miss.stdout).trim()), (Some(1), "nomatch"));
    let detail = json(&intel("[ipv4-addr:value = '198.51.100.7']", &["--json"]));
    assert_eq!(detail["observed_data"][0], "observed-data--0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f");
    let bad = intel("[ipv4-addr:value = ]", &[]);
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("does not parse") && stderr.contains("column 19"), "{stderr}");
    let unusable = intel("[ipv4-addr:value MATCHES '(?=x)']", &[]);
    assert_eq!(unusable.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unusable.stderr).contains("cannot be evaluated"));
}

#[test]
fn notify_preview_run_and_list() {
    let dir = DataDir::new("notify");
    let d = dir.0.as_path();
    ok(&run(d, &["demo", "--no-serve"]));
    let report = d.join("2026-11-27-scan_dns-bih-geo.csv");
    let mut csv = String::from(
        "\"timestamp\",\"severity\",\"ip\",\"protocol\",\"port\",\"hostname\",\"tag\",\"asn\",\"geo\",\"region\",\"city\",\"naics\",\"hostname_source\",\"sector\",\"dns_version\",\"min_amplification\"\n",
    );
    for ip in ["192.0.2.1", "198.51.100.77"] {
        csv.push_str(&format!(
            "\"2026-11-27 10:00:00\",\"medium\",\"{ip}\",\"udp\",\"53\",\"\",\"openresolver\",\"\",\"BA\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"\n"
        ));
    }
    std::fs::write(&report, csv).unwrap();
    let summary = json(&run(d, &["ingest", "--feed", "shadowserver", report.to_str().unwrap(), "--json"]));
    let org = summary["per_organisation"].as_object().unwrap().keys().next().unwrap().clone();

    let keys = concat!(env!("CARGO_MANIFEST_DIR"), "/../neretva-notify/test_data/keys");
    let config = d.join("notify.toml");
    std::fs::write(
        &config,
        format!(
            "[notify]\nfrom = 'CERT <cert@cert.example.ba>'\nsigning_key = '{keys}/cert-secret.asc'\n\
             default_schedule = 'immediate'\n[notify.schedules]\nscanner = 'immediate'\n\
             [notify.smtp]\nhost = '127.0.0.1'\nport = 9\ntls = 'plain'\n"
        ),
    )
    .unwrap();
    let notify = |args: &[&str]| {
        neretva(d)
            .arg("--config")
            .arg(&config)
            .env("NERETVA_SECRET_NOTIFY_KEY", "correct horse battery staple")
            .args(args)
            .output()
            .unwrap()
    };
    // A preview renders without recording anything.
    let preview = json(&notify(&["notify", "preview", "--org", &org, "--json"]));
    assert_eq!(preview["later"].as_array().unwrap().len(), 0, "{preview}");
    assert!(preview["due_events"].as_u64().unwrap() >= 1, "{preview}");
    let first = preview["due"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["subject"].is_string())
        .expect("a rendered preview");
    assert!(first["subject"].as_str().unwrap().starts_with("[TLP:AMBER+STRICT]"), "{first}");
    assert!(first["body"].as_str().unwrap().starts_with("TLP:AMBER+STRICT\n"));
    let attachments = first["attachments"].as_array().unwrap();
    assert_eq!(attachments[0]["name"], "events.csv");
    let listed = json(&notify(&["notify", "list", "--json"]));
    assert_eq!(listed.as_array().unwrap().len(), 0);

    // A run records the digests; nobody listens on port 9, so delivery is retried later.
    let outcome = json(&notify(&["notify", "run", "--json"]));
    assert!(outcome["messages"].as_u64().unwrap() >= 1, "{outcome}");
    assert_eq!(outcome["sent"], 0);
    assert_eq!(
        outcome["retrying"].as_u64(),
        outcome["messages"].as_u64().map(|m| m - outcome["unsendable"].as_u64().unwrap())
    );
    let listed = json(&notify(&["notify", "list", "--org", &org, "--json"]));
    let message = &listed.as_array().unwrap()[0];
    assert_eq!(message["organisation"], org.as_str());
    assert!(["pending", "failed"].contains(&message["status"].as_str().unwrap()), "{message}");
    // The wrong passphrase is refused, naming the variable.
    let wrong = neretva(d)
        .arg("--config")
        .arg(&config)
        .env("NERETVA_SECRET_NOTIFY_KEY", "wrong")
        .args(["notify", "run"])
        .output()
        .unwrap();
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("NERETVA_SECRET_NOTIFY_KEY"));
    assert!(ok(&notify(&["notify", "--help"])).contains("preview"));

    // An advisory is recorded for the organisation's contacts like a digest.
    let body = d.join("advisory.txt");
    std::fs::write(&body, "Patch the VPN appliances now.\n").unwrap();
    let sent = json(&notify(&[
        "notify",
        "advisory",
        "--org",
        &org,
        "--subject",
        "VPN",
        "--body-file",
        body.to_str().unwrap(),
        "--no-deliver",
        "--json",
    ]));
    let messages = sent["messages"].as_array().unwrap();
    assert!(!messages.is_empty(), "{sent}");
    assert!(messages.iter().all(|m| m["kind"] == "advisory"), "{sent}");
    assert!(messages.iter().any(|m| m["subject"] == "[TLP:GREEN] VPN"), "{sent}");
    let bad = notify(&[
        "notify",
        "advisory",
        "--all",
        "--subject",
        "x",
        "--body-file",
        body.to_str().unwrap(),
        "--tlp",
        "pink",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--tlp"));
    assert!(ok(&notify(&["notify", "advisory", "--help"])).contains("--body-file"));
}
