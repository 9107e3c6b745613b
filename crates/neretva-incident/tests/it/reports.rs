//! `test_data/reports/{ok,err}/*.json`: a report as submitted, and what validation makes of it.

use std::fmt::Write as _;

use expect_test::expect_file;
use neretva_incident::report::IncidentReport;
use time::macros::datetime;
use uuid::Uuid;

use crate::cases;

/// Everything validation and conversion say about a report, as text.
fn render(input: &str) -> (bool, String) {
    let now = datetime!(2025-06-01 0:00 UTC);
    let report: IncidentReport = match serde_json::from_str(input) {
        Ok(report) => report,
        Err(error) => return (false, format!("cannot read the report: {error}\n")),
    };
    let errors = report.validate(now);
    if !errors.is_empty() {
        return (false, errors.iter().map(|error| format!("{error}\n")).collect());
    }
    let mut out = format!("valid {} report\n", report.stage.kind());
    for observable in report.indicators().unwrap() {
        let _ = writeln!(out, "indicator {observable}");
    }
    let draft = report.to_draft(Some(Uuid::from_u128(42)));
    let _ = writeln!(out, "draft: {}", serde_json::to_string(&draft).unwrap());
    (true, out)
}

#[test]
fn valid_reports() {
    for path in cases("reports/ok", "json") {
        let (ok, actual) = render(&std::fs::read_to_string(&path).unwrap());
        expect_file![path.with_extension("expected")].assert_eq(&actual);
        assert!(ok, "{} should be valid", path.display());
    }
}

#[test]
fn invalid_reports_name_every_field() {
    for path in cases("reports/err", "json") {
        let (ok, actual) = render(&std::fs::read_to_string(&path).unwrap());
        expect_file![path.with_extension("expected")].assert_eq(&actual);
        assert!(!ok, "{} should be refused", path.display());
    }
}
