//! Constituency lookup for Neretva: decides which constituent organisation
//! owns an IP address, a domain name or an autonomous system.
//!
//! The identifiers:
//!
//! - [`Cidr`]: an IPv4 or IPv6 network, parsed from `192.0.2.0/24`,
//!   `2001:db8::/32` or a bare address, refusing host bits.
//! - [`Asn`]: an autonomous system number, parsed from `64496`, `AS64496` or
//!   asdot `1.10`.
//! - [`DomainName`]: a validated, lower-case DNS name; internationalised
//!   names must already be in punycode.
//!
//! The tables, each keeping every value of a key inserted more than once so
//! that competing claims stay visible:
//!
//! - [`PrefixTable`], frozen from a [`PrefixTableBuilder`]: longest-prefix
//!   match over IPv4 and IPv6 at once, one address at a time or a batch at
//!   once, plus every covering network of an address and the networks
//!   covering or covered by a network, to report overlapping constituencies.
//! - [`DomainSuffixTable`]: the most specific registered ancestor of a name.
//! - [`AsnTable`]: exact ASN lookup.
//!
//! Parsing fails with [`NetError`], whose messages name the offending input.
//!
//! The crate is pure: no IO, no async, no global state and no dependencies
//! beyond the standard library and `thiserror`. Loading the constituency data
//! is the caller's business.

mod asn;
mod asn_table;
mod cidr;
mod domain;
mod domain_table;
mod error;
mod hash;
mod poptrie;
mod prefix_table;

pub use crate::asn::Asn;
pub use crate::asn_table::AsnTable;
pub use crate::cidr::Cidr;
pub use crate::domain::DomainName;
pub use crate::domain_table::DomainSuffixTable;
pub use crate::error::{DomainProblem, NetError};
pub use crate::prefix_table::{PrefixTable, PrefixTableBuilder, Values};
