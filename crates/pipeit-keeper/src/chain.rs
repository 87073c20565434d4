//! The keeper's reads of the chain (each retried with backoff), and the calldata it sends.

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider};
use chrono::{DateTime, Utc};
use pipeit_chain::bindings::{DevPriceFeed, FactoringVault, OracleGuard};
use pipeit_chain::{Backoff, Manifest};
use pipeit_core::pricing::PriceObservation;
use pipeit_core::{Currency, EthPrice};
use pipeit_db::{ChainContract, Db};

use crate::executor::TxCall;
use crate::revert;
use crate::Error;

/// An invoice's status on-chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnChain {
    /// Never advanced.
    None,
    /// Advanced, not closed.
    Performing,
    /// Paid in full.
    Repaid,
    /// Written off.
    WrittenOff,
}

/// Reads and calldata for one deployment.
#[derive(Debug, Clone)]
pub struct Chain {
    provider: DynProvider,
    manifest: Manifest,
    retry: Backoff,
}

macro_rules! call {
    ($self:ident, $what:literal, $call:expr) => {
        $self
            .retry
            .retry(|| async { $call.call().await })
            .await
            .map_err(|(_, e)| Error::Rpc {
                what: $what,
                message: e.to_string(),
            })
    };
}

impl Chain {
    /// Reads on `provider` for `manifest`'s contracts.
    pub fn new(provider: DynProvider, manifest: Manifest) -> Self {
        Self {
            provider,
            manifest,
            retry: Backoff::default(),
        }
    }

    fn vault(&self) -> FactoringVault::FactoringVaultInstance<&DynProvider> {
        FactoringVault::new(self.manifest.contracts.vault, &self.provider)
    }

    /// The vault's address.
    pub fn vault_address(&self) -> Address {
        self.manifest.contracts.vault
    }

    /// The latest block's time: the keeper's clock (Anvil's may run ahead of the wall clock).
    pub async fn now(&self) -> Result<DateTime<Utc>, Error> {
        let block = self
            .retry
            .retry(|| async {
                self.provider
                    .get_block_by_number(BlockNumberOrTag::Latest)
                    .await
            })
            .await
            .map_err(|(_, e)| Error::Rpc {
                what: "eth_getBlockByNumber",
                message: e.to_string(),
            })?
            .ok_or(Error::Rpc {
                what: "eth_getBlockByNumber",
                message: "no latest block".to_owned(),
            })?;
        let secs = i64::try_from(block.header.timestamp).unwrap_or(i64::MAX);
        DateTime::from_timestamp(secs, 0).ok_or(Error::Rpc {
            what: "eth_getBlockByNumber",
            message: format!("block timestamp {secs} out of range"),
        })
    }

    /// Whether `who` holds the vault's keeper role.
    pub async fn is_keeper(&self, who: Address) -> Result<bool, Error> {
        let role = call!(self, "KEEPER_ROLE", self.vault().KEEPER_ROLE())?;
        call!(self, "hasRole", self.vault().hasRole(role, who))
    }

    /// `Ok(Err(reason))` when the oracle guard refuses (sequencer down or in its grace period,
    /// stale or invalid price): the vault would refuse advances too. Otherwise the feed's price and
    /// update time.
    pub async fn oracle_check(&self) -> Result<Result<PriceObservation, String>, Error> {
        let guard = OracleGuard::new(self.manifest.contracts.oracle_guard, &self.provider);
        match guard.ethUsd().call().await {
            Ok(_) => {}
            Err(e) => {
                if let Some(data) = e.as_revert_data() {
                    let r = revert::decode(&data);
                    return Ok(Err(format!("oracle guard refuses: {}", r.detail)));
                }
                return Err(Error::Rpc {
                    what: "OracleGuard.ethUsd",
                    message: e.to_string(),
                });
            }
        }
        let feed = DevPriceFeed::new(self.manifest.contracts.eth_usd_feed, &self.provider);
        let round = call!(self, "latestRoundData", feed.latestRoundData())?;
        let decimals = call!(self, "decimals", feed.decimals())?;
        let price = match EthPrice::from_feed(Currency::Usd, round.answer, decimals) {
            Ok(p) => p,
            Err(e) => return Ok(Err(format!("ETH/USD feed: {e}"))),
        };
        Ok(Ok(PriceObservation {
            price,
            updated_at: u64::try_from(round.updatedAt).unwrap_or(0),
        }))
    }

    /// Invoice `id`'s status and due time on-chain.
    pub async fn invoice(&self, id: B256) -> Result<(OnChain, u64), Error> {
        let inv = call!(self, "invoice", self.vault().invoice(id))?;
        let status = match inv.status as u8 {
            1 => OnChain::Performing,
            2 => OnChain::Repaid,
            3 => OnChain::WrittenOff,
            _ => OnChain::None,
        };
        Ok((status, u64::from(inv.dueDay.to::<u32>()) * 86_400))
    }

    /// Late fee paid so far on `id`.
    pub async fn late_fee_paid(&self, id: B256) -> Result<U256, Error> {
        call!(self, "lateFeePaid", self.vault().lateFeePaid(id))
    }

    /// When the keeper may write `id` off.
    pub async fn keeper_write_off_at(&self, id: B256) -> Result<u64, Error> {
        let times = call!(self, "writeOffTimes", self.vault().writeOffTimes(id))?;
        Ok(times.keeperAt.try_into().unwrap_or(u64::MAX))
    }

    /// Whether a due date passed since the last settlement.
    pub async fn settlement_due(&self) -> Result<bool, Error> {
        call!(self, "settlementDue", self.vault().settlementDue())
    }

    /// Queue `(head, next id, queued shares)`.
    pub async fn queue(&self) -> Result<(U256, U256, U256), Error> {
        let q = call!(self, "queueState", self.vault().queueState())?;
        Ok((q.head, q.nextId, q.queuedShares))
    }

    /// How many requests `processQueue(max)` would fill now (a simulation from the keeper).
    pub async fn queue_fillable(&self, from: Address, max: u64) -> Result<u64, Error> {
        let v = self.vault();
        let call = v.processQueue(U256::from(max)).from(from);
        match call.call().await {
            Ok(n) => Ok(n.try_into().unwrap_or(u64::MAX)),
            Err(e) if e.as_revert_data().is_some() => Ok(0),
            Err(e) => Err(Error::Rpc {
                what: "processQueue (simulated)",
                message: e.to_string(),
            }),
        }
    }

    /// Blocks the index is behind the head.
    pub async fn lag(&self, db: &Db, at: ChainContract) -> Result<i64, Error> {
        let head = self
            .provider
            .get_block_number()
            .await
            .map_err(|e| Error::Rpc {
                what: "eth_blockNumber",
                message: e.to_string(),
            })?;
        let indexed = db.checkpoint(at).await?.map_or(0, |c| c.block_number);
        Ok(i64::try_from(head.saturating_sub(indexed)).unwrap_or(i64::MAX))
    }

    /// The keeper's balance in gwei (for the metric).
    pub async fn balance(&self, who: Address) -> Result<i64, Error> {
        let wei = self
            .provider
            .get_balance(who)
            .await
            .map_err(|e| Error::Rpc {
                what: "eth_getBalance",
                message: e.to_string(),
            })?;
        let gwei = wei / U256::from(1_000_000_000u64);
        Ok(i64::try_from(gwei).unwrap_or(i64::MAX))
    }

    /// Vault figures the rebalancer reads: (available liquidity, NAV at book, strategies' book,
    /// move allowance used in the window, move cap, min idle bps).
    pub async fn liquidity(&self) -> Result<Liquidity, Error> {
        let v = self.vault();
        let available = call!(self, "availableLiquidity", v.availableLiquidity())?;
        let parts = call!(self, "assetBreakdown", v.assetBreakdown())?;
        let book = call!(self, "bookState", v.bookState())?;
        let params = call!(self, "riskParams", v.riskParams())?;
        Ok(Liquidity {
            available,
            idle: parts.idle,
            principal: parts.principal,
            strategy_book: book.strategyBook,
            move_used: book.moveUsed,
            move_cap: U256::from(params.moveCapPerWindow),
            min_idle_bps: params.minIdleBps,
        })
    }

    /// A strategy's `(value in WETH by the oracle, cap, active)`.
    pub async fn strategy(&self, strategy: Address) -> Result<(U256, U256, bool), Error> {
        let cfg = call!(
            self,
            "strategyConfig",
            self.vault().strategyConfig(strategy)
        )?;
        let s = pipeit_chain::bindings::ERC4626Strategy::new(strategy, &self.provider);
        let value = call!(self, "totalValue", s.totalValue())?;
        Ok((value, U256::from(cfg.cap), cfg.active))
    }

    /// Calldata of `advance(requests)`.
    pub fn advance_call(&self, requests: Vec<FactoringVault::AdvanceRequest>) -> TxCall {
        self.tx(self.vault().advance(requests).calldata().clone())
    }

    /// Calldata of `writeOff(id)`.
    pub fn write_off_call(&self, id: B256) -> TxCall {
        self.tx(self.vault().writeOff(id).calldata().clone())
    }

    /// Calldata of `settle()`.
    pub fn settle_call(&self) -> TxCall {
        self.tx(self.vault().settle().calldata().clone())
    }

    /// Calldata of `processQueue(max)`.
    pub fn process_queue_call(&self, max: u64) -> TxCall {
        self.tx(self
            .vault()
            .processQueue(U256::from(max))
            .calldata()
            .clone())
    }

    /// Calldata of `allocate(strategy, assets)`.
    pub fn allocate_call(&self, strategy: Address, assets: U256) -> TxCall {
        self.tx(self.vault().allocate(strategy, assets).calldata().clone())
    }

    /// Calldata of `deallocate(strategy, assets)`.
    pub fn deallocate_call(&self, strategy: Address, assets: U256) -> TxCall {
        self.tx(self.vault().deallocate(strategy, assets).calldata().clone())
    }

    fn tx(&self, data: alloy::primitives::Bytes) -> TxCall {
        TxCall {
            to: self.manifest.contracts.vault,
            data,
            value: U256::ZERO,
        }
    }

    /// The deployment.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }
}

/// What the rebalancer reads from the vault.
#[derive(Debug, Clone)]
pub struct Liquidity {
    /// Idle minus what the redemption queue is owed.
    pub available: U256,
    /// Idle WETH.
    pub idle: U256,
    /// Principal outstanding.
    pub principal: U256,
    /// Strategies at cost.
    pub strategy_book: U256,
    /// Keeper moves used in the rolling window.
    pub move_used: U256,
    /// Keeper move cap per window.
    pub move_cap: U256,
    /// Liquidity reserve, bps of NAV.
    pub min_idle_bps: u16,
}
