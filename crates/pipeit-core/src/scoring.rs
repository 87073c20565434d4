//! Invoice scoring: eligibility rules from factoring practice, then a points model that is small
//! enough to read. Deterministic: the same invoice, context, signal and time give the same result.
//!
//! The score starts at [`BASE_POINTS`] and every rule that moves it leaves a [`Reason`] with its
//! points, so a decision can be explained line by line. Outcomes (repaid on time, late, defaulted)
//! reach the next score through [`TrackRecord`]s of the business and of the debtor.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::currency::Currency;
use crate::invoice::{normalize_tax_id, InvoiceRecord};
use crate::signal::{clamp, MarketSignal};

/// The scoring model's version, stored with every decision.
pub const MODEL_VERSION: &str = "pipeit-score-v1";
/// Points every invoice starts with.
pub const BASE_POINTS: i32 = 70;

/// Who owes an invoice, as compared across businesses: the country and the normalised tax id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DebtorKey {
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
    /// Tax id normalised by [`normalize_tax_id`].
    pub tax_id: String,
}

impl DebtorKey {
    /// The debtor of `invoice`.
    pub fn of(invoice: &InvoiceRecord) -> Self {
        Self {
            country: invoice.debtor_country.clone(),
            tax_id: normalize_tax_id(&invoice.debtor_tax_id),
        }
    }
}

/// How past invoices ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackRecord {
    /// Repaid in full by the due date.
    pub on_time: u32,
    /// Repaid in full after the due date.
    pub late: u32,
    /// Written off.
    pub defaulted: u32,
}

impl TrackRecord {
    /// Invoices with an outcome.
    pub fn total(&self) -> u32 {
        self.on_time
            .saturating_add(self.late)
            .saturating_add(self.defaulted)
    }
}

/// What pipeit knows about the business asking.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessHistory {
    /// Outcomes of its past invoices.
    pub record: TrackRecord,
    /// Its invoices accepted or advanced and not yet closed.
    pub open_invoices: u32,
    /// Face value of those, in the invoice's currency.
    #[serde(with = "rust_decimal::serde::str")]
    pub open_exposure: Decimal,
    /// Mean face value of its past financed invoices in the invoice's currency (`None`: none yet).
    #[serde(with = "rust_decimal::serde::str_option")]
    pub usual_amount: Option<Decimal>,
}

/// What pipeit knows about the debtor, across every business.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DebtorRecord {
    /// Outcomes of invoices on this debtor.
    pub record: TrackRecord,
    /// Face value of open invoices on this debtor, in the invoice's currency.
    #[serde(with = "rust_decimal::serde::str")]
    pub open_exposure: Decimal,
}

/// Everything scoring needs besides the invoice; gathered by `pipeit_db::Db::scoring_context`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoringContext {
    /// The business.
    pub business: BusinessHistory,
    /// The debtor.
    pub debtor: DebtorRecord,
    /// Face value of every open invoice of the vault in the invoice's currency (the book).
    #[serde(with = "rust_decimal::serde::str")]
    pub portfolio_open: Decimal,
}

/// The rules and knobs of scoring and pricing. [`Policy::default`] is the production setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Invoices issued more than this many days ago are ineligible (factoring practice: 90).
    pub max_invoice_age_days: i64,
    /// Shortest tenor, in days from now to the due date (the vault requires a day).
    pub min_tenor_days: i64,
    /// Longest tenor (the vault's `maxTenor`).
    pub max_tenor_days: i64,
    /// Currencies financed (a fresh ETH price in the currency is also needed).
    pub supported_currencies: Vec<Currency>,
    /// Largest face value of one invoice.
    pub max_invoice_amount: Decimal,
    /// Largest open face value per business, this invoice included.
    pub max_business_exposure: Decimal,
    /// Largest share of the book on one debtor, this invoice included (0.25 = 25 %) ...
    pub max_debtor_share: Decimal,
    /// ... unless the debtor's exposure stays below this amount (a young book is all concentration).
    pub debtor_share_floor: Decimal,
    /// Score from which an invoice is accepted.
    pub accept_score: u8,
    /// Score from which an invoice goes to manual review instead of being declined.
    pub review_score: u8,
    /// Advance rate at [`Policy::accept_score`].
    pub min_advance_rate: Decimal,
    /// Advance rate at a score of 100.
    pub max_advance_rate: Decimal,
    /// Share of the advance lost when an invoice defaults.
    pub loss_given_default: Decimal,
    /// Yield the vault aims for, per year, on money advanced.
    pub target_yield: Decimal,
    /// Market premium per year at a signal risk of 1.
    pub max_market_premium: Decimal,
    /// Risk assumed when no fresh signal is at hand.
    pub default_signal_risk: Decimal,
    /// A signal older than this (seconds) is not used.
    pub max_signal_age_secs: i64,
    /// Smallest fee, as a share of the advance.
    pub min_fee_rate: Decimal,
    /// Largest fee, as a share of the advance.
    pub max_fee_rate: Decimal,
    /// Late fee per day past due, in basis points of the principal (within the vault's maximum).
    pub late_fee_bps_per_day: u16,
    /// An ETH price older than this (seconds) is stale: no quote.
    pub max_price_age_secs: i64,
    /// How long a quote holds, in seconds.
    pub quote_validity_secs: i64,
}

impl Default for Policy {
    fn default() -> Self {
        use rust_decimal::prelude::FromPrimitive as _;
        let d = |v: i64| Decimal::from_i64(v).unwrap_or_default();
        Self {
            max_invoice_age_days: 90,
            min_tenor_days: 1,
            max_tenor_days: 120,
            supported_currencies: vec![Currency::Usd],
            max_invoice_amount: d(250_000),
            max_business_exposure: d(750_000),
            max_debtor_share: Decimal::new(25, 2),
            debtor_share_floor: d(100_000),
            accept_score: 60,
            review_score: 45,
            min_advance_rate: Decimal::new(70, 2),
            max_advance_rate: Decimal::new(90, 2),
            loss_given_default: Decimal::new(60, 2),
            target_yield: Decimal::new(10, 2),
            max_market_premium: Decimal::new(6, 2),
            default_signal_risk: Decimal::new(5, 1),
            max_signal_age_secs: 6 * 3600,
            min_fee_rate: Decimal::new(5, 3),
            max_fee_rate: Decimal::new(15, 2),
            late_fee_bps_per_day: 5,
            max_price_age_secs: 3600,
            quote_validity_secs: 15 * 60,
        }
    }
}

/// What was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Finance it.
    Accept,
    /// A person looks at it before anything is advanced.
    ManualReview,
    /// Do not finance it.
    Decline,
}

/// One line of explanation: a stable code, a sentence, and the points it moved (0 for rules).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// Stable code (`"debtor_defaulted"`), for programs.
    pub code: String,
    /// One sentence, for people.
    pub text: String,
    /// Points added to (or taken from) the score.
    pub points: i32,
}

impl Reason {
    fn new(code: &str, points: i32, text: String) -> Self {
        Self {
            code: code.to_owned(),
            text,
            points,
        }
    }
}

/// The model's inputs, stored with the decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Features {
    /// Face value.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// Currency.
    pub currency: Currency,
    /// Days from issue to today.
    pub age_days: i64,
    /// Days from today to the due date (started days).
    pub tenor_days: i64,
    /// Seconds from now to the due date's midnight UTC (the vault's `dueAt`).
    pub seconds_to_due: i64,
    /// The context from the database.
    pub context: ScoringContext,
    /// Debtor's share of the book with this invoice.
    #[serde(with = "rust_decimal::serde::str")]
    pub debtor_share: Decimal,
    /// Signal risk used (the default when no fresh signal).
    #[serde(with = "rust_decimal::serde::str")]
    pub signal_risk: Decimal,
    /// The signal's source, if one was used.
    pub signal_source: Option<String>,
}

/// A scoring result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// [`MODEL_VERSION`].
    pub model_version: String,
    /// 0 (worst) to 100 (best).
    pub score: u8,
    /// Probability of default, 0 to 1.
    #[serde(with = "rust_decimal::serde::str")]
    pub probability_of_default: Decimal,
    /// What to do.
    pub decision: Decision,
    /// Why: failed eligibility rules first, then every scoring adjustment.
    pub reasons: Vec<Reason>,
    /// The inputs.
    pub features: Features,
}

impl Assessment {
    /// Whether an eligibility rule failed (any reason with code prefix `ineligible_`).
    pub fn ineligible(&self) -> bool {
        self.reasons
            .iter()
            .any(|r| r.code.starts_with("ineligible_"))
    }
}

/// The signal risk to price with: the signal's if fresh and valid, else the policy's default.
pub fn signal_risk(
    signal: Option<&MarketSignal>,
    policy: &Policy,
    now: DateTime<Utc>,
) -> (Decimal, Option<String>) {
    match signal {
        Some(s) if s.validate().is_ok() && s.age_secs(now) <= policy.max_signal_age_secs => {
            (s.risk, Some(s.source.clone()))
        }
        _ => (policy.default_signal_risk, None),
    }
}

/// Scores `invoice` for the business and debtor in `context` at `now`. Never fails: an invoice
/// that breaks a rule is declined with the rule as a reason. Validate the record first.
pub fn score(
    invoice: &InvoiceRecord,
    context: &ScoringContext,
    signal: Option<&MarketSignal>,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Assessment {
    let today = now.date_naive();
    let age_days = (today - invoice.issue_date).num_days();
    let tenor_days = tenor_days(invoice.due_date, now);
    let (risk, signal_source) = signal_risk(signal, policy, now);
    let debtor_after = context.debtor.open_exposure.saturating_add(invoice.amount);
    let book_after = context.portfolio_open.saturating_add(invoice.amount);
    let debtor_share = if book_after.is_zero() {
        Decimal::ONE
    } else {
        (debtor_after / book_after).round_dp(6)
    };
    let features = Features {
        amount: invoice.amount,
        currency: invoice.currency,
        age_days,
        tenor_days,
        seconds_to_due: (invoice.due_date.and_time(chrono::NaiveTime::MIN).and_utc() - now)
            .num_seconds(),
        context: context.clone(),
        debtor_share,
        signal_risk: risk,
        signal_source: signal_source.clone(),
    };

    let mut reasons = eligibility(invoice, &features, policy);
    let ineligible = !reasons.is_empty();
    reasons.extend(adjustments(
        invoice,
        &features,
        policy,
        signal_source.is_some(),
    ));
    let points: i32 = reasons.iter().map(|r| r.points).sum::<i32>() + BASE_POINTS;
    let score = u8::try_from(points.clamp(0, 100)).unwrap_or(0);
    let has_default = context.business.record.defaulted > 0 || context.debtor.record.defaulted > 0;
    let decision = if ineligible || score < policy.review_score {
        Decision::Decline
    } else if score < policy.accept_score || has_default {
        // A default anywhere on the business or the debtor: a person signs off, whatever the score.
        Decision::ManualReview
    } else {
        Decision::Accept
    };
    Assessment {
        model_version: MODEL_VERSION.to_owned(),
        score,
        probability_of_default: probability_of_default(score),
        decision,
        reasons,
        features,
    }
}

/// Days from `now` to the due date's midnight UTC (the vault's `dueAt`), started days counted:
/// a quote at noon for tomorrow is one day.
pub fn tenor_days(due_date: NaiveDate, now: DateTime<Utc>) -> i64 {
    let due = due_date.and_time(chrono::NaiveTime::MIN).and_utc();
    let seconds = (due - now).num_seconds();
    if seconds <= 0 {
        return seconds.div_euclid(86_400);
    }
    (seconds + 86_399) / 86_400
}

/// `0.005 + 0.5 * ((100 - score) / 100)^2`: 0.5 % at 100, 8.5 % at 60, 50.5 % at 0. Convex, so the
/// first points lost cost little and a poor score is priced as the loss it is.
pub fn probability_of_default(score: u8) -> Decimal {
    let gap = Decimal::from(100u8.saturating_sub(score)) / Decimal::ONE_HUNDRED;
    Decimal::new(5, 3) + gap * gap / Decimal::TWO
}

fn eligibility(invoice: &InvoiceRecord, f: &Features, policy: &Policy) -> Vec<Reason> {
    let mut out = Vec::new();
    let mut rule = |code: &str, text: String| out.push(Reason::new(code, 0, text));
    if !policy.supported_currencies.contains(&invoice.currency) {
        let supported: Vec<&str> = policy
            .supported_currencies
            .iter()
            .map(|c| c.code())
            .collect();
        rule(
            "ineligible_currency",
            format!(
                "{} invoices are not financed (supported: {})",
                invoice.currency,
                supported.join(", ")
            ),
        );
    }
    if f.age_days > policy.max_invoice_age_days {
        rule(
            "ineligible_age",
            format!(
                "issued {} days ago; invoices older than {} days are not financed",
                f.age_days, policy.max_invoice_age_days
            ),
        );
    }
    // The vault refuses a tenor under its minimum in seconds (a day): count whole days from now,
    // plus an hour for the advance to be mined.
    if f.seconds_to_due < policy.min_tenor_days * 86_400 + 3_600 {
        rule(
            "ineligible_due",
            format!(
                "due {}: at least {} full day(s) before the due date are needed",
                invoice.due_date, policy.min_tenor_days
            ),
        );
    }
    if f.tenor_days > policy.max_tenor_days {
        rule(
            "ineligible_tenor",
            format!(
                "due in {} days; the longest tenor is {} days",
                f.tenor_days, policy.max_tenor_days
            ),
        );
    }
    if invoice.amount > policy.max_invoice_amount {
        rule(
            "ineligible_amount",
            format!(
                "{} {} is above the largest invoice financed ({} {})",
                invoice.amount, invoice.currency, policy.max_invoice_amount, invoice.currency
            ),
        );
    }
    let business_after = f
        .context
        .business
        .open_exposure
        .saturating_add(invoice.amount);
    if business_after > policy.max_business_exposure {
        rule(
            "ineligible_business_exposure",
            format!(
                "the business would have {} {} open; the limit is {}",
                business_after, invoice.currency, policy.max_business_exposure
            ),
        );
    }
    let debtor_after = f
        .context
        .debtor
        .open_exposure
        .saturating_add(invoice.amount);
    if f.debtor_share > policy.max_debtor_share && debtor_after > policy.debtor_share_floor {
        rule(
            "ineligible_debtor_concentration",
            format!(
                "this debtor would be {}% of the book; the cap is {}%",
                (f.debtor_share * Decimal::ONE_HUNDRED).round_dp(1),
                (policy.max_debtor_share * Decimal::ONE_HUNDRED).round_dp(1)
            ),
        );
    }
    out
}

/// The scoring adjustments, each bounded so that no single history dominates.
fn adjustments(
    invoice: &InvoiceRecord,
    f: &Features,
    policy: &Policy,
    fresh_signal: bool,
) -> Vec<Reason> {
    let mut out = Vec::new();
    let b = &f.context.business.record;
    let d = &f.context.debtor.record;
    let n = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);

    if b.total() == 0 {
        out.push(Reason::new(
            "business_new",
            -5,
            "the business has no repaid or defaulted invoice yet".into(),
        ));
    }
    if b.on_time > 0 {
        let p = (2 * n(b.on_time).min(8)).min(15);
        out.push(Reason::new(
            "business_on_time",
            p,
            format!("the business was repaid on time {} time(s)", b.on_time),
        ));
    }
    if b.late > 0 {
        let p = -(4 * n(b.late).min(5));
        out.push(Reason::new(
            "business_late",
            p,
            format!("{} of the business's invoices were repaid late", b.late),
        ));
    }
    if b.defaulted > 0 {
        let p = -(25 * n(b.defaulted).min(2));
        out.push(Reason::new(
            "business_defaulted",
            p,
            format!(
                "{} of the business's invoices were written off",
                b.defaulted
            ),
        ));
    }
    if d.on_time > 0 {
        let p = 2 * n(d.on_time).min(5);
        out.push(Reason::new(
            "debtor_on_time",
            p,
            format!("the debtor paid {} invoice(s) on time", d.on_time),
        ));
    }
    if d.late > 0 {
        let p = -(3 * n(d.late).min(5));
        out.push(Reason::new(
            "debtor_late",
            p,
            format!("the debtor paid {} invoice(s) late", d.late),
        ));
    }
    if d.defaulted > 0 {
        let p = -(30 * n(d.defaulted).min(2));
        out.push(Reason::new(
            "debtor_defaulted",
            p,
            format!("the debtor defaulted on {} invoice(s)", d.defaulted),
        ));
    }
    match f.tenor_days {
        t if t <= 30 => out.push(Reason::new(
            "tenor_short",
            5,
            format!("short tenor ({t} days)"),
        )),
        t if t > 90 => out.push(Reason::new(
            "tenor_long",
            -10,
            format!("long tenor ({t} days)"),
        )),
        t if t > 60 => out.push(Reason::new(
            "tenor_long",
            -5,
            format!("longer tenor ({t} days)"),
        )),
        _ => {}
    }
    if f.age_days > 60 {
        out.push(Reason::new(
            "invoice_old",
            -10,
            format!("issued {} days ago", f.age_days),
        ));
    } else if f.age_days > 30 {
        out.push(Reason::new(
            "invoice_aging",
            -5,
            format!("issued {} days ago", f.age_days),
        ));
    }
    if let Some(usual) = f.context.business.usual_amount.filter(|u| !u.is_zero()) {
        let ratio = invoice.amount / usual;
        if ratio > Decimal::from(3) {
            out.push(Reason::new(
                "amount_unusual",
                -10,
                format!(
                    "{} is {}x the business's usual invoice",
                    invoice.amount,
                    ratio.round_dp(1)
                ),
            ));
        } else if ratio > Decimal::new(15, 1) {
            out.push(Reason::new(
                "amount_large",
                -5,
                format!(
                    "{} is {}x the business's usual invoice",
                    invoice.amount,
                    ratio.round_dp(1)
                ),
            ));
        }
    }
    // Concentration costs points only once the debtor's exposure matters (a quarter of the floor
    // under which the cap does not bite): in a young book every debtor is a large share.
    let debtor_after = f
        .context
        .debtor
        .open_exposure
        .saturating_add(invoice.amount);
    if f.debtor_share > Decimal::new(15, 2)
        && debtor_after > policy.debtor_share_floor / Decimal::from(4)
    {
        out.push(Reason::new(
            "debtor_concentrated",
            -5,
            format!(
                "the debtor would be {}% of the book",
                (f.debtor_share * Decimal::ONE_HUNDRED).round_dp(1)
            ),
        ));
    }
    // Market stress costs up to 10 points; rounded away from zero (against the invoice, for the vault).
    let market = (clamp(f.signal_risk, Decimal::ZERO, Decimal::ONE) * Decimal::TEN)
        .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::AwayFromZero);
    let market = i32::try_from(market.mantissa()).unwrap_or(10);
    if market > 0 {
        let text = if fresh_signal {
            format!("market risk {} from the signal", f.signal_risk)
        } else {
            format!(
                "no fresh market signal: market risk assumed {}",
                f.signal_risk
            )
        };
        out.push(Reason::new("market_risk", -market, text));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    use super::*;

    pub(crate) fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap()
    }

    fn invoice(amount: Decimal, issued: (u32, u32), due: (u32, u32)) -> InvoiceRecord {
        InvoiceRecord {
            debtor_name: "Acme GmbH".into(),
            debtor_tax_id: "de 123.456-789".into(),
            debtor_country: "DE".into(),
            invoice_number: "INV-1".into(),
            currency: Currency::Usd,
            amount,
            issue_date: NaiveDate::from_ymd_opt(2026, issued.0, issued.1).unwrap(),
            due_date: NaiveDate::from_ymd_opt(2026, due.0, due.1).unwrap(),
            document_hash: None,
        }
    }

    fn calm() -> MarketSignal {
        MarketSignal {
            source: "file".into(),
            as_of: now(),
            risk: dec!(0.1),
            trend: dec!(0.2),
            summary: String::new(),
        }
    }

    fn good_history() -> ScoringContext {
        ScoringContext {
            business: BusinessHistory {
                record: TrackRecord {
                    on_time: 6,
                    late: 0,
                    defaulted: 0,
                },
                open_invoices: 1,
                open_exposure: dec!(10000),
                usual_amount: Some(dec!(8000)),
            },
            debtor: DebtorRecord {
                record: TrackRecord {
                    on_time: 3,
                    late: 0,
                    defaulted: 0,
                },
                open_exposure: dec!(5000),
            },
            portfolio_open: dec!(400000),
        }
    }

    #[test]
    fn debtor_key_normalises_the_tax_id() {
        let key = DebtorKey::of(&invoice(dec!(1), (3, 1), (4, 1)));
        assert_eq!(key.tax_id, "DE123456789");
        assert_eq!(key.country, "DE");
    }

    #[test]
    fn good_history_is_accepted_with_every_reason_summing_to_the_score() {
        let a = score(
            &invoice(dec!(9000), (3, 1), (4, 1)),
            &good_history(),
            Some(&calm()),
            &Policy::default(),
            now(),
        );
        assert_eq!(a.decision, Decision::Accept);
        let points: i32 = a.reasons.iter().map(|r| r.points).sum();
        assert_eq!(i32::from(a.score), BASE_POINTS + points);
        // 70 + 12 (6 on time) + 6 (debtor) + 5 (short tenor) - 1 (market) = 92.
        assert_eq!(a.score, 92);
        assert_eq!(a.model_version, MODEL_VERSION);
        assert_eq!(a.features.tenor_days, 22);
        assert_eq!(a.features.age_days, 9);
        assert!(!a.ineligible());
    }

    #[test]
    fn old_invoice_is_ineligible_and_says_so() {
        let a = score(
            &invoice(dec!(9000), (11, 1), (4, 1)).clone_with_issue(2025, 12, 1),
            &good_history(),
            Some(&calm()),
            &Policy::default(),
            now(),
        );
        assert_eq!(a.decision, Decision::Decline);
        assert!(a.ineligible());
        let reason = a
            .reasons
            .iter()
            .find(|r| r.code == "ineligible_age")
            .unwrap();
        assert!(reason.text.contains("99 days ago"), "{}", reason.text);
    }

    #[test]
    fn day_90_is_still_eligible() {
        let mut inv = invoice(dec!(9000), (3, 1), (4, 1));
        inv.issue_date = now().date_naive() - chrono::Days::new(90);
        let a = score(&inv, &good_history(), None, &Policy::default(), now());
        assert!(!a.ineligible(), "{:?}", a.reasons);
        inv.issue_date = now().date_naive() - chrono::Days::new(91);
        let a = score(&inv, &good_history(), None, &Policy::default(), now());
        assert!(a.ineligible());
    }

    #[test]
    fn unsupported_currency_past_due_and_long_tenor_are_each_named() {
        let mut inv = invoice(dec!(9000), (3, 1), (3, 10));
        inv.currency = Currency::Eur;
        let a = score(&inv, &good_history(), None, &Policy::default(), now());
        let codes: Vec<&str> = a.reasons.iter().map(|r| r.code.as_str()).collect();
        assert!(codes.contains(&"ineligible_currency"), "{codes:?}");
        assert!(codes.contains(&"ineligible_due"), "{codes:?}");
        let a = score(
            &invoice(dec!(9000), (3, 1), (9, 1)),
            &good_history(),
            None,
            &Policy::default(),
            now(),
        );
        assert!(a.reasons.iter().any(|r| r.code == "ineligible_tenor"));
    }

    #[test]
    fn exposure_and_concentration_caps() {
        let policy = Policy::default();
        let mut ctx = good_history();
        ctx.business.open_exposure = dec!(745000);
        let a = score(
            &invoice(dec!(9000), (3, 1), (4, 1)),
            &ctx,
            None,
            &policy,
            now(),
        );
        assert!(a
            .reasons
            .iter()
            .any(|r| r.code == "ineligible_business_exposure"));

        let mut ctx = good_history();
        ctx.debtor.open_exposure = dec!(150000);
        ctx.portfolio_open = dec!(400000);
        let a = score(
            &invoice(dec!(9000), (3, 1), (4, 1)),
            &ctx,
            None,
            &policy,
            now(),
        );
        assert!(a
            .reasons
            .iter()
            .any(|r| r.code == "ineligible_debtor_concentration"));

        // A young book: 100 % on one debtor but under the floor is fine.
        let ctx = ScoringContext::default();
        let a = score(
            &invoice(dec!(9000), (3, 1), (4, 1)),
            &ctx,
            None,
            &policy,
            now(),
        );
        assert!(!a.ineligible(), "{:?}", a.reasons);
    }

    #[test]
    fn outcomes_move_the_next_score() {
        let policy = Policy::default();
        let inv = invoice(dec!(9000), (3, 1), (4, 1));
        let mut ctx = good_history();
        let before = score(&inv, &ctx, Some(&calm()), &policy, now()).score;
        ctx.debtor.record.defaulted = 1;
        let after = score(&inv, &ctx, Some(&calm()), &policy, now());
        assert_eq!(i32::from(before) - i32::from(after.score), 30);
        assert_ne!(after.decision, Decision::Accept);
        ctx.debtor.record.defaulted = 0;
        ctx.business.record.on_time += 1;
        assert!(score(&inv, &ctx, Some(&calm()), &policy, now()).score > before);
    }

    #[test]
    fn stale_or_missing_signal_uses_the_default_risk() {
        let policy = Policy::default();
        let inv = invoice(dec!(9000), (3, 1), (4, 1));
        let mut old = calm();
        old.as_of = now() - chrono::Duration::hours(7);
        let a = score(&inv, &good_history(), Some(&old), &policy, now());
        assert_eq!(a.features.signal_risk, policy.default_signal_risk);
        assert_eq!(a.features.signal_source, None);
        let r = a.reasons.iter().find(|r| r.code == "market_risk").unwrap();
        assert!(r.text.contains("no fresh market signal"));
        assert_eq!(r.points, -5);
    }

    #[test]
    fn probability_of_default_is_monotone_and_bounded() {
        assert_eq!(probability_of_default(100), dec!(0.005));
        assert_eq!(probability_of_default(60), dec!(0.085));
        assert_eq!(probability_of_default(0), dec!(0.505));
        for s in 0..100u8 {
            assert!(probability_of_default(s) > probability_of_default(s + 1));
        }
    }

    #[test]
    fn due_tomorrow_late_in_the_day_is_too_short_for_the_vault() {
        let mut inv = invoice(dec!(9000), (3, 1), (3, 11));
        let at = |h: u32, m: u32| Utc.with_ymd_and_hms(2026, 3, 10, h, m, 0).unwrap();
        // 23:30 on the 10th: 30 minutes before the due midnight.
        let a = score(&inv, &good_history(), None, &Policy::default(), at(23, 30));
        assert!(a.reasons.iter().any(|r| r.code == "ineligible_due"));
        // Due the 12th, quoted at 21:00 on the 10th: 27 h left, enough (a day plus an hour).
        inv.due_date = NaiveDate::from_ymd_opt(2026, 3, 12).unwrap();
        let a = score(&inv, &good_history(), None, &Policy::default(), at(21, 0));
        assert!(
            !a.reasons.iter().any(|r| r.code == "ineligible_due"),
            "{:?}",
            a.reasons
        );
    }

    #[test]
    fn tenor_counts_started_days() {
        let due = NaiveDate::from_ymd_opt(2026, 3, 11).unwrap();
        assert_eq!(tenor_days(due, now()), 1);
        let due = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
        assert_eq!(tenor_days(due, now()), -1);
    }

    impl InvoiceRecord {
        fn clone_with_issue(&self, y: i32, m: u32, d: u32) -> InvoiceRecord {
            let mut c = self.clone();
            c.issue_date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            c
        }
    }
}
