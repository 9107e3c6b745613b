//! Runs every story of `neretva_store_tests` against SQLite and PostgreSQL.
//!
//! SQLite stories get a fresh database file each. PostgreSQL stories run only when
//! `NERETVA_TEST_POSTGRES_URL` is set; each creates its own schema and drops it afterwards. When
//! the variable is set and the server cannot be reached, the stories fail: they never skip.

mod postgres;
mod sqlite;

use std::future::Future;
use std::pin::Pin;

use neretva_store::Store;
use neretva_store_tests::Harness;

/// A story, taking the harness of a freshly migrated store.
type Story = for<'a> fn(&'a dyn Harness) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Turns each story into a SQLite and a PostgreSQL test. `store` stories take the `Store`,
/// `harness` stories the whole harness.
macro_rules! stories {
    ($($kind:ident $story:ident => $sqlite:ident, $postgres:ident;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            sqlite::run(stories!(@body $kind $story)).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $postgres() {
            postgres::run(stories!(@body $kind $story)).await;
        }
    )*};
    (@body store $story:ident) => {
        |harness: &dyn Harness| Box::pin(neretva_store_tests::$story(harness.store()))
    };
    (@body harness $story:ident) => {
        |harness: &dyn Harness| Box::pin(neretva_store_tests::$story(harness))
    };
}

stories! {
    store schema_is_current => sqlite_schema_is_current, postgres_schema_is_current;
    harness schema_too_new_is_refused => sqlite_schema_too_new_is_refused, postgres_schema_too_new_is_refused;
    store organisations => sqlite_organisations, postgres_organisations;
    store contacts => sqlite_contacts, postgres_contacts;
    store contact_clearances => sqlite_contact_clearances, postgres_contact_clearances;
    store assets => sqlite_assets, postgres_assets;
    store users_and_logins => sqlite_users_and_logins, postgres_users_and_logins;
    store tokens => sqlite_tokens, postgres_tokens;
    store sessions => sqlite_sessions, postgres_sessions;
    store import_all_or_nothing => sqlite_import_all_or_nothing, postgres_import_all_or_nothing;
    store export_import_round_trip => sqlite_export_import_round_trip, postgres_export_import_round_trip;
    store import_large_constituency => sqlite_import_large_constituency, postgres_import_large_constituency;
    store audit_records_every_change => sqlite_audit_records_every_change, postgres_audit_records_every_change;
    store failed_changes_are_not_audited => sqlite_failed_changes_are_not_audited, postgres_failed_changes_are_not_audited;
    store audit_time_filter => sqlite_audit_time_filter, postgres_audit_time_filter;
    store users_unlock => sqlite_users_unlock, postgres_users_unlock;
    harness concurrent_appends_keep_one_chain => sqlite_concurrent_appends_keep_one_chain, postgres_concurrent_appends_keep_one_chain;
    harness concurrent_creates_conflict => sqlite_concurrent_creates_conflict, postgres_concurrent_creates_conflict;
    store import_upsert_swaps_names => sqlite_import_upsert_swaps_names, postgres_import_upsert_swaps_names;
    harness tampering_alters_an_entry => sqlite_tampering_alters_an_entry, postgres_tampering_alters_an_entry;
    harness tampering_removes_a_middle_entry => sqlite_tampering_removes_a_middle_entry, postgres_tampering_removes_a_middle_entry;
    harness tampering_truncates_the_log => sqlite_tampering_truncates_the_log, postgres_tampering_truncates_the_log;
    store feed_reports => sqlite_feed_reports, postgres_feed_reports;
    store feed_events => sqlite_feed_events, postgres_feed_events;
    store feed_events_in_bulk => sqlite_feed_events_in_bulk, postgres_feed_events_in_bulk;
    store feed_event_counts => sqlite_feed_event_counts, postgres_feed_event_counts;
    store feed_event_rollups => sqlite_feed_event_rollups, postgres_feed_event_rollups;
    harness feed_event_rollups_backfill => sqlite_feed_event_rollups_backfill, postgres_feed_event_rollups_backfill;
    store feed_dedup => sqlite_feed_dedup, postgres_feed_dedup;
    store feed_store_events => sqlite_feed_store_events, postgres_feed_store_events;
    store feed_source_records => sqlite_feed_source_records, postgres_feed_source_records;
    harness feed_dedup_concurrent => sqlite_feed_dedup_concurrent, postgres_feed_dedup_concurrent;
    store incident_writes_and_versions => sqlite_incident_writes_and_versions, postgres_incident_writes_and_versions;
    store incident_observables => sqlite_incident_observables, postgres_incident_observables;
    store incident_evidence_and_custody => sqlite_incident_evidence_and_custody, postgres_incident_evidence_and_custody;
    store incident_links => sqlite_incident_links, postgres_incident_links;
    store incident_listing_and_queue => sqlite_incident_listing_and_queue, postgres_incident_listing_and_queue;
    store incident_reports => sqlite_incident_reports, postgres_incident_reports;
    store mail_intake => sqlite_mail_intake, postgres_mail_intake;
    store incident_merge => sqlite_incident_merge, postgres_incident_merge;
    harness incident_concurrent_transitions => sqlite_incident_concurrent_transitions, postgres_incident_concurrent_transitions;
    store authority_users => sqlite_authority_users, postgres_authority_users;
    store taxii_collections => sqlite_taxii_collections, postgres_taxii_collections;
    store taxii_objects_and_paging => sqlite_taxii_objects_and_paging, postgres_taxii_objects_and_paging;
    harness taxii_concurrent_adds => sqlite_taxii_concurrent_adds, postgres_taxii_concurrent_adds;
    store incident_batch_writes => sqlite_incident_batch_writes, postgres_incident_batch_writes;
    store intel_events => sqlite_intel_events, postgres_intel_events;
    store intel_sharing_groups => sqlite_intel_sharing_groups, postgres_intel_sharing_groups;
    store intel_external_correlations => sqlite_intel_external_correlations, postgres_intel_external_correlations;
    store incident_rematch_storage => sqlite_incident_rematch_storage, postgres_incident_rematch_storage;
    store notification_delivery_record => sqlite_notification_delivery_record, postgres_notification_delivery_record;
    store notification_permanent_failure => sqlite_notification_permanent_failure, postgres_notification_permanent_failure;
    store strategy_documents => sqlite_strategy_documents, postgres_strategy_documents;
    store working_groups => sqlite_working_groups, postgres_working_groups;
    store contact_point_directory => sqlite_contact_point_directory, postgres_contact_point_directory;
    store communication_checks => sqlite_communication_checks, postgres_communication_checks;
    store learning_records => sqlite_learning_records, postgres_learning_records;
    store training_programmes => sqlite_training_programmes, postgres_training_programmes;
    store exercise_runs => sqlite_exercise_runs, postgres_exercise_runs;
    store notification_contact_deliveries => sqlite_notification_contact_deliveries, postgres_notification_contact_deliveries;
    store preservation_requests => sqlite_preservation_requests, postgres_preservation_requests;
    store maturity_assessments => sqlite_maturity_assessments, postgres_maturity_assessments;
    store notification_incident_announcements => sqlite_notification_incident_announcements, postgres_notification_incident_announcements;
}

/// The in-memory database runs the stories that need no second connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_in_memory_runs_the_stories() {
    async fn fresh() -> neretva_store_sqlite::SqliteStore {
        let store = neretva_store_sqlite::SqliteStore::open_in_memory().expect("open in memory");
        store.migrate().await.expect("migrate");
        store
    }
    neretva_store_tests::organisations(&fresh().await).await;
    neretva_store_tests::export_import_round_trip(&fresh().await).await;
    neretva_store_tests::audit_records_every_change(&fresh().await).await;
    neretva_store_tests::feed_reports(&fresh().await).await;
    neretva_store_tests::feed_events(&fresh().await).await;
    neretva_store_tests::feed_dedup(&fresh().await).await;
    neretva_store_tests::incident_writes_and_versions(&fresh().await).await;
    neretva_store_tests::incident_listing_and_queue(&fresh().await).await;
    neretva_store_tests::taxii_objects_and_paging(&fresh().await).await;
}
