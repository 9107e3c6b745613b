//! The web interface end to end: the real binary on a demo database, signed in over HTTP, and
//! every browser spec of `tests/browser/` (each `*.mjs` file there except `harness.mjs`, in
//! name order) run with node against it in Debian's Chromium.
//!
//! The HTTP checks always run. The browser specs run when `NERETVA_TEST_BROWSER` is set (CI's
//! `.ci/run` sets it after installing `chromium` and running `npm ci` in `tests/browser/`); then
//! any failing spec fails the test. Screenshots go to `target/browser-screenshots/`.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{DataDir, json, neretva, ok, request, serve_with};

/// The feeds the browser specs upload to, and two whose sources fail.
const CONFIG: &str = r#"
[auth]
cookie_secure = false
login_attempts_per_minute = 600

[[pipeline.feeds]]
name = "partner-csv"
parser = "generic-csv"
parser_options = { columns = ["time.source", "source.ip", "classification.type"], skip_header = true }

# Sources that fail: the feeds page shows them; the directory one can be asked to look now.
[[pipeline.feeds]]
name = "missing-file"
parser = "generic-csv"
parser_options = { columns = ["time.source", "source.ip"] }
source = { kind = "file", path = "no-such-report.csv" }

[[pipeline.feeds]]
name = "missing-directory"
parser = "generic-csv"
parser_options = { columns = ["time.source", "source.ip"] }
source = { kind = "directory", path = "no-such-directory", poll_seconds = 3600 }
"#;

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Every spec file, in name order.
fn specs() -> Vec<PathBuf> {
    let mut specs: Vec<PathBuf> = std::fs::read_dir(browser_dir())
        .unwrap()
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            path.extension().is_some_and(|ext| ext == "mjs")
                && path.file_name().is_some_and(|name| name != "harness.mjs")
        })
        .collect();
    specs.sort();
    specs
}

fn set_cookie(head: &str, name: &str) -> String {
    head.lines()
        .filter_map(|line| line.split_once(':'))
        .filter(|(key, _)| key.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, value)| value.trim().split(';').next().unwrap_or_default().to_owned())
        .find(|pair| pair.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {head}"))
}

fn hidden_csrf(body: &str) -> String {
    body.split("name=\"csrf_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned()
}

/// Signs in through the form; returns the session cookie.
fn sign_in(port: u16, username: &str, password: &str) -> String {
    let (status, head, body) = request(port, "GET", "/login", &[], "");
    assert_eq!(status, 200, "{head}");
    assert!(head.to_ascii_lowercase().contains("content-security-policy: default-src 'none'"), "{head}");
    let login_cookie = set_cookie(&head, "neretva_login_csrf");
    let form = format!("username={username}&password={password}&csrf_token={}", hidden_csrf(&body));
    let (status, head, _) = request(
        port,
        "POST",
        "/login",
        &[("Cookie", &login_cookie), ("Content-Type", "application/x-www-form-urlencoded")],
        &form,
    );
    assert_eq!(status, 303, "{head}");
    set_cookie(&head, "neretva_session")
}

/// What the exercises spec plays with: the energy-ransomware scenario, the first-responders
/// programme and a session of it under way (led by the analyst, the constituent registered).
fn training_and_exercise_data(dir: &Path, with_config: &dyn Fn() -> Command) {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../neretva-learning/test_data");
    // The example's folder also holds its expected reports; the package is its scenario.yaml.
    let scenario = dir.join("scenario");
    std::fs::create_dir_all(&scenario).unwrap();
    std::fs::copy(data.join("exercises/energy-ransomware/scenario.yaml"), scenario.join("scenario.yaml"))
        .unwrap();
    ok(&with_config().args(["learning", "scenario", "import"]).arg(&scenario).output().unwrap());
    let programme = data.join("training/programmes/ok.yaml");
    ok(&with_config().args(["learning", "programme", "create", "--file"]).arg(&programme).output().unwrap());
    let now = time::OffsetDateTime::now_utc();
    let text = |at: time::OffsetDateTime| at.format(&time::format_description::well_known::Rfc3339).unwrap();
    let (starts, ends) = (text(now - time::Duration::minutes(30)), text(now + time::Duration::hours(3)));
    let planned = json(
        &with_config()
            .args(["learning", "session", "create", "--programme", "ttt-first-responders", "--item", "1"])
            .args(["--title", "Evidence handling, Mostar", "--starts", &starts, "--ends", &ends])
            .args(["--location", "Mostar", "--lead", "analyst", "--json"])
            .output()
            .unwrap(),
    );
    let session = planned["id"].as_str().unwrap();
    ok(&with_config()
        .args(["learning", "session", "register", session, "--users", "constituent"])
        .output()
        .unwrap());
}

#[test]
fn web_interface_end_to_end() {
    let dir = DataDir::new("browser");
    let config = dir.0.join("neretva.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let with_config = || {
        let mut command = neretva(&dir.0);
        command.arg("--config").arg(&config);
        command
    };
    ok(&with_config().args(["demo", "--no-serve"]).output().unwrap());
    training_and_exercise_data(&dir.0, &with_config);
    let (_server, port) = serve_with(with_config());

    // HTTP level: every main page of the areas here answers a signed-in analyst, and a
    // constituent gets 404 for the CERT's feed pages.
    let analyst = sign_in(port, "analyst", "demo-analyst-password");
    for path in ["/", "/events", "/feeds", "/training", "/training/sessions", "/exercises"] {
        let (status, head, body) = request(port, "GET", path, &[("Cookie", &analyst)], "");
        assert_eq!(status, 200, "{path}: {head}");
        assert!(body.contains("<main id=\"main\""), "{path}");
    }
    let constituent = sign_in(port, "constituent", "demo-constituent-password");
    let (status, _, _) = request(port, "GET", "/feeds", &[("Cookie", &constituent)], "");
    assert_eq!(status, 404);
    let (status, _, _) = request(port, "GET", "/static/neretva.css", &[], "");
    assert_eq!(status, 200);

    let specs = specs();
    assert!(specs.len() >= 4, "{specs:?}");
    if std::env::var_os("NERETVA_TEST_BROWSER").is_none() {
        return;
    }
    let screenshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/browser-screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();
    let mut failures = Vec::new();
    for spec in &specs {
        let output = Command::new("node")
            .arg(spec)
            .current_dir(browser_dir())
            .env("NERETVA_URL", format!("http://127.0.0.1:{port}"))
            .env("NERETVA_SCREENSHOTS", &screenshots)
            .output()
            .unwrap_or_else(|error| panic!("cannot run node for {}: {error}", spec.display()));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        eprintln!("{}:\n{stdout}{stderr}", spec.display());
        if !output.status.success() {
            failures.push(format!("{} ({})", spec.display(), output.status));
        }
    }
    assert!(failures.is_empty(), "browser specs failed: {failures:?}");
}
