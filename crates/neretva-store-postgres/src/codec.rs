//! Conversions between PostgreSQL rows and model types, and the mapping of driver errors.

use std::str::FromStr;

use neretva_model::Timestamp;
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
        Error(StoreError::Backend(format!(
            "connection pool: {}",
            describe(&error)
        )))
    }
}

/// Unique constraints by name, and the field each one protects.
const UNIQUE_FIELDS: &[(&str, &str, &str)] = &[
    (
        "organisations_name_key",
        "name",
        "an organisation with this name already exists",
    ),
    (
        "organisations_short_name_key",
        "short_name",
        "an organisation with this short name already exists",
    ),
    (
        "users_username_key",
        "username",
        "a user with this username already exists",
    ),
    (
        "assets_org_kind_value_key",
        "value",
        "the organisation already has this asset",
    ),
];

/// Foreign keys by name, and the field that refers through each one.
const FOREIGN_FIELDS: &[(&str, &str, &str)] = &[
    (
        "organisations_parent_fkey",
        "parent_id",
        "the parent organisation does not exist",
    ),
    (
        "contacts_org_fkey",
        "org_id",
        "the organisation does not exist",
    ),
    (
        "assets_org_fkey",
        "org_id",
        "the organisation does not exist",
    ),
    (
        "users_org_fkey",
        "org_id",
        "the organisation does not exist or still has users",
    ),
    ("tokens_user_fkey", "user_id", "the user does not exist"),
    ("sessions_user_fkey", "user_id", "the user does not exist"),
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

/// The current time, truncated to the microseconds the database keeps.
pub(crate) fn now() -> Timestamp {
    truncate(Timestamp::now_utc())
}

/// Drops the nanoseconds below a microsecond.
pub(crate) fn truncate(at: Timestamp) -> Timestamp {
    at.replace_nanosecond(at.nanosecond() / 1000 * 1000)
        .unwrap_or(at)
}

/// Parses the text form of a model enum read from the database.
pub(crate) fn parse<T>(column: &str, text: &str) -> Result<T>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|error| {
        Error(StoreError::Backend(format!(
            "column {column} holds {text:?}: {error}"
        )))
    })
}

/// The key that makes names and short names unique regardless of case.
pub(crate) fn fold(text: &str) -> String {
    text.to_lowercase()
}
