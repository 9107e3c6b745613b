//! Courses, enrolments, quiz attempts and certificates on SQLite.

use neretva_learning::certificate::Certificate;
use neretva_learning::course::Course;
use neretva_learning::enrolment::Enrolment;
use neretva_learning::quiz::Attempt;
use neretva_model::Timestamp;
use neretva_store::StoreError;
use neretva_store::learning::{
    EnrolmentQuery, StoredCourse, StoredEnrolment, already_enrolled, attempt_submitted, attempt_taken,
    check_certificate, digest, encode, encode_course, enrolment_changed, version_exists,
};
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use crate::codec::{Result, json_col, micros, time_col, uuid_col};
use crate::ops::audit_object as audit;

fn course_row(row: &Row<'_>) -> rusqlite::Result<StoredCourse> {
    Ok(StoredCourse { id: uuid_col(row, 0)?, course: json_col(row, 1)?, imported_at: time_col(row, 2)? })
}

fn enrolment_row(row: &Row<'_>) -> rusqlite::Result<StoredEnrolment> {
    Ok(StoredEnrolment { enrolment: json_col(row, 0)?, version: row.get(1)? })
}

pub(crate) fn import_course(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    id: Uuid,
    course: &Course,
) -> Result<StoredCourse> {
    let body = encode_course(course)?;
    let exists: Option<i64> = conn
        .prepare_cached("SELECT 1 FROM learning_courses WHERE code = ?1 AND version = ?2")?
        .query_row(params![course.code, course.version], |row| row.get(0))
        .optional()?;
    if exists.is_some() {
        return Err(version_exists(course).into());
    }
    conn.prepare_cached(
        "INSERT INTO learning_courses (id, code, version, body, imported_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![id.to_string(), course.code, course.version, body, micros(at)])?;
    audit(conn, at, actor, "learning.course.import", "course", id.to_string(), digest(course))?;
    Ok(StoredCourse { id, course: course.clone(), imported_at: at })
}

pub(crate) fn get_course(conn: &Connection, id: Uuid) -> Result<Option<StoredCourse>> {
    Ok(conn
        .prepare_cached("SELECT id, body, imported_at FROM learning_courses WHERE id = ?1")?
        .query_row([id.to_string()], course_row)
        .optional()?)
}

pub(crate) fn list_courses(conn: &Connection) -> Result<Vec<StoredCourse>> {
    let mut statement =
        conn.prepare_cached("SELECT id, body, imported_at FROM learning_courses ORDER BY code, version")?;
    let rows = statement.query_map([], course_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn enrol(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    enrolment: &Enrolment,
) -> Result<StoredEnrolment> {
    let exists: Option<i64> = conn
        .prepare_cached("SELECT 1 FROM learning_enrolments WHERE course_id = ?1 AND user_id = ?2")?
        .query_row(params![enrolment.course_id.to_string(), enrolment.user_id.to_string()], |row| row.get(0))
        .optional()?;
    if exists.is_some() {
        return Err(already_enrolled().into());
    }
    if get_course(conn, enrolment.course_id)?.is_none() {
        return Err(StoreError::not_found("course", enrolment.course_id).into());
    }
    conn.prepare_cached(
        "INSERT INTO learning_enrolments (id, course_id, user_id, org_id, version, body)
         VALUES (?1, ?2, ?3, ?4, 1, ?5)",
    )?
    .execute(params![
        enrolment.id.to_string(),
        enrolment.course_id.to_string(),
        enrolment.user_id.to_string(),
        enrolment.org_id.to_string(),
        encode(enrolment)?
    ])?;
    audit(conn, at, actor, "learning.enrol", "enrolment", enrolment.id.to_string(), digest(enrolment))?;
    Ok(StoredEnrolment { enrolment: enrolment.clone(), version: 1 })
}

/// Writes an enrolment under the version read, and the certificate it earned.
pub(crate) fn update_enrolment(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    enrolment: &Enrolment,
    expected_version: i64,
    certificate: Option<&Certificate>,
) -> Result<StoredEnrolment> {
    let Some(old) = get_enrolment(conn, enrolment.id)? else {
        return Err(StoreError::not_found("enrolment", enrolment.id).into());
    };
    if old.version != expected_version {
        return Err(enrolment_changed(old.version, expected_version).into());
    }
    let version = old.version + 1;
    conn.prepare_cached("UPDATE learning_enrolments SET version = ?2, body = ?3 WHERE id = ?1")?
        .execute(params![enrolment.id.to_string(), version, encode(enrolment)?])?;
    audit(conn, at, actor, "learning.progress", "enrolment", enrolment.id.to_string(), digest(enrolment))?;
    if let Some(certificate) = certificate {
        check_certificate(certificate, enrolment)?;
        conn.prepare_cached(
            "INSERT INTO learning_certificates (code, enrolment_id, body, issued_at) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![
            certificate.code,
            enrolment.id.to_string(),
            encode(certificate)?,
            micros(certificate.issued_at)
        ])?;
        audit(
            conn,
            at,
            actor,
            "learning.certificate.issue",
            "certificate",
            certificate.code.clone(),
            digest(certificate),
        )?;
    }
    Ok(StoredEnrolment { enrolment: enrolment.clone(), version })
}

pub(crate) fn get_enrolment(conn: &Connection, id: Uuid) -> Result<Option<StoredEnrolment>> {
    Ok(conn
        .prepare_cached("SELECT body, version FROM learning_enrolments WHERE id = ?1")?
        .query_row([id.to_string()], enrolment_row)
        .optional()?)
}

pub(crate) fn list_enrolments(conn: &Connection, query: &EnrolmentQuery) -> Result<Vec<StoredEnrolment>> {
    let mut statement = conn.prepare_cached(
        "SELECT body, version FROM learning_enrolments
         WHERE (?1 IS NULL OR user_id = ?1) AND (?2 IS NULL OR org_id = ?2) AND (?3 IS NULL OR course_id = ?3)
         ORDER BY id",
    )?;
    let text = |id: Option<Uuid>| id.map(|id| id.to_string());
    let rows = statement
        .query_map(params![text(query.user_id), text(query.org_id), text(query.course_id)], enrolment_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn start_attempt(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    attempt: &Attempt,
) -> Result<Attempt> {
    if get_enrolment(conn, attempt.enrolment_id)?.is_none() {
        return Err(StoreError::not_found("enrolment", attempt.enrolment_id).into());
    }
    let taken: Option<i64> = conn
        .prepare_cached("SELECT 1 FROM learning_attempts WHERE enrolment_id = ?1 AND number = ?2")?
        .query_row(params![attempt.enrolment_id.to_string(), attempt.number], |row| row.get(0))
        .optional()?;
    if taken.is_some() {
        return Err(attempt_taken(attempt.number).into());
    }
    conn.prepare_cached(
        "INSERT INTO learning_attempts (id, enrolment_id, number, submitted, body) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        attempt.id.to_string(),
        attempt.enrolment_id.to_string(),
        attempt.number,
        attempt.submitted_at.is_some(),
        encode(attempt)?
    ])?;
    audit(conn, at, actor, "learning.attempt.start", "attempt", attempt.id.to_string(), digest(attempt))?;
    Ok(attempt.clone())
}

pub(crate) fn submit_attempt(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    attempt: &Attempt,
    enrolment: &Enrolment,
    expected_version: i64,
    certificate: Option<&Certificate>,
) -> Result<StoredEnrolment> {
    if attempt.enrolment_id != enrolment.id || attempt.submitted_at.is_none() {
        return Err(
            StoreError::Backend("an attempt submitted without its submission or enrolment".into()).into()
        );
    }
    let changed = conn
        .prepare_cached(
            "UPDATE learning_attempts SET submitted = 1, body = ?2 WHERE id = ?1 AND submitted = 0",
        )?
        .execute(params![attempt.id.to_string(), encode(attempt)?])?;
    if changed == 0 {
        return match get_attempt(conn, attempt.id)? {
            None => Err(StoreError::not_found("attempt", attempt.id).into()),
            Some(stored) => Err(attempt_submitted(stored.number).into()),
        };
    }
    audit(conn, at, actor, "learning.attempt.submit", "attempt", attempt.id.to_string(), digest(attempt))?;
    update_enrolment(conn, at, actor, enrolment, expected_version, certificate)
}

pub(crate) fn get_attempt(conn: &Connection, id: Uuid) -> Result<Option<Attempt>> {
    Ok(conn
        .prepare_cached("SELECT body FROM learning_attempts WHERE id = ?1")?
        .query_row([id.to_string()], |row| json_col(row, 0))
        .optional()?)
}

pub(crate) fn list_attempts(conn: &Connection, enrolment_id: Uuid) -> Result<Vec<Attempt>> {
    let mut statement =
        conn.prepare_cached("SELECT body FROM learning_attempts WHERE enrolment_id = ?1 ORDER BY number")?;
    let rows = statement.query_map([enrolment_id.to_string()], |row| json_col(row, 0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn get_certificate(conn: &Connection, code: &str) -> Result<Option<Certificate>> {
    Ok(conn
        .prepare_cached("SELECT body FROM learning_certificates WHERE code = ?1")?
        .query_row([code], |row| json_col(row, 0))
        .optional()?)
}

pub(crate) fn enrolment_certificate(conn: &Connection, enrolment_id: Uuid) -> Result<Option<Certificate>> {
    Ok(conn
        .prepare_cached("SELECT body FROM learning_certificates WHERE enrolment_id = ?1")?
        .query_row([enrolment_id.to_string()], |row| json_col(row, 0))
        .optional()?)
}
