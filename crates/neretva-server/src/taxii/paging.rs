//! Stateless `next` tokens: the position after the last object of a page, bound to its
//! collection and to the filters of the request, signed with HMAC-SHA-256 under the key the
//! store keeps (so every server sharing the database accepts every other's tokens).
//!
//! A token is base64url of: a version byte, the collection id (16 bytes), `date_added` and
//! `row` of the position (8 bytes each, big-endian), the first 8 bytes of the SHA-256 of the
//! request's filters, and the first 16 bytes of the HMAC of all that. A token that was altered,
//! belongs to another collection or comes with other filters is refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use neretva_model::Uuid;
use neretva_store::taxii::Cursor;
use sha2::{Digest, Sha256};

const VERSION: u8 = 1;
const BODY: usize = 1 + 16 + 8 + 8 + 8;
const MAC: usize = 16;

/// HMAC-SHA-256 (RFC 2104).
fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let inner_key: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
    let outer_key: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new().chain_update(&inner_key).chain_update(message).finalize();
    Sha256::new().chain_update(&outer_key).chain_update(inner).finalize().into()
}

/// The fingerprint of a request's filters: every filter but `limit` and `next`.
pub fn filter_hash(parts: &[&str]) -> [u8; 8] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    let digest = hasher.finalize();
    let mut out = [0u8; 8];
    out.copy_from_slice(&digest[..8]);
    out
}

/// Writes a token.
pub fn encode(key: &[u8], collection: Uuid, cursor: Cursor, filters: [u8; 8]) -> String {
    let mut bytes = Vec::with_capacity(BODY + MAC);
    bytes.push(VERSION);
    bytes.extend_from_slice(collection.as_bytes());
    bytes.extend_from_slice(&cursor.date_added.to_be_bytes());
    bytes.extend_from_slice(&cursor.row.to_be_bytes());
    bytes.extend_from_slice(&filters);
    let mac = hmac(key, &bytes);
    bytes.extend_from_slice(&mac[..MAC]);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token of this server, or altered.
    Invalid,
    /// A token of another collection.
    OtherCollection,
    /// The filters differ from those of the request that made the token.
    FiltersChanged,
}

impl TokenError {
    pub fn describe(self) -> &'static str {
        match self {
            TokenError::Invalid => "the next token is not valid",
            TokenError::OtherCollection => "the next token belongs to another collection",
            TokenError::FiltersChanged => {
                "the filters differ from those of the request that gave this next token"
            }
        }
    }
}

/// Reads a token, checking its signature, collection and filters.
pub fn decode(key: &[u8], text: &str, collection: Uuid, filters: [u8; 8]) -> Result<Cursor, TokenError> {
    if text.len() > 200 {
        return Err(TokenError::Invalid);
    }
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| TokenError::Invalid)?;
    if bytes.len() != BODY + MAC || bytes[0] != VERSION {
        return Err(TokenError::Invalid);
    }
    let (body, mac) = bytes.split_at(BODY);
    let expected = hmac(key, body);
    let differs = mac.iter().zip(&expected[..MAC]).fold(0u8, |acc, (a, b)| acc | (a ^ b));
    if differs != 0 {
        return Err(TokenError::Invalid);
    }
    let id = Uuid::from_slice(&body[1..17]).map_err(|_| TokenError::Invalid)?;
    if id != collection {
        return Err(TokenError::OtherCollection);
    }
    let number = |range: std::ops::Range<usize>| {
        let mut out = [0u8; 8];
        out.copy_from_slice(&body[range]);
        i64::from_be_bytes(out)
    };
    if body[33..41] != filters {
        return Err(TokenError::FiltersChanged);
    }
    Ok(Cursor { date_added: number(17..25), row: number(25..33) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex::encode(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn tokens_round_trip_and_refuse_changes() {
        let key = b"0123456789abcdef0123456789abcdef";
        let collection = Uuid::from_u128(7);
        let filters = filter_hash(&["objects", "", "indicator"]);
        let cursor = Cursor { date_added: 1_735_689_600_000_123, row: 42 };
        let token = encode(key, collection, cursor, filters);
        assert_eq!(decode(key, &token, collection, filters), Ok(cursor));
        assert_eq!(decode(key, &token, Uuid::from_u128(8), filters), Err(TokenError::OtherCollection));
        let other = filter_hash(&["objects", "", "malware"]);
        assert_eq!(decode(key, &token, collection, other), Err(TokenError::FiltersChanged));
        assert_eq!(decode(b"another key", &token, collection, filters), Err(TokenError::Invalid));
        // Every single-character change is refused.
        for at in 0..token.len() {
            let mut altered = token.clone().into_bytes();
            altered[at] = if altered[at] == b'A' { b'B' } else { b'A' };
            let altered = String::from_utf8(altered).unwrap();
            if altered != token {
                assert!(decode(key, &altered, collection, filters).is_err(), "position {at}");
            }
        }
        assert_eq!(decode(key, "", collection, filters), Err(TokenError::Invalid));
        assert_eq!(decode(key, "not base64!", collection, filters), Err(TokenError::Invalid));
    }

    #[test]
    fn filter_hashes_keep_parts_apart() {
        assert_ne!(filter_hash(&["ab", "c"]), filter_hash(&["a", "bc"]));
    }
}
