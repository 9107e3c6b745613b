//! Maturity self-assessments: SIM3 for CSIRTs and the NIS2 Art. 21(2) self-assessment for
//! operators.
//!
//! An [`Assessment`] belongs to one organisation, uses one [`Framework`], and scores parameters of
//! that framework's catalogue ([`SIM3_PARAMETERS`], [`NIS2_AREAS`]) on the 0–4 scale, each with
//! its evidence. Taking the assessment again makes a new assessment; the history of an
//! organisation is its assessments of one framework by date ([`history`]), two of them compare
//! parameter by parameter ([`compare`]), SIM3 ones map to an ENISA tier ([`enisa_tier`]), and
//! NIS2 ones aggregate by sector for a competent authority ([`sector_aggregates`]).

use std::collections::BTreeMap;

use neretva_model::{FieldError, Uuid, check_text};
use serde::{Deserialize, Serialize};
use time::Date;

use crate::crosswalk::NIS2_ART21;
use crate::strategy::iso_date;

/// The longest evidence text of one parameter, and the longest title, in characters.
pub const MAX_EVIDENCE_CHARS: usize = 4000;
pub const MAX_TITLE_CHARS: usize = 200;
/// The highest level of the 0–4 scale.
pub const MAX_LEVEL: u8 = 4;

/// The framework an assessment uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Framework {
    /// SIM3, the Security Incident Management Maturity Model of the Open CSIRT Foundation.
    Sim3,
    /// The ten risk-management measure areas of NIS2 Art. 21(2).
    Nis2,
}

impl Framework {
    pub const ALL: [Framework; 2] = [Framework::Sim3, Framework::Nis2];

    pub fn as_str(self) -> &'static str {
        match self {
            Framework::Sim3 => "sim3",
            Framework::Nis2 => "nis2",
        }
    }

    pub fn parse(text: &str) -> Option<Framework> {
        Framework::ALL.into_iter().find(|framework| framework.as_str() == text)
    }

    /// The parameters (SIM3) or measure areas (NIS2) assessed, in catalogue order.
    pub fn catalogue(self) -> &'static [Parameter] {
        match self {
            Framework::Sim3 => SIM3_PARAMETERS,
            Framework::Nis2 => NIS2_AREAS,
        }
    }

    /// What each level of the 0–4 scale means in this framework.
    pub fn levels(self) -> &'static [&'static str; 5] {
        match self {
            Framework::Sim3 => &SIM3_LEVELS,
            Framework::Nis2 => &NIS2_LEVELS,
        }
    }

    /// The catalogue entry with this id.
    pub fn parameter(self, id: &str) -> Option<&'static Parameter> {
        self.catalogue().iter().find(|parameter| parameter.id == id)
    }
}

/// One assessed parameter (SIM3) or measure area (NIS2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Parameter {
    /// `O-1` … `P-17` for SIM3, `a` … `j` (the points of Art. 21(2)) for NIS2.
    pub id: &'static str,
    /// SIM3: `O` (organisation), `H` (human), `T` (tools), `P` (processes); NIS2: `21(2)`.
    pub category: &'static str,
    pub name: &'static str,
    pub description: &'static str,
}

const fn p(
    id: &'static str,
    category: &'static str,
    name: &'static str,
    description: &'static str,
) -> Parameter {
    Parameter { id, category, name, description }
}

/// The SIM3 scale (one scale, valid for every parameter).
pub const SIM3_LEVELS: [&str; 5] = [
    "not available, undefined or unaware",
    "implicit: known, but not written down",
    "explicit, internal: written down, not formalised",
    "explicit, formalised on the authority of the CSIRT head",
    "explicit, audited on the authority of governance above the CSIRT head",
];

/// The scale of the NIS2 Art. 21 self-assessment: the same steps as SIM3's, read as how far a
/// measure is in place (level 4 answers Art. 21(2)(f), assessing effectiveness).
pub const NIS2_LEVELS: [&str; 5] = [
    "not in place",
    "ad hoc: practised, not documented",
    "documented, not yet approved",
    "implemented and approved by the management body (Art. 20)",
    "implemented, and its effectiveness assessed and reviewed (Art. 21(2)(f))",
];

/// The SIM3 parameters: the 44 of SIM3 v1 (10 O, 7 H, 10 T, 17 P) and O-6, added by the
/// interim SIM3 v2 (1 January 2023). The name of O-6 is the parameter ENISA's CSIRT Maturity
/// Framework (February 2022) adds to SIM3, "Public Media Policy"; the ids and names of the list
/// follow the project's reference, which marks them as recalled and to be checked against the
/// Open CSIRT Foundation's text.
pub const SIM3_PARAMETERS: &[Parameter] = &[
    p("O-1", "O", "Mandate", "The CSIRT's mission and the authority that gave it"),
    p("O-2", "O", "Constituency", "Who the CSIRT serves, and how that is defined"),
    p("O-3", "O", "Authority", "What the CSIRT may do towards its constituency"),
    p("O-4", "O", "Responsibility", "What the CSIRT must do, and is accountable for"),
    p("O-5", "O", "Service Description", "The services offered to the constituency"),
    p("O-6", "O", "Public Media Policy", "How the CSIRT deals with the press and public media"),
    p("O-7", "O", "Service Level Description", "The levels of service promised, e.g. response times"),
    p("O-8", "O", "Incident Classification", "The scheme incidents are classified by"),
    p("O-9", "O", "Integration in existing CSIRT systems", "Participation in CSIRT networks and frameworks"),
    p(
        "O-10",
        "O",
        "Organisational Framework",
        "How mandate, constituency, services and policies fit together",
    ),
    p("O-11", "O", "Security Policy", "The security policy the CSIRT itself follows"),
    p("H-1", "H", "Code of Conduct/Practice/Ethics", "The rules of conduct staff follow"),
    p("H-2", "H", "Personnel Resilience", "Enough staff to keep services up through absence"),
    p("H-3", "H", "Skillset Description", "The skills each role needs"),
    p("H-4", "H", "Internal Training", "Training within the team"),
    p("H-5", "H", "(External) Technical Training", "Technical training from outside the team"),
    p("H-6", "H", "(External) Communication Training", "Communication training from outside the team"),
    p("H-7", "H", "External Networking", "Contacts with peers outside the team"),
    p("T-1", "T", "IT Resources List", "The IT resources of the constituency the CSIRT knows"),
    p("T-2", "T", "Information Sources List", "The sources of vulnerability and threat information"),
    p("T-3", "T", "Consolidated E-mail System", "A consolidated e-mail system for the team"),
    p("T-4", "T", "Incident Tracking System", "The system incidents are tracked in"),
    p("T-5", "T", "Resilient Phone", "Telephony that keeps working in a crisis"),
    p("T-6", "T", "Resilient E-mail", "E-mail that keeps working in a crisis"),
    p("T-7", "T", "Resilient Internet Access", "Internet access that keeps working in a crisis"),
    p("T-8", "T", "Incident Prevention Toolset", "Tools that prevent incidents"),
    p("T-9", "T", "Incident Detection Toolset", "Tools that detect incidents"),
    p("T-10", "T", "Incident Resolution Toolset", "Tools that resolve incidents"),
    p("P-1", "P", "Escalation to Governance Level", "How incidents are escalated to governance"),
    p("P-2", "P", "Escalation to Press Function", "How incidents are escalated to the press function"),
    p("P-3", "P", "Escalation to Legal Function", "How incidents are escalated to the legal function"),
    p("P-4", "P", "Incident Prevention Process", "The process that prevents incidents"),
    p("P-5", "P", "Incident Detection Process", "The process that detects incidents"),
    p("P-6", "P", "Incident Resolution Process", "The process that resolves incidents"),
    p("P-7", "P", "Specific Incident Processes", "Processes for specific kinds of incident"),
    p("P-8", "P", "Audit/Feedback Process", "How the CSIRT's work is audited and fed back"),
    p("P-9", "P", "Emergency Reachability Process", "How the team is reached in an emergency"),
    p("P-10", "P", "Best Practice E-mail and Web Presence", "E-mail and web presence by best practice"),
    p("P-11", "P", "Secure Information Handling Process", "How information is handled securely"),
    p("P-12", "P", "Information Sources Process", "How information sources are used"),
    p("P-13", "P", "Outreach Process", "How the CSIRT reaches out to its constituency"),
    p("P-14", "P", "Reporting Process", "How the CSIRT reports on its work"),
    p("P-15", "P", "Statistics Process", "How statistics are kept and published"),
    p("P-16", "P", "Meeting Process", "How the team meets"),
    p("P-17", "P", "Peer-to-peer Process", "How the CSIRT works with peer teams"),
];

/// The ten risk-management measure areas of NIS2 Art. 21(2), by their points (a)–(j); the
/// descriptions are the cross-walk's ([`crate::crosswalk::NIS2_ART21`]).
pub const NIS2_AREAS: &[Parameter] = &[
    p(NIS2_ART21[0].0, "21(2)", "Risk analysis and security policies", NIS2_ART21[0].1),
    p(NIS2_ART21[1].0, "21(2)", "Incident handling", NIS2_ART21[1].1),
    p(NIS2_ART21[2].0, "21(2)", "Business continuity and crisis management", NIS2_ART21[2].1),
    p(NIS2_ART21[3].0, "21(2)", "Supply-chain security", NIS2_ART21[3].1),
    p(NIS2_ART21[4].0, "21(2)", "Secure acquisition, development and maintenance", NIS2_ART21[4].1),
    p(NIS2_ART21[5].0, "21(2)", "Effectiveness assessment", NIS2_ART21[5].1),
    p(NIS2_ART21[6].0, "21(2)", "Cyber hygiene and training", NIS2_ART21[6].1),
    p(NIS2_ART21[7].0, "21(2)", "Cryptography and encryption", NIS2_ART21[7].1),
    p(NIS2_ART21[8].0, "21(2)", "HR security, access control and asset management", NIS2_ART21[8].1),
    p(NIS2_ART21[9].0, "21(2)", "MFA and secured communications", NIS2_ART21[9].1),
];

/// A parameter's score: its level on the 0–4 scale and the evidence for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Score {
    pub parameter: String,
    pub level: u8,
    #[serde(default)]
    pub evidence: Option<String>,
}

/// One self-assessment of one organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assessment {
    pub id: Uuid,
    pub org_id: Uuid,
    pub framework: Framework,
    pub title: String,
    /// The day the assessment speaks for.
    #[serde(with = "iso_date")]
    pub assessed_on: Date,
    /// The scores, in catalogue order, each parameter at most once.
    #[serde(default)]
    pub scores: Vec<Score>,
}

impl Assessment {
    /// A new assessment without scores.
    pub fn new(id: Uuid, org_id: Uuid, framework: Framework, title: String, assessed_on: Date) -> Assessment {
        Assessment { id, org_id, framework, title, assessed_on, scores: Vec::new() }
    }

    /// The level of a parameter, if scored.
    pub fn level(&self, parameter: &str) -> Option<u8> {
        self.scores.iter().find(|score| score.parameter == parameter).map(|score| score.level)
    }

    /// How many catalogue parameters are scored, and how many there are.
    pub fn completeness(&self) -> (usize, usize) {
        (self.scores.len(), self.framework.catalogue().len())
    }

    /// The mean level of the scored parameters.
    pub fn mean(&self) -> Option<f64> {
        mean(self.scores.iter().map(|score| score.level))
    }
}

fn mean(levels: impl Iterator<Item = u8>) -> Option<f64> {
    let (sum, count) = levels.fold((0u32, 0u32), |(sum, count), level| (sum + u32::from(level), count + 1));
    (count > 0).then(|| round2(f64::from(sum) / f64::from(count)))
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// Checks a level and evidence text, naming `field` in the error.
fn check_score(field: &str, level: u8, evidence: Option<&str>) -> Result<(), FieldError> {
    if level > MAX_LEVEL {
        return Err(FieldError::new(format!("{field}.level"), format!("{level} is not on the 0–4 scale")));
    }
    if let Some(evidence) = evidence {
        check_text(&format!("{field}.evidence"), evidence, MAX_EVIDENCE_CHARS)?;
    }
    Ok(())
}

/// Sets (or replaces) a parameter's score, keeping catalogue order.
pub fn set_score(
    assessment: &mut Assessment,
    parameter: &str,
    level: u8,
    evidence: Option<String>,
) -> Result<(), FieldError> {
    let catalogue = assessment.framework.catalogue();
    let Some(position) = catalogue.iter().position(|entry| entry.id == parameter) else {
        return Err(FieldError::new(
            "parameter",
            format!("{parameter:?} is not a {} parameter", assessment.framework.as_str()),
        ));
    };
    check_score(parameter, level, evidence.as_deref())?;
    let score = Score { parameter: parameter.to_owned(), level, evidence };
    match assessment.scores.iter().position(|score| score.parameter == parameter) {
        Some(index) => assessment.scores[index] = score,
        None => {
            let order = |id: &str| catalogue.iter().position(|entry| entry.id == id).unwrap_or(usize::MAX);
            let at = assessment.scores.iter().take_while(|score| order(&score.parameter) < position).count();
            assessment.scores.insert(at, score);
        }
    }
    Ok(())
}

/// Every problem of an assessment, by field path.
pub fn validate(assessment: &Assessment) -> Vec<FieldError> {
    let mut problems = Vec::new();
    if let Err(error) = check_text("title", &assessment.title, MAX_TITLE_CHARS) {
        problems.push(error);
    }
    let catalogue = assessment.framework.catalogue();
    let mut last = None;
    for (index, score) in assessment.scores.iter().enumerate() {
        let field = format!("scores[{index}]");
        let Some(position) = catalogue.iter().position(|entry| entry.id == score.parameter) else {
            problems.push(FieldError::new(
                format!("{field}.parameter"),
                format!("{:?} is not a {} parameter", score.parameter, assessment.framework.as_str()),
            ));
            continue;
        };
        if last.is_some_and(|last| position <= last) {
            problems.push(FieldError::new(
                format!("{field}.parameter"),
                format!("{} is listed twice or out of catalogue order", score.parameter),
            ));
        }
        last = Some(position);
        if let Err(error) = check_score(&field, score.level, score.evidence.as_deref()) {
            problems.push(error);
        }
    }
    problems
}

/// An organisation's assessments of one framework, oldest first (by day, then id).
pub fn history(assessments: &[Assessment], org_id: Uuid, framework: Framework) -> Vec<&Assessment> {
    let mut own: Vec<&Assessment> =
        assessments.iter().filter(|a| a.org_id == org_id && a.framework == framework).collect();
    own.sort_by_key(|a| (a.assessed_on, a.id));
    own
}

/// ENISA's three tiers of CSIRT maturity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Basic,
    Intermediate,
    Advanced,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Basic => "basic",
            Tier::Intermediate => "intermediate",
            Tier::Advanced => "advanced",
        }
    }
}

/// The ENISA tier a SIM3 assessment reaches, `None` below basic, for an incomplete assessment,
/// or for another framework.
///
/// The rule: ENISA's CSIRT Maturity Framework (February 2022) sorts teams into three tiers over
/// the SIM3 parameters; the project's reference (SIM3 and the ENISA framework, domain brief 6.1)
/// names the tiers and the 0–4 scale but not the level each tier asks of each parameter. Neretva
/// therefore reads the tiers off the SIM3 scale itself, for every parameter of the catalogue:
/// - **basic**: every parameter at least 1 (implicit: the team knows what it does);
/// - **intermediate**: every parameter at least 2 (explicit: written down);
/// - **advanced**: every parameter at least 3 (formalised on the authority of the CSIRT head).
///
/// A parameter left unscored counts as not reaching any tier, so a partial assessment reaches
/// none. The rule is the weakest parameter's level, which is how the ENISA tiers are meant to
/// be read: a tier is reached as a whole, not on average.
pub fn enisa_tier(assessment: &Assessment) -> Option<Tier> {
    if assessment.framework != Framework::Sim3 {
        return None;
    }
    let weakest =
        SIM3_PARAMETERS.iter().map(|parameter| assessment.level(parameter.id).unwrap_or(0)).min()?;
    match weakest {
        0 => None,
        1 => Some(Tier::Basic),
        2 => Some(Tier::Intermediate),
        _ => Some(Tier::Advanced),
    }
}

/// How one parameter moved between two assessments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Improved,
    Regressed,
    Unchanged,
    /// Scored in only one of the two, or in neither.
    Unscored,
}

/// One row of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParameterDelta {
    pub parameter: &'static str,
    pub name: &'static str,
    pub before: Option<u8>,
    pub after: Option<u8>,
    /// `after - before` when both are scored.
    pub delta: Option<i8>,
    pub change: Change,
}

/// Two assessments of the same framework, parameter by parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub framework: Framework,
    pub before: Uuid,
    pub after: Uuid,
    pub rows: Vec<ParameterDelta>,
    pub improved: usize,
    pub regressed: usize,
    pub unchanged: usize,
    pub mean_before: Option<f64>,
    pub mean_after: Option<f64>,
    pub tier_before: Option<Tier>,
    pub tier_after: Option<Tier>,
}

/// Compares `before` with `after`; they must use the same framework.
pub fn compare(before: &Assessment, after: &Assessment) -> Result<Comparison, FieldError> {
    if before.framework != after.framework {
        return Err(FieldError::new(
            "framework",
            format!(
                "a {} assessment cannot be compared with a {} one",
                before.framework.as_str(),
                after.framework.as_str()
            ),
        ));
    }
    let rows: Vec<ParameterDelta> = before
        .framework
        .catalogue()
        .iter()
        .map(|parameter| {
            let (old, new) = (before.level(parameter.id), after.level(parameter.id));
            let delta = old.zip(new).map(|(old, new)| new as i8 - old as i8);
            let change = match delta {
                None => Change::Unscored,
                Some(d) if d > 0 => Change::Improved,
                Some(d) if d < 0 => Change::Regressed,
                Some(_) => Change::Unchanged,
            };
            ParameterDelta {
                parameter: parameter.id,
                name: parameter.name,
                before: old,
                after: new,
                delta,
                change,
            }
        })
        .collect();
    let count = |change: Change| rows.iter().filter(|row| row.change == change).count();
    Ok(Comparison {
        framework: before.framework,
        before: before.id,
        after: after.id,
        improved: count(Change::Improved),
        regressed: count(Change::Regressed),
        unchanged: count(Change::Unchanged),
        rows,
        mean_before: before.mean(),
        mean_after: after.mean(),
        tier_before: enisa_tier(before),
        tier_after: enisa_tier(after),
    })
}

/// One measure area across a sector's organisations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaAggregate {
    pub area: &'static str,
    pub name: &'static str,
    /// How many of the sector's organisations scored the area.
    pub scored: usize,
    pub mean: Option<f64>,
    pub median: Option<f64>,
}

/// The NIS2 self-assessments of one sector, each organisation's latest counted once.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SectorAggregate {
    pub sector: String,
    pub organisations: usize,
    pub areas: Vec<AreaAggregate>,
}

fn median(levels: &mut [u8]) -> Option<f64> {
    levels.sort_unstable();
    let n = levels.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(f64::from(levels[n / 2])),
        _ => Some(round2((f64::from(levels[n / 2 - 1]) + f64::from(levels[n / 2])) / 2.0)),
    }
}

/// Aggregates NIS2 self-assessments by sector: for each sector, the latest assessment of each
/// organisation (by day), and per measure area how many scored it, the mean and the median.
/// `sector_of` gives an organisation's sector (`None` leaves it out); SIM3 assessments are left
/// out. Sectors come out in name order.
pub fn sector_aggregates<'a>(
    assessments: impl IntoIterator<Item = &'a Assessment>,
    sector_of: impl Fn(Uuid) -> Option<String>,
) -> Vec<SectorAggregate> {
    let mut latest: BTreeMap<Uuid, &Assessment> = BTreeMap::new();
    for assessment in assessments.into_iter().filter(|a| a.framework == Framework::Nis2) {
        let entry = latest.entry(assessment.org_id).or_insert(assessment);
        if (assessment.assessed_on, assessment.id) > (entry.assessed_on, entry.id) {
            *entry = assessment;
        }
    }
    let mut by_sector: BTreeMap<String, Vec<&Assessment>> = BTreeMap::new();
    for (org, assessment) in latest {
        if let Some(sector) = sector_of(org) {
            by_sector.entry(sector).or_default().push(assessment);
        }
    }
    by_sector
        .into_iter()
        .map(|(sector, members)| SectorAggregate {
            sector,
            organisations: members.len(),
            areas: NIS2_AREAS
                .iter()
                .map(|area| {
                    let mut levels: Vec<u8> = members.iter().filter_map(|a| a.level(area.id)).collect();
                    AreaAggregate {
                        area: area.id,
                        name: area.name,
                        scored: levels.len(),
                        mean: mean(levels.iter().copied()),
                        median: median(&mut levels),
                    }
                })
                .collect(),
        })
        .collect()
}
