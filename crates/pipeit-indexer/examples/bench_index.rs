//! Indexer throughput benchmark (`scripts/bench index`): a devnet with N vault events, then the
//! bare `eth_getLogs` calls over the same range vs `Indexer::sync_once()` from scratch into SQLite
//! and (when `PIPEIT_TEST_PG_URL` is set) PostgreSQL.
//!
//! Events: `depositETH` from Anvil's 10 dev accounts (two vault logs each: the share `Transfer`
//! mint and `Deposit`), sent with explicit nonce/gas/fees (no per-transaction RPC round trip but
//! `eth_sendRawTransaction`, no receipt wait) with automine off, a block mined after each batch.
//!
//! Environment: `PIPEIT_BENCH_EVENTS` (default 10000), `PIPEIT_BENCH_BATCH` (transactions per
//! block, default 200), `PIPEIT_TEST_PG_URL` (optional).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::time::{Duration, Instant};

use alloy::primitives::utils::parse_ether;
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use pipeit_db::Db;
use pipeit_indexer::{Indexer, IndexerConfig};
use pipeit_testkit::TestStack;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn config() -> IndexerConfig {
    IndexerConfig {
        progress_bar: false,
        ..IndexerConfig::default()
    }
}

struct Row {
    name: &'static str,
    events: u64,
    wall: Duration,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let target_events = env_u64("PIPEIT_BENCH_EVENTS", 10_000);
    let batch = env_u64("PIPEIT_BENCH_BATCH", 200).max(1);

    let t = Instant::now();
    let s = TestStack::start().await;
    eprintln!("stack up in {:.1?} (anvil {})", t.elapsed(), s.rpc_url);
    let provider = s.provider.clone();
    let vault_addr = s.manifest.contracts.vault;
    let accounts: Vec<_> = s.anvil.addresses().to_vec();
    let amount = parse_ether("0.001").unwrap();

    // Warm-up: one deposit per account with automine on (first deposits touch fresh storage).
    for &a in &accounts {
        s.deposit(a, amount).await;
    }
    let all_logs = |from: u64, to: u64| {
        Filter::new()
            .address(vault_addr)
            .from_block(from)
            .to_block(to)
    };
    let head = s.block_number().await;
    let existing = provider
        .get_logs(&all_logs(s.manifest.deployment_block, head))
        .await
        .expect("eth_getLogs")
        .len() as u64;
    let deposits = target_events.saturating_sub(existing).div_ceil(2);

    // Gas and fees once; nonces tracked locally.
    let est = provider
        .estimate_gas(
            s.vault()
                .depositETH(accounts[0])
                .value(amount)
                .from(accounts[0])
                .into_transaction_request(),
        )
        .await
        .expect("eth_estimateGas");
    let gas_limit = est * 13 / 10;
    let max_fee: u128 = 2_000_000_000_000; // 2,000 gwei: base fee growth over full blocks
    let tip: u128 = 1_000_000_000;
    let mut nonces = Vec::new();
    for &a in &accounts {
        nonces.push(provider.get_transaction_count(a).await.expect("nonce"));
    }
    let _: serde_json::Value = provider
        .raw_request("evm_setAutomine".into(), (false,))
        .await
        .expect("evm_setAutomine");

    let t = Instant::now();
    let mut sent = 0u64;
    while sent < deposits {
        let n = batch.min(deposits - sent);
        let mut set = tokio::task::JoinSet::new();
        for i in 0..n {
            let k = ((sent + i) % accounts.len() as u64) as usize;
            let from = accounts[k];
            let nonce = nonces[k];
            nonces[k] += 1;
            let tx = s
                .vault()
                .depositETH(from)
                .value(amount)
                .from(from)
                .nonce(nonce)
                .gas(gas_limit)
                .max_fee_per_gas(max_fee)
                .max_priority_fee_per_gas(tip)
                .into_transaction_request();
            let p = provider.clone();
            set.spawn(async move { p.send_transaction(tx).await.map(|_| ()) });
        }
        while let Some(r) = set.join_next().await {
            r.expect("join").expect("eth_sendRawTransaction");
        }
        let _: serde_json::Value = provider
            .raw_request("evm_mine".into(), ())
            .await
            .expect("evm_mine");
        sent += n;
    }
    // Whatever did not fit in its block.
    loop {
        let status: serde_json::Value = provider
            .raw_request("txpool_status".into(), ())
            .await
            .expect("txpool_status");
        let pending = status["pending"]
            .as_str()
            .and_then(|h| u64::from_str_radix(h.trim_start_matches("0x"), 16).ok())
            .or_else(|| status["pending"].as_u64())
            .unwrap_or(0);
        if pending == 0 {
            break;
        }
        let _: serde_json::Value = provider
            .raw_request("evm_mine".into(), ())
            .await
            .expect("evm_mine");
    }
    let _: serde_json::Value = provider
        .raw_request("evm_setAutomine".into(), (true,))
        .await
        .expect("evm_setAutomine");
    // Confirmations on top.
    s.mine(config().confirmations).await;
    let gen_time = t.elapsed();
    let head = s.block_number().await;
    let safe_head = head - config().confirmations;
    let from = s.manifest.deployment_block;
    eprintln!(
        "generated {deposits} deposits in {gen_time:.1?} ({:.0} tx/s), blocks {from}..={head}, \
         batch {batch}, gas limit {gas_limit}",
        deposits as f64 / gen_time.as_secs_f64()
    );

    // (a) bare eth_getLogs over [deployment block, safe head], max_range blocks per call.
    let max_range = config().max_range;
    let get_logs = || async {
        let t = Instant::now();
        let mut events = 0u64;
        let mut calls = 0u64;
        let mut next = from;
        while next <= safe_head {
            let to = safe_head.min(next + max_range - 1);
            events += provider
                .get_logs(&all_logs(next, to))
                .await
                .expect("eth_getLogs")
                .len() as u64;
            calls += 1;
            next = to + 1;
        }
        (events, calls, t.elapsed())
    };
    let (logs_events, calls, logs_wall) = get_logs().await;
    let mut logs_min = logs_wall;
    for _ in 0..2 {
        logs_min = logs_min.min(get_logs().await.2);
    }
    let mut rows = vec![Row {
        name: "eth_getLogs (bare)",
        events: logs_events,
        wall: logs_wall,
    }];

    // (b) SQLite (the stack's fresh temp file).
    let mut idx = Indexer::new(s.db.clone(), provider.clone(), s.manifest.clone(), config());
    let t = Instant::now();
    let report = idx.sync_once().await.expect("sync_once (SQLite)");
    let wall = t.elapsed();
    assert_eq!(
        report.events, logs_events,
        "SQLite: indexed events vs eth_getLogs"
    );
    assert_eq!(report.checkpoint, Some(safe_head));
    rows.push(Row {
        name: "indexer -> SQLite",
        events: report.events,
        wall,
    });
    eprintln!("SQLite: {report:?}");

    // (c) PostgreSQL, a fresh database on PIPEIT_TEST_PG_URL's server.
    if let Some(admin_url) = std::env::var(pipeit_testkit::PG_URL_VAR)
        .ok()
        .filter(|u| !u.is_empty())
    {
        let scratch = pipeit_db::scratch::ScratchDatabase::create(&admin_url, "bench_index")
            .await
            .expect("create a PostgreSQL database");
        let url = scratch.url.clone();
        let db = Db::connect(&url).await.expect("open PG database");
        let mut idx = Indexer::new(db.clone(), provider.clone(), s.manifest.clone(), config());
        let t = Instant::now();
        let report = idx.sync_once().await.expect("sync_once (PostgreSQL)");
        let wall = t.elapsed();
        assert_eq!(
            report.events, logs_events,
            "PostgreSQL: indexed events vs eth_getLogs"
        );
        rows.push(Row {
            name: "indexer -> PostgreSQL",
            events: report.events,
            wall,
        });
        eprintln!("PostgreSQL: {report:?}");
        drop(idx);
        if let Db::Postgres(pool) = db {
            pool.close().await;
        }
        drop(scratch);
    } else {
        eprintln!(
            "PostgreSQL case skipped: {} is not set",
            pipeit_testkit::PG_URL_VAR
        );
    }

    let blocks = safe_head + 1 - from;
    println!(
        "\n{} vault events in blocks {from}..={safe_head} ({blocks} blocks); eth_getLogs: {calls} \
         call(s) of up to {max_range} blocks",
        logs_events
    );
    println!(
        "{:<24} {:>8} {:>12} {:>12} {:>16}",
        "case", "events", "wall", "events/s", "x eth_getLogs"
    );
    for r in &rows {
        println!(
            "{:<24} {:>8} {:>12} {:>12.0} {:>15.1}x",
            r.name,
            r.events,
            format!("{:.3?}", r.wall),
            r.events as f64 / r.wall.as_secs_f64(),
            r.wall.as_secs_f64() / logs_wall.as_secs_f64()
        );
    }
    println!("(eth_getLogs: first pass shown; best of 3 passes {logs_min:.3?})");
}
