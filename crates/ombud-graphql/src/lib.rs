#![doc = "ombud's GraphQL layer: table metadata, one schema per role, the GraphQL-to-SQL compiler, mutations and actions."]

mod actions;
mod audit;
mod error;
mod hooks;
pub mod ir;
pub mod metadata;
mod mutation;
mod parse;
mod reference;
mod runtime;
mod schema;
mod session;
pub mod sql;

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use async_graphql::Variables;
use async_graphql::dynamic::Schema;
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument};
use ombud_privacy::ConsentCookieSigner;
use ombud_store::Store;
use serde::Deserialize;

pub use error::GraphqlError;
pub use reference::reference_markdown;
pub use runtime::{Runtime, SqlCapture};
pub use schema::SchemaLimits;
pub use session::{Role, Session};

/// The table metadata. It is constant data, built once on first use.
static CATALOG: LazyLock<metadata::Catalog> = LazyLock::new(metadata::catalog);

pub fn catalog() -> &'static metadata::Catalog {
    &CATALOG
}

/// A GraphQL request body as clients send it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphqlRequest {
    pub query: String,
    #[serde(default)]
    pub variables: Option<serde_json::Value>,
    #[serde(default)]
    pub operation_name: Option<String>,
}

/// Executes GraphQL documents against the schema of the caller's role.
pub struct Engine {
    schemas: BTreeMap<Role, Schema>,
    max_aliases: usize,
}

impl Engine {
    pub fn new(
        store: Store,
        consent_signer: Arc<ConsentCookieSigner>,
        limits: SchemaLimits,
    ) -> Result<Engine, GraphqlError> {
        let runtime = Arc::new(Runtime {
            catalog: &CATALOG,
            store,
            consent_signer,
        });
        let mut schemas = BTreeMap::new();
        for role in Role::ALL {
            let schema =
                schema::build_schema(&CATALOG, role, runtime.clone(), limits).map_err(|error| {
                    GraphqlError::NotSupported(format!(
                        "cannot build the {} schema: {error}",
                        role.as_str()
                    ))
                })?;
            schemas.insert(role, schema);
        }
        Ok(Engine {
            schemas,
            max_aliases: limits.max_aliases,
        })
    }

    /// Returns the schema of `role` in SDL, for documentation and tests.
    pub fn sdl(&self, role: Role) -> Option<String> {
        self.schemas.get(&role).map(Schema::sdl)
    }

    /// Executes one request and returns the response body. Errors always carry `extensions.code`.
    pub async fn execute(&self, session: Session, request: GraphqlRequest) -> serde_json::Value {
        self.execute_with(session, request, None).await
    }

    /// Renders the SQL of a request's read queries in `dialect` without running
    /// it. Returns the statements, or the response body when the request fails
    /// before any SQL is rendered.
    pub async fn explain(
        &self,
        session: Session,
        request: GraphqlRequest,
        dialect: ombud_store::Dialect,
    ) -> (Vec<String>, serde_json::Value) {
        let capture = Arc::new(SqlCapture::new(dialect));
        let body = self
            .execute_with(session, request, Some(capture.clone()))
            .await;
        (capture.statements(), body)
    }

    async fn execute_with(
        &self,
        session: Session,
        request: GraphqlRequest,
        capture: Option<Arc<SqlCapture>>,
    ) -> serde_json::Value {
        let Some(schema) = self.schemas.get(&session.role) else {
            return error_body(
                "access-denied",
                &format!("the role {} has no schema", session.role.as_str()),
            );
        };

        if let Err(message) = check_nesting(&request.query) {
            return error_body("validation-failed", &message);
        }
        let document = match async_graphql::parser::parse_query(&request.query) {
            Ok(document) => document,
            Err(error) => {
                return error_body(
                    "validation-failed",
                    &parse_error_message(&request.query, &error.to_string()),
                );
            }
        };

        // async-graphql's dynamic schemas have no alias limit of their own.
        let aliases = count_aliases(&document);
        if aliases > self.max_aliases {
            return error_body(
                "validation-failed",
                &format!(
                    "the document has {aliases} aliased fields; at most {} are allowed, so split it into several requests",
                    self.max_aliases
                ),
            );
        }

        let mut variables = match request.variables {
            None | Some(serde_json::Value::Null) => serde_json::Map::new(),
            Some(serde_json::Value::Object(map)) => map,
            Some(_) => return error_body("validation-failed", "variables must be a JSON object"),
        };
        fill_absent_variables(&document, request.operation_name.as_deref(), &mut variables);

        let mut graphql_request = async_graphql::Request::new(request.query)
            .variables(Variables::from_json(serde_json::Value::Object(variables)))
            .data(session);
        if let Some(name) = request.operation_name {
            graphql_request = graphql_request.operation_name(name);
        }
        if let Some(capture) = capture {
            graphql_request = graphql_request.data(capture);
        }
        graphql_request = graphql_request.data(Arc::new(runtime::RowBudget::new()));

        let response = schema.execute(graphql_request).await;
        let mut body = serde_json::to_value(&response)
            .unwrap_or_else(|_| error_body("unexpected", "cannot encode the response"));
        add_missing_codes(&mut body);
        body
    }
}

/// Brackets (`{`, `[`, `(`) a document may nest. Selections are already
/// limited by depth; this bounds nested values, which the parser handles by
/// recursion, well below where its stack would run out.
pub const MAX_NESTING: usize = 128;

/// Rejects a document whose brackets nest deeper than [`MAX_NESTING`],
/// ignoring brackets inside strings and comments.
pub fn check_nesting(query: &str) -> Result<(), String> {
    let mut depth = 0usize;
    let mut chars = query.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '#' => {
                for next in chars.by_ref() {
                    if next == '\n' || next == '\r' {
                        break;
                    }
                }
            }
            '"' => {
                // A block string `"""…"""` ends only at another `"""`.
                let block = chars.peek() == Some(&'"') && {
                    let mut ahead = chars.clone();
                    ahead.next();
                    ahead.peek() == Some(&'"')
                };
                if block {
                    chars.next();
                    chars.next();
                    let mut quotes = 0;
                    for next in chars.by_ref() {
                        quotes = if next == '"' { quotes + 1 } else { 0 };
                        if quotes == 3 {
                            break;
                        }
                    }
                } else {
                    while let Some(next) = chars.next() {
                        match next {
                            '\\' => {
                                chars.next();
                            }
                            '"' | '\n' => break,
                            _ => {}
                        }
                    }
                }
            }
            '{' | '[' | '(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(format!(
                        "the document nests brackets more than {MAX_NESTING} levels deep; flatten the values or the selection"
                    ));
                }
            }
            '}' | ']' | ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Counts the aliased fields of every operation and fragment in the document.
fn count_aliases(document: &async_graphql::parser::types::ExecutableDocument) -> usize {
    use async_graphql::parser::types::{Selection, SelectionSet};

    fn in_set(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|selection| match &selection.node {
                Selection::Field(field) => {
                    usize::from(field.node.alias.is_some()) + in_set(&field.node.selection_set.node)
                }
                Selection::InlineFragment(fragment) => in_set(&fragment.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }

    let operations: usize = document
        .operations
        .iter()
        .map(|(_, operation)| in_set(&operation.node.selection_set.node))
        .sum();
    let fragments: usize = document
        .fragments
        .values()
        .map(|fragment| in_set(&fragment.node.selection_set.node))
        .sum();
    operations + fragments
}

/// Builds a `{"errors": [...]}` body with one error.
pub fn error_body(code: &str, message: &str) -> serde_json::Value {
    serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code, "path": "$" } }]
    })
}

/// Parse and validation errors from async-graphql carry no code; Hasura calls them `validation-failed`.
fn add_missing_codes(body: &mut serde_json::Value) {
    let Some(errors) = body
        .get_mut("errors")
        .and_then(serde_json::Value::as_array_mut)
    else {
        return;
    };
    for error in errors {
        let Some(error) = error.as_object_mut() else {
            continue;
        };
        let extensions = error
            .entry("extensions")
            .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
        if let Some(extensions) = extensions.as_object_mut() {
            extensions
                .entry("code")
                .or_insert_with(|| "validation-failed".into());
        }
    }
}

/// async-graphql reports an absent nullable variable without a default as
/// undefined; GraphQL treats it as null, so absent ones are set to null here.
fn fill_absent_variables(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &mut serde_json::Map<String, serde_json::Value>,
) {
    let operation = match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => Some(operation),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next()
        }
        _ => None,
    };
    let Some(operation) = operation else {
        return;
    };
    for definition in &operation.node.variable_definitions {
        let definition = &definition.node;
        let name = definition.name.node.as_str();
        if definition.default_value.is_none()
            && definition.var_type.node.nullable
            && !variables.contains_key(name)
        {
            variables.insert(name.to_owned(), serde_json::Value::Null);
        }
    }
}

/// Explains the one syntax error published examples are known to contain:
/// `$input.dataControllerId`, a field access on a variable, which GraphQL lacks.
fn parse_error_message(query: &str, parser_message: &str) -> String {
    let bytes = query.as_bytes();
    let field_access = bytes.windows(2).enumerate().find_map(|(index, pair)| {
        if pair[0] != b'$' {
            return None;
        }
        let rest = &query[index + 1..];
        let name_length = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let after = &rest[name_length..];
        let is_access = name_length > 0
            && after.starts_with('.')
            && after[1..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
        is_access.then(|| {
            let field_length = after[1..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len() - 1);
            format!("${}.{}", &rest[..name_length], &after[1..1 + field_length])
        })
    });
    match field_access {
        Some(expression) => format!(
            "{expression} is not valid GraphQL: a variable cannot be followed by a field access. \
             Pass the whole input object, as in upsertDataSubjectConsents(input: $input), \
             or declare one variable per argument, as in upsertDataSubjectConsents(dataControllerId: $dataControllerId, \
             purposes: $purposes, dataSubjectId: $dataSubjectId). Parser message: {parser_message}"
        ),
        None => parser_message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_counts_brackets_outside_strings_and_comments() {
        let deep = format!("{{ a(x: {}1{}) }}", "[".repeat(200), "]".repeat(200));
        assert!(check_nesting(&deep).is_err());
        let shallow = format!("{{ a(x: {}1{}) }}", "[".repeat(100), "]".repeat(100));
        assert!(check_nesting(&shallow).is_ok());
        let quoted = format!("{{ a(x: \"{}\") }}", "[".repeat(500));
        assert!(check_nesting(&quoted).is_ok());
        let block = format!("{{ a(x: \"\"\"{}\"\"\") }}", "{".repeat(500));
        assert!(check_nesting(&block).is_ok());
        let commented = format!("{{ a # {}\n }}", "(".repeat(500));
        assert!(check_nesting(&commented).is_ok());
    }

    #[test]
    fn parse_error_explains_variable_field_access() {
        let query = "mutation M($input: UpsertDataSubjectConsentsInput!) { upsertDataSubjectConsents(dataControllerId: $input.dataControllerId) { status } }";
        let error = async_graphql::parser::parse_query(query).unwrap_err();
        let message = parse_error_message(query, &error.to_string());
        assert!(
            message.starts_with("$input.dataControllerId is not valid GraphQL"),
            "{message}"
        );
        assert!(
            message.contains("upsertDataSubjectConsents(input: $input)"),
            "{message}"
        );
        assert!(
            message.contains("dataControllerId: $dataControllerId"),
            "{message}"
        );
    }

    #[test]
    fn parse_error_passes_other_messages_through() {
        assert_eq!(parse_error_message("{ a(", "boom"), "boom");
    }
}
