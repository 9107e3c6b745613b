//! `test_data/intake/*.eml`: the intake record, the incident draft and the evidence of a message.

use expect_test::expect_file;
use neretva_incident::intake::{IntakeOutcome, intake};
use neretva_mail::MailLimits;
use serde_json::json;
use time::macros::datetime;
use uuid::Uuid;

use crate::cases;

#[test]
fn messages_become_intake_records() {
    for path in cases("intake", "eml") {
        let raw = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        let record =
            intake(Uuid::from_u128(7), &raw, &name, datetime!(2025-02-03 10:05 UTC), &MailLimits::default());
        let rendered = json!({
            "record": record,
            "draft": record.draft(None),
            "evidence": record.evidence(),
        });
        let actual = serde_json::to_string_pretty(&rendered).unwrap() + "\n";
        expect_file![path.with_extension("json")].assert_eq(&actual);
        // Stored records read back as they were.
        let stored: neretva_incident::intake::IntakeRecord =
            serde_json::from_value(rendered["record"].clone()).unwrap();
        assert_eq!(serde_json::to_value(&stored).unwrap(), rendered["record"]);
        if let Some(draft) = record.draft(None) {
            assert_eq!(draft.validate(datetime!(2025-02-03 10:05 UTC)), vec![], "{name}: drafts are valid");
        }
    }
}

#[test]
fn malformed_messages_are_kept_with_the_reason() {
    let record = intake(
        Uuid::nil(),
        b"\xff\xfe garbage",
        "upload",
        datetime!(2025-02-03 10:05 UTC),
        &MailLimits::default(),
    );
    match &record.outcome {
        IntakeOutcome::Failed { reason, .. } => {
            assert_eq!(reason, "not an e-mail message: the first line is not a header field")
        }
        IntakeOutcome::Parsed { .. } => panic!("garbage parsed"),
    }
    assert_eq!(record.draft(None), None);
    assert_eq!(record.evidence().len(), 1, "the raw bytes are still evidence");
    let limits = MailLimits { max_message_bytes: 4, ..MailLimits::default() };
    let record = intake(Uuid::nil(), b"From: a@b\n\nx", "upload", datetime!(2025-02-03 10:05 UTC), &limits);
    assert!(
        matches!(record.outcome, IntakeOutcome::Failed { ref reason, .. } if reason == "the message is 12 bytes, more than the limit of 4")
    );
}
