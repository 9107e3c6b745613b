//! Configuration: a TOML file, then `NERETVA_*` environment variables, then command-line flags.
//!
//! Two stages: the raw file is read into [`RawConfig`] (unknown keys are errors), then compiled
//! into [`Config`], checking every value and reporting all problems at once.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use neretva_model::org::{AuthorityLevels, check_short_name};
use neretva_server::ServerConfig;
use neretva_server::auth::PasswordParams;
use serde::Deserialize;

/// The configuration file as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawConfig {
    /// Where the embedded database and other files live.
    pub(crate) data_dir: Option<PathBuf>,
    /// `postgres://…` for PostgreSQL; empty for SQLite in the data directory.
    pub(crate) database_url: Option<String>,
    /// Address of the HTTP server.
    pub(crate) listen: Option<String>,
    /// Short name of the organisation operating this instance.
    pub(crate) operator_org: Option<String>,
    /// Levels of authority organisations belong to.
    pub(crate) authority_levels: Option<Vec<String>>,
    /// The address people reach the server at, for the links of communication checks.
    pub(crate) public_url: Option<String>,
    pub(crate) auth: RawAuth,
    pub(crate) limits: RawLimits,
    pub(crate) incidents: RawIncidents,
    pub(crate) taxii: RawTaxii,
    pub(crate) preservation: RawPreservation,
    pub(crate) exercises: RawExercises,
    pub(crate) log: RawLog,
    /// Feeds, deduplication, rules, enrichment and sinks of the feed pipeline.
    pub(crate) pipeline: neretva_pipeline::PipelineConfig,
    /// Constituent notifications by e-mail.
    pub(crate) notify: Option<RawNotify>,
}

/// The `[notify]` section: constituent notifications (checked strictly by serde).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawNotify {
    /// Whether `serve` runs the notifier.
    pub(crate) enabled: Option<bool>,
    /// The CERT's name in messages; default the operator organisation's short name.
    pub(crate) cert_name: Option<String>,
    /// `Name <address>` or an address.
    pub(crate) from: Option<String>,
    /// The CERT's ASCII-armoured OpenPGP secret key.
    pub(crate) signing_key: Option<PathBuf>,
    /// The environment variable holding the key's passphrase.
    pub(crate) passphrase_env: Option<String>,
    pub(crate) interval_seconds: Option<u64>,
    pub(crate) suppression_hours: Option<u32>,
    pub(crate) clearance: Option<String>,
    pub(crate) contact_roles: Vec<String>,
    pub(crate) daily_hour: Option<u8>,
    pub(crate) max_attempts: Option<u32>,
    pub(crate) retry_minutes: Option<u32>,
    /// Lead times of reminders of NIS2 reports before they are due: `"6h"`, `"30m"`, `"2d"`.
    pub(crate) reminder_before: Option<Vec<String>>,
    /// A directory of template overrides: `subject.txt`, `body.txt`, `body.hr.txt`, ...
    pub(crate) templates_dir: Option<PathBuf>,
    pub(crate) smtp: RawSmtp,
    /// Schedules by classification type: `immediate`, `hourly`, `daily` or `weekly`.
    pub(crate) schedules: BTreeMap<String, String>,
    pub(crate) default_schedule: Option<String>,
    pub(crate) organisations: Vec<RawNotifyOrg>,
    pub(crate) contacts: Vec<RawNotifyContact>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawSmtp {
    pub(crate) host: Option<String>,
    pub(crate) port: Option<u16>,
    /// `starttls`, `tls` or `plain` (loopback only).
    pub(crate) tls: Option<String>,
    pub(crate) username: Option<String>,
    /// The environment variable holding the password.
    pub(crate) password_env: Option<String>,
    pub(crate) timeout_seconds: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNotifyOrg {
    /// The organisation's short name.
    pub(crate) org: String,
    #[serde(default)]
    pub(crate) language: Option<String>,
    #[serde(default)]
    pub(crate) schedule: Option<String>,
    #[serde(default)]
    pub(crate) schedules: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNotifyContact {
    pub(crate) email: String,
    pub(crate) clearance: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawAuth {
    pub(crate) session_hours: Option<u64>,
    pub(crate) cookie_secure: Option<bool>,
    pub(crate) login_attempts_per_minute: Option<u32>,
    pub(crate) lockout_threshold: Option<u32>,
    pub(crate) lockout_minutes: Option<u64>,
    pub(crate) argon2_memory_kib: Option<u32>,
    pub(crate) argon2_iterations: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawLimits {
    pub(crate) max_body_bytes: Option<usize>,
    pub(crate) max_import_bytes: Option<usize>,
    pub(crate) text_search_scan: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawIncidents {
    /// Where evidence and raw e-mails are kept; default `<data_dir>/evidence`. Servers sharing
    /// PostgreSQL need a shared directory.
    pub(crate) evidence_dir: Option<PathBuf>,
    /// The largest evidence item, in bytes.
    pub(crate) max_evidence_bytes: Option<u64>,
    /// Evidence items per incident.
    pub(crate) max_evidence_items: Option<usize>,
    /// The largest e-mail taken in, in bytes.
    pub(crate) max_mail_bytes: Option<usize>,
    /// An open obligation due within this many hours is `due_soon`.
    pub(crate) due_soon_hours: Option<u32>,
}

/// The `[exercises]` section: tabletop exercises.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawExercises {
    /// How often `serve` delivers the injects that are due, in seconds (1 to 3600; 5 by default).
    pub(crate) tick_seconds: Option<u64>,
}

/// The `[preservation]` section: Budapest Convention Art. 29 preservation requests.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawPreservation {
    /// The organisation (short name or id) designated as the 24/7 point of contact (Art. 35);
    /// its admins and analysts handle preservation requests beside law enforcement.
    pub(crate) point_of_contact: Option<String>,
    /// Days before expiry at which a request is due for a reminder.
    pub(crate) reminder_days: Option<Vec<u32>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawTaxii {
    /// The name of the API root: `/taxii2/<api_root>/`.
    pub(crate) api_root: Option<String>,
    pub(crate) title: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) contact: Option<String>,
    /// The largest page; a larger `limit` is lowered to it.
    pub(crate) max_page_size: Option<u32>,
    pub(crate) default_page_size: Option<u32>,
    /// The largest add-objects request, in bytes.
    pub(crate) max_content_length: Option<usize>,
    pub(crate) max_objects_per_request: Option<usize>,
    /// Whether anonymous callers read public collections' TLP:CLEAR objects.
    pub(crate) anonymous: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawLog {
    /// A tracing filter such as `info` or `neretva_server=debug,info`.
    pub(crate) level: Option<String>,
}

/// Where the database is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

/// The checked configuration.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) data_dir: PathBuf,
    pub(crate) database: Database,
    pub(crate) listen: SocketAddr,
    pub(crate) server: ServerConfig,
    pub(crate) log_level: String,
    pub(crate) pipeline: neretva_pipeline::PipelineConfig,
    /// The `[notify]` section, checked; `None` when absent.
    pub(crate) notify: Option<crate::notify::NotifySettings>,
    /// How often `serve` delivers the injects of tabletop exercises that are due.
    pub(crate) exercise_tick: std::time::Duration,
}

/// Command-line values that override the file and the environment.
#[derive(Debug, Clone, Default)]
pub(crate) struct Overrides {
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) database_url: Option<String>,
    pub(crate) listen: Option<String>,
}

/// Environment variables with this prefix override the file: `NERETVA_LISTEN` sets `listen`,
/// `NERETVA_AUTH__LOCKOUT_THRESHOLD` sets `auth.lockout_threshold`.
const ENV_PREFIX: &str = "NERETVA_";

/// Variables with the prefix that are not configuration keys.
const ENV_IGNORED: &[&str] = &["NERETVA_CONFIG", "NERETVA_TEST_POSTGRES_URL"];

/// Variables with this prefix hold secrets named by the configuration (`passphrase_env`,
/// `password_env`); they are not configuration keys.
const ENV_SECRET_PREFIX: &str = "NERETVA_SECRET_";

/// Reads the file (if any), applies the environment, and returns the raw document.
pub(crate) fn load_raw(path: Option<&Path>, env: &[(String, String)]) -> anyhow::Result<toml::Table> {
    let mut table = match path {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read configuration file {}", path.display()))?;
            text.parse::<toml::Table>()
                .with_context(|| format!("configuration file {} is not valid TOML", path.display()))?
        }
        None => toml::Table::new(),
    };
    for (name, value) in env {
        let Some(key) = name.strip_prefix(ENV_PREFIX) else { continue };
        if ENV_IGNORED.contains(&name.as_str())
            || key.starts_with("TEST_")
            || name.starts_with(ENV_SECRET_PREFIX)
        {
            continue;
        }
        let path: Vec<String> = key.split("__").map(str::to_lowercase).collect();
        let parsed = parse_env_value(value);
        insert_path(&mut table, &path, parsed)
            .with_context(|| format!("environment variable {name} does not fit the configuration"))?;
    }
    Ok(table)
}

/// Environment values are TOML values when they parse as one (numbers, booleans, arrays),
/// and strings otherwise.
fn parse_env_value(value: &str) -> toml::Value {
    format!("v = {value}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut table| table.remove("v"))
        .unwrap_or_else(|| toml::Value::String(value.to_owned()))
}

fn insert_path(table: &mut toml::Table, path: &[String], value: toml::Value) -> anyhow::Result<()> {
    match path {
        [] => bail!("empty key"),
        [last] => {
            table.insert(last.clone(), value);
            Ok(())
        }
        [first, rest @ ..] => {
            let entry = table.entry(first.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
            match entry {
                toml::Value::Table(inner) => insert_path(inner, rest, value),
                _ => bail!("{first} is not a section"),
            }
        }
    }
}

/// Lists keys of `table` that the configuration does not know, as dotted paths.
fn unknown_keys(table: &toml::Table) -> Vec<String> {
    let known: BTreeMap<&str, &[&str]> = BTreeMap::from([
        ("data_dir", &[][..]),
        ("database_url", &[][..]),
        ("listen", &[][..]),
        ("operator_org", &[][..]),
        ("authority_levels", &[][..]),
        ("public_url", &[][..]),
        (
            "auth",
            &[
                "session_hours",
                "cookie_secure",
                "login_attempts_per_minute",
                "lockout_threshold",
                "lockout_minutes",
                "argon2_memory_kib",
                "argon2_iterations",
            ][..],
        ),
        ("limits", &["max_body_bytes", "max_import_bytes", "text_search_scan"][..]),
        (
            "incidents",
            &["evidence_dir", "max_evidence_bytes", "max_evidence_items", "max_mail_bytes", "due_soon_hours"]
                [..],
        ),
        (
            "taxii",
            &[
                "api_root",
                "title",
                "description",
                "contact",
                "max_page_size",
                "default_page_size",
                "max_content_length",
                "max_objects_per_request",
                "anonymous",
            ][..],
        ),
        ("preservation", &["point_of_contact", "reminder_days"][..]),
        ("exercises", &["tick_seconds"][..]),
        ("log", &["level"][..]),
        // Checked by the pipeline configuration's own strict deserialisation.
        ("pipeline", &[][..]),
        // Checked by its own strict deserialisation.
        ("notify", &[][..]),
    ]);
    let mut unknown = Vec::new();
    for (key, value) in table {
        match known.get(key.as_str()) {
            None => unknown.push(key.clone()),
            Some(children) if !children.is_empty() => {
                if let toml::Value::Table(inner) = value {
                    unknown.extend(
                        inner
                            .keys()
                            .filter(|child| !children.contains(&child.as_str()))
                            .map(|child| format!("{key}.{child}")),
                    );
                }
            }
            Some(_) => {}
        }
    }
    unknown
}

/// Compiles the raw document and the overrides into a checked configuration, reporting every
/// problem found.
pub(crate) fn compile(table: toml::Table, overrides: &Overrides) -> Result<Config, Vec<String>> {
    let mut errors: Vec<String> =
        unknown_keys(&table).into_iter().map(|key| format!("{key}: unknown configuration key")).collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    let raw: RawConfig = match toml::Value::Table(table).try_into() {
        Ok(raw) => raw,
        Err(error) => return Err(vec![error.to_string().trim().to_owned()]),
    };
    let data_dir =
        overrides.data_dir.clone().or(raw.data_dir).unwrap_or_else(|| PathBuf::from("neretva-data"));
    let database_url = overrides.database_url.clone().or(raw.database_url).unwrap_or_default();
    let database = if database_url.is_empty() {
        Database::Sqlite(data_dir.join("neretva.db"))
    } else if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        Database::Postgres(database_url)
    } else if let Some(path) = database_url.strip_prefix("sqlite://") {
        Database::Sqlite(PathBuf::from(path))
    } else {
        errors.push(format!(
            "database_url: {:?} must start with postgres://, postgresql:// or sqlite://",
            redact_url(&database_url)
        ));
        Database::Sqlite(data_dir.join("neretva.db"))
    };
    let listen_text = overrides.listen.clone().or(raw.listen).unwrap_or_else(|| "127.0.0.1:8080".into());
    let listen = listen_text.parse::<SocketAddr>().unwrap_or_else(|_| {
        errors.push(format!("listen: {listen_text:?} is not an address such as 127.0.0.1:8080"));
        SocketAddr::from(([127, 0, 0, 1], 8080))
    });
    let mut server = ServerConfig::default();
    if let Some(operator) = raw.operator_org {
        if let Err(error) = check_short_name(&operator) {
            errors.push(format!("operator_org: {}", error.message));
        }
        server.operator_org = operator;
    }
    if let Some(levels) = raw.authority_levels {
        if levels.is_empty() || levels.iter().any(|level| level.trim().is_empty()) {
            errors.push("authority_levels: must list at least one non-empty level".into());
        }
        server.authority_levels = AuthorityLevels(levels);
    }
    let auth = raw.auth;
    if let Some(hours) = auth.session_hours {
        if !(1..=24 * 30).contains(&hours) {
            errors.push(format!("auth.session_hours: {hours} must be 1 to 720"));
        }
        server.session_ttl = Duration::from_secs(hours * 3600);
    }
    if let Some(secure) = auth.cookie_secure {
        server.cookie_secure = secure;
    }
    if let Some(n) = auth.login_attempts_per_minute {
        if n == 0 {
            errors.push("auth.login_attempts_per_minute: must be at least 1".into());
        }
        server.login_attempts_per_minute = n;
    }
    if let Some(n) = auth.lockout_threshold {
        if n == 0 {
            errors.push("auth.lockout_threshold: must be at least 1".into());
        }
        server.lockout_threshold = n;
    }
    if let Some(minutes) = auth.lockout_minutes {
        server.lockout_duration = Duration::from_secs(minutes * 60);
    }
    let mut params = PasswordParams::default();
    if let Some(memory) = auth.argon2_memory_kib {
        if memory < 8 * 1024 {
            errors.push(format!("auth.argon2_memory_kib: {memory} is below the safe minimum of 8192"));
        }
        params.memory_kib = memory;
    }
    if let Some(iterations) = auth.argon2_iterations {
        if iterations == 0 {
            errors.push("auth.argon2_iterations: must be at least 1".into());
        }
        params.iterations = iterations;
    }
    server.password_params = params;
    if let Some(bytes) = raw.limits.max_body_bytes {
        if bytes < 1024 {
            errors.push("limits.max_body_bytes: must be at least 1024".into());
        }
        server.max_body_bytes = bytes;
    }
    if let Some(bytes) = raw.limits.max_import_bytes {
        if bytes < 1024 {
            errors.push("limits.max_import_bytes: must be at least 1024".into());
        }
        server.max_import_bytes = bytes;
    }
    if let Some(events) = raw.limits.text_search_scan {
        if events < 1000 {
            errors.push("limits.text_search_scan: must be at least 1000".into());
        }
        server.text_search_scan = events;
    }
    let incidents = raw.incidents;
    server.evidence_dir = Some(incidents.evidence_dir.unwrap_or_else(|| data_dir.join("evidence")));
    if let Some(bytes) = incidents.max_evidence_bytes {
        if bytes == 0 {
            errors.push("incidents.max_evidence_bytes: must be at least 1".into());
        }
        server.evidence_limits.max_bytes = bytes;
    }
    if let Some(items) = incidents.max_evidence_items {
        if items == 0 {
            errors.push("incidents.max_evidence_items: must be at least 1".into());
        }
        server.evidence_limits.max_items = items;
    }
    if let Some(bytes) = incidents.max_mail_bytes {
        if bytes < 1024 {
            errors.push("incidents.max_mail_bytes: must be at least 1024".into());
        }
        server.mail_limits.max_message_bytes = bytes;
    }
    if let Some(hours) = incidents.due_soon_hours {
        if hours > 24 * 31 {
            errors.push(format!("incidents.due_soon_hours: {hours} must be 0 to 744"));
        }
        server.deadlines.due_soon_minutes = hours.saturating_mul(60);
    }
    compile_taxii(raw.taxii, &mut server.taxii, &mut errors);
    let exercise_tick = raw.exercises.tick_seconds.unwrap_or(5);
    if !(1..=3600).contains(&exercise_tick) {
        errors.push("exercises.tick_seconds: must be 1 to 3600".into());
    }
    if let Some(point) = raw.preservation.point_of_contact {
        if point.trim().is_empty() {
            errors.push("preservation.point_of_contact: must name an organisation (short name or id)".into());
        }
        server.preservation.point_of_contact = Some(point);
    }
    if let Some(mut days) = raw.preservation.reminder_days {
        if days.is_empty() || days.len() > 10 || days.iter().any(|day| !(1..=60).contains(day)) {
            errors.push("preservation.reminder_days: must list 1 to 10 leads of 1 to 60 days".into());
        }
        days.sort_unstable_by(|a, b| b.cmp(a));
        days.dedup();
        server.preservation.reminder_days = days;
    }
    if let Some(url) = raw.public_url {
        let url = url.trim().trim_end_matches('/').to_owned();
        let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
        if !scheme_ok || url.len() > 500 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            errors.push(format!(
                "public_url: {url:?} must be an http:// or https:// address such as https://cert.example.ba"
            ));
        }
        server.public_url = Some(url);
    }
    let log_level = raw.log.level.unwrap_or_else(|| "info".into());
    if tracing_subscriber::EnvFilter::try_new(&log_level).is_err() {
        errors.push(format!("log.level: {log_level:?} is not a valid filter such as info or neretva=debug"));
    }
    errors.extend(raw.pipeline.check());
    let notify = match raw.notify.as_ref().map(|notify| crate::notify::check(notify, &server.operator_org)) {
        None => None,
        Some(Ok(settings)) => Some(settings),
        Some(Err(problems)) => {
            errors.extend(problems);
            None
        }
    };
    if errors.is_empty() {
        Ok(Config {
            data_dir,
            database,
            listen,
            server,
            log_level,
            pipeline: raw.pipeline,
            notify,
            exercise_tick: std::time::Duration::from_secs(exercise_tick),
        })
    } else {
        Err(errors)
    }
}

/// The `[taxii]` section.
fn compile_taxii(raw: RawTaxii, taxii: &mut neretva_server::taxii::TaxiiConfig, errors: &mut Vec<String>) {
    if let Some(root) = raw.api_root {
        let ok = !root.is_empty()
            && root.len() <= 64
            && root.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !ok {
            errors.push(format!("taxii.api_root: {root:?} must be 1 to 64 of a-z, 0-9, - and _"));
        }
        taxii.api_root = root;
    }
    if let Some(title) = raw.title {
        taxii.title = title;
    }
    taxii.description = raw.description.or(taxii.description.take());
    taxii.contact = raw.contact.or(taxii.contact.take());
    if let Some(size) = raw.max_page_size {
        if !(1..=10_000).contains(&size) {
            errors.push(format!("taxii.max_page_size: {size} must be 1 to 10000"));
        }
        taxii.max_page_size = size;
    }
    if let Some(size) = raw.default_page_size {
        if size == 0 {
            errors.push("taxii.default_page_size: must be at least 1".into());
        }
        taxii.default_page_size = size;
    }
    if taxii.default_page_size > taxii.max_page_size {
        errors.push(format!(
            "taxii.default_page_size: {} is more than max_page_size {}",
            taxii.default_page_size, taxii.max_page_size
        ));
    }
    if let Some(bytes) = raw.max_content_length {
        if bytes < 1024 {
            errors.push("taxii.max_content_length: must be at least 1024".into());
        }
        taxii.max_content_length = bytes;
    }
    if let Some(count) = raw.max_objects_per_request {
        if count == 0 {
            errors.push("taxii.max_objects_per_request: must be at least 1".into());
        }
        taxii.max_objects_per_request = count;
    }
    if let Some(anonymous) = raw.anonymous {
        taxii.anonymous = anonymous;
    }
}

/// Hides a password in a database URL for messages and logs.
pub(crate) fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((credentials, host)) => match credentials.split_once(':') {
                Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
                None => url.to_owned(),
            },
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented example configuration, with every key.
    const EXAMPLE: &str = include_str!("../neretva.example.toml");

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn readme_pipeline_example_is_valid() {
        let readme = include_str!("../../../README.md");
        let section = readme.split("## Feed pipeline").nth(1).unwrap();
        let toml_text = section.split("```toml").nth(1).unwrap().split("```").next().unwrap();
        let table: toml::Table = toml_text.parse().unwrap();
        let mut config = compile(table, &Overrides::default()).unwrap();
        assert_eq!(config.pipeline.feeds.len(), 3);
        config.pipeline.sinks.clear();
        neretva_pipeline::Pipeline::build(&config.pipeline, None).unwrap();
    }

    #[test]
    fn example_compiles() {
        let table: toml::Table = EXAMPLE.parse().unwrap();
        let config = compile(table, &Overrides::default()).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.server.operator_org, "CERT-BIH");
    }

    #[test]
    fn environment_overrides_the_file_and_flags_override_both() {
        let table = load_raw(
            None,
            &env(&[
                ("NERETVA_LISTEN", "0.0.0.0:9000"),
                ("NERETVA_AUTH__LOCKOUT_THRESHOLD", "3"),
                ("NERETVA_DATABASE_URL", "postgres://u:secret@db/neretva"),
                ("NERETVA_TEST_POSTGRES_URL", "ignored"),
                ("OTHER", "x"),
            ]),
        )
        .unwrap();
        let overrides = Overrides { listen: Some("127.0.0.1:7000".into()), ..Overrides::default() };
        let config = compile(table, &overrides).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:7000");
        assert_eq!(config.server.lockout_threshold, 3);
        assert_eq!(config.database, Database::Postgres("postgres://u:secret@db/neretva".into()));
        assert_eq!(redact_url("postgres://u:secret@db/neretva"), "postgres://u:***@db/neretva");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let table: toml::Table = "listen = 'nowhere'\ndatabase_url = 'mysql://x'\noperator_org = 'has space'\n[auth]\nargon2_memory_kib = 16\nlockout_threshold = 0\n"
            .parse()
            .unwrap();
        let errors = compile(table, &Overrides::default()).unwrap_err();
        assert_eq!(errors.len(), 5, "{errors:#?}");
        let table: toml::Table = "colour = 'red'\n[auth]\nsecret = 1\n".parse().unwrap();
        let errors = compile(table, &Overrides::default()).unwrap_err();
        assert_eq!(errors, ["auth.secret: unknown configuration key", "colour: unknown configuration key"]);
    }

    #[test]
    fn notification_problems_are_reported_at_once() {
        let table: toml::Table = "listen = 'nowhere'\n[notify]\nfrom = 'not an address'\nclearance = 'TLP:ORANGE'\n\
             default_schedule = 'monthly'\ndaily_hour = 25\n[notify.smtp]\nhost = 'smtp.example.ba'\ntls = 'plain'\n\
             [notify.schedules]\nno-such-type = 'daily'\n[[notify.contacts]]\nemail = 'a@b.ba'\nclearance = 'pink'\n"
            .parse()
            .unwrap();
        let errors = compile(table, &Overrides::default()).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.split(':').next().unwrap()).collect();
        assert_eq!(
            fields,
            [
                "listen",
                "notify.from",
                "notify.smtp.tls",
                "notify.default_schedule",
                "notify.schedules.no-such-type",
                "notify.daily_hour",
                "notify.clearance",
                "notify.contacts[0].clearance",
                "notify.signing_key",
            ],
            "{errors:#?}"
        );
        let table: toml::Table =
            "[notify]\nfrom = 'x@y.ba'\nsigning_key = 'k.asc'\nsurprise = 1\n".parse().unwrap();
        let errors = compile(table, &Overrides::default()).unwrap_err();
        assert!(errors[0].contains("unknown field `surprise`"), "{errors:?}");
        // Secrets named by the configuration are not configuration keys.
        let env = [("NERETVA_SECRET_NOTIFY_KEY".to_owned(), "passphrase".to_owned())];
        let table = load_raw(None, &env).unwrap();
        assert!(table.is_empty());
    }

    #[test]
    fn reminder_lead_times_are_checked() {
        let compiled = |leads: &str| {
            let text =
                format!("[notify]\nfrom = 'x@y.ba'\nsigning_key = 'k.asc'\nreminder_before = {leads}\n");
            compile(text.parse().unwrap(), &Overrides::default())
        };
        let config = compiled("['1h', '2d', '90m']").unwrap();
        let leads = config.notify.unwrap().reminder_before;
        assert_eq!(leads, [time::Duration::days(2), time::Duration::minutes(90), time::Duration::hours(1)]);
        assert!(compiled("[]").unwrap().notify.unwrap().reminder_before.is_empty());
        let errors = compiled("['6h', 'soon', '0h', '31d', '6h', '5w']").unwrap_err();
        assert_eq!(
            errors,
            [
                "notify.reminder_before[1]: \"soon\" is not a duration like 6h, 30m or 2d",
                "notify.reminder_before[2]: \"0h\" must be more than 0 and at most 30 days",
                "notify.reminder_before[3]: \"31d\" must be more than 0 and at most 30 days",
                "notify.reminder_before[4]: \"6h\" is listed twice",
                "notify.reminder_before[5]: \"5w\" is not a duration like 6h, 30m or 2d",
            ]
        );
    }
}
