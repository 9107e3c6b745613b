//! Conversions between PostgreSQL rows and model types, and the mapping of driver errors.

use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

pub(crate) use neretva_store::encode::{
    check_text, fold, ip_key, ip_range, now, to_i64, truncate, without_nul,
};

use neretva_store::StoreError;
use tokio_postgres::error::SqlState;

/// The error of the store functions; converts from driver errors with `?`.
#[derive(Debug)]
pub(crate) struct Error(pub(crate) StoreError);

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Error {
        Error(error)
    }
}

impl From<tokio_postgres::Error> for Error {
    fn from(error: tokio_postgres::Error) -> Error {
        Error(store_error(&error))
    }
}

impl From<deadpool_postgres::PoolError> for Error {
    fn from(error: deadpool_postgres::PoolError) -> Error {
        Error(StoreError::Backend(format!("connection pool: {}", describe(&error))))
    }
}

/// Unique constraints by name, and the field each one protects.
const UNIQUE_FIELDS: &[(&str, &str, &str)] = &[
    ("organisations_name_key", "name", "an organisation with this name already exists"),
    ("organisations_short_name_key", "short_name", "an organisation with this short name already exists"),
    ("users_username_key", "username", "a user with this username already exists"),
    ("assets_org_kind_value_key", "value", "the organisation already has this asset"),
    ("taxii_collections_alias_key", "alias", "a collection with this alias already exists"),
];

/// Foreign keys by name, and the field that refers through each one.
const FOREIGN_FIELDS: &[(&str, &str, &str)] = &[
    ("organisations_parent_fkey", "parent_id", "the parent organisation does not exist"),
    ("contacts_org_fkey", "org_id", "the organisation does not exist"),
    ("assets_org_fkey", "org_id", "the organisation does not exist"),
    ("users_org_fkey", "org_id", "the organisation does not exist or still has users"),
    ("tokens_user_fkey", "user_id", "the user does not exist"),
    ("sessions_user_fkey", "user_id", "the user does not exist"),
    ("taxii_collections_owner_fkey", "owner_org", "the organisation does not exist"),
    ("taxii_objects_collection_fkey", "collection_id", "the collection does not exist"),
];

/// Maps a driver error: constraint violations become conflicts naming the field.
pub(crate) fn store_error(error: &tokio_postgres::Error) -> StoreError {
    let Some(db) = error.as_db_error() else {
        return StoreError::Backend(describe(error));
    };
    let constraint = db.constraint().unwrap_or_default();
    let table = if *db.code() == SqlState::UNIQUE_VIOLATION {
        UNIQUE_FIELDS
    } else if *db.code() == SqlState::FOREIGN_KEY_VIOLATION {
        FOREIGN_FIELDS
    } else {
        return StoreError::Backend(format!("{}: {}", db.code().code(), db.message()));
    };
    match table.iter().find(|(name, _, _)| *name == constraint) {
        Some((_, field, message)) => StoreError::conflict(*field, *message),
        None if constraint.ends_with("_pkey") => {
            StoreError::conflict("id", "an object with this id already exists")
        }
        None => StoreError::conflict("id", db.message()),
    }
}

/// An error with its causes, which the driver's own message leaves out.
pub(crate) fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Parses the text form of a model enum read from the database.
pub(crate) fn parse<T>(column: &str, text: &str) -> Result<T>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    text.parse()
        .map_err(|error| Error(StoreError::Backend(format!("column {column} holds {text:?}: {error}"))))
}

/// A stored count or line number, never negative.
pub(crate) fn to_u64(column: &str, value: i64) -> Result<u64> {
    u64::try_from(value).map_err(|_| Error(StoreError::Backend(format!("column {column} holds {value}"))))
}

/// A stored address.
pub(crate) fn ip_from_key(column: &str, bytes: Option<&[u8]>) -> Result<Option<IpAddr>> {
    let Some(bytes) = bytes else { return Ok(None) };
    let octets: [u8; 16] = bytes.try_into().map_err(|_| {
        Error(StoreError::Backend(format!("column {column} holds {} bytes, not an address", bytes.len())))
    })?;
    Ok(Some(IpAddr::V6(Ipv6Addr::from(octets)).to_canonical()))
}

/// A deduplication key as stored: a key of 64 lower-case hex digits (a SHA-256) as its first
/// 16 bytes, any other key as its UTF-8 bytes followed by one NUL, or two when that would make
/// 16 bytes. Keys hold no NUL (`check_text`), so the forms never meet and distinct keys stay
/// distinct. The SQLite backend stores them alike.
pub(crate) fn dedup_key(key: &str) -> Vec<u8> {
    let bytes = key.as_bytes();
    if bytes.len() == 64 && bytes.iter().all(|byte| hex_digit(*byte).is_some()) {
        return bytes[..32]
            .chunks_exact(2)
            .map(|pair| hex_digit(pair[0]).unwrap_or(0) << 4 | hex_digit(pair[1]).unwrap_or(0))
            .collect();
    }
    let mut other = Vec::with_capacity(bytes.len() + 2);
    other.extend_from_slice(bytes);
    other.push(0);
    if other.len() == 16 {
        other.push(0);
    }
    other
}

/// Lower-case hex digits only: an upper-case key is another key.
fn hex_digit(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        _ => None,
    }
}
