//! `enrich_geo`: the country, city and coordinates of an IP address from a user-supplied
//! MaxMind-format country or city database (GeoLite2-Country, GeoLite2-City and compatible,
//! such as DB-IP's lite databases), as IntelMQ's `maxmind_geoip` expert adds them.
//!
//! Like that expert, the country is where the address is used (`country`), or, with
//! `registered_country`, the country the network is registered to; the city is its English
//! name. Nothing the feed said is overwritten.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use crate::transforms::enrich_asn::{TableError, TableFileError, read_table_file};

/// What a database knows about an address.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GeoInfo {
    /// ISO 3166-1 alpha-2, upper-case.
    pub country: Option<String>,
    pub city: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

#[derive(serde::Deserialize)]
struct Place<'a> {
    #[serde(borrow)]
    iso_code: Option<&'a str>,
}

#[derive(serde::Deserialize)]
struct Named<'a> {
    #[serde(borrow, default)]
    names: BTreeMap<&'a str, &'a str>,
}

#[derive(serde::Deserialize)]
struct Location {
    latitude: Option<f64>,
    longitude: Option<f64>,
}

#[derive(serde::Deserialize)]
struct Record<'a> {
    #[serde(borrow)]
    country: Option<Place<'a>>,
    #[serde(borrow)]
    registered_country: Option<Place<'a>>,
    #[serde(borrow)]
    city: Option<Named<'a>>,
    location: Option<Location>,
}

/// A loaded geolocation database.
pub struct GeoTable {
    reader: maxminddb::Reader<Vec<u8>>,
    registered_country: bool,
}

impl std::fmt::Debug for GeoTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoTable")
            .field("database_type", &self.reader.metadata().database_type)
            .field("registered_country", &self.registered_country)
            .finish()
    }
}

impl GeoTable {
    /// Loads a database from bytes; with `registered_country`, countries are the ones the
    /// networks are registered to.
    pub fn load(bytes: Vec<u8>, registered_country: bool) -> Result<GeoTable, TableError> {
        let reader = maxminddb::Reader::from_source(bytes).map_err(|error| TableError {
            line: 0,
            message: format!("not a MaxMind-format database: {error}"),
        })?;
        Ok(GeoTable { reader, registered_country })
    }

    /// Loads the database file at `path` as it is published (`GeoLite2-City.mmdb`, or the
    /// `.tar.gz` it comes in), at most `max_bytes` after decompression.
    pub fn read(path: &Path, max_bytes: u64, registered_country: bool) -> Result<GeoTable, TableFileError> {
        let bytes = read_table_file(path, max_bytes)?;
        GeoTable::load(bytes, registered_country)
            .map_err(|source| TableFileError::Table { path: path.display().to_string(), source })
    }

    /// What the database says about an address; `None` when it knows nothing.
    pub fn lookup(&self, ip: IpAddr) -> Option<GeoInfo> {
        let record: Record<'_> = self.reader.lookup(ip).ok()?.decode().ok()??;
        let place = if self.registered_country { record.registered_country } else { record.country };
        let info = GeoInfo {
            country: place.and_then(|place| place.iso_code).map(str::to_ascii_uppercase),
            city: record.city.and_then(|city| city.names.get("en").map(|name| (*name).to_owned())),
            latitude: record.location.as_ref().and_then(|location| location.latitude),
            longitude: record.location.as_ref().and_then(|location| location.longitude),
        };
        (info != GeoInfo::default()).then_some(info)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::transforms::mmdb_writer::mmdb;

    fn city_database() -> Vec<u8> {
        mmdb(
            "GeoLite2-City",
            &[
                (
                    "192.0.2.0/24",
                    json!({
                        "city": {"geoname_id": 3191281, "names": {"en": "Sarajevo", "de": "Sarajevo"}},
                        "country": {"iso_code": "BA", "names": {"en": "Bosnia and Herzegovina"}},
                        "registered_country": {"iso_code": "HR", "names": {"en": "Croatia"}},
                        "location": {"latitude": 43.8563, "longitude": 18.4131, "accuracy_radius": 20},
                    }),
                ),
                ("2001:db8::/32", json!({"country": {"iso_code": "rs"}})),
                ("198.51.100.0/24", json!({"continent": {"code": "EU"}})),
            ],
        )
    }

    #[test]
    fn countries_cities_and_coordinates_are_read() {
        let table = GeoTable::load(city_database(), false).unwrap();
        assert_eq!(
            table.lookup("192.0.2.9".parse().unwrap()),
            Some(GeoInfo {
                country: Some("BA".into()),
                city: Some("Sarajevo".into()),
                latitude: Some(43.8563),
                longitude: Some(18.4131),
            })
        );
        let v6 = table.lookup("2001:db8::1".parse().unwrap()).unwrap();
        assert_eq!((v6.country.as_deref(), v6.city), (Some("RS"), None));
        assert_eq!(table.lookup("198.51.100.1".parse().unwrap()), None, "a record without anything to add");
        assert_eq!(table.lookup("203.0.113.1".parse().unwrap()), None);
        let registered = GeoTable::load(city_database(), true).unwrap();
        assert_eq!(registered.lookup("192.0.2.9".parse().unwrap()).unwrap().country.as_deref(), Some("HR"));
        let error = GeoTable::load(b"192.0.2.0\t192.0.2.255\t64500\tBA\tX\n".to_vec(), false).unwrap_err();
        assert!(error.message.starts_with("not a MaxMind-format database"), "{error}");
    }
}
