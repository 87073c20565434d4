//! The investor report's three CSV layouts.

use std::fmt::Write as _;

use alloy_primitives::{Address, U256};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::csvout::{iso_date, iso_utc, Chunks};
use crate::error::Result;
use crate::investor::{Entry, Kind};
use crate::money::{cents, eth, fiat, shares, signed_eth, wei_fiat, ETH_DECIMALS, SHARE_DECIMALS};

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
pub(crate) fn ledger(out: &mut Chunks, entry: &Entry, row: &mut RowBuf) -> Result<()> {
    let ctx = entry.ctx();
    // The columns every row of this event shares, up to `eth_usd`'s neighbours, written once.
    let event_start =
        |row: &mut RowBuf, kind: Kind, counterparty: &Option<Address>, request: Option<U256>| {
            row.clear();
            row.field(|b| push_iso_utc(b, ctx.timestamp));
            row.display(ctx.block);
            row.display(ctx.log_index);
            row.str(&ctx.tx_hash);
            row.str(kind.label());
            row.field(|b| {
                if let Some(a) = counterparty {
                    let _ = write!(b, "{a:#x}");
                }
            });
            row.field(|b| {
                if let Some(r) = request {
                    let _ = write!(b, "{r}");
                }
            });
        };
    match entry {
        Entry::Acquired {
            kind,
            value_eth,
            gas_eth,
            lot,
            counterparty,
            ..
        } => {
            event_start(row, *kind, counterparty, None);
            row.units(lot.shares, SHARE_DECIMALS);
            row.units(*value_eth, ETH_DECIMALS);
            row.units(*gas_eth, ETH_DECIMALS);
            row.display(ctx.price);
            row.fiat(wei_fiat(*value_eth, ctx.price));
            row.display(lot.id);
            row.field(|b| push_iso_utc(b, lot.acquired));
            row.units(lot.shares, SHARE_DECIMALS);
            row.units(lot.basis_eth, ETH_DECIMALS);
            row.fiat(Some(lot.basis_fiat));
            for _ in 0..5 {
                row.str("");
            }
            out.row(row.fields())
        }
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
                event_start(row, *kind, counterparty, None);
                if first {
                    row.units(*sold, SHARE_DECIMALS);
                    row.units(*value_eth, ETH_DECIMALS);
                    row.units(*gas_eth, ETH_DECIMALS);
                } else {
                    row.str("");
                    row.str("");
                    row.str("");
                }
                row.display(ctx.price);
                if first {
                    row.fiat(wei_fiat(*value_eth, ctx.price));
                } else {
                    row.str("");
                }
                row.display(c.lot.id);
                row.field(|b| push_iso_utc(b, c.lot.acquired));
                row.units(c.lot.shares, SHARE_DECIMALS);
                row.units(c.lot.basis_eth, ETH_DECIMALS);
                row.fiat(Some(basis));
                row.units(c.proceeds_eth, ETH_DECIMALS);
                row.fiat(Some(proceeds));
                row.str(&signed_eth(c.gain_eth));
                row.fiat(Some(proceeds - basis));
                row.str(if c.long_term { "long" } else { "short" });
                out.row(row.fields())?;
            }
            Ok(())
        }
        Entry::Queue {
            kind,
            request_id,
            shares: moved,
            assets,
            ..
        } => {
            event_start(row, *kind, &None, Some(*request_id));
            row.units(*moved, SHARE_DECIMALS);
            if assets.is_zero() {
                row.str("");
            } else {
                row.units(*assets, ETH_DECIMALS);
            }
            row.str("");
            row.display(ctx.price);
            if assets.is_zero() {
                row.str("");
            } else {
                row.fiat(wei_fiat(*assets, ctx.price));
            }
            for _ in 0..10 {
                row.str("");
            }
            out.row(row.fields())
        }
    }
}

/// One CSV row's fields written into a single reusable buffer (no allocation per field: the
/// ledger of a million rows is the benchmark's hot loop).
#[derive(Debug, Default)]
pub(crate) struct RowBuf {
    buf: String,
    ends: Vec<usize>,
}

impl RowBuf {
    fn clear(&mut self) {
        self.buf.clear();
        self.ends.clear();
    }

    fn field(&mut self, write: impl FnOnce(&mut String)) {
        write(&mut self.buf);
        self.ends.push(self.buf.len());
    }

    fn str(&mut self, s: &str) {
        self.field(|b| b.push_str(s));
    }

    fn display(&mut self, v: impl std::fmt::Display) {
        self.field(|b| {
            let _ = write!(b, "{v}");
        });
    }

    /// `value / 10^decimals` with exactly `decimals` digits after the point (as [`crate::money::units`]).
    fn units(&mut self, value: U256, decimals: usize) {
        self.field(|b| {
            let start = b.len();
            let _ = write!(b, "{value}");
            let digits = b.len() - start;
            if digits <= decimals {
                let pad = "0.".to_owned() + &"0".repeat(decimals - digits);
                b.insert_str(start, &pad);
            } else {
                b.insert(b.len() - decimals, '.');
            }
        });
    }

    fn fiat(&mut self, v: Option<Decimal>) {
        self.field(|b| {
            if let Some(v) = v {
                b.push_str(&fiat(v));
            }
        });
    }

    fn fields(&self) -> impl Iterator<Item = &str> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let f = &self.buf[start..end];
            start = end;
            f
        })
    }
}

/// ISO 8601 UTC (`2025-03-01T12:00:00Z`) appended to `b`.
fn push_iso_utc(b: &mut String, ts: i64) {
    use chrono::{Datelike, Timelike};
    // Field by field: a strftime pattern is parsed again on every call.
    if let Some(t) = chrono::DateTime::<chrono::Utc>::from_timestamp(ts, 0) {
        let _ = write!(
            b,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
    }
}
