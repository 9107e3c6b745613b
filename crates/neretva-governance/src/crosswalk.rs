//! Cross-walk tags: what a strategy item contributes to, in the frameworks it answers to.
//!
//! A tag is `<catalogue>:<item>`:
//! - `nis2-21:a` … `nis2-21:j`: the ten risk-management measure areas of NIS2 Art. 21(2);
//! - `nis2-7:a` … `nis2-7:h`: what a national strategy must include under NIS2 Art. 7(1);
//! - `gdpr:1` … `gdpr:99`: articles of the GDPR;
//! - `budapest:1` … `budapest:48`: articles of the Budapest Convention on Cybercrime;
//! - `osce-cbm:1` … `osce-cbm:16`: the OSCE ICT confidence-building measures;
//! - `enisa:1` … `enisa:15`: the objectives of ENISA's national strategy good-practice guide.

use neretva_model::FieldError;

/// NIS2 Art. 21(2), the risk-management measure areas (a)–(j).
pub const NIS2_ART21: [(&str, &str); 10] = [
    ("a", "policies on risk analysis and information-system security"),
    ("b", "incident handling"),
    ("c", "business continuity and crisis management"),
    ("d", "supply-chain security"),
    (
        "e",
        "security in acquisition, development and maintenance, incl. vulnerability handling and disclosure",
    ),
    ("f", "assessing the effectiveness of the measures"),
    ("g", "basic cyber hygiene and cybersecurity training"),
    ("h", "cryptography and encryption"),
    ("i", "human-resources security, access control and asset management"),
    ("j", "multi-factor authentication and secured communications"),
];

/// NIS2 Art. 7(1), what a national cybersecurity strategy includes, (a)–(h).
pub const NIS2_ART7: [(&str, &str); 8] = [
    ("a", "objectives and priorities"),
    ("b", "governance framework"),
    ("c", "roles of stakeholders"),
    ("d", "asset identification and risk assessment"),
    ("e", "preparedness, response and recovery, incl. public-private co-operation"),
    ("f", "list of authorities and stakeholders"),
    ("g", "co-ordination with critical-entity authorities"),
    ("h", "citizen-awareness plan"),
];

/// The OSCE ICT confidence-building measures 1–16 (PC.DEC/1106 and PC.DEC/1202), in short.
pub const OSCE_CBMS: [&str; 16] = [
    "national views on ICT threats",
    "co-operation among competent national bodies",
    "consultations to reduce risks of misperception",
    "measures for an open, secure and reliable Internet",
    "the OSCE as a platform for dialogue",
    "legislation for time-sensitive co-operation against criminal use of ICTs",
    "national organisation, strategies and programmes",
    "contact points",
    "national ICT-security terminology",
    "OSCE platforms and communications network",
    "expert meetings three times a year",
    "inter-State exchanges in different formats",
    "authorised and protected communication channels",
    "public-private partnerships",
    "critical infrastructure co-operation",
    "responsible reporting of vulnerabilities",
];

/// ENISA's NCSS good-practice guide (2016), the 15 strategy objectives.
pub const ENISA_OBJECTIVES: [&str; 15] = [
    "national cyber contingency plans",
    "protect critical information infrastructure",
    "cyber exercises",
    "baseline security measures",
    "incident reporting mechanisms",
    "user awareness",
    "training and education",
    "incident response capability",
    "address cybercrime",
    "international co-operation",
    "public-private partnership",
    "balance security and privacy",
    "institutionalise inter-agency co-operation",
    "foster research and development",
    "incentives for private-sector investment",
];

/// The catalogues, as named in tags.
pub const CATALOGUES: [&str; 6] = ["nis2-21", "nis2-7", "gdpr", "budapest", "osce-cbm", "enisa"];

fn numbered(item: &str, max: usize) -> Option<usize> {
    if item.starts_with('0') {
        return None;
    }
    item.parse::<usize>().ok().filter(|n| (1..=max).contains(n))
}

/// What a tag stands for, or `None` for a tag outside the catalogues.
pub fn label(tag: &str) -> Option<String> {
    let (catalogue, item) = tag.split_once(':')?;
    match catalogue {
        "nis2-21" => NIS2_ART21
            .iter()
            .find(|(letter, _)| *letter == item)
            .map(|(letter, text)| format!("NIS2 Art. 21(2)({letter}) {text}")),
        "nis2-7" => NIS2_ART7
            .iter()
            .find(|(letter, _)| *letter == item)
            .map(|(letter, text)| format!("NIS2 Art. 7(1)({letter}) {text}")),
        "gdpr" => numbered(item, 99).map(|n| format!("GDPR Art. {n}")),
        "budapest" => numbered(item, 48).map(|n| format!("Budapest Convention Art. {n}")),
        "osce-cbm" => numbered(item, 16).map(|n| format!("OSCE CBM {n} {}", OSCE_CBMS[n - 1])),
        "enisa" => numbered(item, 15).map(|n| format!("ENISA objective {n} {}", ENISA_OBJECTIVES[n - 1])),
        _ => None,
    }
}

/// Checks one tag; `field` names it in the error.
pub fn check(field: &str, tag: &str) -> Result<(), FieldError> {
    if label(tag).is_some() {
        return Ok(());
    }
    let message = match tag.split_once(':') {
        Some((catalogue, item)) if CATALOGUES.contains(&catalogue) => {
            format!("{item:?} is not an item of {catalogue}")
        }
        _ => format!(
            "unknown tag {tag:?}; tags are <catalogue>:<item> with catalogue one of {}",
            CATALOGUES.join(", ")
        ),
    };
    Err(FieldError::new(field, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_label(tag: &str, expected: Option<&str>) {
        assert_eq!(label(tag).as_deref(), expected, "{tag}");
        assert_eq!(check("tags[0]", tag).is_ok(), expected.is_some(), "{tag}");
    }

    #[test]
    fn tags_inside_and_outside_the_catalogues() {
        check_label(
            "nis2-21:a",
            Some("NIS2 Art. 21(2)(a) policies on risk analysis and information-system security"),
        );
        check_label(
            "nis2-21:j",
            Some("NIS2 Art. 21(2)(j) multi-factor authentication and secured communications"),
        );
        check_label("nis2-21:k", None);
        check_label("nis2-7:h", Some("NIS2 Art. 7(1)(h) citizen-awareness plan"));
        check_label("nis2-7:i", None);
        check_label("gdpr:33", Some("GDPR Art. 33"));
        check_label("gdpr:100", None);
        check_label("gdpr:033", None);
        check_label("budapest:29", Some("Budapest Convention Art. 29"));
        check_label("budapest:0", None);
        check_label("osce-cbm:8", Some("OSCE CBM 8 contact points"));
        check_label("osce-cbm:16", Some("OSCE CBM 16 responsible reporting of vulnerabilities"));
        check_label("osce-cbm:17", None);
        check_label("enisa:11", Some("ENISA objective 11 public-private partnership"));
        check_label("enisa:16", None);
        check_label("iso:27001", None);
        check_label("enisa", None);
    }

    #[test]
    fn errors_name_the_field_and_the_catalogue() {
        let error = check("objectives[0].tags[1]", "osce-cbm:17").unwrap_err();
        assert_eq!(error.field, "objectives[0].tags[1]");
        assert_eq!(error.message, "\"17\" is not an item of osce-cbm");
        let error = check("tags[0]", "iso:27001").unwrap_err();
        assert!(error.message.starts_with("unknown tag \"iso:27001\""), "{}", error.message);
    }
}
