//! Stories of capacity building: courses, enrolments, quiz attempts and certificates.

use std::collections::BTreeMap;

use neretva_learning::certificate::{Certificate, new_code};
use neretva_learning::course::{Course, Lesson, Module, Pool, Question, QuestionKind, Quiz, Texts};
use neretva_learning::enrolment::{self, Enrolment};
use neretva_learning::quiz::{self, Response};
use neretva_model::contact::Language;
use neretva_store::Store;
use neretva_store::learning::EnrolmentQuery;
use uuid::Uuid;

use crate::{actions, admin, assert_conflict, assert_not_found, at, new_user, org_fields};

fn texts(en: &str, bs: &str) -> Texts {
    Texts::from([(Language::En, en.to_owned()), (Language::Bs, bs.to_owned())])
}

/// A course of one lesson with a one-question quiz.
pub fn small_course(version: u32) -> Course {
    Course {
        code: "phishing".into(),
        version,
        languages: vec![Language::En, Language::Bs],
        title: texts("Phishing", "Phishing"),
        description: Texts::new(),
        modules: vec![Module {
            id: "basics".into(),
            title: texts("Basics", "Osnove"),
            lessons: vec![Lesson {
                id: "spot".into(),
                title: texts("Spotting it", "Prepoznavanje"),
                body: texts("# Spot it\n", "# Prepoznaj\n"),
            }],
        }],
        quiz: Some(Quiz {
            pass_mark: 100,
            max_attempts: 2,
            time_limit_minutes: 10,
            pools: vec![Pool {
                id: "main".into(),
                draw: 1,
                questions: vec![Question {
                    id: "urgent".into(),
                    text: texts("Urgency is a sign of phishing.", "Hitnost je znak phishinga."),
                    explanation: Texts::new(),
                    kind: QuestionKind::TrueFalse { answer: true },
                }],
            }],
        }),
        images: Vec::new(),
    }
}

/// A course is imported once per version; a learner enrols once, reads the lesson, starts an
/// attempt (once per number) and submits it (once), earning a certificate in the same
/// transaction; stale versions are refused with nothing written, and every change is audited.
pub async fn learning_records(store: &dyn Store) {
    let org =
        store.create_org(&admin(), &org_fields("MUP-RS", "Ministry of Interior RS")).await.expect("org");
    let learner = store.create_user(&admin(), &new_user(org.id, "amra")).await.expect("user");

    let course = small_course(1);
    let stored = store.import_course(&admin(), Uuid::from_u128(1), &course).await.expect("import");
    assert_eq!(stored.course, course);
    assert_conflict(store.import_course(&admin(), Uuid::from_u128(2), &course).await, "version");
    assert!(store.get_course(Uuid::from_u128(2)).await.expect("get").is_none());
    let second = store.import_course(&admin(), Uuid::from_u128(3), &small_course(2)).await.expect("v2");
    let listed: Vec<(String, u32)> = store
        .list_courses()
        .await
        .expect("list")
        .into_iter()
        .map(|stored| (stored.course.code, stored.course.version))
        .collect();
    assert_eq!(listed, [("phishing".to_owned(), 1), ("phishing".to_owned(), 2)]);
    assert_eq!(store.get_course(second.id).await.expect("get").map(|stored| stored.course.version), Some(2));

    let mut enrolment = Enrolment {
        id: Uuid::from_u128(10),
        course_id: stored.id,
        user_id: learner.id,
        org_id: org.id,
        assigned_by: None,
        enrolled_at: at(0),
        lessons_done: BTreeMap::new(),
        passed_at: None,
        completed_at: None,
    };
    let enrolled = store.enrol(&admin(), &enrolment).await.expect("enrol");
    assert_eq!((enrolled.version, &enrolled.enrolment), (1, &enrolment));
    let twice = Enrolment { id: Uuid::from_u128(11), ..enrolment.clone() };
    assert_conflict(store.enrol(&admin(), &twice).await, "course_id");
    let nowhere = Enrolment { id: Uuid::from_u128(12), course_id: Uuid::from_u128(99), ..enrolment.clone() };
    assert_not_found(store.enrol(&admin(), &nowhere).await, "course");

    // Reading the lesson; a stale version is refused.
    assert!(!enrolment::mark_lesson(&course, &mut enrolment, "basics/spot", at(60)).expect("lesson"));
    let read = store.update_enrolment(&admin(), &enrolment, 1, None).await.expect("progress");
    assert_eq!(read.version, 2);
    assert_conflict(store.update_enrolment(&admin(), &enrolment, 1, None).await, "version");

    // An attempt: started once, submitted once, with the certificate.
    let quiz = course.quiz.as_ref().expect("quiz");
    let attempt = quiz::start(Some(quiz), &[], Uuid::from_u128(20), enrolment.id, 5, at(70)).expect("start");
    assert_eq!(store.start_attempt(&admin(), &attempt).await.expect("start"), attempt);
    let again = quiz::Attempt { id: Uuid::from_u128(21), ..attempt.clone() };
    assert_conflict(store.start_attempt(&admin(), &again).await, "attempt");
    let answers = BTreeMap::from([("urgent".to_owned(), Response::Bool(true))]);
    let submitted = quiz::submit(quiz, &attempt, answers, Language::Bs, Language::En, at(80))
        .expect("in time")
        .expect("valid");
    assert!(submitted.outcome.as_ref().expect("scored").passed);
    assert!(enrolment::record_pass(&course, &mut enrolment, at(80)));
    let certificate = Certificate {
        code: new_code([3; 13]),
        enrolment_id: enrolment.id,
        user_id: learner.id,
        holder: "Amra Hodžić".into(),
        course_code: course.code.clone(),
        course_version: course.version,
        course_title: course.title.clone(),
        issued_at: at(80),
    };
    let completed =
        store.submit_attempt(&admin(), &submitted, &enrolment, 2, Some(&certificate)).await.expect("submit");
    assert_eq!((completed.version, completed.enrolment.completed_at), (3, Some(at(80))));
    assert_eq!(store.get_attempt(attempt.id).await.expect("get"), Some(submitted.clone()));
    assert_eq!(store.get_certificate(&certificate.code).await.expect("get"), Some(certificate.clone()));
    assert_eq!(store.enrolment_certificate(enrolment.id).await.expect("get"), Some(certificate.clone()));
    assert!(store.get_certificate(&new_code([4; 13])).await.expect("get").is_none());

    // Submitting again: refused, nothing written.
    let mut replay = submitted.clone();
    replay.submitted_at = Some(at(90));
    assert_conflict(store.submit_attempt(&admin(), &replay, &enrolment, 3, None).await, "attempt");
    assert_eq!(store.get_enrolment(enrolment.id).await.expect("get").map(|stored| stored.version), Some(3));
    assert_eq!(store.get_attempt(attempt.id).await.expect("get"), Some(submitted.clone()));
    assert_eq!(store.list_attempts(enrolment.id).await.expect("list"), [submitted]);

    // Listings by learner, organisation and course.
    let other = store.create_user(&admin(), &new_user(org.id, "bojan")).await.expect("user");
    let assigned = Enrolment {
        id: Uuid::from_u128(13),
        course_id: second.id,
        user_id: other.id,
        assigned_by: Some(learner.id),
        ..enrolment.clone()
    };
    store.enrol(&admin(), &assigned).await.expect("assigned");
    let ids = |list: Vec<neretva_store::learning::StoredEnrolment>| {
        list.into_iter().map(|stored| stored.enrolment.id).collect::<Vec<_>>()
    };
    let by_org = EnrolmentQuery { org_id: Some(org.id), ..EnrolmentQuery::default() };
    assert_eq!(ids(store.list_enrolments(&by_org).await.expect("list")), [enrolment.id, assigned.id]);
    let by_user = EnrolmentQuery { user_id: Some(other.id), ..EnrolmentQuery::default() };
    assert_eq!(ids(store.list_enrolments(&by_user).await.expect("list")), [assigned.id]);
    let by_course = EnrolmentQuery { course_id: Some(stored.id), ..EnrolmentQuery::default() };
    assert_eq!(ids(store.list_enrolments(&by_course).await.expect("list")), [enrolment.id]);

    let learning: Vec<String> =
        actions(store).await.into_iter().filter(|action| action.starts_with("learning.")).collect();
    assert_eq!(
        learning,
        [
            "learning.course.import",
            "learning.course.import",
            "learning.enrol",
            "learning.progress",
            "learning.attempt.start",
            "learning.attempt.submit",
            "learning.progress",
            "learning.certificate.issue",
            "learning.enrol",
        ]
    );
}
