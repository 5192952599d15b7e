//! Query features beyond plain lists: aggregates, `distinctOn`, ordering
//! through object relationships, jsonb `_contains`, and the limits on rows
//! and aliases. Each runs on both backends.

use serde_json::{Value, json};

use crate::helpers::{Tenant, TestApp, spawn_app};

/// Creates a tenant with three data subjects and four rights requests of two types.
async fn tenant_with_requests(app: &TestApp, email: &str, title: &str) -> Tenant {
    let tenant = app.tenant(email, title).await;
    let mut subjects = Vec::new();
    for _ in 0..3 {
        subjects.push(
            app.insert_subject(&tenant.access_token, tenant.controller_id)
                .await,
        );
    }
    for (subject, request_type) in [
        (subjects[0], "access"),
        (subjects[1], "access"),
        (subjects[1], "erasure"),
        (subjects[2], "access"),
    ] {
        app.insert_rights_request(&tenant.access_token, subject, request_type)
            .await;
    }
    tenant
}

#[tokio::test]
async fn aggregate_counts_only_own_rows() {
    let app = spawn_app().await;
    let a = tenant_with_requests(&app, "a@example.com", "A Shop").await;
    let b = tenant_with_requests(&app, "b@example.com", "B Shop").await;

    let response = app
        .graphql_user(
            &a.access_token,
            "query ($other: uuid!) {
               all: dataSubjectRightsRequestsAggregate { aggregate { count } }
               access: dataSubjectRightsRequestsAggregate(where: {requestType: {_eq: \"access\"}}) {
                 aggregate { count subjects: count(columns: [dataSubjectId], distinct: true) }
               }
               other: dataSubjectRightsRequestsAggregate(where: {dataControllerId: {_eq: $other}}) {
                 aggregate { count }
                 nodes { id }
               }
             }",
            json!({ "other": b.controller_id }),
        )
        .await;
    let data = response.data();

    assert_eq!(data["all"]["aggregate"]["count"], 4);
    assert_eq!(data["access"]["aggregate"]["count"], 3);
    assert_eq!(data["access"]["aggregate"]["subjects"], 3);
    assert_eq!(data["other"]["aggregate"]["count"], 0);
    assert_eq!(data["other"]["nodes"], json!([]));
}

#[tokio::test]
async fn aggregate_with_order_and_limit() {
    let app = spawn_app().await;
    let tenant = tenant_with_requests(&app, "a@example.com", "A Shop").await;

    let response = app
        .graphql_user(
            &tenant.access_token,
            "{ dataSubjectRightsRequestsAggregate(orderBy: {createdAt: desc}, limit: 2) {
                 __typename
                 aggregate { __typename count min { createdAt requestType } max { createdAt } }
                 nodes { requestType createdAt }
               }
               everything: dataSubjectRightsRequests(orderBy: {createdAt: desc}) { createdAt } }",
            json!({}),
        )
        .await;
    let data = response.data();
    let aggregate = &data["dataSubjectRightsRequestsAggregate"];
    let all: Vec<&Value> = data["everything"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|row| &row["createdAt"])
        .collect();

    assert_eq!(
        aggregate["__typename"],
        "data_subject_rights_requests_aggregate"
    );
    assert_eq!(
        aggregate["aggregate"]["__typename"],
        "data_subject_rights_requests_aggregate_fields"
    );
    assert_eq!(aggregate["aggregate"]["count"], 2);
    assert_eq!(&aggregate["aggregate"]["max"]["createdAt"], all[0]);
    assert_eq!(&aggregate["aggregate"]["min"]["createdAt"], all[1]);
    assert_eq!(aggregate["nodes"][0]["createdAt"], *all[0]);
    assert_eq!(aggregate["nodes"][1]["createdAt"], *all[1]);
    assert_eq!(aggregate["nodes"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn nested_aggregate_counts_per_parent() {
    let app = spawn_app().await;
    let a = tenant_with_requests(&app, "a@example.com", "A Shop").await;
    tenant_with_requests(&app, "b@example.com", "B Shop").await;

    let response = app
        .graphql_user(
            &a.access_token,
            "{ dataControllers(limit: 5) { title
                 dataSubjectsAggregate { aggregate { count } }
                 dataSubjects(orderBy: {createdAt: asc}, limit: 50) {
                   rightsRequestsAggregate(where: {requestType: {_eq: \"access\"}}) { aggregate { count } }
                 } } }",
            json!({}),
        )
        .await;
    let controllers = response.data()["dataControllers"].clone();

    assert_eq!(
        controllers.as_array().map(Vec::len),
        Some(1),
        "{controllers}"
    );
    assert_eq!(controllers[0]["title"], "A Shop");
    assert_eq!(
        controllers[0]["dataSubjectsAggregate"]["aggregate"]["count"],
        3
    );
    let per_subject: Vec<&Value> = controllers[0]["dataSubjects"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|subject| &subject["rightsRequestsAggregate"]["aggregate"]["count"])
        .collect();
    assert_eq!(per_subject, [&json!(1), &json!(1), &json!(1)]);
}

#[tokio::test]
async fn distinct_on_keeps_first_row_per_value() {
    let app = spawn_app().await;
    let tenant = tenant_with_requests(&app, "a@example.com", "A Shop").await;

    let response = app
        .graphql_user(
            &tenant.access_token,
            "{ first: dataSubjectRightsRequests(distinctOn: [requestType], orderBy: [{requestType: asc}, {createdAt: asc}]) { requestType createdAt }
               last: dataSubjectRightsRequests(distinct_on: requestType, order_by: [{requestType: asc}, {createdAt: desc}]) { requestType createdAt }
               all: dataSubjectRightsRequests(where: {requestType: {_eq: \"access\"}}, orderBy: {createdAt: asc}) { createdAt } }",
            json!({}),
        )
        .await;
    let data = response.data();
    let access: Vec<&Value> = data["all"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|row| &row["createdAt"])
        .collect();

    let types = |list: &Value| -> Vec<String> {
        list.as_array()
            .expect("a list")
            .iter()
            .map(|row| row["requestType"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(types(&data["first"]), ["access", "erasure"]);
    assert_eq!(types(&data["last"]), ["access", "erasure"]);
    assert_eq!(&data["first"][0]["createdAt"], access[0]);
    assert_eq!(&data["last"][0]["createdAt"], access[2]);
}

#[tokio::test]
async fn order_by_object_relationship_column() {
    let app = spawn_app().await;
    let zulu = app.tenant("z@example.com", "Zulu Shop").await;
    let alpha = app.tenant("a@example.com", "Alpha Shop").await;
    let zulu_subject = app
        .insert_subject(&zulu.access_token, zulu.controller_id)
        .await;
    let alpha_subject = app
        .insert_subject(&alpha.access_token, alpha.controller_id)
        .await;

    let response = app
        .graphql_admin(
            "{ up: dataSubjects(orderBy: {dataController: {title: asc}}) { id }
               down: dataSubjects(order_by: [{dataController: {title: desc}}]) { id } }",
            json!({}),
        )
        .await;
    let data = response.data();

    assert_eq!(
        data["up"],
        json!([{ "id": alpha_subject.to_string() }, { "id": zulu_subject.to_string() }])
    );
    assert_eq!(
        data["down"],
        json!([{ "id": zulu_subject.to_string() }, { "id": alpha_subject.to_string() }])
    );
}

#[tokio::test]
async fn jsonb_contains_matches_nested_values() {
    let app = spawn_app().await;
    let tenant = app.tenant("a@example.com", "A Shop").await;
    let branding = json!({
        "colors": { "primary": "#112233", "accent": "#445566" },
        "fonts": ["Inter", "Georgia"],
        "rounded": true,
        "radius": 4
    });
    app.graphql_user(
        &tenant.access_token,
        "mutation ($id: uuid!, $branding: jsonb) { updateDataController(pkColumns: {id: $id}, _set: {branding: $branding}) { id } }",
        json!({ "id": tenant.controller_id, "branding": branding }),
    )
    .await
    .data();

    let cases = [
        (json!({ "colors": { "primary": "#112233" } }), true),
        (json!({ "fonts": ["Georgia"] }), true),
        (json!({ "rounded": true, "radius": 4 }), true),
        (json!({ "radius": 4.0 }), true),
        (json!({}), true),
        (json!({ "colors": { "primary": "#000000" } }), false),
        (json!({ "fonts": ["Comic Sans"] }), false),
        (json!({ "fonts": "Inter" }), false),
        (json!({ "rounded": 1 }), false),
        (json!({ "missing": null }), false),
    ];
    for (operand, expected) in cases {
        let response = app
            .graphql_user(
                &tenant.access_token,
                "query ($operand: jsonb) { dataControllers(where: {branding: {_contains: $operand}}) { id } }",
                json!({ "operand": operand }),
            )
            .await;
        let found = response.data()["dataControllers"]
            .as_array()
            .is_some_and(|rows| rows.len() == 1);
        assert_eq!(found, expected, "_contains {operand}");
    }
}

#[tokio::test]
async fn limit_above_table_maximum_is_rejected() {
    let app = spawn_app().await;
    let tenant = app.tenant("a@example.com", "A Shop").await;

    for document in [
        "{ dataSubjects(limit: 1000000000) { id } }",
        "{ dataSubjectsAggregate(limit: 1001) { aggregate { count } } }",
        "{ dataControllers { dataSubjects(limit: 5000) { id } } }",
    ] {
        let response = app
            .graphql_user(&tenant.access_token, document, json!({}))
            .await;
        assert_eq!(
            response.error_code(),
            Some("validation-failed"),
            "{document}"
        );
        let message = response.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(message.contains("maximum of 1000"), "{message}");
    }
    let response = app
        .graphql_user(
            &tenant.access_token,
            "{ dataSubjects(limit: 1000) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(response.data()["dataSubjects"], json!([]));
}

#[tokio::test]
async fn selection_without_limit_stops_at_maximum() {
    let app = spawn_app().await;
    let tenant = app.tenant("a@example.com", "A Shop").await;
    let objects: Vec<Value> = (0..1005)
        .map(|_| json!({ "dataControllerId": tenant.controller_id }))
        .collect();
    let inserted = app
        .graphql_user(
            &tenant.access_token,
            "mutation ($objects: [data_subjects_insert_input!]!) { insertDataSubjects(objects: $objects) { affectedRows } }",
            json!({ "objects": objects }),
        )
        .await;
    assert_eq!(inserted.data()["insertDataSubjects"]["affectedRows"], 1005);

    let response = app
        .graphql_user(
            &tenant.access_token,
            "{ dataSubjects { id } dataSubjectsAggregate { aggregate { count } } }",
            json!({}),
        )
        .await;
    let data = response.data();

    assert_eq!(data["dataSubjects"].as_array().map(Vec::len), Some(1000));
    // Without nodes the aggregate covers every row, as in Hasura.
    assert_eq!(data["dataSubjectsAggregate"]["aggregate"]["count"], 1005);
    let page = app
        .graphql_user(
            &tenant.access_token,
            "{ dataSubjects(offset: 1000) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        page.data()["dataSubjects"].as_array().map(Vec::len),
        Some(5)
    );
}

#[tokio::test]
async fn nested_unlimited_lists_exceed_the_row_budget() {
    let app = spawn_app().await;
    let tenant = app.tenant("a@example.com", "A Shop").await;

    let response = app
        .graphql_user(
            &tenant.access_token,
            "{ dataSubjects { dataController { dataSubjects { dataController { dataSubjects { id } } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        response.error_code(),
        Some("validation-failed"),
        "{}",
        response.body
    );
    let message = response.body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("set smaller limits"), "{message}");

    let limited = app
        .graphql_user(
            &tenant.access_token,
            "{ dataSubjects(limit: 10) { dataController { dataSubjects(limit: 10) { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(limited.data()["dataSubjects"], json!([]));
}

#[tokio::test]
async fn too_many_aliases_are_rejected() {
    let app = spawn_app().await;
    let tenant = app.tenant("a@example.com", "A Shop").await;
    let fields: Vec<String> = (0..10_000)
        .map(|index| format!("a{index}: __typename"))
        .collect();
    let document = format!("{{ {} }}", fields.join(" "));

    let response = app
        .graphql_user(&tenant.access_token, &document, json!({}))
        .await;

    assert_eq!(response.status, 200);
    assert_eq!(response.error_code(), Some("validation-failed"));
    let message = response.body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("10000 aliased fields"), "{message}");
}

#[tokio::test]
async fn inc_adds_to_numeric_columns_within_bounds() {
    let app = spawn_app().await;
    let tenant = app.tenant("a@example.com", "A Shop").await;
    let purpose = app
        .insert_purpose(
            &tenant.access_token,
            tenant.controller_id,
            "Analytics",
            None,
        )
        .await;
    let update = "mutation ($id: uuid!, $inc: data_controller_processing_purposes_inc_input, $set: data_controller_processing_purposes_set_input) {
        updateDataControllerProcessingPurpose(pkColumns: {id: $id}, _inc: $inc, _set: $set) { retentionDays } }";

    let set = app
        .graphql_user(
            &tenant.access_token,
            update,
            json!({ "id": purpose, "set": { "retentionDays": 30 } }),
        )
        .await;
    assert_eq!(
        set.data()["updateDataControllerProcessingPurpose"]["retentionDays"],
        30
    );
    let increased = app
        .graphql_user(
            &tenant.access_token,
            update,
            json!({ "id": purpose, "inc": { "retentionDays": 335 } }),
        )
        .await;
    assert_eq!(
        increased.data()["updateDataControllerProcessingPurpose"]["retentionDays"],
        365
    );

    let huge = app
        .graphql_user(
            &tenant.access_token,
            update,
            json!({ "id": purpose, "inc": { "retentionDays": 9_223_372_036_854_775_807_i64 } }),
        )
        .await;
    assert_eq!(
        huge.error_code(),
        Some("validation-failed"),
        "{}",
        huge.body
    );
    let beyond_check = app
        .graphql_user(
            &tenant.access_token,
            update,
            json!({ "id": purpose, "inc": { "retentionDays": 40_000 } }),
        )
        .await;
    assert_eq!(
        beyond_check.error_code(),
        Some("constraint-violation"),
        "{}",
        beyond_check.body
    );
    let both = app
        .graphql_user(
            &tenant.access_token,
            update,
            json!({ "id": purpose, "inc": { "retentionDays": 1 }, "set": { "retentionDays": 1 } }),
        )
        .await;
    assert_eq!(
        both.error_code(),
        Some("validation-failed"),
        "{}",
        both.body
    );
    let sum = app
        .graphql_user(
            &tenant.access_token,
            "{ dataControllerProcessingPurposesAggregate { aggregate { sum { retentionDays } avg { retentionDays } } } }",
            json!({}),
        )
        .await;
    let aggregate = &sum.data()["dataControllerProcessingPurposesAggregate"]["aggregate"];
    assert_eq!(aggregate["sum"]["retentionDays"], 365);
    assert_eq!(aggregate["avg"]["retentionDays"], 365.0);
}
