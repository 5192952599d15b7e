use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Failures of the HTTP layer, each mapped to one status and error code in
/// [`ServerError::status_and_code`].
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("the request body is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("the request body is larger than {0} bytes")]
    RequestTooLarge(usize),
    #[error("invalid or expired personal access token")]
    InvalidPat,
    #[error("invalid or expired refresh token")]
    InvalidRefreshToken,
    #[error("incorrect email or password")]
    InvalidEmailPassword,
    #[error("the user is disabled")]
    DisabledUser,
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    InvalidJwt(String),
    #[error("the database is unavailable; retry shortly")]
    DatabaseUnavailable(String),
    #[error("internal error")]
    Internal(String),
}

impl ServerError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ServerError::InvalidRequest(_) => (StatusCode::BAD_REQUEST, "invalid-request"),
            ServerError::InvalidJson(_) => (StatusCode::BAD_REQUEST, "invalid-json"),
            ServerError::RequestTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "request-too-large"),
            ServerError::InvalidPat => (StatusCode::UNAUTHORIZED, "invalid-pat"),
            ServerError::InvalidRefreshToken => (StatusCode::UNAUTHORIZED, "invalid-refresh-token"),
            ServerError::InvalidEmailPassword => {
                (StatusCode::UNAUTHORIZED, "invalid-email-password")
            }
            ServerError::DisabledUser => (StatusCode::UNAUTHORIZED, "disabled-user"),
            ServerError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "invalid-headers"),
            ServerError::InvalidJwt(_) => (StatusCode::UNAUTHORIZED, "invalid-jwt"),
            ServerError::DatabaseUnavailable(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "database-unavailable")
            }
            ServerError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal-error"),
        }
    }

    /// Builds the response of a GraphQL-endpoint error. Authentication failures
    /// (401) use the auth service's `{status, message, error}` shape without an
    /// `errors` array. graphql-request 7.4 copies a body's `errors` onto the
    /// thrown error, and the guide's handler checks that before the status.
    /// An `errors` array would therefore hide the 401 it re-authenticates on.
    /// Other failures use Hasura's `{"errors": [...]}`.
    pub fn graphql_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if status == StatusCode::UNAUTHORIZED {
            return self.into_response();
        }
        let message = self.public_message();
        let body = serde_json::json!({
            "errors": [{ "message": message, "extensions": { "code": code, "path": "$" } }],
        });
        (status, Json(body)).into_response()
    }

    fn public_message(&self) -> String {
        match self {
            ServerError::Internal(detail) => tracing::error!(error = %detail, "internal error"),
            ServerError::DatabaseUnavailable(detail) => {
                tracing::warn!(error = %detail, "database unavailable");
            }
            _ => {}
        }
        self.to_string()
    }
}

impl From<ombud_store::StoreError> for ServerError {
    fn from(error: ombud_store::StoreError) -> Self {
        match error {
            ombud_store::StoreError::Unavailable(_) | ombud_store::StoreError::StatementTimeout => {
                ServerError::DatabaseUnavailable(error.to_string())
            }
            other => ServerError::Internal(other.to_string()),
        }
    }
}

impl From<ombud_auth::AuthError> for ServerError {
    fn from(error: ombud_auth::AuthError) -> Self {
        ServerError::Internal(error.to_string())
    }
}

/// Auth endpoints reply in the hasura-auth shape `{status, message, error}`.
impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = self.public_message();
        let body =
            serde_json::json!({ "status": status.as_u16(), "message": message, "error": code });
        (status, Json(body)).into_response()
    }
}
