//! Online backup of the SQLite database with `VACUUM INTO`.
//!
//! `VACUUM INTO` reads the database inside one read transaction, so the copy
//! is a consistent snapshot even while a running server writes. In WAL mode
//! that read transaction does not block the server's writers.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection, Row};

use crate::error::StoreError;

/// File name of the SQLite database inside the data directory.
const DATABASE_FILE: &str = "ombud.sqlite3";

/// How long the backup connection waits for a lock held by another process.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Writes a consistent copy of the SQLite database in `data_dir` to `output`
/// and returns the size of the copy in bytes.
///
/// The copy is made on a connection of its own, so a server may keep serving
/// the same data directory meanwhile. It fails when `data_dir` has no
/// database, and SQLite itself rejects an `output` that exists and is not
/// empty. Callers that must never touch an existing file check for it first.
pub async fn backup_sqlite(data_dir: &Path, output: &Path) -> Result<u64, StoreError> {
    let source = data_dir.join(DATABASE_FILE);
    let mut connection = connect(&source).await?;

    // The output path is a bound parameter, so quotes in it need no escaping.
    let output_text = output.to_string_lossy().into_owned();
    let result = sqlx::query("VACUUM INTO ?")
        .bind(output_text)
        .execute(&mut connection)
        .await;
    connection.close().await?;
    result?;

    // StoreError has no variant for file system errors outside the data
    // directory, so a copy that cannot be read back counts as one that
    // cannot be opened.
    let metadata = std::fs::metadata(output).map_err(|source| StoreError::Open {
        target: output.display().to_string(),
        source: sqlx::Error::Io(source),
    })?;
    Ok(metadata.len())
}

/// Runs `PRAGMA integrity_check` on the SQLite database file at `path` and
/// returns its messages, which are exactly `["ok"]` for a sound database.
pub async fn check_integrity(path: &Path) -> Result<Vec<String>, StoreError> {
    let mut connection = connect(path).await?;
    let rows = sqlx::query("PRAGMA integrity_check")
        .fetch_all(&mut connection)
        .await;
    connection.close().await?;

    let mut messages = Vec::new();
    for row in rows? {
        messages.push(row.try_get::<String, _>(0)?);
    }
    Ok(messages)
}

/// Opens one connection to an existing database file, never creating one.
async fn connect(path: &Path) -> Result<SqliteConnection, StoreError> {
    let open_error = |source| StoreError::Open {
        target: path.display().to_string(),
        source,
    };
    SqliteConnectOptions::from_str("sqlite:")
        .map_err(open_error)?
        .filename(path)
        .create_if_missing(false)
        .busy_timeout(BUSY_TIMEOUT)
        .connect()
        .await
        .map_err(open_error)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::{SqlValue, Store};

    async fn store_with_subjects(data_dir: &Path, count: i64) -> Store {
        let store = Store::open_sqlite(data_dir, 2).await.unwrap();
        store
            .execute(
                "CREATE TABLE backup_probe (id INTEGER PRIMARY KEY, note TEXT NOT NULL)",
                &[],
            )
            .await
            .unwrap();
        for id in 0..count {
            store
                .execute(
                    "INSERT INTO backup_probe (id, note) VALUES ($1, $2)",
                    &[SqlValue::Int(id), SqlValue::from(format!("row {id}"))],
                )
                .await
                .unwrap();
        }
        store
    }

    #[tokio::test]
    async fn backup_copies_rows_of_open_store() {
        let data_dir = tempfile::tempdir().unwrap();
        let target_dir = tempfile::tempdir().unwrap();
        let store = store_with_subjects(data_dir.path(), 25).await;
        let output = target_dir.path().join("copy.sqlite3");

        let bytes = backup_sqlite(data_dir.path(), &output).await.unwrap();

        assert!(bytes > 0);
        assert_eq!(bytes, std::fs::metadata(&output).unwrap().len());
        assert_eq!(check_integrity(&output).await.unwrap(), vec!["ok"]);
        let copy_dir = tempfile::tempdir().unwrap();
        std::fs::copy(&output, copy_dir.path().join(DATABASE_FILE)).unwrap();
        let copy = Store::open_sqlite(copy_dir.path(), 1).await.unwrap();
        let row = copy
            .fetch_optional("SELECT count(*) FROM backup_probe", &[])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.int(0).unwrap(), 25);
        copy.close().await;
        store.close().await;
    }

    #[tokio::test]
    async fn backup_rejects_existing_output() {
        let data_dir = tempfile::tempdir().unwrap();
        let store = store_with_subjects(data_dir.path(), 1).await;
        let output = data_dir.path().join("existing.sqlite3");
        std::fs::write(&output, b"keep me").unwrap();

        let result = backup_sqlite(data_dir.path(), &output).await;

        assert!(result.is_err(), "{result:?}");
        assert_eq!(std::fs::read(&output).unwrap(), b"keep me");
        store.close().await;
    }

    #[tokio::test]
    async fn backup_fails_without_database() {
        let data_dir = tempfile::tempdir().unwrap();
        let output = data_dir.path().join("copy.sqlite3");

        let result = backup_sqlite(data_dir.path(), &output).await;

        assert!(matches!(result, Err(StoreError::Open { .. })), "{result:?}");
        assert!(!output.exists());
        assert!(!data_dir.path().join(DATABASE_FILE).exists());
    }

    #[tokio::test]
    async fn integrity_check_reports_damaged_file() {
        let data_dir = tempfile::tempdir().unwrap();
        let target_dir = tempfile::tempdir().unwrap();
        let store = store_with_subjects(data_dir.path(), 200).await;
        let output = target_dir.path().join("copy.sqlite3");
        backup_sqlite(data_dir.path(), &output).await.unwrap();
        store.close().await;

        // Overwrite page 2 with garbage. Page 1, with the file header and
        // the schema, stays intact, so the file still opens.
        let mut bytes = std::fs::read(&output).unwrap();
        let page_size = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
        for byte in &mut bytes[page_size..2 * page_size] {
            *byte = 0xA5;
        }
        std::fs::write(&output, &bytes).unwrap();

        let outcome = check_integrity(&output).await;

        let failed = match outcome {
            Ok(messages) => messages != vec!["ok"],
            Err(_) => true,
        };
        assert!(failed, "a damaged file passed the integrity check");
    }
}
