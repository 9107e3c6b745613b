//! Incident handling and mandatory reporting: the pure domain layer.
//!
//! - [`report`]: incident reports from constituents in the NIS2 Art. 23 stages (early warning,
//!   notification, intermediate, final, progress) with the optional NIS1 impact and GDPR
//!   Art. 33 personal-data-breach sections; validation names every bad field.
//! - [`classification`]: the RSIT v1.3 type of an incident, reusing `neretva-event`'s taxonomy.
//! - [`incident`]: the incident itself, its severity and where it came from; [`workflow`]: the
//!   status workflow and its transitions.
//! - [`observable`]: typed observables (IP, CIDR, domain, URL, e-mail, hashes, ...) with parsing,
//!   refanging and canonical forms, and the IntelMQ event fields each is matched against.
//! - [`playbook`]: tasks and the playbook table that seeds them per RSIT class and type.
//! - [`timeline`]: comments and actions; [`link`]: links between incidents; [`merge`]: what
//!   merging one incident into another does.
//! - [`evidence`]: content-addressed attachments (SHA-256, size limits) and the hash-chained
//!   chain-of-custody record.
//! - [`deadline`]: the NIS2 and GDPR obligations with due times and states, and the queue order;
//!   [`calendar`]: open obligations as an iCalendar feed.
//! - [`significance`]: NIS2 Art. 23(3) and Implementing Regulation (EU) 2024/2690 criteria as
//!   data, evaluated, with the recurring-incident rule.
//! - [`summary`]: the anonymised quarterly summary for the regulator as JSON, CSV and HTML;
//!   [`stats`]: counts and times to triage and resolve.
//! - [`intake`]: e-mail reports (through `neretva-mail`) as intake records, failed ones kept with
//!   their reason.
//!
//! Types are plain data that serialise with serde (enums as `snake_case` strings, times as
//! RFC 3339), so a store can keep them as columns or JSON.
//!
//! **Architecture Invariant:** pure: no IO, no async, no clock and no randomness; times (`now`)
//! and new ids are arguments.
//! **Architecture Invariant:** validation returns every problem as a [`FieldError`] naming the
//! field's path (`stage.initial_assessment`, `gdpr.data_subject_categories[2]`), never just the
//! first.

pub mod calendar;
pub mod classification;
pub mod deadline;
pub mod evidence;
pub mod incident;
pub mod intake;
pub mod link;
pub mod merge;
pub mod observable;
pub mod playbook;
pub mod report;
pub mod significance;
pub mod stats;
pub mod summary;
pub mod timeline;
pub mod workflow;

pub use neretva_model::{FieldError, Timestamp};

/// Length limits of free text, in characters.
pub mod limits {
    /// Titles, names, short labels.
    pub const TITLE: usize = 200;
    /// One-paragraph fields: a root cause, a consequence, a geographical description.
    pub const SHORT_TEXT: usize = 2_000;
    /// Descriptions, assessments, comments.
    pub const TEXT: usize = 20_000;
    /// Items in a list field (indicators, categories, countries, affected organisations).
    pub const LIST_ITEMS: usize = 500;
    /// One item of a list of text.
    pub const LIST_ITEM: usize = 500;
}

/// Serde for timestamps as RFC 3339, always in UTC: a time read with another offset is converted,
/// so every stored instant is written the same way (`2025-01-14T06:40:00Z`).
pub(crate) mod utc {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::UtcOffset;
    use time::format_description::well_known::Rfc3339;

    use crate::Timestamp;

    pub(crate) fn serialize<S: Serializer>(at: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
        let text = at.to_offset(UtcOffset::UTC).format(&Rfc3339).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&text)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Timestamp::parse(&text, &Rfc3339)
            .map(|at| at.to_offset(UtcOffset::UTC))
            .map_err(|error| serde::de::Error::custom(format!("{text:?} is not an RFC 3339 time: {error}")))
    }

    pub(crate) mod option {
        use serde::{Deserialize, Deserializer, Serializer};

        use crate::Timestamp;

        pub(crate) fn serialize<S: Serializer>(
            at: &Option<Timestamp>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match at {
                Some(at) => super::serialize(at, serializer),
                None => serializer.serialize_none(),
            }
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<Timestamp>, D::Error> {
            #[derive(Deserialize)]
            struct Wrapper(#[serde(with = "super")] Timestamp);
            Ok(Option::<Wrapper>::deserialize(deserializer)?.map(|Wrapper(at)| at))
        }
    }
}

/// Collects validation errors.
#[derive(Debug, Default)]
pub(crate) struct Errors(pub(crate) Vec<FieldError>);

impl Errors {
    pub(crate) fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    pub(crate) fn result(&mut self, result: Result<(), FieldError>) {
        if let Err(error) = result {
            self.0.push(error);
        }
    }

    /// A required text field.
    pub(crate) fn text(&mut self, field: &str, value: &str, max_chars: usize) {
        self.result(neretva_model::check_text(field, value, max_chars));
    }

    /// An optional text field: bounded, no control characters but newlines and tabs.
    pub(crate) fn optional(&mut self, field: &str, value: Option<&str>, max_chars: usize) {
        if let Some(value) = value {
            self.result(neretva_model::check_optional_text(field, value, max_chars));
        }
    }

    /// A list of short texts: bounded count, each item a required text.
    pub(crate) fn list(&mut self, field: &str, values: &[String]) {
        if values.len() > limits::LIST_ITEMS {
            self.push(field, format!("more than {} items", limits::LIST_ITEMS));
            return;
        }
        for (index, value) in values.iter().enumerate() {
            self.text(&format!("{field}[{index}]"), value, limits::LIST_ITEM);
        }
    }

    /// Prefixes the fields of errors produced by a nested validation.
    pub(crate) fn nested(&mut self, prefix: &str, errors: Vec<FieldError>) {
        self.0.extend(
            errors.into_iter().map(|error| FieldError::new(join(prefix, &error.field), error.message)),
        );
    }

    pub(crate) fn into_vec(self) -> Vec<FieldError> {
        self.0
    }
}

/// Joins a field path: `join("stage", "severity")` is `stage.severity`; indices stay attached.
pub(crate) fn join(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_owned()
    } else if field.is_empty() {
        prefix.to_owned()
    } else if field.starts_with('[') {
        format!("{prefix}{field}")
    } else {
        format!("{prefix}.{field}")
    }
}

/// Adds calendar months to a civil date, clamping the day to the end of a shorter month
/// (31 January plus one month is 28 or 29 February).
pub(crate) fn add_months(date: time::Date, months: i32) -> Option<time::Date> {
    let index = date.year() * 12 + i32::from(u8::from(date.month())) - 1 + months;
    let year = index.div_euclid(12);
    let month = time::Month::try_from(u8::try_from(index.rem_euclid(12) + 1).ok()?).ok()?;
    let day = date.day().min(time::util::days_in_month(month, year));
    time::Date::from_calendar_date(year, month, day).ok()
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn months_clamp_to_the_end_of_shorter_months() {
        assert_eq!(add_months(date!(2025 - 01 - 31), 1), Some(date!(2025 - 02 - 28)));
        assert_eq!(add_months(date!(2024 - 01 - 31), 1), Some(date!(2024 - 02 - 29)));
        assert_eq!(add_months(date!(2025 - 03 - 31), 1), Some(date!(2025 - 04 - 30)));
        assert_eq!(add_months(date!(2025 - 12 - 15), 1), Some(date!(2026 - 01 - 15)));
        assert_eq!(add_months(date!(2025 - 08 - 31), -6), Some(date!(2025 - 02 - 28)));
        assert_eq!(add_months(date!(2025 - 01 - 10), -1), Some(date!(2024 - 12 - 10)));
    }

    #[test]
    fn paths_join() {
        assert_eq!(join("", "title"), "title");
        assert_eq!(join("stage", "severity"), "stage.severity");
        assert_eq!(join("indicators", "[2]"), "indicators[2]");
    }
}
