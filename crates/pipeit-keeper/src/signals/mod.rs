//! Market signals: one trait, three sources.
//!
//! - [`TokenMetrics`]: the Token Metrics API (`/v2` trading signals, trader grades, price), when an
//!   API key is set; cached in the database and kept inside a daily call budget.
//! - [`OnBox`]: the on-box model over the ETH/USD prices the indexer records
//!   ([`pipeit_core::signal_model`]).
//! - [`FileSignal`]: a JSON file (an operator's override, or a test's).
//!
//! Every source yields a [`MarketSignal`] (risk 0..1, trend -1..1); pricing and rebalancing use
//! nothing else, so a source can be swapped without touching them.

mod file;
mod onbox;
mod token_metrics;

use std::future::Future;

use chrono::{DateTime, Utc};
use pipeit_core::signal::MarketSignal;

pub use file::FileSignal;
pub use onbox::OnBox;
pub use token_metrics::{ApiKey, TokenMetrics, TokenMetricsConfig, TOKEN_METRICS_SOURCE};

/// Why a source has no signal now.
#[derive(Debug, thiserror::Error)]
pub enum SignalError {
    /// The API refused the key: nothing will work until it is fixed. Fatal.
    #[error("Token Metrics rejected the API key (HTTP {status}): check PIPEIT_TOKEN_METRICS_API_KEY (the key is never logged)")]
    Unauthorized {
        /// 401 or 403.
        status: u16,
    },
    /// The API answered with an error after the retries.
    #[error("Token Metrics {path}: HTTP {status} after {attempts} attempt(s): {message}")]
    Http {
        /// Endpoint.
        path: String,
        /// Last status.
        status: u16,
        /// Attempts made.
        attempts: u32,
        /// What it said (trimmed).
        message: String,
    },
    /// The API could not be reached after the retries.
    #[error("Token Metrics {path}: unreachable after {attempts} attempt(s): {message}")]
    Unreachable {
        /// Endpoint.
        path: String,
        /// Attempts made.
        attempts: u32,
        /// The transport error.
        message: String,
    },
    /// The envelope said `success: false`.
    #[error("Token Metrics {path}: {message}")]
    Api {
        /// Endpoint.
        path: String,
        /// Its `message`.
        message: String,
    },
    /// The daily call budget is used up and nothing is cached.
    #[error("Token Metrics: the daily budget of {budget} calls is used up and no cached answer exists for {path}; the keeper uses another source until tomorrow (UTC)")]
    QuotaExhausted {
        /// Endpoint.
        path: String,
        /// The budget.
        budget: u32,
    },
    /// A response or file that does not have the expected shape.
    #[error("{what}: {reason}")]
    Malformed {
        /// What was read.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// Not enough data for a signal.
    #[error("{0}")]
    NoData(String),
    /// Reading a file failed.
    #[error("signal file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The database failed.
    #[error(transparent)]
    Db(#[from] pipeit_db::Error),
}

impl SignalError {
    /// Whether retrying later cannot help (a bad key): the keeper stops and says so.
    pub fn is_fatal(&self) -> bool {
        matches!(self, SignalError::Unauthorized { .. })
    }
}

/// A source of market signals.
pub trait SignalSource {
    /// A short name for logs and the stored signal.
    fn name(&self) -> &str;

    /// The signal as of `now`.
    fn fetch(
        &self,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<MarketSignal, SignalError>> + Send;
}

/// The source the keeper is configured with.
#[derive(Debug)]
pub enum Signals {
    /// The Token Metrics API.
    TokenMetrics(TokenMetrics),
    /// The on-box model.
    OnBox(OnBox),
    /// A file.
    File(FileSignal),
}

impl SignalSource for Signals {
    fn name(&self) -> &str {
        match self {
            Signals::TokenMetrics(s) => s.name(),
            Signals::OnBox(s) => s.name(),
            Signals::File(s) => s.name(),
        }
    }

    async fn fetch(&self, now: DateTime<Utc>) -> Result<MarketSignal, SignalError> {
        match self {
            Signals::TokenMetrics(s) => s.fetch(now).await,
            Signals::OnBox(s) => s.fetch(now).await,
            Signals::File(s) => s.fetch(now).await,
        }
    }
}
