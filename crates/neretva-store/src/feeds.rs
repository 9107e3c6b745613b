//! Storage types of the feed pipeline: raw reports, harmonised events, deduplication state
//! and the notification queue.
//!
//! Stores keep timestamps to the microsecond (the nanoseconds below are dropped).

use std::net::IpAddr;

use neretva_model::{Timestamp, Uuid};

use crate::Actor;

/// A raw report as received, stored before it is parsed.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub id: Uuid,
    /// The configured feed's name.
    pub feed: String,
    /// The parser that will read it.
    pub parser: String,
    /// Where it came from: a file path, a URL, `upload:<user>`.
    pub source: String,
    pub received_at: Timestamp,
    /// SHA-256 of `data`, lower-case hex.
    pub sha256: String,
    pub data: Vec<u8>,
}

impl NewReport {
    /// Who stores the report, as the audit log records it: `user:<name>` for a `source` of
    /// `upload:<name>`, otherwise `system` (fetched and watched feeds).
    pub fn actor(&self) -> Actor {
        // An upload's source is `upload:<user>` or `upload:<user>#<file name>`.
        match self.source.strip_prefix("upload:").map(|rest| rest.split('#').next().unwrap_or(rest)) {
            Some(user) if !user.is_empty() => Actor(format!("user:{user}")),
            _ => Actor::system(),
        }
    }
}

/// The processing state of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportStatus {
    /// Stored, not parsed yet.
    Received,
    /// Parsed; the counts are final.
    Parsed,
    /// Could not be parsed at all (e.g. over a size limit); see `failure`.
    Failed,
}

impl ReportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Received => "received",
            ReportStatus::Parsed => "parsed",
            ReportStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<ReportStatus> {
        match text {
            "received" => Some(ReportStatus::Received),
            "parsed" => Some(ReportStatus::Parsed),
            "failed" => Some(ReportStatus::Failed),
            _ => None,
        }
    }
}

/// What processing a report produced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportCounts {
    /// Data records seen.
    pub records: u64,
    /// Events stored.
    pub events: u64,
    /// Records that could not be parsed.
    pub errors: u64,
    /// Events dropped as duplicates.
    pub duplicates: u64,
    /// Events dropped by filter rules.
    pub dropped: u64,
}

/// A stored report, without its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportInfo {
    pub id: Uuid,
    pub feed: String,
    pub parser: String,
    pub source: String,
    pub received_at: Timestamp,
    pub sha256: String,
    pub size: u64,
    pub status: ReportStatus,
    pub counts: ReportCounts,
    pub parsed_at: Option<Timestamp>,
    /// Why the report failed as a whole.
    pub failure: Option<String>,
    /// Its raw data was deleted by report retention (`purge_report_data`): it cannot be
    /// parsed again.
    pub data_purged: bool,
}

/// A record of a report that could not be parsed, kept for inspection. Stores replace NUL
/// characters in its text by U+FFFD, so a garbled record can always be kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportError {
    pub line: u64,
    pub field: Option<String>,
    pub message: String,
    pub raw: String,
}

/// Filters for listing reports, newest first (by id).
#[derive(Debug, Clone, Default)]
pub struct ReportQuery {
    pub feed: Option<String>,
    /// Only reports received before this one (by id order), for paging.
    pub before: Option<Uuid>,
    /// 0 means 100; at most 10,000.
    pub limit: u32,
}

/// What a feed's source keeps between runs of the server (its last downloads' validators,
/// when it last worked), saved by the source and read when it starts again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRecord {
    /// The configured feed's name.
    pub feed: String,
    /// The source's kind when it was saved (`http`, `imap`, …): a feed whose source changed
    /// kind starts afresh.
    pub kind: String,
    /// The source's own document, JSON, at most [`SOURCE_RECORD_MAX_BYTES`].
    pub state: String,
    pub saved_at: Timestamp,
}

/// The largest source state a store keeps.
pub const SOURCE_RECORD_MAX_BYTES: usize = 65_536;

impl SourceRecord {
    /// Refuses a record a store would not keep: empty names, a NUL character, or a state over
    /// [`SOURCE_RECORD_MAX_BYTES`].
    pub fn check(&self) -> Result<(), crate::StoreError> {
        for (field, value) in [("feed", &self.feed), ("kind", &self.kind), ("state", &self.state)] {
            if value.is_empty() || value.contains('\0') {
                return Err(crate::StoreError::conflict(field, "must be non-empty text without NUL"));
            }
        }
        if self.state.len() > SOURCE_RECORD_MAX_BYTES {
            return Err(crate::StoreError::conflict(
                "state",
                format!("{} bytes, more than {SOURCE_RECORD_MAX_BYTES}", self.state.len()),
            ));
        }
        Ok(())
    }
}

/// A harmonised event ready to store: the indexed columns and the full IntelMQ JSON object.
///
/// Stores refuse text holding a NUL character (`StoreError::Conflict` naming the field), as
/// PostgreSQL cannot keep one. An IPv4-mapped IPv6 address is stored, and read back, as its
/// IPv4 address; `org_ids` are stored once each and read back in ascending order.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// UUID v7, so ids sort by insertion time.
    pub id: Uuid,
    pub report_id: Uuid,
    pub feed: String,
    /// The line of the report the event came from.
    pub line: u64,
    /// The raw line or record.
    pub raw: String,
    pub time_observation: Timestamp,
    pub time_source: Option<Timestamp>,
    pub taxonomy: Option<String>,
    pub classification_type: Option<String>,
    pub source_ip: Option<IpAddr>,
    pub source_asn: Option<u32>,
    pub source_fqdn: Option<String>,
    pub destination_ip: Option<IpAddr>,
    /// The organisations the event concerns (constituency routing).
    pub org_ids: Vec<Uuid>,
    /// The event as one IntelMQ JSON object.
    pub json: String,
}

impl NewEvent {
    /// An event of a report: its line, raw text, time of observation and IntelMQ JSON, a new id,
    /// and none of the indexed columns or organisations set (those a caller knows are set with
    /// struct update syntax: `NewEvent { source_ip, ..NewEvent::new(…) }`).
    pub fn new(
        report_id: Uuid,
        feed: &str,
        line: u64,
        raw: impl Into<String>,
        time_observation: Timestamp,
        json: impl Into<String>,
    ) -> Self {
        NewEvent {
            id: Uuid::now_v7(),
            report_id,
            feed: feed.to_owned(),
            line,
            raw: raw.into(),
            time_observation,
            time_source: None,
            taxonomy: None,
            classification_type: None,
            source_ip: None,
            source_asn: None,
            source_fqdn: None,
            destination_ip: None,
            org_ids: Vec::new(),
            json: json.into(),
        }
    }
}

/// A stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub event: NewEvent,
    pub stored_at: Timestamp,
}

/// Filters for events; every filter narrows the result.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// `time.source`, or `time.observation` when the source time is missing, at or after.
    pub since: Option<Timestamp>,
    /// … and before.
    pub until: Option<Timestamp>,
    pub taxonomy: Option<String>,
    pub classification_type: Option<String>,
    /// Only events routed to one of these organisations; `None` for all.
    pub org_ids: Option<Vec<Uuid>>,
    /// `source.ip` or `destination.ip` inside this network (an address is a /32 or /128); as
    /// with `Cidr::contains`, an IPv6 network never contains an IPv4 address.
    pub network: Option<neretva_net::Cidr>,
    pub asn: Option<u32>,
    pub feed: Option<String>,
    pub report_id: Option<Uuid>,
    /// Text contained in the event's JSON, ignoring the case of ASCII letters (other
    /// characters match exactly, the same on every backend).
    pub text: Option<String>,
    /// Only events with a smaller id (paging, newest first).
    pub before: Option<Uuid>,
    /// Only events with this id or a greater one: the floor of a bounded scan
    /// ([`crate::Store::event_scan_floor`]).
    pub floor: Option<Uuid>,
    /// 0 means 100; at most 10,000.
    pub limit: u32,
}

/// The event search's filters as text, as the API's query parameters and `neretva events
/// export`'s flags give them; [`EventQuery::from_text`] reads them.
#[derive(Debug, Clone, Copy, Default)]
pub struct EventFilterText<'a> {
    /// RFC 3339.
    pub since: Option<&'a str>,
    /// RFC 3339.
    pub until: Option<&'a str>,
    pub taxonomy: Option<&'a str>,
    pub classification_type: Option<&'a str>,
    /// An address (its /32 or /128) or a network.
    pub ip: Option<&'a str>,
    /// An AS number, with or without `AS`.
    pub asn: Option<&'a str>,
    pub feed: Option<&'a str>,
    pub report_id: Option<Uuid>,
    /// Empty text filters nothing.
    pub text: Option<&'a str>,
}

/// A filter of [`EventFilterText`] that does not read: its name (`since`, `until`, `ip`, `asn`)
/// and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FilterError {
    pub field: &'static str,
    pub message: String,
}

impl EventQuery {
    /// The query of the text filters, the first that does not read named; organisations,
    /// paging and the limit are the caller's.
    pub fn from_text(filters: &EventFilterText<'_>) -> Result<EventQuery, FilterError> {
        let fail = |field: &'static str, message: String| FilterError { field, message };
        let time = |field: &'static str, text: Option<&str>| {
            text.map(|text| {
                Timestamp::parse(text, &time::format_description::well_known::Rfc3339).map_err(|_| {
                    fail(field, format!("{text:?} is not an RFC 3339 time such as 2026-11-01T00:00:00Z"))
                })
            })
            .transpose()
        };
        let network = filters
            .ip
            .map(|text| text.parse::<neretva_net::Cidr>().map_err(|error| fail("ip", error.to_string())))
            .transpose()?;
        let asn = filters
            .asn
            .map(|text| {
                text.parse::<neretva_net::Asn>().map(|asn| asn.get()).map_err(|e| fail("asn", e.to_string()))
            })
            .transpose()?;
        Ok(EventQuery {
            since: time("since", filters.since)?,
            until: time("until", filters.until)?,
            taxonomy: filters.taxonomy.map(str::to_owned),
            classification_type: filters.classification_type.map(str::to_owned),
            network,
            asn,
            feed: filters.feed.map(str::to_owned),
            report_id: filters.report_id,
            text: filters.text.filter(|text| !text.is_empty()).map(str::to_owned),
            ..EventQuery::default()
        })
    }
}

/// Events on their way into the store with, when deduplication is on, one key per event.
#[derive(Debug, Clone, Default)]
pub struct EventBatch {
    pub events: Vec<NewEvent>,
    pub dedup: Option<BatchDedup>,
}

/// The deduplication keys of an [`EventBatch`]: `keys[i]` belongs to `events[i]`.
#[derive(Debug, Clone)]
pub struct BatchDedup {
    pub keys: Vec<DedupKey>,
    /// Keys seen before this time no longer count.
    pub window_start: Timestamp,
}

/// A deduplication key and the time it was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DedupKey {
    /// A hash of the configured key fields, lower-case hex.
    pub key: String,
    pub seen_at: Timestamp,
    /// The report the event came from. A key recorded earlier by the *same* report is not a
    /// duplicate, so a report processed again after a restart (or re-parsed) keeps its events;
    /// repeats within one `dedup_check` batch are still duplicates.
    pub report_id: Uuid,
}

/// What [`crate::Store::event_counts`] counts: every event whose UTC day (of `time.source`,
/// else `time.observation`) is the day of `since` or later, routed to one of `org_ids` (all
/// events, routed or not, when `None`). The counts come from the rollups (`crate::rollup`), so
/// they are exact whatever the number of events.
#[derive(Debug, Clone)]
pub struct EventCountQuery {
    pub since: Timestamp,
    pub org_ids: Option<Vec<Uuid>>,
}

/// The events of one UTC day and classification type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayCount {
    /// Days since 1970-01-01 (UTC) of the event's time.
    pub day: i64,
    pub classification_type: Option<String>,
    pub events: u64,
}

/// Aggregates of events for overviews.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventCounts {
    /// By day, then type (no type first).
    pub by_day: Vec<DayCount>,
    /// Events per organisation they are routed to (among `org_ids`), most first, then by id; an
    /// event of several organisations counts for each of them (and once in `by_day`).
    pub by_org: Vec<(Uuid, u64)>,
}

#[cfg(test)]
mod filter_tests {
    use super::{EventFilterText, EventQuery};

    #[test]
    fn text_filters_read_as_the_search_reads_them() {
        let filters = EventFilterText {
            since: Some("2026-11-01T00:00:00Z"),
            ip: Some("192.0.2.7"),
            asn: Some("AS64500"),
            feed: Some("shadowserver"),
            text: Some(""),
            ..EventFilterText::default()
        };
        let query = EventQuery::from_text(&filters).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(query.since.map(|t| t.unix_timestamp()), Some(1_793_491_200));
        assert_eq!(query.network.map(|n| n.to_string()).as_deref(), Some("192.0.2.7/32"));
        assert_eq!(
            (query.asn, query.feed.as_deref(), query.text),
            (Some(64_500), Some("shadowserver"), None)
        );
        let error =
            |filters: EventFilterText<'_>| EventQuery::from_text(&filters).err().map(|e| e.to_string());
        let since = error(EventFilterText { since: Some("yesterday"), ..EventFilterText::default() });
        assert_eq!(
            since.as_deref(),
            Some("since: \"yesterday\" is not an RFC 3339 time such as 2026-11-01T00:00:00Z")
        );
        let ip = error(EventFilterText { ip: Some("192.0.2.300"), ..EventFilterText::default() });
        assert!(ip.is_some_and(|e| e.starts_with("ip: ")));
        let asn = error(EventFilterText { asn: Some("ASX"), ..EventFilterText::default() });
        assert!(asn.is_some_and(|e| e.starts_with("asn: ")));
    }
}
