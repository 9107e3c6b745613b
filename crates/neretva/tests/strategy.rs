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
    let croatian = run(&["strategy", "report", "BIH-SCF-2019", "--lang", "hr"]);
    assert!(String::from_utf8_lossy(&croatian.stdout).contains("<h2>Napredak po razinama vlasti</h2>"));
    assert!(!run(&["strategy", "report", "BIH-SCF-2019", "--lang", "de"]).status.success());
    assert!(!run(&["strategy", "show", "UNKNOWN"]).status.success());

    // A document from a file: every problem with its path and nothing stored; then stored.
    let owner = shown["document"]["owner_org"].as_str().unwrap().to_owned();
    let action = |start: &str, due: &str, owner: &str| {
        serde_json::json!({
            "title": "Open the State CERT", "owner_org": owner, "authority_level": "State",
            "start": start, "due": due, "status": "planned", "progress": 0
        })
    };
    let document = |action: serde_json::Value| {
        serde_json::json!({
            "code": "STATE-PLAN-2027", "title": "State action plan", "owner_org": owner, "tlp": "GREEN",
            "objectives": [{ "code": "A", "title": "Capacity", "measures": [
                { "code": "A.1", "title": "A State CERT", "actions": [action] }
            ] }]
        })
    };
    let file = d.join("plan.json");
    std::fs::write(
        &file,
        document(action("2027-06-30", "2027-01-01", "00000000-0000-4000-8000-00000000dead")).to_string(),
    )
    .unwrap();
    let refused = json_of(&run(&["strategy", "import", file.to_str().unwrap(), "--json"]), false);
    assert_eq!(refused["stored"], false);
    let problems = refused["problems"].to_string();
    assert!(problems.contains("objectives[0].measures[0].actions[0].due"), "{problems}");
    assert!(problems.contains("objectives[0].measures[0].actions[0].owner_org"), "{problems}");
    assert!(!run(&["strategy", "show", "STATE-PLAN-2027"]).status.success());
    std::fs::write(&file, document(action("2027-01-01", "2027-06-30", &owner)).to_string()).unwrap();
    let stored = json_of(&run(&["strategy", "import", file.to_str().unwrap(), "--json"]), true);
    assert_eq!(stored["code"], "STATE-PLAN-2027");
    let shown = json_of(&run(&["strategy", "show", "STATE-PLAN-2027", "--json"]), true);
    assert_eq!(
        shown["document"]["objectives"][0]["measures"][0]["actions"][0]["title"],
        "Open the State CERT"
    );
    std::fs::write(&file, "[1, 2").unwrap();
    assert!(!run(&["strategy", "import", file.to_str().unwrap()]).status.success());
}
