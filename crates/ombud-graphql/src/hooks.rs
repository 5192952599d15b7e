//! Table-specific rules around generic writes: server-managed columns, values
//! derived from related rows, and the consent history.

use chrono::Utc;
use ombud_store::{SqlValue, WriteTx};
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
    set(table, row, "id", SqlValue::Text(id.to_string()))?;
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
        _ => {}
    }
    Ok(id)
}

/// Checks that a consent value names a purpose of the subject's own controller.
/// A missing subject or purpose gets the same error as a mismatch, so ids of
/// other controllers cannot be probed.
async fn check_purpose_matches_subject(
    tx: &mut WriteTx,
    row: &RowValues,
) -> Result<(), GraphqlError> {
    let (Some(subject), Some(purpose)) = (
        text_of(row, "dataSubjectId"),
        text_of(row, "dataControllerProcessingPurposeId"),
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
    let subject = text_of(row, "dataSubjectId")
        .ok_or_else(GraphqlError::check_failed)?
        .to_owned();
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
        text_of(row, "dataSubjectId"),
        text_of(row, "dataControllerProcessingPurposeId"),
        text_of(row, "value"),
    ) else {
        return Err(GraphqlError::check_failed());
    };
    append_consent_event(tx, subject, purpose, value, None, "graphql", session, now).await
}

/// A consent value as it was before an update.
pub(crate) struct PreviousConsent {
    id: String,
    subject: String,
    purpose: String,
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
    let placeholders: Vec<String> = (1..=ids.len()).map(|index| format!("${index}")).collect();
    let params: Vec<SqlValue> = ids
        .iter()
        .map(|id| SqlValue::Text(id.to_string()))
        .collect();
    let sql = format!(
        "SELECT id, data_subject_id, data_controller_processing_purpose_id, value \
         FROM data_subject_consent_form_values WHERE id IN ({})",
        placeholders.join(", ")
    );
    let rows = tx.fetch_rows(&sql, &params).await?;
    rows.iter()
        .map(|row| {
            Ok(PreviousConsent {
                id: row.required_text(0)?.to_owned(),
                subject: row.required_text(1)?.to_owned(),
                purpose: row.required_text(2)?.to_owned(),
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
                &[before.id.as_str().into()],
            )
            .await?;
        let Some(current) = current else {
            continue;
        };
        let value = current.required_text(0)?.to_owned();
        append_consent_event(
            tx,
            &before.subject,
            &before.purpose,
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
    subject: &str,
    purpose: &str,
    value: &str,
    previous: Option<&str>,
    method: &str,
    session: &Session,
    now: &str,
) -> Result<(), GraphqlError> {
    tx.execute(
        "INSERT INTO consent_events (id, data_controller_id, data_subject_id, data_controller_processing_purpose_id, \
         value, previous_value, method, source, global_privacy_control, do_not_track, actor_user_id, actor_role, created_at) \
         SELECT $1, s.data_controller_id, s.id, $2, $3, $4, $5, 'api', s.global_privacy_control, s.do_not_track, $6, $7, $8 \
         FROM data_subjects AS s WHERE s.id = $9",
        &[
            Uuid::new_v4().to_string().into(),
            purpose.into(),
            value.into(),
            previous.map(str::to_owned).into(),
            method.into(),
            session.user_id.map(|id| id.to_string()).into(),
            session.role.as_str().into(),
            now.into(),
            subject.into(),
        ],
    )
    .await?;
    Ok(())
}
