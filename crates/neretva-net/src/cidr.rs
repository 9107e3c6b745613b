//! IPv4 and IPv6 networks in CIDR notation.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use crate::error::NetError;

/// An IPv4 or IPv6 network: an address with every host bit cleared and a
/// prefix length.
///
/// Networks order by address family (IPv4 first), then by network address,
/// then by prefix length, so a network sorts directly before the networks
/// it contains.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr {
    network: IpAddr,
    len: u8,
}

impl Cidr {
    /// Makes a network from its network address and prefix length.
    ///
    /// Fails when the prefix length is too long for the address family or
    /// when the address has host bits set.
    pub fn new(address: IpAddr, prefix_len: u8) -> Result<Self, NetError> {
        let cidr = Self::truncating(address, prefix_len)?;
        if cidr.network == address {
            Ok(cidr)
        } else {
            Err(NetError::HostBitsSet { input: format!("{address}/{prefix_len}"), network: cidr })
        }
    }

    /// Makes the network of the given prefix length that contains `address`,
    /// clearing its host bits.
    ///
    /// Fails only when the prefix length is too long for the address family.
    pub fn truncating(address: IpAddr, prefix_len: u8) -> Result<Self, NetError> {
        let max = max_len(address);
        if prefix_len > max {
            return Err(NetError::InvalidPrefixLength { input: format!("{address}/{prefix_len}"), max });
        }
        Ok(Self::masked(address, prefix_len))
    }

    /// Like [`Cidr::truncating`] for a prefix length known to be in range.
    #[inline]
    pub(crate) fn masked(address: IpAddr, prefix_len: u8) -> Self {
        Self { network: truncate(address, prefix_len), len: prefix_len }
    }

    /// Makes the network holding one address: a /32 or a /128.
    pub fn host(address: IpAddr) -> Self {
        Self { network: address, len: max_len(address) }
    }

    /// The first address of the network.
    pub fn network(&self) -> IpAddr {
        self.network
    }

    /// The last address of the network: the broadcast address for IPv4.
    pub fn last(&self) -> IpAddr {
        match self.network {
            IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a) | !mask4(self.len))),
            IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) | !mask6(self.len))),
        }
    }

    /// The number of leading bits that identify the network.
    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// The number of bits in an address of this family: 32 or 128.
    pub fn max_prefix_len(&self) -> u8 {
        max_len(self.network)
    }

    /// Whether this is an IPv4 network.
    pub fn is_ipv4(&self) -> bool {
        self.network.is_ipv4()
    }

    /// Whether this is an IPv6 network.
    pub fn is_ipv6(&self) -> bool {
        self.network.is_ipv6()
    }

    /// Whether the network contains the address.
    ///
    /// An address of the other family is never contained: IPv4-mapped IPv6
    /// addresses are not converted, so call [`IpAddr::to_canonical`] first
    /// where that is wanted.
    #[inline]
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, address) {
            (IpAddr::V4(n), IpAddr::V4(a)) => u32::from(a) & mask4(self.len) == u32::from(n),
            (IpAddr::V6(n), IpAddr::V6(a)) => u128::from(a) & mask6(self.len) == u128::from(n),
            _ => false,
        }
    }

    /// Whether the network contains every address of `other`; true for equal
    /// networks.
    pub fn contains_cidr(&self, other: &Cidr) -> bool {
        self.len <= other.len && self.contains(other.network)
    }

    /// Whether the two networks share at least one address, that is whether
    /// one contains the other.
    pub fn overlaps(&self, other: &Cidr) -> bool {
        self.contains_cidr(other) || other.contains_cidr(self)
    }
}

impl FromStr for Cidr {
    type Err = NetError;

    /// Parses `192.0.2.0/24`, `2001:db8::/32`, or a bare address meaning a
    /// /32 or /128 network.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let (address_text, len_text) = match input.split_once('/') {
            Some((address, len)) => (address, Some(len)),
            None => (input, None),
        };
        let address: IpAddr =
            address_text.parse().map_err(|_| NetError::InvalidAddress { input: input.to_owned() })?;
        let max = max_len(address);
        let len = match len_text {
            None => max,
            Some(text) => parse_prefix_len(text)
                .filter(|&len| len <= max)
                .ok_or_else(|| NetError::InvalidPrefixLength { input: input.to_owned(), max })?,
        };
        let network = truncate(address, len);
        let cidr = Self { network, len };
        if network == address {
            Ok(cidr)
        } else {
            Err(NetError::HostBitsSet { input: input.to_owned(), network: cidr })
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.len)
    }
}

impl fmt::Debug for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl From<IpAddr> for Cidr {
    fn from(address: IpAddr) -> Self {
        Self::host(address)
    }
}

impl From<Ipv4Addr> for Cidr {
    fn from(address: Ipv4Addr) -> Self {
        Self::host(IpAddr::V4(address))
    }
}

impl From<Ipv6Addr> for Cidr {
    fn from(address: Ipv6Addr) -> Self {
        Self::host(IpAddr::V6(address))
    }
}

/// Parses a prefix length written in decimal digits, without a sign or
/// leading zeros.
fn parse_prefix_len(text: &str) -> Option<u8> {
    let digits_only = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    if !digits_only || (text.len() > 1 && text.starts_with('0')) {
        return None;
    }
    text.parse().ok()
}

fn max_len(address: IpAddr) -> u8 {
    match address {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// The IPv4 netmask of a prefix length of at most 32.
#[inline]
pub(crate) fn mask4(len: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0)
}

/// The IPv6 netmask of a prefix length of at most 128.
#[inline]
pub(crate) fn mask6(len: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0)
}

#[inline]
fn truncate(address: IpAddr, len: u8) -> IpAddr {
    match address {
        IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask4(len))),
        IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask6(len))),
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    #[track_caller]
    fn check(input: &str, expect: Expect) {
        let actual = match input.parse::<Cidr>() {
            Ok(cidr) => {
                format!("ok {cidr} len={} v4={} last={}", cidr.prefix_len(), cidr.is_ipv4(), cidr.last())
            }
            Err(error) => format!("error: {error}"),
        };
        expect.assert_eq(&actual);
    }

    #[test]
    fn parses_networks() {
        check("192.0.2.0/24", expect!["ok 192.0.2.0/24 len=24 v4=true last=192.0.2.255"]);
        check(
            "2001:db8::/32",
            expect!["ok 2001:db8::/32 len=32 v4=false last=2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"],
        );
        check(
            "2001:DB8:0:0::/48",
            expect!["ok 2001:db8::/48 len=48 v4=false last=2001:db8:0:ffff:ffff:ffff:ffff:ffff"],
        );
        check("0.0.0.0/0", expect!["ok 0.0.0.0/0 len=0 v4=true last=255.255.255.255"]);
        check("::/0", expect!["ok ::/0 len=0 v4=false last=ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"]);
        check("10.1.2.3/32", expect!["ok 10.1.2.3/32 len=32 v4=true last=10.1.2.3"]);
        check(
            "::ffff:192.0.2.0/120",
            expect!["ok ::ffff:192.0.2.0/120 len=120 v4=false last=::ffff:192.0.2.255"],
        );
    }

    #[test]
    fn bare_addresses_are_host_networks() {
        check("192.0.2.7", expect!["ok 192.0.2.7/32 len=32 v4=true last=192.0.2.7"]);
        check("2001:db8::1", expect!["ok 2001:db8::1/128 len=128 v4=false last=2001:db8::1"]);
    }

    #[test]
    fn rejects_host_bits_naming_the_network() {
        check("192.0.2.1/24", expect!["error: 192.0.2.1/24 has host bits set; did you mean 192.0.2.0/24"]);
        check(
            "2001:db8::1/32",
            expect!["error: 2001:db8::1/32 has host bits set; did you mean 2001:db8::/32"],
        );
        check("10.0.0.0/0", expect!["error: 10.0.0.0/0 has host bits set; did you mean 0.0.0.0/0"]);
    }

    #[test]
    fn rejects_malformed_networks() {
        check(
            "",
            expect![[
                r#"error: invalid ip network "": expected an address or network such as 192.0.2.0/24 or 2001:db8::/32"#
            ]],
        );
        check(
            "192.0.2/24",
            expect![[
                r#"error: invalid ip network "192.0.2/24": expected an address or network such as 192.0.2.0/24 or 2001:db8::/32"#
            ]],
        );
        check(
            " 192.0.2.0/24",
            expect![[
                r#"error: invalid ip network " 192.0.2.0/24": expected an address or network such as 192.0.2.0/24 or 2001:db8::/32"#
            ]],
        );
        check(
            "192.0.2.0/33",
            expect![[r#"error: invalid prefix length in "192.0.2.0/33": expected a number from 0 to 32"#]],
        );
        check(
            "2001:db8::/129",
            expect![[r#"error: invalid prefix length in "2001:db8::/129": expected a number from 0 to 128"#]],
        );
        check(
            "192.0.2.0/",
            expect![[r#"error: invalid prefix length in "192.0.2.0/": expected a number from 0 to 32"#]],
        );
        check(
            "192.0.2.0/+24",
            expect![[r#"error: invalid prefix length in "192.0.2.0/+24": expected a number from 0 to 32"#]],
        );
        check(
            "192.0.2.0/24/8",
            expect![[r#"error: invalid prefix length in "192.0.2.0/24/8": expected a number from 0 to 32"#]],
        );
        check(
            "192.0.2.0/024",
            expect![[r#"error: invalid prefix length in "192.0.2.0/024": expected a number from 0 to 32"#]],
        );
        check(
            "fe80::1%eth0/64",
            expect![[
                r#"error: invalid ip network "fe80::1%eth0/64": expected an address or network such as 192.0.2.0/24 or 2001:db8::/32"#
            ]],
        );
    }

    #[test]
    fn constructors_check_their_arguments() {
        let address: IpAddr = "192.0.2.1".parse().unwrap();
        expect!["192.0.2.1/24 has host bits set; did you mean 192.0.2.0/24"]
            .assert_eq(&Cidr::new(address, 24).unwrap_err().to_string());
        expect![[r#"invalid prefix length in "192.0.2.1/40": expected a number from 0 to 32"#]]
            .assert_eq(&Cidr::truncating(address, 40).unwrap_err().to_string());
        assert_eq!(Cidr::truncating(address, 24).unwrap(), "192.0.2.0/24".parse().unwrap());
        assert_eq!(Cidr::from(address), "192.0.2.1/32".parse().unwrap());
    }

    #[test]
    fn containment_and_overlap() {
        let net = |s: &str| s.parse::<Cidr>().unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let wide = net("10.0.0.0/8");
        let narrow = net("10.20.0.0/16");
        let other = net("11.0.0.0/8");
        let v6 = net("::/0");

        assert!(wide.contains(ip("10.255.255.255")));
        assert!(!wide.contains(ip("11.0.0.0")));
        assert!(!v6.contains(ip("10.0.0.1")));
        assert!(!wide.contains(ip("::a00:1")));
        assert!(net("0.0.0.0/0").contains(ip("255.255.255.255")));

        assert!(wide.contains_cidr(&narrow));
        assert!(wide.contains_cidr(&wide));
        assert!(!narrow.contains_cidr(&wide));
        assert!(!v6.contains_cidr(&wide));

        assert!(wide.overlaps(&narrow));
        assert!(narrow.overlaps(&wide));
        assert!(!wide.overlaps(&other));
        assert!(!v6.overlaps(&wide));
    }

    #[test]
    fn orders_family_then_address_then_length() {
        let mut nets: Vec<Cidr> = ["2001:db8::/32", "10.0.0.0/16", "10.0.0.0/8", "9.0.0.0/8", "::/0"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        nets.sort();
        expect!["[9.0.0.0/8, 10.0.0.0/8, 10.0.0.0/16, ::/0, 2001:db8::/32]"].assert_eq(&format!("{nets:?}"));
    }
}
