//! TAXII 2.1 collections as Neretva shares them: who a collection is for (its sharing scope),
//! who may add to it, and how the collection's scope and an object's TLP become the
//! [`Visibility`] that `may_see` decides on.
//!
//! A collection belongs to an organisation (its owner) and is shared with one of:
//! - [`Sharing::Organisation`]: the owner only (with the organisations above it and the
//!   operator's staff, as for `TLP:AMBER+STRICT`);
//! - [`Sharing::Groups`]: a list of organisations (a sharing group), plus the owner;
//! - [`Sharing::Community`]: every signed-in member of the community;
//! - [`Sharing::Public`]: everyone, anonymous callers included.
//!
//! Reading an object needs both: `may_see` on the collection (its scope as a TLP and a sharing
//! group), and `may_see` on the object (its own TLP, owned by the organisation that posted it and
//! addressed to the collection's audience). So a `TLP:CLEAR` object in an organisation-only
//! collection stays in the organisation, and a `TLP:AMBER` object in a public collection reaches
//! only the poster's and the collection owner's audiences.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use crate::FieldError;
use crate::access::{Principal, Visibility, may_see, may_write};
use crate::tlp::Tlp;

/// Who a collection is shared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sharing {
    /// The owning organisation only.
    Organisation,
    /// The owner and the listed organisations (a sharing group).
    Groups(Vec<Uuid>),
    /// Every signed-in member of the community.
    Community,
    /// Everyone, including anonymous callers (who read `TLP:CLEAR` objects only).
    Public,
}

impl Sharing {
    /// The scope's name as stored and shown: `organisation`, `groups`, `community`, `public`.
    pub fn kind(&self) -> &'static str {
        match self {
            Sharing::Organisation => "organisation",
            Sharing::Groups(_) => "groups",
            Sharing::Community => "community",
            Sharing::Public => "public",
        }
    }

    /// The organisations of a sharing group; empty for the other scopes.
    pub fn orgs(&self) -> &[Uuid] {
        match self {
            Sharing::Groups(orgs) => orgs,
            _ => &[],
        }
    }

    /// Builds a scope from its name and, for `groups`, its organisations.
    pub fn from_parts(kind: &str, orgs: Vec<Uuid>) -> Result<Sharing, FieldError> {
        let sharing = match kind {
            "organisation" => Sharing::Organisation,
            "groups" => Sharing::Groups(orgs.clone()),
            "community" => Sharing::Community,
            "public" => Sharing::Public,
            other => {
                return Err(FieldError::new(
                    "sharing",
                    format!(
                        "unknown sharing scope {other:?}; expected organisation, groups, community or public"
                    ),
                ));
            }
        };
        match (&sharing, orgs.is_empty()) {
            (Sharing::Groups(_), true) => {
                Err(FieldError::new("sharing_orgs", "a sharing group needs at least one organisation"))
            }
            (Sharing::Groups(_), false) => Ok(sharing),
            (_, false) => Err(FieldError::new("sharing_orgs", "only the groups scope lists organisations")),
            (_, true) => Ok(sharing),
        }
    }
}

/// Who may add objects to a collection (and delete them), beyond `may_write`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writers {
    /// Nobody through TAXII: a read-only collection.
    Nobody,
    /// Users of the owning organisation and the operator's staff.
    Owner,
    /// Everyone who may read the collection and may write at all (never anonymous callers).
    Readers,
}

impl Writers {
    pub const ALL: [Writers; 3] = [Writers::Nobody, Writers::Owner, Writers::Readers];

    pub fn as_str(self) -> &'static str {
        match self {
            Writers::Nobody => "nobody",
            Writers::Owner => "owner",
            Writers::Readers => "readers",
        }
    }
}

impl fmt::Display for Writers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Writers {
    type Err = FieldError;

    fn from_str(input: &str) -> Result<Writers, FieldError> {
        Writers::ALL.into_iter().find(|writers| writers.as_str() == input.trim()).ok_or_else(|| {
            FieldError::new(
                "writers",
                format!("unknown writers {input:?}; expected nobody, owner or readers"),
            )
        })
    }
}

/// What access control needs to know about a collection.
#[derive(Debug, Clone, Copy)]
pub struct CollectionAccess<'a> {
    pub owner_org: Uuid,
    /// The owner's parents, nearest first.
    pub owner_ancestors: &'a [Uuid],
    pub sharing: &'a Sharing,
    pub writers: Writers,
}

impl<'a> CollectionAccess<'a> {
    /// The collection itself as an object `may_see` decides on: its scope as a TLP (and a
    /// sharing group for `groups`).
    pub fn visibility(&self) -> Visibility<'a> {
        let owned = Visibility::owned(self.owner_org, self.owner_ancestors, Tlp::AmberStrict);
        match self.sharing {
            Sharing::Organisation => owned,
            Sharing::Groups(orgs) => Visibility { tlp: Tlp::Green, sharing_group: Some(orgs), ..owned },
            Sharing::Community => Visibility { tlp: Tlp::Green, ..owned },
            Sharing::Public => Visibility { tlp: Tlp::Clear, ..owned },
        }
    }

    /// Whether the principal may read the collection (list it, and read the objects in it it
    /// may see).
    pub fn may_read(&self, principal: &Principal) -> bool {
        may_see(principal, &self.visibility())
    }

    /// Whether the principal may add objects to the collection and delete them from it.
    pub fn may_write(&self, principal: &Principal) -> bool {
        if !may_write(principal) || !self.may_read(principal) {
            return false;
        }
        let Principal::User(user) = principal else { return false };
        match self.writers {
            Writers::Nobody => false,
            Writers::Owner => user.org_id == self.owner_org || user.is_operator_staff(),
            Writers::Readers => true,
        }
    }
}

/// What access control needs to know about one object in a collection.
#[derive(Debug, Clone, Copy)]
pub struct ObjectAccess<'a> {
    pub tlp: Tlp,
    /// The organisation that posted the object, and its parents.
    pub poster_org: Uuid,
    pub poster_ancestors: &'a [Uuid],
    /// The user who posted it: the named recipient of a `TLP:RED` object.
    pub poster_user: Option<Uuid>,
}

/// Whether the principal may see an object of a collection: the collection must be readable,
/// and the object, owned by its poster and addressed to the collection's owner (and sharing
/// group), must be visible under its own TLP.
pub fn may_see_object(
    principal: &Principal,
    collection: &CollectionAccess<'_>,
    object: &ObjectAccess<'_>,
) -> bool {
    if !collection.may_read(principal) {
        return false;
    }
    let mut recipients: Vec<Uuid> = Vec::with_capacity(1 + collection.sharing.orgs().len());
    recipients.push(collection.owner_org);
    recipients.extend_from_slice(collection.sharing.orgs());
    let users: &[Uuid] = match &object.poster_user {
        Some(user) => std::slice::from_ref(user),
        None => &[],
    };
    let group = match collection.sharing {
        Sharing::Groups(orgs) => Some(orgs.as_slice()),
        _ => None,
    };
    let visibility = Visibility {
        tlp: object.tlp,
        owner_org: Some(object.poster_org),
        owner_ancestors: object.poster_ancestors,
        recipient_orgs: &recipients,
        recipient_users: users,
        sharing_group: group,
        sectors: &[],
    };
    may_see(principal, &visibility)
}

/// The TLP labels a principal could see at all in a collection it may read: a superset of
/// what [`may_see_object`] allows, for narrowing a database query before the row-by-row check.
pub fn visible_tlps(principal: &Principal) -> &'static [Tlp] {
    match principal {
        Principal::Anonymous => &[Tlp::Clear],
        Principal::User(_) => &Tlp::ALL,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::access::UserPrincipal;
    use crate::user::{Role, Scope};

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn user(org: u128, ancestors: &[u128], role: Role, operator: bool, scope: Scope) -> Principal {
        Principal::User(UserPrincipal {
            user_id: id(1000 + org),
            username: format!("user{org}"),
            org_id: id(org),
            role,
            org_ancestors: ancestors.iter().copied().map(id).collect(),
            operator,
            scope,
            sectors: Vec::new(),
        })
    }

    const CERT: u128 = 1;
    const OWNER: u128 = 2;
    const MEMBER: u128 = 3;
    const OUTSIDER: u128 = 4;

    fn collection(sharing: &Sharing, writers: Writers) -> CollectionAccess<'_> {
        CollectionAccess { owner_org: id(OWNER), owner_ancestors: &[], sharing, writers }
    }

    fn object(tlp: Tlp, poster: u128) -> ObjectAccess<'static> {
        ObjectAccess {
            tlp,
            poster_org: id(poster),
            poster_ancestors: &[],
            poster_user: Some(id(1000 + poster)),
        }
    }

    #[test]
    fn scopes_decide_who_reads_the_collection() {
        let staff = user(CERT, &[], Role::Analyst, true, Scope::Write);
        let owner = user(OWNER, &[], Role::Constituent, false, Scope::Write);
        let member = user(MEMBER, &[], Role::Community, false, Scope::Write);
        let outsider = user(OUTSIDER, &[], Role::Community, false, Scope::Write);
        let anonymous = Principal::Anonymous;
        let group = Sharing::Groups(vec![id(MEMBER)]);
        let cases = [
            (Sharing::Organisation, [true, true, false, false, false]),
            (group, [true, true, true, false, false]),
            (Sharing::Community, [true, true, true, true, false]),
            (Sharing::Public, [true, true, true, true, true]),
        ];
        for (sharing, expected) in cases {
            let access = collection(&sharing, Writers::Readers);
            let seen: Vec<bool> =
                [&staff, &owner, &member, &outsider, &anonymous].iter().map(|p| access.may_read(p)).collect();
            assert_eq!(seen, expected, "{}", sharing.kind());
        }
    }

    #[test]
    fn clear_objects_stay_inside_an_organisation_collection() {
        let sharing = Sharing::Organisation;
        let access = collection(&sharing, Writers::Owner);
        let outsider = user(OUTSIDER, &[], Role::Community, false, Scope::Write);
        assert!(!may_see_object(&outsider, &access, &object(Tlp::Clear, OWNER)));
        assert!(!may_see_object(&Principal::Anonymous, &access, &object(Tlp::Clear, OWNER)));
        let owner = user(OWNER, &[], Role::Constituent, false, Scope::Read);
        assert!(may_see_object(&owner, &access, &object(Tlp::AmberStrict, OWNER)));
    }

    #[test]
    fn public_collections_give_anonymous_callers_clear_objects_only() {
        let sharing = Sharing::Public;
        let access = collection(&sharing, Writers::Owner);
        for tlp in Tlp::ALL {
            assert_eq!(
                may_see_object(&Principal::Anonymous, &access, &object(tlp, OWNER)),
                tlp == Tlp::Clear
            );
        }
        // AMBER in a public collection reaches the poster's and the owner's audiences only.
        let outsider = user(OUTSIDER, &[], Role::Community, false, Scope::Read);
        assert!(!may_see_object(&outsider, &access, &object(Tlp::Amber, MEMBER)));
        let owner = user(OWNER, &[], Role::Constituent, false, Scope::Read);
        assert!(may_see_object(&owner, &access, &object(Tlp::Amber, MEMBER)));
    }

    #[test]
    fn green_in_a_group_collection_stays_in_the_group() {
        let sharing = Sharing::Groups(vec![id(MEMBER)]);
        let access = collection(&sharing, Writers::Readers);
        let member = user(MEMBER, &[], Role::Community, false, Scope::Read);
        let outsider = user(OUTSIDER, &[], Role::Community, false, Scope::Read);
        assert!(may_see_object(&member, &access, &object(Tlp::Green, OWNER)));
        assert!(!may_see_object(&outsider, &access, &object(Tlp::Green, OWNER)));
        // AMBER reaches the group's organisations as addressees.
        assert!(may_see_object(&member, &access, &object(Tlp::Amber, OWNER)));
    }

    #[test]
    fn red_objects_only_to_their_poster() {
        let sharing = Sharing::Community;
        let access = collection(&sharing, Writers::Readers);
        let poster = user(MEMBER, &[], Role::Community, false, Scope::Write);
        let staff = user(CERT, &[], Role::Admin, true, Scope::Admin);
        assert!(may_see_object(&poster, &access, &object(Tlp::Red, MEMBER)));
        assert!(!may_see_object(&staff, &access, &object(Tlp::Red, MEMBER)));
    }

    #[test]
    fn writers_need_write_rights_and_the_collection() {
        let sharing = Sharing::Community;
        let owner_write = user(OWNER, &[], Role::Constituent, false, Scope::Write);
        let owner_read = user(OWNER, &[], Role::Constituent, false, Scope::Read);
        let member = user(MEMBER, &[], Role::Community, false, Scope::Write);
        let staff = user(CERT, &[], Role::Analyst, true, Scope::Write);
        let auditor = user(CERT, &[], Role::Auditor, true, Scope::Read);
        let owner_only = collection(&sharing, Writers::Owner);
        assert!(owner_only.may_write(&owner_write));
        assert!(!owner_only.may_write(&owner_read));
        assert!(!owner_only.may_write(&member));
        assert!(owner_only.may_write(&staff));
        assert!(!owner_only.may_write(&auditor));
        let readers = collection(&sharing, Writers::Readers);
        assert!(readers.may_write(&member));
        assert!(!readers.may_write(&Principal::Anonymous));
        let public = Sharing::Public;
        assert!(!collection(&public, Writers::Readers).may_write(&Principal::Anonymous));
        assert!(!collection(&sharing, Writers::Nobody).may_write(&staff));
    }

    #[test]
    fn sharing_parts_are_checked() {
        assert_eq!(Sharing::from_parts("public", vec![]), Ok(Sharing::Public));
        assert!(Sharing::from_parts("groups", vec![]).is_err());
        assert!(Sharing::from_parts("community", vec![id(3)]).is_err());
        assert_eq!(Sharing::from_parts("everyone", vec![]).unwrap_err().field, "sharing");
        assert_eq!("readers".parse::<Writers>(), Ok(Writers::Readers));
        assert!("all".parse::<Writers>().is_err());
    }

    fn principal_strategy() -> impl Strategy<Value = Principal> {
        (0u128..6, prop::sample::select(Role::ALL.to_vec()), any::<bool>()).prop_map(
            |(org, role, anonymous)| {
                if anonymous { Principal::Anonymous } else { user(org, &[], role, org == CERT, Scope::Write) }
            },
        )
    }

    fn sharing_strategy() -> impl Strategy<Value = Sharing> {
        prop_oneof![
            Just(Sharing::Organisation),
            prop::collection::vec(0u128..6, 1..3)
                .prop_map(|orgs| Sharing::Groups(orgs.into_iter().map(id).collect())),
            Just(Sharing::Community),
            Just(Sharing::Public),
        ]
    }

    proptest! {
        /// An object is never seen by someone who may not read its collection, nor by someone
        /// who would not see it under its own TLP on its own.
        #[test]
        fn objects_never_leak_past_either_check(
            principal in principal_strategy(),
            sharing in sharing_strategy(),
            tlp in prop::sample::select(Tlp::ALL.to_vec()),
            poster in 0u128..6,
        ) {
            let access = collection(&sharing, Writers::Readers);
            let object = object(tlp, poster);
            if may_see_object(&principal, &access, &object) {
                prop_assert!(access.may_read(&principal));
                prop_assert!(visible_tlps(&principal).contains(&tlp));
                if let Principal::User(user) = &principal {
                    match tlp {
                        Tlp::Red => prop_assert_eq!(user.user_id, id(1000 + poster)),
                        Tlp::AmberStrict => prop_assert!(
                            user.org_id == id(poster) || user.org_id == id(OWNER)
                                || sharing.orgs().contains(&user.org_id) || user.is_operator_staff()
                        ),
                        _ => {}
                    }
                } else {
                    prop_assert_eq!(tlp, Tlp::Clear);
                    prop_assert_eq!(&sharing, &Sharing::Public);
                }
            }
        }
    }
}
