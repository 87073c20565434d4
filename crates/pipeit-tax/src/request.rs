//! Report requests: parsed and checked before anything is read, each error naming its field.

use std::str::FromStr;

use alloy_primitives::Address;
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use pipeit_db::ChainContract;

use crate::error::{Result, TaxError};

/// How disposed shares are matched to the lots they came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// First in, first out (the default).
    #[default]
    Fifo,
    /// Last in, first out.
    Lifo,
    /// Highest cost (per share, in fiat) first.
    Hifo,
}

impl FromStr for Method {
    type Err = TaxError;
    fn from_str(s: &str) -> Result<Method> {
        match s.to_ascii_lowercase().as_str() {
            "fifo" => Ok(Method::Fifo),
            "lifo" => Ok(Method::Lifo),
            "hifo" => Ok(Method::Hifo),
            _ => Err(invalid("method", s, "expected fifo, lifo or hifo")),
        }
    }
}

/// The investor report's CSV layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InvestorFormat {
    /// Koinly's universal import format (one row per acquisition or disposal).
    #[default]
    Koinly,
    /// IRS Form 8949 columns (a)–(h): Part I short-term rows and total, then Part II long-term.
    Form8949,
    /// Every event, with the lot it opened or each lot (slice) it closed.
    Ledger,
}

impl FromStr for InvestorFormat {
    type Err = TaxError;
    fn from_str(s: &str) -> Result<InvestorFormat> {
        match s.to_ascii_lowercase().as_str() {
            "koinly" => Ok(InvestorFormat::Koinly),
            "8949" | "form8949" => Ok(InvestorFormat::Form8949),
            "ledger" => Ok(InvestorFormat::Ledger),
            _ => Err(invalid("format", s, "expected koinly, 8949 or ledger")),
        }
    }
}

/// A report period: `[start, end)` in UTC, and the time zone dates are shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// First instant included.
    pub start: DateTime<Utc>,
    /// First instant after the period.
    pub end: DateTime<Utc>,
    /// The time zone of the tax year (dates of Form 8949 and the one-year holding test).
    pub tz: Tz,
}

impl Period {
    /// The calendar `year` in `tz` (midnight 1 January to midnight 1 January, local time).
    /// A year that has not started yet in `tz` at `now` is refused.
    pub fn tax_year(year: i32, tz: Tz, now: DateTime<Utc>) -> Result<Period> {
        let current = now.with_timezone(&tz).year();
        if year > current {
            return Err(invalid(
                "year",
                &year.to_string(),
                &format!("it is in the future (the current year in {tz} is {current})"),
            ));
        }
        if year < 2000 {
            return Err(invalid(
                "year",
                &year.to_string(),
                "expected a year from 2000 on",
            ));
        }
        let start = local_midnight(tz, year, 1, 1, "year")?;
        let end = local_midnight(tz, year + 1, 1, 1, "year")?;
        Ok(Period { start, end, tz })
    }

    /// From local midnight of `from` to local midnight after `to` (both dates included).
    pub fn dates(from: NaiveDate, to: NaiveDate, tz: Tz) -> Result<Period> {
        if to < from {
            return Err(invalid(
                "to",
                &to.to_string(),
                &format!("it is before from ({from})"),
            ));
        }
        let start = local_midnight(tz, from.year(), from.month(), from.day(), "from")?;
        let next = to
            .succ_opt()
            .ok_or_else(|| invalid("to", &to.to_string(), "out of range"))?;
        let end = local_midnight(tz, next.year(), next.month(), next.day(), "to")?;
        Ok(Period { start, end, tz })
    }

    /// Whether unix time `ts` is inside the period.
    pub fn contains(&self, ts: i64) -> bool {
        self.start.timestamp() <= ts && ts < self.end.timestamp()
    }
}

fn local_midnight(tz: Tz, y: i32, m: u32, d: u32, field: &'static str) -> Result<DateTime<Utc>> {
    // `earliest`: a zone that skips midnight (a DST jump at 00:00) starts the day at the first
    // instant that exists.
    tz.with_ymd_and_hms(y, m, d, 0, 0, 0)
        .earliest()
        .or_else(|| tz.with_ymd_and_hms(y, m, d, 1, 0, 0).earliest())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| {
            invalid(
                field,
                &format!("{y:04}-{m:02}-{d:02}"),
                "no such local date",
            )
        })
}

/// Parses an IANA time zone name (`UTC`, `Europe/Berlin`, `America/New_York`).
pub fn parse_tz(s: &str) -> Result<Tz> {
    s.parse::<Tz>().map_err(|_| {
        invalid(
            "tz",
            s,
            "expected an IANA time zone name such as UTC or Europe/Berlin",
        )
    })
}

/// Parses a 0x-prefixed 20-byte hex address (any case).
pub fn parse_address(s: &str) -> Result<Address> {
    let hex = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"));
    match hex {
        Some(h) if h.len() == 40 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Address::from_str(s).map_err(|e| invalid("address", s, &e.to_string()))
        }
        _ => Err(invalid(
            "address",
            s,
            "expected 0x followed by 40 hex digits",
        )),
    }
}

/// Parses a year (`2025`).
pub fn parse_year(s: &str) -> Result<i32> {
    s.trim()
        .parse::<i32>()
        .map_err(|_| invalid("year", s, "expected a four-digit year such as 2025"))
}

/// Parses an ISO date (`2025-04-06`).
pub fn parse_date(field: &'static str, s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| invalid(field, s, "expected a date as YYYY-MM-DD"))
}

pub(crate) fn invalid(field: &'static str, value: &str, reason: &str) -> TaxError {
    TaxError::InvalidField {
        field,
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}

/// An investor's report: one wallet, one tax year.
#[derive(Debug, Clone)]
pub struct InvestorReportRequest {
    /// The vault (chain id and address) whose index is read.
    pub at: ChainContract,
    /// The investor's wallet.
    pub address: Address,
    /// The tax year.
    pub period: Period,
    /// Lot matching.
    pub method: Method,
    /// CSV layout.
    pub format: InvestorFormat,
}

impl InvestorReportRequest {
    /// Checks raw inputs (as typed on a command line or in a query string). `method`, `format` and
    /// `tz` default to fifo, koinly and UTC.
    pub fn parse(
        at: ChainContract,
        address: &str,
        year: &str,
        method: Option<&str>,
        format: Option<&str>,
        tz: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<InvestorReportRequest> {
        let address = parse_address(address)?;
        let tz = tz.map_or(Ok(Tz::UTC), parse_tz)?;
        let period = Period::tax_year(parse_year(year)?, tz, now)?;
        Ok(InvestorReportRequest {
            at,
            address,
            period,
            method: method.map_or(Ok(Method::default()), str::parse)?,
            format: format.map_or(Ok(InvestorFormat::default()), str::parse)?,
        })
    }
}

/// A business's report: the invoices paid out to one address, one tax year.
#[derive(Debug, Clone)]
pub struct BusinessReportRequest {
    /// The vault whose index is read.
    pub at: ChainContract,
    /// The business's payout address (the `payout` of its advances).
    pub address: Address,
    /// The tax year.
    pub period: Period,
}

impl BusinessReportRequest {
    /// Checks raw inputs; `tz` defaults to UTC.
    pub fn parse(
        at: ChainContract,
        address: &str,
        year: &str,
        tz: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<BusinessReportRequest> {
        let address = parse_address(address)?;
        let tz = tz.map_or(Ok(Tz::UTC), parse_tz)?;
        let period = Period::tax_year(parse_year(year)?, tz, now)?;
        Ok(BusinessReportRequest {
            at,
            address,
            period,
        })
    }
}

/// The vault's income statement over a period.
#[derive(Debug, Clone)]
pub struct VaultReportRequest {
    /// The vault whose index is read.
    pub at: ChainContract,
    /// The period.
    pub period: Period,
}

impl VaultReportRequest {
    /// Either a `year` or both `from` and `to` (ISO dates, both included); `tz` defaults to UTC.
    pub fn parse(
        at: ChainContract,
        year: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        tz: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<VaultReportRequest> {
        let tz = tz.map_or(Ok(Tz::UTC), parse_tz)?;
        let period = match (year, from, to) {
            (Some(y), None, None) => Period::tax_year(parse_year(y)?, tz, now)?,
            (None, Some(f), Some(t)) => {
                let (f, t) = (parse_date("from", f)?, parse_date("to", t)?);
                if f > now.with_timezone(&tz).date_naive() {
                    return Err(invalid("from", &f.to_string(), "it is in the future"));
                }
                Period::dates(f, t, tz)?
            }
            (Some(y), _, _) => {
                return Err(invalid(
                    "year",
                    y,
                    "give either a year or from and to, not both",
                ))
            }
            (None, None, _) | (None, _, None) => {
                return Err(invalid(
                    "year",
                    "",
                    "give a year, or both from and to (YYYY-MM-DD)",
                ))
            }
        };
        Ok(VaultReportRequest { at, period })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
    }

    fn at() -> ChainContract {
        ChainContract {
            chain_id: 8453,
            contract: Address::ZERO,
        }
    }

    const ADDR: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

    #[test]
    fn tax_year_boundaries_follow_the_time_zone() {
        let berlin = parse_tz("Europe/Berlin").unwrap();
        let p = Period::tax_year(2025, berlin, now()).unwrap();
        assert_eq!(p.start.to_rfc3339(), "2024-12-31T23:00:00+00:00");
        assert_eq!(p.end.to_rfc3339(), "2025-12-31T23:00:00+00:00");
        let utc = Period::tax_year(2025, Tz::UTC, now()).unwrap();
        assert_eq!(utc.start.to_rfc3339(), "2025-01-01T00:00:00+00:00");
        assert!(utc.contains(utc.start.timestamp()));
        assert!(!utc.contains(utc.end.timestamp()));
    }

    #[test]
    fn bad_inputs_name_their_field() {
        let field = |r: Result<InvestorReportRequest>| r.unwrap_err().field();
        let parse = |a, y, m, f, tz| InvestorReportRequest::parse(at(), a, y, m, f, tz, now());
        assert_eq!(
            field(parse("0x12", "2025", None, None, None)),
            Some("address")
        );
        assert_eq!(field(parse(ADDR, "2027", None, None, None)), Some("year"));
        assert_eq!(field(parse(ADDR, "twenty", None, None, None)), Some("year"));
        assert_eq!(
            field(parse(ADDR, "2025", Some("avco"), None, None)),
            Some("method")
        );
        assert_eq!(
            field(parse(ADDR, "2025", None, Some("xlsx"), None)),
            Some("format")
        );
        assert_eq!(
            field(parse(ADDR, "2025", None, None, Some("Mars/Base"))),
            Some("tz")
        );
        let message = parse(ADDR, "2027", None, None, None)
            .unwrap_err()
            .to_string();
        assert!(message.contains("future"), "{message}");
        let ok = parse(
            ADDR,
            "2026",
            Some("HIFO"),
            Some("8949"),
            Some("America/New_York"),
        )
        .unwrap();
        assert_eq!(
            (ok.method, ok.format),
            (Method::Hifo, InvestorFormat::Form8949)
        );
    }

    #[test]
    fn vault_period_is_a_year_or_two_dates() {
        let r = VaultReportRequest::parse(
            at(),
            None,
            Some("2026-01-01"),
            Some("2026-01-31"),
            None,
            now(),
        )
        .unwrap();
        assert_eq!(r.period.end.to_rfc3339(), "2026-02-01T00:00:00+00:00");
        let e = VaultReportRequest::parse(
            at(),
            None,
            Some("2026-02-01"),
            Some("2026-01-31"),
            None,
            now(),
        )
        .unwrap_err();
        assert_eq!(e.field(), Some("to"));
        let e = VaultReportRequest::parse(at(), None, Some("2026-02-01"), None, None, now())
            .unwrap_err();
        assert_eq!(e.field(), Some("year"));
    }
}
