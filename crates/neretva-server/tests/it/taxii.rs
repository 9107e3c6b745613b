//! The TAXII 2.1 server in process: collections per sharing scope and objects per TLP through
//! every read path for every kind of caller, media types, paging tokens, writes, statuses,
//! Basic authentication with lock-out, and the collection administration API.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine;
use serde_json::{Value, json};

use crate::support::{PASSWORD, Reply, TestApp, assert_status, config, test_app, test_app_with};

const TAXII: &str = "application/taxii+json;version=2.1";
const ROOT: &str = "/taxii2/neretva";

const TLP_IDS: [(&str, &str); 5] = [
    ("clear", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"),
    ("green", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"),
    ("amber", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"),
    ("amber+strict", "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"),
    ("red", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"),
];

/// How a request authenticates.
#[derive(Clone, Copy)]
enum Cred<'a> {
    Anonymous,
    Token(&'a str),
    Basic(&'a str, &'a str),
}

async fn taxii(app: &TestApp, cred: Cred<'_>, method: &str, uri: &str, body: Option<Value>) -> Reply {
    let mut request = Request::builder().method(method).uri(uri).header(header::ACCEPT, TAXII);
    match cred {
        Cred::Anonymous => {}
        Cred::Token(user) => {
            request = request.header(header::AUTHORIZATION, format!("Token {}", app.tokens[user]))
        }
        Cred::Basic(user, password) => {
            let pair = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            request = request.header(header::AUTHORIZATION, format!("Basic {pair}"));
        }
    }
    let body = match body {
        Some(json) => {
            request = request.header(header::CONTENT_TYPE, TAXII);
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    let reply = app.send(request.body(body).unwrap()).await;
    assert_eq!(
        reply.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()),
        Some(TAXII),
        "{method} {uri}: {}",
        reply.text
    );
    reply
}

/// A version-4 form id made from a name, so tests can name objects.
fn name_id(name: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(name.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    format!("indicator--{}", uuid::Builder::from_random_bytes(bytes).into_uuid())
}

fn indicator(name: &str, tlp: &str, modified: &str) -> Value {
    let marking = TLP_IDS.iter().find(|(label, _)| *label == tlp).unwrap().1;
    json!({
        "type": "indicator", "spec_version": "2.1",
        "id": name_id(name),
        "created": "2026-01-01T00:00:00.000Z", "modified": modified,
        "name": name, "pattern": format!("[domain-name:value = '{name}.example']"),
        "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": [marking]
    })
}

/// Creates a collection through the administration API; returns its id.
async fn collection(app: &TestApp, body: Value) -> String {
    let reply = app.call(Some("admin"), "POST", "/api/v1/taxii/collections", Some(body)).await;
    assert_status(&reply, StatusCode::CREATED);
    reply.body["id"].as_str().unwrap().to_owned()
}

/// Four collections (one per scope), each with one indicator per TLP posted by its owner.
async fn seed(app: &TestApp) -> BTreeMap<&'static str, String> {
    let mut ids = BTreeMap::new();
    let specs = [
        ("public", json!({"title": "Public", "sharing": "public", "writers": "readers"}), "admin"),
        ("community", json!({"title": "Community", "sharing": "community", "writers": "readers"}), "admin"),
        ("group", json!({"title": "Group", "sharing": "groups", "sharing_orgs": ["EP-B"]}), "admin"),
        (
            "epa",
            json!({"title": "EP-A only", "sharing": "organisation", "owner": "EP-A", "alias": "epa"}),
            "alice",
        ),
    ];
    for (key, body, poster) in specs {
        let id = collection(app, body).await;
        let objects: Vec<Value> = TLP_IDS
            .iter()
            .map(|(tlp, _)| indicator(&format!("{key}-{tlp}"), tlp, "2026-01-02T00:00:00.000Z"))
            .collect();
        let uri = format!("{ROOT}/collections/{id}/objects/");
        let reply = taxii(app, Cred::Token(poster), "POST", &uri, Some(json!({"objects": objects}))).await;
        assert_status(&reply, StatusCode::ACCEPTED);
        assert_eq!(reply.body["success_count"], 5, "{}", reply.text);
        ids.insert(key, id);
    }
    ids
}

fn names(reply: &Reply) -> BTreeSet<String> {
    reply.body["objects"].as_array().map_or_else(BTreeSet::new, |objects| {
        objects
            .iter()
            .map(|o| o["name"].as_str().unwrap_or(o["id"].as_str().unwrap_or("?")).to_owned())
            .collect()
    })
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn every_caller_sees_exactly_what_may_see_allows() {
    let app = test_app().await;
    let ids = seed(&app).await;
    let all =
        |key: &str, tlps: &[&str]| -> Vec<String> { tlps.iter().map(|tlp| format!("{key}-{tlp}")).collect() };
    let below_red = ["clear", "green", "amber", "amber+strict"];
    // (caller, collection, objects expected; None = the collection is not there for the caller).
    let mut expected: Vec<(&str, &str, Option<Vec<String>>)> = Vec::new();
    for collection in ["public", "community", "group"] {
        // Staff of the operator (the owner and poster) see everything but RED (named to the poster).
        expected.push(("analyst", collection, Some(all(collection, &below_red))));
    }
    expected.push(("analyst", "epa", Some(all("epa", &below_red))));
    // The admin posted the operator's collections: it is the RED object's named recipient.
    expected.push(("admin", "public", Some(all("public", &TLP_IDS.map(|t| t.0)))));
    // alice (EP-A, a client of the CERT): AMBER of the CERT reaches her; AMBER+STRICT does not.
    expected.push(("alice", "public", Some(all("public", &["clear", "green", "amber"]))));
    expected.push(("alice", "community", Some(all("community", &["clear", "green", "amber"]))));
    expected.push(("alice", "group", None));
    expected.push(("alice", "epa", Some(all("epa", &TLP_IDS.map(|t| t.0)))));
    // bob (EP-B) is in the group: its AMBER+STRICT is addressed to the group's organisations.
    expected.push(("bob", "group", Some(all("group", &below_red))));
    expected.push(("bob", "epa", None));
    // carol (a research institute outside the CERT's constituency).
    expected.push(("carol", "public", Some(all("public", &["clear", "green"]))));
    expected.push(("carol", "community", Some(all("community", &["clear", "green"]))));
    expected.push(("carol", "group", None));
    expected.push(("carol", "epa", None));
    for (user, key, want) in expected {
        let uri = format!("{ROOT}/collections/{}/objects/", ids[key]);
        let reply = taxii(&app, Cred::Token(user), "GET", &uri, None).await;
        match want {
            Some(want) => {
                assert_status(&reply, StatusCode::OK);
                let want: BTreeSet<String> = want.into_iter().collect();
                assert_eq!(names(&reply), want, "{user} in {key}");
                // The manifest and single-object reads agree with the listing.
                let manifest = taxii(
                    &app,
                    Cred::Token(user),
                    "GET",
                    &format!("{ROOT}/collections/{}/manifest/", ids[key]),
                    None,
                )
                .await;
                assert_eq!(
                    manifest.body["objects"].as_array().unwrap().len(),
                    want.len(),
                    "{user} manifest of {key}"
                );
                for (tlp, _) in TLP_IDS {
                    let name = format!("{key}-{tlp}");
                    let id = name_id(&name);
                    let one = taxii(&app, Cred::Token(user), "GET", &format!("{uri}{id}/"), None).await;
                    let versions =
                        taxii(&app, Cred::Token(user), "GET", &format!("{uri}{id}/versions/"), None).await;
                    if want.contains(&name) {
                        assert_status(&one, StatusCode::OK);
                        assert_eq!(versions.body["versions"], json!(["2026-01-02T00:00:00.000Z"]));
                    } else {
                        assert_status(&one, StatusCode::NOT_FOUND);
                        assert_status(&versions, StatusCode::NOT_FOUND);
                    }
                }
            }
            None => {
                assert_status(&reply, StatusCode::NOT_FOUND);
                let info =
                    taxii(&app, Cred::Token(user), "GET", &format!("{ROOT}/collections/{}/", ids[key]), None)
                        .await;
                assert_status(&info, StatusCode::NOT_FOUND);
            }
        }
    }
    // Collections listed per caller.
    let listed = |reply: &Reply| -> BTreeSet<String> {
        reply.body["collections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let carol = taxii(&app, Cred::Token("carol"), "GET", &format!("{ROOT}/collections/"), None).await;
    assert_eq!(listed(&carol), set(&["Community", "Public"]));
    let bob = taxii(&app, Cred::Token("bob"), "GET", &format!("{ROOT}/collections"), None).await;
    assert_eq!(listed(&bob), set(&["Community", "Group", "Public"]));
    // Anonymous callers see the public collection's TLP:CLEAR objects only.
    let anonymous = taxii(&app, Cred::Anonymous, "GET", &format!("{ROOT}/collections/"), None).await;
    assert_eq!(listed(&anonymous), set(&["Public"]));
    let public =
        taxii(&app, Cred::Anonymous, "GET", &format!("{ROOT}/collections/{}/objects/", ids["public"]), None)
            .await;
    assert_eq!(names(&public), set(&["public-clear"]));
    let hidden = taxii(
        &app,
        Cred::Anonymous,
        "GET",
        &format!("{ROOT}/collections/{}/objects/", ids["community"]),
        None,
    )
    .await;
    assert_status(&hidden, StatusCode::UNAUTHORIZED);
    assert!(hidden.headers.get(header::WWW_AUTHENTICATE).is_some());
    // An alias names a collection too.
    let by_alias =
        taxii(&app, Cred::Token("alice"), "GET", &format!("{ROOT}/collections/epa/objects"), None).await;
    assert_eq!(names(&by_alias).len(), 5);
}

#[tokio::test]
async fn anonymous_access_can_be_turned_off() {
    let mut config = config();
    config.taxii.anonymous = false;
    let app = test_app_with(config).await;
    let reply = taxii(&app, Cred::Anonymous, "GET", "/taxii2/", None).await;
    assert_status(&reply, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body["http_status"], "401");
    assert!(reply.body["title"].is_string() && reply.body["description"].is_string());
}

#[tokio::test]
async fn media_types_trailing_slashes_and_errors_follow_taxii() {
    let app = test_app().await;
    let ids = seed(&app).await;
    let collection = &ids["community"];
    for uri in ["/taxii2", "/taxii2/"] {
        let discovery = taxii(&app, Cred::Token("carol"), "GET", uri, None).await;
        assert_status(&discovery, StatusCode::OK);
        assert_eq!(discovery.body["api_roots"], json!(["/taxii2/neretva/"]));
        assert_eq!(discovery.body["default"], "/taxii2/neretva/");
    }
    let root = taxii(&app, Cred::Token("carol"), "GET", "/taxii2/neretva", None).await;
    assert_eq!(root.body["versions"], json!([TAXII]));
    assert!(root.body["max_content_length"].as_u64().unwrap() > 0);
    let unknown_root = taxii(&app, Cred::Token("carol"), "GET", "/taxii2/other/collections/", None).await;
    assert_status(&unknown_root, StatusCode::NOT_FOUND);
    assert_eq!(unknown_root.body["http_status"], "404");

    // 406 for an Accept this server cannot answer, with the TAXII error resource.
    let request = Request::get(format!("{ROOT}/collections/"))
        .header(header::ACCEPT, "application/json")
        .header(header::AUTHORIZATION, format!("Token {}", app.tokens["carol"]))
        .body(Body::empty())
        .unwrap();
    let refused = app.send(request).await;
    assert_status(&refused, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(refused.headers[header::CONTENT_TYPE], TAXII);
    assert_eq!(refused.body["http_status"], "406");

    // 415 for a POST that is not a TAXII envelope.
    let request = Request::post(format!("{ROOT}/collections/{collection}/objects/"))
        .header(header::ACCEPT, TAXII)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Token {}", app.tokens["carol"]))
        .body(Body::from(r#"{"objects": []}"#))
        .unwrap();
    let refused = app.send(request).await;
    assert_status(&refused, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(refused.headers[header::CONTENT_TYPE], TAXII);

    // 413 above max_content_length.
    let padding = "x".repeat(17 * 1024 * 1024);
    let big = json!({"objects": [{"type": "note", "content": padding}]});
    let too_large = taxii(
        &app,
        Cred::Token("carol"),
        "POST",
        &format!("{ROOT}/collections/{collection}/objects/"),
        Some(big),
    )
    .await;
    assert_status(&too_large, StatusCode::PAYLOAD_TOO_LARGE);

    // A bad filter, a bad limit and an unknown object.
    let uri = format!("{ROOT}/collections/{collection}/objects/");
    for query in ["?match%5Bcolor%5D=red", "?limit=0", "?added_after=yesterday", "?match%5Bversion%5D=soon"] {
        let reply = taxii(&app, Cred::Token("carol"), "GET", &format!("{uri}{query}"), None).await;
        assert_status(&reply, StatusCode::BAD_REQUEST);
        assert_eq!(reply.body["http_status"], "400");
    }
    let missing = taxii(
        &app,
        Cred::Token("carol"),
        "GET",
        &format!("{uri}indicator--00000000-0000-4000-8000-000000000000/"),
        None,
    )
    .await;
    assert_status(&missing, StatusCode::NOT_FOUND);
    let wrong = taxii(&app, Cred::Basic("carol", "wrong"), "GET", "/taxii2/", None).await;
    assert_status(&wrong, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn paging_walks_everything_once_and_refuses_changed_filters() {
    let app = test_app().await;
    let id = collection(&app, json!({"title": "Many", "sharing": "community", "writers": "readers"})).await;
    let uri = format!("{ROOT}/collections/{id}/objects/");
    let objects: Vec<Value> = (0..230)
        .map(|n| {
            indicator(
                &format!("many-{n:03}"),
                if n % 2 == 0 { "green" } else { "clear" },
                "2026-01-02T00:00:00.000Z",
            )
        })
        .collect();
    let posted = taxii(&app, Cred::Token("analyst"), "POST", &uri, Some(json!({"objects": objects}))).await;
    assert_eq!(posted.body["success_count"], 230);

    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    let mut last_added = String::new();
    loop {
        let query = match &next {
            Some(token) => format!("?limit=100&match%5Btype%5D=indicator&next={token}"),
            None => "?limit=100&match%5Btype%5D=indicator".to_owned(),
        };
        let page = taxii(&app, Cred::Basic("carol", PASSWORD), "GET", &format!("{uri}{query}"), None).await;
        assert_status(&page, StatusCode::OK);
        pages += 1;
        let first = page.headers["x-taxii-date-added-first"].to_str().unwrap().to_owned();
        assert!(first > last_added, "pages move forward");
        last_added = page.headers["x-taxii-date-added-last"].to_str().unwrap().to_owned();
        seen.extend(names(&page));
        if page.body["more"] == json!(true) {
            next = Some(page.body["next"].as_str().unwrap().to_owned());
        } else {
            assert!(page.body.get("next").is_none());
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 230);
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 230);

    // The first page's token with other filters, altered, or on another collection: 400.
    let first = taxii(&app, Cred::Token("carol"), "GET", &format!("{uri}?limit=10"), None).await;
    let token = first.body["next"].as_str().unwrap().to_owned();
    let changed = taxii(
        &app,
        Cred::Token("carol"),
        "GET",
        &format!("{uri}?limit=10&match%5Btype%5D=malware&next={token}"),
        None,
    )
    .await;
    assert_status(&changed, StatusCode::BAD_REQUEST);
    let mut altered = token.clone().into_bytes();
    altered[5] = if altered[5] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    let tampered =
        taxii(&app, Cred::Token("carol"), "GET", &format!("{uri}?limit=10&next={altered}"), None).await;
    assert_status(&tampered, StatusCode::BAD_REQUEST);
    // The limit may change between pages (taxii2-client lowers it).
    let lower = taxii(&app, Cred::Token("carol"), "GET", &format!("{uri}?limit=5&next={token}"), None).await;
    assert_status(&lower, StatusCode::OK);
    assert_eq!(lower.body["objects"].as_array().unwrap().len(), 5);
    // A limit above the maximum is lowered to it.
    let mut config = config();
    config.taxii.max_page_size = 50;
    let capped_app = test_app_with(config).await;
    let capped_id =
        collection(&capped_app, json!({"title": "Capped", "sharing": "community", "writers": "readers"}))
            .await;
    let capped_uri = format!("{ROOT}/collections/{capped_id}/objects/");
    let objects: Vec<Value> =
        (0..60).map(|n| indicator(&format!("c-{n}"), "green", "2026-01-02T00:00:00.000Z")).collect();
    taxii(&capped_app, Cred::Token("analyst"), "POST", &capped_uri, Some(json!({"objects": objects}))).await;
    let capped =
        taxii(&capped_app, Cred::Token("carol"), "GET", &format!("{capped_uri}?limit=1000"), None).await;
    assert_eq!(capped.body["objects"].as_array().unwrap().len(), 50);
    assert_eq!(capped.body["more"], true);

    // Reading objects is recorded as an export.
    let audit = app.get("admin", "/api/v1/audit?action=taxii.objects.export&limit=1000").await;
    assert!(audit.body["items"].as_array().unwrap().len() >= 3, "{}", audit.text);
}

#[tokio::test]
async fn writes_versions_statuses_and_deletes() {
    let app = test_app().await;
    let ids = seed(&app).await;
    let group = &ids["group"];
    let uri = format!("{ROOT}/collections/{group}/objects/");
    // bob reads the group collection but may not write to it (writers: owner).
    let info = taxii(&app, Cred::Token("bob"), "GET", &format!("{ROOT}/collections/{group}/"), None).await;
    assert_eq!((info.body["can_read"].clone(), info.body["can_write"].clone()), (json!(true), json!(false)));
    let refused = taxii(&app, Cred::Token("bob"), "POST", &uri, Some(json!({"objects": []}))).await;
    assert_status(&refused, StatusCode::FORBIDDEN);
    // The auditor may read but never write.
    let auditor = taxii(&app, Cred::Token("auditor"), "POST", &uri, Some(json!({"objects": []}))).await;
    assert_status(&auditor, StatusCode::FORBIDDEN);

    // Versions, a duplicate and a bad object in one envelope.
    let v1 = indicator("versioned", "green", "2026-02-01T00:00:00.000Z");
    let v2 = indicator("versioned", "green", "2026-03-01T00:00:00.000Z");
    let mut bad = indicator("broken", "green", "2026-02-01T00:00:00.000Z");
    bad["pattern"] = json!("[domain-name:value = ");
    let envelope = json!({"objects": [v1.clone(), v2.clone(), v1.clone(), bad, {"type": "indicator"}]});
    let status = taxii(&app, Cred::Token("analyst"), "POST", &uri, Some(envelope)).await;
    assert_status(&status, StatusCode::ACCEPTED);
    assert_eq!(status.body["status"], "complete");
    assert_eq!(
        (status.body["total_count"].clone(), status.body["success_count"].clone()),
        (json!(5), json!(2))
    );
    assert_eq!(status.body["failure_count"], 3);
    let failures = status.body["failures"].as_array().unwrap();
    let messages: Vec<&str> = failures.iter().map(|f| f["message"].as_str().unwrap()).collect();
    assert!(messages.iter().any(|m| m.contains("objects[3].pattern")), "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("objects[4].id")), "{messages:?}");
    assert!(messages.contains(&"already present in the collection"), "{messages:?}");
    let status_id = status.body["id"].as_str().unwrap();
    let again =
        taxii(&app, Cred::Token("analyst"), "GET", &format!("{ROOT}/status/{status_id}/"), None).await;
    assert_eq!(again.body["failure_count"], 3);
    let other = taxii(&app, Cred::Token("bob"), "GET", &format!("{ROOT}/status/{status_id}"), None).await;
    assert_status(&other, StatusCode::NOT_FOUND);

    let id = v1["id"].as_str().unwrap();
    let versions = taxii(&app, Cred::Token("bob"), "GET", &format!("{uri}{id}/versions/"), None).await;
    assert_eq!(versions.body["versions"], json!(["2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z"]));
    let last = taxii(&app, Cred::Token("bob"), "GET", &format!("{uri}{id}/"), None).await;
    assert_eq!(last.body["objects"][0]["modified"], "2026-03-01T00:00:00.000Z");
    let first =
        taxii(&app, Cred::Token("bob"), "GET", &format!("{uri}{id}/?match%5Bversion%5D=first"), None).await;
    assert_eq!(first.body["objects"][0]["modified"], "2026-02-01T00:00:00.000Z");
    let all = taxii(
        &app,
        Cred::Token("bob"),
        "GET",
        &format!("{uri}?match%5Bid%5D={id}&match%5Bversion%5D=all"),
        None,
    )
    .await;
    assert_eq!(all.body["objects"].as_array().unwrap().len(), 2);
    let exact = taxii(
        &app,
        Cred::Token("bob"),
        "GET",
        &format!("{uri}?match%5Bversion%5D=2026-02-01T00:00:00Z"),
        None,
    )
    .await;
    assert_eq!(names(&exact), set(&["versioned"]));
    let spec =
        taxii(&app, Cred::Token("bob"), "GET", &format!("{uri}?match%5Bspec_version%5D=2.0"), None).await;
    assert!(names(&spec).is_empty());

    // bob may not delete; the analyst deletes the newest version, then the rest.
    let denied = taxii(&app, Cred::Token("bob"), "DELETE", &format!("{uri}{id}/"), None).await;
    assert_status(&denied, StatusCode::FORBIDDEN);
    let deleted = taxii(
        &app,
        Cred::Token("analyst"),
        "DELETE",
        &format!("{uri}{id}/?match%5Bversion%5D=2026-03-01T00:00:00.000Z"),
        None,
    )
    .await;
    assert_status(&deleted, StatusCode::OK);
    let last = taxii(&app, Cred::Token("bob"), "GET", &format!("{uri}{id}/"), None).await;
    assert_eq!(last.body["objects"][0]["modified"], "2026-02-01T00:00:00.000Z");
    let deleted = taxii(&app, Cred::Token("analyst"), "DELETE", &format!("{uri}{id}"), None).await;
    assert_status(&deleted, StatusCode::OK);
    let gone = taxii(&app, Cred::Token("bob"), "GET", &format!("{uri}{id}/"), None).await;
    assert_status(&gone, StatusCode::NOT_FOUND);
    let again = taxii(&app, Cred::Token("analyst"), "DELETE", &format!("{uri}{id}/"), None).await;
    assert_status(&again, StatusCode::NOT_FOUND);

    let actions = app.get("admin", "/api/v1/audit?limit=1000").await;
    let actions: BTreeSet<String> = actions.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["action"].as_str().unwrap().to_owned())
        .filter(|action| action.starts_with("taxii."))
        .collect();
    assert_eq!(
        actions,
        set(&[
            "taxii.collection.create",
            "taxii.objects.add",
            "taxii.objects.delete",
            "taxii.objects.export"
        ])
    );
}

#[tokio::test]
async fn basic_authentication_keeps_the_lockout_rules() {
    let app = test_app().await;
    let ok = taxii(&app, Cred::Basic("carol", PASSWORD), "GET", "/taxii2/", None).await;
    assert_status(&ok, StatusCode::OK);
    // The remembered password does not outlive a lock-out: five failures lock the account.
    for _ in 0..5 {
        let wrong = taxii(&app, Cred::Basic("carol", "not-the-password"), "GET", "/taxii2/", None).await;
        assert_status(&wrong, StatusCode::UNAUTHORIZED);
    }
    let locked = taxii(&app, Cred::Basic("carol", PASSWORD), "GET", "/taxii2/", None).await;
    assert_status(&locked, StatusCode::FORBIDDEN);
    assert!(locked.body["description"].as_str().unwrap().contains("locked"), "{}", locked.text);
    // A disabled account is refused at once, remembered password or not.
    let bob = taxii(&app, Cred::Basic("bob", PASSWORD), "GET", "/taxii2/", None).await;
    assert_status(&bob, StatusCode::OK);
    let users = app.get("admin", "/api/v1/users").await;
    let bob_id =
        users.body["items"].as_array().unwrap().iter().find(|u| u["username"] == "bob").unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let disabled = app.call(Some("admin"), "POST", &format!("/api/v1/users/{bob_id}/disable"), None).await;
    assert_status(&disabled, StatusCode::OK);
    let refused = taxii(&app, Cred::Basic("bob", PASSWORD), "GET", "/taxii2/", None).await;
    assert_status(&refused, StatusCode::FORBIDDEN);
    // Bearer works as Token does.
    let request = Request::get("/taxii2/")
        .header(header::AUTHORIZATION, format!("Bearer {}", app.tokens["alice"]))
        .body(Body::empty())
        .unwrap();
    assert_status(&app.send(request).await, StatusCode::OK);
}

#[tokio::test]
async fn administrators_manage_collections() {
    let app = test_app().await;
    let refused = app
        .call(
            Some("analyst"),
            "POST",
            "/api/v1/taxii/collections",
            Some(json!({"title": "X", "sharing": "public"})),
        )
        .await;
    assert_status(&refused, StatusCode::FORBIDDEN);
    let invalid = app
        .call(
            Some("admin"),
            "POST",
            "/api/v1/taxii/collections",
            Some(json!({"title": "", "sharing": "groups", "sharing_orgs": ["NOPE"], "default_tlp": "TLP:BLUE"})),
        )
        .await;
    assert_status(&invalid, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: BTreeSet<String> = invalid.body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, set(&["title", "sharing_orgs[0]", "sharing_orgs", "default_tlp"]), "{}", invalid.text);
    let id = collection(
        &app,
        json!({"title": "Shared", "sharing": "groups", "sharing_orgs": ["EP-A"], "alias": "shared"}),
    )
    .await;
    let shown = app.get("admin", "/api/v1/taxii/collections/shared").await;
    assert_eq!(shown.body["sharing_orgs"], json!(["EP-A"]));
    assert_eq!(shown.body["url"], format!("/taxii2/neretva/collections/{id}/"));
    // bob's organisation is not in the group: the collection is not there for him.
    assert_status(&app.get("bob", &format!("/api/v1/taxii/collections/{id}")).await, StatusCode::NOT_FOUND);
    assert_eq!(app.get("alice", "/api/v1/taxii/collections").await.body.as_array().unwrap().len(), 1);
    let updated = app
        .call(
            Some("admin"),
            "PUT",
            &format!("/api/v1/taxii/collections/{id}"),
            Some(json!({"title": "Everyone", "sharing": "community"})),
        )
        .await;
    assert_status(&updated, StatusCode::OK);
    assert_eq!(app.get("bob", "/api/v1/taxii/collections").await.body.as_array().unwrap().len(), 1);
    let removed = app.call(Some("admin"), "DELETE", &format!("/api/v1/taxii/collections/{id}"), None).await;
    assert_status(&removed, StatusCode::NO_CONTENT);
    assert_status(&app.get("admin", &format!("/api/v1/taxii/collections/{id}")).await, StatusCode::NOT_FOUND);
    let doc = app.get("admin", "/api/v1/openapi.json").await;
    for path in ["/api/v1/taxii/collections", "/api/v1/taxii/collections/{id}"] {
        assert!(doc.body["paths"].get(path).is_some(), "{path} documented");
    }
}
