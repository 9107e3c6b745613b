//! Train-the-trainer programmes, sessions, participants, feedback, trainer grants and learner
//! profiles on SQLite.

use neretva_learning::training::{Feedback, Participant, Profile, Programme, Session, TrainerGrant};
use neretva_model::Timestamp;
use neretva_store::StoreError;
use neretva_store::learning::{digest, encode};
use neretva_store::training::{
    ParticipantQuery, SessionQuery, StoredProgramme, StoredSession, already_registered, changed, code_taken,
    feedback_given, not_registered, session_action, session_cancelled, session_full,
};
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use crate::codec::{Result, json_col, micros};
use crate::ops::audit_object as audit;

fn programme_row(row: &Row<'_>) -> rusqlite::Result<StoredProgramme> {
    Ok(StoredProgramme { programme: json_col(row, 0)?, version: row.get(1)? })
}

fn session_row(row: &Row<'_>) -> rusqlite::Result<StoredSession> {
    Ok(StoredSession { session: json_col(row, 0)?, version: row.get(1)? })
}

fn code_in_use(conn: &Connection, code: &str, except: Uuid) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM learning_programmes WHERE code = ?1 AND id <> ?2")?
        .query_row(params![code, except.to_string()], |row| row.get::<_, i64>(0))
        .optional()?
        .is_some())
}

pub(crate) fn create_programme(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    programme: &Programme,
) -> Result<StoredProgramme> {
    if code_in_use(conn, &programme.spec.code, programme.id)? {
        return Err(code_taken(&programme.spec.code).into());
    }
    conn.prepare_cached(
        "INSERT INTO learning_programmes (id, code, owner_org_id, version, body) VALUES (?1, ?2, ?3, 1, ?4)",
    )?
    .execute(params![
        programme.id.to_string(),
        programme.spec.code,
        programme.owner_org_id.to_string(),
        encode(programme)?
    ])?;
    let id = programme.id.to_string();
    audit(conn, at, actor, "learning.programme.create", "programme", id, digest(programme))?;
    Ok(StoredProgramme { programme: programme.clone(), version: 1 })
}

pub(crate) fn update_programme(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    programme: &Programme,
    expected_version: i64,
) -> Result<StoredProgramme> {
    let Some(old) = get_programme(conn, programme.id)? else {
        return Err(StoreError::not_found("programme", programme.id).into());
    };
    if old.version != expected_version {
        return Err(changed("programme", old.version, expected_version).into());
    }
    if code_in_use(conn, &programme.spec.code, programme.id)? {
        return Err(code_taken(&programme.spec.code).into());
    }
    let version = old.version + 1;
    conn.prepare_cached(
        "UPDATE learning_programmes SET code = ?2, owner_org_id = ?3, version = ?4, body = ?5 WHERE id = ?1",
    )?
    .execute(params![
        programme.id.to_string(),
        programme.spec.code,
        programme.owner_org_id.to_string(),
        version,
        encode(programme)?
    ])?;
    let id = programme.id.to_string();
    audit(conn, at, actor, "learning.programme.update", "programme", id, digest(programme))?;
    Ok(StoredProgramme { programme: programme.clone(), version })
}

pub(crate) fn get_programme(conn: &Connection, id: Uuid) -> Result<Option<StoredProgramme>> {
    Ok(conn
        .prepare_cached("SELECT body, version FROM learning_programmes WHERE id = ?1")?
        .query_row([id.to_string()], programme_row)
        .optional()?)
}

pub(crate) fn list_programmes(conn: &Connection) -> Result<Vec<StoredProgramme>> {
    let mut statement = conn.prepare_cached("SELECT body, version FROM learning_programmes ORDER BY code")?;
    let rows = statement.query_map([], programme_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn create_session(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    session: &Session,
) -> Result<StoredSession> {
    if get_programme(conn, session.programme_id)?.is_none() {
        return Err(StoreError::not_found("programme", session.programme_id).into());
    }
    conn.prepare_cached(
        "INSERT INTO learning_sessions (id, programme_id, starts_at, version, body) VALUES (?1, ?2, ?3, 1, ?4)",
    )?
    .execute(params![
        session.id.to_string(),
        session.programme_id.to_string(),
        micros(session.starts_at),
        encode(session)?
    ])?;
    audit(conn, at, actor, "learning.session.create", "session", session.id.to_string(), digest(session))?;
    Ok(StoredSession { session: session.clone(), version: 1 })
}

fn write_session(conn: &Connection, session: &Session, expected_version: i64) -> Result<(Session, i64)> {
    let Some(old) = get_session(conn, session.id)? else {
        return Err(StoreError::not_found("session", session.id).into());
    };
    if old.version != expected_version {
        return Err(changed("session", old.version, expected_version).into());
    }
    let version = old.version + 1;
    conn.prepare_cached(
        "UPDATE learning_sessions SET starts_at = ?2, version = ?3, body = ?4 WHERE id = ?1",
    )?
    .execute(params![session.id.to_string(), micros(session.starts_at), version, encode(session)?])?;
    Ok((old.session, version))
}

pub(crate) fn update_session(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    session: &Session,
    expected_version: i64,
) -> Result<StoredSession> {
    let (old, version) = write_session(conn, session, expected_version)?;
    let action = session_action(&old, session);
    audit(conn, at, actor, action, "session", session.id.to_string(), digest(session))?;
    Ok(StoredSession { session: session.clone(), version })
}

pub(crate) fn get_session(conn: &Connection, id: Uuid) -> Result<Option<StoredSession>> {
    Ok(conn
        .prepare_cached("SELECT body, version FROM learning_sessions WHERE id = ?1")?
        .query_row([id.to_string()], session_row)
        .optional()?)
}

pub(crate) fn list_sessions(conn: &Connection, query: &SessionQuery) -> Result<Vec<StoredSession>> {
    let mut statement = conn.prepare_cached(
        "SELECT body, version FROM learning_sessions
         WHERE (?1 IS NULL OR programme_id = ?1) AND (?2 IS NULL OR starts_at >= ?2) AND (?3 IS NULL OR starts_at < ?3)
         ORDER BY starts_at, id",
    )?;
    let rows = statement.query_map(
        params![query.programme_id.map(|id| id.to_string()), query.from.map(micros), query.to.map(micros)],
        session_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn register_participant(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    participant: &Participant,
) -> Result<Participant> {
    let Some(session) = get_session(conn, participant.session_id)? else {
        return Err(StoreError::not_found("session", participant.session_id).into());
    };
    let session = session.session;
    if session.status == neretva_learning::training::SessionStatus::Cancelled {
        return Err(session_cancelled().into());
    }
    let exists: Option<i64> = conn
        .prepare_cached("SELECT 1 FROM learning_participants WHERE session_id = ?1 AND user_id = ?2")?
        .query_row(params![participant.session_id.to_string(), participant.user_id.to_string()], |row| {
            row.get(0)
        })
        .optional()?;
    if exists.is_some() {
        return Err(already_registered().into());
    }
    let (count, seq): (i64, i64) = conn
        .prepare_cached(
            "SELECT count(*), coalesce(max(seq), 0) + 1 FROM learning_participants WHERE session_id = ?1",
        )?
        .query_row([participant.session_id.to_string()], |row| Ok((row.get(0)?, row.get(1)?)))?;
    if count >= i64::from(session.capacity) {
        return Err(session_full(session.capacity).into());
    }
    conn.prepare_cached(
        "INSERT INTO learning_participants (session_id, user_id, org_id, seq, body) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        participant.session_id.to_string(),
        participant.user_id.to_string(),
        participant.org_id.to_string(),
        seq,
        encode(participant)?
    ])?;
    let id = format!("{}/{}", participant.session_id, participant.user_id);
    audit(conn, at, actor, "learning.session.register", "session_participant", id, digest(participant))?;
    Ok(participant.clone())
}

pub(crate) fn list_participants(conn: &Connection, query: &ParticipantQuery) -> Result<Vec<Participant>> {
    let mut statement = conn.prepare_cached(
        "SELECT body FROM learning_participants
         WHERE (?1 IS NULL OR session_id = ?1) AND (?2 IS NULL OR user_id = ?2) AND (?3 IS NULL OR org_id = ?3)
         ORDER BY session_id, seq",
    )?;
    let text = |id: Option<Uuid>| id.map(|id| id.to_string());
    let rows = statement
        .query_map(params![text(query.session_id), text(query.user_id), text(query.org_id)], |row| {
            json_col(row, 0)
        })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn record_attendance(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    session: &Session,
    expected_version: i64,
    participants: &[Participant],
) -> Result<StoredSession> {
    let (_, version) = write_session(conn, session, expected_version)?;
    for participant in participants {
        let written = conn
            .prepare_cached(
                "UPDATE learning_participants SET body = ?3 WHERE session_id = ?1 AND user_id = ?2",
            )?
            .execute(params![
                session.id.to_string(),
                participant.user_id.to_string(),
                encode(participant)?
            ])?;
        if written == 0 || participant.session_id != session.id {
            return Err(not_registered(participant.user_id).into());
        }
    }
    audit(
        conn,
        at,
        actor,
        "learning.attendance.record",
        "session",
        session.id.to_string(),
        digest(&participants),
    )?;
    Ok(StoredSession { session: session.clone(), version })
}

pub(crate) fn submit_feedback(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    feedback: &Feedback,
) -> Result<Feedback> {
    let exists: Option<i64> = conn
        .prepare_cached("SELECT 1 FROM learning_feedback WHERE session_id = ?1 AND user_id = ?2")?
        .query_row(params![feedback.session_id.to_string(), feedback.user_id.to_string()], |row| row.get(0))
        .optional()?;
    if exists.is_some() {
        return Err(feedback_given().into());
    }
    if get_session(conn, feedback.session_id)?.is_none() {
        return Err(StoreError::not_found("session", feedback.session_id).into());
    }
    conn.prepare_cached(
        "INSERT INTO learning_feedback (id, session_id, user_id, body) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        feedback.id.to_string(),
        feedback.session_id.to_string(),
        feedback.user_id.to_string(),
        encode(feedback)?
    ])?;
    audit(
        conn,
        at,
        actor,
        "learning.feedback.submit",
        "feedback",
        feedback.id.to_string(),
        digest(feedback),
    )?;
    Ok(feedback.clone())
}

pub(crate) fn list_feedback(conn: &Connection, session_id: Option<Uuid>) -> Result<Vec<Feedback>> {
    let mut statement = conn.prepare_cached(
        "SELECT body FROM learning_feedback WHERE (?1 IS NULL OR session_id = ?1) ORDER BY id",
    )?;
    let rows = statement.query_map([session_id.map(|id| id.to_string())], |row| json_col(row, 0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn grant_trainer(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    grant: &TrainerGrant,
) -> Result<TrainerGrant> {
    if get_programme(conn, grant.programme_id)?.is_none() {
        return Err(StoreError::not_found("programme", grant.programme_id).into());
    }
    conn.prepare_cached(
        "INSERT INTO learning_trainer_grants (id, programme_id, user_id, body) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        grant.id.to_string(),
        grant.programme_id.to_string(),
        grant.user_id.to_string(),
        encode(grant)?
    ])?;
    audit(conn, at, actor, "learning.trainer.grant", "trainer_grant", grant.id.to_string(), digest(grant))?;
    Ok(grant.clone())
}

pub(crate) fn list_trainer_grants(
    conn: &Connection,
    programme_id: Option<Uuid>,
) -> Result<Vec<TrainerGrant>> {
    let mut statement = conn.prepare_cached(
        "SELECT body FROM learning_trainer_grants WHERE (?1 IS NULL OR programme_id = ?1) ORDER BY id",
    )?;
    let rows = statement.query_map([programme_id.map(|id| id.to_string())], |row| json_col(row, 0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn put_profile(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    profile: &Profile,
) -> Result<Profile> {
    conn.prepare_cached(
        "INSERT INTO learning_profiles (user_id, org_id, body) VALUES (?1, ?2, ?3)
         ON CONFLICT (user_id) DO UPDATE SET org_id = excluded.org_id, body = excluded.body",
    )?
    .execute(params![profile.user_id.to_string(), profile.org_id.to_string(), encode(profile)?])?;
    audit(
        conn,
        at,
        actor,
        "learning.profile.update",
        "learner_profile",
        profile.user_id.to_string(),
        digest(profile),
    )?;
    Ok(profile.clone())
}

pub(crate) fn get_profile(conn: &Connection, user_id: Uuid) -> Result<Option<Profile>> {
    Ok(conn
        .prepare_cached("SELECT body FROM learning_profiles WHERE user_id = ?1")?
        .query_row([user_id.to_string()], |row| json_col(row, 0))
        .optional()?)
}

pub(crate) fn list_profiles(conn: &Connection) -> Result<Vec<Profile>> {
    let mut statement = conn.prepare_cached("SELECT body FROM learning_profiles ORDER BY user_id")?;
    let rows = statement.query_map([], |row| json_col(row, 0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
