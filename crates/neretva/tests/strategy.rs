//! `neretva strategy` as a real process on a fresh SQLite data directory.

#![allow(clippy::unwrap_used)]

mod support;

use support::{DEMO, DataDir, json_exited as json_of, neretva};

#[test]
fn strategy_load_defaults_list_show_and_report() {
    let dir = DataDir::new("strategy-commands");
    let d = dir.0.as_path();
    let run = |args: &[&str]| neretva(d).args(args).output().unwrap();
    assert!(run(&["migrate"]).status.success());
    assert!(run(&["org", "import", DEMO]).status.success());

    let loaded = json_of(&run(&["strategy", "load-defaults", "--json"]), true);
    assert_eq!(loaded["code"], "BIH-SCF-2019");
    assert_eq!(loaded["objectives"], 9);
    let again = run(&["strategy", "load-defaults"]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("code"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let missing = run(&["strategy", "load-defaults", "--owner", "NOPE"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no organisation \"NOPE\""));

    let listed = json_of(&run(&["strategy", "list", "--json"]), true);
    assert_eq!(listed[0]["code"], "BIH-SCF-2019");
    assert_eq!(listed[0]["actions"], 0);
    let shown = run(&["strategy", "show", "BIH-SCF-2019"]);
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(text.contains("  F Enhanced capacity to combat cybercrime"), "{text}");
    let shown = json_of(&run(&["strategy", "show", loaded["id"].as_str().unwrap(), "--json"]), true);
    assert_eq!(shown["document"]["objectives"][5]["tags"][0], "budapest:29");

    let progress =
        json_of(&run(&["strategy", "progress", "BIH-SCF-2019", "--on", "2026-07-01", "--json"]), true);
    assert_eq!(progress["by_objective"].as_array().unwrap().len(), 9);
    assert_eq!(progress["by_level"][0]["key"], "State");
    assert_eq!(
        json_of(&run(&["strategy", "overdue", "BIH-SCF-2019", "--json"]), true),
        serde_json::json!([])
    );
    let bad = run(&["strategy", "overdue", "BIH-SCF-2019", "--on", "1 July"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a date"));

    let out = d.join("report.csv");
    let written = json_of(
        &run(&[
            "strategy",
            "report",
            "BIH-SCF-2019",
            "--format",
            "csv",
            "--out",
            out.to_str().unwrap(),
            "--json",
        ]),
        true,
    );
    assert_eq!(written["bytes"].as_u64().unwrap() as usize, std::fs::metadata(&out).unwrap().len() as usize);
    assert!(std::fs::read_to_string(&out).unwrap().starts_with("objective,measure,action_id,"));
    let html = run(&["strategy", "report", "BIH-SCF-2019"]);
    assert!(String::from_utf8_lossy(&html.stdout).contains("<h2>Progress by level of authority</h2>"));
    assert!(!run(&["strategy", "report", "BIH-SCF-2019", "--format", "pdf"]).status.success());
    assert!(!run(&["strategy", "show", "UNKNOWN"]).status.success());
}
