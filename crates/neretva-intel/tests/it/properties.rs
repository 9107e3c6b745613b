use neretva_intel::misp::{Limits, export_event, parse};
use neretva_intel::value::canonicalise;
use proptest::prelude::*;

use crate::context;

fn seed() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/test_data/misp/ok/0002_wrapped_event_with_objects.json"
    ))
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Mutated MISP documents never panic the importer, and what it keeps exports and re-imports
    /// to the same events.
    #[test]
    fn mutated_documents_do_not_panic(cut in 0usize..4000, byte in any::<u8>(), position in 0usize..4000) {
        let mut bytes = seed().into_bytes();
        let position = position % bytes.len();
        bytes[position] = byte;
        bytes.truncate(cut.max(position + 1).min(bytes.len()));
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(imported) = parse(&text, &context(true), &Limits::default()) {
            for event in &imported.events {
                let again = parse(&export_event(event).to_string(), &context(true), &Limits::default()).unwrap();
                prop_assert_eq!(&again.events[0], event);
            }
        }
    }

    /// Canonical values are fixed points: canonicalising one again gives it back.
    #[test]
    fn canonical_values_are_stable(value in "\\PC{0,40}", index in 0usize..neretva_intel::describe::TYPES.len()) {
        let attr_type = neretva_intel::describe::TYPES[index].name;
        if let Ok(canonical) = canonicalise(attr_type, &value) {
            prop_assert_eq!(canonicalise(attr_type, &canonical), Ok(canonical.clone()), "{}", attr_type);
        }
    }
}
