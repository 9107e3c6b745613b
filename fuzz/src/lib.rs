//! What the feed parser fuzz targets share: building the parser and the report from the fuzzer's
//! bytes, and the checks every parser must pass on any input (the property tests' own,
//! `crates/neretva-feeds/tests/support/invariants.rs`).

use std::collections::BTreeMap;

use neretva_feeds::parsers::shadowserver::{ShadowserverParser, shadowserver_report_types};
use neretva_feeds::{FeedParser, Report};

#[path = "../../crates/neretva-feeds/tests/support/invariants.rs"]
mod invariants;

/// Runs the parser `name` on `data` and checks it.
///
/// - `shadowserver`: the first byte picks one of the schema's report types, so every type's
///   plan is fuzzed, not only the one a file name would pick.
/// - `generic-csv`, `generic-json`: the first line is the parser's options (a JSON object, as
///   in a feed's `parser_options`); options it refuses fall back to the parser's defaults, so
///   the configuration's checks are fuzzed too.
/// - every other parser: all of `data` is the report.
pub fn feed_parser(name: &str, data: &[u8]) {
    let (parser, body): (Box<dyn FeedParser>, &[u8]) = match name {
        "shadowserver" => {
            let Some((selector, body)) = data.split_first() else { return };
            let types = shadowserver_report_types();
            let Some(report_type) = types.get(usize::from(*selector) % types.len().max(1)) else { return };
            (Box::new(ShadowserverParser::new().with_report_type(*report_type)), body)
        }
        "generic-csv" | "generic-json" | "key-value" => {
            let (first, body) = match data.iter().position(|&b| b == b'\n') {
                Some(end) => (&data[..end], &data[end + 1..]),
                None => (data, &[][..]),
            };
            let options: BTreeMap<String, serde_json::Value> =
                serde_json::from_slice(first).unwrap_or_default();
            let parser =
                neretva_feeds::configured(name, &options).ok().or_else(|| neretva_feeds::parser(name));
            let Some(parser) = parser else { return };
            (parser, body)
        }
        _ => {
            let Some(parser) = neretva_feeds::parser(name) else { return };
            (parser, data)
        }
    };
    let mut report = Report::new(name, Some(time::OffsetDateTime::UNIX_EPOCH), body.to_vec());
    // Parsers that read the download's name (Blocklist.de, Bambenek, DShield AS) get one.
    report.feed_url = Some("https://example.org/lists/all.txt?as=64500".to_owned());
    invariants::check(parser.as_ref(), &report);
}

/// Every feed parser's name, for the target that picks the parser by the first byte.
pub fn parser_names() -> Vec<&'static str> {
    neretva_feeds::parsers().iter().map(|parser| parser.name()).collect()
}

#[cfg(test)]
mod tests {
    /// Every parser through the targets' path on a few inputs, so the shared code runs on a
    /// stable toolchain too (`cargo test --manifest-path fuzz/Cargo.toml --lib`).
    #[test]
    fn every_parser_passes_its_checks_on_small_inputs() {
        let inputs: [&[u8]; 5] = [
            b"",
            b"\x05\"timestamp\",\"ip\",\"port\"\n\"2026-01-01 00:00:00\",\"192.0.2.1\",\"53\"\n",
            b"{\"columns\": [\"source.ip\", \"time.source\"], \"type\": \"scanner\"}\n192.0.2.1,2026-01-01T00:00:00Z\n",
            b"192.0.2.1\n# comment\n198.51.100.0/24 ; SBL1\n",
            b"{\"source.ip\": \"192.0.2.1\", \"classification.type\": \"scanner\"}\n[1, 2]\n\xff\xfe\n",
        ];
        for name in super::parser_names() {
            for input in inputs {
                super::feed_parser(name, input);
            }
        }
    }
}
