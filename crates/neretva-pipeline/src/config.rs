//! The pipeline's configuration: feeds, deduplication, rules, enrichment, sinks and limits.
//!
//! Two stages, like the rest of Neretva's configuration: [`PipelineConfig`] is what the TOML
//! file says (unknown keys are errors); [`PipelineConfig::compile`] checks everything and
//! reports every problem at once.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::transforms::dedupe::KeyFields;
use crate::transforms::rules::{RuleConfig, known_field};

/// The `[pipeline]` section and its `[[pipeline.feeds]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    pub feeds: Vec<FeedConfig>,
    pub dedup: DedupConfig,
    pub rules: Vec<RuleConfig>,
    /// An iptoasn TSV or MaxMind ASN MMDB file, also gzipped or in a zip or tar archive.
    pub asn_table: Option<PathBuf>,
    /// A MaxMind-format country or city database (GeoLite2-Country, GeoLite2-City), also in
    /// the archive it is published in.
    pub geoip_table: Option<PathBuf>,
    /// Countries from `geoip_table` are where networks are registered, not where they are used.
    pub geoip_registered_country: bool,
    /// How often `neretva serve` looks whether the files of `asn_table` and `geoip_table`
    /// changed, to load them again; 0 never.
    pub table_check_seconds: u64,
    pub sinks: Vec<SinkConfig>,
    pub limits: LimitsConfig,
    /// Events observed longer ago than this many days are purged; 0 keeps them forever.
    pub retention_days: u32,
    /// The raw data of reports received longer ago than this many days is purged (their
    /// counts, errors and events stay, and the same content is still recognised); 0 keeps it.
    pub report_retention_days: u32,
}

impl Default for PipelineConfig {
    fn default() -> PipelineConfig {
        PipelineConfig {
            feeds: Vec::new(),
            dedup: DedupConfig::default(),
            rules: Vec::new(),
            asn_table: None,
            geoip_table: None,
            geoip_registered_country: false,
            table_check_seconds: 300,
            sinks: Vec::new(),
            limits: LimitsConfig::default(),
            retention_days: 0,
            report_retention_days: 0,
        }
    }
}

/// One feed: where reports come from and which parser reads them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedConfig {
    /// The feed's name, used on the command line and stored with every event (`feed.name`).
    pub name: String,
    /// A parser from `neretva feeds list`.
    pub parser: String,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub documentation: Option<String>,
    /// 0 to 100.
    #[serde(default)]
    pub accuracy: Option<f64>,
    /// Options of configurable parsers (generic CSV and JSON mappings, Shadowserver report type).
    #[serde(default)]
    pub parser_options: BTreeMap<String, serde_json::Value>,
    /// Where `neretva serve` gets the feed's reports from (a directory, a URL or a file); none
    /// means only `neretva ingest` and uploads bring them in.
    #[serde(default)]
    pub source: Option<crate::sources::SourceConfig>,
}

impl FeedConfig {
    /// A feed named after its parser, without options or a source: it takes uploads and
    /// `neretva ingest` only.
    pub fn for_parser(parser: &str) -> FeedConfig {
        FeedConfig {
            name: parser.to_owned(),
            parser: parser.to_owned(),
            provider: None,
            url: None,
            code: None,
            documentation: None,
            accuracy: None,
            parser_options: BTreeMap::new(),
            source: None,
        }
    }
}

/// Deduplication: events with equal key fields within the window are stored once.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DedupConfig {
    pub enabled: bool,
    /// Key fields (IntelMQ's deduplicator `filter_type = "whitelist"`); when empty, the key is
    /// every field but `ignore_fields`.
    pub fields: Vec<String>,
    /// The fields left out of the key when `fields` is empty (IntelMQ's `filter_type =
    /// "blacklist"`); `raw` and `time.observation` when not given, IntelMQ's default.
    pub ignore_fields: Option<Vec<String>>,
    pub window_hours: u32,
}

impl Default for DedupConfig {
    fn default() -> DedupConfig {
        DedupConfig { enabled: true, fields: Vec::new(), ignore_fields: None, window_hours: 24 }
    }
}

impl DedupConfig {
    /// The fields that make an event's key.
    pub fn key_fields(&self) -> KeyFields {
        match (&self.ignore_fields, self.fields.is_empty()) {
            (_, false) => KeyFields::Only(self.fields.clone()),
            (Some(ignored), true) => KeyFields::AllBut(ignored.clone()),
            (None, true) => KeyFields::default(),
        }
    }
}

/// Where events go besides the event store.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "lowercase")]
pub enum SinkConfig {
    /// IntelMQ JSON lines appended to a file.
    Jsonl { path: PathBuf },
    /// CSV with a header, the given fields as columns, appended to a file.
    Csv { path: PathBuf, fields: Vec<String> },
    /// Batches of events POSTed as a JSON array of IntelMQ JSON objects.
    Webhook {
        url: String,
        /// Extra request headers, e.g. an API key.
        #[serde(default)]
        headers: BTreeMap<String, String>,
        /// Events per request (default 1000).
        #[serde(default)]
        batch: Option<usize>,
        #[serde(default)]
        timeout_seconds: Option<u64>,
    },
}

/// Limits against hostile reports.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// The largest report accepted, after decompression.
    pub max_report_bytes: u64,
    /// Lines longer than this are errors, not events.
    pub max_line_bytes: usize,
}

impl Default for LimitsConfig {
    fn default() -> LimitsConfig {
        LimitsConfig { max_report_bytes: 512 * 1024 * 1024, max_line_bytes: 1024 * 1024 }
    }
}

impl PipelineConfig {
    /// Checks everything that can be checked without IO; returns every problem.
    pub fn check(&self) -> Vec<String> {
        let mut errors = Vec::new();
        let mut names = std::collections::HashSet::new();
        for (index, feed) in self.feeds.iter().enumerate() {
            let at = format!("pipeline.feeds[{index}] ({})", feed.name);
            if feed.name.trim().is_empty() {
                errors.push(format!("{at}: name must not be empty"));
            }
            if !names.insert(feed.name.as_str()) {
                errors.push(format!("{at}: another feed has the same name"));
            }
            if neretva_feeds::parser(&feed.parser).is_none() {
                errors.push(format!("{at}: unknown parser {:?}; see `neretva feeds list`", feed.parser));
            }
            if let Some(accuracy) = feed.accuracy
                && !(0.0..=100.0).contains(&accuracy)
            {
                errors.push(format!("{at}: accuracy {accuracy} must be 0 to 100"));
            }
            if let Some(source) = &feed.source {
                errors.extend(source.check().into_iter().map(|e| format!("{at}: {e}")));
                if matches!(source, crate::sources::SourceConfig::MispFeed(_)) && feed.parser != "misp-feed" {
                    errors.push(format!(
                        "{at}: a misp-feed source brings MISP events, which the parser \"misp-feed\" reads, not {:?}",
                        feed.parser
                    ));
                }
            }
        }
        for (key, fields) in
            [("fields", Some(&self.dedup.fields)), ("ignore_fields", self.dedup.ignore_fields.as_ref())]
        {
            for field in fields.into_iter().flatten() {
                if !known_field(field) {
                    errors.push(format!("pipeline.dedup.{key}: unknown field {field:?}"));
                }
            }
        }
        if !self.dedup.fields.is_empty() && self.dedup.ignore_fields.is_some() {
            errors.push(
                "pipeline.dedup: give fields (the key) or ignore_fields (everything else is the key), not both"
                    .into(),
            );
        }
        if self.dedup.enabled && self.dedup.window_hours == 0 {
            errors
                .push("pipeline.dedup.window_hours: must be at least 1 when deduplication is enabled".into());
        }
        if let Err(rule_errors) = crate::transforms::rules::compile(&self.rules) {
            errors.extend(rule_errors.into_iter().map(|e| format!("pipeline.{e}")));
        }
        for (index, sink) in self.sinks.iter().enumerate() {
            if let SinkConfig::Webhook { url, batch, .. } = sink {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    errors.push(format!(
                        "pipeline.sinks[{index}]: webhook url {url:?} must start with http:// or https://"
                    ));
                }
                if batch.is_some_and(|batch| !(1..=100_000).contains(&batch)) {
                    errors.push(format!("pipeline.sinks[{index}]: batch must be 1 to 100000"));
                }
            }
            if let SinkConfig::Csv { fields, .. } = sink {
                if fields.is_empty() {
                    errors.push(format!("pipeline.sinks[{index}]: a CSV sink needs fields"));
                }
                for field in fields {
                    if !known_field(field) {
                        errors.push(format!("pipeline.sinks[{index}]: unknown field {field:?}"));
                    }
                }
            }
        }
        if self.limits.max_line_bytes < 1024 {
            errors.push("pipeline.limits.max_line_bytes: must be at least 1024".into());
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dedup(fields: &[&str], ignore: Option<&[&str]>) -> PipelineConfig {
        let owned = |list: &[&str]| list.iter().map(|f| (*f).to_owned()).collect::<Vec<_>>();
        PipelineConfig {
            dedup: DedupConfig {
                fields: owned(fields),
                ignore_fields: ignore.map(owned),
                ..DedupConfig::default()
            },
            ..PipelineConfig::default()
        }
    }

    #[test]
    fn deduplication_keys_as_intelmq_configures_them() {
        let default = KeyFields::AllBut(vec!["raw".to_owned(), "time.observation".to_owned()]);
        assert_eq!(dedup(&[], None).dedup.key_fields(), default);
        assert_eq!(
            dedup(&["source.ip"], None).dedup.key_fields(),
            KeyFields::Only(vec!["source.ip".to_owned()])
        );
        assert_eq!(
            dedup(&[], Some(&["raw", "time.observation", "extra.count"])).dedup.key_fields(),
            KeyFields::AllBut(vec![
                "raw".to_owned(),
                "time.observation".to_owned(),
                "extra.count".to_owned()
            ])
        );
        expect_test::expect![[r#"
            pipeline.dedup.fields: unknown field "source.nothing"
            pipeline.dedup.ignore_fields: unknown field "no.field"
            pipeline.dedup: give fields (the key) or ignore_fields (everything else is the key), not both"#]]
        .assert_eq(&dedup(&["source.nothing"], Some(&["no.field"])).check().join("\n"));
    }
}
