use std::fmt;
use std::sync::Arc;

use argon2::password_hash::{Salt, SaltString};
use argon2::{Argon2, PasswordHash, PasswordHasher as _, PasswordVerifier as _};
use rand::RngCore as _;
use rand::rngs::OsRng;
use tokio::sync::Semaphore;

use crate::AuthError;

/// Minimum length of a new password in characters (Unicode scalar values).
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Maximum length of a new password in characters, which bounds the work that one
/// request can cause.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Length of a generated salt in bytes, as recommended by the PHC string format
/// specification.
const SALT_BYTES: usize = Salt::RECOMMENDED_LENGTH;

/// Password in plaintext, wrapped so that its `Debug` output hides it.
pub struct SecretPassword(String);

impl SecretPassword {
    pub fn new(password: String) -> Self {
        Self(password)
    }

    /// Returns the plaintext, for hashing or validating it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for SecretPassword {
    fn from(password: String) -> Self {
        Self(password)
    }
}

impl fmt::Debug for SecretPassword {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("SecretPassword(***)")
    }
}

/// Checks that a password chosen by a user has between 8 and 256 characters.
pub fn validate_new_password(password: &str) -> Result<(), AuthError> {
    let length = password.chars().count();

    if length < MIN_PASSWORD_CHARS {
        return Err(AuthError::PasswordTooShort {
            length,
            minimum: MIN_PASSWORD_CHARS,
        });
    }

    if length > MAX_PASSWORD_CHARS {
        return Err(AuthError::PasswordTooLong {
            length,
            maximum: MAX_PASSWORD_CHARS,
        });
    }

    Ok(())
}

/// Hashes and verifies passwords with Argon2id, limiting how many hashes run at once.
///
/// Each hash takes 19 MiB of memory with the default parameters of argon2 0.5, so the
/// limit bounds memory use and keeps the blocking thread pool free for other work.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,

    /// Hash of a random password, which `verify` checks when the user is unknown so
    /// that the response time does not reveal whether the user exists.
    dummy_hash: Arc<str>,
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("PasswordHasher")
            .field("available_permits", &self.permits.available_permits())
            .finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// Creates a hasher that runs at most `max_concurrency` hashes at once.
    ///
    /// Computes the dummy hash on the calling thread, which blocks it for one Argon2id
    /// run, so call this at startup rather than inside a request.
    pub fn new(max_concurrency: usize) -> Result<Self, AuthError> {
        if max_concurrency == 0 || max_concurrency > Semaphore::MAX_PERMITS {
            return Err(AuthError::InvalidHashingConcurrency {
                requested: max_concurrency,
                maximum: Semaphore::MAX_PERMITS,
            });
        }

        let mut random_password = [0_u8; 32];
        OsRng.fill_bytes(&mut random_password);
        let dummy_hash = hash_blocking(&random_password)?;

        Ok(Self {
            permits: Arc::new(Semaphore::new(max_concurrency)),
            dummy_hash: dummy_hash.into(),
        })
    }

    /// Hashes a password with Argon2id and default parameters, and returns the PHC string.
    pub async fn hash(&self, password: SecretPassword) -> Result<String, AuthError> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|error| AuthError::HashingTaskFailed(error.to_string()))?;

        // The permit moves into the task, so it stays taken until the hash is done even
        // when the caller's future is dropped earlier.
        let task = tokio::task::spawn_blocking(move || {
            let result = hash_blocking(password.expose().as_bytes());
            drop(permit);
            result
        });

        task.await
            .map_err(|error| AuthError::HashingTaskFailed(error.to_string()))?
    }

    /// Checks a password against a stored PHC string and returns whether it matches.
    ///
    /// When `stored_hash` is `None` or not a valid PHC string, the password is checked
    /// against the dummy hash anyway and the result is `false`, so the time taken does
    /// not reveal that the user is unknown. Returns `false` as well when the hashing
    /// task fails.
    pub async fn verify(&self, password: SecretPassword, stored_hash: Option<String>) -> bool {
        let Ok(permit) = Arc::clone(&self.permits).acquire_owned().await else {
            return false;
        };

        let dummy_hash = Arc::clone(&self.dummy_hash);
        let task = tokio::task::spawn_blocking(move || {
            let matches = verify_blocking(password.expose(), stored_hash.as_deref(), &dummy_hash);
            drop(permit);
            matches
        });

        task.await.unwrap_or(false)
    }
}

fn hash_blocking(password: &[u8]) -> Result<String, AuthError> {
    let mut salt_bytes = [0_u8; SALT_BYTES];
    OsRng.fill_bytes(&mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|error| AuthError::PasswordHashing(error.to_string()))?;

    let hash = Argon2::default()
        .hash_password(password, &salt)
        .map_err(|error| AuthError::PasswordHashing(error.to_string()))?;

    Ok(hash.to_string())
}

fn verify_blocking(password: &str, stored_hash: Option<&str>, dummy_hash: &str) -> bool {
    let parsed_stored = stored_hash.and_then(|hash| PasswordHash::new(hash).ok());

    let Some(parsed) = parsed_stored else {
        // The dummy check only spends the time that a real check would take.
        if let Ok(dummy) = PasswordHash::new(dummy_hash) {
            let _ = Argon2::default().verify_password(password.as_bytes(), &dummy);
        }
        return false;
    };

    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWORD: &str = "correct horse battery staple";

    fn hasher() -> PasswordHasher {
        PasswordHasher::new(2).expect("hasher")
    }

    fn secret(password: &str) -> SecretPassword {
        SecretPassword::new(password.to_owned())
    }

    #[tokio::test]
    async fn hash_then_verify_matches() {
        let hasher = hasher();

        let hash = hasher.hash(secret(PASSWORD)).await.expect("hash");

        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert!(hasher.verify(secret(PASSWORD), Some(hash)).await);
    }

    #[tokio::test]
    async fn hash_uses_fresh_salt() {
        let hasher = hasher();

        let first = hasher.hash(secret(PASSWORD)).await.expect("first hash");
        let second = hasher.hash(secret(PASSWORD)).await.expect("second hash");

        assert_ne!(first, second);
    }

    #[tokio::test]
    async fn verify_rejects_wrong_password() {
        let hasher = hasher();
        let hash = hasher.hash(secret(PASSWORD)).await.expect("hash");

        assert!(
            !hasher
                .verify(secret("correct horse battery stapler"), Some(hash))
                .await
        );
    }

    #[tokio::test]
    async fn verify_rejects_missing_hash() {
        let hasher = hasher();

        assert!(!hasher.verify(secret(PASSWORD), None).await);
    }

    #[tokio::test]
    async fn verify_rejects_invalid_phc_string() {
        let hasher = hasher();

        for stored in [
            "",
            "not a hash",
            "$argon2id$v=19$m=19456",
            "$pbkdf2-sha256$i=1$c2FsdA$aGFzaA",
        ] {
            assert!(
                !hasher
                    .verify(secret(PASSWORD), Some(stored.to_owned()))
                    .await,
                "{stored:?}"
            );
        }
    }

    #[test]
    fn new_rejects_zero_concurrency() {
        let result = PasswordHasher::new(0);

        assert!(matches!(
            result,
            Err(AuthError::InvalidHashingConcurrency { requested: 0, .. })
        ));
    }

    #[test]
    fn validate_new_password_enforces_length() {
        assert!(validate_new_password("12345678").is_ok());
        assert!(validate_new_password(&"x".repeat(256)).is_ok());

        // Lengths count characters, not bytes: eight two-byte characters are enough.
        assert!(validate_new_password("éééééééé").is_ok());

        let too_short = validate_new_password("1234567");
        assert!(matches!(
            too_short,
            Err(AuthError::PasswordTooShort {
                length: 7,
                minimum: 8
            })
        ));
        let message = too_short.err().map(|error| error.to_string());
        assert!(
            message
                .as_deref()
                .is_some_and(|text| text.contains("at least 8")),
            "{message:?}"
        );

        let too_long = validate_new_password(&"x".repeat(257));
        assert!(matches!(
            too_long,
            Err(AuthError::PasswordTooLong {
                length: 257,
                maximum: 256
            })
        ));
    }

    #[test]
    fn debug_hides_password() {
        let debug = format!("{:?}", secret(PASSWORD));

        assert_eq!(debug, "SecretPassword(***)");
    }
}
