use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::{PgPool, SqlitePool};

use crate::dialect::Dialect;
use crate::error::StoreError;
use crate::value::{Row, SqlValue};
use crate::{migrations, postgres, sqlite};

/// The database behind one ombud installation: the embedded SQLite file in
/// the data directory, or a PostgreSQL server shared by several instances.
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
}

#[derive(Clone, Debug)]
pub(crate) enum Backend {
    /// SQLite allows one writer at a time, so writes go through a pool of one
    /// connection and start with `BEGIN IMMEDIATE`. Reads use a separate pool;
    /// in WAL mode a reader does not wait for an open write transaction.
    Sqlite {
        reader: SqlitePool,
        writer: SqlitePool,
    },
    Postgres {
        pool: PgPool,
    },
}

/// Connection settings of a PostgreSQL server.
#[derive(Clone)]
pub struct PostgresOptions {
    /// `postgres://user:password@host:port/database?sslmode=...`
    pub url: String,
    pub max_connections: u32,
    /// How long a request waits for a connection before failing with
    /// [`StoreError::Unavailable`].
    pub acquire_timeout: Duration,
    /// Maximum time a single statement may run; `None` leaves the server's setting.
    pub statement_timeout: Option<Duration>,
    /// Overrides the URL's `sslmode`.
    pub ssl_mode: Option<SslMode>,
    /// CA certificate (PEM) that the server's certificate must chain to.
    pub ssl_root_cert: Option<PathBuf>,
}

impl std::fmt::Debug for PostgresOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password.
        f.debug_struct("PostgresOptions")
            .field("url", &"<redacted>")
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("ssl_mode", &self.ssl_mode)
            .field("ssl_root_cert", &self.ssl_root_cert)
            .finish()
    }
}

/// Whether and how the PostgreSQL connection uses TLS, as in libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl Store {
    /// Opens (creating if needed) the SQLite database in `data_dir` without
    /// touching its schema; call [`Store::migrate`] or [`Store::check_migrations`] next.
    pub async fn open_sqlite(data_dir: &Path, max_readers: u32) -> Result<Store, StoreError> {
        let (reader, writer) = sqlite::open(data_dir, max_readers).await?;
        Ok(Store {
            backend: Backend::Sqlite { reader, writer },
        })
    }

    /// Connects to PostgreSQL without touching its schema.
    pub async fn open_postgres(options: &PostgresOptions) -> Result<Store, StoreError> {
        let pool = postgres::open(options).await?;
        Ok(Store {
            backend: Backend::Postgres { pool },
        })
    }

    pub fn dialect(&self) -> Dialect {
        match self.backend {
            Backend::Sqlite { .. } => Dialect::Sqlite,
            Backend::Postgres { .. } => Dialect::Postgres,
        }
    }

    /// Applies every migration of this build that the database lacks.
    pub async fn migrate(&self) -> Result<Vec<i64>, StoreError> {
        migrations::apply(self).await
    }

    /// Versions of the migrations already applied to the database.
    pub async fn applied_migrations(&self) -> Result<Vec<i64>, StoreError> {
        migrations::applied_versions(self).await
    }

    /// Fails unless the database has exactly the migrations of this build.
    pub async fn check_migrations(&self) -> Result<(), StoreError> {
        match migrations::status(self).await? {
            crate::MigrationStatus::UpToDate => Ok(()),
            crate::MigrationStatus::Pending(pending) => Err(StoreError::PendingMigrations {
                pending: pending.len(),
            }),
        }
    }

    /// Runs a read query whose first row's first column is JSON.
    pub async fn fetch_json(
        &self,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Option<String>, StoreError> {
        match &self.backend {
            Backend::Sqlite { reader, .. } => sqlite::fetch_json(reader, sql, params).await,
            Backend::Postgres { pool } => postgres::fetch_json(pool, sql, params).await,
        }
    }

    /// Runs a read query and decodes every row.
    pub async fn fetch_rows(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Row>, StoreError> {
        match &self.backend {
            Backend::Sqlite { reader, .. } => sqlite::fetch_rows(reader, sql, params).await,
            Backend::Postgres { pool } => postgres::fetch_rows(pool, sql, params).await,
        }
    }

    /// Runs a read query and decodes its first row, if any.
    pub async fn fetch_optional(
        &self,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Option<Row>, StoreError> {
        Ok(self.fetch_rows(sql, params).await?.into_iter().next())
    }

    /// Runs one writing statement in its own transaction; returns the rows affected.
    pub async fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let affected = tx.execute(sql, params).await?;
        tx.commit().await?;
        Ok(affected)
    }

    /// Starts a write transaction. On SQLite it takes the write lock from its
    /// first statement. On PostgreSQL it runs at READ COMMITTED, so callers
    /// that read before they write lock those rows with [`Dialect::for_update`].
    pub async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        let tx = match &self.backend {
            Backend::Sqlite { writer, .. } => {
                TxInner::Sqlite(writer.begin_with(Dialect::Sqlite.begin_write()).await?)
            }
            Backend::Postgres { pool } => TxInner::Postgres(pool.begin().await?),
        };
        Ok(WriteTx {
            tx,
            dialect: self.dialect(),
        })
    }

    /// Returns whether the database accepts a trivial query.
    pub async fn ping(&self) -> bool {
        match &self.backend {
            Backend::Sqlite { reader, .. } => sqlx::query("SELECT 1").execute(reader).await.is_ok(),
            Backend::Postgres { pool } => sqlx::query("SELECT 1").execute(pool).await.is_ok(),
        }
    }

    /// Size and idle connections of each pool, named `reader`, `writer` or `postgres`.
    pub fn pool_stats(&self) -> Vec<PoolStats> {
        match &self.backend {
            Backend::Sqlite { reader, writer } => vec![
                PoolStats {
                    pool: "reader",
                    size: reader.size(),
                    idle: reader.num_idle(),
                },
                PoolStats {
                    pool: "writer",
                    size: writer.size(),
                    idle: writer.num_idle(),
                },
            ],
            Backend::Postgres { pool } => vec![PoolStats {
                pool: "postgres",
                size: pool.size(),
                idle: pool.num_idle(),
            }],
        }
    }

    /// Closes the pools, waiting for checked-out connections to return.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite { reader, writer } => {
                reader.close().await;
                writer.close().await;
            }
            Backend::Postgres { pool } => pool.close().await,
        }
    }
}

/// Connections of one pool at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub pool: &'static str,
    pub size: u32,
    pub idle: usize,
}

/// A write transaction. Dropping it without [`WriteTx::commit`] rolls it back.
pub struct WriteTx {
    tx: TxInner,
    dialect: Dialect,
}

enum TxInner {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl WriteTx {
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Runs one statement; returns the rows affected.
    pub async fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64, StoreError> {
        match &mut self.tx {
            TxInner::Sqlite(tx) => sqlite::execute(&mut **tx, sql, params).await,
            TxInner::Postgres(tx) => postgres::execute(&mut **tx, sql, params).await,
        }
    }

    /// Runs a query whose first row's first column is JSON, seeing this transaction's writes.
    pub async fn fetch_json(
        &mut self,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Option<String>, StoreError> {
        match &mut self.tx {
            TxInner::Sqlite(tx) => sqlite::fetch_json(&mut **tx, sql, params).await,
            TxInner::Postgres(tx) => postgres::fetch_json(&mut **tx, sql, params).await,
        }
    }

    /// Runs a query and decodes every row, seeing this transaction's writes.
    pub async fn fetch_rows(
        &mut self,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Vec<Row>, StoreError> {
        match &mut self.tx {
            TxInner::Sqlite(tx) => sqlite::fetch_rows(&mut **tx, sql, params).await,
            TxInner::Postgres(tx) => postgres::fetch_rows(&mut **tx, sql, params).await,
        }
    }

    /// Runs a query and decodes its first row, if any.
    pub async fn fetch_optional(
        &mut self,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Option<Row>, StoreError> {
        Ok(self.fetch_rows(sql, params).await?.into_iter().next())
    }

    /// Runs a script of several statements without parameters (migrations).
    pub(crate) async fn execute_script(&mut self, sql: &'static str) -> Result<(), sqlx::Error> {
        match &mut self.tx {
            TxInner::Sqlite(tx) => {
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut **tx)
                    .await?;
            }
            TxInner::Postgres(tx) => {
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut **tx)
                    .await?;
            }
        }
        Ok(())
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        match self.tx {
            TxInner::Sqlite(tx) => tx.commit().await?,
            TxInner::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}
