//! Decompression with limits: gzip, bzip2 and zip, detected by their magic bytes or their
//! file name's extension, and tar archives (also inside gzip or bzip2, as `.tar.gz`), detected
//! by their header; everything else passed through as it is.
//!
//! Every output goes through a reader that stops one byte past the limit, so a decompression
//! bomb is refused after inflating at most `max_report_bytes + 1` bytes, never in full. A zip
//! archive is also refused when it has too many entries (counted from its end record before
//! anything else is parsed), when a member is compressed more than `max_ratio` to 1, or when
//! its members hold more than `max_total_bytes` in total.

use std::io::{Cursor, Read};

use crate::config::LimitsConfig;
use crate::sources::{SourceError, untar};

/// The most entries a zip archive may have.
pub const MAX_ZIP_ENTRIES: usize = 1000;
/// A zip archive's members may hold this many times `max_report_bytes` in total.
pub const ZIP_TOTAL_FACTOR: u64 = 4;
/// The highest compression ratio of a zip member (deflate cannot exceed about 1032 to 1;
/// CSV and JSON reports are typically compressed 5 to 30 to 1).
pub const MAX_COMPRESSION_RATIO: u64 = 200;
/// Members up to this size are never refused for their compression ratio.
const RATIO_GRACE_BYTES: u64 = 1024 * 1024;

/// What one file or download may decompress to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecompressLimits {
    /// The largest report, after decompression.
    pub max_report_bytes: u64,
    /// The largest total of a zip archive's members.
    pub max_total_bytes: u64,
    /// The most entries of a zip archive.
    pub max_entries: usize,
    /// The highest compression ratio of a zip member larger than a mebibyte.
    pub max_ratio: u64,
}

impl DecompressLimits {
    /// The defaults for reports of at most `max_report_bytes`.
    pub fn new(max_report_bytes: u64) -> DecompressLimits {
        DecompressLimits {
            max_report_bytes,
            max_total_bytes: max_report_bytes.saturating_mul(ZIP_TOTAL_FACTOR),
            max_entries: MAX_ZIP_ENTRIES,
            max_ratio: MAX_COMPRESSION_RATIO,
        }
    }
}

impl From<&LimitsConfig> for DecompressLimits {
    fn from(limits: &LimitsConfig) -> DecompressLimits {
        DecompressLimits::new(limits.max_report_bytes)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Gzip,
    Bzip2,
    Zip,
    Plain,
}

/// The format by magic bytes, else by extension.
fn detect(name: &str, bytes: &[u8]) -> Format {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Format::Gzip;
    }
    if bytes.starts_with(b"BZh") {
        return Format::Bzip2;
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return Format::Zip;
    }
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".gz") {
        Format::Gzip
    } else if lower.ends_with(".bz2") {
        Format::Bzip2
    } else if lower.ends_with(".zip") {
        Format::Zip
    } else {
        Format::Plain
    }
}

/// Decompresses `bytes`, named `name` (a file name, used to detect the format, to name the
/// outputs and in errors): a gzip or bzip2 file becomes one report named without its `.gz`
/// or `.bz2`, a zip or tar archive (a tar also when gzipped or bzip2ed) one report per member
/// file named after the member, and anything else is returned as it is. Archives inside
/// archives are not unpacked.
pub fn decompress(
    name: &str,
    bytes: Vec<u8>,
    limits: &DecompressLimits,
) -> Result<Vec<(String, Vec<u8>)>, SourceError> {
    let format = detect(name, &bytes);
    let unpacked = decompress_one(format, name, bytes, limits)?;
    match unpacked.as_slice() {
        [(_, data)] if format != Format::Zip && untar::is_tar(data) => untar(name, data, limits),
        _ => Ok(unpacked),
    }
}

/// The members of a tar archive (at most `max_entries`), named after their paths in it.
fn untar(name: &str, data: &[u8], limits: &DecompressLimits) -> Result<Vec<(String, Vec<u8>)>, SourceError> {
    match untar::members(data, limits.max_entries) {
        Ok(files) => {
            Ok(files.into_iter().map(|(member, data)| (member_name(&member), data.to_vec())).collect())
        }
        Err(untar::TarError::TooManyEntries(entries)) => {
            Err(SourceError::TooManyEntries { name: name.to_owned(), entries, limit: limits.max_entries })
        }
        Err(untar::TarError::Corrupt(detail)) => {
            Err(SourceError::Corrupt { name: name.to_owned(), format: "tar", detail })
        }
    }
}

/// [`decompress`] of data in `format`, without looking into tar archives.
fn decompress_one(
    format: Format,
    name: &str,
    bytes: Vec<u8>,
    limits: &DecompressLimits,
) -> Result<Vec<(String, Vec<u8>)>, SourceError> {
    match format {
        Format::Plain => {
            if bytes.len() as u64 > limits.max_report_bytes {
                return Err(SourceError::TooLarge { name: name.to_owned(), limit: limits.max_report_bytes });
            }
            Ok(vec![(name.to_owned(), bytes)])
        }
        Format::Gzip => {
            let decoder = flate2::read::MultiGzDecoder::new(bytes.as_slice());
            let data = read_limited(decoder, limits.max_report_bytes).map_err(|error| match error {
                Limited::Over => {
                    SourceError::TooLarge { name: name.to_owned(), limit: limits.max_report_bytes }
                }
                Limited::Io(error) => corrupt(name, "gzip", &error),
            })?;
            Ok(vec![(strip_extension(name, ".gz"), data)])
        }
        Format::Bzip2 => {
            let decoder = bzip2::read::MultiBzDecoder::new(bytes.as_slice());
            let data = read_limited(decoder, limits.max_report_bytes).map_err(|error| match error {
                Limited::Over => {
                    SourceError::TooLarge { name: name.to_owned(), limit: limits.max_report_bytes }
                }
                Limited::Io(error) => corrupt(name, "bzip2", &error),
            })?;
            Ok(vec![(strip_extension(name, ".bz2"), data)])
        }
        Format::Zip => unzip(name, &bytes, limits),
    }
}

fn corrupt(name: &str, format: &'static str, error: &std::io::Error) -> SourceError {
    SourceError::Corrupt { name: name.to_owned(), format, detail: error.to_string() }
}

/// `name` without `extension` (in any case), unless that leaves nothing.
fn strip_extension(name: &str, extension: &str) -> String {
    let cut = name.len().saturating_sub(extension.len());
    match (name.get(..cut), name.get(cut..)) {
        (Some(stem), Some(end)) if !stem.is_empty() && end.eq_ignore_ascii_case(extension) => stem.to_owned(),
        _ => name.to_owned(),
    }
}

enum Limited {
    /// The reader had more than the limit.
    Over,
    Io(std::io::Error),
}

/// Reads everything up to `limit` bytes through a reader that stops one byte past the limit,
/// so a longer input is detected without reading (or inflating) any further.
fn read_limited(reader: impl Read, limit: u64) -> Result<Vec<u8>, Limited> {
    let mut counted = reader.take(limit.saturating_add(1));
    let mut data = Vec::with_capacity(usize::try_from(limit.min(64 * 1024)).unwrap_or(0));
    counted.read_to_end(&mut data).map_err(Limited::Io)?;
    if data.len() as u64 > limit {
        return Err(Limited::Over);
    }
    Ok(data)
}

fn unzip(name: &str, bytes: &[u8], limits: &DecompressLimits) -> Result<Vec<(String, Vec<u8>)>, SourceError> {
    let too_many = |entries: u64| SourceError::TooManyEntries {
        name: name.to_owned(),
        entries,
        limit: limits.max_entries,
    };
    // Counted from the end record, so a huge central directory is never parsed.
    if let Some(entries) = declared_entries(bytes)
        && entries > limits.max_entries as u64
    {
        return Err(too_many(entries));
    }
    let zip_error = |error: zip::result::ZipError| SourceError::Corrupt {
        name: name.to_owned(),
        format: "zip",
        detail: error.to_string(),
    };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(zip_error)?;
    if archive.len() > limits.max_entries {
        return Err(too_many(archive.len() as u64));
    }
    let mut reports = Vec::new();
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let entry = archive.by_index(index).map_err(zip_error)?;
        if entry.is_dir() || entry.is_symlink() {
            continue;
        }
        let member = match entry.name() {
            Ok(member) => member_name(&member),
            Err(_) => member_name(&String::from_utf8_lossy(entry.name_raw())),
        };
        let ratio_limit = entry.compressed_size().saturating_mul(limits.max_ratio).max(RATIO_GRACE_BYTES);
        let ratio_error = || SourceError::CompressionRatio {
            name: name.to_owned(),
            member: member.clone(),
            limit: limits.max_ratio,
        };
        // The declared size may lie; the reading below is limited all the same.
        if entry.size() > ratio_limit {
            return Err(ratio_error());
        }
        let remaining = limits.max_total_bytes.saturating_sub(total);
        let limit = limits.max_report_bytes.min(remaining).min(ratio_limit);
        let data = match read_limited(entry, limit) {
            Ok(data) => data,
            Err(Limited::Over) if limit == ratio_limit => return Err(ratio_error()),
            Err(Limited::Over) if limit == limits.max_report_bytes => {
                return Err(SourceError::TooLarge {
                    name: format!("{name}/{member}"),
                    limit: limits.max_report_bytes,
                });
            }
            Err(Limited::Over) => {
                return Err(SourceError::ArchiveTooLarge {
                    name: name.to_owned(),
                    limit: limits.max_total_bytes,
                });
            }
            Err(Limited::Io(error)) => return Err(corrupt(&format!("{name}/{member}"), "zip", &error)),
        };
        total = total.saturating_add(data.len() as u64);
        reports.push((member, data));
    }
    Ok(reports)
}

/// A member's name as a report name: its path in the archive with `/` separators, without
/// leading slashes and without control characters.
fn member_name(raw: &str) -> String {
    let name: String =
        raw.chars().map(|c| if c == '\\' { '/' } else { c }).filter(|c| !c.is_control()).collect();
    let name = name.trim_start_matches('/');
    if name.is_empty() { "unnamed".to_owned() } else { name.to_owned() }
}

/// The number of entries a zip archive's end of central directory record declares (its
/// Zip64 record's, when there is one), if the record can be found.
fn declared_entries(bytes: &[u8]) -> Option<u64> {
    const END: &[u8; 4] = b"PK\x05\x06";
    const ZIP64_LOCATOR: &[u8; 4] = b"PK\x06\x07";
    const ZIP64_END: &[u8; 4] = b"PK\x06\x06";
    // The end record is 22 bytes plus a comment of up to 65535 bytes.
    let last = bytes.len().checked_sub(22)?;
    let first = last.saturating_sub(65535);
    let end = (first..=last).rev().find(|&at| bytes.get(at..at + 4) == Some(END))?;
    let entries = u16::from_le_bytes(bytes.get(end + 10..end + 12)?.try_into().ok()?);
    if entries != u16::MAX {
        return Some(u64::from(entries));
    }
    let locator = end.checked_sub(20)?;
    if bytes.get(locator..locator + 4) != Some(ZIP64_LOCATOR) {
        return Some(u64::from(entries));
    }
    let offset = u64::from_le_bytes(bytes.get(locator + 8..locator + 16)?.try_into().ok()?);
    let offset = usize::try_from(offset).ok()?;
    let record = bytes.get(offset..offset.checked_add(40)?)?;
    if record.get(..4) != Some(ZIP64_END) {
        return None;
    }
    Some(u64::from_le_bytes(record.get(32..40)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_detected_by_magic_then_extension() {
        assert_eq!(detect("x.csv", &[0x1f, 0x8b, 8]), Format::Gzip);
        assert_eq!(detect("x.csv", b"BZh91AY"), Format::Bzip2);
        assert_eq!(detect("x.csv", b"PK\x03\x04"), Format::Zip);
        assert_eq!(detect("x.csv.GZ", b"abc"), Format::Gzip);
        assert_eq!(detect("x.bz2", b"abc"), Format::Bzip2);
        assert_eq!(detect("x.zip", b"PK\x05\x06"), Format::Zip);
        assert_eq!(detect("x.csv", b"a,b\n"), Format::Plain);
    }

    #[test]
    fn extensions_are_stripped_from_names() {
        assert_eq!(strip_extension("a-scan_dns.csv.gz", ".gz"), "a-scan_dns.csv");
        assert_eq!(strip_extension("A.CSV.GZ", ".gz"), "A.CSV");
        assert_eq!(strip_extension(".gz", ".gz"), ".gz");
        assert_eq!(strip_extension("feed", ".gz"), "feed");
        assert_eq!(strip_extension("ü", ".gz"), "ü");
    }

    #[test]
    fn member_names_are_cleaned() {
        assert_eq!(member_name("/dir\\x.csv"), "dir/x.csv");
        assert_eq!(member_name("a\u{0}b\n.csv"), "ab.csv");
        assert_eq!(member_name("/"), "unnamed");
    }

    #[test]
    fn plain_data_over_the_limit_is_refused() {
        let limits = DecompressLimits::new(3);
        assert_eq!(
            decompress("x", b"abc".to_vec(), &limits).ok(),
            Some(vec![("x".to_owned(), b"abc".to_vec())])
        );
        let error = decompress("x", b"abcd".to_vec(), &limits).err().map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some("x: more than 3 bytes, over the report size limit (pipeline.limits.max_report_bytes)")
        );
    }

    #[test]
    fn end_records_are_found_behind_comments() {
        let mut bytes = b"PK\x03\x04 whatever ".to_vec();
        bytes.extend_from_slice(b"PK\x05\x06\0\0\0\0\x07\0\x07\0\0\0\0\0\0\0\0\0\x03\0");
        bytes.extend_from_slice(b"abc");
        assert_eq!(declared_entries(&bytes), Some(7));
        assert_eq!(declared_entries(b"PK\x03\x04"), None);
    }
}
