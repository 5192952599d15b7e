//! Table-specific rules around generic writes: value formats, server-managed
//! columns, values derived from related rows, and the consent history.

use chrono::Utc;
use ombud_store::{ColumnKind, SqlValue, WriteTx};
use uuid::Uuid;

use crate::error::GraphqlError;
use crate::metadata::Table;
use crate::mutation::RowValues;
use crate::session::Session;

fn value_of<'r>(row: &'r RowValues, field: &str) -> Option<&'r SqlValue> {
    row.iter()
        .find(|(column, _)| column.field == field)
        .map(|(_, value)| value)
}

fn text_of<'r>(row: &'r RowValues, field: &str) -> Option<&'r str> {
    match value_of(row, field) {
        Some(SqlValue::Text(text)) => Some(text),
        _ => None,
    }
}

/// An id in the row, given either parsed or as text set by a hook.
fn uuid_of(row: &RowValues, field: &str) -> Option<Uuid> {
    match value_of(row, field) {
        Some(SqlValue::Uuid(id)) => Some(*id),
        Some(SqlValue::Text(text)) => Uuid::parse_str(text).ok(),
        _ => None,
    }
}

fn stored_uuid(text: &str) -> Result<Uuid, GraphqlError> {
    Uuid::parse_str(text)
        .map_err(|error| GraphqlError::NotSupported(format!("stored id is not a uuid: {error}")))
}

fn set(
    table: &'static Table,
    row: &mut RowValues,
    field: &str,
    value: SqlValue,
) -> Result<(), GraphqlError> {
    let column = table.column(field).ok_or_else(|| {
        GraphqlError::NotSupported(format!("{} has no column {field}", table.sql))
    })?;
    row.retain(|(existing, _)| existing.field != field);
    row.push((column, value));
    Ok(())
}

fn require(row: &RowValues, table: &Table, fields: &[&str]) -> Result<(), GraphqlError> {
    let missing: Vec<&str> = fields
        .iter()
        .copied()
        .filter(|field| value_of(row, field).is_none())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(GraphqlError::Validation(format!(
        "missing required field(s) {} for {}",
        missing.join(", "),
        table.sql
    )))
}

/// Fills in server-managed columns and derived values; returns the new row's id.
pub(crate) async fn prepare_insert(
    tx: &mut WriteTx,
    table: &'static Table,
    row: &mut RowValues,
    now: &str,
) -> Result<Uuid, GraphqlError> {
    let id = Uuid::new_v4();
    set(table, row, "id", SqlValue::Uuid(id))?;
    if table.column("createdAt").is_some() {
        set(table, row, "createdAt", SqlValue::Text(now.to_owned()))?;
    }
    if table.column("updatedAt").is_some() {
        set(table, row, "updatedAt", SqlValue::Text(now.to_owned()))?;
    }
    if table.column("did").is_some() {
        set(
            table,
            row,
            "did",
            SqlValue::Text(ombud_privacy::did_for(&id)),
        )?;
    }

    match table.sql {
        "data_controllers" => require(row, table, &["title"])?,
        "data_controller_users" => require(row, table, &["dataControllerId", "userId", "role"])?,
        "data_subjects" => require(row, table, &["dataControllerId"])?,
        "data_controller_processing_purposes" => {
            require(row, table, &["dataControllerId", "title"])?
        }
        "data_subject_consent_form_values" => {
            require(
                row,
                table,
                &[
                    "dataSubjectId",
                    "dataControllerProcessingPurposeId",
                    "value",
                ],
            )?;
            check_purpose_matches_subject(tx, row).await?;
        }
        "data_subject_rights_requests" => {
            require(row, table, &["dataSubjectId", "requestType"])?;
            prepare_rights_request(tx, table, row, now).await?;
        }
        "data_processors" => require(row, table, &["dataControllerId", "name"])?,
        "privacy_notices" => require(
            row,
            table,
            &["dataControllerId", "kind", "language", "version", "body"],
        )?,
        "processing_activities" => {
            require(row, table, &["activity", "source"])?;
            prepare_processing_activity(tx, table, row, now).await?;
        }
        "data_subject_identifiers" => require(
            row,
            table,
            &["dataSubjectId", "kind", "valueHash", "source"],
        )?,
        _ => {}
    }
    Ok(id)
}

/// Checks the format of values a client sends for insert or `_set`, and puts
/// them in their stored spelling: language tags and country codes in their
/// standard case, identifier hashes in lowercase.
pub(crate) fn normalize_input(table: &Table, row: &mut RowValues) -> Result<(), GraphqlError> {
    for (column, value) in row.iter_mut() {
        let normalized = match (table.sql, column.field, &*value) {
            // Sign-in treats any revocation time as revoked, so clearing it
            // would bring back a token that the owner or the operator revoked.
            ("personal_access_tokens", "revokedAt", SqlValue::Null) => {
                return Err(GraphqlError::Validation(
                    "a revoked personal access token stays revoked; create a new one with POST /v1/pat"
                        .to_owned(),
                ));
            }
            ("data_processors", "purposes" | "dataCategories", SqlValue::Json(json)) => {
                string_list(column.field, json)?;
                continue;
            }
            ("data_processors", "locations", SqlValue::Json(json)) => {
                let codes = string_list(column.field, json)?
                    .into_iter()
                    .map(|code| ombud_privacy::normalize_country_code(code).map(Into::into))
                    .collect::<Result<Vec<serde_json::Value>, _>>()
                    .map_err(|error| invalid(column.field, error))?;
                SqlValue::Json(serde_json::Value::Array(codes))
            }
            ("data_processors", "dpaUrl", SqlValue::Text(url)) => {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(GraphqlError::Validation(format!(
                        "invalid value for dpaUrl: expected an http or https URL, got {url:?}"
                    )));
                }
                continue;
            }
            ("privacy_notices", "language", SqlValue::Text(tag)) => {
                let tag = ombud_privacy::normalize_language_tag(tag)
                    .map_err(|error| invalid(column.field, error))?;
                SqlValue::Text(tag)
            }
            ("privacy_notices", "version", SqlValue::Text(version)) => {
                if version.trim().is_empty() {
                    return Err(GraphqlError::Validation(
                        "invalid value for version: send a non-empty version such as \"2026-01\""
                            .to_owned(),
                    ));
                }
                continue;
            }
            ("data_subject_identifiers", "valueHash", SqlValue::Text(hash)) => {
                let hash = ombud_privacy::normalize_identifier_hash(hash)
                    .map_err(|error| invalid(column.field, error))?;
                SqlValue::Text(hash)
            }
            _ => continue,
        };
        *value = normalized;
    }
    Ok(())
}

fn invalid(field: &str, error: ombud_privacy::PrivacyError) -> GraphqlError {
    GraphqlError::Validation(format!("invalid value for {field}: {error}"))
}

/// The strings of a JSON array that must hold only strings.
fn string_list<'j>(field: &str, json: &'j serde_json::Value) -> Result<Vec<&'j str>, GraphqlError> {
    let not_a_list = || {
        GraphqlError::Validation(format!(
            "invalid value for {field}: expected a JSON array of strings such as [\"a\", \"b\"]"
        ))
    };
    let serde_json::Value::Array(items) = json else {
        return Err(not_a_list());
    };
    items
        .iter()
        .map(|item| item.as_str().ok_or_else(not_a_list))
        .collect()
}

/// Takes the controller from the subject when the client names only the
/// subject, defaults the time to now, and checks that the subject and purpose
/// belong to the activity's controller. A missing subject or purpose gets the
/// same error as one of another controller, so their ids cannot be probed.
async fn prepare_processing_activity(
    tx: &mut WriteTx,
    table: &'static Table,
    row: &mut RowValues,
    now: &str,
) -> Result<(), GraphqlError> {
    let subject = uuid_of(row, "dataSubjectId");
    let controller = match (uuid_of(row, "dataControllerId"), subject) {
        (Some(controller), _) => controller,
        (None, Some(subject)) => {
            let found = tx
                .fetch_optional(
                    "SELECT data_controller_id FROM data_subjects WHERE id = $1",
                    &[subject.into()],
                )
                .await?
                .ok_or_else(GraphqlError::check_failed)?;
            let controller = stored_uuid(found.required_text(0)?)?;
            set(table, row, "dataControllerId", SqlValue::Uuid(controller))?;
            controller
        }
        (None, None) => {
            return Err(GraphqlError::Validation(
                "missing required field dataControllerId for processing_activities; \
                 send it, or a dataSubjectId to take the controller from"
                    .to_owned(),
            ));
        }
    };

    if let Some(subject) = subject {
        let same_controller = tx
            .fetch_optional(
                "SELECT 1 FROM data_subjects WHERE id = $1 AND data_controller_id = $2",
                &[subject.into(), controller.into()],
            )
            .await?;
        if same_controller.is_none() {
            return Err(GraphqlError::check_failed());
        }
    }
    if let Some(purpose) = uuid_of(row, "dataControllerProcessingPurposeId") {
        let same_controller = tx
            .fetch_optional(
                "SELECT 1 FROM data_controller_processing_purposes WHERE id = $1 AND data_controller_id = $2",
                &[purpose.into(), controller.into()],
            )
            .await?;
        if same_controller.is_none() {
            return Err(GraphqlError::check_failed());
        }
    }

    if value_of(row, "occurredAt").is_none() {
        set(table, row, "occurredAt", SqlValue::Text(now.to_owned()))?;
    }
    Ok(())
}

/// Checks that a consent value names a purpose of the subject's own controller.
/// A missing subject or purpose gets the same error as a mismatch, so ids of
/// other controllers cannot be probed.
async fn check_purpose_matches_subject(
    tx: &mut WriteTx,
    row: &RowValues,
) -> Result<(), GraphqlError> {
    let (Some(subject), Some(purpose)) = (
        uuid_of(row, "dataSubjectId"),
        uuid_of(row, "dataControllerProcessingPurposeId"),
    ) else {
        return Err(GraphqlError::check_failed());
    };
    let same_controller = tx
        .fetch_optional(
            "SELECT 1 FROM data_subjects AS s JOIN data_controller_processing_purposes AS p \
             ON p.data_controller_id = s.data_controller_id WHERE s.id = $1 AND p.id = $2",
            &[subject.into(), purpose.into()],
        )
        .await?;
    if same_controller.is_none() {
        return Err(GraphqlError::check_failed());
    }
    Ok(())
}

/// Takes the controller from the subject and sets the legal response deadline.
async fn prepare_rights_request(
    tx: &mut WriteTx,
    table: &'static Table,
    row: &mut RowValues,
    now: &str,
) -> Result<(), GraphqlError> {
    let subject = uuid_of(row, "dataSubjectId").ok_or_else(GraphqlError::check_failed)?;
    let controller = tx
        .fetch_optional(
            "SELECT data_controller_id FROM data_subjects WHERE id = $1",
            &[subject.into()],
        )
        .await?
        .ok_or_else(GraphqlError::check_failed)?;
    let controller = controller.required_text(0)?.to_owned();
    set(table, row, "dataControllerId", SqlValue::Text(controller))?;

    if value_of(row, "status").is_none() {
        set(table, row, "status", "submitted".into())?;
    }
    let jurisdiction = match text_of(row, "jurisdiction") {
        Some(text) => ombud_privacy::Jurisdiction::parse(text)
            .map_err(|error| GraphqlError::Validation(error.to_string()))?,
        None => ombud_privacy::Jurisdiction::Gdpr,
    };
    set(table, row, "jurisdiction", jurisdiction.as_str().into())?;

    let received = ombud_store::parse_timestamp(now).unwrap_or_else(Utc::now);
    let due = ombud_privacy::response_due_at(received, jurisdiction);
    set(table, row, "receivedAt", SqlValue::Text(now.to_owned()))?;
    set(
        table,
        row,
        "dueAt",
        SqlValue::Text(ombud_store::format_timestamp(due)),
    )?;
    Ok(())
}

/// Appends the consent history entry for a consent value written through GraphQL.
pub(crate) async fn after_insert(
    tx: &mut WriteTx,
    table: &Table,
    row: &RowValues,
    session: &Session,
    now: &str,
) -> Result<(), GraphqlError> {
    if table.sql != "data_subject_consent_form_values" {
        return Ok(());
    }
    let (Some(subject), Some(purpose), Some(value)) = (
        uuid_of(row, "dataSubjectId"),
        uuid_of(row, "dataControllerProcessingPurposeId"),
        text_of(row, "value"),
    ) else {
        return Err(GraphqlError::check_failed());
    };
    append_consent_event(tx, subject, purpose, value, None, "graphql", session, now).await
}

/// A consent value as it was before an update.
pub(crate) struct PreviousConsent {
    id: Uuid,
    subject: Uuid,
    purpose: Uuid,
    value: String,
}

pub(crate) async fn before_update(
    tx: &mut WriteTx,
    table: &Table,
    ids: &[Uuid],
) -> Result<Vec<PreviousConsent>, GraphqlError> {
    if table.sql != "data_subject_consent_form_values" || ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<SqlValue> = ids.iter().map(|id| SqlValue::Uuid(*id)).collect();
    let sql = format!(
        "SELECT id, data_subject_id, data_controller_processing_purpose_id, value \
         FROM data_subject_consent_form_values WHERE id IN ({})",
        tx.dialect().json_list("$1", ColumnKind::Uuid)
    );
    let rows = tx.fetch_rows(&sql, &[SqlValue::list(&ids)]).await?;
    rows.iter()
        .map(|row| {
            Ok(PreviousConsent {
                id: stored_uuid(row.required_text(0)?)?,
                subject: stored_uuid(row.required_text(1)?)?,
                purpose: stored_uuid(row.required_text(2)?)?,
                value: row.required_text(3)?.to_owned(),
            })
        })
        .collect()
}

pub(crate) async fn after_update(
    tx: &mut WriteTx,
    table: &Table,
    previous: &[PreviousConsent],
    session: &Session,
    now: &str,
) -> Result<(), GraphqlError> {
    if table.sql != "data_subject_consent_form_values" {
        return Ok(());
    }
    for before in previous {
        let current = tx
            .fetch_optional(
                "SELECT value FROM data_subject_consent_form_values WHERE id = $1",
                &[before.id.into()],
            )
            .await?;
        let Some(current) = current else {
            continue;
        };
        let value = current.required_text(0)?.to_owned();
        append_consent_event(
            tx,
            before.subject,
            before.purpose,
            &value,
            Some(&before.value),
            "graphql",
            session,
            now,
        )
        .await?;
    }
    Ok(())
}

/// Appends one row to the append-only consent history.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn append_consent_event(
    tx: &mut WriteTx,
    subject: Uuid,
    purpose: Uuid,
    value: &str,
    previous: Option<&str>,
    method: &str,
    session: &Session,
    now: &str,
) -> Result<(), GraphqlError> {
    // Values in a select list have no column to take a type from, so the ones
    // that may be NULL are cast on PostgreSQL.
    let dialect = tx.dialect();
    let previous_placeholder = dialect.typed_placeholder("$4", ColumnKind::Text);
    let actor_placeholder = dialect.typed_placeholder("$6", ColumnKind::Uuid);
    let created_at = ombud_store::parse_timestamp(now).unwrap_or_else(Utc::now);
    let sql = format!(
        "INSERT INTO consent_events (id, data_controller_id, data_subject_id, data_controller_processing_purpose_id, \
         value, previous_value, method, source, global_privacy_control, do_not_track, actor_user_id, actor_role, created_at) \
         SELECT $1, s.data_controller_id, s.id, $2, $3, {previous_placeholder}, $5, 'api', s.global_privacy_control, \
         s.do_not_track, {actor_placeholder}, $7, $8 FROM data_subjects AS s WHERE s.id = $9"
    );
    tx.execute(
        &sql,
        &[
            Uuid::new_v4().into(),
            purpose.into(),
            value.into(),
            previous.map(str::to_owned).into(),
            method.into(),
            session.user_id.into(),
            session.role.as_str().into(),
            created_at.into(),
            subject.into(),
        ],
    )
    .await?;
    Ok(())
}
