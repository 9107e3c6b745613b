//! STIX bundles: reading arbitrary bytes never panics; every member is imported or rejected with
//! problems under its own path, and what is imported writes back and reads again the same.

#![no_main]

use libfuzzer_sys::fuzz_target;
use neretva_stix::bundle::{Bundle, Limits, parse_bundle};
use neretva_stix::object::property::Identifier;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let limits = Limits { max_bytes: 1 << 20, max_objects: 1000, max_depth: 8 };
    let Ok(imported) = parse_bundle(text, &limits) else { return };
    for rejected in &imported.rejected {
        assert!(!rejected.problems.is_empty());
        let prefix = format!("objects[{}]", rejected.index);
        assert!(rejected.problems.iter().all(|p| p.path.starts_with(&prefix)));
    }
    let id = imported
        .bundle_id
        .clone()
        .unwrap_or_else(|| Identifier::parse("bundle--5d0092c5-5f74-4287-9642-33f4c354e56d").expect("a bundle id"));
    let bundle = Bundle { id: id.clone(), objects: imported.objects };
    let again = parse_bundle(&bundle.to_json_string(), &limits).expect("a written bundle reads back");
    assert!(again.rejected.is_empty(), "{:?}", again.rejected);
    assert_eq!(Bundle { id, objects: again.objects }.to_json(), bundle.to_json());
});
