//! Courses, enrolments, quiz attempts and certificates on PostgreSQL.
//!
//! Writes run in audited transactions, which lock the audit head first, so a check and the
//! write after it cannot interleave with another server's change.

use deadpool_postgres::GenericClient;
use neretva_learning::certificate::Certificate;
use neretva_learning::course::Course;
use neretva_learning::enrolment::Enrolment;
use neretva_learning::quiz::Attempt;
use neretva_model::Timestamp;
use neretva_store::StoreError;
use neretva_store::learning::{
    EnrolmentQuery, StoredCourse, StoredEnrolment, already_enrolled, attempt_submitted, attempt_taken,
    check_certificate, decode, digest, encode, encode_course, enrolment_changed, version_exists,
};
use tokio_postgres::Row;
use uuid::Uuid;

use crate::codec::Result;
use crate::ops::audit_object as audit;

fn body<T: serde::de::DeserializeOwned>(row: &Row, what: &str) -> Result<T> {
    let text: String = row.try_get(0)?;
    Ok(decode(what, &text)?)
}

fn course_row(row: &Row) -> Result<StoredCourse> {
    let text: String = row.try_get(1)?;
    Ok(StoredCourse { id: row.try_get(0)?, course: decode("course", &text)?, imported_at: row.try_get(2)? })
}

fn enrolment_row(row: &Row) -> Result<StoredEnrolment> {
    Ok(StoredEnrolment { enrolment: body(row, "enrolment")?, version: row.try_get(1)? })
}

pub(crate) async fn import_course<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    id: Uuid,
    course: &Course,
) -> Result<StoredCourse> {
    let text = encode_course(course)?;
    let version = i64::from(course.version);
    let statement =
        client.prepare_cached("SELECT 1 FROM learning_courses WHERE code = $1 AND version = $2").await?;
    if client.query_opt(&statement, &[&course.code, &version]).await?.is_some() {
        return Err(version_exists(course).into());
    }
    let statement = client
        .prepare_cached(
            "INSERT INTO learning_courses (id, code, version, body, imported_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .await?;
    client.execute(&statement, &[&id, &course.code, &version, &text, &at]).await?;
    audit(client, at, actor, "learning.course.import", "course", id.to_string(), digest(course)).await?;
    Ok(StoredCourse { id, course: course.clone(), imported_at: at })
}

pub(crate) async fn get_course<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<StoredCourse>> {
    let statement =
        client.prepare_cached("SELECT id, body, imported_at FROM learning_courses WHERE id = $1").await?;
    client.query_opt(&statement, &[&id]).await?.as_ref().map(course_row).transpose()
}

pub(crate) async fn list_courses<C: GenericClient>(client: &C) -> Result<Vec<StoredCourse>> {
    let statement = client
        .prepare_cached("SELECT id, body, imported_at FROM learning_courses ORDER BY code, version")
        .await?;
    client.query(&statement, &[]).await?.iter().map(course_row).collect()
}

pub(crate) async fn enrol<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    enrolment: &Enrolment,
) -> Result<StoredEnrolment> {
    let statement = client
        .prepare_cached("SELECT 1 FROM learning_enrolments WHERE course_id = $1 AND user_id = $2")
        .await?;
    if client.query_opt(&statement, &[&enrolment.course_id, &enrolment.user_id]).await?.is_some() {
        return Err(already_enrolled().into());
    }
    if get_course(client, enrolment.course_id).await?.is_none() {
        return Err(StoreError::not_found("course", enrolment.course_id).into());
    }
    let statement = client
        .prepare_cached(
            "INSERT INTO learning_enrolments (id, course_id, user_id, org_id, version, body)
             VALUES ($1, $2, $3, $4, 1, $5)",
        )
        .await?;
    let text = encode(enrolment)?;
    client
        .execute(
            &statement,
            &[&enrolment.id, &enrolment.course_id, &enrolment.user_id, &enrolment.org_id, &text],
        )
        .await?;
    audit(client, at, actor, "learning.enrol", "enrolment", enrolment.id.to_string(), digest(enrolment))
        .await?;
    Ok(StoredEnrolment { enrolment: enrolment.clone(), version: 1 })
}

/// Writes an enrolment under the version read, and the certificate it earned.
pub(crate) async fn update_enrolment<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    enrolment: &Enrolment,
    expected_version: i64,
    certificate: Option<&Certificate>,
) -> Result<StoredEnrolment> {
    let Some(old) = get_enrolment(client, enrolment.id).await? else {
        return Err(StoreError::not_found("enrolment", enrolment.id).into());
    };
    if old.version != expected_version {
        return Err(enrolment_changed(old.version, expected_version).into());
    }
    let version = old.version + 1;
    let statement =
        client.prepare_cached("UPDATE learning_enrolments SET version = $2, body = $3 WHERE id = $1").await?;
    client.execute(&statement, &[&enrolment.id, &version, &encode(enrolment)?]).await?;
    audit(client, at, actor, "learning.progress", "enrolment", enrolment.id.to_string(), digest(enrolment))
        .await?;
    if let Some(certificate) = certificate {
        check_certificate(certificate, enrolment)?;
        let statement = client
            .prepare_cached(
                "INSERT INTO learning_certificates (code, enrolment_id, body, issued_at) VALUES ($1, $2, $3, $4)",
            )
            .await?;
        client
            .execute(
                &statement,
                &[&certificate.code, &enrolment.id, &encode(certificate)?, &certificate.issued_at],
            )
            .await?;
        let code = certificate.code.clone();
        audit(client, at, actor, "learning.certificate.issue", "certificate", code, digest(certificate))
            .await?;
    }
    Ok(StoredEnrolment { enrolment: enrolment.clone(), version })
}

pub(crate) async fn get_enrolment<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<StoredEnrolment>> {
    let statement =
        client.prepare_cached("SELECT body, version FROM learning_enrolments WHERE id = $1").await?;
    client.query_opt(&statement, &[&id]).await?.as_ref().map(enrolment_row).transpose()
}

pub(crate) async fn list_enrolments<C: GenericClient>(
    client: &C,
    query: &EnrolmentQuery,
) -> Result<Vec<StoredEnrolment>> {
    let statement = client
        .prepare_cached(
            "SELECT body, version FROM learning_enrolments
             WHERE ($1::uuid IS NULL OR user_id = $1) AND ($2::uuid IS NULL OR org_id = $2)
               AND ($3::uuid IS NULL OR course_id = $3)
             ORDER BY id",
        )
        .await?;
    client
        .query(&statement, &[&query.user_id, &query.org_id, &query.course_id])
        .await?
        .iter()
        .map(enrolment_row)
        .collect()
}

pub(crate) async fn start_attempt<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    attempt: &Attempt,
) -> Result<Attempt> {
    if get_enrolment(client, attempt.enrolment_id).await?.is_none() {
        return Err(StoreError::not_found("enrolment", attempt.enrolment_id).into());
    }
    let number = i64::from(attempt.number);
    let statement = client
        .prepare_cached("SELECT 1 FROM learning_attempts WHERE enrolment_id = $1 AND number = $2")
        .await?;
    if client.query_opt(&statement, &[&attempt.enrolment_id, &number]).await?.is_some() {
        return Err(attempt_taken(attempt.number).into());
    }
    let statement = client
        .prepare_cached(
            "INSERT INTO learning_attempts (id, enrolment_id, number, submitted, body) VALUES ($1, $2, $3, $4, $5)",
        )
        .await?;
    let submitted = attempt.submitted_at.is_some();
    client
        .execute(&statement, &[&attempt.id, &attempt.enrolment_id, &number, &submitted, &encode(attempt)?])
        .await?;
    audit(client, at, actor, "learning.attempt.start", "attempt", attempt.id.to_string(), digest(attempt))
        .await?;
    Ok(attempt.clone())
}

pub(crate) async fn submit_attempt<C: GenericClient>(
    client: &C,
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
    let statement = client
        .prepare_cached(
            "UPDATE learning_attempts SET submitted = true, body = $2 WHERE id = $1 AND NOT submitted",
        )
        .await?;
    if client.execute(&statement, &[&attempt.id, &encode(attempt)?]).await? == 0 {
        return match get_attempt(client, attempt.id).await? {
            None => Err(StoreError::not_found("attempt", attempt.id).into()),
            Some(stored) => Err(attempt_submitted(stored.number).into()),
        };
    }
    audit(client, at, actor, "learning.attempt.submit", "attempt", attempt.id.to_string(), digest(attempt))
        .await?;
    update_enrolment(client, at, actor, enrolment, expected_version, certificate).await
}

pub(crate) async fn get_attempt<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<Attempt>> {
    let statement = client.prepare_cached("SELECT body FROM learning_attempts WHERE id = $1").await?;
    client.query_opt(&statement, &[&id]).await?.as_ref().map(|row| body(row, "attempt")).transpose()
}

pub(crate) async fn list_attempts<C: GenericClient>(client: &C, enrolment_id: Uuid) -> Result<Vec<Attempt>> {
    let statement = client
        .prepare_cached("SELECT body FROM learning_attempts WHERE enrolment_id = $1 ORDER BY number")
        .await?;
    client.query(&statement, &[&enrolment_id]).await?.iter().map(|row| body(row, "attempt")).collect()
}

pub(crate) async fn get_certificate<C: GenericClient>(client: &C, code: &str) -> Result<Option<Certificate>> {
    let statement = client.prepare_cached("SELECT body FROM learning_certificates WHERE code = $1").await?;
    client.query_opt(&statement, &[&code]).await?.as_ref().map(|row| body(row, "certificate")).transpose()
}

pub(crate) async fn enrolment_certificate<C: GenericClient>(
    client: &C,
    enrolment_id: Uuid,
) -> Result<Option<Certificate>> {
    let statement =
        client.prepare_cached("SELECT body FROM learning_certificates WHERE enrolment_id = $1").await?;
    client
        .query_opt(&statement, &[&enrolment_id])
        .await?
        .as_ref()
        .map(|row| body(row, "certificate"))
        .transpose()
}
