//! The keeper's queries (scoring context, outcomes) on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use alloy_primitives::Address;
use pipeit_core::scoring::{DebtorKey, TrackRecord};
use pipeit_core::{Currency, InvoiceRecord};
use pipeit_db::keeper::Outcome;
use pipeit_db::{Error, InvoiceStatus, NewScore};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;

use common::{hash, invoice_record, TestDb};

on_both_backends!(
    empty_database_gives_an_empty_context,
    context_counts_outcomes_exposure_and_book,
    outcomes_are_recorded_once,
    outcome_for_unknown_invoice_is_not_found,
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
