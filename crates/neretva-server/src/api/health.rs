//! Liveness and metrics.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;

/// The answer of `/healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` when the database does not answer.
    pub status: String,
    pub database: String,
    pub schema_version: i64,
}

/// Reports whether the server and its database work.
#[utoipa::path(get, path = "/healthz", tag = "health", responses(
    (status = 200, body = Health), (status = 503, body = Health)))]
pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.store().schema_status().await {
        Ok(status) => Json(Health {
            status: "ok".into(),
            database: state.store().backend().into(),
            schema_version: status.current,
        })
        .into_response(),
        Err(error) => {
            tracing::warn!(error = %error, "Health check: database unavailable.");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "degraded".into(),
                    database: state.store().backend().into(),
                    schema_version: 0,
                }),
            )
                .into_response()
        }
    }
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "health", responses((status = 200, body = String)))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let body = state.inner.metrics.as_ref().map(|handle| handle.render()).unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
