//! Tabletop exercises on SQLite: scenarios, runs, inject deliveries and responses.

use neretva_learning::exercise::run::{Delivery, Exercise, Response};
use neretva_learning::exercise::scenario::Scenario;
use neretva_model::Timestamp;
use neretva_store::StoreError;
use neretva_store::exercises::{
    StoredExercise, StoredScenario, already_delivered, already_responded, encode_scenario, exercise_changed,
    scenario_exists,
};
use neretva_store::learning::{digest, encode};
use neretva_store::notifications::NotificationWrite;
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use crate::codec::{Result, json_col, micros, time_col, uuid_col};
use crate::notifications::record_notifications;
use crate::ops::audit_object as audit;

fn scenario_row(row: &Row<'_>) -> rusqlite::Result<StoredScenario> {
    Ok(StoredScenario { id: uuid_col(row, 0)?, scenario: json_col(row, 1)?, imported_at: time_col(row, 2)? })
}

pub(crate) fn import_scenario(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    id: Uuid,
    scenario: &Scenario,
) -> Result<StoredScenario> {
    let body = encode_scenario(scenario)?;
    let exists: Option<i64> = conn
        .prepare_cached("SELECT 1 FROM learning_scenarios WHERE code = ?1 AND version = ?2")?
        .query_row(params![scenario.code, scenario.version], |row| row.get(0))
        .optional()?;
    if exists.is_some() {
        return Err(scenario_exists(scenario).into());
    }
    conn.prepare_cached(
        "INSERT INTO learning_scenarios (id, code, version, body, imported_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![id.to_string(), scenario.code, scenario.version, body, micros(at)])?;
    audit(conn, at, actor, "learning.scenario.import", "scenario", id.to_string(), digest(scenario))?;
    Ok(StoredScenario { id, scenario: scenario.clone(), imported_at: at })
}

pub(crate) fn get_scenario(conn: &Connection, id: Uuid) -> Result<Option<StoredScenario>> {
    Ok(conn
        .prepare_cached("SELECT id, body, imported_at FROM learning_scenarios WHERE id = ?1")?
        .query_row([id.to_string()], scenario_row)
        .optional()?)
}

pub(crate) fn list_scenarios(conn: &Connection) -> Result<Vec<StoredScenario>> {
    let mut statement =
        conn.prepare_cached("SELECT id, body, imported_at FROM learning_scenarios ORDER BY code, version")?;
    let rows = statement.query_map([], scenario_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn create_exercise(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    exercise: &Exercise,
) -> Result<StoredExercise> {
    if get_scenario(conn, exercise.scenario_id)?.is_none() {
        return Err(
            StoreError::conflict("scenario_id", format!("no scenario {}", exercise.scenario_id)).into()
        );
    }
    let exists: Option<i64> = conn
        .prepare_cached("SELECT 1 FROM learning_exercises WHERE id = ?1")?
        .query_row([exercise.id.to_string()], |row| row.get(0))
        .optional()?;
    if exists.is_some() {
        return Err(StoreError::conflict("id", "an exercise with this id exists already").into());
    }
    conn.prepare_cached(
        "INSERT INTO learning_exercises (id, scenario_id, version, body) VALUES (?1, ?2, 1, ?3)",
    )?
    .execute(params![exercise.id.to_string(), exercise.scenario_id.to_string(), encode(exercise)?])?;
    audit(
        conn,
        at,
        actor,
        "learning.exercise.create",
        "exercise",
        exercise.id.to_string(),
        digest(exercise),
    )?;
    Ok(StoredExercise {
        exercise: exercise.clone(),
        version: 1,
        deliveries: Vec::new(),
        responses: Vec::new(),
    })
}

/// Moves a run to its next version when it is still at `expected_version`.
fn bump(conn: &Connection, exercise: &Exercise, expected_version: i64) -> Result<()> {
    let Some(old) = version_of(conn, exercise.id)? else {
        return Err(StoreError::not_found("exercise", exercise.id).into());
    };
    if old != expected_version {
        return Err(exercise_changed(old, expected_version).into());
    }
    conn.prepare_cached("UPDATE learning_exercises SET version = ?2, body = ?3 WHERE id = ?1")?
        .execute(params![exercise.id.to_string(), old + 1, encode(exercise)?])?;
    Ok(())
}

fn version_of(conn: &Connection, id: Uuid) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT version FROM learning_exercises WHERE id = ?1")?
        .query_row([id.to_string()], |row| row.get(0))
        .optional()?)
}

pub(crate) fn update_exercise(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    exercise: &Exercise,
    expected_version: i64,
    action: &str,
) -> Result<StoredExercise> {
    bump(conn, exercise, expected_version)?;
    audit(conn, at, actor, action, "exercise", exercise.id.to_string(), digest(exercise))?;
    get_exercise(conn, exercise.id)?.ok_or_else(|| StoreError::not_found("exercise", exercise.id).into())
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn deliver_injects(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    exercise_id: Uuid,
    expected_version: i64,
    deliveries: &[Delivery],
    action: &str,
    messages: &[NotificationWrite],
) -> Result<StoredExercise> {
    let Some(stored) = get_exercise(conn, exercise_id)? else {
        return Err(StoreError::not_found("exercise", exercise_id).into());
    };
    bump(conn, &stored.exercise, expected_version)?;
    let mut seq = stored.deliveries.len() as i64;
    for delivery in deliveries {
        if stored.deliveries.iter().any(|d| d.inject_id == delivery.inject_id) {
            return Err(already_delivered(&delivery.inject_id).into());
        }
        seq += 1;
        let added = conn
            .prepare_cached(
                "INSERT INTO learning_exercise_deliveries (exercise_id, inject_id, seq, body) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![exercise_id.to_string(), delivery.inject_id, seq, encode(delivery)?])?;
        if added == 0 {
            return Err(already_delivered(&delivery.inject_id).into());
        }
        audit(
            conn,
            at,
            actor,
            action,
            "exercise",
            format!("{exercise_id}/{}", delivery.inject_id),
            digest(delivery),
        )?;
    }
    for write in messages {
        record_notifications(conn, at, actor, write)?;
    }
    get_exercise(conn, exercise_id)?.ok_or_else(|| StoreError::not_found("exercise", exercise_id).into())
}

pub(crate) fn record_response(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    response: &Response,
) -> Result<Response> {
    if version_of(conn, response.exercise_id)?.is_none() {
        return Err(StoreError::not_found("exercise", response.exercise_id).into());
    }
    let added = conn
        .prepare_cached(
            "INSERT INTO learning_exercise_responses (id, exercise_id, inject_id, user_id, body)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            response.id.to_string(),
            response.exercise_id.to_string(),
            response.inject_id,
            response.user_id.to_string(),
            encode(response)?
        ])?;
    if added == 0 {
        return Err(already_responded(&response.inject_id).into());
    }
    audit(
        conn,
        at,
        actor,
        "learning.exercise.respond",
        "exercise_response",
        response.id.to_string(),
        digest(response),
    )?;
    Ok(response.clone())
}

pub(crate) fn get_exercise(conn: &Connection, id: Uuid) -> Result<Option<StoredExercise>> {
    let row: Option<(Exercise, i64)> = conn
        .prepare_cached("SELECT body, version FROM learning_exercises WHERE id = ?1")?
        .query_row([id.to_string()], |row| Ok((json_col(row, 0)?, row.get(1)?)))
        .optional()?;
    let Some((exercise, version)) = row else { return Ok(None) };
    let mut statement = conn.prepare_cached(
        "SELECT body FROM learning_exercise_deliveries WHERE exercise_id = ?1 ORDER BY seq",
    )?;
    let deliveries =
        statement.query_map([id.to_string()], |row| json_col(row, 0))?.collect::<rusqlite::Result<_>>()?;
    let mut statement = conn.prepare_cached(
        "SELECT body FROM learning_exercise_responses WHERE exercise_id = ?1 ORDER BY rowid",
    )?;
    let mut responses: Vec<Response> =
        statement.query_map([id.to_string()], |row| json_col(row, 0))?.collect::<rusqlite::Result<_>>()?;
    responses.sort_by_key(|response| response.submitted_at);
    Ok(Some(StoredExercise { exercise, version, deliveries, responses }))
}

pub(crate) fn list_exercises(conn: &Connection) -> Result<Vec<StoredExercise>> {
    let ids: Vec<Uuid> = conn
        .prepare_cached("SELECT id FROM learning_exercises ORDER BY id")?
        .query_map([], |row| uuid_col(row, 0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut exercises = Vec::with_capacity(ids.len());
    for id in ids {
        exercises.extend(get_exercise(conn, id)?);
    }
    Ok(exercises)
}
