//! `onConflict` on inserts: update the existing row, leave it alone, or
//! refuse, without reaching another tenant's rows.

use serde_json::{Value, json};

use crate::helpers::{Tenant, TestApp, parse_uuid, spawn_app};

const CONSENT_KEY: &str =
    "data_subject_consent_form_values_data_subject_id_data_controller_processing_purpose_id_key";

/// Creates a tenant with a purpose and a subject whose consent for it is `false`.
async fn tenant_with_consent(app: &TestApp, email: &str) -> (Tenant, Value, Value) {
    let tenant = app.tenant(email, "Upsert Shop").await;
    let purpose = app
        .insert_purpose(
            &tenant.access_token,
            tenant.controller_id,
            "Analytics",
            None,
        )
        .await;
    let created = app
        .upsert_consents(
            &tenant.access_token,
            tenant.controller_id,
            None,
            json!({ purpose.to_string(): false }),
        )
        .await;
    (tenant, json!(purpose), created["dataSubjectId"].clone())
}

async fn upsert(
    app: &TestApp,
    tenant: &Tenant,
    subject: &Value,
    purpose: &Value,
    on_conflict: Value,
) -> crate::helpers::GraphqlResponse {
    app.graphql_user(
        &tenant.access_token,
        "mutation ($object: data_subject_consent_form_values_insert_input!, $conflict: data_subject_consent_form_values_on_conflict) {
           insertDataSubjectConsentFormValues(objects: [$object], onConflict: $conflict) { affectedRows returning { value } } }",
        json!({
            "object": { "dataSubjectId": subject, "dataControllerProcessingPurposeId": purpose, "value": "true" },
            "conflict": on_conflict,
        }),
    )
    .await
}

async fn stored_value(app: &TestApp, subject: &Value) -> Option<String> {
    app.text_column(
        "SELECT value FROM data_subject_consent_form_values WHERE data_subject_id = $1",
        &[parse_uuid(subject).into()],
    )
    .await
}

#[tokio::test]
async fn on_conflict_updates_the_existing_row() {
    let app = spawn_app().await;
    let (tenant, purpose, subject) = tenant_with_consent(&app, "a@example.com").await;
    let events_before = app.count("SELECT count(*) FROM consent_events", &[]).await;

    let response = upsert(
        &app,
        &tenant,
        &subject,
        &purpose,
        json!({ "constraint": CONSENT_KEY, "update_columns": ["value"] }),
    )
    .await;

    let result = &response.data()["insertDataSubjectConsentFormValues"];
    assert_eq!(result["affectedRows"], 1);
    assert_eq!(result["returning"], json!([{ "value": "true" }]));
    assert_eq!(stored_value(&app, &subject).await.as_deref(), Some("true"));
    let rows = app
        .count("SELECT count(*) FROM data_subject_consent_form_values", &[])
        .await;
    assert_eq!(rows, 1);
    let previous = app
        .text_column(
            "SELECT previous_value FROM consent_events ORDER BY created_at DESC, id LIMIT 1",
            &[],
        )
        .await;
    assert_eq!(previous.as_deref(), Some("false"));
    assert_eq!(
        app.count("SELECT count(*) FROM consent_events", &[]).await,
        events_before + 1
    );
}

#[tokio::test]
async fn on_conflict_no_update() {
    let app = spawn_app().await;
    let (tenant, purpose, subject) = tenant_with_consent(&app, "a@example.com").await;

    for on_conflict in [
        json!({ "constraint": CONSENT_KEY }),
        json!({ "constraint": CONSENT_KEY, "update_columns": ["value"], "where": { "value": { "_eq": "true" } } }),
    ] {
        let response = upsert(&app, &tenant, &subject, &purpose, on_conflict.clone()).await;
        let result = &response.data()["insertDataSubjectConsentFormValues"];
        assert_eq!(result["affectedRows"], 0, "{on_conflict}");
        assert_eq!(result["returning"], json!([]), "{on_conflict}");
        assert_eq!(stored_value(&app, &subject).await.as_deref(), Some("false"));
    }
}

#[tokio::test]
async fn on_conflict_unknown_names() {
    let app = spawn_app().await;
    let (tenant, purpose, subject) = tenant_with_consent(&app, "a@example.com").await;

    for on_conflict in [
        json!({ "constraint": CONSENT_KEY, "update_columns": ["dataSubjectId"] }),
        json!({ "constraint": "users_email_key" }),
    ] {
        let response = upsert(&app, &tenant, &subject, &purpose, on_conflict.clone()).await;
        assert_eq!(
            response.error_code(),
            Some("validation-failed"),
            "{on_conflict}: {}",
            response.body
        );
    }
    assert_eq!(stored_value(&app, &subject).await.as_deref(), Some("false"));
}

#[tokio::test]
async fn on_conflict_cannot_reach_another_tenants_row() {
    let app = spawn_app().await;
    let (_, purpose_b, subject_b) = tenant_with_consent(&app, "b@example.com").await;
    let intruder = app.tenant("a@example.com", "A Shop").await;

    let response = upsert(
        &app,
        &intruder,
        &subject_b,
        &purpose_b,
        json!({ "constraint": CONSENT_KEY, "update_columns": ["value"] }),
    )
    .await;

    assert_eq!(
        response.error_code(),
        Some("permission-error"),
        "{}",
        response.body
    );
    assert_eq!(
        stored_value(&app, &subject_b).await.as_deref(),
        Some("false")
    );
}
