//! Working groups: the open, multi-stakeholder working group the BiH Guidelines call for (the
//! informal "Neretva Group") and its sector sub-groups (energy, finance, ...).
//!
//! A group has members (a person with an e-mail address, from an organisation of the registry
//! or from an outside organisation named in free text, with the NIS2 sector and the kind of
//! stakeholder they represent, and an optional self-declared gender and age band), meetings
//! (agenda, minutes, decisions), action items (an owner among the members, a due date, a
//! status, optionally a link to an action of the strategy tracker), documents shared under a
//! TLP label, and a record of the announcements sent to its members.
//!
//! A group is stored whole, like a strategic document: a change applies to a copy, [`validate`]
//! checks the result, and the store writes it under the version read.
//!
//! Privacy: a member's gender and age band are self-declared (only the member sets them) and
//! leave this module only as [`diversity`] aggregates, in which a count below
//! [`MIN_REPORTED_COUNT`] is never shown (see [`diversity`] for the rule).

use std::collections::{BTreeMap, HashSet};

use neretva_model::contact::{Language, check_email};
use neretva_model::org::sector;
use neretva_model::tlp::Tlp;
use neretva_model::{FieldError, Timestamp, Uuid, check_optional_text, check_text};
use serde::{Deserialize, Serialize};
use time::Date;

use crate::strategy::{check_code, check_url, iso_date};

/// The most members of a group.
pub const MAX_MEMBERS: usize = 1000;
/// The most meetings, action items, documents and recorded announcements of a group.
pub const MAX_MEETINGS: usize = 500;
pub const MAX_ACTION_ITEMS: usize = 2000;
pub const MAX_DOCUMENTS: usize = 200;
pub const MAX_ANNOUNCEMENTS: usize = 1000;
/// The most agenda items and decisions of a meeting.
pub const MAX_AGENDA: usize = 100;
pub const MAX_DECISIONS: usize = 100;
/// The largest minutes of a meeting, in bytes.
pub const MAX_MINUTES_BYTES: usize = 256 * 1024;
/// The largest shared document, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 512 * 1024;
/// The smallest count a diversity aggregate shows; smaller ones are suppressed.
pub const MIN_REPORTED_COUNT: u32 = 3;

/// A working group: the main group (no parent) or a sub-group of one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkingGroup {
    pub id: Uuid,
    /// A short unique handle, e.g. `NWG` or `NWG-ENERGY`.
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The main group of a sub-group; a sub-group has no sub-groups of its own.
    #[serde(default)]
    pub parent: Option<Uuid>,
    /// The organisation of the registry that convenes the group (its secretariat).
    pub convener_org: Uuid,
    /// The NIS2 sector of a sector sub-group (`energy`, ...).
    #[serde(default)]
    pub sector: Option<String>,
    /// The group's diversity goals, in words.
    #[serde(default)]
    pub diversity_goals: Option<String>,
    #[serde(default)]
    pub members: Vec<Member>,
    #[serde(default)]
    pub meetings: Vec<Meeting>,
    #[serde(default)]
    pub action_items: Vec<ActionItem>,
    #[serde(default)]
    pub documents: Vec<SharedDocument>,
    #[serde(default)]
    pub announcements: Vec<Announcement>,
}

/// The kind of stakeholder a member represents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StakeholderKind {
    Public,
    Private,
    Academia,
    CivilSociety,
}

impl StakeholderKind {
    pub const ALL: [StakeholderKind; 4] = [
        StakeholderKind::Public,
        StakeholderKind::Private,
        StakeholderKind::Academia,
        StakeholderKind::CivilSociety,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StakeholderKind::Public => "public",
            StakeholderKind::Private => "private",
            StakeholderKind::Academia => "academia",
            StakeholderKind::CivilSociety => "civil_society",
        }
    }

    pub fn parse(text: &str) -> Option<StakeholderKind> {
        StakeholderKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// A member's role in the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberRole {
    Chair,
    Secretary,
    Member,
    Observer,
}

impl MemberRole {
    pub const ALL: [MemberRole; 4] =
        [MemberRole::Chair, MemberRole::Secretary, MemberRole::Member, MemberRole::Observer];

    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Chair => "chair",
            MemberRole::Secretary => "secretary",
            MemberRole::Member => "member",
            MemberRole::Observer => "observer",
        }
    }

    pub fn parse(text: &str) -> Option<MemberRole> {
        MemberRole::ALL.into_iter().find(|role| role.as_str() == text)
    }
}

/// A self-declared gender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Female,
    Male,
    /// Another gender (non-binary, ...).
    Other,
}

impl Gender {
    pub const ALL: [Gender; 3] = [Gender::Female, Gender::Male, Gender::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Female => "female",
            Gender::Male => "male",
            Gender::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Gender> {
        Gender::ALL.into_iter().find(|gender| gender.as_str() == text)
    }
}

/// A self-declared age band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AgeBand {
    #[serde(rename = "under_25")]
    Under25,
    #[serde(rename = "25_34")]
    From25To34,
    #[serde(rename = "35_44")]
    From35To44,
    #[serde(rename = "45_54")]
    From45To54,
    #[serde(rename = "55_64")]
    From55To64,
    #[serde(rename = "65_plus")]
    From65,
}

impl AgeBand {
    pub const ALL: [AgeBand; 6] = [
        AgeBand::Under25,
        AgeBand::From25To34,
        AgeBand::From35To44,
        AgeBand::From45To54,
        AgeBand::From55To64,
        AgeBand::From65,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AgeBand::Under25 => "under_25",
            AgeBand::From25To34 => "25_34",
            AgeBand::From35To44 => "35_44",
            AgeBand::From45To54 => "45_54",
            AgeBand::From55To64 => "55_64",
            AgeBand::From65 => "65_plus",
        }
    }

    pub fn parse(text: &str) -> Option<AgeBand> {
        AgeBand::ALL.into_iter().find(|band| band.as_str() == text)
    }
}

/// A member of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    pub id: Uuid,
    pub name: String,
    /// Where announcements go; unique in the group (compared without case).
    pub email: String,
    /// The member's organisation in the registry; exactly one of `org_id` and `outside_org`.
    #[serde(default)]
    pub org_id: Option<Uuid>,
    /// The name of an organisation outside the registry (a university, an association, ...).
    #[serde(default)]
    pub outside_org: Option<String>,
    /// The NIS2 sector the member represents, if one.
    #[serde(default)]
    pub sector: Option<String>,
    pub kind: StakeholderKind,
    pub role: MemberRole,
    /// The language of announcements to the member.
    pub language: Language,
    #[serde(with = "iso_date")]
    pub joined: Date,
    /// Self-declared; never shown to anyone but the member (see [`diversity`]).
    #[serde(default)]
    pub gender: Option<Gender>,
    /// Self-declared; never shown to anyone but the member (see [`diversity`]).
    #[serde(default)]
    pub age_band: Option<AgeBand>,
}

/// A meeting of the group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meeting {
    pub id: Uuid,
    pub title: String,
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub ends_at: Timestamp,
    /// Where it takes place; a meeting has a place, an online link or both.
    #[serde(default)]
    pub place: Option<String>,
    #[serde(default)]
    pub online_url: Option<String>,
    #[serde(default)]
    pub agenda: Vec<String>,
    /// Markdown.
    #[serde(default)]
    pub minutes: Option<String>,
    #[serde(default)]
    pub decisions: Vec<Decision>,
}

/// A decision taken at a meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub id: Uuid,
    pub text: String,
}

/// The state of an action item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    Open,
    InProgress,
    Done,
    Cancelled,
}

impl ItemStatus {
    pub const ALL: [ItemStatus; 4] =
        [ItemStatus::Open, ItemStatus::InProgress, ItemStatus::Done, ItemStatus::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Open => "open",
            ItemStatus::InProgress => "in_progress",
            ItemStatus::Done => "done",
            ItemStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<ItemStatus> {
        ItemStatus::ALL.into_iter().find(|status| status.as_str() == text)
    }
}

/// An action of a strategic document (`neretva_governance::strategy`) an item serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyLink {
    pub document: Uuid,
    pub action: Uuid,
}

/// Something a member is to do by a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionItem {
    pub id: Uuid,
    pub title: String,
    /// A member of the group.
    pub owner: Uuid,
    #[serde(with = "iso_date")]
    pub due: Date,
    pub status: ItemStatus,
    /// The meeting that decided it.
    #[serde(default)]
    pub meeting: Option<Uuid>,
    #[serde(default)]
    pub strategy: Option<StrategyLink>,
}

/// The format of a shared document's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentFormat {
    Markdown,
    Text,
}

/// A document shared with the group under a TLP label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedDocument {
    pub id: Uuid,
    pub title: String,
    pub tlp: Tlp,
    pub format: DocumentFormat,
    pub content: String,
    /// Members who may read a `TLP:RED` document (its named recipients); empty otherwise.
    #[serde(default)]
    pub recipients: Vec<Uuid>,
    /// The user who shared it.
    pub added_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub added_at: Timestamp,
}

/// An announcement sent to the members, with the recorded messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Announcement {
    pub id: Uuid,
    pub subject: String,
    pub body: String,
    pub tlp: Tlp,
    pub sent_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: Timestamp,
    /// The recorded messages (one per member), whose delivery the notifier tracks.
    pub messages: Vec<Uuid>,
}

// Validation.

struct Problems(Vec<FieldError>);

impl Problems {
    fn push(&mut self, result: Result<(), FieldError>) {
        if let Err(error) = result {
            self.0.push(error);
        }
    }

    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    fn limit(&mut self, field: &str, count: usize, max: usize) {
        if count > max {
            self.add(field, format!("at most {max} allowed, got {count}"));
        }
    }

    fn optional(&mut self, field: &str, value: Option<&str>, max: usize) {
        if let Some(value) = value {
            self.push(check_optional_text(field, value, max));
        }
    }

    fn bytes(&mut self, field: &str, value: &str, max: usize) {
        if value.len() > max {
            self.add(field, format!("is {} bytes; at most {max} allowed", value.len()));
        } else if value.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            self.add(field, "contains control characters");
        }
    }
}

fn check_sector(field: &str, slug: &str) -> Result<(), FieldError> {
    if sector(slug).is_some() {
        Ok(())
    } else {
        Err(FieldError::new(field, format!("{slug:?} is not a sector of NIS2 Annex I or II")))
    }
}

/// Checks a member on its own (not against the other members); `path` ends with `.`.
pub fn check_member(path: &str, member: &Member) -> Vec<FieldError> {
    let mut problems = Problems(Vec::new());
    problems.push(check_text(&format!("{path}name"), &member.name, 200));
    if let Err(error) = check_email(&member.email) {
        problems.add(format!("{path}email"), error.message);
    }
    match (&member.org_id, &member.outside_org) {
        (Some(_), Some(_)) => {
            problems.add(format!("{path}outside_org"), "give either org_id or outside_org, not both")
        }
        (None, None) => problems.add(
            format!("{path}org_id"),
            "the member's organisation is required: org_id (registry) or outside_org (free text)",
        ),
        (None, Some(name)) => problems.push(check_text(&format!("{path}outside_org"), name, 300)),
        (Some(_), None) => {}
    }
    if let Some(slug) = &member.sector {
        problems.push(check_sector(&format!("{path}sector"), slug));
    }
    problems.0
}

/// Checks a whole group; returns every problem with its field path (`members[2].email`).
pub fn validate(group: &WorkingGroup) -> Vec<FieldError> {
    let mut problems = Problems(Vec::new());
    problems.push(check_code("code", &group.code));
    problems.push(check_text("name", &group.name, 300));
    problems.optional("description", group.description.as_deref(), 10_000);
    problems.optional("diversity_goals", group.diversity_goals.as_deref(), 10_000);
    if group.parent == Some(group.id) {
        problems.add("parent", "a group cannot be its own parent");
    }
    if let Some(slug) = &group.sector {
        problems.push(check_sector("sector", slug));
    }

    problems.limit("members", group.members.len(), MAX_MEMBERS);
    let mut member_ids = HashSet::new();
    let mut emails = BTreeMap::new();
    for (index, member) in group.members.iter().enumerate() {
        let path = format!("members[{index}].");
        if !member_ids.insert(member.id) {
            problems.add(format!("{path}id"), format!("duplicate member {}", member.id));
        }
        problems.0.extend(check_member(&path, member));
        let key = member.email.trim().to_lowercase();
        if let Some(first) = emails.insert(key, index) {
            problems.add(
                format!("{path}email"),
                format!("{:?} is already a member (members[{first}])", member.email),
            );
        }
    }

    problems.limit("meetings", group.meetings.len(), MAX_MEETINGS);
    let mut meeting_ids = HashSet::new();
    for (index, meeting) in group.meetings.iter().enumerate() {
        let path = format!("meetings[{index}].");
        if !meeting_ids.insert(meeting.id) {
            problems.add(format!("{path}id"), format!("duplicate meeting {}", meeting.id));
        }
        problems.push(check_text(&format!("{path}title"), &meeting.title, 300));
        if meeting.ends_at < meeting.starts_at {
            problems.add(format!("{path}ends_at"), "the meeting ends before it starts");
        }
        if meeting.place.is_none() && meeting.online_url.is_none() {
            problems.add(format!("{path}place"), "a meeting needs a place, an online_url or both");
        }
        if let Some(place) = &meeting.place {
            problems.push(check_text(&format!("{path}place"), place, 300));
        }
        if let Some(url) = &meeting.online_url {
            problems.push(check_url(&format!("{path}online_url"), url));
        }
        problems.limit(&format!("{path}agenda"), meeting.agenda.len(), MAX_AGENDA);
        for (item, text) in meeting.agenda.iter().enumerate() {
            problems.push(check_text(&format!("{path}agenda[{item}]"), text, 1000));
        }
        if let Some(minutes) = &meeting.minutes {
            problems.bytes(&format!("{path}minutes"), minutes, MAX_MINUTES_BYTES);
        }
        problems.limit(&format!("{path}decisions"), meeting.decisions.len(), MAX_DECISIONS);
        let mut decision_ids = HashSet::new();
        for (d, decision) in meeting.decisions.iter().enumerate() {
            if !decision_ids.insert(decision.id) {
                problems
                    .add(format!("{path}decisions[{d}].id"), format!("duplicate decision {}", decision.id));
            }
            problems.push(check_text(&format!("{path}decisions[{d}].text"), &decision.text, 5000));
        }
    }

    problems.limit("action_items", group.action_items.len(), MAX_ACTION_ITEMS);
    let mut item_ids = HashSet::new();
    for (index, item) in group.action_items.iter().enumerate() {
        let path = format!("action_items[{index}].");
        if !item_ids.insert(item.id) {
            problems.add(format!("{path}id"), format!("duplicate action item {}", item.id));
        }
        problems.push(check_text(&format!("{path}title"), &item.title, 500));
        if !member_ids.contains(&item.owner) {
            problems.add(format!("{path}owner"), format!("no member {} in the group", item.owner));
        }
        if let Some(meeting) = item.meeting
            && !meeting_ids.contains(&meeting)
        {
            problems.add(format!("{path}meeting"), format!("no meeting {meeting} in the group"));
        }
        if let Some(meeting) = item.meeting.and_then(|id| group.meetings.iter().find(|m| m.id == id))
            && item.due < meeting.starts_at.date()
        {
            problems.add(
                format!("{path}due"),
                format!("{} is before the meeting that decided it ({})", item.due, meeting.starts_at.date()),
            );
        }
    }

    problems.limit("documents", group.documents.len(), MAX_DOCUMENTS);
    let mut document_ids = HashSet::new();
    for (index, document) in group.documents.iter().enumerate() {
        let path = format!("documents[{index}].");
        if !document_ids.insert(document.id) {
            problems.add(format!("{path}id"), format!("duplicate document {}", document.id));
        }
        problems.push(check_text(&format!("{path}title"), &document.title, 300));
        if document.content.trim().is_empty() {
            problems.add(format!("{path}content"), "must not be empty");
        }
        problems.bytes(&format!("{path}content"), &document.content, MAX_DOCUMENT_BYTES);
        if document.tlp == Tlp::Red && document.recipients.is_empty() {
            problems.add(format!("{path}recipients"), "a TLP:RED document needs named recipients (members)");
        }
        if document.tlp != Tlp::Red && !document.recipients.is_empty() {
            problems.add(format!("{path}recipients"), "only a TLP:RED document names recipients");
        }
        for (r, recipient) in document.recipients.iter().enumerate() {
            if !member_ids.contains(recipient) {
                problems.add(format!("{path}recipients[{r}]"), format!("no member {recipient} in the group"));
            }
        }
    }
    problems.limit("announcements", group.announcements.len(), MAX_ANNOUNCEMENTS);
    problems.0
}

/// The organisations of the registry a group names, with the field naming each (the convener
/// first, then the members'), for the store to find.
pub fn org_references(group: &WorkingGroup) -> Vec<(String, Uuid)> {
    let mut references = vec![("convener_org".to_owned(), group.convener_org)];
    for (index, member) in group.members.iter().enumerate() {
        if let Some(org) = member.org_id {
            references.push((format!("members[{index}].org_id"), org));
        }
    }
    references
}

/// The strategy actions the group's items link to, with the field naming each.
pub fn strategy_references(group: &WorkingGroup) -> Vec<(String, StrategyLink)> {
    group
        .action_items
        .iter()
        .enumerate()
        .filter_map(|(index, item)| {
            item.strategy.map(|link| (format!("action_items[{index}].strategy"), link))
        })
        .collect()
}

// Membership.

/// The member a user is: the member with the user's e-mail address (compared without case).
pub fn member_by_email<'a>(group: &'a WorkingGroup, email: Option<&str>) -> Option<&'a Member> {
    let email = email?.trim();
    if email.is_empty() {
        return None;
    }
    group.members.iter().find(|member| member.email.trim().eq_ignore_ascii_case(email))
}

/// Whether a user of `org` with `email` is a member: the organisation is a member's, or the
/// address is a member's.
pub fn is_member(group: &WorkingGroup, org: Uuid, email: Option<&str>) -> bool {
    group.members.iter().any(|member| member.org_id == Some(org)) || member_by_email(group, email).is_some()
}

/// The distinct registry organisations of the members.
pub fn member_orgs(group: &WorkingGroup) -> Vec<Uuid> {
    let mut orgs: Vec<Uuid> = group.members.iter().filter_map(|member| member.org_id).collect();
    orgs.sort();
    orgs.dedup();
    orgs
}

// Changes.

/// Adds a member; an address already in the group is refused.
pub fn add_member(group: &mut WorkingGroup, member: Member) -> Result<(), FieldError> {
    if let Some(existing) = member_by_email(group, Some(&member.email)) {
        return Err(FieldError::new(
            "email",
            format!("{:?} is already a member ({})", member.email, existing.id),
        ));
    }
    group.members.push(member);
    Ok(())
}

/// Removes a member; one who owns open action items or is a named recipient of a document is
/// refused (reassign or close them first).
pub fn remove_member(group: &mut WorkingGroup, member: Uuid) -> Result<(), FieldError> {
    let Some(index) = group.members.iter().position(|m| m.id == member) else {
        return Err(FieldError::new("member", format!("no member {member} in the group")));
    };
    let open = group
        .action_items
        .iter()
        .filter(|item| {
            item.owner == member && matches!(item.status, ItemStatus::Open | ItemStatus::InProgress)
        })
        .count();
    if open > 0 {
        return Err(FieldError::new(
            "member",
            format!("the member owns {open} open action item(s); reassign or close them first"),
        ));
    }
    if group.documents.iter().any(|document| document.recipients.contains(&member)) {
        return Err(FieldError::new("member", "the member is a named recipient of a TLP:RED document"));
    }
    group.members.remove(index);
    Ok(())
}

/// A member's self-declaration: `None` withdraws a value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SelfDeclaration {
    pub gender: Option<Gender>,
    pub age_band: Option<AgeBand>,
}

/// Records what a member declares about themself.
pub fn declare(
    group: &mut WorkingGroup,
    member: Uuid,
    declaration: SelfDeclaration,
) -> Result<(), FieldError> {
    let found = group
        .members
        .iter_mut()
        .find(|m| m.id == member)
        .ok_or_else(|| FieldError::new("member", format!("no member {member} in the group")))?;
    found.gender = declaration.gender;
    found.age_band = declaration.age_band;
    Ok(())
}

/// Finds a meeting to change.
pub fn meeting_mut(group: &mut WorkingGroup, id: Uuid) -> Result<&mut Meeting, FieldError> {
    group
        .meetings
        .iter_mut()
        .find(|meeting| meeting.id == id)
        .ok_or_else(|| FieldError::new("meeting", format!("no meeting {id} in the group")))
}

/// Finds an action item to change.
pub fn item_mut(group: &mut WorkingGroup, id: Uuid) -> Result<&mut ActionItem, FieldError> {
    group
        .action_items
        .iter_mut()
        .find(|item| item.id == id)
        .ok_or_else(|| FieldError::new("item", format!("no action item {id} in the group")))
}

// Diversity.

/// One category of a diversity aggregate: its count, or `None` when suppressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    pub category: String,
    pub count: Option<u32>,
}

/// The group's composition, in aggregates only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diversity {
    pub members: u32,
    /// By kind of stakeholder (public, private, academia, civil society): not personal, shown whole.
    pub by_kind: Vec<Cell>,
    /// By NIS2 sector represented (`none` for members representing none): shown whole.
    pub by_sector: Vec<Cell>,
    /// By self-declared gender, `not_declared` included; small counts suppressed.
    pub by_gender: Vec<Cell>,
    /// By self-declared age band, `not_declared` included; small counts suppressed.
    pub by_age_band: Vec<Cell>,
    /// The rule applied, in words.
    pub rule: String,
}

/// Counts with small-count suppression: a category with 1 or 2 members (fewer than
/// [`MIN_REPORTED_COUNT`]) is shown as `None`; when exactly one category is suppressed, the
/// smallest other non-zero category is suppressed too, so the total cannot give the hidden
/// count away. Zero is shown (it says nothing about any person).
fn suppressed(counts: Vec<(String, u32)>) -> Vec<Cell> {
    let small = |count: u32| count > 0 && count < MIN_REPORTED_COUNT;
    let mut hidden: Vec<bool> = counts.iter().map(|(_, count)| small(*count)).collect();
    if hidden.iter().filter(|h| **h).count() == 1 {
        let extra = counts
            .iter()
            .enumerate()
            .filter(|(index, (_, count))| !hidden[*index] && *count > 0)
            .min_by_key(|(_, (_, count))| *count)
            .map(|(index, _)| index);
        if let Some(index) = extra {
            hidden[index] = true;
        }
    }
    counts
        .into_iter()
        .zip(hidden)
        .map(|((category, count), hidden)| Cell { category, count: if hidden { None } else { Some(count) } })
        .collect()
}

/// The group's composition by kind, sector, gender and age band. Kind and sector describe the
/// organisations represented and are shown whole; gender and age band are personal and shown
/// only as counts of at least [`MIN_REPORTED_COUNT`] (see `suppressed`): no individual's value
/// can be read from the result, whatever the group's size.
pub fn diversity(group: &WorkingGroup) -> Diversity {
    let count = |pred: &dyn Fn(&Member) -> bool| group.members.iter().filter(|m| pred(m)).count() as u32;
    let by_kind = StakeholderKind::ALL
        .into_iter()
        .map(|kind| Cell { category: kind.as_str().into(), count: Some(count(&|m| m.kind == kind)) })
        .collect();
    let mut sectors: BTreeMap<String, u32> = BTreeMap::new();
    for member in &group.members {
        *sectors.entry(member.sector.clone().unwrap_or_else(|| "none".into())).or_default() += 1;
    }
    let by_sector =
        sectors.into_iter().map(|(category, count)| Cell { category, count: Some(count) }).collect();
    let mut genders: Vec<(String, u32)> =
        Gender::ALL.into_iter().map(|g| (g.as_str().to_owned(), count(&|m| m.gender == Some(g)))).collect();
    genders.push(("not_declared".into(), count(&|m| m.gender.is_none())));
    let mut ages: Vec<(String, u32)> = AgeBand::ALL
        .into_iter()
        .map(|a| (a.as_str().to_owned(), count(&|m| m.age_band == Some(a))))
        .collect();
    ages.push(("not_declared".into(), count(&|m| m.age_band.is_none())));
    Diversity {
        members: group.members.len() as u32,
        by_kind,
        by_sector,
        by_gender: suppressed(genders),
        by_age_band: suppressed(ages),
        rule: format!(
            "gender and age band counts below {MIN_REPORTED_COUNT} are suppressed (null); when only one \
             is, the next smallest is suppressed too"
        ),
    }
}

// Announcements.

/// The framing of an announcement in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framing {
    /// The word in the subject: `Announcement`.
    pub label: &'static str,
    /// The greeting; `{group}` is the group's name.
    pub greeting: &'static str,
    /// The closing line; `{group}`, `{code}` and `{sender}` are filled in.
    pub footer: &'static str,
}

/// The framing of announcements in the five languages.
pub fn framing(language: Language) -> Framing {
    match language {
        Language::En => Framing {
            label: "Announcement",
            greeting: "To the members of the working group \u{201c}{group}\u{201d}:",
            footer: "You receive this message as a member of the working group \u{201c}{group}\u{201d} \
                     ({code}). Sent by {sender}.",
        },
        Language::Bs => Framing {
            label: "Obavještenje",
            greeting: "Članovima radne grupe \u{201e}{group}\u{201c}:",
            footer: "Ovu poruku primate kao član radne grupe \u{201e}{group}\u{201c} ({code}). \
                     Poruku je poslao {sender}.",
        },
        Language::Hr => Framing {
            label: "Obavijest",
            greeting: "Članovima radne skupine \u{201e}{group}\u{201d}:",
            footer: "Ovu poruku primate kao član radne skupine \u{201e}{group}\u{201d} ({code}). \
                     Poruku je poslao {sender}.",
        },
        Language::SrLatn => Framing {
            label: "Obaveštenje",
            greeting: "Članovima radne grupe \u{201e}{group}\u{201c}:",
            footer: "Ovu poruku primate kao član radne grupe \u{201e}{group}\u{201c} ({code}). \
                     Poruku je poslao {sender}.",
        },
        Language::SrCyrl => Framing {
            label: "Обавештење",
            greeting: "Члановима радне групе \u{201e}{group}\u{201c}:",
            footer: "Ову поруку примате као члан радне групе \u{201e}{group}\u{201c} ({code}). \
                     Поруку је послао {sender}.",
        },
    }
}

/// An announcement's subject and plain-text body for one member's language: the TLP label
/// first (as on every message the CERT sends), the greeting, the text, the footer.
pub fn announcement_text(
    group: &WorkingGroup,
    language: Language,
    tlp: Tlp,
    subject: &str,
    body: &str,
    sender: &str,
) -> (String, String) {
    let frame = framing(language);
    let fill = |text: &str| {
        text.replace("{group}", &group.name).replace("{code}", &group.code).replace("{sender}", sender)
    };
    let label = tlp.label();
    let subject = format!("[{label}] [{}] {}: {}", group.code, frame.label, subject.trim());
    let body = format!(
        "{label}\n\n{}\n\n{}\n\n-- \n{}\n",
        fill(frame.greeting),
        body.replace("\r\n", "\n").replace('\r', "\n").trim_end(),
        fill(frame.footer)
    );
    (subject, body)
}

#[cfg(test)]
mod tests;
