//! The web interface's forms for actions the API offers: evidence upload, a feed report file's
//! upload, incident links,
//! merges, significance and intermediate-report requests, deleting an organisation, editing a
//! sharing group, managing TAXII collections, and lifting a login lock-out. Each is driven as a
//! browser would (session cookie, CSRF token, `application/x-www-form-urlencoded` or
//! `multipart/form-data`) and checked for its success, its refusal to the wrong role or
//! organisation (404 where the object may not be seen, so nothing leaks), its CSRF refusal, and
//! errors shown on the page.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use neretva_store::{LoginOutcome, Store};
use serde_json::json;

use crate::support::{
    Browser, PASSWORD, Reply, TestApp, assert_status, config, incident_of_ep_b, location, sign_in, test_app,
    test_app_with,
};

/// One part of a multipart form: a text field, or a file with its name, type and bytes.
enum Part<'a> {
    Text(&'a str, &'a str),
    File(&'a str, &'a str, &'a str, &'a [u8]),
}

const BOUNDARY: &str = "----neretva-test-7MA4YWxkTrZu0gW";

fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match part {
            Part::Text(name, value) => {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
                );
            }
            Part::File(name, filename, content_type, bytes) => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(bytes);
                body.extend_from_slice(b"\r\n");
            }
        }
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Multipart uploads, which only these forms need.
trait Upload {
    async fn upload(&self, app: &TestApp, uri: &str, parts: &[Part<'_>]) -> Reply;
}

impl Upload for Browser {
    /// Posts a `multipart/form-data` form exactly as given.
    async fn upload(&self, app: &TestApp, uri: &str, parts: &[Part<'_>]) -> Reply {
        let request = Request::post(uri)
            .header(header::COOKIE, &self.cookie)
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
            .body(Body::from(multipart(parts)))
            .unwrap();
        app.send(request).await
    }
}

/// A temporary evidence directory, removed at the end.
struct EvidenceDir(std::path::PathBuf);

impl Drop for EvidenceDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn evidence_app(max_bytes: u64) -> (TestApp, EvidenceDir) {
    let dir =
        EvidenceDir(std::env::temp_dir().join(format!("neretva-web-evidence-{}", uuid::Uuid::new_v4())));
    let mut config = config();
    config.evidence_dir = Some(dir.0.clone());
    config.evidence_limits.max_bytes = max_bytes;
    (test_app_with(config).await, dir)
}

async fn evidence_count(app: &TestApp, id: &str) -> usize {
    app.get("analyst", &format!("/api/v1/incidents/{id}/evidence")).await.body.as_array().unwrap().len()
}

#[tokio::test]
async fn evidence_is_uploaded_from_a_form_and_its_custody_shown() {
    let (app, _dir) = evidence_app(64).await;
    let id = incident_of_ep_b(&app, "Ransomware at EP-B").await;
    let analyst = sign_in(&app, "analyst").await;
    let page = analyst.get(&app, &format!("/incidents/{id}")).await;
    assert!(page.text.contains("enctype=\"multipart/form-data\""), "no upload form");
    let uri = format!("/incidents/{id}/evidence");
    let note: &[u8] = b"ransom note: pay 1 BTC\r\n--not a boundary\r\n";

    let uploaded = analyst
        .upload(
            &app,
            &uri,
            &[
                Part::Text("csrf_token", &analyst.csrf),
                Part::Text("description", "The note left on the file server"),
                Part::File("file", "C:\\share\\note.txt", "text/plain", note),
            ],
        )
        .await;
    assert_status(&uploaded, StatusCode::SEE_OTHER);
    let items = app.get("analyst", &format!("/api/v1/incidents/{id}/evidence")).await;
    let item = &items.body[0];
    assert_eq!(item["filename"], "note.txt", "directories are dropped from the name");
    assert_eq!(item["size"], note.len());
    assert_eq!(item["content_type"], "text/plain");
    assert_eq!(item["description"], "The note left on the file server");
    let sha256 = item["sha256"].as_str().unwrap();
    assert_eq!(location(&uploaded), format!("/incidents/{id}/evidence/{sha256}"));
    // The item's page shows its chain of custody, starting with the upload by the analyst.
    let custody = analyst.get(&app, &location(&uploaded)).await;
    assert_status(&custody, StatusCode::OK);
    assert!(custody.text.contains("note.txt") && custody.text.contains(sha256));
    assert!(custody.text.contains("Added") && custody.text.contains("analyst"), "{}", custody.text);
    let downloaded = app.get("analyst", &format!("/api/v1/incidents/{id}/evidence/{sha256}/content")).await;
    assert_eq!(
        downloaded.text.as_bytes(),
        note,
        "the bytes are stored as sent, boundary-like lines included"
    );
    let audit = app.get("admin", "/api/v1/audit?limit=1000").await;
    assert!(audit.text.contains("user:analyst") && audit.text.contains("evidence"), "{}", audit.text);

    // The same file again is refused by the API, shown on the incident's page.
    let again = analyst
        .upload(
            &app,
            &uri,
            &[Part::Text("csrf_token", &analyst.csrf), Part::File("file", "again.txt", "text/plain", note)],
        )
        .await;
    assert_status(&again, StatusCode::CONFLICT);
    assert!(again.text.contains("role=\"alert\""), "{}", again.text);

    // Over the limit: refused with the limit named, nothing stored.
    let large = vec![b'x'; 65];
    let over = analyst
        .upload(
            &app,
            &uri,
            &[
                Part::Text("csrf_token", &analyst.csrf),
                Part::File("file", "big.bin", "application/octet-stream", &large),
            ],
        )
        .await;
    assert_status(&over, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(over.text.contains("64 bytes"), "{}", over.text);
    // No file chosen: said on the page.
    let empty = analyst
        .upload(
            &app,
            &uri,
            &[
                Part::Text("csrf_token", &analyst.csrf),
                Part::File("file", "", "application/octet-stream", b""),
            ],
        )
        .await;
    assert_status(&empty, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.text.contains("Choose a file"), "{}", empty.text);
    assert_eq!(evidence_count(&app, &id).await, 1);

    // A missing, forged or late token stores nothing.
    for parts in [
        vec![Part::File("file", "a.txt", "text/plain", b"a")],
        vec![Part::Text("csrf_token", "forged"), Part::File("file", "a.txt", "text/plain", b"a")],
        vec![Part::File("file", "a.txt", "text/plain", b"a"), Part::Text("csrf_token", &analyst.csrf)],
    ] {
        assert_status(&analyst.upload(&app, &uri, &parts).await, StatusCode::FORBIDDEN);
    }
    // Another organisation's constituent learns nothing; nothing is stored.
    let alice = sign_in(&app, "alice").await;
    let refused = alice
        .upload(
            &app,
            &uri,
            &[Part::Text("csrf_token", &alice.csrf), Part::File("file", "a.txt", "text/plain", b"a")],
        )
        .await;
    assert_status(&refused, StatusCode::NOT_FOUND);
    assert!(!refused.text.contains("Ransomware at EP-B"));
    assert_eq!(evidence_count(&app, &id).await, 1);
    // A broken form is refused with the reason.
    let request = Request::post(&uri)
        .header(header::COOKIE, &analyst.cookie)
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(Body::from(format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nabc"
        )))
        .unwrap();
    let broken = app.send(request).await;
    assert_status(&broken, StatusCode::BAD_REQUEST);
    assert!(broken.text.contains("closing boundary"), "{}", broken.text);
}

/// A Shadowserver `scan_dns` report of three addresses.
fn scan_dns_report() -> Vec<u8> {
    let mut csv = String::from("\"timestamp\",\"ip\",\"protocol\",\"port\",\"tag\",\"geo\"\n");
    for ip in ["192.0.2.1", "192.0.2.2", "192.0.2.3"] {
        csv.push_str(&format!("\"2026-11-27 10:00:00\",\"{ip}\",\"udp\",\"53\",\"openresolver\",\"BA\"\n"));
    }
    csv.into_bytes()
}

/// The feeds page's file form before its file: the token, the feed and no file name.
fn report_form(csrf: &str) -> Vec<Part<'_>> {
    vec![Part::Text("csrf_token", csrf), Part::Text("feed", "shadowserver-dns"), Part::Text("file_name", "")]
}

#[tokio::test]
async fn a_report_file_is_uploaded_from_the_feeds_page_and_unpacked() {
    let app = test_app().await;
    let analyst = sign_in(&app, "analyst").await;
    let page = analyst.get(&app, "/feeds").await;
    assert!(
        page.text.contains("action=\"/feeds/upload-file\" enctype=\"multipart/form-data\""),
        "{}",
        page.text
    );
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gzip, &scan_dns_report()).unwrap();
    let gzipped = gzip.finish().unwrap();

    // A gzip file is the report it holds, stored under its name without `.gz` and the browser's
    // directories.
    let mut upload = report_form(&analyst.csrf);
    upload.push(Part::File(
        "file",
        "C:\\reports\\2026-11-27-scan_dns-bih-geo.csv.gz",
        "application/gzip",
        &gzipped,
    ));
    let uploaded = analyst.upload(&app, "/feeds/upload-file", &upload).await;
    assert_status(&uploaded, StatusCode::SEE_OTHER);
    assert!(location(&uploaded).starts_with("/feeds/reports/"), "{}", location(&uploaded));
    let reports = app.get("analyst", "/api/v1/reports").await;
    let report = &reports.body[0];
    assert_eq!(report["source"], "upload:analyst#2026-11-27-scan_dns-bih-geo.csv", "{}", reports.text);
    assert_eq!((report["events"].as_u64(), report["errors"].as_u64()), (Some(3), Some(0)), "{report}");

    // A wrong token stores nothing; a constituent finds no such page; no file is a refusal.
    let mut forged = report_form("0000");
    forged.push(Part::File("file", "a.csv", "text/csv", b"x"));
    let refused = analyst.upload(&app, "/feeds/upload-file", &forged).await;
    assert_status(&refused, StatusCode::FORBIDDEN);
    let alice = sign_in(&app, "alice").await;
    let mut hers = report_form(&alice.csrf);
    hers.push(Part::File("file", "a.csv", "text/csv", b"x"));
    assert_status(&alice.upload(&app, "/feeds/upload-file", &hers).await, StatusCode::NOT_FOUND);
    // The auditor reads but may not upload: refused before the file is read.
    let auditor = sign_in(&app, "auditor").await;
    let mut theirs = report_form(&auditor.csrf);
    theirs.push(Part::File("file", "a.csv", "text/csv", b"x"));
    assert_status(&auditor.upload(&app, "/feeds/upload-file", &theirs).await, StatusCode::FORBIDDEN);
    let none = analyst.upload(&app, "/feeds/upload-file", &report_form(&analyst.csrf)).await;
    assert_status(&none, StatusCode::BAD_REQUEST);
    assert!(none.text.contains("choose a report file"), "{}", none.text);
    // An archive of several reports is one report per file, as a source's directory takes it;
    // the feed's reports are shown.
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, address) in
        [("2026-11-28-scan_dns-bih-geo.csv", "192.0.2.8"), ("2026-11-29-scan_dns-bih-geo.csv", "192.0.2.9")]
    {
        zip.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        let report = String::from_utf8(scan_dns_report()).unwrap().replace("192.0.2.1", address);
        std::io::Write::write_all(&mut zip, report.as_bytes()).unwrap();
    }
    let zipped = zip.finish().unwrap().into_inner();
    let mut several = report_form(&analyst.csrf);
    several.push(Part::File("file", "reports.zip", "application/zip", &zipped));
    let stored = analyst.upload(&app, "/feeds/upload-file", &several).await;
    assert_status(&stored, StatusCode::SEE_OTHER);
    assert_eq!(location(&stored), "/feeds?feed=shadowserver-dns");
    let reports = app.get("analyst", "/api/v1/reports").await;
    let sources: Vec<&str> =
        reports.body.as_array().unwrap().iter().map(|r| r["source"].as_str().unwrap()).collect();
    assert_eq!(
        sources,
        [
            "upload:analyst#2026-11-29-scan_dns-bih-geo.csv",
            "upload:analyst#2026-11-28-scan_dns-bih-geo.csv",
            "upload:analyst#2026-11-27-scan_dns-bih-geo.csv"
        ]
    );
    // The API's upload stays one report per call.
    let request = Request::post("/api/v1/reports?feed=shadowserver-dns&file_name=reports.zip")
        .header(header::AUTHORIZATION, format!("Bearer {}", app.tokens["analyst"]))
        .body(Body::from(zipped.clone()))
        .unwrap();
    let refused = app.send(request).await;
    assert_status(&refused, StatusCode::BAD_REQUEST);
    assert!(refused.text.contains("the archive holds 2 files"), "{}", refused.text);
    // A body announced over the report size limit is refused before it is read.
    let request = Request::post("/feeds/upload-file")
        .header(header::COOKIE, &analyst.cookie)
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .header(header::CONTENT_LENGTH, (1u64 << 40).to_string())
        .body(Body::empty())
        .unwrap();
    assert_status(&app.send(request).await, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.get("analyst", "/api/v1/reports").await.body.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn incidents_are_linked_and_unlinked_from_the_incident_page() {
    let app = test_app().await;
    let first = incident_of_ep_b(&app, "Ransomware at EP-B").await;
    let second = incident_of_ep_b(&app, "Phishing at EP-B").await;
    let analyst = sign_in(&app, "analyst").await;
    let uri = format!("/incidents/{first}/links");

    for token in ["", "forged"] {
        let reply =
            analyst.post(&app, &uri, &[("csrf_token", token), ("other", &second), ("kind", "related")]).await;
        assert_status(&reply, StatusCode::FORBIDDEN);
    }
    let bob = sign_in(&app, "bob").await;
    assert_status(
        &bob.post(&app, &uri, &[("other", &second), ("kind", "related")]).await,
        StatusCode::FORBIDDEN,
    );
    let alice = sign_in(&app, "alice").await;
    assert_status(
        &alice.post(&app, &uri, &[("other", &second), ("kind", "related")]).await,
        StatusCode::NOT_FOUND,
    );
    assert!(
        app.get("analyst", &format!("/api/v1/incidents/{first}/links"))
            .await
            .body
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Problems are shown on the page: not an id, an unknown incident, an unknown kind.
    let not_an_id = analyst.post(&app, &uri, &[("other", "yesterday's"), ("kind", "related")]).await;
    assert_status(&not_an_id, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(not_an_id.text.contains("Give the other incident"), "{}", not_an_id.text);
    let unknown = uuid::Uuid::new_v4().to_string();
    let missing = analyst.post(&app, &uri, &[("other", &unknown), ("kind", "related")]).await;
    assert_status(&missing, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.text.contains(&unknown), "{}", missing.text);
    let bad_kind = analyst.post(&app, &uri, &[("other", &second), ("kind", "cousin_of")]).await;
    assert!(
        bad_kind.text.contains("role=\"alert\"") && bad_kind.text.contains("cousin_of"),
        "{}",
        bad_kind.text
    );

    let linked = analyst.post(&app, &uri, &[("other", &second), ("kind", "duplicate_of")]).await;
    assert_status(&linked, StatusCode::SEE_OTHER);
    assert_eq!(location(&linked), format!("/incidents/{first}"));
    let page = analyst.get(&app, &format!("/incidents/{first}")).await;
    assert!(page.text.contains("Duplicate of") && page.text.contains("Phishing at EP-B"), "{}", page.text);
    let links = app.get("analyst", &format!("/api/v1/incidents/{first}/links")).await;
    assert_eq!(links.body[0]["other"], second.as_str());

    let remove = format!("/incidents/{first}/links/{second}/remove");
    assert_status(&analyst.post(&app, &remove, &[("csrf_token", "forged")]).await, StatusCode::FORBIDDEN);
    assert_status(&bob.post(&app, &remove, &[]).await, StatusCode::FORBIDDEN);
    assert_status(&analyst.post(&app, &remove, &[]).await, StatusCode::SEE_OTHER);
    assert!(
        app.get("analyst", &format!("/api/v1/incidents/{first}/links"))
            .await
            .body
            .as_array()
            .unwrap()
            .is_empty()
    );
    let audit = app.get("admin", "/api/v1/audit?limit=1000").await;
    assert!(audit.text.contains("incident.link") && audit.text.contains("incident.unlink"), "{}", audit.text);
}

#[tokio::test]
async fn an_incident_is_merged_into_another_after_confirmation() {
    let app = test_app().await;
    let source = incident_of_ep_b(&app, "Duplicate report").await;
    let target = incident_of_ep_b(&app, "Ransomware at EP-B").await;
    let analyst = sign_in(&app, "analyst").await;
    let confirm = analyst.get(&app, &format!("/incidents/{source}/merge?into={target}")).await;
    assert_status(&confirm, StatusCode::OK);
    assert!(confirm.text.contains("Duplicate report") && confirm.text.contains("Ransomware at EP-B"));
    assert!(confirm.text.contains(&format!("value=\"{target}\"")));
    // Asking changes nothing.
    assert_eq!(
        app.get("analyst", &format!("/api/v1/incidents/{source}")).await.body["merged_into"],
        json!(null)
    );
    let unknown = uuid::Uuid::new_v4().to_string();
    let missing = analyst.get(&app, &format!("/incidents/{source}/merge?into={unknown}")).await;
    assert_status(&missing, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.text.contains(&unknown));

    let uri = format!("/incidents/{source}/merge");
    assert_status(
        &analyst.post(&app, &uri, &[("csrf_token", "forged"), ("into", &target)]).await,
        StatusCode::FORBIDDEN,
    );
    let bob = sign_in(&app, "bob").await;
    assert_status(
        &bob.get(&app, &format!("/incidents/{source}/merge?into={target}")).await,
        StatusCode::FORBIDDEN,
    );
    assert_status(&bob.post(&app, &uri, &[("into", &target)]).await, StatusCode::FORBIDDEN);
    let alice = sign_in(&app, "alice").await;
    let hidden = alice.get(&app, &format!("/incidents/{source}/merge?into={target}")).await;
    assert_status(&hidden, StatusCode::NOT_FOUND);
    assert!(!hidden.text.contains("Duplicate report"));
    assert_status(&alice.post(&app, &uri, &[("into", &target)]).await, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("analyst", &format!("/api/v1/incidents/{source}")).await.body["merged_into"],
        json!(null)
    );

    let merged = analyst.post(&app, &uri, &[("into", &target)]).await;
    assert_status(&merged, StatusCode::SEE_OTHER);
    assert_eq!(location(&merged), format!("/incidents/{target}"));
    let source_now = app.get("analyst", &format!("/api/v1/incidents/{source}")).await;
    assert_eq!(source_now.body["merged_into"], target.as_str());
    // Merging again is refused by the API, and said on the page.
    let again = analyst.post(&app, &uri, &[("into", &target)]).await;
    assert!(again.status.is_client_error(), "{}", again.status);
    assert!(again.text.contains("role=\"alert\""), "{}", again.text);
    let audit = app.get("admin", "/api/v1/audit?limit=1000").await;
    assert!(audit.text.contains("incident.merge"), "{}", audit.text);
}

#[tokio::test]
async fn significance_is_assessed_from_the_facts_form() {
    let app = test_app().await;
    let id = incident_of_ep_b(&app, "Ransomware at EP-B").await;
    let analyst = sign_in(&app, "analyst").await;
    let version = app.get("analyst", &format!("/api/v1/incidents/{id}")).await.body["version"].to_string();
    let uri = format!("/incidents/{id}/significance");
    let occurred = (time::OffsetDateTime::now_utc() - time::Duration::hours(40))
        .format(time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]"))
        .unwrap();
    let facts = [
        ("version", version.as_str()),
        ("occurred_at", occurred.as_str()),
        ("severe_disruption_or_loss", "on"),
        ("direct_financial_loss_eur", "12 000"),
        ("root_cause", "unpatched VPN"),
    ];

    // Problems are named at their fields, nothing recorded.
    let mut bad = facts.to_vec();
    bad.retain(|(name, _)| *name != "direct_financial_loss_eur");
    bad.push(("direct_financial_loss_eur", "a lot"));
    bad.push(("provider", "bakery"));
    let refused = analyst.post(&app, &uri, &bad).await;
    assert_status(&refused, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text.contains("a lot") && refused.text.contains("bakery"), "{}", refused.text);
    assert_eq!(
        app.get("analyst", &format!("/api/v1/incidents/{id}")).await.body["significance"],
        json!(null)
    );
    // Wrong role, other organisation, forged token: refused, nothing recorded.
    let bob = sign_in(&app, "bob").await;
    assert_status(&bob.post(&app, &uri, &facts).await, StatusCode::FORBIDDEN);
    let alice = sign_in(&app, "alice").await;
    assert_status(&alice.post(&app, &uri, &facts).await, StatusCode::NOT_FOUND);
    let mut forged = facts.to_vec();
    forged.push(("csrf_token", "forged"));
    assert_status(&analyst.post(&app, &uri, &forged).await, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("analyst", &format!("/api/v1/incidents/{id}")).await.body["significance"],
        json!(null)
    );

    let recorded = analyst.post(&app, &uri, &facts).await;
    assert_status(&recorded, StatusCode::SEE_OTHER);
    let shown = app.get("analyst", &format!("/api/v1/incidents/{id}")).await;
    assert_eq!(shown.body["significance"]["significant"], true);
    assert_eq!(shown.body["significance"]["facts"]["direct_financial_loss_eur"], 12000);
    let page = analyst.get(&app, &format!("/incidents/{id}")).await;
    assert!(page.text.contains("Significant incident"), "{}", page.text);
    assert!(page.text.contains("Art. 23(3)(a)"), "the criterion met is named: {}", page.text);
    assert!(page.text.contains("value=\"unpatched VPN\""), "the form shows the recorded facts");
    // The version the form was read with is stale now.
    let stale = analyst.post(&app, &uri, &facts).await;
    assert_status(&stale, StatusCode::CONFLICT);
    assert!(stale.text.contains("Someone changed this incident"), "{}", stale.text);
}

#[tokio::test]
async fn an_intermediate_report_is_requested_from_the_incident_page() {
    let app = test_app().await;
    let id = incident_of_ep_b(&app, "Ransomware at EP-B").await;
    let analyst = sign_in(&app, "analyst").await;
    let uri = format!("/incidents/{id}/requests");
    let due = (time::OffsetDateTime::now_utc() + time::Duration::days(3))
        .format(time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]"))
        .unwrap();
    let fields = [("due_at", due.as_str()), ("note", "How far has the encryption spread?")];

    let bad = analyst.post(&app, &uri, &[("due_at", "next week")]).await;
    assert_status(&bad, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text.contains("next week"), "{}", bad.text);
    let bob = sign_in(&app, "bob").await;
    assert_status(&bob.post(&app, &uri, &fields).await, StatusCode::FORBIDDEN);
    let alice = sign_in(&app, "alice").await;
    assert_status(&alice.post(&app, &uri, &fields).await, StatusCode::NOT_FOUND);
    let mut forged = fields.to_vec();
    forged.push(("csrf_token", "forged"));
    assert_status(&analyst.post(&app, &uri, &forged).await, StatusCode::FORBIDDEN);
    assert!(
        app.get("analyst", &format!("/api/v1/incidents/{id}/requests"))
            .await
            .body
            .as_array()
            .unwrap()
            .is_empty()
    );

    let asked = analyst.post(&app, &uri, &fields).await;
    assert_status(&asked, StatusCode::SEE_OTHER);
    let requests = app.get("analyst", &format!("/api/v1/incidents/{id}/requests")).await;
    assert_eq!(requests.body.as_array().unwrap().len(), 1);
    let page = analyst.get(&app, &format!("/incidents/{id}")).await;
    assert!(page.text.contains("How far has the encryption spread?"), "{}", page.text);
    // The entity sees what it is asked for in its portal.
    let portal = bob.get(&app, &format!("/portal/reports/{id}")).await;
    assert_status(&portal, StatusCode::OK);
}

#[tokio::test]
async fn an_administrator_deletes_an_organisation_after_confirmation() {
    let app = test_app().await;
    let created = app
        .call(
            Some("admin"),
            "POST",
            "/api/v1/organisations",
            Some(json!({"name": "Old Operator", "short_name": "OLD", "authority_level": "State"})),
        )
        .await;
    assert_status(&created, StatusCode::CREATED);
    let old = app.store_org("OLD").await;
    let admin = sign_in(&app, "admin").await;
    let page = admin.get(&app, &format!("/constituency/organisations/{old}")).await;
    assert!(page.text.contains(&format!("organisations/{old}/delete")), "no delete link for the admin");
    let confirm = admin.get(&app, &format!("/constituency/organisations/{old}/delete")).await;
    assert_status(&confirm, StatusCode::OK);
    assert!(confirm.text.contains("Old Operator") && confirm.text.contains("Delete this organisation?"));

    let uri = format!("/constituency/organisations/{old}/delete");
    assert_status(&admin.post(&app, &uri, &[("csrf_token", "forged")]).await, StatusCode::FORBIDDEN);
    // The analyst may change the registry over the API, but deleting is for administrators here.
    let analyst = sign_in(&app, "analyst").await;
    let analyst_page = analyst.get(&app, &format!("/constituency/organisations/{old}")).await;
    assert!(
        !analyst_page.text.contains(&format!("organisations/{old}/delete")),
        "a delete link for the analyst"
    );
    assert_status(&analyst.get(&app, &uri).await, StatusCode::FORBIDDEN);
    assert_status(&analyst.post(&app, &uri, &[]).await, StatusCode::FORBIDDEN);
    // A constituent learns nothing of another organisation.
    let alice = sign_in(&app, "alice").await;
    let ep_b = app.store_org("EP-B").await;
    let hidden = alice.post(&app, &format!("/constituency/organisations/{ep_b}/delete"), &[]).await;
    assert_status(&hidden, StatusCode::NOT_FOUND);
    assert!(!hidden.text.contains("Elektro B"));
    assert!(app.store.find_org("OLD").await.unwrap().is_some());
    assert!(app.store.find_org("EP-B").await.unwrap().is_some());

    // An organisation with users is kept, and the page says why.
    let res = app.store_org("RES").await;
    let refused = admin.post(&app, &format!("/constituency/organisations/{res}/delete"), &[]).await;
    assert_status(&refused, StatusCode::CONFLICT);
    assert!(
        refused.text.contains("role=\"alert\"") && refused.text.contains("Research Institute"),
        "{}",
        refused.text
    );
    assert!(app.store.find_org("RES").await.unwrap().is_some());

    let deleted = admin.post(&app, &uri, &[]).await;
    assert_status(&deleted, StatusCode::SEE_OTHER);
    assert_eq!(location(&deleted), "/constituency/organisations");
    assert!(app.store.find_org("OLD").await.unwrap().is_none());
    let audit = app.get("admin", "/api/v1/audit?action=org.delete").await;
    assert!(audit.text.contains("user:admin"), "{}", audit.text);
}

#[tokio::test]
async fn a_sharing_group_is_renamed_and_its_members_changed() {
    let app = test_app().await;
    let ep_b = app.store_org("EP-B").await;
    let group = app
        .call(
            Some("alice"),
            "POST",
            "/api/v1/intel/sharing-groups",
            Some(json!({ "name": "Energy pair", "members": [ep_b], "confidential": false })),
        )
        .await;
    assert_status(&group, StatusCode::CREATED);
    let id = group.body["uuid"].as_str().unwrap().to_owned();
    let alice = sign_in(&app, "alice").await;
    let page = alice.get(&app, &format!("/sharing/groups/{id}")).await;
    assert!(page.text.contains(&format!("action=\"/sharing/groups/{id}/members\"")), "{}", page.text);

    let edit = format!("/sharing/groups/{id}");
    let renamed =
        alice.post(&app, &edit, &[("name", "Energy trio"), ("description", "Three operators")]).await;
    assert_status(&renamed, StatusCode::SEE_OTHER);
    let members = format!("/sharing/groups/{id}/members");
    // A short name the owner may not see is no organisation to it, as one that does not exist.
    for name in ["NOPE", "RES"] {
        let unknown = alice.post(&app, &members, &[("member", name)]).await;
        assert_status(&unknown, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(unknown.text.contains(&format!("no organisation &quot;{name}&quot;")), "{}", unknown.text);
    }
    // The CERT's staff manage every group and see every organisation.
    let analyst = sign_in(&app, "analyst").await;
    assert_status(&analyst.post(&app, &members, &[("member", "RES")]).await, StatusCode::SEE_OTHER);
    let res = app.store_org("RES").await;
    let shown = app.get("alice", "/api/v1/intel/sharing-groups").await;
    let stored = shown.body.as_array().unwrap().iter().find(|g| g["uuid"] == id.as_str()).unwrap().clone();
    assert_eq!(stored["name"], "Energy trio");
    assert_eq!(stored["confidential"], false);
    assert!(stored["members"].as_array().unwrap().iter().any(|m| m == res.as_str()));
    let remove = format!("/sharing/groups/{id}/members/{ep_b}/remove");
    assert_status(&alice.post(&app, &remove, &[]).await, StatusCode::SEE_OTHER);
    let shown = app.get("alice", "/api/v1/intel/sharing-groups").await;
    let stored = shown.body.as_array().unwrap().iter().find(|g| g["uuid"] == id.as_str()).unwrap().clone();
    assert!(!stored["members"].as_array().unwrap().iter().any(|m| m == ep_b.as_str()));

    // A member that does not own it may not change it; an outsider learns nothing; no token, no change.
    let bobs_group = app
        .call(
            Some("bob"),
            "POST",
            "/api/v1/intel/sharing-groups",
            Some(json!({ "name": "Bob's", "members": [] })),
        )
        .await;
    assert_status(&bobs_group, StatusCode::CREATED);
    let bobs = bobs_group.body["uuid"].as_str().unwrap().to_owned();
    let carol = sign_in(&app, "carol").await;
    let outsider = carol.post(&app, &format!("/sharing/groups/{bobs}"), &[("name", "Taken")]).await;
    assert_status(&outsider, StatusCode::NOT_FOUND);
    let outsider = carol.post(&app, &format!("/sharing/groups/{bobs}/members"), &[("member", "RES")]).await;
    assert_status(&outsider, StatusCode::NOT_FOUND);
    let bob = sign_in(&app, "bob").await;
    let bob_members = app
        .call(
            Some("alice"),
            "PATCH",
            &format!("/api/v1/intel/sharing-groups/{id}"),
            Some(json!({"add_members": [ep_b]})),
        )
        .await;
    assert_status(&bob_members, StatusCode::OK);
    let not_owner = bob.post(&app, &edit, &[("name", "Bob's now")]).await;
    assert_status(&not_owner, StatusCode::FORBIDDEN);
    assert!(!bob.get(&app, &edit).await.text.contains("name=\"member\""), "edit forms shown to a member");
    assert_status(
        &alice.post(&app, &edit, &[("name", "Forged"), ("csrf_token", "x")]).await,
        StatusCode::FORBIDDEN,
    );
    let shown = app.get("alice", "/api/v1/intel/sharing-groups").await;
    assert!(
        shown.text.contains("Energy trio")
            && !shown.text.contains("Forged")
            && !shown.text.contains("Bob's now")
    );
}

#[tokio::test]
async fn administrators_create_and_remove_taxii_collections() {
    let app = test_app().await;
    let admin = sign_in(&app, "admin").await;
    let page = admin.get(&app, "/sharing/taxii").await;
    assert!(page.text.contains("action=\"/sharing/taxii\""), "no create form for the admin");
    let fields = [
        ("title", "Energy indicators"),
        ("alias", "energy"),
        ("sharing", "groups"),
        ("sharing_orgs", "EP-A, EP-B"),
        ("writers", "readers"),
        ("default_tlp", "TLP:AMBER"),
    ];
    // Problems come back on the page with what was typed.
    let refused = admin
        .post(
            &app,
            "/sharing/taxii",
            &[
                ("title", "Broken"),
                ("sharing", "groups"),
                ("sharing_orgs", "NOPE"),
                ("default_tlp", "TLP:BLUE"),
            ],
        )
        .await;
    assert_status(&refused, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text.contains("NOPE") && refused.text.contains("value=\"Broken\""), "{}", refused.text);
    let analyst = sign_in(&app, "analyst").await;
    assert_status(&analyst.post(&app, "/sharing/taxii", &fields).await, StatusCode::FORBIDDEN);
    assert!(!analyst.get(&app, "/sharing/taxii").await.text.contains("action=\"/sharing/taxii\""));
    let mut forged = fields.to_vec();
    forged.push(("csrf_token", "forged"));
    assert_status(&admin.post(&app, "/sharing/taxii", &forged).await, StatusCode::FORBIDDEN);
    assert!(app.get("admin", "/api/v1/taxii/collections").await.body.as_array().unwrap().is_empty());

    let created = admin.post(&app, "/sharing/taxii", &fields).await;
    assert_status(&created, StatusCode::SEE_OTHER);
    let collections = app.get("admin", "/api/v1/taxii/collections").await;
    let collection = &collections.body[0];
    assert_eq!(collection["alias"], "energy");
    assert_eq!(collection["sharing"], "groups");
    assert_eq!(collection["sharing_orgs"], json!(["EP-A", "EP-B"]));
    assert_eq!(collection["writers"], "readers");
    assert_eq!(collection["default_tlp"], "TLP:AMBER");
    let id = collection["id"].as_str().unwrap().to_owned();

    let remove = format!("/sharing/taxii/{id}/remove");
    let confirm = admin.get(&app, &remove).await;
    assert_status(&confirm, StatusCode::OK);
    assert!(confirm.text.contains("Energy indicators"));
    assert_status(&analyst.get(&app, &remove).await, StatusCode::NOT_FOUND);
    assert_status(&analyst.post(&app, &remove, &[]).await, StatusCode::NOT_FOUND);
    assert_status(&admin.post(&app, &remove, &[("csrf_token", "forged")]).await, StatusCode::FORBIDDEN);
    assert_eq!(app.get("admin", "/api/v1/taxii/collections").await.body.as_array().unwrap().len(), 1);
    assert_status(&admin.post(&app, &remove, &[]).await, StatusCode::SEE_OTHER);
    assert!(app.get("admin", "/api/v1/taxii/collections").await.body.as_array().unwrap().is_empty());
    let audit = app.get("admin", "/api/v1/audit?limit=1000").await;
    assert!(audit.text.contains("taxii.collection.delete"), "{}", audit.text);
}

#[tokio::test]
async fn a_login_lock_out_is_lifted_by_an_administrator() {
    let app = test_app().await;
    let bob = app.store.find_user("bob").await.unwrap().unwrap();
    let until = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let failure = LoginOutcome::Failure { at: time::OffsetDateTime::now_utc(), lock_until: Some(until) };
    app.store.record_login(bob.id, failure).await.unwrap();
    let login = app
        .call(None, "POST", "/api/v1/auth/login", Some(json!({"username": "bob", "password": PASSWORD})))
        .await;
    assert_status(&login, StatusCode::FORBIDDEN);

    let admin = sign_in(&app, "admin").await;
    let users = admin.get(&app, "/admin/users").await;
    let uri = format!("/admin/users/{}/release", bob.id);
    assert!(users.text.contains(&format!("action=\"/admin/users/{}/release\"", bob.id)), "{}", users.text);
    assert_status(&admin.post(&app, &uri, &[("csrf_token", "forged")]).await, StatusCode::FORBIDDEN);
    let analyst = sign_in(&app, "analyst").await;
    assert_status(&analyst.post(&app, &uri, &[]).await, StatusCode::NOT_FOUND);
    let api_refused =
        app.call(Some("analyst"), "POST", &format!("/api/v1/users/{}/unlock", bob.id), None).await;
    assert_status(&api_refused, StatusCode::FORBIDDEN);
    assert!(app.store.get_user(bob.id).await.unwrap().unwrap().locked_until.is_some());

    assert_status(&admin.post(&app, &uri, &[]).await, StatusCode::SEE_OTHER);
    let unlocked = app.store.get_user(bob.id).await.unwrap().unwrap();
    assert_eq!((unlocked.failed_logins, unlocked.locked_until), (0, None));
    let login = app
        .call(None, "POST", "/api/v1/auth/login", Some(json!({"username": "bob", "password": PASSWORD})))
        .await;
    assert_status(&login, StatusCode::OK);
    let audit = app.get("admin", "/api/v1/audit?action=user.unlock").await;
    assert_eq!(audit.body["items"][0]["actor"], "user:admin");
    assert_eq!(audit.body["items"][0]["object_id"], bob.id.to_string());
    // The API answers the same; an unknown user is not found.
    let unknown = app
        .call(Some("admin"), "POST", &format!("/api/v1/users/{}/unlock", uuid::Uuid::new_v4()), None)
        .await;
    assert_status(&unknown, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_audit_log_is_filtered_by_time_in_the_store() {
    let app = test_app().await;
    let all = app.get("admin", "/api/v1/audit?limit=1000").await;
    let items = all.body["items"].as_array().unwrap().clone();
    assert!(items.len() > 3);
    let first = items[0]["at"].as_str().unwrap().to_owned();
    let last = items.last().unwrap()["at"].as_str().unwrap().to_owned();
    // `until` excludes its instant, `since` includes it: nothing before the first entry.
    let before = app.get("admin", &format!("/api/v1/audit?until={}", urlencode(&first))).await;
    assert_status(&before, StatusCode::OK);
    assert!(before.body["items"].as_array().unwrap().is_empty(), "{}", before.text);
    let since = app.get("admin", &format!("/api/v1/audit?since={}&limit=1000", urlencode(&first))).await;
    assert_eq!(since.body["items"].as_array().unwrap().len(), items.len());
    let until_last = app.get("admin", &format!("/api/v1/audit?until={}&limit=1000", urlencode(&last))).await;
    // Compared as times: the texts drop trailing zeros of the fraction, so they do not sort.
    let at = |text: &str| {
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap()
    };
    let expected = items.iter().filter(|item| at(item["at"].as_str().unwrap()) < at(&last)).count();
    assert_eq!(until_last.body["items"].as_array().unwrap().len(), expected);
    let bad = app.get("admin", "/api/v1/audit?since=yesterday").await;
    assert_status(&bad, StatusCode::BAD_REQUEST);
    assert!(bad.text.contains("since"), "{}", bad.text);

    // The page takes dates and times; a range after everything shows no entry and no next page.
    let admin = sign_in(&app, "admin").await;
    let page = admin.get(&app, "/admin/audit?since=2999-01-01").await;
    assert_status(&page, StatusCode::OK);
    assert!(!page.text.contains("user.create"), "{}", page.text);
    let page = admin.get(&app, "/admin/audit?since=2000-01-01&until=2999-01-01").await;
    assert!(page.text.contains("user.create"), "{}", page.text);
    let auditor = sign_in(&app, "auditor").await;
    assert_status(&auditor.get(&app, "/admin/audit?since=2000-01-01").await, StatusCode::OK);
    let analyst = sign_in(&app, "analyst").await;
    assert_status(&analyst.get(&app, "/admin/audit?since=2000-01-01").await, StatusCode::NOT_FOUND);
}

fn urlencode(text: &str) -> String {
    serde_urlencoded::to_string([("v", text)]).unwrap().trim_start_matches("v=").to_owned()
}
