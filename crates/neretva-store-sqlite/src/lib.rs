//! Neretva's embedded storage backend: [`SqliteStore`] implements `neretva_store::Store` on a
//! bundled SQLite in WAL mode.
//!
//! One writer connection sits behind an async mutex, so writes (and the audit chain they extend)
//! are serialised; a small pool of reader connections runs beside it, which WAL allows. Every
//! rusqlite call runs on a blocking thread (`tokio::task::spawn_blocking`), never on the async
//! runtime. Write transactions are `BEGIN IMMEDIATE`, so a second process on the same file waits
//! for the write lock instead of failing half-way.
//!
//! Committed pages are copied from the WAL into the database file by a checkpointer thread of
//! the store's own, woken after each write, so a writer does not wait for that copy (and its
//! `fsync`) on the hot path of feed inserts; should it fall behind, the writer checkpoints too
//! once the WAL passes `WRITER_CHECKPOINT_PAGES`.
//!
//! The schema lives in numbered scripts under `migrations/`, embedded in the binary and tracked
//! in `schema_migrations`; [`SqliteStore::open`] refuses a database migrated by a newer binary.
//!
//! **Architecture Invariant:** only store crates know SQL. This crate owns SQLite's SQL and
//! migrations; nothing outside `neretva-store-sqlite` and `neretva-store-postgres` writes a query.
//!
//! **Architecture Invariant:** every mutating method writes its change and its audit entry in one
//! transaction.

mod codec;
mod contact_points;
mod dedup;
mod event_blocks;
mod exercises;
mod feeds;
mod governance;
mod groups;
mod incidents;
mod intel;
mod learning;
mod migrations;
mod notifications;
mod ops;
mod records;
mod registry;
mod rows_insert;
mod taxii;
mod training;

use std::path::{Path, PathBuf};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Arc, Mutex as SyncMutex};
use std::time::Duration;

use async_trait::async_trait;
use neretva_governance::checks::Campaign;
use neretva_governance::contact_points::ContactPoint;
use neretva_governance::groups::WorkingGroup;
use neretva_governance::maturity::Assessment;
use neretva_governance::preservation::PreservationRequest;
use neretva_governance::rfc2350::TeamProfile;
use neretva_governance::strategy::StrategyDocument;
use neretva_incident::evidence::{CustodyEvent, CustodyRecord, Evidence, Sha256};
use neretva_incident::link::Link;
use neretva_incident::observable::Observable;
use neretva_incident::playbook::Task;
use neretva_incident::timeline::TimelineEntry;
use neretva_intel::access::SharingGroup;
use neretva_intel::model::{IntelEvent, Sighting};
use neretva_learning::certificate::Certificate;
use neretva_learning::course::Course;
use neretva_learning::enrolment::Enrolment;
use neretva_learning::exercise::run::{Delivery, Exercise, Response as ExerciseResponse};
use neretva_learning::exercise::scenario::Scenario;
use neretva_learning::quiz::Attempt as QuizAttempt;
use neretva_model::asset::{Asset, AssetValue};
use neretva_model::audit::{AuditEntry, AuditEvent};
use neretva_model::contact::{Contact, ContactFields};
use neretva_model::org::{Organisation, OrganisationFields};
use neretva_model::registry_io::RegistryDocument;
use neretva_model::user::{Token, User};
use neretva_model::{Timestamp, Uuid};
use neretva_store::contact_points::{
    AckOutcome, Acknowledgment, StepRecord, StoredCampaign, StoredPoint, StoredProfile, StoredTarget,
    TokenInfo,
};
use neretva_store::exercises::{StoredExercise, StoredScenario};
use neretva_store::feeds::{
    DedupKey, EventBatch, EventCountQuery, EventCounts, EventQuery, NewEvent, NewReport, ReportCounts,
    ReportError, ReportInfo, ReportQuery, SourceRecord, StoredEvent,
};
use neretva_store::governance::StoredStrategy;
use neretva_store::groups::StoredGroup;
use neretva_store::incidents::{
    BlobRef, IncidentQuery, IncidentReportQuery, IncidentWrite, IntakeQuery, MatchAddition, MatchesAdded,
    ObservableMatches, StoredIncident, StoredIncidentReport, StoredIntake, StoredObservable,
};
use neretva_store::intel::{
    AttributeQuery, ExternalCorrelation, ExternalCorrelations, IntelEventHead, IntelEventQuery,
    ObservableHit, ObservableProbe, StoredAttribute, StoredIntelEvent,
};
use neretva_store::learning::{EnrolmentQuery, StoredCourse, StoredEnrolment};
use neretva_store::notifications::{
    Attempt, ContactDelivery, MessageQuery, NotificationWrite, PendingStatus, QueuedNotification,
    ScheduleState, StoredMessage,
};
use neretva_store::records::{StoredAssessment, StoredPreservation};
use neretva_store::taxii::{AddObjects, Collection, CollectionFields, ObjectQuery, Status, StoredObject};
use neretva_store::{
    Actor, AuditQuery, ImportMode, ImportSummary, LoginOutcome, NewToken, NewUser, SchemaStatus, Session,
    Store, StoreError, UserPatch, encode,
};
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use tokio::sync::{Mutex, Semaphore};

use crate::codec::{Error, now, truncate};

/// How many reader connections run beside the writer.
const READERS: usize = 4;
/// How long a connection waits for a lock held by another connection or process.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How many prepared statements each connection keeps.
const STATEMENT_CACHE: usize = 64;
/// The page cache of the writer and of each reader, in KiB (SQLite's negative `cache_size`).
const WRITER_CACHE_KIB: i64 = 65_536;
const READER_CACHE_KIB: i64 = 16_384;
/// How much of the database file each connection reads through a memory map instead of `read`
/// calls (SQLite caps it at 2 GiB): a search that reads rows all over the file no longer copies
/// each page first (searching a /16 of 1,000,000 events took 44 ms instead of 150 ms).
const MMAP_SIZE: i64 = 1 << 31;
/// The page size of a new database. Events are rows of about 1.2 kB that are only ever
/// appended: larger pages hold them with less waste and write a batch with fewer, larger WAL
/// frames (100,000 events went in about a fifth faster than with 4 KiB pages, and a third of
/// that still at 700,000 stored events).
const PAGE_SIZE: i64 = 16_384;
/// The size a checkpointed WAL file is truncated to, so one large batch does not leave it large.
const WAL_SIZE_LIMIT: i64 = 128 * 1024 * 1024;
/// The WAL size, in pages, from which the writer checkpoints after a commit itself, in case
/// the checkpointer thread falls behind (SQLite's `wal_autocheckpoint`; its default is 1000):
/// about 200 MB.
const WRITER_CHECKPOINT_PAGES: i64 = 12_500;

/// The SQLite store.
pub struct SqliteStore {
    writer: Arc<Mutex<Connection>>,
    /// `None` for an in-memory database, whose only connection is the writer.
    readers: Option<ReaderPool>,
    /// `None` for an in-memory database, which has no WAL.
    checkpointer: Option<Checkpointer>,
    /// The deduplication log's index; only used by write transactions, which the writer
    /// serialises.
    dedup: Arc<SyncMutex<dedup::DedupIndex>>,
}

/// A thread with its own connection that checkpoints the WAL when a write commits.
struct Checkpointer {
    /// Dropped first when the store goes, which ends the thread.
    wake: Option<SyncSender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    fn start(path: &Path) -> Result<Checkpointer, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(backend)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(backend)?;
        // One pending wake-up is enough: a checkpoint copies everything committed before it.
        let (wake, woken) = sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while woken.recv().is_ok() {
                    // A passive checkpoint never blocks readers or the writer; when it cannot
                    // finish (a reader still needs old frames), the next wake-up goes on.
                    let _ = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)");
                }
            })
            .map_err(|error| StoreError::Backend(format!("cannot start the checkpointer: {error}")))?;
        Ok(Checkpointer { wake: Some(wake), thread: Some(thread) })
    }

    fn wake(&self) {
        if let Some(wake) = &self.wake {
            // Full means a wake-up is pending already.
            let _ = wake.try_send(());
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.wake = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct ReaderPool {
    path: PathBuf,
    idle: Arc<SyncMutex<Vec<Connection>>>,
    permits: Arc<Semaphore>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = self.readers.as_ref().map(|pool| pool.path.as_path());
        f.debug_struct("SqliteStore").field("path", &path).finish_non_exhaustive()
    }
}

fn configure(conn: &Connection, writer: bool) -> Result<(), StoreError> {
    configure_pragmas(conn, writer).map_err(backend)?;
    if writer {
        // Only takes effect on a new database, before its first page is written.
        conn.pragma_update(None, "page_size", PAGE_SIZE).map_err(backend)?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0)).map_err(backend)?;
        // An in-memory database keeps its journal in memory; a file must be in WAL mode.
        if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
            return Err(StoreError::Backend(format!("the journal mode stayed {mode:?} instead of WAL")));
        }
    }
    Ok(())
}

fn configure_pragmas(conn: &Connection, writer: bool) -> rusqlite::Result<()> {
    event_blocks::register(conn)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "mmap_size", MMAP_SIZE)?;
    if writer {
        conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
    } else {
        conn.pragma_update(None, "cache_size", -READER_CACHE_KIB)?;
        conn.pragma_update(None, "query_only", "ON")?;
    }
    Ok(())
}

/// Locks a mutex that a panicking holder cannot leave inconsistent for the next one.
fn lock<T>(mutex: &SyncMutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn backend(error: rusqlite::Error) -> StoreError {
    codec::store_error(error)
}

fn joined(error: tokio::task::JoinError) -> StoreError {
    StoreError::Backend(format!("database task failed: {error}"))
}

impl SqliteStore {
    /// Opens (and creates) a database file. It refuses a schema newer than this binary; an older
    /// one opens, and [`Store::migrate`] brings it up to date.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let writer = Connection::open_with_flags(path, flags).map_err(backend)?;
        configure(&writer, true)?;
        migrations::check_not_too_new(&writer).map_err(|error| error.0)?;
        writer.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES).map_err(backend)?;
        let checkpointer = Checkpointer::start(path)?;
        let pool = ReaderPool {
            path: path.to_owned(),
            idle: Arc::new(SyncMutex::new(Vec::new())),
            permits: Arc::new(Semaphore::new(READERS)),
        };
        Ok(SqliteStore {
            writer: Arc::new(Mutex::new(writer)),
            readers: Some(pool),
            checkpointer: Some(checkpointer),
            dedup: Arc::default(),
        })
    }

    /// A private in-memory database, for tests; reads and writes share one connection.
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        let writer = Connection::open_in_memory().map_err(backend)?;
        configure(&writer, true)?;
        Ok(SqliteStore {
            writer: Arc::new(Mutex::new(writer)),
            readers: None,
            checkpointer: None,
            dedup: Arc::default(),
        })
    }

    /// Runs SQL directly, bypassing the audit; only tests use this, to tamper with the data.
    #[doc(hidden)]
    pub async fn execute_raw(&self, sql: &str) -> Result<(), StoreError> {
        let sql = sql.to_owned();
        self.with_writer(move |conn| Ok(conn.execute_batch(&sql)?)).await
    }

    /// Runs `task` on the writer connection, outside any transaction.
    async fn with_writer<T, F>(&self, task: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, Error> + Send + 'static,
    {
        let mut conn = Arc::clone(&self.writer).lock_owned().await;
        tokio::task::spawn_blocking(move || task(&mut conn).map_err(|error| error.0)).await.map_err(joined)?
    }

    /// Runs `task` in a write transaction; it commits when the task succeeds.
    async fn write<T, F>(&self, task: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>, Timestamp) -> Result<T, Error> + Send + 'static,
    {
        let value = self
            .with_writer(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let value = task(&tx, now())?;
                tx.commit()?;
                Ok(value)
            })
            .await?;
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.wake();
        }
        Ok(value)
    }

    /// Runs `task` in a write transaction on data the caller lends, without copying it to a
    /// blocking thread: on a multi-threaded runtime the current worker becomes the blocking
    /// thread (`block_in_place`) while the runtime moves its other tasks elsewhere. Returns `None`
    /// on other runtimes, where the caller copies the data and uses [`SqliteStore::write`].
    /// Copying a batch of 90,000 events (about 100 MB) cost more than a tenth of a second. (Like
    /// every `block_in_place`, this must not run inside a `LocalSet`; nothing here uses one.)
    async fn write_in_place<T, F>(&self, task: F) -> Option<Result<T, StoreError>>
    where
        F: FnOnce(&Transaction<'_>, Timestamp) -> Result<T, Error>,
    {
        let handle = tokio::runtime::Handle::try_current().ok()?;
        if handle.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread {
            return None;
        }
        let mut conn = self.writer.lock().await;
        let result = tokio::task::block_in_place(|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = task(&tx, now())?;
            tx.commit()?;
            Ok(value)
        })
        .map_err(|error: Error| error.0);
        drop(conn);
        if result.is_ok()
            && let Some(checkpointer) = &self.checkpointer
        {
            checkpointer.wake();
        }
        Some(result)
    }

    /// Runs `task` on a reader connection (or on the writer of an in-memory database).
    async fn read<T, F>(&self, task: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, Error> + Send + 'static,
    {
        let Some(pool) = &self.readers else {
            return self.with_writer(move |conn| task(conn)).await;
        };
        let permit = Arc::clone(&pool.permits)
            .acquire_owned()
            .await
            .map_err(|error| StoreError::Backend(format!("reader pool closed: {error}")))?;
        let idle = Arc::clone(&pool.idle);
        let path = pool.path.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let pooled = idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop();
            let conn = match pooled {
                Some(conn) => conn,
                None => open_reader(&path)?,
            };
            let result = task(&conn).map_err(|error| error.0);
            idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(conn);
            result
        })
        .await
        .map_err(joined)?
    }
}

fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(backend)?;
    configure(&conn, false)?;
    Ok(conn)
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> Result<SchemaStatus, StoreError> {
        self.with_writer(migrations::migrate).await
    }

    async fn schema_status(&self) -> Result<SchemaStatus, StoreError> {
        self.read(migrations::status).await
    }

    async fn create_org(
        &self,
        actor: &Actor,
        fields: &OrganisationFields,
    ) -> Result<Organisation, StoreError> {
        let (actor, fields) = (actor.0.clone(), fields.clone());
        self.write(move |tx, at| ops::create_org(tx, at, &actor, &fields)).await
    }

    async fn update_org(
        &self,
        actor: &Actor,
        id: Uuid,
        fields: &OrganisationFields,
    ) -> Result<Organisation, StoreError> {
        let (actor, fields) = (actor.0.clone(), fields.clone());
        self.write(move |tx, at| ops::update_org(tx, at, &actor, id, &fields)).await
    }

    async fn delete_org(&self, actor: &Actor, id: Uuid) -> Result<(), StoreError> {
        let actor = actor.0.clone();
        self.write(move |tx, at| ops::delete_org(tx, at, &actor, id)).await
    }

    async fn get_org(&self, id: Uuid) -> Result<Option<Organisation>, StoreError> {
        self.read(move |conn| ops::get_org(conn, id)).await
    }

    async fn find_org(&self, short_name: &str) -> Result<Option<Organisation>, StoreError> {
        let short_name = short_name.to_owned();
        self.read(move |conn| ops::find_org(conn, &short_name)).await
    }

    async fn list_orgs(&self) -> Result<Vec<Organisation>, StoreError> {
        self.read(ops::list_orgs).await
    }

    async fn create_contact(
        &self,
        actor: &Actor,
        org_id: Uuid,
        fields: &ContactFields,
        pgp_fingerprint: Option<&str>,
    ) -> Result<Contact, StoreError> {
        let (actor, fields) = (actor.0.clone(), fields.clone());
        let fingerprint = pgp_fingerprint.map(str::to_owned);
        self.write(move |tx, at| ops::create_contact(tx, at, &actor, org_id, &fields, fingerprint.as_deref()))
            .await
    }

    async fn update_contact(
        &self,
        actor: &Actor,
        id: Uuid,
        fields: &ContactFields,
        pgp_fingerprint: Option<&str>,
    ) -> Result<Contact, StoreError> {
        let (actor, fields) = (actor.0.clone(), fields.clone());
        let fingerprint = pgp_fingerprint.map(str::to_owned);
        self.write(move |tx, at| ops::update_contact(tx, at, &actor, id, &fields, fingerprint.as_deref()))
            .await
    }

    async fn delete_contact(&self, actor: &Actor, id: Uuid) -> Result<(), StoreError> {
        let actor = actor.0.clone();
        self.write(move |tx, at| ops::delete_contact(tx, at, &actor, id)).await
    }

    async fn get_contact(&self, id: Uuid) -> Result<Option<Contact>, StoreError> {
        self.read(move |conn| ops::get_contact(conn, id)).await
    }

    async fn list_contacts(&self, org_id: Option<Uuid>) -> Result<Vec<Contact>, StoreError> {
        self.read(move |conn| ops::list_contacts(conn, org_id)).await
    }

    async fn add_asset(
        &self,
        actor: &Actor,
        org_id: Uuid,
        value: &AssetValue,
        description: Option<&str>,
    ) -> Result<Asset, StoreError> {
        let (actor, value) = (actor.0.clone(), value.clone());
        let description = description.map(str::to_owned);
        self.write(move |tx, at| ops::add_asset(tx, at, &actor, org_id, &value, description.as_deref())).await
    }

    async fn delete_asset(&self, actor: &Actor, id: Uuid) -> Result<(), StoreError> {
        let actor = actor.0.clone();
        self.write(move |tx, at| ops::delete_asset(tx, at, &actor, id)).await
    }

    async fn get_asset(&self, id: Uuid) -> Result<Option<Asset>, StoreError> {
        self.read(move |conn| ops::get_asset(conn, id)).await
    }

    async fn list_assets(&self, org_id: Option<Uuid>) -> Result<Vec<Asset>, StoreError> {
        self.read(move |conn| ops::list_assets(conn, org_id)).await
    }

    async fn import_registry(
        &self,
        actor: &Actor,
        document: &RegistryDocument,
        mode: ImportMode,
    ) -> Result<ImportSummary, StoreError> {
        let (actor, document) = (actor.0.clone(), document.clone());
        self.write(move |tx, at| registry::import(tx, at, &actor, &document, mode)).await
    }

    async fn export_registry(&self) -> Result<RegistryDocument, StoreError> {
        self.read(registry::export).await
    }

    async fn create_user(&self, actor: &Actor, user: &NewUser) -> Result<User, StoreError> {
        let (actor, user) = (actor.0.clone(), user.clone());
        self.write(move |tx, at| ops::create_user(tx, at, &actor, &user)).await
    }

    async fn update_user(&self, actor: &Actor, id: Uuid, patch: &UserPatch) -> Result<User, StoreError> {
        let (actor, patch) = (actor.0.clone(), patch.clone());
        self.write(move |tx, at| ops::update_user(tx, at, &actor, id, &patch)).await
    }

    async fn get_user(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        self.read(move |conn| ops::get_user(conn, id)).await
    }

    async fn find_user(&self, username: &str) -> Result<Option<User>, StoreError> {
        let username = username.to_owned();
        self.read(move |conn| ops::find_user(conn, &username)).await
    }

    async fn list_users(&self, org_id: Option<Uuid>) -> Result<Vec<User>, StoreError> {
        self.read(move |conn| ops::list_users(conn, org_id)).await
    }

    async fn password_hash(&self, id: Uuid) -> Result<Option<String>, StoreError> {
        self.read(move |conn| ops::password_hash(conn, id)).await
    }

    async fn set_password(&self, actor: &Actor, id: Uuid, password_hash: &str) -> Result<(), StoreError> {
        let (actor, hash) = (actor.0.clone(), password_hash.to_owned());
        self.write(move |tx, at| ops::set_password(tx, at, &actor, id, &hash)).await
    }

    async fn set_user_disabled(&self, actor: &Actor, id: Uuid, disabled: bool) -> Result<User, StoreError> {
        let actor = actor.0.clone();
        self.write(move |tx, at| ops::set_user_disabled(tx, at, &actor, id, disabled)).await
    }

    async fn unlock_user(&self, actor: &Actor, id: Uuid) -> Result<User, StoreError> {
        let actor = actor.0.clone();
        self.write(move |tx, at| ops::unlock_user(tx, at, &actor, id)).await
    }

    async fn record_login(&self, id: Uuid, outcome: LoginOutcome) -> Result<User, StoreError> {
        self.write(move |tx, _| ops::record_login(tx, id, outcome)).await
    }

    async fn create_token(&self, actor: &Actor, token: &NewToken) -> Result<Token, StoreError> {
        let (actor, token) = (actor.0.clone(), token.clone());
        self.write(move |tx, at| ops::create_token(tx, at, &actor, &token)).await
    }

    async fn get_token(&self, id: Uuid) -> Result<Option<(Token, String)>, StoreError> {
        self.read(move |conn| ops::get_token(conn, id)).await
    }

    async fn list_tokens(&self, user_id: Option<Uuid>) -> Result<Vec<Token>, StoreError> {
        self.read(move |conn| ops::list_tokens(conn, user_id)).await
    }

    async fn revoke_token(&self, actor: &Actor, id: Uuid, at: Timestamp) -> Result<Token, StoreError> {
        let actor = actor.0.clone();
        self.write(move |tx, now| ops::revoke_token(tx, now, &actor, id, at)).await
    }

    async fn touch_token(&self, id: Uuid, at: Timestamp) -> Result<(), StoreError> {
        let at = truncate(at);
        self.write(move |tx, _| ops::touch_token(tx, id, at)).await
    }

    async fn create_session(&self, session: &Session) -> Result<(), StoreError> {
        let session = session.clone();
        self.write(move |tx, _| ops::create_session(tx, &session)).await
    }

    async fn get_session(&self, id: Uuid) -> Result<Option<Session>, StoreError> {
        self.read(move |conn| ops::get_session(conn, id)).await
    }

    async fn delete_session(&self, id: Uuid) -> Result<(), StoreError> {
        self.write(move |tx, _| ops::delete_session(tx, id)).await
    }

    async fn delete_user_sessions(&self, user_id: Uuid) -> Result<u64, StoreError> {
        self.write(move |tx, _| ops::delete_user_sessions(tx, user_id)).await
    }

    async fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64, StoreError> {
        self.write(move |tx, _| ops::delete_expired_sessions(tx, now)).await
    }

    async fn append_audit(&self, event: &AuditEvent) -> Result<AuditEntry, StoreError> {
        let event = event.clone();
        self.write(move |tx, at| ops::append_audit(tx, at, event)).await
    }

    async fn list_audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let query = query.clone();
        self.read(move |conn| ops::list_audit(conn, &query)).await
    }

    async fn audit_head(&self) -> Result<Option<(i64, String)>, StoreError> {
        self.read(ops::audit_head).await
    }

    async fn store_report(&self, report: &NewReport) -> Result<(ReportInfo, bool), StoreError> {
        // Content already stored is found without copying the data to the blocking thread.
        let (feed, sha256) = (report.feed.clone(), report.sha256.clone());
        if let Some(stored) = self.read(move |conn| feeds::find_report(conn, &feed, &sha256)).await? {
            return Ok((stored, false));
        }
        // The one copy: the blocking thread needs data it owns.
        let report = report.clone();
        self.write(move |tx, at| feeds::store_report(tx, at, &report)).await
    }

    async fn get_report(&self, id: Uuid) -> Result<Option<ReportInfo>, StoreError> {
        self.read(move |conn| feeds::get_report(conn, id)).await
    }

    async fn report_data(&self, id: Uuid) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(move |conn| feeds::report_data(conn, id)).await
    }

    async fn purge_report_data(&self, received_before: Timestamp) -> Result<u64, StoreError> {
        // One transaction per batch: other writers take their turn in between.
        let mut purged = 0;
        loop {
            let deleted = self
                .write(move |tx, _| feeds::purge_report_data(tx, received_before, feeds::REPORT_PURGE_BATCH))
                .await?;
            purged += deleted;
            if deleted < feeds::REPORT_PURGE_BATCH {
                return Ok(purged);
            }
        }
    }

    async fn list_reports(&self, query: &ReportQuery) -> Result<Vec<ReportInfo>, StoreError> {
        let query = query.clone();
        self.read(move |conn| feeds::list_reports(conn, &query)).await
    }

    async fn finish_report(
        &self,
        id: Uuid,
        counts: ReportCounts,
        errors: &[ReportError],
        failure: Option<&str>,
        at: Timestamp,
    ) -> Result<ReportInfo, StoreError> {
        let errors = errors.to_vec();
        let failure = failure.map(str::to_owned);
        self.write(move |tx, _| feeds::finish_report(tx, id, counts, &errors, failure.as_deref(), at)).await
    }

    async fn report_errors(&self, id: Uuid, limit: u32) -> Result<Vec<ReportError>, StoreError> {
        self.read(move |conn| feeds::report_errors(conn, id, limit)).await
    }

    async fn source_record(&self, feed: &str) -> Result<Option<SourceRecord>, StoreError> {
        let feed = feed.to_owned();
        self.read(move |conn| feeds::source_record(conn, &feed)).await
    }

    async fn save_source_record(&self, record: &SourceRecord) -> Result<(), StoreError> {
        let record = record.clone();
        self.write(move |tx, _| feeds::save_source_record(tx, &record)).await
    }

    async fn insert_events(&self, events: &[NewEvent]) -> Result<u64, StoreError> {
        if events.is_empty() {
            return Ok(0);
        }
        if let Some(result) = self.write_in_place(|tx, at| feeds::insert_events(tx, at, events)).await {
            return result;
        }
        let events = events.to_vec();
        self.write(move |tx, at| feeds::insert_events(tx, at, &events)).await
    }

    async fn store_events(&self, batch: EventBatch) -> Result<Vec<bool>, StoreError> {
        encode::check_batch(&batch)?;
        let EventBatch { events, dedup } = batch;
        // On a blocking thread of its own (not `write_in_place`), so the caller can prepare the
        // next batch meanwhile. The batch comes back to be freed here, on the thread that
        // allocated it, where the allocator reuses its memory soonest.
        let index = Arc::clone(&self.dedup);
        let checked = dedup.is_some();
        let result = self
            .write(move |tx, at| {
                let duplicates = match &dedup {
                    Some(dedup) => dedup::check(tx, &mut lock(&index), &dedup.keys, dedup.window_start)?,
                    None => vec![false; events.len()],
                };
                if duplicates.contains(&true) {
                    let fresh: Vec<NewEvent> = events
                        .into_iter()
                        .zip(&duplicates)
                        .filter_map(|(event, duplicate)| (!duplicate).then_some(event))
                        .collect();
                    feeds::insert_events(tx, at, &fresh)?;
                    Ok((duplicates, fresh, dedup))
                } else {
                    feeds::insert_events(tx, at, &events)?;
                    Ok((duplicates, events, dedup))
                }
            })
            .await;
        match result {
            Ok((duplicates, _events, _keys)) => Ok(duplicates),
            Err(error) => {
                if checked {
                    // The index may hold rows the failed transaction did not keep.
                    lock(&self.dedup).invalidate();
                }
                Err(error)
            }
        }
    }

    async fn delete_report_events(&self, report_id: Uuid) -> Result<u64, StoreError> {
        self.write(move |tx, _| feeds::delete_report_events(tx, report_id)).await
    }

    async fn get_event(&self, id: Uuid) -> Result<Option<StoredEvent>, StoreError> {
        self.read(move |conn| feeds::get_event(conn, id)).await
    }

    async fn get_events(&self, ids: &[Uuid]) -> Result<Vec<StoredEvent>, StoreError> {
        let ids = ids.to_vec();
        self.read(move |conn| feeds::get_events(conn, &ids)).await
    }

    async fn query_events(&self, query: &EventQuery) -> Result<Vec<StoredEvent>, StoreError> {
        let query = query.clone();
        self.read(move |conn| feeds::query_events(conn, &query)).await
    }

    async fn event_scan_floor(&self, before: Option<Uuid>, depth: u32) -> Result<Option<Uuid>, StoreError> {
        self.read(move |conn| feeds::event_scan_floor(conn, before, depth)).await
    }

    async fn event_counts(&self, query: &EventCountQuery) -> Result<EventCounts, StoreError> {
        let query = query.clone();
        self.read(move |conn| feeds::event_counts(conn, &query)).await
    }

    async fn purge_events(&self, before: Timestamp) -> Result<u64, StoreError> {
        // One transaction per batch: other writers take their turn in between.
        let mut purged = 0;
        loop {
            let deleted =
                self.write(move |tx, _| feeds::purge_events(tx, before, feeds::PURGE_BATCH)).await?;
            purged += deleted;
            if deleted < feeds::PURGE_BATCH {
                return Ok(purged);
            }
        }
    }

    async fn dedup_check(&self, keys: &[DedupKey], window_start: Timestamp) -> Result<Vec<bool>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let index = Arc::clone(&self.dedup);
        let result = match self
            .write_in_place(|tx, _| dedup::check(tx, &mut lock(&index), keys, window_start))
            .await
        {
            Some(result) => result,
            None => {
                let (keys, index) = (keys.to_vec(), Arc::clone(&index));
                self.write(move |tx, _| dedup::check(tx, &mut lock(&index), &keys, window_start)).await
            }
        };
        if result.is_err() {
            // The index may hold rows the failed transaction did not keep.
            lock(&index).invalidate();
        }
        result
    }

    async fn dedup_purge(&self, before: Timestamp) -> Result<u64, StoreError> {
        // Through the whole log in order, a slice per transaction.
        let mut purged = 0;
        let mut after = 0;
        loop {
            let index = Arc::clone(&self.dedup);
            let result = self.write(move |tx, _| dedup::purge(tx, &mut lock(&index), before, after)).await;
            let (forgotten, next) = match result {
                Ok(done) => done,
                Err(error) => {
                    lock(&self.dedup).invalidate();
                    return Err(error);
                }
            };
            purged += forgotten;
            match next {
                Some(next) => after = next,
                None => return Ok(purged),
            }
        }
    }

    async fn pending_notifications(
        &self,
        org_id: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
        self.read(move |conn| feeds::pending_notifications(conn, org_id, limit)).await
    }

    async fn notification_orgs(&self) -> Result<Vec<Uuid>, StoreError> {
        self.read(notifications::notification_orgs).await
    }

    async fn queued_notifications(
        &self,
        org_id: Uuid,
        limit: u32,
    ) -> Result<Vec<QueuedNotification>, StoreError> {
        self.read(move |conn| notifications::queued_notifications(conn, org_id, limit)).await
    }

    async fn suppression_state(
        &self,
        org_id: Uuid,
        keys: &[String],
    ) -> Result<Vec<(String, Timestamp)>, StoreError> {
        let keys = keys.to_vec();
        self.read(move |conn| notifications::suppression_state(conn, org_id, &keys)).await
    }

    async fn record_notifications(
        &self,
        actor: &Actor,
        write: &NotificationWrite,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let (actor, write) = (actor.0.clone(), write.clone());
        self.write(move |tx, at| notifications::record_notifications(tx, at, &actor, &write)).await
    }

    async fn due_messages(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<(StoredMessage, Vec<u8>)>, StoreError> {
        self.read(move |conn| notifications::due_messages(conn, now, limit)).await
    }

    async fn record_attempt(
        &self,
        id: Uuid,
        at: Timestamp,
        outcome: &Attempt,
    ) -> Result<StoredMessage, StoreError> {
        let outcome = outcome.clone();
        self.write(move |tx, _| notifications::record_attempt(tx, id, at, &outcome)).await
    }

    async fn get_message(&self, id: Uuid) -> Result<Option<StoredMessage>, StoreError> {
        self.read(move |conn| notifications::get_message(conn, id)).await
    }

    async fn message_events(&self, id: Uuid) -> Result<Vec<Uuid>, StoreError> {
        self.read(move |conn| notifications::message_events(conn, id)).await
    }

    async fn list_messages(&self, query: &MessageQuery) -> Result<Vec<StoredMessage>, StoreError> {
        let query = query.clone();
        self.read(move |conn| notifications::list_messages(conn, &query)).await
    }

    async fn schedule_state(&self, org_id: Uuid) -> Result<Vec<ScheduleState>, StoreError> {
        self.read(move |conn| notifications::schedule_state(conn, org_id)).await
    }

    async fn suppressed_count(&self, org_id: Uuid) -> Result<u64, StoreError> {
        self.read(move |conn| notifications::suppressed_count(conn, org_id)).await
    }

    async fn contact_deliveries(&self, org_id: Uuid) -> Result<Vec<ContactDelivery>, StoreError> {
        self.read(move |conn| notifications::contact_deliveries(conn, org_id)).await
    }

    async fn pending_status_announcements(&self, limit: u32) -> Result<Vec<PendingStatus>, StoreError> {
        self.read(move |conn| notifications::pending_status_announcements(conn, limit)).await
    }

    async fn announced(&self, org_id: Uuid, incident_id: Uuid) -> Result<Vec<String>, StoreError> {
        self.read(move |conn| notifications::announced(conn, org_id, incident_id)).await
    }

    async fn write_incidents(
        &self,
        actor: &Actor,
        writes: &[IncidentWrite],
    ) -> Result<Vec<StoredIncident>, StoreError> {
        let (actor, writes) = (actor.0.clone(), writes.to_vec());
        self.write(move |tx, at| incidents::write_incidents(tx, at, &actor, &writes)).await
    }

    async fn get_incident(&self, id: Uuid) -> Result<Option<StoredIncident>, StoreError> {
        self.read(move |conn| incidents::get_incident(conn, id)).await
    }

    async fn list_incidents(&self, query: &IncidentQuery) -> Result<Vec<StoredIncident>, StoreError> {
        let query = query.clone();
        self.read(move |conn| incidents::list_incidents(conn, &query)).await
    }

    async fn incident_timeline(&self, id: Uuid) -> Result<Vec<TimelineEntry>, StoreError> {
        self.read(move |conn| incidents::incident_timeline(conn, id)).await
    }

    async fn incident_tasks(&self, id: Uuid) -> Result<Vec<Task>, StoreError> {
        self.read(move |conn| incidents::incident_tasks(conn, id)).await
    }

    async fn incident_observables(&self, id: Uuid) -> Result<Vec<StoredObservable>, StoreError> {
        self.read(move |conn| incidents::incident_observables(conn, id)).await
    }

    async fn observable_matches(
        &self,
        observable: &Observable,
    ) -> Result<Option<ObservableMatches>, StoreError> {
        let observable = observable.clone();
        self.read(move |conn| incidents::observable_matches(conn, &observable)).await
    }

    async fn open_observables(&self, limit: u32) -> Result<Vec<Observable>, StoreError> {
        self.read(move |conn| incidents::open_observables(conn, limit)).await
    }

    async fn add_observable_matches(
        &self,
        actor: &Actor,
        additions: &[MatchAddition],
        at: Timestamp,
    ) -> Result<Vec<MatchesAdded>, StoreError> {
        let (actor, additions) = (actor.0.clone(), additions.to_vec());
        self.write(move |tx, now| incidents::add_observable_matches(tx, now, at, &actor, &additions)).await
    }

    async fn incident_links(&self, id: Uuid) -> Result<Vec<Link>, StoreError> {
        self.read(move |conn| incidents::incident_links(conn, id)).await
    }

    async fn incident_evidence(&self, id: Uuid) -> Result<Vec<Evidence>, StoreError> {
        self.read(move |conn| incidents::incident_evidence(conn, id)).await
    }

    async fn record_custody(&self, actor: &Actor, event: &CustodyEvent) -> Result<CustodyRecord, StoreError> {
        let (actor, event) = (actor.0.clone(), event.clone());
        self.write(move |tx, at| incidents::record_custody(tx, at, &actor, &event)).await
    }

    async fn custody(&self, incident_id: Uuid, sha256: &Sha256) -> Result<Vec<CustodyRecord>, StoreError> {
        let sha256 = *sha256;
        self.read(move |conn| incidents::custody(conn, incident_id, &sha256)).await
    }

    async fn blobs(&self) -> Result<Vec<BlobRef>, StoreError> {
        self.read(incidents::blobs).await
    }

    async fn submit_incident_report(
        &self,
        actor: &Actor,
        report: &StoredIncidentReport,
        writes: &[IncidentWrite],
    ) -> Result<StoredIncidentReport, StoreError> {
        let (actor, report, writes) = (actor.0.clone(), report.clone(), writes.to_vec());
        self.write(move |tx, at| incidents::submit_incident_report(tx, at, &actor, &report, &writes)).await
    }

    async fn get_incident_report(&self, id: Uuid) -> Result<Option<StoredIncidentReport>, StoreError> {
        self.read(move |conn| incidents::get_incident_report(conn, id)).await
    }

    async fn list_incident_reports(
        &self,
        query: &IncidentReportQuery,
    ) -> Result<Vec<StoredIncidentReport>, StoreError> {
        let query = query.clone();
        self.read(move |conn| incidents::list_incident_reports(conn, &query)).await
    }

    async fn record_intake(
        &self,
        actor: &Actor,
        intake: &StoredIntake,
        writes: &[IncidentWrite],
    ) -> Result<StoredIntake, StoreError> {
        let (actor, intake, writes) = (actor.0.clone(), intake.clone(), writes.to_vec());
        self.write(move |tx, at| incidents::record_intake(tx, at, &actor, &intake, &writes)).await
    }

    async fn get_intake(&self, id: Uuid) -> Result<Option<StoredIntake>, StoreError> {
        self.read(move |conn| incidents::get_intake(conn, id)).await
    }

    async fn list_intakes(&self, query: &IntakeQuery) -> Result<Vec<StoredIntake>, StoreError> {
        let query = query.clone();
        self.read(move |conn| incidents::list_intakes(conn, &query)).await
    }

    async fn create_collection(
        &self,
        actor: &Actor,
        id: Uuid,
        fields: &CollectionFields,
    ) -> Result<Collection, StoreError> {
        let (actor, fields) = (actor.0.clone(), fields.clone());
        self.write(move |tx, at| taxii::create_collection(tx, at, &actor, id, &fields)).await
    }

    async fn update_collection(
        &self,
        actor: &Actor,
        id: Uuid,
        fields: &CollectionFields,
    ) -> Result<Collection, StoreError> {
        let (actor, fields) = (actor.0.clone(), fields.clone());
        self.write(move |tx, at| taxii::update_collection(tx, at, &actor, id, &fields)).await
    }

    async fn delete_collection(&self, actor: &Actor, id: Uuid) -> Result<(), StoreError> {
        let actor = actor.0.clone();
        self.write(move |tx, at| taxii::delete_collection(tx, at, &actor, id)).await
    }

    async fn get_collection(&self, id: Uuid) -> Result<Option<Collection>, StoreError> {
        self.read(move |conn| taxii::get_collection(conn, id)).await
    }

    async fn find_collection(&self, alias: &str) -> Result<Option<Collection>, StoreError> {
        let alias = alias.to_owned();
        self.read(move |conn| taxii::find_collection(conn, &alias)).await
    }

    async fn list_collections(&self) -> Result<Vec<Collection>, StoreError> {
        self.read(taxii::list_collections).await
    }

    async fn add_objects(&self, actor: &Actor, request: &AddObjects) -> Result<Status, StoreError> {
        let (actor, request) = (actor.0.clone(), request.clone());
        self.write(move |tx, at| taxii::add_objects(tx, at, &actor, &request)).await
    }

    async fn query_objects(&self, query: &ObjectQuery) -> Result<Vec<StoredObject>, StoreError> {
        let query = query.clone();
        self.read(move |conn| taxii::query_objects(conn, &query)).await
    }

    async fn delete_objects(
        &self,
        actor: &Actor,
        collection_id: Uuid,
        stix_id: &str,
        rows: &[i64],
    ) -> Result<u64, StoreError> {
        let (actor, stix_id, rows) = (actor.0.clone(), stix_id.to_owned(), rows.to_vec());
        self.write(move |tx, at| taxii::delete_objects(tx, at, &actor, collection_id, &stix_id, &rows)).await
    }

    async fn get_status(&self, id: Uuid) -> Result<Option<Status>, StoreError> {
        self.read(move |conn| taxii::get_status(conn, id)).await
    }

    async fn taxii_paging_key(&self) -> Result<Vec<u8>, StoreError> {
        self.read(taxii::paging_key).await
    }

    async fn create_intel_event(
        &self,
        actor: &Actor,
        owner_org: Uuid,
        event: &IntelEvent,
    ) -> Result<StoredIntelEvent, StoreError> {
        let (actor, event) = (actor.0.clone(), event.clone());
        self.write(move |tx, at| intel::create_event(tx, at, &actor, owner_org, &event)).await
    }

    async fn update_intel_event(
        &self,
        actor: &Actor,
        event: &IntelEvent,
    ) -> Result<StoredIntelEvent, StoreError> {
        let (actor, event) = (actor.0.clone(), event.clone());
        self.write(move |tx, at| intel::update_event(tx, at, &actor, &event, None)).await
    }

    async fn update_intel_event_at(
        &self,
        actor: &Actor,
        event: &IntelEvent,
        expected_updated_at: Timestamp,
    ) -> Result<StoredIntelEvent, StoreError> {
        let (actor, event) = (actor.0.clone(), event.clone());
        self.write(move |tx, at| intel::update_event(tx, at, &actor, &event, Some(expected_updated_at))).await
    }

    async fn delete_intel_event(&self, actor: &Actor, uuid: Uuid) -> Result<(), StoreError> {
        let actor = actor.0.clone();
        self.write(move |tx, at| intel::delete_event(tx, at, &actor, uuid)).await
    }

    async fn get_intel_event(&self, uuid: Uuid) -> Result<Option<StoredIntelEvent>, StoreError> {
        self.read(move |conn| intel::get_event(conn, uuid)).await
    }

    async fn intel_event_heads(&self, uuids: &[Uuid]) -> Result<Vec<IntelEventHead>, StoreError> {
        let uuids = uuids.to_vec();
        self.read(move |conn| intel::event_heads(conn, &uuids)).await
    }

    async fn get_intel_event_by_seq(&self, seq: i64) -> Result<Option<StoredIntelEvent>, StoreError> {
        self.read(move |conn| intel::get_event_by_seq(conn, seq)).await
    }

    async fn find_intel_attribute(&self, id: i64) -> Result<Option<(Uuid, Uuid)>, StoreError> {
        self.read(move |conn| intel::find_attribute(conn, id)).await
    }

    async fn intel_attribute_event(&self, attribute: Uuid) -> Result<Option<Uuid>, StoreError> {
        self.read(move |conn| intel::attribute_event(conn, attribute)).await
    }

    async fn sharing_group_ids(&self) -> Result<Vec<(Uuid, i64)>, StoreError> {
        self.read(intel::sharing_group_ids).await
    }

    async fn list_intel_events(&self, query: &IntelEventQuery) -> Result<Vec<StoredIntelEvent>, StoreError> {
        let query = query.clone();
        self.read(move |conn| intel::list_events(conn, &query)).await
    }

    async fn add_intel_sighting(
        &self,
        actor: &Actor,
        event: Uuid,
        attribute: Uuid,
        sighting: &Sighting,
    ) -> Result<StoredIntelEvent, StoreError> {
        let (actor, sighting) = (actor.0.clone(), sighting.clone());
        self.write(move |tx, at| intel::add_event_sighting(tx, at, &actor, event, attribute, &sighting)).await
    }

    async fn search_intel_attributes(
        &self,
        query: &AttributeQuery,
    ) -> Result<Vec<StoredAttribute>, StoreError> {
        let query = query.clone();
        self.read(move |conn| intel::search_attributes(conn, &query)).await
    }

    async fn put_sharing_group(
        &self,
        actor: &Actor,
        group: &SharingGroup,
    ) -> Result<SharingGroup, StoreError> {
        let (actor, group) = (actor.0.clone(), group.clone());
        self.write(move |tx, at| intel::put_group(tx, at, &actor, &group)).await
    }

    async fn get_sharing_group(&self, uuid: Uuid) -> Result<Option<SharingGroup>, StoreError> {
        self.read(move |conn| intel::get_group(conn, uuid)).await
    }

    async fn list_sharing_groups(&self) -> Result<Vec<SharingGroup>, StoreError> {
        self.read(intel::list_groups).await
    }

    async fn find_observables(
        &self,
        probes: &[ObservableProbe],
        per_probe: u32,
    ) -> Result<Vec<ObservableHit>, StoreError> {
        let probes = probes.to_vec();
        self.read(move |conn| intel::find_observables(conn, &probes, per_probe)).await
    }

    async fn put_intel_external_correlations(
        &self,
        event: Uuid,
        correlations: &ExternalCorrelations,
    ) -> Result<(), StoreError> {
        let correlations = correlations.clone();
        self.write(move |tx, _| intel::put_external(tx, event, &correlations)).await
    }

    async fn intel_external_correlations(&self, event: Uuid) -> Result<ExternalCorrelations, StoreError> {
        self.read(move |conn| intel::get_external(conn, event)).await
    }

    async fn intel_links_to(
        &self,
        kind: &str,
        target: Uuid,
        limit: u32,
    ) -> Result<Vec<(Uuid, ExternalCorrelation)>, StoreError> {
        let kind = kind.to_owned();
        self.read(move |conn| intel::links_to(conn, &kind, target, limit)).await
    }

    async fn delete_sharing_group(&self, actor: &Actor, uuid: Uuid) -> Result<(), StoreError> {
        let actor = actor.0.clone();
        self.write(move |tx, at| intel::delete_group(tx, at, &actor, uuid)).await
    }

    async fn create_strategy(
        &self,
        actor: &Actor,
        document: &StrategyDocument,
    ) -> Result<StoredStrategy, StoreError> {
        let (actor, document) = (actor.0.clone(), document.clone());
        self.write(move |tx, at| governance::create_strategy(tx, at, &actor, &document)).await
    }

    async fn update_strategy(
        &self,
        actor: &Actor,
        document: &StrategyDocument,
        expected_version: i64,
        action: &str,
    ) -> Result<StoredStrategy, StoreError> {
        let (actor, document, action) = (actor.0.clone(), document.clone(), action.to_owned());
        self.write(move |tx, at| {
            governance::update_strategy(tx, at, &actor, &document, expected_version, &action)
        })
        .await
    }

    async fn delete_strategy(&self, actor: &Actor, id: Uuid) -> Result<(), StoreError> {
        let actor = actor.0.clone();
        self.write(move |tx, at| governance::delete_strategy(tx, at, &actor, id)).await
    }

    async fn get_strategy(&self, id: Uuid) -> Result<Option<StoredStrategy>, StoreError> {
        self.read(move |conn| governance::get_strategy(conn, id)).await
    }

    async fn find_strategy(&self, code: &str) -> Result<Option<StoredStrategy>, StoreError> {
        let code = code.to_owned();
        self.read(move |conn| governance::find_strategy(conn, &code)).await
    }

    async fn list_strategies(&self) -> Result<Vec<StoredStrategy>, StoreError> {
        self.read(governance::list_strategies).await
    }

    async fn import_course(
        &self,
        actor: &Actor,
        id: Uuid,
        course: &Course,
    ) -> Result<StoredCourse, StoreError> {
        let (actor, course) = (actor.0.clone(), course.clone());
        self.write(move |tx, at| learning::import_course(tx, at, &actor, id, &course)).await
    }

    async fn get_course(&self, id: Uuid) -> Result<Option<StoredCourse>, StoreError> {
        self.read(move |conn| learning::get_course(conn, id)).await
    }

    async fn list_courses(&self) -> Result<Vec<StoredCourse>, StoreError> {
        self.read(learning::list_courses).await
    }

    async fn enrol(&self, actor: &Actor, enrolment: &Enrolment) -> Result<StoredEnrolment, StoreError> {
        let (actor, enrolment) = (actor.0.clone(), enrolment.clone());
        self.write(move |tx, at| learning::enrol(tx, at, &actor, &enrolment)).await
    }

    async fn update_enrolment(
        &self,
        actor: &Actor,
        enrolment: &Enrolment,
        expected_version: i64,
        certificate: Option<&Certificate>,
    ) -> Result<StoredEnrolment, StoreError> {
        let (actor, enrolment, certificate) = (actor.0.clone(), enrolment.clone(), certificate.cloned());
        self.write(move |tx, at| {
            learning::update_enrolment(tx, at, &actor, &enrolment, expected_version, certificate.as_ref())
        })
        .await
    }

    async fn get_enrolment(&self, id: Uuid) -> Result<Option<StoredEnrolment>, StoreError> {
        self.read(move |conn| learning::get_enrolment(conn, id)).await
    }

    async fn list_enrolments(&self, query: &EnrolmentQuery) -> Result<Vec<StoredEnrolment>, StoreError> {
        let query = query.clone();
        self.read(move |conn| learning::list_enrolments(conn, &query)).await
    }

    async fn start_attempt(&self, actor: &Actor, attempt: &QuizAttempt) -> Result<QuizAttempt, StoreError> {
        let (actor, attempt) = (actor.0.clone(), attempt.clone());
        self.write(move |tx, at| learning::start_attempt(tx, at, &actor, &attempt)).await
    }

    async fn submit_attempt(
        &self,
        actor: &Actor,
        attempt: &QuizAttempt,
        enrolment: &Enrolment,
        expected_version: i64,
        certificate: Option<&Certificate>,
    ) -> Result<StoredEnrolment, StoreError> {
        let (actor, attempt, enrolment, certificate) =
            (actor.0.clone(), attempt.clone(), enrolment.clone(), certificate.cloned());
        self.write(move |tx, at| {
            learning::submit_attempt(
                tx,
                at,
                &actor,
                &attempt,
                &enrolment,
                expected_version,
                certificate.as_ref(),
            )
        })
        .await
    }

    async fn get_attempt(&self, id: Uuid) -> Result<Option<QuizAttempt>, StoreError> {
        self.read(move |conn| learning::get_attempt(conn, id)).await
    }

    async fn list_attempts(&self, enrolment_id: Uuid) -> Result<Vec<QuizAttempt>, StoreError> {
        self.read(move |conn| learning::list_attempts(conn, enrolment_id)).await
    }

    async fn get_certificate(&self, code: &str) -> Result<Option<Certificate>, StoreError> {
        let code = code.to_owned();
        self.read(move |conn| learning::get_certificate(conn, &code)).await
    }

    async fn enrolment_certificate(&self, enrolment_id: Uuid) -> Result<Option<Certificate>, StoreError> {
        self.read(move |conn| learning::enrolment_certificate(conn, enrolment_id)).await
    }

    async fn create_programme(
        &self,
        actor: &Actor,
        programme: &neretva_learning::training::Programme,
    ) -> Result<neretva_store::training::StoredProgramme, StoreError> {
        let (actor, programme) = (actor.0.clone(), programme.clone());
        self.write(move |tx, at| training::create_programme(tx, at, &actor, &programme)).await
    }

    async fn update_programme(
        &self,
        actor: &Actor,
        programme: &neretva_learning::training::Programme,
        expected_version: i64,
    ) -> Result<neretva_store::training::StoredProgramme, StoreError> {
        let (actor, programme) = (actor.0.clone(), programme.clone());
        self.write(move |tx, at| training::update_programme(tx, at, &actor, &programme, expected_version))
            .await
    }

    async fn get_programme(
        &self,
        id: Uuid,
    ) -> Result<Option<neretva_store::training::StoredProgramme>, StoreError> {
        self.read(move |conn| training::get_programme(conn, id)).await
    }

    async fn list_programmes(&self) -> Result<Vec<neretva_store::training::StoredProgramme>, StoreError> {
        self.read(training::list_programmes).await
    }

    async fn create_training_session(
        &self,
        actor: &Actor,
        session: &neretva_learning::training::Session,
    ) -> Result<neretva_store::training::StoredSession, StoreError> {
        let (actor, session) = (actor.0.clone(), session.clone());
        self.write(move |tx, at| training::create_session(tx, at, &actor, &session)).await
    }

    async fn update_training_session(
        &self,
        actor: &Actor,
        session: &neretva_learning::training::Session,
        expected_version: i64,
    ) -> Result<neretva_store::training::StoredSession, StoreError> {
        let (actor, session) = (actor.0.clone(), session.clone());
        self.write(move |tx, at| training::update_session(tx, at, &actor, &session, expected_version)).await
    }

    async fn get_training_session(
        &self,
        id: Uuid,
    ) -> Result<Option<neretva_store::training::StoredSession>, StoreError> {
        self.read(move |conn| training::get_session(conn, id)).await
    }

    async fn list_training_sessions(
        &self,
        query: &neretva_store::training::SessionQuery,
    ) -> Result<Vec<neretva_store::training::StoredSession>, StoreError> {
        let query = query.clone();
        self.read(move |conn| training::list_sessions(conn, &query)).await
    }

    async fn register_participant(
        &self,
        actor: &Actor,
        participant: &neretva_learning::training::Participant,
    ) -> Result<neretva_learning::training::Participant, StoreError> {
        let (actor, participant) = (actor.0.clone(), participant.clone());
        self.write(move |tx, at| training::register_participant(tx, at, &actor, &participant)).await
    }

    async fn list_participants(
        &self,
        query: &neretva_store::training::ParticipantQuery,
    ) -> Result<Vec<neretva_learning::training::Participant>, StoreError> {
        let query = query.clone();
        self.read(move |conn| training::list_participants(conn, &query)).await
    }

    async fn record_attendance(
        &self,
        actor: &Actor,
        session: &neretva_learning::training::Session,
        expected_version: i64,
        participants: &[neretva_learning::training::Participant],
    ) -> Result<neretva_store::training::StoredSession, StoreError> {
        let (actor, session, participants) = (actor.0.clone(), session.clone(), participants.to_vec());
        self.write(move |tx, at| {
            training::record_attendance(tx, at, &actor, &session, expected_version, &participants)
        })
        .await
    }

    async fn submit_feedback(
        &self,
        actor: &Actor,
        feedback: &neretva_learning::training::Feedback,
    ) -> Result<neretva_learning::training::Feedback, StoreError> {
        let (actor, feedback) = (actor.0.clone(), feedback.clone());
        self.write(move |tx, at| training::submit_feedback(tx, at, &actor, &feedback)).await
    }

    async fn list_feedback(
        &self,
        session_id: Option<Uuid>,
    ) -> Result<Vec<neretva_learning::training::Feedback>, StoreError> {
        self.read(move |conn| training::list_feedback(conn, session_id)).await
    }

    async fn grant_trainer(
        &self,
        actor: &Actor,
        grant: &neretva_learning::training::TrainerGrant,
    ) -> Result<neretva_learning::training::TrainerGrant, StoreError> {
        let (actor, grant) = (actor.0.clone(), grant.clone());
        self.write(move |tx, at| training::grant_trainer(tx, at, &actor, &grant)).await
    }

    async fn list_trainer_grants(
        &self,
        programme_id: Option<Uuid>,
    ) -> Result<Vec<neretva_learning::training::TrainerGrant>, StoreError> {
        self.read(move |conn| training::list_trainer_grants(conn, programme_id)).await
    }

    async fn put_profile(
        &self,
        actor: &Actor,
        profile: &neretva_learning::training::Profile,
    ) -> Result<neretva_learning::training::Profile, StoreError> {
        let (actor, profile) = (actor.0.clone(), profile.clone());
        self.write(move |tx, at| training::put_profile(tx, at, &actor, &profile)).await
    }

    async fn get_profile(
        &self,
        user_id: Uuid,
    ) -> Result<Option<neretva_learning::training::Profile>, StoreError> {
        self.read(move |conn| training::get_profile(conn, user_id)).await
    }

    async fn list_profiles(&self) -> Result<Vec<neretva_learning::training::Profile>, StoreError> {
        self.read(training::list_profiles).await
    }

    async fn import_scenario(
        &self,
        actor: &Actor,
        id: Uuid,
        scenario: &Scenario,
    ) -> Result<StoredScenario, StoreError> {
        let (actor, scenario) = (actor.0.clone(), scenario.clone());
        self.write(move |tx, at| exercises::import_scenario(tx, at, &actor, id, &scenario)).await
    }

    async fn get_scenario(&self, id: Uuid) -> Result<Option<StoredScenario>, StoreError> {
        self.read(move |conn| exercises::get_scenario(conn, id)).await
    }

    async fn list_scenarios(&self) -> Result<Vec<StoredScenario>, StoreError> {
        self.read(exercises::list_scenarios).await
    }

    async fn create_exercise(
        &self,
        actor: &Actor,
        exercise: &Exercise,
    ) -> Result<StoredExercise, StoreError> {
        let (actor, exercise) = (actor.0.clone(), exercise.clone());
        self.write(move |tx, at| exercises::create_exercise(tx, at, &actor, &exercise)).await
    }

    async fn update_exercise(
        &self,
        actor: &Actor,
        exercise: &Exercise,
        expected_version: i64,
        action: &str,
    ) -> Result<StoredExercise, StoreError> {
        let (actor, exercise, action) = (actor.0.clone(), exercise.clone(), action.to_owned());
        self.write(move |tx, at| {
            exercises::update_exercise(tx, at, &actor, &exercise, expected_version, &action)
        })
        .await
    }

    async fn deliver_injects(
        &self,
        actor: &Actor,
        exercise_id: Uuid,
        expected_version: i64,
        deliveries: &[Delivery],
        action: &str,
        messages: &[NotificationWrite],
    ) -> Result<StoredExercise, StoreError> {
        let (actor, deliveries, action, messages) =
            (actor.0.clone(), deliveries.to_vec(), action.to_owned(), messages.to_vec());
        self.write(move |tx, at| {
            exercises::deliver_injects(
                tx,
                at,
                &actor,
                exercise_id,
                expected_version,
                &deliveries,
                &action,
                &messages,
            )
        })
        .await
    }

    async fn record_exercise_response(
        &self,
        actor: &Actor,
        response: &ExerciseResponse,
    ) -> Result<ExerciseResponse, StoreError> {
        let (actor, response) = (actor.0.clone(), response.clone());
        self.write(move |tx, at| exercises::record_response(tx, at, &actor, &response)).await
    }

    async fn get_exercise(&self, id: Uuid) -> Result<Option<StoredExercise>, StoreError> {
        self.read(move |conn| exercises::get_exercise(conn, id)).await
    }

    async fn list_exercises(&self) -> Result<Vec<StoredExercise>, StoreError> {
        self.read(exercises::list_exercises).await
    }

    async fn create_contact_point(
        &self,
        actor: &Actor,
        point: &ContactPoint,
    ) -> Result<StoredPoint, StoreError> {
        let (actor, point) = (actor.0.clone(), point.clone());
        self.write(move |tx, at| contact_points::create_contact_point(tx, at, &actor, &point)).await
    }

    async fn update_contact_point(
        &self,
        actor: &Actor,
        point: &ContactPoint,
        expected_version: i64,
    ) -> Result<StoredPoint, StoreError> {
        let (actor, point) = (actor.0.clone(), point.clone());
        self.write(move |tx, at| {
            contact_points::update_contact_point(tx, at, &actor, &point, expected_version)
        })
        .await
    }

    async fn delete_contact_point(&self, actor: &Actor, id: Uuid) -> Result<(), StoreError> {
        let actor = actor.0.clone();
        self.write(move |tx, at| contact_points::delete_contact_point(tx, at, &actor, id)).await
    }

    async fn get_contact_point(&self, id: Uuid) -> Result<Option<StoredPoint>, StoreError> {
        self.read(move |conn| contact_points::get_contact_point(conn, id)).await
    }

    async fn list_contact_points(&self, org: Option<Uuid>) -> Result<Vec<StoredPoint>, StoreError> {
        self.read(move |conn| contact_points::list_contact_points(conn, org)).await
    }

    async fn put_team_profile(
        &self,
        actor: &Actor,
        profile: &TeamProfile,
    ) -> Result<StoredProfile, StoreError> {
        let (actor, profile) = (actor.0.clone(), profile.clone());
        self.write(move |tx, at| contact_points::put_team_profile(tx, at, &actor, &profile)).await
    }

    async fn get_team_profile(&self, org: Uuid) -> Result<Option<StoredProfile>, StoreError> {
        self.read(move |conn| contact_points::get_team_profile(conn, org)).await
    }

    async fn create_check(
        &self,
        actor: &Actor,
        campaign: &Campaign,
        targets: &[ContactPoint],
    ) -> Result<StoredCampaign, StoreError> {
        let (actor, campaign, targets) = (actor.0.clone(), campaign.clone(), targets.to_vec());
        self.write(move |tx, at| contact_points::create_check(tx, at, &actor, &campaign, &targets)).await
    }

    async fn record_check_steps(
        &self,
        actor: &Actor,
        campaign: Uuid,
        steps: &[StepRecord],
    ) -> Result<(), StoreError> {
        let (actor, steps) = (actor.0.clone(), steps.to_vec());
        self.write(move |tx, at| contact_points::record_check_steps(tx, at, &actor, campaign, &steps)).await
    }

    async fn check_token(&self, token_hash: &str) -> Result<Option<TokenInfo>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read(move |conn| contact_points::check_token(conn, &token_hash)).await
    }

    async fn acknowledge_check(
        &self,
        token_hash: &str,
        at: Timestamp,
        ack: &Acknowledgment,
    ) -> Result<AckOutcome, StoreError> {
        let (token_hash, ack) = (token_hash.to_owned(), ack.clone());
        self.write(move |tx, now| contact_points::acknowledge_check(tx, now, &token_hash, at, &ack)).await
    }

    async fn acknowledge_check_target(
        &self,
        actor: &Actor,
        campaign: Uuid,
        point: Uuid,
        at: Timestamp,
        ack: &Acknowledgment,
    ) -> Result<StoredTarget, StoreError> {
        let (actor, ack) = (actor.0.clone(), ack.clone());
        self.write(move |tx, now| {
            contact_points::acknowledge_check_target(tx, now, at, &actor, campaign, point, &ack)
        })
        .await
    }

    async fn get_check(&self, id: Uuid) -> Result<Option<StoredCampaign>, StoreError> {
        self.read(move |conn| contact_points::get_check(conn, id)).await
    }

    async fn list_checks(&self) -> Result<Vec<StoredCampaign>, StoreError> {
        self.read(contact_points::list_checks).await
    }

    async fn create_preservation(
        &self,
        actor: &Actor,
        request: &PreservationRequest,
    ) -> Result<StoredPreservation, StoreError> {
        let (actor, request) = (actor.0.clone(), request.clone());
        self.write(move |tx, at| records::create(tx, at, &actor, &request)).await
    }

    async fn update_preservation(
        &self,
        actor: &Actor,
        request: &PreservationRequest,
        expected_version: i64,
        action: &str,
    ) -> Result<StoredPreservation, StoreError> {
        let (actor, request, action) = (actor.0.clone(), request.clone(), action.to_owned());
        self.write(move |tx, at| records::update(tx, at, &actor, &request, expected_version, &action)).await
    }

    async fn get_preservation(&self, id: Uuid) -> Result<Option<StoredPreservation>, StoreError> {
        self.read(move |conn| records::get(conn, id)).await
    }

    async fn find_preservation(&self, reference: &str) -> Result<Option<StoredPreservation>, StoreError> {
        let reference = reference.to_owned();
        self.read(move |conn| records::find(conn, &reference)).await
    }

    async fn list_preservations(&self) -> Result<Vec<StoredPreservation>, StoreError> {
        self.read(|conn| records::list(conn, None)).await
    }

    async fn create_assessment(
        &self,
        actor: &Actor,
        assessment: &Assessment,
    ) -> Result<StoredAssessment, StoreError> {
        let (actor, assessment) = (actor.0.clone(), assessment.clone());
        self.write(move |tx, at| records::create(tx, at, &actor, &assessment)).await
    }

    async fn update_assessment(
        &self,
        actor: &Actor,
        assessment: &Assessment,
        expected_version: i64,
        action: &str,
    ) -> Result<StoredAssessment, StoreError> {
        let (actor, assessment, action) = (actor.0.clone(), assessment.clone(), action.to_owned());
        self.write(move |tx, at| records::update(tx, at, &actor, &assessment, expected_version, &action))
            .await
    }

    async fn delete_assessment(&self, actor: &Actor, id: Uuid) -> Result<(), StoreError> {
        let actor = actor.0.clone();
        self.write(move |tx, at| records::delete::<Assessment>(tx, at, &actor, id)).await
    }

    async fn get_assessment(&self, id: Uuid) -> Result<Option<StoredAssessment>, StoreError> {
        self.read(move |conn| records::get(conn, id)).await
    }

    async fn list_assessments(&self, org: Option<Uuid>) -> Result<Vec<StoredAssessment>, StoreError> {
        self.read(move |conn| records::list(conn, org)).await
    }

    async fn create_group(&self, actor: &Actor, group: &WorkingGroup) -> Result<StoredGroup, StoreError> {
        let (actor, group) = (actor.0.clone(), group.clone());
        self.write(move |tx, at| groups::create_group(tx, at, &actor, &group)).await
    }

    async fn update_group(
        &self,
        actor: &Actor,
        group: &WorkingGroup,
        expected_version: i64,
        action: &str,
    ) -> Result<StoredGroup, StoreError> {
        let (actor, group, action) = (actor.0.clone(), group.clone(), action.to_owned());
        self.write(move |tx, at| groups::update_group(tx, at, &actor, &group, expected_version, &action))
            .await
    }

    async fn announce_group(
        &self,
        actor: &Actor,
        group: &WorkingGroup,
        expected_version: i64,
        messages: &[NotificationWrite],
    ) -> Result<(StoredGroup, Vec<StoredMessage>), StoreError> {
        let (actor, group, messages) = (actor.0.clone(), group.clone(), messages.to_vec());
        self.write(move |tx, at| groups::announce_group(tx, at, &actor, &group, expected_version, &messages))
            .await
    }

    async fn delete_group(&self, actor: &Actor, id: Uuid) -> Result<(), StoreError> {
        let actor = actor.0.clone();
        self.write(move |tx, at| groups::delete_group(tx, at, &actor, id)).await
    }

    async fn get_group(&self, id: Uuid) -> Result<Option<StoredGroup>, StoreError> {
        self.read(move |conn| groups::get_group(conn, id)).await
    }

    async fn find_group(&self, code: &str) -> Result<Option<StoredGroup>, StoreError> {
        let code = code.to_owned();
        self.read(move |conn| groups::find_group(conn, &code)).await
    }

    async fn list_groups(&self) -> Result<Vec<StoredGroup>, StoreError> {
        self.read(groups::list_groups).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pragma(conn: &Connection, name: &str) -> String {
        conn.query_row(&format!("PRAGMA {name}"), [], |row| row.get::<_, rusqlite::types::Value>(0))
            .map(|value| match value {
                rusqlite::types::Value::Integer(number) => number.to_string(),
                rusqlite::types::Value::Text(text) => text,
                other => format!("{other:?}"),
            })
            .expect("pragma")
    }

    #[tokio::test]
    async fn file_databases_use_wal_and_readers_only_read() {
        let path = std::env::temp_dir().join(format!("neretva-sqlite-{}.db", Uuid::new_v4()));
        let store = SqliteStore::open(&path).expect("open");
        store.migrate().await.expect("migrate");
        {
            let writer = store.writer.lock().await;
            assert_eq!(pragma(&writer, "journal_mode"), "wal");
            assert_eq!(pragma(&writer, "foreign_keys"), "1");
            assert_eq!(pragma(&writer, "synchronous"), "1", "NORMAL");
            assert_eq!(pragma(&writer, "busy_timeout"), "10000");
            assert_eq!(pragma(&writer, "page_size"), PAGE_SIZE.to_string());
            assert_ne!(pragma(&writer, "mmap_size"), "0");
        }
        let (query_only, foreign_keys) = store
            .read(|conn| Ok((pragma(conn, "query_only"), pragma(conn, "foreign_keys"))))
            .await
            .expect("read");
        assert_eq!((query_only.as_str(), foreign_keys.as_str()), ("1", "1"));
        drop(store);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }

    /// On a multi-threaded runtime, batches are written in place (`write_in_place`); a refused
    /// batch leaves nothing behind, in the events or in the deduplication index.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn batches_are_written_in_place_on_a_multi_threaded_runtime() {
        use neretva_store::feeds::{DedupKey, EventQuery, NewEvent};

        let store = SqliteStore::open_in_memory().expect("open");
        store.migrate().await.expect("migrate");
        let at = Timestamp::now_utc();
        let report_id = Uuid::now_v7();
        let event = |n: u32| NewEvent {
            org_ids: vec![Uuid::from_u128(7)],
            ..NewEvent::new(report_id, "feed", u64::from(n), format!("line {n}"), at, "{}")
        };
        let events: Vec<NewEvent> = (0..3).map(event).collect();
        assert_eq!(store.insert_events(&events).await.expect("insert"), 3);
        let mut again = vec![event(3), events[0].clone()];
        assert!(store.insert_events(&again).await.is_err(), "a stored id");
        again.truncate(1);
        assert_eq!(store.insert_events(&again).await.expect("insert"), 1);
        let query = EventQuery { report_id: Some(report_id), ..EventQuery::default() };
        assert_eq!(store.query_events(&query).await.expect("query").len(), 4);
        assert_eq!(store.pending_notifications(None, 0).await.expect("queue").len(), 4);

        let key = |name: &str| DedupKey { key: name.into(), seen_at: at, report_id: Uuid::from_u128(1) };
        let other = |name: &str| DedupKey { report_id: Uuid::from_u128(2), ..key(name) };
        let window = at - time::Duration::hours(1);
        assert_eq!(store.dedup_check(&[key("a"), key("a")], window).await.expect("check"), [false, true]);
        // A refused batch records nothing: b stays new.
        assert!(store.dedup_check(&[key("b"), key("c\u{0}")], window).await.is_err());
        assert_eq!(store.dedup_check(&[other("a"), other("b")], window).await.expect("check"), [true, false]);
    }

    /// Events' texts are written in blocks of consecutive events, read back through the
    /// function, searched, and deleted with the last event of their block; rows written before
    /// blocks existed keep their own texts.
    #[tokio::test]
    async fn event_texts_live_in_blocks_that_go_with_their_last_event() {
        use neretva_store::feeds::{EventQuery, NewEvent};

        let store = SqliteStore::open_in_memory().expect("open");
        store.migrate().await.expect("migrate");
        let now = Timestamp::now_utc();
        let old = now - time::Duration::days(10);
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let event = |report: Uuid, n: u64, at: Timestamp| {
            NewEvent::new(
                report,
                "feed",
                n,
                format!("line {n},é"),
                at,
                format!("{{\"n\": {n}, \"s\": \"needle{n}x\"}}"),
            )
        };
        // 100 events of a, then 50 of b: blocks of 64, 64 (36 of a, 28 of b) and 22 events.
        let batch: Vec<NewEvent> = (0..150)
            .map(|n| event(if n < 100 { a } else { b }, n, if n < 100 { old } else { now }))
            .collect();
        assert_eq!(store.insert_events(&batch).await.expect("insert"), 150);
        let blocks = || async {
            let writer = store.writer.lock().await;
            let counts: (i64, i64) = writer
                .query_row(
                    "SELECT (SELECT count(*) FROM event_blocks),
                            (SELECT count(*) FROM events WHERE raw <> '' OR json <> '')",
                    [],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .expect("count");
            counts
        };
        assert_eq!(blocks().await, (3, 0), "three blocks, no texts in the rows");
        let texts = |events: Vec<neretva_store::feeds::StoredEvent>| -> Vec<(u64, String, String)> {
            events
                .into_iter()
                .map(|stored| (stored.event.line, stored.event.raw, stored.event.json))
                .collect()
        };
        let expected = |n: u64| (n, batch[n as usize].raw.clone(), batch[n as usize].json.clone());
        let of_b =
            store.query_events(&EventQuery { report_id: Some(b), ..EventQuery::default() }).await.expect("b");
        assert_eq!(texts(of_b), (100..150).rev().map(expected).collect::<Vec<_>>());
        let found = |text: &str| {
            let query = EventQuery { text: Some(text.into()), ..EventQuery::default() };
            let store = &store;
            async move { texts(store.query_events(&query).await.expect("search")) }
        };
        assert_eq!(found("needle120x").await, [expected(120)]);
        assert_eq!(found("needle7x").await, [expected(7)]);
        let some = [batch[3].id, batch[70].id, batch[149].id];
        assert_eq!(
            texts(store.get_events(&some).await.expect("get")),
            [expected(3), expected(70), expected(149)]
        );

        // Deleting a's events drops the first block, whose events were all a's.
        assert_eq!(store.delete_report_events(a).await.expect("delete"), 100);
        assert_eq!(blocks().await, (2, 0));
        assert!(store.get_event(batch[3].id).await.expect("get").is_none());
        assert_eq!(texts(store.get_events(&[batch[100].id]).await.expect("get")), [expected(100)]);

        // A later batch's block goes with its events' purge.
        let later: Vec<NewEvent> = (150..160).map(|n| event(c, n, old)).collect();
        store.insert_events(&later).await.expect("insert");
        assert_eq!(blocks().await, (3, 0));
        assert_eq!(store.purge_events(now - time::Duration::days(1)).await.expect("purge"), 10);
        assert_eq!(blocks().await, (2, 0));

        // A row of the layout before blocks: its texts are its own.
        let id = Uuid::now_v7();
        {
            let writer = store.writer.lock().await;
            writer
                .execute(
                    "INSERT INTO events (id, report_id, feed, line, time_observation, stored_at, raw, json)
                     VALUES (?1, ?2, 'feed', 7, 0, 0, 'an old line', '{\"s\": \"old needle\"}')",
                    rusqlite::params![&id.as_bytes()[..], &c.as_bytes()[..]],
                )
                .expect("an old row");
        }
        let old_row = (7, "an old line".to_owned(), "{\"s\": \"old needle\"}".to_owned());
        assert_eq!(texts(store.get_events(&[id]).await.expect("get")), std::slice::from_ref(&old_row));
        assert_eq!(found("old needle").await, [old_row]);
        // b's fifty events and the old row, newest first.
        let all = found("needle").await;
        assert_eq!(all.len(), 51);
        assert_eq!((all[0].0, all[1].0, all[50].0), (7, 149, 100));
    }
}
