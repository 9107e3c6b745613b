//! Constituency pages: organisations with their NIS2 register fields, their contacts and assets,
//! the registry staff's edit forms, and the lookup of who owns an address, network, domain or AS.
//!
//! Every page calls the API's own handlers (`api::orgs`, `api::contacts`, `api::assets`,
//! `api::lookup`) with the signed-in user as their caller, so the pages answer exactly what the
//! API answers: an organisation the user may not see is not found, and contacts and assets
//! (`TLP:AMBER+STRICT`) appear only where `may_see_member_data` allows. Changes go through the
//! same handlers and so through the same store calls and audit entries.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use neretva_model::tlp::Tlp;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::assets::{AssetDto, AssetFilter, AssetInput};
use crate::api::contacts::{ContactDto, ContactFilter, ContactInput};
use crate::api::lookup::LookupParams;
use crate::api::orgs::{OrgDto, OrgFilter, OrgInput, require_registry_writer};
use crate::error::{ApiError, ErrorCode};
use crate::extract::ApiJson;
use crate::web::{Confirm, WebForm, WebUser, encode_query_value};

/// Organisations per page of the list.
const ORGS_PER_PAGE: u32 = 50;
/// Contacts and assets shown per page of an organisation.
const MEMBER_DATA_PER_PAGE: u32 = 200;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/constituency", get(|| async { Redirect::to("/constituency/organisations") }))
        .route("/constituency/organisations", get(list).post(create))
        .route("/constituency/organisations/new", get(new_form))
        .route("/constituency/organisations/{org}", get(show))
        .route("/constituency/organisations/{org}/edit", get(edit_form).post(update))
        .route("/constituency/organisations/{org}/delete", get(delete_form).post(delete))
        .route("/constituency/organisations/{org}/contacts", post(add_contact))
        .route("/constituency/organisations/{org}/assets", post(add_asset))
        .route("/constituency/contacts/{id}/delete", post(remove_contact))
        .route("/constituency/assets/{id}/delete", post(remove_asset))
        .route("/constituency/lookup", get(lookup))
}

/// Answers a refused or failed API call as a page: not found and forbidden as themselves (so a
/// page says no more than the API), a bad request naming its field, anything else as an
/// internal error (logged, without details).
pub(super) fn api_failure(web: &WebUser, error: ApiError) -> Response {
    match error.code {
        ErrorCode::NotFound => web.not_found(),
        ErrorCode::Forbidden => web.forbidden(),
        ErrorCode::InvalidRequest | ErrorCode::ValidationFailed | ErrorCode::Conflict => {
            let problems = problems(&error);
            web.bad_request(error.field.as_deref().unwrap_or("request"), &problems.join("; "))
        }
        _ => {
            tracing::error!(code = ?error.code, message = %error.message, path = %web.path, "A web page failed.");
            web.error(StatusCode::INTERNAL_SERVER_ERROR, "common.errors.internal")
        }
    }
}

/// A value for a template from anything serialisable (API DTOs, rows of a page).
pub(super) fn data<T: Serialize>(value: &T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(value))
}

/// The problems of a refused form, one line each, each naming its field.
pub(super) fn problems(error: &ApiError) -> Vec<String> {
    if error.details.is_empty() {
        vec![match &error.field {
            Some(field) => format!("{field}: {}", error.message),
            None => error.message.clone(),
        }]
    } else {
        error.details.iter().map(|detail| format!("{}: {}", detail.field, detail.message)).collect()
    }
}

/// Whether a refusal is about the input (shown on the form) rather than about access.
pub(super) fn is_input_problem(error: &ApiError) -> bool {
    matches!(
        error.code,
        ErrorCode::InvalidRequest
            | ErrorCode::ValidationFailed
            | ErrorCode::Conflict
            | ErrorCode::InvalidJson
    )
}

/// An empty form field is an absent one.
pub(super) fn given(text: Option<String>) -> Option<String> {
    text.map(|text| text.trim().to_owned()).filter(|text| !text.is_empty())
}

// The organisation list.

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    q: Option<String>,
    sector: Option<String>,
    level: Option<String>,
    entity_type: Option<String>,
    cursor: Option<String>,
}

/// A link to another page of the list with the same filters.
fn list_link(query: &ListQuery, cursor: Option<&str>) -> String {
    let mut pairs = Vec::new();
    for (name, value) in [
        ("q", &query.q),
        ("sector", &query.sector),
        ("level", &query.level),
        ("entity_type", &query.entity_type),
    ] {
        if let Some(value) = value.as_deref().filter(|value| !value.is_empty()) {
            pairs.push(format!("{name}={}", encode_query_value(value)));
        }
    }
    if let Some(cursor) = cursor {
        pairs.push(format!("cursor={}", encode_query_value(cursor)));
    }
    if pairs.is_empty() {
        "/constituency/organisations".to_owned()
    } else {
        format!("/constituency/organisations?{}", pairs.join("&"))
    }
}

async fn list(
    State(state): State<AppState>,
    web: WebUser,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return web.bad_request("query", "unknown or malformed filter");
    };
    let filter = OrgFilter {
        sector: given(query.sector.clone()),
        authority_level: given(query.level.clone()),
        entity_type: given(query.entity_type.clone()),
        q: given(query.q.clone()),
        limit: Some(ORGS_PER_PAGE),
        cursor: given(query.cursor.clone()),
    };
    let page = match crate::api::orgs::list(State(state.clone()), web.auth(), Ok(Query(filter))).await {
        Ok(axum::Json(page)) => page,
        Err(error) => return api_failure(&web, error),
    };
    // The sectors offered are those of the organisations the user may see.
    let registry = state.registry();
    let principal = web.principal();
    let mut sectors: Vec<String> = registry
        .orgs
        .values()
        .filter(|org| registry.may_see_org(&principal, org.id))
        .filter_map(|org| org.fields.sector.clone())
        .collect();
    sectors.sort_unstable();
    sectors.dedup();
    let offset: usize = query.cursor.as_deref().and_then(|cursor| cursor.parse().ok()).unwrap_or(0);
    let next = page.next_cursor.as_deref().map(|cursor| list_link(&query, Some(cursor)));
    let first = (offset > 0).then(|| list_link(&query, None));
    let shown = page.items.len();
    let context = context! {
        orgs => data(&page.items),
        start => offset + 1,
        stop => offset + shown,
        next => next,
        first => first,
        sectors => sectors,
        levels => data(&state.config().authority_levels.0),
        entity_types => ["essential", "important", "other"],
        query => context! {
            q => query.q.as_deref().unwrap_or(""),
            sector => query.sector.as_deref().unwrap_or(""),
            level => query.level.as_deref().unwrap_or(""),
            entity_type => query.entity_type.as_deref().unwrap_or(""),
        },
        may_create => require_registry_writer(&web.auth()).is_ok(),
    };
    web.render("web/constituency/organisations.html", context)
}

// One organisation.

/// A form shown again with what was typed and what is wrong with it.
#[derive(Debug, Default, Serialize)]
struct Refused<T: Serialize> {
    values: T,
    problems: Vec<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
struct ContactForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    languages: String,
    #[serde(default)]
    pgp_key: String,
    #[serde(default)]
    clearance: String,
}

#[derive(Debug, Default, Deserialize, Serialize)]
struct AssetForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    description: String,
}

#[derive(Debug, Default, Deserialize)]
struct OrgPageQuery {
    contacts: Option<String>,
    assets: Option<String>,
}

/// What a refused add form brings back to the organisation's page.
#[derive(Default)]
struct PageForms {
    contact: Option<Refused<ContactForm>>,
    asset: Option<Refused<AssetForm>>,
}

async fn show(
    State(state): State<AppState>,
    web: WebUser,
    Path(key): Path<String>,
    query: Result<Query<OrgPageQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return web.bad_request("query", "unknown or malformed parameter");
    };
    org_page(&state, &web, &key, &query, PageForms::default()).await
}

async fn org_page(
    state: &AppState,
    web: &WebUser,
    key: &str,
    query: &OrgPageQuery,
    forms: PageForms,
) -> Response {
    let auth = web.auth();
    let org: OrgDto =
        match crate::api::orgs::get(State(state.clone()), auth.clone(), Path(key.to_owned())).await {
            Ok(axum::Json(org)) => org,
            Err(error) => return api_failure(web, error),
        };
    let registry = state.registry();
    let principal = web.principal();
    let member_data = registry.may_see_member_data(&principal, org.id);
    let mut contacts: Vec<ContactDto> = Vec::new();
    let mut assets: Vec<AssetDto> = Vec::new();
    let (mut contacts_next, mut assets_next) = (None, None);
    if member_data {
        let filter = ContactFilter {
            role: None,
            limit: Some(MEMBER_DATA_PER_PAGE),
            cursor: given(query.contacts.clone()),
        };
        let path = Path(org.id.to_string());
        match crate::api::contacts::list_for_org(State(state.clone()), auth.clone(), path, Ok(Query(filter)))
            .await
        {
            Ok(axum::Json(page)) => {
                contacts = page.items;
                contacts_next = page.next_cursor;
            }
            Err(error) => return api_failure(web, error),
        }
        let filter = AssetFilter {
            kind: None,
            limit: Some(MEMBER_DATA_PER_PAGE),
            cursor: given(query.assets.clone()),
        };
        let path = Path(org.id.to_string());
        match crate::api::assets::list_for_org(State(state.clone()), auth.clone(), path, Ok(Query(filter)))
            .await
        {
            Ok(axum::Json(page)) => {
                assets = page.items;
                assets_next = page.next_cursor;
            }
            Err(error) => return api_failure(web, error),
        }
    }
    let status = if forms.contact.is_some() || forms.asset.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let base = format!("/constituency/organisations/{}", org.id);
    let context = context! {
        org => data(&org),
        member_data => member_data,
        contacts => data(&contacts),
        assets => data(&assets),
        contacts_next => contacts_next.map(|cursor| format!("{base}?contacts={}", encode_query_value(&cursor))),
        assets_next => assets_next.map(|cursor| format!("{base}?assets={}", encode_query_value(&cursor))),
        may_edit_member_data => registry.may_edit_member_data(&principal, org.id),
        may_edit_org => require_registry_writer(&auth).is_ok(),
        may_delete_org => neretva_model::access::may_administer(&web.principal()),
        tlps => Tlp::ALL.iter().map(|tlp| tlp.label()).collect::<Vec<_>>(),
        contact_form => data(&forms.contact.unwrap_or_default()),
        asset_form => data(&forms.asset.unwrap_or_default()),
    };
    (status, web.render("web/constituency/organisation.html", context)).into_response()
}

// Registry staff: creating and changing organisations.

#[derive(Debug, Default, Deserialize, Serialize)]
struct OrgForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    short_name: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    sector: String,
    #[serde(default)]
    subsector: String,
    #[serde(default)]
    entity_type: String,
    #[serde(default)]
    authority_level: String,
    #[serde(default)]
    parent: String,
}

impl OrgForm {
    fn of(org: &OrgDto) -> OrgForm {
        OrgForm {
            name: org.name.clone(),
            short_name: org.short_name.clone(),
            address: org.address.clone().unwrap_or_default(),
            country: org.country.clone(),
            sector: org.sector.clone().unwrap_or_default(),
            subsector: org.subsector.clone().unwrap_or_default(),
            entity_type: org.entity_type.clone(),
            authority_level: org.authority_level.clone(),
            parent: org.parent.clone().unwrap_or_default(),
        }
    }

    fn input(&self) -> OrgInput {
        OrgInput {
            name: self.name.trim().to_owned(),
            short_name: self.short_name.trim().to_owned(),
            address: given(Some(self.address.clone())),
            country: given(Some(self.country.clone())),
            sector: given(Some(self.sector.clone())),
            subsector: given(Some(self.subsector.clone())),
            entity_type: given(Some(self.entity_type.clone())),
            authority_level: self.authority_level.trim().to_owned(),
            parent: given(Some(self.parent.clone())),
        }
    }
}

/// The organisation form, new (`org` absent) or changing one.
fn org_form_page(
    state: &AppState,
    web: &WebUser,
    org: Option<&OrgDto>,
    form: &OrgForm,
    problems: &[String],
) -> Response {
    let context = context! {
        org => data(&org),
        form => data(&form),
        problems => data(&problems),
        levels => data(&state.config().authority_levels.0),
        entity_types => ["essential", "important", "other"],
        action => org.map_or_else(
            || "/constituency/organisations".to_owned(),
            |org| format!("/constituency/organisations/{}/edit", org.id),
        ),
    };
    let status = if problems.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    (status, web.render("web/constituency/organisation_form.html", context)).into_response()
}

// Deleting an organisation.

/// The organisation to delete as the API shows it to the user, or the refusal: not found when
/// the user may not see it (as the API), forbidden for anyone but the operating CERT's
/// administrators, who alone may delete.
async fn deletable(state: &AppState, web: &WebUser, key: &str) -> Result<OrgDto, Response> {
    let org = match crate::api::orgs::get(State(state.clone()), web.auth(), Path(key.to_owned())).await {
        Ok(axum::Json(org)) => org,
        Err(error) => return Err(api_failure(web, error)),
    };
    if !neretva_model::access::may_administer(&web.principal()) {
        return Err(web.forbidden());
    }
    Ok(org)
}

/// The confirmation page, with the API's refusal when there was one.
fn delete_page(web: &WebUser, org: &OrgDto, status: StatusCode, problems: &[String]) -> Response {
    let context = context! { org => data(org), problems => data(&problems) };
    (status, web.render("web/constituency/organisation_delete.html", context)).into_response()
}

async fn delete_form(State(state): State<AppState>, web: WebUser, Path(key): Path<String>) -> Response {
    match deletable(&state, &web, &key).await {
        Ok(org) => delete_page(&web, &org, StatusCode::OK, &[]),
        Err(response) => response,
    }
}

#[derive(Debug, Deserialize)]
struct DeleteForm {}

/// Deletes the organisation with its contacts and assets through the API; a refusal (it still
/// has users or client organisations) is shown on the confirmation page.
async fn delete(
    State(state): State<AppState>,
    Path(key): Path<String>,
    WebForm { web, .. }: WebForm<DeleteForm>,
) -> Response {
    let org = match deletable(&state, &web, &key).await {
        Ok(org) => org,
        Err(response) => return response,
    };
    match crate::api::orgs::remove(State(state.clone()), web.auth(), Path(org.id.to_string())).await {
        Ok(_) => Redirect::to("/constituency/organisations").into_response(),
        Err(error) if matches!(error.code, ErrorCode::Conflict | ErrorCode::ValidationFailed) => {
            delete_page(&web, &org, error.code.describe().1, &problems(&error))
        }
        Err(error) => api_failure(&web, error),
    }
}

async fn new_form(State(state): State<AppState>, web: WebUser) -> Response {
    if require_registry_writer(&web.auth()).is_err() {
        return web.not_found();
    }
    let form = OrgForm { country: "BA".into(), entity_type: "other".into(), ..OrgForm::default() };
    org_form_page(&state, &web, None, &form, &[])
}

async fn create(State(state): State<AppState>, WebForm { web, form }: WebForm<OrgForm>) -> Response {
    if require_registry_writer(&web.auth()).is_err() {
        return web.not_found();
    }
    match crate::api::orgs::create(State(state.clone()), web.auth(), ApiJson(form.input())).await {
        Ok(_) => {
            let target = match state.registry().resolve(form.short_name.trim()) {
                Some(org) => format!("/constituency/organisations/{}", org.id),
                None => "/constituency/organisations".to_owned(),
            };
            Redirect::to(&target).into_response()
        }
        Err(error) if is_input_problem(&error) => org_form_page(&state, &web, None, &form, &problems(&error)),
        Err(error) => api_failure(&web, error),
    }
}

async fn edit_form(State(state): State<AppState>, web: WebUser, Path(key): Path<String>) -> Response {
    let org = match crate::api::orgs::get(State(state.clone()), web.auth(), Path(key)).await {
        Ok(axum::Json(org)) => org,
        Err(error) => return api_failure(&web, error),
    };
    if require_registry_writer(&web.auth()).is_err() {
        return web.forbidden();
    }
    org_form_page(&state, &web, Some(&org), &OrgForm::of(&org), &[])
}

async fn update(
    State(state): State<AppState>,
    Path(key): Path<String>,
    WebForm { web, form }: WebForm<OrgForm>,
) -> Response {
    let org = match crate::api::orgs::get(State(state.clone()), web.auth(), Path(key)).await {
        Ok(axum::Json(org)) => org,
        Err(error) => return api_failure(&web, error),
    };
    let path = Path(org.id.to_string());
    match crate::api::orgs::update(State(state.clone()), web.auth(), path, ApiJson(form.input())).await {
        Ok(axum::Json(org)) => {
            Redirect::to(&format!("/constituency/organisations/{}", org.id)).into_response()
        }
        Err(error) if is_input_problem(&error) => {
            org_form_page(&state, &web, Some(&org), &form, &problems(&error))
        }
        Err(error) => api_failure(&web, error),
    }
}

// Contacts and assets.

impl ContactForm {
    fn input(&self) -> ContactInput {
        ContactInput {
            name: self.name.trim().to_owned(),
            role: given(Some(self.role.clone())),
            email: self.email.trim().to_owned(),
            phone: given(Some(self.phone.clone())),
            languages: self
                .languages
                .split([',', ' '])
                .map(str::trim)
                .filter(|tag| !tag.is_empty())
                .map(str::to_owned)
                .collect(),
            pgp_key: given(Some(self.pgp_key.clone())),
            clearance: given(Some(self.clearance.clone())),
        }
    }
}

async fn add_contact(
    State(state): State<AppState>,
    Path(key): Path<String>,
    WebForm { web, form }: WebForm<ContactForm>,
) -> Response {
    let path = Path(key.clone());
    match crate::api::contacts::create(State(state.clone()), web.auth(), path, ApiJson(form.input())).await {
        Ok(_) => {
            Redirect::to(&format!("/constituency/organisations/{}", encode_query_value(&key))).into_response()
        }
        Err(error) if is_input_problem(&error) => {
            let forms = PageForms {
                contact: Some(Refused { problems: problems(&error), values: form }),
                asset: None,
            };
            org_page(&state, &web, &key, &OrgPageQuery::default(), forms).await
        }
        Err(error) => api_failure(&web, error),
    }
}

async fn remove_contact(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, .. }: WebForm<Confirm>,
) -> Response {
    // Read first (as the API does, 404 when not visible) to know where to go back to.
    let contact = match crate::api::contacts::get(State(state.clone()), web.auth(), Path(id.clone())).await {
        Ok(axum::Json(contact)) => contact,
        Err(error) => return api_failure(&web, error),
    };
    match crate::api::contacts::remove(State(state.clone()), web.auth(), Path(id)).await {
        Ok(_) => Redirect::to(&format!("/constituency/organisations/{}", contact.org_id)).into_response(),
        Err(error) => api_failure(&web, error),
    }
}

async fn add_asset(
    State(state): State<AppState>,
    Path(key): Path<String>,
    WebForm { web, form }: WebForm<AssetForm>,
) -> Response {
    let input = AssetInput {
        kind: given(Some(form.kind.clone())),
        value: form.value.trim().to_owned(),
        description: given(Some(form.description.clone())),
    };
    match crate::api::assets::create(State(state.clone()), web.auth(), Path(key.clone()), ApiJson(input))
        .await
    {
        Ok(_) => {
            Redirect::to(&format!("/constituency/organisations/{}", encode_query_value(&key))).into_response()
        }
        Err(error) if is_input_problem(&error) => {
            let forms = PageForms {
                contact: None,
                asset: Some(Refused { problems: problems(&error), values: form }),
            };
            org_page(&state, &web, &key, &OrgPageQuery::default(), forms).await
        }
        Err(error) => api_failure(&web, error),
    }
}

async fn remove_asset(
    State(state): State<AppState>,
    Path(id): Path<String>,
    WebForm { web, .. }: WebForm<Confirm>,
) -> Response {
    let asset = match crate::api::assets::get(State(state.clone()), web.auth(), Path(id.clone())).await {
        Ok(axum::Json(asset)) => asset,
        Err(error) => return api_failure(&web, error),
    };
    match crate::api::assets::remove(State(state.clone()), web.auth(), Path(id)).await {
        Ok(_) => Redirect::to(&format!("/constituency/organisations/{}", asset.org_id)).into_response(),
        Err(error) => api_failure(&web, error),
    }
}

// Lookup.

#[derive(Debug, Default, Deserialize)]
struct LookupQuery {
    q: Option<String>,
}

/// The longest lookup query taken (a URL or an e-mail address at most).
const MAX_LOOKUP: usize = 2048;

async fn lookup(
    State(state): State<AppState>,
    web: WebUser,
    query: Result<Query<LookupQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = query.ok().and_then(|Query(query)| given(query.q)).unwrap_or_default();
    let mut problem = None;
    let mut answer = None;
    if q.len() > MAX_LOOKUP {
        problem = Some(format!("q: at most {MAX_LOOKUP} characters"));
    } else if !q.is_empty() {
        let params = LookupParams { q: q.clone() };
        match crate::api::lookup::lookup(State(state.clone()), web.auth(), Ok(Query(params))).await {
            Ok(axum::Json(found)) => answer = Some(found),
            Err(error) if is_input_problem(&error) => problem = Some(problems(&error).join("; ")),
            Err(error) => return api_failure(&web, error),
        }
    }
    let status = if problem.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let context = context! { q => q, answer => data(&answer), problem => problem };
    (status, web.render("web/constituency/lookup.html", context)).into_response()
}
