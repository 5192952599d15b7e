//! The database seam: both migration sets build the same schema, the
//! migration ledger guards `serve`, and PostgreSQL's operational settings
//! (statement timeout, TLS, outage and recovery) take effect.
//!
//! Tests that need PostgreSQL run in both passes of the suite. Where the
//! server at `OMBUD_TEST_POSTGRES_URL` is unreachable they fail when `CI` is
//! set and otherwise skip with a printed reason.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ombud_server::Secret;
use ombud_store::{PostgresOptions, SqlValue, SslMode, Store, StoreError};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::AbortHandle;

use crate::helpers::{TestDatabase, postgres_admin_url, spawn_app, spawn_app_on};

/// Creates a PostgreSQL test database, or explains why the test cannot run.
async fn postgres_database(test: &str) -> Option<TestDatabase> {
    use sqlx::Connection;

    match sqlx::PgConnection::connect(&postgres_admin_url()).await {
        Ok(connection) => {
            let _ = connection.close().await;
            Some(TestDatabase::create().await)
        }
        Err(error) if std::env::var_os("CI").is_some() => {
            panic!(
                "{test} needs PostgreSQL at {}: {error}",
                postgres_admin_url()
            )
        }
        Err(error) => {
            eprintln!(
                "SKIPPED {test}: no PostgreSQL at {} ({error}); CI requires it",
                postgres_admin_url()
            );
            None
        }
    }
}

fn postgres_options(url: &str) -> PostgresOptions {
    PostgresOptions {
        url: url.to_owned(),
        max_connections: 2,
        acquire_timeout: Duration::from_secs(5),
        statement_timeout: None,
        ssl_mode: None,
        ssl_root_cert: None,
    }
}

/// A database schema reduced to what both dialects must agree on.
#[derive(Debug, Default, PartialEq)]
struct Schema {
    /// table -> column -> (logical type, not null)
    columns: BTreeMap<String, BTreeMap<String, (&'static str, bool)>>,
    primary_keys: BTreeSet<(String, String)>,
    uniques: BTreeSet<(String, String)>,
    /// (table, columns, referenced table, on delete)
    foreign_keys: BTreeSet<(String, String, String, String)>,
    /// (table, column) -> allowed text values of its CHECK constraint
    checked_values: BTreeMap<(String, String), BTreeSet<String>>,
    indexes: BTreeSet<String>,
}

/// Text values quoted in a CHECK definition, e.g. `role IN ('owner', 'admin')`.
fn quoted_values(definition: &str) -> BTreeSet<String> {
    definition
        .split('\'')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// Returns the column a single-column CHECK definition tests: the first identifier.
fn checked_column(definition: &str) -> String {
    definition
        .trim_start_matches(|c: char| !c.is_ascii_alphabetic())
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .next()
        .unwrap_or_default()
        .to_owned()
}

async fn rows(store: &Store, sql: &str, params: &[SqlValue]) -> Vec<Vec<String>> {
    store
        .fetch_rows(sql, params)
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
        .into_iter()
        .map(|row| {
            row.0
                .iter()
                .map(|value| match value {
                    SqlValue::Text(text) => text.clone(),
                    SqlValue::Int(number) => number.to_string(),
                    SqlValue::Bool(flag) => flag.to_string(),
                    SqlValue::Null => String::new(),
                    other => format!("{other:?}"),
                })
                .collect()
        })
        .collect()
}

async fn sqlite_schema(store: &Store) -> Schema {
    let mut schema = Schema::default();
    let tables = rows(
        store,
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        &[],
    )
    .await;
    for table in &tables {
        let (name, sql) = (&table[0], &table[1]);
        let mut boolean_columns = BTreeSet::new();
        for line in sql.lines() {
            let line = line.trim();
            if let Some(at) = line.find("CHECK (") {
                let definition = &line[at + "CHECK (".len()..];
                if definition.contains("IN (0, 1)") {
                    boolean_columns.insert(checked_column(definition));
                    continue;
                }
                let values = quoted_values(definition);
                if !values.is_empty() {
                    schema
                        .checked_values
                        .insert((name.clone(), checked_column(definition)), values);
                }
            }
        }
        // Multi-line CHECK lists continue on the next lines; gather them per column.
        for (column, values) in multi_line_checks(sql) {
            schema.checked_values.insert((name.clone(), column), values);
        }

        let columns = rows(
            store,
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info($1) ORDER BY cid",
            &[name.as_str().into()],
        )
        .await;
        let mut table_columns = BTreeMap::new();
        for column in &columns {
            let logical = if boolean_columns.contains(&column[0]) {
                "boolean"
            } else if column[1] == "INTEGER" {
                "integer"
            } else {
                "text"
            };
            table_columns.insert(column[0].clone(), (logical, column[2] == "1"));
            if column[3] != "0" {
                schema
                    .primary_keys
                    .insert((name.clone(), column[0].clone()));
            }
        }
        schema.columns.insert(name.clone(), table_columns);

        for index in rows(
            store,
            "SELECT name, origin FROM pragma_index_list($1) WHERE origin IN ('u', 'c')",
            &[name.as_str().into()],
        )
        .await
        {
            let indexed: Vec<String> = rows(
                store,
                "SELECT name FROM pragma_index_info($1) ORDER BY seqno",
                &[index[0].as_str().into()],
            )
            .await
            .into_iter()
            .map(|row| row[0].clone())
            .collect();
            if index[1] == "u" {
                schema.uniques.insert((name.clone(), indexed.join(",")));
            } else {
                schema.indexes.insert(index[0].clone());
            }
        }
        for key in rows(
            store,
            "SELECT \"from\", \"table\", on_delete FROM pragma_foreign_key_list($1)",
            &[name.as_str().into()],
        )
        .await
        {
            schema.foreign_keys.insert((
                name.clone(),
                key[0].clone(),
                key[1].clone(),
                key[2].to_lowercase(),
            ));
        }
    }
    schema
}

/// CHECK lists that SQLite's schema text spreads over several lines, such as
/// `category TEXT ... CHECK (category IN\n ('essential', ...))`.
fn multi_line_checks(sql: &str) -> Vec<(String, BTreeSet<String>)> {
    let mut found = Vec::new();
    let mut rest = sql;
    while let Some(at) = rest.find("CHECK (") {
        let after = &rest[at + "CHECK (".len()..];
        // The definition ends at the parenthesis that closes `CHECK (`.
        let mut depth = 1;
        let end = after
            .char_indices()
            .find(|(_, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .map_or(after.len(), |(index, _)| index);
        let definition = &after[..end];
        if definition.contains('\n') {
            found.push((checked_column(definition), quoted_values(definition)));
        }
        rest = &after[end.min(after.len())..];
    }
    found
}

async fn postgres_schema(store: &Store) -> Schema {
    let mut schema = Schema::default();
    for column in rows(
        store,
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text \
         FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position",
        &[],
    )
    .await
    {
        let logical = match column[2].as_str() {
            "boolean" => "boolean",
            "integer" | "bigint" => "integer",
            _ => "text",
        };
        schema
            .columns
            .entry(column[0].clone())
            .or_default()
            .insert(column[1].clone(), (logical, column[3] == "NO"));
    }
    for constraint in rows(
        store,
        "SELECT c.conrelid::regclass::text, c.contype::text, \
           (SELECT string_agg(a.attname::text, ',' ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord) \
              JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = k.attnum), \
           coalesce(c.confrelid::regclass::text, ''), c.confdeltype::text, pg_get_constraintdef(c.oid) \
         FROM pg_constraint AS c JOIN pg_namespace AS n ON n.oid = c.connamespace \
         WHERE n.nspname = 'public'",
        &[],
    )
    .await
    {
        let (table, kind, columns) = (&constraint[0], &constraint[1], &constraint[2]);
        match kind.as_str() {
            "p" => {
                schema.primary_keys.insert((table.clone(), columns.clone()));
            }
            "u" => {
                schema.uniques.insert((table.clone(), columns.clone()));
            }
            "f" => {
                let on_delete = match constraint[4].as_str() {
                    "c" => "cascade",
                    "n" => "set null",
                    "r" => "restrict",
                    _ => "no action",
                };
                schema.foreign_keys.insert((
                    table.clone(),
                    columns.clone(),
                    constraint[3].clone(),
                    on_delete.to_owned(),
                ));
            }
            "c" => {
                let values = quoted_values(&constraint[5]);
                if !values.is_empty() {
                    schema
                        .checked_values
                        .insert((table.clone(), columns.clone()), values);
                }
            }
            _ => {}
        }
    }
    for index in rows(
        store,
        "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public' \
           AND indexname NOT IN (SELECT conname FROM pg_constraint)",
        &[],
    )
    .await
    {
        schema.indexes.insert(index[0].clone());
    }
    schema
}

#[tokio::test]
async fn both_migration_sets_create_the_same_schema() {
    let Some(database) = postgres_database("both_migration_sets_create_the_same_schema").await
    else {
        return;
    };
    let directory = tempfile::tempdir().expect("a temporary directory");
    let sqlite = Store::open_sqlite(directory.path(), 1)
        .await
        .expect("open SQLite");
    sqlite.migrate().await.expect("migrate SQLite");
    let postgres = Store::open_postgres(&postgres_options(&database.url))
        .await
        .expect("open PostgreSQL");
    postgres.migrate().await.expect("migrate PostgreSQL");

    let expected = sqlite_schema(&sqlite).await;
    let actual = postgres_schema(&postgres).await;

    // Field by field, so that a failure names the part that differs.
    assert_eq!(actual.columns, expected.columns);
    assert_eq!(actual.primary_keys, expected.primary_keys);
    assert_eq!(actual.uniques, expected.uniques);
    assert_eq!(actual.foreign_keys, expected.foreign_keys);
    assert_eq!(actual.checked_values, expected.checked_values);
    assert_eq!(actual.indexes, expected.indexes);
    // The comparison has something to compare.
    assert!(
        expected.columns.len() >= 12,
        "{:?}",
        expected.columns.keys()
    );
    assert!(expected.checked_values.len() >= 8);
    postgres.close().await;
}

#[tokio::test]
async fn unknown_or_missing_migrations_are_refused() {
    let app = spawn_app().await;
    assert_eq!(app.store.check_migrations().await.ok(), Some(()));

    app.store
        .execute(
            "INSERT INTO ombud_migrations (version, description, applied_at) VALUES ($1, $2, $3)",
            &[
                SqlValue::Int(999),
                "from a newer ombud".into(),
                SqlValue::now(),
            ],
        )
        .await
        .expect("record an unknown migration");
    let error = app
        .store
        .check_migrations()
        .await
        .expect_err("an unknown migration is refused");
    assert!(matches!(
        error,
        StoreError::UnknownMigration { version: 999 }
    ));
    assert!(error.to_string().contains("run a newer ombud"), "{error}");

    app.store
        .execute(
            "DELETE FROM ombud_migrations WHERE version IN ($1, $2)",
            &[SqlValue::Int(999), SqlValue::Int(2)],
        )
        .await
        .expect("forget a migration");
    let error = app
        .store
        .check_migrations()
        .await
        .expect_err("a pending migration is refused");
    assert!(error.to_string().contains("run `ombud migrate`"), "{error}");
    assert!(matches!(
        error,
        StoreError::PendingMigrations { pending: 1 }
    ));
}

#[tokio::test]
async fn statement_timeout_cancels_long_statements() {
    let Some(database) = postgres_database("statement_timeout_cancels_long_statements").await
    else {
        return;
    };
    let mut options = postgres_options(&database.url);
    options.statement_timeout = Some(Duration::from_millis(200));
    let store = Store::open_postgres(&options).await.expect("open");

    let started = Instant::now();
    let error = store
        .fetch_rows("SELECT pg_sleep(5)", &[])
        .await
        .expect_err("the statement is cancelled");
    assert!(matches!(error, StoreError::StatementTimeout), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    store.close().await;
}

#[tokio::test]
async fn tls_modes_are_applied_to_postgres_connections() {
    let Some(database) = postgres_database("tls_modes_are_applied_to_postgres_connections").await
    else {
        return;
    };

    let mut required = postgres_options(&database.url);
    required.ssl_mode = Some(SslMode::Require);
    let store = Store::open_postgres(&required)
        .await
        .expect("connect over TLS");
    let encrypted = rows(
        &store,
        "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        &[],
    )
    .await;
    assert_eq!(encrypted, vec![vec!["true".to_owned()]]);
    store.close().await;

    let mut plain = postgres_options(&database.url);
    plain.ssl_mode = Some(SslMode::Disable);
    let store = Store::open_postgres(&plain)
        .await
        .expect("connect in clear");
    let encrypted = rows(
        &store,
        "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        &[],
    )
    .await;
    assert_eq!(encrypted, vec![vec!["false".to_owned()]]);
    store.close().await;

    // The local server's certificate is self-signed, so full verification
    // without its CA must refuse to connect rather than fall back.
    let mut verified = postgres_options(&database.url);
    verified.ssl_mode = Some(SslMode::VerifyFull);
    verified.acquire_timeout = Duration::from_secs(2);
    let error = Store::open_postgres(&verified)
        .await
        .expect_err("an unverifiable certificate is refused");
    assert!(matches!(error, StoreError::Open { .. }), "{error:?}");
}

/// A TCP relay between ombud and PostgreSQL that the test can cut and restore,
/// standing in for a database host that goes away.
struct Relay {
    port: u16,
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Relay {
    async fn start(port: u16) -> Relay {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind the relay");
        let port = listener.local_addr().expect("relay address").port();
        let tasks: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let connections = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let relay = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect("127.0.0.1:5432").await
                    {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                connections
                    .lock()
                    .expect("relay task list")
                    .push(relay.abort_handle());
            }
        });
        tasks
            .lock()
            .expect("relay task list")
            .push(accept.abort_handle());
        Relay { port, tasks }
    }

    /// Closes the listener and every relayed connection.
    async fn cut(&self) {
        for task in self.tasks.lock().expect("relay task list").drain(..) {
            task.abort();
        }
        // Give the aborted tasks a moment to drop their sockets.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn ready(app: &crate::helpers::TestApp) -> u16 {
    app.client
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .expect("GET /readyz")
        .status()
        .as_u16()
}

#[tokio::test]
async fn database_outage_and_recovery() {
    let Some(database) = postgres_database("lost_database_gives_503_and_ombud_recovers").await
    else {
        return;
    };
    let database_name = database.name.clone();
    let relay = Relay::start(0).await;
    let relay_port = relay.port;
    let app = spawn_app_on(Some(database), move |settings| {
        settings.database.url = Some(Secret::new(format!(
            "postgres://postgres@127.0.0.1:{relay_port}/{database_name}"
        )));
        settings.database.acquire_timeout_ms = 1000;
    })
    .await;
    let tenant = app.tenant("outage@example.com", "Outage Shop").await;
    let query = "query { dataControllers { id } }";
    assert_eq!(ready(&app).await, 200);

    relay.cut().await;
    assert_eq!(ready(&app).await, 503);
    let started = Instant::now();
    let response = app
        .graphql_user(&tenant.access_token, query, json!({}))
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        response.error_code(),
        Some("database-unavailable"),
        "{}",
        response.body
    );
    let sign_in = app.sign_in_pat_raw(&tenant.personal_access_token).await;
    assert_eq!(sign_in.status, 503, "{}", sign_in.body);
    assert_eq!(sign_in.body["error"], "database-unavailable");

    let _restored = Relay::start(relay_port).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while ready(&app).await != 200 {
        assert!(Instant::now() < deadline, "ombud did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let response = app
        .graphql_user(&tenant.access_token, query, json!({}))
        .await;
    assert_eq!(
        response.data()["dataControllers"][0]["id"],
        json!(tenant.controller_id.to_string())
    );
}
