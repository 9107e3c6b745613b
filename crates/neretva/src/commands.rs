//! One function per command.

use std::io::Read;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use neretva_model::audit::{AuditEvent, digest_hex};
use neretva_model::contact::Language;
use neretva_model::lookup::LookupQuery;
use neretva_model::registry_io;
use neretva_model::user::{Role, Scope, User, check_password, check_username};
use neretva_server::api::auth::UserDto;
use neretva_server::api::orgs::OrgDto;
use neretva_server::api::tokens::TokenDto;
use neretva_server::registry::RegistrySnapshot;
use neretva_server::{AppState, auth};
use neretva_store::{Actor, ImportMode, NewUser, Store, StoreError};
use serde::Serialize;
use time::OffsetDateTime;

use crate::cli::{
    AuditCommand, Command, FileFormat, OrgCommand, RoleArg, ScopeArg, TokenCommand, UserCommand,
};
use crate::config::Config;
use crate::{demo, open_store, output};

pub(crate) async fn dispatch(command: Command, config: Config) -> anyhow::Result<ExitCode> {
    match command {
        Command::CheckConfig(flag) => check_config(&config, flag.json),
        Command::Serve(_) => {
            let store = open_store(&config).await?;
            migrate_quietly(store.as_ref()).await?;
            serve(store, &config).await
        }
        Command::Demo(args) => demo::run(&config, args.reset, args.no_serve).await,
        Command::Migrate(flag) => migrate(&config, flag.json).await,
        Command::User(command) => user(&config, command).await,
        Command::Token(command) => token(&config, command).await,
        Command::Org(command) => org(&config, command).await,
        Command::Lookup(args) => lookup(&config, &args.query, args.json).await,
        Command::Audit(AuditCommand::Verify { json }) => audit_verify(&config, json).await,
        Command::Ingest(args) => crate::ingest::ingest(&config, args).await,
        Command::Feeds(crate::cli::FeedsCommand::List { json }) => crate::ingest::list_feeds(&config, json),
        Command::Feeds(crate::cli::FeedsCommand::Fetch { feed, json }) => {
            crate::ingest::fetch(&config, &feed, json).await
        }
        Command::Feeds(crate::cli::FeedsCommand::Status { json }) => {
            crate::ingest::status(&config, json).await
        }
        Command::Feeds(crate::cli::FeedsCommand::ShadowserverSchema { update, file, url, json }) => {
            crate::ingest::shadowserver_schema(&config, update, file.as_deref(), &url, json).await
        }
        Command::Events(crate::cli::EventsCommand::Export(args)) => {
            crate::events::export(&config, args).await
        }
        Command::Reparse { report, json } => crate::ingest::reparse(&config, &report, json).await,
        Command::Retention { json } => retention(&config, json).await,
        Command::Incident(command) => crate::incidents::incident(&config, command).await,
        Command::Evidence(crate::cli::EvidenceCommand::Verify { json }) => {
            crate::incidents::evidence_verify(&config, json).await
        }
        Command::Intel(crate::cli::IntelCommand::Match { pattern_file, observations, json }) => {
            crate::intel::match_pattern(&pattern_file, &observations, json)
        }
        Command::Intel(crate::cli::IntelCommand::Import { files, format, org, json }) => {
            crate::intel::import(&config, &files, &format, org.as_deref(), json).await
        }
        Command::Intel(crate::cli::IntelCommand::Export { format, out, json }) => {
            crate::intel::export(&config, &format, out.as_deref(), json).await
        }
        Command::Intel(crate::cli::IntelCommand::Sync(crate::cli::SyncCommand::Pull {
            url,
            key_file,
            org,
            json,
        })) => crate::intel::sync_pull(&config, &url, &key_file, org.as_deref(), json).await,
        Command::Intel(crate::cli::IntelCommand::Search { value, attr_type, json }) => {
            crate::intel::search(&config, &value, attr_type.as_deref(), json).await
        }
        Command::Taxii(crate::cli::TaxiiCommand::Collections(command)) => {
            crate::taxii::collections(&config, command).await
        }
        Command::Notify(command) => crate::notify::command(&config, command).await,
        Command::Strategy(command) => crate::strategy::command(&config, command).await,
        Command::Groups(command) => crate::groups::command(&config, command).await,
        Command::Preservation(command) => crate::records::preservation(&config, command).await,
        Command::Assessment(command) => crate::records::assessment(&config, command).await,
        Command::ContactPoints(command) => crate::contact_points::contact_points(&config, command).await,
        Command::Checks(command) => crate::contact_points::checks(&config, command).await,
        Command::Learning(command) => crate::learning::command(&config, command).await,
    }
}

/// The actor recorded for changes made from the command line.
pub(crate) fn cli_actor() -> Actor {
    let user =
        std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "unknown".into());
    Actor(format!("cli:{user}"))
}

pub(crate) fn report_config_errors(errors: &[String], json: bool) -> ExitCode {
    if json {
        output::json(&serde_json::json!({ "ok": false, "errors": errors }));
    } else {
        output::error(&format!("configuration has {} problem(s):", errors.len()));
        for error in errors {
            output::error(&format!("  {error}"));
        }
    }
    ExitCode::from(1)
}

fn check_config(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    // What `neretva serve` reads besides the file: the ASN table, the geolocation database and
    // an installed Shadowserver schema must load too.
    if let Err(error) = crate::ingest::build_pipeline(config, None) {
        return Ok(report_config_errors(&[format!("{error:#}")], json));
    }
    let database = match &config.database {
        crate::config::Database::Sqlite(path) => format!("sqlite {}", path.display()),
        crate::config::Database::Postgres(url) => format!("postgres {}", crate::config::redact_url(url)),
    };
    if json {
        output::json(&serde_json::json!({
            "ok": true,
            "database": database,
            "data_dir": config.data_dir.display().to_string(),
            "listen": config.listen.to_string(),
            "operator_org": config.server.operator_org,
            "authority_levels": config.server.authority_levels.0,
        }));
    } else {
        output::line("configuration is valid");
        output::line(&format!("  data directory: {}", config.data_dir.display()));
        output::line(&format!("  database: {database}"));
        output::line(&format!("  listen: {}", config.listen));
        output::line(&format!("  operator organisation: {}", config.server.operator_org));
    }
    Ok(ExitCode::SUCCESS)
}

/// Applies pending migrations, logging what changed.
pub(crate) async fn migrate_quietly(store: &dyn Store) -> anyhow::Result<()> {
    let before = store.schema_status().await?;
    let after = store.migrate().await?;
    if after.current != before.current {
        tracing::info!(
            from = before.current,
            to = after.current,
            backend = store.backend(),
            "Migrated the database."
        );
    }
    Ok(())
}

async fn migrate(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let store = open_store(config).await?;
    let before = store.schema_status().await?;
    let after = store.migrate().await?;
    if json {
        output::json(&serde_json::json!({
            "backend": store.backend(), "from": before.current, "to": after.current, "latest": after.latest
        }));
    } else if before.current == after.current {
        output::line(&format!(
            "{} database is up to date (schema version {})",
            store.backend(),
            after.current
        ));
    } else {
        output::line(&format!(
            "{} database migrated from schema version {} to {}",
            store.backend(),
            before.current,
            after.current
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// Opens the store and checks it is at the binary's schema version.
pub(crate) async fn ready_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let store = open_store(config).await?;
    let status = store.schema_status().await?;
    if status.current < status.latest {
        return Err(StoreError::SchemaTooOld { found: status.current, supported: status.latest }.into());
    }
    Ok(store)
}

pub(crate) async fn serve(store: Arc<dyn Store>, config: &Config) -> anyhow::Result<ExitCode> {
    let pipeline = Arc::new(crate::ingest::build_pipeline(config, None)?);
    let state = AppState::new(Arc::clone(&store), config.server.clone(), neretva_server::install_metrics())
        .await?
        .with_pipeline(Arc::clone(&pipeline));
    let (stop_sources, sources_shutdown) = tokio::sync::watch::channel(false);
    let index_state = state.clone();
    let index: neretva_pipeline::sources::IndexFn = Arc::new(move || index_state.registry().index.clone());
    // Every report a source stores is matched against the observables of open incidents.
    let hook_state = state.clone();
    let after = crate::ingest::rematch_hook(
        Arc::clone(&store),
        move || hook_state.registry(),
        config.server.deadlines,
    );
    crate::ingest::spawn_table_reloads(&pipeline, &config.pipeline);
    let sources = neretva_pipeline::sources::run_with(
        pipeline,
        config.pipeline.feeds.clone(),
        neretva_pipeline::sources::DecompressLimits::from(&config.pipeline.limits),
        Arc::clone(&store),
        index,
        Some(after),
        sources_shutdown,
    );
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, backend = store.backend(), "Neretva is listening.");
    spawn_session_purge(Arc::clone(&store));
    spawn_retention(Arc::clone(&store), &config.pipeline);
    spawn_preservation_reminders(Arc::clone(&store), config.server.preservation.reminder_days.clone());
    let mut state = state;
    let mut exercise_notifier = None;
    if let Some(settings) = config.notify.as_ref().filter(|settings| settings.enabled) {
        let notifier = Arc::new(crate::notify::build(config, Arc::clone(&store)).await?);
        exercise_notifier = Some(Arc::clone(&notifier));
        state = state.with_notifier(Arc::clone(&notifier));
        if let Some(public_url) = config.server.public_url.clone() {
            crate::notify::spawn_checks(
                Arc::clone(&store),
                Arc::clone(&notifier),
                public_url,
                settings.interval,
            );
        }
        crate::notify::spawn(notifier, settings.interval);
        tracing::info!(interval_seconds = settings.interval.as_secs(), "Constituent notifications are on.");
    }
    crate::exercises::spawn(
        Arc::clone(&store),
        exercise_notifier,
        config.server.public_url.clone(),
        config.exercise_tick,
    );
    let app = neretva_server::app(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await.context("server failed")?;
    let _ = stop_sources.send(true);
    for source in sources {
        let _ = source.await;
    }
    tracing::info!("Neretva stopped.");
    Ok(ExitCode::SUCCESS)
}

/// Deletes expired sessions every hour.
fn spawn_session_purge(store: Arc<dyn Store>) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(3600));
        loop {
            interval.tick().await;
            match store.delete_expired_sessions(OffsetDateTime::now_utc()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sessions = n, "Purged expired sessions."),
                Err(error) => tracing::warn!(error = %error, "Purging expired sessions failed."),
            }
        }
    });
}

/// What one application of the retention periods deleted: `None` where no period is set.
#[derive(Debug, Default, Serialize)]
struct Retained {
    events_purged: Option<u64>,
    report_data_purged: Option<u64>,
    dedup_keys_purged: u64,
}

/// Applies the pipeline's retention periods once, as of `now`.
async fn apply_retention(
    store: &dyn Store,
    pipeline: &neretva_pipeline::PipelineConfig,
    now: OffsetDateTime,
) -> Result<Retained, StoreError> {
    let days = |days: u32| now - time::Duration::days(i64::from(days));
    // Each step runs even when one before it failed; the first failure is the answer.
    let events = match pipeline.retention_days {
        0 => None,
        period => Some(store.purge_events(days(period)).await),
    };
    let report_data = match pipeline.report_retention_days {
        0 => None,
        period => Some(store.purge_report_data(days(period)).await),
    };
    let window = now - time::Duration::hours(i64::from(pipeline.dedup.window_hours));
    let dedup_keys = store.dedup_purge(window).await;
    Ok(Retained {
        events_purged: events.transpose()?,
        report_data_purged: report_data.transpose()?,
        dedup_keys_purged: dedup_keys?,
    })
}

/// Applies the retention periods every hour (`apply_retention`).
fn spawn_retention(store: Arc<dyn Store>, pipeline: &neretva_pipeline::PipelineConfig) {
    let pipeline = pipeline.clone();
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(3600));
        loop {
            interval.tick().await;
            match apply_retention(store.as_ref(), &pipeline, OffsetDateTime::now_utc()).await {
                Ok(Retained { events_purged, report_data_purged, .. }) => {
                    if events_purged.is_some_and(|n| n > 0) || report_data_purged.is_some_and(|n| n > 0) {
                        tracing::info!(
                            events = events_purged,
                            reports = report_data_purged,
                            "Purged what is past retention."
                        );
                    }
                }
                Err(error) => tracing::warn!(error = %error, "Applying the retention periods failed."),
            }
        }
    });
}

/// `neretva retention`: the retention periods applied once.
async fn retention(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let store = ready_store(config).await?;
    let retained = apply_retention(store.as_ref(), &config.pipeline, OffsetDateTime::now_utc()).await?;
    if json {
        output::json(&retained);
    } else {
        let count = |purged: Option<u64>, what: &str| match purged {
            Some(n) => format!("{n} {what} purged"),
            None => format!("{what} kept (no retention period set)"),
        };
        output::line(&format!(
            "{}; {}; {} expired deduplication keys purged",
            count(retained.events_purged, "events"),
            count(retained.report_data_purged, "reports' raw data"),
            retained.dedup_keys_purged
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// Once a day, logs and audits (`preservation.reminder`, by the system) each preservation request
/// that reaches one of the reminder leads that day; the log names the request by id only.
fn spawn_preservation_reminders(store: Arc<dyn Store>, leads: Vec<u32>) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(24 * 3600));
        loop {
            interval.tick().await;
            let today = OffsetDateTime::now_utc().date();
            let requests = match store.list_preservations().await {
                Ok(stored) => stored.into_iter().map(|stored| stored.record).collect::<Vec<_>>(),
                Err(error) => {
                    tracing::warn!(error = %error, "Reading preservation requests for reminders failed.");
                    continue;
                }
            };
            let due = neretva_governance::preservation::due_reminders(&requests, today, &leads);
            for reminder in due.iter().filter(|reminder| reminder.days_left == i64::from(reminder.lead)) {
                tracing::warn!(id = %reminder.id, days_left = reminder.days_left, "A preservation request expires soon.");
                let event = AuditEvent {
                    actor: "system".into(),
                    action: "preservation.reminder".into(),
                    object_type: "preservation".into(),
                    object_id: reminder.id.to_string(),
                    digest: digest_hex(reminder.expires_on.to_string().as_bytes()),
                };
                if let Err(error) = store.append_audit(&event).await {
                    tracing::warn!(error = %error, "Auditing a preservation reminder failed.");
                }
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

fn role(arg: RoleArg) -> Role {
    match arg {
        RoleArg::Admin => Role::Admin,
        RoleArg::Analyst => Role::Analyst,
        RoleArg::Constituent => Role::Constituent,
        RoleArg::Community => Role::Community,
        RoleArg::Auditor => Role::Auditor,
        RoleArg::Authority => Role::Authority,
        RoleArg::LawEnforcement => Role::LawEnforcement,
    }
}

/// Reads a password from standard input, or generates one that is printed once.
fn obtain_password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if from_stdin {
        let mut text = String::new();
        std::io::stdin().take(4096).read_to_string(&mut text).context("cannot read the password")?;
        let password = text.trim_end_matches(['\r', '\n']).to_owned();
        check_password(&password).map_err(|error| anyhow::anyhow!("{error}"))?;
        Ok((password, false))
    } else {
        Ok((auth::random_secret(), true))
    }
}

async fn find_user(store: &dyn Store, username: &str) -> anyhow::Result<User> {
    store.find_user(&username.to_lowercase()).await?.with_context(|| format!("no user {username:?}"))
}

async fn hash(config: &Config, secret: String) -> anyhow::Result<String> {
    let params = config.server.password_params;
    Ok(tokio::task::spawn_blocking(move || auth::hash_secret(params, &secret)).await??)
}

async fn user(config: &Config, command: UserCommand) -> anyhow::Result<ExitCode> {
    let store = ready_store(config).await?;
    let actor = cli_actor();
    match command {
        UserCommand::Add {
            username,
            org,
            role: role_arg,
            sectors,
            email,
            display_name,
            language,
            password_stdin,
            json,
        } => {
            let username = username.trim().to_lowercase();
            check_username(&username).map_err(|error| anyhow::anyhow!("{error}"))?;
            let registry = RegistrySnapshot::load(store.as_ref(), &config.server.operator_org).await?;
            let org_id = registry
                .resolve(&org)
                .map(|org| org.id)
                .with_context(|| format!("no organisation {org:?}"))?;
            let language = language
                .as_deref()
                .map(str::parse::<Language>)
                .transpose()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if let Some(email) = &email {
                neretva_model::contact::check_email(email).map_err(|error| anyhow::anyhow!("{error}"))?;
            }
            neretva_model::user::check_sectors(role(role_arg), &sectors)
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            let (password, generated) = obtain_password(password_stdin)?;
            let password_hash = Some(hash(config, password.clone()).await?);
            let user = store
                .create_user(
                    &actor,
                    &NewUser {
                        org_id,
                        username,
                        display_name,
                        email,
                        role: role(role_arg),
                        sectors,
                        language,
                        password_hash,
                    },
                )
                .await?;
            if json {
                #[derive(Serialize)]
                struct Created {
                    user: UserDto,
                    #[serde(skip_serializing_if = "Option::is_none")]
                    password: Option<String>,
                }
                output::json(&Created { user: user.into(), password: generated.then_some(password) });
            } else {
                output::line(&format!("created user {} ({}) in {org}", user.username, user.role));
                if generated {
                    output::line(&format!("password (shown once): {password}"));
                }
            }
        }
        UserCommand::List { org, json } => {
            let registry = RegistrySnapshot::load(store.as_ref(), &config.server.operator_org).await?;
            let org_id = match org {
                Some(key) => Some(
                    registry
                        .resolve(&key)
                        .map(|org| org.id)
                        .with_context(|| format!("no organisation {key:?}"))?,
                ),
                None => None,
            };
            let users = store.list_users(org_id).await?;
            if json {
                output::json(&users.into_iter().map(UserDto::from).collect::<Vec<_>>());
            } else {
                let rows: Vec<Vec<String>> = users
                    .iter()
                    .map(|user| {
                        vec![
                            user.username.clone(),
                            user.role.to_string(),
                            registry
                                .orgs
                                .get(&user.org_id)
                                .map(|o| o.fields.short_name.clone())
                                .unwrap_or_default(),
                            if user.disabled { "disabled".into() } else { "active".into() },
                            user.email.clone().unwrap_or_default(),
                        ]
                    })
                    .collect();
                output::table(&["USERNAME", "ROLE", "ORGANISATION", "STATUS", "EMAIL"], &rows);
            }
        }
        UserCommand::Passwd { username, password_stdin } => {
            let user = find_user(store.as_ref(), &username).await?;
            let (password, generated) = obtain_password(password_stdin)?;
            let password_hash = hash(config, password.clone()).await?;
            store.set_password(&actor, user.id, &password_hash).await?;
            output::line(&format!("password of {} changed", user.username));
            if generated {
                output::line(&format!("password (shown once): {password}"));
            }
        }
        UserCommand::Disable { username } => {
            let user = find_user(store.as_ref(), &username).await?;
            store.set_user_disabled(&actor, user.id, true).await?;
            output::line(&format!(
                "user {} disabled; its sessions ended and its tokens stopped working",
                user.username
            ));
        }
        UserCommand::Enable { username } => {
            let user = find_user(store.as_ref(), &username).await?;
            store.set_user_disabled(&actor, user.id, false).await?;
            output::line(&format!("user {} enabled", user.username));
        }
        UserCommand::Unlock { username } => {
            let user = find_user(store.as_ref(), &username).await?;
            store.unlock_user(&actor, user.id).await?;
            output::line(&format!("user {} unlocked; the failed logins were forgotten", user.username));
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn token(config: &Config, command: TokenCommand) -> anyhow::Result<ExitCode> {
    let store = ready_store(config).await?;
    let actor = cli_actor();
    match command {
        TokenCommand::Create { user, name, scope, expires_days, json } => {
            let user = find_user(store.as_ref(), &user).await?;
            neretva_model::check_text("name", &name, 100).map_err(|error| anyhow::anyhow!("{error}"))?;
            if !(1..=3650).contains(&expires_days) {
                bail!("--expires-days must be 1 to 3650");
            }
            let scope = match scope {
                ScopeArg::Read => Scope::Read,
                ScopeArg::Write => Scope::Write,
                ScopeArg::Admin => Scope::Admin,
            };
            let registry = RegistrySnapshot::load(store.as_ref(), &config.server.operator_org).await?;
            let operator = registry.operator_id == Some(user.org_id);
            let allowed = neretva_server::api::tokens::max_scope(user.role, operator);
            if scope > allowed {
                bail!(
                    "a {} {} may hold tokens up to scope {allowed}",
                    if operator { "operator" } else { "non-operator" },
                    user.role
                );
            }
            let expires_at = OffsetDateTime::now_utc() + time::Duration::days(i64::from(expires_days));
            let params = config.server.password_params;
            let user_id = user.id;
            let (new, secret) = tokio::task::spawn_blocking(move || {
                auth::new_token(params, user_id, &name, scope, Some(expires_at))
            })
            .await??;
            let token = store.create_token(&actor, &new).await?;
            if json {
                output::json(&serde_json::json!({ "token": TokenDto::from(token), "secret": secret }));
            } else {
                output::line(&format!("token {} created for {} with scope {scope}", token.id, user.username));
                output::line(&format!("secret (shown once): {secret}"));
            }
        }
        TokenCommand::List { user, json } => {
            let user_id = match user {
                Some(name) => Some(find_user(store.as_ref(), &name).await?.id),
                None => None,
            };
            let tokens = store.list_tokens(user_id).await?;
            let users: std::collections::HashMap<_, _> =
                store.list_users(None).await?.into_iter().map(|user| (user.id, user.username)).collect();
            if json {
                output::json(&tokens.into_iter().map(TokenDto::from).collect::<Vec<_>>());
            } else {
                let now = OffsetDateTime::now_utc();
                let rows: Vec<Vec<String>> = tokens
                    .iter()
                    .map(|token| {
                        vec![
                            token.id.to_string(),
                            users.get(&token.user_id).cloned().unwrap_or_default(),
                            token.name.clone(),
                            token.scope.to_string(),
                            if token.revoked_at.is_some() {
                                "revoked".into()
                            } else if token.is_active(now) {
                                "active".into()
                            } else {
                                "expired".into()
                            },
                            token.expires_at.map(date).unwrap_or_default(),
                        ]
                    })
                    .collect();
                output::table(&["ID", "USER", "NAME", "SCOPE", "STATUS", "EXPIRES"], &rows);
            }
        }
        TokenCommand::Revoke { id } => {
            let id =
                neretva_model::Uuid::try_parse(&id).with_context(|| format!("{id:?} is not a token id"))?;
            let token = store.revoke_token(&actor, id, OffsetDateTime::now_utc()).await?;
            output::line(&format!("token {} ({}) revoked", token.id, token.name));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn date(at: OffsetDateTime) -> String {
    at.date().to_string()
}

pub(crate) fn spinner(message: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{elapsed}]") {
        bar.set_style(style);
    }
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

async fn org(config: &Config, command: OrgCommand) -> anyhow::Result<ExitCode> {
    let store = ready_store(config).await?;
    let actor = cli_actor();
    match command {
        OrgCommand::Import { file, format, upsert, json } => {
            let format = format.unwrap_or_else(|| {
                match file.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
                    Some("csv") => FileFormat::Csv,
                    _ => FileFormat::Json,
                }
            });
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let bar = spinner(&format!("importing {}", file.display()));
            let levels = &config.server.authority_levels;
            let parsed = match format {
                FileFormat::Json => registry_io::parse_json(&bytes, levels, OffsetDateTime::now_utc()),
                FileFormat::Csv => registry_io::parse_csv(&bytes, levels, OffsetDateTime::now_utc()),
            };
            let mode = if upsert { ImportMode::Upsert } else { ImportMode::CreateOnly };
            let result = match parsed {
                Ok(document) => store.import_registry(&actor, &document, mode).await,
                Err(errors) => Err(StoreError::Import(errors)),
            };
            bar.finish_and_clear();
            match result {
                Ok(summary) => {
                    if json {
                        output::json(&serde_json::json!({
                            "ok": true,
                            "organisations_created": summary.organisations_created,
                            "organisations_updated": summary.organisations_updated,
                            "contacts": summary.contacts,
                            "assets": summary.assets,
                        }));
                    } else {
                        output::line(&format!(
                            "imported {}: {} organisations created, {} updated, {} contacts, {} assets",
                            file.display(),
                            summary.organisations_created,
                            summary.organisations_updated,
                            summary.contacts,
                            summary.assets
                        ));
                    }
                }
                Err(StoreError::Import(errors)) => {
                    if json {
                        let errors: Vec<_> = errors
                            .iter()
                            .map(|e| serde_json::json!({ "line": e.line, "field": e.field, "message": e.message }))
                            .collect();
                        output::json(&serde_json::json!({ "ok": false, "errors": errors }));
                    } else {
                        output::error(&format!(
                            "{}: import rejected, nothing was written; {} error(s):",
                            file.display(),
                            errors.len()
                        ));
                        for error in &errors {
                            output::error(&format!("  {}:{error}", file.display()));
                        }
                    }
                    return Ok(ExitCode::from(1));
                }
                Err(error) => return Err(error.into()),
            }
        }
        OrgCommand::Export { format, output: path } => {
            let document = store.export_registry().await?;
            let bytes = match format {
                FileFormat::Json => registry_io::to_json(&document),
                FileFormat::Csv => registry_io::to_csv(&document),
            };
            store
                .append_audit(&AuditEvent {
                    actor: actor.0.clone(),
                    action: "registry.export".into(),
                    object_type: "registry".into(),
                    object_id: format!(
                        "{} organisations as {}",
                        document.organisations.len(),
                        if format == FileFormat::Csv { "csv" } else { "json" }
                    ),
                    digest: digest_hex(&bytes),
                })
                .await?;
            match path {
                Some(path) => {
                    std::fs::write(&path, &bytes)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    output::error(&format!(
                        "exported {} organisations to {}",
                        document.organisations.len(),
                        path.display()
                    ));
                }
                None => output::bytes(&bytes),
            }
        }
        OrgCommand::List { json } => {
            let registry = RegistrySnapshot::load(store.as_ref(), &config.server.operator_org).await?;
            let mut orgs: Vec<_> = registry.orgs.values().collect();
            orgs.sort_by(|a, b| a.fields.name.cmp(&b.fields.name));
            if json {
                output::json(&orgs.iter().map(|org| OrgDto::new(org, &registry)).collect::<Vec<_>>());
            } else {
                let rows: Vec<Vec<String>> = orgs
                    .iter()
                    .map(|org| {
                        let f = &org.fields;
                        vec![
                            f.short_name.clone(),
                            f.name.clone(),
                            f.sector.clone().unwrap_or_default(),
                            f.entity_type.to_string(),
                            f.authority_level.clone(),
                            f.parent_id
                                .and_then(|id| registry.orgs.get(&id))
                                .map(|p| p.fields.short_name.clone())
                                .unwrap_or_default(),
                        ]
                    })
                    .collect();
                output::table(&["SHORT NAME", "NAME", "SECTOR", "ENTITY", "LEVEL", "PARENT"], &rows);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn lookup(config: &Config, query: &str, json: bool) -> anyhow::Result<ExitCode> {
    let parsed: LookupQuery = query.parse().map_err(|error| anyhow::anyhow!("{error}"))?;
    let store = ready_store(config).await?;
    let registry = RegistrySnapshot::load(store.as_ref(), &config.server.operator_org).await?;
    let result = registry.index.lookup(&parsed);
    let name = |id| {
        registry.orgs.get(&id).map(|org| org.fields.short_name.clone()).unwrap_or_else(|| id.to_string())
    };
    if json {
        let matches: Vec<_> = result
            .matches
            .iter()
            .map(|m| {
                serde_json::json!({
                    "organisation": name(m.org_id),
                    "org_id": m.org_id,
                    "asset_id": m.asset_id,
                    "kind": m.value.kind().as_str(),
                    "value": m.value.to_string(),
                    "relation": match m.relation {
                        neretva_model::lookup::Relation::Covers => "covers",
                        neretva_model::lookup::Relation::Inside => "inside",
                    },
                })
            })
            .collect();
        let owners: Vec<String> = result.owners.iter().map(|id| name(*id)).collect();
        output::json(&serde_json::json!({
            "query": query, "owners": owners, "matches": matches, "overlap": result.overlap
        }));
    } else if result.matches.is_empty() {
        output::line(&format!("{query}: no organisation owns it"));
    } else {
        let owners: Vec<String> = result.owners.iter().map(|id| name(*id)).collect();
        if owners.is_empty() {
            output::line(&format!("{query}: no single owner; assets inside it:"));
        } else {
            output::line(&format!("{query}: owned by {}", owners.join(", ")));
        }
        for m in &result.matches {
            let relation = match m.relation {
                neretva_model::lookup::Relation::Covers => "covers",
                neretva_model::lookup::Relation::Inside => "inside",
            };
            output::line(&format!("  {:<24} {:<7} {}", m.value.to_string(), relation, name(m.org_id)));
        }
        if result.overlap {
            output::line("  overlap: more than one organisation holds these assets");
        }
    }
    Ok(if result.matches.is_empty() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

async fn audit_verify(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let store = ready_store(config).await?;
    let bar = spinner("verifying the audit chain");
    let result = neretva_store::verify_audit(store.as_ref()).await?;
    bar.finish_and_clear();
    let first_bad = result.broken.as_ref().map(neretva_server::api::audit::first_bad_seq);
    if json {
        output::json(&serde_json::json!({
            "ok": result.broken.is_none(),
            "checked": result.checked,
            "first_bad_seq": first_bad,
            "problem": result.broken.as_ref().map(ToString::to_string),
        }));
    } else {
        match &result.broken {
            None => output::line(&format!("audit log intact: {} entries verified", result.checked)),
            Some(broken) => output::line(&format!(
                "audit log TAMPERED: {broken} (first bad entry: {}; {} entries verified before it)",
                first_bad.unwrap_or_default(),
                result.checked
            )),
        }
    }
    Ok(if result.broken.is_none() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
