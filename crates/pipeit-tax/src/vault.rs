//! The vault's income statement over a period, reconciled with the change in total assets.
//!
//! ```text
//! closing total assets = opening total assets
//!     + deposits − withdrawals − queue fills                                (capital)
//!     + fees received + late fees received − protocol fee + recoveries
//!     − principal written off − fee receivable written off + strategy realised P&L
//!     + accrual adjustment                                                   (income)
//! ```
//!
//! Every line but the accrual adjustment is the sum of the period's events (wei, exact). The
//! accrual adjustment is what the contract's accounting adds between cash events: fees accrued by
//! schedule less fees received (fees paid ahead of schedule are deferred), late fees and recoveries
//! vesting over 7 days, and the change in strategies' value beyond their realised P&L. On the
//! contract it equals the change of `accruedFees()` plus the fee receivable written off (when no
//! strategy holds assets); the Anvil test checks exactly that.
//!
//! Opening and closing total assets are the vault's `totalAssets()` after the last indexed block
//! before the period's start and end. Fiat: each event at its block's ETH/USD price, the balances
//! at theirs; the fiat accrual adjustment is the remainder, so it also holds the revaluation of
//! the opening balance.

use alloy_primitives::{I256, U256};
use rust_decimal::Decimal;

use crate::error::{Result, TaxError};
use crate::money::wei_fiat;
use crate::source::{TotalsAt, VaultEventRow};

/// The statement's lines, in order.
pub const LINES: [&str; 15] = [
    "opening_total_assets",
    "deposits",
    "withdrawals",
    "queue_fills",
    "net_capital",
    "fees_received",
    "late_fees_received",
    "protocol_fee",
    "recoveries",
    "write_offs_principal",
    "write_offs_fee_receivable",
    "strategy_realised_pnl",
    "accrual_adjustment",
    "net_income",
    "closing_total_assets",
];

/// Flow lines summed from events (indexes into [`Statement::flows`]).
const DEPOSITS: usize = 0;
const WITHDRAWALS: usize = 1;
const FILLS: usize = 2;
const FEES: usize = 3;
const LATE_FEES: usize = 4;
const PROTOCOL: usize = 5;
const RECOVERIES: usize = 6;
const WO_PRINCIPAL: usize = 7;
const WO_FEE: usize = 8;
const STRATEGY: usize = 9;

/// Running sums of the period's events.
#[derive(Debug, Clone, Default)]
pub struct Statement {
    /// Signed wei per flow line (outflows negative).
    pub flows: [I256; 10],
    /// Fiat per flow line, unrounded.
    pub flows_fiat: [Decimal; 10],
}

/// One line of the finished statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Name (see [`LINES`]).
    pub name: &'static str,
    /// The block of a balance line.
    pub block: Option<u64>,
    /// Signed wei.
    pub eth: I256,
    /// Fiat, unrounded.
    pub fiat: Decimal,
}

fn signed(v: Option<U256>) -> I256 {
    I256::from_raw(v.unwrap_or_default())
}

impl Statement {
    /// Adds one event.
    pub fn add(&mut self, e: &VaultEventRow) -> Result<()> {
        let price = e.price.ok_or_else(|| TaxError::IncompleteIndex {
            block: e.block,
            reason: "no ETH/USD price recorded".to_owned(),
        })?;
        let mut put = |line: usize, wei: I256| -> Result<()> {
            let f = wei_fiat(wei.unsigned_abs(), price).ok_or(TaxError::Overflow {
                block: e.block,
                what: "statement line",
            })?;
            self.flows[line] += wei;
            self.flows_fiat[line] += if wei.is_negative() { -f } else { f };
            Ok(())
        };
        match e.name.as_str() {
            "Deposit" => put(DEPOSITS, signed(e.assets))?,
            "Withdraw" => put(WITHDRAWALS, -signed(e.assets))?,
            "RedeemFilled" => put(FILLS, -signed(e.assets))?,
            "InvoiceRepaid" => {
                put(FEES, signed(e.fee_paid))?;
                put(LATE_FEES, signed(e.late_fee_paid))?;
                put(PROTOCOL, -signed(e.protocol_fee))?;
            }
            "RecoveryReceived" => put(RECOVERIES, signed(e.amount))?,
            "InvoiceWrittenOff" => {
                put(WO_PRINCIPAL, -signed(e.principal_lost))?;
                put(WO_FEE, -signed(e.fee_lost))?;
            }
            "Deallocated" => {
                let pnl = e.realised_pnl.as_deref().unwrap_or("0");
                let v = I256::from_dec_str(pnl).map_err(|_| TaxError::IncompleteIndex {
                    block: e.block,
                    reason: format!("malformed realisedPnl {pnl:?}"),
                })?;
                put(STRATEGY, v)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// The statement's lines between `opening` and `closing` (`None`: before the vault existed).
    pub fn lines(&self, opening: Option<&TotalsAt>, closing: Option<&TotalsAt>) -> Vec<Line> {
        let balance = |t: Option<&TotalsAt>| {
            t.map_or((None, I256::ZERO, Decimal::ZERO), |t| {
                let f = t
                    .price
                    .and_then(|p| wei_fiat(t.total_assets, p))
                    .unwrap_or_default();
                (Some(t.block), I256::from_raw(t.total_assets), f)
            })
        };
        let (open_block, open_eth, open_fiat) = balance(opening);
        let (close_block, close_eth, close_fiat) = balance(closing);
        let sum = |range: std::ops::Range<usize>| {
            range.fold((I256::ZERO, Decimal::ZERO), |(e, f), i| {
                (e + self.flows[i], f + self.flows_fiat[i])
            })
        };
        let (capital_eth, capital_fiat) = sum(DEPOSITS..FEES);
        let (listed_eth, listed_fiat) = sum(FEES..STRATEGY + 1);
        // What the events do not explain: accrual by schedule, vesting, valuation (see above).
        let adjust_eth = close_eth - open_eth - capital_eth - listed_eth;
        let adjust_fiat = close_fiat - open_fiat - capital_fiat - listed_fiat;
        let net_income = (listed_eth + adjust_eth, listed_fiat + adjust_fiat);
        let line = |name, block, eth, fiat| Line {
            name,
            block,
            eth,
            fiat,
        };
        let flow = |name, i: usize| line(name, None, self.flows[i], self.flows_fiat[i]);
        vec![
            line(LINES[0], open_block, open_eth, open_fiat),
            flow(LINES[1], DEPOSITS),
            flow(LINES[2], WITHDRAWALS),
            flow(LINES[3], FILLS),
            line(LINES[4], None, capital_eth, capital_fiat),
            flow(LINES[5], FEES),
            flow(LINES[6], LATE_FEES),
            flow(LINES[7], PROTOCOL),
            flow(LINES[8], RECOVERIES),
            flow(LINES[9], WO_PRINCIPAL),
            flow(LINES[10], WO_FEE),
            flow(LINES[11], STRATEGY),
            line(LINES[12], None, adjust_eth, adjust_fiat),
            line(LINES[13], None, net_income.0, net_income.1),
            line(LINES[14], close_block, close_eth, close_fiat),
        ]
    }
}
