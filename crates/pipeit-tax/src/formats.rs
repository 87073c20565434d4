//! The investor report's three CSV layouts.

use alloy_primitives::U256;
use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::csvout::{iso_date, iso_utc, Chunks};
use crate::error::Result;
use crate::investor::{Entry, Kind};
use crate::money::{cents, eth, fiat, shares, signed_eth, wei_fiat};

/// The vault share's ticker (the ERC-20 symbol of `FactoringVault`).
pub const SHARE_SYMBOL: &str = "pfETH";
/// The fiat currency (the ETH/USD feed's).
pub const FIAT: &str = "USD";

/// Koinly's universal import header, exactly.
pub const KOINLY_HEADER: [&str; 12] = [
    "Date",
    "Sent Amount",
    "Sent Currency",
    "Received Amount",
    "Received Currency",
    "Fee Amount",
    "Fee Currency",
    "Net Worth Amount",
    "Net Worth Currency",
    "Label",
    "Description",
    "TxHash",
];

/// Form 8949 columns (a)–(h), after the part.
pub const FORM_8949_HEADER: [&str; 9] = [
    "Part",
    "(a) Description of property",
    "(b) Date acquired",
    "(c) Date sold or disposed of",
    "(d) Proceeds",
    "(e) Cost or other basis",
    "(f) Code(s)",
    "(g) Amount of adjustment",
    "(h) Gain or (loss)",
];

/// The ledger's columns.
pub const LEDGER_HEADER: [&str; 22] = [
    "date",
    "block",
    "log_index",
    "tx_hash",
    "event",
    "counterparty",
    "request_id",
    "shares",
    "value_eth",
    "gas_eth",
    "eth_usd",
    "value_usd",
    "lot",
    "lot_acquired",
    "lot_shares",
    "basis_eth",
    "basis_usd",
    "proceeds_eth",
    "proceeds_usd",
    "gain_eth",
    "gain_usd",
    "term",
];

fn value_fiat(wei: U256, price: Decimal) -> String {
    wei_fiat(wei, price).map(fiat).unwrap_or_default()
}

fn opt_eth(wei: U256) -> String {
    if wei.is_zero() {
        String::new()
    } else {
        eth(wei)
    }
}

/// One Koinly row per acquisition or disposal (queue steps are not trades).
pub(crate) fn koinly(out: &mut Chunks, entry: &Entry) -> Result<()> {
    let fee = |gas: &U256| (opt_eth(*gas), if gas.is_zero() { "" } else { "ETH" });
    match entry {
        Entry::Acquired {
            ctx,
            kind,
            value_eth,
            gas_eth,
            lot,
            counterparty,
        } => {
            let (fee_amount, fee_currency) = fee(gas_eth);
            let deposit = *kind == Kind::Deposit;
            let description = match counterparty {
                Some(a) => format!("pipeit vault shares received from {a:#x}"),
                None => "pipeit vault deposit".to_owned(),
            };
            out.row([
                iso_utc(ctx.timestamp).as_str(),
                if deposit {
                    eth(*value_eth)
                } else {
                    String::new()
                }
                .as_str(),
                if deposit { "ETH" } else { "" },
                shares(lot.shares).as_str(),
                SHARE_SYMBOL,
                fee_amount.as_str(),
                fee_currency,
                value_fiat(*value_eth, ctx.price).as_str(),
                FIAT,
                "",
                description.as_str(),
                ctx.tx_hash.as_str(),
            ])
        }
        Entry::Disposed {
            ctx,
            kind,
            shares: sold,
            value_eth,
            gas_eth,
            counterparty,
            ..
        } => {
            let (fee_amount, fee_currency) = fee(gas_eth);
            let received = *kind != Kind::TransferOut;
            let description = match (kind, counterparty) {
                (_, Some(a)) => format!("pipeit vault shares sent to {a:#x}"),
                (Kind::QueueClaim, _) => "pipeit vault redemption (queue claim)".to_owned(),
                _ => "pipeit vault redemption".to_owned(),
            };
            out.row([
                iso_utc(ctx.timestamp).as_str(),
                shares(*sold).as_str(),
                SHARE_SYMBOL,
                if received {
                    eth(*value_eth)
                } else {
                    String::new()
                }
                .as_str(),
                if received { "ETH" } else { "" },
                fee_amount.as_str(),
                fee_currency,
                value_fiat(*value_eth, ctx.price).as_str(),
                FIAT,
                "",
                description.as_str(),
                ctx.tx_hash.as_str(),
            ])
        }
        Entry::Queue { .. } => Ok(()),
    }
}

/// Running totals of one Form 8949 part (sums of the rounded figures, so the totals add up).
#[derive(Debug, Default)]
pub(crate) struct PartTotals {
    proceeds: Decimal,
    basis: Decimal,
}

/// The part's name: I short-term, II long-term.
pub(crate) fn part_name(long_term: bool) -> &'static str {
    if long_term {
        "II (long-term)"
    } else {
        "I (short-term)"
    }
}

/// Form 8949 rows of `entry` in the part `long_term` (one per lot slice closed).
pub(crate) fn form_8949(
    out: &mut Chunks,
    entry: &Entry,
    long_term: bool,
    tz: Tz,
    totals: &mut PartTotals,
) -> Result<()> {
    let Entry::Disposed { ctx, closed, .. } = entry else {
        return Ok(());
    };
    for c in closed.iter().filter(|c| c.long_term == long_term) {
        let (d, e) = (cents(c.proceeds_fiat), cents(c.lot.basis_fiat));
        totals.proceeds += d;
        totals.basis += e;
        let description = format!(
            "{} {SHARE_SYMBOL} (pipeit vault shares)",
            shares(c.lot.shares)
        );
        out.row([
            part_name(long_term),
            description.as_str(),
            iso_date(c.lot.acquired, tz).as_str(),
            iso_date(ctx.timestamp, tz).as_str(),
            fiat(d).as_str(),
            fiat(e).as_str(),
            "",
            "",
            fiat(d - e).as_str(),
        ])?;
    }
    Ok(())
}

/// The totals row of a part.
pub(crate) fn form_8949_totals(out: &mut Chunks, long_term: bool, t: &PartTotals) -> Result<()> {
    out.row([
        part_name(long_term),
        "Totals",
        "",
        "",
        fiat(t.proceeds).as_str(),
        fiat(t.basis).as_str(),
        "",
        "",
        fiat(t.proceeds - t.basis).as_str(),
    ])
}

/// Ledger rows: one per lot opened, one per lot slice closed, one per queue step.
pub(crate) fn ledger(out: &mut Chunks, entry: &Entry) -> Result<()> {
    let ctx = entry.ctx();
    let date = iso_utc(ctx.timestamp);
    let (block, log) = (ctx.block.to_string(), ctx.log_index.to_string());
    let price = ctx.price.to_string();
    let counter =
        |a: &Option<alloy_primitives::Address>| a.map(|a| format!("{a:#x}")).unwrap_or_default();
    match entry {
        Entry::Acquired {
            kind,
            value_eth,
            gas_eth,
            lot,
            counterparty,
            ..
        } => out.row([
            date.as_str(),
            &block,
            &log,
            &ctx.tx_hash,
            kind.label(),
            &counter(counterparty),
            "",
            &shares(lot.shares),
            &eth(*value_eth),
            &eth(*gas_eth),
            &price,
            &value_fiat(*value_eth, ctx.price),
            &lot.id.to_string(),
            &iso_utc(lot.acquired),
            &shares(lot.shares),
            &eth(lot.basis_eth),
            &fiat(lot.basis_fiat),
            "",
            "",
            "",
            "",
            "",
        ]),
        Entry::Disposed {
            kind,
            shares: sold,
            value_eth,
            gas_eth,
            closed,
            counterparty,
            ..
        } => {
            for (i, c) in closed.iter().enumerate() {
                // Event-level figures on the first slice only, so columns can be summed.
                let first = i == 0;
                let (proceeds, basis) = (cents(c.proceeds_fiat), cents(c.lot.basis_fiat));
                out.row([
                    date.as_str(),
                    &block,
                    &log,
                    &ctx.tx_hash,
                    kind.label(),
                    &counter(counterparty),
                    "",
                    &if first { shares(*sold) } else { String::new() },
                    &if first {
                        eth(*value_eth)
                    } else {
                        String::new()
                    },
                    &if first { eth(*gas_eth) } else { String::new() },
                    &price,
                    &if first {
                        value_fiat(*value_eth, ctx.price)
                    } else {
                        String::new()
                    },
                    &c.lot.id.to_string(),
                    &iso_utc(c.lot.acquired),
                    &shares(c.lot.shares),
                    &eth(c.lot.basis_eth),
                    &fiat(basis),
                    &eth(c.proceeds_eth),
                    &fiat(proceeds),
                    &signed_eth(c.gain_eth),
                    &fiat(proceeds - basis),
                    if c.long_term { "long" } else { "short" },
                ])?;
            }
            Ok(())
        }
        Entry::Queue {
            kind,
            request_id,
            shares: moved,
            assets,
            ..
        } => out.row([
            date.as_str(),
            &block,
            &log,
            &ctx.tx_hash,
            kind.label(),
            "",
            &request_id.to_string(),
            &shares(*moved),
            &if assets.is_zero() {
                String::new()
            } else {
                eth(*assets)
            },
            "",
            &price,
            &if assets.is_zero() {
                String::new()
            } else {
                value_fiat(*assets, ctx.price)
            },
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ]),
    }
}
