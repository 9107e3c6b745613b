//! `neretva intel`: importing, exporting and searching stored intel events, and matching STIX
//! patterns.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use neretva_intel::misp::{self, ImportContext, Limits};
use neretva_intel::model::{Distribution, IntelEvent, OrgRef};
use neretva_intel::stix::{self, StixContext};
use neretva_model::tlp::Pap;
use neretva_stix::matcher::{Matcher, Observations};
use neretva_stix::pattern::Pattern;
use neretva_store::Store;
use neretva_store::intel::{AttributeQuery, DEFAULT_TLP, IntelEventQuery};

use crate::commands::{cli_actor, ready_store};
use crate::config::Config;
use crate::output;

/// Evaluates the pattern in `pattern_file` against the observed data in `observations`.
pub(crate) fn match_pattern(
    pattern_file: &Path,
    observations: &Path,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(pattern_file)
        .with_context(|| format!("cannot read the pattern file {}", pattern_file.display()))?;
    let pattern = Pattern::parse(&text).map_err(|error| {
        anyhow::anyhow!("the pattern in {} does not parse: {error}", pattern_file.display())
    })?;
    let matcher = Matcher::new(&pattern).map_err(|error| {
        anyhow::anyhow!("the pattern in {} cannot be evaluated: {error}", pattern_file.display())
    })?;
    let data = std::fs::read_to_string(observations)
        .with_context(|| format!("cannot read the observations file {}", observations.display()))?;
    let value: serde_json::Value = serde_json::from_str(&data)
        .map_err(|error| anyhow::anyhow!("{} is not JSON: {error}", observations.display()))?;
    let prepared = Observations::from_json(&value)
        .map_err(|error| anyhow::anyhow!("{}: {error}", observations.display()))?;
    let found = matcher.evaluate(&prepared).map_err(|error| anyhow::anyhow!("matcher error: {error}"))?;
    let result = if found.is_some() { "match" } else { "nomatch" };
    if json {
        let ids: Vec<&str> =
            found.iter().flatten().filter_map(|&index| prepared.observed_data_id(index)).collect();
        output::json(&serde_json::json!({ "result": result, "observed_data": ids }));
    } else {
        output::line(result);
    }
    Ok(if found.is_some() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Stores the events of MISP JSON or STIX files; reports every problem with file and path.
pub(crate) async fn import(
    config: &Config,
    files: &[PathBuf],
    format: &str,
    org: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    if !matches!(format, "misp" | "stix") {
        bail!("--format is misp or stix, not {format:?}");
    }
    let store = ready_store(config).await?;
    let short_name = org.unwrap_or(&config.server.operator_org);
    let owner =
        store.find_org(short_name).await?.with_context(|| format!("no organisation {short_name:?}"))?;
    let org_ref = OrgRef { uuid: owner.id, name: owner.fields.name.clone() };
    let operator = store.find_org(&config.server.operator_org).await?.map(|org| org.id);
    let now = time::OffsetDateTime::now_utc();
    let mut stored = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    for file in files {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
        let (events, file_problems) = if format == "misp" {
            let context = ImportContext { now, default_org: Some(org_ref.clone()) };
            match misp::parse(&text, &context, &Limits::default()) {
                Ok(imported) => {
                    let mut list: Vec<String> = imported.problems.iter().map(ToString::to_string).collect();
                    if imported.problems_not_shown > 0 {
                        list.push(format!("{} more problems", imported.problems_not_shown));
                    }
                    (imported.events, list)
                }
                Err(error) => (Vec::new(), vec![error.to_string()]),
            }
        } else {
            match neretva_stix::bundle::parse_bundle(&text, &neretva_stix::bundle::Limits::default()) {
                Ok(bundle) => {
                    let context = StixContext { now, default_org: org_ref.clone() };
                    let (events, found) = stix::from_objects(&bundle, &context, Distribution::Community);
                    (events, found.iter().map(ToString::to_string).collect())
                }
                Err(error) => (Vec::new(), vec![error.to_string()]),
            }
        };
        problems.extend(file_problems.into_iter().map(|problem| format!("{}: {problem}", file.display())));
        for event in events {
            let before = store.get_intel_event(event.uuid).await?;
            let result = match &before {
                Some(_) => store.update_intel_event(&cli_actor(), &event).await,
                None => store.create_intel_event(&cli_actor(), owner.id, &event).await,
            };
            match result {
                Ok(saved) => {
                    neretva_server::intel_links::refresh(store.as_ref(), &saved.event).await?;
                    // Published events go to the TAXII collection of their distribution.
                    let groups = store.list_sharing_groups().await?;
                    let group_of = |event: &IntelEvent| {
                        event.sharing_group.and_then(|uuid| groups.iter().find(|group| group.uuid == uuid))
                    };
                    let old = before.as_ref().map(|old| neretva_server::intel_taxii::Published {
                        event: &old.event,
                        owner_org: old.owner_org,
                        group: group_of(&old.event),
                    });
                    let new = neretva_server::intel_taxii::Published {
                        event: &saved.event,
                        owner_org: saved.owner_org,
                        group: group_of(&saved.event),
                    };
                    neretva_server::intel_taxii::sync(store.as_ref(), &cli_actor(), operator, old, Some(new))
                        .await?;
                    stored.push(saved);
                }
                Err(error) => problems.push(format!("{}: event {}: {error}", file.display(), event.uuid)),
            }
        }
    }
    if json {
        let events: Vec<serde_json::Value> = stored
            .iter()
            .map(|saved| {
                serde_json::json!({
                    "uuid": saved.event.uuid,
                    "info": saved.event.info,
                    "attributes": saved.event.attribute_count(),
                    "correlations": saved.correlations.len(),
                })
            })
            .collect();
        output::json(&serde_json::json!({ "stored": events, "problems": problems }));
    } else {
        for saved in &stored {
            output::line(&format!(
                "{}  {} attributes, {} correlations  {}",
                saved.event.uuid,
                saved.event.attribute_count(),
                saved.correlations.len(),
                saved.event.info
            ));
        }
        for problem in &problems {
            output::error(problem);
        }
    }
    Ok(if problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

async fn all_events(store: &dyn Store) -> anyhow::Result<Vec<IntelEvent>> {
    let mut events = Vec::new();
    let mut before = None;
    loop {
        let page = store
            .list_intel_events(&IntelEventQuery { before, limit: 1000, ..IntelEventQuery::default() })
            .await?;
        let done = page.len() < 1000;
        before = page.last().map(|stored| stored.seq);
        events.extend(page.into_iter().map(|stored| stored.event));
        if done {
            break;
        }
    }
    Ok(events)
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Writes every stored event as MISP JSON, STIX bundles or a MISP feed.
pub(crate) async fn export(
    config: &Config,
    format: &str,
    out: Option<&Path>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    if !matches!(format, "misp" | "stix" | "misp-feed") {
        bail!("--format is misp, stix or misp-feed, not {format:?}");
    }
    if format == "misp-feed" && out.is_none() {
        bail!("--format misp-feed writes a directory: give --out DIR");
    }
    if let Some(dir) = out {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let store = ready_store(config).await?;
    let events = all_events(store.as_ref()).await?;
    let mut written = 0usize;
    match (format, out) {
        ("misp", None) => output::json(&misp::export_events(&events)),
        ("stix", None) => {
            let bundles: Vec<serde_json::Value> = events
                .iter()
                .map(|event| stix::to_bundle(event, DEFAULT_TLP, Pap::Green).bundle.to_json())
                .collect();
            output::json(&bundles);
        }
        ("misp-feed", Some(dir)) => {
            for file in neretva_intel::feed::write_feed(&events) {
                write_file(dir, &file.name, &file.bytes)?;
                written += 1;
            }
        }
        (_, Some(dir)) => {
            for event in &events {
                let (name, text) = if format == "misp" {
                    (format!("{}.json", event.uuid), misp::export_event(event).to_string())
                } else {
                    (
                        format!("{}.stix.json", event.uuid),
                        stix::to_bundle(event, DEFAULT_TLP, Pap::Green).bundle.to_json_string(),
                    )
                };
                write_file(dir, &name, text.as_bytes())?;
                written += 1;
            }
        }
        _ => unreachable!("formats checked above"),
    }
    let digest =
        neretva_model::audit::digest_json(&events.iter().map(|event| event.uuid).collect::<Vec<_>>());
    store
        .append_audit(&neretva_model::audit::AuditEvent {
            actor: cli_actor().0,
            action: "intel.export".into(),
            object_type: "intel_event".into(),
            object_id: format!("{} events as {format}", events.len()),
            digest,
        })
        .await?;
    if let Some(dir) = out {
        if json {
            output::json(&serde_json::json!({ "events": events.len(), "files": written, "out": dir }));
        } else {
            output::line(&format!("{} events, {written} files written to {}", events.len(), dir.display()));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Finds stored attributes by value.
pub(crate) async fn search(
    config: &Config,
    value: &str,
    attr_type: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let value = match attr_type {
        Some(attr_type) => neretva_intel::value::canonicalise(attr_type, value)
            .map_err(|reason| anyhow::anyhow!("{value:?} is not a valid {attr_type}: {reason}"))?,
        None => value.trim().to_owned(),
    };
    let store = ready_store(config).await?;
    let query = AttributeQuery {
        value: Some(value),
        attr_type: attr_type.map(str::to_owned),
        limit: 1000,
        ..AttributeQuery::default()
    };
    let found = store.search_intel_attributes(&query).await?;
    if json {
        let rows: Vec<serde_json::Value> = found
            .iter()
            .map(|attribute| {
                serde_json::json!({
                    "event": attribute.event,
                    "event_info": attribute.event_info,
                    "uuid": attribute.uuid,
                    "type": attribute.attr_type,
                    "category": attribute.category,
                    "value": attribute.value,
                    "to_ids": attribute.to_ids,
                    "tlp": attribute.event_tlp.slug(),
                })
            })
            .collect();
        output::json(&rows);
    } else {
        let rows: Vec<Vec<String>> = found
            .iter()
            .map(|attribute| {
                vec![
                    attribute.event.to_string(),
                    attribute.attr_type.clone(),
                    attribute.value.clone(),
                    attribute.event_tlp.slug().to_owned(),
                    attribute.event_info.clone(),
                ]
            })
            .collect();
        output::table(&["EVENT", "TYPE", "VALUE", "TLP", "INFO"], &rows);
    }
    Ok(if found.is_empty() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
