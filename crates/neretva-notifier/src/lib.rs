//! Constituent notifications at work: one pass over the notification queue builds each
//! organisation's digests (`neretva-notify`) and records them with the events they tell about
//! ([`Notifier::run_once`]); delivery sends the recorded messages over SMTP with retries and
//! back-off ([`Notifier::deliver_due`]); previews render without recording
//! ([`Notifier::preview`]); [`Notifier::resend`] sends an earlier message's events again;
//! [`Notifier::announcement_messages`] builds a working group's announcement to its members.
//! Incident updates (a status change, a reminder of a NIS2 report due or overdue) and CERT
//! advisories take the same path: recorded per contact, signed, encrypted where the contact
//! has a key, and delivered with the same retries.
//!
//! **Architecture Invariant:** a message is recorded, with its exact bytes and its events,
//! before it is sent, so a crash between the two sends it later instead of losing it, and a
//! retry sends the very bytes (Message-ID and signature) of the first attempt.
//!
//! **Architecture Invariant:** one organisation's problems (no contact, a bad address, a key that
//! cannot encrypt, a refusing or silent server) are recorded on its messages and never stop
//! other organisations' notifications.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use lettre::address::{Address, Envelope};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use neretva_event::{Event, intelmq_json};
use neretva_incident::deadline::{DeadlineConfig, obligations};
use neretva_incident::incident::Incident;
use neretva_model::contact::{Contact, Language, check_email};
use neretva_model::org::Organisation;
use neretva_model::tlp::Tlp;
use neretva_model::{Timestamp, Uuid};
use neretva_notify::digest::{Queued, digest_tlp, select_due, suppress, within_clearance};
use neretva_notify::incident::{
    DueReminder, ReminderUpdate, StatusUpdate, due_reminders, reminder_content, status_content, status_topic,
};
use neretva_notify::mime::Mailbox;
use neretva_notify::openpgp::{RecipientKey, Signer};
use neretva_notify::render::{DigestInput, Overrides, Renderer};
use neretva_notify::schedule::{Schedule, Schedules};
use neretva_notify::texts::choose_language;
use neretva_notify::{Content, Envelope as MailEnvelope, NotifyError, compose, digest_content};
use neretva_store::incidents::{IncidentCursor, IncidentQuery};
use neretva_store::notifications::{Announcement, Attempt, NewMessage, NotificationWrite, StoredMessage};
use neretva_store::{Actor, Store, StoreError};
use rand::SeedableRng;
use rand::rngs::StdRng;
use time::Duration;

/// What can go wrong running notifications.
#[derive(Debug, thiserror::Error)]
pub enum NotifierError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Notify(#[from] NotifyError),
    #[error("{field}: {message}")]
    Config { field: String, message: String },
    #[error("{kind} {key} not found")]
    NotFound { kind: &'static str, key: String },
    /// Bad input from the caller, naming the field.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// STARTTLS, required (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No TLS: allowed only for a loopback server (a local relay, tests).
    Plain,
}

/// The SMTP server to submit messages to.
#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: Option<String>,
    pub password: Option<String>,
    /// How long one delivery attempt (connection and conversation) may take.
    pub timeout: StdDuration,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Everything the notifier needs besides the store and the signing key.
#[derive(Debug, Clone)]
pub struct NotifierConfig {
    /// The CERT's name in messages.
    pub cert_name: String,
    pub from: Mailbox,
    pub smtp: SmtpConfig,
    pub schedules: Schedules,
    /// Repeats of an event told within this window are counted, not told again; zero turns
    /// suppression of earlier notifications off.
    pub suppression_window: Duration,
    /// The highest TLP a contact receives when neither the configuration nor the contact names
    /// one.
    pub default_clearance: Tlp,
    /// Clearances of contacts by e-mail address (lower case); they override the contacts' own
    /// (stored) clearances.
    pub contact_clearance: BTreeMap<String, Tlp>,
    /// Languages of organisations by id, for contacts that name none.
    pub org_language: BTreeMap<Uuid, Language>,
    /// Only contacts with one of these roles are written to; empty means every contact.
    pub contact_roles: Vec<String>,
    /// Attempts before a message counts as failed.
    pub max_attempts: u32,
    /// The wait before the second attempt; each further one waits twice as long.
    pub retry_after: Duration,
    pub overrides: Overrides,
    /// How long before a NIS2 report is due its reporting organisation is reminded (each lead
    /// time once); an overdue report is reminded of once whatever the lead times.
    pub reminder_before: Vec<Duration>,
    /// How the incidents' deadlines are computed (the same as the server's).
    pub deadlines: DeadlineConfig,
}

/// The outcome of one pass over the queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    pub organisations: u64,
    pub messages: u64,
    /// Messages recorded as failed because they could not be made (no contact, a bad address,
    /// a key that cannot encrypt).
    pub unsendable: u64,
    pub events: u64,
    pub suppressed: u64,
    /// Events that wait for their schedule.
    pub waiting: u64,
    /// Organisations whose pass failed (logged; their entries stay queued).
    pub errors: u64,
    /// Incident status changes announced (per incident and organisation).
    pub status_changes: u64,
    /// Reminders of NIS2 reports made (per report, organisation and lead time or overdue).
    pub reminders: u64,
}

/// The outcome of one delivery pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliverySummary {
    pub sent: u64,
    pub retrying: u64,
    pub failed: u64,
}

/// One rendered message of a preview.
#[derive(Debug, Clone)]
pub struct Preview {
    pub contact_id: Option<Uuid>,
    pub email: String,
    pub language: Language,
    pub tlp: Tlp,
    /// The highest TLP the contact receives.
    pub clearance: Tlp,
    pub encrypted: bool,
    /// Why no message would go to this contact.
    pub problem: Option<String>,
    pub content: Option<Content>,
    pub events: u64,
    pub withheld: u64,
}

/// A CERT advisory: a subject and a plain-text body under a TLP label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advisory {
    pub subject: String,
    pub body: String,
    pub tlp: Tlp,
}

/// The longest advisory subject, in characters.
pub const MAX_ADVISORY_SUBJECT: usize = 200;
/// The longest advisory body, in bytes.
pub const MAX_ADVISORY_BODY: usize = 256 * 1024;

impl Advisory {
    /// Checks the subject (one line, 1 to 200 characters) and the body (not empty, at most
    /// 256 KiB, no control characters but line breaks and tabs).
    pub fn check(&self) -> Result<(), NotifierError> {
        let invalid = |field: &str, message: String| NotifierError::Invalid { field: field.into(), message };
        let subject = self.subject.trim();
        if subject.is_empty() {
            return Err(invalid("subject", "is required".into()));
        }
        if subject.chars().count() > MAX_ADVISORY_SUBJECT {
            return Err(invalid("subject", format!("is longer than {MAX_ADVISORY_SUBJECT} characters")));
        }
        if subject.chars().any(char::is_control) {
            return Err(invalid("subject", "must be one line without control characters".into()));
        }
        if self.body.trim().is_empty() {
            return Err(invalid("body", "is required".into()));
        }
        if self.body.len() > MAX_ADVISORY_BODY {
            return Err(invalid("body", format!("is larger than {MAX_ADVISORY_BODY} bytes")));
        }
        if self.body.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            return Err(invalid("body", "contains control characters".into()));
        }
        Ok(())
    }
}

/// The outcome of recording an advisory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdvisorySummary {
    /// The recorded messages (pending, or failed when they could not be made).
    pub messages: Vec<StoredMessage>,
    /// Contacts not cleared for the advisory's TLP.
    pub withheld: u64,
    /// Organisations whose pass failed (logged).
    pub errors: u64,
}

/// What a run at a given time would send, and what waits for later.
#[derive(Debug, Clone)]
pub struct PreviewReport {
    /// One entry per contact: the digest of the events due now.
    pub due: Vec<Preview>,
    /// Events due now that would be told (after suppression).
    pub due_events: u64,
    /// Events due now that repeat within the suppression window: counted, not told.
    pub suppressed: u64,
    /// Events waiting for their schedule, by the time their digest is due (earliest first).
    pub later: Vec<Waiting>,
}

/// Queued events that a later digest of one schedule will tell about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub schedule: Schedule,
    pub due_at: Timestamp,
    pub events: u64,
    /// Events per classification type.
    pub types: BTreeMap<String, u64>,
}

/// A member of a working group an announcement goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnouncementRecipient {
    /// The organisation the delivery record files the message under (the member's, or the
    /// group's convener for a member from outside the registry).
    pub org_id: Uuid,
    pub name: String,
    pub email: String,
    pub language: Language,
}

/// The most pending status announcements one pass makes; the rest wait for the next pass.
const MAX_UPDATES: u32 = 10_000;

/// The most incidents with deadlines one pass examines for reminders.
const MAX_REMINDER_SCAN: usize = 100_000;

/// What a message that is not a digest is: its kind, the incident it is about, its TLP.
struct About {
    kind: &'static str,
    incident_id: Option<Uuid>,
    tlp: Tlp,
}

/// A contact the organisation's digests go to, checked.
struct Recipient {
    contact: Contact,
    mailbox: Mailbox,
    language: Language,
    clearance: Tlp,
    key: Option<RecipientKey>,
    problem: Option<String>,
}

/// Runs constituent notifications over a store.
pub struct Notifier {
    store: Arc<dyn Store>,
    config: NotifierConfig,
    renderer: Renderer,
    signer: Signer,
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier").field("config", &self.config).field("signer", &self.signer).finish()
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn transport(smtp: &SmtpConfig, from: &Mailbox) -> Result<AsyncSmtpTransport<Tokio1Executor>, NotifierError> {
    let config_error = |message: String| NotifierError::Config { field: "notify.smtp".into(), message };
    let builder = match smtp.tls {
        TlsMode::Plain if !is_loopback(&smtp.host) => {
            return Err(config_error(format!(
                "plain SMTP without TLS is allowed only to a loopback address, not to {:?}",
                smtp.host
            )));
        }
        TlsMode::Plain => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.clone()),
        TlsMode::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
            .map_err(|error| config_error(format!("cannot use {:?}: {error}", smtp.host)))?,
        TlsMode::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
            .map_err(|error| config_error(format!("cannot use {:?}: {error}", smtp.host)))?,
    };
    let mut builder = builder
        .port(smtp.port)
        .timeout(Some(smtp.timeout))
        .hello_name(ClientId::Domain(from.domain().to_owned()));
    if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    Ok(builder.build())
}

/// An event from its stored IntelMQ JSON.
fn parse_event(json: &str) -> Option<Event> {
    intelmq_json::from_line(json).ok()
}

impl Notifier {
    /// Checks the configuration and compiles the templates.
    pub fn new(
        store: Arc<dyn Store>,
        config: NotifierConfig,
        signer: Signer,
    ) -> Result<Notifier, NotifierError> {
        check_email(&config.from.address)
            .map_err(|error| NotifierError::Config { field: "notify.from".into(), message: error.message })?;
        let renderer = Renderer::new(&config.overrides)?;
        let transport = transport(&config.smtp, &config.from)?;
        Ok(Notifier { store, config, renderer, signer, transport })
    }

    pub fn config(&self) -> &NotifierConfig {
        &self.config
    }

    /// The CERT's public signing key, ASCII-armoured.
    pub fn public_key(&self) -> Result<String, NotifierError> {
        Ok(self.signer.public_key_armored()?)
    }

    async fn recipients(&self, org: &Organisation, now: Timestamp) -> Result<Vec<Recipient>, NotifierError> {
        let contacts = self.store.list_contacts(Some(org.id)).await?;
        let roles = &self.config.contact_roles;
        let mut recipients = Vec::new();
        for contact in contacts {
            if !roles.is_empty()
                && !contact
                    .fields
                    .role
                    .as_deref()
                    .is_some_and(|role| roles.iter().any(|r| r.eq_ignore_ascii_case(role)))
            {
                continue;
            }
            let email = contact.fields.email.trim().to_owned();
            let mut problem =
                check_email(&email).err().map(|error| format!("invalid address: {}", error.message));
            let key = match contact.fields.pgp_key.as_deref() {
                Some(armored) if problem.is_none() => match RecipientKey::parse(armored, now) {
                    Ok(key) => Some(key),
                    Err(error) => {
                        problem = Some(format!("the contact's OpenPGP key cannot be used: {error}"));
                        None
                    }
                },
                _ => None,
            };
            // The configuration's entry for the address overrides the contact's own clearance,
            // which overrides the configured default.
            let clearance = self
                .config
                .contact_clearance
                .get(&email.to_ascii_lowercase())
                .copied()
                .or(contact.fields.clearance)
                .unwrap_or(self.config.default_clearance);
            recipients.push(Recipient {
                language: choose_language(
                    &contact.fields.languages,
                    self.config.org_language.get(&org.id).copied(),
                ),
                mailbox: Mailbox { name: Some(contact.fields.name.clone()), address: email },
                contact,
                clearance,
                key,
                problem,
            });
        }
        Ok(recipients)
    }

    fn message_id(&self) -> (Uuid, String) {
        let id = Uuid::now_v7();
        (id, format!("{id}@{}", self.config.from.domain()))
    }

    /// Builds the messages of one organisation about `events`; `kind` is `digest` or `resend`.
    #[allow(clippy::too_many_arguments)]
    fn build_messages(
        &self,
        org: &Organisation,
        recipients: &[Recipient],
        events: &[(&Queued, Uuid)],
        suppressed: u64,
        kind: &str,
        resend_of: Option<Uuid>,
        now: Timestamp,
    ) -> Result<Vec<NewMessage>, NotifierError> {
        let all_ids: Vec<Uuid> = events.iter().map(|(_, id)| *id).collect();
        let base = |id: Uuid, message_id: String, contact: Option<&Contact>, email: &str| NewMessage {
            id,
            message_id,
            org_id: org.id,
            contact_id: contact.map(|c| c.id),
            email: email.to_owned(),
            kind: kind.to_owned(),
            resend_of,
            subject: String::new(),
            tlp: String::new(),
            language: String::new(),
            encrypted: false,
            raw: Vec::new(),
            event_ids: all_ids.clone(),
            failure: None,
            incident_id: None,
        };
        if recipients.is_empty() {
            let (id, _) = self.message_id();
            return Ok(vec![NewMessage {
                failure: Some("organisation has no contact with an e-mail address to notify".into()),
                ..base(id, String::new(), None, "")
            }]);
        }
        let queued: Vec<&Queued> = events.iter().map(|(q, _)| *q).collect();
        let mut messages = Vec::new();
        for recipient in recipients {
            let (id, message_id) = self.message_id();
            if let Some(problem) = &recipient.problem {
                messages.push(NewMessage {
                    failure: Some(problem.clone()),
                    language: recipient.language.tag().to_owned(),
                    ..base(id, String::new(), Some(&recipient.contact), &recipient.mailbox.address)
                });
                continue;
            }
            let (allowed, _withheld) = within_clearance(&queued, recipient.clearance);
            if allowed.is_empty() {
                continue;
            }
            let event_refs: Vec<&Event> = allowed.iter().map(|q| &q.event).collect();
            let tlp = digest_tlp(event_refs.iter().copied());
            let input = DigestInput {
                cert: &self.config.cert_name,
                org: &org.fields.name,
                org_short: &org.fields.short_name,
                language: recipient.language,
                tlp,
                events: &event_refs,
                suppressed,
            };
            let content = digest_content(&self.renderer, &input)?;
            let envelope = MailEnvelope {
                from: &self.config.from,
                to: &recipient.mailbox,
                message_id: &message_id,
                date: now,
            };
            let raw =
                compose(StdRng::from_entropy(), &content, &envelope, &self.signer, recipient.key.as_ref())?;
            let told: Vec<Uuid> = events
                .iter()
                .filter(|(q, _)| allowed.iter().any(|a| std::ptr::eq(*a, *q)))
                .map(|(_, id)| *id)
                .collect();
            messages.push(NewMessage {
                subject: content.subject,
                tlp: tlp.label().to_owned(),
                language: recipient.language.tag().to_owned(),
                encrypted: recipient.key.is_some(),
                raw,
                event_ids: told,
                ..base(id, message_id, Some(&recipient.contact), &recipient.mailbox.address)
            });
        }
        Ok(messages)
    }

    /// One pass over the queue at `now`: every organisation with queued events gets the
    /// digests that are due, recorded for delivery; then the incident updates (status changes
    /// and reminders of NIS2 reports) not made yet are made. An organisation whose pass fails is
    /// logged and counted; the others go on.
    pub async fn run_once(&self, now: Timestamp) -> Result<RunSummary, NotifierError> {
        let mut summary = RunSummary::default();
        for org_id in self.store.notification_orgs().await? {
            match self.run_org(org_id, now, &mut summary).await {
                Ok(()) => {}
                Err(error) => {
                    summary.errors += 1;
                    tracing::warn!(org = %org_id, error = %error, "Notifying an organisation failed; its events stay queued.");
                }
            }
        }
        if let Err(error) = self.incident_updates(now, &mut summary).await {
            summary.errors += 1;
            tracing::warn!(error = %error, "The pass over incident updates failed; the next pass tries again.");
        }
        Ok(summary)
    }

    async fn run_org(
        &self,
        org_id: Uuid,
        now: Timestamp,
        summary: &mut RunSummary,
    ) -> Result<(), NotifierError> {
        let Some(org) = self.store.get_org(org_id).await? else {
            return Err(NotifierError::NotFound { kind: "organisation", key: org_id.to_string() });
        };
        let stored = self.store.queued_notifications(org_id, 100_000).await?;
        let mut queued = Vec::with_capacity(stored.len());
        let mut unreadable = Vec::new();
        for entry in &stored {
            match parse_event(&entry.event.event.json) {
                Some(event) => queued.push(Queued {
                    queue_id: entry.queue_id,
                    event_id: entry.event.event.id,
                    queued_at: entry.queued_at,
                    event,
                }),
                None => {
                    tracing::warn!(org = %org_id, event = %entry.event.event.id, "A queued event cannot be read; it is not notified.");
                    unreadable.push(entry.queue_id);
                }
            }
        }
        let (due, waiting) = select_due(org_id, &queued, &self.config.schedules, now);
        summary.waiting += waiting as u64;
        if due.is_empty() && unreadable.is_empty() {
            return Ok(());
        }
        let keys: Vec<String> =
            due.iter().map(|q| neretva_notify::digest::suppression_key(org_id, &q.event)).collect();
        let state: HashMap<String, Timestamp> =
            self.store.suppression_state(org_id, &keys).await?.into_iter().collect();
        let filtered = suppress(org_id, &due, &state, self.config.suppression_window, now);
        let schedules: BTreeSet<String> = due
            .iter()
            .map(|q| self.config.schedules.of(org_id, q.classification_type()).as_str().to_owned())
            .collect();
        let send: Vec<(&Queued, Uuid)> = filtered.send.iter().map(|(q, _)| (*q, q.event_id)).collect();
        let messages = if send.is_empty() {
            Vec::new()
        } else {
            let recipients = self.recipients(&org, now).await?;
            self.build_messages(
                &org,
                &recipients,
                &send,
                filtered.suppressed.len() as u64,
                "digest",
                None,
                now,
            )?
        };
        let write = NotificationWrite {
            org_id,
            taken: due.iter().map(|q| q.queue_id).chain(unreadable).collect(),
            notified_keys: filtered.send.iter().map(|(_, key)| key.clone()).collect(),
            suppressed_keys: filtered.suppressed.iter().map(|(_, key)| key.clone()).collect(),
            schedules: schedules.into_iter().collect(),
            messages,
            announcements: Vec::new(),
        };
        let stored = self.store.record_notifications(&Actor::system(), &write).await?;
        summary.organisations += 1;
        summary.events += send.len() as u64;
        summary.suppressed += filtered.suppressed.len() as u64;
        summary.messages += stored.len() as u64;
        summary.unsendable += stored
            .iter()
            .filter(|m| m.status == neretva_store::notifications::DeliveryStatus::Failed)
            .count() as u64;
        Ok(())
    }

    /// Renders what the organisation's contacts would receive from a run at `now`, without
    /// recording or sending anything: the events due by their schedule (after suppression), per
    /// contact, and, apart, what waits in the queue for a later digest and when it is due.
    /// Only queued events for which `visible` holds are considered (the caller's view).
    pub async fn preview(
        &self,
        org: &Organisation,
        now: Timestamp,
        visible: &(dyn Fn(&neretva_store::feeds::StoredEvent) -> bool + Send + Sync),
    ) -> Result<PreviewReport, NotifierError> {
        let stored = self.store.queued_notifications(org.id, 100_000).await?;
        let queued: Vec<Queued> = stored
            .iter()
            .filter(|entry| visible(&entry.event))
            .filter_map(|entry| {
                Some(Queued {
                    queue_id: entry.queue_id,
                    event_id: entry.event.event.id,
                    queued_at: entry.queued_at,
                    event: parse_event(&entry.event.event.json)?,
                })
            })
            .collect();
        let schedules = &self.config.schedules;
        let mut later: BTreeMap<(Timestamp, Schedule), Waiting> = BTreeMap::new();
        let mut due = Vec::new();
        for entry in &queued {
            let schedule = schedules.of(org.id, entry.classification_type());
            if schedule.is_due(entry.queued_at, now, schedules.hour) {
                due.push(entry);
            } else {
                let due_at = schedule.next_due(entry.queued_at, schedules.hour);
                let waiting = later.entry((due_at, schedule)).or_insert_with(|| Waiting {
                    schedule,
                    due_at,
                    events: 0,
                    types: BTreeMap::new(),
                });
                waiting.events += 1;
                *waiting.types.entry(entry.classification_type().to_owned()).or_default() += 1;
            }
        }
        let keys: Vec<String> =
            due.iter().map(|q| neretva_notify::digest::suppression_key(org.id, &q.event)).collect();
        let state: HashMap<String, Timestamp> =
            self.store.suppression_state(org.id, &keys).await?.into_iter().collect();
        let filtered = suppress(org.id, &due, &state, self.config.suppression_window, now);
        let send: Vec<&Queued> = filtered.send.iter().map(|(q, _)| *q).collect();
        let mut previews = Vec::new();
        for recipient in self.recipients(org, now).await? {
            let (allowed, withheld) = within_clearance(&send, recipient.clearance);
            let event_refs: Vec<&Event> = allowed.iter().map(|q| &q.event).collect();
            let tlp = digest_tlp(event_refs.iter().copied());
            let content = if recipient.problem.is_none() && !event_refs.is_empty() {
                let input = DigestInput {
                    cert: &self.config.cert_name,
                    org: &org.fields.name,
                    org_short: &org.fields.short_name,
                    language: recipient.language,
                    tlp,
                    events: &event_refs,
                    suppressed: filtered.suppressed.len() as u64,
                };
                Some(digest_content(&self.renderer, &input)?)
            } else {
                None
            };
            previews.push(Preview {
                contact_id: Some(recipient.contact.id),
                email: recipient.mailbox.address.clone(),
                language: recipient.language,
                tlp,
                clearance: recipient.clearance,
                encrypted: recipient.key.is_some(),
                problem: recipient.problem.clone(),
                content,
                events: event_refs.len() as u64,
                withheld: withheld as u64,
            });
        }
        Ok(PreviewReport {
            due: previews,
            due_events: send.len() as u64,
            suppressed: filtered.suppressed.len() as u64,
            later: later.into_values().collect(),
        })
    }

    /// Sends the events of an earlier message again, to the organisation's current contacts
    /// (new messages, recorded as `resend` of it, delivered by the next delivery pass).
    /// The new messages are audited as `notification.create` by `actor`.
    pub async fn resend(
        &self,
        actor: &Actor,
        message: Uuid,
        now: Timestamp,
    ) -> Result<Vec<StoredMessage>, NotifierError> {
        let Some(original) = self.store.get_message(message).await? else {
            return Err(NotifierError::NotFound { kind: "notification", key: message.to_string() });
        };
        let Some(org) = self.store.get_org(original.org_id).await? else {
            return Err(NotifierError::NotFound { kind: "organisation", key: original.org_id.to_string() });
        };
        let mut queued = Vec::new();
        for (index, event_id) in self.store.message_events(message).await?.into_iter().enumerate() {
            if let Some(stored) = self.store.get_event(event_id).await?
                && let Some(event) = parse_event(&stored.event.json)
            {
                queued.push(Queued { queue_id: index as i64, event_id, queued_at: stored.stored_at, event });
            }
        }
        if queued.is_empty() {
            return Err(NotifierError::NotFound { kind: "events of notification", key: message.to_string() });
        }
        let events: Vec<(&Queued, Uuid)> = queued.iter().map(|q| (q, q.event_id)).collect();
        let recipients = self.recipients(&org, now).await?;
        let messages = self.build_messages(&org, &recipients, &events, 0, "resend", Some(message), now)?;
        let write = NotificationWrite { org_id: org.id, messages, ..NotificationWrite::default() };
        Ok(self.store.record_notifications(actor, &write).await?)
    }

    /// Records a CERT advisory to every contact of `orgs` cleared for its TLP: one signed (and,
    /// where the contact has a key, encrypted) message each, `kind` `advisory`, audited under
    /// `actor` and sent by the next delivery pass. A contact that cannot be written to is
    /// recorded as a failed message; an organisation whose pass fails is counted and the others
    /// go on.
    pub async fn advisory(
        &self,
        actor: &Actor,
        orgs: &[Organisation],
        advisory: &Advisory,
        now: Timestamp,
    ) -> Result<AdvisorySummary, NotifierError> {
        advisory.check()?;
        let mut summary = AdvisorySummary::default();
        for org in orgs {
            match self.advisory_to(actor, org, advisory, now).await {
                Ok((messages, withheld)) => {
                    summary.withheld += withheld;
                    summary.messages.extend(messages);
                }
                Err(error) => {
                    summary.errors += 1;
                    tracing::warn!(org = %org.id, error = %error, "Recording an advisory for an organisation failed.");
                }
            }
        }
        Ok(summary)
    }

    async fn advisory_to(
        &self,
        actor: &Actor,
        org: &Organisation,
        advisory: &Advisory,
        now: Timestamp,
    ) -> Result<(Vec<StoredMessage>, u64), NotifierError> {
        let recipients = self.recipients(org, now).await?;
        let label = advisory.tlp.label();
        let content = Content {
            subject: format!("[{label}] {}", advisory.subject.trim()),
            body: format!(
                "{label}\n\n{}\n\n-- \n{}\n",
                advisory.body.replace("\r\n", "\n").replace('\r', "\n").trim_end(),
                self.config.cert_name
            ),
            attachments: Vec::new(),
        };
        let about = About { kind: "advisory", incident_id: None, tlp: advisory.tlp };
        let (messages, withheld) =
            self.messages_to(org, &recipients, &about, now, &|_| Ok(content.clone()))?;
        let write = NotificationWrite { org_id: org.id, messages, ..NotificationWrite::default() };
        Ok((self.store.record_notifications(actor, &write).await?, withheld))
    }

    /// One message per contact of `org` cleared for `about.tlp`, with the content `render`
    /// makes in the contact's language: signed, and encrypted where the contact has a key. A
    /// contact that cannot be written to (an invalid address, an unusable key), and an
    /// organisation without a contact, are recorded as failed messages. Returns the messages
    /// and the number of contacts not cleared.
    fn messages_to(
        &self,
        org: &Organisation,
        recipients: &[Recipient],
        about: &About,
        now: Timestamp,
        render: &dyn Fn(Language) -> Result<Content, NotifyError>,
    ) -> Result<(Vec<NewMessage>, u64), NotifierError> {
        let base = |contact: Option<&Contact>, email: &str, language: Language, subject: String| {
            let (id, message_id) = self.message_id();
            NewMessage {
                id,
                message_id,
                org_id: org.id,
                contact_id: contact.map(|c| c.id),
                email: email.to_owned(),
                kind: about.kind.to_owned(),
                resend_of: None,
                incident_id: about.incident_id,
                subject,
                tlp: about.tlp.label().to_owned(),
                language: language.tag().to_owned(),
                encrypted: false,
                raw: Vec::new(),
                event_ids: Vec::new(),
                failure: None,
            }
        };
        let mut messages = Vec::new();
        let mut withheld = 0;
        if recipients.is_empty() {
            let language = self.config.org_language.get(&org.id).copied().unwrap_or(Language::En);
            messages.push(NewMessage {
                message_id: String::new(),
                language: String::new(),
                failure: Some("organisation has no contact with an e-mail address to notify".into()),
                ..base(None, "", language, render(language)?.subject)
            });
        }
        for recipient in recipients {
            let content = render(recipient.language)?;
            let message = base(
                Some(&recipient.contact),
                &recipient.mailbox.address,
                recipient.language,
                content.subject.clone(),
            );
            if let Some(problem) = &recipient.problem {
                messages.push(NewMessage {
                    message_id: String::new(),
                    failure: Some(problem.clone()),
                    ..message
                });
                continue;
            }
            if about.tlp > recipient.clearance {
                withheld += 1;
                continue;
            }
            let envelope = MailEnvelope {
                from: &self.config.from,
                to: &recipient.mailbox,
                message_id: &message.message_id,
                date: now,
            };
            let raw =
                compose(StdRng::from_entropy(), &content, &envelope, &self.signer, recipient.key.as_ref())?;
            messages.push(NewMessage { encrypted: recipient.key.is_some(), raw, ..message });
        }
        Ok((messages, withheld))
    }

    /// Incident updates at `now`: each incident status not yet announced to an organisation it
    /// concerns (its reporter and the affected organisations), and the reminders due of the NIS2
    /// reports the reporting organisation owes. Each update is recorded once (its topic, per
    /// incident and organisation), with one message per contact cleared for the incident's
    /// TLP; an update another process made first is skipped. A `TLP:RED` incident is for named
    /// users only, so its updates are recorded without messages.
    async fn incident_updates(&self, now: Timestamp, summary: &mut RunSummary) -> Result<(), NotifierError> {
        let mut incidents: HashMap<Uuid, Option<Incident>> = HashMap::new();
        for pending in self.store.pending_status_announcements(MAX_UPDATES).await? {
            if let std::collections::hash_map::Entry::Vacant(slot) = incidents.entry(pending.incident_id) {
                slot.insert(self.store.get_incident(pending.incident_id).await?.map(|s| s.incident));
            }
            let Some(Some(incident)) = incidents.get(&pending.incident_id) else { continue };
            let outcome = async {
                let org = self.org(pending.org_id).await?;
                self.announce_status(incident, &org, now).await
            };
            self.count_update(outcome.await, incident, pending.org_id, summary, |s| &mut s.status_changes);
        }
        let furthest = self.config.reminder_before.iter().copied().max().unwrap_or(Duration::ZERO);
        let mut query = IncidentQuery {
            due_before: Some(now + furthest + Duration::seconds(1)),
            exclude_merged: true,
            limit: 500,
            ..IncidentQuery::default()
        };
        let mut examined = 0;
        loop {
            let page = self.store.list_incidents(&query).await?;
            for stored in &page {
                let Some(input) = &stored.deadlines else { continue };
                let owed = obligations(input, &self.config.deadlines, now);
                if due_reminders(&owed, &self.config.reminder_before, &BTreeSet::new(), now).is_empty() {
                    continue;
                }
                let incident = &stored.incident;
                // The entity that reports owes the reports; an incident the CERT opened is owed
                // by the organisations it affects.
                let owing = match incident.reporter_org {
                    Some(org) => vec![org],
                    None => incident.affected_orgs.clone(),
                };
                for org_id in owing {
                    let outcome = async {
                        let done: BTreeSet<String> =
                            self.store.announced(org_id, incident.id).await?.into_iter().collect();
                        let due = due_reminders(&owed, &self.config.reminder_before, &done, now);
                        if due.is_empty() {
                            return Ok(Vec::new());
                        }
                        let org = self.org(org_id).await?;
                        let recipients = self.recipients(&org, now).await?;
                        let mut stored = Vec::new();
                        for reminder in &due {
                            stored.push(self.remind(incident, &org, &recipients, reminder, now).await?);
                        }
                        Ok::<_, NotifierError>(stored)
                    };
                    match outcome.await {
                        Ok(made) => {
                            for messages in made {
                                self.count_update(Ok(messages), incident, org_id, summary, |s| {
                                    &mut s.reminders
                                });
                            }
                        }
                        Err(error) => {
                            self.count_update(Err(error), incident, org_id, summary, |s| &mut s.reminders)
                        }
                    }
                }
            }
            examined += page.len();
            match page.last() {
                Some(last) if page.len() == query.limit as usize && examined < MAX_REMINDER_SCAN => {
                    query.after = Some(IncidentCursor { id: last.incident.id, next_due: last.next_due });
                }
                _ => return Ok(()),
            }
        }
    }

    async fn org(&self, org_id: Uuid) -> Result<Organisation, NotifierError> {
        self.store
            .get_org(org_id)
            .await?
            .ok_or_else(|| NotifierError::NotFound { kind: "organisation", key: org_id.to_string() })
    }

    /// Counts an incident update's outcome: made (with its messages), made before by another
    /// pass (a conflict on its announcement: nothing to do), or failed (logged; it is tried
    /// again by the next pass).
    fn count_update(
        &self,
        outcome: Result<Vec<StoredMessage>, NotifierError>,
        incident: &Incident,
        org_id: Uuid,
        summary: &mut RunSummary,
        counter: fn(&mut RunSummary) -> &mut u64,
    ) {
        match outcome {
            Ok(stored) => {
                *counter(summary) += 1;
                summary.messages += stored.len() as u64;
                summary.unsendable += stored
                    .iter()
                    .filter(|m| m.status == neretva_store::notifications::DeliveryStatus::Failed)
                    .count() as u64;
            }
            Err(NotifierError::Store(StoreError::Conflict { field, .. })) if field == "announcement" => {}
            Err(error) => {
                summary.errors += 1;
                tracing::warn!(org = %org_id, incident = %incident.id, error = %error, "An incident update failed; the next pass tries again.");
            }
        }
    }

    /// Records the announcement of an incident's current status to one organisation.
    async fn announce_status(
        &self,
        incident: &Incident,
        org: &Organisation,
        now: Timestamp,
    ) -> Result<Vec<StoredMessage>, NotifierError> {
        let messages = if incident.tlp == Tlp::Red {
            Vec::new()
        } else {
            let recipients = self.recipients(org, now).await?;
            let about = About { kind: "incident-status", incident_id: Some(incident.id), tlp: incident.tlp };
            let render = |language: Language| {
                let update = StatusUpdate {
                    cert: &self.config.cert_name,
                    org: &org.fields.name,
                    language,
                    tlp: incident.tlp,
                    incident_id: incident.id,
                    title: &incident.title,
                    status: incident.status,
                    changed_at: match incident.status {
                        neretva_incident::workflow::Status::Resolved => incident.resolved_at,
                        neretva_incident::workflow::Status::Closed => incident.closed_at,
                        _ => None,
                    }
                    .unwrap_or(incident.updated_at),
                };
                status_content(&self.renderer, &update)
            };
            self.messages_to(org, &recipients, &about, now, &render)?.0
        };
        let write = NotificationWrite {
            org_id: org.id,
            messages,
            announcements: vec![Announcement {
                incident_id: incident.id,
                topic: status_topic(incident.status),
            }],
            ..NotificationWrite::default()
        };
        Ok(self.store.record_notifications(&Actor::system(), &write).await?)
    }

    /// Records one reminder of a report the organisation owes.
    async fn remind(
        &self,
        incident: &Incident,
        org: &Organisation,
        recipients: &[Recipient],
        reminder: &DueReminder,
        now: Timestamp,
    ) -> Result<Vec<StoredMessage>, NotifierError> {
        let messages = if incident.tlp == Tlp::Red {
            Vec::new()
        } else {
            let about =
                About { kind: "incident-reminder", incident_id: Some(incident.id), tlp: incident.tlp };
            let render = |language: Language| {
                let update = ReminderUpdate {
                    cert: &self.config.cert_name,
                    org: &org.fields.name,
                    language,
                    tlp: incident.tlp,
                    incident_id: incident.id,
                    title: &incident.title,
                    kind: reminder.kind,
                    due_at: reminder.due_at,
                    now,
                };
                reminder_content(&self.renderer, &update)
            };
            self.messages_to(org, recipients, &about, now, &render)?.0
        };
        let announcements = reminder
            .topics
            .iter()
            .map(|topic| Announcement { incident_id: incident.id, topic: topic.clone() })
            .collect();
        let write =
            NotificationWrite { org_id: org.id, messages, announcements, ..NotificationWrite::default() };
        Ok(self.store.record_notifications(&Actor::system(), &write).await?)
    }

    /// Builds one signed message per recipient of a working group's announcement (`kind`
    /// `group_announcement`), for [`Store::announce_group`] to record with the group; `text`
    /// gives the subject and body in a recipient's language. A recipient whose address is not
    /// valid gets a message recorded as failed at once; the others are built as usual and sent by
    /// the next delivery pass, where a refusing server fails only its own recipient's message.
    pub fn announcement_messages(
        &self,
        recipients: &[AnnouncementRecipient],
        tlp: Tlp,
        text: impl Fn(Language) -> (String, String),
        now: Timestamp,
    ) -> Result<Vec<NewMessage>, NotifierError> {
        let mut messages = Vec::with_capacity(recipients.len());
        for recipient in recipients {
            let (id, message_id) = self.message_id();
            let (subject, body) = text(recipient.language);
            let email = recipient.email.trim().to_owned();
            let message = NewMessage {
                id,
                message_id: String::new(),
                org_id: recipient.org_id,
                contact_id: None,
                email: email.clone(),
                kind: "group_announcement".into(),
                incident_id: None,
                resend_of: None,
                subject: subject.clone(),
                tlp: tlp.label().to_owned(),
                language: recipient.language.tag().to_owned(),
                encrypted: false,
                raw: Vec::new(),
                event_ids: Vec::new(),
                failure: None,
            };
            if let Err(error) = check_email(&email) {
                messages.push(NewMessage {
                    failure: Some(format!("invalid address: {}", error.message)),
                    ..message
                });
                continue;
            }
            let mailbox = Mailbox { name: Some(recipient.name.clone()), address: email };
            let envelope =
                MailEnvelope { from: &self.config.from, to: &mailbox, message_id: &message_id, date: now };
            let content = Content { subject, body, attachments: Vec::new() };
            let raw = compose(StdRng::from_entropy(), &content, &envelope, &self.signer, None)?;
            messages.push(NewMessage { message_id, raw, ..message });
        }
        Ok(messages)
    }

    /// Sends every pending message whose attempt is due: a temporary failure (a 4xx reply, a
    /// refused connection, a timeout) is retried with back-off, a permanent one (5xx) or the
    /// last attempt is recorded as failed.
    pub async fn deliver_due(&self, now: Timestamp) -> Result<DeliverySummary, NotifierError> {
        let mut summary = DeliverySummary::default();
        loop {
            let due = self.store.due_messages(now, 100).await?;
            if due.is_empty() {
                return Ok(summary);
            }
            for (message, raw) in due {
                let outcome = self.send(&message, &raw, now).await;
                match &outcome {
                    Attempt::Sent => summary.sent += 1,
                    Attempt::Retry { error, .. } => {
                        summary.retrying += 1;
                        tracing::warn!(message = %message.id, to = %message.email, error = %error, "Sending a notification failed; it will be retried.");
                    }
                    Attempt::Failed { error } => {
                        summary.failed += 1;
                        tracing::warn!(message = %message.id, to = %message.email, error = %error, "Sending a notification failed for good.");
                    }
                }
                self.store.record_attempt(message.id, now, &outcome).await?;
            }
        }
    }

    async fn send(&self, message: &StoredMessage, raw: &[u8], now: Timestamp) -> Attempt {
        let (text, permanent) = match self.submit(&message.email, raw).await {
            Ok(()) => return Attempt::Sent,
            Err(failure) => failure,
        };
        let attempts = message.attempts + 1;
        if permanent || attempts >= self.config.max_attempts {
            Attempt::Failed { error: text }
        } else {
            let factor = 1i32 << message.attempts.min(16);
            Attempt::Retry { error: text, next_at: now + self.config.retry_after * factor }
        }
    }

    /// Submits one message to the SMTP server; an error says what failed and whether it is
    /// permanent.
    async fn submit(&self, to: &str, raw: &[u8]) -> Result<(), (String, bool)> {
        let addresses = (self.config.from.address.parse::<Address>(), to.parse::<Address>());
        let envelope = match addresses {
            (Ok(from), Ok(to)) => Envelope::new(Some(from), vec![to]),
            (Err(error), _) | (_, Err(error)) => return Err((format!("invalid address: {error}"), true)),
        };
        let envelope = envelope.map_err(|error| (format!("invalid envelope: {error}"), true))?;
        // lettre bounds only the connection by its timeout; the whole conversation is bounded
        // here, so a server that stops answering cannot hold the notifier.
        let limit = self.config.smtp.timeout;
        match tokio::time::timeout(limit, self.transport.send_raw(&envelope, raw)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => Err((describe(&error), error.is_permanent())),
            Err(_) => Err((
                format!("the SMTP server did not answer within {} s (timed out)", limit.as_secs_f64()),
                false,
            )),
        }
    }

    /// Composes a message signed with the CERT's key (encrypted too when `key`, the
    /// recipient's armoured public key, is given) and sends it at once, without recording its
    /// bytes: for messages that carry a secret meant for their recipient only, such as a
    /// communication check's one-time link. The caller records the outcome; an error says why
    /// the message could not be made or sent.
    pub async fn send_direct(
        &self,
        to: &Mailbox,
        key: Option<&str>,
        content: &Content,
        now: Timestamp,
    ) -> Result<(), String> {
        check_email(&to.address).map_err(|error| format!("invalid address: {}", error.message))?;
        let key = key
            .map(|armored| RecipientKey::parse(armored, now))
            .transpose()
            .map_err(|error| format!("the recipient's OpenPGP key cannot be used: {error}"))?;
        let (_, message_id) = self.message_id();
        let envelope = MailEnvelope { from: &self.config.from, to, message_id: &message_id, date: now };
        let raw = compose(StdRng::from_entropy(), content, &envelope, &self.signer, key.as_ref())
            .map_err(|error| format!("the message cannot be made: {error}"))?;
        self.submit(&to.address, &raw).await.map_err(|(text, _)| text)
    }
}

/// An SMTP error with its causes, on one line.
fn describe(error: &lettre::transport::smtp::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    neretva_notify::mime::one_line(&text)
}
