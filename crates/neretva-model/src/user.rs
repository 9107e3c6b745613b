//! Users, roles and API-token scopes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::contact::Language;
use crate::{FieldError, Timestamp};

/// What a user is to the CERT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Configures the instance: users, feeds, constituency.
    Admin,
    /// CERT staff handling events, incidents and intelligence.
    Analyst,
    /// A member of a constituent organisation: sees what concerns its own organisation.
    Constituent,
    /// A member of the sharing community: reads and contributes shared intelligence.
    Community,
    /// Read-only access for oversight, including the audit log.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 5] =
        [Role::Admin, Role::Analyst, Role::Constituent, Role::Community, Role::Auditor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Constituent => "constituent",
            Role::Community => "community",
            Role::Auditor => "auditor",
        }
    }

    /// Roles that work for the CERT operating this instance when they belong to its organisation.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Admin | Role::Analyst | Role::Auditor)
    }

    /// Whether the role may change anything at all.
    pub fn may_write(self) -> bool {
        !matches!(self, Role::Auditor)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = FieldError;
    fn from_str(input: &str) -> Result<Role, FieldError> {
        Role::ALL.into_iter().find(|role| role.as_str() == input.trim()).ok_or_else(|| {
            FieldError::new(
                "role",
                format!("unknown role {input:?}; expected admin, analyst, constituent, community or auditor"),
            )
        })
    }
}

/// What an API token may do. Ordered: each scope includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Read,
    Write,
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = FieldError;
    fn from_str(input: &str) -> Result<Scope, FieldError> {
        match input.trim() {
            "read" => Ok(Scope::Read),
            "write" => Ok(Scope::Write),
            "admin" => Ok(Scope::Admin),
            _ => Err(FieldError::new(
                "scope",
                format!("unknown scope {input:?}; expected read, write or admin"),
            )),
        }
    }
}

/// A stored user, without credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: Uuid,
    pub org_id: Uuid,
    pub username: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub role: Role,
    pub language: Option<Language>,
    pub disabled: bool,
    /// Consecutive failed logins since the last success.
    pub failed_logins: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub locked_until: Option<Timestamp>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_login_at: Option<Timestamp>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
}

/// Usernames: 2 to 64 of lower-case letters, digits, `.`, `-`, `_` and `@`.
pub fn check_username(username: &str) -> Result<(), FieldError> {
    let valid = (2..=64).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_' | '@'));
    if valid {
        Ok(())
    } else {
        Err(FieldError::new(
            "username",
            format!("{username:?} must be 2 to 64 lower-case letters, digits, '.', '-', '_' or '@'"),
        ))
    }
}

/// Passwords: at least 12 characters, at most 1024.
pub fn check_password(password: &str) -> Result<(), FieldError> {
    let length = password.chars().count();
    if length < 12 {
        return Err(FieldError::new("password", "must be at least 12 characters long"));
    }
    if length > 1024 {
        return Err(FieldError::new("password", "must be at most 1024 characters long"));
    }
    Ok(())
}

/// A stored API token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Token {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub scope: Scope,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<Timestamp>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<Timestamp>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<Timestamp>,
}

impl Token {
    /// Whether the token may be used at `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|expiry| expiry > now)
    }
}
