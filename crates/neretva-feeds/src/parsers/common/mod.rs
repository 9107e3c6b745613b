//! Helpers shared by several parser groups.

pub(crate) mod csv_split;
pub(crate) mod feed_csv;
pub(crate) mod json;
pub(crate) mod ordered_json;
pub(crate) mod pyjson;
