//! Threat intelligence for Neretva, MISP-compatible: intel events with attributes, objects, tags
//! and sightings; sharing groups whose membership can be confidential; MISP core JSON and MISP
//! feeds; the mapping to and from STIX 2.1; warning lists; and the bounded correlation engine.
//!
//! - [`model`]: [`model::IntelEvent`], [`model::Attribute`], [`model::IntelObject`],
//!   [`model::Sighting`], distribution levels.
//! - [`describe`]: MISP's attribute types and categories; [`value`]: each type's canonical form.
//! - [`tag`]: TLP, PAP and RSIT machine tags; [`access`]: sharing groups and who may see an event.
//! - [`misp`]: MISP JSON import (every problem with its JSON path) and export; [`feed`]: the
//!   files of a MISP feed; [`sync`]: distribution rules when events travel between instances;
//!   [`search`]: MISP's `restSearch` filters.
//! - [`stix`]: intel events as STIX 2.1 reports or groupings with indicators and observed data.
//! - [`warninglist`]: known-benign values; [`correlate`]: the correlation index.
//!
//! The crate is pure: no IO, no clock (times are arguments), no randomness (ids are inputs).

pub mod access;
pub mod correlate;
pub mod describe;
pub mod feed;
pub mod misp;
pub mod model;
pub mod search;
pub mod stix;
pub mod sync;
pub mod tag;
pub mod value;
pub mod warninglist;
