//! The `imap` source against a real IMAP server: Dovecot, started on 127.0.0.1 with a
//! configuration of its own in a temporary directory (`NERETVA_TEST_DOVECOT` names the binary;
//! `.ci/run` installs Debian's `dovecot-imapd` and sets it). Messages are put into the mailbox
//! with IMAP `APPEND`, as a mail server would deliver them. Dovecot checks OAuth 2.0 tokens
//! (`XOAUTH2`) with a token introspection server (RFC 7662) the test runs on 127.0.0.1. A
//! second Dovecot advertises neither `MOVE` nor `UIDPLUS`, as older servers do.

// The helpers fail their test loudly, like the tests themselves.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use neretva_pipeline::{Pipeline, PipelineConfig};
use neretva_store::Store;
use neretva_store::feeds::{ReportQuery, ReportStatus};
use neretva_store_sqlite::SqliteStore;
use support::{certificates, eventually, run_sources, scan_dns, stop_sources, zip};
use tokio::sync::watch;

const PASSWORD: &str = "Feeds-Pass-2026";
/// The password of a second user, to log in with beyond ASCII.
const UTF8_PASSWORD: &str = "Šifra-Đurđevdan-2026";
/// The access token the introspection server takes for the user `feeds`.
const TOKEN: &str = "ya29.neretva-test_token";

/// A Dovecot serving maildirs under a temporary directory, stopped on drop.
struct Dovecot {
    child: Child,
    dir: PathBuf,
    /// Plain IMAP, with STARTTLS.
    port: u16,
    /// IMAP in TLS from the start.
    tls_port: u16,
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Dovecot {
    fn start(binary: &str) -> Dovecot {
        Dovecot::start_with(binary, "imap", "")
    }

    /// A Dovecot of its own directory `name`, with `extra` lines of configuration.
    fn start_with(binary: &str, name: &str, extra: &str) -> Dovecot {
        let dir = std::env::temp_dir().join(format!("neretva-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mail = dir.join("mail");
        std::fs::create_dir_all(&mail).unwrap();
        let free_port = || std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let (port, tls_port) = (free_port(), free_port());
        certificates(&dir);
        let introspection = introspection_server();
        std::fs::write(
            dir.join("oauth2.conf"),
            format!(
                "introspection_mode = post\nintrospection_url = http://127.0.0.1:{introspection}/introspect\n\
                 username_attribute = username\nactive_attribute = active\nactive_value = true\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("passwd"),
            format!("feeds:{{PLAIN}}{PASSWORD}\nizvjestaji:{{PLAIN}}{UTF8_PASSWORD}\n"),
        )
        .unwrap();
        // As root, mail is accessed as Debian's `dovecot` user; otherwise as the user running
        // the test, who then also runs the login and internal processes.
        let id = |flag: &str| {
            let output = Command::new("id").arg(flag).output().unwrap();
            String::from_utf8_lossy(&output.stdout).trim().to_owned()
        };
        let (ids, users) = if id("-u") == "0" {
            set_mode(&mail, 0o777);
            ("uid=dovecot gid=dovecot".to_owned(), String::new())
        } else {
            let name = id("-un");
            (
                format!("uid={} gid={}", id("-u"), id("-g")),
                format!("default_internal_user = {name}\ndefault_login_user = {name}\n"),
            )
        };
        let config = format!(
            "first_valid_uid = 1\n\
             base_dir = {dir}/run\n\
             state_dir = {dir}/state\n\
             log_path = {dir}/dovecot.log\n\
             protocols = imap\n\
             {extra}\
             listen = 127.0.0.1\n\
             ssl = yes\n\
             ssl_cert = <{dir}/server.pem\n\
             ssl_key = <{dir}/server.key\n\
             disable_plaintext_auth = no\n\
             auth_mechanisms = plain xoauth2 oauthbearer\n\
             mail_location = maildir:{mail}/%u\n\
             {users}\
             passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {dir}/oauth2.conf\n}}\n\
             passdb {{\n  driver = passwd-file\n  args = {dir}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = {ids} home={mail}/%u\n}}\n\
             service imap-login {{\n  chroot =\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  inet_listener imaps {{\n    address = 127.0.0.1\n    port = {tls_port}\n    ssl = yes\n  }}\n}}\n\
             service anvil {{\n  chroot =\n}}\n",
            dir = dir.display(),
            mail = mail.display(),
        );
        let config_path = dir.join("dovecot.conf");
        std::fs::write(&config_path, config).unwrap();
        let child = Command::new(binary)
            .args(["-F", "-c"])
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let dovecot = Dovecot { child, dir, port, tls_port };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "Dovecot did not start: {}", dovecot.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        dovecot
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("dovecot.log")).unwrap_or_default()
    }

    /// A logged-in client session for putting messages in and looking at the mailbox.
    fn session(&self) -> Session {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut session = Session { reader: BufReader::new(stream.try_clone().unwrap()), stream, tag: 0 };
        let mut greeting = String::new();
        session.reader.read_line(&mut greeting).unwrap();
        assert!(greeting.starts_with("* OK"), "{greeting}");
        session.run(&format!("LOGIN feeds {PASSWORD}"));
        session
    }
}

/// A token introspection endpoint (RFC 7662) on 127.0.0.1, as an OAuth 2.0 provider runs it:
/// `TOKEN` is an active token of the user `feeds`, any other is not active. Returns its port.
fn introspection_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            // Dovecot keeps its connection open for further requests.
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                loop {
                    let mut length = 0;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if let Some((name, value)) = line.split_once(':')
                            && name.eq_ignore_ascii_case("content-length")
                        {
                            length = value.trim().parse().unwrap();
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let mut body = vec![0u8; length];
                    reader.read_exact(&mut body).unwrap();
                    let body = String::from_utf8(body).unwrap();
                    let active = body.split('&').any(|pair| pair == format!("token={TOKEN}"));
                    let answer =
                        if active { r#"{"active":true,"username":"feeds"}"# } else { r#"{"active":false}"# };
                    write!(
                        writer,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
                        answer.len()
                    )
                    .unwrap();
                }
            });
        }
    });
    port
}

#[cfg(unix)]
fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

struct Session {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
    tag: u32,
}

impl Session {
    /// Runs a command (with an optional literal, sent as a non-synchronising `LITERAL+`);
    /// returns the untagged lines once it completed with OK.
    fn exchange(&mut self, command: &str, literal: Option<&[u8]>) -> Vec<String> {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        match literal {
            Some(bytes) => {
                write!(self.stream, "{tag} {command} {{{}+}}\r\n", bytes.len()).unwrap();
                self.stream.write_all(bytes).unwrap();
                self.stream.write_all(b"\r\n").unwrap();
            }
            None => write!(self.stream, "{tag} {command}\r\n").unwrap(),
        }
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).unwrap();
            if let Some(status) = line.strip_prefix(&format!("{tag} ")) {
                assert!(status.starts_with("OK"), "{command}: {status}");
                return lines;
            }
            // A literal in an answer is read and dropped.
            if let Some(size) = line.trim_end().strip_suffix('}').and_then(|l| l.rsplit('{').next()) {
                let mut skip = vec![0u8; size.parse().unwrap()];
                self.reader.read_exact(&mut skip).unwrap();
            }
            lines.push(line);
        }
    }

    fn run(&mut self, command: &str) -> Vec<String> {
        self.exchange(command, None)
    }

    fn append(&mut self, folder: &str, message: &str) {
        self.exchange(&format!("APPEND {folder}"), Some(message.replace('\n', "\r\n").as_bytes()));
    }

    /// The UIDs a search finds in `folder`.
    fn search(&mut self, folder: &str, criteria: &str) -> Vec<u32> {
        self.run(&format!("SELECT {folder}"));
        let lines = self.run(&format!("UID SEARCH {criteria}"));
        lines
            .iter()
            .filter_map(|line| line.strip_prefix("* SEARCH"))
            .flat_map(|rest| rest.split_whitespace().map(|uid| uid.parse().unwrap()).collect::<Vec<u32>>())
            .collect()
    }
}

fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
        if out.len() % 77 == 76 {
            out.push('\n');
        }
    }
    out
}

/// The sources of `config` running on a new in-memory store; the sender stops them.
async fn start(
    config: &PipelineConfig,
) -> (Arc<Pipeline>, Arc<SqliteStore>, watch::Sender<bool>, Vec<tokio::task::JoinHandle<()>>) {
    let pipeline = Arc::new(Pipeline::build(config, None).unwrap());
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    store.migrate().await.unwrap();
    let (stop, shutdown) = watch::channel(false);
    let handles = run_sources(&pipeline, config, &store, shutdown);
    (pipeline, store, stop, handles)
}

/// A message from Shadowserver with a text body and the given attachments.
fn message(subject: &str, attachments: &[(&str, &str, &[u8])]) -> String {
    message_from("Shadowserver <reports@shadowserver.example>", subject, attachments)
}

/// A message from `from` (a header value) with a text body and the given attachments.
fn message_from(from: &str, subject: &str, attachments: &[(&str, &str, &[u8])]) -> String {
    let mut text = format!(
        "From: {from}\n\
         To: feeds@cert.example\n\
         Subject: {subject}\n\
         Date: Fri, 27 Nov 2026 10:00:00 +0000\n\
         Message-ID: <{}@shadowserver.example>\n\
         MIME-Version: 1.0\n\
         Content-Type: multipart/mixed; boundary=\"b0\"\n\n\
         --b0\nContent-Type: text/plain; charset=utf-8\n\nYour daily report.\n",
        subject.replace(' ', ".")
    );
    for (name, media_type, bytes) in attachments {
        text.push_str(&format!(
            "--b0\nContent-Type: {media_type}; name=\"{name}\"\nContent-Disposition: attachment; filename=\"{name}\"\nContent-Transfer-Encoding: base64\n\n{}\n",
            base64(bytes)
        ));
    }
    text.push_str("--b0--\n");
    text
}

#[tokio::test]
async fn attachments_of_unseen_messages_become_reports_and_the_messages_are_moved() {
    let Ok(binary) = std::env::var("NERETVA_TEST_DOVECOT") else {
        eprintln!("NERETVA_TEST_DOVECOT is not set; the IMAP source is not tested against Dovecot");
        return;
    };
    let dovecot = Dovecot::start(&binary);
    let mut client = dovecot.session();
    let report = scan_dns(&["192.0.2.1", "192.0.2.2"]);
    client.append(
        "INBOX",
        &message(
            "Shadowserver report: scan_dns",
            &[("2026-11-27-scan_dns-bih-geo.csv", "text/csv", &report)],
        ),
    );
    let zipped = zip(&[("2026-11-28-scan_dns-bih-geo.csv", &scan_dns(&["192.0.2.3"]))]);
    client.append(
        "INBOX",
        &message(
            "Shadowserver report: scan_dns (zipped)",
            &[
                ("2026-11-28-scan_dns-bih-geo.csv.zip", "application/zip", &zipped),
                ("notes.txt", "text/plain", b"n"),
            ],
        ),
    );
    client
        .append("INBOX", &message("Newsletter", &[("2026-11-29-scan_dns-bih-geo.csv", "text/csv", &report)]));
    client.append("INBOX", &message("Shadowserver report: none", &[("notes.txt", "text/plain", b"nothing")]));
    client.append(
        "INBOX",
        &message(
            "Shadowserver report: broken",
            &[("2026-11-29-scan_dns-bih-geo.csv.zip", "application/zip", b"PK\x03\x04broken")],
        ),
    );
    // A report behind a link in the text, served once by a web server on 127.0.0.1.
    let web = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let web_port = web.local_addr().unwrap().port();
    let linked = scan_dns(&["192.0.2.4", "192.0.2.5", "192.0.2.6"]);
    let served = linked.clone();
    std::thread::spawn(move || {
        let (mut socket, _) = web.accept().unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && socket.read(&mut byte).unwrap() == 1 {
            head.push(byte[0]);
        }
        assert!(head.starts_with(b"GET /reports/2026-11-30-scan_dns-bih-geo.csv HTTP/1.1"));
        write!(socket, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", served.len())
            .unwrap();
        socket.write_all(&served).unwrap();
    });
    let mut with_link = message("Shadowserver report: link", &[]);
    with_link = with_link.replace(
        "Your daily report.\n",
        &format!(
            "Your daily report: <http://127.0.0.1:{web_port}/reports/2026-11-30-scan_dns-bih-geo.csv>.\n\
             Not this one: http://127.0.0.2:{web_port}/reports/x.csv\n"
        ),
    );
    client.append("INBOX", &with_link);
    assert_eq!(client.search("INBOX", "UNSEEN"), [1, 2, 3, 4, 5, 6]);
    client.run("CREATE TLS");
    // A folder named beyond ASCII ("Izvještaji" in modified UTF-7), read with a token.
    client.run("CREATE \"Izvje&AWE-taji\"");
    client.append(
        "\"Izvje&AWE-taji\"",
        &message("Shadowserver report: token", &[("2026-11-30-scan_dns-bih-geo.csv", "text/csv", &report)]),
    );
    // A folder of partners' reports, each source taking those of one sender: Shadowserver by
    // its address, and a partner CERT's analyst by the name in the encoded header (searched as
    // UTF-8); a third sender's message is left.
    client.run("CREATE Partneri");
    let partner_report = |address: &str| scan_dns(&[address]);
    client.append(
        "Partneri",
        &message("Report", &[("2026-11-30-scan_dns-bih-geo.csv", "text/csv", &partner_report("192.0.2.21"))]),
    );
    client.append(
        "Partneri",
        &message_from(
            "=?utf-8?q?=C5=BDeljko_=C4=90uri=C4=87?= <analyst@cert-partner.example>",
            "Report",
            &[("2026-11-30-scan_dns-bih-geo.csv", "text/csv", &partner_report("192.0.2.22"))],
        ),
    );
    client.append(
        "Partneri",
        &message_from(
            "Someone <someone@elsewhere.example>",
            "Report",
            &[("2026-11-30-scan_dns-bih-geo.csv", "text/csv", &partner_report("192.0.2.23"))],
        ),
    );
    let token_file = dovecot.dir.join("token");
    std::fs::write(&token_file, "ya29.expired\n").unwrap();
    // A server without MOVE (nor UIDPLUS): processed messages are copied, marked deleted and
    // removed by closing the folder.
    let old_server = Dovecot::start_with(
        &binary,
        "imap-no-move",
        "imap_capability = IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE IDLE\n",
    );
    let mut old_client = old_server.session();
    old_client.append(
        "INBOX",
        &message(
            "Shadowserver report: old server",
            &[("2026-11-30-scan_dns-bih-geo.csv", "text/csv", &report)],
        ),
    );
    old_client.append("INBOX", &message("Newsletter", &[("notes.txt", "text/plain", b"n")]));

    let config: PipelineConfig = serde_json::from_value(serde_json::json!({
        "feeds": [
            {"name": "shadowserver-mail", "parser": "shadowserver",
             "source": {"kind": "imap", "host": "127.0.0.1", "port": dovecot.port, "tls": "none",
                        "username": "feeds", "password": PASSWORD, "subject_regex": "^Shadowserver report",
                        "attachment_regex": "\\.csv(\\.zip)?$", "link_regex": format!("^http://127\\.0\\.0\\.1:{web_port}/reports/"),
                        "done_folder": "Processed", "interval_minutes": 1}},
            {"name": "wrong-password", "parser": "shadowserver",
             "source": {"kind": "imap", "host": "127.0.0.1", "port": dovecot.port, "tls": "none",
                        "username": "feeds", "password": "not-the-password", "interval_minutes": 1}},
            // Over TLS, from the start and after STARTTLS, trusting the test CA, to a folder of
            // their own; and once without trusting it.
            {"name": "tls-implicit", "parser": "shadowserver",
             "source": {"kind": "imap", "host": "127.0.0.1", "port": dovecot.tls_port, "tls": "implicit",
                        "ca_file": dovecot.dir.join("ca.pem"), "username": "feeds", "password": PASSWORD, "folder": "TLS"}},
            {"name": "tls-starttls", "parser": "shadowserver",
             "source": {"kind": "imap", "host": "127.0.0.1", "port": dovecot.port, "tls": "starttls",
                        "ca_file": dovecot.dir.join("ca.pem"), "username": "feeds", "password": PASSWORD, "folder": "TLS"}},
            {"name": "tls-untrusted", "parser": "shadowserver",
             "source": {"kind": "imap", "host": "127.0.0.1", "port": dovecot.tls_port,
                        "username": "feeds", "password": PASSWORD, "folder": "TLS"}},
            // OAuth 2.0: the token file holds an expired token at first, a valid one later.
            {"name": "mail-token", "parser": "shadowserver",
             "source": {"kind": "imap", "host": "127.0.0.1", "port": dovecot.port, "tls": "none",
                        "username": "feeds", "token_file": token_file, "folder": "Izvještaji",
                        "done_folder": "Obrađeno", "interval_minutes": 1}},
            {"name": "mail-no-move", "parser": "shadowserver",
             "source": {"kind": "imap", "host": "127.0.0.1", "port": old_server.port, "tls": "none",
                        "username": "feeds", "password": PASSWORD, "subject_regex": "^Shadowserver",
                        "done_folder": "Processed"}},
            {"name": "from-shadowserver", "parser": "shadowserver",
             "source": {"kind": "imap", "host": "127.0.0.1", "port": dovecot.port, "tls": "none",
                        "username": "feeds", "password": PASSWORD, "folder": "Partneri",
                        "sent_from": "@shadowserver.example", "sent_to": "feeds@cert.example"}},
            {"name": "from-partner", "parser": "shadowserver",
             "source": {"kind": "imap", "host": "127.0.0.1", "port": dovecot.port, "tls": "none",
                        "username": "feeds", "password": PASSWORD, "folder": "Partneri", "sent_from": "Đurić"}},
            // A password beyond ASCII, which only AUTHENTICATE PLAIN can carry.
            {"name": "utf8-password", "parser": "shadowserver",
             "source": {"kind": "imap", "host": "127.0.0.1", "port": dovecot.port, "tls": "none",
                        "username": "izvjestaji", "password": UTF8_PASSWORD}},
        ],
    }))
    .unwrap();
    assert!(config.check().is_empty(), "{:?}", config.check());
    let (pipeline, store, stop, handles) = start(&config).await;
    let status = pipeline.source_status();
    eventually("every source has polled once", || async {
        [
            "shadowserver-mail",
            "wrong-password",
            "tls-implicit",
            "tls-starttls",
            "tls-untrusted",
            "mail-token",
            "utf8-password",
            "mail-no-move",
            "from-shadowserver",
            "from-partner",
        ]
        .iter()
        .all(|feed| status.get(feed).is_some_and(|state| state.last_poll.is_some()))
    })
    .await;

    let query = ReportQuery { feed: Some("shadowserver-mail".into()), before: None, limit: 10 };
    let mut reports = store.list_reports(&query).await.unwrap();
    reports.reverse();
    let sources: Vec<&str> = reports.iter().map(|report| report.source.as_str()).collect();
    assert_eq!(sources.len(), 3, "{sources:#?}\n{}", dovecot.log());
    assert!(
        sources[0].starts_with("imap://127.0.0.1/INBOX;UIDVALIDITY=")
            && sources[0].ends_with("/;UID=1#2026-11-27-scan_dns-bih-geo.csv"),
        "{sources:#?}"
    );
    assert!(sources[1].ends_with("/;UID=2#2026-11-28-scan_dns-bih-geo.csv"), "{sources:#?}");
    assert!(sources[2].ends_with("/;UID=6#2026-11-30-scan_dns-bih-geo.csv"), "{sources:#?}");
    let events: Vec<u64> = reports.iter().map(|report| report.counts.events).collect();
    assert_eq!(events, [2, 1, 3], "the parser read the report type from each file's name");
    assert_eq!(store.report_data(reports[2].id).await.unwrap(), Some(linked));
    assert!(reports.iter().all(|report| report.status == ReportStatus::Parsed));
    // The broken archive is the poll's failure, named with its message and attachment.
    let state = status.get("shadowserver-mail").unwrap();
    assert_eq!((state.reports, state.errors, state.failing_polls), (3, 1, 1), "{state:?}");
    let error = state.last_error.unwrap();
    assert!(error.contains(";UID=5: attachment \"2026-11-29-scan_dns-bih-geo.csv.zip\": "), "{error}");

    // The three processed messages moved; the others are left unseen where they were.
    assert_eq!(client.search("INBOX", "UNSEEN"), [3, 4, 5]);
    assert_eq!(client.search("Processed", "ALL").len(), 3);

    // Each sender's report went to its feed; the third sender's message is still unseen.
    for (feed, address) in [("from-shadowserver", "192.0.2.21"), ("from-partner", "192.0.2.22")] {
        let state = status.get(feed).unwrap();
        assert_eq!((state.reports, state.errors), (1, 0), "{feed}: {state:?}\n{}", dovecot.log());
        let query = ReportQuery { feed: Some(feed.into()), before: None, limit: 10 };
        let reports = store.list_reports(&query).await.unwrap();
        let data = store.report_data(reports[0].id).await.unwrap().unwrap();
        assert!(String::from_utf8(data).unwrap().contains(address), "{feed}");
    }
    assert_eq!(client.search("Partneri", "UNSEEN"), [3]);

    // A wrong password is the source's failure, named without the password.
    let state = status.get("wrong-password").unwrap();
    let error = state.last_error.unwrap_or_default();
    assert!(error.contains("AUTHENTICATE PLAIN as \"feeds\": the server answered NO"), "{error}");
    assert!(!error.contains("not-the-password"), "{error}");
    assert_eq!(state.failing_polls, 1);
    let state = status.get("utf8-password").unwrap();
    assert!(state.last_success.is_some() && state.errors == 0, "{state:?}");
    let state = status.get("mail-no-move").unwrap();
    assert_eq!((state.reports, state.errors), (1, 0), "{state:?}\n{}", old_server.log());
    assert_eq!(old_client.search("INBOX", "ALL"), [2], "the processed message left, the newsletter stayed");
    assert_eq!(old_client.search("Processed", "ALL").len(), 1);
    // An expired token is the source's failure, with the server's reason and without the token.
    let state = status.get("mail-token").unwrap();
    let error = state.last_error.unwrap_or_default();
    assert!(error.contains("AUTHENTICATE XOAUTH2 as \"feeds\": the server answered NO"), "{error}");
    assert!(!error.contains("ya29"), "{error}");
    assert_eq!((state.failing_polls, state.reports), (1, 0));
    // The token tool renews the token; the next poll reads the file again.
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();

    // TLS works both ways with the CA of the mail server; without it the server is not trusted.
    for feed in ["tls-implicit", "tls-starttls"] {
        let state = status.get(feed).unwrap();
        assert!(state.last_success.is_some() && state.errors == 0, "{feed}: {state:?}");
    }
    let state = status.get("tls-untrusted").unwrap();
    let error = state.last_error.unwrap_or_default();
    assert!(error.contains("TLS: invalid peer certificate") && state.last_success.is_none(), "{error}");

    // The next poll finds nothing new and leaves the other messages as they are.
    let first_poll = status.get("shadowserver-mail").unwrap().last_poll;
    tokio::time::pause();
    tokio::time::advance(Duration::from_secs(61)).await;
    tokio::time::resume();
    let first_token_poll = status.get("mail-token").unwrap().last_poll;
    eventually("the second poll", || async {
        status.get("shadowserver-mail").is_some_and(|state| state.last_poll > first_poll)
            && status.get("mail-token").is_some_and(|state| state.last_poll > first_token_poll)
    })
    .await;
    // The messages left are not fetched again: no new failure, and the source is well again.
    let state = status.get("shadowserver-mail").unwrap();
    assert_eq!((state.reports, state.errors, state.failing_polls), (3, 1, 0), "{state:?}");
    assert_eq!(state.messages_left(), 3, "the newsletter, the message without a report, the broken one");
    assert_eq!(store.list_reports(&query).await.unwrap().len(), 3);
    assert_eq!(client.search("INBOX", "UNSEEN"), [3, 4, 5]);
    // With the renewed token, the report in "Izvještaji" was taken and its message moved to
    // "Obrađeno" (made by the source).
    let state = status.get("mail-token").unwrap();
    assert_eq!((state.reports, state.failing_polls), (1, 0), "{state:?}\n{}", dovecot.log());
    let query = ReportQuery { feed: Some("mail-token".into()), before: None, limit: 10 };
    let reports = store.list_reports(&query).await.unwrap();
    assert!(reports[0].source.starts_with("imap://127.0.0.1/Izvještaji;UIDVALIDITY="), "{reports:#?}");
    assert_eq!(reports[0].counts.events, 2);
    assert!(client.search("\"Izvje&AWE-taji\"", "ALL").is_empty());
    assert_eq!(client.search("\"Obra&ARE-eno\"", "ALL").len(), 1);
    stop_sources(stop, handles).await;

    // After a restart the source takes up the messages it left (saved with its state): the
    // broken archive is neither fetched nor reported again, and the poll succeeds.
    let mut mail_only = config.clone();
    mail_only.feeds.retain(|feed| feed.name == "shadowserver-mail");
    let restarted = Arc::new(Pipeline::build(&mail_only, None).unwrap());
    let (stop, shutdown) = watch::channel(false);
    let handles = run_sources(&restarted, &mail_only, &store, shutdown);
    let status = restarted.source_status();
    eventually("the poll after the restart", || async {
        status.get("shadowserver-mail").is_some_and(|state| state.started_at < state.last_poll)
    })
    .await;
    let state = status.get("shadowserver-mail").unwrap();
    assert_eq!((state.reports, state.errors, state.failing_polls), (0, 0, 0), "{state:?}");
    assert_eq!(state.messages_left(), 3);
    assert_eq!(client.search("INBOX", "UNSEEN"), [3, 4, 5]);
    stop_sources(stop, handles).await;
}

#[tokio::test]
async fn with_idle_a_message_is_taken_as_soon_as_it_arrives() {
    let Ok(binary) = std::env::var("NERETVA_TEST_DOVECOT") else {
        eprintln!("NERETVA_TEST_DOVECOT is not set; the IMAP source is not tested against Dovecot");
        return;
    };
    // Dovecot looks for changes every second while a client idles (inotify tells it sooner).
    let dovecot = Dovecot::start_with(&binary, "imap-idle", "mailbox_idle_check_interval = 1 secs\n");
    let mut client = dovecot.session();
    client.append(
        "INBOX",
        &message(
            "Shadowserver report: first",
            &[("2026-11-29-scan_dns-bih-geo.csv", "text/csv", &scan_dns(&["192.0.2.31"]))],
        ),
    );
    // Polled hourly: only waiting in IDLE brings in the second message within the test.
    let config: PipelineConfig = serde_json::from_value(serde_json::json!({
        "feeds": [
            {"name": "idle", "parser": "shadowserver",
             "source": {"kind": "imap", "host": "127.0.0.1", "port": dovecot.port, "tls": "none",
                        "username": "feeds", "password": PASSWORD, "interval_minutes": 60, "idle": true}},
            {"name": "no-idle", "parser": "shadowserver",
             "source": {"kind": "imap", "host": "127.0.0.1", "port": dovecot.port, "tls": "none",
                        "username": "feeds", "password": PASSWORD, "folder": "Other", "interval_minutes": 60}},
        ],
    }))
    .unwrap();
    client.run("CREATE Other");
    let (pipeline, store, stop, handles) = start(&config).await;
    let status = pipeline.source_status();
    let reports_of = |feed: &'static str| {
        let store = Arc::clone(&store);
        async move {
            let query = ReportQuery { feed: Some(feed.into()), before: None, limit: 10 };
            store.list_reports(&query).await.unwrap().len()
        }
    };
    eventually("the first poll", || async { reports_of("idle").await == 1 }).await;
    eventually("both sources polled", || async {
        ["idle", "no-idle"].iter().all(|feed| status.get(feed).is_some_and(|state| state.last_poll.is_some()))
    })
    .await;
    // Give the source a moment to start idling, then send the second report.
    tokio::time::sleep(Duration::from_millis(500)).await;
    client.append(
        "INBOX",
        &message(
            "Shadowserver report: second",
            &[("2026-11-30-scan_dns-bih-geo.csv", "text/csv", &scan_dns(&["192.0.2.32"]))],
        ),
    );
    client.append(
        "Other",
        &message(
            "Shadowserver report: other",
            &[("2026-11-30-scan_dns-bih-geo.csv", "text/csv", &scan_dns(&["192.0.2.33"]))],
        ),
    );
    // The source counts a report once it is processed, and marks the message seen after that.
    eventually("the second report arrives without waiting an hour", || async {
        status.get("idle").is_some_and(|state| state.reports == 2)
    })
    .await;
    assert_eq!((reports_of("idle").await, status.get("idle").unwrap().errors), (2, 0), "{}", dovecot.log());
    let mut unseen = client.search("INBOX", "UNSEEN");
    for _ in 0..200 {
        if unseen.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        unseen = client.search("INBOX", "UNSEEN");
    }
    assert_eq!(unseen, Vec::<u32>::new(), "the message is marked seen");
    // Without `idle` the other folder's message waits for the next hourly poll.
    assert_eq!(reports_of("no-idle").await, 0);
    assert_eq!(client.search("Other", "UNSEEN"), [1]);
    stop_sources(stop, handles).await;
}
