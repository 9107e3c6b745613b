//! `neretva events export`: stored events out as IntelMQ JSON lines or CSV, page after page, for
//! moving them to IntelMQ or a spreadsheet (the other direction is `neretva ingest` with the
//! `intelmq-json` parser).

use std::process::ExitCode;

use anyhow::Context as _;
use neretva_model::Uuid;
use neretva_model::text::{CsvStyle, csv_line};
use neretva_pipeline::sinks::csv_row;
use neretva_server::registry::RegistrySnapshot;
use neretva_store::feeds::{EventFilterText, EventQuery};
use serde::Serialize;

use crate::cli::{EventFormat, EventsExportArgs};
use crate::commands::ready_store;
use crate::config::Config;
use crate::output;

/// Events read from the store per query.
const PAGE: u32 = 1_000;

/// What an export did, on standard error.
#[derive(Serialize)]
struct ExportSummary {
    events: u64,
    /// Events whose stored fields do not read as an IntelMQ event: written as stored in IntelMQ
    /// JSON lines, left out of CSV.
    unreadable: Vec<Uuid>,
}

/// The filters of the command line as a store query (without paging), read as the events
/// API reads its query (`EventQuery::from_text`).
fn query(args: &EventsExportArgs, registry: &RegistrySnapshot) -> anyhow::Result<EventQuery> {
    let report_id = match args.report.as_deref() {
        None => None,
        Some(text) => {
            Some(Uuid::try_parse(text).with_context(|| format!("--report: {text:?} is not a report id"))?)
        }
    };
    let text = EventFilterText {
        since: args.since.as_deref(),
        until: args.until.as_deref(),
        taxonomy: args.taxonomy.as_deref(),
        classification_type: args.classification_type.as_deref(),
        ip: args.ip.as_deref(),
        asn: args.asn.as_deref(),
        feed: args.feed.as_deref(),
        report_id,
        text: args.text.as_deref(),
    };
    let query = EventQuery::from_text(&text).map_err(|error| anyhow::anyhow!("--{error}"))?;
    let org_ids = match args.organisation.as_deref() {
        None => None,
        Some(key) => Some(vec![
            registry.resolve(key).with_context(|| format!("--organisation: no organisation {key:?}"))?.id,
        ]),
    };
    Ok(EventQuery { org_ids, limit: PAGE, ..query })
}

/// `neretva events export`: the matching events, newest first, on standard output; progress and
/// the summary on standard error. Exits with 1 when CSV had to leave an event out.
pub(crate) async fn export(config: &Config, args: EventsExportArgs) -> anyhow::Result<ExitCode> {
    let fields = crate::ingest::csv_fields(&args.fields)?;
    if !args.fields.is_empty() && args.output != EventFormat::Csv {
        anyhow::bail!("--fields chooses the columns of --output csv");
    }
    let store = ready_store(config).await?;
    let registry = RegistrySnapshot::load(store.as_ref(), &config.server.operator_org).await?;
    let mut query = query(&args, &registry)?;
    if args.output == EventFormat::Csv {
        output::bytes(csv_line(&fields, CsvStyle::Spreadsheet).as_bytes());
    }
    let bar = crate::commands::spinner("exporting events");
    let mut summary = ExportSummary { events: 0, unreadable: Vec::new() };
    let wanted = args.limit.unwrap_or(u64::MAX);
    while summary.events < wanted {
        query.limit = u32::try_from(wanted - summary.events).map_or(PAGE, |left| left.min(PAGE));
        let page = store.query_events(&query).await?;
        let mut text = String::new();
        for stored in &page {
            let event = &stored.event;
            match args.output {
                EventFormat::IntelmqJsonl => {
                    let (line, problems) =
                        neretva_event::intelmq_json::stored_line(&event.json, event.raw.as_bytes());
                    if !problems.is_empty() {
                        summary.unreadable.push(event.id);
                    }
                    text.push_str(&line);
                    text.push('\n');
                }
                EventFormat::Csv => match neretva_event::intelmq_json::from_line(&event.json) {
                    Ok(mut read) => {
                        read.set_raw(event.raw.as_bytes());
                        text.push_str(&csv_row(&read, &fields, CsvStyle::Spreadsheet));
                    }
                    Err(_) => {
                        summary.unreadable.push(event.id);
                        continue;
                    }
                },
            }
            summary.events += 1;
        }
        bar.suspend(|| output::bytes(text.as_bytes()));
        bar.set_message(format!("exporting events: {}", summary.events));
        let full = page.len() == query.limit as usize;
        match page.last() {
            Some(last) if full => query.before = Some(last.event.id),
            _ => break,
        }
    }
    bar.finish_and_clear();
    let left_out = args.output == EventFormat::Csv && !summary.unreadable.is_empty();
    if args.json {
        output::error(&serde_json::to_string(&summary)?);
    } else {
        output::error(&format!("{} events exported", summary.events));
        if !summary.unreadable.is_empty() {
            let how = if left_out { "left out" } else { "written as stored" };
            let ids: Vec<String> = summary.unreadable.iter().take(20).map(Uuid::to_string).collect();
            output::error(&format!(
                "{} events do not read as IntelMQ events ({how}): {}",
                summary.unreadable.len(),
                ids.join(", ")
            ));
        }
    }
    Ok(if left_out { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
