//! Exported bundles pass the OASIS `stix2-validator` with no errors.
//!
//! Runs when `NERETVA_TEST_PYTHON` names a Python with `stix2-validator` installed (CI's
//! `.ci/run` sets it), and then fails on any error the validator reports.

use std::path::PathBuf;
use std::process::Command;

use neretva_model::tlp::{Pap, Tlp};
use neretva_stix::bundle::{Bundle, Limits, parse_bundle};
use neretva_stix::object::marking::{missing_definitions, set_pap, set_tlp};
use neretva_stix::object::property::Identifier;
use neretva_stix::object::{Object, ObjectData};

fn test_data(name: &str) -> String {
    std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data/bundles").join(name))
        .unwrap()
}

/// Every object type Neretva writes, and one indicator under each TLP and PAP marking with the
/// marking definitions the export adds.
fn exported_bundles() -> Vec<(&'static str, String)> {
    let all = parse_bundle(&test_data("all_types.json"), &Limits::default()).unwrap();
    let all_types = Bundle { id: all.bundle_id.clone().unwrap(), objects: all.objects.clone() };

    let indicator = all.objects.iter().find(|o| matches!(o.data, ObjectData::Indicator(_))).unwrap();
    let mut marked: Vec<Object> = Vec::new();
    let paps = [Pap::Clear, Pap::Green, Pap::Amber, Pap::Red];
    for (n, tlp) in Tlp::ALL.into_iter().enumerate() {
        let mut copy = indicator.clone();
        copy.id = Identifier::parse(&format!("indicator--6b0e8c3e-1b7e-4f0c-9d3a-00000000000{n}")).unwrap();
        copy.common.object_marking_refs.clear();
        set_tlp(&mut copy, tlp);
        set_pap(&mut copy, paps[n % paps.len()]);
        marked.push(copy);
    }
    let mut definitions = missing_definitions(&marked);
    definitions.append(&mut marked);
    let markings = Bundle {
        id: Identifier::parse("bundle--6b0e8c3e-1b7e-4f0c-9d3a-0000000000ff").unwrap(),
        objects: definitions,
    };
    vec![("all_types", all_types.to_json_string()), ("markings", markings.to_json_string())]
}

#[test]
fn exported_bundles_pass_the_oasis_validator() {
    let Some(python) = std::env::var_os("NERETVA_TEST_PYTHON") else { return };
    let dir = std::env::temp_dir().join(format!("neretva-stix-validator-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for (name, json) in exported_bundles() {
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, json).unwrap();
        files.push(path);
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/stix/validate.py");
    let output = Command::new(python).arg(script).args(&files).output().unwrap();
    assert!(output.status.success(), "stix2-validator failed: {}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for file in &files {
        let result = &report[file.to_str().unwrap()];
        assert_eq!(result["errors"], serde_json::json!([]), "{}: {result:#}", file.display());
        assert_eq!(result["valid"], true, "{}: {result:#}", file.display());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
