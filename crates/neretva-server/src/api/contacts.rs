//! Contacts of organisations.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use neretva_model::Uuid;
use neretva_model::contact::{Contact, ContactFields, Language};
use neretva_model::openpgp;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::AppState;
use crate::api::orgs::{member_data_org, require_member_data_editor, visible_org};
use crate::api::{Page, Paged, parse_id, rfc3339};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, Auth};
use crate::registry::RegistrySnapshot;

/// A contact as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactDto {
    pub id: Uuid,
    pub org_id: Uuid,
    /// The organisation's short name.
    pub organisation: Option<String>,
    pub name: String,
    pub role: Option<String>,
    pub email: String,
    pub phone: Option<String>,
    /// BCP 47 tags: `en`, `bs`, `hr`, `sr-Latn`, `sr-Cyrl`.
    pub languages: Vec<String>,
    pub pgp_key: Option<String>,
    pub pgp_fingerprint: Option<String>,
    /// The highest TLP the contact receives in notifications (`TLP:RED`); `null` for the
    /// notifier's configured default.
    pub clearance: Option<String>,
    pub created_at: String,
}

impl ContactDto {
    fn new(contact: Contact, registry: &RegistrySnapshot) -> ContactDto {
        ContactDto {
            id: contact.id,
            org_id: contact.org_id,
            organisation: registry.orgs.get(&contact.org_id).map(|org| org.fields.short_name.clone()),
            name: contact.fields.name,
            role: contact.fields.role,
            email: contact.fields.email,
            phone: contact.fields.phone,
            languages: contact.fields.languages.iter().map(|l| l.tag().to_owned()).collect(),
            pgp_key: contact.fields.pgp_key,
            pgp_fingerprint: contact.pgp_fingerprint,
            clearance: contact.fields.clearance.map(|tlp| tlp.label().to_owned()),
            created_at: rfc3339(contact.created_at),
        }
    }
}

/// What a client sends to create or replace a contact.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    pub name: String,
    #[serde(default)]
    pub role: Option<String>,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub languages: Vec<String>,
    /// An ASCII-armoured OpenPGP public key; checked and rejected if invalid.
    #[serde(default)]
    pub pgp_key: Option<String>,
    /// The highest TLP the contact receives in notifications (`TLP:AMBER`, `red`, ...); absent
    /// or empty for the notifier's configured default.
    #[serde(default)]
    pub clearance: Option<String>,
}

impl ContactInput {
    /// Validates every field, the OpenPGP key included; returns the fields and the fingerprint.
    fn into_fields(self) -> ApiResult<(ContactFields, Option<String>)> {
        let mut errors = Vec::new();
        let mut languages = Vec::new();
        for tag in &self.languages {
            match tag.parse::<Language>() {
                Ok(language) if !languages.contains(&language) => languages.push(language),
                Ok(_) => {}
                Err(error) => errors.push(error),
            }
        }
        let pgp_key = self.pgp_key.filter(|key| !key.trim().is_empty());
        let fingerprint = match pgp_key.as_deref() {
            None => None,
            Some(key) => match openpgp::parse_public_key(key, OffsetDateTime::now_utc()) {
                Ok(info) => Some(info.fingerprint),
                Err(error) => {
                    errors.push(error);
                    None
                }
            },
        };
        let clearance = match self.clearance.as_deref().map(str::trim).filter(|text| !text.is_empty()) {
            None => None,
            Some(text) => match text.parse::<neretva_model::tlp::Tlp>() {
                Ok(tlp) => Some(tlp),
                Err(error) => {
                    errors.push(neretva_model::FieldError::new("clearance", error.to_string()));
                    None
                }
            },
        };
        let fields = ContactFields {
            clearance,
            name: self.name,
            role: self.role.filter(|role| !role.is_empty()),
            email: self.email.trim().to_owned(),
            phone: self.phone.filter(|phone| !phone.is_empty()),
            languages,
            pgp_key,
        };
        errors.extend(fields.validate());
        if errors.is_empty() { Ok((fields, fingerprint)) } else { Err(ApiError::validation(errors)) }
    }
}

/// Paging for contact listings.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ContactFilter {
    /// Only contacts with this role.
    pub role: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

fn respond(
    contacts: Vec<Contact>,
    filter: ContactFilter,
    registry: &RegistrySnapshot,
    auth: &Auth,
) -> ApiResult<Json<Paged<ContactDto>>> {
    let principal = auth.principal();
    let visible: Vec<ContactDto> = contacts
        .into_iter()
        .filter(|contact| registry.may_see_member_data(&principal, contact.org_id))
        .filter(|contact| filter.role.as_ref().is_none_or(|role| contact.fields.role.as_ref() == Some(role)))
        .map(|contact| ContactDto::new(contact, registry))
        .collect();
    Ok(Json(Page { limit: filter.limit, cursor: filter.cursor }.apply(visible)?))
}

/// Lists every contact the caller may see.
#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts", params(ContactFilter),
    responses((status = 200, body = Paged<ContactDto>)), security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    filter: Result<Query<ContactFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Paged<ContactDto>>> {
    let Query(filter) = filter?;
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let contacts = state.store().list_contacts(None).await?;
    respond(contacts, filter, &registry, &auth)
}

/// Lists an organisation's contacts.
#[utoipa::path(get, path = "/api/v1/organisations/{org}/contacts", tag = "contacts", params(
    ("org" = String, Path, description = "id or short name"), ContactFilter),
    responses((status = 200, body = Paged<ContactDto>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list_for_org(
    State(state): State<AppState>,
    auth: Auth,
    Path(key): Path<String>,
    filter: Result<Query<ContactFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Paged<ContactDto>>> {
    let Query(filter) = filter?;
    let registry = state.registry_fresh(std::time::Duration::from_secs(5)).await;
    let org = member_data_org(&registry, &auth, &key)?;
    let contacts = state.store().list_contacts(Some(org.id)).await?;
    respond(contacts, filter, &registry, &auth)
}

async fn visible_contact(state: &AppState, auth: &Auth, id: &str) -> ApiResult<Contact> {
    let id = parse_id("id", id)?;
    let registry = state.registry();
    state
        .store()
        .get_contact(id)
        .await?
        .filter(|contact| registry.may_see_member_data(&auth.principal(), contact.org_id))
        .ok_or_else(|| ApiError::not_found("contact"))
}

/// Shows one contact.
#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = Uuid, Path)),
    responses((status = 200, body = ContactDto), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<ContactDto>> {
    let contact = visible_contact(&state, &auth, &id).await?;
    Ok(Json(ContactDto::new(contact, &state.registry())))
}

/// Adds a contact to an organisation.
#[utoipa::path(post, path = "/api/v1/organisations/{org}/contacts", tag = "contacts",
    params(("org" = String, Path, description = "id or short name")), request_body = ContactInput,
    responses((status = 201, body = ContactDto), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Path(key): Path<String>,
    ApiJson(input): ApiJson<ContactInput>,
) -> ApiResult<Response> {
    let registry = state.registry();
    let org = visible_org(&registry, &auth, &key)?;
    require_member_data_editor(&registry, &auth, org.id)?;
    let (fields, fingerprint) = input.into_fields()?;
    let contact =
        state.store().create_contact(&auth.actor(), org.id, &fields, fingerprint.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(ContactDto::new(contact, &registry))).into_response())
}

/// Replaces a contact's fields.
#[utoipa::path(put, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = Uuid, Path)),
    request_body = ContactInput,
    responses((status = 200, body = ContactDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ContactInput>,
) -> ApiResult<Json<ContactDto>> {
    let existing = visible_contact(&state, &auth, &id).await?;
    let registry = state.registry();
    require_member_data_editor(&registry, &auth, existing.org_id)?;
    let (fields, fingerprint) = input.into_fields()?;
    let contact =
        state.store().update_contact(&auth.actor(), existing.id, &fields, fingerprint.as_deref()).await?;
    Ok(Json(ContactDto::new(contact, &registry)))
}

/// Removes a contact.
#[utoipa::path(delete, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let existing = visible_contact(&state, &auth, &id).await?;
    require_member_data_editor(&state.registry(), &auth, existing.org_id)?;
    state.store().delete_contact(&auth.actor(), existing.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
