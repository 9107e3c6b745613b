//! Authentication: passwords, API tokens, login sessions, CSRF and login rate limiting.
//!
//! Secrets (passwords, token secrets, session secrets) are stored only as argon2id hashes.
//! Token and session secrets have 256 bits of entropy; to spare an argon2 run per request, a
//! verified secret's SHA-256 is remembered in memory for a few minutes, keyed by credential id.
//! The database row is still read on every request, so revocation and expiry act at once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use neretva_model::Uuid;
use neretva_model::user::Scope;
use neretva_store::NewToken;
use sha2::{Digest, Sha256};

/// Cost of argon2id hashing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for PasswordParams {
    /// argon2id with 19 MiB, 2 iterations, 1 lane (the OWASP recommendation).
    fn default() -> PasswordParams {
        PasswordParams {
            memory_kib: Params::DEFAULT_M_COST,
            iterations: Params::DEFAULT_T_COST,
            parallelism: Params::DEFAULT_P_COST,
        }
    }
}

impl PasswordParams {
    /// The cheapest parameters argon2 accepts; for tests only, never for real deployments.
    pub fn insecure_fast() -> PasswordParams {
        PasswordParams { memory_kib: Params::MIN_M_COST, iterations: 1, parallelism: 1 }
    }

    fn hasher(self) -> Result<Argon2<'static>, AuthError> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|error| AuthError(format!("invalid argon2 parameters: {error}")))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// A failure to hash a secret; never contains the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AuthError(String);

/// Fills a buffer from the operating system's random source.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS random source failing is not recoverable and must not yield a weak secret.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut bytes).expect("operating system random source failed");
    bytes
}

/// Hashes a secret to an argon2id PHC string with a fresh random salt.
pub fn hash_secret(params: PasswordParams, secret: &str) -> Result<String, AuthError> {
    let salt: [u8; 16] = random_bytes();
    let hash = params
        .hasher()?
        .hash_password_with_salt(secret.as_bytes(), &salt)
        .map_err(|error| AuthError(format!("hashing failed: {error}")))?;
    Ok(hash.to_string())
}

/// Checks a secret against an argon2id PHC string (with the parameters stored in the string).
pub fn verify_secret(phc: &str, secret: &str) -> bool {
    Argon2::default().verify_password(secret.as_bytes(), phc).is_ok()
}

/// A valid PHC string used to spend the same time on unknown usernames as on known ones.
pub fn dummy_hash(params: PasswordParams) -> String {
    hash_secret(params, "neretva-timing-equaliser").unwrap_or_default()
}

/// A new random 256-bit secret, base64url.
pub fn random_secret() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

const TOKEN_PREFIX: &str = "nrt_";

/// The text of an API token: `nrt_<id as 32 hex>_<secret>`.
pub fn format_token(id: Uuid, secret: &str) -> String {
    format!("{TOKEN_PREFIX}{}_{secret}", id.simple())
}

/// Splits a token's text into its id and secret.
pub fn parse_token(text: &str) -> Option<(Uuid, &str)> {
    let rest = text.strip_prefix(TOKEN_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    if secret.len() != 43 {
        return None;
    }
    Some((Uuid::try_parse(id).ok()?, secret))
}

/// A new token ready to store, and the text to show its owner once.
pub fn new_token(
    params: PasswordParams,
    user_id: Uuid,
    name: &str,
    scope: Scope,
    expires_at: Option<neretva_model::Timestamp>,
) -> Result<(NewToken, String), AuthError> {
    let id = Uuid::now_v7();
    let secret = random_secret();
    let secret_hash = hash_secret(params, &secret)?;
    let token = NewToken { id, user_id, name: name.to_owned(), scope, expires_at, secret_hash };
    Ok((token, format_token(id, &secret)))
}

/// The value of the session cookie: `<id as 32 hex>.<secret>`.
pub fn format_session_cookie(id: Uuid, secret: &str) -> String {
    format!("{}.{secret}", id.simple())
}

/// Splits a session cookie into its id and secret.
pub fn parse_session_cookie(value: &str) -> Option<(Uuid, &str)> {
    let (id, secret) = value.split_once('.')?;
    if secret.len() != 43 {
        return None;
    }
    Some((Uuid::try_parse(id).ok()?, secret))
}

/// The CSRF token of a session, derived from its secret so it needs no storage.
pub fn csrf_token(session_secret: &str) -> String {
    let digest = Sha256::digest(format!("neretva-csrf:{session_secret}").as_bytes());
    hex::encode(&digest[..20])
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Remembers recently verified credential secrets (by SHA-256) to avoid re-running argon2.
#[derive(Debug, Default)]
pub struct VerifiedCache {
    entries: Mutex<HashMap<Uuid, ([u8; 32], Instant)>>,
}

const VERIFIED_TTL: Duration = Duration::from_secs(300);

impl VerifiedCache {
    /// Verifies `secret` against `phc`, using and filling the cache.
    pub fn verify(&self, id: Uuid, phc: &str, secret: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        if let Ok(entries) = self.entries.lock()
            && let Some((known, at)) = entries.get(&id)
            && *known == digest
            && at.elapsed() < VERIFIED_TTL
        {
            return true;
        }
        if !verify_secret(phc, secret) {
            return false;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() > 100_000 {
                entries.retain(|_, (_, at)| at.elapsed() < VERIFIED_TTL);
            }
            entries.insert(id, (digest, Instant::now()));
        }
        true
    }

    /// Forgets a credential, e.g. on revocation or logout.
    pub fn forget(&self, id: Uuid) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(&id);
        }
    }
}

/// Limits login attempts per client address with a token bucket.
#[derive(Debug)]
pub struct LoginRateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl LoginRateLimiter {
    pub fn new(per_minute: u32) -> LoginRateLimiter {
        LoginRateLimiter { per_minute, buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one attempt for `client`; on refusal returns the seconds to wait.
    pub fn check(&self, client: IpAddr) -> Result<(), u64> {
        let capacity = f64::from(self.per_minute.max(1));
        let refill_per_second = capacity / 60.0;
        let Ok(mut buckets) = self.buckets.lock() else { return Ok(()) };
        if buckets.len() > 100_000 {
            buckets.retain(|_, (_, at)| at.elapsed() < Duration::from_secs(60));
        }
        let now = Instant::now();
        let (tokens, last) = buckets.entry(client).or_insert((capacity, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * refill_per_second).min(capacity);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / refill_per_second).ceil() as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_hash_and_verify() {
        let params = PasswordParams::insecure_fast();
        let hash = hash_secret(params, "correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(!hash.contains("correct horse"));
        assert!(verify_secret(&hash, "correct horse battery"));
        assert!(!verify_secret(&hash, "wrong"));
        assert!(!verify_secret("not a hash", "wrong"));
    }

    #[test]
    fn token_and_cookie_formats_round_trip() {
        let id = Uuid::now_v7();
        let secret = random_secret();
        assert_eq!(secret.len(), 43);
        assert_eq!(parse_token(&format_token(id, &secret)), Some((id, secret.as_str())));
        assert_eq!(parse_session_cookie(&format_session_cookie(id, &secret)), Some((id, secret.as_str())));
        assert_eq!(parse_token("nrt_nothex_x"), None);
        assert_ne!(csrf_token(&secret), csrf_token(&random_secret()));
    }

    #[test]
    fn cache_accepts_only_the_verified_secret() {
        let params = PasswordParams::insecure_fast();
        let hash = hash_secret(params, "s3cret-s3cret").unwrap();
        let cache = VerifiedCache::default();
        let id = Uuid::now_v7();
        assert!(!cache.verify(id, &hash, "guess"));
        assert!(cache.verify(id, &hash, "s3cret-s3cret"));
        assert!(cache.verify(id, &hash, "s3cret-s3cret"));
        assert!(!cache.verify(id, &hash, "guess"));
    }

    #[test]
    fn rate_limiter_refuses_bursts() {
        let limiter = LoginRateLimiter::new(3);
        let client: IpAddr = "192.0.2.7".parse().unwrap();
        for _ in 0..3 {
            assert!(limiter.check(client).is_ok());
        }
        let wait = limiter.check(client).unwrap_err();
        assert!((1..=20).contains(&wait), "{wait}");
        assert!(limiter.check("192.0.2.8".parse().unwrap()).is_ok());
    }
}
