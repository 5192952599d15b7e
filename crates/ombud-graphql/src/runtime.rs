use std::sync::Arc;

use async_graphql::Value;
use async_graphql::dynamic::{FieldValue, ResolverContext};
use ombud_privacy::ConsentCookieSigner;
use ombud_store::{Dialect, SqlValue, Store};

use crate::error::GraphqlError;
use crate::ir::{BoolExp, CompareOp, Operand};
use crate::metadata::Catalog;
use crate::parse::{Arguments, QueryParser, scalar_value};
use crate::session::Session;
use crate::sql::{SqlRenderer, Statement};

/// Resources resolvers need at run time, stored as schema data rather than globals.
pub struct Runtime {
    pub catalog: &'static Catalog,
    pub store: Store,
    pub consent_signer: Arc<ConsentCookieSigner>,
}

impl Runtime {
    pub(crate) fn from_context<'c>(
        ctx: &ResolverContext<'c>,
    ) -> async_graphql::Result<&'c Arc<Runtime>> {
        ctx.ctx.data::<Arc<Runtime>>()
    }

    pub(crate) fn parser(&self, session: &Session) -> QueryParser<'static> {
        QueryParser {
            catalog: self.catalog,
            role: session.role,
        }
    }

    /// Resolves a root list field such as `dataSubjects(where:, orderBy:, limit:)`.
    pub(crate) async fn resolve_list<'c>(
        &self,
        ctx: &ResolverContext<'c>,
        table: &'static str,
    ) -> async_graphql::Result<Option<FieldValue<'c>>> {
        let session = ctx.ctx.data::<Session>()?;
        let statement = self
            .parser(session)
            .select(table, &ctx.ctx.field(), true, BoolExp::True)
            .and_then(|select| {
                spend_rows(ctx, crate::ir::estimated_rows(&select))?;
                SqlRenderer::new(self.catalog, session, self.dialect(ctx)).list_query(&select)
            })
            .map_err(GraphqlError::into_graphql)?;
        let value = self
            .fetch(ctx, statement)
            .await
            .map_err(GraphqlError::into_graphql)?;
        Ok(Some(FieldValue::value(
            value.unwrap_or(Value::List(Vec::new())),
        )))
    }

    /// Resolves `<plural>Aggregate(where:, ...) { aggregate { ... } nodes { ... } }`.
    pub(crate) async fn resolve_aggregate<'c>(
        &self,
        ctx: &ResolverContext<'c>,
        table: &'static str,
    ) -> async_graphql::Result<Option<FieldValue<'c>>> {
        let session = ctx.ctx.data::<Session>()?;
        let statement = self
            .parser(session)
            .aggregate_select(table, &ctx.ctx.field(), BoolExp::True)
            .and_then(|select| {
                spend_rows(ctx, crate::ir::estimated_aggregate_rows(&select))?;
                SqlRenderer::new(self.catalog, session, self.dialect(ctx)).aggregate_query(&select)
            })
            .map_err(GraphqlError::into_graphql)?;
        let value = self
            .fetch(ctx, statement)
            .await
            .map_err(GraphqlError::into_graphql)?;
        Ok(value.map(FieldValue::value))
    }

    /// Resolves a root field by primary key such as `dataSubject(id:)`; null when
    /// the row does not exist or the role may not see it.
    pub(crate) async fn resolve_by_pk<'c>(
        &self,
        ctx: &ResolverContext<'c>,
        table: &'static str,
    ) -> async_graphql::Result<Option<FieldValue<'c>>> {
        let session = ctx.ctx.data::<Session>()?;
        let statement = self
            .by_pk_statement(ctx, session, table)
            .map_err(GraphqlError::into_graphql)?;
        let value = self
            .fetch(ctx, statement)
            .await
            .map_err(GraphqlError::into_graphql)?;
        Ok(value.map(FieldValue::value))
    }

    fn by_pk_statement(
        &self,
        ctx: &ResolverContext<'_>,
        session: &Session,
        table: &'static str,
    ) -> Result<Statement, GraphqlError> {
        let field = ctx.ctx.field();
        let arguments = Arguments::from_field(&field)?;
        let table_meta = self.parser(session).table(table)?;
        let id_column = table_meta
            .column(table_meta.primary_key())
            .ok_or_else(|| GraphqlError::NotSupported(format!("{table} has no primary key")))?;
        let id = scalar_value(id_column, arguments.get("id").unwrap_or(&Value::Null))?;
        if id == SqlValue::Null {
            return Err(GraphqlError::Validation("id must not be null".to_owned()));
        }
        let by_id = BoolExp::Compare {
            field: id_column.field,
            op: CompareOp::Eq,
            value: Operand::Value(id),
        };
        let select = self.parser(session).select(table, &field, false, by_id)?;
        spend_rows(ctx, crate::ir::estimated_rows(&select))?;
        SqlRenderer::new(self.catalog, session, self.dialect(ctx)).object_query(&select)
    }

    /// Returns the dialect SQL is rendered in: the store's, or a capture's.
    fn dialect(&self, ctx: &ResolverContext<'_>) -> Dialect {
        match ctx.ctx.data_opt::<Arc<SqlCapture>>() {
            Some(capture) => capture.dialect,
            None => self.store.dialect(),
        }
    }

    /// Runs a read statement and parses the JSON it returns. Under a
    /// [`SqlCapture`] the statement is recorded instead and the field is null.
    pub(crate) async fn fetch(
        &self,
        ctx: &ResolverContext<'_>,
        statement: Statement,
    ) -> Result<Option<Value>, GraphqlError> {
        if let Some(capture) = ctx.ctx.data_opt::<Arc<SqlCapture>>() {
            capture.record(&statement);
            return Ok(None);
        }
        let text = self
            .store
            .fetch_json(&statement.sql, &statement.params)
            .await?;
        text.map(|text| parse_json(&text)).transpose()
    }
}

pub(crate) fn parse_json(text: &str) -> Result<Value, GraphqlError> {
    let json: serde_json::Value = serde_json::from_str(text).map_err(|error| {
        GraphqlError::NotSupported(format!("the database returned invalid JSON: {error}"))
    })?;
    Value::from_json(json)
        .map_err(|error| GraphqlError::NotSupported(format!("cannot convert JSON: {error}")))
}

/// Collects the SQL that read queries would run, rendered in `dialect`,
/// without running it: how the SQL snapshot tests see both dialects.
pub struct SqlCapture {
    pub dialect: Dialect,
    statements: std::sync::Mutex<Vec<String>>,
}

impl SqlCapture {
    pub fn new(dialect: Dialect) -> SqlCapture {
        SqlCapture {
            dialect,
            statements: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn record(&self, statement: &Statement) {
        let params: Vec<String> = statement
            .params
            .iter()
            .enumerate()
            .map(|(index, value)| format!("${} = {}", index + 1, value.to_json()))
            .collect();
        let text = format!("{}\n-- {}", statement.sql, params.join(", "));
        if let Ok(mut statements) = self.statements.lock() {
            statements.push(text);
        }
    }

    /// Returns the recorded statements, in the order the root fields resolved.
    pub fn statements(&self) -> Vec<String> {
        self.statements
            .lock()
            .map(|statements| statements.clone())
            .unwrap_or_default()
    }
}

/// Rows one request may read at most, as estimated from its selections
/// before any SQL runs. Each list counts as its limit (1000 without one), and
/// a nested list multiplies by its parent's rows, so a document that nests
/// lists inside lists must set limits.
pub const MAX_ESTIMATED_ROWS: u64 = 10_000_000;

/// The rows a request has left to read, shared by its root fields.
pub struct RowBudget(std::sync::atomic::AtomicU64);

impl RowBudget {
    pub fn new() -> RowBudget {
        RowBudget(std::sync::atomic::AtomicU64::new(MAX_ESTIMATED_ROWS))
    }
}

impl Default for RowBudget {
    fn default() -> Self {
        RowBudget::new()
    }
}

/// Takes `rows` from the request's budget, or fails when it would run out.
fn spend_rows(ctx: &ResolverContext<'_>, rows: u64) -> Result<(), GraphqlError> {
    use std::sync::atomic::Ordering;

    let Some(budget) = ctx.ctx.data_opt::<Arc<RowBudget>>() else {
        return Ok(());
    };
    let spent = budget
        .0
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
            left.checked_sub(rows)
        });
    spent.map(|_| ()).map_err(|_| {
        GraphqlError::Validation(format!(
            "the document could read up to {rows} rows, above the limit of {MAX_ESTIMATED_ROWS} per request; \
             set smaller limits on nested lists (each list without limit counts as 1000 rows)"
        ))
    })
}
