//! Writes the GraphQL reference (`docs/graphql-reference.md`) from the
//! catalog: every root field and what each role may do with it. A test
//! compares the file with this output, so the document cannot drift from
//! the permissions the server enforces.

use std::fmt::Write as _;

use ombud_store::SqlValue;

use crate::actions;
use crate::ir::{BoolExp, Operand};
use crate::metadata::{ANONYMOUS_ENTRY_TABLES, Catalog, Table};
use crate::session::Role;

/// Renders the reference in Markdown.
pub fn reference_markdown(catalog: &Catalog) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# GraphQL reference\n");
    let _ = writeln!(
        out,
        "Generated from the table metadata in `crates/ombud-graphql/src/metadata.rs` by\n\
         `crates/ombud-graphql/src/reference.rs`; do not edit by hand. After changing the\n\
         metadata, run `OMBUD_UPDATE_REFERENCE=1 cargo test -p ombud-graphql reference`.\n"
    );
    let _ = writeln!(
        out,
        "Roles: `user` (staff, inside their controllers, limited by membership role), `me`\n\
         (a staff member's own account), `admin` (the operator), `dataSubject` (a person's own\n\
         record, from `x-hasura-data-subject-id`) and `anonymous` (no credentials). A field a\n\
         role may not use does not exist in that role's schema.\n"
    );

    let _ = writeln!(out, "## Root fields\n");
    let _ = writeln!(out, "| root field | kind | {} |", roles_header());
    let _ = writeln!(out, "|---|---|{}", "---|".repeat(Role::ALL.len()));
    for table in &catalog.tables {
        for (field, kind, allowed) in root_fields(table) {
            if !Role::ALL.into_iter().any(&allowed) {
                continue;
            }
            let cells: Vec<&str> = Role::ALL
                .iter()
                .map(|role| if allowed(*role) { "yes" } else { "" })
                .collect();
            let _ = writeln!(out, "| `{field}` | {kind} | {} |", cells.join(" | "));
        }
    }
    let action_roles: Vec<&str> = Role::ALL
        .iter()
        .map(|role| {
            if actions::available_to(*role) {
                "yes"
            } else {
                ""
            }
        })
        .collect();
    let _ = writeln!(
        out,
        "| `upsertDataSubjectConsents` | action | {} |\n",
        action_roles.join(" | ")
    );

    let _ = writeln!(out, "## Permissions by table\n");
    for table in &catalog.tables {
        let _ = writeln!(out, "### `{}` (`{}`)\n", table.plural, table.sql);
        for role in Role::ALL {
            let Some(permissions) = table.permissions(role) else {
                continue;
            };
            let _ = writeln!(out, "- **{}**", role.as_str());
            if let Some(select) = &permissions.select {
                let _ = writeln!(
                    out,
                    "  - read rows where {}: {}",
                    describe(&select.filter),
                    select.columns.join(", ")
                );
            }
            if let Some(insert) = &permissions.insert {
                let presets: Vec<String> = insert
                    .presets
                    .iter()
                    .map(|(field, crate::metadata::Preset::Session(variable))| {
                        format!("{field} = {variable}")
                    })
                    .collect();
                let _ = writeln!(
                    out,
                    "  - insert {}{}; each new row must satisfy {}",
                    insert.columns.join(", "),
                    if presets.is_empty() {
                        String::new()
                    } else {
                        format!(" (set by the server: {})", presets.join(", "))
                    },
                    describe(&insert.check)
                );
            }
            if let Some(update) = &permissions.update {
                let _ = writeln!(
                    out,
                    "  - update {} of rows where {}",
                    update.columns.join(", "),
                    describe(&update.filter)
                );
            }
            if let Some(delete) = &permissions.delete {
                let _ = writeln!(out, "  - delete rows where {}", describe(&delete.filter));
            }
        }
        let _ = writeln!(out);
    }
    out
}

fn roles_header() -> String {
    Role::ALL
        .iter()
        .map(|role| format!("`{}`", role.as_str()))
        .collect::<Vec<_>>()
        .join(" | ")
}

type Allowed<'t> = Box<dyn Fn(Role) -> bool + 't>;

/// Names of the root fields `role` has, as the reference lists them.
#[cfg(test)]
fn root_field_names(catalog: &Catalog, role: Role) -> Vec<String> {
    let mut names: Vec<String> = catalog
        .tables
        .iter()
        .flat_map(root_fields)
        .filter(|(_, _, allowed)| allowed(role))
        .map(|(name, _, _)| name)
        .collect();
    if actions::available_to(role) {
        names.push("upsertDataSubjectConsents".to_owned());
    }
    names.sort();
    names
}

/// Lists the root fields of one table with the roles that have each, as schema.rs builds them.
fn root_fields(table: &Table) -> Vec<(String, &'static str, Allowed<'_>)> {
    let reads = move |role: Role| table.select_permission(role).is_some();
    let lists = move |role: Role| reads(role) && role.lists_rows();
    let by_id = move |role: Role| {
        reads(role) && (role.lists_rows() || ANONYMOUS_ENTRY_TABLES.contains(&table.sql))
    };
    let writes = move |role: Role, which: fn(&crate::metadata::Permissions) -> bool| {
        reads(role) && table.permissions(role).is_some_and(which)
    };
    vec![
        (table.plural.to_owned(), "list", Box::new(lists)),
        (table.aggregate_field(), "aggregate", Box::new(lists)),
        (table.singular.to_owned(), "by id", Box::new(by_id)),
        (
            table.insert_one_field(),
            "insert one",
            Box::new(move |role| writes(role, |p| p.insert.is_some())),
        ),
        (
            table.insert_many_field(),
            "insert many",
            Box::new(move |role| writes(role, |p| p.insert.is_some())),
        ),
        (
            table.update_one_field(),
            "update by id",
            Box::new(move |role| writes(role, |p| p.update.is_some())),
        ),
        (
            table.update_many_field(),
            "update where",
            Box::new(move |role| writes(role, |p| p.update.is_some())),
        ),
        (
            table.delete_one_field(),
            "delete by id",
            Box::new(move |role| writes(role, |p| p.delete.is_some())),
        ),
        (
            table.delete_many_field(),
            "delete where",
            Box::new(move |role| writes(role, |p| p.delete.is_some())),
        ),
    ]
}

/// Describes a permission filter in words, e.g. `dataController.users has (userId = x-hasura-user-id)`.
fn describe(filter: &BoolExp) -> String {
    match filter {
        BoolExp::True => "any".to_owned(),
        BoolExp::False => "none".to_owned(),
        BoolExp::And(items) => join(items, " and "),
        BoolExp::Or(items) => join(items, " or "),
        BoolExp::Not(inner) => format!("not ({})", describe(inner)),
        BoolExp::IsNull { field, is_null } => {
            format!("{field} is {}null", if *is_null { "" } else { "not " })
        }
        BoolExp::Compare { field, op, value } => {
            format!("{field} {} {}", op.graphql_name(), operand(value))
        }
        BoolExp::Relationship {
            field, predicate, ..
        } => format!("{field} has ({})", describe(predicate)),
    }
}

fn join(items: &[BoolExp], separator: &str) -> String {
    if items.is_empty() {
        return "any".to_owned();
    }
    items
        .iter()
        .map(describe)
        .collect::<Vec<_>>()
        .join(separator)
}

fn operand(value: &Operand) -> String {
    match value {
        Operand::Session(name) => (*name).to_owned(),
        Operand::Value(value) => literal(value),
        Operand::List(values) => format!(
            "[{}]",
            values.iter().map(literal).collect::<Vec<_>>().join(", ")
        ),
    }
}

fn literal(value: &SqlValue) -> String {
    match value.to_json() {
        serde_json::Value::String(text) => text,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Root field names of a type block (`type query_root {`) in SDL.
    fn sdl_fields(sdl: &str, type_name: &str) -> Vec<String> {
        let Some(start) = sdl.find(&format!("type {type_name} {{")) else {
            return Vec::new();
        };
        let block = &sdl[start..];
        let end = block.find("\n}").unwrap_or(block.len());
        let mut names = Vec::new();
        let mut in_description = false;
        for line in block[..end].lines().skip(1) {
            let line = line.trim();
            if line.starts_with("\"\"\"") {
                // A block description opens and closes on lines of its own,
                // unless it fits on one line.
                let one_line = line.len() > 6 && line.ends_with("\"\"\"");
                if !one_line {
                    in_description = !in_description;
                }
                continue;
            }
            if in_description || line.is_empty() || line.starts_with('"') || line.starts_with('#') {
                continue;
            }
            let name: String = line
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                names.push(name);
            }
        }
        names
    }

    /// Every role's schema has exactly the root fields the reference lists.
    #[tokio::test]
    async fn schema_root_fields_match_reference() {
        let directory = tempfile::tempdir().unwrap();
        let store = ombud_store::Store::open_sqlite(directory.path(), 1)
            .await
            .unwrap();
        let signer = std::sync::Arc::new(ombud_privacy::ConsentCookieSigner::generate());
        let engine = crate::Engine::new(store, signer, crate::SchemaLimits::default()).unwrap();
        let catalog = crate::metadata::catalog();

        for role in Role::ALL {
            let sdl = engine.sdl(role).unwrap();
            let mut actual = sdl_fields(&sdl, "query_root");
            actual.extend(sdl_fields(&sdl, "mutation_root"));
            actual.sort();
            assert_eq!(
                actual,
                root_field_names(&catalog, role),
                "role {}",
                role.as_str()
            );
        }
    }

    /// The committed reference equals what the metadata produces.
    #[test]
    fn reference_matches_metadata() {
        let generated = reference_markdown(&crate::metadata::catalog());
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../docs/graphql-reference.md");
        // CI must compare, never rewrite.
        if std::env::var_os("OMBUD_UPDATE_REFERENCE").is_some() && std::env::var_os("CI").is_none()
        {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/graphql-reference.md is out of date; run OMBUD_UPDATE_REFERENCE=1 cargo test -p ombud-graphql reference"
        );
    }
}
