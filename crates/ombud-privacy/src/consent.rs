use std::collections::BTreeMap;

use serde_json::Value;
use uuid::Uuid;

use crate::PrivacyError;

/// Validates a consent choice, a JSON object from purpose id to boolean, and returns the
/// choices sorted by purpose id.
///
/// Keys may use any UUID spelling that `uuid` parses, but two keys that spell the same
/// id are rejected. Values must be JSON booleans, so the strings `"true"` and `"false"`
/// are rejected as well.
pub fn parse_purposes(value: &Value) -> Result<Vec<(Uuid, bool)>, PrivacyError> {
    let Value::Object(entries) = value else {
        return Err(PrivacyError::PurposesNotObject {
            found: json_type_name(value),
        });
    };

    if entries.is_empty() {
        return Err(PrivacyError::PurposesEmpty);
    }

    // The key spelling is kept so that a duplicate error can name both keys.
    let mut purposes: BTreeMap<Uuid, (&str, bool)> = BTreeMap::new();
    for (key, granted) in entries {
        let Ok(purpose_id) = Uuid::parse_str(key) else {
            return Err(PrivacyError::InvalidPurposeId { key: key.clone() });
        };

        let Value::Bool(granted) = granted else {
            return Err(PrivacyError::PurposeValueNotBoolean {
                key: key.clone(),
                found: json_type_name(granted),
            });
        };

        if let Some((other_key, _)) = purposes.insert(purpose_id, (key, *granted)) {
            return Err(PrivacyError::DuplicatePurposeId {
                key: key.clone(),
                other_key: other_key.to_owned(),
            });
        }
    }

    let sorted = purposes
        .into_iter()
        .map(|(purpose_id, (_, granted))| (purpose_id, granted))
        .collect();
    Ok(sorted)
}

/// Returns the stored text form of a consent value, `"true"` or `"false"`.
pub fn consent_value_text(granted: bool) -> &'static str {
    if granted { "true" } else { "false" }
}

fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use serde_json::json;

    use super::*;

    const FIRST: &str = "00000000-0000-4000-8000-000000000001";
    const SECOND: &str = "00000000-0000-4000-8000-000000000002";
    const THIRD: &str = "ffffffff-0000-4000-8000-000000000000";

    fn id(text: &str) -> Uuid {
        Uuid::parse_str(text).unwrap()
    }

    #[test]
    fn purposes_sorted_by_id() {
        let value = json!({ THIRD: false, FIRST: true, SECOND: false });

        let purposes = parse_purposes(&value).unwrap();

        assert_eq!(
            purposes,
            vec![(id(FIRST), true), (id(SECOND), false), (id(THIRD), false)]
        );
    }

    #[test]
    fn purposes_accept_single_entry() {
        let purposes = parse_purposes(&json!({ SECOND: true })).unwrap();

        assert_eq!(purposes, vec![(id(SECOND), true)]);
    }

    #[test]
    fn purposes_reject_non_object() {
        for (value, found) in [
            (json!([FIRST]), "array"),
            (json!(null), "null"),
            (json!("{}"), "string"),
            (json!(true), "boolean"),
        ] {
            assert_eq!(
                parse_purposes(&value),
                Err(PrivacyError::PurposesNotObject { found })
            );
        }
    }

    #[test]
    fn purposes_reject_empty_object() {
        let error = parse_purposes(&json!({})).unwrap_err();

        assert_eq!(error, PrivacyError::PurposesEmpty);
        assert!(error.to_string().contains("send at least one purpose id"));
    }

    #[test]
    fn purposes_reject_non_uuid_key() {
        let error = parse_purposes(&json!({ FIRST: true, "analytics": true })).unwrap_err();

        assert_eq!(
            error,
            PrivacyError::InvalidPurposeId {
                key: "analytics".to_owned()
            }
        );
        assert!(
            error
                .to_string()
                .starts_with("consent purpose key \"analytics\" is not a UUID: use the purpose id")
        );
    }

    #[test]
    fn purposes_reject_string_booleans() {
        for text in ["true", "false"] {
            let error = parse_purposes(&json!({ FIRST: text })).unwrap_err();

            assert_eq!(
                error,
                PrivacyError::PurposeValueNotBoolean {
                    key: FIRST.to_owned(),
                    found: "string"
                }
            );
            assert!(
                error
                    .to_string()
                    .contains("send true or false as a JSON boolean, without quotes")
            );
        }
    }

    #[test]
    fn purposes_reject_other_values() {
        for (value, found) in [
            (json!(1), "number"),
            (json!(null), "null"),
            (json!({}), "object"),
        ] {
            let error = parse_purposes(&json!({ SECOND: value })).unwrap_err();

            assert_eq!(
                error,
                PrivacyError::PurposeValueNotBoolean {
                    key: SECOND.to_owned(),
                    found
                }
            );
        }
    }

    #[test]
    fn purposes_reject_same_id_twice() {
        let upper = THIRD.to_uppercase().replace('-', "");
        let value = json!({ THIRD: true, upper.clone(): false });

        let error = parse_purposes(&value).unwrap_err();

        // Which key is reported first depends on serde_json's map order, so accept both.
        let PrivacyError::DuplicatePurposeId { key, other_key } = error else {
            panic!("expected DuplicatePurposeId, got {error:?}");
        };
        let mut keys = [key, other_key];
        keys.sort();
        assert_eq!(keys, [upper, THIRD.to_owned()]);
    }

    #[test]
    fn consent_value_text_forms() {
        assert_eq!(consent_value_text(true), "true");
        assert_eq!(consent_value_text(false), "false");
    }
}
