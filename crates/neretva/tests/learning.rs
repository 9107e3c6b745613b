//! Capacity building end to end: a two-language course imported from a folder with
//! `neretva learning import`, taken by a learner through the API (fails the quiz, then passes
//! it), a certificate whose code verifies publicly, records others may not see, and malformed
//! packages that list every problem with its file and line and import nothing.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::Write;
use std::process::Stdio;

use serde_json::{Value, json};
use support::{DEMO, DataDir, json_exited as json_of, neretva, ok};

const COURSE: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../neretva-learning/test_data/courses/incident-basics");
const BROKEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../neretva-learning/test_data/bad/broken");

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
            &format!("Learner {name}"),
        ])
        .arg("--password-stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin.take().unwrap().write_all(b"learning-test-password\n").unwrap();
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

/// A JSON request; `token` `None` is an anonymous caller.
fn call(port: u16, method: &str, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let bearer = token.map(|token| format!("Bearer {token}"));
    let mut headers = vec![("Content-Type", "application/json")];
    headers.extend(bearer.as_deref().map(|value| ("Authorization", value)));
    let text = if body.is_null() { String::new() } else { body.to_string() };
    let (status, _, answer) = support::request(port, method, path, &headers, &text);
    (status, serde_json::from_str(&answer).unwrap_or(Value::String(answer)))
}

/// A GET whose answer may be binary: the whole response's bytes.
fn raw_get(port: u16, path: &str, token: &str) -> Vec<u8> {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    response
}

/// The right answer to each question of the example course.
fn right(question: &str) -> Value {
    match question {
        "early-warning" => json!("h24"),
        "phishing-is-incident" => json!(true),
        "tlp-levels" => json!(["amber", "clear"]),
        "csirt" => json!(" računarski "),
        other => panic!("unknown question {other}"),
    }
}

/// A wrong answer of the right kind.
fn wrong(question: &str) -> Value {
    match question {
        "early-warning" => json!("h72"),
        "phishing-is-incident" => json!(false),
        "tlp-levels" => json!(["white"]),
        "csirt" => json!("cyber"),
        other => panic!("unknown question {other}"),
    }
}

fn answers(attempt: &Value, answer: fn(&str) -> Value) -> Value {
    let mut map = serde_json::Map::new();
    for question in attempt["questions"].as_array().unwrap() {
        let id = question["id"].as_str().unwrap();
        map.insert(id.to_owned(), answer(id));
    }
    json!({ "answers": map })
}

#[test]
fn a_learner_fails_then_passes_and_the_certificate_verifies_publicly() {
    let dir = DataDir::new("learning");
    let d = dir.0.as_path();
    let run = |args: &[&str]| neretva(d).args(args).output().unwrap();
    ok(&run(&["migrate"]));
    ok(&run(&["org", "import", DEMO]));

    // A malformed package: every problem with its file and line, nothing imported.
    let rejected = run(&["learning", "import", BROKEN, "--json"]);
    let problems = json_of(&rejected, false)["problems"].as_array().unwrap().clone();
    assert!(problems.len() >= 15, "{problems:#?}");
    let has = |file: &str, line: u64, text: &str| {
        problems.iter().any(|problem| {
            problem["file"] == file
                && problem["line"] == line
                && problem["message"].as_str().unwrap().contains(text)
        })
    };
    assert!(has("course.yaml", 1, "lower-case letters"), "{problems:#?}");
    assert!(has("quiz.yaml", 1, "pass_mark"), "{problems:#?}");
    assert!(has("lessons/en/intro/first.md", 5, "nothere.png"), "{problems:#?}");
    let text = run(&["learning", "import", BROKEN]);
    assert!(!text.status.success());
    assert!(String::from_utf8_lossy(&text.stdout).contains("course.yaml:6: unknown key `descripton`"));
    assert_eq!(json_of(&run(&["learning", "list", "--json"]), true), json!([]));

    // The two-language course from its folder.
    let imported = json_of(&run(&["learning", "import", COURSE, "--json"]), true);
    assert_eq!(imported["languages"], json!(["en", "bs"]));
    let course_id = imported["id"].as_str().unwrap().to_owned();
    let again = run(&["learning", "import", COURSE]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("version 1 is imported already"));

    let learner = add_user(d, "amra", "EP-NERETVA", "constituent");
    let colleague = add_user(d, "edin", "EP-NERETVA", "constituent");
    let org_admin = add_user(d, "ep-admin", "EP-NERETVA", "admin");
    let outsider = add_user(d, "drina", "HE-DRINA", "constituent");
    let analyst = add_user(d, "analyst", "CERT-BIH", "analyst");
    let (_server, port) = support::serve(d);

    // The course in Bosnian, a lesson as safe HTML, its image.
    let (status, course) = call(
        port,
        "GET",
        &format!("/api/v1/learning/courses/{course_id}?lang=bs"),
        Some(&learner),
        &Value::Null,
    );
    assert_eq!(status, 200, "{course}");
    assert_eq!(course["title"], "Osnove postupanja s incidentima");
    assert_eq!(course["quiz"]["questions_per_attempt"], 3);
    let (status, lesson) = call(
        port,
        "GET",
        &format!("/api/v1/learning/courses/{course_id}/lessons/intro/what-is-an-incident?lang=bs"),
        Some(&learner),
        &Value::Null,
    );
    assert_eq!(status, 200);
    let image = format!("/api/v1/learning/courses/{course_id}/images/cycle.png");
    assert!(lesson["html"].as_str().unwrap().contains(&format!("<img src=\"{image}\"")), "{lesson}");
    let response = raw_get(port, &image, &learner);
    let head =
        String::from_utf8_lossy(&response[..response.windows(4).position(|w| w == b"\r\n\r\n").unwrap()]);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.to_ascii_lowercase().contains("content-type: image/png"), "{head}");
    assert!(response.ends_with(&std::fs::read(format!("{COURSE}/images/cycle.png")).unwrap()));

    // Enrol, read both lessons.
    let (status, enrolment) =
        call(port, "POST", "/api/v1/learning/enrolments", Some(&learner), &json!({ "course_id": course_id }));
    assert_eq!(status, 201, "{enrolment}");
    let enrolment_id = enrolment["id"].as_str().unwrap().to_owned();
    let (status, twice) =
        call(port, "POST", "/api/v1/learning/enrolments", Some(&learner), &json!({ "course_id": course_id }));
    assert_eq!((status, twice["field"].as_str()), (409, Some("course_id")));
    for key in ["intro/what-is-an-incident", "reporting/deadlines"] {
        let path = format!("/api/v1/learning/enrolments/{enrolment_id}/lessons");
        let (status, read) = call(port, "POST", &path, Some(&learner), &json!({ "lesson": key }));
        assert_eq!(status, 200, "{read}");
    }
    // Only the learner reads the lessons of an enrolment.
    let path = format!("/api/v1/learning/enrolments/{enrolment_id}/lessons");
    let (status, _) =
        call(port, "POST", &path, Some(&org_admin), &json!({ "lesson": "reporting/deadlines" }));
    assert_eq!(status, 403);

    // First attempt: everything wrong; feedback per answer, in Bosnian.
    let attempts = format!("/api/v1/learning/enrolments/{enrolment_id}/attempts?lang=bs");
    let (status, first) = call(port, "POST", &attempts, Some(&learner), &Value::Null);
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["questions"].as_array().unwrap().len(), 3);
    assert!(first["questions"][0].get("correct").is_none() && !first.to_string().contains("\"correct\""));
    let (status, open) = call(port, "POST", &attempts, Some(&learner), &Value::Null);
    assert_eq!((status, open["field"].as_str()), (409, Some("attempt")), "{open}");
    let submit = format!("/api/v1/learning/attempts/{}/submit?lang=bs", first["id"].as_str().unwrap());
    let (status, failed) = call(port, "POST", &submit, Some(&learner), &answers(&first, wrong));
    assert_eq!(status, 200, "{failed}");
    assert_eq!(
        (failed["outcome"]["score"].as_u64(), failed["outcome"]["passed"].as_bool()),
        (Some(0), Some(false))
    );
    assert_eq!(failed["attempts_left"], 2);
    let feedback = failed["outcome"]["feedback"].as_array().unwrap();
    assert!(feedback.iter().all(|item| item["correct"] == false && item["answered"] == true));
    // Submitting the same attempt again is refused, clearly.
    let (status, twice) = call(port, "POST", &submit, Some(&learner), &answers(&first, right));
    assert_eq!(status, 409, "{twice}");
    assert_eq!(twice["field"], "attempt");
    assert!(twice["message"].as_str().unwrap().contains("submitted already"), "{twice}");

    // Second attempt: all right; passed, the course complete, a certificate.
    let (status, second) = call(port, "POST", &attempts, Some(&learner), &Value::Null);
    assert_eq!(status, 201, "{second}");
    let submit = format!("/api/v1/learning/attempts/{}/submit?lang=bs", second["id"].as_str().unwrap());
    let (status, passed) = call(port, "POST", &submit, Some(&learner), &answers(&second, right));
    assert_eq!(status, 200, "{passed}");
    assert_eq!(
        (passed["outcome"]["score"].as_u64(), passed["outcome"]["passed"].as_bool()),
        (Some(100), Some(true))
    );
    let code = passed["certificate"].as_str().unwrap().to_owned();
    let (_, after) = call(port, "POST", &attempts, Some(&learner), &Value::Null);
    assert_eq!(after["message"], "the quiz was passed already");

    // Anyone verifies the code, without logging in, and learns the name, course and date only.
    let verify = format!("/api/v1/learning/certificates/verify/{}", code.to_lowercase().replace('-', ""));
    let (status, check) = call(port, "GET", &verify, None, &Value::Null);
    assert_eq!(status, 200, "{check}");
    let mut keys: Vec<&str> = check.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "course", "course_titles", "course_version", "holder", "issued_on", "valid"]);
    assert_eq!(
        (check["holder"].as_str(), check["course"].as_str()),
        (Some("Learner amra"), Some("incident-basics"))
    );
    assert_eq!(check["course_titles"]["bs"], "Osnove postupanja s incidentima");
    let (status, _) =
        call(port, "GET", "/api/v1/learning/certificates/verify/00000-00000-00000-00000", None, &Value::Null);
    assert_eq!(status, 404);

    // Records: the learner, the organisation's admin and the CERT's staff see them; a colleague
    // and another organisation do not (404, empty lists).
    let one = format!("/api/v1/learning/enrolments/{enrolment_id}");
    for (token, expected) in
        [(&learner, 200), (&org_admin, 200), (&analyst, 200), (&colleague, 404), (&outsider, 404)]
    {
        let (status, body) = call(port, "GET", &one, Some(token), &Value::Null);
        assert_eq!(status, expected, "{body}");
    }
    let (_, mine) = call(port, "GET", &one, Some(&learner), &Value::Null);
    assert_eq!(mine["progress"]["complete"], true);
    assert_eq!(mine["certificate"].as_str(), Some(code.as_str()));
    let attempt = format!("/api/v1/learning/attempts/{}", second["id"].as_str().unwrap());
    assert_eq!(call(port, "GET", &attempt, Some(&outsider), &Value::Null).0, 404);
    for (token, count) in [(&learner, 1), (&org_admin, 1), (&analyst, 1), (&colleague, 0), (&outsider, 0)] {
        let (_, list) = call(port, "GET", "/api/v1/learning/enrolments", Some(token), &Value::Null);
        assert_eq!(list.as_array().unwrap().len(), count, "{list}");
    }

    // The admin assigns the course to a colleague; not to another organisation's member.
    let users = json_of(&run(&["user", "list", "--json"]), true);
    let user_id = |name: &str| {
        users.as_array().unwrap().iter().find(|user| user["username"] == name).unwrap()["id"].clone()
    };
    let body = json!({ "course_id": course_id, "user_id": user_id("edin") });
    let (status, given) = call(port, "POST", "/api/v1/learning/enrolments", Some(&org_admin), &body);
    assert_eq!(status, 201, "{given}");
    assert!(given["assigned_by"].is_string());
    let body = json!({ "course_id": course_id, "user_id": user_id("drina") });
    assert_eq!(call(port, "POST", "/api/v1/learning/enrolments", Some(&org_admin), &body).0, 404);
    assert_eq!(
        call(
            port,
            "POST",
            "/api/v1/learning/enrolments",
            Some(&colleague),
            &json!({
        "course_id": course_id, "user_id": user_id("amra") })
        )
        .0,
        403
    );

    // xAPI statements of the learner's own records.
    let (status, statements) = call(
        port,
        "GET",
        "/api/v1/learning/records/xapi?base=https://neretva.example",
        Some(&learner),
        &Value::Null,
    );
    assert_eq!(status, 200, "{statements}");
    let verbs: Vec<&str> = statements
        .as_array()
        .unwrap()
        .iter()
        .map(|statement| statement["verb"]["id"].as_str().unwrap().rsplit('/').next().unwrap())
        .collect();
    assert_eq!(verbs, ["registered", "experienced", "experienced", "failed", "passed", "completed"]);

    // An API import of a malformed package: every problem in `details`, nothing imported.
    let package = json!({ "files": [
        { "path": "course.yaml", "text": "code: x\nversion: 1\nlanguages: [en]\ntitle: {en: X}\nmodules:\n  - id: m\n    title: {en: M}\n    lessons: [{id: l, title: {en: L}}]\n" },
        { "path": "quiz.yaml", "text": "pass_mark: 0\n" },
    ]});
    let (status, refused) = call(port, "POST", "/api/v1/learning/courses", Some(&analyst), &package);
    assert_eq!((status, refused["code"].as_str()), (422, Some("import_rejected")), "{refused}");
    let details = refused["details"].as_array().unwrap();
    assert!(
        details.iter().any(|detail| detail["field"] == "course.yaml" && detail["line"] == 8),
        "{refused}"
    );
    assert!(details.iter().any(|detail| detail["field"] == "quiz.yaml" && detail["line"] == 1), "{refused}");
    assert_eq!(call(port, "POST", "/api/v1/learning/courses", Some(&learner), &package).0, 403);
    let (_, courses) = call(port, "GET", "/api/v1/learning/courses", Some(&learner), &Value::Null);
    assert_eq!(courses.as_array().unwrap().len(), 1);

    // Every endpoint is in the OpenAPI document.
    let (_, openapi) = call(port, "GET", "/api/v1/openapi.json", None, &Value::Null);
    for path in [
        "/api/v1/learning/courses",
        "/api/v1/learning/courses/{id}/lessons/{module}/{lesson}",
        "/api/v1/learning/enrolments/{id}/attempts",
        "/api/v1/learning/attempts/{id}/submit",
        "/api/v1/learning/certificates/verify/{code}",
        "/api/v1/learning/records/xapi",
    ] {
        assert!(openapi["paths"].get(path).is_some(), "{path} missing from OpenAPI");
    }

    // The command line: verify, records, xAPI, export back to a folder.
    let verified = json_of(&run(&["learning", "verify", &code, "--json"]), true);
    assert_eq!(verified["holder"], "Learner amra");
    assert!(!run(&["learning", "verify", "not-a-code"]).status.success());
    let records = json_of(&run(&["learning", "records", "--user", "amra", "--json"]), true);
    assert_eq!(records[0]["certificate"].as_str(), Some(code.as_str()));
    assert_eq!(records[0]["attempts"], 2);
    let xapi = json_of(&run(&["learning", "records", "--xapi", "--course", "incident-basics"]), true);
    assert_eq!(xapi.as_array().unwrap().len(), 7, "{xapi:#}");
    let out = d.join("exported");
    ok(&run(&["learning", "export", "incident-basics", "--out", out.to_str().unwrap()]));
    for file in ["course.yaml", "quiz.yaml", "lessons/bs/reporting/deadlines.md", "images/cycle.png"] {
        assert!(out.join(file).is_file(), "{file}");
    }
    assert_eq!(
        std::fs::read(out.join("lessons/bs/reporting/deadlines.md")).unwrap(),
        std::fs::read(format!("{COURSE}/lessons/bs/reporting/deadlines.md")).unwrap()
    );
}
