//! `pipeit tax` end to end: real Anvil with the devnet, the real indexer (`pipeit index`), a real
//! SQLite file, the real binary; good reports and bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

use alloy::primitives::{Address, U256};
use alloy::rpc::types::TransactionReceipt;
use chrono::Datelike;
use pipeit_testkit::{send, TestStack};

fn pipeit(stack: &TestStack, db_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pipeit"))
        .args(args)
        .env("PIPEIT_RPC_URL", &stack.rpc_url)
        .env("PIPEIT_MANIFEST", &stack.manifest_path)
        .env("PIPEIT_DATABASE_URL", db_url)
        .env("PIPEIT_CONFIRMATIONS", "0")
        .env("PIPEIT_LOG", "warn")
        .output()
        .expect("pipeit runs")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn fails(out: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should fail: {stderr}");
    for n in needles {
        assert!(stderr.contains(n), "stderr should mention {n:?}: {stderr}");
    }
    assert!(out.stdout.is_empty(), "nothing written on bad input");
}

fn eth(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
}

fn gas(r: &TransactionReceipt) -> U256 {
    U256::from(r.gas_used) * U256::from(r.effective_gas_price)
}

fn units(v: U256, decimals: usize) -> String {
    let s = format!("{v:0>width$}", width = decimals + 1);
    let (i, f) = s.split_at(s.len() - decimals);
    format!("{i}.{f}")
}

async fn deposit(stack: &TestStack, who: Address, assets: U256) -> TransactionReceipt {
    send(
        "depositETH",
        stack.vault().depositETH(who).value(assets).from(who),
    )
    .await
}

#[tokio::test]
async fn tax_reports_from_an_indexed_devnet_and_bad_input() {
    let stack = TestStack::start().await;
    let (me, other) = (stack.investors[0], stack.investors[1]);
    let first = deposit(&stack, me, eth(3)).await;
    let second = deposit(&stack, me, eth(2)).await;
    let shares = stack.vault().balanceOf(me).call().await.unwrap();
    stack
        .transfer_shares(me, other, shares / U256::from(5u8))
        .await;
    let request = stack.request_redeem(me, shares / U256::from(5u8)).await;
    stack.process_queue(10).await;
    let claim = stack.claim(me, request, true).await;

    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}", dir.path().join("tax.sqlite").display());
    ok(&pipeit(&stack, &db_url, &["index", "--once"]));
    let year = stack.now().await.year().to_string();
    let me_hex = format!("{me:#x}");

    // Ledger to a file: the deposits' basis includes the gas of their receipts (recorded by the
    // indexer), the claim's proceeds lose it.
    let out_file = dir.path().join("ledger.csv");
    let out = pipeit(
        &stack,
        &db_url,
        &[
            "tax",
            "investor",
            "--address",
            &me_hex,
            "--year",
            &year,
            "--format",
            "ledger",
            "--out",
            out_file.to_str().unwrap(),
        ],
    );
    assert!(
        ok(&out).is_empty(),
        "a file report writes nothing to stdout"
    );
    let ledger = std::fs::read_to_string(&out_file).unwrap();
    let rows: Vec<Vec<&str>> = ledger
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let kinds: Vec<&str> = rows.iter().map(|r| r[4]).collect();
    assert_eq!(
        kinds,
        [
            "deposit",
            "deposit",
            "transfer_out",
            "queue_request",
            "queue_fill",
            "queue_claim"
        ],
        "{ledger}"
    );
    for (row, receipt, assets) in [(&rows[0], &first, eth(3)), (&rows[1], &second, eth(2))] {
        assert_eq!(row[9], units(gas(receipt), 18), "gas_eth of {}", row[3]);
        assert_eq!(
            row[15],
            units(assets + gas(receipt), 18),
            "basis_eth = assets + gas"
        );
    }
    let claimed = rows[5][8].to_owned();
    assert_eq!(
        rows[5][9],
        units(gas(&claim) + request_gas(&stack, rows[3][3]).await, 18),
        "claim gas + request gas"
    );
    assert_eq!(rows[5][21], "short");
    assert!(!claimed.is_empty());

    // Koinly on stdout: the exact header; the queue request and fill are not rows.
    let koinly = ok(&pipeit(
        &stack,
        &db_url,
        &["tax", "investor", "--address", &me_hex, "--year", &year],
    ));
    assert!(koinly.starts_with("Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,Net Worth Amount,Net Worth Currency,Label,Description,TxHash\n"));
    assert_eq!(koinly.lines().count(), 1 + 4, "{koinly}");

    // Form 8949 and the receiving wallet.
    let form = ok(&pipeit(
        &stack,
        &db_url,
        &[
            "tax",
            "investor",
            "--address",
            &format!("{other:#x}"),
            "--year",
            &year,
            "--format",
            "8949",
            "--method",
            "hifo",
            "--tz",
            "Europe/Berlin",
        ],
    ));
    assert_eq!(
        form.lines().count(),
        3,
        "no disposal: header and two zero totals: {form}"
    );

    // A year with no activity: the header only.
    let last_year = (stack.now().await.year() - 1).to_string();
    let empty = ok(&pipeit(
        &stack,
        &db_url,
        &[
            "tax",
            "investor",
            "--address",
            &me_hex,
            "--year",
            &last_year,
            "--format",
            "ledger",
        ],
    ));
    assert_eq!(empty.lines().count(), 1, "{empty}");

    // The vault's statement: closing total assets is the contract's.
    let vault = ok(&pipeit(&stack, &db_url, &["tax", "vault", "--year", &year]));
    let closing = vault
        .lines()
        .find(|l| l.starts_with("closing_total_assets,"))
        .unwrap();
    let block: u64 = closing.split(',').nth(1).unwrap().parse().unwrap();
    let on_chain = stack
        .vault()
        .totalAssets()
        .block(block.into())
        .call()
        .await
        .unwrap();
    assert_eq!(
        closing.split(',').nth(2).unwrap(),
        units(on_chain, 18),
        "{vault}"
    );

    // Bad input: each names its field; nothing is written.
    let bad = |args: &[&str]| {
        let mut all = vec!["tax"];
        all.extend_from_slice(args);
        pipeit(&stack, &db_url, &all)
    };
    fails(
        &bad(&[
            "investor",
            "--address",
            &me_hex,
            "--year",
            &year,
            "--method",
            "avco",
        ]),
        &["method", "fifo, lifo or hifo"],
    );
    fails(
        &bad(&[
            "investor",
            "--address",
            &me_hex,
            "--year",
            &year,
            "--format",
            "xlsx",
        ]),
        &["format", "koinly, 8949 or ledger"],
    );
    fails(
        &bad(&["investor", "--address", &me_hex, "--year", "2999"]),
        &["year", "future"],
    );
    fails(
        &bad(&["investor", "--address", "0x1234", "--year", &year]),
        &["address", "40 hex digits"],
    );
    fails(
        &bad(&[
            "investor",
            "--address",
            &me_hex,
            "--year",
            &year,
            "--tz",
            "Mars/Olympus",
        ]),
        &["tz", "IANA"],
    );
    let stranger = "0x00000000000000000000000000000000000000c3";
    let refused_file = dir.path().join("refused.csv");
    fails(
        &bad(&[
            "investor",
            "--address",
            stranger,
            "--year",
            &year,
            "--out",
            refused_file.to_str().unwrap(),
        ]),
        &["unknown address", stranger],
    );
    assert!(!refused_file.exists(), "no file for a refused report");
    assert!(std::fs::read_dir(dir.path()).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".partial")));
    fails(
        &bad(&["business", "--address", &me_hex, "--year", &year]),
        &["unknown address"],
    );
    fails(
        &bad(&["vault", "--from", "2025-01-01"]),
        &["year", "from and to"],
    );
}

/// The gas of the transaction `hash` (the queue request), from its receipt.
async fn request_gas(stack: &TestStack, hash: &str) -> U256 {
    use alloy::providers::Provider;
    let hash: alloy::primitives::B256 = hash.parse().unwrap();
    let receipt = stack
        .provider
        .get_transaction_receipt(hash)
        .await
        .unwrap()
        .unwrap();
    gas(&receipt)
}
