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
    /// A competent authority (NIS2 Art. 8): reads, and never changes, the incident reports and
    /// incidents of the sectors assigned to it ([`User::sectors`]).
    Authority,
    /// A law-enforcement officer (police or prosecution cybercrime unit): handles preservation
    /// requests under Budapest Convention Art. 29, and otherwise sees what its own organisation
    /// may see, like a constituent.
    #[serde(rename = "law_enforcement")]
    LawEnforcement,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Admin,
        Role::Analyst,
        Role::Constituent,
        Role::Community,
        Role::Auditor,
        Role::Authority,
        Role::LawEnforcement,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Constituent => "constituent",
            Role::Community => "community",
            Role::Auditor => "auditor",
            Role::Authority => "authority",
            Role::LawEnforcement => "law_enforcement",
        }
    }

    /// Roles that work for the CERT operating this instance when they belong to its organisation.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Admin | Role::Analyst | Role::Auditor)
    }

    /// Whether the role may change anything at all.
    pub fn may_write(self) -> bool {
        !matches!(self, Role::Auditor | Role::Authority)
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
                format!("unknown role {input:?}; expected admin, analyst, constituent, community, auditor, authority or law_enforcement"),
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
    /// The NIS2 sectors (slugs of `org::SECTORS`) a competent authority supervises; empty for
    /// every other role.
    pub sectors: Vec<String>,
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

/// The most sectors one user may supervise: every sector of NIS2 Annexes I and II.
pub const MAX_SECTORS: usize = 32;

/// A user's supervised sectors: only a competent authority has them; each must be a sector slug
/// of NIS2 Annexes I or II, listed once.
pub fn check_sectors(role: Role, sectors: &[String]) -> Result<(), FieldError> {
    if role != Role::Authority && !sectors.is_empty() {
        return Err(FieldError::new("sectors", "only a competent authority (role authority) has sectors"));
    }
    if sectors.len() > MAX_SECTORS {
        return Err(FieldError::new("sectors", format!("more than {MAX_SECTORS} sectors")));
    }
    for (index, sector) in sectors.iter().enumerate() {
        if crate::org::sector(sector).is_none() {
            let known: Vec<&str> = crate::org::SECTORS.iter().map(|s| s.slug).collect();
            return Err(FieldError::new(
                format!("sectors[{index}]"),
                format!("unknown sector {sector:?}; expected one of {}", known.join(", ")),
            ));
        }
        if sectors[..index].contains(sector) {
            return Err(FieldError::new(format!("sectors[{index}]"), format!("{sector} is listed twice")));
        }
    }
    Ok(())
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
