//! The `upsertDataSubjectConsents` action: both argument forms, the signed
//! consent cookie, and rejection of bad purposes without partial writes.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Tenant, TestApp, parse_uuid, spawn_app};

const OUTPUT: &str = "status message data { dataSubjectId upsertedCount consentCookie }";

/// Fetches the first key of the server's JWKS document.
async fn published_jwk(app: &TestApp) -> Value {
    let jwks = app.get_json("/v1/.well-known/jwks.json").await;
    jwks.body["keys"][0].clone()
}

async fn consent_rows(app: &TestApp) -> (i64, i64, i64) {
    (
        app.count("SELECT count(*) FROM data_subject_consent_form_values", &[])
            .await,
        app.count("SELECT count(*) FROM consent_events", &[]).await,
        app.count("SELECT count(*) FROM data_subjects", &[]).await,
    )
}

async fn tenant_with_purposes(app: &TestApp, email: &str) -> (Tenant, Uuid, Uuid) {
    let tenant = app.tenant(email, "Acme").await;
    let analytics = app
        .insert_purpose(
            &tenant.access_token,
            tenant.controller_id,
            "Analytics",
            None,
        )
        .await;
    let marketing = app
        .insert_purpose(
            &tenant.access_token,
            tenant.controller_id,
            "Marketing",
            None,
        )
        .await;
    (tenant, analytics, marketing)
}

#[tokio::test]
async fn upsert_flat_arguments_creates_subject() {
    let app = spawn_app().await;
    let (tenant, analytics, marketing) = tenant_with_purposes(&app, "flat@example.com").await;
    let mutation = format!(
        "mutation UpsertConsents($dataControllerId: uuid!, $purposes: jsonb!, $dataSubjectId: uuid) {{
          upsertDataSubjectConsents(dataControllerId: $dataControllerId, purposes: $purposes, dataSubjectId: $dataSubjectId) {{ {OUTPUT} }}
        }}"
    );
    let purposes = json!({ analytics.to_string(): true, marketing.to_string(): false });

    let response = app
        .graphql_user(
            &tenant.access_token,
            &mutation,
            json!({ "dataControllerId": tenant.controller_id, "purposes": purposes }),
        )
        .await;

    let output = &response.data()["upsertDataSubjectConsents"];
    assert_eq!(output["status"], json!("success"));
    assert_eq!(output["message"], json!("upsertDataSubjectConsents"));
    assert_eq!(output["data"]["upsertedCount"], json!(2));
    let subject = parse_uuid(&output["data"]["dataSubjectId"]);
    let controller = app
        .text_column(
            "SELECT data_controller_id FROM data_subjects WHERE id = $1",
            &[subject.into()],
        )
        .await;
    assert_eq!(controller, Some(tenant.controller_id.to_string()));
    let did = app
        .text_column(
            "SELECT did FROM data_subjects WHERE id = $1",
            &[subject.into()],
        )
        .await;
    assert_eq!(did, Some(ombud_privacy::did_for(&subject)));

    let cookie = output["data"]["consentCookie"]
        .as_str()
        .expect("consentCookie is a string");
    let claims = ombud_privacy::verify(cookie, &published_jwk(&app).await)
        .expect("the cookie verifies with the JWKS key");
    assert_eq!(claims.sub, subject);
    assert_eq!(claims.data_controller_id, tenant.controller_id);
    assert_eq!(claims.purposes.get(&analytics.to_string()), Some(&true));
    assert_eq!(claims.purposes.get(&marketing.to_string()), Some(&false));
    assert_eq!(claims.purposes.len(), 2);
    assert!(
        (chrono::Utc::now().timestamp() - claims.iat).abs() < 60,
        "iat {} is not now",
        claims.iat
    );

    let (values, events, _) = consent_rows(&app).await;
    assert_eq!(values, 2);
    assert_eq!(events, 2);
}

#[tokio::test]
async fn upsert_input_object_updates_existing_subject() {
    let app = spawn_app().await;
    let (tenant, analytics, marketing) = tenant_with_purposes(&app, "input@example.com").await;
    let first = app
        .upsert_consents(
            &tenant.access_token,
            tenant.controller_id,
            None,
            json!({ analytics.to_string(): true, marketing.to_string(): true }),
        )
        .await;
    let subject = parse_uuid(&first["dataSubjectId"]);
    let mutation = format!(
        "mutation UpsertConsents($input: UpsertDataSubjectConsentsInput!) {{
          upsertDataSubjectConsents(input: $input) {{ {OUTPUT} }}
        }}"
    );

    let response = app
        .graphql_user(
            &tenant.access_token,
            &mutation,
            json!({ "input": {
                "dataControllerId": tenant.controller_id,
                "dataSubjectId": subject,
                "purposes": { marketing.to_string(): false },
            }}),
        )
        .await;

    let output = &response.data()["upsertDataSubjectConsents"];
    assert_eq!(output["status"], json!("success"));
    assert_eq!(output["data"]["dataSubjectId"], json!(subject.to_string()));
    assert_eq!(output["data"]["upsertedCount"], json!(1));
    let cookie = output["data"]["consentCookie"]
        .as_str()
        .expect("consentCookie is a string");
    let claims =
        ombud_privacy::verify(cookie, &published_jwk(&app).await).expect("the cookie verifies");
    assert_eq!(claims.sub, subject);
    assert_eq!(claims.purposes.get(&marketing.to_string()), Some(&false));

    let stored = |purpose: Uuid| {
        let app = &app;
        async move {
            app.text_column(
                "SELECT value FROM data_subject_consent_form_values WHERE data_subject_id = $1 \
                 AND data_controller_processing_purpose_id = $2",
                &[subject.into(), purpose.into()],
            )
            .await
        }
    };
    assert_eq!(stored(analytics).await.as_deref(), Some("true"));
    assert_eq!(stored(marketing).await.as_deref(), Some("false"));
    // One row per purpose: the second call updated, it did not add.
    let (values, events, subjects) = consent_rows(&app).await;
    assert_eq!(values, 2);
    assert_eq!(events, 3);
    assert_eq!(subjects, 1);
}

#[tokio::test]
async fn upsert_accepts_named_input_argument() {
    let app = spawn_app().await;
    let (tenant, analytics, _) = tenant_with_purposes(&app, "named@example.com").await;

    let response = app
        .graphql_user(
            &tenant.access_token,
            &format!(
                "mutation ($input: UpsertDataSubjectConsentsInput!) {{ \
                   upsertDataSubjectConsents(upsertDataSubjectConsentsInput: $input) {{ {OUTPUT} }} }}"
            ),
            json!({ "input": { "dataControllerId": tenant.controller_id, "purposes": { analytics.to_string(): true } } }),
        )
        .await;

    assert_eq!(
        response.data()["upsertDataSubjectConsents"]["data"]["upsertedCount"],
        json!(1)
    );
}

#[tokio::test]
async fn upsert_rejects_both_argument_forms() {
    let app = spawn_app().await;
    let (tenant, analytics, _) = tenant_with_purposes(&app, "both@example.com").await;
    let purposes = json!({ analytics.to_string(): true });

    let response = app
        .graphql_user(
            &tenant.access_token,
            "mutation ($c: uuid!, $p: jsonb!, $input: UpsertDataSubjectConsentsInput!) { \
               upsertDataSubjectConsents(dataControllerId: $c, purposes: $p, input: $input) { status } }",
            json!({ "c": tenant.controller_id, "p": purposes, "input": { "dataControllerId": tenant.controller_id, "purposes": purposes } }),
        )
        .await;

    assert_eq!(
        response.error_code(),
        Some("validation-failed"),
        "{}",
        response.body
    );
    assert_eq!(consent_rows(&app).await, (0, 0, 0));
}

#[tokio::test]
async fn upsert_unknown_purpose_writes_nothing() {
    let app = spawn_app().await;
    let (tenant, analytics, _) = tenant_with_purposes(&app, "unknown@example.com").await;
    let subject = app
        .insert_subject(&tenant.access_token, tenant.controller_id)
        .await;
    let before = consent_rows(&app).await;
    let unknown = Uuid::new_v4();

    // A known purpose next to an unknown one: neither may be written.
    let response = app
        .graphql_user(
            &tenant.access_token,
            "mutation ($c: uuid!, $s: uuid, $p: jsonb!) { \
               upsertDataSubjectConsents(dataControllerId: $c, dataSubjectId: $s, purposes: $p) { status } }",
            json!({ "c": tenant.controller_id, "s": subject, "p": { analytics.to_string(): true, unknown.to_string(): true } }),
        )
        .await;

    assert_eq!(
        response.error_code(),
        Some("validation-failed"),
        "{}",
        response.body
    );
    assert!(
        response.error_message().contains(&unknown.to_string()),
        "{}",
        response.body
    );
    assert_eq!(consent_rows(&app).await, before);
}

#[tokio::test]
async fn upsert_unknown_purpose_creates_no_subject() {
    let app = spawn_app().await;
    let (tenant, _, _) = tenant_with_purposes(&app, "nosubject@example.com").await;

    let response = app
        .graphql_user(
            &tenant.access_token,
            "mutation ($c: uuid!, $p: jsonb!) { upsertDataSubjectConsents(dataControllerId: $c, purposes: $p) { status } }",
            json!({ "c": tenant.controller_id, "p": { Uuid::new_v4().to_string(): false } }),
        )
        .await;

    assert_eq!(
        response.error_code(),
        Some("validation-failed"),
        "{}",
        response.body
    );
    assert_eq!(consent_rows(&app).await, (0, 0, 0));
}

#[tokio::test]
async fn upsert_rejects_non_boolean_value() {
    let app = spawn_app().await;
    let (tenant, analytics, marketing) = tenant_with_purposes(&app, "nonbool@example.com").await;

    let response = app
        .graphql_user(
            &tenant.access_token,
            "mutation ($c: uuid!, $p: jsonb!) { upsertDataSubjectConsents(dataControllerId: $c, purposes: $p) { status } }",
            json!({ "c": tenant.controller_id, "p": { analytics.to_string(): true, marketing.to_string(): "yes" } }),
        )
        .await;

    assert_eq!(
        response.error_code(),
        Some("validation-failed"),
        "{}",
        response.body
    );
    assert_eq!(consent_rows(&app).await, (0, 0, 0));
}

#[tokio::test]
async fn upsert_variable_field_access_is_explained() {
    let app = spawn_app().await;
    let (tenant, analytics, _) = tenant_with_purposes(&app, "guide@example.com").await;
    // The document as published, which is not valid GraphQL.
    let mutation = "mutation UpsertConsents($input: UpsertDataSubjectConsentsInput!) {
      upsertDataSubjectConsents(
        dataControllerId: $input.dataControllerId
        purposes: $input.purposes
        dataSubjectId: $input.dataSubjectId
      ) {
        status
        message
        data {
          dataSubjectId
          upsertedCount
          consentCookie
        }
      }
    }";

    let response = app
        .graphql_user(
            &tenant.access_token,
            mutation,
            json!({ "input": { "dataControllerId": tenant.controller_id, "purposes": { analytics.to_string(): true } } }),
        )
        .await;

    assert_eq!(response.status, reqwest::StatusCode::OK);
    assert_eq!(
        response.error_code(),
        Some("validation-failed"),
        "{}",
        response.body
    );
    let message = response.error_message();
    assert!(message.contains("$input.dataControllerId"), "{message}");
    assert!(
        message.contains("upsertDataSubjectConsents(input: $input)"),
        "{message}"
    );
    assert_eq!(consent_rows(&app).await, (0, 0, 0));
}

#[tokio::test]
async fn consent_history_is_readable_by_its_controller_only() {
    let app = spawn_app().await;
    let a = app.tenant("history-a@example.com", "A Shop").await;
    let b = app.tenant("history-b@example.com", "B Shop").await;
    let purpose = app
        .insert_purpose(&a.access_token, a.controller_id, "Analytics", None)
        .await;
    let first = app
        .upsert_consents(
            &a.access_token,
            a.controller_id,
            None,
            json!({ purpose.to_string(): true }),
        )
        .await;
    let subject = first["dataSubjectId"].clone();
    app.upsert_consents(
        &a.access_token,
        a.controller_id,
        Some(parse_uuid(&subject)),
        json!({ purpose.to_string(): false }),
    )
    .await;
    let query = "query ($s: uuid!) { consentEvents(where: {dataSubjectId: {_eq: $s}}, orderBy: {createdAt: asc}) {
                   value previousValue method dataControllerProcessingPurpose { title } } }";

    let own = app
        .graphql_user(&a.access_token, query, json!({ "s": subject }))
        .await;
    let foreign = app
        .graphql_user(&b.access_token, query, json!({ "s": subject }))
        .await;

    let events = &own.data()["consentEvents"];
    assert_eq!(events.as_array().map(Vec::len), Some(2), "{events}");
    assert_eq!(events[0]["previousValue"], Value::Null);
    assert_eq!(events[1]["value"], "false");
    assert_eq!(events[1]["previousValue"], "true");
    assert_eq!(
        events[1]["dataControllerProcessingPurpose"]["title"],
        "Analytics"
    );
    assert_eq!(foreign.data()["consentEvents"], json!([]));
}
