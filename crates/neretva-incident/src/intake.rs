//! E-mail reports: a raw message becomes an intake record, and from it an incident draft and
//! its evidence.
//!
//! [`intake`] never fails: a message `neretva-mail` cannot take in is kept as a failed intake
//! with the reason, so nothing sent to the CERT is lost and an analyst can look at it. The raw
//! message itself is evidence too (as `message/rfc822`), next to its attachments.

use neretva_mail::{Mail, MailError, MailLimits};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::evidence::{EvidenceSource, NewEvidence, Sha256};
use crate::incident::IncidentDraft;
use crate::{Timestamp, limits};

/// What came of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum IntakeOutcome {
    Parsed { mail: Box<Mail> },
    Failed { reason: String, error: MailError },
}

/// One message taken in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntakeRecord {
    pub id: Uuid,
    #[serde(with = "crate::utc")]
    pub received_at: Timestamp,
    /// Where it came from: a file name or a mailbox, for the analyst.
    pub origin: String,
    pub raw_sha256: Sha256,
    pub raw_size: u64,
    #[serde(flatten)]
    pub outcome: IntakeOutcome,
}

/// Takes in one raw message.
pub fn intake(
    id: Uuid,
    raw: &[u8],
    origin: &str,
    received_at: Timestamp,
    limits: &MailLimits,
) -> IntakeRecord {
    let outcome = match neretva_mail::parse(raw, limits) {
        Ok(mail) => IntakeOutcome::Parsed { mail: Box::new(mail) },
        Err(error) => IntakeOutcome::Failed { reason: error.to_string(), error },
    };
    IntakeRecord {
        id,
        received_at,
        origin: origin.chars().take(limits::LIST_ITEM).collect(),
        raw_sha256: Sha256::of(raw),
        raw_size: raw.len() as u64,
        outcome,
    }
}

fn truncate(text: &str, max_chars: usize) -> (String, bool) {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => (text[..cut].to_owned(), true),
        None => (text.to_owned(), false),
    }
}

impl IntakeRecord {
    /// The message, when it was taken in.
    pub fn mail(&self) -> Option<&Mail> {
        match &self.outcome {
            IntakeOutcome::Parsed { mail } => Some(mail),
            IntakeOutcome::Failed { .. } => None,
        }
    }

    /// The incident an e-mail report opens: the subject as title (or who sent it), the body as
    /// description (cut to the length limit, saying so). When the entity became aware is not
    /// in an e-mail; an analyst sets it.
    pub fn draft(&self, reporter_org: Option<Uuid>) -> Option<IncidentDraft> {
        let mail = self.mail()?;
        let subject = mail.subject.trim();
        let title = if subject.is_empty() {
            format!("E-mail report from {}", mail.from.address)
        } else {
            subject.to_owned()
        };
        let (title, _) = truncate(title.trim(), limits::TITLE);
        let note = "\n\n[Truncated; the whole message is attached as evidence.]";
        let (mut description, cut) = truncate(&mail.body, limits::TEXT - note.chars().count());
        if cut {
            description.push_str(note);
        }
        let mut draft = IncidentDraft::titled(title);
        draft.description = description;
        draft.reporter_org = reporter_org;
        draft.affected_orgs = reporter_org.into_iter().collect();
        Some(draft)
    }

    /// The evidence of the message: the raw message itself, then each attachment (the same
    /// bytes once). The bytes are the caller's (raw) and the mail's (attachments).
    pub fn evidence(&self) -> Vec<NewEvidence> {
        let source = EvidenceSource::Email { intake_id: self.id };
        let mut items = vec![NewEvidence {
            sha256: self.raw_sha256,
            size: self.raw_size,
            filename: Some(format!("{}.eml", self.id)),
            content_type: "message/rfc822".into(),
            description: Some("the message as received".into()),
            source: source.clone(),
        }];
        for attachment in self.mail().map(|mail| mail.attachments.as_slice()).unwrap_or_default() {
            let Ok(sha256) = attachment.sha256.parse::<Sha256>() else { continue };
            if items.iter().any(|item| item.sha256 == sha256) {
                continue;
            }
            items.push(NewEvidence {
                sha256,
                size: attachment.size as u64,
                filename: attachment.filename.clone(),
                content_type: attachment.content_type.clone(),
                description: None,
                source: source.clone(),
            });
        }
        items
    }
}
