//! Reads behind the HTTP service's views: share-price history by time, an account's events.

use alloy_primitives::Address;

use crate::col::{Text, U64};
use crate::error::Op;
use crate::index::{ChainContract, EthUsdPrice, SharePrice, VaultEvent};
use crate::{Db, Result};

impl Db {
    /// The last share price recorded at or before unix time `timestamp`.
    pub async fn share_price_at_or_before(
        &self,
        at: ChainContract,
        timestamp: u64,
    ) -> Result<Option<SharePrice>> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM share_price_history WHERE chain_id = $1 AND contract = $2 \
             AND timestamp <= $3 ORDER BY block_number DESC LIMIT 1",
        )
        .bind(U64(at.chain_id))
        .bind(Text(at.contract))
        .bind(U64(timestamp))
        .fetch_optional(pool)
        .await)
        .op("read share price by time")
    }

    /// Share prices recorded from unix time `from` to `to` (both included), oldest first, at most
    /// `limit`.
    pub async fn share_prices_by_time(
        &self,
        at: ChainContract,
        from: u64,
        to: u64,
        limit: u32,
    ) -> Result<Vec<SharePrice>> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM share_price_history WHERE chain_id = $1 AND contract = $2 \
             AND timestamp >= $3 AND timestamp <= $4 ORDER BY block_number LIMIT $5",
        )
        .bind(U64(at.chain_id))
        .bind(Text(at.contract))
        .bind(U64(from))
        .bind(U64(to))
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await)
        .op("read share prices by time")
    }

    /// The events about `account` (as owner, receiver or sender), in chain order.
    pub async fn account_events(
        &self,
        at: ChainContract,
        account: Address,
    ) -> Result<Vec<VaultEvent>> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM vault_events WHERE chain_id = $1 AND contract = $2 AND account = $3 \
             ORDER BY block_number, log_index",
        )
        .bind(U64(at.chain_id))
        .bind(Text(at.contract))
        .bind(Text(account))
        .fetch_all(pool)
        .await)
        .op("read account events")
    }

    /// The latest ETH/USD price the indexer recorded.
    pub async fn latest_eth_usd(&self, at: ChainContract) -> Result<Option<EthUsdPrice>> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM eth_usd_prices WHERE chain_id = $1 AND contract = $2 \
             ORDER BY block_number DESC LIMIT 1",
        )
        .bind(U64(at.chain_id))
        .bind(Text(at.contract))
        .fetch_optional(pool)
        .await)
        .op("read latest ETH/USD price")
    }
}

impl Db {
    /// A trivial query: whether the database answers (readiness checks).
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(drop))
        .op("ping")
    }
}
