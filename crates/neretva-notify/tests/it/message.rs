//! Whole messages: MIME structure, the PGP/MIME signature verified and the encryption undone
//! with rPGP, and the attachments read back into the same events. (The notifier's tests do the
//! same with GnuPG after a real SMTP delivery.)

use neretva_event::Event;
use neretva_model::contact::Language;
use neretva_model::tlp::Tlp;
use neretva_notify::attachments::{read_csv, read_json};
use neretva_notify::mime::Mailbox;
use neretva_notify::openpgp::{RecipientKey, Signer};
use neretva_notify::render::{DigestInput, Overrides, Renderer};
use neretva_notify::{Envelope, NotifyError, compose, digest_content};
use pgp::composed::{Deserializable, DetachedSignature, Message, SignedPublicKey, SignedSecretKey};
use pgp::types::Password;
use rand::SeedableRng;
use rand::rngs::StdRng;
use time::macros::datetime;

use crate::{events, key};

/// Header fields (unfolded) and body of an entity.
fn split(entity: &[u8]) -> (Vec<(String, String)>, &[u8]) {
    let end = entity.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = std::str::from_utf8(&entity[..end]).unwrap().replace("\r\n ", " ");
    let headers = head
        .split("\r\n")
        .map(|line| {
            let (name, value) = line.split_once(": ").unwrap();
            (name.to_owned(), value.to_owned())
        })
        .collect();
    (headers, &entity[end + 4..])
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).unwrap()
}

fn boundary(content_type: &str) -> String {
    let at = content_type.find("boundary=\"").unwrap() + "boundary=\"".len();
    content_type[at..].split('"').next().unwrap().to_owned()
}

/// The parts of a multipart body, exactly as delimited (RFC 2046: the CRLF before a
/// delimiter belongs to it).
fn parts<'a>(body: &'a [u8], boundary: &str) -> Vec<&'a [u8]> {
    let opening = format!("--{boundary}\r\n");
    let delimiter = format!("\r\n--{boundary}");
    let start = body.windows(opening.len()).position(|w| w == opening.as_bytes()).unwrap() + opening.len();
    let mut rest = &body[start..];
    let mut found = Vec::new();
    loop {
        let at = rest.windows(delimiter.len()).position(|w| w == delimiter.as_bytes()).unwrap();
        found.push(&rest[..at]);
        rest = &rest[at + delimiter.len()..];
        if rest.starts_with(b"--") {
            return found;
        }
        rest = &rest[2..];
    }
}

fn decode_base64(text: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let clean: Vec<u8> = text.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(clean).unwrap()
}

struct Built {
    raw: Vec<u8>,
    events: Vec<Event>,
}

fn build(recipient_key: Option<&str>) -> Built {
    let events = events();
    let refs: Vec<&Event> = events.iter().collect();
    let renderer = Renderer::new(&Overrides::new()).unwrap();
    let input = DigestInput {
        cert: "CERT-BIH",
        org: "Elektroprivreda",
        org_short: "EP",
        language: Language::SrCyrl,
        tlp: Tlp::AmberStrict,
        events: &refs,
        suppressed: 0,
    };
    let content = digest_content(&renderer, &input).unwrap();
    let signer = Signer::from_armored(&key("cert-secret.asc"), "correct horse battery staple").unwrap();
    let recipient = recipient_key
        .map(|armored| RecipientKey::parse(&key(armored), datetime!(2026-12-01 0:00 UTC)).unwrap());
    let from = Mailbox { name: Some("CERT-BIH".into()), address: "cert@cert.example.ba".into() };
    let to = Mailbox {
        name: Some("Служба за злоупотребе".into()), address: "abuse@ep.example.ba".into()
    };
    let envelope = Envelope {
        from: &from,
        to: &to,
        message_id: "0193a1b2-0000-7000-8000-000000000001@cert.example.ba",
        date: datetime!(2026-11-28 6:00 UTC),
    };
    let raw = compose(StdRng::seed_from_u64(7), &content, &envelope, &signer, recipient.as_ref()).unwrap();
    Built { raw, events }
}

/// Checks a `multipart/signed` entity: its signature verifies over the first part, which is
/// the `multipart/mixed` digest with the body and both attachments.
fn check_signed(entity: &[u8], events: &[Event]) {
    let (headers, body) = split(entity);
    let content_type = header(&headers, "Content-Type");
    assert!(content_type.starts_with("multipart/signed;"), "{content_type}");
    assert!(content_type.contains("micalg=pgp-sha256"), "{content_type}");
    assert!(content_type.contains("protocol=\"application/pgp-signature\""), "{content_type}");
    let signed_parts = parts(body, &boundary(content_type));
    assert_eq!(signed_parts.len(), 2);
    let (signature_headers, signature) = split(signed_parts[1]);
    assert!(header(&signature_headers, "Content-Type").starts_with("application/pgp-signature"));
    let (signature, _) = DetachedSignature::from_armor_single(signature).unwrap();
    let (cert, _) = SignedPublicKey::from_armor_single(key("cert-public.asc").as_bytes()).unwrap();
    signature.verify(&cert.primary_key, signed_parts[0]).unwrap();
    // A changed byte breaks the signature.
    let mut tampered = signed_parts[0].to_vec();
    let last = tampered.len() - 10;
    tampered[last] ^= 1;
    assert!(signature.verify(&cert.primary_key, &tampered).is_err());

    let (mixed_headers, mixed) = split(signed_parts[0]);
    let mixed_type = header(&mixed_headers, "Content-Type");
    assert!(mixed_type.starts_with("multipart/mixed;"), "{mixed_type}");
    let mixed_parts = parts(mixed, &boundary(mixed_type));
    assert_eq!(mixed_parts.len(), 3);
    let (text_headers, _) = split(mixed_parts[0]);
    assert_eq!(header(&text_headers, "Content-Type"), "text/plain; charset=utf-8");
    assert_eq!(header(&text_headers, "Content-Transfer-Encoding"), "quoted-printable");
    let (csv_headers, csv) = split(mixed_parts[1]);
    assert!(header(&csv_headers, "Content-Disposition").contains("filename=\"events.csv\""));
    let csv = String::from_utf8(decode_base64(csv)).unwrap();
    assert_eq!(read_csv(&csv).unwrap(), events);
    let (_, json) = split(mixed_parts[2]);
    let json = String::from_utf8(decode_base64(json)).unwrap();
    assert_eq!(read_json(&json).unwrap(), events);
}

fn check_7bit(raw: &[u8]) {
    assert!(raw.iter().all(|b| *b == b'\r' || *b == b'\n' || (32..127).contains(b)), "7-bit only");
    let text = std::str::from_utf8(raw).unwrap();
    assert!(!text.replace("\r\n", "").contains(['\r', '\n']), "CRLF line endings only");
    assert!(text.split("\r\n").all(|line| line.len() <= 998));
}

#[test]
fn signed_message() {
    let built = build(None);
    check_7bit(&built.raw);
    let (headers, _) = split(&built.raw);
    assert_eq!(header(&headers, "Message-ID"), "<0193a1b2-0000-7000-8000-000000000001@cert.example.ba>");
    assert_eq!(header(&headers, "Date"), "Sat, 28 Nov 2026 06:00:00 +0000");
    assert_eq!(header(&headers, "MIME-Version"), "1.0");
    assert!(header(&headers, "Subject").starts_with("=?UTF-8?B?"));
    assert!(header(&headers, "To").ends_with("<abuse@ep.example.ba>"));
    // The top-level entity is the signed one: its header fields are the message's own.
    let end = built.raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let content_type_at = std::str::from_utf8(&built.raw[..end]).unwrap().find("Content-Type:").unwrap();
    check_signed(&built.raw[content_type_at..], &built.events);
}

#[test]
fn signed_then_encrypted_message() {
    for (public, secret) in
        [("contact-public.asc", "contact-secret.asc"), ("rsa-public.asc", "rsa-secret.asc")]
    {
        let built = build(Some(public));
        check_7bit(&built.raw);
        let (headers, body) = split(&built.raw);
        let content_type = header(&headers, "Content-Type");
        assert!(content_type.starts_with("multipart/encrypted;"), "{content_type}");
        assert!(content_type.contains("protocol=\"application/pgp-encrypted\""));
        let encrypted_parts = parts(body, &boundary(content_type));
        assert_eq!(encrypted_parts.len(), 2);
        let (control_headers, control) = split(encrypted_parts[0]);
        assert_eq!(header(&control_headers, "Content-Type"), "application/pgp-encrypted");
        assert_eq!(control, b"Version: 1\r\n");
        let (_, armored) = split(encrypted_parts[1]);
        let (secret_key, _) = SignedSecretKey::from_armor_single(key(secret).as_bytes()).unwrap();
        let (message, _) = Message::from_armor(armored).unwrap();
        let mut decrypted = message.decrypt(&Password::empty(), &secret_key).unwrap();
        let inner = decrypted.as_data_vec().unwrap();
        check_signed(&inner, &built.events);
        // Nothing of the events is readable outside the encryption.
        let text = String::from_utf8_lossy(&built.raw);
        assert!(!text.contains("192.0.2.7") && !text.contains("emotet"));
    }
}

#[test]
fn keys_that_cannot_be_used_are_refused() {
    let now = datetime!(2026-12-01 0:00 UTC);
    let error = RecipientKey::parse(&key("sign-only-public.asc"), now).unwrap_err();
    assert!(matches!(&error, NotifyError::Key { message } if message.contains("may encrypt")), "{error}");
    let error = RecipientKey::parse("not a key", now).unwrap_err().to_string();
    assert!(error.contains("ASCII-armoured"), "{error}");
    let error = Signer::from_armored(&key("cert-secret.asc"), "wrong passphrase").unwrap_err().to_string();
    assert!(error.contains("wrong passphrase"), "{error}");
    let error = Signer::from_armored(&key("cert-public.asc"), "").unwrap_err().to_string();
    assert!(error.contains("cannot be read"), "{error}");
    let signer = Signer::from_armored(&key("cert-secret.asc"), "correct horse battery staple").unwrap();
    assert_eq!(signer.fingerprint().len(), 40);
}
