//! pipeit's domain types and money math. No I/O.
//!
//! The math mirrors the vault contract's `uint256` arithmetic formula by formula (same operations,
//! same order, same rounding), so the keeper and the API can predict to the wei what the contract
//! will compute. Money is `U256` wei on-chain and `Decimal` fiat off-chain; never `f64`.
//! Every rounding says whom it favours: the rule is that the vault never loses.
//!
//! - [`math`]: constants (`BPS`, `WAD`, `DAY`), [`Rounding`], exact 512-bit [`mul_div`].
//! - [`fees`]: protocol cut, issuance rate, accrual, late fees, repayment waterfall.
//! - [`shares`]: ERC-4626 conversions with a decimals offset.
//! - [`currency`], [`fiat`]: ISO 4217 currencies, fiat amounts, ETH price conversions.
//! - [`invoice`]: the invoice record, its validation and its canonical on-chain id.
//! - [`scoring`], [`pricing`], [`signal`]: the keeper's and the API's decisions: eligibility, score,
//!   probability of default, advance rate, fee and the quote ([`pricing::quote`]); [`signal_model`]:
//!   the on-box market signal from recorded ETH/USD prices, and its backtest; [`rebalance`]: the
//!   plan for idle capital between the reserve, the yield strategy and the USD hedge.
#![warn(missing_docs, clippy::print_stdout, clippy::print_stderr)]

pub mod country;
pub mod currency;
pub mod fees;
pub mod fiat;
pub mod invoice;
pub mod math;
pub mod pricing;
pub mod rebalance;
pub mod scoring;
pub mod shares;
pub mod signal;
pub mod signal_model;

pub use currency::{Currency, CurrencyError};
pub use fees::{
    accrued_fee, amount_owed, issuance_rate, late_days, late_fee_accrued, late_fee_for_days,
    late_fee_owed, lp_fee, protocol_cut, vesting_end, waterfall, AmountOwed, LateFeeCheckpoint,
    Repayment, INCOME_VESTING_DAYS,
};
pub use fiat::{
    fiat_to_wei, fiat_to_wei_ceil, fiat_to_wei_floor, wei_to_fiat, EthPrice, FiatAmount, FiatError,
};
pub use invoice::{
    due_at_timestamp, normalize_invoice_number, normalize_tax_id, InvoiceError, InvoiceRecord,
};
pub use math::{ceil_div, mul_div, MathError, Rounding, BPS, DAY, WAD};
pub use shares::{convert_to_assets, convert_to_shares, VAULT_DECIMALS_OFFSET};

/// Any error of this crate, for callers that do not need to tell them apart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Integer math (overflow, bad basis points, bad tenor).
    #[error(transparent)]
    Math(#[from] MathError),
    /// A currency code.
    #[error(transparent)]
    Currency(#[from] CurrencyError),
    /// A fiat amount or price.
    #[error(transparent)]
    Fiat(#[from] FiatError),
    /// An invoice record.
    #[error(transparent)]
    Invoice(#[from] InvoiceError),
}
