//! Autonomous system numbers.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;

use crate::error::NetError;

/// A 32-bit autonomous system number other than the reserved AS 0.
///
/// Parses from `64496`, `AS64496`, `as64496` and the asdot form `1.10`
/// (meaning 1 × 65536 + 10), and displays as `AS64496`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Asn(NonZeroU32);

impl Asn {
    /// Makes an ASN from its number; fails for the reserved AS 0.
    pub fn new(number: u32) -> Result<Self, NetError> {
        NonZeroU32::new(number).map(Self).ok_or_else(|| NetError::AsnZero { input: number.to_string() })
    }

    /// The number as a plain integer.
    pub fn get(self) -> u32 {
        self.0.get()
    }

    /// Whether the ASN is reserved for private use (RFC 6996):
    /// 64512–65534 and 4200000000–4294967294.
    pub fn is_private(self) -> bool {
        matches!(self.get(), 64512..=65534 | 4_200_000_000..=4_294_967_294)
    }

    /// Whether the ASN is reserved for documentation (RFC 5398):
    /// 64496–64511 and 65536–65551.
    pub fn is_documentation(self) -> bool {
        matches!(self.get(), 64496..=64511 | 65536..=65551)
    }

    /// Whether the ASN is otherwise reserved and never routed: AS_TRANS 23456
    /// (RFC 6793), 65535 and 4294967295 (RFC 7300), and 65552–131071 (IANA).
    pub fn is_reserved(self) -> bool {
        matches!(self.get(), 23456 | 65535 | 65552..=131_071 | 4_294_967_295)
    }
}

impl FromStr for Asn {
    type Err = NetError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let invalid = || NetError::InvalidAsn { input: input.to_owned() };
        let out_of_range = || NetError::AsnOutOfRange { input: input.to_owned() };
        let body = match input.as_bytes() {
            [a, s, ..] if a.eq_ignore_ascii_case(&b'a') && s.eq_ignore_ascii_case(&b's') => &input[2..],
            _ => input,
        };
        let number = match body.split_once('.') {
            Some((high, low)) => {
                let high = parse_decimal(high).ok_or_else(invalid)?;
                let low = parse_decimal(low).ok_or_else(invalid)?;
                let (high, low) =
                    u16::try_from(high).ok().zip(u16::try_from(low).ok()).ok_or_else(out_of_range)?;
                (u32::from(high) << 16) | u32::from(low)
            }
            None => {
                let number = parse_decimal(body).ok_or_else(invalid)?;
                u32::try_from(number).map_err(|_| out_of_range())?
            }
        };
        NonZeroU32::new(number).map(Self).ok_or_else(|| NetError::AsnZero { input: input.to_owned() })
    }
}

/// Parses one or more decimal digits, saturating at `u64::MAX` so that huge
/// numbers are reported as out of range rather than as malformed.
fn parse_decimal(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        text.bytes()
            .fold(0u64, |number, digit| number.saturating_mul(10).saturating_add(u64::from(digit - b'0'))),
    )
}

impl fmt::Display for Asn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AS{}", self.0)
    }
}

impl fmt::Debug for Asn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl From<Asn> for u32 {
    fn from(asn: Asn) -> Self {
        asn.get()
    }
}

impl TryFrom<u32> for Asn {
    type Error = NetError;

    fn try_from(number: u32) -> Result<Self, Self::Error> {
        Self::new(number)
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    #[track_caller]
    fn check(input: &str, expect: Expect) {
        let actual = match input.parse::<Asn>() {
            Ok(asn) => format!(
                "ok {asn} private={} documentation={} reserved={}",
                asn.is_private(),
                asn.is_documentation(),
                asn.is_reserved()
            ),
            Err(error) => format!("error: {error}"),
        };
        expect.assert_eq(&actual);
    }

    #[test]
    fn parses_every_notation() {
        check("64496", expect!["ok AS64496 private=false documentation=true reserved=false"]);
        check("AS64496", expect!["ok AS64496 private=false documentation=true reserved=false"]);
        check("as64496", expect!["ok AS64496 private=false documentation=true reserved=false"]);
        check("As3356", expect!["ok AS3356 private=false documentation=false reserved=false"]);
        check("1.10", expect!["ok AS65546 private=false documentation=true reserved=false"]);
        check("AS0.64512", expect!["ok AS64512 private=true documentation=false reserved=false"]);
        check("4294967295", expect!["ok AS4294967295 private=false documentation=false reserved=true"]);
        check("65535.65535", expect!["ok AS4294967295 private=false documentation=false reserved=true"]);
        check("4200000000", expect!["ok AS4200000000 private=true documentation=false reserved=false"]);
        check("23456", expect!["ok AS23456 private=false documentation=false reserved=true"]);
    }

    #[test]
    fn rejects_zero_and_out_of_range() {
        check("0", expect![[r#"error: asn "0" is reserved by rfc 7607 and cannot identify a network"#]]);
        check(
            "AS0.0",
            expect![[r#"error: asn "AS0.0" is reserved by rfc 7607 and cannot identify a network"#]],
        );
        check(
            "4294967296",
            expect![[
                r#"error: asn "4294967296" is out of range: expected 1 to 4294967295 (asdot 0.1 to 65535.65535)"#
            ]],
        );
        check(
            "99999999999999999999999",
            expect![[
                r#"error: asn "99999999999999999999999" is out of range: expected 1 to 4294967295 (asdot 0.1 to 65535.65535)"#
            ]],
        );
        check(
            "1.65536",
            expect![[
                r#"error: asn "1.65536" is out of range: expected 1 to 4294967295 (asdot 0.1 to 65535.65535)"#
            ]],
        );
        expect![[r#"asn "0" is reserved by rfc 7607 and cannot identify a network"#]]
            .assert_eq(&Asn::new(0).unwrap_err().to_string());
    }

    #[test]
    fn rejects_malformed() {
        for input in [
            "", "AS", "ASN64496", "AS 64496", "-1", "+1", "64496 ", "1.", ".1", "1.2.3", "AS1..2", "0x10",
            "６４",
        ] {
            let error = input.parse::<Asn>().unwrap_err();
            assert_eq!(
                error.to_string(),
                format!("invalid asn {input:?}: expected a number such as 64496, AS64496 or asdot 1.10"),
            );
        }
    }

    #[test]
    fn converts_to_and_from_u32() {
        let asn = Asn::new(64511).unwrap();
        assert_eq!(u32::from(asn), 64511);
        assert_eq!(Asn::try_from(64511).unwrap(), asn);
        assert_eq!("AS64511".parse::<Asn>().unwrap(), asn);
        assert!(Asn::try_from(0).is_err());
    }
}
