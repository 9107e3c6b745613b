//! `neretva events export`: stored events out as IntelMQ JSON lines or CSV, page after page, for
//! moving them to IntelMQ or a spreadsheet (the other direction is `neretva ingest` with the
//! `intelmq-json` parser).

use std::process::ExitCode;

use anyhow::Context as _;
use neretva_model::Uuid;
use neretva_model::text::{CsvStyle, csv_line};
use neretva_pipeline::sinks::csv_row;
use neretva_server::registry::RegistrySnapshot;
use neretva_store::feeds::EventQuery;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

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

/// The filters of the command line as a store query (without paging).
fn query(args: &EventsExportArgs, registry: &RegistrySnapshot) -> anyhow::Result<EventQuery> {
    let time = |flag: &str, text: &Option<String>| -> anyhow::Result<Option<OffsetDateTime>> {
        text.as_deref()
            .map(|text| {
                OffsetDateTime::parse(text, &Rfc3339).with_context(|| {
                    format!("{flag}: {text:?} is not an RFC 3339 time such as 2026-11-01T00:00:00Z")
                })
            })
            .transpose()
    };
    // A bare address is its /32 or /128.
    let network = args
        .ip
        .as_deref()
        .map(|text| {
            text.parse::<neretva_net::Cidr>()
                .with_context(|| format!("--ip: {text:?} is not an address or a network"))
        })
        .transpose()?;
    let asn = match args.asn.as_deref() {
        None => None,
        Some(text) => Some(
            text.parse::<neretva_net::Asn>()
                .with_context(|| format!("--asn: {text:?} is not an AS number"))?
                .get(),
        ),
    };
    let org_ids = match args.organisation.as_deref() {
        None => None,
        Some(key) => Some(vec![
            registry.resolve(key).with_context(|| format!("--organisation: no organisation {key:?}"))?.id,
        ]),
    };
    let report_id = match args.report.as_deref() {
        None => None,
        Some(text) => {
            Some(Uuid::try_parse(text).with_context(|| format!("--report: {text:?} is not a report id"))?)
        }
    };
    Ok(EventQuery {
        since: time("--since", &args.since)?,
        until: time("--until", &args.until)?,
        taxonomy: args.taxonomy.clone(),
        classification_type: args.classification_type.clone(),
        org_ids,
        network,
        asn,
        feed: args.feed.clone(),
        report_id,
        text: args.text.clone().filter(|text| !text.is_empty()),
        before: None,
        floor: None,
        limit: PAGE,
    })
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
