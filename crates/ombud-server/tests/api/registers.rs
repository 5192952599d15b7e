//! The registers (data processors, privacy notices, processing activities),
//! data subject identifiers and the audit log: writes through GraphQL, tenant
//! isolation, membership roles, and the audit rows every write leaves behind.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Tenant, TestApp, ids, parse_uuid, spawn_app};

const INSERT_PROCESSOR: &str = "mutation ($object: data_processors_insert_input!) { \
    insertDataProcessor(object: $object) { id name purposes dataCategories locations transferSafeguard dpaUrl dataControllerId } }";
const INSERT_NOTICE: &str = "mutation ($object: privacy_notices_insert_input!) { \
    insertPrivacyNotice(object: $object) { id kind language version title body publishedAt } }";
const INSERT_ACTIVITY: &str = "mutation ($object: processing_activities_insert_input!) { \
    insertProcessingActivity(object: $object) { id dataControllerId dataSubjectId dataControllerProcessingPurposeId activity source occurredAt } }";
const INSERT_IDENTIFIER: &str = "mutation ($object: data_subject_identifiers_insert_input!) { \
    insertDataSubjectIdentifier(object: $object) { id dataSubjectId kind valueHash source } }";

/// Returns a random 64-digit hex string, the form of an HMAC-SHA256.
fn value_hash() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

/// One tenant with one row in each register and one identifier.
struct Seeded {
    tenant: Tenant,
    subject: Uuid,
    purpose: Uuid,
    processor: Uuid,
    notice: Uuid,
    activity: Uuid,
    identifier: Uuid,
    identifier_hash: String,
}

async fn insert_row(app: &TestApp, token: &str, mutation: &str, object: Value) -> Value {
    let response = app
        .graphql_user(token, mutation, json!({ "object": object }))
        .await;
    let data = response.data().as_object().expect("a data object");
    data.values().next().expect("one root field").clone()
}

async fn seed(app: &TestApp, email: &str, title: &str) -> Seeded {
    let tenant = app.tenant(email, title).await;
    let token = tenant.access_token.clone();
    let controller = tenant.controller_id;
    let subject = app.insert_subject(&token, controller).await;
    let purpose = app
        .insert_purpose(&token, controller, &format!("{title} analytics"), None)
        .await;

    let processor = insert_row(
        app,
        &token,
        INSERT_PROCESSOR,
        json!({ "dataControllerId": controller, "name": format!("{title} hosting"), "locations": ["de"] }),
    )
    .await;
    let notice = insert_row(
        app,
        &token,
        INSERT_NOTICE,
        json!({ "dataControllerId": controller, "kind": "privacy_policy", "language": "en",
                "version": "1", "body": format!("# {title} privacy policy") }),
    )
    .await;
    let activity = insert_row(
        app,
        &token,
        INSERT_ACTIVITY,
        json!({ "dataControllerId": controller, "dataSubjectId": subject,
                "dataControllerProcessingPurposeId": purpose, "activity": "newsletter sent", "source": "mailchimp" }),
    )
    .await;

    let identifier_hash = value_hash();
    let identifier = insert_row(
        app,
        &token,
        INSERT_IDENTIFIER,
        json!({ "dataSubjectId": subject, "kind": "email", "valueHash": identifier_hash, "source": "shop" }),
    )
    .await;

    Seeded {
        tenant,
        subject,
        purpose,
        processor: parse_uuid(&processor["id"]),
        notice: parse_uuid(&notice["id"]),
        activity: parse_uuid(&activity["id"]),
        identifier: parse_uuid(&identifier["id"]),
        identifier_hash,
    }
}

async fn two_tenants(app: &TestApp) -> (Seeded, Seeded) {
    let a = seed(app, "alice@example.com", "A").await;
    let b = seed(app, "bob@example.com", "B").await;
    (a, b)
}

/// Row counts of the new tables, to show that a rejected write changed nothing.
async fn register_counts(app: &TestApp) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "data_processors",
        "privacy_notices",
        "processing_activities",
        "data_subject_identifiers",
        "audit_log",
    ] {
        counts.push(
            app.count(&format!("SELECT count(*) FROM {table}"), &[])
                .await,
        );
    }
    counts
}

/// Signs in a new user who has `role` in `controller_id` and no other membership.
async fn member_token(app: &TestApp, email: &str, controller_id: Uuid, role: &str) -> String {
    let (user_id, personal_access_token) = app.create_user(email).await;
    let response = app
        .graphql_admin(
            "mutation ($object: data_controller_users_insert_input!) { insertDataControllerUser(object: $object) { id } }",
            json!({ "object": { "dataControllerId": controller_id, "userId": user_id, "role": role } }),
        )
        .await;
    assert!(response.data()["insertDataControllerUser"]["id"].is_string());
    app.sign_in_pat(&personal_access_token).await.0
}

/// Reads the audit rows of one written row, oldest first, through the admin role.
async fn audit_rows(app: &TestApp, row_id: Uuid) -> Vec<Value> {
    let response = app
        .graphql_admin(
            "query ($row: uuid!) { auditLogs(where: {rowId: {_eq: $row}}, orderBy: {createdAt: asc}) { \
               id dataControllerId actorUserId actorRole operation tableName rowId changedColumns changes createdAt } }",
            json!({ "row": row_id }),
        )
        .await;
    response.data()["auditLogs"]
        .as_array()
        .expect("a list")
        .clone()
}

/// Reads the audit row of `operation` on `row_id` and fails unless there is exactly one.
async fn audit_row(app: &TestApp, row_id: Uuid, operation: &str) -> Value {
    let rows: Vec<Value> = audit_rows(app, row_id)
        .await
        .into_iter()
        .filter(|row| row["operation"] == json!(operation))
        .collect();
    assert_eq!(rows.len(), 1, "{operation} rows of {row_id}: {rows:?}");
    rows[0].clone()
}

fn field_set(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("expected a list, got {list}"))
        .iter()
        .map(|item| item.as_str().expect("a field name").to_owned())
        .collect()
}

fn fields(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

#[tokio::test]
async fn data_processor_crud_as_user() {
    let app = spawn_app().await;
    let tenant = app.tenant("alice@example.com", "A").await;
    let token = &tenant.access_token;

    let inserted = insert_row(
        &app,
        token,
        INSERT_PROCESSOR,
        json!({ "dataControllerId": tenant.controller_id, "name": "Mail provider",
                "purposes": ["newsletter", "transactional mail"], "dataCategories": ["email address"],
                "locations": ["de", "US"], "transferSafeguard": "standard_contractual_clauses",
                "dpaUrl": "https://mail.example/dpa" }),
    )
    .await;
    let id = parse_uuid(&inserted["id"]);
    let bare = insert_row(
        &app,
        token,
        INSERT_PROCESSOR,
        json!({ "dataControllerId": tenant.controller_id, "name": "Analytics" }),
    )
    .await;

    assert_eq!(inserted["locations"], json!(["DE", "US"]));
    assert_eq!(
        inserted["purposes"],
        json!(["newsletter", "transactional mail"])
    );
    assert_eq!(inserted["dataCategories"], json!(["email address"]));
    assert_eq!(
        inserted["transferSafeguard"],
        json!("standard_contractual_clauses")
    );
    assert_eq!(
        inserted["dataControllerId"],
        json!(tenant.controller_id.to_string())
    );
    assert_eq!(bare["purposes"], json!([]));
    assert_eq!(bare["locations"], json!([]));
    assert_eq!(bare["transferSafeguard"], Value::Null);

    let read = app
        .graphql_user(
            token,
            "query ($id: uuid!) {
              dataProcessor(id: $id) { id name dataController { id } }
              dataControllers { dataProcessors(orderBy: {name: asc}) { name } }
            }",
            json!({ "id": id }),
        )
        .await;
    let data = read.data();
    assert_eq!(data["dataProcessor"]["name"], json!("Mail provider"));
    assert_eq!(
        data["dataProcessor"]["dataController"]["id"],
        json!(tenant.controller_id.to_string())
    );
    assert_eq!(
        data["dataControllers"][0]["dataProcessors"],
        json!([{ "name": "Analytics" }, { "name": "Mail provider" }])
    );

    let updated = app
        .graphql_user(
            token,
            "mutation ($id: uuid!) { updateDataProcessor(pkColumns: {id: $id}, _set: {name: \"Mailer\", locations: [\"fr\"], transferSafeguard: null}) { name locations transferSafeguard } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        updated.data()["updateDataProcessor"],
        json!({ "name": "Mailer", "locations": ["FR"], "transferSafeguard": null })
    );

    let deleted = app
        .graphql_user(
            token,
            "mutation ($id: uuid!) { deleteDataProcessor(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        deleted.data()["deleteDataProcessor"]["id"],
        json!(id.to_string())
    );
    let remaining = app
        .count(
            "SELECT count(*) FROM data_processors WHERE id = $1",
            &[id.into()],
        )
        .await;
    assert_eq!(remaining, 0);
}

#[tokio::test]
async fn privacy_notice_crud_as_user() {
    let app = spawn_app().await;
    let tenant = app.tenant("alice@example.com", "A").await;
    let token = &tenant.access_token;
    let object = json!({ "dataControllerId": tenant.controller_id, "kind": "cookie_policy",
                         "language": "de-ch", "version": "2026-01", "title": "Cookies",
                         "body": "# Cookies\n\nWe use **two** cookies." });

    let inserted = insert_row(&app, token, INSERT_NOTICE, object.clone()).await;
    let id = parse_uuid(&inserted["id"]);
    let duplicate = app
        .graphql_user(token, INSERT_NOTICE, json!({ "object": object }))
        .await;

    assert_eq!(inserted["language"], json!("de-CH"));
    assert_eq!(inserted["kind"], json!("cookie_policy"));
    assert_eq!(
        inserted["body"],
        json!("# Cookies\n\nWe use **two** cookies.")
    );
    assert_eq!(inserted["publishedAt"], Value::Null);
    assert_eq!(
        duplicate.error_code(),
        Some("constraint-violation"),
        "{}",
        duplicate.body
    );

    let published = app
        .graphql_user(
            token,
            "mutation ($id: uuid!) { updatePrivacyNotice(pk_columns: {id: $id}, _set: {publishedAt: \"2026-02-01T09:00:00Z\", title: \"Cookie policy\"}) { title publishedAt } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        published.data()["updatePrivacyNotice"],
        json!({ "title": "Cookie policy", "publishedAt": "2026-02-01T09:00:00.000000+00:00" })
    );

    let read = app
        .graphql_user(
            token,
            "{ privacyNotices(where: {publishedAt: {_is_null: false}}) { id } dataControllers { privacyNotices { language version } } }",
            json!({}),
        )
        .await;
    assert_eq!(ids(&read.data()["privacyNotices"]), vec![id]);
    assert_eq!(
        read.data()["dataControllers"][0]["privacyNotices"],
        json!([{ "language": "de-CH", "version": "2026-01" }])
    );

    let deleted = app
        .graphql_user(
            token,
            "mutation { deletePrivacyNotices(where: {}) { affectedRows } }",
            json!({}),
        )
        .await;
    assert_eq!(
        deleted.data()["deletePrivacyNotices"]["affectedRows"],
        json!(1)
    );
}

#[tokio::test]
async fn processing_activity_insert_read_delete() {
    let app = spawn_app().await;
    let tenant = app.tenant("alice@example.com", "A").await;
    let token = &tenant.access_token;
    let subject = app.insert_subject(token, tenant.controller_id).await;
    let purpose = app
        .insert_purpose(token, tenant.controller_id, "Newsletter", None)
        .await;

    let full = insert_row(
        &app,
        token,
        INSERT_ACTIVITY,
        json!({ "dataControllerId": tenant.controller_id, "dataSubjectId": subject,
                "dataControllerProcessingPurposeId": purpose, "activity": "newsletter sent",
                "source": "mailchimp", "occurredAt": "2026-03-01T08:30:00Z" }),
    )
    .await;
    let subject_only = insert_row(
        &app,
        token,
        INSERT_ACTIVITY,
        json!({ "dataSubjectId": subject, "activity": "order shipped", "source": "shopify" }),
    )
    .await;
    let controller_only = insert_row(
        &app,
        token,
        INSERT_ACTIVITY,
        json!({ "dataControllerId": tenant.controller_id, "activity": "backup restored", "source": "ops" }),
    )
    .await;

    assert_eq!(
        full["occurredAt"],
        json!("2026-03-01T08:30:00.000000+00:00")
    );
    assert_eq!(
        subject_only["dataControllerId"],
        json!(tenant.controller_id.to_string())
    );
    assert!(subject_only["occurredAt"].is_string(), "{subject_only}");
    assert_eq!(controller_only["dataSubjectId"], Value::Null);

    let read = app
        .graphql_user(
            token,
            "query ($s: uuid!, $p: uuid!) {
              dataSubject(id: $s) { processingActivities(orderBy: {activity: asc}) { activity } }
              dataControllerProcessingPurpose(id: $p) { processingActivities { activity dataSubject { id } } }
              dataControllers { processingActivities { id } }
            }",
            json!({ "s": subject, "p": purpose }),
        )
        .await;
    let data = read.data();
    assert_eq!(
        data["dataSubject"]["processingActivities"],
        json!([{ "activity": "newsletter sent" }, { "activity": "order shipped" }])
    );
    assert_eq!(
        data["dataControllerProcessingPurpose"]["processingActivities"],
        json!([{ "activity": "newsletter sent", "dataSubject": { "id": subject.to_string() } }])
    );
    assert_eq!(
        data["dataControllers"][0]["processingActivities"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );

    let update = app
        .graphql_user(
            token,
            "mutation ($id: uuid!) { updateProcessingActivity(pkColumns: {id: $id}, _set: {activity: \"x\"}) { id } }",
            json!({ "id": parse_uuid(&full["id"]) }),
        )
        .await;
    assert_eq!(
        update.error_code(),
        Some("validation-failed"),
        "{}",
        update.body
    );

    // Deleting the purpose keeps its activities and clears their reference.
    let purpose_deleted = app
        .graphql_user(
            token,
            "mutation ($p: uuid!) { deleteDataControllerProcessingPurpose(id: $p) { id } }",
            json!({ "p": purpose }),
        )
        .await;
    assert!(purpose_deleted.data()["deleteDataControllerProcessingPurpose"]["id"].is_string());
    let activity_after = app
        .graphql_user(
            token,
            "query ($id: uuid!) { processingActivity(id: $id) { dataControllerProcessingPurposeId } }",
            json!({ "id": parse_uuid(&full["id"]) }),
        )
        .await;
    assert_eq!(
        activity_after.data()["processingActivity"],
        json!({ "dataControllerProcessingPurposeId": null })
    );

    let deleted = app
        .graphql_user(
            token,
            "mutation ($id: uuid!) { deleteProcessingActivity(id: $id) { id } }",
            json!({ "id": parse_uuid(&full["id"]) }),
        )
        .await;
    assert!(deleted.data()["deleteProcessingActivity"]["id"].is_string());
    assert_eq!(
        app.count("SELECT count(*) FROM processing_activities", &[])
            .await,
        2
    );
}

#[tokio::test]
async fn subject_identifier_insert_read_delete() {
    let app = spawn_app().await;
    let tenant = app.tenant("alice@example.com", "A").await;
    let token = &tenant.access_token;
    let subject = app.insert_subject(token, tenant.controller_id).await;
    let hash = value_hash();
    let object = json!({ "dataSubjectId": subject, "kind": "stripe_customer",
                         "valueHash": hash.to_uppercase(), "source": "stripe" });

    let inserted = insert_row(&app, token, INSERT_IDENTIFIER, object.clone()).await;
    let duplicate = app
        .graphql_user(token, INSERT_IDENTIFIER, json!({ "object": object }))
        .await;
    let raw_value = app
        .graphql_user(
            token,
            INSERT_IDENTIFIER,
            json!({ "object": { "dataSubjectId": subject, "kind": "email",
                                "valueHash": "alice@example.com", "source": "shop" } }),
        )
        .await;

    assert_eq!(inserted["valueHash"], json!(hash));
    assert_eq!(inserted["kind"], json!("stripe_customer"));
    assert_eq!(
        duplicate.error_code(),
        Some("constraint-violation"),
        "{}",
        duplicate.body
    );
    assert_eq!(
        raw_value.error_code(),
        Some("validation-failed"),
        "{}",
        raw_value.body
    );
    assert!(
        !raw_value.body.to_string().contains("alice@example.com"),
        "{}",
        raw_value.body
    );

    let read = app
        .graphql_user(
            token,
            "query ($s: uuid!, $h: String!) {
              dataSubject(id: $s) { identifiers { kind valueHash source } }
              byHash: dataSubjectIdentifiers(where: {kind: {_eq: \"stripe_customer\"}, valueHash: {_eq: $h}}) { dataSubject { id } }
            }",
            json!({ "s": subject, "h": hash }),
        )
        .await;
    assert_eq!(
        read.data()["dataSubject"]["identifiers"],
        json!([{ "kind": "stripe_customer", "valueHash": hash, "source": "stripe" }])
    );
    assert_eq!(
        read.data()["byHash"],
        json!([{ "dataSubject": { "id": subject.to_string() } }])
    );

    let update = app
        .graphql_user(
            token,
            "mutation { updateDataSubjectIdentifiers(where: {}, _set: {source: \"x\"}) { affectedRows } }",
            json!({}),
        )
        .await;
    assert_eq!(
        update.error_code(),
        Some("validation-failed"),
        "{}",
        update.body
    );

    let deleted = app
        .graphql_user(
            token,
            "mutation ($id: uuid!) { deleteDataSubjectIdentifier(id: $id) { id } }",
            json!({ "id": parse_uuid(&inserted["id"]) }),
        )
        .await;
    assert!(deleted.data()["deleteDataSubjectIdentifier"]["id"].is_string());
    assert_eq!(
        app.count("SELECT count(*) FROM data_subject_identifiers", &[])
            .await,
        0
    );
}

#[tokio::test]
async fn register_values_are_validated() {
    let app = spawn_app().await;
    let tenant = app.tenant("alice@example.com", "A").await;
    let token = &tenant.access_token;
    let controller = tenant.controller_id;
    let subject = app.insert_subject(token, controller).await;
    let cases = [
        (
            INSERT_PROCESSOR,
            json!({ "dataControllerId": controller, "name": "P", "locations": ["Germany"] }),
            "locations",
        ),
        (
            INSERT_PROCESSOR,
            json!({ "dataControllerId": controller, "name": "P", "purposes": [1, 2] }),
            "purposes",
        ),
        (
            INSERT_PROCESSOR,
            json!({ "dataControllerId": controller, "name": "P", "dataCategories": {"a": "b"} }),
            "dataCategories",
        ),
        (
            INSERT_PROCESSOR,
            json!({ "dataControllerId": controller, "name": "P", "transferSafeguard": "privacy_shield" }),
            "transferSafeguard",
        ),
        (
            INSERT_PROCESSOR,
            json!({ "dataControllerId": controller, "name": "P", "dpaUrl": "javascript:alert(1)" }),
            "dpaUrl",
        ),
        (
            INSERT_NOTICE,
            json!({ "dataControllerId": controller, "kind": "privacy_policy", "language": "english",
                    "version": "1", "body": "b" }),
            "language",
        ),
        (
            INSERT_NOTICE,
            json!({ "dataControllerId": controller, "kind": "imprint", "language": "en",
                    "version": "1", "body": "b" }),
            "kind",
        ),
        (
            INSERT_NOTICE,
            json!({ "dataControllerId": controller, "kind": "terms", "language": "en", "version": "1" }),
            "body",
        ),
        (
            INSERT_IDENTIFIER,
            json!({ "dataSubjectId": subject, "kind": "fax", "valueHash": value_hash(), "source": "s" }),
            "kind",
        ),
        (
            INSERT_ACTIVITY,
            json!({ "activity": "a", "source": "s" }),
            "dataControllerId",
        ),
    ];
    let before = register_counts(&app).await;

    for (mutation, object, field) in cases {
        let response = app
            .graphql_user(token, mutation, json!({ "object": object }))
            .await;
        assert_eq!(
            response.error_code(),
            Some("validation-failed"),
            "{object}: {}",
            response.body
        );
        assert!(
            response.error_message().contains(field),
            "{object}: {}",
            response.body
        );
    }
    assert_eq!(register_counts(&app).await, before);
}

#[tokio::test]
async fn register_roots_show_only_own_rows() {
    let app = spawn_app().await;
    let (a, b) = two_tenants(&app).await;
    let lists = "{
      dataProcessors { id }
      privacyNotices { id }
      processingActivities { id }
      dataSubjectIdentifiers { id }
      auditLogs { dataControllerId }
    }";
    let by_pk = "query ($processor: uuid!, $notice: uuid!, $activity: uuid!, $identifier: uuid!) {
      dataProcessor(id: $processor) { id }
      privacyNotice(id: $notice) { id }
      processingActivity(id: $activity) { id }
      dataSubjectIdentifier(id: $identifier) { id }
    }";
    let variables = |seeded: &Seeded| {
        json!({ "processor": seeded.processor, "notice": seeded.notice,
                "activity": seeded.activity, "identifier": seeded.identifier })
    };

    let listed = app
        .graphql_user(&a.tenant.access_token, lists, json!({}))
        .await;
    let others = app
        .graphql_user(&a.tenant.access_token, by_pk, variables(&b))
        .await;
    let own = app
        .graphql_user(&a.tenant.access_token, by_pk, variables(&a))
        .await;

    let data = listed.data();
    assert_eq!(ids(&data["dataProcessors"]), vec![a.processor]);
    assert_eq!(ids(&data["privacyNotices"]), vec![a.notice]);
    assert_eq!(ids(&data["processingActivities"]), vec![a.activity]);
    assert_eq!(ids(&data["dataSubjectIdentifiers"]), vec![a.identifier]);
    let audit = data["auditLogs"].as_array().expect("a list");
    assert!(!audit.is_empty());
    for row in audit {
        assert_eq!(
            row["dataControllerId"],
            json!(a.tenant.controller_id.to_string())
        );
    }
    for root in [
        "dataProcessor",
        "privacyNotice",
        "processingActivity",
        "dataSubjectIdentifier",
    ] {
        assert_eq!(
            others.data()[root],
            Value::Null,
            "{root} leaked: {}",
            others.body
        );
        assert!(own.data()[root]["id"].is_string(), "{}", own.body);
    }
}

#[tokio::test]
async fn register_relationships_cannot_reach_other_tenant() {
    let app = spawn_app().await;
    let (a, b) = two_tenants(&app).await;
    let b_audit_row = audit_row(&app, b.processor, "insert").await;
    let nested = "{
      dataControllers(limit: 5) {
        dataProcessors { id }
        privacyNotices { id }
        processingActivities { id dataSubject { id } }
        auditLogs { rowId }
        dataSubjects(limit: 50) { identifiers { id } processingActivities { id } }
        processingPurposes(limit: 50) { processingActivities { id } }
      }
      dataSubjectIdentifiers { dataSubject { id } }
      auditLogs { dataController { id } }
    }";
    let filters = "query ($bTitle: String!, $bController: uuid!, $bSubject: uuid!, $bProcessor: uuid!, $bAudit: uuid!) {
      processors: dataProcessors(where: {dataController: {title: {_eq: $bTitle}}}) { id }
      notices: privacyNotices(where: {dataControllerId: {_eq: $bController}}) { id }
      activities: processingActivities(where: {dataSubject: {id: {_eq: $bSubject}}}) { id }
      identifiers: dataSubjectIdentifiers(where: {dataSubject: {dataControllerId: {_eq: $bController}}}) { id }
      auditByController: auditLogs(where: {dataControllerId: {_eq: $bController}}) { id }
      auditByRelationship: auditLogs(where: {dataController: {title: {_eq: $bTitle}}}) { id }
      auditByPk: auditLog(id: $bAudit) { id }
      controllers: dataControllers(where: {dataProcessors: {id: {_eq: $bProcessor}}}) { id }
      subjects: dataSubjects(where: {identifiers: {dataSubject: {dataControllerId: {_eq: $bController}}}}) { id }
    }";

    let nested_response = app
        .graphql_user(&a.tenant.access_token, nested, json!({}))
        .await;
    let filtered = app
        .graphql_user(
            &a.tenant.access_token,
            filters,
            json!({ "bTitle": "B", "bController": b.tenant.controller_id, "bSubject": b.subject,
                    "bProcessor": b.processor, "bAudit": b_audit_row["id"] }),
        )
        .await;

    let controller = &nested_response.data()["dataControllers"][0];
    assert_eq!(ids(&controller["dataProcessors"]), vec![a.processor]);
    assert_eq!(ids(&controller["privacyNotices"]), vec![a.notice]);
    assert_eq!(ids(&controller["processingActivities"]), vec![a.activity]);
    assert_eq!(
        ids(&controller["dataSubjects"][0]["identifiers"]),
        vec![a.identifier]
    );
    assert_eq!(
        ids(&controller["processingPurposes"][0]["processingActivities"]),
        vec![a.activity]
    );
    let body = nested_response.body.to_string();
    for b_id in [
        b.tenant.controller_id,
        b.subject,
        b.purpose,
        b.processor,
        b.notice,
        b.activity,
        b.identifier,
    ] {
        assert!(!body.contains(&b_id.to_string()), "{b_id} leaked: {body}");
    }
    let data = filtered.data();
    for alias in [
        "processors",
        "notices",
        "activities",
        "identifiers",
        "auditByController",
        "auditByRelationship",
        "controllers",
        "subjects",
    ] {
        assert_eq!(
            data[alias],
            json!([]),
            "{alias} reached B's rows: {}",
            filtered.body
        );
    }
    assert_eq!(data["auditByPk"], Value::Null, "{}", filtered.body);
}

#[tokio::test]
async fn register_inserts_into_other_tenant_are_denied() {
    let app = spawn_app().await;
    let (a, b) = two_tenants(&app).await;
    let a_controller = a.tenant.controller_id;
    let b_controller = b.tenant.controller_id;
    let cases = [
        (
            INSERT_PROCESSOR,
            json!({ "dataControllerId": b_controller, "name": "Sneaky" }),
        ),
        (
            INSERT_NOTICE,
            json!({ "dataControllerId": b_controller, "kind": "terms", "language": "en", "version": "9", "body": "x" }),
        ),
        (
            INSERT_ACTIVITY,
            json!({ "dataControllerId": b_controller, "activity": "x", "source": "s" }),
        ),
        (
            INSERT_ACTIVITY,
            json!({ "dataSubjectId": b.subject, "activity": "x", "source": "s" }),
        ),
        (
            INSERT_ACTIVITY,
            json!({ "dataControllerId": a_controller, "dataSubjectId": b.subject, "activity": "x", "source": "s" }),
        ),
        (
            INSERT_ACTIVITY,
            json!({ "dataControllerId": a_controller, "dataControllerProcessingPurposeId": b.purpose,
                    "activity": "x", "source": "s" }),
        ),
        (
            INSERT_ACTIVITY,
            json!({ "dataControllerId": a_controller, "dataSubjectId": Uuid::new_v4(), "activity": "x", "source": "s" }),
        ),
        (
            INSERT_IDENTIFIER,
            json!({ "dataSubjectId": b.subject, "kind": "email", "valueHash": value_hash(), "source": "s" }),
        ),
        // B's subject already has this identifier, and the error must not differ.
        (
            INSERT_IDENTIFIER,
            json!({ "dataSubjectId": b.subject, "kind": "email", "valueHash": b.identifier_hash, "source": "s" }),
        ),
    ];
    let before = register_counts(&app).await;

    let mut messages = BTreeSet::new();
    for (mutation, object) in cases {
        let response = app
            .graphql_user(
                &a.tenant.access_token,
                mutation,
                json!({ "object": object }),
            )
            .await;
        assert_eq!(
            response.error_code(),
            Some("permission-error"),
            "{object}: {}",
            response.body
        );
        messages.insert(response.error_message().to_owned());
    }
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(register_counts(&app).await, before);
}

#[tokio::test]
async fn register_writes_to_other_tenant_change_nothing() {
    let app = spawn_app().await;
    let (a, b) = two_tenants(&app).await;
    let before = register_counts(&app).await;
    let query = "mutation ($processor: uuid!, $notice: uuid!, $activity: uuid!, $identifier: uuid!) {
      updateProcessor: updateDataProcessor(pkColumns: {id: $processor}, _set: {name: \"Taken\"}) { id }
      updateProcessors: updateDataProcessors(where: {id: {_eq: $processor}}, _set: {name: \"Taken\"}) { affectedRows }
      updateNotice: updatePrivacyNotice(pkColumns: {id: $notice}, _set: {body: \"Taken\"}) { id }
      updateNotices: updatePrivacyNotices(where: {id: {_eq: $notice}}, _set: {body: \"Taken\"}) { affectedRows }
      deleteProcessor: deleteDataProcessor(id: $processor) { id }
      deleteNotice: deletePrivacyNotice(id: $notice) { id }
      deleteActivity: deleteProcessingActivity(id: $activity) { id }
      deleteIdentifier: deleteDataSubjectIdentifier(id: $identifier) { id }
      deleteActivities: deleteProcessingActivities(where: {id: {_eq: $activity}}) { affectedRows }
      deleteIdentifiers: deleteDataSubjectIdentifiers(where: {id: {_eq: $identifier}}) { affectedRows }
    }";

    let response = app
        .graphql_user(
            &a.tenant.access_token,
            query,
            json!({ "processor": b.processor, "notice": b.notice, "activity": b.activity, "identifier": b.identifier }),
        )
        .await;

    let data = response.data();
    for alias in [
        "updateProcessor",
        "updateNotice",
        "deleteProcessor",
        "deleteNotice",
        "deleteActivity",
        "deleteIdentifier",
    ] {
        assert_eq!(data[alias], Value::Null, "{alias}: {}", response.body);
    }
    for alias in [
        "updateProcessors",
        "updateNotices",
        "deleteActivities",
        "deleteIdentifiers",
    ] {
        assert_eq!(
            data[alias]["affectedRows"],
            json!(0),
            "{alias}: {}",
            response.body
        );
    }
    assert_eq!(register_counts(&app).await, before);
    let name = app
        .text_column(
            "SELECT name FROM data_processors WHERE id = $1",
            &[b.processor.into()],
        )
        .await;
    assert_eq!(name.as_deref(), Some("B hosting"));
}

#[tokio::test]
async fn unfiltered_register_deletes_touch_only_own_rows() {
    let app = spawn_app().await;
    let (a, b) = two_tenants(&app).await;

    let response = app
        .graphql_user(
            &a.tenant.access_token,
            "mutation {
              deleteDataProcessors(where: {}) { affectedRows }
              deletePrivacyNotices(where: {}) { affectedRows }
              deleteProcessingActivities(where: {}) { affectedRows }
              deleteDataSubjectIdentifiers(where: {}) { affectedRows }
            }",
            json!({}),
        )
        .await;

    let data = response.data();
    for root in [
        "deleteDataProcessors",
        "deletePrivacyNotices",
        "deleteProcessingActivities",
        "deleteDataSubjectIdentifiers",
    ] {
        assert_eq!(data[root]["affectedRows"], json!(1), "{root}");
    }
    for (table, id) in [
        ("data_processors", b.processor),
        ("privacy_notices", b.notice),
        ("processing_activities", b.activity),
        ("data_subject_identifiers", b.identifier),
    ] {
        let remaining = app
            .count(
                &format!("SELECT count(*) FROM {table} WHERE id = $1"),
                &[id.into()],
            )
            .await;
        assert_eq!(remaining, 1, "{table}");
    }
}

#[tokio::test]
async fn developer_reads_processors_and_notices_only() {
    let app = spawn_app().await;
    let (a, _b) = two_tenants(&app).await;
    let developer = member_token(
        &app,
        "developer@example.com",
        a.tenant.controller_id,
        "developer",
    )
    .await;

    let read = app
        .graphql_user(
            &developer,
            "query ($activity: uuid!, $identifier: uuid!) {
              dataProcessors { id }
              privacyNotices { id }
              processingActivities { id }
              processingActivity(id: $activity) { id }
              dataSubjectIdentifiers { id }
              dataSubjectIdentifier(id: $identifier) { id }
              auditLogs { id }
              dataControllers { processingActivities { id } }
            }",
            json!({ "activity": a.activity, "identifier": a.identifier }),
        )
        .await;
    let insert = app
        .graphql_user(
            &developer,
            INSERT_PROCESSOR,
            json!({ "object": { "dataControllerId": a.tenant.controller_id, "name": "Dev tool" } }),
        )
        .await;

    let data = read.data();
    assert_eq!(ids(&data["dataProcessors"]), vec![a.processor]);
    assert_eq!(ids(&data["privacyNotices"]), vec![a.notice]);
    assert_eq!(data["processingActivities"], json!([]));
    assert_eq!(data["processingActivity"], Value::Null);
    assert_eq!(data["dataSubjectIdentifiers"], json!([]));
    assert_eq!(data["dataSubjectIdentifier"], Value::Null);
    assert_eq!(data["auditLogs"], json!([]));
    assert_eq!(
        data["dataControllers"][0]["processingActivities"],
        json!([])
    );
    assert_eq!(
        insert.error_code(),
        Some("permission-error"),
        "{}",
        insert.body
    );
}

#[tokio::test]
async fn viewer_reads_registers_but_cannot_write() {
    let app = spawn_app().await;
    let (a, _b) = two_tenants(&app).await;
    let viewer = member_token(&app, "viewer@example.com", a.tenant.controller_id, "viewer").await;
    let before = register_counts(&app).await;

    let read = app
        .graphql_user(
            &viewer,
            "{ dataProcessors { id } privacyNotices { id } processingActivities { id } dataSubjectIdentifiers { id } auditLogs { id } }",
            json!({}),
        )
        .await;
    let inserts = [
        (
            INSERT_PROCESSOR,
            json!({ "dataControllerId": a.tenant.controller_id, "name": "V" }),
        ),
        (
            INSERT_NOTICE,
            json!({ "dataControllerId": a.tenant.controller_id, "kind": "terms", "language": "en", "version": "2", "body": "x" }),
        ),
        (
            INSERT_ACTIVITY,
            json!({ "dataControllerId": a.tenant.controller_id, "activity": "x", "source": "s" }),
        ),
        (
            INSERT_IDENTIFIER,
            json!({ "dataSubjectId": a.subject, "kind": "phone", "valueHash": value_hash(), "source": "s" }),
        ),
    ];
    let changes = app
        .graphql_user(
            &viewer,
            "mutation ($processor: uuid!, $notice: uuid!, $activity: uuid!, $identifier: uuid!) {
              updateDataProcessor(pkColumns: {id: $processor}, _set: {name: \"V\"}) { id }
              updatePrivacyNotice(pkColumns: {id: $notice}, _set: {body: \"V\"}) { id }
              deleteProcessingActivity(id: $activity) { id }
              deleteDataSubjectIdentifier(id: $identifier) { id }
              deleteDataProcessors(where: {}) { affectedRows }
            }",
            json!({ "processor": a.processor, "notice": a.notice, "activity": a.activity, "identifier": a.identifier }),
        )
        .await;

    let data = read.data();
    assert_eq!(ids(&data["dataProcessors"]), vec![a.processor]);
    assert_eq!(ids(&data["privacyNotices"]), vec![a.notice]);
    assert_eq!(ids(&data["processingActivities"]), vec![a.activity]);
    assert_eq!(ids(&data["dataSubjectIdentifiers"]), vec![a.identifier]);
    assert!(!data["auditLogs"].as_array().expect("a list").is_empty());
    for (mutation, object) in inserts {
        let response = app
            .graphql_user(&viewer, mutation, json!({ "object": object }))
            .await;
        assert_eq!(
            response.error_code(),
            Some("permission-error"),
            "{object}: {}",
            response.body
        );
    }
    let changed = changes.data();
    for root in [
        "updateDataProcessor",
        "updatePrivacyNotice",
        "deleteProcessingActivity",
        "deleteDataSubjectIdentifier",
    ] {
        assert_eq!(changed[root], Value::Null, "{root}: {}", changes.body);
    }
    assert_eq!(changed["deleteDataProcessors"]["affectedRows"], json!(0));
    assert_eq!(register_counts(&app).await, before);
}

#[tokio::test]
async fn audit_rows_record_insert_update_delete() {
    let app = spawn_app().await;
    let tenant = app.tenant("alice@example.com", "A").await;
    let token = &tenant.access_token;
    let processor = insert_row(
        &app,
        token,
        INSERT_PROCESSOR,
        json!({ "dataControllerId": tenant.controller_id, "name": "Mailer", "locations": ["de"],
                "transferSafeguard": "adequacy_decision" }),
    )
    .await;
    let id = parse_uuid(&processor["id"]);
    app.graphql_user(
        token,
        "mutation ($id: uuid!) { updateDataProcessor(pkColumns: {id: $id}, _set: {name: \"Mail service\", dpaUrl: \"https://mail.example/dpa\"}) { id } }",
        json!({ "id": id }),
    )
    .await
    .data();
    app.graphql_user(
        token,
        "mutation ($id: uuid!) { deleteDataProcessor(id: $id) { id } }",
        json!({ "id": id }),
    )
    .await
    .data();

    let insert = audit_row(&app, id, "insert").await;
    let update = audit_row(&app, id, "update").await;
    let delete = audit_row(&app, id, "delete").await;

    for row in [&insert, &update, &delete] {
        assert_eq!(row["tableName"], json!("data_processors"));
        assert_eq!(row["rowId"], json!(id.to_string()));
        assert_eq!(
            row["dataControllerId"],
            json!(tenant.controller_id.to_string())
        );
        assert_eq!(row["actorUserId"], json!(tenant.user_id.to_string()));
        assert_eq!(row["actorRole"], json!("user"));
        assert!(row["createdAt"].is_string());
    }
    assert_eq!(
        field_set(&insert["changedColumns"]),
        fields(&["dataControllerId", "name", "locations", "transferSafeguard"])
    );
    assert_eq!(
        insert["changes"],
        json!({ "dataControllerId": tenant.controller_id.to_string(), "name": "Mailer",
                "locations": ["DE"], "transferSafeguard": "adequacy_decision" })
    );
    assert_eq!(
        field_set(&update["changedColumns"]),
        fields(&["name", "dpaUrl"])
    );
    assert_eq!(
        update["changes"],
        json!({ "name": "Mail service", "dpaUrl": "https://mail.example/dpa" })
    );
    assert_eq!(delete["changedColumns"], json!([]));
    assert_eq!(delete["changes"], json!({}));
}

#[tokio::test]
async fn audit_rows_cover_existing_tables_with_typed_values() {
    let app = spawn_app().await;
    let tenant = app.tenant("alice@example.com", "A").await;
    let token = &tenant.access_token;
    let subject = app.insert_subject(token, tenant.controller_id).await;
    let request = app.insert_rights_request(token, subject, "export").await;
    let request_id = parse_uuid(&request["id"]);
    app.graphql_user(
        token,
        "mutation ($id: uuid!) { updateDataSubjects(where: {id: {_eq: $id}}, _set: {doNotTrack: true}) { affectedRows } }",
        json!({ "id": subject }),
    )
    .await
    .data();
    app.graphql_user(
        token,
        "mutation ($id: uuid!) { updateDataSubjectRightsRequest(pkColumns: {id: $id}, _set: {completedAt: \"2026-04-01T10:00:00+02:00\", verified: true}) { id } }",
        json!({ "id": request_id }),
    )
    .await
    .data();

    let subject_insert = audit_row(&app, subject, "insert").await;
    let subject_update = audit_row(&app, subject, "update").await;
    let request_insert = audit_row(&app, request_id, "insert").await;
    let request_update = audit_row(&app, request_id, "update").await;

    assert_eq!(
        subject_insert["changes"],
        json!({ "dataControllerId": tenant.controller_id.to_string() })
    );
    assert_eq!(subject_update["changes"], json!({ "doNotTrack": true }));
    // Server-set columns (controller, deadline, status) are not the client's changes.
    assert_eq!(
        request_insert["changes"],
        json!({ "dataSubjectId": subject.to_string(), "requestType": "portability" })
    );
    assert_eq!(
        request_insert["dataControllerId"],
        json!(tenant.controller_id.to_string())
    );
    assert_eq!(
        request_update["changes"],
        json!({ "completedAt": "2026-04-01T08:00:00.000000+00:00", "verified": true })
    );
}

#[tokio::test]
async fn audit_omits_personal_values() {
    let app = spawn_app().await;
    let tenant = app.tenant("alice@example.com", "A").await;
    let token = &tenant.access_token;
    let subject = app.insert_subject(token, tenant.controller_id).await;
    let hash = value_hash();
    let identifier = insert_row(
        &app,
        token,
        INSERT_IDENTIFIER,
        json!({ "dataSubjectId": subject, "kind": "email", "valueHash": hash, "source": "shop" }),
    )
    .await;
    let activity = insert_row(
        &app,
        token,
        INSERT_ACTIVITY,
        json!({ "dataSubjectId": subject, "activity": "parcel sent to Jane Doe", "source": "shop" }),
    )
    .await;
    app.graphql_user(
        token,
        "mutation ($id: uuid!) { updateDataController(pkColumns: {id: $id}, _set: {dpoEmail: \"dpo.person@example.com\", title: \"A GmbH\"}) { id } }",
        json!({ "id": tenant.controller_id }),
    )
    .await
    .data();
    let user_update = app
        .graphql_admin(
            "mutation ($id: uuid!) { updateUser(pkColumns: {id: $id}, _set: {displayName: \"Alice Example\", disabled: false}) { id } }",
            json!({ "id": tenant.user_id }),
        )
        .await;
    user_update.data();

    let identifier_insert = audit_row(&app, parse_uuid(&identifier["id"]), "insert").await;
    let activity_insert = audit_row(&app, parse_uuid(&activity["id"]), "insert").await;
    let controller_update = audit_row(&app, tenant.controller_id, "update").await;
    let user_row = audit_row(&app, tenant.user_id, "update").await;

    assert_eq!(
        field_set(&identifier_insert["changedColumns"]),
        fields(&["dataSubjectId", "kind", "valueHash", "source"])
    );
    assert_eq!(
        identifier_insert["changes"],
        json!({ "dataSubjectId": subject.to_string(), "kind": "email", "source": "shop" })
    );
    assert_eq!(
        field_set(&activity_insert["changedColumns"]),
        fields(&["dataSubjectId", "activity", "source"])
    );
    assert_eq!(
        activity_insert["changes"],
        json!({ "dataSubjectId": subject.to_string(), "source": "shop" })
    );
    assert_eq!(
        field_set(&controller_update["changedColumns"]),
        fields(&["dpoEmail", "title"])
    );
    assert_eq!(controller_update["changes"], json!({ "title": "A GmbH" }));
    assert_eq!(
        field_set(&user_row["changedColumns"]),
        fields(&["displayName", "disabled"])
    );
    assert_eq!(user_row["changes"], json!({ "disabled": false }));
    assert_eq!(user_row["dataControllerId"], Value::Null);
    assert_eq!(user_row["actorRole"], json!("admin"));
    assert_eq!(user_row["actorUserId"], Value::Null);

    let all_audit = app
        .graphql_admin("{ auditLogs { changes } }", json!({}))
        .await;
    let text = all_audit.data().to_string();
    for personal in [
        hash.as_str(),
        "parcel sent to Jane Doe",
        "dpo.person@example.com",
        "Alice Example",
    ] {
        assert!(!text.contains(personal), "{personal} is in the audit log");
    }
    let stored = app
        .count(
            "SELECT count(*) FROM audit_log WHERE CAST(changes AS TEXT) LIKE $1 OR CAST(changes AS TEXT) LIKE $2",
            &[format!("%{hash}%").into(), "%dpo.person%".into()],
        )
        .await;
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn audit_records_consent_upserts() {
    let app = spawn_app().await;
    let tenant = app.tenant("alice@example.com", "A").await;
    let token = &tenant.access_token;
    let purpose = app
        .insert_purpose(token, tenant.controller_id, "Analytics", None)
        .await;

    let first = app
        .upsert_consents(
            token,
            tenant.controller_id,
            None,
            json!({ purpose.to_string(): true }),
        )
        .await;
    let subject = parse_uuid(&first["dataSubjectId"]);
    app.upsert_consents(
        token,
        tenant.controller_id,
        Some(subject),
        json!({ purpose.to_string(): false }),
    )
    .await;
    let value_id = app
        .text_column(
            "SELECT id FROM data_subject_consent_form_values WHERE data_subject_id = $1",
            &[subject.into()],
        )
        .await
        .expect("the consent value was written");
    let value_id = Uuid::parse_str(&value_id).expect("stored ids are uuids");

    let subject_insert = audit_row(&app, subject, "insert").await;
    let value_insert = audit_row(&app, value_id, "insert").await;
    let value_update = audit_row(&app, value_id, "update").await;

    assert_eq!(subject_insert["tableName"], json!("data_subjects"));
    assert_eq!(
        subject_insert["changes"],
        json!({ "dataControllerId": tenant.controller_id.to_string() })
    );
    for row in [&subject_insert, &value_insert, &value_update] {
        assert_eq!(
            row["dataControllerId"],
            json!(tenant.controller_id.to_string())
        );
        assert_eq!(row["actorUserId"], json!(tenant.user_id.to_string()));
    }
    assert_eq!(
        value_insert["tableName"],
        json!("data_subject_consent_form_values")
    );
    assert_eq!(
        value_insert["changes"],
        json!({ "dataSubjectId": subject.to_string(),
                "dataControllerProcessingPurposeId": purpose.to_string(), "value": "true" })
    );
    assert_eq!(value_update["changedColumns"], json!(["value"]));
    assert_eq!(value_update["changes"], json!({ "value": "false" }));
}

#[tokio::test]
async fn audit_log_has_no_write_fields() {
    let app = spawn_app().await;
    let tenant = app.tenant("alice@example.com", "A").await;
    let some_id = Uuid::new_v4();
    let mutations = [
        "mutation { insertAuditLog(object: {actorRole: \"user\"}) { id } }",
        "mutation { insertAuditLogs(objects: [{actorRole: \"user\"}]) { affectedRows } }",
        "mutation ($id: uuid!) { updateAuditLog(pkColumns: {id: $id}, _set: {actorRole: \"x\"}) { id } }",
        "mutation { updateAuditLogs(where: {}, _set: {actorRole: \"x\"}) { affectedRows } }",
        "mutation ($id: uuid!) { deleteAuditLog(id: $id) { id } }",
        "mutation { deleteAuditLogs(where: {}) { affectedRows } }",
    ];
    let introspection = "{
      mutation: __type(name: \"mutation_root\") { fields { name } }
      insertInput: __type(name: \"audit_log_insert_input\") { name }
      setInput: __type(name: \"audit_log_set_input\") { name }
      audit: __type(name: \"audit_log\") { name }
    }";
    let before = app.count("SELECT count(*) FROM audit_log", &[]).await;

    for mutation in mutations {
        let as_user = app
            .graphql_user(&tenant.access_token, mutation, json!({ "id": some_id }))
            .await;
        let as_admin = app.graphql_admin(mutation, json!({ "id": some_id })).await;
        for response in [as_user, as_admin] {
            assert_eq!(
                response.error_code(),
                Some("validation-failed"),
                "{mutation}: {}",
                response.body
            );
        }
    }
    let user_schema = app
        .graphql_user(&tenant.access_token, introspection, json!({}))
        .await;
    let admin_schema = app.graphql_admin(introspection, json!({})).await;
    for response in [user_schema, admin_schema] {
        let data = response.data();
        let names: Vec<&str> = data["mutation"]["fields"]
            .as_array()
            .expect("a list of fields")
            .iter()
            .map(|field| field["name"].as_str().unwrap_or_default())
            .collect();
        assert!(names.contains(&"insertDataProcessor"), "{names:?}");
        assert!(
            !names.iter().any(|name| name.contains("AuditLog")),
            "{names:?}"
        );
        assert_eq!(data["insertInput"], Value::Null);
        assert_eq!(data["setInput"], Value::Null);
        assert_eq!(data["audit"]["name"], json!("audit_log"));
    }
    assert_eq!(
        app.count("SELECT count(*) FROM audit_log", &[]).await,
        before
    );
}

#[tokio::test]
async fn audit_of_deleted_controller_stays_for_admin() {
    let app = spawn_app().await;
    let (a, b) = two_tenants(&app).await;
    let b_controller = b.tenant.controller_id;

    let deleted = app
        .graphql_admin(
            "mutation ($id: uuid!) { deleteDataController(id: $id) { id } }",
            json!({ "id": b_controller }),
        )
        .await;
    assert_eq!(
        deleted.data()["deleteDataController"]["id"],
        json!(b_controller.to_string())
    );

    let delete_row = audit_row(&app, b_controller, "delete").await;
    assert_eq!(
        delete_row["dataControllerId"],
        json!(b_controller.to_string())
    );
    assert_eq!(delete_row["tableName"], json!("data_controllers"));
    assert_eq!(delete_row["actorRole"], json!("admin"));
    let history = app
        .graphql_admin(
            "query ($c: uuid!) { auditLogs(where: {dataControllerId: {_eq: $c}}) { tableName operation rowId dataController { id } } }",
            json!({ "c": b_controller }),
        )
        .await;
    let rows = history.data()["auditLogs"].as_array().expect("a list");
    assert!(
        rows.iter()
            .any(|row| row["tableName"] == json!("data_processors")
                && row["operation"] == json!("insert")
                && row["rowId"] == json!(b.processor.to_string())),
        "{}",
        history.body
    );
    assert!(
        rows.iter().all(|row| row["dataController"].is_null()),
        "{}",
        history.body
    );
    // The rows of the cascade are gone; their history is not.
    assert_eq!(
        app.count(
            "SELECT count(*) FROM data_processors WHERE id = $1",
            &[b.processor.into()]
        )
        .await,
        0
    );

    // B's former owner has no membership left, and A never had one.
    let former_owner = app
        .graphql_user(&b.tenant.access_token, "{ auditLogs { id } }", json!({}))
        .await;
    assert_eq!(former_owner.data()["auditLogs"], json!([]));
    let other_tenant = app
        .graphql_user(
            &a.tenant.access_token,
            "query ($c: uuid!) { auditLogs(where: {dataControllerId: {_eq: $c}}) { id } }",
            json!({ "c": b_controller }),
        )
        .await;
    assert_eq!(other_tenant.data()["auditLogs"], json!([]));
}
