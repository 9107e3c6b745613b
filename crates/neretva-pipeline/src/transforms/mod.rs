//! Transforms: one module each, named by what they do.

pub mod dedupe;
pub mod enrich_asn;
pub mod enrich_geo;
#[cfg(test)]
pub(crate) mod mmdb_writer;
pub mod route;
pub mod rules;
