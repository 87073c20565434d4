//! What the keeper reads and writes besides invoices and the outbox: the scoring context (what the
//! vault knows about a business and a debtor), invoice outcomes (which teach the next scores).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use pipeit_core::scoring::{BusinessHistory, DebtorKey, DebtorRecord, ScoringContext, TrackRecord};
use pipeit_core::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::error::BoxDynError;

use crate::col::{now, DbText, Dec, Text, Ts};
use crate::error::{is_foreign_key_violation, Op};
use crate::invoices::UnknownStatus;
use crate::{Backend, Db, Error, Result};

/// Statuses of an invoice the vault is exposed to (accepted and not closed).
const OPEN: &str = "('scored', 'advanced', 'overdue')";
/// Statuses of an invoice that was financed.
const FINANCED: &str = "('advanced', 'repaid', 'overdue', 'written_off')";
/// Past invoices averaged for a business's usual amount.
const USUAL_WINDOW: i64 = 50;

/// How a financed invoice ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Repaid in full by the due date (grace: the due day itself).
    OnTime,
    /// Repaid in full after the due date.
    Late,
    /// Written off.
    Defaulted,
}

impl Outcome {
    /// Every outcome.
    pub const ALL: [Outcome; 3] = [Outcome::OnTime, Outcome::Late, Outcome::Defaulted];

    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::OnTime => "on_time",
            Outcome::Late => "late",
            Outcome::Defaulted => "defaulted",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Outcome {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Outcome::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

impl DbText for Outcome {
    fn to_text(&self) -> String {
        self.as_str().to_owned()
    }
    fn from_text(text: &str) -> std::result::Result<Self, BoxDynError> {
        Ok(text.parse()?)
    }
}

/// A recorded outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceOutcome {
    /// The invoice.
    pub invoice_id: i64,
    /// How it ended.
    pub outcome: Outcome,
    /// Started days past due at the final payment (0 when on time; at the write-off for a default).
    pub days_late: u32,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

from_row!(InvoiceOutcome, |r| Ok(InvoiceOutcome {
    invoice_id: r.try_get("invoice_id")?,
    outcome: r.try_get::<Text<Outcome>, _>("outcome")?.0,
    days_late: u32::try_from(r.try_get::<i64, _>("days_late")?).map_err(|e| {
        sqlx::Error::ColumnDecode {
            index: "days_late".to_owned(),
            source: Box::new(e),
        }
    })?,
    recorded_at: r.try_get::<Ts, _>("recorded_at")?.0,
}));

/// The SQL form of [`pipeit_core::normalize_tax_id`] for ASCII tax ids: uppercase, without spaces,
/// tabs, dashes and dots. The same expression is indexed by migration 0004.
fn debtor_key_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "upper(replace(replace(replace(replace(i.debtor_tax_id, ' ', ''), char(9), ''), '-', ''), '.', ''))"
        }
        Backend::Postgres => {
            "upper(replace(replace(replace(replace(i.debtor_tax_id, ' ', ''), chr(9), ''), '-', ''), '.', ''))"
        }
    }
}

impl Db {
    /// What scoring needs to know besides the invoice: the business's outcomes, open exposure and
    /// usual amount; the debtor's outcomes (across every business) and open exposure; the whole
    /// open book. Amounts are face values in `currency` (invoices in other currencies are not
    /// added up with them). Invoices still `submitted` are not counted as open.
    ///
    /// Debtors match by country and normalised tax id; for a tax id with non-ASCII letters the
    /// SQL side only uppercases ASCII, so spell such ids the same way to be matched.
    pub async fn scoring_context(
        &self,
        business_id: i64,
        debtor: &DebtorKey,
        currency: Currency,
    ) -> Result<ScoringContext> {
        const OP: &str = "read scoring context";
        let key = debtor_key_sql(self.backend());
        let business_outcomes = "SELECT o.outcome FROM invoice_outcomes o \
             JOIN invoices i ON i.id = o.invoice_id WHERE i.business_id = $1";
        let business_open = format!(
            "SELECT amount FROM invoices i WHERE i.business_id = $1 AND i.currency = $2 \
             AND i.status IN {OPEN}"
        );
        let business_usual = format!(
            "SELECT amount FROM invoices i WHERE i.business_id = $1 AND i.currency = $2 \
             AND i.status IN {FINANCED} ORDER BY i.id DESC LIMIT {USUAL_WINDOW}"
        );
        let debtor_outcomes = format!(
            "SELECT o.outcome FROM invoice_outcomes o JOIN invoices i ON i.id = o.invoice_id \
             WHERE i.debtor_country = $1 AND {key} = $2"
        );
        let debtor_open = format!(
            "SELECT amount FROM invoices i WHERE i.debtor_country = $1 AND {key} = $2 \
             AND i.currency = $3 AND i.status IN {OPEN}"
        );
        let book_open =
            format!("SELECT amount FROM invoices i WHERE i.currency = $1 AND i.status IN {OPEN}");
        let currency = Text(currency);
        let rows: ContextRows = on_pool!(self, |pool| {
            // One snapshot for the six reads (a repeatable view on PostgreSQL; SQLite's read
            // transaction sees one snapshot too).
            let mut tx = pool.begin().await.op(OP)?;
            let b_out = sqlx::query_scalar(business_outcomes)
                .bind(business_id)
                .fetch_all(&mut *tx)
                .await
                .op(OP)?;
            let b_open = sqlx::query_scalar(&business_open)
                .bind(business_id)
                .bind(currency)
                .fetch_all(&mut *tx)
                .await
                .op(OP)?;
            let b_usual = sqlx::query_scalar(&business_usual)
                .bind(business_id)
                .bind(currency)
                .fetch_all(&mut *tx)
                .await
                .op(OP)?;
            let d_out = sqlx::query_scalar(&debtor_outcomes)
                .bind(debtor.country.as_str())
                .bind(debtor.tax_id.as_str())
                .fetch_all(&mut *tx)
                .await
                .op(OP)?;
            let d_open = sqlx::query_scalar(&debtor_open)
                .bind(debtor.country.as_str())
                .bind(debtor.tax_id.as_str())
                .bind(currency)
                .fetch_all(&mut *tx)
                .await
                .op(OP)?;
            let book = sqlx::query_scalar(&book_open)
                .bind(currency)
                .fetch_all(&mut *tx)
                .await
                .op(OP)?;
            tx.commit().await.op(OP)?;
            ContextRows {
                b_out,
                b_open,
                b_usual,
                d_out,
                d_open,
                book,
            }
        });
        let ContextRows {
            b_out,
            b_open,
            b_usual,
            d_out,
            d_open,
            book,
        } = rows;
        let usual_amount = if b_usual.is_empty() {
            None
        } else {
            // Mean rounded to the cent; informational (it only moves points), so no direction matters.
            let n = Decimal::from(b_usual.len());
            Some((sum(&b_usual)? / n).round_dp(2))
        };
        Ok(ScoringContext {
            business: BusinessHistory {
                record: track_record(&b_out),
                open_invoices: u32::try_from(b_open.len()).unwrap_or(u32::MAX),
                open_exposure: sum(&b_open)?,
                usual_amount,
            },
            debtor: DebtorRecord {
                record: track_record(&d_out),
                open_exposure: sum(&d_open)?,
            },
            portfolio_open: sum(&book)?,
        })
    }

    /// Records how invoice `invoice_id` ended. Idempotent: the first outcome recorded stays (a
    /// keeper replaying a tick after a crash records nothing new). Returns the stored outcome.
    pub async fn record_outcome(
        &self,
        invoice_id: i64,
        outcome: Outcome,
        days_late: u32,
    ) -> Result<InvoiceOutcome> {
        const OP: &str = "record invoice outcome";
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO invoice_outcomes (invoice_id, outcome, days_late, recorded_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (invoice_id) DO NOTHING",
        )
        .bind(invoice_id)
        .bind(Text(outcome))
        .bind(i64::from(days_late))
        .bind(Ts(now()))
        .execute(pool)
        .await
        .map(drop))
        .map_err(|e| {
            if is_foreign_key_violation(&e) {
                Error::NotFound {
                    what: "invoice",
                    key: invoice_id.to_string(),
                }
            } else {
                Error::Query { op: OP, source: e }
            }
        })?;
        self.outcome(invoice_id).await?.ok_or(Error::NotFound {
            what: "invoice outcome",
            key: invoice_id.to_string(),
        })
    }

    /// The outcome of invoice `invoice_id`, if recorded.
    pub async fn outcome(&self, invoice_id: i64) -> Result<Option<InvoiceOutcome>> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM invoice_outcomes WHERE invoice_id = $1"
        )
        .bind(invoice_id)
        .fetch_optional(pool)
        .await)
        .op("read invoice outcome")
    }
}

/// The six reads of [`Db::scoring_context`].
struct ContextRows {
    b_out: Vec<Text<Outcome>>,
    b_open: Vec<Dec>,
    b_usual: Vec<Dec>,
    d_out: Vec<Text<Outcome>>,
    d_open: Vec<Dec>,
    book: Vec<Dec>,
}

fn track_record(outcomes: &[Text<Outcome>]) -> TrackRecord {
    let mut record = TrackRecord::default();
    for o in outcomes {
        let slot = match o.0 {
            Outcome::OnTime => &mut record.on_time,
            Outcome::Late => &mut record.late,
            Outcome::Defaulted => &mut record.defaulted,
        };
        *slot = slot.saturating_add(1);
    }
    record
}

/// Exact sum of stored amounts (never through a float: SQLite's SUM over TEXT would be REAL).
fn sum(amounts: &[Dec]) -> Result<Decimal> {
    amounts.iter().try_fold(Decimal::ZERO, |acc, a| {
        acc.checked_add(a.0).ok_or_else(|| Error::InvalidInput {
            what: "sum of invoice amounts",
            reason: "overflows a decimal".to_owned(),
        })
    })
}
