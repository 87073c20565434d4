//! The crate's one error type: every message names the field or the fix.

/// Why a report cannot be produced (or stopped part-way).
#[derive(Debug, thiserror::Error)]
pub enum TaxError {
    /// A request field is wrong; the message names the field and what it accepts.
    #[error("invalid {field} {value:?}: {reason}")]
    InvalidField {
        /// The request field (`address`, `year`, `method`, `format`, `tz`, `from`, `to`).
        field: &'static str,
        /// What was given.
        value: String,
        /// What is accepted.
        reason: String,
    },
    /// The address never appears in the indexed vault events.
    #[error(
        "unknown address {address}: no vault activity is indexed for it (check the address, or run \
         `pipeit index` if the chain has moved on)"
    )]
    UnknownAddress {
        /// The address asked for.
        address: String,
    },
    /// The index lacks something a report needs (a price, a timestamp, shares that were never
    /// acquired); re-indexing from the deployment block repairs it.
    #[error(
        "the index is incomplete at block {block}: {reason} (re-index from the deployment block)"
    )]
    IncompleteIndex {
        /// The block of the event that could not be reported.
        block: u64,
        /// What is missing.
        reason: String,
    },
    /// Reading the database failed.
    #[error("reading the index failed: {0}")]
    Db(#[from] sqlx::Error),
    /// Writing CSV failed (only in-memory buffers are written here: a bug, not an input problem).
    #[error("writing CSV failed: {0}")]
    Csv(#[from] csv::Error),
    /// A number did not fit (fiat values beyond 28 significant digits).
    #[error("arithmetic overflow at block {block}: {what}")]
    Overflow {
        /// The block of the event.
        block: u64,
        /// Which figure.
        what: &'static str,
    },
}

impl TaxError {
    /// The request field at fault, for an HTTP 400 body (`None` for other errors).
    pub fn field(&self) -> Option<&'static str> {
        match self {
            TaxError::InvalidField { field, .. } => Some(field),
            TaxError::UnknownAddress { .. } => Some("address"),
            _ => None,
        }
    }

    /// Whether the caller is at fault (bad request or unknown address) rather than the server.
    pub fn is_client_error(&self) -> bool {
        self.field().is_some()
    }
}

/// Result with [`TaxError`].
pub type Result<T, E = TaxError> = std::result::Result<T, E>;
