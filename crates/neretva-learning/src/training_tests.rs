//! Train-the-trainer rules: qualification, attendance, feedback, programme files and
//! statistics (data-driven: `test_data/training`, re-bless with `UPDATE_EXPECT=1`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use expect_test::{expect, expect_file};
use neretva_model::Timestamp;
use neretva_model::contact::Language;
use time::Duration;
use time::macros::datetime;
use uuid::Uuid;

use crate::training::{
    Completion, Delivery, Feedback, GroupBy, Interval, Mode, Participant, Presence, Programme, Ratings,
    Refusal, Session, SessionStatus, TrainedRow, TrainerGrant, check_feedback, check_programme,
    check_registration, check_session, parse_programme, people_trained, qualifications, record_attendance,
    stats_csv, summarise,
};

fn test_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/training")
}

fn user(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn programme(required: u32) -> Programme {
    let text = std::fs::read_to_string(test_data().join("programmes/ok.yaml")).unwrap();
    let mut spec = parse_programme(&text).unwrap();
    spec.co_deliveries_required = required;
    Programme { id: user(1000), owner_org_id: user(2000), spec, created_at: datetime!(2026-01-01 0:00 UTC) }
}

fn day(n: i64) -> Timestamp {
    datetime!(2026-01-01 9:00 UTC) + Duration::days(n)
}

fn delivery(n: u128, at: Timestamp, lead: u128, co: &[u128]) -> Delivery {
    Delivery {
        session_id: user(500 + n),
        at,
        lead: user(lead),
        co_trainers: co.iter().map(|c| user(*c)).collect(),
    }
}

fn grant(programme: &Programme, who: u128, at: Timestamp) -> TrainerGrant {
    TrainerGrant {
        id: user(900 + who),
        programme_id: programme.id,
        user_id: user(who),
        granted_by: user(99),
        reason: "seed trainer".into(),
        granted_at: at,
    }
}

#[test]
fn qualification_needs_the_course_and_co_deliveries_under_a_qualified_lead() {
    let programme = programme(2);
    // 1 is granted on day 0. 2 co-delivers twice under 1 and completed the course: qualified on
    // the second delivery. 3 co-delivers under 4 (not qualified) twice and once under 1.
    let grants = [grant(&programme, 1, day(0))];
    let completions = [
        Completion { user_id: user(2), at: day(1) },
        Completion { user_id: user(3), at: day(1) },
        Completion { user_id: user(5), at: day(30) },
    ];
    let deliveries = [
        delivery(1, day(2), 1, &[2]),
        delivery(2, day(3), 4, &[3]),
        delivery(3, day(4), 4, &[3]),
        delivery(4, day(5), 1, &[2, 3]),
        // 5 co-delivers twice under 2 (qualified from day 5) before completing the course.
        delivery(5, day(6), 2, &[5]),
        delivery(6, day(7), 2, &[5]),
    ];
    let result = qualifications(&programme, &completions, &deliveries, &grants);
    let render = |n: u128| {
        let q = &result[&user(n)];
        format!(
            "{n}: qualified={} since={:?} granted={} course={} co={}/{} led={} {:?}",
            q.qualified,
            q.since.map(|at| at.date().to_string()),
            q.granted,
            q.trainer_course_completed,
            q.co_deliveries,
            q.co_deliveries_required,
            q.sessions_led,
            q.reasons
        )
    };
    let text: Vec<String> = [1, 2, 3, 4, 5].into_iter().map(render).collect();
    expect![[r#"
        1: qualified=true since=Some("2026-01-01") granted=true course=false co=0/2 led=2 ["qualified by a grant of the operating CERT"]
        2: qualified=true since=Some("2026-01-06") granted=false course=true co=2/2 led=2 ["completed the trainer course incident-basics", "co-delivered 2 held sessions under a qualified lead trainer"]
        3: qualified=false since=None granted=false course=true co=1/2 led=0 ["completed the trainer course incident-basics", "needs 1 more co-delivered session under a qualified lead trainer"]
        4: qualified=false since=None granted=false course=false co=0/2 led=2 ["needs the trainer course incident-basics completed", "needs 2 more co-delivered sessions under a qualified lead trainer"]
        5: qualified=true since=Some("2026-01-31") granted=false course=true co=2/2 led=0 ["completed the trainer course incident-basics", "co-delivered 2 held sessions under a qualified lead trainer"]"#]]
    .assert_eq(&text.join("\n"));
}

#[test]
fn a_lead_qualified_only_later_does_not_count_for_earlier_sessions() {
    let programme = programme(1);
    // 2 leads on day 1 but is qualified only on day 3 (course on day 1, co-delivery under the
    // granted 1 on day 3); 3 co-delivered under 2 on day 1 (not counted) and day 4 (counted).
    let grants = [grant(&programme, 1, day(0))];
    let completions =
        [Completion { user_id: user(2), at: day(1) }, Completion { user_id: user(3), at: day(0) }];
    let early = [delivery(1, day(1), 2, &[3]), delivery(2, day(3), 1, &[2])];
    let result = qualifications(&programme, &completions, &early, &grants);
    assert!(result[&user(2)].qualified);
    assert_eq!(result[&user(2)].since, Some(day(3)));
    assert!(!result[&user(3)].qualified, "{:?}", result[&user(3)]);
    assert_eq!(result[&user(3)].co_deliveries, 0);
    let later = [early[0].clone(), early[1].clone(), delivery(3, day(4), 2, &[3])];
    let result = qualifications(&programme, &completions, &later, &grants);
    assert_eq!(result[&user(3)].since, Some(day(4)));
    // A grant of another programme counts for nothing here.
    let mut other = grant(&programme, 4, day(0));
    other.programme_id = user(1);
    let result = qualifications(&programme, &[], &[], &[other]);
    assert!(result.is_empty());
    // With no co-delivery required, the course alone qualifies.
    let result = qualifications(&self::programme(0), &completions, &[], &[]);
    assert_eq!(result[&user(3)].since, Some(day(0)));
}

fn session(programme: &Programme) -> Session {
    Session {
        id: user(700),
        programme_id: programme.id,
        item: 1,
        title: "Digital evidence, Sarajevo".into(),
        mode: Mode::InPerson { location: "Sarajevo, Trg BiH 1".into() },
        starts_at: day(10),
        ends_at: day(10) + Duration::hours(3),
        language: Language::Bs,
        lead_trainer: user(1),
        co_trainers: vec![user(2)],
        capacity: 2,
        audience: Vec::new(),
        status: SessionStatus::Planned,
    }
}

fn participant(who: u128) -> Participant {
    Participant {
        session_id: user(700),
        user_id: user(who),
        org_id: user(3000),
        registered_by: user(who),
        registered_at: day(1),
        attendance: None,
        recorded_at: None,
        recorded_by: None,
    }
}

#[test]
fn sessions_are_checked_and_attendance_waits_for_the_start() {
    let programme = programme(2);
    let good = session(&programme);
    assert!(check_session(&good, &programme).is_empty());
    let mut bad = good.clone();
    bad.item = 3;
    bad.title = " ".into();
    bad.mode = Mode::Online { url: "ftp://x".into() };
    bad.ends_at = bad.starts_at;
    bad.co_trainers = vec![user(1)];
    bad.capacity = 0;
    let fields: Vec<String> = check_session(&bad, &programme).into_iter().map(|e| e.field).collect();
    assert_eq!(fields, ["item", "title", "mode.url", "ends_at", "co_trainers", "capacity"]);

    let participants = [participant(10), participant(11)];
    let marks =
        BTreeMap::from([(user(10), Presence::Present), (user(11), Presence::Partial { minutes: 90 })]);
    let mut early = good.clone();
    let refused =
        record_attendance(&mut early, &participants, &marks, user(1), day(10) - Duration::minutes(1));
    assert!(matches!(refused, Err(Refusal::NotStarted { .. })));
    assert_eq!(early.status, SessionStatus::Planned);
    let mut held = good.clone();
    let changed = record_attendance(&mut held, &participants, &marks, user(1), day(10)).unwrap();
    assert_eq!(held.status, SessionStatus::Held);
    assert_eq!(changed.len(), 2);
    assert_eq!(changed[1].attendance, Some(Presence::Partial { minutes: 90 }));
    assert_eq!(changed[0].recorded_by, Some(user(1)));
    let stranger = BTreeMap::from([(user(12), Presence::Present)]);
    assert_eq!(
        record_attendance(&mut held, &participants, &stranger, user(1), day(11)),
        Err(Refusal::NotRegistered)
    );
    let too_long = BTreeMap::from([(user(10), Presence::Partial { minutes: 180 })]);
    assert!(matches!(
        record_attendance(&mut held, &participants, &too_long, user(1), day(11)),
        Err(Refusal::TooManyMinutes { .. })
    ));
    let mut cancelled = good.clone();
    cancelled.status = SessionStatus::Cancelled;
    assert_eq!(
        record_attendance(&mut cancelled, &participants, &marks, user(1), day(11)),
        Err(Refusal::Cancelled)
    );
    assert_eq!(check_registration(&cancelled, day(1), true), Err(Refusal::Cancelled));
    assert_eq!(check_registration(&good, day(11), false), Err(Refusal::Ended));
    assert_eq!(check_registration(&good, day(11), true), Ok(()));
}

fn form(who: u128, ratings: [u8; 4], useful: &str, improve: &str) -> Feedback {
    Feedback {
        id: user(800 + who),
        session_id: user(700),
        user_id: user(who),
        ratings: Ratings {
            content: ratings[0],
            trainer: ratings[1],
            relevance: ratings[2],
            organisation: ratings[3],
        },
        most_useful: useful.into(),
        to_improve: improve.into(),
        submitted_at: day(10),
    }
}

#[test]
fn feedback_only_from_attendees_and_aggregated_without_names() {
    let programme = programme(2);
    let mut held = session(&programme);
    held.status = SessionStatus::Held;
    let mut present = participant(10);
    present.attendance = Some(Presence::Present);
    let mut absent = participant(11);
    absent.attendance = Some(Presence::Absent);
    let good = form(10, [5, 4, 4, 3], "The exercise", "");
    assert_eq!(check_feedback(&held, Some(&present), &good, day(10)), Ok(Ok(())));
    assert_eq!(check_feedback(&held, Some(&absent), &good, day(10)), Err(Refusal::NotPresent));
    assert_eq!(check_feedback(&held, None, &good, day(10)), Err(Refusal::NotRegistered));
    assert!(matches!(check_feedback(&held, Some(&present), &good, day(9)), Err(Refusal::NotStarted { .. })));
    let bad = form(10, [0, 6, 3, 3], "x", &"y".repeat(5000));
    let fields: Vec<String> = check_feedback(&held, Some(&present), &bad, day(10))
        .unwrap()
        .unwrap_err()
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(fields, ["ratings.content", "ratings.trainer", "to_improve"]);

    let forms = [
        form(10, [5, 4, 4, 3], "  The exercise ", ""),
        form(11, [4, 4, 5, 2], "Chain of custody", "More time"),
        form(12, [3, 5, 5, 4], "", "A bigger room"),
    ];
    let summary = summarise(&forms);
    let json = serde_json::to_string(&summary).unwrap();
    expect![[r#"{"responses":3,"content":4.0,"trainer":4.33,"relevance":4.67,"organisation":3.0,"overall":4.0,"most_useful":["Chain of custody","The exercise"],"to_improve":["A bigger room","More time"]}"#]]
        .assert_eq(&json);
    assert!(!json.contains(&user(10).to_string()));
    let empty = summarise(&[]);
    assert_eq!((empty.responses, empty.overall), (0, None));
}

#[test]
fn programme_files() {
    let ok = std::fs::read_to_string(test_data().join("programmes/ok.yaml")).unwrap();
    let spec = parse_programme(&ok).unwrap();
    assert!(check_programme(&spec).is_empty());
    assert_eq!(spec.curriculum.len(), 3);
    assert_eq!(spec.curriculum[1].hours, 2.5);
    assert_eq!(spec.title[&Language::Hr], "Izobrazba trenera za prvi odgovor na incidente");
    let bad = std::fs::read_to_string(test_data().join("programmes/bad.yaml")).unwrap();
    let mut out = String::new();
    for error in parse_programme(&bad).unwrap_err() {
        writeln!(out, "{error}").unwrap();
    }
    expect_file![test_data().join("programmes/bad.expected")].assert_eq(&out);
    assert_eq!(parse_programme("code: [\n").unwrap_err()[0].line, 2);
    assert_eq!(parse_programme("- a\n").unwrap_err()[0].message, "the programme must be a map");
}

fn render_stats(by: GroupBy, interval: Interval, from: Option<Timestamp>, to: Option<Timestamp>) -> String {
    let rows: Vec<TrainedRow> =
        serde_json::from_str(&std::fs::read_to_string(test_data().join("stats/rows.json")).unwrap()).unwrap();
    stats_csv(&people_trained(&rows, by, interval, from, to))
}

#[test]
fn statistics_of_people_trained() {
    let year = (Some(datetime!(2026-01-01 0:00 UTC)), Some(datetime!(2027-01-01 0:00 UTC)));
    for (by, interval, range, name) in [
        (GroupBy::Profession, Interval::Quarter, year, "profession-quarter-2026"),
        (GroupBy::Organisation, Interval::Month, year, "organisation-month-2026"),
        (GroupBy::Sector, Interval::Year, (None, None), "sector-year"),
        (GroupBy::Level, Interval::Year, (None, None), "level-year"),
    ] {
        let text = render_stats(by, interval, range.0, range.1);
        expect_file![test_data().join(format!("stats/{name}.expected"))].assert_eq(&text);
    }
}
