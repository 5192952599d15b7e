#![doc = "Database backends of ombud: connection pools, migrations, and one audited place where SQL text is executed."]

mod backup;
mod dialect;
mod error;
mod executor;
mod migrations;
mod postgres;
mod sqlite;
mod time;
mod value;

pub use backup::{backup_sqlite, check_integrity};
pub use dialect::{ColumnKind, Dialect};
pub use error::{ConstraintKind, StoreError};
pub use executor::{PoolStats, PostgresOptions, SslMode, Store, WriteTx};
pub use migrations::MigrationStatus;
pub use time::{format_timestamp, now_timestamp, parse_timestamp};
pub use value::{Row, SqlValue};
