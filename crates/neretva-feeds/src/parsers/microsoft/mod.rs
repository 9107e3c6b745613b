//! Microsoft's Cyber Threat Intelligence Program (`microsoft-ctip`): the infected hosts Microsoft's
//! Digital Crimes Unit sees at its sinkholes and sensors, sent to national CERTs and network
//! owners, in both of its forms, as IntelMQ 3.5.0's `MicrosoftCTIPParserBot` reads them.
//!
//! - **Azure** (CTIP Infected and C2 from the Azure blob store): one JSON object per line
//!   (`DataFeed`, `SourcedFrom`, `DateTimeReceivedUtc` in Windows NT time, `ThreatCode`,
//!   `ThreatConfidence`, `TLP`, `SourceIp`, `SourceIpInfo`, `HttpInfo`, `CustomInfo`, `Payload`,
//!   …). Nested objects become `<key>.<member>` and are mapped by IntelMQ's table ([`AZURE`]);
//!   `Payload` is base64 of a JSON object (its members mapped as `Payload.<member>`), base64 of
//!   text (`extra.payload.text`), or a JSON object's text (each member as
//!   `extra.payload.<member>`). `ThreatConfidence` (High, Medium, Low, Informational) scales
//!   `feed.accuracy` by 100, 50, 20 or 10 %; `TLP` `Unknown` is left out; empty values, zeros and
//!   empty objects are left out. The feed's own fields replace what the report says
//!   (`DataFeed` becomes `feed.name`) unless the parser's option `overwrite` is `false`.
//!   `raw` is the line.
//! - **Interflow** (the older API): a JSON list of objects with `"version": 1.5`, mapped by
//!   [`INTERFLOW`]; only `indicatorthreattype` `Botnet` is known, `confidence` scales
//!   `feed.accuracy`, a `hostname` that is the destination address or no valid domain name is
//!   left out. `raw` is IntelMQ's `recover_line_json` of the object.
//!
//! Every CTIP event is `classification.type` `infected-system`. A record with a key neither table
//! knows, a value its field does not take, or a field set twice fails as in IntelMQ (a new field
//! in Microsoft's data shows as errors of its report, not as silently lost data).
//!
//! Deliberate differences from IntelMQ (CTIP):
//!
//! - Blank lines of the Azure form are skipped (IntelMQ fails each one), and white space before
//!   the report's first character does not hide its form.
//! - An Azure object in a JSON list, or an Interflow object on a line of its own, is read in its
//!   own form with the other form's `raw` (IntelMQ fails the first and writes no usable `raw` for
//!   the second).
//! - A `Payload` that is a JSON object rather than text is read as a decoded one (IntelMQ fails
//!   the record).
//!
//! **Bing malicious URLs** (`microsoft-bingmurls`), the other feed Microsoft gives CERTs: a JSON
//! list of `{Version: 1.5, IndicatorThreatType: "MaliciousUrl", Url, NetworkDestinationIPv4,
//! NetworkDestinationAsn, NetworkDestinationPort, FirstReportedDateTime, TLPLevel, Tags, …}`, as
//! IntelMQ's `MicrosoftBingMurlsParserBot` reads it: each URL a `blacklist` event
//! (`classification.identifier` `MaliciousUrl`) with `source.url`, `source.ip` (unless `0.0.0.0`
//! or `255.255.255.255`), `source.asn` (unless 0), `source.port`, `time.source`, `tlp`, the one
//! tag as `source.geolocation.cc` (unless `??`; several tags are kept in `extra.tags`), and the
//! rest in `extra.*`; another version or threat type, a `LastReportedDateTime` that differs from
//! `FirstReportedDateTime` and an unknown key fail the record. `raw` is the record as
//! `json.dumps([record], sort_keys=True)` writes it.

use neretva_event::{FieldId, IGNORED_VALUES, Value};
use time::OffsetDateTime;

use crate::parsers::common::ordered_json::{Json, Members};
use crate::parsers::common::{json, pyjson};
use crate::{Event, FeedParser, Parsed, ParsedEvent, Report};

/// Every parser of this group.
pub(crate) fn all() -> Vec<Box<dyn FeedParser>> {
    vec![Box::new(CtipParser::default()), Box::new(BingMurlsParser)]
}

/// Microsoft CTIP (`microsoft-ctip`).
#[derive(Debug, Clone, Copy)]
pub struct CtipParser {
    overwrite: bool,
}

impl Default for CtipParser {
    fn default() -> Self {
        Self { overwrite: true }
    }
}

impl CtipParser {
    /// Whether the feed's fields replace the report's (`DataFeed` its `feed.name`), IntelMQ's
    /// `overwrite` parameter; `true` by default.
    pub fn with_overwrite(mut self, overwrite: bool) -> Self {
        self.overwrite = overwrite;
        self
    }

    /// Applies IntelMQ bot parameters: `overwrite` (others are ignored).
    pub fn with_intelmq_parameters(self, parameters: &serde_json::Value) -> Self {
        match parameters.get("overwrite").and_then(serde_json::Value::as_bool) {
            Some(overwrite) => self.with_overwrite(overwrite),
            None => self,
        }
    }
}

/// IntelMQ's Interflow table: key → field.
const INTERFLOW: &[(&str, &str)] = &[
    ("additionalmetadata", "extra.additionalmetadata"),
    ("description", "event_description.text"),
    ("externalid", "malware.name"),
    ("tlplevel", "tlp"),
    ("firstreporteddatetime", "time.source"),
    ("networksourceipv4", "source.ip"),
    ("networksourceport", "source.port"),
    ("networkdestinationipv4", "destination.ip"),
    ("networkdestinationport", "destination.port"),
    ("isproductlicensed", "extra.isproductlicensed"),
    ("ispartnershareable", "extra.ispartnershareable"),
    ("networksourceasn", "source.asn"),
    ("hostname", "destination.fqdn"),
    ("useragent", "extra.user_agent"),
    ("severity", "severity"),
    ("tags", "extra.tags"),
];

/// Keys an Interflow object has that set no field.
const INTERFLOW_SKIPPED: &[&str] =
    &["version", "indicatorthreattype", "confidence", "indicatorexpirationdatetime"];

/// Marks a key of [`AZURE`] that sets no field.
const IGNORE: &str = "";

/// IntelMQ's Azure table: key (nested members as `<key>.<member>`) → field.
const AZURE: &[(&str, &str)] = &[
    ("DataFeed", "feed.name"),
    ("SourcedFrom", "event_description.text"),
    ("DateTimeReceivedUtc", "time.source"),
    ("DateTimeReceivedUtcTxt", IGNORE),
    ("Malware", "extra.malware"),
    ("ThreatCode", "malware.name"),
    ("ThreatConfidence", "feed.accuracy"),
    ("TotalEncounters", "extra.total_encounters"),
    ("TLP", "tlp"),
    ("SourceIp", "source.ip"),
    ("SourcePort", "source.port"),
    ("DestinationIp", "destination.ip"),
    ("DestinationIpInfo.DestinationIpAsnNumber", "destination.asn"),
    ("DestinationIpInfo.DestinationIpAsnOrgName", "destination.as_name"),
    ("DestinationIpInfo.DestinationIpCountryCode", "destination.geolocation.cc"),
    ("DestinationIpInfo.DestinationIpRegion", "destination.geolocation.region"),
    ("DestinationIpInfo.DestinationIpCity", "destination.geolocation.city"),
    ("DestinationIpInfo.DestinationIpPostalCode", "extra.destination.geolocation.postal_code"),
    ("DestinationIpInfo.DestinationIpLatitude", "destination.geolocation.latitude"),
    ("DestinationIpInfo.DestinationIpLongitude", "destination.geolocation.longitude"),
    ("DestinationIpInfo.DestinationIpMetroCode", "extra.destination.geolocation.metro_code"),
    ("DestinationIpInfo.DestinationIpAreaCode", "extra.destination.geolocation.area_code"),
    ("DestinationIpInfo.DestinationIpConnectionType", "extra.destination.connection_type"),
    ("DestinationIpInfo.DestinationIpv4Int", IGNORE),
    ("DestinationPort", "destination.port"),
    ("TargetIp", IGNORE),
    ("TargetPort", IGNORE),
    ("Signatures.Sha256", "extra.signatures.sha256"),
    ("SourceIpInfo.SourceIpAsnNumber", "source.asn"),
    ("SourceIpInfo.SourceIpAsnOrgName", "source.as_name"),
    ("SourceIpInfo.SourceIpCountryCode", "source.geolocation.cc"),
    ("SourceIpInfo.SourceIpRegion", "source.geolocation.region"),
    ("SourceIpInfo.SourceIpCity", "source.geolocation.city"),
    ("SourceIpInfo.SourceIpPostalCode", "extra.source.geolocation.postal_code"),
    ("SourceIpInfo.SourceIpLatitude", "source.geolocation.latitude"),
    ("SourceIpInfo.SourceIpLongitude", "source.geolocation.longitude"),
    ("SourceIpInfo.SourceIpMetroCode", "extra.source.geolocation.metro_code"),
    ("SourceIpInfo.SourceIpAreaCode", "extra.source.geolocation.area_code"),
    ("SourceIpInfo.SourceIpConnectionType", "extra.source.connection_type"),
    ("SourceIpInfo.SourceIpv4Int", IGNORE),
    ("HttpInfo.HttpHost", "extra.http.host"),
    ("HttpInfo.HttpRequest", "extra.http.request"),
    ("HttpInfo.HttpMethod", "extra.http.method"),
    ("HttpInfo.HttpReferrer", "extra.http.referrer"),
    ("HttpInfo.HttpUserAgent", "extra.user_agent"),
    ("HttpInfo.HttpVersion", "extra.http.version"),
    ("CustomInfo.CustomField1", "extra.custom_field1"),
    ("CustomInfo.CustomField2", "extra.custom_field2"),
    ("CustomInfo.CustomField3", "extra.custom_field3"),
    ("CustomInfo.CustomField4", "extra.custom_field4"),
    ("CustomInfo.CustomField5", "extra.custom_field5"),
    ("Payload.ts", "extra.payload.timestamp"),
    ("Payload.ip", "extra.payload.ip"),
    ("Payload.port", "extra.payload.port"),
    ("Payload.serverIp", "extra.payload.server.ip"),
    ("Payload.serverPort", "extra.payload.server.port"),
    ("Payload.domain", "destination.fqdn"),
    ("Payload.family", "extra.payload.family"),
    ("Payload.malware", "extra.payload.malware"),
    ("Payload.response", "extra.payload.response"),
    ("Payload.handler", "extra.payload.handler"),
    ("Payload.type", "protocol.application"),
    ("Payload", "extra.payload.text"),
    ("Payload.Time", "extra.payload.time"),
    ("Payload.SourceIP", "extra.payload.source.ip"),
    ("Payload.DestIP", "extra.payload.destination.ip"),
    ("Payload.RemotePort", "extra.payload.remote.port"),
    ("Payload.RemoteHost", "extra.payload.remote.host"),
    ("Payload.ServerPort", "extra.payload.server.port"),
    ("Payload.BCode", "extra.payload.b_code"),
    ("Payload.Protocol", "extra.payload.protocol"),
    ("Payload.Length", "extra.payload.length"),
    ("Payload.URI", "destination.urlpath"),
    ("Payload.Referer", "extra.http_referer"),
    ("Payload.UserAgent", "extra.user_agent"),
    ("Payload.RequestMethod", "extra.http.method"),
    ("Payload.HTTPHost", "extra.http.host"),
    ("Payload.http_host", "extra.payload.http_host"),
    ("Payload.Custom1", "extra.payload.custom_field1"),
    ("Payload.Custom2", "extra.payload.custom_field2"),
    ("Payload.Custom3", "extra.payload.custom_field3"),
    ("Payload.Custom4", "extra.payload.custom_field4"),
    ("Payload.Custom5", "extra.payload.custom_field5"),
    ("Payload.timestamp", "extra.payload.timestamp"),
    ("Payload.timestamp_utc", "extra.payload.timestamp_utc"),
    ("Payload.source_ip", "extra.payload.source.ip"),
    ("Payload.source_port", "extra.payload.source.port"),
    ("Payload.src_port", "extra.payload.source.port"),
    ("Payload.destination_ip", "extra.payload.destination.ip"),
    ("Payload.dst_ip", "extra.payload.destination.ip"),
    ("Payload.destination_port", "extra.payload.destination.port"),
    ("Payload.dst_port", "extra.payload.destination.port"),
    ("Payload.computer_name", "extra.payload.computer_name"),
    ("Payload.bot_id", "extra.payload.bot_id"),
    ("Payload.asn", "extra.payload.source.asn"),
    ("Payload.dst_asn", "extra.payload.destination.asn"),
    ("Payload.geo", "extra.payload.source.geolocation.cc"),
    ("Payload.dst_geo", "extra.payload.destination.geolocation.cc"),
    ("Payload.url", "extra.request_raw"),
    ("Payload.http_agent", "extra.http_agent"),
    ("Payload.p0f_genre", "extra.os.name"),
    ("Payload.p0f_detail", "extra.os.version"),
    ("Payload.http_post", "extra.payload.http_post"),
    ("Payload.naics", "extra.naics"),
    ("Payload.sector", "extra.sector"),
    ("Payload.ssl_cipher", "extra.ssl_cipher"),
];

/// `ThreatConfidence` → percent of `feed.accuracy`.
const CONFIDENCE: &[(&str, f64)] =
    &[("High", 100.0), ("Medium", 50.0), ("Low", 20.0), ("Informational", 10.0)];

fn lookup<T: Copy>(table: &[(&str, T)], key: &str) -> Option<T> {
    table.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// What a record failed on: the key or field concerned and why.
type Failure = (String, String);

fn fail(key: &str, message: impl Into<String>) -> Failure {
    (key.to_owned(), message.into())
}

impl FeedParser for CtipParser {
    fn name(&self) -> &'static str {
        "microsoft-ctip"
    }

    fn description(&self) -> &'static str {
        "Microsoft Cyber Threat Intelligence Program (CTIP): infected hosts, Azure JSON lines or Interflow JSON"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let text = String::from_utf8_lossy(&report.raw);
        let text = text.trim_start_matches('\u{feff}');
        let mut parsed = Parsed::default();
        match text.trim_start().as_bytes().first() {
            Some(b'[') => json::for_each_element(text, &mut parsed, |parsed, line, item_text| {
                let raw = json::recover_line_json(item_text);
                self.record(report, parsed, line, item_text, raw);
            }),
            Some(b'{') => {
                for (index, line_text) in text.split('\n').enumerate() {
                    let line_text = line_text.strip_suffix('\r').unwrap_or(line_text);
                    if line_text.trim().is_empty() {
                        continue;
                    }
                    parsed.records += 1;
                    self.record(report, &mut parsed, index as u64 + 1, line_text, line_text.to_owned());
                }
            }
            _ => parsed.error(
                1,
                None,
                "neither a JSON list (Interflow) nor JSON objects, one per line (Azure)",
                crate::truncate(text, 4096),
            ),
        }
        parsed
    }
}

impl CtipParser {
    /// One object of either form: an event, or the record's error.
    fn record(&self, report: &Report, parsed: &mut Parsed, line: u64, text: &str, raw: String) {
        let object = match serde_json::from_str::<Json>(text) {
            Ok(Json::Object(members)) => members,
            Ok(_) => {
                parsed.error(line, None, "not a JSON object", &raw);
                return;
            }
            Err(error) => {
                parsed.error(line, None, format!("malformed JSON: {error}"), &raw);
                return;
            }
        };
        let interflow = object.iter().any(|(key, value)| {
            key == "version" && matches!(value, Json::Other(v) if v.as_f64() == Some(1.5))
        });
        let mut event = report.new_event();
        let result = if interflow {
            interflow_event(&mut event, object)
        } else {
            self.azure_event(&mut event, object)
        };
        let result = result.and_then(|()| {
            let field = "classification.type";
            add(&mut event, field, serde_json::json!("infected-system"), Overwrite::Never)
                .map_err(|e| fail(field, e))
        });
        match result {
            Ok(()) => {
                event.set_raw(raw.as_bytes());
                parsed.events.push(ParsedEvent { event, line, raw });
            }
            Err((key, message)) => parsed.error(line, Some(&key), message, &raw),
        }
    }

    fn azure_event(&self, event: &mut Event, object: Vec<(String, Json)>) -> Result<(), Failure> {
        // As IntelMQ: one pass unpacks `Payload` and flattens nested objects (their members
        // appended as `<key>.<member>`), a second maps every key in order, later keys replacing
        // earlier ones.
        let mut line = Members::from_vec(object.clone());
        for (key, value) in object {
            let mut value = value;
            if key == "Payload" {
                match &value {
                    Json::Other(serde_json::Value::String(text)) if text == "AA==" => {
                        line.remove(&key);
                        continue;
                    }
                    Json::Other(serde_json::Value::String(text)) if text.starts_with('{') => {
                        let Ok(Json::Object(members)) = serde_json::from_str::<Json>(text) else {
                            return Err(fail(&key, "Payload starts with { but is no JSON object"));
                        };
                        for (member, member_value) in members {
                            let name = format!("extra.payload.{member}");
                            add(event, &name, member_value.into_value(), Overwrite::Never)
                                .map_err(|e| fail(&key, e))?;
                        }
                        line.remove(&key);
                        continue;
                    }
                    Json::Other(serde_json::Value::String(text)) => {
                        let decoded =
                            decode_base64(text).ok_or_else(|| fail(&key, "Payload is not base64"))?;
                        let decoded = String::from_utf8_lossy(&decoded).into_owned();
                        match serde_json::from_str::<Json>(&decoded) {
                            Ok(json) => value = json,
                            Err(_) => line.set(&key, Json::Other(serde_json::Value::String(decoded))),
                        }
                    }
                    Json::Object(_) => {}
                    _ => return Err(fail(&key, "Payload is neither text nor an object")),
                }
            } else if key == "TLP" {
                match &value {
                    Json::Other(serde_json::Value::String(tlp)) if tlp.eq_ignore_ascii_case("unknown") => {
                        line.remove(&key);
                    }
                    Json::Other(serde_json::Value::String(_)) => {}
                    _ => return Err(fail(&key, "TLP is not text")),
                }
            }
            if let Json::Object(members) = value {
                for (member, member_value) in members {
                    line.set(&format!("{key}.{member}"), member_value);
                }
                line.remove(&key);
            }
        }
        let server_ip = line.get("Payload.serverIp").map(Json::to_value);
        let overwrite = if self.overwrite { Overwrite::Always } else { Overwrite::Keep };
        for (key, value) in line.into_vec() {
            let mut value = value.into_value();
            match key.as_str() {
                "ThreatConfidence" => {
                    if value.as_str() == Some("None") {
                        continue;
                    }
                    let percent = value
                        .as_str()
                        .and_then(|name| lookup(CONFIDENCE, name))
                        .ok_or_else(|| fail(&key, format!("unknown ThreatConfidence {value}")))?;
                    value = serde_json::json!(accuracy(event) * percent / 100.0);
                }
                "DateTimeReceivedUtc" => {
                    let time = python_int(&value)
                        .and_then(from_windows_nt)
                        .ok_or_else(|| fail(&key, format!("{value} is not a Windows NT time")))?;
                    set_time(event, FieldId::TIME_SOURCE, time, overwrite).map_err(|e| fail(&key, e))?;
                    continue;
                }
                "Payload.ts" => {
                    let time = python_float(&value)
                        .and_then(from_timestamp)
                        .ok_or_else(|| fail(&key, format!("{value} is not a Unix time")))?;
                    value = serde_json::json!(neretva_event::format_time(time));
                }
                "Payload.Protocol" => {
                    let text = value.as_str().ok_or_else(|| fail(&key, "Payload.Protocol is not text"))?;
                    // Python's `value[:value.find('/')]`: without a `/`, all but the last
                    // character.
                    let cut =
                        text.find('/').unwrap_or_else(|| text.char_indices().last().map_or(0, |(i, _)| i));
                    if cut > 0 {
                        let protocol = serde_json::json!(&text[..cut]);
                        add(event, "protocol.application", protocol, Overwrite::Always)
                            .map_err(|e| fail(&key, e))?;
                    }
                }
                // Sometimes the server's address again: it is `destination.ip` already.
                "Payload.domain" if !is_domain_name(&value, true) && Some(&value) == server_ip.as_ref() => {
                    continue;
                }
                "Payload.domain" => {}
                _ if !json::truthy(&value) => continue,
                _ => {}
            }
            let field = lookup(AZURE, &key).ok_or_else(|| fail(&key, format!("unknown CTIP key {key:?}")))?;
            if field == IGNORE {
                continue;
            }
            // feed.accuracy is computed afresh, so it always replaces the report's.
            let mode = if field == "feed.accuracy" { Overwrite::Always } else { overwrite };
            add(event, field, value, mode).map_err(|e| fail(&key, e))?;
        }
        Ok(())
    }
}

fn interflow_event(event: &mut Event, object: Vec<(String, Json)>) -> Result<(), Failure> {
    let get = |name: &str| object.iter().find(|(key, _)| key == name).map(|(_, value)| value.to_value());
    let threat = get("indicatorthreattype").unwrap_or(serde_json::Value::Null);
    if threat.as_str() != Some("Botnet") {
        return Err(fail(
            "indicatorthreattype",
            format!("unknown indicatorthreattype {threat}, only Botnet is supported"),
        ));
    }
    let destination = get("networkdestinationipv4");
    for (key, value) in &object {
        let mut value = value.to_value();
        match key.as_str() {
            k if INTERFLOW_SKIPPED.contains(&k) => continue,
            "additionalmetadata" => {
                let empty = value.as_array().is_some_and(|items| {
                    items.is_empty()
                        || (items.len() == 1
                            && (items[0].is_null()
                                || items[0].as_str().is_some_and(|s| s.is_empty() || s == "null")))
                });
                if empty {
                    continue;
                }
            }
            "firstreporteddatetime" => {
                let text = value.as_str().ok_or_else(|| fail(key, "firstreporteddatetime is not text"))?;
                value = serde_json::json!(format!("{text} UTC"));
            }
            "hostname" if Some(&value) == destination.as_ref() || !is_domain_name(&value, false) => continue,
            "networkdestinationipv4" => {
                if value.as_str() == Some("0.0.0.0") {
                    continue;
                }
                // Seen since 2019: "192.0.2.9, 192.0.2.9", the same address twice.
                if let Some((first, _)) = value.as_str().and_then(|text| text.split_once(',')) {
                    value = serde_json::json!(first);
                }
            }
            _ => {}
        }
        let field =
            lookup(INTERFLOW, key).ok_or_else(|| fail(key, format!("unknown Interflow key {key:?}")))?;
        add(event, field, value, Overwrite::Never).map_err(|e| fail(key, e))?;
    }
    let confidence = get("confidence")
        .and_then(|value| value.as_f64())
        .ok_or_else(|| fail("confidence", "the record has no numeric confidence"))?;
    let accuracy = serde_json::json!(accuracy(event) * confidence / 100.0);
    add(event, "feed.accuracy", accuracy, Overwrite::Always).map_err(|e| fail("confidence", e))
}

/// How a value meets a field that is already set, as IntelMQ's `add(overwrite=…)`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Overwrite {
    /// `None`: the record fails.
    Never,
    /// `False`: the earlier value stays.
    Keep,
    /// `True`: the value replaces it (an ignored value removes it).
    Always,
}

/// Sets a field from a JSON value as IntelMQ's `Message.add` does; the error names the field.
fn add(event: &mut Event, field: &str, value: serde_json::Value, mode: Overwrite) -> Result<(), String> {
    if event.contains(field) {
        match mode {
            Overwrite::Never => return Err(format!("{field} is set twice")),
            Overwrite::Keep => return Ok(()),
            Overwrite::Always => {}
        }
    }
    let ignored = match &value {
        serde_json::Value::Null => true,
        serde_json::Value::String(text) => IGNORED_VALUES.contains(&text.as_str()),
        _ => false,
    };
    if ignored {
        if mode == Overwrite::Always {
            event.remove(field);
        }
        return Ok(());
    }
    event.set_json(field, value).map_err(|error| error.to_string())
}

fn set_time(event: &mut Event, id: FieldId, time: OffsetDateTime, mode: Overwrite) -> Result<(), String> {
    if event.get_id(id).is_some() {
        match mode {
            Overwrite::Never => return Err(format!("{} is set twice", id.name())),
            Overwrite::Keep => return Ok(()),
            Overwrite::Always => {}
        }
    }
    event.set_value_id(id, Value::Time(time)).map_err(|error| error.to_string())
}

/// The event's `feed.accuracy`, 100 when it has none (IntelMQ's `event.get('feed.accuracy', 100)`).
fn accuracy(event: &Event) -> f64 {
    event.get_id(FieldId::FEED_ACCURACY).and_then(Value::as_f64).unwrap_or(100.0)
}

/// Whether a value is a domain name `destination.fqdn` takes: as it is (`exact`, IntelMQ's
/// `FQDN.is_valid`), or once sanitised (its `Message.is_valid`).
fn is_domain_name(value: &serde_json::Value, exact: bool) -> bool {
    let Some(text) = value.as_str() else { return false };
    let mut probe = Event::new();
    probe.set_id(FieldId::DESTINATION_FQDN, text).is_ok()
        && probe
            .get_id(FieldId::DESTINATION_FQDN)
            .and_then(Value::as_str)
            .is_some_and(|fqdn| !exact || fqdn == text)
}

/// Python's `int(value)`: an integer, a float cut towards zero, or the text of an integer.
fn python_int(value: &serde_json::Value) -> Option<i64> {
    match value {
        serde_json::Value::Number(n) => {
            n.as_i64().or_else(|| n.as_f64().filter(|x| x.is_finite()).map(|x| x.trunc() as i64))
        }
        serde_json::Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// Python's `float(value)`: a number or the text of one.
fn python_float(value: &serde_json::Value) -> Option<f64> {
    match value {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(text) => text.trim().parse().ok().filter(|x: &f64| x.is_finite()),
        _ => None,
    }
}

/// `base` plus `seconds` as Python's `datetime` adds a float of seconds: the fraction rounded to
/// whole microseconds, half to even.
fn add_seconds(base: OffsetDateTime, seconds: f64) -> Option<OffsetDateTime> {
    if !seconds.is_finite() || seconds.abs() > 1e12 {
        return None;
    }
    let whole = seconds.trunc();
    let mut micros = ((seconds - whole) * 1e6).round_ties_even() as i64;
    let mut whole = whole as i64;
    if micros >= 1_000_000 {
        micros -= 1_000_000;
        whole += 1;
    } else if micros < 0 {
        micros += 1_000_000;
        whole -= 1;
    }
    let time = base
        .checked_add(time::Duration::seconds(whole))?
        .checked_add(time::Duration::microseconds(micros))?;
    neretva_event::normalise_time(time)
}

/// IntelMQ's `DateTime.from_windows_nt`: 100 ns steps since 1601-01-01 UTC, as Python computes
/// them (`int(value) * 10**-7` seconds).
fn from_windows_nt(value: i64) -> Option<OffsetDateTime> {
    add_seconds(time::macros::datetime!(1601-01-01 00:00:00 UTC), value as f64 * 1e-7)
}

/// IntelMQ's `DateTime.from_timestamp`: seconds since 1970-01-01 UTC.
fn from_timestamp(seconds: f64) -> Option<OffsetDateTime> {
    add_seconds(OffsetDateTime::UNIX_EPOCH, seconds)
}

/// Python's `base64.b64decode`: characters outside the alphabet are dropped, padding may be
/// missing.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let compact: String =
        text.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/')).collect();
    engine.decode(compact.as_bytes()).ok()
}

/// Microsoft's Bing malicious URLs (`microsoft-bingmurls`).
#[derive(Debug, Clone, Copy, Default)]
pub struct BingMurlsParser;

/// IntelMQ's Bing table: key → field.
const BING: &[(&str, &str)] = &[
    ("Attributable", "extra.attributable"),
    ("Description", "event_description.text"),
    ("IndicatorThreatType", "classification.identifier"),
    ("TLPLevel", "tlp"),
    ("FirstReportedDateTime", "time.source"),
    ("NetworkDestinationAsn", "source.asn"),
    ("NetworkDestinationIPv4", "source.ip"),
    ("NetworkDestinationPort", "source.port"),
    ("IsProductLicensed", "extra.isproductlicensed"),
    ("IsPartnerShareable", "extra.ispartnershareable"),
    ("Url", "source.url"),
    ("IndicatorProvider", "extra.indicator_provider"),
    ("IndicatorExpirationDateTime", "extra.indicator_expiration_date_time"),
    ("ThreatDetectionProduct", "extra.threat_detection_product"),
    ("Tags", "extra.tags"),
];

impl FeedParser for BingMurlsParser {
    fn name(&self) -> &'static str {
        "microsoft-bingmurls"
    }

    fn description(&self) -> &'static str {
        "Microsoft Bing malicious URLs (JSON)"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let text = String::from_utf8_lossy(&report.raw);
        let mut parsed = Parsed::default();
        json::for_each_element(&text, &mut parsed, |parsed, line, item| {
            let value = serde_json::from_str::<serde_json::Value>(item).unwrap_or_default();
            let Some(record) = value.as_object() else {
                return parsed.error(line, None, "not a JSON object", item);
            };
            // `json.dumps([record], sort_keys=True)`.
            let mut raw = String::from("[");
            pyjson::json_dumps(&mut raw, &value);
            raw.push(']');
            let mut event = report.new_event();
            match bing_event(&mut event, record) {
                Ok(()) => {
                    event.set_raw(raw.as_bytes());
                    parsed.events.push(ParsedEvent { event, line, raw });
                }
                Err((key, message)) => parsed.error(line, Some(&key), message, &raw),
            }
        });
        parsed
    }
}

fn bing_event(event: &mut Event, record: &serde_json::Map<String, serde_json::Value>) -> Result<(), Failure> {
    let version = record.get("Version").and_then(serde_json::Value::as_f64);
    if version != Some(1.5) {
        return Err(fail("Version", "unknown format, only version 1.5 is known"));
    }
    let threat = record.get("IndicatorThreatType").and_then(serde_json::Value::as_str);
    if threat != Some("MaliciousUrl") {
        return Err(fail("IndicatorThreatType", "unknown threat type, only MaliciousUrl is known"));
    }
    for (key, value) in record {
        match key.as_str() {
            "Version" => continue,
            "LastReportedDateTime" if Some(value) != record.get("FirstReportedDateTime") => {
                return Err(fail(key, "LastReportedDateTime differs from FirstReportedDateTime"));
            }
            "LastReportedDateTime" => continue,
            "NetworkDestinationIPv4" if matches!(value.as_str(), Some("0.0.0.0" | "255.255.255.255")) => {
                continue;
            }
            "NetworkDestinationAsn" if value.as_i64() == Some(0) => continue,
            "Tags" => {
                if let Some([tag]) = value.as_array().map(Vec::as_slice) {
                    if tag.as_str() != Some("??") {
                        add(event, "source.geolocation.cc", tag.clone(), Overwrite::Never)
                            .map_err(|e| fail(key, e))?;
                    }
                    continue;
                }
            }
            _ => {}
        }
        let field = lookup(BING, key).ok_or_else(|| fail(key, format!("unknown Bing key {key:?}")))?;
        add(event, field, value.clone(), Overwrite::Never).map_err(|e| fail(key, e))?;
    }
    add(event, "classification.type", serde_json::json!("blacklist"), Overwrite::Never)
        .map_err(|e| fail("classification.type", e))
}
