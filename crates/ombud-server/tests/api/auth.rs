//! The auth endpoints: PAT and password sign-in, refresh-token rotation,
//! sign-out, PAT creation and the JWKS document.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{base64url_decode, jwt_segment, parse_uuid, session_tokens, spawn_app};

#[tokio::test]
async fn pat_sign_in_returns_session_shape() {
    let app = spawn_app().await;
    let bootstrap = app.bootstrap("owner@example.com", "Acme").await;

    let response = app.sign_in_pat_raw(&bootstrap.personal_access_token).await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let session = &response.body["session"];
    assert!(
        session["accessToken"]
            .as_str()
            .is_some_and(|token| token.split('.').count() == 3),
        "{session}"
    );
    assert_eq!(session["accessTokenExpiresIn"], json!(3600));
    assert!(
        session["refreshToken"]
            .as_str()
            .is_some_and(|token| !token.is_empty()),
        "{session}"
    );
    parse_uuid(&session["refreshTokenId"]);
    let user = &session["user"];
    assert_eq!(parse_uuid(&user["id"]), bootstrap.user_id);
    assert_eq!(user["email"], json!("owner@example.com"));
    assert_eq!(user["defaultRole"], json!("user"));
    let roles: Vec<&str> = user["roles"]
        .as_array()
        .expect("roles is an array")
        .iter()
        .filter_map(|role| role.as_str())
        .collect();
    assert!(roles.contains(&"user"), "{roles:?}");
    assert!(roles.contains(&"me"), "{roles:?}");
    assert!(user["displayName"].is_string(), "{user}");
    assert!(user["createdAt"].is_string(), "{user}");
}

#[tokio::test]
async fn pat_sign_in_jwt_carries_hasura_claims() {
    let app = spawn_app().await;
    let bootstrap = app.bootstrap("claims@example.com", "Acme").await;

    let (access_token, _) = app.sign_in_pat(&bootstrap.personal_access_token).await;

    let header = jwt_segment(&access_token, 0);
    assert_eq!(header["alg"], json!("HS256"));
    let payload = jwt_segment(&access_token, 1);
    let hasura = &payload["https://hasura.io/jwt/claims"];
    let allowed = hasura["x-hasura-allowed-roles"]
        .as_array()
        .expect("x-hasura-allowed-roles is an array");
    assert!(allowed.contains(&json!("user")), "{hasura}");
    assert!(allowed.contains(&json!("me")), "{hasura}");
    assert_eq!(hasura["x-hasura-default-role"], json!("user"));
    assert_eq!(
        hasura["x-hasura-user-id"],
        json!(bootstrap.user_id.to_string())
    );
    assert_eq!(payload["sub"], json!(bootstrap.user_id.to_string()));
    let iat = payload["iat"].as_i64().expect("iat is a number");
    let exp = payload["exp"].as_i64().expect("exp is a number");
    assert_eq!(exp - iat, 3600);
    assert!(payload["iss"].is_string(), "{payload}");
}

#[tokio::test]
async fn pat_sign_in_rejects_unknown_token() {
    let app = spawn_app().await;
    app.bootstrap("someone@example.com", "Acme").await;

    let response = app
        .sign_in_pat_raw("ombud_pat_this-token-was-never-issued")
        .await;

    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert_eq!(response.body["status"], json!(401));
    assert_eq!(response.body["error"], json!("invalid-pat"));
    assert!(
        response.body["message"]
            .as_str()
            .is_some_and(|message| !message.is_empty()),
        "{}",
        response.body
    );
}

#[tokio::test]
async fn refresh_token_rotates_once() {
    let app = spawn_app().await;
    let tenant = app.tenant("rotate@example.com", "Acme").await;

    let first = app
        .post_json(
            "/v1/token",
            &[],
            &json!({ "refreshToken": tenant.refresh_token }),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["session"]["accessTokenExpiresIn"], json!(3600));
    assert_eq!(
        parse_uuid(&first.body["session"]["user"]["id"]),
        tenant.user_id
    );
    let (new_access, new_refresh) = session_tokens(&first.body);
    assert_ne!(new_refresh, tenant.refresh_token);

    // The new access token is usable.
    let controllers = app
        .graphql_user(&new_access, "{ dataControllers { id } }", json!({}))
        .await;
    assert_eq!(
        controllers.data()["dataControllers"][0]["id"],
        json!(tenant.controller_id.to_string())
    );

    // The token used for the refresh is revoked.
    let reused = app
        .post_json(
            "/v1/token",
            &[],
            &json!({ "refreshToken": tenant.refresh_token }),
        )
        .await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reused.body["status"], json!(401));
    assert_eq!(reused.body["error"], json!("invalid-refresh-token"));

    // The new one works exactly once.
    let second = app
        .post_json("/v1/token", &[], &json!({ "refreshToken": new_refresh }))
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    let again = app
        .post_json("/v1/token", &[], &json!({ "refreshToken": new_refresh }))
        .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    assert_eq!(again.body["error"], json!("invalid-refresh-token"));
}

#[tokio::test]
async fn signout_revokes_refresh_token() {
    let app = spawn_app().await;
    let tenant = app.tenant("signout@example.com", "Acme").await;

    let signout = app
        .post_json(
            "/v1/signout",
            &[],
            &json!({ "refreshToken": tenant.refresh_token }),
        )
        .await;
    assert_eq!(signout.status, StatusCode::OK, "{}", signout.body);

    let refresh = app
        .post_json(
            "/v1/token",
            &[],
            &json!({ "refreshToken": tenant.refresh_token }),
        )
        .await;
    assert_eq!(refresh.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh.body["error"], json!("invalid-refresh-token"));
}

#[tokio::test]
async fn pat_endpoint_creates_usable_token() {
    let app = spawn_app().await;
    let tenant = app.tenant("pat@example.com", "Acme").await;
    let expires_at = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let authorization = format!("Bearer {}", tenant.access_token);

    let created = app
        .post_json(
            "/v1/pat",
            &[("Authorization", authorization.as_str())],
            &json!({ "expiresAt": expires_at, "name": "ci deploy" }),
        )
        .await;

    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    parse_uuid(&created.body["id"]);
    let new_pat = created.body["personalAccessToken"]
        .as_str()
        .expect("the PAT is returned once");
    assert_ne!(new_pat, tenant.personal_access_token);
    let signed_in = app.sign_in_pat_raw(new_pat).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    assert_eq!(
        parse_uuid(&signed_in.body["session"]["user"]["id"]),
        tenant.user_id
    );
}

#[tokio::test]
async fn pat_endpoint_requires_bearer_token() {
    let app = spawn_app().await;
    app.tenant("nobearer@example.com", "Acme").await;
    let expires_at = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();

    let response = app
        .post_json("/v1/pat", &[], &json!({ "expiresAt": expires_at }))
        .await;

    assert_eq!(
        response.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        response.body
    );
    assert_eq!(response.body["status"], json!(401));
}

#[tokio::test]
async fn email_password_sign_in_checks_password() {
    let app = spawn_app().await;
    let bootstrap = app
        .bootstrap_with_password("pw@example.com", "Acme", "correct horse battery staple")
        .await;

    let accepted = app
        .post_json(
            "/v1/signin/email-password",
            &[],
            &json!({ "email": "pw@example.com", "password": "correct horse battery staple" }),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    assert_eq!(
        parse_uuid(&accepted.body["session"]["user"]["id"]),
        bootstrap.user_id
    );
    assert_eq!(
        accepted.body["session"]["accessTokenExpiresIn"],
        json!(3600)
    );

    let rejected = app
        .post_json(
            "/v1/signin/email-password",
            &[],
            &json!({ "email": "pw@example.com", "password": "wrong horse battery staple" }),
        )
        .await;
    assert_eq!(rejected.status, StatusCode::UNAUTHORIZED);
    assert_eq!(rejected.body["status"], json!(401));
    assert!(rejected.body["error"].is_string(), "{}", rejected.body);
    assert!(rejected.body.get("session").is_none(), "{}", rejected.body);
}

#[tokio::test]
async fn email_password_rejects_user_without_password() {
    let app = spawn_app().await;
    app.bootstrap("nopw@example.com", "Acme").await;

    let response = app
        .post_json(
            "/v1/signin/email-password",
            &[],
            &json!({ "email": "nopw@example.com", "password": "anything at all" }),
        )
        .await;

    assert_eq!(
        response.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        response.body
    );
}

#[tokio::test]
async fn jwks_serves_ed25519_key() {
    let app = spawn_app().await;

    let response = app.get_json("/v1/.well-known/jwks.json").await;

    assert_eq!(response.status, StatusCode::OK);
    let keys = response.body["keys"].as_array().expect("keys is an array");
    let key = keys
        .iter()
        .find(|key| key["kty"] == json!("OKP"))
        .unwrap_or_else(|| panic!("no OKP key in {}", response.body));
    assert_eq!(key["crv"], json!("Ed25519"));
    assert_eq!(key["alg"], json!("EdDSA"));
    assert!(
        key["kid"].as_str().is_some_and(|kid| !kid.is_empty()),
        "{key}"
    );
    let public_key = base64url_decode(key["x"].as_str().expect("x is a string"));
    assert_eq!(public_key.len(), 32);
    assert!(
        key.get("d").is_none(),
        "the private key must not be published: {key}"
    );
}
