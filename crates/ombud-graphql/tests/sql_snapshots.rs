//! The SQL that representative documents compile to, on each dialect. A
//! change to the compiler shows up as a reviewed change of these snapshots.
//! Under `CI` insta does not write new ones, so they must be committed.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use ombud_graphql::{Engine, GraphqlRequest, Role, SchemaLimits, Session};
use ombud_privacy::ConsentCookieSigner;
use ombud_store::{Dialect, Store};
use serde_json::{Value, json};
use uuid::Uuid;

const USER: &str = "00000000-0000-4000-8000-000000000001";
const CONTROLLER: &str = "00000000-0000-4000-8000-0000000000c1";
const SUBJECT: &str = "00000000-0000-4000-8000-0000000000d1";

/// (snapshot name, role, document, variables)
fn documents() -> Vec<(&'static str, Role, &'static str, Value)> {
    vec![
        (
            "guide_data_subjects",
            Role::User,
            "query ($c: uuid!) { dataSubjects(where: {dataControllerId: {_eq: $c}}, limit: 10, orderBy: {createdAt: desc}) { id did createdAt updatedAt doNotTrack globalPrivacyControl } }",
            json!({ "c": CONTROLLER }),
        ),
        (
            "guide_data_subject_by_id",
            Role::User,
            "query ($id: uuid!) { dataSubject(id: $id) { id did rightsRequests { id requestType } } }",
            json!({ "id": SUBJECT }),
        ),
        (
            "nested_both_directions",
            Role::User,
            "{ dataControllers { title dataSubjects(limit: 2, where: {doNotTrack: {_eq: false}}) { consentFormValues { value dataControllerProcessingPurpose { title dataController { did } } } } } }",
            json!({}),
        ),
        (
            "aggregate_with_nodes",
            Role::User,
            "{ dataSubjectRightsRequestsAggregate(where: {status: {_in: [\"submitted\", \"in_progress\"]}}) { aggregate { count distinctSubjects: count(columns: [dataSubjectId], distinct: true) min { dueAt } max { dueAt } } nodes { id } } }",
            json!({}),
        ),
        (
            "distinct_on_and_relationship_order",
            Role::User,
            "{ dataSubjectRightsRequests(distinctOn: [requestType], orderBy: [{requestType: asc}, {dataSubject: {createdAt: desc}}]) { id requestType } }",
            json!({}),
        ),
        (
            "boolean_operators_and_relationship_filter",
            Role::User,
            "{ dataSubjects(where: {_or: [{did: {_like: \"did:%\"}}, {_not: {erasedAt: {_is_null: true}}}], rightsRequests: {requestType: {_eq: \"erasure\"}}}) { id } }",
            json!({}),
        ),
        (
            "jsonb_operators",
            Role::User,
            "{ dataControllers(where: {branding: {_contains: {colors: {primary: \"#fff\"}}, _has_key: \"fonts\"}}) { id branding } }",
            json!({}),
        ),
        (
            "admin_without_filters",
            Role::Admin,
            "{ dataControllers(limit: 5) { id title } }",
            json!({}),
        ),
        (
            "anonymous_public_profile",
            Role::Anonymous,
            "query ($id: uuid!) { dataController(id: $id) { title processingPurposes { title } privacyNotices { version } } }",
            json!({ "id": CONTROLLER }),
        ),
        (
            "data_subject_own_rows",
            Role::DataSubject,
            "{ dataSubjectConsentFormValues { value } dataSubjectRightsRequests { requestType } }",
            json!({}),
        ),
    ]
}

#[tokio::test]
async fn compiled_sql_per_dialect() {
    let directory = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(directory.path(), 1).await.unwrap();
    let engine = Engine::new(
        store,
        Arc::new(ConsentCookieSigner::generate()),
        SchemaLimits::default(),
    )
    .unwrap();

    for (name, role, query, variables) in documents() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let mut session = Session::new(role, Some(Uuid::parse_str(USER).unwrap()));
            session
                .variables
                .insert("x-hasura-data-subject-id".to_owned(), SUBJECT.to_owned());
            let request = GraphqlRequest {
                query: query.to_owned(),
                variables: Some(variables.clone()),
                operation_name: None,
            };
            let (statements, body) = engine.explain(session, request, dialect).await;
            // Captured fields resolve to null, which a non-null root reports.
            let failed = body["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|error| {
                    !error["message"].as_str().is_some_and(|message| {
                        message.contains("non-null types require a return value")
                    })
                });
            assert!(!failed, "{name}: {body}");
            assert!(!statements.is_empty(), "{name}: no SQL was rendered");
            insta::assert_snapshot!(
                format!("{name}_{}", dialect.name()),
                statements.join("\n\n")
            );
        }
    }
}
