//! Constituent notifications, the pure part: which queued events an organisation hears about
//! (`schedule`, `digest`: schedules, suppression of repeats, TLP clearance), what the message
//! says in the contact's language (`texts`, `render`), its CSV and JSON attachments
//! (`attachments`), and the message itself: MIME with PGP/MIME signing and encryption (`mime`,
//! `openpgp`, [`compose`]). Incident updates (status changes, reminders of NIS2 reports) take
//! the same texts, templates and message path (`incident`).
//!
//! **Architecture Invariant:** no IO, no clock, no hidden randomness: times, ids and the random
//! number generator are arguments, so the same inputs give the same message.

pub mod attachments;
pub mod digest;
pub mod incident;
pub mod mime;
pub mod openpgp;
pub mod render;
pub mod schedule;
pub mod texts;

use neretva_event::Event;
use rand::{CryptoRng, Rng};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::mime::{Entity, Mailbox, attachment, encode_header_text, multipart, text_part};
use crate::openpgp::{RecipientKey, Signer, encrypt_entity, sign_entity};
use crate::render::{DigestInput, Renderer};

/// What can go wrong building a notification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// A configuration value is wrong.
    #[error("{field}: {message}")]
    Config { field: String, message: String },
    /// A template cannot be compiled or rendered.
    #[error("template {name}: {message}")]
    Template { name: String, message: String },
    /// A key cannot be used.
    #[error("{message}")]
    Key { message: String },
    /// Signing or encryption failed.
    #[error("{message}")]
    Crypto { message: String },
    /// An attachment cannot be read back; `at` says where.
    #[error("{at}: {message}")]
    Attachment { at: String, message: String },
}

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub name: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

/// A rendered message before MIME: what a preview shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    pub subject: String,
    /// The body with LF line endings.
    pub body: String,
    pub attachments: Vec<Attachment>,
}

/// Renders a digest: subject, body and the events as `events.csv` and `events.json`.
pub fn digest_content(renderer: &Renderer, input: &DigestInput<'_>) -> Result<Content, NotifyError> {
    let (subject, body) = renderer.digest(input)?;
    let events: &[&Event] = input.events;
    Ok(Content {
        subject,
        body,
        attachments: vec![
            Attachment {
                name: "events.csv".into(),
                content_type: "text/csv; charset=utf-8".into(),
                data: attachments::write_csv(events).into_bytes(),
            },
            Attachment {
                name: "events.json".into(),
                content_type: "application/json".into(),
                data: attachments::write_json(events).into_bytes(),
            },
        ],
    })
}

/// The addressing of one message.
#[derive(Debug, Clone)]
pub struct Envelope<'a> {
    pub from: &'a Mailbox,
    pub to: &'a Mailbox,
    /// The Message-ID without angle brackets, e.g. `0193...@cert.example.ba`.
    pub message_id: &'a str,
    pub date: OffsetDateTime,
}

/// A boundary for nesting `level` of a message: it cannot occur in quoted-printable or base64
/// text (`=_` never appears in either), nor in the armour of OpenPGP data.
fn boundary(message_id: &str, level: u8) -> String {
    let digest = Sha256::digest(message_id.as_bytes());
    format!("=_nrt{level}_{}", hex::encode(&digest[..9]))
}

/// The complete message (RFC 5322 with MIME, CRLF line endings): `multipart/mixed` with the
/// body and the attachments, signed by `signer` (`multipart/signed`, RFC 3156), then, when the
/// contact has a key, encrypted to it (`multipart/encrypted`).
pub fn compose<R: Rng + CryptoRng>(
    mut rng: R,
    content: &Content,
    envelope: &Envelope<'_>,
    signer: &Signer,
    key: Option<&RecipientKey>,
) -> Result<Vec<u8>, NotifyError> {
    let mut parts = vec![text_part(&content.body)];
    parts.extend(content.attachments.iter().map(|a| attachment(&a.name, &a.content_type, &a.data)));
    let mixed = multipart("multipart/mixed", &boundary(envelope.message_id, 2), &parts);
    let signed = sign_entity(&mut rng, signer, &mixed, &boundary(envelope.message_id, 1))?;
    let top: Entity = match key {
        Some(key) => encrypt_entity(&mut rng, key, &signed, &boundary(envelope.message_id, 0))?,
        None => signed,
    };
    let date = envelope
        .date
        .to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc2822)
        .map_err(|error| NotifyError::Config { field: "date".into(), message: error.to_string() })?;
    let mut headers: Vec<(String, String)> = vec![
        ("From".into(), envelope.from.header()),
        ("To".into(), envelope.to.header()),
        ("Subject".into(), encode_header_text(&content.subject, "Subject: ".len())),
        ("Date".into(), date),
        (
            "Message-ID".into(),
            format!("<{}>", mime::one_line(envelope.message_id).replace(['<', '>', ' '], "")),
        ),
        ("MIME-Version".into(), "1.0".into()),
        ("Auto-Submitted".into(), "auto-generated".into()),
    ];
    headers.extend(top.headers);
    Ok(Entity { headers, body: top.body }.to_bytes())
}
