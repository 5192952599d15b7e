#![doc = "Database backends of ombud: connection pools, migrations, and one audited place where SQL text is executed."]

mod backup;
mod error;
mod executor;
mod migrations;
mod time;

pub use backup::{backup_sqlite, check_integrity};
pub use error::{ConstraintKind, StoreError};
pub use executor::{Row, SqlValue, Store, WriteTx};
pub use migrations::MigrationStatus;
pub use time::{format_timestamp, now_timestamp, parse_timestamp};
