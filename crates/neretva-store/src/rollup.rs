//! Event rollups: the number of events per UTC day and classification type, overall and per
//! organisation, which both backends keep (migration 20) in the transaction of every write that
//! adds or removes events, so overviews read a few rows per day instead of the events.
//!
//! An event counts on the day of its `time.source`, else its `time.observation`. Overall it
//! counts once; per organisation once for each organisation it is routed to. Its rows per
//! organisation carry the event's whole routing (`shared`: the sorted ids in upper-case hex,
//! empty for an event of one organisation), so a count over several organisations counts each
//! event once ([`scoped_day_counts`]).
//!
//! A write aggregates its events in an [`EventRollup`] in memory and then changes each key once;
//! a removal adds the events with a negative count.

use std::collections::HashMap;

use neretva_model::{Timestamp, Uuid};

use crate::feeds::DayCount;

/// Seconds in a day.
const DAY_SECONDS: i64 = 86_400;

/// The UTC day (days since 1970-01-01) of an event's time.
pub fn event_day(time: Timestamp) -> i64 {
    time.unix_timestamp().div_euclid(DAY_SECONDS)
}

/// The first UTC day at or after `since`'s day start: the day of `since`.
pub fn since_day(since: Timestamp) -> i64 {
    event_day(since)
}

/// Appends an organisation id as 32 upper-case hex digits (the form of `shared`).
fn push_hex(key: &mut String, id: Uuid) {
    let mut buffer = [0u8; 32];
    key.push_str(id.simple().encode_upper(&mut buffer));
}

/// Parses a run of organisation ids, 32 hex digits each (as `shared` and the backends' routing
/// lists hold them); `None` when it is not one.
pub fn parse_org_list(text: &str) -> Option<Vec<Uuid>> {
    if !text.len().is_multiple_of(32) {
        return None;
    }
    text.as_bytes()
        .chunks(32)
        .map(|hex| std::str::from_utf8(hex).ok().and_then(|hex| u128::from_str_radix(hex, 16).ok()))
        .map(|id| id.map(Uuid::from_u128))
        .collect()
}

/// One overall row's change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayDelta<'a> {
    pub day: i64,
    pub classification_type: Option<&'a str>,
    pub events: i64,
}

/// One organisation row's change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgDelta<'a> {
    pub org_id: Uuid,
    pub day: i64,
    pub classification_type: Option<&'a str>,
    /// The event's organisations when it has several, else empty.
    pub shared: &'a str,
    pub events: i64,
}

/// The changes a write makes to the rollups, aggregated per key.
#[derive(Debug, Default)]
pub struct EventRollup {
    /// The types seen, by index (a batch holds few).
    kinds: Vec<Option<String>>,
    /// The routings of several organisations seen, by index into `shared_keys`.
    sets: HashMap<Vec<Uuid>, u32>,
    shared_keys: Vec<String>,
    /// (day, type index) → events.
    days: HashMap<(i64, u32), i64>,
    /// (organisation, day, type index, shared index or `u32::MAX`) → events.
    orgs: HashMap<(Uuid, i64, u32, u32), i64>,
    scratch: Vec<Uuid>,
}

impl EventRollup {
    pub fn new() -> EventRollup {
        EventRollup::default()
    }

    fn kind_index(&mut self, kind: Option<&str>) -> u32 {
        match self.kinds.iter().position(|known| known.as_deref() == kind) {
            Some(index) => index as u32,
            None => {
                self.kinds.push(kind.map(str::to_owned));
                (self.kinds.len() - 1) as u32
            }
        }
    }

    /// Adds `events` events (negative to remove them) of one day, type and routing (in any
    /// order, repeats ignored).
    pub fn add(&mut self, day: i64, kind: Option<&str>, orgs: &[Uuid], events: i64) {
        if events == 0 {
            return;
        }
        let kind = self.kind_index(kind);
        *self.days.entry((day, kind)).or_default() += events;
        if orgs.is_empty() {
            return;
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        scratch.extend_from_slice(orgs);
        scratch.sort_unstable();
        scratch.dedup();
        let shared = if scratch.len() < 2 {
            u32::MAX
        } else if let Some(index) = self.sets.get(scratch.as_slice()) {
            *index
        } else {
            let mut key = String::with_capacity(32 * scratch.len());
            for org in &scratch {
                push_hex(&mut key, *org);
            }
            let index = self.shared_keys.len() as u32;
            self.shared_keys.push(key);
            self.sets.insert(scratch.clone(), index);
            index
        };
        for org in &scratch {
            *self.orgs.entry((*org, day, kind, shared)).or_default() += events;
        }
        self.scratch = scratch;
    }

    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.days.values().all(|events| *events == 0)
    }

    /// The overall changes, in key order (day, then no type first, then type), without zeros;
    /// writers that lock rows take them in this order, so they cannot deadlock one another.
    pub fn day_deltas(&self) -> Vec<DayDelta<'_>> {
        let mut deltas: Vec<DayDelta<'_>> = self
            .days
            .iter()
            .filter(|(_, events)| **events != 0)
            .map(|((day, kind), events)| DayDelta {
                day: *day,
                classification_type: self.kinds[*kind as usize].as_deref(),
                events: *events,
            })
            .collect();
        deltas.sort_unstable_by(|a, b| (a.day, a.classification_type).cmp(&(b.day, b.classification_type)));
        deltas
    }

    /// The changes per organisation, in key order, without zeros.
    pub fn org_deltas(&self) -> Vec<OrgDelta<'_>> {
        let mut deltas: Vec<OrgDelta<'_>> = self
            .orgs
            .iter()
            .filter(|(_, events)| **events != 0)
            .map(|((org_id, day, kind, shared), events)| OrgDelta {
                org_id: *org_id,
                day: *day,
                classification_type: self.kinds[*kind as usize].as_deref(),
                shared: self.shared_keys.get(*shared as usize).map_or("", String::as_str),
                events: *events,
            })
            .collect();
        deltas.sort_unstable_by(|a, b| {
            (a.org_id, a.day, a.classification_type, a.shared).cmp(&(
                b.org_id,
                b.day,
                b.classification_type,
                b.shared,
            ))
        });
        deltas
    }
}

/// One stored row of the rollup per organisation.
#[derive(Debug, Clone)]
pub struct OrgDayRow {
    pub org_id: Uuid,
    pub day: i64,
    pub classification_type: Option<String>,
    pub shared: String,
    pub events: i64,
}

/// Events by day and type among the organisations of `scope`, from their rows of the rollup per
/// organisation: an event routed to several of them counts once, on the row of the first of
/// them (in id order). Sorted by day, then type (no type first); without zeros.
pub fn scoped_day_counts(rows: &[OrgDayRow], scope: &[Uuid]) -> Vec<DayCount> {
    let mut scope = scope.to_vec();
    scope.sort_unstable();
    let mut sums: HashMap<(i64, Option<&str>), i64> = HashMap::new();
    for row in rows {
        if scope.binary_search(&row.org_id).is_err() {
            continue;
        }
        let counts_here = row.shared.is_empty()
            || parse_org_list(&row.shared)
                .and_then(|orgs| orgs.into_iter().find(|org| scope.binary_search(org).is_ok()))
                // A routing that does not parse counts on every row (it cannot be written so).
                .is_none_or(|first| first == row.org_id);
        if counts_here {
            *sums.entry((row.day, row.classification_type.as_deref())).or_default() += row.events;
        }
    }
    let mut counts: Vec<DayCount> = sums
        .into_iter()
        .filter(|(_, events)| *events > 0)
        .map(|((day, kind), events)| DayCount {
            day,
            classification_type: kind.map(str::to_owned),
            events: events as u64,
        })
        .collect();
    counts.sort_unstable_by(|a, b| (a.day, &a.classification_type).cmp(&(b.day, &b.classification_type)));
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(n: u128) -> Uuid {
        Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + n)
    }

    #[test]
    fn days_floor_before_1970() {
        let at = |seconds| Timestamp::from_unix_timestamp(seconds).expect("time");
        assert_eq!(event_day(at(0)), 0);
        assert_eq!(event_day(at(86_399)), 0);
        assert_eq!(event_day(at(86_400)), 1);
        assert_eq!(event_day(at(-1)), -1);
        assert_eq!(event_day(at(-86_400)), -1);
        assert_eq!(event_day(at(-86_401)), -2);
    }

    #[test]
    fn a_batch_aggregates_per_key_and_removals_cancel() {
        let mut rollup = EventRollup::new();
        rollup.add(3, Some("scanner"), &[org(2), org(1), org(2)], 1);
        rollup.add(3, Some("scanner"), &[org(1)], 1);
        rollup.add(3, None, &[], 1);
        rollup.add(2, Some("scanner"), &[org(1), org(2)], 1);
        let days = rollup.day_deltas();
        assert_eq!(
            days,
            [
                DayDelta { day: 2, classification_type: Some("scanner"), events: 1 },
                DayDelta { day: 3, classification_type: None, events: 1 },
                DayDelta { day: 3, classification_type: Some("scanner"), events: 2 },
            ]
        );
        let both = format!(
            "{}{}",
            org(1).simple().to_string().to_uppercase(),
            org(2).simple().to_string().to_uppercase()
        );
        let orgs: Vec<(Uuid, i64, &str, i64)> =
            rollup.org_deltas().iter().map(|d| (d.org_id, d.day, d.shared, d.events)).collect();
        assert_eq!(
            orgs,
            [
                (org(1), 2, both.as_str(), 1),
                (org(1), 3, "", 1),
                (org(1), 3, both.as_str(), 1),
                (org(2), 2, both.as_str(), 1),
                (org(2), 3, both.as_str(), 1),
            ]
        );
        assert_eq!(parse_org_list(&both), Some(vec![org(1), org(2)]));
        rollup.add(3, None, &[], -1);
        rollup.add(2, Some("scanner"), &[org(2), org(1)], -1);
        assert_eq!(rollup.day_deltas().len(), 1);
        assert_eq!(rollup.org_deltas().len(), 3);
        assert!(!rollup.is_empty());
        rollup.add(3, Some("scanner"), &[org(1), org(2)], -1);
        rollup.add(3, Some("scanner"), &[org(1)], -1);
        assert!(rollup.is_empty() && rollup.org_deltas().is_empty());
    }

    #[test]
    fn a_scope_counts_an_event_of_several_of_its_organisations_once() {
        let mut rollup = EventRollup::new();
        rollup.add(5, Some("scanner"), &[org(1), org(2), org(3)], 4);
        rollup.add(5, Some("scanner"), &[org(2)], 1);
        rollup.add(5, None, &[org(3)], 2);
        let rows: Vec<OrgDayRow> = rollup
            .org_deltas()
            .into_iter()
            .map(|d| OrgDayRow {
                org_id: d.org_id,
                day: d.day,
                classification_type: d.classification_type.map(str::to_owned),
                shared: d.shared.to_owned(),
                events: d.events,
            })
            .collect();
        let count = |kind: Option<&str>, events| DayCount {
            day: 5,
            classification_type: kind.map(str::to_owned),
            events,
        };
        assert_eq!(scoped_day_counts(&rows, &[org(2), org(3)]), [count(None, 2), count(Some("scanner"), 5)]);
        assert_eq!(scoped_day_counts(&rows, &[org(3)]), [count(None, 2), count(Some("scanner"), 4)]);
        assert_eq!(scoped_day_counts(&rows, &[org(1)]), [count(Some("scanner"), 4)]);
        assert_eq!(scoped_day_counts(&rows, &[org(4)]), []);
        assert_eq!(
            scoped_day_counts(&rows, &[org(1), org(2), org(3)]),
            [count(None, 2), count(Some("scanner"), 5)]
        );
    }
}
