//! Addresses and networks for `ISSUBSET` and `ISSUPERSET`.
//!
//! IPv4 follows the reference matcher: addresses are parsed as the C library's `inet_aton`
//! does (one to four parts, decimal, octal with a leading `0` or hexadecimal with `0x`,
//! anything after a space ignored); a network needs `/` and a prefix length from 1 to 32.
//! IPv6 is an extension (the reference rejects it): standard text form, prefix 1 to 128.

use std::net::Ipv6Addr;

/// An address (prefix 32 or 128) or a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Net {
    V4 { addr: u32, prefix: u32 },
    V6 { addr: u128, prefix: u32 },
}

/// Whether `containee` (an address or network) lies within `container` (a network); `Err` with
/// the text that is not an address or network.
pub(crate) fn contained(containee: &str, container: &str) -> Result<bool, String> {
    let inner = parse(containee, false)?;
    let outer = parse(container, true)?;
    Ok(match (inner, outer) {
        (Net::V4 { addr: a, prefix: pa }, Net::V4 { addr: b, prefix: pb }) => {
            pb <= pa && {
                let mask = if pb == 0 { 0 } else { u32::MAX << (32 - pb) };
                a & mask == b & mask
            }
        }
        (Net::V6 { addr: a, prefix: pa }, Net::V6 { addr: b, prefix: pb }) => {
            pb <= pa && {
                let mask = if pb == 0 { 0 } else { u128::MAX << (128 - pb) };
                a & mask == b & mask
            }
        }
        _ => false,
    })
}

fn parse(text: &str, network: bool) -> Result<Net, String> {
    let bad = || text.to_owned();
    match text.find('/') {
        None if network => Err(bad()),
        None => match inet_aton(text) {
            Some(addr) => Ok(Net::V4 { addr, prefix: 32 }),
            None => text
                .parse::<Ipv6Addr>()
                .map(|a| Net::V6 { addr: u128::from(a), prefix: 128 })
                .map_err(|_| bad()),
        },
        Some(slash) => {
            let (addr, prefix) = (&text[..slash], &text[slash + 1..]);
            if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let prefix: u32 = prefix.parse().map_err(|_| bad())?;
            if let Some(addr) = inet_aton(addr) {
                return if (1..=32).contains(&prefix) { Ok(Net::V4 { addr, prefix }) } else { Err(bad()) };
            }
            match addr.parse::<Ipv6Addr>() {
                Ok(a) if (1..=128).contains(&prefix) => Ok(Net::V6 { addr: u128::from(a), prefix }),
                _ => Err(bad()),
            }
        }
    }
}

/// The C library's `inet_aton`.
pub(crate) fn inet_aton(text: &str) -> Option<u32> {
    let b = text.as_bytes();
    if b.contains(&0) {
        return None;
    }
    let mut parts: Vec<u64> = Vec::with_capacity(4);
    let mut i = 0;
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let mut val: u64;
    let mut digit;
    loop {
        if !at(i).is_ascii_digit() {
            return None;
        }
        val = 0;
        let mut base = 10;
        digit = false;
        if at(i) == b'0' {
            i += 1;
            if at(i) == b'x' || at(i) == b'X' {
                base = 16;
                i += 1;
            } else {
                base = 8;
                digit = true;
            }
        }
        loop {
            let c = at(i);
            if c.is_ascii_digit() {
                if base == 8 && (c == b'8' || c == b'9') {
                    return None;
                }
                val = val.saturating_mul(base).saturating_add(u64::from(c - b'0'));
                digit = true;
            } else if base == 16 && c.is_ascii_hexdigit() {
                val = val.saturating_mul(16).saturating_add(u64::from((c | 0x20) - b'a' + 10));
                digit = true;
            } else {
                break;
            }
            i += 1;
        }
        if at(i) == b'.' {
            if parts.len() > 2 || val > 0xff {
                return None;
            }
            parts.push(val);
            i += 1;
        } else {
            break;
        }
    }
    let c = at(i);
    if c != 0 && !matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        return None;
    }
    if !digit {
        return None;
    }
    let max: u64 = [0xffff_ffff, 0x00ff_ffff, 0xffff, 0xff][parts.len()];
    if val > max {
        return None;
    }
    let mut addr = val;
    for (n, part) in parts.iter().enumerate() {
        addr |= part << (24 - 8 * n);
    }
    u32::try_from(addr).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inet_aton_forms() {
        assert_eq!(inet_aton("1.2.3.4"), Some(0x0102_0304));
        assert_eq!(inet_aton("127.1"), Some(0x7f00_0001));
        assert_eq!(inet_aton("0x7f.0.0.010"), Some(0x7f00_0008));
        assert_eq!(inet_aton("10"), Some(10));
        assert_eq!(inet_aton("1.2.3.4 trailing"), Some(0x0102_0304));
        for bad in ["", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "08.1.1.1", "a.b.c.d", "1.2.3.4x", "1..2"] {
            assert_eq!(inet_aton(bad), None, "{bad}");
        }
    }

    #[test]
    fn containment() {
        assert_eq!(contained("192.168.1.5", "192.168.0.0/16"), Ok(true));
        assert_eq!(contained("192.168.0.0/15", "192.168.0.0/16"), Ok(false));
        assert_eq!(contained("10.0.0.1", "192.168.0.0/16"), Ok(false));
        assert_eq!(contained("2001:db8::1", "2001:db8::/32"), Ok(true));
        assert_eq!(contained("2001:db8::1", "10.0.0.0/8"), Ok(false));
        assert!(contained("1.2.3.4", "1.2.3.4").is_err());
        assert!(contained("1.2.3.4", "1.2.3.0/0").is_err());
        assert!(contained("not an address", "1.2.3.0/24").is_err());
    }
}
