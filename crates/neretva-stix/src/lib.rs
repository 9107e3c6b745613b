//! STIX 2.1 for Neretva: the patterning language (parser, validator, inspector, matcher).
//!
//! The crate is pure: no IO, no async runtime, no clock (times are arguments).

pub mod matcher;
pub mod pattern;
pub mod timestamp;
