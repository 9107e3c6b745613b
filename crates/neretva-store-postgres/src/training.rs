//! Train-the-trainer programmes, sessions, participants, feedback, trainer grants and learner
//! profiles on PostgreSQL.
//!
//! Writes run in audited transactions, which lock the audit head first, so a check (capacity,
//! a second form) and the write after it cannot interleave with another server's change.

use deadpool_postgres::GenericClient;
use neretva_learning::training::{
    Feedback, Participant, Profile, Programme, Session, SessionStatus, TrainerGrant,
};
use neretva_model::Timestamp;
use neretva_store::StoreError;
use neretva_store::learning::{decode, digest, encode};
use neretva_store::training::{
    ParticipantQuery, SessionQuery, StoredProgramme, StoredSession, already_registered, changed, code_taken,
    feedback_given, not_registered, session_action, session_cancelled, session_full,
};
use tokio_postgres::Row;
use uuid::Uuid;

use crate::codec::Result;
use crate::ops::audit_object as audit;

fn body<T: serde::de::DeserializeOwned>(row: &Row, what: &str) -> Result<T> {
    let text: String = row.try_get(0)?;
    Ok(decode(what, &text)?)
}

fn programme_row(row: &Row) -> Result<StoredProgramme> {
    Ok(StoredProgramme { programme: body(row, "programme")?, version: row.try_get(1)? })
}

fn session_row(row: &Row) -> Result<StoredSession> {
    Ok(StoredSession { session: body(row, "session")?, version: row.try_get(1)? })
}

async fn code_in_use<C: GenericClient>(client: &C, code: &str, except: Uuid) -> Result<bool> {
    let statement =
        client.prepare_cached("SELECT 1 FROM learning_programmes WHERE code = $1 AND id <> $2").await?;
    Ok(client.query_opt(&statement, &[&code, &except]).await?.is_some())
}

pub(crate) async fn create_programme<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    programme: &Programme,
) -> Result<StoredProgramme> {
    if code_in_use(client, &programme.spec.code, programme.id).await? {
        return Err(code_taken(&programme.spec.code).into());
    }
    let statement = client
        .prepare_cached(
            "INSERT INTO learning_programmes (id, code, owner_org_id, version, body) VALUES ($1, $2, $3, 1, $4)",
        )
        .await?;
    let text = encode(programme)?;
    client
        .execute(&statement, &[&programme.id, &programme.spec.code, &programme.owner_org_id, &text])
        .await?;
    let id = programme.id.to_string();
    audit(client, at, actor, "learning.programme.create", "programme", id, digest(programme)).await?;
    Ok(StoredProgramme { programme: programme.clone(), version: 1 })
}

pub(crate) async fn update_programme<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    programme: &Programme,
    expected_version: i64,
) -> Result<StoredProgramme> {
    let Some(old) = get_programme(client, programme.id).await? else {
        return Err(StoreError::not_found("programme", programme.id).into());
    };
    if old.version != expected_version {
        return Err(changed("programme", old.version, expected_version).into());
    }
    if code_in_use(client, &programme.spec.code, programme.id).await? {
        return Err(code_taken(&programme.spec.code).into());
    }
    let version = old.version + 1;
    let statement = client
        .prepare_cached(
            "UPDATE learning_programmes SET code = $2, owner_org_id = $3, version = $4, body = $5 WHERE id = $1",
        )
        .await?;
    let text = encode(programme)?;
    client
        .execute(&statement, &[&programme.id, &programme.spec.code, &programme.owner_org_id, &version, &text])
        .await?;
    let id = programme.id.to_string();
    audit(client, at, actor, "learning.programme.update", "programme", id, digest(programme)).await?;
    Ok(StoredProgramme { programme: programme.clone(), version })
}

pub(crate) async fn get_programme<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<StoredProgramme>> {
    let statement =
        client.prepare_cached("SELECT body, version FROM learning_programmes WHERE id = $1").await?;
    client.query_opt(&statement, &[&id]).await?.as_ref().map(programme_row).transpose()
}

pub(crate) async fn list_programmes<C: GenericClient>(client: &C) -> Result<Vec<StoredProgramme>> {
    let statement =
        client.prepare_cached("SELECT body, version FROM learning_programmes ORDER BY code").await?;
    client.query(&statement, &[]).await?.iter().map(programme_row).collect()
}

pub(crate) async fn create_session<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    session: &Session,
) -> Result<StoredSession> {
    if get_programme(client, session.programme_id).await?.is_none() {
        return Err(StoreError::not_found("programme", session.programme_id).into());
    }
    let statement = client
        .prepare_cached(
            "INSERT INTO learning_sessions (id, programme_id, starts_at, version, body) VALUES ($1, $2, $3, 1, $4)",
        )
        .await?;
    let text = encode(session)?;
    client.execute(&statement, &[&session.id, &session.programme_id, &session.starts_at, &text]).await?;
    audit(client, at, actor, "learning.session.create", "session", session.id.to_string(), digest(session))
        .await?;
    Ok(StoredSession { session: session.clone(), version: 1 })
}

async fn write_session<C: GenericClient>(
    client: &C,
    session: &Session,
    expected_version: i64,
) -> Result<(Session, i64)> {
    let Some(old) = get_session(client, session.id).await? else {
        return Err(StoreError::not_found("session", session.id).into());
    };
    if old.version != expected_version {
        return Err(changed("session", old.version, expected_version).into());
    }
    let version = old.version + 1;
    let statement = client
        .prepare_cached("UPDATE learning_sessions SET starts_at = $2, version = $3, body = $4 WHERE id = $1")
        .await?;
    client.execute(&statement, &[&session.id, &session.starts_at, &version, &encode(session)?]).await?;
    Ok((old.session, version))
}

pub(crate) async fn update_session<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    session: &Session,
    expected_version: i64,
) -> Result<StoredSession> {
    let (old, version) = write_session(client, session, expected_version).await?;
    let action = session_action(&old, session);
    audit(client, at, actor, action, "session", session.id.to_string(), digest(session)).await?;
    Ok(StoredSession { session: session.clone(), version })
}

pub(crate) async fn get_session<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<StoredSession>> {
    let statement =
        client.prepare_cached("SELECT body, version FROM learning_sessions WHERE id = $1").await?;
    client.query_opt(&statement, &[&id]).await?.as_ref().map(session_row).transpose()
}

pub(crate) async fn list_sessions<C: GenericClient>(
    client: &C,
    query: &SessionQuery,
) -> Result<Vec<StoredSession>> {
    let statement = client
        .prepare_cached(
            "SELECT body, version FROM learning_sessions
             WHERE ($1::uuid IS NULL OR programme_id = $1) AND ($2::timestamptz IS NULL OR starts_at >= $2)
               AND ($3::timestamptz IS NULL OR starts_at < $3)
             ORDER BY starts_at, id",
        )
        .await?;
    client
        .query(&statement, &[&query.programme_id, &query.from, &query.to])
        .await?
        .iter()
        .map(session_row)
        .collect()
}

pub(crate) async fn register_participant<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    participant: &Participant,
) -> Result<Participant> {
    let Some(session) = get_session(client, participant.session_id).await? else {
        return Err(StoreError::not_found("session", participant.session_id).into());
    };
    let session = session.session;
    if session.status == SessionStatus::Cancelled {
        return Err(session_cancelled().into());
    }
    let statement = client
        .prepare_cached("SELECT 1 FROM learning_participants WHERE session_id = $1 AND user_id = $2")
        .await?;
    if client.query_opt(&statement, &[&participant.session_id, &participant.user_id]).await?.is_some() {
        return Err(already_registered().into());
    }
    let statement = client
        .prepare_cached(
            "SELECT count(*)::bigint, (coalesce(max(seq), 0) + 1)::bigint FROM learning_participants WHERE session_id = $1",
        )
        .await?;
    let row = client.query_one(&statement, &[&participant.session_id]).await?;
    let (count, seq): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
    if count >= i64::from(session.capacity) {
        return Err(session_full(session.capacity).into());
    }
    let statement = client
        .prepare_cached(
            "INSERT INTO learning_participants (session_id, user_id, org_id, seq, body) VALUES ($1, $2, $3, $4, $5)",
        )
        .await?;
    let text = encode(participant)?;
    client
        .execute(
            &statement,
            &[&participant.session_id, &participant.user_id, &participant.org_id, &seq, &text],
        )
        .await?;
    let id = format!("{}/{}", participant.session_id, participant.user_id);
    audit(client, at, actor, "learning.session.register", "session_participant", id, digest(participant))
        .await?;
    Ok(participant.clone())
}

pub(crate) async fn list_participants<C: GenericClient>(
    client: &C,
    query: &ParticipantQuery,
) -> Result<Vec<Participant>> {
    let statement = client
        .prepare_cached(
            "SELECT body FROM learning_participants
             WHERE ($1::uuid IS NULL OR session_id = $1) AND ($2::uuid IS NULL OR user_id = $2)
               AND ($3::uuid IS NULL OR org_id = $3)
             ORDER BY session_id, seq",
        )
        .await?;
    client
        .query(&statement, &[&query.session_id, &query.user_id, &query.org_id])
        .await?
        .iter()
        .map(|row| body(row, "participant"))
        .collect()
}

pub(crate) async fn record_attendance<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    session: &Session,
    expected_version: i64,
    participants: &[Participant],
) -> Result<StoredSession> {
    let (_, version) = write_session(client, session, expected_version).await?;
    let statement = client
        .prepare_cached("UPDATE learning_participants SET body = $3 WHERE session_id = $1 AND user_id = $2")
        .await?;
    for participant in participants {
        let written =
            client.execute(&statement, &[&session.id, &participant.user_id, &encode(participant)?]).await?;
        if written == 0 || participant.session_id != session.id {
            return Err(not_registered(participant.user_id).into());
        }
    }
    let id = session.id.to_string();
    audit(client, at, actor, "learning.attendance.record", "session", id, digest(&participants)).await?;
    Ok(StoredSession { session: session.clone(), version })
}

pub(crate) async fn submit_feedback<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    feedback: &Feedback,
) -> Result<Feedback> {
    let statement = client
        .prepare_cached("SELECT 1 FROM learning_feedback WHERE session_id = $1 AND user_id = $2")
        .await?;
    if client.query_opt(&statement, &[&feedback.session_id, &feedback.user_id]).await?.is_some() {
        return Err(feedback_given().into());
    }
    if get_session(client, feedback.session_id).await?.is_none() {
        return Err(StoreError::not_found("session", feedback.session_id).into());
    }
    let statement = client
        .prepare_cached(
            "INSERT INTO learning_feedback (id, session_id, user_id, body) VALUES ($1, $2, $3, $4)",
        )
        .await?;
    let text = encode(feedback)?;
    client.execute(&statement, &[&feedback.id, &feedback.session_id, &feedback.user_id, &text]).await?;
    audit(
        client,
        at,
        actor,
        "learning.feedback.submit",
        "feedback",
        feedback.id.to_string(),
        digest(feedback),
    )
    .await?;
    Ok(feedback.clone())
}

pub(crate) async fn list_feedback<C: GenericClient>(
    client: &C,
    session_id: Option<Uuid>,
) -> Result<Vec<Feedback>> {
    let statement = client
        .prepare_cached(
            "SELECT body FROM learning_feedback WHERE ($1::uuid IS NULL OR session_id = $1) ORDER BY id",
        )
        .await?;
    client.query(&statement, &[&session_id]).await?.iter().map(|row| body(row, "feedback")).collect()
}

pub(crate) async fn grant_trainer<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    grant: &TrainerGrant,
) -> Result<TrainerGrant> {
    if get_programme(client, grant.programme_id).await?.is_none() {
        return Err(StoreError::not_found("programme", grant.programme_id).into());
    }
    let statement = client
        .prepare_cached(
            "INSERT INTO learning_trainer_grants (id, programme_id, user_id, body) VALUES ($1, $2, $3, $4)",
        )
        .await?;
    let text = encode(grant)?;
    client.execute(&statement, &[&grant.id, &grant.programme_id, &grant.user_id, &text]).await?;
    audit(client, at, actor, "learning.trainer.grant", "trainer_grant", grant.id.to_string(), digest(grant))
        .await?;
    Ok(grant.clone())
}

pub(crate) async fn list_trainer_grants<C: GenericClient>(
    client: &C,
    programme_id: Option<Uuid>,
) -> Result<Vec<TrainerGrant>> {
    let statement = client
        .prepare_cached(
            "SELECT body FROM learning_trainer_grants WHERE ($1::uuid IS NULL OR programme_id = $1) ORDER BY id",
        )
        .await?;
    client.query(&statement, &[&programme_id]).await?.iter().map(|row| body(row, "trainer grant")).collect()
}

pub(crate) async fn put_profile<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    profile: &Profile,
) -> Result<Profile> {
    let statement = client
        .prepare_cached(
            "INSERT INTO learning_profiles (user_id, org_id, body) VALUES ($1, $2, $3)
             ON CONFLICT (user_id) DO UPDATE SET org_id = excluded.org_id, body = excluded.body",
        )
        .await?;
    let text = encode(profile)?;
    client.execute(&statement, &[&profile.user_id, &profile.org_id, &text]).await?;
    let id = profile.user_id.to_string();
    audit(client, at, actor, "learning.profile.update", "learner_profile", id, digest(profile)).await?;
    Ok(profile.clone())
}

pub(crate) async fn get_profile<C: GenericClient>(client: &C, user_id: Uuid) -> Result<Option<Profile>> {
    let statement = client.prepare_cached("SELECT body FROM learning_profiles WHERE user_id = $1").await?;
    client.query_opt(&statement, &[&user_id]).await?.as_ref().map(|row| body(row, "profile")).transpose()
}

pub(crate) async fn list_profiles<C: GenericClient>(client: &C) -> Result<Vec<Profile>> {
    let statement = client.prepare_cached("SELECT body FROM learning_profiles ORDER BY user_id").await?;
    client.query(&statement, &[]).await?.iter().map(|row| body(row, "profile")).collect()
}
