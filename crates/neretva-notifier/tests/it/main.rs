//! The notifier with real parts: a SQLite store, a real SMTP server on 127.0.0.1 (aiosmtpd,
//! with `tests/smtp_sink.py` writing each message to a directory) and GnuPG verifying the
//! signatures and decrypting what the server received.
//!
//! The SMTP tests run when `NERETVA_TEST_PYTHON_SMTP` names a Python interpreter with aiosmtpd
//! (`.ci/run` makes one); then every problem fails them, including a missing `gpg`.

#![allow(clippy::unwrap_used)]

mod mime;
mod smtp;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use neretva_model::contact::{ContactFields, Language};
use neretva_model::openpgp::parse_public_key;
use neretva_model::org::{EntityType, OrganisationFields};
use neretva_model::tlp::Tlp;
use neretva_model::{Timestamp, Uuid};
use neretva_notifier::{Notifier, NotifierConfig, SmtpConfig, TlsMode};
use neretva_notify::mime::Mailbox;
use neretva_notify::openpgp::Signer;
use neretva_notify::render::Overrides;
use neretva_notify::schedule::Schedules;
use neretva_store::feeds::{NewEvent, NewReport};
use neretva_store::{Actor, Store};
use neretva_store_sqlite::SqliteStore;
use time::Duration;

pub(crate) fn key(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../neretva-notify/test_data/keys").join(name);
    std::fs::read_to_string(path).unwrap()
}

/// A temporary directory removed when dropped.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("neretva-notifier-{name}-{}", Uuid::now_v7()));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A migrated SQLite store in a temporary directory.
pub(crate) async fn store(dir: &Path) -> Arc<dyn Store> {
    let store = SqliteStore::open(&dir.join("neretva.db")).unwrap();
    store.migrate().await.unwrap();
    Arc::new(store)
}

pub(crate) async fn org(store: &dyn Store, short: &str) -> Uuid {
    let fields = OrganisationFields {
        name: format!("Organisation {short}"),
        short_name: short.into(),
        address: None,
        country: "BA".into(),
        sector: None,
        subsector: None,
        entity_type: EntityType::Other,
        authority_level: "State".into(),
        parent_id: None,
    };
    store.create_org(&Actor("test".into()), &fields).await.unwrap().id
}

pub(crate) async fn contact(
    store: &dyn Store,
    org_id: Uuid,
    email: &str,
    languages: &[Language],
    key_file: Option<&str>,
) -> Uuid {
    let pgp_key = key_file.map(key);
    let fingerprint = pgp_key
        .as_deref()
        .and_then(|k| parse_public_key(k, time::OffsetDateTime::now_utc()).ok())
        .map(|i| i.fingerprint);
    let fields = ContactFields {
        name: format!("Abuse desk {email}"),
        role: Some("abuse".into()),
        email: email.into(),
        phone: None,
        languages: languages.to_vec(),
        pgp_key,
        clearance: None,
    };
    store.create_contact(&Actor("test".into()), org_id, &fields, fingerprint.as_deref()).await.unwrap().id
}

/// Stores events of `kind` routed to each organisation (one event per organisation and
/// address); returns their ids.
pub(crate) async fn events(store: &dyn Store, routes: &[(Uuid, &str, &str)]) -> Vec<Uuid> {
    let report = NewReport {
        id: Uuid::now_v7(),
        feed: "test".into(),
        parser: "intelmq-json".into(),
        source: "test".into(),
        received_at: time::OffsetDateTime::now_utc(),
        sha256: format!("{:064x}", Uuid::now_v7().as_u128()),
        data: b"test".to_vec(),
    };
    store.store_report(&report).await.unwrap();
    let mut new = Vec::new();
    for (index, (org_id, kind, ip)) in routes.iter().enumerate() {
        let mut event = neretva_event::Event::new();
        event.set("classification.type", kind).unwrap();
        event.set("source.ip", ip).unwrap();
        event.set("source.port", "445").unwrap();
        event.set("time.source", "2026-11-27T08:00:00+00:00").unwrap();
        event.set("feed.name", "test").unwrap();
        event.set("comment", "Ćirilica и latinica").unwrap();
        event.classify();
        new.push(NewEvent {
            taxonomy: event.get_str("classification.taxonomy").map(str::to_owned),
            classification_type: Some((*kind).to_owned()),
            source_ip: ip.parse().ok(),
            org_ids: vec![*org_id],
            ..NewEvent::new(
                report.id,
                "test",
                index as u64 + 1,
                String::new(),
                time::OffsetDateTime::now_utc(),
                neretva_event::intelmq_json::to_line(&event),
            )
        });
    }
    store.insert_events(&new).await.unwrap();
    new.iter().map(|e| e.id).collect()
}

pub(crate) fn config(host: &str, port: u16, timeout: StdDuration) -> NotifierConfig {
    NotifierConfig {
        cert_name: "CERT-TEST".into(),
        from: Mailbox { name: Some("CERT-TEST".into()), address: "cert@cert.example.ba".into() },
        smtp: SmtpConfig {
            host: host.into(),
            port,
            tls: TlsMode::Plain,
            username: None,
            password: None,
            timeout,
        },
        schedules: Schedules::default(),
        suppression_window: Duration::hours(24),
        default_clearance: Tlp::AmberStrict,
        contact_clearance: Default::default(),
        org_language: Default::default(),
        contact_roles: Vec::new(),
        max_attempts: 3,
        retry_after: Duration::minutes(5),
        overrides: Overrides::new(),
        reminder_before: vec![Duration::hours(6), Duration::hours(1)],
        deadlines: Default::default(),
    }
}

pub(crate) fn notifier(store: Arc<dyn Store>, config: NotifierConfig) -> Notifier {
    let signer = Signer::from_armored(&key("cert-secret.asc"), "correct horse battery staple").unwrap();
    Notifier::new(store, config, signer).unwrap()
}

pub(crate) fn now() -> Timestamp {
    time::OffsetDateTime::now_utc()
}

/// A child process killed when dropped.
pub(crate) struct Running(pub(crate) Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `python -m aiosmtpd` with the sink handler on a free loopback port, waiting until it
/// accepts connections.
pub(crate) fn start_smtp(python: &str, directory: &Path) -> (Running, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let handler_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests");
    let child = Command::new(python)
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "smtp_sink.Sink"])
        .arg(directory)
        .env("PYTHONPATH", &handler_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {python} -m aiosmtpd: {error}"));
    let mut running = Running(child);
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (running, port);
        }
        if let Some(status) = running.0.try_wait().unwrap() {
            panic!("aiosmtpd exited with {status}");
        }
        std::thread::sleep(StdDuration::from_millis(50));
    }
    panic!("aiosmtpd did not listen on port {port}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_smtp_is_refused_to_other_hosts() {
    let dir = TempDir::new("plain");
    let store = store(&dir.0).await;
    let signer = Signer::from_armored(&key("cert-secret.asc"), "correct horse battery staple").unwrap();
    let error =
        Notifier::new(store, config("smtp.example.ba", 25, StdDuration::from_secs(5)), signer).unwrap_err();
    assert!(error.to_string().contains("only to a loopback address"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clearance_comes_from_the_configuration_then_the_contact_then_the_default() {
    let dir = TempDir::new("clearance");
    let store = store(&dir.0).await;
    let ep = org(store.as_ref(), "EP").await;
    let stored = contact(store.as_ref(), ep, "ciso@ep.example.ba", &[], None).await;
    let overridden = contact(store.as_ref(), ep, "noc@ep.example.ba", &[], None).await;
    contact(store.as_ref(), ep, "desk@ep.example.ba", &[], None).await;
    for (id, tlp) in [(stored, Tlp::Red), (overridden, Tlp::Red)] {
        let mut fields = store.get_contact(id).await.unwrap().unwrap().fields;
        fields.clearance = Some(tlp);
        store.update_contact(&Actor("test".into()), id, &fields, None).await.unwrap();
    }
    // One event, due now.
    events(store.as_ref(), &[(ep, "infected-system", "192.0.2.1")]).await;
    let mut config = config("127.0.0.1", 9, StdDuration::from_secs(1));
    config.default_clearance = Tlp::Green;
    config.contact_clearance.insert("noc@ep.example.ba".into(), Tlp::Amber);
    let notifier = notifier(Arc::clone(&store), config);
    let organisation = store.get_org(ep).await.unwrap().unwrap();
    let report = notifier.preview(&organisation, now(), &|_| true).await.unwrap();
    let mut seen: Vec<(String, Tlp, u64, u64)> =
        report.due.iter().map(|p| (p.email.clone(), p.clearance, p.events, p.withheld)).collect();
    seen.sort();
    // The event is TLP:AMBER+STRICT (no tlp of its own): only the stored TLP:RED clearance
    // receives it; the configured TLP:AMBER for noc@ overrides its stored TLP:RED.
    assert_eq!(
        seen,
        [
            ("ciso@ep.example.ba".to_owned(), Tlp::Red, 1, 0),
            ("desk@ep.example.ba".to_owned(), Tlp::Green, 0, 1),
            ("noc@ep.example.ba".to_owned(), Tlp::Amber, 0, 1),
        ]
    );
}

/// Opens an incident reported by `reporter` at `tlp` and moves it to triage; returns its id.
pub(crate) async fn triaged_incident(store: &dyn Store, reporter: Uuid, tlp: Tlp) -> Uuid {
    use neretva_incident::incident::{Incident, IncidentDraft, IncidentSource};
    use neretva_store::incidents::IncidentWrite;

    let mut draft = IncidentDraft::titled("Phishing");
    draft.reporter_org = Some(reporter);
    draft.affected_orgs = vec![reporter];
    draft.tlp = tlp;
    let (mut incident, created) =
        Incident::open(Uuid::now_v7(), draft, IncidentSource::Analyst, None, now()).unwrap();
    let mut write = IncidentWrite::new(incident.clone(), None, "incident.create");
    write.timeline = vec![created];
    store.write_incidents(&Actor("test".into()), &[write]).await.unwrap();
    let moved = incident.transition(neretva_incident::workflow::Status::Triage, None, now()).unwrap();
    let mut write = IncidentWrite::new(incident.clone(), Some(1), "incident.transition");
    write.timeline = vec![moved];
    store.write_incidents(&Actor("test".into()), &[write]).await.unwrap();
    incident.id
}

/// A `TLP:RED` incident's status is told to nobody by e-mail (only named users may see it); an
/// organisation without a contact has its update recorded as a failed message, not lost; both
/// are settled, so the next pass makes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn red_incidents_and_organisations_without_contacts() {
    let dir = TempDir::new("incident-edges");
    let store = store(&dir.0).await;
    let secret = org(store.as_ref(), "SECRET").await;
    let cleared = contact(store.as_ref(), secret, "ciso@secret.example.ba", &[], None).await;
    let mut fields = store.get_contact(cleared).await.unwrap().unwrap().fields;
    fields.clearance = Some(Tlp::Red);
    store.update_contact(&Actor("test".into()), cleared, &fields, None).await.unwrap();
    let lone = org(store.as_ref(), "LONE").await;
    let red = triaged_incident(store.as_ref(), secret, Tlp::Red).await;
    let amber = triaged_incident(store.as_ref(), lone, Tlp::Amber).await;

    let notifier = notifier(Arc::clone(&store), config("127.0.0.1", 9, StdDuration::from_secs(1)));
    let summary = notifier.run_once(now()).await.unwrap();
    assert_eq!((summary.status_changes, summary.messages, summary.unsendable), (2, 1, 1), "{summary:?}");
    let query = |incident| neretva_store::notifications::MessageQuery {
        incident_id: Some(incident),
        ..Default::default()
    };
    assert!(store.list_messages(&query(red)).await.unwrap().is_empty());
    let failed = store.list_messages(&query(amber)).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].status, neretva_store::notifications::DeliveryStatus::Failed);
    assert!(failed[0].last_error.as_deref().unwrap().contains("no contact"), "{failed:?}");
    assert_eq!(store.announced(secret, red).await.unwrap(), ["status/triage"]);
    let again = notifier.run_once(now()).await.unwrap();
    assert_eq!((again.status_changes, again.messages), (0, 0), "{again:?}");
}
