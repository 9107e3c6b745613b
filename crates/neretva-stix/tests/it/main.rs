//! Integration tests of neretva-stix, one binary with a module per area.

#![allow(clippy::unwrap_used)]

mod matcher_cases;
mod matcher_event;
mod oasis_validator;
mod objects;
mod pattern_conformance;
mod pattern_syntax;
mod robustness;
