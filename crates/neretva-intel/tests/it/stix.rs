use neretva_intel::model::Distribution;
use neretva_intel::stix::{StixContext, attribute_of_pattern, from_objects, pattern_of, to_bundle};
use neretva_intel::tag;
use neretva_model::tlp::{Pap, Tlp};
use neretva_stix::bundle::{Limits, parse_bundle};
use neretva_stix::pattern::Pattern;

use crate::{context, sample_events};

#[test]
fn patterns_are_valid_stix_and_read_back() {
    let cases = [
        ("ip-dst", "185.243.115.84"),
        ("ip-src", "2001:db8::1"),
        ("ip-dst|port", "91.215.85.17|443"),
        ("ip-src|port", "2001:db8::2|8080"),
        ("domain", "evil.example.info"),
        ("domain|ip", "evil.example.info|91.215.85.17"),
        ("url", "https://evil.example.info/it's/a\\path"),
        ("email-src", "a@evil.example.info"),
        ("email-dst", "b@victim.example.info"),
        ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
        ("sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
        ("filename|sha1", "a b.exe|da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ("filename", "Invoice_0312.iso"),
        ("AS", "44477"),
        ("mac-address", "00:1a:2b:3c:4d:5e"),
    ];
    for (attr_type, value) in cases {
        let pattern = pattern_of(attr_type, value).unwrap();
        Pattern::parse(&pattern).unwrap_or_else(|error| panic!("{pattern}: {error}"));
        // A STIX address has no direction: ip-src reads back as ip-dst.
        let expected_type = if attr_type == "ip-src" { "ip-dst" } else { attr_type };
        assert_eq!(attribute_of_pattern(&pattern), (expected_type.to_owned(), value.to_owned()), "{pattern}");
    }
    assert_eq!(pattern_of("text", "x"), None);
    let other = "[process:name = 'evil.exe'] FOLLOWEDBY [file:name = 'x']";
    assert_eq!(attribute_of_pattern(other), ("stix2-pattern".into(), other.into()));
}

#[test]
fn events_travel_through_stix_with_tlp_and_pap() {
    let stix_context =
        StixContext { now: context(true).now, default_org: context(true).default_org.unwrap() };
    for event in sample_events() {
        let exported = to_bundle(&event, Tlp::Amber, Pap::Clear);
        let text = exported.bundle.to_json_string();
        let imported = parse_bundle(&text, &Limits::default()).unwrap();
        assert!(imported.rejected.is_empty(), "{}: {:?}", event.info, imported.rejected);
        let (events, problems) = from_objects(&imported, &stix_context, Distribution::Organisation);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(events.len(), 1);
        let back = &events[0];
        assert_eq!(back.uuid, event.uuid);
        assert_eq!(back.info, event.info);
        assert_eq!(back.orgc, event.orgc);
        assert_eq!(back.published, event.published);
        assert_eq!(back.tlp(Tlp::Red), event.tlp(Tlp::Amber), "{}", event.info);
        assert_eq!(back.pap(Pap::Red), event.pap(Pap::Clear), "{}", event.info);
        // Every attribute with a STIX form comes back with its value (under its UUID).
        let live: Vec<_> = event.all_attributes().map(|(_, a)| a).filter(|a| !a.deleted).collect();
        assert_eq!(back.attributes.len(), live.len() - exported.skipped, "{}", event.info);
        for attribute in &back.attributes {
            let original = live.iter().find(|a| a.uuid == attribute.uuid).unwrap();
            assert_eq!(attribute.value, original.value);
            assert_eq!(attribute.to_ids, original.to_ids);
        }
        // An attribute marked more restrictively than its event keeps its label.
        for attribute in event.all_attributes().map(|(_, a)| a).filter(|a| tag::tlp_of(&a.tags).is_some()) {
            let returned = back.attributes.iter().find(|a| a.uuid == attribute.uuid).unwrap();
            assert_eq!(tag::tlp_of(&returned.tags), tag::tlp_of(&attribute.tags));
        }
    }
}

#[test]
fn events_with_time_ordered_ids_export_whole() {
    for mut event in sample_events() {
        // Neretva's own ids (the registry's organisations, events made here) are version 7.
        event.uuid = uuid::Uuid::parse_str("019a6f3e-8c2d-7b41-9e0f-3a5b7c9d1e2f").unwrap();
        event.orgc.uuid = uuid::Uuid::parse_str("019a6f3e-8c2d-7b41-9e0f-3a5b7c9d1e30").unwrap();
        let exported = to_bundle(&event, Tlp::Amber, Pap::Clear);
        let text = exported.bundle.to_json_string();
        let imported = parse_bundle(&text, &Limits::default()).unwrap();
        assert!(imported.rejected.is_empty(), "{}: {:?}", event.info, imported.rejected);
        let kinds: Vec<&str> = imported.objects.iter().map(|o| o.object_type()).collect();
        assert!(kinds.contains(&"identity"), "{}: {kinds:?}", event.info);
        assert!(kinds.contains(&"report") || kinds.contains(&"grouping"), "{}: {kinds:?}", event.info);
        // The same event exports to the same identifiers every time.
        assert_eq!(to_bundle(&event, Tlp::Amber, Pap::Clear).bundle.to_json_string(), text);
        assert!(text.contains("identity--019a6f3e-8c2d-4b41-9e0f-3a5b7c9d1e30"), "{}", event.info);
    }
}
