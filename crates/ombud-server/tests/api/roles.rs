//! The `anonymous` role (requests without credentials) and the
//! `dataSubject` role (a person acting on their own record).

use std::collections::BTreeMap;

use ombud_auth::JwtCodec;
use ombud_server::Secret;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app_with};

const JWT_SECRET: &str = "roles-test-secret-with-at-least-32-bytes!";

async fn app_with_known_secret() -> TestApp {
    spawn_app_with(|settings| {
        settings.auth.jwt_secret = Some(Secret::new(JWT_SECRET.to_owned()));
    })
    .await
}

/// Issues a session token for the data subject `subject`, as a magic-link sign-in would.
fn subject_token(subject: Option<Uuid>) -> String {
    let codec = JwtCodec::new(JWT_SECRET.as_bytes(), "ombud".to_owned(), 30).expect("a codec");
    let mut extra = BTreeMap::new();
    if let Some(subject) = subject {
        extra.insert("x-hasura-data-subject-id".to_owned(), subject.to_string());
    }
    codec
        .issue(
            subject.unwrap_or_else(Uuid::new_v4),
            vec!["dataSubject".to_owned()],
            "dataSubject".to_owned(),
            extra,
            600,
            chrono::Utc::now().timestamp(),
        )
        .expect("a token")
}

async fn anonymous(app: &TestApp, query: &str, variables: Value) -> Value {
    app.graphql_raw(
        &[],
        json!({ "query": query, "variables": variables }).to_string(),
    )
    .await
    .body
}

fn ids(rows: &Value) -> Vec<String> {
    rows.as_array()
        .expect("a list")
        .iter()
        .map(|row| row["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn anonymous_reads_a_controller_profile_by_id_only() {
    let app = app_with_known_secret().await;
    let tenant = app.tenant("a@example.com", "A Shop").await;
    app.insert_purpose(
        &tenant.access_token,
        tenant.controller_id,
        "Analytics",
        None,
    )
    .await;
    app.insert_subject(&tenant.access_token, tenant.controller_id)
        .await;
    app.graphql_user(
        &tenant.access_token,
        "mutation ($c: uuid!) {
           insertDataProcessor(object: {dataControllerId: $c, name: \"Mail Co\", purposes: [\"newsletter\"],
             dataCategories: [\"email\"], locations: [\"DE\"]}) { id }
           published: insertPrivacyNotice(object: {dataControllerId: $c, kind: \"privacy_policy\", language: \"en\",
             version: \"1\", body: \"We process...\", publishedAt: \"2026-01-01T00:00:00Z\"}) { id }
           draft: insertPrivacyNotice(object: {dataControllerId: $c, kind: \"privacy_policy\", language: \"en\",
             version: \"2\", body: \"Draft\"}) { id } }",
        json!({ "c": tenant.controller_id }),
    )
    .await
    .data();

    let profile = anonymous(
        &app,
        "query ($id: uuid!) { dataController(id: $id) { title processingPurposes { title }
           dataProcessors { name } privacyNotices { version } } }",
        json!({ "id": tenant.controller_id }),
    )
    .await;
    assert_eq!(
        profile["data"]["dataController"],
        json!({
            "title": "A Shop",
            "processingPurposes": [{ "title": "Analytics" }],
            "dataProcessors": [{ "name": "Mail Co" }],
            "privacyNotices": [{ "version": "1" }],
        }),
        "{profile}"
    );

    for document in [
        "{ dataControllers { id } }",
        "{ dataControllersAggregate { aggregate { count } } }",
        "{ dataSubjects { id } }",
        "{ dataControllerProcessingPurposes { id } }",
        "{ privacyNotices { id } }",
        "query ($id: uuid!) { dataController(id: $id) { auditLogs { id } } }",
        "query ($id: uuid!) { dataController(id: $id) { dataSubjects { id } } }",
        "mutation { insertDataSubject(object: {}) { id } }",
    ] {
        let body = anonymous(&app, document, json!({ "id": tenant.controller_id })).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "validation-failed",
            "{document}: {body}"
        );
    }
}

#[tokio::test]
async fn data_subject_own_rows_only() {
    let app = app_with_known_secret().await;
    let a = app.tenant("a@example.com", "A Shop").await;
    let b = app.tenant("b@example.com", "B Shop").await;
    let purpose = app
        .insert_purpose(&a.access_token, a.controller_id, "Analytics", None)
        .await;
    app.insert_purpose(&b.access_token, b.controller_id, "Other", None)
        .await;
    let own = app
        .upsert_consents(
            &a.access_token,
            a.controller_id,
            None,
            json!({ purpose.to_string(): true }),
        )
        .await;
    let own = Uuid::parse_str(own["dataSubjectId"].as_str().expect("an id")).expect("a uuid");
    let neighbour = app
        .upsert_consents(
            &a.access_token,
            a.controller_id,
            None,
            json!({ purpose.to_string(): false }),
        )
        .await;
    let neighbour =
        Uuid::parse_str(neighbour["dataSubjectId"].as_str().expect("an id")).expect("a uuid");
    app.insert_rights_request(&a.access_token, neighbour, "access")
        .await;
    let token = subject_token(Some(own));

    let seen = app
        .graphql_as(
            &token,
            "dataSubject",
            "{ dataSubjects { id } dataSubjectConsentFormValues { dataSubjectId value }
               dataSubjectRightsRequests { id } dataControllers { id }
               dataControllerProcessingPurposes { id } }",
            json!({}),
        )
        .await;
    let data = seen.data();
    assert_eq!(ids(&data["dataSubjects"]), [own.to_string()]);
    assert_eq!(
        data["dataSubjectConsentFormValues"],
        json!([{ "dataSubjectId": own.to_string(), "value": "true" }])
    );
    assert_eq!(data["dataSubjectRightsRequests"], json!([]));
    assert_eq!(ids(&data["dataControllers"]), [a.controller_id.to_string()]);
    assert_eq!(
        ids(&data["dataControllerProcessingPurposes"]),
        [purpose.to_string()]
    );

    let filed = app
        .graphql_as(
            &token,
            "dataSubject",
            "mutation { insertDataSubjectRightsRequest(object: {requestType: \"erasure\"}) { dataSubjectId requestType status } }",
            json!({}),
        )
        .await;
    assert_eq!(
        filed.data()["insertDataSubjectRightsRequest"],
        json!({ "dataSubjectId": own.to_string(), "requestType": "erasure", "status": "submitted" })
    );

    let flagged = app
        .graphql_as(
            &token,
            "dataSubject",
            "mutation { updateDataSubjects(where: {}, _set: {doNotTrack: true}) { affectedRows } }",
            json!({}),
        )
        .await;
    assert_eq!(flagged.data()["updateDataSubjects"]["affectedRows"], 1);
    let neighbour_flagged = app
        .count(
            "SELECT count(*) FROM data_subjects WHERE id = $1 AND do_not_track",
            &[neighbour.into()],
        )
        .await;
    assert_eq!(neighbour_flagged, 0);

    let foreign = app
        .graphql_as(
            &token,
            "dataSubject",
            "mutation ($s: uuid!) { insertDataSubjectRightsRequest(object: {dataSubjectId: $s, requestType: \"access\"}) { id } }",
            json!({ "s": neighbour }),
        )
        .await;
    assert_eq!(
        foreign.error_code(),
        Some("validation-failed"),
        "{}",
        foreign.body
    );
}

#[tokio::test]
async fn data_subject_token_without_subject_id_gets_nothing() {
    let app = app_with_known_secret().await;
    let tenant = app.tenant("a@example.com", "A Shop").await;
    app.insert_subject(&tenant.access_token, tenant.controller_id)
        .await;

    let response = app
        .graphql_as(
            &subject_token(None),
            "dataSubject",
            "{ dataSubjects { id } }",
            json!({}),
        )
        .await;

    assert_eq!(
        response.error_code(),
        Some("access-denied"),
        "{}",
        response.body
    );
}
