//! The test harness: a real server on 127.0.0.1, port 0, over a fresh
//! database, with typed request helpers.
//!
//! The database is SQLite in a temporary data directory, or, when
//! `OMBUD_TEST_BACKEND=postgres`, a new PostgreSQL database that the test
//! creates and drops on the server at `OMBUD_TEST_POSTGRES_URL`
//! (default `postgres://postgres@127.0.0.1:5432/postgres`).

use ombud_server::accounts::Bootstrap;
use ombud_server::{AppState, Secret, Settings};
use ombud_store::{SqlValue, Store};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::oneshot;
use uuid::Uuid;

/// The value of `X-Hasura-Admin-Secret` that every test server accepts.
pub const ADMIN_SECRET: &str = "test-admin-secret-0123456789";

/// A running server and direct access to its database.
pub struct TestApp {
    /// Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`.
    pub address: String,
    pub client: reqwest::Client,
    pub store: Store,
    pub settings: Settings,
    shutdown: Option<oneshot::Sender<()>>,
    /// The PostgreSQL database of this test, dropped with it.
    pub database: Option<TestDatabase>,
    // Dropped last so the database files outlive the server task.
    _data_dir: TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// Returns whether the tests run on PostgreSQL, from `OMBUD_TEST_BACKEND`.
pub fn postgres_requested() -> bool {
    match std::env::var("OMBUD_TEST_BACKEND").as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Err(_) => false,
        Ok(other) => panic!("OMBUD_TEST_BACKEND must be sqlite or postgres, not {other:?}"),
    }
}

/// Returns the server-level URL the test databases are created through.
pub fn postgres_admin_url() -> String {
    std::env::var("OMBUD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A PostgreSQL database created for one test and dropped when it ends.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    pub async fn create() -> TestDatabase {
        use sqlx::Connection;

        let admin_url = postgres_admin_url();
        let name = format!("ombud_test_{}", Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|error| {
                panic!(
                    "OMBUD_TEST_BACKEND=postgres but PostgreSQL at {admin_url} is unreachable: {error}"
                )
            });
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|error| panic!("create database {name}: {error}"));
        let _ = admin.close().await;
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(base, _)| base);
        TestDatabase {
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop cannot await, and the test's runtime may be shutting down, so
        // the database is dropped from a thread with its own runtime.
        let name = self.name.clone();
        let admin_url = postgres_admin_url();
        let dropped = std::thread::spawn(move || {
            use sqlx::Connection;

            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    if let Err(error) = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(&mut admin)
                        .await
                    {
                        eprintln!("could not drop test database {name}: {error}");
                    }
                    let _ = admin.close().await;
                }
            });
        });
        let _ = dropped.join();
    }
}

/// Starts a server with default settings and the test admin secret.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server after `configure` has adjusted its settings.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let database = if postgres_requested() {
        Some(TestDatabase::create().await)
    } else {
        None
    };
    spawn_app_on(database, configure).await
}

/// Starts a server on `database`, or on SQLite when it is `None`.
pub async fn spawn_app_on(
    database: Option<TestDatabase>,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let data_dir = tempfile::tempdir().expect("create a temporary data directory");

    let mut settings = Settings {
        data_dir: data_dir.path().to_path_buf(),
        ..Settings::default()
    };
    settings.auth.admin_secret = Some(Secret::new(ADMIN_SECRET.to_owned()));
    settings.auth.password_hash_concurrency = 1;
    // Tests that exercise background jobs turn the runner on themselves.
    settings.jobs.poll_interval_ms = 0;
    if let Some(database) = &database {
        settings.database.url = Some(Secret::new(database.url.clone()));
    }
    configure(&mut settings);

    let store = settings.open_store().await.expect("open the store");
    store.migrate().await.expect("apply migrations");
    let (address, shutdown) = start_server(settings.clone(), store.clone()).await;

    TestApp {
        address,
        client: reqwest::Client::new(),
        store,
        settings,
        shutdown: Some(shutdown),
        database,
        _data_dir: data_dir,
    }
}

/// Serves `store` on a new port; returns the base URL and the shutdown trigger.
async fn start_server(settings: Settings, store: Store) -> (String, oneshot::Sender<()>) {
    let state = AppState::new(settings, store)
        .await
        .expect("build the application state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let port = listener
        .local_addr()
        .expect("read the bound address")
        .port();
    let (shutdown_sender, shutdown_receiver) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = shutdown_receiver.await;
        };
        if let Err(error) = ombud_server::serve(listener, state, shutdown).await {
            eprintln!("test server stopped with an error: {error}");
        }
    });
    (format!("http://127.0.0.1:{port}"), shutdown_sender)
}

/// A second ombud instance on the same database, with its own connection
/// pool, as another process would have.
pub struct PeerServer {
    pub address: String,
    pub store: Store,
    _shutdown: oneshot::Sender<()>,
}

impl TestApp {
    /// Starts another server over this app's database and settings.
    pub async fn spawn_peer(&self) -> PeerServer {
        let store = self
            .settings
            .open_store()
            .await
            .expect("open the store for the peer");
        let (address, shutdown) = start_server(self.settings.clone(), store.clone()).await;
        PeerServer {
            address,
            store,
            _shutdown: shutdown,
        }
    }
}

/// A staff user who owns one data controller, with a signed-in session.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub user_id: Uuid,
    pub controller_id: Uuid,
    pub controller_title: String,
    pub controller_did: String,
    pub personal_access_token: String,
    pub access_token: String,
    pub refresh_token: String,
}

/// An HTTP status with its JSON body.
#[derive(Debug)]
pub struct JsonResponse {
    pub status: StatusCode,
    pub body: Value,
}

/// The reply of `POST /v1/graphql`.
#[derive(Debug)]
pub struct GraphqlResponse {
    pub status: StatusCode,
    pub body: Value,
}

impl GraphqlResponse {
    /// Returns the `data` object of a successful response and fails the test on any error.
    pub fn data(&self) -> &Value {
        assert_eq!(
            self.status,
            StatusCode::OK,
            "unexpected HTTP status, body: {}",
            self.body
        );
        assert!(
            self.body.get("errors").is_none(),
            "unexpected GraphQL errors: {}",
            self.body
        );
        self.body
            .get("data")
            .unwrap_or_else(|| panic!("no data in {}", self.body))
    }

    /// `extensions.code` of the first error, if there is an error.
    pub fn error_code(&self) -> Option<&str> {
        self.body["errors"][0]["extensions"]["code"].as_str()
    }

    /// Returns `error` of an authentication failure. The GraphQL endpoint returns 401s in
    /// the auth endpoints' `{status, message, error}` shape, without `errors`.
    pub fn auth_error_code(&self) -> Option<&str> {
        assert_eq!(
            self.status,
            StatusCode::UNAUTHORIZED,
            "expected 401, body: {}",
            self.body
        );
        assert_eq!(self.body["status"], serde_json::json!(401), "{}", self.body);
        self.body["error"].as_str()
    }

    /// Returns the message of the first error and fails the test when there is none.
    pub fn error_message(&self) -> &str {
        self.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("expected a GraphQL error, got {}", self.body))
    }
}

impl TestApp {
    /// Sends a JSON body to `path` with optional extra headers and returns the status and JSON reply.
    pub async fn post_json(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: &Value,
    ) -> JsonResponse {
        let mut request = self
            .client
            .post(format!("{}{path}", self.address))
            .json(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|error| panic!("POST {path} failed: {error}"));
        read_json(response).await
    }

    pub async fn get_json(&self, path: &str) -> JsonResponse {
        let response = self
            .client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET {path} failed: {error}"));
        read_json(response).await
    }

    /// Creates a user, a controller owned by it and a PAT, as `ombud bootstrap` does.
    pub async fn bootstrap(&self, email: &str, title: &str) -> Bootstrap {
        ombud_server::accounts::bootstrap(&self.store, email, title, None, 90)
            .await
            .expect("bootstrap a user and a data controller")
    }

    /// Like [`TestApp::bootstrap`], with an Argon2id hash of `password` stored for the user.
    pub async fn bootstrap_with_password(
        &self,
        email: &str,
        title: &str,
        password: &str,
    ) -> Bootstrap {
        let hasher = ombud_auth::PasswordHasher::new(1).expect("create a password hasher");
        let hash = hasher
            .hash(ombud_auth::SecretPassword::new(password.to_owned()))
            .await
            .expect("hash the password");
        ombud_server::accounts::bootstrap(&self.store, email, title, Some(hash), 90)
            .await
            .expect("bootstrap a user with a password")
    }

    /// Creates a staff user without any controller and returns its id and a PAT.
    pub async fn create_user(&self, email: &str) -> (Uuid, String) {
        let user = ombud_server::accounts::ensure_user(&self.store, email, None)
            .await
            .expect("create a staff user");
        let expires_at = chrono::Utc::now() + chrono::Duration::days(30);
        let pat = ombud_server::accounts::create_personal_access_token(
            &self.store,
            user.id,
            "test",
            expires_at,
        )
        .await
        .expect("create a personal access token");
        (user.id, pat.token.expose().to_owned())
    }

    pub async fn sign_in_pat_raw(&self, personal_access_token: &str) -> JsonResponse {
        self.post_json(
            "/v1/signin/pat",
            &[],
            &json!({ "personalAccessToken": personal_access_token }),
        )
        .await
    }

    /// Exchanges a PAT for a session; returns `(accessToken, refreshToken)`.
    pub async fn sign_in_pat(&self, personal_access_token: &str) -> (String, String) {
        let response = self.sign_in_pat_raw(personal_access_token).await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "PAT sign-in failed: {}",
            response.body
        );
        session_tokens(&response.body)
    }

    /// Bootstraps a user and controller and signs the user in.
    pub async fn tenant(&self, email: &str, title: &str) -> Tenant {
        let bootstrap = self.bootstrap(email, title).await;
        let (access_token, refresh_token) =
            self.sign_in_pat(&bootstrap.personal_access_token).await;
        Tenant {
            user_id: bootstrap.user_id,
            controller_id: bootstrap.data_controller_id,
            controller_title: title.to_owned(),
            controller_did: bootstrap.data_controller_did,
            personal_access_token: bootstrap.personal_access_token,
            access_token,
            refresh_token,
        }
    }

    /// Posts a raw body to `/v1/graphql` with exactly the given headers.
    pub async fn graphql_raw(&self, headers: &[(&str, &str)], body: String) -> GraphqlResponse {
        let mut request = self
            .client
            .post(format!("{}/v1/graphql", self.address))
            .header("Content-Type", "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|error| panic!("POST /v1/graphql failed: {error}"));
        let JsonResponse { status, body } = read_json(response).await;
        GraphqlResponse { status, body }
    }

    /// Runs a GraphQL document with a bearer token as `role`.
    pub async fn graphql_as(
        &self,
        access_token: &str,
        role: &str,
        query: &str,
        variables: Value,
    ) -> GraphqlResponse {
        let authorization = format!("Bearer {access_token}");
        let headers = [
            ("Authorization", authorization.as_str()),
            ("X-Hasura-Role", role),
        ];
        self.graphql_raw(&headers, request_body(query, variables))
            .await
    }

    /// Runs a GraphQL document as the staff role `user`, as the published clients do.
    pub async fn graphql_user(
        &self,
        access_token: &str,
        query: &str,
        variables: Value,
    ) -> GraphqlResponse {
        self.graphql_as(access_token, "user", query, variables)
            .await
    }

    /// Runs a GraphQL document as `admin` through `X-Hasura-Admin-Secret`.
    pub async fn graphql_admin(&self, query: &str, variables: Value) -> GraphqlResponse {
        self.graphql_raw(
            &[("X-Hasura-Admin-Secret", ADMIN_SECRET)],
            request_body(query, variables),
        )
        .await
    }

    /// Inserts a data subject into `controller_id` as role `user` and returns its id.
    pub async fn insert_subject(&self, access_token: &str, controller_id: Uuid) -> Uuid {
        let response = self
            .graphql_user(
                access_token,
                "mutation ($controller: uuid!) { insertDataSubject(object: {dataControllerId: $controller}) { id } }",
                json!({ "controller": controller_id }),
            )
            .await;
        parse_uuid(&response.data()["insertDataSubject"]["id"])
    }

    /// Inserts a processing purpose as role `user` and returns its id.
    pub async fn insert_purpose(
        &self,
        access_token: &str,
        controller_id: Uuid,
        title: &str,
        description: Option<&str>,
    ) -> Uuid {
        let response = self
            .graphql_user(
                access_token,
                "mutation ($object: data_controller_processing_purposes_insert_input!) { \
                   insertDataControllerProcessingPurpose(object: $object) { id } }",
                json!({ "object": {
                    "dataControllerId": controller_id,
                    "title": title,
                    "description": description,
                    "category": "analytics",
                    "legalBasis": "consent",
                    "consentMode": "opt_in",
                }}),
            )
            .await;
        parse_uuid(&response.data()["insertDataControllerProcessingPurpose"]["id"])
    }

    /// Inserts a rights request for `subject_id` as role `user` and returns the row.
    pub async fn insert_rights_request(
        &self,
        access_token: &str,
        subject_id: Uuid,
        request_type: &str,
    ) -> Value {
        let response = self
            .graphql_user(
                access_token,
                "mutation ($input: data_subject_rights_requests_insert_input!) { \
                   insertDataSubjectRightsRequest(object: $input) { id requestType status dataControllerId receivedAt dueAt } }",
                json!({ "input": { "dataSubjectId": subject_id, "requestType": request_type } }),
            )
            .await;
        response.data()["insertDataSubjectRightsRequest"].clone()
    }

    /// Records consent through the action with flat arguments and returns its `data` object.
    pub async fn upsert_consents(
        &self,
        access_token: &str,
        controller_id: Uuid,
        subject_id: Option<Uuid>,
        purposes: Value,
    ) -> Value {
        let response = self
            .graphql_user(
                access_token,
                "mutation ($controller: uuid!, $subject: uuid, $purposes: jsonb!) { \
                   upsertDataSubjectConsents(dataControllerId: $controller, dataSubjectId: $subject, purposes: $purposes) { \
                     status data { dataSubjectId upsertedCount consentCookie } } }",
                json!({ "controller": controller_id, "subject": subject_id, "purposes": purposes }),
            )
            .await;
        response.data()["upsertDataSubjectConsents"]["data"].clone()
    }

    /// Runs `SELECT count(*) ...` directly on the database.
    pub async fn count(&self, sql: &str, params: &[SqlValue]) -> i64 {
        let row = self
            .store
            .fetch_optional(sql, params)
            .await
            .unwrap_or_else(|error| panic!("{sql} failed: {error}"))
            .unwrap_or_else(|| panic!("{sql} returned no row"));
        row.int(0)
            .unwrap_or_else(|error| panic!("{sql} did not return a count: {error}"))
    }

    /// Reads one text column of one row directly from the database.
    pub async fn text_column(&self, sql: &str, params: &[SqlValue]) -> Option<String> {
        let row = self
            .store
            .fetch_optional(sql, params)
            .await
            .unwrap_or_else(|error| panic!("{sql} failed: {error}"))?;
        row.text(0)
            .unwrap_or_else(|error| panic!("{sql} did not return text: {error}"))
            .map(str::to_owned)
    }
}

async fn read_json(response: reqwest::Response) -> JsonResponse {
    let status = response.status();
    let text = response.text().await.expect("read the response body");
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("response is not JSON ({error}): {text}"));
    JsonResponse { status, body }
}

fn request_body(query: &str, variables: Value) -> String {
    json!({ "query": query, "variables": variables }).to_string()
}

/// `(accessToken, refreshToken)` of a `{"session": ...}` body.
pub fn session_tokens(body: &Value) -> (String, String) {
    let session = &body["session"];
    let access = session["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("no accessToken in {body}"));
    let refresh = session["refreshToken"]
        .as_str()
        .unwrap_or_else(|| panic!("no refreshToken in {body}"));
    (access.to_owned(), refresh.to_owned())
}

pub fn parse_uuid(value: &Value) -> Uuid {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("expected a uuid string, got {value}"));
    Uuid::parse_str(text).unwrap_or_else(|error| panic!("{text:?} is not a uuid: {error}"))
}

/// Collects the ids of a list of rows, in response order.
pub fn ids(rows: &Value) -> Vec<Uuid> {
    rows.as_array()
        .unwrap_or_else(|| panic!("expected a list of rows, got {rows}"))
        .iter()
        .map(|row| parse_uuid(&row["id"]))
        .collect()
}

/// Decodes unpadded base64url (RFC 4648 section 5), as used in JWT segments.
pub fn base64url_decode(text: &str) -> Vec<u8> {
    let mut output = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for character in text.trim_end_matches('=').bytes() {
        let value = match character {
            b'A'..=b'Z' => character - b'A',
            b'a'..=b'z' => character - b'a' + 26,
            b'0'..=b'9' => character - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            other => panic!("{:?} is not a base64url character", other as char),
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            output.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    output
}

/// Decodes the JSON of one segment of a compact JWT (0 = header, 1 = payload).
pub fn jwt_segment(token: &str, index: usize) -> Value {
    let segment = token
        .split('.')
        .nth(index)
        .unwrap_or_else(|| panic!("the JWT has no segment {index}"));
    serde_json::from_slice(&base64url_decode(segment)).expect("the JWT segment is JSON")
}
