//! Configurable parsers: generic CSV and generic JSON with a mapping from columns or keys
//! to event fields, `key=value` lines with a mapping from keys, and IntelMQ's own JSON
//! messages.
//!
//! The registered `generic-csv` and `generic-json` have no mapping and only report that
//! one is needed; configured instances are built with [`GenericCsv::from_config`] and
//! [`GenericJson::from_config`], which report every configuration error at once. The
//! registered `intelmq-json` reads one IntelMQ JSON message per line;
//! [`IntelMqJson::from_config`] takes the parameters of IntelMQ's JSON parser bot.

mod csv;
mod intelmq_json;
mod json;
mod key_value;
pub(crate) mod pycsv;
mod pyfmt;

pub use self::csv::{GenericCsv, GenericCsvConfig, ListOrString, MapOrJson, SkipHeader};
pub use self::intelmq_json::{IntelMqJson, IntelMqJsonConfig, Layout};
pub use self::json::{GenericJson, GenericJsonConfig, JsonLayout};
pub use self::key_value::{KeyValue, KeyValueConfig};

use crate::parsers::lists::support::whole_text;
use crate::{FeedParser, Parsed, Report};

/// Builds a configurable parser of this group from its configuration as JSON (for
/// `intelmq-json`, IntelMQ's parameters); None for a name that is not one of them. Unknown
/// options and every bad value are reported at once.
pub fn configured(
    name: &str,
    config: &serde_json::Value,
) -> Option<Result<Box<dyn FeedParser>, Vec<String>>> {
    fn boxed<P: FeedParser + 'static>(parser: P) -> Box<dyn FeedParser> {
        Box::new(parser)
    }
    let options = |error: serde_json::Error| vec![format!("{name} configuration: {error}")];
    Some(match name {
        "generic-csv" => serde_json::from_value(config.clone())
            .map_err(options)
            .and_then(GenericCsv::from_config)
            .map(boxed),
        "generic-json" => serde_json::from_value(config.clone())
            .map_err(options)
            .and_then(GenericJson::from_config)
            .map(boxed),
        "intelmq-json" => serde_json::from_value(config.clone())
            .map_err(options)
            .and_then(IntelMqJson::from_config)
            .map(boxed),
        "key-value" => {
            serde_json::from_value(config.clone()).map_err(options).and_then(KeyValue::from_config).map(boxed)
        }
        _ => return None,
    })
}

pub(crate) fn all() -> Vec<Box<dyn FeedParser>> {
    vec![
        Box::new(GenericCsv::unconfigured()),
        Box::new(GenericJson::unconfigured()),
        Box::new(IntelMqJson::default()),
        Box::new(KeyValue::unconfigured()),
    ]
}

/// The items of a report that is one JSON array (IntelMQ's `json.loads` of the whole report);
/// `None` after recording why not: invalid UTF-8, invalid JSON, or `expected a JSON array of
/// {what}`.
fn json_array(report: &Report, parsed: &mut Parsed, what: &str) -> Option<Vec<serde_json::Value>> {
    let text = whole_text(&report.raw, parsed)?;
    match serde_json::from_str(text) {
        Ok(serde_json::Value::Array(items)) => Some(items),
        Ok(_) => {
            parsed.error(1, None, format!("expected a JSON array of {what}"), text);
            None
        }
        Err(error) => {
            parsed.error(error.line() as u64, None, format!("invalid JSON: {error}"), text);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;
    use proptest::prelude::*;

    use super::*;
    use crate::Report;
    use crate::parsers::lists::support::cases::{self, Case};

    /// The parser of a case: configured from its `@config`, else the registered one.
    fn build(parser: &str, config: Option<&str>) -> Box<dyn FeedParser> {
        let Some(config) = config else {
            return all()
                .into_iter()
                .find(|p| p.name() == parser)
                .unwrap_or_else(|| panic!("no parser {parser} in the generic group"));
        };
        let json: serde_json::Value =
            serde_json::from_str(config).unwrap_or_else(|e| panic!("@config of {parser}: {e}"));
        let built = configured(parser, &json).unwrap_or_else(|| panic!("no configurable parser {parser}"));
        built.unwrap_or_else(|errors| panic!("@config of {parser}: {errors:?}"))
    }

    fn build_case(case: &Case) -> Box<dyn FeedParser> {
        build(&case.parser, case.meta("config"))
    }

    #[test]
    fn cases() {
        cases::check_all("generic", build_case);
    }

    #[test]
    fn every_parser_has_cases() {
        let with_cases: Vec<String> = cases::list("generic").into_iter().map(|c| c.parser).collect();
        for parser in all() {
            assert!(
                with_cases.iter().any(|name| name == parser.name()),
                "{} has no cases in test_data/generic",
                parser.name()
            );
        }
    }

    #[test]
    fn csv_config_errors_are_reported_together() {
        let config: GenericCsvConfig = serde_json::from_value(serde_json::json!({
            "columns": ["source.ip", "source.nope", "time.source|extra."],
            "columns_required": [true],
            "column_regex_search": {"source.ip": "("},
            "compose_fields": {"source.url": "{0:>3}"},
            "data_type": "{\"extra.x\": \"yaml\"}",
            "delimiter": ";;",
            "filter_type": "greylist",
            "time_format": "from_format",
            "type": "not-a-type",
            "type_translation": {"a": "also-not-a-type"},
            "default_fields": {"source.port": "http"}
        }))
        .unwrap_or_default();
        let errors = GenericCsv::from_config(config).err().unwrap_or_default();
        expect![[r#"
            columns_required: has 1 entries but columns has 3
            columns[1]: "source.nope" is not an IntelMQ event field
            columns[2]: "extra." has no key after `extra.`
            column_regex_search["source.ip"]: invalid regular expression: regex parse error:
                (
                ^
            error: unclosed group
            compose_fields["source.url"]: unsupported field `{0:>3}` in "{0:>3}": only column numbers such as `{0}` are supported
            data_type["extra.x"]: unknown conversion "yaml"; only "json" exists
            delimiter: must be one character other than a quote or line break, got ";;"
            filter_type: expected "blacklist" or "whitelist", got "greylist"
            time_format: from_format needs a format: from_format|<format>
            type: classification.type: "not-a-type" is not a classification type
            type_translation["a"]: classification.type: "also-not-a-type" is not a classification type
            default_fields: source.port: "http" is not an integer"#]]
        .assert_eq(&errors.join("\n"));
        let unknown = serde_json::from_value::<GenericCsvConfig>(serde_json::json!({"colums": []}));
        assert!(unknown.is_err(), "unknown options are refused");
    }

    #[test]
    fn json_config_errors_are_reported_together() {
        let config: GenericJsonConfig = serde_json::from_value(serde_json::json!({
            "mapping": {"a..b": "source.ip", "c": "source.nope"},
            "time_format": "sundial"
        }))
        .unwrap_or_default();
        let errors = GenericJson::from_config(config).err().unwrap_or_default();
        expect![[r#"
            mapping: "a..b" is not a key path
            mapping["c"]: "source.nope" is not an IntelMQ event field
            time_format: unknown "sundial"; expected fuzzy, timestamp, epoch_millis, windows_nt, utc_isoformat, from_format|<format> or from_format_midnight|<format>"#]]
        .assert_eq(&errors.join("\n"));
        let both = IntelMqJsonConfig { splitlines: true, multiple_events: true };
        assert!(IntelMqJson::from_config(both).is_err());
    }

    #[test]
    fn key_value_config_errors_are_reported_together() {
        let config: KeyValueConfig = serde_json::from_value(serde_json::json!({
            "keys": {"src": "source.nope", "x": "extra."},
            "pair_separator": ""
        }))
        .unwrap_or_default();
        let errors = KeyValue::from_config(config).err().unwrap_or_default();
        expect![[r#"
            keys["src"]: "source.nope" is not an IntelMQ event field
            keys["x"]: "extra." has no key after `extra.`
            pair_separator: must not be empty"#]]
        .assert_eq(&errors.join("\n"));
        let none = KeyValue::from_config(KeyValueConfig::default()).err().unwrap_or_default();
        assert_eq!(none, ["keys: no keys are mapped to fields"]);
        assert!(serde_json::from_value::<KeyValueConfig>(serde_json::json!({"key": {}})).is_err());
    }

    /// Every parser of the group as the cases configure it, plus the registered ones.
    fn parsers() -> Vec<Box<dyn FeedParser>> {
        let mut parsers = all();
        for case in cases::list("generic") {
            if case.meta("config").is_some() {
                parsers.push(build_case(&case));
            }
        }
        parsers
    }

    fn samples() -> Vec<(usize, Vec<u8>)> {
        let cases = cases::list("generic");
        cases.into_iter().enumerate().map(|(index, case)| (index, case.raw)).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Arbitrary bytes never make a parser panic.
        #[test]
        fn arbitrary_bytes(raw in proptest::collection::vec(any::<u8>(), 0..512)) {
            for parser in parsers() {
                let parsed = parser.parse(&Report::new("fuzz", None, raw.clone()));
                for event in &parsed.events {
                    let raw = event.event.raw();
                    prop_assert_eq!(raw.as_deref(), Some(event.raw.as_bytes()));
                }
            }
        }

        /// Good inputs with bytes replaced, inserted or removed never make a parser panic.
        #[test]
        fn mutated_samples(
            pick in any::<proptest::sample::Index>(),
            edits in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>(), 0..3u8), 1..12),
        ) {
            let samples = samples();
            let (_, mut raw) = samples[pick.index(samples.len())].clone();
            for (at, byte, kind) in edits {
                let index = at.index(raw.len() + 1);
                match kind {
                    0 if index < raw.len() => raw[index] = byte,
                    1 => raw.insert(index, byte),
                    _ if index < raw.len() => {
                        raw.remove(index);
                    }
                    _ => raw.push(byte),
                }
            }
            for parser in parsers() {
                let parsed = parser.parse(&Report::new("fuzz", None, raw.clone()));
                for event in &parsed.events {
                    let raw = event.event.raw();
                    prop_assert_eq!(raw.as_deref(), Some(event.raw.as_bytes()));
                }
            }
        }
    }
}
