//! The fixture itself: a deployed devnet, working helpers, chain control.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy::primitives::{utils::parse_ether, U256};
use alloy::providers::Provider;
use pipeit_testkit::TestStack;

#[tokio::test]
async fn stack_deploys_the_devnet_and_the_helpers_move_money() {
    let s = TestStack::start().await;
    assert_eq!(s.manifest.chain_id, 8453);
    assert_eq!(s.provider.get_chain_id().await.unwrap(), 8453);
    let code = s
        .provider
        .get_code_at(s.manifest.contracts.vault)
        .await
        .unwrap();
    assert!(!code.is_empty(), "the vault has code");
    assert_eq!(s.investors.len(), 3);
    assert_eq!(s.businesses.len(), 3);
    let vault = s.vault();

    let investor = s.investors[0];
    let shares = s.deposit(investor, parse_ether("10").unwrap()).await;
    assert!(shares > U256::ZERO);
    assert_eq!(vault.balanceOf(investor).call().await.unwrap(), shares);
    assert_eq!(
        vault.totalAssets().call().await.unwrap(),
        parse_ether("10").unwrap()
    );

    let business = s.businesses[0];
    let before = s.provider.get_balance(business).await.unwrap();
    let id = s
        .advance(
            business,
            parse_ether("2").unwrap(),
            parse_ether("0.1").unwrap(),
            30,
        )
        .await;
    let after = s.provider.get_balance(business).await.unwrap();
    assert_eq!(
        after - before,
        parse_ether("2").unwrap(),
        "the business got the principal"
    );

    let owed = s.amount_owed(id).await;
    assert!(owed >= parse_ether("2").unwrap());
    s.repay(business, id, owed + parse_ether("0.01").unwrap())
        .await;
    assert_eq!(s.amount_owed(id).await, U256::ZERO);

    // Queue: request, fill, claim.
    let request = s.request_redeem(investor, shares / U256::from(2)).await;
    s.process_queue(10).await;
    let eth_before = s.provider.get_balance(investor).await.unwrap();
    s.claim(investor, request, true).await;
    assert!(s.provider.get_balance(investor).await.unwrap() > eth_before);
}

#[tokio::test]
async fn stack_mines_snapshots_reverts_and_reorgs() {
    let s = TestStack::start().await;
    let start = s.block_number().await;
    s.mine(5).await;
    assert_eq!(s.block_number().await, start + 5);

    let snap = s.snapshot().await;
    let hash_before = s
        .provider
        .get_block_by_number(start.into())
        .await
        .unwrap()
        .unwrap()
        .header
        .hash;
    s.mine(3).await;
    s.revert(snap).await;
    assert_eq!(s.block_number().await, start + 5);

    let tip = s.block_number().await;
    let tip_hash = s
        .provider
        .get_block_by_number(tip.into())
        .await
        .unwrap()
        .unwrap()
        .header
        .hash;
    s.reorg(2).await;
    assert_eq!(s.block_number().await, tip);
    let new_tip_hash = s
        .provider
        .get_block_by_number(tip.into())
        .await
        .unwrap()
        .unwrap()
        .header
        .hash;
    assert_ne!(tip_hash, new_tip_hash, "anvil_reorg replaced the tip");
    let same = s
        .provider
        .get_block_by_number(start.into())
        .await
        .unwrap()
        .unwrap()
        .header
        .hash;
    assert_eq!(hash_before, same, "blocks below the reorg stay");
}

#[tokio::test]
async fn stack_on_postgres_gets_a_fresh_database() {
    let Some(s) = TestStack::start_postgres().await else {
        return;
    };
    assert_eq!(s.db.backend(), pipeit_testkit::pipeit_db::Backend::Postgres);
    assert!(s.db.checkpoint(s.chain_contract()).await.unwrap().is_none());
}
