//! Renders the query tree as SQL for the store's dialect. Every value is a
//! bound `$n` parameter; identifiers come only from the catalog and are quoted.
//!
//! A list of rows becomes one scalar subquery returning a JSON array:
//!
//! ```sql
//! (SELECT coalesce(json_group_array(json_object('id', t1."id", ...) ORDER BY t1."created_at" DESC), '[]')
//!    FROM (SELECT * FROM "data_subjects" AS t1 WHERE <join> AND <filter> ORDER BY ... LIMIT $1) AS t1)
//! ```
//!
//! (PostgreSQL spells the aggregate `json_agg`; [`Dialect`] holds such differences.)
//! JSON is built only for the rows that survive the filter and `LIMIT`.

use ombud_store::{Dialect, SqlValue};

use crate::error::GraphqlError;
use crate::ir::{BoolExp, CompareOp, FieldSelection, Operand, Select};
use crate::metadata::{Catalog, Column, Relationship, ScalarType, Table};
use crate::session::Session;

/// A SQL text with the values for its `$n` placeholders.
#[derive(Debug, Clone)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<SqlValue>,
}

pub struct SqlRenderer<'a> {
    catalog: &'a Catalog,
    session: &'a Session,
    dialect: Dialect,
    params: Vec<SqlValue>,
    aliases: usize,
}

fn quote(identifier: &str) -> String {
    format!("\"{identifier}\"")
}

impl<'a> SqlRenderer<'a> {
    pub fn new(catalog: &'a Catalog, session: &'a Session, dialect: Dialect) -> Self {
        Self::with_params(catalog, session, dialect, Vec::new())
    }

    /// Continues numbering after parameters that a caller already placed in its SQL.
    pub fn with_params(
        catalog: &'a Catalog,
        session: &'a Session,
        dialect: Dialect,
        params: Vec<SqlValue>,
    ) -> Self {
        SqlRenderer {
            catalog,
            session,
            dialect,
            params,
            aliases: 0,
        }
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn finish(self, sql: String) -> Statement {
        Statement {
            sql,
            params: self.params,
        }
    }

    pub fn param(&mut self, value: SqlValue) -> String {
        self.params.push(value);
        format!("${}", self.params.len())
    }

    pub fn alias(&mut self) -> String {
        self.aliases += 1;
        format!("t{}", self.aliases)
    }

    pub fn table(&self, name: &str) -> Result<&'a Table, GraphqlError> {
        self.catalog
            .table(name)
            .ok_or_else(|| GraphqlError::NotSupported(format!("unknown table {name}")))
    }

    /// `SELECT <JSON array of the selected rows>`.
    pub fn list_query(mut self, select: &Select) -> Result<Statement, GraphqlError> {
        let array = self.array_expr(select, None)?;
        Ok(self.finish(format!("SELECT {array}")))
    }

    /// `SELECT <JSON object of the first selected row, or NULL>`.
    pub fn object_query(mut self, select: &Select) -> Result<Statement, GraphqlError> {
        let object = self.object_expr(select, None)?;
        Ok(self.finish(format!("SELECT {object}")))
    }

    fn join_condition(&self, alias: &str, join: Option<(&str, &Relationship)>) -> Option<String> {
        join.map(|(parent, relationship)| {
            format!(
                "{alias}.{} = {parent}.{}",
                quote(relationship.remote_column),
                quote(relationship.local_column)
            )
        })
    }

    fn array_expr(
        &mut self,
        select: &Select,
        join: Option<(&str, &Relationship)>,
    ) -> Result<String, GraphqlError> {
        let table = self.table(select.table)?;
        let alias = self.alias();

        let mut conditions: Vec<String> = self.join_condition(&alias, join).into_iter().collect();
        conditions.push(self.bool_exp(&select.filter, table, &alias)?);
        let mut order_terms = Vec::with_capacity(select.order_by.len() + 1);
        for order in &select.order_by {
            let column = column_of(table, order.field)?;
            let target = self.dialect.ordered(
                column.scalar.kind(),
                &format!("{alias}.{}", quote(column.sql)),
            );
            order_terms.push(format!("{target} {}", order.direction.sql()));
        }
        // Ties are broken by primary key so that pages do not overlap.
        order_terms.push(format!("{alias}.{} ASC", quote(table.primary_key())));
        let order_sql = order_terms.join(", ");

        let mut inner = format!(
            "SELECT * FROM {} AS {alias} WHERE {}",
            quote(table.sql),
            conditions.join(" AND ")
        );
        if select.limit.is_some() || select.offset.is_some() {
            inner.push_str(&format!(" ORDER BY {order_sql}"));
            // Without a limit (an offset alone) both dialects accept the largest integer.
            let limit = select
                .limit
                .map_or(i64::MAX, |limit| i64::try_from(limit).unwrap_or(i64::MAX));
            let limit = self.param(SqlValue::Int(limit));
            inner.push_str(&format!(" LIMIT {limit}"));
            if let Some(offset) = select.offset {
                let offset = self.param(SqlValue::Int(i64::try_from(offset).unwrap_or(i64::MAX)));
                inner.push_str(&format!(" OFFSET {offset}"));
            }
        }

        let object = self.json_object(select, table, &alias)?;
        let array = self.dialect.json_array_agg(&object, &order_sql);
        Ok(format!("(SELECT {array} FROM ({inner}) AS {alias})"))
    }

    fn object_expr(
        &mut self,
        select: &Select,
        join: Option<(&str, &Relationship)>,
    ) -> Result<String, GraphqlError> {
        let table = self.table(select.table)?;
        let alias = self.alias();

        let mut conditions: Vec<String> = self.join_condition(&alias, join).into_iter().collect();
        conditions.push(self.bool_exp(&select.filter, table, &alias)?);
        let object = self.json_object(select, table, &alias)?;
        Ok(format!(
            "(SELECT {object} FROM {} AS {alias} WHERE {} LIMIT 1)",
            quote(table.sql),
            conditions.join(" AND ")
        ))
    }

    fn json_object(
        &mut self,
        select: &Select,
        table: &Table,
        alias: &str,
    ) -> Result<String, GraphqlError> {
        let mut pairs = Vec::with_capacity(select.fields.len());
        for (key, field) in &select.fields {
            let value = match field {
                FieldSelection::Column(name) => {
                    let column = column_of(table, name)?;
                    self.dialect.column_json(
                        column.scalar.kind(),
                        &format!("{alias}.{}", quote(column.sql)),
                    )
                }
                FieldSelection::Typename(name) => format!("'{name}'"),
                FieldSelection::Relationship {
                    field,
                    select: nested,
                } => {
                    let relationship = table.relationship(field).ok_or_else(|| {
                        GraphqlError::Validation(format!(
                            "{} has no relationship {field}",
                            table.sql
                        ))
                    })?;
                    let expr = match relationship.kind {
                        crate::metadata::RelationshipKind::Object => {
                            self.object_expr(nested, Some((alias, relationship)))?
                        }
                        crate::metadata::RelationshipKind::Array => {
                            self.array_expr(nested, Some((alias, relationship)))?
                        }
                    };
                    self.dialect.embed_json(&expr)
                }
            };
            // Response keys are GraphQL names ([_A-Za-z][_0-9A-Za-z]*), safe inside quotes.
            pairs.push((key.as_str(), value));
        }
        Ok(self.dialect.json_object(&pairs))
    }

    /// Renders a boolean expression over `table` aliased as `alias`.
    pub fn bool_exp(
        &mut self,
        exp: &BoolExp,
        table: &Table,
        alias: &str,
    ) -> Result<String, GraphqlError> {
        Ok(match exp {
            BoolExp::True => "TRUE".to_owned(),
            BoolExp::False => "FALSE".to_owned(),
            BoolExp::And(items) => {
                if items.is_empty() {
                    return Ok("TRUE".to_owned());
                }
                let parts: Result<Vec<_>, _> = items
                    .iter()
                    .map(|item| self.bool_exp(item, table, alias))
                    .collect();
                format!("({})", parts?.join(" AND "))
            }
            BoolExp::Or(items) => {
                if items.is_empty() {
                    return Ok("FALSE".to_owned());
                }
                let parts: Result<Vec<_>, _> = items
                    .iter()
                    .map(|item| self.bool_exp(item, table, alias))
                    .collect();
                format!("({})", parts?.join(" OR "))
            }
            BoolExp::Not(inner) => format!("(NOT {})", self.bool_exp(inner, table, alias)?),
            BoolExp::IsNull { field, is_null } => {
                let column = column_of(table, field)?;
                let test = if *is_null { "IS NULL" } else { "IS NOT NULL" };
                format!("{alias}.{} {test}", quote(column.sql))
            }
            BoolExp::Compare { field, op, value } => {
                let column = column_of(table, field)?;
                self.comparison(column, alias, *op, value)?
            }
            BoolExp::Relationship {
                field,
                predicate,
                check_target,
            } => {
                let relationship = table.relationship(field).ok_or_else(|| {
                    GraphqlError::Validation(format!("{} has no relationship {field}", table.sql))
                })?;
                let target = self.table(relationship.target)?;
                let target_alias = self.alias();
                let mut conditions = vec![format!(
                    "{target_alias}.{} = {alias}.{}",
                    quote(relationship.remote_column),
                    quote(relationship.local_column)
                )];
                if *check_target {
                    let permission =
                        target.select_permission(self.session.role).ok_or_else(|| {
                            GraphqlError::Validation(format!(
                                "relationship {field} is not available to this role"
                            ))
                        })?;
                    conditions.push(self.bool_exp(&permission.filter, target, &target_alias)?);
                }
                conditions.push(self.bool_exp(predicate, target, &target_alias)?);
                format!(
                    "EXISTS (SELECT 1 FROM {} AS {target_alias} WHERE {})",
                    quote(target.sql),
                    conditions.join(" AND ")
                )
            }
        })
    }

    fn operand_value(&self, operand: &Operand) -> Result<SqlValue, GraphqlError> {
        match operand {
            Operand::Value(value) => Ok(value.clone()),
            Operand::Session(name) => self
                .session
                .variable(name)
                .map(|value| SqlValue::Text(value.to_owned()))
                .ok_or_else(|| {
                    GraphqlError::AccessDenied(format!(
                        "the session variable {name} is missing from the token"
                    ))
                }),
            Operand::List(_) => Err(GraphqlError::Validation(
                "a list is only valid with _in and _nin".to_owned(),
            )),
        }
    }

    fn comparison(
        &mut self,
        column: &Column,
        alias: &str,
        op: CompareOp,
        operand: &Operand,
    ) -> Result<String, GraphqlError> {
        let target = format!("{alias}.{}", quote(column.sql));
        if op.takes_list() {
            let Operand::List(values) = operand else {
                return Err(GraphqlError::Validation(format!(
                    "{} expects a list",
                    op.graphql_name()
                )));
            };
            if values.is_empty() {
                return Ok(if op == CompareOp::In { "FALSE" } else { "TRUE" }.to_owned());
            }
            let mut placeholders = Vec::with_capacity(values.len());
            for value in values {
                let value = typed_value(column, value.clone())?;
                placeholders.push(self.param(value));
            }
            let keyword = if op == CompareOp::In { "IN" } else { "NOT IN" };
            return Ok(format!("{target} {keyword} ({})", placeholders.join(", ")));
        }

        let value = self.operand_value(operand)?;
        if op == CompareOp::HasKey {
            let SqlValue::Text(key) = value else {
                return Err(GraphqlError::Validation(
                    "_has_key expects a string".to_owned(),
                ));
            };
            if key.contains('"') {
                return Err(GraphqlError::NotSupported(
                    "_has_key does not support keys containing '\"'".to_owned(),
                ));
            }
            let key = self.param(SqlValue::Text(self.dialect.json_key_param(&key)));
            return Ok(self.dialect.json_has_key(&target, &key));
        }
        if op == CompareOp::Contains {
            // TODO: SQLite has no jsonb containment operator; emulate @> by walking the
            // operand's keys, or serve it only on PostgreSQL.
            return Err(GraphqlError::NotSupported(
                "_contains is not supported on the SQLite backend yet".to_owned(),
            ));
        }

        let value = typed_value(column, value)?;
        if op.is_pattern() {
            check_pattern(&value)?;
        }
        let placeholder = self.param(value);
        let ordered = self.dialect.ordered(column.scalar.kind(), &target);
        // `ESCAPE '\'` makes a backslash escape `%` and `_` on both backends;
        // PostgreSQL does so by default and SQLite not at all.
        Ok(match op {
            CompareOp::Eq if column.scalar == ScalarType::Jsonb => {
                self.dialect.json_equals(&target, &placeholder)
            }
            CompareOp::Eq => format!("{target} = {placeholder}"),
            CompareOp::Neq => format!("{target} <> {placeholder}"),
            CompareOp::Gt => format!("{ordered} > {placeholder}"),
            CompareOp::Gte => format!("{ordered} >= {placeholder}"),
            CompareOp::Lt => format!("{ordered} < {placeholder}"),
            CompareOp::Lte => format!("{ordered} <= {placeholder}"),
            CompareOp::Like => format!("{target} LIKE {placeholder} ESCAPE '\\'"),
            CompareOp::Nlike => format!("{target} NOT LIKE {placeholder} ESCAPE '\\'"),
            CompareOp::Ilike => format!("lower({target}) LIKE lower({placeholder}) ESCAPE '\\'"),
            CompareOp::Nilike => {
                format!("lower({target}) NOT LIKE lower({placeholder}) ESCAPE '\\'")
            }
            CompareOp::In | CompareOp::Nin | CompareOp::HasKey | CompareOp::Contains => {
                return Err(GraphqlError::NotSupported(format!(
                    "{} in this position",
                    op.graphql_name()
                )));
            }
        })
    }
}

pub fn column_of<'t>(table: &'t Table, field: &str) -> Result<&'t Column, GraphqlError> {
    table
        .column(field)
        .ok_or_else(|| GraphqlError::Validation(format!("{} has no column {field}", table.sql)))
}

/// PostgreSQL rejects a LIKE pattern that ends in its escape character with
/// an error; SQLite matches nothing. Both are refused here the same way.
fn check_pattern(value: &SqlValue) -> Result<(), GraphqlError> {
    if let SqlValue::Text(pattern) = value {
        let trailing = pattern.chars().rev().take_while(|c| *c == '\\').count();
        if trailing % 2 == 1 {
            return Err(GraphqlError::Validation(
                "a _like or _ilike pattern must not end with a single backslash; \
                 write \\\\ for a literal backslash"
                    .to_owned(),
            ));
        }
    }
    Ok(())
}

/// Gives a value the type of the column it is compared with or stored in.
/// Session variables and values set by the server arrive as text; PostgreSQL
/// needs ids, times and JSON bound with their own types.
pub fn typed_value(column: &Column, value: SqlValue) -> Result<SqlValue, GraphqlError> {
    let invalid = |expected: &str, text: &str| {
        GraphqlError::Validation(format!(
            "invalid value for {}: expected {expected}, got {text:?}",
            column.field
        ))
    };
    Ok(match (column.scalar, value) {
        (ScalarType::Uuid, SqlValue::Text(text)) => uuid::Uuid::parse_str(&text)
            .map(SqlValue::Uuid)
            .map_err(|_| invalid("a uuid", &text))?,
        (ScalarType::Timestamptz, SqlValue::Text(text)) => ombud_store::parse_timestamp(&text)
            .map(SqlValue::Timestamp)
            .ok_or_else(|| invalid("an RFC 3339 time", &text))?,
        (ScalarType::Jsonb, SqlValue::Text(text)) => serde_json::from_str(&text)
            .map(SqlValue::Json)
            .map_err(|_| invalid("JSON", &text))?,
        (_, value) => value,
    })
}
