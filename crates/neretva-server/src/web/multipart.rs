//! A streaming reader of `multipart/form-data` request bodies (RFC 7578), for the forms that
//! upload files.
//!
//! The body is read frame by frame and never held whole: a part's bytes are handed on as they
//! arrive (`chunk`), so a file goes to the evidence store while it uploads, and the store's own
//! size limit applies. Everything around the data is bounded: the headers of a part, the number
//! of parts, and the length of each text field (`text`).

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};
use http_body_util::BodyExt;

/// The longest header block of one part.
const MAX_PART_HEADERS: usize = 8 * 1024;
/// The most parts one form may have.
const MAX_PARTS: usize = 32;
/// The longest boundary (RFC 2046 §5.1.1 allows 70 characters).
const MAX_BOUNDARY: usize = 70;

/// Room for a form's other fields and the multipart framing around an uploaded file.
pub(crate) const UPLOAD_OVERHEAD: u64 = 64 * 1024;

/// An uploaded file's name without the directories some browsers send.
pub(crate) fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name).trim()
}

/// Why a form could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum MultipartError {
    #[error("the request is not multipart/form-data with a boundary")]
    NotMultipart,
    #[error("the form ended before its closing boundary")]
    Truncated,
    #[error("a part's headers are longer than {} bytes", MAX_PART_HEADERS)]
    HeadersTooLong,
    #[error("a part has no Content-Disposition: form-data with a name")]
    NoName,
    #[error("the form has more than {} parts", MAX_PARTS)]
    TooManyParts,
    #[error("field {field} is longer than {limit} bytes")]
    FieldTooLong { field: String, limit: usize },
    #[error("field {field} is not UTF-8 text")]
    NotText { field: String },
    #[error("reading the request failed: {0}")]
    Read(String),
}

/// One part's description: its field name, and for a file its name and type as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first boundary: bytes are skipped.
    Preamble,
    /// Just after a boundary: `--` ends the form, CRLF starts a part's headers.
    AfterBoundary,
    Headers,
    Data,
    End,
}

/// A `multipart/form-data` body being read.
pub(crate) struct Multipart {
    body: Body,
    buffer: Vec<u8>,
    /// `CRLF--boundary`: the delimiter before every part and the end.
    delimiter: Vec<u8>,
    state: State,
    parts: usize,
    /// Bytes read from the body so far.
    read: u64,
}

/// The boundary of a `multipart/form-data` content type.
fn boundary(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let mut params = value.split(';');
    if !params.next()?.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let value = value.trim().trim_matches('"');
        (!value.is_empty() && value.len() <= MAX_BOUNDARY && value.is_ascii()).then(|| value.to_owned())
    })
}

/// The position of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut start = 0;
    while let Some(offset) = haystack[start..].iter().position(|byte| *byte == first) {
        let at = start + offset;
        if haystack.len() - at < needle.len() {
            return None;
        }
        if &haystack[at..at + needle.len()] == needle {
            return Some(at);
        }
        start = at + 1;
    }
    None
}

/// A parameter of a `Content-Disposition` value (`name="x"`), unquoted.
fn disposition_param(value: &str, wanted: &str) -> Option<String> {
    // Quoted values may hold `;`: split by hand, honouring quotes.
    let mut rest = value;
    while let Some(position) = rest.find(';') {
        rest = rest[position + 1..].trim_start();
        let (name, after) = rest.split_once('=')?;
        let (found, remainder) = if let Some(quoted) = after.strip_prefix('"') {
            let mut out = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((index, c)) = chars.next() {
                match c {
                    // Only `\"` and `\\` are escapes: browsers send Windows paths unescaped.
                    '\\' if quoted[index + 1..].starts_with(['"', '\\']) => {
                        if let Some((_, escaped)) = chars.next() {
                            out.push(escaped);
                        }
                    }
                    '"' => {
                        end = index + 1;
                        break;
                    }
                    c => out.push(c),
                }
            }
            (out, &quoted[end..])
        } else {
            let end = after.find(';').unwrap_or(after.len());
            (after[..end].trim().to_owned(), &after[end..])
        };
        if name.trim().eq_ignore_ascii_case(wanted) {
            return Some(found);
        }
        rest = remainder;
    }
    None
}

fn parse_headers(block: &[u8]) -> Result<Part, MultipartError> {
    let text = String::from_utf8_lossy(block);
    let mut part = None;
    let mut content_type = None;
    for line in text.split("\r\n") {
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        if name.trim().eq_ignore_ascii_case("content-disposition") {
            let kind = value.split(';').next().unwrap_or_default().trim();
            if !kind.eq_ignore_ascii_case("form-data") {
                return Err(MultipartError::NoName);
            }
            let name = disposition_param(value, "name").ok_or(MultipartError::NoName)?;
            part = Some((name, disposition_param(value, "filename")));
        } else if name.trim().eq_ignore_ascii_case("content-type") {
            content_type = Some(value.to_owned());
        }
    }
    let (name, filename) = part.ok_or(MultipartError::NoName)?;
    Ok(Part { name, filename, content_type })
}

impl Multipart {
    /// A reader of `body`, or `NotMultipart` when the request's content type is not
    /// `multipart/form-data` with a usable boundary.
    pub(crate) fn new(headers: &HeaderMap, body: Body) -> Result<Multipart, MultipartError> {
        let boundary = boundary(headers).ok_or(MultipartError::NotMultipart)?;
        let mut delimiter = b"\r\n--".to_vec();
        delimiter.extend_from_slice(boundary.as_bytes());
        // The first boundary has no CRLF before it: one is put in front, so that every
        // boundary is found the same way.
        Ok(Multipart { body, buffer: b"\r\n".to_vec(), delimiter, state: State::Preamble, parts: 0, read: 0 })
    }

    /// Reads one more frame into the buffer; `false` at the end of the body.
    async fn fill(&mut self) -> Result<bool, MultipartError> {
        loop {
            match self.body.frame().await {
                None => return Ok(false),
                Some(Err(error)) => return Err(MultipartError::Read(error.to_string())),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        if data.is_empty() {
                            continue;
                        }
                        self.read += data.len() as u64;
                        self.buffer.extend_from_slice(&data);
                        return Ok(true);
                    }
                }
            }
        }
    }

    /// The next part, after skipping what is left of the current one; `None` after the last.
    pub(crate) async fn next_part(&mut self) -> Result<Option<Part>, MultipartError> {
        loop {
            match self.state {
                State::End => return Ok(None),
                State::Preamble | State::Data => while self.chunk().await?.is_some() {},
                State::AfterBoundary => {
                    while self.buffer.len() < 2 {
                        if !self.fill().await? {
                            return Err(MultipartError::Truncated);
                        }
                    }
                    if self.buffer.starts_with(b"--") {
                        self.state = State::End;
                        self.buffer.clear();
                        return Ok(None);
                    }
                    // Transport padding (spaces, tabs) may follow a boundary before its CRLF.
                    let padding = self.buffer.iter().take_while(|b| matches!(b, b' ' | b'\t')).count();
                    if padding > 0 && padding == self.buffer.len() {
                        self.buffer.clear();
                        continue;
                    }
                    self.buffer.drain(..padding);
                    if self.buffer.len() < 2 {
                        continue;
                    }
                    if !self.buffer.starts_with(b"\r\n") {
                        return Err(MultipartError::Truncated);
                    }
                    self.buffer.drain(..2);
                    self.state = State::Headers;
                }
                State::Headers => {
                    let end = loop {
                        if let Some(end) = find(&self.buffer, b"\r\n\r\n") {
                            break end;
                        }
                        // A part without headers (an empty line at once).
                        if self.buffer.starts_with(b"\r\n") {
                            break 0;
                        }
                        if self.buffer.len() > MAX_PART_HEADERS {
                            return Err(MultipartError::HeadersTooLong);
                        }
                        if !self.fill().await? {
                            return Err(MultipartError::Truncated);
                        }
                    };
                    if end > MAX_PART_HEADERS {
                        return Err(MultipartError::HeadersTooLong);
                    }
                    let part = parse_headers(&self.buffer[..end])?;
                    let skip = if end == 0 { 2 } else { end + 4 };
                    self.buffer.drain(..skip);
                    self.parts += 1;
                    if self.parts > MAX_PARTS {
                        return Err(MultipartError::TooManyParts);
                    }
                    self.state = State::Data;
                    return Ok(Some(part));
                }
            }
        }
    }

    /// The next bytes of the current part; `None` at its end.
    pub(crate) async fn chunk(&mut self) -> Result<Option<Bytes>, MultipartError> {
        if !matches!(self.state, State::Data | State::Preamble) {
            return Ok(None);
        }
        loop {
            if let Some(at) = find(&self.buffer, &self.delimiter) {
                if at > 0 {
                    return Ok(Some(Bytes::from(self.buffer.drain(..at).collect::<Vec<u8>>())));
                }
                self.buffer.drain(..self.delimiter.len());
                self.state = State::AfterBoundary;
                return Ok(None);
            }
            // Everything but what could be the start of a delimiter is the part's.
            let keep = self.delimiter.len() - 1;
            if self.buffer.len() > keep {
                let take = self.buffer.len() - keep;
                return Ok(Some(Bytes::from(self.buffer.drain(..take).collect::<Vec<u8>>())));
            }
            if !self.fill().await? {
                return Err(MultipartError::Truncated);
            }
        }
    }

    /// The text fields before the part named `file`: each of `fields` (its name and longest
    /// text) that the form has, the others skipped; then the file's part, whose bytes `chunk`
    /// reads next (`None` when the form has none).
    pub(crate) async fn fields_before(
        &mut self,
        fields: &[(&str, usize)],
        file: &str,
    ) -> Result<(std::collections::HashMap<String, String>, Option<Part>), MultipartError> {
        let mut texts = std::collections::HashMap::new();
        while let Some(part) = self.next_part().await? {
            if part.name == file {
                return Ok((texts, Some(part)));
            }
            if let Some((name, limit)) = fields.iter().find(|(name, _)| *name == part.name) {
                texts.insert((*name).to_owned(), self.text(name, *limit).await?);
            }
        }
        Ok((texts, None))
    }

    /// The current part as text of at most `limit` bytes.
    pub(crate) async fn text(&mut self, field: &str, limit: usize) -> Result<String, MultipartError> {
        let mut bytes = Vec::new();
        while let Some(chunk) = self.chunk().await? {
            if bytes.len() + chunk.len() > limit {
                return Err(MultipartError::FieldTooLong { field: field.to_owned(), limit });
            }
            bytes.extend_from_slice(&chunk);
        }
        String::from_utf8(bytes).map_err(|_| MultipartError::NotText { field: field.to_owned() })
    }

    /// Reads the rest of the body, up to `limit` bytes read in all, so that the browser gets the
    /// answer rather than a closed connection; stops quietly at the limit or at an error.
    pub(crate) async fn drain(&mut self, limit: u64) {
        while self.read <= limit {
            self.buffer.clear();
            match self.fill().await {
                Ok(true) => {}
                Ok(false) | Err(_) => break,
            }
        }
        self.state = State::End;
    }
}

/// A request body fed through a channel: a part of a form handed on to a handler that reads a
/// raw body (the evidence upload) while the form is still arriving.
struct ChannelBody(tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>);

impl axum::body::HttpBody for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        context: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        self.0.poll_recv(context).map(|item| item.map(|chunk| chunk.map(http_body::Frame::data)))
    }
}

/// A body and the sender that feeds it; the body ends when the sender is dropped.
pub(crate) fn part_body() -> (tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>, Body) {
    let (sender, receiver) = tokio::sync::mpsc::channel(8);
    (sender, Body::new(ChannelBody(receiver)))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(content_type: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(content_type).expect("a header value"));
        headers
    }

    /// A body delivered in frames of `size` bytes, to cross every boundary at every offset.
    fn body_in_frames(bytes: &[u8], size: usize) -> Body {
        let frames: Vec<Result<Bytes, std::io::Error>> =
            bytes.chunks(size.max(1)).map(|chunk| Ok(Bytes::copy_from_slice(chunk))).collect();
        Body::new(Frames(frames.into_iter()))
    }

    struct Frames(std::vec::IntoIter<Result<Bytes, std::io::Error>>);

    impl axum::body::HttpBody for Frames {
        type Data = Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
            std::task::Poll::Ready(self.0.next().map(|item| item.map(http_body::Frame::data)))
        }
    }

    /// Every part: name, filename, content type and the bytes.
    async fn read_all(
        content_type: &str,
        bytes: &[u8],
        frame: usize,
    ) -> Result<Vec<(Part, Vec<u8>)>, MultipartError> {
        let mut form = Multipart::new(&headers(content_type), body_in_frames(bytes, frame))?;
        let mut parts = Vec::new();
        while let Some(part) = form.next_part().await? {
            let mut data = Vec::new();
            while let Some(chunk) = form.chunk().await? {
                data.extend_from_slice(&chunk);
            }
            parts.push((part, data));
        }
        Ok(parts)
    }

    const FORM: &[u8] = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nabc\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"C:\\dir\\a;b \\\"c\\\".bin\"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n--Xy\r\n-XyZ\x00\xff\r\n--XyZ--\r\nepilogue";

    #[tokio::test]
    async fn parts_are_read_whatever_the_frames() {
        for frame in [1, 2, 3, 7, 16, 1000] {
            let parts = read_all("multipart/form-data; boundary=XyZ", FORM, frame).await;
            let parts = parts.unwrap_or_else(|error| panic!("frame {frame}: {error}"));
            assert_eq!(parts.len(), 2, "frame {frame}");
            assert_eq!(parts[0].0.name, "csrf_token");
            assert_eq!(parts[0].1, b"abc");
            assert_eq!(parts[1].0.filename.as_deref(), Some("C:\\dir\\a;b \"c\".bin"));
            assert_eq!(parts[1].0.content_type.as_deref(), Some("application/octet-stream"));
            assert_eq!(parts[1].1, b"\r\n--Xy\r\n-XyZ\x00\xff", "frame {frame}");
        }
    }

    #[tokio::test]
    async fn broken_forms_are_refused_with_the_reason() {
        let quoted = "multipart/form-data; boundary=\"XyZ\"";
        let cases: [(&str, &[u8], MultipartError); 5] = [
            ("application/x-www-form-urlencoded", b"a=b", MultipartError::NotMultipart),
            (
                quoted,
                b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nabc",
                MultipartError::Truncated,
            ),
            (quoted, b"--XyZ\r\nContent-Type: text/plain\r\n\r\nabc\r\n--XyZ--", MultipartError::NoName),
            (
                quoted,
                b"--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\n\r\n--XyZ--",
                MultipartError::NoName,
            ),
            (quoted, b"--XyZ\r\nX: y", MultipartError::Truncated),
        ];
        for (content_type, body, expected) in cases {
            assert_eq!(read_all(content_type, body, 5).await.err(), Some(expected), "{body:?}");
        }
        let long = format!("--XyZ\r\nX-Long: {}\r\n\r\n", "a".repeat(MAX_PART_HEADERS + 1));
        assert_eq!(read_all(quoted, long.as_bytes(), 1000).await.err(), Some(MultipartError::HeadersTooLong));
        let mut many = String::new();
        for index in 0..=MAX_PARTS {
            many.push_str(&format!(
                "--XyZ\r\nContent-Disposition: form-data; name=\"f{index}\"\r\n\r\nx\r\n"
            ));
        }
        many.push_str("--XyZ--");
        assert_eq!(read_all(quoted, many.as_bytes(), 64).await.err(), Some(MultipartError::TooManyParts));
    }

    #[tokio::test]
    async fn text_fields_are_bounded() {
        let body = b"--b\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n0123456789\r\n--b--";
        let mut form = Multipart::new(&headers("multipart/form-data; boundary=b"), body_in_frames(body, 4))
            .expect("a multipart request");
        assert!(form.next_part().await.is_ok_and(|part| part.is_some()));
        assert_eq!(
            form.text("note", 9).await,
            Err(MultipartError::FieldTooLong { field: "note".into(), limit: 9 })
        );
    }
}
