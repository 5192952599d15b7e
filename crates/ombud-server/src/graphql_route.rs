//! `POST /v1/graphql`: authenticates the request, picks the role, and hands
//! the document to the GraphQL engine.

use async_graphql::parser::types::{DocumentOperations, OperationType as ParsedOperationType};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ombud_auth::SessionClaims;
use ombud_graphql::{GraphqlRequest, Role, Session};
use uuid::Uuid;

use crate::AppState;
use crate::error::ServerError;
use crate::metrics::{OperationType, Outcome};

/// Verifies `Authorization: Bearer <JWT>`; `Ok(None)` when the header is absent.
pub(crate) fn verify_bearer(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<SessionClaims>, ServerError> {
    let Some(header) = headers.get(axum::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let header = header.to_str().map_err(|_| {
        ServerError::Unauthenticated("the Authorization header is not valid text".to_owned())
    })?;
    let Some(token) = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
    else {
        return Err(ServerError::Unauthenticated(
            "malformed Authorization header: expected \"Bearer <access token>\"".to_owned(),
        ));
    };
    let now = chrono::Utc::now().timestamp();
    state
        .jwt
        .verify(token.trim(), now)
        .map(Some)
        .map_err(|error| ServerError::InvalidJwt(error.message()))
}

/// Reason a request gets no session.
enum Refusal {
    /// Missing or invalid credentials: HTTP 401.
    Unauthenticated(ServerError),
    /// Valid credentials for a role the token does not allow: HTTP 200, `access-denied`.
    AccessDenied(String),
}

impl Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Unauthenticated(error) => error.graphql_response(),
            Refusal::AccessDenied(message) => (
                StatusCode::OK,
                Json(ombud_graphql::error_body("access-denied", &message)),
            )
                .into_response(),
        }
    }
}

/// Adds to each validation error of an anonymous request that it ran without
/// credentials: otherwise a client that forgot its token gets only
/// "field not found".
fn explain_anonymous(body: &mut serde_json::Value) {
    let Some(errors) = body
        .get_mut("errors")
        .and_then(serde_json::Value::as_array_mut)
    else {
        return;
    };
    for error in errors {
        let is_validation = error["extensions"]["code"] == "validation-failed";
        if let (true, Some(message)) = (is_validation, error["message"].as_str()) {
            error["message"] = serde_json::Value::String(format!(
                "{message} (the request had no Authorization header, so it ran as the anonymous role; \
                 send \"Authorization: Bearer <access token>\" from POST /v1/signin/pat)"
            ));
        }
    }
}

/// Returns the session a request runs as, or the reason it gets none.
fn session_for(state: &AppState, headers: &HeaderMap) -> Result<Session, Refusal> {
    if let Some(secret) = headers.get("x-hasura-admin-secret") {
        let configured = state.settings.auth.admin_secret.as_ref();
        let matches = configured.is_some_and(|configured| {
            ombud_auth::constant_time_eq(configured.expose().as_bytes(), secret.as_bytes())
        });
        if !matches {
            return Err(Refusal::Unauthenticated(ServerError::Unauthenticated(
                "invalid x-hasura-admin-secret".to_owned(),
            )));
        }
        return Ok(Session::new(Role::Admin, None));
    }

    let claims = match verify_bearer(state, headers) {
        Ok(Some(claims)) => claims,
        // No credentials: the widgets' public role.
        Ok(None) => return Ok(Session::new(Role::Anonymous, None)),
        Err(error) => return Err(Refusal::Unauthenticated(error)),
    };

    let requested = match headers.get("x-hasura-role") {
        Some(value) => value.to_str().unwrap_or_default().to_owned(),
        None => claims.hasura.default_role.clone(),
    };
    if !claims.hasura.allowed_roles.contains(&requested) {
        return Err(Refusal::AccessDenied(
            "your requested role is not in allowed roles".to_owned(),
        ));
    }
    let Some(role) = Role::parse(&requested) else {
        return Err(Refusal::AccessDenied(format!(
            "the role {requested:?} has no permissions on this server"
        )));
    };
    let user_id = Uuid::parse_str(&claims.hasura.user_id).ok();
    let mut session = Session::new(role, user_id);
    for (name, value) in &claims.hasura.extra {
        session
            .variables
            .insert(name.to_ascii_lowercase(), value.clone());
    }
    Ok(session)
}

pub async fn graphql(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return ServerError::RequestTooLarge(state.settings.graphql.max_body_bytes)
                .graphql_response();
        }
        Err(rejection) => {
            return ServerError::InvalidRequest(rejection.body_text()).graphql_response();
        }
    };
    // Requests refused here are not counted as GraphQL operations, so a
    // caller without credentials cannot fill the capped set of operation
    // names. `ombud_http_requests_total` still counts them.
    let session = match session_for(&state, &headers) {
        Ok(session) => session,
        Err(refusal) => return refusal.into_response(),
    };

    let request: GraphqlRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            state
                .metrics
                .record_graphql_operation(None, OperationType::Unknown, Outcome::Error);
            return ServerError::InvalidJson(error.to_string()).graphql_response();
        }
    };
    // The GraphQL parser recurses once per nested list or object value and has
    // no limit of its own, so a deeply nested document must not reach it.
    if let Err(message) = ombud_graphql::check_nesting(&request.query) {
        state
            .metrics
            .record_graphql_operation(None, OperationType::Unknown, Outcome::Error);
        let body = ombud_graphql::error_body("validation-failed", &message);
        return (StatusCode::OK, Json(body)).into_response();
    }
    let operation = describe_operation(&request);

    let role = session.role;
    let mut body = state.engine.execute(session, request).await;
    if role == Role::Anonymous {
        explain_anonymous(&mut body);
    }
    tracing::debug!(role = role.as_str(), "executed GraphQL request");

    let has_errors = body
        .get("errors")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|errors| !errors.is_empty());
    let outcome = if has_errors {
        Outcome::Error
    } else {
        Outcome::Ok
    };
    // Names chosen by callers without credentials are not kept as labels, so
    // they cannot use up the bounded set of operation names.
    let name = if role == Role::Anonymous {
        None
    } else {
        operation.name.as_deref()
    };
    state
        .metrics
        .record_graphql_operation(name, operation.operation_type, outcome);
    (StatusCode::OK, Json(body)).into_response()
}

/// The operation a request selects, as far as its metrics need it.
struct OperationDescription {
    /// `operationName` of the request, or else the name of the document's
    /// only operation. `None` means an anonymous operation.
    name: Option<String>,
    operation_type: OperationType,
}

/// Finds the operation that `request` selects, by the rules the executor
/// uses: `operationName` picks a named operation, and without it the
/// document must contain exactly one operation.
///
/// NOTE: the engine parses the document again. The cost is one extra parse of
/// a body of at most `graphql.max_body_bytes`, paid only by requests that
/// have a session.
fn describe_operation(request: &GraphqlRequest) -> OperationDescription {
    let requested = request.operation_name.as_deref();
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return OperationDescription {
            name: requested.map(str::to_owned),
            operation_type: OperationType::Unknown,
        };
    };

    let selected = match (&document.operations, requested) {
        (DocumentOperations::Single(operation), None) => Some((None, &operation.node)),
        (DocumentOperations::Multiple(operations), Some(name)) => operations
            .get(name)
            .map(|operation| (Some(name), &operation.node)),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => operations
            .iter()
            .next()
            .map(|(name, operation)| (Some(name.as_str()), &operation.node)),
        _ => None,
    };
    let Some((name, operation)) = selected else {
        return OperationDescription {
            name: requested.map(str::to_owned),
            operation_type: OperationType::Unknown,
        };
    };

    let operation_type = match operation.ty {
        ParsedOperationType::Query => OperationType::Query,
        ParsedOperationType::Mutation => OperationType::Mutation,
        ParsedOperationType::Subscription => OperationType::Subscription,
    };
    OperationDescription {
        name: name.map(str::to_owned),
        operation_type,
    }
}
