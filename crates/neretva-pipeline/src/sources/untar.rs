//! Tar archives (POSIX ustar, with GNU long names and pax `path` records), read from memory:
//! what a `.tar.gz` or `.tar.bz2` holds once [`decompress`](super::decompress) has inflated it,
//! as MaxMind publishes its databases and some providers their report bundles.
//!
//! Only regular files are returned; directories, links, devices and pax global headers are
//! skipped. Every header's checksum is checked, and a member that runs past the end of the
//! archive, a size that is not a number or more than `max_entries` members are errors, so a
//! damaged archive is refused instead of read as garbage.

const BLOCK: usize = 512;

/// Whether `bytes` start with a ustar header (POSIX `ustar\0` or GNU `ustar  \0`).
pub(crate) fn is_tar(bytes: &[u8]) -> bool {
    bytes.len() >= BLOCK && bytes.get(257..262) == Some(b"ustar") && checksum_matches(&bytes[..BLOCK])
}

/// Why an archive could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TarError {
    /// More regular files than the limit.
    TooManyEntries(u64),
    /// Damaged: the reason, with the member and its offset where known.
    Corrupt(String),
}

/// The regular files of a tar archive, in archive order, each with its path in the archive.
pub(crate) fn members(bytes: &[u8], max_entries: usize) -> Result<Vec<(String, &[u8])>, TarError> {
    let mut files = Vec::new();
    let mut offset = 0;
    // A name given by a GNU long-name entry or a pax header, for the entry after it.
    let mut long_name: Option<String> = None;
    while let Some(header) = bytes.get(offset..offset + BLOCK) {
        if header.iter().all(|&b| b == 0) {
            break;
        }
        if !checksum_matches(header) {
            return Err(TarError::Corrupt(format!("header at byte {offset}: wrong checksum")));
        }
        let size = header_size(&header[124..136])
            .ok_or_else(|| TarError::Corrupt(format!("header at byte {offset}: size is not a number")))?;
        let start = offset + BLOCK;
        let data = usize::try_from(size)
            .ok()
            .and_then(|size| bytes.get(start..start.checked_add(size)?))
            .ok_or_else(|| {
                TarError::Corrupt(format!(
                    "member {:?} at byte {offset}: {size} bytes, past the end of the archive",
                    entry_name(header)
                ))
            })?;
        // The data is padded to whole blocks.
        offset = start + data.len().div_ceil(BLOCK) * BLOCK;
        match header[156] {
            // A GNU long name: the data is the next entry's name.
            b'L' => long_name = Some(text(data)),
            // A pax extended header: its `path` record names the next entry.
            b'x' => {
                if let Some(path) = pax_path(data) {
                    long_name = Some(path);
                }
            }
            b'0' | b'\0' | b'7' => {
                if files.len() >= max_entries {
                    return Err(TarError::TooManyEntries(files.len() as u64 + 1));
                }
                let name = long_name.take().unwrap_or_else(|| entry_name(header));
                files.push((name, data));
            }
            // Directories, links, devices, pax global headers and anything else.
            _ => long_name = None,
        }
    }
    Ok(files)
}

/// The header's name, with the ustar prefix before it when there is one.
fn entry_name(header: &[u8]) -> String {
    let name = text(&header[..100]);
    let prefix =
        if header.get(257..263) == Some(b"ustar\0") { text(&header[345..500]) } else { String::new() };
    if prefix.is_empty() { name } else { format!("{prefix}/{name}") }
}

/// Text up to the first NUL, as UTF-8 where it is.
fn text(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// A size field: octal digits (space- or NUL-terminated), or base-256 when its first byte
/// has the high bit set (GNU, for members of 8 GiB and more).
fn header_size(field: &[u8]) -> Option<u64> {
    if field[0] & 0x80 != 0 {
        let mut value: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            value = value.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(value);
    }
    let digits = field.iter().skip_while(|&&b| b == b' ').take_while(|&&b| b != 0 && b != b' ');
    let mut value: u64 = 0;
    let mut any = false;
    for &b in digits {
        if !(b'0'..=b'7').contains(&b) {
            return None;
        }
        value = value.checked_mul(8)?.checked_add(u64::from(b - b'0'))?;
        any = true;
    }
    any.then_some(value)
}

/// Whether the header's checksum (the sum of its bytes with the checksum field taken as
/// spaces) is the one it records; historic tars summed signed bytes, so either is accepted.
fn checksum_matches(header: &[u8]) -> bool {
    let Some(recorded) = header_size(&header[148..156]) else { return false };
    let field = 148..156;
    let (mut unsigned, mut signed) = (0u64, 0i64);
    for (at, &b) in header.iter().enumerate() {
        let b = if field.contains(&at) { b' ' } else { b };
        unsigned += u64::from(b);
        signed += i64::from(b as i8);
    }
    recorded == unsigned || i64::try_from(recorded).is_ok_and(|recorded| recorded == signed)
}

/// The `path` of a pax extended header's records (`LENGTH key=value\n` each).
fn pax_path(mut records: &[u8]) -> Option<String> {
    let mut path = None;
    while !records.is_empty() {
        let space = records.iter().position(|&b| b == b' ')?;
        let length: usize = std::str::from_utf8(&records[..space]).ok()?.parse().ok()?;
        let record = records.get(space + 1..length)?;
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        if let Some(value) = record.strip_prefix(b"path=") {
            path = Some(String::from_utf8_lossy(value).into_owned());
        }
        records = &records[length..];
    }
    path
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A ustar header for a member of `kind` named `name` holding `size` bytes.
    pub(crate) fn header(name: &str, kind: u8, size: usize) -> Vec<u8> {
        let mut header = vec![0u8; BLOCK];
        header[..name.len()].copy_from_slice(name.as_bytes());
        header[100..108].copy_from_slice(b"0000644\0");
        header[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
        header[156] = kind;
        header[257..263].copy_from_slice(b"ustar\0");
        header[263..265].copy_from_slice(b"00");
        let sum: u64 = header.iter().map(|&b| u64::from(b)).sum::<u64>() + 8 * u64::from(b' ');
        header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        header
    }

    /// A tar archive of the given entries, as `tar` writes it.
    pub(crate) fn archive(entries: &[(&str, u8, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, kind, data) in entries {
            out.extend(header(name, *kind, data.len()));
            out.extend_from_slice(data);
            out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
        }
        out.resize(out.len() + 2 * BLOCK, 0);
        out
    }

    #[test]
    fn regular_files_are_read_in_order_and_the_rest_skipped() {
        let long = format!("{}/GeoLite2-ASN.mmdb", "d".repeat(120));
        // A record's length counts its own three digits.
        let record = format!(" path={long}\n");
        let pax = format!("{}{record}", record.len() + 3);
        let bytes = archive(&[
            ("GeoLite2-ASN_20261128/", b'5', &b""[..]),
            ("GeoLite2-ASN_20261128/COPYRIGHT.txt", b'0', b"Database and Contents Copyright"),
            ("././@LongLink", b'L', format!("{long}\0").as_bytes()),
            ("truncated-name", b'0', &[7u8; 600]),
            ("PaxHeaders/x", b'x', pax.as_bytes()),
            ("short", b'0', b"pax"),
            ("link", b'2', b""),
        ]);
        assert!(is_tar(&bytes));
        let files = members(&bytes, 10).unwrap();
        let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["GeoLite2-ASN_20261128/COPYRIGHT.txt", &long, &long]);
        assert_eq!(files[1].1, &[7u8; 600][..]);
        assert_eq!(files[2].1, b"pax");
    }

    #[test]
    fn damaged_archives_are_refused() {
        let bytes = archive(&[("a.csv", b'0', &b"1,2\n"[..]), ("b.csv", b'0', b"3,4\n")]);
        assert_eq!(members(&bytes, 1), Err(TarError::TooManyEntries(2)));

        let mut flipped = bytes.clone();
        flipped[3] ^= 1;
        assert!(!is_tar(&flipped));
        assert_eq!(members(&flipped, 9), Err(TarError::Corrupt("header at byte 0: wrong checksum".into())));

        let cut = &bytes[..BLOCK + 2];
        assert_eq!(
            members(cut, 9),
            Err(TarError::Corrupt("member \"a.csv\" at byte 0: 4 bytes, past the end of the archive".into()))
        );
        assert!(!is_tar(b"a,b\n"));
        assert!(!is_tar(&[0u8; 1024]));
    }

    #[test]
    fn sizes_are_octal_or_base_256() {
        assert_eq!(header_size(b"00000001750\0"), Some(1000));
        assert_eq!(header_size(b"   1750 \0\0\0\0"), Some(1000));
        assert_eq!(header_size(&[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03, 0xe8]), Some(1000));
        assert_eq!(header_size(b"00000009\0\0\0\0"), None);
        assert_eq!(header_size(&[0u8; 12]), None);
    }
}
