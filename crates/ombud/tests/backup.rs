//! `ombud backup` against a running `ombud serve`: the copy taken while the
//! server runs starts a second server on a fresh data directory, which then
//! serves the data written before the backup and none written after it.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

/// How long a server may take to log its listening address.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// An `ombud serve` child process, killed when dropped.
struct Server {
    child: Child,
    address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `ombud serve` on a free port of 127.0.0.1 and waits for its
/// "ombud is listening" log line, which carries the bound address.
fn start_server(data_dir: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ombud"))
        .arg("serve")
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("OMBUD_LOG", "info")
        .env("OMBUD_LOG_FORMAT", "json")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ombud serve");
    let stderr = child.stderr.take().expect("capture the server's stderr");
    let mut server = Server {
        child,
        address: String::new(),
    };

    // The thread keeps reading after the address is found, so the server
    // never blocks on a full pipe. It echoes every line for failure output.
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sender = Some(sender);
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else {
                break;
            };
            eprintln!("server: {line}");
            if let Some(address) = listening_address(&line)
                && let Some(sender) = sender.take()
            {
                let _ = sender.send(address);
            }
        }
    });

    let address = receiver
        .recv_timeout(START_TIMEOUT)
        .unwrap_or_else(|error| panic!("ombud serve did not report its address: {error}"));
    server.address = format!("http://{address}");
    server
}

fn listening_address(line: &str) -> Option<String> {
    let record: Value = serde_json::from_str(line).ok()?;
    let fields = record.get("fields")?;
    if fields.get("message")?.as_str()? != "ombud is listening" {
        return None;
    }
    Some(fields.get("address")?.as_str()?.to_owned())
}

/// Runs an `ombud` command that exits, and returns its output.
async fn run_ombud(args: &[&str], data_dir: &Path) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_ombud"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("OMBUD_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap_or_else(|error| panic!("run ombud {args:?}: {error}"))
}

async fn sign_in(client: &reqwest::Client, address: &str, pat: &str) -> String {
    let response = client
        .post(format!("{address}/v1/signin/pat"))
        .json(&json!({ "personalAccessToken": pat }))
        .send()
        .await
        .expect("POST /v1/signin/pat");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("sign-in body is JSON");
    body["session"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("no accessToken in {body}"))
        .to_owned()
}

/// Runs a GraphQL document as role `user` and returns `data`, failing on any error.
async fn graphql(
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
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("GraphQL body is JSON");
    assert!(body.get("errors").is_none(), "GraphQL errors: {body}");
    body["data"].clone()
}

async fn insert_purpose(
    client: &reqwest::Client,
    address: &str,
    access_token: &str,
    controller_id: &str,
    title: &str,
) {
    graphql(
        client,
        address,
        access_token,
        "mutation ($object: data_controller_processing_purposes_insert_input!) { \
           insertDataControllerProcessingPurpose(object: $object) { id } }",
        json!({ "object": {
            "dataControllerId": controller_id,
            "title": title,
            "category": "analytics",
            "legalBasis": "consent",
            "consentMode": "opt_in",
        }}),
    )
    .await;
}

async fn insert_subject(
    client: &reqwest::Client,
    address: &str,
    access_token: &str,
    controller_id: &str,
) -> String {
    let data = graphql(
        client,
        address,
        access_token,
        "mutation ($controller: uuid!) { insertDataSubject(object: {dataControllerId: $controller}) { id } }",
        json!({ "controller": controller_id }),
    )
    .await;
    data["insertDataSubject"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {data}"))
        .to_owned()
}

fn ids(rows: &Value) -> Vec<String> {
    rows.as_array()
        .unwrap_or_else(|| panic!("expected a list, got {rows}"))
        .iter()
        .map(|row| row["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Data subjects a second client inserts before the backup starts; it keeps
/// inserting until the backup has finished.
const INSERTS_BEFORE_BACKUP: usize = 3;

/// Upper bound on the second client's inserts, so the test always ends.
const MAX_CONCURRENT_INSERTS: usize = 2000;

/// Everything the test writes before the backup, except data subjects,
/// which change while the backup runs.
const SNAPSHOT_QUERY: &str = "{ \
    dataControllers { id title } \
    dataControllerProcessingPurposes(orderBy: {title: asc}) { title } \
    dataSubjectRightsRequests { id requestType dataSubjectId } }";

const SUBJECTS_QUERY: &str = "{ dataSubjects { id } }";

fn titles(rows: &Value) -> Vec<String> {
    rows.as_array()
        .unwrap_or_else(|| panic!("expected a list, got {rows}"))
        .iter()
        .map(|row| row["title"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn backup_of_serving_database_restores() {
    let live_dir = tempfile::tempdir().unwrap();
    let backup_dir = tempfile::tempdir().unwrap();
    let restore_dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let live = start_server(live_dir.path());

    let bootstrap = run_ombud(
        &[
            "bootstrap",
            "--email",
            "backup@example.com",
            "--controller",
            "Backup Shop",
            "--json",
        ],
        live_dir.path(),
    )
    .await;
    assert!(
        bootstrap.status.success(),
        "bootstrap failed: {}",
        String::from_utf8_lossy(&bootstrap.stderr)
    );
    let created: Value = serde_json::from_slice(&bootstrap.stdout).expect("bootstrap JSON");
    let pat = created["personalAccessToken"].as_str().unwrap().to_owned();
    let controller_id = created["dataControllerId"].as_str().unwrap().to_owned();
    let access_token = sign_in(&client, &live.address, &pat).await;

    insert_purpose(
        &client,
        &live.address,
        &access_token,
        &controller_id,
        "Analytics",
    )
    .await;
    insert_purpose(
        &client,
        &live.address,
        &access_token,
        &controller_id,
        "Newsletter",
    )
    .await;
    let subject_id = insert_subject(&client, &live.address, &access_token, &controller_id).await;
    graphql(
        &client,
        &live.address,
        &access_token,
        "mutation ($input: data_subject_rights_requests_insert_input!) { \
           insertDataSubjectRightsRequest(object: $input) { id } }",
        json!({ "input": { "dataSubjectId": subject_id, "requestType": "access" } }),
    )
    .await;
    let before_backup = graphql(
        &client,
        &live.address,
        &access_token,
        SNAPSHOT_QUERY,
        json!({}),
    )
    .await;

    // Another client keeps writing before, during and after the backup.
    let inserted = Arc::new(AtomicUsize::new(0));
    let backup_done = Arc::new(AtomicBool::new(false));
    let writer = {
        let client = client.clone();
        let address = live.address.clone();
        let access_token = access_token.clone();
        let controller_id = controller_id.clone();
        let inserted = inserted.clone();
        let backup_done = backup_done.clone();
        tokio::spawn(async move {
            while !backup_done.load(Ordering::SeqCst)
                && inserted.load(Ordering::SeqCst) < MAX_CONCURRENT_INSERTS
            {
                insert_subject(&client, &address, &access_token, &controller_id).await;
                inserted.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    while inserted.load(Ordering::SeqCst) < INSERTS_BEFORE_BACKUP {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let output = backup_dir.path().join("ombud-backup.sqlite3");
    let output_text = output.to_str().unwrap();
    let backup = run_ombud(&["backup", "--output", output_text], live_dir.path()).await;
    backup_done.store(true, Ordering::SeqCst);
    writer.await.expect("the concurrent writer finished");
    let stdout = String::from_utf8_lossy(&backup.stdout);
    assert!(
        backup.status.success(),
        "backup failed: {}",
        String::from_utf8_lossy(&backup.stderr)
    );
    let size = std::fs::metadata(&output).expect("the backup exists").len();
    assert!(
        stdout.contains(&format!("wrote {size} bytes to {output_text}")),
        "{stdout}"
    );

    // The live server keeps serving and writing after the backup.
    insert_purpose(
        &client,
        &live.address,
        &access_token,
        &controller_id,
        "After backup",
    )
    .await;
    let live_subjects = graphql(
        &client,
        &live.address,
        &access_token,
        SUBJECTS_QUERY,
        json!({}),
    )
    .await;
    let live_subjects = ids(&live_subjects["dataSubjects"]);
    assert_eq!(live_subjects.len(), 1 + inserted.load(Ordering::SeqCst));
    let health = client
        .get(format!("{}/readyz", live.address))
        .send()
        .await
        .expect("GET /readyz");
    assert_eq!(health.status(), StatusCode::OK);

    // A second backup to the same path is rejected and leaves the file alone.
    let copy_bytes = std::fs::read(&output).unwrap();
    let again = run_ombud(&["backup", "--output", output_text], live_dir.path()).await;
    assert!(!again.status.success());
    let again_stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again_stderr.contains("already exists"), "{again_stderr}");
    assert_eq!(std::fs::read(&output).unwrap(), copy_bytes);

    std::fs::copy(&output, restore_dir.path().join("ombud.sqlite3")).unwrap();
    let keys_dir = restore_dir.path().join("keys");
    std::fs::create_dir(&keys_dir).unwrap();
    for entry in std::fs::read_dir(live_dir.path().join("keys")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), keys_dir.join(entry.file_name())).unwrap();
    }
    let restored = start_server(restore_dir.path());
    let restored_token = sign_in(&client, &restored.address, &pat).await;
    let after_restore = graphql(
        &client,
        &restored.address,
        &restored_token,
        SNAPSHOT_QUERY,
        json!({}),
    )
    .await;
    let restored_subjects = graphql(
        &client,
        &restored.address,
        &restored_token,
        SUBJECTS_QUERY,
        json!({}),
    )
    .await;
    let restored_subjects = ids(&restored_subjects["dataSubjects"]);

    assert_eq!(after_restore, before_backup);
    assert_eq!(
        titles(&after_restore["dataControllerProcessingPurposes"]),
        ["Analytics", "Newsletter"]
    );
    assert_eq!(
        after_restore["dataControllers"][0]["title"],
        json!("Backup Shop")
    );
    assert!(
        restored_subjects.contains(&subject_id),
        "{restored_subjects:?}"
    );
    // The copy contains the subjects committed before the backup's read began,
    // so every one of them is also on the live server.
    eprintln!(
        "the copy holds {} of {} subjects",
        restored_subjects.len(),
        live_subjects.len()
    );
    assert!(restored_subjects.len() > INSERTS_BEFORE_BACKUP);
    for id in &restored_subjects {
        assert!(live_subjects.contains(id), "unknown subject {id}");
    }
    assert_eq!(
        after_restore["dataSubjectRightsRequests"][0]["requestType"],
        json!("access")
    );
}

#[tokio::test]
async fn backup_without_database_fails() {
    let empty_dir = tempfile::tempdir().unwrap();
    let output = empty_dir.path().join("copy.sqlite3");

    let result = run_ombud(
        &["backup", "--output", output.to_str().unwrap()],
        empty_dir.path(),
    )
    .await;

    assert!(!result.status.success());
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("there is no database"), "{stderr}");
    assert!(!output.exists());
    assert!(!empty_dir.path().join("ombud.sqlite3").exists());
}
