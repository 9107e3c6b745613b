//! Certificates of completion and their verification codes.
//!
//! A code is 100 random bits written as 20 characters of Crockford's base 32 in groups of
//! five (`7KD2M-Q9XTB-4HZ0R-W1NCE`): unguessable, easy to type, and read back leniently
//! (lower case, `O` for `0`, `I` and `L` for `1`, without dashes). A certificate is public by
//! design: anyone holding the code may check it, and learns only the holder's name, the course
//! and the date.

use neretva_model::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::course::Texts;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A certificate as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    pub code: String,
    pub enrolment_id: Uuid,
    pub user_id: Uuid,
    /// The holder's name as it was when the certificate was issued.
    pub holder: String,
    pub course_code: String,
    pub course_version: u32,
    pub course_title: Texts,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: Timestamp,
}

/// A code from 100 random bits (the first 13 bytes' bits, from the operating system's source).
pub fn new_code(random: [u8; 13]) -> String {
    let mut bits: u128 = 0;
    for byte in random {
        bits = (bits << 8) | u128::from(byte);
    }
    bits >>= 4; // 104 bits read, 100 used
    let mut out = String::with_capacity(23);
    for index in 0..20 {
        if index > 0 && index % 5 == 0 {
            out.push('-');
        }
        let shift = 95 - 5 * index;
        out.push(char::from(ALPHABET[((bits >> shift) & 31) as usize]));
    }
    out
}

/// The canonical form of a code as typed, or `None` when it cannot be one.
pub fn normalise_code(input: &str) -> Option<String> {
    let mut symbols = String::with_capacity(20);
    for c in input.chars().filter(|c| *c != '-' && !c.is_whitespace()) {
        let c = match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        };
        if !ALPHABET.contains(&u8::try_from(c).ok()?) {
            return None;
        }
        symbols.push(c);
        if symbols.len() > 20 {
            return None;
        }
    }
    if symbols.len() != 20 {
        return None;
    }
    let groups: Vec<&str> = (0..4).map(|group| &symbols[group * 5..group * 5 + 5]).collect();
    Some(groups.join("-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back_leniently() {
        let code = new_code([0xff; 13]);
        assert_eq!(code, "ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ");
        assert_eq!(new_code([0; 13]), "00000-00000-00000-00000");
        let code = new_code([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
        assert_eq!(code, "04106-1050R-3GG28-A1C60");
        assert_eq!(normalise_code(&code.to_lowercase().replace('-', "")), Some(code.clone()));
        assert_eq!(normalise_code("o4lO6 1o5oR-3gg28-alc6o"), Some(code));
        assert_eq!(normalise_code("04106-1050R-3GG2-A1C60"), None);
        assert_eq!(normalise_code("04106-1050R-3GG2U-A1C60"), None);
        assert_eq!(normalise_code("04106-1050R-3GG28-A1C60-1"), None);
    }

    #[test]
    fn different_bits_make_different_codes() {
        let mut seen = std::collections::HashSet::new();
        for byte in 0..13 {
            for bit in 0..8 {
                let mut random = [0u8; 13];
                random[byte] = 1 << bit;
                seen.insert(new_code(random));
            }
        }
        // The last four of the 104 bits are not used.
        assert_eq!(seen.len(), 101);
    }
}
