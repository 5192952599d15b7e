//! Several ombud instances on one database behave as one: two servers, each
//! with its own connection pool, take concurrent writes for the same rows.
//! With `OMBUD_TEST_BACKEND=postgres` this is the multi-instance deployment;
//! on SQLite the two pools stand for two processes sharing the file.

use std::collections::HashMap;

use futures_util::future::join_all;
use ombud_server::jobs::{JobKind, JobRunner, RunOutcome};
use ombud_server::metrics::Metrics;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{ADMIN_SECRET, parse_uuid, spawn_app};

const UPSERT: &str = "mutation ($controller: uuid!, $subject: uuid, $purposes: jsonb!) { \
    upsertDataSubjectConsents(dataControllerId: $controller, dataSubjectId: $subject, purposes: $purposes) { \
      status data { dataSubjectId upsertedCount } } }";

/// Posts a GraphQL document as role `user` to the server at `address`.
async fn post_graphql(
    client: &reqwest::Client,
    address: &str,
    access_token: &str,
    query: &str,
    variables: Value,
) -> Value {
    let response = client
        .post(format!("{address}/v1/graphql"))
        .bearer_auth(access_token)
        .header("X-Hasura-Role", "user")
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("POST /v1/graphql");
    assert_eq!(response.status(), 200);
    response.json().await.expect("a JSON body")
}

/// Posts a GraphQL document as `admin` to the server at `address`.
async fn post_graphql_admin(
    client: &reqwest::Client,
    address: &str,
    query: &str,
    variables: Value,
) -> Value {
    let response = client
        .post(format!("{address}/v1/graphql"))
        .header("X-Hasura-Admin-Secret", ADMIN_SECRET)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("POST /v1/graphql");
    assert_eq!(response.status(), 200);
    response.json().await.expect("a JSON body")
}

#[tokio::test]
async fn concurrent_consent_upserts_on_two_servers_lose_nothing() {
    let app = spawn_app().await;
    let peer = app.spawn_peer().await;
    let tenant = app.tenant("dpo@example.com", "Two Servers Shop").await;
    let mut purposes = Vec::new();
    for title in ["Analytics", "Newsletter", "Ads"] {
        purposes.push(
            app.insert_purpose(&tenant.access_token, tenant.controller_id, title, None)
                .await,
        );
    }
    let all_granted: serde_json::Map<String, Value> = purposes
        .iter()
        .map(|purpose| (purpose.to_string(), json!(true)))
        .collect();
    let first = app
        .upsert_consents(
            &tenant.access_token,
            tenant.controller_id,
            None,
            Value::Object(all_granted),
        )
        .await;
    let subject = parse_uuid(&first["dataSubjectId"]);

    // 40 upserts, alternating between the servers, all in flight at once;
    // each flips every purpose to a value derived from its index.
    let rounds = 40;
    let requests = (0..rounds).map(|round| {
        let address = if round % 2 == 0 {
            app.address.clone()
        } else {
            peer.address.clone()
        };
        let values: serde_json::Map<String, Value> = purposes
            .iter()
            .enumerate()
            .map(|(index, purpose)| (purpose.to_string(), json!((round + index) % 3 != 0)))
            .collect();
        let client = app.client.clone();
        let token = tenant.access_token.clone();
        let controller = tenant.controller_id;
        async move {
            post_graphql(
                &client,
                &address,
                &token,
                UPSERT,
                json!({ "controller": controller, "subject": subject, "purposes": values }),
            )
            .await
        }
    });
    let bodies = join_all(requests).await;
    for body in &bodies {
        assert!(body.get("errors").is_none(), "an upsert failed: {body}");
        assert_eq!(
            body["data"]["upsertDataSubjectConsents"]["status"],
            "success"
        );
    }

    // One stored value per purpose, never a duplicate.
    let stored = app
        .count(
            "SELECT count(*) FROM data_subject_consent_form_values WHERE data_subject_id = $1",
            &[subject.into()],
        )
        .await;
    assert_eq!(stored, 3);

    // Every upsert left one history entry per purpose, and each entry's
    // previous value is the value of the entry before it: no write was lost
    // or applied on top of a stale read.
    let events = app
        .store
        .fetch_rows(
            "SELECT data_controller_processing_purpose_id, value, previous_value FROM consent_events \
             WHERE data_subject_id = $1 ORDER BY created_at, id",
            &[subject.into()],
        )
        .await
        .expect("read the consent history");
    assert_eq!(events.len(), 3 * (rounds + 1));
    let mut last: HashMap<String, Option<String>> = HashMap::new();
    for event in &events {
        let purpose = event.required_text(0).expect("purpose").to_owned();
        let value = event.required_text(1).expect("value").to_owned();
        let previous = event.text(2).expect("previous value").map(str::to_owned);
        let expected = last.get(&purpose).cloned().unwrap_or(None);
        assert_eq!(previous, expected, "history chain broken for {purpose}");
        last.insert(purpose, Some(value));
    }
    for purpose in &purposes {
        let current = app
            .text_column(
                "SELECT value FROM data_subject_consent_form_values \
                 WHERE data_subject_id = $1 AND data_controller_processing_purpose_id = $2",
                &[subject.into(), (*purpose).into()],
            )
            .await;
        assert_eq!(current, last[&purpose.to_string()]);
    }
}

#[tokio::test]
async fn concurrent_membership_inserts_stay_unique() {
    let app = spawn_app().await;
    let peer = app.spawn_peer().await;
    let owner = app.tenant("owner@example.com", "Unique Shop").await;
    let (colleague, _) = app.create_user("colleague@example.com").await;

    let inserts = (0..12).map(|round| {
        let address = if round % 2 == 0 {
            app.address.clone()
        } else {
            peer.address.clone()
        };
        let client = app.client.clone();
        let controller = owner.controller_id;
        async move {
            post_graphql_admin(
                &client,
                &address,
                "mutation ($object: data_controller_users_insert_input!) { \
                   insertDataControllerUser(object: $object) { id } }",
                json!({ "object": {
                    "dataControllerId": controller, "userId": colleague, "role": "viewer"
                }}),
            )
            .await
        }
    });
    let bodies = join_all(inserts).await;

    let succeeded = bodies
        .iter()
        .filter(|body| body.get("errors").is_none())
        .count();
    assert_eq!(succeeded, 1, "{bodies:?}");
    for body in bodies.iter().filter(|body| body.get("errors").is_some()) {
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "constraint-violation",
            "{body}"
        );
    }
    let memberships = app
        .count(
            "SELECT count(*) FROM data_controller_users WHERE data_controller_id = $1 AND user_id = $2",
            &[owner.controller_id.into(), colleague.into()],
        )
        .await;
    assert_eq!(memberships, 1);
}

#[tokio::test]
async fn due_job_runs_once() {
    let app = spawn_app().await;
    let peer = app.spawn_peer().await;
    let runners = [
        JobRunner::new(
            app.store.clone(),
            Metrics::new().into(),
            "instance-a".to_owned(),
        ),
        JobRunner::new(
            peer.store.clone(),
            Metrics::new().into(),
            "instance-b".to_owned(),
        ),
    ];
    runners[0].register().await.expect("register jobs");
    runners[1].register().await.expect("register jobs twice");
    let job = JobKind::PurgeExpiredCredentials.name();

    // Each round makes the job due and lets both instances race for it.
    let rounds = 15;
    for round in 0..rounds {
        let due = chrono::Utc::now() - chrono::Duration::seconds(60 * (rounds - round));
        app.store
            .execute(
                "UPDATE scheduled_jobs SET next_run_at = $1 WHERE name = $2",
                &[due.into(), job.into()],
            )
            .await
            .expect("make the job due");
        let (a, b) = tokio::join!(runners[0].run_due(), runners[1].run_due());
        let outcomes = [a.expect("poll a"), b.expect("poll b")];
        let ran = outcomes
            .iter()
            .filter(|outcome| matches!(outcome, RunOutcome::Ran { .. }))
            .count();
        assert_eq!(ran, 1, "round {round}: {outcomes:?}");
        assert!(
            outcomes.contains(&RunOutcome::NothingDue),
            "round {round}: {outcomes:?}"
        );
    }

    let runs = app
        .count(
            "SELECT count(*) FROM job_runs WHERE job_name = $1 AND result = 'ok'",
            &[job.into()],
        )
        .await;
    assert_eq!(runs, rounds);
    let next = app
        .text_column(
            "SELECT next_run_at FROM scheduled_jobs WHERE name = $1",
            &[job.into()],
        )
        .await
        .expect("a schedule row");
    let next = ombud_store::parse_timestamp(&next).expect("a time");
    assert!(
        next > chrono::Utc::now(),
        "the job was not moved on: {next}"
    );
}

#[tokio::test]
async fn purge_job_removes_only_expired_credentials() {
    let app = spawn_app().await;
    let tenant = app.tenant("purge@example.com", "Purge Shop").await;
    let long_ago = chrono::Utc::now() - chrono::Duration::days(3);
    app.store
        .execute(
            "INSERT INTO refresh_tokens (id, user_id, token_hash, expires_at, created_at) \
             VALUES ($1, $2, 'expired-hash', $3, $3)",
            &[
                Uuid::new_v4().into(),
                tenant.user_id.into(),
                long_ago.into(),
            ],
        )
        .await
        .expect("insert an expired refresh token");
    let before = app.count("SELECT count(*) FROM refresh_tokens", &[]).await;

    let runner = JobRunner::new(app.store.clone(), Metrics::new().into(), "solo".to_owned());
    runner.register().await.expect("register jobs");
    let outcome = runner.run_due().await.expect("poll");
    assert!(matches!(outcome, RunOutcome::Ran { .. }), "{outcome:?}");

    let after = app.count("SELECT count(*) FROM refresh_tokens", &[]).await;
    assert_eq!(after, before - 1);
    let expired_left = app
        .count(
            "SELECT count(*) FROM refresh_tokens WHERE token_hash = 'expired-hash'",
            &[],
        )
        .await;
    assert_eq!(expired_left, 0);
    // The tenant's live session still refreshes.
    let refreshed = app
        .post_json(
            "/v1/token",
            &[],
            &json!({ "refreshToken": tenant.refresh_token }),
        )
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert_eq!(
        runner.run_due().await.expect("poll again"),
        RunOutcome::NothingDue
    );
}

#[tokio::test]
async fn refresh_token_is_used_once_across_two_servers() {
    let app = spawn_app().await;
    let peer = app.spawn_peer().await;
    let tenant = app.tenant("refresh@example.com", "Refresh Shop").await;

    let attempts = (0..10).map(|round| {
        let address = if round % 2 == 0 {
            app.address.clone()
        } else {
            peer.address.clone()
        };
        let client = app.client.clone();
        let token = tenant.refresh_token.clone();
        async move {
            client
                .post(format!("{address}/v1/token"))
                .json(&json!({ "refreshToken": token }))
                .send()
                .await
                .expect("POST /v1/token")
                .status()
                .as_u16()
        }
    });
    let statuses = join_all(attempts).await;

    assert_eq!(
        statuses.iter().filter(|status| **status == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|status| *status == 200 || *status == 401),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn concurrent_graphql_updates_keep_an_exact_history() {
    let app = spawn_app().await;
    let peer = app.spawn_peer().await;
    let tenant = app.tenant("updates@example.com", "Update Shop").await;
    let purpose = app
        .insert_purpose(
            &tenant.access_token,
            tenant.controller_id,
            "Analytics",
            None,
        )
        .await;
    let first = app
        .upsert_consents(
            &tenant.access_token,
            tenant.controller_id,
            None,
            json!({ purpose.to_string(): false }),
        )
        .await;
    let subject = parse_uuid(&first["dataSubjectId"]);

    let updates = (0..20).map(|round| {
        let address = if round % 2 == 0 {
            app.address.clone()
        } else {
            peer.address.clone()
        };
        let client = app.client.clone();
        let token = tenant.access_token.clone();
        async move {
            post_graphql(
                &client,
                &address,
                &token,
                "mutation ($subject: uuid!, $purpose: uuid!, $value: String!) {
                   updateDataSubjectConsentFormValues(
                     where: {dataSubjectId: {_eq: $subject}, dataControllerProcessingPurposeId: {_eq: $purpose}},
                     _set: {value: $value}) { affectedRows } }",
                json!({ "subject": subject, "purpose": purpose, "value": if round % 3 == 0 { "false" } else { "true" } }),
            )
            .await
        }
    });
    for body in join_all(updates).await {
        assert_eq!(
            body["data"]["updateDataSubjectConsentFormValues"]["affectedRows"], 1,
            "{body}"
        );
    }

    let events = app
        .store
        .fetch_rows(
            "SELECT value, previous_value FROM consent_events WHERE data_subject_id = $1 ORDER BY created_at, id",
            &[subject.into()],
        )
        .await
        .expect("read the consent history");
    assert_eq!(events.len(), 21);
    let mut last: Option<String> = None;
    for event in &events {
        let previous = event.text(1).expect("previous value").map(str::to_owned);
        assert_eq!(previous, last, "history chain broken");
        last = Some(event.required_text(0).expect("value").to_owned());
    }
}
