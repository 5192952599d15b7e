use thiserror::Error;

/// Errors of the credential functions.
///
/// JWT verification failures have their own type, [`crate::JwtError`], because clients
/// receive their messages in the format that Hasura uses.
#[derive(Debug, Error)]
pub enum AuthError {
    #[error(
        "the JWT secret is {length} bytes long, but HS256 requires at least {minimum} bytes. \
         Configure a longer random secret or create one with `generate_secret()`"
    )]
    JwtSecretTooShort { length: usize, minimum: usize },

    #[error("invalid session claims: {0}")]
    InvalidClaims(String),

    #[error("failed to sign the session JWT: {0}")]
    JwtSigning(String),

    #[error(
        "the password has {length} characters, but at least {minimum} are required. \
         Choose a longer password"
    )]
    PasswordTooShort { length: usize, minimum: usize },

    #[error(
        "the password has {length} characters, but at most {maximum} are allowed. \
         Choose a shorter password"
    )]
    PasswordTooLong { length: usize, maximum: usize },

    #[error("invalid password hashing concurrency {requested}: it must be between 1 and {maximum}")]
    InvalidHashingConcurrency { requested: usize, maximum: usize },

    #[error("failed to hash the password with Argon2id: {0}")]
    PasswordHashing(String),

    #[error("the password hashing task failed: {0}")]
    HashingTaskFailed(String),
}
