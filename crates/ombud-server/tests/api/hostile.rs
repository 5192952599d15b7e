//! Hostile and edge-case input: each is rejected with `validation-failed` or
//! gets a correct result, the same on both backends, and never an
//! `unexpected` error or a crash.

use serde_json::{Value, json};

use crate::helpers::{Tenant, TestApp, spawn_app};

async fn assert_validation_failed(app: &TestApp, tenant: &Tenant, query: &str, variables: Value) {
    let response = app
        .graphql_user(&tenant.access_token, query, variables.clone())
        .await;
    assert_eq!(
        response.error_code(),
        Some("validation-failed"),
        "{query} with {variables}: {}",
        response.body
    );
}

#[tokio::test]
async fn deeply_nested_values_are_rejected_and_server_survives() {
    let app = spawn_app().await;
    let tenant = app.tenant("a@example.com", "A Shop").await;
    let deep = format!(
        "{{ __typename(x: {}1{}) }}",
        "[".repeat(500),
        "]".repeat(500)
    );

    assert_validation_failed(&app, &tenant, &deep, json!({})).await;

    let nested_selection = format!(
        "{{ {}id{} }}",
        "dataControllers { dataSubjects { dataController { ".repeat(17),
        " } } }".repeat(17)
    );
    assert_validation_failed(&app, &tenant, &nested_selection, json!({})).await;

    let alive = app
        .graphql_user(
            &tenant.access_token,
            "{ dataControllers { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        alive.data()["dataControllers"].as_array().map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn sql_syntax_in_values_is_stored_verbatim() {
    let app = spawn_app().await;
    let tenant = app.tenant("a@example.com", "A Shop").await;
    let hostile =
        "x'); DROP TABLE data_subjects; -- \" /* */ ; SELECT * FROM users WHERE '1'='1 \\ %_";

    let updated = app
        .graphql_user(
            &tenant.access_token,
            "mutation ($id: uuid!, $text: String) { updateDataController(pkColumns: {id: $id}, _set: {description: $text}) { description } }",
            json!({ "id": tenant.controller_id, "text": hostile }),
        )
        .await;
    assert_eq!(
        updated.data()["updateDataController"]["description"],
        json!(hostile)
    );

    let found = app
        .graphql_user(
            &tenant.access_token,
            "query ($text: String) { eq: dataControllers(where: {description: {_eq: $text}}) { id }
               like: dataControllers(where: {description: {_like: \"%DROP TABLE%\"}}) { id } }",
            json!({ "text": hostile }),
        )
        .await;
    let data = found.data();
    assert_eq!(data["eq"].as_array().map(Vec::len), Some(1));
    assert_eq!(data["like"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        app.count("SELECT count(*) FROM data_subjects", &[]).await,
        0
    );
}

#[tokio::test]
async fn nul_characters_and_huge_patterns_are_rejected() {
    let app = spawn_app().await;
    let tenant = app.tenant("a@example.com", "A Shop").await;

    for (operator, operand) in [
        ("_like", json!("a\u{0}%")),
        ("_ilike", json!("a\u{0}%")),
        ("_nlike", json!("a\u{0}%")),
        ("_eq", json!("a\u{0}b")),
        ("_like", json!(format!("{}x", "%".repeat(100_000)))),
    ] {
        assert_validation_failed(
            &app,
            &tenant,
            &format!("query ($v: String) {{ dataControllers(where: {{title: {{{operator}: $v}}}}) {{ id }} }}"),
            json!({ "v": operand }),
        )
        .await;
    }
    assert_validation_failed(
        &app,
        &tenant,
        "query ($k: String) { dataControllers(where: {branding: {_has_key: $k}}) { id } }",
        json!({ "k": "a\u{0}" }),
    )
    .await;
}

#[tokio::test]
async fn times_outside_years_1_to_9999_are_rejected() {
    let app = spawn_app().await;
    let tenant = app.tenant("a@example.com", "A Shop").await;

    for time in [
        "0000-01-01T00:00:00Z",
        "+10000-01-01T00:00:00Z",
        "-0001-06-01T00:00:00Z",
        "2016-12-31T23:59:60Z",
    ] {
        assert_validation_failed(
            &app,
            &tenant,
            "query ($t: timestamptz) { dataSubjects(where: {createdAt: {_lt: $t}}) { id } }",
            json!({ "t": time }),
        )
        .await;
    }
    let authorization = format!("Bearer {}", tenant.access_token);
    let pat = app
        .post_json(
            "/v1/pat",
            &[("Authorization", authorization.as_str())],
            &json!({ "name": "far future", "expiresAt": "+10000-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(pat.status, 400, "{}", pat.body);
}

#[tokio::test]
async fn long_in_lists_use_one_parameter() {
    let app = spawn_app().await;
    let tenant = app.tenant("a@example.com", "A Shop").await;
    let mut titles: Vec<String> = (0..40_000).map(|index| format!("title {index}")).collect();
    titles.push("A Shop".to_owned());

    let response = app
        .graphql_user(
            &tenant.access_token,
            "query ($titles: [String!]) { in: dataControllers(where: {title: {_in: $titles}}) { id }
               nin: dataControllers(where: {title: {_nin: $titles}}) { id } }",
            json!({ "titles": titles }),
        )
        .await;
    let data = response.data();

    assert_eq!(data["in"].as_array().map(Vec::len), Some(1));
    assert_eq!(data["nin"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn jsonb_compares_by_value_on_both_backends() {
    let app = spawn_app().await;
    let tenant = app.tenant("a@example.com", "A Shop").await;
    app.graphql_user(
        &tenant.access_token,
        "mutation ($id: uuid!, $b: jsonb) { updateDataController(pkColumns: {id: $id}, _set: {branding: $b}) { id } }",
        json!({ "id": tenant.controller_id, "b": { "zz": 1, "a": [ "x", "y" ], "m\\n": true } }),
    )
    .await
    .data();

    let cases = [
        (
            "_eq",
            json!({ "a": ["x", "y"], "m\\n": true, "zz": 1 }),
            true,
        ),
        (
            "_eq",
            json!({ "a": ["y", "x"], "m\\n": true, "zz": 1 }),
            false,
        ),
        (
            "_neq",
            json!({ "m\\n": true, "zz": 1, "a": ["x", "y"] }),
            false,
        ),
        ("_has_key", json!("zz"), true),
        ("_has_key", json!("m\\n"), true),
        ("_has_key", json!("x"), false),
    ];
    for (operator, operand, expected) in cases {
        let operand_type = if operator == "_has_key" {
            "String"
        } else {
            "jsonb"
        };
        let response = app
            .graphql_user(
                &tenant.access_token,
                &format!(
                    "query ($v: {operand_type}) {{ dataControllers(where: {{branding: {{{operator}: $v}}}}) {{ id branding }} }}"
                ),
                json!({ "v": operand }),
            )
            .await;
        let rows = response.data()["dataControllers"].clone();
        assert_eq!(
            rows.as_array().map(Vec::len),
            Some(usize::from(expected)),
            "{operator} {operand}"
        );
    }

    // Keys come back in PostgreSQL's jsonb order on both backends.
    let stored = app
        .graphql_user(
            &tenant.access_token,
            "{ dataControllers { branding } }",
            json!({}),
        )
        .await;
    assert_eq!(
        stored.data()["dataControllers"][0]["branding"].to_string(),
        r#"{"a":["x","y"],"zz":1,"m\\n":true}"#
    );
}

#[tokio::test]
async fn jsonb_depth_and_mixed_arrays() {
    let app = spawn_app().await;
    let tenant = app.tenant("a@example.com", "A Shop").await;
    let mut deep = json!(1);
    for _ in 0..40 {
        deep = json!([deep]);
    }
    assert_validation_failed(
        &app,
        &tenant,
        "mutation ($id: uuid!, $b: jsonb) { updateDataController(pkColumns: {id: $id}, _set: {branding: $b}) { id } }",
        json!({ "id": tenant.controller_id, "b": deep }),
    )
    .await;

    app.graphql_user(
        &tenant.access_token,
        "mutation ($id: uuid!, $b: jsonb) { updateDataController(pkColumns: {id: $id}, _set: {branding: $b}) { id } }",
        json!({ "id": tenant.controller_id, "b": { "fonts": ["Inter", { "name": "Georgia" }] } }),
    )
    .await
    .data();
    for (operand, expected) in [
        (json!({ "fonts": [{}] }), 1),
        (json!({ "fonts": [{ "name": "Georgia" }] }), 1),
        (json!({ "fonts": [[1]] }), 0),
        (json!({ "fonts": [{ "name": "Inter" }] }), 0),
    ] {
        let response = app
            .graphql_user(
                &tenant.access_token,
                "query ($v: jsonb) { dataControllers(where: {branding: {_contains: $v}}) { id } }",
                json!({ "v": operand }),
            )
            .await;
        assert_eq!(
            response.data()["dataControllers"].as_array().map(Vec::len),
            Some(expected),
            "{operand}"
        );
    }
}
