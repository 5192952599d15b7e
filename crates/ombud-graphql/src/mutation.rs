//! Insert, update and delete mutations. Each runs in one write transaction:
//! the rows are written, the role's check is evaluated on the result, the
//! consent history and the audit log are appended, and `returning` is read
//! back, all before commit.

use std::sync::Arc;

use async_graphql::dynamic::{FieldValue, ResolverContext};
use async_graphql::indexmap::IndexMap;
use async_graphql::{Name, Value};
use ombud_store::{ColumnKind, SqlValue, WriteTx};
use uuid::Uuid;

use crate::audit::{self, Operation};
use crate::error::GraphqlError;
use crate::hooks;
use crate::ir::{BoolExp, CompareOp, Operand, Select};
use crate::metadata::{Column, Preset, Table};
use crate::parse::{Arguments, scalar_value};
use crate::runtime::{Runtime, parse_json};
use crate::session::Session;
use crate::sql::{SqlRenderer, typed_value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MutationKind {
    InsertOne,
    InsertMany,
    UpdateOne,
    UpdateMany,
    DeleteOne,
    DeleteMany,
}

impl MutationKind {
    fn returns_one_row(self) -> bool {
        matches!(
            self,
            MutationKind::InsertOne | MutationKind::UpdateOne | MutationKind::DeleteOne
        )
    }
}

/// Column values of one row to write, in column order of the statement.
pub(crate) type RowValues = Vec<(&'static Column, SqlValue)>;

/// Result shape the client requested.
enum Output {
    /// `insertX`, `updateX`, `deleteX`: the row itself.
    Row(Select),
    /// `insertXs` and friends: `affectedRows` and `returning`, by response key.
    Response(Vec<(String, ResponsePart)>),
}

enum ResponsePart {
    AffectedRows,
    Returning(Box<Select>),
}

/// A row to insert, and the fields the client set in it (presets and
/// server-managed columns excluded), which the audit log records.
struct NewRow {
    values: RowValues,
    client_fields: Vec<&'static str>,
}

enum Change {
    Insert {
        rows: Vec<NewRow>,
        on_conflict: Option<OnConflict>,
    },
    Update {
        filter: BoolExp,
        set: RowValues,
        /// `_inc`: numeric columns and the amounts added to them.
        inc: RowValues,
    },
    Delete {
        filter: BoolExp,
    },
}

pub(crate) async fn resolve<'c>(
    ctx: &ResolverContext<'c>,
    table: &'static str,
    kind: MutationKind,
) -> async_graphql::Result<Option<FieldValue<'c>>> {
    let runtime = Runtime::from_context(ctx)?;
    let session = ctx.ctx.data::<Session>()?;
    let (change, output) =
        plan(runtime, session, ctx, table, kind).map_err(GraphqlError::into_graphql)?;
    let value = execute(runtime, session, table, change, output)
        .await
        .map_err(GraphqlError::into_graphql)?;
    Ok(value.map(FieldValue::value))
}

fn plan(
    runtime: &Arc<Runtime>,
    session: &Session,
    ctx: &ResolverContext<'_>,
    table_name: &'static str,
    kind: MutationKind,
) -> Result<(Change, Output), GraphqlError> {
    let parser = runtime.parser(session);
    let table = parser.table(table_name)?;
    let permissions = table.permissions(session.role).ok_or_else(|| {
        GraphqlError::Validation(format!("{table_name} is not writable by this role"))
    })?;
    let field = ctx.ctx.field();
    let arguments = Arguments::from_field(&field)?;

    let by_pk = |name: &str| -> Result<BoolExp, GraphqlError> {
        let id_column = table.column(table.primary_key()).ok_or_else(|| {
            GraphqlError::NotSupported(format!("{table_name} has no primary key"))
        })?;
        let id_value = match name {
            "pkColumns" => match arguments.get("pkColumns") {
                Some(Value::Object(columns)) => columns.get("id").cloned().unwrap_or(Value::Null),
                _ => {
                    return Err(GraphqlError::Validation(
                        "pkColumns (or pk_columns) is required, e.g. pkColumns: {id: \"...\"}"
                            .to_owned(),
                    ));
                }
            },
            _ => arguments.get("id").cloned().unwrap_or(Value::Null),
        };
        let id = scalar_value(id_column, &id_value)?;
        Ok(BoolExp::Compare {
            field: id_column.field,
            op: CompareOp::Eq,
            value: Operand::Value(id),
        })
    };

    let change = match kind {
        MutationKind::InsertOne | MutationKind::InsertMany => {
            let insert = permissions.insert.as_ref().ok_or_else(|| {
                GraphqlError::Validation(format!("insert on {table_name} is not allowed"))
            })?;
            let objects: Vec<&Value> =
                match (kind, arguments.get("object"), arguments.get("objects")) {
                    (MutationKind::InsertOne, Some(object), _) => vec![object],
                    (MutationKind::InsertMany, _, Some(Value::List(objects))) => {
                        objects.iter().collect()
                    }
                    (MutationKind::InsertMany, _, Some(object)) => vec![object],
                    _ => {
                        return Err(GraphqlError::Validation(
                            "the object(s) to insert are missing".to_owned(),
                        ));
                    }
                };
            let mut rows = Vec::with_capacity(objects.len());
            for object in objects {
                let mut row = input_row(table, object, &insert.columns, "insert")?;
                hooks::normalize_input(table, &mut row)?;
                let client_fields = row.iter().map(|(column, _)| column.field).collect();
                for (field, preset) in &insert.presets {
                    let column = crate::sql::column_of(table, field)?;
                    let Preset::Session(variable) = preset;
                    let value = session.variable(variable).ok_or_else(|| {
                        GraphqlError::AccessDenied(format!(
                            "the session variable {variable} is missing from the token"
                        ))
                    })?;
                    row.retain(|(existing, _)| existing.field != column.field);
                    row.push((column, SqlValue::Text(value.to_owned())));
                }
                rows.push(NewRow {
                    values: row,
                    client_fields,
                });
            }
            let on_conflict = arguments
                .get("onConflict")
                .map(|value| parse_on_conflict(&parser, table, permissions, value))
                .transpose()?;
            Change::Insert { rows, on_conflict }
        }
        MutationKind::UpdateOne | MutationKind::UpdateMany => {
            let update = permissions.update.as_ref().ok_or_else(|| {
                GraphqlError::Validation(format!("update on {table_name} is not allowed"))
            })?;
            let mut set = match arguments.get("_set") {
                Some(value) => input_row(table, value, &update.columns, "update")?,
                None => Vec::new(),
            };
            hooks::normalize_input(table, &mut set)?;
            let inc = match arguments.get("_inc") {
                Some(value) => increments(table, value, &update.columns)?,
                None => Vec::new(),
            };
            if set.is_empty() && inc.is_empty() {
                return Err(GraphqlError::Validation(
                    "_set or _inc must name at least one column to change".to_owned(),
                ));
            }
            if let Some((column, _)) = inc
                .iter()
                .find(|(column, _)| set.iter().any(|(other, _)| other.field == column.field))
            {
                return Err(GraphqlError::Validation(format!(
                    "{} is in both _set and _inc; change it in one of them",
                    column.field
                )));
            }
            let selector = if kind == MutationKind::UpdateOne {
                by_pk("pkColumns")?
            } else {
                parser.bool_exp(
                    table,
                    arguments
                        .get("where")
                        .unwrap_or(&Value::Object(IndexMap::new())),
                )?
            };
            Change::Update {
                filter: update.filter.clone().and(selector),
                set,
                inc,
            }
        }
        MutationKind::DeleteOne | MutationKind::DeleteMany => {
            let delete = permissions.delete.as_ref().ok_or_else(|| {
                GraphqlError::Validation(format!("delete on {table_name} is not allowed"))
            })?;
            let selector = if kind == MutationKind::DeleteOne {
                by_pk("id")?
            } else {
                parser.bool_exp(
                    table,
                    arguments
                        .get("where")
                        .unwrap_or(&Value::Object(IndexMap::new())),
                )?
            };
            Change::Delete {
                filter: delete.filter.clone().and(selector),
            }
        }
    };

    let output = if kind.returns_one_row() {
        Output::Row(parser.select(table_name, &field, false, BoolExp::True)?)
    } else {
        let mut parts = Vec::new();
        for child in field.selection_set() {
            let key = child.alias().unwrap_or(child.name()).to_owned();
            match child.name() {
                "affectedRows" | "affected_rows" => parts.push((key, ResponsePart::AffectedRows)),
                "returning" => {
                    parts.push((
                        key,
                        ResponsePart::Returning(Box::new(parser.select(
                            table_name,
                            &child,
                            false,
                            BoolExp::True,
                        )?)),
                    ));
                }
                _ => {}
            }
        }
        Output::Response(parts)
    };
    Ok((change, output))
}

/// Parses an `_insert_input` or `_set_input` object into column values.
fn input_row(
    table: &'static Table,
    value: &Value,
    allowed: &[&'static str],
    action: &str,
) -> Result<RowValues, GraphqlError> {
    let Value::Object(object) = value else {
        return Err(GraphqlError::Validation(format!(
            "expected an object of columns to {action}"
        )));
    };
    let mut row = Vec::with_capacity(object.len());
    for (name, item) in object {
        let Some(column) = table
            .column(name.as_str())
            .filter(|column| allowed.contains(&column.field))
        else {
            return Err(GraphqlError::Validation(format!(
                "field '{name}' not found in type: '{}_{}_input'",
                table.sql,
                if action == "insert" { "insert" } else { "set" }
            )));
        };
        let value = scalar_value(column, item)?;
        if value == SqlValue::Null && !column.nullable {
            return Err(GraphqlError::Validation(format!(
                "{} must not be null",
                column.field
            )));
        }
        row.push((column, value));
    }
    Ok(row)
}

async fn execute(
    runtime: &Arc<Runtime>,
    session: &Session,
    table_name: &'static str,
    change: Change,
    output: Output,
) -> Result<Option<Value>, GraphqlError> {
    let table = runtime.parser(session).table(table_name)?;
    let permissions = table.permissions(session.role).ok_or_else(|| {
        GraphqlError::Validation(format!("{table_name} is not writable by this role"))
    })?;
    let now_time = chrono::Utc::now();
    let now = ombud_store::format_timestamp(now_time);
    let mut tx = runtime.store.begin_write().await?;

    let (ids, check, returning_before_delete, audit_entries) = match change {
        Change::Insert { rows, on_conflict } => {
            let mut ids = Vec::with_capacity(rows.len());
            let mut updated = Vec::new();
            let mut entries = Vec::with_capacity(rows.len());
            let insert_check = permissions.insert.as_ref().map(|insert| &insert.check);
            for NewRow {
                values: mut row,
                client_fields,
            } in rows
            {
                let id = hooks::prepare_insert(&mut tx, table, &mut row, &now).await?;
                if let Some(check) = insert_check {
                    check_row_before_insert(&mut tx, runtime, session, table, &row, check).await?;
                }
                if let Some(conflict) = &on_conflict
                    && let Some(existing) =
                        conflicting_row(&mut tx, runtime, session, table, &row, conflict).await?
                {
                    // The existing row is updated with the row's values of
                    // update_columns, or left alone (and not returned) when
                    // there are none or the role may not update it.
                    if let Some(existing) = existing
                        && !conflict.update.is_empty()
                    {
                        let set: RowValues = row
                            .iter()
                            .filter(|(column, _)| conflict.update.contains(&column.field))
                            .cloned()
                            .collect();
                        let previous = hooks::before_update(&mut tx, table, &[existing]).await?;
                        update_rows(&mut tx, table, &[existing], &set, &Vec::new(), &now).await?;
                        hooks::after_update(&mut tx, table, &previous, session, &now).await?;
                        updated.push(existing);
                        entries.push(audit::Entry {
                            row_id: existing,
                            operation: Operation::Update,
                            changed: set,
                        });
                    }
                    continue;
                }
                insert_row(&mut tx, table, &row).await?;
                hooks::after_insert(&mut tx, table, &row, session, &now).await?;
                ids.push(id);
                // The stored values, after hooks normalised them.
                let changed = row
                    .iter()
                    .filter(|(column, _)| client_fields.contains(&column.field))
                    .cloned()
                    .collect();
                entries.push(audit::Entry {
                    row_id: id,
                    operation: Operation::Insert,
                    changed,
                });
            }
            // Updated rows must pass the update check; the inserted ones are
            // checked with the insert check below.
            if let Some(update) = permissions.update.as_ref()
                && !updated.is_empty()
            {
                let passing = matching_ids(
                    &mut tx,
                    runtime,
                    session,
                    table,
                    &update.check.clone().and(ids_filter(table, &updated)),
                )
                .await?;
                if passing.len() != updated.len() {
                    return Err(GraphqlError::check_failed());
                }
            }
            let check = permissions
                .insert
                .as_ref()
                .map(|insert| (insert.check.clone(), ids.clone()));
            ids.extend(updated);
            (ids, check, None, entries)
        }
        Change::Update { filter, set, inc } => {
            let ids = locked_ids(&mut tx, runtime, session, table, &filter).await?;
            // Taken after the rows are locked, so that history times follow
            // the order in which concurrent updates were applied.
            let now = ombud_store::now_timestamp();
            let previous = hooks::before_update(&mut tx, table, &ids).await?;
            update_rows(&mut tx, table, &ids, &set, &inc, &now).await?;
            hooks::after_update(&mut tx, table, &previous, session, &now).await?;
            let check = permissions
                .update
                .as_ref()
                .map(|update| (update.check.clone(), ids.clone()));
            // The audit records an increment as {"_inc": amount}: the new
            // value differs per row and is not read back.
            let mut changed = set.clone();
            changed.extend(inc.iter().map(|(column, amount)| {
                (
                    *column,
                    SqlValue::Json(serde_json::json!({ "_inc": amount.to_json() })),
                )
            }));
            let entries = ids
                .iter()
                .map(|id| audit::Entry {
                    row_id: *id,
                    operation: Operation::Update,
                    changed: changed.clone(),
                })
                .collect();
            (ids, check, None, entries)
        }
        Change::Delete { filter } => {
            let ids = locked_ids(&mut tx, runtime, session, table, &filter).await?;
            let returning = render_output(&mut tx, runtime, session, table, &ids, &output).await?;
            // Audited before the delete, while the path to the controller exists.
            let entries: Vec<audit::Entry> = ids
                .iter()
                .map(|id| audit::Entry {
                    row_id: *id,
                    operation: Operation::Delete,
                    changed: Vec::new(),
                })
                .collect();
            audit::append_all(&mut tx, runtime.catalog, session, table, &entries, now_time).await?;
            delete_rows(&mut tx, table, &ids).await?;
            (ids, None, Some(returning), Vec::new())
        }
    };

    if let Some((check, checked)) = check {
        let passing = matching_ids(
            &mut tx,
            runtime,
            session,
            table,
            &check.and(ids_filter(table, &checked)),
        )
        .await?;
        if passing.len() != checked.len() {
            return Err(GraphqlError::check_failed());
        }
    }

    audit::append_all(
        &mut tx,
        runtime.catalog,
        session,
        table,
        &audit_entries,
        now_time,
    )
    .await?;

    let value = match returning_before_delete {
        Some(value) => value,
        None => render_output(&mut tx, runtime, session, table, &ids, &output).await?,
    };
    tx.commit().await?;
    Ok(value)
}

fn ids_filter(table: &Table, ids: &[Uuid]) -> BoolExp {
    BoolExp::Compare {
        field: table.primary_key(),
        op: CompareOp::In,
        value: Operand::List(ids.iter().map(|id| SqlValue::Uuid(*id)).collect()),
    }
}

/// Reads and locks the rows an update or delete will change. On PostgreSQL a
/// concurrent writer of the same rows waits, and the filter is checked again
/// on the rows as it left them; SQLite's write lock already excludes it.
async fn locked_ids(
    tx: &mut WriteTx,
    runtime: &Runtime,
    session: &Session,
    table: &Table,
    filter: &BoolExp,
) -> Result<Vec<Uuid>, GraphqlError> {
    select_ids(tx, runtime, session, table, filter, true).await
}

/// Reads the ids of rows of `table` that satisfy `filter`, inside the transaction.
async fn matching_ids(
    tx: &mut WriteTx,
    runtime: &Runtime,
    session: &Session,
    table: &Table,
    filter: &BoolExp,
) -> Result<Vec<Uuid>, GraphqlError> {
    select_ids(tx, runtime, session, table, filter, false).await
}

async fn select_ids(
    tx: &mut WriteTx,
    runtime: &Runtime,
    session: &Session,
    table: &Table,
    filter: &BoolExp,
    lock: bool,
) -> Result<Vec<Uuid>, GraphqlError> {
    let mut renderer = SqlRenderer::new(runtime.catalog, session, runtime.store.dialect());
    let alias = renderer.alias();
    let condition = renderer.bool_exp(filter, table, &alias)?;
    let locking = if lock {
        tx.dialect().for_update_of(&alias)
    } else {
        String::new()
    };
    let statement = renderer.finish(format!(
        "SELECT {alias}.\"{}\" FROM \"{}\" AS {alias} WHERE {condition}{locking}",
        table.primary_key(),
        table.sql
    ));
    let rows = tx.fetch_rows(&statement.sql, &statement.params).await?;
    rows.iter()
        .map(|row| {
            let text = row.required_text(0)?;
            Uuid::parse_str(text).map_err(|error| {
                GraphqlError::NotSupported(format!("stored id is not a uuid: {error}"))
            })
        })
        .collect()
}

/// Evaluates the insert check on the row's values before writing it, so that a
/// unique or foreign-key error on another tenant's rows cannot reveal that those
/// rows exist. The check runs again on the stored rows after all inserts.
async fn check_row_before_insert(
    tx: &mut WriteTx,
    runtime: &Runtime,
    session: &Session,
    table: &Table,
    row: &RowValues,
    check: &BoolExp,
) -> Result<(), GraphqlError> {
    let dialect = runtime.store.dialect();
    let params = typed_values(row)?;
    let columns: Vec<String> = row
        .iter()
        .enumerate()
        .map(|(index, (column, _))| {
            let placeholder =
                dialect.typed_placeholder(&format!("${}", index + 1), column.scalar.kind());
            format!("{placeholder} AS \"{}\"", column.sql)
        })
        .collect();
    let mut renderer = SqlRenderer::with_params(runtime.catalog, session, dialect, params);
    let alias = renderer.alias();
    let condition = renderer.bool_exp(check, table, &alias)?;
    let statement = renderer.finish(format!(
        "SELECT 1 FROM (SELECT {}) AS {alias} WHERE {condition}",
        columns.join(", ")
    ));
    if tx
        .fetch_optional(&statement.sql, &statement.params)
        .await?
        .is_none()
    {
        return Err(GraphqlError::check_failed());
    }
    Ok(())
}

/// Largest amount `_inc` adds or subtracts in one update.
const MAX_INCREMENT: i64 = 1_000_000_000;

/// Parses `_inc`: whole numbers to add to numeric columns the role may update.
fn increments(
    table: &'static Table,
    value: &Value,
    allowed: &[&'static str],
) -> Result<RowValues, GraphqlError> {
    let Value::Object(object) = value else {
        return Err(GraphqlError::Validation(
            "_inc expects an object of numeric columns".to_owned(),
        ));
    };
    let mut increments = Vec::with_capacity(object.len());
    for (name, amount) in object {
        let column = table
            .column(name.as_str())
            .filter(|column| column.scalar.is_numeric() && allowed.contains(&column.field))
            .ok_or_else(|| {
                GraphqlError::Validation(format!(
                    "field '{name}' not found in type: '{}_inc_input'",
                    table.sql
                ))
            })?;
        let amount = match scalar_value(column, amount)? {
            // Far beyond any column's CHECK range, yet far from overflow.
            SqlValue::Int(amount) if amount.abs() <= MAX_INCREMENT => amount,
            SqlValue::Int(_) => {
                return Err(GraphqlError::Validation(format!(
                    "_inc on {} takes a whole number from -{MAX_INCREMENT} to {MAX_INCREMENT}",
                    column.field
                )));
            }
            _ => {
                return Err(GraphqlError::Validation(format!(
                    "_inc on {} expects a whole number",
                    column.field
                )));
            }
        };
        increments.push((column, SqlValue::Int(amount)));
    }
    Ok(increments)
}

/// `onConflict`: the unique key whose match makes an insert an update, the
/// columns that update sets, and the condition the existing row must meet.
struct OnConflict {
    key: Vec<&'static str>,
    update: Vec<&'static str>,
    filter: BoolExp,
}

fn parse_on_conflict(
    parser: &crate::parse::QueryParser<'static>,
    table: &'static Table,
    permissions: &crate::metadata::Permissions,
    value: &Value,
) -> Result<OnConflict, GraphqlError> {
    let Value::Object(fields) = value else {
        return Err(GraphqlError::Validation(
            "onConflict expects {constraint, update_columns, where}".to_owned(),
        ));
    };
    let constraint = match fields.get("constraint") {
        Some(Value::Enum(name)) => name.as_str().to_owned(),
        Some(Value::String(name)) => name.clone(),
        _ => String::new(),
    };
    let key = crate::metadata::conflict_constraints(table)
        .into_iter()
        .find(|(name, _)| *name == constraint)
        .map(|(_, key)| key)
        .ok_or_else(|| {
            GraphqlError::Validation(format!(
                "onConflict names the unknown constraint {constraint:?} of {}",
                table.sql
            ))
        })?;
    let allowed = permissions
        .update
        .as_ref()
        .map(|update| update.columns.as_slice())
        .unwrap_or_default();
    let mut update = Vec::new();
    if let Some(Value::List(columns)) = fields.get("update_columns") {
        for column in columns {
            let name = match column {
                Value::Enum(name) => name.as_str(),
                Value::String(name) => name.as_str(),
                _ => "",
            };
            let field = allowed
                .iter()
                .find(|field| **field == name)
                .ok_or_else(|| {
                    GraphqlError::Validation(format!(
                        "onConflict cannot update {name:?} of {}: this role may not update it",
                        table.sql
                    ))
                })?;
            update.push(*field);
        }
    }
    let mut filter = permissions
        .update
        .as_ref()
        .map_or(BoolExp::False, |update| update.filter.clone());
    if let Some(condition) = fields
        .get("where")
        .filter(|value| !matches!(value, Value::Null))
    {
        filter = filter.and(parser.bool_exp(table, condition)?);
    }
    Ok(OnConflict {
        key,
        update,
        filter,
    })
}

/// Finds the row that `row` conflicts with on the constraint's key, locking
/// it. `Some(Some(id))` when the role may update it under the condition,
/// `Some(None)` when a row conflicts that it may not update, `None` when
/// there is no conflict.
async fn conflicting_row(
    tx: &mut WriteTx,
    runtime: &Runtime,
    session: &Session,
    table: &Table,
    row: &RowValues,
    conflict: &OnConflict,
) -> Result<Option<Option<Uuid>>, GraphqlError> {
    let mut key = Vec::with_capacity(conflict.key.len());
    for field in &conflict.key {
        let Some((column, value)) = row.iter().find(|(column, _)| column.field == *field) else {
            // A key column the row does not set cannot conflict.
            return Ok(None);
        };
        key.push(BoolExp::Compare {
            field: column.field,
            op: CompareOp::Eq,
            value: Operand::Value(value.clone()),
        });
    }
    let key = BoolExp::And(key);
    let Some(existing) = select_ids(tx, runtime, session, table, &key, true)
        .await?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    let updatable = matching_ids(
        tx,
        runtime,
        session,
        table,
        &conflict.filter.clone().and(ids_filter(table, &[existing])),
    )
    .await?;
    Ok(Some(updatable.first().copied()))
}

/// Row ids bound as one JSON list, however many there are.
fn id_list(ids: &[Uuid]) -> SqlValue {
    let ids: Vec<SqlValue> = ids.iter().map(|id| SqlValue::Uuid(*id)).collect();
    SqlValue::list(&ids)
}

/// Returns the row's values, each with its column's SQL type.
fn typed_values(row: &RowValues) -> Result<Vec<SqlValue>, GraphqlError> {
    row.iter()
        .map(|(column, value)| typed_value(column, value.clone()))
        .collect()
}

async fn insert_row(tx: &mut WriteTx, table: &Table, row: &RowValues) -> Result<(), GraphqlError> {
    let columns: Vec<String> = row
        .iter()
        .map(|(column, _)| format!("\"{}\"", column.sql))
        .collect();
    let placeholders: Vec<String> = (1..=row.len()).map(|index| format!("${index}")).collect();
    let params = typed_values(row)?;
    let sql = format!(
        "INSERT INTO \"{}\" ({}) VALUES ({})",
        table.sql,
        columns.join(", "),
        placeholders.join(", ")
    );
    tx.execute(&sql, &params).await?;
    Ok(())
}

async fn update_rows(
    tx: &mut WriteTx,
    table: &Table,
    ids: &[Uuid],
    set: &RowValues,
    inc: &RowValues,
    now: &str,
) -> Result<(), GraphqlError> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut params = typed_values(set)?;
    let mut assignments: Vec<String> = set
        .iter()
        .enumerate()
        .map(|(index, (column, _))| format!("\"{}\" = ${}", column.sql, index + 1))
        .collect();
    for (column, amount) in inc {
        params.push(amount.clone());
        assignments.push(format!(
            "\"{0}\" = \"{0}\" + ${1}",
            column.sql,
            params.len()
        ));
    }
    if let Some(updated_at) = table.column_by_sql("updated_at")
        && !set.iter().any(|(column, _)| column.sql == "updated_at")
    {
        params.push(typed_value(updated_at, SqlValue::Text(now.to_owned()))?);
        assignments.push(format!("\"updated_at\" = ${}", params.len()));
    }
    params.push(id_list(ids));
    let ids_sql = tx
        .dialect()
        .json_list(&format!("${}", params.len()), ColumnKind::Uuid);
    let sql = format!(
        "UPDATE \"{}\" SET {} WHERE \"{}\" IN ({ids_sql})",
        table.sql,
        assignments.join(", "),
        table.primary_key(),
    );
    tx.execute(&sql, &params).await?;
    Ok(())
}

async fn delete_rows(tx: &mut WriteTx, table: &Table, ids: &[Uuid]) -> Result<(), GraphqlError> {
    if ids.is_empty() {
        return Ok(());
    }
    let ids_sql = tx.dialect().json_list("$1", ColumnKind::Uuid);
    let sql = format!(
        "DELETE FROM \"{}\" WHERE \"{}\" IN ({ids_sql})",
        table.sql,
        table.primary_key(),
    );
    tx.execute(&sql, &[id_list(ids)]).await?;
    Ok(())
}

/// Reads back what the client selected for the rows `ids`, through the role's select permission.
async fn render_output(
    tx: &mut WriteTx,
    runtime: &Runtime,
    session: &Session,
    table: &Table,
    ids: &[Uuid],
    output: &Output,
) -> Result<Option<Value>, GraphqlError> {
    let read = |select: &Select| {
        let mut select = select.clone();
        select.filter = select.filter.and(ids_filter(table, ids));
        select
    };
    match output {
        Output::Row(select) => {
            if ids.is_empty() {
                return Ok(None);
            }
            let statement = SqlRenderer::new(runtime.catalog, session, runtime.store.dialect())
                .object_query(&read(select))?;
            let text = tx.fetch_json(&statement.sql, &statement.params).await?;
            text.map(|text| parse_json(&text)).transpose()
        }
        Output::Response(parts) => {
            let mut response = IndexMap::new();
            for (key, part) in parts {
                let value = match part {
                    ResponsePart::AffectedRows => Value::from(ids.len()),
                    ResponsePart::Returning(select) => {
                        let statement =
                            SqlRenderer::new(runtime.catalog, session, runtime.store.dialect())
                                .list_query(&read(select))?;
                        let text = tx.fetch_json(&statement.sql, &statement.params).await?;
                        text.map(|text| parse_json(&text))
                            .transpose()?
                            .unwrap_or(Value::List(Vec::new()))
                    }
                };
                response.insert(Name::new(key), value);
            }
            Ok(Some(Value::Object(response)))
        }
    }
}
