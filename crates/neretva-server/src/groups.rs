//! Working groups over the store: the operations the API (`api::groups`) and the command line
//! (`neretva groups`) share. Who may call them is the caller's business; what they do is here.

use std::collections::BTreeMap;

use neretva_governance::groups::{self, Announcement, WorkingGroup};
use neretva_model::tlp::Tlp;
use neretva_model::{FieldError, Timestamp, Uuid};
use neretva_notifier::{Advisory, AnnouncementRecipient, Notifier, NotifierError};
use neretva_store::groups::StoredGroup;
use neretva_store::notifications::{NewMessage, NotificationWrite, StoredMessage};
use neretva_store::{Actor, Store, StoreError};

/// What can go wrong announcing to a group.
#[derive(Debug, thiserror::Error)]
pub enum AnnounceError {
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Notifier(#[from] NotifierError),
}

/// The members an announcement goes to: every member, filed under the member's organisation,
/// or the group's convener for a member from outside the registry.
pub fn recipients(group: &WorkingGroup) -> Vec<AnnouncementRecipient> {
    group
        .members
        .iter()
        .map(|member| AnnouncementRecipient {
            org_id: member.org_id.unwrap_or(group.convener_org),
            name: member.name.clone(),
            email: member.email.clone(),
            language: member.language,
        })
        .collect()
}

/// What to announce.
#[derive(Debug, Clone)]
pub struct AnnouncementInput {
    pub subject: String,
    pub body: String,
    pub tlp: Tlp,
    /// Who sends it (the audit actor's name), recorded on the announcement.
    pub sent_by: String,
}

/// Announces to every member of a group: one signed message each, in the member's language
/// (`groups::announcement_text`), recorded with the announcement on the group in one
/// transaction under the version read, and sent by the notifier's next delivery pass. A member
/// whose address cannot be written to gets a message recorded as failed; the others still get
/// theirs.
pub async fn announce(
    store: &dyn Store,
    notifier: &Notifier,
    actor: &Actor,
    stored: &StoredGroup,
    input: &AnnouncementInput,
    now: Timestamp,
) -> Result<(StoredGroup, Announcement, Vec<StoredMessage>), AnnounceError> {
    let advisory = Advisory { subject: input.subject.clone(), body: input.body.clone(), tlp: input.tlp };
    if let Err(NotifierError::Invalid { field, message }) = advisory.check() {
        return Err(AnnounceError::Invalid(vec![FieldError::new(field, message)]));
    }
    let mut group = stored.group.clone();
    if group.members.is_empty() {
        return Err(AnnounceError::Invalid(vec![FieldError::new(
            "members",
            "the group has no members to announce to",
        )]));
    }
    let cert = notifier.config().cert_name.clone();
    let messages = notifier.announcement_messages(
        &recipients(&group),
        input.tlp,
        |language| groups::announcement_text(&group, language, input.tlp, &input.subject, &input.body, &cert),
        now,
    )?;
    let announcement = Announcement {
        id: Uuid::new_v4(),
        subject: input.subject.trim().to_owned(),
        body: input.body.clone(),
        tlp: input.tlp,
        sent_by: input.sent_by.clone(),
        sent_at: now,
        messages: messages.iter().map(|message| message.id).collect(),
    };
    group.announcements.push(announcement.clone());
    let problems = groups::validate(&group);
    if !problems.is_empty() {
        return Err(AnnounceError::Invalid(problems));
    }
    let mut by_org: BTreeMap<Uuid, Vec<NewMessage>> = BTreeMap::new();
    for message in messages {
        by_org.entry(message.org_id).or_default().push(message);
    }
    let writes: Vec<NotificationWrite> = by_org
        .into_iter()
        .map(|(org_id, messages)| NotificationWrite { org_id, messages, ..NotificationWrite::default() })
        .collect();
    let (written, recorded) = store.announce_group(actor, &group, stored.version, &writes).await?;
    Ok((written, announcement, recorded))
}
