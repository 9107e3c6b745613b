//! A fast, deterministic hasher for the lookup tables.
//!
//! Keys come from the CERT's own constituency data, not from attackers, so
//! resistance to hash flooding is not needed; an attacker who controls only
//! the looked-up names cannot lengthen the probe sequences of keys already
//! stored.

use std::hash::{BuildHasherDefault, Hasher};

/// The `HashMap` hasher of the tables.
pub(crate) type BuildFxHasher = BuildHasherDefault<FxHasher>;

/// The multiply-rotate hash used by rustc (FxHash), reading eight bytes at a
/// time.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    /// Moves the well-mixed high bits of the product down to where
    /// `HashMap` takes its bucket index from, as rustc-hash 2 does.
    #[inline]
    fn finish(&self) -> u64 {
        self.hash.rotate_left(26)
    }
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use super::*;

    #[test]
    fn distinguishes_trailing_bytes() {
        let build = BuildFxHasher::default();
        let hashes: Vec<u64> = ["", "a", "a\0", "ab", "example.ba", "example.bb", "12345678a"]
            .iter()
            .map(|s| build.hash_one(s))
            .collect();
        let mut unique = hashes.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), hashes.len());
    }
}
