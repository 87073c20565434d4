//! Property tests of scoring and pricing: whatever the invoice, history, signal and price, the
//! bounds hold and every rounding favours the vault.
#![allow(clippy::unwrap_used)]

use alloy_primitives::U256;
use chrono::{DateTime, Duration, TimeZone, Utc};
use pipeit_core::pricing::{quote, PriceObservation, QuoteInput};
use pipeit_core::scoring::{
    score, BusinessHistory, DebtorRecord, Decision, Policy, ScoringContext, TrackRecord,
};
use pipeit_core::signal::MarketSignal;
use pipeit_core::{wei_to_fiat, Currency, EthPrice, InvoiceRecord, Rounding};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 15, 9, 30, 0).unwrap()
}

fn record() -> impl Strategy<Value = TrackRecord> {
    (0u32..30, 0u32..10, 0u32..4).prop_map(|(on_time, late, defaulted)| TrackRecord {
        on_time,
        late,
        defaulted,
    })
}

fn cents(max: u64) -> impl Strategy<Value = Decimal> {
    (1u64..max).prop_map(|c| Decimal::new(i64::try_from(c).unwrap(), 2))
}

fn context() -> impl Strategy<Value = ScoringContext> {
    (
        record(),
        record(),
        0u32..20,
        cents(90_000_000),
        proptest::option::of(cents(50_000_000)),
        cents(30_000_000),
        cents(5_000_000_000),
    )
        .prop_map(
            |(b, d, open, exposure, usual, debtor, book)| ScoringContext {
                business: BusinessHistory {
                    record: b,
                    open_invoices: open,
                    open_exposure: exposure,
                    usual_amount: usual,
                },
                debtor: DebtorRecord {
                    record: d,
                    open_exposure: debtor,
                },
                portfolio_open: book,
            },
        )
}

fn signal() -> impl Strategy<Value = Option<MarketSignal>> {
    proptest::option::of((0i64..=100, -100i64..=100, 0i64..(12 * 3600)).prop_map(
        |(risk, trend, age)| MarketSignal {
            source: "file".into(),
            as_of: now() - Duration::seconds(age),
            risk: Decimal::new(risk, 2),
            trend: Decimal::new(trend, 2),
            summary: String::new(),
        },
    ))
}

fn invoice() -> impl Strategy<Value = InvoiceRecord> {
    (cents(40_000_000), 0i64..120, 1i64..150).prop_map(|(amount, age, tenor)| {
        let today = now().date_naive();
        InvoiceRecord {
            debtor_name: "Debtor Ltd".into(),
            debtor_tax_id: "GB123456789".into(),
            debtor_country: "GB".into(),
            invoice_number: format!("N-{age}-{tenor}"),
            currency: Currency::Usd,
            amount,
            issue_date: today - Duration::days(age),
            due_date: today + Duration::days(tenor),
            document_hash: None,
        }
    })
}

fn price() -> impl Strategy<Value = EthPrice> {
    (1i64..100_000_000, 0u32..=6).prop_map(|(m, dp)| {
        EthPrice::from_decimal(Currency::Usd, Decimal::new(m, dp).max(Decimal::new(1, 2))).unwrap()
    })
}

fn quote_input() -> impl Strategy<Value = QuoteInput> {
    (invoice(), context(), signal(), price(), 0u64..3600).prop_map(
        |(invoice, context, signal, price, age)| QuoteInput {
            invoice,
            context,
            signal,
            price: PriceObservation {
                price,
                updated_at: u64::try_from(now().timestamp()).unwrap() - age,
            },
            policy: Policy::default(),
            now: now(),
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn quotes_stay_in_bounds_and_round_for_the_vault(input in quote_input()) {
        let q = quote(&input).unwrap();
        let a = &q.assessment;
        prop_assert!(a.score <= 100);
        prop_assert!(a.probability_of_default > Decimal::ZERO && a.probability_of_default < Decimal::ONE);
        prop_assert_eq!(q.clone(), quote(&input).unwrap(), "deterministic");
        match (&q.terms, a.decision) {
            (None, Decision::Decline) => {}
            (Some(t), Decision::Accept | Decision::ManualReview) => {
                let p = &input.policy;
                prop_assert!(t.advance_rate >= p.min_advance_rate && t.advance_rate <= p.max_advance_rate);
                prop_assert!(t.fee_rate >= p.min_fee_rate && t.fee_rate <= p.max_fee_rate);
                let face = input.invoice.amount;
                prop_assert!(t.advance.amount() <= face * t.advance_rate);
                prop_assert!(t.fee.amount() >= t.advance.amount() * t.fee_rate);
                prop_assert!(t.owed_at_due.amount() <= face, "owed {} > face {}", t.owed_at_due, face);
                prop_assert_eq!(t.owed_at_due_wei, t.advance_wei + t.fee_wei);
                // The wei paid out is worth no more than the fiat advance; the fee wei no less than the fee.
                let paid = wei_to_fiat(t.advance_wei, &input.price.price, Rounding::Floor).unwrap();
                prop_assert!(paid <= t.advance.amount());
                let fee_value = wei_to_fiat(t.fee_wei, &input.price.price, Rounding::Ceil).unwrap();
                prop_assert!(fee_value >= t.fee.amount());
                prop_assert!(t.advance_wei > U256::ZERO || t.advance.amount() * Decimal::ONE_THOUSAND < Decimal::ONE);
            }
            (terms, decision) => prop_assert!(false, "{:?} with terms {:?}", decision, terms.is_some()),
        }
        if a.ineligible() {
            prop_assert_eq!(a.decision, Decision::Decline);
        }
    }

    #[test]
    fn a_default_never_raises_the_score(inv in invoice(), ctx in context(), sig in signal()) {
        let policy = Policy::default();
        let before = score(&inv, &ctx, sig.as_ref(), &policy, now());
        let mut worse = ctx.clone();
        worse.debtor.record.defaulted += 1;
        worse.business.record.defaulted += 1;
        let after = score(&inv, &worse, sig.as_ref(), &policy, now());
        prop_assert!(after.score <= before.score);
        prop_assert!(after.decision != Decision::Accept);
    }

    #[test]
    fn more_market_risk_never_lowers_the_fee(input in quote_input(), extra in 1i64..50) {
        let mut calm = input.clone();
        let mut stressed = input;
        let base = MarketSignal {
            source: "file".into(),
            as_of: now(),
            risk: Decimal::new(25, 2),
            trend: Decimal::ZERO,
            summary: String::new(),
        };
        calm.signal = Some(base.clone());
        stressed.signal = Some(MarketSignal { risk: Decimal::new(25 + extra, 2), ..base });
        let (c, s) = (quote(&calm).unwrap(), quote(&stressed).unwrap());
        if let (Some(ct), Some(st)) = (c.terms, s.terms) {
            prop_assert!(st.fee_rate >= ct.fee_rate);
            prop_assert!(st.advance_rate <= ct.advance_rate);
        }
    }
}
