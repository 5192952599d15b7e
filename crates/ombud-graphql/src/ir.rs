//! The typed query tree between GraphQL and SQL. Fields are named by their
//! GraphQL names; the SQL renderer resolves them through the catalog.

use ombud_store::SqlValue;

/// A Hasura boolean expression, from a client's `where` or from a permission rule.
#[derive(Debug, Clone)]
pub enum BoolExp {
    True,
    False,
    And(Vec<BoolExp>),
    Or(Vec<BoolExp>),
    Not(Box<BoolExp>),
    Compare {
        field: &'static str,
        op: CompareOp,
        value: Operand,
    },
    IsNull {
        field: &'static str,
        is_null: bool,
    },
    /// Some row reachable through the relationship `field` satisfies `predicate`.
    /// `check_target` also requires the role's select permission on the target
    /// table; client filters set it, permission rules do not.
    Relationship {
        field: &'static str,
        predicate: Box<BoolExp>,
        check_target: bool,
    },
}

impl BoolExp {
    pub fn and(self, other: BoolExp) -> BoolExp {
        match (self, other) {
            (BoolExp::True, other) | (other, BoolExp::True) => other,
            (left, right) => BoolExp::And(vec![left, right]),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
    In,
    Nin,
    Like,
    Nlike,
    Ilike,
    Nilike,
    Contains,
    HasKey,
}

impl CompareOp {
    /// Returns whether the operand is a LIKE pattern.
    pub fn is_pattern(self) -> bool {
        matches!(
            self,
            CompareOp::Like | CompareOp::Nlike | CompareOp::Ilike | CompareOp::Nilike
        )
    }

    pub const ALL: [CompareOp; 14] = [
        CompareOp::Eq,
        CompareOp::Neq,
        CompareOp::Gt,
        CompareOp::Gte,
        CompareOp::Lt,
        CompareOp::Lte,
        CompareOp::In,
        CompareOp::Nin,
        CompareOp::Like,
        CompareOp::Nlike,
        CompareOp::Ilike,
        CompareOp::Nilike,
        CompareOp::Contains,
        CompareOp::HasKey,
    ];

    pub fn graphql_name(self) -> &'static str {
        match self {
            CompareOp::Eq => "_eq",
            CompareOp::Neq => "_neq",
            CompareOp::Gt => "_gt",
            CompareOp::Gte => "_gte",
            CompareOp::Lt => "_lt",
            CompareOp::Lte => "_lte",
            CompareOp::In => "_in",
            CompareOp::Nin => "_nin",
            CompareOp::Like => "_like",
            CompareOp::Nlike => "_nlike",
            CompareOp::Ilike => "_ilike",
            CompareOp::Nilike => "_nilike",
            CompareOp::Contains => "_contains",
            CompareOp::HasKey => "_has_key",
        }
    }

    pub fn takes_list(self) -> bool {
        matches!(self, CompareOp::In | CompareOp::Nin)
    }
}

#[derive(Debug, Clone)]
pub enum Operand {
    Value(SqlValue),
    List(Vec<SqlValue>),
    /// A session variable such as `x-hasura-user-id`, substituted when SQL is rendered.
    Session(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderDirection {
    Asc,
    AscNullsFirst,
    AscNullsLast,
    Desc,
    DescNullsFirst,
    DescNullsLast,
}

impl OrderDirection {
    pub const ALL: [OrderDirection; 6] = [
        OrderDirection::Asc,
        OrderDirection::AscNullsFirst,
        OrderDirection::AscNullsLast,
        OrderDirection::Desc,
        OrderDirection::DescNullsFirst,
        OrderDirection::DescNullsLast,
    ];

    pub fn graphql_name(self) -> &'static str {
        match self {
            OrderDirection::Asc => "asc",
            OrderDirection::AscNullsFirst => "asc_nulls_first",
            OrderDirection::AscNullsLast => "asc_nulls_last",
            OrderDirection::Desc => "desc",
            OrderDirection::DescNullsFirst => "desc_nulls_first",
            OrderDirection::DescNullsLast => "desc_nulls_last",
        }
    }

    /// Returns the SQL suffix. Plain `asc` and `desc` place NULLs as PostgreSQL does.
    pub fn sql(self) -> &'static str {
        match self {
            OrderDirection::Asc | OrderDirection::AscNullsLast => "ASC NULLS LAST",
            OrderDirection::AscNullsFirst => "ASC NULLS FIRST",
            OrderDirection::Desc | OrderDirection::DescNullsFirst => "DESC NULLS FIRST",
            OrderDirection::DescNullsLast => "DESC NULLS LAST",
        }
    }
}

/// One ordering term: a column of the selected table, or of a row reached
/// through the object relationships in `path`.
#[derive(Debug, Clone)]
pub struct OrderBy {
    pub path: Vec<&'static str>,
    pub field: &'static str,
    pub direction: OrderDirection,
}

/// A selection of rows of one table, rendered as a JSON array or object.
#[derive(Debug, Clone)]
pub struct Select {
    pub table: &'static str,
    pub fields: Vec<(String, FieldSelection)>,
    /// The role's row filter AND-ed with the client's `where`.
    pub filter: BoolExp,
    pub order_by: Vec<OrderBy>,
    /// Columns of which only the first row (in `order_by` order) of each
    /// distinct combination is kept.
    pub distinct_on: Vec<&'static str>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

#[derive(Debug, Clone)]
pub enum FieldSelection {
    Column(&'static str),
    Typename(&'static str),
    /// An object or array relationship, selected with its own query.
    Relationship {
        field: &'static str,
        select: Box<Select>,
    },
    /// `<relationship>Aggregate` of an array relationship.
    AggregateRelationship {
        field: &'static str,
        select: Box<AggregateSelect>,
    },
}

/// `<plural>Aggregate`: aggregates over the rows `rows` selects, and the rows
/// themselves as `nodes`. `rows.fields` is unused: each `nodes` output has its own.
#[derive(Debug, Clone)]
pub struct AggregateSelect {
    pub rows: Select,
    pub outputs: Vec<(String, AggregateOutput)>,
}

#[derive(Debug, Clone)]
pub enum AggregateOutput {
    Aggregate(Vec<(String, AggregateField)>),
    Nodes(Vec<(String, FieldSelection)>),
    Typename(String),
}

#[derive(Debug, Clone)]
pub enum AggregateField {
    /// `count`, of all rows or of rows whose `columns` are all non-null,
    /// optionally of distinct combinations.
    Count {
        columns: Vec<&'static str>,
        distinct: bool,
    },
    Function {
        function: AggregateFunction,
        fields: Vec<(String, AggregateColumn)>,
    },
    Typename(String),
}

#[derive(Debug, Clone)]
pub enum AggregateColumn {
    Column(&'static str),
    Typename(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateFunction {
    Min,
    Max,
    Sum,
    Avg,
}

impl AggregateFunction {
    pub const ALL: [AggregateFunction; 4] = [
        AggregateFunction::Min,
        AggregateFunction::Max,
        AggregateFunction::Sum,
        AggregateFunction::Avg,
    ];

    /// The field name in `<table>_aggregate_fields`, which is also the SQL function.
    pub fn name(self) -> &'static str {
        match self {
            AggregateFunction::Min => "min",
            AggregateFunction::Max => "max",
            AggregateFunction::Sum => "sum",
            AggregateFunction::Avg => "avg",
        }
    }
}

/// Rows a selection may produce at most, counting every nested list: a list
/// multiplies its children by its limit. The number bounds the work of one
/// root field before any SQL runs.
pub fn estimated_rows(select: &Select) -> u64 {
    let per_row = select.fields.iter().fold(1u64, |total, (_, field)| {
        total.saturating_add(match field {
            FieldSelection::Column(_) | FieldSelection::Typename(_) => 0,
            FieldSelection::Relationship { select, .. } => estimated_rows(select),
            FieldSelection::AggregateRelationship { select, .. } => {
                estimated_aggregate_rows(select)
            }
        })
    });
    select.limit.unwrap_or(1).saturating_mul(per_row)
}

/// Rows an aggregate reads: the rows it aggregates, and its `nodes` with what they nest.
pub fn estimated_aggregate_rows(select: &AggregateSelect) -> u64 {
    let rows = select
        .rows
        .limit
        .unwrap_or(crate::metadata::DEFAULT_MAX_LIMIT);
    let nodes = select
        .outputs
        .iter()
        .fold(0u64, |total, (_, output)| match output {
            AggregateOutput::Nodes(fields) => {
                let nested = Select {
                    fields: fields.clone(),
                    ..select.rows.clone()
                };
                total.saturating_add(estimated_rows(&nested))
            }
            _ => total,
        });
    rows.max(nodes)
}
