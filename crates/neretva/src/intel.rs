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
use neretva_store::intel::{AttributeQuery, DEFAULT_TLP, IntelEventQuery, StoredIntelEvent};

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
                    after_write(store.as_ref(), operator, before.as_ref(), &saved).await?;
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

/// What follows every stored intel event, as over the API: its links to incidents and feed
/// events are found again, and published events go to the TAXII collection of their
/// distribution.
async fn after_write(
    store: &dyn Store,
    operator: Option<uuid::Uuid>,
    before: Option<&StoredIntelEvent>,
    saved: &StoredIntelEvent,
) -> anyhow::Result<()> {
    neretva_server::intel_links::refresh(store, &saved.event).await?;
    let groups = store.list_sharing_groups().await?;
    fn published<'a>(
        stored: &'a StoredIntelEvent,
        groups: &'a [neretva_intel::access::SharingGroup],
    ) -> neretva_server::intel_taxii::Published<'a> {
        neretva_server::intel_taxii::Published::of(stored, |uuid| {
            groups.iter().find(|group| group.uuid == uuid)
        })
    }
    let old = before.map(|stored| published(stored, &groups));
    neretva_server::intel_taxii::sync(store, &cli_actor(), operator, old, Some(published(saved, &groups)))
        .await?;
    Ok(())
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

/// The largest answer read from a remote MISP server, in bytes.
const SYNC_MAX_ANSWER: usize = 64 << 20;

/// A MISP client for pulling: the base URL and the key.
struct MispRemote {
    client: reqwest::Client,
    base: reqwest::Url,
    key: String,
}

impl MispRemote {
    fn new(url: &str, key: String) -> anyhow::Result<MispRemote> {
        let mut base = reqwest::Url::parse(url).with_context(|| format!("--url {url:?} is not a URL"))?;
        if !matches!(base.scheme(), "http" | "https") {
            bail!("--url must be http or https, not {}", base.scheme());
        }
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let tls = neretva_pipeline::sources::tls_config(&base).map_err(anyhow::Error::msg)?;
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(std::time::Duration::from_secs(120))
            .user_agent(concat!("neretva/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(MispRemote { client, base, key })
    }

    /// One JSON request; a non-2xx answer is an error naming the path and the status.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<serde_json::Value> {
        let url = self.base.join(path).with_context(|| format!("bad path {path}"))?;
        let mut request = self
            .client
            .request(method, url)
            .header("Authorization", &self.key)
            .header("Accept", "application/json")
            .header("Content-Type", "application/json");
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        let mut response =
            request.send().await.with_context(|| format!("{path}: the remote did not answer"))?;
        let status = response.status();
        let mut bytes = Vec::new();
        while let Some(chunk) =
            response.chunk().await.with_context(|| format!("{path}: reading the answer"))?
        {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > SYNC_MAX_ANSWER {
                bail!("{path}: the answer is larger than {SYNC_MAX_ANSWER} bytes");
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        if !status.is_success() {
            let short: String = text.chars().take(300).collect();
            bail!("{path}: the remote answered {status}: {short}");
        }
        serde_json::from_str(&text).with_context(|| format!("{path}: the answer is not JSON"))
    }
}

/// `neretva intel sync pull`: MISP's pull (getVersion, the minimal index, then each new or
/// changed published event), with MISP's pull rules.
pub(crate) async fn sync_pull(
    config: &Config,
    url: &str,
    key_file: &Path,
    org: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let key = std::fs::read_to_string(key_file)
        .with_context(|| format!("cannot read {}", key_file.display()))?
        .trim()
        .to_owned();
    if key.is_empty() {
        bail!("{} holds no key", key_file.display());
    }
    let store = ready_store(config).await?;
    let operator = store.find_org(&config.server.operator_org).await?.map(|org| org.id);
    let short_name = org.unwrap_or(&config.server.operator_org);
    let owner =
        store.find_org(short_name).await?.with_context(|| format!("no organisation {short_name:?}"))?;
    let remote = MispRemote::new(url, key)?;
    let version = remote.call(reqwest::Method::GET, "servers/getVersion", None).await?;
    let remote_version = version["version"].as_str().context("servers/getVersion: no version")?.to_owned();
    let index = remote
        .call(
            reqwest::Method::POST,
            "events/index",
            Some(serde_json::json!({ "minimal": 1, "published": 1 })),
        )
        .await?;
    let rows = match index {
        serde_json::Value::Array(rows) => rows,
        single @ serde_json::Value::Object(_) => vec![single],
        _ => bail!("events/index: expected a list of events"),
    };
    let (mut created, mut updated, mut unchanged, mut kept_home) = (Vec::new(), Vec::new(), 0usize, 0usize);
    let mut problems: Vec<String> = Vec::new();
    let context = ImportContext { now: time::OffsetDateTime::now_utc(), default_org: None };
    for row in &rows {
        let published = row["published"].as_bool().unwrap_or(false) || row["published"] == "1";
        let Some(uuid) = row["uuid"].as_str().and_then(|text| uuid::Uuid::try_parse(text).ok()) else {
            problems.push(format!("events/index: a row without a uuid: {row}"));
            continue;
        };
        if !published {
            continue;
        }
        let remote_time = row["timestamp"]
            .as_str()
            .and_then(|text| text.parse::<i64>().ok())
            .or_else(|| row["timestamp"].as_i64());
        let local = store.get_intel_event(uuid).await?;
        if let (Some(local), Some(remote_time)) = (&local, remote_time)
            && local.event.timestamp.unix_timestamp() >= remote_time
        {
            unchanged += 1;
            continue;
        }
        let path = format!(
            "events/view/{uuid}/deleted[]:0/deleted[]:1/excludeGalaxy:1/includeEventCorrelations:0/includeFeedCorrelations:0/includeWarninglistHits:0/excludeLocalTags:1"
        );
        let answer = match remote.call(reqwest::Method::GET, &path, None).await {
            Ok(answer) => answer,
            Err(error) => {
                problems.push(format!("event {uuid}: {error:#}"));
                continue;
            }
        };
        let limits = Limits { max_events: 1, ..Limits::default() };
        let imported = match misp::parse(&answer.to_string(), &context, &limits) {
            Ok(imported) => imported,
            Err(error) => {
                problems.push(format!("event {uuid}: {error}"));
                continue;
            }
        };
        problems.extend(imported.problems.iter().map(|problem| format!("event {uuid}: {problem}")));
        let Some(event) = imported.events.into_iter().find(|event| event.uuid == uuid) else {
            problems.push(format!("event {uuid}: the remote answered with another event"));
            continue;
        };
        if event.distribution == Distribution::Organisation {
            // Organisation only never leaves its instance, whatever the remote showed.
            kept_home += 1;
            continue;
        }
        let mut event = neretva_intel::sync::after_pull(&event, false);
        event.org = Some(OrgRef { uuid: owner.id, name: owner.fields.name.clone() });
        let groups = event
            .sharing_group
            .into_iter()
            .chain(event.all_attributes().filter_map(|(_, attribute)| attribute.sharing_group));
        let mut unknown = None;
        for group in groups {
            if store.get_sharing_group(group).await?.is_none() {
                unknown = Some(group);
                break;
            }
        }
        if let Some(group) = unknown {
            problems.push(format!(
                "event {uuid}: sharing group {group} is not known here; the event is left out"
            ));
            continue;
        }
        let result = match &local {
            Some(local) if local.owner_org != owner.id => {
                problems.push(format!("event {uuid}: stored here with another owner; the event is left out"));
                continue;
            }
            Some(_) => store.update_intel_event(&cli_actor(), &event).await.map(|saved| (false, saved)),
            None => store.create_intel_event(&cli_actor(), owner.id, &event).await.map(|saved| (true, saved)),
        };
        if let Ok((_, saved)) = &result {
            after_write(store.as_ref(), operator, local.as_ref(), saved).await?;
        }
        match result {
            Ok((true, saved)) => created.push(saved),
            Ok((false, saved)) => updated.push(saved),
            Err(error) => problems.push(format!("event {uuid}: {error}")),
        }
    }
    let summary = |list: &[neretva_store::intel::StoredIntelEvent]| -> Vec<serde_json::Value> {
        list.iter()
            .map(|saved| {
                serde_json::json!({
                    "uuid": saved.event.uuid,
                    "info": saved.event.info,
                    "distribution": saved.event.distribution.number(),
                    "attributes": saved.event.attribute_count(),
                })
            })
            .collect()
    };
    if json {
        output::json(&serde_json::json!({
            "remote_version": remote_version,
            "listed": rows.len(),
            "created": summary(&created),
            "updated": summary(&updated),
            "unchanged": unchanged,
            "organisation_only": kept_home,
            "problems": problems,
        }));
    } else {
        output::line(&format!(
            "remote MISP {remote_version}: {} listed, {} new, {} updated, {unchanged} unchanged, {kept_home} organisation only (not pulled)",
            rows.len(),
            created.len(),
            updated.len()
        ));
        for saved in created.iter().chain(&updated) {
            output::line(&format!("{}  {}", saved.event.uuid, saved.event.info));
        }
        for problem in &problems {
            output::error(problem);
        }
    }
    Ok(if problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
