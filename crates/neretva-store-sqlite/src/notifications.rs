//! Constituent notifications: the queue read with its events, the delivery record, and the
//! schedule and suppression state (migration 7).

use neretva_model::Timestamp;
use neretva_model::audit::AuditEvent;
use neretva_store::StoreError;
use neretva_store::encode::{page, without_nul};
use neretva_store::notifications::{
    Attempt, ContactDelivery, DeliveryStatus, MessageQuery, NotificationWrite, PendingStatus,
    QueuedNotification, ScheduleState, StoredMessage, already_announced,
};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use crate::codec::{Result, micros, opt_time_col, time_col, u64_col, uuid_blob_col};
use crate::event_blocks::BLOCK_JOIN;
use crate::feeds::{EVENT_COLUMNS, event_from_row};
use crate::ops::append_audit;

/// The most queue entries one read returns.
const MAX_QUEUED: u32 = 100_000;

fn blob(id: Uuid) -> Vec<u8> {
    id.as_bytes().to_vec()
}

pub(crate) fn notification_orgs(conn: &Connection) -> Result<Vec<Uuid>> {
    let mut statement = conn.prepare_cached(
        "SELECT DISTINCT org_id FROM notification_queue WHERE taken_at IS NULL ORDER BY org_id",
    )?;
    let rows = statement.query_map([], |row| uuid_blob_col(row, 0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn queued_notifications(
    conn: &Connection,
    org_id: Uuid,
    limit: u32,
) -> Result<Vec<QueuedNotification>> {
    let limit = if limit == 0 { 100 } else { limit.min(MAX_QUEUED) };
    let sql = format!(
        "SELECT {EVENT_COLUMNS}, q.id, q.queued_at FROM notification_queue q
         JOIN events e ON e.id = q.event_id {BLOCK_JOIN}
         WHERE q.taken_at IS NULL AND q.org_id = ?1
         ORDER BY q.id LIMIT ?2"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map(params![blob(org_id), limit], |row| {
        // The event's sixteen columns come first, then the queue's two.
        let event = event_from_row(row)?;
        Ok(QueuedNotification { queue_id: row.get(16)?, org_id, queued_at: time_col(row, 17)?, event })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn suppression_state(
    conn: &Connection,
    org_id: Uuid,
    keys: &[String],
) -> Result<Vec<(String, Timestamp)>> {
    let mut statement = conn.prepare_cached(
        "SELECT last_notified_at FROM notify_suppression
         WHERE org_id = ?1 AND key = ?2 AND last_notified_at IS NOT NULL",
    )?;
    let mut found = Vec::new();
    for key in keys {
        if let Some(at) =
            statement.query_row(params![blob(org_id), key], |row| time_col(row, 0)).optional()?
        {
            found.push((key.clone(), at));
        }
    }
    Ok(found)
}

const MESSAGE_COLUMNS: &str = "id, message_id, org_id, contact_id, email, kind, resend_of, subject, tlp,
    language, encrypted, status, attempts, created_at, last_attempt_at, next_attempt_at, sent_at,
    last_error, event_count, incident_id";

fn message_from_row(row: &Row<'_>) -> rusqlite::Result<StoredMessage> {
    let opt_uuid = |index: usize| -> rusqlite::Result<Option<Uuid>> {
        match row.get::<_, Option<Vec<u8>>>(index)? {
            None => Ok(None),
            Some(_) => uuid_blob_col(row, index).map(Some),
        }
    };
    let status: String = row.get(11)?;
    Ok(StoredMessage {
        id: uuid_blob_col(row, 0)?,
        message_id: row.get(1)?,
        org_id: uuid_blob_col(row, 2)?,
        contact_id: opt_uuid(3)?,
        email: row.get(4)?,
        kind: row.get(5)?,
        resend_of: opt_uuid(6)?,
        subject: row.get(7)?,
        tlp: row.get(8)?,
        language: row.get(9)?,
        encrypted: row.get(10)?,
        status: DeliveryStatus::parse(&status).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                11,
                rusqlite::types::Type::Text,
                format!("unknown delivery status {status:?}").into(),
            )
        })?,
        attempts: u32::try_from(u64_col(row, 12)?).unwrap_or(u32::MAX),
        created_at: time_col(row, 13)?,
        last_attempt_at: opt_time_col(row, 14)?,
        next_attempt_at: opt_time_col(row, 15)?,
        sent_at: opt_time_col(row, 16)?,
        last_error: row.get(17)?,
        event_count: u64_col(row, 18)?,
        incident_id: opt_uuid(19)?,
    })
}

pub(crate) fn get_message(conn: &Connection, id: Uuid) -> Result<Option<StoredMessage>> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM notify_messages WHERE id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([blob(id)], message_from_row).optional()?)
}

fn audit(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    action: &str,
    id: Uuid,
    digest: String,
) -> Result<()> {
    let event = AuditEvent {
        actor: actor.to_owned(),
        action: action.to_owned(),
        object_type: "notification".into(),
        object_id: id.to_string(),
        digest,
    };
    append_audit(conn, at, event)?;
    Ok(())
}

pub(crate) fn record_notifications(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    write: &NotificationWrite,
) -> Result<Vec<StoredMessage>> {
    let org = blob(write.org_id);
    let mut announce = conn.prepare_cached(
        "INSERT INTO notify_announcements (org_id, incident_id, topic, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT DO NOTHING",
    )?;
    for announcement in &write.announcements {
        let added = announce.execute(params![
            write.org_id.to_string(),
            announcement.incident_id.to_string(),
            without_nul(&announcement.topic),
            micros(at)
        ])?;
        if added == 0 {
            return Err(already_announced(write.org_id, announcement).into());
        }
    }
    let mut insert = conn.prepare_cached(
        "INSERT INTO notify_messages (id, message_id, org_id, contact_id, email, kind, resend_of, subject,
             tlp, language, encrypted, status, attempts, created_at, next_attempt_at, last_error,
             event_count, raw, incident_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 0, ?13, ?14, ?15, ?16, ?17, ?18)",
    )?;
    let mut insert_event = conn.prepare_cached(
        "INSERT INTO notify_message_events (message_id, event_id, position) VALUES (?1, ?2, ?3)",
    )?;
    for message in &write.messages {
        let (status, next, error) = match &message.failure {
            None => (DeliveryStatus::Pending, Some(micros(at)), None),
            Some(reason) => (DeliveryStatus::Failed, None, Some(without_nul(reason).into_owned())),
        };
        insert.execute(params![
            blob(message.id),
            without_nul(&message.message_id),
            org,
            message.contact_id.map(blob),
            without_nul(&message.email),
            message.kind,
            message.resend_of.map(blob),
            without_nul(&message.subject),
            message.tlp,
            message.language,
            message.encrypted,
            status.as_str(),
            micros(at),
            next,
            error,
            i64::try_from(message.event_ids.len()).unwrap_or(i64::MAX),
            message.raw,
            message.incident_id.map(blob),
        ])?;
        for (position, event_id) in message.event_ids.iter().enumerate() {
            insert_event.execute(params![blob(message.id), blob(*event_id), position as i64])?;
        }
        let digest = hex::encode(Sha256::digest(&message.raw));
        audit(conn, at, actor, "notification.create", message.id, digest)?;
    }
    let mut take =
        conn.prepare_cached("UPDATE notification_queue SET taken_at = ?1 WHERE id = ?2 AND org_id = ?3")?;
    for queue_id in &write.taken {
        take.execute(params![micros(at), queue_id, org])?;
    }
    let mut notified = conn.prepare_cached(
        "INSERT INTO notify_suppression (org_id, key, last_notified_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (org_id, key) DO UPDATE SET last_notified_at = excluded.last_notified_at",
    )?;
    for key in &write.notified_keys {
        notified.execute(params![org, key, micros(at)])?;
    }
    let mut suppressed = conn.prepare_cached(
        "INSERT INTO notify_suppression (org_id, key, suppressed) VALUES (?1, ?2, 1)
         ON CONFLICT (org_id, key) DO UPDATE SET suppressed = suppressed + 1",
    )?;
    for key in &write.suppressed_keys {
        suppressed.execute(params![org, key])?;
    }
    let mut schedule = conn.prepare_cached(
        "INSERT INTO notify_schedule_state (org_id, schedule, last_sent_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (org_id, schedule) DO UPDATE SET last_sent_at = excluded.last_sent_at",
    )?;
    for name in &write.schedules {
        schedule.execute(params![org, name, micros(at)])?;
    }
    let mut stored = Vec::with_capacity(write.messages.len());
    for message in &write.messages {
        stored.push(
            get_message(conn, message.id)?
                .ok_or_else(|| StoreError::not_found("notification", message.id))?,
        );
    }
    Ok(stored)
}

pub(crate) fn due_messages(
    conn: &Connection,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<(StoredMessage, Vec<u8>)>> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS}, raw FROM notify_messages
         WHERE status = 'pending' AND next_attempt_at <= ?1
         ORDER BY next_attempt_at, id LIMIT ?2"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement
        .query_map(params![micros(now), page(limit)], |row| Ok((message_from_row(row)?, row.get(20)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn record_attempt(
    conn: &Connection,
    id: Uuid,
    at: Timestamp,
    outcome: &Attempt,
) -> Result<StoredMessage> {
    let before = get_message(conn, id)?.ok_or_else(|| StoreError::not_found("notification", id))?;
    let (status, next, sent, error) = match outcome {
        Attempt::Sent => (DeliveryStatus::Sent, None, Some(micros(at)), before.last_error.clone()),
        Attempt::Retry { error, next_at } => {
            (DeliveryStatus::Pending, Some(micros(*next_at)), None, Some(without_nul(error).into_owned()))
        }
        Attempt::Failed { error } => {
            (DeliveryStatus::Failed, None, None, Some(without_nul(error).into_owned()))
        }
    };
    conn.prepare_cached(
        "UPDATE notify_messages SET status = ?2, attempts = attempts + 1, last_attempt_at = ?3,
             next_attempt_at = ?4, sent_at = ?5, last_error = ?6
         WHERE id = ?1",
    )?
    .execute(params![blob(id), status.as_str(), micros(at), next, sent, error])?;
    match outcome {
        Attempt::Sent => audit(conn, at, "system", "notification.sent", id, before.message_id.clone())?,
        Attempt::Failed { .. } => {
            audit(conn, at, "system", "notification.failed", id, before.message_id.clone())?
        }
        Attempt::Retry { .. } => {}
    }
    Ok(get_message(conn, id)?.ok_or_else(|| StoreError::not_found("notification", id))?)
}

pub(crate) fn message_events(conn: &Connection, id: Uuid) -> Result<Vec<Uuid>> {
    let mut statement = conn.prepare_cached(
        "SELECT event_id FROM notify_message_events WHERE message_id = ?1 ORDER BY position",
    )?;
    let rows = statement.query_map([blob(id)], |row| uuid_blob_col(row, 0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn list_messages(conn: &Connection, query: &MessageQuery) -> Result<Vec<StoredMessage>> {
    let mut sql = format!("SELECT {MESSAGE_COLUMNS} FROM notify_messages m WHERE 1 = 1");
    let mut values: Vec<Value> = Vec::new();
    if let Some(orgs) = &query.org_ids {
        if orgs.is_empty() {
            return Ok(Vec::new());
        }
        sql.push_str(&format!(" AND m.org_id IN ({})", vec!["?"; orgs.len()].join(", ")));
        values.extend(orgs.iter().map(|id| Value::Blob(blob(*id))));
    }
    if let Some(event) = query.event_id {
        sql.push_str(" AND m.id IN (SELECT message_id FROM notify_message_events WHERE event_id = ?)");
        values.push(Value::Blob(blob(event)));
    }
    if let Some(incident) = query.incident_id {
        sql.push_str(" AND m.incident_id = ?");
        values.push(Value::Blob(blob(incident)));
    }
    if let Some(status) = query.status {
        sql.push_str(" AND m.status = ?");
        values.push(Value::Text(status.as_str().to_owned()));
    }
    if let Some(before) = query.before {
        sql.push_str(" AND m.id < ?");
        values.push(Value::Blob(blob(before)));
    }
    sql.push_str(&format!(" ORDER BY m.id DESC LIMIT {}", page(query.limit)));
    let mut statement = conn.prepare(&sql)?;
    let rows = statement.query_map(params_from_iter(values), message_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn schedule_state(conn: &Connection, org_id: Uuid) -> Result<Vec<ScheduleState>> {
    let mut statement = conn.prepare_cached(
        "SELECT schedule, last_sent_at FROM notify_schedule_state WHERE org_id = ?1 ORDER BY schedule",
    )?;
    let rows = statement.query_map([blob(org_id)], |row| {
        Ok(ScheduleState { org_id, schedule: row.get(0)?, last_sent_at: time_col(row, 1)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn suppressed_count(conn: &Connection, org_id: Uuid) -> Result<u64> {
    let count: i64 = conn
        .prepare_cached("SELECT coalesce(sum(suppressed), 0) FROM notify_suppression WHERE org_id = ?1")?
        .query_row([blob(org_id)], |row| row.get(0))?;
    Ok(u64::try_from(count).unwrap_or(0))
}

pub(crate) fn contact_deliveries(conn: &Connection, org_id: Uuid) -> Result<Vec<ContactDelivery>> {
    let mut statement = conn.prepare_cached(
        "SELECT m.email, count(*), sum(m.status = 'sent'), sum(m.status = 'failed'),
                sum(m.status = 'pending'),
                max(CASE WHEN m.status = 'sent' THEN m.sent_at END),
                max(CASE WHEN m.status = 'failed' THEN coalesce(m.last_attempt_at, m.created_at) END),
                (SELECT f.last_error FROM notify_messages f
                  WHERE f.org_id = m.org_id AND f.email = m.email AND f.status = 'failed'
                  ORDER BY f.id DESC LIMIT 1),
                (SELECT c.contact_id FROM notify_messages c
                  WHERE c.org_id = m.org_id AND c.email = m.email ORDER BY c.id DESC LIMIT 1)
           FROM notify_messages m WHERE m.org_id = ?1 GROUP BY m.org_id, m.email ORDER BY m.email",
    )?;
    let rows = statement.query_map([blob(org_id)], |row| {
        Ok(ContactDelivery {
            email: row.get(0)?,
            messages: u64_col(row, 1)?,
            sent: u64_col(row, 2)?,
            failed: u64_col(row, 3)?,
            pending: u64_col(row, 4)?,
            last_sent_at: opt_time_col(row, 5)?,
            last_failed_at: opt_time_col(row, 6)?,
            last_error: row.get(7)?,
            contact_id: match row.get::<_, Option<Vec<u8>>>(8)? {
                None => None,
                Some(_) => Some(uuid_blob_col(row, 8)?),
            },
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn pending_status_announcements(conn: &Connection, limit: u32) -> Result<Vec<PendingStatus>> {
    let mut statement = conn.prepare_cached(
        "SELECT i.id, o.org_id, i.status FROM incidents i JOIN incident_orgs o ON o.incident_id = i.id
         WHERE i.status <> 'new' AND i.merged = 0
           AND NOT EXISTS (SELECT 1 FROM notify_announcements a
                            WHERE a.org_id = o.org_id AND a.incident_id = i.id
                              AND a.topic = 'status/' || i.status)
         ORDER BY i.id, o.org_id LIMIT ?1",
    )?;
    let rows = statement.query_map([page(limit)], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?))
    })?;
    let mut pending = Vec::new();
    for row in rows {
        let (incident, org, status) = row?;
        let parse = |text: &str| {
            Uuid::parse_str(text).map_err(|error| StoreError::Backend(format!("stored id {text:?}: {error}")))
        };
        let status = status
            .parse()
            .map_err(|error| StoreError::Backend(format!("stored incident status: {error}")))?;
        pending.push(PendingStatus { incident_id: parse(&incident)?, org_id: parse(&org)?, status });
    }
    Ok(pending)
}

pub(crate) fn announced(conn: &Connection, org_id: Uuid, incident_id: Uuid) -> Result<Vec<String>> {
    let mut statement = conn.prepare_cached(
        "SELECT topic FROM notify_announcements WHERE org_id = ?1 AND incident_id = ?2 ORDER BY topic",
    )?;
    let rows = statement.query_map(params![org_id.to_string(), incident_id.to_string()], |row| row.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
