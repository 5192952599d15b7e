//! The places where SQLite and PostgreSQL need different SQL text. Everything
//! else ombud sends is one text with `$n` placeholders that both accept.

/// The SQL dialect of the database behind a [`crate::Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// The storage kind of a column, as far as the SQL text has to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Text,
    Uuid,
    Timestamp,
    Boolean,
    Integer,
    Float,
    Json,
}

impl ColumnKind {
    /// Returns the PostgreSQL type of such a column.
    pub fn postgres_type(self) -> &'static str {
        match self {
            ColumnKind::Text => "text",
            ColumnKind::Uuid => "uuid",
            ColumnKind::Timestamp => "timestamptz",
            ColumnKind::Boolean => "boolean",
            ColumnKind::Integer => "bigint",
            ColumnKind::Float => "double precision",
            ColumnKind::Json => "jsonb",
        }
    }
}

/// SQLite allows 127 function arguments and PostgreSQL 100; wider JSON
/// objects are built in chunks of this many key/value pairs.
const PAIRS_PER_CALL: usize = 50;

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }

    /// The statement that opens a write transaction.
    ///
    /// SQLite's plain `BEGIN` takes the write lock only at the first write, and
    /// then fails at once with `SQLITE_BUSY` if another process has it.
    /// `IMMEDIATE` takes it up front and honours the busy timeout.
    pub fn begin_write(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        }
    }

    /// Suffix of a `SELECT` that locks the rows it reads until the transaction
    /// ends. SQLite needs none: its write transaction already excludes other writers.
    pub fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }

    /// Suffix of a `SELECT` that locks only the rows of the table aliased
    /// `alias`, not rows its filter's subqueries read.
    pub fn for_update_of(self, alias: &str) -> String {
        match self {
            Dialect::Sqlite => String::new(),
            Dialect::Postgres => format!(" FOR UPDATE OF {alias}"),
        }
    }

    /// Suffix of a `SELECT` that claims rows no other transaction has claimed.
    pub fn for_update_skip_locked(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// Renders a placeholder in a position where SQL cannot infer its type, such as a
    /// select list, cast to the column's type on PostgreSQL.
    pub fn typed_placeholder(self, placeholder: &str, kind: ColumnKind) -> String {
        match self {
            Dialect::Sqlite => placeholder.to_owned(),
            Dialect::Postgres => format!("CAST({placeholder} AS {})", kind.postgres_type()),
        }
    }

    /// Builds a JSON object from `(key, expression)` pairs. Keys are written as
    /// SQL string literals, so callers pass only GraphQL names
    /// (`[_A-Za-z][_0-9A-Za-z]*`), which need no escaping.
    pub fn json_object(self, pairs: &[(&str, String)]) -> String {
        let mut chunks = pairs.chunks(PAIRS_PER_CALL);
        let Some(first) = chunks.next() else {
            return match self {
                Dialect::Sqlite => "json_object()".to_owned(),
                Dialect::Postgres => "json_build_object()".to_owned(),
            };
        };
        let arguments = |chunk: &[(&str, String)]| {
            chunk
                .iter()
                .map(|(key, value)| format!("'{key}', {value}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Dialect::Sqlite => {
                let mut object = format!("json_object({})", arguments(first));
                for chunk in chunks {
                    let setters: Vec<String> = chunk
                        .iter()
                        .map(|(key, value)| format!("'$.\"{key}\"', {value}"))
                        .collect();
                    object = format!("json_set({object}, {})", setters.join(", "));
                }
                object
            }
            Dialect::Postgres => {
                let mut parts = vec![format!("json_build_object({})", arguments(first))];
                for chunk in chunks {
                    parts.push(format!("json_build_object({})", arguments(chunk)));
                }
                if parts.len() == 1 {
                    return parts.remove(0);
                }
                // `||` exists only on jsonb; it orders keys its own way, which
                // is harmless because the response is assembled by field name.
                let joined: Vec<String> =
                    parts.iter().map(|part| format!("{part}::jsonb")).collect();
                format!("({})::json", joined.join(" || "))
            }
        }
    }

    /// Aggregates a JSON array of `object` over the rows of the enclosing `FROM`, in
    /// `order_by` order, or `[]` when there are none.
    pub fn json_array_agg(self, object: &str, order_by: &str) -> String {
        match self {
            Dialect::Sqlite => {
                format!("coalesce(json_group_array({object} ORDER BY {order_by}), '[]')")
            }
            Dialect::Postgres => {
                format!("coalesce(json_agg({object} ORDER BY {order_by}), '[]'::json)")
            }
        }
    }

    /// A subquery that returns JSON, placed inside an enclosing JSON object.
    /// SQLite returns a subquery's JSON as a string unless it is wrapped in `json()`.
    pub fn embed_json(self, subquery: &str) -> String {
        match self {
            Dialect::Sqlite => format!("json({subquery})"),
            Dialect::Postgres => subquery.to_owned(),
        }
    }

    /// Renders a column's value as it appears in the response JSON; both backends emit
    /// the same JSON for the same stored value.
    pub fn column_json(self, kind: ColumnKind, target: &str) -> String {
        match (self, kind) {
            // SQLite stores booleans as 0/1 and JSON as text.
            (Dialect::Sqlite, ColumnKind::Boolean) => format!(
                "CASE WHEN {target} IS NULL THEN NULL WHEN {target} THEN json('true') ELSE json('false') END"
            ),
            (Dialect::Sqlite, ColumnKind::Json) => format!("json({target})"),
            // SQLite stores times as fixed-width UTC text; PostgreSQL's own
            // JSON form drops trailing zeros of the fraction, so spell it out.
            (Dialect::Postgres, ColumnKind::Timestamp) => format!(
                "to_char({target} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')"
            ),
            _ => target.to_owned(),
        }
    }

    /// Renders a column as an operand of ordering and range comparison. PostgreSQL
    /// compares text by the database's collation; `"C"` gives SQLite's byte order.
    pub fn ordered(self, kind: ColumnKind, target: &str) -> String {
        match (self, kind) {
            (Dialect::Postgres, ColumnKind::Text) => format!("{target} COLLATE \"C\""),
            _ => target.to_owned(),
        }
    }

    /// PostgreSQL's jsonb `?`: the object in `target` has the key bound to
    /// `key`, the array has it as a string element, or the value is that string.
    /// `alias` names the SQLite subquery's rows.
    pub fn json_has_key(self, target: &str, key: &str, alias: &str) -> String {
        match self {
            Dialect::Sqlite => format!(
                "(CASE json_type({target}) \
                 WHEN 'object' THEN EXISTS (SELECT 1 FROM json_each({target}) AS {alias} WHERE {alias}.key = {key}) \
                 WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each({target}) AS {alias} WHERE {alias}.type = 'text' AND {alias}.atom = {key}) \
                 WHEN 'text' THEN json_extract({target}, '$') = {key} \
                 ELSE FALSE END)"
            ),
            Dialect::Postgres => format!("jsonb_exists({target}, {key})"),
        }
    }

    /// Renders a subquery over the elements of a JSON array bound to `placeholder`,
    /// each as a value of `kind`. `x IN (<this>)` takes any number of values
    /// through one parameter; SQLite allows 32,766 parameters and PostgreSQL
    /// 65,535. Not for JSON columns, whose elements are not scalars.
    pub fn json_list(self, placeholder: &str, kind: ColumnKind) -> String {
        match self {
            Dialect::Sqlite => format!("SELECT value FROM json_each({placeholder})"),
            Dialect::Postgres => format!(
                "SELECT CAST(value AS {}) FROM jsonb_array_elements_text({placeholder})",
                kind.postgres_type()
            ),
        }
    }

    /// Several values as one comparable text (a JSON array), for counting
    /// distinct combinations; PostgreSQL's `json` has no equality, text does.
    pub fn json_array_text(self, values: &[String]) -> String {
        match self {
            Dialect::Sqlite => format!("json_array({})", values.join(", ")),
            Dialect::Postgres => format!("json_build_array({})::text", values.join(", ")),
        }
    }

    /// Renders an aggregate of a column as JSON: `function` is `min`, `max`, `sum` or
    /// `avg`. Minimum and maximum use byte order for text and the fixed time
    /// format; PostgreSQL's numeric average becomes a float as on SQLite.
    pub fn aggregate(self, function: &str, kind: ColumnKind, target: &str) -> String {
        match function {
            "min" | "max" => {
                let value = format!("{function}({})", self.ordered(kind, target));
                self.column_json(kind, &value)
            }
            "avg" if self == Dialect::Postgres => {
                format!("CAST(avg({target}) AS double precision)")
            }
            _ => format!("{function}({target})"),
        }
    }

    /// Case-insensitive LIKE. Both dialects fold ASCII letters only:
    /// PostgreSQL's `lower()` would fold every letter under a UTF-8 collation,
    /// SQLite's folds ASCII, and the `"C"` collation makes PostgreSQL do the same.
    pub fn ilike(self, target: &str, pattern: &str, negated: bool) -> String {
        let not = if negated { "NOT " } else { "" };
        match self {
            Dialect::Sqlite => {
                format!("lower({target}) {not}LIKE lower({pattern}) ESCAPE '\\'")
            }
            Dialect::Postgres => format!(
                "lower({target} COLLATE \"C\") {not}LIKE lower({pattern} COLLATE \"C\") ESCAPE '\\'"
            ),
        }
    }

    /// Equality of two JSON values, ignoring formatting.
    pub fn json_equals(self, target: &str, placeholder: &str) -> String {
        match self {
            Dialect::Sqlite => format!("json({target}) = json({placeholder})"),
            Dialect::Postgres => format!("{target} = {placeholder}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_objects_are_built_in_chunks() {
        let pairs: Vec<(&str, String)> = (0..120).map(|_| ("k", "1".to_owned())).collect();
        let sqlite = Dialect::Sqlite.json_object(&pairs);
        assert_eq!(sqlite.matches("json_set(").count(), 2);
        let postgres = Dialect::Postgres.json_object(&pairs);
        assert_eq!(postgres.matches("json_build_object(").count(), 3);
        assert!(postgres.ends_with(")::json"));
    }

    #[test]
    fn text_order_is_byte_order_on_postgres() {
        assert_eq!(
            Dialect::Postgres.ordered(ColumnKind::Text, "t1.\"title\""),
            "t1.\"title\" COLLATE \"C\""
        );
        assert_eq!(
            Dialect::Sqlite.ordered(ColumnKind::Text, "t1.\"title\""),
            "t1.\"title\""
        );
        assert_eq!(
            Dialect::Postgres.ordered(ColumnKind::Uuid, "t1.\"id\""),
            "t1.\"id\""
        );
    }
}
