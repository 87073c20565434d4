//! The pipeit keeper: one [`Keeper::tick`] indexes confirmed events, settles what the outbox sent,
//! reads the market signal, scores new invoices, sends their advances in batches, follows invoices
//! through repayment, overdue and write-off, fills the redemption queue and rebalances idle capital.
//! [`run`] repeats it until told to stop; `pipeit keeper tick` runs it once.
//!
//! - [`signals`]: market signals behind one trait (Token Metrics, the on-box model, a file).
//! - [`executor`]: the transaction outbox (intent before sending, reconciliation after, own nonces,
//!   EIP-1559 fee bumping, reverts decoded into the contracts' error names).
//! - [`lock`]: one keeper at a time (PostgreSQL advisory lock, or a lock file next to SQLite).
//! - [`crash`]: injected crash points for the crash-safety tests.
//!
//! Pure decisions (scoring, pricing, the signal model, the rebalancing plan) live in `pipeit-core`.
#![warn(missing_docs, clippy::print_stdout, clippy::print_stderr)]

mod chain;
pub mod crash;
mod deciding;
pub mod executor;
mod lifecycle;
pub mod lock;
pub mod metrics;
mod rebalancing;
pub use pipeit_chain::revert;
pub mod signals;

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::signers::local::PrivateKeySigner;
use chrono::{DateTime, Utc};
use pipeit_chain::Manifest;
use pipeit_core::scoring::Policy;
use pipeit_core::signal::MarketSignal;
use pipeit_core::signal_model::ModelParams;
use pipeit_db::Db;
use pipeit_indexer::{Indexer, IndexerConfig};
use serde::Serialize;

pub use chain::Chain;
pub use executor::{ExecConfig, Executor};
pub use lock::KeeperLock;
pub use metrics::Metrics;
pub use pipeit_core::rebalance::RebalancePolicy;
pub use signals::{SignalError, SignalSource, Signals};

/// Where the keeper's market signal comes from.
#[derive(Debug, Clone)]
pub enum SignalsConfig {
    /// The on-box model over recorded prices (the default).
    OnBox(ModelParams),
    /// A JSON file.
    File(PathBuf),
    /// The Token Metrics API.
    TokenMetrics(signals::TokenMetricsConfig),
}

/// Everything the keeper needs. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct KeeperConfig {
    /// The node.
    pub rpc_url: String,
    /// The database.
    pub database_url: String,
    /// The deployment.
    pub manifest: Manifest,
    /// The keeper's key (from the environment or a keystore, never an argument).
    pub signer: PrivateKeySigner,
    /// Wait between ticks in [`run`].
    pub interval: Duration,
    /// The indexer's settings (confirmations, ranges).
    pub indexer: IndexerConfig,
    /// Scoring and pricing rules.
    pub policy: Policy,
    /// Most invoices per advance transaction.
    pub batch_size: usize,
    /// The signal source.
    pub signals: SignalsConfig,
    /// Gas, fees, simulation.
    pub exec: ExecConfig,
    /// How long a tick waits for its own transactions to be mined before leaving them to the next.
    pub receipt_timeout: Duration,
    /// Serve Prometheus metrics here during [`run`].
    pub metrics_addr: Option<SocketAddr>,
    /// Rebalancing of idle capital (`None`: off).
    pub rebalance: Option<RebalancePolicy>,
}

impl fmt::Debug for KeeperConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeeperConfig")
            .field("rpc_url", &pipeit_chain::redact_url(&self.rpc_url))
            .field("database_url", &pipeit_db::redact(&self.database_url))
            .field("keeper", &self.signer.address())
            .field("interval", &self.interval)
            .field("batch_size", &self.batch_size)
            .field("signals", &self.signals)
            .finish_non_exhaustive()
    }
}

impl KeeperConfig {
    /// Defaults around the required parts: 5 s interval, batches of 25, the on-box model,
    /// rebalancing with [`RebalancePolicy::default`], no metrics server.
    pub fn new(
        rpc_url: String,
        database_url: String,
        manifest: Manifest,
        signer: PrivateKeySigner,
    ) -> Self {
        Self {
            rpc_url,
            database_url,
            manifest,
            signer,
            interval: Duration::from_secs(5),
            indexer: IndexerConfig {
                progress_bar: false,
                ..IndexerConfig::default()
            },
            policy: Policy::default(),
            batch_size: 25,
            signals: SignalsConfig::OnBox(ModelParams::default()),
            exec: ExecConfig::default(),
            receipt_timeout: Duration::from_secs(30),
            metrics_addr: None,
            rebalance: Some(RebalancePolicy::default()),
        }
    }
}

/// What stops a tick.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] pipeit_db::Error),
    /// Connecting to the node failed.
    #[error(transparent)]
    Chain(#[from] pipeit_chain::Error),
    /// The indexer failed.
    #[error("index step: {0}")]
    Index(#[from] pipeit_indexer::Error),
    /// A node call failed after retries.
    #[error("RPC {what} failed: {message}")]
    Rpc {
        /// The call.
        what: &'static str,
        /// The error.
        message: String,
    },
    /// Signing a transaction failed.
    #[error("signing failed: {0}")]
    Sign(String),
    /// A stored record cannot be read back.
    #[error("corrupt keeper record: {0}")]
    Corrupt(String),
    /// The lock could not be taken for a reason other than another keeper.
    #[error("keeper lock: {0}")]
    Lock(String),
    /// Another keeper holds the lock.
    #[error("another keeper is acting on this database (lock held); this one stands by")]
    NotLeader,
    /// A signal error that retrying cannot fix.
    #[error(transparent)]
    Signal(#[from] SignalError),
    /// Bad configuration.
    #[error("configuration: {0}")]
    Config(String),
}

/// What a tick did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TickReport {
    /// Chain time of the tick (unix seconds).
    pub chain_time: u64,
    /// Events indexed.
    pub events_indexed: u64,
    /// The signal used (source, risk, trend), if any.
    pub signal: Option<String>,
    /// Why scoring and advances were skipped (oracle down, stale price, ...), if they were.
    pub blocked: Option<String>,
    /// Invoices accepted by scoring.
    pub accepted: u64,
    /// Invoices declined.
    pub declined: u64,
    /// Invoices sent to manual review.
    pub manual_review: u64,
    /// Advance transactions sent.
    pub advance_batches: u64,
    /// Invoices in them.
    pub invoices_sent: u64,
    /// Invoices whose advance was mined (this tick or reconciled from before).
    pub invoices_advanced: u64,
    /// Transactions refused at simulation or reverted, with their error names.
    pub reverts: Vec<String>,
    /// Invoices seen repaid.
    pub repaid: u64,
    /// Invoices marked overdue.
    pub overdue: u64,
    /// Write-offs sent.
    pub write_offs_sent: u64,
    /// Invoices seen written off.
    pub written_off: u64,
    /// `settle()` sent.
    pub settled: bool,
    /// `processQueue` sent.
    pub queue_processed: bool,
    /// The rebalancing decision, if one was taken.
    pub rebalance: Option<String>,
    /// Outbox entries still waiting to be mined.
    pub pending_txs: u64,
}

impl TickReport {
    /// Whether anything went wrong that an operator should look at (a revert, a block).
    pub fn has_problems(&self) -> bool {
        !self.reverts.is_empty() || self.blocked.is_some()
    }
}

/// The keeper: holds the lock for as long as it lives.
pub struct Keeper {
    config: KeeperConfig,
    db: Db,
    chain: Chain,
    indexer: Indexer,
    executor: Executor,
    signals: Signals,
    metrics: Metrics,
    _lock: KeeperLock,
}

impl fmt::Debug for Keeper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keeper")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Keeper {
    /// Connects, takes the lock ([`Error::NotLeader`] if another keeper has it) and gets ready.
    pub async fn start(config: KeeperConfig) -> Result<Keeper, Error> {
        let db = Db::connect(&config.database_url).await?;
        Self::start_with_db(config, db).await
    }

    /// Like [`Keeper::start`] on an open database.
    pub async fn start_with_db(config: KeeperConfig, db: Db) -> Result<Keeper, Error> {
        if config.batch_size == 0 {
            return Err(Error::Config("batch_size must be at least 1".into()));
        }
        pipeit_core::pricing::check_policy(&config.policy)
            .map_err(|e| Error::Config(e.to_string()))?;
        let lock = lock::try_acquire(&db, &config.database_url)
            .await?
            .ok_or(Error::NotLeader)?;
        let provider = pipeit_chain::connect(&config.rpc_url, &config.manifest).await?;
        let chain = Chain::new(provider.clone(), config.manifest.clone());
        let from = config.signer.address();
        if !chain.is_keeper(from).await? {
            tracing::warn!(%from, "this key does not hold the vault's KEEPER_ROLE: advances and write-offs will be refused");
        }
        let wallet = EthereumWallet::from(config.signer.clone());
        let executor = Executor::new(
            db.clone(),
            provider.clone(),
            wallet,
            from,
            config.manifest.chain_id,
            config.exec.clone(),
        );
        let indexer = Indexer::new(
            db.clone(),
            provider,
            config.manifest.clone(),
            config.indexer.clone(),
        );
        let at = indexer.chain_contract();
        let signals = match &config.signals {
            SignalsConfig::OnBox(params) => {
                Signals::OnBox(signals::OnBox::new(db.clone(), at, params.clone()))
            }
            SignalsConfig::File(path) => Signals::File(signals::FileSignal::new(path)),
            SignalsConfig::TokenMetrics(tm) => {
                Signals::TokenMetrics(signals::TokenMetrics::new(tm.clone(), db.clone())?)
            }
        };
        tracing::info!(keeper = %from, signals = signals.name(), "keeper started (lock held)");
        Ok(Keeper {
            config,
            db,
            chain,
            indexer,
            executor,
            signals,
            metrics: Metrics::new(),
            _lock: lock,
        })
    }

    /// The metrics registry (for a server).
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// One pass (see the crate documentation). Each step's outcome is in the report; a step that
    /// cannot run (oracle down) is reported in [`TickReport::blocked`], not as an error.
    pub async fn tick(&mut self) -> Result<TickReport, Error> {
        let result = self.tick_inner().await;
        self.metrics.record_tick(result.as_ref().ok());
        if let Ok(report) = &result {
            if let Ok(lag) = self
                .chain
                .lag(&self.db, self.indexer.chain_contract())
                .await
            {
                self.metrics.lag_blocks.set(lag);
            }
            if let Ok(balance) = self.chain.balance(self.executor.from()).await {
                self.metrics.keeper_balance_gwei.set(balance);
            }
            self.metrics
                .pending_txs
                .set(i64::try_from(report.pending_txs).unwrap_or(i64::MAX));
        }
        result
    }

    async fn tick_inner(&mut self) -> Result<TickReport, Error> {
        let mut report = TickReport::default();
        let index = self.indexer.sync_once().await?;
        report.events_indexed = index.events;
        let now = self.chain.now().await?;
        report.chain_time = u64::try_from(now.timestamp()).unwrap_or(0);

        // Whatever was sent before (this process or one that died) is settled first.
        self.executor.send_pending().await?;
        let settled = self.executor.reconcile().await?;
        self.apply_settled(&settled, &mut report).await?;
        self.recover_advances(&mut report).await?;

        let signal = self.signal(now).await?;
        report.signal = signal
            .as_ref()
            .map(|s| format!("{} risk {} trend {}", s.source, s.risk, s.trend));

        match self.chain.oracle_check().await? {
            Err(why) => {
                tracing::warn!(reason = %why, "oracle not usable: no scoring and no advance this tick");
                report.blocked = Some(why);
            }
            Ok(price) => {
                let quotes = self
                    .score_submitted(&price, signal.as_ref(), now, &mut report)
                    .await?;
                self.advance_scored(&price, signal.as_ref(), now, quotes, &mut report)
                    .await?;
            }
        }

        self.follow_invoices(now, &mut report).await?;
        self.settle_and_queue(now, &mut report).await?;
        if let Some(policy) = self.config.rebalance.clone() {
            if report.blocked.is_none() {
                self.rebalance(&policy, signal.as_ref(), now, &mut report)
                    .await?;
            }
        }
        report.pending_txs = u64::try_from(
            self.db
                .outbox_list(pipeit_db::OutboxStatus::Sent)
                .await?
                .len()
                + self.db.outbox_pending().await?.len(),
        )
        .unwrap_or(u64::MAX);
        Ok(report)
    }

    /// The signal from the source, recorded; on a passing failure the last recorded one (pricing
    /// treats a stale signal as unknown).
    async fn signal(&mut self, now: DateTime<Utc>) -> Result<Option<MarketSignal>, Error> {
        match self.signals.fetch(now).await {
            Ok(signal) => {
                self.db.record_market_signal(&signal).await?;
                Ok(Some(signal))
            }
            Err(e) if e.is_fatal() => Err(e.into()),
            Err(e) => {
                tracing::warn!(source = self.signals.name(), error = %e, "no fresh signal; using the last recorded one");
                Ok(self.db.latest_market_signal(None).await?)
            }
        }
    }
}

/// Runs the keeper until `shutdown` resolves: tick, wait `interval`, again. A SIGTERM (resolving
/// `shutdown`) lets the current tick finish, then returns. A failed tick is logged and retried
/// with backoff (RPC down for a while: it carries on when the node is back). When another keeper
/// holds the lock, this one stands by and tries again each interval.
pub async fn run(
    config: KeeperConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let (stop_tx, mut stop) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let interval = config.interval;
    let mut keeper = loop {
        match Keeper::start(config.clone()).await {
            Ok(k) => break k,
            Err(Error::NotLeader) => {
                tracing::info!("another keeper holds the lock; standing by");
            }
            Err(e) => {
                tracing::warn!(error = %e, "keeper could not start; retrying");
            }
        }
        tokio::select! {
            _ = stop.changed() => return Ok(()),
            () = tokio::time::sleep(interval) => {}
        }
    };
    if let Some(addr) = config.metrics_addr {
        keeper.metrics.serve(addr).await?;
    }
    let mut wait = interval;
    loop {
        match keeper.tick().await {
            Ok(report) => {
                wait = interval;
                tracing::info!(?report, "tick");
            }
            Err(e @ Error::Signal(_)) => return Err(e),
            Err(e) => {
                wait = (wait * 2).min(Duration::from_secs(60));
                tracing::warn!(error = %e, retry_in = ?wait, "tick failed");
            }
        }
        if *stop.borrow() {
            tracing::info!("stopping after the step in progress");
            return Ok(());
        }
        tokio::select! {
            _ = stop.changed() => {
                tracing::info!("stopping");
                return Ok(());
            }
            () = tokio::time::sleep(wait) => {}
        }
    }
}
