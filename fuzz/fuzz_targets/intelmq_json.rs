//! IntelMQ JSON lines: reading arbitrary text never panics, and what is read writes back and
//! reads again to the same event.

#![no_main]

use libfuzzer_sys::fuzz_target;
use neretva_event::intelmq_json::{from_line, read_lines, to_line};

fuzz_target!(|data: &[u8]| {
    let _ = read_lines(data);
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(event) = from_line(text) {
            let line = to_line(&event);
            let again = from_line(&line).expect("a written line reads back");
            assert_eq!(to_line(&again), line);
        }
    }
});
