//! Incident statistics: counts by RSIT type, sector, level of authority and month, and the
//! times to triage and to resolve.
//!
//! Times are measured from an incident's creation: to triage until triage ended (its first move
//! out of `triage`), to resolve until its latest resolution. Incidents without that moment are
//! not counted in that time, nor are negative durations (inconsistent data).
//!
//! Percentiles use the nearest-rank method: the p-th percentile is the smallest value with at
//! least p % of the values at or below it, so it is always an observed value; the median is the
//! 50th percentile by the same rule (the lower of the two middle values for an even count).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Timestamp;
use crate::classification::RsitClass;
use crate::deadline::CivilZone;
use crate::incident::Incident;

/// One incident as the statistics see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsRecord {
    pub classification: RsitClass,
    /// The NIS2 sector slug of the affected entity.
    pub sector: Option<String>,
    /// The affected entity's level of authority.
    pub authority_level: Option<String>,
    #[serde(with = "crate::utc")]
    pub created_at: Timestamp,
    #[serde(with = "crate::utc::option")]
    pub triaged_at: Option<Timestamp>,
    #[serde(with = "crate::utc::option")]
    pub resolved_at: Option<Timestamp>,
}

impl StatsRecord {
    /// The record of an incident, given the sector and level of authority of the entity it affected.
    pub fn of(incident: &Incident, sector: Option<&str>, authority_level: Option<&str>) -> StatsRecord {
        StatsRecord {
            classification: incident.classification,
            sector: sector.map(str::to_owned),
            authority_level: authority_level.map(str::to_owned),
            created_at: incident.created_at,
            triaged_at: incident.triaged_at,
            resolved_at: incident.resolved_at,
        }
    }
}

/// A count by one key; `key` is `unspecified` for incidents without a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyCount {
    pub key: String,
    pub count: u64,
}

/// Durations in whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DurationStats {
    pub count: u64,
    pub median_seconds: i64,
    pub p90_seconds: i64,
    pub max_seconds: i64,
}

/// The statistics of a set of incidents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statistics {
    pub total: u64,
    /// In RSIT order.
    pub by_rsit_type: Vec<KeyCount>,
    /// In RSIT order.
    pub by_rsit_taxonomy: Vec<KeyCount>,
    /// Sorted by key.
    pub by_sector: Vec<KeyCount>,
    /// Sorted by key.
    pub by_authority_level: Vec<KeyCount>,
    /// `YYYY-MM` of creation in the civil zone, oldest first.
    pub by_month: Vec<KeyCount>,
    pub time_to_triage: Option<DurationStats>,
    pub time_to_resolve: Option<DurationStats>,
}

/// The nearest-rank percentile of sorted values; `None` when there are none.
pub fn percentile(sorted: &[i64], percent: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len() as u64;
    let rank = (u64::from(percent) * n).div_ceil(100).clamp(1, n);
    sorted.get(usize::try_from(rank - 1).ok()?).copied()
}

fn durations(values: impl Iterator<Item = i64>) -> Option<DurationStats> {
    let mut values: Vec<i64> = values.filter(|seconds| *seconds >= 0).collect();
    values.sort_unstable();
    Some(DurationStats {
        count: values.len() as u64,
        median_seconds: percentile(&values, 50)?,
        p90_seconds: percentile(&values, 90)?,
        max_seconds: *values.last()?,
    })
}

fn counts(keys: impl Iterator<Item = String>) -> Vec<KeyCount> {
    let mut map: BTreeMap<String, u64> = BTreeMap::new();
    for key in keys {
        *map.entry(key).or_default() += 1;
    }
    map.into_iter().map(|(key, count)| KeyCount { key, count }).collect()
}

fn unspecified(value: Option<&String>) -> String {
    value.cloned().unwrap_or_else(|| "unspecified".to_owned())
}

/// Computes the statistics; months are counted in `zone`.
pub fn statistics(records: &[StatsRecord], zone: CivilZone) -> Statistics {
    let mut by_type: Vec<(RsitClass, u64)> = Vec::new();
    for record in records {
        match by_type.iter_mut().find(|(class, _)| *class == record.classification) {
            Some((_, count)) => *count += 1,
            None => by_type.push((record.classification, 1)),
        }
    }
    by_type.sort_by_key(|(class, _)| *class);
    let mut by_taxonomy: Vec<KeyCount> = Vec::new();
    for (class, count) in &by_type {
        match by_taxonomy.iter_mut().find(|c| c.key == class.taxonomy()) {
            Some(existing) => existing.count += count,
            None => by_taxonomy.push(KeyCount { key: class.taxonomy().to_owned(), count: *count }),
        }
    }
    Statistics {
        total: records.len() as u64,
        by_rsit_type: by_type
            .into_iter()
            .map(|(class, count)| KeyCount { key: class.slug().to_owned(), count })
            .collect(),
        by_rsit_taxonomy: by_taxonomy,
        by_sector: counts(records.iter().map(|r| unspecified(r.sector.as_ref()))),
        by_authority_level: counts(records.iter().map(|r| unspecified(r.authority_level.as_ref()))),
        by_month: counts(records.iter().map(|r| {
            let local = zone.to_local(r.created_at);
            format!("{:04}-{:02}", local.year(), u8::from(local.month()))
        })),
        time_to_triage: durations(
            records.iter().filter_map(|r| r.triaged_at.map(|t| (t - r.created_at).whole_seconds())),
        ),
        time_to_resolve: durations(
            records.iter().filter_map(|r| r.resolved_at.map(|t| (t - r.created_at).whole_seconds())),
        ),
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use time::macros::datetime;

    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[1, 2, 3, 4], 50), Some(2));
        assert_eq!(percentile(&[1, 2, 3, 4, 5], 50), Some(3));
        let hundred: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&hundred, 90), Some(90));
        assert_eq!(percentile(&(1..=10).collect::<Vec<_>>(), 90), Some(9));
        assert_eq!(percentile(&(1..=11).collect::<Vec<_>>(), 90), Some(10));
    }

    fn record(
        class: &str,
        sector: Option<&str>,
        level: Option<&str>,
        created: Timestamp,
        triage_minutes: Option<i64>,
        resolve_hours: Option<i64>,
    ) -> StatsRecord {
        StatsRecord {
            classification: class.parse().unwrap(),
            sector: sector.map(str::to_owned),
            authority_level: level.map(str::to_owned),
            created_at: created,
            triaged_at: triage_minutes.map(|m| created + Duration::minutes(m)),
            resolved_at: resolve_hours.map(|h| created + Duration::hours(h)),
        }
    }

    #[test]
    fn counts_and_times() {
        let records = [
            record(
                "phishing",
                Some("banking"),
                Some("State"),
                datetime!(2025-01-31 23:30 UTC),
                Some(30),
                Some(10),
            ),
            record(
                "ddos",
                Some("energy"),
                Some("Republika Srpska"),
                datetime!(2025-01-10 8:00 UTC),
                Some(90),
                None,
            ),
            record("phishing", Some("banking"), None, datetime!(2025-02-10 8:00 UTC), Some(10), Some(2)),
            record("infected-system", None, Some("State"), datetime!(2025-03-01 8:00 UTC), None, None),
            record(
                "masquerade",
                Some("banking"),
                Some("State"),
                datetime!(2025-03-02 8:00 UTC),
                Some(-5),
                Some(30),
            ),
        ];
        let stats = statistics(&records, CivilZone::default());
        let pairs =
            |counts: &[KeyCount]| counts.iter().map(|c| format!("{}={}", c.key, c.count)).collect::<Vec<_>>();
        assert_eq!(stats.total, 5);
        assert_eq!(pairs(&stats.by_rsit_type), ["infected-system=1", "ddos=1", "masquerade=1", "phishing=2"]);
        assert_eq!(pairs(&stats.by_rsit_taxonomy), ["malicious-code=1", "availability=1", "fraud=3"]);
        assert_eq!(pairs(&stats.by_sector), ["banking=3", "energy=1", "unspecified=1"]);
        assert_eq!(pairs(&stats.by_authority_level), ["Republika Srpska=1", "State=3", "unspecified=1"]);
        // 31 January 23:30 UTC is February in Central European Time.
        assert_eq!(pairs(&stats.by_month), ["2025-01=1", "2025-02=2", "2025-03=2"]);
        assert_eq!(
            stats.time_to_triage,
            Some(DurationStats {
                count: 3,
                median_seconds: 30 * 60,
                p90_seconds: 90 * 60,
                max_seconds: 90 * 60
            })
        );
        assert_eq!(
            stats.time_to_resolve,
            Some(DurationStats {
                count: 3,
                median_seconds: 10 * 3600,
                p90_seconds: 30 * 3600,
                max_seconds: 30 * 3600
            })
        );
        assert_eq!(statistics(&[], CivilZone::Utc).time_to_triage, None);
    }
}
