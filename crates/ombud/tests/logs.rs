//! What `ombud serve` writes to its log at the most verbose level: request
//! ids, but never tokens, passwords, emails, secrets or query strings, whatever
//! the requests carry.

// Tests report failures by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const EMAIL: &str = "log-check-person@example.com";
const PASSWORD: &str = "correct horse battery staple 42";
const ADMIN_SECRET: &str = "admin-secret-never-in-logs-9f3c";
const QUERY_MARKER: &str = "ticket-never-in-logs-77aa";

struct Server {
    child: Child,
    address: String,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(data_dir: &std::path::Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ombud"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("OMBUD_LOG", "trace")
        .env("OMBUD_LOG_FORMAT", "json")
        .env("OMBUD_AUTH__ADMIN_SECRET", ADMIN_SECRET)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ombud serve");
    let stderr = child.stderr.take().expect("the server's stderr");
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    let collected = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            collected.lock().unwrap().push(line);
        }
    });

    let deadline = Instant::now() + Duration::from_secs(60);
    let address = loop {
        let found = lines.lock().unwrap().iter().find_map(|line| {
            let record: Value = serde_json::from_str(line).ok()?;
            (record["fields"]["message"] == "ombud is listening")
                .then(|| record["fields"]["address"].as_str().map(str::to_owned))
                .flatten()
        });
        if let Some(address) = found {
            break address;
        }
        assert!(Instant::now() < deadline, "ombud serve did not start");
        std::thread::sleep(Duration::from_millis(50));
    };
    Server {
        child,
        address: format!("http://{address}"),
        lines,
    }
}

fn bootstrap(data_dir: &std::path::Path) -> Value {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ombud"))
        .args([
            "bootstrap",
            "--email",
            EMAIL,
            "--controller",
            "Log Shop",
            "--json",
            "--password-stdin",
            "--data-dir",
        ])
        .arg(data_dir)
        .env("OMBUD_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run ombud bootstrap");
    child
        .stdin
        .take()
        .expect("bootstrap stdin")
        .write_all(PASSWORD.as_bytes())
        .expect("write the password");
    let output = child.wait_with_output().expect("bootstrap output");
    assert!(output.status.success(), "bootstrap failed");
    serde_json::from_slice(&output.stdout).expect("bootstrap JSON")
}

#[tokio::test]
async fn trace_logs_carry_request_ids_but_no_secrets() {
    let directory = tempfile::tempdir().unwrap();
    let server = start(directory.path());
    let created = bootstrap(directory.path());
    let pat = created["personalAccessToken"].as_str().unwrap().to_owned();
    let dx_key = created["dxKey"].as_str().unwrap().to_owned();
    let client = reqwest::Client::new();

    let signed_in: Value = client
        .post(format!("{}/v1/signin/email-password", server.address))
        .json(&json!({ "email": EMAIL, "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access_token = signed_in["session"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let refresh_token = signed_in["session"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let pat_session: Value = client
        .post(format!("{}/v1/signin/pat", server.address))
        .json(&json!({ "personalAccessToken": pat }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        pat_session["session"]["accessToken"].is_string(),
        "{pat_session}"
    );

    let response = client
        .post(format!(
            "{}/v1/graphql?ticket={QUERY_MARKER}",
            server.address
        ))
        .bearer_auth(&access_token)
        .header("x-request-id", "log-check-request")
        .json(&json!({
            "query": "query ($t: String) { dataControllers(where: {title: {_eq: $t}}) { id } }",
            "variables": { "t": EMAIL },
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let admin = client
        .post(format!("{}/v1/graphql", server.address))
        .header("X-Hasura-Admin-Secret", ADMIN_SECRET)
        .json(&json!({ "query": "{ users { email } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status(), 200);
    let refreshed = client
        .post(format!("{}/v1/token", server.address))
        .json(&json!({ "refreshToken": refresh_token }))
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let log = server.lines.lock().unwrap().join("\n");
    assert!(
        log.contains("log-check-request"),
        "the request id is not logged"
    );
    for (what, secret) in [
        ("email", EMAIL),
        ("password", PASSWORD),
        ("admin secret", ADMIN_SECRET),
        ("query string", QUERY_MARKER),
        ("personal access token", pat.as_str()),
        ("dxKey", dx_key.as_str()),
        ("access token", access_token.as_str()),
        ("refresh token", refresh_token.as_str()),
    ] {
        assert!(!log.contains(secret), "the log contains the {what}");
    }
}
