//! Key material generated on first start. SQLite installations keep it in
//! the data directory. On PostgreSQL it is in the `server_keys` table, so every
//! instance sharing the database signs and verifies with the same keys.

use std::io::Write;
use std::path::Path;

use ombud_privacy::ConsentCookieSigner;
use ombud_store::{Dialect, SqlValue, Store};

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

/// Reads the named key from `server_keys`, inserting `generate`'s key first if
/// there is none. When instances start together, the first insert wins and
/// all of them read that one.
async fn load_or_create_shared(
    store: &Store,
    name: &str,
    generate: impl FnOnce() -> Vec<u8>,
) -> Result<Vec<u8>, ServerError> {
    let inserted = store
        .execute(
            "INSERT INTO server_keys (name, material, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
            &[name.into(), hex::encode(generate()).into(), SqlValue::now()],
        )
        .await?;
    if inserted == 1 {
        tracing::info!(key = name, "generated a new shared key");
    }
    let row = store
        .fetch_optional(
            "SELECT material FROM server_keys WHERE name = $1",
            &[name.into()],
        )
        .await?
        .ok_or_else(|| ServerError::Internal(format!("the shared key {name} vanished")))?;
    hex::decode(row.required_text(0)?.trim()).map_err(|error| {
        ServerError::Internal(format!("the shared key {name} is not hex: {error}"))
    })
}

/// Loads or creates a key in the place the backend keeps keys.
async fn load_key(
    store: &Store,
    data_dir: &Path,
    name: &str,
    generate: impl FnOnce() -> Vec<u8>,
) -> Result<Vec<u8>, ServerError> {
    match store.dialect() {
        Dialect::Sqlite => {
            load_or_create(&data_dir.join("keys").join(format!("{name}.key")), generate)
        }
        Dialect::Postgres => load_or_create_shared(store, name, generate).await,
    }
}

/// Loads or creates the HS256 key that signs session JWTs.
pub async fn session_key(store: &Store, data_dir: &Path) -> Result<Vec<u8>, ServerError> {
    load_key(
        store,
        data_dir,
        "session-hs256",
        ombud_auth::generate_secret,
    )
    .await
}

/// Loads or creates the Ed25519 key that signs consent cookies.
pub async fn consent_signer(
    store: &Store,
    data_dir: &Path,
) -> Result<ConsentCookieSigner, ServerError> {
    let bytes = load_key(store, data_dir, "consent-ed25519", || {
        ConsentCookieSigner::generate().secret_bytes().to_vec()
    })
    .await?;
    ConsentCookieSigner::from_secret_bytes(&bytes)
        .map_err(|error| ServerError::Internal(error.to_string()))
}
