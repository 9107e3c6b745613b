//! The acknowledgment pages of communication checks, reached without signing in through the
//! one-time link of a challenge e-mail: `GET /ack/{token}` shows what is to be confirmed and a
//! button, `POST /ack/{token}` records the acknowledgment (time, the link's recipient, the user
//! agent). A link used before, expired or unknown answers a page that says which (409, 410,
//! 404) and records nothing. The texts are in the contact point's language.
//!
//! The token is the credential: it is looked up by its SHA-256 only, and a GET never changes
//! anything (mail scanners that follow links cannot acknowledge for the recipient).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use neretva_governance::check_texts::{self, PageInput, PageTexts};
use neretva_governance::checks::{is_token_shaped, token_hash};
use neretva_model::contact::Language;
use neretva_store::contact_points::{AckOutcome, Acknowledgment, TokenInfo};
use time::OffsetDateTime;

use crate::AppState;
use crate::web::escape;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/ack/{token}", get(show).post(confirm))
}

fn page(language: Language, title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Neretva</title><link rel=\"stylesheet\" href=\"/static/neretva.css\"></head>\
         <body><main><h1>{}</h1>{body}</main></body></html>",
        language.tag(),
        escape(title),
        escape(title)
    ))
}

fn message(status: StatusCode, language: Language, texts: &PageTexts, text: &str) -> Response {
    let mut response =
        (status, page(language, &texts.title, &format!("<p>{}</p>", escape(text)))).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    response
}

fn texts_for(state: &AppState, info: Option<&TokenInfo>) -> (Language, PageTexts) {
    let registry = state.registry();
    let cert = state
        .notifier()
        .map(|notifier| notifier.config().cert_name.clone())
        .unwrap_or_else(|| state.config().operator_org.clone());
    let Some(info) = info else {
        let input = PageInput { cert: &cert, campaign: "", name: "", org: "", expires: "" };
        return (Language::En, check_texts::page(Language::En, &input));
    };
    let org = registry.orgs.get(&info.target.org_id).map(|org| org.fields.name.clone()).unwrap_or_default();
    let expires = crate::checks::written_time(info.expires_at);
    let input = PageInput {
        cert: &cert,
        campaign: &info.campaign_name,
        name: &info.target.name,
        org: &org,
        expires: &expires,
    };
    (info.target.language, check_texts::page(info.target.language, &input))
}

async fn lookup(state: &AppState, token: &str) -> Result<Option<TokenInfo>, Response> {
    if !is_token_shaped(token) {
        return Ok(None);
    }
    state.store().check_token(&token_hash(token)).await.map_err(|error| {
        tracing::error!(error = %error, "Reading a communication check's link failed.");
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    })
}

async fn show(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let info = match lookup(&state, &token).await {
        Ok(info) => info,
        Err(response) => return response,
    };
    let (language, texts) = texts_for(&state, info.as_ref());
    let Some(info) = info else {
        return message(StatusCode::NOT_FOUND, language, &texts, &texts.unknown);
    };
    if info.used_at.is_some() {
        return message(StatusCode::CONFLICT, language, &texts, &texts.used);
    }
    if OffsetDateTime::now_utc() >= info.expires_at {
        return message(StatusCode::GONE, language, &texts, &texts.expired);
    }
    let body = format!(
        "<p>{}</p><form method=\"post\" action=\"/ack/{}\"><button type=\"submit\">{}</button></form>",
        escape(&texts.intro),
        escape(&token),
        escape(&texts.button)
    );
    let mut response = page(language, &texts.title, &body).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    response
}

async fn confirm(State(state): State<AppState>, Path(token): Path<String>, headers: HeaderMap) -> Response {
    let info = match lookup(&state, &token).await {
        Ok(info) => info,
        Err(response) => return response,
    };
    let (language, texts) = texts_for(&state, info.as_ref());
    let Some(info) = info else {
        return message(StatusCode::NOT_FOUND, language, &texts, &texts.unknown);
    };
    let ack = Acknowledgment {
        by: info.target.email.clone(),
        via: "link".into(),
        user_agent: headers.get(header::USER_AGENT).and_then(|value| value.to_str().ok()).map(str::to_owned),
    };
    match state.store().acknowledge_check(&token_hash(&token), OffsetDateTime::now_utc(), &ack).await {
        Ok(AckOutcome::Recorded { .. }) => message(StatusCode::OK, language, &texts, &texts.done),
        Ok(AckOutcome::Used { .. }) => message(StatusCode::CONFLICT, language, &texts, &texts.used),
        Ok(AckOutcome::Expired { .. }) => message(StatusCode::GONE, language, &texts, &texts.expired),
        Ok(AckOutcome::Unknown) => message(StatusCode::NOT_FOUND, language, &texts, &texts.unknown),
        Err(error) => {
            tracing::error!(error = %error, "Recording a communication check's acknowledgment failed.");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
