//! The auth endpoints, compatible with Nhost hasura-auth's request and response shapes.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::AppState;
use crate::accounts::{self, SessionUser, StaffUser};
use crate::error::ServerError;

/// Parses a JSON body, saying which field is wrong when it does not fit.
fn parse_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, ServerError> {
    serde_json::from_slice(body)
        .map_err(|error| ServerError::InvalidRequest(format!("invalid request body: {error}")))
}

async fn session_response(
    state: &AppState,
    user: &StaffUser,
) -> Result<Json<serde_json::Value>, ServerError> {
    if user.disabled {
        return Err(ServerError::DisabledUser);
    }
    let settings = &state.settings.auth;
    let now = chrono::Utc::now().timestamp();
    let access_token = state.jwt.issue(
        user.id,
        user.allowed_roles(),
        user.default_role.clone(),
        BTreeMap::new(),
        settings.access_token_ttl,
        now,
    )?;
    let refresh =
        accounts::create_refresh_token(&state.store, user.id, settings.refresh_token_ttl).await?;
    tracing::info!(user_id = %user.id, "issued session");
    Ok(Json(serde_json::json!({
        "session": {
            "accessToken": access_token,
            "accessTokenExpiresIn": settings.access_token_ttl,
            "refreshToken": refresh.token.expose(),
            "refreshTokenId": refresh.id,
            "user": SessionUser::from(user),
        },
        "mfa": null,
    })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignInPat {
    personal_access_token: String,
}

pub async fn sign_in_pat(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ServerError> {
    let request: SignInPat = parse_body(&body)?;
    let user = accounts::user_by_pat(&state.store, request.personal_access_token.trim())
        .await?
        .ok_or(ServerError::InvalidPat)?;
    session_response(&state, &user).await
}

#[derive(Deserialize)]
struct SignInEmailPassword {
    email: String,
    password: String,
}

pub async fn sign_in_email_password(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ServerError> {
    let request: SignInEmailPassword = parse_body(&body)?;
    let email = accounts::normalize_email(&request.email)?;
    let user = accounts::user_by_email(&state.store, &email).await?;
    let stored_hash = user.as_ref().and_then(|user| user.password_hash.clone());
    // Verified even for unknown users, against a dummy hash, so timing does not tell them apart.
    let valid = state
        .passwords
        .verify(
            ombud_auth::SecretPassword::new(request.password),
            stored_hash,
        )
        .await;
    match (user, valid) {
        (Some(user), true) => session_response(&state, &user).await,
        _ => Err(ServerError::InvalidEmailPassword),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefreshRequest {
    refresh_token: String,
}

pub async fn refresh_token(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ServerError> {
    let request: RefreshRequest = parse_body(&body)?;
    let user_id = accounts::consume_refresh_token(&state.store, &request.refresh_token)
        .await?
        .ok_or(ServerError::InvalidRefreshToken)?;
    let user = accounts::user_by_id(&state.store, user_id)
        .await?
        .ok_or(ServerError::InvalidRefreshToken)?;
    session_response(&state, &user).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignOutRequest {
    refresh_token: Option<String>,
    #[serde(default)]
    all: bool,
}

pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ServerError> {
    let request: SignOutRequest = parse_body(&body)?;
    if request.all {
        let user_id = authenticated_user(&state, &headers)?;
        accounts::revoke_all_refresh_tokens(&state.store, user_id).await?;
    } else {
        let token = request.refresh_token.ok_or_else(|| {
            ServerError::InvalidRequest("refreshToken is required unless all is true".to_owned())
        })?;
        accounts::revoke_refresh_token(&state.store, &token).await?;
    }
    Ok(Json(serde_json::json!("OK")))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreatePatRequest {
    expires_at: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    metadata: Option<serde_json::Value>,
}

pub async fn create_pat(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ServerError> {
    let user_id = authenticated_user(&state, &headers)?;
    let request: CreatePatRequest = parse_body(&body)?;
    // NOTE: hasura-auth clients may send `metadata`; it is accepted but not stored yet.
    let _ = request.metadata;
    let expires_at = ombud_store::parse_timestamp(&request.expires_at).ok_or_else(|| {
        ServerError::InvalidRequest(format!(
            "expiresAt {:?} is not a valid time; send RFC 3339, e.g. 2027-01-31T00:00:00Z",
            request.expires_at
        ))
    })?;
    let name = request
        .name
        .unwrap_or_else(|| "personal access token".to_owned());
    if name.trim().is_empty() || name.len() > 200 {
        return Err(ServerError::InvalidRequest(
            "name must be 1 to 200 characters long".to_owned(),
        ));
    }
    let pat =
        accounts::create_personal_access_token(&state.store, user_id, name.trim(), expires_at)
            .await?;
    tracing::info!(user_id = %user_id, personal_access_token_id = %pat.id, "created personal access token");
    Ok(Json(serde_json::json!({
        "id": pat.id,
        "personalAccessToken": pat.token.expose(),
        "expiresAt": pat.expires_at,
    })))
}

/// Returns the user id of a valid `Authorization: Bearer <JWT>` header.
fn authenticated_user(state: &AppState, headers: &HeaderMap) -> Result<Uuid, ServerError> {
    let claims = crate::graphql_route::verify_bearer(state, headers)?.ok_or_else(|| {
        ServerError::Unauthenticated(
            "an Authorization: Bearer <access token> header is required".to_owned(),
        )
    })?;
    Uuid::parse_str(&claims.hasura.user_id).map_err(|_| {
        ServerError::InvalidJwt("Could not verify JWT: invalid x-hasura-user-id".to_owned())
    })
}

pub async fn jwks(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "keys": [state.consent_signer.jwk()] }))
}
