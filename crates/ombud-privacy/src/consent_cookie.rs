//! Consent cookies: compact JWS tokens (RFC 7515) that carry a data subject's consent
//! choices, signed with Ed25519 as the `EdDSA` algorithm of RFC 8037.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{SECRET_KEY_LENGTH, Signature, Signer, SigningKey, VerifyingKey};
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha3::{Digest, Sha3_256};
use uuid::Uuid;

use crate::PrivacyError;

const ALGORITHM: &str = "EdDSA";
const KEY_ID_HEX_LENGTH: usize = 16;

/// Claims of a consent cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentCookieClaims {
    /// Id of the data subject whose choices the cookie carries.
    pub sub: Uuid,
    /// Id of the data controller that collected the choices, serialized as `dataControllerId`.
    pub data_controller_id: Uuid,
    /// Choice per purpose id, `true` where consent is granted.
    pub purposes: BTreeMap<String, bool>,
    /// Issue time in seconds since the Unix epoch.
    pub iat: i64,
}

impl ConsentCookieClaims {
    /// Builds the JSON payload by hand so that `sign` needs no error path, because
    /// `serde_json::to_vec` returns a `Result`. The test `payload_matches_serde_form`
    /// checks that this form equals the derived `Serialize` output.
    fn to_json(&self) -> Value {
        let purposes = self
            .purposes
            .iter()
            .map(|(purpose_id, granted)| (purpose_id.clone(), Value::Bool(*granted)))
            .collect::<Map<String, Value>>();

        let mut claims = Map::new();
        claims.insert("sub".to_owned(), Value::String(self.sub.to_string()));
        claims.insert(
            "dataControllerId".to_owned(),
            Value::String(self.data_controller_id.to_string()),
        );
        claims.insert("purposes".to_owned(), Value::Object(purposes));
        claims.insert("iat".to_owned(), Value::from(self.iat));
        Value::Object(claims)
    }
}

/// Ed25519 key that signs consent cookies, with its key id (`kid`).
///
/// The kid is the first 16 lowercase hex characters of the SHA3-256 of the public key,
/// so the same secret always yields the same kid. `Debug` prints only the kid.
#[derive(Clone)]
pub struct ConsentCookieSigner {
    signing_key: SigningKey,
    key_id: String,
}

impl ConsentCookieSigner {
    /// Generates a new key from the operating system's random number generator.
    pub fn generate() -> Self {
        Self::from_signing_key(SigningKey::generate(&mut OsRng))
    }

    /// Restores a key from the 32 secret bytes that `secret_bytes` returned.
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self, PrivacyError> {
        let secret: [u8; SECRET_KEY_LENGTH] =
            bytes
                .try_into()
                .map_err(|_| PrivacyError::InvalidSecretKeyLength {
                    length: bytes.len(),
                })?;

        Ok(Self::from_signing_key(SigningKey::from_bytes(&secret)))
    }

    /// Returns the 32-byte Ed25519 secret key, for storage by the caller.
    pub fn secret_bytes(&self) -> [u8; SECRET_KEY_LENGTH] {
        self.signing_key.to_bytes()
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Signs the claims and returns a compact JWS without base64 padding.
    pub fn sign(&self, claims: &ConsentCookieClaims) -> String {
        // The kid contains only hex digits, so it needs no JSON escaping. Formatting by
        // hand keeps the header fields in this exact order.
        let header = format!(
            r#"{{"alg":"{ALGORITHM}","typ":"JWT","kid":"{}"}}"#,
            self.key_id
        );
        let payload = claims.to_json().to_string();

        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature = self.signing_key.sign(signing_input.as_bytes());

        format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        )
    }

    /// Returns the public key as a JWK (RFC 8037 `OKP` key type) for publication.
    pub fn jwk(&self) -> Value {
        let public_key = URL_SAFE_NO_PAD.encode(self.signing_key.verifying_key().as_bytes());

        let mut jwk = Map::new();
        jwk.insert("kty".to_owned(), Value::from("OKP"));
        jwk.insert("crv".to_owned(), Value::from("Ed25519"));
        jwk.insert("x".to_owned(), Value::from(public_key));
        jwk.insert("kid".to_owned(), Value::from(self.key_id.as_str()));
        jwk.insert("alg".to_owned(), Value::from(ALGORITHM));
        jwk.insert("use".to_owned(), Value::from("sig"));
        Value::Object(jwk)
    }

    fn from_signing_key(signing_key: SigningKey) -> Self {
        let key_id = key_id_for(&signing_key.verifying_key());
        Self {
            signing_key,
            key_id,
        }
    }
}

impl fmt::Debug for ConsentCookieSigner {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ConsentCookieSigner")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// Verifies a consent cookie against the public JWK of its signer and returns its claims.
///
/// The header must name alg `EdDSA` and the kid of the JWK, and must not carry critical
/// (`crit`) parameters. Signatures are checked with ed25519-dalek 2's `verify_strict`,
/// which also rejects small-order public keys and signature points.
pub fn verify(jws: &str, public_jwk: &Value) -> Result<ConsentCookieClaims, PrivacyError> {
    let (verifying_key, jwk_key_id) = parse_jwk(public_jwk)?;

    let segments = jws.split('.').collect::<Vec<_>>();
    let [header_segment, payload_segment, signature_segment] = segments[..] else {
        return Err(malformed(format!(
            "expected 3 dot-separated segments, found {}",
            segments.len()
        )));
    };

    let header = decode_segment("header", header_segment)?;
    let header: Value = serde_json::from_slice(&header)
        .map_err(|error| malformed(format!("header is not JSON: {error}")))?;
    check_header(&header, jwk_key_id)?;

    let signature = decode_segment("signature", signature_segment)?;
    let signature = Signature::from_slice(&signature).map_err(|_| {
        malformed(format!(
            "signature has {} bytes, expected 64",
            signature.len()
        ))
    })?;

    let signing_input = &jws[..header_segment.len() + 1 + payload_segment.len()];
    verifying_key
        .verify_strict(signing_input.as_bytes(), &signature)
        .map_err(|_| PrivacyError::InvalidSignature)?;

    let payload = decode_segment("payload", payload_segment)?;
    serde_json::from_slice(&payload).map_err(|error| PrivacyError::InvalidClaims {
        reason: error.to_string(),
    })
}

fn key_id_for(verifying_key: &VerifyingKey) -> String {
    let digest = Sha3_256::digest(verifying_key.as_bytes());
    let mut key_id = hex::encode(digest);
    key_id.truncate(KEY_ID_HEX_LENGTH);
    key_id
}

/// Checks the header fields that `verify` relies on. The kid must equal `jwk_key_id`.
fn check_header(header: &Value, jwk_key_id: &str) -> Result<(), PrivacyError> {
    let Value::Object(header) = header else {
        return Err(malformed("header is not a JSON object".to_owned()));
    };

    let Some(algorithm) = header.get("alg").and_then(Value::as_str) else {
        return Err(malformed("header has no alg string".to_owned()));
    };
    if algorithm != ALGORITHM {
        return Err(PrivacyError::UnsupportedAlgorithm {
            found: algorithm.to_owned(),
        });
    }

    // RFC 7515 requires rejecting a token whose critical extensions are not understood,
    // and this verifier understands none.
    if header.contains_key("crit") {
        return Err(malformed(
            "critical header parameters (crit) are not supported".to_owned(),
        ));
    }

    let Some(token_key_id) = header.get("kid").and_then(Value::as_str) else {
        return Err(malformed("header has no kid string".to_owned()));
    };
    if token_key_id != jwk_key_id {
        return Err(PrivacyError::KeyIdMismatch {
            token_kid: token_key_id.to_owned(),
            jwk_kid: jwk_key_id.to_owned(),
        });
    }

    Ok(())
}

/// Reads the Ed25519 public key and kid from a JWK as produced by
/// `ConsentCookieSigner::jwk`. `alg` and `use` are optional but must match when present.
fn parse_jwk(jwk: &Value) -> Result<(VerifyingKey, &str), PrivacyError> {
    let Value::Object(jwk) = jwk else {
        return Err(invalid_jwk("expected a JSON object".to_owned()));
    };

    let expected_members = [("kty", "OKP"), ("crv", "Ed25519")];
    for (name, expected) in expected_members {
        let found = jwk.get(name).and_then(Value::as_str);
        if found != Some(expected) {
            return Err(invalid_jwk(format!(
                "{name} must be {expected:?}, found {found:?}"
            )));
        }
    }

    let optional_members = [("alg", ALGORITHM), ("use", "sig")];
    for (name, expected) in optional_members {
        if let Some(found) = jwk.get(name)
            && found.as_str() != Some(expected)
        {
            return Err(invalid_jwk(format!(
                "{name} must be {expected:?}, found {found}"
            )));
        }
    }

    let Some(key_id) = jwk.get("kid").and_then(Value::as_str) else {
        return Err(invalid_jwk("kid is missing or not a string".to_owned()));
    };

    let Some(public_key) = jwk.get("x").and_then(Value::as_str) else {
        return Err(invalid_jwk("x is missing or not a string".to_owned()));
    };
    let public_key = URL_SAFE_NO_PAD
        .decode(public_key)
        .map_err(|error| invalid_jwk(format!("x is not unpadded base64url: {error}")))?;
    let public_key: [u8; 32] = public_key
        .as_slice()
        .try_into()
        .map_err(|_| invalid_jwk(format!("x has {} bytes, expected 32", public_key.len())))?;
    let verifying_key = VerifyingKey::from_bytes(&public_key)
        .map_err(|_| invalid_jwk("x is not a valid Ed25519 public key".to_owned()))?;

    Ok((verifying_key, key_id))
}

fn decode_segment(name: &str, segment: &str) -> Result<Vec<u8>, PrivacyError> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|error| malformed(format!("{name} is not unpadded base64url: {error}")))
}

fn malformed(reason: String) -> PrivacyError {
    PrivacyError::MalformedToken { reason }
}

fn invalid_jwk(reason: String) -> PrivacyError {
    PrivacyError::InvalidJwk { reason }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use ed25519_dalek::Verifier;
    use serde_json::json;

    use super::*;

    fn claims() -> ConsentCookieClaims {
        ConsentCookieClaims {
            sub: Uuid::parse_str("123e4567-e89b-12d3-a456-426614174000").unwrap(),
            data_controller_id: Uuid::parse_str("00000000-0000-4000-8000-00000000c0de").unwrap(),
            purposes: BTreeMap::from([
                ("00000000-0000-4000-8000-000000000001".to_owned(), true),
                ("00000000-0000-4000-8000-000000000002".to_owned(), false),
            ]),
            iat: 1_750_000_000,
        }
    }

    fn segments(jws: &str) -> Vec<String> {
        jws.split('.').map(str::to_owned).collect()
    }

    fn decode_json(segment: &str) -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
    }

    /// Signs any header and payload text, for tests that need a valid signature over a
    /// header that `sign` never produces.
    fn sign_raw(signer: &ConsentCookieSigner, header: &str, payload: &str) -> String {
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature = signer.signing_key.sign(signing_input.as_bytes());
        format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        )
    }

    #[test]
    fn sign_verify_round_trip() {
        let signer = ConsentCookieSigner::generate();

        let jws = signer.sign(&claims());

        assert_eq!(verify(&jws, &signer.jwk()), Ok(claims()));
    }

    #[test]
    fn header_has_exactly_three_fields() {
        let signer = ConsentCookieSigner::generate();
        let jws = signer.sign(&claims());
        let header_segment = &segments(&jws)[0];

        let header = String::from_utf8(URL_SAFE_NO_PAD.decode(header_segment).unwrap()).unwrap();

        assert_eq!(
            header,
            format!(
                r#"{{"alg":"EdDSA","typ":"JWT","kid":"{}"}}"#,
                signer.key_id()
            )
        );
        assert_eq!(
            serde_json::from_str::<Value>(&header).unwrap(),
            json!({ "alg": "EdDSA", "typ": "JWT", "kid": signer.key_id() })
        );
    }

    #[test]
    fn token_has_no_padding() {
        let jws = ConsentCookieSigner::generate().sign(&claims());

        assert_eq!(segments(&jws).len(), 3);
        assert!(!jws.contains('='));
        assert!(!jws.contains('+'));
        assert!(!jws.contains('/'));
    }

    #[test]
    fn payload_uses_camel_case() {
        let jws = ConsentCookieSigner::generate().sign(&claims());

        let payload = decode_json(&segments(&jws)[1]);

        assert_eq!(
            payload,
            json!({
                "sub": "123e4567-e89b-12d3-a456-426614174000",
                "dataControllerId": "00000000-0000-4000-8000-00000000c0de",
                "purposes": {
                    "00000000-0000-4000-8000-000000000001": true,
                    "00000000-0000-4000-8000-000000000002": false,
                },
                "iat": 1_750_000_000,
            })
        );
    }

    #[test]
    fn payload_matches_serde_form() {
        assert_eq!(claims().to_json(), serde_json::to_value(claims()).unwrap());
    }

    #[test]
    fn tampered_payload_fails() {
        let signer = ConsentCookieSigner::generate();
        let parts = segments(&signer.sign(&claims()));

        let mut tampered_claims = claims();
        tampered_claims
            .purposes
            .insert("00000000-0000-4000-8000-000000000002".to_owned(), true);
        let tampered_payload = URL_SAFE_NO_PAD.encode(tampered_claims.to_json().to_string());
        let tampered = format!("{}.{}.{}", parts[0], tampered_payload, parts[2]);

        assert_eq!(
            verify(&tampered, &signer.jwk()),
            Err(PrivacyError::InvalidSignature)
        );
    }

    #[test]
    fn tampered_signature_fails() {
        let signer = ConsentCookieSigner::generate();
        let parts = segments(&signer.sign(&claims()));

        let mut signature = URL_SAFE_NO_PAD.decode(&parts[2]).unwrap();
        signature[0] ^= 0x01;
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            parts[1],
            URL_SAFE_NO_PAD.encode(signature)
        );

        assert_eq!(
            verify(&tampered, &signer.jwk()),
            Err(PrivacyError::InvalidSignature)
        );
    }

    #[test]
    fn different_key_fails() {
        let signer = ConsentCookieSigner::generate();
        let other = ConsentCookieSigner::generate();
        let jws = signer.sign(&claims());

        let error = verify(&jws, &other.jwk()).unwrap_err();
        assert_eq!(
            error,
            PrivacyError::KeyIdMismatch {
                token_kid: signer.key_id().to_owned(),
                jwk_kid: other.key_id().to_owned(),
            }
        );

        // A JWK that claims the signer's kid but carries another key still fails.
        let mut forged_jwk = other.jwk();
        forged_jwk["kid"] = Value::from(signer.key_id());
        assert_eq!(
            verify(&jws, &forged_jwk),
            Err(PrivacyError::InvalidSignature)
        );
    }

    #[test]
    fn signature_verifies_with_jwk_x() {
        let signer = ConsentCookieSigner::generate();
        let jws = signer.sign(&claims());
        let parts = segments(&jws);

        let jwk = signer.jwk();
        let x = URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap();
        let verifying_key = VerifyingKey::from_bytes(&x.try_into().unwrap()).unwrap();
        let signature = Signature::from_slice(&URL_SAFE_NO_PAD.decode(&parts[2]).unwrap()).unwrap();
        let signing_input = format!("{}.{}", parts[0], parts[1]);

        assert!(
            verifying_key
                .verify(signing_input.as_bytes(), &signature)
                .is_ok()
        );
        assert!(verifying_key.verify(b"other input", &signature).is_err());
    }

    #[test]
    fn jwk_has_expected_members() {
        let signer = ConsentCookieSigner::generate();
        let public_key = URL_SAFE_NO_PAD.encode(signer.signing_key.verifying_key().as_bytes());

        assert_eq!(
            signer.jwk(),
            json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": public_key,
                "kid": signer.key_id(),
                "alg": "EdDSA",
                "use": "sig",
            })
        );
    }

    #[test]
    fn key_id_is_sha3_prefix() {
        let signer = ConsentCookieSigner::generate();
        let public_key = signer.signing_key.verifying_key().to_bytes();

        let expected = hex::encode(Sha3_256::digest(public_key));

        assert_eq!(signer.key_id().len(), 16);
        assert_eq!(signer.key_id(), &expected[..16]);
    }

    #[test]
    fn secret_bytes_restore_same_key() {
        let signer = ConsentCookieSigner::generate();

        let restored = ConsentCookieSigner::from_secret_bytes(&signer.secret_bytes()).unwrap();

        assert_eq!(restored.key_id(), signer.key_id());
        assert_eq!(restored.jwk(), signer.jwk());
        assert_eq!(
            verify(&restored.sign(&claims()), &signer.jwk()),
            Ok(claims())
        );
    }

    #[test]
    fn fixed_secret_gives_fixed_key_id() {
        let first = ConsentCookieSigner::from_secret_bytes(&[7; 32]).unwrap();
        let second = ConsentCookieSigner::from_secret_bytes(&[7; 32]).unwrap();
        let other = ConsentCookieSigner::from_secret_bytes(&[8; 32]).unwrap();

        assert_eq!(first.key_id(), second.key_id());
        assert_ne!(first.key_id(), other.key_id());
        assert!(
            first
                .key_id()
                .chars()
                .all(|c| matches!(c, '0'..='9' | 'a'..='f'))
        );
    }

    #[test]
    fn secret_of_wrong_length_rejected() {
        for length in [0, 31, 33, 64] {
            let error = ConsentCookieSigner::from_secret_bytes(&vec![1; length]).unwrap_err();

            assert_eq!(error, PrivacyError::InvalidSecretKeyLength { length });
        }
    }

    #[test]
    fn debug_prints_only_key_id() {
        let signer = ConsentCookieSigner::from_secret_bytes(&[0xab; 32]).unwrap();

        let debug = format!("{signer:?}");

        assert_eq!(
            debug,
            format!(
                "ConsentCookieSigner {{ key_id: {:?}, .. }}",
                signer.key_id()
            )
        );
        assert!(!debug.contains("abab"));
        assert!(!debug.contains("171"));
    }

    #[test]
    fn other_algorithm_rejected() {
        let signer = ConsentCookieSigner::generate();
        let header = format!(
            r#"{{"alg":"HS256","typ":"JWT","kid":"{}"}}"#,
            signer.key_id()
        );
        let jws = sign_raw(&signer, &header, &claims().to_json().to_string());

        assert_eq!(
            verify(&jws, &signer.jwk()),
            Err(PrivacyError::UnsupportedAlgorithm {
                found: "HS256".to_owned()
            })
        );
    }

    #[test]
    fn missing_kid_rejected() {
        let signer = ConsentCookieSigner::generate();
        let jws = sign_raw(
            &signer,
            r#"{"alg":"EdDSA","typ":"JWT"}"#,
            &claims().to_json().to_string(),
        );

        let error = verify(&jws, &signer.jwk()).unwrap_err();

        assert_eq!(
            error,
            PrivacyError::MalformedToken {
                reason: "header has no kid string".to_owned()
            }
        );
    }

    #[test]
    fn critical_header_rejected() {
        let signer = ConsentCookieSigner::generate();
        let header = format!(
            r#"{{"alg":"EdDSA","kid":"{}","crit":["exp"],"exp":1}}"#,
            signer.key_id()
        );
        let jws = sign_raw(&signer, &header, &claims().to_json().to_string());

        let error = verify(&jws, &signer.jwk()).unwrap_err();

        assert!(
            matches!(error, PrivacyError::MalformedToken { ref reason } if reason.contains("crit"))
        );
    }

    #[test]
    fn signed_payload_without_claims_rejected() {
        let signer = ConsentCookieSigner::generate();
        let header = format!(
            r#"{{"alg":"EdDSA","typ":"JWT","kid":"{}"}}"#,
            signer.key_id()
        );
        let jws = sign_raw(&signer, &header, r#"{"sub":"not a uuid"}"#);

        let error = verify(&jws, &signer.jwk()).unwrap_err();

        assert!(
            matches!(error, PrivacyError::InvalidClaims { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn malformed_tokens_rejected() {
        let signer = ConsentCookieSigner::generate();
        let jws = signer.sign(&claims());
        let parts = segments(&jws);

        let cases = [
            String::new(),
            format!("{}.{}", parts[0], parts[1]),
            format!("{jws}.extra"),
            format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
            format!("{}.{}.{}", parts[0], parts[1], &parts[2][..20]),
            format!(
                "{}.{}.{}",
                URL_SAFE_NO_PAD.encode("not json"),
                parts[1],
                parts[2]
            ),
        ];

        for token in cases {
            let error = verify(&token, &signer.jwk()).unwrap_err();

            assert!(
                matches!(error, PrivacyError::MalformedToken { .. }),
                "{token:?} gave {error:?}"
            );
        }
    }

    #[test]
    fn invalid_jwk_rejected() {
        let signer = ConsentCookieSigner::generate();
        let jws = signer.sign(&claims());
        let valid = signer.jwk();

        let mut wrong_kty = valid.clone();
        wrong_kty["kty"] = json!("EC");
        let mut wrong_crv = valid.clone();
        wrong_crv["crv"] = json!("X25519");
        let mut wrong_alg = valid.clone();
        wrong_alg["alg"] = json!("ES256");
        let mut wrong_use = valid.clone();
        wrong_use["use"] = json!("enc");
        let mut short_x = valid.clone();
        short_x["x"] = json!(URL_SAFE_NO_PAD.encode([1u8; 31]));
        let mut missing_kid = valid.clone();
        missing_kid.as_object_mut().unwrap().remove("kid");

        for jwk in [
            json!("key"),
            wrong_kty,
            wrong_crv,
            wrong_alg,
            wrong_use,
            short_x,
            missing_kid,
        ] {
            let error = verify(&jws, &jwk).unwrap_err();

            assert!(
                matches!(error, PrivacyError::InvalidJwk { .. }),
                "{jwk} gave {error:?}"
            );
        }
    }

    #[test]
    fn jwk_without_optional_members_accepted() {
        let signer = ConsentCookieSigner::generate();
        let mut jwk = signer.jwk();
        jwk.as_object_mut().unwrap().remove("alg");
        jwk.as_object_mut().unwrap().remove("use");

        assert_eq!(verify(&signer.sign(&claims()), &jwk), Ok(claims()));
    }
}
