//! Harmonised security events in IntelMQ's data format.
//!
//! Neretva replaces IntelMQ for feed processing and speaks its data format:
//! the 89 event fields and 10 report fields of IntelMQ 3.5.0's
//! harmonisation ([`fields`], [`field_spec`], [`FieldSpec`], [`FieldType`]),
//! the sanitisers that turn feed text into canonical values exactly as
//! IntelMQ writes them ([`Event::set`], [`Value`]), the RSIT taxonomy with
//! IntelMQ's aliases ([`taxonomy`]), IntelMQ's JSON lines
//! ([`intelmq_json`]), reports ([`Report`]) and a comparison with IntelMQ's
//! test fixtures ([`compare`]).
//!
//! The main types:
//!
//! - [`Event`]: a harmonised event. Fields live in a small vector sorted by
//!   [`FieldId`], `extra.*` members in a second sorted vector; field names
//!   are found by binary search in the static field table. Parsers on the
//!   hot path resolve names once ([`FieldId::from_name`] or the constants
//!   such as [`FieldId::SOURCE_IP`]) and call [`Event::set_id`].
//! - [`Value`]: a typed field value whose `Display` is IntelMQ's text and
//!   whose [`Value::to_json`] is IntelMQ's JSON.
//! - [`ValueError`]: a rejected value, e.g.
//!   `source.ip: "300.1.1.1" is not an IP address`.
//! - [`Report`]: a collector's raw data and feed metadata;
//!   [`Report::stamp`] copies the metadata into events.
//!
//! **Architecture Invariant:** pure: no IO, no async, no clock (times come
//! from the data or the caller).
//!
//! Setting values follows IntelMQ's `Message.add`: text is sanitised per
//! the field's type (see [`FieldType`]), then checked against the field's
//! `length` and `regex`; the values `""`, `"-"` and `"N/A"` are ignored
//! (and remove an earlier value), as is a value whose canonical form is one
//! of them (`" - "`); `extra.<key>` members take text unchanged and JSON
//! values as they are. [`Event::set`] parses text (a CSV cell),
//! [`Event::set_json`] a JSON value as in IntelMQ's messages,
//! [`Event::set_value`] a typed [`Value`].
//!
//! Conformance is tested against IntelMQ 3.5.0 itself: every one of the 944
//! events in IntelMQ's parser test fixtures is read and written back byte
//! for byte as Python's `json.dumps` writes it, with IntelMQ's `hash()`
//! (`tests/intelmq_fixtures.rs`, references made by
//! `data/python_reference.py`).
//!
//! ## Differences from IntelMQ
//!
//! Deliberate, each for strictness, speed or because IntelMQ's behaviour
//! depends on Python libraries not reproduced here:
//!
//! - **Date-times** are parsed by a strict parser of the common forms (ISO
//!   8601 and RFC 3339, RFC 2822, ctime, `mm/dd/yyyy` and `mm.dd.yyyy`
//!   (month first when ambiguous, as dateutil), month names, AM/PM,
//!   `Z`/`UTC`/`GMT`/numeric offsets), not `dateutil`'s fuzzy parser:
//!   unknown words and zone names such as `CET` are errors instead of being
//!   silently ignored, and bare epoch numbers are refused (as by IntelMQ).
//!   Text without a zone is UTC. IntelMQ 3.5.0 keeps any `…+00:00` text
//!   (and a JSON message's already-valid text) as it is; here every time
//!   is written canonically: `2016-11-10T00:00:00+00:00`, with `.ffffff`
//!   when there are microseconds.
//! - **IDN** domain names are converted to punycode after an approximation
//!   of IDNA 2003 nameprep (lower casing, `ß` → `ss`, final sigma,
//!   invisible characters, full-width ASCII, ligatures); IntelMQ applies
//!   full NFKC normalisation, so rarer compatibility characters (e.g. Roman
//!   numeral signs) differ, and prohibited characters are not refused.
//! - **IP addresses** are always stored canonically (`2001:db8::1`); IntelMQ
//!   keeps a valid non-canonical spelling (`2001:DB8::1`) found in a JSON
//!   message. IPv4-mapped IPv6 addresses print as `::ffff:1.2.3.4` where
//!   Python before 3.13 prints `::ffff:102:304`. Zone indices (`%eth0`) and
//!   brackets are removed.
//! - **URLs** from JSON messages are sanitised too, so `hxxp://` becomes
//!   `http://` where IntelMQ keeps a JSON message's `hxxp://` as it is.
//! - **Integers** are 64-bit; from JSON, a float is accepted only when it is
//!   integral (IntelMQ truncates `443.7` to `443`) and booleans are refused
//!   (IntelMQ makes `true` a `1`).
//! - **Floats** must be finite: `nan` and `inf` are refused (IntelMQ would
//!   write invalid JSON).
//! - **TLP** also accepts TLP 2.0's `CLEAR` and `AMBER+STRICT`, which
//!   IntelMQ refuses; [`intelmq_json::to_intelmq_line`] writes them as
//!   `WHITE` and `RED` for outputs IntelMQ reads.
//! - **Classification types and taxonomies** also accept spaces or
//!   underscores for hyphens, any letter case, RSIT's spelling
//!   `unauthorised-use-of-resources` and `unauthorized-information-…`;
//!   stored spellings are IntelMQ's.
//! - **`raw`** in a JSON message must be valid base64 (IntelMQ's lenient
//!   decoder would silently re-encode or crash on other text).
//! - **`extra`** as a whole (`"extra": {...}`) with no members is accepted
//!   and sets nothing; IntelMQ rejects an empty dictionary.
//! - **Lines** over 1 MiB or nested deeper than 32 levels are refused.
//! - **[`Event::event_hash`]** follows IntelMQ's `hash()` (SHA-256 over keys
//!   and Python `repr`s); it differs only for `extra.*` objects (hashed in
//!   key order, not input order) and strings with exotic unprintable
//!   characters.
//! - **[`Report::time_observation`]** is optional: IntelMQ's test reports
//!   sometimes lack it, and then the events lack it too.
//! - **Ignored values** are also recognised after sanitising (`" - "` is
//!   dropped); IntelMQ stores `"-"` and drops it only when the next bot
//!   reads the message, so the pipeline's result is the same.
//! - **Domain names** lose white space before a trailing dot (`"a ."` is
//!   `a`; IntelMQ keeps `"a "`).
//! - **[`compare`]** ignores `time.observation`, as IntelMQ's test harness
//!   does (its fixtures hold stale observation times).

mod builder;
mod compare;
mod datetime;
mod error;
mod event;
mod fields;
mod fields_table;
mod idna;
pub mod intelmq_json;
mod pyfmt;
mod report;
mod sanitize;
pub mod taxonomy;
mod text;
mod value;

pub use crate::builder::{EventBuilder, FieldMemo, MemberSlot};
pub use crate::compare::compare;
pub use crate::error::{MAX_ERROR_VALUE_CHARS, ValueError};
pub use crate::event::{Event, IGNORED_VALUES, PreparedField};
pub use crate::fields::{
    Check, FieldId, FieldSpec, FieldType, Section, field_spec, fields, report_field_spec, report_fields,
};
pub use crate::pyfmt::{py_strip, write_float_repr};
pub use crate::report::Report;
pub use crate::sanitize::{MAX_ASN, REGISTRIES, TLP_LABELS};
pub use crate::text::Text;
pub use crate::value::{Value, format_time};

/// Parses date-time text as [`Event::set`] does for DateTime fields,
/// returning the UTC time with whole microseconds; for parsers that need the
/// time itself.
pub fn parse_time(text: &str) -> Option<time::OffsetDateTime> {
    datetime::parse(text)
}

/// The month (1 to 12) an English month name or its abbreviation names (`Jan`, `september`,
/// `Sept.`), in any case; for parsers of their own time formats.
pub fn month_from_name(word: &str) -> Option<u8> {
    datetime::month_of(word).and_then(|month| u8::try_from(month).ok())
}

/// Whether a word is an English weekday name or its abbreviation (`Mon`, `friday`), in any case.
pub fn is_weekday_name(word: &str) -> bool {
    datetime::is_weekday(word)
}

/// A time as a DateTime field stores it: in UTC, truncated to whole
/// microseconds (Python's resolution); None outside years 1 to 9999.
pub fn normalise_time(t: time::OffsetDateTime) -> Option<time::OffsetDateTime> {
    sanitize::normalise_time(t).ok()
}
