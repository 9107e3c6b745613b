//! Every feed parser on arbitrary bytes: the first byte picks the parser, the rest goes to it as
//! to its own target (`feed_<parser>`, see `neretva_fuzz::feed_parser`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((selector, body)) = data.split_first() else { return };
    let names = neretva_fuzz::parser_names();
    if let Some(name) = names.get(usize::from(*selector) % names.len().max(1)) {
        neretva_fuzz::feed_parser(name, body);
    }
});
