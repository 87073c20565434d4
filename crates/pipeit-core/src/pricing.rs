//! Pricing: from a scored invoice to the terms the vault offers, in fiat and in wei.
//!
//! [`quote`] is the one entry point: the HTTP service calls it for quotes and the keeper for the
//! advance it sends, so a business is quoted exactly what the keeper would do.
//!
//! - Advance rate: 70 % at the acceptance score to 90 % at 100, linear, rounded down to 0.01 %.
//! - Fee (a share of the advance, for the whole tenor) = expected loss (PD × LGD) + time value
//!   (target yield × tenor / 365) + market premium (signal risk × max premium × tenor / 365),
//!   bounded by the policy's minimum and maximum, rounded up to 0.01 %.
//! - The advance plus its fee never exceeds the face value: the advance rate gives way if needed.
//! - Wei from a fresh ETH price (older than the policy's limit: no quote). Every rounding favours the vault.

use alloy_primitives::{B256, U256};
use chrono::{DateTime, Duration, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::fiat::{fiat_to_wei_ceil, fiat_to_wei_floor, EthPrice, FiatAmount, FiatError};
use crate::invoice::{InvoiceError, InvoiceRecord};
use crate::scoring::{self, Assessment, Decision, Policy, Reason, ScoringContext};
use crate::signal::{clamp, MarketSignal};

/// Days in the year the yields are quoted over.
const DAYS_PER_YEAR: i64 = 365;
/// Rates carry four decimal places (0.01 %).
const RATE_DP: u32 = 4;

/// An ETH price and when its feed last updated (unix seconds), as read from the oracle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceObservation {
    /// The price.
    pub price: EthPrice,
    /// The feed's `updatedAt`.
    pub updated_at: u64,
}

/// Everything a quote depends on. Nothing is read from a clock or a network: `now` is given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteInput {
    /// The invoice.
    pub invoice: InvoiceRecord,
    /// The business, the debtor and the book (`pipeit_db::Db::scoring_context`).
    pub context: ScoringContext,
    /// The latest market signal, if any (a stale or missing one is priced at the policy's default risk).
    pub signal: Option<MarketSignal>,
    /// ETH price in the invoice's currency.
    pub price: PriceObservation,
    /// Rules and knobs.
    pub policy: Policy,
    /// The time of the quote.
    pub now: DateTime<Utc>,
}

/// The money terms of an accepted (or under-review) invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    /// Share of the face value advanced (0.85 = 85 %).
    #[serde(with = "rust_decimal::serde::str")]
    pub advance_rate: Decimal,
    /// Advance in the invoice's currency, rounded down to the minor unit.
    pub advance: FiatAmount,
    /// Advance in wei, rounded down: the vault never pays out more than the advance is worth.
    pub advance_wei: U256,
    /// Fee as a share of the advance for the whole tenor.
    #[serde(with = "rust_decimal::serde::str")]
    pub fee_rate: Decimal,
    /// Its parts: expected loss, time value, market premium (before bounds).
    pub fee_parts: FeeParts,
    /// Fee in the invoice's currency, rounded up to the minor unit.
    pub fee: FiatAmount,
    /// Fee in wei, rounded up: the vault is never owed less than the fee.
    pub fee_wei: U256,
    /// What the business owes at the due date (advance + fee), in fiat.
    pub owed_at_due: FiatAmount,
    /// ... and in wei: `advance_wei + fee_wei`, the figure fixed on-chain.
    pub owed_at_due_wei: U256,
    /// Late fee per day past due, basis points of the principal.
    pub late_fee_bps_per_day: u16,
}

/// The fee's parts as shares of the advance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeParts {
    /// Probability of default × loss given default.
    #[serde(with = "rust_decimal::serde::str")]
    pub expected_loss: Decimal,
    /// Target yield over the tenor.
    #[serde(with = "rust_decimal::serde::str")]
    pub time_value: Decimal,
    /// Market premium over the tenor.
    #[serde(with = "rust_decimal::serde::str")]
    pub market_premium: Decimal,
}

/// A quote: the decision, its reasons and, unless declined, the terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// The invoice's on-chain id.
    pub invoice_id: B256,
    /// The vault's `dueAt` (midnight UTC of the due date).
    pub due_at: u64,
    /// Started days from the quote to the due date.
    pub tenor_days: i64,
    /// The scoring result (score, probability of default, decision, reasons, features).
    pub assessment: Assessment,
    /// The terms; `None` when declined. Under manual review they are indicative.
    pub terms: Option<Terms>,
    /// The ETH price used.
    pub eth_price: EthPrice,
    /// When that price was last updated (unix seconds).
    pub price_updated_at: u64,
    /// After this the quote no longer holds (the price and the signal move).
    pub expires_at: DateTime<Utc>,
    /// One sentence on who carries the ETH price risk.
    pub eth_price_risk: String,
}

impl Quote {
    /// The decision.
    pub fn decision(&self) -> Decision {
        self.assessment.decision
    }

    /// The reasons, in order.
    pub fn reasons(&self) -> &[Reason] {
        &self.assessment.reasons
    }
}

/// Why no quote could be given. Each names the input at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuoteError {
    /// The invoice record is invalid.
    #[error("invoice {0}")]
    Invoice(#[from] InvoiceError),
    /// The price is older than the policy allows.
    #[error("price: the ETH/{currency} price is {age_secs} s old (updated at {updated_at}); at most {max_secs} s is accepted: refresh the oracle")]
    StalePrice {
        /// Price currency.
        currency: crate::Currency,
        /// Age at the quote.
        age_secs: i64,
        /// Feed update time.
        updated_at: u64,
        /// The policy's limit.
        max_secs: i64,
    },
    /// The price's update time is after the quote time.
    #[error("price: updated at {updated_at}, after the quote time {now}: check the clock")]
    PriceFromTheFuture {
        /// Feed update time.
        updated_at: u64,
        /// Quote time (unix seconds).
        now: i64,
    },
    /// The price is not in the invoice's currency.
    #[error("price: quoted in {price}, the invoice is in {invoice}")]
    PriceCurrency {
        /// Invoice currency.
        invoice: crate::Currency,
        /// Price currency.
        price: crate::Currency,
    },
    /// The policy is inconsistent (a rate outside 0..1, min above max, ...).
    #[error("policy: {0}")]
    Policy(String),
    /// An amount overflowed or could not be converted.
    #[error("amount: {0}")]
    Fiat(#[from] FiatError),
}

/// Prices `input.invoice` for the business and debtor of `input.context` at `input.now`.
pub fn quote(input: &QuoteInput) -> Result<Quote, QuoteError> {
    let policy = &input.policy;
    check_policy(policy)?;
    input.invoice.validate()?;
    check_price(input)?;
    let face = input.invoice.fiat_amount()?;
    let due_at = input.invoice.due_at()?;
    let assessment = scoring::score(
        &input.invoice,
        &input.context,
        input.signal.as_ref(),
        policy,
        input.now,
    );
    let tenor = assessment.features.tenor_days;
    let terms = match assessment.decision {
        Decision::Decline => None,
        Decision::Accept | Decision::ManualReview => {
            Some(terms(&face, &assessment, &input.price.price, policy)?)
        }
    };
    Ok(Quote {
        invoice_id: input.invoice.canonical_id()?,
        due_at,
        tenor_days: tenor,
        terms,
        eth_price: input.price.price,
        price_updated_at: input.price.updated_at,
        expires_at: input.now + Duration::seconds(policy.quote_validity_secs),
        eth_price_risk: format!(
            "The advance and the amount owed are fixed in ETH at {} when the invoice is financed; \
             from then on the business carries the ETH price risk: if ETH rises against {}, repaying \
             costs more {}.",
            input.price.price,
            input.invoice.currency,
            input.invoice.currency
        ),
        assessment,
    })
}

/// Advance rate for `score`: linear from the minimum at the acceptance score to the maximum at 100,
/// rounded down to 0.01 % (a smaller advance favours the vault). Below acceptance: the minimum.
pub fn advance_rate(score: u8, policy: &Policy) -> Decimal {
    let span = Decimal::from(100u8.saturating_sub(policy.accept_score).max(1));
    let above = Decimal::from(score.saturating_sub(policy.accept_score));
    let t = clamp(above / span, Decimal::ZERO, Decimal::ONE);
    let rate = policy.min_advance_rate + (policy.max_advance_rate - policy.min_advance_rate) * t;
    rate.round_dp_with_strategy(RATE_DP, RoundingStrategy::ToZero)
}

/// The fee rate's parts for a probability of default, a tenor and a signal risk.
pub fn fee_parts(pd: Decimal, tenor_days: i64, signal_risk: Decimal, policy: &Policy) -> FeeParts {
    let years = Decimal::from(tenor_days.max(0)) / Decimal::from(DAYS_PER_YEAR);
    FeeParts {
        expected_loss: pd * policy.loss_given_default,
        time_value: policy.target_yield * years,
        market_premium: clamp(signal_risk, Decimal::ZERO, Decimal::ONE)
            * policy.max_market_premium
            * years,
    }
}

/// The bounded fee rate: the sum of the parts within `[min_fee_rate, max_fee_rate]`, rounded up to
/// 0.01 % (a larger fee favours the vault).
pub fn fee_rate(parts: &FeeParts, policy: &Policy) -> Decimal {
    let sum = parts.expected_loss + parts.time_value + parts.market_premium;
    clamp(sum, policy.min_fee_rate, policy.max_fee_rate)
        .round_dp_with_strategy(RATE_DP, RoundingStrategy::AwayFromZero)
}

fn terms(
    face: &FiatAmount,
    assessment: &Assessment,
    price: &EthPrice,
    policy: &Policy,
) -> Result<Terms, QuoteError> {
    let currency = face.currency();
    let minor = currency.minor_units();
    let parts = fee_parts(
        assessment.probability_of_default,
        assessment.features.tenor_days,
        assessment.features.signal_risk,
        policy,
    );
    let fee_rate = fee_rate(&parts, policy);
    // advance * (1 + fee_rate) <= face: the invoice covers what is owed. Rounded down, for the vault.
    let covered = (Decimal::ONE / (Decimal::ONE + fee_rate))
        .round_dp_with_strategy(RATE_DP, RoundingStrategy::ToZero);
    let advance_rate = advance_rate(assessment.score, policy).min(covered);
    // Floor: the vault advances no more than the rate says.
    let advance =
        (face.amount() * advance_rate).round_dp_with_strategy(minor, RoundingStrategy::ToZero);
    // Ceil: the vault is owed no less than the rate says.
    let fee = (advance * fee_rate).round_dp_with_strategy(minor, RoundingStrategy::AwayFromZero);
    let advance = FiatAmount::new(currency, advance)?;
    let fee = FiatAmount::new(currency, fee)?;
    let owed = FiatAmount::new(currency, advance.amount() + fee.amount())?;
    let advance_wei = fiat_to_wei_floor(&advance, price)?;
    let fee_wei = fiat_to_wei_ceil(&fee, price)?;
    Ok(Terms {
        advance_rate,
        advance,
        advance_wei,
        fee_rate,
        fee_parts: parts,
        fee,
        fee_wei,
        owed_at_due: owed,
        owed_at_due_wei: advance_wei.saturating_add(fee_wei),
        late_fee_bps_per_day: policy.late_fee_bps_per_day,
    })
}

fn check_price(input: &QuoteInput) -> Result<(), QuoteError> {
    let price = &input.price;
    if price.price.currency() != input.invoice.currency {
        return Err(QuoteError::PriceCurrency {
            invoice: input.invoice.currency,
            price: price.price.currency(),
        });
    }
    let now = input.now.timestamp();
    let updated = i64::try_from(price.updated_at).unwrap_or(i64::MAX);
    if updated > now {
        return Err(QuoteError::PriceFromTheFuture {
            updated_at: price.updated_at,
            now,
        });
    }
    let age = now - updated;
    if age > input.policy.max_price_age_secs {
        return Err(QuoteError::StalePrice {
            currency: price.price.currency(),
            age_secs: age,
            updated_at: price.updated_at,
            max_secs: input.policy.max_price_age_secs,
        });
    }
    Ok(())
}

/// Checks the policy's numbers make sense together.
pub fn check_policy(p: &Policy) -> Result<(), QuoteError> {
    let unit = |name: &str, v: Decimal| {
        if v < Decimal::ZERO || v > Decimal::ONE {
            Err(QuoteError::Policy(format!(
                "{name} {v} is not between 0 and 1"
            )))
        } else {
            Ok(())
        }
    };
    unit("min_advance_rate", p.min_advance_rate)?;
    unit("max_advance_rate", p.max_advance_rate)?;
    unit("loss_given_default", p.loss_given_default)?;
    unit("max_debtor_share", p.max_debtor_share)?;
    unit("default_signal_risk", p.default_signal_risk)?;
    unit("min_fee_rate", p.min_fee_rate)?;
    unit("max_fee_rate", p.max_fee_rate)?;
    if p.min_advance_rate > p.max_advance_rate {
        return Err(QuoteError::Policy(
            "min_advance_rate is above max_advance_rate".into(),
        ));
    }
    if p.min_fee_rate > p.max_fee_rate {
        return Err(QuoteError::Policy(
            "min_fee_rate is above max_fee_rate".into(),
        ));
    }
    if p.review_score > p.accept_score || p.accept_score > 100 {
        return Err(QuoteError::Policy(
            "review_score <= accept_score <= 100 is required".into(),
        ));
    }
    if p.target_yield < Decimal::ZERO || p.max_market_premium < Decimal::ZERO {
        return Err(QuoteError::Policy(
            "target_yield and max_market_premium must not be negative".into(),
        ));
    }
    if p.max_price_age_secs <= 0 || p.quote_validity_secs <= 0 {
        return Err(QuoteError::Policy(
            "max_price_age_secs and quote_validity_secs must be positive".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use alloy_primitives::I256;
    use chrono::{NaiveDate, TimeZone};
    use rust_decimal_macros::dec;

    use super::*;
    use crate::scoring::{BusinessHistory, DebtorRecord, TrackRecord};
    use crate::Currency;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap()
    }

    fn input(amount: Decimal) -> QuoteInput {
        QuoteInput {
            invoice: InvoiceRecord {
                debtor_name: "Acme GmbH".into(),
                debtor_tax_id: "DE123456789".into(),
                debtor_country: "DE".into(),
                invoice_number: "INV-7".into(),
                currency: Currency::Usd,
                amount,
                issue_date: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
                due_date: NaiveDate::from_ymd_opt(2026, 4, 9).unwrap(),
                document_hash: None,
            },
            context: ScoringContext {
                business: BusinessHistory {
                    record: TrackRecord {
                        on_time: 4,
                        late: 0,
                        defaulted: 0,
                    },
                    open_invoices: 0,
                    open_exposure: dec!(0),
                    usual_amount: Some(dec!(10000)),
                },
                debtor: DebtorRecord::default(),
                portfolio_open: dec!(500000),
            },
            signal: Some(MarketSignal {
                source: "file".into(),
                as_of: now(),
                risk: dec!(0.2),
                trend: dec!(0),
                summary: String::new(),
            }),
            price: PriceObservation {
                price: EthPrice::from_feed(
                    Currency::Usd,
                    I256::try_from(250_000_000_000i64).unwrap(),
                    8,
                )
                .unwrap(),
                updated_at: u64::try_from(now().timestamp()).unwrap() - 60,
            },
            policy: Policy::default(),
            now: now(),
        }
    }

    #[test]
    fn accepted_quote_has_consistent_terms() {
        let q = quote(&input(dec!(10000))).unwrap();
        assert_eq!(q.decision(), Decision::Accept);
        // 70 + 8 (4 on time) + 5 (30-day tenor) - 2 (market 0.2) = 81 → rate 0.70 + 0.20 * 21/40.
        assert_eq!(q.assessment.score, 81);
        assert_eq!(q.tenor_days, 30);
        let t = q.terms.unwrap();
        assert_eq!(t.advance_rate, dec!(0.805));
        assert_eq!(t.advance.amount(), dec!(8050.00));
        // PD = 0.005 + 0.5 * 0.19^2 = 0.02305; EL = 0.6 PD; TV = 0.1 * 30/365; MP = 0.2 * 0.06 * 30/365.
        assert_eq!(q.assessment.probability_of_default, dec!(0.02305));
        let sum =
            dec!(0.01383) + dec!(0.1) * dec!(30) / dec!(365) + dec!(0.012) * dec!(30) / dec!(365);
        assert_eq!(
            t.fee_rate,
            sum.round_dp_with_strategy(4, RoundingStrategy::AwayFromZero)
        );
        assert_eq!(t.fee_rate, dec!(0.0231));
        // 8050 * 0.0231 = 185.955, rounded up to the cent.
        assert_eq!(t.fee.amount(), dec!(185.96));
        assert_eq!(t.owed_at_due.amount(), dec!(8235.96));
        // At 2500 USD/ETH: 3.22 ETH and 0.074384 ETH exactly.
        assert_eq!(t.advance_wei, U256::from(3_220_000_000_000_000_000u128));
        assert_eq!(t.fee_wei, U256::from(74_384_000_000_000_000u128));
        assert_eq!(t.owed_at_due_wei, t.advance_wei + t.fee_wei);
        assert_eq!(q.expires_at, now() + Duration::minutes(15));
        assert!(q
            .eth_price_risk
            .contains("business carries the ETH price risk"));
        assert_eq!(
            q.invoice_id,
            input(dec!(10000)).invoice.canonical_id().unwrap()
        );
    }

    #[test]
    fn wei_rounds_for_the_vault() {
        let mut i = input(dec!(10000));
        // 2999.99 USD/ETH: neither amount divides evenly.
        i.price.price = EthPrice::from_decimal(Currency::Usd, dec!(2999.99)).unwrap();
        let t = quote(&i).unwrap().terms.unwrap();
        let exact_adv =
            U256::from(8050u64) * U256::from(10u64).pow(U256::from(20u64)) / U256::from(299_999u64);
        assert_eq!(t.advance_wei, exact_adv, "advance floored");
        let fee_num = U256::from(18596u64) * U256::from(10u64).pow(U256::from(18u64));
        let fee_ceil = fee_num.div_ceil(U256::from(299_999u64));
        assert_eq!(t.fee_wei, fee_ceil, "fee ceiled");
    }

    #[test]
    fn stale_price_is_refused_with_its_age() {
        let mut i = input(dec!(10000));
        i.price.updated_at = u64::try_from(now().timestamp()).unwrap() - 3601;
        let err = quote(&i).unwrap_err();
        assert!(
            matches!(err, QuoteError::StalePrice { age_secs: 3601, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("refresh the oracle"));
        i.price.updated_at = u64::try_from(now().timestamp()).unwrap() + 5;
        assert!(matches!(
            quote(&i).unwrap_err(),
            QuoteError::PriceFromTheFuture { .. }
        ));
    }

    #[test]
    fn price_in_another_currency_is_refused() {
        let mut i = input(dec!(10000));
        i.price.price = EthPrice::from_decimal(Currency::Eur, dec!(2800)).unwrap();
        assert_eq!(
            quote(&i).unwrap_err(),
            QuoteError::PriceCurrency {
                invoice: Currency::Usd,
                price: Currency::Eur
            }
        );
    }

    #[test]
    fn invalid_invoice_names_the_field() {
        let mut i = input(dec!(10000));
        i.invoice.debtor_name = " ".into();
        let err = quote(&i).unwrap_err();
        assert_eq!(err.to_string(), "invoice debtor_name: must not be empty");
    }

    #[test]
    fn declined_quote_has_no_terms() {
        let mut i = input(dec!(10000));
        i.invoice.issue_date = NaiveDate::from_ymd_opt(2025, 11, 1).unwrap();
        let q = quote(&i).unwrap();
        assert_eq!(q.decision(), Decision::Decline);
        assert!(q.terms.is_none());
        assert!(q.reasons().iter().any(|r| r.code == "ineligible_age"));
    }

    #[test]
    fn bad_policy_is_refused() {
        let mut i = input(dec!(10000));
        i.policy.min_advance_rate = dec!(0.95);
        assert!(matches!(quote(&i).unwrap_err(), QuoteError::Policy(_)));
    }

    #[test]
    fn advance_rate_spans_70_to_90() {
        let p = Policy::default();
        assert_eq!(advance_rate(p.accept_score, &p), dec!(0.70));
        assert_eq!(advance_rate(100, &p), dec!(0.90));
        assert_eq!(advance_rate(0, &p), dec!(0.70));
        assert_eq!(advance_rate(80, &p), dec!(0.80));
    }

    #[test]
    fn fee_is_bounded() {
        let p = Policy::default();
        let tiny = fee_parts(dec!(0), 1, dec!(0), &p);
        assert_eq!(fee_rate(&tiny, &p), p.min_fee_rate);
        let huge = fee_parts(dec!(0.5), 120, dec!(1), &p);
        assert_eq!(fee_rate(&huge, &p), p.max_fee_rate);
    }
}
