//! The constituency, sharing and administration pages of the web interface, in process: what
//! must not leak does not, administration is hidden from everyone else, forms need their CSRF
//! token, a token's secret is shown once, and every text is escaped.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use neretva_store::Store;
use serde_json::json;

use crate::support::{PASSWORD, Reply, TestApp, assert_status, test_app};

/// A signed-in browser: the session cookie and the CSRF token of its forms.
struct Browser {
    cookie: String,
    csrf: String,
}

async fn sign_in(app: &TestApp, username: &str, password: &str) -> Browser {
    let reply = app
        .call(None, "POST", "/api/v1/auth/login", Some(json!({"username": username, "password": password})))
        .await;
    assert_status(&reply, StatusCode::OK);
    let set_cookie = reply.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    Browser {
        cookie: set_cookie.split(';').next().unwrap().to_owned(),
        csrf: reply.body["csrf_token"].as_str().unwrap().to_owned(),
    }
}

/// Whether a page shows a text, as typed or as HTML-escaped by the templates (which escape `/`
/// too).
fn shows(page: &Reply, text: &str) -> bool {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;");
    page.text.contains(text) || page.text.contains(&escaped)
}

fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

impl Browser {
    async fn page(&self, app: &TestApp, uri: &str) -> Reply {
        app.send(Request::get(uri).header(header::COOKIE, &self.cookie).body(Body::empty()).unwrap()).await
    }

    /// Posts a form with the session's CSRF token.
    async fn submit(&self, app: &TestApp, uri: &str, fields: &[(&str, &str)]) -> Reply {
        let mut all = vec![("csrf_token", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(app, uri, &all).await
    }

    /// Posts exactly these fields (no CSRF token unless given).
    async fn post(&self, app: &TestApp, uri: &str, fields: &[(&str, &str)]) -> Reply {
        let body: Vec<String> =
            fields.iter().map(|(name, value)| format!("{name}={}", encode(value))).collect();
        app.send(
            Request::post(uri)
                .header(header::COOKIE, &self.cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body.join("&")))
                .unwrap(),
        )
        .await
    }
}

/// Contacts and assets for CERT-BIH, EP-A and EP-B, through the API.
async fn seed_member_data(app: &TestApp) {
    for (org, net, email) in [
        ("CERT-BIH", "198.51.100.0/24", "soc@cert.example.ba"),
        ("EP-A", "192.0.2.0/26", "abuse@ep-a.example.ba"),
        ("EP-B", "192.0.2.64/26", "abuse@ep-b.example.ba"),
    ] {
        let contact = app
            .call(
                Some("analyst"),
                "POST",
                &format!("/api/v1/organisations/{org}/contacts"),
                Some(json!({"name": format!("Desk {org}"), "email": email})),
            )
            .await;
        assert_status(&contact, StatusCode::CREATED);
        let asset = app
            .call(
                Some("analyst"),
                "POST",
                &format!("/api/v1/organisations/{org}/assets"),
                Some(json!({"value": net})),
            )
            .await;
        assert_status(&asset, StatusCode::CREATED);
    }
}

#[tokio::test]
async fn a_constituent_sees_only_its_own_organisations_contacts_and_assets() {
    let app = test_app().await;
    seed_member_data(&app).await;
    let ep_a = app.store_org("EP-A").await;
    let ep_b = app.store_org("EP-B").await;
    let cert = app.store_org("CERT-BIH").await;
    let alice = sign_in(&app, "alice", PASSWORD).await;

    let own = alice.page(&app, &format!("/constituency/organisations/{ep_a}")).await;
    assert_status(&own, StatusCode::OK);
    assert!(own.text.contains("abuse@ep-a.example.ba") && shows(&own, "192.0.2.0/26"), "{}", own.text);

    // Another constituent's organisation does not exist for her, by id or by short name.
    for uri in [format!("/constituency/organisations/{ep_b}"), "/constituency/organisations/EP-B".to_owned()]
    {
        let other = alice.page(&app, &uri).await;
        assert_status(&other, StatusCode::NOT_FOUND);
        assert!(
            !other.text.contains("Elektro B") && !other.text.contains("ep-b.example.ba"),
            "{}",
            other.text
        );
    }

    // The CERT above her is visible (TLP:AMBER), its contacts and assets are not
    // (TLP:AMBER+STRICT): the page shows the register and says why the rest is missing.
    let above = alice.page(&app, &format!("/constituency/organisations/{cert}")).await;
    assert_status(&above, StatusCode::OK);
    assert!(above.text.contains("CERT BiH"), "{}", above.text);
    assert!(
        !above.text.contains("soc@cert.example.ba") && !shows(&above, "198.51.100.0/24"),
        "{}",
        above.text
    );

    // The list and the lookup never name the other constituent.
    let list = alice.page(&app, "/constituency/organisations").await;
    assert_status(&list, StatusCode::OK);
    assert!(list.text.contains("Elektro A") && !list.text.contains("Elektro B"), "{}", list.text);
    let lookup = alice.page(&app, "/constituency/lookup?q=192.0.2.70").await;
    assert_status(&lookup, StatusCode::OK);
    assert!(!lookup.text.contains("Elektro B") && !shows(&lookup, "192.0.2.64/26"), "{}", lookup.text);

    // She may not add to or remove from another organisation's contacts.
    let added = alice
        .submit(
            &app,
            &format!("/constituency/organisations/{ep_b}/contacts"),
            &[("name", "X"), ("email", "x@example.ba")],
        )
        .await;
    assert_status(&added, StatusCode::NOT_FOUND);
    let b_contacts = app.store.list_contacts(Some(ep_b.parse().unwrap())).await.unwrap();
    assert_eq!(b_contacts.len(), 1);
    let removed =
        alice.submit(&app, &format!("/constituency/contacts/{}/delete", b_contacts[0].id), &[]).await;
    assert_status(&removed, StatusCode::NOT_FOUND);
    assert_eq!(app.store.list_contacts(Some(ep_b.parse().unwrap())).await.unwrap().len(), 1);

    // The CERT's analyst sees everyone's, and the lookup names EP-B.
    let analyst = sign_in(&app, "analyst", PASSWORD).await;
    let other = analyst.page(&app, &format!("/constituency/organisations/{ep_b}")).await;
    assert_status(&other, StatusCode::OK);
    assert!(other.text.contains("abuse@ep-b.example.ba"), "{}", other.text);
    let lookup = analyst.page(&app, "/constituency/lookup?q=192.0.2.70").await;
    assert!(lookup.text.contains("Elektro B") && shows(&lookup, "192.0.2.64/26"), "{}", lookup.text);
}

#[tokio::test]
async fn staff_change_the_registry_through_forms_and_each_change_is_audited() {
    let app = test_app().await;
    let analyst = sign_in(&app, "analyst", PASSWORD).await;
    let ep_a = app.store_org("EP-A").await;

    let added = analyst
        .submit(
            &app,
            &format!("/constituency/organisations/{ep_a}/assets"),
            &[("kind", ""), ("value", "203.0.113.0/25"), ("description", "Office")],
        )
        .await;
    assert_status(&added, StatusCode::SEE_OTHER);
    let page = analyst.page(&app, &format!("/constituency/organisations/{ep_a}")).await;
    assert!(shows(&page, "203.0.113.0/25"), "{}", page.text);

    // A bad value comes back on the form naming the field, and nothing is stored.
    let refused = analyst
        .submit(
            &app,
            &format!("/constituency/organisations/{ep_a}/assets"),
            &[("kind", "cidr"), ("value", "300.1.2.0/24")],
        )
        .await;
    assert_status(&refused, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(shows(&refused, "300.1.2.0/24"), "the typed value is kept: {}", refused.text);
    assert_eq!(app.store.list_assets(Some(ep_a.parse().unwrap())).await.unwrap().len(), 1);

    let changed = analyst
        .submit(
            &app,
            &format!("/constituency/organisations/{ep_a}/edit"),
            &[
                ("name", "Elektroprivreda A"),
                ("short_name", "EP-A"),
                ("country", "BA"),
                ("sector", "energy"),
                ("entity_type", "essential"),
                ("authority_level", "State"),
                ("parent", "CERT-BIH"),
            ],
        )
        .await;
    assert_status(&changed, StatusCode::SEE_OTHER);
    assert_eq!(app.store.find_org("EP-A").await.unwrap().unwrap().fields.name, "Elektroprivreda A");
    let audit = app
        .store
        .list_audit(&neretva_store::AuditQuery {
            actor: Some("user:analyst".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = audit.iter().map(|entry| entry.event.action.as_str()).collect();
    assert!(actions.iter().any(|action| action.starts_with("asset.")), "{actions:?}");
    assert!(actions.iter().any(|action| action.starts_with("org")), "{actions:?}");

    // A constituent may neither open nor send the organisation form.
    let alice = sign_in(&app, "alice", PASSWORD).await;
    assert_status(&alice.page(&app, "/constituency/organisations/new").await, StatusCode::NOT_FOUND);
    let refused =
        alice.submit(&app, "/constituency/organisations", &[("name", "Mine"), ("short_name", "MINE")]).await;
    assert_status(&refused, StatusCode::NOT_FOUND);
    assert!(app.store.find_org("MINE").await.unwrap().is_none());
}

#[tokio::test]
async fn administration_is_not_found_for_everyone_but_administrators() {
    let app = test_app().await;
    for user in ["alice", "carol", "analyst"] {
        let browser = sign_in(&app, user, PASSWORD).await;
        for uri in [
            "/admin",
            "/admin/users",
            "/admin/tokens",
            "/admin/tokens?all=1",
            "/admin/audit",
            "/admin/audit/verify",
        ] {
            let reply = browser.page(&app, uri).await;
            assert_status(&reply, StatusCode::NOT_FOUND);
            assert!(!reply.text.contains("admin@") && !reply.text.contains("user:admin"), "{user} {uri}");
        }
        let before = app.store.list_tokens(None).await.unwrap().len();
        let reply = browser.submit(&app, "/admin/tokens", &[("name", "sneaky"), ("scope", "read")]).await;
        assert_status(&reply, StatusCode::NOT_FOUND);
        assert_eq!(app.store.list_tokens(None).await.unwrap().len(), before, "{user} made a token");
        let admin = app.store.find_user("admin").await.unwrap().unwrap();
        let reply = browser.submit(&app, &format!("/admin/users/{}/lock", admin.id), &[]).await;
        assert_status(&reply, StatusCode::NOT_FOUND);
        assert!(!app.store.get_user(admin.id).await.unwrap().unwrap().disabled);
    }
    // An auditor reads the audit log but not the users.
    let auditor = sign_in(&app, "auditor", PASSWORD).await;
    assert_status(&auditor.page(&app, "/admin/audit").await, StatusCode::OK);
    assert_status(&auditor.page(&app, "/admin/users").await, StatusCode::NOT_FOUND);
    // Without a session every page leads to the login form.
    let anonymous = app.send(Request::get("/admin/users").body(Body::empty()).unwrap()).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert!(anonymous.headers[header::LOCATION].to_str().unwrap().starts_with("/login"));
}

#[tokio::test]
async fn forms_without_the_sessions_csrf_token_change_nothing() {
    let app = test_app().await;
    let admin = sign_in(&app, "admin", PASSWORD).await;
    let ep_a = app.store_org("EP-A").await;
    let tokens = app.store.list_tokens(None).await.unwrap().len();
    for fields in [vec![("name", "ci")], vec![("csrf_token", "forged"), ("name", "ci")]] {
        let reply = admin.post(&app, "/admin/tokens", &fields).await;
        assert_status(&reply, StatusCode::FORBIDDEN);
        let reply = admin
            .post(&app, &format!("/constituency/organisations/{ep_a}/assets"), &[("value", "203.0.113.0/25")])
            .await;
        assert_status(&reply, StatusCode::FORBIDDEN);
    }
    // Another session's token does not do either.
    let other = sign_in(&app, "admin", PASSWORD).await;
    let reply =
        admin.post(&app, "/admin/tokens", &[("csrf_token", other.csrf.as_str()), ("name", "ci")]).await;
    assert_status(&reply, StatusCode::FORBIDDEN);
    assert_eq!(app.store.list_tokens(None).await.unwrap().len(), tokens);
    assert!(app.store.list_assets(Some(ep_a.parse().unwrap())).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_new_tokens_secret_is_shown_once_and_never_again() {
    let app = test_app().await;
    let admin = sign_in(&app, "admin", PASSWORD).await;
    let created = admin
        .submit(
            &app,
            "/admin/tokens",
            &[("name", "ci pipeline"), ("scope", "read"), ("expires_in_days", "30")],
        )
        .await;
    assert_status(&created, StatusCode::CREATED);
    let start = created.text.find("nrt_").expect("the secret is on the page");
    let secret: String = created.text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    assert!(secret.len() > 40, "{secret}");
    assert!(created.headers[header::CACHE_CONTROL].to_str().unwrap().contains("no-store"));

    // It works, with the scope asked for.
    let me = app
        .send(
            Request::get("/api/v1/auth/me")
                .header(header::AUTHORIZATION, format!("Bearer {secret}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_status(&me, StatusCode::OK);
    assert_eq!(me.body["scope"], "read");

    // No page shows it again.
    for uri in ["/admin/tokens", "/admin/tokens?all=1", "/admin/audit", "/admin/users"] {
        let page = admin.page(&app, uri).await;
        assert_status(&page, StatusCode::OK);
        assert!(!page.text.contains(&secret), "{uri} shows the secret");
        let hidden_part = &secret[secret.len() - 20..];
        assert!(!page.text.contains(hidden_part), "{uri} shows part of the secret");
    }
    let list = admin.page(&app, "/admin/tokens").await;
    assert!(list.text.contains("ci pipeline"), "{}", list.text);

    // Revoking it from the list ends it.
    let token = app
        .store
        .list_tokens(None)
        .await
        .unwrap()
        .into_iter()
        .find(|token| token.name == "ci pipeline")
        .unwrap();
    let revoked = admin.submit(&app, &format!("/admin/tokens/{}/revoke", token.id), &[]).await;
    assert_status(&revoked, StatusCode::SEE_OTHER);
    let me = app
        .send(
            Request::get("/api/v1/auth/me")
                .header(header::AUTHORIZATION, format!("Bearer {secret}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_status(&me, StatusCode::UNAUTHORIZED);

    // A bad expiry is refused on the form, naming the field, and makes no token.
    let refused = admin.submit(&app, "/admin/tokens", &[("name", "bad"), ("expires_in_days", "0")]).await;
    assert_status(&refused, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text.contains("expires_in_days"), "{}", refused.text);
    assert!(!refused.text.contains("nrt_"));
    assert!(app.store.list_tokens(None).await.unwrap().iter().all(|token| token.name != "bad"));
}

#[tokio::test]
async fn administrators_manage_users_and_verify_the_audit_chain() {
    let app = test_app().await;
    let admin = sign_in(&app, "admin", PASSWORD).await;
    let created = admin
        .submit(
            &app,
            "/admin/users",
            &[
                ("username", "dino"),
                ("organisation", "EP-A"),
                ("role", "constituent"),
                ("email", "dino@ep-a.example.ba"),
            ],
        )
        .await;
    assert_status(&created, StatusCode::SEE_OTHER);
    let dino = app.store.find_user("dino").await.unwrap().unwrap();
    let users = admin.page(&app, "/admin/users").await;
    assert!(users.text.contains("dino"), "{}", users.text);

    // A refused user names the field and keeps what was typed, never the password.
    let refused = admin
        .submit(
            &app,
            "/admin/users",
            &[
                ("username", "eve"),
                ("organisation", "NOPE"),
                ("role", "admin"),
                ("password", "a-secret-password-1"),
            ],
        )
        .await;
    assert_status(&refused, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text.contains("organisation") && refused.text.contains("NOPE"), "{}", refused.text);
    assert!(!refused.text.contains("a-secret-password-1"));

    // The role changes; a password reset is shown once and works.
    let changed =
        admin.submit(&app, &format!("/admin/users/{}/role", dino.id), &[("role", "community")]).await;
    assert_status(&changed, StatusCode::SEE_OTHER);
    assert_eq!(
        app.store.get_user(dino.id).await.unwrap().unwrap().role,
        neretva_model::user::Role::Community
    );
    let reset = admin.submit(&app, &format!("/admin/users/{}/password", dino.id), &[]).await;
    assert_status(&reset, StatusCode::OK);
    let marker = "id=\"new-secret\" class=\"mono secret\" readonly value=\"";
    let start = reset.text.find(marker).expect("the password is on the page") + marker.len();
    let password: String = reset.text[start..].chars().take_while(|c| *c != '"').collect();
    assert!(password.len() >= 12, "{password}");
    sign_in(&app, "dino", &password).await;
    assert!(!admin.page(&app, "/admin/users").await.text.contains(&password));
    assert!(!admin.page(&app, "/admin/audit").await.text.contains(&password));

    // Locking ends the account's use; unlocking restores it.
    let locked = admin.submit(&app, &format!("/admin/users/{}/lock", dino.id), &[]).await;
    assert_status(&locked, StatusCode::SEE_OTHER);
    assert!(app.store.get_user(dino.id).await.unwrap().unwrap().disabled);
    let login = app
        .call(None, "POST", "/api/v1/auth/login", Some(json!({"username": "dino", "password": password})))
        .await;
    assert_ne!(login.status, StatusCode::OK);
    admin.submit(&app, &format!("/admin/users/{}/unlock", dino.id), &[]).await;
    assert!(!app.store.get_user(dino.id).await.unwrap().unwrap().disabled);

    // The audit log lists those changes, filters by actor and action, and the chain verifies.
    let audit = admin.page(&app, "/admin/audit?actor=user%3Aadmin&action=user.create").await;
    assert_status(&audit, StatusCode::OK);
    assert!(audit.text.contains("user.create") && !audit.text.contains("user.disable"), "{}", audit.text);
    let future = admin.page(&app, "/admin/audit?since=2999-01-01").await;
    assert_status(&future, StatusCode::OK);
    assert!(!future.text.contains("user.create"), "{}", future.text);
    let bad = admin.page(&app, "/admin/audit?since=yesterday").await;
    assert_status(&bad, StatusCode::BAD_REQUEST);
    assert!(bad.text.contains("since"), "{}", bad.text);
    let verified = admin.page(&app, "/admin/audit/verify").await;
    assert_status(&verified, StatusCode::OK);
    assert!(verified.text.contains("data-audit-verification=\"ok\""), "{}", verified.text);
}

#[tokio::test]
async fn pages_escape_what_users_typed() {
    let app = test_app().await;
    let created = app
        .call(
            Some("analyst"),
            "POST",
            "/api/v1/organisations",
            Some(json!({"name": "<script>alert(1)</script> & Co", "short_name": "XSS", "authority_level": "State"})),
        )
        .await;
    assert_status(&created, StatusCode::CREATED);
    let analyst = sign_in(&app, "analyst", PASSWORD).await;
    let list = analyst.page(&app, "/constituency/organisations?q=%3Cscript").await;
    assert_status(&list, StatusCode::OK);
    assert!(!list.text.contains("<script>alert(1)</script>"), "{}", list.text);
    assert!(list.text.contains("&lt;script&gt;alert(1)"), "{}", list.text);
    let lookup = analyst.page(&app, "/constituency/lookup?q=%22%3E%3Cimg%20src%3Dx%3E").await;
    assert!(!lookup.text.contains("<img src=x>") && !lookup.text.contains("\"><img"), "{}", lookup.text);
    let events = analyst.page(&app, "/sharing/events?text=%3Cb%3Ebold").await;
    assert_status(&events, StatusCode::OK);
    assert!(!events.text.contains("<b>bold"), "{}", events.text);
}

fn misp_event(uuid: &str, info: &str, distribution: u8, group: Option<&str>, ip: &str) -> serde_json::Value {
    let mut event = json!({
        "uuid": uuid, "info": info, "date": "2026-11-20",
        "distribution": distribution.to_string(),
        "Tag": [{"name": "tlp:amber"}],
        "Attribute": [{"uuid": uuid.replacen("10000000", "20000000", 1), "type": "ip-dst",
            "category": "Network activity", "value": ip, "to_ids": true}],
    });
    if let Some(group) = group {
        event["sharing_group_id"] = json!(group);
        event["SharingGroup"] = json!({ "uuid": group });
    }
    json!({ "Event": event })
}

#[tokio::test]
async fn sharing_pages_show_only_the_intel_and_members_each_user_may_see() {
    let app = test_app().await;
    let ep_b = app.store.find_org("EP-B").await.unwrap().unwrap().id;
    let own = "10000000-0000-4000-8000-0000000000a1";
    let grouped = "10000000-0000-4000-8000-0000000000a2";
    let reply = app
        .call(
            Some("alice"),
            "POST",
            "/api/v1/intel/events",
            Some(misp_event(own, "Alice only", 0, None, "45.9.148.10")),
        )
        .await;
    assert_status(&reply, StatusCode::CREATED);
    let group = app
        .call(
            Some("alice"),
            "POST",
            "/api/v1/intel/sharing-groups",
            Some(json!({"name": "Energy pair", "members": [ep_b], "confidential": true})),
        )
        .await;
    assert_status(&group, StatusCode::CREATED);
    let group_id = group.body["uuid"].as_str().unwrap().to_owned();
    let reply = app
        .call(
            Some("alice"),
            "POST",
            "/api/v1/intel/events",
            Some(misp_event(grouped, "For the pair", 4, Some(&group_id), "45.9.148.20")),
        )
        .await;
    assert_status(&reply, StatusCode::CREATED);

    let alice = sign_in(&app, "alice", PASSWORD).await;
    let bob = sign_in(&app, "bob", PASSWORD).await;
    let carol = sign_in(&app, "carol", PASSWORD).await;

    let list = alice.page(&app, "/sharing/events").await;
    assert!(list.text.contains("Alice only") && list.text.contains("For the pair"), "{}", list.text);
    let page = alice.page(&app, &format!("/sharing/events/{own}")).await;
    assert_status(&page, StatusCode::OK);
    assert!(page.text.contains("45.9.148.10"), "{}", page.text);

    let list = bob.page(&app, "/sharing/events").await;
    assert!(!list.text.contains("Alice only") && list.text.contains("For the pair"), "{}", list.text);
    assert_status(&bob.page(&app, &format!("/sharing/events/{own}")).await, StatusCode::NOT_FOUND);
    let found = bob.page(&app, "/sharing/events?value=45.9.148.10").await;
    assert!(!found.text.contains("Alice only"), "{}", found.text);
    let indicators = bob.page(&app, "/sharing/indicators").await;
    assert!(
        indicators.text.contains("45.9.148.20") && !indicators.text.contains("45.9.148.10"),
        "{}",
        indicators.text
    );

    for path in [
        format!("/sharing/events/{grouped}"),
        format!("/sharing/groups/{group_id}"),
        "/sharing/events/not-a-uuid".to_owned(),
    ] {
        assert_status(&carol.page(&app, &path).await, StatusCode::NOT_FOUND);
    }
    let carols = carol.page(&app, "/sharing/groups").await;
    assert!(!carols.text.contains("Energy pair"), "{}", carols.text);

    // Community events that correlate with the organisation-only event and the group's event:
    // each one's page names a correlated event only to those who may see it.
    for (uuid, info, ip) in [
        ("10000000-0000-4000-8000-0000000000a3", "Community on ten", "45.9.148.10"),
        ("10000000-0000-4000-8000-0000000000a4", "Community on twenty", "45.9.148.20"),
    ] {
        let mut event = misp_event(uuid, info, 3, None, ip);
        event["Event"]["Tag"] = json!([{"name": "tlp:green"}]);
        let reply = app.call(Some("alice"), "POST", "/api/v1/intel/events", Some(event)).await;
        assert_status(&reply, StatusCode::CREATED);
    }
    let on_ten = "/sharing/events/10000000-0000-4000-8000-0000000000a3";
    let on_twenty = "/sharing/events/10000000-0000-4000-8000-0000000000a4";
    let alices = alice.page(&app, on_ten).await;
    assert!(alices.text.contains("Alice only") && alices.text.contains(own), "{}", alices.text);
    let alices = alice.page(&app, on_twenty).await;
    assert!(alices.text.contains("For the pair") && alices.text.contains(grouped), "{}", alices.text);
    let bobs = bob.page(&app, on_ten).await;
    assert_status(&bobs, StatusCode::OK);
    assert!(!bobs.text.contains("Alice only") && !bobs.text.contains(own), "{}", bobs.text);
    let bobs = bob.page(&app, on_twenty).await;
    assert!(bobs.text.contains("For the pair") && bobs.text.contains(grouped), "{}", bobs.text);
    for path in [on_ten, on_twenty] {
        let carols = carol.page(&app, path).await;
        assert!(!carols.text.contains(own) && !carols.text.contains(grouped), "{}", carols.text);
    }

    // A confidential group: its member sees itself only; the owner sees everyone.
    let bobs = bob.page(&app, &format!("/sharing/groups/{group_id}")).await;
    assert_status(&bobs, StatusCode::OK);
    assert!(bobs.text.contains("Elektro B") && !bobs.text.contains("Elektro A"), "{}", bobs.text);
    let owners = alice.page(&app, &format!("/sharing/groups/{group_id}")).await;
    assert!(owners.text.contains("Elektro B") && owners.text.contains("Elektro A"), "{}", owners.text);

    // TAXII collections: listed with what the user may do there.
    let collections = alice.page(&app, "/sharing/taxii").await;
    assert_status(&collections, StatusCode::OK);
    assert!(shows(&collections, "/taxii2/"), "{}", collections.text);
}
