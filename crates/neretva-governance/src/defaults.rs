//! Default data: the BiH *Guidelines for a Strategic Cybersecurity Framework* (Sarajevo, October
//! 2019, OSCE Mission to BiH) with its nine objectives A–I, to break into measures and actions at
//! each level of authority.
//!
//! The Guidelines publish the objectives' titles; their measures and KPIs are added by those who
//! implement them. The cross-walk tags here are a starting point (which NIS2 Art. 7 contents,
//! ENISA objectives, OSCE CBMs and Budapest Convention articles each objective serves) and may
//! be changed like any other tag.

use neretva_model::Uuid;
use neretva_model::tlp::Tlp;
use time::macros::date;

use crate::strategy::{Objective, StrategyDocument};

/// The code of the Guidelines' document.
pub const GUIDELINES_CODE: &str = "BIH-SCF-2019";

/// The objectives A–I: code, title, tags.
pub const GUIDELINES_OBJECTIVES: [(&str, &str, &[&str]); 9] = [
    (
        "A",
        "A systematic approach to the harmonisation and development of cyber-security legislation is ensured",
        &["nis2-7:a", "nis2-7:b", "osce-cbm:6"],
    ),
    (
        "B",
        "Secured information and communication systems of the key services providers",
        &["nis2-7:d", "enisa:2", "enisa:4", "enisa:5"],
    ),
    (
        "C",
        "Raising awareness and knowledge on cyber security",
        &["nis2-7:h", "nis2-21:g", "enisa:6", "enisa:7"],
    ),
    (
        "D",
        "Functional bodies in charge of securing, strengthening and improving cyber security",
        &["nis2-7:b", "nis2-7:c", "nis2-7:f", "enisa:8", "enisa:13"],
    ),
    (
        "E",
        "Improved security and resilience of information and communication systems",
        &["nis2-21:a", "enisa:4"],
    ),
    ("F", "Enhanced capacity to combat cybercrime", &["budapest:29", "budapest:35", "enisa:9", "osce-cbm:6"]),
    (
        "G",
        "Effective cyber-security co-operation established in international, regional and domestic frameworks",
        &["enisa:10", "enisa:13", "osce-cbm:2", "osce-cbm:8", "osce-cbm:15"],
    ),
    ("H", "Capacity built to adequately respond to crisis", &["nis2-7:e", "enisa:1", "enisa:3"]),
    ("I", "Public–private partnership established", &["nis2-7:e", "enisa:11", "osce-cbm:14"]),
];

/// The Guidelines as a document owned by `owner_org` (the coordinating organisation), readable by
/// every authenticated user (`TLP:GREEN`; the Guidelines are public, the actions added to them
/// need not be).
pub fn guidelines(id: Uuid, owner_org: Uuid) -> StrategyDocument {
    StrategyDocument {
        id,
        code: GUIDELINES_CODE.into(),
        title: "Guidelines for a Strategic Cybersecurity Framework in Bosnia and Herzegovina".into(),
        description: Some(
            "Adopted in Sarajevo in October 2019 with the support of the OSCE Mission to Bosnia and Herzegovina \
             as the basis for strategic documents at every level of authority."
                .into(),
        ),
        owner_org,
        authority_level: None,
        tlp: Tlp::Green,
        adopted: Some(date!(2019 - 10 - 10)),
        tags: Vec::new(),
        objectives: GUIDELINES_OBJECTIVES
            .iter()
            .map(|(code, title, tags)| Objective {
                code: (*code).into(),
                title: (*title).into(),
                description: None,
                tags: tags.iter().map(|tag| (*tag).to_owned()).collect(),
                measures: Vec::new(),
            })
            .collect(),
    }
}
