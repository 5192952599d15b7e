/// Failures of the storage layer. `Constraint` is the only variant a client may
/// be shown in detail; the others are logged and reported as internal errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database at {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: sqlx::Error,
    },

    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },

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
        let sqlx::Error::Database(database_error) = &error else {
            return StoreError::Database(error);
        };
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
