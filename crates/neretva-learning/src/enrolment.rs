//! Enrolments: who takes a course, how far they are, and when they completed it.
//!
//! A course is complete when every lesson was read and its quiz (if it has one) was passed;
//! completing it issues a certificate ([`crate::certificate`]).

use std::collections::BTreeMap;

use neretva_model::{FieldError, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::course::Course;

/// A learner's enrolment in one course version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enrolment {
    pub id: Uuid,
    pub course_id: Uuid,
    pub user_id: Uuid,
    /// The learner's organisation when enrolled; its administrators see the enrolment.
    pub org_id: Uuid,
    /// The administrator who assigned the course; `None` when the learner enrolled.
    pub assigned_by: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub enrolled_at: Timestamp,
    /// Lessons read (`module/lesson`), with when they were first marked read.
    #[serde(default)]
    pub lessons_done: BTreeMap<String, Timestamp>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub passed_at: Option<Timestamp>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub completed_at: Option<Timestamp>,
}

/// How far an enrolment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub lessons_done: u32,
    pub lessons_total: u32,
    pub has_quiz: bool,
    pub quiz_passed: bool,
    pub complete: bool,
}

pub fn progress(course: &Course, enrolment: &Enrolment) -> Progress {
    let total = course.lessons().count();
    let done = course
        .lessons()
        .filter(|(module, lesson)| enrolment.lessons_done.contains_key(&lesson.key(module)))
        .count();
    let has_quiz = course.quiz.is_some();
    let quiz_passed = enrolment.passed_at.is_some();
    Progress {
        lessons_done: u32::try_from(done).unwrap_or(u32::MAX),
        lessons_total: u32::try_from(total).unwrap_or(u32::MAX),
        has_quiz,
        quiz_passed,
        complete: done == total && (quiz_passed || !has_quiz),
    }
}

/// Marks a lesson read (again is no change); `Ok(true)` when this completes the course.
pub fn mark_lesson(
    course: &Course,
    enrolment: &mut Enrolment,
    key: &str,
    now: Timestamp,
) -> Result<bool, FieldError> {
    if course.lesson(key).is_none() {
        return Err(FieldError::new("lesson", format!("no lesson {key:?} in the course (module/lesson)")));
    }
    enrolment.lessons_done.entry(key.to_owned()).or_insert(now);
    Ok(complete_if_done(course, enrolment, now))
}

/// Records a passed quiz; `true` when this completes the course.
pub fn record_pass(course: &Course, enrolment: &mut Enrolment, now: Timestamp) -> bool {
    enrolment.passed_at.get_or_insert(now);
    complete_if_done(course, enrolment, now)
}

/// Sets `completed_at` when the enrolment just became complete; `true` then.
fn complete_if_done(course: &Course, enrolment: &mut Enrolment, now: Timestamp) -> bool {
    if enrolment.completed_at.is_none() && progress(course, enrolment).complete {
        enrolment.completed_at = Some(now);
        true
    } else {
        false
    }
}
