//! A writer of small MaxMind DB files (format 2.0, RFC-less but documented by MaxMind) for the
//! tests of the tables that read them: an IPv6 search tree of 24-bit records with IPv4
//! networks under `::/96`, as MaxMind's own databases are laid out, and records written from
//! JSON values (strings, unsigned integers, doubles, maps and arrays).

use std::net::IpAddr;

use neretva_net::Cidr;

enum Record {
    Empty,
    Node(usize),
    Data(usize),
}

/// A control byte (and the extended type and size bytes it needs) for `size` items of `kind`.
fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
    let small = if size < 29 { size as u8 } else { 29 };
    if kind <= 7 {
        out.push(kind << 5 | small);
    } else {
        out.extend([small, kind - 7]);
    }
    if size >= 29 {
        out.push(u8::try_from(size - 29).expect("test values are short"));
    }
}

fn unsigned(out: &mut Vec<u8>, kind: u8, value: u64) {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    control(out, kind, 8 - skip);
    out.extend_from_slice(&bytes[skip..]);
}

fn value(out: &mut Vec<u8>, value: &serde_json::Value) {
    match value {
        serde_json::Value::String(text) => {
            control(out, 2, text.len());
            out.extend_from_slice(text.as_bytes());
        }
        serde_json::Value::Number(number) => match number.as_u64() {
            Some(whole) => unsigned(out, 6, whole),
            None => {
                control(out, 3, 8);
                out.extend_from_slice(&number.as_f64().unwrap_or_default().to_be_bytes());
            }
        },
        serde_json::Value::Object(map) => {
            control(out, 7, map.len());
            for (key, item) in map {
                control(out, 2, key.len());
                out.extend_from_slice(key.as_bytes());
                self::value(out, item);
            }
        }
        serde_json::Value::Array(items) => {
            control(out, 11, items.len());
            for item in items {
                self::value(out, item);
            }
        }
        serde_json::Value::Bool(_) | serde_json::Value::Null => unimplemented!("not needed by the tests"),
    }
}

/// A database of `database_type` mapping each network to its record.
pub(crate) fn mmdb(database_type: &str, records: &[(&str, serde_json::Value)]) -> Vec<u8> {
    let mut nodes: Vec<[Record; 2]> = vec![[Record::Empty, Record::Empty]];
    let mut data = Vec::new();
    for (network, record) in records {
        let cidr: Cidr = network.parse().expect("a network");
        let (bits, length) = match cidr.network() {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), 96 + u32::from(cidr.prefix_len())),
            IpAddr::V6(v6) => (u128::from(v6), u32::from(cidr.prefix_len())),
        };
        let offset = data.len();
        value(&mut data, record);
        let mut node = 0;
        for depth in 0..length {
            let side = usize::from(bits >> (127 - depth) & 1 == 1);
            if depth + 1 == length {
                nodes[node][side] = Record::Data(offset);
            } else if let Record::Node(next) = nodes[node][side] {
                node = next;
            } else {
                nodes.push([Record::Empty, Record::Empty]);
                nodes[node][side] = Record::Node(nodes.len() - 1);
                node = nodes.len() - 1;
            }
        }
    }
    let count = nodes.len();
    let mut out = Vec::new();
    for node in &nodes {
        for record in node {
            let pointer = match record {
                Record::Empty => count,
                Record::Node(next) => *next,
                Record::Data(offset) => count + 16 + offset,
            };
            out.extend_from_slice(&u32::try_from(pointer).expect("a small tree").to_be_bytes()[1..]);
        }
    }
    out.extend([0u8; 16]);
    out.extend(data);
    out.extend_from_slice(b"\xab\xcd\xefMaxMind.com");
    let metadata = serde_json::json!({
        "binary_format_major_version": 2,
        "binary_format_minor_version": 0,
        "build_epoch": 1_764_000_000u64,
        "database_type": database_type,
        "description": {"en": "a test table"},
        "ip_version": 6,
        "languages": ["en"],
        "node_count": count,
        "record_size": 24,
    });
    // The format wants the versions as 16-bit numbers.
    let serde_json::Value::Object(metadata) = metadata else { unreachable!() };
    control(&mut out, 7, metadata.len());
    for (key, item) in &metadata {
        control(&mut out, 2, key.len());
        out.extend_from_slice(key.as_bytes());
        match key.as_str() {
            "binary_format_major_version" | "binary_format_minor_version" | "ip_version" | "record_size" => {
                unsigned(&mut out, 5, item.as_u64().unwrap_or_default());
            }
            "build_epoch" => unsigned(&mut out, 9, item.as_u64().unwrap_or_default()),
            _ => value(&mut out, item),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    /// The city database the command-line tests load (`tests/data/geoip-city-test.mmdb`): the
    /// documentation networks 192.0.2.0/24 in Sarajevo and 198.51.100.0/24 in Mostar. Written
    /// again with `UPDATE_EXPECT=1`.
    #[test]
    fn the_test_city_database_is_what_the_writer_makes() {
        let city = |name: &str, latitude: f64, longitude: f64| {
            serde_json::json!({
                "city": {"names": {"en": name}},
                "country": {"iso_code": "BA"},
                "location": {"latitude": latitude, "longitude": longitude},
            })
        };
        let database = super::mmdb(
            "GeoLite2-City",
            &[
                ("192.0.2.0/24", city("Sarajevo", 43.8563, 18.4131)),
                ("198.51.100.0/24", city("Mostar", 43.3438, 17.8078)),
            ],
        );
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/geoip-city-test.mmdb");
        if std::env::var_os("UPDATE_EXPECT").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &database).unwrap();
        }
        assert_eq!(std::fs::read(&path).unwrap(), database, "run with UPDATE_EXPECT=1 to write it again");
    }
}
