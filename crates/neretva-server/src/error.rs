//! The one API error type and its table of stable codes.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use neretva_model::FieldError;
use neretva_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// Stable error codes; clients match on these, never on messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidJson,
    ValidationFailed,
    ImportRejected,
    Unauthenticated,
    InvalidCredentials,
    AccountLocked,
    AccountDisabled,
    CsrfFailed,
    Forbidden,
    NotFound,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    RateLimited,
    Internal,
    Unavailable,
}

impl ErrorCode {
    /// The code's wire name and HTTP status: the single table of both.
    pub fn describe(self) -> (&'static str, StatusCode) {
        match self {
            ErrorCode::InvalidRequest => ("invalid_request", StatusCode::BAD_REQUEST),
            ErrorCode::InvalidJson => ("invalid_json", StatusCode::BAD_REQUEST),
            ErrorCode::ValidationFailed => ("validation_failed", StatusCode::UNPROCESSABLE_ENTITY),
            ErrorCode::ImportRejected => ("import_rejected", StatusCode::UNPROCESSABLE_ENTITY),
            ErrorCode::Unauthenticated => ("unauthenticated", StatusCode::UNAUTHORIZED),
            ErrorCode::InvalidCredentials => ("invalid_credentials", StatusCode::UNAUTHORIZED),
            ErrorCode::AccountLocked => ("account_locked", StatusCode::FORBIDDEN),
            ErrorCode::AccountDisabled => ("account_disabled", StatusCode::FORBIDDEN),
            ErrorCode::CsrfFailed => ("csrf_failed", StatusCode::FORBIDDEN),
            ErrorCode::Forbidden => ("forbidden", StatusCode::FORBIDDEN),
            ErrorCode::NotFound => ("not_found", StatusCode::NOT_FOUND),
            ErrorCode::Conflict => ("conflict", StatusCode::CONFLICT),
            ErrorCode::PayloadTooLarge => ("payload_too_large", StatusCode::PAYLOAD_TOO_LARGE),
            ErrorCode::UnsupportedMediaType => ("unsupported_media_type", StatusCode::UNSUPPORTED_MEDIA_TYPE),
            ErrorCode::RateLimited => ("rate_limited", StatusCode::TOO_MANY_REQUESTS),
            ErrorCode::Internal => ("internal", StatusCode::INTERNAL_SERVER_ERROR),
            ErrorCode::Unavailable => ("unavailable", StatusCode::SERVICE_UNAVAILABLE),
        }
    }
}

/// One problem with one field (and, for imports, one line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub field: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

/// The body of every error response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable machine-readable code such as `validation_failed`.
    pub code: String,
    /// A human-readable explanation.
    pub message: String,
    /// The offending field, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every problem found, for validation and import errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ErrorDetail>,
    /// For a refused status transition: the statuses the incident may move to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
    /// For a body over a limit: the limit, in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// An error returned by a handler.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub field: Option<String>,
    pub details: Vec<ErrorDetail>,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<u64>,
    /// What some errors add to the body; boxed, as few errors have it.
    pub extra: Option<Box<ErrorExtra>>,
}

/// Fields of the error body that only some errors have.
#[derive(Debug, Default)]
pub struct ErrorExtra {
    /// For a refused status transition: the statuses allowed instead.
    pub allowed: Option<Vec<String>>,
    /// For a body over a limit: the limit, in bytes.
    pub limit: Option<u64>,
    /// Why a request was refused, as a word the web pages translate (`passed`, `deadline`);
    /// not part of the body, whose `message` says it in English.
    pub reason: Option<&'static str>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            field: None,
            details: Vec::new(),
            retry_after: None,
            extra: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> ApiError {
        self.field = Some(field.into());
        self
    }

    /// Names why the request was refused, for the web pages (see [`ErrorExtra::reason`]).
    pub fn with_reason(mut self, reason: &'static str) -> ApiError {
        self.extra.get_or_insert_with(Box::default).reason = Some(reason);
        self
    }

    /// The reason [`ApiError::with_reason`] gave, if any.
    pub fn reason(&self) -> Option<&'static str> {
        self.extra.as_ref().and_then(|extra| extra.reason)
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn forbidden(why: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::Forbidden, why)
    }

    pub fn bad_request(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::InvalidRequest, message).with_field(field)
    }

    /// A validation failure listing every field error; the first one names `field`.
    pub fn validation(errors: Vec<FieldError>) -> ApiError {
        let first = errors.first().cloned();
        let message = match &first {
            Some(error) if errors.len() == 1 => error.to_string(),
            Some(error) => format!("{error} (and {} more problems)", errors.len() - 1),
            None => "invalid input".to_owned(),
        };
        ApiError {
            code: ErrorCode::ValidationFailed,
            message,
            field: first.map(|error| error.field),
            details: errors
                .into_iter()
                .map(|error| ErrorDetail { field: error.field, message: error.message, line: None })
                .collect(),
            retry_after: None,
            extra: None,
        }
    }

    /// A body over a limit: 413 naming the limit.
    pub fn too_large(message: impl Into<String>, limit: u64) -> ApiError {
        let mut error = ApiError::new(ErrorCode::PayloadTooLarge, message);
        error.extra = Some(Box::new(ErrorExtra { limit: Some(limit), ..ErrorExtra::default() }));
        error
    }
}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> ApiError {
        ApiError::validation(vec![error])
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            StoreError::NotFound { kind, key } => {
                ApiError::new(ErrorCode::NotFound, format!("{kind} {key} not found"))
            }
            StoreError::Conflict { field, message } => {
                ApiError::new(ErrorCode::Conflict, format!("{field}: {message}")).with_field(field)
            }
            StoreError::Import(errors) => {
                let count = errors.len();
                let first = errors.first().map(ToString::to_string).unwrap_or_default();
                ApiError {
                    code: ErrorCode::ImportRejected,
                    message: format!("import rejected, nothing was written: {count} errors, first: {first}"),
                    field: errors.first().map(|error| error.field.clone()),
                    details: errors
                        .into_iter()
                        .map(|error| ErrorDetail {
                            field: error.field,
                            message: error.message,
                            line: Some(error.line),
                        })
                        .collect(),
                    retry_after: None,
                    extra: None,
                }
            }
            StoreError::SchemaTooNew { .. } | StoreError::SchemaTooOld { .. } => {
                tracing::error!(error = %error, "Database schema mismatch.");
                ApiError::new(ErrorCode::Unavailable, "database schema mismatch")
            }
            StoreError::Backend(message) => {
                tracing::error!(error = %message, "Storage failed.");
                ApiError::new(ErrorCode::Internal, "internal error")
            }
        }
    }
}

impl From<crate::incidents::IncidentError> for ApiError {
    fn from(error: crate::incidents::IncidentError) -> ApiError {
        use neretva_incident::evidence::EvidenceError;
        use neretva_incident::link::LinkError;

        use crate::incidents::IncidentError;
        match error {
            IncidentError::Invalid(errors) => ApiError::validation(errors),
            IncidentError::Transition(error) => {
                let mut api = ApiError::new(ErrorCode::Conflict, error.to_string()).with_field("to");
                let allowed = error.allowed.iter().map(|status| status.as_str().to_owned()).collect();
                api.extra = Some(Box::new(ErrorExtra { allowed: Some(allowed), ..ErrorExtra::default() }));
                api
            }
            IncidentError::Evidence(EvidenceError::TooLarge { limit, .. }) => {
                ApiError::too_large(error.to_string(), limit)
            }
            IncidentError::Evidence(EvidenceError::Invalid { field, message }) => {
                ApiError::validation(vec![FieldError::new(field, message)])
            }
            IncidentError::Evidence(EvidenceError::Empty) => {
                ApiError::validation(vec![FieldError::new("body", "the attachment is empty")])
            }
            IncidentError::Evidence(EvidenceError::Duplicate { .. }) => {
                ApiError::new(ErrorCode::Conflict, error.to_string()).with_field("sha256")
            }
            IncidentError::Evidence(EvidenceError::TooMany { .. }) => {
                ApiError::new(ErrorCode::Conflict, error.to_string()).with_field("evidence")
            }
            IncidentError::Link(LinkError::SelfLink) => {
                ApiError::validation(vec![FieldError::new("other", LinkError::SelfLink.to_string())])
            }
            IncidentError::Link(error) => {
                ApiError::new(ErrorCode::Conflict, error.to_string()).with_field("other")
            }
            IncidentError::Merge(error) => {
                ApiError::new(ErrorCode::Conflict, error.to_string()).with_field("source")
            }
            IncidentError::Stale { .. } => {
                ApiError::new(ErrorCode::Conflict, error.to_string()).with_field("version")
            }
            IncidentError::Blob(neretva_store::blobs::BlobError::TooLarge { limit }) => {
                ApiError::too_large(format!("the attachment is more than the limit of {limit} bytes"), limit)
            }
            IncidentError::Blob(error) => {
                tracing::error!(error = %error, "Evidence store failed.");
                ApiError::new(ErrorCode::Internal, "internal error")
            }
            IncidentError::Store(error) => error.into(),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> ApiError {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "expected a request with Content-Type: application/json",
            ),
            JsonRejection::BytesRejection(bytes) => {
                if bytes.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(ErrorCode::PayloadTooLarge, "request body is larger than the limit")
                } else {
                    ApiError::new(ErrorCode::InvalidRequest, bytes.body_text())
                }
            }
            JsonRejection::JsonDataError(error) => json_error(&error.body_text()),
            JsonRejection::JsonSyntaxError(error) => ApiError::new(ErrorCode::InvalidJson, error.body_text()),
            other => ApiError::new(ErrorCode::InvalidJson, other.body_text()),
        }
    }
}

/// Turns serde's message into an error naming the field, e.g. `unknown field `foo``.
fn json_error(text: &str) -> ApiError {
    // Axum's text reads "Failed to deserialize the JSON body into the target type: PATH: MESSAGE".
    let detail = text.split_once("target type: ").map_or(text, |(_, rest)| rest);
    let field = detail
        .split_once("unknown field `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(name, _)| name.to_owned())
        .or_else(|| {
            detail
                .split_once("missing field `")
                .and_then(|(_, rest)| rest.split_once('`'))
                .map(|(name, _)| name.to_owned())
        })
        .or_else(|| {
            detail
                .split_once(": ")
                .map(|(path, _)| path.to_owned())
                .filter(|path| !path.contains(' ') && path != ".")
        });
    let mut error = ApiError::new(ErrorCode::InvalidJson, detail.to_owned());
    error.field = field;
    error
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> ApiError {
        ApiError::new(ErrorCode::InvalidRequest, rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (code, status) = self.code.describe();
        let extra = self.extra.map(|extra| *extra).unwrap_or_default();
        let body = ErrorBody {
            code: code.to_owned(),
            message: self.message,
            field: self.field,
            details: self.details,
            allowed: extra.allowed,
            limit: extra.limit,
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_name_the_field() {
        let error = json_error(
            "Failed to deserialize the JSON body into the target type: unknown field `colour`, expected one of `name`, `short_name` at line 1 column 10",
        );
        assert_eq!(error.field.as_deref(), Some("colour"));
        let error = json_error(
            "Failed to deserialize the JSON body into the target type: entity_type: unknown variant `big` at line 1 column 3",
        );
        assert_eq!(error.field.as_deref(), Some("entity_type"));
    }
}
