//! The invoice a business sends, checked field by field, and the views the service answers with.

use alloy::primitives::B256;
use chrono::{DateTime, NaiveDate, Utc};
use pipeit_core::{Currency, InvoiceRecord};
use pipeit_db::{Invoice, InvoiceStatus, Score};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, FieldError};

/// The debtor: the business that owes the invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Debtor {
    /// Legal name.
    #[schema(example = "Acme GmbH")]
    pub name: String,
    /// Registration or tax id (VAT number, EIN, ...), any common spelling.
    #[schema(example = "DE123456789")]
    pub registration_id: String,
    /// ISO 3166-1 alpha-2 country code.
    #[schema(example = "DE")]
    pub country: String,
}

/// An invoice to price or to submit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceRequest {
    /// Who owes it.
    pub debtor: Debtor,
    /// The number printed on the invoice.
    #[schema(example = "INV-2026-0042")]
    pub invoice_number: String,
    /// ISO 4217 currency code.
    #[schema(example = "EUR")]
    pub currency: String,
    /// Face value: a decimal string greater than zero, at most the currency's minor-unit digits.
    #[schema(example = "12500.00")]
    pub amount: String,
    /// ISO 8601 date the invoice was issued (not in the future).
    #[schema(example = "2026-11-20", format = Date)]
    pub issue_date: String,
    /// ISO 8601 date the debtor must pay (after today and after the issue date).
    #[schema(example = "2027-01-31", format = Date)]
    pub due_date: String,
    /// keccak-256 of the invoice document, `0x` + 64 hex digits.
    #[serde(default)]
    #[schema(example = "0x5c1f3b2a9e1d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2918f7e6d5c4b3a2918f7e")]
    pub document_hash: Option<String>,
}

/// Core's field names, as the JSON paths of [`InvoiceRequest`].
fn request_field(core_field: &str) -> &str {
    match core_field {
        "debtor_name" => "debtor.name",
        "debtor_tax_id" => "debtor.registration_id",
        "debtor_country" => "debtor.country",
        other => other,
    }
}

impl InvoiceRequest {
    /// The record, or every field at fault. `today` is the server's UTC date.
    pub fn to_record(&self, today: NaiveDate) -> Result<InvoiceRecord, ApiError> {
        let mut errors = Vec::new();
        let mut fail = |field: &str, message: String| {
            errors.push(FieldError {
                field: field.to_owned(),
                message,
            });
        };
        let currency = self
            .currency
            .parse::<Currency>()
            .map_err(|e| fail("currency", e.to_string()))
            .ok();
        let amount = parse_amount(&self.amount)
            .map_err(|m| fail("amount", m))
            .ok();
        let issue_date = parse_date(&self.issue_date)
            .map_err(|m| fail("issue_date", m))
            .ok();
        let due_date = parse_date(&self.due_date)
            .map_err(|m| fail("due_date", m))
            .ok();
        let document_hash = match &self.document_hash {
            None => None,
            Some(text) => text
                .parse::<B256>()
                .map_err(|_| {
                    fail(
                        "document_hash",
                        "expected 0x followed by 64 hex digits".to_owned(),
                    )
                })
                .ok(),
        };
        if let Some(issue) = issue_date.filter(|d| *d > today) {
            fail(
                "issue_date",
                format!("{issue} is in the future (today is {today} UTC)"),
            );
        }
        if let Some(due) = due_date.filter(|d| *d <= today) {
            fail(
                "due_date",
                format!("{due} is not after today ({today} UTC): only invoices not yet due can be financed"),
            );
        }
        let (Some(currency), Some(amount), Some(issue_date), Some(due_date)) =
            (currency, amount, issue_date, due_date)
        else {
            return Err(ApiError::invalid(errors));
        };
        let record = InvoiceRecord {
            debtor_name: self.debtor.name.clone(),
            debtor_tax_id: self.debtor.registration_id.clone(),
            debtor_country: self.debtor.country.clone(),
            invoice_number: self.invoice_number.clone(),
            currency,
            amount,
            issue_date,
            due_date,
            document_hash,
        };
        for problem in record.problems() {
            let field = request_field(problem.field());
            if !errors.iter().any(|e| e.field == field) {
                errors.push(FieldError {
                    field: field.to_owned(),
                    message: problem.to_string(),
                });
            }
        }
        if errors.is_empty() {
            Ok(record)
        } else {
            Err(ApiError::invalid(errors))
        }
    }
}

/// A decimal string: digits with at most one `.`, no sign, exponent or spaces (a float's `1e3` or
/// `0.1 + 0.2` artefacts are refused rather than guessed).
fn parse_amount(text: &str) -> Result<Decimal, String> {
    let plain = !text.is_empty()
        && text.chars().all(|c| c.is_ascii_digit() || c == '.')
        && text.matches('.').count() <= 1
        && !text.starts_with('.')
        && !text.ends_with('.');
    if !plain {
        return Err(format!(
            "{text:?} is not a plain decimal string like \"1250.00\""
        ));
    }
    let amount = text
        .parse::<Decimal>()
        .map_err(|_| format!("{text:?} is too large"))?;
    if amount.is_zero() {
        return Err("must be greater than zero".to_owned());
    }
    Ok(amount)
}

fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("{text:?} is not a date in the form YYYY-MM-DD"))
}

/// The latest scoring decision on an invoice.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DecisionView {
    /// Accepted (financed) or declined.
    pub accepted: bool,
    /// 0 (worst) to 100 (best).
    pub score: u8,
    /// Probability of default, 0 to 1, as a decimal string.
    pub probability_of_default: String,
    /// Share of face value advanced, as a decimal string.
    pub advance_rate: String,
    /// Fee as a share of the advance over the tenor, as a decimal string.
    pub fee_rate: String,
    /// Why.
    #[schema(value_type = Object)]
    pub reasons: serde_json::Value,
    /// The model that decided.
    pub model_version: String,
    /// When.
    pub decided_at: DateTime<Utc>,
}

/// An invoice and where it is in its life.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvoiceView {
    /// Id (per service; the on-chain id is `canonical_id`).
    pub id: i64,
    /// keccak-256 of the canonical record: the id on-chain.
    pub canonical_id: String,
    /// submitted → scored → advanced → repaid / overdue / written_off; or declined / withdrawn.
    #[schema(example = "submitted")]
    pub status: String,
    /// Who owes it.
    pub debtor: Debtor,
    /// Invoice number.
    pub invoice_number: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Face value, decimal string.
    pub amount: String,
    /// Issue date.
    pub issue_date: NaiveDate,
    /// Due date.
    pub due_date: NaiveDate,
    /// Document hash, if sent.
    pub document_hash: Option<String>,
    /// The advance's transaction, once advanced.
    pub advance_tx_hash: Option<String>,
    /// The latest scoring decision, once scored.
    pub decision: Option<DecisionView>,
    /// When it was submitted.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl InvoiceView {
    /// The view of `invoice` with its latest score.
    pub fn new(invoice: &Invoice, latest: Option<&Score>) -> InvoiceView {
        let record = &invoice.record;
        InvoiceView {
            id: invoice.id,
            canonical_id: format!("{:#x}", invoice.canonical_id),
            status: invoice.status.to_string(),
            debtor: Debtor {
                name: record.debtor_name.clone(),
                registration_id: record.debtor_tax_id.clone(),
                country: record.debtor_country.clone(),
            },
            invoice_number: record.invoice_number.clone(),
            currency: record.currency.to_string(),
            amount: record.amount.to_string(),
            issue_date: record.issue_date,
            due_date: record.due_date,
            document_hash: record.document_hash.map(|h| format!("{h:#x}")),
            advance_tx_hash: invoice.advance_tx_hash.map(|h| format!("{h:#x}")),
            decision: latest.map(|s| DecisionView {
                accepted: s.decision.accepted,
                score: s.decision.score,
                probability_of_default: s.decision.probability_of_default.to_string(),
                advance_rate: s.decision.advance_rate.to_string(),
                fee_rate: s.decision.fee_rate.to_string(),
                reasons: s.decision.reasons.clone(),
                model_version: s.decision.model_version.clone(),
                decided_at: s.decided_at,
            }),
            created_at: invoice.created_at,
            updated_at: invoice.updated_at,
        }
    }
}

/// Whether the business may still withdraw an invoice in `status`.
pub fn withdrawable(status: InvoiceStatus) -> bool {
    status.can_become(InvoiceStatus::Withdrawn)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn request() -> InvoiceRequest {
        InvoiceRequest {
            debtor: Debtor {
                name: "Acme GmbH".into(),
                registration_id: "DE123456789".into(),
                country: "DE".into(),
            },
            invoice_number: "INV-1".into(),
            currency: "EUR".into(),
            amount: "1250.00".into(),
            issue_date: "2026-11-01".into(),
            due_date: "2027-01-15".into(),
            document_hash: None,
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default()
    }

    fn fields(r: InvoiceRequest) -> Vec<String> {
        match r.to_record(today()) {
            Ok(_) => vec![],
            Err(e) => e.problem().errors.into_iter().map(|e| e.field).collect(),
        }
    }

    #[test]
    fn a_valid_request_makes_a_record() {
        assert_eq!(fields(request()), Vec::<String>::new());
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let mut r = request();
        r.amount = "-5".into();
        r.currency = "XXX1".into();
        r.debtor.country = "ZZ".into();
        r.due_date = "2026-02-30".into();
        let mut got = fields(r);
        got.sort();
        assert_eq!(got, ["amount", "currency", "due_date"]);
    }

    #[test]
    fn amounts_must_be_plain_positive_decimals() {
        for bad in [
            "", "0", "0.00", "1e3", "1,000", " 5", "+5", ".5", "5.", "1.2.3", "NaN",
        ] {
            assert!(parse_amount(bad).is_err(), "{bad:?}");
        }
        assert!(parse_amount("0.01").is_ok());
    }

    #[test]
    fn core_problems_are_named_by_their_json_path() {
        let mut r = request();
        r.debtor.country = "ZZ".into();
        assert_eq!(fields(r), ["debtor.country"]);
        let mut r = request();
        r.debtor.name = " ".into();
        assert_eq!(fields(r), ["debtor.name"]);
    }
}
