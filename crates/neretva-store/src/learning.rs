//! Storage types of capacity building: courses, enrolments, quiz attempts and certificates.
//!
//! A course version is stored whole as JSON (`neretva_learning::course::Course`, images
//! included), once per code and version. An enrolment is stored as JSON with a version: a
//! change reads it, applies a pure change (`neretva_learning::enrolment`) and writes it back
//! under the version read. An attempt is written when started and once more when submitted:
//! the submission is written only while the stored attempt is unsubmitted, in the same
//! transaction as the enrolment and the certificate it may earn, so an attempt cannot be
//! submitted twice even by two requests at once.

use neretva_learning::certificate::Certificate;
use neretva_learning::course::Course;
use neretva_learning::enrolment::Enrolment;
use neretva_model::audit::digest_json;
use neretva_model::{Timestamp, Uuid};

use crate::StoreError;

/// The largest stored course, as JSON (images as base64 included).
pub const MAX_COURSE_BYTES: usize = 48 * 1024 * 1024;

/// A stored course version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCourse {
    pub id: Uuid,
    pub course: Course,
    pub imported_at: Timestamp,
}

/// A stored enrolment with its version (1 when created, one more with each change).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEnrolment {
    pub enrolment: Enrolment,
    pub version: i64,
}

/// Which enrolments to list; every given field must match.
#[derive(Debug, Clone, Default)]
pub struct EnrolmentQuery {
    pub user_id: Option<Uuid>,
    pub org_id: Option<Uuid>,
    pub course_id: Option<Uuid>,
}

/// The audit digest of a stored value.
pub fn digest<T: serde::Serialize>(value: &T) -> String {
    digest_json(value)
}

/// A course as stored, refused when larger than [`MAX_COURSE_BYTES`].
pub fn encode_course(course: &Course) -> Result<String, StoreError> {
    let text = encode(course)?;
    if text.len() > MAX_COURSE_BYTES {
        return Err(StoreError::conflict(
            "course",
            format!("the course is {} bytes as JSON; at most {MAX_COURSE_BYTES} are stored", text.len()),
        ));
    }
    Ok(text)
}

/// Any learning record as stored JSON.
pub fn encode<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|error| StoreError::Backend(format!("json: {error}")))
}

/// A stored JSON record read back.
pub fn decode<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|error| StoreError::Backend(format!("{what}: {error}")))
}

/// The conflict for a course code and version stored already.
pub fn version_exists(course: &Course) -> StoreError {
    StoreError::conflict(
        "version",
        format!(
            "course {:?} version {} is imported already; raise `version` in course.yaml for a new version",
            course.code, course.version
        ),
    )
}

/// The conflict for a second enrolment of a user in a course.
pub fn already_enrolled() -> StoreError {
    StoreError::conflict("course_id", "the learner is enrolled in this course already")
}

/// The conflict for an enrolment changed since it was read.
pub fn enrolment_changed(now: i64, read: i64) -> StoreError {
    StoreError::conflict(
        "version",
        format!("the enrolment changed (version {now} now, {read} read); try again"),
    )
}

/// The conflict for an attempt submitted already.
pub fn attempt_submitted(number: u32) -> StoreError {
    StoreError::conflict(
        "attempt",
        format!("attempt {number} was submitted already; an attempt is submitted once"),
    )
}

/// The conflict for an attempt number taken (two starts at once).
pub fn attempt_taken(number: u32) -> StoreError {
    StoreError::conflict("attempt", format!("attempt {number} was started already"))
}

/// Checks a certificate belongs to the enrolment it is written with.
pub fn check_certificate(certificate: &Certificate, enrolment: &Enrolment) -> Result<(), StoreError> {
    if certificate.enrolment_id == enrolment.id && certificate.user_id == enrolment.user_id {
        Ok(())
    } else {
        Err(StoreError::Backend("a certificate written with another enrolment".to_owned()))
    }
}
