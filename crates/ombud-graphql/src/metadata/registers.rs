//! Tables of a controller's registers (processors, privacy notices, processing
//! activities), the hashed identifiers of data subjects, and the audit log.

use std::collections::BTreeMap;

use super::{
    ANY_MEMBER, Column, SUBJECT_READERS, ScalarType, Table, Vocabulary, admin_permissions,
    all_fields, column, controller_data_permissions, member_with, nullable, nullable_vocabulary,
    object, timestamps, vocabulary,
};
use crate::session::Role;

/// Membership roles that may read a controller's audit log: those who may read
/// its data subjects, since audit rows describe writes to subject rows too.
const AUDIT_READERS: &[&str] = SUBJECT_READERS;

fn controller_relationship() -> super::Relationship {
    object(
        "dataController",
        "data_controllers",
        "data_controller_id",
        "id",
    )
}

pub(super) fn tables() -> Vec<Table> {
    vec![
        data_processors(),
        privacy_notices(),
        processing_activities(),
        data_subject_identifiers(),
        audit_log(),
        consent_events(),
    ]
}

fn data_processors() -> Table {
    use ScalarType::*;

    let columns = vec![
        column("id", "id", Uuid),
        column("data_controller_id", "dataControllerId", Uuid),
        column("name", "name", String),
        nullable("description", "description", String),
        column("purposes", "purposes", Jsonb),
        column("data_categories", "dataCategories", Jsonb),
        column("locations", "locations", Jsonb),
        nullable_vocabulary(
            "transfer_safeguard",
            "transferSafeguard",
            Vocabulary::TransferSafeguard,
        ),
        nullable("dpa_url", "dpaUrl", String),
        timestamps()[0],
        timestamps()[1],
    ];
    let updatable = [
        "name",
        "description",
        "purposes",
        "dataCategories",
        "locations",
        "transferSafeguard",
        "dpaUrl",
    ];
    let mut insertable = vec!["dataControllerId"];
    insertable.extend(updatable);
    Table {
        sql: "data_processors",
        singular: "dataProcessor",
        plural: "dataProcessors",
        permissions: BTreeMap::from([
            (
                Role::Admin,
                admin_permissions(&columns, &[], &insertable, &updatable),
            ),
            (
                Role::User,
                controller_data_permissions(
                    &columns,
                    &["dataController"],
                    ANY_MEMBER,
                    &insertable,
                    &updatable,
                ),
            ),
        ]),
        columns,
        relationships: vec![controller_relationship()],
        controller_path: Some(&["dataController"]),
    }
}

fn privacy_notices() -> Table {
    use ScalarType::*;

    let columns = vec![
        column("id", "id", Uuid),
        column("data_controller_id", "dataControllerId", Uuid),
        vocabulary("kind", "kind", Vocabulary::NoticeKind),
        column("language", "language", String),
        column("version", "version", String),
        nullable("title", "title", String),
        // Public text about the controller's processing, not about one person.
        column("body", "body", String),
        nullable("published_at", "publishedAt", Timestamptz),
        timestamps()[0],
        timestamps()[1],
    ];
    // NOTE: a published notice stays editable, so its body can change after
    // publication; freezing published versions needs a rule in the hooks.
    let updatable = [
        "kind",
        "language",
        "version",
        "title",
        "body",
        "publishedAt",
    ];
    let mut insertable = vec!["dataControllerId"];
    insertable.extend(updatable);
    Table {
        sql: "privacy_notices",
        singular: "privacyNotice",
        plural: "privacyNotices",
        permissions: BTreeMap::from([
            (
                Role::Admin,
                admin_permissions(&columns, &[], &insertable, &updatable),
            ),
            (
                Role::User,
                controller_data_permissions(
                    &columns,
                    &["dataController"],
                    ANY_MEMBER,
                    &insertable,
                    &updatable,
                ),
            ),
        ]),
        columns,
        relationships: vec![controller_relationship()],
        controller_path: Some(&["dataController"]),
    }
}

fn processing_activities() -> Table {
    use ScalarType::*;

    let columns = vec![
        column("id", "id", Uuid),
        column("data_controller_id", "dataControllerId", Uuid),
        nullable("data_subject_id", "dataSubjectId", Uuid),
        nullable(
            "data_controller_processing_purpose_id",
            "dataControllerProcessingPurposeId",
            Uuid,
        ),
        // Free text about what was done for one data subject.
        column("activity", "activity", String).personal(),
        column("source", "source", String),
        column("occurred_at", "occurredAt", Timestamptz),
        column("created_at", "createdAt", Timestamptz),
    ];
    let insertable = [
        "dataControllerId",
        "dataSubjectId",
        "dataControllerProcessingPurposeId",
        "activity",
        "source",
        "occurredAt",
    ];
    // A record of processing that happened: members may add and delete
    // entries but not rewrite them. The admin may correct the text and time.
    let admin_updatable = ["activity", "source", "occurredAt"];
    Table {
        sql: "processing_activities",
        singular: "processingActivity",
        plural: "processingActivities",
        permissions: BTreeMap::from([
            (
                Role::Admin,
                admin_permissions(&columns, &[], &insertable, &admin_updatable),
            ),
            (
                Role::User,
                controller_data_permissions(
                    &columns,
                    &["dataController"],
                    SUBJECT_READERS,
                    &insertable,
                    &[],
                ),
            ),
        ]),
        columns,
        relationships: vec![
            controller_relationship(),
            object("dataSubject", "data_subjects", "data_subject_id", "id"),
            object(
                "dataControllerProcessingPurpose",
                "data_controller_processing_purposes",
                "data_controller_processing_purpose_id",
                "id",
            ),
        ],
        controller_path: Some(&["dataController"]),
    }
}

fn data_subject_identifiers() -> Table {
    use ScalarType::*;

    let columns = vec![
        column("id", "id", Uuid),
        column("data_subject_id", "dataSubjectId", Uuid),
        vocabulary("kind", "kind", Vocabulary::IdentifierKind),
        // A keyed hash still links records to one person.
        column("value_hash", "valueHash", String).personal(),
        column("source", "source", String),
        column("created_at", "createdAt", Timestamptz),
    ];
    // NOTE: the client sends the keyed HMAC itself for now. Webhook flows will
    // hash values with the installation key, so that hashes from every source
    // of one installation match.
    let insertable = ["dataSubjectId", "kind", "valueHash", "source"];
    let admin_updatable = ["kind", "valueHash", "source"];
    Table {
        sql: "data_subject_identifiers",
        singular: "dataSubjectIdentifier",
        plural: "dataSubjectIdentifiers",
        permissions: BTreeMap::from([
            (
                Role::Admin,
                admin_permissions(&columns, &[], &insertable, &admin_updatable),
            ),
            (
                Role::User,
                controller_data_permissions(
                    &columns,
                    &["dataSubject", "dataController"],
                    SUBJECT_READERS,
                    &insertable,
                    &[],
                ),
            ),
        ]),
        columns,
        relationships: vec![object(
            "dataSubject",
            "data_subjects",
            "data_subject_id",
            "id",
        )],
        controller_path: Some(&["dataSubject", "dataController"]),
    }
}

/// Builds the audit log table. It is read-only for every role: the mutation
/// executor appends to it, and no role has insert, update or delete permissions.
fn audit_log() -> Table {
    use ScalarType::*;

    let columns: Vec<Column> = vec![
        column("id", "id", Uuid),
        nullable("data_controller_id", "dataControllerId", Uuid),
        nullable("actor_user_id", "actorUserId", Uuid),
        column("actor_role", "actorRole", String),
        vocabulary("operation", "operation", Vocabulary::AuditOperation),
        column("table_name", "tableName", String),
        column("row_id", "rowId", Uuid),
        column("changed_columns", "changedColumns", Jsonb),
        column("changes", "changes", Jsonb),
        column("created_at", "createdAt", Timestamptz),
    ];
    let read_only = |filter| super::read_only(filter, all_fields(&columns, &[]));
    let permissions = BTreeMap::from([
        (Role::Admin, read_only(crate::ir::BoolExp::True)),
        (
            Role::User,
            read_only(member_with(&["dataController"], AUDIT_READERS)),
        ),
    ]);
    Table {
        sql: "audit_log",
        singular: "auditLog",
        plural: "auditLogs",
        permissions,
        columns,
        relationships: vec![
            controller_relationship(),
            object("actor", "users", "actor_user_id", "id"),
        ],
        controller_path: Some(&["dataController"]),
    }
}

/// Builds the consent history: one row for every change of a consent value,
/// appended by the consent hooks and the upsert action. No role writes it.
fn consent_events() -> Table {
    use ScalarType::*;

    let columns: Vec<Column> = vec![
        column("id", "id", Uuid),
        column("data_controller_id", "dataControllerId", Uuid),
        column("data_subject_id", "dataSubjectId", Uuid),
        column(
            "data_controller_processing_purpose_id",
            "dataControllerProcessingPurposeId",
            Uuid,
        ),
        vocabulary("value", "value", Vocabulary::ConsentValue),
        nullable_vocabulary("previous_value", "previousValue", Vocabulary::ConsentValue),
        column("method", "method", String),
        column("source", "source", String),
        column("global_privacy_control", "globalPrivacyControl", Boolean),
        column("do_not_track", "doNotTrack", Boolean),
        nullable("actor_user_id", "actorUserId", Uuid),
        column("actor_role", "actorRole", String),
        column("created_at", "createdAt", Timestamptz),
    ];
    let read_only = |filter| super::read_only(filter, all_fields(&columns, &[]));
    let permissions = BTreeMap::from([
        (Role::Admin, read_only(crate::ir::BoolExp::True)),
        (
            Role::User,
            read_only(member_with(&["dataController"], SUBJECT_READERS)),
        ),
        (
            Role::DataSubject,
            read_only(super::session_equals(
                "dataSubjectId",
                super::DATA_SUBJECT_ID,
            )),
        ),
    ]);
    Table {
        sql: "consent_events",
        singular: "consentEvent",
        plural: "consentEvents",
        permissions,
        columns,
        relationships: vec![
            controller_relationship(),
            object("dataSubject", "data_subjects", "data_subject_id", "id"),
            object(
                "dataControllerProcessingPurpose",
                "data_controller_processing_purposes",
                "data_controller_processing_purpose_id",
                "id",
            ),
        ],
        controller_path: Some(&["dataController"]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_log_is_read_only_for_every_role() {
        let table = audit_log();
        for (role, permissions) in &table.permissions {
            assert!(permissions.select.is_some(), "{role:?}");
            assert!(permissions.insert.is_none(), "{role:?}");
            assert!(permissions.update.is_none(), "{role:?}");
            assert!(permissions.delete.is_none(), "{role:?}");
        }
    }

    #[test]
    fn controller_paths_end_at_data_controllers() {
        let catalog = super::super::catalog();
        for table in &catalog.tables {
            let Some(path) = table.controller_path else {
                continue;
            };
            let mut current = table;
            for field in path {
                let relationship = current
                    .relationship(field)
                    .unwrap_or_else(|| panic!("{} has no relationship {field}", current.sql));
                assert_eq!(relationship.kind, super::super::RelationshipKind::Object);
                current = catalog
                    .table(relationship.target)
                    .unwrap_or_else(|| panic!("unknown table {}", relationship.target));
            }
            assert_eq!(current.sql, "data_controllers", "path of {}", table.sql);
        }
    }

    #[test]
    fn relationships_name_known_tables_and_columns() {
        let catalog = super::super::catalog();
        for table in &catalog.tables {
            for relationship in &table.relationships {
                let target = catalog
                    .table(relationship.target)
                    .unwrap_or_else(|| panic!("{} -> {}", table.sql, relationship.target));
                assert!(
                    table.column_by_sql(relationship.local_column).is_some(),
                    "{}.{}",
                    table.sql,
                    relationship.local_column
                );
                assert!(
                    target.column_by_sql(relationship.remote_column).is_some(),
                    "{}.{}",
                    target.sql,
                    relationship.remote_column
                );
            }
        }
    }
}
