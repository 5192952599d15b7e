use crate::dialect::Dialect;
use crate::error::StoreError;
use crate::executor::{Store, WriteTx};
use crate::value::SqlValue;

/// A schema change shipped with this build; versions only ever grow, and
/// each version exists in both dialects.
struct Migration {
    version: i64,
    description: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

impl Migration {
    fn sql(&self, dialect: Dialect) -> &'static str {
        match dialect {
            Dialect::Sqlite => self.sqlite,
            Dialect::Postgres => self.postgres,
        }
    }
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "initial schema",
        sqlite: include_str!("../migrations/sqlite/0001_initial.sql"),
        postgres: include_str!("../migrations/postgres/0001_initial.sql"),
    },
    Migration {
        version: 2,
        description: "scheduled jobs and shared keys",
        sqlite: include_str!("../migrations/sqlite/0002_shared_state.sql"),
        postgres: include_str!("../migrations/postgres/0002_shared_state.sql"),
    },
    Migration {
        version: 3,
        description: "registers, subject identifiers and the audit log",
        sqlite: include_str!("../migrations/sqlite/0003_registers_and_audit.sql"),
        postgres: include_str!("../migrations/postgres/0003_registers_and_audit.sql"),
    },
    Migration {
        version: 4,
        description: "purpose retention period",
        sqlite: include_str!("../migrations/sqlite/0004_purpose_retention.sql"),
        postgres: include_str!("../migrations/postgres/0004_purpose_retention.sql"),
    },
];

/// State of the database against the migrations of this build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationStatus {
    UpToDate,
    Pending(Vec<i64>),
}

fn create_ledger(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => {
            "CREATE TABLE IF NOT EXISTS ombud_migrations (
                version INTEGER PRIMARY KEY NOT NULL,
                description TEXT NOT NULL,
                applied_at TEXT NOT NULL
            )"
        }
        Dialect::Postgres => {
            "CREATE TABLE IF NOT EXISTS ombud_migrations (
                version BIGINT PRIMARY KEY NOT NULL,
                description TEXT NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL
            )"
        }
    }
}

/// Serialises migrations between ombud processes sharing one PostgreSQL
/// database; the lock ends with the transaction. SQLite's write lock does the
/// same there.
async fn lock(tx: &mut WriteTx) -> Result<(), StoreError> {
    if tx.dialect() == Dialect::Postgres {
        // An arbitrary constant that names "ombud schema migrations".
        tx.execute("SELECT pg_advisory_xact_lock(4711002001)", &[])
            .await?;
    }
    tx.execute(create_ledger(tx.dialect()), &[]).await?;
    Ok(())
}

async fn versions_in(tx: &mut WriteTx) -> Result<Vec<i64>, StoreError> {
    let rows = tx
        .fetch_rows("SELECT version FROM ombud_migrations ORDER BY version", &[])
        .await?;
    rows.iter().map(|row| row.int(0)).collect()
}

pub(crate) async fn applied_versions(store: &Store) -> Result<Vec<i64>, StoreError> {
    let mut tx = store.begin_write().await?;
    lock(&mut tx).await?;
    let versions = versions_in(&mut tx).await?;
    tx.commit().await?;
    Ok(versions)
}

fn status_of(applied: &[i64]) -> Result<MigrationStatus, StoreError> {
    if let Some(unknown) = applied
        .iter()
        .find(|version| !MIGRATIONS.iter().any(|known| known.version == **version))
    {
        return Err(StoreError::UnknownMigration { version: *unknown });
    }
    let pending: Vec<i64> = MIGRATIONS
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

pub(crate) async fn status(store: &Store) -> Result<MigrationStatus, StoreError> {
    status_of(&applied_versions(store).await?)
}

/// Applies each pending migration in its own transaction, in version order.
/// Each transaction re-reads the ledger under the lock (an advisory lock on
/// PostgreSQL, the write lock on SQLite), so a migration that another process
/// applied meanwhile is skipped.
pub(crate) async fn apply(store: &Store) -> Result<Vec<i64>, StoreError> {
    let MigrationStatus::Pending(pending) = status(store).await? else {
        return Ok(Vec::new());
    };

    let mut applied_now = Vec::new();
    for migration in MIGRATIONS.iter().filter(|m| pending.contains(&m.version)) {
        let failed = |source| StoreError::Migration {
            version: migration.version,
            description: migration.description.to_owned(),
            source,
        };
        let mut tx = store.begin_write().await?;
        lock(&mut tx).await?;
        if versions_in(&mut tx).await?.contains(&migration.version) {
            continue;
        }
        tx.execute_script(migration.sql(store.dialect()))
            .await
            .map_err(failed)?;
        tx.execute(
            "INSERT INTO ombud_migrations (version, description, applied_at) VALUES ($1, $2, $3)",
            &[
                SqlValue::Int(migration.version),
                migration.description.into(),
                SqlValue::now(),
            ],
        )
        .await?;
        tx.commit().await?;
        tracing::info!(
            version = migration.version,
            description = migration.description,
            "applied migration"
        );
        applied_now.push(migration.version);
    }
    Ok(applied_now)
}
