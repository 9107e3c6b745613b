//! Arbitrary input never panics the parsers or the matcher, and errors keep their promises.

use neretva_stix::bundle::{Bundle, Limits, parse_bundle};
use neretva_stix::matcher::{Matcher, Observations};
use neretva_stix::object::property::Identifier;
use neretva_stix::pattern::{Pattern, validate};
use proptest::prelude::*;

/// Pieces patterns are made of (separated by `|`), so random strings reach deep into the grammar.
const PIECES: &str = "[|]|(|)| AND | OR | NOT | FOLLOWEDBY |=|!=|<|>=| IN | LIKE | MATCHES | ISSUBSET | ISSUPERSET \
    | EXISTS | WITHIN | REPEATS | TIMES| SECONDS| START | STOP |'x'|'1.2.3.0/24'|'a%_\\\\d$'|1|-1|2.5|,|.|:|file|name\
    |hashes|'SHA-256'|[*]|[0]|x_ref|t'2024-01-01T00:00:00Z'|h'ff'|b'YWJj'|true|'|\\|é|\n";

fn pattern_text() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(PIECES.split('|').collect::<Vec<_>>());
    prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn patterns_never_panic(text in pattern_text()) {
        let errors = validate(&text);
        match Pattern::parse(&text) {
            Ok(pattern) => {
                // A valid pattern prints to text that parses to the same pattern.
                let printed = pattern.root().to_string();
                let again = Pattern::parse(&printed).map_err(|e| TestCaseError::fail(format!("{printed}: {e}")))?;
                prop_assert_eq!(again.root().to_string(), printed);
                if let Ok(matcher) = Matcher::new(&pattern) {
                    let _ = matcher.matches(&Observations::default());
                }
            }
            Err(error) => {
                // A syntax error is the validator's first or second error (after missing brackets).
                prop_assert!(errors.iter().take(2).any(|e| *e == error), "{:?} not in {:?}", error, errors);
            }
        }
    }

    #[test]
    fn arbitrary_text_never_panics_the_pattern_parser(text in "\\PC{0,60}") {
        let _ = validate(&text);
    }

    #[test]
    fn bundles_never_panic(objects in prop::collection::vec(any_json(), 0..6)) {
        let text = serde_json::json!({"type": "bundle", "objects": objects}).to_string();
        let imported = parse_bundle(&text, &Limits { max_depth: 4, ..Limits::default() });
        let imported = imported.map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(imported.objects.len() + imported.rejected.len(), objects.len());
        for rejected in &imported.rejected {
            prop_assert!(!rejected.problems.is_empty());
            let prefix = format!("objects[{}]", rejected.index);
            prop_assert!(rejected.problems.iter().all(|p| p.path.starts_with(&prefix)));
        }
        // What is imported exports to a bundle that imports again completely, unchanged.
        let id = Identifier::parse("bundle--5d0092c5-5f74-4287-9642-33f4c354e56d").unwrap();
        let bundle = Bundle { id: id.clone(), objects: imported.objects };
        let again = parse_bundle(&bundle.to_json_string(), &Limits::default()).unwrap();
        prop_assert!(again.rejected.is_empty(), "{:?}", again.rejected);
        prop_assert_eq!(Bundle { id, objects: again.objects }.to_json(), bundle.to_json());
    }

    #[test]
    fn arbitrary_text_never_panics_the_bundle_parser(text in "\\PC{0,80}") {
        let _ = parse_bundle(&text, &Limits::default());
    }
}

const VALUES: &str = "indicator identity file x-custom 2.1 indicator--0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f \
    identity--0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f 2024-01-01T00:00:00.000Z [file:name=1] stix";
const KEYS: &str = "type id spec_version created modified name pattern pattern_type valid_from labels \
    object_marking_refs hashes x_custom Bad-Key extensions granular_markings";

/// JSON values that look like STIX objects some of the time.
fn any_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        prop::sample::select(VALUES.split(' ').collect::<Vec<_>>()).prop_map(serde_json::Value::from),
    ];
    let key = prop::sample::select(KEYS.split(' ').collect::<Vec<_>>());
    leaf.prop_recursive(4, 32, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(key.clone().prop_map(str::to_owned), inner, 0..8)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}
