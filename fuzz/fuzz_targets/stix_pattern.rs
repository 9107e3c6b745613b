//! STIX patterns: validating arbitrary text never panics; a pattern that parses prints to text
//! that parses to the same pattern, and compiling and matching it on a small bundle never panics.

#![no_main]

use libfuzzer_sys::fuzz_target;
use neretva_stix::matcher::{Matcher, Observations};
use neretva_stix::pattern::{Pattern, validate};

const OBSERVATIONS: &str = r#"{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [
  {"type": "observed-data", "id": "observed-data--0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", "first_observed": "2024-01-01T00:00:00Z",
   "last_observed": "2024-01-01T00:00:05Z", "number_observed": 2,
   "object_refs": ["ipv4-addr--1c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", "file--2c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"]},
  {"type": "ipv4-addr", "id": "ipv4-addr--1c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", "value": "198.51.100.7"},
  {"type": "file", "id": "file--2c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", "name": "a.exe", "size": 10,
   "hashes": {"MD5": "cead3f77f6cda6ec00f57d76c9a6879f"}, "magic_number_hex": "ffd8", "x_refs": ["ipv4-addr--1c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"]}
]}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = validate(text);
    if let Ok(pattern) = Pattern::parse(text) {
        let printed = pattern.root().to_string();
        let again = Pattern::parse(&printed).expect("a printed pattern parses");
        assert_eq!(again.root().to_string(), printed);
        let _ = pattern.inspect();
        if let Ok(matcher) = Matcher::new(&pattern) {
            let bundle: serde_json::Value = serde_json::from_str(OBSERVATIONS).expect("the bundle is JSON");
            let observations = Observations::from_json(&bundle).expect("the bundle is observed data");
            let _ = matcher.evaluate(&observations);
        }
    }
});
