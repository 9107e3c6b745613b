//! AnubisNetworks Cyberfeed (`anubisnetworks`, now Bitsight's): the connections of infected
//! machines to its sinkholes, the stream Bitsight gives CERTs for their networks, as IntelMQ
//! 3.5.0's `AnubisNetworksParserBot` reads it: one event as the whole report (what IntelMQ's
//! stream collector sends) or JSON lines of events.
//!
//! Every event is `classification.type` `infected-system` (taxonomy `malicious-code`,
//! `event_description.text` "Sinkhole attempted connection"). The members are read as IntelMQ
//! reads them: `_ts` (seconds) `time.source`; `trojanfamily` and `malw.variant` `malware.name`;
//! `malw.family` `classification.identifier` (or `extra.malware.family` with the option
//! `use_malware_familiy_as_classification_identifier = false`, when it differs from the
//! variant); `env`, `src` and `dst` the addresses and ports of both sides and the sinkhole's
//! name; `comm` the protocol, the HTTP request (method, host, path, user agent, headers,
//! cookies; `destination.url` from them) or the DNS query; `tracking`, `metadata`, `_origin`,
//! `_provider`, `pattern_verified` and the severity and categories into `extra.*`; the
//! geolocation members (`_geo_src_ip`, `_geo_env_remote_addr`, `_geo_tracking_last_ip`,
//! `_geo_comm_http_host`, `_geo_comm_http_x_forwarded_for_…`) into the source's fields or, where
//! IntelMQ's data format has none, into `extra.*` under the same name. `feed.url` loses
//! everything from `?key=` on, so the stream's key never reaches an event. `raw` is the event's
//! text. Sinkhole test events (`malware.name` `testsinkholingloss`) give no event.
//!
//! A member IntelMQ does not know fails the event with its name, as in IntelMQ (its meaning
//! would otherwise be lost silently), and so does a value its field does not take.
//!
//! Deliberate differences from IntelMQ: a field given twice (the malware as `trojanfamily` and
//! as `malw.variant`, the sinkhole's name in `env` and in `comm`) keeps its first value; IntelMQ
//! fails the event. A report without `feed.url` still gives events.

use neretva_event::FieldId;
use serde_json::Value;

use crate::parsers::common::json::{for_each_object_event, set_json_value, unix_time};
use crate::parsers::common::ordered_json::{Json, member};
use crate::{Event, FeedParser, Parsed, Report};

/// Every parser of this group.
pub(crate) fn all() -> Vec<Box<dyn FeedParser>> {
    vec![Box::new(AnubisNetworksParser::default())]
}

/// AnubisNetworks Cyberfeed (`anubisnetworks`).
#[derive(Debug, Clone, Copy)]
pub struct AnubisNetworksParser {
    family_as_identifier: bool,
}

impl Default for AnubisNetworksParser {
    fn default() -> Self {
        Self { family_as_identifier: true }
    }
}

impl AnubisNetworksParser {
    /// IntelMQ's `use_malware_familiy_as_classification_identifier`: `malw.family` as
    /// `classification.identifier` (the default), or as `extra.malware.family`.
    pub fn family_as_identifier(family_as_identifier: bool) -> Self {
        Self { family_as_identifier }
    }

    /// Applies IntelMQ bot parameters: `use_malware_familiy_as_classification_identifier`.
    pub fn with_intelmq_parameters(self, parameters: &Value) -> Self {
        match parameters.get(FAMILY_OPTION).and_then(Value::as_bool) {
            Some(family_as_identifier) => Self { family_as_identifier },
            None => self,
        }
    }
}

/// The option's name, as IntelMQ spells it.
pub const FAMILY_OPTION: &str = "use_malware_familiy_as_classification_identifier";

/// `_geo_env_remote_addr`'s members and their fields.
const GEO_ENV_REMOTE_ADDR: &[(&str, &str)] = &[
    ("country_code", "source.geolocation.cc"),
    ("country_name", "source.geolocation.country"),
    ("region", "source.geolocation.region"),
    ("city", "source.geolocation.city"),
    ("asn_name", "source.as_name"),
    ("asn", "source.asn"),
    ("longitude", "source.geolocation.longitude"),
    ("latitude", "source.geolocation.latitude"),
];

/// Members of `env`, `malw` and `comm` kept as `extra.<member>`.
const REQUEST_MEMBERS: &[&str] = &["request_method", "cookies", "path_info", "http_referer"];

/// `tracking`'s members and their `extra.*` members.
const TRACKING: &[(&str, &str)] = &[
    ("id", "extra.tracking.id"),
    ("last_ip", "extra.tracking.last.ip"),
    ("first", "extra.first_seen"),
    ("seen", "extra.last_seen"),
    ("changes", "extra.tracking.changes"),
    ("checkins", "extra.tracking.checkins"),
    ("days", "extra.days_seen"),
    ("same_ip", "extra.tracking.same_ip"),
    ("tr", "extra.tracking.tr"),
];

/// A geolocation object's members that go to `<namespace>.geolocation.<member>`.
const GEO_MEMBERS: &[&str] = &[
    "region_code",
    "postal_code",
    "region",
    "city",
    "latitude",
    "longitude",
    "dma_code",
    "area_code",
    "metro_code",
];

/// What went wrong with an event: the member or field concerned and the message.
type EventError = (String, String);

impl FeedParser for AnubisNetworksParser {
    fn name(&self) -> &'static str {
        "anubisnetworks"
    }

    fn description(&self) -> &'static str {
        "AnubisNetworks (Bitsight) Cyberfeed: infected machines' connections to its sinkholes (JSON)"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let text = String::from_utf8_lossy(&report.raw);
        let mut parsed = Parsed::default();
        for_each_object_event(&text, &mut parsed, "an event", |members, _| self.event(report, members));
        parsed
    }
}

/// An object's members, or an error naming the member that is not an object.
fn object<'a>(name: &str, value: &'a Json) -> Result<&'a [(String, Json)], EventError> {
    match value {
        Json::Object(members) => Ok(members),
        Json::Other(_) => Err((name.to_owned(), format!("`{name}` is not an object"))),
    }
}

/// The text of a JSON value as Python's `str.format` writes it.
fn text(value: &Json) -> String {
    match value {
        Json::Other(Value::String(text)) => text.clone(),
        other => other.to_value().to_string(),
    }
}

/// Builds one event's fields, as IntelMQ's `event.add` and `event[…] =` do.
struct Fields {
    event: Event,
}

impl Fields {
    /// Sets a field or member, replacing it; a value it does not take fails the event.
    fn put(&mut self, field: &str, value: &Json) -> Result<(), EventError> {
        set_json_value(&mut self.event, field, &value.to_value())
            .map_err(|error| (field.to_owned(), error.value_and_reason()))
    }

    /// Sets a field unless it is set already (the first value stays).
    fn add(&mut self, field: &str, value: &Json) -> Result<(), EventError> {
        if self.event.contains(field) { Ok(()) } else { self.put(field, value) }
    }

    /// Sets a field unless it is set; a value it does not take is left out. Whether it was set.
    fn try_add(&mut self, field: &str, value: &Json) -> bool {
        if self.event.contains(field) {
            return true;
        }
        self.put(field, value).is_ok() && self.event.contains(field)
    }

    /// Sets a field of IntelMQ's data format, or `extra.<field>` when the format has none of
    /// that name (IntelMQ's `event_add_fallback`).
    fn put_or_extra(&mut self, field: &str, value: &Json) -> Result<(), EventError> {
        if neretva_event::FieldId::from_name(field).is_some() {
            self.put(field, value)
        } else {
            self.put(&format!("extra.{field}"), value)
        }
    }
}

impl AnubisNetworksParser {
    /// The event of one record; `None` for the sinkhole's test events.
    fn event(&self, report: &Report, members: &[(String, Json)]) -> Result<Option<Event>, EventError> {
        let mut fields = Fields { event: report.new_event() };
        if let Some(url) = &report.feed_url {
            let without_key = url.split("?key=").next().unwrap_or_default();
            fields.put("feed.url", &Json::Other(Value::from(without_key)))?;
        }
        let constant = |text: &str| Json::Other(Value::from(text));
        fields.put("classification.type", &constant("infected-system"))?;
        fields.put("classification.taxonomy", &constant("malicious-code"))?;
        fields.put("event_description.text", &constant("Sinkhole attempted connection"))?;
        let dst_ip = member(members, "dst").and_then(|dst| match dst {
            Json::Object(dst) => member(dst, "ip").map(Json::to_value),
            Json::Other(_) => None,
        });
        for (key, value) in members {
            match key.as_str() {
                "_ts" => {
                    let time = unix_time(&value.to_value())
                        .ok_or_else(|| ("_ts".to_owned(), "not a time in seconds".to_owned()))?;
                    if !fields.event.contains("time.source") {
                        let _ =
                            fields.event.set_value_id(FieldId::TIME_SOURCE, neretva_event::Value::Time(time));
                    }
                }
                "trojanfamily" => fields.add("malware.name", value)?,
                "env" => {
                    for (sub, subvalue) in object(key, value)? {
                        match sub.as_str() {
                            "remote_addr" => fields.add("source.ip", subvalue)?,
                            "remote_port" => fields.add("source.port", subvalue)?,
                            "server_addr" => fields.add("destination.ip", subvalue)?,
                            "server_port" => fields.add("destination.port", subvalue)?,
                            "server_name" => {
                                fields.try_add("destination.fqdn", subvalue);
                            }
                            other if REQUEST_MEMBERS.contains(&other) => {
                                fields.put(&format!("extra.{other}"), subvalue)?
                            }
                            other => return Err(unknown(&format!("env.{other}"))),
                        }
                    }
                }
                "src" | "dst" => {
                    let side = if key == "src" { "source" } else { "destination" };
                    for (sub, subvalue) in object(key, value)? {
                        match sub.as_str() {
                            "ip" | "port" => fields.add(&format!("{side}.{sub}"), subvalue)?,
                            other => return Err(unknown(&format!("{key}.{other}"))),
                        }
                    }
                }
                "_geo_env_remote_addr" => {
                    let geo = object(key, value)?;
                    for (name, field) in GEO_ENV_REMOTE_ADDR {
                        if let Some(value) = member(geo, name) {
                            fields.put(field, value)?;
                        }
                    }
                    if let (Some(ip), Some(netmask)) = (member(geo, "ip"), member(geo, "netmask")) {
                        let network = format!("{}/{}", text(ip), text(netmask));
                        fields.add("source.network", &Json::Other(Value::from(network)))?;
                    }
                }
                "qtype" => fields.put("extra.dns_query_type", value)?,
                "app_proto" => fields.put("protocol.application", value)?,
                "malw" => {
                    let malw = object(key, value)?;
                    for (sub, subvalue) in malw {
                        match sub.as_str() {
                            "severity" => fields.add("extra.malware.severity", subvalue)?,
                            "family" if self.family_as_identifier => {
                                fields.add("classification.identifier", subvalue)?
                            }
                            "family" => {
                                let variant = member(malw, "variant").map(Json::to_value);
                                if variant.as_ref() != Some(&subvalue.to_value()) {
                                    fields.add("extra.malware.family", subvalue)?;
                                }
                            }
                            "variant" => fields.add("malware.name", subvalue)?,
                            "categories" => fields.add("extra.malware.categories", subvalue)?,
                            other if REQUEST_MEMBERS.contains(&other) => {
                                fields.put(&format!("extra.{other}"), subvalue)?
                            }
                            other => return Err(unknown(&format!("malw.{other}"))),
                        }
                    }
                }
                "comm" => Self::communication(&mut fields, value, dst_ip.as_ref())?,
                "tracking" => {
                    for (sub, subvalue) in object(key, value)? {
                        let Some((_, field)) = TRACKING.iter().find(|(name, _)| name == sub) else {
                            return Err(unknown(&format!("tracking.{sub}")));
                        };
                        fields.add(field, subvalue)?;
                    }
                }
                "_geo_src_ip" => geolocation(&mut fields, key, value, "source", None)?,
                "_geo_tracking_last_ip" => {
                    geolocation(&mut fields, key, value, "tracking.last", Some("tracking.last_ip"))?
                }
                "_geo_comm_http_host" => {
                    geolocation(&mut fields, key, value, "communication.http.host", Some("comm.http.host"))?
                }
                other if other.starts_with("_geo_comm_http_x_forwarded_for_") => {
                    let name = other.replace('#', "");
                    let namespace = format!("communication.http.{}", &name["_geo_comm_http_".len()..]);
                    geolocation(&mut fields, key, value, &namespace, None)?
                }
                "_origin" | "_provider" | "pattern_verified" => fields.put(&format!("extra.{key}"), value)?,
                "metadata" => {
                    for (sub, subvalue) in object(key, value)? {
                        fields.put(&format!("extra.metadata.{sub}"), subvalue)?;
                    }
                }
                other => return Err(unknown(other)),
            }
        }
        let test_event = fields.event.get_str("malware.name") == Some("testsinkholingloss");
        Ok((!test_event).then_some(fields.event))
    }

    /// `comm`: the protocol, the HTTP request or the DNS query.
    fn communication(fields: &mut Fields, value: &Json, dst_ip: Option<&Value>) -> Result<(), EventError> {
        let comm = object("comm", value)?;
        for (sub, subvalue) in comm {
            match sub.as_str() {
                "proto" => fields.put("protocol.application", subvalue)?,
                "method" => fields.add("extra.communication.type", subvalue)?,
                "http" => {
                    let http = object("comm.http", subvalue)?;
                    for (name, item) in http {
                        match name.as_str() {
                            "method" => fields.add("extra.request_method", item)?,
                            "host" => {
                                // A host that is no domain name is an address: kept apart unless
                                // it is the destination's.
                                if !fields.try_add("destination.fqdn", item)
                                    && Some(&item.to_value()) != dst_ip
                                {
                                    fields.add("extra.communication.http_host", item)?;
                                }
                            }
                            "path" => fields.add("destination.urlpath", item)?,
                            "user_agent" => fields.add("extra.user_agent", item)?,
                            "more_headers" => fields.add("extra.communication.headers", item)?,
                            "cookies" | "unverified_domain" | "x_forwarded_for" => {
                                fields.add(&format!("extra.communication.{name}"), item)?
                            }
                            other => return Err(unknown(&format!("comm.http.{other}"))),
                        }
                    }
                    if let (Some(proto), Some(host), Some(path)) =
                        (member(comm, "proto"), member(http, "host"), member(http, "path"))
                    {
                        let url = format!("{}://{}{}", text(proto), text(host), text(path));
                        fields.add("destination.url", &Json::Other(Value::from(url)))?;
                    }
                }
                "dns" => {
                    for (name, item) in object("comm.dns", subvalue)? {
                        match name.as_str() {
                            "name" => fields.add("destination.fqdn", item)?,
                            "qtype" => fields.put("extra.dns_query_type", item)?,
                            other => return Err(unknown(&format!("comm.dns.{other}"))),
                        }
                    }
                }
                "categories" => fields.add("extra.malware.categories", subvalue)?,
                other if REQUEST_MEMBERS.contains(&other) => {
                    fields.put(&format!("extra.{other}"), subvalue)?
                }
                other => return Err(unknown(&format!("comm.{other}"))),
            }
        }
        Ok(())
    }
}

/// A geolocation object into `<namespace>.*` (IntelMQ's `parse_geo`); with `path`, the object's
/// `path` must name it.
fn geolocation(
    fields: &mut Fields,
    key: &str,
    value: &Json,
    namespace: &str,
    path: Option<&str>,
) -> Result<(), EventError> {
    let geo = object(key, value)?;
    for (name, item) in geo {
        match name.as_str() {
            "ip" | "path" => {}
            "netmask" => {
                let ip = member(geo, "ip").map(text).unwrap_or_default();
                let network = format!("{ip}/{}", text(item));
                fields.put_or_extra(&format!("{namespace}.network"), &Json::Other(Value::from(network)))?;
            }
            "country_code" => fields.put_or_extra(&format!("{namespace}.geolocation.cc"), item)?,
            "country_name" => fields.put_or_extra(&format!("{namespace}.geolocation.country"), item)?,
            "asn" => fields.put_or_extra(&format!("{namespace}.asn"), item)?,
            "asn_name" => fields.put_or_extra(&format!("{namespace}.as_name"), item)?,
            other if GEO_MEMBERS.contains(&other) => {
                fields.put_or_extra(&format!("{namespace}.geolocation.{other}"), item)?
            }
            other => return Err(unknown(&format!("{key}.{other}"))),
        }
    }
    if let Some(expected) = path {
        let found = member(geo, "path").map(Json::to_value);
        if found.as_ref().and_then(Value::as_str) != Some(expected) {
            return Err((format!("{key}.path"), format!("`{key}.path` is not {expected:?}")));
        }
    }
    Ok(())
}

/// A member IntelMQ does not know.
fn unknown(name: &str) -> EventError {
    (name.to_owned(), format!("unknown member `{name}` (IntelMQ cannot read it either)"))
}

#[cfg(test)]
mod tests {
    use super::FAMILY_OPTION;
    use crate::Report;

    const EVENT: &str = r#"{"_ts": 1795941302, "src": {"ip": "192.0.2.81", "port": 1},
        "malw": {"family": "QakBot", "variant": "qakbot"}}"#;

    fn fields(options: serde_json::Value) -> Option<(Option<String>, Option<String>)> {
        let parser = crate::parsers::configured("anubisnetworks", &options)?.ok()?;
        let parsed = parser.parse(&Report::new("anubisnetworks", None, EVENT.as_bytes().to_vec()));
        let event = &parsed.events.first()?.event;
        let text = |name: &str| event.get(name).map(ToString::to_string);
        Some((text("classification.identifier"), text("extra.malware.family")))
    }

    #[test]
    fn the_family_is_the_identifier_unless_told_otherwise() {
        let identifier = (Some("QakBot".to_owned()), None);
        assert_eq!(fields(serde_json::json!({})), Some(identifier.clone()));
        assert_eq!(fields(serde_json::json!({FAMILY_OPTION: true})), Some(identifier));
        assert_eq!(
            fields(serde_json::json!({FAMILY_OPTION: false})),
            Some((None, Some("QakBot".to_owned())))
        );
        let options = serde_json::json!({FAMILY_OPTION: "yes", "colour": 1});
        let errors = match crate::parsers::configured("anubisnetworks", &options) {
            Some(Err(errors)) => errors,
            _ => Vec::new(),
        };
        assert_eq!(errors.len(), 2, "{errors:?}");
    }
}
