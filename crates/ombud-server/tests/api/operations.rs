//! Operations surface: `GET /metrics` and the `x-request-id` header.

use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// Fetches `GET /metrics` and returns the body after checking status and content type.
async fn scrape(app: &TestApp) -> String {
    let response = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    response.text().await.expect("read the metrics body")
}

/// Returns the value of the sample line `series` (name and labels), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.strip_prefix(' ')?;
        value.parse().ok()
    })
}

async fn get(app: &TestApp, path_and_query: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path_and_query}", app.address))
        .send()
        .await
        .unwrap_or_else(|error| panic!("GET {path_and_query} failed: {error}"))
}

async fn get_with_request_id(app: &TestApp, request_id: &str) -> reqwest::Response {
    app.client
        .get(format!("{}/healthz", app.address))
        .header("x-request-id", request_id)
        .send()
        .await
        .expect("GET /healthz")
}

fn response_request_id(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("x-request-id")
        .unwrap_or_else(|| panic!("no x-request-id on {}", response.url()))
        .to_str()
        .expect("x-request-id is text")
        .to_owned()
}

fn assert_generated_uuid(request_id: &str) {
    let parsed = Uuid::parse_str(request_id)
        .unwrap_or_else(|error| panic!("{request_id:?} is not a uuid: {error}"));
    assert_eq!(parsed.get_version_num(), 4, "{request_id}");
}

/// Posts a GraphQL request as role `user` with an explicit `operationName`.
async fn graphql_named(
    app: &TestApp,
    access_token: &str,
    query: &str,
    operation_name: Option<&str>,
    variables: serde_json::Value,
) -> crate::helpers::GraphqlResponse {
    let authorization = format!("Bearer {access_token}");
    let body = json!({ "query": query, "operationName": operation_name, "variables": variables });
    app.graphql_raw(
        &[
            ("Authorization", authorization.as_str()),
            ("X-Hasura-Role", "user"),
        ],
        body.to_string(),
    )
    .await
}

#[tokio::test]
async fn metrics_count_requests_by_route() {
    let app = spawn_app().await;
    for _ in 0..3 {
        assert_eq!(get(&app, "/healthz").await.status(), StatusCode::OK);
    }
    let jwks = get(&app, "/v1/.well-known/jwks.json?ticket=query-secret-4711").await;
    assert_eq!(jwks.status(), StatusCode::OK);
    let missing = get(&app, "/no/such/path-8812?token=other-secret-0815").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let sign_in = app.sign_in_pat_raw("ombud_pat_invalid").await;
    assert_eq!(sign_in.status, StatusCode::UNAUTHORIZED);

    let text = scrape(&app).await;

    assert_eq!(
        sample(
            &text,
            r#"ombud_http_requests_total{method="GET",route="/healthz",status="200"}"#
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"ombud_http_requests_total{method="GET",route="/v1/.well-known/jwks.json",status="200"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"ombud_http_requests_total{method="GET",route="unmatched",status="404"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"ombud_http_requests_total{method="POST",route="/v1/signin/pat",status="401"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"ombud_http_request_duration_seconds_count{method="GET",route="/healthz"}"#
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"ombud_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="+Inf"}"#
        ),
        Some(3.0),
        "{text}"
    );
}

#[tokio::test]
async fn metrics_omit_paths_and_query_strings() {
    let app = spawn_app().await;
    get(&app, "/healthz?api_key=query-secret-4711").await;
    get(&app, "/no/such/path-8812?token=other-secret-0815").await;

    let text = scrape(&app).await;

    for fragment in [
        "query-secret-4711",
        "other-secret-0815",
        "api_key",
        "path-8812",
        "?",
    ] {
        assert!(
            !text.contains(fragment),
            "metrics contain {fragment:?}: {text}"
        );
    }
}

#[tokio::test]
async fn metrics_sample_pool_connections() {
    let app = spawn_app().await;

    let text = scrape(&app).await;

    let pools: &[&str] = if app.database.is_some() {
        &["postgres"]
    } else {
        &["reader", "writer"]
    };
    for pool in pools {
        for state in ["idle", "in_use"] {
            let series = format!(r#"ombud_db_pool_connections{{pool="{pool}",state="{state}"}}"#);
            assert!(
                sample(&text, &series).is_some(),
                "no sample {series}: {text}"
            );
        }
    }
    assert!(
        text.contains("# TYPE ombud_db_pool_connections gauge\n"),
        "{text}"
    );
}

#[tokio::test]
async fn metrics_count_graphql_operations() {
    let app = spawn_app().await;
    let tenant = app.tenant("ops@example.com", "Ops Shop").await;
    let list = "query ListControllers { dataControllers { id } }";
    for _ in 0..2 {
        let response = graphql_named(
            &app,
            &tenant.access_token,
            list,
            Some("ListControllers"),
            json!({}),
        )
        .await;
        response.data();
    }
    let insert = "mutation AddSubject($controller: uuid!) { \
                    insertDataSubject(object: {dataControllerId: $controller}) { id } }";
    graphql_named(
        &app,
        &tenant.access_token,
        insert,
        Some("AddSubject"),
        json!({ "controller": tenant.controller_id }),
    )
    .await
    .data();
    // Without operationName the document's only operation names the series.
    graphql_named(
        &app,
        &tenant.access_token,
        "query NamedInDocument { dataControllers { id } }",
        None,
        json!({}),
    )
    .await
    .data();
    graphql_named(
        &app,
        &tenant.access_token,
        "{ dataControllers { id } }",
        None,
        json!({}),
    )
    .await
    .data();
    let broken = graphql_named(
        &app,
        &tenant.access_token,
        "query Broken { noSuchField }",
        Some("Broken"),
        json!({}),
    )
    .await;
    assert!(broken.body.get("errors").is_some(), "{}", broken.body);
    let unparsable = graphql_named(
        &app,
        &tenant.access_token,
        "query Unparsable {",
        Some("Unparsable"),
        json!({}),
    )
    .await;
    assert!(
        unparsable.body.get("errors").is_some(),
        "{}",
        unparsable.body
    );

    let text = scrape(&app).await;

    let cases = [
        ("ListControllers", "query", "ok", 2.0),
        ("AddSubject", "mutation", "ok", 1.0),
        ("NamedInDocument", "query", "ok", 1.0),
        ("anonymous", "query", "ok", 1.0),
        ("Broken", "query", "error", 1.0),
        ("Unparsable", "unknown", "error", 1.0),
    ];
    for (operation, operation_type, outcome, expected) in cases {
        let series = format!(
            r#"ombud_graphql_operations_total{{operation="{operation}",type="{operation_type}",outcome="{outcome}"}}"#
        );
        assert_eq!(sample(&text, &series), Some(expected), "{series} in {text}");
    }
}

#[tokio::test]
async fn metrics_graphql_names_bounded() {
    let app = spawn_app().await;
    let tenant = app.tenant("names@example.com", "Names Shop").await;
    let long_name = "A".repeat(65);
    let query = "query Q { dataControllers { id } }";
    for name in ["has space", "1Leading", long_name.as_str(), "Q\"}x"] {
        // The requested name matches no operation, so the request fails, but
        // it is still counted, under `anonymous`, as is the request below.
        graphql_named(&app, &tenant.access_token, query, Some(name), json!({})).await;
    }
    let unauthenticated = app
        .graphql_raw(
            &[],
            json!({ "query": query, "operationName": "SneakyUnauthenticated" }).to_string(),
        )
        .await;
    // Without credentials the request runs as the anonymous role, and its
    // operation name is not kept.
    assert_eq!(unauthenticated.status, StatusCode::OK);

    let text = scrape(&app).await;

    assert_eq!(
        sample(
            &text,
            r#"ombud_graphql_operations_total{operation="anonymous",type="unknown",outcome="error"}"#
        ),
        Some(5.0),
        "{text}"
    );
    assert!(!text.contains("SneakyUnauthenticated"), "{text}");
    assert!(!text.contains("has space"), "{text}");
    assert!(!text.contains(&long_name), "{text}");
}

#[tokio::test]
async fn metrics_omit_graphql_documents_and_variables() {
    let app = spawn_app().await;
    let tenant = app.tenant("privacy@example.com", "Privacy Shop").await;
    graphql_named(
        &app,
        &tenant.access_token,
        "query Filtered($title: String!) { dataControllers(where: {title: {_eq: $title}}) { id } }",
        Some("Filtered"),
        json!({ "title": "variable-value-5150" }),
    )
    .await
    .data();

    let text = scrape(&app).await;

    assert!(text.contains(r#"operation="Filtered""#), "{text}");
    assert!(!text.contains("variable-value-5150"), "{text}");
    assert!(!text.contains("dataControllers"), "{text}");
}

#[tokio::test]
async fn metrics_disabled_returns_404() {
    let app = spawn_app_with(|settings| settings.metrics.enabled = false).await;

    let response = get(&app, "/metrics").await;

    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_generated_uuid(&response_request_id(&response));
}

#[tokio::test]
async fn metrics_need_no_credentials() {
    let app = spawn_app().await;

    let response = get(&app, "/metrics").await;

    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn request_id_valid_echoed() {
    let app = spawn_app().await;
    let longest = "x".repeat(64);

    for request_id in ["abc-123_DEF.4", "0", longest.as_str()] {
        let response = get_with_request_id(&app, request_id).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response_request_id(&response), request_id);
    }
}

#[tokio::test]
async fn request_id_invalid_replaced() {
    let app = spawn_app().await;
    let too_long = "a".repeat(100);
    let one_too_long = "a".repeat(65);

    for request_id in [
        too_long.as_str(),
        one_too_long.as_str(),
        "has spaces",
        "semi;colon",
        "",
    ] {
        let response = get_with_request_id(&app, request_id).await;
        let returned = response_request_id(&response);
        assert_ne!(returned, request_id);
        assert_generated_uuid(&returned);
    }
}

#[tokio::test]
async fn request_id_generated_when_absent() {
    let app = spawn_app().await;

    let first = response_request_id(&get(&app, "/healthz").await);
    let second = response_request_id(&get(&app, "/healthz").await);
    let missing = response_request_id(&get(&app, "/no/such/path").await);

    assert_generated_uuid(&first);
    assert_generated_uuid(&second);
    assert_generated_uuid(&missing);
    assert_ne!(first, second);
}

#[tokio::test]
async fn request_id_on_graphql_errors() {
    let app = spawn_app().await;

    let response = app
        .client
        .post(format!("{}/v1/graphql", app.address))
        .header("Content-Type", "application/json")
        .header("x-request-id", "graphql-401-check")
        .header("Authorization", "Bearer not-a-jwt")
        .body(r#"{"query": "{ dataControllers { id } }"}"#)
        .send()
        .await
        .expect("POST /v1/graphql");

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response_request_id(&response), "graphql-401-check");
}
