//! The keeper on Anvil with the real contracts and a real database (SQLite and PostgreSQL):
//! invoices stored as the API stores them → scored → advanced in one batch → repaid (share price
//! up) / overdue → written off (share price down); a queued redemption filled after a repayment;
//! the default teaching the next score; a stale oracle blocking advances; one keeper at a time;
//! a reverted transaction recorded with its error name.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use alloy::primitives::{Address, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use chrono::{DateTime, Days, NaiveDate, Utc};
use pipeit_chain::bindings::DevPriceFeed;
use pipeit_core::{Currency, InvoiceRecord};
use pipeit_db::keeper::Outcome;
use pipeit_db::{Db, InvoiceStatus, OutboxStatus};
use pipeit_keeper::{Keeper, KeeperConfig, SignalsConfig};
use pipeit_testkit::{send, TestStack};
use rust_decimal::Decimal;

const ETH: u128 = 1_000_000_000_000_000_000;

fn keeper_key(stack: &TestStack) -> PrivateKeySigner {
    stack
        .anvil
        .keys()
        .iter()
        .map(|k| PrivateKeySigner::from(k.clone()))
        .find(|s| s.address() == stack.keeper)
        .expect("the keeper role is an anvil account")
}

fn config(stack: &TestStack, signal_file: &std::path::Path) -> KeeperConfig {
    let mut c = KeeperConfig::new(
        stack.rpc_url.clone(),
        stack.db_url.clone(),
        stack.manifest.clone(),
        keeper_key(stack),
    );
    c.indexer.confirmations = 0;
    c.receipt_timeout = Duration::from_secs(10);
    c.signals = SignalsConfig::File(signal_file.to_path_buf());
    c.rebalance = None;
    c
}

fn write_signal(path: &std::path::Path, as_of: DateTime<Utc>, risk: &str) {
    std::fs::write(
        path,
        format!(
            r#"{{"as_of": "{}", "risk": "{risk}", "trend": "0", "summary": "test desk"}}"#,
            as_of.to_rfc3339()
        ),
    )
    .unwrap();
}

async fn chain_today(stack: &TestStack) -> (DateTime<Utc>, NaiveDate) {
    let now = DateTime::from_timestamp(stack.timestamp().await as i64, 0).unwrap();
    (now, now.date_naive())
}

fn invoice(
    debtor: &str,
    number: &str,
    usd: i64,
    issued: NaiveDate,
    due: NaiveDate,
) -> InvoiceRecord {
    InvoiceRecord {
        debtor_name: format!("{debtor} Ltd"),
        debtor_tax_id: format!("GB{debtor}"),
        debtor_country: "GB".into(),
        invoice_number: number.into(),
        currency: Currency::Usd,
        amount: Decimal::from(usd),
        issue_date: issued,
        due_date: due,
        document_hash: None,
    }
}

/// `totalAssets * 1e18 / totalSupply`.
async fn share_price(stack: &TestStack) -> U256 {
    let v = stack.vault();
    let assets = v.totalAssets().call().await.unwrap();
    let supply = v.totalSupply().call().await.unwrap();
    assets * U256::from(ETH) / supply
}

async fn refresh_feed(stack: &TestStack) {
    let feed = DevPriceFeed::new(
        stack.manifest.contracts.eth_usd_feed,
        stack.provider.clone(),
    );
    let answer = feed.latestAnswer().call().await.unwrap();
    send("setAnswer", feed.setAnswer(answer).from(stack.admin)).await;
}

async fn status(db: &Db, id: i64) -> InvoiceStatus {
    db.invoice(id).await.unwrap().unwrap().status
}

async fn lifecycle(stack: TestStack) {
    let dir = tempfile::tempdir().unwrap();
    let signal = dir.path().join("signal.json");
    let (now, today) = chain_today(&stack).await;
    write_signal(&signal, now, "0.1");
    let db = stack.db.clone();
    let investor = stack.investors[0];
    stack.deposit(investor, U256::from(30 * ETH)).await;

    let business = db
        .insert_business("Acme", stack.businesses[0])
        .await
        .unwrap();
    let issued = today - Days::new(5);
    let due = today + Days::new(30);
    let a = db
        .insert_invoice(business.id, &invoice("111", "A-1", 45_000, issued, due))
        .await
        .unwrap();
    let b = db
        .insert_invoice(business.id, &invoice("222", "B-1", 22_500, issued, due))
        .await
        .unwrap();

    let mut keeper = Keeper::start_with_db(config(&stack, &signal), db.clone())
        .await
        .unwrap();
    // A second keeper on the same database stands by.
    let second = Keeper::start_with_db(config(&stack, &signal), db.clone()).await;
    assert!(
        matches!(second, Err(pipeit_keeper::Error::NotLeader)),
        "{second:?}"
    );

    let payout_before = stack.provider.get_balance_of(stack.businesses[0]).await;
    let report = keeper.tick().await.unwrap();
    assert_eq!((report.accepted, report.declined), (2, 0), "{report:?}");
    assert_eq!(
        report.advance_batches, 1,
        "both in one transaction: {report:?}"
    );
    assert_eq!(report.invoices_advanced, 2, "{report:?}");
    assert_eq!(status(&db, a.id).await, InvoiceStatus::Advanced);
    assert_eq!(status(&db, b.id).await, InvoiceStatus::Advanced);
    let scores = db.scores(a.id).await.unwrap();
    assert!(scores[0].decision.accepted);
    assert!(scores[0].decision.advance_rate >= Decimal::new(70, 2));
    // The business received the advances.
    let payout_after = stack.provider.get_balance_of(stack.businesses[0]).await;
    let principal_a = stack
        .vault()
        .invoice(a.canonical_id)
        .call()
        .await
        .unwrap()
        .principal;
    let principal_b = stack
        .vault()
        .invoice(b.canonical_id)
        .call()
        .await
        .unwrap()
        .principal;
    assert_eq!(
        payout_after - payout_before,
        U256::from(principal_a + principal_b)
    );
    let mined = db.outbox_list(OutboxStatus::Mined).await.unwrap();
    assert_eq!(mined.len(), 1);
    assert_eq!(
        db.invoice(a.id).await.unwrap().unwrap().advance_tx_hash,
        mined[0].tx_hash
    );

    // A redemption larger than what is idle: the queue fills what it can now, the rest later.
    let shares = stack.vault().balanceOf(investor).call().await.unwrap();
    let request = stack
        .request_redeem(investor, shares * U256::from(2) / U256::from(3))
        .await;
    keeper.tick().await.unwrap();
    let r = stack.vault().redeemRequest(request).call().await.unwrap();
    assert!(r.sharesPending > 0, "not enough idle to fill it all yet");
    let price_at_advance = share_price(&stack).await;

    // A is repaid after 10 days; the keeper records it, and the queue is filled.
    stack.increase_time(10 * 86_400).await;
    refresh_feed(&stack).await;
    let owed = stack.amount_owed(a.canonical_id).await;
    stack.repay(stack.businesses[0], a.canonical_id, owed).await;
    let report = keeper.tick().await.unwrap();
    assert_eq!(report.repaid, 1, "{report:?}");
    assert!(report.queue_processed, "{report:?}");
    assert_eq!(status(&db, a.id).await, InvoiceStatus::Repaid);
    assert_eq!(
        db.outcome(a.id).await.unwrap().unwrap().outcome,
        Outcome::OnTime
    );
    let r = stack.vault().redeemRequest(request).call().await.unwrap();
    assert_eq!(r.sharesPending, 0, "filled after the repayment");
    assert!(r.assetsClaimable > 0);
    let price_after_repay = share_price(&stack).await;
    assert!(
        price_after_repay > price_at_advance,
        "fee income: {price_at_advance} -> {price_after_repay}"
    );

    // B is never paid: overdue, then written off after the grace period (15 days).
    stack.increase_time(21 * 86_400 + 3_600).await;
    refresh_feed(&stack).await;
    let report = keeper.tick().await.unwrap();
    assert_eq!(report.overdue, 1, "{report:?}");
    assert_eq!(
        report.write_offs_sent, 0,
        "grace period not over: {report:?}"
    );
    assert_eq!(status(&db, b.id).await, InvoiceStatus::Overdue);
    stack.increase_time(16 * 86_400).await;
    refresh_feed(&stack).await;
    let price_before_loss = share_price(&stack).await;
    let report = keeper.tick().await.unwrap();
    assert_eq!(report.write_offs_sent, 1, "{report:?}");
    let report = keeper.tick().await.unwrap();
    assert_eq!(report.written_off, 1, "{report:?}");
    assert_eq!(status(&db, b.id).await, InvoiceStatus::WrittenOff);
    let outcome = db.outcome(b.id).await.unwrap().unwrap();
    assert_eq!(outcome.outcome, Outcome::Defaulted);
    assert!(outcome.days_late >= 15);
    let price_after_loss = share_price(&stack).await;
    assert!(
        price_after_loss < price_before_loss,
        "loss: {price_before_loss} -> {price_after_loss}"
    );

    // What the default taught: a new invoice on the same debtor is not accepted automatically.
    let (now, today) = chain_today(&stack).await;
    write_signal(&signal, now, "0.1");
    let c = db
        .insert_invoice(
            business.id,
            &invoice(
                "222",
                "B-2",
                10_000,
                today - Days::new(1),
                today + Days::new(20),
            ),
        )
        .await
        .unwrap();
    let report = keeper.tick().await.unwrap();
    assert_eq!(report.accepted, 0, "{report:?}");
    let reviewed = db.open_manual_reviews().await.unwrap().contains(&c.id);
    let declined = status(&db, c.id).await == InvoiceStatus::Declined;
    assert!(reviewed || declined, "{report:?}");
    if declined {
        let reasons = db.scores(c.id).await.unwrap()[0]
            .decision
            .reasons
            .to_string();
        assert!(reasons.contains("debtor_defaulted"), "{reasons}");
    }
}

#[tokio::test]
async fn lifecycle_on_sqlite() {
    lifecycle(TestStack::start().await).await;
}

#[tokio::test]
async fn lifecycle_on_postgres() {
    if let Some(stack) = TestStack::start_postgres().await {
        lifecycle(stack).await;
    }
}

#[tokio::test]
async fn stale_oracle_blocks_advances_with_a_reason() {
    let stack = TestStack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let signal = dir.path().join("signal.json");
    let (now, today) = chain_today(&stack).await;
    write_signal(&signal, now, "0.2");
    stack
        .deposit(stack.investors[0], U256::from(30 * ETH))
        .await;
    let business = stack
        .db
        .insert_business("Acme", stack.businesses[0])
        .await
        .unwrap();
    let inv = stack
        .db
        .insert_invoice(
            business.id,
            &invoice(
                "333",
                "S-1",
                9_000,
                today - Days::new(2),
                today + Days::new(40),
            ),
        )
        .await
        .unwrap();
    // Three days later the feed (max age 2 days) is stale.
    stack.increase_time(3 * 86_400).await;
    stack.mine(1).await;
    let mut keeper = Keeper::start_with_db(config(&stack, &signal), stack.db.clone())
        .await
        .unwrap();
    let report = keeper.tick().await.unwrap();
    let blocked = report.blocked.clone().expect("blocked");
    assert!(blocked.contains("StalePrice"), "{blocked}");
    assert_eq!(report.invoices_sent, 0);
    assert_eq!(status(&stack.db, inv.id).await, InvoiceStatus::Submitted);
    // Fresh again: it goes through.
    refresh_feed(&stack).await;
    let report = keeper.tick().await.unwrap();
    assert!(report.blocked.is_none(), "{report:?}");
    assert_eq!(status(&stack.db, inv.id).await, InvoiceStatus::Advanced);
}

#[tokio::test]
async fn reverted_advance_is_recorded_with_its_error_name() {
    let stack = TestStack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let signal = dir.path().join("signal.json");
    let (now, today) = chain_today(&stack).await;
    write_signal(&signal, now, "0.2");
    // 3 ETH in the vault, an invoice needing ~6 ETH: the vault refuses for liquidity.
    stack.deposit(stack.investors[0], U256::from(3 * ETH)).await;
    let business = stack
        .db
        .insert_business("Acme", stack.businesses[0])
        .await
        .unwrap();
    let inv = stack
        .db
        .insert_invoice(
            business.id,
            &invoice(
                "444",
                "R-1",
                24_000,
                today - Days::new(2),
                today + Days::new(40),
            ),
        )
        .await
        .unwrap();
    // Without simulation the transaction is mined and reverts; the receipt is decoded.
    let mut c = config(&stack, &signal);
    c.exec.simulate = false;
    let mut keeper = Keeper::start_with_db(c, stack.db.clone()).await.unwrap();
    let report = keeper.tick().await.unwrap();
    assert_eq!(report.reverts, ["InsufficientLiquidity"], "{report:?}");
    let failed = stack.db.outbox_list(OutboxStatus::Failed).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0].error_name.as_deref(),
        Some("InsufficientLiquidity")
    );
    let receipt = stack
        .provider
        .get_transaction_receipt_of(failed[0].tx_hash.unwrap())
        .await;
    assert!(!receipt, "mined and reverted on-chain");
    assert_eq!(
        status(&stack.db, inv.id).await,
        InvoiceStatus::Scored,
        "not lost: retried later"
    );
    drop(keeper);

    // With simulation the same refusal is recorded without spending gas.
    let mut keeper = Keeper::start_with_db(config(&stack, &signal), stack.db.clone())
        .await
        .unwrap();
    let report = keeper.tick().await.unwrap();
    assert_eq!(report.reverts, ["InsufficientLiquidity"], "{report:?}");
    let failed = stack.db.outbox_list(OutboxStatus::Failed).await.unwrap();
    assert_eq!(failed.len(), 2);
    assert!(
        failed[1].tx_hash.is_none(),
        "refused at simulation: nothing sent"
    );
}

/// Small helpers on the stack's provider.
trait ProviderExt {
    async fn get_balance_of(&self, who: Address) -> U256;
    async fn get_transaction_receipt_of(&self, hash: B256) -> bool;
}

impl ProviderExt for alloy::providers::DynProvider {
    async fn get_balance_of(&self, who: Address) -> U256 {
        use alloy::providers::Provider;
        self.get_balance(who).await.unwrap()
    }

    async fn get_transaction_receipt_of(&self, hash: B256) -> bool {
        use alloy::providers::Provider;
        self.get_transaction_receipt(hash)
            .await
            .unwrap()
            .expect("a receipt")
            .status()
    }
}
