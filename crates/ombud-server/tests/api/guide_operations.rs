//! The GraphQL operations that published client code sends, run verbatim
//! against a fresh server, with the values they return checked.

use chrono::{DateTime, Months, Utc};
use serde_json::{Value, json};

use crate::helpers::{ids, parse_uuid, spawn_app};

fn timestamp(value: &Value) -> DateTime<Utc> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("expected a timestamp string, got {value}"));
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|error| panic!("{text:?} is not RFC 3339: {error}"))
        .with_timezone(&Utc)
}

#[tokio::test]
async fn guide_lists_data_controllers() {
    let app = spawn_app().await;
    let tenant = app.tenant("list@example.com", "Acme Shop").await;

    let response = app
        .graphql_user(
            &tenant.access_token,
            "{ dataControllers { id title } }",
            json!({}),
        )
        .await;

    assert_eq!(
        response.data()["dataControllers"],
        json!([{ "id": tenant.controller_id.to_string(), "title": "Acme Shop" }])
    );
}

#[tokio::test]
async fn guide_gets_data_controller_details() {
    let app = spawn_app().await;
    let tenant = app.tenant("details@example.com", "Acme Shop").await;
    let query = "query GetDataControllerDetails($id: uuid!) {
      dataController(id: $id) {
        id
        title
        did
        description
        industry
        createdAt
        updatedAt
        users {
          userId
          role
        }
      }
    }";

    let response = app
        .graphql_user(
            &tenant.access_token,
            query,
            json!({ "id": tenant.controller_id }),
        )
        .await;

    let controller = &response.data()["dataController"];
    assert_eq!(controller["id"], json!(tenant.controller_id.to_string()));
    assert_eq!(controller["title"], json!("Acme Shop"));
    assert_eq!(controller["did"], json!(tenant.controller_did));
    assert_eq!(
        controller["did"],
        json!(ombud_privacy::did_for(&tenant.controller_id))
    );
    assert_eq!(controller["description"], Value::Null);
    assert_eq!(controller["industry"], Value::Null);
    timestamp(&controller["createdAt"]);
    timestamp(&controller["updatedAt"]);
    assert_eq!(
        controller["users"],
        json!([{ "userId": tenant.user_id.to_string(), "role": "owner" }])
    );
}

#[tokio::test]
async fn guide_queries_data_subjects() {
    let app = spawn_app().await;
    let tenant = app.tenant("subjects@example.com", "Acme").await;
    let mut inserted = Vec::new();
    for _ in 0..3 {
        inserted.push(
            app.insert_subject(&tenant.access_token, tenant.controller_id)
                .await,
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let query = "query GetDataSubjects($controllerId: uuid!, $limit: Int = 50) {
      dataSubjects(
        where: { dataControllerId: { _eq: $controllerId } }
        limit: $limit
        orderBy: { createdAt: desc }
      ) {
        id
        did
        createdAt
        updatedAt
        doNotTrack
        globalPrivacyControl
      }
    }";

    let all = app
        .graphql_user(
            &tenant.access_token,
            query,
            json!({ "controllerId": tenant.controller_id, "limit": 100 }),
        )
        .await;
    let limited = app
        .graphql_user(
            &tenant.access_token,
            query,
            json!({ "controllerId": tenant.controller_id, "limit": 2 }),
        )
        .await;
    // Without `limit` the variable's default of 50 applies.
    let defaulted = app
        .graphql_user(
            &tenant.access_token,
            query,
            json!({ "controllerId": tenant.controller_id }),
        )
        .await;

    let rows = &all.data()["dataSubjects"];
    let newest_first: Vec<_> = inserted.iter().rev().copied().collect();
    assert_eq!(ids(rows), newest_first);
    for row in rows.as_array().expect("a list") {
        let did = row["did"].as_str().expect("did is a string");
        let hex = did
            .strip_prefix("did:dep:")
            .unwrap_or_else(|| panic!("{did} lacks did:dep:"));
        assert_eq!(hex.len(), 64, "{did}");
        assert!(
            hex.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
            "{did}"
        );
        assert_eq!(did, ombud_privacy::did_for(&parse_uuid(&row["id"])));
        assert_eq!(row["doNotTrack"], json!(false));
        assert_eq!(row["globalPrivacyControl"], json!(false));
        timestamp(&row["createdAt"]);
        timestamp(&row["updatedAt"]);
    }
    assert_eq!(
        ids(&limited.data()["dataSubjects"]),
        newest_first[..2].to_vec()
    );
    assert_eq!(ids(&defaulted.data()["dataSubjects"]), newest_first);
}

#[tokio::test]
async fn guide_gets_subject_with_consent_values() {
    let app = spawn_app().await;
    let tenant = app.tenant("consents@example.com", "Acme").await;
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
    let recorded = app
        .upsert_consents(
            &tenant.access_token,
            tenant.controller_id,
            None,
            json!({ analytics.to_string(): true, marketing.to_string(): false }),
        )
        .await;
    let subject = parse_uuid(&recorded["dataSubjectId"]);
    let query = "query GetDataSubjectWithConsents($dataSubjectId: uuid!) {
      dataSubject(id: $dataSubjectId) {
        id
        did
        createdAt
        doNotTrack
        globalPrivacyControl
      }
      dataSubjectConsentFormValues(
        where: { dataSubjectId: { _eq: $dataSubjectId } }
      ) {
        id
        value
        createdAt
        updatedAt
        dataControllerProcessingPurposeId
      }
    }";

    let response = app
        .graphql_user(
            &tenant.access_token,
            query,
            json!({ "dataSubjectId": subject }),
        )
        .await;

    let data = response.data();
    assert_eq!(data["dataSubject"]["id"], json!(subject.to_string()));
    assert_eq!(
        data["dataSubject"]["did"],
        json!(ombud_privacy::did_for(&subject))
    );
    assert_eq!(data["dataSubject"]["doNotTrack"], json!(false));
    let values = data["dataSubjectConsentFormValues"]
        .as_array()
        .expect("a list");
    assert_eq!(values.len(), 2, "{}", response.body);
    let value_of = |purpose: uuid::Uuid| {
        values
            .iter()
            .find(|row| row["dataControllerProcessingPurposeId"] == json!(purpose.to_string()))
            .map(|row| row["value"].clone())
    };
    // Values are the strings "true" and "false", not booleans.
    assert_eq!(value_of(analytics), Some(json!("true")));
    assert_eq!(value_of(marketing), Some(json!("false")));
    for row in values {
        parse_uuid(&row["id"]);
        timestamp(&row["createdAt"]);
        timestamp(&row["updatedAt"]);
    }
}

#[tokio::test]
async fn guide_submits_rights_request() {
    let app = spawn_app().await;
    let tenant = app.tenant("dsar@example.com", "Acme").await;
    let subject = app
        .insert_subject(&tenant.access_token, tenant.controller_id)
        .await;
    let mutation =
        "mutation SubmitRightsRequest($input: data_subject_rights_requests_insert_input!) {
      insertDataSubjectRightsRequest(object: $input) {
        id
        requestType
        status
        createdAt
      }
    }";

    let response = app
        .graphql_user(
            &tenant.access_token,
            mutation,
            json!({ "input": { "dataSubjectId": subject, "requestType": "access", "status": "submitted" } }),
        )
        .await;

    let request = &response.data()["insertDataSubjectRightsRequest"];
    let request_id = parse_uuid(&request["id"]);
    assert_eq!(request["requestType"], json!("access"));
    assert_eq!(request["status"], json!("submitted"));
    timestamp(&request["createdAt"]);

    // The controller comes from the subject, and the GDPR deadline is one month after receipt.
    let stored = app
        .graphql_user(
            &tenant.access_token,
            "query ($id: uuid!) { dataSubjectRightsRequest(id: $id) { dataControllerId dataSubjectId receivedAt dueAt verified jurisdiction } }",
            json!({ "id": request_id }),
        )
        .await;
    let stored = &stored.data()["dataSubjectRightsRequest"];
    assert_eq!(
        stored["dataControllerId"],
        json!(tenant.controller_id.to_string())
    );
    assert_eq!(stored["dataSubjectId"], json!(subject.to_string()));
    assert_eq!(stored["verified"], json!(false));
    assert_eq!(stored["jurisdiction"], json!("gdpr"));
    let received = timestamp(&stored["receivedAt"]);
    let due = timestamp(&stored["dueAt"]);
    assert_eq!(Some(due), received.checked_add_months(Months::new(1)));
    assert!(
        (Utc::now() - received).num_seconds().abs() < 60,
        "receivedAt {received} is not the current time"
    );
}

#[tokio::test]
async fn rights_request_short_code_is_canonicalized() {
    let app = spawn_app().await;
    let tenant = app.tenant("codes@example.com", "Acme").await;
    let subject = app
        .insert_subject(&tenant.access_token, tenant.controller_id)
        .await;

    let export = app
        .insert_rights_request(&tenant.access_token, subject, "export")
        .await;
    let rectify = app
        .insert_rights_request(&tenant.access_token, subject, "rectify")
        .await;
    let no_sale = app
        .insert_rights_request(&tenant.access_token, subject, "noSale")
        .await;

    assert_eq!(export["requestType"], json!("portability"));
    assert_eq!(rectify["requestType"], json!("rectification"));
    assert_eq!(no_sale["requestType"], json!("opt_out_of_sale"));
    // Without a status the request starts as submitted.
    assert_eq!(export["status"], json!("submitted"));
    let stored = app
        .text_column(
            "SELECT request_type FROM data_subject_rights_requests WHERE id = $1",
            &[parse_uuid(&export["id"]).into()],
        )
        .await;
    assert_eq!(stored.as_deref(), Some("portability"));
}

#[tokio::test]
async fn rights_request_rejects_unknown_type() {
    let app = spawn_app().await;
    let tenant = app.tenant("badtype@example.com", "Acme").await;
    let subject = app
        .insert_subject(&tenant.access_token, tenant.controller_id)
        .await;

    let response = app
        .graphql_user(
            &tenant.access_token,
            "mutation ($input: data_subject_rights_requests_insert_input!) { insertDataSubjectRightsRequest(object: $input) { id } }",
            json!({ "input": { "dataSubjectId": subject, "requestType": "teleport" } }),
        )
        .await;

    assert_eq!(
        response.error_code(),
        Some("validation-failed"),
        "{}",
        response.body
    );
    let count = app
        .count("SELECT count(*) FROM data_subject_rights_requests", &[])
        .await;
    assert_eq!(count, 0);
}

#[tokio::test]
async fn guide_lists_rights_requests() {
    let app = spawn_app().await;
    let tenant = app.tenant("requests@example.com", "Acme").await;
    let subject = app
        .insert_subject(&tenant.access_token, tenant.controller_id)
        .await;
    let other_subject = app
        .insert_subject(&tenant.access_token, tenant.controller_id)
        .await;
    let first = app
        .insert_rights_request(&tenant.access_token, subject, "access")
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let second = app
        .insert_rights_request(&tenant.access_token, subject, "erasure")
        .await;
    app.insert_rights_request(&tenant.access_token, other_subject, "access")
        .await;
    let query = "query GetRightsRequests($dataSubjectId: uuid!) {
      dataSubjectRightsRequests(
        where: { dataSubjectId: { _eq: $dataSubjectId } }
        orderBy: { createdAt: desc }
      ) {
        id
        requestType
        status
        verified
        createdAt
        updatedAt
      }
    }";

    let response = app
        .graphql_user(
            &tenant.access_token,
            query,
            json!({ "dataSubjectId": subject }),
        )
        .await;

    let rows = &response.data()["dataSubjectRightsRequests"];
    assert_eq!(
        ids(rows),
        vec![parse_uuid(&second["id"]), parse_uuid(&first["id"])]
    );
    assert_eq!(rows[0]["requestType"], json!("erasure"));
    assert_eq!(rows[1]["requestType"], json!("access"));
    assert_eq!(rows[0]["status"], json!("submitted"));
    assert_eq!(rows[0]["verified"], json!(false));
    timestamp(&rows[0]["updatedAt"]);
}

#[tokio::test]
async fn update_consent_value_with_pk_columns() {
    let app = spawn_app().await;
    let tenant = app.tenant("update@example.com", "Acme").await;
    let purpose = app
        .insert_purpose(
            &tenant.access_token,
            tenant.controller_id,
            "Analytics",
            None,
        )
        .await;
    let recorded = app
        .upsert_consents(
            &tenant.access_token,
            tenant.controller_id,
            None,
            json!({ purpose.to_string(): true }),
        )
        .await;
    let subject = parse_uuid(&recorded["dataSubjectId"]);
    let listed = app
        .graphql_user(
            &tenant.access_token,
            "query ($s: uuid!) { dataSubjectConsentFormValues(where: {dataSubjectId: {_eq: $s}}) { id value } }",
            json!({ "s": subject }),
        )
        .await;
    let value_id = parse_uuid(&listed.data()["dataSubjectConsentFormValues"][0]["id"]);
    let events_before = app.count("SELECT count(*) FROM consent_events", &[]).await;

    let response = app
        .graphql_user(
            &tenant.access_token,
            "mutation ($id: uuid!) { updateDataSubjectConsentFormValue(pk_columns: {id: $id}, _set: {value: \"false\"}) { id value } }",
            json!({ "id": value_id }),
        )
        .await;

    let updated = &response.data()["updateDataSubjectConsentFormValue"];
    assert_eq!(updated["id"], json!(value_id.to_string()));
    assert_eq!(updated["value"], json!("false"));
    let stored = app
        .text_column(
            "SELECT value FROM data_subject_consent_form_values WHERE id = $1",
            &[value_id.into()],
        )
        .await;
    assert_eq!(stored.as_deref(), Some("false"));
    // The change is recorded in the consent history.
    let events_after = app.count("SELECT count(*) FROM consent_events", &[]).await;
    assert_eq!(events_after, events_before + 1);
}

#[tokio::test]
async fn update_consent_value_rejects_non_boolean_text() {
    let app = spawn_app().await;
    let tenant = app.tenant("badvalue@example.com", "Acme").await;
    let purpose = app
        .insert_purpose(
            &tenant.access_token,
            tenant.controller_id,
            "Analytics",
            None,
        )
        .await;
    app.upsert_consents(
        &tenant.access_token,
        tenant.controller_id,
        None,
        json!({ purpose.to_string(): true }),
    )
    .await;
    let value_id = app
        .text_column("SELECT id FROM data_subject_consent_form_values", &[])
        .await
        .expect("a consent value exists");

    let response = app
        .graphql_user(
            &tenant.access_token,
            "mutation ($id: uuid!) { updateDataSubjectConsentFormValue(pkColumns: {id: $id}, _set: {value: \"maybe\"}) { id } }",
            json!({ "id": value_id }),
        )
        .await;

    assert_eq!(
        response.error_code(),
        Some("validation-failed"),
        "{}",
        response.body
    );
    let stored = app
        .text_column(
            "SELECT value FROM data_subject_consent_form_values WHERE id = $1",
            &[parse_uuid(&json!(value_id)).into()],
        )
        .await;
    assert_eq!(stored.as_deref(), Some("true"));
}
