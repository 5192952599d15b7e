/// Errors of the privacy domain rules. Each message names the rejected value and what
/// to send instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrivacyError {
    /// A vocabulary value (request type, status, legal basis, ...) that is not in the list.
    #[error("invalid {kind} {value:?}: expected one of {expected}")]
    InvalidValue {
        kind: &'static str,
        value: String,
        expected: String,
    },

    #[error(
        "consent purposes must be a JSON object that maps purpose ids to true or false, \
         but a {found} was sent"
    )]
    PurposesNotObject { found: &'static str },

    #[error("consent purposes are empty: send at least one purpose id mapped to true or false")]
    PurposesEmpty,

    #[error(
        "consent purpose key {key:?} is not a UUID: use the purpose id, \
         such as \"123e4567-e89b-12d3-a456-426614174000\""
    )]
    InvalidPurposeId { key: String },

    #[error(
        "consent purpose {key:?} has a {found} value: send true or false as a JSON boolean, \
         without quotes"
    )]
    PurposeValueNotBoolean { key: String, found: &'static str },

    /// Two keys that spell the same UUID differently, such as upper and lower case.
    #[error(
        "consent purpose keys {key:?} and {other_key:?} are the same purpose id: \
         send each purpose once"
    )]
    DuplicatePurposeId { key: String, other_key: String },

    #[error(
        "invalid Ed25519 secret key of {length} bytes: expected exactly 32 bytes, \
         as returned by ConsentCookieSigner::secret_bytes"
    )]
    InvalidSecretKeyLength { length: usize },

    #[error(
        "invalid consent cookie JWK: {reason}. Pass the object that ConsentCookieSigner::jwk returns"
    )]
    InvalidJwk { reason: String },

    #[error(
        "malformed consent cookie: {reason}. Expected a compact JWS as issued by \
         ConsentCookieSigner::sign"
    )]
    MalformedToken { reason: String },

    #[error("unsupported consent cookie algorithm {found:?}: only EdDSA is accepted")]
    UnsupportedAlgorithm { found: String },

    #[error(
        "consent cookie key id {token_kid:?} does not match the JWK key id {jwk_kid:?}: \
         verify with the JWK of the key that signed the cookie"
    )]
    KeyIdMismatch { token_kid: String, jwk_kid: String },

    #[error(
        "invalid consent cookie signature: the cookie was modified or signed by another key, \
         so issue a new cookie"
    )]
    InvalidSignature,

    #[error("invalid language tag {value:?}: expected a BCP 47 tag such as \"en\" or \"de-CH\"")]
    InvalidLanguageTag { value: String },

    #[error(
        "invalid country code {value:?}: expected an ISO 3166-1 alpha-2 code such as \"DE\" or \"US\""
    )]
    InvalidCountryCode { value: String },

    /// The value is not repeated in the message, because a client that sends
    /// a raw identifier by mistake would otherwise see it echoed and logged.
    #[error(
        "invalid identifier hash of {length} characters: expected the HMAC-SHA256 of the value \
         as 64 hexadecimal digits"
    )]
    InvalidIdentifierHash { length: usize },

    /// The signature is valid but the payload does not have the consent cookie fields.
    #[error(
        "invalid consent cookie claims: {reason}. Expected sub, dataControllerId, purposes and iat"
    )]
    InvalidClaims { reason: String },
}
