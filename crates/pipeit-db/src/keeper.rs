//! What the keeper reads and writes besides invoices and the outbox: the scoring context (what the
//! vault knows about a business and a debtor), invoice outcomes (which teach the next scores),
//! manual reviews, market signals and the Token Metrics response cache, rebalancing decisions, and
//! small keeper facts that survive a restart.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use pipeit_core::scoring::{BusinessHistory, DebtorKey, DebtorRecord, ScoringContext, TrackRecord};
use pipeit_core::signal::MarketSignal;
use pipeit_core::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::error::BoxDynError;
use sqlx::types::Json;

use crate::col::{now, DbText, Dec, Text, Ts, U64};
use crate::error::{is_foreign_key_violation, Op};
use crate::invoices::UnknownStatus;
use crate::{Backend, ChainContract, Db, Error, EthUsdPrice, Result, WritePool};

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

/// A rebalancing decision to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRebalance {
    /// What the decision looked at (balances, caps, signal).
    pub inputs: Value,
    /// The target split.
    pub target: Value,
    /// The moves decided (empty when none).
    pub actions: Value,
    /// Whether moves were sent.
    pub acted: bool,
    /// Readable reasons.
    pub reasons: Value,
}

/// A recorded rebalancing decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebalance {
    /// Id.
    pub id: i64,
    /// When.
    pub decided_at: DateTime<Utc>,
    /// What was decided.
    pub decision: NewRebalance,
}

from_row!(Rebalance, |r| Ok(Rebalance {
    id: r.try_get("id")?,
    decided_at: r.try_get::<Ts, _>("decided_at")?.0,
    decision: NewRebalance {
        inputs: r.try_get::<Json<Value>, _>("inputs")?.0,
        target: r.try_get::<Json<Value>, _>("target")?.0,
        actions: r.try_get::<Json<Value>, _>("actions")?.0,
        acted: r.try_get("acted")?,
        reasons: r.try_get::<Json<Value>, _>("reasons")?.0,
    },
}));

struct SignalRow(MarketSignal);

from_row!(SignalRow, |r| Ok(SignalRow(MarketSignal {
    source: r.try_get("source")?,
    as_of: r.try_get::<Ts, _>("as_of")?.0,
    risk: r.try_get::<Dec, _>("risk")?.0,
    trend: r.try_get::<Dec, _>("trend")?.0,
    summary: r.try_get("summary")?,
})));

impl Db {
    /// ETH/USD prices the indexer recorded for `at` whose feed update is at or after `since`
    /// (unix seconds), in block order.
    pub async fn eth_usd_prices_since(
        &self,
        at: ChainContract,
        since: u64,
    ) -> Result<Vec<EthUsdPrice>> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM eth_usd_prices WHERE chain_id = $1 AND contract = $2 \
             AND updated_at >= $3 ORDER BY block_number",
        )
        .bind(U64(at.chain_id))
        .bind(Text(at.contract))
        .bind(U64(since))
        .fetch_all(pool)
        .await)
        .op("read ETH/USD prices")
    }

    /// Records a market signal the keeper read.
    pub async fn record_market_signal(&self, signal: &MarketSignal) -> Result<i64> {
        signal.validate().map_err(|e| Error::InvalidInput {
            what: "market signal",
            reason: e.to_string(),
        })?;
        on_pool!(self, |pool| sqlx::query_scalar(
            "INSERT INTO market_signals (source, as_of, risk, trend, summary, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(signal.source.as_str())
        .bind(Ts(signal.as_of))
        .bind(Dec(signal.risk))
        .bind(Dec(signal.trend))
        .bind(signal.summary.as_str())
        .bind(Ts(now()))
        .fetch_one(pool)
        .await)
        .op("record market signal")
    }

    /// The last recorded market signal (of `source`, or of any).
    pub async fn latest_market_signal(&self, source: Option<&str>) -> Result<Option<MarketSignal>> {
        let row: Option<SignalRow> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM market_signals WHERE ($1 IS NULL OR source = $1) ORDER BY id DESC LIMIT 1"
        )
        .bind(source)
        .fetch_optional(pool)
        .await)
        .op("read market signal")?;
        Ok(row.map(|r| r.0))
    }

    /// A cached response body and when it was fetched.
    pub async fn signal_cache_get(&self, key: &str) -> Result<Option<(Value, DateTime<Utc>)>> {
        let row: Option<(Json<Value>, Ts)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT body, fetched_at FROM signal_cache WHERE cache_key = $1"
        )
        .bind(key)
        .fetch_optional(pool)
        .await)
        .op("read signal cache")?;
        Ok(row.map(|(body, at)| (body.0, at.0)))
    }

    /// Stores (or replaces) a cached response body, fetched at `fetched_at` (the caller's clock: the
    /// keeper's is the chain's, so the cache's age is measured on the clock that reads it).
    pub async fn signal_cache_put(
        &self,
        key: &str,
        body: &Value,
        fetched_at: DateTime<Utc>,
    ) -> Result<()> {
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO signal_cache (cache_key, body, fetched_at) VALUES ($1, $2, $3) \
             ON CONFLICT (cache_key) DO UPDATE SET body = excluded.body, fetched_at = excluded.fetched_at",
        )
        .bind(key)
        .bind(Json(body))
        .bind(Ts(fetched_at))
        .execute(pool)
        .await
        .map(drop))
        .op("write signal cache")
    }

    /// A keeper fact (`None` when never set).
    pub async fn keeper_state(&self, key: &str) -> Result<Option<String>> {
        on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT value FROM keeper_state WHERE key = $1"
        )
        .bind(key)
        .fetch_optional(pool)
        .await)
        .op("read keeper state")
    }

    /// Sets a keeper fact.
    pub async fn set_keeper_state(&self, key: &str, value: &str) -> Result<()> {
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO keeper_state (key, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(value)
        .bind(Ts(now()))
        .execute(pool)
        .await
        .map(drop))
        .op("write keeper state")
    }

    /// Adds `delta` to the integer keeper fact `key` (0 when unset) in one write transaction;
    /// returns the new value. A counter, e.g. API calls made today.
    pub async fn add_keeper_counter(&self, key: &str, delta: i64) -> Result<i64> {
        const OP: &str = "count in keeper state";
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await.op(OP)?;
            let current: Option<String> =
                sqlx::query_scalar("SELECT value FROM keeper_state WHERE key = $1")
                    .bind(key)
                    .fetch_optional(&mut *tx)
                    .await
                    .op(OP)?;
            let current = match current {
                None => 0,
                Some(text) => text.parse::<i64>().map_err(|_| Error::InvalidInput {
                    what: "keeper counter",
                    reason: format!("{key} holds {text:?}, not an integer"),
                })?,
            };
            let next = current.saturating_add(delta);
            sqlx::query(
                "INSERT INTO keeper_state (key, value, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            )
            .bind(key)
            .bind(next.to_string())
            .bind(Ts(now()))
            .execute(&mut *tx)
            .await
            .op(OP)?;
            tx.commit().await.op(OP)?;
            Ok(next)
        })
    }

    /// Puts invoice `invoice_id` up for manual review with the assessment that asked for it. Once:
    /// a second call keeps the first.
    pub async fn insert_manual_review(&self, invoice_id: i64, assessment: &Value) -> Result<()> {
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO manual_reviews (invoice_id, assessment, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (invoice_id) DO NOTHING",
        )
        .bind(invoice_id)
        .bind(Json(assessment))
        .bind(Ts(now()))
        .execute(pool)
        .await
        .map(drop))
        .op("insert manual review")
    }

    /// Ids of invoices waiting for a manual review, oldest first.
    pub async fn open_manual_reviews(&self) -> Result<Vec<i64>> {
        on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT invoice_id FROM manual_reviews WHERE resolved_at IS NULL ORDER BY invoice_id"
        )
        .fetch_all(pool)
        .await)
        .op("list manual reviews")
    }

    /// Records a rebalancing decision.
    pub async fn record_rebalance(&self, decision: &NewRebalance) -> Result<Rebalance> {
        on_pool!(self, |pool| {
            sqlx::query_as(
            "INSERT INTO rebalance_decisions (decided_at, inputs, target, actions, acted, reasons) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
        )
        .bind(Ts(now()))
        .bind(Json(&decision.inputs))
        .bind(Json(&decision.target))
        .bind(Json(&decision.actions))
        .bind(decision.acted)
        .bind(Json(&decision.reasons))
        .fetch_one(pool)
        .await
        })
        .op("record rebalance decision")
    }

    /// The last `limit` rebalancing decisions, newest first (`acted_only`: only those that moved money).
    pub async fn rebalances(&self, acted_only: bool, limit: i64) -> Result<Vec<Rebalance>> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM rebalance_decisions WHERE ($1 = FALSE OR acted = TRUE) \
             ORDER BY id DESC LIMIT $2"
        )
        .bind(acted_only)
        .bind(limit)
        .fetch_all(pool)
        .await)
        .op("list rebalance decisions")
    }
}

/// A PostgreSQL session-level advisory lock, held as long as this value (and its connection) lives;
/// released by the server when the connection closes, so a killed keeper never leaves it behind.
#[derive(Debug)]
pub struct AdvisoryLock {
    _conn: sqlx::PgConnection,
}

impl Db {
    /// Takes the advisory lock `key` if no other session holds it (`None` if one does). PostgreSQL
    /// only: on SQLite, use a lock file next to the database.
    pub async fn try_advisory_lock(&self, key: i64) -> Result<Option<AdvisoryLock>> {
        const OP: &str = "take advisory lock";
        match self {
            Db::Postgres(pool) => {
                let mut conn = pool.acquire().await.op(OP)?.detach();
                let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                    .bind(key)
                    .fetch_one(&mut conn)
                    .await
                    .op(OP)?;
                Ok(got.then_some(AdvisoryLock { _conn: conn }))
            }
            Db::Sqlite(_) => Err(Error::InvalidInput {
                what: "advisory lock",
                reason: "advisory locks are PostgreSQL's; with SQLite use a lock file".to_owned(),
            }),
        }
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
