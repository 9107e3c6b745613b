//! Constituency imports (JSON and CSV) on arbitrary bytes never panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use neretva_model::org::AuthorityLevels;
use neretva_model::registry_io::{parse_csv, parse_json};

fuzz_target!(|data: &[u8]| {
    let levels = AuthorityLevels::default();
    let now = time::OffsetDateTime::UNIX_EPOCH;
    let _ = parse_json(data, &levels, now);
    let _ = parse_csv(data, &levels, now);
});
