use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row as _, Sqlite, SqlitePool, TypeInfo, ValueRef};

use crate::error::StoreError;
use crate::migrations;

/// A value bound to a `$n` placeholder or read from a result column.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

impl From<&str> for SqlValue {
    fn from(value: &str) -> Self {
        SqlValue::Text(value.to_owned())
    }
}

impl From<String> for SqlValue {
    fn from(value: String) -> Self {
        SqlValue::Text(value)
    }
}

impl From<bool> for SqlValue {
    fn from(value: bool) -> Self {
        SqlValue::Bool(value)
    }
}

impl From<i64> for SqlValue {
    fn from(value: i64) -> Self {
        SqlValue::Int(value)
    }
}

impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(value: Option<T>) -> Self {
        value.map_or(SqlValue::Null, Into::into)
    }
}

/// One result row, decoded without knowing the query's types in advance.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<SqlValue>);

impl Row {
    /// Returns the text in column `index`, or `None` for NULL.
    pub fn text(&self, index: usize) -> Result<Option<&str>, StoreError> {
        match self.0.get(index) {
            Some(SqlValue::Text(text)) => Ok(Some(text)),
            Some(SqlValue::Null) => Ok(None),
            other => Err(decode_error(index, "text", other)),
        }
    }

    /// Returns the text in column `index`, which must not be NULL.
    pub fn required_text(&self, index: usize) -> Result<&str, StoreError> {
        self.text(index)?
            .ok_or_else(|| decode_error(index, "text", Some(&SqlValue::Null)))
    }

    /// Returns the boolean in column `index`; SQLite stores booleans as 0 and 1.
    pub fn bool(&self, index: usize) -> Result<bool, StoreError> {
        match self.0.get(index) {
            Some(SqlValue::Bool(value)) => Ok(*value),
            Some(SqlValue::Int(value)) => Ok(*value != 0),
            other => Err(decode_error(index, "boolean", other)),
        }
    }

    /// Returns the integer in column `index`.
    pub fn int(&self, index: usize) -> Result<i64, StoreError> {
        match self.0.get(index) {
            Some(SqlValue::Int(value)) => Ok(*value),
            other => Err(decode_error(index, "integer", other)),
        }
    }
}

fn decode_error(column: usize, expected: &str, found: Option<&SqlValue>) -> StoreError {
    StoreError::Decode {
        column,
        detail: format!("expected {expected}, found {found:?}"),
    }
}

/// The database behind one ombud installation.
///
/// SQLite allows one writer at a time, so writes go through a pool of one
/// connection and start with `BEGIN IMMEDIATE`. A plain `BEGIN` takes the
/// write lock only at the first write, and then fails at once with
/// `SQLITE_BUSY` while another process (for example `ombud bootstrap`) has
/// it, ignoring `busy_timeout`. Reads use a separate pool, and in WAL mode a
/// reader does not block on an open write transaction.
#[derive(Clone, Debug)]
pub struct Store {
    reader: SqlitePool,
    writer: SqlitePool,
}

/// How long a connection waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

impl Store {
    /// Opens (creating if needed) the SQLite database in `data_dir` without
    /// touching its schema; call [`Store::migrate`] or [`Store::check_migrations`] next.
    pub async fn open_sqlite(data_dir: &Path, max_readers: u32) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let path = data_dir.join("ombud.sqlite3");
        let open_error = |source| StoreError::Open {
            path: path.display().to_string(),
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

        Ok(Store { reader, writer })
    }

    /// Applies every migration of this build that the database lacks.
    pub async fn migrate(&self) -> Result<Vec<i64>, StoreError> {
        migrations::apply(&self.writer).await
    }

    /// Versions of the migrations already applied to the database.
    pub async fn applied_migrations(&self) -> Result<Vec<i64>, StoreError> {
        migrations::applied_versions(&self.writer).await
    }

    /// Fails unless the database has exactly the migrations of this build.
    pub async fn check_migrations(&self) -> Result<(), StoreError> {
        match migrations::status(&self.writer).await? {
            crate::MigrationStatus::UpToDate => Ok(()),
            crate::MigrationStatus::Pending(pending) => Err(StoreError::PendingMigrations {
                pending: pending.len(),
            }),
        }
    }

    /// Runs a read query whose first row's first column is JSON text.
    pub async fn fetch_json(
        &self,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Option<String>, StoreError> {
        fetch_json(&self.reader, sql, params).await
    }

    /// Runs a read query and decodes every row.
    pub async fn fetch_rows(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Row>, StoreError> {
        fetch_rows(&self.reader, sql, params).await
    }

    /// Runs a read query and decodes its first row, if any.
    pub async fn fetch_optional(
        &self,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Option<Row>, StoreError> {
        Ok(fetch_rows(&self.reader, sql, params)
            .await?
            .into_iter()
            .next())
    }

    /// Runs one writing statement in its own transaction; returns the rows affected.
    pub async fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let affected = tx.execute(sql, params).await?;
        tx.commit().await?;
        Ok(affected)
    }

    /// Starts a write transaction that holds SQLite's write lock from its first statement.
    pub async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        let tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        Ok(WriteTx { tx })
    }

    /// Returns whether the database accepts a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.reader).await.is_ok()
    }

    /// Closes both pools, waiting for checked-out connections to return.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

/// A write transaction. Dropping it without [`WriteTx::commit`] rolls it back.
pub struct WriteTx {
    tx: sqlx::Transaction<'static, Sqlite>,
}

impl WriteTx {
    /// Runs one statement; returns the rows affected.
    pub async fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64, StoreError> {
        let result = bind_all(sqlx::query(AssertSqlSafe(sql)), params)
            .execute(&mut *self.tx)
            .await?;
        Ok(result.rows_affected())
    }

    /// Runs a query whose first row's first column is JSON text, seeing this transaction's writes.
    pub async fn fetch_json(
        &mut self,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Option<String>, StoreError> {
        fetch_json(&mut *self.tx, sql, params).await
    }

    /// Runs a query and decodes every row, seeing this transaction's writes.
    pub async fn fetch_rows(
        &mut self,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Vec<Row>, StoreError> {
        fetch_rows(&mut *self.tx, sql, params).await
    }

    /// Runs a query and decodes its first row, if any.
    pub async fn fetch_optional(
        &mut self,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Option<Row>, StoreError> {
        Ok(fetch_rows(&mut *self.tx, sql, params)
            .await?
            .into_iter()
            .next())
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }
}

// Every dynamic SQL text in ombud reaches the database through the three
// functions below. The texts come from ombud's own compiler and fixed strings:
// identifiers are taken from table metadata and every value is a bound
// parameter, which is what makes `AssertSqlSafe` true here.

type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments>;

fn bind_all<'q>(mut query: SqliteQuery<'q>, params: &[SqlValue]) -> SqliteQuery<'q> {
    for param in params {
        query = match param {
            SqlValue::Null => query.bind(None::<String>),
            SqlValue::Bool(value) => query.bind(*value),
            SqlValue::Int(value) => query.bind(*value),
            SqlValue::Float(value) => query.bind(*value),
            SqlValue::Text(value) => query.bind(value.clone()),
        };
    }
    query
}

async fn fetch_json<'e, E>(
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

async fn fetch_rows<'e, E>(
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
