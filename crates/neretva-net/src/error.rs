//! The parse error shared by every type in this crate.

use std::fmt;

use crate::cidr::Cidr;

/// Why a network, an ASN or a domain name could not be parsed.
///
/// Every message is lower-case, has no trailing full stop and names the
/// offending input, so it can be shown to an analyst as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// The address part of a network is not an IPv4 or IPv6 address.
    #[error(
        "invalid ip network {input:?}: expected an address or network such as 192.0.2.0/24 or 2001:db8::/32"
    )]
    InvalidAddress {
        /// The text that was parsed.
        input: String,
    },
    /// The prefix length is not a number or is too large for the address family.
    #[error("invalid prefix length in {input:?}: expected a number from 0 to {max}")]
    InvalidPrefixLength {
        /// The text that was parsed.
        input: String,
        /// The largest prefix length of the address family: 32 or 128.
        max: u8,
    },
    /// The address has bits set beyond the prefix length.
    #[error("{input} has host bits set; did you mean {network}")]
    HostBitsSet {
        /// The text that was parsed.
        input: String,
        /// The network with the host bits cleared.
        network: Cidr,
    },
    /// The text is not an autonomous system number in any accepted notation.
    #[error("invalid asn {input:?}: expected a number such as 64496, AS64496 or asdot 1.10")]
    InvalidAsn {
        /// The text that was parsed.
        input: String,
    },
    /// The number does not fit in 32 bits, or one half of an asdot number
    /// does not fit in 16 bits.
    #[error("asn {input:?} is out of range: expected 1 to 4294967295 (asdot 0.1 to 65535.65535)")]
    AsnOutOfRange {
        /// The text that was parsed.
        input: String,
    },
    /// AS 0 is reserved (RFC 7607) and never identifies a network.
    #[error("asn {input:?} is reserved by rfc 7607 and cannot identify a network")]
    AsnZero {
        /// The text that was parsed.
        input: String,
    },
    /// The text is not a valid DNS name.
    #[error("invalid domain name {input:?}: {problem}")]
    InvalidDomain {
        /// The text that was parsed.
        input: String,
        /// What is wrong with it.
        problem: DomainProblem,
    },
}

/// What is wrong with a domain name that failed to parse.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DomainProblem {
    /// The name is empty or is only the root (`.`).
    Empty,
    /// The name contains characters outside ASCII.
    NotAscii,
    /// The name is longer than 253 characters without its trailing dot.
    TooLong {
        /// The length of the name without its trailing dot.
        len: usize,
    },
    /// Two dots follow each other, or the name starts with a dot.
    EmptyLabel,
    /// A label is longer than 63 characters.
    LabelTooLong {
        /// The label, lower-cased.
        label: String,
    },
    /// A label contains a character other than a letter, a digit, a hyphen
    /// or an underscore.
    InvalidCharacter {
        /// The label, lower-cased.
        label: String,
        /// The first offending character.
        character: char,
    },
    /// A label starts or ends with a hyphen.
    HyphenAtEdge {
        /// The label, lower-cased.
        label: String,
    },
    /// The last label is all digits, so the text is probably an IPv4 address.
    NumericTopLevel {
        /// The last label.
        label: String,
    },
}

impl fmt::Display for DomainProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("a name needs at least one label"),
            Self::NotAscii => f.write_str(
                "it contains non-ascii characters; IDN must be given in punycode (A-label) form, such as xn--bcher-kva.ba",
            ),
            Self::TooLong { len } => {
                write!(f, "it is {len} characters long; at most 253 are allowed")
            }
            Self::EmptyLabel => f.write_str("it has an empty label"),
            Self::LabelTooLong { label } => write!(
                f,
                "label {label:?} is {} characters long; at most 63 are allowed",
                label.len()
            ),
            Self::InvalidCharacter { label, character } => write!(
                f,
                "label {label:?} contains {character:?}; only letters, digits, hyphens and underscores are allowed"
            ),
            Self::HyphenAtEdge { label } => {
                write!(f, "label {label:?} starts or ends with a hyphen")
            }
            Self::NumericTopLevel { label } => write!(
                f,
                "the top-level label {label:?} is all digits, which is an ip address rather than a name"
            ),
        }
    }
}
