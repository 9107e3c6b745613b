//! Warning lists: values known to be benign (reserved and documentation address ranges, example
//! domains, public resolvers, the most visited domains) that must not correlate or alert.
//!
//! [`defaults`] are the shipped lists; a deployment adds its own [`WarningList`]s with entries
//! of four kinds: a network (an address inside it, or a network within it, matches), an exact
//! value (compared without regard to ASCII case), a host name (the name and every name below it)
//! and a substring. There are no regular expressions: every check is a table lookup, a walk up a
//! name's labels or a substring search of the (few) substring entries.
//!
//! [`WarningLists::check`] looks at the parts of a canonical value ([`crate::value::parts`]): an
//! address or network, a host name (a URL's host, a `domain|ip`'s name), and the value itself.

use std::collections::HashMap;

use neretva_net::{Cidr, PrefixTable, PrefixTableBuilder};

use crate::value::{self, Part};

/// One entry of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Network(Cidr),
    Exact(String),
    /// The name and every name below it.
    Hostname(String),
    Substring(String),
}

impl Entry {
    /// Reads an entry as a user writes it: `cidr:`, `exact:`, `host:` or `substring:` followed by
    /// the value; without a prefix, a network if it parses as one, else a host name if it is
    /// one, else an exact value.
    pub fn parse(text: &str) -> Result<Entry, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("is empty".into());
        }
        let host = |name: &str| value::canonicalise("hostname", name).map(Entry::Hostname);
        if let Some(rest) = text.strip_prefix("cidr:") {
            return rest.trim().parse::<Cidr>().map(Entry::Network).map_err(|error| error.to_string());
        }
        if let Some(rest) = text.strip_prefix("exact:") {
            return Ok(Entry::Exact(rest.trim().to_lowercase()));
        }
        if let Some(rest) = text.strip_prefix("host:") {
            return host(rest.trim());
        }
        if let Some(rest) = text.strip_prefix("substring:") {
            let rest = rest.trim();
            if rest.len() < 3 {
                return Err("a substring needs at least 3 characters".into());
            }
            return Ok(Entry::Substring(rest.to_lowercase()));
        }
        if let Ok(network) = text.parse::<Cidr>() {
            return Ok(Entry::Network(network));
        }
        host(text).or_else(|_| Ok(Entry::Exact(text.to_lowercase())))
    }
}

/// A named list of known-benign values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarningList {
    /// A short name, e.g. `rfc1918`.
    pub name: String,
    pub description: String,
    pub entries: Vec<Entry>,
}

fn list(name: &str, description: &str, networks: &[&str], hosts: &[&str], exact: &[&str]) -> WarningList {
    let mut entries: Vec<Entry> = Vec::new();
    entries.extend(networks.iter().filter_map(|text| text.parse().ok()).map(Entry::Network));
    entries.extend(hosts.iter().map(|name| Entry::Hostname((*name).to_owned())));
    entries.extend(exact.iter().map(|text| Entry::Exact((*text).to_owned())));
    WarningList { name: name.into(), description: description.into(), entries }
}

/// The shipped lists.
pub fn defaults() -> Vec<WarningList> {
    vec![
        list(
            "rfc1918",
            "Private IPv4 networks (RFC 1918)",
            &["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
            &[],
            &[],
        ),
        list("loopback", "Loopback addresses", &["127.0.0.0/8", "::1/128"], &["localhost"], &[]),
        list("multicast", "Multicast addresses", &["224.0.0.0/4", "ff00::/8"], &[], &[]),
        list(
            "documentation",
            "Documentation address ranges (RFC 5737, RFC 3849)",
            &["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"],
            &[],
            &[],
        ),
        list(
            "special-purpose",
            "Other special-purpose addresses (RFC 6890)",
            &[
                "0.0.0.0/8",
                "100.64.0.0/10",
                "169.254.0.0/16",
                "192.0.0.0/24",
                "192.88.99.0/24",
                "198.18.0.0/15",
                "240.0.0.0/4",
                "255.255.255.255/32",
                "::/128",
                "::ffff:0:0/96",
                "64:ff9b::/96",
                "100::/64",
                "2001::/23",
                "2002::/16",
                "fc00::/7",
                "fe80::/10",
            ],
            &[],
            &[],
        ),
        list(
            "reserved-domains",
            "Reserved example domains and top-level domains (RFC 2606, RFC 6761)",
            &[],
            &["example.com", "example.net", "example.org", "test", "example", "invalid", "localhost"],
            &[],
        ),
        list(
            "public-dns-resolvers",
            "Well-known public DNS resolvers",
            &[
                "8.8.8.8/32",
                "8.8.4.4/32",
                "1.1.1.1/32",
                "1.0.0.1/32",
                "9.9.9.9/32",
                "149.112.112.112/32",
                "208.67.222.222/32",
                "208.67.220.220/32",
                "2001:4860:4860::8888/128",
                "2001:4860:4860::8844/128",
                "2606:4700:4700::1111/128",
                "2606:4700:4700::1001/128",
                "2620:fe::fe/128",
                "2620:fe::9/128",
            ],
            &[],
            &[],
        ),
        list(
            "top-domains",
            "Some of the most visited domains (the names themselves, not names below them)",
            &[],
            &[],
            &[
                "google.com",
                "youtube.com",
                "facebook.com",
                "wikipedia.org",
                "microsoft.com",
                "windowsupdate.com",
                "apple.com",
                "amazon.com",
                "instagram.com",
                "linkedin.com",
                "twitter.com",
                "x.com",
                "office.com",
                "live.com",
                "bing.com",
                "yahoo.com",
                "github.com",
                "cloudflare.com",
                "gstatic.com",
                "akamaiedge.net",
            ],
        ),
    ]
}

/// Lists compiled for checking.
#[derive(Debug)]
pub struct WarningLists {
    names: Vec<String>,
    networks: PrefixTable<usize>,
    exact: HashMap<String, Vec<usize>>,
    hosts: HashMap<String, Vec<usize>>,
    substrings: Vec<(String, usize)>,
}

impl Default for WarningLists {
    /// The shipped lists.
    fn default() -> WarningLists {
        WarningLists::build(&defaults())
    }
}

impl WarningLists {
    /// Compiles `lists`.
    pub fn build(lists: &[WarningList]) -> WarningLists {
        let mut networks = PrefixTableBuilder::new();
        let mut exact: HashMap<String, Vec<usize>> = HashMap::new();
        let mut hosts: HashMap<String, Vec<usize>> = HashMap::new();
        let mut substrings = Vec::new();
        for (index, list) in lists.iter().enumerate() {
            for entry in &list.entries {
                match entry {
                    Entry::Network(network) => networks.insert(*network, index),
                    Entry::Exact(text) => exact.entry(text.to_lowercase()).or_default().push(index),
                    Entry::Hostname(name) => hosts.entry(name.to_lowercase()).or_default().push(index),
                    Entry::Substring(text) => substrings.push((text.to_lowercase(), index)),
                }
            }
        }
        WarningLists {
            names: lists.iter().map(|list| list.name.clone()).collect(),
            networks: networks.build(),
            exact,
            hosts,
            substrings,
        }
    }

    /// No lists at all.
    pub fn empty() -> WarningLists {
        WarningLists::build(&[])
    }

    /// The names of the lists a canonical value of `attr_type` is on, sorted, each once.
    pub fn check(&self, attr_type: &str, value: &str) -> Vec<&str> {
        let mut found: Vec<usize> = Vec::new();
        let parts = value::parts(attr_type, value);
        for part in &parts {
            self.check_part(part, &mut found);
        }
        if parts.is_empty() || !matches!(parts.first(), Some(Part::Exact(_))) {
            // Values that do not correlate, and names and addresses, are checked whole too.
            self.check_text(value, &mut found);
        }
        found.sort_unstable();
        found.dedup();
        found.into_iter().map(|index| self.names[index].as_str()).collect()
    }

    /// Adds the lists one part is on to `found`.
    pub fn check_part(&self, part: &Part<'_>, found: &mut Vec<usize>) {
        match part {
            Part::Network(network) => found.extend(self.networks.covering(network).map(|(_, index)| *index)),
            Part::Host(name) => {
                let lower = name.to_ascii_lowercase();
                let mut suffix = lower.as_str();
                loop {
                    if let Some(lists) = self.hosts.get(suffix) {
                        found.extend(lists);
                    }
                    match suffix.split_once('.') {
                        Some((_, parent)) => suffix = parent,
                        None => break,
                    }
                }
                self.check_text(&lower, found);
            }
            Part::Exact(text) => self.check_text(text, found),
        }
    }

    fn check_text(&self, text: &str, found: &mut Vec<usize>) {
        let lower = text.to_lowercase();
        if let Some(lists) = self.exact.get(&lower) {
            found.extend(lists);
        }
        for (needle, index) in &self.substrings {
            if lower.contains(needle.as_str()) {
                found.push(*index);
            }
        }
    }

    /// Whether a canonical value of `attr_type` is on any list.
    pub fn contains(&self, attr_type: &str, value: &str) -> bool {
        !self.check(attr_type, value).is_empty()
    }

    /// The name of list number `index`.
    pub fn name(&self, index: usize) -> &str {
        &self.names[index]
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;

    #[test]
    fn shipped_lists() {
        let lists = WarningLists::default();
        let cases = [
            ("ip-dst", "10.1.2.3"),
            ("ip-dst", "172.31.255.255"),
            ("ip-dst", "172.32.0.1"),
            ("ip-src", "192.0.2.0/25"),
            ("ip-src", "192.0.0.0/16"),
            ("ip-dst", "2001:db8::1"),
            ("ip-dst|port", "8.8.8.8|53"),
            ("ip-dst", "8.8.8.9"),
            ("ip-dst", "239.255.255.250"),
            ("domain", "example.com"),
            ("hostname", "www.example.org"),
            ("hostname", "printer.local.test"),
            ("domain", "example.co"),
            ("url", "http://localhost/"),
            ("url", "https://198.51.100.7/x"),
            ("url", "https://evil.example.net/login"),
            ("domain|ip", "evil.invalid|203.0.113.9"),
            ("domain", "google.com"),
            ("hostname", "sites.google.com"),
            ("email-src", "someone@example.com"),
            ("sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("ip-dst", "185.220.101.1"),
        ];
        let out: String = cases
            .iter()
            .map(|(attr_type, value)| format!("{attr_type} {value} => {:?}\n", lists.check(attr_type, value)))
            .collect();
        expect![[r#"
            ip-dst 10.1.2.3 => ["rfc1918"]
            ip-dst 172.31.255.255 => ["rfc1918"]
            ip-dst 172.32.0.1 => []
            ip-src 192.0.2.0/25 => ["documentation"]
            ip-src 192.0.0.0/16 => []
            ip-dst 2001:db8::1 => ["documentation"]
            ip-dst|port 8.8.8.8|53 => ["public-dns-resolvers"]
            ip-dst 8.8.8.9 => []
            ip-dst 239.255.255.250 => ["multicast"]
            domain example.com => ["reserved-domains"]
            hostname www.example.org => ["reserved-domains"]
            hostname printer.local.test => ["reserved-domains"]
            domain example.co => []
            url http://localhost/ => ["loopback", "reserved-domains"]
            url https://198.51.100.7/x => ["documentation"]
            url https://evil.example.net/login => ["reserved-domains"]
            domain|ip evil.invalid|203.0.113.9 => ["documentation", "reserved-domains"]
            domain google.com => ["top-domains"]
            hostname sites.google.com => []
            email-src someone@example.com => []
            sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 => []
            ip-dst 185.220.101.1 => []
        "#]]
        .assert_eq(&out);
    }

    #[test]
    fn user_lists() {
        let entries = [
            "cidr:185.220.101.0/24",
            "host:corp.example",
            "exact:Invoice.PDF",
            "substring:sinkhole",
            "10.9.0.0/16",
            "intranet.lan",
            "not a host",
        ];
        let list = WarningList {
            name: "ours".into(),
            description: String::new(),
            entries: entries.iter().map(|text| Entry::parse(text).unwrap()).collect(),
        };
        let lists = WarningLists::build(&[list]);
        assert_eq!(lists.check("ip-dst", "185.220.101.1"), ["ours"]);
        assert_eq!(lists.check("hostname", "mail.corp.example"), ["ours"]);
        assert_eq!(lists.check("filename", "invoice.pdf"), ["ours"]);
        assert_eq!(lists.check("hostname", "sinkhole.abuse.ch"), ["ours"]);
        assert_eq!(lists.check("url", "http://x.example.net/sinkhole-check"), ["ours"]);
        assert_eq!(lists.check("ip-src", "10.9.1.0/24"), ["ours"]);
        assert!(lists.check("ip-src", "10.8.0.0/14").is_empty());
        assert_eq!(lists.check("text", "Not A Host"), ["ours"]);
        assert!(lists.check("hostname", "corp.example.org").is_empty());
        assert!(Entry::parse("substring:ab").is_err());
        assert!(Entry::parse("cidr:10.0.0.1/8").is_err());
        assert!(Entry::parse("").is_err());
    }
}
