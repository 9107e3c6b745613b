//! Tests of the maturity self-assessments and their charts.

use expect_test::{expect, expect_file};
use neretva_model::Uuid;
use neretva_model::contact::Language;
use time::macros::date;

use crate::maturity::{
    self, Assessment, Change, Framework, NIS2_AREAS, SIM3_PARAMETERS, Tier, compare, enisa_tier, set_score,
};
use crate::svg;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// A SIM3 assessment with every parameter at `level`, then the `overrides`.
fn sim3(n: u128, day: time::Date, level: u8, overrides: &[(&str, u8)]) -> Assessment {
    let mut assessment = Assessment::new(id(n), id(100), Framework::Sim3, format!("SIM3 {day}"), day);
    for parameter in SIM3_PARAMETERS {
        set_score(&mut assessment, parameter.id, level, None).unwrap();
    }
    for (parameter, level) in overrides {
        set_score(&mut assessment, parameter, *level, Some(format!("evidence for {parameter}"))).unwrap();
    }
    assessment
}

#[test]
fn the_catalogues_are_complete() {
    assert_eq!(SIM3_PARAMETERS.len(), 45, "the 44 of v1 and O-6 of v2");
    for (category, count) in [("O", 11), ("H", 7), ("T", 10), ("P", 17)] {
        assert_eq!(SIM3_PARAMETERS.iter().filter(|p| p.category == category).count(), count, "{category}");
    }
    let ids: std::collections::HashSet<&str> = SIM3_PARAMETERS.iter().map(|p| p.id).collect();
    assert_eq!(ids.len(), 45);
    assert!(ids.contains("O-6"));
    assert_eq!(NIS2_AREAS.iter().map(|a| a.id).collect::<String>(), "abcdefghij");
}

#[test]
fn scores_keep_catalogue_order_and_refuse_bad_input() {
    let mut assessment =
        Assessment::new(id(1), id(100), Framework::Sim3, "first".into(), date!(2026 - 01 - 10));
    set_score(&mut assessment, "P-17", 2, None).unwrap();
    set_score(&mut assessment, "O-1", 3, Some("mandate signed by the minister".into())).unwrap();
    set_score(&mut assessment, "H-2", 1, None).unwrap();
    set_score(&mut assessment, "O-1", 4, None).unwrap();
    let order: Vec<(&str, u8)> = assessment.scores.iter().map(|s| (s.parameter.as_str(), s.level)).collect();
    assert_eq!(order, [("O-1", 4), ("H-2", 1), ("P-17", 2)]);
    let errors = [
        set_score(&mut assessment, "X-1", 1, None).unwrap_err(),
        set_score(&mut assessment, "a", 1, None).unwrap_err(),
        set_score(&mut assessment, "O-2", 5, None).unwrap_err(),
        set_score(&mut assessment, "O-2", 1, Some(" ".into())).unwrap_err(),
    ];
    expect![[r#"
        parameter: "X-1" is not a sim3 parameter
        parameter: "a" is not a sim3 parameter
        O-2.level: 5 is not on the 0–4 scale
        O-2.evidence: must not be empty"#]]
    .assert_eq(&errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("\n"));
    assert_eq!(assessment.scores.len(), 3, "nothing half-written");
}

#[test]
fn validation_names_every_problem() {
    let mut assessment = sim3(1, date!(2026 - 01 - 10), 2, &[]);
    assessment.title = String::new();
    assessment.scores[1].parameter = "O-1".into();
    assessment.scores[3].level = 9;
    assessment.scores.push(maturity::Score { parameter: "Z-9".into(), level: 1, evidence: None });
    let problems = maturity::validate(&assessment);
    expect![[r#"
        title: must not be empty
        scores[1].parameter: O-1 is listed twice or out of catalogue order
        scores[3].level: 9 is not on the 0–4 scale
        scores[45].parameter: "Z-9" is not a sim3 parameter"#]]
    .assert_eq(
        &problems.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("\n"),
    );
    assert!(maturity::validate(&sim3(2, date!(2026 - 01 - 10), 4, &[])).is_empty());
}

#[test]
fn enisa_tiers_follow_the_weakest_parameter() {
    let day = date!(2026 - 03 - 01);
    assert_eq!(enisa_tier(&sim3(1, day, 3, &[])), Some(Tier::Advanced));
    assert_eq!(enisa_tier(&sim3(1, day, 4, &[("T-5", 2)])), Some(Tier::Intermediate));
    assert_eq!(enisa_tier(&sim3(1, day, 3, &[("P-16", 1)])), Some(Tier::Basic));
    assert_eq!(enisa_tier(&sim3(1, day, 4, &[("O-6", 0)])), None);
    let mut partial = sim3(1, day, 4, &[]);
    partial.scores.retain(|score| score.parameter != "H-7");
    assert_eq!(enisa_tier(&partial), None, "an unscored parameter reaches no tier");
    let nis2 = Assessment::new(id(2), id(100), Framework::Nis2, "NIS2".into(), day);
    assert_eq!(enisa_tier(&nis2), None);
}

#[test]
fn two_assessments_compare_parameter_by_parameter() {
    let before = sim3(1, date!(2025 - 06 - 01), 2, &[("O-1", 1), ("T-4", 3)]);
    let mut after = sim3(2, date!(2026 - 06 - 01), 2, &[("O-1", 3), ("T-4", 2)]);
    after.scores.retain(|score| score.parameter != "P-17");
    let comparison = compare(&before, &after).unwrap();
    assert_eq!((comparison.improved, comparison.regressed, comparison.unchanged), (1, 1, 42));
    let row = |id: &str| comparison.rows.iter().find(|row| row.parameter == id).unwrap();
    assert_eq!((row("O-1").before, row("O-1").after, row("O-1").delta), (Some(1), Some(3), Some(2)));
    assert_eq!(row("O-1").change, Change::Improved);
    assert_eq!((row("T-4").delta, row("T-4").change), (Some(-1), Change::Regressed));
    assert_eq!((row("P-17").after, row("P-17").change), (None, Change::Unscored));
    assert_eq!(comparison.tier_before, Some(Tier::Basic));
    assert_eq!(comparison.tier_after, None);
    let nis2 = Assessment::new(id(3), id(100), Framework::Nis2, "NIS2".into(), date!(2026 - 06 - 01));
    assert_eq!(compare(&before, &nis2).unwrap_err().field, "framework");
}

#[test]
fn history_and_sector_aggregates() {
    let older = sim3(2, date!(2025 - 06 - 01), 1, &[]);
    let newer = sim3(1, date!(2026 - 06 - 01), 2, &[]);
    let other = sim3(3, date!(2024 - 06 - 01), 2, &[]);
    let other = Assessment { org_id: id(101), ..other };
    let all = [newer.clone(), other, older.clone()];
    let history = maturity::history(&all, id(100), Framework::Sim3);
    assert_eq!(history.iter().map(|a| a.id).collect::<Vec<_>>(), [older.id, newer.id]);

    let nis2 = |n: u128, org: u128, day, levels: &[(&str, u8)]| {
        let mut a = Assessment::new(id(n), id(org), Framework::Nis2, "NIS2".into(), day);
        for (area, level) in levels {
            set_score(&mut a, area, *level, None).unwrap();
        }
        a
    };
    let assessments = [
        nis2(10, 200, date!(2025 - 01 - 01), &[("a", 0), ("b", 0)]),
        nis2(11, 200, date!(2026 - 01 - 01), &[("a", 2), ("b", 4)]),
        nis2(12, 201, date!(2026 - 02 - 01), &[("a", 3)]),
        nis2(13, 202, date!(2026 - 02 - 01), &[("a", 4), ("b", 1)]),
        nis2(14, 300, date!(2026 - 02 - 01), &[("a", 1)]),
        nis2(15, 400, date!(2026 - 02 - 01), &[("a", 1)]),
        newer,
    ];
    let sector = |org: Uuid| match org.as_u128() {
        200..=299 => Some("energy".to_owned()),
        300..=399 => Some("health".to_owned()),
        _ => None,
    };
    let aggregates = maturity::sector_aggregates(&assessments, sector);
    let summary: Vec<String> = aggregates
        .iter()
        .map(|aggregate| {
            let areas: Vec<String> = aggregate
                .areas
                .iter()
                .filter(|area| area.scored > 0)
                .map(|area| {
                    format!("{}: n={} mean={:?} median={:?}", area.area, area.scored, area.mean, area.median)
                })
                .collect();
            format!("{} ({}): {}", aggregate.sector, aggregate.organisations, areas.join("; "))
        })
        .collect();
    expect![[r#"
        energy (3): a: n=3 mean=Some(3.0) median=Some(3.0); b: n=2 mean=Some(2.5) median=Some(2.5)
        health (1): a: n=1 mean=Some(1.0) median=Some(1.0)"#]]
    .assert_eq(&summary.join("\n"));
}

#[test]
fn charts_match_their_expected_files() {
    let before = sim3(1, date!(2025 - 06 - 01), 1, &[("O-1", 2), ("T-4", 3), ("P-6", 2)]);
    let after = sim3(2, date!(2026 - 06 - 01), 2, &[("O-1", 4), ("T-4", 3), ("H-7", 1)]);
    let radar = svg::assessment_radar("CERT <BiH> & \"friends\"", Framework::Sim3, &[&before, &after]);
    expect_file!["../test_data/svg/sim3_radar.svg"].assert_eq(&radar);
    let trend = svg::assessment_trend("SIM3 trend", Framework::Sim3, &[&before, &after], Language::En);
    expect_file!["../test_data/svg/sim3_trend.svg"].assert_eq(&trend);
    let trend = svg::assessment_trend("SIM3 <тренд>", Framework::Sim3, &[&before, &after], Language::SrCyrl);
    expect_file!["../test_data/svg/sim3_trend_sr_cyrl.svg"].assert_eq(&trend);

    let mut nis2 = Assessment::new(
        id(3),
        id(100),
        Framework::Nis2,
        "Art. 21 'self' check".into(),
        date!(2026 - 02 - 01),
    );
    for (area, level) in [("a", 2), ("b", 3), ("c", 1), ("g", 4), ("j", 0)] {
        set_score(&mut nis2, area, level, None).unwrap();
    }
    let radar = svg::assessment_radar("NIS2 Art. 21", Framework::Nis2, &[&nis2]);
    expect_file!["../test_data/svg/nis2_radar.svg"].assert_eq(&radar);
    let gaps = svg::trend(
        "gaps\u{0}",
        &["2024".into(), "2025".into(), "2026".into()],
        &[svg::TrendSeries { name: "x".into(), values: vec![Some(1.0), None, Some(3.5)] }],
    );
    expect_file!["../test_data/svg/trend_with_gap.svg"].assert_eq(&gaps);
}

#[test]
fn chart_text_is_escaped() {
    assert_eq!(svg::xml_text("<a href='x'>&\u{1}\n"), "&lt;a href=&#39;x&#39;&gt;&amp;\n");
    let radar = svg::radar("<script>", &["<b>", "c", "d"], &[]);
    assert!(!radar.contains("<script>") && !radar.contains("<b>"));
    assert!(radar.contains("&lt;script&gt;"));
}

#[test]
fn trend_words_exist_in_every_language() {
    for language in Language::ALL {
        let words = svg::trend_words(language);
        assert!(!words.mean.is_empty() && words.categories.iter().all(|word| !word.is_empty()), "{language}");
    }
    assert_eq!(svg::trend_words(Language::Hr).mean, "prosjek");
}
