//! Events (`/events`): the API's search with all its filters (time range, taxonomy and type,
//! organisation, IP or network, ASN, feed, report, free text), a result table with cursor
//! paging, export links to the API's CSV, JSON and IntelMQ JSON lines export with the same
//! filters (the session authenticates them), and one event's page (`/events/{id}`) with every
//! field, the raw line and its report. Reads go through the API's `search` and `visible_dto`,
//! so a page shows exactly what the API would: another organisation's event answers 404.

use axum::Router;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use minijinja::{Value, context};
use neretva_model::Uuid;
use serde::Deserialize;

use crate::AppState;
use crate::api::events::{EventDto, EventFilter, EventPage, search, visible_dto};
use crate::web::{WebUser, encode_query_value, t};

/// Events per page.
const PAGE: u32 = 50;

/// The search page; an event's page (`/events/{id}`) shares its path with MISP's `/events/…`
/// API and is reached through [`misp_path_page`].
pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/events", get(list))
}

/// A browser's request for `/events/{id}` among MISP's paths: a GET or HEAD with a session
/// cookie and no API key (MISP clients always send one, in `Authorization` or `X-MISP-AUTH`),
/// naming one event by UUID. Answers the event's page, or `None` to leave the request to the
/// MISP API.
pub(crate) async fn misp_path_page(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Option<Response> {
    if !matches!(*method, Method::GET | Method::HEAD)
        || headers.contains_key(header::AUTHORIZATION)
        || headers.contains_key("x-misp-auth")
        || crate::extract::cookie(headers, crate::extract::SESSION_COOKIE).is_none()
    {
        return None;
    }
    let id = Uuid::try_parse(uri.path().strip_prefix("/events/")?).ok()?;
    let mut request = axum::http::Request::new(());
    *request.method_mut() = method.clone();
    *request.uri_mut() = uri.clone();
    *request.headers_mut() = headers.clone();
    let (mut parts, ()) = request.into_parts();
    Some(match WebUser::from_request_parts(&mut parts, state).await {
        Ok(web) => detail(state, &web, id).await,
        Err(response) => response,
    })
}

/// The search form as sent: every field may be empty.
#[derive(Debug, Default, Deserialize)]
struct SearchForm {
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    taxonomy: String,
    #[serde(default, rename = "type")]
    classification_type: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    ip: String,
    #[serde(default)]
    asn: String,
    #[serde(default)]
    feed: String,
    #[serde(default)]
    report: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    cursor: String,
}

/// A time from the form: RFC 3339 as is, a `datetime-local` value (`2026-11-29T10:00`) as UTC.
fn form_time(text: &str) -> String {
    let text = text.trim();
    let local = text.len() == 16 && text.as_bytes().get(10) == Some(&b'T') && !text.ends_with('Z');
    if local { format!("{text}:00Z") } else { text.to_owned() }
}

impl SearchForm {
    /// The API's filter parameters that are set, in a fixed order, times made RFC 3339.
    fn params(&self) -> Vec<(&'static str, String)> {
        let fields = [
            ("since", form_time(&self.since)),
            ("until", form_time(&self.until)),
            ("taxonomy", self.taxonomy.trim().to_owned()),
            ("type", self.classification_type.trim().to_owned()),
            ("organisation", self.organisation.trim().to_owned()),
            ("ip", self.ip.trim().to_owned()),
            ("asn", self.asn.trim().to_owned()),
            ("feed", self.feed.trim().to_owned()),
            ("report", self.report.trim().to_owned()),
            ("q", self.q.trim().to_owned()),
        ];
        fields.into_iter().filter(|(_, value)| !value.is_empty()).collect()
    }

    fn filter(&self) -> Result<EventFilter, (&'static str, String)> {
        let mut filter = EventFilter { limit: Some(PAGE), ..EventFilter::default() };
        for (name, value) in self.params() {
            match name {
                "since" => filter.since = Some(value),
                "until" => filter.until = Some(value),
                "taxonomy" => filter.taxonomy = Some(value),
                "type" => filter.classification_type = Some(value),
                "organisation" => filter.organisation = Some(value),
                "ip" => filter.ip = Some(value),
                "asn" => filter.asn = Some(value),
                "feed" => filter.feed = Some(value),
                "report" => {
                    filter.report = Some(
                        Uuid::try_parse(&value)
                            .map_err(|_| ("report", format!("{value:?} is not a report id")))?,
                    );
                }
                "q" => {
                    if value.len() > 1000 {
                        return Err(("q", "at most 1000 bytes".into()));
                    }
                    filter.q = Some(value);
                }
                _ => {}
            }
        }
        let cursor = self.cursor.trim();
        if !cursor.is_empty() {
            filter.cursor = Some(cursor.to_owned());
        }
        Ok(filter)
    }
}

fn query_string(params: &[(&str, String)]) -> String {
    params
        .iter()
        .map(|(name, value)| format!("{name}={}", encode_query_value(value)))
        .collect::<Vec<_>>()
        .join("&")
}

fn text(event: &serde_json::Value, field: &str) -> String {
    match event.get(field) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn row(item: &EventDto) -> Value {
    let event = &item.event;
    let time = Some(text(event, "time.source"))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| text(event, "time.observation"));
    let mut source = text(event, "source.ip");
    let port = text(event, "source.port");
    if !port.is_empty() && !source.is_empty() {
        source = if source.contains(':') { format!("[{source}]:{port}") } else { format!("{source}:{port}") };
    }
    context! {
        id => item.id.to_string(),
        time => time.replace('T', " "),
        taxonomy => text(event, "classification.taxonomy"),
        kind => text(event, "classification.type"),
        identifier => text(event, "classification.identifier"),
        source => source,
        fqdn => text(event, "source.fqdn"),
        asn => text(event, "source.asn"),
        country => text(event, "source.geolocation.cc"),
        organisations => item.organisations.join(", "),
        feed => &item.feed,
    }
}

async fn list(
    State(state): State<AppState>,
    web: WebUser,
    form: Result<Query<SearchForm>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let language = web.language;
    let Ok(Query(form)) = form else {
        return web.bad_request("query", "unknown or malformed parameter");
    };
    let params = form.params();
    let registry = state.registry();
    let principal = web.principal();
    let mut organisations: Vec<(String, String)> = registry
        .orgs
        .values()
        .filter(|org| registry.may_see_org(&principal, org.id))
        .map(|org| (org.fields.short_name.clone(), org.fields.name.clone()))
        .collect();
    organisations.sort();
    let mut context = context! {
        form => context! {
            since => form.since.trim(),
            until => form.until.trim(),
            taxonomy => form.taxonomy.trim(),
            type => form.classification_type.trim(),
            organisation => form.organisation.trim(),
            ip => form.ip.trim(),
            asn => form.asn.trim(),
            feed => form.feed.trim(),
            report => form.report.trim(),
            q => form.q.trim(),
        },
        taxonomies => neretva_event::taxonomy::TAXONOMIES.to_vec(),
        types => neretva_event::taxonomy::intelmq_types().iter().map(|t| t.slug).collect::<Vec<_>>(),
        organisations => organisations.iter().map(|(short, name)| context! { short => short, name => name }).collect::<Vec<_>>(),
        paged => !form.cursor.trim().is_empty(),
        first_link => format!("/events?{}", query_string(&params)),
        csv_link => format!("/api/v1/events?{}", query_string(&with_format(&params, "csv"))),
        json_link => format!("/api/v1/events?{}", query_string(&with_format(&params, "json"))),
        intelmq_link => format!("/api/v1/events?{}", query_string(&with_format(&params, "intelmq-jsonl"))),
    };
    let filter = match form.filter() {
        Ok(filter) => filter,
        Err((field, message)) => return with_error(&web, context, field, &message),
    };
    let page = match search(&state, &web.auth(), &filter).await {
        Ok(page) => page,
        Err(error) if error.code.describe().1 == StatusCode::INTERNAL_SERVER_ERROR => {
            tracing::error!(error = %error.message, "The event search failed.");
            return web.error(StatusCode::INTERNAL_SERVER_ERROR, "common.errors.internal");
        }
        Err(error) => {
            let field = error.field.clone().unwrap_or_else(|| "query".to_owned());
            // An organisation the caller may not see is "not found", as in the API.
            return with_error(&web, context, &field, &error.message);
        }
    };
    let EventPage { items, next_cursor, partial } = page;
    let next_link = next_cursor.map(|cursor| {
        let mut next = params.clone();
        next.push(("cursor", cursor));
        format!("/events?{}", query_string(&next))
    });
    let rows: Vec<Value> = items.iter().map(row).collect();
    context = context! {
        ..context,
        ..context! {
            rows => rows,
            count => t_count(language, items.len()),
            partial => partial,
            next_link => next_link,
        }
    };
    web.render("web/events/list.html", context)
}

fn t_count(language: neretva_model::contact::Language, n: usize) -> String {
    crate::web::t_n(language, "common.units.events", i64::try_from(n).unwrap_or(i64::MAX))
}

fn with_format(params: &[(&'static str, String)], format: &str) -> Vec<(&'static str, String)> {
    let mut params = params.to_vec();
    params.push(("limit", "1000".to_owned()));
    params.push(("format", format.to_owned()));
    params
}

/// The search page with the form and a message naming the field at fault (400).
fn with_error(web: &WebUser, context: Value, field: &str, message: &str) -> Response {
    let context = context! { ..context, ..context! { error => format!("{field}: {message}"), rows => Vec::<Value>::new() } };
    (StatusCode::BAD_REQUEST, web.render("web/events/list.html", context)).into_response()
}

async fn detail(state: &AppState, web: &WebUser, id: Uuid) -> Response {
    let registry = state.registry();
    let stored = match state.store().get_event(id).await {
        Ok(stored) => stored,
        Err(error) => return web.internal(&error),
    };
    let Some(item) = stored.and_then(|stored| visible_dto(stored, &registry, &web.principal())) else {
        return web.not_found();
    };
    let fields: Vec<Value> = match &item.event {
        serde_json::Value::Object(map) => {
            let mut names: Vec<&String> = map.keys().filter(|name| name.as_str() != "raw").collect();
            names.sort();
            names
                .into_iter()
                .map(|name| context! { name => name, value => text(&item.event, name) })
                .collect()
        }
        _ => Vec::new(),
    };
    let title = Some(text(&item.event, "classification.type"))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| t(web.language, "events.detail.title"));
    let context = context! {
        title => title,
        summary => row(&item),
        fields => fields,
        raw => &item.raw,
        line => item.line,
        report_id => item.report_id.to_string(),
        report_link => web.user.is_operator_staff().then(|| format!("/feeds/reports/{}", item.report_id)),
        stored_at => &item.stored_at,
        json_link => format!("/api/v1/events/{}", item.id),
    };
    web.render("web/events/detail.html", context)
}
