//! Constituent notifications from the command line and in `serve`: the `[notify]`
//! configuration, `neretva notify run|preview|resend|advisory|list`, and the notifier task.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use anyhow::{Context, bail};
use neretva_model::contact::Language;
use neretva_model::tlp::Tlp;
use neretva_notifier::{Notifier, NotifierConfig, SmtpConfig, TlsMode};
use neretva_notify::mime::Mailbox;
use neretva_notify::openpgp::Signer;
use neretva_notify::render::Overrides;
use neretva_notify::schedule::{OrgSchedule, Schedule, Schedules};
use neretva_store::Store;
use neretva_store::notifications::{DeliveryStatus, MessageQuery, StoredMessage};
use serde::Serialize;

use crate::cli::NotifyCommand;
use crate::commands::ready_store;
use crate::config::{Config, RawNotify};
use crate::output;
use crate::output::rfc3339;

/// The `[notify]` section, checked; secrets and files are read when a notifier is built.
#[derive(Debug, Clone)]
pub(crate) struct NotifySettings {
    pub(crate) enabled: bool,
    pub(crate) cert_name: String,
    pub(crate) from: Mailbox,
    pub(crate) signing_key: Option<PathBuf>,
    pub(crate) passphrase_env: String,
    pub(crate) interval: StdDuration,
    pub(crate) smtp: SmtpConfig,
    pub(crate) password_env: Option<String>,
    pub(crate) schedules: Schedules,
    /// Organisations' schedules, languages by short name (resolved against the registry).
    pub(crate) org_schedules: BTreeMap<String, OrgSchedule>,
    pub(crate) org_languages: BTreeMap<String, Language>,
    pub(crate) suppression_hours: u32,
    pub(crate) clearance: Tlp,
    pub(crate) contact_clearance: BTreeMap<String, Tlp>,
    pub(crate) contact_roles: Vec<String>,
    pub(crate) max_attempts: u32,
    pub(crate) retry_minutes: u32,
    pub(crate) templates_dir: Option<PathBuf>,
    /// Lead times of reminders of NIS2 reports, longest first.
    pub(crate) reminder_before: Vec<time::Duration>,
}

/// The most lead times of reminders.
const MAX_REMINDERS: usize = 10;

/// Parses a lead time: a whole number of days, hours or minutes (`2d`, `6h`, `30m`), at most
/// 30 days.
fn lead_time(text: &str) -> Result<time::Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: i64 = number.parse().map_err(|_| format!("{text:?} is not a duration like 6h, 30m or 2d"))?;
    let duration = match unit {
        "d" => time::Duration::days(number),
        "h" => time::Duration::hours(number),
        "m" | "min" => time::Duration::minutes(number),
        _ => return Err(format!("{text:?} is not a duration like 6h, 30m or 2d")),
    };
    if duration <= time::Duration::ZERO || duration > time::Duration::days(30) {
        return Err(format!("{text:?} must be more than 0 and at most 30 days"));
    }
    Ok(duration)
}

/// Parses `Name <address>` or `address`.
fn mailbox(text: &str) -> Option<Mailbox> {
    let text = text.trim();
    match text.rsplit_once('<') {
        Some((name, rest)) => {
            let address = rest.strip_suffix('>')?.trim();
            let name = name.trim().trim_matches('"').trim();
            Some(Mailbox { name: (!name.is_empty()).then(|| name.to_owned()), address: address.to_owned() })
        }
        None => Some(Mailbox { name: None, address: text.to_owned() }),
    }
}

/// Checks the `[notify]` section, reporting every problem.
pub(crate) fn check(raw: &RawNotify, operator: &str) -> Result<NotifySettings, Vec<String>> {
    let mut errors = Vec::new();
    let schedule = |field: &str, text: &str, errors: &mut Vec<String>| match text.parse::<Schedule>() {
        Ok(schedule) => Some(schedule),
        Err(error) => {
            errors.push(format!("{field}: {}", error.to_string().trim_start_matches("schedule: ")));
            None
        }
    };
    let tlp = |field: &str, text: &str, errors: &mut Vec<String>| match text.parse::<Tlp>() {
        Ok(tlp) => Some(tlp),
        Err(error) => {
            errors.push(format!("{field}: {error}"));
            None
        }
    };
    let from = match raw.from.as_deref().and_then(mailbox) {
        Some(from) if neretva_model::contact::check_email(&from.address).is_ok() => from,
        Some(from) => {
            errors.push(format!("notify.from: {:?} is not an e-mail address", from.address));
            from
        }
        None => {
            errors.push(
                "notify.from: the sender's address is required, e.g. \"CERT <cert@example.ba>\"".into(),
            );
            Mailbox { name: None, address: String::new() }
        }
    };
    let tls = match raw.smtp.tls.as_deref().unwrap_or("starttls") {
        "starttls" => TlsMode::Starttls,
        "tls" => TlsMode::Tls,
        "plain" => TlsMode::Plain,
        other => {
            errors.push(format!("notify.smtp.tls: {other:?} must be starttls, tls or plain"));
            TlsMode::Starttls
        }
    };
    let host = raw.smtp.host.clone().unwrap_or_else(|| "127.0.0.1".into());
    if tls == TlsMode::Plain
        && !(host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()))
    {
        errors.push(format!(
            "notify.smtp.tls: plain SMTP is allowed only to a loopback address, not to {host:?}"
        ));
    }
    let port = raw.smtp.port.unwrap_or(match tls {
        TlsMode::Starttls => 587,
        TlsMode::Tls => 465,
        TlsMode::Plain => 25,
    });
    let mut schedules = Schedules::default();
    if let Some(text) = &raw.default_schedule
        && let Some(s) = schedule("notify.default_schedule", text, &mut errors)
    {
        schedules.default = s;
    }
    for (kind, text) in &raw.schedules {
        if neretva_event::taxonomy::canonical_type(kind) != Some(kind.as_str()) {
            errors.push(format!("notify.schedules.{kind}: unknown classification type"));
        }
        if let Some(s) = schedule(&format!("notify.schedules.{kind}"), text, &mut errors) {
            schedules.by_type.insert(kind.clone(), s);
        }
    }
    if let Some(hour) = raw.daily_hour {
        if hour > 23 {
            errors.push(format!("notify.daily_hour: {hour} must be 0 to 23"));
        }
        schedules.hour = hour.min(23);
    }
    let mut org_schedules = BTreeMap::new();
    let mut org_languages = BTreeMap::new();
    for (index, org) in raw.organisations.iter().enumerate() {
        let field = format!("notify.organisations[{index}]");
        let mut own = OrgSchedule::default();
        if let Some(text) = &org.schedule {
            own.default = schedule(&format!("{field}.schedule"), text, &mut errors);
        }
        for (kind, text) in &org.schedules {
            if let Some(s) = schedule(&format!("{field}.schedules.{kind}"), text, &mut errors) {
                own.by_type.insert(kind.clone(), s);
            }
        }
        if let Some(language) = &org.language {
            match language.parse::<Language>() {
                Ok(language) => {
                    org_languages.insert(org.org.clone(), language);
                }
                Err(error) => errors.push(format!("{field}.language: {}", error.message)),
            }
        }
        org_schedules.insert(org.org.clone(), own);
    }
    let clearance = raw
        .clearance
        .as_deref()
        .map_or(Some(Tlp::AmberStrict), |text| tlp("notify.clearance", text, &mut errors))
        .unwrap_or(Tlp::AmberStrict);
    let mut contact_clearance = BTreeMap::new();
    for (index, contact) in raw.contacts.iter().enumerate() {
        if let Some(t) = tlp(&format!("notify.contacts[{index}].clearance"), &contact.clearance, &mut errors)
        {
            contact_clearance.insert(contact.email.trim().to_ascii_lowercase(), t);
        }
    }
    let max_attempts = raw.max_attempts.unwrap_or(8);
    if max_attempts == 0 {
        errors.push("notify.max_attempts: must be at least 1".into());
    }
    let mut reminder_before = Vec::new();
    let leads = raw.reminder_before.clone().unwrap_or_else(|| vec!["6h".into(), "1h".into()]);
    if leads.len() > MAX_REMINDERS {
        errors.push(format!("notify.reminder_before: at most {MAX_REMINDERS} lead times"));
    }
    for (index, text) in leads.iter().enumerate() {
        match lead_time(text) {
            Ok(lead) if reminder_before.contains(&lead) => {
                errors.push(format!("notify.reminder_before[{index}]: {text:?} is listed twice"));
            }
            Ok(lead) => reminder_before.push(lead),
            Err(message) => errors.push(format!("notify.reminder_before[{index}]: {message}")),
        }
    }
    reminder_before.sort_by(|a, b| b.cmp(a));
    let enabled = raw.enabled.unwrap_or(true);
    if enabled && raw.signing_key.is_none() {
        errors.push(
            "notify.signing_key: the CERT's OpenPGP secret key file is required to sign notifications".into(),
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(NotifySettings {
        enabled,
        cert_name: raw.cert_name.clone().unwrap_or_else(|| operator.to_owned()),
        from,
        signing_key: raw.signing_key.clone(),
        passphrase_env: raw.passphrase_env.clone().unwrap_or_else(|| "NERETVA_SECRET_NOTIFY_KEY".into()),
        interval: StdDuration::from_secs(raw.interval_seconds.unwrap_or(60).max(1)),
        smtp: SmtpConfig {
            host,
            port,
            tls,
            username: raw.smtp.username.clone(),
            password: None,
            timeout: StdDuration::from_secs(raw.smtp.timeout_seconds.unwrap_or(60).max(1)),
        },
        password_env: raw.smtp.password_env.clone(),
        schedules,
        org_schedules,
        org_languages,
        suppression_hours: raw.suppression_hours.unwrap_or(24),
        clearance,
        contact_clearance,
        contact_roles: raw.contact_roles.clone(),
        max_attempts,
        retry_minutes: raw.retry_minutes.unwrap_or(5).max(1),
        templates_dir: raw.templates_dir.clone(),
        reminder_before,
    })
}

/// Reads the template overrides of a directory: `subject.txt`, `body.txt`, `body.hr.txt`, ...
fn read_overrides(dir: &std::path::Path) -> anyhow::Result<Overrides> {
    let mut overrides = Overrides::new();
    for entry in
        std::fs::read_dir(dir).with_context(|| format!("cannot read templates in {}", dir.display()))?
    {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".txt"))
        else {
            continue;
        };
        let text =
            std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        overrides.insert(name.to_owned(), text);
    }
    Ok(overrides)
}

/// Builds the notifier: reads the signing key and its passphrase, the SMTP password and the
/// template overrides, and resolves organisations' short names.
pub(crate) async fn build(config: &Config, store: Arc<dyn Store>) -> anyhow::Result<Notifier> {
    let Some(settings) = &config.notify else {
        bail!("notifications are not configured: add a [notify] section (see neretva.example.toml)");
    };
    let Some(key_file) = &settings.signing_key else {
        bail!("notify.signing_key is not set");
    };
    let armored = std::fs::read_to_string(key_file)
        .with_context(|| format!("cannot read the signing key {}", key_file.display()))?;
    let passphrase = std::env::var(&settings.passphrase_env).unwrap_or_default();
    let signer = Signer::from_armored(&armored, &passphrase).with_context(|| {
        format!("signing key {} (passphrase from {})", key_file.display(), settings.passphrase_env)
    })?;
    let mut smtp = settings.smtp.clone();
    if let Some(name) = &settings.password_env {
        smtp.password = Some(
            std::env::var(name).with_context(|| format!("the SMTP password variable {name} is not set"))?,
        );
    }
    let overrides = match &settings.templates_dir {
        Some(dir) => read_overrides(dir)?,
        None => Overrides::new(),
    };
    let mut schedules = settings.schedules.clone();
    let mut org_language = BTreeMap::new();
    for (short, own) in &settings.org_schedules {
        let org = store
            .find_org(short)
            .await?
            .with_context(|| format!("notify.organisations: no organisation {short:?}"))?;
        schedules.by_org.insert(org.id, own.clone());
        if let Some(language) = settings.org_languages.get(short) {
            org_language.insert(org.id, *language);
        }
    }
    let notifier_config = NotifierConfig {
        cert_name: settings.cert_name.clone(),
        from: settings.from.clone(),
        smtp,
        schedules,
        suppression_window: time::Duration::hours(i64::from(settings.suppression_hours)),
        default_clearance: settings.clearance,
        contact_clearance: settings.contact_clearance.clone(),
        org_language,
        contact_roles: settings.contact_roles.clone(),
        max_attempts: settings.max_attempts,
        retry_after: time::Duration::minutes(i64::from(settings.retry_minutes)),
        overrides,
        reminder_before: settings.reminder_before.clone(),
        deadlines: config.server.deadlines,
    };
    Ok(Notifier::new(store, notifier_config, signer)?)
}

/// Runs the notifier in `serve`: a pass over the queue and a delivery pass every interval.
pub(crate) fn spawn(notifier: Arc<Notifier>, interval: StdDuration) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        loop {
            ticker.tick().await;
            let now = time::OffsetDateTime::now_utc();
            match notifier.run_once(now).await {
                Ok(summary) if summary.messages > 0 || summary.errors > 0 => {
                    tracing::info!(
                        messages = summary.messages,
                        events = summary.events,
                        suppressed = summary.suppressed,
                        status_changes = summary.status_changes,
                        reminders = summary.reminders,
                        errors = summary.errors,
                        "Notifications made."
                    );
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(error = %error, "The notification pass failed."),
            }
            match notifier.deliver_due(time::OffsetDateTime::now_utc()).await {
                Ok(summary) if summary.sent + summary.retrying + summary.failed > 0 => {
                    tracing::info!(
                        sent = summary.sent,
                        retrying = summary.retrying,
                        failed = summary.failed,
                        "Notifications delivered."
                    );
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(error = %error, "The notification delivery pass failed."),
            }
        }
    });
}

/// Runs the communication checks' due steps every `interval`, the first pass one interval after
/// the start.
pub(crate) fn spawn_checks(
    store: Arc<dyn Store>,
    notifier: Arc<Notifier>,
    public_url: String,
    interval: StdDuration,
) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        loop {
            ticker.tick().await;
            let summary = neretva_server::checks::run_due(
                store.as_ref(),
                &notifier,
                &public_url,
                time::OffsetDateTime::now_utc(),
            )
            .await;
            if summary != neretva_server::checks::PassSummary::default() {
                tracing::info!(
                    sent = summary.sent,
                    reminded = summary.reminded,
                    escalated = summary.escalated,
                    failed = summary.failed,
                    "Communication checks sent."
                );
            }
        }
    });
}

#[derive(Serialize)]
struct MessageOut {
    id: String,
    message_id: String,
    organisation: String,
    email: String,
    kind: String,
    resend_of: Option<String>,
    incident: Option<String>,
    subject: String,
    tlp: String,
    language: String,
    encrypted: bool,
    status: &'static str,
    attempts: u32,
    created_at: String,
    sent_at: Option<String>,
    next_attempt_at: Option<String>,
    last_error: Option<String>,
    events: u64,
}

/// A preview as JSON, the same shape as the API's.
fn preview_json(report: &neretva_notifier::PreviewReport) -> serde_json::Value {
    let due: Vec<_> = report
        .due
        .iter()
        .map(|p| {
            serde_json::json!({
                "email": p.email, "language": p.language.tag(), "tlp": p.tlp.label(),
                "clearance": p.clearance.label(), "encrypted": p.encrypted, "problem": p.problem,
                "events": p.events, "withheld": p.withheld,
                "subject": p.content.as_ref().map(|c| c.subject.clone()),
                "body": p.content.as_ref().map(|c| c.body.clone()),
                "attachments": p.content.as_ref().map(|c| c.attachments.iter().map(|a| serde_json::json!({
                    "name": a.name, "content_type": a.content_type,
                    "content": String::from_utf8_lossy(&a.data),
                })).collect::<Vec<_>>()),
            })
        })
        .collect();
    let later: Vec<_> = report
        .later
        .iter()
        .map(|w| {
            serde_json::json!({
                "schedule": w.schedule.as_str(), "due_at": rfc3339(w.due_at), "events": w.events,
                "types": w.types,
            })
        })
        .collect();
    serde_json::json!({
        "due_events": report.due_events, "suppressed": report.suppressed, "due": due, "later": later,
    })
}

fn message_out(message: &StoredMessage, organisation: String) -> MessageOut {
    MessageOut {
        id: message.id.to_string(),
        message_id: message.message_id.clone(),
        organisation,
        email: message.email.clone(),
        kind: message.kind.clone(),
        resend_of: message.resend_of.map(|id| id.to_string()),
        incident: message.incident_id.map(|id| id.to_string()),
        subject: message.subject.clone(),
        tlp: message.tlp.clone(),
        language: message.language.clone(),
        encrypted: message.encrypted,
        status: message.status.as_str(),
        attempts: message.attempts,
        created_at: rfc3339(message.created_at),
        sent_at: message.sent_at.map(rfc3339),
        next_attempt_at: message.next_attempt_at.map(rfc3339),
        last_error: message.last_error.clone(),
        events: message.event_count,
    }
}

async fn org_names(store: &dyn Store) -> anyhow::Result<BTreeMap<uuid::Uuid, String>> {
    Ok(store.list_orgs().await?.into_iter().map(|org| (org.id, org.fields.short_name)).collect())
}

fn print_messages(messages: &[MessageOut], json: bool) {
    if json {
        output::json(&messages);
        return;
    }
    let rows: Vec<Vec<String>> = messages
        .iter()
        .map(|m| {
            vec![
                m.id.clone(),
                m.organisation.clone(),
                m.kind.clone(),
                m.email.clone(),
                m.status.to_owned(),
                m.attempts.to_string(),
                m.events.to_string(),
                m.last_error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    output::table(&["id", "organisation", "kind", "to", "status", "attempts", "events", "last error"], &rows);
}

pub(crate) async fn command(config: &Config, command: NotifyCommand) -> anyhow::Result<ExitCode> {
    let store = ready_store(config).await?;
    let now = time::OffsetDateTime::now_utc();
    match command {
        NotifyCommand::Run { no_deliver, json } => {
            let notifier = build(config, Arc::clone(&store)).await?;
            let run = notifier.run_once(now).await?;
            // Delivery takes what is due after the pass recorded its messages.
            let delivery = if no_deliver {
                Default::default()
            } else {
                notifier.deliver_due(time::OffsetDateTime::now_utc()).await?
            };
            if json {
                output::json(&serde_json::json!({
                    "organisations": run.organisations, "messages": run.messages, "unsendable": run.unsendable,
                    "events": run.events, "suppressed": run.suppressed, "waiting": run.waiting,
                    "errors": run.errors, "status_changes": run.status_changes, "reminders": run.reminders,
                    "sent": delivery.sent, "retrying": delivery.retrying, "failed": delivery.failed,
                }));
            } else {
                output::line(&format!(
                    "{} organisations: {} messages ({} unsendable) about {} events; {} repeats suppressed, {} events wait for their schedule; {} incident status changes, {} reminders; sent {}, retrying {}, failed {}",
                    run.organisations,
                    run.messages,
                    run.unsendable,
                    run.events,
                    run.suppressed,
                    run.waiting,
                    run.status_changes,
                    run.reminders,
                    delivery.sent,
                    delivery.retrying,
                    delivery.failed
                ));
            }
            Ok(if run.errors > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        NotifyCommand::Preview { org, json } => {
            let notifier = build(config, Arc::clone(&store)).await?;
            let organisation =
                store.find_org(&org).await?.with_context(|| format!("no organisation {org:?}"))?;
            let report = notifier.preview(&organisation, now, &|_| true).await?;
            if json {
                output::json(&preview_json(&report));
            } else {
                if report.due.is_empty() {
                    output::line(&format!("{org} has no contact to notify"));
                }
                output::line(&format!(
                    "Due now: {} events ({} repeats suppressed)\n",
                    report.due_events, report.suppressed
                ));
                for preview in &report.due {
                    output::line(&format!(
                        "To: {} ({}, {}{}; {} events, {} withheld above the contact's clearance {})",
                        preview.email,
                        preview.language,
                        preview.tlp,
                        if preview.encrypted { ", encrypted" } else { ", signed only" },
                        preview.events,
                        preview.withheld,
                        preview.clearance
                    ));
                    match (&preview.problem, &preview.content) {
                        (Some(problem), _) => output::line(&format!("Not sendable: {problem}\n")),
                        (None, None) => output::line("Nothing to send.\n"),
                        (None, Some(content)) => {
                            output::line(&format!("Subject: {}\n\n{}", content.subject, content.body));
                            for attachment in &content.attachments {
                                output::line(&format!(
                                    "Attachment: {} ({} bytes)",
                                    attachment.name,
                                    attachment.data.len()
                                ));
                            }
                            output::line("");
                        }
                    }
                }
                for waiting in &report.later {
                    let types: Vec<String> =
                        waiting.types.iter().map(|(kind, n)| format!("{kind} {n}")).collect();
                    output::line(&format!(
                        "Queued for later: {} events in the {} digest due {} ({})",
                        waiting.events,
                        waiting.schedule,
                        rfc3339(waiting.due_at),
                        types.join(", ")
                    ));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        NotifyCommand::Resend { message, json } => {
            let notifier = build(config, Arc::clone(&store)).await?;
            let id: uuid::Uuid =
                message.parse().with_context(|| format!("{message:?} is not a notification id"))?;
            let created = notifier.resend(&crate::commands::cli_actor(), id, now).await?;
            let delivery = notifier.deliver_due(time::OffsetDateTime::now_utc()).await?;
            let names = org_names(store.as_ref()).await?;
            let mut out = Vec::new();
            for message in &created {
                let current = store.get_message(message.id).await?.unwrap_or_else(|| message.clone());
                out.push(message_out(&current, names.get(&current.org_id).cloned().unwrap_or_default()));
            }
            print_messages(&out, json);
            Ok(if delivery.failed + delivery.retrying > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        NotifyCommand::Advisory { orgs, sector, all, subject, body_file, tlp, no_deliver, json } => {
            let tlp: neretva_model::tlp::Tlp = tlp.parse().with_context(|| format!("--tlp {tlp:?}"))?;
            let meta = std::fs::metadata(&body_file)
                .with_context(|| format!("cannot read the body file {}", body_file.display()))?;
            if meta.len() > neretva_notifier::MAX_ADVISORY_BODY as u64 {
                bail!(
                    "the body file {} is larger than {} bytes",
                    body_file.display(),
                    neretva_notifier::MAX_ADVISORY_BODY
                );
            }
            let body = std::fs::read_to_string(&body_file)
                .with_context(|| format!("cannot read the body file {} as UTF-8", body_file.display()))?;
            let everyone = store.list_orgs().await?;
            let chosen: Vec<_> = if all {
                everyone
            } else if let Some(sector) = &sector {
                let chosen: Vec<_> =
                    everyone.into_iter().filter(|org| org.fields.sector.as_deref() == Some(sector)).collect();
                if chosen.is_empty() {
                    bail!("no organisation of sector {sector:?}");
                }
                chosen
            } else {
                let mut chosen = Vec::new();
                for short in &orgs {
                    chosen.push(
                        store.find_org(short).await?.with_context(|| format!("no organisation {short:?}"))?,
                    );
                }
                chosen
            };
            let notifier = build(config, Arc::clone(&store)).await?;
            let advisory = neretva_notifier::Advisory { subject, body, tlp };
            let summary = notifier.advisory(&crate::commands::cli_actor(), &chosen, &advisory, now).await?;
            let delivery = if no_deliver {
                Default::default()
            } else {
                notifier.deliver_due(time::OffsetDateTime::now_utc()).await?
            };
            let names = org_names(store.as_ref()).await?;
            let mut out = Vec::new();
            for message in &summary.messages {
                let current = store.get_message(message.id).await?.unwrap_or_else(|| message.clone());
                out.push(message_out(&current, names.get(&current.org_id).cloned().unwrap_or_default()));
            }
            if json {
                output::json(&serde_json::json!({
                    "messages": out, "withheld": summary.withheld, "errors": summary.errors,
                    "sent": delivery.sent, "retrying": delivery.retrying, "failed": delivery.failed,
                }));
            } else {
                print_messages(&out, false);
                output::line(&format!(
                    "{} messages, {} contacts not cleared for {}; sent {}, retrying {}, failed {}",
                    out.len(),
                    summary.withheld,
                    tlp,
                    delivery.sent,
                    delivery.retrying,
                    delivery.failed
                ));
            }
            Ok(if summary.errors > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        NotifyCommand::List { org, status, event, incident, limit, json } => {
            let names = org_names(store.as_ref()).await?;
            let org_ids = match org {
                Some(short) => Some(vec![
                    store.find_org(&short).await?.with_context(|| format!("no organisation {short:?}"))?.id,
                ]),
                None => None,
            };
            let status = match status.as_deref() {
                None => None,
                Some(text) => Some(
                    DeliveryStatus::parse(text)
                        .with_context(|| format!("status {text:?} must be pending, sent or failed"))?,
                ),
            };
            let event_id = match event {
                None => None,
                Some(text) => Some(text.parse().with_context(|| format!("{text:?} is not an event id"))?),
            };
            let incident_id = match incident {
                None => None,
                Some(text) => Some(text.parse().with_context(|| format!("{text:?} is not an incident id"))?),
            };
            let query = MessageQuery { org_ids, event_id, incident_id, status, before: None, limit };
            let messages = store.list_messages(&query).await?;
            let out: Vec<MessageOut> = messages
                .iter()
                .map(|m| message_out(m, names.get(&m.org_id).cloned().unwrap_or_default()))
                .collect();
            print_messages(&out, json);
            Ok(ExitCode::SUCCESS)
        }
    }
}
