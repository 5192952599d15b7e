#![doc = "ombud's HTTP surface: the auth endpoints, the GraphQL endpoint and the operations routes, on one port."]

pub mod accounts;
mod auth_routes;
mod error;
mod graphql_route;
pub mod jobs;
pub mod keys;
pub mod metrics;
mod request_id;
pub mod settings;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, State};
use axum::http::{Request, StatusCode, header};
use axum::middleware;
use axum::routing::{get, post};
use ombud_auth::{JwtCodec, PasswordHasher};
use ombud_graphql::{Engine, SchemaLimits};
use ombud_privacy::ConsentCookieSigner;
use ombud_store::Store;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;

pub use error::ServerError;
pub use metrics::Metrics;
pub use settings::{Secret, Settings};

/// Everything a request handler may use; cloned per request, shared underneath.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub engine: Arc<Engine>,
    pub jwt: Arc<JwtCodec>,
    pub passwords: Arc<PasswordHasher>,
    pub consent_signer: Arc<ConsentCookieSigner>,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    /// Loads keys and builds the GraphQL engine over an opened, migrated store.
    pub async fn new(settings: Settings, store: Store) -> Result<AppState, ServerError> {
        let session_key = match &settings.auth.jwt_secret {
            Some(secret) => secret.expose().as_bytes().to_vec(),
            None => keys::session_key(&store, &settings.data_dir).await?,
        };
        let jwt = JwtCodec::new(
            &session_key,
            settings.auth.issuer.clone(),
            settings.auth.clock_skew,
        )?;
        let consent_signer = Arc::new(keys::consent_signer(&store, &settings.data_dir).await?);
        let passwords = PasswordHasher::new(settings.auth.password_hash_concurrency.max(1))?;
        let limits = SchemaLimits {
            max_depth: settings.graphql.max_depth,
            max_complexity: settings.graphql.max_complexity,
            max_aliases: settings.graphql.max_aliases,
        };
        let engine = Engine::new(store.clone(), consent_signer.clone(), limits)
            .map_err(|error| ServerError::Internal(error.to_string()))?;
        Ok(AppState {
            settings: Arc::new(settings),
            store,
            engine: Arc::new(engine),
            jwt: Arc::new(jwt),
            passwords: Arc::new(passwords),
            consent_signer,
            metrics: Arc::new(Metrics::new()),
        })
    }
}

/// Builds the router for every surface.
pub fn router(state: AppState) -> Router {
    let body_limit = state.settings.graphql.max_body_bytes;
    let mut router = Router::new()
        .route("/v1/signin/pat", post(auth_routes::sign_in_pat))
        .route(
            "/v1/signin/email-password",
            post(auth_routes::sign_in_email_password),
        )
        .route("/v1/token", post(auth_routes::refresh_token))
        .route("/v1/signout", post(auth_routes::sign_out))
        .route("/v1/pat", post(auth_routes::create_pat))
        .route("/v1/.well-known/jwks.json", get(auth_routes::jwks))
        .route("/v1/graphql", post(graphql_route::graphql))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz));
    // Operators scrape /metrics without credentials. Turning the setting off
    // removes the route, so the path returns 404.
    if state.settings.metrics.enabled {
        router = router.route("/metrics", get(metrics::serve_metrics));
    }

    // Layers run outermost last: the request id is assigned before the
    // metrics middleware and the trace span see the request.
    router
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::track_http_requests,
        ))
        .layer(middleware::from_fn(request_id::assign_request_id))
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
            header::HeaderName::from_static("x-hasura-admin-secret"),
        ]))
        .with_state(state)
}

/// Opens the span of one request. It records the method, the matched route
/// and the request id only, because query strings can carry tickets and keys.
fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    let request_id = request
        .headers()
        .get(request_id::REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %request.method(),
        route = %route,
        request_id = %request_id,
    )
}

async fn healthz() -> &'static str {
    "OK"
}

/// Answers within two seconds even when the database hangs, so load
/// balancers take the instance out of rotation promptly.
async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    let ping = tokio::time::timeout(std::time::Duration::from_secs(2), state.store.ping());
    if ping.await.unwrap_or(false) {
        (StatusCode::OK, "OK")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}

/// Serves until `shutdown` resolves, then finishes in-flight requests. The
/// background job runner, unless disabled, stops at the same time.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_sender, stop_receiver) = tokio::sync::watch::channel(false);
    let poll = state.settings.jobs.poll_interval_ms;
    let runner = (poll > 0).then(|| {
        let runner = jobs::JobRunner::new(
            state.store.clone(),
            state.metrics.clone(),
            jobs::JobRunner::default_instance_name(),
        );
        tokio::spawn(runner.run_until(std::time::Duration::from_millis(poll), stop_receiver))
    });

    let shutdown = async move {
        shutdown.await;
        let _ = stop_sender.send(true);
    };
    let served = axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await;
    if let Some(runner) = runner {
        // A job in progress finishes its transaction first.
        let _ = runner.await;
    }
    served
}
