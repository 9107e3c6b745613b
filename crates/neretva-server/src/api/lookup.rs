//! Who owns an IP address, a network, a domain or an AS.

use axum::Json;
use axum::extract::{Query, State};
use neretva_model::Uuid;
use neretva_model::lookup::{LookupQuery, Relation};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Auth;
use crate::registry::RegistrySnapshot;

/// The query of a lookup.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LookupParams {
    /// An IP address, a CIDR network, an ASN (`AS64500`), a domain, a URL or an e-mail address.
    pub q: String,
}

/// An organisation named in a lookup.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgRef {
    pub id: Uuid,
    pub short_name: String,
    pub name: String,
}

/// One asset matching a lookup.
#[derive(Debug, Serialize, ToSchema)]
pub struct LookupMatchDto {
    pub organisation: OrgRef,
    pub asset_id: Uuid,
    pub kind: String,
    pub value: String,
    /// `covers` (the asset contains the query) or `inside` (the asset lies inside the queried network).
    pub relation: String,
}

/// The answer to a lookup.
#[derive(Debug, Serialize, ToSchema)]
pub struct LookupDto {
    pub query: String,
    /// `ip`, `cidr`, `domain` or `asn`.
    pub kind: String,
    /// The organisations holding the most specific covering asset.
    pub owners: Vec<OrgRef>,
    /// Every matching asset the caller may see, most specific first.
    pub matches: Vec<LookupMatchDto>,
    /// More than one organisation is involved.
    pub overlap: bool,
}

fn org_ref(registry: &RegistrySnapshot, id: Uuid) -> OrgRef {
    let org = registry.orgs.get(&id);
    OrgRef {
        id,
        short_name: org.map(|org| org.fields.short_name.clone()).unwrap_or_default(),
        name: org.map(|org| org.fields.name.clone()).unwrap_or_default(),
    }
}

/// Answers who owns an address, network, domain or AS, by longest-prefix and longest-suffix
/// match, and reports overlaps. A constituent sees only its own organisation's assets.
#[utoipa::path(get, path = "/api/v1/lookup", tag = "lookup", params(LookupParams),
    responses((status = 200, body = LookupDto), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn lookup(
    State(state): State<AppState>,
    auth: Auth,
    params: Result<Query<LookupParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<LookupDto>> {
    let Query(params) = params?;
    let query: LookupQuery = params.q.parse()?;
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    Ok(Json(answer(&registry, &auth, &params.q, &query)))
}

pub(crate) fn answer(registry: &RegistrySnapshot, auth: &Auth, text: &str, query: &LookupQuery) -> LookupDto {
    let principal = auth.principal();
    let result = registry.index.lookup(query);
    let visible: Vec<_> =
        result.matches.into_iter().filter(|m| registry.may_see_member_data(&principal, m.org_id)).collect();
    let most_specific = visible.iter().find(|m| m.relation == Relation::Covers).map(|m| m.value.clone());
    let mut owners: Vec<Uuid> = visible
        .iter()
        .filter(|m| m.relation == Relation::Covers && Some(&m.value) == most_specific.as_ref())
        .map(|m| m.org_id)
        .collect();
    owners.dedup();
    let mut involved: Vec<Uuid> = visible.iter().map(|m| m.org_id).collect();
    involved.sort_unstable();
    involved.dedup();
    let kind = match query {
        LookupQuery::Ip(_) => "ip",
        LookupQuery::Cidr(_) => "cidr",
        LookupQuery::Domain(_) => "domain",
        LookupQuery::Asn(_) => "asn",
    };
    LookupDto {
        query: text.to_owned(),
        kind: kind.to_owned(),
        owners: owners.into_iter().map(|id| org_ref(registry, id)).collect(),
        overlap: involved.len() > 1,
        matches: visible
            .into_iter()
            .map(|m| LookupMatchDto {
                organisation: org_ref(registry, m.org_id),
                asset_id: m.asset_id,
                kind: m.value.kind().as_str().to_owned(),
                value: m.value.to_string(),
                relation: match m.relation {
                    Relation::Covers => "covers".into(),
                    Relation::Inside => "inside".into(),
                },
            })
            .collect(),
    }
}

/// An asset in an overlap.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverlapSide {
    pub organisation: OrgRef,
    pub asset_id: Uuid,
    pub value: String,
}

/// Two assets of different organisations that overlap.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverlapDto {
    pub outer: OverlapSide,
    pub inner: OverlapSide,
}

/// Lists every overlap between organisations' assets that the caller may see in full.
#[utoipa::path(get, path = "/api/v1/lookup/overlaps", tag = "lookup",
    responses((status = 200, body = Vec<OverlapDto>)), security(("bearer" = []), ("session" = [])))]
pub async fn overlaps(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<OverlapDto>>> {
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let principal = auth.principal();
    let side = |(org_id, asset_id, value): (Uuid, Uuid, neretva_model::asset::AssetValue)| OverlapSide {
        organisation: org_ref(&registry, org_id),
        asset_id,
        value: value.to_string(),
    };
    let found = registry
        .index
        .overlaps()
        .into_iter()
        .filter(|o| {
            registry.may_see_member_data(&principal, o.outer.0)
                && registry.may_see_member_data(&principal, o.inner.0)
        })
        .map(|o| OverlapDto { outer: side(o.outer), inner: side(o.inner) })
        .collect();
    Ok(Json(found))
}
