//! Access control: `may_see` decides whether a principal may see an object.
//!
//! **Architecture Invariant:** every read path, every export and every sync asks [`may_see`];
//! no other code decides visibility.
//!
//! The rules, TLP 2.0 (FIRST) applied to Neretva's organisations:
//! - `TLP:CLEAR`: everyone, including anonymous callers.
//! - `TLP:GREEN`: the community, i.e. every authenticated principal, or, when the object is
//!   restricted to a sharing group, the members of that group and the audience.
//! - `TLP:AMBER`: the audience and its clients (organisations below an audience organisation).
//! - `TLP:AMBER+STRICT`: the audience only.
//! - `TLP:RED`: the named recipient users only.
//!
//! The *audience* of an object is its owning organisation, the organisations it was addressed to,
//! and the organisations above the owner (a CERT sees what its constituents own), plus the staff
//! of the CERT operating the instance (admins, analysts and auditors of the operator organisation),
//! plus the competent authorities (role `authority`) supervising one of the object's sectors. An
//! object names sectors only when a regulator is entitled to it (incident reports and incidents);
//! registry records and feed events name none, so authorities are never in their audience.
//!
//! PAP (what may be done with information) governs taking it out of the platform: see
//! [`may_export`].

use uuid::Uuid;

use crate::tlp::Tlp;
use crate::user::{Role, Scope};

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Anonymous,
    User(UserPrincipal),
}

/// An authenticated user, as resolved from a session or an API token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPrincipal {
    pub user_id: Uuid,
    pub username: String,
    pub org_id: Uuid,
    pub role: Role,
    /// The principal's organisation's parents, nearest first.
    pub org_ancestors: Vec<Uuid>,
    /// Whether the principal's organisation operates this instance (the CERT itself).
    pub operator: bool,
    /// The scope of the credential used; sessions carry `Scope::Admin`, limited by the role.
    pub scope: Scope,
    /// The NIS2 sectors a competent authority supervises; empty for every other role.
    pub sectors: Vec<String>,
}

impl UserPrincipal {
    /// Staff of the CERT that operates the instance.
    pub fn is_operator_staff(&self) -> bool {
        self.operator && self.role.is_staff()
    }

    /// Whether the principal is a competent authority supervising one of `sectors`.
    pub fn supervises(&self, sectors: &[&str]) -> bool {
        self.role == Role::Authority && sectors.iter().any(|sector| self.sectors.iter().any(|s| s == sector))
    }

    /// Whether the principal belongs to `org` or to one of its clients.
    fn within(&self, org: Uuid) -> bool {
        self.org_id == org || self.org_ancestors.contains(&org)
    }
}

/// What `may_see` needs to know about an object.
#[derive(Debug, Clone, Copy)]
pub struct Visibility<'a> {
    pub tlp: Tlp,
    /// The owning organisation; `None` for instance-wide objects owned by the operator.
    pub owner_org: Option<Uuid>,
    /// The owner's parents, nearest first.
    pub owner_ancestors: &'a [Uuid],
    /// Organisations the object was addressed to.
    pub recipient_orgs: &'a [Uuid],
    /// Users the object was addressed to; the only audience of `TLP:RED`.
    pub recipient_users: &'a [Uuid],
    /// Members of the sharing group the object is restricted to, if any.
    pub sharing_group: Option<&'a [Uuid]>,
    /// The NIS2 sectors the object concerns, when competent authorities supervising them are in
    /// its audience; empty otherwise.
    pub sectors: &'a [&'a str],
}

impl<'a> Visibility<'a> {
    /// An object owned by an organisation, visible to it and to the organisations above it.
    pub fn owned(owner_org: Uuid, owner_ancestors: &'a [Uuid], tlp: Tlp) -> Visibility<'a> {
        Visibility {
            tlp,
            owner_org: Some(owner_org),
            owner_ancestors,
            recipient_orgs: &[],
            recipient_users: &[],
            sharing_group: None,
            sectors: &[],
        }
    }
}

/// Decides whether `principal` may see an object with `visibility`.
pub fn may_see(principal: &Principal, visibility: &Visibility<'_>) -> bool {
    let user = match principal {
        Principal::Anonymous => return visibility.tlp == Tlp::Clear,
        Principal::User(user) => user,
    };
    if visibility.tlp == Tlp::Red {
        return visibility.recipient_users.contains(&user.user_id);
    }
    let in_audience = user.is_operator_staff()
        || visibility.recipient_users.contains(&user.user_id)
        || visibility.owner_org.is_some_and(|owner| owner == user.org_id)
        || visibility.owner_ancestors.contains(&user.org_id)
        || visibility.recipient_orgs.contains(&user.org_id)
        || user.supervises(visibility.sectors);
    match visibility.tlp {
        Tlp::Clear => true,
        Tlp::Green => match visibility.sharing_group {
            None => true,
            Some(members) => in_audience || members.contains(&user.org_id),
        },
        Tlp::Amber => {
            in_audience
                || visibility.owner_org.is_some_and(|owner| user.within(owner))
                || visibility.recipient_orgs.iter().any(|org| user.within(*org))
        }
        Tlp::AmberStrict => in_audience,
        Tlp::Red => false,
    }
}

/// Whether the principal may change objects it can see; auditors and read tokens may not.
pub fn may_write(principal: &Principal) -> bool {
    match principal {
        Principal::Anonymous => false,
        Principal::User(user) => user.role.may_write() && user.scope >= Scope::Write,
    }
}

/// Whether the principal may take information labelled `pap` out of the platform (exports,
/// downloads, indicator lists), once it may see it. PAP:CLEAR and PAP:GREEN allow active use,
/// so everyone who may see the information may export it; PAP:AMBER (passive cross-checks) and
/// PAP:RED (non-detectable use only) keep it inside the platform for everyone but the operator's
/// staff, who set the label and stay bound by it.
pub fn may_export(principal: &Principal, pap: crate::tlp::Pap) -> bool {
    match principal {
        Principal::Anonymous => pap == crate::tlp::Pap::Clear,
        Principal::User(user) => user.is_operator_staff() || pap <= crate::tlp::Pap::Green,
    }
}

/// Whether the principal may administer the instance (users, tokens of others, constituency).
pub fn may_administer(principal: &Principal) -> bool {
    match principal {
        Principal::Anonymous => false,
        Principal::User(user) => user.role == Role::Admin && user.operator && user.scope >= Scope::Admin,
    }
}

/// Whether the principal may read the audit log.
pub fn may_read_audit(principal: &Principal) -> bool {
    match principal {
        Principal::Anonymous => false,
        Principal::User(user) => user.operator && matches!(user.role, Role::Admin | Role::Auditor),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn user(org: u128, ancestors: &[u128], role: Role, operator: bool) -> Principal {
        Principal::User(UserPrincipal {
            user_id: id(1000 + org),
            username: format!("user{org}"),
            org_id: id(org),
            role,
            org_ancestors: ancestors.iter().copied().map(id).collect(),
            operator,
            scope: Scope::Admin,
            sectors: Vec::new(),
        })
    }

    fn authority(org: u128, sectors: &[&str]) -> Principal {
        Principal::User(UserPrincipal {
            user_id: id(2000 + org),
            username: format!("authority{org}"),
            org_id: id(org),
            role: Role::Authority,
            org_ancestors: Vec::new(),
            operator: false,
            scope: Scope::Admin,
            sectors: sectors.iter().map(|s| (*s).to_owned()).collect(),
        })
    }

    #[test]
    fn constituent_never_sees_another_organisations_amber_strict() {
        let other = user(3, &[1], Role::Constituent, false);
        let owner = user(2, &[1], Role::Constituent, false);
        let cert = user(1, &[], Role::Analyst, true);
        let ancestors = [id(1)];
        let object = Visibility::owned(id(2), &ancestors, Tlp::AmberStrict);
        assert!(may_see(&owner, &object));
        assert!(may_see(&cert, &object));
        assert!(!may_see(&other, &object));
        assert!(!may_see(&Principal::Anonymous, &object));
    }

    #[test]
    fn amber_reaches_clients_but_amber_strict_does_not() {
        let parent_cert = id(10);
        let client = user(11, &[10], Role::Constituent, false);
        let amber = Visibility::owned(parent_cert, &[], Tlp::Amber);
        let strict = Visibility::owned(parent_cert, &[], Tlp::AmberStrict);
        assert!(may_see(&client, &amber));
        assert!(!may_see(&client, &strict));
    }

    #[test]
    fn red_only_for_named_recipients() {
        let cert_admin = user(1, &[], Role::Admin, true);
        let named = user(2, &[1], Role::Constituent, false);
        let recipients = [id(1002)];
        let red = Visibility { recipient_users: &recipients, ..Visibility::owned(id(2), &[], Tlp::Red) };
        assert!(may_see(&named, &red));
        assert!(!may_see(&cert_admin, &red), "operator staff are not named recipients");
    }

    #[test]
    fn green_in_a_sharing_group_stays_in_the_group() {
        let members = [id(5)];
        let member = user(5, &[], Role::Community, false);
        let outsider = user(6, &[], Role::Community, false);
        let green = Visibility { sharing_group: Some(&members), ..Visibility::owned(id(4), &[], Tlp::Green) };
        assert!(may_see(&member, &green));
        assert!(!may_see(&outsider, &green));
        let open = Visibility::owned(id(4), &[], Tlp::Green);
        assert!(may_see(&outsider, &open));
        assert!(!may_see(&Principal::Anonymous, &open));
    }

    #[test]
    fn roles_limit_writing_and_administration() {
        let auditor = user(1, &[], Role::Auditor, true);
        assert!(!may_write(&auditor));
        assert!(may_read_audit(&auditor));
        assert!(!may_administer(&auditor));
        let foreign_admin = user(2, &[], Role::Admin, false);
        assert!(!may_administer(&foreign_admin), "only the operator's admins administer");
        assert!(may_administer(&user(1, &[], Role::Admin, true)));
    }

    #[test]
    fn authorities_see_their_sectors_up_to_amber_strict_and_never_write() {
        let energy = authority(9, &["energy"]);
        let health = authority(9, &["health"]);
        let sectors = ["energy"];
        for tlp in Tlp::ALL {
            let object = Visibility { sectors: &sectors, ..Visibility::owned(id(2), &[], tlp) };
            assert_eq!(may_see(&energy, &object), tlp != Tlp::Red, "{tlp}");
            assert_eq!(may_see(&health, &object), tlp <= Tlp::Green, "{tlp}");
            // Objects that name no sector (registry records, events) are not the authority's.
            let unlabelled = Visibility::owned(id(2), &[], tlp);
            assert_eq!(may_see(&energy, &unlabelled), tlp <= Tlp::Green, "{tlp}");
        }
        assert!(!may_write(&energy));
        assert!(!may_administer(&energy));
        assert!(!may_read_audit(&energy));
        // A sector list on another role grants nothing.
        let Principal::User(mut analyst) = user(3, &[], Role::Constituent, false) else { unreachable!() };
        analyst.sectors = vec!["energy".into()];
        let object = Visibility { sectors: &sectors, ..Visibility::owned(id(2), &[], Tlp::AmberStrict) };
        assert!(!may_see(&Principal::User(analyst), &object));
    }

    #[test]
    fn pap_limits_exports_to_staff_above_green() {
        use crate::tlp::Pap;
        let staff = user(1, &[], Role::Analyst, true);
        let owner = user(2, &[1], Role::Constituent, false);
        for pap in [Pap::Clear, Pap::Green, Pap::Amber, Pap::Red] {
            assert!(may_export(&staff, pap));
            assert_eq!(may_export(&owner, pap), pap <= Pap::Green);
            assert_eq!(may_export(&Principal::Anonymous, pap), pap == Pap::Clear);
        }
    }

    fn tlp_strategy() -> impl Strategy<Value = Tlp> {
        prop::sample::select(Tlp::ALL.to_vec())
    }

    fn role_strategy() -> impl Strategy<Value = Role> {
        prop::sample::select(Role::ALL.to_vec())
    }

    /// Organisations 0..6; org 0 is the operator; parents are lower-numbered organisations.
    fn principal_strategy() -> impl Strategy<Value = Principal> {
        (0u128..6, role_strategy(), prop::collection::vec(0u128..6, 0..3), any::<bool>()).prop_map(
            |(org, role, ancestors, anonymous)| {
                if anonymous {
                    Principal::Anonymous
                } else {
                    let ancestors: Vec<u128> = ancestors.into_iter().filter(|a| *a < org).collect();
                    user(org, &ancestors, role, org == 0)
                }
            },
        )
    }

    proptest! {
        #[test]
        fn lowering_tlp_never_hides(
            principal in principal_strategy(),
            tlp in tlp_strategy(),
            owner in 0u128..6,
            recipient_orgs in prop::collection::vec(0u128..6, 0..3),
            recipient_users in prop::collection::vec(1000u128..1006, 0..3),
        ) {
            let orgs: Vec<Uuid> = recipient_orgs.into_iter().map(id).collect();
            let users: Vec<Uuid> = recipient_users.into_iter().map(id).collect();
            let seen = |tlp| may_see(&principal, &Visibility {
                recipient_orgs: &orgs, recipient_users: &users, ..Visibility::owned(id(owner), &[], tlp)
            });
            // Everything but RED is ordered: visibility at a stricter label implies the looser one.
            for looser in Tlp::ALL.into_iter().filter(|l| *l < tlp && tlp != Tlp::Red) {
                if seen(tlp) { prop_assert!(seen(looser)); }
            }
            prop_assert!(seen(Tlp::Clear));
        }

        #[test]
        fn strict_labels_never_leak_outside_the_audience(
            principal in principal_strategy(),
            owner in 1u128..6,
        ) {
            let object = Visibility::owned(id(owner), &[], Tlp::AmberStrict);
            let allowed = match &principal {
                Principal::Anonymous => false,
                Principal::User(user) => user.org_id == id(owner) || user.is_operator_staff(),
            };
            prop_assert_eq!(may_see(&principal, &object), allowed);
            let red = Visibility::owned(id(owner), &[], Tlp::Red);
            prop_assert!(!may_see(&principal, &red), "RED without recipients is seen by nobody");
        }

        /// An authority is in the audience exactly of the objects naming one of its sectors, and
        /// adding sectors to an object never hides it from anyone.
        #[test]
        fn sectors_only_ever_add_authorities(
            principal in principal_strategy(),
            tlp in tlp_strategy(),
            owner in 0u128..6,
            sector_picks in prop::collection::vec(0usize..3, 0..3),
            supervised in prop::collection::vec(0usize..3, 0..3),
        ) {
            const NAMES: [&str; 3] = ["energy", "health", "banking"];
            let sectors: Vec<&str> = sector_picks.iter().map(|i| NAMES[*i]).collect();
            let plain = Visibility::owned(id(owner), &[], tlp);
            let labelled = Visibility { sectors: &sectors, ..plain };
            if may_see(&principal, &plain) {
                prop_assert!(may_see(&principal, &labelled));
            }
            let supervised: Vec<&str> = supervised.iter().map(|i| NAMES[*i]).collect();
            let regulator = authority(7, &supervised);
            let overlap = sectors.iter().any(|s| supervised.contains(s));
            let expected = match tlp {
                Tlp::Clear | Tlp::Green => true,
                Tlp::Amber | Tlp::AmberStrict => overlap,
                Tlp::Red => false,
            };
            prop_assert_eq!(may_see(&regulator, &labelled), expected);
        }

        #[test]
        fn anonymous_sees_only_clear(tlp in tlp_strategy(), owner in 0u128..6) {
            let object = Visibility::owned(id(owner), &[], tlp);
            prop_assert_eq!(may_see(&Principal::Anonymous, &object), tlp == Tlp::Clear);
        }
    }
}
