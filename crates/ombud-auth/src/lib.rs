#![doc = "Credentials of ombud: opaque tokens, HS256 session JWTs with Hasura claims, and Argon2id password hashes."]
// Tests report failures by panicking, so the workspace ban on panicking calls applies
// only to library code.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod error;
mod jwt;
mod password;
mod tokens;

pub use error::AuthError;
pub use jwt::{
    HASURA_CLAIMS_KEY, HasuraClaims, JwtCodec, JwtError, MIN_SECRET_BYTES, SessionClaims,
    generate_secret,
};
pub use password::{
    MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, PasswordHasher, SecretPassword, validate_new_password,
};
pub use tokens::{IssuedToken, SecretToken, TokenKind, constant_time_eq, hash_token, issue_token};
