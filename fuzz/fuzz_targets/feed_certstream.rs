//! The `certstream` feed parser on arbitrary bytes (see `neretva_fuzz::feed_parser`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| neretva_fuzz::feed_parser("certstream", data));
