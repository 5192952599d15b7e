//! The audit log: one `audit_log` row for every row that GraphQL inserts,
//! updates or deletes, appended in the transaction of the write so that both
//! commit or roll back together.
//!
//! Values of columns marked personal in the metadata are never copied: such a
//! column is named in `changed_columns` but left out of `changes`. A foreign-key
//! cascade writes no audit rows. When a controller is deleted, the log records
//! that delete but not the removal of the controller's subjects and registers.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ombud_store::{SqlValue, WriteTx};
use uuid::Uuid;

use crate::error::GraphqlError;
use crate::metadata::{Catalog, Column, ScalarType, Table};
use crate::session::Session;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    Insert,
    Update,
    Delete,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Insert => "insert",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }
}

/// One written row, with the columns the client set and their stored values.
pub(crate) struct Entry {
    pub row_id: Uuid,
    pub operation: Operation,
    /// Empty for deletes.
    pub changed: Vec<(&'static Column, SqlValue)>,
}

/// Appends the audit rows of `entries`, all rows of `table`, with the
/// controller each row belongs to. Call it while the rows exist: after an
/// insert or update, before a delete.
pub(crate) async fn append_all(
    tx: &mut WriteTx,
    catalog: &Catalog,
    session: &Session,
    table: &Table,
    entries: &[Entry],
    created_at: DateTime<Utc>,
) -> Result<(), GraphqlError> {
    if entries.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = entries.iter().map(|entry| entry.row_id).collect();
    let controllers = controller_ids(tx, catalog, table, &ids).await?;
    for entry in entries {
        let controller = controllers.get(&entry.row_id).copied().flatten();
        append(tx, session, table, controller, entry, created_at).await?;
    }
    Ok(())
}

/// Reads the controller each row of `ids` belongs to, by following the table's
/// controller path. Rows outside any controller map to `None`.
///
/// For `data_subject_consent_form_values` the statement is
///
/// ```sql
/// SELECT t0."id", t2."id" FROM "data_subject_consent_form_values" AS t0
///   LEFT JOIN "data_subjects" AS t1 ON t1."id" = t0."data_subject_id"
///   LEFT JOIN "data_controllers" AS t2 ON t2."id" = t1."data_controller_id"
///   WHERE t0."id" IN (<the ids, as one JSON list parameter>)
/// ```
async fn controller_ids(
    tx: &mut WriteTx,
    catalog: &Catalog,
    table: &Table,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Option<Uuid>>, GraphqlError> {
    let Some(path) = table.controller_path else {
        return Ok(ids.iter().map(|id| (*id, None)).collect());
    };
    if path.is_empty() || ids.is_empty() {
        return Ok(ids.iter().map(|id| (*id, Some(*id))).collect());
    }

    let mut joins = String::new();
    let mut current = table;
    let mut alias = "t0".to_owned();
    for (index, field) in path.iter().enumerate() {
        let relationship = current.relationship(field).ok_or_else(|| {
            GraphqlError::NotSupported(format!("{} has no relationship {field}", current.sql))
        })?;
        let target = catalog.table(relationship.target).ok_or_else(|| {
            GraphqlError::NotSupported(format!("unknown table {}", relationship.target))
        })?;
        let next = format!("t{}", index + 1);
        joins.push_str(&format!(
            " LEFT JOIN \"{}\" AS {next} ON {next}.\"{}\" = {alias}.\"{}\"",
            target.sql, relationship.remote_column, relationship.local_column
        ));
        current = target;
        alias = next;
    }

    let ids_value: Vec<SqlValue> = ids.iter().map(|id| SqlValue::Uuid(*id)).collect();
    let sql = format!(
        "SELECT t0.\"id\", {alias}.\"id\" FROM \"{}\" AS t0{joins} WHERE t0.\"id\" IN ({})",
        table.sql,
        tx.dialect().json_list("$1", ombud_store::ColumnKind::Uuid)
    );
    let rows = tx.fetch_rows(&sql, &[SqlValue::list(&ids_value)]).await?;

    let mut controllers = HashMap::with_capacity(ids.len());
    for row in &rows {
        let row_id = stored_uuid(row.required_text(0)?)?;
        let controller = row.text(1)?.map(stored_uuid).transpose()?;
        controllers.insert(row_id, controller);
    }
    Ok(controllers)
}

fn stored_uuid(text: &str) -> Result<Uuid, GraphqlError> {
    Uuid::parse_str(text)
        .map_err(|error| GraphqlError::NotSupported(format!("stored id is not a uuid: {error}")))
}

/// Appends the audit row of one written row of `table`.
pub(crate) async fn append(
    tx: &mut WriteTx,
    session: &Session,
    table: &Table,
    controller: Option<Uuid>,
    entry: &Entry,
    created_at: DateTime<Utc>,
) -> Result<(), GraphqlError> {
    let changed_columns: Vec<serde_json::Value> = entry
        .changed
        .iter()
        .map(|(column, _)| column.field.into())
        .collect();
    let changes: serde_json::Map<String, serde_json::Value> = entry
        .changed
        .iter()
        .filter(|(column, _)| !column.personal)
        .map(|(column, value)| (column.field.to_owned(), json_value(column, value)))
        .collect();

    // In an INSERT's VALUES list PostgreSQL takes a NULL's type from the
    // target column, so the untyped NULLs of a missing actor or controller bind.
    tx.execute(
        "INSERT INTO audit_log (id, data_controller_id, actor_user_id, actor_role, operation, \
         table_name, row_id, changed_columns, changes, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            Uuid::new_v4().into(),
            controller.into(),
            session.user_id.into(),
            session.role.as_str().into(),
            entry.operation.as_str().into(),
            table.sql.into(),
            entry.row_id.into(),
            SqlValue::Json(serde_json::Value::Array(changed_columns)),
            SqlValue::Json(serde_json::Value::Object(changes)),
            created_at.into(),
        ],
    )
    .await?;
    Ok(())
}

/// The stored value as the JSON the API returns for it: ids and times as
/// strings in their stored format, booleans and numbers as themselves.
fn json_value(column: &Column, value: &SqlValue) -> serde_json::Value {
    match value {
        SqlValue::Null => serde_json::Value::Null,
        SqlValue::Bool(flag) => (*flag).into(),
        SqlValue::Int(number) => (*number).into(),
        SqlValue::Float(number) => serde_json::Number::from_f64(*number)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        SqlValue::Uuid(id) => id.to_string().into(),
        SqlValue::Timestamp(time) => ombud_store::format_timestamp(*time).into(),
        SqlValue::Json(json) => json.clone(),
        // Hooks set ids, times and JSON as text, so they get the column's form here.
        SqlValue::Text(text) => match column.scalar {
            ScalarType::Timestamptz => ombud_store::parse_timestamp(text)
                .map_or_else(|| text.clone(), ombud_store::format_timestamp)
                .into(),
            ScalarType::Jsonb => serde_json::from_str(text).unwrap_or_else(|_| text.clone().into()),
            _ => text.clone().into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column_of(scalar: ScalarType) -> Column {
        Column {
            sql: "c",
            field: "c",
            scalar,
            nullable: true,
            vocabulary: None,
            personal: false,
        }
    }

    #[test]
    fn values_keep_their_json_type() {
        let time = ombud_store::parse_timestamp("2026-01-31T12:00:00Z").unwrap_or_default();

        assert_eq!(
            json_value(&column_of(ScalarType::Boolean), &SqlValue::Bool(true)),
            serde_json::json!(true)
        );
        assert_eq!(
            json_value(&column_of(ScalarType::Int), &SqlValue::Int(3)),
            serde_json::json!(3)
        );
        assert_eq!(
            json_value(
                &column_of(ScalarType::Timestamptz),
                &SqlValue::Timestamp(time)
            ),
            serde_json::json!("2026-01-31T12:00:00.000000+00:00")
        );
        assert_eq!(
            json_value(
                &column_of(ScalarType::Timestamptz),
                &SqlValue::Text("2026-01-31T12:00:00Z".to_owned())
            ),
            serde_json::json!("2026-01-31T12:00:00.000000+00:00")
        );
        assert_eq!(
            json_value(
                &column_of(ScalarType::Jsonb),
                &SqlValue::Json(serde_json::json!(["DE"]))
            ),
            serde_json::json!(["DE"])
        );
        assert_eq!(
            json_value(&column_of(ScalarType::Uuid), &SqlValue::Uuid(Uuid::nil())),
            serde_json::json!("00000000-0000-0000-0000-000000000000")
        );
        assert_eq!(
            json_value(&column_of(ScalarType::String), &SqlValue::Null),
            serde_json::Value::Null
        );
    }
}
