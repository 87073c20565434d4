//! What every handler shares: the database, the chain, the settings, the rate limiter, the metrics.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::providers::DynProvider;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use pipeit_chain::Manifest;
use pipeit_db::Db;

use crate::error::ApiError;
use crate::metrics::Metrics;

/// Settings of the HTTP service.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// The domain investors' sign-in messages must name (EIP-4361 `domain`), e.g. `app.pipeit.dev`.
    pub siwe_domain: String,
    /// How long a sign-in nonce stays usable.
    pub nonce_ttl: Duration,
    /// How long an investor session lasts.
    pub session_ttl: Duration,
    /// How long a quote holds.
    pub quote_ttl: Duration,
    /// Requests per minute per API key or investor session.
    pub rate_limit_per_minute: NonZeroU32,
    /// Origins allowed by CORS (`*` for any; empty for none).
    pub cors_origins: Vec<String>,
    /// Largest accepted body.
    pub body_limit_bytes: usize,
    /// A request taking longer is answered 408 (a stuck dependency cannot hold a connection forever).
    pub request_timeout: Duration,
    /// How long `GET /v1/vault` reuses figures read from the node (Base makes a block every 2 s;
    /// the answer names the block it was read at).
    pub vault_cache_ttl: Duration,
    /// A built web app (`web/dist`) served at `/` beside the API, with the history-API fallback
    /// (an unknown path that is not under `/v1` gets its `index.html`); `None` serves the API only.
    pub web_dir: Option<std::path::PathBuf>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            siwe_domain: "localhost:8080".to_owned(),
            nonce_ttl: Duration::from_secs(10 * 60),
            session_ttl: Duration::from_secs(24 * 3600),
            quote_ttl: Duration::from_secs(15 * 60),
            rate_limit_per_minute: NonZeroU32::new(600).unwrap_or(NonZeroU32::MIN),
            cors_origins: Vec::new(),
            body_limit_bytes: 64 * 1024,
            request_timeout: Duration::from_secs(30),
            vault_cache_ttl: Duration::from_secs(1),
            web_dir: None,
        }
    }
}

/// The service's wall clock: when nonces, sessions and sign-in messages expire. Dates checked
/// against the vault are the chain's ([`AppState::chain_now`]). Tests pass a fixed clock.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> chrono::DateTime<chrono::Utc> + Send + Sync>);

impl Clock {
    /// The system's clock.
    pub fn system() -> Clock {
        Clock(Arc::new(chrono::Utc::now))
    }

    /// A clock that always reads `at`.
    pub fn fixed(at: chrono::DateTime<chrono::Utc>) -> Clock {
        Clock(Arc::new(move || at))
    }

    /// The time now.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        (self.0)()
    }
}

/// The chain the service reads: a provider (no wallet: the service never signs) and the deployment.
#[derive(Debug, Clone)]
pub struct Chain {
    /// RPC provider.
    pub provider: DynProvider,
    /// The deployment manifest.
    pub manifest: Manifest,
}

impl Chain {
    /// An unsigned call of the vault by `from`, with a gas limit: the node's estimate plus a margin
    /// ([`crate::tx::gas_with_margin`]). A call the vault would refuse now is answered 409 with the
    /// contract's error, before any wallet is asked to sign it.
    pub async fn vault_tx_from(
        &self,
        from: alloy::primitives::Address,
        value: alloy::primitives::U256,
        data: Vec<u8>,
        description: &str,
    ) -> Result<crate::tx::UnsignedTx, ApiError> {
        use alloy::providers::Provider;
        let request = alloy::rpc::types::TransactionRequest::default()
            .from(from)
            .to(self.manifest.contracts.vault)
            .value(value)
            .input(data.clone().into());
        let estimate = self.provider.estimate_gas(request).await.map_err(|e| {
            match e.as_error_resp().and_then(|resp| resp.as_revert_data()) {
                Some(revert) => ApiError::conflict(
                    "transaction",
                    format!(
                        "the vault would refuse {description} now: {}",
                        pipeit_chain::revert::decode(&revert).detail
                    ),
                ),
                None => ApiError::unavailable(format!("the node failed to estimate gas: {e}")),
            }
        })?;
        let mut tx = self.vault_tx(value, data, description);
        tx.gas = Some(crate::tx::gas_with_margin(estimate).to_string());
        Ok(tx)
    }

    /// An unsigned call of the vault that anyone may send (no gas limit: the wallet estimates).
    pub fn vault_tx(
        &self,
        value: alloy::primitives::U256,
        data: Vec<u8>,
        description: &str,
    ) -> crate::tx::UnsignedTx {
        crate::tx::UnsignedTx::new(
            self.manifest.chain_id,
            self.manifest.contracts.vault,
            value,
            data,
            description,
        )
    }
}

struct Inner {
    db: Db,
    chain: Chain,
    config: ApiConfig,
    limiter: DefaultKeyedRateLimiter<String>,
    metrics: Metrics,
    sqlite_writes: Option<tokio::sync::Mutex<()>>,
    vault: TtlCache<crate::vault::VaultView>,
    chain_time: TtlCache<chrono::DateTime<chrono::Utc>>,
    clock: Clock,
}

async fn latest_block_time(
    provider: &DynProvider,
) -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
    use alloy::providers::Provider;
    let block = provider
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .map_err(|e| ApiError::unavailable(format!("the node failed: {e}")))?
        .ok_or_else(|| ApiError::unavailable("the node has no latest block"))?;
    let seconds = i64::try_from(block.header.timestamp).unwrap_or(i64::MAX);
    chrono::DateTime::from_timestamp(seconds, 0)
        .ok_or_else(|| ApiError::unavailable("the node's latest block has no valid time"))
}

/// One value reused for `ttl`; concurrent callers wait for a single refresh instead of each
/// asking the node.
pub struct TtlCache<T> {
    ttl: Duration,
    slot: tokio::sync::Mutex<Option<(Instant, Arc<T>)>>,
}

impl<T> TtlCache<T> {
    fn new(ttl: Duration) -> TtlCache<T> {
        TtlCache {
            ttl,
            slot: tokio::sync::Mutex::new(None),
        }
    }

    /// The cached value if younger than the TTL, else `refresh()`'s (cached on success).
    pub async fn get_or_refresh<E, F>(&self, refresh: impl FnOnce() -> F) -> Result<Arc<T>, E>
    where
        F: std::future::Future<Output = Result<T, E>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some((at, value)) = slot.as_ref() {
            if at.elapsed() < self.ttl {
                return Ok(value.clone());
            }
        }
        let value = Arc::new(refresh().await?);
        *slot = Some((Instant::now(), value.clone()));
        Ok(value)
    }
}

/// Shared state; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.0.config)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State over `db` and `chain`, on the system clock.
    pub fn new(db: Db, chain: Chain, config: ApiConfig) -> AppState {
        AppState::with_clock(db, chain, config, Clock::system())
    }

    /// State over `db` and `chain`, on `clock`.
    pub fn with_clock(db: Db, chain: Chain, config: ApiConfig, clock: Clock) -> AppState {
        let limiter = RateLimiter::keyed(Quota::per_minute(config.rate_limit_per_minute));
        // SQLite has one writer: writers queueing on a mutex here wait their turn at once, where
        // racing for the file lock makes SQLite's busy handler sleep (the tail latency).
        let sqlite_writes =
            (db.backend() == pipeit_db::Backend::Sqlite).then(|| tokio::sync::Mutex::new(()));
        let vault = TtlCache::new(config.vault_cache_ttl);
        let chain_time = TtlCache::new(config.vault_cache_ttl);
        AppState(Arc::new(Inner {
            db,
            chain,
            config,
            limiter,
            metrics: Metrics::new(),
            sqlite_writes,
            vault,
            chain_time,
            clock,
        }))
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.0.db
    }

    /// The chain.
    pub fn chain(&self) -> &Chain {
        &self.0.chain
    }

    /// The settings.
    pub fn config(&self) -> &ApiConfig {
        &self.0.config
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// Held while writing: `Some` guard on SQLite (one writer at a time), `None` on PostgreSQL.
    pub async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.0.sqlite_writes {
            Some(gate) => Some(gate.lock().await),
            None => None,
        }
    }

    /// The service's wall clock now (expiry of nonces, sessions, sign-in messages).
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.clock.now()
    }

    /// The chain's clock: the latest block's time. Dates the service checks (an invoice's issue and
    /// due dates, a tax year not yet begun, "now" in the vault's history) are the chain's, which is
    /// what the vault itself checks them against, never the server's wall clock. Read from the node
    /// at most once per `vault_cache_ttl` (a submission does not wait for a block header).
    pub async fn chain_now(&self) -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
        let time = self
            .0
            .chain_time
            .get_or_refresh(|| latest_block_time(&self.0.chain.provider))
            .await?;
        Ok(*time)
    }

    /// The vault figures' cache.
    pub fn vault_cache(&self) -> &TtlCache<crate::vault::VaultView> {
        &self.0.vault
    }

    /// Counts a request of `caller` against its limit (per process: each replica limits alone).
    pub fn check_rate(&self, caller: &str) -> Result<(), ApiError> {
        let caller = caller.to_owned();
        self.0.limiter.check_key(&caller).map_err(|_| {
            self.0.metrics.rate_limited.inc();
            ApiError::rate_limited(format!(
                "more than {} requests per minute: slow down",
                self.0.config.rate_limit_per_minute
            ))
        })
    }
}
