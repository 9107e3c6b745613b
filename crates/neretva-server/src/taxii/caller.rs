//! Who calls the TAXII server: HTTP Basic with a Neretva username and password, or an API
//! token (`Authorization: Token <key>` as taxii2-client's `TokenAuth` sends it, or `Bearer`).
//!
//! Basic authentication follows the login rules (rate limit per address for each argon2 check,
//! lock-out after repeated failures, disabled accounts refused). TAXII clients send the
//! password with every request, so a verified password is remembered for a few minutes as a
//! salted SHA-256 beside the stored hash it matched: a changed password, a lock or a disabled
//! account take effect at once, as the user and the hash are read on every request.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use neretva_model::Uuid;
use neretva_model::access::Principal;
use neretva_model::user::Scope;
use neretva_store::Actor;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::AppState;
use crate::api::auth::{LoginAttempt, check_password};
use crate::extract::{token_user, user_principal};
use crate::taxii::wire::TaxiiError;

/// How long a verified Basic password is remembered.
const REMEMBER: Duration = Duration::from_secs(300);

/// A remembered password: its salted digest, the stored hash it matched, when.
type Remembered = ([u8; 32], String, Instant);

/// Verified Basic credentials by user: a salted digest of the password and the stored hash it
/// was checked against.
#[derive(Debug)]
pub struct BasicCache {
    salt: [u8; 32],
    entries: Mutex<HashMap<Uuid, Remembered>>,
}

impl Default for BasicCache {
    fn default() -> BasicCache {
        BasicCache { salt: crate::auth::random_bytes(), entries: Mutex::new(HashMap::new()) }
    }
}

impl BasicCache {
    fn digest(&self, user: Uuid, password: &str) -> [u8; 32] {
        Sha256::new()
            .chain_update(self.salt)
            .chain_update(user.as_bytes())
            .chain_update(password.as_bytes())
            .finalize()
            .into()
    }

    fn knows(&self, user: Uuid, password: &str, stored_hash: &str) -> bool {
        let digest = self.digest(user, password);
        let Ok(entries) = self.entries.lock() else { return false };
        entries.get(&user).is_some_and(|(known, hash, at)| {
            crate::auth::constant_time_eq_bytes(known, &digest)
                && hash == stored_hash
                && at.elapsed() < REMEMBER
        })
    }

    fn remember(&self, user: Uuid, password: &str, stored_hash: &str) {
        let digest = self.digest(user, password);
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() > 100_000 {
                entries.retain(|_, (_, _, at)| at.elapsed() < REMEMBER);
            }
            entries.insert(user, (digest, stored_hash.to_owned(), Instant::now()));
        }
    }
}

/// The caller of a TAXII request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
}

impl Caller {
    /// The actor recorded in the audit log.
    pub fn actor(&self) -> Actor {
        match &self.principal {
            Principal::User(user) => Actor(format!("user:{}", user.username)),
            Principal::Anonymous => Actor("anonymous".into()),
        }
    }

    pub fn is_anonymous(&self) -> bool {
        matches!(self.principal, Principal::Anonymous)
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = TaxiiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, TaxiiError> {
        let authorization = parts.headers.get(header::AUTHORIZATION).map(|value| value.to_str());
        let Some(authorization) = authorization else {
            if state.config().taxii.anonymous {
                return Ok(Caller { principal: Principal::Anonymous });
            }
            return Err(TaxiiError::unauthorized(
                "send HTTP Basic credentials or 'Authorization: Token <key>'",
            ));
        };
        let authorization =
            authorization.map_err(|_| TaxiiError::unauthorized("the Authorization header is not text"))?;
        let (scheme, value) = authorization.trim().split_once(' ').unwrap_or((authorization, ""));
        let principal = match scheme.to_ascii_lowercase().as_str() {
            "basic" => basic(parts, state, value.trim()).await?,
            "token" | "bearer" => {
                let (user_id, scope) = token_user(state, value.trim(), OffsetDateTime::now_utc()).await?;
                user_principal(state, user_id, scope).await?
            }
            _ => {
                return Err(TaxiiError::unauthorized(
                    "unknown authorization scheme; use Basic, Token or Bearer",
                ));
            }
        };
        Ok(Caller { principal: Principal::User(principal) })
    }
}

async fn basic(
    parts: &Parts,
    state: &AppState,
    value: &str,
) -> Result<neretva_model::access::UserPrincipal, TaxiiError> {
    let malformed = || TaxiiError::unauthorized("malformed Basic credentials");
    let decoded = STANDARD.decode(value).map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (username, password) = text.split_once(':').ok_or_else(malformed)?;
    if username.len() > 256 || password.len() > 4096 {
        return Err(TaxiiError::unauthorized("invalid username or password"));
    }
    let store = state.store();
    let cache = &state.taxii().basic;
    if let Some(user) = store.find_user(&username.trim().to_lowercase()).await?
        && let Some(hash) = store.password_hash(user.id).await?
        && cache.knows(user.id, password, &hash)
    {
        let now = OffsetDateTime::now_utc();
        let locked = user.locked_until.is_some_and(|until| until > now);
        if !user.disabled && !locked {
            let registry = state.registry_fresh(Duration::from_secs(30)).await;
            return Ok(registry.principal(&user, Scope::Admin));
        }
    }
    let client = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
    let user = check_password(state, &LoginAttempt { client }, username, password).await?;
    if let Some(hash) = store.password_hash(user.id).await? {
        cache.remember(user.id, password, &hash);
    }
    let registry = state.registry_fresh(Duration::from_secs(30)).await;
    // A password is a full sign-in, as a login session is: the role alone limits it.
    Ok(registry.principal(&user, Scope::Admin))
}
