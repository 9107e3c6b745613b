//! Tests of preservation requests under Budapest Convention Art. 29.

use expect_test::expect;
use neretva_model::{FieldError, Uuid};
use time::macros::date;

use crate::preservation::{
    self, Direction, NewRequest, PreservationRequest, Status, due_reminders, extend, follow_up, preserve,
    release,
};

fn request(n: u128, reference: &str) -> PreservationRequest {
    PreservationRequest::new(
        Uuid::from_u128(n),
        NewRequest {
            reference: reference.into(),
            direction: Direction::Received,
            requesting_authority: "Landeskriminalamt, Cybercrime unit".into(),
            requesting_party: "Germany".into(),
            offence: "computer-related fraud (Art. 8)".into(),
            facts: "phishing site hosted in BiH collected bank credentials".into(),
            data_sought: "subscriber and traffic data for 192.0.2.10, 2026-01-01 to 2026-02-01".into(),
            relation_to_offence: "the address hosted the phishing site".into(),
            custodian: "Example ISP d.o.o., Sarajevo".into(),
            custodian_org: None,
            necessity: "the provider keeps traffic data for 90 days".into(),
            mla_intended: true,
            received_on: date!(2026 - 02 - 03),
            notes: None,
        },
    )
}

fn render(errors: &[FieldError]) -> String {
    errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("\n")
}

#[test]
fn a_request_needs_every_field_of_article_29_2() {
    assert!(preservation::validate(&request(1, "DE-2026/17")).is_empty());
    let mut bad = request(1, "DE 2026 <17>");
    bad.offence = String::new();
    bad.necessity = " ".into();
    bad.mla_intended = false;
    bad.preserved_on = Some(date!(2026 - 02 - 01));
    bad.expires_on = Some(date!(2026 - 03 - 01));
    expect![[r#"
        reference: only letters, digits and - _ . / are allowed
        offence: must not be empty
        necessity: must not be empty
        mla_intended: an Art. 29 request states that a mutual-assistance request will follow (Art. 29(2)(f))
        preserved_on: 2026-02-01 is before received_on (2026-02-03)
        expires_on: 2026-03-01 is less than 60 days after preservation (2026-02-01; Art. 29(7))"#]]
    .assert_eq(&render(&preservation::validate(&bad)));
}

#[test]
fn the_life_of_a_request() {
    let mut r = request(1, "DE-2026/17");
    assert_eq!(r.status, Status::Received);
    let wrong = [
        preserve(&mut r.clone(), date!(2026 - 02 - 02), None).unwrap_err(),
        preserve(&mut r.clone(), date!(2026 - 02 - 04), Some(date!(2026 - 04 - 04))).unwrap_err(),
        extend(&mut r.clone(), date!(2026 - 02 - 04), date!(2026 - 06 - 01), None).unwrap_err(),
    ];
    expect![[r#"
        preserved_on: 2026-02-02 is before the request was received (2026-02-03)
        until: 2026-04-04 is less than 60 days after preservation (at least 2026-04-05; Art. 29(7))
        status: a received request cannot be extended"#]]
    .assert_eq(&render(&wrong));

    preserve(&mut r, date!(2026 - 02 - 04), None).unwrap();
    assert_eq!((r.status, r.expires_on), (Status::Preserved, Some(date!(2026 - 04 - 05))));
    assert_eq!(r.status_on(date!(2026 - 04 - 05)), Status::Preserved);
    assert_eq!(r.status_on(date!(2026 - 04 - 06)), Status::Expired);

    let wrong = [
        extend(&mut r.clone(), date!(2026 - 04 - 06), date!(2026 - 06 - 01), None).unwrap_err(),
        extend(&mut r.clone(), date!(2026 - 03 - 01), date!(2026 - 04 - 05), None).unwrap_err(),
        follow_up(&mut r.clone(), "MLA-1".into(), date!(2026 - 04 - 06)).unwrap_err(),
    ];
    expect![[r#"
        requested_on: 2026-04-06 is after the expiry (2026-04-05); an expired preservation cannot be extended
        until: 2026-04-05 is not after the current expiry (2026-04-05)
        mla_received_on: 2026-04-06 is after the preservation expired (2026-04-05)"#]]
    .assert_eq(&render(&wrong));

    extend(&mut r, date!(2026 - 03 - 20), date!(2026 - 06 - 04), Some("MLA request being drafted".into()))
        .unwrap();
    assert_eq!(
        (r.status, r.expires_on, r.extensions.len()),
        (Status::Extended, Some(date!(2026 - 06 - 04)), 1)
    );
    follow_up(&mut r, "MLA-DE-2026-4".into(), date!(2026 - 05 - 02)).unwrap();
    assert_eq!(r.status, Status::FollowedUp);
    assert_eq!(r.status_on(date!(2027 - 01 - 01)), Status::FollowedUp, "held until the MLA decision");
    assert_eq!(r.days_left(date!(2026 - 05 - 03)), None);
    assert!(preservation::validate(&r).is_empty());
    assert_eq!(release(&mut r.clone(), date!(2026 - 05 - 01)).unwrap_err().field, "released_on");
    release(&mut r, date!(2026 - 09 - 01)).unwrap();
    assert_eq!(r.status, Status::Released);
    assert_eq!(release(&mut r, date!(2026 - 09 - 02)).unwrap_err().field, "status");
}

#[test]
fn reminders_come_at_the_configured_leads() {
    let held = |n: u128, preserved| {
        let mut r = request(n, &format!("R-{n}"));
        r.received_on = preserved;
        preserve(&mut r, preserved, None).unwrap();
        r
    };
    // Expiries: 2026-04-05 (+60 from 02-04), 2026-04-15, 2026-05-01, 2026-03-31 (expired on 04-01).
    let requests = [
        held(1, date!(2026 - 02 - 04)),
        held(2, date!(2026 - 02 - 14)),
        held(3, date!(2026 - 03 - 02)),
        held(4, date!(2026 - 01 - 30)),
        request(5, "R-5"),
    ];
    let due = due_reminders(&requests, date!(2026 - 04 - 02), &[14, 3]);
    let summary: Vec<String> =
        due.iter().map(|r| format!("{} {} {} {}", r.reference, r.expires_on, r.days_left, r.lead)).collect();
    expect![[r#"
        R-1 2026-04-05 3 3
        R-2 2026-04-15 13 14"#]]
    .assert_eq(&summary.join("\n"));
    assert!(due_reminders(&requests, date!(2026 - 04 - 02), &[]).is_empty());
}

#[test]
fn requests_round_trip_as_json_and_reject_unknown_fields() {
    let mut r = request(1, "DE-2026/17");
    preserve(&mut r, date!(2026 - 02 - 04), None).unwrap();
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["status"], "preserved");
    assert_eq!(json["expires_on"], "2026-04-05");
    assert_eq!(serde_json::from_value::<PreservationRequest>(json.clone()).unwrap(), r);
    let mut extra = json;
    extra["secret"] = serde_json::json!(1);
    assert!(serde_json::from_value::<PreservationRequest>(extra).is_err());
}
