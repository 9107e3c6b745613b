//! Transforms: one module each, named by what they do.

pub mod dedupe;
pub mod enrich_asn;
pub mod route;
pub mod rules;
