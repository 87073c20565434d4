//! The indexer: a forward-only, checkpointed, reorg-aware sync of the vault's logs into the
//! database.
//!
//! One pass ([`Indexer::sync_once`]) goes from the stored checkpoint (or the manifest's deployment
//! block) to the *safe head*, `latest − confirmations`, in ranges of blocks. Per range:
//! 1. `eth_getLogs` for the vault's address (its own events, the events its external libraries emit
//!    from its address, and the ERC-20 `Transfer`s of its shares). A failing call is retried with
//!    half the range, down to one block; after a success the range grows back (×2, up to
//!    `max_range`).
//! 2. Headers of the range's last block, of every block with a log, and of the blocks within
//!    `reorg_window` of the safe head; the first block's parent must be the stored checkpoint's
//!    hash, and every log's block hash the header's, or the pass starts over.
//! 3. Each log decoded with the bindings (typed: name, account, shares, assets, invoice id) and the
//!    ABI (every field as JSON, uint256 as a decimal string); at each block with a log, the
//!    ETH/USD feed's `latestRoundData` and the vault's `totalAssets`/`totalSupply`, read *at that
//!    block*.
//! 4. For each transaction with an investor event (deposit, withdrawal, share transfer, queue
//!    request, claim, cancel), its receipt: sender and gas used × effective gas price (the tax
//!    reports count the gas of the investor's own transactions).
//! 5. Everything in ONE [`Db::save_block_batch_with_fees`]: rows and checkpoint move together, so a
//!    crash anywhere leaves no duplicate and no gap.
//!
//! Before each pass the checkpoint's hash is compared with the chain's. A mismatch is a reorg: the
//! newest stored block that still matches is the fork point, [`Db::rollback_to`] undoes everything
//! above it, and the pass replays from there.
#![warn(missing_docs, clippy::print_stdout, clippy::print_stderr)]

mod decode;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::io::IsTerminal;
use std::time::Duration;

use alloy::eips::BlockId;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{Filter, Header, Log};
use alloy::transports::TransportError;
use pipeit_chain::bindings::{DevPriceFeed, FactoringVault};
use pipeit_chain::Manifest;
use pipeit_db::{BlockBatch, BlockRecord, ChainContract, Db, EthUsdPrice, SharePrice, TxFee};
use rust_decimal::Decimal;

pub use decode::{decode_log, DecodedLog};

/// How the indexer runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexerConfig {
    /// A block counts once this many blocks are on top of it (the safe head is `latest − this`).
    pub confirmations: u64,
    /// Most blocks per `eth_getLogs` call.
    pub max_range: u64,
    /// Blocks below the safe head whose hashes are kept to find the fork point of a reorg.
    pub reorg_window: u64,
    /// Wait between passes in [`Indexer::run`].
    pub poll_interval: Duration,
    /// Show a progress bar for a long backfill when stderr is a terminal.
    pub progress_bar: bool,
}

impl Default for IndexerConfig {
    /// The devnet's: 2 confirmations, 2,000 blocks per call, a 64-block window, a pass every 2 s.
    fn default() -> Self {
        IndexerConfig {
            confirmations: 2,
            max_range: 2_000,
            reorg_window: 64,
            poll_interval: Duration::from_secs(2),
            progress_bar: true,
        }
    }
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// The checkpoint after the pass (`None` if nothing was ever indexed).
    pub checkpoint: Option<u64>,
    /// The safe head the pass went to.
    pub safe_head: u64,
    /// Ranges stored.
    pub batches: u64,
    /// Events stored.
    pub events: u64,
    /// Reorgs undone: each rolled back to a fork point and replayed.
    pub reorgs: u64,
    /// The fork points rolled back to.
    pub rolled_back_to: Vec<u64>,
}

/// What stops the indexer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] pipeit_db::Error),
    /// A node call failed (after retries where they make sense).
    #[error("RPC {what} failed: {source}")]
    Rpc {
        /// The call.
        what: String,
        /// The transport error.
        source: TransportError,
    },
    /// The node has no receipt for a transaction whose log it returned.
    #[error("the node has no receipt for transaction {0:#x}: is it still syncing?")]
    MissingReceipt(B256),
    /// The node does not have a block it should have.
    #[error("the node has no block {0}: is it still syncing?")]
    MissingBlock(u64),
}

/// Events an investor's own transaction emits: their transactions' gas is recorded.
const INVESTOR_EVENTS: [&str; 6] = [
    "Deposit",
    "Withdraw",
    "Transfer",
    "RedeemRequested",
    "RedeemClaimed",
    "RedeemCancelled",
];

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn rpc(what: impl Into<String>) -> impl FnOnce(TransportError) -> Error {
    let what = what.into();
    move |source| Error::Rpc { what, source }
}

/// The vault's indexer. See the crate documentation.
pub struct Indexer {
    db: Db,
    provider: DynProvider,
    manifest: Manifest,
    config: IndexerConfig,
    at: ChainContract,
    /// The current `eth_getLogs` range (halved on errors, grown back on success).
    range: u64,
    feed_decimals: Option<u8>,
    /// Time of the last share price recorded (loaded from the database on first use).
    last_share_sample: Option<u64>,
}

/// The share price moves without events (fees accrue, strategies gain or lose): besides each event's
/// block, a pass records it at its last block when this much chain time passed since the last record,
/// so a chart drawn from the history shows those moves.
pub const SHARE_PRICE_SAMPLE_EVERY: u64 = 3_600;

/// Why a range was not stored.
enum RangeOutcome {
    Stored {
        events: u64,
        to: u64,
    },
    /// The chain changed under the pass: start over (verify the checkpoint first).
    Moved,
}

impl Indexer {
    /// An indexer of `manifest`'s vault on `provider` (see [`pipeit_chain::connect`]) into `db`.
    pub fn new(
        db: Db,
        provider: DynProvider,
        manifest: Manifest,
        config: IndexerConfig,
    ) -> Indexer {
        let at = ChainContract {
            chain_id: manifest.chain_id,
            contract: manifest.contracts.vault,
        };
        let range = config.max_range.max(1);
        Indexer {
            db,
            provider,
            manifest,
            config,
            at,
            range,
            feed_decimals: None,
            last_share_sample: None,
        }
    }

    /// The index key (chain id, vault address) of the rows this indexer writes.
    pub fn chain_contract(&self) -> ChainContract {
        self.at
    }

    /// Runs passes until `shutdown` resolves. A failed pass is logged and retried after the poll
    /// interval (with backoff, up to a minute). Stopping mid-pass is safe: a range is stored in one
    /// transaction or not at all.
    pub async fn run(&mut self, shutdown: impl Future<Output = ()>) -> Result<()> {
        tokio::pin!(shutdown);
        let mut wait = self.config.poll_interval;
        loop {
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                result = self.sync_once() => match result {
                    Ok(report) => {
                        wait = self.config.poll_interval;
                        if report.events > 0 || report.reorgs > 0 {
                            tracing::info!(?report, "indexed");
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, retry_in = ?wait, "index pass failed");
                        wait = (wait * 2).min(Duration::from_secs(60));
                    }
                },
            }
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// One pass up to the safe head (see the crate documentation).
    pub async fn sync_once(&mut self) -> Result<SyncReport> {
        self.sync_to(None).await
    }

    /// One pass up to `min(safe head, until)`: stops early, e.g. to test a restart mid-backfill.
    pub async fn sync_until(&mut self, until: u64) -> Result<SyncReport> {
        self.sync_to(Some(until)).await
    }

    async fn sync_to(&mut self, until: Option<u64>) -> Result<SyncReport> {
        let mut report = SyncReport::default();
        let head = self
            .provider
            .get_block_number()
            .await
            .map_err(rpc("eth_blockNumber"))?;
        let safe_head = head.saturating_sub(self.config.confirmations);
        let target = until.map_or(safe_head, |u| u.min(safe_head));
        report.safe_head = safe_head;
        let mut progress: Option<indicatif::ProgressBar> = None;
        'pass: loop {
            if let Some(fork) = self.undo_reorg().await? {
                report.reorgs += 1;
                report.rolled_back_to.push(fork);
            }
            let mut next = self.next_block().await?;
            if progress.is_none() && target >= next {
                progress = self.progress(target + 1 - next);
            }
            while next <= target {
                match self.index_range(next, target, safe_head).await? {
                    RangeOutcome::Stored { events, to } => {
                        report.batches += 1;
                        report.events += events;
                        match &progress {
                            Some(bar) => bar.inc(to + 1 - next),
                            None => tracing::debug!(from = next, to, events, "indexed range"),
                        }
                        if progress.is_none() && target - to > self.config.max_range {
                            tracing::info!(block = to, target, "backfilling");
                        }
                        next = to + 1;
                    }
                    RangeOutcome::Moved => continue 'pass,
                }
            }
            break;
        }
        if let Some(bar) = progress {
            bar.finish_and_clear();
        }
        if safe_head > self.config.reorg_window {
            self.db
                .prune_block_hashes(self.at, safe_head - self.config.reorg_window)
                .await?;
        }
        report.checkpoint = self.db.checkpoint(self.at).await?.map(|c| c.block_number);
        Ok(report)
    }

    fn progress(&self, blocks: u64) -> Option<indicatif::ProgressBar> {
        let long = blocks > 4 * self.config.max_range;
        if !(self.config.progress_bar && long && std::io::stderr().is_terminal()) {
            return None;
        }
        let bar = indicatif::ProgressBar::new(blocks);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "indexing {bar:40} {pos}/{len} blocks ({per_sec}, eta {eta})",
        ) {
            bar.set_style(style);
        }
        Some(bar)
    }

    /// The first block not yet indexed.
    async fn next_block(&self) -> Result<u64> {
        Ok(match self.db.checkpoint(self.at).await? {
            Some(c) => c.block_number + 1,
            None => self.manifest.deployment_block,
        })
    }

    /// Compares the checkpoint with the chain; on a mismatch rolls back to the fork point and
    /// returns it.
    async fn undo_reorg(&self) -> Result<Option<u64>> {
        let Some(checkpoint) = self.db.checkpoint(self.at).await? else {
            return Ok(None);
        };
        let Some(stored) = checkpoint.block_hash else {
            return Ok(None); // rolled back below the window: nothing to compare with
        };
        if self.chain_hash(checkpoint.block_number).await? == Some(stored) {
            return Ok(None);
        }
        // The newest stored block the chain still has is the fork point.
        let floor = checkpoint
            .block_number
            .saturating_sub(self.config.reorg_window + self.config.confirmations)
            .max(self.manifest.deployment_block);
        let mut fork = None;
        let mut n = checkpoint.block_number;
        while n > floor {
            n -= 1;
            if let Some(record) = self.db.block(self.at, n).await? {
                if self.chain_hash(n).await? == Some(record.hash) {
                    fork = Some(n);
                    break;
                }
            }
        }
        // Deeper than the window: replay from the deployment block (slow, but right).
        let fork = fork.unwrap_or(self.manifest.deployment_block.saturating_sub(1));
        tracing::warn!(
            checkpoint = checkpoint.block_number,
            fork,
            "reorg: rolling back to the fork point and replaying"
        );
        self.db.rollback_to(self.at, fork).await?;
        Ok(Some(fork))
    }

    async fn chain_hash(&self, number: u64) -> Result<Option<B256>> {
        Ok(self.header(number).await?.map(|h| h.hash))
    }

    async fn header(&self, number: u64) -> Result<Option<Header>> {
        let block = self
            .provider
            .get_block_by_number(number.into())
            .await
            .map_err(rpc(format!("eth_getBlockByNumber({number})")))?;
        Ok(block.map(|b| b.header))
    }

    /// `eth_getLogs` from `from`, as many blocks as the current range allows (halving on errors).
    async fn logs(&mut self, from: u64, target: u64) -> Result<(u64, Vec<Log>)> {
        loop {
            let to = target.min(from.saturating_add(self.range - 1));
            let filter = Filter::new()
                .address(self.at.contract)
                .from_block(from)
                .to_block(to);
            match self.provider.get_logs(&filter).await {
                Ok(logs) => {
                    self.range = (self.range * 2).min(self.config.max_range.max(1));
                    return Ok((to, logs));
                }
                Err(source) if self.range > 1 => {
                    self.range = (self.range / 2).max(1);
                    tracing::debug!(from, to, range = self.range, %source, "eth_getLogs failed: halving the range");
                }
                Err(source) => {
                    return Err(Error::Rpc {
                        what: format!("eth_getLogs({from}..={to})"),
                        source,
                    })
                }
            }
        }
    }

    async fn index_range(
        &mut self,
        from: u64,
        target: u64,
        safe_head: u64,
    ) -> Result<RangeOutcome> {
        let (to, logs) = self.logs(from, target).await?;

        // Headers: the first block (parent check), the last (checkpoint), blocks with logs, and the
        // blocks near the safe head (reorg window).
        let window_start = safe_head.saturating_sub(self.config.reorg_window).max(from);
        let mut numbers: BTreeSet<u64> = [from, to].into_iter().collect();
        numbers.extend(logs.iter().filter_map(|l| l.block_number));
        numbers.extend(window_start..=to);
        let headers = self.headers(&numbers).await?;

        let checkpoint = self.db.checkpoint(self.at).await?;
        if let Some(expected) = checkpoint.as_ref().and_then(|c| c.block_hash) {
            if checkpoint.as_ref().map(|c| c.block_number + 1) == Some(from)
                && headers.get(&from).map(|h| h.parent_hash) != Some(expected)
            {
                tracing::info!(
                    block = from,
                    "parent hash changed under the indexer: re-checking"
                );
                return Ok(RangeOutcome::Moved);
            }
        }
        for log in &logs {
            let (Some(n), Some(hash)) = (log.block_number, log.block_hash) else {
                return Ok(RangeOutcome::Moved); // a pending log: the node moved
            };
            if headers.get(&n).map(|h| h.hash) != Some(hash) {
                return Ok(RangeOutcome::Moved);
            }
        }
        let last = headers.get(&to).ok_or(Error::MissingBlock(to))?;

        let mut batch = BlockBatch {
            checkpoint_block: to,
            checkpoint_hash: last.hash,
            ..BlockBatch::default()
        };
        batch.blocks = headers
            .values()
            .map(|h| BlockRecord {
                number: h.number,
                hash: h.hash,
                parent_hash: h.parent_hash,
            })
            .collect();
        for log in &logs {
            batch.events.push(decode_log(log).into_event(log));
        }
        let event_blocks: BTreeSet<u64> = batch.events.iter().map(|e| e.block_number).collect();
        for &n in &event_blocks {
            if let Some(price) = self.eth_usd_at(n).await? {
                batch.eth_usd_prices.push(price);
            }
            let timestamp = headers.get(&n).map_or(0, |h| h.timestamp);
            if let Some(share) = self.share_price_at(n, timestamp).await? {
                batch.share_prices.push(share);
            }
        }
        if !event_blocks.contains(&to) && self.share_price_due(last.timestamp).await? {
            if let Some(share) = self.share_price_at(to, last.timestamp).await? {
                batch.share_prices.push(share);
            }
        }
        if let Some(latest) = batch.share_prices.iter().map(|p| p.timestamp).max() {
            self.last_share_sample = Some(latest);
        }
        let fees = self.tx_fees(&batch).await?;
        let events = batch.events.len() as u64;
        self.db
            .save_block_batch_with_fees(self.at, &batch, &fees)
            .await?;
        Ok(RangeOutcome::Stored { events, to })
    }

    async fn headers(&self, numbers: &BTreeSet<u64>) -> Result<BTreeMap<u64, Header>> {
        let mut out = BTreeMap::new();
        let numbers: Vec<u64> = numbers.iter().copied().collect();
        for chunk in numbers.chunks(16) {
            let mut set = tokio::task::JoinSet::new();
            for &n in chunk {
                let provider = self.provider.clone();
                set.spawn(async move { (n, provider.get_block_by_number(n.into()).await) });
            }
            while let Some(joined) = set.join_next().await {
                let Ok((n, result)) = joined else {
                    continue; // a panicked fetch: the header is missing below
                };
                let block = result.map_err(rpc(format!("eth_getBlockByNumber({n})")))?;
                let block = block.ok_or(Error::MissingBlock(n))?;
                out.insert(n, block.header);
            }
        }
        for n in &numbers {
            if !out.contains_key(n) {
                return Err(Error::MissingBlock(*n));
            }
        }
        Ok(out)
    }

    /// Sender and gas of each transaction in `batch` that carries an investor event.
    async fn tx_fees(&self, batch: &BlockBatch) -> Result<Vec<TxFee>> {
        let hashes: BTreeSet<B256> = batch
            .events
            .iter()
            .filter(|e| INVESTOR_EVENTS.contains(&e.name.as_str()))
            .map(|e| e.tx_hash)
            .collect();
        let hashes: Vec<B256> = hashes.into_iter().collect();
        let mut fees = Vec::with_capacity(hashes.len());
        for chunk in hashes.chunks(16) {
            let mut set = tokio::task::JoinSet::new();
            for &hash in chunk {
                let provider = self.provider.clone();
                set.spawn(async move { (hash, provider.get_transaction_receipt(hash).await) });
            }
            while let Some(joined) = set.join_next().await {
                let Ok((hash, result)) = joined else {
                    continue; // a panicked fetch: the count check below reports it
                };
                let what = || format!("eth_getTransactionReceipt({hash:#x})");
                let receipt = result.map_err(rpc(what()))?;
                // A log's transaction always has a receipt; none means the node moved under us.
                let receipt = receipt.ok_or_else(|| Error::MissingReceipt(hash))?;
                fees.push(TxFee {
                    tx_hash: hash,
                    block_number: receipt.block_number.unwrap_or_default(),
                    from: receipt.from,
                    gas_used: U256::from(receipt.gas_used),
                    effective_gas_price: U256::from(receipt.effective_gas_price),
                });
            }
        }
        fees.sort_by_key(|f| f.tx_hash);
        let got: BTreeSet<B256> = fees.iter().map(|f| f.tx_hash).collect();
        if let Some(missing) = hashes.iter().find(|h| !got.contains(*h)) {
            return Err(Error::MissingReceipt(*missing));
        }
        Ok(fees)
    }

    /// The ETH/USD feed's latest round at block `n`; `None` (and a warning) if the call reverts.
    async fn eth_usd_at(&mut self, n: u64) -> Result<Option<EthUsdPrice>> {
        let feed = DevPriceFeed::new(self.manifest.contracts.eth_usd_feed, &self.provider);
        let decimals = match self.feed_decimals {
            Some(d) => d,
            None => match feed.decimals().call().await {
                Ok(d) => {
                    self.feed_decimals = Some(d);
                    d
                }
                Err(e) => return reverted_or_err(e, "ETH/USD feed decimals()", n),
            },
        };
        let round = match feed
            .latestRoundData()
            .block(BlockId::number(n))
            .call()
            .await
        {
            Ok(round) => round,
            Err(e) => return reverted_or_err(e, "ETH/USD feed latestRoundData()", n),
        };
        let Ok(answer) = i128::try_from(round.answer) else {
            tracing::warn!(block = n, answer = %round.answer, "ETH/USD answer out of range: not recorded");
            return Ok(None);
        };
        let price = Decimal::try_from_i128_with_scale(answer, u32::from(decimals))
            .map(|p| p.normalize())
            .ok();
        Ok(price.map(|price| EthUsdPrice {
            block_number: n,
            price,
            round_id: U256::from(round.roundId),
            updated_at: round.updatedAt.saturating_to(),
        }))
    }

    /// Whether a share price is due at chain time `timestamp` ([`SHARE_PRICE_SAMPLE_EVERY`]).
    async fn share_price_due(&mut self, timestamp: u64) -> Result<bool> {
        let last = match self.last_share_sample {
            Some(last) => last,
            None => {
                let recorded = self
                    .db
                    .share_price_at_or_before(self.at, i64::MAX.unsigned_abs())
                    .await?;
                let last = recorded.map_or(0, |p| p.timestamp);
                self.last_share_sample = Some(last);
                last
            }
        };
        Ok(timestamp >= last.saturating_add(SHARE_PRICE_SAMPLE_EVERY))
    }

    /// The vault's `totalAssets()` and `totalSupply()` at block `n`.
    async fn share_price_at(&self, n: u64, timestamp: u64) -> Result<Option<SharePrice>> {
        let vault = FactoringVault::new(self.at.contract, &self.provider);
        let total_assets = match vault.totalAssets().block(BlockId::number(n)).call().await {
            Ok(v) => v,
            Err(e) => return reverted_or_err(e, "vault totalAssets()", n),
        };
        let total_supply = match vault.totalSupply().block(BlockId::number(n)).call().await {
            Ok(v) => v,
            Err(e) => return reverted_or_err(e, "vault totalSupply()", n),
        };
        Ok(Some(SharePrice {
            block_number: n,
            timestamp,
            total_assets,
            total_supply,
        }))
    }

    /// The vault being indexed.
    pub fn vault(&self) -> Address {
        self.at.contract
    }
}

/// A revert at a past block is final (retrying cannot help): skip the row with a warning. A
/// transport failure is an error (the pass is retried).
fn reverted_or_err<T>(error: alloy::contract::Error, what: &str, block: u64) -> Result<Option<T>> {
    match error {
        alloy::contract::Error::TransportError(source) if source.as_error_resp().is_none() => {
            Err(Error::Rpc {
                what: format!("{what} at block {block}"),
                source,
            })
        }
        other => {
            tracing::warn!(block, error = %other, "{what} failed at this block: not recorded");
            Ok(None)
        }
    }
}
