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
//! (PostgreSQL spells the aggregate `json_agg`; [`Dialect`] contains such differences.)
//! JSON is built only for the rows that survive the filter and `LIMIT`.

use ombud_store::{Dialect, SqlValue};

use crate::error::GraphqlError;
use crate::ir::{
    AggregateColumn, AggregateField, AggregateOutput, AggregateSelect, BoolExp, CompareOp,
    FieldSelection, Operand, Select,
};
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
        let (inner, order_sql) = self.rows_subquery(select, table, &alias, join)?;
        let object = self.json_object(&select.fields, table, &alias)?;
        let array = self.dialect.json_array_agg(&object, &order_sql);
        Ok(format!("(SELECT {array} FROM ({inner}) AS {alias})"))
    }

    /// `SELECT <aggregates and nodes as one JSON object>`.
    pub fn aggregate_query(mut self, select: &AggregateSelect) -> Result<Statement, GraphqlError> {
        let object = self.aggregate_expr(select, None)?;
        Ok(self.finish(format!("SELECT {object}")))
    }

    fn aggregate_expr(
        &mut self,
        select: &AggregateSelect,
        join: Option<(&str, &Relationship)>,
    ) -> Result<String, GraphqlError> {
        let table = self.table(select.rows.table)?;
        let alias = self.alias();
        let (inner, order_sql) = self.rows_subquery(&select.rows, table, &alias, join)?;

        let mut pairs: Vec<(&str, String)> = Vec::with_capacity(select.outputs.len());
        for (key, output) in &select.outputs {
            let value = match output {
                AggregateOutput::Typename(name) => format!("'{name}'"),
                AggregateOutput::Nodes(fields) => {
                    let object = self.json_object(fields, table, &alias)?;
                    self.dialect.json_array_agg(&object, &order_sql)
                }
                AggregateOutput::Aggregate(fields) => {
                    self.aggregate_fields(fields, table, &alias)?
                }
            };
            pairs.push((key.as_str(), value));
        }
        let object = self.dialect.json_object(&pairs);
        Ok(format!("(SELECT {object} FROM ({inner}) AS {alias})"))
    }

    fn aggregate_fields(
        &mut self,
        fields: &[(String, AggregateField)],
        table: &Table,
        alias: &str,
    ) -> Result<String, GraphqlError> {
        let target = |column: &Column| format!("{alias}.{}", quote(column.sql));
        let mut pairs: Vec<(&str, String)> = Vec::with_capacity(fields.len());
        for (key, field) in fields {
            let value = match field {
                AggregateField::Typename(name) => format!("'{name}'"),
                AggregateField::Count { columns, distinct } => {
                    let columns: Vec<&Column> = columns
                        .iter()
                        .map(|field| column_of(table, field))
                        .collect::<Result<_, _>>()?;
                    let distinct_sql = if *distinct { "DISTINCT " } else { "" };
                    match columns.as_slice() {
                        [] if *distinct => {
                            format!("count(DISTINCT {alias}.{})", quote(table.primary_key()))
                        }
                        [] => "count(*)".to_owned(),
                        [column] => format!("count({distinct_sql}{})", target(column)),
                        several => {
                            // Rows whose listed columns are all non-null, as one value each.
                            let present: Vec<String> = several
                                .iter()
                                .map(|column| format!("{} IS NOT NULL", target(column)))
                                .collect();
                            let tuple: Vec<String> =
                                several.iter().map(|column| target(column)).collect();
                            format!(
                                "count({distinct_sql}CASE WHEN {} THEN {} END)",
                                present.join(" AND "),
                                self.dialect.json_array_text(&tuple)
                            )
                        }
                    }
                }
                AggregateField::Function { function, fields } => {
                    let mut inner: Vec<(&str, String)> = Vec::with_capacity(fields.len());
                    for (inner_key, column) in fields {
                        let value = match column {
                            AggregateColumn::Typename(name) => format!("'{name}'"),
                            AggregateColumn::Column(field) => {
                                let column = column_of(table, field)?;
                                self.dialect.aggregate(
                                    function.name(),
                                    column.scalar.kind(),
                                    &target(column),
                                )
                            }
                        };
                        inner.push((inner_key.as_str(), value));
                    }
                    self.dialect.json_object(&inner)
                }
            };
            pairs.push((key.as_str(), value));
        }
        Ok(self.dialect.json_object(&pairs))
    }

    /// Renders the rows of `select` as a subquery aliased `alias`: filter,
    /// distinct rows, order and limit. Returns it with the ORDER BY terms,
    /// which refer to `alias` and so also order an aggregate over it.
    fn rows_subquery(
        &mut self,
        select: &Select,
        table: &Table,
        alias: &str,
        join: Option<(&str, &Relationship)>,
    ) -> Result<(String, String), GraphqlError> {
        let mut conditions: Vec<String> = self.join_condition(alias, join).into_iter().collect();
        conditions.push(self.bool_exp(&select.filter, table, alias)?);
        let mut order_terms = Vec::with_capacity(select.order_by.len() + 1);
        for order in &select.order_by {
            let target = self.order_target(table, alias, &order.path, order.field)?;
            order_terms.push(format!("{target} {}", order.direction.sql()));
        }
        // Ties are broken by primary key so that pages do not overlap.
        order_terms.push(format!("{alias}.{} ASC", quote(table.primary_key())));
        let order_sql = order_terms.join(", ");

        let mut inner = if select.distinct_on.is_empty() {
            format!(
                "SELECT * FROM {} AS {alias} WHERE {}",
                quote(table.sql),
                conditions.join(" AND ")
            )
        } else {
            // DISTINCT ON exists only on PostgreSQL; numbering the rows of each
            // distinct combination in the requested order works on both.
            let partition: Vec<String> = select
                .distinct_on
                .iter()
                .map(|field| {
                    column_of(table, field).map(|column| format!("{alias}.{}", quote(column.sql)))
                })
                .collect::<Result<_, _>>()?;
            format!(
                "SELECT * FROM (SELECT {alias}.*, row_number() OVER (PARTITION BY {} ORDER BY {order_sql}) AS ombud_row_number \
                 FROM {} AS {alias} WHERE {}) AS {alias} WHERE {alias}.ombud_row_number = 1",
                partition.join(", "),
                quote(table.sql),
                conditions.join(" AND ")
            )
        };
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
        Ok((inner, order_sql))
    }

    /// Renders the value a row is ordered by: its own column, or a column of the row
    /// reached through object relationships, read through the role's select
    /// permission on each table on the way (NULL where it may not be seen).
    fn order_target(
        &mut self,
        table: &Table,
        alias: &str,
        path: &[&'static str],
        field: &str,
    ) -> Result<String, GraphqlError> {
        let Some((first, rest)) = path.split_first() else {
            let column = column_of(table, field)?;
            return Ok(self.dialect.ordered(
                column.scalar.kind(),
                &format!("{alias}.{}", quote(column.sql)),
            ));
        };
        let relationship = table.relationship(first).ok_or_else(|| {
            GraphqlError::Validation(format!("{} has no relationship {first}", table.sql))
        })?;
        let target = self.table(relationship.target)?;
        let permission = target.select_permission(self.session.role).ok_or_else(|| {
            GraphqlError::Validation(format!(
                "relationship {first} is not available to this role"
            ))
        })?;
        let target_alias = self.alias();
        let filter = self.bool_exp(&permission.filter, target, &target_alias)?;
        let value = self.order_target(target, &target_alias, rest, field)?;
        Ok(format!(
            "(SELECT {value} FROM {} AS {target_alias} WHERE {target_alias}.{} = {alias}.{} AND {filter})",
            quote(target.sql),
            quote(relationship.remote_column),
            quote(relationship.local_column)
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
        let object = self.json_object(&select.fields, table, &alias)?;
        Ok(format!(
            "(SELECT {object} FROM {} AS {alias} WHERE {} LIMIT 1)",
            quote(table.sql),
            conditions.join(" AND ")
        ))
    }

    fn json_object(
        &mut self,
        fields: &[(String, FieldSelection)],
        table: &Table,
        alias: &str,
    ) -> Result<String, GraphqlError> {
        let mut pairs = Vec::with_capacity(fields.len());
        for (key, field) in fields {
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
                FieldSelection::AggregateRelationship {
                    field,
                    select: nested,
                } => {
                    let relationship = table.relationship(field).ok_or_else(|| {
                        GraphqlError::Validation(format!(
                            "{} has no relationship {field}",
                            table.sql
                        ))
                    })?;
                    let expr = self.aggregate_expr(nested, Some((alias, relationship)))?;
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
            let typed: Vec<SqlValue> = values
                .iter()
                .map(|value| typed_value(column, value.clone()))
                .collect::<Result<_, _>>()?;
            let keyword = if op == CompareOp::In { "IN" } else { "NOT IN" };
            if column.scalar == ScalarType::Jsonb {
                // JSON values are compared one by one; the list form takes scalars only.
                let sqlite = self.dialect == Dialect::Sqlite;
                let mut items = Vec::with_capacity(typed.len());
                for value in typed {
                    let placeholder = self.param(value);
                    items.push(if sqlite {
                        format!("json({placeholder})")
                    } else {
                        placeholder
                    });
                }
                let target = if sqlite {
                    format!("json({target})")
                } else {
                    target
                };
                return Ok(format!("{target} {keyword} ({})", items.join(", ")));
            }
            let list = self.param(SqlValue::list(&typed));
            let values = self.dialect.json_list(&list, column.scalar.kind());
            return Ok(format!("{target} {keyword} ({values})"));
        }

        let value = self.operand_value(operand)?;
        if op == CompareOp::HasKey {
            let SqlValue::Text(key) = value else {
                return Err(GraphqlError::Validation(
                    "_has_key expects a string".to_owned(),
                ));
            };
            let key = self.param(SqlValue::Text(key));
            let element_alias = self.alias();
            return Ok(self.dialect.json_has_key(&target, &key, &element_alias));
        }
        if op == CompareOp::Contains {
            let SqlValue::Json(document) = typed_value(column, value)? else {
                return Err(GraphqlError::Validation(
                    "_contains expects a JSON value".to_owned(),
                ));
            };
            return match self.dialect {
                Dialect::Postgres => {
                    let placeholder = self.param(SqlValue::Json(document));
                    Ok(format!("({target} @> {placeholder})"))
                }
                Dialect::Sqlite => {
                    let scalar = self.contains_scalar_in_array(&target, &document)?;
                    let nested = self.contains(&target, "$", &document, 0)?;
                    Ok(match scalar {
                        Some(scalar) => format!("({nested} OR {scalar})"),
                        None => nested,
                    })
                }
            };
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
            CompareOp::Ilike => self.dialect.ilike(&target, &placeholder, false),
            CompareOp::Nilike => self.dialect.ilike(&target, &placeholder, true),
            CompareOp::In | CompareOp::Nin | CompareOp::HasKey | CompareOp::Contains => {
                return Err(GraphqlError::NotSupported(format!(
                    "{} in this position",
                    op.graphql_name()
                )));
            }
        })
    }
}

/// JSON nested deeper than this in a `_contains` operand is rejected; each
/// level adds a subquery on SQLite.
const MAX_CONTAINS_DEPTH: usize = 16;

impl SqlRenderer<'_> {
    /// SQLite rendering of PostgreSQL's jsonb `@>`: the JSON text `document`
    /// at `path` contains `value`. An object contains an object when it has all
    /// of its keys with contained values. An array contains an array when some
    /// element contains each of its elements. Scalars must be equal.
    fn contains(
        &mut self,
        document: &str,
        path: &str,
        value: &serde_json::Value,
        depth: usize,
    ) -> Result<String, GraphqlError> {
        use serde_json::Value as Json;

        if depth > MAX_CONTAINS_DEPTH {
            return Err(GraphqlError::Validation(format!(
                "the _contains value is nested deeper than {MAX_CONTAINS_DEPTH} levels"
            )));
        }
        let path_param = self.param(SqlValue::Text(path.to_owned()));
        let json_type = format!("json_type({document}, {path_param})");
        match value {
            Json::Object(members) => {
                let mut parts = vec![format!("{json_type} = 'object'")];
                for (key, member) in members {
                    // SQLite JSON paths cannot spell these characters in a key.
                    if key.contains('"') || key.contains('\\') {
                        return Err(GraphqlError::NotSupported(
                            "_contains on SQLite does not support keys containing '\"' or '\\'"
                                .to_owned(),
                        ));
                    }
                    parts.push(self.contains(
                        document,
                        &format!("{path}.\"{key}\""),
                        member,
                        depth + 1,
                    )?);
                }
                Ok(format!("({})", parts.join(" AND ")))
            }
            Json::Array(elements) => {
                let mut parts = vec![format!("{json_type} = 'array'")];
                for element in elements {
                    let element_alias = self.alias();
                    let matches = match element {
                        // Only a container element can contain a container;
                        // CASE keeps json_type() away from plain-text elements.
                        Json::Object(_) | Json::Array(_) => format!(
                            "(CASE WHEN {element_alias}.type IN ('object', 'array') THEN {} ELSE FALSE END)",
                            self.contains(
                                &format!("{element_alias}.value"),
                                "$",
                                element,
                                depth + 1
                            )?
                        ),
                        scalar => self.scalar_matches(
                            &format!("{element_alias}.type"),
                            &format!("{element_alias}.atom"),
                            scalar,
                        ),
                    };
                    parts.push(format!(
                        "EXISTS (SELECT 1 FROM json_each({document}, {path_param}) AS {element_alias} WHERE {matches})"
                    ));
                }
                Ok(format!("({})", parts.join(" AND ")))
            }
            scalar => {
                let extracted = format!("json_extract({document}, {path_param})");
                Ok(self.scalar_matches(&json_type, &extracted, scalar))
            }
        }
    }

    /// PostgreSQL's one exception to structural containment: a top-level
    /// array contains a scalar that is one of its elements.
    fn contains_scalar_in_array(
        &mut self,
        target: &str,
        value: &serde_json::Value,
    ) -> Result<Option<String>, GraphqlError> {
        if value.is_object() || value.is_array() {
            return Ok(None);
        }
        let element_alias = self.alias();
        let matches = self.scalar_matches(
            &format!("{element_alias}.type"),
            &format!("{element_alias}.atom"),
            value,
        );
        Ok(Some(format!(
            "(json_type({target}) = 'array' AND EXISTS (SELECT 1 FROM json_each({target}) AS {element_alias} WHERE {matches}))"
        )))
    }

    /// Renders whether a JSON scalar of SQLite type `type_sql` and SQL value `value_sql` equals `scalar`.
    fn scalar_matches(
        &mut self,
        type_sql: &str,
        value_sql: &str,
        scalar: &serde_json::Value,
    ) -> String {
        use serde_json::Value as Json;

        match scalar {
            Json::Null => format!("{type_sql} = 'null'"),
            Json::Bool(true) => format!("{type_sql} = 'true'"),
            Json::Bool(false) => format!("{type_sql} = 'false'"),
            Json::Number(number) => {
                let value = match number.as_i64() {
                    Some(whole) => SqlValue::Int(whole),
                    None => SqlValue::Float(number.as_f64().unwrap_or(f64::NAN)),
                };
                let placeholder = self.param(value);
                format!("({type_sql} IN ('integer', 'real') AND {value_sql} = {placeholder})")
            }
            Json::String(text) => {
                let placeholder = self.param(SqlValue::Text(text.clone()));
                format!("({type_sql} = 'text' AND {value_sql} = {placeholder})")
            }
            Json::Array(_) | Json::Object(_) => "FALSE".to_owned(),
        }
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
