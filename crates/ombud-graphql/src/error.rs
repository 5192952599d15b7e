use ombud_store::StoreError;

/// Failures of the GraphQL layer. Each maps to one `extensions.code`; only
/// `Store` hides its detail from the client, which gets a generic message
/// while the cause goes to the log.
#[derive(Debug, thiserror::Error)]
pub enum GraphqlError {
    #[error("{0}")]
    Validation(String),

    #[error("{0}")]
    Permission(String),

    #[error("{0}")]
    Constraint(String),

    #[error("{0}")]
    AccessDenied(String),

    #[error("{0}")]
    NotSupported(String),

    #[error("{0}")]
    Unavailable(String),

    #[error("{0}")]
    Timeout(String),

    #[error("database error: {0}")]
    Store(StoreError),
}

impl From<StoreError> for GraphqlError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Constraint { kind, detail } => {
                // The database's own text differs between SQLite and
                // PostgreSQL and names internals, so it goes to the log only.
                tracing::info!(%kind, %detail, "write rejected by a constraint");
                GraphqlError::Constraint(constraint_message(kind).to_owned())
            }
            StoreError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                GraphqlError::Unavailable("the database is unavailable; retry shortly".to_owned())
            }
            StoreError::StatementTimeout => GraphqlError::Timeout(
                "the query ran longer than the database statement timeout; narrow it with where or limit"
                    .to_owned(),
            ),
            other => GraphqlError::Store(other),
        }
    }
}

fn constraint_message(kind: ombud_store::ConstraintKind) -> &'static str {
    use ombud_store::ConstraintKind;
    match kind {
        ConstraintKind::Unique => {
            "unique constraint violated: another row already has these values"
        }
        ConstraintKind::ForeignKey => {
            "foreign key constraint violated: a referenced row does not exist or is still referenced"
        }
        ConstraintKind::NotNull => "not-null constraint violated: a required value is missing",
        ConstraintKind::Check => "check constraint violated: a value is outside the allowed set",
    }
}

/// Message Hasura gives when a row fails an insert or update check. ombud uses
/// the same text when a referenced row is missing, so that a client cannot tell
/// another controller's rows from rows that do not exist.
pub const CHECK_FAILED: &str = "check constraint of an insert/update permission has failed";

impl GraphqlError {
    pub fn code(&self) -> &'static str {
        match self {
            GraphqlError::Validation(_) => "validation-failed",
            GraphqlError::Permission(_) => "permission-error",
            GraphqlError::Constraint(_) => "constraint-violation",
            GraphqlError::AccessDenied(_) => "access-denied",
            GraphqlError::NotSupported(_) => "not-supported",
            GraphqlError::Unavailable(_) => "database-unavailable",
            GraphqlError::Timeout(_) => "statement-timeout",
            GraphqlError::Store(_) => "unexpected",
        }
    }

    pub fn check_failed() -> GraphqlError {
        GraphqlError::Permission(CHECK_FAILED.to_owned())
    }

    /// Converts into the error async-graphql reports, logging internal causes once.
    pub fn into_graphql(self) -> async_graphql::Error {
        let message = match &self {
            GraphqlError::Store(cause) => {
                tracing::error!(error = %cause, "database error while executing GraphQL");
                "database query error; the server log has the details".to_owned()
            }
            other => other.to_string(),
        };
        use async_graphql::ErrorExtensions as _;
        let code = self.code();
        async_graphql::Error::new(message).extend_with(|_, extensions| extensions.set("code", code))
    }
}
