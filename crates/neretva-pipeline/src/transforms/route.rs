//! `route`: which organisations of the constituency an event concerns, by the registry's
//! longest-prefix, domain-suffix and ASN lookups on its source and destination.

use neretva_event::Event;
use neretva_model::Uuid;
use neretva_model::lookup::{ConstituencyIndex, LookupQuery};

/// The organisations an event concerns. For the source and the destination alike: the
/// owners of the most specific network holding the IP address and of the longest registered
/// domain of its names and URL; the owner of its AS only when neither its address nor its names
/// belong to anyone (an AS is the weakest evidence). Without repeats, source before destination.
pub fn route(index: &ConstituencyIndex, event: &Event) -> Vec<Uuid> {
    let mut orgs: Vec<Uuid> = Vec::new();
    if index.is_empty() {
        return orgs;
    }
    for side in SIDES {
        let mut found = false;
        if let Some(ip) = event.get(side.ip).and_then(|v| v.as_ip()) {
            found |= index.add_owners(&LookupQuery::Ip(ip), &mut orgs);
        }
        if index.has_domains() {
            for name_field in side.names {
                if let Some(Ok(domain)) = event.get_str(name_field).map(str::parse) {
                    found |= index.add_owners(&LookupQuery::Domain(domain), &mut orgs);
                }
            }
        }
        if let Some(host) = event.get_str(side.url).and_then(url_host)
            && let Ok(query) = host.parse::<LookupQuery>()
        {
            found |= index.add_owners(&query, &mut orgs);
        }
        if !found
            && let Some(asn) = event.get(side.asn).and_then(|v| v.as_int())
            && let Ok(asn) = neretva_net::Asn::new(asn as u32)
        {
            index.add_owners(&LookupQuery::Asn(asn), &mut orgs);
        }
    }
    orgs
}

/// The fields of one side of an event that routing reads.
struct Side {
    ip: &'static str,
    names: [&'static str; 2],
    url: &'static str,
    asn: &'static str,
}

const SIDES: [Side; 2] = [
    Side {
        ip: "source.ip",
        names: ["source.fqdn", "source.reverse_dns"],
        url: "source.url",
        asn: "source.asn",
    },
    Side {
        ip: "destination.ip",
        names: ["destination.fqdn", "destination.reverse_dns"],
        url: "destination.url",
        asn: "destination.asn",
    },
];

fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    if let Some(bracketed) = host.strip_prefix('[') {
        return bracketed.split_once(']').map(|(host, _)| host);
    }
    Some(
        host.rsplit_once(':')
            .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
            .map_or(host, |(h, _)| h),
    )
}

#[cfg(test)]
mod tests {
    use neretva_model::asset::{Asset, AssetValue};
    use time::OffsetDateTime;

    use super::*;

    fn asset(org: u128, value: &str) -> Asset {
        Asset {
            id: Uuid::from_u128(org * 100),
            org_id: Uuid::from_u128(org),
            value: AssetValue::guess(value).unwrap(),
            description: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn events_route_by_ip_domain_url_and_asn() {
        let index = ConstituencyIndex::build(&[
            asset(1, "192.0.2.0/25"),
            asset(2, "192.0.2.16/28"),
            asset(3, "example.ba"),
            asset(4, "AS64500"),
        ]);
        let mut event = Event::new();
        event.set("source.ip", "192.0.2.17").unwrap();
        assert_eq!(route(&index, &event), [Uuid::from_u128(2)], "the most specific owner");
        event.set("destination.url", "http://www.example.ba:8080/x").unwrap();
        event.set("source.asn", "64500").unwrap();
        assert_eq!(
            route(&index, &event),
            [Uuid::from_u128(2), Uuid::from_u128(3)],
            "the AS is weaker than the address"
        );
        event.set("source.ip", "198.51.100.1").unwrap();
        assert_eq!(
            route(&index, &event),
            [Uuid::from_u128(4), Uuid::from_u128(3)],
            "an unowned address falls back to its AS"
        );
        assert!(route(&index, &Event::new()).is_empty());
    }
}
