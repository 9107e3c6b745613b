//! `enrich_asn`: the AS number, AS name, announced prefix and country of an IP address, from a
//! user-supplied table: the iptoasn.com TSV (`ip2asn-combined.tsv`, also as published,
//! gzipped) or a MaxMind-format ASN database (`GeoLite2-ASN.mmdb` and compatible, also in the
//! `.tar.gz` MaxMind publishes it in).

use std::net::IpAddr;
use std::path::Path;

use neretva_net::{Cidr, PrefixTable, PrefixTableBuilder};

use crate::sources::{DecompressLimits, SourceError, read_reports};

/// What the table knows about a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsnInfo {
    pub asn: u32,
    pub as_name: Option<String>,
    /// ISO 3166-1 alpha-2, upper-case.
    pub country: Option<String>,
}

/// A loaded ASN table.
pub enum AsnTable {
    Prefixes(Box<PrefixTable<AsnInfo>>),
    Mmdb(Box<maxminddb::Reader<Vec<u8>>>),
}

impl std::fmt::Debug for AsnTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AsnTable::Prefixes(table) => write!(f, "AsnTable::Prefixes({} prefixes)", table.len()),
            AsnTable::Mmdb(_) => f.write_str("AsnTable::Mmdb"),
        }
    }
}

/// A problem in a table file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct TableError {
    pub line: u64,
    pub message: String,
}

/// Why a table file (ASN or geolocation) could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TableFileError {
    /// Unreadable, too large, or a broken archive.
    #[error(transparent)]
    Read(#[from] SourceError),
    /// An archive without exactly one `.mmdb` or `.tsv` file.
    #[error("{path}: the archive holds {members}, not exactly one .mmdb or .tsv file")]
    NoTable { path: String, members: String },
    #[error("{path}: {source}")]
    Table { path: String, source: TableError },
}

#[derive(serde::Deserialize)]
struct MmdbAsn<'a> {
    autonomous_system_number: Option<u32>,
    autonomous_system_organization: Option<&'a str>,
}

impl AsnTable {
    /// Loads a table from bytes: MMDB when the bytes carry the MaxMind metadata marker,
    /// the iptoasn TSV otherwise. Bad TSV lines are returned, not fatal.
    pub fn load(bytes: Vec<u8>) -> Result<(AsnTable, Vec<TableError>), TableError> {
        const MMDB_MARKER: &[u8] = b"\xab\xcd\xefMaxMind.com";
        if bytes.windows(MMDB_MARKER.len()).rev().take(128 * 1024).any(|w| w == MMDB_MARKER) {
            let reader = maxminddb::Reader::from_source(bytes)
                .map_err(|error| TableError { line: 0, message: format!("invalid MMDB file: {error}") })?;
            return Ok((AsnTable::Mmdb(Box::new(reader)), Vec::new()));
        }
        let (table, errors) = parse_iptoasn(&bytes);
        Ok((AsnTable::Prefixes(Box::new(table)), errors))
    }

    /// Loads the table file at `path` as it is published ([`read_table_file`]). Bad TSV lines
    /// are returned, not fatal.
    pub fn read(path: &Path, max_bytes: u64) -> Result<(AsnTable, Vec<TableError>), TableFileError> {
        let bytes = read_table_file(path, max_bytes)?;
        AsnTable::load(bytes)
            .map_err(|source| TableFileError::Table { path: path.display().to_string(), source })
    }

    /// Looks up an address: the most specific prefix and what is known about it.
    pub fn lookup(&self, ip: IpAddr) -> Option<(Option<Cidr>, AsnInfo)> {
        match self {
            AsnTable::Prefixes(table) => {
                table.longest_match(ip).map(|(cidr, info)| (Some(cidr), info.clone()))
            }
            AsnTable::Mmdb(reader) => {
                let result = reader.lookup(ip).ok()?;
                let network =
                    result.network().ok().and_then(|net| Cidr::new(net.network(), net.prefix()).ok());
                let record: MmdbAsn<'_> = result.decode().ok()??;
                let asn = record.autonomous_system_number.filter(|asn| *asn != 0)?;
                Some((
                    network,
                    AsnInfo {
                        asn,
                        as_name: record.autonomous_system_organization.map(str::to_owned),
                        country: None,
                    },
                ))
            }
        }
    }
}

/// The bytes of a table file as it is published: plain, gzipped or bzip2ed, or the one
/// `.mmdb` or `.tsv` file of a zip or tar archive (`.tar.gz` too), at most `max_bytes` after
/// decompression.
pub fn read_table_file(path: &Path, max_bytes: u64) -> Result<Vec<u8>, TableFileError> {
    let display = || path.display().to_string();
    let mut files = read_reports(path, &DecompressLimits::new(max_bytes))?;
    if files.len() != 1 {
        let is_table = |name: &str| {
            let name = name.to_ascii_lowercase();
            name.ends_with(".mmdb") || name.ends_with(".tsv")
        };
        let tables: Vec<usize> = (0..files.len()).filter(|&at| is_table(&files[at].0)).collect();
        let [only] = tables[..] else {
            let inside = format!("file:{}/", display());
            let names: Vec<&str> = files
                .iter()
                .map(|(source, _)| source.strip_prefix(inside.as_str()).unwrap_or(source))
                .collect();
            let members = match names.len() {
                0 => "no file".to_owned(),
                _ => format!("{} files ({})", names.len(), names.join(", ")),
            };
            return Err(TableFileError::NoTable { path: display(), members });
        };
        files.swap(0, only);
    }
    Ok(files.swap_remove(0).1)
}

/// Parses the iptoasn TSV: `range_start range_end AS_number country_code AS_description`,
/// tab-separated; rows with AS number 0 mean "not routed" and are skipped.
pub fn parse_iptoasn(bytes: &[u8]) -> (PrefixTable<AsnInfo>, Vec<TableError>) {
    let mut builder = PrefixTableBuilder::default();
    let mut errors = Vec::new();
    for (index, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let line_number = index as u64 + 1;
        let line = String::from_utf8_lossy(line);
        let line = line.trim_end_matches('\r');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut columns = line.split('\t');
        let (Some(start), Some(end), Some(asn)) = (columns.next(), columns.next(), columns.next()) else {
            errors.push(TableError {
                line: line_number,
                message: "expected at least three tab-separated columns".into(),
            });
            continue;
        };
        let (Ok(start), Ok(end), Ok(asn)) =
            (start.parse::<IpAddr>(), end.parse::<IpAddr>(), asn.parse::<u32>())
        else {
            errors.push(TableError {
                line: line_number,
                message: format!("invalid range or AS number in {line:?}"),
            });
            continue;
        };
        if asn == 0 {
            continue;
        }
        let country = columns.next().filter(|cc| cc.len() == 2 && *cc != "None").map(str::to_ascii_uppercase);
        let as_name =
            columns.next().filter(|name| !name.is_empty() && *name != "Not routed").map(str::to_owned);
        let info = AsnInfo { asn, as_name, country };
        match range_to_cidrs(start, end) {
            Some(cidrs) => {
                for cidr in cidrs {
                    builder.insert(cidr, info.clone());
                }
            }
            None => errors.push(TableError {
                line: line_number,
                message: "range start is after its end or mixes IPv4 and IPv6".into(),
            }),
        }
    }
    (builder.build(), errors)
}

/// The smallest list of networks that exactly covers an address range.
pub fn range_to_cidrs(start: IpAddr, end: IpAddr) -> Option<Vec<Cidr>> {
    let (start, end, bits, v4) = match (start, end) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(u32::from(a)), u128::from(u32::from(b)), 32u32, true),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128u32, false),
        _ => return None,
    };
    if start > end {
        return None;
    }
    let mut cidrs = Vec::new();
    let mut current = start;
    loop {
        // The largest aligned block starting at `current` that does not pass `end`.
        let mut size_bits = if current == 0 { bits } else { current.trailing_zeros().min(bits) };
        while size_bits > 0 {
            let last = current.checked_add((1u128 << size_bits) - 1);
            match last {
                Some(last) if last <= end && (size_bits < 128) => break,
                _ => size_bits -= 1,
            }
        }
        let prefix = (bits - size_bits) as u8;
        let address = if v4 {
            IpAddr::V4(std::net::Ipv4Addr::from(current as u32))
        } else {
            IpAddr::V6(std::net::Ipv6Addr::from(current))
        };
        cidrs.push(Cidr::new(address, prefix).ok()?);
        let block_end = current + ((1u128 << size_bits) - 1);
        if block_end >= end {
            break;
        }
        current = block_end + 1;
    }
    Some(cidrs)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::sources::untar::tests::archive;

    /// A GeoLite2-ASN-shaped MaxMind DB mapping each network to its AS number and organisation.
    fn mmdb(networks: &[(&str, u32, &str)]) -> Vec<u8> {
        let records: Vec<(&str, serde_json::Value)> = networks
            .iter()
            .map(|(network, asn, organisation)| {
                let record = serde_json::json!({
                    "autonomous_system_number": asn, "autonomous_system_organization": organisation
                });
                (*network, record)
            })
            .collect();
        crate::transforms::mmdb_writer::mmdb("GeoLite2-ASN", &records)
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    /// A directory of its own under the system's temporary directory, removed on drop.
    struct TempDir(std::path::PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let dir = std::env::temp_dir().join(format!("neretva-asn-{name}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        fn write(&self, name: &str, bytes: &[u8]) -> std::path::PathBuf {
            let path = self.0.join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn lookup(table: &AsnTable, ip: &str) -> Option<(String, u32, Option<String>)> {
        let (cidr, info) = table.lookup(ip.parse().unwrap())?;
        Some((cidr.map(|cidr| cidr.to_string()).unwrap_or_default(), info.asn, info.as_name))
    }

    #[test]
    fn mmdb_tables_give_the_network_and_the_as() {
        let bytes = mmdb(&[
            ("192.0.2.0/24", 64500, "EXAMPLE-TELEKOM d.d."),
            ("198.51.100.128/25", 64501, "Example Energy"),
            ("2001:db8::/32", 64502, "EXAMPLE-V6"),
        ]);
        let (table, errors) = AsnTable::load(bytes).unwrap();
        assert!(matches!(table, AsnTable::Mmdb(_)) && errors.is_empty());
        assert_eq!(
            lookup(&table, "192.0.2.77"),
            Some(("192.0.2.0/24".into(), 64500, Some("EXAMPLE-TELEKOM d.d.".into())))
        );
        assert_eq!(lookup(&table, "198.51.100.200").map(|found| found.1), Some(64501));
        assert_eq!(lookup(&table, "198.51.100.5"), None);
        assert_eq!(
            lookup(&table, "2001:db8:1::9").map(|found| (found.0, found.1)),
            Some(("2001:db8::/32".into(), 64502))
        );
        assert_eq!(lookup(&table, "203.0.113.1"), None);

        let mut broken = mmdb(&[("192.0.2.0/24", 64500, "X")]);
        broken.truncate(broken.len() - 3);
        let error = AsnTable::load(broken).unwrap_err();
        assert!(error.message.starts_with("invalid MMDB file"), "{error}");
    }

    #[test]
    fn table_files_are_read_as_published() {
        let dir = TempDir::new("published");
        let tsv = b"192.0.2.0\t192.0.2.255\t64500\tBA\tEXAMPLE-TELEKOM\n";
        let mmdb = mmdb(&[("198.51.100.0/24", 64501, "Example Energy")]);
        let limit = 1024 * 1024;
        let as_of =
            |path: &Path, ip: &str| lookup(&AsnTable::read(path, limit).unwrap().0, ip).map(|found| found.1);

        // iptoasn's ip2asn-combined.tsv.gz, and the same unpacked.
        assert_eq!(as_of(&dir.write("ip2asn-combined.tsv.gz", &gzip(tsv)), "192.0.2.9"), Some(64500));
        assert_eq!(as_of(&dir.write("ip2asn-combined.tsv", tsv), "192.0.2.9"), Some(64500));
        // MaxMind's GeoLite2-ASN_<date>.tar.gz: a directory, the licence texts and the database.
        let published = archive(&[
            ("GeoLite2-ASN_20261128/", b'5', &b""[..]),
            ("GeoLite2-ASN_20261128/COPYRIGHT.txt", b'0', b"Database and Contents Copyright (c)"),
            ("GeoLite2-ASN_20261128/LICENSE.txt", b'0', b"This work is licensed"),
            ("GeoLite2-ASN_20261128/GeoLite2-ASN.mmdb", b'0', &mmdb),
        ]);
        let path = dir.write("GeoLite2-ASN_20261128.tar.gz", &gzip(&published));
        assert_eq!(as_of(&path, "198.51.100.1"), Some(64501));
        assert_eq!(as_of(&dir.write("GeoLite2-ASN.mmdb", &mmdb), "198.51.100.1"), Some(64501));

        let texts = archive(&[("a/COPYRIGHT.txt", b'0', &b"c"[..]), ("a/LICENSE.txt", b'0', b"l")]);
        let path = dir.write("texts.tar.gz", &gzip(&texts));
        let error = AsnTable::read(&path, limit).unwrap_err().to_string();
        assert_eq!(
            error,
            format!(
                "{}: the archive holds 2 files (a/COPYRIGHT.txt, a/LICENSE.txt), not exactly one .mmdb or .tsv file",
                path.display()
            )
        );
        let error = AsnTable::read(&dir.0.join("missing.tsv"), limit).unwrap_err().to_string();
        assert!(error.starts_with("cannot read "), "{error}");
        let error = AsnTable::read(&path, 100).unwrap_err().to_string();
        assert!(error.contains("more than 100 bytes"), "{error}");
    }

    fn cidrs(start: &str, end: &str) -> Vec<String> {
        range_to_cidrs(start.parse().unwrap(), end.parse().unwrap())
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn ranges_become_minimal_cidr_lists() {
        assert_eq!(cidrs("192.0.2.0", "192.0.2.255"), ["192.0.2.0/24"]);
        assert_eq!(
            cidrs("192.0.2.1", "192.0.2.6"),
            ["192.0.2.1/32", "192.0.2.2/31", "192.0.2.4/31", "192.0.2.6/32"]
        );
        assert_eq!(cidrs("0.0.0.0", "255.255.255.255"), ["0.0.0.0/0"]);
        assert_eq!(cidrs("2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"), ["2001:db8::/32"]);
        assert!(range_to_cidrs("192.0.2.9".parse().unwrap(), "192.0.2.1".parse().unwrap()).is_none());
    }

    #[test]
    fn iptoasn_rows_load_and_bad_rows_are_reported() {
        let tsv = b"192.0.2.0\t192.0.2.127\t64500\tBA\tEXAMPLE-TELEKOM\n\
                    192.0.2.128\t192.0.2.255\t0\tNone\tNot routed\n\
                    garbage line\n\
                    2001:db8::\t2001:db8:0:ffff:ffff:ffff:ffff:ffff\t64501\tHR\tEXAMPLE-NET\n";
        let (table, errors) = parse_iptoasn(tsv);
        assert_eq!(
            errors,
            [TableError { line: 3, message: "expected at least three tab-separated columns".into() }]
        );
        let (cidr, info) = table.longest_match("192.0.2.5".parse().unwrap()).unwrap();
        assert_eq!(cidr.to_string(), "192.0.2.0/25");
        assert_eq!(
            info,
            &AsnInfo { asn: 64500, as_name: Some("EXAMPLE-TELEKOM".into()), country: Some("BA".into()) }
        );
        assert!(table.longest_match("192.0.2.200".parse().unwrap()).is_none());
        assert_eq!(table.longest_match("2001:db8::1".parse().unwrap()).unwrap().1.asn, 64501);
    }
}
