//! The `x-request-id` header: kept from the client when it is a plain token,
//! generated otherwise, and returned on every response.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use uuid::Uuid;

/// Name of the request id header, in the lower case HTTP/2 requires.
pub(crate) const REQUEST_ID_HEADER: &str = "x-request-id";

/// Longest accepted incoming request id, in bytes.
const MAX_REQUEST_ID_LENGTH: usize = 64;

/// Middleware that gives every request an id before the trace span reads it
/// and copies that id onto the response.
///
/// An incoming id is kept only if it is 1 to 64 characters of
/// `[A-Za-z0-9._-]`, and any other value is replaced by a new uuid v4. The id
/// ends up in logs, so this keeps a client from writing arbitrary text there.
pub(crate) async fn assign_request_id(mut request: Request, next: Next) -> Response {
    let request_id = match request.headers().get(REQUEST_ID_HEADER) {
        Some(value) if is_valid_request_id(value.as_bytes()) => value.clone(),
        _ => generate_request_id(),
    };
    request
        .headers_mut()
        .insert(REQUEST_ID_HEADER, request_id.clone());

    let mut response = next.run(request).await;

    response.headers_mut().insert(REQUEST_ID_HEADER, request_id);
    response
}

fn is_valid_request_id(value: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID_LENGTH).contains(&value.len())
        && value
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'))
}

fn generate_request_id() -> HeaderValue {
    let request_id = Uuid::new_v4().hyphenated().to_string();
    // A hyphenated uuid is ASCII hex digits and hyphens, which every header
    // value accepts, so the fallback is never taken.
    HeaderValue::from_str(&request_id).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_id_validation_cases() {
        let longest = "a".repeat(MAX_REQUEST_ID_LENGTH);
        let too_long = "a".repeat(MAX_REQUEST_ID_LENGTH + 1);
        let cases: [(&str, bool); 9] = [
            ("abc-123_DEF.4", true),
            ("0", true),
            (longest.as_str(), true),
            ("", false),
            (too_long.as_str(), false),
            ("has space", false),
            ("semi;colon", false),
            ("line\nbreak", false),
            ("ünicode", false),
        ];

        for (value, expected) in cases {
            assert_eq!(
                is_valid_request_id(value.as_bytes()),
                expected,
                "value {value:?}"
            );
        }
    }

    #[test]
    fn generated_request_id_is_valid() {
        let generated = generate_request_id();

        assert!(is_valid_request_id(generated.as_bytes()));
        assert!(Uuid::parse_str(generated.to_str().unwrap_or_default()).is_ok());
    }
}
