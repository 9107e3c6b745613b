//! Tabletop exercises on PostgreSQL: scenarios, runs, inject deliveries and responses.
//!
//! Writes run in audited transactions, which lock the audit head first, so the version check of
//! a run and the write after it cannot interleave with another server's change.

use deadpool_postgres::GenericClient;
use neretva_learning::exercise::run::{Delivery, Exercise, Response};
use neretva_learning::exercise::scenario::Scenario;
use neretva_model::Timestamp;
use neretva_store::StoreError;
use neretva_store::exercises::{
    StoredExercise, StoredScenario, already_delivered, already_responded, encode_scenario, exercise_changed,
    scenario_exists,
};
use neretva_store::learning::{decode, digest, encode};
use neretva_store::notifications::NotificationWrite;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::codec::Result;
use crate::notifications::record_notifications;
use crate::ops::audit_object as audit;

fn scenario_row(row: &Row) -> Result<StoredScenario> {
    let text: String = row.try_get(1)?;
    Ok(StoredScenario {
        id: row.try_get(0)?,
        scenario: decode("scenario", &text)?,
        imported_at: row.try_get(2)?,
    })
}

pub(crate) async fn import_scenario<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    id: Uuid,
    scenario: &Scenario,
) -> Result<StoredScenario> {
    let text = encode_scenario(scenario)?;
    let version = i64::from(scenario.version);
    let statement =
        client.prepare_cached("SELECT 1 FROM learning_scenarios WHERE code = $1 AND version = $2").await?;
    if client.query_opt(&statement, &[&scenario.code, &version]).await?.is_some() {
        return Err(scenario_exists(scenario).into());
    }
    let statement = client
        .prepare_cached(
            "INSERT INTO learning_scenarios (id, code, version, body, imported_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .await?;
    client.execute(&statement, &[&id, &scenario.code, &version, &text, &at]).await?;
    audit(client, at, actor, "learning.scenario.import", "scenario", id.to_string(), digest(scenario))
        .await?;
    Ok(StoredScenario { id, scenario: scenario.clone(), imported_at: at })
}

pub(crate) async fn get_scenario<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<StoredScenario>> {
    let statement =
        client.prepare_cached("SELECT id, body, imported_at FROM learning_scenarios WHERE id = $1").await?;
    client.query_opt(&statement, &[&id]).await?.as_ref().map(scenario_row).transpose()
}

pub(crate) async fn list_scenarios<C: GenericClient>(client: &C) -> Result<Vec<StoredScenario>> {
    let statement = client
        .prepare_cached("SELECT id, body, imported_at FROM learning_scenarios ORDER BY code, version")
        .await?;
    client.query(&statement, &[]).await?.iter().map(scenario_row).collect()
}

pub(crate) async fn create_exercise<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    exercise: &Exercise,
) -> Result<StoredExercise> {
    if get_scenario(client, exercise.scenario_id).await?.is_none() {
        return Err(
            StoreError::conflict("scenario_id", format!("no scenario {}", exercise.scenario_id)).into()
        );
    }
    if version_of(client, exercise.id).await?.is_some() {
        return Err(StoreError::conflict("id", "an exercise with this id exists already").into());
    }
    let statement = client
        .prepare_cached(
            "INSERT INTO learning_exercises (id, scenario_id, version, body) VALUES ($1, $2, 1, $3)",
        )
        .await?;
    client.execute(&statement, &[&exercise.id, &exercise.scenario_id, &encode(exercise)?]).await?;
    audit(
        client,
        at,
        actor,
        "learning.exercise.create",
        "exercise",
        exercise.id.to_string(),
        digest(exercise),
    )
    .await?;
    Ok(StoredExercise {
        exercise: exercise.clone(),
        version: 1,
        deliveries: Vec::new(),
        responses: Vec::new(),
    })
}

async fn version_of<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<i64>> {
    let statement = client.prepare_cached("SELECT version FROM learning_exercises WHERE id = $1").await?;
    Ok(match client.query_opt(&statement, &[&id]).await? {
        Some(row) => Some(row.try_get(0)?),
        None => None,
    })
}

/// Moves a run to its next version when it is still at `expected_version`.
async fn bump<C: GenericClient>(client: &C, exercise: &Exercise, expected_version: i64) -> Result<()> {
    let Some(old) = version_of(client, exercise.id).await? else {
        return Err(StoreError::not_found("exercise", exercise.id).into());
    };
    if old != expected_version {
        return Err(exercise_changed(old, expected_version).into());
    }
    let statement =
        client.prepare_cached("UPDATE learning_exercises SET version = $2, body = $3 WHERE id = $1").await?;
    client.execute(&statement, &[&exercise.id, &(old + 1), &encode(exercise)?]).await?;
    Ok(())
}

pub(crate) async fn update_exercise<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    exercise: &Exercise,
    expected_version: i64,
    action: &str,
) -> Result<StoredExercise> {
    bump(client, exercise, expected_version).await?;
    audit(client, at, actor, action, "exercise", exercise.id.to_string(), digest(exercise)).await?;
    get_exercise(client, exercise.id)
        .await?
        .ok_or_else(|| StoreError::not_found("exercise", exercise.id).into())
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn deliver_injects<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    exercise_id: Uuid,
    expected_version: i64,
    deliveries: &[Delivery],
    action: &str,
    messages: &[NotificationWrite],
) -> Result<StoredExercise> {
    let Some(stored) = get_exercise(client, exercise_id).await? else {
        return Err(StoreError::not_found("exercise", exercise_id).into());
    };
    bump(client, &stored.exercise, expected_version).await?;
    let mut seq = stored.deliveries.len() as i64;
    let statement = client
        .prepare_cached(
            "INSERT INTO learning_exercise_deliveries (exercise_id, inject_id, seq, body) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
        )
        .await?;
    for delivery in deliveries {
        seq += 1;
        let added = client
            .execute(&statement, &[&exercise_id, &delivery.inject_id, &seq, &encode(delivery)?])
            .await?;
        if added == 0 {
            return Err(already_delivered(&delivery.inject_id).into());
        }
        let object = format!("{exercise_id}/{}", delivery.inject_id);
        audit(client, at, actor, action, "exercise", object, digest(delivery)).await?;
    }
    for write in messages {
        record_notifications(client, at, actor, write).await?;
    }
    get_exercise(client, exercise_id)
        .await?
        .ok_or_else(|| StoreError::not_found("exercise", exercise_id).into())
}

pub(crate) async fn record_response<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    response: &Response,
) -> Result<Response> {
    if version_of(client, response.exercise_id).await?.is_none() {
        return Err(StoreError::not_found("exercise", response.exercise_id).into());
    }
    let statement = client
        .prepare_cached(
            "INSERT INTO learning_exercise_responses (id, exercise_id, inject_id, user_id, body)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .await?;
    let added = client
        .execute(
            &statement,
            &[
                &response.id,
                &response.exercise_id,
                &response.inject_id,
                &response.user_id,
                &encode(response)?,
            ],
        )
        .await?;
    if added == 0 {
        return Err(already_responded(&response.inject_id).into());
    }
    audit(
        client,
        at,
        actor,
        "learning.exercise.respond",
        "exercise_response",
        response.id.to_string(),
        digest(response),
    )
    .await?;
    Ok(response.clone())
}

pub(crate) async fn get_exercise<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<StoredExercise>> {
    let statement =
        client.prepare_cached("SELECT body, version FROM learning_exercises WHERE id = $1").await?;
    let Some(row) = client.query_opt(&statement, &[&id]).await? else { return Ok(None) };
    let text: String = row.try_get(0)?;
    let exercise: Exercise = decode("exercise", &text)?;
    let version: i64 = row.try_get(1)?;
    let statement = client
        .prepare_cached("SELECT body FROM learning_exercise_deliveries WHERE exercise_id = $1 ORDER BY seq")
        .await?;
    let mut deliveries = Vec::new();
    for row in client.query(&statement, &[&id]).await? {
        let text: String = row.try_get(0)?;
        deliveries.push(decode("delivery", &text)?);
    }
    let statement = client
        .prepare_cached("SELECT body FROM learning_exercise_responses WHERE exercise_id = $1 ORDER BY id")
        .await?;
    let mut responses: Vec<Response> = Vec::new();
    for row in client.query(&statement, &[&id]).await? {
        let text: String = row.try_get(0)?;
        responses.push(decode("response", &text)?);
    }
    responses.sort_by_key(|response| response.submitted_at);
    Ok(Some(StoredExercise { exercise, version, deliveries, responses }))
}

pub(crate) async fn list_exercises<C: GenericClient>(client: &C) -> Result<Vec<StoredExercise>> {
    let statement = client.prepare_cached("SELECT id FROM learning_exercises ORDER BY id").await?;
    let mut exercises = Vec::new();
    for row in client.query(&statement, &[]).await? {
        let id: Uuid = row.try_get(0)?;
        exercises.extend(get_exercise(client, id).await?);
    }
    Ok(exercises)
}
