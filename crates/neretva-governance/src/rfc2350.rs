//! A CERT team's profile in the sections of RFC 2350 ("Expectations for Computer Security
//! Incident Response", Appendix D outline), and its rendering as the plain-text document CERTs
//! publish (`rfc2350.txt`).
//!
//! The sections: 1 Document Information, 2 Contact Information, 3 Charter, 4 Policies,
//! 5 Services, 6 Incident Reporting Forms, 7 Disclaimers.

use neretva_model::{FieldError, Timestamp, Uuid, check_optional_text, check_text};
use serde::{Deserialize, Serialize};
use time::Date;

use crate::contact_points::check_key;
use crate::strategy::iso_date;

/// The longest free text of one subsection, in characters.
pub const MAX_TEXT: usize = 20_000;
/// The most locations of the document.
pub const MAX_LOCATIONS: usize = 20;

/// A CERT team's RFC 2350 description; one per organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamProfile {
    /// The organisation the team is.
    pub org_id: Uuid,
    pub document: DocumentInformation,
    pub contact: ContactInformation,
    pub charter: Charter,
    #[serde(default)]
    pub policies: Policies,
    #[serde(default)]
    pub services: Services,
    /// 6: where and how incidents are reported.
    #[serde(default)]
    pub forms: Option<String>,
    /// 7.
    #[serde(default)]
    pub disclaimers: Option<String>,
}

/// 1 Document Information.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentInformation {
    /// 1.1 Date of Last Update.
    #[serde(with = "iso_date")]
    pub last_updated: Date,
    /// 1.2 Distribution List for Notifications.
    #[serde(default)]
    pub distribution_list: Option<String>,
    /// 1.3 Locations where this Document May Be Found (URLs).
    #[serde(default)]
    pub locations: Vec<String>,
    /// 1.4 Authenticating this Document.
    #[serde(default)]
    pub authentication: Option<String>,
}

/// 2 Contact Information.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactInformation {
    /// 2.1 Name of the Team.
    pub team_name: String,
    /// 2.2 Address.
    pub address: String,
    /// 2.3 Time Zone.
    pub time_zone: String,
    /// 2.4 Telephone Number.
    #[serde(default)]
    pub telephone: Option<String>,
    /// 2.5 Facsimile Number.
    #[serde(default)]
    pub facsimile: Option<String>,
    /// 2.6 Other Telecommunication.
    #[serde(default)]
    pub other_telecommunication: Option<String>,
    /// 2.7 Electronic Mail Address.
    pub email: String,
    /// 2.8 Public Keys and Encryption Information: the text.
    #[serde(default)]
    pub public_keys: Option<String>,
    /// 2.8: the team's ASCII-armoured OpenPGP public key.
    #[serde(default)]
    pub pgp_key: Option<String>,
    /// 2.8: its fingerprint (checked against the key, set from it).
    #[serde(default)]
    pub pgp_fingerprint: Option<String>,
    /// 2.9 Team Members.
    #[serde(default)]
    pub team_members: Option<String>,
    /// 2.10 Other Information.
    #[serde(default)]
    pub other_information: Option<String>,
    /// 2.11 Points of Customer Contact (with hours and the emergency contact).
    pub customer_contact: String,
}

/// 3 Charter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Charter {
    /// 3.1 Mission Statement.
    pub mission_statement: String,
    /// 3.2 Constituency.
    pub constituency: String,
    /// 3.3 Sponsorship and/or Affiliation.
    #[serde(default)]
    pub sponsorship: Option<String>,
    /// 3.4 Authority.
    #[serde(default)]
    pub authority: Option<String>,
}

/// 4 Policies.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policies {
    /// 4.1 Types of Incidents and Level of Support.
    #[serde(default)]
    pub incident_types: Option<String>,
    /// 4.2 Co-operation, Interaction and Disclosure of Information.
    #[serde(default)]
    pub cooperation: Option<String>,
    /// 4.3 Communication and Authentication.
    #[serde(default)]
    pub communication: Option<String>,
}

/// 5 Services.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Services {
    /// 5.1 Incident Response: the introduction.
    #[serde(default)]
    pub incident_response: Option<String>,
    /// 5.1.1 Incident Triage.
    #[serde(default)]
    pub triage: Option<String>,
    /// 5.1.2 Incident Coordination.
    #[serde(default)]
    pub coordination: Option<String>,
    /// 5.1.3 Incident Resolution.
    #[serde(default)]
    pub resolution: Option<String>,
    /// 5.2 Proactive Activities.
    #[serde(default)]
    pub proactive: Option<String>,
}

/// Checks every field of a profile and sets its key's fingerprint; returns every problem, each
/// with its path (`contact.email`).
pub fn normalise(profile: &mut TeamProfile, now: Timestamp) -> Vec<FieldError> {
    let mut problems = Vec::new();
    let mut keep = |result: Result<(), FieldError>| {
        if let Err(error) = result {
            problems.push(error);
        }
    };
    let optional = |field: &str, value: &Option<String>| {
        value.as_deref().map_or(Ok(()), |text| check_optional_text(field, text, MAX_TEXT))
    };
    let document = &profile.document;
    keep(optional("document.distribution_list", &document.distribution_list));
    keep(optional("document.authentication", &document.authentication));
    if document.locations.len() > MAX_LOCATIONS {
        keep(Err(FieldError::new("document.locations", format!("more than {MAX_LOCATIONS} locations"))));
    }
    for (index, location) in document.locations.iter().enumerate() {
        keep(check_text(&format!("document.locations[{index}]"), location, 2000));
    }
    let contact = &mut profile.contact;
    keep(check_text("contact.team_name", &contact.team_name, 200));
    keep(check_text("contact.address", &contact.address, 2000));
    keep(check_text("contact.time_zone", &contact.time_zone, 200));
    keep(
        neretva_model::contact::check_email(&contact.email)
            .map_err(|error| FieldError::new("contact.email", error.message)),
    );
    for (field, value) in [
        ("contact.telephone", &contact.telephone),
        ("contact.facsimile", &contact.facsimile),
        ("contact.other_telecommunication", &contact.other_telecommunication),
        ("contact.public_keys", &contact.public_keys),
        ("contact.team_members", &contact.team_members),
        ("contact.other_information", &contact.other_information),
    ] {
        keep(optional(field, value));
    }
    keep(check_text("contact.customer_contact", &contact.customer_contact, MAX_TEXT));
    let (fingerprint, key_problems) = check_key(
        contact.pgp_key.as_deref(),
        contact.pgp_fingerprint.as_deref(),
        now,
        "contact.pgp_key",
        "contact.pgp_fingerprint",
    );
    contact.pgp_fingerprint = fingerprint;
    for problem in key_problems {
        keep(Err(problem));
    }
    let charter = &profile.charter;
    keep(check_text("charter.mission_statement", &charter.mission_statement, MAX_TEXT));
    keep(check_text("charter.constituency", &charter.constituency, MAX_TEXT));
    keep(optional("charter.sponsorship", &charter.sponsorship));
    keep(optional("charter.authority", &charter.authority));
    let policies = &profile.policies;
    keep(optional("policies.incident_types", &policies.incident_types));
    keep(optional("policies.cooperation", &policies.cooperation));
    keep(optional("policies.communication", &policies.communication));
    let services = &profile.services;
    for (field, value) in [
        ("services.incident_response", &services.incident_response),
        ("services.triage", &services.triage),
        ("services.coordination", &services.coordination),
        ("services.resolution", &services.resolution),
        ("services.proactive", &services.proactive),
    ] {
        keep(optional(field, value));
    }
    keep(optional("forms", &profile.forms));
    keep(optional("disclaimers", &profile.disclaimers));
    problems
}

/// The width text is wrapped to, indentation included.
const WIDTH: usize = 72;
const INDENT: &str = "   ";
const NONE: &str = "None.";

/// Appends `text` wrapped to [`WIDTH`] and indented; blank lines separate paragraphs, and a
/// line that starts with white space (a list, an address) is kept as it is.
fn paragraph(out: &mut String, text: &str) {
    wrap(out, text, INDENT);
}

fn wrap(out: &mut String, text: &str, indent: &str) {
    for line in text.replace("\r\n", "\n").lines() {
        if line.trim().is_empty() {
            out.push('\n');
            continue;
        }
        if line.starts_with(char::is_whitespace) {
            out.push_str(indent);
            out.push_str(line.strip_prefix(' ').unwrap_or(line).trim_end());
            out.push('\n');
            continue;
        }
        let mut current = String::from(indent);
        for word in line.split_whitespace() {
            if current.len() > indent.len() && current.chars().count() + 1 + word.chars().count() > WIDTH {
                out.push_str(&current);
                out.push('\n');
                current = String::from(indent);
            }
            if current.len() > indent.len() {
                current.push(' ');
            }
            current.push_str(word);
        }
        out.push_str(&current);
        out.push('\n');
    }
}

fn subsection(out: &mut String, number: &str, title: &str, text: Option<&str>) {
    out.push_str(&format!("{number} {title}\n\n"));
    paragraph(out, text.filter(|text| !text.trim().is_empty()).unwrap_or(NONE));
    out.push('\n');
}

fn section(out: &mut String, number: &str, title: &str) {
    out.push_str(&format!("{number}. {title}\n\n"));
}

/// The fingerprint in groups of four, as `gpg --fingerprint` prints it.
fn grouped(fingerprint: &str) -> String {
    let chars: Vec<char> = fingerprint.chars().collect();
    let groups: Vec<String> = chars.chunks(4).map(|chunk| chunk.iter().collect()).collect();
    let half = groups.len() / 2;
    if groups.len() == 10 {
        format!("{}  {}", groups[..half].join(" "), groups[half..].join(" "))
    } else {
        groups.join(" ")
    }
}

/// The profile as the plain-text RFC 2350 document, LF line endings.
pub fn render(profile: &TeamProfile) -> String {
    let mut out = String::new();
    let contact = &profile.contact;
    wrap(&mut out, &format!("RFC 2350 description of {}", contact.team_name), "");
    out.push('\n');
    section(&mut out, "1", "Document Information");
    let document = &profile.document;
    paragraph(
        &mut out,
        "This document contains a description of the team in accordance with RFC 2350. It provides \
         basic information about the team, its channels of communication, and its roles and \
         responsibilities.",
    );
    out.push('\n');
    let date = document.last_updated.to_string();
    subsection(
        &mut out,
        "1.1",
        "Date of Last Update",
        Some(&format!("This version was published on {date}.")),
    );
    subsection(&mut out, "1.2", "Distribution List for Notifications", document.distribution_list.as_deref());
    let locations = document.locations.iter().map(|location| format!(" {location}")).collect::<Vec<_>>();
    let locations = (!locations.is_empty())
        .then(|| format!("The current version of this document can be found at:\n{}", locations.join("\n")));
    subsection(&mut out, "1.3", "Locations where this Document May Be Found", locations.as_deref());
    subsection(&mut out, "1.4", "Authenticating this Document", document.authentication.as_deref());

    section(&mut out, "2", "Contact Information");
    subsection(&mut out, "2.1", "Name of the Team", Some(&contact.team_name));
    let address: String = contact.address.lines().map(|line| format!(" {}\n", line.trim())).collect();
    subsection(&mut out, "2.2", "Address", Some(&address));
    subsection(&mut out, "2.3", "Time Zone", Some(&contact.time_zone));
    subsection(&mut out, "2.4", "Telephone Number", contact.telephone.as_deref());
    subsection(&mut out, "2.5", "Facsimile Number", contact.facsimile.as_deref());
    subsection(&mut out, "2.6", "Other Telecommunication", contact.other_telecommunication.as_deref());
    subsection(&mut out, "2.7", "Electronic Mail Address", Some(&contact.email));
    let mut keys = contact.public_keys.clone().unwrap_or_default();
    if let Some(fingerprint) = &contact.pgp_fingerprint {
        if !keys.is_empty() {
            keys.push_str("\n\n");
        }
        keys.push_str(&format!("The team's OpenPGP key has the fingerprint:\n {}", grouped(fingerprint)));
    }
    subsection(&mut out, "2.8", "Public Keys and Encryption Information", Some(&keys));
    subsection(&mut out, "2.9", "Team Members", contact.team_members.as_deref());
    subsection(&mut out, "2.10", "Other Information", contact.other_information.as_deref());
    subsection(&mut out, "2.11", "Points of Customer Contact", Some(&contact.customer_contact));

    section(&mut out, "3", "Charter");
    let charter = &profile.charter;
    subsection(&mut out, "3.1", "Mission Statement", Some(&charter.mission_statement));
    subsection(&mut out, "3.2", "Constituency", Some(&charter.constituency));
    subsection(&mut out, "3.3", "Sponsorship and/or Affiliation", charter.sponsorship.as_deref());
    subsection(&mut out, "3.4", "Authority", charter.authority.as_deref());

    section(&mut out, "4", "Policies");
    let policies = &profile.policies;
    subsection(
        &mut out,
        "4.1",
        "Types of Incidents and Level of Support",
        policies.incident_types.as_deref(),
    );
    subsection(
        &mut out,
        "4.2",
        "Co-operation, Interaction and Disclosure of Information",
        policies.cooperation.as_deref(),
    );
    subsection(&mut out, "4.3", "Communication and Authentication", policies.communication.as_deref());

    section(&mut out, "5", "Services");
    let services = &profile.services;
    subsection(&mut out, "5.1", "Incident Response", services.incident_response.as_deref());
    subsection(&mut out, "5.1.1", "Incident Triage", services.triage.as_deref());
    subsection(&mut out, "5.1.2", "Incident Coordination", services.coordination.as_deref());
    subsection(&mut out, "5.1.3", "Incident Resolution", services.resolution.as_deref());
    subsection(&mut out, "5.2", "Proactive Activities", services.proactive.as_deref());

    section(&mut out, "6", "Incident Reporting Forms");
    paragraph(&mut out, profile.forms.as_deref().filter(|text| !text.trim().is_empty()).unwrap_or(NONE));
    out.push('\n');
    section(&mut out, "7", "Disclaimers");
    paragraph(
        &mut out,
        profile.disclaimers.as_deref().filter(|text| !text.trim().is_empty()).unwrap_or(NONE),
    );
    out
}
