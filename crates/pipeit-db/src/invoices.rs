//! Invoices (the off-chain record and its life cycle) and their scores.

use std::fmt;
use std::str::FromStr;

use alloy_primitives::B256;
use chrono::{DateTime, Utc};
use pipeit_core::{Currency, InvoiceRecord};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::error::BoxDynError;
use sqlx::types::Json;

use crate::col::{now, DbText, Dec, Text, Ts};
use crate::error::{conflict_or, is_foreign_key_violation, Op};
use crate::{Db, Error, Result, WritePool};

/// Where an invoice is in its life.
///
/// ```text
/// submitted ─┬─> scored ─┬─> advanced ─┬─> repaid
///            │           │             ├─> overdue ─┬─> repaid
///            │           │             │            └─> written_off
///            │           │             └─> written_off
///            ├───────────┴─> declined
///            └───────────┴─> withdrawn
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    /// Received, not yet scored.
    Submitted,
    /// Scored and accepted; waiting for the advance.
    Scored,
    /// The vault advanced the money.
    Advanced,
    /// Paid in full.
    Repaid,
    /// Past its due date, not yet written off.
    Overdue,
    /// Recognised as a loss.
    WrittenOff,
    /// Withdrawn by the business before the advance.
    Withdrawn,
    /// Refused by scoring.
    Declined,
}

impl InvoiceStatus {
    /// Every status.
    pub const ALL: [InvoiceStatus; 8] = [
        InvoiceStatus::Submitted,
        InvoiceStatus::Scored,
        InvoiceStatus::Advanced,
        InvoiceStatus::Repaid,
        InvoiceStatus::Overdue,
        InvoiceStatus::WrittenOff,
        InvoiceStatus::Withdrawn,
        InvoiceStatus::Declined,
    ];

    /// The stored name (`"written_off"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Submitted => "submitted",
            InvoiceStatus::Scored => "scored",
            InvoiceStatus::Advanced => "advanced",
            InvoiceStatus::Repaid => "repaid",
            InvoiceStatus::Overdue => "overdue",
            InvoiceStatus::WrittenOff => "written_off",
            InvoiceStatus::Withdrawn => "withdrawn",
            InvoiceStatus::Declined => "declined",
        }
    }

    /// Whether the life cycle allows going from `self` to `to` (see the diagram).
    pub const fn can_become(self, to: InvoiceStatus) -> bool {
        use InvoiceStatus::*;
        matches!(
            (self, to),
            (Submitted, Scored | Declined | Withdrawn)
                | (Scored, Advanced | Declined | Withdrawn)
                | (Advanced, Repaid | Overdue | WrittenOff)
                | (Overdue, Repaid | WrittenOff)
        )
    }

    /// Whether no further status can follow.
    pub fn is_final(self) -> bool {
        !InvoiceStatus::ALL.iter().any(|to| self.can_become(*to))
    }
}

impl fmt::Display for InvoiceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status name that is not one of [`InvoiceStatus::ALL`] (or [`crate::OutboxStatus::ALL`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status {0:?}")]
pub struct UnknownStatus(pub String);

impl FromStr for InvoiceStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        InvoiceStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

impl DbText for InvoiceStatus {
    fn to_text(&self) -> String {
        self.as_str().to_owned()
    }
    fn from_text(text: &str) -> Result<Self, BoxDynError> {
        Ok(text.parse()?)
    }
}

/// A stored invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    /// Id.
    pub id: i64,
    /// The business that submitted it.
    pub business_id: i64,
    /// The on-chain id: `record.canonical_id()`.
    pub canonical_id: B256,
    /// The record as submitted.
    pub record: InvoiceRecord,
    /// Where it is in its life.
    pub status: InvoiceStatus,
    /// The transaction that advanced it, once advanced.
    pub advance_tx_hash: Option<B256>,
    /// When it was submitted.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A scoring decision to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewScore {
    /// The invoice scored.
    pub invoice_id: i64,
    /// The model that decided.
    pub model_version: String,
    /// The model's inputs.
    pub features: Value,
    /// Score, 0 (worst) to 100 (best).
    pub score: u8,
    /// Probability of default, 0 to 1.
    pub probability_of_default: Decimal,
    /// Share of the face value advanced, 0 to 1.
    pub advance_rate: Decimal,
    /// Fee as a share of the advance over the invoice's tenor (0.02 = 2 %).
    pub fee_rate: Decimal,
    /// Accepted (the invoice becomes `scored`) or declined (`declined`).
    pub accepted: bool,
    /// Readable reasons for the decision.
    pub reasons: Value,
}

/// A recorded scoring decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Score {
    /// Id.
    pub id: i64,
    /// When it was decided.
    pub decided_at: DateTime<Utc>,
    /// What was decided.
    pub decision: NewScore,
}

from_row!(Invoice, |r| Ok(Invoice {
    id: r.try_get("id")?,
    business_id: r.try_get("business_id")?,
    canonical_id: r.try_get::<Text<B256>, _>("canonical_id")?.0,
    record: InvoiceRecord {
        debtor_name: r.try_get("debtor_name")?,
        debtor_tax_id: r.try_get("debtor_tax_id")?,
        debtor_country: r.try_get("debtor_country")?,
        invoice_number: r.try_get("invoice_number")?,
        currency: r.try_get::<Text<Currency>, _>("currency")?.0,
        amount: r.try_get::<Dec, _>("amount")?.0,
        issue_date: r.try_get("issue_date")?,
        due_date: r.try_get("due_date")?,
        document_hash: r
            .try_get::<Option<Text<B256>>, _>("document_hash")?
            .map(|h| h.0),
    },
    status: r.try_get::<Text<InvoiceStatus>, _>("status")?.0,
    advance_tx_hash: r
        .try_get::<Option<Text<B256>>, _>("advance_tx_hash")?
        .map(|h| h.0),
    created_at: r.try_get::<Ts, _>("created_at")?.0,
    updated_at: r.try_get::<Ts, _>("updated_at")?.0,
}));

from_row!(Score, |r| Ok(Score {
    id: r.try_get("id")?,
    decided_at: r.try_get::<Ts, _>("decided_at")?.0,
    decision: NewScore {
        invoice_id: r.try_get("invoice_id")?,
        model_version: r.try_get("model_version")?,
        features: r.try_get::<Json<Value>, _>("features")?.0,
        score: u8::try_from(r.try_get::<i32, _>("score")?).map_err(|e| {
            sqlx::Error::ColumnDecode {
                index: "score".to_owned(),
                source: Box::new(e),
            }
        })?,
        probability_of_default: r.try_get::<Dec, _>("probability_of_default")?.0,
        advance_rate: r.try_get::<Dec, _>("advance_rate")?.0,
        fee_rate: r.try_get::<Dec, _>("fee_rate")?.0,
        accepted: r.try_get("accepted")?,
        reasons: r.try_get::<Json<Value>, _>("reasons")?.0,
    },
}));

impl NewScore {
    fn check(&self) -> Result<()> {
        let invalid = |reason: String| Error::InvalidInput {
            what: "score",
            reason,
        };
        if self.score > 100 {
            return Err(invalid(format!("score {} is above 100", self.score)));
        }
        for (name, value) in [
            ("probability_of_default", self.probability_of_default),
            ("advance_rate", self.advance_rate),
        ] {
            if value < Decimal::ZERO || value > Decimal::ONE {
                return Err(invalid(format!("{name} {value} is not between 0 and 1")));
            }
        }
        if self.fee_rate < Decimal::ZERO {
            return Err(invalid(format!("fee_rate {} is negative", self.fee_rate)));
        }
        Ok(())
    }
}

impl Db {
    /// Stores an invoice submitted by `business_id`, status `submitted`. The record is validated
    /// and its canonical id computed; an invoice with the same canonical id (whoever submitted it)
    /// is [`Error::Conflict`], an unknown business [`Error::NotFound`].
    pub async fn insert_invoice(
        &self,
        business_id: i64,
        record: &InvoiceRecord,
    ) -> Result<Invoice> {
        let canonical_id = record.canonical_id()?;
        let at = now();
        on_pool!(self, |pool| insert_invoice_query(
            business_id,
            canonical_id,
            record,
            at
        )
        .fetch_one(pool)
        .await)
        .map_err(|e| insert_invoice_error(e, business_id, canonical_id))
    }

    /// The invoice `id`.
    pub async fn invoice(&self, id: i64) -> Result<Option<Invoice>> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM invoices WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(pool)
        .await)
        .op("read invoice")
    }

    /// The invoice with this on-chain id.
    pub async fn invoice_by_canonical_id(&self, canonical_id: B256) -> Result<Option<Invoice>> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM invoices WHERE canonical_id = $1"
        )
        .bind(Text(canonical_id))
        .fetch_optional(pool)
        .await)
        .op("read invoice")
    }

    /// Invoices, oldest first, of one business and/or in one status (`None`: any).
    pub async fn list_invoices(
        &self,
        business_id: Option<i64>,
        status: Option<InvoiceStatus>,
    ) -> Result<Vec<Invoice>> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM invoices WHERE ($1 IS NULL OR business_id = $1) \
             AND ($2 IS NULL OR status = $2) ORDER BY id",
        )
        .bind(business_id)
        .bind(status.map(Text))
        .fetch_all(pool)
        .await)
        .op("list invoices")
    }

    /// Moves invoice `id` to `to` if the life cycle allows it ([`InvoiceStatus::can_become`]);
    /// otherwise, or if its status changed meanwhile, [`Error::InvalidTransition`]. Advancing
    /// needs the transaction: use [`Db::mark_invoice_advanced`].
    pub async fn set_invoice_status(&self, id: i64, to: InvoiceStatus) -> Result<Invoice> {
        if to == InvoiceStatus::Advanced {
            return Err(Error::InvalidInput {
                what: "invoice status",
                reason: "an advance needs its transaction hash: use mark_invoice_advanced"
                    .to_owned(),
            });
        }
        self.transition(id, to, None).await
    }

    /// Marks invoice `id` (status `scored`) advanced by transaction `tx_hash`.
    pub async fn mark_invoice_advanced(&self, id: i64, tx_hash: B256) -> Result<Invoice> {
        self.transition(id, InvoiceStatus::Advanced, Some(tx_hash))
            .await
    }

    /// Compare-and-set: reads the status, checks the move, updates only if the status is unchanged.
    async fn transition(
        &self,
        id: i64,
        to: InvoiceStatus,
        advance_tx_hash: Option<B256>,
    ) -> Result<Invoice> {
        const OP: &str = "change invoice status";
        let from = self.invoice_status(id).await?;
        let refused = |from: String| Error::InvalidTransition {
            what: "invoice",
            id,
            from,
            to: to.to_string(),
        };
        if !from.can_become(to) {
            return Err(refused(from.to_string()));
        }
        on_pool!(self, |pool| sqlx::query_as(
            "UPDATE invoices SET status = $2, advance_tx_hash = COALESCE($3, advance_tx_hash), \
             updated_at = $4 WHERE id = $1 AND status = $5 RETURNING *",
        )
        .bind(id)
        .bind(Text(to))
        .bind(advance_tx_hash.map(Text))
        .bind(Ts(now()))
        .bind(Text(from))
        .fetch_optional(pool)
        .await)
        .op(OP)?
        .ok_or_else(|| refused(format!("{from} (changed meanwhile)")))
    }

    async fn invoice_status(&self, id: i64) -> Result<InvoiceStatus> {
        let status: Option<Text<InvoiceStatus>> = on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT status FROM invoices WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(pool)
        .await)
        .op("read invoice status")?;
        status.map(|s| s.0).ok_or_else(|| Error::NotFound {
            what: "invoice",
            key: id.to_string(),
        })
    }

    /// Records a scoring decision and, in the same transaction, moves the invoice to `scored`
    /// (accepted) or `declined`. Only a `submitted` or `scored` invoice can be (re)scored.
    pub async fn record_score(&self, score: &NewScore) -> Result<Score> {
        score.check()?;
        const OP: &str = "record score";
        let to = if score.accepted {
            InvoiceStatus::Scored
        } else {
            InvoiceStatus::Declined
        };
        let decided_at = now();
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await.op(OP)?;
            let from: Option<Text<InvoiceStatus>> =
                sqlx::query_scalar("SELECT status FROM invoices WHERE id = $1")
                    .bind(score.invoice_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .op(OP)?;
            let from = from.map(|s| s.0).ok_or_else(|| Error::NotFound {
                what: "invoice",
                key: score.invoice_id.to_string(),
            })?;
            if !matches!(from, InvoiceStatus::Submitted | InvoiceStatus::Scored) {
                return Err(Error::InvalidTransition {
                    what: "invoice",
                    id: score.invoice_id,
                    from: from.to_string(),
                    to: to.to_string(),
                });
            }
            let stored: Score = sqlx::query_as(
                "INSERT INTO scores (invoice_id, model_version, features, score, \
                 probability_of_default, advance_rate, fee_rate, accepted, reasons, decided_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *",
            )
            .bind(score.invoice_id)
            .bind(score.model_version.as_str())
            .bind(Json(&score.features))
            .bind(i32::from(score.score))
            .bind(Dec(score.probability_of_default))
            .bind(Dec(score.advance_rate))
            .bind(Dec(score.fee_rate))
            .bind(score.accepted)
            .bind(Json(&score.reasons))
            .bind(Ts(decided_at))
            .fetch_one(&mut *tx)
            .await
            .op(OP)?;
            let moved = sqlx::query(
                "UPDATE invoices SET status = $2, updated_at = $3 WHERE id = $1 AND status = $4",
            )
            .bind(score.invoice_id)
            .bind(Text(to))
            .bind(Ts(decided_at))
            .bind(Text(from))
            .execute(&mut *tx)
            .await
            .op(OP)?;
            if moved.rows_affected() == 0 {
                // Dropping the transaction rolls the score back.
                return Err(Error::InvalidTransition {
                    what: "invoice",
                    id: score.invoice_id,
                    from: format!("{from} (changed meanwhile)"),
                    to: to.to_string(),
                });
            }
            tx.commit().await.op(OP)?;
            Ok(stored)
        })
    }

    /// Every score of invoice `invoice_id`, oldest first.
    pub async fn scores(&self, invoice_id: i64) -> Result<Vec<Score>> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM scores WHERE invoice_id = $1 ORDER BY id"
        )
        .bind(invoice_id)
        .fetch_all(pool)
        .await)
        .op("read scores")
    }
}

/// The INSERT of a new `submitted` invoice, for a pool or a transaction of either back-end.
pub(crate) fn insert_invoice_query<'q, DB>(
    business_id: i64,
    canonical_id: B256,
    record: &'q InvoiceRecord,
    at: DateTime<Utc>,
) -> sqlx::query::QueryAs<'q, DB, Invoice, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    for<'r> Invoice: sqlx::FromRow<'r, DB::Row>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    chrono::NaiveDate: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Text<B256>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<Text<B256>>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Text<Currency>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Text<InvoiceStatus>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Dec: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Ts: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query_as(
        "INSERT INTO invoices (business_id, canonical_id, debtor_name, debtor_tax_id, \
         debtor_country, invoice_number, currency, amount, issue_date, due_date, document_hash, \
         status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING *",
    )
    .bind(business_id)
    .bind(Text(canonical_id))
    .bind(record.debtor_name.as_str())
    .bind(record.debtor_tax_id.as_str())
    .bind(record.debtor_country.as_str())
    .bind(record.invoice_number.as_str())
    .bind(Text(record.currency))
    .bind(Dec(record.amount))
    .bind(record.issue_date)
    .bind(record.due_date)
    .bind(record.document_hash.map(Text))
    .bind(Text(InvoiceStatus::Submitted))
    .bind(Ts(at))
}

/// A failed invoice INSERT as a typed error: an unknown business, or the same invoice twice.
pub(crate) fn insert_invoice_error(
    error: sqlx::Error,
    business_id: i64,
    canonical_id: B256,
) -> Error {
    if is_foreign_key_violation(&error) {
        Error::NotFound {
            what: "business",
            key: business_id.to_string(),
        }
    } else {
        conflict_or(error, "insert invoice", "invoice", || {
            format!("{canonical_id:#x}")
        })
    }
}
