//! Conversions between SQLite values and model types, and the mapping of SQLite errors.

use std::error::Error as StdError;
use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

pub(crate) use neretva_store::encode::{
    IpRange, check_text, fold, ip_key, ip_range, now, to_i64, truncate, without_nul,
};

use neretva_model::{Timestamp, Uuid};
use neretva_store::StoreError;
use rusqlite::types::Type;
use rusqlite::{ErrorCode, Row};

/// The error of the synchronous store functions; converts from driver errors with `?`.
#[derive(Debug)]
pub(crate) struct Error(pub(crate) StoreError);

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Error {
        Error(error)
    }
}

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Error {
        Error(store_error(error))
    }
}

impl From<serde_json::Error> for Error {
    fn from(error: serde_json::Error) -> Error {
        Error(StoreError::Backend(format!("json: {error}")))
    }
}

/// Unique constraints as SQLite names them in its messages, and the field each one protects.
const UNIQUE_FIELDS: &[(&str, &str, &str)] = &[
    ("organisations.name_key", "name", "an organisation with this name already exists"),
    ("organisations.short_name_key", "short_name", "an organisation with this short name already exists"),
    ("users.username", "username", "a user with this username already exists"),
    ("assets.org_id, assets.kind, assets.value", "value", "the organisation already has this asset"),
    ("taxii_collections.alias", "alias", "a collection with this alias already exists"),
    (".id", "id", "an object with this id already exists"),
];

/// Maps a driver error: constraint violations become conflicts naming the field.
pub(crate) fn store_error(error: rusqlite::Error) -> StoreError {
    let message = match &error {
        rusqlite::Error::SqliteFailure(failure, message)
            if failure.code == ErrorCode::ConstraintViolation =>
        {
            message.as_deref().unwrap_or_default()
        }
        _ => return StoreError::Backend(error.to_string()),
    };
    if message.starts_with("UNIQUE") || message.starts_with("PRIMARY KEY") {
        for (needle, field, text) in UNIQUE_FIELDS {
            if message.contains(needle) {
                return StoreError::conflict(*field, *text);
            }
        }
    }
    if message.starts_with("FOREIGN KEY") {
        return StoreError::conflict("id", "refers to an object that does not exist");
    }
    StoreError::Backend(error.to_string())
}

/// A timestamp as stored: unix microseconds.
pub(crate) fn micros(at: Timestamp) -> i64 {
    // Years between -9999 and 9999 fit comfortably in 64 bits of microseconds.
    i64::try_from(at.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

pub(crate) fn opt_micros(at: Option<Timestamp>) -> Option<i64> {
    at.map(micros)
}

fn conversion(index: usize, kind: Type, error: impl StdError + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(index, kind, Box::new(error))
}

fn from_micros(index: usize, value: i64) -> rusqlite::Result<Timestamp> {
    Timestamp::from_unix_timestamp_nanos(i128::from(value) * 1000)
        .map_err(|error| conversion(index, Type::Integer, error))
}

pub(crate) fn time_col(row: &Row<'_>, index: usize) -> rusqlite::Result<Timestamp> {
    from_micros(index, row.get(index)?)
}

pub(crate) fn opt_time_col(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<Timestamp>> {
    row.get::<_, Option<i64>>(index)?.map(|value| from_micros(index, value)).transpose()
}

pub(crate) fn uuid_col(row: &Row<'_>, index: usize) -> rusqlite::Result<Uuid> {
    let text: String = row.get(index)?;
    Uuid::parse_str(&text).map_err(|error| conversion(index, Type::Text, error))
}

/// A column holding a UUID as its 16 bytes.
pub(crate) fn uuid_blob_col(row: &Row<'_>, index: usize) -> rusqlite::Result<Uuid> {
    let value = row.get_ref(index)?;
    let bytes = value.as_blob().map_err(|error| conversion(index, Type::Blob, error))?;
    Uuid::from_slice(bytes).map_err(|error| conversion(index, Type::Blob, error))
}

pub(crate) fn opt_uuid_col(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<Uuid>> {
    row.get::<_, Option<String>>(index)?
        .map(|text| Uuid::parse_str(&text).map_err(|error| conversion(index, Type::Text, error)))
        .transpose()
}

/// A column holding the text form of a model enum (role, scope, kind, language...).
pub(crate) fn parse_col<T>(row: &Row<'_>, index: usize) -> rusqlite::Result<T>
where
    T: FromStr,
    T::Err: StdError + Send + Sync + 'static,
{
    let text: String = row.get(index)?;
    text.parse().map_err(|error| conversion(index, Type::Text, error))
}

pub(crate) fn opt_parse_col<T>(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<T>>
where
    T: FromStr,
    T::Err: StdError + Send + Sync + 'static,
{
    row.get::<_, Option<String>>(index)?
        .map(|text| text.parse().map_err(|error| conversion(index, Type::Text, error)))
        .transpose()
}

/// A column holding a JSON document.
pub(crate) fn json_col<T: serde::de::DeserializeOwned>(row: &Row<'_>, index: usize) -> rusqlite::Result<T> {
    let text: String = row.get(index)?;
    serde_json::from_str(&text).map_err(|error| conversion(index, Type::Text, error))
}

/// A column holding a count or line number, never negative.
pub(crate) fn u64_col(row: &Row<'_>, index: usize) -> rusqlite::Result<u64> {
    let value: i64 = row.get(index)?;
    u64::try_from(value).map_err(|error| conversion(index, Type::Integer, error))
}

pub(crate) fn opt_ip_col(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<IpAddr>> {
    let value = row.get_ref(index)?;
    let bytes = value.as_blob_or_null().map_err(|error| conversion(index, Type::Blob, error))?;
    let Some(bytes) = bytes else {
        return Ok(None);
    };
    let octets: [u8; 16] = bytes.try_into().map_err(|error| conversion(index, Type::Blob, error))?;
    Ok(Some(IpAddr::V6(Ipv6Addr::from(octets)).to_canonical()))
}
