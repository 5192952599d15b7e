//! Renders the query tree as SQLite SQL. Every value is a bound `$n`
//! parameter; identifiers come only from the catalog and are quoted.
//!
//! A list of rows becomes one scalar subquery returning a JSON array:
//!
//! ```sql
//! (SELECT coalesce(json_group_array(json_object('id', t1."id", ...) ORDER BY t1."created_at" DESC), '[]')
//!    FROM (SELECT * FROM "data_subjects" AS t1 WHERE <join> AND <filter> ORDER BY ... LIMIT $1) AS t1)
//! ```
//!
//! JSON is built only for the rows that survive the filter and `LIMIT`.
// NOTE: only the SQLite dialect exists yet; PostgreSQL needs json_build_object,
// json_agg and native booleans in the few places marked "dialect".

use ombud_store::SqlValue;

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

/// SQLite allows 127 function arguments by default; wider objects are built
/// in chunks of this many key/value pairs.
const PAIRS_PER_CALL: usize = 50;

pub struct SqlRenderer<'a> {
    catalog: &'a Catalog,
    session: &'a Session,
    params: Vec<SqlValue>,
    aliases: usize,
}

fn quote(identifier: &str) -> String {
    format!("\"{identifier}\"")
}

impl<'a> SqlRenderer<'a> {
    pub fn new(catalog: &'a Catalog, session: &'a Session) -> Self {
        SqlRenderer {
            catalog,
            session,
            params: Vec::new(),
            aliases: 0,
        }
    }

    /// Continues numbering after parameters that a caller already placed in its SQL.
    pub fn with_params(catalog: &'a Catalog, session: &'a Session, params: Vec<SqlValue>) -> Self {
        SqlRenderer {
            catalog,
            session,
            params,
            aliases: 0,
        }
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
            order_terms.push(format!(
                "{alias}.{} {}",
                quote(column.sql),
                order.direction.sql()
            ));
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
            let limit = select
                .limit
                .map_or(-1, |limit| i64::try_from(limit).unwrap_or(i64::MAX));
            let limit = self.param(SqlValue::Int(limit));
            inner.push_str(&format!(" LIMIT {limit}"));
            if let Some(offset) = select.offset {
                let offset = self.param(SqlValue::Int(i64::try_from(offset).unwrap_or(i64::MAX)));
                inner.push_str(&format!(" OFFSET {offset}"));
            }
        }

        let object = self.json_object(select, table, &alias)?;
        Ok(format!(
            "(SELECT coalesce(json_group_array({object} ORDER BY {order_sql}), '[]') FROM ({inner}) AS {alias})"
        ))
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
                FieldSelection::Column(name) => column_json(column_of(table, name)?, alias),
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
                    // A subquery's JSON loses its JSON type; json() restores it (dialect).
                    let expr = match relationship.kind {
                        crate::metadata::RelationshipKind::Object => {
                            self.object_expr(nested, Some((alias, relationship)))?
                        }
                        crate::metadata::RelationshipKind::Array => {
                            self.array_expr(nested, Some((alias, relationship)))?
                        }
                    };
                    format!("json({expr})")
                }
            };
            // Response keys are GraphQL names ([_A-Za-z][_0-9A-Za-z]*), safe inside quotes.
            pairs.push((key.as_str(), value));
        }

        let mut chunks = pairs.chunks(PAIRS_PER_CALL);
        let Some(first) = chunks.next() else {
            return Ok("json_object()".to_owned());
        };
        let mut object = format!(
            "json_object({})",
            first
                .iter()
                .map(|(key, value)| format!("'{key}', {value}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        for chunk in chunks {
            let setters: Vec<String> = chunk
                .iter()
                .map(|(key, value)| format!("'$.\"{key}\"', {value}"))
                .collect();
            object = format!("json_set({object}, {})", setters.join(", "));
        }
        Ok(object)
    }

    /// Renders a boolean expression over `table` aliased as `alias`.
    pub fn bool_exp(
        &mut self,
        exp: &BoolExp,
        table: &Table,
        alias: &str,
    ) -> Result<String, GraphqlError> {
        Ok(match exp {
            BoolExp::True => "1".to_owned(),
            BoolExp::False => "0".to_owned(),
            BoolExp::And(items) => {
                if items.is_empty() {
                    return Ok("1".to_owned());
                }
                let parts: Result<Vec<_>, _> = items
                    .iter()
                    .map(|item| self.bool_exp(item, table, alias))
                    .collect();
                format!("({})", parts?.join(" AND "))
            }
            BoolExp::Or(items) => {
                if items.is_empty() {
                    return Ok("0".to_owned());
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
                return Ok(if op == CompareOp::In { "0" } else { "1" }.to_owned());
            }
            let placeholders: Vec<String> = values
                .iter()
                .map(|value| self.param(value.clone()))
                .collect();
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
            let path = self.param(SqlValue::Text(format!("$.\"{key}\"")));
            return Ok(format!("(json_type({target}, {path}) IS NOT NULL)"));
        }
        if op == CompareOp::Contains {
            // TODO: SQLite has no jsonb containment operator; emulate @> by walking the
            // operand's keys, or serve it only on PostgreSQL.
            return Err(GraphqlError::NotSupported(
                "_contains is not supported on the SQLite backend yet".to_owned(),
            ));
        }

        let placeholder = self.param(value);
        Ok(match op {
            CompareOp::Eq if column.scalar == ScalarType::Jsonb => {
                format!("json({target}) = json({placeholder})")
            }
            CompareOp::Eq => format!("{target} = {placeholder}"),
            CompareOp::Neq => format!("{target} <> {placeholder}"),
            CompareOp::Gt => format!("{target} > {placeholder}"),
            CompareOp::Gte => format!("{target} >= {placeholder}"),
            CompareOp::Lt => format!("{target} < {placeholder}"),
            CompareOp::Lte => format!("{target} <= {placeholder}"),
            CompareOp::Like => format!("{target} LIKE {placeholder}"),
            CompareOp::Nlike => format!("{target} NOT LIKE {placeholder}"),
            CompareOp::Ilike => format!("lower({target}) LIKE lower({placeholder})"),
            CompareOp::Nilike => format!("lower({target}) NOT LIKE lower({placeholder})"),
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

/// Renders a column as a JSON value, because SQLite stores booleans as 0/1 and JSON as text (dialect).
fn column_json(column: &Column, alias: &str) -> String {
    let target = format!("{alias}.{}", quote(column.sql));
    match column.scalar {
        ScalarType::Boolean => format!(
            "CASE WHEN {target} IS NULL THEN NULL WHEN {target} THEN json('true') ELSE json('false') END"
        ),
        ScalarType::Jsonb => format!("json({target})"),
        _ => target,
    }
}
