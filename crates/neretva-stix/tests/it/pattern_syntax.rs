//! The parser's tree, positions and limits.

use expect_test::expect;
use neretva_stix::pattern::ast::{ObservationExpr, PathStep};
use neretva_stix::pattern::parser::MAX_NESTING;
use neretva_stix::pattern::{Pattern, PatternErrorKind, validate};

#[track_caller]
fn canonical(text: &str) -> String {
    Pattern::parse(text).unwrap().root().to_string()
}

#[track_caller]
fn first_error(text: &str) -> String {
    validate(text).first().map(ToString::to_string).unwrap_or_default()
}

#[test]
fn operators_bind_as_the_grammar_says() {
    // Inside brackets AND binds tighter than OR; between observations AND, then OR, then FOLLOWEDBY.
    expect!["[a:b = 1 OR a:c = 2 AND a:d = 3]"].assert_eq(&canonical("[a:b=1 OR a:c=2 AND a:d=3]"));
    expect!["[(a:b = 1 OR a:c = 2) AND a:d = 3]"].assert_eq(&canonical("[(a:b=1 OR a:c=2) AND (a:d=3)]"));
    let pattern = Pattern::parse("[a:b=1] AND [a:b=2] OR [a:b=3] FOLLOWEDBY [a:b=4]").unwrap();
    let ObservationExpr::FollowedBy(items) = pattern.root() else { panic!("{:?}", pattern.root()) };
    assert!(matches!(&items[0], ObservationExpr::Or(or) if matches!(or[0], ObservationExpr::And(_))));
    // Qualifiers bind to the nearest observation expression.
    expect!["[a:b = 1] REPEATS 2 TIMES AND ([a:c = 'x'] OR [a:d = h'ff']) WITHIN 5.5 SECONDS"]
        .assert_eq(&canonical("[a:b=1] REPEATS 2 TIMES AND ([a:c='x'] OR [a:d=h'ff']) WITHIN 5.5 SECONDS"));
    expect!["[NOT EXISTS a:b] AND [a:c NOT IN ('x', 1)]"]
        .assert_eq(&canonical("[NOT EXISTS a:b] AND [a:c NOT IN('x',1)]"));
}

#[test]
fn object_paths_unquote_and_index() {
    let pattern =
        Pattern::parse(r"[file:extensions.'windows-pebinary-ext'.sections[*].'it\'s'[-2] = 1]").unwrap();
    let ObservationExpr::Observation(neretva_stix::pattern::ast::ComparisonExpr::Comparison(comparison)) =
        pattern.root()
    else {
        panic!()
    };
    assert_eq!(
        comparison.path.steps,
        vec![
            PathStep::Key("extensions".into()),
            PathStep::Key("windows-pebinary-ext".into()),
            PathStep::Key("sections".into()),
            PathStep::AnyIndex,
            PathStep::Key("it's".into()),
            PathStep::Index(-2),
        ]
    );
    expect![[r"file:extensions.'windows-pebinary-ext'.sections[*].'it\'s'[-2]"]]
        .assert_eq(&comparison.path.to_string());
}

#[test]
fn errors_say_where_and_why() {
    expect!["line 1, column 13: mismatched input ']' expecting {IntNegLiteral, IntPosLiteral, FloatNegLiteral, FloatPosLiteral, HexLiteral, BinaryLiteral, StringLiteral, BoolLiteral, TimestampLiteral}"]
        .assert_eq(&first_error("[file:size = ]"));
    expect!["line 2, column 2: no viable alternative at input 'file:size1280'"]
        .assert_eq(&first_error("[file:size\n  1280]"));
    expect!["line 1, column 24: missing StringLiteral at ']'"]
        .assert_eq(&first_error("[a:b = 1 OR a:c MATCHES ]"));
    expect!["line 1, column 8: extraneous input 'x' expecting <EOF>"].assert_eq(&first_error("[a:b=1] x"));
    expect!["line 1, column 8: mismatched input '[' expecting <EOF>"]
        .assert_eq(&first_error("[a:b=1] [a:c=2]"));
    expect!["line 1, column 14: extraneous input ']' expecting {',', ')'}"]
        .assert_eq(&first_error("[a:b IN (1, 2 ]"));
    expect!["line 1, column 0: input is missing square brackets"]
        .assert_eq(&first_error("/* comment */ [a:b = 1]"));
    expect!["line 1, column 0: duplicate qualifier type encountered: REPEATS"]
        .assert_eq(&first_error("[a:b=1] REPEATS 2 TIMES WITHIN 1 SECONDS REPEATS 3 TIMES"));
    expect!["line 1, column 0: 'abc' is not a valid md5 hash"]
        .assert_eq(&first_error("[file:hashes.md5 = 'abc']"));
    // Duplicates on a parenthesised group, and unknown or star hash selectors, are not checked.
    assert!(validate("([a:b=1]) WITHIN 1 SECONDS WITHIN 2 SECONDS").is_empty());
    assert!(validate("[file:hashes.TLSH = 'x' OR file:hashes[*] = 'y']").is_empty());
}

#[test]
fn nesting_and_length_are_bounded() {
    let deep = format!("{}[a:b=1]{}", "(".repeat(MAX_NESTING + 1), ")".repeat(MAX_NESTING + 1));
    assert_eq!(Pattern::parse(&deep).unwrap_err().kind, PatternErrorKind::TooDeep { limit: MAX_NESTING });
    let ok = format!("{}[a:b=1]{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
    assert!(Pattern::parse(&ok).is_ok());
    let inner = format!("[{}a:b=1{}]", "(".repeat(MAX_NESTING + 5), ")".repeat(MAX_NESTING + 5));
    assert!(matches!(Pattern::parse(&inner).unwrap_err().kind, PatternErrorKind::TooDeep { .. }));
    // Long chains of one operator do not deepen the tree.
    let chain = vec!["[a:b=1]"; 50_000].join(" AND ");
    let ObservationExpr::And(items) = Pattern::parse(&chain).unwrap().root().clone() else { panic!() };
    assert_eq!(items.len(), 50_000);
    let huge = format!("[a:b = '{}']", "x".repeat(neretva_stix::pattern::parser::MAX_PATTERN_BYTES));
    assert!(matches!(Pattern::parse(&huge).unwrap_err().kind, PatternErrorKind::TooLong { .. }));
}
