//! STIX objects and bundles: import, checks, export, TLP and PAP.

use std::fmt::Write;
use std::path::PathBuf;

use expect_test::{expect, expect_file};
use neretva_model::tlp::{Pap, Tlp};
use neretva_stix::bundle::{Bundle, BundleError, Imported, Limits, parse_bundle};
use neretva_stix::object::marking::{self, Markings};
use neretva_stix::object::property::Identifier;
use neretva_stix::object::{Object, ObjectData};

fn read(name: &str) -> String {
    std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data/bundles").join(name))
        .unwrap()
}

fn report(imported: &Imported) -> String {
    let mut out = String::new();
    writeln!(out, "imported {}, rejected {}", imported.objects.len(), imported.rejected.len()).unwrap();
    for rejected in &imported.rejected {
        writeln!(out, "objects[{}] {}", rejected.index, rejected.id.as_deref().unwrap_or("(no id)")).unwrap();
        for problem in &rejected.problems {
            writeln!(out, "  {problem}").unwrap();
        }
    }
    out
}

#[test]
fn every_type_imports_and_exports_without_loss() {
    let text = read("all_types.json");
    let imported = parse_bundle(&text, &Limits::default()).unwrap();
    assert_eq!(report(&imported), "imported 26, rejected 0\n");
    let kinds: Vec<&str> = imported.objects.iter().map(Object::object_type).collect();
    assert!(kinds.contains(&"x-example-case") && kinds.contains(&"network-traffic"));
    assert!(imported.objects.iter().any(|o| matches!(o.data, ObjectData::Sighting(_))));

    let bundle = Bundle { id: imported.bundle_id.clone().unwrap(), objects: imported.objects.clone() };
    let exported = bundle.to_json();
    // Every property survives, except that created and modified gain millisecond precision.
    let original: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(exported, original);
    expect_file!["../../test_data/bundles/all_types.export.json"]
        .assert_eq(&serde_json::to_string_pretty(&exported).unwrap());

    let again = parse_bundle(&bundle.to_json_string(), &Limits::default()).unwrap();
    assert_eq!(again.objects, imported.objects);
}

#[test]
fn bad_objects_are_reported_by_path_and_the_rest_imported() {
    let limits = Limits { max_depth: 3, ..Limits::default() };
    let imported = parse_bundle(&read("bad_objects.json"), &limits).unwrap();
    expect_file!["../../test_data/bundles/bad_objects.report"].assert_eq(&report(&imported));
    assert_eq!(imported.objects.len(), 1);
}

#[test]
fn whole_bundle_failures_say_where() {
    let limits = Limits::default();
    let error = |text: &str| parse_bundle(text, &limits).unwrap_err().to_string();
    expect!["line 3, column 9: expected value"]
        .assert_eq(&error("{\"type\": \"bundle\",\n \"objects\": [\n  {\"a\": ]}"));
    expect!["line 1, column 0: empty input"].assert_eq(&error("  "));
    expect![": expected a bundle (a JSON object)"].assert_eq(&error("[1, 2]"));
    expect![r#"type: "indicator" is not "bundle""#]
        .assert_eq(&error(r#"{"type": "indicator", "objects": []}"#));
    expect![r#"id: "bundle--1" is not an identifier (type--UUID)"#]
        .assert_eq(&error(r#"{"type": "bundle", "id": "bundle--1"}"#));
    let small = Limits { max_bytes: 10, ..Limits::default() };
    assert_eq!(
        parse_bundle(r#"{"type": "bundle"}"#, &small).unwrap_err(),
        BundleError::TooLarge { size: 18, limit: 10 }
    );
    let few = Limits { max_objects: 2, ..Limits::default() };
    assert_eq!(
        parse_bundle(r#"{"objects": [{}, {}, {}]}"#, &few).unwrap_err(),
        BundleError::TooManyObjects { count: 3, limit: 2 }
    );
    // A TAXII envelope has no type and no id.
    let envelope = parse_bundle(r#"{"objects": [], "more": true}"#, &limits).unwrap();
    assert!(envelope.bundle_id.is_none() && envelope.objects.is_empty());
    // A deeply nested member that is no object is rejected on its own; nesting inside an
    // object beyond the JSON parser's limit (128) fails the bundle, with the position.
    let deep = format!(r#"{{"objects": [{}1{}, {{}}]}}"#, "[".repeat(100_000), "]".repeat(100_000));
    let imported = parse_bundle(&deep, &limits).unwrap();
    assert_eq!(
        imported.rejected[0].problems[0].reason,
        "expected a STIX object (a JSON object), found a list"
    );
    let deep =
        format!(r#"{{"objects": [{{"type": "x-a", "x_deep": {}1{}}}]}}"#, "[".repeat(200), "]".repeat(200));
    expect!["line 1, column 164: recursion limit exceeded"].assert_eq(&error(&deep));
}

#[test]
fn tlp_and_pap_survive_import_and_export() {
    let imported = parse_bundle(&read("all_types.json"), &Limits::default()).unwrap();
    let markings = Markings::from_objects(&imported.objects);
    let find = |kind: &str| imported.objects.iter().find(|o| o.object_type() == kind).unwrap();
    assert_eq!(markings.tlp(find("indicator")), Some(Tlp::Amber));
    assert_eq!(markings.pap(find("indicator")), Some(Pap::Amber));
    assert_eq!(markings.tlp(find("identity")), Some(Tlp::Green));
    assert_eq!(markings.pap(find("identity")), None);

    // Marked in Neretva, exported with the official definitions, read back the same.
    let mut objects = imported.objects.clone();
    for (object, (tlp, pap)) in objects.iter_mut().zip(
        [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red]
            .into_iter()
            .zip([Pap::Clear, Pap::Green, Pap::Amber, Pap::Red, Pap::Red])
            .cycle(),
    ) {
        if object.object_type() != "marking-definition" {
            marking::set_tlp(object, tlp);
            marking::set_pap(object, pap);
        }
    }
    let mut bundle = Bundle { id: imported.bundle_id.clone().unwrap(), objects: objects.clone() };
    bundle.add_marking_definitions();
    let definitions: Vec<&str> = bundle
        .objects
        .iter()
        .filter(|o| o.object_type() == "marking-definition")
        .map(|o| o.id.as_str())
        .collect();
    // Two were in the bundle (TLP:AMBER and a statement); four TLP and four PAP are added.
    assert_eq!(definitions.len(), 2 + 4 + 4, "{definitions:?}");
    let again = parse_bundle(&bundle.to_json_string(), &Limits::default()).unwrap();
    assert!(again.rejected.is_empty(), "{:?}", again.rejected);
    let markings = Markings::from_objects(&again.objects);
    let before = Markings::from_objects(&bundle.objects);
    for (a, b) in again.objects.iter().zip(&bundle.objects) {
        assert_eq!(markings.tlp(a), before.tlp(b));
        assert_eq!(markings.pap(a), before.pap(b));
    }
    assert!(
        again
            .objects
            .iter()
            .filter(|o| o.object_type() != "marking-definition")
            .all(|o| markings.tlp(o).is_some())
    );
}

#[test]
fn markings_are_recognised_by_identifier_content_and_label() {
    let text = r#"{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [
      {"type": "marking-definition", "spec_version": "2.1", "id": "marking-definition--8a3b1e4c-0f5e-4c4b-8f2e-6d1f3a2b9c01",
       "created": "2023-01-01T00:00:00.000Z", "definition_type": "PAP", "name": "PAP:RED", "definition": {"PAP": "PAP:RED"}},
      {"type": "marking-definition", "spec_version": "2.1", "id": "marking-definition--2b7c9d1e-3f4a-4b5c-9d6e-7f8a9b0c1d2e",
       "created": "2023-01-01T00:00:00.000Z", "definition_type": "tlp", "definition": {"tlp": "amber"}},
      {"type": "indicator", "spec_version": "2.1", "id": "indicator--0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
       "created": "2023-01-01T00:00:00.000Z", "modified": "2023-01-01T00:00:00.000Z", "pattern": "[url:value = 'x']",
       "pattern_type": "stix", "valid_from": "2023-01-01T00:00:00Z",
       "object_marking_refs": ["marking-definition--8a3b1e4c-0f5e-4c4b-8f2e-6d1f3a2b9c01",
                               "marking-definition--2b7c9d1e-3f4a-4b5c-9d6e-7f8a9b0c1d2e",
                               "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"]},
      {"type": "indicator", "spec_version": "2.1", "id": "indicator--1c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
       "created": "2023-01-01T00:00:00.000Z", "modified": "2023-01-01T00:00:00.000Z", "pattern": "[url:value = 'x']",
       "pattern_type": "stix", "valid_from": "2023-01-01T00:00:00Z", "labels": ["tlp:amber+strict", "PAP:GREEN", "phishing"]}
    ]}"#;
    let imported = parse_bundle(text, &Limits::default()).unwrap();
    assert!(imported.rejected.is_empty(), "{:?}", imported.rejected);
    let markings = Markings::from_objects(&imported.objects);
    // The most restrictive of TLP 1.0 WHITE and a TLP 1.0 style AMBER definition.
    assert_eq!(markings.tlp(&imported.objects[2]), Some(Tlp::Amber));
    assert_eq!(markings.pap(&imported.objects[2]), Some(Pap::Red));
    assert_eq!(markings.tlp(&imported.objects[3]), Some(Tlp::AmberStrict));
    assert_eq!(markings.pap(&imported.objects[3]), Some(Pap::Green));
}

#[test]
fn official_definitions_are_the_published_objects() {
    for tlp in Tlp::ALL {
        let definition = marking::tlp_definition(tlp);
        assert!(Identifier::parse(definition.id.as_str()).is_ok());
        assert_eq!(marking::tlp_of_definition(&definition), Some(tlp));
        assert_eq!(marking::tlp_of_id(marking::tlp_id(tlp)), Some(tlp));
    }
    for pap in [Pap::Clear, Pap::Green, Pap::Amber, Pap::Red] {
        let definition = marking::pap_definition(pap);
        assert!(Identifier::parse(definition.id.as_str()).is_ok());
        assert_eq!(marking::pap_of_definition(&definition), Some(pap));
    }
    expect![[r#"{"created":"2022-10-01T00:00:00.000Z","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"amber+strict"}},"id":"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003","name":"TLP:AMBER+STRICT","spec_version":"2.1","type":"marking-definition"}"#]]
    .assert_eq(&marking::tlp_definition(Tlp::AmberStrict).to_json().to_string());
    expect![[r#"{"created":"2022-10-09T00:00:00.000Z","extensions":{"extension-definition--f8d78575-edfd-406e-8e84-6162a8450f5b":{"extension_type":"property-extension","pap":"green"}},"id":"marking-definition--c43594d1-4b11-4c59-93ab-1c9b14d53ce9","name":"PAP:GREEN","spec_version":"2.1","type":"marking-definition"}"#]]
    .assert_eq(&marking::pap_definition(Pap::Green).to_json().to_string());
    // TLP 1.0 identifiers are read (WHITE as CLEAR), PAP:WHITE as CLEAR.
    assert_eq!(
        marking::tlp_of_id("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"),
        Some(Tlp::Clear)
    );
    assert_eq!(
        marking::tlp_of_id("marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"),
        Some(Tlp::Red)
    );
    assert_eq!(
        marking::pap_of_id("marking-definition--a3bea94c-b469-41dc-9cfe-d6e7daba7730"),
        Some(Pap::Clear)
    );
}

#[test]
fn created_and_modified_are_written_with_milliseconds() {
    let text = r#"{"type": "identity", "spec_version": "2.1", "id": "identity--0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
        "created": "2023-01-01T00:00:00Z", "modified": "2023-01-01T00:00:00.5Z", "name": "x"}"#;
    let object = Object::from_json(serde_json::from_str(text).unwrap(), "", 8).unwrap();
    let json = object.to_json();
    assert_eq!(json["created"], "2023-01-01T00:00:00.000Z");
    assert_eq!(json["modified"], "2023-01-01T00:00:00.500Z");
    // Without spec_version the object is read as STIX 2.1 and written with it.
    let bare = r#"{"type": "vulnerability", "id": "vulnerability--0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
        "created": "2023-01-01T00:00:00.000Z", "modified": "2023-01-01T00:00:00.000Z", "name": "CVE-2024-0001"}"#;
    let object = Object::from_json(serde_json::from_str(bare).unwrap(), "", 8).unwrap();
    assert_eq!(object.to_json()["spec_version"], "2.1");
}
