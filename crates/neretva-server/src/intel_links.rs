//! Correlation of intel events with incident observables and stored feed events, run after an
//! event is written (by the API and the command line) and stored with the event.
//!
//! Candidates come from bounded store lookups: [`neretva_store::intel::observable_probes`] over
//! the incidents' observables, and per value part one event query (an address or network
//! through the event index, other values as text in the event) reading at most
//! [`neretva_store::intel::CORRELATION_LIMIT`] + 1 events. The correlation engine confirms every
//! candidate, honours the warning lists and marks values met too often as over-correlating.
//! Nothing here decides who sees a link: readers filter them (`api::intel::correlations`).

use std::collections::BTreeSet;
use std::net::IpAddr;

use neretva_intel::model::IntelEvent;
use neretva_intel::value::{self, FEED_EVENT_FIELDS, Part};
use neretva_intel::warninglist::WarningLists;
use neretva_store::feeds::EventQuery;
use neretva_store::intel::{
    CORRELATION_LIMIT, ExternalCorrelations, FeedValue, correlate_external, observable_probes,
};
use neretva_store::{Store, StoreError};

/// The most event queries one intel event makes.
pub const MAX_FEED_QUERIES: usize = 2_000;

/// One event query per distinct value part of the event's live attributes that a feed event
/// can hold, warning-listed values left out.
pub fn feed_queries(event: &IntelEvent, warninglists: &WarningLists) -> Vec<EventQuery> {
    let per_query = u32::try_from(CORRELATION_LIMIT + 1).unwrap_or(u32::MAX);
    let feed_types: BTreeSet<&str> = FEED_EVENT_FIELDS.iter().map(|(_, attr_type)| *attr_type).collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (_, attribute) in event.all_attributes().filter(|(_, attribute)| !attribute.deleted) {
        if !warninglists.check(&attribute.attr_type, &attribute.value).is_empty() {
            continue;
        }
        for part in value::parts(&attribute.attr_type, &attribute.value) {
            let query = match part {
                Part::Network(network) => {
                    if !seen.insert(format!("n:{network}")) {
                        continue;
                    }
                    EventQuery { network: Some(network), limit: per_query, ..EventQuery::default() }
                }
                Part::Host(name) => {
                    if !seen.insert(format!("t:{name}")) || name.parse::<IpAddr>().is_ok() {
                        continue;
                    }
                    EventQuery { text: Some(name.to_owned()), limit: per_query, ..EventQuery::default() }
                }
                Part::Exact(text) => {
                    if !feed_types.contains(attribute.attr_type.as_str()) || !seen.insert(format!("t:{text}"))
                    {
                        continue;
                    }
                    EventQuery { text: Some(text.to_owned()), limit: per_query, ..EventQuery::default() }
                }
            };
            out.push(query);
            if out.len() == MAX_FEED_QUERIES {
                return out;
            }
        }
    }
    out
}

/// Finds and stores an event's correlations with incident observables and feed events.
pub async fn refresh(store: &dyn Store, event: &IntelEvent) -> Result<ExternalCorrelations, StoreError> {
    let warninglists = WarningLists::default();
    let per_probe = u32::try_from(CORRELATION_LIMIT + 1).unwrap_or(u32::MAX);
    let observables = store.find_observables(&observable_probes(event), per_probe).await?;
    let mut feed_values = Vec::new();
    for query in feed_queries(event, &warninglists) {
        for stored in store.query_events(&query).await? {
            let Ok(parsed) = neretva_event::intelmq_json::from_line(&stored.event.json) else { continue };
            for (attr_type, value) in value::feed_event_values(&parsed) {
                feed_values.push(FeedValue { event: stored.event.id, attr_type, value });
            }
        }
    }
    let found = correlate_external(event, &observables, &feed_values, &warninglists);
    store.put_intel_external_correlations(event.uuid, &found).await?;
    Ok(found)
}

/// [`refresh`] after a write that succeeded: a failure is logged, not returned, since the event
/// is stored; its next write correlates it again.
pub async fn refresh_after_write(store: &dyn Store, event: &IntelEvent) {
    if let Err(error) = refresh(store, event).await {
        tracing::warn!(event = %event.uuid, %error, "Correlating an intel event with incidents and feed events failed.");
    }
}
