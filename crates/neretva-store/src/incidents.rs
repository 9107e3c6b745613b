//! Storage types of incident handling: constituents' incident reports, e-mail intake, incidents
//! with their tasks, observables, timeline, links and evidence, and the chain of custody.
//!
//! The domain objects are `neretva_incident`'s; this module adds what storing them needs: the
//! version that guards concurrent changes, the denormalised queue order, the shape of one write,
//! and the queries with their cursors.
//!
//! A change to incidents is an [`IncidentWrite`] per incident, computed by the caller from the
//! stored state with the domain functions; `Store::write_incidents` applies a batch of them in
//! one transaction with one audit entry each, and refuses the whole batch when an incident
//! changed since it was read (`StoreError::Conflict` on `version`).

use neretva_incident::classification::RsitClass;
use neretva_incident::deadline::DeadlineInput;
use neretva_incident::evidence::{CustodyRecord, Evidence};
use neretva_incident::incident::{Incident, Severity};
use neretva_incident::intake::IntakeRecord;
use neretva_incident::link::Link;
use neretva_incident::observable::{Observable, ObservableEntry};
use neretva_incident::playbook::Task;
use neretva_incident::report::IncidentReport;
use neretva_incident::timeline::TimelineEntry;
use neretva_incident::workflow::Status;
use neretva_model::{Timestamp, Uuid};

/// The most event links kept per observable; `ObservableMatches::total` counts beyond it.
pub const MAX_MATCHES: usize = 1_000;

/// An incident as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIncident {
    pub incident: Incident,
    /// 1 when created, incremented by every write; a write naming an older version is refused.
    pub version: i64,
    /// What the incident's deadlines are computed from, when it has any (it has an awareness
    /// time); the states are computed at read time from this and the clock.
    pub deadlines: Option<DeadlineInput>,
    /// The earliest due time of the open obligations, as of the last write: the queue's order.
    pub next_due: Option<Timestamp>,
}

/// One observable of an incident, with how many stored feed events matched it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObservable {
    pub incident_id: Uuid,
    pub entry: ObservableEntry,
    /// The matches found when it was last matched, if it was.
    pub matches: Option<MatchSummary>,
}

/// How many events matched an observable, and when that was established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchSummary {
    /// Matching events found; at most [`MAX_MATCHES`] are linked.
    pub total: u64,
    /// False when the search stopped at its bound, so `total` is a lower bound.
    pub complete: bool,
    pub matched_at: Timestamp,
}

/// Stored feed events that match an observable, replaced whenever it is matched again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservableMatches {
    /// Matching events (at most [`MAX_MATCHES`]) with the IntelMQ fields that matched.
    pub events: Vec<MatchedEvent>,
    pub summary: MatchSummary,
}

/// One event that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedEvent {
    pub event_id: Uuid,
    pub fields: Vec<String>,
}

/// Feed events found to match an observable after it was matched (stored later, or examined by
/// a re-match), to be added to its links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchAddition {
    pub observable: Observable,
    pub events: Vec<MatchedEvent>,
}

/// What adding matches did to one observable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MatchesAdded {
    /// Events linked now that were not linked before.
    pub linked: u64,
    /// Events that matched but found the links full ([`MAX_MATCHES`]): the count became a lower
    /// bound.
    pub over_limit: u64,
}

/// An observable added to an incident, with the feed events it matched (computed by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservableWrite {
    pub entry: ObservableEntry,
    /// `None` leaves earlier matches of the same observable as they are.
    pub matches: Option<ObservableMatches>,
}

/// Everything one change writes about one incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentWrite {
    /// The incident's new state.
    pub incident: Incident,
    /// `None` creates the incident; `Some(version)` updates it only while its stored version is
    /// still `version`.
    pub expected_version: Option<i64>,
    /// The audit action, e.g. `incident.transition`.
    pub action: String,
    pub deadlines: Option<DeadlineInput>,
    pub next_due: Option<Timestamp>,
    /// How the lists below apply.
    pub children: Children,
    /// Timeline entries to append (with `Children::Append`) or the whole timeline.
    pub timeline: Vec<TimelineEntry>,
    /// Tasks to insert or replace (by id), or every task.
    pub tasks: Vec<Task>,
    /// Observables to add (an observable already there is replaced), or every observable.
    pub observables: Vec<ObservableWrite>,
    /// Observables to remove (`Children::Append` only).
    pub removed_observables: Vec<Observable>,
    /// Links to add from this incident, or every link touching it.
    pub links: Vec<Link>,
    /// Links to remove (`Children::Append` only), in either direction.
    pub removed_links: Vec<Link>,
    /// Evidence to add, or every item; an item already there is refused (`Append`) or kept.
    pub evidence: Vec<Evidence>,
    /// Custody records to append (new chains, or records following stored ones).
    pub custody: Vec<CustodyRecord>,
}

/// Whether an [`IncidentWrite`]'s lists add to what is stored or replace it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Children {
    /// Add the listed entries, tasks, observables, links and evidence to the stored ones.
    Append,
    /// The lists are complete: what is stored and not listed goes (merging incidents).
    Replace,
}

impl IncidentWrite {
    /// A write of the incident's new state with nothing else yet.
    pub fn new(
        incident: Incident,
        expected_version: Option<i64>,
        action: impl Into<String>,
    ) -> IncidentWrite {
        IncidentWrite {
            incident,
            expected_version,
            action: action.into(),
            deadlines: None,
            next_due: None,
            children: Children::Append,
            timeline: Vec::new(),
            tasks: Vec::new(),
            observables: Vec::new(),
            removed_observables: Vec::new(),
            links: Vec::new(),
            removed_links: Vec::new(),
            evidence: Vec::new(),
            custody: Vec::new(),
        }
    }
}

/// Where an incident report came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportChannel {
    /// Submitted through the API (or the portal on top of it).
    Api,
    /// Filed by the CERT from another channel (telephone, the regulator's form).
    Staff,
}

impl ReportChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportChannel::Api => "api",
            ReportChannel::Staff => "staff",
        }
    }

    pub fn parse(text: &str) -> Option<ReportChannel> {
        match text {
            "api" => Some(ReportChannel::Api),
            "staff" => Some(ReportChannel::Staff),
            _ => None,
        }
    }
}

/// A constituent's incident report at one NIS2 stage, stored with the incident it opened or
/// follows up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIncidentReport {
    pub id: Uuid,
    pub incident_id: Uuid,
    /// The reporting organisation.
    pub org_id: Option<Uuid>,
    /// The user who submitted it.
    pub submitted_by: Option<Uuid>,
    pub channel: ReportChannel,
    pub received_at: Timestamp,
    pub report: IncidentReport,
}

/// An e-mail taken in, and the incident it opened (none when it failed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIntake {
    pub record: IntakeRecord,
    pub incident_id: Option<Uuid>,
}

/// Which incidents a non-staff principal might see, for narrowing a search in the database
/// before `may_see` decides row by row: an incident matches when it is shared (`TLP:CLEAR` or
/// `TLP:GREEN`), assigned to `user_id`, or concerns (reports or affects) one of `org_ids` or an
/// organisation in one of `sectors`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncidentScope {
    pub user_id: Option<Uuid>,
    pub org_ids: Vec<Uuid>,
    pub sectors: Vec<String>,
}

/// The order of an incident listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncidentOrder {
    /// Newest first (by id, UUID v7).
    #[default]
    Newest,
    /// The analyst queue: the earliest open deadline first, incidents without one last (oldest
    /// first among them).
    Queue,
}

/// Where the next page of a listing starts: after this incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncidentCursor {
    pub id: Uuid,
    /// The incident's `next_due` (queue order only).
    pub next_due: Option<Timestamp>,
}

/// Filters of an incident listing; every filter narrows the result.
#[derive(Debug, Clone, Default)]
pub struct IncidentQuery {
    /// Text contained in the title, the description or an observable's value, ignoring the case
    /// of ASCII letters.
    pub text: Option<String>,
    /// Only these statuses; empty for all.
    pub statuses: Vec<Status>,
    pub severity: Option<Severity>,
    pub classification: Option<RsitClass>,
    /// Only incidents reported by or affecting this organisation.
    pub org_id: Option<Uuid>,
    pub assignee: Option<Uuid>,
    /// Only incidents with this observable.
    pub observable: Option<Observable>,
    /// Created at or after …
    pub created_since: Option<Timestamp>,
    /// … and before.
    pub created_until: Option<Timestamp>,
    /// Only incidents with an open deadline due before this time (the deadline feed).
    pub due_before: Option<Timestamp>,
    /// Leave out incidents merged into another.
    pub exclude_merged: bool,
    /// `None` for every incident (operator staff); see [`IncidentScope`].
    pub scope: Option<IncidentScope>,
    pub order: IncidentOrder,
    pub after: Option<IncidentCursor>,
    /// 0 means 100; at most 10,000.
    pub limit: u32,
}

/// Filters of the incident report listing, newest first.
#[derive(Debug, Clone, Default)]
pub struct IncidentReportQuery {
    pub incident_id: Option<Uuid>,
    /// `None` for every report; see [`IncidentScope`] (reports are shared by their TLP too).
    pub scope: Option<IncidentScope>,
    pub before: Option<Uuid>,
    /// 0 means 100; at most 10,000.
    pub limit: u32,
}

/// Filters of the e-mail intake listing, newest first.
#[derive(Debug, Clone, Default)]
pub struct IntakeQuery {
    /// Only failed (`Some(true)`) or parsed (`Some(false)`) messages.
    pub failed: Option<bool>,
    pub before: Option<Uuid>,
    /// 0 means 100; at most 10,000.
    pub limit: u32,
}

/// A stored blob the evidence store must hold: an evidence item or a raw e-mail.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct BlobRef {
    pub sha256: neretva_incident::evidence::Sha256,
    pub size: u64,
}

/// The page size of a limit as the queries take it: 0 is the default, larger is capped.
pub fn page_limit(limit: u32) -> u32 {
    match limit {
        0 => 100,
        limit => limit.min(10_000),
    }
}

/// The normalised text an incident is searched by: its title, description and observable
/// values, ASCII letters in lower case (as the queries fold their text), one per line.
pub fn search_text(incident: &Incident, observables: &[&str]) -> String {
    let mut text = String::with_capacity(incident.title.len() + incident.description.len() + 64);
    text.push_str(&incident.title);
    text.push('\n');
    text.push_str(&incident.description);
    for value in observables {
        text.push('\n');
        text.push_str(value);
    }
    text.make_ascii_lowercase();
    text
}

/// A search text as the queries compare it: ASCII letters in lower case, with `%`, `_` and `\`
/// escaped for `LIKE … ESCAPE '\'`.
pub fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c.to_ascii_lowercase());
    }
    pattern.push('%');
    pattern
}
