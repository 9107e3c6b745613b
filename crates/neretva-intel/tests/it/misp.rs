use expect_test::expect_file;
use neretva_intel::misp::{Limits, export_events, parse};

use crate::{cases, context, read};

/// The problems, then the events as exported.
fn render(text: &str, with_org: bool) -> String {
    let imported = read(text, with_org);
    let mut out = String::new();
    for problem in &imported.problems {
        out.push_str(&format!("problem {problem}\n"));
    }
    out.push_str(&serde_json::to_string_pretty(&export_events(&imported.events)).unwrap());
    out.push('\n');
    // The export reads back as the same events, with no problem.
    let again = serde_json::to_string(&export_events(&imported.events)).unwrap();
    let reread = parse(&again, &context(false), &Limits::default()).unwrap();
    assert_eq!(reread.problems, []);
    assert_eq!(reread.events, imported.events);
    out
}

#[test]
fn valid_events() {
    for path in cases("misp/ok", "json") {
        let actual = render(&std::fs::read_to_string(&path).unwrap(), true);
        assert!(!actual.starts_with("problem"), "{}: {actual}", path.display());
        expect_file![path.with_extension("expected")].assert_eq(&actual);
    }
}

#[test]
fn invalid_input_names_every_path() {
    for path in cases("misp/err", "json") {
        let actual = render(&std::fs::read_to_string(&path).unwrap(), false);
        expect_file![path.with_extension("expected")].assert_eq(&actual);
    }
}
