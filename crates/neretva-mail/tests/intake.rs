//! Data-driven intake tests: `test_data/{ok,err}/*.eml`, each compared with the `.json` beside it
//! (re-bless with `UPDATE_EXPECT=1`), plus limit and robustness checks.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use expect_test::expect_file;
use neretva_mail::{MailError, MailLimits, parse, sha256_hex};
use proptest::prelude::*;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data")
}

fn cases(dir: &str) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(data_dir().join(dir))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no cases in {dir}");
    paths
}

/// The outcome as JSON: the record (attachment bytes excluded, their hashes included) or the error.
fn render(raw: &[u8]) -> (bool, String) {
    match parse(raw, &MailLimits::default()) {
        Ok(mail) => (true, serde_json::to_string_pretty(&mail).unwrap() + "\n"),
        Err(error) => {
            let mut json = serde_json::to_value(&error).unwrap();
            json["message"] = error.to_string().into();
            (false, serde_json::to_string_pretty(&json).unwrap() + "\n")
        }
    }
}

#[test]
fn ok_cases_match_their_expected_records() {
    for path in cases("ok") {
        let raw = std::fs::read(&path).unwrap();
        let (ok, actual) = render(&raw);
        expect_file![path.with_extension("json")].assert_eq(&actual);
        assert!(ok, "{} should parse", path.display());
    }
}

#[test]
fn err_cases_match_their_expected_errors() {
    for path in cases("err") {
        let raw = std::fs::read(&path).unwrap();
        let (ok, actual) = render(&raw);
        expect_file![path.with_extension("json")].assert_eq(&actual);
        assert!(!ok, "{} should fail", path.display());
    }
}

#[test]
fn attachment_bytes_are_kept_and_hashed() {
    let raw = std::fs::read(data_dir().join("ok/0006_attachment_only.eml")).unwrap();
    let mail = parse(&raw, &MailLimits::default()).unwrap();
    let expected: Vec<u8> = (0..32).collect();
    assert_eq!(mail.attachments.len(), 1);
    assert_eq!(mail.attachments[0].bytes, expected);
    assert_eq!(mail.attachments[0].sha256, sha256_hex(&expected));
}

#[test]
fn every_limit_is_reported_with_its_value() {
    let raw = std::fs::read(data_dir().join("ok/0003_attachments.eml")).unwrap();
    let limits = MailLimits { max_message_bytes: 100, ..MailLimits::default() };
    assert_eq!(parse(&raw, &limits), Err(MailError::TooLarge { size: raw.len(), limit: 100 }));

    let limits = MailLimits { max_attachments: 2, ..MailLimits::default() };
    assert_eq!(parse(&raw, &limits), Err(MailError::TooManyAttachments { count: 3, limit: 2 }));

    let limits = MailLimits { max_attachment_bytes: 50, ..MailLimits::default() };
    let error = parse(&raw, &limits).unwrap_err();
    assert_eq!(error.to_string(), "attachment 2 (fw.csv) is 58 bytes, more than the limit of 50");

    let limits = MailLimits { max_depth: 1, ..MailLimits::default() };
    assert_eq!(parse(&raw, &limits), Err(MailError::TooDeep { limit: 1 }));

    let limits = MailLimits { max_body_chars: 10, ..MailLimits::default() };
    let mail = parse(&raw, &limits).unwrap();
    assert_eq!(mail.body, "Forwarding");
    assert_eq!(mail.warnings, ["the body was truncated to 10 characters"]);
}

#[test]
fn recipients_beyond_the_limit_are_dropped_with_a_warning() {
    let to: Vec<String> = (0..5).map(|i| format!("r{i}@example.org")).collect();
    let raw = format!("From: a@example.org\nTo: {}\nSubject: s\n\nbody\n", to.join(", "));
    let limits = MailLimits { max_recipients: 3, ..MailLimits::default() };
    let mail = parse(raw.as_bytes(), &limits).unwrap();
    assert_eq!(mail.to.len(), 3);
    assert_eq!(mail.warnings, ["the To header lists 5 recipients; the first 3 were kept"]);
}

/// Byte-level mutations of the sample messages.
fn mutated_message() -> impl Strategy<Value = Vec<u8>> {
    let samples: Vec<Vec<u8>> = cases("ok").into_iter().map(|path| std::fs::read(path).unwrap()).collect();
    (prop::sample::select(samples), prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..16))
        .prop_map(|(mut bytes, edits)| {
            for (index, byte) in edits {
                if !bytes.is_empty() {
                    let at = index.index(bytes.len());
                    bytes[at] = byte;
                }
            }
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_and_keep_the_limits(raw in prop::collection::vec(any::<u8>(), 0..2048)) {
        let limits = MailLimits { max_depth: 3, max_attachments: 2, max_body_chars: 100, ..MailLimits::default() };
        if let Ok(mail) = parse(&raw, &limits) {
            prop_assert!(mail.attachments.len() <= 2);
            prop_assert!(mail.body.chars().count() <= 100);
            prop_assert!(!mail.from.address.is_empty());
        }
    }

    #[test]
    fn mutated_messages_never_panic(raw in mutated_message()) {
        if let Ok(mail) = parse(&raw, &MailLimits::default()) {
            for attachment in &mail.attachments {
                prop_assert_eq!(&attachment.sha256, &sha256_hex(&attachment.bytes));
                prop_assert_eq!(attachment.size, attachment.bytes.len());
            }
            prop_assert!(!mail.body.contains('\r'));
        }
    }
}
