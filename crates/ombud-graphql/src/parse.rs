//! Parses GraphQL arguments and selections into the query tree, checking each
//! value against its column type and the role's permissions. After this step
//! the SQL renderer receives no client text other than bound values.

use async_graphql::context::SelectionField;
use async_graphql::{Name, Value};
use ombud_store::SqlValue;

use crate::error::GraphqlError;
use crate::ir::{
    AggregateColumn, AggregateField, AggregateFunction, AggregateOutput, AggregateSelect, BoolExp,
    CompareOp, FieldSelection, Operand, OrderBy, OrderDirection, Select,
};
use crate::metadata::{Catalog, Column, RelationshipKind, ScalarType, Table};
use crate::session::Role;

/// Arguments of one field, with Hasura's snake_case spellings folded into camelCase.
pub struct Arguments(Vec<(Name, Value)>);

impl Arguments {
    pub fn from_field(field: &SelectionField<'_>) -> Result<Arguments, GraphqlError> {
        let arguments = field
            .arguments()
            .map_err(|error| GraphqlError::Validation(error.message))?;
        Ok(Arguments(arguments))
    }

    /// Returns the value of `name` or its snake_case synonym. A null counts as absent.
    pub fn get(&self, name: &str) -> Option<&Value> {
        let synonym = match name {
            "orderBy" => Some("order_by"),
            "distinctOn" => Some("distinct_on"),
            "onConflict" => Some("on_conflict"),
            "pkColumns" => Some("pk_columns"),
            _ => None,
        };
        self.0
            .iter()
            .find(|(key, _)| key.as_str() == name || Some(key.as_str()) == synonym)
            .map(|(_, value)| value)
            .filter(|value| !matches!(value, Value::Null))
    }
}

pub struct QueryParser<'a> {
    pub catalog: &'a Catalog,
    pub role: Role,
}

impl<'a> QueryParser<'a> {
    pub fn table(&self, name: &str) -> Result<&'a Table, GraphqlError> {
        self.catalog
            .table(name)
            .ok_or_else(|| GraphqlError::NotSupported(format!("unknown table {name}")))
    }

    /// Builds the selection of `field` on `table`. With `list_arguments`,
    /// `where`, `orderBy`, `limit` and `offset` apply (lists); without, they do not (objects).
    pub fn select(
        &self,
        table: &'static str,
        field: &SelectionField<'_>,
        list_arguments: bool,
        extra_filter: BoolExp,
    ) -> Result<Select, GraphqlError> {
        let (table_meta, mut select) = self.base_select(table, extra_filter)?;
        if list_arguments {
            self.list_arguments(table_meta, field, &mut select)?;
        }
        select.fields = self.selection_set(table_meta, field)?;
        Ok(select)
    }

    /// Builds a selection of `table` limited to the rows the role may read and
    /// `extra_filter`, with no fields, order or limit yet.
    fn base_select(
        &self,
        table: &'static str,
        extra_filter: BoolExp,
    ) -> Result<(&'a Table, Select), GraphqlError> {
        let table_meta = self.table(table)?;
        let permission = table_meta.select_permission(self.role).ok_or_else(|| {
            GraphqlError::Validation(format!(
                "{} is not available to the role {}",
                table,
                self.role.as_str()
            ))
        })?;
        let select = Select {
            table: table_meta.sql,
            fields: Vec::new(),
            filter: permission.filter.clone().and(extra_filter),
            order_by: Vec::new(),
            distinct_on: Vec::new(),
            limit: None,
            offset: None,
        };
        Ok((table_meta, select))
    }

    /// Applies `where`, `orderBy`, `distinctOn`, `limit` and `offset` of a
    /// list field to `select`, capping the rows at the table's maximum.
    fn list_arguments(
        &self,
        table: &'a Table,
        field: &SelectionField<'_>,
        select: &mut Select,
    ) -> Result<(), GraphqlError> {
        let arguments = Arguments::from_field(field)?;
        if let Some(where_value) = arguments.get("where") {
            let filter = std::mem::replace(&mut select.filter, BoolExp::True);
            select.filter = filter.and(self.bool_exp(table, where_value)?);
        }
        if let Some(order_value) = arguments.get("orderBy") {
            select.order_by = self.order_by(table, order_value, Vec::new())?;
        }
        if let Some(distinct_value) = arguments.get("distinctOn") {
            select.distinct_on = self.select_columns(table, "distinctOn", distinct_value)?;
        }

        let max = table.max_limit();
        let limit = arguments
            .get("limit")
            .map(|value| non_negative("limit", value))
            .transpose()?;
        if let Some(limit) = limit
            && limit > max
        {
            return Err(GraphqlError::Validation(format!(
                "limit {limit} on {} is above the maximum of {max}; fetch more rows page by page with limit and offset",
                table.plural
            )));
        }
        select.limit = Some(limit.unwrap_or(max));
        select.offset = arguments
            .get("offset")
            .map(|value| non_negative("offset", value))
            .transpose()?;
        Ok(())
    }

    /// Parses a list of `<table>_select_column` values into readable columns.
    fn select_columns(
        &self,
        table: &'a Table,
        argument: &str,
        value: &Value,
    ) -> Result<Vec<&'static str>, GraphqlError> {
        let items: Vec<&Value> = match value {
            Value::List(items) => items.iter().collect(),
            single => vec![single],
        };
        items
            .into_iter()
            .map(|item| {
                let name = match item {
                    Value::Enum(name) => name.as_str(),
                    Value::String(name) => name.as_str(),
                    _ => "",
                };
                self.readable_column(table, name)
                    .map(|column| column.field)
                    .ok_or_else(|| {
                        GraphqlError::Validation(format!(
                            "{argument} expects columns of {}, got {item}",
                            table.sql
                        ))
                    })
            })
            .collect()
    }

    /// Builds `<plural>Aggregate` (or `<relationship>Aggregate`) on `table`.
    pub fn aggregate_select(
        &self,
        table: &'static str,
        field: &SelectionField<'_>,
        extra_filter: BoolExp,
    ) -> Result<AggregateSelect, GraphqlError> {
        let (table_meta, mut rows) = self.base_select(table, extra_filter)?;
        self.list_arguments(table_meta, field, &mut rows)?;

        let mut outputs = Vec::new();
        for child in field.selection_set() {
            if !is_included(&child)? {
                continue;
            }
            let key = child.alias().unwrap_or(child.name()).to_owned();
            if outputs.iter().any(|(existing, _)| *existing == key) {
                continue;
            }
            let output = match child.name() {
                "__typename" => AggregateOutput::Typename(format!("{}_aggregate", table_meta.sql)),
                "nodes" => AggregateOutput::Nodes(self.selection_set(table_meta, &child)?),
                "aggregate" => {
                    AggregateOutput::Aggregate(self.aggregate_fields(table_meta, &child)?)
                }
                other => {
                    return Err(GraphqlError::Validation(format!(
                        "field '{other}' not found in type: '{}_aggregate'",
                        table_meta.sql
                    )));
                }
            };
            outputs.push((key, output));
        }
        // Without `nodes` the aggregate returns no rows, so it covers every
        // row unless the client limited them; the row cap applies to nodes.
        let has_nodes = outputs
            .iter()
            .any(|(_, output)| matches!(output, AggregateOutput::Nodes(_)));
        if !has_nodes && Arguments::from_field(field)?.get("limit").is_none() {
            rows.limit = None;
        }
        Ok(AggregateSelect { rows, outputs })
    }

    fn aggregate_fields(
        &self,
        table: &'a Table,
        field: &SelectionField<'_>,
    ) -> Result<Vec<(String, AggregateField)>, GraphqlError> {
        let mut fields = Vec::new();
        for child in field.selection_set() {
            if !is_included(&child)? {
                continue;
            }
            let key = child.alias().unwrap_or(child.name()).to_owned();
            if fields.iter().any(|(existing, _)| *existing == key) {
                continue;
            }
            let name = child.name();
            let aggregate = if name == "__typename" {
                AggregateField::Typename(format!("{}_aggregate_fields", table.sql))
            } else if name == "count" {
                let arguments = Arguments::from_field(&child)?;
                let columns = match arguments.get("columns") {
                    Some(value) => self.select_columns(table, "count(columns:)", value)?,
                    None => Vec::new(),
                };
                let distinct = matches!(arguments.get("distinct"), Some(Value::Boolean(true)));
                AggregateField::Count { columns, distinct }
            } else if let Some(function) = AggregateFunction::ALL
                .into_iter()
                .find(|function| function.name() == name)
            {
                let mut columns = Vec::new();
                for grandchild in child.selection_set() {
                    if !is_included(&grandchild)? {
                        continue;
                    }
                    let key = grandchild.alias().unwrap_or(grandchild.name()).to_owned();
                    let column = if grandchild.name() == "__typename" {
                        AggregateColumn::Typename(format!(
                            "{}_{}_fields",
                            table.sql,
                            function.name()
                        ))
                    } else {
                        let column = self
                            .readable_column(table, grandchild.name())
                            .filter(|column| column.scalar.supports(function))
                            .ok_or_else(|| {
                                GraphqlError::Validation(format!(
                                    "field '{}' not found in type: '{}_{}_fields'",
                                    grandchild.name(),
                                    table.sql,
                                    function.name()
                                ))
                            })?;
                        AggregateColumn::Column(column.field)
                    };
                    if !columns.iter().any(|(existing, _)| *existing == key) {
                        columns.push((key, column));
                    }
                }
                AggregateField::Function {
                    function,
                    fields: columns,
                }
            } else {
                return Err(GraphqlError::Validation(format!(
                    "field '{name}' not found in type: '{}_aggregate_fields'",
                    table.sql
                )));
            };
            fields.push((key, aggregate));
        }
        Ok(fields)
    }

    /// Collects the fields of a selection set, keyed by response key. Repeated keys are
    /// merged as GraphQL requires: the same column once, relationships with the
    /// union of their sub-selections.
    pub fn selection_set(
        &self,
        table: &'a Table,
        field: &SelectionField<'_>,
    ) -> Result<Vec<(String, FieldSelection)>, GraphqlError> {
        let mut fields: Vec<(String, FieldSelection)> = Vec::new();
        for child in field.selection_set() {
            if !is_included(&child)? {
                continue;
            }
            let key = child.alias().unwrap_or(child.name()).to_owned();
            let name = child.name();

            let selection = if name == "__typename" {
                FieldSelection::Typename(table.sql)
            } else if let Some(column) = self.readable_column(table, name) {
                FieldSelection::Column(column.field)
            } else if let Some(relationship) = table.relationships.iter().find(|relationship| {
                relationship.kind == RelationshipKind::Array
                    && name.strip_suffix("Aggregate") == Some(relationship.field)
            }) {
                let nested = self.aggregate_select(relationship.target, &child, BoolExp::True)?;
                FieldSelection::AggregateRelationship {
                    field: relationship.field,
                    select: Box::new(nested),
                }
            } else if let Some(relationship) = table.relationship(name) {
                let nested = self.select(
                    relationship.target,
                    &child,
                    relationship.kind == RelationshipKind::Array,
                    BoolExp::True,
                )?;
                FieldSelection::Relationship {
                    field: relationship.field,
                    select: Box::new(nested),
                }
            } else {
                return Err(GraphqlError::Validation(format!(
                    "field '{name}' not found in type: '{}'",
                    table.sql
                )));
            };

            match fields.iter_mut().find(|(existing, _)| *existing == key) {
                Some((
                    _,
                    FieldSelection::Relationship {
                        select: existing, ..
                    },
                )) => {
                    if let FieldSelection::Relationship { select: nested, .. } = selection {
                        existing.fields.extend(nested.fields);
                    }
                }
                Some(_) => {}
                None => fields.push((key, selection)),
            }
        }
        Ok(fields)
    }

    fn readable_column(&self, table: &'a Table, name: &str) -> Option<&'a Column> {
        let permission = table.select_permission(self.role)?;
        permission
            .columns
            .contains(&name)
            .then(|| table.column(name))
            .flatten()
    }

    /// Parses a `<table>_bool_exp` value.
    pub fn bool_exp(&self, table: &'a Table, value: &Value) -> Result<BoolExp, GraphqlError> {
        let Value::Object(object) = value else {
            return Err(GraphqlError::Validation(format!(
                "expected an object for {}_bool_exp",
                table.sql
            )));
        };
        let mut parts = Vec::with_capacity(object.len());
        for (key, item) in object {
            let part = match key.as_str() {
                "_and" => BoolExp::And(self.bool_exp_list(table, item)?),
                "_or" => BoolExp::Or(self.bool_exp_list(table, item)?),
                "_not" => BoolExp::Not(Box::new(self.bool_exp(table, item)?)),
                name => {
                    if let Some(column) = self.readable_column(table, name) {
                        self.comparison(column, item)?
                    } else if let Some(relationship) = table.relationship(name) {
                        let target = self.table(relationship.target)?;
                        BoolExp::Relationship {
                            field: relationship.field,
                            predicate: Box::new(self.bool_exp(target, item)?),
                            check_target: true,
                        }
                    } else {
                        return Err(GraphqlError::Validation(format!(
                            "field '{name}' not found in type: '{}_bool_exp'",
                            table.sql
                        )));
                    }
                }
            };
            parts.push(part);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            BoolExp::And(parts)
        })
    }

    fn bool_exp_list(&self, table: &'a Table, value: &Value) -> Result<Vec<BoolExp>, GraphqlError> {
        match value {
            Value::List(items) => items
                .iter()
                .map(|item| self.bool_exp(table, item))
                .collect(),
            // GraphQL input coercion lets a single object stand for a one-element list.
            single => Ok(vec![self.bool_exp(table, single)?]),
        }
    }

    fn comparison(&self, column: &'a Column, value: &Value) -> Result<BoolExp, GraphqlError> {
        let Value::Object(operators) = value else {
            return Err(GraphqlError::Validation(format!(
                "expected a comparison object such as {{_eq: ...}} for {}",
                column.field
            )));
        };
        let mut parts = Vec::with_capacity(operators.len());
        for (operator, operand) in operators {
            if operator.as_str() == "_is_null" {
                let Value::Boolean(is_null) = operand else {
                    return Err(GraphqlError::Validation(format!(
                        "_is_null on {} expects true or false",
                        column.field
                    )));
                };
                parts.push(BoolExp::IsNull {
                    field: column.field,
                    is_null: *is_null,
                });
                continue;
            }
            let Some(op) = CompareOp::ALL
                .into_iter()
                .find(|op| op.graphql_name() == operator.as_str())
            else {
                return Err(GraphqlError::Validation(format!(
                    "unknown operator {operator} on {}",
                    column.field
                )));
            };
            if matches!(operand, Value::Null) {
                return Err(GraphqlError::Validation(format!(
                    "{operator} on {} was given null; use {{_is_null: true}} to match missing values",
                    column.field
                )));
            }
            let operand = match (op, operand) {
                (op, Value::List(items)) if op.takes_list() => Operand::List(
                    items
                        .iter()
                        .map(|item| scalar_value(column, item))
                        .collect::<Result<_, _>>()?,
                ),
                // Input coercion: one value where a list is expected.
                (op, single) if op.takes_list() => {
                    Operand::List(vec![scalar_value(column, single)?])
                }
                (CompareOp::HasKey, Value::String(key)) => {
                    check_operand_text(column, operator.as_str(), key)?;
                    Operand::Value(SqlValue::Text(key.clone()))
                }
                (op, item) => {
                    if matches!(
                        op,
                        CompareOp::Like | CompareOp::Nlike | CompareOp::Ilike | CompareOp::Nilike
                    ) {
                        // Patterns are not vocabulary values: take the text as given.
                        let Value::String(pattern) = item else {
                            return Err(GraphqlError::Validation(format!(
                                "{operator} on {} expects a string",
                                column.field
                            )));
                        };
                        check_operand_text(column, operator.as_str(), pattern)?;
                        Operand::Value(SqlValue::Text(pattern.clone()))
                    } else {
                        Operand::Value(scalar_value(column, item)?)
                    }
                }
            };
            parts.push(BoolExp::Compare {
                field: column.field,
                op,
                value: operand,
            });
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            BoolExp::And(parts)
        })
    }

    /// Parses `orderBy`: one `<table>_order_by` object or a list of them. An
    /// object relationship's key nests the target table's ordering; `path`
    /// contains the relationships followed so far.
    pub fn order_by(
        &self,
        table: &'a Table,
        value: &Value,
        path: Vec<&'static str>,
    ) -> Result<Vec<OrderBy>, GraphqlError> {
        let items: Vec<&Value> = match value {
            Value::List(items) => items.iter().collect(),
            single => vec![single],
        };
        let mut order_by = Vec::new();
        for item in items {
            let Value::Object(object) = item else {
                return Err(GraphqlError::Validation(format!(
                    "expected an object for {}_order_by",
                    table.sql
                )));
            };
            for (name, direction) in object {
                if let Some(relationship) = table
                    .relationship(name.as_str())
                    .filter(|relationship| relationship.kind == RelationshipKind::Object)
                {
                    if matches!(direction, Value::Null) {
                        continue;
                    }
                    let target = self.table(relationship.target)?;
                    if target.select_permission(self.role).is_none() {
                        return Err(GraphqlError::Validation(format!(
                            "field '{name}' not found in type: '{}_order_by'",
                            table.sql
                        )));
                    }
                    let mut nested_path = path.clone();
                    nested_path.push(relationship.field);
                    order_by.extend(self.order_by(target, direction, nested_path)?);
                    continue;
                }
                let Some(column) = self.readable_column(table, name.as_str()) else {
                    return Err(GraphqlError::Validation(format!(
                        "field '{name}' not found in type: '{}_order_by'",
                        table.sql
                    )));
                };
                let direction_name = match direction {
                    Value::Enum(name) => name.as_str(),
                    Value::String(name) => name.as_str(),
                    Value::Null => continue,
                    _ => "",
                };
                let Some(direction) = OrderDirection::ALL
                    .into_iter()
                    .find(|candidate| candidate.graphql_name() == direction_name)
                else {
                    return Err(GraphqlError::Validation(format!(
                        "invalid order for {name}; use asc, desc, asc_nulls_first, asc_nulls_last, desc_nulls_first or desc_nulls_last"
                    )));
                };
                order_by.push(OrderBy {
                    path: path.clone(),
                    field: column.field,
                    direction,
                });
            }
        }
        Ok(order_by)
    }
}

/// Deepest nesting of a jsonb value. Responses embed stored JSON inside the
/// selection's own nesting, and the JSON reader stops at 128 levels.
const MAX_JSON_DEPTH: usize = 32;

fn json_depth(value: &serde_json::Value) -> usize {
    match value {
        serde_json::Value::Array(items) => 1 + items.iter().map(json_depth).max().unwrap_or(0),
        serde_json::Value::Object(members) => {
            1 + members.values().map(json_depth).max().unwrap_or(0)
        }
        _ => 0,
    }
}

/// Longest `_like` pattern or `_has_key` key accepted; SQLite refuses LIKE
/// patterns over 50,000 bytes.
const MAX_OPERAND_CHARS: usize = 10_000;

/// Checks text that is compared as given, not normalised as a column value:
/// no NUL (PostgreSQL text cannot hold it) and a bounded length.
fn check_operand_text(column: &Column, operator: &str, text: &str) -> Result<(), GraphqlError> {
    if text.contains('\0') {
        return Err(GraphqlError::Validation(format!(
            "{operator} on {} was given a string with a NUL character",
            column.field
        )));
    }
    if text.chars().count() > MAX_OPERAND_CHARS {
        return Err(GraphqlError::Validation(format!(
            "{operator} on {} takes at most {MAX_OPERAND_CHARS} characters",
            column.field
        )));
    }
    Ok(())
}

fn non_negative(name: &str, value: &Value) -> Result<u64, GraphqlError> {
    match value {
        Value::Number(number) => number.as_u64().ok_or_else(|| {
            GraphqlError::Validation(format!("{name} must be a whole number of 0 or more"))
        }),
        _ => Err(GraphqlError::Validation(format!(
            "{name} must be a whole number of 0 or more"
        ))),
    }
}

/// Applies `@skip(if:)` and `@include(if:)` on a field.
fn is_included(field: &SelectionField<'_>) -> Result<bool, GraphqlError> {
    let directives = field
        .directives()
        .map_err(|error| GraphqlError::Validation(error.message))?;
    for directive in directives {
        let condition = directive
            .arguments
            .iter()
            .find(|(name, _)| name.node.as_str() == "if")
            .map(|(_, value)| matches!(value.node, Value::Boolean(true)));
        match (directive.name.node.as_str(), condition) {
            ("skip", Some(true)) => return Ok(false),
            ("include", Some(false)) => return Ok(false),
            _ => {}
        }
    }
    Ok(true)
}

/// Parses one input value for `column`, normalising uuids, times and vocabulary values.
pub fn scalar_value(column: &Column, value: &Value) -> Result<SqlValue, GraphqlError> {
    let invalid = |expected: &str| {
        GraphqlError::Validation(format!(
            "invalid value for {}: expected {expected}, got {value}",
            column.field
        ))
    };
    if matches!(value, Value::Null) {
        return Ok(SqlValue::Null);
    }
    Ok(match column.scalar {
        ScalarType::Uuid => {
            let Value::String(text) = value else {
                return Err(invalid("a uuid string"));
            };
            let id = uuid::Uuid::parse_str(text)
                .map_err(|_| invalid("a uuid such as 123e4567-e89b-12d3-a456-426614174000"))?;
            SqlValue::Uuid(id)
        }
        ScalarType::String => {
            let Value::String(text) = value else {
                return Err(invalid("a string"));
            };
            // PostgreSQL text cannot hold NUL; refuse it on both backends alike.
            if text.contains('\0') {
                return Err(invalid("a string without NUL characters"));
            }
            match column.vocabulary {
                Some(vocabulary) => SqlValue::Text(
                    vocabulary
                        .normalize(text)
                        .map_err(|message| {
                            GraphqlError::Validation(format!(
                                "invalid value for {}: {message}",
                                column.field
                            ))
                        })?
                        .to_owned(),
                ),
                None => SqlValue::Text(text.clone()),
            }
        }
        ScalarType::Boolean => match value {
            Value::Boolean(flag) => SqlValue::Bool(*flag),
            _ => return Err(invalid("true or false")),
        },
        ScalarType::Int => match value {
            Value::Number(number) => {
                SqlValue::Int(number.as_i64().ok_or_else(|| invalid("a whole number"))?)
            }
            _ => return Err(invalid("a whole number")),
        },
        ScalarType::Timestamptz => {
            let Value::String(text) = value else {
                return Err(invalid("an RFC 3339 time"));
            };
            let time = ombud_store::parse_timestamp(text)
                .ok_or_else(|| invalid("an RFC 3339 time such as 2026-01-31T12:00:00Z"))?;
            SqlValue::Timestamp(time)
        }
        ScalarType::Jsonb => {
            let json = value
                .clone()
                .into_json()
                .map_err(|_| invalid("a JSON value"))?;
            if json_depth(&json) > MAX_JSON_DEPTH {
                return Err(invalid(&format!(
                    "JSON nested at most {MAX_JSON_DEPTH} levels deep"
                )));
            }
            if json.to_string().contains("\\u0000") {
                return Err(invalid("JSON without NUL characters"));
            }
            SqlValue::Json(json)
        }
    })
}
