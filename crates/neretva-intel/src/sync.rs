//! What happens to distribution levels and tags when an event leaves for, or arrives from,
//! another instance (MISP's synchronisation rules).
//!
//! | level | received by pull (stored as) | sent by push (sent as) |
//! |---|---|---|
//! | 0 organisation | never leaves the instance | not sent |
//! | 1 this community | 0 | not sent; attributes and objects at 1 are removed from pushed events |
//! | 2 connected communities | 1 | 1 |
//! | 3 all communities | 3 | 3 |
//! | 4 sharing group | 4, the group travels with the event | only to a peer whose organisation is a member |
//! | 5 inherit | 5 | 5 |
//!
//! An *internal* peer (an instance of the same organisation) skips the downgrades, never the
//! rule that level 0 stays home. Local tags never travel; non-exportable tags are dropped. Only
//! published events are pushed.

use uuid::Uuid;

use crate::access::SharingGroup;
use crate::model::{AttrDistribution, Attribute, Distribution, IntelEvent};

/// The other instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// The organisation that runs it.
    pub org: Uuid,
    /// Whether it is an instance of this organisation.
    pub internal: bool,
}

/// The event as it is pushed to `peer`, or `None` if it must not be sent. `groups` are the
/// sharing groups the event and its parts name.
pub fn for_push(event: &IntelEvent, peer: &Peer, groups: &[SharingGroup]) -> Option<IntelEvent> {
    if !event.published {
        return None;
    }
    let reaches = |group: Option<Uuid>| {
        group.and_then(|uuid| groups.iter().find(|g| g.uuid == uuid)).is_some_and(|g| g.has_member(peer.org))
    };
    let level = |own: Distribution, group: Option<Uuid>| -> Option<Distribution> {
        match own {
            Distribution::Organisation => None,
            Distribution::Community if peer.internal => Some(own),
            Distribution::Community => None,
            Distribution::Connected if peer.internal => Some(own),
            Distribution::Connected => Some(Distribution::Community),
            Distribution::All => Some(own),
            Distribution::SharingGroup => reaches(group).then_some(own),
        }
    };
    let mut out = event.clone();
    out.distribution = level(event.distribution, event.sharing_group)?;
    let part = |distribution: AttrDistribution, group: Option<Uuid>| -> Option<AttrDistribution> {
        match distribution {
            AttrDistribution::Inherit => Some(AttrDistribution::Inherit),
            AttrDistribution::Level(own) => level(own, group).map(AttrDistribution::Level),
        }
    };
    let keep_attribute = |attribute: &mut Attribute| -> bool {
        match part(attribute.distribution, attribute.sharing_group) {
            Some(level) => {
                attribute.distribution = level;
                attribute.tags.retain(|tag| tag.travels());
                true
            }
            None => false,
        }
    };
    out.attributes.retain_mut(keep_attribute);
    out.objects.retain_mut(|object| match part(object.distribution, object.sharing_group) {
        Some(level) => {
            object.distribution = level;
            object.attributes.retain_mut(keep_attribute);
            true
        }
        None => false,
    });
    out.tags.retain(|tag| tag.travels());
    Some(out)
}

/// The event as stored after a pull from a peer: levels narrowed one step (unless the peer is
/// internal), local tags removed.
pub fn after_pull(event: &IntelEvent, internal: bool) -> IntelEvent {
    let narrow = |level: Distribution| match level {
        _ if internal => level,
        Distribution::Community => Distribution::Organisation,
        Distribution::Connected => Distribution::Community,
        other => other,
    };
    let narrow_part = |distribution: AttrDistribution| match distribution {
        AttrDistribution::Inherit => AttrDistribution::Inherit,
        AttrDistribution::Level(level) => AttrDistribution::Level(narrow(level)),
    };
    let mut out = event.clone();
    out.distribution = narrow(event.distribution);
    out.tags.retain(|tag| !tag.local);
    for attribute in &mut out.attributes {
        attribute.distribution = narrow_part(attribute.distribution);
        attribute.tags.retain(|tag| !tag.local);
    }
    for object in &mut out.objects {
        object.distribution = narrow_part(object.distribution);
        for attribute in &mut object.attributes {
            attribute.distribution = narrow_part(attribute.distribution);
            attribute.tags.retain(|tag| !tag.local);
        }
    }
    out
}
