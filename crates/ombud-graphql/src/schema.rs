//! Builds one `async_graphql::dynamic::Schema` per role from the catalog. A
//! table, column or operation the role may not use is left out of that role's
//! schema, so validation rejects it and introspection does not show it.

use std::sync::Arc;

use async_graphql::Value;
use async_graphql::dynamic::{
    Enum, Field, FieldFuture, FieldValue, InputObject, InputValue, Object, ResolverContext, Scalar,
    Schema, SchemaError, TypeRef,
};

use crate::actions;
use crate::ir::{AggregateFunction, CompareOp, OrderDirection};
use crate::metadata::{
    ANONYMOUS_ENTRY_TABLES, Catalog, Column, RelationshipKind, ScalarType, Table,
    conflict_constraints,
};
use crate::mutation::{self, MutationKind};
use crate::runtime::Runtime;
use crate::session::Role;

/// Query limits applied to every role's schema.
#[derive(Debug, Clone, Copy)]
pub struct SchemaLimits {
    pub max_depth: usize,
    pub max_complexity: usize,
    /// Aliased fields allowed in one document, counted over all its operations and fragments.
    pub max_aliases: usize,
}

impl Default for SchemaLimits {
    fn default() -> Self {
        // The standard introspection query nests `ofType` about nine levels
        // deep, which puts it at a depth of 13.
        SchemaLimits {
            max_depth: 24,
            max_complexity: 5_000,
            max_aliases: 1_000,
        }
    }
}

/// Key by which a child field finds its value in the JSON its parent resolved.
#[derive(Clone, Copy)]
enum ValueKey {
    /// Table rows built by SQL are keyed by response key (alias or name).
    ResponseKey,
    /// Action results are built in Rust and keyed by field name.
    FieldName,
}

/// Builds a field whose value is already inside its parent's JSON.
fn child_field(name: &str, type_ref: TypeRef, key: ValueKey) -> Field {
    Field::new(name, type_ref, move |ctx: ResolverContext<'_>| {
        FieldFuture::new(async move {
            let field = ctx.ctx.field();
            let lookup = match key {
                ValueKey::ResponseKey => field.alias().unwrap_or(field.name()),
                ValueKey::FieldName => field.name(),
            };
            let Some(Value::Object(parent)) = ctx.parent_value.as_value() else {
                return Ok(None);
            };
            match parent.get(lookup) {
                None | Some(Value::Null) => Ok(None),
                Some(value) => Ok(Some(FieldValue::value(value.clone()))),
            }
        })
    })
}

pub(crate) fn action_output_field(name: &str, type_ref: TypeRef) -> Field {
    child_field(name, type_ref, ValueKey::FieldName)
}

fn scalar_type_ref(scalar: ScalarType, nullable: bool) -> TypeRef {
    if nullable {
        TypeRef::named(scalar.graphql_name())
    } else {
        TypeRef::named_nn(scalar.graphql_name())
    }
}

fn comparison_exp(scalar: ScalarType) -> InputObject {
    let name = scalar.graphql_name();
    let mut input = InputObject::new(format!("{name}_comparison_exp")).description(format!(
        "Boolean expression to compare columns of type \"{name}\"."
    ));
    for op in CompareOp::ALL {
        let type_ref = match op {
            CompareOp::In | CompareOp::Nin => TypeRef::named_nn_list(name),
            CompareOp::Like | CompareOp::Nlike | CompareOp::Ilike | CompareOp::Nilike => {
                if scalar != ScalarType::String {
                    continue;
                }
                TypeRef::named(name)
            }
            CompareOp::Contains => {
                if scalar != ScalarType::Jsonb {
                    continue;
                }
                TypeRef::named(name)
            }
            CompareOp::HasKey => {
                if scalar != ScalarType::Jsonb {
                    continue;
                }
                TypeRef::named(TypeRef::STRING)
            }
            // jsonb orders differently on the two backends (PostgreSQL by type
            // and structure, SQLite by text), so it has no range operators.
            CompareOp::Gt | CompareOp::Gte | CompareOp::Lt | CompareOp::Lte
                if scalar == ScalarType::Jsonb =>
            {
                continue;
            }
            _ => TypeRef::named(name),
        };
        input = input.field(InputValue::new(op.graphql_name(), type_ref));
    }
    input.field(InputValue::new(
        "_is_null",
        TypeRef::named(TypeRef::BOOLEAN),
    ))
}

/// List arguments shared by root list fields and array relationships.
fn with_list_arguments(field: Field, table: &Table) -> Field {
    let name = table.sql;
    field
        .argument(InputValue::new(
            "where",
            TypeRef::named(format!("{name}_bool_exp")),
        ))
        .argument(InputValue::new(
            "orderBy",
            TypeRef::named_nn_list(format!("{name}_order_by")),
        ))
        .argument(InputValue::new(
            "order_by",
            TypeRef::named_nn_list(format!("{name}_order_by")),
        ))
        .argument(InputValue::new(
            "distinctOn",
            TypeRef::named_nn_list(format!("{name}_select_column")),
        ))
        .argument(InputValue::new(
            "distinct_on",
            TypeRef::named_nn_list(format!("{name}_select_column")),
        ))
        .argument(InputValue::new("limit", TypeRef::named(TypeRef::INT)))
        .argument(InputValue::new("offset", TypeRef::named(TypeRef::INT)))
}

/// Registers `<table>_aggregate`, `<table>_aggregate_fields`, the per-function
/// field types and `<table>_select_column` for the columns `role` may read.
fn aggregate_types(
    table: &Table,
    readable: &[&Column],
    mut builder: async_graphql::dynamic::SchemaBuilder,
) -> async_graphql::dynamic::SchemaBuilder {
    let name = table.sql;
    let mut select_column = Enum::new(format!("{name}_select_column"))
        .description(format!("select columns of table \"{name}\""));
    for column in readable {
        select_column = select_column.item(column.field);
    }

    let mut fields = Object::new(format!("{name}_aggregate_fields"))
        .description(format!("aggregate fields of \"{name}\""))
        .field(
            child_field(
                "count",
                TypeRef::named_nn(TypeRef::INT),
                ValueKey::ResponseKey,
            )
            .argument(InputValue::new(
                "columns",
                TypeRef::named_nn_list(format!("{name}_select_column")),
            ))
            .argument(InputValue::new(
                "distinct",
                TypeRef::named(TypeRef::BOOLEAN),
            )),
        );
    for function in AggregateFunction::ALL {
        let columns: Vec<&&Column> = readable
            .iter()
            .filter(|column| column.scalar.supports(function))
            .collect();
        if columns.is_empty() {
            continue;
        }
        let type_name = format!("{name}_{}_fields", function.name());
        let mut object = Object::new(type_name.clone())
            .description(format!("aggregate {} on columns", function.name()));
        for column in columns {
            let type_ref = if function == AggregateFunction::Avg {
                TypeRef::named(TypeRef::FLOAT)
            } else {
                TypeRef::named(column.scalar.graphql_name())
            };
            object = object.field(child_field(column.field, type_ref, ValueKey::ResponseKey));
        }
        builder = builder.register(object);
        fields = fields.field(child_field(
            function.name(),
            TypeRef::named(type_name),
            ValueKey::ResponseKey,
        ));
    }

    let aggregate = Object::new(format!("{name}_aggregate"))
        .description(format!("aggregated selection of \"{name}\""))
        .field(child_field(
            "aggregate",
            TypeRef::named(format!("{name}_aggregate_fields")),
            ValueKey::ResponseKey,
        ))
        .field(child_field(
            "nodes",
            TypeRef::named_nn_list_nn(name),
            ValueKey::ResponseKey,
        ));
    builder
        .register(select_column)
        .register(fields)
        .register(aggregate)
}

fn selectable(catalog: &Catalog, role: Role) -> impl Iterator<Item = &Table> {
    catalog
        .tables
        .iter()
        .filter(move |table| table.select_permission(role).is_some())
}

/// Registers a table's output and filter types for `role`.
fn table_types(
    catalog: &Catalog,
    table: &Table,
    role: Role,
    mut builder: async_graphql::dynamic::SchemaBuilder,
) -> async_graphql::dynamic::SchemaBuilder {
    let Some(permission) = table.select_permission(role) else {
        return builder;
    };
    let mut object = Object::new(table.sql);
    let mut bool_exp = InputObject::new(format!("{}_bool_exp", table.sql))
        .description(format!(
            "Boolean expression to filter rows from the table \"{}\".",
            table.sql
        ))
        .field(InputValue::new(
            "_and",
            TypeRef::named_nn_list(format!("{}_bool_exp", table.sql)),
        ))
        .field(InputValue::new(
            "_or",
            TypeRef::named_nn_list(format!("{}_bool_exp", table.sql)),
        ))
        .field(InputValue::new(
            "_not",
            TypeRef::named(format!("{}_bool_exp", table.sql)),
        ));
    let mut order_by = InputObject::new(format!("{}_order_by", table.sql)).description(format!(
        "Ordering options when selecting data from \"{}\".",
        table.sql
    ));

    let readable: Vec<&Column> = table
        .columns
        .iter()
        .filter(|column| permission.columns.contains(&column.field))
        .collect();
    builder = aggregate_types(table, &readable, builder);
    for column in readable {
        object = object.field(child_field(
            column.field,
            scalar_type_ref(column.scalar, column.nullable),
            ValueKey::ResponseKey,
        ));
        bool_exp = bool_exp.field(InputValue::new(
            column.field,
            TypeRef::named(format!("{}_comparison_exp", column.scalar.graphql_name())),
        ));
        if column.scalar != ScalarType::Jsonb {
            order_by = order_by.field(InputValue::new(column.field, TypeRef::named("order_by")));
        }
    }

    for relationship in &table.relationships {
        let Some(target) = catalog.table(relationship.target) else {
            continue;
        };
        if target.select_permission(role).is_none() {
            continue;
        }
        match relationship.kind {
            RelationshipKind::Object => {
                object = object.field(child_field(
                    relationship.field,
                    TypeRef::named(target.sql),
                    ValueKey::ResponseKey,
                ));
                order_by = order_by.field(InputValue::new(
                    relationship.field,
                    TypeRef::named(format!("{}_order_by", target.sql)),
                ));
            }
            RelationshipKind::Array => {
                object = object
                    .field(with_list_arguments(
                        child_field(
                            relationship.field,
                            TypeRef::named_nn_list_nn(target.sql),
                            ValueKey::ResponseKey,
                        ),
                        target,
                    ))
                    .field(with_list_arguments(
                        child_field(
                            &format!("{}Aggregate", relationship.field),
                            TypeRef::named_nn(format!("{}_aggregate", target.sql)),
                            ValueKey::ResponseKey,
                        ),
                        target,
                    ));
            }
        }
        bool_exp = bool_exp.field(InputValue::new(
            relationship.field,
            TypeRef::named(format!("{}_bool_exp", target.sql)),
        ));
    }

    builder = builder
        .register(object)
        .register(bool_exp)
        .register(order_by);
    builder
}

/// Builds the `_inc` argument. A table without numeric columns the role may update
/// has no `<table>_inc_input`, so the argument takes the `_set` type there,
/// where every field is rejected as not numeric.
fn inc_argument(table: &Table, role: Role) -> InputValue {
    let has_numeric = table
        .permissions(role)
        .and_then(|permissions| permissions.update.as_ref())
        .is_some_and(|update| {
            table
                .columns
                .iter()
                .any(|column| column.scalar.is_numeric() && update.columns.contains(&column.field))
        });
    let type_name = if has_numeric {
        format!("{}_inc_input", table.sql)
    } else {
        format!("{}_set_input", table.sql)
    };
    InputValue::new("_inc", TypeRef::named(type_name))
}

/// Registers `<table>_constraint`, `<table>_update_column` and
/// `<table>_on_conflict` for a role that may insert into `table`.
fn on_conflict_types(
    table: &Table,
    update_columns: &[&'static str],
    builder: async_graphql::dynamic::SchemaBuilder,
) -> async_graphql::dynamic::SchemaBuilder {
    let name = table.sql;
    let mut constraint = Enum::new(format!("{name}_constraint")).description(format!(
        "unique or primary key constraints on table \"{name}\""
    ));
    for (constraint_name, _) in conflict_constraints(table) {
        constraint = constraint.item(constraint_name);
    }
    let mut update_column = Enum::new(format!("{name}_update_column"))
        .description(format!("update columns of table \"{name}\""));
    if update_columns.is_empty() {
        // GraphQL enums need a value; Hasura uses this one when none may be updated.
        update_column = update_column.item("_PLACEHOLDER");
    }
    for column in update_columns {
        update_column = update_column.item(*column);
    }
    let on_conflict = InputObject::new(format!("{name}_on_conflict"))
        .description(format!("on_conflict condition type for table \"{name}\""))
        .field(InputValue::new(
            "constraint",
            TypeRef::named_nn(format!("{name}_constraint")),
        ))
        .field(
            InputValue::new(
                "update_columns",
                TypeRef::named_nn_list_nn(format!("{name}_update_column")),
            )
            .default_value(Value::List(Vec::new())),
        )
        .field(InputValue::new(
            "where",
            TypeRef::named(format!("{name}_bool_exp")),
        ));
    builder
        .register(constraint)
        .register(update_column)
        .register(on_conflict)
}

fn mutation_types(
    table: &Table,
    role: Role,
    mut builder: async_graphql::dynamic::SchemaBuilder,
) -> async_graphql::dynamic::SchemaBuilder {
    let Some(permissions) = table.permissions(role) else {
        return builder;
    };
    if let Some(update) = &permissions.update
        && permissions.select.is_some()
    {
        let numeric: Vec<&Column> = table
            .columns
            .iter()
            .filter(|column| column.scalar.is_numeric() && update.columns.contains(&column.field))
            .collect();
        if !numeric.is_empty() {
            let mut inc =
                InputObject::new(format!("{}_inc_input", table.sql)).description(format!(
                    "input type for incrementing numeric columns in table \"{}\"",
                    table.sql
                ));
            for column in numeric {
                inc = inc.field(InputValue::new(column.field, TypeRef::named(TypeRef::INT)));
            }
            builder = builder.register(inc);
        }
    }
    if permissions.insert.is_some() && permissions.select.is_some() {
        let update_columns = permissions
            .update
            .as_ref()
            .map(|update| update.columns.clone())
            .unwrap_or_default();
        builder = on_conflict_types(table, &update_columns, builder);
    }
    let writable = permissions.insert.is_some()
        || permissions.update.is_some()
        || permissions.delete.is_some();
    if !writable || permissions.select.is_none() {
        return builder;
    }

    builder = builder.register(
        Object::new(format!("{}_mutation_response", table.sql))
            .description(format!(
                "Response of any mutation on the table \"{}\".",
                table.sql
            ))
            .field(child_field(
                "affectedRows",
                TypeRef::named_nn(TypeRef::INT),
                ValueKey::ResponseKey,
            ))
            .field(child_field(
                "affected_rows",
                TypeRef::named_nn(TypeRef::INT),
                ValueKey::ResponseKey,
            ))
            .field(child_field(
                "returning",
                TypeRef::named_nn_list_nn(table.sql),
                ValueKey::ResponseKey,
            )),
    );

    if let Some(insert) = &permissions.insert {
        let mut input =
            InputObject::new(format!("{}_insert_input", table.sql)).description(format!(
                "Input type for inserting data into the table \"{}\".",
                table.sql
            ));
        for column in table
            .columns
            .iter()
            .filter(|column| insert.columns.contains(&column.field))
        {
            input = input.field(InputValue::new(
                column.field,
                TypeRef::named(column.scalar.graphql_name()),
            ));
        }
        builder = builder.register(input);
    }
    if let Some(update) = &permissions.update {
        let mut input = InputObject::new(format!("{}_set_input", table.sql)).description(format!(
            "Input type for updating data in the table \"{}\".",
            table.sql
        ));
        for column in table
            .columns
            .iter()
            .filter(|column| update.columns.contains(&column.field))
        {
            input = input.field(InputValue::new(
                column.field,
                TypeRef::named(column.scalar.graphql_name()),
            ));
        }
        builder = builder.register(input).register(
            InputObject::new(format!("{}_pk_columns_input", table.sql))
                .description(format!(
                    "Primary key columns input for the table \"{}\".",
                    table.sql
                ))
                .field(InputValue::new("id", TypeRef::named_nn("uuid"))),
        );
    }
    builder
}

fn root_query_fields(catalog: &Catalog, role: Role, mut query: Object) -> Object {
    for table in selectable(catalog, role) {
        let name = table.sql;
        if !role.lists_rows() {
            if ANONYMOUS_ENTRY_TABLES.contains(&name) {
                query = query.field(by_pk_field(table));
            }
            continue;
        }
        query = query.field(with_list_arguments(
            Field::new(table.plural, TypeRef::named_nn_list_nn(name), move |ctx| {
                FieldFuture::new(async move {
                    Runtime::from_context(&ctx)?.resolve_list(&ctx, name).await
                })
            })
            .description(format!("fetch data from the table: \"{name}\"")),
            table,
        ));
        query = query.field(with_list_arguments(
            Field::new(
                table.aggregate_field(),
                TypeRef::named_nn(format!("{name}_aggregate")),
                move |ctx| {
                    FieldFuture::new(async move {
                        Runtime::from_context(&ctx)?
                            .resolve_aggregate(&ctx, name)
                            .await
                    })
                },
            )
            .description(format!(
                "fetch aggregated fields from the table: \"{name}\""
            )),
            table,
        ));
        query = query.field(by_pk_field(table));
    }
    query
}

/// `<singular>(id:)`: one row by primary key, or null.
fn by_pk_field(table: &Table) -> Field {
    let name = table.sql;
    Field::new(table.singular, TypeRef::named(name), move |ctx| {
        FieldFuture::new(
            async move { Runtime::from_context(&ctx)?.resolve_by_pk(&ctx, name).await },
        )
    })
    .description(format!(
        "fetch data from the table: \"{name}\" using primary key columns"
    ))
    .argument(InputValue::new("id", TypeRef::named_nn("uuid")))
}

fn mutation_field(
    name: String,
    type_ref: TypeRef,
    table: &'static str,
    kind: MutationKind,
) -> Field {
    Field::new(name, type_ref, move |ctx| {
        FieldFuture::new(async move { mutation::resolve(&ctx, table, kind).await })
    })
}

fn root_mutation_fields(catalog: &Catalog, role: Role, mut mutation: Object) -> Object {
    for table in catalog.tables.iter() {
        let Some(permissions) = table.permissions(role) else {
            continue;
        };
        if permissions.select.is_none() {
            continue;
        }
        let name = table.sql;
        let response = format!("{name}_mutation_response");
        if permissions.insert.is_some() {
            let input = format!("{name}_insert_input");
            mutation = mutation
                .field(
                    mutation_field(
                        table.insert_one_field(),
                        TypeRef::named(name),
                        name,
                        MutationKind::InsertOne,
                    )
                    .description(format!("insert a single row into the table: \"{name}\""))
                    .argument(InputValue::new("object", TypeRef::named_nn(input.clone())))
                    .argument(InputValue::new(
                        "onConflict",
                        TypeRef::named(format!("{name}_on_conflict")),
                    ))
                    .argument(InputValue::new(
                        "on_conflict",
                        TypeRef::named(format!("{name}_on_conflict")),
                    )),
                )
                .field(
                    mutation_field(
                        table.insert_many_field(),
                        TypeRef::named(response.clone()),
                        name,
                        MutationKind::InsertMany,
                    )
                    .description(format!("insert data into the table: \"{name}\""))
                    .argument(InputValue::new("objects", TypeRef::named_nn_list_nn(input)))
                    .argument(InputValue::new(
                        "onConflict",
                        TypeRef::named(format!("{name}_on_conflict")),
                    ))
                    .argument(InputValue::new(
                        "on_conflict",
                        TypeRef::named(format!("{name}_on_conflict")),
                    )),
                );
        }
        if permissions.update.is_some() {
            let set = format!("{name}_set_input");
            let pk = format!("{name}_pk_columns_input");
            mutation = mutation
                .field(
                    mutation_field(
                        table.update_one_field(),
                        TypeRef::named(name),
                        name,
                        MutationKind::UpdateOne,
                    )
                    .description(format!("update single row of the table: \"{name}\""))
                    .argument(InputValue::new("pkColumns", TypeRef::named(pk.clone())))
                    .argument(InputValue::new("pk_columns", TypeRef::named(pk)))
                    .argument(InputValue::new("_set", TypeRef::named(set.clone())))
                    .argument(inc_argument(table, role)),
                )
                .field(
                    mutation_field(
                        table.update_many_field(),
                        TypeRef::named(response.clone()),
                        name,
                        MutationKind::UpdateMany,
                    )
                    .description(format!("update data of the table: \"{name}\""))
                    .argument(InputValue::new(
                        "where",
                        TypeRef::named_nn(format!("{name}_bool_exp")),
                    ))
                    .argument(InputValue::new("_set", TypeRef::named(set)))
                    .argument(inc_argument(table, role)),
                );
        }
        if permissions.delete.is_some() {
            mutation = mutation
                .field(
                    mutation_field(
                        table.delete_one_field(),
                        TypeRef::named(name),
                        name,
                        MutationKind::DeleteOne,
                    )
                    .description(format!("delete single row from the table: \"{name}\""))
                    .argument(InputValue::new("id", TypeRef::named_nn("uuid"))),
                )
                .field(
                    mutation_field(
                        table.delete_many_field(),
                        TypeRef::named(response),
                        name,
                        MutationKind::DeleteMany,
                    )
                    .description(format!("delete data from the table: \"{name}\""))
                    .argument(InputValue::new(
                        "where",
                        TypeRef::named_nn(format!("{name}_bool_exp")),
                    )),
                );
        }
    }
    mutation
}

/// Builds the schema of one role.
pub fn build_schema(
    catalog: &Catalog,
    role: Role,
    runtime: Arc<Runtime>,
    limits: SchemaLimits,
) -> Result<Schema, SchemaError> {
    let has_mutation_root = catalog.tables.iter().any(|table| {
        table.permissions(role).is_some_and(|permissions| {
            permissions.select.is_some()
                && (permissions.insert.is_some()
                    || permissions.update.is_some()
                    || permissions.delete.is_some())
        })
    }) || actions::available_to(role);
    let mutation_root = has_mutation_root.then_some("mutation_root");
    let mut builder = Schema::build("query_root", mutation_root, None)
        .data(runtime)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .register(Scalar::new("uuid"))
        .register(Scalar::new("timestamptz"))
        .register(Scalar::new("jsonb"));

    let mut order_by = Enum::new("order_by").description("column ordering options");
    for direction in OrderDirection::ALL {
        order_by = order_by.item(direction.graphql_name());
    }
    builder = builder.register(order_by);
    for scalar in ScalarType::ALL {
        builder = builder.register(comparison_exp(scalar));
    }

    for table in &catalog.tables {
        builder = table_types(catalog, table, role, builder);
        builder = mutation_types(table, role, builder);
    }

    let query = root_query_fields(catalog, role, Object::new("query_root"));
    let mut mutation = root_mutation_fields(catalog, role, Object::new("mutation_root"));
    (mutation, builder) = actions::register(role, mutation, builder);

    // A role without writes has no mutation root: GraphQL forbids an empty object type.
    if !has_mutation_root {
        return builder.register(query).finish();
    }
    builder.register(query).register(mutation).finish()
}
