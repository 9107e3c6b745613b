//! Neretva's HTTP server: the REST API under `/api/v1`, the TAXII 2.1 server under `/taxii2/`,
//! the MISP-compatible API at MISP's paths (`misp`), the web interface (`web`),
//! authentication, OpenAPI, metrics.
//!
//! **API Boundary.** The binary builds an [`AppState`] and calls [`app`] for the router.
//!
//! **Architecture Invariant:** this is the only crate that knows HTTP: status codes, headers,
//! cookies and the JSON wire types (DTOs in `api::*`). Handlers hold no SQL; they call the
//! `neretva_store::Store` trait and filter every read with `neretva_model::access::may_see`.

mod ack;
pub mod api;
pub mod auth;
pub mod checks;
pub mod error;
pub mod extract;
pub mod groups;
pub mod incidents;
pub mod intel_links;
pub mod intel_taxii;
pub mod learning;
mod metrics_layer;
pub mod misp;
pub mod openapi;
pub mod registry;
pub mod taxii;
mod web;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use neretva_model::org::AuthorityLevels;
use neretva_store::{Store, StoreError};

use crate::auth::{LoginRateLimiter, PasswordParams, VerifiedCache};
pub use crate::extract::{Auth, MaybeAuth};
use crate::registry::RegistrySnapshot;

/// Settings the server needs, compiled from the configuration file by the binary.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Short name of the organisation that operates this instance (the CERT itself).
    pub operator_org: String,
    pub authority_levels: AuthorityLevels,
    pub password_params: PasswordParams,
    /// How long a login session lasts.
    pub session_ttl: Duration,
    /// Whether session cookies carry the `Secure` attribute (turn off only for plain-HTTP tests).
    pub cookie_secure: bool,
    /// The largest request body accepted by ordinary endpoints.
    pub max_body_bytes: usize,
    /// The largest bulk import accepted.
    pub max_import_bytes: usize,
    /// How many events one page of a free-text event search reads at most; the page then ends
    /// early, marked partial, and its cursor continues below what was read.
    pub text_search_scan: u32,
    /// Login attempts allowed per client address per minute.
    pub login_attempts_per_minute: u32,
    /// Consecutive failed logins that lock an account.
    pub lockout_threshold: u32,
    pub lockout_duration: Duration,
    /// Where evidence and raw e-mails are kept, content-addressed; `None` turns evidence
    /// uploads and e-mail intake off.
    pub evidence_dir: Option<std::path::PathBuf>,
    pub evidence_limits: neretva_incident::evidence::EvidenceLimits,
    pub mail_limits: neretva_mail::MailLimits,
    /// The civil time zone of calendar-month deadlines and how near a due time is "due soon".
    pub deadlines: neretva_incident::deadline::DeadlineConfig,
    /// The TAXII 2.1 server under `/taxii2/`.
    pub taxii: taxii::TaxiiConfig,
    /// The address people reach this server at (`https://cert.example.ba`), for the links of
    /// communication checks; none turns sending them off.
    pub public_url: Option<String>,
    /// Preservation requests (Budapest Convention Art. 29).
    pub preservation: PreservationConfig,
}

/// Who handles preservation requests beside law enforcement, and when they are reminded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreservationConfig {
    /// The organisation (short name or id) designated as the 24/7 point of contact
    /// (Budapest Convention Art. 35): its admins and analysts see and handle the requests.
    /// `None`: only law enforcement does.
    pub point_of_contact: Option<String>,
    /// Days before expiry at which a request is due for a reminder, largest first.
    pub reminder_days: Vec<u32>,
}

impl Default for PreservationConfig {
    fn default() -> PreservationConfig {
        PreservationConfig {
            point_of_contact: None,
            reminder_days: neretva_governance::preservation::DEFAULT_REMINDER_DAYS.to_vec(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            operator_org: "CERT-BIH".into(),
            authority_levels: AuthorityLevels::default(),
            password_params: PasswordParams::default(),
            session_ttl: Duration::from_secs(8 * 3600),
            cookie_secure: true,
            max_body_bytes: 1024 * 1024,
            max_import_bytes: 64 * 1024 * 1024,
            text_search_scan: 100_000,
            login_attempts_per_minute: 10,
            lockout_threshold: 5,
            lockout_duration: Duration::from_secs(15 * 60),
            evidence_dir: None,
            evidence_limits: neretva_incident::evidence::EvidenceLimits::default(),
            mail_limits: neretva_mail::MailLimits::default(),
            deadlines: neretva_incident::deadline::DeadlineConfig::default(),
            taxii: taxii::TaxiiConfig::default(),
            preservation: PreservationConfig::default(),
            public_url: None,
        }
    }
}

/// Everything handlers share.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    config: ServerConfig,
    verified: VerifiedCache,
    login_limiter: LoginRateLimiter,
    registry: RwLock<Arc<RegistrySnapshot>>,
    metrics: Option<PrometheusHandle>,
    dummy_hash: String,
    pipeline: std::sync::OnceLock<Arc<neretva_pipeline::Pipeline>>,
    notifier: std::sync::OnceLock<Arc<neretva_notifier::Notifier>>,
    taxii: taxii::TaxiiState,
}

impl AppState {
    /// Builds the state and loads the registry snapshot from the store.
    pub async fn new(
        store: Arc<dyn Store>,
        config: ServerConfig,
        metrics: Option<PrometheusHandle>,
    ) -> Result<AppState, StoreError> {
        let snapshot = RegistrySnapshot::load(store.as_ref(), &config.operator_org).await?;
        let dummy_hash = auth::dummy_hash(config.password_params);
        Ok(AppState {
            inner: Arc::new(Inner {
                login_limiter: LoginRateLimiter::new(config.login_attempts_per_minute),
                store,
                config,
                verified: VerifiedCache::default(),
                registry: RwLock::new(Arc::new(snapshot)),
                metrics,
                dummy_hash,
                pipeline: std::sync::OnceLock::new(),
                notifier: std::sync::OnceLock::new(),
                taxii: taxii::TaxiiState::default(),
            }),
        })
    }

    /// Adds the feed pipeline that processes uploaded reports; a second call is ignored.
    pub fn with_pipeline(self, pipeline: Arc<neretva_pipeline::Pipeline>) -> AppState {
        let _ = self.inner.pipeline.set(pipeline);
        self
    }

    /// Adds the constituent notifier that previews, resends and sends advisories; a second call
    /// is ignored.
    pub fn with_notifier(self, notifier: Arc<neretva_notifier::Notifier>) -> AppState {
        let _ = self.inner.notifier.set(notifier);
        self
    }

    pub(crate) fn notifier(&self) -> Option<&neretva_notifier::Notifier> {
        self.inner.notifier.get().map(Arc::as_ref)
    }

    pub(crate) fn pipeline(&self) -> Option<&neretva_pipeline::Pipeline> {
        self.inner.pipeline.get().map(Arc::as_ref)
    }

    pub fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    pub(crate) fn verified(&self) -> &VerifiedCache {
        &self.inner.verified
    }

    pub(crate) fn login_limiter(&self) -> &LoginRateLimiter {
        &self.inner.login_limiter
    }

    /// The evidence store, when one is configured.
    pub fn blobs(&self) -> Option<neretva_store::blobs::BlobStore> {
        self.inner.config.evidence_dir.as_ref().map(neretva_store::blobs::BlobStore::new)
    }

    pub(crate) fn dummy_hash(&self) -> &str {
        &self.inner.dummy_hash
    }

    /// The current registry snapshot (organisations, hierarchy, lookup index).
    pub fn registry(&self) -> Arc<RegistrySnapshot> {
        match self.inner.registry.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Reloads the registry snapshot after a change to organisations or assets.
    pub async fn refresh_registry(&self) -> Result<(), StoreError> {
        let snapshot = RegistrySnapshot::load(self.store(), &self.inner.config.operator_org).await?;
        match self.inner.registry.write() {
            Ok(mut guard) => *guard = Arc::new(snapshot),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(snapshot),
        }
        Ok(())
    }

    /// Reloads the snapshot when it is older than `max_age` (other processes may have changed
    /// the registry in a shared PostgreSQL database).
    pub(crate) async fn registry_fresh(&self, max_age: Duration) -> Arc<RegistrySnapshot> {
        let snapshot = self.registry();
        if snapshot.loaded_at.elapsed() > max_age {
            if let Err(error) = self.refresh_registry().await {
                tracing::warn!(error = %error, "Registry refresh failed; serving the previous snapshot.");
            }
            return self.registry();
        }
        snapshot
    }
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    let max_body = state.config().max_body_bytes;
    Router::new()
        .nest("/api/v1", api::router(&state))
        .merge(taxii::router())
        .merge(misp::router(&state))
        .route("/healthz", get(api::health::healthz))
        .route("/metrics", get(api::health::metrics))
        .merge(web::router())
        .merge(ack::router())
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn(metrics_layer::track))
        .layer(axum::middleware::from_fn(web::security_headers))
        .with_state(state)
}

/// Handle of the Prometheus recorder, installed once per process.
pub fn install_metrics() -> Option<PrometheusHandle> {
    static HANDLE: std::sync::OnceLock<Option<PrometheusHandle>> = std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder().ok())
        .clone()
}
