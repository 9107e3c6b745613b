//! The intel API in process: who sees which event, attribute, correlation link and sharing
//! group member, who may change events, and that writes are audited and routes documented.

use axum::http::StatusCode;
use neretva_store::Store;
use serde_json::{Value, json};

use crate::support::{TestApp, assert_status, test_app};

fn misp_event(
    uuid: &str,
    info: &str,
    distribution: u8,
    group: Option<&str>,
    tags: &[&str],
    ip: &str,
) -> Value {
    let tags: Vec<Value> = tags.iter().map(|name| json!({ "name": name })).collect();
    let mut event = json!({
        "uuid": uuid,
        "info": info,
        "date": "2026-11-20",
        // The creator named in the document; the owner is always the caller's organisation.
        "Orgc": { "uuid": "c0000000-0000-4000-8000-000000000001", "name": "Creator" },
        "distribution": distribution.to_string(),
        "Tag": tags,
        "Attribute": [
            { "uuid": uuid.replacen("10000000", "20000000", 1), "type": "ip-dst", "category": "Network activity", "value": ip, "to_ids": true },
        ],
    });
    if let Some(group) = group {
        event["sharing_group_id"] = json!(group);
        event["SharingGroup"] = json!({ "uuid": group });
    }
    json!({ "Event": event })
}

const ORG_ONLY: &str = "10000000-0000-4000-8000-000000000001";
const GROUPED: &str = "10000000-0000-4000-8000-000000000002";
const COMMUNITY: &str = "10000000-0000-4000-8000-000000000003";

async fn visible(app: &TestApp, user: &str, uuid: &str) -> bool {
    let reply = app.get(user, &format!("/api/v1/intel/events/{uuid}")).await;
    match reply.status {
        StatusCode::OK => true,
        StatusCode::NOT_FOUND => false,
        other => panic!("{user} GET {uuid}: {other} {}", reply.text),
    }
}

async fn listed(app: &TestApp, user: &str) -> Vec<String> {
    let reply = app.get(user, "/api/v1/intel/events").await;
    assert_status(&reply, StatusCode::OK);
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["uuid"].as_str().unwrap().to_owned())
        .collect()
}

async fn found_by_value(app: &TestApp, user: &str, ip: &str) -> Vec<String> {
    let reply = app.get(user, &format!("/api/v1/intel/attributes?value={ip}&type=ip-dst")).await;
    assert_status(&reply, StatusCode::OK);
    reply.body.as_array().unwrap().iter().map(|item| item["event"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn intel_leak_matrix() {
    let app = test_app().await;
    let ep_b = app.store.find_org("EP-B").await.unwrap().unwrap().id;
    let ep_a = app.store.find_org("EP-A").await.unwrap().unwrap().id;
    let res = app.store.find_org("RES").await.unwrap().unwrap().id;

    // Alice (EP-A) keeps one event to her organisation.
    let created = app
        .call(
            Some("alice"),
            "POST",
            "/api/v1/intel/events",
            Some(misp_event(ORG_ONLY, "Our own", 0, None, &["tlp:green"], "45.9.148.10")),
        )
        .await;
    assert_status(&created, StatusCode::CREATED);
    assert_eq!(created.body["owner_org"], json!(ep_a));

    // A confidential sharing group of EP-A with EP-B; an event restricted to it.
    let group = app
        .call(
            Some("alice"),
            "POST",
            "/api/v1/intel/sharing-groups",
            Some(json!({ "name": "Energy pair", "members": [ep_b], "confidential": true })),
        )
        .await;
    assert_status(&group, StatusCode::CREATED);
    let group_id = group.body["uuid"].as_str().unwrap().to_owned();
    let grouped = app
        .call(
            Some("alice"),
            "POST",
            "/api/v1/intel/events",
            Some(misp_event(GROUPED, "For the pair", 4, Some(&group_id), &["tlp:amber"], "45.9.148.20")),
        )
        .await;
    assert_status(&grouped, StatusCode::CREATED);

    // Bob (EP-B) shares with the community the address Alice keeps to herself.
    let community = app
        .call(
            Some("bob"),
            "POST",
            "/api/v1/intel/events",
            Some(misp_event(COMMUNITY, "Seen here too", 1, None, &["tlp:green"], "45.9.148.10")),
        )
        .await;
    assert_status(&community, StatusCode::CREATED);

    for (user, org_only, in_group, shared) in [
        ("alice", true, true, true),
        ("bob", false, true, true),
        ("carol", false, false, true),
        ("analyst", true, true, true),
    ] {
        assert_eq!(visible(&app, user, ORG_ONLY).await, org_only, "{user} and the organisation-only event");
        assert_eq!(visible(&app, user, GROUPED).await, in_group, "{user} and the sharing-group event");
        assert_eq!(visible(&app, user, COMMUNITY).await, shared, "{user} and the community event");
        let list = listed(&app, user).await;
        assert_eq!(list.contains(&ORG_ONLY.to_owned()), org_only, "{user} lists {list:?}");
        assert_eq!(list.contains(&GROUPED.to_owned()), in_group, "{user} lists {list:?}");
        let found = found_by_value(&app, user, "45.9.148.10").await;
        assert_eq!(found.contains(&ORG_ONLY.to_owned()), org_only, "{user} finds {found:?}");
        let found = found_by_value(&app, user, "45.9.148.20").await;
        assert_eq!(found.contains(&GROUPED.to_owned()), in_group, "{user} finds {found:?}");
    }

    // The link between the community event and the organisation-only one shows only to those
    // who may see both.
    let links = |reply: &crate::support::Reply| -> Vec<String> {
        reply.body["correlations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|link| link["other_event"].as_str().unwrap().to_owned())
            .collect()
    };
    let as_bob = app.get("bob", &format!("/api/v1/intel/events/{COMMUNITY}")).await;
    assert!(links(&as_bob).is_empty(), "{}", as_bob.text);
    let as_alice = app.get("alice", &format!("/api/v1/intel/events/{COMMUNITY}")).await;
    assert_eq!(links(&as_alice), [ORG_ONLY]);

    // Confidential membership: Bob sees the group and himself only; Carol sees nothing; the
    // owner sees every member.
    let groups = app.get("bob", "/api/v1/intel/sharing-groups").await;
    assert_eq!(groups.body[0]["members"], json!([ep_b]));
    assert_eq!(groups.body[0]["owner_org"], Value::Null);
    assert_eq!(groups.body[0]["complete"], json!(false));
    assert!(!groups.text.contains(&ep_a.to_string()), "{}", groups.text);
    assert_eq!(app.get("carol", "/api/v1/intel/sharing-groups").await.body, json!([]));
    let owner_view = app.get("alice", "/api/v1/intel/sharing-groups").await;
    assert_eq!(owner_view.body[0]["members"], json!([ep_a, ep_b]));
    assert!(!app.get("carol", "/api/v1/intel/sharing-groups").await.text.contains(&res.to_string()));

    // Carol may not restrict an event to a group she is not in.
    let foreign = misp_event(
        "10000000-0000-4000-8000-000000000007",
        "Foreign group",
        4,
        Some(&group_id),
        &[],
        "45.9.148.22",
    );
    let refused = app.call(Some("carol"), "POST", "/api/v1/intel/events", Some(foreign)).await;
    assert_status(&refused, StatusCode::UNPROCESSABLE_ENTITY);

    // Bob may see the grouped event but not change it; Carol may not even find it.
    let edit = misp_event(GROUPED, "Changed", 4, Some(&group_id), &["tlp:amber"], "45.9.148.21");
    let refused =
        app.call(Some("bob"), "PUT", &format!("/api/v1/intel/events/{GROUPED}"), Some(edit.clone())).await;
    assert_status(&refused, StatusCode::FORBIDDEN);
    let hidden = app.call(Some("carol"), "DELETE", &format!("/api/v1/intel/events/{GROUPED}"), None).await;
    assert_status(&hidden, StatusCode::NOT_FOUND);
    let changed =
        app.call(Some("alice"), "PUT", &format!("/api/v1/intel/events/{GROUPED}"), Some(edit)).await;
    assert_status(&changed, StatusCode::OK);
    assert_eq!(changed.body["misp"]["Event"]["info"], json!("Changed"));

    // A sighting by Bob on the community event, then its export.
    let attribute = community.body["misp"]["Event"]["Attribute"][0]["uuid"].as_str().unwrap().to_owned();
    let sighted = app
        .call(
            Some("bob"),
            "POST",
            &format!("/api/v1/intel/events/{COMMUNITY}/sightings"),
            Some(json!({ "attribute": attribute, "source": "ids-1" })),
        )
        .await;
    assert_status(&sighted, StatusCode::CREATED);
    let exported = app.get("carol", &format!("/api/v1/intel/events/{COMMUNITY}/export?format=misp")).await;
    assert_status(&exported, StatusCode::OK);
    assert_eq!(exported.body["Event"]["Attribute"][0]["Sighting"].as_array().map(Vec::len), Some(1));
    let stix = app.get("carol", &format!("/api/v1/intel/events/{COMMUNITY}/export?format=stix")).await;
    assert_status(&stix, StatusCode::OK);
    assert_eq!(serde_json::from_str::<Value>(&stix.text).unwrap()["type"], json!("bundle"));
    assert_status(
        &app.get("carol", &format!("/api/v1/intel/events/{ORG_ONLY}/export")).await,
        StatusCode::NOT_FOUND,
    );

    // Bad MISP JSON is refused with its JSON path; an auditor may not write.
    let bad = app
        .call(Some("alice"), "POST", "/api/v1/intel/events", Some(json!({ "Event": { "uuid": "10000000-0000-4000-8000-000000000008", "info": "x", "Attribute": [{ "uuid": "30000000-0000-4000-8000-000000000001", "type": "ip-dst", "value": "not an address" }] } })))
        .await;
    assert_status(&bad, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text.contains("Attribute[0]"), "{}", bad.text);
    let auditor = app
        .call(
            Some("auditor"),
            "POST",
            "/api/v1/intel/events",
            Some(misp_event("10000000-0000-4000-8000-000000000009", "No", 1, None, &[], "45.9.148.30")),
        )
        .await;
    assert_status(&auditor, StatusCode::FORBIDDEN);

    let deleted = app.call(Some("alice"), "DELETE", &format!("/api/v1/intel/events/{ORG_ONLY}"), None).await;
    assert_status(&deleted, StatusCode::NO_CONTENT);
    let audit = app.get("auditor", "/api/v1/audit?limit=200").await;
    for action in [
        "intel.event.export",
        "intel.event.create",
        "intel.event.update",
        "intel.sighting.add",
        "intel.event.delete",
        "intel.sharing_group.put",
    ] {
        assert!(audit.text.contains(action), "{action} audited");
    }

    // An import stores the good events and reports the rest with their JSON paths; an event of
    // another organisation is not replaced.
    let document = json!([
        misp_event("10000000-0000-4000-8000-000000000011", "Imported", 1, None, &["tlp:green"], "45.9.148.40"),
        { "Event": { "uuid": "10000000-0000-4000-8000-000000000012", "info": "Half bad", "Attribute": [
            { "uuid": "30000000-0000-4000-8000-000000000012", "type": "ip-dst", "value": "45.9.148.40" },
            { "uuid": "30000000-0000-4000-8000-000000000013", "type": "ip-dst", "value": "nonsense" },
        ] } },
        misp_event(COMMUNITY, "Taken over", 1, None, &[], "45.9.148.41"),
    ]);
    let imported = app.call(Some("carol"), "POST", "/api/v1/intel/import", Some(document)).await;
    assert_status(&imported, StatusCode::OK);
    let stored: Vec<&str> =
        imported.body["stored"].as_array().unwrap().iter().map(|e| e["uuid"].as_str().unwrap()).collect();
    assert_eq!(stored, ["10000000-0000-4000-8000-000000000011", "10000000-0000-4000-8000-000000000012"]);
    assert_eq!(imported.body["stored"][1]["correlations"], json!(1));
    let paths: Vec<&str> =
        imported.body["problems"].as_array().unwrap().iter().map(|p| p["path"].as_str().unwrap()).collect();
    assert_eq!(paths.len(), 2, "{}", imported.text);
    assert!(paths[0].starts_with("[1].Event.Attribute[1]"), "{paths:?}");
    assert_eq!(paths[1], format!("event {COMMUNITY}"));
    let kept = app.get("bob", &format!("/api/v1/intel/events/{COMMUNITY}")).await;
    assert_eq!(kept.body["misp"]["Event"]["info"], json!("Seen here too"));
    let bundle = app
        .get("carol", "/api/v1/intel/events/10000000-0000-4000-8000-000000000011/export?format=stix")
        .await;
    let restored = app
        .call(Some("carol"), "DELETE", "/api/v1/intel/events/10000000-0000-4000-8000-000000000011", None)
        .await;
    assert_status(&restored, StatusCode::NO_CONTENT);
    let from_stix = app
        .call(
            Some("carol"),
            "POST",
            "/api/v1/intel/import",
            Some(serde_json::from_str(&bundle.text).unwrap()),
        )
        .await;
    assert_status(&from_stix, StatusCode::OK);
    assert_eq!(from_stix.body["stored"].as_array().unwrap().len(), 1, "{}\n{}", from_stix.text, bundle.text);
    assert_eq!(from_stix.body["stored"][0]["attributes"], json!(1), "{}", from_stix.text);

    let doc = app.get("admin", "/api/v1/openapi.json").await;
    for path in [
        "/api/v1/intel/events",
        "/api/v1/intel/events/{id}",
        "/api/v1/intel/events/{id}/sightings",
        "/api/v1/intel/events/{id}/export",
        "/api/v1/intel/attributes",
        "/api/v1/intel/sharing-groups",
        "/api/v1/intel/import",
    ] {
        assert!(doc.body["paths"].get(path).is_some(), "{path} documented");
    }
}

fn attribute_values(reply: &crate::support::Reply) -> Vec<String> {
    let mut values: Vec<String> = reply.body["misp"]["Event"]["Attribute"]
        .as_array()
        .unwrap()
        .iter()
        .map(|attribute| attribute["value"].as_str().unwrap().to_owned())
        .collect();
    values.sort();
    values
}

#[tokio::test]
async fn intel_patch_and_sharing_group_changes() {
    let app = test_app().await;
    let ep_a = app.store.find_org("EP-A").await.unwrap().unwrap().id;
    let ep_b = app.store.find_org("EP-B").await.unwrap().unwrap().id;
    let res = app.store.find_org("RES").await.unwrap().unwrap().id;
    const EVENT: &str = "10000000-0000-4000-8000-000000000101";
    const FIRST: &str = "20000000-0000-4000-8000-000000000101";
    const BOBS: &str = "10000000-0000-4000-8000-000000000102";
    const HIDDEN: &str = "10000000-0000-4000-8000-000000000103";

    // Bob shares an address with the community; Alice's event does not meet it yet.
    let bobs = misp_event(BOBS, "Bob's scanner", 1, None, &["tlp:green"], "45.9.148.51");
    assert_status(
        &app.call(Some("bob"), "POST", "/api/v1/intel/events", Some(bobs)).await,
        StatusCode::CREATED,
    );
    let mut event = misp_event(EVENT, "Alice's", 1, None, &["tlp:green"], "45.9.148.50");
    event["Event"]["Attribute"].as_array_mut().unwrap().push(json!({
        "uuid": "20000000-0000-4000-8000-000000000201", "type": "domain", "value": "old.example.net"
    }));
    let created = app.call(Some("alice"), "POST", "/api/v1/intel/events", Some(event)).await;
    assert_status(&created, StatusCode::CREATED);
    assert_eq!(created.body["correlations"], json!([]));
    let hidden = misp_event(HIDDEN, "Alice's own", 0, None, &["tlp:green"], "45.9.148.52");
    assert_status(
        &app.call(Some("alice"), "POST", "/api/v1/intel/events", Some(hidden)).await,
        StatusCode::CREATED,
    );

    // One patch: title, tags, publication, threat level, analysis, an attribute changed, one
    // removed and one added. The changed address now meets Bob's.
    let uri = format!("/api/v1/intel/events/{EVENT}");
    let patch = json!({
        "updated_at": created.body["updated_at"],
        "info": "Alice's, revised",
        "tags": ["tlp:amber", "PAP:GREEN"],
        "published": true,
        "threat_level": 1,
        "analysis": 2,
        "attributes": {
            "change": [{ "uuid": FIRST, "value": "45.9.148.51", "comment": "moved" }],
            "remove": ["20000000-0000-4000-8000-000000000201"],
            "add": [{ "type": "hostname", "value": "WWW.New.Example.NET", "to_ids": true }],
        },
    });
    let patched = app.call(Some("alice"), "PATCH", &uri, Some(patch)).await;
    assert_status(&patched, StatusCode::OK);
    let misp = &patched.body["misp"]["Event"];
    assert_eq!(misp["info"], json!("Alice's, revised"));
    assert_eq!(misp["published"], json!(true));
    assert_eq!(misp["threat_level_id"], json!("1"));
    assert_eq!(misp["analysis"], json!("2"));
    assert_eq!(patched.body["tlp"], json!("amber"));
    assert_eq!(attribute_values(&patched), ["45.9.148.51", "www.new.example.net"]);
    assert_eq!(misp["Attribute"][0]["comment"], json!("moved"));
    assert_eq!(patched.body["correlations"][0]["other_event"], json!(BOBS), "{}", patched.text);
    // Alice's event is TLP:AMBER now: Bob may not see it, nor the link to it from his event.
    let as_bob = app.get("bob", &format!("/api/v1/intel/events/{BOBS}")).await;
    assert_eq!(as_bob.body["correlations"], json!([]), "{}", as_bob.text);
    let as_analyst = app.get("analyst", &format!("/api/v1/intel/events/{BOBS}")).await;
    assert_eq!(as_analyst.body["correlations"][0]["other_event"], json!(EVENT), "{}", as_analyst.text);
    // With the other event's title as last written.
    assert_eq!(as_analyst.body["correlations"][0]["other_event_info"], json!("Alice's, revised"));

    // The version read is the version written: an old `updated_at` is refused.
    let stale = app
        .call(
            Some("alice"),
            "PATCH",
            &uri,
            Some(json!({ "updated_at": created.body["updated_at"], "info": "x" })),
        )
        .await;
    assert_status(&stale, StatusCode::CONFLICT);
    let current = app
        .call(
            Some("alice"),
            "PATCH",
            &uri,
            Some(json!({ "updated_at": patched.body["updated_at"], "analysis": 1 })),
        )
        .await;
    assert_status(&current, StatusCode::OK);
    assert_eq!(current.body["misp"]["Event"]["info"], json!("Alice's, revised"));

    // Problems name the patch's own entries.
    let bad = app
        .call(
            Some("alice"),
            "PATCH",
            &uri,
            Some(json!({ "attributes": {
                "add": [{ "type": "ip-dst", "value": "not an address" }],
            } })),
        )
        .await;
    assert_status(&bad, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text.contains("attributes.add[0]"), "{}", bad.text);
    let unknown = app
        .call(
            Some("alice"),
            "PATCH",
            &uri,
            Some(json!({ "attributes": { "change": [{ "uuid": "20000000-0000-4000-8000-000000000999", "value": "x" }] } })),
        )
        .await;
    assert_status(&unknown, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.text.contains("attributes.change[0].uuid"), "{}", unknown.text);
    let level = app.call(Some("alice"), "PATCH", &uri, Some(json!({ "distribution": 9 }))).await;
    assert_status(&level, StatusCode::UNPROCESSABLE_ENTITY);

    // Who may patch: Bob sees the event but may not change it; Carol may not even find
    // Alice's own event; the operator's analyst may.
    assert_eq!(app.get("bob", &uri).await.status, StatusCode::NOT_FOUND);
    let refused = app.call(Some("bob"), "PATCH", &uri, Some(json!({ "info": "Bob's now" }))).await;
    assert_status(&refused, StatusCode::NOT_FOUND);
    let green = app.call(Some("alice"), "PATCH", &uri, Some(json!({ "tags": ["tlp:green"] }))).await;
    assert_status(&green, StatusCode::OK);
    assert_eq!(green.body["tlp"], json!("green"));
    let refused = app.call(Some("bob"), "PATCH", &uri, Some(json!({ "info": "Bob's now" }))).await;
    assert_status(&refused, StatusCode::FORBIDDEN);
    let hidden_uri = format!("/api/v1/intel/events/{HIDDEN}");
    let refused = app.call(Some("carol"), "PATCH", &hidden_uri, Some(json!({ "info": "mine" }))).await;
    assert_status(&refused, StatusCode::NOT_FOUND);
    let refused = app.call(Some("auditor"), "PATCH", &uri, Some(json!({ "info": "audited" }))).await;
    assert_status(&refused, StatusCode::FORBIDDEN);
    let staff = app.call(Some("analyst"), "PATCH", &hidden_uri, Some(json!({ "info": "Reviewed" }))).await;
    assert_status(&staff, StatusCode::OK);

    // A confidential group of Alice's with Bob; an event restricted to it.
    let group = app
        .call(
            Some("alice"),
            "POST",
            "/api/v1/intel/sharing-groups",
            Some(json!({ "name": "Pair", "members": [ep_b], "confidential": true })),
        )
        .await;
    assert_status(&group, StatusCode::CREATED);
    let group_id = group.body["uuid"].as_str().unwrap().to_owned();
    let group_uri = format!("/api/v1/intel/sharing-groups/{group_id}");
    let restricted = app
        .call(Some("alice"), "PATCH", &uri, Some(json!({ "distribution": 4, "sharing_group": group_id })))
        .await;
    assert_status(&restricted, StatusCode::OK);
    assert_eq!(restricted.body["misp"]["Event"]["distribution"], json!("4"));
    assert_eq!(app.get("carol", &uri).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("bob", &uri).await.status, StatusCode::OK);

    // Bob, a member, may not change the group and learns nothing of its members by trying;
    // Carol, not a member, may not learn it exists.
    for (user, status) in [("bob", StatusCode::FORBIDDEN), ("carol", StatusCode::NOT_FOUND)] {
        for (method, body) in [
            ("PATCH", Some(json!({ "add_members": [res] }))),
            ("PUT", Some(json!({ "name": "Mine", "members": [res] }))),
            ("DELETE", None),
        ] {
            let reply = app.call(Some(user), method, &group_uri, body).await;
            assert_status(&reply, status);
            assert!(!reply.text.contains(&ep_a.to_string()), "{user} {method}: {}", reply.text);
            assert!(
                !reply.text.contains(&ep_b.to_string()) || user == "bob",
                "{user} {method}: {}",
                reply.text
            );
        }
    }
    let missing = app
        .call(
            Some("alice"),
            "DELETE",
            "/api/v1/intel/sharing-groups/30000000-0000-4000-8000-000000000999",
            None,
        )
        .await;
    assert_status(&missing, StatusCode::NOT_FOUND);

    // Alice adds Carol's organisation, renames the group and opens its membership.
    let changed = app
        .call(
            Some("alice"),
            "PATCH",
            &group_uri,
            Some(json!({ "name": "Trio", "add_members": [res], "confidential": false })),
        )
        .await;
    assert_status(&changed, StatusCode::OK);
    assert_eq!(changed.body["members"], json!([ep_a, ep_b, res]));
    assert_eq!(changed.body["name"], json!("Trio"));
    assert_eq!(app.get("carol", &uri).await.status, StatusCode::OK);
    let carols = app.get("carol", "/api/v1/intel/sharing-groups").await;
    assert_eq!(carols.body[0]["members"], json!([ep_a, ep_b, res]));
    let owner_out =
        app.call(Some("alice"), "PATCH", &group_uri, Some(json!({ "remove_members": [ep_a] }))).await;
    assert_status(&owner_out, StatusCode::UNPROCESSABLE_ENTITY);
    let nobody = app
        .call(
            Some("alice"),
            "PATCH",
            &group_uri,
            Some(json!({ "add_members": ["30000000-0000-4000-8000-000000000998"] })),
        )
        .await;
    assert_status(&nobody, StatusCode::UNPROCESSABLE_ENTITY);

    // Confidential again with Bob removed: Carol sees herself only; Bob no longer sees the event.
    let replaced = app
        .call(
            Some("alice"),
            "PUT",
            &group_uri,
            Some(json!({ "name": "Trio", "members": [res], "confidential": true })),
        )
        .await;
    assert_status(&replaced, StatusCode::OK);
    assert_eq!(replaced.body["members"], json!([ep_a, res]));
    let carols = app.get("carol", "/api/v1/intel/sharing-groups").await;
    assert_eq!(carols.body[0]["members"], json!([res]));
    assert!(!carols.text.contains(&ep_a.to_string()), "{}", carols.text);
    assert_eq!(app.get("bob", &uri).await.status, StatusCode::NOT_FOUND);

    // A group in use stays, and says by how many events.
    let in_use = app.call(Some("alice"), "DELETE", &group_uri, None).await;
    assert_status(&in_use, StatusCode::CONFLICT);
    assert!(in_use.text.contains("1 intel event uses this sharing group"), "{}", in_use.text);
    let opened = app.call(Some("alice"), "PATCH", &uri, Some(json!({ "distribution": 1 }))).await;
    assert_status(&opened, StatusCode::OK);
    assert_eq!(opened.body["misp"]["Event"]["sharing_group_id"], json!("0"));
    let deleted = app.call(Some("alice"), "DELETE", &group_uri, None).await;
    assert_status(&deleted, StatusCode::NO_CONTENT);
    assert_eq!(app.get("alice", "/api/v1/intel/sharing-groups").await.body, json!([]));

    let audit = app.get("auditor", "/api/v1/audit?limit=500").await;
    assert!(audit.text.contains("intel.event.update"));
    assert!(audit.text.contains("intel.sharing_group.delete"));
    let doc = app.get("admin", "/api/v1/openapi.json").await;
    assert!(doc.body["paths"]["/api/v1/intel/events/{id}"].get("patch").is_some());
    for method in ["patch", "put", "delete"] {
        assert!(doc.body["paths"]["/api/v1/intel/sharing-groups/{id}"].get(method).is_some(), "{method}");
    }
}

/// Stores a feed event with a source address, routed to EP-A (so `TLP:AMBER+STRICT` to it).
async fn store_feed_event(app: &TestApp, ip: &str) -> uuid::Uuid {
    use neretva_store::feeds::NewEvent;
    let org = app.store.find_org("EP-A").await.unwrap().unwrap();
    let id = uuid::Uuid::now_v7();
    let now = time::OffsetDateTime::now_utc();
    let observed = now.format(&time::format_description::well_known::Rfc3339).unwrap();
    let json = json!({"source.ip": ip, "classification.type": "infected-system", "classification.taxonomy": "malicious-code",
        "feed.name": "test", "time.observation": observed})
    .to_string();
    let event = NewEvent {
        id,
        taxonomy: Some("malicious-code".into()),
        classification_type: Some("infected-system".into()),
        source_ip: Some(ip.parse().unwrap()),
        org_ids: vec![org.id],
        ..NewEvent::new(uuid::Uuid::now_v7(), "test", 1, "raw", now, json)
    };
    app.store.insert_events(&[event]).await.unwrap();
    id
}

#[tokio::test]
async fn intel_correlations_with_incidents_and_feed_events_show_only_what_the_caller_may_see() {
    let app = test_app().await;
    // An incident of EP-A's (TLP:AMBER) with a network and a domain; a feed event routed to EP-A.
    let incident = app
        .call(
            Some("analyst"),
            "POST",
            "/api/v1/incidents",
            Some(json!({ "title": "Bank intrusion", "tlp": "AMBER", "reporter_org": "EP-A", "affected_orgs": ["EP-A"] })),
        )
        .await;
    assert_status(&incident, StatusCode::CREATED);
    let incident_id = incident.body["id"].as_str().unwrap().to_owned();
    for value in ["45.9.148.0/24", "mail.evil-cdn.top"] {
        let added = app
            .call(
                Some("analyst"),
                "POST",
                &format!("/api/v1/incidents/{incident_id}/observables"),
                Some(json!({ "value": value })),
            )
            .await;
        assert_status(&added, StatusCode::CREATED);
    }
    let feed_event = store_feed_event(&app, "45.9.148.99").await.to_string();

    // Bob shares an address inside the incident's network, seen in the feed event, and the
    // domain above the incident's host name.
    const SHARED: &str = "10000000-0000-4000-8000-000000000301";
    let mut event = misp_event(SHARED, "Scanner", 1, None, &["tlp:green"], "45.9.148.99");
    event["Event"]["Attribute"].as_array_mut().unwrap().push(json!({
        "uuid": "20000000-0000-4000-8000-000000000302", "type": "domain", "value": "evil-cdn.top"
    }));
    // A documentation address is on a warning list and meets nothing.
    event["Event"]["Attribute"].as_array_mut().unwrap().push(json!({
        "uuid": "20000000-0000-4000-8000-000000000303", "type": "ip-dst", "value": "192.0.2.1"
    }));
    let created = app.call(Some("bob"), "POST", "/api/v1/intel/events", Some(event)).await;
    assert_status(&created, StatusCode::CREATED);
    let uri = format!("/api/v1/intel/events/{SHARED}/correlations");

    let seen = |reply: &crate::support::Reply, list: &str| -> Vec<(String, String)> {
        reply.body[list]
            .as_array()
            .unwrap_or_else(|| panic!("{list} in {}", reply.text))
            .iter()
            .map(|link| {
                let target = link.get("incident").or_else(|| link.get("event")).unwrap();
                (target.as_str().unwrap().to_owned(), link["relation"].as_str().unwrap().to_owned())
            })
            .collect()
    };
    // Alice (EP-A) and the operator's analyst see the incident and the feed event.
    for user in ["alice", "analyst"] {
        let reply = app.get(user, &uri).await;
        assert_status(&reply, StatusCode::OK);
        assert_eq!(
            seen(&reply, "incidents"),
            [(incident_id.clone(), "network".to_owned()), (incident_id.clone(), "host".to_owned())],
            "{user}: {}",
            reply.text
        );
        assert_eq!(seen(&reply, "feed_events"), [(feed_event.clone(), "exact".to_owned())], "{user}");
        assert!(reply.text.contains("Bank intrusion"), "{}", reply.text);
    }
    // Bob and Carol may see the intel event but neither the incident nor the feed event: not
    // even a trace of them.
    for user in ["bob", "carol"] {
        let reply = app.get(user, &uri).await;
        assert_status(&reply, StatusCode::OK);
        assert_eq!(reply.body["incidents"], json!([]), "{user}");
        assert_eq!(reply.body["feed_events"], json!([]), "{user}");
        assert_eq!(reply.body["over_correlating"], json!([]), "{user}");
        for secret in
            [&incident_id, &feed_event, &"Bank intrusion".to_owned(), &"mail.evil-cdn.top".to_owned()]
        {
            assert!(!reply.text.contains(secret.as_str()), "{user} learns {secret}: {}", reply.text);
        }
    }

    // A change to the event correlates it again: without the domain, only the address links.
    let patched = app
        .call(
            Some("bob"),
            "PATCH",
            &format!("/api/v1/intel/events/{SHARED}"),
            Some(json!({ "attributes": { "remove": ["20000000-0000-4000-8000-000000000302"] } })),
        )
        .await;
    assert_status(&patched, StatusCode::OK);
    let reply = app.get("analyst", &uri).await;
    assert_eq!(seen(&reply, "incidents"), [(incident_id.clone(), "network".to_owned())], "{}", reply.text);

    // An intel event the caller may not see has no correlations to show either.
    let hidden = misp_event("10000000-0000-4000-8000-000000000304", "Mine", 0, None, &[], "45.9.148.98");
    assert_status(
        &app.call(Some("alice"), "POST", "/api/v1/intel/events", Some(hidden)).await,
        StatusCode::CREATED,
    );
    let reply =
        app.get("bob", "/api/v1/intel/events/10000000-0000-4000-8000-000000000304/correlations").await;
    assert_status(&reply, StatusCode::NOT_FOUND);

    // From the incident's side: the intel events meeting its observables that the caller may
    // see. Carol's own event meets the incident's network too, but Alice may not see it.
    let carols =
        misp_event("10000000-0000-4000-8000-000000000305", "Carol's own", 0, None, &[], "45.9.148.97");
    assert_status(
        &app.call(Some("carol"), "POST", "/api/v1/intel/events", Some(carols)).await,
        StatusCode::CREATED,
    );
    let incident_intel = format!("/api/v1/incidents/{incident_id}/observables/intel");
    let reply = app.get("alice", &incident_intel).await;
    assert_status(&reply, StatusCode::OK);
    let events: Vec<(&str, &str)> = reply
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|link| (link["event"].as_str().unwrap(), link["event_info"].as_str().unwrap()))
        .collect();
    assert_eq!(
        events,
        [(SHARED, "Scanner"), ("10000000-0000-4000-8000-000000000304", "Mine")],
        "{}",
        reply.text
    );
    assert!(!reply.text.contains("000000000305") && !reply.text.contains("Carol"), "{}", reply.text);
    // Bob may not see the incident: 404, as for any incident he may not see.
    assert_status(&app.get("bob", &incident_intel).await, StatusCode::NOT_FOUND);

    let doc = app.get("admin", "/api/v1/openapi.json").await;
    assert!(doc.body["paths"].get("/api/v1/intel/events/{id}/correlations").is_some());
    assert!(doc.body["paths"].get("/api/v1/incidents/{id}/observables/intel").is_some());
}

const TAXII: &str = "application/taxii+json;version=2.1";

async fn taxii_get(app: &TestApp, user: &str, uri: &str) -> crate::support::Reply {
    use axum::body::Body;
    use axum::http::{Request, header};
    let request = Request::builder()
        .uri(uri)
        .header(header::ACCEPT, TAXII)
        .header(header::AUTHORIZATION, format!("Token {}", app.tokens[user]))
        .body(Body::empty())
        .unwrap();
    app.send(request).await
}

/// The TAXII collections a user may read, by title, with their ids.
async fn taxii_collections(app: &TestApp, user: &str) -> Vec<(String, String)> {
    let reply = taxii_get(app, user, "/taxii2/neretva/collections/").await;
    assert_status(&reply, StatusCode::OK);
    reply.body["collections"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|c| (c["title"].as_str().unwrap().to_owned(), c["id"].as_str().unwrap().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

async fn taxii_ids(app: &TestApp, user: &str, collection: &str) -> Vec<String> {
    let reply = taxii_get(app, user, &format!("/taxii2/neretva/collections/{collection}/objects/")).await;
    assert_status(&reply, StatusCode::OK);
    let mut ids: Vec<String> = reply.body["objects"]
        .as_array()
        .map(|list| list.iter().map(|o| o["id"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    ids.sort();
    ids
}

#[tokio::test]
async fn published_intel_events_are_served_by_taxii_in_the_collection_of_their_scope() {
    let app = test_app().await;
    let ep_a = app.store.find_org("EP-A").await.unwrap().unwrap().id;
    let ep_b = app.store.find_org("EP-B").await.unwrap().unwrap().id;
    let group = app
        .call(
            Some("alice"),
            "POST",
            "/api/v1/intel/sharing-groups",
            Some(json!({ "name": "Pair", "members": [ep_b], "confidential": true })),
        )
        .await;
    let group_id = group.body["uuid"].as_str().unwrap().to_owned();

    // A published event for the pair (TLP:AMBER, PAP:RED), a published community event and an
    // unpublished one.
    const PAIR: &str = "10000000-0000-4000-8000-000000000401";
    const COMMUNITY: &str = "10000000-0000-4000-8000-000000000402";
    const DRAFT: &str = "10000000-0000-4000-8000-000000000403";
    let mut pair =
        misp_event(PAIR, "For the pair", 4, Some(&group_id), &["tlp:amber", "PAP:RED"], "45.9.148.60");
    pair["Event"]["published"] = json!(true);
    let mut community =
        misp_event(COMMUNITY, "For everyone signed in", 1, None, &["tlp:green"], "45.9.148.61");
    community["Event"]["published"] = json!(true);
    community["Event"]["Attribute"].as_array_mut().unwrap().push(json!({
        "uuid": "20000000-0000-4000-8000-000000000499", "type": "domain", "value": "c2.evil-cdn.top", "to_ids": true
    }));
    let draft = misp_event(DRAFT, "Not yet", 1, None, &["tlp:green"], "45.9.148.62");
    for event in [pair, community, draft] {
        assert_status(
            &app.call(Some("alice"), "POST", "/api/v1/intel/events", Some(event)).await,
            StatusCode::CREATED,
        );
    }

    // The pair's collection is listed to its members only, and says nothing of them.
    let titles = |list: &[(String, String)]| list.iter().map(|(title, _)| title.clone()).collect::<Vec<_>>();
    let bobs = taxii_collections(&app, "bob").await;
    assert!(titles(&bobs).contains(&"Intel events of Pair".to_owned()), "{bobs:?}");
    assert!(!titles(&taxii_collections(&app, "carol").await).contains(&"Intel events of Pair".to_owned()));
    let (_, pair_collection) =
        bobs.iter().find(|(title, _)| title == "Intel events of Pair").unwrap().clone();
    let resource = taxii_get(&app, "bob", &format!("/taxii2/neretva/collections/{pair_collection}/")).await;
    assert_status(&resource, StatusCode::OK);
    assert!(!resource.text.contains(&ep_a.to_string()) && !resource.text.contains(&ep_b.to_string()));
    let hidden =
        taxii_get(&app, "carol", &format!("/taxii2/neretva/collections/{pair_collection}/objects/")).await;
    assert_status(&hidden, StatusCode::NOT_FOUND);

    // Bob reads the pair's event as STIX with its TLP and PAP markings.
    let objects =
        taxii_get(&app, "bob", &format!("/taxii2/neretva/collections/{pair_collection}/objects/")).await;
    assert_status(&objects, StatusCode::OK);
    let indicator = objects.body["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["type"] == "indicator")
        .unwrap_or_else(|| panic!("{}", objects.text))
        .clone();
    assert_eq!(indicator["pattern"], json!("[ipv4-addr:value = '45.9.148.60']"));
    let markings = indicator["object_marking_refs"].to_string();
    assert!(markings.contains("marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"), "{markings}");
    assert_eq!(indicator["object_marking_refs"].as_array().unwrap().len(), 2, "TLP and PAP: {markings}");
    assert!(objects.text.contains("\"report\""), "{}", objects.text);

    // Carol reads the community event; the unpublished one is nowhere.
    let carols = taxii_collections(&app, "carol").await;
    let (_, community_collection) =
        carols.iter().find(|(title, _)| title == "Intel events for the community").unwrap().clone();
    let ids = taxii_ids(&app, "carol", &community_collection).await;
    let all_text =
        taxii_get(&app, "analyst", &format!("/taxii2/neretva/collections/{community_collection}/objects/"))
            .await
            .text;
    assert!(!all_text.contains("45.9.148.62") && !all_text.contains("Not yet"), "{all_text}");
    assert!(all_text.contains("c2.evil-cdn.top"), "{all_text}");
    let indicators: Vec<&String> = ids.iter().filter(|id| id.starts_with("indicator--")).collect();
    assert_eq!(indicators.len(), 2, "{ids:?}");

    // A changed attribute is a new version; a removed one leaves the collection.
    let uri = format!("/api/v1/intel/events/{COMMUNITY}");
    let changed = app
        .call(
            Some("alice"),
            "PATCH",
            &uri,
            Some(json!({ "attributes": {
                "change": [{ "uuid": "20000000-0000-4000-8000-000000000402", "value": "45.9.148.63" }],
                "remove": ["20000000-0000-4000-8000-000000000499"],
            } })),
        )
        .await;
    assert_status(&changed, StatusCode::OK);
    let text =
        taxii_get(&app, "carol", &format!("/taxii2/neretva/collections/{community_collection}/objects/"))
            .await
            .text;
    assert!(text.contains("45.9.148.63") && !text.contains("45.9.148.61"), "{text}");
    assert!(!text.contains("c2.evil-cdn.top"), "{text}");

    // Unpublishing takes the event out; deleting the pair's event empties its collection.
    let unpublished = app.call(Some("alice"), "PATCH", &uri, Some(json!({ "published": false }))).await;
    assert_status(&unpublished, StatusCode::OK);
    let ids = taxii_ids(&app, "carol", &community_collection).await;
    assert!(
        ids.iter().all(|id| id.starts_with("identity--") || id.starts_with("marking-definition--")),
        "{ids:?}"
    );
    let deleted = app.call(Some("alice"), "DELETE", &format!("/api/v1/intel/events/{PAIR}"), None).await;
    assert_status(&deleted, StatusCode::NO_CONTENT);
    let ids = taxii_ids(&app, "bob", &pair_collection).await;
    assert!(!ids.iter().any(|id| id.starts_with("indicator--") || id.starts_with("report--")), "{ids:?}");

    // The group's membership is the collection's: without Bob, Bob no longer reads it; with the
    // group gone, so is its collection.
    let without_bob = app
        .call(
            Some("alice"),
            "PATCH",
            &format!("/api/v1/intel/sharing-groups/{group_id}"),
            Some(json!({ "remove_members": [ep_b] })),
        )
        .await;
    assert_status(&without_bob, StatusCode::OK);
    assert!(!titles(&taxii_collections(&app, "bob").await).contains(&"Intel events of Pair".to_owned()));
    assert!(titles(&taxii_collections(&app, "alice").await).contains(&"Intel events of Pair".to_owned()));
    let gone =
        app.call(Some("alice"), "DELETE", &format!("/api/v1/intel/sharing-groups/{group_id}"), None).await;
    assert_status(&gone, StatusCode::NO_CONTENT);
    assert!(!titles(&taxii_collections(&app, "alice").await).contains(&"Intel events of Pair".to_owned()));
}
