//! Tests of tabletop exercises: the example scenario under `test_data/exercises`, problems of
//! bad scenarios with their lines, the schedule through pause, resume, release and skip, and
//! the after-action report against expected files (re-bless with `UPDATE_EXPECT=1`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use expect_test::{expect, expect_file};
use neretva_model::contact::Language;
use neretva_model::{Timestamp, Uuid};
use time::Duration;
use time::macros::datetime;

use crate::exercise::report;
use crate::exercise::run::{
    self, Delivery, Exercise, InjectStatus, ObjectiveAssessment, Participant, Rating, Refusal, State,
};
use crate::exercise::scenario::{self, Scenario, format_offset, parse_offset};
use crate::package::{Limits, Package};

fn test_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/exercises")
}

fn example() -> Scenario {
    let mut package = Package::default();
    let path = test_data().join("energy-ransomware/scenario.yaml");
    package.insert("scenario.yaml", std::fs::read(path).unwrap()).unwrap();
    scenario::parse(&package, &Limits::default()).unwrap()
}

fn problems(yaml: &str) -> String {
    let mut package = Package::default();
    package.insert("scenario.yaml", yaml.as_bytes().to_vec()).unwrap();
    match scenario::parse(&package, &Limits::default()) {
        Ok(_) => "accepted".to_owned(),
        Err(errors) => errors.iter().map(|e| format!("{e}\n")).collect(),
    }
}

const T0: Timestamp = datetime!(2026-11-30 08:00 UTC);

fn user(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn planned() -> Exercise {
    Exercise {
        id: user(100),
        scenario_id: user(200),
        name: "Energy sector exercise 2026".into(),
        org_id: user(300),
        created_by: user(1),
        created_at: T0 - Duration::days(1),
        facilitators: vec![user(2)],
        participants: vec![
            Participant { user_id: user(10), role: "energy_operator".into() },
            Participant { user_id: user(11), role: "cert_duty_officer".into() },
            Participant { user_id: user(12), role: "ministry".into() },
        ],
        scheduled_start: Some(T0),
        state: State::Planned,
        started_at: None,
        paused_at: None,
        paused_millis: 0,
        ended_at: None,
        skipped: BTreeMap::new(),
        assessment: Default::default(),
    }
}

fn minutes(n: i64) -> Timestamp {
    T0 + Duration::minutes(n)
}

#[test]
fn the_example_scenario_parses() {
    let scenario = example();
    assert_eq!((scenario.code.as_str(), scenario.version), ("energy-ransomware", 1));
    assert_eq!(scenario.languages, vec![Language::En, Language::Bs]);
    assert_eq!(scenario.roles.len(), 4);
    assert_eq!(scenario.objectives.len(), 3);
    let order: Vec<(&str, u32)> =
        scenario.schedule().iter().map(|inject| (inject.id.as_str(), inject.offset_seconds)).collect();
    assert_eq!(
        order,
        vec![
            ("ransom-note", 0),
            ("cert-call", 20 * 60),
            ("scada-anomaly", 3600),
            ("press-inquiry", 7200),
            ("notification-due", 3 * 3600)
        ]
    );
    let first = scenario.inject("ransom-note").unwrap();
    assert!(first.expects_response && first.targets("energy_operator") && !first.targets("police"));
    assert_eq!(first.deadline_minutes, Some(15));
    assert!(scenario.inject("press-inquiry").unwrap().targets("police"), "no roles: every role");
    assert!(first.body[&Language::Bs].contains("podataka o kupcima"));
}

#[test]
fn offsets() {
    assert_eq!(parse_offset("+00:15"), Ok(900));
    assert_eq!(parse_offset("+0:00:02"), Ok(2));
    assert_eq!(parse_offset("1:30"), Ok(5400));
    assert_eq!(parse_offset("45"), Ok(2700));
    for bad in ["", "+", "+1:5", "+0:60", "+0:00:7", "1:2:3:4", "-5", "+0:0a", "+200:00"] {
        assert!(parse_offset(bad).is_err(), "{bad}");
    }
    assert_eq!(format_offset(900), "+0:15");
    assert_eq!(format_offset(3602), "+1:00:02");
}

#[test]
fn every_problem_has_its_line() {
    let yaml = "code: Bad Code\nversion: 0\nlanguages: [en, xx]\ntitle: {en: T}\nroles:\n  - id: ops\n    name: {en: Ops}\n  - id: ops\n    name: {en: Again}\n  - id: Ops-Team\n    name: {en: X}\ninjects:\n  - id: one\n    offset: \"+0:75\"\n    title: {en: One}\n    body: {en: B, bs: C}\n    roles: [nobody]\n    expects_response: true\n  - id: two\n    offset: 5\n    title: {en: Two}\n    body: {en: B}\n    deadline: 10\n    colour: red\n";
    expect![[r#"
        scenario.yaml:1: code "Bad Code" must be lower-case letters, digits and '-'
        scenario.yaml:2: `version` must be a whole number from 1 to 1000000
        scenario.yaml:3: unknown language "xx"; expected en, bs, hr, sr-Latn or sr-Cyrl
        scenario.yaml:8: role id "ops" is used twice
        scenario.yaml:10: role id "Ops-Team" must be lower-case letters, digits and '_'
        scenario.yaml:13: an inject that expects a response has a `response_prompt`
        scenario.yaml:14: offset "+0:75" must be +h:mm, +h:mm:ss or a number of minutes
        scenario.yaml:16: language bs is not one of the scenario's languages
        scenario.yaml:17: role "nobody" is not one of the scenario's roles
        scenario.yaml:23: `deadline` belongs to an inject with `expects_response: true`
        scenario.yaml:24: unknown key `colour` (expected one of id, offset, title, body, roles, expects_response, response_prompt, deadline, notes)
    "#]]
    .assert_eq(&problems(yaml));
    expect![[r#"
        scenario.yaml:2: aliases (*name) are not supported
    "#]]
    .assert_eq(&problems("a: &x 1\nb: *x\n"));
    let mut package = Package::default();
    package.insert("scenario.yaml", b"code: x\n".to_vec()).unwrap();
    package.insert("notes.txt", b"x".to_vec()).unwrap();
    let errors = scenario::parse(&package, &Limits::default()).unwrap_err();
    assert!(errors.iter().any(|e| e.file == "notes.txt"), "{errors:?}");
    assert!(errors.iter().any(|e| e.message == "missing `injects`"), "{errors:?}");
}

#[test]
fn injects_fall_due_on_exercise_time_through_pause_and_resume() {
    let scenario = example();
    let due = |run: &Exercise, deliveries: &[Delivery], at| run::due_injects(&scenario, run, deliveries, at);
    let waiting = planned();
    assert!(due(&waiting, &[], minutes(600)).is_empty(), "nothing before the start");

    let running = run::start(&waiting, T0).unwrap();
    assert_eq!(due(&running, &[], T0), vec!["ransom-note"]);
    assert_eq!(due(&running, &[], minutes(19)), vec!["ransom-note"]);
    assert_eq!(due(&running, &[], minutes(20)), vec!["ransom-note", "cert-call"]);
    let mut delivered = run::deliveries_due(&scenario, &running, &[], minutes(20));
    assert_eq!(delivered.len(), 2);
    assert!(due(&running, &delivered, minutes(20)).is_empty(), "a delivery is made once");

    // Paused at +0:30 for 45 minutes: exercise time stands still, then the rest shifts.
    let paused = run::pause(&running, minutes(30)).unwrap();
    assert!(due(&paused, &delivered, minutes(200)).is_empty());
    assert_eq!(paused.elapsed(minutes(200)), Duration::minutes(30));
    let resumed = run::resume(&paused, minutes(75)).unwrap();
    assert_eq!(resumed.paused_millis, 45 * 60 * 1000);
    assert!(due(&resumed, &delivered, minutes(104)).is_empty());
    assert_eq!(due(&resumed, &delivered, minutes(105)), vec!["scada-anomaly"]);
    assert_eq!(resumed.due_at(3600), Some(minutes(105)));

    // Skipped and released injects are never due; a server down for hours delivers in order.
    let skipped = run::skip(&scenario, &resumed, &delivered, "press-inquiry", user(1), minutes(106)).unwrap();
    let released =
        run::release(&scenario, &skipped, &delivered, "notification-due", user(2), minutes(106)).unwrap();
    assert_eq!(released.released_by, Some(user(2)));
    assert_eq!(due(&skipped, &delivered, minutes(600)), vec!["scada-anomaly", "notification-due"]);
    delivered.push(released);
    assert_eq!(due(&skipped, &delivered, minutes(600)), vec!["scada-anomaly"]);
    let next = run::next_inject(&scenario, &skipped, &delivered, minutes(100)).unwrap();
    assert_eq!((next.0.id.as_str(), next.1), ("scada-anomaly", Duration::minutes(5)));

    // Refusals name what is wrong.
    assert_eq!(
        run::skip(&scenario, &skipped, &delivered, "cert-call", user(1), minutes(107)),
        Err(Refusal::AlreadyDelivered("cert-call".into()))
    );
    assert_eq!(
        run::release(&scenario, &skipped, &delivered, "press-inquiry", user(1), minutes(107)),
        Err(Refusal::Skipped("press-inquiry".into()))
    );
    assert_eq!(
        run::release(&scenario, &skipped, &delivered, "nope", user(1), minutes(107)),
        Err(Refusal::UnknownInject("nope".into()))
    );
    assert_eq!(
        run::pause(&paused, minutes(80)).unwrap_err().to_string(),
        "the exercise is paused; it cannot be paused"
    );
    assert!(run::start(&running, T0).is_err() && run::resume(&running, T0).is_err());

    // Ending while paused counts the pause; nothing is due after the end.
    let paused_again = run::pause(&skipped, minutes(110)).unwrap();
    let ended = run::end(&paused_again, minutes(120)).unwrap();
    assert_eq!(ended.paused_millis, 55 * 60 * 1000);
    assert_eq!(ended.elapsed(minutes(900)), Duration::minutes(65));
    assert!(due(&ended, &[], minutes(900)).is_empty());
    assert!(run::end(&ended, minutes(121)).is_err());
    assert!(run::release(&scenario, &ended, &delivered, "scada-anomaly", user(1), minutes(121)).is_err());
}

#[test]
fn responses_are_checked_and_late_ones_flagged() {
    let scenario = example();
    let running = run::start(&planned(), T0).unwrap();
    let delivered = run::deliveries_due(&scenario, &running, &[], minutes(21));
    let respond = |who: u128, inject: &str, at| {
        run::respond(
            &scenario,
            &running,
            &delivered,
            inject,
            user(who),
            "Isolate, preserve, call.".into(),
            user(900),
            at,
        )
    };
    let on_time = respond(10, "ransom-note", minutes(36)).unwrap();
    assert_eq!((on_time.role.as_str(), on_time.late), ("energy_operator", false));
    assert!(respond(10, "ransom-note", minutes(37)).unwrap().late, "15 minutes after delivery at +0:21");
    assert_eq!(respond(11, "ransom-note", minutes(22)), Err(Refusal::NotTargeted("ransom-note".into())));
    assert_eq!(respond(99, "ransom-note", minutes(22)), Err(Refusal::NotParticipant));
    assert_eq!(respond(10, "scada-anomaly", minutes(22)), Err(Refusal::NotDelivered("scada-anomaly".into())));
    assert!(run::check_response_text("  ").is_err());
    let ended = run::end(&running, minutes(40)).unwrap();
    let refused = run::respond(
        &scenario,
        &ended,
        &delivered,
        "cert-call",
        user(11),
        "x".into(),
        user(901),
        minutes(41),
    );
    assert_eq!(refused.unwrap_err().field(), "state");
}

/// A whole run: three injects delivered (one released early), one skipped, responses (one
/// late), an assessment with observations.
fn finished() -> (Scenario, Exercise, Vec<Delivery>, Vec<run::Response>, BTreeMap<Uuid, String>) {
    let scenario = example();
    let running = run::start(&planned(), T0).unwrap();
    let mut deliveries = run::deliveries_due(&scenario, &running, &[], minutes(0));
    deliveries.extend(run::deliveries_due(&scenario, &running, &deliveries, minutes(20)));
    deliveries
        .push(run::release(&scenario, &running, &deliveries, "scada-anomaly", user(2), minutes(45)).unwrap());
    let skipped = run::skip(&scenario, &running, &deliveries, "press-inquiry", user(1), minutes(50)).unwrap();
    let answer = |who: u128, inject: &str, text: &str, at, id| {
        run::respond(&scenario, &skipped, &deliveries, inject, user(who), text.into(), user(id), at).unwrap()
    };
    let responses = vec![
        answer(
            10,
            "ransom-note",
            "Isolated 40 hosts, kept EDR logs, called the CERT <duty line>.",
            minutes(9),
            901,
        ),
        answer(11, "cert-call", "Early warning within 24 h; send hashes and the note.", minutes(35), 902),
        answer(
            10,
            "scada-anomaly",
            "Link cut at 08:50 by the grid director.\nMetering by phone.",
            minutes(58),
            903,
        ),
    ];
    let ended = run::end(&skipped, minutes(190)).unwrap();
    let mut objectives = BTreeMap::new();
    objectives.insert(
        "early-warning".to_owned(),
        ObjectiveAssessment { rating: Rating::Met, notes: "Sent at +0:35.".into() },
    );
    objectives.insert(
        "ot-isolation".to_owned(),
        ObjectiveAssessment { rating: Rating::Partially, notes: "Decided, but 13 minutes late.".into() },
    );
    let assessed = run::assess(
        &scenario,
        &ended,
        objectives,
        vec!["The duty phone list was out of date.".into(), "Agree press lines *before* an incident.".into()],
        user(1),
        minutes(200),
    )
    .unwrap();
    let names = [(10, "Amra Operater"), (11, "Dežurni CERT"), (12, "Ministarstvo")]
        .into_iter()
        .map(|(n, name)| (user(n), name.to_owned()))
        .collect();
    (scenario, assessed, deliveries, responses, names)
}

#[test]
fn the_timeline_shows_every_inject() {
    let (scenario, run, deliveries, responses, _) = finished();
    let lines: Vec<String> = run::timeline(&scenario, &run, &deliveries, &responses, minutes(300))
        .iter()
        .map(|entry| {
            let status = match &entry.status {
                InjectStatus::Delivered(d) => format!("delivered {}", (d.delivered_at - T0).whole_minutes()),
                InjectStatus::Skipped(_) => "skipped".into(),
                InjectStatus::Pending { remaining, .. } => format!("pending {}", remaining.whole_minutes()),
            };
            format!("{} {status} {}", entry.inject.id, entry.responses.len())
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            "ransom-note delivered 0 1",
            "cert-call delivered 20 1",
            "scada-anomaly delivered 45 1",
            "press-inquiry skipped 0",
            "notification-due pending 0 0"
        ]
    );
    assert!(responses[1].late, "10 minutes after +0:20 is +0:30; answered at +0:35");
    assert!(!responses[2].late, "20 minutes after +0:45 is +1:05; answered at +0:58");
}

#[test]
fn after_action_reports() {
    let (scenario, run, deliveries, responses, names) = finished();
    for (language, file) in [
        (Language::En, "report.en.md"),
        (Language::Bs, "report.bs.md"),
        (Language::Hr, "report.hr.md"),
        (Language::SrLatn, "report.sr-Latn.md"),
        (Language::SrCyrl, "report.sr-Cyrl.md"),
    ] {
        let report = report::build(&scenario, &run, &deliveries, &responses, &names, language);
        expect_file![test_data().join("energy-ransomware").join(file)]
            .assert_eq(&report::render_markdown(&report));
    }
    let report = report::build(&scenario, &run, &deliveries, &responses, &names, Language::Bs);
    let html = report::render_html(&report);
    expect_file![test_data().join("energy-ransomware/report.bs.html")].assert_eq(&html);
    assert!(html.contains("the CERT &lt;duty line&gt;") && !html.contains("<duty line>"));
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["injects"][2]["released_early"], true);
    assert_eq!(json["late_responses"], 1);
    assert_eq!(json["objectives"][2]["rating"], serde_json::Value::Null);
}
