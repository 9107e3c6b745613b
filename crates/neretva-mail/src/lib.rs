//! E-mail intake: raw RFC 5322/MIME bytes in, a bounded [`Mail`] record out.
//!
//! Incident reports arrive by e-mail as `.eml` files or through a mailbox; [`parse`] turns one
//! message into what the incident module needs: the sender and recipients, subject, date,
//! message id, one body text, and every attachment with its bytes and SHA-256.
//!
//! MIME decoding (transfer encodings, charsets, encoded words, nested messages) is done by the
//! `mail-parser` crate, without its optional `encoding_rs` support: UTF-8, the ISO 8859 family,
//! the Windows code pages and KOI8 are decoded; rarer multi-byte charsets are read lossily.
//! This crate adds the limits, the choice of body, the normalisation and the errors.
//!
//! - The body is the `text/plain` part(s) when there are any, else the text of the HTML part(s)
//!   ([`BodyFormat`] says which); line ends become `\n` and other control characters U+FFFD.
//! - A leading mbox `From ` line is skipped, so single messages cut from an mbox file parse too.
//! - Every limit of [`MailLimits`] is checked; a message beyond one is an error, except the body
//!   text and the recipient lists, which are truncated with a warning (the raw message is kept
//!   by the caller anyway).
//! - Problems that do not make the message unusable (an unreadable `Date`, an undecodable
//!   part) are [`Mail::warnings`].
//!
//! **Architecture Invariant:** pure: no IO, no clock; [`parse`] never panics on any input, so it
//! is the fuzzing entry point (`fuzz/fuzz_targets/mail_intake.rs`).

use std::borrow::Cow;

use mail_parser::{Address, MessageParser, MessagePart, MimeHeaders, PartType};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// Size limits applied while parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailLimits {
    /// The whole raw message, in bytes.
    pub max_message_bytes: usize,
    /// Attachments in the message, nested messages' own attachments not counted.
    pub max_attachments: usize,
    /// One attachment's decoded size, in bytes.
    pub max_attachment_bytes: usize,
    /// MIME nesting: the top-level part is depth 0, each multipart or attached message adds one.
    pub max_depth: usize,
    /// The body text, in characters; longer bodies are truncated with a warning.
    pub max_body_chars: usize,
    /// Recipients kept per header (`To`, `Cc`); more are dropped with a warning.
    pub max_recipients: usize,
}

impl Default for MailLimits {
    /// 25 MiB messages, 100 attachments of at most 20 MiB, nesting depth 10, 1 million
    /// characters of body text and 500 recipients per header.
    fn default() -> MailLimits {
        MailLimits {
            max_message_bytes: 25 * 1024 * 1024,
            max_attachments: 100,
            max_attachment_bytes: 20 * 1024 * 1024,
            max_depth: 10,
            max_body_chars: 1_000_000,
            max_recipients: 500,
        }
    }
}

/// Longest subject, message id or display name kept, in characters.
pub const MAX_HEADER_CHARS: usize = 998;

/// Longest attachment file name kept, in characters.
pub const MAX_FILENAME_CHARS: usize = 255;

/// Why a message could not be taken in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MailError {
    /// The raw message exceeds [`MailLimits::max_message_bytes`].
    #[error("the message is {size} bytes, more than the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    /// Nothing but white space.
    #[error("the message is empty")]
    Empty,
    /// The bytes do not start with an RFC 5322 header section.
    #[error("not an e-mail message: {reason}")]
    NotAMessage { reason: String },
    /// A header RFC 5322 requires is missing or holds no usable value.
    #[error("the message has no usable {header} header")]
    MissingHeader { header: String },
    /// The MIME structure is nested deeper than [`MailLimits::max_depth`].
    #[error("the MIME structure is nested deeper than the limit of {limit} levels")]
    TooDeep { limit: usize },
    /// More attachments than [`MailLimits::max_attachments`].
    #[error("the message has {count} attachments, more than the limit of {limit}")]
    TooManyAttachments { count: usize, limit: usize },
    /// One attachment exceeds [`MailLimits::max_attachment_bytes`].
    #[error("attachment {index} ({name}) is {size} bytes, more than the limit of {limit}")]
    AttachmentTooLarge { index: usize, name: String, size: usize, limit: usize },
}

/// A name and address from an address header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailbox {
    /// The display name, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The address as written (`local@domain`), trimmed.
    pub address: String,
}

/// Where the body text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyFormat {
    /// One or more `text/plain` parts.
    Plain,
    /// The text of the `text/html` part(s): the message had no plain text.
    Html,
    /// The message has no text body.
    None,
}

/// One attachment (or inline part that is not the body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The file name from `Content-Disposition` or `Content-Type`, without any directory part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// The lower-case media type, e.g. `application/pdf`; `message/rfc822` for attached messages.
    pub content_type: String,
    /// The decoded size in bytes.
    pub size: usize,
    /// SHA-256 of the decoded bytes, lower-case hex.
    pub sha256: String,
    /// The decoded bytes. Not serialised: they belong in the evidence store, addressed by `sha256`.
    #[serde(skip, default)]
    pub bytes: Vec<u8>,
}

/// A message taken in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    pub from: Mailbox,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Mailbox>,
    pub to: Vec<Mailbox>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cc: Vec<Mailbox>,
    /// The decoded subject; empty when the message has none.
    pub subject: String,
    /// The `Date` header in UTC; `None` when missing or unreadable (see the warnings).
    #[serde(with = "time::serde::rfc3339::option")]
    pub date: Option<OffsetDateTime>,
    /// The `Message-ID` without angle brackets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// The `In-Reply-To` message id, for threading follow-ups onto a report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    pub body_format: BodyFormat,
    /// The body text, lines ending in `\n`.
    pub body: String,
    pub attachments: Vec<Attachment>,
    /// Problems that did not stop the intake, lower-case sentences without a full stop.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// SHA-256 of bytes as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Parses one raw message; never panics.
pub fn parse(raw: &[u8], limits: &MailLimits) -> Result<Mail, MailError> {
    if raw.len() > limits.max_message_bytes {
        return Err(MailError::TooLarge { size: raw.len(), limit: limits.max_message_bytes });
    }
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(MailError::Empty);
    }
    let raw = skip_mbox_line(raw);
    check_header_start(raw)?;
    let message = MessageParser::default()
        .parse(raw)
        .ok_or_else(|| MailError::NotAMessage { reason: "no header section".into() })?;
    if message.headers().is_empty() {
        return Err(MailError::NotAMessage { reason: "no header section".into() });
    }
    if max_depth(&message, limits.max_depth) > limits.max_depth {
        return Err(MailError::TooDeep { limit: limits.max_depth });
    }

    let mut warnings = Vec::new();
    let from = message
        .from()
        .and_then(|address| mailboxes(address).into_iter().next())
        .ok_or_else(|| MailError::MissingHeader { header: "From".into() })?;
    let reply_to = message.reply_to().and_then(|address| mailboxes(address).into_iter().next());
    let to = recipients(message.to(), "To", limits, &mut warnings);
    let cc = recipients(message.cc(), "Cc", limits, &mut warnings);
    let subject = message.subject().map(|s| header_text(s, "subject", &mut warnings)).unwrap_or_default();
    let date = match message.date() {
        Some(date) if date.is_valid() => OffsetDateTime::from_unix_timestamp(date.to_timestamp()).ok(),
        _ => None,
    };
    if date.is_none() && message.header_raw("Date").is_some() {
        warnings.push("the Date header could not be read".to_owned());
    }
    let message_id = message.message_id().map(|id| header_text(id, "message id", &mut warnings));
    let in_reply_to = message
        .in_reply_to()
        .as_text_list()
        .and_then(|list| list.first())
        .map(|id| header_text(id, "in-reply-to id", &mut warnings))
        .or_else(|| {
            message.in_reply_to().as_text().map(|id| header_text(id, "in-reply-to id", &mut warnings))
        });

    let count = message.attachment_count();
    if count > limits.max_attachments {
        return Err(MailError::TooManyAttachments { count, limit: limits.max_attachments });
    }
    let mut attachments = Vec::with_capacity(count);
    for (index, part) in message.attachments().enumerate() {
        let bytes = part.contents();
        let filename = part.attachment_name().and_then(clean_filename);
        if bytes.len() > limits.max_attachment_bytes {
            return Err(MailError::AttachmentTooLarge {
                index: index + 1,
                name: filename.unwrap_or_else(|| "unnamed".into()),
                size: bytes.len(),
                limit: limits.max_attachment_bytes,
            });
        }
        attachments.push(Attachment {
            filename,
            content_type: content_type(part),
            size: bytes.len(),
            sha256: sha256_hex(bytes),
            bytes: bytes.to_vec(),
        });
    }
    for (index, part) in message.parts.iter().enumerate() {
        if part.is_encoding_problem {
            warnings.push(format!("MIME part {index} could not be decoded cleanly"));
        }
    }

    let (body_format, body) = body(&message);
    let mut body = clean_text(&body);
    if let Some((cut, _)) = body.char_indices().nth(limits.max_body_chars) {
        body.truncate(cut);
        warnings.push(format!("the body was truncated to {} characters", limits.max_body_chars));
    }

    Ok(Mail {
        from,
        reply_to,
        to,
        cc,
        subject,
        date,
        message_id,
        in_reply_to,
        body_format,
        body,
        attachments,
        warnings,
    })
}

/// Skips a leading mbox separator line (`From sender date`).
fn skip_mbox_line(raw: &[u8]) -> &[u8] {
    // `From :` with obsolete white space before the colon is a header field, not a separator.
    if raw.starts_with(b"From ") && !raw[5..].trim_ascii_start().starts_with(b":") {
        match raw.iter().position(|b| *b == b'\n') {
            Some(end) => &raw[end + 1..],
            None => &raw[raw.len()..],
        }
    } else {
        raw
    }
}

/// RFC 5322 section 2.2: a header field name is printable ASCII except the colon, then a colon.
fn check_header_start(raw: &[u8]) -> Result<(), MailError> {
    let line_end = raw.iter().position(|b| *b == b'\n').unwrap_or(raw.len());
    let line = &raw[..line_end];
    let Some(colon) = line.iter().position(|b| *b == b':') else {
        return Err(MailError::NotAMessage { reason: "the first line is not a header field".into() });
    };
    let name = &line[..colon];
    // Some writers put white space between the name and the colon (obsolete syntax, RFC 5322 4.5).
    let name = name.trim_ascii_end();
    if name.is_empty() || !name.iter().all(|b| (33..=126).contains(b) && *b != b':') {
        return Err(MailError::NotAMessage { reason: "the first line is not a header field".into() });
    }
    Ok(())
}

/// The deepest nesting of parts, or `limit + 1` as soon as the walk goes deeper than `limit`.
fn max_depth(message: &mail_parser::Message<'_>, limit: usize) -> usize {
    // An explicit stack: the structure comes from the input, so no recursion.
    let mut deepest = 0;
    let mut stack: Vec<(&mail_parser::Message<'_>, u32, usize)> = vec![(message, 0, 0)];
    while let Some((message, part_id, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        if deepest > limit {
            break;
        }
        let Some(part) = message.parts.get(part_id as usize) else { continue };
        match &part.body {
            PartType::Multipart(children) => {
                for child in children {
                    // A part listing itself or an ancestor would loop; mail-parser never does, but
                    // the depth bound ends the walk regardless.
                    stack.push((message, *child, depth + 1));
                }
            }
            PartType::Message(nested) => stack.push((nested, 0, depth + 1)),
            _ => {}
        }
    }
    deepest
}

fn mailboxes(address: &Address<'_>) -> Vec<Mailbox> {
    address
        .iter()
        .filter_map(|addr| {
            let address = addr.address()?.trim();
            if address.is_empty() {
                return None;
            }
            let name = addr
                .name()
                .map(|name| truncate_chars(&clean_line(name), MAX_HEADER_CHARS))
                .filter(|name| !name.is_empty());
            Some(Mailbox { name, address: truncate_chars(&clean_line(address), MAX_HEADER_CHARS) })
        })
        .collect()
}

fn recipients(
    address: Option<&Address<'_>>,
    header: &str,
    limits: &MailLimits,
    warnings: &mut Vec<String>,
) -> Vec<Mailbox> {
    let mut list = address.map(mailboxes).unwrap_or_default();
    if list.len() > limits.max_recipients {
        warnings.push(format!(
            "the {header} header lists {} recipients; the first {} were kept",
            list.len(),
            limits.max_recipients
        ));
        list.truncate(limits.max_recipients);
    }
    list
}

fn header_text(text: &str, what: &str, warnings: &mut Vec<String>) -> String {
    let clean = clean_line(text);
    if clean.chars().count() > MAX_HEADER_CHARS {
        warnings.push(format!("the {what} was truncated to {MAX_HEADER_CHARS} characters"));
        return truncate_chars(&clean, MAX_HEADER_CHARS);
    }
    clean
}

fn content_type(part: &MessagePart<'_>) -> String {
    if let PartType::Message(_) = part.body {
        return "message/rfc822".into();
    }
    match part.content_type() {
        Some(ct) => {
            let subtype = ct.subtype().unwrap_or("octet-stream");
            format!("{}/{}", ct.ctype(), subtype).to_ascii_lowercase()
        }
        None if matches!(part.body, PartType::Text(_)) => "text/plain".into(),
        None if matches!(part.body, PartType::Html(_)) => "text/html".into(),
        None => "application/octet-stream".into(),
    }
}

/// The body: the plain-text parts when there are any, else the text of the HTML parts.
fn body<'x>(message: &'x mail_parser::Message<'x>) -> (BodyFormat, Cow<'x, str>) {
    let parts = |ids: &[u32]| -> Vec<&'x MessagePart<'x>> {
        ids.iter().filter_map(|id| message.parts.get(*id as usize)).collect()
    };
    let plain: Vec<&str> = parts(&message.text_body)
        .into_iter()
        .filter_map(|part| match &part.body {
            PartType::Text(text) => Some(text.as_ref()),
            _ => None,
        })
        .collect();
    if !plain.is_empty() {
        return (BodyFormat::Plain, join(plain));
    }
    let html: Vec<String> = parts(&message.html_body)
        .into_iter()
        .filter_map(|part| match &part.body {
            PartType::Html(html) => Some(mail_parser::decoders::html::html_to_text(html)),
            _ => None,
        })
        .collect();
    if !html.is_empty() {
        return (BodyFormat::Html, Cow::Owned(html.join("\n")));
    }
    (BodyFormat::None, Cow::Borrowed(""))
}

fn join(texts: Vec<&str>) -> Cow<'_, str> {
    if texts.len() == 1 { Cow::Borrowed(texts[0]) } else { Cow::Owned(texts.join("\n")) }
}

/// Line ends to `\n`; other control characters (but tabs) to U+FFFD; trailing white space trimmed.
fn clean_text(text: &str) -> String {
    let unified = text.replace("\r\n", "\n").replace('\r', "\n");
    let cleaned: String = unified
        .chars()
        .map(|c| if c.is_control() && c != '\n' && c != '\t' { '\u{fffd}' } else { c })
        .collect();
    cleaned.trim_end().to_owned()
}

/// One line of header text: every control character becomes a space, runs of spaces collapse.
fn clean_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The last path component, without control characters; `None` when nothing is left.
fn clean_filename(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean = clean_line(base);
    let clean = clean.trim_matches('.').trim();
    (!clean.is_empty()).then(|| truncate_chars(clean, MAX_FILENAME_CHARS))
}

fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => text[..cut].to_owned(),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_start_is_checked() {
        assert!(check_header_start(b"From: a@example.org\r\n").is_ok());
        assert!(check_header_start(b"Subject : obsolete spacing\n").is_ok());
        assert!(check_header_start(b"hello world\n").is_err());
        assert!(check_header_start(b": no name\n").is_err());
        assert!(check_header_start(b"\xff\xfe: binary\n").is_err());
    }

    #[test]
    fn filenames_lose_directories_and_controls() {
        assert_eq!(clean_filename("C:\\Users\\x\\invoice.pdf").as_deref(), Some("invoice.pdf"));
        assert_eq!(clean_filename("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(clean_filename("a\u{0}b\tc.txt").as_deref(), Some("a b c.txt"));
        assert_eq!(clean_filename("..").as_deref(), None);
        assert_eq!(clean_filename(&"x".repeat(300)).map(|n| n.len()), Some(MAX_FILENAME_CHARS));
    }

    #[test]
    fn text_is_normalised() {
        assert_eq!(clean_text("a\r\nb\rc\u{7}d \n\n"), "a\nb\nc\u{fffd}d");
        assert_eq!(clean_line(" a \r\n\t b "), "a b");
    }
}
