//! STIX 2.1 for Neretva: objects and bundles, the patterning language (parser, validator,
//! inspector) and a pattern matcher.
//!
//! - [`object`]: typed STIX objects with lossless custom properties, their checks, TLP and PAP
//!   markings ([`object::marking`]).
//! - [`bundle`]: bundle import with limits, reporting bad objects by JSON path, and export.
//! - [`pattern`]: the STIX patterning language as the OASIS reference validator sees it.
//! - [`matcher`]: patterns evaluated against observed data and against harmonised feed events.
//! - [`timestamp`]: STIX timestamps.
//!
//! The crate is pure: no IO, no async runtime, no clock (times are arguments).

pub mod bundle;
pub mod matcher;
pub mod object;
pub mod pattern;
pub mod timestamp;
