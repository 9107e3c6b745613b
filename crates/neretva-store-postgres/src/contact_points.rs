//! The contact-point directory, RFC 2350 team profiles and communication checks on PostgreSQL.
//!
//! Writes run in audited transactions, which lock the audit head first, so a token cannot be
//! used twice by two servers at once: the second sees it used.

use deadpool_postgres::GenericClient;
use neretva_governance::checks::{Campaign, Step, TargetState};
use neretva_governance::contact_points::{ContactPoint, MAX_POINTS_PER_ORG, PointKind};
use neretva_governance::rfc2350::TeamProfile;
use neretva_model::Timestamp;
use neretva_model::audit::{digest_hex, digest_json};
use neretva_model::contact::Language;
use neretva_store::StoreError;
use neretva_store::contact_points::{
    AckOutcome, Acknowledgment, StepRecord, StoredCampaign, StoredPoint, StoredProfile, StoredTarget,
    TokenInfo, campaign_digest, check_targets, clean_user_agent, decode, encode, point_digest,
    profile_digest, step_name, version_conflict,
};
use tokio_postgres::Row;
use uuid::Uuid;

use crate::codec::{Error, Result};
use crate::ops::audit_object as audit;

fn backend(error: impl std::fmt::Display) -> Error {
    Error(StoreError::Backend(error.to_string()))
}

const POINT_COLUMNS: &str = "body, version, created_at, updated_at";

fn point_row(row: &Row) -> Result<StoredPoint> {
    let body: String = row.try_get(0)?;
    Ok(StoredPoint {
        point: decode("contact point", &body)?,
        version: row.try_get(1)?,
        created_at: row.try_get(2)?,
        updated_at: row.try_get(3)?,
    })
}

async fn org_exists<C: GenericClient>(client: &C, org: Uuid) -> Result<bool> {
    let statement = client.prepare_cached("SELECT 1 FROM organisations WHERE id = $1").await?;
    Ok(client.query_opt(&statement, &[&org]).await?.is_some())
}

pub(crate) async fn create_contact_point<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    point: &ContactPoint,
) -> Result<StoredPoint> {
    let body = encode(point)?;
    if !org_exists(client, point.org_id).await? {
        return Err(StoreError::conflict("org_id", format!("no organisation {}", point.org_id)).into());
    }
    if get_contact_point(client, point.id).await?.is_some() {
        return Err(StoreError::conflict("id", "a contact point with this id already exists").into());
    }
    let statement = client.prepare_cached("SELECT count(*) FROM contact_points WHERE org_id = $1").await?;
    let count: i64 = client.query_one(&statement, &[&point.org_id]).await?.try_get(0)?;
    if count >= MAX_POINTS_PER_ORG as i64 {
        return Err(StoreError::conflict(
            "org_id",
            format!("the organisation has {MAX_POINTS_PER_ORG} contact points, the most it may have"),
        )
        .into());
    }
    let statement = client
        .prepare_cached(
            "INSERT INTO contact_points (id, org_id, kind, email, version, body, created_at, updated_at)
             VALUES ($1, $2, $3, $4, 1, $5, $6, $6)",
        )
        .await?;
    client
        .execute(&statement, &[&point.id, &point.org_id, &point.kind.tag(), &point.email, &body, &at])
        .await?;
    audit(
        client,
        at,
        actor,
        "contact_point.create",
        "contact_point",
        point.id.to_string(),
        point_digest(point),
    )
    .await?;
    Ok(StoredPoint { point: point.clone(), version: 1, created_at: at, updated_at: at })
}

pub(crate) async fn update_contact_point<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    point: &ContactPoint,
    expected_version: i64,
) -> Result<StoredPoint> {
    let body = encode(point)?;
    let Some(old) = get_contact_point(client, point.id).await? else {
        return Err(StoreError::not_found("contact point", point.id).into());
    };
    if old.version != expected_version {
        return Err(version_conflict(old.version, expected_version).into());
    }
    if old.point.org_id != point.org_id {
        return Err(
            StoreError::conflict("org_id", "a contact point does not move to another organisation").into()
        );
    }
    let version = old.version + 1;
    let statement = client
        .prepare_cached(
            "UPDATE contact_points SET kind = $2, email = $3, version = $4, body = $5, updated_at = $6
             WHERE id = $1",
        )
        .await?;
    client.execute(&statement, &[&point.id, &point.kind.tag(), &point.email, &version, &body, &at]).await?;
    audit(
        client,
        at,
        actor,
        "contact_point.update",
        "contact_point",
        point.id.to_string(),
        point_digest(point),
    )
    .await?;
    Ok(StoredPoint { point: point.clone(), version, created_at: old.created_at, updated_at: at })
}

pub(crate) async fn delete_contact_point<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    id: Uuid,
) -> Result<()> {
    let Some(old) = get_contact_point(client, id).await? else {
        return Err(StoreError::not_found("contact point", id).into());
    };
    let statement = client.prepare_cached("DELETE FROM contact_points WHERE id = $1").await?;
    client.execute(&statement, &[&id]).await?;
    audit(
        client,
        at,
        actor,
        "contact_point.delete",
        "contact_point",
        id.to_string(),
        point_digest(&old.point),
    )
    .await
}

pub(crate) async fn get_contact_point<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<StoredPoint>> {
    let sql = format!("SELECT {POINT_COLUMNS} FROM contact_points WHERE id = $1");
    let statement = client.prepare_cached(&sql).await?;
    client.query_opt(&statement, &[&id]).await?.as_ref().map(point_row).transpose()
}

pub(crate) async fn list_contact_points<C: GenericClient>(
    client: &C,
    org: Option<Uuid>,
) -> Result<Vec<StoredPoint>> {
    let sql = format!(
        "SELECT {POINT_COLUMNS} FROM contact_points WHERE $1::uuid IS NULL OR org_id = $1
         ORDER BY org_id, kind, email, id"
    );
    let statement = client.prepare_cached(&sql).await?;
    client.query(&statement, &[&org]).await?.iter().map(point_row).collect()
}

pub(crate) async fn put_team_profile<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    profile: &TeamProfile,
) -> Result<StoredProfile> {
    let body = encode(profile)?;
    if !org_exists(client, profile.org_id).await? {
        return Err(StoreError::conflict("org_id", format!("no organisation {}", profile.org_id)).into());
    }
    let statement = client
        .prepare_cached(
            "INSERT INTO team_profiles (org_id, body, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (org_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
        )
        .await?;
    client.execute(&statement, &[&profile.org_id, &body, &at]).await?;
    audit(
        client,
        at,
        actor,
        "team_profile.put",
        "team_profile",
        profile.org_id.to_string(),
        profile_digest(profile),
    )
    .await?;
    Ok(StoredProfile { profile: profile.clone(), updated_at: at })
}

pub(crate) async fn get_team_profile<C: GenericClient>(
    client: &C,
    org: Uuid,
) -> Result<Option<StoredProfile>> {
    let statement =
        client.prepare_cached("SELECT body, updated_at FROM team_profiles WHERE org_id = $1").await?;
    let Some(row) = client.query_opt(&statement, &[&org]).await? else {
        return Ok(None);
    };
    let body: String = row.try_get(0)?;
    Ok(Some(StoredProfile { profile: decode("team profile", &body)?, updated_at: row.try_get(1)? }))
}

const TARGET_COLUMNS: &str = "point_id, org_id, kind, name, email, language, sent_at, send_failed, last_error, \
     reminded_at, escalated_at, acknowledged_at, acknowledged_by, acknowledged_via, user_agent";

fn target_row(row: &Row) -> Result<StoredTarget> {
    let kind: String = row.try_get(2)?;
    let language: String = row.try_get(5)?;
    Ok(StoredTarget {
        point_id: row.try_get(0)?,
        org_id: row.try_get(1)?,
        kind: kind.parse::<PointKind>().map_err(backend)?,
        name: row.try_get(3)?,
        email: row.try_get(4)?,
        language: language.parse::<Language>().map_err(backend)?,
        state: TargetState {
            sent_at: row.try_get(6)?,
            send_failed: row.try_get(7)?,
            reminded_at: row.try_get(9)?,
            escalated_at: row.try_get(10)?,
            acknowledged_at: row.try_get(11)?,
        },
        last_error: row.try_get(8)?,
        acknowledged_by: row.try_get(12)?,
        acknowledged_via: row.try_get(13)?,
        user_agent: row.try_get(14)?,
    })
}

async fn targets<C: GenericClient>(client: &C, campaign: Uuid) -> Result<Vec<StoredTarget>> {
    let sql = format!(
        "SELECT {TARGET_COLUMNS} FROM check_targets WHERE campaign_id = $1 ORDER BY org_id, kind, email, point_id"
    );
    let statement = client.prepare_cached(&sql).await?;
    client.query(&statement, &[&campaign]).await?.iter().map(target_row).collect()
}

async fn target<C: GenericClient>(client: &C, campaign: Uuid, point: Uuid) -> Result<Option<StoredTarget>> {
    let sql = format!("SELECT {TARGET_COLUMNS} FROM check_targets WHERE campaign_id = $1 AND point_id = $2");
    let statement = client.prepare_cached(&sql).await?;
    client.query_opt(&statement, &[&campaign, &point]).await?.as_ref().map(target_row).transpose()
}

async fn campaign_row<C: GenericClient>(client: &C, row: &Row) -> Result<StoredCampaign> {
    let body: String = row.try_get(0)?;
    let campaign: Campaign = decode("check campaign", &body)?;
    let created_by: String = row.try_get(1)?;
    let targets = targets(client, campaign.id).await?;
    Ok(StoredCampaign { campaign, created_by, targets })
}

pub(crate) async fn create_check<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    campaign: &Campaign,
    points: &[ContactPoint],
) -> Result<StoredCampaign> {
    check_targets(points)?;
    let body = encode(campaign)?;
    if get_check(client, campaign.id).await?.is_some() {
        return Err(StoreError::conflict("id", "a campaign with this id already exists").into());
    }
    let statement = client
        .prepare_cached(
            "INSERT INTO check_campaigns (id, body, created_by, created_at, deadline) VALUES ($1, $2, $3, $4, $5)",
        )
        .await?;
    client
        .execute(&statement, &[&campaign.id, &body, &actor, &campaign.created_at, &campaign.deadline])
        .await?;
    let insert = client
        .prepare_cached(
            "INSERT INTO check_targets (campaign_id, point_id, org_id, kind, name, email, language)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .await?;
    for (index, point) in points.iter().enumerate() {
        if get_contact_point(client, point.id).await?.is_none() {
            return Err(StoreError::conflict(
                format!("targets[{index}]"),
                format!("no contact point {}", point.id),
            )
            .into());
        }
        client
            .execute(
                &insert,
                &[
                    &campaign.id,
                    &point.id,
                    &point.org_id,
                    &point.kind.tag(),
                    &point.name,
                    &point.email,
                    &point.language.tag(),
                ],
            )
            .await?;
    }
    audit(client, at, actor, "check.create", "check", campaign.id.to_string(), campaign_digest(campaign))
        .await?;
    Ok(StoredCampaign {
        campaign: campaign.clone(),
        created_by: actor.to_owned(),
        targets: targets(client, campaign.id).await?,
    })
}

pub(crate) async fn record_check_steps<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    campaign: Uuid,
    steps: &[StepRecord],
) -> Result<()> {
    if get_check(client, campaign).await?.is_none() {
        return Err(StoreError::not_found("check", campaign).into());
    }
    for (index, step) in steps.iter().enumerate() {
        if target(client, campaign, step.point_id).await?.is_none() {
            return Err(StoreError::conflict(
                format!("steps[{index}].point_id"),
                format!("contact point {} is not a target of the campaign", step.point_id),
            )
            .into());
        }
        if let Some(error) = &step.error {
            let failed = step.step == Step::Send;
            let statement = client
                .prepare_cached(
                    "UPDATE check_targets SET last_error = $3, send_failed = (send_failed OR $4)
                     WHERE campaign_id = $1 AND point_id = $2",
                )
                .await?;
            client.execute(&statement, &[&campaign, &step.point_id, error, &failed]).await?;
            continue;
        }
        let column = match step.step {
            Step::Send => "sent_at",
            Step::Remind => "reminded_at",
            Step::Escalate => "escalated_at",
        };
        let sql = format!(
            "UPDATE check_targets SET {column} = coalesce({column}, $3), last_error = NULL, send_failed = false
             WHERE campaign_id = $1 AND point_id = $2"
        );
        let statement = client.prepare_cached(&sql).await?;
        client.execute(&statement, &[&campaign, &step.point_id, &step.at]).await?;
        if let Some(token) = &step.token {
            let statement = client
                .prepare_cached(
                    "INSERT INTO check_tokens (token_hash, campaign_id, point_id, issued_at, expires_at)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .await?;
            client
                .execute(
                    &statement,
                    &[&token.token_hash, &campaign, &step.point_id, &step.at, &token.expires_at],
                )
                .await?;
        }
    }
    let summary: Vec<String> = steps
        .iter()
        .map(|step| format!("{} {} {}", step.point_id, step_name(step.step), step.error.is_none()))
        .collect();
    audit(client, at, actor, "check.step", "check", campaign.to_string(), digest_json(&summary)).await
}

pub(crate) async fn check_token<C: GenericClient>(client: &C, token_hash: &str) -> Result<Option<TokenInfo>> {
    let statement = client
        .prepare_cached(
            "SELECT campaign_id, point_id, expires_at, used_at FROM check_tokens WHERE token_hash = $1",
        )
        .await?;
    let Some(row) = client.query_opt(&statement, &[&token_hash]).await? else {
        return Ok(None);
    };
    let (campaign_id, point_id): (Uuid, Uuid) = (row.try_get(0)?, row.try_get(1)?);
    let (expires_at, used_at): (Timestamp, Option<Timestamp>) = (row.try_get(2)?, row.try_get(3)?);
    let (Some(stored), Some(target)) =
        (get_campaign_only(client, campaign_id).await?, target(client, campaign_id, point_id).await?)
    else {
        return Ok(None);
    };
    Ok(Some(TokenInfo { campaign_id, campaign_name: stored.name, target, expires_at, used_at }))
}

async fn get_campaign_only<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<Campaign>> {
    let statement = client.prepare_cached("SELECT body FROM check_campaigns WHERE id = $1").await?;
    let Some(row) = client.query_opt(&statement, &[&id]).await? else {
        return Ok(None);
    };
    let body: String = row.try_get(0)?;
    Ok(Some(decode("check campaign", &body)?))
}

async fn acknowledge<C: GenericClient>(
    client: &C,
    campaign: Uuid,
    point: Uuid,
    at: Timestamp,
    ack: &Acknowledgment,
) -> Result<()> {
    let statement = client
        .prepare_cached(
            "UPDATE check_targets SET acknowledged_at = $3, acknowledged_by = $4, acknowledged_via = $5,
                 user_agent = $6
             WHERE campaign_id = $1 AND point_id = $2 AND acknowledged_at IS NULL",
        )
        .await?;
    let agent = clean_user_agent(ack.user_agent.as_deref());
    client.execute(&statement, &[&campaign, &point, &at, &ack.by, &ack.via, &agent]).await?;
    Ok(())
}

pub(crate) async fn acknowledge_check<C: GenericClient>(
    client: &C,
    now: Timestamp,
    token_hash: &str,
    at: Timestamp,
    ack: &Acknowledgment,
) -> Result<AckOutcome> {
    let Some(info) = check_token(client, token_hash).await? else {
        return Ok(AckOutcome::Unknown);
    };
    if let Some(used) = info.used_at {
        return Ok(AckOutcome::Used { at: used });
    }
    if at >= info.expires_at {
        return Ok(AckOutcome::Expired { at: info.expires_at });
    }
    let statement = client
        .prepare_cached("UPDATE check_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL")
        .await?;
    if client.execute(&statement, &[&token_hash, &at]).await? != 1 {
        return Ok(AckOutcome::Used { at });
    }
    acknowledge(client, info.campaign_id, info.target.point_id, at, ack).await?;
    let actor = format!("link:{}", info.campaign_id);
    let object = format!("{}/{}", info.campaign_id, info.target.point_id);
    audit(
        client,
        now,
        &actor,
        "check.acknowledge",
        "check_target",
        object,
        digest_hex(token_hash.as_bytes()),
    )
    .await?;
    let target = target(client, info.campaign_id, info.target.point_id)
        .await?
        .ok_or_else(|| backend("acknowledged target vanished"))?;
    Ok(AckOutcome::Recorded { campaign_id: info.campaign_id, target: Box::new(target) })
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn acknowledge_check_target<C: GenericClient>(
    client: &C,
    now: Timestamp,
    at: Timestamp,
    actor: &str,
    campaign: Uuid,
    point: Uuid,
    ack: &Acknowledgment,
) -> Result<StoredTarget> {
    let Some(stored) = get_campaign_only(client, campaign).await? else {
        return Err(StoreError::not_found("check", campaign).into());
    };
    let Some(found) = target(client, campaign, point).await? else {
        return Err(StoreError::not_found("check target", point).into());
    };
    if found.state.acknowledged_at.is_some() {
        return Err(
            StoreError::conflict("point", "the contact point has already acknowledged this check").into()
        );
    }
    if at >= stored.deadline {
        return Err(StoreError::conflict("campaign", "the check's deadline has passed").into());
    }
    acknowledge(client, campaign, point, at, ack).await?;
    let object = format!("{campaign}/{point}");
    audit(client, now, actor, "check.acknowledge", "check_target", object, digest_hex(ack.by.as_bytes()))
        .await?;
    target(client, campaign, point).await?.ok_or_else(|| backend("acknowledged target vanished"))
}

pub(crate) async fn get_check<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<StoredCampaign>> {
    let statement =
        client.prepare_cached("SELECT body, created_by FROM check_campaigns WHERE id = $1").await?;
    match client.query_opt(&statement, &[&id]).await? {
        Some(row) => Ok(Some(campaign_row(client, &row).await?)),
        None => Ok(None),
    }
}

pub(crate) async fn list_checks<C: GenericClient>(client: &C) -> Result<Vec<StoredCampaign>> {
    let statement = client
        .prepare_cached("SELECT body, created_by FROM check_campaigns ORDER BY created_at DESC, id")
        .await?;
    let mut found = Vec::new();
    for row in client.query(&statement, &[]).await? {
        found.push(campaign_row(client, &row).await?);
    }
    Ok(found)
}
