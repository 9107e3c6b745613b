//! Who may see an intel event, and what a principal may see of a sharing group.
//!
//! An event's visibility is its TLP (from its TLP tag, else the instance's default) narrowed by
//! its distribution, expressed as the inputs of [`neretva_model::access::may_see`], which decides:
//!
//! | distribution | TLP given to `may_see` | sharing group | recipients |
//! |---|---|---|---|
//! | organisation only | at least AMBER+STRICT (the owner, its parents, the operator's staff) | – | – |
//! | this community, connected communities | at least GREEN (signed-in users only) | – | – |
//! | all communities | the event's | – | – |
//! | sharing group | at least GREEN | the group's member organisations | the members, when AMBER or narrower |
//!
//! An event restricted to a sharing group that is not known fails closed: it is treated as
//! organisation only.
//!
//! **Confidential sharing groups.** A member of a confidential group learns that it is a member,
//! the group's name and description, and nothing about the other members, not even their number.
//! The group's owner organisation and the operator's staff see every member. A principal that is
//! not a member sees nothing of any group ([`view_sharing_group`] gives `None`).

use neretva_model::access::{Principal, Visibility, may_see};
use neretva_model::tlp::Tlp;
use uuid::Uuid;

use crate::model::{Distribution, IntelEvent};

/// A sharing group: organisations an event may be restricted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharingGroup {
    pub uuid: Uuid,
    pub name: String,
    pub description: String,
    /// The organisation that manages the group.
    pub owner_org: Uuid,
    /// The member organisations (the owner is always one).
    pub members: Vec<Uuid>,
    /// Whether members are kept from learning who the other members are.
    pub confidential: bool,
}

impl SharingGroup {
    /// Whether `org` is a member (the owner always is).
    pub fn has_member(&self, org: Uuid) -> bool {
        self.owner_org == org || self.members.contains(&org)
    }

    /// Every member, the owner first, each once.
    pub fn all_members(&self) -> Vec<Uuid> {
        let mut out = vec![self.owner_org];
        for member in &self.members {
            if !out.contains(member) {
                out.push(*member);
            }
        }
        out
    }
}

/// What a principal may see of a sharing group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharingGroupView {
    pub uuid: Uuid,
    pub name: String,
    pub description: String,
    pub confidential: bool,
    /// The owner, when the principal may see the membership.
    pub owner_org: Option<Uuid>,
    /// The members the principal may see: all of them, or only its own organisation.
    pub members: Vec<Uuid>,
    /// Whether `members` is the whole membership.
    pub complete: bool,
}

/// What `principal` may see of `group`, or `None` if it may not know the group exists.
pub fn view_sharing_group(principal: &Principal, group: &SharingGroup) -> Option<SharingGroupView> {
    let Principal::User(user) = principal else { return None };
    let manager = user.is_operator_staff() || user.org_id == group.owner_org;
    if !manager && !group.has_member(user.org_id) {
        return None;
    }
    let full = manager || !group.confidential;
    Some(SharingGroupView {
        uuid: group.uuid,
        name: group.name.clone(),
        description: group.description.clone(),
        confidential: group.confidential,
        owner_org: full.then_some(group.owner_org),
        members: if full { group.all_members() } else { vec![user.org_id] },
        complete: full,
    })
}

/// What [`may_see`] needs of an event, owned so a [`Visibility`] can borrow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventAudience {
    pub tlp: Tlp,
    pub owner_org: Uuid,
    pub owner_ancestors: Vec<Uuid>,
    pub recipient_orgs: Vec<Uuid>,
    pub sharing_group: Option<Vec<Uuid>>,
}

impl EventAudience {
    /// The audience of an object owned by `owner_org` (with its parents `owner_ancestors`) with
    /// TLP `tlp` and distribution `distribution`; `group` is the sharing group it names, if known.
    pub fn new(
        owner_org: Uuid,
        owner_ancestors: Vec<Uuid>,
        tlp: Tlp,
        distribution: Distribution,
        group: Option<&SharingGroup>,
    ) -> EventAudience {
        let mut audience = EventAudience {
            tlp,
            owner_org,
            owner_ancestors,
            recipient_orgs: Vec::new(),
            sharing_group: None,
        };
        match (distribution, group) {
            (Distribution::Organisation, _) | (Distribution::SharingGroup, None) => {
                audience.tlp = tlp.max(Tlp::AmberStrict);
            }
            (Distribution::Community | Distribution::Connected, _) => audience.tlp = tlp.max(Tlp::Green),
            (Distribution::All, _) => {}
            (Distribution::SharingGroup, Some(group)) => {
                audience.tlp = tlp.max(Tlp::Green);
                let members = group.all_members();
                if audience.tlp >= Tlp::Amber {
                    audience.recipient_orgs = members.clone();
                }
                audience.sharing_group = Some(members);
            }
        }
        audience
    }

    /// The audience of an event: its TLP tag (else `default_tlp`), distribution and group.
    /// `owner_org` is the event's owner on this instance.
    pub fn of_event(
        event: &IntelEvent,
        owner_org: Uuid,
        owner_ancestors: Vec<Uuid>,
        default_tlp: Tlp,
        group: Option<&SharingGroup>,
    ) -> EventAudience {
        let group = group.filter(|group| Some(group.uuid) == event.sharing_group);
        EventAudience::new(owner_org, owner_ancestors, event.tlp(default_tlp), event.distribution, group)
    }

    /// The visibility `may_see` decides on.
    pub fn visibility(&self) -> Visibility<'_> {
        Visibility {
            tlp: self.tlp,
            owner_org: Some(self.owner_org),
            owner_ancestors: &self.owner_ancestors,
            recipient_orgs: &self.recipient_orgs,
            recipient_users: &[],
            sharing_group: self.sharing_group.as_deref(),
            sectors: &[],
        }
    }

    /// Whether `principal` may see the object.
    pub fn may_see(&self, principal: &Principal) -> bool {
        may_see(principal, &self.visibility())
    }
}

#[cfg(test)]
mod tests {
    use neretva_model::access::UserPrincipal;
    use neretva_model::user::{Role, Scope};

    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn user(org: u128, role: Role, operator: bool) -> Principal {
        Principal::User(UserPrincipal {
            user_id: id(1000 + org),
            username: format!("user{org}"),
            org_id: id(org),
            role,
            org_ancestors: Vec::new(),
            operator,
            scope: Scope::Admin,
            sectors: Vec::new(),
        })
    }

    fn group(confidential: bool) -> SharingGroup {
        SharingGroup {
            uuid: id(77),
            name: "energy sector".into(),
            description: "operators of essential services in energy".into(),
            owner_org: id(1),
            members: vec![id(2), id(3)],
            confidential,
        }
    }

    #[test]
    fn a_confidential_group_hides_the_other_members() {
        let confidential = group(true);
        let member = user(2, Role::Community, false);
        let view = view_sharing_group(&member, &confidential).unwrap();
        assert_eq!(view.members, vec![id(2)]);
        assert_eq!(view.owner_org, None);
        assert!(!view.complete);
        assert!(!format!("{view:?}").contains(&id(3).to_string()));
        assert!(!format!("{view:?}").contains(&id(1).to_string()));

        let open = group(false);
        let view = view_sharing_group(&member, &open).unwrap();
        assert_eq!(view.members, vec![id(1), id(2), id(3)]);
        assert!(view.complete);

        // The owner and the operator's staff see every member; outsiders see nothing.
        assert!(view_sharing_group(&user(1, Role::Community, false), &confidential).unwrap().complete);
        assert!(view_sharing_group(&user(9, Role::Analyst, true), &confidential).unwrap().complete);
        assert_eq!(view_sharing_group(&user(9, Role::Community, false), &confidential), None);
        assert_eq!(view_sharing_group(&user(9, Role::Analyst, false), &open), None);
        assert_eq!(view_sharing_group(&Principal::Anonymous, &open), None);
    }

    #[test]
    fn distribution_narrows_the_tlp() {
        let owner = user(1, Role::Analyst, false);
        let member = user(2, Role::Community, false);
        let outsider = user(9, Role::Community, false);
        let staff = user(5, Role::Analyst, true);
        let sg = group(false);
        let see = |tlp, distribution, principal: &Principal| {
            EventAudience::new(id(1), Vec::new(), tlp, distribution, Some(&sg)).may_see(principal)
        };
        // Organisation only: the owner and the operator's staff, whatever the TLP.
        assert!(see(Tlp::Clear, Distribution::Organisation, &owner));
        assert!(see(Tlp::Clear, Distribution::Organisation, &staff));
        assert!(!see(Tlp::Clear, Distribution::Organisation, &member));
        // Community: every signed-in user, nobody anonymous.
        assert!(see(Tlp::Clear, Distribution::Community, &outsider));
        assert!(!see(Tlp::Clear, Distribution::Community, &Principal::Anonymous));
        assert!(see(Tlp::Clear, Distribution::All, &Principal::Anonymous));
        assert!(!see(Tlp::Green, Distribution::All, &Principal::Anonymous));
        // Sharing group: members only, at GREEN and at AMBER.
        for tlp in [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict] {
            assert!(see(tlp, Distribution::SharingGroup, &member), "{tlp}");
            assert!(!see(tlp, Distribution::SharingGroup, &outsider), "{tlp}");
            assert!(!see(tlp, Distribution::SharingGroup, &Principal::Anonymous), "{tlp}");
        }
        // RED stays with named users only, whatever the distribution.
        assert!(!see(Tlp::Red, Distribution::SharingGroup, &member));
        assert!(!see(Tlp::Red, Distribution::All, &owner));
        // An unknown group fails closed.
        let unknown = EventAudience::new(id(1), Vec::new(), Tlp::Green, Distribution::SharingGroup, None);
        assert!(!unknown.may_see(&member));
        assert!(unknown.may_see(&owner));
    }
}
