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
    /// Returns the current time, as a value for a timestamp column.
    pub fn now() -> SqlValue {
        SqlValue::Timestamp(Utc::now())
    }

    /// Converts the value to an element of a JSON list bound with
    /// [`crate::Dialect::json_list`]: ids and times as their stored text.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            SqlValue::Null => serde_json::Value::Null,
            SqlValue::Bool(value) => serde_json::Value::Bool(*value),
            SqlValue::Int(value) => serde_json::Value::from(*value),
            SqlValue::Float(value) => serde_json::Value::from(*value),
            SqlValue::Text(value) => serde_json::Value::String(value.clone()),
            SqlValue::Uuid(value) => serde_json::Value::String(value.to_string()),
            SqlValue::Timestamp(value) => {
                serde_json::Value::String(crate::format_timestamp(*value))
            }
            SqlValue::Json(value) => value.clone(),
        }
    }

    /// Binds a list of values as one JSON array, for [`crate::Dialect::json_list`].
    pub fn list(values: &[SqlValue]) -> SqlValue {
        SqlValue::Json(serde_json::Value::Array(
            values.iter().map(SqlValue::to_json).collect(),
        ))
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

/// Rewrites JSON with object keys in PostgreSQL's `jsonb` order (shorter keys
/// first, then byte order), so that SQLite stores, compares and returns the
/// same text PostgreSQL does for the same value.
pub fn canonical_json(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(members) => {
            let mut sorted: Vec<(&String, &serde_json::Value)> = members.iter().collect();
            sorted.sort_by(|(left, _), (right, _)| {
                left.len()
                    .cmp(&right.len())
                    .then_with(|| left.as_bytes().cmp(right.as_bytes()))
            });
            serde_json::Value::Object(
                sorted
                    .into_iter()
                    .map(|(key, member)| (key.clone(), canonical_json(member)))
                    .collect(),
            )
        }
        serde_json::Value::Array(elements) => {
            serde_json::Value::Array(elements.iter().map(canonical_json).collect())
        }
        scalar => scalar.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_orders_keys_like_jsonb() {
        let value =
            serde_json::json!({"zz": 1, "b": {"yy": 2, "a": 3}, "aa": [ {"c": 1, "bb": 2} ]});
        assert_eq!(
            canonical_json(&value).to_string(),
            r#"{"b":{"a":3,"yy":2},"aa":[{"c":1,"bb":2}],"zz":1}"#
        );
    }
}
