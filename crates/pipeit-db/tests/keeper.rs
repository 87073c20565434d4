//! The keeper's queries (scoring context, outcomes) on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use alloy_primitives::{Address, U256};
use chrono::{TimeZone, Utc};
use pipeit_core::scoring::{DebtorKey, TrackRecord};
use pipeit_core::signal::MarketSignal;
use pipeit_core::{Currency, InvoiceRecord};
use pipeit_db::keeper::NewRebalance;
use pipeit_db::keeper::Outcome;
use pipeit_db::{BlockBatch, BlockRecord, EthUsdPrice};
use pipeit_db::{Error, InvoiceStatus, NewScore};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;

use common::{at, hash, invoice_record, TestDb};

on_both_backends!(
    empty_database_gives_an_empty_context,
    context_counts_outcomes_exposure_and_book,
    outcomes_are_recorded_once,
    outcome_for_unknown_invoice_is_not_found,
    prices_since_come_in_block_order,
    market_signals_round_trip_and_latest_wins,
    signal_cache_replaces,
    keeper_state_and_counters,
    manual_review_is_recorded_once,
    rebalance_decisions_are_listed_newest_first,
);

fn usd(number: &str, tax_id: &str, amount: Decimal) -> InvoiceRecord {
    InvoiceRecord {
        currency: Currency::Usd,
        amount,
        debtor_tax_id: tax_id.to_owned(),
        ..invoice_record(number)
    }
}

async fn accept(t: &TestDb, id: i64) {
    t.db.record_score(&NewScore {
        invoice_id: id,
        model_version: "test".into(),
        features: json!({}),
        score: 80,
        probability_of_default: dec!(0.05),
        advance_rate: dec!(0.8),
        fee_rate: dec!(0.02),
        accepted: true,
        reasons: json!([]),
    })
    .await
    .unwrap();
}

async fn empty_database_gives_an_empty_context(t: &TestDb) {
    let key = DebtorKey {
        country: "DE".into(),
        tax_id: "DE1".into(),
    };
    let ctx = t.db.scoring_context(1, &key, Currency::Usd).await.unwrap();
    assert_eq!(ctx, Default::default());
}

async fn context_counts_outcomes_exposure_and_book(t: &TestDb) {
    let a =
        t.db.insert_business("A", Address::repeat_byte(1))
            .await
            .unwrap();
    let b =
        t.db.insert_business("B", Address::repeat_byte(2))
            .await
            .unwrap();
    // Business A: one repaid on time (1000.10), one written off (2000), one open (300.05, advanced),
    // one submitted (not counted), one in EUR (not added to USD).
    let i1 =
        t.db.insert_invoice(a.id, &usd("1", "de 123.456-789", dec!(1000.10)))
            .await
            .unwrap();
    let i2 =
        t.db.insert_invoice(a.id, &usd("2", "DE123456789", dec!(2000)))
            .await
            .unwrap();
    let i3 =
        t.db.insert_invoice(a.id, &usd("3", "DE-123-456-789", dec!(300.05)))
            .await
            .unwrap();
    t.db.insert_invoice(a.id, &usd("4", "DE123456789", dec!(99999)))
        .await
        .unwrap();
    let eur =
        t.db.insert_invoice(a.id, &invoice_record("5"))
            .await
            .unwrap();
    // Business B on the same debtor: late (500), and one scored (open, 700.5).
    let j1 =
        t.db.insert_invoice(b.id, &usd("6", "DE123456789", dec!(500)))
            .await
            .unwrap();
    let j2 =
        t.db.insert_invoice(b.id, &usd("7", "DE.123456789", dec!(700.5)))
            .await
            .unwrap();
    // Another debtor, open, in the book.
    let k1 =
        t.db.insert_invoice(b.id, &usd("8", "FR999", dec!(0.01)))
            .await
            .unwrap();
    for (inv, to) in [
        (i1.id, Some(InvoiceStatus::Repaid)),
        (i2.id, Some(InvoiceStatus::WrittenOff)),
        (i3.id, None),
        (eur.id, None),
        (j1.id, Some(InvoiceStatus::Repaid)),
        (k1.id, None),
    ] {
        accept(t, inv).await;
        t.db.mark_invoice_advanced(inv, hash(inv as u64))
            .await
            .unwrap();
        if let Some(to) = to {
            t.db.set_invoice_status(inv, to).await.unwrap();
        }
    }
    accept(t, j2.id).await;
    t.db.record_outcome(i1.id, Outcome::OnTime, 0)
        .await
        .unwrap();
    t.db.record_outcome(i2.id, Outcome::Defaulted, 16)
        .await
        .unwrap();
    t.db.record_outcome(j1.id, Outcome::Late, 3).await.unwrap();

    let key = DebtorKey::of(&usd("x", "de 123 456 789", dec!(1)));
    let ctx =
        t.db.scoring_context(a.id, &key, Currency::Usd)
            .await
            .unwrap();
    assert_eq!(
        ctx.business.record,
        TrackRecord {
            on_time: 1,
            late: 0,
            defaulted: 1
        }
    );
    assert_eq!(ctx.business.open_invoices, 1);
    assert_eq!(ctx.business.open_exposure, dec!(300.05));
    // Mean of the financed USD invoices: (1000.10 + 2000 + 300.05) / 3 = 1100.05.
    assert_eq!(ctx.business.usual_amount, Some(dec!(1100.05)));
    assert_eq!(
        ctx.debtor.record,
        TrackRecord {
            on_time: 1,
            late: 1,
            defaulted: 1
        }
    );
    assert_eq!(ctx.debtor.open_exposure, dec!(1000.55));
    assert_eq!(ctx.portfolio_open, dec!(1000.56));

    let eur_ctx =
        t.db.scoring_context(a.id, &key, Currency::Eur)
            .await
            .unwrap();
    assert_eq!(eur_ctx.business.open_exposure, dec!(1234.50));
    assert_eq!(eur_ctx.portfolio_open, dec!(1234.50));
}

async fn outcomes_are_recorded_once(t: &TestDb) {
    let a =
        t.db.insert_business("A", Address::repeat_byte(1))
            .await
            .unwrap();
    let inv =
        t.db.insert_invoice(a.id, &invoice_record("1"))
            .await
            .unwrap();
    let first = t.db.record_outcome(inv.id, Outcome::Late, 2).await.unwrap();
    assert_eq!((first.outcome, first.days_late), (Outcome::Late, 2));
    let again =
        t.db.record_outcome(inv.id, Outcome::Defaulted, 20)
            .await
            .unwrap();
    assert_eq!(again, first, "a replay keeps the first outcome");
    assert_eq!(t.count("invoice_outcomes").await, 1);
}

async fn outcome_for_unknown_invoice_is_not_found(t: &TestDb) {
    let err =
        t.db.record_outcome(404, Outcome::OnTime, 0)
            .await
            .unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotFound {
                what: "invoice",
                ..
            }
        ),
        "{err}"
    );
}

async fn prices_since_come_in_block_order(t: &TestDb) {
    let price = |block: u64, usd: Decimal, updated_at: u64| EthUsdPrice {
        block_number: block,
        price: usd,
        round_id: U256::from(block),
        updated_at,
    };
    let batch = BlockBatch {
        blocks: vec![BlockRecord {
            number: 12,
            hash: hash(12),
            parent_hash: hash(11),
        }],
        events: vec![],
        eth_usd_prices: vec![
            price(10, dec!(3000.5), 1_000),
            price(11, dec!(2999.25), 1_100),
            price(12, dec!(3001), 1_200),
        ],
        share_prices: vec![],
        checkpoint_block: 12,
        checkpoint_hash: hash(12),
    };
    t.db.save_block_batch(at(), &batch).await.unwrap();
    let since = t.db.eth_usd_prices_since(at(), 1_100).await.unwrap();
    assert_eq!(
        since
            .iter()
            .map(|p| (p.block_number, p.price))
            .collect::<Vec<_>>(),
        [(11, dec!(2999.25)), (12, dec!(3001))]
    );
    assert_eq!(t.db.eth_usd_prices_since(at(), 0).await.unwrap().len(), 3);
}

fn signal(source: &str, risk: Decimal) -> MarketSignal {
    MarketSignal {
        source: source.into(),
        as_of: Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap(),
        risk,
        trend: dec!(-0.25),
        summary: "test".into(),
    }
}

async fn market_signals_round_trip_and_latest_wins(t: &TestDb) {
    assert!(t.db.latest_market_signal(None).await.unwrap().is_none());
    t.db.record_market_signal(&signal("file", dec!(0.1)))
        .await
        .unwrap();
    t.db.record_market_signal(&signal("onbox-v1", dec!(0.7)))
        .await
        .unwrap();
    assert_eq!(
        t.db.latest_market_signal(None).await.unwrap(),
        Some(signal("onbox-v1", dec!(0.7)))
    );
    assert_eq!(
        t.db.latest_market_signal(Some("file")).await.unwrap(),
        Some(signal("file", dec!(0.1)))
    );
    let err =
        t.db.record_market_signal(&signal("file", dec!(1.5)))
            .await
            .unwrap_err();
    assert!(err.to_string().contains("risk"), "{err}");
}

async fn signal_cache_replaces(t: &TestDb) {
    assert!(t.db.signal_cache_get("k").await.unwrap().is_none());
    let first_at = Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap();
    let second_at = Utc.with_ymd_and_hms(2026, 3, 2, 10, 5, 0).unwrap();
    t.db.signal_cache_put("k", &json!({"a": 1}), first_at)
        .await
        .unwrap();
    let first = t.db.signal_cache_get("k").await.unwrap().unwrap();
    assert_eq!(first, (json!({"a": 1}), first_at));
    t.db.signal_cache_put("k", &json!({"a": 2}), second_at)
        .await
        .unwrap();
    let second = t.db.signal_cache_get("k").await.unwrap().unwrap();
    assert_eq!(second, (json!({"a": 2}), second_at), "replaced, with its time");
}

async fn keeper_state_and_counters(t: &TestDb) {
    assert_eq!(t.db.keeper_state("x").await.unwrap(), None);
    t.db.set_keeper_state("x", "one").await.unwrap();
    t.db.set_keeper_state("x", "two").await.unwrap();
    assert_eq!(
        t.db.keeper_state("x").await.unwrap().as_deref(),
        Some("two")
    );
    assert_eq!(t.db.add_keeper_counter("calls", 1).await.unwrap(), 1);
    assert_eq!(t.db.add_keeper_counter("calls", 2).await.unwrap(), 3);
    let err = t.db.add_keeper_counter("x", 1).await.unwrap_err();
    assert!(err.to_string().contains("not an integer"), "{err}");
}

async fn manual_review_is_recorded_once(t: &TestDb) {
    let a =
        t.db.insert_business("A", Address::repeat_byte(1))
            .await
            .unwrap();
    let inv =
        t.db.insert_invoice(a.id, &invoice_record("1"))
            .await
            .unwrap();
    t.db.insert_manual_review(inv.id, &json!({"score": 50}))
        .await
        .unwrap();
    t.db.insert_manual_review(inv.id, &json!({"score": 51}))
        .await
        .unwrap();
    assert_eq!(t.db.open_manual_reviews().await.unwrap(), [inv.id]);
    assert_eq!(t.count("manual_reviews").await, 1);
}

async fn rebalance_decisions_are_listed_newest_first(t: &TestDb) {
    let decision = |acted: bool, n: i64| NewRebalance {
        inputs: json!({"n": n}),
        target: json!({"hedge": "0.1"}),
        actions: json!([]),
        acted,
        reasons: json!(["because"]),
    };
    t.db.record_rebalance(&decision(true, 1)).await.unwrap();
    t.db.record_rebalance(&decision(false, 2)).await.unwrap();
    let all = t.db.rebalances(false, 10).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].decision, decision(false, 2));
    let acted = t.db.rebalances(true, 10).await.unwrap();
    assert_eq!(acted.len(), 1);
    assert_eq!(acted[0].decision, decision(true, 1));
}
