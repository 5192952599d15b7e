//! The `me` role: a staff member's own account and personal access tokens.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Tenant, TestApp, ids, parse_uuid, spawn_app};

/// Creates a second PAT for `tenant` through `POST /v1/pat`; returns its id and plaintext.
async fn create_pat(app: &TestApp, tenant: &Tenant, name: &str) -> (uuid::Uuid, String) {
    let authorization = format!("Bearer {}", tenant.access_token);
    let expires_at = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let created = app
        .post_json(
            "/v1/pat",
            &[("Authorization", authorization.as_str())],
            &json!({ "expiresAt": expires_at, "name": name }),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let token = created.body["personalAccessToken"]
        .as_str()
        .expect("the PAT is returned")
        .to_owned();
    (parse_uuid(&created.body["id"]), token)
}

#[tokio::test]
async fn me_lists_only_own_personal_access_tokens() {
    let app = spawn_app().await;
    let alice = app.tenant("alice@example.com", "A").await;
    let bob = app.tenant("bob@example.com", "B").await;
    let (alice_second, _) = create_pat(&app, &alice, "second").await;
    create_pat(&app, &bob, "bob's").await;

    let response = app
        .graphql_as(
            &alice.access_token,
            "me",
            "{ personalAccessTokens(orderBy: {createdAt: asc}) { id userId name revokedAt } }",
            json!({}),
        )
        .await;

    let tokens = response.data()["personalAccessTokens"]
        .as_array()
        .expect("a list")
        .clone();
    assert_eq!(tokens.len(), 2, "{}", response.body);
    for token in &tokens {
        assert_eq!(token["userId"], json!(alice.user_id.to_string()));
        assert_eq!(token["revokedAt"], Value::Null);
    }
    assert_eq!(parse_uuid(&tokens[1]["id"]), alice_second);
    assert_eq!(tokens[1]["name"], json!("second"));
    let total = app
        .count("SELECT count(*) FROM personal_access_tokens", &[])
        .await;
    assert_eq!(total, 4);
}

#[tokio::test]
async fn me_personal_access_tokens_hide_hash() {
    let app = spawn_app().await;
    let alice = app.tenant("hash@example.com", "A").await;

    let response = app
        .graphql_as(
            &alice.access_token,
            "me",
            "{ personalAccessTokens { id tokenHash } }",
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
async fn me_deletes_pat_and_it_stops_working() {
    let app = spawn_app().await;
    let alice = app.tenant("revoke@example.com", "A").await;
    let (second_id, second_token) = create_pat(&app, &alice, "to revoke").await;
    assert_eq!(
        app.sign_in_pat_raw(&second_token).await.status,
        StatusCode::OK
    );

    let response = app
        .graphql_as(
            &alice.access_token,
            "me",
            "mutation ($id: uuid!) { deletePersonalAccessToken(id: $id) { id name } }",
            json!({ "id": second_id }),
        )
        .await;

    assert_eq!(
        response.data()["deletePersonalAccessToken"]["id"],
        json!(second_id.to_string())
    );
    let revoked = app.sign_in_pat_raw(&second_token).await;
    assert_eq!(revoked.status, StatusCode::UNAUTHORIZED, "{}", revoked.body);
    assert_eq!(revoked.body["error"], json!("invalid-pat"));
    // The other token is untouched.
    assert_eq!(
        app.sign_in_pat_raw(&alice.personal_access_token)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn me_revokes_pat_by_setting_revoked_at() {
    let app = spawn_app().await;
    let alice = app.tenant("revoked-at@example.com", "A").await;
    let (second_id, second_token) = create_pat(&app, &alice, "to revoke").await;
    let now = chrono::Utc::now().to_rfc3339();

    let response = app
        .graphql_as(
            &alice.access_token,
            "me",
            "mutation ($id: uuid!, $now: timestamptz!) { updatePersonalAccessToken(pkColumns: {id: $id}, _set: {revokedAt: $now}) { id revokedAt } }",
            json!({ "id": second_id, "now": now }),
        )
        .await;

    assert!(
        response.data()["updatePersonalAccessToken"]["revokedAt"].is_string(),
        "{}",
        response.body
    );
    assert_eq!(
        app.sign_in_pat_raw(&second_token).await.status,
        StatusCode::UNAUTHORIZED
    );

    let restored = app
        .graphql_as(
            &alice.access_token,
            "me",
            "mutation ($id: uuid!) { updatePersonalAccessToken(pkColumns: {id: $id}, _set: {revokedAt: null}) { id } }",
            json!({ "id": second_id }),
        )
        .await;
    assert_eq!(
        restored.error_code(),
        Some("validation-failed"),
        "{}",
        restored.body
    );
    assert_eq!(
        app.sign_in_pat_raw(&second_token).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn me_cannot_delete_another_users_pat() {
    let app = spawn_app().await;
    let alice = app.tenant("alice2@example.com", "A").await;
    let bob = app.tenant("bob2@example.com", "B").await;
    let (bob_pat_id, bob_pat) = create_pat(&app, &bob, "bob's").await;

    let response = app
        .graphql_as(
            &alice.access_token,
            "me",
            "mutation ($id: uuid!) { deletePersonalAccessToken(id: $id) { id } }",
            json!({ "id": bob_pat_id }),
        )
        .await;

    assert_eq!(response.data()["deletePersonalAccessToken"], Value::Null);
    assert_eq!(app.sign_in_pat_raw(&bob_pat).await.status, StatusCode::OK);
}

#[tokio::test]
async fn me_users_shows_only_self() {
    let app = spawn_app().await;
    let alice = app.tenant("self@example.com", "A").await;
    let bob = app.tenant("other@example.com", "B").await;

    let response = app
        .graphql_as(
            &alice.access_token,
            "me",
            "query ($bob: uuid!) { users { id email defaultRole personalAccessTokens { userId } } bob: user(id: $bob) { id } }",
            json!({ "bob": bob.user_id }),
        )
        .await;

    let data = response.data();
    assert_eq!(ids(&data["users"]), vec![alice.user_id]);
    assert_eq!(data["users"][0]["email"], json!("self@example.com"));
    assert_eq!(data["users"][0]["defaultRole"], json!("user"));
    assert_eq!(
        data["users"][0]["personalAccessTokens"],
        json!([{ "userId": alice.user_id.to_string() }])
    );
    assert_eq!(data["bob"], Value::Null);
}

#[tokio::test]
async fn me_cannot_read_controllers() {
    let app = spawn_app().await;
    let alice = app.tenant("scope@example.com", "A").await;

    let response = app
        .graphql_as(
            &alice.access_token,
            "me",
            "{ dataControllers { id } }",
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
