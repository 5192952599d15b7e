//! Tenant isolation and membership roles: a staff user reads and writes only
//! the rows of the controllers they belong to, as far as their role allows.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Tenant, TestApp, ids, parse_uuid, spawn_app};

/// One tenant with one row in every controller-owned table.
struct Seeded {
    tenant: Tenant,
    subject: Uuid,
    purpose: Uuid,
    consent_value: Uuid,
    request: Uuid,
}

async fn seed(app: &TestApp, email: &str, title: &str) -> Seeded {
    let tenant = app.tenant(email, title).await;
    let subject = app
        .insert_subject(&tenant.access_token, tenant.controller_id)
        .await;
    let purpose = app
        .insert_purpose(
            &tenant.access_token,
            tenant.controller_id,
            &format!("{title} analytics"),
            None,
        )
        .await;
    app.upsert_consents(
        &tenant.access_token,
        tenant.controller_id,
        Some(subject),
        json!({ purpose.to_string(): true }),
    )
    .await;
    let consent_value = app
        .text_column(
            "SELECT id FROM data_subject_consent_form_values WHERE data_subject_id = $1",
            &[subject.into()],
        )
        .await
        .expect("the consent value was written");
    let request = app
        .insert_rights_request(&tenant.access_token, subject, "access")
        .await;
    Seeded {
        tenant,
        subject,
        purpose,
        consent_value: Uuid::parse_str(&consent_value).expect("stored ids are uuids"),
        request: parse_uuid(&request["id"]),
    }
}

async fn two_tenants(app: &TestApp) -> (Seeded, Seeded) {
    let a = seed(app, "alice@example.com", "A").await;
    let b = seed(app, "bob@example.com", "B").await;
    (a, b)
}

/// Row counts of every controller-owned table, to show a rejected write changed nothing.
async fn table_counts(app: &TestApp) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "data_controllers",
        "data_controller_users",
        "data_subjects",
        "data_controller_processing_purposes",
        "data_subject_consent_form_values",
        "consent_events",
        "data_subject_rights_requests",
    ] {
        counts.push(
            app.count(&format!("SELECT count(*) FROM {table}"), &[])
                .await,
        );
    }
    counts
}

/// Adds `user_id` to `controller_id` with a membership role, through the admin role.
async fn add_member(app: &TestApp, controller_id: Uuid, user_id: Uuid, role: &str) {
    let response = app
        .graphql_admin(
            "mutation ($object: data_controller_users_insert_input!) { insertDataControllerUser(object: $object) { id role } }",
            json!({ "object": { "dataControllerId": controller_id, "userId": user_id, "role": role } }),
        )
        .await;
    assert_eq!(
        response.data()["insertDataControllerUser"]["role"],
        json!(role)
    );
}

/// Signs in a new user who has `role` in `controller_id` and no other membership.
async fn member_token(app: &TestApp, email: &str, controller_id: Uuid, role: &str) -> String {
    let (user_id, personal_access_token) = app.create_user(email).await;
    add_member(app, controller_id, user_id, role).await;
    app.sign_in_pat(&personal_access_token).await.0
}

#[tokio::test]
async fn list_roots_show_only_own_rows() {
    let app = spawn_app().await;
    let (a, b) = two_tenants(&app).await;
    let query = "{
      dataControllers(limit: 5) { id }
      dataControllerUsers { id dataControllerId userId }
      dataSubjects { id }
      dataControllerProcessingPurposes { id }
      dataSubjectConsentFormValues { id }
      dataSubjectRightsRequests { id }
    }";

    let response = app
        .graphql_user(&a.tenant.access_token, query, json!({}))
        .await;

    let data = response.data();
    assert_eq!(ids(&data["dataControllers"]), vec![a.tenant.controller_id]);
    assert_eq!(ids(&data["dataSubjects"]), vec![a.subject]);
    assert_eq!(
        ids(&data["dataControllerProcessingPurposes"]),
        vec![a.purpose]
    );
    assert_eq!(
        ids(&data["dataSubjectConsentFormValues"]),
        vec![a.consent_value]
    );
    assert_eq!(ids(&data["dataSubjectRightsRequests"]), vec![a.request]);
    let memberships = data["dataControllerUsers"].as_array().expect("a list");
    assert_eq!(memberships.len(), 1, "{}", response.body);
    assert_eq!(
        memberships[0]["dataControllerId"],
        json!(a.tenant.controller_id.to_string())
    );
    assert_eq!(
        memberships[0]["userId"],
        json!(a.tenant.user_id.to_string())
    );

    // B's rows exist; A just cannot see them.
    let b_view = app
        .graphql_user(&b.tenant.access_token, "{ dataSubjects { id } }", json!({}))
        .await;
    assert_eq!(ids(&b_view.data()["dataSubjects"]), vec![b.subject]);
}

#[tokio::test]
async fn by_pk_roots_return_null_for_other_tenant() {
    let app = spawn_app().await;
    let (a, b) = two_tenants(&app).await;
    let query = "query ($controller: uuid!, $subject: uuid!, $purpose: uuid!, $value: uuid!, $request: uuid!) {
      dataController(id: $controller) { id }
      dataSubject(id: $subject) { id }
      dataControllerProcessingPurpose(id: $purpose) { id }
      dataSubjectConsentFormValue(id: $value) { id }
      dataSubjectRightsRequest(id: $request) { id }
    }";
    let variables = |seeded: &Seeded| {
        json!({
            "controller": seeded.tenant.controller_id, "subject": seeded.subject, "purpose": seeded.purpose,
            "value": seeded.consent_value, "request": seeded.request,
        })
    };

    let others = app
        .graphql_user(&a.tenant.access_token, query, variables(&b))
        .await;
    let own = app
        .graphql_user(&a.tenant.access_token, query, variables(&a))
        .await;

    let roots = [
        "dataController",
        "dataSubject",
        "dataControllerProcessingPurpose",
        "dataSubjectConsentFormValue",
        "dataSubjectRightsRequest",
    ];
    for root in roots {
        assert_eq!(
            others.data()[root],
            Value::Null,
            "{root} leaked: {}",
            others.body
        );
        assert!(
            own.data()[root]["id"].is_string(),
            "{root} missing for its owner: {}",
            own.body
        );
    }
}

#[tokio::test]
async fn nested_relationships_show_only_own_rows() {
    let app = spawn_app().await;
    let (a, b) = two_tenants(&app).await;
    let query = "{
      dataControllers(limit: 5) {
        id
        dataSubjects(limit: 50) { id consentFormValues { id } rightsRequests { id } }
        processingPurposes(limit: 50) { id consentFormValues { id } }
        rightsRequests { id dataSubject { id } }
        users { userId }
      }
      dataSubjectConsentFormValues { dataSubject { id } dataControllerProcessingPurpose { id } }
    }";

    let response = app
        .graphql_user(&a.tenant.access_token, query, json!({}))
        .await;

    let data = response.data();
    let controllers = data["dataControllers"].as_array().expect("a list");
    assert_eq!(controllers.len(), 1, "{}", response.body);
    let controller = &controllers[0];
    assert_eq!(ids(&controller["dataSubjects"]), vec![a.subject]);
    assert_eq!(
        ids(&controller["dataSubjects"][0]["consentFormValues"]),
        vec![a.consent_value]
    );
    assert_eq!(
        ids(&controller["dataSubjects"][0]["rightsRequests"]),
        vec![a.request]
    );
    assert_eq!(ids(&controller["processingPurposes"]), vec![a.purpose]);
    assert_eq!(
        ids(&controller["processingPurposes"][0]["consentFormValues"]),
        vec![a.consent_value]
    );
    assert_eq!(ids(&controller["rightsRequests"]), vec![a.request]);
    assert_eq!(
        controller["users"],
        json!([{ "userId": a.tenant.user_id.to_string() }])
    );
    let values = data["dataSubjectConsentFormValues"]
        .as_array()
        .expect("a list");
    assert_eq!(values.len(), 1);
    assert_eq!(values[0]["dataSubject"]["id"], json!(a.subject.to_string()));
    assert_eq!(
        values[0]["dataControllerProcessingPurpose"]["id"],
        json!(a.purpose.to_string())
    );
    assert!(!response.body.to_string().contains(&b.subject.to_string()));
}

#[tokio::test]
async fn relationship_filters_cannot_reach_other_tenant() {
    let app = spawn_app().await;
    let (a, b) = two_tenants(&app).await;
    let query = "query ($bTitle: String!, $bController: uuid!, $bSubject: uuid!) {
      byTitle: dataSubjects(where: {dataController: {title: {_eq: $bTitle}}}) { id }
      byControllerId: dataSubjectConsentFormValues(where: {dataSubject: {dataControllerId: {_eq: $bController}}}) { id }
      requests: dataSubjectRightsRequests(where: {dataController: {id: {_eq: $bController}}}) { id }
      controllers: dataControllers(where: {dataSubjects: {id: {_eq: $bSubject}}}) { id }
      either: dataSubjects(where: {_or: [{id: {_eq: $bSubject}}, {dataControllerId: {_eq: $bController}}]}) { id }
      negated: dataSubjects(where: {_not: {dataControllerId: {_eq: $bController}}}) { id }
    }";

    let response = app
        .graphql_user(
            &a.tenant.access_token,
            query,
            json!({ "bTitle": b.tenant.controller_title, "bController": b.tenant.controller_id, "bSubject": b.subject }),
        )
        .await;

    let data = response.data();
    for alias in [
        "byTitle",
        "byControllerId",
        "requests",
        "controllers",
        "either",
    ] {
        assert_eq!(
            data[alias],
            json!([]),
            "{alias} reached B's rows: {}",
            response.body
        );
    }
    assert_eq!(ids(&data["negated"]), vec![a.subject]);
}

#[tokio::test]
async fn insert_subject_into_other_controller_is_denied() {
    let app = spawn_app().await;
    let (a, b) = two_tenants(&app).await;
    let before = table_counts(&app).await;

    let response = app
        .graphql_user(
            &a.tenant.access_token,
            "mutation ($c: uuid!) { insertDataSubject(object: {dataControllerId: $c}) { id } }",
            json!({ "c": b.tenant.controller_id }),
        )
        .await;

    assert_eq!(
        response.error_code(),
        Some("permission-error"),
        "{}",
        response.body
    );
    assert_eq!(table_counts(&app).await, before);
}

#[tokio::test]
async fn insert_many_subjects_is_all_or_nothing() {
    let app = spawn_app().await;
    let (a, b) = two_tenants(&app).await;
    let before = table_counts(&app).await;

    // One allowed row and one forbidden row: the whole insert must fail.
    let response = app
        .graphql_user(
            &a.tenant.access_token,
            "mutation ($a: uuid!, $b: uuid!) { insertDataSubjects(objects: [{dataControllerId: $a}, {dataControllerId: $b}]) { affectedRows } }",
            json!({ "a": a.tenant.controller_id, "b": b.tenant.controller_id }),
        )
        .await;

    assert_eq!(
        response.error_code(),
        Some("permission-error"),
        "{}",
        response.body
    );
    assert_eq!(table_counts(&app).await, before);
}

#[tokio::test]
async fn insert_rights_request_for_other_subject_is_denied() {
    let app = spawn_app().await;
    let (a, b) = two_tenants(&app).await;
    let before = table_counts(&app).await;

    let response = app
        .graphql_user(
            &a.tenant.access_token,
            "mutation ($input: data_subject_rights_requests_insert_input!) { insertDataSubjectRightsRequest(object: $input) { id } }",
            json!({ "input": { "dataSubjectId": b.subject, "requestType": "erasure" } }),
        )
        .await;

    assert_eq!(
        response.error_code(),
        Some("permission-error"),
        "{}",
        response.body
    );
    assert_eq!(table_counts(&app).await, before);
}

#[tokio::test]
async fn insert_purpose_into_other_controller_is_denied() {
    let app = spawn_app().await;
    let (a, b) = two_tenants(&app).await;
    let before = table_counts(&app).await;

    let response = app
        .graphql_user(
            &a.tenant.access_token,
            "mutation ($c: uuid!) { insertDataControllerProcessingPurpose(object: {dataControllerId: $c, title: \"Sneaky\"}) { id } }",
            json!({ "c": b.tenant.controller_id }),
        )
        .await;

    assert_eq!(
        response.error_code(),
        Some("permission-error"),
        "{}",
        response.body
    );
    assert_eq!(table_counts(&app).await, before);
}

const INSERT_CONSENT_VALUE: &str = "mutation ($s: uuid!, $p: uuid!) { insertDataSubjectConsentFormValue(object: \
    {dataSubjectId: $s, dataControllerProcessingPurposeId: $p, value: \"true\"}) { id } }";

#[tokio::test]
async fn insert_consent_value_across_tenants_is_denied() {
    let app = spawn_app().await;
    let (a, b) = two_tenants(&app).await;
    // A purpose of B's for which B's subject has no consent value yet.
    let b_second_purpose = app
        .insert_purpose(
            &b.tenant.access_token,
            b.tenant.controller_id,
            "B marketing",
            None,
        )
        .await;
    let before = table_counts(&app).await;

    let own_subject_other_purpose = app
        .graphql_user(
            &a.tenant.access_token,
            INSERT_CONSENT_VALUE,
            json!({ "s": a.subject, "p": b.purpose }),
        )
        .await;
    let other_subject_other_purpose = app
        .graphql_user(
            &a.tenant.access_token,
            INSERT_CONSENT_VALUE,
            json!({ "s": b.subject, "p": b_second_purpose }),
        )
        .await;

    assert_eq!(
        own_subject_other_purpose.error_code(),
        Some("permission-error"),
        "{}",
        own_subject_other_purpose.body
    );
    assert_eq!(
        other_subject_other_purpose.error_code(),
        Some("permission-error"),
        "{}",
        other_subject_other_purpose.body
    );
    assert_eq!(table_counts(&app).await, before);
}

#[tokio::test]
async fn insert_consent_value_hides_other_tenant_rows() {
    let app = spawn_app().await;
    let (a, b) = two_tenants(&app).await;
    let b_second_purpose = app
        .insert_purpose(
            &b.tenant.access_token,
            b.tenant.controller_id,
            "B marketing",
            None,
        )
        .await;

    // B's subject already has a value for `b.purpose` but none for the second
    // purpose. A must get the same error for both, or A could probe B's consents.
    let existing_pair = app
        .graphql_user(
            &a.tenant.access_token,
            INSERT_CONSENT_VALUE,
            json!({ "s": b.subject, "p": b.purpose }),
        )
        .await;
    let new_pair = app
        .graphql_user(
            &a.tenant.access_token,
            INSERT_CONSENT_VALUE,
            json!({ "s": b.subject, "p": b_second_purpose }),
        )
        .await;

    assert_eq!(
        existing_pair.error_code(),
        new_pair.error_code(),
        "existing: {} new: {}",
        existing_pair.body,
        new_pair.body
    );
    assert_eq!(existing_pair.error_message(), new_pair.error_message());
}

#[tokio::test]
async fn update_other_tenant_rows_changes_nothing() {
    let app = spawn_app().await;
    let (a, b) = two_tenants(&app).await;
    let query = "mutation ($value: uuid!, $controller: uuid!) {
      byPk: updateDataSubjectConsentFormValue(pk_columns: {id: $value}, _set: {value: \"false\"}) { id value }
      byWhere: updateDataSubjectConsentFormValues(where: {id: {_eq: $value}}, _set: {value: \"false\"}) { affectedRows }
      controller: updateDataController(pkColumns: {id: $controller}, _set: {title: \"Taken over\"}) { id }
    }";

    let response = app
        .graphql_user(
            &a.tenant.access_token,
            query,
            json!({ "value": b.consent_value, "controller": b.tenant.controller_id }),
        )
        .await;

    let data = response.data();
    assert_eq!(data["byPk"], Value::Null, "{}", response.body);
    assert_eq!(data["byWhere"]["affectedRows"], json!(0));
    assert_eq!(data["controller"], Value::Null, "{}", response.body);
    let value = app
        .text_column(
            "SELECT value FROM data_subject_consent_form_values WHERE id = $1",
            &[b.consent_value.into()],
        )
        .await;
    assert_eq!(value.as_deref(), Some("true"));
    let title = app
        .text_column(
            "SELECT title FROM data_controllers WHERE id = $1",
            &[b.tenant.controller_id.into()],
        )
        .await;
    assert_eq!(title.as_deref(), Some("B"));
}

#[tokio::test]
async fn unfiltered_update_touches_only_own_rows() {
    let app = spawn_app().await;
    let (a, b) = two_tenants(&app).await;

    let response = app
        .graphql_user(
            &a.tenant.access_token,
            "mutation { updateDataSubjects(where: {}, _set: {doNotTrack: true}) { affectedRows returning { id doNotTrack } } }",
            json!({}),
        )
        .await;

    let result = &response.data()["updateDataSubjects"];
    assert_eq!(result["affectedRows"], json!(1));
    assert_eq!(
        result["returning"],
        json!([{ "id": a.subject.to_string(), "doNotTrack": true }])
    );
    let b_flagged = app
        .count(
            "SELECT count(*) FROM data_subjects WHERE id = $1 AND do_not_track",
            &[b.subject.into()],
        )
        .await;
    assert_eq!(b_flagged, 0);
}

#[tokio::test]
async fn delete_other_tenant_rows_changes_nothing() {
    let app = spawn_app().await;
    let (a, b) = two_tenants(&app).await;
    let before = table_counts(&app).await;
    let query = "mutation ($subject: uuid!, $request: uuid!, $value: uuid!, $purpose: uuid!) {
      subject: deleteDataSubject(id: $subject) { id }
      request: deleteDataSubjectRightsRequest(id: $request) { id }
      value: deleteDataSubjectConsentFormValue(id: $value) { id }
      purpose: deleteDataControllerProcessingPurpose(id: $purpose) { id }
      subjects: deleteDataSubjects(where: {id: {_eq: $subject}}) { affectedRows }
    }";

    let response = app
        .graphql_user(
            &a.tenant.access_token,
            query,
            json!({ "subject": b.subject, "request": b.request, "value": b.consent_value, "purpose": b.purpose }),
        )
        .await;

    let data = response.data();
    for alias in ["subject", "request", "value", "purpose"] {
        assert_eq!(
            data[alias],
            Value::Null,
            "{alias} was deleted: {}",
            response.body
        );
    }
    assert_eq!(data["subjects"]["affectedRows"], json!(0));
    assert_eq!(table_counts(&app).await, before);
}

#[tokio::test]
async fn unfiltered_delete_touches_only_own_rows() {
    let app = spawn_app().await;
    let (a, b) = two_tenants(&app).await;

    let response = app
        .graphql_user(
            &a.tenant.access_token,
            "mutation { deleteDataSubjectRightsRequests(where: {}) { affectedRows } }",
            json!({}),
        )
        .await;

    assert_eq!(
        response.data()["deleteDataSubjectRightsRequests"]["affectedRows"],
        json!(1)
    );
    let remaining = app
        .count(
            "SELECT count(*) FROM data_subject_rights_requests WHERE id = $1",
            &[b.request.into()],
        )
        .await;
    assert_eq!(remaining, 1);
    let own_remaining = app
        .count(
            "SELECT count(*) FROM data_subject_rights_requests WHERE id = $1",
            &[a.request.into()],
        )
        .await;
    assert_eq!(own_remaining, 0);
}

#[tokio::test]
async fn upsert_consents_for_other_controller_is_denied() {
    let app = spawn_app().await;
    let (a, b) = two_tenants(&app).await;
    let before = table_counts(&app).await;
    let mutation = "mutation ($c: uuid!, $s: uuid, $p: jsonb!) { \
                    upsertDataSubjectConsents(dataControllerId: $c, dataSubjectId: $s, purposes: $p) { status } }";

    let other_controller = app
        .graphql_user(
            &a.tenant.access_token,
            mutation,
            json!({ "c": b.tenant.controller_id, "s": b.subject, "p": { b.purpose.to_string(): false } }),
        )
        .await;
    let new_subject_in_other_controller = app
        .graphql_user(
            &a.tenant.access_token,
            mutation,
            json!({ "c": b.tenant.controller_id, "p": { b.purpose.to_string(): false } }),
        )
        .await;
    let own_controller_other_subject = app
        .graphql_user(
            &a.tenant.access_token,
            mutation,
            json!({ "c": a.tenant.controller_id, "s": b.subject, "p": { a.purpose.to_string(): false } }),
        )
        .await;
    let own_controller_other_purpose = app
        .graphql_user(
            &a.tenant.access_token,
            mutation,
            json!({ "c": a.tenant.controller_id, "p": { b.purpose.to_string(): false } }),
        )
        .await;

    assert_eq!(
        other_controller.error_code(),
        Some("permission-error"),
        "{}",
        other_controller.body
    );
    assert_eq!(
        new_subject_in_other_controller.error_code(),
        Some("permission-error"),
        "{}",
        new_subject_in_other_controller.body
    );
    assert!(
        own_controller_other_subject.error_code().is_some(),
        "{}",
        own_controller_other_subject.body
    );
    assert_eq!(
        own_controller_other_purpose.error_code(),
        Some("validation-failed"),
        "{}",
        own_controller_other_purpose.body
    );
    assert_eq!(table_counts(&app).await, before);
    let value = app
        .text_column(
            "SELECT value FROM data_subject_consent_form_values WHERE id = $1",
            &[b.consent_value.into()],
        )
        .await;
    assert_eq!(value.as_deref(), Some("true"));
}

#[tokio::test]
async fn viewer_reads_subjects_but_cannot_write() {
    let app = spawn_app().await;
    let (a, b) = two_tenants(&app).await;
    let viewer = member_token(&app, "viewer@example.com", a.tenant.controller_id, "viewer").await;
    let before = table_counts(&app).await;

    let read = app
        .graphql_user(&viewer, "{ dataControllers { id } dataSubjects { id } dataSubjectConsentFormValues { id } dataSubjectRightsRequests { id } }", json!({}))
        .await;
    let insert = app
        .graphql_user(
            &viewer,
            "mutation ($c: uuid!) { insertDataSubject(object: {dataControllerId: $c}) { id } }",
            json!({ "c": a.tenant.controller_id }),
        )
        .await;
    let upsert = app
        .graphql_user(
            &viewer,
            "mutation ($c: uuid!, $p: jsonb!) { upsertDataSubjectConsents(dataControllerId: $c, purposes: $p) { status } }",
            json!({ "c": a.tenant.controller_id, "p": { a.purpose.to_string(): false } }),
        )
        .await;
    let update = app
        .graphql_user(
            &viewer,
            "mutation ($id: uuid!) { updateDataSubjectConsentFormValue(pk_columns: {id: $id}, _set: {value: \"false\"}) { id } }",
            json!({ "id": a.consent_value }),
        )
        .await;

    let data = read.data();
    assert_eq!(ids(&data["dataControllers"]), vec![a.tenant.controller_id]);
    assert_eq!(ids(&data["dataSubjects"]), vec![a.subject]);
    assert_eq!(
        ids(&data["dataSubjectConsentFormValues"]),
        vec![a.consent_value]
    );
    assert_eq!(ids(&data["dataSubjectRightsRequests"]), vec![a.request]);
    assert!(!read.body.to_string().contains(&b.subject.to_string()));
    assert_eq!(
        insert.error_code(),
        Some("permission-error"),
        "{}",
        insert.body
    );
    assert_eq!(
        upsert.error_code(),
        Some("permission-error"),
        "{}",
        upsert.body
    );
    assert_eq!(
        update.data()["updateDataSubjectConsentFormValue"],
        Value::Null
    );
    assert_eq!(table_counts(&app).await, before);
}

#[tokio::test]
async fn developer_cannot_read_subjects() {
    let app = spawn_app().await;
    let (a, _b) = two_tenants(&app).await;
    let developer = member_token(
        &app,
        "developer@example.com",
        a.tenant.controller_id,
        "developer",
    )
    .await;

    let response = app
        .graphql_user(
            &developer,
            "query ($s: uuid!) {
              dataControllers { id }
              dataControllerProcessingPurposes { id }
              dataSubjects { id }
              dataSubject(id: $s) { id }
              dataSubjectConsentFormValues { id }
              dataSubjectRightsRequests { id }
            }",
            json!({ "s": a.subject }),
        )
        .await;

    let data = response.data();
    assert_eq!(ids(&data["dataControllers"]), vec![a.tenant.controller_id]);
    assert_eq!(
        ids(&data["dataControllerProcessingPurposes"]),
        vec![a.purpose]
    );
    assert_eq!(data["dataSubjects"], json!([]));
    assert_eq!(data["dataSubject"], Value::Null);
    assert_eq!(data["dataSubjectConsentFormValues"], json!([]));
    assert_eq!(data["dataSubjectRightsRequests"], json!([]));
}

#[tokio::test]
async fn user_without_membership_sees_nothing() {
    let app = spawn_app().await;
    let (_a, _b) = two_tenants(&app).await;
    let (_, personal_access_token) = app.create_user("outsider@example.com").await;
    let (access_token, _) = app.sign_in_pat(&personal_access_token).await;

    let response = app
        .graphql_user(&access_token, "{ dataControllers { id } dataSubjects { id } dataControllerProcessingPurposes { id } }", json!({}))
        .await;

    let data = response.data();
    assert_eq!(data["dataControllers"], json!([]));
    assert_eq!(data["dataSubjects"], json!([]));
    assert_eq!(data["dataControllerProcessingPurposes"], json!([]));
}

#[tokio::test]
async fn admin_secret_sees_every_tenant() {
    let app = spawn_app().await;
    let (a, b) = two_tenants(&app).await;

    let response = app
        .graphql_admin(
            "{ dataSubjects(orderBy: {createdAt: asc}) { id } }",
            json!({}),
        )
        .await;

    assert_eq!(
        ids(&response.data()["dataSubjects"]),
        vec![a.subject, b.subject]
    );
}
