//! Helpers shared by several parser groups.

pub(crate) mod csv_split;
pub(crate) mod feed_csv;
pub(crate) mod json;
pub(crate) mod ordered_json;
pub(crate) mod pyjson;
pub(crate) mod url;

/// The most bytes the events of one record may repeat between them: the record's text as each
/// event's `raw`, or a list of all its addresses in each event. Within it a parser's events carry
/// what IntelMQ's do; past it a hostile record of many events would take memory in proportion to
/// the square of its size, so the events carry a shorter form (each parser's documentation says
/// which) and the whole record stays in the stored report.
pub(crate) const REPEATED_BYTES: usize = 64 << 20;

/// Whether `copies` copies of `bytes` bytes stay within [`REPEATED_BYTES`].
pub(crate) fn repeatable(copies: usize, bytes: usize) -> bool {
    copies.saturating_mul(bytes) <= REPEATED_BYTES
}

/// The `raw` of each of `copies` events of one record of text `raw`: the record, or its first
/// 4 KiB when the events would repeat it past [`REPEATED_BYTES`].
pub(crate) fn repeated_raw(raw: &str, copies: usize) -> &str {
    if repeatable(copies, raw.len()) { raw } else { crate::truncate(raw, 4096) }
}

#[cfg(test)]
mod tests {
    use super::{REPEATED_BYTES, repeatable, repeated_raw};

    #[test]
    fn a_record_repeats_in_its_events_up_to_the_budget() {
        assert!(repeatable(64, 1 << 20));
        assert!(!repeatable(65, 1 << 20));
        assert!(!repeatable(usize::MAX, 2), "no overflow");
        let record = "é".repeat(50_000);
        assert_eq!(repeated_raw(&record, 10), record);
        let cut = repeated_raw(&record, REPEATED_BYTES);
        assert!(cut.len() <= 4096 && record.starts_with(cut), "the first 4 KiB, at a character");
    }
}
