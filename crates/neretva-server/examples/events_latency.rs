//! Query latency of `GET /api/v1/events` over a large event store.
//!
//! ```sh
//! cargo run --release -p neretva-server --example events_latency -- \
//!     --sqlite /tmp/neretva-events-bench/events-10000000.sqlite --events 10000000
//! # or: --database-url postgres://user:password@host/db
//! ```
//!
//! 1. Opens and migrates the store. When it holds fewer than `--events` events of this
//!    benchmark, it creates the constituency (the operating CERT, three sectoral CERTs and 50
//!    organisations with IPv4 and IPv6 networks, ASNs and domains) and loads synthetic events
//!    through `Store::insert_events` in batches of 50,000, each batch with one stored report
//!    per feed. The data is deterministic (fixed xorshift seed): a mix of RSIT taxonomies and
//!    types from 21 feed profiles of 11 feeds, 30 days of observation and source times ending
//!    2026-11-28T00:00Z, about 70 % of the events inside the constituency's networks (routed
//!    to their owner), IPv6 for about 8 %, ASNs, an IntelMQ JSON object as the pipeline
//!    stores it and a raw CSV line. A load interrupted half-way resumes at the first batch
//!    whose reports are not all marked parsed (that batch's events are deleted and loaded
//!    again). The times depend on `--events`, so reuse a database only with the same count
//!    (`bench/events_query.sh` names the file by it).
//! 2. Builds the real HTTP application in process with an analyst of the operator and a
//!    constituent user, each with an API token.
//! 3. Sends each scenario's request through `tower::ServiceExt::oneshot`, after a warm-up,
//!    one request at a time, and prints a markdown table of p50, p95 and max (milliseconds,
//!    from the request to the whole response body: authentication, handler, store query,
//!    JSON serialisation) and the number of events returned.
//!
//! With `--web` it measures the web interface's main pages instead (`bench/web.sh`): the
//! dashboard, the event search and an event's page, the incident queue and an incident, the
//! constituent portal, the constituency, the feeds, sharing and administration, signed in with
//! a session cookie as a browser is; the table counts the HTML table rows of each page. With
//! `--incidents N` the store also holds N synthetic incidents reported by the 50 organisations
//! (`support/incident_data.rs`, the data of `incidents_latency`), and with `--intel N` N
//! shared MISP events of 50 attributes each (`support/intel_data.rs`).
//!
//! Progress goes to standard error, the table to standard output.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::error::Error;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use neretva_model::Uuid;
use neretva_model::asset::AssetValue;
use neretva_model::org::{EntityType, OrganisationFields};
use neretva_model::user::{Role, Scope};
use neretva_net::{Asn, Cidr};
use neretva_server::auth::{PasswordParams, new_token};
use neretva_server::{AppState, ServerConfig, app};
use neretva_store::feeds::{NewEvent, NewReport, ReportCounts, ReportQuery, ReportStatus};
use neretva_store::{Actor, NewUser, Store};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::macros::datetime;
use tower::ServiceExt;

use rng::Rng;

#[path = "support/incident_data.rs"]
mod incident_data;
#[path = "support/intel_data.rs"]
mod intel_data;
#[path = "support/rng.rs"]
mod rng;

type BoxError = Box<dyn Error + Send + Sync>;
type Result<T, E = BoxError> = std::result::Result<T, E>;

/// The seed of every random choice; a batch's generator is seeded from it and the batch index.
const SEED: u64 = 0x6E65_7265_7476_6121;
/// Events per `insert_events` call.
const BATCH: usize = 50_000;
/// The newest observation time of the data set, and how far back it reaches.
const END: OffsetDateTime = datetime!(2026-11-28 00:00 UTC);
const DAYS: i64 = 30;
/// The `source` of every report this benchmark stores, followed by the batch number.
const SOURCE_PREFIX: &str = "bench:events_latency/batch-";
const OPERATOR: &str = "CERT-BIH";
/// The constituent organisation whose user searches (a mid-sized one).
const CONSTITUENT_ORG: usize = 8;

// Command line.

struct Options {
    sqlite: PathBuf,
    database_url: Option<String>,
    events: u64,
    requests: usize,
    warmup: usize,
    /// When not zero: a scenario stops sampling after this many seconds, once it has at least
    /// `MIN_SAMPLES` samples (and its warm-up after a tenth of it, once it has one).
    max_seconds: f64,
    load_only: bool,
    /// Only the scenarios whose name contains this text.
    only: Option<String>,
    /// The web interface's pages (signed in with a session cookie) instead of the API.
    web: bool,
    /// Incidents to hold besides the events (`support/incident_data.rs`).
    incidents: usize,
    /// Shared intel events to hold (`support/intel_data.rs`).
    intel: usize,
}

/// The fewest samples a scenario takes under `--max-seconds`.
const MIN_SAMPLES: usize = 20;

fn usage() -> ! {
    eprintln!(
        "usage: events_latency [--sqlite PATH | --database-url URL] [--events N] [--requests N] \
         [--warmup N] [--max-seconds S] [--load-only] [--only TEXT] [--web] [--incidents N] \
         [--intel N]\n\
         defaults: --sqlite /tmp/neretva-events-bench/events.sqlite --events 10000000 \
         --requests 200 --warmup 20 --max-seconds 0 (no limit) --incidents 0 --intel 0"
    );
    std::process::exit(2)
}

fn options() -> Options {
    let mut options = Options {
        sqlite: PathBuf::from("/tmp/neretva-events-bench/events.sqlite"),
        database_url: None,
        events: 10_000_000,
        requests: 200,
        warmup: 20,
        max_seconds: 0.0,
        load_only: false,
        only: None,
        web: false,
        incidents: 0,
        intel: 0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        let number =
            |text: String| -> u64 { text.replace(['_', ','], "").parse().unwrap_or_else(|_| usage()) };
        match arg.as_str() {
            "--sqlite" => options.sqlite = PathBuf::from(value()),
            "--database-url" => options.database_url = Some(value()),
            "--events" => options.events = number(value()),
            "--requests" => options.requests = number(value()) as usize,
            "--warmup" => options.warmup = number(value()) as usize,
            "--max-seconds" => options.max_seconds = value().parse().unwrap_or_else(|_| usage()),
            "--load-only" => options.load_only = true,
            "--only" => options.only = Some(value()),
            "--web" => options.web = true,
            "--incidents" => options.incidents = number(value()) as usize,
            "--intel" => options.intel = number(value()) as usize,
            _ => usage(),
        }
    }
    options
}

// Deterministic randomness.

fn cumulative(weights: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut sum = 0.0;
    weights
        .into_iter()
        .map(|w| {
            sum += w;
            sum
        })
        .collect()
}

// The constituency.

#[derive(Clone, Copy)]
struct Net4 {
    base: u32,
    len: u8,
}

impl Net4 {
    fn size(self) -> u64 {
        1u64 << (32 - self.len)
    }
    fn end(self) -> u32 {
        self.base + (self.size() - 1) as u32
    }
    fn contains(self, ip: u32) -> bool {
        ip >= self.base && ip <= self.end()
    }
    fn cidr(self) -> Cidr {
        Cidr::new(IpAddr::V4(Ipv4Addr::from(self.base)), self.len).expect("an aligned network")
    }
}

#[derive(Clone, Copy)]
struct Net6 {
    base: u128,
    len: u8,
}

impl Net6 {
    fn cidr(self) -> Cidr {
        Cidr::new(IpAddr::V6(Ipv6Addr::from(self.base)), self.len).expect("an aligned network")
    }
}

struct OrgPlan {
    name: String,
    short_name: String,
    sector: &'static str,
    entity_type: EntityType,
    /// Index of the parent in the plan.
    parent: Option<usize>,
    v4: Vec<Net4>,
    v6: Vec<Net6>,
    /// Its own AS, if it has one.
    asn: Option<u32>,
    /// The AS its addresses are announced from (its own or its upstream's).
    announced_by: u32,
    domain: String,
    /// Share of the routed events.
    weight: f64,
}

struct Constituency {
    orgs: Vec<OrgPlan>,
    /// Cumulative weights over `orgs`.
    org_weights: Vec<f64>,
    /// Every IPv4 network, sorted by base, with its organisation.
    v4_index: Vec<(Net4, usize)>,
    /// ASNs seen outside the constituency, most active first.
    outside_asns: Vec<u32>,
    /// Sinkholes and honeypots (destination addresses), outside the constituency.
    sensors: Vec<IpAddr>,
}

const CITIES: &[&str] =
    &["Sarajevo", "Banja Luka", "Tuzla", "Zenica", "Mostar", "Bihać", "Brčko", "Doboj", "Bijeljina"];
const COUNTRIES: &[&str] =
    &["DE", "NL", "US", "RU", "CN", "FR", "GB", "RS", "HR", "BR", "IN", "VN", "TR", "UA", "PL", "RO"];
const SECTORS: &[&str] = &[
    "energy",
    "transport",
    "banking",
    "health",
    "drinking-water",
    "digital-infrastructure",
    "ict-service-management",
    "public-administration",
    "postal-courier",
    "manufacturing",
    "digital-providers",
    "research",
    "financial-market-infrastructures",
    "waste-management",
];
/// First octets the constituency's IPv4 networks are taken from (public unicast space).
const FIRST_OCTETS: &[u32] = &[
    31, 37, 46, 62, 77, 78, 79, 80, 81, 82, 85, 86, 89, 91, 92, 93, 94, 95, 109, 141, 151, 176, 178, 185,
    188, 193, 194, 195, 212, 213, 217,
];

fn bogon4(ip: u32) -> bool {
    let [a, b, c, _] = ip.to_be_bytes();
    a == 0
        || a == 10
        || a == 127
        || a >= 224
        || (a == 100 && (64..128).contains(&b))
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && c == 2)
        || (a == 198 && (b == 18 || b == 19))
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
}

impl Constituency {
    fn plan() -> Constituency {
        let mut rng = Rng::new(SEED);
        let mut taken: Vec<Net4> = Vec::new();
        let mut allocate4 = |rng: &mut Rng, len: u8| -> Net4 {
            loop {
                let first = *rng.pick(FIRST_OCTETS);
                let base = (first << 24) | ((rng.below(1 << 24) as u32) & !((1u32 << (32 - len)) - 1));
                let net = Net4 { base, len };
                if !taken.iter().any(|t| t.base <= net.end() && net.base <= t.end()) {
                    taken.push(net);
                    return net;
                }
            }
        };
        let mut used_asns = HashSet::new();
        let mut new_asn = |rng: &mut Rng| -> u32 {
            loop {
                let asn = 8_000 + rng.below(200_000) as u32;
                if used_asns.insert(asn) {
                    return asn;
                }
            }
        };
        let mut orgs = Vec::new();
        // The operating CERT and three sectoral CERTs: small networks, few events.
        for (index, (name, short)) in [
            ("Državni CERT (benchmark)", OPERATOR),
            ("CERT Federacije BiH (benchmark)", "CERT-FBIH"),
            ("CERT Republike Srpske (benchmark)", "CERT-RS"),
            ("CERT Brčko distrikta (benchmark)", "CERT-BD"),
        ]
        .into_iter()
        .enumerate()
        {
            let v4 = vec![allocate4(&mut rng, 24)];
            orgs.push(OrgPlan {
                name: name.to_owned(),
                short_name: short.to_owned(),
                sector: "public-administration",
                entity_type: EntityType::Other,
                parent: (index > 0).then_some(0),
                v4,
                v6: vec![Net6 { base: (0x2a05_4e00_u128 + index as u128) << 96, len: 48 }],
                asn: None,
                announced_by: 0,
                domain: format!("{}.bench.ba", short.to_ascii_lowercase()),
                weight: 0.0,
            });
        }
        // 50 constituents: 4 telecoms, 10 mid-sized operators, 36 smaller organisations.
        for k in 0..50 {
            let (kind, v4, v6, asn) = match k {
                0..4 => (
                    "Telekom",
                    vec![allocate4(&mut rng, 16), allocate4(&mut rng, 18)],
                    vec![Net6 {
                        base: u128::from(0x2a02_0000_u32 + rng.below(0xffff) as u32) << 96,
                        len: 32,
                    }],
                    Some(new_asn(&mut rng)),
                ),
                4..14 => {
                    let mut v4 = vec![allocate4(&mut rng, 19 + (k % 2) as u8)];
                    if k % 3 == 0 {
                        v4.push(allocate4(&mut rng, 22));
                    }
                    let v6 = vec![Net6 {
                        base: (0x2a03_0000_0000_u128 + rng.below(1 << 32) as u128) << 80,
                        len: 48,
                    }];
                    let asn = (k < 10).then(|| new_asn(&mut rng));
                    ("Operator", v4, v6, asn)
                }
                _ => {
                    let mut v4 = vec![allocate4(&mut rng, 22 + (k % 3) as u8)];
                    if k % 4 == 0 {
                        v4.push(allocate4(&mut rng, 24));
                    }
                    let v6 = if k % 3 == 0 {
                        vec![Net6 {
                            base: (0x2a03_0000_0000_u128 + rng.below(1 << 32) as u128) << 80,
                            len: 48,
                        }]
                    } else {
                        Vec::new()
                    };
                    ("Organisation", v4, v6, None)
                }
            };
            let sector = SECTORS[k % SECTORS.len()];
            let short_name = format!("BENCH-{:02}", k);
            orgs.push(OrgPlan {
                name: format!("{kind} {k:02} d.o.o. ({sector}, benchmark)"),
                domain: format!("org{k:02}.bench.ba"),
                short_name,
                sector,
                entity_type: if k % 3 == 0 { EntityType::Essential } else { EntityType::Important },
                parent: Some(1 + k % 3),
                v4,
                v6,
                asn,
                announced_by: 0,
                weight: 0.0,
            });
        }
        // Addresses are announced by the organisation's own AS, else by one of the telecoms.
        let telecom_asns: Vec<u32> = orgs[4..8].iter().filter_map(|o| o.asn).collect();
        for (index, org) in orgs.iter_mut().enumerate() {
            org.announced_by = org.asn.unwrap_or(telecom_asns[index % telecom_asns.len()]);
            // Events grow with the square root of the address space.
            org.weight =
                org.v4.iter().map(|n| (n.size() as f64).sqrt()).sum::<f64>() + 16.0 * org.v6.len() as f64;
        }
        let org_weights = cumulative(orgs.iter().map(|o| o.weight));
        let mut v4_index: Vec<(Net4, usize)> =
            orgs.iter().enumerate().flat_map(|(i, o)| o.v4.iter().map(move |n| (*n, i))).collect();
        v4_index.sort_by_key(|(n, _)| n.base);
        let mut outside_asns = Vec::new();
        while outside_asns.len() < 4_000 {
            outside_asns.push(new_asn(&mut rng));
        }
        let mut sensors = Vec::new();
        let mut constituency =
            Constituency { orgs, org_weights, v4_index, outside_asns, sensors: Vec::new() };
        for _ in 0..24 {
            sensors.push(IpAddr::V4(Ipv4Addr::from(constituency.outside_v4(&mut rng))));
        }
        constituency.sensors = sensors;
        constituency
    }

    fn owner_v4(&self, ip: u32) -> Option<usize> {
        let at = self.v4_index.partition_point(|(n, _)| n.base <= ip);
        at.checked_sub(1).map(|i| self.v4_index[i]).filter(|(n, _)| n.contains(ip)).map(|(_, org)| org)
    }

    /// A public IPv4 address outside the constituency.
    fn outside_v4(&self, rng: &mut Rng) -> u32 {
        loop {
            let ip = 0x0100_0000 + rng.below(0xDF00_0000) as u32;
            if !bogon4(ip) && self.owner_v4(ip).is_none() {
                return ip;
            }
        }
    }

    /// An address of the organisation; low addresses of a network are the busiest.
    fn inside(&self, rng: &mut Rng, org: usize) -> IpAddr {
        let plan = &self.orgs[org];
        if !plan.v6.is_empty() && rng.chance(0.10) {
            let net = *rng.pick(&plan.v6);
            let host = (u128::from(rng.below(1 << 16)) << 64) | u128::from(rng.below(1 << 12));
            return IpAddr::V6(Ipv6Addr::from(net.base | host));
        }
        let net = *rng.pick(&plan.v4);
        let u = rng.unit();
        let host = ((net.size() as f64) * u * u) as u32;
        IpAddr::V4(Ipv4Addr::from(net.base + host.min((net.size() - 1) as u32)))
    }

    fn outside(&self, rng: &mut Rng) -> IpAddr {
        if rng.chance(0.06) {
            // In 2001::/16 to 2fff::/16, away from the constituency's 2a00::/12.
            let high = loop {
                let high = 0x2001_0000_u128 + u128::from(rng.below(0x0fff_0000));
                if high >> 20 != 0x2a0 {
                    break high;
                }
            };
            let ip = (high << 96) | (u128::from(rng.next()) << 32) | u128::from(rng.next() as u32);
            return IpAddr::V6(Ipv6Addr::from(ip));
        }
        IpAddr::V4(Ipv4Addr::from(self.outside_v4(rng)))
    }

    fn outside_asn(&self, rng: &mut Rng) -> u32 {
        let u = rng.unit();
        self.outside_asns[((self.outside_asns.len() as f64) * u * u * u) as usize]
    }
}

// Feed profiles.

struct Profile {
    feed: &'static str,
    provider: &'static str,
    taxonomy: &'static str,
    kind: &'static str,
    identifier: &'static str,
    transport: Option<&'static str>,
    application: Option<&'static str>,
    port: Option<u16>,
    /// Malware names, one picked per event.
    malware: &'static [&'static str],
    /// The event names a URL (and its host) rather than only an address.
    url: bool,
    /// The event has a destination (a sinkhole or honeypot).
    destination: bool,
    weight: f64,
}

const fn profile(
    feed: &'static str,
    provider: &'static str,
    taxonomy: &'static str,
    kind: &'static str,
    identifier: &'static str,
    weight: f64,
) -> Profile {
    Profile {
        feed,
        provider,
        taxonomy,
        kind,
        identifier,
        transport: None,
        application: None,
        port: None,
        malware: &[],
        url: false,
        destination: false,
        weight,
    }
}

const SINKHOLE_MALWARE: &[&str] =
    &["mirai", "andromeda", "qsnatch", "necurs", "ramnit", "conficker", "avalanche-dropper", "emotet"];

#[rustfmt::skip]
fn profiles() -> Vec<Profile> {
    let ss = "Shadowserver";
    vec![
        Profile { transport: Some("udp"), application: Some("dns"), port: Some(53), ..profile("shadowserver", ss, "vulnerable", "ddos-amplifier", "open-dns", 9.0) },
        Profile { transport: Some("udp"), application: Some("ntp"), port: Some(123), ..profile("shadowserver", ss, "vulnerable", "ddos-amplifier", "ntp-monitor", 4.0) },
        Profile { transport: Some("udp"), application: Some("snmp"), port: Some(161), ..profile("shadowserver", ss, "vulnerable", "information-disclosure", "open-snmp", 4.0) },
        Profile { transport: Some("tcp"), application: Some("rdp"), port: Some(3389), ..profile("shadowserver", ss, "vulnerable", "potentially-unwanted-accessible", "accessible-rdp", 6.0) },
        Profile { transport: Some("tcp"), application: Some("telnet"), port: Some(23), ..profile("shadowserver", ss, "vulnerable", "potentially-unwanted-accessible", "accessible-telnet", 4.0) },
        Profile { transport: Some("tcp"), application: Some("https"), port: Some(443), ..profile("shadowserver", ss, "vulnerable", "weak-crypto", "ssl-poodle", 5.0) },
        Profile { transport: Some("tcp"), application: Some("https"), port: Some(443), ..profile("shadowserver", ss, "vulnerable", "vulnerable-system", "vulnerable-exchange-server", 5.0) },
        Profile { transport: Some("tcp"), application: Some("http"), port: Some(80), malware: SINKHOLE_MALWARE, destination: true, ..profile("shadowserver", ss, "malicious-code", "infected-system", "sinkhole-http-drone", 15.0) },
        Profile { transport: Some("tcp"), application: Some("ssh"), port: Some(22), destination: true, ..profile("shadowserver", ss, "intrusion-attempts", "brute-force", "honeypot-brute-force", 6.0) },
        Profile { transport: Some("udp"), port: Some(19), destination: true, ..profile("shadowserver", ss, "availability", "ddos", "amplification-ddos-victim", 2.0) },
        Profile { transport: Some("tcp"), application: Some("http"), port: Some(80), url: true, ..profile("shadowserver", ss, "intrusions", "system-compromise", "compromised-website", 1.5) },
        Profile { transport: Some("tcp"), port: Some(22), ..profile("blocklistde", "Blocklist.de", "intrusion-attempts", "brute-force", "blocklist-ssh", 6.0) },
        profile("ci-army", "CINS Army", "other", "blacklist", "ci-army", 4.0),
        profile("dshield-block", "DShield", "information-gathering", "scanner", "dshield-block", 5.0),
        profile("dataplane", "DataPlane.org", "information-gathering", "scanner", "sshpwauth", 5.0),
        profile("cymru-cap", "Team Cymru", "abusive-content", "spam", "spam", 6.0),
        Profile { transport: Some("tcp"), application: Some("https"), port: Some(443), malware: &["emotet", "dridex", "qakbot", "trickbot"], ..profile("abusech-feodotracker", "abuse.ch", "malicious-code", "c2-server", "feodotracker", 2.0) },
        Profile { url: true, malware: &["mozi", "mirai", "agenttesla", "formbook"], ..profile("abusech-urlhaus", "abuse.ch", "malicious-code", "malware-distribution", "urlhaus", 3.0) },
        Profile { url: true, ..profile("openphish", "OpenPhish", "fraud", "phishing", "openphish", 3.0) },
        profile("alienvault", "AlienVault", "other", "undetermined", "alienvault-otx", 2.0),
        Profile { url: true, ..profile("national-leaks", "CERT-BIH", "information-content-security", "data-leak", "credential-leak", 0.5) },
    ]
}

// Events.

/// A time as IntelMQ writes it: `2026-11-28T00:00:00+00:00`.
fn intelmq_time(at: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

fn json_str(text: &str) -> String {
    serde_json::to_string(text).expect("a string serialises")
}

/// One batch of events, its feeds in the order they first appear.
struct Batch {
    index: u64,
    events: Vec<NewEvent>,
    /// Feed names; `NewEvent::report_id` holds the index into this list until the reports
    /// are stored.
    feeds: Vec<&'static str>,
}

/// The report id placeholder of the feed at `index` in `Batch::feeds`.
fn placeholder(index: usize) -> Uuid {
    Uuid::from_u128(index as u128)
}

struct Generator {
    constituency: Arc<Constituency>,
    profiles: Vec<Profile>,
    profile_weights: Vec<f64>,
    total: u64,
}

impl Generator {
    fn new(constituency: Arc<Constituency>, total: u64) -> Generator {
        let profiles = profiles();
        let profile_weights = cumulative(profiles.iter().map(|p| p.weight));
        Generator { constituency, profiles, profile_weights, total }
    }

    fn batch(&self, index: u64) -> Batch {
        let mut rng = Rng::new(SEED ^ (index + 1).wrapping_mul(0xD6E8_FEB8_6659_FD93));
        let first = index * BATCH as u64;
        let count = (self.total - first).min(BATCH as u64);
        let mut feeds: Vec<&'static str> = Vec::new();
        let mut lines: Vec<u64> = Vec::new();
        let span_ms = DAYS * 86_400_000;
        let start_ms = (END.unix_timestamp_nanos() / 1_000_000) as i64 - span_ms;
        let mut events = Vec::with_capacity(count as usize);
        for n in first..first + count {
            // Observation times run through the 30 days in loading order (as ids do).
            let observed_ms = start_ms + ((n as i128 * span_ms as i128) / self.total as i128) as i64;
            let profile = &self.profiles[rng.weighted(&self.profile_weights)];
            let feed_index = match feeds.iter().position(|f| *f == profile.feed) {
                Some(i) => i,
                None => {
                    feeds.push(profile.feed);
                    lines.push(0);
                    feeds.len() - 1
                }
            };
            lines[feed_index] += 1;
            events.push(self.event(
                &mut rng,
                profile,
                observed_ms,
                placeholder(feed_index),
                lines[feed_index],
            ));
        }
        Batch { index, events, feeds }
    }

    fn event(&self, rng: &mut Rng, p: &Profile, observed_ms: i64, report_id: Uuid, line: u64) -> NewEvent {
        let c = &self.constituency;
        let mut random = [0u8; 10];
        random[..8].copy_from_slice(&rng.next().to_le_bytes());
        random[8..].copy_from_slice(&rng.next().to_le_bytes()[..2]);
        let id = uuid::Builder::from_unix_timestamp_millis(observed_ms as u64, &random).into_uuid();
        let observed = OffsetDateTime::from_unix_timestamp(observed_ms / 1000).expect("a valid time");
        // Source times lag behind observation by up to a day; a few feeds give none.
        let source_time = (!rng.chance(0.05)).then(|| {
            let u = rng.unit();
            observed - time::Duration::seconds((86_400.0 * u * u) as i64)
        });
        let org = rng.chance(0.70).then(|| rng.weighted(&c.org_weights));
        let ip = match org {
            Some(org) => c.inside(rng, org),
            None => c.outside(rng),
        };
        let asn = match org {
            Some(org) => c.orgs[org].announced_by,
            None => c.outside_asn(rng),
        };
        let port = p.port.unwrap_or_else(|| 1024 + rng.below(60_000) as u16);
        let malware = (!p.malware.is_empty()).then(|| *rng.pick(p.malware));
        let destination = p.destination.then(|| *rng.pick(&c.sensors));
        let fqdn = p.url.then(|| match org {
            Some(org) => format!("www{}.{}", rng.below(20), c.orgs[org].domain),
            None => format!("login-{:x}.secure-{:x}.example.com", rng.below(1 << 24), rng.below(1 << 16)),
        });
        let url = fqdn.as_ref().map(|host| {
            format!("http://{host}/{:x}/index.php?id={}", rng.below(1 << 32), rng.below(100_000))
        });
        let (cc, city) = match org {
            Some(_) => ("BA", Some(*rng.pick(CITIES))),
            None => (*rng.pick(COUNTRIES), None),
        };
        let reverse_dns = match (org, ip) {
            (Some(org), IpAddr::V4(v4)) if rng.chance(0.5) => {
                let [a, b, cc, d] = v4.octets();
                Some(format!("host-{a}-{b}-{cc}-{d}.static.{}", c.orgs[org].domain))
            }
            _ => None,
        };

        // The IntelMQ JSON object, keys sorted, Python's separators.
        let mut fields: Vec<(&str, String)> = vec![
            ("classification.identifier", json_str(p.identifier)),
            ("classification.taxonomy", json_str(p.taxonomy)),
            ("classification.type", json_str(p.kind)),
            ("feed.accuracy", "100.0".to_owned()),
            ("feed.name", json_str(p.feed)),
            ("feed.provider", json_str(p.provider)),
            ("source.asn", asn.to_string()),
            ("source.geolocation.cc", json_str(cc)),
            ("source.ip", json_str(&ip.to_string())),
            ("source.port", port.to_string()),
            ("time.observation", json_str(&intelmq_time(observed))),
        ];
        if p.feed == "shadowserver" {
            fields.push((
                "feed.documentation",
                json_str("https://www.shadowserver.org/what-we-do/network-reporting/"),
            ));
            fields.push(("extra.tag", json_str(p.identifier)));
            fields.push(("extra.naics", (517_311 + rng.below(8)).to_string()));
            fields.push((
                "extra.sector",
                json_str(if org.is_some() {
                    "Communications, Service Provider, and Hosting Service"
                } else {
                    ""
                }),
            ));
        }
        if let Some(at) = source_time {
            fields.push(("time.source", json_str(&intelmq_time(at))));
        }
        if let Some(city) = city {
            fields.push(("source.geolocation.city", json_str(city)));
        }
        if let Some(name) = &reverse_dns {
            fields.push(("source.reverse_dns", json_str(name)));
        }
        if let Some(t) = p.transport {
            fields.push(("protocol.transport", json_str(t)));
        }
        if let Some(a) = p.application {
            fields.push(("protocol.application", json_str(a)));
        }
        if let Some(m) = malware {
            fields.push(("malware.name", json_str(m)));
        }
        if let Some(d) = destination {
            fields.push(("destination.ip", json_str(&d.to_string())));
            fields.push(("destination.port", p.port.unwrap_or(80).to_string()));
        }
        if let (Some(host), Some(url)) = (&fqdn, &url) {
            fields.push(("source.fqdn", json_str(host)));
            fields.push(("source.url", json_str(url)));
        }
        fields.sort_unstable_by_key(|(name, _)| *name);
        let mut json = String::with_capacity(768);
        json.push('{');
        for (i, (name, value)) in fields.iter().enumerate() {
            if i > 0 {
                json.push_str(", ");
            }
            let _ = write!(json, "\"{name}\": {value}");
        }
        json.push('}');

        // The raw line, CSV as the feed might have sent it.
        let raw = format!(
            "\"{}\",\"{}\",{},\"{}\",{},\"{}\",\"{}\",\"{}\",\"{}\",\"{}\"",
            intelmq_time(source_time.unwrap_or(observed)).replace('T', " ").replace("+00:00", ""),
            ip,
            port,
            p.transport.unwrap_or(""),
            asn,
            cc,
            reverse_dns.as_deref().unwrap_or(""),
            p.identifier,
            malware.unwrap_or(""),
            url.as_deref().unwrap_or(""),
        );
        NewEvent {
            id,
            report_id,
            feed: p.feed.to_owned(),
            line,
            raw,
            time_observation: observed,
            time_source: source_time,
            taxonomy: Some(p.taxonomy.to_owned()),
            classification_type: Some(p.kind.to_owned()),
            source_ip: Some(ip),
            source_asn: Some(asn),
            source_fqdn: fqdn,
            destination_ip: destination,
            // The organisation's index in the plan until the loader puts its id here.
            org_ids: org.map(|o| vec![placeholder(o)]).unwrap_or_default(),
            json,
        }
    }
}

// Loading.

/// Creates the constituency, or finds it; returns the organisations' ids in plan order.
async fn constituency_ids(store: &dyn Store, plan: &Constituency) -> Result<Vec<Uuid>> {
    let actor = Actor("bench:events_latency".into());
    let mut ids: Vec<Uuid> = Vec::with_capacity(plan.orgs.len());
    let mut created = 0;
    for org in &plan.orgs {
        if let Some(found) = store.find_org(&org.short_name).await? {
            ids.push(found.id);
            continue;
        }
        let fields = OrganisationFields {
            name: org.name.clone(),
            short_name: org.short_name.clone(),
            address: None,
            country: "BA".into(),
            sector: Some(org.sector.to_owned()),
            subsector: None,
            entity_type: org.entity_type,
            authority_level: "State".into(),
            parent_id: org.parent.map(|p| ids[p]),
        };
        let stored = store.create_org(&actor, &fields).await?;
        for net in &org.v4 {
            store.add_asset(&actor, stored.id, &AssetValue::Cidr(net.cidr()), None).await?;
        }
        for net in &org.v6 {
            store.add_asset(&actor, stored.id, &AssetValue::Cidr(net.cidr()), None).await?;
        }
        if let Some(asn) = org.asn {
            store.add_asset(&actor, stored.id, &AssetValue::Asn(Asn::new(asn)?), None).await?;
        }
        store.add_asset(&actor, stored.id, &AssetValue::Domain(org.domain.parse()?), None).await?;
        ids.push(stored.id);
        created += 1;
    }
    if created > 0 {
        eprintln!("created {created} organisations with their networks, ASNs and domains");
    }
    Ok(ids)
}

/// Reports of this benchmark by batch: whether all of the batch's reports are parsed, the
/// events they hold, and their ids.
async fn loaded_batches(store: &dyn Store) -> Result<BTreeMap<u64, (bool, u64, Vec<Uuid>)>> {
    let mut batches: BTreeMap<u64, (bool, u64, Vec<Uuid>)> = BTreeMap::new();
    let mut before = None;
    loop {
        let page = store.list_reports(&ReportQuery { feed: None, before, limit: 10_000 }).await?;
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        for report in &page {
            let Some(batch) = report.source.strip_prefix(SOURCE_PREFIX).and_then(|b| b.parse::<u64>().ok())
            else {
                continue;
            };
            let entry = batches.entry(batch).or_insert((true, 0, Vec::new()));
            entry.0 &= report.status == ReportStatus::Parsed;
            entry.1 += report.counts.events;
            entry.2.push(report.id);
        }
    }
    Ok(batches)
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Loads events until the store holds `total` of this benchmark's events.
async fn load(store: Arc<dyn Store>, plan: Arc<Constituency>, org_ids: &[Uuid], total: u64) -> Result<u64> {
    let batches = loaded_batches(store.as_ref()).await?;
    // The complete batches 0, 1, 2, ... (the load goes in order; a batch is complete once all
    // its reports are marked parsed, which happens after its events are inserted).
    let (mut next, mut stored) = (0u64, 0u64);
    while let Some((true, events, _)) = batches.get(&next) {
        next += 1;
        stored += events;
    }
    let batch_count = total.div_ceil(BATCH as u64);
    if next >= batch_count || stored >= total {
        eprintln!("the store holds {} events of this benchmark; nothing to load", thousands(stored));
        return Ok(stored);
    }
    // Batches from `next` on are incomplete or absent: remove what an interrupted load left.
    for (index, (_, _, reports)) in batches.range(next..) {
        for report in reports {
            let deleted = store.delete_report_events(*report).await?;
            if deleted > 0 {
                eprintln!("batch {index}: deleted {deleted} events of an interrupted load");
            }
        }
    }
    eprintln!(
        "loading events {} to {} in batches of {} (the store holds {})",
        thousands(next * BATCH as u64),
        thousands(total),
        thousands(BATCH as u64),
        thousands(stored)
    );
    // Generate the next batch on its own thread while the store inserts the current one.
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Batch>(1);
    let generator = Generator::new(Arc::clone(&plan), total);
    let producer = std::thread::spawn(move || {
        for index in next..batch_count {
            if sender.send(generator.batch(index)).is_err() {
                return;
            }
        }
    });
    let receiver = Arc::new(std::sync::Mutex::new(receiver));
    let started = Instant::now();
    let mut loaded = 0u64;
    let mut insert_time = Duration::ZERO;
    loop {
        let rx = Arc::clone(&receiver);
        let batch = tokio::task::spawn_blocking(move || rx.lock().expect("not poisoned").recv().ok()).await?;
        let Some(mut batch) = batch else { break };
        let batch_started = Instant::now();
        let received_at = OffsetDateTime::now_utc();
        let mut report_ids = Vec::with_capacity(batch.feeds.len());
        let mut counts: HashMap<Uuid, u64> = HashMap::new();
        for feed in &batch.feeds {
            let data = format!(
                "synthetic events of the events_latency benchmark: batch {} of {}, feed {}, seed {:#x}\n",
                batch.index, batch_count, feed, SEED
            )
            .into_bytes();
            let report = NewReport {
                id: Uuid::now_v7(),
                feed: (*feed).to_owned(),
                parser: "synthetic".to_owned(),
                source: format!("{SOURCE_PREFIX}{:06}", batch.index),
                received_at,
                sha256: hex_sha256(&data),
                data,
            };
            let (info, _) = store.store_report(&report).await?;
            report_ids.push(info.id);
        }
        for event in &mut batch.events {
            let feed_index = event.report_id.as_u128() as usize;
            event.report_id = report_ids[feed_index];
            *counts.entry(event.report_id).or_default() += 1;
            if let Some(org) = event.org_ids.first_mut() {
                *org = org_ids[org.as_u128() as usize];
            }
        }
        let insert_started = Instant::now();
        store.insert_events(&batch.events).await?;
        insert_time += insert_started.elapsed();
        let now = OffsetDateTime::now_utc();
        for id in &report_ids {
            let events = counts.get(id).copied().unwrap_or(0);
            let counts = ReportCounts { records: events, events, ..ReportCounts::default() };
            store.finish_report(*id, counts, &[], None, now).await?;
        }
        loaded += batch.events.len() as u64;
        let elapsed = started.elapsed().as_secs_f64();
        eprintln!(
            "loaded {} / {} events: batch {:.2} s, {} events/s overall",
            thousands(stored + loaded),
            thousands(total),
            batch_started.elapsed().as_secs_f64(),
            thousands((loaded as f64 / elapsed) as u64)
        );
    }
    let _ = producer.join();
    let elapsed = started.elapsed().as_secs_f64();
    eprintln!(
        "load done: {} events in {:.1} s, {} events/s ({} events/s inside insert_events)",
        thousands(loaded),
        elapsed,
        thousands((loaded as f64 / elapsed) as u64),
        thousands((loaded as f64 / insert_time.as_secs_f64().max(1e-9)) as u64),
    );
    Ok(stored + loaded)
}

fn hex_sha256(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    let mut out = String::with_capacity(64);
    for byte in digest {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

// Users and requests.

/// Finds or creates the user and gives it a new API token; returns the bearer secret.
async fn user_token(
    store: &dyn Store,
    params: PasswordParams,
    username: &str,
    role: Role,
    org_id: Uuid,
) -> Result<String> {
    let actor = Actor("bench:events_latency".into());
    let user = match store.find_user(username).await? {
        Some(user) => user,
        None => {
            let new = NewUser {
                org_id,
                username: username.to_owned(),
                display_name: None,
                email: None,
                role,
                sectors: Vec::new(),
                language: None,
                password_hash: None,
            };
            store.create_user(&actor, &new).await?
        }
    };
    let (token, secret) = new_token(params, user.id, "events_latency benchmark", Scope::Read, None)?;
    store.create_token(&actor, &token).await?;
    Ok(secret)
}

/// A login session of the user (made by `user_token`) for the web pages; returns the cookie.
async fn user_session(store: &dyn Store, params: PasswordParams, username: &str) -> Result<String> {
    let user = store.find_user(username).await?.ok_or("the benchmark user is missing")?;
    let secret = neretva_server::auth::random_secret();
    let now = OffsetDateTime::now_utc();
    let session = neretva_store::Session {
        id: Uuid::now_v7(),
        user_id: user.id,
        secret_hash: neretva_server::auth::hash_secret(params, &secret)?,
        created_at: now,
        expires_at: now + time::Duration::days(1),
    };
    store.create_session(&session).await?;
    Ok(format!("neretva_session={}", neretva_server::auth::format_session_cookie(session.id, &secret)))
}

struct Reply {
    status: StatusCode,
    items: usize,
    next_cursor: Option<String>,
    body_bytes: usize,
}

/// A request's credential: `Authorization: Bearer nrt_…`, or for web pages the session cookie
/// (`Cookie: neretva_session=…`).
type Credential = (header::HeaderName, String);

async fn get(router: &axum::Router, credential: &Credential, uri: &str) -> Result<Reply> {
    let request = Request::get(uri).header(credential.0.clone(), credential.1.as_str()).body(Body::empty())?;
    let response = router.clone().oneshot(request).await?;
    let status = response.status();
    let bytes = response.into_body().collect().await?.to_bytes();
    let (items, next_cursor) = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(body) => {
            (body["items"].as_array().map_or(0, Vec::len), body["next_cursor"].as_str().map(str::to_owned))
        }
        // A web page: its table rows (header rows included) and its next-page link.
        Err(_) => {
            let html = String::from_utf8_lossy(&bytes);
            let next = html
                .split("rel=\"next\"")
                .next()
                .filter(|_| html.contains("rel=\"next\""))
                .and_then(|before| before.rsplit("cursor=").next())
                .map(|cursor| cursor.split(['"', '&']).next().unwrap_or_default().to_owned());
            (html.matches("<tr").count(), next)
        }
    };
    Ok(Reply { status, items, next_cursor, body_bytes: bytes.len() })
}

/// The request of one scenario: a single URI, or paging through pages with the cursor.
enum Walk {
    One(String),
    Pages(String, usize),
}

struct Scenario {
    name: String,
    user: &'static str,
    walk: Walk,
}

/// Runs one sample of a scenario; returns the events returned and the response bytes.
async fn run(router: &axum::Router, token: &Credential, walk: &Walk) -> Result<(usize, usize)> {
    match walk {
        Walk::One(uri) => {
            let reply = get(router, token, uri).await?;
            if reply.status != StatusCode::OK {
                return Err(format!("{uri}: status {}", reply.status).into());
            }
            Ok((reply.items, reply.body_bytes))
        }
        Walk::Pages(uri, pages) => {
            let (mut items, mut bytes) = (0, 0);
            let mut cursor: Option<String> = None;
            for _ in 0..*pages {
                let page_uri = match &cursor {
                    None => uri.clone(),
                    Some(c) => format!("{uri}{}cursor={c}", if uri.contains('?') { '&' } else { '?' }),
                };
                let reply = get(router, token, &page_uri).await?;
                if reply.status != StatusCode::OK {
                    return Err(format!("{page_uri}: status {}", reply.status).into());
                }
                items += reply.items;
                bytes += reply.body_bytes;
                cursor = reply.next_cursor;
                if cursor.is_none() {
                    break;
                }
            }
            Ok((items, bytes))
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn scenarios(plan: &Constituency) -> Vec<Scenario> {
    let week_ago = END - time::Duration::days(7);
    let (older_from, older_to) = (END - time::Duration::days(21), END - time::Duration::days(14));
    let rfc = |at: OffsetDateTime| intelmq_time(at).replace("+00:00", "Z");
    let telecom = &plan.orgs[4];
    let slash16 = telecom.v4.iter().find(|n| n.len == 16).copied().unwrap_or(telecom.v4[0]);
    let telecom_asn = telecom.asn.unwrap_or(telecom.announced_by);
    let mine = &plan.orgs[4 + CONSTITUENT_ORG];
    let my24 = Net4 { base: mine.v4[0].base, len: 24 };
    let one = |name: &str, user: &'static str, uri: String| Scenario {
        name: name.to_owned(),
        user,
        walk: Walk::One(uri),
    };
    vec![
        one("newest 100 (analyst)", "analyst", "/api/v1/events".into()),
        one("newest 100 (constituent, own organisation)", "constituent", "/api/v1/events".into()),
        one("type=infected-system", "analyst", "/api/v1/events?type=infected-system".into()),
        one(
            "taxonomy=malicious-code, last 7 days",
            "analyst",
            format!("/api/v1/events?taxonomy=malicious-code&since={}&until={}", rfc(week_ago), rfc(END)),
        ),
        one(
            "taxonomy=malicious-code, 7 days ending 14 days ago",
            "analyst",
            format!(
                "/api/v1/events?taxonomy=malicious-code&since={}&until={}",
                rfc(older_from),
                rfc(older_to)
            ),
        ),
        one(
            &format!("ip= a /16 ({})", slash16.cidr()),
            "analyst",
            format!("/api/v1/events?ip={}", slash16.cidr()),
        ),
        one(
            &format!("asn=AS{telecom_asn} (a telecom)"),
            "analyst",
            format!("/api/v1/events?asn=AS{telecom_asn}"),
        ),
        one("feed=blocklistde", "analyst", "/api/v1/events?feed=blocklistde".into()),
        one("q=mirai (free text)", "analyst", "/api/v1/events?q=mirai".into()),
        one(
            "q= an indicator absent from the data (free text)",
            "analyst",
            "/api/v1/events?q=no-such-host.example".into(),
        ),
        one(
            &format!("ip= a /24 (constituent, {})", my24.cidr()),
            "constituent",
            format!("/api/v1/events?ip={}", my24.cidr()),
        ),
        Scenario {
            name: "3 pages with the cursor (analyst, total of 3 requests)".into(),
            user: "analyst",
            walk: Walk::Pages("/api/v1/events".into(), 3),
        },
    ]
}

/// What the web pages of the benchmark open: one of each kind of record.
#[derive(Default)]
struct WebIds {
    event: Option<Uuid>,
    report: Option<Uuid>,
    /// The newest incident (the analyst opens it).
    incident: Option<Uuid>,
    /// An incident the constituent's organisation reported (its portal page).
    own_report: Option<Uuid>,
    intel_event: Option<Uuid>,
    /// A telecom's organisation page.
    telecom: Option<Uuid>,
}

/// The web interface's main pages: the dashboard, the events, the incidents, the constituent
/// portal, the constituency, the feeds, sharing and administration.
fn web_scenarios(plan: &Constituency, ids: &WebIds) -> Vec<Scenario> {
    let telecom = &plan.orgs[4];
    let slash16 = telecom.v4.iter().find(|n| n.len == 16).copied().unwrap_or(telecom.v4[0]);
    let one = |name: &str, user: &'static str, uri: String| Scenario {
        name: name.to_owned(),
        user,
        walk: Walk::One(uri),
    };
    let mut scenarios = vec![
        one("dashboard (analyst)", "analyst", "/".into()),
        one("dashboard (constituent)", "constituent", "/".into()),
        one("events, newest 50 (analyst)", "analyst", "/events".into()),
        one("events, newest 50 (constituent)", "constituent", "/events".into()),
        one("events, type=infected-system (analyst)", "analyst", "/events?type=infected-system".into()),
        one(
            "events, a /16 (analyst)",
            "analyst",
            format!("/events?ip={}%2F16", Ipv4Addr::from(slash16.base)),
        ),
        one("events, text search (analyst)", "analyst", "/events?q=mirai".into()),
        Scenario {
            name: "events, 3 pages with the cursor (analyst, total of 3 requests)".into(),
            user: "analyst",
            walk: Walk::Pages("/events".into(), 3),
        },
        one("incident queue (analyst)", "analyst", "/incidents".into()),
        one("incident queue, in progress (analyst)", "analyst", "/incidents?status=in_progress".into()),
        one("incident queue (constituent)", "constituent", "/incidents".into()),
        one("portal (constituent)", "constituent", "/portal".into()),
        one("portal, own events (constituent)", "constituent", "/portal/events".into()),
        one("organisations (analyst)", "analyst", "/constituency/organisations".into()),
        one(
            "lookup of an address (analyst)",
            "analyst",
            format!("/constituency/lookup?q={}", Ipv4Addr::from(slash16.base + 4_242)),
        ),
        one("feeds (analyst)", "analyst", "/feeds".into()),
        one("shared intel events (analyst)", "analyst", "/sharing/events".into()),
        one("shared intel events (constituent)", "constituent", "/sharing/events".into()),
        one("indicators (analyst)", "analyst", "/sharing/indicators".into()),
        one("sharing groups (analyst)", "analyst", "/sharing/groups".into()),
        one("TAXII collections (admin)", "admin", "/sharing/taxii".into()),
        one("users (admin)", "admin", "/admin/users".into()),
        one("tokens (admin)", "admin", "/admin/tokens".into()),
        one("audit log (admin)", "admin", "/admin/audit".into()),
        one("audit log verification (admin)", "admin", "/admin/audit/verify".into()),
    ];
    let mut add = |id: Option<Uuid>, name: &str, user: &'static str, path: &str| {
        if let Some(id) = id {
            scenarios.push(one(name, user, format!("{path}{id}")));
        }
    };
    add(ids.event, "one event (analyst)", "analyst", "/events/");
    add(ids.incident, "one incident (analyst)", "analyst", "/incidents/");
    add(ids.own_report, "portal, own report (constituent)", "constituent", "/portal/reports/");
    add(ids.telecom, "an organisation, a telecom (analyst)", "analyst", "/constituency/organisations/");
    add(ids.report, "a feed report (analyst)", "analyst", "/feeds/reports/");
    add(ids.intel_event, "one intel event (analyst)", "analyst", "/sharing/events/");
    scenarios
}

/// One record of each kind for the web pages to open.
async fn web_ids(store: &dyn Store, org_ids: &[Uuid]) -> Result<WebIds> {
    use neretva_store::incidents::IncidentQuery;
    let constituent_org = org_ids[4 + CONSTITUENT_ORG];
    let newest_event =
        store.query_events(&neretva_store::feeds::EventQuery { limit: 1, ..Default::default() }).await?;
    let reports = store.list_reports(&ReportQuery { feed: None, before: None, limit: 1 }).await?;
    let newest_incident =
        store.list_incidents(&IncidentQuery { limit: 1, ..IncidentQuery::default() }).await?;
    let own = store
        .list_incidents(&IncidentQuery {
            org_id: Some(constituent_org),
            limit: 1,
            ..IncidentQuery::default()
        })
        .await?;
    let intel = store
        .list_intel_events(&neretva_store::intel::IntelEventQuery { limit: 1, ..Default::default() })
        .await?;
    Ok(WebIds {
        event: newest_event.first().map(|stored| stored.event.id),
        report: reports.first().map(|report| report.id),
        incident: newest_incident.first().map(|stored| stored.incident.id),
        own_report: own.first().map(|stored| stored.incident.id),
        intel_event: intel.first().map(|stored| stored.event.uuid),
        telecom: Some(org_ids[4]),
    })
}

#[tokio::main]
async fn main() -> Result<()> {
    let options = options();
    let store: Arc<dyn Store> = match &options.database_url {
        Some(url) => Arc::new(neretva_store_postgres::PostgresStore::connect(url).await?),
        None => {
            if let Some(dir) = options.sqlite.parent() {
                std::fs::create_dir_all(dir)?;
            }
            Arc::new(neretva_store_sqlite::SqliteStore::open(&options.sqlite)?)
        }
    };
    store.migrate().await?;
    let plan = Arc::new(Constituency::plan());
    let org_ids = constituency_ids(store.as_ref(), &plan).await?;
    let held = load(Arc::clone(&store), Arc::clone(&plan), &org_ids, options.events).await?;
    if options.database_url.is_none() {
        let size = |suffix: &str| {
            let mut path = options.sqlite.clone().into_os_string();
            path.push(suffix);
            std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
        };
        let (db, wal) = (size(""), size("-wal"));
        eprintln!(
            "database {}: {:.2} GiB and a WAL of {:.2} GiB ({:.0} bytes per event together)",
            options.sqlite.display(),
            db as f64 / (1u64 << 30) as f64,
            wal as f64 / (1u64 << 30) as f64,
            (db + wal) as f64 / held.max(1) as f64,
        );
    }
    if options.incidents > 0 {
        let held = incident_data::count_incidents(store.as_ref()).await?;
        if held < options.incidents {
            eprintln!("loading incidents {held} to {}", options.incidents);
            incident_data::load(store.as_ref(), &org_ids[4..], held, options.incidents, 10).await?;
        }
    }
    if options.intel > 0 {
        let held = intel_data::count_intel(store.as_ref()).await?;
        if held < options.intel {
            eprintln!("loading intel events {held} to {}", options.intel);
            let org_ref = |index: usize| neretva_intel::model::OrgRef {
                uuid: org_ids[index],
                name: plan.orgs[index].name.clone(),
            };
            let members: Vec<_> = (4..org_ids.len()).map(org_ref).collect();
            intel_data::load(store.as_ref(), &org_ref(0), &members, held, options.intel).await?;
        }
    }
    if options.load_only {
        return Ok(());
    }

    let params = PasswordParams::insecure_fast();
    let config =
        ServerConfig { password_params: params, operator_org: OPERATOR.into(), ..ServerConfig::default() };
    let mut tokens: HashMap<&str, Credential> = HashMap::new();
    let bearer = |token: String| (header::AUTHORIZATION, format!("Bearer {token}"));
    tokens.insert(
        "analyst",
        bearer(user_token(store.as_ref(), params, "bench-analyst", Role::Analyst, org_ids[0]).await?),
    );
    let constituent_org = org_ids[4 + CONSTITUENT_ORG];
    tokens.insert(
        "constituent",
        bearer(
            user_token(store.as_ref(), params, "bench-constituent", Role::Constituent, constituent_org)
                .await?,
        ),
    );
    if options.web {
        user_token(store.as_ref(), params, "bench-admin", Role::Admin, org_ids[0]).await?;
        for (user, username) in
            [("analyst", "bench-analyst"), ("constituent", "bench-constituent"), ("admin", "bench-admin")]
        {
            tokens.insert(user, (header::COOKIE, user_session(store.as_ref(), params, username).await?));
        }
    }
    let state = AppState::new(Arc::clone(&store), config, None).await?;
    let router = app(state);

    let mut out = String::new();
    let others = if options.web {
        format!(
            ", {} incidents, {} intel events",
            thousands(incident_data::count_incidents(store.as_ref()).await? as u64),
            thousands(intel_data::count_intel(store.as_ref()).await? as u64)
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "\n{} events{others} ({}), up to {} requests per scenario after up to {} warm-up requests, one at a time{}\n",
        thousands(held),
        store.backend(),
        options.requests,
        options.warmup,
        if options.max_seconds > 0.0 {
            format!(", at most {} s per scenario once it has {MIN_SAMPLES} samples", options.max_seconds)
        } else {
            String::new()
        }
    );
    let returned_column = if options.web { "table rows" } else { "events returned" };
    let _ = writeln!(out, "| scenario | p50 ms | p95 ms | max ms | {returned_column} | requests | request |");
    let _ = writeln!(out, "| --- | ---: | ---: | ---: | ---: | ---: | --- |");
    let chosen =
        |scenario: &Scenario| options.only.as_ref().is_none_or(|only| scenario.name.contains(only.as_str()));
    let all = if options.web {
        web_scenarios(&plan, &web_ids(store.as_ref(), &org_ids).await?)
    } else {
        scenarios(&plan)
    };
    for scenario in all.into_iter().filter(chosen) {
        let token = &tokens[scenario.user];
        let budget = (options.max_seconds > 0.0).then(|| Duration::from_secs_f64(options.max_seconds));
        let started = Instant::now();
        for done in 0..options.warmup {
            if budget.is_some_and(|b| done > 0 && started.elapsed() > b / 10) {
                break;
            }
            run(&router, token, &scenario.walk).await?;
        }
        let measuring = Instant::now();
        let mut samples = Vec::with_capacity(options.requests);
        let mut returned = (0, 0);
        for _ in 0..options.requests {
            if budget.is_some_and(|b| samples.len() >= MIN_SAMPLES && measuring.elapsed() > b) {
                break;
            }
            let t = Instant::now();
            returned = run(&router, token, &scenario.walk).await?;
            samples.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        samples.sort_by(f64::total_cmp);
        let uri = match &scenario.walk {
            Walk::One(uri) | Walk::Pages(uri, _) => uri.clone(),
        };
        let row = format!(
            "| {} | {:.1} | {:.1} | {:.1} | {} | {} | `{}` |",
            scenario.name,
            percentile(&samples, 50.0),
            percentile(&samples, 95.0),
            samples.last().copied().unwrap_or(f64::NAN),
            returned.0,
            samples.len(),
            uri
        );
        eprintln!(
            "{row}  ({:.1} s, {} KiB per response)",
            started.elapsed().as_secs_f64(),
            returned.1 / 1024
        );
        let _ = writeln!(out, "{row}");
    }
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(())
}
