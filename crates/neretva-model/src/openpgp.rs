//! Validation of contacts' OpenPGP public keys.
//!
//! A contact may carry an ASCII-armoured transferable public key so that the CERT can
//! encrypt to it. [`parse_public_key`] accepts exactly one public key, checks every
//! self-signature cryptographically and rejects keys that are expired or revoked at the
//! given instant. Third-party certifications cannot be checked without the certifier's
//! key; they are ignored, neither trusted nor held against the key.
//!
//! Secret keys are rejected outright: they must never reach the store.

use std::io::Read;

use pgp::armor::{BlockType, Dearmor};
use pgp::composed::{Deserializable, SignedPublicKey, SignedPublicSubKey};
use pgp::crypto::public_key::PublicKeyAlgorithm;
use pgp::packet::{KeyFlags, PacketParser, PacketTrait, Signature, SignatureType};
use pgp::ser::Serialize as _;
use pgp::types::{
    EcdhPublicParams, EcdsaPublicParams, EddsaLegacyPublicParams, KeyDetails, PublicParams, Tag,
};
use time::OffsetDateTime;

use crate::FieldError;

/// The field that errors from this module name.
const FIELD: &str = "pgp_key";

/// The largest armoured key accepted, in bytes.
pub const MAX_ARMORED_LEN: usize = 64 * 1024;

/// How far in the future a key's creation time may lie, to allow for clock skew.
const CLOCK_SKEW: time::Duration = time::Duration::days(1);

/// What the platform keeps about a valid public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The primary key's fingerprint, upper-case hex without spaces.
    pub fingerprint: String,
    /// The user IDs with a valid, unrevoked self-signature, in the key's order.
    pub user_ids: Vec<String>,
    /// The primary key's algorithm, e.g. `Ed25519` or `RSA 3072`.
    pub algorithm: String,
    pub created_at: OffsetDateTime,
    /// When the primary key expires, if it does.
    pub expires_at: Option<OffsetDateTime>,
    /// Whether the primary key or a live subkey may encrypt.
    pub can_encrypt: bool,
    /// Whether the primary key or a live subkey may sign.
    pub can_sign: bool,
}

/// Parses and validates an ASCII-armoured OpenPGP public key as of `now`.
///
/// Every problem is reported against the field `pgp_key`.
pub fn parse_public_key(armored: &str, now: OffsetDateTime) -> Result<KeyInfo, FieldError> {
    let fail = |message: String| Err(FieldError::new(FIELD, message));
    if armored.trim().is_empty() {
        return fail("must not be empty".into());
    }
    if armored.len() > MAX_ARMORED_LEN {
        return fail(format!(
            "is {} bytes, larger than the limit of {} KiB",
            armored.len(),
            MAX_ARMORED_LEN / 1024
        ));
    }
    let bytes = dearmor(armored)?;
    reject_secret_packets(&bytes)?;
    let key = single_key(&bytes)?;
    check_key(&key, now)
}

/// Strips the ASCII armour, insisting on a public key block.
fn dearmor(armored: &str) -> Result<Vec<u8>, FieldError> {
    let trimmed = armored.trim_start();
    if !trimmed.starts_with("-----BEGIN PGP ") {
        return Err(FieldError::new(
            FIELD,
            "is not ASCII-armoured: expected a block starting with \
             -----BEGIN PGP PUBLIC KEY BLOCK-----",
        ));
    }
    let mut dearmor = Dearmor::new(trimmed.as_bytes());
    if let Err(error) = dearmor.read_header() {
        return Err(FieldError::new(FIELD, format!("has a malformed armour header: {error}")));
    }
    match dearmor.typ {
        Some(BlockType::PublicKey) => {}
        Some(BlockType::PrivateKey) => return Err(secret_key_error()),
        Some(other) => {
            return Err(FieldError::new(FIELD, format!("is a {other} block, not a PGP PUBLIC KEY BLOCK")));
        }
        None => return Err(FieldError::new(FIELD, "has a malformed armour header")),
    }
    let mut bytes = Vec::new();
    if dearmor.read_to_end(&mut bytes).is_err() {
        return Err(FieldError::new(
            FIELD,
            "has damaged armour: the base64 is invalid or the end line is missing",
        ));
    }
    if bytes.is_empty() {
        return Err(FieldError::new(FIELD, "armour contains no data"));
    }
    Ok(bytes)
}

fn secret_key_error() -> FieldError {
    FieldError::new(
        FIELD,
        "is a secret key; export the public key only (gpg --armor --export), \
         the secret key must never leave its owner",
    )
}

/// Rejects secret key material even when it is mislabelled as a public key block.
fn reject_secret_packets(bytes: &[u8]) -> Result<(), FieldError> {
    for packet in PacketParser::new(bytes).flatten() {
        if matches!(packet.tag(), Tag::SecretKey | Tag::SecretSubkey) {
            return Err(secret_key_error());
        }
    }
    Ok(())
}

/// Parses the packets as exactly one transferable public key.
fn single_key(bytes: &[u8]) -> Result<SignedPublicKey, FieldError> {
    let keys = match SignedPublicKey::from_bytes_many(bytes) {
        Ok(keys) => keys,
        Err(error) => return Err(parse_error(&error)),
    };
    let mut found = Vec::new();
    for key in keys {
        match key {
            Ok(key) => found.push(key),
            Err(error) => return Err(parse_error(&error)),
        }
    }
    let count = found.len();
    match found.pop() {
        Some(key) if count == 1 => Ok(key),
        Some(_) => Err(FieldError::new(
            FIELD,
            format!("contains {count} keys; give exactly one public key per contact"),
        )),
        None => Err(FieldError::new(FIELD, "contains no public key")),
    }
}

fn parse_error(error: &pgp::errors::Error) -> FieldError {
    FieldError::new(FIELD, format!("cannot be parsed as an OpenPGP public key: {error}"))
}

/// Checks the self-signatures, expiry and revocation of a parsed key.
fn check_key(key: &SignedPublicKey, now: OffsetDateTime) -> Result<KeyInfo, FieldError> {
    let primary = &key.primary_key;
    let fingerprint = hex::encode_upper(primary.fingerprint().as_bytes());
    let created_at = to_time(primary.created_at())?;
    if created_at > now + CLOCK_SKEW {
        return Err(FieldError::new(
            FIELD,
            format!("key {fingerprint} was created in the future, at {}", date(created_at)),
        ));
    }
    let bad_signature = |what: &str| {
        FieldError::new(FIELD, format!("self-signature on {what} of key {fingerprint} does not verify"))
    };

    // User IDs: every self-signature must verify; a user ID counts when its newest
    // self-signature is a certification rather than a revocation.
    let mut user_ids = Vec::new();
    // The newest valid self-signature over the primary key: it sets expiry and flags.
    let mut newest: Option<&Signature> = None;
    for user in &key.details.users {
        let id = String::from_utf8_lossy(user.id.id()).into_owned();
        let mut newest_for_user: Option<&Signature> = None;
        for signature in user.signatures.iter().filter(|sig| is_self_issued(sig, key)) {
            if signature.verify_certification(primary, Tag::UserId, &user.id).is_err() {
                return Err(bad_signature(&format!("user ID {id:?}")));
            }
            newest_for_user = newer(newest_for_user, signature);
        }
        if let Some(signature) = newest_for_user
            && signature.typ() != Some(SignatureType::CertRevocation)
        {
            user_ids.push(id);
            newest = newer(newest, signature);
        }
    }
    for attribute in &key.details.user_attributes {
        for signature in attribute.signatures.iter().filter(|sig| is_self_issued(sig, key)) {
            if signature.verify_certification(primary, Tag::UserAttribute, &attribute.attr).is_err() {
                return Err(bad_signature("a user attribute"));
            }
        }
    }
    for signature in key.details.direct_signatures.iter().filter(|sig| is_self_issued(sig, key)) {
        if signature.verify_key(primary).is_err() {
            return Err(bad_signature("the primary key (direct signature)"));
        }
        newest = newer(newest, signature);
    }
    let Some(newest) = newest else {
        return Err(FieldError::new(FIELD, format!("key {fingerprint} has no valid self-signed user ID")));
    };

    // A key with a valid self-issued revocation signature is revoked, whatever the reason.
    let mut revocation = None;
    for signature in key.details.revocation_signatures.iter().filter(|sig| is_self_issued(sig, key)) {
        if signature.verify_key(primary).is_err() {
            return Err(bad_signature("the revocation"));
        }
        revocation.get_or_insert(signature);
    }
    if let Some(signature) = revocation {
        let reason = signature
            .revocation_reason_string()
            .map(|reason| String::from_utf8_lossy(reason).trim().to_owned())
            .filter(|reason| !reason.is_empty())
            .map(|reason| format!(" ({reason})"))
            .unwrap_or_default();
        return Err(FieldError::new(FIELD, format!("key {fingerprint} is revoked{reason}")));
    }

    let expires_at = expiry(created_at, newest);
    if let Some(expires_at) = expires_at
        && expires_at <= now
    {
        return Err(FieldError::new(FIELD, format!("key {fingerprint} expired on {}", date(expires_at))));
    }

    let (mut can_encrypt, mut can_sign) = capabilities(newest.key_flags(), primary.algorithm());
    for subkey in &key.public_subkeys {
        if subkey.verify_bindings(primary).is_err() {
            let subkey_fpr = hex::encode_upper(subkey.key.fingerprint().as_bytes());
            return Err(FieldError::new(
                FIELD,
                format!("binding signature of subkey {subkey_fpr} does not verify"),
            ));
        }
        if let Some((encrypt, sign)) = live_subkey_capabilities(subkey, now)? {
            can_encrypt |= encrypt;
            can_sign |= sign;
        }
    }

    Ok(KeyInfo {
        fingerprint,
        user_ids,
        algorithm: algorithm_name(primary.algorithm(), primary.public_params()),
        created_at,
        expires_at,
        can_encrypt,
        can_sign,
    })
}

/// Whether the primary key made a signature; one naming no issuer is tried as such.
fn is_self_issued(signature: &Signature, key: &SignedPublicKey) -> bool {
    let issuers = signature.issuer_key_id();
    let fingerprints = signature.issuer_fingerprint();
    (issuers.is_empty() && fingerprints.is_empty())
        || issuers.iter().any(|id| **id == key.legacy_key_id())
        || fingerprints.iter().any(|fpr| **fpr == key.fingerprint())
}

/// The newer of two signatures by creation time; the later one in the key wins a tie.
fn newer<'a>(current: Option<&'a Signature>, candidate: &'a Signature) -> Option<&'a Signature> {
    match current {
        Some(current) if current.created() > candidate.created() => Some(current),
        _ => Some(candidate),
    }
}

/// What a subkey may do, if its newest binding is not a revocation and it has not expired.
fn live_subkey_capabilities(
    subkey: &SignedPublicSubKey,
    now: OffsetDateTime,
) -> Result<Option<(bool, bool)>, FieldError> {
    let newest = subkey.signatures.iter().fold(None, newer);
    let Some(newest) = newest else {
        return Ok(None);
    };
    if newest.typ() == Some(SignatureType::SubkeyRevocation) {
        return Ok(None);
    }
    let created_at = to_time(subkey.key.created_at())?;
    if let Some(expires_at) = expiry(created_at, newest)
        && expires_at <= now
    {
        return Ok(None);
    }
    Ok(Some(capabilities(newest.key_flags(), subkey.key.algorithm())))
}

/// Encryption and signing capability from key flags, or from the algorithm without flags.
fn capabilities(flags: KeyFlags, algorithm: PublicKeyAlgorithm) -> (bool, bool) {
    let encrypt = flags.encrypt_comms() || flags.encrypt_storage();
    let sign = flags.sign();
    if encrypt || sign || flags.certify() {
        return (encrypt, sign);
    }
    use PublicKeyAlgorithm as A;
    let encrypt = matches!(
        algorithm,
        A::RSA | A::RSAEncrypt | A::ECDH | A::Elgamal | A::ElgamalEncrypt | A::X25519 | A::X448
    );
    let sign =
        matches!(algorithm, A::RSA | A::RSASign | A::DSA | A::ECDSA | A::EdDSALegacy | A::Ed25519 | A::Ed448);
    (encrypt, sign)
}

/// When a key expires given its creation time and the key expiration time subpacket of its
/// newest self-signature; none or zero seconds mean it does not expire.
fn expiry(created_at: OffsetDateTime, signature: &Signature) -> Option<OffsetDateTime> {
    let seconds = i64::from(signature.key_expiration_time()?.as_secs());
    (seconds > 0).then(|| created_at.saturating_add(time::Duration::seconds(seconds)))
}

/// Converts an OpenPGP timestamp, Unix seconds in 32 bits.
fn to_time(timestamp: pgp::types::Timestamp) -> Result<OffsetDateTime, FieldError> {
    OffsetDateTime::from_unix_timestamp(i64::from(timestamp.as_secs()))
        .map_err(|_| FieldError::new(FIELD, "has a creation time out of range"))
}

/// A calendar date for messages, e.g. `2021-01-01`.
fn date(instant: OffsetDateTime) -> String {
    let date = instant.date();
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

/// A short human-readable name of a key's algorithm and size.
fn algorithm_name(algorithm: PublicKeyAlgorithm, params: &PublicParams) -> String {
    match params {
        PublicParams::RSA(_) => format!("RSA {}", leading_mpi_bits(params)),
        PublicParams::DSA(_) => format!("DSA {}", leading_mpi_bits(params)),
        PublicParams::Elgamal(_) => format!("ElGamal {}", leading_mpi_bits(params)),
        PublicParams::EdDSALegacy(params) => match params {
            EddsaLegacyPublicParams::Ed25519 { .. } => "Ed25519".into(),
            EddsaLegacyPublicParams::Unsupported { curve, .. } => format!("EdDSA {curve}"),
        },
        PublicParams::Ed25519(_) => "Ed25519".into(),
        PublicParams::Ed448(_) => "Ed448".into(),
        PublicParams::X25519(_) => "X25519".into(),
        PublicParams::X448(_) => "X448".into(),
        PublicParams::ECDSA(params) => match params {
            EcdsaPublicParams::P256 { .. } => "ECDSA P-256".into(),
            EcdsaPublicParams::P384 { .. } => "ECDSA P-384".into(),
            EcdsaPublicParams::P521 { .. } => "ECDSA P-521".into(),
            EcdsaPublicParams::Secp256k1 { .. } => "ECDSA secp256k1".into(),
            EcdsaPublicParams::Unsupported { curve, .. } => format!("ECDSA {curve}"),
        },
        PublicParams::ECDH(params) => match params {
            EcdhPublicParams::Curve25519Legacy { .. } => "Cv25519".into(),
            other => format!("ECDH {}", other.curve()),
        },
        _ => format!("{algorithm:?}"),
    }
}

/// The bit length of the first MPI of the public parameters, i.e. the modulus or prime.
fn leading_mpi_bits(params: &PublicParams) -> u16 {
    params
        .to_bytes()
        .ok()
        .and_then(|bytes| Some(u16::from_be_bytes([*bytes.first()?, *bytes.get(1)?])))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::PathBuf;

    use proptest::prelude::*;
    use time::macros::datetime;

    use super::*;

    /// An instant after every test key was made and before none of the good ones expire.
    const NOW: OffsetDateTime = datetime!(2030-01-01 0:00 UTC);

    fn dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data/openpgp")
    }

    fn key(name: &str) -> String {
        std::fs::read_to_string(dir().join(name)).unwrap()
    }

    /// The fingerprints gpg printed when it made the keys.
    fn gpg_fingerprints() -> HashMap<String, String> {
        std::fs::read_to_string(dir().join("fingerprints.txt"))
            .unwrap()
            .lines()
            .filter_map(|line| line.split_once(' '))
            .map(|(file, fpr)| (file.to_owned(), fpr.trim().to_owned()))
            .collect()
    }

    fn message(name: &str) -> String {
        let error = parse_public_key(&key(name), NOW).unwrap_err();
        assert_eq!(error.field, "pgp_key");
        error.message
    }

    #[test]
    fn ed25519_key_with_encryption_subkey() {
        let info = parse_public_key(&key("ed25519-cv25519.asc"), NOW).unwrap();
        assert_eq!(info.fingerprint, gpg_fingerprints()["ed25519-cv25519.asc"]);
        assert_eq!(info.algorithm, "Ed25519");
        assert!(info.can_sign && info.can_encrypt);
        assert_eq!(info.expires_at, None);
        let mut ids = info.user_ids.clone();
        ids.sort();
        assert_eq!(ids, ["Test <abuse@example.ba>", "Test CSIRT <csirt@example.ba>"]);
        assert!(info.created_at < NOW);
    }

    #[test]
    fn rsa_key() {
        let info = parse_public_key(&key("rsa3072.asc"), NOW).unwrap();
        assert_eq!(info.fingerprint, gpg_fingerprints()["rsa3072.asc"]);
        assert_eq!(info.algorithm, "RSA 3072");
        assert_eq!(info.user_ids, ["RSA Test <noc@example.ba>"]);
        assert!(info.can_sign && info.can_encrypt);
    }

    #[test]
    fn third_party_certifications_are_ignored() {
        let info = parse_public_key(&key("third-party-certified.asc"), NOW).unwrap();
        assert_eq!(info.fingerprint, gpg_fingerprints()["third-party-certified.asc"]);
    }

    #[test]
    fn armour_may_be_surrounded_by_white_space() {
        let padded = format!("\n\n  {}\n\n", key("rsa3072.asc"));
        assert!(parse_public_key(&padded, NOW).is_ok());
        let crlf = key("rsa3072.asc").replace('\n', "\r\n");
        assert!(parse_public_key(&crlf, NOW).is_ok());
    }

    #[test]
    fn expired_key() {
        let fpr = &gpg_fingerprints()["expired.asc"];
        assert_eq!(message("expired.asc"), format!("key {fpr} expired on 2020-12-31"));
        // The same key was fine while it was valid.
        let info = parse_public_key(&key("expired.asc"), datetime!(2020-06-01 0:00 UTC)).unwrap();
        assert_eq!(info.expires_at.map(date).as_deref(), Some("2020-12-31"));
        assert!(info.can_encrypt && info.can_sign);
    }

    #[test]
    fn revoked_key() {
        let fpr = &gpg_fingerprints()["revoked.asc"];
        assert!(message("revoked.asc").starts_with(&format!("key {fpr} is revoked")));
    }

    #[test]
    fn secret_key_is_rejected() {
        assert!(message("secret-key.asc").starts_with("is a secret key"), "{}", message("secret-key.asc"));
        // Also when its armour claims it is a public key.
        let relabelled = key("secret-key.asc").replace("PRIVATE KEY", "PUBLIC KEY");
        let error = parse_public_key(&relabelled, NOW).unwrap_err();
        assert!(error.message.starts_with("is a secret key"), "{}", error.message);
    }

    #[test]
    fn bad_self_signature() {
        let fpr = &gpg_fingerprints()["ed25519-cv25519.asc"];
        assert_eq!(
            message("bad-self-signature.asc"),
            format!("self-signature on user ID \"Evil <abuse@example.ba>\" of key {fpr} does not verify"),
        );
    }

    #[test]
    fn two_keys_in_one_block() {
        assert_eq!(message("two-keys.asc"), "contains 2 keys; give exactly one public key per contact");
    }

    #[test]
    fn empty_oversized_and_unarmoured_input() {
        let error = |input: &str| parse_public_key(input, NOW).unwrap_err().message;
        assert_eq!(error(""), "must not be empty");
        assert_eq!(error(" \n\t"), "must not be empty");
        let huge = "A".repeat(MAX_ARMORED_LEN + 1);
        assert_eq!(error(&huge), "is 65537 bytes, larger than the limit of 64 KiB");
        assert!(error("mDMEZ0ZX0BYJKwYBBAHaRw8BAQdA").starts_with("is not ASCII-armoured"));
        assert!(error("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 user@host").starts_with("is not ASCII-armoured"));
    }

    #[test]
    fn other_block_types_and_damaged_armour() {
        let error = |input: &str| parse_public_key(input, NOW).unwrap_err().message;
        let signature =
            "-----BEGIN PGP SIGNATURE-----\n\nwnUEARYKAB0WIQQ=\n=AAAA\n-----END PGP SIGNATURE-----\n";
        assert_eq!(error(signature), "is a PGP SIGNATURE block, not a PGP PUBLIC KEY BLOCK");
        let good = key("ed25519-cv25519.asc");
        let truncated = &good[..good.len() / 2];
        assert!(error(truncated).starts_with("has damaged armour"), "{}", error(truncated));
        // RFC 9580 lets readers ignore the CRC-24 line, and rPGP does: a wrong checksum
        // over intact data is accepted, damaged data is caught by parsing or signatures.
        let (body, checksum) = good.trim_end().rsplit_once("\n=").unwrap();
        let wrong = if checksum.starts_with('A') { "B" } else { "A" };
        let bad_checksum = format!("{body}\n={wrong}{}", &checksum[1..]);
        assert!(parse_public_key(&bad_checksum, NOW).is_ok());
        let (head, tail) = good.split_at(good.len() / 2);
        let swapped = tail.chars().next().map(|c| if c == 'A' { 'B' } else { 'A' }).unwrap();
        let damaged = format!("{head}{swapped}{}", &tail[1..]);
        assert!(parse_public_key(&damaged, NOW).is_err());
        let empty = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n-----END PGP PUBLIC KEY BLOCK-----\n";
        assert!(parse_public_key(empty, NOW).is_err());
    }

    #[test]
    fn key_from_the_future() {
        let error = parse_public_key(&key("rsa3072.asc"), datetime!(2000-01-01 0:00 UTC)).unwrap_err();
        assert!(error.message.contains("was created in the future"), "{}", error.message);
    }

    /// Decodes a test key to its binary packets.
    fn binary(name: &str) -> Vec<u8> {
        let armored = key(name);
        let mut dearmor = Dearmor::new(armored.as_bytes());
        let mut bytes = Vec::new();
        dearmor.read_to_end(&mut bytes).unwrap();
        bytes
    }

    /// Armours packets as a public key block with a correct checksum, so that mutated
    /// packets get past the armour and reach the packet parser.
    fn armour(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let base64 = |bytes: &[u8]| {
            let mut out = String::new();
            for chunk in bytes.chunks(3) {
                let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
                for i in 0..4 {
                    if i <= chunk.len() {
                        out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
                    } else {
                        out.push('=');
                    }
                }
            }
            out
        };
        let mut crc: u32 = 0xB7_04CE;
        for byte in bytes {
            crc ^= u32::from(*byte) << 16;
            for _ in 0..8 {
                crc <<= 1;
                if crc & 0x100_0000 != 0 {
                    crc ^= 0x186_4CFB;
                }
            }
        }
        let crc = (crc & 0xFF_FFFF).to_be_bytes();
        let body = base64(bytes);
        let lines: Vec<&str> = body.as_bytes().chunks(64).map(|l| std::str::from_utf8(l).unwrap()).collect();
        format!(
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n{}\n={}\n-----END PGP PUBLIC KEY BLOCK-----\n",
            lines.join("\n"),
            base64(&crc[1..]),
        )
    }

    #[test]
    fn armour_helper_round_trips() {
        let info = parse_public_key(&armour(&binary("rsa3072.asc")), NOW).unwrap();
        assert_eq!(info.fingerprint, gpg_fingerprints()["rsa3072.asc"]);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Mutated armour gives an error or a key, never a panic.
        #[test]
        fn mutated_armour_never_panics(
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            cut in any::<prop::sample::Index>(),
            truncate in any::<bool>(),
        ) {
            let mut bytes = key("ed25519-cv25519.asc").into_bytes();
            for (at, byte) in edits {
                let at = at.index(bytes.len());
                bytes[at] = byte;
            }
            if truncate {
                bytes.truncate(cut.index(bytes.len()));
            }
            let text = String::from_utf8_lossy(&bytes);
            let _ = parse_public_key(&text, NOW);
        }

        /// Bit flips, overwritten bytes and truncation of the packets under a valid armour
        /// never panic, and never turn the key into a different valid key.
        #[test]
        fn mutated_packets_never_panic(
            rsa in any::<bool>(),
            flips in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 0..4),
            writes in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
            cut in proptest::option::of(any::<prop::sample::Index>()),
        ) {
            let name = if rsa { "rsa3072.asc" } else { "ed25519-cv25519.asc" };
            let mut bytes = binary(name);
            for (at, bit) in flips {
                let at = at.index(bytes.len());
                bytes[at] ^= 1 << bit;
            }
            for (at, byte) in writes {
                let at = at.index(bytes.len());
                bytes[at] = byte;
            }
            if let Some(cut) = cut {
                bytes.truncate(cut.index(bytes.len()));
            }
            if let Ok(info) = parse_public_key(&armour(&bytes), NOW) {
                prop_assert_eq!(&info.fingerprint, &gpg_fingerprints()[name]);
            }
        }

        /// Arbitrary text that looks like the inside of armour.
        #[test]
        fn garbage_after_header_never_panics(body in "[A-Za-z0-9+/=\n]{0,400}") {
            let text = format!("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n{body}\n-----END PGP PUBLIC KEY BLOCK-----\n");
            prop_assert!(parse_public_key(&text, NOW).is_err());
        }
    }
}
