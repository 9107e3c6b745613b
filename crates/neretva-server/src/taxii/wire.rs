//! The TAXII 2.1 wire: media types, the error resource, and responses with the TAXII
//! `Content-Type`.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use neretva_store::StoreError;
use serde::Serialize;

use crate::error::ApiError;

/// The media type of every TAXII 2.1 response.
pub const TAXII_MEDIA_TYPE: &str = "application/taxii+json;version=2.1";

/// A TAXII error resource with its HTTP status.
#[derive(Debug)]
pub struct TaxiiError {
    pub status: StatusCode,
    pub title: String,
    pub description: Option<String>,
    /// Seconds for `Retry-After` (rate-limited logins).
    pub retry_after: Option<u64>,
}

#[derive(Serialize)]
struct ErrorResource<'a> {
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    http_status: String,
}

impl TaxiiError {
    pub fn new(status: StatusCode, title: &str, description: impl Into<String>) -> TaxiiError {
        TaxiiError {
            status,
            title: title.to_owned(),
            description: Some(description.into()),
            retry_after: None,
        }
    }

    pub fn not_found(what: &str) -> TaxiiError {
        TaxiiError::new(StatusCode::NOT_FOUND, "Not found", format!("{what} not found"))
    }

    pub fn bad_request(description: impl Into<String>) -> TaxiiError {
        TaxiiError::new(StatusCode::BAD_REQUEST, "Bad request", description)
    }

    pub fn unauthorized(description: impl Into<String>) -> TaxiiError {
        TaxiiError::new(StatusCode::UNAUTHORIZED, "Authentication required", description)
    }

    pub fn forbidden(description: impl Into<String>) -> TaxiiError {
        TaxiiError::new(StatusCode::FORBIDDEN, "Forbidden", description)
    }
}

impl IntoResponse for TaxiiError {
    fn into_response(self) -> Response {
        let body = ErrorResource {
            title: &self.title,
            description: self.description.as_deref(),
            http_status: self.status.as_u16().to_string(),
        };
        let text = serde_json::to_string(&body).unwrap_or_default();
        let mut response = (self.status, taxii_headers(), text).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"TAXII\", charset=\"UTF-8\""),
            );
        }
        if let Some(seconds) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

impl From<StoreError> for TaxiiError {
    fn from(error: StoreError) -> TaxiiError {
        match error {
            StoreError::NotFound { kind, .. } => TaxiiError::not_found(kind),
            StoreError::Conflict { field, message } => TaxiiError::bad_request(format!("{field}: {message}")),
            other => {
                tracing::error!(error = %other, "A TAXII request failed in the store.");
                TaxiiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal error",
                    "the server failed; see its log",
                )
            }
        }
    }
}

impl From<ApiError> for TaxiiError {
    fn from(error: ApiError) -> TaxiiError {
        let (_, status) = error.code.describe();
        let title = status.canonical_reason().unwrap_or("Error");
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(message = %error.message, "A TAXII request failed.");
        }
        TaxiiError {
            status,
            title: title.to_owned(),
            description: Some(error.message),
            retry_after: error.retry_after,
        }
    }
}

pub type TaxiiResult<T> = Result<T, TaxiiError>;

/// The headers of every TAXII response.
pub fn taxii_headers() -> [(header::HeaderName, HeaderValue); 1] {
    [(header::CONTENT_TYPE, HeaderValue::from_static(TAXII_MEDIA_TYPE))]
}

/// A TAXII JSON response with status 200 (or `status`).
pub fn taxii_json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_string(value) {
        Ok(text) => (status, taxii_headers(), text).into_response(),
        Err(error) => {
            tracing::error!(error = %error, "A TAXII response could not be written.");
            TaxiiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal error", "response encoding failed")
                .into_response()
        }
    }
}

/// A media type's name (lower case) and its parameters (`name=value`, lower case, spaces
/// removed).
fn media_type(text: &str) -> (String, Vec<String>) {
    let mut parts =
        text.split(';').map(|part| part.chars().filter(|c| !c.is_whitespace()).collect::<String>());
    let name = parts.next().unwrap_or_default().to_ascii_lowercase();
    (name, parts.map(|part| part.to_ascii_lowercase()).filter(|part| !part.is_empty()).collect())
}

/// Whether a TAXII media type's parameters ask for version 2.1 (or no version).
fn taxii_21(name: &str, parameters: &[String]) -> bool {
    name == "application/taxii+json"
        && parameters
            .iter()
            .filter_map(|p| p.strip_prefix("version="))
            .all(|version| version.trim_matches('"') == "2.1")
}

/// Refuses a request whose `Accept` header allows no TAXII 2.1 response (406). No header, `*/*`
/// and `application/*` allow it.
pub fn check_accept(headers: &HeaderMap) -> TaxiiResult<()> {
    let values: Vec<&str> = headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).collect();
    if values.is_empty() {
        return Ok(());
    }
    let acceptable = values.iter().flat_map(|value| value.split(',')).any(|range| {
        let (name, parameters) = media_type(range);
        let refused =
            parameters.iter().any(|p| p == "q=0" || p == "q=0.0" || p == "q=0.00" || p == "q=0.000");
        !refused && (name == "*/*" || name == "application/*" || taxii_21(&name, &parameters))
    });
    if acceptable {
        Ok(())
    } else {
        Err(TaxiiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "Not acceptable",
            format!("this server answers with {TAXII_MEDIA_TYPE} only"),
        ))
    }
}

/// Refuses a POST body that is not a TAXII 2.1 envelope by its `Content-Type` (415).
pub fn check_content_type(headers: &HeaderMap) -> TaxiiResult<()> {
    let value = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let (name, parameters) = media_type(value);
    if taxii_21(&name, &parameters) {
        Ok(())
    } else {
        Err(TaxiiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            format!("send the envelope as {TAXII_MEDIA_TYPE}, not {value:?}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn accept_allows_taxii_21_and_wildcards_only() {
        let ok = [
            "application/taxii+json;version=2.1",
            "application/taxii+json; version=2.1",
            "application/taxii+json",
            "*/*",
            "text/html, application/*;q=0.5",
            "application/json, application/taxii+json;version=2.1",
        ];
        for value in ok {
            assert!(check_accept(&headers(header::ACCEPT, value)).is_ok(), "{value}");
        }
        let refused = [
            "application/taxii+json;version=2.0",
            "application/json",
            "application/stix+json;version=2.1",
            "application/taxii+json;version=2.1;q=0",
        ];
        for value in refused {
            let error = check_accept(&headers(header::ACCEPT, value)).unwrap_err();
            assert_eq!(error.status, StatusCode::NOT_ACCEPTABLE, "{value}");
        }
        assert!(check_accept(&HeaderMap::new()).is_ok());
    }

    #[test]
    fn content_type_must_be_a_taxii_envelope() {
        assert!(
            check_content_type(&headers(header::CONTENT_TYPE, "application/taxii+json;version=2.1")).is_ok()
        );
        assert!(check_content_type(&headers(header::CONTENT_TYPE, "application/taxii+json")).is_ok());
        for value in ["application/json", "application/taxii+json;version=2.0", "text/plain"] {
            let error = check_content_type(&headers(header::CONTENT_TYPE, value)).unwrap_err();
            assert_eq!(error.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        }
        let error = check_content_type(&HeaderMap::new()).unwrap_err();
        assert_eq!(error.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
}
