//! Key material generated on first start and kept in the data directory.

use std::io::Write;
use std::path::Path;

use ombud_privacy::ConsentCookieSigner;

use crate::error::ServerError;

/// Reads a hex-encoded key file; `None` when it does not exist.
fn read_key(path: &Path) -> Result<Option<Vec<u8>>, ServerError> {
    match std::fs::read_to_string(path) {
        Ok(text) => hex::decode(text.trim()).map(Some).map_err(|error| {
            ServerError::Internal(format!(
                "the key file {} is not hex: {error}",
                path.display()
            ))
        }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(ServerError::Internal(format!(
            "cannot read the key file {}: {error}",
            path.display()
        ))),
    }
}

/// Reads a hex-encoded key file, or creates it with `generate` (mode 0600 on Unix).
fn load_or_create(path: &Path, generate: impl FnOnce() -> Vec<u8>) -> Result<Vec<u8>, ServerError> {
    let failed = |action: &str, error: std::io::Error| {
        ServerError::Internal(format!(
            "cannot {action} the key file {}: {error}",
            path.display()
        ))
    };
    if let Some(key) = read_key(path)? {
        return Ok(key);
    }

    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|error| failed("create the folder of", error))?;
    }
    let key = generate();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(hex::encode(&key).as_bytes())
                .map_err(|error| failed("write", error))?;
            tracing::info!(path = %path.display(), "generated a new key");
            Ok(key)
        }
        // Another process created it first: use theirs.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => read_key(path)?
            .ok_or_else(|| {
                ServerError::Internal(format!("the key file {} vanished", path.display()))
            }),
        Err(error) => Err(failed("create", error)),
    }
}

/// Loads or creates the HS256 key that signs session JWTs.
pub fn session_key(data_dir: &Path) -> Result<Vec<u8>, ServerError> {
    load_or_create(
        &data_dir.join("keys").join("session-hs256.key"),
        ombud_auth::generate_secret,
    )
}

/// Loads or creates the Ed25519 key that signs consent cookies.
pub fn consent_signer(data_dir: &Path) -> Result<ConsentCookieSigner, ServerError> {
    let bytes = load_or_create(&data_dir.join("keys").join("consent-ed25519.key"), || {
        ConsentCookieSigner::generate().secret_bytes().to_vec()
    })?;
    ConsentCookieSigner::from_secret_bytes(&bytes)
        .map_err(|error| ServerError::Internal(error.to_string()))
}
