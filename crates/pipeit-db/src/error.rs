//! Typed errors: each names what failed and, where there is one, the fix.

use pipeit_core::InvoiceError;

/// A result of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong in the storage layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database URL is not one pipeit understands.
    #[error(
        "database URL {url:?} is not valid: {reason}; expected sqlite://path/to/pipeit.db \
         (or sqlite::memory:) or postgres://user:password@host:port/database"
    )]
    InvalidUrl {
        /// The URL, password redacted.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// The database could not be opened or reached.
    #[error("could not open database {url}: {source}")]
    Connect {
        /// The URL, password redacted.
        url: String,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// The database has migrations this build does not know: a newer pipeit migrated it.
    #[error(
        "database {url} was migrated by a newer pipeit: it has schema migration {found}, this pipeit \
         knows migrations up to {latest_known}; upgrade pipeit or point PIPEIT_DATABASE_URL at \
         another database"
    )]
    SchemaTooNew {
        /// The URL, password redacted.
        url: String,
        /// The highest unknown migration version found in the database.
        found: i64,
        /// The newest migration this build carries.
        latest_known: i64,
    },
    /// Applying the schema migrations failed.
    #[error("migrating database {url} failed: {source}")]
    Migrate {
        /// The URL, password redacted.
        url: String,
        /// sqlx's migration error.
        source: sqlx::migrate::MigrateError,
    },
    /// A row with the same unique key exists.
    #[error("{what} {key} already exists")]
    Conflict {
        /// The kind of row (`"invoice"`, `"vault event"`, ...).
        what: &'static str,
        /// The key that collided.
        key: String,
    },
    /// A row that should exist does not.
    #[error("{what} {key} not found")]
    NotFound {
        /// The kind of row.
        what: &'static str,
        /// The key looked up.
        key: String,
    },
    /// A status change that the life cycle does not allow, or a row changed under us.
    #[error("{what} {id}: cannot go from {from} to {to}")]
    InvalidTransition {
        /// The kind of row (`"invoice"`, `"outbox entry"`).
        what: &'static str,
        /// Its id.
        id: i64,
        /// Its current status.
        from: String,
        /// The status asked for.
        to: String,
    },
    /// A block batch would move a checkpoint backwards (use `rollback_to` for reorgs).
    #[error(
        "checkpoint of chain {chain_id} contract {contract} is at block {current}; a batch may not move \
         it back to {attempted} (undo a reorg with rollback_to)"
    )]
    CheckpointRegression {
        /// Chain id.
        chain_id: u64,
        /// Indexed contract.
        contract: alloy_primitives::Address,
        /// Block of the stored checkpoint.
        current: u64,
        /// Block the batch carried.
        attempted: u64,
    },
    /// Input the database must not store (checked before anything is written).
    #[error("invalid {what}: {reason}")]
    InvalidInput {
        /// What was invalid.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// An invoice record that does not validate.
    #[error("invalid invoice: {0}")]
    Invoice(#[from] InvoiceError),
    /// A query failed (connection lost, constraint, corrupt value, ...).
    #[error("{op} failed: {source}")]
    Query {
        /// The operation (`"insert invoice"`, `"save block batch"`, ...).
        op: &'static str,
        /// The driver's error; a corrupt stored value shows as a decode error naming the column.
        source: sqlx::Error,
    },
}

impl Error {
    /// Whether this is a [`Error::Conflict`] (a duplicate unique key).
    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::Conflict { .. })
    }
}

/// Names the operation of a failed query.
pub(crate) trait Op<T> {
    fn op(self, op: &'static str) -> Result<T>;
}

impl<T> Op<T> for Result<T, sqlx::Error> {
    fn op(self, op: &'static str) -> Result<T> {
        self.map_err(|source| Error::Query { op, source })
    }
}

/// The database error's kind, for mapping constraint violations to typed errors.
pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|e| e.is_unique_violation())
}

pub(crate) fn is_foreign_key_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|e| e.is_foreign_key_violation())
}

/// A unique violation becomes [`Error::Conflict`] naming the row; anything else a query error.
pub(crate) fn conflict_or(
    error: sqlx::Error,
    op: &'static str,
    what: &'static str,
    key: impl FnOnce() -> String,
) -> Error {
    if is_unique_violation(&error) {
        Error::Conflict { what, key: key() }
    } else {
        Error::Query { op, source: error }
    }
}
