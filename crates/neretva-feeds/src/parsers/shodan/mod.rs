//! Shodan (`shodan`): the banners Shodan's crawlers record, as a CERT receives them for its
//! networks from Shodan's stream or a download (`shodan download`, `shodan stream`): one banner
//! as the whole report (what IntelMQ's Shodan stream collector sends), or JSON lines of banners.
//! Read as IntelMQ 3.5.0's `ShodanParserBot` reads them.
//!
//! Every banner is an event of `classification.type` `other`. In the full mode (the default)
//! [`MAPPING`], IntelMQ's table, puts the banner's members into fields (`ip_str` `source.ip`,
//! `port` `source.port`, `transport`, `asn`, `org` `event_description.target`, the location's
//! city, country and coordinates, `timestamp` `time.source`, the first valid host name of
//! `hostnames` `source.reverse_dns` and of `domains` `source.fqdn`) and into `extra.*` (the
//! service's own members: HTTP, TLS certificate, SSH, FTP, SMB, LDAP, IKE and some forty other
//! protocols, `vulns` as a list of objects with their CVE as `identifier`);
//! `classification.identifier` is `shodan-scan`, `extra.shodan.unique_keys` the banner's
//! members that are not common to all banners, `protocol.application` the protocol among them,
//! and `extra.verified_vulns` the CVEs Shodan verified. In the minimal mode (the parser option
//! `minimal_mode = true`, IntelMQ's parameter) an event has only the address, AS, port,
//! transport, organisation, data, title, tags, country and time, identifier `network-scan`, and
//! the whole banner as `extra.shodan`. `raw` is the banner's text. A certificate's serial (up
//! to 160 bits) is written with every digit of the banner's text, as IntelMQ's `str()` of
//! Python's integer writes it; in the minimal mode's `extra.shodan` a number beyond 64 bits is
//! kept as JSON readers of 64-bit numbers keep it, approximately.
//!
//! A banner that is not a JSON object, lacks a readable `timestamp` (minimal mode), or has a
//! value its field does not take is an error; a blank line is skipped.
//!
//! Deliberate differences from IntelMQ:
//! - A certificate's organisation (`O` of its issuer and subject) is
//!   `extra.ssl.cert.issuer.o` and `.subject.o`; IntelMQ's table sends it to `….c`, where it
//!   replaces the country or not depending on Python's set order.
//! - Of two protocols among a banner's members, `protocol.application` is the first in
//!   alphabetical order; IntelMQ takes one of them by Python's set order.
//! - A member the table describes as an object but that is not one is skipped (IntelMQ fails the
//!   banner); a `vulns` entry without `verified` counts as not verified (IntelMQ fails).
//! - A report of JSON lines is read banner by banner, each with its line as `raw`.

use serde_json::Value;

use crate::parsers::common::json::{for_each_object_event, set_json_value, truthy};
use crate::parsers::common::ordered_json::{Json, member};
use crate::parsers::common::pyjson::member_span;
use neretva_event::FieldId;

use crate::{Event, FeedParser, Parsed, Report};

/// Every parser of this group.
pub(crate) fn all() -> Vec<Box<dyn FeedParser>> {
    vec![Box::new(ShodanParser::default())]
}

/// Shodan banners (`shodan`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ShodanParser {
    minimal: bool,
}

impl ShodanParser {
    /// IntelMQ's `minimal_mode`: the address, service and time, and the banner as `extra.shodan`.
    pub fn minimal(minimal: bool) -> Self {
        Self { minimal }
    }

    /// Applies IntelMQ bot parameters: `minimal_mode` (others are ignored).
    pub fn with_intelmq_parameters(self, parameters: &Value) -> Self {
        match parameters.get("minimal_mode").and_then(Value::as_bool) {
            Some(minimal) => Self { minimal },
            None => self,
        }
    }
}

/// IntelMQ's table: a member's path in the banner (its keys joined by `/`) and its field.
pub const MAPPING: &[(&str, &str)] = &[
    ("hash", "extra.shodan.event_hash"),
    ("hostnames", "source.reverse_dns"),
    ("org", "event_description.target"),
    ("data", "extra.data"),
    ("port", "source.port"),
    ("transport", "protocol.transport"),
    ("isp", "extra.isp"),
    ("platform", "extra.platform"),
    ("product", "extra.product"),
    ("device", "extra.device"),
    ("devicetype", "extra.devicetype"),
    ("info", "extra.info"),
    ("mac", "extra.mac"),
    ("version", "extra.version"),
    ("vulns", "extra.vulns"),
    ("ftp/features", "extra.ftp.features"),
    ("ftp/anonymous", "extra.ftp.anonymous"),
    ("http/title", "extra.http.html.title"),
    ("http/html", "extra.http.html.data"),
    ("http/location", "extra.http.location"),
    ("http/components", "extra.http.components"),
    ("http/server", "extra.http.server"),
    ("http/host", "extra.http.host"),
    ("http/waf", "extra.http.waf"),
    ("isakmp/initiator_spi", "extra.isakmp.initiator_spi"),
    ("isakmp/responder_spi", "extra.isakmp.responder_spi"),
    ("isakmp/msg_id", "extra.isakmp.msg_id"),
    ("isakmp/next_payload", "extra.isakmp.next_payload"),
    ("isakmp/exchange_type", "extra.isakmp.exchange_type"),
    ("isakmp/length", "extra.isakmp.length"),
    ("isakmp/version", "extra.isakmp.version"),
    ("isakmp/flags/encryption", "extra.isakmp.encryption"),
    ("isakmp/flags/authentication", "extra.isakmp.authentication"),
    ("isakmp/flags/commit", "extra.isakmp.commit"),
    ("asn", "source.asn"),
    ("location/city", "source.geolocation.city"),
    ("location/region_code", "extra.region_code"),
    ("location/postal_code", "extra.postal_code"),
    ("location/longitude", "source.geolocation.longitude"),
    ("location/country_code", "source.geolocation.cc"),
    ("location/latitude", "source.geolocation.latitude"),
    ("location/area_code", "extra.area_code"),
    ("location/dma_code", "extra.dma_code"),
    ("timestamp", "time.source"),
    ("domains", "source.fqdn"),
    ("ip_str", "source.ip"),
    ("os", "extra.os_name"),
    ("opts/amqp/mechanisms", "extra.amqp.mechanism"),
    ("opts/amqp/server_properties/capabilities/basic.nack", "extra.amqp.capabilities.nack"),
    (
        "opts/amqp/server_properties/capabilities/consumer_cancel_notify",
        "extra.amqp.capabilities.consumer_cancel_notify",
    ),
    (
        "opts/amqp/server_properties/capabilities/exchange_exchange_bindings",
        "extra.amqp.capabilities.exchange_exchange_bindings",
    ),
    (
        "opts/amqp/server_properties/capabilities/publisher_confirms",
        "extra.amqp.capabilities.publisher_confirms",
    ),
    ("opts/amqp/server_properties/capabilities/copyright", "extra.amqp.copyright"),
    ("opts/amqp/server_properties/capabilities/information", "extra.amqp.information"),
    ("opts/amqp/server_properties/capabilities/platform", "extra.amqp.platform"),
    ("opts/amqp/server_properties/capabilities/product", "extra.amqp.product"),
    ("opts/amqp/server_properties/capabilities/version", "extra.amqp.version"),
    ("opts/dhcp/broadcast", "extra.dhcp.broadcast"),
    ("opts/dhcp/chaddr", "extra.dhcp.chaddr"),
    ("opts/dhcp/ciaddr", "extra.dhcp.ciaddr"),
    ("opts/dhcp/file", "extra.dhcp.file"),
    ("opts/dhcp/giaddr", "extra.dhcp.giaddr"),
    ("opts/dhcp/siaddr", "extra.dhcp.siaddr"),
    ("opts/dhcp/sname", "extra.dhcp.sname"),
    ("opts/dhcp/yiaddr", "extra.dhcp.yiaddr"),
    ("opts/heartbleed", "extra.heartbleed"),
    ("opts/ip", "extra.ip"),
    ("opts/ldap/configurationNamingContext", "extra.ldap.configurationnamingcontext"),
    ("opts/ldap/defaultNamingContext", "extra.ldap.defaultnamingcontext"),
    ("opts/ldap/dnsHostName", "extra.ldap.dnshostname"),
    ("opts/ldap/dsServiceName", "extra.ldap.dsservicename"),
    ("opts/ldap/errorMessage", "extra.ldap.errormessage"),
    ("opts/ldap/ldapServiceName", "extra.ldap.ldapservicename"),
    ("opts/ldap/namingContexts", "extra.ldap.namingcontexts"),
    ("opts/ldap/resultCode", "extra.ldap.resultcode"),
    ("opts/ldap/rootDomainNamingContext", "extra.ldap.rootdomainnamingcontext"),
    ("opts/ldap/schemaNamingContext", "extra.ldap.schemanamingcontext"),
    ("opts/ldap/serverName", "extra.ldap.servername"),
    ("opts/ldap/subschemaSubentry", "extra.ldap.subschemasubentry"),
    ("opts/ldap/supportedCapabilities", "extra.ldap.supportedcapabilities"),
    ("opts/ldap/supportedControl", "extra.ldap.supportedcontrol"),
    ("opts/ldap/supportedExtension", "extra.ldap.supportedextension"),
    ("opts/ldap/supportedLDAPPolicies", "extra.ldap.supportedldappolicies"),
    ("opts/ldap/supportedLDAPVersion", "extra.ldap.supportedldapversion"),
    ("opts/ldap/supportedSASLMechanisms", "extra.ldap.supportedsaslmechanisms"),
    ("opts/raw", "extra.raw"),
    ("opts/text", "extra.text"),
    ("tags", "extra.tags"),
    ("telnet/do", "extra.telnet.do"),
    ("telnet/dont", "extra.telnet.dont"),
    ("telnet/will", "extra.telnet.will"),
    ("telnet/wont", "extra.telnet.wont"),
    ("afp/machine_type", "extra.afp.machine_type"),
    ("afp/network_addresses", "extra.afp.network_addresses"),
    ("afp/uams", "extra.afp.uams"),
    ("afp/utf8_server_name", "extra.afp.server_name"),
    ("checkpoint/firewall_host", "extra.checkpoint.firewall_host"),
    ("checkpoint/smartcenter_host", "extra.checkpoint.smartcenter_host"),
    ("coap/resources", "extra.coap.resources"),
    ("dns/recursive", "extra.dns.recursive"),
    ("dns/resolver_hostname", "extra.dns.resolver_hostname"),
    ("dns/resolver_id", "extra.dns.resolver_id"),
    ("dns/software", "extra.dns.software"),
    ("elastic/cluster/cluster_name", "extra.elastic.cluster.cluster_name"),
    ("elastic/cluster/status", "extra.elastic.cluster.status"),
    ("etcd/api", "extra.etcd.api"),
    ("etcd/clientURLs", "extra.etcd.clienturls"),
    ("etcd/name", "extra.etcd.name"),
    ("etcd/peerURLs", "extra.etcd.peerurls"),
    ("etcd/state", "extra.etcd.state"),
    ("etcd/version", "extra.etcd.version"),
    ("ethernetip/device_type", "extra.ethernetip.device_type"),
    ("ethernetip/ip", "extra.ethernetip.ip"),
    ("ethernetip/product_name", "extra.ethernetip.product_name"),
    ("ethernetip/revision_major", "extra.ethernetip.revision_major"),
    ("ethernetip/revision_minor", "extra.ethernetip.revision_minor"),
    ("ethernetip/serial", "extra.ethernetip.serial"),
    ("ethernetip/vendor_id", "extra.ethernetip.vendor_id"),
    ("ethernetip/version", "extra.ethernetip.version"),
    ("hp_ilo/ilo_firmware", "extra.hp_ilo.ilo_firmware"),
    ("hp_ilo/ilo_serial_number", "extra.hp_ilo.ilo_serial_number"),
    ("hp_ilo/ilo_type", "extra.hp_ilo.ilo_type"),
    ("hp_ilo/server_type", "extra.hp_ilo.server_type"),
    ("influxdb/bind_address", "extra.influxdb.bind_address"),
    ("influxdb/build", "extra.influxdb.build"),
    ("influxdb/databases", "extra.influxdb.databases"),
    ("influxdb/go_arch", "extra.influxdb.go_arch"),
    ("influxdb/go_os", "extra.influxdb.go_os"),
    ("influxdb/version", "extra.influxdb.version"),
    ("knx/device/friendly_name", "extra.knx.device.friendly_name"),
    ("knx/device/knx_address", "extra.knx.device.knx_address"),
    ("knx/device/mac", "extra.knx.device.mac"),
    ("knx/device/multicast_address", "extra.knx.device.multicast_address"),
    ("knx/device/serial", "extra.knx.device.serial"),
    ("knx/supported_services/core", "extra.knx.supported_services.core"),
    ("knx/supported_services/device_management", "extra.knx.supported_services.device_management"),
    ("knx/supported_services/routing", "extra.knx.supported_services.routing"),
    ("knx/supported_services/tunneling", "extra.knx.supported_services.tunneling"),
    ("lantronix/gateway", "extra.lantronix.gateway"),
    ("lantronix/ip", "extra.lantronix.ip"),
    ("lantronix/mac", "extra.lantronix.mac"),
    ("lantronix/type", "extra.lantronix.type"),
    ("lantronix/version", "extra.lantronix.version"),
    ("mongodb/authentication", "extra.mongodb.authentication"),
    ("mongodb/buildInfo/buildEnvironment/target_arch", "extra.mongodb.target_arch"),
    ("mongodb/buildInfo/buildEnvironment/target_os", "extra.mongodb.target_os"),
    ("mongodb/buildInfo/openssl/compiled", "extra.mongodb.openssl.compiled"),
    ("mongodb/buildInfo/openssl/running", "extra.mongodb.openssl.running"),
    ("mongodb/buildInfo/debug", "extra.mongodb.debug"),
    ("mongodb/buildInfo/gitVersion", "extra.mongodb.gitversion"),
    ("mongodb/buildInfo/version", "extra.mongodb.version"),
    ("mssql/dns_computer_name", "extra.mssql.dns_computer_name"),
    ("mssql/dns_domain_name", "extra.mssql.dns_domain_name"),
    ("mssql/dns_forest_name", "extra.mssql.dns_forest_name"),
    ("mssql/netbios_computer_name", "extra.mssql.netbios_computer_name"),
    ("mssql/netbios_domain_name", "extra.mssql.netbios_domain_name"),
    ("mssql/os_version", "extra.mssql.os_version"),
    ("mssql/target_realm", "extra.mssql.target_realm"),
    ("netbios/mac", "extra.netbios.mac"),
    ("netbios/networks", "extra.netbios.networks"),
    ("netbios/server_name", "extra.netbios.server_name"),
    ("ntp/digest", "extra.ntp.digest"),
    ("ntp/host", "extra.ntp.host"),
    ("ntp/processor", "extra.ntp.processor"),
    ("ntp/stratum", "extra.ntp.stratum"),
    ("ntp/system", "extra.ntp.system"),
    ("ntp/version", "extra.ntp.version"),
    ("redis/keys/data", "extra.redis.keys.data"),
    ("redis/replication/master_host", "extra.redis.replication.master_host"),
    ("redis/replication/role", "extra.redis.replication.role"),
    ("redis/server/os", "extra.redis.server.os"),
    ("redis/server/redis_mode", "extra.redis.mode"),
    ("redis/server/redis_version", "extra.redis.version"),
    ("redis/server/tcp_port", "extra.redis.server.tcp_port"),
    ("rsync/modules", "extra.rsync.modules"),
    ("smb/anonymous", "extra.smb.anonymous"),
    ("smb/capabilities", "extra.smb.capabilities"),
    ("smb/os", "extra.smb.os"),
    ("smb/smb_version", "extra.smb.smb_version"),
    ("smb/software", "extra.smb.software"),
    ("snmp/contact", "extra.snmp.contact"),
    ("snmp/description", "extra.snmp.description"),
    ("snmp/location", "extra.snmp.location"),
    ("snmp/name", "extra.snmp.name"),
    ("snmp/objectid", "extra.snmp.objectid"),
    ("snmp/ordescr", "extra.snmp.ordescr"),
    ("ssh/cipher", "extra.ssh.cipher"),
    ("ssh/fingerprint", "extra.ssh.fingerprint"),
    ("ssh/mac", "extra.ssh.mac"),
    ("ssh/type", "extra.ssh.type"),
    ("ssl/cert/expired", "extra.ssl.cert.expired"),
    ("ssl/cert/issuer/C", "extra.ssl.cert.issuer.c"),
    ("ssl/cert/issuer/O", "extra.ssl.cert.issuer.o"),
    ("ssl/cert/issuer/OU", "extra.ssl.cert.issuer.ou"),
    ("ssl/cert/issuer/CN", "extra.ssl.cert.issuer.cn"),
    ("ssl/cert/pubkey/bits", "extra.ssl.cert.pubkey.bits"),
    ("ssl/cert/pubkey/type", "extra.ssl.cert.pubkey.type"),
    ("ssl/cert/serial", "extra.ssl.cert.serial"),
    ("ssl/cert/subject/C", "extra.ssl.cert.subject.c"),
    ("ssl/cert/subject/O", "extra.ssl.cert.subject.o"),
    ("ssl/cert/subject/OU", "extra.ssl.cert.subject.ou"),
    ("ssl/cert/subject/CN", "extra.ssl.cert.subject.cn"),
    ("ssl/cert/version", "extra.ssl.cert.version"),
    ("ssl/cipher/bits", "extra.ssl.cipher.bits"),
    ("ssl/cipher/name", "extra.ssl.cipher.name"),
    ("ssl/cipher/version", "extra.ssl.cipher.version"),
    ("ssl/dhparams/bits", "extra.ssl.dhparams.bits"),
    ("ssl/dhparams/fingerprint", "extra.ssl.dhparams.fingerprint"),
    ("ssl/dhparams/generator", "extra.ssl.dhparams.generator"),
    ("ssl/dhparams/prime", "extra.ssl.dhparams.prime"),
    ("ssl/dhparams/public_key", "extra.ssl.dhparams.public_key"),
    ("ubiquiti/hostname", "extra.ubiquiti.hostname"),
    ("ubiquiti/ip", "extra.ubiquiti.ip"),
    ("ubiquiti/ip_alt", "extra.ubiquiti.ip_alt"),
    ("ubiquiti/mac", "extra.ubiquiti.mac"),
    ("ubiquiti/mac_alt", "extra.ubiquiti.mac_alt"),
    ("ubiquiti/product", "extra.ubiquiti.product"),
    ("ubiquiti/version", "extra.ubiquiti.version"),
    ("unitronics_pcom/hardware_version", "extra.unitronics_pcom.hardware_version"),
    ("unitronics_pcom/model", "extra.unitronics_pcom.model"),
    ("unitronics_pcom/os_build", "extra.unitronics_pcom.os_build"),
    ("unitronics_pcom/os_version", "extra.unitronics_pcom.os_version"),
    ("unitronics_pcom/plc_name", "extra.unitronics_pcom.plc_name"),
    ("unitronics_pcom/plc_unique_id", "extra.unitronics_pcom.plc_unique_id"),
    ("unitronics_pcom/uid_master", "extra.unitronics_pcom.uid_master"),
    ("upnp/device_type", "extra.upnp.device_type"),
    ("upnp/friendly_name", "extra.upnp.friendly_name"),
    ("upnp/manufacturer", "extra.upnp.manufacturer"),
    ("upnp/model_description", "extra.upnp.model_description"),
    ("upnp/model_name", "extra.upnp.model_name"),
    ("upnp/model_number", "extra.upnp.model_number"),
    ("upnp/serial_number", "extra.upnp.serial_number"),
    ("upnp/udn", "extra.upnp.udn"),
    ("upnp/upc", "extra.upnp.upc"),
    ("vmware/api_type", "extra.vmware.api_type"),
    ("vmware/api_version", "extra.vmware.api_version"),
    ("vmware/build", "extra.vmware.build"),
    ("vmware/full_name", "extra.vmware.full_name"),
    ("vmware/name", "extra.vmware.name"),
    ("vmware/os_type", "extra.vmware.os_type"),
    ("vmware/product_line_id", "extra.vmware.product_line_id"),
    ("vmware/vendor", "extra.vmware.vendor"),
    ("vmware/version", "extra.vmware.version"),
];

/// The minimal mode's fields and the banner's members they come from.
const MINIMAL: &[(&str, &str)] = &[
    ("source.ip", "ip_str"),
    ("source.asn", "asn"),
    ("source.port", "port"),
    ("protocol.transport", "transport"),
    ("event_description.target", "org"),
    ("extra.data", "data"),
    ("extra.html_title", "title"),
    ("extra.tags", "tags"),
];

/// The members that name a protocol, for `protocol.application`.
const PROTOCOLS: &[&str] = &[
    "afp",
    "bgp",
    "coap",
    "dns",
    "ethernetip",
    "ftp",
    "hp_ilo",
    "http",
    "isakmp",
    "iscsi",
    "knx",
    "lantronix",
    "minecraft",
    "mqtt",
    "msrpc",
    "netbios",
    "ntp",
    "redis",
    "rip",
    "rsync",
    "smb",
    "snmp",
    "ssh",
    "telnet",
    "unitronics_pcom",
    "upnp",
];

/// The members every banner may have, which say nothing of its service.
const COMMON: &[&str] = &[
    "_id",
    "_shodan",
    "asn",
    "data",
    "device",
    "devicetype",
    "domains",
    "hash",
    "hostnames",
    "html",
    "ip",
    "ip_str",
    "isp",
    "location",
    "opts",
    "org",
    "os",
    "port",
    "tags",
    "timestamp",
    "transport",
];

/// What went wrong with a banner: the field or member concerned and the message.
type BannerError = (String, String);

impl FeedParser for ShodanParser {
    fn name(&self) -> &'static str {
        "shodan"
    }

    fn description(&self) -> &'static str {
        "Shodan banners (JSON, one per report or per line): the service, its software, TLS and vulnerabilities"
    }

    fn parse(&self, report: &Report) -> Parsed {
        let text = String::from_utf8_lossy(&report.raw);
        let mut parsed = Parsed::default();
        for_each_object_event(&text, &mut parsed, "a banner", |members, raw| {
            if self.minimal { minimal_event(report, members) } else { full_event(report, members, raw) }
                .map(Some)
        });
        parsed
    }
}

/// The value at a path of keys joined by `/`; `None` when a step is missing or not an object.
fn lookup<'a>(members: &'a [(String, Json)], path: &str) -> Option<&'a Json> {
    let mut keys = path.split('/');
    let mut value = member(members, keys.next()?)?;
    for key in keys {
        let Json::Object(inner) = value else { return None };
        value = member(inner, key)?;
    }
    Some(value)
}

/// Sets a field or member from a JSON value, a value the field does not take failing the banner.
fn set(event: &mut Event, field: &str, value: &Value) -> Result<(), BannerError> {
    set_json_value(event, field, value).map_err(|error| (field.to_owned(), error.value_and_reason()))
}

fn full_event(report: &Report, members: &[(String, Json)], raw: &str) -> Result<Event, BannerError> {
    let mut event = report.new_event();
    let mut vulns = None;
    for (path, field) in MAPPING {
        let Some(value) = lookup(members, path) else { continue };
        if matches!(value, Json::Other(Value::Null)) {
            continue;
        }
        let Some(value) = convert(path, value, raw)? else { continue };
        set(&mut event, field, &value)?;
        if *path == "vulns" {
            vulns = Some(value);
        }
    }
    set(&mut event, "classification.type", &Value::from("other"))?;
    set(&mut event, "classification.identifier", &Value::from("shodan-scan"))?;
    let mut unique: Vec<&str> =
        members.iter().map(|(key, _)| key.as_str()).filter(|key| !COMMON.contains(key)).collect();
    unique.sort_unstable();
    unique.dedup();
    let keys = Value::Array(unique.iter().map(|key| Value::from(*key)).collect());
    set(&mut event, "extra.shodan.unique_keys", &keys)?;
    if let Some(protocol) = unique.iter().find(|key| PROTOCOLS.contains(key)) {
        set(&mut event, "protocol.application", &Value::from(*protocol))?;
    }
    if let Some(Value::Array(vulns)) = vulns {
        let verified: Vec<Value> = vulns
            .iter()
            .filter(|vuln| vuln.get("verified").is_some_and(truthy))
            .filter_map(|vuln| vuln.get("identifier").cloned())
            .collect();
        set(&mut event, "extra.verified_vulns", &Value::Array(verified))?;
    }
    Ok(event)
}

fn minimal_event(report: &Report, members: &[(String, Json)]) -> Result<Event, BannerError> {
    let mut event = report.new_event();
    for (field, key) in MINIMAL {
        if let Some(value) = member(members, key).map(Json::to_value).filter(truthy) {
            set(&mut event, field, &value)?;
        }
    }
    if let Some(country) = lookup(members, "location/country_code") {
        set(&mut event, "source.geolocation.cc", &country.to_value())?;
    }
    let timestamp = member(members, "timestamp").map(Json::to_value).unwrap_or(Value::Null);
    let time = timestamp_text(&timestamp)
        .ok_or_else(|| ("time.source".to_owned(), "the banner has no `timestamp` text".to_owned()))?;
    set(&mut event, "time.source", &time)?;
    let banner = Value::Object(members.iter().map(|(key, value)| (key.clone(), value.to_value())).collect());
    set(&mut event, "extra.shodan", &banner)?;
    set(&mut event, "classification.type", &Value::from("other"))?;
    set(&mut event, "classification.identifier", &Value::from("network-scan"))?;
    Ok(event)
}

/// Shodan's `timestamp` (UTC without a zone) with the zone IntelMQ adds.
fn timestamp_text(value: &Value) -> Option<Value> {
    value.as_str().map(|text| Value::String(format!("{text}+00")))
}

/// IntelMQ's conversions of some members; `None` when the member gives no value (IntelMQ's
/// `NoValueException`).
fn convert(path: &str, value: &Json, raw: &str) -> Result<Option<Value>, BannerError> {
    let keys = |value: &Json| match value {
        Json::Object(members) => {
            Some(Value::Array(members.iter().map(|(key, _)| Value::from(key.as_str())).collect()))
        }
        Json::Other(_) => None,
    };
    Ok(match path {
        "timestamp" => {
            Some(timestamp_text(&value.to_value()).ok_or_else(|| {
                ("time.source".to_owned(), "the banner's `timestamp` is not text".to_owned())
            })?)
        }
        "hostnames" | "domains" => first_host_name(&value.to_value()),
        "ftp/features" | "vulns" => identified_list(value),
        "coap/resources" | "http/components" | "mac" | "rsync/modules" => keys(value),
        "opts/ldap/supportedControl" | "opts/ldap/supportedLDAPVersion" => Some(match value.to_value() {
            Value::Array(items) => Value::Array(items),
            single => Value::Array(vec![single]),
        }),
        "ssl/cert/serial" | "ssl/dhparams/generator" => {
            Some(Value::String(integer_literal(raw, path).unwrap_or_else(|| python_str(&value.to_value()))))
        }
        _ => Some(value.to_value()),
    })
}

/// The first of a list of host names that is a valid domain name.
fn first_host_name(value: &Value) -> Option<Value> {
    value
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .find(|name| Event::prepare(FieldId::SOURCE_FQDN, name).is_ok())
        .map(Value::from)
}

/// An object of objects as a list of the inner objects, each with its key as `identifier`, in
/// the text's order; `None` when the value or an inner one is not an object.
fn identified_list(value: &Json) -> Option<Value> {
    let Json::Object(members) = value else { return None };
    let mut list = Vec::with_capacity(members.len());
    for (key, inner) in members {
        let Value::Object(mut object) = inner.to_value() else { return None };
        object.insert("identifier".to_owned(), Value::from(key.as_str()));
        list.push(Value::Object(object));
    }
    Some(Value::Array(list))
}

/// The digits of an integer at a path of the banner's text, as Python's `str()` writes the
/// integer `json.loads` reads from them, however large: a certificate's serial is a number of up
/// to 160 bits, which a JSON reader of 64-bit numbers keeps only approximately. `None` if the
/// value there is not an integer.
fn integer_literal(raw: &str, path: &str) -> Option<String> {
    let (mut start, mut end) = (0, raw.len());
    for key in path.split('/') {
        let (inner_start, inner_end) = member_span(&raw[start..end], key)?;
        (start, end) = (start + inner_start, start + inner_end);
    }
    let literal = &raw[start..end];
    let digits = literal.strip_prefix('-').unwrap_or(literal);
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    // JSON has no leading zeros, so only minus zero is written otherwise by Python.
    Some(if digits == "0" { digits.to_owned() } else { literal.to_owned() })
}

/// Python's `str()` of a JSON value, as IntelMQ turns certificate serials into text.
fn python_str(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use crate::Report;

    const BANNER: &str = r#"{"ip_str": "192.0.2.41", "port": 22, "transport": "tcp", "org": "Example",
        "timestamp": "2026-11-29T08:30:12.251017", "location": {"country_code": "BA"},
        "ssh": {"type": "ssh-rsa"}}"#;

    fn identifier(options: serde_json::Value) -> Option<String> {
        let parser = crate::parsers::configured("shodan", &options)?.ok()?;
        let parsed = parser.parse(&Report::new("shodan", None, BANNER.as_bytes().to_vec()));
        let event = &parsed.events.first()?.event;
        event.get("classification.identifier").map(ToString::to_string)
    }

    #[test]
    fn minimal_mode_is_an_option() {
        assert_eq!(identifier(serde_json::json!({})).as_deref(), Some("shodan-scan"));
        assert_eq!(identifier(serde_json::json!({"minimal_mode": false})).as_deref(), Some("shodan-scan"));
        assert_eq!(identifier(serde_json::json!({"minimal_mode": true})).as_deref(), Some("network-scan"));
        let errors =
            match crate::parsers::configured("shodan", &serde_json::json!({"minimal_mode": 1, "x": 2})) {
                Some(Err(errors)) => errors,
                _ => Vec::new(),
            };
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("minimal_mode"), "{errors:?}");
    }

    /// The serial's text for a banner whose certificate has `cert` as its members.
    fn serial(cert: &str) -> Option<String> {
        let banner = format!(
            r#"{{"ip_str": "192.0.2.41", "port": 443, "timestamp": "2026-11-29T08:30:12",
                "ssl": {{"versions": ["TLSv1.3"], "cert" : {cert} }}}}"#
        );
        let parsed = crate::FeedParser::parse(
            &super::ShodanParser::minimal(false),
            &Report::new("shodan", None, banner.into_bytes()),
        );
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        parsed.events[0].event.get("extra.ssl.cert.serial").map(ToString::to_string)
    }

    #[test]
    fn certificate_serials_keep_every_digit() {
        // 160 bits, as Python's `str()` of the integer `json.loads` reads.
        let big = "1461501637330902918203684832716283019655932542975";
        assert_eq!(serial(&format!(r#"{{"serial": {big}, "sig_alg": "x"}}"#)).as_deref(), Some(big));
        assert_eq!(serial(&format!(r#"{{"serial": -{big}}}"#)), Some(format!("-{big}")));
        // Of a repeated member the last, as Python keeps it.
        assert_eq!(serial(&format!(r#"{{"serial": 1, "serial":{big} }}"#)).as_deref(), Some(big));
        assert_eq!(serial(r#"{"serial": -0}"#).as_deref(), Some("0"));
        assert_eq!(serial(r#"{"serial": 4096}"#).as_deref(), Some("4096"));
        assert_eq!(serial(r#"{"serial": "0a1b"}"#).as_deref(), Some("0a1b"));
        assert_eq!(serial(r#"{"serial": 1.5}"#).as_deref(), Some("1.5"));
        assert_eq!(serial(r#"{"serial": true}"#).as_deref(), Some("True"));
    }

    #[test]
    fn the_minimal_event_keeps_the_banner() {
        let parser = super::ShodanParser::minimal(true);
        let parsed =
            crate::FeedParser::parse(&parser, &Report::new("shodan", None, BANNER.as_bytes().to_vec()));
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let event = &parsed.events[0].event;
        let banner = event.get("extra.shodan").map(ToString::to_string).unwrap_or_default();
        assert!(banner.contains("ssh-rsa"), "{banner}");
        assert_eq!(event.get("source.geolocation.cc").map(ToString::to_string).as_deref(), Some("BA"));
        assert!(event.get("extra.ssh.type").is_none(), "the full mode's members are not set");
    }
}
