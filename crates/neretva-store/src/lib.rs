//! Neretva's storage interface: the [`Store`] trait, its query types and [`StoreError`].
//!
//! **API Boundary.** Handlers, the CLI and the pipeline hold an `Arc<dyn Store>`.
//!
//! **Architecture Invariant:** this crate knows no SQL and no database driver. Each backend crate
//! (`neretva-store-sqlite`, `neretva-store-postgres`) owns its SQL and its migrations, and the
//! shared suite in `neretva-store-tests` runs against both.
//!
//! **Architecture Invariant:** every mutating method takes the [`Actor`] and appends its audit
//! entry in the same transaction as the change, so a change without its audit entry cannot be
//! committed.

pub mod blobs;
pub mod contact_points;
pub mod encode;
pub mod exercises;
pub mod feeds;
pub mod governance;
pub mod groups;
pub mod import_plan;
pub mod incidents;
pub mod intel;
pub mod learning;
pub mod notifications;
pub mod records;
pub mod rollup;
pub mod taxii;
pub mod training;

use async_trait::async_trait;
use neretva_governance::checks::Campaign;
use neretva_governance::contact_points::ContactPoint;
use neretva_governance::groups::WorkingGroup;
use neretva_governance::rfc2350::TeamProfile;
use neretva_model::asset::{Asset, AssetValue};
use neretva_model::audit::{AuditEntry, AuditEvent};
use neretva_model::contact::{Contact, ContactFields, Language};
use neretva_model::org::{Organisation, OrganisationFields};
use neretva_model::registry_io::{ImportError, RegistryDocument};
use neretva_model::user::{Role, Scope, Token, User};
use neretva_model::{Timestamp, Uuid};

use neretva_governance::maturity::Assessment;
use neretva_governance::preservation::PreservationRequest;
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

use crate::contact_points::{
    AckOutcome, Acknowledgment, StepRecord, StoredCampaign, StoredPoint, StoredProfile, StoredTarget,
    TokenInfo,
};
use crate::exercises::{StoredExercise, StoredScenario};
use crate::feeds::{
    DedupKey, EventBatch, EventCountQuery, EventCounts, EventQuery, NewEvent, NewReport, ReportCounts,
    ReportError, ReportInfo, ReportQuery, SourceRecord, StoredEvent,
};
use crate::governance::StoredStrategy;
use crate::groups::StoredGroup;
use crate::incidents::{
    BlobRef, IncidentQuery, IncidentReportQuery, IncidentWrite, IntakeQuery, MatchAddition, MatchesAdded,
    ObservableMatches, StoredIncident, StoredIncidentReport, StoredIntake, StoredObservable,
};
use crate::intel::{
    AttributeQuery, ExternalCorrelation, ExternalCorrelations, IntelEventHead, IntelEventQuery,
    ObservableHit, ObservableProbe, StoredAttribute, StoredIntelEvent,
};
use crate::learning::{EnrolmentQuery, StoredCourse, StoredEnrolment};
use crate::notifications::{
    Attempt, ContactDelivery, MessageQuery, NotificationWrite, PendingStatus, QueuedNotification,
    ScheduleState, StoredMessage,
};
use crate::records::{StoredAssessment, StoredPreservation};
use crate::taxii::{AddObjects, Collection, CollectionFields, ObjectQuery, Status, StoredObject};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What can go wrong in a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist.
    #[error("{kind} {key} not found")]
    NotFound { kind: &'static str, key: String },
    /// A uniqueness or reference rule forbids the change; `field` names the offending field.
    #[error("{field}: {message}")]
    Conflict { field: String, message: String },
    /// A bulk import found problems; nothing was written.
    #[error("import rejected with {} errors", .0.len())]
    Import(Vec<ImportError>),
    /// The database was migrated by a newer Neretva.
    #[error(
        "database schema version {found} is newer than this binary supports ({supported}); upgrade Neretva"
    )]
    SchemaTooNew { found: i64, supported: i64 },
    /// The database schema is older than this binary; run `neretva migrate`.
    #[error(
        "database schema version {found} is older than this binary needs ({supported}); run `neretva migrate`"
    )]
    SchemaTooOld { found: i64, supported: i64 },
    /// The database failed; the message is for the log, not for API clients.
    #[error("database error: {0}")]
    Backend(String),
}

impl StoreError {
    pub fn not_found(kind: &'static str, key: impl ToString) -> StoreError {
        StoreError::NotFound { kind, key: key.to_string() }
    }

    pub fn conflict(field: impl Into<String>, message: impl Into<String>) -> StoreError {
        StoreError::Conflict { field: field.into(), message: message.into() }
    }
}

/// Who makes a change, as recorded in the audit log: `user:<name>`, `cli:<os user>`, `system`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(pub String);

impl Actor {
    pub fn system() -> Actor {
        Actor("system".into())
    }
}

/// The state of the database schema against this binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaStatus {
    /// The newest migration applied to the database; 0 for an empty database.
    pub current: i64,
    /// The newest migration this binary knows.
    pub latest: i64,
}

/// A new user; the password hash is computed by the caller (argon2id PHC string).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub org_id: Uuid,
    pub username: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub role: Role,
    /// The sectors a competent authority supervises (`user::check_sectors`).
    pub sectors: Vec<String>,
    pub language: Option<Language>,
    pub password_hash: Option<String>,
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub display_name: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub role: Option<Role>,
    pub sectors: Option<Vec<String>>,
    pub language: Option<Option<Language>>,
    pub org_id: Option<Uuid>,
}

/// The outcome of a password check, recorded on the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginOutcome {
    Success {
        at: Timestamp,
    },
    /// A failure; `lock_until` is set when this failure locks the account.
    Failure {
        at: Timestamp,
        lock_until: Option<Timestamp>,
    },
}

/// A new API token; the secret is hashed by the caller and never stored in clear.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub scope: Scope,
    pub expires_at: Option<Timestamp>,
    pub secret_hash: String,
}

/// A login session; the cookie carries the id and a secret, the store keeps the secret's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: Uuid,
    pub user_id: Uuid,
    pub secret_hash: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// How a bulk import treats organisations that already exist (matched by short name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// An existing short name or name is an error.
    CreateOnly,
    /// Existing organisations are updated; their contacts and assets are replaced by the file's.
    Upsert,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub organisations_created: u64,
    pub organisations_updated: u64,
    pub contacts: u64,
    pub assets: u64,
}

/// A page of the audit log, oldest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only entries with a larger sequence number.
    pub after_seq: i64,
    pub limit: u32,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub object_id: Option<String>,
    /// Only entries written at or after this time.
    pub since: Option<Timestamp>,
    /// Only entries written before this time.
    pub until: Option<Timestamp>,
}

/// Everything Neretva stores.
///
/// Methods that change data take an [`Actor`] and write their audit entry in the same
/// transaction. Reads do no access control: callers filter with `neretva_model::access::may_see`.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    /// Applies pending migrations and returns the resulting status.
    async fn migrate(&self) -> Result<SchemaStatus>;
    /// Reports the schema version without changing anything.
    async fn schema_status(&self) -> Result<SchemaStatus>;

    // Organisations.
    async fn create_org(&self, actor: &Actor, fields: &OrganisationFields) -> Result<Organisation>;
    async fn update_org(&self, actor: &Actor, id: Uuid, fields: &OrganisationFields) -> Result<Organisation>;
    /// Deletes an organisation with its contacts and assets; refused while it has users or
    /// child organisations.
    async fn delete_org(&self, actor: &Actor, id: Uuid) -> Result<()>;
    async fn get_org(&self, id: Uuid) -> Result<Option<Organisation>>;
    async fn find_org(&self, short_name: &str) -> Result<Option<Organisation>>;
    /// All organisations, ordered by name.
    async fn list_orgs(&self) -> Result<Vec<Organisation>>;

    // Contacts.
    async fn create_contact(
        &self,
        actor: &Actor,
        org_id: Uuid,
        fields: &ContactFields,
        pgp_fingerprint: Option<&str>,
    ) -> Result<Contact>;
    async fn update_contact(
        &self,
        actor: &Actor,
        id: Uuid,
        fields: &ContactFields,
        pgp_fingerprint: Option<&str>,
    ) -> Result<Contact>;
    async fn delete_contact(&self, actor: &Actor, id: Uuid) -> Result<()>;
    async fn get_contact(&self, id: Uuid) -> Result<Option<Contact>>;
    /// Contacts of one organisation, or of all, ordered by organisation and name.
    async fn list_contacts(&self, org_id: Option<Uuid>) -> Result<Vec<Contact>>;

    // Assets.
    /// Adds an asset; the same value twice for one organisation is a conflict, while the same
    /// value for two organisations is allowed (and reported as an overlap by lookups).
    async fn add_asset(
        &self,
        actor: &Actor,
        org_id: Uuid,
        value: &AssetValue,
        description: Option<&str>,
    ) -> Result<Asset>;
    async fn delete_asset(&self, actor: &Actor, id: Uuid) -> Result<()>;
    async fn get_asset(&self, id: Uuid) -> Result<Option<Asset>>;
    /// Assets of one organisation, or of all, ordered by organisation, kind and value.
    async fn list_assets(&self, org_id: Option<Uuid>) -> Result<Vec<Asset>>;

    // Bulk import and export.
    /// Imports a whole document in one transaction: either everything is written or nothing.
    /// Problems that need the database (duplicates against stored organisations, unknown
    /// parents, parent cycles) are reported as `StoreError::Import` with the record's line.
    async fn import_registry(
        &self,
        actor: &Actor,
        document: &RegistryDocument,
        mode: ImportMode,
    ) -> Result<ImportSummary>;
    /// The whole constituency as a document (the caller audits the export with its digest).
    async fn export_registry(&self) -> Result<RegistryDocument>;

    // Users.
    async fn create_user(&self, actor: &Actor, user: &NewUser) -> Result<User>;
    async fn update_user(&self, actor: &Actor, id: Uuid, patch: &UserPatch) -> Result<User>;
    async fn get_user(&self, id: Uuid) -> Result<Option<User>>;
    async fn find_user(&self, username: &str) -> Result<Option<User>>;
    /// Users of one organisation, or all, ordered by username.
    async fn list_users(&self, org_id: Option<Uuid>) -> Result<Vec<User>>;
    /// The argon2id PHC string of the user's password, if one is set.
    async fn password_hash(&self, id: Uuid) -> Result<Option<String>>;
    async fn set_password(&self, actor: &Actor, id: Uuid, password_hash: &str) -> Result<()>;
    /// Disables or enables a user; disabling also revokes the user's sessions.
    async fn set_user_disabled(&self, actor: &Actor, id: Uuid, disabled: bool) -> Result<User>;
    /// Lifts a lock-out after failed logins: the failure count goes back to zero (audited as
    /// `user.unlock`).
    async fn unlock_user(&self, actor: &Actor, id: Uuid) -> Result<User>;
    /// Records a login attempt: a success clears the failure count and lock, a failure counts.
    /// Successes and lock-outs are audited; plain failures are counted, not audited.
    async fn record_login(&self, id: Uuid, outcome: LoginOutcome) -> Result<User>;

    // API tokens.
    async fn create_token(&self, actor: &Actor, token: &NewToken) -> Result<Token>;
    /// A token and its secret's hash.
    async fn get_token(&self, id: Uuid) -> Result<Option<(Token, String)>>;
    /// Tokens of one user, or all, newest first.
    async fn list_tokens(&self, user_id: Option<Uuid>) -> Result<Vec<Token>>;
    async fn revoke_token(&self, actor: &Actor, id: Uuid, at: Timestamp) -> Result<Token>;
    /// Notes the token's use; not audited.
    async fn touch_token(&self, id: Uuid, at: Timestamp) -> Result<()>;

    // Sessions.
    async fn create_session(&self, session: &Session) -> Result<()>;
    async fn get_session(&self, id: Uuid) -> Result<Option<Session>>;
    async fn delete_session(&self, id: Uuid) -> Result<()>;
    async fn delete_user_sessions(&self, user_id: Uuid) -> Result<u64>;
    async fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64>;

    // Audit log.
    /// Appends an entry for something that is not a change made through this trait, such as
    /// an export; serialised with concurrent appenders so the chain stays linear.
    async fn append_audit(&self, event: &AuditEvent) -> Result<AuditEntry>;
    async fn list_audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>>;
    /// The newest entry's sequence number and hash, from the head record.
    async fn audit_head(&self) -> Result<Option<(i64, String)>>;

    // Feed reports.
    /// Stores a raw report before it is parsed. A report with the same feed and SHA-256 as a
    /// stored one is not stored twice: the stored one is returned with `false`. A stored report
    /// is audited as `report.store` by [`NewReport::actor`], with its SHA-256 as the digest.
    async fn store_report(&self, report: &NewReport) -> Result<(ReportInfo, bool)>;
    async fn get_report(&self, id: Uuid) -> Result<Option<ReportInfo>>;
    /// The report's raw bytes, for re-parsing; `None` for an unknown report or one whose data
    /// was purged.
    async fn report_data(&self, id: Uuid) -> Result<Option<Vec<u8>>>;
    /// Deletes the raw data of reports received before `received_before`, in batches of their
    /// own transactions; the reports' rows, counts, errors and events stay, and the same
    /// content is still recognised by its SHA-256. Returns how many reports lost their data.
    async fn purge_report_data(&self, received_before: Timestamp) -> Result<u64>;
    async fn list_reports(&self, query: &ReportQuery) -> Result<Vec<ReportInfo>>;
    /// Records the outcome of parsing: the counts and the records that failed. Replaces the
    /// errors of an earlier run, so a re-parse leaves only its own. The status becomes `Failed`
    /// with a `failure`, `Parsed` without.
    async fn finish_report(
        &self,
        id: Uuid,
        counts: ReportCounts,
        errors: &[ReportError],
        failure: Option<&str>,
        at: Timestamp,
    ) -> Result<ReportInfo>;
    /// The records of a report that failed to parse, by line (then in the order given to
    /// `finish_report`); `limit` 0 means 100, at most 10,000.
    async fn report_errors(&self, id: Uuid, limit: u32) -> Result<Vec<ReportError>>;
    /// A feed's saved source state, if its source saved one.
    async fn source_record(&self, feed: &str) -> Result<Option<SourceRecord>>;
    /// Saves a feed's source state, replacing the one before ([`SourceRecord::check`] first).
    async fn save_source_record(&self, record: &SourceRecord) -> Result<()>;

    // Events.
    /// Stores a batch of events in one transaction and queues a notification for each
    /// organisation an event concerns. An id already stored is a conflict on `id`, and then
    /// nothing of the batch is stored.
    async fn insert_events(&self, events: &[NewEvent]) -> Result<u64>;
    /// Checks a batch's deduplication keys ([`Store::dedup_check`]) and stores the events that
    /// are not duplicates ([`Store::insert_events`]); a backend that can does both in one
    /// transaction, so keys are recorded exactly when their events are stored. The batch is
    /// given, not lent, so a backend can hand it to another thread without copying it. Returns,
    /// for each event, whether it was a duplicate (and so not stored).
    async fn store_events(&self, batch: EventBatch) -> Result<Vec<bool>> {
        let duplicates = match &batch.dedup {
            Some(dedup) => {
                encode::check_batch(&batch)?;
                self.dedup_check(&dedup.keys, dedup.window_start).await?
            }
            None => vec![false; batch.events.len()],
        };
        let fresh: Vec<NewEvent> = batch
            .events
            .into_iter()
            .zip(&duplicates)
            .filter_map(|(event, duplicate)| (!duplicate).then_some(event))
            .collect();
        self.insert_events(&fresh).await?;
        Ok(duplicates)
    }
    /// Deletes the events of a report (before re-parsing it); returns how many.
    async fn delete_report_events(&self, report_id: Uuid) -> Result<u64>;
    async fn get_event(&self, id: Uuid) -> Result<Option<StoredEvent>>;
    /// The stored events among `ids`, in one query (at most 10,000 ids), in the order of `ids`;
    /// ids not stored are left out.
    async fn get_events(&self, ids: &[Uuid]) -> Result<Vec<StoredEvent>>;
    /// Events matching every filter, newest first (by id).
    async fn query_events(&self, query: &EventQuery) -> Result<Vec<StoredEvent>>;
    /// The id of the `depth`-th newest event below `before` (below none: of all events), or
    /// `None` when fewer remain. A search for events from this floor up to `before`
    /// ([`EventQuery::floor`]) reads at most `depth` events, whatever its filters.
    async fn event_scan_floor(&self, before: Option<Uuid>, depth: u32) -> Result<Option<Uuid>>;
    /// Counts events by day and classification type, and by organisation, for overviews, from
    /// the rollups every event write keeps (`rollup`): the work grows with days, types and
    /// organisations, not with events.
    async fn event_counts(&self, query: &EventCountQuery) -> Result<EventCounts>;
    /// Deletes events observed before `before`, with their routing and queued notifications, in
    /// batches of their own transactions; returns how many.
    async fn purge_events(&self, before: Timestamp) -> Result<u64>;

    // Deduplication state, persistent across restarts.
    /// Checks keys against the ones seen since `window_start` and records them. Returns, in
    /// order, whether each key is a duplicate (seen before, or earlier in the same batch).
    /// A key that is not a duplicate (new, last seen before `window_start`, or recorded by the
    /// same report) is recorded with its `seen_at` and report; a duplicate keeps the time it was
    /// first seen, so the window does not slide.
    async fn dedup_check(&self, keys: &[DedupKey], window_start: Timestamp) -> Result<Vec<bool>>;
    /// Forgets keys seen before `before`.
    async fn dedup_purge(&self, before: Timestamp) -> Result<u64>;

    // Notification queue (consumed by constituent notifications).
    /// Queued (organisation, event) pairs not yet taken, oldest first; `limit` 0 means 100, at
    /// most 10,000.
    async fn pending_notifications(&self, org_id: Option<Uuid>, limit: u32) -> Result<Vec<(Uuid, Uuid)>>;
    /// The organisations with pending queue entries, in id order.
    async fn notification_orgs(&self) -> Result<Vec<Uuid>>;
    /// An organisation's pending queue entries with their events, oldest first; `limit` 0
    /// means 100, at most 100,000.
    async fn queued_notifications(&self, org_id: Uuid, limit: u32) -> Result<Vec<QueuedNotification>>;
    /// When each of `keys` was last told to the organisation (keys never told are absent).
    async fn suppression_state(&self, org_id: Uuid, keys: &[String]) -> Result<Vec<(String, Timestamp)>>;
    /// Records one pass over an organisation in one transaction: the messages (pending, or
    /// failed with their `failure`) with the events each tells about, the queue entries
    /// taken, the suppression keys told (now) and counted, and the schedules delivered. Each
    /// message is audited as `notification.create` with the SHA-256 of its bytes.
    async fn record_notifications(
        &self,
        actor: &Actor,
        write: &NotificationWrite,
    ) -> Result<Vec<StoredMessage>>;
    /// Pending messages whose next attempt is due at `now`, oldest first, with their bytes.
    async fn due_messages(&self, now: Timestamp, limit: u32) -> Result<Vec<(StoredMessage, Vec<u8>)>>;
    /// Records a delivery attempt; `Sent` and `Failed` are audited as `notification.sent` and
    /// `notification.failed`.
    async fn record_attempt(&self, id: Uuid, at: Timestamp, outcome: &Attempt) -> Result<StoredMessage>;
    async fn get_message(&self, id: Uuid) -> Result<Option<StoredMessage>>;
    /// The events a message told about, in the order recorded.
    async fn message_events(&self, id: Uuid) -> Result<Vec<Uuid>>;
    async fn list_messages(&self, query: &MessageQuery) -> Result<Vec<StoredMessage>>;
    /// The organisation's schedules' last deliveries.
    async fn schedule_state(&self, org_id: Uuid) -> Result<Vec<ScheduleState>>;
    /// How many repeats of the organisation's events were counted instead of told.
    async fn suppressed_count(&self, org_id: Uuid) -> Result<u64>;
    /// How the messages to each address of an organisation fared (sent, failed, pending, the
    /// newest failure and its error), ordered by address.
    async fn contact_deliveries(&self, org_id: Uuid) -> Result<Vec<ContactDelivery>>;
    /// Incidents (not merged, past `new`) whose current status has no `status/<status>`
    /// announcement for one of the organisations they concern, oldest incident first.
    async fn pending_status_announcements(&self, limit: u32) -> Result<Vec<PendingStatus>>;
    /// The topics of the incident updates recorded for an organisation about an incident.
    async fn announced(&self, org_id: Uuid, incident_id: Uuid) -> Result<Vec<String>>;

    // Incidents (see `incidents`).
    /// Applies writes to incidents in one transaction with one audit entry each (the write's
    /// `action`, the incident's digest). When an incident changed since it was read (its
    /// version is no longer `expected_version`), or a created one exists, nothing is written:
    /// `Conflict` on `version` (or `id`). Returns the incidents as stored.
    async fn write_incidents(&self, actor: &Actor, writes: &[IncidentWrite]) -> Result<Vec<StoredIncident>>;
    async fn get_incident(&self, id: Uuid) -> Result<Option<StoredIncident>>;
    /// Incidents matching every filter, in the query's order.
    async fn list_incidents(&self, query: &IncidentQuery) -> Result<Vec<StoredIncident>>;
    /// The incident's timeline, oldest first (entries at the same instant in the order written).
    async fn incident_timeline(&self, id: Uuid) -> Result<Vec<TimelineEntry>>;
    /// The incident's tasks, in the order they were created.
    async fn incident_tasks(&self, id: Uuid) -> Result<Vec<Task>>;
    /// The incident's observables, in the order they were added, with their match counts.
    async fn incident_observables(&self, id: Uuid) -> Result<Vec<StoredObservable>>;
    /// The stored feed events an observable matched when it was last matched.
    async fn observable_matches(&self, observable: &Observable) -> Result<Option<ObservableMatches>>;
    /// The distinct observables of open incidents (new, in triage or in progress, not merged),
    /// oldest first, at most `limit` (0 means 100,000).
    async fn open_observables(&self, limit: u32) -> Result<Vec<Observable>>;
    /// Adds events to the links of observables matched before, in one transaction: an event
    /// linked already is left as it is (so adding the same events again changes nothing), the
    /// count grows by the events newly linked, and events past [`incidents::MAX_MATCHES`] links
    /// make the count a lower bound (`complete` false). An observable never matched gets its
    /// first summary. Audited once as `incident.observables.rematch` when anything was linked.
    async fn add_observable_matches(
        &self,
        actor: &Actor,
        additions: &[MatchAddition],
        at: Timestamp,
    ) -> Result<Vec<MatchesAdded>>;
    /// Links touching the incident, as seen from it (`from` is the incident).
    async fn incident_links(&self, id: Uuid) -> Result<Vec<Link>>;
    /// The incident's evidence, in the order it was added.
    async fn incident_evidence(&self, id: Uuid) -> Result<Vec<Evidence>>;
    /// Appends a custody record to an evidence item's chain (chained here, after the stored
    /// records), audited as `evidence.<action>`; `NotFound` when the incident lacks the item.
    async fn record_custody(&self, actor: &Actor, event: &CustodyEvent) -> Result<CustodyRecord>;
    /// An item's custody chain, in sequence order.
    async fn custody(&self, incident_id: Uuid, sha256: &Sha256) -> Result<Vec<CustodyRecord>>;
    /// Every blob the evidence store should hold (evidence items and raw e-mails), once each, in
    /// digest order.
    async fn blobs(&self) -> Result<Vec<BlobRef>>;

    // Incident reports and e-mail intake.
    /// Stores a report and, in the same transaction, the writes to the incident it opens or
    /// follows up; audited as `incident_report.submit`.
    async fn submit_incident_report(
        &self,
        actor: &Actor,
        report: &StoredIncidentReport,
        writes: &[IncidentWrite],
    ) -> Result<StoredIncidentReport>;
    async fn get_incident_report(&self, id: Uuid) -> Result<Option<StoredIncidentReport>>;
    async fn list_incident_reports(&self, query: &IncidentReportQuery) -> Result<Vec<StoredIncidentReport>>;
    /// Stores an e-mail intake (parsed or failed) and, in the same transaction, the writes to the
    /// incident it opens; audited as `mail_intake.record`.
    async fn record_intake(
        &self,
        actor: &Actor,
        intake: &StoredIntake,
        writes: &[IncidentWrite],
    ) -> Result<StoredIntake>;
    async fn get_intake(&self, id: Uuid) -> Result<Option<StoredIntake>>;
    async fn list_intakes(&self, query: &IntakeQuery) -> Result<Vec<StoredIntake>>;

    // TAXII 2.1 (see `taxii`).
    /// Creates a collection, audited as `taxii.collection.create`; an alias in use is a
    /// conflict on `alias`.
    async fn create_collection(
        &self,
        actor: &Actor,
        id: Uuid,
        fields: &CollectionFields,
    ) -> Result<Collection>;
    /// Replaces a collection's settings, audited as `taxii.collection.update`.
    async fn update_collection(
        &self,
        actor: &Actor,
        id: Uuid,
        fields: &CollectionFields,
    ) -> Result<Collection>;
    /// Deletes a collection with its objects, audited as `taxii.collection.delete`.
    async fn delete_collection(&self, actor: &Actor, id: Uuid) -> Result<()>;
    async fn get_collection(&self, id: Uuid) -> Result<Option<Collection>>;
    async fn find_collection(&self, alias: &str) -> Result<Option<Collection>>;
    /// Every collection, ordered by title.
    async fn list_collections(&self) -> Result<Vec<Collection>>;
    /// Stores the objects of an add-objects request in one transaction, each with the next
    /// `date_added` of the collection; an object whose id and version the collection holds
    /// already is a failure ("already present"), not stored again. Stores and returns the
    /// status (with the request's validation failures), audited as `taxii.objects.add`.
    async fn add_objects(&self, actor: &Actor, request: &AddObjects) -> Result<Status>;
    /// A page of objects matching the query, in `(date_added, row)` order.
    async fn query_objects(&self, query: &ObjectQuery) -> Result<Vec<StoredObject>>;
    /// Deletes object versions of one id by row, audited as `taxii.objects.delete`; returns how
    /// many went. The first and last versions of the id are recomputed.
    async fn delete_objects(
        &self,
        actor: &Actor,
        collection_id: Uuid,
        stix_id: &str,
        rows: &[i64],
    ) -> Result<u64>;
    async fn get_status(&self, id: Uuid) -> Result<Option<Status>>;
    /// The secret that signs TAXII paging tokens, made when the schema was created, so every
    /// server sharing the database accepts the others' tokens.
    async fn taxii_paging_key(&self) -> Result<Vec<u8>>;

    // Threat intelligence (see `intel`).
    /// Stores a new intel event owned by `owner_org`, correlates it on write and stores the
    /// links, audited as `intel.event.create`; an event uuid in use is a conflict on `uuid`.
    async fn create_intel_event(
        &self,
        actor: &Actor,
        owner_org: Uuid,
        event: &IntelEvent,
    ) -> Result<StoredIntelEvent>;
    /// Replaces an event (its attributes, objects and tags with it) and correlates it again,
    /// audited as `intel.event.update`; the owner stays.
    async fn update_intel_event(&self, actor: &Actor, event: &IntelEvent) -> Result<StoredIntelEvent>;
    /// Replaces an event as `update_intel_event` does, but only while it is still the version
    /// read: when its `updated_at` is no longer `expected_updated_at`, nothing is written and the
    /// answer is `Conflict` on `updated_at`.
    async fn update_intel_event_at(
        &self,
        actor: &Actor,
        event: &IntelEvent,
        expected_updated_at: Timestamp,
    ) -> Result<StoredIntelEvent>;
    /// Deletes an event with its attributes, sightings and links, audited as `intel.event.delete`.
    async fn delete_intel_event(&self, actor: &Actor, uuid: Uuid) -> Result<()>;
    async fn get_intel_event(&self, uuid: Uuid) -> Result<Option<StoredIntelEvent>>;
    /// The heads of the stored events among `uuids` (unknown ones are left out), in no order.
    async fn intel_event_heads(&self, uuids: &[Uuid]) -> Result<Vec<IntelEventHead>>;
    /// The event whose `seq` (its numeric id, as MISP clients use it) is `seq`.
    async fn get_intel_event_by_seq(&self, seq: i64) -> Result<Option<StoredIntelEvent>>;
    /// The event uuid and attribute uuid of the attribute with numeric id `id`.
    async fn find_intel_attribute(&self, id: i64) -> Result<Option<(Uuid, Uuid)>>;
    /// The uuid of the event holding the attribute `attribute`.
    async fn intel_attribute_event(&self, attribute: Uuid) -> Result<Option<Uuid>>;
    /// The numeric ids of the sharing groups (MISP's `id`), given once per group, never reused.
    async fn sharing_group_ids(&self) -> Result<Vec<(Uuid, i64)>>;
    /// A page of events, newest first (by `seq`).
    async fn list_intel_events(&self, query: &IntelEventQuery) -> Result<Vec<StoredIntelEvent>>;
    /// Adds a sighting to an attribute of an event, audited as `intel.sighting.add`.
    async fn add_intel_sighting(
        &self,
        actor: &Actor,
        event: Uuid,
        attribute: Uuid,
        sighting: &Sighting,
    ) -> Result<StoredIntelEvent>;
    /// Attributes matching the query, with their events' sharing, newest events first.
    async fn search_intel_attributes(&self, query: &AttributeQuery) -> Result<Vec<StoredAttribute>>;
    /// Creates or replaces a sharing group, audited as `intel.sharing_group.put`.
    async fn put_sharing_group(&self, actor: &Actor, group: &SharingGroup) -> Result<SharingGroup>;
    async fn get_sharing_group(&self, uuid: Uuid) -> Result<Option<SharingGroup>>;
    /// Every sharing group, by name.
    async fn list_sharing_groups(&self) -> Result<Vec<SharingGroup>>;
    /// The incidents' observables each probe finds, at most `per_probe` (and at most
    /// [`intel::MAX_PROBE_HITS`]) per probe, at most [`intel::MAX_PROBES`] probes.
    async fn find_observables(
        &self,
        probes: &[ObservableProbe],
        per_probe: u32,
    ) -> Result<Vec<ObservableHit>>;
    /// Replaces an intel event's correlations with incident observables and feed events (derived
    /// data, not audited); `NotFound` when the event is not stored. Replacing or deleting the
    /// event removes them.
    async fn put_intel_external_correlations(
        &self,
        event: Uuid,
        correlations: &ExternalCorrelations,
    ) -> Result<()>;
    /// An intel event's correlations with incident observables and feed events, as last put.
    async fn intel_external_correlations(&self, event: Uuid) -> Result<ExternalCorrelations>;
    /// The links of `kind` (`incident_observable` or `feed_event`) to `target`, with the intel
    /// event each belongs to, at most `limit`, ordered by event and attribute.
    async fn intel_links_to(
        &self,
        kind: &str,
        target: Uuid,
        limit: u32,
    ) -> Result<Vec<(Uuid, ExternalCorrelation)>>;
    /// Deletes a sharing group, audited as `intel.sharing_group.delete`; a group events are
    /// restricted to is a conflict on `sharing_group`.
    async fn delete_sharing_group(&self, actor: &Actor, uuid: Uuid) -> Result<()>;

    // Strategy tracker (see `governance`).
    /// Stores a new strategic document (version 1), audited as `strategy.create`; a code or id in
    /// use is a conflict on `code` or `id`, an organisation or contact the document names that
    /// does not exist a conflict on the field naming it, and then nothing is written.
    async fn create_strategy(&self, actor: &Actor, document: &StrategyDocument) -> Result<StoredStrategy>;
    /// Replaces a document when its version is still `expected_version` (else a conflict on
    /// `version`), audited as `action` (`strategy.<what>`), with the same reference checks.
    async fn update_strategy(
        &self,
        actor: &Actor,
        document: &StrategyDocument,
        expected_version: i64,
        action: &str,
    ) -> Result<StoredStrategy>;
    /// Deletes a document, audited as `strategy.delete`.
    async fn delete_strategy(&self, actor: &Actor, id: Uuid) -> Result<()>;
    async fn get_strategy(&self, id: Uuid) -> Result<Option<StoredStrategy>>;
    async fn find_strategy(&self, code: &str) -> Result<Option<StoredStrategy>>;
    /// Every document, by code.
    async fn list_strategies(&self) -> Result<Vec<StoredStrategy>>;

    // Working groups (see `groups`).
    /// Stores a new working group (version 1), audited as `group.create`; a code or id in use is
    /// a conflict on `code` or `id`; a parent that does not exist or is itself a sub-group, an
    /// organisation the group names that does not exist, or a strategy action an item links to
    /// that does not exist is a conflict on the field naming it, and then nothing is written.
    async fn create_group(&self, actor: &Actor, group: &WorkingGroup) -> Result<StoredGroup>;
    /// Replaces a group when its version is still `expected_version` (else a conflict on
    /// `version`), audited as `action` (`group.<what>`), with the same checks; a group with
    /// sub-groups cannot get a parent.
    async fn update_group(
        &self,
        actor: &Actor,
        group: &WorkingGroup,
        expected_version: i64,
        action: &str,
    ) -> Result<StoredGroup>;
    /// Replaces a group as [`Store::update_group`] does (audited as `group.announce`) and records
    /// the announcement's messages (one write per organisation, each message audited as
    /// `notification.create`) in the same transaction.
    async fn announce_group(
        &self,
        actor: &Actor,
        group: &WorkingGroup,
        expected_version: i64,
        messages: &[NotificationWrite],
    ) -> Result<(StoredGroup, Vec<StoredMessage>)>;
    /// Deletes a group, audited as `group.delete`; a group with sub-groups is a conflict on
    /// `id`.
    async fn delete_group(&self, actor: &Actor, id: Uuid) -> Result<()>;
    async fn get_group(&self, id: Uuid) -> Result<Option<StoredGroup>>;
    async fn find_group(&self, code: &str) -> Result<Option<StoredGroup>>;
    /// Every group, by code.
    async fn list_groups(&self) -> Result<Vec<StoredGroup>>;

    // Capacity building (see `learning`).
    /// Stores a course version under `id`, audited as `learning.course.import`; a code and
    /// version stored already is a conflict on `version`, and then nothing is written.
    async fn import_course(&self, actor: &Actor, id: Uuid, course: &Course) -> Result<StoredCourse>;
    async fn get_course(&self, id: Uuid) -> Result<Option<StoredCourse>>;
    /// Every course version, by code and version.
    async fn list_courses(&self) -> Result<Vec<StoredCourse>>;
    /// Stores a new enrolment (version 1), audited as `learning.enrol`; a second enrolment of a
    /// user in a course is a conflict on `course_id`.
    async fn enrol(&self, actor: &Actor, enrolment: &Enrolment) -> Result<StoredEnrolment>;
    /// Replaces an enrolment when its version is still `expected_version` (else a conflict on
    /// `version`), audited as `learning.progress`, with the certificate it earned (audited as
    /// `learning.certificate.issue`) in the same transaction.
    async fn update_enrolment(
        &self,
        actor: &Actor,
        enrolment: &Enrolment,
        expected_version: i64,
        certificate: Option<&Certificate>,
    ) -> Result<StoredEnrolment>;
    async fn get_enrolment(&self, id: Uuid) -> Result<Option<StoredEnrolment>>;
    /// The enrolments matching the query, by id (ids are UUIDv7, so oldest first).
    async fn list_enrolments(&self, query: &EnrolmentQuery) -> Result<Vec<StoredEnrolment>>;
    /// Stores a started attempt, audited as `learning.attempt.start`; a number the enrolment
    /// has already is a conflict on `attempt`.
    async fn start_attempt(&self, actor: &Actor, attempt: &QuizAttempt) -> Result<QuizAttempt>;
    /// Stores a submitted attempt, only while the stored one is unsubmitted (else a conflict on
    /// `attempt`), with the enrolment under `expected_version` and the certificate it earned,
    /// in one transaction, audited as `learning.attempt.submit`.
    async fn submit_attempt(
        &self,
        actor: &Actor,
        attempt: &QuizAttempt,
        enrolment: &Enrolment,
        expected_version: i64,
        certificate: Option<&Certificate>,
    ) -> Result<StoredEnrolment>;
    async fn get_attempt(&self, id: Uuid) -> Result<Option<QuizAttempt>>;
    /// An enrolment's attempts, by number.
    async fn list_attempts(&self, enrolment_id: Uuid) -> Result<Vec<QuizAttempt>>;
    /// The certificate with a code (in its canonical form).
    async fn get_certificate(&self, code: &str) -> Result<Option<Certificate>>;
    async fn enrolment_certificate(&self, enrolment_id: Uuid) -> Result<Option<Certificate>>;

    // Train-the-trainer programmes (see `training`).
    /// Stores a new programme (version 1), audited as `learning.programme.create`; a code in use
    /// is a conflict on `code`.
    async fn create_programme(
        &self,
        actor: &Actor,
        programme: &neretva_learning::training::Programme,
    ) -> Result<training::StoredProgramme>;
    /// Replaces a programme under `expected_version` (else a conflict on `version`), audited as
    /// `learning.programme.update`; a code in use by another is a conflict on `code`.
    async fn update_programme(
        &self,
        actor: &Actor,
        programme: &neretva_learning::training::Programme,
        expected_version: i64,
    ) -> Result<training::StoredProgramme>;
    async fn get_programme(&self, id: Uuid) -> Result<Option<training::StoredProgramme>>;
    /// Every programme, by code.
    async fn list_programmes(&self) -> Result<Vec<training::StoredProgramme>>;
    /// Stores a new session (version 1), audited as `learning.session.create`; an unknown
    /// programme is not found.
    async fn create_training_session(
        &self,
        actor: &Actor,
        session: &neretva_learning::training::Session,
    ) -> Result<training::StoredSession>;
    /// Replaces a session under `expected_version`, audited as `learning.session.cancel` when it
    /// cancels it and `learning.session.update` otherwise.
    async fn update_training_session(
        &self,
        actor: &Actor,
        session: &neretva_learning::training::Session,
        expected_version: i64,
    ) -> Result<training::StoredSession>;
    async fn get_training_session(&self, id: Uuid) -> Result<Option<training::StoredSession>>;
    /// The sessions matching the query, by start.
    async fn list_training_sessions(
        &self,
        query: &training::SessionQuery,
    ) -> Result<Vec<training::StoredSession>>;
    /// Registers a participant, audited as `learning.session.register`: a second registration is
    /// a conflict on `user_id`, a cancelled session on `status`, a full one on `capacity`.
    async fn register_participant(
        &self,
        actor: &Actor,
        participant: &neretva_learning::training::Participant,
    ) -> Result<neretva_learning::training::Participant>;
    /// The participants matching the query, by session and registration.
    async fn list_participants(
        &self,
        query: &training::ParticipantQuery,
    ) -> Result<Vec<neretva_learning::training::Participant>>;
    /// Writes the session (held) under `expected_version` and the participants' attendance in
    /// one transaction, audited as `learning.attendance.record`; someone not registered is a
    /// conflict on `attendance`, and then nothing is written.
    async fn record_attendance(
        &self,
        actor: &Actor,
        session: &neretva_learning::training::Session,
        expected_version: i64,
        participants: &[neretva_learning::training::Participant],
    ) -> Result<training::StoredSession>;
    /// Stores a feedback form, audited as `learning.feedback.submit`; a second form of a user
    /// on a session is a conflict on `feedback`.
    async fn submit_feedback(
        &self,
        actor: &Actor,
        feedback: &neretva_learning::training::Feedback,
    ) -> Result<neretva_learning::training::Feedback>;
    /// The forms of a session, or of every session.
    async fn list_feedback(
        &self,
        session_id: Option<Uuid>,
    ) -> Result<Vec<neretva_learning::training::Feedback>>;
    /// Stores a trainer qualification granted by staff, audited as `learning.trainer.grant`.
    async fn grant_trainer(
        &self,
        actor: &Actor,
        grant: &neretva_learning::training::TrainerGrant,
    ) -> Result<neretva_learning::training::TrainerGrant>;
    /// The grants of a programme, or of every programme, oldest first.
    async fn list_trainer_grants(
        &self,
        programme_id: Option<Uuid>,
    ) -> Result<Vec<neretva_learning::training::TrainerGrant>>;
    /// Writes a learner's profile (created or replaced), audited as `learning.profile.update`.
    async fn put_profile(
        &self,
        actor: &Actor,
        profile: &neretva_learning::training::Profile,
    ) -> Result<neretva_learning::training::Profile>;
    async fn get_profile(&self, user_id: Uuid) -> Result<Option<neretva_learning::training::Profile>>;
    /// Every learner profile.
    async fn list_profiles(&self) -> Result<Vec<neretva_learning::training::Profile>>;
    // Tabletop exercises (see `exercises`).
    /// Stores a scenario version under `id`, audited as `learning.scenario.import`; a code and
    /// version stored already is a conflict on `version`, and then nothing is written.
    async fn import_scenario(&self, actor: &Actor, id: Uuid, scenario: &Scenario) -> Result<StoredScenario>;
    async fn get_scenario(&self, id: Uuid) -> Result<Option<StoredScenario>>;
    /// Every scenario version, by code and version.
    async fn list_scenarios(&self) -> Result<Vec<StoredScenario>>;
    /// Stores a new run (version 1), audited as `learning.exercise.create`; an unknown scenario
    /// is a conflict on `scenario_id`, an id in use a conflict on `id`.
    async fn create_exercise(&self, actor: &Actor, exercise: &Exercise) -> Result<StoredExercise>;
    /// Replaces a run when its version is still `expected_version` (else a conflict on
    /// `version`), audited as `action` (`learning.exercise.<what>`, `learning.inject.skip`).
    async fn update_exercise(
        &self,
        actor: &Actor,
        exercise: &Exercise,
        expected_version: i64,
        action: &str,
    ) -> Result<StoredExercise>;
    /// Records deliveries of injects of a run still at `expected_version` (else a conflict on
    /// `version`), each audited as `action` (`learning.inject.deliver` or
    /// `learning.inject.release`), with the messages telling the participants (each audited as
    /// `notification.create`), and moves the run to its next version, in one transaction; an
    /// inject delivered already is a conflict on `inject`, and then nothing is written.
    async fn deliver_injects(
        &self,
        actor: &Actor,
        exercise_id: Uuid,
        expected_version: i64,
        deliveries: &[Delivery],
        action: &str,
        messages: &[NotificationWrite],
    ) -> Result<StoredExercise>;
    /// Stores a participant's response, audited as `learning.exercise.respond`; a second
    /// response of the participant to the inject is a conflict on `response`.
    async fn record_exercise_response(
        &self,
        actor: &Actor,
        response: &ExerciseResponse,
    ) -> Result<ExerciseResponse>;
    /// A run with its deliveries and responses.
    async fn get_exercise(&self, id: Uuid) -> Result<Option<StoredExercise>>;
    /// Every run, oldest first (ids are UUIDv7).
    async fn list_exercises(&self) -> Result<Vec<StoredExercise>>;

    // Contact-point directory and communication checks (see `contact_points`).
    /// Stores a new contact point (version 1), audited as `contact_point.create`; an unknown
    /// organisation is a conflict on `org_id`, an id in use on `id`, and an organisation with
    /// `MAX_POINTS_PER_ORG` points already a conflict on `org_id`.
    async fn create_contact_point(&self, actor: &Actor, point: &ContactPoint) -> Result<StoredPoint>;
    /// Replaces a point when its version is still `expected_version` (else a conflict on
    /// `version`), audited as `contact_point.update`; its organisation does not change.
    async fn update_contact_point(
        &self,
        actor: &Actor,
        point: &ContactPoint,
        expected_version: i64,
    ) -> Result<StoredPoint>;
    /// Deletes a point, audited as `contact_point.delete`; campaigns keep their targets.
    async fn delete_contact_point(&self, actor: &Actor, id: Uuid) -> Result<()>;
    async fn get_contact_point(&self, id: Uuid) -> Result<Option<StoredPoint>>;
    /// The points of one organisation, or of all, by organisation, kind and address.
    async fn list_contact_points(&self, org: Option<Uuid>) -> Result<Vec<StoredPoint>>;
    /// Stores or replaces an organisation's RFC 2350 team profile, audited as
    /// `team_profile.put`; an unknown organisation is a conflict on `org_id`.
    async fn put_team_profile(&self, actor: &Actor, profile: &TeamProfile) -> Result<StoredProfile>;
    async fn get_team_profile(&self, org: Uuid) -> Result<Option<StoredProfile>>;
    /// Stores a campaign with one target per point (none twice, at least one, each existing),
    /// audited as `check.create`; nothing is written when a point is refused.
    async fn create_check(
        &self,
        actor: &Actor,
        campaign: &Campaign,
        targets: &[ContactPoint],
    ) -> Result<StoredCampaign>;
    /// Records the outcome of steps of a campaign (challenges, reminders, escalations), their
    /// tokens' hashes, audited as `check.step` in one transaction; a point that is not a target
    /// is a conflict on `point_id`.
    async fn record_check_steps(&self, actor: &Actor, campaign: Uuid, steps: &[StepRecord]) -> Result<()>;
    /// What a link's token (by its hash) leads to.
    async fn check_token(&self, token_hash: &str) -> Result<Option<TokenInfo>>;
    /// Acknowledges through a link at `at`: recorded (token marked used, target acknowledged
    /// unless it already was, audited as `check.acknowledge` by `link:<campaign>`) or refused as
    /// unknown, used or expired, writing nothing.
    async fn acknowledge_check(
        &self,
        token_hash: &str,
        at: Timestamp,
        ack: &Acknowledgment,
    ) -> Result<AckOutcome>;
    /// Acknowledges one target through the API at `at`, audited as `check.acknowledge`; a
    /// target already acknowledged or a campaign past its deadline is a conflict.
    async fn acknowledge_check_target(
        &self,
        actor: &Actor,
        campaign: Uuid,
        point: Uuid,
        at: Timestamp,
        ack: &Acknowledgment,
    ) -> Result<StoredTarget>;
    async fn get_check(&self, id: Uuid) -> Result<Option<StoredCampaign>>;
    /// Every campaign with its targets, newest first.
    async fn list_checks(&self) -> Result<Vec<StoredCampaign>>;

    // Preservation requests (see `records`).
    /// Stores a new preservation request (version 1), audited as `preservation.create`; an id or
    /// reference in use is a conflict on `id` or `reference`, a custodian organisation that does
    /// not exist a conflict on `custodian_org`, and then nothing is written.
    async fn create_preservation(
        &self,
        actor: &Actor,
        request: &PreservationRequest,
    ) -> Result<StoredPreservation>;
    /// Replaces a request when its version is still `expected_version` (else a conflict on
    /// `version`), audited as `action` (`preservation.<what>`), with the same checks.
    async fn update_preservation(
        &self,
        actor: &Actor,
        request: &PreservationRequest,
        expected_version: i64,
        action: &str,
    ) -> Result<StoredPreservation>;
    async fn get_preservation(&self, id: Uuid) -> Result<Option<StoredPreservation>>;
    async fn find_preservation(&self, reference: &str) -> Result<Option<StoredPreservation>>;
    /// Every request, by reference.
    async fn list_preservations(&self) -> Result<Vec<StoredPreservation>>;

    // Maturity self-assessments (see `records`).
    /// Stores a new assessment (version 1), audited as `assessment.create`; an organisation that
    /// does not exist is a conflict on `org_id`, and then nothing is written.
    async fn create_assessment(&self, actor: &Actor, assessment: &Assessment) -> Result<StoredAssessment>;
    /// Replaces an assessment when its version is still `expected_version` (else a conflict on
    /// `version`), audited as `action` (`assessment.<what>`).
    async fn update_assessment(
        &self,
        actor: &Actor,
        assessment: &Assessment,
        expected_version: i64,
        action: &str,
    ) -> Result<StoredAssessment>;
    /// Deletes an assessment, audited as `assessment.delete`.
    async fn delete_assessment(&self, actor: &Actor, id: Uuid) -> Result<()>;
    async fn get_assessment(&self, id: Uuid) -> Result<Option<StoredAssessment>>;
    /// The assessments of one organisation, or all, by creation.
    async fn list_assessments(&self, org: Option<Uuid>) -> Result<Vec<StoredAssessment>>;
}

/// The outcome of checking the whole audit chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditVerification {
    /// Entries checked before the first problem (or all of them).
    pub checked: u64,
    /// The first problem found, if any.
    pub broken: Option<neretva_model::audit::ChainBreak>,
}

/// Re-computes the audit chain page by page and finds the first altered or removed entry.
pub async fn verify_audit(store: &dyn Store) -> Result<AuditVerification> {
    let mut verifier = neretva_model::audit::ChainVerifier::default();
    let mut checked = 0;
    let mut after_seq = 0;
    loop {
        let page = store.list_audit(&AuditQuery { after_seq, limit: 5000, ..AuditQuery::default() }).await?;
        let Some(last) = page.last() else { break };
        after_seq = last.seq;
        for entry in &page {
            if let Err(broken) = verifier.push(entry) {
                return Ok(AuditVerification { checked, broken: Some(broken) });
            }
            checked += 1;
        }
    }
    let head = store.audit_head().await?;
    let broken = verifier.finish(head.as_ref().map(|(seq, hash)| (*seq, hash.as_str()))).err();
    Ok(AuditVerification { checked, broken })
}
