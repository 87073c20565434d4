//! `pipeit signals backtest` as a real process over prices the indexer recorded on Anvil: a falling
//! ETH/USD feed, a deposit at each reading (an event, so the indexer records the price), then the
//! backtest beats holding unhedged. Bad input is refused with the flag named.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use alloy::primitives::{I256, U256};
use pipeit_chain::bindings::DevPriceFeed;
use pipeit_testkit::{send, TestStack};
use rust_decimal::Decimal;

fn backtest(stack: &TestStack, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pipeit"))
        .args(["signals", "backtest"])
        .args(extra)
        .env("PIPEIT_RPC_URL", &stack.rpc_url)
        .env("PIPEIT_MANIFEST", &stack.manifest_path)
        .env("PIPEIT_DATABASE_URL", &stack.db_url)
        .env("PIPEIT_DATA_DIR", stack.dir().join("data"))
        .output()
        .unwrap()
}

#[tokio::test]
async fn backtest_over_recorded_prices_beats_unhedged_in_a_fall() {
    let stack = TestStack::start().await;
    let feed = DevPriceFeed::new(
        stack.manifest.contracts.eth_usd_feed,
        stack.provider.clone(),
    );
    // Twelve hourly readings: flat, then falling 3 % an hour.
    let mut price: i64 = 300_000_000_000; // 3,000 USD, 8 decimals
    for i in 0..12 {
        if i >= 3 {
            price = price * 97 / 100;
        }
        stack.increase_time(3_600).await;
        send(
            "setAnswer",
            feed.setAnswer(I256::try_from(price).unwrap())
                .from(stack.admin),
        )
        .await;
        stack
            .deposit(stack.investors[0], U256::from(1_000_000_000_000_000u64))
            .await;
    }
    let mut indexer = pipeit_indexer::Indexer::new(
        stack.db.clone(),
        stack.provider.clone(),
        stack.manifest.clone(),
        pipeit_indexer::IndexerConfig {
            confirmations: 0,
            progress_bar: false,
            ..Default::default()
        },
    );
    indexer.sync_once().await.unwrap();

    let out = backtest(&stack, &["--max-hedge", "0.5"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["prices"].as_u64().unwrap() >= 12, "{report}");
    assert!(report["steps"].as_u64().unwrap() >= 8, "{report}");
    let growth = |k: &str| -> Decimal { report[k].as_str().unwrap().parse().unwrap() };
    assert!(
        growth("hedged_growth") > growth("unhedged_growth"),
        "{report}"
    );
    assert!(growth("unhedged_growth") < Decimal::ONE, "{report}");

    let out = backtest(&stack, &["--max-hedge", "1.5"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--max-hedge 1.5"));
}
