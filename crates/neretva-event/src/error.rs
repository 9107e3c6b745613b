//! The error of a rejected field value.

/// The longest value text kept in a [`ValueError`], in characters.
pub const MAX_ERROR_VALUE_CHARS: usize = 200;

/// A field value that was rejected, or a field name that does not exist.
///
/// Displays as `source.ip: "300.1.1.1" is not an IP address`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {value:?} {reason}")]
pub struct ValueError {
    /// The field name as given, e.g. `source.ip` or `extra.foo`.
    pub field: String,
    /// The rejected value as text, truncated to 200 characters.
    pub value: String,
    /// Why it was rejected, lower case, e.g. `is not an IP address`.
    pub reason: String,
}

impl ValueError {
    /// Makes an error, truncating the value text.
    pub fn new(field: impl Into<String>, value: &str, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            value: truncate_chars(value, MAX_ERROR_VALUE_CHARS),
            reason: reason.into(),
        }
    }

    /// The message without the field's name, for an error that names the field (or the column
    /// or member it came from) apart: `"300.1.1.1" is not an IP address`.
    pub fn value_and_reason(&self) -> String {
        format!("{:?} {}", self.value, self.reason)
    }
}

/// The first `max` characters of `text`.
pub(crate) fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => text[..end].to_owned(),
        None => text.to_owned(),
    }
}
