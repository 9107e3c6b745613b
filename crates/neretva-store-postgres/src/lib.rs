//! Neretva's scale-out storage backend: [`PostgresStore`] implements `neretva_store::Store` on
//! PostgreSQL with `tokio-postgres` and a `deadpool-postgres` connection pool.
//!
//! Several `neretva serve` processes may share one database, so correctness never rests on
//! process-local state: uniqueness is enforced by constraints, every change runs in a
//! transaction, and every audited change first locks the single `audit_head` row
//! (`SELECT ... FOR UPDATE`). That lock serialises writers across processes, so the audit chain
//! stays linear and checks such as parent cycles see everything committed before them.
//!
//! The schema lives in numbered scripts under `migrations/`, embedded in the binary and tracked
//! in `schema_migrations`; migrations run under an advisory lock, and [`PostgresStore::connect`]
//! refuses a database migrated by a newer binary.
//!
//! **Architecture Invariant:** only store crates know SQL. This crate owns PostgreSQL's SQL and
//! migrations; nothing outside `neretva-store-sqlite` and `neretva-store-postgres` writes a query.
//!
//! **Architecture Invariant:** every mutating method writes its change and its audit entry in one
//! transaction.

mod codec;
mod contact_points;
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
mod taxii;
mod training;

use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use neretva_governance::checks::Campaign;
use neretva_governance::contact_points::ContactPoint;
use neretva_governance::groups::WorkingGroup;
use neretva_governance::maturity::Assessment;
use neretva_governance::preservation::PreservationRequest;
use neretva_governance::rfc2350::TeamProfile;
use neretva_governance::strategy::StrategyDocument;
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

use neretva_incident::evidence::{CustodyEvent, CustodyRecord, Evidence, Sha256};
use neretva_incident::link::Link;
use neretva_incident::observable::Observable;
use neretva_incident::playbook::Task;
use neretva_incident::timeline::TimelineEntry;
use neretva_store::incidents::{
    BlobRef, IncidentQuery, IncidentReportQuery, IncidentWrite, IntakeQuery, MatchAddition, MatchesAdded,
    ObservableMatches, StoredIncident, StoredIncidentReport, StoredIntake, StoredObservable,
};

use crate::codec::{Error, Result, now};

/// How many connections one process keeps.
const POOL_SIZE: usize = 8;
/// How long to wait for a new connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The PostgreSQL store.
pub struct PostgresStore {
    pool: Pool,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").field("status", &self.pool.status()).finish()
    }
}

/// Runs one transaction on a pooled connection; `audited` transactions lock the audit head first.
macro_rules! transaction {
    ($store:expr, audited: $audited:expr, |$tx:ident| $body:expr) => {{
        let result: Result<_> = async {
            let mut client = $store.pool.get().await?;
            let $tx = client.transaction().await?;
            if $audited {
                ops::lock_head(&$tx).await?;
            }
            let value = $body.await?;
            $tx.commit().await?;
            Ok(value)
        }
        .await;
        result.map_err(|error: Error| error.0)
    }};
}

/// Runs one statement or a read on a pooled connection, outside an explicit transaction.
macro_rules! pooled {
    ($store:expr, |$client:ident| $body:expr) => {{
        let result: Result<_> = async {
            let pooled = $store.pool.get().await?;
            let $client = &pooled;
            $body.await
        }
        .await;
        result.map_err(|error: Error| error.0)
    }};
}

impl PostgresStore {
    /// Connects to a `postgres://` URL (with `?options=-csearch_path%3D<schema>` to use another
    /// schema), and checks that the schema is not newer than this binary. It does not migrate.
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        let mut config: tokio_postgres::Config =
            url.parse().map_err(|error| StoreError::Backend(format!("invalid PostgreSQL URL: {error}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("neretva");
        }
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
            ManagerConfig { recycling_method: RecyclingMethod::Fast },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|error| StoreError::Backend(format!("connection pool: {error}")))?;
        let store = PostgresStore { pool };
        pooled!(store, |client| migrations::check_not_too_new(client))?;
        Ok(store)
    }

    /// Runs SQL directly, bypassing the audit; only tests use this, to tamper with the data.
    #[doc(hidden)]
    pub async fn execute_raw(&self, sql: &str) -> Result<(), StoreError> {
        pooled!(self, |client| async { Ok(client.batch_execute(sql).await?) })
    }

    async fn migrate_all(&self) -> Result<SchemaStatus> {
        let mut client = self.pool.get().await?;
        for migration in migrations::MIGRATIONS {
            let tx = client.transaction().await?;
            tx.batch_execute(migrations::LOCK).await?;
            tx.batch_execute(migrations::CREATE_TRACKING).await?;
            migrations::check_not_too_new(&tx).await?;
            if migrations::applied(&tx, migration.version).await? {
                tx.rollback().await?;
                continue;
            }
            tx.batch_execute(migration.sql).await?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                &[&migration.version, &migration.name],
            )
            .await?;
            tx.commit().await?;
        }
        migrations::check_not_too_new(&client).await
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn migrate(&self) -> Result<SchemaStatus, StoreError> {
        self.migrate_all().await.map_err(|error| error.0)
    }

    async fn schema_status(&self) -> Result<SchemaStatus, StoreError> {
        pooled!(self, |client| migrations::status(client))
    }

    async fn create_org(
        &self,
        actor: &Actor,
        fields: &OrganisationFields,
    ) -> Result<Organisation, StoreError> {
        transaction!(self, audited: true, |tx| ops::create_org(&tx, now(), &actor.0, fields))
    }

    async fn update_org(
        &self,
        actor: &Actor,
        id: Uuid,
        fields: &OrganisationFields,
    ) -> Result<Organisation, StoreError> {
        transaction!(self, audited: true, |tx| ops::update_org(&tx, now(), &actor.0, id, fields))
    }

    async fn delete_org(&self, actor: &Actor, id: Uuid) -> Result<(), StoreError> {
        transaction!(self, audited: true, |tx| ops::delete_org(&tx, now(), &actor.0, id))
    }

    async fn get_org(&self, id: Uuid) -> Result<Option<Organisation>, StoreError> {
        pooled!(self, |client| ops::get_org(client, id))
    }

    async fn find_org(&self, short_name: &str) -> Result<Option<Organisation>, StoreError> {
        pooled!(self, |client| ops::find_org(client, short_name))
    }

    async fn list_orgs(&self) -> Result<Vec<Organisation>, StoreError> {
        pooled!(self, |client| ops::list_orgs(client))
    }

    async fn create_contact(
        &self,
        actor: &Actor,
        org_id: Uuid,
        fields: &ContactFields,
        pgp_fingerprint: Option<&str>,
    ) -> Result<Contact, StoreError> {
        transaction!(self, audited: true, |tx| {
            ops::create_contact(&tx, now(), &actor.0, org_id, fields, pgp_fingerprint)
        })
    }

    async fn update_contact(
        &self,
        actor: &Actor,
        id: Uuid,
        fields: &ContactFields,
        pgp_fingerprint: Option<&str>,
    ) -> Result<Contact, StoreError> {
        transaction!(self, audited: true, |tx| {
            ops::update_contact(&tx, now(), &actor.0, id, fields, pgp_fingerprint)
        })
    }

    async fn delete_contact(&self, actor: &Actor, id: Uuid) -> Result<(), StoreError> {
        transaction!(self, audited: true, |tx| ops::delete_contact(&tx, now(), &actor.0, id))
    }

    async fn get_contact(&self, id: Uuid) -> Result<Option<Contact>, StoreError> {
        pooled!(self, |client| ops::get_contact(client, id))
    }

    async fn list_contacts(&self, org_id: Option<Uuid>) -> Result<Vec<Contact>, StoreError> {
        pooled!(self, |client| ops::list_contacts(client, org_id))
    }

    async fn add_asset(
        &self,
        actor: &Actor,
        org_id: Uuid,
        value: &AssetValue,
        description: Option<&str>,
    ) -> Result<Asset, StoreError> {
        transaction!(self, audited: true, |tx| {
            ops::add_asset(&tx, now(), &actor.0, org_id, value, description)
        })
    }

    async fn delete_asset(&self, actor: &Actor, id: Uuid) -> Result<(), StoreError> {
        transaction!(self, audited: true, |tx| ops::delete_asset(&tx, now(), &actor.0, id))
    }

    async fn get_asset(&self, id: Uuid) -> Result<Option<Asset>, StoreError> {
        pooled!(self, |client| ops::get_asset(client, id))
    }

    async fn list_assets(&self, org_id: Option<Uuid>) -> Result<Vec<Asset>, StoreError> {
        pooled!(self, |client| ops::list_assets(client, org_id))
    }

    async fn import_registry(
        &self,
        actor: &Actor,
        document: &RegistryDocument,
        mode: ImportMode,
    ) -> Result<ImportSummary, StoreError> {
        transaction!(self, audited: true, |tx| {
            registry::import(&tx, now(), &actor.0, document, mode)
        })
    }

    async fn export_registry(&self) -> Result<RegistryDocument, StoreError> {
        let result: Result<_> = async {
            let mut client = self.pool.get().await?;
            // One snapshot for all the tables.
            let tx = client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?;
            let document = registry::export(&tx).await?;
            tx.commit().await?;
            Ok(document)
        }
        .await;
        result.map_err(|error: Error| error.0)
    }

    async fn create_user(&self, actor: &Actor, user: &NewUser) -> Result<User, StoreError> {
        transaction!(self, audited: true, |tx| ops::create_user(&tx, now(), &actor.0, user))
    }

    async fn update_user(&self, actor: &Actor, id: Uuid, patch: &UserPatch) -> Result<User, StoreError> {
        transaction!(self, audited: true, |tx| ops::update_user(&tx, now(), &actor.0, id, patch))
    }

    async fn get_user(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        pooled!(self, |client| ops::get_user(client, id))
    }

    async fn find_user(&self, username: &str) -> Result<Option<User>, StoreError> {
        pooled!(self, |client| ops::find_user(client, username))
    }

    async fn list_users(&self, org_id: Option<Uuid>) -> Result<Vec<User>, StoreError> {
        pooled!(self, |client| ops::list_users(client, org_id))
    }

    async fn password_hash(&self, id: Uuid) -> Result<Option<String>, StoreError> {
        pooled!(self, |client| ops::password_hash(client, id))
    }

    async fn set_password(&self, actor: &Actor, id: Uuid, password_hash: &str) -> Result<(), StoreError> {
        transaction!(self, audited: true, |tx| {
            ops::set_password(&tx, now(), &actor.0, id, password_hash)
        })
    }

    async fn set_user_disabled(&self, actor: &Actor, id: Uuid, disabled: bool) -> Result<User, StoreError> {
        transaction!(self, audited: true, |tx| {
            ops::set_user_disabled(&tx, now(), &actor.0, id, disabled)
        })
    }

    async fn unlock_user(&self, actor: &Actor, id: Uuid) -> Result<User, StoreError> {
        transaction!(self, audited: true, |tx| { ops::unlock_user(&tx, now(), &actor.0, id) })
    }

    async fn record_login(&self, id: Uuid, outcome: LoginOutcome) -> Result<User, StoreError> {
        // Plain failures are not audited and need not wait for the audit head.
        let audited = !matches!(outcome, LoginOutcome::Failure { lock_until: None, .. });
        transaction!(self, audited: audited, |tx| ops::record_login(&tx, id, outcome))
    }

    async fn create_token(&self, actor: &Actor, token: &NewToken) -> Result<Token, StoreError> {
        transaction!(self, audited: true, |tx| ops::create_token(&tx, now(), &actor.0, token))
    }

    async fn get_token(&self, id: Uuid) -> Result<Option<(Token, String)>, StoreError> {
        pooled!(self, |client| ops::get_token(client, id))
    }

    async fn list_tokens(&self, user_id: Option<Uuid>) -> Result<Vec<Token>, StoreError> {
        pooled!(self, |client| ops::list_tokens(client, user_id))
    }

    async fn revoke_token(&self, actor: &Actor, id: Uuid, at: Timestamp) -> Result<Token, StoreError> {
        transaction!(self, audited: true, |tx| ops::revoke_token(&tx, now(), &actor.0, id, at))
    }

    async fn touch_token(&self, id: Uuid, at: Timestamp) -> Result<(), StoreError> {
        pooled!(self, |client| ops::touch_token(client, id, at))
    }

    async fn create_session(&self, session: &Session) -> Result<(), StoreError> {
        transaction!(self, audited: false, |tx| ops::create_session(&tx, session))
    }

    async fn get_session(&self, id: Uuid) -> Result<Option<Session>, StoreError> {
        pooled!(self, |client| ops::get_session(client, id))
    }

    async fn delete_session(&self, id: Uuid) -> Result<(), StoreError> {
        pooled!(self, |client| ops::delete_session(client, id))
    }

    async fn delete_user_sessions(&self, user_id: Uuid) -> Result<u64, StoreError> {
        pooled!(self, |client| ops::delete_user_sessions(client, user_id))
    }

    async fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64, StoreError> {
        pooled!(self, |client| ops::delete_expired_sessions(client, now))
    }

    async fn append_audit(&self, event: &AuditEvent) -> Result<AuditEntry, StoreError> {
        transaction!(self, audited: true, |tx| ops::append_audit(&tx, now(), event.clone()))
    }

    async fn list_audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        pooled!(self, |client| ops::list_audit(client, query))
    }

    async fn audit_head(&self) -> Result<Option<(i64, String)>, StoreError> {
        pooled!(self, |client| ops::audit_head(client))
    }

    async fn store_report(&self, report: &NewReport) -> Result<(ReportInfo, bool), StoreError> {
        // Audited, but the head is locked only after the data went in (see `store_report`).
        transaction!(self, audited: false, |tx| feeds::store_report(&tx, report))
    }

    async fn get_report(&self, id: Uuid) -> Result<Option<ReportInfo>, StoreError> {
        pooled!(self, |client| feeds::get_report(client, id))
    }

    async fn report_data(&self, id: Uuid) -> Result<Option<Vec<u8>>, StoreError> {
        pooled!(self, |client| feeds::report_data(client, id))
    }

    async fn purge_report_data(&self, received_before: Timestamp) -> Result<u64, StoreError> {
        // One transaction per batch: other writers take their turn in between.
        let mut purged = 0;
        loop {
            let deleted = transaction!(self, audited: false, |tx| {
                feeds::purge_report_data(&tx, received_before, feeds::REPORT_PURGE_BATCH)
            })?;
            purged += deleted;
            if deleted < feeds::REPORT_PURGE_BATCH {
                return Ok(purged);
            }
        }
    }

    async fn list_reports(&self, query: &ReportQuery) -> Result<Vec<ReportInfo>, StoreError> {
        pooled!(self, |client| feeds::list_reports(client, query))
    }

    async fn finish_report(
        &self,
        id: Uuid,
        counts: ReportCounts,
        errors: &[ReportError],
        failure: Option<&str>,
        at: Timestamp,
    ) -> Result<ReportInfo, StoreError> {
        transaction!(self, audited: false, |tx| {
            feeds::finish_report(&tx, id, counts, errors, failure, at)
        })
    }

    async fn report_errors(&self, id: Uuid, limit: u32) -> Result<Vec<ReportError>, StoreError> {
        pooled!(self, |client| feeds::report_errors(client, id, limit))
    }

    async fn source_record(&self, feed: &str) -> Result<Option<SourceRecord>, StoreError> {
        pooled!(self, |client| feeds::source_record(client, feed))
    }

    async fn save_source_record(&self, record: &SourceRecord) -> Result<(), StoreError> {
        pooled!(self, |client| feeds::save_source_record(client, record))
    }

    async fn insert_events(&self, events: &[NewEvent]) -> Result<u64, StoreError> {
        if events.is_empty() {
            return Ok(0);
        }
        transaction!(self, audited: false, |tx| feeds::insert_events(&tx, now(), events))
    }

    async fn store_events(&self, batch: EventBatch) -> Result<Vec<bool>, StoreError> {
        encode::check_batch(&batch)?;
        let EventBatch { events, dedup } = batch;
        // One transaction: keys are recorded exactly when their events are stored.
        transaction!(self, audited: false, |tx| async {
            let duplicates = match &dedup {
                Some(dedup) if !dedup.keys.is_empty() => {
                    feeds::dedup_check(&tx, &dedup.keys, dedup.window_start).await?
                }
                _ => vec![false; events.len()],
            };
            let fresh: Vec<NewEvent> = events
                .into_iter()
                .zip(&duplicates)
                .filter_map(|(event, duplicate)| (!duplicate).then_some(event))
                .collect();
            if !fresh.is_empty() {
                feeds::insert_events(&tx, now(), &fresh).await?;
            }
            Ok::<_, Error>(duplicates)
        })
    }

    async fn delete_report_events(&self, report_id: Uuid) -> Result<u64, StoreError> {
        // With the rollups' change, in one transaction.
        transaction!(self, audited: false, |tx| feeds::delete_report_events(&tx, report_id))
    }

    async fn get_event(&self, id: Uuid) -> Result<Option<StoredEvent>, StoreError> {
        pooled!(self, |client| feeds::get_event(client, id))
    }

    async fn get_events(&self, ids: &[Uuid]) -> Result<Vec<StoredEvent>, StoreError> {
        pooled!(self, |client| feeds::get_events(client, ids))
    }

    async fn query_events(&self, query: &EventQuery) -> Result<Vec<StoredEvent>, StoreError> {
        pooled!(self, |client| feeds::query_events(client, query))
    }

    async fn event_scan_floor(&self, before: Option<Uuid>, depth: u32) -> Result<Option<Uuid>, StoreError> {
        pooled!(self, |client| feeds::event_scan_floor(client, before, depth))
    }

    async fn event_counts(&self, query: &EventCountQuery) -> Result<EventCounts, StoreError> {
        pooled!(self, |client| feeds::event_counts(client, query))
    }

    async fn purge_events(&self, before: Timestamp) -> Result<u64, StoreError> {
        // One transaction per batch, with the rollups' change.
        let mut purged = 0;
        loop {
            let deleted = transaction!(self, audited: false, |tx| {
                feeds::purge_events(&tx, before, feeds::PURGE_BATCH)
            })?;
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
        transaction!(self, audited: false, |tx| {
            feeds::dedup_check(&tx, keys, window_start)
        })
    }

    async fn dedup_purge(&self, before: Timestamp) -> Result<u64, StoreError> {
        let mut purged = 0;
        loop {
            let deleted = pooled!(self, |client| { feeds::dedup_purge(client, before, feeds::PURGE_BATCH) })?;
            purged += deleted;
            if deleted < feeds::PURGE_BATCH {
                return Ok(purged);
            }
        }
    }

    async fn pending_notifications(
        &self,
        org_id: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
        pooled!(self, |client| feeds::pending_notifications(client, org_id, limit))
    }

    async fn notification_orgs(&self) -> Result<Vec<Uuid>, StoreError> {
        pooled!(self, |client| notifications::notification_orgs(client))
    }

    async fn queued_notifications(
        &self,
        org_id: Uuid,
        limit: u32,
    ) -> Result<Vec<QueuedNotification>, StoreError> {
        pooled!(self, |client| notifications::queued_notifications(client, org_id, limit))
    }

    async fn suppression_state(
        &self,
        org_id: Uuid,
        keys: &[String],
    ) -> Result<Vec<(String, Timestamp)>, StoreError> {
        pooled!(self, |client| notifications::suppression_state(client, org_id, keys))
    }

    async fn record_notifications(
        &self,
        actor: &Actor,
        write: &NotificationWrite,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        transaction!(self, audited: true, |tx| notifications::record_notifications(&tx, now(), &actor.0, write))
    }

    async fn due_messages(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<(StoredMessage, Vec<u8>)>, StoreError> {
        pooled!(self, |client| notifications::due_messages(client, now, limit))
    }

    async fn record_attempt(
        &self,
        id: Uuid,
        at: Timestamp,
        outcome: &Attempt,
    ) -> Result<StoredMessage, StoreError> {
        transaction!(self, audited: true, |tx| notifications::record_attempt(&tx, id, at, outcome))
    }

    async fn get_message(&self, id: Uuid) -> Result<Option<StoredMessage>, StoreError> {
        pooled!(self, |client| notifications::get_message(client, id))
    }

    async fn message_events(&self, id: Uuid) -> Result<Vec<Uuid>, StoreError> {
        pooled!(self, |client| notifications::message_events(client, id))
    }

    async fn list_messages(&self, query: &MessageQuery) -> Result<Vec<StoredMessage>, StoreError> {
        pooled!(self, |client| notifications::list_messages(client, query))
    }

    async fn schedule_state(&self, org_id: Uuid) -> Result<Vec<ScheduleState>, StoreError> {
        pooled!(self, |client| notifications::schedule_state(client, org_id))
    }

    async fn suppressed_count(&self, org_id: Uuid) -> Result<u64, StoreError> {
        pooled!(self, |client| notifications::suppressed_count(client, org_id))
    }

    async fn contact_deliveries(&self, org_id: Uuid) -> Result<Vec<ContactDelivery>, StoreError> {
        pooled!(self, |client| notifications::contact_deliveries(client, org_id))
    }

    async fn pending_status_announcements(&self, limit: u32) -> Result<Vec<PendingStatus>, StoreError> {
        pooled!(self, |client| notifications::pending_status_announcements(client, limit))
    }

    async fn announced(&self, org_id: Uuid, incident_id: Uuid) -> Result<Vec<String>, StoreError> {
        pooled!(self, |client| notifications::announced(client, org_id, incident_id))
    }

    async fn write_incidents(
        &self,
        actor: &Actor,
        writes: &[IncidentWrite],
    ) -> Result<Vec<StoredIncident>, StoreError> {
        transaction!(self, audited: true, |tx| incidents::write_incidents(&tx, now(), &actor.0, writes))
    }

    async fn get_incident(&self, id: Uuid) -> Result<Option<StoredIncident>, StoreError> {
        pooled!(self, |client| incidents::get_incident(client, id))
    }

    async fn list_incidents(&self, query: &IncidentQuery) -> Result<Vec<StoredIncident>, StoreError> {
        pooled!(self, |client| incidents::list_incidents(client, query))
    }

    async fn incident_timeline(&self, id: Uuid) -> Result<Vec<TimelineEntry>, StoreError> {
        pooled!(self, |client| incidents::incident_timeline(client, id))
    }

    async fn incident_tasks(&self, id: Uuid) -> Result<Vec<Task>, StoreError> {
        pooled!(self, |client| incidents::incident_tasks(client, id))
    }

    async fn incident_observables(&self, id: Uuid) -> Result<Vec<StoredObservable>, StoreError> {
        pooled!(self, |client| incidents::incident_observables(client, id))
    }

    async fn observable_matches(
        &self,
        observable: &Observable,
    ) -> Result<Option<ObservableMatches>, StoreError> {
        pooled!(self, |client| incidents::observable_matches(client, observable))
    }

    async fn open_observables(&self, limit: u32) -> Result<Vec<Observable>, StoreError> {
        pooled!(self, |client| incidents::open_observables(client, limit))
    }

    async fn add_observable_matches(
        &self,
        actor: &Actor,
        additions: &[MatchAddition],
        at: Timestamp,
    ) -> Result<Vec<MatchesAdded>, StoreError> {
        transaction!(self, audited: true, |tx| incidents::add_observable_matches(&tx, now(), at, &actor.0, additions))
    }

    async fn incident_links(&self, id: Uuid) -> Result<Vec<Link>, StoreError> {
        pooled!(self, |client| incidents::incident_links(client, id))
    }

    async fn incident_evidence(&self, id: Uuid) -> Result<Vec<Evidence>, StoreError> {
        pooled!(self, |client| incidents::incident_evidence(client, id))
    }

    async fn record_custody(&self, actor: &Actor, event: &CustodyEvent) -> Result<CustodyRecord, StoreError> {
        transaction!(self, audited: true, |tx| incidents::record_custody(&tx, now(), &actor.0, event))
    }

    async fn custody(&self, incident_id: Uuid, sha256: &Sha256) -> Result<Vec<CustodyRecord>, StoreError> {
        pooled!(self, |client| incidents::custody(client, incident_id, sha256))
    }

    async fn blobs(&self) -> Result<Vec<BlobRef>, StoreError> {
        pooled!(self, |client| incidents::blobs(client))
    }

    async fn submit_incident_report(
        &self,
        actor: &Actor,
        report: &StoredIncidentReport,
        writes: &[IncidentWrite],
    ) -> Result<StoredIncidentReport, StoreError> {
        transaction!(self, audited: true, |tx| {
            incidents::submit_incident_report(&tx, now(), &actor.0, report, writes)
        })
    }

    async fn get_incident_report(&self, id: Uuid) -> Result<Option<StoredIncidentReport>, StoreError> {
        pooled!(self, |client| incidents::get_incident_report(client, id))
    }

    async fn list_incident_reports(
        &self,
        query: &IncidentReportQuery,
    ) -> Result<Vec<StoredIncidentReport>, StoreError> {
        pooled!(self, |client| incidents::list_incident_reports(client, query))
    }

    async fn record_intake(
        &self,
        actor: &Actor,
        intake: &StoredIntake,
        writes: &[IncidentWrite],
    ) -> Result<StoredIntake, StoreError> {
        transaction!(self, audited: true, |tx| incidents::record_intake(&tx, now(), &actor.0, intake, writes))
    }

    async fn get_intake(&self, id: Uuid) -> Result<Option<StoredIntake>, StoreError> {
        pooled!(self, |client| incidents::get_intake(client, id))
    }

    async fn list_intakes(&self, query: &IntakeQuery) -> Result<Vec<StoredIntake>, StoreError> {
        pooled!(self, |client| incidents::list_intakes(client, query))
    }

    async fn create_collection(
        &self,
        actor: &Actor,
        id: Uuid,
        fields: &CollectionFields,
    ) -> Result<Collection, StoreError> {
        transaction!(self, audited: true, |tx| taxii::create_collection(&tx, now(), &actor.0, id, fields))
    }

    async fn update_collection(
        &self,
        actor: &Actor,
        id: Uuid,
        fields: &CollectionFields,
    ) -> Result<Collection, StoreError> {
        transaction!(self, audited: true, |tx| taxii::update_collection(&tx, now(), &actor.0, id, fields))
    }

    async fn delete_collection(&self, actor: &Actor, id: Uuid) -> Result<(), StoreError> {
        transaction!(self, audited: true, |tx| taxii::delete_collection(&tx, now(), &actor.0, id))
    }

    async fn get_collection(&self, id: Uuid) -> Result<Option<Collection>, StoreError> {
        pooled!(self, |client| taxii::get_collection(client, id))
    }

    async fn find_collection(&self, alias: &str) -> Result<Option<Collection>, StoreError> {
        pooled!(self, |client| taxii::find_collection(client, alias))
    }

    async fn list_collections(&self) -> Result<Vec<Collection>, StoreError> {
        pooled!(self, |client| taxii::list_collections(client))
    }

    async fn add_objects(&self, actor: &Actor, request: &AddObjects) -> Result<Status, StoreError> {
        transaction!(self, audited: true, |tx| taxii::add_objects(&tx, now(), &actor.0, request))
    }

    async fn query_objects(&self, query: &ObjectQuery) -> Result<Vec<StoredObject>, StoreError> {
        pooled!(self, |client| taxii::query_objects(client, query))
    }

    async fn delete_objects(
        &self,
        actor: &Actor,
        collection_id: Uuid,
        stix_id: &str,
        rows: &[i64],
    ) -> Result<u64, StoreError> {
        transaction!(self, audited: true, |tx| taxii::delete_objects(&tx, now(), &actor.0, collection_id, stix_id, rows))
    }

    async fn get_status(&self, id: Uuid) -> Result<Option<Status>, StoreError> {
        pooled!(self, |client| taxii::get_status(client, id))
    }

    async fn taxii_paging_key(&self) -> Result<Vec<u8>, StoreError> {
        pooled!(self, |client| taxii::paging_key(client))
    }

    async fn create_intel_event(
        &self,
        actor: &Actor,
        owner_org: Uuid,
        event: &IntelEvent,
    ) -> Result<StoredIntelEvent, StoreError> {
        transaction!(self, audited: true, |tx| intel::create_event(&tx, now(), &actor.0, owner_org, event))
    }

    async fn update_intel_event(
        &self,
        actor: &Actor,
        event: &IntelEvent,
    ) -> Result<StoredIntelEvent, StoreError> {
        transaction!(self, audited: true, |tx| intel::update_event(&tx, now(), &actor.0, event, None))
    }

    async fn update_intel_event_at(
        &self,
        actor: &Actor,
        event: &IntelEvent,
        expected_updated_at: Timestamp,
    ) -> Result<StoredIntelEvent, StoreError> {
        transaction!(self, audited: true, |tx| intel::update_event(
            &tx,
            now(),
            &actor.0,
            event,
            Some(expected_updated_at)
        ))
    }

    async fn delete_intel_event(&self, actor: &Actor, uuid: Uuid) -> Result<(), StoreError> {
        transaction!(self, audited: true, |tx| intel::delete_event(&tx, now(), &actor.0, uuid))
    }

    async fn get_intel_event(&self, uuid: Uuid) -> Result<Option<StoredIntelEvent>, StoreError> {
        pooled!(self, |client| intel::get_event(client, uuid))
    }

    async fn intel_event_heads(&self, uuids: &[Uuid]) -> Result<Vec<IntelEventHead>, StoreError> {
        pooled!(self, |client| intel::event_heads(client, uuids))
    }

    async fn get_intel_event_by_seq(&self, seq: i64) -> Result<Option<StoredIntelEvent>, StoreError> {
        pooled!(self, |client| intel::get_event_by_seq(client, seq))
    }

    async fn find_intel_attribute(&self, id: i64) -> Result<Option<(Uuid, Uuid)>, StoreError> {
        pooled!(self, |client| intel::find_attribute(client, id))
    }

    async fn intel_attribute_event(&self, attribute: Uuid) -> Result<Option<Uuid>, StoreError> {
        pooled!(self, |client| intel::attribute_event(client, attribute))
    }

    async fn sharing_group_ids(&self) -> Result<Vec<(Uuid, i64)>, StoreError> {
        pooled!(self, |client| intel::sharing_group_ids(client))
    }

    async fn list_intel_events(&self, query: &IntelEventQuery) -> Result<Vec<StoredIntelEvent>, StoreError> {
        pooled!(self, |client| intel::list_events(client, query))
    }

    async fn add_intel_sighting(
        &self,
        actor: &Actor,
        event: Uuid,
        attribute: Uuid,
        sighting: &Sighting,
    ) -> Result<StoredIntelEvent, StoreError> {
        transaction!(self, audited: true, |tx| intel::add_event_sighting(&tx, now(), &actor.0, event, attribute, sighting))
    }

    async fn search_intel_attributes(
        &self,
        query: &AttributeQuery,
    ) -> Result<Vec<StoredAttribute>, StoreError> {
        pooled!(self, |client| intel::search_attributes(client, query))
    }

    async fn put_sharing_group(
        &self,
        actor: &Actor,
        group: &SharingGroup,
    ) -> Result<SharingGroup, StoreError> {
        transaction!(self, audited: true, |tx| intel::put_group(&tx, now(), &actor.0, group))
    }

    async fn get_sharing_group(&self, uuid: Uuid) -> Result<Option<SharingGroup>, StoreError> {
        pooled!(self, |client| intel::get_group(client, uuid))
    }

    async fn list_sharing_groups(&self) -> Result<Vec<SharingGroup>, StoreError> {
        pooled!(self, |client| intel::list_groups(client))
    }

    async fn find_observables(
        &self,
        probes: &[ObservableProbe],
        per_probe: u32,
    ) -> Result<Vec<ObservableHit>, StoreError> {
        pooled!(self, |client| intel::find_observables(client, probes, per_probe))
    }

    async fn put_intel_external_correlations(
        &self,
        event: Uuid,
        correlations: &ExternalCorrelations,
    ) -> Result<(), StoreError> {
        transaction!(self, audited: false, |tx| intel::put_external(&tx, event, correlations))
    }

    async fn intel_external_correlations(&self, event: Uuid) -> Result<ExternalCorrelations, StoreError> {
        pooled!(self, |client| intel::get_external(client, event))
    }

    async fn intel_links_to(
        &self,
        kind: &str,
        target: Uuid,
        limit: u32,
    ) -> Result<Vec<(Uuid, ExternalCorrelation)>, StoreError> {
        pooled!(self, |client| intel::links_to(client, kind, target, limit))
    }

    async fn delete_sharing_group(&self, actor: &Actor, uuid: Uuid) -> Result<(), StoreError> {
        transaction!(self, audited: true, |tx| intel::delete_group(&tx, now(), &actor.0, uuid))
    }

    async fn create_strategy(
        &self,
        actor: &Actor,
        document: &StrategyDocument,
    ) -> Result<StoredStrategy, StoreError> {
        transaction!(self, audited: true, |tx| governance::create_strategy(&tx, now(), &actor.0, document))
    }

    async fn update_strategy(
        &self,
        actor: &Actor,
        document: &StrategyDocument,
        expected_version: i64,
        action: &str,
    ) -> Result<StoredStrategy, StoreError> {
        transaction!(self, audited: true, |tx| governance::update_strategy(
            &tx,
            now(),
            &actor.0,
            document,
            expected_version,
            action
        ))
    }

    async fn delete_strategy(&self, actor: &Actor, id: Uuid) -> Result<(), StoreError> {
        transaction!(self, audited: true, |tx| governance::delete_strategy(&tx, now(), &actor.0, id))
    }

    async fn get_strategy(&self, id: Uuid) -> Result<Option<StoredStrategy>, StoreError> {
        pooled!(self, |client| governance::get_strategy(client, id))
    }

    async fn find_strategy(&self, code: &str) -> Result<Option<StoredStrategy>, StoreError> {
        pooled!(self, |client| governance::find_strategy(client, code))
    }

    async fn list_strategies(&self) -> Result<Vec<StoredStrategy>, StoreError> {
        pooled!(self, |client| governance::list_strategies(client))
    }

    async fn import_course(
        &self,
        actor: &Actor,
        id: Uuid,
        course: &Course,
    ) -> Result<StoredCourse, StoreError> {
        transaction!(self, audited: true, |tx| learning::import_course(&tx, now(), &actor.0, id, course))
    }

    async fn get_course(&self, id: Uuid) -> Result<Option<StoredCourse>, StoreError> {
        pooled!(self, |client| learning::get_course(client, id))
    }

    async fn list_courses(&self) -> Result<Vec<StoredCourse>, StoreError> {
        pooled!(self, |client| learning::list_courses(client))
    }

    async fn enrol(&self, actor: &Actor, enrolment: &Enrolment) -> Result<StoredEnrolment, StoreError> {
        transaction!(self, audited: true, |tx| learning::enrol(&tx, now(), &actor.0, enrolment))
    }

    async fn update_enrolment(
        &self,
        actor: &Actor,
        enrolment: &Enrolment,
        expected_version: i64,
        certificate: Option<&Certificate>,
    ) -> Result<StoredEnrolment, StoreError> {
        transaction!(self, audited: true, |tx| learning::update_enrolment(
            &tx,
            now(),
            &actor.0,
            enrolment,
            expected_version,
            certificate
        ))
    }

    async fn get_enrolment(&self, id: Uuid) -> Result<Option<StoredEnrolment>, StoreError> {
        pooled!(self, |client| learning::get_enrolment(client, id))
    }

    async fn list_enrolments(&self, query: &EnrolmentQuery) -> Result<Vec<StoredEnrolment>, StoreError> {
        pooled!(self, |client| learning::list_enrolments(client, query))
    }

    async fn start_attempt(&self, actor: &Actor, attempt: &QuizAttempt) -> Result<QuizAttempt, StoreError> {
        transaction!(self, audited: true, |tx| learning::start_attempt(&tx, now(), &actor.0, attempt))
    }

    async fn submit_attempt(
        &self,
        actor: &Actor,
        attempt: &QuizAttempt,
        enrolment: &Enrolment,
        expected_version: i64,
        certificate: Option<&Certificate>,
    ) -> Result<StoredEnrolment, StoreError> {
        transaction!(self, audited: true, |tx| learning::submit_attempt(
            &tx,
            now(),
            &actor.0,
            attempt,
            enrolment,
            expected_version,
            certificate
        ))
    }

    async fn get_attempt(&self, id: Uuid) -> Result<Option<QuizAttempt>, StoreError> {
        pooled!(self, |client| learning::get_attempt(client, id))
    }

    async fn list_attempts(&self, enrolment_id: Uuid) -> Result<Vec<QuizAttempt>, StoreError> {
        pooled!(self, |client| learning::list_attempts(client, enrolment_id))
    }

    async fn get_certificate(&self, code: &str) -> Result<Option<Certificate>, StoreError> {
        pooled!(self, |client| learning::get_certificate(client, code))
    }

    async fn enrolment_certificate(&self, enrolment_id: Uuid) -> Result<Option<Certificate>, StoreError> {
        pooled!(self, |client| learning::enrolment_certificate(client, enrolment_id))
    }

    async fn create_programme(
        &self,
        actor: &Actor,
        programme: &neretva_learning::training::Programme,
    ) -> Result<neretva_store::training::StoredProgramme, StoreError> {
        transaction!(self, audited: true, |tx| training::create_programme(&tx, now(), &actor.0, programme))
    }

    async fn update_programme(
        &self,
        actor: &Actor,
        programme: &neretva_learning::training::Programme,
        expected_version: i64,
    ) -> Result<neretva_store::training::StoredProgramme, StoreError> {
        transaction!(self, audited: true, |tx| training::update_programme(
            &tx,
            now(),
            &actor.0,
            programme,
            expected_version
        ))
    }

    async fn get_programme(
        &self,
        id: Uuid,
    ) -> Result<Option<neretva_store::training::StoredProgramme>, StoreError> {
        pooled!(self, |client| training::get_programme(client, id))
    }

    async fn list_programmes(&self) -> Result<Vec<neretva_store::training::StoredProgramme>, StoreError> {
        pooled!(self, |client| training::list_programmes(client))
    }

    async fn create_training_session(
        &self,
        actor: &Actor,
        session: &neretva_learning::training::Session,
    ) -> Result<neretva_store::training::StoredSession, StoreError> {
        transaction!(self, audited: true, |tx| training::create_session(&tx, now(), &actor.0, session))
    }

    async fn update_training_session(
        &self,
        actor: &Actor,
        session: &neretva_learning::training::Session,
        expected_version: i64,
    ) -> Result<neretva_store::training::StoredSession, StoreError> {
        transaction!(self, audited: true, |tx| training::update_session(
            &tx,
            now(),
            &actor.0,
            session,
            expected_version
        ))
    }

    async fn get_training_session(
        &self,
        id: Uuid,
    ) -> Result<Option<neretva_store::training::StoredSession>, StoreError> {
        pooled!(self, |client| training::get_session(client, id))
    }

    async fn list_training_sessions(
        &self,
        query: &neretva_store::training::SessionQuery,
    ) -> Result<Vec<neretva_store::training::StoredSession>, StoreError> {
        pooled!(self, |client| training::list_sessions(client, query))
    }

    async fn register_participant(
        &self,
        actor: &Actor,
        participant: &neretva_learning::training::Participant,
    ) -> Result<neretva_learning::training::Participant, StoreError> {
        transaction!(self, audited: true, |tx| training::register_participant(&tx, now(), &actor.0, participant))
    }

    async fn list_participants(
        &self,
        query: &neretva_store::training::ParticipantQuery,
    ) -> Result<Vec<neretva_learning::training::Participant>, StoreError> {
        pooled!(self, |client| training::list_participants(client, query))
    }

    async fn record_attendance(
        &self,
        actor: &Actor,
        session: &neretva_learning::training::Session,
        expected_version: i64,
        participants: &[neretva_learning::training::Participant],
    ) -> Result<neretva_store::training::StoredSession, StoreError> {
        transaction!(self, audited: true, |tx| training::record_attendance(
            &tx,
            now(),
            &actor.0,
            session,
            expected_version,
            participants
        ))
    }

    async fn submit_feedback(
        &self,
        actor: &Actor,
        feedback: &neretva_learning::training::Feedback,
    ) -> Result<neretva_learning::training::Feedback, StoreError> {
        transaction!(self, audited: true, |tx| training::submit_feedback(&tx, now(), &actor.0, feedback))
    }

    async fn list_feedback(
        &self,
        session_id: Option<Uuid>,
    ) -> Result<Vec<neretva_learning::training::Feedback>, StoreError> {
        pooled!(self, |client| training::list_feedback(client, session_id))
    }

    async fn grant_trainer(
        &self,
        actor: &Actor,
        grant: &neretva_learning::training::TrainerGrant,
    ) -> Result<neretva_learning::training::TrainerGrant, StoreError> {
        transaction!(self, audited: true, |tx| training::grant_trainer(&tx, now(), &actor.0, grant))
    }

    async fn list_trainer_grants(
        &self,
        programme_id: Option<Uuid>,
    ) -> Result<Vec<neretva_learning::training::TrainerGrant>, StoreError> {
        pooled!(self, |client| training::list_trainer_grants(client, programme_id))
    }

    async fn put_profile(
        &self,
        actor: &Actor,
        profile: &neretva_learning::training::Profile,
    ) -> Result<neretva_learning::training::Profile, StoreError> {
        transaction!(self, audited: true, |tx| training::put_profile(&tx, now(), &actor.0, profile))
    }

    async fn get_profile(
        &self,
        user_id: Uuid,
    ) -> Result<Option<neretva_learning::training::Profile>, StoreError> {
        pooled!(self, |client| training::get_profile(client, user_id))
    }

    async fn list_profiles(&self) -> Result<Vec<neretva_learning::training::Profile>, StoreError> {
        pooled!(self, |client| training::list_profiles(client))
    }

    async fn import_scenario(
        &self,
        actor: &Actor,
        id: Uuid,
        scenario: &Scenario,
    ) -> Result<StoredScenario, StoreError> {
        transaction!(self, audited: true, |tx| exercises::import_scenario(&tx, now(), &actor.0, id, scenario))
    }

    async fn get_scenario(&self, id: Uuid) -> Result<Option<StoredScenario>, StoreError> {
        pooled!(self, |client| exercises::get_scenario(client, id))
    }

    async fn list_scenarios(&self) -> Result<Vec<StoredScenario>, StoreError> {
        pooled!(self, |client| exercises::list_scenarios(client))
    }

    async fn create_exercise(
        &self,
        actor: &Actor,
        exercise: &Exercise,
    ) -> Result<StoredExercise, StoreError> {
        transaction!(self, audited: true, |tx| exercises::create_exercise(&tx, now(), &actor.0, exercise))
    }

    async fn update_exercise(
        &self,
        actor: &Actor,
        exercise: &Exercise,
        expected_version: i64,
        action: &str,
    ) -> Result<StoredExercise, StoreError> {
        transaction!(self, audited: true, |tx| exercises::update_exercise(
            &tx,
            now(),
            &actor.0,
            exercise,
            expected_version,
            action
        ))
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
        transaction!(self, audited: true, |tx| exercises::deliver_injects(
            &tx,
            now(),
            &actor.0,
            exercise_id,
            expected_version,
            deliveries,
            action,
            messages
        ))
    }

    async fn record_exercise_response(
        &self,
        actor: &Actor,
        response: &ExerciseResponse,
    ) -> Result<ExerciseResponse, StoreError> {
        transaction!(self, audited: true, |tx| exercises::record_response(&tx, now(), &actor.0, response))
    }

    async fn get_exercise(&self, id: Uuid) -> Result<Option<StoredExercise>, StoreError> {
        pooled!(self, |client| exercises::get_exercise(client, id))
    }

    async fn list_exercises(&self) -> Result<Vec<StoredExercise>, StoreError> {
        pooled!(self, |client| exercises::list_exercises(client))
    }

    async fn create_contact_point(
        &self,
        actor: &Actor,
        point: &ContactPoint,
    ) -> Result<StoredPoint, StoreError> {
        transaction!(self, audited: true, |tx| contact_points::create_contact_point(&tx, now(), &actor.0, point))
    }

    async fn update_contact_point(
        &self,
        actor: &Actor,
        point: &ContactPoint,
        expected_version: i64,
    ) -> Result<StoredPoint, StoreError> {
        transaction!(self, audited: true, |tx| contact_points::update_contact_point(
            &tx,
            now(),
            &actor.0,
            point,
            expected_version
        ))
    }

    async fn delete_contact_point(&self, actor: &Actor, id: Uuid) -> Result<(), StoreError> {
        transaction!(self, audited: true, |tx| contact_points::delete_contact_point(&tx, now(), &actor.0, id))
    }

    async fn get_contact_point(&self, id: Uuid) -> Result<Option<StoredPoint>, StoreError> {
        pooled!(self, |client| contact_points::get_contact_point(client, id))
    }

    async fn list_contact_points(&self, org: Option<Uuid>) -> Result<Vec<StoredPoint>, StoreError> {
        pooled!(self, |client| contact_points::list_contact_points(client, org))
    }

    async fn put_team_profile(
        &self,
        actor: &Actor,
        profile: &TeamProfile,
    ) -> Result<StoredProfile, StoreError> {
        transaction!(self, audited: true, |tx| contact_points::put_team_profile(&tx, now(), &actor.0, profile))
    }

    async fn get_team_profile(&self, org: Uuid) -> Result<Option<StoredProfile>, StoreError> {
        pooled!(self, |client| contact_points::get_team_profile(client, org))
    }

    async fn create_check(
        &self,
        actor: &Actor,
        campaign: &Campaign,
        targets: &[ContactPoint],
    ) -> Result<StoredCampaign, StoreError> {
        transaction!(self, audited: true, |tx| contact_points::create_check(&tx, now(), &actor.0, campaign, targets))
    }

    async fn record_check_steps(
        &self,
        actor: &Actor,
        campaign: Uuid,
        steps: &[StepRecord],
    ) -> Result<(), StoreError> {
        transaction!(self, audited: true, |tx| contact_points::record_check_steps(
            &tx,
            now(),
            &actor.0,
            campaign,
            steps
        ))
    }

    async fn check_token(&self, token_hash: &str) -> Result<Option<TokenInfo>, StoreError> {
        pooled!(self, |client| contact_points::check_token(client, token_hash))
    }

    async fn acknowledge_check(
        &self,
        token_hash: &str,
        at: Timestamp,
        ack: &Acknowledgment,
    ) -> Result<AckOutcome, StoreError> {
        transaction!(self, audited: true, |tx| contact_points::acknowledge_check(&tx, now(), token_hash, at, ack))
    }

    async fn acknowledge_check_target(
        &self,
        actor: &Actor,
        campaign: Uuid,
        point: Uuid,
        at: Timestamp,
        ack: &Acknowledgment,
    ) -> Result<StoredTarget, StoreError> {
        transaction!(self, audited: true, |tx| contact_points::acknowledge_check_target(
            &tx,
            now(),
            at,
            &actor.0,
            campaign,
            point,
            ack
        ))
    }

    async fn get_check(&self, id: Uuid) -> Result<Option<StoredCampaign>, StoreError> {
        pooled!(self, |client| contact_points::get_check(client, id))
    }

    async fn list_checks(&self) -> Result<Vec<StoredCampaign>, StoreError> {
        pooled!(self, |client| contact_points::list_checks(client))
    }

    async fn create_preservation(
        &self,
        actor: &Actor,
        request: &PreservationRequest,
    ) -> Result<StoredPreservation, StoreError> {
        transaction!(self, audited: true, |tx| records::create(&tx, now(), &actor.0, request))
    }

    async fn update_preservation(
        &self,
        actor: &Actor,
        request: &PreservationRequest,
        expected_version: i64,
        action: &str,
    ) -> Result<StoredPreservation, StoreError> {
        transaction!(self, audited: true, |tx| records::update(
            &tx,
            now(),
            &actor.0,
            request,
            expected_version,
            action
        ))
    }

    async fn get_preservation(&self, id: Uuid) -> Result<Option<StoredPreservation>, StoreError> {
        pooled!(self, |client| records::get(client, id))
    }

    async fn find_preservation(&self, reference: &str) -> Result<Option<StoredPreservation>, StoreError> {
        pooled!(self, |client| records::find(client, reference))
    }

    async fn list_preservations(&self) -> Result<Vec<StoredPreservation>, StoreError> {
        pooled!(self, |client| records::list(client, None))
    }

    async fn create_assessment(
        &self,
        actor: &Actor,
        assessment: &Assessment,
    ) -> Result<StoredAssessment, StoreError> {
        transaction!(self, audited: true, |tx| records::create(&tx, now(), &actor.0, assessment))
    }

    async fn update_assessment(
        &self,
        actor: &Actor,
        assessment: &Assessment,
        expected_version: i64,
        action: &str,
    ) -> Result<StoredAssessment, StoreError> {
        transaction!(self, audited: true, |tx| records::update(
            &tx,
            now(),
            &actor.0,
            assessment,
            expected_version,
            action
        ))
    }

    async fn delete_assessment(&self, actor: &Actor, id: Uuid) -> Result<(), StoreError> {
        transaction!(self, audited: true, |tx| records::delete::<_, Assessment>(&tx, now(), &actor.0, id))
    }

    async fn get_assessment(&self, id: Uuid) -> Result<Option<StoredAssessment>, StoreError> {
        pooled!(self, |client| records::get(client, id))
    }

    async fn list_assessments(&self, org: Option<Uuid>) -> Result<Vec<StoredAssessment>, StoreError> {
        pooled!(self, |client| records::list(client, org))
    }

    async fn create_group(&self, actor: &Actor, group: &WorkingGroup) -> Result<StoredGroup, StoreError> {
        transaction!(self, audited: true, |tx| groups::create_group(&tx, now(), &actor.0, group))
    }

    async fn update_group(
        &self,
        actor: &Actor,
        group: &WorkingGroup,
        expected_version: i64,
        action: &str,
    ) -> Result<StoredGroup, StoreError> {
        transaction!(self, audited: true, |tx| groups::update_group(
            &tx,
            now(),
            &actor.0,
            group,
            expected_version,
            action
        ))
    }

    async fn announce_group(
        &self,
        actor: &Actor,
        group: &WorkingGroup,
        expected_version: i64,
        messages: &[NotificationWrite],
    ) -> Result<(StoredGroup, Vec<StoredMessage>), StoreError> {
        transaction!(self, audited: true, |tx| groups::announce_group(
            &tx,
            now(),
            &actor.0,
            group,
            expected_version,
            messages
        ))
    }

    async fn delete_group(&self, actor: &Actor, id: Uuid) -> Result<(), StoreError> {
        transaction!(self, audited: true, |tx| groups::delete_group(&tx, now(), &actor.0, id))
    }

    async fn get_group(&self, id: Uuid) -> Result<Option<StoredGroup>, StoreError> {
        pooled!(self, |client| groups::get_group(client, id))
    }

    async fn find_group(&self, code: &str) -> Result<Option<StoredGroup>, StoreError> {
        pooled!(self, |client| groups::find_group(client, code))
    }

    async fn list_groups(&self) -> Result<Vec<StoredGroup>, StoreError> {
        pooled!(self, |client| groups::list_groups(client))
    }
}
