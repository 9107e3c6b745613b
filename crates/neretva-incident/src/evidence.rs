//! Evidence: attachments stored content-addressed by SHA-256, and their chain of custody.
//!
//! The bytes live once per digest ([`Sha256::blob_path`]); an [`Evidence`] row ties a digest to
//! an incident with who added it and why. Every access is a [`CustodyRecord`]: who added,
//! viewed, downloaded or exported the item and when. The records of one item in one incident
//! form a hash chain, like the audit log, so a removed or altered record is detected
//! ([`verify_custody`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::Digest;
use uuid::Uuid;

use crate::timeline::{TimelineEntry, TimelineKind};
use crate::{Errors, FieldError, Timestamp, limits};

/// A SHA-256 digest; written as 64 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sha256([u8; 32]);

impl Sha256 {
    /// The digest of some bytes.
    pub fn of(bytes: &[u8]) -> Sha256 {
        Sha256(sha2::Sha256::digest(bytes).into())
    }

    /// The 32 bytes of the digest.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Where the bytes are kept in a content-addressed store: `ab/cd/abcd…` (two levels of
    /// 256 directories, then the full digest).
    pub fn blob_path(&self) -> String {
        let hex = self.to_string();
        format!("{}/{}/{hex}", &hex[..2], &hex[2..4])
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256({self})")
    }
}

impl FromStr for Sha256 {
    type Err = FieldError;
    /// Accepts 64 hex digits in either case.
    fn from_str(input: &str) -> Result<Sha256, FieldError> {
        let mut bytes = [0u8; 32];
        match hex::decode_to_slice(input.trim(), &mut bytes) {
            Ok(()) => Ok(Sha256(bytes)),
            Err(_) => Err(FieldError::new("sha256", format!("{input:?} is not 64 hexadecimal digits"))),
        }
    }
}

impl TryFrom<String> for Sha256 {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Sha256, FieldError> {
        value.parse()
    }
}

impl From<Sha256> for String {
    fn from(value: Sha256) -> String {
        value.to_string()
    }
}

/// Limits on evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceLimits {
    /// One item, in bytes.
    pub max_bytes: u64,
    /// Items per incident.
    pub max_items: usize,
}

impl Default for EvidenceLimits {
    /// 50 MiB per item, 1,000 items per incident.
    fn default() -> EvidenceLimits {
        EvidenceLimits { max_bytes: 50 * 1024 * 1024, max_items: 1_000 }
    }
}

/// Why evidence was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EvidenceError {
    #[error("the attachment is {size} bytes, more than the limit of {limit}")]
    TooLarge { size: u64, limit: u64 },
    #[error("the attachment is empty")]
    Empty,
    #[error("the incident already has {count} attachments, the limit")]
    TooMany { count: usize },
    #[error("the incident already has this attachment ({sha256})")]
    Duplicate { sha256: Sha256 },
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

/// SHA-256 over a stream of chunks with a size limit, so an upload is hashed and bounded
/// without holding it in memory.
#[derive(Debug, Clone)]
pub struct BoundedHasher {
    hasher: sha2::Sha256,
    size: u64,
    limit: u64,
}

impl BoundedHasher {
    /// A hasher bounded by the item size limit.
    pub fn new(limits: &EvidenceLimits) -> BoundedHasher {
        BoundedHasher { hasher: sha2::Sha256::new(), size: 0, limit: limits.max_bytes }
    }

    /// Adds a chunk; fails as soon as the total exceeds the limit.
    pub fn update(&mut self, chunk: &[u8]) -> Result<(), EvidenceError> {
        self.size = self.size.saturating_add(chunk.len() as u64);
        if self.size > self.limit {
            return Err(EvidenceError::TooLarge { size: self.size, limit: self.limit });
        }
        self.hasher.update(chunk);
        Ok(())
    }

    /// The digest and the total size.
    pub fn finish(self) -> (Sha256, u64) {
        (Sha256(self.hasher.finalize().into()), self.size)
    }
}

/// Where an item came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EvidenceSource {
    /// Uploaded by a user.
    Upload,
    /// An attachment of an e-mail report.
    Email { intake_id: Uuid },
    /// Attached to a constituent's report.
    Report { report_id: Uuid },
}

/// An item of evidence in an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub incident_id: Uuid,
    pub sha256: Sha256,
    pub size: u64,
    pub filename: Option<String>,
    /// A media type such as `application/pdf`.
    pub content_type: String,
    pub description: Option<String>,
    pub source: EvidenceSource,
    pub added_by: Option<Uuid>,
    #[serde(with = "crate::utc")]
    pub added_at: Timestamp,
}

/// What is known about a new item before it is added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEvidence {
    pub sha256: Sha256,
    pub size: u64,
    pub filename: Option<String>,
    pub content_type: String,
    pub description: Option<String>,
    pub source: EvidenceSource,
}

impl NewEvidence {
    /// Checks the item against the limits and the incident's current items.
    pub fn check(&self, existing: &[Evidence], limits: &EvidenceLimits) -> Result<(), EvidenceError> {
        if self.size == 0 {
            return Err(EvidenceError::Empty);
        }
        if self.size > limits.max_bytes {
            return Err(EvidenceError::TooLarge { size: self.size, limit: limits.max_bytes });
        }
        if existing.iter().any(|item| item.sha256 == self.sha256) {
            return Err(EvidenceError::Duplicate { sha256: self.sha256 });
        }
        if existing.len() >= limits.max_items {
            return Err(EvidenceError::TooMany { count: existing.len() });
        }
        let mut errors = Errors::default();
        if let Some(name) = &self.filename {
            errors.text("filename", name, 255);
            if name.contains(['/', '\\']) {
                errors.push("filename", "contains a directory separator");
            }
        }
        errors.optional("description", self.description.as_deref(), limits::SHORT_TEXT);
        if !is_media_type(&self.content_type) {
            errors.push(
                "content_type",
                format!("{:?} is not a media type such as application/pdf", self.content_type),
            );
        }
        match errors.into_vec().into_iter().next() {
            Some(error) => Err(EvidenceError::Invalid { field: error.field, message: error.message }),
            None => Ok(()),
        }
    }

    /// Adds the item: the stored row, its timeline entry and the first custody record.
    pub fn add(
        self,
        incident_id: Uuid,
        existing: &[Evidence],
        limits: &EvidenceLimits,
        actor: Option<Uuid>,
        now: Timestamp,
    ) -> Result<(Evidence, TimelineEntry, CustodyRecord), EvidenceError> {
        self.check(existing, limits)?;
        let entry = TimelineEntry::new(
            now,
            actor,
            TimelineKind::EvidenceAdded { sha256: self.sha256, filename: self.filename.clone() },
        );
        let custody = next_custody(
            None,
            CustodyEvent {
                incident_id,
                sha256: self.sha256,
                action: CustodyAction::Added,
                actor,
                at: now,
                detail: None,
            },
        );
        let evidence = Evidence {
            incident_id,
            sha256: self.sha256,
            size: self.size,
            filename: self.filename,
            content_type: self.content_type,
            description: self.description,
            source: self.source,
            added_by: actor,
            added_at: now,
        };
        Ok((evidence, entry, custody))
    }
}

fn is_media_type(text: &str) -> bool {
    let token = |part: &str| {
        !part.is_empty()
            && part.len() <= 127
            && part.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    text.split_once('/').is_some_and(|(kind, subtype)| token(kind) && token(subtype))
}

/// What was done with an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustodyAction {
    Added,
    Viewed,
    Downloaded,
    /// Handed outside the platform (to law enforcement, another CERT, in an export).
    Exported,
}

impl CustodyAction {
    /// The stored spelling, e.g. `downloaded`.
    pub fn as_str(self) -> &'static str {
        match self {
            CustodyAction::Added => "added",
            CustodyAction::Viewed => "viewed",
            CustodyAction::Downloaded => "downloaded",
            CustodyAction::Exported => "exported",
        }
    }
}

/// One access, before it is chained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodyEvent {
    pub incident_id: Uuid,
    pub sha256: Sha256,
    pub action: CustodyAction,
    /// `None` for the system (e-mail intake).
    pub actor: Option<Uuid>,
    #[serde(with = "crate::utc")]
    pub at: Timestamp,
    /// For exports: to whom or where, and why.
    pub detail: Option<String>,
}

/// A chained custody record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodyRecord {
    /// 1 for the `added` record, then consecutive.
    pub seq: u64,
    #[serde(flatten)]
    pub event: CustodyEvent,
    /// Hex of the previous record's hash (zeros before the first).
    pub prev_hash: String,
    /// Hex SHA-256 over this record's fields and `prev_hash`.
    pub hash: String,
}

fn custody_hash(seq: u64, event: &CustodyEvent, prev_hash: &str) -> String {
    let mut hasher = sha2::Sha256::new();
    let mut field = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    };
    field(&seq.to_be_bytes());
    field(event.incident_id.as_bytes());
    field(event.sha256.as_bytes());
    field(event.action.as_str().as_bytes());
    let actor = event.actor.map(Uuid::into_bytes);
    field(actor.as_ref().map_or(&[][..], |bytes| &bytes[..]));
    field(&event.at.unix_timestamp_nanos().to_be_bytes());
    field(event.detail.as_deref().unwrap_or("").as_bytes());
    field(prev_hash.as_bytes());
    hex::encode(hasher.finalize())
}

/// The record that follows `prev` in an item's chain (or starts it).
///
/// Times are kept to the microsecond, as the stores keep them, so a record read back verifies.
pub fn next_custody(prev: Option<&CustodyRecord>, mut event: CustodyEvent) -> CustodyRecord {
    event.at = event.at.replace_nanosecond(event.at.nanosecond() / 1000 * 1000).unwrap_or(event.at);
    let (seq, prev_hash) = match prev {
        Some(prev) => (prev.seq + 1, prev.hash.clone()),
        None => (1, hex::encode([0u8; 32])),
    };
    let hash = custody_hash(seq, &event, &prev_hash);
    CustodyRecord { seq, event, prev_hash, hash }
}

/// The first problem in an item's custody chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustodyBreak {
    #[error("the chain is empty")]
    Empty,
    #[error("record {seq} is not the `added` record the chain must start with")]
    NotStartedByAdd { seq: u64 },
    #[error("record {seq} follows record {prev}: records in between were removed")]
    Gap { prev: u64, seq: u64 },
    #[error("record {seq} was altered: its hash does not match its contents")]
    Altered { seq: u64 },
    #[error("record {seq} does not link to its predecessor")]
    Unlinked { seq: u64 },
    #[error("record {seq} concerns another item or incident")]
    Foreign { seq: u64 },
    #[error("record {seq} is older than its predecessor")]
    OutOfOrder { seq: u64 },
}

/// Verifies one item's chain, in sequence order.
pub fn verify_custody(records: &[CustodyRecord]) -> Result<(), CustodyBreak> {
    let first = records.first().ok_or(CustodyBreak::Empty)?;
    if first.seq != 1 || first.event.action != CustodyAction::Added {
        return Err(CustodyBreak::NotStartedByAdd { seq: first.seq });
    }
    let mut prev: Option<&CustodyRecord> = None;
    for record in records {
        let (expected_seq, expected_prev) = match prev {
            Some(prev) => (prev.seq + 1, prev.hash.clone()),
            None => (1, hex::encode([0u8; 32])),
        };
        if record.seq != expected_seq {
            return Err(CustodyBreak::Gap { prev: expected_seq - 1, seq: record.seq });
        }
        if record.hash != custody_hash(record.seq, &record.event, &record.prev_hash) {
            return Err(CustodyBreak::Altered { seq: record.seq });
        }
        if record.prev_hash != expected_prev {
            return Err(CustodyBreak::Unlinked { seq: record.seq });
        }
        if record.event.sha256 != first.event.sha256 || record.event.incident_id != first.event.incident_id {
            return Err(CustodyBreak::Foreign { seq: record.seq });
        }
        if prev.is_some_and(|prev| record.event.at < prev.event.at) {
            return Err(CustodyBreak::OutOfOrder { seq: record.seq });
        }
        if record.seq > 1 && record.event.action == CustodyAction::Added {
            return Err(CustodyBreak::Altered { seq: record.seq });
        }
        prev = Some(record);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn digests_round_trip_and_address_blobs() {
        let digest = Sha256::of(b"abc");
        let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(digest.to_string(), hex);
        assert_eq!(hex.to_ascii_uppercase().parse::<Sha256>(), Ok(digest));
        assert_eq!(digest.blob_path(), format!("ba/78/{hex}"));
        assert!("abc".parse::<Sha256>().is_err());
        assert_eq!(serde_json::to_string(&digest).unwrap(), format!("\"{hex}\""));
    }

    #[test]
    fn bounded_hashing_stops_at_the_limit() {
        let limits = EvidenceLimits { max_bytes: 5, max_items: 10 };
        let mut hasher = BoundedHasher::new(&limits);
        hasher.update(b"ab").unwrap();
        hasher.update(b"c").unwrap();
        assert_eq!(hasher.clone().finish(), (Sha256::of(b"abc"), 3));
        assert_eq!(hasher.update(b"def"), Err(EvidenceError::TooLarge { size: 6, limit: 5 }));
    }

    fn new_item(bytes: &[u8]) -> NewEvidence {
        NewEvidence {
            sha256: Sha256::of(bytes),
            size: bytes.len() as u64,
            filename: Some("log.csv".into()),
            content_type: "text/csv".into(),
            description: None,
            source: EvidenceSource::Upload,
        }
    }

    #[test]
    fn limits_and_duplicates_are_reported() {
        let now = datetime!(2025-02-03 10:00 UTC);
        let limits = EvidenceLimits { max_bytes: 10, max_items: 1 };
        let incident = Uuid::from_u128(1);
        let (stored, entry, custody) = new_item(b"abc").add(incident, &[], &limits, None, now).unwrap();
        assert_eq!(custody.seq, 1);
        assert!(matches!(entry.kind, TimelineKind::EvidenceAdded { .. }));
        let error = new_item(b"0123456789x").check(&[], &limits).unwrap_err();
        assert_eq!(error.to_string(), "the attachment is 11 bytes, more than the limit of 10");
        assert_eq!(
            new_item(b"abc").check(std::slice::from_ref(&stored), &limits),
            Err(EvidenceError::Duplicate { sha256: Sha256::of(b"abc") })
        );
        assert_eq!(new_item(b"xyz").check(&[stored], &limits), Err(EvidenceError::TooMany { count: 1 }));
        assert_eq!(new_item(b"").check(&[], &limits), Err(EvidenceError::Empty));
        let mut bad = new_item(b"abc");
        bad.content_type = "pdf".into();
        assert!(
            matches!(bad.check(&[], &limits), Err(EvidenceError::Invalid { field, .. }) if field == "content_type")
        );
    }

    fn chain() -> Vec<CustodyRecord> {
        let t0 = datetime!(2025-02-03 10:00:00.123456789 UTC);
        let event = |action, minutes, detail: Option<&str>| CustodyEvent {
            incident_id: Uuid::from_u128(1),
            sha256: Sha256::of(b"abc"),
            action,
            actor: Some(Uuid::from_u128(7)),
            at: t0 + time::Duration::minutes(minutes),
            detail: detail.map(str::to_owned),
        };
        let mut records = vec![next_custody(None, event(CustodyAction::Added, 0, None))];
        for (action, minutes, detail) in [
            (CustodyAction::Viewed, 5, None),
            (CustodyAction::Downloaded, 9, None),
            (CustodyAction::Exported, 30, Some("to the police, case 12/25")),
        ] {
            let next = next_custody(records.last(), event(action, minutes, detail));
            records.push(next);
        }
        records
    }

    #[test]
    fn custody_chains_verify_and_detect_tampering() {
        let records = chain();
        assert_eq!(verify_custody(&records), Ok(()));
        assert_eq!(records[0].event.at.nanosecond(), 123_456_000, "kept to the microsecond");
        let json = serde_json::to_string(&records).unwrap();
        let read: Vec<CustodyRecord> = serde_json::from_str(&json).unwrap();
        assert_eq!(verify_custody(&read), Ok(()));

        let mut altered = records.clone();
        altered[2].event.actor = Some(Uuid::from_u128(8));
        assert_eq!(verify_custody(&altered), Err(CustodyBreak::Altered { seq: 3 }));
        let mut removed = records.clone();
        removed.remove(1);
        assert_eq!(verify_custody(&removed), Err(CustodyBreak::Gap { prev: 1, seq: 3 }));
        assert_eq!(verify_custody(&records[1..]), Err(CustodyBreak::NotStartedByAdd { seq: 2 }));
        assert_eq!(verify_custody(&[]), Err(CustodyBreak::Empty));
        // Re-chaining an altered record does not help: the next one no longer links to it.
        let mut rechained = records.clone();
        rechained[1].event.action = CustodyAction::Downloaded;
        rechained[1] = next_custody(Some(&rechained[0]), rechained[1].event.clone());
        assert_eq!(verify_custody(&rechained), Err(CustodyBreak::Unlinked { seq: 3 }));
    }
}
