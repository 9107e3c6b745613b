//! Just enough MIME reading to take a received message apart exactly as a mail client would.

use base64::Engine as _;

/// Header fields (unfolded) and body of an entity.
pub(crate) fn split(entity: &[u8]) -> (Vec<(String, String)>, &[u8]) {
    let end = entity.windows(4).position(|w| w == b"\r\n\r\n").expect("an empty line after the header");
    let head = std::str::from_utf8(&entity[..end]).unwrap().replace("\r\n ", " ").replace("\r\n\t", " ");
    let headers = head
        .split("\r\n")
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap();
            (name.to_owned(), value.trim().to_owned())
        })
        .collect();
    (headers, &entity[end + 4..])
}

pub(crate) fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).unwrap_or("")
}

pub(crate) fn boundary(content_type: &str) -> String {
    let at = content_type.find("boundary=\"").unwrap() + "boundary=\"".len();
    content_type[at..].split('"').next().unwrap().to_owned()
}

/// The parts of a multipart body as delimited (the CRLF before a delimiter belongs to it).
pub(crate) fn parts<'a>(body: &'a [u8], boundary: &str) -> Vec<&'a [u8]> {
    let opening = format!("--{boundary}\r\n");
    let delimiter = format!("\r\n--{boundary}");
    let find = |haystack: &[u8], needle: &[u8]| haystack.windows(needle.len()).position(|w| w == needle);
    let start = find(body, opening.as_bytes()).unwrap() + opening.len();
    let mut rest = &body[start..];
    let mut found = Vec::new();
    loop {
        let at = find(rest, delimiter.as_bytes()).unwrap();
        found.push(&rest[..at]);
        rest = &rest[at + delimiter.len()..];
        if rest.starts_with(b"--") {
            return found;
        }
        rest = &rest[2..];
    }
}

pub(crate) fn base64(text: &[u8]) -> Vec<u8> {
    let clean: Vec<u8> = text.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(clean).unwrap()
}

/// The message's own top-level entity: its Content-* fields and body.
pub(crate) fn top_entity(raw: &[u8]) -> Vec<u8> {
    let (headers, body) = split(raw);
    let mut entity = Vec::new();
    for (name, value) in headers.iter().filter(|(n, _)| n.to_ascii_lowercase().starts_with("content-")) {
        entity.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    entity.extend_from_slice(b"\r\n");
    entity.extend_from_slice(body);
    entity
}
