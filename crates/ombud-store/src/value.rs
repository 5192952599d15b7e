use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::StoreError;

/// A value bound to a `$n` placeholder or read from a result column.
///
/// Ids, times and JSON carry their type so that one SQL text serves both
/// backends: PostgreSQL binds them as native `uuid`, `timestamptz` and `jsonb`,
/// SQLite as text. Rows read back always hold them as [`SqlValue::Text`], in
/// the same format on both backends (times as [`crate::format_timestamp`]).
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Uuid(Uuid),
    Timestamp(DateTime<Utc>),
    Json(serde_json::Value),
}

impl SqlValue {
    /// The current time, as a value for a timestamp column.
    pub fn now() -> SqlValue {
        SqlValue::Timestamp(Utc::now())
    }
}

impl From<Uuid> for SqlValue {
    fn from(value: Uuid) -> Self {
        SqlValue::Uuid(value)
    }
}

impl From<DateTime<Utc>> for SqlValue {
    fn from(value: DateTime<Utc>) -> Self {
        SqlValue::Timestamp(value)
    }
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
