//! `scripts/bench keeper`: 1,000 invoices submitted (stored as the API stores them) at a steady rate
//! on Anvil with 1-second blocks, scored and advanced by the keeper ticking in a loop. Reports
//! invoices per minute, gas per invoice, and blocks from submission to the mined advance (p50,
//! p95). Baseline in the same run, on the same chain: the same number of advances sent bare (no
//! scoring, database or outbox) in batches of the same size.
//!
//! `PIPEIT_BENCH_INVOICES` (1000), `PIPEIT_BENCH_RATE` (invoices submitted per second, 25),
//! `PIPEIT_BENCH_BATCH` (25); PostgreSQL instead of SQLite with `PIPEIT_BENCH_PG=1` and
//! `PIPEIT_TEST_PG_URL`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use alloy::primitives::{keccak256, Address, Uint, U256};
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use chrono::{DateTime, Days};
use pipeit_chain::bindings::FactoringVault;
use pipeit_core::{Currency, InvoiceRecord};
use pipeit_db::{InvoiceStatus, OutboxStatus};
use pipeit_keeper::{Keeper, KeeperConfig, SignalsConfig};
use pipeit_testkit::TestStack;
use rust_decimal::Decimal;

const ETH: u128 = 1_000_000_000_000_000_000;

fn var(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The nearest-rank `p`th percentile (integer math: rank = ceil(p × n / 100)).
fn percentile(sorted: &[u64], p: usize) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len()).div_ceil(100);
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n = var("PIPEIT_BENCH_INVOICES", 1_000);
    let rate = var("PIPEIT_BENCH_RATE", 25).max(1);
    let batch = var("PIPEIT_BENCH_BATCH", 25).max(1);
    let stack = if std::env::var("PIPEIT_BENCH_PG").as_deref() == Ok("1") {
        TestStack::start_postgres()
            .await
            .expect("PIPEIT_TEST_PG_URL")
    } else {
        TestStack::start().await
    };
    let backend = format!("{:?}", stack.db.backend());
    for investor in stack.investors.iter().take(2) {
        stack.deposit(*investor, U256::from(4_000 * ETH)).await;
    }
    // 1-second blocks from here on, as on Base.
    let _: serde_json::Value = stack
        .provider
        .raw_request("evm_setAutomine".into(), (false,))
        .await
        .unwrap();
    let _: serde_json::Value = stack
        .provider
        .raw_request("evm_setIntervalMining".into(), (1u64,))
        .await
        .unwrap();

    // Ten businesses (the vault caps exposure per payout address).
    let mut businesses = Vec::new();
    for i in 0..10u8 {
        let payout = Address::repeat_byte(0xb0 + i);
        businesses.push(
            stack
                .db
                .insert_business(&format!("Bench {i}"), payout)
                .await
                .unwrap()
                .id,
        );
    }
    let key = stack
        .anvil
        .keys()
        .iter()
        .map(|k| PrivateKeySigner::from(k.clone()))
        .find(|s| s.address() == stack.keeper)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let signal = dir.path().join("signal.json");
    let now = DateTime::from_timestamp(stack.timestamp().await as i64, 0).unwrap();
    std::fs::write(
        &signal,
        format!(
            r#"{{"as_of": "{}", "risk": "0.2", "trend": "0"}}"#,
            now.to_rfc3339()
        ),
    )
    .unwrap();
    let mut config = KeeperConfig::new(
        stack.rpc_url.clone(),
        stack.db_url.clone(),
        stack.manifest.clone(),
        key,
    );
    config.indexer.confirmations = 0;
    config.signals = SignalsConfig::File(signal);
    config.rebalance = None;
    config.batch_size = batch;
    config.receipt_timeout = Duration::from_secs(20);
    let mut keeper = Keeper::start_with_db(config, stack.db.clone())
        .await
        .unwrap();

    // Submissions at a steady rate, each with the block it arrived in.
    let db = stack.db.clone();
    let provider = stack.provider.clone();
    let today = now.date_naive();
    let producer = tokio::spawn(async move {
        let mut submitted: HashMap<i64, u64> = HashMap::new();
        let start = Instant::now();
        for i in 0..n {
            let record = InvoiceRecord {
                debtor_name: format!("Debtor {i}"),
                debtor_tax_id: format!("GB{i:07}"),
                debtor_country: "GB".into(),
                invoice_number: format!("BENCH-{i}"),
                currency: Currency::Usd,
                amount: Decimal::from(1_500 + (i % 500) as i64),
                issue_date: today - Days::new(2),
                due_date: today + Days::new(30 + (i % 30) as u64),
                document_hash: None,
            };
            let block = provider.get_block_number().await.unwrap();
            let id = db
                .insert_invoice(businesses[i % businesses.len()], &record)
                .await
                .unwrap()
                .id;
            submitted.insert(id, block);
            let due = Duration::from_secs_f64((i + 1) as f64 / rate as f64);
            if let Some(wait) = due.checked_sub(start.elapsed()) {
                tokio::time::sleep(wait).await;
            }
        }
        submitted
    });

    let started = Instant::now();
    let mut ticks = 0;
    loop {
        keeper.tick().await.unwrap();
        ticks += 1;
        let count = |status| {
            let db = stack.db.clone();
            async move { db.list_invoices(None, Some(status)).await.unwrap().len() }
        };
        let advanced = count(InvoiceStatus::Advanced).await;
        let reviews = stack.db.open_manual_reviews().await.unwrap().len();
        let undecided = count(InvoiceStatus::Submitted).await + count(InvoiceStatus::Scored).await;
        if producer.is_finished() && undecided <= reviews {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1800),
            "stuck at {advanced} advanced"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let elapsed = started.elapsed();
    let submitted = producer.await.unwrap();

    // Gas and mined blocks from the receipts of the keeper's advances.
    let mut gas = 0u128;
    let mut invoices_mined = 0usize;
    let mut latency = Vec::new();
    let mut txs = 0;
    for entry in stack.db.outbox_list(OutboxStatus::Mined).await.unwrap() {
        if entry.kind != "advance" {
            continue;
        }
        let r = stack
            .provider
            .get_transaction_receipt(entry.tx_hash.unwrap())
            .await
            .unwrap()
            .unwrap();
        txs += 1;
        gas += u128::from(r.gas_used);
        let mined = r.block_number.unwrap();
        for id in entry.payload["extra"]["invoices"].as_array().unwrap() {
            let id = id.as_i64().unwrap();
            invoices_mined += 1;
            latency.push(mined - submitted[&id]);
        }
    }
    latency.sort_unstable();
    let per_min = invoices_mined as f64 / elapsed.as_secs_f64() * 60.0;

    // Baseline: the same number of advances, bare, same batch size, same chain.
    let vault = stack.vault();
    let payout = Address::repeat_byte(0xee);
    let base_started = Instant::now();
    let mut base_gas = 0u128;
    let mut pending = Vec::new();
    let due_at = (stack.timestamp().await / 86_400 + 30) * 86_400;
    let n_base = n.min(400); // exposure cap of one payout: 400 × 0.5 ETH
    for chunk in (0..n_base).collect::<Vec<_>>().chunks(batch) {
        let requests: Vec<_> = chunk
            .iter()
            .map(|i| FactoringVault::AdvanceRequest {
                id: keccak256(format!("baseline {i}")),
                payout,
                principal: 500_000_000_000_000_000u128,
                fee: 10_000_000_000_000_000u128,
                dueAt: Uint::<40, 1>::from(due_at),
                lateFeeBpsPerDay: 5,
            })
            .collect();
        let tx = vault
            .advance(requests)
            .from(stack.keeper)
            .gas(5_000_000)
            .send()
            .await
            .unwrap();
        pending.push((*tx.tx_hash(), chunk.len()));
    }
    let mut base_invoices = 0;
    for (hash, count) in pending {
        let r = loop {
            if let Some(r) = stack.provider.get_transaction_receipt(hash).await.unwrap() {
                break r;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert!(r.status(), "baseline advance reverted");
        base_gas += u128::from(r.gas_used);
        base_invoices += count;
    }
    let base_elapsed = base_started.elapsed();
    let base_per_min = base_invoices as f64 / base_elapsed.as_secs_f64() * 60.0;

    println!("keeper bench on Anvil, 1-second blocks, {backend}, batches of {batch}");
    let declined = stack
        .db
        .list_invoices(None, Some(InvoiceStatus::Declined))
        .await
        .unwrap()
        .len();
    let reviews = stack.db.open_manual_reviews().await.unwrap().len();
    println!(
        "  submitted {n} invoices at {rate}/s; {ticks} ticks; {invoices_mined} advanced, {declined} declined, {reviews} to manual review, all decided after {:.1} s",
        elapsed.as_secs_f64()
    );
    println!(
        "  keeper:   {per_min:>8.0} invoices/min   {:>7.0} gas/invoice   {txs} advance txs",
        gas as f64 / invoices_mined as f64
    );
    println!(
        "  baseline: {base_per_min:>8.0} invoices/min   {:>7.0} gas/invoice   ({base_invoices} bare advances, same batch size, no scoring/db/outbox)",
        base_gas as f64 / base_invoices as f64
    );
    println!(
        "  blocks from submission to mined advance: p50 {}  p95 {}  max {}",
        percentile(&latency, 50),
        percentile(&latency, 95),
        latency.last().copied().unwrap_or(0)
    );
    println!(
        "  note: the submission rate bounds invoices/min from above ({} /min offered)",
        rate * 60
    );
}
