//! Tests of the contact-point directory, RFC 2350 profiles and communication checks.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use expect_test::{Expect, expect, expect_file};
use neretva_model::contact::Language;
use neretva_model::{Timestamp, Uuid};
use time::macros::datetime;

use crate::check_texts::{self, ChallengeInput, PageInput, to_cyrillic};
use crate::checks::{
    self, Campaign, CheckScope, Step, TargetState, campaign_stats, due, median, select, token_hash,
};
use crate::contact_points::{ContactPoint, PointKind, normalise};
use crate::rfc2350::{self, TeamProfile};

const NOW: Timestamp = datetime!(2026-11-29 09:00 UTC);

fn test_data(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data").join(path)
}

/// An OpenPGP key of the model's test data and its fingerprint.
fn key() -> (String, &'static str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../neretva-model/test_data/openpgp/ed25519-cv25519.asc");
    (std::fs::read_to_string(path).unwrap(), "0B36F3328DEC90912DD828AEF47670228E393F7D")
}

fn point(kind: PointKind, org: u128) -> ContactPoint {
    ContactPoint {
        id: Uuid::from_u128(1000 + org),
        org_id: Uuid::from_u128(org),
        kind,
        sector: (kind == PointKind::Sector).then(|| "energy".to_owned()),
        name: "Duty officer".into(),
        email: format!("duty{org}@example.ba"),
        phone: Some("+387 33 123 456".into()),
        language: Language::Bs,
        hours: Some("24/7".into()),
        pgp_key: None,
        pgp_fingerprint: None,
        notes: None,
    }
}

fn render_errors(errors: &[neretva_model::FieldError]) -> String {
    errors.iter().map(|error| format!("{}: {}\n", error.field, error.message)).collect()
}

#[test]
fn a_valid_point_passes_and_its_key_gets_its_fingerprint() {
    let (armored, fingerprint) = key();
    let mut valid = point(PointKind::Cbm8Technical, 1);
    valid.pgp_key = Some(armored.clone());
    valid.pgp_fingerprint = Some("0b36 f332 8dec 9091 2dd8  28ae f476 7022 8e39 3f7d".into());
    assert!(normalise(&mut valid, NOW).is_empty());
    assert_eq!(valid.pgp_fingerprint.as_deref(), Some(fingerprint));

    let mut unchecked = point(PointKind::Cert, 1);
    unchecked.pgp_key = Some(armored);
    assert!(normalise(&mut unchecked, NOW).is_empty());
    assert_eq!(unchecked.pgp_fingerprint.as_deref(), Some(fingerprint), "computed when not given");
}

#[track_caller]
fn check_point(change: impl FnOnce(&mut ContactPoint), expected: Expect) {
    let mut bad = point(PointKind::Sector, 2);
    change(&mut bad);
    expected.assert_eq(&render_errors(&normalise(&mut bad, NOW)));
}

#[test]
fn every_problem_of_a_point_is_named_by_its_field() {
    check_point(
        |p| {
            p.name = " ".into();
            p.email = "nobody".into();
            p.phone = Some("call me".into());
            p.sector = None;
        },
        expect![[r#"
            name: must not be empty
            email: "nobody" has no '@'
            phone: "call me" is not a phone number such as +387 33 123 456
            sector: a sector contact point names its NIS2 sector
        "#]],
    );
    check_point(
        |p| p.sector = Some("shipbuilding".into()),
        expect![[r#"
            sector: unknown NIS2 sector "shipbuilding"; known sectors: energy, transport, banking, financial-market-infrastructures, health, drinking-water, waste-water, digital-infrastructure, ict-service-management, public-administration, space, postal-courier, waste-management, chemicals, food, manufacturing, digital-providers, research
        "#]],
    );
    check_point(
        |p| {
            p.kind = PointKind::Budapest24x7;
            p.pgp_fingerprint = Some("ABCD".into());
        },
        expect![[r#"
            sector: only sector contact points name a sector, not budapest-24x7
            pgp_fingerprint: given without a key (pgp_key)
        "#]],
    );
    check_point(
        |p| {
            p.pgp_key = Some(key().0);
            p.pgp_fingerprint = Some("FD428998A29FC859DBA435F66F65D36EB7ECEAA7".into());
        },
        expect![[r#"
            pgp_fingerprint: FD428998A29FC859DBA435F66F65D36EB7ECEAA7 is not the key's fingerprint 0B36F3328DEC90912DD828AEF47670228E393F7D
        "#]],
    );
    check_point(
        |p| p.pgp_key = Some("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot a key\n".into()),
        expect![[r#"
            pgp_key: has damaged armour: the base64 is invalid or the end line is missing
        "#]],
    );
}

#[test]
fn kinds_read_back_from_their_tags() {
    for kind in PointKind::ALL {
        assert_eq!(PointKind::parse("kind", kind.tag()).unwrap(), kind);
        assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{}\"", kind.tag()));
    }
    let error = PointKind::parse("kind", "cbm9").unwrap_err();
    assert_eq!(
        error.message,
        "unknown kind \"cbm9\"; known kinds: cbm8-policy, cbm8-technical, budapest-24x7, sector, cert"
    );
}

fn profile() -> TeamProfile {
    let text = std::fs::read_to_string(test_data("rfc2350/cert-bih.json")).unwrap();
    let text = text.replace("@KEY@", &key().0.replace('\n', "\\n"));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn a_profile_renders_as_an_rfc_2350_document() {
    let mut profile = profile();
    assert!(rfc2350::normalise(&mut profile, NOW).is_empty());
    expect_file![test_data("rfc2350/cert-bih.txt")].assert_eq(&rfc2350::render(&profile));
}

#[test]
fn a_minimal_profile_says_none_where_nothing_is_given() {
    let json = serde_json::json!({
        "org_id": Uuid::from_u128(7),
        "document": { "last_updated": "2026-01-15" },
        "contact": { "team_name": "Sector CERT", "address": "Zagreb", "time_zone": "CET",
                     "email": "cert@sector.example.hr", "customer_contact": "E-mail, office hours." },
        "charter": { "mission_statement": "Help.", "constituency": "The energy sector." }
    });
    let mut profile: TeamProfile = serde_json::from_value(json).unwrap();
    assert!(rfc2350::normalise(&mut profile, NOW).is_empty());
    let text = rfc2350::render(&profile);
    for heading in [
        "1. Document Information",
        "1.4 Authenticating this Document",
        "2.11 Points of Customer Contact",
        "3.4 Authority",
        "4.3 Communication and Authentication",
        "5.1.3 Incident Resolution",
        "6. Incident Reporting Forms",
        "7. Disclaimers",
    ] {
        assert!(text.contains(&format!("\n{heading}\n")), "{heading} missing in\n{text}");
    }
    assert!(text.contains("2.5 Facsimile Number\n\n   None.\n"), "{text}");
    assert!(text.lines().all(|line| line.chars().count() <= 72), "{text}");
}

#[test]
fn every_problem_of_a_profile_is_named_by_its_path() {
    let mut profile = profile();
    profile.contact.email = "cert".into();
    profile.contact.team_name = String::new();
    profile.contact.pgp_fingerprint = Some("FD428998A29FC859DBA435F66F65D36EB7ECEAA7".into());
    profile.charter.constituency = " x".into();
    profile.document.locations.push(String::new());
    expect![[r#"
        document.locations[2]: must not be empty
        contact.team_name: must not be empty
        contact.email: "cert" has no '@'
        contact.pgp_fingerprint: FD428998A29FC859DBA435F66F65D36EB7ECEAA7 is not the key's fingerprint 0B36F3328DEC90912DD828AEF47670228E393F7D
        charter.constituency: must not start or end with white space
    "#]]
    .assert_eq(&render_errors(&rfc2350::normalise(&mut profile, NOW)));
}

fn campaign() -> Campaign {
    Campaign {
        id: Uuid::from_u128(77),
        name: "Q4 2026 reachability".into(),
        scope: CheckScope::default(),
        created_at: NOW,
        deadline: NOW + time::Duration::days(2),
        remind_at: Some(NOW + time::Duration::days(1)),
        escalate_at: Some(NOW + time::Duration::hours(36)),
        escalate_to: Some("coordinator@cert.example.ba".into()),
    }
}

#[track_caller]
fn check_campaign(change: impl FnOnce(&mut Campaign), expected: Expect) {
    let mut bad = campaign();
    change(&mut bad);
    expected.assert_eq(&render_errors(&checks::validate(&bad, NOW)));
}

#[test]
fn a_campaign_needs_its_dates_in_order_and_no_member_twice() {
    check_campaign(|_| {}, expect![""]);
    check_campaign(
        |c| {
            c.deadline = NOW - time::Duration::hours(1);
        },
        expect![[r#"
            deadline: must be in the future
            remind_at: must be before the deadline
            escalate_at: must not be after the deadline
        "#]],
    );
    check_campaign(
        |c| {
            c.remind_at = Some(NOW + time::Duration::hours(40));
            c.deadline = NOW + time::Duration::days(100);
        },
        expect![[r#"
            deadline: must be at most 90 days ahead
            escalate_at: must be after remind_at
        "#]],
    );
    check_campaign(
        |c| {
            c.escalate_to = None;
            c.remind_at = Some(NOW);
        },
        expect![[r#"
            remind_at: must be in the future
            escalate_to: an escalation needs an address
        "#]],
    );
    check_campaign(
        |c| {
            c.escalate_at = None;
            c.name = String::new();
        },
        expect![[r#"
            name: must not be empty
            escalate_at: an escalation address needs escalate_at
        "#]],
    );
    check_campaign(
        |c| {
            c.scope.kinds = vec![PointKind::Cbm8Policy, PointKind::Cbm8Policy];
            c.scope.orgs = vec![Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(1)];
            c.scope.sectors = vec!["energy".into(), "moon".into()];
            c.scope.points = vec![Uuid::from_u128(9), Uuid::from_u128(9)];
        },
        expect![[r#"
            scope.kinds[1]: cbm8-policy is named twice
            scope.orgs[2]: 00000000-0000-0000-0000-000000000001 is named twice
            scope.points[1]: 00000000-0000-0000-0000-000000000009 is named twice
            scope.sectors[1]: unknown NIS2 sector "moon"; known sectors: energy, transport, banking, financial-market-infrastructures, health, drinking-water, waste-water, digital-infrastructure, ict-service-management, public-administration, space, postal-courier, waste-management, chemicals, food, manufacturing, digital-providers, research
        "#]],
    );
}

#[test]
fn a_scope_takes_what_every_list_allows_plus_the_named_points() {
    let points = vec![
        point(PointKind::Cbm8Policy, 1),
        point(PointKind::Cbm8Technical, 2),
        point(PointKind::Sector, 3),
        point(PointKind::Budapest24x7, 4),
    ];
    let ids = |scope: &CheckScope| -> Vec<u128> {
        select(scope, &points, |_| true).unwrap().iter().map(|p| p.org_id.as_u128()).collect()
    };
    assert_eq!(ids(&CheckScope::default()), [1, 2, 3, 4]);
    let cbm8 =
        CheckScope { kinds: vec![PointKind::Cbm8Policy, PointKind::Cbm8Technical], ..Default::default() };
    assert_eq!(ids(&cbm8), [1, 2]);
    let energy = CheckScope { sectors: vec!["energy".into()], ..Default::default() };
    assert_eq!(ids(&energy), [3]);
    let org_two = CheckScope {
        kinds: vec![PointKind::Cbm8Policy],
        orgs: vec![Uuid::from_u128(2)],
        ..Default::default()
    };
    assert!(select(&org_two, &points, |_| true).is_err(), "no policy point of organisation 2");
    let named = CheckScope { points: vec![Uuid::from_u128(1004)], ..Default::default() };
    assert_eq!(ids(&named), [4]);
    let plus = CheckScope {
        kinds: vec![PointKind::Cbm8Policy],
        points: vec![Uuid::from_u128(1004)],
        ..Default::default()
    };
    assert_eq!(ids(&plus), [1, 4]);

    let unknown =
        CheckScope { orgs: vec![Uuid::from_u128(9)], points: vec![Uuid::from_u128(5)], ..Default::default() };
    expect![[r#"
        scope.points[0]: no contact point 00000000-0000-0000-0000-000000000005
        scope.orgs[0]: no organisation 00000000-0000-0000-0000-000000000009
    "#]]
    .assert_eq(&render_errors(&select(&unknown, &points, |id| id.as_u128() < 5).unwrap_err()));
}

#[test]
fn each_target_gets_the_challenge_then_a_reminder_then_an_escalation() {
    let campaign = campaign();
    let mut target = TargetState::default();
    assert_eq!(due(&campaign, &target, NOW), Some(Step::Send));
    target.send_failed = true;
    assert_eq!(due(&campaign, &target, NOW), Some(Step::Send), "a failed sending is tried again");
    target.sent_at = Some(NOW);
    target.send_failed = false;
    assert_eq!(due(&campaign, &target, NOW + time::Duration::hours(23)), None);
    let remind = NOW + time::Duration::days(1);
    assert_eq!(due(&campaign, &target, remind), Some(Step::Remind));
    target.reminded_at = Some(remind);
    assert_eq!(due(&campaign, &target, remind + time::Duration::hours(1)), None);
    let escalate = NOW + time::Duration::hours(36);
    assert_eq!(due(&campaign, &target, escalate), Some(Step::Escalate));
    target.escalated_at = Some(escalate);
    assert_eq!(due(&campaign, &target, escalate), None);
    let silent = TargetState { sent_at: Some(NOW), ..TargetState::default() };
    assert_eq!(due(&campaign, &silent, escalate), Some(Step::Escalate), "escalated without a reminder");
    assert_eq!(due(&campaign, &silent, campaign.deadline), None, "nothing after the deadline");
    let answered = TargetState { sent_at: Some(NOW), acknowledged_at: Some(NOW), ..TargetState::default() };
    assert_eq!(due(&campaign, &answered, escalate), None);
}

#[test]
fn statistics_count_reachability_and_the_median_response() {
    assert_eq!(median(&mut []), None);
    assert_eq!(median(&mut [5.0]), Some(5.0));
    assert_eq!(median(&mut [9.0, 1.0, 5.0]), Some(5.0));
    assert_eq!(median(&mut [4.0, 1.0, 3.0, 10.0]), Some(3.5));
    let at = |minutes: i64| Some(NOW + time::Duration::minutes(minutes));
    let targets = [
        TargetState { sent_at: at(0), acknowledged_at: at(10), ..Default::default() },
        TargetState { sent_at: at(0), acknowledged_at: at(30), reminded_at: at(20), ..Default::default() },
        TargetState { sent_at: at(0), acknowledged_at: at(20), ..Default::default() },
        TargetState { sent_at: at(0), reminded_at: at(20), escalated_at: at(40), ..Default::default() },
        TargetState { send_failed: true, ..Default::default() },
        TargetState { sent_at: at(0), ..Default::default() },
    ];
    let stats = campaign_stats(&targets);
    expect![[r#"
        CampaignStats {
            targets: 6,
            sent: 5,
            send_failed: 1,
            acknowledged: 3,
            reminded: 2,
            escalated: 1,
            reachability_percent: Some(
                50.0,
            ),
            median_response_seconds: Some(
                1200.0,
            ),
        }
    "#]]
    .assert_debug_eq(&stats);
    assert_eq!(campaign_stats(&[]).reachability_percent, None);
    let two_of_three = campaign_stats(&targets[3..]);
    assert_eq!(two_of_three.reachability_percent, Some(0.0));
    assert_eq!(two_of_three.median_response_seconds, None);

    let series = checks::series(vec![
        checks::SeriesPoint {
            campaign: Uuid::from_u128(2),
            name: "=later".into(),
            created_at: NOW + time::Duration::days(30),
            deadline: NOW + time::Duration::days(32),
            stats: two_of_three,
        },
        checks::SeriesPoint {
            campaign: Uuid::from_u128(1),
            name: "first, \"quoted\"".into(),
            created_at: NOW,
            deadline: NOW + time::Duration::days(2),
            stats,
        },
    ]);
    expect![[r#"
        campaign,name,created_at,deadline,targets,sent,send_failed,acknowledged,reminded,escalated,reachability_percent,median_response_seconds
        00000000-0000-0000-0000-000000000001,"first, ""quoted""",2026-11-29T09:00:00Z,2026-12-01T09:00:00Z,6,5,1,3,2,1,50,1200
        00000000-0000-0000-0000-000000000002,'=later,2026-12-29T09:00:00Z,2026-12-31T09:00:00Z,3,2,1,0,1,1,0,
    "#]]
    .assert_eq(&checks::report_csv(&series).replace("\r\n", "\n"));
}

#[test]
fn tokens_are_stored_as_their_hash() {
    let token = "a".repeat(64);
    assert!(checks::is_token_shaped(&token));
    assert!(!checks::is_token_shaped("A".repeat(64).as_str()));
    assert!(!checks::is_token_shaped("abc"));
    assert_eq!(token_hash(&token).len(), 64);
    assert_ne!(token_hash(&token), token);
    assert_eq!(token_hash(&token), token_hash(&token));
}

#[test]
fn challenges_in_every_language() {
    let mut out = String::new();
    for language in Language::ALL {
        for reminder in [false, true] {
            let (subject, body) = check_texts::challenge(
                language,
                &ChallengeInput {
                    cert: "CERT-BIH",
                    campaign: "Q4 {name} check",
                    name: "Dežurni Ljubo",
                    org: "Elektroprivreda",
                    kind: PointKind::Cbm8Technical,
                    link: "https://cert.example.ba/ack/0123",
                    deadline: "2026-12-01 09:00",
                    reminder,
                },
            );
            out.push_str(&format!("== {language} reminder={reminder}\nSubject: {subject}\n\n{body}\n"));
        }
        let (subject, body) = check_texts::escalation(
            language,
            "CERT-BIH",
            "Q4",
            "2026-12-01 09:00",
            &["Duty officer <duty@ep.example.ba> (EP, cbm8-technical)".into()],
        );
        out.push_str(&format!("== {language} escalation\nSubject: {subject}\n\n{body}\n"));
        let page = check_texts::page(
            language,
            &PageInput {
                cert: "CERT-BIH",
                campaign: "Q4",
                name: "Ana",
                org: "EP",
                expires: "2026-12-01 09:00",
            },
        );
        out.push_str(&format!("== {language} page\n{page:#?}\n"));
    }
    expect_file![test_data("checks/texts.txt")].assert_eq(&out);
}

#[test]
fn serbian_cyrillic_keeps_acronyms_and_placeholders() {
    assert_eq!(to_cyrillic("Ljubo i Njegoš, džep, Džemal"), "Љубо и Његош, џеп, Џемал");
    assert_eq!(
        to_cyrillic("rok je {deadline} (UTC), kontakt CERT-a"),
        "рок је {deadline} (UTC), контакт CERT-а"
    );
}
