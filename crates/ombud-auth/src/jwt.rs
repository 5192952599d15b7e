use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore as _;
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::AuthError;

/// Minimum length of an HS256 secret in bytes. RFC 7518, section 3.2, requires a key at
/// least as long as the hash output, which is 32 bytes for SHA-256.
pub const MIN_SECRET_BYTES: usize = 32;

/// Length of the secret that [`generate_secret`] creates.
const GENERATED_SECRET_BYTES: usize = 64;

/// Key under which Hasura expects its session claims.
pub const HASURA_CLAIMS_KEY: &str = "https://hasura.io/jwt/claims";

const HASURA_CLAIM_PREFIX: &str = "x-hasura-";

/// Claim names that [`HasuraClaims`] stores in named fields, so `extra` must not repeat them.
const RESERVED_HASURA_CLAIMS: [&str; 3] = [
    "x-hasura-allowed-roles",
    "x-hasura-default-role",
    "x-hasura-user-id",
];

/// Hasura session claims, stored under [`HASURA_CLAIMS_KEY`] in the JWT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HasuraClaims {
    #[serde(rename = "x-hasura-allowed-roles")]
    pub allowed_roles: Vec<String>,

    #[serde(rename = "x-hasura-default-role")]
    pub default_role: String,

    #[serde(rename = "x-hasura-user-id")]
    pub user_id: String,

    /// Further `x-hasura-*` session variables, which Hasura reads as strings.
    #[serde(flatten)]
    pub extra: BTreeMap<String, String>,
}

/// Claims of a session JWT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    /// User id, the same value as `hasura.user_id`.
    pub sub: String,

    /// Issue time in seconds since the Unix epoch.
    pub iat: i64,

    /// Expiry time in seconds since the Unix epoch.
    pub exp: i64,

    pub iss: String,

    #[serde(rename = "https://hasura.io/jwt/claims")]
    pub hasura: HasuraClaims,
}

/// Claims as decoded during verification, with the optional `nbf` that sessions do not
/// carry but that must still be honored when present.
#[derive(Deserialize)]
struct DecodedClaims {
    sub: String,
    iat: i64,
    exp: i64,

    /// Optional here so that a token without an issuer is reported as `WrongIssuer`
    /// rather than as a JSON error.
    iss: Option<String>,

    nbf: Option<i64>,

    #[serde(rename = "https://hasura.io/jwt/claims")]
    hasura: HasuraClaims,
}

/// The only header field read before the signature check.
#[derive(Deserialize)]
struct DecodedHeader {
    alg: String,
}

/// Reason why a session JWT was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtError {
    Expired,
    NotYetValid,
    InvalidSignature,
    /// The token is not a well-formed JWT of the expected shape. The text describes the
    /// defect and never contains any part of the token.
    Malformed(String),
    WrongIssuer,
    WrongAlgorithm,
}

impl JwtError {
    /// Formats the error in the style of Hasura's JWT errors, so clients can handle both
    /// servers alike.
    ///
    /// NOTE: Only the texts of `Expired`, `NotYetValid`, `InvalidSignature` and
    /// `WrongIssuer` are meant to match Hasura exactly. The other two follow its pattern.
    pub fn message(&self) -> String {
        match self {
            JwtError::Expired => "Could not verify JWT: JWTExpired".to_owned(),
            JwtError::NotYetValid => "Could not verify JWT: JWTNotYetValid".to_owned(),
            JwtError::InvalidSignature => {
                "Could not verify JWT: JWSError JWSInvalidSignature".to_owned()
            }
            JwtError::Malformed(detail) => {
                format!("Could not verify JWT: JWSError (CompactDecodeError {detail})")
            }
            JwtError::WrongIssuer => "Could not verify JWT: JWTNotInIssuer".to_owned(),
            JwtError::WrongAlgorithm => {
                "Could not verify JWT: JWSError (AlgorithmMismatch \"expected HS256\")".to_owned()
            }
        }
    }
}

impl fmt::Display for JwtError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.message())
    }
}

impl std::error::Error for JwtError {}

/// Signs and verifies HS256 session JWTs with one shared secret and issuer.
pub struct JwtCodec {
    encoding_key: EncodingKey,
    decoding_key: DecodingKey,
    validation: Validation,
    issuer: String,
    leeway_seconds: i64,
}

impl fmt::Debug for JwtCodec {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("JwtCodec")
            .field("issuer", &self.issuer)
            .field("leeway_seconds", &self.leeway_seconds)
            .finish_non_exhaustive()
    }
}

impl JwtCodec {
    /// Creates a codec for the given HS256 secret and issuer.
    ///
    /// `leeway_seconds` is the clock skew tolerated on `exp`, `iat` and `nbf`. Rejects a
    /// secret shorter than [`MIN_SECRET_BYTES`].
    pub fn new(secret: &[u8], issuer: String, leeway_seconds: u64) -> Result<Self, AuthError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(AuthError::JwtSecretTooShort {
                length: secret.len(),
                minimum: MIN_SECRET_BYTES,
            });
        }

        let encoding_key = EncodingKey::from_secret(secret)
            .map_err(|error| AuthError::JwtSigning(error.to_string()))?;
        let decoding_key = DecodingKey::from_secret(secret)
            .map_err(|error| AuthError::JwtSigning(error.to_string()))?;

        // The library checks the signature, the algorithm, the issuer and that the
        // required claims exist. `verify` checks the times itself because the library
        // reads the system clock, and tests must control the time.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.set_issuer(&[&issuer]);

        Ok(Self {
            encoding_key,
            decoding_key,
            validation,
            issuer,
            leeway_seconds: i64::try_from(leeway_seconds).unwrap_or(i64::MAX),
        })
    }

    /// Signs a session JWT for `user_id` that is valid from `now` for `ttl_seconds`.
    ///
    /// `default_role` must be one of `allowed_roles`, and every key of `extra` must be an
    /// `x-hasura-*` name other than the three that have their own fields.
    pub fn issue(
        &self,
        user_id: Uuid,
        allowed_roles: Vec<String>,
        default_role: String,
        extra: BTreeMap<String, String>,
        ttl_seconds: u64,
        now: i64,
    ) -> Result<String, AuthError> {
        let expires_at = i64::try_from(ttl_seconds)
            .ok()
            .filter(|ttl| *ttl > 0)
            .and_then(|ttl| now.checked_add(ttl))
            .ok_or_else(|| {
                AuthError::InvalidClaims(format!(
                    "ttl_seconds {ttl_seconds} must be at least 1, and now + ttl_seconds must \
                     fit in an i64"
                ))
            })?;

        let hasura = HasuraClaims {
            allowed_roles,
            default_role,
            user_id: user_id.to_string(),
            extra,
        };
        if let Some(problem) = find_hasura_claims_problem(&hasura) {
            return Err(AuthError::InvalidClaims(problem));
        }

        let claims = SessionClaims {
            sub: user_id.to_string(),
            iat: now,
            exp: expires_at,
            iss: self.issuer.clone(),
            hasura,
        };

        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding_key)
            .map_err(|error| AuthError::JwtSigning(error.to_string()))
    }

    /// Verifies a session JWT at time `now` (seconds since the Unix epoch) and returns
    /// its claims.
    ///
    /// Accepts only HS256 with this codec's secret and issuer. The token is expired when
    /// `now >= exp + leeway`, and not yet valid when `iat` or `nbf` is later than
    /// `now + leeway`.
    pub fn verify(&self, token: &str, now: i64) -> Result<SessionClaims, JwtError> {
        check_header(token)?;

        let decoded =
            jsonwebtoken::decode::<DecodedClaims>(token, &self.decoding_key, &self.validation)
                .map_err(|error| map_library_error(error.kind()))?;
        let DecodedClaims {
            sub,
            iat,
            exp,
            iss,
            nbf,
            hasura,
        } = decoded.claims;

        // The library has already compared a present issuer with the configured one.
        let Some(iss) = iss else {
            return Err(JwtError::WrongIssuer);
        };
        let session = SessionClaims {
            sub,
            iat,
            exp,
            iss,
            hasura,
        };

        if now >= session.exp.saturating_add(self.leeway_seconds) {
            return Err(JwtError::Expired);
        }

        let latest_valid_start = now.saturating_add(self.leeway_seconds);
        if session.iat > latest_valid_start || nbf.is_some_and(|nbf| nbf > latest_valid_start) {
            return Err(JwtError::NotYetValid);
        }

        // Only the signer could have produced these defects, but the claims are handed
        // to Hasura, so they are checked instead of trusted. The message stays generic
        // because it must not echo token content.
        if find_hasura_claims_problem(&session.hasura).is_some()
            || session.sub != session.hasura.user_id
        {
            return Err(JwtError::Malformed(
                "Hasura claims are inconsistent".to_owned(),
            ));
        }

        Ok(session)
    }
}

/// Creates a random 64-byte HS256 secret for a freshly installed server.
pub fn generate_secret() -> Vec<u8> {
    let mut secret = vec![0_u8; GENERATED_SECRET_BYTES];
    OsRng.fill_bytes(&mut secret);
    secret
}

/// Checks the number of parts and the algorithm before the library runs, so that
/// `alg: none` and other algorithms are reported as such instead of as a JSON error.
fn check_header(token: &str) -> Result<(), JwtError> {
    let parts: Vec<&str> = token.split('.').collect();
    let [encoded_header, _, _] = parts.as_slice() else {
        return Err(JwtError::Malformed(format!(
            "Invalid number of parts: Expected 3 parts; got {}",
            parts.len()
        )));
    };

    let header_json = URL_SAFE_NO_PAD
        .decode(encoded_header)
        .map_err(|_| JwtError::Malformed("the header is not valid base64url".to_owned()))?;
    let header: DecodedHeader = serde_json::from_slice(&header_json).map_err(|_| {
        JwtError::Malformed("the header is not a JSON object with a string alg".to_owned())
    })?;

    if header.alg != "HS256" {
        return Err(JwtError::WrongAlgorithm);
    }

    Ok(())
}

/// Maps a jsonwebtoken error to a [`JwtError`] whose text contains no token content,
/// which rules out forwarding the library's JSON and base64 messages.
fn map_library_error(kind: &ErrorKind) -> JwtError {
    match kind {
        ErrorKind::InvalidSignature => JwtError::InvalidSignature,
        ErrorKind::InvalidAlgorithm
        | ErrorKind::InvalidAlgorithmName
        | ErrorKind::UnsupportedAlgorithm => JwtError::WrongAlgorithm,
        ErrorKind::InvalidIssuer => JwtError::WrongIssuer,
        ErrorKind::MissingRequiredClaim(claim) if claim == "iss" => JwtError::WrongIssuer,
        ErrorKind::ExpiredSignature => JwtError::Expired,
        ErrorKind::ImmatureSignature => JwtError::NotYetValid,

        // The claim names come from this module's required list, not from the token.
        ErrorKind::MissingRequiredClaim(claim) => {
            JwtError::Malformed(format!("the required claim {claim} is missing"))
        }
        ErrorKind::InvalidClaimFormat(claim) => {
            JwtError::Malformed(format!("the claim {claim} has an invalid type"))
        }
        ErrorKind::InvalidAudience => {
            JwtError::Malformed("the token has an aud claim, which sessions never carry".to_owned())
        }
        ErrorKind::Base64(_) => JwtError::Malformed("a part is not valid base64url".to_owned()),
        ErrorKind::Json(_) | ErrorKind::Utf8(_) => JwtError::Malformed(
            "the header or the claims do not have the expected JSON shape".to_owned(),
        ),
        _ => JwtError::Malformed("the token is not a valid compact JWS".to_owned()),
    }
}

/// Describes the first rule of Hasura session claims that `claims` breaks, or returns
/// `None` when it breaks none.
fn find_hasura_claims_problem(claims: &HasuraClaims) -> Option<String> {
    if claims.allowed_roles.is_empty() {
        return Some("x-hasura-allowed-roles must contain at least one role".to_owned());
    }

    if claims.allowed_roles.iter().any(String::is_empty) {
        return Some("x-hasura-allowed-roles must not contain an empty role name".to_owned());
    }

    if !claims.allowed_roles.contains(&claims.default_role) {
        return Some(format!(
            "x-hasura-default-role {:?} must be one of x-hasura-allowed-roles {:?}",
            claims.default_role, claims.allowed_roles
        ));
    }

    // Hasura's documentation states that session variable names are case-insensitive.
    for key in claims.extra.keys() {
        let lowercase_key = key.to_ascii_lowercase();

        if !lowercase_key.starts_with(HASURA_CLAIM_PREFIX)
            || lowercase_key.len() == HASURA_CLAIM_PREFIX.len()
        {
            return Some(format!(
                "extra claim {key:?} must be a session variable named x-hasura-<name>"
            ));
        }

        if RESERVED_HASURA_CLAIMS.contains(&lowercase_key.as_str()) {
            return Some(format!(
                "extra claim {key:?} repeats a claim that has its own parameter, so pass it there"
            ));
        }
    }

    None
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test-secret";
    const ISSUER: &str = "https://ombud.test";
    const LEEWAY: u64 = 30;
    const NOW: i64 = 1_700_000_000;
    const TTL: u64 = 900;

    fn codec() -> JwtCodec {
        JwtCodec::new(SECRET, ISSUER.to_owned(), LEEWAY).expect("codec")
    }

    fn user_id() -> Uuid {
        Uuid::from_u128(0x0f3c_5a9e_0000_4000_8000_0000_0000_0001)
    }

    fn issue_at(codec: &JwtCodec, now: i64) -> String {
        let extra = BTreeMap::from([("x-hasura-org-id".to_owned(), "42".to_owned())]);
        codec
            .issue(
                user_id(),
                vec!["user".to_owned(), "admin".to_owned()],
                "user".to_owned(),
                extra,
                TTL,
                now,
            )
            .expect("issue")
    }

    fn decode_part(part: &str) -> Value {
        let bytes = URL_SAFE_NO_PAD.decode(part).expect("base64url part");
        serde_json::from_slice(&bytes).expect("JSON part")
    }

    fn sign_json(claims: &Value, algorithm: Algorithm, secret: &[u8]) -> String {
        let key = EncodingKey::from_secret(secret).expect("key");
        jsonwebtoken::encode(&Header::new(algorithm), claims, &key).expect("encode")
    }

    fn valid_claims_json() -> Value {
        json!({
            "sub": user_id().to_string(),
            "iat": NOW,
            "exp": NOW + 900,
            "iss": ISSUER,
            "https://hasura.io/jwt/claims": {
                "x-hasura-allowed-roles": ["user"],
                "x-hasura-default-role": "user",
                "x-hasura-user-id": user_id().to_string(),
            },
        })
    }

    // This test also proves that jsonwebtoken has a crypto backend: without exactly one
    // backend feature, encoding panics.
    #[test]
    fn round_trip_returns_claims() {
        let codec = codec();
        let token = issue_at(&codec, NOW);

        let claims = codec.verify(&token, NOW + 10);

        let expected = SessionClaims {
            sub: user_id().to_string(),
            iat: NOW,
            exp: NOW + 900,
            iss: ISSUER.to_owned(),
            hasura: HasuraClaims {
                allowed_roles: vec!["user".to_owned(), "admin".to_owned()],
                default_role: "user".to_owned(),
                user_id: user_id().to_string(),
                extra: BTreeMap::from([("x-hasura-org-id".to_owned(), "42".to_owned())]),
            },
        };
        assert_eq!(claims, Ok(expected));
    }

    #[test]
    fn round_trip_payload_json_shape() {
        let token = issue_at(&codec(), NOW);
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);

        let header = decode_part(parts[0]);
        assert_eq!(header["alg"], json!("HS256"));

        let payload = decode_part(parts[1]);
        let expected = json!({
            "sub": user_id().to_string(),
            "iat": NOW,
            "exp": NOW + 900,
            "iss": ISSUER,
            "https://hasura.io/jwt/claims": {
                "x-hasura-allowed-roles": ["user", "admin"],
                "x-hasura-default-role": "user",
                "x-hasura-user-id": user_id().to_string(),
                "x-hasura-org-id": "42",
            },
        });
        assert_eq!(payload, expected);

        let hasura = &payload["https://hasura.io/jwt/claims"];
        assert!(hasura["x-hasura-allowed-roles"].is_array());
        assert!(hasura["x-hasura-user-id"].is_string());
    }

    #[test]
    fn verify_rejects_expired() {
        let codec = codec();
        let token = issue_at(&codec, NOW);
        let exp = NOW + 900;

        let result = codec.verify(&token, exp + 30);

        assert_eq!(result, Err(JwtError::Expired));
        assert_eq!(
            JwtError::Expired.message(),
            "Could not verify JWT: JWTExpired"
        );
    }

    #[test]
    fn verify_accepts_within_leeway() {
        let codec = codec();
        let token = issue_at(&codec, NOW);
        let exp = NOW + 900;

        let late = codec.verify(&token, exp + 29).map(|claims| claims.exp);
        assert_eq!(late, Ok(exp));

        // A token issued slightly in the future, by a server with a faster clock.
        let early = codec.verify(&token, NOW - 30).map(|claims| claims.iat);
        assert_eq!(early, Ok(NOW));
    }

    #[test]
    fn verify_rejects_not_yet_valid() {
        let codec = codec();
        let token = issue_at(&codec, NOW);

        let result = codec.verify(&token, NOW - 31);

        assert_eq!(result, Err(JwtError::NotYetValid));
        assert_eq!(
            JwtError::NotYetValid.message(),
            "Could not verify JWT: JWTNotYetValid"
        );
    }

    #[test]
    fn verify_rejects_future_nbf() {
        let mut claims = valid_claims_json();
        claims["nbf"] = json!(NOW + 31);
        let token = sign_json(&claims, Algorithm::HS256, SECRET);

        assert_eq!(codec().verify(&token, NOW), Err(JwtError::NotYetValid));

        claims["nbf"] = json!(NOW + 30);
        let token = sign_json(&claims, Algorithm::HS256, SECRET);
        assert!(codec().verify(&token, NOW).is_ok());
    }

    #[test]
    fn verify_rejects_wrong_key() {
        let other = JwtCodec::new(&[7_u8; 32], ISSUER.to_owned(), LEEWAY).expect("codec");
        let token = issue_at(&other, NOW);

        let result = codec().verify(&token, NOW);

        assert_eq!(result, Err(JwtError::InvalidSignature));
        assert_eq!(
            JwtError::InvalidSignature.message(),
            "Could not verify JWT: JWSError JWSInvalidSignature"
        );
    }

    #[test]
    fn verify_rejects_wrong_issuer() {
        let other =
            JwtCodec::new(SECRET, "https://elsewhere.test".to_owned(), LEEWAY).expect("codec");
        let token = issue_at(&other, NOW);

        let result = codec().verify(&token, NOW);

        assert_eq!(result, Err(JwtError::WrongIssuer));
        assert_eq!(
            JwtError::WrongIssuer.message(),
            "Could not verify JWT: JWTNotInIssuer"
        );
    }

    #[test]
    fn verify_rejects_missing_issuer() {
        let mut claims = valid_claims_json();
        if let Some(object) = claims.as_object_mut() {
            object.remove("iss");
        }
        let token = sign_json(&claims, Algorithm::HS256, SECRET);

        assert_eq!(codec().verify(&token, NOW), Err(JwtError::WrongIssuer));
    }

    #[test]
    fn verify_rejects_missing_exp() {
        let mut claims = valid_claims_json();
        if let Some(object) = claims.as_object_mut() {
            object.remove("exp");
        }
        let token = sign_json(&claims, Algorithm::HS256, SECRET);

        let result = codec().verify(&token, NOW);

        assert!(matches!(result, Err(JwtError::Malformed(_))), "{result:?}");
    }

    #[test]
    fn verify_rejects_alg_none() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(valid_claims_json().to_string());

        let unsigned = codec().verify(&format!("{header}.{payload}."), NOW);
        assert_eq!(unsigned, Err(JwtError::WrongAlgorithm));
        assert_eq!(
            JwtError::WrongAlgorithm.message(),
            "Could not verify JWT: JWSError (AlgorithmMismatch \"expected HS256\")"
        );

        // Some encoders drop the trailing dot of an unsigned token.
        let two_parts = codec().verify(&format!("{header}.{payload}"), NOW);
        assert!(
            matches!(two_parts, Err(JwtError::Malformed(_))),
            "{two_parts:?}"
        );
    }

    #[test]
    fn verify_rejects_other_hmac_algorithm() {
        let token = sign_json(&valid_claims_json(), Algorithm::HS512, SECRET);

        assert_eq!(codec().verify(&token, NOW), Err(JwtError::WrongAlgorithm));
    }

    #[test]
    fn verify_rejects_garbage() {
        let cases = ["", "not-a-jwt", "a.b", "a.b.c.d", "!!!.???.***"];

        for token in cases {
            let result = codec().verify(token, NOW);

            let Err(JwtError::Malformed(detail)) = &result else {
                panic!("{token:?}: expected Malformed, got {result:?}");
            };
            let message = result.as_ref().map_err(JwtError::message).err();
            assert!(
                message
                    .as_deref()
                    .is_some_and(|message| message.starts_with("Could not verify JWT: JWSError (")),
                "{token:?}: {message:?}"
            );
            if token.len() > 3 {
                assert!(!detail.contains(token), "{token:?} leaked into {detail:?}");
            }
        }
    }

    #[test]
    fn verify_garbage_reports_part_count() {
        let result = codec().verify("not-a-jwt", NOW);

        assert_eq!(
            result.map_err(|error| error.message()),
            Err(
                "Could not verify JWT: JWSError (CompactDecodeError Invalid number of parts: \
                 Expected 3 parts; got 1)"
                    .to_owned()
            )
        );
    }

    #[test]
    fn verify_rejects_signed_non_json_payload() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(b"not json");
        let message = format!("{header}.{payload}");
        let key = EncodingKey::from_secret(SECRET).expect("key");
        let signature =
            jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::HS256).expect("sign");
        let token = format!("{message}.{signature}");

        let result = codec().verify(&token, NOW);

        assert_eq!(
            result,
            Err(JwtError::Malformed(
                "the header or the claims do not have the expected JSON shape".to_owned()
            ))
        );
    }

    #[test]
    fn verify_rejects_tampered_payload() {
        let token = issue_at(&codec(), NOW);
        let parts: Vec<&str> = token.split('.').collect();
        let mut payload = decode_part(parts[1]);
        payload["https://hasura.io/jwt/claims"]["x-hasura-default-role"] = json!("admin");
        let forged_payload = URL_SAFE_NO_PAD.encode(payload.to_string());
        let forged = format!("{}.{forged_payload}.{}", parts[0], parts[2]);

        assert_eq!(
            codec().verify(&forged, NOW),
            Err(JwtError::InvalidSignature)
        );
    }

    #[test]
    fn verify_rejects_inconsistent_hasura_claims() {
        let mut claims = valid_claims_json();
        claims["https://hasura.io/jwt/claims"]["x-hasura-default-role"] = json!("admin");
        let token = sign_json(&claims, Algorithm::HS256, SECRET);

        let result = codec().verify(&token, NOW);

        assert!(matches!(result, Err(JwtError::Malformed(_))), "{result:?}");
    }

    #[test]
    fn new_rejects_short_secret() {
        let result = JwtCodec::new(&[1_u8; 31], ISSUER.to_owned(), LEEWAY);

        let Err(error) = result else {
            panic!("a 31-byte secret was accepted");
        };
        assert!(matches!(
            error,
            AuthError::JwtSecretTooShort {
                length: 31,
                minimum: 32
            }
        ));
        assert!(error.to_string().contains("at least 32 bytes"), "{error}");
    }

    #[test]
    fn debug_hides_secret() {
        let debug = format!("{:?}", codec());

        assert!(debug.contains(ISSUER), "{debug}");
        assert!(!debug.contains("0123456789abcdef"), "{debug}");
        assert!(!debug.contains("48, 49, 50"), "{debug}");
    }

    #[test]
    fn generate_secret_is_random_64_bytes() {
        let first = generate_secret();
        let second = generate_secret();

        assert_eq!(first.len(), 64);
        assert_ne!(first, second);
        assert!(JwtCodec::new(&first, ISSUER.to_owned(), 0).is_ok());
    }

    #[test]
    fn issue_rejects_bad_hasura_claims() {
        let codec = codec();
        let roles = || vec!["user".to_owned()];
        let one = |key: &str| BTreeMap::from([(key.to_owned(), "1".to_owned())]);

        let cases = [
            (Vec::new(), "user", BTreeMap::new(), "at least one role"),
            (roles(), "admin", BTreeMap::new(), "must be one of"),
            (roles(), "user", one("org-id"), "x-hasura-<name>"),
            (roles(), "user", one("x-hasura-"), "x-hasura-<name>"),
            (
                roles(),
                "user",
                one("X-Hasura-User-Id"),
                "its own parameter",
            ),
        ];

        for (allowed_roles, default_role, extra, expected) in cases {
            let result = codec.issue(
                user_id(),
                allowed_roles,
                default_role.to_owned(),
                extra,
                TTL,
                NOW,
            );

            let Err(AuthError::InvalidClaims(problem)) = result else {
                panic!("expected InvalidClaims containing {expected:?}, got {result:?}");
            };
            assert!(problem.contains(expected), "{problem}");
        }
    }

    #[test]
    fn issue_rejects_zero_and_overflowing_ttl() {
        let codec = codec();

        for (ttl, now) in [(0, NOW), (u64::MAX, NOW), (10, i64::MAX - 5)] {
            let result = codec.issue(
                user_id(),
                vec!["user".to_owned()],
                "user".to_owned(),
                BTreeMap::new(),
                ttl,
                now,
            );

            assert!(
                matches!(result, Err(AuthError::InvalidClaims(_))),
                "ttl {ttl}, now {now}: {result:?}"
            );
        }
    }
}
