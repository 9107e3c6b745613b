//! Data-driven tests: packages under `test_data/courses` (valid) and `test_data/bad` (each
//! with every problem listed in `<name>.expected`); re-bless with `UPDATE_EXPECT=1`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use expect_test::expect_file;
use neretva_model::contact::Language;
use time::macros::datetime;
use uuid::Uuid;

use crate::course::{Course, QuestionKind, text_in};
use crate::enrolment::{self, Enrolment};
use crate::package::{self, Limits, Package};
use crate::quiz::{self, Refusal, Response};
use crate::{certificate, export, markdown, xapi};

fn test_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data")
}

/// Reads a folder as the command line does.
fn read_folder(root: &Path) -> Package {
    fn walk(root: &Path, dir: &Path, package: &mut Package) {
        let mut entries: Vec<_> =
            std::fs::read_dir(dir).unwrap().map(|entry| entry.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(root, &path, package);
            } else {
                let relative = path.strip_prefix(root).unwrap().to_str().unwrap().replace('\\', "/");
                package.insert(&relative, std::fs::read(&path).unwrap()).unwrap();
            }
        }
    }
    let mut package = Package::default();
    walk(root, root, &mut package);
    package
}

fn cases(folder: &str) -> Vec<(String, PathBuf)> {
    let mut cases: Vec<_> = std::fs::read_dir(test_data().join(folder))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .map(|path| (path.file_name().unwrap().to_str().unwrap().to_owned(), path))
        .collect();
    cases.sort();
    assert!(!cases.is_empty());
    cases
}

pub(crate) fn example() -> Course {
    let package = read_folder(&test_data().join("courses/incident-basics"));
    package::parse(&package, &Limits::default()).unwrap()
}

/// A stable text form of a course: structure, texts and lesson HTML.
fn render(course: &Course) -> String {
    let mut out = String::new();
    let languages: Vec<&str> = course.languages.iter().map(|language| language.tag()).collect();
    let _ = writeln!(out, "course {} v{} [{}]", course.code, course.version, languages.join(", "));
    for (language, title) in &course.title {
        let _ = writeln!(out, "  title.{language}: {title}");
    }
    for (module, lesson) in course.lessons() {
        let _ = writeln!(out, "lesson {}", lesson.key(module));
        for (language, body) in &lesson.body {
            let _ = writeln!(out, "  {language} {:?}", text_in(&lesson.title, *language, Language::En));
            for line in markdown::render(body, "/img/").lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    if let Some(quiz) = &course.quiz {
        let _ = writeln!(
            out,
            "quiz pass {}% attempts {} limit {} min, {} questions per attempt",
            quiz.pass_mark,
            quiz.max_attempts,
            quiz.time_limit_minutes,
            quiz.drawn()
        );
        for pool in &quiz.pools {
            let _ = writeln!(out, "  pool {} draws {} of {}", pool.id, pool.draw, pool.questions.len());
            for question in &pool.questions {
                let _ = writeln!(out, "    {} {}", question.kind.name(), question.id);
            }
        }
    }
    for image in &course.images {
        let _ = writeln!(out, "image {} {} {} bytes", image.name, image.media_type, image.data.len());
    }
    out
}

#[test]
fn valid_packages() {
    for (name, path) in cases("courses") {
        let course = package::parse(&read_folder(&path), &Limits::default())
            .unwrap_or_else(|errors| panic!("{name}: {errors:#?}"));
        expect_file![test_data().join(format!("courses/{name}.expected"))].assert_eq(&render(&course));
    }
}

#[test]
fn bad_packages_report_every_problem_with_file_and_line() {
    for (name, path) in cases("bad") {
        let errors = package::parse(&read_folder(&path), &Limits::default()).unwrap_err();
        let text: String = errors.iter().map(|error| format!("{error}\n")).collect();
        expect_file![test_data().join(format!("bad/{name}.expected"))].assert_eq(&text);
    }
}

#[test]
fn limits_are_enforced() {
    let package = read_folder(&test_data().join("courses/incident-basics"));
    let limits = Limits { max_lesson_bytes: 100, max_image_bytes: 10, ..Limits::default() };
    let errors = package::parse(&package, &limits).unwrap_err();
    assert!(errors.iter().any(|error| error.file == "images/cycle.png" && error.message.contains("larger")));
    assert!(
        errors
            .iter()
            .filter(|error| error.file.starts_with("lessons/") && error.message.contains("larger"))
            .count()
            >= 3
    );
    let mut package = Package::default();
    for path in ["../x", "/etc/passwd", "a\\b", "a//b", ""] {
        assert!(package.insert(path, Vec::new()).is_err(), "{path}");
    }
    package.insert(".git/config", Vec::new()).unwrap();
    package.insert("lessons/.DS_Store", Vec::new()).unwrap();
    assert!(package.files().is_empty());
}

#[test]
fn export_round_trips() {
    let course = example();
    let exported = export::export(&course).unwrap();
    let again = package::parse(&exported, &Limits::default()).unwrap();
    assert_eq!(again, course);
    assert_eq!(export::export(&again).unwrap(), exported);
    let names: Vec<&str> = exported.files().keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "course.yaml",
            "images/cycle.png",
            "lessons/bs/intro/what-is-an-incident.md",
            "lessons/bs/reporting/deadlines.md",
            "lessons/en/intro/what-is-an-incident.md",
            "lessons/en/reporting/deadlines.md",
            "quiz.yaml",
        ]
    );
}

#[test]
fn zip_packages_unpack_with_or_without_a_top_folder() {
    let mut plain = Vec::new();
    let mut nested = Vec::new();
    let course = export::export(&example()).unwrap();
    for (target, prefix) in [(&mut plain, ""), (&mut nested, "incident-basics/")] {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(target));
        let options =
            zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for (path, data) in course.files() {
            writer.start_file(format!("{prefix}{path}"), options).unwrap();
            std::io::Write::write_all(&mut writer, data).unwrap();
        }
        writer.start_file(format!("{prefix}.git/HEAD"), options).unwrap();
        writer.finish().unwrap();
    }
    for bytes in [&plain, &nested] {
        let package = Package::from_zip(bytes, &Limits::default()).unwrap();
        assert_eq!(package, course);
    }
    let small = Limits { max_total_bytes: 500, ..Limits::default() };
    let errors = Package::from_zip(&plain, &small).unwrap_err();
    assert!(errors[0].message.contains("larger than 500 bytes"), "{errors:?}");
    let errors = Package::from_zip(b"not a zip", &Limits::default()).unwrap_err();
    assert!(errors[0].to_string().starts_with("(zip): not a zip archive"), "{errors:?}");
}

#[test]
fn draws_are_seeded_and_take_the_pools_counts() {
    let course = example();
    let quiz = course.quiz.as_ref().unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..200u64 {
        let drawn = quiz::draw(quiz, seed);
        assert_eq!(drawn, quiz::draw(quiz, seed));
        assert_eq!(drawn.len(), 3);
        assert_eq!(drawn[2], "csirt");
        assert_ne!(drawn[0], drawn[1]);
        seen.insert(drawn[..2].to_vec());
    }
    // Every ordered pair of the three questions of the first pool comes up.
    assert_eq!(seen.len(), 6);
}

fn answers(pairs: &[(&str, Response)]) -> BTreeMap<String, Response> {
    pairs.iter().map(|(id, response)| ((*id).to_owned(), response.clone())).collect()
}

fn right_answer(kind: &QuestionKind) -> Response {
    match kind {
        QuestionKind::Single { options } => {
            Response::Text(options.iter().find(|option| option.correct).unwrap().id.clone())
        }
        QuestionKind::Multiple { options } => Response::Choices(
            options.iter().filter(|option| option.correct).map(|option| option.id.clone()).collect(),
        ),
        QuestionKind::TrueFalse { answer } => Response::Bool(*answer),
        QuestionKind::ShortAnswer { .. } => Response::Text(" computer ".to_owned()),
    }
}

#[test]
fn attempts_score_give_feedback_and_refuse_twice_late_and_too_many() {
    let course = example();
    let quiz = course.quiz.as_ref().unwrap();
    let t0 = datetime!(2026-11-02 09:00 UTC);
    let enrolment = Uuid::from_u128(7);
    let first = quiz::start(Some(quiz), &[], Uuid::from_u128(1), enrolment, 42, t0).unwrap();
    assert_eq!((first.number, first.deadline), (1, datetime!(2026-11-02 09:30 UTC)));
    assert_eq!(
        quiz::start(Some(quiz), std::slice::from_ref(&first), Uuid::from_u128(2), enrolment, 1, t0),
        Err(Refusal::AttemptOpen { number: 1, deadline: "2026-11-02T09:30:00Z".into() })
    );

    // Wrong kinds and foreign questions are errors by field; nothing is scored.
    let bad = answers(&[("csirt", Response::Bool(true)), ("nope", Response::Text("x".into()))]);
    let errors = quiz::submit(quiz, &first, bad, Language::Bs, Language::En, t0).unwrap().unwrap_err();
    let fields: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        fields,
        ["answers.csirt: a short_answer question takes text", "answers.nope: not a question of this attempt"]
    );

    // One right (the short answer in Bosnian, case and spaces aside), one wrong, one unanswered.
    let wrong_first = match &quiz.question(&first.questions[0]).unwrap().kind {
        QuestionKind::Single { .. } => Response::Text("h72".into()),
        QuestionKind::Multiple { .. } => Response::Choices(vec!["clear".into(), "white".into()]),
        QuestionKind::TrueFalse { answer } => Response::Bool(!answer),
        QuestionKind::ShortAnswer { .. } => Response::Text("wrong".into()),
    };
    let given =
        answers(&[(&first.questions[0], wrong_first), ("csirt", Response::Text(" RAČUNARSKI  ".into()))]);
    let failed =
        quiz::submit(quiz, &first, given, Language::Bs, Language::En, t0 + time::Duration::minutes(5))
            .unwrap()
            .unwrap();
    let outcome = failed.outcome.as_ref().unwrap();
    assert_eq!((outcome.correct, outcome.total, outcome.score, outcome.passed), (1, 3, 33, false));
    assert!(!outcome.feedback[0].correct && outcome.feedback[0].answered);
    assert!(!outcome.feedback[1].answered);
    assert!(outcome.feedback[2].correct);
    assert!(
        outcome.feedback.iter().flat_map(|item| &item.messages).all(|message| !message.contains("hours"))
    );
    assert_eq!(
        quiz::submit(quiz, &failed, BTreeMap::new(), Language::En, Language::En, t0),
        Err(Refusal::AlreadySubmitted { number: 1 })
    );

    // The second attempt is submitted late: refused.
    let second =
        quiz::start(Some(quiz), std::slice::from_ref(&failed), Uuid::from_u128(2), enrolment, 9, t0).unwrap();
    assert_eq!(second.number, 2);
    let late = second.deadline + time::Duration::seconds(1);
    assert_eq!(
        quiz::submit(quiz, &second, BTreeMap::new(), Language::En, Language::En, late),
        Err(Refusal::DeadlinePassed { number: 2, deadline: "2026-11-02T09:30:00Z".into() })
    );

    // The third, all right: passed; no fourth.
    let later = t0 + time::Duration::hours(1);
    let previous = [failed.clone(), second.clone()];
    let third = quiz::start(Some(quiz), &previous, Uuid::from_u128(3), enrolment, 10, later).unwrap();
    let all: BTreeMap<String, Response> = third
        .questions
        .iter()
        .map(|id| (id.clone(), right_answer(&quiz.question(id).unwrap().kind)))
        .collect();
    let passed = quiz::submit(quiz, &third, all, Language::Bs, Language::En, later).unwrap().unwrap();
    assert_eq!(passed.outcome.as_ref().map(|outcome| (outcome.score, outcome.passed)), Some((100, true)));
    let previous = [failed, second, passed];
    assert_eq!(
        quiz::start(Some(quiz), &previous, Uuid::from_u128(4), enrolment, 1, later),
        Err(Refusal::AlreadyPassed)
    );
    let mut exhausted = previous.clone();
    exhausted[2].outcome.as_mut().unwrap().passed = false;
    assert_eq!(
        quiz::start(Some(quiz), &exhausted, Uuid::from_u128(4), enrolment, 1, later),
        Err(Refusal::NoAttemptsLeft { max: 3 })
    );
    assert_eq!(quiz::start(None, &[], Uuid::from_u128(4), enrolment, 1, later), Err(Refusal::NoQuiz));
}

#[test]
fn feedback_is_in_the_learners_language() {
    let course = example();
    let quiz = course.quiz.as_ref().unwrap();
    let t0 = datetime!(2026-11-02 09:00 UTC);
    let seed = (0..100).find(|seed| quiz::draw(quiz, *seed).contains(&"early-warning".to_owned())).unwrap();
    let attempt = quiz::start(Some(quiz), &[], Uuid::from_u128(1), Uuid::from_u128(2), seed, t0).unwrap();
    let given = answers(&[("early-warning", Response::Text("h72".into()))]);
    let submitted = quiz::submit(quiz, &attempt, given, Language::Bs, Language::En, t0).unwrap().unwrap();
    let item = submitted
        .outcome
        .unwrap()
        .feedback
        .into_iter()
        .find(|item| item.question == "early-warning")
        .unwrap();
    assert_eq!(
        item.messages,
        [
            "72 sata je rok za obavijest o incidentu.",
            "NIS2 član 23(4)(a) traži rano upozorenje u roku od 24 sata."
        ]
    );
}

fn enrolment_at(course_id: Uuid) -> Enrolment {
    Enrolment {
        id: Uuid::from_u128(0xe),
        course_id,
        user_id: Uuid::from_u128(0xa),
        org_id: Uuid::from_u128(0xb),
        assigned_by: None,
        enrolled_at: datetime!(2026-11-02 08:00 UTC),
        lessons_done: BTreeMap::new(),
        passed_at: None,
        completed_at: None,
    }
}

#[test]
fn completion_needs_every_lesson_and_a_pass() {
    let course = example();
    let mut enrolment = enrolment_at(Uuid::from_u128(0xc));
    let t = datetime!(2026-11-02 08:10 UTC);
    assert!(enrolment::mark_lesson(&course, &mut enrolment, "intro/nope", t).is_err());
    assert!(!enrolment::mark_lesson(&course, &mut enrolment, "intro/what-is-an-incident", t).unwrap());
    assert!(!enrolment::record_pass(&course, &mut enrolment, t));
    let progress = enrolment::progress(&course, &enrolment);
    assert_eq!(
        (progress.lessons_done, progress.lessons_total, progress.quiz_passed, progress.complete),
        (1, 2, true, false)
    );
    assert!(enrolment::mark_lesson(&course, &mut enrolment, "reporting/deadlines", t).unwrap());
    assert_eq!(enrolment.completed_at, Some(t));
    // Marking again changes nothing.
    assert!(
        !enrolment::mark_lesson(&course, &mut enrolment, "reporting/deadlines", t + time::Duration::hours(1))
            .unwrap()
    );
    assert_eq!(enrolment.lessons_done["reporting/deadlines"], t);
}

#[test]
fn xapi_statements() {
    let course = example();
    let quiz = course.quiz.as_ref().unwrap();
    let mut enrolment = enrolment_at(Uuid::from_u128(0xc));
    let t = datetime!(2026-11-02 08:10 UTC);
    enrolment::mark_lesson(&course, &mut enrolment, "intro/what-is-an-incident", t).unwrap();
    enrolment::mark_lesson(&course, &mut enrolment, "reporting/deadlines", t + time::Duration::minutes(5))
        .unwrap();
    let attempt =
        quiz::start(Some(quiz), &[], Uuid::from_u128(1), enrolment.id, 3, t + time::Duration::minutes(6))
            .unwrap();
    let all: BTreeMap<String, Response> = attempt
        .questions
        .iter()
        .map(|id| (id.clone(), right_answer(&quiz.question(id).unwrap().kind)))
        .collect();
    let at = t + time::Duration::minutes(10);
    let passed = quiz::submit(quiz, &attempt, all, Language::En, Language::En, at).unwrap().unwrap();
    enrolment::record_pass(&course, &mut enrolment, at);
    let learner = xapi::Learner { user_id: enrolment.user_id, name: "Amra Hodžić" };
    let statements = xapi::statements("https://neretva.example/", &learner, &course, &enrolment, &[passed]);
    let text = serde_json::to_string_pretty(&statements).unwrap() + "\n";
    expect_file![test_data().join("xapi/incident-basics.json")].assert_eq(&text);
}

#[test]
fn certificate_codes_are_random_shaped() {
    let code = certificate::new_code([7; 13]);
    assert_eq!(certificate::normalise_code(&code), Some(code.clone()));
    assert_eq!(code.len(), 23);
}
