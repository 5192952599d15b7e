/// Failures of the storage layer. `Constraint` is the only variant a client may
/// be shown in detail; the others are logged and reported as internal errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database at {target}: {source}")]
    Open {
        target: String,
        #[source]
        source: sqlx::Error,
    },

    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "the PostgreSQL URL is not valid: {0}; use postgres://user:password@host:5432/database"
    )]
    InvalidUrl(String),

    /// The database cannot be reached, or no connection became free in time.
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),

    /// A statement ran longer than `database.statement_timeout_ms`.
    #[error("a database statement was cancelled because it ran longer than the statement timeout")]
    StatementTimeout,

    #[error("a {kind} constraint was violated: {detail}")]
    Constraint {
        kind: ConstraintKind,
        detail: String,
    },

    #[error("migration {version} ({description}) failed: {source}")]
    Migration {
        version: i64,
        description: String,
        #[source]
        source: sqlx::Error,
    },

    #[error(
        "the database has migration {version} which this ombud build does not know; \
         run a newer ombud or restore a backup taken with this version"
    )]
    UnknownMigration { version: i64 },

    #[error("the database has {pending} unapplied migration(s); run `ombud migrate` first")]
    PendingMigrations { pending: usize },

    #[error("unexpected value in column {column}: {detail}")]
    Decode { column: usize, detail: String },

    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

/// The kind of integrity rule a write broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintKind {
    Unique,
    ForeignKey,
    NotNull,
    Check,
}

impl std::fmt::Display for ConstraintKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ConstraintKind::Unique => "unique",
            ConstraintKind::ForeignKey => "foreign key",
            ConstraintKind::NotNull => "not-null",
            ConstraintKind::Check => "check",
        })
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        let database_error = match &error {
            sqlx::Error::Database(database_error) => database_error,
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => return StoreError::Unavailable(error),
            _ => return StoreError::Database(error),
        };
        // SQLSTATE 57014 is query_canceled, which statement_timeout raises;
        // class 08 is a lost connection and 57P01..57P03 a server shutting down.
        if let Some(code) = database_error.code() {
            if code == "57014" {
                return StoreError::StatementTimeout;
            }
            if code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03") {
                return StoreError::Unavailable(error);
            }
        }
        let kind = match database_error.kind() {
            sqlx::error::ErrorKind::UniqueViolation => ConstraintKind::Unique,
            sqlx::error::ErrorKind::ForeignKeyViolation => ConstraintKind::ForeignKey,
            sqlx::error::ErrorKind::NotNullViolation => ConstraintKind::NotNull,
            sqlx::error::ErrorKind::CheckViolation => ConstraintKind::Check,
            _ => return StoreError::Database(error),
        };
        StoreError::Constraint {
            kind,
            detail: database_error.message().to_owned(),
        }
    }
}
