//! `test_data/summary/records.json`: the first quarter of 2025 as JSON, CSV and HTML.

use expect_test::expect_file;
use neretva_incident::deadline::CivilZone;
use neretva_incident::summary::{Quarter, SummaryRecord, summarise};

use crate::data;

#[test]
fn quarterly_summary_renderings() {
    let records: Vec<SummaryRecord> =
        serde_json::from_str(&std::fs::read_to_string(data("summary/records.json")).unwrap()).unwrap();
    let summary = summarise("2025-Q1".parse::<Quarter>().unwrap(), CivilZone::default(), &records);
    assert_eq!(summary.total, 8, "two records fall outside the quarter in Central European Time");
    expect_file![data("summary/2025-Q1.json")].assert_eq(&summary.to_json());
    expect_file![data("summary/2025-Q1.csv")].assert_eq(&summary.to_csv());
    expect_file![data("summary/2025-Q1.html")].assert_eq(&summary.to_html());
    // Nothing but the catalogue's sectors, RSIT slugs, severities and numbers reaches the output.
    assert!(!summary.to_csv().contains("cmd") && !summary.to_html().contains("cmd"));
}
