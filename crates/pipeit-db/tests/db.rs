//! The repository suite: every test runs on SQLite and on PostgreSQL (see `common`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use alloy_primitives::{Address, U256};
use pipeit_db::{
    BlockBatch, BlockRecord, Checkpoint, Db, Error, EthUsdPrice, InvoiceStatus, NewScore,
    OutboxStatus, SharePrice,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;

use common::{at, event, hash, invoice_record, TestDb};

on_both_backends!(
    migrations_apply_and_create_every_table,
    wei_round_trips_exactly,
    decimals_round_trip_exactly,
    save_block_batch_stores_rows_and_moves_checkpoint,
    save_block_batch_with_duplicate_event_writes_nothing,
    save_block_batch_refuses_to_move_checkpoint_back,
    save_block_batch_refuses_rows_above_its_checkpoint,
    rollback_to_removes_rows_above_block_and_resets_checkpoint,
    rollback_below_window_keeps_block_without_hash,
    duplicate_invoice_is_conflict,
    invoice_round_trips_and_lists_by_business_and_status,
    invoice_for_unknown_business_is_not_found,
    invoice_status_follows_life_cycle,
    record_score_moves_invoice_in_the_same_transaction,
    outbox_lifecycle,
    api_keys_are_found_by_prefix_and_revocable,
    newer_schema_is_refused_with_typed_error,
    reconnect_to_migrated_database_is_a_no_op,
);

/// A one-block batch with the block, its events and a price.
fn batch(block: u64, events: Vec<pipeit_db::VaultEvent>) -> BlockBatch {
    BlockBatch {
        blocks: vec![BlockRecord {
            number: block,
            hash: hash(block),
            parent_hash: hash(block - 1),
        }],
        events,
        eth_usd_prices: vec![EthUsdPrice {
            block_number: block,
            price: dec!(3000.12345678),
            round_id: U256::from(block),
            updated_at: 1_700_000_000 + block,
        }],
        share_prices: vec![SharePrice {
            block_number: block,
            timestamp: 1_700_000_000 + block,
            total_assets: U256::from(block) * U256::from(10u64).pow(U256::from(18u64)),
            total_supply: U256::from(block) * U256::from(10u64).pow(U256::from(21u64)),
        }],
        checkpoint_block: block,
        checkpoint_hash: hash(block),
    }
}

async fn migrations_apply_and_create_every_table(t: &TestDb) {
    for table in [
        "chain_checkpoint",
        "block_hashes",
        "vault_events",
        "eth_usd_prices",
        "share_price_history",
        "businesses",
        "api_keys",
        "invoices",
        "scores",
        "tx_outbox",
    ] {
        assert_eq!(t.count(table).await, 0, "{table}");
    }
    assert_eq!(t.count("_sqlx_migrations").await, Db::latest_migration());
    assert!(t.db.checkpoint(at()).await.unwrap().is_none());
}

async fn wei_round_trips_exactly(t: &TestDb) {
    let values = [U256::ZERO, U256::from(1), U256::MAX];
    let mut events = Vec::new();
    for (i, value) in values.iter().enumerate() {
        let mut e = event(7, i as u64, 0);
        e.shares = Some(*value);
        e.assets = Some(*value);
        events.push(e);
    }
    let mut no_amounts = event(7, 9, 0);
    no_amounts.shares = None;
    no_amounts.assets = None;
    events.push(no_amounts.clone());
    let mut b = batch(7, events);
    b.share_prices[0].total_assets = U256::MAX;
    b.share_prices[0].total_supply = U256::ZERO;
    b.eth_usd_prices[0].round_id = U256::MAX;
    t.db.save_block_batch(at(), &b).await.unwrap();

    let stored = t.db.events_between(at(), 7, 7).await.unwrap();
    let amounts: Vec<_> = stored.iter().map(|e| (e.shares, e.assets)).collect();
    assert_eq!(
        amounts,
        [
            (Some(U256::ZERO), Some(U256::ZERO)),
            (Some(U256::from(1)), Some(U256::from(1))),
            (Some(U256::MAX), Some(U256::MAX)),
            (None, None),
        ]
    );
    assert_eq!(stored[3], no_amounts);
    // What the database itself holds: exact digits (NUMERIC on PostgreSQL, TEXT on SQLite).
    let max = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
    assert_eq!(
        t.texts("SELECT CAST(assets AS TEXT) FROM vault_events ORDER BY id")
            .await,
        [
            Some("0".to_owned()),
            Some("1".to_owned()),
            Some(max.to_owned()),
            None
        ]
    );
    let share = &t.db.share_prices_between(at(), 0, 10).await.unwrap()[0];
    assert_eq!(
        (share.total_assets, share.total_supply),
        (U256::MAX, U256::ZERO)
    );
    let price = t.db.eth_usd_price_at(at(), 7).await.unwrap().unwrap();
    assert_eq!(price.round_id, U256::MAX);
}

async fn decimals_round_trip_exactly(t: &TestDb) {
    // 28 significant digits (Decimal's limit), trailing zeros, tiny and large values.
    let values = [
        dec!(0),
        dec!(1.50),
        dec!(0.0000000000000000000000000001),
        dec!(7922816251426433759354395033.5),
        dec!(3456.789012345678901234567890),
    ];
    let mut b = batch(5, vec![]);
    b.eth_usd_prices = values
        .iter()
        .enumerate()
        .map(|(i, price)| EthUsdPrice {
            block_number: i as u64 + 1,
            price: *price,
            round_id: U256::from(i),
            updated_at: 0,
        })
        .collect();
    t.db.save_block_batch(at(), &b).await.unwrap();
    for (i, expected) in values.iter().enumerate() {
        let price =
            t.db.eth_usd_price_at(at(), i as u64 + 1)
                .await
                .unwrap()
                .unwrap();
        // Same value and same written form (scale kept: 1.50 stays 1.50).
        assert_eq!(price.price.to_string(), expected.to_string());
    }
    let stored: Vec<_> = values.iter().map(|v| Some(v.to_string())).collect();
    assert_eq!(
        t.texts("SELECT CAST(price AS TEXT) FROM eth_usd_prices ORDER BY block_number")
            .await,
        stored
    );

    let business =
        t.db.insert_business("Acme", Address::repeat_byte(1))
            .await
            .unwrap();
    let invoice =
        t.db.insert_invoice(business.id, &invoice_record("INV-1"))
            .await
            .unwrap();
    assert_eq!(invoice.record.amount.to_string(), "1234.50");
    let score =
        t.db.record_score(&NewScore {
            invoice_id: invoice.id,
            model_version: "v1".to_owned(),
            features: json!({}),
            score: 80,
            probability_of_default: dec!(0.0123456789012345678901234567),
            advance_rate: dec!(0.85),
            fee_rate: dec!(0.0200),
            accepted: true,
            reasons: json!([]),
        })
        .await
        .unwrap();
    let stored = &t.db.scores(invoice.id).await.unwrap()[0];
    assert_eq!(stored, &score);
    assert_eq!(
        stored.decision.probability_of_default.to_string(),
        "0.0123456789012345678901234567"
    );
    assert_eq!(stored.decision.fee_rate.to_string(), "0.0200");
}

async fn save_block_batch_stores_rows_and_moves_checkpoint(t: &TestDb) {
    let first = batch(10, vec![event(10, 1, 0), event(10, 1, 1)]);
    t.db.save_block_batch(at(), &first).await.unwrap();
    let mut second = batch(12, vec![event(12, 2, 0)]);
    second.blocks.insert(
        0,
        BlockRecord {
            number: 11,
            hash: hash(11),
            parent_hash: hash(10),
        },
    );
    t.db.save_block_batch(at(), &second).await.unwrap();

    let checkpoint = t.db.checkpoint(at()).await.unwrap().unwrap();
    assert_eq!(
        (checkpoint.block_number, checkpoint.block_hash),
        (12, Some(hash(12)))
    );
    let events = t.db.events_between(at(), 0, 100).await.unwrap();
    assert_eq!(events, [event(10, 1, 0), event(10, 1, 1), event(12, 2, 0)]);
    assert_eq!(
        t.db.events_between(at(), 11, 12).await.unwrap(),
        [event(12, 2, 0)]
    );
    assert_eq!(t.db.block_hash(at(), 11).await.unwrap(), Some(hash(11)));
    assert_eq!(t.db.block_hash(at(), 13).await.unwrap(), None);
    assert_eq!(
        t.db.eth_usd_price_at(at(), 11)
            .await
            .unwrap()
            .unwrap()
            .block_number,
        10
    );
    assert!(t.db.eth_usd_price_at(at(), 9).await.unwrap().is_none());

    // Another contract on the same chain has its own checkpoint and rows.
    let mut other = at();
    other.contract = Address::repeat_byte(0xbb);
    assert!(t.db.checkpoint(other).await.unwrap().is_none());
    assert!(t.db.events_between(other, 0, 100).await.unwrap().is_empty());

    assert_eq!(t.db.prune_block_hashes(at(), 12).await.unwrap(), 2);
    assert_eq!(t.db.block_hash(at(), 10).await.unwrap(), None);
    assert_eq!(t.db.block_hash(at(), 12).await.unwrap(), Some(hash(12)));
}

async fn save_block_batch_with_duplicate_event_writes_nothing(t: &TestDb) {
    t.db.save_block_batch(at(), &batch(10, vec![event(10, 1, 0)]))
        .await
        .unwrap();
    let before = t.db.checkpoint(at()).await.unwrap();

    // Block 11 with a new event, then the event of block 10 again: the whole batch must fail.
    let mut bad = batch(11, vec![event(11, 2, 0)]);
    bad.events.push(event(10, 1, 0));
    let error = t.db.save_block_batch(at(), &bad).await.unwrap_err();
    assert!(
        matches!(&error, Error::Conflict { what: "vault event", key } if key.contains("log 0")),
        "{error}"
    );
    // A duplicate inside one batch fails the same way.
    let twice = batch(11, vec![event(11, 3, 0), event(11, 3, 0)]);
    assert!(t
        .db
        .save_block_batch(at(), &twice)
        .await
        .unwrap_err()
        .is_conflict());

    assert_eq!(t.db.checkpoint(at()).await.unwrap(), before);
    assert_eq!(
        t.db.events_between(at(), 0, 100).await.unwrap(),
        [event(10, 1, 0)]
    );
    assert_eq!(t.db.block_hash(at(), 11).await.unwrap(), None);
    assert_eq!(t.count("eth_usd_prices").await, 1);
    assert_eq!(t.count("share_price_history").await, 1);

    // The database is still usable: the corrected batch goes through.
    t.db.save_block_batch(at(), &batch(11, vec![event(11, 2, 0)]))
        .await
        .unwrap();
    assert_eq!(
        t.db.checkpoint(at()).await.unwrap().unwrap().block_number,
        11
    );
}

async fn save_block_batch_refuses_to_move_checkpoint_back(t: &TestDb) {
    t.db.save_block_batch(at(), &batch(20, vec![]))
        .await
        .unwrap();
    let error =
        t.db.save_block_batch(at(), &batch(19, vec![event(19, 1, 0)]))
            .await
            .unwrap_err();
    assert!(
        matches!(
            error,
            Error::CheckpointRegression {
                current: 20,
                attempted: 19,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(
        t.db.checkpoint(at()).await.unwrap().unwrap().block_number,
        20
    );
    assert!(t.db.events_between(at(), 0, 100).await.unwrap().is_empty());
    assert_eq!(t.db.block_hash(at(), 19).await.unwrap(), None);
}

async fn save_block_batch_refuses_rows_above_its_checkpoint(t: &TestDb) {
    let mut b = batch(30, vec![event(31, 1, 0)]);
    b.checkpoint_block = 30;
    let error = t.db.save_block_batch(at(), &b).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::InvalidInput {
                what: "block batch",
                ..
            }
        ),
        "{error}"
    );
    assert!(t.db.checkpoint(at()).await.unwrap().is_none());
}

async fn rollback_to_removes_rows_above_block_and_resets_checkpoint(t: &TestDb) {
    for block in 1..=5 {
        t.db.save_block_batch(at(), &batch(block, vec![event(block, block, 0)]))
            .await
            .unwrap();
    }
    let checkpoint = t.db.rollback_to(at(), 3).await.unwrap().unwrap();
    assert_eq!(
        (checkpoint.block_number, checkpoint.block_hash),
        (3, Some(hash(3)))
    );
    assert_eq!(
        t.db.checkpoint(at()).await.unwrap(),
        Some(checkpoint.clone())
    );
    let blocks: Vec<_> =
        t.db.events_between(at(), 0, 100)
            .await
            .unwrap()
            .iter()
            .map(|e| e.block_number)
            .collect();
    assert_eq!(blocks, [1, 2, 3]);
    assert_eq!(t.db.block_hash(at(), 4).await.unwrap(), None);
    assert_eq!(t.db.block_hash(at(), 3).await.unwrap(), Some(hash(3)));
    assert_eq!(
        t.db.eth_usd_price_at(at(), 100)
            .await
            .unwrap()
            .unwrap()
            .block_number,
        3
    );
    assert_eq!(
        t.db.share_prices_between(at(), 0, 100).await.unwrap().len(),
        3
    );

    // Rolling back to a later block does not move the checkpoint forward.
    assert_eq!(t.db.rollback_to(at(), 10).await.unwrap(), Some(checkpoint));
    // The other chain of the reorg replays on top.
    let mut replay = batch(4, vec![event(4, 44, 0)]);
    replay.blocks[0].hash = hash(444);
    replay.checkpoint_hash = hash(444);
    t.db.save_block_batch(at(), &replay).await.unwrap();
    assert_eq!(t.db.block_hash(at(), 4).await.unwrap(), Some(hash(444)));
    assert_eq!(
        t.db.events_between(at(), 4, 4).await.unwrap(),
        [event(4, 44, 0)]
    );
}

async fn rollback_below_window_keeps_block_without_hash(t: &TestDb) {
    t.db.save_block_batch(at(), &batch(50, vec![event(50, 1, 0)]))
        .await
        .unwrap();
    let checkpoint = t.db.rollback_to(at(), 40).await.unwrap();
    assert!(matches!(
        checkpoint,
        Some(Checkpoint {
            block_number: 40,
            block_hash: None,
            ..
        })
    ));
    assert!(t.db.events_between(at(), 0, 100).await.unwrap().is_empty());
    // Never indexed: nothing to roll back, no checkpoint appears.
    let mut other = at();
    other.chain_id = 1;
    assert_eq!(t.db.rollback_to(other, 5).await.unwrap(), None);
}

async fn duplicate_invoice_is_conflict(t: &TestDb) {
    let first =
        t.db.insert_business("First", Address::repeat_byte(1))
            .await
            .unwrap();
    let second =
        t.db.insert_business("Second", Address::repeat_byte(2))
            .await
            .unwrap();
    let record = invoice_record("INV-7");
    let stored = t.db.insert_invoice(first.id, &record).await.unwrap();

    // The same invoice spelled differently, by another business: same canonical id.
    let mut again = record.clone();
    again.debtor_tax_id = "de123456789".to_owned();
    again.invoice_number = " inv-7 ".to_owned();
    again.debtor_name = "ACME".to_owned();
    let error = t.db.insert_invoice(second.id, &again).await.unwrap_err();
    let expected_key = format!("{:#x}", stored.canonical_id);
    assert!(
        matches!(&error, Error::Conflict { what: "invoice", key } if *key == expected_key),
        "{error}"
    );
    assert_eq!(t.count("invoices").await, 1);
}

async fn invoice_round_trips_and_lists_by_business_and_status(t: &TestDb) {
    let a =
        t.db.insert_business("  Alpha Ltd ", Address::repeat_byte(0xab))
            .await
            .unwrap();
    assert_eq!(a.name, "Alpha Ltd");
    assert_eq!(t.db.business(a.id).await.unwrap(), Some(a.clone()));
    let b =
        t.db.insert_business("Beta", Address::repeat_byte(0xbc))
            .await
            .unwrap();
    assert_eq!(
        t.db.list_businesses().await.unwrap(),
        [a.clone(), b.clone()]
    );

    let mut record = invoice_record("A-1");
    record.document_hash = None;
    let one = t.db.insert_invoice(a.id, &record).await.unwrap();
    assert_eq!(one.record, record);
    assert_eq!(one.canonical_id, record.canonical_id().unwrap());
    assert_eq!(one.status, InvoiceStatus::Submitted);
    assert_eq!(one.advance_tx_hash, None);
    assert_eq!(one.created_at, one.updated_at);
    let two =
        t.db.insert_invoice(a.id, &invoice_record("A-2"))
            .await
            .unwrap();
    let three =
        t.db.insert_invoice(b.id, &invoice_record("B-1"))
            .await
            .unwrap();

    assert_eq!(t.db.invoice(one.id).await.unwrap(), Some(one.clone()));
    assert_eq!(
        t.db.invoice_by_canonical_id(two.canonical_id)
            .await
            .unwrap(),
        Some(two.clone())
    );
    assert_eq!(t.db.invoice(9999).await.unwrap(), None);
    let ids = |list: Vec<pipeit_db::Invoice>| list.into_iter().map(|i| i.id).collect::<Vec<_>>();
    assert_eq!(
        ids(t.db.list_invoices(None, None).await.unwrap()),
        [one.id, two.id, three.id]
    );
    assert_eq!(
        ids(t.db.list_invoices(Some(a.id), None).await.unwrap()),
        [one.id, two.id]
    );
    t.db.set_invoice_status(two.id, InvoiceStatus::Withdrawn)
        .await
        .unwrap();
    assert_eq!(
        ids(t
            .db
            .list_invoices(Some(a.id), Some(InvoiceStatus::Submitted))
            .await
            .unwrap()),
        [one.id]
    );
    assert_eq!(
        ids(t
            .db
            .list_invoices(None, Some(InvoiceStatus::Withdrawn))
            .await
            .unwrap()),
        [two.id]
    );
}

async fn invoice_for_unknown_business_is_not_found(t: &TestDb) {
    let error =
        t.db.insert_invoice(404, &invoice_record("X"))
            .await
            .unwrap_err();
    assert!(
        matches!(
            error,
            Error::NotFound {
                what: "business",
                ..
            }
        ),
        "{error}"
    );
    let mut invalid = invoice_record("X");
    invalid.debtor_country = "XX".to_owned();
    let business = t.db.insert_business("Acme", Address::ZERO).await.unwrap();
    let error =
        t.db.insert_invoice(business.id, &invalid)
            .await
            .unwrap_err();
    assert!(matches!(error, Error::Invoice(_)), "{error}");
    assert_eq!(t.count("invoices").await, 0);
}

async fn invoice_status_follows_life_cycle(t: &TestDb) {
    let business =
        t.db.insert_business("Acme", Address::repeat_byte(1))
            .await
            .unwrap();
    let invoice =
        t.db.insert_invoice(business.id, &invoice_record("L-1"))
            .await
            .unwrap();

    // Not advanced before scoring, and never without its transaction.
    let error =
        t.db.mark_invoice_advanced(invoice.id, hash(1))
            .await
            .unwrap_err();
    assert!(
        matches!(&error, Error::InvalidTransition { from, to, .. } if from == "submitted" && to == "advanced"),
        "{error}"
    );
    let error =
        t.db.set_invoice_status(invoice.id, InvoiceStatus::Advanced)
            .await
            .unwrap_err();
    assert!(matches!(error, Error::InvalidInput { .. }), "{error}");

    let scored =
        t.db.set_invoice_status(invoice.id, InvoiceStatus::Scored)
            .await
            .unwrap();
    assert_eq!(scored.status, InvoiceStatus::Scored);
    assert!(scored.updated_at >= invoice.updated_at);
    let advanced =
        t.db.mark_invoice_advanced(invoice.id, hash(77))
            .await
            .unwrap();
    assert_eq!(
        (advanced.status, advanced.advance_tx_hash),
        (InvoiceStatus::Advanced, Some(hash(77)))
    );
    let overdue =
        t.db.set_invoice_status(invoice.id, InvoiceStatus::Overdue)
            .await
            .unwrap();
    assert_eq!(
        overdue.advance_tx_hash,
        Some(hash(77)),
        "the advance stays recorded"
    );
    t.db.set_invoice_status(invoice.id, InvoiceStatus::WrittenOff)
        .await
        .unwrap();
    assert!(InvoiceStatus::WrittenOff.is_final());
    let error =
        t.db.set_invoice_status(invoice.id, InvoiceStatus::Repaid)
            .await
            .unwrap_err();
    assert!(matches!(error, Error::InvalidTransition { .. }), "{error}");
    assert_eq!(
        t.db.invoice(invoice.id).await.unwrap().unwrap().status,
        InvoiceStatus::WrittenOff
    );
    let error =
        t.db.set_invoice_status(12345, InvoiceStatus::Scored)
            .await
            .unwrap_err();
    assert!(
        matches!(
            error,
            Error::NotFound {
                what: "invoice",
                ..
            }
        ),
        "{error}"
    );
}

async fn record_score_moves_invoice_in_the_same_transaction(t: &TestDb) {
    let business =
        t.db.insert_business("Acme", Address::repeat_byte(1))
            .await
            .unwrap();
    let accepted =
        t.db.insert_invoice(business.id, &invoice_record("S-1"))
            .await
            .unwrap();
    let declined =
        t.db.insert_invoice(business.id, &invoice_record("S-2"))
            .await
            .unwrap();
    let decision = |invoice_id: i64, accepted: bool| NewScore {
        invoice_id,
        model_version: "logit-2026.1".to_owned(),
        features: json!({ "days_to_due": 60, "debtor_history": { "paid_on_time": 3 } }),
        score: if accepted { 82 } else { 31 },
        probability_of_default: if accepted { dec!(0.031) } else { dec!(0.4) },
        advance_rate: if accepted { dec!(0.85) } else { Decimal::ZERO },
        fee_rate: dec!(0.021),
        accepted,
        reasons: json!(["debtor paid 3 of 3 invoices on time"]),
    };

    let score =
        t.db.record_score(&decision(accepted.id, true))
            .await
            .unwrap();
    assert_eq!(score.decision, decision(accepted.id, true));
    assert_eq!(
        t.db.invoice(accepted.id).await.unwrap().unwrap().status,
        InvoiceStatus::Scored
    );
    t.db.record_score(&decision(declined.id, false))
        .await
        .unwrap();
    assert_eq!(
        t.db.invoice(declined.id).await.unwrap().unwrap().status,
        InvoiceStatus::Declined
    );

    // Rescoring a scored invoice adds a score; an advanced one cannot be rescored.
    t.db.record_score(&decision(accepted.id, true))
        .await
        .unwrap();
    assert_eq!(t.db.scores(accepted.id).await.unwrap().len(), 2);
    t.db.mark_invoice_advanced(accepted.id, hash(5))
        .await
        .unwrap();
    let error =
        t.db.record_score(&decision(accepted.id, true))
            .await
            .unwrap_err();
    assert!(matches!(error, Error::InvalidTransition { .. }), "{error}");
    assert_eq!(
        t.db.scores(accepted.id).await.unwrap().len(),
        2,
        "no score row left behind"
    );

    let mut out_of_range = decision(declined.id, true);
    out_of_range.score = 101;
    assert!(matches!(
        t.db.record_score(&out_of_range).await.unwrap_err(),
        Error::InvalidInput { what: "score", .. }
    ));
    assert_eq!(t.count("scores").await, 3);
}

async fn outbox_lifecycle(t: &TestDb) {
    let payload =
        json!({ "invoice_id": format!("{:#x}", hash(9)), "principal": "1000000000000000000" });
    let entry =
        t.db.outbox_insert("advance", "advance:9", &payload)
            .await
            .unwrap();
    assert_eq!(
        (
            entry.status,
            entry.nonce,
            entry.tx_hash,
            entry.payload.clone()
        ),
        (OutboxStatus::Pending, None, None, payload.clone())
    );
    assert_eq!(
        t.db.outbox_pending().await.unwrap(),
        std::slice::from_ref(&entry)
    );

    // The same intent cannot be queued twice while it is live.
    let error =
        t.db.outbox_insert("advance", "advance:9", &payload)
            .await
            .unwrap_err();
    assert!(
        matches!(&error, Error::Conflict { key, .. } if key == "advance:9"),
        "{error}"
    );

    let sent = t.db.outbox_mark_sent(entry.id, 7, hash(100)).await.unwrap();
    assert_eq!(
        (sent.status, sent.nonce, sent.tx_hash),
        (OutboxStatus::Sent, Some(7), Some(hash(100)))
    );
    assert!(t.db.outbox_pending().await.unwrap().is_empty());
    // A fee bump re-sends with the same nonce and a new hash.
    let bumped = t.db.outbox_mark_sent(entry.id, 7, hash(101)).await.unwrap();
    assert_eq!(bumped.tx_hash, Some(hash(101)));
    assert_eq!(
        t.db.outbox_list(OutboxStatus::Sent).await.unwrap(),
        std::slice::from_ref(&bumped)
    );
    let mined = t.db.outbox_mark_mined(entry.id).await.unwrap();
    assert_eq!(mined.status, OutboxStatus::Mined);
    let error = t.db.outbox_mark_failed(entry.id, "Late").await.unwrap_err();
    assert!(
        matches!(&error, Error::InvalidTransition { from, to, .. } if from == "mined" && to == "failed"),
        "{error}"
    );
    // Mined: still blocks the intent for good.
    assert!(t
        .db
        .outbox_insert("advance", "advance:9", &payload)
        .await
        .unwrap_err()
        .is_conflict());

    // A failure frees the intent for a retry.
    let other =
        t.db.outbox_insert("write_off", "write_off:3", &json!({}))
            .await
            .unwrap();
    let failed =
        t.db.outbox_mark_failed(other.id, "UtilisationCapExceeded")
            .await
            .unwrap();
    assert_eq!(
        (failed.status, failed.error_name.as_deref()),
        (OutboxStatus::Failed, Some("UtilisationCapExceeded"))
    );
    let retry =
        t.db.outbox_insert("write_off", "write_off:3", &json!({}))
            .await
            .unwrap();
    t.db.outbox_mark_sent(retry.id, 8, hash(102)).await.unwrap();
    let replaced = t.db.outbox_mark_replaced(retry.id).await.unwrap();
    assert_eq!(replaced.status, OutboxStatus::Replaced);
    assert_eq!(t.db.outbox_entry(retry.id).await.unwrap(), Some(replaced));
    assert!(matches!(
        t.db.outbox_mark_mined(999).await.unwrap_err(),
        Error::NotFound {
            what: "outbox entry",
            ..
        }
    ));
}

async fn api_keys_are_found_by_prefix_and_revocable(t: &TestDb) {
    let business =
        t.db.insert_business("Acme", Address::repeat_byte(1))
            .await
            .unwrap();
    let key =
        t.db.insert_api_key(business.id, "pk_abc123", "argon2:hash")
            .await
            .unwrap();
    assert_eq!((key.last_used_at, key.revoked_at), (None, None));
    assert_eq!(
        t.db.api_key_by_prefix("pk_abc123").await.unwrap(),
        Some(key.clone())
    );
    assert_eq!(t.db.api_key_by_prefix("pk_nope").await.unwrap(), None);
    assert!(t
        .db
        .insert_api_key(business.id, "pk_abc123", "other")
        .await
        .unwrap_err()
        .is_conflict());
    assert!(matches!(
        t.db.insert_api_key(404, "pk_x", "h").await.unwrap_err(),
        Error::NotFound {
            what: "business",
            ..
        }
    ));
    t.db.touch_api_key(key.id).await.unwrap();
    let revoked = t.db.revoke_api_key(key.id).await.unwrap();
    assert!(revoked.last_used_at.is_some());
    let first_revocation = revoked.revoked_at.expect("revoked");
    let again = t.db.revoke_api_key(key.id).await.unwrap();
    assert_eq!(
        again.revoked_at,
        Some(first_revocation),
        "revoking twice keeps the first time"
    );
}

async fn newer_schema_is_refused_with_typed_error(t: &TestDb) {
    let future = Db::latest_migration() + 1;
    t.fake_applied_migration(future).await;
    let error = Db::connect(&t.url).await.unwrap_err();
    match &error {
        Error::SchemaTooNew {
            found,
            latest_known,
            ..
        } => assert_eq!((*found, *latest_known), (future, Db::latest_migration())),
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    let message = error.to_string();
    assert!(message.contains("newer pipeit"), "{message}");
    assert!(
        message.contains("upgrade pipeit or point PIPEIT_DATABASE_URL at another database"),
        "{message}"
    );
}

async fn reconnect_to_migrated_database_is_a_no_op(t: &TestDb) {
    let business =
        t.db.insert_business("Kept", Address::repeat_byte(3))
            .await
            .unwrap();
    let again = Db::connect(&t.url).await.unwrap();
    assert_eq!(again.business(business.id).await.unwrap(), Some(business));
    assert_eq!(t.count("_sqlx_migrations").await, Db::latest_migration());
    again.close().await;
}

#[tokio::test]
async fn malformed_url_names_the_expected_forms() {
    for url in [
        "",
        "pipeit.db",
        "mysql://root@localhost/pipeit",
        "http://example.com",
        "sqlite://",
        "postgres://user@host:notaport/db",
    ] {
        let error = Db::connect(url).await.unwrap_err();
        assert!(
            matches!(error, Error::InvalidUrl { .. }),
            "{url:?}: {error:?}"
        );
        let message = error.to_string();
        assert!(
            message.contains("expected sqlite://") && message.contains("postgres://"),
            "{url:?}: {message}"
        );
    }
}

#[tokio::test]
async fn malformed_url_hides_the_password() {
    let error = Db::connect("postgres://app:hunter2@db:port/pipeit")
        .await
        .unwrap_err();
    assert!(!error.to_string().contains("hunter2"), "{error}");
}

#[tokio::test]
async fn in_memory_sqlite_keeps_its_data_across_queries() {
    let db = Db::connect("sqlite::memory:").await.unwrap();
    let business = db
        .insert_business("Memory", Address::repeat_byte(9))
        .await
        .unwrap();
    for _ in 0..3 {
        assert_eq!(
            db.business(business.id).await.unwrap().as_ref(),
            Some(&business)
        );
    }
}

#[tokio::test]
async fn sqlite_creates_missing_parent_directories() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/deeper/pipeit.db");
    let db = Db::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    db.close().await;
    assert!(path.exists());
}

#[tokio::test]
async fn unreachable_postgres_is_a_connect_error_naming_the_url() {
    // Port 1 on localhost: nothing listens there.
    let error = Db::connect("postgres://app:secret@127.0.0.1:1/pipeit")
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, Error::Connect { .. }), "{error:?}");
    assert!(
        message.contains("postgres://app:***@127.0.0.1:1/pipeit"),
        "{message}"
    );
}
