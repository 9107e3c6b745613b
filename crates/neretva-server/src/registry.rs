//! An in-memory snapshot of the constituency: organisations, their hierarchy and the lookup
//! index. Rebuilt after every change to organisations or assets.

use std::collections::HashMap;
use std::time::Instant;

use neretva_model::Uuid;
use neretva_model::access::{Principal, UserPrincipal, Visibility};
use neretva_model::lookup::ConstituencyIndex;
use neretva_model::org::Organisation;
use neretva_model::tlp::Tlp;
use neretva_model::user::{Scope, User};
use neretva_store::{Store, StoreError};

/// The constituency as the server sees it between changes.
pub struct RegistrySnapshot {
    pub loaded_at: Instant,
    pub orgs: HashMap<Uuid, Organisation>,
    by_short_name: HashMap<String, Uuid>,
    /// Each organisation's parents, nearest first.
    ancestors: HashMap<Uuid, Vec<Uuid>>,
    pub operator_id: Option<Uuid>,
    pub index: std::sync::Arc<ConstituencyIndex>,
}

impl RegistrySnapshot {
    pub async fn load(store: &dyn Store, operator_short_name: &str) -> Result<RegistrySnapshot, StoreError> {
        let orgs = store.list_orgs().await?;
        let assets = store.list_assets(None).await?;
        Ok(RegistrySnapshot::build(orgs, &assets, operator_short_name))
    }

    pub fn build(
        orgs: Vec<Organisation>,
        assets: &[neretva_model::asset::Asset],
        operator_short_name: &str,
    ) -> RegistrySnapshot {
        let orgs: HashMap<Uuid, Organisation> = orgs.into_iter().map(|org| (org.id, org)).collect();
        let by_short_name: HashMap<String, Uuid> =
            orgs.values().map(|org| (org.fields.short_name.to_lowercase(), org.id)).collect();
        let ancestors = orgs
            .keys()
            .map(|id| {
                let mut chain = Vec::new();
                let mut current = orgs.get(id).and_then(|org| org.fields.parent_id);
                // The store refuses cycles; the bound guards against a corrupted database.
                while let Some(parent) = current {
                    if chain.contains(&parent) || chain.len() > orgs.len() {
                        break;
                    }
                    chain.push(parent);
                    current = orgs.get(&parent).and_then(|org| org.fields.parent_id);
                }
                (*id, chain)
            })
            .collect();
        let operator_id = by_short_name.get(&operator_short_name.to_lowercase()).copied();
        RegistrySnapshot {
            loaded_at: Instant::now(),
            index: std::sync::Arc::new(ConstituencyIndex::build(assets)),
            orgs,
            by_short_name,
            ancestors,
            operator_id,
        }
    }

    /// Finds an organisation by id or short name (case-insensitive).
    pub fn resolve(&self, key: &str) -> Option<&Organisation> {
        match Uuid::try_parse(key) {
            Ok(id) => self.orgs.get(&id),
            Err(_) => self.by_short_name.get(&key.to_lowercase()).and_then(|id| self.orgs.get(id)),
        }
    }

    pub fn ancestors(&self, org_id: Uuid) -> &[Uuid] {
        self.ancestors.get(&org_id).map_or(&[], Vec::as_slice)
    }

    /// An organisation's NIS2 sector slug, if it has one.
    pub fn sector_of(&self, org_id: Uuid) -> Option<&str> {
        self.orgs.get(&org_id).and_then(|org| org.fields.sector.as_deref())
    }

    /// An organisation's level of authority.
    pub fn authority_level_of(&self, org_id: Uuid) -> Option<&str> {
        self.orgs.get(&org_id).map(|org| org.fields.authority_level.as_str())
    }

    /// The organisations below one (its clients, their clients, ...).
    pub fn descendants(&self, org_id: Uuid) -> impl Iterator<Item = Uuid> + '_ {
        self.ancestors.iter().filter(move |(_, chain)| chain.contains(&org_id)).map(|(id, _)| *id)
    }

    /// The short name of an organisation, or its id when it is unknown.
    pub fn short_name(&self, org_id: Uuid) -> String {
        self.orgs.get(&org_id).map_or_else(|| org_id.to_string(), |org| org.fields.short_name.clone())
    }

    /// The principal for a user authenticated with a credential of `scope`.
    pub fn principal(&self, user: &User, scope: Scope) -> UserPrincipal {
        UserPrincipal {
            user_id: user.id,
            username: user.username.clone(),
            org_id: user.org_id,
            role: user.role,
            org_ancestors: self.ancestors(user.org_id).to_vec(),
            operator: self.operator_id == Some(user.org_id),
            scope,
            sectors: if user.role == neretva_model::user::Role::Authority {
                user.sectors.clone()
            } else {
                Vec::new()
            },
        }
    }

    /// Organisation records are `TLP:AMBER` to the organisation: it, its clients and the
    /// organisations above it see them.
    pub fn org_visibility(&self, org_id: Uuid) -> Visibility<'_> {
        Visibility::owned(org_id, self.ancestors(org_id), Tlp::Amber)
    }

    /// Contacts and assets are `TLP:AMBER+STRICT` to their organisation: it and the
    /// organisations above it (its CERTs) see them, never its peers or clients.
    pub fn member_data_visibility(&self, org_id: Uuid) -> Visibility<'_> {
        Visibility::owned(org_id, self.ancestors(org_id), Tlp::AmberStrict)
    }

    pub fn may_see_org(&self, principal: &Principal, org_id: Uuid) -> bool {
        neretva_model::access::may_see(principal, &self.org_visibility(org_id))
    }

    pub fn may_see_member_data(&self, principal: &Principal, org_id: Uuid) -> bool {
        neretva_model::access::may_see(principal, &self.member_data_visibility(org_id))
    }

    /// Whether the principal may change an organisation's contacts and assets: the operator's
    /// staff with write access, an organisation above it, or the organisation's own admins.
    pub fn may_edit_member_data(&self, principal: &Principal, org_id: Uuid) -> bool {
        let Principal::User(user) = principal else { return false };
        if !neretva_model::access::may_write(principal) {
            return false;
        }
        (user.is_operator_staff())
            || self.ancestors(org_id).contains(&user.org_id)
                && matches!(user.role, neretva_model::user::Role::Admin | neretva_model::user::Role::Analyst)
            || user.org_id == org_id && user.role == neretva_model::user::Role::Admin
    }
}
