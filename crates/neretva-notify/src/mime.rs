//! MIME entities as bytes: text parts in quoted-printable, attachments in base64, multiparts,
//! header fields with RFC 2047 encoded words, and the RFC 5322 message around them.
//!
//! Everything written here is 7-bit with CRLF line endings and lines of at most 76 characters,
//! so the bytes signed are the bytes a receiving agent sees (RFC 3156, section 3): no relay has
//! a reason to re-encode them. Quoted-printable also encodes trailing white space, a leading
//! `From ` and a leading `.`, which some agents change.

use base64::Engine as _;

/// One MIME entity: header fields and a body, both already encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Entity {
    /// The entity as bytes: each header field, an empty line, the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 256);
        for (name, value) in &self.headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

/// A `text/plain; charset=utf-8` part in quoted-printable.
pub fn text_part(text: &str) -> Entity {
    Entity {
        headers: vec![
            ("Content-Type".into(), "text/plain; charset=utf-8".into()),
            ("Content-Transfer-Encoding".into(), "quoted-printable".into()),
        ],
        body: quoted_printable(text).into_bytes(),
    }
}

/// An attachment in base64; `file_name` must be plain ASCII without quotes (the caller names
/// attachments, never the data).
pub fn attachment(file_name: &str, content_type: &str, data: &[u8]) -> Entity {
    let name: String =
        file_name.chars().filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\').collect();
    Entity {
        headers: vec![
            ("Content-Type".into(), format!("{content_type}; name=\"{name}\"")),
            ("Content-Disposition".into(), format!("attachment; filename=\"{name}\"")),
            ("Content-Transfer-Encoding".into(), "base64".into()),
        ],
        body: base64_lines(data).into_bytes(),
    }
}

/// A multipart entity of `content_type` (e.g. `multipart/mixed`, with any parameters after a
/// `;`) holding `parts`, separated by `boundary`.
pub fn multipart(content_type: &str, boundary: &str, parts: &[Entity]) -> Entity {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(b"--");
        body.extend_from_slice(boundary.as_bytes());
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(&part.to_bytes());
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--");
    body.extend_from_slice(boundary.as_bytes());
    body.extend_from_slice(b"--\r\n");
    let (kind, params) = match content_type.split_once(';') {
        Some((kind, params)) => (kind.trim(), format!(";{params}")),
        None => (content_type, String::new()),
    };
    Entity {
        headers: vec![("Content-Type".into(), format!("{kind}; boundary=\"{boundary}\"{params}"))],
        body,
    }
}

/// Quoted-printable (RFC 2045, section 6.7) of UTF-8 text with CRLF line breaks. Input line
/// breaks (LF or CRLF) become CRLF; a lone CR is encoded.
pub fn quoted_printable(text: &str) -> String {
    const MAX: usize = 76;
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let normalised = text.replace("\r\n", "\n");
    let lines: Vec<&str> = normalised.split('\n').collect();
    for (index, line) in lines.iter().enumerate() {
        let bytes = line.as_bytes();
        let mut width = 0;
        for (at, &byte) in bytes.iter().enumerate() {
            let last = at + 1 == bytes.len();
            let encode = match byte {
                b'=' => true,
                b' ' | b'\t' => last,
                b'F' => at == 0 && line.starts_with("From "),
                b'.' => at == 0,
                33..=126 => false,
                _ => true,
            };
            let piece_len = if encode { 3 } else { 1 };
            // Keep room for a soft line break's `=` unless this is the line's last piece.
            let limit = if last { MAX } else { MAX - 1 };
            if width + piece_len > limit {
                out.push_str("=\r\n");
                width = 0;
            }
            if encode {
                out.push('=');
                out.push(char::from(b"0123456789ABCDEF"[usize::from(byte >> 4)]));
                out.push(char::from(b"0123456789ABCDEF"[usize::from(byte & 15)]));
            } else {
                out.push(char::from(byte));
            }
            width += piece_len;
        }
        if index + 1 < lines.len() {
            out.push_str("\r\n");
        }
    }
    out
}

/// Base64 in lines of 76 characters, each ending in CRLF.
pub fn base64_lines(data: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(data);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 38 + 2);
    for chunk in encoded.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push_str("\r\n");
    }
    out
}

/// Makes text fit one header line: control characters (line breaks included) become spaces and
/// runs of white space one space.
pub fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// An unstructured header value (such as `Subject`): as it is when it is printable ASCII,
/// otherwise as RFC 2047 encoded words (UTF-8, base64), folded so no line exceeds 76
/// characters. `start` is how many characters of the line the field name takes.
pub fn encode_header_text(text: &str, start: usize) -> String {
    let text = one_line(text);
    let plain = text.bytes().all(|b| (32..127).contains(&b)) && !text.contains("=?");
    if plain {
        return fold_words(&text, start);
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(encoded_word(&chunk));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(encoded_word(&chunk));
    }
    // Encoded words separated by folding white space join without a space when decoded.
    words.join("\r\n ")
}

fn encoded_word(text: &str) -> String {
    format!("=?UTF-8?B?{}?=", base64::engine::general_purpose::STANDARD.encode(text.as_bytes()))
}

/// Folds plain text at spaces so lines stay within 76 characters where words allow.
fn fold_words(text: &str, start: usize) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut width = start;
    for (index, word) in text.split(' ').enumerate() {
        if index > 0 {
            if width + 1 + word.len() > 76 {
                out.push_str("\r\n ");
                width = 1;
            } else {
                out.push(' ');
                width += 1;
            }
        }
        out.push_str(word);
        width += word.len();
    }
    out
}

/// A mailbox: an optional display name and an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: String,
}

impl Mailbox {
    /// The mailbox as a header value: `"Name" <address>` or `=?UTF-8?B?...?= <address>`.
    pub fn header(&self) -> String {
        let address: String =
            self.address.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect();
        match self.name.as_deref().map(one_line).filter(|n| !n.is_empty()) {
            None => format!("<{address}>"),
            Some(name) if name.bytes().all(|b| (32..127).contains(&b)) && !name.contains("=?") => {
                format!("\"{}\" <{address}>", name.replace('\\', "\\\\").replace('"', "\\\""))
            }
            Some(name) => format!("{} <{address}>", encode_header_text(&name, 0)),
        }
    }

    /// The domain of the address (after the last `@`).
    pub fn domain(&self) -> &str {
        self.address.rsplit_once('@').map_or("localhost", |(_, domain)| domain)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Decodes quoted-printable as a receiving agent does.
    fn decode_qp(text: &str) -> String {
        let joined = text.replace("=\r\n", "");
        let mut out = Vec::new();
        let bytes = joined.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            if bytes[at] == b'=' {
                out.push(u8::from_str_radix(&joined[at + 1..at + 3], 16).unwrap());
                at += 3;
            } else {
                out.push(bytes[at]);
                at += 1;
            }
        }
        String::from_utf8(out).unwrap().replace("\r\n", "\n")
    }

    #[test]
    fn quoted_printable_examples() {
        assert_eq!(
            quoted_printable("a=b \nFrom here\n.\nčćž"),
            "a=3Db=20\r\n=46rom here\r\n=2E\r\n=C4=8D=C4=87=C5=BE"
        );
        assert_eq!(quoted_printable("Fromage"), "Fromage");
        let long = "x".repeat(200);
        let encoded = quoted_printable(&long);
        assert!(encoded.split("\r\n").all(|line| line.len() <= 76), "{encoded}");
        assert_eq!(decode_qp(&encoded), long);
    }

    #[test]
    fn header_encoding() {
        assert_eq!(encode_header_text("[TLP:AMBER] CERT: events (3)", 9), "[TLP:AMBER] CERT: events (3)");
        assert_eq!(encode_header_text("a\r\nBcc: x@example.ba", 9), "a Bcc: x@example.ba");
        let encoded = encode_header_text("Безбедносни догађаји који се односе на организацију", 9);
        assert!(encoded.starts_with("=?UTF-8?B?"));
        assert!(encoded.split("\r\n").all(|line| line.len() <= 76), "{encoded}");
        let mailbox = Mailbox { name: Some("Šef \"IT\"".into()), address: "it@example.ba".into() };
        assert!(mailbox.header().starts_with("=?UTF-8?B?"));
        let mailbox = Mailbox { name: Some("CERT \"BiH\"".into()), address: "cert@example.ba".into() };
        assert_eq!(mailbox.header(), "\"CERT \\\"BiH\\\"\" <cert@example.ba>");
        assert_eq!(mailbox.domain(), "example.ba");
    }

    #[test]
    fn multipart_layout() {
        let entity = multipart(
            "multipart/signed; protocol=\"application/pgp-signature\"",
            "b1",
            &[text_part("hi"), attachment("a\".csv", "text/csv", b"x")],
        );
        let text = String::from_utf8(entity.to_bytes()).unwrap();
        expect_test::expect![[r#"
            Content-Type: multipart/signed; boundary="b1"; protocol="application/pgp-signature"

            --b1
            Content-Type: text/plain; charset=utf-8
            Content-Transfer-Encoding: quoted-printable

            hi
            --b1
            Content-Type: text/csv; name="a.csv"
            Content-Disposition: attachment; filename="a.csv"
            Content-Transfer-Encoding: base64

            eA==

            --b1--
        "#]]
        .assert_eq(&text.replace("\r\n", "\n"));
        assert!(!text.replace("\r\n", "").contains('\n'), "only CRLF line endings");
    }

    proptest! {
        #[test]
        fn quoted_printable_round_trips(text in "\\PC{0,300}(\n\\PC{0,100}){0,3}") {
            let encoded = quoted_printable(&text);
            prop_assert!(encoded.bytes().all(|b| b == b'\r' || b == b'\n' || (32..127).contains(&b)));
            prop_assert!(encoded.split("\r\n").all(|line| line.len() <= 76));
            prop_assert!(encoded.split("\r\n").all(|line| !line.ends_with(' ') && !line.ends_with('\t')));
            prop_assert_eq!(decode_qp(&encoded), text.replace("\r\n", "\n"));
        }
    }
}
