//! The schema's migrations, embedded in the binary and tracked in `schema_migrations`.

use neretva_store::{SchemaStatus, StoreError};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::codec::{Result, micros, now};

/// A numbered SQL script.
pub(crate) struct Migration {
    pub(crate) version: i64,
    pub(crate) name: &'static str,
    pub(crate) sql: &'static str,
}

/// Every migration this binary knows, in order.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "foundation", sql: include_str!("../migrations/0001_foundation.sql") },
    Migration { version: 2, name: "feeds", sql: include_str!("../migrations/0002_feeds.sql") },
    Migration { version: 3, name: "event_search", sql: include_str!("../migrations/0003_event_search.sql") },
    Migration { version: 4, name: "incidents", sql: include_str!("../migrations/0004_incidents.sql") },
    Migration { version: 5, name: "taxii", sql: include_str!("../migrations/0005_taxii.sql") },
    Migration { version: 6, name: "intel", sql: include_str!("../migrations/0006_intel.sql") },
    Migration {
        version: 7,
        name: "notifications",
        sql: include_str!("../migrations/0007_notifications.sql"),
    },
    Migration {
        version: 8,
        name: "contact_clearance",
        sql: include_str!("../migrations/0008_contact_clearance.sql"),
    },
    Migration { version: 9, name: "intel_ids", sql: include_str!("../migrations/0009_intel_ids.sql") },
    Migration {
        version: 10,
        name: "intel_sharing",
        sql: include_str!("../migrations/0010_intel_sharing.sql"),
    },
    Migration {
        version: 11,
        name: "intel_links_target",
        sql: include_str!("../migrations/0011_intel_links_target.sql"),
    },
    Migration { version: 12, name: "governance", sql: include_str!("../migrations/0012_governance.sql") },
    Migration {
        version: 13,
        name: "incident_updates",
        sql: include_str!("../migrations/0013_incident_updates.sql"),
    },
    Migration {
        version: 14,
        name: "contact_points",
        sql: include_str!("../migrations/0014_contact_points.sql"),
    },
    Migration { version: 15, name: "records", sql: include_str!("../migrations/0015_records.sql") },
    Migration {
        version: 16,
        name: "working_groups",
        sql: include_str!("../migrations/0016_working_groups.sql"),
    },
    Migration { version: 17, name: "learning", sql: include_str!("../migrations/0017_learning.sql") },
    Migration { version: 18, name: "training", sql: include_str!("../migrations/0018_training.sql") },
    Migration { version: 19, name: "exercises", sql: include_str!("../migrations/0019_exercises.sql") },
    Migration {
        version: 20,
        name: "event_rollups",
        sql: include_str!("../migrations/0020_event_rollups.sql"),
    },
    Migration {
        version: 21,
        name: "event_window_indexes",
        sql: include_str!("../migrations/0021_event_window_indexes.sql"),
    },
    Migration {
        version: 22,
        name: "report_retention",
        sql: include_str!("../migrations/0022_report_retention.sql"),
    },
    Migration {
        version: 23,
        name: "source_records",
        sql: include_str!("../migrations/0023_source_records.sql"),
    },
    Migration { version: 24, name: "event_blocks", sql: include_str!("../migrations/0024_event_blocks.sql") },
];

/// The newest migration this binary knows.
pub(crate) fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |migration| migration.version)
}

const CREATE_TRACKING: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    applied_at INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER))
) STRICT";

/// The newest applied migration, 0 when nothing was applied.
pub(crate) fn current(conn: &Connection) -> Result<i64> {
    let tracked: Option<i64> = conn
        .prepare_cached("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")?
        .query_row([], |row| row.get(0))
        .optional()?;
    if tracked.is_none() {
        return Ok(0);
    }
    let version: Option<i64> =
        conn.prepare_cached("SELECT max(version) FROM schema_migrations")?.query_row([], |row| row.get(0))?;
    Ok(version.unwrap_or(0))
}

pub(crate) fn status(conn: &Connection) -> Result<SchemaStatus> {
    Ok(SchemaStatus { current: current(conn)?, latest: latest() })
}

/// Refuses a database migrated by a newer binary.
pub(crate) fn check_not_too_new(conn: &Connection) -> Result<SchemaStatus> {
    let status = status(conn)?;
    if status.current > status.latest {
        return Err(StoreError::SchemaTooNew { found: status.current, supported: status.latest }.into());
    }
    Ok(status)
}

/// Whether a migration was applied.
fn applied(conn: &Connection, version: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM schema_migrations WHERE version = ?1")?
        .query_row([version], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Applies the pending migrations, each in its own immediate (write-locked) transaction. A
/// migration is pending when it is not recorded, also below the newest applied one, so versions
/// numbered apart (on separate lines of development) are applied once they meet.
pub(crate) fn migrate(conn: &mut Connection) -> Result<SchemaStatus> {
    for migration in MIGRATIONS {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(CREATE_TRACKING)?;
        check_not_too_new(&tx)?;
        if applied(&tx, migration.version)? {
            continue;
        }
        tx.execute_batch(migration.sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            (migration.version, migration.name, micros(now())),
        )?;
        tx.commit()?;
    }
    check_not_too_new(conn)
}
