//! The contact-point directory, RFC 2350 team profiles and communication checks on SQLite.

use neretva_governance::checks::{Campaign, Step, TargetState};
use neretva_governance::contact_points::{ContactPoint, MAX_POINTS_PER_ORG};
use neretva_governance::rfc2350::TeamProfile;
use neretva_model::Timestamp;
use neretva_model::audit::{digest_hex, digest_json};
use neretva_store::StoreError;
use neretva_store::contact_points::{
    AckOutcome, Acknowledgment, StepRecord, StoredCampaign, StoredPoint, StoredProfile, StoredTarget,
    TokenInfo, campaign_digest, check_targets, clean_user_agent, encode, point_digest, profile_digest,
    step_name, version_conflict,
};
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use crate::codec::{Result, json_col, micros, opt_time_col, parse_col, time_col, uuid_col};
use crate::ops::audit_object as audit;

const POINT_COLUMNS: &str = "body, version, created_at, updated_at";

fn point_row(row: &Row<'_>) -> rusqlite::Result<StoredPoint> {
    Ok(StoredPoint {
        point: json_col(row, 0)?,
        version: row.get(1)?,
        created_at: time_col(row, 2)?,
        updated_at: time_col(row, 3)?,
    })
}

fn org_exists(conn: &Connection, org: Uuid) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM organisations WHERE id = ?1")?
        .query_row([org.to_string()], |_| Ok(()))
        .optional()?
        .is_some())
}

pub(crate) fn create_contact_point(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    point: &ContactPoint,
) -> Result<StoredPoint> {
    let body = encode(point)?;
    if !org_exists(conn, point.org_id)? {
        return Err(StoreError::conflict("org_id", format!("no organisation {}", point.org_id)).into());
    }
    if get_contact_point(conn, point.id)?.is_some() {
        return Err(StoreError::conflict("id", "a contact point with this id already exists").into());
    }
    let count: i64 = conn
        .prepare_cached("SELECT count(*) FROM contact_points WHERE org_id = ?1")?
        .query_row([point.org_id.to_string()], |row| row.get(0))?;
    if count >= MAX_POINTS_PER_ORG as i64 {
        return Err(StoreError::conflict(
            "org_id",
            format!("the organisation has {MAX_POINTS_PER_ORG} contact points, the most it may have"),
        )
        .into());
    }
    conn.prepare_cached(
        "INSERT INTO contact_points (id, org_id, kind, email, version, body, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?6)",
    )?
    .execute(params![
        point.id.to_string(),
        point.org_id.to_string(),
        point.kind.tag(),
        point.email,
        body,
        micros(at)
    ])?;
    audit(
        conn,
        at,
        actor,
        "contact_point.create",
        "contact_point",
        point.id.to_string(),
        point_digest(point),
    )?;
    Ok(StoredPoint { point: point.clone(), version: 1, created_at: at, updated_at: at })
}

pub(crate) fn update_contact_point(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    point: &ContactPoint,
    expected_version: i64,
) -> Result<StoredPoint> {
    let body = encode(point)?;
    let Some(old) = get_contact_point(conn, point.id)? else {
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
    conn.prepare_cached(
        "UPDATE contact_points SET kind = ?2, email = ?3, version = ?4, body = ?5, updated_at = ?6 WHERE id = ?1",
    )?
    .execute(params![point.id.to_string(), point.kind.tag(), point.email, version, body, micros(at)])?;
    audit(
        conn,
        at,
        actor,
        "contact_point.update",
        "contact_point",
        point.id.to_string(),
        point_digest(point),
    )?;
    Ok(StoredPoint { point: point.clone(), version, created_at: old.created_at, updated_at: at })
}

pub(crate) fn delete_contact_point(conn: &Connection, at: Timestamp, actor: &str, id: Uuid) -> Result<()> {
    let Some(old) = get_contact_point(conn, id)? else {
        return Err(StoreError::not_found("contact point", id).into());
    };
    conn.prepare_cached("DELETE FROM contact_points WHERE id = ?1")?.execute([id.to_string()])?;
    audit(conn, at, actor, "contact_point.delete", "contact_point", id.to_string(), point_digest(&old.point))
}

pub(crate) fn get_contact_point(conn: &Connection, id: Uuid) -> Result<Option<StoredPoint>> {
    let sql = format!("SELECT {POINT_COLUMNS} FROM contact_points WHERE id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id.to_string()], point_row).optional()?)
}

pub(crate) fn list_contact_points(conn: &Connection, org: Option<Uuid>) -> Result<Vec<StoredPoint>> {
    let sql = format!(
        "SELECT {POINT_COLUMNS} FROM contact_points WHERE ?1 IS NULL OR org_id = ?1 ORDER BY org_id, kind, email, id"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map([org.map(|id| id.to_string())], point_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn put_team_profile(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    profile: &TeamProfile,
) -> Result<StoredProfile> {
    let body = encode(profile)?;
    if !org_exists(conn, profile.org_id)? {
        return Err(StoreError::conflict("org_id", format!("no organisation {}", profile.org_id)).into());
    }
    conn.prepare_cached(
        "INSERT INTO team_profiles (org_id, body, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (org_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
    )?
    .execute(params![profile.org_id.to_string(), body, micros(at)])?;
    audit(
        conn,
        at,
        actor,
        "team_profile.put",
        "team_profile",
        profile.org_id.to_string(),
        profile_digest(profile),
    )?;
    Ok(StoredProfile { profile: profile.clone(), updated_at: at })
}

pub(crate) fn get_team_profile(conn: &Connection, org: Uuid) -> Result<Option<StoredProfile>> {
    Ok(conn
        .prepare_cached("SELECT body, updated_at FROM team_profiles WHERE org_id = ?1")?
        .query_row([org.to_string()], |row| {
            Ok(StoredProfile { profile: json_col(row, 0)?, updated_at: time_col(row, 1)? })
        })
        .optional()?)
}

const TARGET_COLUMNS: &str = "point_id, org_id, kind, name, email, language, sent_at, send_failed, last_error, \
     reminded_at, escalated_at, acknowledged_at, acknowledged_by, acknowledged_via, user_agent";

fn target_row(row: &Row<'_>) -> rusqlite::Result<StoredTarget> {
    Ok(StoredTarget {
        point_id: uuid_col(row, 0)?,
        org_id: uuid_col(row, 1)?,
        kind: parse_col(row, 2)?,
        name: row.get(3)?,
        email: row.get(4)?,
        language: parse_col(row, 5)?,
        state: TargetState {
            sent_at: opt_time_col(row, 6)?,
            send_failed: row.get(7)?,
            reminded_at: opt_time_col(row, 9)?,
            escalated_at: opt_time_col(row, 10)?,
            acknowledged_at: opt_time_col(row, 11)?,
        },
        last_error: row.get(8)?,
        acknowledged_by: row.get(12)?,
        acknowledged_via: row.get(13)?,
        user_agent: row.get(14)?,
    })
}

fn targets(conn: &Connection, campaign: Uuid) -> Result<Vec<StoredTarget>> {
    let sql = format!(
        "SELECT {TARGET_COLUMNS} FROM check_targets WHERE campaign_id = ?1 ORDER BY org_id, kind, email, point_id"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map([campaign.to_string()], target_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn target(conn: &Connection, campaign: Uuid, point: Uuid) -> Result<Option<StoredTarget>> {
    let sql = format!("SELECT {TARGET_COLUMNS} FROM check_targets WHERE campaign_id = ?1 AND point_id = ?2");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([campaign.to_string(), point.to_string()], target_row)
        .optional()?)
}

fn campaign_row(conn: &Connection, row: &Row<'_>) -> Result<StoredCampaign> {
    let campaign: Campaign = json_col(row, 0)?;
    let created_by: String = row.get(1)?;
    let targets = targets(conn, campaign.id)?;
    Ok(StoredCampaign { campaign, created_by, targets })
}

pub(crate) fn create_check(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    campaign: &Campaign,
    points: &[ContactPoint],
) -> Result<StoredCampaign> {
    check_targets(points)?;
    let body = encode(campaign)?;
    if get_check(conn, campaign.id)?.is_some() {
        return Err(StoreError::conflict("id", "a campaign with this id already exists").into());
    }
    conn.prepare_cached(
        "INSERT INTO check_campaigns (id, body, created_by, created_at, deadline) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        campaign.id.to_string(),
        body,
        actor,
        micros(campaign.created_at),
        micros(campaign.deadline)
    ])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO check_targets (campaign_id, point_id, org_id, kind, name, email, language)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for (index, point) in points.iter().enumerate() {
        if get_contact_point(conn, point.id)?.is_none() {
            return Err(StoreError::conflict(
                format!("targets[{index}]"),
                format!("no contact point {}", point.id),
            )
            .into());
        }
        insert.execute(params![
            campaign.id.to_string(),
            point.id.to_string(),
            point.org_id.to_string(),
            point.kind.tag(),
            point.name,
            point.email,
            point.language.tag()
        ])?;
    }
    audit(conn, at, actor, "check.create", "check", campaign.id.to_string(), campaign_digest(campaign))?;
    Ok(StoredCampaign {
        campaign: campaign.clone(),
        created_by: actor.to_owned(),
        targets: targets(conn, campaign.id)?,
    })
}

pub(crate) fn record_check_steps(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    campaign: Uuid,
    steps: &[StepRecord],
) -> Result<()> {
    if get_check(conn, campaign)?.is_none() {
        return Err(StoreError::not_found("check", campaign).into());
    }
    for (index, step) in steps.iter().enumerate() {
        if target(conn, campaign, step.point_id)?.is_none() {
            return Err(StoreError::conflict(
                format!("steps[{index}].point_id"),
                format!("contact point {} is not a target of the campaign", step.point_id),
            )
            .into());
        }
        let (id, point) = (campaign.to_string(), step.point_id.to_string());
        if let Some(error) = &step.error {
            let failed = step.step == Step::Send;
            conn.prepare_cached(
                "UPDATE check_targets SET last_error = ?3, send_failed = (send_failed OR ?4)
                 WHERE campaign_id = ?1 AND point_id = ?2",
            )?
            .execute(params![id, point, error, failed])?;
            continue;
        }
        let column = match step.step {
            Step::Send => "sent_at",
            Step::Remind => "reminded_at",
            Step::Escalate => "escalated_at",
        };
        let sql = format!(
            "UPDATE check_targets SET {column} = coalesce({column}, ?3), last_error = NULL, send_failed = 0
             WHERE campaign_id = ?1 AND point_id = ?2"
        );
        conn.prepare_cached(&sql)?.execute(params![id, point, micros(step.at)])?;
        if let Some(token) = &step.token {
            conn.prepare_cached(
                "INSERT INTO check_tokens (token_hash, campaign_id, point_id, issued_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                token.token_hash,
                id,
                point,
                micros(step.at),
                micros(token.expires_at)
            ])?;
        }
    }
    let summary: Vec<String> = steps
        .iter()
        .map(|step| format!("{} {} {}", step.point_id, step_name(step.step), step.error.is_none()))
        .collect();
    audit(conn, at, actor, "check.step", "check", campaign.to_string(), digest_json(&summary))
}

pub(crate) fn check_token(conn: &Connection, token_hash: &str) -> Result<Option<TokenInfo>> {
    let found = conn
        .prepare_cached(
            "SELECT campaign_id, point_id, expires_at, used_at FROM check_tokens WHERE token_hash = ?1",
        )?
        .query_row([token_hash], |row| {
            Ok((uuid_col(row, 0)?, uuid_col(row, 1)?, time_col(row, 2)?, opt_time_col(row, 3)?))
        })
        .optional()?;
    let Some((campaign_id, point_id, expires_at, used_at)) = found else {
        return Ok(None);
    };
    let name: Option<Campaign> = conn
        .prepare_cached("SELECT body FROM check_campaigns WHERE id = ?1")?
        .query_row([campaign_id.to_string()], |row| json_col(row, 0))
        .optional()?;
    let (Some(campaign), Some(target)) = (name, target(conn, campaign_id, point_id)?) else {
        return Ok(None);
    };
    Ok(Some(TokenInfo { campaign_id, campaign_name: campaign.name, target, expires_at, used_at }))
}

fn acknowledge(
    conn: &Connection,
    campaign: Uuid,
    point: Uuid,
    at: Timestamp,
    ack: &Acknowledgment,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE check_targets SET acknowledged_at = ?3, acknowledged_by = ?4, acknowledged_via = ?5, user_agent = ?6
         WHERE campaign_id = ?1 AND point_id = ?2 AND acknowledged_at IS NULL",
    )?
    .execute(params![
        campaign.to_string(),
        point.to_string(),
        micros(at),
        ack.by,
        ack.via,
        clean_user_agent(ack.user_agent.as_deref())
    ])?;
    Ok(())
}

pub(crate) fn acknowledge_check(
    conn: &Connection,
    now: Timestamp,
    token_hash: &str,
    at: Timestamp,
    ack: &Acknowledgment,
) -> Result<AckOutcome> {
    let Some(info) = check_token(conn, token_hash)? else {
        return Ok(AckOutcome::Unknown);
    };
    if let Some(used) = info.used_at {
        return Ok(AckOutcome::Used { at: used });
    }
    if at >= info.expires_at {
        return Ok(AckOutcome::Expired { at: info.expires_at });
    }
    let changed = conn
        .prepare_cached("UPDATE check_tokens SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL")?
        .execute(params![token_hash, micros(at)])?;
    if changed != 1 {
        return Ok(AckOutcome::Used { at });
    }
    acknowledge(conn, info.campaign_id, info.target.point_id, at, ack)?;
    let actor = format!("link:{}", info.campaign_id);
    let object = format!("{}/{}", info.campaign_id, info.target.point_id);
    audit(conn, now, &actor, "check.acknowledge", "check_target", object, digest_hex(token_hash.as_bytes()))?;
    let target = target(conn, info.campaign_id, info.target.point_id)?
        .ok_or_else(|| StoreError::Backend("acknowledged target vanished".into()))?;
    Ok(AckOutcome::Recorded { campaign_id: info.campaign_id, target: Box::new(target) })
}

pub(crate) fn acknowledge_check_target(
    conn: &Connection,
    now: Timestamp,
    at: Timestamp,
    actor: &str,
    campaign: Uuid,
    point: Uuid,
    ack: &Acknowledgment,
) -> Result<StoredTarget> {
    let Some(stored) = get_check(conn, campaign)? else {
        return Err(StoreError::not_found("check", campaign).into());
    };
    let Some(found) = target(conn, campaign, point)? else {
        return Err(StoreError::not_found("check target", point).into());
    };
    if found.state.acknowledged_at.is_some() {
        return Err(
            StoreError::conflict("point", "the contact point has already acknowledged this check").into()
        );
    }
    if at >= stored.campaign.deadline {
        return Err(StoreError::conflict("campaign", "the check's deadline has passed").into());
    }
    acknowledge(conn, campaign, point, at, ack)?;
    let object = format!("{campaign}/{point}");
    audit(conn, now, actor, "check.acknowledge", "check_target", object, digest_hex(ack.by.as_bytes()))?;
    Ok(target(conn, campaign, point)?
        .ok_or_else(|| StoreError::Backend("acknowledged target vanished".into()))?)
}

pub(crate) fn get_check(conn: &Connection, id: Uuid) -> Result<Option<StoredCampaign>> {
    let mut statement = conn.prepare_cached("SELECT body, created_by FROM check_campaigns WHERE id = ?1")?;
    let mut rows = statement.query([id.to_string()])?;
    match rows.next()? {
        Some(row) => Ok(Some(campaign_row(conn, row)?)),
        None => Ok(None),
    }
}

pub(crate) fn list_checks(conn: &Connection) -> Result<Vec<StoredCampaign>> {
    let mut statement =
        conn.prepare_cached("SELECT body, created_by FROM check_campaigns ORDER BY created_at DESC, id")?;
    let mut rows = statement.query([])?;
    let mut found = Vec::new();
    while let Some(row) = rows.next()? {
        found.push(campaign_row(conn, row)?);
    }
    Ok(found)
}
