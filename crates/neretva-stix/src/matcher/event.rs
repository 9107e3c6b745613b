//! Matching patterns against harmonised feed events.
//!
//! A feed event (IntelMQ field names, [`neretva_event::Event`]) becomes one observed-data object
//! with the cyber-observable objects below, observed once at `time.source` (or, without it,
//! `time.observation`, or else the time the caller gives), and the pattern is evaluated on it.
//!
//! | event fields | objects |
//! |---|---|
//! | `source.ip`, `destination.ip` | `ipv4-addr` or `ipv6-addr` with `value` |
//! | `source.network`, `destination.network` | `ipv4-addr` or `ipv6-addr` with the CIDR `value` |
//! | `source.fqdn`, `destination.fqdn` | `domain-name` with `value` (and `resolves_to_refs` to the address of the same side) |
//! | `source.url`, `destination.url` | `url` with `value` |
//! | `source.asn`, `.as_name` (either side) | `autonomous-system` with `number` and `name` |
//! | `source.account`, `destination.account` | `email-addr` with `value` if it holds `@`, else `user-account` with `account_login` |
//! | addresses, `source.port`, `destination.port`, `protocol.transport`, `protocol.application` | `network-traffic` with `src_ref`, `dst_ref`, `src_port`, `dst_port` and `protocols` (lower case, transport first) |
//! | `malware.hash.md5`, `.sha1`, `.sha256` | `file` with `hashes` `MD5`, `SHA-1`, `SHA-256` |
//!
//! Other fields have no cyber-observable counterpart and are not matched.

use neretva_event::{Event, Value as EventValue};
use serde_json::{Map, Value, json};

use crate::matcher::{MatchError, Matcher, Observations};
use crate::timestamp::Timestamp;

/// The observed data an event stands for: a bundle with one observed-data object and its
/// cyber-observable objects (identifiers are fixed placeholders, unique within the bundle).
pub fn event_observation(event: &Event, fallback_time: Timestamp) -> Value {
    let mut objects: Vec<Value> = Vec::new();
    let mut add = |kind: &str, mut properties: Map<String, Value>| -> String {
        let id = format!("{kind}--00000000-0000-4000-8000-{:012}", objects.len() + 1);
        properties.insert("type".to_owned(), Value::from(kind));
        properties.insert("spec_version".to_owned(), Value::from("2.1"));
        properties.insert("id".to_owned(), Value::from(id.as_str()));
        objects.push(Value::Object(properties));
        id
    };
    let text = |name: &str| event.get(name).map(ToString::to_string);
    let mut address_ids: [Option<String>; 2] = [None, None];
    for (side_index, side) in ["source", "destination"].into_iter().enumerate() {
        let field = |name: &str| format!("{side}.{name}");
        if let Some(ip) = event.get(&field("ip")) {
            let kind = match ip {
                EventValue::Ip(std::net::IpAddr::V6(_)) => "ipv6-addr",
                _ => "ipv4-addr",
            };
            address_ids[side_index] = Some(add(kind, object(&[("value", Value::from(ip.to_string()))])));
        }
        if let Some(network) = event.get(&field("network")) {
            let kind = if network.to_string().contains(':') { "ipv6-addr" } else { "ipv4-addr" };
            add(kind, object(&[("value", Value::from(network.to_string()))]));
        }
        if let Some(fqdn) = text(&field("fqdn")) {
            let mut properties = object(&[("value", Value::from(fqdn))]);
            if let Some(ip) = &address_ids[side_index] {
                properties.insert("resolves_to_refs".to_owned(), json!([ip]));
            }
            add("domain-name", properties);
        }
        if let Some(url) = text(&field("url")) {
            add("url", object(&[("value", Value::from(url))]));
        }
        if let Some(asn) = event.get(&field("asn")).and_then(EventValue::as_int) {
            let mut properties = object(&[("number", Value::from(asn))]);
            if let Some(name) = text(&field("as_name")) {
                properties.insert("name".to_owned(), Value::from(name));
            }
            add("autonomous-system", properties);
        }
        if let Some(account) = text(&field("account")) {
            if account.contains('@') {
                add("email-addr", object(&[("value", Value::from(account))]));
            } else {
                add("user-account", object(&[("account_login", Value::from(account))]));
            }
        }
    }
    let source_port = event.get("source.port").and_then(EventValue::as_int);
    let destination_port = event.get("destination.port").and_then(EventValue::as_int);
    if address_ids.iter().any(Option::is_some) || source_port.is_some() || destination_port.is_some() {
        let mut properties = Map::new();
        if let Some(id) = &address_ids[0] {
            properties.insert("src_ref".to_owned(), Value::from(id.as_str()));
        }
        if let Some(id) = &address_ids[1] {
            properties.insert("dst_ref".to_owned(), Value::from(id.as_str()));
        }
        if let Some(port) = source_port {
            properties.insert("src_port".to_owned(), Value::from(port));
        }
        if let Some(port) = destination_port {
            properties.insert("dst_port".to_owned(), Value::from(port));
        }
        let protocols: Vec<Value> = ["protocol.transport", "protocol.application"]
            .iter()
            .filter_map(|name| text(name))
            .map(|p| Value::from(p.to_lowercase()))
            .collect();
        if !protocols.is_empty() {
            properties.insert("protocols".to_owned(), Value::Array(protocols));
        }
        add("network-traffic", properties);
    }
    let hashes: Map<String, Value> =
        [("malware.hash.md5", "MD5"), ("malware.hash.sha1", "SHA-1"), ("malware.hash.sha256", "SHA-256")]
            .iter()
            .filter_map(|(field, algorithm)| text(field).map(|h| ((*algorithm).to_owned(), Value::from(h))))
            .collect();
    if !hashes.is_empty() {
        add("file", object(&[("hashes", Value::Object(hashes))]));
    }
    let time = ["time.source", "time.observation"]
        .iter()
        .find_map(|name| match event.get(name) {
            Some(EventValue::Time(t)) => {
                i64::try_from(t.unix_timestamp_nanos() / 1000).ok().and_then(Timestamp::from_unix_micros)
            }
            _ => None,
        })
        .unwrap_or(fallback_time)
        .to_string();
    let refs: Vec<Value> = objects.iter().filter_map(|o| o.get("id").cloned()).collect();
    let observed = json!({
        "type": "observed-data",
        "spec_version": "2.1",
        "id": "observed-data--00000000-0000-4000-8000-000000000000",
        "created": time,
        "modified": time,
        "first_observed": time,
        "last_observed": time,
        "number_observed": 1,
        "object_refs": refs,
    });
    objects.insert(0, observed);
    json!({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000", "objects": objects})
}

fn object(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

/// Whether a compiled pattern matches one feed event (see the module's mapping).
pub fn match_event(matcher: &Matcher, event: &Event, fallback_time: Timestamp) -> Result<bool, MatchError> {
    let bundle = event_observation(event, fallback_time);
    matcher.matches(&Observations::from_json(&bundle)?)
}
