//! Actions: operations that are not a plain table write. The only one so far is
//! `upsertDataSubjectConsents`, which records a person's consent choices.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_graphql::Value;
use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputObject, InputValue, Object, ResolverContext,
    SchemaBuilder, TypeRef,
};
use ombud_privacy::{ConsentCookieClaims, consent_value_text, parse_purposes};
use ombud_store::SqlValue;
use uuid::Uuid;

use crate::audit::{self, Operation};
use crate::error::GraphqlError;
use crate::hooks::append_consent_event;
use crate::metadata::{Column, Table};
use crate::parse::Arguments;
use crate::runtime::Runtime;
use crate::schema::action_output_field;
use crate::session::{Role, Session};

const UPSERT_CONSENTS: &str = "upsertDataSubjectConsents";
const INPUT_TYPE: &str = "UpsertDataSubjectConsentsInput";

/// Returns whether `role` may call any action.
pub(crate) fn available_to(role: Role) -> bool {
    matches!(role, Role::User | Role::Admin)
}

/// Adds the actions `role` may call to the mutation root.
pub(crate) fn register(
    role: Role,
    mutation: Object,
    builder: SchemaBuilder,
) -> (Object, SchemaBuilder) {
    if !available_to(role) {
        return (mutation, builder);
    }
    let builder = builder
        .register(
            InputObject::new(INPUT_TYPE)
                .description(
                    "The consent choices of one data subject for purposes of one data controller.",
                )
                .field(InputValue::new(
                    "dataControllerId",
                    TypeRef::named_nn("uuid"),
                ))
                .field(InputValue::new("dataSubjectId", TypeRef::named("uuid")))
                .field(InputValue::new("purposes", TypeRef::named_nn("jsonb"))),
        )
        .register(
            Object::new("UpsertDataSubjectConsentsData")
                .field(action_output_field(
                    "dataSubjectId",
                    TypeRef::named_nn("uuid"),
                ))
                .field(action_output_field(
                    "upsertedCount",
                    TypeRef::named_nn(TypeRef::INT),
                ))
                .field(action_output_field(
                    "consentCookie",
                    TypeRef::named_nn(TypeRef::STRING),
                )),
        )
        .register(
            Object::new("UpsertDataSubjectConsentsOutput")
                .field(action_output_field(
                    "status",
                    TypeRef::named_nn(TypeRef::STRING),
                ))
                .field(action_output_field(
                    "message",
                    TypeRef::named_nn(TypeRef::STRING),
                ))
                .field(action_output_field(
                    "data",
                    TypeRef::named("UpsertDataSubjectConsentsData"),
                )),
        );

    let field = Field::new(
        UPSERT_CONSENTS,
        TypeRef::named_nn("UpsertDataSubjectConsentsOutput"),
        |ctx| {
            FieldFuture::new(async move {
                let runtime = Runtime::from_context(&ctx)?;
                let session = ctx.ctx.data::<Session>()?;
                let request =
                    ConsentUpsert::from_arguments(&ctx).map_err(GraphqlError::into_graphql)?;
                let value = upsert_consents(runtime, session, request)
                    .await
                    .map_err(GraphqlError::into_graphql)?;
                Ok(Some(FieldValue::value(value)))
            })
        },
    )
    .description(
        "Record a data subject's consent choices. Pass dataControllerId, purposes and optionally \
         dataSubjectId as arguments, or the same fields as one input object.",
    )
    .argument(InputValue::new("dataControllerId", TypeRef::named("uuid")))
    .argument(InputValue::new("dataSubjectId", TypeRef::named("uuid")))
    .argument(InputValue::new("purposes", TypeRef::named("jsonb")))
    .argument(InputValue::new("input", TypeRef::named(INPUT_TYPE)))
    .argument(InputValue::new(
        "upsertDataSubjectConsentsInput",
        TypeRef::named(INPUT_TYPE),
    ));

    (mutation.field(field), builder)
}

/// A validated consent upsert request.
struct ConsentUpsert {
    data_controller_id: Uuid,
    data_subject_id: Option<Uuid>,
    purposes: Vec<(Uuid, bool)>,
}

const FORMS: &str = "pass either dataControllerId, purposes and optionally dataSubjectId as arguments, \
     or one object as input: {dataControllerId, purposes, dataSubjectId}";

impl ConsentUpsert {
    fn from_arguments(ctx: &ResolverContext<'_>) -> Result<ConsentUpsert, GraphqlError> {
        let arguments = Arguments::from_field(&ctx.ctx.field())?;
        let object = match (
            arguments.get("input"),
            arguments.get("upsertDataSubjectConsentsInput"),
        ) {
            (Some(_), Some(_)) => {
                return Err(GraphqlError::Validation(format!(
                    "input and upsertDataSubjectConsentsInput were both given; {FORMS}"
                )));
            }
            (Some(object), None) | (None, Some(object)) => Some(object),
            (None, None) => None,
        };
        let has_flat = ["dataControllerId", "dataSubjectId", "purposes"]
            .iter()
            .any(|name| arguments.get(name).is_some());

        let field = |name: &str| -> Option<&Value> {
            match object {
                Some(Value::Object(fields)) => fields
                    .get(name)
                    .filter(|value| !matches!(value, Value::Null)),
                Some(_) => None,
                None => arguments.get(name),
            }
        };
        if object.is_some() && has_flat {
            return Err(GraphqlError::Validation(format!(
                "both argument forms were used; {FORMS}"
            )));
        }

        let data_controller_id = parse_uuid("dataControllerId", field("dataControllerId"))?
            .ok_or_else(|| {
                GraphqlError::Validation(format!("dataControllerId is required; {FORMS}"))
            })?;
        let data_subject_id = parse_uuid("dataSubjectId", field("dataSubjectId"))?;
        let purposes = field("purposes")
            .ok_or_else(|| GraphqlError::Validation(format!("purposes is required; {FORMS}")))?
            .clone()
            .into_json()
            .map_err(|error| {
                GraphqlError::Validation(format!("purposes is not valid JSON: {error}"))
            })?;
        let purposes = parse_purposes(&purposes)
            .map_err(|error| GraphqlError::Validation(error.to_string()))?;
        Ok(ConsentUpsert {
            data_controller_id,
            data_subject_id,
            purposes,
        })
    }
}

fn catalog_table(runtime: &Runtime, name: &str) -> Result<&'static Table, GraphqlError> {
    runtime
        .catalog
        .table(name)
        .ok_or_else(|| GraphqlError::NotSupported(format!("unknown table {name}")))
}

/// Pairs each field with its column of `table`, for an audit entry.
fn audited<const N: usize>(
    table: &'static Table,
    values: [(&str, SqlValue); N],
) -> Result<Vec<(&'static Column, SqlValue)>, GraphqlError> {
    values
        .into_iter()
        .map(|(field, value)| {
            let column = table.column(field).ok_or_else(|| {
                GraphqlError::NotSupported(format!("{} has no column {field}", table.sql))
            })?;
            Ok((column, value))
        })
        .collect()
}

fn parse_uuid(name: &str, value: Option<&Value>) -> Result<Option<Uuid>, GraphqlError> {
    match value {
        None => Ok(None),
        Some(Value::String(text)) => Uuid::parse_str(text)
            .map(Some)
            .map_err(|_| GraphqlError::Validation(format!("{name} must be a uuid, got {text:?}"))),
        Some(other) => Err(GraphqlError::Validation(format!(
            "{name} must be a uuid string, got {other}"
        ))),
    }
}

/// Writes every purpose's value in one transaction, appends each to the
/// consent history and the audit log, and returns the action's output with a
/// signed consent cookie.
async fn upsert_consents(
    runtime: &Arc<Runtime>,
    session: &Session,
    request: ConsentUpsert,
) -> Result<Value, GraphqlError> {
    let controller_id = request.data_controller_id;
    let controller = controller_id.to_string();
    let subjects = catalog_table(runtime, "data_subjects")?;
    let consent_values = catalog_table(runtime, "data_subject_consent_form_values")?;
    let mut tx = runtime.store.begin_write().await?;

    // The same error for a missing controller and one the user may not write,
    // so that controller ids cannot be probed.
    let allowed = match session.role {
        Role::Admin => {
            tx.fetch_optional(
                "SELECT 1 FROM data_controllers WHERE id = $1",
                &[controller_id.into()],
            )
            .await?
        }
        _ => {
            tx.fetch_optional(
                "SELECT 1 FROM data_controller_users WHERE data_controller_id = $1 AND user_id = $2 \
                 AND role IN ('owner', 'admin', 'privacy_officer')",
                &[controller_id.into(), session.user_id.into()],
            )
            .await?
        }
    };
    if allowed.is_none() {
        return Err(GraphqlError::Permission(format!(
            "no data controller {controller} that this session may record consent for"
        )));
    }

    let known_purposes = tx
        .fetch_rows(
            "SELECT id FROM data_controller_processing_purposes WHERE data_controller_id = $1",
            &[controller_id.into()],
        )
        .await?;
    let known: Vec<String> = known_purposes
        .iter()
        .map(|row| row.required_text(0).map(str::to_owned))
        .collect::<Result<_, _>>()?;
    let unknown: Vec<String> = request
        .purposes
        .iter()
        .map(|(id, _)| id.to_string())
        .filter(|id| !known.contains(id))
        .collect();
    if !unknown.is_empty() {
        return Err(GraphqlError::Validation(format!(
            "unknown processing purpose id(s) for data controller {controller}: {}; \
             list the controller's purposes with dataControllerProcessingPurposes",
            unknown.join(", ")
        )));
    }

    let subject_id = match request.data_subject_id {
        Some(id) => {
            // Locking the subject serialises concurrent upserts for it, so each
            // history entry records the value it really replaced.
            let sql = format!(
                "SELECT 1 FROM data_subjects WHERE id = $1 AND data_controller_id = $2{}",
                tx.dialect().for_update()
            );
            let exists = tx
                .fetch_optional(&sql, &[id.into(), controller_id.into()])
                .await?;
            if exists.is_none() {
                return Err(GraphqlError::Validation(format!(
                    "data subject {id} not found for data controller {controller}; \
                     omit dataSubjectId to create a new pseudonymous data subject"
                )));
            }
            id
        }
        None => {
            let id = Uuid::new_v4();
            let created_at = chrono::Utc::now();
            tx.execute(
                "INSERT INTO data_subjects (id, data_controller_id, did, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
                &[id.into(), controller_id.into(), ombud_privacy::did_for(&id).into(), created_at.into()],
            )
            .await?;
            let entry = audit::Entry {
                row_id: id,
                operation: Operation::Insert,
                changed: audited(subjects, [("dataControllerId", controller_id.into())])?,
            };
            audit::append(
                &mut tx,
                session,
                subjects,
                Some(controller_id),
                &entry,
                created_at,
            )
            .await?;
            id
        }
    };
    let subject = subject_id.to_string();
    // Taken after the subject's lock, so history times follow the order in
    // which concurrent upserts for one subject were applied.
    let now_time = chrono::Utc::now();
    let now = ombud_store::format_timestamp(now_time);
    let now_value = SqlValue::Timestamp(now_time);

    for (purpose_id, granted) in &request.purposes {
        let value = consent_value_text(*granted);
        let previous = tx
            .fetch_optional(
                "SELECT value FROM data_subject_consent_form_values \
                 WHERE data_subject_id = $1 AND data_controller_processing_purpose_id = $2",
                &[subject_id.into(), (*purpose_id).into()],
            )
            .await?;
        let previous = previous
            .map(|row| row.required_text(0).map(str::to_owned))
            .transpose()?;
        let new_id = Uuid::new_v4();
        let written = tx
            .fetch_optional(
                "INSERT INTO data_subject_consent_form_values \
                 (id, data_subject_id, data_controller_processing_purpose_id, value, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) \
                 ON CONFLICT (data_subject_id, data_controller_processing_purpose_id) \
                 DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at \
                 RETURNING id",
                &[
                    new_id.into(),
                    subject_id.into(),
                    (*purpose_id).into(),
                    value.into(),
                    now_value.clone(),
                ],
            )
            .await?
            .ok_or_else(|| {
                GraphqlError::NotSupported("the consent upsert returned no row".to_owned())
            })?;
        // The returned id shows which branch ran: a new row keeps the id
        // sent, and an existing one returns its own.
        let row_id = Uuid::parse_str(written.required_text(0)?).map_err(|error| {
            GraphqlError::NotSupported(format!("stored id is not a uuid: {error}"))
        })?;
        let entry = if row_id == new_id {
            audit::Entry {
                row_id,
                operation: Operation::Insert,
                changed: audited(
                    consent_values,
                    [
                        ("dataSubjectId", subject_id.into()),
                        ("dataControllerProcessingPurposeId", (*purpose_id).into()),
                        ("value", value.into()),
                    ],
                )?,
            }
        } else {
            audit::Entry {
                row_id,
                operation: Operation::Update,
                changed: audited(consent_values, [("value", value.into())])?,
            }
        };
        audit::append(
            &mut tx,
            session,
            consent_values,
            Some(controller_id),
            &entry,
            now_time,
        )
        .await?;
        append_consent_event(
            &mut tx,
            subject_id,
            *purpose_id,
            value,
            previous.as_deref(),
            UPSERT_CONSENTS,
            session,
            &now,
        )
        .await?;
    }
    tx.commit().await?;

    let claims = ConsentCookieClaims {
        sub: subject_id,
        data_controller_id: request.data_controller_id,
        purposes: request
            .purposes
            .iter()
            .map(|(id, granted)| (id.to_string(), *granted))
            .collect::<BTreeMap<_, _>>(),
        iat: chrono::Utc::now().timestamp(),
    };
    let cookie = runtime.consent_signer.sign(&claims);
    tracing::info!(data_controller_id = %controller, data_subject_id = %subject, purposes = request.purposes.len(), "recorded consent");

    let output = serde_json::json!({
        "status": "success",
        "message": UPSERT_CONSENTS,
        "data": {
            "dataSubjectId": subject,
            "upsertedCount": request.purposes.len(),
            "consentCookie": cookie,
        }
    });
    Value::from_json(output).map_err(|error| GraphqlError::NotSupported(error.to_string()))
}
