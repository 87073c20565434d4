//! The chain index: checkpoints, the reorg window, vault events, prices and share prices.
//!
//! Everything here belongs to one [`ChainContract`] (a contract on a chain). The indexer writes a
//! range of confirmed blocks with [`Db::save_block_batch`] (or [`Db::save_block_batch_with_fees`],
//! which also stores the gas of the range's transactions), which stores the rows and moves the
//! checkpoint in one transaction, and undoes a reorg with [`Db::rollback_to`].

use alloy_primitives::{Address, B256, U256};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::types::Json;

use crate::col::{now, Dec, Text, Ts, Wei, U64};
use crate::error::{conflict_or, Op};
use crate::{Db, Error, Result, WritePool};

/// What is indexed: one contract on one chain. The checkpoint and every index row belong to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainContract {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// The contract whose events are indexed (the vault).
    pub contract: Address,
}

/// How far a contract has been indexed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Last block whose events are stored.
    pub block_number: u64,
    /// Its hash; `None` after a rollback to a block older than the stored reorg window.
    pub block_hash: Option<B256>,
    /// When the checkpoint last moved.
    pub updated_at: DateTime<Utc>,
}

/// A block of the reorg window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockRecord {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
    /// Parent block hash.
    pub parent_hash: B256,
}

/// A decoded vault event. Identified by (chain, `tx_hash`, `log_index`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultEvent {
    /// Block the log is in.
    pub block_number: u64,
    /// That block's hash.
    pub block_hash: B256,
    /// Transaction that emitted it.
    pub tx_hash: B256,
    /// Index of the log in the block.
    pub log_index: u64,
    /// Event name (`"Deposit"`, `"InvoiceAdvanced"`, ...).
    pub name: String,
    /// Every decoded field, as JSON (uint256 values as decimal strings).
    pub fields: Value,
    /// The invoice the event is about, if any.
    pub invoice_id: Option<B256>,
    /// The account the event is about (owner, receiver, business), if any.
    pub account: Option<Address>,
    /// Shares moved, if any.
    pub shares: Option<U256>,
    /// Assets (wei) moved, if any.
    pub assets: Option<U256>,
}

/// The ETH/USD feed's answer at an indexed block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EthUsdPrice {
    /// Block at which the feed was read.
    pub block_number: u64,
    /// USD per ETH.
    pub price: Decimal,
    /// The feed's round id.
    pub round_id: U256,
    /// The feed's `updatedAt`, unix seconds.
    pub updated_at: u64,
}

/// The vault's totals at a block (share price = total assets / total supply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharePrice {
    /// Block number.
    pub block_number: u64,
    /// Block timestamp, unix seconds.
    pub timestamp: u64,
    /// `totalAssets()`, wei.
    pub total_assets: U256,
    /// `totalSupply()`, shares.
    pub total_supply: U256,
}

/// Gas paid by one transaction that carries vault events (for tax reports: gas in the investor's own
/// transactions is added to the cost basis or taken from the proceeds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxFee {
    /// The transaction.
    pub tx_hash: B256,
    /// Block it was mined in.
    pub block_number: u64,
    /// Its sender.
    pub from: Address,
    /// Gas used (receipt).
    pub gas_used: U256,
    /// Effective gas price, wei per gas (receipt).
    pub effective_gas_price: U256,
}

impl TxFee {
    /// `gas_used × effective_gas_price`, wei (saturating: cannot overflow for real receipts).
    pub fn fee_wei(&self) -> U256 {
        self.gas_used.saturating_mul(self.effective_gas_price)
    }
}

/// Everything indexed from a range of blocks, stored together with the new checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockBatch {
    /// Blocks of the range to remember for reorg detection.
    pub blocks: Vec<BlockRecord>,
    /// Vault events of the range.
    pub events: Vec<VaultEvent>,
    /// ETH/USD prices read in the range.
    pub eth_usd_prices: Vec<EthUsdPrice>,
    /// Share prices read in the range.
    pub share_prices: Vec<SharePrice>,
    /// The last block of the range: the new checkpoint. Every row above must be at or below it.
    pub checkpoint_block: u64,
    /// Its hash.
    pub checkpoint_hash: B256,
}

from_row!(Checkpoint, |r| Ok(Checkpoint {
    block_number: r.try_get::<U64, _>("block_number")?.0,
    block_hash: r
        .try_get::<Option<Text<B256>>, _>("block_hash")?
        .map(|h| h.0),
    updated_at: r.try_get::<Ts, _>("updated_at")?.0,
}));

from_row!(BlockRecord, |r| Ok(BlockRecord {
    number: r.try_get::<U64, _>("block_number")?.0,
    hash: r.try_get::<Text<B256>, _>("block_hash")?.0,
    parent_hash: r.try_get::<Text<B256>, _>("parent_hash")?.0,
}));

from_row!(VaultEvent, |r| Ok(VaultEvent {
    block_number: r.try_get::<U64, _>("block_number")?.0,
    block_hash: r.try_get::<Text<B256>, _>("block_hash")?.0,
    tx_hash: r.try_get::<Text<B256>, _>("tx_hash")?.0,
    log_index: r.try_get::<U64, _>("log_index")?.0,
    name: r.try_get("event_name")?,
    fields: r.try_get::<Json<Value>, _>("fields")?.0,
    invoice_id: r
        .try_get::<Option<Text<B256>>, _>("invoice_id")?
        .map(|h| h.0),
    account: r
        .try_get::<Option<Text<Address>>, _>("account")?
        .map(|a| a.0),
    shares: r.try_get::<Option<Wei>, _>("shares")?.map(|w| w.0),
    assets: r.try_get::<Option<Wei>, _>("assets")?.map(|w| w.0),
}));

from_row!(EthUsdPrice, |r| Ok(EthUsdPrice {
    block_number: r.try_get::<U64, _>("block_number")?.0,
    price: r.try_get::<Dec, _>("price")?.0,
    round_id: r.try_get::<Wei, _>("round_id")?.0,
    updated_at: r.try_get::<U64, _>("updated_at")?.0,
}));

from_row!(SharePrice, |r| Ok(SharePrice {
    block_number: r.try_get::<U64, _>("block_number")?.0,
    timestamp: r.try_get::<U64, _>("timestamp")?.0,
    total_assets: r.try_get::<Wei, _>("total_assets")?.0,
    total_supply: r.try_get::<Wei, _>("total_supply")?.0,
}));

from_row!(TxFee, |r| Ok(TxFee {
    tx_hash: r.try_get::<Text<B256>, _>("tx_hash")?.0,
    block_number: r.try_get::<U64, _>("block_number")?.0,
    from: r.try_get::<Text<Address>, _>("from_address")?.0,
    gas_used: r.try_get::<Wei, _>("gas_used")?.0,
    effective_gas_price: r.try_get::<Wei, _>("effective_gas_price")?.0,
}));

const SELECT_CHECKPOINT: &str =
    "SELECT block_number, block_hash, updated_at FROM chain_checkpoint \
     WHERE chain_id = $1 AND contract = $2";

impl BlockBatch {
    /// Refuses rows above the checkpoint (they would survive a rollback to it).
    fn check(&self) -> Result<()> {
        let above = self
            .blocks
            .iter()
            .map(|b| b.number)
            .chain(self.events.iter().map(|e| e.block_number))
            .chain(self.eth_usd_prices.iter().map(|p| p.block_number))
            .chain(self.share_prices.iter().map(|p| p.block_number))
            .find(|n| *n > self.checkpoint_block);
        match above {
            Some(n) => Err(Error::InvalidInput {
                what: "block batch",
                reason: format!(
                    "a row at block {n} is above the batch's checkpoint block {}",
                    self.checkpoint_block
                ),
            }),
            None => Ok(()),
        }
    }
}

impl Db {
    /// The checkpoint of `at`, if it was ever indexed.
    pub async fn checkpoint(&self, at: ChainContract) -> Result<Option<Checkpoint>> {
        on_pool!(self, |pool| sqlx::query_as(SELECT_CHECKPOINT)
            .bind(U64(at.chain_id))
            .bind(Text(at.contract))
            .fetch_optional(pool)
            .await)
        .op("read checkpoint")
    }

    /// Stores a batch and moves the checkpoint to its last block, in one transaction: after a
    /// crash either all of it is stored or none of it. A duplicate row ([`Error::Conflict`]) or a
    /// checkpoint behind the stored one ([`Error::CheckpointRegression`]) leaves nothing written.
    pub async fn save_block_batch(&self, at: ChainContract, batch: &BlockBatch) -> Result<()> {
        self.save_block_batch_with_fees(at, batch, &[]).await
    }

    /// [`Db::save_block_batch`] plus the gas paid by the range's transactions, all in the same
    /// transaction. A fee stored again for the same transaction (a replay after a reorg) replaces
    /// the old one. Fees above the checkpoint are refused like any other row.
    pub async fn save_block_batch_with_fees(
        &self,
        at: ChainContract,
        batch: &BlockBatch,
        fees: &[TxFee],
    ) -> Result<()> {
        batch.check()?;
        if let Some(fee) = fees
            .iter()
            .find(|f| f.block_number > batch.checkpoint_block)
        {
            return Err(Error::InvalidInput {
                what: "block batch",
                reason: format!(
                    "the fee of tx {:#x} at block {} is above the batch's checkpoint block {}",
                    fee.tx_hash, fee.block_number, batch.checkpoint_block
                ),
            });
        }
        const OP: &str = "save block batch";
        let chain = U64(at.chain_id);
        let contract = Text(at.contract);
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await.op(OP)?;
            let moved = sqlx::query(
                "INSERT INTO chain_checkpoint (chain_id, contract, block_number, block_hash, updated_at) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (chain_id, contract) DO UPDATE SET block_number = excluded.block_number, \
                 block_hash = excluded.block_hash, updated_at = excluded.updated_at \
                 WHERE chain_checkpoint.block_number <= excluded.block_number",
            )
            .bind(chain)
            .bind(contract)
            .bind(U64(batch.checkpoint_block))
            .bind(Text(batch.checkpoint_hash))
            .bind(Ts(now()))
            .execute(&mut *tx)
            .await
            .op(OP)?;
            if moved.rows_affected() == 0 {
                let current: Checkpoint = sqlx::query_as(SELECT_CHECKPOINT)
                    .bind(chain)
                    .bind(contract)
                    .fetch_one(&mut *tx)
                    .await
                    .op(OP)?;
                return Err(Error::CheckpointRegression {
                    chain_id: at.chain_id,
                    contract: at.contract,
                    current: current.block_number,
                    attempted: batch.checkpoint_block,
                });
            }
            for block in &batch.blocks {
                sqlx::query(
                    "INSERT INTO block_hashes (chain_id, contract, block_number, block_hash, parent_hash) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(chain)
                .bind(contract)
                .bind(U64(block.number))
                .bind(Text(block.hash))
                .bind(Text(block.parent_hash))
                .execute(&mut *tx)
                .await
                .map_err(|e| conflict_or(e, OP, "block", || format!("{}", block.number)))?;
            }
            for event in &batch.events {
                sqlx::query(
                    "INSERT INTO vault_events (chain_id, contract, block_number, block_hash, tx_hash, \
                     log_index, event_name, fields, invoice_id, account, shares, assets) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(chain)
                .bind(contract)
                .bind(U64(event.block_number))
                .bind(Text(event.block_hash))
                .bind(Text(event.tx_hash))
                .bind(U64(event.log_index))
                .bind(event.name.as_str())
                .bind(Json(&event.fields))
                .bind(event.invoice_id.map(Text))
                .bind(event.account.map(Text))
                .bind(event.shares.map(Wei))
                .bind(event.assets.map(Wei))
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    conflict_or(e, OP, "vault event", || {
                        format!("(tx {:#x}, log {})", event.tx_hash, event.log_index)
                    })
                })?;
            }
            for price in &batch.eth_usd_prices {
                sqlx::query(
                    "INSERT INTO eth_usd_prices (chain_id, contract, block_number, price, round_id, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(chain)
                .bind(contract)
                .bind(U64(price.block_number))
                .bind(Dec(price.price))
                .bind(Wei(price.round_id))
                .bind(U64(price.updated_at))
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    conflict_or(e, OP, "ETH/USD price at block", || price.block_number.to_string())
                })?;
            }
            for share in &batch.share_prices {
                sqlx::query(
                    "INSERT INTO share_price_history (chain_id, contract, block_number, timestamp, \
                     total_assets, total_supply) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(chain)
                .bind(contract)
                .bind(U64(share.block_number))
                .bind(U64(share.timestamp))
                .bind(Wei(share.total_assets))
                .bind(Wei(share.total_supply))
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    conflict_or(e, OP, "share price at block", || share.block_number.to_string())
                })?;
            }
            for fee in fees {
                sqlx::query(
                    "INSERT INTO tx_fees (chain_id, contract, tx_hash, block_number, from_address, \
                     gas_used, effective_gas_price, fee_wei) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (chain_id, contract, tx_hash) DO UPDATE SET \
                     block_number = excluded.block_number, from_address = excluded.from_address, \
                     gas_used = excluded.gas_used, effective_gas_price = excluded.effective_gas_price, \
                     fee_wei = excluded.fee_wei",
                )
                .bind(chain)
                .bind(contract)
                .bind(Text(fee.tx_hash))
                .bind(U64(fee.block_number))
                .bind(Text(fee.from))
                .bind(Wei(fee.gas_used))
                .bind(Wei(fee.effective_gas_price))
                .bind(Wei(fee.fee_wei()))
                .execute(&mut *tx)
                .await
                .op(OP)?;
            }
            tx.commit().await.op(OP)
        })
    }

    /// The stored gas fee of transaction `tx_hash`, if the indexer recorded one.
    pub async fn tx_fee(&self, at: ChainContract, tx_hash: B256) -> Result<Option<TxFee>> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT tx_hash, block_number, from_address, gas_used, effective_gas_price FROM tx_fees \
             WHERE chain_id = $1 AND contract = $2 AND tx_hash = $3",
        )
        .bind(U64(at.chain_id))
        .bind(Text(at.contract))
        .bind(Text(tx_hash))
        .fetch_optional(pool)
        .await)
        .op("read tx fee")
    }

    /// Undoes everything above `block_number` (events, block hashes, prices, share prices) and moves
    /// the checkpoint back to it, in one transaction: how a reorg is undone before replaying.
    /// The checkpoint keeps the stored hash of `block_number` (`None` if it is outside the window);
    /// a checkpoint already at or below `block_number` does not move. Returns the checkpoint after.
    pub async fn rollback_to(
        &self,
        at: ChainContract,
        block_number: u64,
    ) -> Result<Option<Checkpoint>> {
        const OP: &str = "roll back index";
        let chain = U64(at.chain_id);
        let contract = Text(at.contract);
        let block = U64(block_number);
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await.op(OP)?;
            for delete in [
                "DELETE FROM vault_events WHERE chain_id = $1 AND contract = $2 AND block_number > $3",
                "DELETE FROM block_hashes WHERE chain_id = $1 AND contract = $2 AND block_number > $3",
                "DELETE FROM eth_usd_prices WHERE chain_id = $1 AND contract = $2 AND block_number > $3",
                "DELETE FROM share_price_history WHERE chain_id = $1 AND contract = $2 AND block_number > $3",
                "DELETE FROM tx_fees WHERE chain_id = $1 AND contract = $2 AND block_number > $3",
            ] {
                sqlx::query(delete)
                    .bind(chain)
                    .bind(contract)
                    .bind(block)
                    .execute(&mut *tx)
                    .await
                    .op(OP)?;
            }
            let hash: Option<Text<B256>> = sqlx::query_scalar(
                "SELECT block_hash FROM block_hashes \
                 WHERE chain_id = $1 AND contract = $2 AND block_number = $3",
            )
            .bind(chain)
            .bind(contract)
            .bind(block)
            .fetch_optional(&mut *tx)
            .await
            .op(OP)?;
            sqlx::query(
                "UPDATE chain_checkpoint SET block_number = $3, block_hash = $4, updated_at = $5 \
                 WHERE chain_id = $1 AND contract = $2 AND block_number > $3",
            )
            .bind(chain)
            .bind(contract)
            .bind(block)
            .bind(hash)
            .bind(Ts(now()))
            .execute(&mut *tx)
            .await
            .op(OP)?;
            let checkpoint = sqlx::query_as(SELECT_CHECKPOINT)
                .bind(chain)
                .bind(contract)
                .fetch_optional(&mut *tx)
                .await
                .op(OP)?;
            tx.commit().await.op(OP)?;
            Ok(checkpoint)
        })
    }

    /// Vault events from block `from` to block `to`, both included, in chain order.
    pub async fn events_between(
        &self,
        at: ChainContract,
        from: u64,
        to: u64,
    ) -> Result<Vec<VaultEvent>> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM vault_events WHERE chain_id = $1 AND contract = $2 \
             AND block_number >= $3 AND block_number <= $4 ORDER BY block_number, log_index",
        )
        .bind(U64(at.chain_id))
        .bind(Text(at.contract))
        .bind(U64(from))
        .bind(U64(to))
        .fetch_all(pool)
        .await)
        .op("read vault events")
    }

    /// The stored block `number` of the reorg window, if kept.
    pub async fn block(&self, at: ChainContract, number: u64) -> Result<Option<BlockRecord>> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT block_number, block_hash, parent_hash FROM block_hashes \
             WHERE chain_id = $1 AND contract = $2 AND block_number = $3",
        )
        .bind(U64(at.chain_id))
        .bind(Text(at.contract))
        .bind(U64(number))
        .fetch_optional(pool)
        .await)
        .op("read block hash")
    }

    /// The stored hash of block `number`, if kept (compare it with the chain to detect a reorg).
    pub async fn block_hash(&self, at: ChainContract, number: u64) -> Result<Option<B256>> {
        Ok(self.block(at, number).await?.map(|b| b.hash))
    }

    /// Forgets block hashes below `below` (outside the reorg window). Returns how many went.
    pub async fn prune_block_hashes(&self, at: ChainContract, below: u64) -> Result<u64> {
        on_pool!(self, |pool| sqlx::query(
            "DELETE FROM block_hashes WHERE chain_id = $1 AND contract = $2 AND block_number < $3",
        )
        .bind(U64(at.chain_id))
        .bind(Text(at.contract))
        .bind(U64(below))
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))
        .op("prune block hashes")
    }

    /// The latest ETH/USD price recorded at or before `block`.
    pub async fn eth_usd_price_at(
        &self,
        at: ChainContract,
        block: u64,
    ) -> Result<Option<EthUsdPrice>> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM eth_usd_prices WHERE chain_id = $1 AND contract = $2 \
             AND block_number <= $3 ORDER BY block_number DESC LIMIT 1",
        )
        .bind(U64(at.chain_id))
        .bind(Text(at.contract))
        .bind(U64(block))
        .fetch_optional(pool)
        .await)
        .op("read ETH/USD price")
    }

    /// Share prices from block `from` to block `to`, both included, in block order.
    pub async fn share_prices_between(
        &self,
        at: ChainContract,
        from: u64,
        to: u64,
    ) -> Result<Vec<SharePrice>> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM share_price_history WHERE chain_id = $1 AND contract = $2 \
             AND block_number >= $3 AND block_number <= $4 ORDER BY block_number",
        )
        .bind(U64(at.chain_id))
        .bind(Text(at.contract))
        .bind(U64(from))
        .bind(U64(to))
        .fetch_all(pool)
        .await)
        .op("read share prices")
    }
}
