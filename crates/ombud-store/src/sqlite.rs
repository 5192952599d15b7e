//! The SQLite backend: opening the file, binding values and decoding rows.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row as _, Sqlite, SqlitePool, TypeInfo, ValueRef};

use crate::error::StoreError;
use crate::value::{Row, SqlValue};

/// How long a connection waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens the reader and writer pools of `data_dir/ombud.sqlite3`.
pub(crate) async fn open(
    data_dir: &Path,
    max_readers: u32,
) -> Result<(SqlitePool, SqlitePool), StoreError> {
    std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
        path: data_dir.display().to_string(),
        source,
    })?;
    let path = data_dir.join("ombud.sqlite3");
    let open_error = |source| StoreError::Open {
        target: path.display().to_string(),
        source,
    };

    let options = SqliteConnectOptions::from_str("sqlite:")
        .map_err(open_error)?
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT)
        // SQLite's LIKE ignores ASCII case by default; Hasura's `_like` is
        // case-sensitive and `_ilike` exists for the other case.
        .pragma("case_sensitive_like", "ON");

    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone())
        .await
        .map_err(open_error)?;
    let reader = SqlitePoolOptions::new()
        .max_connections(max_readers.max(1))
        .connect_with(options.pragma("query_only", "ON"))
        .await
        .map_err(open_error)?;
    Ok((reader, writer))
}

// Every dynamic SQL text reaches SQLite through the functions below. The texts
// come from ombud's own compiler and fixed strings: identifiers are taken from
// table metadata and every value is a bound parameter, which is what makes
// `AssertSqlSafe` true here.

type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments>;

fn bind_all<'q>(mut query: SqliteQuery<'q>, params: &[SqlValue]) -> SqliteQuery<'q> {
    for param in params {
        query = match param {
            SqlValue::Null => query.bind(None::<String>),
            SqlValue::Bool(value) => query.bind(*value),
            SqlValue::Int(value) => query.bind(*value),
            SqlValue::Float(value) => query.bind(*value),
            SqlValue::Text(value) => query.bind(value.clone()),
            SqlValue::Uuid(value) => query.bind(value.to_string()),
            SqlValue::Timestamp(value) => query.bind(crate::format_timestamp(*value)),
            SqlValue::Json(value) => query.bind(crate::value::canonical_json(value).to_string()),
        };
    }
    query
}

pub(crate) async fn execute<'e, E>(
    executor: E,
    sql: &str,
    params: &[SqlValue],
) -> Result<u64, StoreError>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    let result = bind_all(sqlx::query(AssertSqlSafe(sql)), params)
        .execute(executor)
        .await?;
    Ok(result.rows_affected())
}

pub(crate) async fn fetch_json<'e, E>(
    executor: E,
    sql: &str,
    params: &[SqlValue],
) -> Result<Option<String>, StoreError>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    let row = bind_all(sqlx::query(AssertSqlSafe(sql)), params)
        .fetch_optional(executor)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(row.try_get::<Option<String>, _>(0)?)
}

pub(crate) async fn fetch_rows<'e, E>(
    executor: E,
    sql: &str,
    params: &[SqlValue],
) -> Result<Vec<Row>, StoreError>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    let rows = bind_all(sqlx::query(AssertSqlSafe(sql)), params)
        .fetch_all(executor)
        .await?;
    rows.iter().map(decode_row).collect()
}

fn decode_row(row: &SqliteRow) -> Result<Row, StoreError> {
    let mut values = Vec::with_capacity(row.len());
    for index in 0..row.len() {
        let raw = row.try_get_raw(index)?;
        if raw.is_null() {
            values.push(SqlValue::Null);
            continue;
        }
        let value = match raw.type_info().name() {
            "INTEGER" | "BOOLEAN" => SqlValue::Int(row.try_get::<i64, _>(index)?),
            "REAL" => SqlValue::Float(row.try_get::<f64, _>(index)?),
            _ => SqlValue::Text(row.try_get::<String, _>(index)?),
        };
        values.push(value);
    }
    Ok(Row(values))
}
