//! Reporting deadlines: what is owed, by whom, by when, and how it stands.
//!
//! [`obligations`] turns the moment the entity became aware, the history of submitted reports
//! and the CSIRT's own answers into a list of [`Obligation`]s:
//!
//! | obligation | owed by | due | met by |
//! |---|---|---|---|
//! | early warning, NIS2 Art. 23(4)(a) | entity | awareness + 24 h | the first report of any stage but intermediate |
//! | incident notification, (b) | entity | awareness + 72 h (24 h for trust service providers) | the first notification or final report |
//! | CSIRT feedback, Art. 23(5) | CSIRT | first early warning (or notification, if it came first) + 24 h | the CSIRT's first feedback |
//! | intermediate report, (c) | entity | the date the CSIRT or authority set in its request | an intermediate, progress or final report after the request |
//! | final report, (d) | entity | one month after the notification | the first final report |
//! | progress report, (e) | entity | the final report's due time, when the incident is still being handled then | a progress or final report |
//! | final report after a progress report, (e) | entity | one month after handling ended | the first final report |
//! | GDPR notification, Art. 33(1) | controller | breach awareness + 72 h | the notification to the data protection authority |
//!
//! **Hours are elapsed time**: 24 h is 86,400 seconds on the UTC time line, whatever the clocks do
//! (across the end of summer time, 24 hours after 12:00 is 11:00 local time).
//!
//! **A month is a calendar month in the deployment's civil time zone** ([`CivilZone`]): the
//! same local time on the same day of the next month; when that month is shorter, the last day
//! of that month (a notification on 31 January is due a final report on 28 or 29 February, at
//! the same local time). A local time that does not exist (skipped when summer time starts)
//! becomes the instant the clocks jumped past it (02:30 becomes 03:30 summer time); one that
//! exists twice (when summer time ends) is the earlier instant. Regulation (EEC, Euratom)
//! No 1182/71 would let a period in months run to the end of that day; the same-time reading is
//! stricter, so a deadline shown here is never later than the legal one.
//!
//! Until the notification is submitted, the final report is counted from the notification's due
//! time. While the incident is still being handled after the final report's due time, the
//! progress report takes its place and the final report is listed again once handling has ended.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime, PrimitiveDateTime, UtcOffset, Weekday};

use uuid::Uuid;

use crate::Timestamp;
use crate::report::StageKind;

/// The civil time zone in which calendar months are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CivilZone {
    Utc,
    /// A fixed offset from UTC, in minutes.
    Fixed {
        offset_minutes: i16,
    },
    /// A standard offset with the European Union's summer time (Directive 2000/84/EC): one hour
    /// ahead from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of
    /// October. Central European Time, as in Bosnia and Herzegovina, is 60 minutes.
    EuropeanUnion {
        standard_offset_minutes: i16,
    },
}

impl Default for CivilZone {
    /// Central European Time with summer time.
    fn default() -> CivilZone {
        CivilZone::EuropeanUnion { standard_offset_minutes: 60 }
    }
}

fn offset(minutes: i32) -> UtcOffset {
    UtcOffset::from_whole_seconds(minutes * 60).unwrap_or(UtcOffset::UTC)
}

/// 01:00 UTC on the last Sunday of `month` of `year`.
fn last_sunday_0100_utc(year: i32, month: time::Month) -> Option<OffsetDateTime> {
    let days = month.length(year);
    let mut date = time::Date::from_calendar_date(year, month, days).ok()?;
    while date.weekday() != Weekday::Sunday {
        date = date.previous_day()?;
    }
    Some(date.with_hms(1, 0, 0).ok()?.assume_utc())
}

impl CivilZone {
    /// The offset from UTC in force at an instant.
    pub fn offset_at(self, at: Timestamp) -> UtcOffset {
        match self {
            CivilZone::Utc => UtcOffset::UTC,
            CivilZone::Fixed { offset_minutes } => offset(i32::from(offset_minutes)),
            CivilZone::EuropeanUnion { standard_offset_minutes } => {
                let year = at.to_offset(UtcOffset::UTC).year();
                let start = last_sunday_0100_utc(year, time::Month::March);
                let end = last_sunday_0100_utc(year, time::Month::October);
                let summer = matches!((start, end), (Some(start), Some(end)) if at >= start && at < end);
                offset(i32::from(standard_offset_minutes) + if summer { 60 } else { 0 })
            }
        }
    }

    /// The local wall-clock time of an instant.
    pub fn to_local(self, at: Timestamp) -> PrimitiveDateTime {
        let local = at.to_offset(self.offset_at(at));
        PrimitiveDateTime::new(local.date(), local.time())
    }

    /// The instant of a local time: skipped local times move forward by the jump, repeated
    /// ones take the earlier instant.
    pub fn from_local(self, local: PrimitiveDateTime) -> Timestamp {
        let candidates: Vec<UtcOffset> = match self {
            CivilZone::Utc => vec![UtcOffset::UTC],
            CivilZone::Fixed { offset_minutes } => vec![offset(i32::from(offset_minutes))],
            CivilZone::EuropeanUnion { standard_offset_minutes } => {
                let standard = i32::from(standard_offset_minutes);
                // Summer first: in the repeated hour its instant is the earlier one.
                vec![offset(standard + 60), offset(standard)]
            }
        };
        let standard = candidates[candidates.len() - 1];
        candidates
            .iter()
            .map(|offset| local.assume_offset(*offset))
            .find(|instant| self.offset_at(*instant) == instant.offset())
            .unwrap_or_else(|| local.assume_offset(standard))
            .to_offset(UtcOffset::UTC)
    }

    /// The same local time `months` calendar months later, see the module documentation.
    pub fn add_months(self, at: Timestamp, months: i32) -> Timestamp {
        let local = self.to_local(at);
        match crate::add_months(local.date(), months) {
            Some(date) => self.from_local(PrimitiveDateTime::new(date, local.time())),
            // Beyond the calendar's range: no deadline can be that far; keep the instant.
            None => at,
        }
    }
}

/// How deadlines are computed and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineConfig {
    pub zone: CivilZone,
    /// An open obligation due within this many minutes is `due_soon`.
    pub due_soon_minutes: u32,
}

impl Default for DeadlineConfig {
    /// Central European Time, and `due_soon` within 6 hours.
    fn default() -> DeadlineConfig {
        DeadlineConfig { zone: CivilZone::default(), due_soon_minutes: 6 * 60 }
    }
}

/// A report the entity submitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    pub stage: StageKind,
    #[serde(with = "crate::utc")]
    pub at: Timestamp,
}

/// A request for an intermediate report (NIS2 Art. 23(4)(c)): the CSIRT or the competent
/// authority asks the entity for a status update by a date of its choosing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntermediateRequest {
    #[serde(with = "crate::utc")]
    pub requested_at: Timestamp,
    #[serde(with = "crate::utc")]
    pub due_at: Timestamp,
    /// The user who asked; `None` for the command line.
    #[serde(default)]
    pub requested_by: Option<Uuid>,
    /// The organisation that asked: the CSIRT operating the instance or a competent authority.
    #[serde(default)]
    pub requester_org: Option<Uuid>,
}

/// The most intermediate reports one incident may be asked for.
pub const MAX_INTERMEDIATE_REQUESTS: usize = 100;

/// The longest time an entity may be given for an intermediate report.
pub const MAX_INTERMEDIATE_DAYS: i64 = 366;

impl IntermediateRequest {
    /// A request made at `now`, due at `due_at`, checked: the due time is after `now` and at
    /// most [`MAX_INTERMEDIATE_DAYS`] later, and the incident has room for another request.
    pub fn new(
        input: &DeadlineInput,
        due_at: Timestamp,
        requested_by: Option<Uuid>,
        requester_org: Option<Uuid>,
        now: Timestamp,
    ) -> Result<IntermediateRequest, crate::FieldError> {
        if due_at <= now {
            return Err(crate::FieldError::new("due_at", "is not in the future"));
        }
        if due_at - now > Duration::days(MAX_INTERMEDIATE_DAYS) {
            return Err(crate::FieldError::new(
                "due_at",
                format!("is more than {MAX_INTERMEDIATE_DAYS} days away"),
            ));
        }
        if input.intermediate_requests.len() >= MAX_INTERMEDIATE_REQUESTS {
            return Err(crate::FieldError::new(
                "due_at",
                format!("the incident has {MAX_INTERMEDIATE_REQUESTS} requests already"),
            ));
        }
        Ok(IntermediateRequest { requested_at: now, due_at, requested_by, requester_org })
    }

    /// The report that answers the request, if one came: the first intermediate, progress or
    /// final report submitted at or after the request.
    pub fn met_at(&self, input: &DeadlineInput) -> Option<Timestamp> {
        use StageKind as S;
        input.first(&[S::Intermediate, S::Progress, S::Final], Some(self.requested_at))
    }
}

/// The GDPR clock of a personal-data breach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GdprClock {
    #[serde(with = "crate::utc")]
    pub aware_at: Timestamp,
    #[serde(with = "crate::utc::option")]
    pub notified_at: Option<Timestamp>,
}

/// What the deadlines are computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineInput {
    /// When the entity became aware of the significant incident.
    #[serde(with = "crate::utc")]
    pub aware_at: Timestamp,
    /// Reports submitted so far, in any order.
    pub submissions: Vec<Submission>,
    /// The CSIRT's first feedback on the early warning.
    #[serde(with = "crate::utc::option")]
    pub feedback_at: Option<Timestamp>,
    pub intermediate_requests: Vec<IntermediateRequest>,
    /// When handling of the incident ended (it was resolved), if it has.
    #[serde(with = "crate::utc::option")]
    pub handling_ended_at: Option<Timestamp>,
    /// Trust service providers notify within 24 hours (Art. 23(4)(b)).
    pub trust_service_provider: bool,
    pub gdpr: Option<GdprClock>,
}

impl DeadlineInput {
    /// An input with only the awareness time.
    pub fn aware_at(aware_at: Timestamp) -> DeadlineInput {
        DeadlineInput {
            aware_at,
            submissions: Vec::new(),
            feedback_at: None,
            intermediate_requests: Vec::new(),
            handling_ended_at: None,
            trust_service_provider: false,
            gdpr: None,
        }
    }

    fn first(&self, stages: &[StageKind], not_before: Option<Timestamp>) -> Option<Timestamp> {
        self.submissions
            .iter()
            .filter(|s| stages.contains(&s.stage) && not_before.is_none_or(|t| s.at >= t))
            .map(|s| s.at)
            .min()
    }
}

/// What is owed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObligationKind {
    EarlyWarning,
    Notification,
    CsirtFeedback,
    IntermediateReport,
    FinalReport,
    ProgressReport,
    GdprNotification,
}

impl ObligationKind {
    /// The legal basis.
    pub fn basis(self) -> &'static str {
        match self {
            ObligationKind::EarlyWarning => "NIS2 Art. 23(4)(a)",
            ObligationKind::Notification => "NIS2 Art. 23(4)(b)",
            ObligationKind::CsirtFeedback => "NIS2 Art. 23(5)",
            ObligationKind::IntermediateReport => "NIS2 Art. 23(4)(c)",
            ObligationKind::FinalReport => "NIS2 Art. 23(4)(d)",
            ObligationKind::ProgressReport => "NIS2 Art. 23(4)(e)",
            ObligationKind::GdprNotification => "GDPR Art. 33(1)",
        }
    }

    /// Who owes it.
    pub fn owed_by(self) -> Party {
        match self {
            ObligationKind::CsirtFeedback => Party::Csirt,
            _ => Party::Entity,
        }
    }
}

/// Who owes an obligation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// The reporting entity (for GDPR: the controller).
    Entity,
    /// The CSIRT handling the incident: this instance's operator.
    Csirt,
}

/// How an obligation stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObligationState {
    /// Open and past its due time.
    Overdue,
    /// Open and due within the due-soon window.
    DueSoon,
    /// Open.
    Due,
    /// Met after its due time.
    MetLate,
    /// Met in time.
    Met,
}

impl ObligationState {
    /// Overdue, due soon or due.
    pub fn is_open(self) -> bool {
        matches!(self, ObligationState::Overdue | ObligationState::DueSoon | ObligationState::Due)
    }
}

impl fmt::Display for ObligationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObligationState::Overdue => "overdue",
            ObligationState::DueSoon => "due_soon",
            ObligationState::Due => "due",
            ObligationState::MetLate => "met_late",
            ObligationState::Met => "met",
        })
    }
}

/// One obligation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Obligation {
    pub kind: ObligationKind,
    pub owed_by: Party,
    #[serde(with = "crate::utc")]
    pub due_at: Timestamp,
    #[serde(with = "crate::utc::option")]
    pub met_at: Option<Timestamp>,
    pub state: ObligationState,
}

fn obligation(
    kind: ObligationKind,
    due_at: Timestamp,
    met_at: Option<Timestamp>,
    now: Timestamp,
    config: &DeadlineConfig,
) -> Obligation {
    let state = match met_at {
        Some(met) if met <= due_at => ObligationState::Met,
        Some(_) => ObligationState::MetLate,
        None if now > due_at => ObligationState::Overdue,
        None if due_at - now <= Duration::minutes(i64::from(config.due_soon_minutes)) => {
            ObligationState::DueSoon
        }
        None => ObligationState::Due,
    };
    Obligation { kind, owed_by: kind.owed_by(), due_at, met_at, state }
}

/// The obligations of one incident at `now`, in due-time order.
pub fn obligations(input: &DeadlineInput, config: &DeadlineConfig, now: Timestamp) -> Vec<Obligation> {
    use ObligationKind::*;
    use StageKind as S;
    let mut list = Vec::new();
    let aware = input.aware_at;

    let early_met = input.first(&[S::EarlyWarning, S::Notification, S::Final, S::Progress], None);
    list.push(obligation(EarlyWarning, aware + Duration::hours(24), early_met, now, config));

    let notification_hours = if input.trust_service_provider { 24 } else { 72 };
    let notification_due = aware + Duration::hours(notification_hours);
    let notification_met = input.first(&[S::Notification, S::Final], None);
    list.push(obligation(Notification, notification_due, notification_met, now, config));

    if let Some(received) = input.first(&[S::EarlyWarning, S::Notification], None) {
        list.push(obligation(CsirtFeedback, received + Duration::hours(24), input.feedback_at, now, config));
    }

    for request in &input.intermediate_requests {
        list.push(obligation(IntermediateReport, request.due_at, request.met_at(input), now, config));
    }

    let final_due = config.zone.add_months(notification_met.unwrap_or(notification_due), 1);
    let final_met = input.first(&[S::Final], None);
    // A final report submitted while handling is still recorded as ongoing ends the handling.
    let handling_ended = input.handling_ended_at.or(final_met);
    let ongoing_at_final_due = handling_ended.is_none_or(|end| end > final_due);
    let in_time = final_met.is_some_and(|met| met <= final_due);
    if in_time || !ongoing_at_final_due || now <= final_due {
        list.push(obligation(FinalReport, final_due, final_met, now, config));
    } else {
        let progress_met = input.first(&[S::Progress, S::Final], None);
        list.push(obligation(ProgressReport, final_due, progress_met, now, config));
        if let Some(end) = handling_ended {
            list.push(obligation(FinalReport, config.zone.add_months(end, 1), final_met, now, config));
        }
    }

    if let Some(gdpr) = input.gdpr {
        list.push(obligation(
            GdprNotification,
            gdpr.aware_at + Duration::hours(72),
            gdpr.notified_at,
            now,
            config,
        ));
    }
    list.sort_by_key(|o| (o.due_at, o.kind));
    list
}

/// Where an incident goes in the analyst's queue: overdue first, then due soon, then due, then
/// nothing open; within each, the earliest due time first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct QueueKey {
    /// The state of the most urgent open obligation; `Met` when none is open.
    pub urgency: ObligationState,
    #[serde(with = "crate::utc::option")]
    pub next_due: Option<Timestamp>,
}

/// The queue key of an incident's obligations; sort ascending.
pub fn queue_key(obligations: &[Obligation]) -> QueueKey {
    obligations
        .iter()
        .filter(|o| o.state.is_open())
        .map(|o| QueueKey { urgency: o.state, next_due: Some(o.due_at) })
        .min()
        .unwrap_or(QueueKey { urgency: ObligationState::Met, next_due: None })
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const CET: CivilZone = CivilZone::EuropeanUnion { standard_offset_minutes: 60 };

    #[test]
    fn european_summer_time() {
        // 2025: summer time from 30 March 01:00 UTC to 26 October 01:00 UTC.
        assert_eq!(CET.offset_at(datetime!(2025-03-30 0:59:59 UTC)).whole_minutes(), 60);
        assert_eq!(CET.offset_at(datetime!(2025-03-30 1:00 UTC)).whole_minutes(), 120);
        assert_eq!(CET.offset_at(datetime!(2025-10-26 0:59:59 UTC)).whole_minutes(), 120);
        assert_eq!(CET.offset_at(datetime!(2025-10-26 1:00 UTC)).whole_minutes(), 60);
        // The skipped hour moves forward; the repeated hour takes the earlier instant.
        assert_eq!(CET.from_local(datetime!(2025-03-30 2:30)), datetime!(2025-03-30 1:30 UTC));
        assert_eq!(CET.from_local(datetime!(2025-10-26 2:30)), datetime!(2025-10-26 0:30 UTC));
        assert_eq!(CET.from_local(datetime!(2025-07-01 12:00)), datetime!(2025-07-01 10:00 UTC));
        assert_eq!(
            CivilZone::Fixed { offset_minutes: -300 }.from_local(datetime!(2025-01-01 0:00)),
            datetime!(2025-01-01 5:00 UTC)
        );
    }

    /// (case, zone, instant, months added, expected instant).
    #[test]
    fn calendar_months_across_month_ends_and_summer_time() {
        let cases = [
            ("plain", CET, datetime!(2025-05-14 10:00 UTC), 1, datetime!(2025-06-14 10:00 UTC)),
            (
                "31 January to 28 February",
                CET,
                datetime!(2025-01-31 11:00 UTC),
                1,
                datetime!(2025-02-28 11:00 UTC),
            ),
            ("leap year", CET, datetime!(2024-01-31 11:00 UTC), 1, datetime!(2024-02-29 11:00 UTC)),
            (
                "31 March to 30 April",
                CET,
                datetime!(2025-03-31 10:00 UTC),
                1,
                datetime!(2025-04-30 10:00 UTC),
            ),
            (
                "31 August to 30 September",
                CET,
                datetime!(2025-08-31 10:00 UTC),
                1,
                datetime!(2025-09-30 10:00 UTC),
            ),
            ("December to January", CET, datetime!(2025-12-31 12:00 UTC), 1, datetime!(2026-01-31 12:00 UTC)),
            // 10:00 CET on 15 March is 10:00 CEST on 15 April: one hour less of elapsed time.
            ("into summer time", CET, datetime!(2025-03-15 9:00 UTC), 1, datetime!(2025-04-15 8:00 UTC)),
            ("out of summer time", CET, datetime!(2025-10-10 8:00 UTC), 1, datetime!(2025-11-10 9:00 UTC)),
            // 23:30 CET on 31 January is 1 February in UTC; the local month decides: 28 February.
            (
                "local date differs from UTC",
                CET,
                datetime!(2025-01-31 22:30 UTC),
                1,
                datetime!(2025-02-28 22:30 UTC),
            ),
            ("UTC zone", CivilZone::Utc, datetime!(2025-01-31 22:30 UTC), 1, datetime!(2025-02-28 22:30 UTC)),
            // 02:30 CET on 30 January, two months on: 02:30 on 30 March 2025 is skipped, so 03:30 CEST.
            ("onto the skipped hour", CET, datetime!(2025-01-30 1:30 UTC), 2, datetime!(2025-03-30 1:30 UTC)),
            // 02:30 CEST on 26 September: 02:30 on 26 October 2025 happens twice; the earlier one.
            (
                "onto the repeated hour",
                CET,
                datetime!(2025-09-26 0:30 UTC),
                1,
                datetime!(2025-10-26 0:30 UTC),
            ),
            ("six months back", CET, datetime!(2025-08-31 10:00 UTC), -6, datetime!(2025-02-28 11:00 UTC)),
        ];
        let mut failures = Vec::new();
        for (name, zone, from, months, expected) in cases {
            let actual = zone.add_months(from, months);
            if actual != expected {
                failures.push(format!("{name}: {from} + 1 month = {actual}, expected {expected}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    fn config() -> DeadlineConfig {
        DeadlineConfig { zone: CET, due_soon_minutes: 6 * 60 }
    }

    fn states(input: &DeadlineInput, now: Timestamp) -> Vec<String> {
        obligations(input, &config(), now)
            .into_iter()
            .map(|o| format!("{:?} {} {}", o.kind, o.due_at, o.state))
            .collect()
    }

    #[test]
    fn hours_are_elapsed_time_across_summer_time() {
        // Aware at 12:00 CET on Saturday 29 March 2025; the clocks jump overnight.
        let aware = datetime!(2025-03-29 11:00 UTC);
        let list = obligations(&DeadlineInput::aware_at(aware), &config(), aware);
        assert_eq!(list[0].kind, ObligationKind::EarlyWarning);
        assert_eq!(list[0].due_at, datetime!(2025-03-30 11:00 UTC), "13:00 CEST, 24 elapsed hours");
        assert_eq!(CET.to_local(list[0].due_at), datetime!(2025-03-30 13:00));
        assert_eq!(list[1].due_at, datetime!(2025-04-01 11:00 UTC));
    }

    #[test]
    fn a_fresh_incident_owes_everything() {
        let aware = datetime!(2025-01-14 8:00 UTC);
        assert_eq!(
            states(&DeadlineInput::aware_at(aware), aware + Duration::hours(20)),
            [
                "EarlyWarning 2025-01-15 8:00:00.0 +00:00:00 due_soon",
                "Notification 2025-01-17 8:00:00.0 +00:00:00 due",
                "FinalReport 2025-02-17 8:00:00.0 +00:00:00 due",
            ]
        );
        assert_eq!(
            states(&DeadlineInput::aware_at(aware), aware + Duration::hours(25))[0],
            "EarlyWarning 2025-01-15 8:00:00.0 +00:00:00 overdue"
        );
    }

    #[test]
    fn the_normal_course() {
        let aware = datetime!(2025-01-14 8:00 UTC);
        let mut input = DeadlineInput::aware_at(aware);
        input.submissions = vec![
            Submission { stage: StageKind::Notification, at: aware + Duration::hours(50) },
            Submission { stage: StageKind::EarlyWarning, at: aware + Duration::hours(20) },
        ];
        input.feedback_at = Some(aware + Duration::hours(50));
        input.gdpr = Some(GdprClock { aware_at: aware + Duration::hours(2), notified_at: None });
        assert_eq!(
            states(&input, aware + Duration::hours(70)),
            [
                "EarlyWarning 2025-01-15 8:00:00.0 +00:00:00 met",
                "CsirtFeedback 2025-01-16 4:00:00.0 +00:00:00 met_late",
                "Notification 2025-01-17 8:00:00.0 +00:00:00 met",
                "GdprNotification 2025-01-17 10:00:00.0 +00:00:00 due_soon",
                // One month after the notification's submission (16 January, 11:00 local).
                "FinalReport 2025-02-16 10:00:00.0 +00:00:00 due",
            ]
        );
    }

    #[test]
    fn trust_service_providers_notify_within_24_hours() {
        let aware = datetime!(2025-01-14 8:00 UTC);
        let mut input = DeadlineInput::aware_at(aware);
        input.trust_service_provider = true;
        let list = obligations(&input, &config(), aware);
        assert_eq!(list[1].kind, ObligationKind::Notification);
        assert_eq!(list[1].due_at, aware + Duration::hours(24));
    }

    #[test]
    fn a_notification_alone_meets_the_early_warning() {
        let aware = datetime!(2025-01-14 8:00 UTC);
        let mut input = DeadlineInput::aware_at(aware);
        input.submissions =
            vec![Submission { stage: StageKind::Notification, at: aware + Duration::hours(30) }];
        let list = states(&input, aware + Duration::hours(31));
        assert_eq!(list[0], "EarlyWarning 2025-01-15 8:00:00.0 +00:00:00 met_late");
        assert_eq!(list[1], "CsirtFeedback 2025-01-16 14:00:00.0 +00:00:00 due");
        assert_eq!(list[2], "Notification 2025-01-17 8:00:00.0 +00:00:00 met");
    }

    #[test]
    fn ongoing_incidents_owe_a_progress_report_then_a_final_report() {
        let aware = datetime!(2025-01-14 8:00 UTC);
        let mut input = DeadlineInput::aware_at(aware);
        input.submissions = vec![
            Submission { stage: StageKind::EarlyWarning, at: aware + Duration::hours(1) },
            Submission { stage: StageKind::Notification, at: aware + Duration::hours(3) },
        ];
        input.feedback_at = Some(aware + Duration::hours(5));
        let final_due = datetime!(2025-02-14 11:00 UTC);
        // Before the due time, the final report is what is owed.
        assert_eq!(
            states(&input, final_due - Duration::hours(1))[3],
            "FinalReport 2025-02-14 11:00:00.0 +00:00:00 due_soon"
        );
        // Still being handled after it: the progress report is overdue.
        assert_eq!(
            states(&input, final_due + Duration::hours(1))[3],
            "ProgressReport 2025-02-14 11:00:00.0 +00:00:00 overdue"
        );
        input.submissions.push(Submission { stage: StageKind::Progress, at: final_due - Duration::hours(2) });
        input.handling_ended_at = Some(datetime!(2025-03-31 9:00 UTC));
        let now = datetime!(2025-04-02 0:00 UTC);
        let list = states(&input, now);
        assert_eq!(list[3], "ProgressReport 2025-02-14 11:00:00.0 +00:00:00 met");
        // Handling ended 31 March 11:00 CEST: the final report is due 30 April 11:00 CEST.
        assert_eq!(list[4], "FinalReport 2025-04-30 9:00:00.0 +00:00:00 due");
        assert_eq!(list.len(), 5);
    }

    #[test]
    fn a_final_report_in_time_settles_it() {
        let aware = datetime!(2025-01-14 8:00 UTC);
        let mut input = DeadlineInput::aware_at(aware);
        // A final report as the first and only report, after 60 hours.
        input.submissions = vec![Submission { stage: StageKind::Final, at: aware + Duration::hours(60) }];
        assert_eq!(
            states(&input, aware + Duration::days(90)),
            [
                "EarlyWarning 2025-01-15 8:00:00.0 +00:00:00 met_late",
                "Notification 2025-01-17 8:00:00.0 +00:00:00 met",
                "FinalReport 2025-02-16 20:00:00.0 +00:00:00 met",
            ]
        );
    }

    #[test]
    fn intermediate_requests_are_tracked() {
        let aware = datetime!(2025-01-14 8:00 UTC);
        let mut input = DeadlineInput::aware_at(aware);
        let requested_at = aware + Duration::days(5);
        let request =
            IntermediateRequest::new(&input, requested_at + Duration::days(2), None, None, requested_at)
                .unwrap();
        input.intermediate_requests = vec![request];
        input.submissions =
            vec![Submission { stage: StageKind::Intermediate, at: aware + Duration::days(1) }];
        let list = obligations(&input, &config(), requested_at + Duration::days(3));
        let found = list.iter().find(|o| o.kind == ObligationKind::IntermediateReport).unwrap();
        assert_eq!(found.state, ObligationState::Overdue, "a report before the request does not answer it");
        input
            .submissions
            .push(Submission { stage: StageKind::Intermediate, at: requested_at + Duration::days(1) });
        let list = obligations(&input, &config(), requested_at + Duration::days(3));
        let found = list.iter().find(|o| o.kind == ObligationKind::IntermediateReport).unwrap();
        assert_eq!(found.state, ObligationState::Met, "an intermediate report after the request answers it");
        assert_eq!(found.owed_by, Party::Entity);
        // Requests are checked: a due time in the past, too far away, or one request too many.
        let error = IntermediateRequest::new(&input, requested_at, None, None, requested_at).unwrap_err();
        assert_eq!((error.field.as_str(), error.message.as_str()), ("due_at", "is not in the future"));
        assert!(
            IntermediateRequest::new(&input, requested_at + Duration::days(400), None, None, requested_at)
                .is_err()
        );
        input.intermediate_requests = vec![request; MAX_INTERMEDIATE_REQUESTS];
        assert!(
            IntermediateRequest::new(&input, requested_at + Duration::days(1), None, None, requested_at)
                .is_err()
        );
    }

    #[test]
    fn the_queue_puts_overdue_first() {
        let aware = datetime!(2025-01-14 8:00 UTC);
        let now = aware + Duration::hours(23);
        let fresh = obligations(&DeadlineInput::aware_at(now), &config(), now);
        let due_soon = obligations(&DeadlineInput::aware_at(aware), &config(), now);
        let overdue = obligations(&DeadlineInput::aware_at(aware - Duration::hours(2)), &config(), now);
        let mut done_input = DeadlineInput::aware_at(aware - Duration::days(100));
        done_input.submissions = vec![Submission { stage: StageKind::Final, at: aware - Duration::days(99) }];
        done_input.feedback_at = Some(aware);
        let done = obligations(&done_input, &config(), now);
        let mut queue = [
            ("done", queue_key(&done)),
            ("fresh", queue_key(&fresh)),
            ("overdue", queue_key(&overdue)),
            ("due_soon", queue_key(&due_soon)),
        ];
        queue.sort_by_key(|(_, key)| *key);
        let order: Vec<&str> = queue.iter().map(|(name, _)| *name).collect();
        assert_eq!(order, ["overdue", "due_soon", "fresh", "done"]);
        assert_eq!(queue_key(&done), QueueKey { urgency: ObligationState::Met, next_due: None });
    }

    fn stage_strategy() -> impl proptest::strategy::Strategy<Value = StageKind> {
        proptest::sample::select(vec![
            StageKind::EarlyWarning,
            StageKind::Notification,
            StageKind::Intermediate,
            StageKind::Final,
            StageKind::Progress,
        ])
    }

    proptest::proptest! {
        /// Whatever was submitted when, the list is ordered, the statutory periods hold and each
        /// state agrees with its times.
        #[test]
        fn obligations_are_consistent(
            aware_minutes in 0i64..1_000_000,
            submissions in proptest::collection::vec((stage_strategy(), 0i64..100_000), 0..6),
            feedback in proptest::option::of(0i64..10_000),
            ended in proptest::option::of(0i64..200_000),
            now_minutes in 0i64..200_000,
        ) {
            let aware = datetime!(2024-01-01 0:00 UTC) + Duration::minutes(aware_minutes);
            let mut input = DeadlineInput::aware_at(aware);
            input.submissions = submissions.iter().map(|(stage, m)| Submission { stage: *stage, at: aware + Duration::minutes(*m) }).collect();
            input.feedback_at = feedback.map(|m| aware + Duration::minutes(m));
            input.handling_ended_at = ended.map(|m| aware + Duration::minutes(m));
            let now = aware + Duration::minutes(now_minutes);
            let config = config();
            let list = obligations(&input, &config, now);
            proptest::prop_assert!(list.windows(2).all(|pair| pair[0].due_at <= pair[1].due_at));
            let find = |kind| list.iter().find(|o| o.kind == kind);
            proptest::prop_assert_eq!(find(ObligationKind::EarlyWarning).map(|o| o.due_at), Some(aware + Duration::hours(24)));
            proptest::prop_assert_eq!(find(ObligationKind::Notification).map(|o| o.due_at), Some(aware + Duration::hours(72)));
            proptest::prop_assert!(find(ObligationKind::FinalReport).is_some() || find(ObligationKind::ProgressReport).is_some());
            for o in &list {
                let expected = match o.met_at {
                    Some(met) if met <= o.due_at => ObligationState::Met,
                    Some(_) => ObligationState::MetLate,
                    None if now > o.due_at => ObligationState::Overdue,
                    None if o.due_at - now <= Duration::minutes(i64::from(config.due_soon_minutes)) => ObligationState::DueSoon,
                    None => ObligationState::Due,
                };
                proptest::prop_assert_eq!(o.state, expected, "{:?}", o.kind);
                // A final report is never due less than 28 days after the notification's due time or submission.
                if o.kind == ObligationKind::FinalReport {
                    proptest::prop_assert!(o.due_at - aware >= Duration::days(28));
                }
            }
            let key = queue_key(&list);
            let overdue = list.iter().any(|o| o.state == ObligationState::Overdue);
            proptest::prop_assert_eq!(key.urgency == ObligationState::Overdue, overdue);
        }
    }
}
