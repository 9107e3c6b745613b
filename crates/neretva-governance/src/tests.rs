//! Data-driven tests of validation, changes, views and the report.

use std::collections::BTreeMap;

use expect_test::{Expect, expect};
use neretva_model::Uuid;
use neretva_model::contact::Language;
use neretva_model::org::AuthorityLevels;
use time::macros::{date, datetime};

use crate::defaults::guidelines;
use crate::report;
use crate::strategy::{
    Action, ActionPatch, ActionStatus, EvidenceLink, Kpi, Measure, MeasureDraft, Measurement, add_action,
    add_measure, changed_since, overdue, progress_by_level, progress_by_objective, record_measurement,
    stamp_changes, update_action, validate,
};

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn action(n: u128, level: &str) -> Action {
    Action {
        id: id(n),
        title: format!("Action {n}"),
        description: None,
        owner_org: id(900),
        authority_level: level.into(),
        responsible_contacts: vec![id(800)],
        start: date!(2026 - 01 - 01),
        due: date!(2026 - 06 - 30),
        status: ActionStatus::Planned,
        progress: 0,
        kpis: vec![Kpi {
            code: "laws".into(),
            name: "Laws adopted".into(),
            unit: Some("laws".into()),
            baseline: Some(0.0),
            target: 4.0,
            measurements: Vec::new(),
        }],
        evidence: Vec::new(),
        tags: vec!["nis2-7:a".into()],
        updated_at: datetime!(2026-01-01 0:00 UTC),
    }
}

/// The Guidelines with measure A.1 holding one action at the State level and one in Republika
/// Srpska.
fn sample() -> crate::strategy::StrategyDocument {
    let mut document = guidelines(id(1), id(900));
    document.objectives[0].measures.push(Measure {
        code: "A.1".into(),
        title: "Harmonise legislation with NIS2".into(),
        description: None,
        tags: vec!["nis2-7:b".into()],
        actions: vec![action(10, "State"), action(11, "Republika Srpska")],
    });
    document
}

#[track_caller]
fn check_errors(change: impl FnOnce(&mut crate::strategy::StrategyDocument), expected: Expect) {
    let mut document = sample();
    change(&mut document);
    let errors = validate(&document, &AuthorityLevels::default());
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    expected.assert_eq(&text.join("\n"));
}

fn first_action(document: &mut crate::strategy::StrategyDocument) -> &mut Action {
    &mut document.objectives[0].measures[0].actions[0]
}

#[test]
fn the_defaults_and_the_sample_are_valid() {
    check_errors(|_| {}, expect![""]);
    let document = guidelines(id(1), id(2));
    let codes: Vec<&str> = document.objectives.iter().map(|o| o.code.as_str()).collect();
    assert_eq!(codes, ["A", "B", "C", "D", "E", "F", "G", "H", "I"]);
}

#[test]
fn validation_names_every_bad_field() {
    check_errors(
        |d| {
            let action = first_action(d);
            action.due = date!(2025 - 12 - 31);
        },
        expect!["objectives[0].measures[0].actions[0].due: 2025-12-31 is before the start 2026-01-01"],
    );
    check_errors(
        |d| {
            let action = first_action(d);
            action.status = ActionStatus::Done;
            action.progress = 80;
        },
        expect!["objectives[0].measures[0].actions[0].progress: a done action has progress 100"],
    );
    check_errors(
        |d| first_action(d).progress = 101,
        expect!["objectives[0].measures[0].actions[0].progress: must be 0 to 100, got 101"],
    );
    check_errors(
        |d| first_action(d).authority_level = "Canton".into(),
        expect![[
            r#"objectives[0].measures[0].actions[0].authority_level: unknown level of authority "Canton"; configured: State, Federation of BiH, Republika Srpska, Brčko District"#
        ]],
    );
    check_errors(
        |d| first_action(d).responsible_contacts.push(id(800)),
        expect![
            "objectives[0].measures[0].actions[0].responsible_contacts[1]: duplicate contact 00000000-0000-0000-0000-000000000320"
        ],
    );
    check_errors(
        |d| {
            let second = d.objectives[0].measures[0].actions[0].clone();
            d.objectives[0].measures[0].actions.push(second);
        },
        expect![
            "objectives[0].measures[0].actions[2].id: duplicate action 00000000-0000-0000-0000-00000000000a"
        ],
    );
    check_errors(
        |d| {
            d.objectives[1].code = "A".into();
            d.objectives[2].tags = vec!["enisa:16".into(), "gdpr:33".into(), "gdpr:33".into()];
        },
        expect![[r#"
            objectives[1].code: duplicate objective "A"
            objectives[2].tags[0]: "16" is not an item of enisa
            objectives[2].tags[2]: duplicate tag "gdpr:33""#]],
    );
    check_errors(
        |d| {
            let measure = d.objectives[0].measures[0].clone();
            d.objectives[1].measures.push(Measure { actions: Vec::new(), ..measure });
        },
        expect![[r#"objectives[1].measures[0].code: duplicate measure "A.1""#]],
    );
    check_errors(
        |d| {
            let action = first_action(d);
            action.evidence = vec![
                EvidenceLink { title: "Act".into(), url: "ftp://example.org/act".into() },
                EvidenceLink { title: " ".into(), url: "https://example.org/act".into() },
            ];
            action.kpis[0].target = f64::NAN;
            action.kpis[0].measurements = vec![
                Measurement { date: date!(2026 - 03 - 01), value: 1.0, note: None },
                Measurement { date: date!(2026 - 03 - 01), value: 2.0, note: None },
            ];
        },
        expect![[r#"
            objectives[0].measures[0].actions[0].evidence[0].url: "ftp://example.org/act" is not an http or https URL
            objectives[0].measures[0].actions[0].evidence[1].title: must not be empty
            objectives[0].measures[0].actions[0].kpis[0].target: must be a finite number
            objectives[0].measures[0].actions[0].kpis[0].measurements[1].date: 2026-03-01 is not after the previous measurement's date"#]],
    );
    check_errors(
        |d| {
            d.code = "bad code".into();
            d.authority_level = Some("Nowhere".into());
        },
        expect![[r#"
            code: "bad code" must be 1 to 40 letters, digits, '-', '_' or '.'
            authority_level: unknown level of authority "Nowhere"; configured: State, Federation of BiH, Republika Srpska, Brčko District"#]],
    );
}

#[test]
fn changes_find_their_target_or_name_it() {
    let mut document = sample();
    let now = datetime!(2026-03-01 10:00 UTC);
    let draft = MeasureDraft {
        code: "B.1".into(),
        title: "Register operators".into(),
        description: None,
        tags: vec![],
    };
    assert_eq!(
        add_measure(&mut document, "Z", draft.clone()).unwrap_err().to_string(),
        "objective: no objective \"Z\" in the document"
    );
    add_measure(&mut document, "B", draft).unwrap();
    assert_eq!(add_action(&mut document, "B.9", action(20, "State"), now).unwrap_err().field, "measure");
    add_action(&mut document, "B.1", action(20, "Brčko District"), now).unwrap();
    assert_eq!(document.objectives[1].measures[0].actions[0].updated_at, now);

    let patch = ActionPatch { status: Some(ActionStatus::Done), ..ActionPatch::default() };
    update_action(&mut document, id(11), patch, now).unwrap();
    let done = crate::strategy::action(&document, id(11)).unwrap();
    assert_eq!((done.status, done.progress, done.updated_at), (ActionStatus::Done, 100, now));
    assert_eq!(
        update_action(&mut document, id(99), ActionPatch::default(), now).unwrap_err().field,
        "action"
    );

    let later = datetime!(2026-04-01 10:00 UTC);
    for (day, value) in
        [(date!(2026 - 03 - 31), 2.0), (date!(2026 - 02 - 28), 1.0), (date!(2026 - 03 - 31), 3.0)]
    {
        record_measurement(
            &mut document,
            id(10),
            "laws",
            Measurement { date: day, value, note: None },
            later,
        )
        .unwrap();
    }
    let kpi = &crate::strategy::action(&document, id(10)).unwrap().kpis[0];
    let values: Vec<(String, f64)> = kpi.measurements.iter().map(|m| (m.date.to_string(), m.value)).collect();
    assert_eq!(values, [("2026-02-28".to_owned(), 1.0), ("2026-03-31".to_owned(), 3.0)]);
    assert_eq!(crate::strategy::kpi_attainment(kpi), Some(75.0));
    let missing = Measurement { date: date!(2026 - 04 - 01), value: 1.0, note: None };
    assert_eq!(record_measurement(&mut document, id(10), "nope", missing, later).unwrap_err().field, "kpi");
    assert!(validate(&document, &AuthorityLevels::default()).is_empty());

    let changed: Vec<Uuid> =
        changed_since(&document, now, date!(2026 - 04 - 01)).iter().map(|v| v.action.id).collect();
    assert_eq!(changed, [id(10), id(11), id(20)]);
    let changed: Vec<Uuid> =
        changed_since(&document, later, date!(2026 - 04 - 01)).iter().map(|v| v.action.id).collect();
    assert_eq!(changed, [id(10)]);
}

#[test]
fn progress_views_and_overdue() {
    let mut document = sample();
    let now = datetime!(2026-07-02 9:00 UTC);
    update_action(
        &mut document,
        id(11),
        ActionPatch { progress: Some(50), status: Some(ActionStatus::InProgress), ..ActionPatch::default() },
        now,
    )
    .unwrap();
    let today = date!(2026 - 07 - 01);
    let by_objective = progress_by_objective(&document, today);
    let a = &by_objective[0];
    assert_eq!((a.key.as_str(), a.actions, a.overdue, a.progress), ("A", 2, 2, Some(25.0)));
    assert_eq!(by_objective[1].progress, None);
    let by_level: Vec<(String, u32, Option<f64>)> =
        progress_by_level(&document, &AuthorityLevels::default(), today)
            .into_iter()
            .map(|p| (p.key, p.actions, p.progress))
            .collect();
    assert_eq!(
        by_level,
        [
            ("State".to_owned(), 1, Some(0.0)),
            ("Federation of BiH".to_owned(), 0, None),
            ("Republika Srpska".to_owned(), 1, Some(50.0)),
            ("Brčko District".to_owned(), 0, None),
        ]
    );
    // Due on 30 June: not overdue on that day, overdue the day after; done or cancelled never.
    assert!(overdue(&document, date!(2026 - 06 - 30)).is_empty());
    assert_eq!(overdue(&document, today).len(), 2);
    update_action(
        &mut document,
        id(10),
        ActionPatch { status: Some(ActionStatus::Cancelled), ..ActionPatch::default() },
        now,
    )
    .unwrap();
    let left: Vec<Uuid> = overdue(&document, today).iter().map(|v| v.action.id).collect();
    assert_eq!(left, [id(11)]);
    // A cancelled action does not count towards progress.
    assert_eq!(progress_by_objective(&document, today)[0].progress, Some(50.0));
}

#[test]
fn the_report_in_three_formats() {
    let mut document = sample();
    let now = datetime!(2026-03-01 10:00 UTC);
    let first = first_action(&mut document);
    first.title = "=HYPERLINK(\"x\") <b>".into();
    first
        .evidence
        .push(EvidenceLink { title: "Draft law".into(), url: "https://example.org/law?a=1&b=2".into() });
    record_measurement(
        &mut document,
        id(10),
        "laws",
        Measurement { date: date!(2026 - 02 - 27), value: 1.0, note: None },
        now,
    )
    .unwrap();
    let names = BTreeMap::from([(id(900), "Ministry of Security".to_owned())]);
    let built = report::build(&document, &AuthorityLevels::default(), &names, date!(2026 - 07 - 01));
    assert_eq!(built.total.actions, 2);
    assert_eq!(built.actions[0].kpis[0].attainment, Some(25.0));

    let csv = report::to_csv(&built);
    expect![[r#"
        objective,measure,action_id,action,owner,authority_level,start,due,status,progress,overdue,kpis,evidence,tags
        A,A.1,00000000-0000-0000-0000-00000000000a,"'=HYPERLINK(""x"") <b>",Ministry of Security,State,2026-01-01,2026-06-30,planned,0,yes,laws: 1 laws on 2026-02-27 of 4 laws,https://example.org/law?a=1&b=2,NIS2 Art. 7(1)(a) objectives and priorities
        A,A.1,00000000-0000-0000-0000-00000000000b,Action 11,Ministry of Security,Republika Srpska,2026-01-01,2026-06-30,planned,0,yes,laws: no measurement of 4 laws,,NIS2 Art. 7(1)(a) objectives and priorities
    "#]]
    .assert_eq(&csv.replace("\r\n", "\n"));

    let html = report::to_html(&built, Language::En);
    assert!(html.contains("=HYPERLINK(&quot;x&quot;) &lt;b&gt;"), "{html}");
    assert!(!html.contains("<b>"), "{html}");
    assert!(html.contains("<a href=\"https://example.org/law?a=1&amp;b=2\">"), "{html}");
    assert!(html.contains("<tr><td>A A systematic approach"), "{html}");
    assert!(html.contains("<tr><td>Republika Srpska</td><td>1</td>"), "{html}");

    let json: serde_json::Value = serde_json::from_str(&report::to_json(&built)).unwrap();
    assert_eq!(json["document"], "BIH-SCF-2019");
    assert_eq!(json["by_objective"].as_array().unwrap().len(), 9);
    assert_eq!(json["actions"][0]["overdue"], true);
    assert_eq!(json["total"]["by_status"]["planned"], 2);
}

#[test]
fn the_html_report_speaks_every_language() {
    let mut document = sample();
    record_measurement(
        &mut document,
        id(10),
        "laws",
        Measurement { date: date!(2026 - 02 - 27), value: 1.0, note: None },
        datetime!(2026-03-01 10:00 UTC),
    )
    .unwrap();
    let names = BTreeMap::from([(id(900), "Ministry of Security".to_owned())]);
    let built = report::build(&document, &AuthorityLevels::default(), &names, date!(2026 - 07 - 01));
    for language in Language::ALL {
        let html = report::to_html(&built, language);
        assert!(html.contains(&format!("<html lang=\"{}\">", language.tag())), "{html}");
        if language != Language::En {
            for english in
                ["Implementation report", "Progress by", "<th>Owner</th>", "(overdue)", "no measurement"]
            {
                assert!(!html.contains(english), "{language}: {english:?} left in English:\n{html}");
            }
        }
    }
    let cyrillic = report::to_html(&built, Language::SrCyrl);
    let actions = cyrillic.split("<h2>Активности</h2>").nth(1).unwrap();
    expect![[r#"

        <table>
        <tr><th>Циљ</th><th>Мера</th><th>Активност</th><th>Носилац</th><th>Ниво</th><th>Почетак</th><th>Рок</th><th>Статус</th><th>Напредак</th><th>Показатељи</th><th>Докази</th><th>Ознаке</th></tr>
        <tr class="overdue"><td>A</td><td>A.1</td><td>Action 10</td><td>Ministry of Security</td><td>State</td><td>2026-01-01</td><td>2026-06-30</td><td>планирано (рок прекорачен)</td><td>0%</td><td>laws: 1 laws на дан 2026-02-27, циљна вредност 4 laws</td><td></td><td>NIS2 Art. 7(1)(a) objectives and priorities</td></tr>
        <tr class="overdue"><td>A</td><td>A.1</td><td>Action 11</td><td>Ministry of Security</td><td>Republika Srpska</td><td>2026-01-01</td><td>2026-06-30</td><td>планирано (рок прекорачен)</td><td>0%</td><td>laws: без мерења, циљна вредност 4 laws</td><td></td><td>NIS2 Art. 7(1)(a) objectives and priorities</td></tr>
        </table>
        </body>
        </html>
    "#]]
    .assert_eq(actions);
}

#[test]
fn documents_round_trip_as_json_and_reject_unknown_fields() {
    let document = sample();
    let text = serde_json::to_string(&document).unwrap();
    assert!(text.contains("\"start\":\"2026-01-01\""), "{text}");
    assert!(text.contains("\"status\":\"planned\""), "{text}");
    let back: crate::strategy::StrategyDocument = serde_json::from_str(&text).unwrap();
    assert_eq!(back, document);
    let bad = text.replacen("\"title\"", "\"titel\":\"x\",\"title\"", 1);
    let error = serde_json::from_str::<crate::strategy::StrategyDocument>(&bad).unwrap_err();
    assert!(error.to_string().contains("unknown field `titel`"), "{error}");
}

#[test]
fn replacing_a_document_stamps_only_what_changed() {
    let old = sample();
    let mut new = old.clone();
    let now = datetime!(2026-05-01 8:00 UTC);
    new.objectives[0].measures[0].actions[1].progress = 40;
    new.objectives[0].measures[0].actions.push(action(12, "State"));
    // A caller cannot back-date a change: the stamp is the server's.
    new.objectives[0].measures[0].actions[0].updated_at = datetime!(2030-01-01 0:00 UTC);
    stamp_changes(&old, &mut new, now);
    let stamps: Vec<_> = new.objectives[0].measures[0].actions.iter().map(|a| a.updated_at).collect();
    assert_eq!(stamps, [datetime!(2026-01-01 0:00 UTC), now, now]);
}
