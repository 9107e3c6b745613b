//! E-mail intake on arbitrary bytes: must never panic, and every record must respect the limits.

#![no_main]

use libfuzzer_sys::fuzz_target;
use neretva_mail::{MailLimits, parse, sha256_hex};

fuzz_target!(|data: &[u8]| {
    let limits = MailLimits { max_attachments: 8, max_depth: 4, max_body_chars: 4096, ..MailLimits::default() };
    if let Ok(mail) = parse(data, &limits) {
        assert!(mail.attachments.len() <= limits.max_attachments);
        assert!(mail.body.chars().count() <= limits.max_body_chars);
        for attachment in &mail.attachments {
            assert_eq!(attachment.sha256, sha256_hex(&attachment.bytes));
        }
    }
});
