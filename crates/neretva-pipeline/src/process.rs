//! Processing one report from raw bytes to stored events.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::sync::{Arc, RwLock};

use neretva_event::{Event, FieldId, Report, Value};
use neretva_feeds::{FeedParser, ParseError};
use neretva_model::lookup::ConstituencyIndex;
use neretva_model::{Timestamp, Uuid};
use neretva_store::feeds::{
    BatchDedup, DedupKey, EventBatch, NewEvent, NewReport, ReportCounts, ReportError, ReportInfo,
    ReportStatus,
};
use neretva_store::{Store, StoreError};
use sha2::{Digest, Sha256};

use crate::config::{FeedConfig, PipelineConfig};
use crate::sinks::Sink;
use crate::sources::SourceStatus;
use crate::transforms::dedupe::KeyFields;
use crate::transforms::enrich_asn::AsnTable;
use crate::transforms::enrich_geo::GeoTable;
use crate::transforms::rules::{self, Rule, Verdict};
use crate::transforms::{dedupe, route};

/// Events are stored in batches of this size: each batch is one transaction, and the store
/// writes one while the next is prepared. Parsers are asked for smaller chunks
/// ([`neretva_feeds::CHUNK_RECORDS`]), so each event is transformed and turned into its stored
/// form while its memory is still in the caches.
const BATCH: usize = 4_096;

/// What can stop a report as a whole (a bad record never does).
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("unknown feed {0:?}; configured feeds: {1}")]
    UnknownFeed(String, String),
    #[error("report {0} not found")]
    UnknownReport(Uuid),
    #[error(
        "report {0}: its raw data was purged (pipeline.report_retention_days), so it cannot be parsed again"
    )]
    ReportDataPurged(Uuid),
    #[error("report is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { size: u64, limit: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("sink failed: {0}")]
    Sink(String),
}

/// How to run an ingestion.
#[derive(Debug, Clone, Copy, Default)]
pub struct IngestOptions {
    /// Store nothing: no report, no events, no deduplication state.
    pub dry_run: bool,
    /// Keep the resulting events in the outcome (for printing them).
    pub keep_events: bool,
}

/// What processing a report did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The stored report, unless this was a dry run.
    pub report: Option<ReportInfo>,
    /// The same content had been stored before under this feed; nothing was processed again.
    pub already_stored: bool,
    pub counts: ReportCounts,
    pub errors: Vec<ParseError>,
    /// Events per organisation.
    pub per_org: BTreeMap<Uuid, u64>,
    /// The resulting events with their raw lines, when `keep_events` was asked for.
    pub events: Vec<Event>,
}

struct Feed {
    config: FeedConfig,
    parser: Box<dyn FeedParser>,
}

/// A compiled pipeline.
pub struct Pipeline {
    feeds: HashMap<String, Feed>,
    rules: Vec<Rule>,
    dedup_fields: Option<(KeyFields, time::Duration)>,
    /// Replaced whole when its file changes ([`Pipeline::set_asn_table`]); each report takes
    /// the table current when it starts.
    asn: RwLock<Option<Arc<AsnTable>>>,
    /// The geolocation database, replaced the same way ([`Pipeline::set_geo_table`]).
    geo: RwLock<Option<Arc<GeoTable>>>,
    sinks: Vec<Sink>,
    max_report_bytes: u64,
    /// What the feeds' running sources last did.
    source_status: SourceStatus,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").field("feeds", &self.feed_names()).finish_non_exhaustive()
    }
}

/// What the pipeline needs from the running instance.
pub struct Context<'a> {
    pub store: &'a dyn Store,
    pub index: &'a ConstituencyIndex,
    pub now: Timestamp,
}

impl Pipeline {
    /// Compiles the configuration; returns every problem. The ASN table is loaded by the caller.
    pub fn build(config: &PipelineConfig, asn: Option<AsnTable>) -> Result<Pipeline, Vec<String>> {
        let mut errors = config.check();
        let rules = rules::compile(&config.rules).unwrap_or_default();
        let mut feeds = HashMap::new();
        for feed in &config.feeds {
            match neretva_feeds::configured(&feed.parser, &feed.parser_options) {
                Ok(parser) => {
                    feeds.insert(feed.name.clone(), Feed { config: feed.clone(), parser });
                }
                Err(parser_errors) => errors.extend(
                    parser_errors
                        .into_iter()
                        .map(|e| format!("pipeline.feeds ({}).parser_options: {e}", feed.name)),
                ),
            }
        }
        let mut sinks = Vec::new();
        for (index, sink) in config.sinks.iter().enumerate() {
            match Sink::open(sink) {
                Ok(sink) => sinks.push(sink),
                Err(error) => errors.push(format!("pipeline.sinks[{index}]: {error}")),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let dedup_fields = config.dedup.enabled.then(|| {
            (config.dedup.key_fields(), time::Duration::hours(i64::from(config.dedup.window_hours)))
        });
        Ok(Pipeline {
            feeds,
            rules,
            dedup_fields,
            asn: RwLock::new(asn.map(Arc::new)),
            geo: RwLock::new(None),
            sinks,
            max_report_bytes: config.limits.max_report_bytes,
            source_status: SourceStatus::default(),
        })
    }

    /// The ASN table the next report is enriched from.
    pub fn asn_table(&self) -> Option<Arc<AsnTable>> {
        self.asn.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Replaces the ASN table (a newer file) for the reports that start from now on.
    pub fn set_asn_table(&self, table: Option<AsnTable>) {
        *self.asn.write().unwrap_or_else(std::sync::PoisonError::into_inner) = table.map(Arc::new);
    }

    /// The geolocation database the next report is enriched from.
    pub fn geo_table(&self) -> Option<Arc<GeoTable>> {
        self.geo.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Sets or replaces the geolocation database for the reports that start from now on.
    pub fn set_geo_table(&self, table: Option<GeoTable>) {
        *self.geo.write().unwrap_or_else(std::sync::PoisonError::into_inner) = table.map(Arc::new);
    }

    /// What each feed's running source last did (empty unless `sources::run` runs them).
    pub fn source_status(&self) -> &SourceStatus {
        &self.source_status
    }

    /// The kind of the feed's configured source, if it has one.
    pub fn source_kind(&self, feed: &str) -> Option<&'static str> {
        self.feeds.get(feed)?.config.source.as_ref().map(crate::sources::SourceConfig::kind)
    }

    /// The feed's configured parser and provider, if the feed is configured.
    pub fn feed_parser(&self, feed: &str) -> Option<(&str, Option<&str>)> {
        let config = &self.feeds.get(feed)?.config;
        Some((config.parser.as_str(), config.provider.as_deref()))
    }

    /// The configured feeds' names, sorted.
    pub fn feed_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.feeds.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// Whether a feed of that name is configured.
    pub fn has_feed(&self, name: &str) -> bool {
        self.feeds.contains_key(name)
    }

    /// The largest report it takes (`pipeline.limits.max_report_bytes`), decompressed.
    pub fn max_report_bytes(&self) -> u64 {
        self.max_report_bytes
    }

    fn feed(&self, name: &str) -> Result<&Feed, PipelineError> {
        self.feeds
            .get(name)
            .ok_or_else(|| PipelineError::UnknownFeed(name.to_owned(), self.feed_names().join(", ")))
    }

    /// Stores a raw report and processes it. A report whose content was stored before for the
    /// same feed is not processed again (see `reparse`).
    pub async fn ingest(
        &self,
        context: &Context<'_>,
        feed_name: &str,
        source: &str,
        data: Vec<u8>,
        options: IngestOptions,
    ) -> Result<Outcome, PipelineError> {
        let feed = self.feed(feed_name)?;
        let size = data.len() as u64;
        if size > self.max_report_bytes {
            return Err(PipelineError::TooLarge { size, limit: self.max_report_bytes });
        }
        if options.dry_run {
            return self.process(context, feed, None, source, data, options).await;
        }
        let sha256 = hex::encode(Sha256::digest(&data));
        let new = NewReport {
            id: Uuid::now_v7(),
            feed: feed_name.to_owned(),
            parser: feed.config.parser.clone(),
            source: source.to_owned(),
            received_at: context.now,
            sha256,
            data,
        };
        let (info, stored) = context.store.store_report(&new).await?;
        if !stored && info.status != ReportStatus::Received {
            return Ok(Outcome {
                counts: info.counts,
                report: Some(info),
                already_stored: true,
                ..Outcome::default()
            });
        }
        // A report left half-processed by a restart is processed again from the start.
        context.store.delete_report_events(info.id).await?;
        self.process(context, feed, Some(info.id), source, new.data, options).await
    }

    /// Re-runs the feed's (possibly fixed) parser on a stored report, replacing its events.
    pub async fn reparse(&self, context: &Context<'_>, report_id: Uuid) -> Result<Outcome, PipelineError> {
        let info =
            context.store.get_report(report_id).await?.ok_or(PipelineError::UnknownReport(report_id))?;
        let feed = self.feed(&info.feed)?;
        let data =
            context.store.report_data(report_id).await?.ok_or(PipelineError::ReportDataPurged(report_id))?;
        context.store.delete_report_events(report_id).await?;
        self.process(context, feed, Some(report_id), &info.source, data, IngestOptions::default()).await
    }

    async fn process(
        &self,
        context: &Context<'_>,
        feed: &Feed,
        report_id: Option<Uuid>,
        source: &str,
        data: Vec<u8>,
        options: IngestOptions,
    ) -> Result<Outcome, PipelineError> {
        let mut report = Report::new(&feed.config.name, Some(context.now), data);
        // Like IntelMQ's file and mail collectors, tell parsers the file's name (Shadowserver
        // detects its report type from it).
        // Files carry their path; downloads and uploads the report's name after `#`.
        let file_name = match source.strip_prefix("file:") {
            Some(path) => Some(path),
            None => source.rsplit_once('#').map(|(_, name)| name),
        };
        if let Some(path) = file_name {
            let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
            report.extra.push(("file_name".to_owned(), serde_json::Value::String(name.to_owned())));
        }
        report.feed_provider = feed.config.provider.clone();
        report.feed_url = feed.config.url.clone();
        report.feed_code = feed.config.code.clone();
        report.feed_accuracy = feed.config.accuracy;
        report.feed_documentation = feed.config.documentation.clone();
        // Two stages overlap: this task parses and transforms a batch while the store writes
        // the one before on a thread of its own.
        let (to_store, batches) = tokio::sync::mpsc::channel::<Prepared>(1);
        let keep_event = options.keep_events || !self.sinks.is_empty();
        let asn = self.asn_table();
        let geo = self.geo_table();
        let prepare = async {
            let mut prepared = Prepared::with_capacity(report_id.is_some(), self.dedup_fields.is_some());
            let mut seen_in_run: HashSet<u128, BuildHasherDefault<PrefixHasher>> = HashSet::default();
            let mut keys = dedupe::Keys::default();
            let mut ids = EventIds::new(context.now);
            // What every stored event of the report shares, when its events are stored.
            let stored = report_id.map(|report_id| StoredReport {
                report_id,
                feed: &feed.config.name,
                now: context.now,
            });
            // Large reports are parsed a chunk at a time, so they never sit in memory as events.
            for parsed in feed.parser.parse_chunks(&report, neretva_feeds::CHUNK_RECORDS) {
                prepared.counts.records += parsed.records;
                prepared.counts.errors += parsed.errors.len() as u64;
                prepared.errors.extend(parsed.errors);
                for parsed_event in parsed.events {
                    let mut event = parsed_event.event;
                    // The raw line is stored in its own column; IntelMQ's `raw` field is
                    // only rebuilt for printed events.
                    let raw_field = event.remove_id(FieldId::RAW);
                    event.classify();
                    // The geolocation database first: where an address is used says more about
                    // its country than where its network is registered.
                    if let Some(geo) = &geo {
                        enrich_geo(geo, &mut event);
                    }
                    if let Some(asn) = &asn {
                        enrich(asn, &mut event);
                    }
                    let orgs = route::route(context.index, &event);
                    if let Verdict::Drop(_) = rules::apply(&self.rules, &mut event, context.now) {
                        prepared.counts.dropped += 1;
                        continue;
                    }
                    if let Some((fields, _)) = &self.dedup_fields {
                        // Repeats within this run of the report are found here; the store
                        // finds repeats of other reports within the window.
                        let digest = keys.digest(&event, fields);
                        if !seen_in_run.insert(key_prefix(&digest)) {
                            prepared.counts.duplicates += 1;
                            continue;
                        }
                        prepared.keys.push(DedupKey {
                            key: dedupe::hex(&digest),
                            seen_at: context.now,
                            report_id: report_id.unwrap_or_else(Uuid::nil),
                        });
                    }
                    let mut raw = parsed_event.raw;
                    if let Some(report) = &stored {
                        // The raw line moves into the stored form unless the event is kept.
                        let stored_raw =
                            if options.keep_events { raw.clone() } else { std::mem::take(&mut raw) };
                        prepared.rows.push(new_event(
                            ids.next(),
                            &event,
                            report,
                            parsed_event.line,
                            stored_raw,
                            &orgs,
                        ));
                    }
                    prepared.items.push(Item {
                        // Without sinks or kept events only the routing is needed after the
                        // store: the event is dropped here, while its memory is still in the
                        // caches.
                        event: if keep_event { Some(event) } else { None },
                        raw,
                        raw_field: if options.keep_events { raw_field } else { None },
                        orgs,
                    });
                    if prepared.items.len() >= BATCH && !hand_over(&to_store, &mut prepared).await {
                        return prepared;
                    }
                }
                // A chunk's errors travel with the batch of the events after them.
            }
            if !prepared.items.is_empty() && !hand_over(&to_store, &mut prepared).await {
                return prepared;
            }
            // Closes the channel, so the store stage ends after the last batch. Errors after the
            // last event stay in what this stage returns.
            drop(to_store);
            prepared
        };
        let store = async {
            // Owned by this stage, so its error drops the receiver and the preparing stage's next
            // hand-over fails instead of waiting for a taker forever.
            let mut batches = batches;
            let mut outcome = Outcome::default();
            while let Some(batch) = batches.recv().await {
                let Prepared { items, rows, keys, errors, counts: _ } = batch;
                outcome.errors.extend(errors);
                let duplicates = if report_id.is_some() {
                    let dedup = self
                        .dedup_fields
                        .as_ref()
                        .map(|(_, window)| BatchDedup { keys, window_start: context.now - *window });
                    context.store.store_events(EventBatch { events: rows, dedup }).await?
                } else {
                    vec![false; items.len()]
                };
                let mut flags = duplicates.iter();
                let items: Vec<Item> =
                    items.into_iter().filter(|_| !flags.next().copied().unwrap_or(false)).collect();
                outcome.counts.duplicates += (duplicates.len() - items.len()) as u64;
                outcome.counts.events += items.len() as u64;
                for item in &items {
                    for org in &item.orgs {
                        *outcome.per_org.entry(*org).or_default() += 1;
                    }
                }
                let events: Vec<&Event> = items.iter().filter_map(|item| item.event.as_ref()).collect();
                for sink in &self.sinks {
                    sink.write(&feed.config.name, &events)
                        .await
                        .map_err(|error| PipelineError::Sink(error.to_string()))?;
                }
                if options.keep_events {
                    outcome.events.extend(items.into_iter().filter_map(|item| {
                        let mut event = item.event?;
                        match item.raw_field {
                            Some(value) => {
                                let _ = event.set_value("raw", value);
                            }
                            None => event.set_raw(item.raw.as_bytes()),
                        }
                        Some(event)
                    }));
                }
            }
            Ok::<_, PipelineError>(outcome)
        };
        let (rest, stored) = tokio::join!(prepare, store);
        let mut outcome = stored?;
        // What the preparing stage counted, and the errors of chunks after the last batch.
        outcome.counts.records = rest.counts.records;
        outcome.counts.errors = rest.counts.errors;
        outcome.counts.dropped = rest.counts.dropped;
        outcome.counts.duplicates += rest.counts.duplicates;
        outcome.errors.extend(rest.errors);
        drop(report);
        record_metrics(&feed.config.name, &outcome.counts);
        if let Some(report_id) = report_id {
            let errors: Vec<ReportError> = outcome
                .errors
                .iter()
                .map(|e| ReportError {
                    line: e.line,
                    field: e.field.clone(),
                    message: e.message.clone(),
                    raw: e.raw.clone(),
                })
                .collect();
            outcome.report = Some(
                context.store.finish_report(report_id, outcome.counts, &errors, None, context.now).await?,
            );
        }
        Ok(outcome)
    }
}

/// Hands a prepared batch to the store stage and starts the next with the running counts; false
/// when the store stage has failed (its error ends the report).
async fn hand_over(to_store: &tokio::sync::mpsc::Sender<Prepared>, prepared: &mut Prepared) -> bool {
    let next = Prepared::with_capacity(!prepared.rows.is_empty(), !prepared.keys.is_empty());
    let full = std::mem::replace(prepared, next);
    prepared.counts = full.counts;
    let sent = to_store.send(full).await.is_ok();
    // Let the store stage take the batch before preparing the next one.
    tokio::task::yield_now().await;
    sent
}

/// Ids for a report's events: UUIDv7 with the processing time's milliseconds, a counter that
/// keeps them in increasing order, and random bits from one seed per report (a system call for
/// every id cost more than the rest of making the id).
struct EventIds {
    millis: u64,
    counter: u16,
    state: u64,
}

impl EventIds {
    fn new(now: Timestamp) -> EventIds {
        let millis = u64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or_default();
        let mut seed = [0u8; 10];
        // Without the system's randomness the ids stay unique by time and counter within this
        // process; the random bits only keep processes apart.
        let _ = getrandom::fill(&mut seed);
        let state = u64::from_le_bytes(seed[..8].try_into().unwrap_or_default());
        EventIds { millis, counter: u16::from_le_bytes([seed[8], seed[9] & 0x07]), state }
    }

    fn next(&mut self) -> Uuid {
        // The 12-bit counter runs over into the millisecond, which stays close to the real time
        // (4,096 ids per millisecond).
        self.counter += 1;
        if self.counter > 0x0fff {
            self.counter = 0;
            self.millis += 1;
        }
        // SplitMix64.
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let mut random = [0u8; 10];
        random[..2].copy_from_slice(&self.counter.to_be_bytes());
        random[2..].copy_from_slice(&z.to_be_bytes());
        uuid::Builder::from_unix_timestamp_millis(self.millis, &random).into_uuid()
    }
}

/// A batch of parsed and transformed events on its way from the preparing stage to the store.
#[derive(Default)]
struct Prepared {
    items: Vec<Item>,
    /// The stored form of `items` (none in a dry run).
    rows: Vec<NewEvent>,
    /// The deduplication key of each item, when deduplication is on.
    keys: Vec<DedupKey>,
    /// Records that failed to parse since the last batch, in line order.
    errors: Vec<ParseError>,
    /// The preparing stage's running totals: records, errors, dropped, duplicates in the run.
    counts: ReportCounts,
}

impl Prepared {
    /// An empty batch with room for a whole batch of events, so its lists never grow (each
    /// growth copies the list into fresh memory): the stored forms when the events are stored,
    /// the keys when they are deduplicated.
    fn with_capacity(stored: bool, deduplicated: bool) -> Prepared {
        let room = |used: bool| if used { BATCH } else { 0 };
        Prepared {
            items: Vec::with_capacity(BATCH),
            rows: Vec::with_capacity(room(stored)),
            keys: Vec::with_capacity(room(deduplicated)),
            ..Prepared::default()
        }
    }
}

/// One event of a [`Prepared`] batch.
struct Item {
    /// The event, when sinks or the caller need it after the store.
    event: Option<Event>,
    /// The raw line, when the event is kept (else it moved into the stored form).
    raw: String,
    /// The event's IntelMQ `raw` field, kept for printing when asked.
    raw_field: Option<Value>,
    orgs: Vec<Uuid>,
}

/// The first 128 bits of a key: enough to tell keys of one report apart.
fn key_prefix(digest: &[u8; 32]) -> u128 {
    let mut prefix = [0u8; 16];
    prefix.copy_from_slice(&digest[..16]);
    u128::from_be_bytes(prefix)
}

/// Hashes key prefixes for the set of a run's keys by taking their low bits: they are parts of
/// SHA-256 digests already, as evenly spread as any hash would make them.
#[derive(Default)]
struct PrefixHasher(u64);

impl std::hash::Hasher for PrefixHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u128(&mut self, prefix: u128) {
        self.0 = prefix as u64;
    }
}

/// Counts what each component of the pipeline received, sent, dropped and failed on, by feed:
/// the parser (records in, events out, errors), the rules (dropped), deduplication (dropped as
/// duplicates) and the store (events sent).
fn record_metrics(feed: &str, counts: &ReportCounts) {
    let feed = feed.to_owned();
    let counter = |name: &'static str, component: &'static str, value: u64| {
        metrics::counter!(name, "feed" => feed.clone(), "component" => component).increment(value);
    };
    counter("neretva_pipeline_received_total", "parser", counts.records);
    counter("neretva_pipeline_errors_total", "parser", counts.errors);
    counter("neretva_pipeline_sent_total", "parser", counts.records - counts.errors.min(counts.records));
    counter("neretva_pipeline_dropped_total", "rules", counts.dropped);
    counter("neretva_pipeline_dropped_total", "dedupe", counts.duplicates);
    counter("neretva_pipeline_sent_total", "store", counts.events);
    metrics::counter!("neretva_pipeline_reports_total", "feed" => feed).increment(1);
}

/// The fields of one side (source or destination) of an event that enrichment reads and fills.
struct Side {
    ip: &'static str,
    asn: &'static str,
    network: &'static str,
    as_name: &'static str,
    cc: &'static str,
    city: &'static str,
    latitude: &'static str,
    longitude: &'static str,
}

const SIDES: [Side; 2] = [
    Side {
        ip: "source.ip",
        asn: "source.asn",
        network: "source.network",
        as_name: "source.as_name",
        cc: "source.geolocation.cc",
        city: "source.geolocation.city",
        latitude: "source.geolocation.latitude",
        longitude: "source.geolocation.longitude",
    },
    Side {
        ip: "destination.ip",
        asn: "destination.asn",
        network: "destination.network",
        as_name: "destination.as_name",
        cc: "destination.geolocation.cc",
        city: "destination.geolocation.city",
        latitude: "destination.geolocation.latitude",
        longitude: "destination.geolocation.longitude",
    },
];

/// Sets `field` to `value` unless the event has it already (what the feed said stays).
fn set_missing(event: &mut Event, field: &str, value: Option<String>) {
    if let Some(value) = value
        && !event.contains(field)
    {
        let _ = event.set(field, &value);
    }
}

/// Adds AS number, AS name, network and country to the source and destination addresses,
/// without overwriting what the feed said.
fn enrich(table: &AsnTable, event: &mut Event) {
    for side in &SIDES {
        let Some(ip) = event.get(side.ip).and_then(|value| value.as_ip()) else { continue };
        let Some((network, info)) = table.lookup(ip) else { continue };
        set_missing(event, side.asn, Some(info.asn.to_string()));
        set_missing(event, side.network, network.map(|network| network.to_string()));
        set_missing(event, side.as_name, info.as_name);
        set_missing(event, side.cc, info.country);
    }
}

/// Adds country, city and coordinates to the source and destination addresses, without
/// overwriting what the feed said.
fn enrich_geo(table: &GeoTable, event: &mut Event) {
    for side in &SIDES {
        let Some(ip) = event.get(side.ip).and_then(|value| value.as_ip()) else { continue };
        let Some(info) = table.lookup(ip) else { continue };
        set_missing(event, side.cc, info.country);
        set_missing(event, side.city, info.city);
        set_missing(event, side.latitude, info.latitude.map(|latitude| latitude.to_string()));
        set_missing(event, side.longitude, info.longitude.map(|longitude| longitude.to_string()));
    }
}

/// What every stored event of one report shares.
struct StoredReport<'a> {
    report_id: Uuid,
    feed: &'a str,
    /// The observation time of events without one.
    now: Timestamp,
}

/// The stored form of an event: indexed columns plus the IntelMQ JSON object without `raw`.
fn new_event(
    id: Uuid,
    event: &Event,
    report: &StoredReport<'_>,
    line: u64,
    raw: String,
    orgs: &[Uuid],
) -> NewEvent {
    let StoredReport { report_id, feed, now } = *report;
    let time = |id: FieldId| event.get_id(id).and_then(|value| value.as_time());
    let text = |id: FieldId| event.get_id(id).and_then(Value::as_str).map(str::to_owned);
    NewEvent {
        id,
        report_id,
        feed: feed.to_owned(),
        line,
        raw,
        time_observation: time(FieldId::TIME_OBSERVATION).unwrap_or(now),
        time_source: time(FieldId::TIME_SOURCE),
        taxonomy: text(FieldId::CLASSIFICATION_TAXONOMY),
        classification_type: text(FieldId::CLASSIFICATION_TYPE),
        source_ip: event.get_id(FieldId::SOURCE_IP).and_then(Value::as_ip),
        source_asn: event
            .get_id(FieldId::SOURCE_ASN)
            .and_then(Value::as_int)
            .and_then(|asn| u32::try_from(asn).ok()),
        source_fqdn: text(FieldId::SOURCE_FQDN),
        destination_ip: event.get_id(FieldId::DESTINATION_IP).and_then(Value::as_ip),
        org_ids: orgs.to_vec(),
        json: neretva_event::intelmq_json::to_line(event),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn enrichment_adds_what_the_feed_left_out_geolocation_first() {
        use neretva_store_sqlite::SqliteStore;
        let config: PipelineConfig = serde_json::from_value(serde_json::json!({
            "feeds": [{"name": "events", "parser": "intelmq-json"}],
        }))
        .unwrap();
        let tsv = b"192.0.2.0\t192.0.2.255\t64500\tHR\tEXAMPLE-TELEKOM\n".to_vec();
        let (asn, _) = AsnTable::load(tsv).unwrap();
        let pipeline = Pipeline::build(&config, Some(asn)).unwrap();
        let city = serde_json::json!({
            "city": {"names": {"en": "Sarajevo"}},
            "country": {"iso_code": "BA"},
            "location": {"latitude": 43.8563, "longitude": 18.4131},
        });
        let database = crate::transforms::mmdb_writer::mmdb("GeoLite2-City", &[("192.0.2.0/24", city)]);
        pipeline.set_geo_table(Some(GeoTable::load(database, false).unwrap()));
        let store = SqliteStore::open_in_memory().unwrap();
        let index = ConstituencyIndex::default();
        let context = Context { store: &store, index: &index, now: time::OffsetDateTime::now_utc() };
        let report = concat!(
            r#"{"source.ip": "192.0.2.7", "classification.type": "scanner"}"#,
            "\n",
            r#"{"source.ip": "192.0.2.8", "source.geolocation.cc": "AT", "source.asn": 64999, "classification.type": "scanner"}"#,
            "\n",
        );
        let options = IngestOptions { dry_run: true, keep_events: true };
        let outcome =
            pipeline.ingest(&context, "events", "upload:test", report.into(), options).await.unwrap();
        let field = |index: usize, name: &str| {
            outcome.events[index].get(name).map(|value| value.to_json().to_string()).unwrap_or_default()
        };
        // The database's country wins over the registry's; the AS comes from the table.
        assert_eq!(field(0, "source.geolocation.cc"), "\"BA\"");
        assert_eq!(field(0, "source.geolocation.city"), "\"Sarajevo\"");
        assert_eq!(field(0, "source.geolocation.latitude"), "43.8563");
        assert_eq!(field(0, "source.geolocation.longitude"), "18.4131");
        assert_eq!(field(0, "source.asn"), "64500");
        assert_eq!(field(0, "source.as_name"), "\"EXAMPLE-TELEKOM\"");
        assert_eq!(field(0, "source.network"), "\"192.0.2.0/24\"");
        // What the feed said stays.
        assert_eq!(field(1, "source.geolocation.cc"), "\"AT\"");
        assert_eq!(field(1, "source.asn"), "64999");
        assert_eq!(field(1, "source.geolocation.city"), "\"Sarajevo\"");
    }

    #[test]
    fn event_ids_are_unique_increasing_version_7() {
        let now = time::macros::datetime!(2026-11-28 12:00:00 UTC);
        let mut ids = EventIds::new(now);
        let all: Vec<Uuid> = (0..10_000).map(|_| ids.next()).collect();
        assert!(all.windows(2).all(|pair| pair[0] < pair[1]), "ids must increase");
        assert!(all.iter().all(|id| id.get_version_num() == 7));
        let (seconds, _) = all[9_999].get_timestamp().unwrap().to_unix();
        // 10,000 ids run at most a few milliseconds ahead of the processing time.
        assert_eq!(seconds, now.unix_timestamp() as u64);
        let mut other = EventIds::new(now);
        assert_ne!(other.next(), all[0], "two reports in one millisecond get different ids");
    }
}
