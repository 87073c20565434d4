//! The on-box model as a source: the indexer's recorded ETH/USD prices through
//! [`pipeit_core::signal_model`].

use chrono::{DateTime, Utc};
use pipeit_core::signal::MarketSignal;
use pipeit_core::signal_model::{self, ModelParams, PricePoint, MODEL_SOURCE};
use pipeit_db::{ChainContract, Db};

use super::{SignalError, SignalSource};

/// The on-box model over the prices recorded for one vault.
#[derive(Debug, Clone)]
pub struct OnBox {
    db: Db,
    at: ChainContract,
    params: ModelParams,
}

impl OnBox {
    /// The model over `at`'s prices in `db`.
    pub fn new(db: Db, at: ChainContract, params: ModelParams) -> Self {
        Self { db, at, params }
    }

    /// Every recorded price at or after `since` (unix seconds), as the model reads them.
    pub async fn prices_since(&self, since: u64) -> Result<Vec<PricePoint>, SignalError> {
        let rows = self.db.eth_usd_prices_since(self.at, since).await?;
        // The indexer records a price at each block with an event; a feed reading repeats until the
        // feed updates: keep one point per update.
        let mut points: Vec<PricePoint> = Vec::with_capacity(rows.len());
        for row in rows {
            let point = PricePoint {
                at: row.updated_at,
                price: row.price,
            };
            if points.last().is_none_or(|last| last.at != point.at) {
                points.push(point);
            }
        }
        Ok(points)
    }
}

impl SignalSource for OnBox {
    fn name(&self) -> &str {
        MODEL_SOURCE
    }

    async fn fetch(&self, now: DateTime<Utc>) -> Result<MarketSignal, SignalError> {
        let now_secs = u64::try_from(now.timestamp()).unwrap_or(0);
        let since = now_secs.saturating_sub(self.params.lookback_secs);
        let points = self.prices_since(since).await?;
        let reading = signal_model::read(&points, now_secs, &self.params).ok_or_else(|| {
            SignalError::NoData(format!(
                "on-box model: {} distinct ETH/USD price(s) recorded in the last {} s, {} needed",
                points.len(),
                self.params.lookback_secs,
                self.params.min_points
            ))
        })?;
        Ok(signal_model::signal(&reading, now, &self.params))
    }
}
