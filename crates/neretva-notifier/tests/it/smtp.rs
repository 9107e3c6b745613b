//! Delivery through a real SMTP server, checked with GnuPG; refusing and silent servers.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration as StdDuration;

use neretva_event::Event;
use neretva_model::contact::Language;
use neretva_notify::attachments::{read_csv, read_json};
use neretva_store::Store;
use neretva_store::notifications::{DeliveryStatus, MessageQuery, StoredMessage};
use time::Duration;

use crate::mime::{base64, boundary, header, parts, split, top_entity};
use crate::{TempDir, config, contact, events, key, notifier, now, org, start_smtp, store};

/// The Python interpreter with aiosmtpd, when the SMTP tests are to run.
fn python() -> Option<String> {
    std::env::var("NERETVA_TEST_PYTHON_SMTP").ok().filter(|p| !p.is_empty())
}

/// A GnuPG home with the CERT's public key and the contacts' secret keys.
struct Gpg {
    home: TempDir,
}

impl Gpg {
    fn new() -> Gpg {
        let home = TempDir::new("gnupg");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&home.0, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let gpg = Gpg { home };
        for file in ["cert-public.asc", "contact-secret.asc", "rsa-secret.asc"] {
            let path = gpg.home.0.join(file);
            std::fs::write(&path, key(file)).unwrap();
            let (ok, output) = gpg.run(&["--import", path.to_str().unwrap()]);
            assert!(ok, "gpg --import {file}: {output}");
        }
        gpg
    }

    /// Runs gpg; returns success and its status and error output.
    fn run(&self, args: &[&str]) -> (bool, String) {
        let output = Command::new("gpg")
            .env("GNUPGHOME", &self.home.0)
            .args([
                "--batch",
                "--yes",
                "--no-tty",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
                "--status-fd",
                "1",
            ])
            .args(args)
            .output()
            .unwrap_or_else(|error| panic!("gpg cannot run (install GnuPG): {error}"));
        let text =
            format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        (output.status.success(), text)
    }

    /// Verifies a detached signature over `data`; returns the signing key's fingerprint.
    fn verify(&self, data: &[u8], signature: &[u8]) -> String {
        let (data_path, signature_path) = (self.home.0.join("data"), self.home.0.join("data.asc"));
        std::fs::write(&data_path, data).unwrap();
        std::fs::write(&signature_path, signature).unwrap();
        let (ok, output) =
            self.run(&["--verify", signature_path.to_str().unwrap(), data_path.to_str().unwrap()]);
        assert!(ok && output.contains("[GNUPG:] GOODSIG"), "gpg --verify failed: {output}");
        let valid = output.lines().find(|l| l.starts_with("[GNUPG:] VALIDSIG ")).expect("VALIDSIG");
        valid.split_whitespace().nth(2).unwrap().to_owned()
    }

    fn decrypt(&self, armored: &[u8]) -> Vec<u8> {
        let (input, output_path) = (self.home.0.join("in.asc"), self.home.0.join("out"));
        std::fs::write(&input, armored).unwrap();
        let (ok, output) =
            self.run(&["--output", output_path.to_str().unwrap(), "--decrypt", input.to_str().unwrap()]);
        assert!(ok && output.contains("[GNUPG:] DECRYPTION_OKAY"), "gpg --decrypt failed: {output}");
        std::fs::read(output_path).unwrap()
    }
}

/// The messages the sink received, by recipient.
fn received(directory: &Path) -> BTreeMap<String, Vec<Vec<u8>>> {
    let mut found: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    let mut names: Vec<String> = std::fs::read_dir(directory)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".eml") && !name.starts_with('.'))
        .collect();
    names.sort();
    for name in names {
        let recipient = name.trim_end_matches(".eml").split_once('-').unwrap().1.to_owned();
        found.entry(recipient).or_default().push(std::fs::read(directory.join(&name)).unwrap());
    }
    found
}

/// Checks a `multipart/signed` entity with GnuPG and returns the events of its attachments
/// and the body text.
fn check_signed(gpg: &Gpg, entity: &[u8], cert_fingerprint: &str) -> (Vec<Event>, Vec<Event>, String) {
    let (headers, body) = split(entity);
    let content_type = header(&headers, "Content-Type");
    assert!(content_type.starts_with("multipart/signed;"), "{content_type}");
    assert!(content_type.contains("micalg=pgp-sha256") && content_type.contains("application/pgp-signature"));
    let signed = parts(body, &boundary(content_type));
    assert_eq!(signed.len(), 2);
    let (_, signature) = split(signed[1]);
    assert_eq!(gpg.verify(signed[0], signature), cert_fingerprint);

    let (mixed_headers, mixed) = split(signed[0]);
    let mixed_type = header(&mixed_headers, "Content-Type");
    assert!(mixed_type.starts_with("multipart/mixed;"), "{mixed_type}");
    let mixed_parts = parts(mixed, &boundary(mixed_type));
    assert_eq!(mixed_parts.len(), 3, "body and two attachments");
    let (text_headers, text) = split(mixed_parts[0]);
    assert_eq!(header(&text_headers, "Content-Transfer-Encoding"), "quoted-printable");
    let text = String::from_utf8_lossy(text).replace("=\r\n", "");
    let (csv_headers, csv) = split(mixed_parts[1]);
    assert!(header(&csv_headers, "Content-Disposition").contains("events.csv"));
    let (json_headers, json) = split(mixed_parts[2]);
    assert!(header(&json_headers, "Content-Disposition").contains("events.json"));
    let csv = read_csv(&String::from_utf8(base64(csv)).unwrap()).unwrap();
    let json = read_json(&String::from_utf8(base64(json)).unwrap()).unwrap();
    (csv, json, text)
}

async fn stored_events(store: &dyn Store, ids: &[uuid::Uuid]) -> Vec<Event> {
    let mut events = Vec::new();
    for id in ids {
        let stored = store.get_event(*id).await.unwrap().unwrap();
        events.push(neretva_event::intelmq_json::from_line(&stored.event.json).unwrap());
    }
    events
}

async fn messages_of(store: &dyn Store, org_id: uuid::Uuid) -> Vec<StoredMessage> {
    store
        .list_messages(&MessageQuery { org_ids: Some(vec![org_id]), ..MessageQuery::default() })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digests_delivered_signed_and_encrypted_through_a_real_smtp_server() {
    let Some(python) = python() else { return };
    let dir = TempDir::new("deliver");
    let sink = dir.0.join("sink");
    std::fs::create_dir_all(&sink).unwrap();
    let (_server, port) = start_smtp(&python, &sink);
    let gpg = Gpg::new();
    let store = store(&dir.0).await;

    // Organisations: encrypted to an Ed25519/Cv25519 key (Serbian Cyrillic), encrypted to an RSA
    // key, signed only, a bad and a sign-only contact beside a good one, a permanently refusing
    // mailbox, a temporarily refusing one, and no contact at all.
    let ep = org(store.as_ref(), "EP").await;
    contact(store.as_ref(), ep, "abuse@ep.example.ba", &[Language::SrCyrl], Some("contact-public.asc")).await;
    let tel = org(store.as_ref(), "TEL").await;
    contact(store.as_ref(), tel, "soc@tel.example.ba", &[Language::Hr], Some("rsa-public.asc")).await;
    contact(store.as_ref(), tel, "noc@tel.example.ba", &[], Some("sign-only-public.asc")).await;
    let uni = org(store.as_ref(), "UNI").await;
    contact(store.as_ref(), uni, "cert@uni.example.ba", &[Language::Bs], None).await;
    let gone = org(store.as_ref(), "GONE").await;
    contact(store.as_ref(), gone, "refuse-permanent@gone.example.ba", &[], None).await;
    let busy = org(store.as_ref(), "BUSY").await;
    contact(store.as_ref(), busy, "refuse-temporary@busy.example.ba", &[], None).await;
    let lone = org(store.as_ref(), "LONE").await;

    let ids = events(
        store.as_ref(),
        &[
            (ep, "infected-system", "192.0.2.1"),
            (ep, "c2-server", "192.0.2.2"),
            (tel, "system-compromise", "198.51.100.1"),
            (uni, "infected-system", "203.0.113.9"),
            (gone, "infected-system", "192.0.2.100"),
            (busy, "infected-system", "192.0.2.200"),
            (lone, "infected-system", "192.0.2.250"),
            // Scanning is daily: it waits.
            (ep, "scanner", "192.0.2.3"),
        ],
    )
    .await;

    let notifier = notifier(store.clone(), config("127.0.0.1", port, StdDuration::from_secs(10)));
    let start = now();
    let summary = notifier.run_once(start).await.unwrap();
    assert_eq!(summary.waiting, 1, "{summary:?}");
    assert_eq!(summary.errors, 0, "{summary:?}");
    let delivery = notifier.deliver_due(now()).await.unwrap();
    assert_eq!((delivery.sent, delivery.retrying, delivery.failed), (3, 1, 1), "{delivery:?}");

    let inbox = received(&sink);
    assert_eq!(
        inbox.keys().map(String::as_str).collect::<Vec<_>>(),
        ["abuse@ep.example.ba", "cert@uni.example.ba", "soc@tel.example.ba"]
    );
    let cert = cert_fingerprint();

    // Encrypted messages: decrypt with GnuPG, verify the signature inside, read the attachments.
    for (recipient, expected_ids, phrase) in [
        ("abuse@ep.example.ba", &ids[0..2], "Заражени системи"),
        ("soc@tel.example.ba", &ids[2..3], "Kompromitirani sustavi"),
    ] {
        let raw = &inbox[recipient][0];
        let (headers, body) = split(raw);
        assert!(
            header(&headers, "Subject").starts_with("=?UTF-8?B?")
                || header(&headers, "Subject").starts_with("[TLP:")
        );
        assert!(!header(&headers, "Message-ID").is_empty());
        let content_type = header(&headers, "Content-Type");
        assert!(content_type.starts_with("multipart/encrypted;"), "{recipient}: {content_type}");
        let encrypted = parts(body, &boundary(content_type));
        assert_eq!(split(encrypted[0]).1, b"Version: 1\r\n");
        let inner = gpg.decrypt(split(encrypted[1]).1);
        let (csv, json, text) = check_signed(&gpg, &inner, &cert);
        let expected = stored_events(store.as_ref(), expected_ids).await;
        assert_eq!(csv, expected, "{recipient}: CSV");
        assert_eq!(json, expected, "{recipient}: JSON");
        assert!(text.contains("TLP:AMBER+STRICT"), "{recipient}: {text}");
        let decoded = decode_quoted_printable(&text);
        assert!(decoded.contains(phrase), "{recipient}: {decoded}");
    }

    // The contact without a key gets a signed message in the clear.
    let raw = &inbox["cert@uni.example.ba"][0];
    let (csv, json, _) = check_signed(&gpg, &top_entity(raw), &cert);
    let expected = stored_events(store.as_ref(), &ids[3..4]).await;
    assert_eq!((csv, json), (expected.clone(), expected));

    // The delivery record: who was told about which event, and what failed and why.
    let record = |messages: &[StoredMessage]| {
        messages
            .iter()
            .map(|m| (m.email.clone(), m.status, m.last_error.clone().unwrap_or_default()))
            .collect::<Vec<_>>()
    };
    let ep_messages = messages_of(store.as_ref(), ep).await;
    assert_eq!(record(&ep_messages), [("abuse@ep.example.ba".into(), DeliveryStatus::Sent, String::new())]);
    assert_eq!(store.message_events(ep_messages[0].id).await.unwrap(), ids[0..2]);
    assert!(ep_messages[0].encrypted);
    let mut tel_messages = record(&messages_of(store.as_ref(), tel).await);
    tel_messages.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(tel_messages[0].0, "noc@tel.example.ba");
    assert_eq!(tel_messages[0].1, DeliveryStatus::Failed);
    assert!(tel_messages[0].2.contains("may encrypt"), "{:?}", tel_messages[0]);
    assert_eq!(tel_messages[1].1, DeliveryStatus::Sent);
    let gone_messages = messages_of(store.as_ref(), gone).await;
    assert_eq!(gone_messages[0].status, DeliveryStatus::Failed);
    assert!(gone_messages[0].last_error.as_deref().unwrap().contains("550"), "{gone_messages:?}");
    assert_eq!(gone_messages[0].attempts, 1);
    let lone_messages = messages_of(store.as_ref(), lone).await;
    assert_eq!(lone_messages[0].status, DeliveryStatus::Failed);
    assert!(lone_messages[0].last_error.as_deref().unwrap().contains("no contact"));
    assert_eq!(store.message_events(lone_messages[0].id).await.unwrap(), ids[6..7]);
    let by_event = store
        .list_messages(&MessageQuery { event_id: Some(ids[3]), ..MessageQuery::default() })
        .await
        .unwrap();
    assert_eq!(by_event.len(), 1);
    assert_eq!(by_event[0].email, "cert@uni.example.ba");

    // The temporary refusal is retried with back-off, then given up after the last attempt.
    let busy_message = messages_of(store.as_ref(), busy).await.remove(0);
    assert_eq!((busy_message.status, busy_message.attempts), (DeliveryStatus::Pending, 1));
    assert!(busy_message.last_error.as_deref().unwrap().contains("451"));
    let next = busy_message.next_attempt_at.unwrap();
    assert!(next >= start + Duration::minutes(5), "back-off: {next}");
    assert_eq!(notifier.deliver_due(start + Duration::minutes(4)).await.unwrap().retrying, 0);
    assert_eq!(notifier.deliver_due(next).await.unwrap().retrying, 1);
    let second = store.get_message(busy_message.id).await.unwrap().unwrap();
    assert!(second.next_attempt_at.unwrap() >= next + Duration::minutes(10), "doubled back-off");
    assert_eq!(notifier.deliver_due(second.next_attempt_at.unwrap()).await.unwrap().failed, 1);
    let last = store.get_message(busy_message.id).await.unwrap().unwrap();
    assert_eq!((last.status, last.attempts), (DeliveryStatus::Failed, 3));

    // Nothing more is queued but the waiting scan; the same events do not come again, and a
    // repeat of a told event within the window is counted, not told.
    assert_eq!(store.notification_orgs().await.unwrap(), [ep]);
    events(store.as_ref(), &[(uni, "infected-system", "203.0.113.9")]).await;
    let again = notifier.run_once(start + Duration::minutes(1)).await.unwrap();
    assert_eq!((again.suppressed, again.messages), (1, 0), "{again:?}");
    assert_eq!(store.suppressed_count(uni).await.unwrap(), 1);

    // The daily scan goes out at the next daily boundary.
    let tomorrow = neretva_notify::schedule::Schedule::Daily.period_start(start, 6) + Duration::days(1);
    let daily = notifier.run_once(tomorrow).await.unwrap();
    assert_eq!((daily.events, daily.waiting), (1, 0), "{daily:?}");
    assert_eq!(notifier.deliver_due(tomorrow).await.unwrap().sent, 1);

    // A resend sends the events of an earlier message again, as a new message.
    let resent = notifier.resend(&neretva_store::Actor::system(), ep_messages[0].id, tomorrow).await.unwrap();
    assert_eq!(resent.len(), 1);
    assert_eq!(resent[0].resend_of, Some(ep_messages[0].id));
    assert_ne!(resent[0].message_id, ep_messages[0].message_id);
    assert_eq!(notifier.deliver_due(tomorrow).await.unwrap().sent, 1);
    assert_eq!(received(&sink)["abuse@ep.example.ba"].len(), 3);
}

fn cert_fingerprint() -> String {
    neretva_notify::openpgp::Signer::from_armored(&key("cert-secret.asc"), "correct horse battery staple")
        .unwrap()
        .fingerprint()
        .to_owned()
}

fn decode_quoted_printable(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'='
            && at + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&text[at + 1..at + 3], 16)
        {
            out.push(byte);
            at += 3;
            continue;
        }
        out.push(bytes[at]);
        at += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A server that accepts connections and never answers: the attempt times out, is recorded
/// for a retry, and the other organisation's message still goes out through a real server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_times_out_and_is_retried() {
    let Some(python) = python() else { return };
    let dir = TempDir::new("timeout");
    let store = store(&dir.0).await;
    let a = org(store.as_ref(), "A").await;
    contact(store.as_ref(), a, "abuse@a.example.ba", &[], None).await;
    let b = org(store.as_ref(), "B").await;
    contact(store.as_ref(), b, "abuse@b.example.ba", &[], None).await;
    events(store.as_ref(), &[(a, "infected-system", "192.0.2.1"), (b, "c2-server", "192.0.2.2")]).await;

    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let start = now();
    let stalled = notifier(store.clone(), config("127.0.0.1", silent_port, StdDuration::from_millis(500)));
    let summary = stalled.run_once(start).await.unwrap();
    assert_eq!(summary.messages, 2);
    let delivery = stalled.deliver_due(now()).await.unwrap();
    assert_eq!((delivery.sent, delivery.retrying), (0, 2), "{delivery:?}");
    for org_id in [a, b] {
        let message = messages_of(store.as_ref(), org_id).await.remove(0);
        assert_eq!((message.status, message.attempts), (DeliveryStatus::Pending, 1));
        let error = message.last_error.unwrap().to_lowercase();
        assert!(error.contains("timed out") || error.contains("timeout"), "{error}");
    }
    holder.abort();

    // The next attempt goes to a working server and delivers both.
    let sink = dir.0.join("sink");
    std::fs::create_dir_all(&sink).unwrap();
    let (_server, port) = start_smtp(&python, &sink);
    let working = notifier(store.clone(), config("127.0.0.1", port, StdDuration::from_secs(10)));
    let later = start + Duration::minutes(6);
    assert_eq!(working.deliver_due(later).await.unwrap().sent, 2);
    assert_eq!(received(&sink).len(), 2);
    for org_id in [a, b] {
        let message = messages_of(store.as_ref(), org_id).await.remove(0);
        assert_eq!((message.status, message.attempts), (DeliveryStatus::Sent, 2));
    }
}

/// A server that refuses connections: every message is retried, none is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_is_retried() {
    let dir = TempDir::new("refused");
    let store = store(&dir.0).await;
    let a = org(store.as_ref(), "A").await;
    contact(store.as_ref(), a, "abuse@a.example.ba", &[], None).await;
    events(store.as_ref(), &[(a, "infected-system", "192.0.2.1")]).await;
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let notifier = notifier(store.clone(), config("127.0.0.1", port, StdDuration::from_secs(2)));
    let start = now();
    notifier.run_once(start).await.unwrap();
    let delivery = notifier.deliver_due(now()).await.unwrap();
    assert_eq!((delivery.sent, delivery.retrying, delivery.failed), (0, 1, 0));
    let message = messages_of(store.as_ref(), a).await.remove(0);
    assert_eq!(message.status, DeliveryStatus::Pending);
    assert!(message.last_error.unwrap().to_lowercase().contains("connection"), "connection refused is named");
}

/// A CERT advisory goes the same way as digests: recorded as `advisory`, signed, encrypted to a
/// contact with a key, delivered through a real SMTP server and verified with GnuPG; a contact
/// not cleared for its TLP gets none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advisories_delivered_signed_and_encrypted_through_a_real_smtp_server() {
    let Some(python) = python() else { return };
    let dir = TempDir::new("advisory");
    let sink = dir.0.join("sink");
    std::fs::create_dir_all(&sink).unwrap();
    let (_server, port) = start_smtp(&python, &sink);
    let gpg = Gpg::new();
    let store = store(&dir.0).await;
    let ep = org(store.as_ref(), "EP").await;
    contact(store.as_ref(), ep, "abuse@ep.example.ba", &[Language::SrCyrl], Some("contact-public.asc")).await;
    let uni = org(store.as_ref(), "UNI").await;
    contact(store.as_ref(), uni, "cert@uni.example.ba", &[Language::Bs], None).await;
    let cleared = contact(store.as_ref(), uni, "ciso@uni.example.ba", &[], None).await;
    let mut fields = store.get_contact(cleared).await.unwrap().unwrap().fields;
    fields.clearance = Some(neretva_model::tlp::Tlp::Red);
    store.update_contact(&neretva_store::Actor("test".into()), cleared, &fields, None).await.unwrap();

    let notifier = notifier(store.clone(), config("127.0.0.1", port, StdDuration::from_secs(10)));
    let orgs = [store.get_org(ep).await.unwrap().unwrap(), store.get_org(uni).await.unwrap().unwrap()];
    let advisory = neretva_notifier::Advisory {
        subject: "Kritična ranjivost u VPN uređajima".into(),
        body: "Zakrpite uređaje odmah.\r\nДетаљи су у прилогу.\n".into(),
        tlp: neretva_model::tlp::Tlp::Green,
    };
    let actor = neretva_store::Actor("user:analyst".into());
    let summary = notifier.advisory(&actor, &orgs, &advisory, now()).await.unwrap();
    assert_eq!((summary.messages.len(), summary.withheld, summary.errors), (3, 0, 0));
    assert!(
        summary.messages.iter().all(|m| m.kind == "advisory" && m.event_count == 0 && m.tlp == "TLP:GREEN")
    );
    let delivery = notifier.deliver_due(now()).await.unwrap();
    assert_eq!((delivery.sent, delivery.retrying, delivery.failed), (3, 0, 0), "{delivery:?}");

    let inbox = received(&sink);
    let cert = cert_fingerprint();
    let check_text = |entity: &[u8]| {
        let (headers, body) = split(entity);
        let content_type = header(&headers, "Content-Type");
        assert!(content_type.starts_with("multipart/signed;"), "{content_type}");
        let signed = parts(body, &boundary(content_type));
        assert_eq!(gpg.verify(signed[0], split(signed[1]).1), cert);
        let (mixed_headers, mixed) = split(signed[0]);
        let mixed_parts = parts(mixed, &boundary(header(&mixed_headers, "Content-Type")));
        assert_eq!(mixed_parts.len(), 1, "the body alone, no attachments");
        let text =
            decode_quoted_printable(&String::from_utf8_lossy(split(mixed_parts[0]).1).replace("=\r\n", ""));
        assert!(text.starts_with("TLP:GREEN\r\n"), "{text}");
        assert!(text.contains("Zakrpite uređaje odmah.\r\nДетаљи су у прилогу."), "{text}");
    };
    let (headers, body) = split(&inbox["abuse@ep.example.ba"][0]);
    let content_type = header(&headers, "Content-Type");
    assert!(content_type.starts_with("multipart/encrypted;"), "{content_type}");
    let encrypted = parts(body, &boundary(content_type));
    check_text(&gpg.decrypt(split(encrypted[1]).1));
    check_text(&top_entity(&inbox["cert@uni.example.ba"][0]));
    assert_eq!(inbox["ciso@uni.example.ba"].len(), 1);

    // A TLP:RED advisory reaches only the contact cleared for it.
    let red = neretva_notifier::Advisory { tlp: neretva_model::tlp::Tlp::Red, ..advisory };
    let summary = notifier.advisory(&actor, &orgs, &red, now()).await.unwrap();
    assert_eq!(summary.withheld, 2);
    let to: Vec<&str> = summary.messages.iter().map(|m| m.email.as_str()).collect();
    assert_eq!(to, ["ciso@uni.example.ba"]);
    // Bad input is refused, naming the field.
    let empty = neretva_notifier::Advisory { subject: " ".into(), ..red.clone() };
    let error = notifier.advisory(&actor, &orgs, &empty, now()).await.unwrap_err();
    assert_eq!(error.to_string(), "subject: is required");
}

/// Decodes a header that may hold RFC 2047 `B` words (as `mime` writes non-ASCII subjects).
fn decode_header(value: &str) -> String {
    let mut out = String::new();
    for word in value.split_whitespace() {
        match word.strip_prefix("=?UTF-8?B?").and_then(|w| w.strip_suffix("?=")) {
            Some(encoded) => out.push_str(&String::from_utf8(base64(encoded.as_bytes())).unwrap()),
            None => {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(word);
            }
        }
    }
    out
}

/// Verifies a `multipart/signed` incident update with GnuPG and returns its one text part,
/// decoded.
fn check_update(gpg: &Gpg, entity: &[u8], cert_fingerprint: &str) -> String {
    let (headers, body) = split(entity);
    let content_type = header(&headers, "Content-Type");
    assert!(content_type.starts_with("multipart/signed;"), "{content_type}");
    let signed = parts(body, &boundary(content_type));
    assert_eq!(signed.len(), 2);
    assert_eq!(gpg.verify(signed[0], split(signed[1]).1), cert_fingerprint);
    let (mixed_headers, mixed) = split(signed[0]);
    let mixed_type = header(&mixed_headers, "Content-Type");
    assert!(mixed_type.starts_with("multipart/mixed;"), "{mixed_type}");
    let mixed_parts = parts(mixed, &boundary(mixed_type));
    assert_eq!(mixed_parts.len(), 1, "the text alone, no attachments");
    let (text_headers, text) = split(mixed_parts[0]);
    assert!(header(&text_headers, "Content-Type").starts_with("text/plain"));
    decode_quoted_printable(&String::from_utf8_lossy(text).replace("=\r\n", ""))
}

/// An incident's status change and the reminders of its NIS2 notification go through the same
/// record and delivery as digests: to the organisations the incident concerns (the reminder to
/// the reporting one only), signed, encrypted to a contact with a key, verified and decrypted
/// with GnuPG; a contact not cleared for the incident's TLP and an organisation the incident
/// does not concern receive nothing; each update is made once however often the pass runs, and
/// a report submitted is not reminded of.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incident_updates_delivered_signed_and_encrypted_through_a_real_smtp_server() {
    use neretva_incident::deadline::{DeadlineInput, Submission};
    use neretva_incident::incident::{Incident, IncidentDraft, IncidentSource};
    use neretva_incident::report::StageKind;
    use neretva_incident::workflow::Status;
    use neretva_store::incidents::IncidentWrite;

    let Some(python) = python() else { return };
    let dir = TempDir::new("incident");
    let sink = dir.0.join("sink");
    std::fs::create_dir_all(&sink).unwrap();
    let (_server, port) = start_smtp(&python, &sink);
    let gpg = Gpg::new();
    let store = store(&dir.0).await;
    let actor = neretva_store::Actor("test".into());

    // EP reports (its abuse desk has a key and reads Serbian Cyrillic; its service desk is
    // cleared for TLP:GREEN only), TEL is affected, UNI is not concerned.
    let ep = org(store.as_ref(), "EP").await;
    contact(store.as_ref(), ep, "abuse@ep.example.ba", &[Language::SrCyrl], Some("contact-public.asc")).await;
    let desk = contact(store.as_ref(), ep, "desk@ep.example.ba", &[], None).await;
    let mut fields = store.get_contact(desk).await.unwrap().unwrap().fields;
    fields.clearance = Some(neretva_model::tlp::Tlp::Green);
    store.update_contact(&actor, desk, &fields, None).await.unwrap();
    let tel = org(store.as_ref(), "TEL").await;
    contact(store.as_ref(), tel, "soc@tel.example.ba", &[Language::Bs], None).await;
    let uni = org(store.as_ref(), "UNI").await;
    contact(store.as_ref(), uni, "cert@uni.example.ba", &[], None).await;

    // Aware 67 hours ago, the early warning sent: the notification is due in 5 hours. (Whole
    // seconds, as the store keeps times to the microsecond.)
    let start = now().replace_nanosecond(0).unwrap();
    let aware = start - Duration::hours(67);
    let mut draft = IncidentDraft::titled("Ransomware na serverima za naplatu");
    draft.reporter_org = Some(ep);
    draft.affected_orgs = vec![ep, tel];
    draft.aware_at = Some(aware);
    let (mut incident, created) =
        Incident::open(uuid::Uuid::now_v7(), draft, IncidentSource::Analyst, None, aware).unwrap();
    let mut deadlines = DeadlineInput::aware_at(aware);
    deadlines.submissions.push(Submission { stage: StageKind::EarlyWarning, at: aware + Duration::hours(2) });
    let mut write = IncidentWrite::new(incident.clone(), None, "incident.create");
    write.timeline = vec![created];
    write.deadlines = Some(deadlines.clone());
    write.next_due = Some(aware + Duration::hours(72));
    store.write_incidents(&actor, &[write]).await.unwrap();
    let moved = incident.transition(Status::Triage, None, start).unwrap();
    let mut write = IncidentWrite::new(incident.clone(), Some(1), "incident.transition");
    write.timeline = vec![moved];
    write.deadlines = Some(deadlines.clone());
    write.next_due = Some(aware + Duration::hours(72));
    store.write_incidents(&actor, &[write]).await.unwrap();

    let notifier = notifier(store.clone(), config("127.0.0.1", port, StdDuration::from_secs(10)));
    let summary = notifier.run_once(start).await.unwrap();
    assert_eq!((summary.status_changes, summary.reminders, summary.errors), (2, 1, 0), "{summary:?}");
    assert_eq!(summary.messages, 3, "{summary:?}");
    let delivery = notifier.deliver_due(now()).await.unwrap();
    assert_eq!((delivery.sent, delivery.retrying, delivery.failed), (3, 0, 0), "{delivery:?}");

    let inbox = received(&sink);
    assert_eq!(
        inbox.keys().map(String::as_str).collect::<Vec<_>>(),
        ["abuse@ep.example.ba", "soc@tel.example.ba"]
    );
    let cert = cert_fingerprint();
    let mut texts = Vec::new();
    for raw in &inbox["abuse@ep.example.ba"] {
        let (headers, body) = split(raw);
        let subject = decode_header(header(&headers, "Subject"));
        assert!(subject.starts_with("[TLP:AMBER+STRICT] CERT-TEST: "), "{subject}");
        let content_type = header(&headers, "Content-Type");
        assert!(content_type.starts_with("multipart/encrypted;"), "{content_type}");
        let encrypted = parts(body, &boundary(content_type));
        let text = check_update(&gpg, &gpg.decrypt(split(encrypted[1]).1), &cert);
        assert!(text.starts_with("TLP:AMBER+STRICT\r\n"), "{text}");
        assert!(text.contains(&incident.id.to_string()), "{text}");
        texts.push((subject, text));
    }
    texts.sort();
    let (status_subject, status_text) = &texts.iter().find(|(s, _)| s.contains("статус")).unwrap();
    assert!(status_subject.ends_with("статус: у процени"), "{status_subject}");
    assert!(status_text.contains("Аналитичар процењује инцидент"), "{status_text}");
    let (reminder_subject, reminder_text) = &texts.iter().find(|(s, _)| s.contains("подсетник")).unwrap();
    assert!(reminder_subject.contains("обавештење о инциденту"), "{reminder_subject}");
    assert!(
        reminder_text.contains("NIS2 Art. 23(4)(b)") && reminder_text.contains("5 ч 0 мин"),
        "{reminder_text}"
    );
    // The affected organisation hears of the status in Bosnian, signed in the clear, and gets no
    // reminder: the reporting organisation owes the report.
    assert_eq!(inbox["soc@tel.example.ba"].len(), 1);
    let (headers, _) = split(&inbox["soc@tel.example.ba"][0]);
    assert!(decode_header(header(&headers, "Subject")).ends_with("status: u procjeni"));
    let text = check_update(&gpg, &top_entity(&inbox["soc@tel.example.ba"][0]), &cert);
    assert!(text.contains("Analitičar procjenjuje incident"), "{text}");

    // The delivery record names the incident; nothing went to UNI.
    let by_incident = store
        .list_messages(&MessageQuery { incident_id: Some(incident.id), ..MessageQuery::default() })
        .await
        .unwrap();
    let mut kinds: Vec<(String, String)> =
        by_incident.iter().map(|m| (m.email.clone(), m.kind.clone())).collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("abuse@ep.example.ba".to_owned(), "incident-reminder".to_owned()),
            ("abuse@ep.example.ba".to_owned(), "incident-status".to_owned()),
            ("soc@tel.example.ba".to_owned(), "incident-status".to_owned()),
        ]
    );
    assert!(by_incident.iter().all(|m| m.status == DeliveryStatus::Sent && m.tlp == "TLP:AMBER+STRICT"));
    assert!(messages_of(store.as_ref(), uni).await.is_empty());

    // Running again makes nothing twice.
    let again = notifier.run_once(start + Duration::minutes(1)).await.unwrap();
    assert_eq!((again.status_changes, again.reminders, again.messages), (0, 0, 0), "{again:?}");

    // Within the last hour the one-hour reminder goes out, once.
    let late = aware + Duration::hours(71) + Duration::minutes(30);
    let hour = notifier.run_once(late).await.unwrap();
    assert_eq!((hour.reminders, hour.messages), (1, 1), "{hour:?}");
    assert_eq!(notifier.run_once(late + Duration::minutes(1)).await.unwrap().reminders, 0);

    // The notification is submitted: no overdue reminder follows.
    deadlines
        .submissions
        .push(Submission { stage: StageKind::Notification, at: late + Duration::minutes(5) });
    let mut write = IncidentWrite::new(incident.clone(), Some(2), "incident.report");
    write.deadlines = Some(deadlines);
    write.next_due = Some(aware + Duration::days(33));
    store.write_incidents(&actor, &[write]).await.unwrap();
    let after = notifier.run_once(aware + Duration::hours(73)).await.unwrap();
    assert_eq!((after.reminders, after.messages), (0, 0), "{after:?}");
    assert_eq!(notifier.deliver_due(now()).await.unwrap().sent, 1);
    assert_eq!(received(&sink)["abuse@ep.example.ba"].len(), 3);
}
