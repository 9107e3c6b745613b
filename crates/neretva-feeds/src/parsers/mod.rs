//! The parsers, grouped by kind; each group registers its parsers in its `all()`.

pub mod abusech;
pub mod anubisnetworks;
pub mod cert_eu;
pub mod certstream;
pub(crate) mod common;
pub mod cznic;
pub mod eset;
pub mod generic;
pub mod hibp;
pub mod lists;
pub mod microsoft;
pub mod misp_feed;
pub mod n6;
pub mod otx;
pub mod phishtank;
pub mod shadowserver;
pub mod shodan;
pub mod stix_indicators;
pub mod zoneh;

use crate::FeedParser;

/// Every built-in parser, in no particular order.
pub(crate) fn all() -> Vec<Box<dyn FeedParser>> {
    let mut all = Vec::new();
    all.extend(abusech::all());
    all.extend(anubisnetworks::all());
    all.extend(certstream::all());
    all.extend(cert_eu::all());
    all.extend(cznic::all());
    all.extend(eset::all());
    all.extend(generic::all());
    all.extend(hibp::all());
    all.extend(lists::all());
    all.extend(microsoft::all());
    all.extend(misp_feed::all());
    all.extend(n6::all());
    all.extend(otx::all());
    all.extend(phishtank::all());
    all.extend(shadowserver::all());
    all.extend(shodan::all());
    all.extend(stix_indicators::all());
    all.extend(zoneh::all());
    all
}

/// Builds a configurable parser from options; `None` when the parser takes no options.
pub(crate) fn configured(
    name: &str,
    options: &serde_json::Value,
) -> Option<Result<Box<dyn FeedParser>, Vec<String>>> {
    match name {
        "shadowserver" => Some(shadowserver_options(options)),
        "microsoft-ctip" => Some(ctip_options(options)),
        "eset" => Some(eset_options(options)),
        "shodan" => Some(shodan_options(options)),
        "anubisnetworks" => Some(anubisnetworks_options(options)),
        _ => generic::configured(name, options),
    }
}

/// Shadowserver options: `report_type` (a schema key, file name or feed name), `overwrite`, and
/// `schema` (a newer schema, as installed by `neretva feeds shadowserver-schema`).
fn shadowserver_options(options: &serde_json::Value) -> Result<Box<dyn FeedParser>, Vec<String>> {
    let mut errors = Vec::new();
    let mut parser = match options.get("schema") {
        None => shadowserver::ShadowserverParser::new(),
        Some(schema) => match serde_json::to_vec(schema)
            .map_err(|e| vec![e.to_string()])
            .and_then(|bytes| shadowserver::ShadowserverParser::from_schema_json(&bytes))
        {
            Ok(parser) => parser,
            Err(schema_errors) => {
                errors.extend(schema_errors.into_iter().map(|e| format!("schema: {e}")));
                shadowserver::ShadowserverParser::new()
            }
        },
    };
    for (key, value) in options.as_object().into_iter().flatten() {
        match (key.as_str(), value) {
            ("schema", _) => {}
            ("report_type", serde_json::Value::String(report_type)) => {
                if parser.schema().find(report_type).is_none() {
                    errors.push(format!("report_type: unknown Shadowserver report type {report_type:?}"));
                }
                parser = parser.with_report_type(report_type.clone());
            }
            ("overwrite", serde_json::Value::Bool(overwrite)) => parser = parser.with_overwrite(*overwrite),
            ("report_type" | "overwrite", other) => errors.push(format!("{key}: unexpected value {other}")),
            (other, _) => {
                errors.push(format!("unknown option {other:?}; expected report_type, overwrite or schema"))
            }
        }
    }
    if errors.is_empty() { Ok(Box::new(parser)) } else { Err(errors) }
}

/// The options of a parser that takes one switch, `name` (`true` or `false`): the parser
/// `build` makes of the switch (`None` when the options do not set it), or every problem of the
/// options.
fn switch_option<P: FeedParser + 'static>(
    options: &serde_json::Value,
    name: &str,
    build: impl Fn(Option<bool>) -> P,
) -> Result<Box<dyn FeedParser>, Vec<String>> {
    let mut errors = Vec::new();
    let mut switch = None;
    for (key, value) in options.as_object().into_iter().flatten() {
        match value {
            serde_json::Value::Bool(on) if key == name => switch = Some(*on),
            other if key == name => {
                errors.push(format!("{key}: unexpected value {other}; expected true or false"))
            }
            _ => errors.push(format!("unknown option {key:?}; expected {name}")),
        }
    }
    if errors.is_empty() { Ok(Box::new(build(switch))) } else { Err(errors) }
}

/// Microsoft CTIP options: `overwrite` (whether the feed's fields replace the report's).
fn ctip_options(options: &serde_json::Value) -> Result<Box<dyn FeedParser>, Vec<String>> {
    switch_option(options, "overwrite", |overwrite| {
        let parser = microsoft::CtipParser::default();
        match overwrite {
            Some(overwrite) => parser.with_overwrite(overwrite),
            None => parser,
        }
    })
}

/// Shodan options: `minimal_mode` (IntelMQ's: the address, service and time, and the banner as
/// `extra.shodan`).
fn shodan_options(options: &serde_json::Value) -> Result<Box<dyn FeedParser>, Vec<String>> {
    switch_option(options, "minimal_mode", |minimal| shodan::ShodanParser::minimal(minimal.unwrap_or(false)))
}

/// AnubisNetworks options: IntelMQ's `use_malware_familiy_as_classification_identifier` (whether
/// the malware family is `classification.identifier`, the default, or `extra.malware.family`).
fn anubisnetworks_options(options: &serde_json::Value) -> Result<Box<dyn FeedParser>, Vec<String>> {
    switch_option(options, anubisnetworks::FAMILY_OPTION, |as_identifier| {
        anubisnetworks::AnubisNetworksParser::family_as_identifier(as_identifier.unwrap_or(true))
    })
}

/// ESET options: `feed` (`ei.domains v2 (json)` or `ei.urls (json)`), for reports that do not
/// name theirs.
fn eset_options(options: &serde_json::Value) -> Result<Box<dyn FeedParser>, Vec<String>> {
    let mut errors = Vec::new();
    let mut parser = eset::EsetParser::default();
    for (key, value) in options.as_object().into_iter().flatten() {
        match (key.as_str(), value) {
            ("feed", serde_json::Value::String(feed)) => match eset::EsetParser::for_feed(feed) {
                Ok(for_feed) => parser = for_feed,
                Err(error) => errors.push(error),
            },
            ("feed", other) => errors.push(format!("feed: unexpected value {other}")),
            (other, _) => errors.push(format!("unknown option {other:?}; expected feed")),
        }
    }
    if errors.is_empty() { Ok(Box::new(parser)) } else { Err(errors) }
}
