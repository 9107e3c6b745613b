use neretva_model::Uuid;
use neretva_model::contact::Language;
use neretva_model::tlp::Tlp;
use time::macros::{date, datetime};

use crate::groups::*;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn member(n: u128, email: &str) -> Member {
    Member {
        id: id(100 + n),
        name: format!("Member {n}"),
        email: email.into(),
        org_id: Some(id(1)),
        outside_org: None,
        sector: Some("energy".into()),
        kind: StakeholderKind::Public,
        role: MemberRole::Member,
        language: Language::Bs,
        joined: date!(2026 - 01 - 15),
        gender: None,
        age_band: None,
    }
}

fn group() -> WorkingGroup {
    WorkingGroup {
        id: id(10),
        code: "NWG-ENERGY".into(),
        name: "Energy sub-group".into(),
        description: None,
        parent: Some(id(9)),
        convener_org: id(1),
        sector: Some("energy".into()),
        diversity_goals: Some("At least 40% of either gender".into()),
        members: vec![member(1, "a@ep.example.ba"), member(2, "b@ep.example.ba")],
        meetings: Vec::new(),
        action_items: Vec::new(),
        documents: Vec::new(),
        announcements: Vec::new(),
    }
}

fn meeting() -> Meeting {
    Meeting {
        id: id(200),
        title: "Kick-off".into(),
        starts_at: datetime!(2026-03-02 10:00 UTC),
        ends_at: datetime!(2026-03-02 12:00 UTC),
        place: Some("Sarajevo".into()),
        online_url: None,
        agenda: vec!["Terms of reference".into()],
        minutes: None,
        decisions: Vec::new(),
    }
}

fn fields(problems: &[neretva_model::FieldError]) -> Vec<String> {
    problems.iter().map(|p| format!("{}: {}", p.field, p.message)).collect()
}

#[test]
fn a_valid_group_has_no_problems() {
    let mut group = group();
    group.meetings.push(meeting());
    group.action_items.push(ActionItem {
        id: id(300),
        title: "Draft the terms of reference".into(),
        owner: id(101),
        due: date!(2026 - 04 - 01),
        status: ItemStatus::Open,
        meeting: Some(id(200)),
        strategy: Some(StrategyLink { document: id(400), action: id(401) }),
    });
    assert_eq!(fields(&validate(&group)), Vec::<String>::new());
    assert_eq!(
        strategy_references(&group),
        vec![("action_items[0].strategy".to_owned(), StrategyLink { document: id(400), action: id(401) })]
    );
}

#[test]
fn every_problem_is_reported_with_its_path() {
    let mut group = group();
    group.code = "bad code".into();
    group.sector = Some("mining".into());
    let mut duplicate = member(3, "A@EP.example.ba");
    duplicate.org_id = None;
    group.members.push(duplicate);
    let mut both = member(4, "not-an-address");
    both.outside_org = Some("University of Mostar".into());
    group.members.push(both);
    let mut backwards = meeting();
    backwards.ends_at = datetime!(2026-03-02 09:00 UTC);
    backwards.place = None;
    group.meetings.push(backwards);
    group.action_items.push(ActionItem {
        id: id(300),
        title: "Orphan".into(),
        owner: id(999),
        due: date!(2026 - 03 - 01),
        status: ItemStatus::Open,
        meeting: Some(id(200)),
        strategy: None,
    });
    group.documents.push(SharedDocument {
        id: id(500),
        title: "Contacts".into(),
        tlp: Tlp::Red,
        format: DocumentFormat::Markdown,
        content: "x".into(),
        recipients: Vec::new(),
        added_by: "ana".into(),
        added_at: datetime!(2026-03-02 10:00 UTC),
    });
    let problems = fields(&validate(&group));
    let expected = [
        "code: \"bad code\" must be 1 to 40 letters, digits, '-', '_' or '.'",
        "sector: \"mining\" is not a sector of NIS2 Annex I or II",
        "members[2].org_id: the member's organisation is required: org_id (registry) or outside_org (free text)",
        "members[2].email: \"A@EP.example.ba\" is already a member (members[0])",
        "members[3].outside_org: give either org_id or outside_org, not both",
        "meetings[0].ends_at: the meeting ends before it starts",
        "meetings[0].place: a meeting needs a place, an online_url or both",
        "action_items[0].owner: no member 00000000-0000-0000-0000-0000000003e7 in the group",
        "action_items[0].due: 2026-03-01 is before the meeting that decided it (2026-03-02)",
        "documents[0].recipients: a TLP:RED document needs named recipients (members)",
    ];
    for line in expected {
        assert!(problems.iter().any(|p| p == line), "missing {line:?} in {problems:#?}");
    }
    assert!(problems.iter().any(|p| p.starts_with("members[3].email: ")), "{problems:#?}");
    assert_eq!(problems.len(), expected.len() + 1, "{problems:#?}");
}

#[test]
fn adding_a_member_twice_is_refused_and_changes_nothing() {
    let mut group = group();
    let before = group.clone();
    let error = add_member(&mut group, member(5, " B@ep.example.BA ".trim())).unwrap_err();
    assert_eq!(error.field, "email");
    assert!(error.message.contains("already a member"), "{error}");
    assert_eq!(group, before);
}

#[test]
fn a_member_with_open_items_cannot_be_removed() {
    let mut group = group();
    group.action_items.push(ActionItem {
        id: id(300),
        title: "Report".into(),
        owner: id(101),
        due: date!(2026 - 04 - 01),
        status: ItemStatus::InProgress,
        meeting: None,
        strategy: None,
    });
    assert!(remove_member(&mut group, id(101)).unwrap_err().message.contains("1 open action item"));
    group.action_items[0].status = ItemStatus::Done;
    remove_member(&mut group, id(101)).unwrap();
    assert_eq!(group.members.len(), 1);
    assert!(remove_member(&mut group, id(101)).is_err());
}

#[test]
fn membership_is_by_organisation_or_address() {
    let mut group = group();
    let mut outside = member(3, "prof@unmo.example.ba");
    outside.org_id = None;
    outside.outside_org = Some("University of Mostar".into());
    group.members.push(outside);
    assert!(is_member(&group, id(1), None));
    assert!(is_member(&group, id(77), Some("PROF@unmo.example.ba")));
    assert!(!is_member(&group, id(77), Some("someone@unmo.example.ba")));
    assert!(!is_member(&group, id(77), None));
    assert_eq!(member_orgs(&group), vec![id(1)]);
}

fn counts(cells: &[Cell]) -> Vec<(String, Option<u32>)> {
    cells.iter().map(|cell| (cell.category.clone(), cell.count)).collect()
}

#[test]
fn diversity_never_shows_a_count_below_three() {
    let mut group = group();
    group.members.clear();
    let genders = [Gender::Female, Gender::Female, Gender::Female, Gender::Male, Gender::Male, Gender::Male];
    for (n, gender) in genders.into_iter().enumerate() {
        let mut m = member(n as u128, &format!("m{n}@ep.example.ba"));
        m.gender = Some(gender);
        m.age_band = Some(AgeBand::From35To44);
        group.members.push(m);
    }
    // One member declares "other": alone, it would be identifiable, so it and the next smallest
    // category are hidden.
    let mut other = member(50, "x@ep.example.ba");
    other.gender = Some(Gender::Other);
    other.kind = StakeholderKind::Academia;
    group.members.push(other);
    let result = diversity(&group);
    assert_eq!(result.members, 7);
    assert_eq!(
        counts(&result.by_gender),
        vec![
            ("female".into(), None),
            ("male".into(), Some(3)),
            ("other".into(), None),
            ("not_declared".into(), Some(0)),
        ]
    );
    assert_eq!(
        counts(&result.by_age_band),
        vec![
            ("under_25".into(), Some(0)),
            ("25_34".into(), Some(0)),
            // Hidden too: with the total of 7 known, 6 would give the one undeclared member away.
            ("35_44".into(), None),
            ("45_54".into(), Some(0)),
            ("55_64".into(), Some(0)),
            ("65_plus".into(), Some(0)),
            ("not_declared".into(), None),
        ]
    );
    assert_eq!(counts(&result.by_kind)[2], ("academia".into(), Some(1)));
    assert_eq!(counts(&result.by_sector), vec![("energy".into(), Some(7))]);
}

#[test]
fn diversity_of_a_tiny_group_hides_every_personal_count() {
    let mut group = group();
    group.members[0].gender = Some(Gender::Female);
    let result = diversity(&group);
    // Two members: every non-zero gender cell is 1, so all are hidden.
    assert!(result.by_gender.iter().all(|cell| cell.count.is_none() || cell.count == Some(0)));
    let serialised = serde_json::to_string(&result).unwrap();
    assert!(!serialised.contains("a@ep.example.ba"));
}

#[test]
fn announcements_are_framed_in_every_language() {
    let group = group();
    let mut seen = std::collections::HashSet::new();
    for language in Language::ALL {
        let (subject, body) =
            announcement_text(&group, language, Tlp::Green, "Next meeting", "See you\r\non Monday.", "CERT");
        assert!(subject.starts_with("[TLP:GREEN] [NWG-ENERGY] "), "{subject}");
        assert!(subject.ends_with(": Next meeting"), "{subject}");
        assert!(body.starts_with("TLP:GREEN\n\n"), "{body}");
        assert!(body.contains("See you\non Monday."), "{body}");
        assert!(body.contains("Energy sub-group") && body.contains("(NWG-ENERGY)") && body.contains("CERT"));
        assert!(!body.contains('{'), "{body}");
        assert!(seen.insert(framing(language).label), "{language} repeats another language's label");
    }
    let (_, cyrillic) = announcement_text(&group, Language::SrCyrl, Tlp::Green, "s", "b", "CERT");
    assert!(cyrillic.contains("Члановима радне групе"), "{cyrillic}");
}

#[test]
fn a_group_round_trips_through_json() {
    let mut group = group();
    group.members[0].gender = Some(Gender::Other);
    group.members[0].age_band = Some(AgeBand::From65);
    group.meetings.push(meeting());
    let json = serde_json::to_value(&group).unwrap();
    assert_eq!(json["members"][0]["age_band"], "65_plus");
    assert_eq!(json["members"][0]["language"], "bs");
    let back: WorkingGroup = serde_json::from_value(json).unwrap();
    assert_eq!(back, group);
}
