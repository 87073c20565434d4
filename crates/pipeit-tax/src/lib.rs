//! pipeit tax reports: cost basis (FIFO, LIFO, HIFO) and CSV writers, streamed from the index.
//!
//! Three reports, each a function that returns a stream of CSV chunks, usable as they are by the
//! CLI (write each chunk to a file or stdout) and by axum (`Body::from_stream`):
//!
//! ```ignore
//! let req = InvestorReportRequest::parse(at, "0x…", "2025", Some("hifo"), Some("koinly"), None, Utc::now())?;
//! check_investor(&db, &req).await?;                    // 404-style error before any byte is sent
//! let body = axum::body::Body::from_stream(investor_report(db.clone(), req));
//! ```
//!
//! - [`investor_report`]: one wallet, one tax year ([`InvestorReportRequest`]), in one of three
//!   layouts ([`InvestorFormat`]): `koinly` (Koinly's universal import header, exactly), `8949`
//!   (IRS Form 8949 columns (a)–(h), Part I short-term rows and totals, then Part II long-term), or
//!   `ledger` (every event with the lot it opened or each lot slice it closed, proceeds, basis and
//!   gain in ETH and USD, short or long term).
//! - [`business_report`]: the invoices paid out to one business address, one year: per invoice
//!   each advance, repayment (fee, late fee, principal), recovery and write-off in ETH and in USD
//!   at that block's price, the invoice's totals, and the grand total.
//! - [`vault_report`]: the vault's income statement over a period (fees, late fees, protocol fee,
//!   recoveries, write-offs, strategy realised P&L, accrual adjustment) between opening and
//!   closing total assets; see [`vault`] for how it reconciles.
//!
//! ## Requests and errors
//! The `parse` constructors take raw strings (a command line, a query string) and return
//! [`TaxError::InvalidField`] naming the field: a malformed address, a year in the future (in the
//! chosen time zone) or before 2000, an unknown method or format, an unknown IANA time zone.
//! [`check_investor`] / [`check_business`] refuse an address the index has never seen
//! ([`TaxError::UnknownAddress`]); each report stream runs the same check first, so its first item
//! is that error and nothing was written. A known address with no activity in the year gives a
//! header-only file (plus zero totals where the layout has totals), not an error.
//! [`TaxError::field`] and [`TaxError::is_client_error`] map errors to HTTP 400/404 vs 500. An error
//! after the first chunk (the database going away mid-stream) ends the stream with that error:
//! a CLI writing to a file removes the partial file; an HTTP response is cut short.
//!
//! ## What counts for an investor
//! See [`investor`]: deposits and share transfers in are acquisitions; withdrawals, share
//! transfers out and queue claims are disposals; a queue request locks lots (in the method's
//! order) until it is claimed or cancelled. Transfers are valued at the share price recorded at
//! their block (`totalAssets`/`totalSupply` as the vault converts). Gas of the wallet's own
//! transactions (recorded by the indexer from receipts: `gas used × effective gas price`) is added
//! to the basis or taken from the proceeds. HIFO matches the highest fiat cost per share first.
//! Long term: disposed of after the anniversary date of the acquisition, in the report's time
//! zone. Every row of history up to the year's end is read (lots opened earlier matter); only
//! rows inside the year are written.
//!
//! ## Numbers
//! Amounts are plain decimal strings with a fixed scale: ETH 18 decimals (exact wei), shares 21
//! (exact), USD 2. Dates are ISO 8601 UTC (`2025-03-01T12:00:00Z`); Form 8949's date columns are
//! ISO dates in the report's time zone. Fiat is computed at full precision and rounded once per
//! printed figure, half away from zero; see [`money`] for why and how gains add up.
//!
//! ## Streaming
//! Each report is one SQL query read with sqlx `fetch` (a row stream), turned into CSV records
//! and handed out in chunks of 512 rows: memory is the open lots and one chunk, however many rows
//! (`tests/streaming.rs` checks the peak RSS of an export of 1,000,000 rows). Form 8949 reads the
//! rows twice (short-term part, then long-term) instead of holding one part back.
#![warn(missing_docs, clippy::print_stdout, clippy::print_stderr)]

pub mod business;
mod csvout;
mod error;
pub mod formats;
pub mod investor;
pub mod lots;
pub mod money;
pub mod request;
pub mod source;
pub mod vault;

use bytes::Bytes;
use futures_util::{Stream, TryStreamExt};
use pipeit_db::Db;

pub use error::{Result, TaxError};
pub use request::{
    BusinessReportRequest, InvestorFormat, InvestorReportRequest, Method, Period,
    VaultReportRequest,
};

use crate::csvout::Chunks;
use crate::formats::{FORM_8949_HEADER, KOINLY_HEADER, LEDGER_HEADER};
use crate::investor::InvestorLedger;
use crate::source::{lower_hex, Keys};

/// Refuses an investor address with no indexed vault event at all.
pub async fn check_investor(db: &Db, req: &InvestorReportRequest) -> Result<()> {
    let address = lower_hex(req.address);
    if source::address_known(db, &Keys::of(req.at), &address, false).await? {
        Ok(())
    } else {
        Err(TaxError::UnknownAddress { address })
    }
}

/// Refuses a business address that never received an advance.
pub async fn check_business(db: &Db, req: &BusinessReportRequest) -> Result<()> {
    let address = lower_hex(req.address);
    if source::address_known(db, &Keys::of(req.at), &address, true).await? {
        Ok(())
    } else {
        Err(TaxError::UnknownAddress { address })
    }
}

/// The investor's report as CSV chunks (see the crate documentation).
pub fn investor_report(
    db: Db,
    req: InvestorReportRequest,
) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
    async_stream::try_stream! {
        check_investor(&db, &req).await?;
        let keys = Keys::of(req.at);
        let address = lower_hex(req.address);
        let sql = source::investor_sql(&db);
        let tz = req.period.tz;
        let mut out = Chunks::new();
        match req.format {
            InvestorFormat::Koinly => out.row(KOINLY_HEADER)?,
            InvestorFormat::Form8949 => out.row(FORM_8949_HEADER)?,
            InvestorFormat::Ledger => out.row(LEDGER_HEADER)?,
        }
        // Form 8949: two passes (Part I short-term, Part II long-term); the others: one.
        let passes: &[bool] = match req.format {
            InvestorFormat::Form8949 => &[false, true],
            _ => &[false],
        };
        for &long_term in passes {
            let mut ledger = InvestorLedger::new(req.address, req.at.contract, req.method, tz);
            let mut totals = formats::PartTotals::default();
            let mut row = formats::RowBuf::default();
            let mut rows = source::investor_events(&db, &sql, &keys, &address, req.period.end.timestamp());
            while let Some(event) = rows.try_next().await? {
                for entry in ledger.apply(&event)? {
                    if !req.period.contains(entry.ctx().timestamp) {
                        continue;
                    }
                    match req.format {
                        InvestorFormat::Koinly => formats::koinly(&mut out, &entry)?,
                        InvestorFormat::Form8949 => {
                            formats::form_8949(&mut out, &entry, long_term, tz, &mut totals)?
                        }
                        InvestorFormat::Ledger => formats::ledger(&mut out, &entry, &mut row)?,
                    }
                }
                if let Some(chunk) = out.take_full()? {
                    yield chunk;
                }
            }
            if req.format == InvestorFormat::Form8949 {
                formats::form_8949_totals(&mut out, long_term, &totals)?;
            }
        }
        if let Some(chunk) = out.take()? {
            yield chunk;
        }
    }
}

/// The business's report as CSV chunks (see [`business`]).
pub fn business_report(
    db: Db,
    req: BusinessReportRequest,
) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
    async_stream::try_stream! {
        check_business(&db, &req).await?;
        let keys = Keys::of(req.at);
        let address = lower_hex(req.address);
        let sql = source::business_sql(&db);
        let mut out = Chunks::new();
        out.row(business::header())?;
        let mut writer = business::BusinessWriter::default();
        let (start, end) = (req.period.start.timestamp(), req.period.end.timestamp());
        let mut rows = source::invoice_events(&db, &sql, &keys, &address, start, end);
        while let Some(event) = rows.try_next().await? {
            writer.event(&mut out, &event)?;
            if let Some(chunk) = out.take_full()? {
                yield chunk;
            }
        }
        writer.finish(&mut out)?;
        if let Some(chunk) = out.take()? {
            yield chunk;
        }
    }
}

/// The vault's income statement as CSV (`line,block,eth,usd`; see [`vault`]).
pub fn vault_report(
    db: Db,
    req: VaultReportRequest,
) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
    async_stream::try_stream! {
        let keys = Keys::of(req.at);
        let (start, end) = (req.period.start.timestamp(), req.period.end.timestamp());
        let opening = source::totals_before(&db, &keys, start).await?;
        let closing = source::totals_before(&db, &keys, end).await?;
        let mut statement = vault::Statement::default();
        let sql = source::vault_sql(&db);
        let mut rows = source::vault_events(&db, &sql, &keys, start, end);
        while let Some(event) = rows.try_next().await? {
            statement.add(&event)?;
        }
        let mut out = Chunks::new();
        out.row(["line", "block", "eth", "usd"])?;
        for line in statement.lines(opening.as_ref(), closing.as_ref()) {
            out.row([
                line.name.to_owned(),
                line.block.map(|b| b.to_string()).unwrap_or_default(),
                money::signed_eth(line.eth),
                money::fiat(line.fiat),
            ])?;
        }
        if let Some(chunk) = out.take()? {
            yield chunk;
        }
    }
}
