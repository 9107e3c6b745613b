//! Constituent notifications: the queue read with its events, the delivery record, and the
//! schedule and suppression state (migration 7).

use deadpool_postgres::GenericClient;
use neretva_model::Timestamp;
use neretva_model::audit::AuditEvent;
use neretva_store::StoreError;
use neretva_store::encode::page;
use neretva_store::notifications::{
    Attempt, ContactDelivery, DeliveryStatus, MessageQuery, NotificationWrite, PendingStatus,
    QueuedNotification, ScheduleState, StoredMessage, already_announced,
};
use sha2::{Digest as _, Sha256};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use crate::codec::{Result, to_u64, truncate, without_nul};
use crate::feeds::{EVENT_COLUMNS, event_from_row};
use crate::ops::append_audit;

/// The most queue entries one read returns.
const MAX_QUEUED: u32 = 100_000;

pub(crate) async fn notification_orgs<C: GenericClient>(client: &C) -> Result<Vec<Uuid>> {
    let statement = client
        .prepare_cached(
            "SELECT DISTINCT org_id FROM notification_queue WHERE taken_at IS NULL ORDER BY org_id",
        )
        .await?;
    client.query(&statement, &[]).await?.iter().map(|row| Ok(row.try_get(0)?)).collect()
}

pub(crate) async fn queued_notifications<C: GenericClient>(
    client: &C,
    org_id: Uuid,
    limit: u32,
) -> Result<Vec<QueuedNotification>> {
    let limit = i64::from(if limit == 0 { 100 } else { limit.min(MAX_QUEUED) });
    // The event's sixteen columns come first, then the queue's two.
    let sql = format!(
        "SELECT {EVENT_COLUMNS}, q.id, q.queued_at FROM notification_queue q
         JOIN events e ON e.id = q.event_id
         WHERE q.taken_at IS NULL AND q.org_id = $1
         ORDER BY q.id LIMIT $2"
    );
    let statement = client.prepare_cached(&sql).await?;
    client
        .query(&statement, &[&org_id, &limit])
        .await?
        .iter()
        .map(|row| {
            Ok(QueuedNotification {
                queue_id: row.try_get(16)?,
                org_id,
                queued_at: row.try_get(17)?,
                event: event_from_row(row)?,
            })
        })
        .collect()
}

pub(crate) async fn suppression_state<C: GenericClient>(
    client: &C,
    org_id: Uuid,
    keys: &[String],
) -> Result<Vec<(String, Timestamp)>> {
    let statement = client
        .prepare_cached(
            "SELECT key, last_notified_at FROM notify_suppression
             WHERE org_id = $1 AND key = ANY($2) AND last_notified_at IS NOT NULL",
        )
        .await?;
    client
        .query(&statement, &[&org_id, &keys])
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect()
}

const MESSAGE_COLUMNS: &str = "id, message_id, org_id, contact_id, email, kind, resend_of, subject, tlp,
    language, encrypted, status, attempts, created_at, last_attempt_at, next_attempt_at, sent_at,
    last_error, event_count, incident_id";

fn message_from_row(row: &Row) -> Result<StoredMessage> {
    let status: String = row.try_get(11)?;
    let attempts: i32 = row.try_get(12)?;
    Ok(StoredMessage {
        id: row.try_get(0)?,
        message_id: row.try_get(1)?,
        org_id: row.try_get(2)?,
        contact_id: row.try_get(3)?,
        email: row.try_get(4)?,
        kind: row.try_get(5)?,
        resend_of: row.try_get(6)?,
        subject: row.try_get(7)?,
        tlp: row.try_get(8)?,
        language: row.try_get(9)?,
        encrypted: row.try_get(10)?,
        status: DeliveryStatus::parse(&status)
            .ok_or_else(|| StoreError::Backend(format!("unknown delivery status {status:?}")))?,
        attempts: u32::try_from(attempts).unwrap_or(0),
        created_at: row.try_get(13)?,
        last_attempt_at: row.try_get(14)?,
        next_attempt_at: row.try_get(15)?,
        sent_at: row.try_get(16)?,
        last_error: row.try_get(17)?,
        event_count: to_u64("event_count", row.try_get(18)?)?,
        incident_id: row.try_get(19)?,
    })
}

pub(crate) async fn get_message<C: GenericClient>(client: &C, id: Uuid) -> Result<Option<StoredMessage>> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM notify_messages WHERE id = $1");
    let statement = client.prepare_cached(&sql).await?;
    client.query_opt(&statement, &[&id]).await?.as_ref().map(message_from_row).transpose()
}

async fn audit<C: GenericClient>(
    client: &C,
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
    append_audit(client, at, event).await?;
    Ok(())
}

pub(crate) async fn record_notifications<C: GenericClient>(
    client: &C,
    at: Timestamp,
    actor: &str,
    write: &NotificationWrite,
) -> Result<Vec<StoredMessage>> {
    let at = truncate(at);
    let org = write.org_id;
    if !write.announcements.is_empty() {
        // Two processes may make the same update at once: the second finds the key taken (after
        // the first commits) and its whole write is refused.
        let announce = client
            .prepare_cached(
                "INSERT INTO notify_announcements (org_id, incident_id, topic, created_at)
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .await?;
        for announcement in &write.announcements {
            let topic = without_nul(&announcement.topic).into_owned();
            let added = client.execute(&announce, &[&org, &announcement.incident_id, &topic, &at]).await?;
            if added == 0 {
                return Err(already_announced(org, announcement).into());
            }
        }
    }
    let insert = client
        .prepare_cached(
            "INSERT INTO notify_messages (id, message_id, org_id, contact_id, email, kind, resend_of, subject,
                 tlp, language, encrypted, status, attempts, created_at, next_attempt_at, last_error,
                 event_count, raw, incident_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13, $14, $15, $16, $17, $18)",
        )
        .await?;
    let insert_events = client
        .prepare_cached(
            "INSERT INTO notify_message_events (message_id, event_id, position)
             SELECT $1, event_id, (position - 1)::integer FROM unnest($2::uuid[]) WITH ORDINALITY AS t(event_id, position)",
        )
        .await?;
    for message in &write.messages {
        let (status, next, error) = match &message.failure {
            None => (DeliveryStatus::Pending, Some(at), None),
            Some(reason) => (DeliveryStatus::Failed, None, Some(without_nul(reason).into_owned())),
        };
        let count = i64::try_from(message.event_ids.len()).unwrap_or(i64::MAX);
        let params: [&(dyn ToSql + Sync); 18] = [
            &message.id,
            &without_nul(&message.message_id).into_owned(),
            &org,
            &message.contact_id,
            &without_nul(&message.email).into_owned(),
            &message.kind,
            &message.resend_of,
            &without_nul(&message.subject).into_owned(),
            &message.tlp,
            &message.language,
            &message.encrypted,
            &status.as_str(),
            &at,
            &next,
            &error,
            &count,
            &message.raw,
            &message.incident_id,
        ];
        client.execute(&insert, &params).await?;
        client.execute(&insert_events, &[&message.id, &message.event_ids]).await?;
        let digest = hex::encode(Sha256::digest(&message.raw));
        audit(client, at, actor, "notification.create", message.id, digest).await?;
    }
    let take = client
        .prepare_cached("UPDATE notification_queue SET taken_at = $1 WHERE org_id = $2 AND id = ANY($3)")
        .await?;
    client.execute(&take, &[&at, &org, &write.taken]).await?;
    let notified = client
        .prepare_cached(
            "INSERT INTO notify_suppression (org_id, key, last_notified_at) SELECT DISTINCT $1::uuid, key, $3::timestamptz FROM unnest($2::text[]) AS t(key)
             ON CONFLICT (org_id, key) DO UPDATE SET last_notified_at = excluded.last_notified_at",
        )
        .await?;
    client.execute(&notified, &[&org, &write.notified_keys, &at]).await?;
    // One row per key and repeat: a key counted twice in one pass counts twice.
    let suppressed = client
        .prepare_cached(
            "INSERT INTO notify_suppression (org_id, key, suppressed) VALUES ($1, $2, 1)
             ON CONFLICT (org_id, key) DO UPDATE SET suppressed = notify_suppression.suppressed + 1",
        )
        .await?;
    for key in &write.suppressed_keys {
        client.execute(&suppressed, &[&org, key]).await?;
    }
    let schedule = client
        .prepare_cached(
            "INSERT INTO notify_schedule_state (org_id, schedule, last_sent_at) VALUES ($1, $2, $3)
             ON CONFLICT (org_id, schedule) DO UPDATE SET last_sent_at = excluded.last_sent_at",
        )
        .await?;
    for name in &write.schedules {
        client.execute(&schedule, &[&org, name, &at]).await?;
    }
    let mut stored = Vec::with_capacity(write.messages.len());
    for message in &write.messages {
        stored.push(
            get_message(client, message.id)
                .await?
                .ok_or_else(|| StoreError::not_found("notification", message.id))?,
        );
    }
    Ok(stored)
}

pub(crate) async fn due_messages<C: GenericClient>(
    client: &C,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<(StoredMessage, Vec<u8>)>> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS}, raw FROM notify_messages
         WHERE status = 'pending' AND next_attempt_at <= $1
         ORDER BY next_attempt_at, id LIMIT $2"
    );
    let statement = client.prepare_cached(&sql).await?;
    client
        .query(&statement, &[&now, &page(limit)])
        .await?
        .iter()
        .map(|row| Ok((message_from_row(row)?, row.try_get(20)?)))
        .collect()
}

pub(crate) async fn record_attempt<C: GenericClient>(
    client: &C,
    id: Uuid,
    at: Timestamp,
    outcome: &Attempt,
) -> Result<StoredMessage> {
    let at = truncate(at);
    let before = get_message(client, id).await?.ok_or_else(|| StoreError::not_found("notification", id))?;
    let (status, next, sent, error) = match outcome {
        Attempt::Sent => (DeliveryStatus::Sent, None, Some(at), before.last_error.clone()),
        Attempt::Retry { error, next_at } => {
            (DeliveryStatus::Pending, Some(truncate(*next_at)), None, Some(without_nul(error).into_owned()))
        }
        Attempt::Failed { error } => {
            (DeliveryStatus::Failed, None, None, Some(without_nul(error).into_owned()))
        }
    };
    let statement = client
        .prepare_cached(
            "UPDATE notify_messages SET status = $2, attempts = attempts + 1, last_attempt_at = $3,
                 next_attempt_at = $4, sent_at = $5, last_error = $6
             WHERE id = $1",
        )
        .await?;
    client.execute(&statement, &[&id, &status.as_str(), &at, &next, &sent, &error]).await?;
    match outcome {
        Attempt::Sent => {
            audit(client, at, "system", "notification.sent", id, before.message_id.clone()).await?
        }
        Attempt::Failed { .. } => {
            audit(client, at, "system", "notification.failed", id, before.message_id.clone()).await?
        }
        Attempt::Retry { .. } => {}
    }
    Ok(get_message(client, id).await?.ok_or_else(|| StoreError::not_found("notification", id))?)
}

pub(crate) async fn message_events<C: GenericClient>(client: &C, id: Uuid) -> Result<Vec<Uuid>> {
    let statement = client
        .prepare_cached("SELECT event_id FROM notify_message_events WHERE message_id = $1 ORDER BY position")
        .await?;
    client.query(&statement, &[&id]).await?.iter().map(|row| Ok(row.try_get(0)?)).collect()
}

pub(crate) async fn list_messages<C: GenericClient>(
    client: &C,
    query: &MessageQuery,
) -> Result<Vec<StoredMessage>> {
    let mut sql = format!("SELECT {MESSAGE_COLUMNS} FROM notify_messages m WHERE true");
    let mut values: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
    let bind = |value: Box<dyn ToSql + Sync + Send>, values: &mut Vec<Box<dyn ToSql + Sync + Send>>| {
        values.push(value);
        format!("${}", values.len())
    };
    if let Some(orgs) = &query.org_ids {
        if orgs.is_empty() {
            return Ok(Vec::new());
        }
        let p = bind(Box::new(orgs.clone()), &mut values);
        sql.push_str(&format!(" AND m.org_id = ANY({p})"));
    }
    if let Some(event) = query.event_id {
        let p = bind(Box::new(event), &mut values);
        sql.push_str(&format!(
            " AND m.id IN (SELECT message_id FROM notify_message_events WHERE event_id = {p})"
        ));
    }
    if let Some(incident) = query.incident_id {
        let p = bind(Box::new(incident), &mut values);
        sql.push_str(&format!(" AND m.incident_id = {p}"));
    }
    if let Some(status) = query.status {
        let p = bind(Box::new(status.as_str().to_owned()), &mut values);
        sql.push_str(&format!(" AND m.status = {p}"));
    }
    if let Some(before) = query.before {
        let p = bind(Box::new(before), &mut values);
        sql.push_str(&format!(" AND m.id < {p}"));
    }
    sql.push_str(&format!(" ORDER BY m.id DESC LIMIT {}", page(query.limit)));
    let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v.as_ref() as &(dyn ToSql + Sync)).collect();
    client.query(&sql, &params).await?.iter().map(message_from_row).collect()
}

pub(crate) async fn schedule_state<C: GenericClient>(client: &C, org_id: Uuid) -> Result<Vec<ScheduleState>> {
    let statement = client
        .prepare_cached(
            "SELECT schedule, last_sent_at FROM notify_schedule_state WHERE org_id = $1 ORDER BY schedule",
        )
        .await?;
    client
        .query(&statement, &[&org_id])
        .await?
        .iter()
        .map(|row| Ok(ScheduleState { org_id, schedule: row.try_get(0)?, last_sent_at: row.try_get(1)? }))
        .collect()
}

pub(crate) async fn suppressed_count<C: GenericClient>(client: &C, org_id: Uuid) -> Result<u64> {
    let statement = client
        .prepare_cached(
            "SELECT coalesce(sum(suppressed), 0)::bigint FROM notify_suppression WHERE org_id = $1",
        )
        .await?;
    let count: i64 = client.query_one(&statement, &[&org_id]).await?.try_get(0)?;
    to_u64("suppressed", count)
}

pub(crate) async fn contact_deliveries<C: GenericClient>(
    client: &C,
    org_id: Uuid,
) -> Result<Vec<ContactDelivery>> {
    let statement = client
        .prepare_cached(
            "SELECT m.email, count(*)::bigint, count(*) FILTER (WHERE m.status = 'sent')::bigint,
                    count(*) FILTER (WHERE m.status = 'failed')::bigint,
                    count(*) FILTER (WHERE m.status = 'pending')::bigint,
                    max(m.sent_at) FILTER (WHERE m.status = 'sent'),
                    max(coalesce(m.last_attempt_at, m.created_at)) FILTER (WHERE m.status = 'failed'),
                    (SELECT f.last_error FROM notify_messages f
                      WHERE f.org_id = m.org_id AND f.email = m.email AND f.status = 'failed'
                      ORDER BY f.id DESC LIMIT 1),
                    (SELECT c.contact_id FROM notify_messages c
                      WHERE c.org_id = m.org_id AND c.email = m.email ORDER BY c.id DESC LIMIT 1)
               FROM notify_messages m WHERE m.org_id = $1 GROUP BY m.org_id, m.email ORDER BY m.email",
        )
        .await?;
    let mut out = Vec::new();
    for row in client.query(&statement, &[&org_id]).await? {
        out.push(ContactDelivery {
            email: row.try_get(0)?,
            messages: to_u64("messages", row.try_get(1)?)?,
            sent: to_u64("sent", row.try_get(2)?)?,
            failed: to_u64("failed", row.try_get(3)?)?,
            pending: to_u64("pending", row.try_get(4)?)?,
            last_sent_at: row.try_get(5)?,
            last_failed_at: row.try_get(6)?,
            last_error: row.try_get(7)?,
            contact_id: row.try_get(8)?,
        });
    }
    Ok(out)
}

pub(crate) async fn pending_status_announcements<C: GenericClient>(
    client: &C,
    limit: u32,
) -> Result<Vec<PendingStatus>> {
    let statement = client
        .prepare_cached(
            "SELECT i.id, o.org_id, i.status FROM incidents i JOIN incident_orgs o ON o.incident_id = i.id
             WHERE i.status <> 'new' AND NOT i.merged
               AND NOT EXISTS (SELECT 1 FROM notify_announcements a
                                WHERE a.org_id = o.org_id AND a.incident_id = i.id
                                  AND a.topic = 'status/' || i.status)
             ORDER BY i.id, o.org_id LIMIT $1",
        )
        .await?;
    let limit = page(limit);
    let mut pending = Vec::new();
    for row in client.query(&statement, &[&limit]).await? {
        let status: String = row.try_get(2)?;
        let status = status
            .parse()
            .map_err(|error| StoreError::Backend(format!("stored incident status: {error}")))?;
        pending.push(PendingStatus { incident_id: row.try_get(0)?, org_id: row.try_get(1)?, status });
    }
    Ok(pending)
}

pub(crate) async fn announced<C: GenericClient>(
    client: &C,
    org_id: Uuid,
    incident_id: Uuid,
) -> Result<Vec<String>> {
    let statement = client
        .prepare_cached(
            "SELECT topic FROM notify_announcements WHERE org_id = $1 AND incident_id = $2 ORDER BY topic",
        )
        .await?;
    client.query(&statement, &[&org_id, &incident_id]).await?.iter().map(|row| Ok(row.try_get(0)?)).collect()
}
