use sqlx::{AssertSqlSafe, SqlitePool};

use crate::error::StoreError;

/// A schema change shipped with this build; versions only ever grow.
struct Migration {
    version: i64,
    description: &'static str,
    sql: &'static str,
}

const SQLITE_MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    description: "initial schema",
    sql: include_str!("../migrations/sqlite/0001_initial.sql"),
}];

/// State of the database against the migrations of this build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationStatus {
    UpToDate,
    Pending(Vec<i64>),
}

const CREATE_LEDGER: &str = "CREATE TABLE IF NOT EXISTS ombud_migrations (
    version INTEGER PRIMARY KEY NOT NULL,
    description TEXT NOT NULL,
    applied_at TEXT NOT NULL
)";

pub(crate) async fn applied_versions(pool: &SqlitePool) -> Result<Vec<i64>, StoreError> {
    sqlx::query(CREATE_LEDGER).execute(pool).await?;
    let versions: Vec<(i64,)> =
        sqlx::query_as("SELECT version FROM ombud_migrations ORDER BY version")
            .fetch_all(pool)
            .await?;
    Ok(versions.into_iter().map(|(version,)| version).collect())
}

pub(crate) async fn status(pool: &SqlitePool) -> Result<MigrationStatus, StoreError> {
    let applied = applied_versions(pool).await?;
    if let Some(unknown) = applied.iter().find(|version| {
        !SQLITE_MIGRATIONS
            .iter()
            .any(|known| known.version == **version)
    }) {
        return Err(StoreError::UnknownMigration { version: *unknown });
    }
    let pending: Vec<i64> = SQLITE_MIGRATIONS
        .iter()
        .map(|migration| migration.version)
        .filter(|version| !applied.contains(version))
        .collect();
    if pending.is_empty() {
        Ok(MigrationStatus::UpToDate)
    } else {
        Ok(MigrationStatus::Pending(pending))
    }
}

/// Applies each pending migration in its own transaction, in version order.
pub(crate) async fn apply(pool: &SqlitePool) -> Result<Vec<i64>, StoreError> {
    let MigrationStatus::Pending(pending) = status(pool).await? else {
        return Ok(Vec::new());
    };

    for migration in SQLITE_MIGRATIONS
        .iter()
        .filter(|m| pending.contains(&m.version))
    {
        let failed = |source| StoreError::Migration {
            version: migration.version,
            description: migration.description.to_owned(),
            source,
        };
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(failed)?;
        sqlx::raw_sql(AssertSqlSafe(migration.sql))
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
        sqlx::query(
            "INSERT INTO ombud_migrations (version, description, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(migration.version)
        .bind(migration.description)
        .bind(crate::now_timestamp())
        .execute(&mut *tx)
        .await
        .map_err(failed)?;
        tx.commit().await.map_err(failed)?;
        tracing::info!(
            version = migration.version,
            description = migration.description,
            "applied migration"
        );
    }
    Ok(pending)
}
