//! The field table against IntelMQ's harmonisation (`data/harmonization_fields.json`).

use neretva_event::{FieldId, FieldType, Section, field_spec, fields, report_field_spec, report_fields};

fn harmonisation() -> serde_json::Value {
    serde_json::from_str(include_str!("../data/harmonization_fields.json")).expect("JSON")
}

#[test]
fn table_matches_harmonisation_json() {
    let json = harmonisation();
    let entries = json["fields"].as_array().expect("fields");
    let mut events = 0;
    let mut reports = 0;
    for entry in entries {
        let name = entry["field"].as_str().expect("field");
        let section = entry["section"].as_str().expect("section");
        let spec = match section {
            "event" => {
                events += 1;
                field_spec(name).unwrap_or_else(|| panic!("missing event field {name}"))
            }
            "report" => {
                reports += 1;
                report_field_spec(name).unwrap_or_else(|| panic!("missing report field {name}"))
            }
            other => panic!("unknown section {other}"),
        };
        assert_eq!(spec.name, name);
        assert_eq!(spec.ty.name(), entry["type"].as_str().expect("type"), "{name}");
        assert_eq!(
            spec.max_len,
            entry["length"].as_u64().map(|l| usize::try_from(l).expect("length")),
            "{name}"
        );
        assert_eq!(spec.description, entry["description"].as_str().expect("description"));
        let regex = entry["regex"].as_str().or_else(|| entry["iregex"].as_str());
        assert_eq!(spec.regex, regex, "{name}");
        assert_eq!(spec.case_insensitive_regex, entry.get("iregex").is_some(), "{name}");
        assert_eq!(spec.section, if section == "event" { Section::Event } else { Section::Report });
        // Every report field is also an event field of the same type.
        if section == "report" {
            assert_eq!(field_spec(name).expect("also an event field").ty, spec.ty);
        }
    }
    assert_eq!((events, reports), (89, 10));
    assert_eq!(fields().len(), 89);
    assert_eq!(report_fields().len(), 10);
}

#[test]
fn table_is_sorted_and_ids_match() {
    for pair in fields().windows(2) {
        assert!(pair[0].name < pair[1].name, "{} before {}", pair[0].name, pair[1].name);
    }
    for (index, spec) in fields().iter().enumerate() {
        let id = FieldId::from_name(spec.name).expect("id");
        assert_eq!(id.index(), index);
        assert_eq!(id.name(), spec.name);
    }
    assert_eq!(FieldId::SOURCE_IP.name(), "source.ip");
    assert_eq!(FieldId::EXTRA.spec().ty, FieldType::JSONDict);
    assert_eq!(FieldId::TIME_OBSERVATION.name(), "time.observation");
    assert!(field_spec("extra.foo").is_none());
    assert!(field_spec("source").is_none());
    assert!(field_spec("").is_none());
}
