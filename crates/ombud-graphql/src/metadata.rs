//! The declarative description of every table the GraphQL API exposes: columns,
//! relationships and, per role, which rows and columns may be read or written.
//! Schemas, the SQL compiler and the mutation executor all read from here.

mod registers;

use std::collections::BTreeMap;

use crate::ir::{BoolExp, CompareOp, Operand};
use crate::session::Role;

/// A column's GraphQL scalar, named as Hasura names PostgreSQL types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ScalarType {
    Uuid,
    String,
    Boolean,
    Int,
    Timestamptz,
    Jsonb,
}

impl ScalarType {
    pub const ALL: [ScalarType; 6] = [
        ScalarType::Uuid,
        ScalarType::String,
        ScalarType::Boolean,
        ScalarType::Int,
        ScalarType::Timestamptz,
        ScalarType::Jsonb,
    ];

    pub fn graphql_name(self) -> &'static str {
        match self {
            ScalarType::Uuid => "uuid",
            ScalarType::String => "String",
            ScalarType::Boolean => "Boolean",
            ScalarType::Int => "Int",
            ScalarType::Timestamptz => "timestamptz",
            ScalarType::Jsonb => "jsonb",
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, ScalarType::Int)
    }

    /// Returns whether `function` applies to columns of this type: `min` and `max` to
    /// ordered types, `sum` and `avg` to numbers.
    pub fn supports(self, function: crate::ir::AggregateFunction) -> bool {
        use crate::ir::AggregateFunction::*;
        match function {
            Min | Max => matches!(
                self,
                ScalarType::String | ScalarType::Int | ScalarType::Timestamptz
            ),
            Sum | Avg => self.is_numeric(),
        }
    }

    /// Returns how the column is stored, which decides its SQL on each backend.
    pub fn kind(self) -> ombud_store::ColumnKind {
        use ombud_store::ColumnKind;
        match self {
            ScalarType::Uuid => ColumnKind::Uuid,
            ScalarType::String => ColumnKind::Text,
            ScalarType::Boolean => ColumnKind::Boolean,
            ScalarType::Int => ColumnKind::Integer,
            ScalarType::Timestamptz => ColumnKind::Timestamp,
            ScalarType::Jsonb => ColumnKind::Json,
        }
    }
}

/// A closed set of text values a column accepts; input is normalised to the canonical spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vocabulary {
    RequestType,
    RequestStatus,
    LegalBasis,
    PurposeCategory,
    ConsentMode,
    MembershipRole,
    Jurisdiction,
    ConsentValue,
    TransferSafeguard,
    NoticeKind,
    IdentifierKind,
    AuditOperation,
}

impl Vocabulary {
    /// Returns the canonical value, or a message listing the accepted ones.
    pub fn normalize(self, text: &str) -> Result<&'static str, String> {
        use ombud_privacy as privacy;
        let result = match self {
            Vocabulary::RequestType => privacy::RequestType::parse(text).map(|v| v.as_str()),
            Vocabulary::RequestStatus => privacy::RequestStatus::parse(text).map(|v| v.as_str()),
            Vocabulary::LegalBasis => privacy::LegalBasis::parse(text).map(|v| v.as_str()),
            Vocabulary::PurposeCategory => {
                privacy::PurposeCategory::parse(text).map(|v| v.as_str())
            }
            Vocabulary::ConsentMode => privacy::ConsentMode::parse(text).map(|v| v.as_str()),
            Vocabulary::MembershipRole => privacy::MembershipRole::parse(text).map(|v| v.as_str()),
            Vocabulary::Jurisdiction => privacy::Jurisdiction::parse(text).map(|v| v.as_str()),
            Vocabulary::TransferSafeguard => {
                privacy::TransferSafeguard::parse(text).map(|v| v.as_str())
            }
            Vocabulary::NoticeKind => privacy::NoticeKind::parse(text).map(|v| v.as_str()),
            Vocabulary::IdentifierKind => privacy::IdentifierKind::parse(text).map(|v| v.as_str()),
            Vocabulary::AuditOperation => {
                return match text {
                    "insert" => Ok("insert"),
                    "update" => Ok("update"),
                    "delete" => Ok("delete"),
                    _ => Err(format!(
                        "{text:?} is not an audit operation; use insert, update or delete"
                    )),
                };
            }
            Vocabulary::ConsentValue => {
                return match text {
                    "true" => Ok("true"),
                    "false" => Ok("false"),
                    _ => Err(format!(
                        "{text:?} is not a consent value; send \"true\" or \"false\""
                    )),
                };
            }
        };
        result.map_err(|error| error.to_string())
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub sql: &'static str,
    pub field: &'static str,
    pub scalar: ScalarType,
    pub nullable: bool,
    pub vocabulary: Option<Vocabulary>,
    /// Whether the column contains personal data, whose values the audit log never
    /// copies. A column is personal when its value identifies a person (emails,
    /// names), links records to one (identifier hashes), or is free text
    /// written about one data subject. Ids, flags, times and vocabulary values
    /// are not, because without the rows they belong to they identify no one.
    pub personal: bool,
}

impl Column {
    /// Marks the column as personal data.
    const fn personal(mut self) -> Column {
        self.personal = true;
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelationshipKind {
    Object,
    Array,
}

/// A link from this table's `local_column` to `remote_column` of `target`.
#[derive(Debug, Clone, Copy)]
pub struct Relationship {
    pub field: &'static str,
    pub kind: RelationshipKind,
    pub target: &'static str,
    pub local_column: &'static str,
    pub remote_column: &'static str,
}

/// Rows and columns a role may read.
#[derive(Debug, Clone)]
pub struct SelectPermission {
    pub filter: BoolExp,
    pub columns: Vec<&'static str>,
}

/// A value the server sets on insert whatever the client sends.
#[derive(Debug, Clone)]
pub enum Preset {
    Session(&'static str),
}

/// Columns a role may set on insert, and the check every new row must pass.
#[derive(Debug, Clone)]
pub struct InsertPermission {
    pub check: BoolExp,
    pub columns: Vec<&'static str>,
    pub presets: Vec<(&'static str, Preset)>,
}

/// Rows a role may update (`filter`), what they must satisfy afterwards (`check`), and which columns.
#[derive(Debug, Clone)]
pub struct UpdatePermission {
    pub filter: BoolExp,
    pub check: BoolExp,
    pub columns: Vec<&'static str>,
}

#[derive(Debug, Clone)]
pub struct DeletePermission {
    pub filter: BoolExp,
}

#[derive(Debug, Clone, Default)]
pub struct Permissions {
    pub select: Option<SelectPermission>,
    pub insert: Option<InsertPermission>,
    pub update: Option<UpdatePermission>,
    pub delete: Option<DeletePermission>,
}

/// The row limit of a table that sets none of its own.
pub const DEFAULT_MAX_LIMIT: u64 = 1_000;

#[derive(Debug, Clone)]
pub struct Table {
    /// The SQL table name, which is also the GraphQL type name (Hasura's default).
    pub sql: &'static str,
    pub singular: &'static str,
    pub plural: &'static str,
    pub columns: Vec<Column>,
    pub relationships: Vec<Relationship>,
    pub permissions: BTreeMap<Role, Permissions>,
    /// The object relationships from a row to the `data_controllers` row it
    /// belongs to: empty for `data_controllers` itself, `None` for tables
    /// outside any controller (users and their tokens).
    pub controller_path: Option<&'static [&'static str]>,
}

impl Table {
    pub fn column(&self, field: &str) -> Option<&Column> {
        self.columns.iter().find(|column| column.field == field)
    }

    pub fn column_by_sql(&self, sql: &str) -> Option<&Column> {
        self.columns.iter().find(|column| column.sql == sql)
    }

    pub fn relationship(&self, field: &str) -> Option<&Relationship> {
        self.relationships
            .iter()
            .find(|relationship| relationship.field == field)
    }

    pub fn permissions(&self, role: Role) -> Option<&Permissions> {
        self.permissions.get(&role)
    }

    pub fn select_permission(&self, role: Role) -> Option<&SelectPermission> {
        self.permissions(role)?.select.as_ref()
    }

    /// Returns the primary key column, which is `id` (a uuid) in every table.
    pub fn primary_key(&self) -> &'static str {
        "id"
    }

    /// Returns the maximum number of rows one selection of this table may return: a larger `limit`
    /// is rejected, and a selection without `limit` stops there.
    pub fn max_limit(&self) -> u64 {
        DEFAULT_MAX_LIMIT
    }

    /// Returns the root field of aggregates over this table, e.g. `dataSubjectsAggregate`.
    pub fn aggregate_field(&self) -> String {
        format!("{}Aggregate", self.plural)
    }

    fn capitalized_singular(&self) -> String {
        capitalize(self.singular)
    }

    pub fn insert_one_field(&self) -> String {
        format!("insert{}", self.capitalized_singular())
    }

    pub fn insert_many_field(&self) -> String {
        format!("insert{}", capitalize(self.plural))
    }

    pub fn update_one_field(&self) -> String {
        format!("update{}", self.capitalized_singular())
    }

    pub fn update_many_field(&self) -> String {
        format!("update{}", capitalize(self.plural))
    }

    pub fn delete_one_field(&self) -> String {
        format!("delete{}", self.capitalized_singular())
    }

    pub fn delete_many_field(&self) -> String {
        format!("delete{}", capitalize(self.plural))
    }
}

fn capitalize(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Every exposed table, in a fixed order so generated schemas are stable.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub tables: Vec<Table>,
}

impl Catalog {
    pub fn table(&self, sql: &str) -> Option<&Table> {
        self.tables.iter().find(|table| table.sql == sql)
    }
}

const fn column(sql: &'static str, field: &'static str, scalar: ScalarType) -> Column {
    Column {
        sql,
        field,
        scalar,
        nullable: false,
        vocabulary: None,
        personal: false,
    }
}

const fn nullable(sql: &'static str, field: &'static str, scalar: ScalarType) -> Column {
    Column {
        sql,
        field,
        scalar,
        nullable: true,
        vocabulary: None,
        personal: false,
    }
}

const fn vocabulary(sql: &'static str, field: &'static str, vocabulary: Vocabulary) -> Column {
    Column {
        sql,
        field,
        scalar: ScalarType::String,
        nullable: false,
        vocabulary: Some(vocabulary),
        personal: false,
    }
}

const fn nullable_vocabulary(
    sql: &'static str,
    field: &'static str,
    vocabulary: Vocabulary,
) -> Column {
    Column {
        sql,
        field,
        scalar: ScalarType::String,
        nullable: true,
        vocabulary: Some(vocabulary),
        personal: false,
    }
}

const fn object(
    field: &'static str,
    target: &'static str,
    local: &'static str,
    remote: &'static str,
) -> Relationship {
    Relationship {
        field,
        kind: RelationshipKind::Object,
        target,
        local_column: local,
        remote_column: remote,
    }
}

const fn array(
    field: &'static str,
    target: &'static str,
    local: &'static str,
    remote: &'static str,
) -> Relationship {
    Relationship {
        field,
        kind: RelationshipKind::Array,
        target,
        local_column: local,
        remote_column: remote,
    }
}

fn timestamps() -> [Column; 2] {
    [
        column("created_at", "createdAt", ScalarType::Timestamptz),
        column("updated_at", "updatedAt", ScalarType::Timestamptz),
    ]
}

// Filters used by the permission rules below.

const USER_ID: &str = "x-hasura-user-id";

fn session_equals(field: &'static str, variable: &'static str) -> BoolExp {
    BoolExp::Compare {
        field,
        op: CompareOp::Eq,
        value: Operand::Session(variable),
    }
}

/// Builds the filter "the session user has one of `roles` in the controller this row belongs to".
/// `path` is the chain of object relationships from the row to `data_controllers`.
fn member_with(path: &[&'static str], roles: &[&'static str]) -> BoolExp {
    let mut membership = BoolExp::And(vec![
        session_equals("userId", USER_ID),
        BoolExp::Compare {
            field: "role",
            op: CompareOp::In,
            value: Operand::List(roles.iter().map(|role| (*role).into()).collect()),
        },
    ]);
    membership = BoolExp::Relationship {
        field: "users",
        predicate: Box::new(membership),
        check_target: false,
    };
    for relationship in path.iter().rev() {
        membership = BoolExp::Relationship {
            field: relationship,
            predicate: Box::new(membership),
            check_target: false,
        };
    }
    membership
}

const ANY_MEMBER: &[&str] = &["owner", "admin", "privacy_officer", "developer", "viewer"];
/// Membership roles that may read data subjects, their consents and requests.
const SUBJECT_READERS: &[&str] = &["owner", "admin", "privacy_officer", "viewer"];
/// Membership roles that may write data subjects, consents, requests, purposes and notices.
const PRIVACY_WRITERS: &[&str] = &["owner", "admin", "privacy_officer"];
const CONTROLLER_ADMINS: &[&str] = &["owner", "admin"];

fn all_fields(columns: &[Column], except: &[&str]) -> Vec<&'static str> {
    columns
        .iter()
        .map(|c| c.field)
        .filter(|field| !except.contains(field))
        .collect()
}

fn admin_permissions(
    columns: &[Column],
    hidden: &[&str],
    insertable: &[&'static str],
    updatable: &[&'static str],
) -> Permissions {
    Permissions {
        select: Some(SelectPermission {
            filter: BoolExp::True,
            columns: all_fields(columns, hidden),
        }),
        insert: (!insertable.is_empty()).then(|| InsertPermission {
            check: BoolExp::True,
            columns: insertable.to_vec(),
            presets: Vec::new(),
        }),
        update: (!updatable.is_empty()).then(|| UpdatePermission {
            filter: BoolExp::True,
            check: BoolExp::True,
            columns: updatable.to_vec(),
        }),
        delete: Some(DeletePermission {
            filter: BoolExp::True,
        }),
    }
}

/// Permissions for a table whose rows belong to a controller through `path`.
fn controller_data_permissions(
    columns: &[Column],
    path: &[&'static str],
    readers: &[&'static str],
    insertable: &[&'static str],
    updatable: &[&'static str],
) -> Permissions {
    let writers = member_with(path, PRIVACY_WRITERS);
    Permissions {
        select: Some(SelectPermission {
            filter: member_with(path, readers),
            columns: all_fields(columns, &[]),
        }),
        insert: (!insertable.is_empty()).then(|| InsertPermission {
            check: writers.clone(),
            columns: insertable.to_vec(),
            presets: Vec::new(),
        }),
        update: (!updatable.is_empty()).then(|| UpdatePermission {
            filter: writers.clone(),
            check: writers.clone(),
            columns: updatable.to_vec(),
        }),
        delete: Some(DeletePermission { filter: writers }),
    }
}

/// Builds the catalog. Server-managed columns (`id`, `did`, timestamps, due
/// dates) are never insertable: the mutation executor fills them in.
pub fn catalog() -> Catalog {
    use ScalarType::*;

    let users_columns = vec![
        column("id", "id", Uuid),
        column("email", "email", String).personal(),
        column("display_name", "displayName", String).personal(),
        column("default_role", "defaultRole", String),
        column("disabled", "disabled", Boolean),
        timestamps()[0],
        timestamps()[1],
    ];
    let users = Table {
        sql: "users",
        singular: "user",
        plural: "users",
        permissions: BTreeMap::from([
            (
                Role::Admin,
                admin_permissions(&users_columns, &[], &[], &["displayName", "disabled"]),
            ),
            (
                Role::Me,
                Permissions {
                    select: Some(SelectPermission {
                        filter: session_equals("id", USER_ID),
                        columns: all_fields(&users_columns, &["disabled"]),
                    }),
                    update: Some(UpdatePermission {
                        filter: session_equals("id", USER_ID),
                        check: session_equals("id", USER_ID),
                        columns: vec!["displayName"],
                    }),
                    ..Permissions::default()
                },
            ),
        ]),
        columns: users_columns,
        relationships: vec![
            array(
                "personalAccessTokens",
                "personal_access_tokens",
                "id",
                "user_id",
            ),
            array("memberships", "data_controller_users", "id", "user_id"),
        ],
        controller_path: None,
    };

    let pat_columns = vec![
        column("id", "id", Uuid),
        column("user_id", "userId", Uuid),
        column("name", "name", String),
        column("expires_at", "expiresAt", Timestamptz),
        nullable("revoked_at", "revokedAt", Timestamptz),
        nullable("last_used_at", "lastUsedAt", Timestamptz),
        timestamps()[0],
        timestamps()[1],
    ];
    let personal_access_tokens = Table {
        sql: "personal_access_tokens",
        singular: "personalAccessToken",
        plural: "personalAccessTokens",
        permissions: BTreeMap::from([
            (
                Role::Admin,
                admin_permissions(&pat_columns, &[], &[], &["revokedAt"]),
            ),
            (
                Role::Me,
                Permissions {
                    select: Some(SelectPermission {
                        filter: session_equals("userId", USER_ID),
                        columns: all_fields(&pat_columns, &[]),
                    }),
                    update: Some(UpdatePermission {
                        filter: session_equals("userId", USER_ID),
                        check: session_equals("userId", USER_ID),
                        columns: vec!["name", "revokedAt"],
                    }),
                    delete: Some(DeletePermission {
                        filter: session_equals("userId", USER_ID),
                    }),
                    ..Permissions::default()
                },
            ),
        ]),
        columns: pat_columns,
        relationships: vec![object("user", "users", "user_id", "id")],
        controller_path: None,
    };

    let controller_columns = vec![
        column("id", "id", Uuid),
        column("title", "title", String),
        column("did", "did", String),
        nullable("description", "description", String),
        nullable("industry", "industry", String),
        nullable("website", "website", String),
        nullable("dpo_email", "dpoEmail", String).personal(),
        nullable("branding", "branding", Jsonb),
        timestamps()[0],
        timestamps()[1],
    ];
    let controller_editable = [
        "title",
        "description",
        "industry",
        "website",
        "dpoEmail",
        "branding",
    ];
    let data_controllers = Table {
        sql: "data_controllers",
        singular: "dataController",
        plural: "dataControllers",
        permissions: BTreeMap::from([
            (
                Role::Admin,
                admin_permissions(
                    &controller_columns,
                    &[],
                    &controller_editable,
                    &controller_editable,
                ),
            ),
            (
                Role::User,
                Permissions {
                    select: Some(SelectPermission {
                        filter: member_with(&[], ANY_MEMBER),
                        columns: all_fields(&controller_columns, &[]),
                    }),
                    update: Some(UpdatePermission {
                        filter: member_with(&[], CONTROLLER_ADMINS),
                        check: member_with(&[], CONTROLLER_ADMINS),
                        columns: controller_editable.to_vec(),
                    }),
                    ..Permissions::default()
                },
            ),
        ]),
        columns: controller_columns,
        relationships: vec![
            array("users", "data_controller_users", "id", "data_controller_id"),
            array("dataSubjects", "data_subjects", "id", "data_controller_id"),
            array(
                "processingPurposes",
                "data_controller_processing_purposes",
                "id",
                "data_controller_id",
            ),
            array(
                "rightsRequests",
                "data_subject_rights_requests",
                "id",
                "data_controller_id",
            ),
            array(
                "dataProcessors",
                "data_processors",
                "id",
                "data_controller_id",
            ),
            array(
                "privacyNotices",
                "privacy_notices",
                "id",
                "data_controller_id",
            ),
            array(
                "processingActivities",
                "processing_activities",
                "id",
                "data_controller_id",
            ),
            array("auditLogs", "audit_log", "id", "data_controller_id"),
        ],
        controller_path: Some(&[]),
    };

    let membership_columns = vec![
        column("id", "id", Uuid),
        column("data_controller_id", "dataControllerId", Uuid),
        column("user_id", "userId", Uuid),
        vocabulary("role", "role", Vocabulary::MembershipRole),
        timestamps()[0],
        timestamps()[1],
    ];
    let data_controller_users = Table {
        sql: "data_controller_users",
        singular: "dataControllerUser",
        plural: "dataControllerUsers",
        permissions: BTreeMap::from([
            (
                Role::Admin,
                admin_permissions(
                    &membership_columns,
                    &[],
                    &["dataControllerId", "userId", "role"],
                    &["role"],
                ),
            ),
            (
                Role::User,
                Permissions {
                    select: Some(SelectPermission {
                        filter: member_with(&["dataController"], ANY_MEMBER),
                        columns: all_fields(&membership_columns, &[]),
                    }),
                    ..Permissions::default()
                },
            ),
        ]),
        columns: membership_columns,
        relationships: vec![
            object(
                "dataController",
                "data_controllers",
                "data_controller_id",
                "id",
            ),
            object("user", "users", "user_id", "id"),
        ],
        controller_path: Some(&["dataController"]),
    };

    let subject_columns = vec![
        column("id", "id", Uuid),
        column("data_controller_id", "dataControllerId", Uuid),
        column("did", "did", String),
        column("do_not_track", "doNotTrack", Boolean),
        column("global_privacy_control", "globalPrivacyControl", Boolean),
        nullable("erased_at", "erasedAt", Timestamptz),
        timestamps()[0],
        timestamps()[1],
    ];
    let subject_insertable = ["dataControllerId", "doNotTrack", "globalPrivacyControl"];
    let subject_updatable = ["doNotTrack", "globalPrivacyControl"];
    let data_subjects = Table {
        sql: "data_subjects",
        singular: "dataSubject",
        plural: "dataSubjects",
        permissions: BTreeMap::from([
            (
                Role::Admin,
                admin_permissions(
                    &subject_columns,
                    &[],
                    &subject_insertable,
                    &subject_updatable,
                ),
            ),
            (
                Role::User,
                controller_data_permissions(
                    &subject_columns,
                    &["dataController"],
                    SUBJECT_READERS,
                    &subject_insertable,
                    &subject_updatable,
                ),
            ),
        ]),
        columns: subject_columns,
        relationships: vec![
            object(
                "dataController",
                "data_controllers",
                "data_controller_id",
                "id",
            ),
            array(
                "consentFormValues",
                "data_subject_consent_form_values",
                "id",
                "data_subject_id",
            ),
            array(
                "rightsRequests",
                "data_subject_rights_requests",
                "id",
                "data_subject_id",
            ),
            array("consentEvents", "consent_events", "id", "data_subject_id"),
            array(
                "identifiers",
                "data_subject_identifiers",
                "id",
                "data_subject_id",
            ),
            array(
                "processingActivities",
                "processing_activities",
                "id",
                "data_subject_id",
            ),
        ],
        controller_path: Some(&["dataController"]),
    };

    let purpose_columns = vec![
        column("id", "id", Uuid),
        column("data_controller_id", "dataControllerId", Uuid),
        column("title", "title", String),
        nullable("description", "description", String),
        vocabulary("category", "category", Vocabulary::PurposeCategory),
        vocabulary("legal_basis", "legalBasis", Vocabulary::LegalBasis),
        vocabulary("consent_mode", "consentMode", Vocabulary::ConsentMode),
        column("essential", "essential", Boolean),
        column("gpc_applies", "gpcApplies", Boolean),
        nullable("retention_days", "retentionDays", Int),
        timestamps()[0],
        timestamps()[1],
    ];
    let purpose_updatable = [
        "title",
        "description",
        "category",
        "legalBasis",
        "consentMode",
        "essential",
        "gpcApplies",
        "retentionDays",
    ];
    let mut purpose_insertable = vec!["dataControllerId"];
    purpose_insertable.extend(purpose_updatable);
    let data_controller_processing_purposes = Table {
        sql: "data_controller_processing_purposes",
        singular: "dataControllerProcessingPurpose",
        plural: "dataControllerProcessingPurposes",
        permissions: BTreeMap::from([
            (
                Role::Admin,
                admin_permissions(
                    &purpose_columns,
                    &[],
                    &purpose_insertable,
                    &purpose_updatable,
                ),
            ),
            (
                Role::User,
                controller_data_permissions(
                    &purpose_columns,
                    &["dataController"],
                    ANY_MEMBER,
                    &purpose_insertable,
                    &purpose_updatable,
                ),
            ),
        ]),
        columns: purpose_columns,
        relationships: vec![
            object(
                "dataController",
                "data_controllers",
                "data_controller_id",
                "id",
            ),
            array(
                "consentFormValues",
                "data_subject_consent_form_values",
                "id",
                "data_controller_processing_purpose_id",
            ),
            array(
                "processingActivities",
                "processing_activities",
                "id",
                "data_controller_processing_purpose_id",
            ),
        ],
        controller_path: Some(&["dataController"]),
    };

    let consent_columns = vec![
        column("id", "id", Uuid),
        column("data_subject_id", "dataSubjectId", Uuid),
        column(
            "data_controller_processing_purpose_id",
            "dataControllerProcessingPurposeId",
            Uuid,
        ),
        vocabulary("value", "value", Vocabulary::ConsentValue),
        timestamps()[0],
        timestamps()[1],
    ];
    let consent_insertable = [
        "dataSubjectId",
        "dataControllerProcessingPurposeId",
        "value",
    ];
    let data_subject_consent_form_values = Table {
        sql: "data_subject_consent_form_values",
        singular: "dataSubjectConsentFormValue",
        plural: "dataSubjectConsentFormValues",
        permissions: BTreeMap::from([
            (
                Role::Admin,
                admin_permissions(&consent_columns, &[], &consent_insertable, &["value"]),
            ),
            (
                Role::User,
                controller_data_permissions(
                    &consent_columns,
                    &["dataSubject", "dataController"],
                    SUBJECT_READERS,
                    &consent_insertable,
                    &["value"],
                ),
            ),
        ]),
        columns: consent_columns,
        relationships: vec![
            object("dataSubject", "data_subjects", "data_subject_id", "id"),
            object(
                "dataControllerProcessingPurpose",
                "data_controller_processing_purposes",
                "data_controller_processing_purpose_id",
                "id",
            ),
        ],
        controller_path: Some(&["dataSubject", "dataController"]),
    };

    let request_columns = vec![
        column("id", "id", Uuid),
        column("data_controller_id", "dataControllerId", Uuid),
        column("data_subject_id", "dataSubjectId", Uuid),
        vocabulary("request_type", "requestType", Vocabulary::RequestType),
        vocabulary("status", "status", Vocabulary::RequestStatus),
        column("verified", "verified", Boolean),
        vocabulary("jurisdiction", "jurisdiction", Vocabulary::Jurisdiction),
        column("received_at", "receivedAt", Timestamptz),
        column("due_at", "dueAt", Timestamptz),
        nullable("completed_at", "completedAt", Timestamptz),
        timestamps()[0],
        timestamps()[1],
    ];
    let request_insertable = [
        "dataSubjectId",
        "requestType",
        "status",
        "verified",
        "jurisdiction",
    ];
    let request_updatable = ["status", "verified", "completedAt"];
    let data_subject_rights_requests = Table {
        sql: "data_subject_rights_requests",
        singular: "dataSubjectRightsRequest",
        plural: "dataSubjectRightsRequests",
        permissions: BTreeMap::from([
            (
                Role::Admin,
                admin_permissions(
                    &request_columns,
                    &[],
                    &request_insertable,
                    &request_updatable,
                ),
            ),
            (
                Role::User,
                controller_data_permissions(
                    &request_columns,
                    &["dataController"],
                    SUBJECT_READERS,
                    &request_insertable,
                    &request_updatable,
                ),
            ),
        ]),
        columns: request_columns,
        relationships: vec![
            object(
                "dataController",
                "data_controllers",
                "data_controller_id",
                "id",
            ),
            object("dataSubject", "data_subjects", "data_subject_id", "id"),
        ],
        controller_path: Some(&["dataController"]),
    };

    let registers = registers::tables();

    let mut catalog = Catalog {
        tables: vec![
            users,
            personal_access_tokens,
            data_controllers,
            data_controller_users,
            data_subjects,
            data_controller_processing_purposes,
            data_subject_consent_form_values,
            data_subject_rights_requests,
        ]
        .into_iter()
        .chain(registers)
        .collect(),
    };
    add_public_and_subject_roles(&mut catalog);
    catalog
}

/// Unique keys of a table besides its primary key, by GraphQL field names,
/// as the migrations declare them: what `onConflict` may name.
pub fn unique_keys(table: &str) -> &'static [&'static [&'static str]] {
    match table {
        "data_controller_users" => &[&["dataControllerId", "userId"]],
        "data_subject_consent_form_values" => {
            &[&["dataSubjectId", "dataControllerProcessingPurposeId"]]
        }
        "privacy_notices" => &[&["dataControllerId", "kind", "language", "version"]],
        "data_subject_identifiers" => &[&["dataSubjectId", "kind", "valueHash"]],
        _ => &[],
    }
}

/// `onConflict` constraint names in Hasura's style: `<table>_pkey` and
/// `<table>_<columns>_key`, with the fields of each.
pub fn conflict_constraints(table: &Table) -> Vec<(String, Vec<&'static str>)> {
    let mut constraints = vec![(format!("{}_pkey", table.sql), vec![table.primary_key()])];
    for key in unique_keys(table.sql) {
        let columns: Vec<&str> = key
            .iter()
            .filter_map(|field| table.column(field).map(|column| column.sql))
            .collect();
        constraints.push((
            format!("{}_{}_key", table.sql, columns.join("_")),
            key.to_vec(),
        ));
    }
    constraints
}

/// The session variable that names a `dataSubject` session's own record.
pub const DATA_SUBJECT_ID: &str = "x-hasura-data-subject-id";

/// Tables whose by-id root field the `anonymous` role gets; everything else
/// it reads through their relationships.
pub const ANONYMOUS_ENTRY_TABLES: &[&str] = &["data_controllers"];

/// "The row's controller has the session's data subject", for `path` from
/// the row to `data_controllers`.
fn controller_of_subject(path: &[&'static str]) -> BoolExp {
    let mut filter = BoolExp::Relationship {
        field: "dataSubjects",
        predicate: Box::new(session_equals("id", DATA_SUBJECT_ID)),
        check_target: false,
    };
    for relationship in path.iter().rev() {
        filter = BoolExp::Relationship {
            field: relationship,
            predicate: Box::new(filter),
            check_target: false,
        };
    }
    filter
}

/// Permissions to read the rows `filter` selects, and nothing else.
fn read_only(filter: BoolExp, columns: Vec<&'static str>) -> Permissions {
    Permissions {
        select: Some(SelectPermission { filter, columns }),
        ..Permissions::default()
    }
}

/// Adds the `anonymous` and `dataSubject` permissions. Anonymous callers
/// read a controller's public profile, purposes, processors and published
/// notices. A data subject reads the same for its own controller, and its own
/// record, consents, requests and processing activities. It may also change its
/// privacy signals and consent values, and file rights requests for itself.
fn add_public_and_subject_roles(catalog: &mut Catalog) {
    let own_subject = || session_equals("id", DATA_SUBJECT_ID);
    let own_rows = || session_equals("dataSubjectId", DATA_SUBJECT_ID);
    for table in &mut catalog.tables {
        let every_column: Vec<&'static str> = table.columns.iter().map(|c| c.field).collect();
        let columns = |except: &[&str]| -> Vec<&'static str> {
            every_column
                .iter()
                .copied()
                .filter(|field| !except.contains(field))
                .collect()
        };
        let (anonymous, subject) = match table.sql {
            "data_controllers" => (
                Some(read_only(BoolExp::True, columns(&[]))),
                Some(read_only(controller_of_subject(&[]), columns(&[]))),
            ),
            "data_controller_processing_purposes" => (
                Some(read_only(BoolExp::True, columns(&[]))),
                Some(read_only(
                    controller_of_subject(&["dataController"]),
                    columns(&[]),
                )),
            ),
            "data_subjects" => (
                None,
                Some(Permissions {
                    select: Some(SelectPermission {
                        filter: own_subject(),
                        columns: columns(&[]),
                    }),
                    update: Some(UpdatePermission {
                        filter: own_subject(),
                        check: own_subject(),
                        columns: vec!["doNotTrack", "globalPrivacyControl"],
                    }),
                    ..Permissions::default()
                }),
            ),
            "data_subject_consent_form_values" => (
                None,
                Some(Permissions {
                    select: Some(SelectPermission {
                        filter: own_rows(),
                        columns: columns(&[]),
                    }),
                    insert: Some(InsertPermission {
                        check: own_rows(),
                        columns: vec!["dataControllerProcessingPurposeId", "value"],
                        presets: vec![("dataSubjectId", Preset::Session(DATA_SUBJECT_ID))],
                    }),
                    update: Some(UpdatePermission {
                        filter: own_rows(),
                        check: own_rows(),
                        columns: vec!["value"],
                    }),
                    ..Permissions::default()
                }),
            ),
            "data_subject_rights_requests" => (
                None,
                Some(Permissions {
                    select: Some(SelectPermission {
                        filter: own_rows(),
                        columns: columns(&[]),
                    }),
                    insert: Some(InsertPermission {
                        check: own_rows(),
                        columns: vec!["requestType", "jurisdiction"],
                        presets: vec![("dataSubjectId", Preset::Session(DATA_SUBJECT_ID))],
                    }),
                    ..Permissions::default()
                }),
            ),
            "data_processors" => (
                Some(read_only(BoolExp::True, columns(&[]))),
                Some(read_only(
                    controller_of_subject(&["dataController"]),
                    columns(&[]),
                )),
            ),
            "privacy_notices" => {
                // Drafts stay with the staff. The public and subjects read published versions.
                let published = BoolExp::IsNull {
                    field: "publishedAt",
                    is_null: false,
                };
                (
                    Some(read_only(published.clone(), columns(&[]))),
                    Some(read_only(
                        published.and(controller_of_subject(&["dataController"])),
                        columns(&[]),
                    )),
                )
            }
            "processing_activities" => (None, Some(read_only(own_rows(), columns(&[])))),
            _ => (None, None),
        };
        if let Some(permissions) = anonymous {
            table.permissions.insert(Role::Anonymous, permissions);
        }
        if let Some(permissions) = subject {
            table.permissions.insert(Role::DataSubject, permissions);
        }
    }
}
