//! Errors of `POST /v1/graphql`: authentication failures return 401, GraphQL
//! failures return 200 with `extensions.code`, and bad bodies return 400.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with};

const CONTROLLERS: &str = r#"{"query": "{ dataControllers { id title } }"}"#;

#[tokio::test]
async fn missing_authorization_runs_as_anonymous() {
    let app = spawn_app().await;

    let response = app.graphql_raw(&[], CONTROLLERS.to_owned()).await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.error_code(), Some("validation-failed"));
    assert!(
        response.body["errors"][0]["message"]
            .as_str()
            .is_some_and(
                |message| message.contains("anonymous role") && message.contains("Authorization")
            ),
        "{}",
        response.body
    );
}

#[tokio::test]
async fn malformed_authorization_is_invalid_headers() {
    let app = spawn_app().await;

    let response = app
        .graphql_raw(&[("Authorization", "Token abc")], CONTROLLERS.to_owned())
        .await;

    assert_eq!(
        response.auth_error_code(),
        Some("invalid-headers"),
        "{}",
        response.body
    );
}

#[tokio::test]
async fn tampered_signature_is_invalid_jwt() {
    let app = spawn_app().await;
    let tenant = app.tenant("tamper@example.com", "Acme").await;
    let mut segments: Vec<String> = tenant.access_token.split('.').map(str::to_owned).collect();
    // Change the first signature character, which carries six full bits of the
    // signature, so the decoded bytes differ for certain.
    let signature = &segments[2];
    let replacement = if signature.starts_with('A') { "B" } else { "A" };
    segments[2] = format!("{replacement}{}", &signature[1..]);
    let tampered = segments.join(".");

    let response = app
        .graphql_user(&tampered, "{ dataControllers { id } }", json!({}))
        .await;

    assert_eq!(
        response.auth_error_code(),
        Some("invalid-jwt"),
        "{}",
        response.body
    );
    assert!(
        response.body["message"]
            .as_str()
            .is_some_and(|message| message.starts_with("Could not verify JWT")),
        "{}",
        response.body
    );
    assert!(
        response.body["message"]
            .as_str()
            .is_some_and(|message| message.contains("InvalidSignature")),
        "{}",
        response.body
    );
}

#[tokio::test]
async fn tampered_claims_are_invalid_jwt() {
    let app = spawn_app().await;
    let tenant = app.tenant("claims-tamper@example.com", "Acme").await;
    let segments: Vec<&str> = tenant.access_token.split('.').collect();
    // A payload naming the admin role, kept with the original signature.
    let forged_payload = json!({
        "sub": tenant.user_id, "iat": 0, "exp": 4_102_444_800_i64, "iss": "ombud",
        "https://hasura.io/jwt/claims": {
            "x-hasura-allowed-roles": ["admin"], "x-hasura-default-role": "admin",
            "x-hasura-user-id": tenant.user_id,
        }
    });
    let forged = format!(
        "{}.{}.{}",
        segments[0],
        base64url_encode(forged_payload.to_string().as_bytes()),
        segments[2]
    );

    let response = app
        .graphql_as(&forged, "admin", "{ dataControllers { id } }", json!({}))
        .await;

    assert_eq!(
        response.auth_error_code(),
        Some("invalid-jwt"),
        "{}",
        response.body
    );
}

#[tokio::test]
async fn expired_token_is_jwt_expired() {
    let app = spawn_app_with(|settings| {
        // Two seconds rather than one: `exp` is counted in whole seconds, so a
        // one-second token can expire before the control request below.
        settings.auth.access_token_ttl = 2;
        settings.auth.clock_skew = 0;
    })
    .await;
    let tenant = app.tenant("expired@example.com", "Acme").await;

    // The token is still valid right after sign-in.
    let fresh = app
        .graphql_user(
            &tenant.access_token,
            "{ dataControllers { id } }",
            json!({}),
        )
        .await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.body);

    tokio::time::sleep(std::time::Duration::from_millis(3000)).await;
    let response = app
        .graphql_user(
            &tenant.access_token,
            "{ dataControllers { id } }",
            json!({}),
        )
        .await;

    assert_eq!(
        response.auth_error_code(),
        Some("invalid-jwt"),
        "{}",
        response.body
    );
    assert!(
        response.body["message"]
            .as_str()
            .is_some_and(|message| message.contains("JWTExpired")),
        "{}",
        response.body
    );
}

#[tokio::test]
async fn role_outside_allowed_roles_is_access_denied() {
    let app = spawn_app().await;
    let tenant = app.tenant("staff@example.com", "Acme").await;

    let response = app
        .graphql_as(
            &tenant.access_token,
            "admin",
            "{ dataControllers { id } }",
            json!({}),
        )
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(
        response.error_code(),
        Some("access-denied"),
        "{}",
        response.body
    );
    assert!(
        response
            .body
            .get("data")
            .is_none_or(serde_json::Value::is_null),
        "{}",
        response.body
    );
}

#[tokio::test]
async fn wrong_admin_secret_is_rejected() {
    let app = spawn_app().await;

    let response = app
        .graphql_raw(
            &[("X-Hasura-Admin-Secret", "not-the-secret")],
            CONTROLLERS.to_owned(),
        )
        .await;

    assert_eq!(
        response.auth_error_code(),
        Some("invalid-headers"),
        "{}",
        response.body
    );
    assert!(response.body.get("data").is_none(), "{}", response.body);
}

#[tokio::test]
async fn unknown_field_is_validation_failed() {
    let app = spawn_app().await;
    let tenant = app.tenant("fields@example.com", "Acme").await;

    let response = app
        .graphql_user(
            &tenant.access_token,
            "{ dataControllers { id noSuchColumn } }",
            json!({}),
        )
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(
        response.error_code(),
        Some("validation-failed"),
        "{}",
        response.body
    );
    assert!(
        response.error_message().contains("noSuchColumn"),
        "{}",
        response.body
    );
}

#[tokio::test]
async fn root_hidden_from_role_is_validation_failed() {
    let app = spawn_app().await;
    let tenant = app.tenant("hidden@example.com", "Acme").await;

    // The `me` role manages its own account and has no data subjects root.
    let response = app
        .graphql_as(
            &tenant.access_token,
            "me",
            "{ dataSubjects { id } }",
            json!({}),
        )
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(
        response.error_code(),
        Some("validation-failed"),
        "{}",
        response.body
    );
}

#[tokio::test]
async fn secret_column_is_not_selectable() {
    let app = spawn_app().await;
    let tenant = app.tenant("secrets@example.com", "Acme").await;

    let response = app
        .graphql_user(
            &tenant.access_token,
            "{ dataControllers { id dxKeyHash } }",
            json!({}),
        )
        .await;

    assert_eq!(
        response.error_code(),
        Some("validation-failed"),
        "{}",
        response.body
    );
}

#[tokio::test]
async fn invalid_json_body_is_invalid_json() {
    let app = spawn_app().await;
    let tenant = app.tenant("json@example.com", "Acme").await;
    let authorization = format!("Bearer {}", tenant.access_token);

    let response = app
        .graphql_raw(
            &[("Authorization", authorization.as_str())],
            "{\"query\": \"{ dataControllers { id } }\"".to_owned(),
        )
        .await;

    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{}",
        response.body
    );
    assert_eq!(
        response.error_code(),
        Some("invalid-json"),
        "{}",
        response.body
    );
}

#[tokio::test]
async fn oversized_body_is_request_too_large() {
    let app = spawn_app_with(|settings| settings.graphql.max_body_bytes = 1024).await;
    let tenant = app.tenant("large@example.com", "Acme").await;
    let authorization = format!("Bearer {}", tenant.access_token);
    let padding = " ".repeat(4096);
    let body = format!("{{\"query\": \"{{ dataControllers {{ id }} }}{padding}\"}}");

    let response = app
        .graphql_raw(&[("Authorization", authorization.as_str())], body)
        .await;

    assert_eq!(
        response.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        response.body
    );
    assert_eq!(
        response.error_code(),
        Some("request-too-large"),
        "{}",
        response.body
    );
}

/// Encodes unpadded base64url, the inverse of `helpers::base64url_decode`.
fn base64url_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut output = String::new();
    for chunk in bytes.chunks(3) {
        let mut group = [0_u8; 3];
        group[..chunk.len()].copy_from_slice(chunk);
        let bits = (u32::from(group[0]) << 16) | (u32::from(group[1]) << 8) | u32::from(group[2]);
        for index in 0..=chunk.len() {
            let sextet = (bits >> (18 - 6 * index)) & 0x3f;
            output.push(char::from(ALPHABET[sextet as usize]));
        }
    }
    output
}
