//! PGP/MIME (RFC 3156) with rPGP: the CERT's signing key, contacts' encryption keys, and the
//! `multipart/signed` and `multipart/encrypted` entities.
//!
//! Randomness is an argument (`rng`), so this module stays free of IO and its callers decide
//! where randomness comes from.

use neretva_model::openpgp::parse_public_key;
use pgp::composed::{
    ArmorOptions, Deserializable, DetachedSignature, MessageBuilder, SignedPublicKey, SignedPublicSubKey,
    SignedSecretKey,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::crypto::sym::SymmetricKeyAlgorithm;
use pgp::packet::Signature;
use pgp::types::{KeyDetails, Password};
use rand::{CryptoRng, Rng};
use time::OffsetDateTime;

use crate::NotifyError;
use crate::mime::{Entity, multipart};

/// The largest armoured secret key accepted, in bytes.
pub const MAX_SECRET_KEY_LEN: usize = 64 * 1024;

/// The CERT's signing key, unlocked by its passphrase when it signs.
pub struct Signer {
    key: SignedSecretKey,
    password: Password,
    /// Which key signs: the primary (`None`) or a secret subkey.
    subkey: Option<usize>,
    fingerprint: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("fingerprint", &self.fingerprint).finish_non_exhaustive()
    }
}

fn key_error(message: impl Into<String>) -> NotifyError {
    NotifyError::Key { message: message.into() }
}

/// Whether a signature's key flags allow signing.
fn flags_sign(signature: &Signature) -> bool {
    signature.key_flags().sign()
}

impl Signer {
    /// Reads an ASCII-armoured secret key and checks, by signing a test text, that the
    /// passphrase unlocks it.
    pub fn from_armored(armored: &str, passphrase: &str) -> Result<Signer, NotifyError> {
        if armored.len() > MAX_SECRET_KEY_LEN {
            return Err(key_error(format!(
                "the signing key is larger than {} KiB",
                MAX_SECRET_KEY_LEN / 1024
            )));
        }
        let (mut key, _) = SignedSecretKey::from_armor_single(armored.as_bytes())
            .map_err(|error| key_error(format!("the signing key cannot be read: {error}")))?;
        key.verify_bindings().map_err(|error| {
            key_error(format!("the signing key's self-signatures do not verify: {error}"))
        })?;
        let primary_signs = key.details.users.iter().flat_map(|user| &user.signatures).any(flags_sign)
            || key.details.direct_signatures.iter().any(flags_sign);
        let subkey = if primary_signs {
            None
        } else {
            let index = key
                .secret_subkeys
                .iter()
                .position(|subkey| subkey.signatures.iter().any(flags_sign))
                .ok_or_else(|| key_error("the signing key has no key that may sign"))?;
            Some(index)
        };
        let fingerprint = hex::encode_upper(key.primary_key.fingerprint().as_bytes());
        // Unlock the key once: a key protected by GnuPG's iterated S2K costs tens of megabytes
        // of hashing to unlock, which would otherwise be paid for every signature.
        let password = Password::from(passphrase);
        let wrong = |_| key_error("the signing key cannot be unlocked: wrong passphrase");
        key.primary_key.remove_password(&password).map_err(wrong)?;
        if let Some(subkey) = subkey.and_then(|index| key.secret_subkeys.get_mut(index)) {
            subkey.key.remove_password(&password).map_err(wrong)?;
        }
        let signer = Signer { key, password: Password::empty(), subkey, fingerprint };
        // Version 4 signatures need no randomness; a fixed seed serves the check.
        let rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(0);
        signer
            .sign_bytes(rng, b"passphrase check")
            .map_err(|_| key_error("the signing key cannot sign: wrong passphrase or unsupported key"))?;
        Ok(signer)
    }

    /// The primary key's fingerprint, upper-case hex.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The public part, ASCII-armoured (for publishing and for tests that verify).
    pub fn public_key_armored(&self) -> Result<String, NotifyError> {
        let public = SignedPublicKey::from(self.key.clone());
        public
            .to_armored_string(ArmorOptions::default())
            .map_err(|error| key_error(format!("cannot armour the public key: {error}")))
    }

    fn sign_bytes<R: Rng + CryptoRng>(&self, rng: R, data: &[u8]) -> Result<DetachedSignature, NotifyError> {
        let result = match self.subkey.and_then(|index| self.key.secret_subkeys.get(index)) {
            Some(subkey) => DetachedSignature::sign_binary_data(
                rng,
                &subkey.key,
                &self.password,
                HashAlgorithm::Sha256,
                data,
            ),
            None => DetachedSignature::sign_binary_data(
                rng,
                &self.key.primary_key,
                &self.password,
                HashAlgorithm::Sha256,
                data,
            ),
        };
        result.map_err(|error| NotifyError::Crypto { message: format!("signing failed: {error}") })
    }

    /// A detached signature of `data`, ASCII-armoured with CRLF line endings.
    pub fn sign_armored<R: Rng + CryptoRng>(&self, rng: R, data: &[u8]) -> Result<String, NotifyError> {
        let signature = self.sign_bytes(rng, data)?;
        let armored = signature.to_armored_string(ArmorOptions::default()).map_err(|error| {
            NotifyError::Crypto { message: format!("cannot armour the signature: {error}") }
        })?;
        Ok(crlf(&armored))
    }
}

/// Text with every line break as CRLF.
fn crlf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// A contact's public key, checked and able to encrypt.
#[derive(Debug, Clone)]
pub struct RecipientKey {
    key: SignedPublicKey,
    /// The subkey to encrypt to, or `None` for the primary key.
    subkey: Option<usize>,
    pub fingerprint: String,
}

impl RecipientKey {
    /// Checks a contact's armoured public key at `now` (validity, expiry, revocation, as the
    /// registry does) and finds a live key that may encrypt.
    pub fn parse(armored: &str, now: OffsetDateTime) -> Result<RecipientKey, NotifyError> {
        let info = parse_public_key(armored, now).map_err(|error| key_error(error.message))?;
        if !info.can_encrypt {
            return Err(key_error(format!("key {} has no key that may encrypt", info.fingerprint)));
        }
        let (key, _) = SignedPublicKey::from_armor_single(armored.trim_start().as_bytes())
            .map_err(|error| key_error(format!("key cannot be read: {error}")))?;
        let subkey = key.public_subkeys.iter().position(|subkey| subkey_encrypts(subkey, now));
        let primary_encrypts = key.details.users.iter().flat_map(|user| &user.signatures).any(|signature| {
            let flags = signature.key_flags();
            flags.encrypt_comms() || flags.encrypt_storage()
        });
        if subkey.is_none() && !primary_encrypts {
            return Err(key_error(format!("key {} has no live key that may encrypt", info.fingerprint)));
        }
        Ok(RecipientKey { key, subkey, fingerprint: info.fingerprint })
    }

    /// `data` encrypted to this key (SEIPD version 1 with AES-256, which every current
    /// OpenPGP implementation reads), ASCII-armoured with CRLF line endings.
    pub fn encrypt_armored<R: Rng + CryptoRng>(
        &self,
        mut rng: R,
        data: &[u8],
    ) -> Result<String, NotifyError> {
        let fail = |error: pgp::errors::Error| NotifyError::Crypto {
            message: format!("encryption failed: {error}"),
        };
        let mut builder =
            MessageBuilder::from_bytes("", data.to_vec()).seipd_v1(&mut rng, SymmetricKeyAlgorithm::AES256);
        match self.subkey.and_then(|index| self.key.public_subkeys.get(index)) {
            Some(subkey) => builder.encrypt_to_key(&mut rng, subkey).map_err(fail)?,
            None => builder.encrypt_to_key(&mut rng, &self.key.primary_key).map_err(fail)?,
        };
        let armored = builder.to_armored_string(&mut rng, ArmorOptions::default()).map_err(fail)?;
        Ok(crlf(&armored))
    }
}

/// Whether a subkey's binding verifies, is not revoked, has not expired and allows encryption.
fn subkey_encrypts(subkey: &SignedPublicSubKey, now: OffsetDateTime) -> bool {
    let newest = subkey.signatures.iter().max_by_key(|signature| signature.created().map(|t| t.as_secs()));
    let Some(newest) = newest else { return false };
    if newest.typ() == Some(pgp::packet::SignatureType::SubkeyRevocation) {
        return false;
    }
    if let Some(validity) = newest.key_expiration_time() {
        let seconds = i64::from(validity.as_secs());
        let created = i64::from(subkey.key.created_at().as_secs());
        if seconds > 0 && created + seconds <= now.unix_timestamp() {
            return false;
        }
    }
    let flags = newest.key_flags();
    flags.encrypt_comms() || flags.encrypt_storage()
}

/// `multipart/signed` (RFC 3156, section 5) over `entity`, signed by `signer` with SHA-256.
pub fn sign_entity<R: Rng + CryptoRng>(
    rng: R,
    signer: &Signer,
    entity: &Entity,
    boundary: &str,
) -> Result<Entity, NotifyError> {
    let signed = entity.to_bytes();
    let signature = signer.sign_armored(rng, &signed)?;
    let signature_part = Entity {
        headers: vec![
            ("Content-Type".into(), "application/pgp-signature; name=\"signature.asc\"".into()),
            ("Content-Description".into(), "OpenPGP digital signature".into()),
            ("Content-Disposition".into(), "attachment; filename=\"signature.asc\"".into()),
        ],
        body: signature.into_bytes(),
    };
    Ok(multipart(
        "multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"",
        boundary,
        &[entity.clone(), signature_part],
    ))
}

/// `multipart/encrypted` (RFC 3156, section 4) holding `entity` encrypted to `key`.
pub fn encrypt_entity<R: Rng + CryptoRng>(
    rng: R,
    key: &RecipientKey,
    entity: &Entity,
    boundary: &str,
) -> Result<Entity, NotifyError> {
    let encrypted = key.encrypt_armored(rng, &entity.to_bytes())?;
    let control = Entity {
        headers: vec![
            ("Content-Type".into(), "application/pgp-encrypted".into()),
            ("Content-Description".into(), "PGP/MIME version identification".into()),
        ],
        body: b"Version: 1\r\n".to_vec(),
    };
    let data = Entity {
        headers: vec![
            ("Content-Type".into(), "application/octet-stream; name=\"encrypted.asc\"".into()),
            ("Content-Description".into(), "OpenPGP encrypted message".into()),
            ("Content-Disposition".into(), "inline; filename=\"encrypted.asc\"".into()),
        ],
        body: encrypted.into_bytes(),
    };
    Ok(multipart("multipart/encrypted; protocol=\"application/pgp-encrypted\"", boundary, &[control, data]))
}
