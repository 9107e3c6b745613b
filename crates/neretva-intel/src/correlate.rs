//! The correlation engine: which stored values a new event's values meet, bounded.
//!
//! A [`CorrelationIndex`] holds the values of intel attributes, incident observables and stored
//! feed events, each with its [`Source`]. [`CorrelationIndex::correlate`] compares new values with
//! it:
//!
//! - exact values (hashes, URLs, e-mail addresses, file names, ...);
//! - addresses and networks both ways: an address inside a stored network, a stored address
//!   inside a new network, networks containing one another;
//! - host names: equal names (a domain and a URL's host), and a name below a stored name or a
//!   stored name below a new one (`www.evil.example` and `evil.example`).
//!
//! Warning-listed values ([`WarningLists`]) never correlate. A value already seen
//! [`CorrelationIndex::limit`] times or more is **over-correlating**: it is reported as such and
//! creates no links, and the index stores no more than `limit` sources per value, so both the
//! links and the memory are bounded (at most `limit` links per new value and part).
//!
//! Lookups are hash-map and ordered-map operations: an address is looked up once per network
//! length present in the index (at most 33 or 129), a name once per label.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::ops::Bound;

use neretva_net::Cidr;
use uuid::Uuid;

use crate::model::IntelEvent;
use crate::value::{self, Part};
use crate::warninglist::WarningLists;

/// What kind of thing a stored value belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SourceKind {
    IntelAttribute,
    IncidentObservable,
    FeedEvent,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::IntelAttribute => "intel_attribute",
            SourceKind::IncidentObservable => "incident_observable",
            SourceKind::FeedEvent => "feed_event",
        }
    }

    pub fn parse(text: &str) -> Option<SourceKind> {
        [SourceKind::IntelAttribute, SourceKind::IncidentObservable, SourceKind::FeedEvent]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// Where a stored value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Source {
    pub kind: SourceKind,
    /// The intel event, incident or feed event the value belongs to.
    pub parent: Uuid,
    /// The attribute or observable; the event itself for feed events.
    pub id: Uuid,
}

/// How two values met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Relation {
    /// Equal values.
    Exact,
    /// An address in a network, or networks containing one another.
    Network,
    /// Equal host names, or one below the other.
    Host,
}

impl Relation {
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Exact => "exact",
            Relation::Network => "network",
            Relation::Host => "host",
        }
    }
}

/// A value to correlate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item<'a> {
    pub source: Source,
    /// Its MISP type.
    pub attr_type: &'a str,
    /// Its canonical value.
    pub value: &'a str,
}

/// A new value met a stored one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Link {
    /// The new value's source.
    pub from: Source,
    pub to: Source,
    pub relation: Relation,
}

/// A new value that meets too many stored ones to link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverCorrelating {
    pub source: Source,
    /// The part of the value that is too common (an address, a name, the value).
    pub key: String,
    /// How many stored values it meets, counted up to the limit and one more.
    pub count: usize,
}

/// A new value on a warning list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warninglisted {
    pub source: Source,
    pub value: String,
    pub lists: Vec<String>,
}

/// What correlating gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Correlation {
    pub links: Vec<Link>,
    pub over_correlating: Vec<OverCorrelating>,
    pub warninglisted: Vec<Warninglisted>,
}

/// An address as an ordered key: the family first, then the address as a number.
type IpKey = (bool, u128);

fn ip_key(address: IpAddr) -> IpKey {
    match address {
        IpAddr::V4(v4) => (false, u128::from(u32::from(v4))),
        IpAddr::V6(v6) => (true, u128::from(v6)),
    }
}

fn network_key(network: &Cidr) -> (IpKey, IpKey) {
    (ip_key(network.network()), ip_key(network.last()))
}

/// The stored sources of one key, at most `limit`, and how many there were.
#[derive(Debug, Clone, Default)]
struct Posting {
    sources: Vec<Source>,
    count: usize,
}

impl Posting {
    fn add(&mut self, source: Source, limit: usize) {
        self.count += 1;
        if self.sources.len() < limit {
            self.sources.push(source);
        }
    }
}

/// The stored values.
#[derive(Debug, Clone)]
pub struct CorrelationIndex {
    limit: usize,
    exact: HashMap<Box<str>, Posting>,
    /// Single addresses, ordered for range scans.
    addresses: BTreeMap<IpKey, Posting>,
    /// Networks by (network address, prefix length).
    networks: BTreeMap<(IpKey, u8), Posting>,
    /// How many networks of each prefix length there are, IPv4 and IPv6.
    lengths_v4: [usize; 33],
    lengths_v6: [usize; 129],
    /// Host names with their labels reversed (`example.evil.www`), ordered for range scans.
    hosts: BTreeMap<Box<str>, Posting>,
    values: usize,
}

/// The default over-correlation limit (as MISP's `correlation_limit`).
pub const DEFAULT_LIMIT: usize = 100;

impl Default for CorrelationIndex {
    fn default() -> CorrelationIndex {
        CorrelationIndex::new(DEFAULT_LIMIT)
    }
}

fn reversed(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (n, label) in name.rsplit('.').enumerate() {
        if n > 0 {
            out.push('.');
        }
        out.push_str(label);
    }
    out
}

impl CorrelationIndex {
    /// An empty index; a value seen `limit` times or more is over-correlating (`limit` ≥ 1).
    pub fn new(limit: usize) -> CorrelationIndex {
        CorrelationIndex {
            limit: limit.max(1),
            exact: HashMap::new(),
            addresses: BTreeMap::new(),
            networks: BTreeMap::new(),
            lengths_v4: [0; 33],
            lengths_v6: [0; 129],
            hosts: BTreeMap::new(),
            values: 0,
        }
    }

    /// The over-correlation limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// How many values were inserted.
    pub fn len(&self) -> usize {
        self.values
    }

    pub fn is_empty(&self) -> bool {
        self.values == 0
    }

    /// Stores a value. Warning-listed values are worth storing too: a list may change.
    pub fn insert(&mut self, item: Item<'_>) {
        let limit = self.limit;
        for part in value::parts(item.attr_type, item.value) {
            match part {
                Part::Exact(text) => match self.exact.get_mut(text) {
                    Some(posting) => posting.add(item.source, limit),
                    None => {
                        let mut posting = Posting::default();
                        posting.add(item.source, limit);
                        self.exact.insert(text.into(), posting);
                    }
                },
                Part::Network(network) if network.prefix_len() == network.max_prefix_len() => {
                    self.addresses.entry(ip_key(network.network())).or_default().add(item.source, limit);
                }
                Part::Network(network) => {
                    let key = (ip_key(network.network()), network.prefix_len());
                    let posting = self.networks.entry(key).or_default();
                    if posting.count == 0 {
                        let lengths: &mut [usize] =
                            if network.is_ipv4() { &mut self.lengths_v4 } else { &mut self.lengths_v6 };
                        lengths[usize::from(network.prefix_len())] += 1;
                    }
                    posting.add(item.source, limit);
                }
                Part::Host(name) => {
                    self.hosts.entry(reversed(name).into()).or_default().add(item.source, limit);
                }
            }
        }
        self.values += 1;
    }

    /// Stores every attribute of an event.
    pub fn insert_event(&mut self, event: &IntelEvent) {
        for (_, attribute) in event.all_attributes().filter(|(_, attribute)| !attribute.deleted) {
            self.insert(Item {
                source: Source { kind: SourceKind::IntelAttribute, parent: event.uuid, id: attribute.uuid },
                attr_type: &attribute.attr_type,
                value: &attribute.value,
            });
        }
    }

    /// Correlates new values with the index (which it does not change).
    pub fn correlate(&self, items: &[Item<'_>], warninglists: &WarningLists) -> Correlation {
        let mut out = Correlation::default();
        let mut matched: Vec<(Relation, &Posting)> = Vec::new();
        for item in items {
            let parts = value::parts(item.attr_type, item.value);
            if parts.is_empty() {
                continue;
            }
            let lists = warninglists.check(item.attr_type, item.value);
            if !lists.is_empty() {
                out.warninglisted.push(Warninglisted {
                    source: item.source,
                    value: item.value.to_owned(),
                    lists: lists.into_iter().map(str::to_owned).collect(),
                });
                continue;
            }
            let mut item_links: Vec<Link> = Vec::new();
            for part in &parts {
                matched.clear();
                self.lookup(part, &mut matched);
                let count: usize = matched.iter().map(|(_, posting)| posting.count).sum();
                if count >= self.limit {
                    out.over_correlating.push(OverCorrelating {
                        source: item.source,
                        key: part_text(part),
                        count: count.min(self.limit + 1),
                    });
                    continue;
                }
                for (relation, posting) in &matched {
                    for source in &posting.sources {
                        if source.parent != item.source.parent {
                            item_links.push(Link { from: item.source, to: *source, relation: *relation });
                        }
                    }
                }
            }
            item_links.sort_unstable_by_key(|link| (link.to, link.relation));
            item_links.dedup_by_key(|link| link.to);
            out.links.extend(item_links);
        }
        out
    }

    /// Correlates an event's attributes (deleted ones left out).
    pub fn correlate_event(&self, event: &IntelEvent, warninglists: &WarningLists) -> Correlation {
        let items: Vec<Item<'_>> = event
            .all_attributes()
            .filter(|(_, attribute)| !attribute.deleted)
            .map(|(_, attribute)| Item {
                source: Source { kind: SourceKind::IntelAttribute, parent: event.uuid, id: attribute.uuid },
                attr_type: &attribute.attr_type,
                value: &attribute.value,
            })
            .collect();
        self.correlate(&items, warninglists)
    }

    /// The postings a part meets, stopping once they hold more than the limit.
    fn lookup<'a>(&'a self, part: &Part<'_>, out: &mut Vec<(Relation, &'a Posting)>) {
        let limit = self.limit;
        let full = |out: &Vec<(Relation, &Posting)>| out.iter().map(|(_, p)| p.count).sum::<usize>() >= limit;
        match part {
            Part::Exact(text) => {
                if let Some(posting) = self.exact.get(*text) {
                    out.push((Relation::Exact, posting));
                }
            }
            Part::Network(network) => {
                let (low, high) = network_key(network);
                let host = network.prefix_len() == network.max_prefix_len();
                // Stored addresses inside (or equal to) the new address or network.
                for (_, posting) in self.addresses.range(low..=high) {
                    out.push((if host { Relation::Exact } else { Relation::Network }, posting));
                    if full(out) {
                        return;
                    }
                }
                // Stored networks containing the new one (or equal to it).
                let lengths: &[usize] = if network.is_ipv4() { &self.lengths_v4 } else { &self.lengths_v6 };
                for (length, present) in
                    lengths.iter().enumerate().take(usize::from(network.prefix_len()) + 1)
                {
                    if *present == 0 {
                        continue;
                    }
                    let Ok(length) = u8::try_from(length) else { continue };
                    let Ok(covering) = Cidr::truncating(network.network(), length) else { continue };
                    if let Some(posting) = self.networks.get(&(ip_key(covering.network()), length)) {
                        out.push((Relation::Network, posting));
                        if full(out) {
                            return;
                        }
                    }
                }
                // Stored networks inside the new network.
                if !host {
                    let range =
                        (Bound::Included((low, network.prefix_len() + 1)), Bound::Included((high, u8::MAX)));
                    for ((start, length), posting) in self.networks.range(range) {
                        if *start <= high && *length > network.prefix_len() {
                            out.push((Relation::Network, posting));
                            if full(out) {
                                return;
                            }
                        }
                    }
                }
            }
            Part::Host(name) => {
                let key = reversed(name);
                // The name itself and the names below it.
                let below = format!("{key}.");
                if let Some(posting) = self.hosts.get(key.as_str()) {
                    out.push((Relation::Host, posting));
                }
                for (stored, posting) in
                    self.hosts.range::<str, _>((Bound::Included(below.as_str()), Bound::Unbounded))
                {
                    if !stored.starts_with(below.as_str()) || full(out) {
                        break;
                    }
                    out.push((Relation::Host, posting));
                }
                // The names above it, down to two labels (a top-level domain says nothing).
                let mut end = key.len();
                while let Some(dot) = key[..end].rfind('.') {
                    let parent = &key[..dot];
                    if !parent.contains('.') || full(out) {
                        break;
                    }
                    if let Some(posting) = self.hosts.get(parent) {
                        out.push((Relation::Host, posting));
                    }
                    end = dot;
                }
            }
        }
    }
}

fn part_text(part: &Part<'_>) -> String {
    match part {
        Part::Network(network) if network.prefix_len() == network.max_prefix_len() => {
            network.network().to_string()
        }
        Part::Network(network) => network.to_string(),
        Part::Host(name) => (*name).to_owned(),
        Part::Exact(text) => (*text).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(parent: u128, id: u128) -> Source {
        Source { kind: SourceKind::IntelAttribute, parent: Uuid::from_u128(parent), id: Uuid::from_u128(id) }
    }

    fn item<'a>(parent: u128, id: u128, attr_type: &'a str, value: &'a str) -> Item<'a> {
        Item { source: source(parent, id), attr_type, value }
    }

    fn links(correlation: &Correlation) -> Vec<(u128, u128, &'static str)> {
        correlation
            .links
            .iter()
            .map(|link| (link.from.id.as_u128(), link.to.id.as_u128(), link.relation.as_str()))
            .collect()
    }

    #[test]
    fn values_meet_across_types() {
        let mut index = CorrelationIndex::new(10);
        index.insert(item(1, 11, "ip-dst", "185.100.87.0/24"));
        index.insert(item(1, 12, "url", "http://evil.example.info/payload.exe"));
        index.insert(item(
            1,
            13,
            "sha256",
            "aa00000000000000000000000000000000000000000000000000000000000000",
        ));
        index.insert(item(1, 14, "ip-src", "45.9.148.10"));
        index.insert(item(1, 15, "hostname", "cdn.badsite.info"));
        index.insert(item(1, 16, "domain|ip", "c2.example.info|91.92.109.7"));
        let warn = WarningLists::default();
        let new = [
            item(2, 21, "ip-dst", "185.100.87.201"),
            item(2, 22, "domain", "evil.example.info"),
            item(
                2,
                23,
                "filename|sha256",
                "a.exe|aa00000000000000000000000000000000000000000000000000000000000000",
            ),
            item(2, 24, "ip-src", "45.9.148.0/24"),
            item(2, 25, "domain", "badsite.info"),
            item(2, 26, "ip-dst|port", "91.92.109.7|443"),
            item(2, 27, "ip-dst", "10.0.0.1"),
            item(2, 28, "text", "185.100.87.201"),
            item(1, 29, "ip-dst", "185.100.87.202"),
        ];
        let correlation = index.correlate(&new, &warn);
        assert_eq!(
            links(&correlation),
            [
                (21, 11, "network"),
                (22, 12, "host"),
                (23, 13, "exact"),
                (24, 14, "network"),
                (25, 15, "host"),
                (26, 16, "exact"),
            ]
        );
        assert_eq!(correlation.warninglisted.len(), 1);
        assert_eq!(correlation.warninglisted[0].lists, ["rfc1918"]);
        assert!(correlation.over_correlating.is_empty());
    }

    #[test]
    fn a_common_value_over_correlates_instead_of_linking() {
        let mut index = CorrelationIndex::new(3);
        for n in 0..10 {
            index.insert(item(100 + n, 1000 + n, "domain", "common.example.info"));
        }
        index.insert(item(50, 500, "domain", "rare.example.info"));
        index.insert(item(51, 501, "domain", "rare.example.info"));
        let correlation = index.correlate(
            &[item(9, 90, "hostname", "common.example.info"), item(9, 91, "domain", "rare.example.info")],
            &WarningLists::empty(),
        );
        assert_eq!(links(&correlation), [(91, 500, "host"), (91, 501, "host")]);
        assert_eq!(correlation.over_correlating.len(), 1);
        assert_eq!(correlation.over_correlating[0].key, "common.example.info");
        assert_eq!(correlation.over_correlating[0].count, 4);
        // The index keeps no more than the limit per value.
        assert!(index.hosts.values().all(|posting| posting.sources.len() <= 3));
        // A network covering many stored addresses over-correlates too.
        let mut index = CorrelationIndex::new(5);
        for n in 0..50u32 {
            let address = std::net::Ipv4Addr::from(0x0a00_0000 + 0x0101_0000 + n).to_string();
            index.insert(Item {
                source: source(200 + u128::from(n), 2000 + u128::from(n)),
                attr_type: "ip-dst",
                value: &address,
            });
        }
        let correlation = index.correlate(&[item(9, 92, "ip-dst", "11.1.0.0/16")], &WarningLists::empty());
        assert!(correlation.links.is_empty());
        assert_eq!(correlation.over_correlating.len(), 1);
    }
}
