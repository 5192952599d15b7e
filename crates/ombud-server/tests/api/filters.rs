//! `where`, `orderBy`, `limit` and `offset` on list roots, checked against
//! rows whose values are known.

use std::collections::HashSet;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Tenant, TestApp, ids, spawn_app};

/// Titles chosen so that `_like` and `_ilike` give different results.
const TITLES: [&str; 4] = [
    "Analytics cookies",
    "analytics tracking",
    "Marketing email",
    "Essential session",
];

struct Fixture {
    app: TestApp,
    tenant: Tenant,
    /// Purpose ids in the order of `TITLES`.
    purposes: Vec<Uuid>,
    /// Subject ids in creation order.
    subjects: Vec<Uuid>,
}

async fn fixture() -> Fixture {
    let app = spawn_app().await;
    let tenant = app.tenant("filters@example.com", "Acme").await;
    let mut purposes = Vec::new();
    for (index, title) in TITLES.iter().enumerate() {
        // Only the first two purposes get a description, for `_is_null`.
        let description = (index < 2).then_some("described");
        purposes.push(
            app.insert_purpose(
                &tenant.access_token,
                tenant.controller_id,
                title,
                description,
            )
            .await,
        );
    }
    let mut subjects = Vec::new();
    for _ in 0..5 {
        subjects.push(
            app.insert_subject(&tenant.access_token, tenant.controller_id)
                .await,
        );
        // Distinct creation times make orderings and `_gt` deterministic.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    Fixture {
        app,
        tenant,
        purposes,
        subjects,
    }
}

impl Fixture {
    async fn query(&self, query: &str, variables: Value) -> Value {
        let response = self
            .app
            .graphql_user(&self.tenant.access_token, query, variables)
            .await;
        response.data().clone()
    }

    async fn purpose_ids(&self, filter: Value) -> HashSet<Uuid> {
        let data = self
            .query(
                "query ($where: data_controller_processing_purposes_bool_exp!) { dataControllerProcessingPurposes(where: $where) { id } }",
                json!({ "where": filter }),
            )
            .await;
        ids(&data["dataControllerProcessingPurposes"])
            .into_iter()
            .collect()
    }

    fn purpose_set(&self, indexes: &[usize]) -> HashSet<Uuid> {
        indexes.iter().map(|index| self.purposes[*index]).collect()
    }
}

#[tokio::test]
async fn filter_in_and_nin() {
    let fixture = fixture().await;
    let chosen = [fixture.subjects[0], fixture.subjects[3]];

    let data = fixture
        .query(
            "query ($ids: [uuid!]!) {
              chosen: dataSubjects(where: {id: {_in: $ids}}, orderBy: {createdAt: asc}) { id }
              rest: dataSubjects(where: {id: {_nin: $ids}}, orderBy: {createdAt: asc}) { id }
              none: dataSubjects(where: {id: {_in: []}}) { id }
            }",
            json!({ "ids": chosen }),
        )
        .await;

    assert_eq!(ids(&data["chosen"]), chosen.to_vec());
    assert_eq!(
        ids(&data["rest"]),
        vec![
            fixture.subjects[1],
            fixture.subjects[2],
            fixture.subjects[4]
        ]
    );
    assert_eq!(data["none"], json!([]));
}

#[tokio::test]
async fn filter_is_null() {
    let fixture = fixture().await;

    let missing = fixture
        .purpose_ids(json!({ "description": { "_is_null": true } }))
        .await;
    let present = fixture
        .purpose_ids(json!({ "description": { "_is_null": false } }))
        .await;

    assert_eq!(missing, fixture.purpose_set(&[2, 3]));
    assert_eq!(present, fixture.purpose_set(&[0, 1]));
}

#[tokio::test]
async fn filter_gt_on_timestamps() {
    let fixture = fixture().await;
    let all = fixture
        .query(
            "{ dataSubjects(orderBy: {createdAt: asc}) { id createdAt } }",
            json!({}),
        )
        .await;
    let cutoff = all["dataSubjects"][2]["createdAt"].clone();

    let data = fixture
        .query(
            "query ($t: timestamptz!) {
              after: dataSubjects(where: {createdAt: {_gt: $t}}, orderBy: {createdAt: asc}) { id }
              atOrBefore: dataSubjects(where: {createdAt: {_lte: $t}}, orderBy: {createdAt: asc}) { id }
              future: dataSubjects(where: {createdAt: {_gt: \"2999-01-01T00:00:00Z\"}}) { id }
            }",
            json!({ "t": cutoff }),
        )
        .await;

    assert_eq!(ids(&data["after"]), fixture.subjects[3..].to_vec());
    assert_eq!(ids(&data["atOrBefore"]), fixture.subjects[..3].to_vec());
    assert_eq!(data["future"], json!([]));
}

#[tokio::test]
async fn filter_gt_accepts_other_offsets() {
    let fixture = fixture().await;
    let first = fixture
        .query(
            "{ dataSubjects(orderBy: {createdAt: asc}, limit: 1) { createdAt } }",
            json!({}),
        )
        .await;
    let created = chrono::DateTime::parse_from_rfc3339(
        first["dataSubjects"][0]["createdAt"]
            .as_str()
            .expect("a timestamp"),
    )
    .expect("RFC 3339");
    // The same instant one second earlier, written with a +02:00 offset.
    let earlier = (created - chrono::Duration::seconds(1))
        .with_timezone(&chrono::FixedOffset::east_opt(2 * 3600).expect("a valid offset"))
        .to_rfc3339();

    let data = fixture
        .query(
            "query ($t: timestamptz!) { dataSubjects(where: {createdAt: {_gt: $t}}) { id } }",
            json!({ "t": earlier }),
        )
        .await;

    assert_eq!(ids(&data["dataSubjects"]).len(), 5, "{earlier}");
}

#[tokio::test]
async fn filter_like_case_sensitivity() {
    let fixture = fixture().await;

    let like = fixture
        .purpose_ids(json!({ "title": { "_like": "analytics%" } }))
        .await;
    let ilike = fixture
        .purpose_ids(json!({ "title": { "_ilike": "analytics%" } }))
        .await;
    let nlike = fixture
        .purpose_ids(json!({ "title": { "_nlike": "A%" } }))
        .await;
    let nilike = fixture
        .purpose_ids(json!({ "title": { "_nilike": "%ANALYTICS%" } }))
        .await;

    assert_eq!(like, fixture.purpose_set(&[1]));
    assert_eq!(ilike, fixture.purpose_set(&[0, 1]));
    assert_eq!(nlike, fixture.purpose_set(&[1, 2, 3]));
    assert_eq!(nilike, fixture.purpose_set(&[2, 3]));
}

#[tokio::test]
async fn filter_and_or_not() {
    let fixture = fixture().await;

    let and = fixture
        .purpose_ids(json!({ "_and": [ { "title": { "_ilike": "%a%" } }, { "description": { "_is_null": true } } ] }))
        .await;
    let or = fixture
        .purpose_ids(json!({ "_or": [ { "title": { "_eq": TITLES[0] } }, { "title": { "_eq": TITLES[3] } } ] }))
        .await;
    let not = fixture
        .purpose_ids(json!({ "_not": { "title": { "_ilike": "analytics%" } } }))
        .await;
    let nested = fixture
        .purpose_ids(json!({
            "_or": [
                { "_and": [ { "title": { "_like": "A%" } }, { "description": { "_is_null": false } } ] },
                { "_not": { "_or": [ { "description": { "_is_null": false } }, { "title": { "_like": "M%" } } ] } }
            ]
        }))
        .await;

    assert_eq!(and, fixture.purpose_set(&[2, 3]));
    assert_eq!(or, fixture.purpose_set(&[0, 3]));
    assert_eq!(not, fixture.purpose_set(&[2, 3]));
    assert_eq!(nested, fixture.purpose_set(&[0, 3]));
}

#[tokio::test]
async fn limit_offset_pages_do_not_overlap() {
    let fixture = fixture().await;
    let query = "query ($offset: Int!) { dataSubjects(orderBy: [{createdAt: asc}, {id: asc}], limit: 2, offset: $offset) { id } }";

    let mut pages = Vec::new();
    for offset in [0, 2, 4, 6] {
        let data = fixture.query(query, json!({ "offset": offset })).await;
        pages.push(ids(&data["dataSubjects"]));
    }

    assert_eq!(pages[0], fixture.subjects[0..2].to_vec());
    assert_eq!(pages[1], fixture.subjects[2..4].to_vec());
    assert_eq!(pages[2], fixture.subjects[4..5].to_vec());
    assert!(pages[3].is_empty(), "{:?}", pages[3]);
    let seen: Vec<Uuid> = pages.concat();
    let unique: HashSet<Uuid> = seen.iter().copied().collect();
    assert_eq!(seen.len(), unique.len(), "pages overlap: {seen:?}");
    assert_eq!(unique.len(), fixture.subjects.len());
}

#[tokio::test]
async fn order_by_snake_case_synonym() {
    let fixture = fixture().await;

    let data = fixture
        .query(
            "{
              snake: dataControllerProcessingPurposes(order_by: {title: desc}) { title }
              camel: dataControllerProcessingPurposes(orderBy: {title: asc}) { title }
              subjects: dataSubjects(order_by: {createdAt: desc}) { id }
            }",
            json!({}),
        )
        .await;

    let titles = |key: &str| -> Vec<String> {
        data[key]
            .as_array()
            .expect("a list")
            .iter()
            .map(|row| row["title"].as_str().expect("a title").to_owned())
            .collect()
    };
    let mut ascending: Vec<String> = TITLES.iter().map(|title| (*title).to_owned()).collect();
    // Byte order, as SQLite's default collation compares text.
    ascending.sort();
    let descending: Vec<String> = ascending.iter().rev().cloned().collect();
    assert_eq!(titles("camel"), ascending);
    assert_eq!(titles("snake"), descending);
    let newest_first: Vec<Uuid> = fixture.subjects.iter().rev().copied().collect();
    assert_eq!(ids(&data["subjects"]), newest_first);
}

#[tokio::test]
async fn filter_rejects_unknown_operator() {
    let fixture = fixture().await;

    let response = fixture
        .app
        .graphql_user(
            &fixture.tenant.access_token,
            "{ dataSubjects(where: {id: {_regex: \"x\"}}) { id } }",
            json!({}),
        )
        .await;

    assert_eq!(
        response.error_code(),
        Some("validation-failed"),
        "{}",
        response.body
    );
}

#[tokio::test]
async fn filter_on_boolean_column() {
    let fixture = fixture().await;
    let flagged = fixture.subjects[1];
    fixture
        .query(
            "mutation ($id: uuid!) { updateDataSubject(pkColumns: {id: $id}, _set: {globalPrivacyControl: true}) { id } }",
            json!({ "id": flagged }),
        )
        .await;

    let data = fixture
        .query(
            "{ on: dataSubjects(where: {globalPrivacyControl: {_eq: true}}) { id }
               off: dataSubjects(where: {globalPrivacyControl: {_neq: true}}) { id } }",
            json!({}),
        )
        .await;

    assert_eq!(ids(&data["on"]), vec![flagged]);
    assert_eq!(ids(&data["off"]).len(), 4);
    assert!(!ids(&data["off"]).contains(&flagged));
}
