//! When queued events are due: a schedule per organisation and classification type.
//!
//! Periodic schedules are boundaries in UTC: every hour on the hour, every day at `hour`, every
//! week on Monday at `hour`. An event is due once the latest boundary at or before `now` lies
//! after the time it was queued, so a digest holds exactly what was queued during the period
//! before it, and a restart or a missed run loses nothing (the next run sends what is due).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use neretva_model::Uuid;
use time::{Duration, OffsetDateTime, Time};

use crate::NotifyError;

/// How often an organisation hears about a kind of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Schedule {
    /// At the next run of the notifier.
    Immediate,
    Hourly,
    Daily,
    Weekly,
}

impl Schedule {
    pub const ALL: [Schedule; 4] = [Schedule::Immediate, Schedule::Hourly, Schedule::Daily, Schedule::Weekly];

    pub fn as_str(self) -> &'static str {
        match self {
            Schedule::Immediate => "immediate",
            Schedule::Hourly => "hourly",
            Schedule::Daily => "daily",
            Schedule::Weekly => "weekly",
        }
    }

    /// The latest boundary of this schedule at or before `now` (`now` itself for
    /// [`Schedule::Immediate`]); `hour` is the hour of day (UTC) of daily and weekly digests.
    pub fn period_start(self, now: OffsetDateTime, hour: u8) -> OffsetDateTime {
        let now = now.to_offset(time::UtcOffset::UTC);
        let at_hour = |date: time::Date| {
            date.with_time(Time::from_hms(hour.min(23), 0, 0).unwrap_or(Time::MIDNIGHT)).assume_utc()
        };
        match self {
            Schedule::Immediate => now,
            Schedule::Hourly => now.replace_time(Time::from_hms(now.hour(), 0, 0).unwrap_or(Time::MIDNIGHT)),
            Schedule::Daily => {
                let today = at_hour(now.date());
                if today <= now { today } else { today - Duration::days(1) }
            }
            Schedule::Weekly => {
                let monday = now.date() - Duration::days(i64::from(now.weekday().number_days_from_monday()));
                let this_week = at_hour(monday);
                if this_week <= now { this_week } else { this_week - Duration::weeks(1) }
            }
        }
    }

    /// Whether an event queued at `queued_at` is due at `now`.
    pub fn is_due(self, queued_at: OffsetDateTime, now: OffsetDateTime, hour: u8) -> bool {
        match self {
            Schedule::Immediate => queued_at <= now,
            _ => queued_at < self.period_start(now, hour),
        }
    }

    /// The earliest time at which an event queued at `queued_at` is due: `queued_at` itself for
    /// [`Schedule::Immediate`], else the first boundary after it.
    pub fn next_due(self, queued_at: OffsetDateTime, hour: u8) -> OffsetDateTime {
        let period = match self {
            Schedule::Immediate => return queued_at,
            Schedule::Hourly => Duration::hours(1),
            Schedule::Daily => Duration::days(1),
            Schedule::Weekly => Duration::weeks(1),
        };
        self.period_start(queued_at, hour) + period
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Schedule {
    type Err = NotifyError;
    fn from_str(input: &str) -> Result<Schedule, NotifyError> {
        Schedule::ALL.into_iter().find(|s| s.as_str() == input.trim()).ok_or_else(|| NotifyError::Config {
            field: "schedule".into(),
            message: format!("unknown schedule {input:?}; expected immediate, hourly, daily or weekly"),
        })
    }
}

/// The schedules of every organisation: defaults per classification type, overrides per
/// organisation and type, and the hour of day (UTC) of daily and weekly digests.
#[derive(Debug, Clone)]
pub struct Schedules {
    /// The schedule of types without one of their own.
    pub default: Schedule,
    /// Per classification type (IntelMQ's slugs, e.g. `infected-system`).
    pub by_type: BTreeMap<String, Schedule>,
    /// Per organisation: its default (when set) and its types.
    pub by_org: BTreeMap<Uuid, OrgSchedule>,
    pub hour: u8,
}

/// An organisation's own schedules.
#[derive(Debug, Clone, Default)]
pub struct OrgSchedule {
    pub default: Option<Schedule>,
    pub by_type: BTreeMap<String, Schedule>,
}

impl Default for Schedules {
    /// Daily at 06:00 UTC; compromised systems, infected systems and C2 servers immediately.
    fn default() -> Schedules {
        let by_type = [
            "infected-system",
            "c2-server",
            "system-compromise",
            "privileged-account-compromise",
            "unprivileged-account-compromise",
            "application-compromise",
        ]
        .into_iter()
        .map(|slug| (slug.to_owned(), Schedule::Immediate))
        .collect();
        Schedules { default: Schedule::Daily, by_type, by_org: BTreeMap::new(), hour: 6 }
    }
}

impl Schedules {
    /// The schedule of `classification_type` for `org`: the organisation's for the type, then
    /// the organisation's default, then the type's, then the default.
    pub fn of(&self, org: Uuid, classification_type: &str) -> Schedule {
        let own = self.by_org.get(&org);
        own.and_then(|o| o.by_type.get(classification_type).copied())
            .or_else(|| own.and_then(|o| o.default))
            .or_else(|| self.by_type.get(classification_type).copied())
            .unwrap_or(self.default)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn period_boundaries() {
        // A Wednesday.
        let now = datetime!(2026-11-25 10:17:03 UTC);
        assert_eq!(Schedule::Hourly.period_start(now, 6), datetime!(2026-11-25 10:00 UTC));
        assert_eq!(Schedule::Daily.period_start(now, 6), datetime!(2026-11-25 6:00 UTC));
        assert_eq!(Schedule::Daily.period_start(now, 12), datetime!(2026-11-24 12:00 UTC));
        assert_eq!(Schedule::Weekly.period_start(now, 6), datetime!(2026-11-23 6:00 UTC));
        // Monday before the hour belongs to the week before.
        let monday = datetime!(2026-11-23 5:59 UTC);
        assert_eq!(Schedule::Weekly.period_start(monday, 6), datetime!(2026-11-16 6:00 UTC));
    }

    #[test]
    fn events_are_due_after_the_boundary_that_follows_them() {
        let hour = 6;
        let queued = datetime!(2026-11-25 7:00 UTC);
        assert!(Schedule::Immediate.is_due(queued, queued, hour));
        assert!(!Schedule::Daily.is_due(queued, datetime!(2026-11-26 5:59 UTC), hour));
        assert!(Schedule::Daily.is_due(queued, datetime!(2026-11-26 6:00 UTC), hour));
        assert!(!Schedule::Hourly.is_due(queued, datetime!(2026-11-25 7:59 UTC), hour));
        assert!(Schedule::Hourly.is_due(queued, datetime!(2026-11-25 8:00 UTC), hour));
        assert!(!Schedule::Weekly.is_due(queued, datetime!(2026-11-30 5:00 UTC), hour));
        assert!(Schedule::Weekly.is_due(queued, datetime!(2026-11-30 6:00 UTC), hour));
    }

    #[test]
    fn next_due_is_the_first_moment_an_event_is_due() {
        let hour = 6;
        for queued in
            [datetime!(2026-11-25 7:00 UTC), datetime!(2026-11-23 6:00 UTC), datetime!(2026-11-29 23:59 UTC)]
        {
            for schedule in Schedule::ALL {
                let due = schedule.next_due(queued, hour);
                assert!(schedule.is_due(queued, due, hour), "{schedule} {queued}");
                if schedule != Schedule::Immediate {
                    assert!(
                        !schedule.is_due(queued, due - Duration::seconds(1), hour),
                        "{schedule} {queued}"
                    );
                }
            }
        }
        let queued = datetime!(2026-11-25 7:00 UTC);
        assert_eq!(Schedule::Daily.next_due(queued, hour), datetime!(2026-11-26 6:00 UTC));
        assert_eq!(Schedule::Weekly.next_due(queued, hour), datetime!(2026-11-30 6:00 UTC));
        assert_eq!(Schedule::Hourly.next_due(queued, hour), datetime!(2026-11-25 8:00 UTC));
    }

    #[test]
    fn organisation_overrides_win() {
        let org = Uuid::from_u128(1);
        let mut schedules = Schedules::default();
        assert_eq!(schedules.of(org, "infected-system"), Schedule::Immediate);
        assert_eq!(schedules.of(org, "scanner"), Schedule::Daily);
        schedules.by_org.insert(
            org,
            OrgSchedule {
                default: Some(Schedule::Weekly),
                by_type: [("c2-server".to_owned(), Schedule::Hourly)].into_iter().collect(),
            },
        );
        assert_eq!(schedules.of(org, "c2-server"), Schedule::Hourly);
        assert_eq!(schedules.of(org, "infected-system"), Schedule::Weekly);
        assert_eq!(schedules.of(Uuid::from_u128(2), "infected-system"), Schedule::Immediate);
        assert_eq!("weekly".parse::<Schedule>().unwrap(), Schedule::Weekly);
        assert!("monthly".parse::<Schedule>().is_err());
    }
}
