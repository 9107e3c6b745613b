//! The taxonomy against IntelMQ's (`data/taxonomy.json`) and RSIT v1.3.

use neretva_event::taxonomy::{
    TAXONOMIES, canonical_taxonomy, canonical_type, intelmq_types, label_of, rsit, taxonomy_of,
};
use neretva_event::{Event, Value};

fn reference() -> serde_json::Value {
    serde_json::from_str(include_str!("../data/taxonomy.json")).expect("JSON")
}

#[test]
fn every_intelmq_type_maps_as_the_taxonomy_expert() {
    let json = reference();
    let mapping = json["type_to_taxonomy"].as_object().expect("mapping");
    assert_eq!(mapping.len(), 44);
    for (ty, taxonomy) in mapping {
        assert_eq!(canonical_type(ty), Some(ty.as_str()), "{ty}");
        assert_eq!(taxonomy_of(ty), taxonomy.as_str(), "{ty}");
    }
    let allowed: Vec<&str> =
        json["allowed_types"].as_array().expect("types").iter().map(|t| t.as_str().expect("str")).collect();
    let mut ours: Vec<&str> = intelmq_types().iter().map(|t| t.slug).collect();
    ours.sort_unstable();
    assert_eq!(ours, allowed);
    for t in intelmq_types() {
        assert_eq!(taxonomy_of(t.slug), Some(t.taxonomy));
    }
}

#[test]
fn every_taxonomy_and_alias() {
    let json = reference();
    let mut allowed: Vec<&str> = json["allowed_taxonomies"]
        .as_array()
        .expect("taxonomies")
        .iter()
        .map(|t| t.as_str().expect("str"))
        .collect();
    allowed.sort_unstable();
    let mut ours = TAXONOMIES.to_vec();
    ours.sort_unstable();
    assert_eq!(ours, allowed);
    for t in TAXONOMIES {
        assert_eq!(canonical_taxonomy(t), Some(t));
    }
    for (alias, target) in json["type_sanitize_aliases"].as_object().expect("aliases") {
        assert_eq!(canonical_type(alias), target.as_str(), "{alias}");
    }
    for (alias, target) in json["taxonomy_sanitize_aliases"].as_object().expect("aliases") {
        assert_eq!(canonical_taxonomy(alias), target.as_str(), "{alias}");
    }
}

#[test]
fn both_spellings_and_lenient_input() {
    let cases = [
        ("unauthorized-use-of-resources", "unauthorized-use-of-resources"),
        ("unauthorised-use-of-resources", "unauthorized-use-of-resources"),
        ("unauthorised-information-access", "unauthorised-information-access"),
        ("unauthorized-information-access", "unauthorised-information-access"),
        ("unauthorized-information-modification", "unauthorised-information-modification"),
        ("Unauthorised Information Modification", "unauthorised-information-modification"),
        ("botnet drone", "infected-system"),
        ("BOTNET DRONE", "infected-system"),
        ("c&c", "c2-server"),
        ("  C&C  ", "c2-server"),
        ("unknown", "undetermined"),
        ("ddos_amplifier", "ddos-amplifier"),
        ("vulnerable client", "vulnerable-system"),
    ];
    for (input, expected) in cases {
        assert_eq!(canonical_type(input), Some(expected), "{input}");
    }
    for bad in ["", "botnet", "c&c server", "unauthorized-", "malicious-code"] {
        assert_eq!(canonical_type(bad), None, "{bad}");
    }
    assert_eq!(taxonomy_of("botnet drone"), Some("malicious-code"));
    assert_eq!(taxonomy_of("nonsense"), None);
    assert_eq!(label_of("ids-alert"), Some("Exploitation of Known Vulnerabilities"));
    assert_eq!(canonical_taxonomy("Information Content Security"), Some("information-content-security"));
    assert_eq!(canonical_taxonomy("spam"), None);
}

#[test]
fn rsit_list() {
    let list = rsit();
    assert_eq!(list.len(), 39);
    let mut taxonomies: Vec<&str> = list.iter().map(|t| t.taxonomy).collect();
    taxonomies.dedup();
    assert_eq!(taxonomies.len(), 11);
    assert!(list.iter().any(|t| t.slug == "unauthorised-use-of-resources"));
    assert!(!list.iter().any(|t| t.slug == "unauthorized-use-of-resources"));
    assert!(!list.iter().any(|t| t.slug == "blacklist"));
    for t in list {
        assert!(!t.label.is_empty() && !t.description.is_empty());
        assert_eq!(taxonomy_of(t.slug), Some(t.taxonomy), "{}", t.slug);
    }
    let extras: Vec<&str> = intelmq_types()
        .iter()
        .filter(|t| !list.iter().any(|r| r.slug == t.slug) && t.slug != "unauthorized-use-of-resources")
        .map(|t| t.slug)
        .collect();
    assert_eq!(extras, ["blacklist", "dga-domain", "malware", "proxy", "tor"]);
    assert!(intelmq_types().iter().filter(|t| extras.contains(&t.slug)).all(|t| t.taxonomy == "other"));
}

fn classified(ty: Option<&str>, taxonomy: Option<&str>) -> (Option<String>, Option<String>) {
    let mut event = Event::new();
    if let Some(ty) = ty {
        event.set("classification.type", ty).expect("type");
    }
    if let Some(taxonomy) = taxonomy {
        event.set("classification.taxonomy", taxonomy).expect("taxonomy");
    }
    event.classify();
    let get = |name| event.get(name).and_then(Value::as_str).map(str::to_owned);
    (get("classification.type"), get("classification.taxonomy"))
}

#[test]
fn classify_follows_the_taxonomy_expert() {
    let s = |t: &str| Some(t.to_owned());
    // Taxonomy absent, type present: derived.
    assert_eq!(classified(Some("infected-system"), None), (s("infected-system"), s("malicious-code")));
    assert_eq!(classified(Some("botnet drone"), None), (s("infected-system"), s("malicious-code")));
    assert_eq!(classified(Some("tor"), None), (s("tor"), s("other")));
    assert_eq!(classified(Some("test"), None), (s("test"), s("test")));
    assert_eq!(
        classified(Some("unauthorised-use-of-resources"), None),
        (s("unauthorized-use-of-resources"), s("fraud"))
    );
    // Both absent.
    assert_eq!(classified(None, None), (s("undetermined"), s("other")));
    // Taxonomy present, type absent.
    assert_eq!(classified(None, Some("fraud")), (s("undetermined"), s("fraud")));
    // Both present: unchanged, even when inconsistent.
    assert_eq!(classified(Some("phishing"), Some("vulnerable")), (s("phishing"), s("vulnerable")));
}

#[test]
fn every_intelmq_type_classifies() {
    for t in intelmq_types() {
        assert_eq!(classified(Some(t.slug), None), (Some(t.slug.to_owned()), Some(t.taxonomy.to_owned())));
    }
}
