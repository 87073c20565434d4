//! The keeper against chain conditions on Anvil: the L2 sequencer down (no advance, a clear reason),
//! a transaction stuck below the base fee (fees bumped, the replacement mined and recorded), and
//! rebalancing idle capital from the signal within the vault's caps (decisions stored with reasons).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use alloy::primitives::U256;
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use chrono::{DateTime, Days, Utc};
use pipeit_chain::bindings::{DevPriceFeed, ERC4626Strategy, UniswapV3SwapStrategy};
use pipeit_core::rebalance::RebalancePolicy;
use pipeit_core::{Currency, InvoiceRecord};
use pipeit_db::{InvoiceStatus, OutboxStatus};
use pipeit_keeper::{Keeper, KeeperConfig, SignalsConfig};
use pipeit_testkit::{send, TestStack};
use rust_decimal::Decimal;

const ETH: u128 = 1_000_000_000_000_000_000;

fn config(stack: &TestStack, signal: &std::path::Path) -> KeeperConfig {
    let key = stack
        .anvil
        .keys()
        .iter()
        .map(|k| PrivateKeySigner::from(k.clone()))
        .find(|s| s.address() == stack.keeper)
        .unwrap();
    let mut c = KeeperConfig::new(
        stack.rpc_url.clone(),
        stack.db_url.clone(),
        stack.manifest.clone(),
        key,
    );
    c.indexer.confirmations = 0;
    c.receipt_timeout = Duration::from_secs(5);
    c.signals = SignalsConfig::File(signal.to_path_buf());
    c.rebalance = None;
    c
}

async fn now(stack: &TestStack) -> DateTime<Utc> {
    DateTime::from_timestamp(stack.timestamp().await as i64, 0).unwrap()
}

fn write_signal(path: &std::path::Path, as_of: DateTime<Utc>, risk: &str, trend: &str) {
    std::fs::write(
        path,
        format!(
            r#"{{"as_of": "{}", "risk": "{risk}", "trend": "{trend}"}}"#,
            as_of.to_rfc3339()
        ),
    )
    .unwrap();
}

async fn one_invoice(stack: &TestStack, number: &str) -> i64 {
    let today = now(stack).await.date_naive();
    let business = stack
        .db
        .insert_business("Acme", stack.businesses[0])
        .await
        .unwrap();
    let record = InvoiceRecord {
        debtor_name: "Debtor".into(),
        debtor_tax_id: format!("GB{number}"),
        debtor_country: "GB".into(),
        invoice_number: number.into(),
        currency: Currency::Usd,
        amount: Decimal::from(6_000),
        issue_date: today - Days::new(1),
        due_date: today + Days::new(30),
        document_hash: None,
    };
    stack
        .db
        .insert_invoice(business.id, &record)
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn sequencer_down_blocks_advances_with_a_reason() {
    let stack = TestStack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let signal = dir.path().join("s.json");
    write_signal(&signal, now(&stack).await, "0.2", "0");
    stack
        .deposit(stack.investors[0], U256::from(20 * ETH))
        .await;
    let id = one_invoice(&stack, "SEQ1").await;
    let feed = DevPriceFeed::new(
        stack.manifest.contracts.sequencer_uptime_feed,
        stack.provider.clone(),
    );
    send(
        "sequencer down",
        feed.setAnswer(alloy::primitives::I256::ONE)
            .from(stack.admin),
    )
    .await;
    let mut keeper = Keeper::start_with_db(config(&stack, &signal), stack.db.clone())
        .await
        .unwrap();
    let report = keeper.tick().await.unwrap();
    assert!(
        report.blocked.as_deref().unwrap().contains("SequencerDown"),
        "{report:?}"
    );
    assert_eq!(report.invoices_sent, 0);
    assert_eq!(
        stack.db.invoice(id).await.unwrap().unwrap().status,
        InvoiceStatus::Submitted
    );
    assert!(keeper
        .metrics()
        .render()
        .contains("pipeit_keeper_ticks_blocked_total 1"));
}

#[tokio::test]
async fn a_stuck_transaction_is_bumped_and_the_replacement_recorded() {
    let stack = TestStack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let signal = dir.path().join("s.json");
    write_signal(&signal, now(&stack).await, "0.2", "0");
    stack
        .deposit(stack.investors[0], U256::from(20 * ETH))
        .await;
    let id = one_invoice(&stack, "BUMP1").await;
    // Blocks only when asked, and a base fee far above what the first attempt offers.
    let _: serde_json::Value = stack
        .provider
        .raw_request("evm_setAutomine".into(), (false,))
        .await
        .unwrap();
    let mut c = config(&stack, &signal);
    c.receipt_timeout = Duration::from_millis(300);
    let mut keeper = Keeper::start_with_db(c, stack.db.clone()).await.unwrap();
    let report = keeper.tick().await.unwrap();
    assert_eq!(report.advance_batches, 1, "{report:?}");
    let sent = stack.db.outbox_list(OutboxStatus::Sent).await.unwrap();
    let first_hash = sent[0].tx_hash.unwrap();
    let _: serde_json::Value = stack
        .provider
        .raw_request(
            "anvil_setNextBlockBaseFeePerGas".into(),
            (U256::from(100_000_000_000u64),),
        )
        .await
        .unwrap();
    stack.mine(3).await;
    assert!(stack
        .provider
        .get_transaction_receipt(first_hash)
        .await
        .unwrap()
        .is_none());
    // The next tick sees it pending 3 blocks: a replacement with higher fees, same nonce.
    keeper.tick().await.unwrap();
    stack.mine(1).await;
    let report = keeper.tick().await.unwrap();
    assert_eq!(report.invoices_advanced, 1, "{report:?}");
    let mined = stack.db.outbox_list(OutboxStatus::Mined).await.unwrap();
    assert_eq!(mined.len(), 1);
    assert_ne!(
        mined[0].tx_hash.unwrap(),
        first_hash,
        "the bumped transaction"
    );
    assert_eq!(mined[0].nonce, sent[0].nonce);
    let inv = stack.db.invoice(id).await.unwrap().unwrap();
    assert_eq!(inv.status, InvoiceStatus::Advanced);
    assert_eq!(inv.advance_tx_hash, mined[0].tx_hash);
}

#[tokio::test]
async fn rebalancing_follows_the_signal_within_the_caps() {
    let stack = TestStack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let signal = dir.path().join("s.json");
    write_signal(&signal, now(&stack).await, "0", "1");
    // Small enough that the hedge's swap stays inside the pool's depth and the oracle bound.
    stack
        .deposit(stack.investors[0], U256::from(10 * ETH))
        .await;
    let mut c = config(&stack, &signal);
    c.rebalance = Some(RebalancePolicy {
        min_wait_secs: 0,
        ..RebalancePolicy::default()
    });
    let mut keeper = Keeper::start_with_db(c, stack.db.clone()).await.unwrap();
    // Calm and rising: idle capital goes to the yield strategy, none to the hedge.
    let report = keeper.tick().await.unwrap();
    assert!(report.rebalance.is_some(), "{report:?}");
    let yield_strategy = ERC4626Strategy::new(
        stack.manifest.contracts.erc4626_strategy,
        stack.provider.clone(),
    );
    let in_yield = yield_strategy.totalValue().call().await.unwrap();
    // 10 ETH NAV, 5 % reserve + 20 % buffer kept: 7.5 deployable, 60 % of it = 4.5 ETH.
    let target = U256::from(45 * ETH / 10);
    assert!(
        in_yield <= target && in_yield + U256::from(1_000u64) >= target,
        "{in_yield}"
    );
    let decisions = stack.db.rebalances(true, 10).await.unwrap();
    assert_eq!(decisions.len(), 1);
    assert!(decisions[0]
        .decision
        .reasons
        .to_string()
        .contains("signal file"));

    // Stressed and falling: out of yield, into the USD hedge (a swap bounded by the oracle).
    write_signal(&signal, now(&stack).await, "1", "-1");
    keeper.tick().await.unwrap();
    let hedge = UniswapV3SwapStrategy::new(
        stack.manifest.contracts.uniswap_v3_swap_strategy,
        stack.provider.clone(),
    );
    let in_hedge = hedge.totalValue().call().await.unwrap();
    let in_yield = yield_strategy.totalValue().call().await.unwrap();
    assert!(in_yield < U256::from(ETH / 100), "{in_yield}");
    // Half of what may be deployed (3.75 ETH), valued by the oracle after the swap's costs.
    assert!(in_hedge > U256::from(36 * ETH / 10), "{in_hedge}");
    let decisions = stack.db.rebalances(true, 10).await.unwrap();
    assert_eq!(decisions.len(), 2);
    assert!(stack
        .db
        .outbox_list(OutboxStatus::Failed)
        .await
        .unwrap()
        .is_empty());
}

/// A TCP proxy to the node that can be switched off (connections dropped at once).
async fn switchable_proxy(
    target: String,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let up = Arc::new(AtomicBool::new(false));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let flag = up.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                return;
            };
            if !flag.load(Ordering::SeqCst) {
                drop(inbound);
                continue;
            }
            let target = target.clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (format!("http://{addr}"), up)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_down_for_a_while_then_the_keeper_carries_on() {
    let stack = TestStack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let signal = dir.path().join("s.json");
    write_signal(&signal, now(&stack).await, "0.2", "0");
    stack
        .deposit(stack.investors[0], U256::from(20 * ETH))
        .await;
    let id = one_invoice(&stack, "RPC1").await;
    let node = stack.rpc_url.trim_start_matches("http://").to_owned();
    let (proxy_url, up) = switchable_proxy(node).await;
    let mut c = config(&stack, &signal);
    c.rpc_url = proxy_url;
    c.interval = Duration::from_millis(500);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let keeper = tokio::spawn(pipeit_keeper::run(c, async move {
        let _ = stop_rx.await;
    }));
    // The node is unreachable for a while: the keeper retries and does nothing.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(
        stack.db.invoice(id).await.unwrap().unwrap().status,
        InvoiceStatus::Submitted
    );
    assert!(!keeper.is_finished(), "the keeper kept retrying");
    // Back: it carries on and advances the invoice.
    up.store(true, std::sync::atomic::Ordering::SeqCst);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let status = stack.db.invoice(id).await.unwrap().unwrap().status;
        if status == InvoiceStatus::Advanced {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "still {status:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // SIGTERM-like shutdown: run returns after the step in progress.
    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(60), keeper)
        .await
        .expect("run stops")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn one_refused_invoice_does_not_hold_back_its_batch() {
    let stack = TestStack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let signal = dir.path().join("s.json");
    write_signal(&signal, now(&stack).await, "0.2", "0");
    stack
        .deposit(stack.investors[0], U256::from(30 * ETH))
        .await;
    let today = now(&stack).await.date_naive();
    let business = stack
        .db
        .insert_business("Acme", stack.businesses[0])
        .await
        .unwrap();
    let mut ids = Vec::new();
    for n in 0..3 {
        let record = InvoiceRecord {
            debtor_name: format!("Debtor {n}"),
            debtor_tax_id: format!("GB90{n}"),
            debtor_country: "GB".into(),
            invoice_number: format!("ISO-{n}"),
            currency: Currency::Usd,
            amount: Decimal::from(6_000),
            issue_date: today - Days::new(1),
            due_date: today + Days::new(30),
            document_hash: None,
        };
        ids.push(stack.db.insert_invoice(business.id, &record).await.unwrap());
    }
    // The middle invoice's id is already financed on-chain (another keeper, another database).
    let due_at = (stack.timestamp().await / 86_400 + 20) * 86_400;
    let request = pipeit_chain::bindings::FactoringVault::AdvanceRequest {
        id: ids[1].canonical_id,
        payout: stack.businesses[1],
        principal: 1_000_000_000_000_000u128,
        fee: 10_000_000_000_000u128,
        dueAt: alloy::primitives::Uint::from(due_at),
        lateFeeBpsPerDay: 5,
    };
    send(
        "advance elsewhere",
        stack.vault().advance(vec![request]).from(stack.keeper),
    )
    .await;
    let mut keeper = Keeper::start_with_db(config(&stack, &signal), stack.db.clone())
        .await
        .unwrap();
    let report = keeper.tick().await.unwrap();
    // The batch of three is refused; tried one by one, two go through and one is refused by name.
    assert_eq!(
        report.reverts,
        ["InvoiceAlreadyFinanced", "InvoiceAlreadyFinanced"],
        "{report:?}"
    );
    assert_eq!(report.advance_batches, 2, "{report:?}");
    for i in [0, 2] {
        assert_eq!(
            stack.db.invoice(ids[i].id).await.unwrap().unwrap().status,
            InvoiceStatus::Advanced
        );
    }
    // Next tick: the refused one is financed on-chain, by none of this keeper's transactions.
    let report = keeper.tick().await.unwrap();
    assert_eq!(report.declined, 1, "{report:?}");
    assert_eq!(
        stack.db.invoice(ids[1].id).await.unwrap().unwrap().status,
        InvoiceStatus::Declined
    );
}
