//! The investor's tax events: vault events in, acquisitions and disposals (with the lots they
//! touched) out. Pure: no I/O; the rows come from [`crate::source`].
//!
//! What counts (see the crate documentation):
//! - acquisitions: `Deposit` to the wallet (cost: the assets paid), a share `Transfer` in from
//!   another wallet (cost: the shares' value at that block's share price);
//! - disposals: `Withdraw` from the wallet (proceeds: the assets paid out), a share `Transfer` out
//!   (proceeds: value at that block's share price), a queue `RedeemClaimed` (proceeds: the assets
//!   claimed, for the shares filled since the last claim);
//! - `RedeemRequested` locks lots (taken in the method's order, so later disposals cannot match
//!   them), `RedeemCancelled` puts the unfilled part back, `RedeemFilled` marks shares as sold at
//!   claim; none of them is a disposal;
//! - gas of the wallet's own transactions: added to the basis of what it acquires, taken from the
//!   proceeds of what it disposes of (a queue request's gas from its first claim's proceeds).

use std::collections::HashMap;

use alloy_primitives::{Address, I256, U256};
use chrono::{DateTime, Months, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::error::{Result, TaxError};
use crate::lots::{take_from, Lot, LotBook, Shortfall};
use crate::money::{diff, mul_div, wei_fiat};
use crate::request::Method;

/// One indexed vault event, with what the investor report needs from its block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvestorEvent {
    /// Block number.
    pub block: u64,
    /// Log index in the block.
    pub log_index: u64,
    /// Transaction hash (0x-hex).
    pub tx_hash: String,
    /// Event name.
    pub name: String,
    /// The event's account (owner for Deposit/Withdraw/RedeemRequested/RedeemCancelled).
    pub account: Option<Address>,
    /// Shares moved.
    pub shares: Option<U256>,
    /// Assets moved, wei.
    pub assets: Option<U256>,
    /// `Transfer.from`.
    pub from: Option<Address>,
    /// `Transfer.to`.
    pub to: Option<Address>,
    /// Queue request id.
    pub request_id: Option<U256>,
    /// Block timestamp.
    pub timestamp: Option<i64>,
    /// ETH/USD at the block.
    pub price: Option<Decimal>,
    /// Vault total assets after the block.
    pub total_assets: Option<U256>,
    /// Vault total supply after the block.
    pub total_supply: Option<U256>,
    /// Gas paid by the transaction, wei.
    pub gas_fee: Option<U256>,
    /// The transaction's sender.
    pub gas_payer: Option<Address>,
}

/// Where an entry came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// Block timestamp.
    pub timestamp: i64,
    /// Block number.
    pub block: u64,
    /// Log index.
    pub log_index: u64,
    /// Transaction hash.
    pub tx_hash: String,
    /// ETH/USD at the block.
    pub price: Decimal,
}

/// What kind of event an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Deposit (mint) into the wallet.
    Deposit,
    /// Shares received from another wallet.
    TransferIn,
    /// Instant redemption or withdrawal.
    Withdraw,
    /// Shares sent to another wallet.
    TransferOut,
    /// Queue claim.
    QueueClaim,
    /// Shares locked in the queue.
    QueueRequest,
    /// Locked shares filled at the then share price.
    QueueFill,
    /// Unfilled locked shares returned.
    QueueCancel,
}

impl Kind {
    /// The name in CSV files.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Deposit => "deposit",
            Kind::TransferIn => "transfer_in",
            Kind::Withdraw => "withdraw",
            Kind::TransferOut => "transfer_out",
            Kind::QueueClaim => "queue_claim",
            Kind::QueueRequest => "queue_request",
            Kind::QueueFill => "queue_fill",
            Kind::QueueCancel => "queue_cancel",
        }
    }
}

/// A part of a lot closed by a disposal, with its share of the proceeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    /// The lot (a slice of it when split).
    pub lot: Lot,
    /// Proceeds in wei (net of gas), this slice's share.
    pub proceeds_eth: U256,
    /// Proceeds in fiat, unrounded.
    pub proceeds_fiat: Decimal,
    /// Proceeds − basis, wei.
    pub gain_eth: I256,
    /// Held more than one year (long term).
    pub long_term: bool,
}

/// One reportable thing that happened to the wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// Shares acquired: a lot opened.
    Acquired {
        /// Where.
        ctx: Context,
        /// Deposit or transfer in.
        kind: Kind,
        /// Assets paid (deposit) or the shares' value (transfer), wei, before gas.
        value_eth: U256,
        /// Gas of the wallet's own transaction, wei.
        gas_eth: U256,
        /// The lot (its basis includes the gas).
        lot: Lot,
        /// The other wallet of a transfer.
        counterparty: Option<Address>,
    },
    /// Shares disposed of.
    Disposed {
        /// Where.
        ctx: Context,
        /// Withdraw, transfer out or queue claim.
        kind: Kind,
        /// Shares disposed of.
        shares: U256,
        /// Assets received (or the shares' value for a transfer), wei, before gas.
        value_eth: U256,
        /// Gas taken from the proceeds, wei.
        gas_eth: U256,
        /// The lots closed, in matching order.
        closed: Vec<Closed>,
        /// The other wallet of a transfer.
        counterparty: Option<Address>,
    },
    /// A queue step that is not a disposal (request, fill, cancel).
    Queue {
        /// Where.
        ctx: Context,
        /// Which step.
        kind: Kind,
        /// Request id.
        request_id: U256,
        /// Shares locked, filled or returned.
        shares: U256,
        /// Assets of a fill, wei.
        assets: U256,
    },
}

impl Entry {
    /// Where it happened.
    pub fn ctx(&self) -> &Context {
        match self {
            Entry::Acquired { ctx, .. }
            | Entry::Disposed { ctx, .. }
            | Entry::Queue { ctx, .. } => ctx,
        }
    }
}

#[derive(Debug, Default)]
struct Request {
    /// Lots locked by the request, in matching order.
    locked: Vec<Lot>,
    /// Shares filled and not yet claimed.
    filled: U256,
    /// Gas of the request transaction, not yet taken from a claim.
    gas: U256,
}

/// Turns an investor's events, in chain order, into entries.
#[derive(Debug)]
pub struct InvestorLedger {
    me: Address,
    vault: Address,
    tz: Tz,
    book: LotBook,
    requests: HashMap<U256, Request>,
    /// The last transaction whose gas was counted (a transaction's logs are contiguous).
    charged_tx: Option<String>,
}

impl InvestorLedger {
    /// A ledger for wallet `me` of `vault`, matching lots by `method`, dates in `tz`.
    pub fn new(me: Address, vault: Address, method: Method, tz: Tz) -> InvestorLedger {
        InvestorLedger {
            me,
            vault,
            tz,
            book: LotBook::new(method),
            requests: HashMap::new(),
            charged_tx: None,
        }
    }

    /// Shares held (excluding those locked in the queue).
    pub fn held(&self) -> U256 {
        self.book.held()
    }

    /// Applies one event; returns what it means for the wallet (empty for events of others).
    pub fn apply(&mut self, e: &InvestorEvent) -> Result<Vec<Entry>> {
        let me = Some(self.me);
        let zero = Some(Address::ZERO);
        let vault = Some(self.vault);
        let entries = match e.name.as_str() {
            "Deposit" if e.account == me => {
                let ctx = context(e)?;
                let (shares, assets) = (need(e.shares, e, "shares")?, need(e.assets, e, "assets")?);
                vec![self.acquire(e, ctx, Kind::Deposit, shares, assets, None)?]
            }
            "Withdraw" if e.account == me => {
                let ctx = context(e)?;
                let (shares, assets) = (need(e.shares, e, "shares")?, need(e.assets, e, "assets")?);
                let lots = self.book.take(shares).map_err(|s| shortfall(e, s))?;
                let gas = self.own_gas(e);
                vec![self.dispose(ctx, Kind::Withdraw, shares, assets, gas, lots, None)?]
            }
            "Transfer" if e.from != e.to && (e.from == me || e.to == me) => {
                // Mints, burns and queue locks move through the zero address or the vault itself;
                // the Deposit/Withdraw/queue events report those.
                if [e.from, e.to].iter().any(|a| *a == zero || *a == vault) {
                    return Ok(Vec::new());
                }
                let ctx = context(e)?;
                let shares = need(e.shares, e, "shares")?;
                let value = share_value(e, shares)?;
                if e.to == me {
                    vec![self.acquire(e, ctx, Kind::TransferIn, shares, value, e.from)?]
                } else {
                    let lots = self.book.take(shares).map_err(|s| shortfall(e, s))?;
                    let gas = self.own_gas(e);
                    vec![self.dispose(ctx, Kind::TransferOut, shares, value, gas, lots, e.to)?]
                }
            }
            "RedeemRequested" if e.account == me => {
                let ctx = context(e)?;
                let (id, shares) = (
                    need(e.request_id, e, "requestId")?,
                    need(e.shares, e, "shares")?,
                );
                let locked = self.book.take(shares).map_err(|s| shortfall(e, s))?;
                let gas = self.own_gas(e);
                self.requests.insert(
                    id,
                    Request {
                        locked,
                        filled: U256::ZERO,
                        gas,
                    },
                );
                vec![queue(ctx, Kind::QueueRequest, id, shares, U256::ZERO)]
            }
            "RedeemFilled" => {
                let Some(id) = e.request_id else {
                    return Ok(Vec::new());
                };
                let Some(request) = self.requests.get_mut(&id) else {
                    return Ok(Vec::new()); // another wallet's request
                };
                let shares = need(e.shares, e, "shares")?;
                request.filled += shares;
                let assets = e.assets.unwrap_or_default();
                vec![queue(context(e)?, Kind::QueueFill, id, shares, assets)]
            }
            "RedeemClaimed" => {
                let Some(id) = e.request_id else {
                    return Ok(Vec::new());
                };
                if !self.requests.contains_key(&id) {
                    return Ok(Vec::new());
                }
                let ctx = context(e)?;
                let assets = need(e.assets, e, "assets")?;
                let claim_gas = self.own_gas(e);
                let Some(request) = self.requests.get_mut(&id) else {
                    return Ok(Vec::new());
                };
                let shares = std::mem::take(&mut request.filled);
                let gas = std::mem::take(&mut request.gas) + claim_gas;
                let lots = take_from(&mut request.locked, shares).map_err(|s| shortfall(e, s))?;
                if request.locked.is_empty() {
                    self.requests.remove(&id);
                }
                vec![self.dispose(ctx, Kind::QueueClaim, shares, assets, gas, lots, None)?]
            }
            "RedeemCancelled" if e.account == me => {
                let Some(id) = e.request_id else {
                    return Ok(Vec::new());
                };
                let ctx = context(e)?;
                let returned = need(e.shares, e, "sharesReturned")?;
                if let Some(request) = self.requests.get_mut(&id) {
                    // The unfilled shares come back: the lots locked last (after what the fills
                    // will be claimed from).
                    let locked: U256 = request.locked.iter().map(|l| l.shares).sum();
                    let keep = locked - returned.min(locked);
                    let kept = take_from(&mut request.locked, keep).map_err(|s| shortfall(e, s))?;
                    let back = std::mem::replace(&mut request.locked, kept);
                    self.book.restore(back);
                    if request.locked.is_empty() && request.filled.is_zero() {
                        self.requests.remove(&id);
                    }
                }
                vec![queue(ctx, Kind::QueueCancel, id, returned, U256::ZERO)]
            }
            _ => Vec::new(),
        };
        Ok(entries)
    }

    fn acquire(
        &mut self,
        e: &InvestorEvent,
        ctx: Context,
        kind: Kind,
        shares: U256,
        value: U256,
        counterparty: Option<Address>,
    ) -> Result<Entry> {
        let gas = self.own_gas(e);
        let basis_eth = value + gas;
        let basis_fiat = fiat_of(basis_eth, &ctx, "basis")?;
        let lot = self.book.open(ctx.timestamp, shares, basis_eth, basis_fiat);
        Ok(Entry::Acquired {
            ctx,
            kind,
            value_eth: value,
            gas_eth: gas,
            lot,
            counterparty,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn dispose(
        &self,
        ctx: Context,
        kind: Kind,
        shares: U256,
        value: U256,
        gas: U256,
        lots: Vec<Lot>,
        counterparty: Option<Address>,
    ) -> Result<Entry> {
        // Gas above the proceeds (dust claims) leaves zero proceeds; the rest of it is not a loss
        // of the shares.
        let net = value.saturating_sub(gas);
        let net_fiat = fiat_of(net, &ctx, "proceeds")?;
        let total: U256 = lots.iter().map(|l| l.shares).sum();
        let count = lots.len();
        let mut closed = Vec::with_capacity(count);
        let (mut eth_left, mut fiat_left) = (net, net_fiat);
        for (i, lot) in lots.into_iter().enumerate() {
            // Each slice gets its pro-rata share (wei rounded down); the last gets what is left.
            let (eth, fiat) = if i + 1 == count {
                (eth_left, fiat_left)
            } else {
                let eth = mul_div(net, lot.shares, total).unwrap_or_default();
                let fiat = crate::lots::fraction(lot.shares, total)
                    .and_then(|f| net_fiat.checked_mul(f))
                    .ok_or(TaxError::Overflow {
                        block: ctx.block,
                        what: "proceeds",
                    })?;
                (eth, fiat)
            };
            eth_left -= eth;
            fiat_left -= fiat;
            closed.push(Closed {
                long_term: self.long_term(lot.acquired, ctx.timestamp),
                gain_eth: diff(eth, lot.basis_eth),
                proceeds_eth: eth,
                proceeds_fiat: fiat,
                lot,
            });
        }
        Ok(Entry::Disposed {
            ctx,
            kind,
            shares,
            value_eth: value,
            gas_eth: gas,
            closed,
            counterparty,
        })
    }

    /// Held more than one year: disposed of after the anniversary date of the acquisition, both
    /// dates in the report's time zone.
    fn long_term(&self, acquired: i64, disposed: i64) -> bool {
        let date = |ts: i64| {
            DateTime::<Utc>::from_timestamp(ts, 0).map(|t| t.with_timezone(&self.tz).date_naive())
        };
        match (date(acquired), date(disposed)) {
            (Some(a), Some(d)) => a
                .checked_add_months(Months::new(12))
                .is_some_and(|anniversary| d > anniversary),
            _ => false,
        }
    }

    /// The transaction's gas if this wallet sent it and it was not counted yet.
    fn own_gas(&mut self, e: &InvestorEvent) -> U256 {
        if e.gas_payer != Some(self.me) || self.charged_tx.as_deref() == Some(e.tx_hash.as_str()) {
            return U256::ZERO;
        }
        self.charged_tx = Some(e.tx_hash.clone());
        e.gas_fee.unwrap_or_default()
    }
}

fn queue(ctx: Context, kind: Kind, request_id: U256, shares: U256, assets: U256) -> Entry {
    Entry::Queue {
        ctx,
        kind,
        request_id,
        shares,
        assets,
    }
}

fn context(e: &InvestorEvent) -> Result<Context> {
    let timestamp = e
        .timestamp
        .ok_or_else(|| incomplete(e, "no block timestamp recorded"))?;
    let price = e
        .price
        .ok_or_else(|| incomplete(e, "no ETH/USD price recorded"))?;
    Ok(Context {
        timestamp,
        block: e.block,
        log_index: e.log_index,
        tx_hash: e.tx_hash.clone(),
        price,
    })
}

fn need<T: Copy>(v: Option<T>, e: &InvestorEvent, what: &str) -> Result<T> {
    v.ok_or_else(|| incomplete(e, &format!("{} has no {what}", e.name)))
}

fn incomplete(e: &InvestorEvent, reason: &str) -> TaxError {
    TaxError::IncompleteIndex {
        block: e.block,
        reason: reason.to_owned(),
    }
}

fn shortfall(e: &InvestorEvent, s: Shortfall) -> TaxError {
    incomplete(
        e,
        &format!(
            "{} of {} shares, but only {} were acquired before",
            e.name, s.wanted, s.held
        ),
    )
}

fn fiat_of(wei: U256, ctx: &Context, what: &'static str) -> Result<Decimal> {
    wei_fiat(wei, ctx.price).ok_or(TaxError::Overflow {
        block: ctx.block,
        what,
    })
}

/// The shares' value at the block's share price, as the vault converts (ERC-4626 with a decimals
/// offset of 3: `shares × (assets + 1) / (supply + 10^3)`, rounded down).
fn share_value(e: &InvestorEvent, shares: U256) -> Result<U256> {
    let assets = need(e.total_assets, e, "total assets at its block")?;
    let supply = need(e.total_supply, e, "total supply at its block")?;
    mul_div(
        shares,
        assets + U256::from(1u8),
        supply + U256::from(1000u16),
    )
    .ok_or_else(|| incomplete(e, "share value out of range"))
}
