//! The audit log: an append-only, hash-chained record of every change and every export.
//!
//! Each entry's hash covers its own fields and the previous entry's hash, so altering,
//! inserting or removing an entry breaks the chain from that point on. The store also keeps the
//! newest sequence number and hash in a separate head record, so removing the newest entries is
//! detected too.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::Timestamp;

/// The hash before the first entry.
pub const GENESIS: [u8; 32] = [0; 32];

/// What is recorded, before it is chained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    /// Who: `user:<username>`, `token:<id>`, `cli:<os user>` or `system`.
    pub actor: String,
    /// What: a dotted verb such as `org.create`, `token.revoke`, `org.export`.
    pub action: String,
    /// The kind of object, e.g. `organisation`.
    pub object_type: String,
    /// The object's id, or a description for bulk operations.
    pub object_id: String,
    /// SHA-256 (hex) of the object's state after the change, or of the exported bytes.
    pub digest: String,
}

/// A chained entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: Timestamp,
    #[serde(flatten)]
    pub event: AuditEvent,
    /// Hex of the previous entry's hash.
    pub prev_hash: String,
    /// Hex of this entry's hash.
    pub hash: String,
}

/// SHA-256 of arbitrary bytes, as lower-case hex.
pub fn digest_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// SHA-256 of a value's JSON form, as lower-case hex.
pub fn digest_json<T: Serialize>(value: &T) -> String {
    // Serialising plain data structures to a Vec cannot fail.
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    digest_hex(&bytes)
}

/// Computes the hash of an entry from its fields and its predecessor's hash.
pub fn chain_hash(seq: i64, at: Timestamp, event: &AuditEvent, prev_hash: &str) -> String {
    let mut hasher = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    };
    field(&seq.to_be_bytes());
    field(&at.unix_timestamp_nanos().to_be_bytes());
    field(event.actor.as_bytes());
    field(event.action.as_bytes());
    field(event.object_type.as_bytes());
    field(event.object_id.as_bytes());
    field(event.digest.as_bytes());
    field(prev_hash.as_bytes());
    hex::encode(hasher.finalize())
}

/// Builds the entry that follows `prev` (or starts the chain).
pub fn next_entry(prev: Option<(i64, &str)>, at: Timestamp, event: AuditEvent) -> AuditEntry {
    let genesis = hex::encode(GENESIS);
    let (seq, prev_hash) = match prev {
        Some((seq, hash)) => (seq + 1, hash.to_owned()),
        None => (1, genesis),
    };
    // Stored timestamps keep microseconds; hash what will be read back.
    let at = at.replace_nanosecond(at.nanosecond() / 1000 * 1000).unwrap_or(at);
    let hash = chain_hash(seq, at, &event, &prev_hash);
    AuditEntry { seq, at, event, prev_hash, hash }
}

/// The first problem found in a chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("entry {seq} was altered: its stored hash does not match its contents")]
    Altered { seq: i64 },
    #[error("entry {seq} does not follow entry {prev}: entries {} to {} were removed", prev + 1, seq - 1)]
    Gap { prev: i64, seq: i64 },
    #[error("entry {seq} does not link to its predecessor: an entry before it was altered or replaced")]
    Unlinked { seq: i64 },
    #[error("the log ends at entry {last} but the head records entry {head}: newer entries were removed")]
    Truncated { last: i64, head: i64 },
}

/// Verifies a chain incrementally, entry by entry, in sequence order.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    last_seq: i64,
    last_hash: String,
    checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> ChainVerifier {
        ChainVerifier { last_seq: 0, last_hash: hex::encode(GENESIS), checked: 0 }
    }
}

impl ChainVerifier {
    /// Checks the next entry; the first error is the first place the log was tampered with.
    pub fn push(&mut self, entry: &AuditEntry) -> Result<(), ChainBreak> {
        if entry.seq != self.last_seq + 1 {
            return Err(ChainBreak::Gap { prev: self.last_seq, seq: entry.seq });
        }
        if chain_hash(entry.seq, entry.at, &entry.event, &entry.prev_hash) != entry.hash {
            return Err(ChainBreak::Altered { seq: entry.seq });
        }
        if entry.prev_hash != self.last_hash {
            return Err(ChainBreak::Unlinked { seq: entry.seq });
        }
        self.last_seq = entry.seq;
        self.last_hash.clone_from(&entry.hash);
        self.checked += 1;
        Ok(())
    }

    /// Checks the end of the log against the head record `(seq, hash)`.
    pub fn finish(&self, head: Option<(i64, &str)>) -> Result<u64, ChainBreak> {
        match head {
            Some((head_seq, _)) if head_seq > self.last_seq => {
                Err(ChainBreak::Truncated { last: self.last_seq, head: head_seq })
            }
            Some((head_seq, head_hash)) if head_seq == self.last_seq && head_hash != self.last_hash => {
                Err(ChainBreak::Altered { seq: head_seq })
            }
            _ => Ok(self.checked),
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn event(n: u32) -> AuditEvent {
        AuditEvent {
            actor: "user:admin".into(),
            action: "org.create".into(),
            object_type: "organisation".into(),
            object_id: format!("org-{n}"),
            digest: digest_hex(&n.to_be_bytes()),
        }
    }

    fn chain(n: u32) -> Vec<AuditEntry> {
        let mut entries: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let prev = entries.last().map(|e| (e.seq, e.hash.as_str()));
            entries.push(next_entry(prev, datetime!(2026-11-28 12:00:00.123456789 UTC), event(i)));
        }
        entries
    }

    fn verify(entries: &[AuditEntry], head: Option<(i64, &str)>) -> Result<u64, ChainBreak> {
        let mut verifier = ChainVerifier::default();
        for entry in entries {
            verifier.push(entry)?;
        }
        verifier.finish(head)
    }

    #[test]
    fn intact_chain_verifies() {
        let entries = chain(5);
        let head = entries.last().map(|e| (e.seq, e.hash.as_str()));
        assert_eq!(verify(&entries, head), Ok(5));
        assert_eq!(entries[0].at.nanosecond(), 123_456_000, "kept to microseconds");
    }

    #[test]
    fn tampering_is_located() {
        let entries = chain(5);
        let head = entries.last().map(|e| (e.seq, e.hash.clone())).unwrap();
        let head = Some((head.0, head.1.as_str()));

        let mut altered = entries.clone();
        altered[2].event.actor = "user:mallory".into();
        assert_eq!(verify(&altered, head), Err(ChainBreak::Altered { seq: 3 }));

        let mut removed = entries.clone();
        removed.remove(1);
        assert_eq!(verify(&removed, head), Err(ChainBreak::Gap { prev: 1, seq: 3 }));

        let truncated = &entries[..3];
        assert_eq!(verify(truncated, head), Err(ChainBreak::Truncated { last: 3, head: 5 }));

        // Rewriting an entry and its own hash still breaks the link to the next one.
        let mut rehashed = entries.clone();
        rehashed[1].event.object_id = "forged".into();
        rehashed[1].hash = chain_hash(2, rehashed[1].at, &rehashed[1].event, &rehashed[1].prev_hash);
        assert_eq!(verify(&rehashed, head), Err(ChainBreak::Unlinked { seq: 3 }));
    }
}
