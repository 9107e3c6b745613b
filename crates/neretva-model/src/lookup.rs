//! Who owns an address, a network, a domain or an AS: the constituency index.
//!
//! IP addresses and networks resolve by longest-prefix match, domains by longest registered
//! suffix, ASNs exactly. Every covering asset is returned, most specific first, so a range held
//! by an ISP and a customer network inside it are both visible; owners are the organisations
//! holding the most specific match, and an *overlap* is any answer that involves more than one
//! organisation.

use std::net::IpAddr;
use std::str::FromStr;

use neretva_net::{Asn, AsnTable, Cidr, DomainName, DomainSuffixTable, PrefixTable, PrefixTableBuilder};
use uuid::Uuid;

use crate::FieldError;
use crate::asset::{Asset, AssetValue};

/// What is being looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupQuery {
    Ip(IpAddr),
    Cidr(Cidr),
    Domain(DomainName),
    Asn(Asn),
}

impl FromStr for LookupQuery {
    type Err = FieldError;

    /// An IP address, a CIDR network, `AS64500` (or a bare number), or a domain name; a URL or an
    /// e-mail address is reduced to its host.
    fn from_str(input: &str) -> Result<LookupQuery, FieldError> {
        let text = input.trim();
        if let Ok(ip) = text.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            return Ok(LookupQuery::Ip(ip));
        }
        if text.contains('/') && !text.contains("://") {
            return text
                .parse::<Cidr>()
                .map(LookupQuery::Cidr)
                .map_err(|error| FieldError::new("q", error.to_string()));
        }
        let lower = text.to_ascii_lowercase();
        if (lower.starts_with("as") && lower.len() > 2 || text.chars().all(|c| c.is_ascii_digit()))
            && let Ok(asn) = text.parse::<Asn>()
        {
            return Ok(LookupQuery::Asn(asn));
        }
        let host = host_of(text);
        if let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            return Ok(LookupQuery::Ip(ip));
        }
        host.parse::<DomainName>().map(LookupQuery::Domain).map_err(|error| {
            FieldError::new("q", format!("{input:?} is not an IP address, network, ASN or domain ({error})"))
        })
    }
}

/// The host part of a URL or e-mail address, or the input itself.
fn host_of(text: &str) -> &str {
    let without_scheme = text.split_once("://").map_or(text, |(_, rest)| rest);
    let authority = without_scheme.split(['/', '?', '#']).next().unwrap_or(without_scheme);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    if host_port.starts_with('[') {
        return host_port.split_once(']').map_or(host_port, |(host, _)| &host[1..]);
    }
    match host_port.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => host_port,
    }
}

/// One asset that matches a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupMatch {
    pub org_id: Uuid,
    pub asset_id: Uuid,
    pub value: AssetValue,
    /// How the asset relates to the query.
    pub relation: Relation,
}

/// How a matching asset relates to the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// The asset is the query, or contains it (a covering network, a parent domain).
    Covers,
    /// The asset lies inside the queried network.
    Inside,
}

/// The answer to a lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupResult {
    /// Organisations holding the most specific covering asset.
    pub owners: Vec<Uuid>,
    /// Every matching asset, covering ones first (most specific first), then inside ones.
    pub matches: Vec<LookupMatch>,
    /// More than one organisation is involved.
    pub overlap: bool,
}

/// Two assets of different organisations that overlap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlap {
    /// The wider (or equal) asset.
    pub outer: (Uuid, Uuid, AssetValue),
    /// The asset inside it.
    pub inner: (Uuid, Uuid, AssetValue),
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    org_id: Uuid,
    asset_id: Uuid,
}

/// The index of all assets, built once and queried many times.
#[derive(Debug)]
pub struct ConstituencyIndex {
    prefixes: PrefixTable<Slot>,
    domains: DomainSuffixTable<Slot>,
    asns: AsnTable<Slot>,
    cidr_assets: Vec<(Cidr, Slot)>,
    domain_assets: Vec<(DomainName, Slot)>,
}

impl Default for ConstituencyIndex {
    fn default() -> ConstituencyIndex {
        ConstituencyIndex::build(&[])
    }
}

impl ConstituencyIndex {
    pub fn build(assets: &[Asset]) -> ConstituencyIndex {
        let mut prefixes = PrefixTableBuilder::default();
        let mut domains = DomainSuffixTable::default();
        let mut asns = AsnTable::default();
        let mut cidr_assets = Vec::new();
        let mut domain_assets = Vec::new();
        for asset in assets {
            let slot = Slot { org_id: asset.org_id, asset_id: asset.id };
            match &asset.value {
                AssetValue::Cidr(cidr) => {
                    prefixes.insert(*cidr, slot);
                    cidr_assets.push((*cidr, slot));
                }
                AssetValue::Domain(domain) => {
                    domains.insert(domain.clone(), slot);
                    domain_assets.push((domain.clone(), slot));
                }
                AssetValue::Asn(asn) => asns.insert(*asn, slot),
            }
        }
        ConstituencyIndex { prefixes: prefixes.build(), domains, asns, cidr_assets, domain_assets }
    }

    /// Whether the index holds no asset at all.
    pub fn is_empty(&self) -> bool {
        self.prefixes.is_empty() && self.domains.is_empty() && self.asns.is_empty()
    }

    /// Whether the index holds domain assets (when not, names need not be parsed to route).
    pub fn has_domains(&self) -> bool {
        !self.domains.is_empty()
    }

    /// Appends to `out`, without repeats, the owners of the most specific asset covering the
    /// query (the `owners` of [`ConstituencyIndex::lookup`]); returns whether there are any.
    /// The hot path of routing events: no match list is built.
    pub fn add_owners(&self, query: &LookupQuery, out: &mut Vec<Uuid>) -> bool {
        fn most_specific<'a, K: PartialEq + 'a>(
            covering: impl Iterator<Item = (K, &'a Slot)>,
            out: &mut Vec<Uuid>,
        ) -> bool {
            let mut first: Option<K> = None;
            for (key, slot) in covering {
                match &first {
                    None => first = Some(key),
                    Some(first) if *first != key => break,
                    Some(_) => {}
                }
                if !out.contains(&slot.org_id) {
                    out.push(slot.org_id);
                }
            }
            first.is_some()
        }
        match query {
            LookupQuery::Ip(ip) => most_specific(self.prefixes.all_matches(*ip), out),
            LookupQuery::Cidr(network) => most_specific(self.prefixes.covering(network), out),
            LookupQuery::Domain(domain) => most_specific(self.domains.all_matches(domain), out),
            LookupQuery::Asn(asn) => most_specific(self.asns.get(*asn).iter().map(|slot| ((), slot)), out),
        }
    }

    /// Answers a lookup.
    pub fn lookup(&self, query: &LookupQuery) -> LookupResult {
        let mut matches = Vec::new();
        let mut push = |value: AssetValue, slot: &Slot, relation: Relation| {
            matches.push(LookupMatch { org_id: slot.org_id, asset_id: slot.asset_id, value, relation });
        };
        match query {
            LookupQuery::Ip(ip) => {
                for (cidr, slot) in self.prefixes.all_matches(*ip) {
                    push(AssetValue::Cidr(cidr), slot, Relation::Covers);
                }
            }
            LookupQuery::Cidr(network) => {
                for (cidr, slot) in self.prefixes.covering(network) {
                    push(AssetValue::Cidr(cidr), slot, Relation::Covers);
                }
                for (cidr, slot) in self.prefixes.covered_by(network) {
                    if cidr != *network {
                        push(AssetValue::Cidr(cidr), slot, Relation::Inside);
                    }
                }
            }
            LookupQuery::Domain(domain) => {
                for (suffix, slot) in self.domains.all_matches(domain) {
                    push(AssetValue::Domain(suffix.clone()), slot, Relation::Covers);
                }
            }
            LookupQuery::Asn(asn) => {
                for slot in self.asns.get(*asn) {
                    push(AssetValue::Asn(*asn), slot, Relation::Covers);
                }
            }
        }
        let most_specific = matches.iter().find(|m| m.relation == Relation::Covers).map(|m| m.value.clone());
        let mut owners: Vec<Uuid> = matches
            .iter()
            .filter(|m| m.relation == Relation::Covers && Some(&m.value) == most_specific.as_ref())
            .map(|m| m.org_id)
            .collect();
        owners.dedup();
        let mut orgs: Vec<Uuid> = matches.iter().map(|m| m.org_id).collect();
        orgs.sort_unstable();
        orgs.dedup();
        LookupResult { owners, overlap: orgs.len() > 1, matches }
    }

    /// Every pair of overlapping assets held by different organisations.
    pub fn overlaps(&self) -> Vec<Overlap> {
        let mut found = Vec::new();
        for (inner, slot) in &self.cidr_assets {
            for (outer, other) in self.prefixes.covering(inner) {
                let same_prefix = outer == *inner;
                if other.org_id != slot.org_id && (!same_prefix || other.asset_id < slot.asset_id) {
                    found.push(Overlap {
                        outer: (other.org_id, other.asset_id, AssetValue::Cidr(outer)),
                        inner: (slot.org_id, slot.asset_id, AssetValue::Cidr(*inner)),
                    });
                }
            }
        }
        for (inner, slot) in &self.domain_assets {
            for (outer, other) in self.domains.all_matches(inner) {
                let same = outer == inner;
                if other.org_id != slot.org_id && (!same || other.asset_id < slot.asset_id) {
                    found.push(Overlap {
                        outer: (other.org_id, other.asset_id, AssetValue::Domain(outer.clone())),
                        inner: (slot.org_id, slot.asset_id, AssetValue::Domain(inner.clone())),
                    });
                }
            }
        }
        let mut asns: Vec<Asn> = self.asns.iter().map(|(asn, _)| asn).collect();
        asns.sort_unstable();
        asns.dedup();
        for asn in asns {
            let slots = self.asns.get(asn);
            for (i, first) in slots.iter().enumerate() {
                for second in &slots[i + 1..] {
                    if first.org_id != second.org_id {
                        found.push(Overlap {
                            outer: (first.org_id, first.asset_id, AssetValue::Asn(asn)),
                            inner: (second.org_id, second.asset_id, AssetValue::Asn(asn)),
                        });
                    }
                }
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;

    fn asset(org: u128, n: u128, value: &str) -> Asset {
        Asset {
            id: Uuid::from_u128(n),
            org_id: Uuid::from_u128(org),
            value: AssetValue::guess(value).unwrap(),
            description: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn index() -> ConstituencyIndex {
        ConstituencyIndex::build(&[
            asset(1, 10, "192.0.2.0/25"),
            asset(2, 20, "192.0.2.16/28"),
            asset(3, 30, "2001:db8:1::/48"),
            asset(2, 21, "customer.example.ba"),
            asset(1, 11, "example.ba"),
            asset(1, 12, "AS64500"),
        ])
    }

    #[test]
    fn queries_parse_from_free_text() {
        let parse = |text: &str| text.parse::<LookupQuery>().unwrap();
        assert!(matches!(parse("192.0.2.1"), LookupQuery::Ip(_)));
        assert!(matches!(parse("[2001:db8::1]"), LookupQuery::Ip(_)));
        assert!(matches!(parse("192.0.2.0/24"), LookupQuery::Cidr(_)));
        assert!(matches!(parse("AS64500"), LookupQuery::Asn(_)));
        assert!(matches!(parse("64500"), LookupQuery::Asn(_)));
        assert_eq!(parse("https://user@WWW.Example.ba:8443/x?y"), parse("www.example.ba"));
        assert_eq!(parse("http://192.0.2.9:80/"), parse("192.0.2.9"));
        assert_eq!(parse("abuse@mail.example.ba"), parse("mail.example.ba"));
        assert_eq!("not a thing!".parse::<LookupQuery>().unwrap_err().field, "q");
    }

    #[test]
    fn most_specific_prefix_owns_and_overlap_is_reported() {
        let result = index().lookup(&"192.0.2.17".parse().unwrap());
        assert_eq!(result.owners, vec![Uuid::from_u128(2)]);
        assert_eq!(result.matches.len(), 2);
        assert!(result.overlap);
        let outside = index().lookup(&"192.0.2.1".parse().unwrap());
        assert_eq!(outside.owners, vec![Uuid::from_u128(1)]);
        assert!(!outside.overlap);
        let nothing = index().lookup(&"198.51.100.1".parse().unwrap());
        assert!(nothing.owners.is_empty() && nothing.matches.is_empty());
    }

    #[test]
    fn network_query_lists_covering_and_inside_assets() {
        let result = index().lookup(&"192.0.2.0/24".parse().unwrap());
        assert!(result.owners.is_empty(), "nothing covers the whole /24");
        assert_eq!(result.matches.len(), 2);
        assert!(result.matches.iter().all(|m| m.relation == Relation::Inside));
    }

    #[test]
    fn domains_match_by_suffix_and_asns_exactly() {
        let result = index().lookup(&"www.customer.example.ba".parse().unwrap());
        assert_eq!(result.owners, vec![Uuid::from_u128(2)]);
        assert_eq!(result.matches.len(), 2);
        let result = index().lookup(&"notexample.ba".parse().unwrap());
        assert!(result.matches.is_empty());
        let result = index().lookup(&"AS64500".parse().unwrap());
        assert_eq!(result.owners, vec![Uuid::from_u128(1)]);
    }

    #[test]
    fn add_owners_gives_the_owners_of_lookup() {
        let index = index();
        assert!(!index.is_empty() && index.has_domains());
        assert!(ConstituencyIndex::default().is_empty());
        for query in [
            "192.0.2.17",
            "192.0.2.1",
            "198.51.100.1",
            "192.0.2.0/24",
            "192.0.2.16/29",
            "2001:db8:1::5",
            "www.customer.example.ba",
            "example.ba",
            "notexample.ba",
            "AS64500",
            "AS64501",
        ] {
            let query: LookupQuery = query.parse().unwrap();
            let mut owners = vec![Uuid::from_u128(9)];
            let found = index.add_owners(&query, &mut owners);
            let expected = index.lookup(&query).owners;
            assert_eq!(found, !expected.is_empty(), "{query:?}");
            assert_eq!(owners[1..], expected[..], "{query:?}");
        }
    }

    #[test]
    fn overlaps_between_organisations_are_listed_once() {
        let overlaps = index().overlaps();
        assert_eq!(overlaps.len(), 2, "{overlaps:?}");
    }
}
