//! pipeit storage: one repository API over SQLite (the default, a file) and PostgreSQL.
//!
//! The chain is the source of truth for money; this database indexes it (checkpoints, block hashes
//! of the reorg window, vault events, ETH/USD prices, share prices) and keeps the off-chain records
//! (businesses, API keys, invoices, scores, the transaction outbox).
//!
//! - [`Db::connect`] parses the URL (`sqlite://path`, `sqlite::memory:`, `postgres://…`), opens a
//!   pool and applies the embedded migrations (`migrations/sqlite/`, `migrations/postgres/`). A
//!   database migrated by a newer pipeit is refused with [`Error::SchemaTooNew`].
//! - Each query is written once and runs on both back-ends (`$1` placeholders work on both); values
//!   are converted at the edge: wei as TEXT / NUMERIC(78,0) ↔ `U256`, fiat and rates as TEXT /
//!   NUMERIC ↔ `Decimal`. Never a float.
//! - Queries are checked at run time (`sqlx::query`), not at build time: no database is needed to
//!   build. The test suite runs every query on both back-ends.
//!
//! Tests: `tests/db.rs` runs each case on a fresh SQLite file and on a fresh PostgreSQL database
//! created on the server of `PIPEIT_TEST_PG_URL` (`scripts/pg-test-cluster start` gives one). Without
//! that variable the PostgreSQL cases fail and say how to set it; `PIPEIT_SKIP_PG=1` skips them.
#![warn(missing_docs, clippy::print_stdout, clippy::print_stderr)]

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, PgConnection, PgPool, Postgres, Sqlite, SqlitePool, Transaction};

/// Runs `$body` with `$pool` bound to the pool of whichever back-end `$db` is. The body is written
/// once and type-checked for each back-end.
macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::Db::Sqlite($pool) => $body,
            $crate::Db::Postgres($pool) => $body,
        }
    };
}

/// Implements `sqlx::FromRow` for both back-ends' rows with one body.
macro_rules! from_row {
    ($ty:ty, |$row:ident| $body:expr) => {
        impl<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> for $ty {
            fn from_row($row: &'r sqlx::sqlite::SqliteRow) -> Result<Self, sqlx::Error> {
                use sqlx::Row as _;
                $body
            }
        }
        impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for $ty {
            fn from_row($row: &'r sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
                use sqlx::Row as _;
                $body
            }
        }
    };
}

pub mod access;
pub mod businesses;
mod col;
mod error;
pub mod index;
pub mod invoices;
pub mod keeper;
pub mod outbox;
pub mod scratch;
pub mod views;

pub use access::{Idempotent, Session, StoredResponse};
pub use businesses::{ApiKey, Business};
pub use error::{Error, Result};
pub use index::{
    BlockBatch, BlockRecord, ChainContract, Checkpoint, EthUsdPrice, SharePrice, TxFee, VaultEvent,
};
pub use invoices::{Invoice, InvoiceStatus, NewScore, Score, UnknownStatus};
pub use outbox::{OutboxEntry, OutboxStatus};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");

/// How long a SQLite connection waits for another writer before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to wait for a pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The database: a pool on one of the two back-ends. Cheap to clone (the pool is shared).
///
/// The variants are public for what only one back-end has (a PostgreSQL advisory lock, say);
/// everything else goes through the methods, which work on both.
#[derive(Debug, Clone)]
pub enum Db {
    /// A SQLite file (WAL, foreign keys on, busy timeout) or an in-memory database.
    Sqlite(SqlitePool),
    /// A PostgreSQL database.
    Postgres(PgPool),
}

/// Which back-end a [`Db`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Db {
    /// Opens the database at `url` and brings its schema up to date.
    ///
    /// `sqlite://path/to/pipeit.db` (created with its folder if missing), `sqlite::memory:` (one
    /// connection), or `postgres://user:password@host:port/database` (`postgresql://` too).
    pub async fn connect(url: &str) -> Result<Db> {
        let shown = redact(url);
        let invalid = |reason: String| Error::InvalidUrl {
            url: shown.clone(),
            reason,
        };
        let db = if url.starts_with("sqlite:") {
            let options =
                SqliteConnectOptions::from_str(url).map_err(|e| invalid(e.to_string()))?;
            let in_memory = url.starts_with("sqlite::memory:") || url.contains("mode=memory");
            let file = options.get_filename();
            if !in_memory && file.as_os_str().is_empty() {
                return Err(invalid("the SQLite file path is empty".to_owned()));
            }
            if !in_memory {
                create_parent_dir(file).map_err(|e| Error::Connect {
                    url: shown.clone(),
                    source: sqlx::Error::Io(e),
                })?;
            }
            let options = options
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(SQLITE_BUSY_TIMEOUT);
            let pool = SqlitePoolOptions::new().acquire_timeout(ACQUIRE_TIMEOUT);
            // Each connection to `:memory:` is its own empty database: keep exactly one, forever.
            let pool = if in_memory {
                pool.max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
            } else {
                pool
            };
            let pool = pool
                .connect_with(options)
                .await
                .map_err(|source| Error::Connect {
                    url: shown.clone(),
                    source,
                })?;
            Db::Sqlite(pool)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url).map_err(|e| invalid(e.to_string()))?;
            let unreachable = |source| Error::Connect {
                url: shown.clone(),
                source,
            };
            // The pool retries a refused connection until its acquire timeout; one plain connection
            // first makes a wrong host, port or password fail at once.
            PgConnection::connect_with(&options)
                .await
                .map_err(unreachable)?
                .close()
                .await
                .map_err(unreachable)?;
            let pool = PgPoolOptions::new()
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(options)
                .await
                .map_err(|source| Error::Connect {
                    url: shown.clone(),
                    source,
                })?;
            Db::Postgres(pool)
        } else {
            let reason = match url.split_once(':') {
                Some((scheme, _)) if !scheme.is_empty() && !scheme.contains('/') => {
                    format!("unknown scheme {scheme:?}")
                }
                _ => "no scheme".to_owned(),
            };
            return Err(invalid(reason));
        };
        if let Err(error) = db.migrate(&shown).await {
            db.close().await;
            return Err(error);
        }
        Ok(db)
    }

    /// Which back-end this is.
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// The newest schema migration this build carries (the same on both back-ends).
    pub fn latest_migration() -> i64 {
        SQLITE_MIGRATIONS
            .iter()
            .map(|m| m.version)
            .max()
            .unwrap_or(0)
    }

    /// Closes the pool, waiting for connections in use to come back.
    pub async fn close(&self) {
        on_pool!(self, |pool| pool.close().await)
    }

    async fn migrate(&self, url: &str) -> Result<()> {
        let (result, migrator) = match self {
            Db::Sqlite(pool) => (SQLITE_MIGRATIONS.run(pool).await, &SQLITE_MIGRATIONS),
            Db::Postgres(pool) => (POSTGRES_MIGRATIONS.run(pool).await, &POSTGRES_MIGRATIONS),
        };
        let latest_known = migrator.iter().map(|m| m.version).max().unwrap_or(0);
        result.map_err(|source| match source {
            MigrateError::VersionMissing(found) if found > latest_known => Error::SchemaTooNew {
                url: url.to_owned(),
                found,
                latest_known,
            },
            source => Error::Migrate {
                url: url.to_owned(),
                source,
            },
        })
    }
}

/// Starts a write transaction. On SQLite `BEGIN IMMEDIATE` takes the write lock at once, so a
/// transaction that reads before it writes waits for other writers (busy timeout) instead of
/// failing with "database is locked" when it upgrades.
pub(crate) trait WritePool {
    type Database: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<
        Output = std::result::Result<Transaction<'static, Self::Database>, sqlx::Error>,
    > + Send;
}

impl WritePool for SqlitePool {
    type Database = Sqlite;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<
        Output = std::result::Result<Transaction<'static, Sqlite>, sqlx::Error>,
    > + Send {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

impl WritePool for PgPool {
    type Database = Postgres;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<
        Output = std::result::Result<Transaction<'static, Postgres>, sqlx::Error>,
    > + Send {
        self.begin()
    }
}

fn create_parent_dir(file: &Path) -> std::io::Result<()> {
    match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => std::fs::create_dir_all(parent),
        _ => Ok(()),
    }
}

/// The URL with its password replaced by `***`, for messages and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redact_hides_only_the_password() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/pipeit?sslmode=require"),
            "postgres://app:***@db:5432/pipeit?sslmode=require"
        );
        assert_eq!(
            redact("postgres://app@db/pipeit"),
            "postgres://app@db/pipeit"
        );
        assert_eq!(redact("sqlite://data/pipeit.db"), "sqlite://data/pipeit.db");
    }
}
