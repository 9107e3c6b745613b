//! The shared story suite for `neretva_store::Store` backends.
//!
//! Each story is a `pub async fn` that drives a freshly migrated store through one area of the
//! trait: organisations, contacts, assets, users and logins, tokens, sessions, bulk import and
//! export, the audit chain, the feed pipeline's reports, events, deduplication and
//! notification queue (`feeds`), and incident handling (`incidents`). Stories that need more than the trait (raw SQL to tamper with
//! the audit log, or a second store on the same database) take a [`Harness`] instead.
//!
//! `tests/it/main.rs` runs every story against SQLite (a fresh file per test) and, when
//! `NERETVA_TEST_POSTGRES_URL` is set, against PostgreSQL (a fresh schema per test).
//!
//! **Architecture Invariant:** only store crates know SQL. The few SQL statements here are the
//! tamper tests' attacks on the database, run through the backends' `execute_raw`; they use
//! syntax both backends share.

mod contact_points;
mod exercises;
mod feeds;
mod governance;
mod groups;
mod incidents;
mod intel;
mod learning;
mod notifications;
mod records;
mod taxii;
mod training;

use std::sync::Arc;

use async_trait::async_trait;
use neretva_model::Timestamp;
use neretva_model::asset::{AssetKind, AssetValue};
use neretva_model::audit::{AuditEvent, ChainBreak, digest_json};
use neretva_model::contact::{ContactFields, Language};
use neretva_model::org::{AuthorityLevels, EntityType, OrganisationFields};
use neretva_model::registry_io::{RegistryDocument, parse_json};
use neretva_model::user::{Role, Scope};
use neretva_store::{
    Actor, AuditQuery, ImportMode, ImportSummary, LoginOutcome, NewToken, NewUser, Session, Store,
    StoreError, UserPatch, verify_audit,
};
use time::Duration;
use time::macros::datetime;
use uuid::Uuid;

pub use incidents::{
    authority_users, incident_batch_writes, incident_concurrent_transitions, incident_evidence_and_custody,
    incident_links, incident_listing_and_queue, incident_merge, incident_observables,
    incident_rematch_storage, incident_reports, incident_writes_and_versions, intel_external_correlations,
    mail_intake,
};

pub use contact_points::{communication_checks, contact_point_directory};
pub use governance::strategy_documents;
pub use groups::working_groups;

pub use records::{maturity_assessments, preservation_requests};

pub use learning::{learning_records, small_course};
pub use training::training_programmes;

pub use exercises::{exercise_runs, small_scenario};

pub use intel::{intel_events, intel_sharing_groups};

pub use taxii::{
    collection_fields, indicator, taxii_collections, taxii_concurrent_adds, taxii_objects_and_paging,
};

pub use feeds::{
    feed_dedup, feed_dedup_concurrent, feed_event_counts, feed_event_rollups, feed_event_rollups_backfill,
    feed_events, feed_events_in_bulk, feed_reports, feed_source_records, feed_store_events, new_event,
    new_report, ordered_id,
};
pub use notifications::{
    notification_contact_deliveries, notification_delivery_record, notification_incident_announcements,
    notification_permanent_failure,
};

/// What stories need from a backend beyond the `Store` trait.
#[async_trait]
pub trait Harness: Send + Sync {
    /// The store under test, already migrated.
    fn store(&self) -> &dyn Store;
    /// Runs SQL directly against the store's database, bypassing the store's rules.
    async fn execute_raw(&self, sql: &str) -> Result<(), StoreError>;
    /// Opens another store on the same database, as a second process would.
    async fn reopen(&self) -> Result<Arc<dyn Store>, StoreError>;
}

// Fixtures.

/// The actor of the stories' changes.
pub fn admin() -> Actor {
    Actor("user:admin".into())
}

/// An organisation's fields with a short name and a name.
pub fn org_fields(short_name: &str, name: &str) -> OrganisationFields {
    OrganisationFields {
        name: name.into(),
        short_name: short_name.into(),
        address: Some("Kralja Tvrtka 1, Mostar".into()),
        country: "BA".into(),
        sector: Some("energy".into()),
        subsector: Some("electricity".into()),
        entity_type: EntityType::Essential,
        authority_level: "State".into(),
        parent_id: None,
    }
}

/// A contact's fields.
pub fn contact_fields(name: &str, email: &str) -> ContactFields {
    ContactFields {
        name: name.into(),
        role: Some("abuse".into()),
        email: email.into(),
        phone: Some("+387 36 000 000".into()),
        languages: vec![Language::Bs, Language::En],
        pgp_key: None,
        clearance: None,
    }
}

/// A new user of an organisation.
pub fn new_user(org_id: Uuid, username: &str) -> NewUser {
    NewUser {
        org_id,
        username: username.into(),
        display_name: Some(format!("User {username}")),
        email: Some(format!("{username}@cert.example.ba")),
        role: Role::Analyst,
        sectors: Vec::new(),
        language: Some(Language::SrLatn),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
    }
}

/// A fixed instant, `seconds` after the stories' epoch, with microseconds.
pub fn at(seconds: i64) -> Timestamp {
    datetime!(2026-11-28 12:00:00.123456 UTC) + Duration::seconds(seconds)
}

fn value(text: &str) -> AssetValue {
    AssetValue::guess(text).unwrap_or_else(|error| panic!("bad asset {text:?}: {error}"))
}

#[track_caller]
fn assert_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>, expected_field: &str) {
    match result {
        Err(StoreError::Conflict { field, .. }) if field == expected_field => {}
        other => panic!("expected a conflict on {expected_field:?}, got {other:?}"),
    }
}

#[track_caller]
fn assert_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>, expected_kind: &str) {
    match result {
        Err(StoreError::NotFound { kind, .. }) if kind == expected_kind => {}
        other => panic!("expected {expected_kind} not found, got {other:?}"),
    }
}

/// The actions of the whole audit log, oldest first.
async fn actions(store: &dyn Store) -> Vec<String> {
    let entries =
        store.list_audit(&AuditQuery { limit: 10_000, ..AuditQuery::default() }).await.expect("list audit");
    entries.into_iter().map(|entry| entry.event.action).collect()
}

#[track_caller]
fn assert_chain_intact(verification: &neretva_store::AuditVerification, entries: u64) {
    assert_eq!(verification.broken, None, "the chain is intact");
    assert_eq!(verification.checked, entries);
}

// Stories.

/// A fresh store is at the newest schema, and migrating again changes nothing.
pub async fn schema_is_current(store: &dyn Store) {
    let status = store.schema_status().await.expect("status");
    assert!(status.latest >= 1);
    assert_eq!(status.current, status.latest);
    assert_eq!(store.migrate().await.expect("migrate again"), status);
    assert!(matches!(store.backend(), "sqlite" | "postgres"));
}

/// A database migrated by a newer binary is refused by `migrate` and when opened.
pub async fn schema_too_new_is_refused(harness: &dyn Harness) {
    let store = harness.store();
    let latest = store.schema_status().await.expect("status").latest;
    let future = latest + 1;
    harness
        .execute_raw(&format!(
            "INSERT INTO schema_migrations (version, name) VALUES ({future}, 'from the future')"
        ))
        .await
        .expect("insert a future migration");
    let status = store.schema_status().await.expect("status");
    assert_eq!((status.current, status.latest), (future, latest));
    match store.migrate().await {
        Err(StoreError::SchemaTooNew { found, supported }) => {
            assert_eq!((found, supported), (future, latest));
        }
        other => panic!("migrate must refuse a newer schema, got {other:?}"),
    }
    match harness.reopen().await {
        Err(StoreError::SchemaTooNew { found, supported }) => {
            assert_eq!((found, supported), (future, latest));
        }
        Err(other) => panic!("opening must refuse a newer schema, got {other:?}"),
        Ok(_) => panic!("opening must refuse a newer schema"),
    }
}

/// Organisations: create, read, update with parents, uniqueness and deletion rules.
pub async fn organisations(store: &dyn Store) {
    let cert = store.create_org(&admin(), &org_fields("CERT-BIH", "CERT BiH")).await.expect("create");
    assert_eq!(store.get_org(cert.id).await.expect("get"), Some(cert.clone()));
    assert_eq!(cert.created_at, cert.updated_at);
    assert_eq!(cert.created_at.nanosecond() % 1000, 0, "stored to the microsecond");

    // Short names are found and unique regardless of case, and so are names.
    assert_eq!(store.find_org("cert-bih").await.expect("find"), Some(cert.clone()));
    assert_eq!(store.find_org("NOPE").await.expect("find"), None);
    assert_conflict(store.create_org(&admin(), &org_fields("cert-BIH", "Other")).await, "short_name");
    assert_conflict(store.create_org(&admin(), &org_fields("OTHER", "cert bih")).await, "name");

    // A child names an existing parent; an unknown parent is refused.
    let mut child_fields = org_fields("EP-NER", "Elektroprijenos Neretva");
    child_fields.parent_id = Some(cert.id);
    let child = store.create_org(&admin(), &child_fields).await.expect("create child");
    assert_eq!(child.fields.parent_id, Some(cert.id));
    let mut orphan = org_fields("ORPHAN", "Orphan");
    orphan.parent_id = Some(Uuid::new_v4());
    assert_conflict(store.create_org(&admin(), &orphan).await, "parent_id");

    // Updates keep the creation time; parents may not form a loop.
    let mut renamed = child_fields.clone();
    renamed.name = "Elektroprijenos Neretva d.o.o.".into();
    renamed.entity_type = EntityType::Important;
    renamed.address = None;
    let updated = store.update_org(&admin(), child.id, &renamed).await.expect("update");
    assert_eq!(updated.fields, renamed);
    assert_eq!(updated.created_at, child.created_at);
    assert!(updated.updated_at >= child.updated_at);
    assert_eq!(store.get_org(child.id).await.expect("get"), Some(updated.clone()));
    let mut loop_fields = org_fields("CERT-BIH", "CERT BiH");
    loop_fields.parent_id = Some(child.id);
    assert_conflict(store.update_org(&admin(), cert.id, &loop_fields).await, "parent_id");
    loop_fields.parent_id = Some(cert.id);
    assert_conflict(store.update_org(&admin(), cert.id, &loop_fields).await, "parent_id");
    assert_conflict(
        store.update_org(&admin(), child.id, &org_fields("CERT-bih", "Elektroprijenos")).await,
        "short_name",
    );
    assert_not_found(store.update_org(&admin(), Uuid::new_v4(), &org_fields("X", "X")).await, "organisation");

    // Ordered by name, case-insensitively.
    let third = store.create_org(&admin(), &org_fields("AAA", "agencija")).await.expect("create");
    let names: Vec<String> =
        store.list_orgs().await.expect("list").into_iter().map(|org| org.fields.name).collect();
    assert_eq!(names, ["agencija", "CERT BiH", "Elektroprijenos Neretva d.o.o."]);

    // Deletion is refused while an organisation has children or users.
    assert_conflict(store.delete_org(&admin(), cert.id).await, "children");
    let user = store.create_user(&admin(), &new_user(third.id, "ana")).await.expect("user");
    assert_conflict(store.delete_org(&admin(), third.id).await, "users");
    assert_eq!(user.org_id, third.id);

    // Deleting takes the contacts and assets along.
    store
        .create_contact(&admin(), child.id, &contact_fields("Abuse", "abuse@ep.example.ba"), None)
        .await
        .expect("contact");
    store.add_asset(&admin(), child.id, &value("192.0.2.0/24"), None).await.expect("asset");
    store.delete_org(&admin(), child.id).await.expect("delete child");
    assert_eq!(store.get_org(child.id).await.expect("get"), None);
    assert!(store.list_contacts(Some(child.id)).await.expect("contacts").is_empty());
    assert!(store.list_assets(Some(child.id)).await.expect("assets").is_empty());
    store.delete_org(&admin(), cert.id).await.expect("delete parent");
    assert_not_found(store.delete_org(&admin(), cert.id).await, "organisation");
    // The freed names can be used again.
    store.create_org(&admin(), &org_fields("cert-bih", "CERT BIH")).await.expect("reuse names");
}

/// Contacts: languages, OpenPGP fingerprints, updates and ordering.
pub async fn contacts(store: &dyn Store) {
    let ep = store.create_org(&admin(), &org_fields("EP", "Elektroprenos")).await.expect("org");
    let bh = store.create_org(&admin(), &org_fields("BH", "BH Telecom")).await.expect("org");
    let mut fields = contact_fields("Zlatan", "zlatan@ep.example.ba");
    fields.languages = vec![Language::SrCyrl, Language::Hr];
    fields.pgp_key = Some("-----BEGIN PGP PUBLIC KEY BLOCK-----\n...\n".into());
    let zlatan = store
        .create_contact(&admin(), ep.id, &fields, Some("0123456789ABCDEF0123456789ABCDEF01234567"))
        .await
        .expect("create");
    assert_eq!(store.get_contact(zlatan.id).await.expect("get"), Some(zlatan.clone()));
    assert_eq!(zlatan.fields.languages, [Language::SrCyrl, Language::Hr]);
    let amra = store
        .create_contact(&admin(), ep.id, &contact_fields("Amra", "amra@ep.example.ba"), None)
        .await
        .expect("create");
    let mut no_languages = contact_fields("Ivo", "ivo@bh.example.ba");
    no_languages.languages.clear();
    no_languages.role = None;
    no_languages.phone = None;
    let ivo = store.create_contact(&admin(), bh.id, &no_languages, None).await.expect("create");
    assert_eq!(store.get_contact(ivo.id).await.expect("get"), Some(ivo.clone()));

    // By organisation name, then contact name.
    let all: Vec<String> = store
        .list_contacts(None)
        .await
        .expect("list")
        .into_iter()
        .map(|contact| contact.fields.name)
        .collect();
    assert_eq!(all, ["Ivo", "Amra", "Zlatan"]);
    assert_eq!(store.list_contacts(Some(ep.id)).await.expect("list"), [amra.clone(), zlatan.clone()]);

    let mut changed = zlatan.fields.clone();
    changed.email = "z@ep.example.ba".into();
    changed.pgp_key = None;
    changed.languages = vec![Language::En];
    let updated = store.update_contact(&admin(), zlatan.id, &changed, None).await.expect("update");
    assert_eq!(updated.fields, changed);
    assert_eq!(updated.pgp_fingerprint, None);
    assert_eq!((updated.org_id, updated.created_at), (ep.id, zlatan.created_at));
    assert_eq!(store.get_contact(zlatan.id).await.expect("get"), Some(updated));

    assert_not_found(store.create_contact(&admin(), Uuid::new_v4(), &changed, None).await, "organisation");
    assert_not_found(store.update_contact(&admin(), Uuid::new_v4(), &changed, None).await, "contact");
    store.delete_contact(&admin(), amra.id).await.expect("delete");
    assert_eq!(store.get_contact(amra.id).await.expect("get"), None);
    assert_not_found(store.delete_contact(&admin(), amra.id).await, "contact");
}

/// Contacts' notification clearances: stored per contact (none means the configured default),
/// changed and cleared by an update, and carried through a registry export and import.
pub async fn contact_clearances(store: &dyn Store) {
    use neretva_model::tlp::Tlp;
    let ep = store.create_org(&admin(), &org_fields("EP", "Elektroprenos")).await.expect("org");
    let mut ciso = contact_fields("CISO", "ciso@ep.example.ba");
    ciso.clearance = Some(Tlp::Red);
    let ciso = store.create_contact(&admin(), ep.id, &ciso, None).await.expect("create");
    let desk = store
        .create_contact(&admin(), ep.id, &contact_fields("Desk", "desk@ep.example.ba"), None)
        .await
        .expect("create");
    let read =
        |id| async move { store.get_contact(id).await.expect("get").expect("contact").fields.clearance };
    assert_eq!(read(ciso.id).await, Some(Tlp::Red));
    assert_eq!(read(desk.id).await, None);

    let mut lowered = ciso.fields.clone();
    lowered.clearance = Some(Tlp::Green);
    store.update_contact(&admin(), ciso.id, &lowered, None).await.expect("update");
    assert_eq!(read(ciso.id).await, Some(Tlp::Green));
    let mut raised = desk.fields.clone();
    raised.clearance = Some(Tlp::Amber);
    store.update_contact(&admin(), desk.id, &raised, None).await.expect("update");
    let mut cleared = lowered.clone();
    cleared.clearance = None;
    store.update_contact(&admin(), ciso.id, &cleared, None).await.expect("update");
    assert_eq!(read(ciso.id).await, None);
    let listed: Vec<Option<Tlp>> =
        store.list_contacts(Some(ep.id)).await.expect("list").iter().map(|c| c.fields.clearance).collect();
    assert_eq!(listed, [None, Some(Tlp::Amber)]);

    // Export, replace and import: the clearances come back.
    let exported = store.export_registry().await.expect("export");
    let clearances: Vec<Option<Tlp>> =
        exported.organisations[0].contacts.iter().map(|contact| contact.clearance).collect();
    assert_eq!(clearances, [None, Some(Tlp::Amber)]);
    let csv = neretva_model::registry_io::to_csv(&exported);
    assert!(String::from_utf8_lossy(&csv).contains(",TLP:AMBER,"));
    store.delete_contact(&admin(), ciso.id).await.expect("delete");
    store.delete_contact(&admin(), desk.id).await.expect("delete");
    store.import_registry(&admin(), &exported, ImportMode::Upsert).await.expect("import");
    let imported: Vec<(String, Option<Tlp>)> = store
        .list_contacts(Some(ep.id))
        .await
        .expect("list")
        .into_iter()
        .map(|contact| (contact.fields.email, contact.fields.clearance))
        .collect();
    assert_eq!(
        imported,
        [("ciso@ep.example.ba".to_owned(), None), ("desk@ep.example.ba".to_owned(), Some(Tlp::Amber))]
    );
}

/// Assets: every kind including IPv6, duplicates per organisation, overlaps across them.
pub async fn assets(store: &dyn Store) {
    let ep = store.create_org(&admin(), &org_fields("EP", "Elektroprenos")).await.expect("org");
    let bh = store.create_org(&admin(), &org_fields("BH", "BH Telecom")).await.expect("org");
    let v6 = store
        .add_asset(&admin(), ep.id, &value("2001:DB8:0:0::/32"), Some("IPv6 allocation"))
        .await
        .expect("ipv6");
    assert_eq!(v6.value.kind(), AssetKind::Cidr);
    assert_eq!(v6.value.to_string(), "2001:db8::/32", "kept in canonical form");
    assert_eq!(store.get_asset(v6.id).await.expect("get"), Some(v6.clone()));
    let v4 = store.add_asset(&admin(), ep.id, &value("192.0.2.0/24"), None).await.expect("ipv4");
    let asn = store.add_asset(&admin(), ep.id, &value("AS64500"), None).await.expect("asn");
    let domain = store.add_asset(&admin(), ep.id, &value("EP.example.BA"), None).await.expect("domain");
    assert_eq!(domain.value.to_string(), "ep.example.ba");

    // The same value twice for one organisation is a conflict, also in another spelling.
    assert_conflict(store.add_asset(&admin(), ep.id, &value("2001:db8::/32"), None).await, "value");
    assert_conflict(store.add_asset(&admin(), ep.id, &value("ep.example.ba"), None).await, "value");
    // For two organisations it is allowed: lookups report the overlap.
    let shared = store.add_asset(&admin(), bh.id, &value("192.0.2.0/24"), None).await.expect("shared");
    assert_not_found(
        store.add_asset(&admin(), Uuid::new_v4(), &value("198.51.100.0/24"), None).await,
        "organisation",
    );

    let listed = store.list_assets(Some(ep.id)).await.expect("list");
    assert_eq!(listed, [v4.clone(), v6.clone(), asn.clone(), domain.clone()], "by kind and value");
    let all = store.list_assets(None).await.expect("list all");
    assert_eq!(all.len(), 5);
    assert_eq!(all[0], shared, "BH Telecom sorts before Elektroprenos");

    store.delete_asset(&admin(), v6.id).await.expect("delete");
    assert_eq!(store.get_asset(v6.id).await.expect("get"), None);
    assert_not_found(store.delete_asset(&admin(), v6.id).await, "asset");
    store.add_asset(&admin(), ep.id, &value("2001:db8::/32"), None).await.expect("re-add");
}

/// Users: creation rules, patches, passwords, and the login counters.
pub async fn users_and_logins(store: &dyn Store) {
    let cert = store.create_org(&admin(), &org_fields("CERT", "CERT")).await.expect("org");
    let other = store.create_org(&admin(), &org_fields("EP", "EP")).await.expect("org");
    let ana = store.create_user(&admin(), &new_user(cert.id, "ana")).await.expect("create");
    assert_eq!(store.get_user(ana.id).await.expect("get"), Some(ana.clone()));
    assert_eq!(store.find_user("ana").await.expect("find"), Some(ana.clone()));
    assert_eq!(store.find_user("nobody").await.expect("find"), None);
    assert_eq!((ana.disabled, ana.failed_logins, ana.last_login_at), (false, 0, None));
    assert_conflict(store.create_user(&admin(), &new_user(other.id, "ana")).await, "username");
    assert_not_found(store.create_user(&admin(), &new_user(Uuid::new_v4(), "bob")).await, "organisation");
    let mut no_password = new_user(other.id, "bob");
    no_password.password_hash = None;
    no_password.language = None;
    let bob = store.create_user(&admin(), &no_password).await.expect("create");
    assert_eq!(store.password_hash(bob.id).await.expect("hash"), None);
    assert_eq!(store.list_users(None).await.expect("list"), [ana.clone(), bob.clone()]);
    assert_eq!(store.list_users(Some(other.id)).await.expect("list"), std::slice::from_ref(&bob));

    // Patches change only what they name.
    let patch = UserPatch {
        display_name: Some(None),
        role: Some(Role::Auditor),
        org_id: Some(other.id),
        ..UserPatch::default()
    };
    let patched = store.update_user(&admin(), ana.id, &patch).await.expect("update");
    assert_eq!(patched.display_name, None);
    assert_eq!(patched.email, ana.email);
    assert_eq!((patched.role, patched.org_id, patched.language), (Role::Auditor, other.id, ana.language));
    assert_eq!(store.get_user(ana.id).await.expect("get"), Some(patched));
    let bad_org = UserPatch { org_id: Some(Uuid::new_v4()), ..UserPatch::default() };
    assert_not_found(store.update_user(&admin(), ana.id, &bad_org).await, "organisation");
    assert_not_found(store.update_user(&admin(), Uuid::new_v4(), &patch).await, "user");

    store.set_password(&admin(), bob.id, "$argon2id$new").await.expect("set password");
    assert_eq!(store.password_hash(bob.id).await.expect("hash").as_deref(), Some("$argon2id$new"));
    assert_not_found(store.password_hash(Uuid::new_v4()).await, "user");

    // Failures count; the one that locks is audited; a success clears both.
    let before = actions(store).await.len();
    let failed = store
        .record_login(bob.id, LoginOutcome::Failure { at: at(1), lock_until: None })
        .await
        .expect("failure");
    assert_eq!((failed.failed_logins, failed.locked_until), (1, None));
    assert_eq!(actions(store).await.len(), before, "plain failures are not audited");
    let locked = store
        .record_login(bob.id, LoginOutcome::Failure { at: at(2), lock_until: Some(at(900)) })
        .await
        .expect("lockout");
    assert_eq!((locked.failed_logins, locked.locked_until), (2, Some(at(900))));
    assert_eq!(store.get_user(bob.id).await.expect("get"), Some(locked));
    let success = store.record_login(bob.id, LoginOutcome::Success { at: at(1000) }).await.expect("success");
    assert_eq!((success.failed_logins, success.locked_until), (0, None));
    assert_eq!(success.last_login_at, Some(at(1000)));
    assert_eq!(store.get_user(bob.id).await.expect("get"), Some(success));
    let audit = actions(store).await;
    assert_eq!(audit[before..], ["user.lockout", "user.login"]);
    let login = store
        .list_audit(&AuditQuery { action: Some("user.login".into()), limit: 10, ..AuditQuery::default() })
        .await
        .expect("audit");
    assert_eq!(login[0].event.actor, "user:bob");
    assert_not_found(store.record_login(Uuid::new_v4(), LoginOutcome::Success { at: at(0) }).await, "user");
}

/// API tokens: creation, lookup with the secret's hash, use, revocation.
pub async fn tokens(store: &dyn Store) {
    let cert = store.create_org(&admin(), &org_fields("CERT", "CERT")).await.expect("org");
    let ana = store.create_user(&admin(), &new_user(cert.id, "ana")).await.expect("user");
    let first = NewToken {
        id: Uuid::new_v4(),
        user_id: ana.id,
        name: "feeds".into(),
        scope: Scope::Write,
        expires_at: Some(at(86_400)),
        secret_hash: "sha256:feeds".into(),
    };
    let feeds = store.create_token(&admin(), &first).await.expect("create");
    assert_eq!((feeds.id, feeds.scope, feeds.expires_at), (first.id, Scope::Write, Some(at(86_400))));
    assert_eq!((feeds.revoked_at, feeds.last_used_at), (None, None));
    assert_eq!(store.get_token(feeds.id).await.expect("get"), Some((feeds.clone(), "sha256:feeds".into())));
    assert_eq!(store.get_token(Uuid::new_v4()).await.expect("get"), None);
    assert_conflict(store.create_token(&admin(), &first).await, "id");
    let unknown_user = NewToken { id: Uuid::new_v4(), user_id: Uuid::new_v4(), ..first.clone() };
    assert_not_found(store.create_token(&admin(), &unknown_user).await, "user");

    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    let second = NewToken {
        id: Uuid::new_v4(),
        name: "read only".into(),
        scope: Scope::Read,
        expires_at: None,
        secret_hash: "sha256:read".into(),
        ..first.clone()
    };
    let read = store.create_token(&admin(), &second).await.expect("create");
    let listed: Vec<Uuid> =
        store.list_tokens(Some(ana.id)).await.expect("list").iter().map(|token| token.id).collect();
    assert_eq!(listed, [read.id, feeds.id], "newest first");
    assert_eq!(store.list_tokens(None).await.expect("list").len(), 2);

    store.touch_token(feeds.id, at(60)).await.expect("touch");
    let (touched, _) = store.get_token(feeds.id).await.expect("get").expect("token");
    assert_eq!(touched.last_used_at, Some(at(60)));
    assert_not_found(store.touch_token(Uuid::new_v4(), at(60)).await, "token");

    assert!(touched.is_active(at(120)));
    let revoked = store.revoke_token(&admin(), feeds.id, at(120)).await.expect("revoke");
    assert_eq!(revoked.revoked_at, Some(at(120)));
    assert!(!revoked.is_active(at(121)));
    assert_eq!(store.get_token(feeds.id).await.expect("get").map(|(token, _)| token), Some(revoked));
    let again = store.revoke_token(&admin(), feeds.id, at(500)).await.expect("revoke again");
    assert_eq!(again.revoked_at, Some(at(120)), "the first revocation's time stays");
    assert_not_found(store.revoke_token(&admin(), Uuid::new_v4(), at(120)).await, "token");
    let audit = actions(store).await;
    assert_eq!(
        audit.iter().filter(|action| action.starts_with("token.")).collect::<Vec<_>>(),
        ["token.create", "token.create", "token.revoke", "token.revoke"]
    );
}

/// Sessions: lookup, logout, expiry purge, and revocation when a user is disabled.
pub async fn sessions(store: &dyn Store) {
    let cert = store.create_org(&admin(), &org_fields("CERT", "CERT")).await.expect("org");
    let ana = store.create_user(&admin(), &new_user(cert.id, "ana")).await.expect("user");
    let bob = store.create_user(&admin(), &new_user(cert.id, "bob")).await.expect("user");
    let session = |user_id: Uuid, expires: i64| Session {
        id: Uuid::new_v4(),
        user_id,
        secret_hash: format!("sha256:{user_id}:{expires}"),
        created_at: at(0),
        expires_at: at(expires),
    };
    let short = session(ana.id, 60);
    let long = session(ana.id, 3600);
    let bobs = session(bob.id, 3600);
    for each in [&short, &long, &bobs] {
        store.create_session(each).await.expect("create");
    }
    assert_eq!(store.get_session(short.id).await.expect("get"), Some(short.clone()));
    assert_eq!(store.get_session(Uuid::new_v4()).await.expect("get"), None);
    assert_not_found(store.create_session(&session(Uuid::new_v4(), 60)).await, "user");

    assert_eq!(store.delete_expired_sessions(at(59)).await.expect("purge"), 0);
    assert_eq!(store.delete_expired_sessions(at(60)).await.expect("purge"), 1);
    assert_eq!(store.get_session(short.id).await.expect("get"), None);
    assert_eq!(store.get_session(long.id).await.expect("get"), Some(long.clone()));

    store.delete_session(long.id).await.expect("logout");
    store.delete_session(long.id).await.expect("logging out twice is harmless");
    assert_eq!(store.get_session(long.id).await.expect("get"), None);
    store.create_session(&long).await.expect("again");
    assert_eq!(store.delete_user_sessions(ana.id).await.expect("delete all"), 1);

    // Disabling a user ends the user's sessions; enabling does not bring them back.
    let disabled = store.set_user_disabled(&admin(), bob.id, true).await.expect("disable");
    assert!(disabled.disabled);
    assert_eq!(store.get_session(bobs.id).await.expect("get"), None);
    assert_eq!(store.get_user(bob.id).await.expect("get"), Some(disabled));
    let refused = store.create_session(&session(bob.id, 7200)).await;
    assert_conflict(refused, "user_id");
    let enabled = store.set_user_disabled(&admin(), bob.id, false).await.expect("enable");
    assert!(!enabled.disabled);
    assert_eq!(store.get_session(bobs.id).await.expect("get"), None);
    let audit = actions(store).await;
    assert_eq!(audit[audit.len() - 2..], ["user.disable", "user.enable"]);
}

const LEVELS_NOW: Timestamp = datetime!(2026-11-28 12:00:00 UTC);

/// Parses a JSON import file the way the CLI and the API do.
pub fn parse(json: &str) -> RegistryDocument {
    parse_json(json.as_bytes(), &AuthorityLevels::default(), LEVELS_NOW)
        .unwrap_or_else(|errors| panic!("the test file does not parse: {errors:?}"))
}

const IMPORT_FILE: &str = r#"{"organisations": [
{"name": "CERT BiH", "short_name": "CERT-BIH", "country": "BA", "authority_level": "State", "sector": "public-administration", "subsector": "central"},
{"name": "Elektroprijenos Neretva", "short_name": "EP-NER", "country": "BA", "authority_level": "State", "entity_type": "essential", "sector": "energy", "parent": "cert-bih",
  "contacts": [{"name": "Abuse desk", "role": "abuse", "email": "abuse@ep-ner.example.ba", "languages": ["bs", "en"]},
               {"name": "CISO", "email": "ciso@ep-ner.example.ba"}],
  "assets": [{"kind": "cidr", "value": "192.0.2.0/26"}, {"value": "2001:db8:1::/48", "description": "IPv6"}, {"value": "AS64500"}]},
{"name": "BH Telecom", "short_name": "BHT", "country": "BA", "authority_level": "Federation of BiH", "parent": "EP-NER",
  "assets": [{"value": "bht.example.ba"}, {"value": "192.0.2.0/26"}]}
]}
"#;

/// An import is all or nothing: one bad record writes nothing and names its line and field.
pub async fn import_all_or_nothing(store: &dyn Store) {
    let existing = store.create_org(&admin(), &org_fields("OLD", "Old organisation")).await.expect("org");
    let audit_before = actions(store).await;

    // Line 4 names a parent that is neither in the file nor stored; line 5 takes a stored name.
    let bad = r#"{"organisations": [
{"name": "CERT BiH", "short_name": "CERT-BIH", "country": "BA", "authority_level": "State"},
{"name": "Elektroprijenos", "short_name": "EP", "country": "BA", "authority_level": "State", "parent": "CERT-BIH", "assets": [{"value": "192.0.2.0/24"}]},
{"name": "Nowhere", "short_name": "NOWHERE", "country": "BA", "authority_level": "State", "parent": "MISSING"},
{"name": "old ORGANISATION", "short_name": "NEW", "country": "BA", "authority_level": "State"}
]}"#;
    let errors = match store.import_registry(&admin(), &parse(bad), ImportMode::CreateOnly).await {
        Err(StoreError::Import(errors)) => errors,
        other => panic!("expected import errors, got {other:?}"),
    };
    let located: Vec<(u64, &str)> = errors.iter().map(|error| (error.line, error.field.as_str())).collect();
    assert_eq!(located, [(4, "parent"), (5, "name")], "{errors:?}");
    assert_eq!(store.list_orgs().await.expect("list"), std::slice::from_ref(&existing), "nothing written");
    assert!(store.list_assets(None).await.expect("assets").is_empty());
    assert_eq!(actions(store).await, audit_before, "nothing audited");

    // Parents may come after their children in the file, and are matched case-insensitively.
    let document = parse(IMPORT_FILE);
    let summary = store.import_registry(&admin(), &document, ImportMode::CreateOnly).await.expect("import");
    assert_eq!(
        summary,
        ImportSummary { organisations_created: 3, organisations_updated: 0, contacts: 2, assets: 5 }
    );
    let cert = store.find_org("CERT-BIH").await.expect("find").expect("imported");
    let ep = store.find_org("EP-NER").await.expect("find").expect("imported");
    let bht = store.find_org("BHT").await.expect("find").expect("imported");
    assert_eq!((ep.fields.parent_id, bht.fields.parent_id), (Some(cert.id), Some(ep.id)));
    assert_eq!(store.list_contacts(Some(ep.id)).await.expect("contacts").len(), 2);
    assert_eq!(store.list_assets(None).await.expect("assets").len(), 5);
    let import = store
        .list_audit(&AuditQuery {
            action: Some("registry.import".into()),
            limit: 10,
            ..AuditQuery::default()
        })
        .await
        .expect("audit");
    assert_eq!(import.len(), 1, "one entry for the whole import");
    assert_eq!(import[0].event.object_id, "3 organisations");
    assert_eq!(import[0].event.object_type, "registry");
    assert_eq!(
        import[0].event.digest,
        neretva_model::audit::digest_hex(&neretva_model::registry_io::to_json(&document))
    );

    // Creating again is refused for every organisation, each at its line.
    let errors = match store.import_registry(&admin(), &document, ImportMode::CreateOnly).await {
        Err(StoreError::Import(errors)) => errors,
        other => panic!("expected import errors, got {other:?}"),
    };
    let lines: Vec<(u64, &str)> = errors.iter().map(|error| (error.line, error.field.as_str())).collect();
    assert_eq!(lines, [(2, "short_name"), (3, "short_name"), (7, "short_name")]);

    // A loop through a stored organisation is found: CERT-BIH -> BHT -> EP-NER -> CERT-BIH.
    let looping = r#"{"organisations": [
{"name": "CERT BiH", "short_name": "CERT-BIH", "country": "BA", "authority_level": "State", "parent": "BHT"}
]}"#;
    let errors = match store.import_registry(&admin(), &parse(looping), ImportMode::Upsert).await {
        Err(StoreError::Import(errors)) => errors,
        other => panic!("expected import errors, got {other:?}"),
    };
    assert_eq!((errors.len(), errors[0].line, errors[0].field.as_str()), (1, 2, "parent"), "{errors:?}");
    assert!(errors[0].message.contains("loop"), "{}", errors[0].message);

    // Upsert updates fields and replaces the contacts and assets; new organisations are added.
    let upsert = r#"{"organisations": [
{"name": "Elektroprijenos Neretva d.d.", "short_name": "ep-ner", "country": "BA", "authority_level": "State", "entity_type": "important",
  "contacts": [{"name": "SOC", "email": "soc@ep-ner.example.ba", "languages": ["hr"]}],
  "assets": [{"value": "198.51.100.0/24"}]},
{"name": "Old organisation renamed", "short_name": "OLD", "country": "BA", "authority_level": "State"},
{"name": "Old organisation", "short_name": "NEWER", "country": "BA", "authority_level": "State", "parent": "old"}
]}"#;
    let summary = store.import_registry(&admin(), &parse(upsert), ImportMode::Upsert).await.expect("upsert");
    assert_eq!(
        summary,
        ImportSummary { organisations_created: 1, organisations_updated: 2, contacts: 1, assets: 1 }
    );
    let ep_after = store.get_org(ep.id).await.expect("get").expect("kept its id");
    assert_eq!(ep_after.fields.name, "Elektroprijenos Neretva d.d.");
    assert_eq!(ep_after.fields.short_name, "ep-ner");
    assert_eq!(ep_after.fields.parent_id, None);
    assert_eq!(ep_after.fields.entity_type, EntityType::Important);
    assert_eq!(ep_after.created_at, ep.created_at);
    let contacts = store.list_contacts(Some(ep.id)).await.expect("contacts");
    assert_eq!(contacts.len(), 1);
    assert_eq!(
        (contacts[0].fields.name.as_str(), &contacts[0].fields.languages[..]),
        ("SOC", &[Language::Hr][..])
    );
    let values: Vec<String> =
        store.list_assets(Some(ep.id)).await.expect("assets").iter().map(|a| a.value.to_string()).collect();
    assert_eq!(values, ["198.51.100.0/24"]);
    let newer = store.find_org("NEWER").await.expect("find").expect("created");
    assert_eq!(newer.fields.name, "Old organisation", "a name freed in the same import");
    assert_eq!(newer.fields.parent_id, Some(existing.id));
    assert_eq!(store.list_orgs().await.expect("list").len(), 5);
}

/// Export then import reproduces the constituency, and exporting again gives the same document.
pub async fn export_import_round_trip(store: &dyn Store) {
    let cert = store.create_org(&admin(), &org_fields("CERT", "CERT BiH")).await.expect("org");
    let mut child = org_fields("EP", "Elektroprijenos");
    child.parent_id = Some(cert.id);
    child.sector = None;
    child.subsector = None;
    child.address = None;
    let ep = store.create_org(&admin(), &child).await.expect("org");
    for (name, email) in [("Zed", "zed@ep.example.ba"), ("Abuse", "abuse@ep.example.ba")] {
        store.create_contact(&admin(), ep.id, &contact_fields(name, email), None).await.expect("contact");
    }
    for asset in ["ep.example.ba", "2001:db8::/32", "192.0.2.0/24", "AS64500"] {
        store.add_asset(&admin(), ep.id, &value(asset), Some("from the story")).await.expect("asset");
    }

    let exported = store.export_registry().await.expect("export");
    let short_names: Vec<&str> =
        exported.organisations.iter().map(|org| org.fields.short_name.as_str()).collect();
    assert_eq!(short_names, ["CERT", "EP"]);
    let ep_record = &exported.organisations[1];
    assert_eq!(ep_record.fields.parent.as_deref(), Some("CERT"));
    let contact_names: Vec<&str> = ep_record.contacts.iter().map(|contact| contact.name.as_str()).collect();
    assert_eq!(contact_names, ["Zed", "Abuse"], "in the order they were added");
    let mut sorted = ep_record.assets.clone();
    sorted.sort_by(|a, b| a.value.cmp(&b.value));
    assert_eq!(ep_record.assets, sorted, "assets by value");

    // The export's JSON is a valid import file that reproduces the same document.
    let json = String::from_utf8(neretva_model::registry_io::to_json(&exported)).expect("utf-8");
    let mut reparsed = parse(&json);
    for record in &mut reparsed.organisations {
        record.line = 0;
        for asset in &mut record.assets {
            asset.line = 0;
        }
    }
    assert_eq!(reparsed, exported);
    let summary = store.import_registry(&admin(), &reparsed, ImportMode::Upsert).await.expect("upsert");
    assert_eq!((summary.organisations_created, summary.organisations_updated), (0, 2));
    assert_eq!(store.export_registry().await.expect("export"), exported);
    assert_eq!(store.get_org(ep.id).await.expect("get").map(|org| org.fields), Some(child));

    // Into an empty constituency, after deleting everything.
    store.delete_org(&admin(), ep.id).await.expect("delete");
    store.delete_org(&admin(), cert.id).await.expect("delete");
    assert_eq!(store.export_registry().await.expect("export"), RegistryDocument::default());
    let summary = store.import_registry(&admin(), &exported, ImportMode::CreateOnly).await.expect("import");
    assert_eq!(
        summary,
        ImportSummary { organisations_created: 2, organisations_updated: 0, contacts: 2, assets: 4 }
    );
    assert_eq!(store.export_registry().await.expect("export"), exported);
    assert_eq!(verify_audit(store).await.expect("verify").broken, None);
}

/// A large constituency imports in one go: 10,000 organisations with 50,000 assets.
pub async fn import_large_constituency(store: &dyn Store) {
    let organisations = 10_000;
    let mut json = String::from("{\"organisations\": [\n");
    for index in 0..organisations {
        if index > 0 {
            json.push_str(",\n");
        }
        let parent = if index % 10 == 0 {
            String::new()
        } else {
            format!(", \"parent\": \"ORG-{}\"", index / 10 * 10)
        };
        json.push_str(&format!(
            "{{\"name\": \"Organisation {index}\", \"short_name\": \"ORG-{index}\", \"country\": \"BA\", \
             \"authority_level\": \"State\"{parent}, \"contacts\": [{{\"name\": \"Abuse\", \
             \"email\": \"abuse@org{index}.example.ba\"}}], \"assets\": ["
        ));
        let (high, low) = (index / 256, index % 256);
        json.push_str(&format!(
            "{{\"value\": \"10.{high}.{low}.0/24\"}}, {{\"value\": \"2001:db8:{index:x}::/48\"}}, \
             {{\"value\": \"AS{}\"}}, {{\"value\": \"org{index}.example.ba\"}}, \
             {{\"value\": \"www.org{index}.example.ba\"}}]}}",
            64_512 + index
        ));
    }
    json.push_str("\n]}\n");
    let document = parse(&json);

    let started = std::time::Instant::now();
    let summary = store.import_registry(&admin(), &document, ImportMode::CreateOnly).await.expect("import");
    let elapsed = started.elapsed();
    assert_eq!(
        summary,
        ImportSummary {
            organisations_created: organisations,
            organisations_updated: 0,
            contacts: organisations,
            assets: 5 * organisations,
        }
    );
    // Timing is reported for people reading the test output, never asserted.
    eprintln!("{}: imported 10,000 organisations with 50,000 assets in {elapsed:?}", store.backend());

    let started = std::time::Instant::now();
    let exported = store.export_registry().await.expect("export");
    eprintln!("{}: exported them in {:?}", store.backend(), started.elapsed());
    assert_eq!(exported.organisations.len(), 10_000);
    assert_eq!(exported.organisations.iter().map(|org| org.assets.len()).sum::<usize>(), 50_000);
    let org_17 = store.find_org("org-17").await.expect("find").expect("imported");
    let org_10 = store.find_org("ORG-10").await.expect("find").expect("imported");
    assert_eq!(org_17.fields.parent_id, Some(org_10.id));

    // Upserting the same file again replaces everything in one transaction too.
    let started = std::time::Instant::now();
    let summary = store.import_registry(&admin(), &document, ImportMode::Upsert).await.expect("upsert");
    eprintln!("{}: upserted them again in {:?}", store.backend(), started.elapsed());
    assert_eq!(summary.organisations_updated, organisations);
    assert_eq!(store.list_assets(None).await.expect("assets").len(), 50_000);
}

/// Every change writes its audit entry with the digest of the object after the change.
pub async fn audit_records_every_change(store: &dyn Store) {
    assert_eq!(store.audit_head().await.expect("head"), None);
    let actor = Actor("cli:root".into());
    let org = store.create_org(&actor, &org_fields("EP", "Elektroprenos")).await.expect("org");
    let org =
        store.update_org(&admin(), org.id, &org_fields("EP", "Elektroprenos BiH")).await.expect("update");
    let contact = store
        .create_contact(&admin(), org.id, &contact_fields("Abuse", "abuse@ep.example.ba"), None)
        .await
        .expect("contact");
    let contact = store
        .update_contact(&admin(), contact.id, &contact_fields("Abuse", "a@ep.example.ba"), None)
        .await
        .expect("contact");
    store.delete_contact(&admin(), contact.id).await.expect("delete contact");
    let asset = store.add_asset(&admin(), org.id, &value("192.0.2.0/24"), None).await.expect("asset");
    store.delete_asset(&admin(), asset.id).await.expect("delete asset");
    let user = store.create_user(&admin(), &new_user(org.id, "ana")).await.expect("user");
    let user = store
        .update_user(&admin(), user.id, &UserPatch { role: Some(Role::Admin), ..UserPatch::default() })
        .await
        .expect("update user");
    store.set_password(&admin(), user.id, "$argon2id$x").await.expect("password");
    store.set_user_disabled(&admin(), user.id, true).await.expect("disable");
    store.set_user_disabled(&admin(), user.id, false).await.expect("enable");
    let token = NewToken {
        id: Uuid::new_v4(),
        user_id: user.id,
        name: "api".into(),
        scope: Scope::Read,
        expires_at: None,
        secret_hash: "h".into(),
    };
    let token = store.create_token(&admin(), &token).await.expect("token");
    store.revoke_token(&admin(), token.id, at(5)).await.expect("revoke");
    let export = AuditEvent {
        actor: "user:admin".into(),
        action: "org.export".into(),
        object_type: "registry".into(),
        object_id: "1 organisations".into(),
        digest: neretva_model::audit::digest_hex(b"exported bytes"),
    };
    let appended = store.append_audit(&export).await.expect("append");
    store.delete_user_sessions(user.id).await.expect("not audited");
    store.touch_token(token.id, at(6)).await.expect("not audited");

    let entries = store.list_audit(&AuditQuery { limit: 100, ..AuditQuery::default() }).await.expect("list");
    let actions: Vec<&str> = entries.iter().map(|entry| entry.event.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "org.create",
            "org.update",
            "contact.create",
            "contact.update",
            "contact.delete",
            "asset.add",
            "asset.delete",
            "user.create",
            "user.update",
            "user.password",
            "user.disable",
            "user.enable",
            "token.create",
            "token.revoke",
            "org.export",
        ]
    );
    let seqs: Vec<i64> = entries.iter().map(|entry| entry.seq).collect();
    assert_eq!(seqs, (1..=15).collect::<Vec<i64>>());
    assert_eq!(entries[0].event.actor, "cli:root");
    assert_eq!(entries[1].event.object_type, "organisation");
    assert_eq!(entries[1].event.object_id, org.id.to_string());
    assert_eq!(entries[1].event.digest, digest_json(&org), "digest of the object after the change");
    assert_eq!(entries[3].event.digest, digest_json(&contact));
    assert_eq!(entries[4].event.digest, digest_json(&contact), "a deletion digests what was deleted");
    assert_eq!(entries[8].event.digest, digest_json(&user));
    assert_eq!(entries[14], appended);
    for pair in entries.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
        assert!(pair[1].at >= pair[0].at);
    }
    assert_eq!(store.audit_head().await.expect("head"), Some((15, appended.hash.clone())));

    // Filters and pages.
    let page = |query: AuditQuery| async move { store.list_audit(&query).await.expect("page") };
    let second_page = page(AuditQuery { after_seq: 5, limit: 3, ..AuditQuery::default() }).await;
    assert_eq!(second_page.iter().map(|entry| entry.seq).collect::<Vec<_>>(), [6, 7, 8]);
    let by_actor =
        page(AuditQuery { actor: Some("cli:root".into()), limit: 100, ..AuditQuery::default() }).await;
    assert_eq!(by_actor.len(), 1);
    let by_object =
        page(AuditQuery { object_id: Some(user.id.to_string()), limit: 100, ..AuditQuery::default() }).await;
    assert_eq!(by_object.len(), 5);
    let by_action = page(AuditQuery {
        action: Some("org.update".into()),
        after_seq: 1,
        limit: 100,
        ..AuditQuery::default()
    })
    .await;
    assert_eq!(by_action.iter().map(|entry| entry.seq).collect::<Vec<_>>(), [2]);

    assert_chain_intact(&verify_audit(store).await.expect("verify"), 15);
}

/// The audit log's time filter is the store's: `since` includes its instant, `until` excludes
/// its own, and both combine with the other filters and paging.
pub async fn audit_time_filter(store: &dyn Store) {
    let cert = store.create_org(&admin(), &org_fields("CERT", "CERT")).await.expect("org");
    for index in 0..6 {
        let event = AuditEvent {
            actor: format!("user:a{}", index % 2),
            action: "org.export".into(),
            object_type: "registry".into(),
            object_id: format!("export {index}"),
            digest: neretva_model::audit::digest_hex(b"x"),
        };
        store.append_audit(&event).await.expect("append");
        // Apart by a millisecond at least, so the bounds fall between entries.
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    store.delete_org(&admin(), cert.id).await.expect("delete");
    let all = store.list_audit(&AuditQuery { limit: 100, ..AuditQuery::default() }).await.expect("all");
    assert_eq!(all.len(), 8);
    let page = |query: AuditQuery| async move { store.list_audit(&query).await.expect("page") };
    let seqs =
        |entries: &[neretva_model::audit::AuditEntry]| entries.iter().map(|e| e.seq).collect::<Vec<_>>();
    let expected = |since: Option<Timestamp>, until: Option<Timestamp>| {
        all.iter()
            .filter(|e| since.is_none_or(|since| e.at >= since) && until.is_none_or(|until| e.at < until))
            .map(|e| e.seq)
            .collect::<Vec<_>>()
    };
    let (since, until) = (all[2].at, all[6].at);
    let between =
        page(AuditQuery { since: Some(since), until: Some(until), limit: 100, ..AuditQuery::default() })
            .await;
    assert_eq!(seqs(&between), expected(Some(since), Some(until)));
    assert!(seqs(&between).contains(&all[2].seq), "since includes its instant");
    assert!(!seqs(&between).contains(&all[6].seq), "until excludes its instant");
    assert!(!seqs(&between).contains(&all[0].seq) && !seqs(&between).contains(&all[7].seq));
    let before_first = page(AuditQuery { until: Some(all[0].at), limit: 100, ..AuditQuery::default() }).await;
    assert!(before_first.is_empty());
    let after_last = all[7].at + Duration::milliseconds(1);
    assert!(
        page(AuditQuery { since: Some(after_last), limit: 100, ..AuditQuery::default() }).await.is_empty()
    );
    // With an actor, paging and a limit, the time filter still applies in the store.
    let filtered = page(AuditQuery {
        actor: Some("user:a1".into()),
        since: Some(since),
        after_seq: all[2].seq,
        limit: 1,
        ..AuditQuery::default()
    })
    .await;
    let first_a1 = all.iter().find(|e| e.seq > all[2].seq && e.event.actor == "user:a1" && e.at >= since);
    assert_eq!(seqs(&filtered), first_a1.map(|e| e.seq).into_iter().collect::<Vec<_>>());
}

/// An administrator lifts a lock-out after failed logins: audited, the count back to zero.
pub async fn users_unlock(store: &dyn Store) {
    let cert = store.create_org(&admin(), &org_fields("CERT", "CERT")).await.expect("org");
    let ana = store.create_user(&admin(), &new_user(cert.id, "ana")).await.expect("create");
    store.record_login(ana.id, LoginOutcome::Failure { at: at(1), lock_until: None }).await.expect("failure");
    let locked = store
        .record_login(ana.id, LoginOutcome::Failure { at: at(2), lock_until: Some(at(900)) })
        .await
        .expect("lockout");
    assert_eq!((locked.failed_logins, locked.locked_until), (2, Some(at(900))));
    let before = actions(store).await.len();
    let unlocked = store.unlock_user(&admin(), ana.id).await.expect("unlock");
    assert_eq!((unlocked.failed_logins, unlocked.locked_until), (0, None));
    assert_eq!(unlocked.last_login_at, None, "an unlock is not a login");
    assert_eq!(store.get_user(ana.id).await.expect("get"), Some(unlocked));
    let audit = store
        .list_audit(&AuditQuery { action: Some("user.unlock".into()), limit: 10, ..AuditQuery::default() })
        .await
        .expect("audit");
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (audit[0].event.actor.as_str(), audit[0].event.object_id.clone()),
        ("user:admin", ana.id.to_string())
    );
    assert_eq!(actions(store).await.len(), before + 1);
    assert_not_found(store.unlock_user(&admin(), Uuid::new_v4()).await, "user");
    assert_eq!(actions(store).await.len(), before + 1, "a failed unlock is not audited");
}

/// A failed change writes no audit entry.
pub async fn failed_changes_are_not_audited(store: &dyn Store) {
    let org = store.create_org(&admin(), &org_fields("EP", "EP")).await.expect("org");
    let before = actions(store).await;
    assert_conflict(store.create_org(&admin(), &org_fields("ep", "Other")).await, "short_name");
    assert_not_found(store.delete_org(&admin(), Uuid::new_v4()).await, "organisation");
    store.add_asset(&admin(), org.id, &value("AS64500"), None).await.expect("asset");
    assert_conflict(store.add_asset(&admin(), org.id, &value("AS64500"), None).await, "value");
    let after = actions(store).await;
    assert_eq!(after.len(), before.len() + 1);
    assert_chain_intact(&verify_audit(store).await.expect("verify"), 2);
}

/// Appenders in several tasks and on several stores (as several processes) keep one chain.
pub async fn concurrent_appends_keep_one_chain(harness: &dyn Harness) {
    const STORES: usize = 3;
    const TASKS_PER_STORE: usize = 3;
    const APPENDS: usize = 20;
    let mut stores = Vec::new();
    for _ in 0..STORES {
        stores.push(harness.reopen().await.expect("open another store"));
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (store_index, store) in stores.iter().enumerate() {
        for task in 0..TASKS_PER_STORE {
            let store = Arc::clone(store);
            tasks.spawn(async move {
                let mut seqs = Vec::new();
                for append in 0..APPENDS {
                    let event = AuditEvent {
                        actor: format!("system:{store_index}:{task}"),
                        action: "test.append".into(),
                        object_type: "test".into(),
                        object_id: format!("{append}"),
                        digest: neretva_model::audit::digest_hex(&append.to_be_bytes()),
                    };
                    seqs.push(store.append_audit(&event).await.expect("append").seq);
                }
                seqs
            });
        }
    }
    // Changes through the harness's own store interleave with the appends.
    for index in 0..5 {
        harness
            .store()
            .create_org(&admin(), &org_fields(&format!("ORG-{index}"), &format!("Org {index}")))
            .await
            .expect("org");
    }
    let mut seqs: Vec<i64> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let task_seqs = joined.expect("append task");
        assert!(task_seqs.windows(2).all(|pair| pair[0] < pair[1]), "each task's entries in order");
        seqs.extend(task_seqs);
    }
    let total = STORES * TASKS_PER_STORE * APPENDS + 5;
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), STORES * TASKS_PER_STORE * APPENDS, "every append got its own entry");
    let verification = verify_audit(harness.store()).await.expect("verify");
    assert_chain_intact(&verification, total as u64);
    assert_eq!(harness.store().audit_head().await.expect("head").map(|(seq, _)| seq), Some(total as i64));
}

/// Stores on one database (as several processes) racing to create the same organisations:
/// the database's constraints let exactly one of each through.
pub async fn concurrent_creates_conflict(harness: &dyn Harness) {
    const NAMES: usize = 5;
    let mut tasks = tokio::task::JoinSet::new();
    for process in 0..2 {
        let store = harness.reopen().await.expect("open another store");
        for attempt in 0..2 {
            let store = Arc::clone(&store);
            tasks.spawn(async move {
                let mut created = Vec::new();
                for index in 0..NAMES {
                    let short_name = format!("RACE-{index}");
                    let name = format!("Race {index} by {process}.{attempt}");
                    match store.create_org(&admin(), &org_fields(&short_name, &name)).await {
                        Ok(org) => created.push(org.fields.short_name),
                        Err(StoreError::Conflict { field, .. }) => assert_eq!(field, "short_name"),
                        Err(other) => panic!("unexpected error {other:?}"),
                    }
                }
                created
            });
        }
    }
    let mut created = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        created.extend(joined.expect("task"));
    }
    created.sort();
    let expected: Vec<String> = (0..NAMES).map(|index| format!("RACE-{index}")).collect();
    assert_eq!(created, expected, "each short name created exactly once");
    assert_eq!(harness.store().list_orgs().await.expect("list").len(), NAMES);
    assert_chain_intact(&verify_audit(harness.store()).await.expect("verify"), NAMES as u64);
}

/// An upsert may swap names between stored organisations, and move contacts of one of them.
pub async fn import_upsert_swaps_names(store: &dyn Store) {
    let alpha = store.create_org(&admin(), &org_fields("A", "Alpha")).await.expect("org");
    let beta = store.create_org(&admin(), &org_fields("B", "Beta")).await.expect("org");
    let swap = r#"{"organisations": [
{"name": "Beta", "short_name": "a", "country": "BA", "authority_level": "State", "parent": "B"},
{"name": "ALPHA", "short_name": "b", "country": "BA", "authority_level": "State"}
]}"#;
    let summary = store.import_registry(&admin(), &parse(swap), ImportMode::Upsert).await.expect("swap");
    assert_eq!((summary.organisations_created, summary.organisations_updated), (0, 2));
    let alpha = store.get_org(alpha.id).await.expect("get").expect("kept");
    let beta = store.get_org(beta.id).await.expect("get").expect("kept");
    assert_eq!((alpha.fields.name.as_str(), beta.fields.name.as_str()), ("Beta", "ALPHA"));
    assert_eq!(alpha.fields.parent_id, Some(beta.id));
    assert_eq!(store.find_org("A").await.expect("find").map(|org| org.id), Some(alpha.id));
    // The released names are really free again.
    assert_conflict(store.create_org(&admin(), &org_fields("C", "alpha")).await, "name");
    store.create_org(&admin(), &org_fields("C", "Gamma")).await.expect("org");
}

/// Writes a chain of five entries for the tamper stories.
async fn five_entries(store: &dyn Store) {
    let org = store.create_org(&admin(), &org_fields("EP", "Elektroprenos")).await.expect("org");
    store.add_asset(&admin(), org.id, &value("192.0.2.0/24"), None).await.expect("asset");
    store
        .create_contact(&admin(), org.id, &contact_fields("Abuse", "abuse@ep.example.ba"), None)
        .await
        .expect("contact");
    store.create_user(&admin(), &new_user(org.id, "ana")).await.expect("user");
    store.update_org(&admin(), org.id, &org_fields("EP", "Elektroprenos BiH")).await.expect("update");
    assert_chain_intact(&verify_audit(store).await.expect("verify"), 5);
}

/// Changing an entry in the database is found at exactly that entry.
pub async fn tampering_alters_an_entry(harness: &dyn Harness) {
    five_entries(harness.store()).await;
    harness.execute_raw("UPDATE audit_log SET actor = 'user:mallory' WHERE seq = 3").await.expect("tamper");
    let verification = verify_audit(harness.store()).await.expect("verify");
    assert_eq!(verification.broken, Some(ChainBreak::Altered { seq: 3 }));
    assert_eq!(verification.checked, 2);
}

/// Removing an entry from the middle leaves a gap.
pub async fn tampering_removes_a_middle_entry(harness: &dyn Harness) {
    five_entries(harness.store()).await;
    harness.execute_raw("DELETE FROM audit_log WHERE seq = 2").await.expect("tamper");
    let verification = verify_audit(harness.store()).await.expect("verify");
    assert_eq!(verification.broken, Some(ChainBreak::Gap { prev: 1, seq: 3 }));
}

/// Removing the newest entry is caught by the head record.
pub async fn tampering_truncates_the_log(harness: &dyn Harness) {
    five_entries(harness.store()).await;
    harness.execute_raw("DELETE FROM audit_log WHERE seq = 5").await.expect("tamper");
    let verification = verify_audit(harness.store()).await.expect("verify");
    assert_eq!(verification.broken, Some(ChainBreak::Truncated { last: 4, head: 5 }));
    assert_eq!(verification.checked, 4);
}
