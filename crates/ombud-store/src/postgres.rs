//! The PostgreSQL backend: connecting, binding values and decoding rows.

use std::str::FromStr;

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{
    PgArgumentBuffer, PgConnectOptions, PgPoolOptions, PgRow, PgSslMode, PgTypeInfo,
};
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, PgPool, Postgres, Row as _, TypeInfo, ValueRef};

use crate::error::StoreError;
use crate::executor::{PostgresOptions, SslMode};
use crate::value::{Row, SqlValue};

/// Connects the pool and checks that the server accepts a connection.
pub(crate) async fn open(options: &PostgresOptions) -> Result<PgPool, StoreError> {
    let mut connect = PgConnectOptions::from_str(&options.url).map_err(|error| {
        // sqlx's message does not repeat the URL, which may hold a password.
        StoreError::InvalidUrl(error.to_string())
    })?;
    let target = format!(
        "postgres://{}:{}/{}",
        connect.get_host(),
        connect.get_port(),
        connect.get_database().unwrap_or_default()
    );

    // Times leave the database as UTC text in one format; the session time
    // zone must not shift them.
    let mut session = vec![("timezone".to_owned(), "UTC".to_owned())];
    if let Some(timeout) = options.statement_timeout {
        session.push((
            "statement_timeout".to_owned(),
            timeout.as_millis().to_string(),
        ));
    }
    connect = connect.application_name("ombud").options(session);
    if let Some(mode) = options.ssl_mode {
        connect = connect.ssl_mode(match mode {
            SslMode::Disable => PgSslMode::Disable,
            SslMode::Prefer => PgSslMode::Prefer,
            SslMode::Require => PgSslMode::Require,
            SslMode::VerifyCa => PgSslMode::VerifyCa,
            SslMode::VerifyFull => PgSslMode::VerifyFull,
        });
    }
    if let Some(cert) = &options.ssl_root_cert {
        connect = connect.ssl_root_cert(cert);
    }

    PgPoolOptions::new()
        .max_connections(options.max_connections.max(1))
        .acquire_timeout(options.acquire_timeout)
        .connect_with(connect)
        .await
        .map_err(|source| StoreError::Open { target, source })
}

/// A NULL whose type PostgreSQL infers from where it is used. Binding
/// `Option<String>` would declare it `text`, which a `uuid` or `timestamptz`
/// column refuses.
struct UntypedNull;

impl sqlx::Type<Postgres> for UntypedNull {
    fn type_info() -> PgTypeInfo {
        // OID 0 leaves the parameter's type unspecified in the Parse message.
        PgTypeInfo::with_oid(Oid(0))
    }
}

impl sqlx::Encode<'_, Postgres> for UntypedNull {
    fn encode_by_ref(&self, _buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Ok(IsNull::Yes)
    }
}

// Every dynamic SQL text reaches PostgreSQL through the functions below. The
// texts come from ombud's own compiler and fixed strings: identifiers are
// taken from table metadata and every value is a bound parameter, which is
// what makes `AssertSqlSafe` true here.

type PgQuery<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

fn bind_all<'q>(mut query: PgQuery<'q>, params: &[SqlValue]) -> PgQuery<'q> {
    for param in params {
        query = match param {
            SqlValue::Null => query.bind(UntypedNull),
            SqlValue::Bool(value) => query.bind(*value),
            SqlValue::Int(value) => query.bind(*value),
            SqlValue::Float(value) => query.bind(*value),
            SqlValue::Text(value) => query.bind(value.clone()),
            SqlValue::Uuid(value) => query.bind(*value),
            SqlValue::Timestamp(value) => query.bind(*value),
            SqlValue::Json(value) => query.bind(Json(value.clone())),
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
    E: sqlx::Executor<'e, Database = Postgres>,
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
    E: sqlx::Executor<'e, Database = Postgres>,
{
    let row = bind_all(sqlx::query(AssertSqlSafe(sql)), params)
        .fetch_optional(executor)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    match decode_value(&row, 0)? {
        SqlValue::Null => Ok(None),
        SqlValue::Text(text) => Ok(Some(text)),
        other => Err(StoreError::Decode {
            column: 0,
            detail: format!("expected JSON, found {other:?}"),
        }),
    }
}

pub(crate) async fn fetch_rows<'e, E>(
    executor: E,
    sql: &str,
    params: &[SqlValue],
) -> Result<Vec<Row>, StoreError>
where
    E: sqlx::Executor<'e, Database = Postgres>,
{
    let rows = bind_all(sqlx::query(AssertSqlSafe(sql)), params)
        .fetch_all(executor)
        .await?;
    rows.iter()
        .map(|row| {
            (0..row.len())
                .map(|index| decode_value(row, index))
                .collect::<Result<Vec<_>, _>>()
                .map(Row)
        })
        .collect()
}

/// Decodes one column into the same values the SQLite backend returns: ids,
/// times and JSON as text.
fn decode_value(row: &PgRow, index: usize) -> Result<SqlValue, StoreError> {
    let raw = row.try_get_raw(index)?;
    if raw.is_null() {
        return Ok(SqlValue::Null);
    }
    let type_name = raw.type_info().name().to_owned();
    Ok(match type_name.as_str() {
        "VOID" => SqlValue::Null,
        "BOOL" => SqlValue::Bool(row.try_get::<bool, _>(index)?),
        "INT2" => SqlValue::Int(i64::from(row.try_get::<i16, _>(index)?)),
        "INT4" => SqlValue::Int(i64::from(row.try_get::<i32, _>(index)?)),
        "INT8" => SqlValue::Int(row.try_get::<i64, _>(index)?),
        "FLOAT4" => SqlValue::Float(f64::from(row.try_get::<f32, _>(index)?)),
        "FLOAT8" => SqlValue::Float(row.try_get::<f64, _>(index)?),
        "UUID" => SqlValue::Text(row.try_get::<uuid::Uuid, _>(index)?.to_string()),
        "TIMESTAMPTZ" => SqlValue::Text(crate::format_timestamp(
            row.try_get::<chrono::DateTime<chrono::Utc>, _>(index)?,
        )),
        "JSON" | "JSONB" => SqlValue::Text(
            row.try_get::<Json<Box<serde_json::value::RawValue>>, _>(index)?
                .0
                .get()
                .to_owned(),
        ),
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => SqlValue::Text(row.try_get::<String, _>(index)?),
        other => {
            return Err(StoreError::Decode {
                column: index,
                detail: format!("PostgreSQL type {other} is not decoded by ombud"),
            });
        }
    })
}
