//! `neretva ingest`, `neretva feeds list` and `neretva reparse`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use neretva_model::Uuid;
use neretva_model::text::{CsvStyle, csv_line};
use neretva_pipeline::config::FeedConfig;
use neretva_pipeline::process::Context;
use neretva_pipeline::sinks::{CSV_FIELDS, csv_row};
use neretva_pipeline::sources::{DecompressLimits, read_reports};
use neretva_pipeline::transforms::enrich_asn::AsnTable;
use neretva_pipeline::transforms::enrich_geo::GeoTable;
use neretva_pipeline::transforms::rules::known_field;
use neretva_pipeline::{IngestOptions, Outcome, Pipeline, PipelineConfig};
use neretva_server::registry::RegistrySnapshot;
use serde::Serialize;
use time::OffsetDateTime;

use crate::cli::{EventFormat, IngestArgs};
use crate::commands::ready_store;
use crate::config::Config;
use crate::output;

/// The pipeline of the configuration, plus an ad-hoc feed named after the parser when `feed`
/// is not configured but names a parser.
pub(crate) fn build_pipeline(config: &Config, feed: Option<&str>) -> anyhow::Result<Pipeline> {
    let mut pipeline_config: PipelineConfig = config.pipeline.clone();
    if let Some(feed) = feed {
        let configured = pipeline_config.feeds.iter().any(|f| f.name == feed);
        if !configured && neretva_feeds::parser(feed).is_some() {
            pipeline_config.feeds.push(FeedConfig::for_parser(feed));
        }
    }
    if let Some(schema) = installed_schema(config)? {
        for feed in pipeline_config.feeds.iter_mut().filter(|feed| feed.parser == "shadowserver") {
            feed.parser_options.entry("schema".to_owned()).or_insert_with(|| schema.clone());
        }
    }
    let max_bytes = pipeline_config.limits.max_report_bytes;
    let asn = match &pipeline_config.asn_table {
        None => None,
        Some(path) => Some(load_asn_table(path, max_bytes)?),
    };
    let pipeline = Pipeline::build(&pipeline_config, asn)
        .map_err(|errors| anyhow::anyhow!("invalid pipeline configuration:\n  {}", errors.join("\n  ")))?;
    if let Some(path) = &pipeline_config.geoip_table {
        let table = GeoTable::read(path, max_bytes, pipeline_config.geoip_registered_country)
            .context("cannot load the geolocation database (pipeline.geoip_table)")?;
        pipeline.set_geo_table(Some(table));
    }
    Ok(pipeline)
}

/// Loads the ASN table file (`pipeline.asn_table`); bad lines are logged, not fatal.
fn load_asn_table(path: &Path, max_bytes: u64) -> anyhow::Result<AsnTable> {
    let (table, errors) =
        AsnTable::read(path, max_bytes).context("cannot load the ASN table (pipeline.asn_table)")?;
    if let Some(first) = errors.first() {
        tracing::warn!(path = %path.display(), bad_lines = errors.len(), first = %first, "ASN table has bad lines.");
    }
    Ok(table)
}

/// While `neretva serve` runs, loads the ASN table and the geolocation database again when
/// their files changed (every `pipeline.table_check_seconds`).
pub(crate) fn spawn_table_reloads(pipeline: &Arc<Pipeline>, config: &PipelineConfig) {
    let (seconds, max_bytes) = (config.table_check_seconds, config.limits.max_report_bytes);
    if seconds == 0 {
        return;
    }
    if let Some(path) = &config.asn_table {
        let pipeline = Arc::clone(pipeline);
        watch_file(path.clone(), seconds, "ASN table", move |path| {
            pipeline.set_asn_table(Some(load_asn_table(path, max_bytes)?));
            Ok(())
        });
    }
    if let Some(path) = &config.geoip_table {
        let (pipeline, registered) = (Arc::clone(pipeline), config.geoip_registered_country);
        watch_file(path.clone(), seconds, "geolocation database", move |path| {
            pipeline.set_geo_table(Some(GeoTable::read(path, max_bytes, registered)?));
            Ok(())
        });
    }
}

/// Calls `load` (off the async threads) when the file at `path` changed and then stayed the
/// same for one more check, so a file still being written is not read half way; a load that
/// fails is logged and leaves what was loaded before in use.
fn watch_file(
    path: PathBuf,
    seconds: u64,
    what: &'static str,
    load: impl Fn(&Path) -> anyhow::Result<()> + Send + Sync + 'static,
) {
    let version = |path: &Path| std::fs::metadata(path).ok().map(|meta| (meta.len(), meta.modified().ok()));
    let load = Arc::new(load);
    tokio::spawn(async move {
        let mut loaded = version(&path);
        let mut seen = loaded;
        let mut interval = tokio::time::interval(std::time::Duration::from_secs(seconds));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval.tick().await;
        loop {
            interval.tick().await;
            let now = version(&path);
            let settled = now == seen;
            seen = now;
            if now.is_none() || now == loaded || !settled {
                continue;
            }
            loaded = now;
            let (file, load) = (path.clone(), Arc::clone(&load));
            match tokio::task::spawn_blocking(move || load(&file)).await {
                Ok(Ok(())) => tracing::info!(path = %path.display(), "The {what} was loaded again."),
                Ok(Err(error)) => {
                    tracing::warn!(path = %path.display(), error = format!("{error:#}"), "The changed {what} cannot be loaded; the one loaded before stays in use.");
                }
                Err(error) => tracing::warn!(error = %error, "Loading the {what} failed."),
            }
        }
    });
}

#[derive(Debug, Default, Serialize)]
struct Summary {
    files: u64,
    reports_already_stored: u64,
    records: u64,
    events: u64,
    duplicates: u64,
    dropped: u64,
    errors: u64,
    per_organisation: BTreeMap<String, u64>,
    error_lines: Vec<ErrorLine>,
    reports: Vec<String>,
    /// Files that could not be read: too large, a broken or oversized archive, unreadable.
    failed_files: Vec<FailedFile>,
}

#[derive(Debug, Serialize)]
struct FailedFile {
    file: String,
    error: String,
}

#[derive(Debug, Serialize)]
struct ErrorLine {
    file: String,
    line: u64,
    field: Option<String>,
    message: String,
}

/// At most this many error lines are listed in the summary.
const LISTED_ERRORS: usize = 50;

/// The CSV columns `--fields` names (those of the events API's CSV export when it names none),
/// each a field of the harmonised event.
pub(crate) fn csv_fields(named: &[String]) -> anyhow::Result<Vec<String>> {
    let fields: Vec<String> = if named.is_empty() {
        CSV_FIELDS.iter().map(|field| (*field).to_owned()).collect()
    } else {
        named.iter().map(|field| field.trim().to_owned()).collect()
    };
    if let Some(unknown) = fields.iter().find(|field| !known_field(field)) {
        anyhow::bail!("--fields: {unknown:?} is not a field of the harmonised event (IntelMQ's field names)");
    }
    Ok(fields)
}

pub(crate) async fn ingest(config: &Config, args: IngestArgs) -> anyhow::Result<ExitCode> {
    let fields = csv_fields(&args.fields)?;
    if args.files.iter().filter(|file| file.as_os_str() == "-").count() > 1 {
        anyhow::bail!("`-` (standard input) may be given once");
    }
    let stdin_name = &args.stdin_name;
    if stdin_name.trim().is_empty() || stdin_name.contains(['/', '\\', '#']) || stdin_name.len() > 255 {
        anyhow::bail!(
            "--stdin-name: {stdin_name:?} must be a file name without '/', '\\' or '#', at most 255 bytes"
        );
    }
    if !args.fields.is_empty() && args.output != Some(EventFormat::Csv) {
        anyhow::bail!("--fields chooses the columns of --output csv");
    }
    let pipeline = build_pipeline(config, Some(&args.feed))?;
    if !pipeline.has_feed(&args.feed) {
        anyhow::bail!(
            "unknown feed {:?}: configure it under [[pipeline.feeds]] or name a parser from `neretva feeds list`",
            args.feed
        );
    }
    let store: std::sync::Arc<dyn neretva_store::Store> = match ready_store(config).await {
        Ok(store) => store,
        // A dry run stores nothing: without a database it runs with an empty constituency.
        Err(error) if args.dry_run => {
            tracing::warn!(error = %error, "No usable database; the dry run routes events to no organisation.");
            let memory = neretva_store_sqlite::SqliteStore::open_in_memory()?;
            neretva_store::Store::migrate(&memory).await?;
            std::sync::Arc::new(memory)
        }
        Err(error) => return Err(error),
    };
    let registry = RegistrySnapshot::load(store.as_ref(), &config.server.operator_org).await?;
    if args.output == Some(EventFormat::Csv) {
        output::bytes(csv_line(&fields, CsvStyle::Spreadsheet).as_bytes());
    }
    let options = IngestOptions { dry_run: args.dry_run, keep_events: args.output.is_some() };
    let bar = ProgressBar::new(args.files.len() as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} reports {msg} [{elapsed}]") {
        bar.set_style(style);
    }
    let mut summary = Summary::default();
    // As the pipeline's file sources read: within the size limit, gzip, bzip2 and zip unpacked
    // with limits, each report stored with its source (`file:<path>` or `file:<path>/<name>`).
    let limits = DecompressLimits::from(&config.pipeline.limits);
    for file in &args.files {
        bar.set_message(file.display().to_string());
        summary.files += 1;
        let path = file.clone();
        let stdin_name = args.stdin_name.clone();
        let read = tokio::task::spawn_blocking(move || {
            if path.as_os_str() == "-" {
                read_stdin_reports(&stdin_name, &limits)
            } else {
                read_reports(&path, &limits)
            }
        })
        .await
        .context("the file reader failed")?;
        let reports = match read {
            Ok(reports) => reports,
            Err(error) => {
                summary
                    .failed_files
                    .push(FailedFile { file: file.display().to_string(), error: error.to_string() });
                bar.inc(1);
                continue;
            }
        };
        for (source, data) in reports {
            let context =
                Context { store: store.as_ref(), index: &registry.index, now: OffsetDateTime::now_utc() };
            let outcome = pipeline.ingest(&context, &args.feed, &source, data, options).await?;
            rematch(store.as_ref(), &registry, config, &outcome).await;
            if let Some(format) = args.output {
                let mut text = String::new();
                for event in &outcome.events {
                    match format {
                        EventFormat::IntelmqJsonl => {
                            text.push_str(&neretva_event::intelmq_json::to_intelmq_line(event));
                            text.push('\n');
                        }
                        EventFormat::Csv => text.push_str(&csv_row(event, &fields, CsvStyle::Spreadsheet)),
                    }
                }
                bar.suspend(|| output::bytes(text.as_bytes()));
            }
            add(&mut summary, source.strip_prefix("file:").unwrap_or(&source), outcome, &registry);
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let print = |text: &str| if args.output.is_some() { output::error(text) } else { output::line(text) };
    if args.json {
        let text = serde_json::to_string_pretty(&summary)?;
        print(&text);
    } else {
        print(&format!(
            "{} file(s): {} records, {} events stored{}, {} duplicates, {} dropped by rules, {} errors",
            summary.files,
            summary.records,
            summary.events,
            if args.dry_run { " (dry run: nothing stored)" } else { "" },
            summary.duplicates,
            summary.dropped,
            summary.errors
        ));
        if summary.reports_already_stored > 0 {
            print(&format!(
                "{} report(s) had been stored before and were not processed again",
                summary.reports_already_stored
            ));
        }
        for (org, count) in &summary.per_organisation {
            print(&format!("  {org:<20} {count} events"));
        }
        for error in &summary.error_lines {
            let field = error.field.as_deref().map(|f| format!(" {f}:")).unwrap_or_default();
            print(&format!("  {}:{}:{field} {}", error.file, error.line, error.message));
        }
        if summary.errors as usize > summary.error_lines.len() {
            print(&format!("  … and {} more errors", summary.errors as usize - summary.error_lines.len()));
        }
        for failed in &summary.failed_files {
            print(&format!("  {}: not processed: {}", failed.file, failed.error));
        }
    }
    // A file that could not be read fails the command, after the others were processed.
    Ok(if summary.failed_files.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Adds the outcome of one report (`file`: its path, or `<path>/<name>` when decompressed). A
/// report stored before is listed but not counted again: the counts are of this run's work.
fn add(summary: &mut Summary, file: &str, outcome: Outcome, registry: &RegistrySnapshot) {
    summary.reports_already_stored += u64::from(outcome.already_stored);
    if outcome.already_stored {
        summary.reports.extend(outcome.report.map(|report| report.id.to_string()));
        return;
    }
    summary.records += outcome.counts.records;
    summary.events += outcome.counts.events;
    summary.duplicates += outcome.counts.duplicates;
    summary.dropped += outcome.counts.dropped;
    summary.errors += outcome.counts.errors;
    for (org, count) in outcome.per_org {
        let name = registry.orgs.get(&org).map_or_else(|| org.to_string(), |o| o.fields.short_name.clone());
        *summary.per_organisation.entry(name).or_default() += count;
    }
    for error in outcome.errors {
        if summary.error_lines.len() >= LISTED_ERRORS {
            break;
        }
        summary.error_lines.push(ErrorLine {
            file: file.to_owned(),
            line: error.line,
            field: error.field,
            message: error.message,
        });
    }
    if let Some(report) = outcome.report {
        summary.reports.push(report.id.to_string());
    }
}

pub(crate) fn list_feeds(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let parsers = neretva_feeds::parsers();
    if json {
        let parsers: Vec<_> = parsers
            .iter()
            .map(|p| {
                let intelmq_bot = neretva_feeds::intelmq_bot(p.name());
                serde_json::json!({ "name": p.name(), "description": p.description(), "intelmq_bot": intelmq_bot })
            })
            .collect();
        let feeds: Vec<_> = config
            .pipeline
            .feeds
            .iter()
            .map(|f| {
                let source = f.source.as_ref().map(neretva_pipeline::sources::SourceConfig::kind);
                serde_json::json!({ "name": f.name, "parser": f.parser, "provider": f.provider, "url": f.url, "source": source })
            })
            .collect();
        output::json(&serde_json::json!({ "parsers": parsers, "feeds": feeds }));
    } else {
        output::line("Parsers:");
        let rows: Vec<Vec<String>> = parsers
            .iter()
            .map(|p| {
                let intelmq_bot = neretva_feeds::intelmq_bot(p.name()).unwrap_or("-");
                vec![p.name().to_owned(), intelmq_bot.to_owned(), p.description().to_owned()]
            })
            .collect();
        output::table(&["NAME", "INTELMQ BOT", "DESCRIPTION"], &rows);
        if !config.pipeline.feeds.is_empty() {
            output::line("");
            output::line("Configured feeds:");
            let rows: Vec<Vec<String>> = config
                .pipeline
                .feeds
                .iter()
                .map(|f| {
                    let source = f.source.as_ref().map_or("uploads and ingest only", |source| source.kind());
                    vec![
                        f.name.clone(),
                        f.parser.clone(),
                        f.provider.clone().unwrap_or_default(),
                        source.to_owned(),
                    ]
                })
                .collect();
            output::table(&["FEED", "PARSER", "PROVIDER", "SOURCE"], &rows);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Links a stored report's new events to the observables of open incidents they match; a
/// failure is logged and keeps the report.
async fn rematch(
    store: &dyn neretva_store::Store,
    registry: &RegistrySnapshot,
    config: &Config,
    outcome: &neretva_pipeline::Outcome,
) {
    let Some(report) =
        outcome.report.as_ref().filter(|_| !outcome.already_stored && outcome.counts.events > 0)
    else {
        return;
    };
    rematch_logged(store, registry, config.server.deadlines, report.id).await;
}

/// Links report `report`'s events to the observables of open incidents they match; a failure
/// is logged and keeps the report.
async fn rematch_logged(
    store: &dyn neretva_store::Store,
    registry: &RegistrySnapshot,
    deadlines: neretva_incident::deadline::DeadlineConfig,
    report: Uuid,
) {
    if let Err(error) = neretva_server::incidents::rematch_report(store, registry, deadlines, report).await {
        tracing::warn!(error = %error, %report, "Matching the report's events to incidents failed.");
    }
}

/// What feed sources call with every report they stored with new events: [`rematch_logged`]
/// against the registry `registry` gives at that moment.
pub(crate) fn rematch_hook(
    store: Arc<dyn neretva_store::Store>,
    registry: impl Fn() -> Arc<RegistrySnapshot> + Send + Sync + 'static,
    deadlines: neretva_incident::deadline::DeadlineConfig,
) -> neretva_pipeline::sources::AfterReportFn {
    let registry = Arc::new(registry);
    Arc::new(move |report| {
        let (store, registry) = (Arc::clone(&store), registry());
        Box::pin(async move { rematch_logged(store.as_ref(), &registry, deadlines, report).await })
    })
}

/// `neretva feeds fetch`: one poll of a feed's source, storing what it brings; exits with 1
/// when the poll failed.
pub(crate) async fn fetch(config: &Config, name: &str, json: bool) -> anyhow::Result<ExitCode> {
    let feed = config.pipeline.feeds.iter().find(|feed| feed.name == name).with_context(|| {
        format!("no feed {name:?} is configured under [[pipeline.feeds]]; see `neretva feeds list`")
    })?;
    if feed.source.is_none() {
        anyhow::bail!("feed {name:?} has no source; `neretva ingest --feed {name} FILE` processes files");
    }
    let store = ready_store(config).await?;
    let pipeline = Arc::new(build_pipeline(config, None)?);
    let registry = Arc::new(RegistrySnapshot::load(store.as_ref(), &config.server.operator_org).await?);
    let index_registry = Arc::clone(&registry);
    let index: neretva_pipeline::sources::IndexFn = Arc::new(move || Arc::clone(&index_registry.index));
    // New events are matched to open incidents, as when `neretva serve` fetches.
    let hook_registry = Arc::clone(&registry);
    let after = rematch_hook(Arc::clone(&store), move || Arc::clone(&hook_registry), config.server.deadlines);
    let started = OffsetDateTime::now_utc();
    let bar = crate::commands::spinner(&format!("fetching feed {name}"));
    let limits = DecompressLimits::from(&config.pipeline.limits);
    let state = neretva_pipeline::sources::poll_once(
        pipeline,
        feed.clone(),
        limits,
        Arc::clone(&store),
        index,
        Some(after),
    )
    .await
    .unwrap_or_default();
    bar.finish_and_clear();
    // The reports this poll stored (content stored before is not stored again).
    let query = neretva_store::feeds::ReportQuery { feed: Some(name.to_owned()), before: None, limit: 1_000 };
    let mut reports: Vec<_> = store
        .list_reports(&query)
        .await?
        .into_iter()
        .filter(|report| report.received_at >= started)
        .collect();
    reports.reverse();
    let failed = state.failing_polls > 0;
    // The source's last failure may be from before this poll (saved by an earlier one).
    let last_error = state.last_error.filter(|_| state.errors > 0);
    if json {
        let reports: Vec<_> = reports
            .iter()
            .map(|report| {
                serde_json::json!({
                    "id": report.id, "source": report.source, "status": report.status.as_str(),
                    "records": report.counts.records, "events": report.counts.events,
                    "errors": report.counts.errors, "duplicates": report.counts.duplicates,
                    "dropped": report.counts.dropped, "failure": report.failure,
                })
            })
            .collect();
        output::json(&serde_json::json!({
            "feed": name, "source": state.kind, "ok": !failed, "reports_fetched": state.reports,
            "failures": state.errors, "last_error": last_error, "new_reports": reports,
        }));
    } else {
        output::line(&format!(
            "{name} ({}): {} report(s) fetched, {} new, {} failure(s)",
            state.kind,
            state.reports,
            reports.len(),
            state.errors
        ));
        for report in &reports {
            output::line(&format!(
                "  {} {}: {} events, {} errors, {} duplicates, {} dropped",
                report.id,
                report.source,
                report.counts.events,
                report.counts.errors,
                report.counts.duplicates,
                report.counts.dropped
            ));
        }
        if let Some(error) = &last_error {
            output::line(&format!("  last failure: {error}"));
        }
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// One feed's line of `neretva feeds status`.
#[derive(Serialize)]
struct SourceStatusOut {
    feed: String,
    source: &'static str,
    /// Whether the last poll succeeded; none when the source never saved its state.
    ok: Option<bool>,
    saved_at: Option<String>,
    last_poll: Option<String>,
    last_success: Option<String>,
    failing_polls: u64,
    last_error: Option<String>,
    last_error_at: Option<String>,
    /// An `imap` source's unseen messages it leaves as they are; none for other sources.
    messages_left: Option<usize>,
    /// Why the saved state could not be read, when it could not.
    state_unreadable: Option<String>,
}

/// `neretva feeds status`: each configured source's saved state; exits with 1 when one's last
/// poll failed.
pub(crate) async fn status(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let store = ready_store(config).await?;
    let mut rows = Vec::new();
    for feed in &config.pipeline.feeds {
        let Some(source) = &feed.source else { continue };
        let kind = source.kind();
        // A state saved by a source of another kind no longer applies (the source starts afresh).
        let saved = store.source_record(&feed.name).await?.filter(|record| record.kind == kind);
        // A state that cannot be read is shown as such (the source starts afresh from it, as
        // it logs), not allowed to hide the other feeds' states.
        let (lasting, unreadable) = match &saved {
            Some(record) => match serde_json::from_str::<neretva_pipeline::sources::Lasting>(&record.state) {
                Ok(lasting) => (lasting, None),
                Err(error) => (Default::default(), Some(error.to_string())),
            },
            None => (Default::default(), None),
        };
        rows.push(SourceStatusOut {
            feed: feed.name.clone(),
            source: kind,
            ok: saved.as_ref().map(|_| unreadable.is_none() && lasting.failing_polls == 0),
            state_unreadable: unreadable,
            saved_at: saved.as_ref().map(|record| output::rfc3339(record.saved_at)),
            last_poll: lasting.last_poll.map(output::rfc3339),
            last_success: lasting.last_success.map(output::rfc3339),
            failing_polls: lasting.failing_polls,
            last_error: lasting.last_error,
            last_error_at: lasting.last_error_at.map(output::rfc3339),
            messages_left: (kind == "imap").then(|| lasting.imap.map_or(0, |left| left.uids.len())),
        });
    }
    // An unreadable state counts as failing: nothing tells whether the source works.
    let failing = rows.iter().filter(|row| row.ok == Some(false)).count();
    if json {
        output::json(&serde_json::json!({ "sources": rows, "failing": failing }));
    } else if rows.is_empty() {
        output::line("No configured feed has a source.");
    } else {
        let never = || "never".to_owned();
        let table: Vec<Vec<String>> = rows
            .iter()
            .map(|row| {
                let plural = |n: usize| if n == 1 { "" } else { "s" };
                let mut state = match row.ok {
                    _ if row.state_unreadable.is_some() => "saved state unreadable".to_owned(),
                    None => "not polled yet".to_owned(),
                    Some(true) => "ok".to_owned(),
                    Some(false) => {
                        let polls = row.failing_polls;
                        format!("failing ({polls} poll{})", plural(polls as usize))
                    }
                };
                if let Some(left) = row.messages_left.filter(|left| *left > 0) {
                    state.push_str(&format!(", {left} message{} left unseen", plural(left)));
                }
                let failure = match (&row.last_error_at, &row.last_error) {
                    _ if row.state_unreadable.is_some() => row.state_unreadable.clone().unwrap_or_default(),
                    (Some(at), Some(error)) => {
                        format!("{at}: {}", error.chars().take(120).collect::<String>())
                    }
                    _ => String::new(),
                };
                vec![
                    row.feed.clone(),
                    row.source.to_owned(),
                    state,
                    row.last_poll.clone().unwrap_or_else(never),
                    row.last_success.clone().unwrap_or_else(never),
                    failure,
                ]
            })
            .collect();
        output::table(&["FEED", "SOURCE", "STATE", "LAST POLL", "LAST SUCCESS", "LAST FAILURE"], &table);
    }
    Ok(if failing > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

pub(crate) async fn reparse(config: &Config, report: &str, json: bool) -> anyhow::Result<ExitCode> {
    let id = Uuid::try_parse(report).with_context(|| format!("{report:?} is not a report id"))?;
    let store = ready_store(config).await?;
    let info = store.get_report(id).await?.with_context(|| format!("no report {id}"))?;
    let pipeline = build_pipeline(config, Some(&info.feed))?;
    let registry = RegistrySnapshot::load(store.as_ref(), &config.server.operator_org).await?;
    let context = Context { store: store.as_ref(), index: &registry.index, now: OffsetDateTime::now_utc() };
    let bar = crate::commands::spinner(&format!("re-parsing report {id} of feed {}", info.feed));
    let outcome = pipeline.reparse(&context, id).await?;
    rematch(store.as_ref(), &registry, config, &outcome).await;
    bar.finish_and_clear();
    let counts = outcome.counts;
    if json {
        output::json(&serde_json::json!({
            "report": id, "feed": info.feed, "records": counts.records, "events": counts.events,
            "duplicates": counts.duplicates, "dropped": counts.dropped, "errors": counts.errors,
        }));
    } else {
        output::line(&format!(
            "report {id} ({}) re-parsed: {} records, {} events, {} duplicates, {} dropped, {} errors",
            info.feed, counts.records, counts.events, counts.duplicates, counts.dropped, counts.errors
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// The reports of standard input, read within the report size limit and unpacked as a file
/// named `name` would be, each with the source `stdin#<name>` (the name the parser sees).
fn read_stdin_reports(
    name: &str,
    limits: &DecompressLimits,
) -> Result<Vec<(String, Vec<u8>)>, neretva_pipeline::sources::SourceError> {
    use neretva_pipeline::sources::SourceError;
    use std::io::Read as _;
    let mut data = Vec::new();
    std::io::stdin()
        .lock()
        .take(limits.max_report_bytes.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(|source| SourceError::Read { path: "standard input".to_owned(), source })?;
    if data.len() as u64 > limits.max_report_bytes {
        return Err(SourceError::TooLarge {
            name: "standard input".to_owned(),
            limit: limits.max_report_bytes,
        });
    }
    Ok(neretva_pipeline::sources::decompress(name, data, limits)?
        .into_iter()
        .map(|(member, data)| (format!("stdin#{member}"), data))
        .collect())
}

/// The installed Shadowserver schema's path in the data directory.
fn schema_path(config: &Config) -> std::path::PathBuf {
    config.data_dir.join("shadowserver-schema.json")
}

/// The installed Shadowserver schema, if any, as JSON.
fn installed_schema(config: &Config) -> anyhow::Result<Option<serde_json::Value>> {
    let path = schema_path(config);
    if !path.exists() {
        return Ok(None);
    }
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let value = serde_json::from_slice(&bytes).with_context(|| format!("{} is not JSON", path.display()))?;
    Ok(Some(value))
}

pub(crate) async fn shadowserver_schema(
    config: &Config,
    update: bool,
    file: Option<&Path>,
    url: &str,
    json: bool,
) -> anyhow::Result<ExitCode> {
    use neretva_feeds::parsers::shadowserver::ShadowserverParser;
    let path = schema_path(config);
    let new_bytes = if update {
        let source = neretva_pipeline::sources::HttpSource::new(
            &neretva_pipeline::sources::HttpSourceConfig {
                url: url.to_owned(),
                interval_minutes: 60,
                timeout_seconds: 120,
                headers: BTreeMap::new(),
                file_name: None,
                ca_file: None,
                username: None,
                password: None,
            },
            64 * 1024 * 1024,
        )?;
        let bar = crate::commands::spinner(&format!("downloading {}", source.url()));
        let download = source.poll().await;
        bar.finish_and_clear();
        Some(download?.context("the server answered 304 Not Modified to an unconditional request")?.data)
    } else if let Some(file) = file {
        Some(std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?)
    } else {
        None
    };
    if let Some(bytes) = new_bytes {
        let parser = ShadowserverParser::from_schema_json(&bytes).map_err(|errors| {
            anyhow::anyhow!("the schema is invalid and was not installed:\n  {}", errors.join("\n  "))
        })?;
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
        let temporary = path.with_extension("json.new");
        std::fs::write(&temporary, &bytes)
            .with_context(|| format!("cannot write {}", temporary.display()))?;
        std::fs::rename(&temporary, &path).with_context(|| format!("cannot install {}", path.display()))?;
        output::error(&format!(
            "installed a schema with {} report types in {}",
            parser.report_types().len(),
            path.display()
        ));
    }
    let (parser, origin) = match installed_schema(config)? {
        Some(value) => {
            let bytes = serde_json::to_vec(&value)?;
            let parser = ShadowserverParser::from_schema_json(&bytes).map_err(|errors| {
                anyhow::anyhow!("the installed schema {} is invalid: {}", path.display(), errors.join("; "))
            })?;
            (parser, path.display().to_string())
        }
        None => (ShadowserverParser::new(), "built in".to_owned()),
    };
    let types: Vec<&str> = parser.report_types().iter().map(|t| t.file_name.as_str()).collect();
    if json {
        output::json(&serde_json::json!({
            "origin": origin, "date": parser.schema_date(), "report_types": types,
        }));
    } else {
        output::line(&format!(
            "Shadowserver schema: {origin}, dated {}, {} report types",
            parser.schema_date().unwrap_or("unknown"),
            types.len()
        ));
    }
    Ok(ExitCode::SUCCESS)
}
