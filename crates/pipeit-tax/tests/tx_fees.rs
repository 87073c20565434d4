//! The gas rows the indexer stores (migration 0003) move with the block batch: stored in its
//! transaction, replaced when the same transaction is stored again, rolled back with a reorg,
//! and refused above the batch's checkpoint. SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use alloy_primitives::{B256, U256};
use common::*;
use pipeit_db::{BlockBatch, BlockRecord, Db, TxFee};

fn batch(block: u64) -> BlockBatch {
    BlockBatch {
        blocks: vec![BlockRecord {
            number: block,
            hash: B256::repeat_byte(block as u8),
            parent_hash: B256::repeat_byte(block as u8 - 1),
        }],
        events: Vec::new(),
        eth_usd_prices: Vec::new(),
        share_prices: Vec::new(),
        checkpoint_block: block,
        checkpoint_hash: B256::repeat_byte(block as u8),
    }
}

fn fee(block: u64, tx: u8, gas: u64) -> TxFee {
    TxFee {
        tx_hash: B256::repeat_byte(tx),
        block_number: block,
        from: ME,
        gas_used: U256::from(gas),
        effective_gas_price: U256::from(1_000_000_000u64),
    }
}

async fn fees_follow_the_batch(db: &Db) {
    db.save_block_batch_with_fees(at(), &batch(4), &[fee(4, 0x44, 21_000)])
        .await
        .unwrap();
    db.save_block_batch_with_fees(at(), &batch(5), &[fee(5, 0x55, 50_000)])
        .await
        .unwrap();
    let stored = db
        .tx_fee(at(), B256::repeat_byte(0x55))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, fee(5, 0x55, 50_000));
    assert_eq!(stored.fee_wei(), U256::from(50_000u64 * 1_000_000_000));

    // A reorg back to block 4 drops block 5's fee and keeps block 4's.
    db.rollback_to(at(), 4).await.unwrap();
    assert_eq!(
        db.tx_fee(at(), B256::repeat_byte(0x55)).await.unwrap(),
        None
    );
    assert!(db
        .tx_fee(at(), B256::repeat_byte(0x44))
        .await
        .unwrap()
        .is_some());

    // Replayed, the same transaction mined again (new block, new gas) replaces the old row.
    db.save_block_batch_with_fees(at(), &batch(5), &[fee(5, 0x44, 30_000)])
        .await
        .unwrap();
    assert_eq!(
        db.tx_fee(at(), B256::repeat_byte(0x44)).await.unwrap(),
        Some(fee(5, 0x44, 30_000))
    );

    // A fee above the checkpoint is refused and nothing of the batch is written.
    let err = db
        .save_block_batch_with_fees(at(), &batch(6), &[fee(7, 0x77, 1)])
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("above the batch's checkpoint"),
        "{err}"
    );
    assert_eq!(db.checkpoint(at()).await.unwrap().unwrap().block_number, 5);
}

#[tokio::test]
async fn fees_follow_the_batch_sqlite() {
    let (db, _dir) = sqlite().await;
    fees_follow_the_batch(&db).await;
}

#[tokio::test]
async fn fees_follow_the_batch_postgres() {
    let Some((db, _scratch)) = postgres().await else {
        return;
    };
    fees_follow_the_batch(&db).await;
}
