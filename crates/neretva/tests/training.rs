//! Train-the-trainer end to end: a national institution creates a programme whose trainer
//! course is the example course; a trainee completes it, co-delivers two held sessions under a
//! granted lead trainer and becomes qualified; sessions record attendance, feedback is given
//! once and shown only aggregated; statistics count people by profession; and what other
//! organisations may not see answers 404 or is left out.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::Write;
use std::process::Stdio;

use serde_json::{Value, json};
use support::{DEMO, DataDir, json_exited as json_of, neretva, ok};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

const COURSE: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../neretva-learning/test_data/courses/incident-basics");
const PROGRAMMES: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../neretva-learning/test_data/training/programmes");

fn add_user(dir: &std::path::Path, name: &str, org: &str, role: &str) -> String {
    let mut add = neretva(dir)
        .args([
            "user",
            "add",
            name,
            "--org",
            org,
            "--role",
            role,
            "--display-name",
            &format!("Person {name}"),
        ])
        .arg("--password-stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin.take().unwrap().write_all(b"training-test-password\n").unwrap();
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

fn call(port: u16, method: &str, path: &str, token: &str, body: &Value) -> (u16, Value) {
    let bearer = format!("Bearer {token}");
    let headers = [("Content-Type", "application/json"), ("Authorization", bearer.as_str())];
    let text = if body.is_null() { String::new() } else { body.to_string() };
    let (status, _, answer) = support::request(port, method, path, &headers, &text);
    (status, serde_json::from_str(&answer).unwrap_or(Value::String(answer)))
}

fn right(question: &str) -> Value {
    match question {
        "early-warning" => json!("h24"),
        "phishing-is-incident" => json!(true),
        "tlp-levels" => json!(["amber", "clear"]),
        "csirt" => json!(" računarski "),
        other => panic!("unknown question {other}"),
    }
}

fn time_text(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap()
}

#[test]
fn trainers_qualify_sessions_record_attendance_and_nothing_leaks() {
    let dir = DataDir::new("training");
    let d = dir.0.as_path();
    let run = |args: &[&str]| neretva(d).args(args).output().unwrap();
    ok(&run(&["migrate"]));
    ok(&run(&["org", "import", DEMO]));
    let course = json_of(&run(&["learning", "import", COURSE, "--json"]), true);
    let course_id = course["id"].as_str().unwrap().to_owned();

    let institution = add_user(d, "fbih-admin", "CERT-FBIH", "admin");
    let analyst = add_user(d, "analyst", "CERT-BIH", "analyst");
    let lead = add_user(d, "lejla", "CERT-BIH", "constituent");
    let trainee = add_user(d, "tarik", "CERT-RS", "constituent");
    let amra = add_user(d, "amra", "EP-NERETVA", "constituent");
    let ep_admin = add_user(d, "ep-admin", "EP-NERETVA", "admin");
    let drina = add_user(d, "drina", "HE-DRINA", "constituent");
    let drina_admin = add_user(d, "drina-admin", "HE-DRINA", "admin");
    let users = json_of(&run(&["user", "list", "--json"]), true);
    let user =
        |name: &str| users.as_array().unwrap().iter().find(|user| user["username"] == name).unwrap().clone();
    let (_server, port) = support::serve(d);

    // The national institution creates a programme; a constituent may not.
    let programme = json!({
        "code": "ttt-incidents",
        "title": { "en": "Incident handling trainers", "bs": "Treneri za postupanje s incidentima" },
        "curriculum": [
            { "course": "incident-basics", "hours": 4 },
            { "topic": { "en": "Evidence handling" }, "hours": 2.5 }
        ],
        "professions": ["police", "prosecution"],
        "levels": ["state", "entity"],
        "trainer_course": "incident-basics",
        "co_deliveries_required": 2
    });
    let (status, created) = call(port, "POST", "/api/v1/learning/programmes", &institution, &programme);
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["owner_org_id"], user("fbih-admin")["org_id"]);
    assert_eq!(created["total_hours"], 6.5);
    let programme_id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(call(port, "POST", "/api/v1/learning/programmes", &amra, &programme).0, 403);
    let (status, again) = call(port, "POST", "/api/v1/learning/programmes", &analyst, &programme);
    assert_eq!((status, again["field"].as_str()), (409, Some("code")), "{again}");
    let mut invalid = programme.clone();
    invalid["code"] = json!("Bad Code");
    invalid["curriculum"][1]["hours"] = json!(0);
    let (status, refused) = call(port, "POST", "/api/v1/learning/programmes", &institution, &invalid);
    assert_eq!(status, 422, "{refused}");
    let fields: Vec<&str> =
        refused["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["code", "curriculum[1].hours"]);

    // Staff grant the first trainer; a constituent may not grant.
    let grant = json!({ "programme_id": programme_id, "user_id": user("lejla")["id"], "reason": "Founding trainer", "since": "2020-01-01" });
    assert_eq!(call(port, "POST", "/api/v1/learning/trainers/grants", &institution, &grant).0, 403);
    let (status, granted) = call(port, "POST", "/api/v1/learning/trainers/grants", &analyst, &grant);
    assert_eq!(status, 201, "{granted}");

    // The trainee completes the trainer course.
    let (_, enrolment) =
        call(port, "POST", "/api/v1/learning/enrolments", &trainee, &json!({ "course_id": course_id }));
    let enrolment_id = enrolment["id"].as_str().unwrap().to_owned();
    for key in ["intro/what-is-an-incident", "reporting/deadlines"] {
        let path = format!("/api/v1/learning/enrolments/{enrolment_id}/lessons");
        assert_eq!(call(port, "POST", &path, &trainee, &json!({ "lesson": key })).0, 200);
    }
    let (_, attempt) = call(
        port,
        "POST",
        &format!("/api/v1/learning/enrolments/{enrolment_id}/attempts?lang=bs"),
        &trainee,
        &Value::Null,
    );
    let mut answers = serde_json::Map::new();
    for question in attempt["questions"].as_array().unwrap() {
        let id = question["id"].as_str().unwrap();
        answers.insert(id.to_owned(), right(id));
    }
    let submit = format!("/api/v1/learning/attempts/{}/submit?lang=bs", attempt["id"].as_str().unwrap());
    let (status, passed) = call(port, "POST", &submit, &trainee, &json!({ "answers": answers }));
    assert_eq!((status, passed["outcome"]["passed"].as_bool()), (200, Some(true)), "{passed}");
    let (_, status_now) =
        call(port, "GET", "/api/v1/learning/trainers?programme=ttt-incidents", &trainee, &Value::Null);
    assert_eq!(status_now[0]["qualified"], false);
    assert!(
        status_now[0]["reasons"].to_string().contains("needs 2 more co-delivered sessions"),
        "{status_now}"
    );

    // Two sessions under way (started an hour ago): an open one, and one closed to EP-NERETVA.
    let now = OffsetDateTime::now_utc();
    let ep = user("amra")["org_id"].clone();
    let session = |title: &str, audience: Value, starts: OffsetDateTime| {
        json!({
            "programme_id": programme_id, "item": 1, "title": title,
            "mode": { "type": "in_person", "location": "Sarajevo" },
            "starts_at": time_text(starts), "ends_at": time_text(starts + Duration::hours(3)),
            "language": "bs", "lead_trainer": user("lejla")["id"], "co_trainers": [user("tarik")["id"]],
            "capacity": 10, "audience": audience
        })
    };
    let started = now - Duration::hours(1);
    let (status, open) =
        call(port, "POST", "/api/v1/learning/sessions", &institution, &session("Open", json!([]), started));
    assert_eq!(status, 201, "{open}");
    let open_id = open["id"].as_str().unwrap().to_owned();
    let (_, closed) = call(
        port,
        "POST",
        "/api/v1/learning/sessions",
        &institution,
        &session("Closed", json!([ep]), started),
    );
    let closed_id = closed["id"].as_str().unwrap().to_owned();
    let (_, future) = call(
        port,
        "POST",
        "/api/v1/learning/sessions",
        &institution,
        &session("Next month", json!([]), now + Duration::days(30)),
    );
    let future_id = future["id"].as_str().unwrap().to_owned();
    assert_eq!(
        call(port, "POST", "/api/v1/learning/sessions", &amra, &session("X", json!([]), started)).0,
        403
    );

    // Registration: self, and an organisation's admin for a member.
    let register = |session: &str, token: &str, body: Value| {
        call(port, "POST", &format!("/api/v1/learning/sessions/{session}/participants"), token, &body)
    };
    assert_eq!(register(&open_id, &amra, json!({})).0, 201);
    assert_eq!(register(&open_id, &amra, json!({})).0, 409);
    assert_eq!(register(&open_id, &drina, json!({})).0, 201);
    assert_eq!(register(&closed_id, &ep_admin, json!({ "user_id": user("amra")["id"] })).0, 201);
    assert_eq!(register(&future_id, &amra, json!({})).0, 201);
    // Another organisation's member is not revealed to an admin.
    assert_eq!(register(&open_id, &ep_admin, json!({ "user_id": user("drina-admin")["id"] })).0, 404);

    // The closed session does not exist for another organisation's constituent.
    let one = |id: &str| format!("/api/v1/learning/sessions/{id}");
    assert_eq!(call(port, "GET", &one(&closed_id), &drina, &Value::Null).0, 404);
    assert_eq!(register(&closed_id, &drina, json!({})).0, 404);
    let feedback_path = |id: &str| format!("/api/v1/learning/sessions/{id}/feedback");
    let form = json!({ "content": 5, "trainer": 4, "relevance": 5, "organisation": 3, "most_useful": "Lanac dokaza" });
    assert_eq!(call(port, "POST", &feedback_path(&closed_id), &drina, &form).0, 404);
    let (_, listed) = call(port, "GET", "/api/v1/learning/sessions", &drina, &Value::Null);
    let titles: Vec<&str> = listed.as_array().unwrap().iter().map(|s| s["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Open", "Next month"]);
    assert!(listed.as_array().unwrap().iter().all(|s| s.get("participants").is_none()), "{listed}");
    let (_, listed) = call(port, "GET", "/api/v1/learning/sessions", &amra, &Value::Null);
    assert_eq!(listed.as_array().unwrap().len(), 3);

    // A trainer session records attendance: not before it starts, not by a participant, only of
    // registered people.
    let attendance = |id: &str| format!("/api/v1/learning/sessions/{id}/attendance");
    let marks = |names: &[(&str, &str)]| json!({ "attendance": names.iter().map(|(name, status)| json!({ "user_id": user(name)["id"], "status": status })).collect::<Vec<_>>() });
    let (status, early) = call(port, "PUT", &attendance(&future_id), &lead, &marks(&[("amra", "present")]));
    assert_eq!((status, early["field"].as_str()), (409, Some("starts_at")), "{early}");
    assert_eq!(call(port, "PUT", &attendance(&open_id), &amra, &marks(&[("amra", "present")])).0, 403);
    let (status, stranger) =
        call(port, "PUT", &attendance(&open_id), &trainee, &marks(&[("ep-admin", "present")]));
    assert_eq!((status, stranger["field"].as_str()), (409, Some("attendance")), "{stranger}");
    let (status, held) = call(
        port,
        "PUT",
        &attendance(&open_id),
        &trainee,
        &marks(&[("amra", "present"), ("drina", "present")]),
    );
    assert_eq!(status, 200, "{held}");
    assert_eq!(held["status"], "held");
    let attended: Vec<&str> =
        held["participants"].as_array().unwrap().iter().map(|p| p["attendance"].as_str().unwrap()).collect();
    assert_eq!(attended, ["present", "present"]);

    // Attendance lists: trainers and staff see everyone, an organisation's admin their members.
    let names = |token: &str| {
        let (status, body) = call(port, "GET", &one(&open_id), token, &Value::Null);
        assert_eq!(status, 200, "{body}");
        body["participants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["username"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&lead), ["amra", "drina"]);
    assert_eq!(names(&analyst), ["amra", "drina"]);
    assert_eq!(names(&ep_admin), ["amra"]);
    assert_eq!(names(&drina_admin), ["drina"]);
    assert_eq!(names(&amra), ["amra"]);

    // Feedback: once, from who was present; aggregated without names for the trainers.
    let (status, receipt) = call(port, "POST", &feedback_path(&open_id), &amra, &form);
    assert_eq!(status, 201, "{receipt}");
    let (status, twice) = call(port, "POST", &feedback_path(&open_id), &amra, &form);
    assert_eq!((status, twice["field"].as_str()), (409, Some("feedback")), "{twice}");
    let second =
        json!({ "content": 3, "trainer": 5, "relevance": 4, "organisation": 5, "to_improve": "Više vježbi" });
    assert_eq!(call(port, "POST", &feedback_path(&open_id), &drina, &second).0, 201);
    assert_eq!(call(port, "POST", &feedback_path(&future_id), &amra, &form).0, 409);
    let (status, summary) = call(port, "GET", &feedback_path(&open_id), &lead, &Value::Null);
    assert_eq!(status, 200, "{summary}");
    assert_eq!((summary["responses"].as_u64(), summary["content"].as_f64()), (Some(2), Some(4.0)));
    assert_eq!(summary["most_useful"], json!(["Lanac dokaza"]));
    let text = summary.to_string();
    for name in ["amra", "drina"] {
        assert!(!text.contains(name) && !text.contains(user(name)["id"].as_str().unwrap()), "{text}");
    }
    assert_eq!(call(port, "GET", &feedback_path(&open_id), &amra, &Value::Null).0, 403);
    let (_, form_bs) = call(port, "GET", "/api/v1/learning/feedback/form?lang=hr", &amra, &Value::Null);
    assert_eq!(form_bs[4]["text"], "Što vam je bilo najkorisnije?");

    // One co-delivery under a qualified lead: one more needed; the second qualifies.
    let trainers = "/api/v1/learning/trainers?programme=ttt-incidents";
    let (_, mine) = call(port, "GET", trainers, &trainee, &Value::Null);
    assert_eq!(
        (mine[0]["qualified"].as_bool(), mine[0]["co_deliveries"].as_u64()),
        (Some(false), Some(1)),
        "{mine}"
    );
    assert!(mine[0]["reasons"].to_string().contains("needs 1 more co-delivered session"), "{mine}");
    assert_eq!(call(port, "PUT", &attendance(&closed_id), &lead, &marks(&[("amra", "partial")])).0, 422);
    let partial =
        json!({ "attendance": [{ "user_id": user("amra")["id"], "status": "partial", "minutes": 90 }] });
    assert_eq!(call(port, "PUT", &attendance(&closed_id), &lead, &partial).0, 200);
    let (_, mine) = call(port, "GET", trainers, &trainee, &Value::Null);
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(
        (mine[0]["qualified"].as_bool(), mine[0]["co_deliveries"].as_u64()),
        (Some(true), Some(2)),
        "{mine}"
    );
    let (_, all) = call(port, "GET", trainers, &analyst, &Value::Null);
    let qualified: Vec<(&str, bool)> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|q| (q["username"].as_str().unwrap(), q["qualified"].as_bool().unwrap()))
        .collect();
    assert_eq!(qualified.len(), 2);
    assert!(qualified.contains(&("lejla", true)) && qualified.contains(&("tarik", true)), "{all}");

    // Profiles: own, an admin's members', not another organisation's.
    let profile = |token: &str, body: Value| call(port, "PUT", "/api/v1/learning/profile", token, &body);
    assert_eq!(profile(&amra, json!({ "profession": "police", "level": "entity" })).0, 200);
    assert_eq!(
        profile(&ep_admin, json!({ "user_id": user("drina")["id"], "profession": "cert", "level": "state" }))
            .0,
        404
    );
    assert_eq!(
        profile(
            &drina_admin,
            json!({ "user_id": user("drina")["id"], "profession": "judiciary", "level": "district" })
        )
        .0,
        200
    );
    let (status, wrong) = profile(&amra, json!({ "profession": "firefighter", "level": "entity" }));
    assert!(matches!(status, 400 | 422), "{status} {wrong}");
    let (_, own) = call(port, "GET", "/api/v1/learning/profile", &drina, &Value::Null);
    assert_eq!(own["profession"], "judiciary");
    assert_eq!(
        call(
            port,
            "GET",
            &format!("/api/v1/learning/profile?user={}", user("drina")["id"].as_str().unwrap()),
            &ep_admin,
            &Value::Null
        )
        .0,
        404
    );

    // Statistics by profession: people present at held sessions and course completions.
    let (status, stats) =
        call(port, "GET", "/api/v1/learning/statistics?by=profession&interval=year", &analyst, &Value::Null);
    assert_eq!(status, 200, "{stats}");
    let year = now.year().to_string();
    let count = |group: &str| {
        stats
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["group"] == group && row["period"] == year.as_str())
            .map(|row| row["people"].clone())
    };
    assert_eq!(
        (count("police"), count("judiciary"), count("unknown")),
        (Some(json!(1)), Some(json!(1)), Some(json!(1))),
        "{stats}"
    );
    assert_eq!(
        call(port, "GET", "/api/v1/learning/statistics?by=profession", &institution, &Value::Null).0,
        403
    );
    assert_eq!(call(port, "GET", "/api/v1/learning/statistics?by=shoe-size", &analyst, &Value::Null).0, 400);
    let (status, _, csv) = support::request(
        port,
        "GET",
        "/api/v1/learning/statistics?by=sector&interval=quarter&format=csv",
        &[("Authorization", format!("Bearer {analyst}").as_str())],
        "",
    );
    assert_eq!(status, 200);
    assert!(csv.starts_with("period,group,people,session_participants,course_completions\n"), "{csv}");
    // EP-NERETVA and HE-DRINA are both energy operators.
    assert!(csv.contains(",energy,2,2,0"), "{csv}");

    // Every endpoint is in the OpenAPI document.
    let (_, openapi) = call(port, "GET", "/api/v1/openapi.json", &amra, &Value::Null);
    for path in [
        "/api/v1/learning/programmes",
        "/api/v1/learning/programmes/{id}",
        "/api/v1/learning/sessions",
        "/api/v1/learning/sessions/{id}",
        "/api/v1/learning/sessions/{id}/participants",
        "/api/v1/learning/sessions/{id}/attendance",
        "/api/v1/learning/sessions/{id}/feedback",
        "/api/v1/learning/trainers",
        "/api/v1/learning/trainers/grants",
        "/api/v1/learning/profile",
        "/api/v1/learning/statistics",
    ] {
        assert!(openapi["paths"].get(path).is_some(), "{path} missing from OpenAPI");
    }

    // The command line: a programme from YAML (a bad file names its lines), a session held
    // with attendance, trainers and statistics.
    let bad = run(&["learning", "programme", "create", "--file", &format!("{PROGRAMMES}/bad.yaml")]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stdout).contains("bad.yaml:5: \"firefighters\" is not one of"),
        "{bad:?}"
    );
    let made = json_of(
        &run(&[
            "learning",
            "programme",
            "create",
            "--file",
            &format!("{PROGRAMMES}/ok.yaml"),
            "--owner",
            "CERT-RS",
            "--json",
        ]),
        true,
    );
    assert_eq!(
        (made["code"].as_str(), made["owner"].as_str()),
        (Some("ttt-first-responders"), Some("CERT-RS"))
    );
    let listed = json_of(&run(&["learning", "programmes", "--json"]), true);
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let starts = time_text(now - Duration::minutes(30));
    let ends = time_text(now + Duration::minutes(30));
    let planned = json_of(
        &run(&[
            "learning",
            "session",
            "create",
            "--programme",
            "ttt-first-responders",
            "--item",
            "1",
            "--title",
            "Evidence, Banja Luka",
            "--starts",
            &starts,
            "--ends",
            &ends,
            "--location",
            "Banja Luka",
            "--lead",
            "tarik",
            "--co-trainers",
            "lejla",
            "--json",
        ]),
        true,
    );
    let cli_session = planned["id"].as_str().unwrap().to_owned();
    ok(&run(&["learning", "session", "register", &cli_session, "--users", "amra,drina"]));
    let refused = run(&["learning", "attendance", &cli_session, "--present", "ep-admin"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not registered to the session: ep-admin"),
        "{refused:?}"
    );
    let recorded = json_of(
        &run(&["learning", "attendance", &cli_session, "--present", "amra", "--absent", "drina", "--json"]),
        true,
    );
    assert_eq!((recorded["status"].as_str(), recorded["attended"].as_u64()), (Some("held"), Some(1)));
    let sessions = json_of(&run(&["learning", "sessions", "--programme", "ttt-incidents", "--json"]), true);
    let statuses: Vec<&str> =
        sessions.as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["held", "held", "planned"]);
    let trainers = json_of(&run(&["learning", "trainers", "--programme", "ttt-incidents", "--json"]), true);
    assert!(
        trainers.as_array().unwrap().iter().any(|t| t["user"] == "tarik" && t["qualified"] == true),
        "{trainers}"
    );
    let stats =
        json_of(&run(&["learning", "stats", "--by", "profession", "--interval", "year", "--json"]), true);
    assert!(
        stats.as_array().unwrap().iter().any(|row| row["group"] == "police" && row["people"] == 1),
        "{stats}"
    );
    let csv = ok(&run(&["learning", "stats", "--by", "organisation", "--interval", "month", "--csv"]));
    assert!(csv.contains(",EP-NERETVA,1,1,0"), "{csv}");
}
