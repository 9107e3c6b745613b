//! The text of a field value, kept without a heap allocation where it can be.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// Texts up to this many bytes are kept inline.
const INLINE: usize = 30;

/// The text of a [`crate::Value`] or an `extra.*` member's name.
///
/// Most texts of a feed event are short (protocols, country and city names, host names,
/// taxonomy names), so a text of up to 30 bytes is kept inside the value itself, a text from a
/// static table (taxonomy and type names, registries, TLP labels) by reference, and only longer
/// texts on the heap: parsing an event then allocates for its field list and its raw line, not
/// for each field. It dereferences to `str` and compares, orders and hashes as its text.
#[derive(Clone)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, bytes: [u8; INLINE] },
    Static(&'static str),
    Heap(Box<str>),
}

impl Text {
    /// A text, inline when it is short.
    pub fn new(text: &str) -> Text {
        match u8::try_from(text.len()) {
            Ok(len) if usize::from(len) <= INLINE => {
                let mut bytes = [0u8; INLINE];
                bytes[..text.len()].copy_from_slice(text.as_bytes());
                Text(Repr::Inline { len, bytes })
            }
            _ => Text(Repr::Heap(text.into())),
        }
    }

    /// The text with ASCII letters in lower case (`upper` false) or upper case, without a heap
    /// allocation when it is short.
    pub fn ascii_case(text: &str, upper: bool) -> Text {
        let mut converted = Text::new(text);
        match &mut converted.0 {
            Repr::Inline { len, bytes } => {
                let bytes = &mut bytes[..usize::from(*len)];
                if upper { bytes.make_ascii_uppercase() } else { bytes.make_ascii_lowercase() }
            }
            Repr::Heap(heap) => {
                if upper {
                    heap.make_ascii_uppercase()
                } else {
                    heap.make_ascii_lowercase()
                }
            }
            Repr::Static(_) => {}
        }
        converted
    }

    /// A text from a static table, kept by reference.
    pub const fn from_static(text: &'static str) -> Text {
        Text(Repr::Static(text))
    }

    /// The text.
    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Inline bytes are always a whole `str` copied in `new`, so this never falls back.
            Repr::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            Repr::Static(text) => text,
            Repr::Heap(text) => text,
        }
    }

    /// The text's bytes, without the UTF-8 check [`Text::as_str`] makes of an inline text:
    /// comparing and hashing need only these.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Repr::Static(text) => text.as_bytes(),
            Repr::Heap(text) => text.as_bytes(),
        }
    }

    /// The text as an owned `String`.
    pub fn into_string(self) -> String {
        match self.0 {
            Repr::Heap(text) => text.into_string(),
            _ => self.as_str().to_owned(),
        }
    }
}

impl Default for Text {
    fn default() -> Self {
        Text::from_static("")
    }
}

impl Deref for Text {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> std::cmp::Ordering {
        // Strings order as their bytes.
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Text {
        Text::new(text)
    }
}

impl From<&String> for Text {
    fn from(text: &String) -> Text {
        Text::new(text)
    }
}

impl From<String> for Text {
    fn from(text: String) -> Text {
        if text.len() <= INLINE { Text::new(&text) } else { Text(Repr::Heap(text.into_boxed_str())) }
    }
}

impl From<Box<str>> for Text {
    fn from(text: Box<str>) -> Text {
        if text.len() <= INLINE { Text::new(&text) } else { Text(Repr::Heap(text)) }
    }
}

impl From<Text> for String {
    fn from(text: Text) -> String {
        text.into_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_reads_back_and_compares_as_its_text() {
        let long = "a host name that is longer than thirty bytes.example";
        for text in ["", "udp", "ž-đ", "189-1-227-254.dyn.example.at", "exactly-thirty-bytes-long.abcd", long]
        {
            let forms = [Text::new(text), Text::from(text.to_owned()), Text::from(Box::<str>::from(text))];
            for form in &forms {
                assert_eq!(form.as_str(), text);
                assert_eq!(form, &Text::new(text));
                assert_eq!(form.to_string(), text);
                assert_eq!(form.clone().into_string(), text);
            }
        }
        assert_eq!(Text::from_static("vulnerable"), Text::new("vulnerable"));
        assert_eq!(Text::ascii_case("Wien-ŽČ", true), "WIEN-ŽČ");
        assert_eq!(Text::ascii_case(long, true), long.to_ascii_uppercase().as_str());
        assert_eq!(Text::ascii_case("UDP", false), "udp");
        assert!(Text::new("a") < Text::new(long));
        assert!(std::mem::size_of::<Text>() <= 32);
    }
}
