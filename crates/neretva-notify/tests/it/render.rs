//! Digests rendered in each language, compared with expected files (`UPDATE_EXPECT=1`).

use expect_test::expect_file;
use neretva_event::Event;
use neretva_model::contact::Language;
use neretva_model::tlp::Tlp;
use neretva_notify::render::{DigestInput, Overrides, Renderer};
use neretva_notify::{NotifyError, digest_content};

use crate::events;

fn input<'a>(events: &'a [&'a Event], language: Language) -> DigestInput<'a> {
    DigestInput {
        cert: "CERT-BIH",
        org: "Elektroprivreda (test)",
        org_short: "EP",
        language,
        tlp: Tlp::AmberStrict,
        events,
        suppressed: 2,
    }
}

#[test]
fn digests_in_every_language() {
    let events = events();
    let refs: Vec<&Event> = events.iter().collect();
    let renderer = Renderer::new(&Overrides::new()).unwrap();
    for language in Language::ALL {
        let content = digest_content(&renderer, &input(&refs, language)).unwrap();
        let text = format!("Subject: {}\n\n{}", content.subject, content.body);
        expect_file![format!("../../test_data/render/digest.{}.txt", language.tag())].assert_eq(&text);
        assert!(content.subject.starts_with("[TLP:AMBER+STRICT] CERT-BIH: "), "{}", content.subject);
        assert!(content.body.starts_with("TLP:AMBER+STRICT\n"), "the label comes first");
        let names: Vec<&str> = content.attachments.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["events.csv", "events.json"]);
    }
}

#[test]
fn many_events_show_examples_and_point_to_the_attachments() {
    let mut many = Vec::new();
    for i in 0..25 {
        let mut event = Event::new();
        event.set("classification.type", "scanner").unwrap();
        event.set("source.ip", &format!("192.0.2.{i}")).unwrap();
        many.push(event);
    }
    let refs: Vec<&Event> = many.iter().collect();
    let renderer = Renderer::new(&Overrides::new()).unwrap();
    let content = digest_content(&renderer, &input(&refs, Language::Hr)).unwrap();
    assert_eq!(content.body.matches("\n  - ").count(), 10);
    assert!(content.body.contains("Privici sadrže sve događaje ove vrste (ukupno: 25)."), "{}", content.body);
}

#[test]
fn overrides_replace_templates_per_language() {
    let events = events();
    let refs: Vec<&Event> = events.iter().collect();
    let mut overrides = Overrides::new();
    overrides.insert("subject.hr".into(), "{{ tlp }} Obavijest za {{ org_short }}: {{ count }}".into());
    overrides.insert(
        "body".into(),
        "{{ tlp }}\n{% for g in groups %}{{ g.type }}={{ g.count }}\n{% endfor %}".into(),
    );
    let renderer = Renderer::new(&overrides).unwrap();
    let content = digest_content(&renderer, &input(&refs, Language::Hr)).unwrap();
    assert_eq!(content.subject, "TLP:AMBER+STRICT Obavijest za EP: 3");
    assert_eq!(content.body, "TLP:AMBER+STRICT\ninfected-system=1\noutage=1\nddos-amplifier=1\n");
    // Other languages keep the built-in subject.
    let content = digest_content(&renderer, &input(&refs, Language::En)).unwrap();
    assert!(content.subject.starts_with("[TLP:AMBER+STRICT] CERT-BIH"));
}

#[test]
fn broken_overrides_are_refused_with_their_name() {
    let refused = |name: &str, source: &str| {
        let mut overrides = Overrides::new();
        overrides.insert(name.into(), source.into());
        Renderer::new(&overrides).unwrap_err()
    };
    let error = refused("body.hr", "{% for %}");
    assert!(matches!(&error, NotifyError::Template { name, .. } if name.starts_with("body.hr")), "{error}");
    let error = refused("footer", "x").to_string();
    assert!(error.contains("unknown template"), "{error}");
    let error = refused("body.de", "x").to_string();
    assert!(error.contains("unknown template"), "{error}");
    // Undefined variables fail at rendering, naming the template.
    let mut overrides = Overrides::new();
    overrides.insert("body".into(), "{{ no_such_variable }}".into());
    let renderer = Renderer::new(&overrides).unwrap();
    let events = events();
    let refs: Vec<&Event> = events.iter().collect();
    let error = digest_content(&renderer, &input(&refs, Language::En)).unwrap_err().to_string();
    assert!(error.starts_with("template body"), "{error}");
    // Runaway templates run out of fuel.
    let mut overrides = Overrides::new();
    overrides.insert(
        "body".into(),
        "{% for a in range(10000) %}{% for b in range(10000) %}x{% endfor %}{% endfor %}".into(),
    );
    let renderer = Renderer::new(&overrides).unwrap();
    assert!(digest_content(&renderer, &input(&refs, Language::En)).is_err());
}

/// A status change, a reminder before the due time and an overdue notice of one incident, in
/// each language, compared with `test_data/render/incident.<language>.txt`.
#[test]
fn incident_updates_in_every_language() {
    use neretva_incident::deadline::ObligationKind;
    use neretva_incident::workflow::Status;
    use neretva_notify::incident::{ReminderUpdate, StatusUpdate, reminder_content, status_content};
    use time::macros::datetime;

    let renderer = Renderer::new(&Overrides::new()).unwrap();
    let incident_id: uuid::Uuid = "0193a5b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b".parse().unwrap();
    let title = "Ransomware on the billing servers of Elektroprivreda (Šifrovanje podataka)";
    for language in Language::ALL {
        let status = StatusUpdate {
            cert: "CERT-BIH",
            org: "Elektroprivreda (test)",
            language,
            tlp: Tlp::AmberStrict,
            incident_id,
            title,
            status: Status::InProgress,
            changed_at: datetime!(2026-11-28 09:15 UTC),
        };
        let reminder = |now| ReminderUpdate {
            cert: "CERT-BIH",
            org: "Elektroprivreda (test)",
            language,
            tlp: Tlp::Amber,
            incident_id,
            title,
            kind: ObligationKind::Notification,
            due_at: datetime!(2026-11-30 12:00 UTC),
            now,
        };
        let mut text = String::new();
        for content in [
            status_content(&renderer, &status).unwrap(),
            reminder_content(&renderer, &reminder(datetime!(2026-11-30 06:00:30 UTC))).unwrap(),
            reminder_content(&renderer, &reminder(datetime!(2026-12-01 14:42 UTC))).unwrap(),
        ] {
            assert!(content.subject.starts_with("[TLP:AMBER"), "the label comes first: {}", content.subject);
            assert!(content.body.starts_with("TLP:AMBER"), "the label comes first: {}", content.body);
            assert!(content.attachments.is_empty());
            text.push_str(&format!("Subject: {}\n\n{}\n----\n", content.subject, content.body));
        }
        expect_file![format!("../../test_data/render/incident.{}.txt", language.tag())].assert_eq(&text);
    }
}

#[test]
fn incident_update_templates_are_overridable() {
    use neretva_incident::workflow::Status;
    use neretva_notify::incident::{StatusUpdate, status_content};

    let mut overrides = Overrides::new();
    overrides.insert("status_subject.bs".into(), "[{{ tlp }}] {{ status }}: {{ short_title }}".into());
    overrides.insert("status_body".into(), "{{ tlp }} {{ incident }} {{ status_name }}\n".into());
    let renderer = Renderer::new(&overrides).unwrap();
    let update = |language| StatusUpdate {
        cert: "CERT-BIH",
        org: "EP",
        language,
        tlp: Tlp::Green,
        incident_id: uuid::Uuid::nil(),
        title: "Phishing",
        status: Status::Resolved,
        changed_at: time::OffsetDateTime::UNIX_EPOCH,
    };
    let content = status_content(&renderer, &update(Language::Bs)).unwrap();
    assert_eq!(content.subject, "[TLP:GREEN] resolved: Phishing");
    assert_eq!(content.body, "TLP:GREEN 00000000-0000-0000-0000-000000000000 riješen\n");
    let content = status_content(&renderer, &update(Language::En)).unwrap();
    assert_eq!(content.subject, "[TLP:GREEN] CERT-BIH: incident \"Phishing\" – status: resolved");
    // A reminder's template name is refused when misspelt.
    let mut overrides = Overrides::new();
    overrides.insert("reminder_text".into(), "x".into());
    assert!(Renderer::new(&overrides).unwrap_err().to_string().contains("unknown template"));
}
