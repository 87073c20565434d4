//! Public vault figures: read from the chain (the source of truth for money) and, for APY and
//! history, from the share prices the indexer recorded.

use alloy::primitives::utils::format_units;
use alloy::primitives::U256;
use axum::extract::State;
use axum::Json;
use pipeit_chain::bindings::{FactoringVault, OracleGuard};
use pipeit_db::{ChainContract, SharePrice};
use rust_decimal::{Decimal, MathematicalOps};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::ApiQuery;
use crate::state::{AppState, Chain};

/// The vault routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(vault))
        .routes(routes!(history))
}

/// Shares per whole share: the vault's 18 + 3 decimals (ERC-4626 decimals offset 3).
const ONE_SHARE: u128 = 1_000_000_000_000_000_000_000;

/// A strategy's allocation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AllocationView {
    /// Strategy contract.
    pub strategy: String,
    /// WETH put in at cost, wei.
    pub book_wei: String,
    /// Cap, wei.
    pub cap_wei: String,
    /// Share of total assets at cost, decimal fraction.
    pub share_of_assets: String,
}

/// The vault at the latest block.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VaultView {
    /// Block the figures are read at.
    pub block_number: u64,
    /// Total assets, wei.
    pub total_assets_wei: String,
    /// Total assets, ETH (decimal string).
    pub total_assets_eth: String,
    /// Shares outstanding (21 decimals).
    pub total_supply: String,
    /// ETH per whole share (10^21 units), 18 decimals.
    pub share_price_eth: String,
    /// Principal outstanding / total assets, decimal fraction.
    pub utilisation: String,
    /// Idle WETH, wei.
    pub idle_wei: String,
    /// Principal advanced and not yet repaid, wei.
    pub principal_outstanding_wei: String,
    /// Idle WETH free for advances and instant redemptions after the queue's claim, wei.
    pub available_liquidity_wei: String,
    /// Allocations by strategy.
    pub allocations: Vec<AllocationView>,
    /// Redemption requests not yet served.
    pub queue_length: u64,
    /// Shares waiting in the queue.
    pub queued_shares: String,
    /// ETH/USD from the oracle guard (absent when the feed is stale or the sequencer down).
    pub eth_usd: Option<String>,
    /// Total value in USD at that price.
    pub total_assets_usd: Option<String>,
    /// Annualised share-price growth over the last 7 days (absent without 7 days of history).
    pub apy_7d: Option<String>,
    /// The same over 30 days.
    pub apy_30d: Option<String>,
}

fn rpc_error(e: alloy::contract::Error) -> ApiError {
    ApiError::unavailable(format!("the node failed: {e}"))
}

/// Formats wei as ETH with 18 decimals.
pub fn eth(wei: U256) -> String {
    format_units(wei, 18).unwrap_or_else(|_| wei.to_string())
}

/// The indexed contract, for database reads.
pub fn indexed(chain: &Chain) -> ChainContract {
    ChainContract {
        chain_id: chain.manifest.chain_id,
        contract: chain.manifest.contracts.vault,
    }
}

/// ETH/USD from the oracle guard, `None` if it refuses (stale feed, sequencer down).
pub async fn eth_usd(chain: &Chain) -> Option<Decimal> {
    let guard = OracleGuard::new(chain.manifest.contracts.oracle_guard, &chain.provider);
    let wad = guard.ethUsd().call().await.ok()?;
    let wad = i128::try_from(u128::try_from(wad).ok()?).ok()?;
    Some(Decimal::from_i128_with_scale(wad, 18).normalize())
}

/// Vault figures: total assets, share price, utilisation, idle, allocations, queue, APY.
#[utoipa::path(get, path = "/v1/vault", tag = "public",
    responses((status = 200, body = VaultView), (status = 503, description = "node unavailable", body = Problem, content_type = "application/problem+json")))]
async fn vault(State(state): State<AppState>) -> ApiResult<Json<VaultView>> {
    let view = state
        .vault_cache()
        .get_or_refresh(|| read_vault(state.clone()))
        .await?;
    Ok(Json(VaultView::clone(&view)))
}

/// Reads the figures at the node's latest block.
async fn read_vault(state: AppState) -> ApiResult<VaultView> {
    let chain = state.chain();
    let block_number = alloy::providers::Provider::get_block_number(&chain.provider)
        .await
        .map_err(|e| ApiError::unavailable(format!("the node failed: {e}")))?;
    let vault = FactoringVault::new(chain.manifest.contracts.vault, &chain.provider);
    let at = alloy::eips::BlockId::number(block_number);
    let total_assets = vault
        .totalAssets()
        .block(at)
        .call()
        .await
        .map_err(rpc_error)?;
    let total_supply = vault
        .totalSupply()
        .block(at)
        .call()
        .await
        .map_err(rpc_error)?;
    let price = vault
        .convertToAssets(U256::from(ONE_SHARE))
        .block(at)
        .call()
        .await
        .map_err(rpc_error)?;
    let parts = vault
        .assetBreakdown()
        .block(at)
        .call()
        .await
        .map_err(rpc_error)?;
    let available = vault
        .availableLiquidity()
        .block(at)
        .call()
        .await
        .map_err(rpc_error)?;
    let queue = vault
        .queueState()
        .block(at)
        .call()
        .await
        .map_err(rpc_error)?;
    let mut allocations = Vec::new();
    for strategy in vault
        .strategies()
        .block(at)
        .call()
        .await
        .map_err(rpc_error)?
    {
        let config = vault
            .strategyConfig(strategy)
            .block(at)
            .call()
            .await
            .map_err(rpc_error)?;
        let book = U256::from(config.book);
        allocations.push(AllocationView {
            strategy: strategy.to_checksum(None),
            book_wei: book.to_string(),
            cap_wei: config.cap.to_string(),
            share_of_assets: fraction(book, total_assets),
        });
    }
    let usd = eth_usd(chain).await;
    let latest = state
        .db()
        .share_price_at_or_before(indexed(chain), i64::MAX.unsigned_abs())
        .await?;
    let apy = |days: u64| {
        let state = state.clone();
        let latest = latest.clone();
        async move {
            let latest = latest?;
            let then = state
                .db()
                .share_price_at_or_before(
                    indexed(state.chain()),
                    latest.timestamp.checked_sub(days * 86_400)?,
                )
                .await
                .ok()??;
            annualised_growth(&then, &latest).map(|d| d.round_dp(6).to_string())
        }
    };
    Ok(VaultView {
        block_number,
        total_assets_wei: total_assets.to_string(),
        total_assets_eth: eth(total_assets),
        total_supply: total_supply.to_string(),
        share_price_eth: eth(price),
        utilisation: fraction(parts.principal, total_assets),
        idle_wei: parts.idle.to_string(),
        principal_outstanding_wei: parts.principal.to_string(),
        available_liquidity_wei: available.to_string(),
        allocations,
        queue_length: u64::try_from(queue.nextId.saturating_sub(queue.head)).unwrap_or(u64::MAX),
        queued_shares: queue.queuedShares.to_string(),
        eth_usd: usd.map(|p| p.to_string()),
        total_assets_usd: usd.and_then(|p| usd_value(total_assets, p)),
        apy_7d: apy(7).await,
        apy_30d: apy(30).await,
    })
}

/// `part / whole` as a decimal fraction with 6 places, rounded down ("0" when whole is 0).
fn fraction(part: U256, whole: U256) -> String {
    if whole.is_zero() {
        return "0".to_owned();
    }
    let micros = part * U256::from(1_000_000u64) / whole;
    let micros = i64::try_from(u64::try_from(micros).unwrap_or(u64::MAX)).unwrap_or(i64::MAX);
    Decimal::new(micros, 6).normalize().to_string()
}

/// USD value of `wei` at `price`, rounded down to cents.
pub fn usd_value(wei: U256, price: Decimal) -> Option<String> {
    let price = pipeit_core::EthPrice::from_decimal(pipeit_core::Currency::Usd, price).ok()?;
    pipeit_core::wei_to_fiat(wei, &price, pipeit_core::Rounding::Floor)
        .ok()
        .map(|d| {
            d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToZero)
                .to_string()
        })
}

/// Wei per whole share (10^21 units) at a recorded point, as the vault's `convertToAssets` gives it
/// (virtual shares and asset of the decimals offset included, rounded down): 1 ETH in an empty vault,
/// as `convertToAssets` says, so `/v1/vault` and its history agree.
fn share_price_wei(point: &SharePrice) -> Option<U256> {
    pipeit_core::convert_to_assets(
        U256::from(ONE_SHARE),
        point.total_supply,
        point.total_assets,
        pipeit_core::VAULT_DECIMALS_OFFSET,
        pipeit_core::Rounding::Floor,
    )
    .ok()
}

/// [`share_price_wei`] in ETH, as a Decimal.
fn price_of(point: &SharePrice) -> Option<Decimal> {
    let wei = share_price_wei(point)?;
    Some(Decimal::from_i128_with_scale(
        i128::try_from(u128::try_from(wei).ok()?).ok()?,
        18,
    ))
}

/// Compound annual growth between two share prices: (p1/p0)^(365 days / elapsed) − 1. A display
/// rate (never used to move money), computed in Decimal.
pub fn annualised_growth(then: &SharePrice, now: &SharePrice) -> Option<Decimal> {
    let elapsed = now
        .timestamp
        .checked_sub(then.timestamp)
        .filter(|s| *s > 0)?;
    let ratio = price_of(now)?.checked_div(price_of(then)?)?;
    let years = Decimal::from(elapsed).checked_div(Decimal::from(365u64 * 86_400))?;
    ratio
        .checked_powd(Decimal::ONE.checked_div(years)?)
        .map(|g| g - Decimal::ONE)
}

/// The history's time range.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    /// From this unix time (default: 30 days ago).
    from: Option<u64>,
    /// To this unix time (default: now).
    to: Option<u64>,
    /// At most this many points (1–1000, default 500).
    limit: Option<u32>,
}

/// One point of share-price history.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SharePricePoint {
    /// Block.
    pub block_number: u64,
    /// Block time, unix seconds.
    pub timestamp: u64,
    /// ETH per whole share.
    pub share_price_eth: String,
    /// Total assets, wei.
    pub total_assets_wei: String,
    /// Shares outstanding.
    pub total_supply: String,
}

/// Share price over time, from the indexer's records.
#[utoipa::path(get, path = "/v1/vault/history", operation_id = "vault_history", tag = "public", params(HistoryQuery),
    responses((status = 200, body = [SharePricePoint]), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn history(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> ApiResult<Json<Vec<SharePricePoint>>> {
    let to = match query.to {
        Some(to) => to,
        None => state.chain_now().await?.timestamp().unsigned_abs(),
    };
    let from = query.from.unwrap_or(to.saturating_sub(30 * 86_400));
    if from > to {
        return Err(ApiError::field(
            "from",
            format!("{from} is after to ({to})"),
        ));
    }
    let limit = query.limit.unwrap_or(500);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field("limit", "must be between 1 and 1000"));
    }
    let points = state
        .db()
        .share_prices_by_time(indexed(state.chain()), from, to, limit)
        .await?;
    Ok(Json(
        points
            .iter()
            .map(|p| SharePricePoint {
                block_number: p.block_number,
                timestamp: p.timestamp,
                share_price_eth: share_price_wei(p).map_or_else(|| "0".to_owned(), eth),
                total_assets_wei: p.total_assets.to_string(),
                total_supply: p.total_supply.to_string(),
            })
            .collect(),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const ETH: u128 = 1_000_000_000_000_000_000;

    /// A point with `assets` ETH behind `supply` whole shares (21 decimals each).
    fn point(ts: u64, assets: u128, supply: u128) -> SharePrice {
        SharePrice {
            block_number: ts,
            timestamp: ts,
            total_assets: U256::from(assets * ETH),
            total_supply: U256::from(supply * ONE_SHARE),
        }
    }

    #[test]
    fn a_first_deposit_prices_a_share_at_one_eth() {
        // 1 ETH in, 10^21 share units out (decimals offset 3): one whole share is worth 1 ETH,
        // not 0.001 (the history once divided wei by share units).
        let p = point(0, 1, 1);
        assert_eq!(share_price_wei(&p), Some(U256::from(ETH)));
        assert_eq!(eth(share_price_wei(&p).unwrap()), "1.000000000000000000");
        assert_eq!(share_price_wei(&point(0, 0, 0)), Some(U256::from(ETH)));
    }

    #[test]
    fn a_year_of_ten_percent_growth_is_ten_percent() {
        let g = annualised_growth(&point(0, 100, 1000), &point(365 * 86_400, 110, 1000))
            .unwrap_or_default();
        assert_eq!(g.round_dp(6), Decimal::new(1, 1));
    }

    #[test]
    fn half_a_year_compounds() {
        // 5 % in half a year: 1.05^2 - 1 = 10.25 %.
        let g = annualised_growth(&point(0, 100, 1000), &point(365 * 43_200, 105, 1000))
            .unwrap_or_default();
        assert_eq!(g.round_dp(4), Decimal::new(1025, 4));
    }

    #[test]
    fn no_growth_without_time_or_supply() {
        assert!(annualised_growth(&point(5, 100, 1000), &point(5, 110, 1000)).is_none());
        let empty = annualised_growth(&point(0, 0, 0), &point(86_400, 0, 0)).unwrap_or_default();
        assert_eq!(empty, Decimal::ZERO);
    }

    #[test]
    fn fractions_round_down() {
        assert_eq!(fraction(U256::from(1u64), U256::from(3u64)), "0.333333");
        assert_eq!(fraction(U256::from(1u64), U256::ZERO), "0");
    }
}
