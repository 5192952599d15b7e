use std::net::SocketAddr;
use std::path::PathBuf;

use std::time::Duration;

use ombud_store::{PostgresOptions, SslMode, Store, StoreError};
use serde::{Deserialize, Serialize};

/// Every setting of a running server. The binary fills it from defaults, a
/// TOML file, `OMBUD_*` environment variables and flags, in that order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Directory of the embedded SQLite database and generated keys.
    pub data_dir: PathBuf,
    pub auth: AuthSettings,
    pub graphql: GraphqlSettings,
    pub database: DatabaseSettings,
    pub jobs: JobsSettings,
    pub metrics: MetricsSettings,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// Lifetime of an access token (JWT), in seconds.
    pub access_token_ttl: u64,
    /// Lifetime of a refresh token, in seconds.
    pub refresh_token_ttl: u64,
    /// Default lifetime of a new personal access token, in days.
    pub personal_access_token_ttl_days: u64,
    /// Clock skew allowed when checking JWT times, in seconds.
    pub clock_skew: u64,
    /// `iss` claim of issued JWTs.
    pub issuer: String,
    /// HS256 key for session JWTs (at least 32 bytes). Generated into the data
    /// directory when unset.
    pub jwt_secret: Option<Secret>,
    /// Value of the `X-Hasura-Admin-Secret` header that grants the `admin` role; unset disables it.
    pub admin_secret: Option<Secret>,
    /// Concurrent Argon2id hashes; each takes about 19 MiB.
    pub password_hash_concurrency: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GraphqlSettings {
    pub max_depth: usize,
    pub max_complexity: usize,
    /// Aliased fields allowed in one document.
    pub max_aliases: usize,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://user:password@host:5432/database` selects PostgreSQL; unset
    /// uses the embedded SQLite database in `data_dir`.
    pub url: Option<Secret>,
    /// Pool size. On SQLite these are the readers; writes always use one connection.
    pub max_connections: u32,
    /// How long a request waits for a free connection before it fails, in milliseconds.
    pub acquire_timeout_ms: u64,
    /// Maximum time a single statement may run on PostgreSQL, in milliseconds; 0 leaves the server's setting.
    pub statement_timeout_ms: u64,
    /// TLS to PostgreSQL: disable, prefer, require, verify-ca or verify-full.
    /// Unset takes the URL's `sslmode`, which defaults to prefer.
    pub ssl_mode: Option<SslMode>,
    /// CA certificate file (PEM) that verify-ca and verify-full check the server against.
    pub ssl_root_cert: Option<PathBuf>,
}

impl Settings {
    /// Opens the configured database without touching its schema.
    pub async fn open_store(&self) -> Result<Store, StoreError> {
        let database = &self.database;
        let Some(url) = &database.url else {
            return Store::open_sqlite(&self.data_dir, database.max_connections).await;
        };
        let url = url.expose();
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            let scheme = url.split(':').next().unwrap_or_default();
            return Err(StoreError::InvalidUrl(format!(
                "the scheme {scheme:?} is not supported; ombud uses PostgreSQL (postgres://) \
                 or, without a URL, the embedded SQLite database"
            )));
        }
        let options = PostgresOptions {
            url: url.to_owned(),
            max_connections: database.max_connections,
            acquire_timeout: Duration::from_millis(database.acquire_timeout_ms.max(1)),
            statement_timeout: (database.statement_timeout_ms > 0)
                .then(|| Duration::from_millis(database.statement_timeout_ms)),
            ssl_mode: database.ssl_mode,
            ssl_root_cert: database.ssl_root_cert.clone(),
        };
        Store::open_postgres(&options).await
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    /// Whether `GET /metrics` serves the Prometheus text format, without
    /// authentication. When false the path returns 404.
    pub enabled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsSettings {
    /// How often this instance looks for due background jobs, in
    /// milliseconds; 0 runs no jobs on this instance.
    pub poll_interval_ms: u64,
}

impl Default for JobsSettings {
    fn default() -> Self {
        JobsSettings {
            poll_interval_ms: 10_000,
        }
    }
}

/// A secret setting: printed as `<redacted>` and never logged.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Settings {
    /// Returns a copy safe to print, with secrets replaced by `<redacted>`.
    pub fn redacted(&self) -> Settings {
        let mut copy = self.clone();
        let redact = |secret: &mut Option<Secret>| {
            if secret.is_some() {
                *secret = Some(Secret("<redacted>".to_owned()));
            }
        };
        redact(&mut copy.auth.jwt_secret);
        redact(&mut copy.database.url);
        redact(&mut copy.auth.admin_secret);
        copy
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./ombud-data"),
            auth: AuthSettings::default(),
            graphql: GraphqlSettings::default(),
            database: DatabaseSettings::default(),
            jobs: JobsSettings::default(),
            metrics: MetricsSettings::default(),
        }
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            access_token_ttl: 3600,
            refresh_token_ttl: 12 * 3600,
            personal_access_token_ttl_days: 90,
            clock_skew: 30,
            issuer: "ombud".to_owned(),
            jwt_secret: None,
            admin_secret: None,
            password_hash_concurrency: 2,
        }
    }
}

impl Default for GraphqlSettings {
    fn default() -> Self {
        let limits = ombud_graphql::SchemaLimits::default();
        GraphqlSettings {
            max_depth: limits.max_depth,
            max_complexity: limits.max_complexity,
            max_aliases: limits.max_aliases,
            max_body_bytes: 1024 * 1024,
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings {
            url: None,
            max_connections: 4,
            acquire_timeout_ms: 5000,
            statement_timeout_ms: 30_000,
            ssl_mode: None,
            ssl_root_cert: None,
        }
    }
}

impl Default for MetricsSettings {
    fn default() -> Self {
        MetricsSettings { enabled: true }
    }
}
