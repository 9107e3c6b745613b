//! What more than one test of this crate reads.

/// Decodes the escapes of `test_data/sanitize_cases.txt`: `\t`, `\n`, `\\` and `\u{..}`.
pub(crate) fn decode_escapes(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            Some('u') => {
                assert_eq!(chars.next(), Some('{'));
                let hex: String = chars.by_ref().take_while(|c| *c != '}').collect();
                let code = u32::from_str_radix(&hex, 16).expect("hex escape");
                out.push(char::from_u32(code).expect("char"));
            }
            other => panic!("unknown escape \\{other:?}"),
        }
    }
    out
}
