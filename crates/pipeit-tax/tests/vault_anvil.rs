//! The vault's income statement reconciles with the change in total assets, on the real contracts:
//! deposits, advances, a late repayment, a queue fill, a write-off and a recovery on Anvil, indexed
//! by the real indexer into SQLite and PostgreSQL. For the whole history and for two sub-periods:
//! - opening and closing total assets are the contract's `totalAssets()` at the blocks named;
//! - the accrual adjustment equals what the contract accrued but did not receive:
//!   Δ(feesAccrued − feesSettled) from `assetBreakdown()` at those blocks, plus the fee receivable
//!   written off in the period (no strategy holds assets here);
//! - cash lines equal the events of the receipts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use alloy::eips::BlockId;
use alloy::primitives::{I256, U256};
use alloy::sol_types::SolEvent;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use pipeit_indexer::{Indexer, IndexerConfig};
use pipeit_tax::{
    business_report, vault_report, BusinessReportRequest, Period, VaultReportRequest,
};
use pipeit_testkit::pipeit_chain::bindings::EventsLib;
use pipeit_testkit::{send, TestStack};

const DAY: u64 = 86_400;

fn eth(milli: u64) -> U256 {
    U256::from(milli) * U256::from(10u64).pow(U256::from(15u64))
}

fn signed(s: &str) -> I256 {
    let neg = s.starts_with('-');
    let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
    let v = I256::from_raw(U256::from_str_radix(&digits, 10).unwrap());
    if neg {
        -v
    } else {
        v
    }
}

struct Statement {
    lines: Vec<(String, Option<u64>, I256)>,
}

impl Statement {
    fn get(&self, name: &str) -> (Option<u64>, I256) {
        let l = self
            .lines
            .iter()
            .find(|l| l.0 == name)
            .unwrap_or_else(|| panic!("no line {name}"));
        (l.1, l.2)
    }
}

async fn statement(s: &TestStack, start: i64, end: i64) -> Statement {
    let period = Period {
        start: DateTime::<Utc>::from_timestamp(start, 0).unwrap(),
        end: DateTime::<Utc>::from_timestamp(end, 0).unwrap(),
        tz: Tz::UTC,
    };
    let req = VaultReportRequest {
        at: s.chain_contract(),
        period,
    };
    let csv = common::collect(vault_report(s.db.clone(), req))
        .await
        .unwrap();
    let lines = csv
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_owned(), f[1].parse().ok(), signed(f[2]))
        })
        .collect();
    Statement { lines }
}

/// feesAccrued − feesSettled at `block` (0 before the vault existed).
async fn receivable(s: &TestStack, block: Option<u64>) -> I256 {
    let Some(b) = block else { return I256::ZERO };
    let r = s
        .vault()
        .assetBreakdown()
        .block(BlockId::number(b))
        .call()
        .await
        .unwrap();
    I256::from_raw(r.feesAccrued) - I256::from_raw(r.feesSettled)
}

async fn total_assets(s: &TestStack, block: Option<u64>) -> I256 {
    let Some(b) = block else { return I256::ZERO };
    I256::from_raw(
        s.vault()
            .totalAssets()
            .block(BlockId::number(b))
            .call()
            .await
            .unwrap(),
    )
}

async fn check_reconciles(s: &TestStack, start: i64, end: i64, fee_lost: I256) -> Statement {
    let st = statement(s, start, end).await;
    let (open_block, open) = st.get("opening_total_assets");
    let (close_block, close) = st.get("closing_total_assets");
    assert_eq!(
        open,
        total_assets(s, open_block).await,
        "opening = totalAssets() at {open_block:?}"
    );
    assert_eq!(
        close,
        total_assets(s, close_block).await,
        "closing = totalAssets() at {close_block:?}"
    );
    let expected = receivable(s, close_block).await - receivable(s, open_block).await + fee_lost;
    assert_eq!(
        st.get("accrual_adjustment").1,
        expected,
        "accrual adjustment [{start}, {end})"
    );
    let parts = ["net_capital", "net_income"]
        .iter()
        .fold(open, |acc, n| acc + st.get(n).1);
    assert_eq!(parts, close);
    st
}

async fn scenario_reconciles(s: TestStack) {
    let (a, b) = (s.investors[0], s.investors[1]);
    let business = s.businesses[0];
    s.deposit(a, eth(50_000)).await;
    s.deposit(b, eth(20_000)).await;
    let paid = s.advance(business, eth(10_000), eth(500), 10).await;
    let lost = s.advance(business, eth(5_000), eth(200), 10).await;
    s.increase_time(5 * DAY).await;
    s.deposit(a, eth(1_000)).await;
    let split = s.timestamp().await as i64 + 1;

    // Twelve days in: the first invoice is late; paying what it owes pays a late fee.
    s.increase_time(7 * DAY).await;
    s.mine(1).await;
    let owed = s.amount_owed(paid).await;
    let repay = s.repay(business, paid, owed + eth(1)).await;
    let repaid = repay
        .logs()
        .iter()
        .find_map(|l| EventsLib::InvoiceRepaid::decode_log(&l.inner).ok())
        .unwrap();
    assert!(repaid.lateFeePaid > U256::ZERO, "a late fee was paid");
    let shares = s.vault().balanceOf(b).call().await.unwrap() / U256::from(2u8);
    let request = s.request_redeem(b, shares).await;
    s.process_queue(10).await;
    s.claim(b, request, true).await;

    // Past due + grace: the keeper writes the second invoice off; the business later pays 1 ETH.
    s.increase_time(20 * DAY).await;
    let wo = send("writeOff", s.vault().writeOff(lost).from(s.keeper)).await;
    let written = wo
        .logs()
        .iter()
        .find_map(|l| EventsLib::InvoiceWrittenOff::decode_log(&l.inner).ok())
        .unwrap();
    s.increase_time(DAY).await;
    s.repay(business, lost, eth(1_000)).await;
    s.increase_time(2 * DAY).await;
    s.deposit(a, eth(1)).await; // a last event: the recovery is still vesting
    s.mine(1).await;

    let mut indexer = Indexer::new(
        s.db.clone(),
        s.provider.clone(),
        s.manifest.clone(),
        IndexerConfig {
            confirmations: 0,
            progress_bar: false,
            ..IndexerConfig::default()
        },
    );
    indexer.sync_once().await.unwrap();

    let fee_lost = I256::from_raw(written.lpFeeLost);
    let end = s.timestamp().await as i64 + 1;
    let whole = check_reconciles(&s, 0, end, fee_lost).await;
    check_reconciles(&s, 0, split, I256::ZERO).await;
    check_reconciles(&s, split, end, fee_lost).await;

    assert_eq!(whole.get("fees_received").1, I256::from_raw(repaid.feePaid));
    assert_eq!(
        whole.get("late_fees_received").1,
        I256::from_raw(repaid.lateFeePaid)
    );
    assert_eq!(
        whole.get("protocol_fee").1,
        -I256::from_raw(repaid.protocolFee)
    );
    assert_eq!(
        whole.get("write_offs_principal").1,
        -I256::from_raw(written.principalLost)
    );
    assert_eq!(whole.get("recoveries").1, I256::from_raw(eth(1_000)));
    assert!(whole.get("queue_fills").1 < I256::ZERO);
    assert_eq!(whole.get("deposits").1, I256::from_raw(eth(71_001)));

    // The business's report: per invoice rows and totals equal the receipts' events.
    // The year and "now" from the chain's clock: the scenario moved it about 35 days forward.
    let now = s.now().await;
    let year = chrono::Datelike::year(&now).to_string();
    let req = BusinessReportRequest::parse(
        s.chain_contract(),
        &format!("{business:#x}"),
        &year,
        None,
        now,
    )
    .unwrap();
    let csv = common::collect(business_report(s.db.clone(), req))
        .await
        .unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows[0][6], "advance_eth", "{csv}");
    let events: Vec<&str> = rows[1..].iter().map(|r| r[3]).collect();
    let mut sorted = events.clone();
    sorted.sort_unstable();
    // Grouped by invoice (order by invoice id): two invoices, each closed by its total.
    assert_eq!(
        sorted,
        [
            "advance",
            "advance",
            "invoice_total",
            "invoice_total",
            "recovery",
            "repayment",
            "total",
            "write_off"
        ],
        "{csv}"
    );
    let total = rows.last().unwrap();
    assert_eq!(total[3], "total");
    let units = |v: U256| {
        let s = format!("{v:0>19}");
        let (i, f) = s.split_at(s.len() - 18);
        format!("{i}.{f}")
    };
    assert_eq!(total[6], units(eth(15_000)), "advances");
    assert_eq!(total[8], units(repaid.feePaid), "fees paid");
    assert_eq!(total[10], units(repaid.lateFeePaid), "late fees paid");
    assert_eq!(total[12], units(repaid.principalPaid), "principal repaid");
    assert_eq!(total[14], units(eth(1_000)), "recovery");
    assert_eq!(
        total[16],
        units(written.principalLost),
        "principal written off"
    );
    assert_eq!(total[18], units(written.lpFeeLost), "fee written off");
    assert_eq!(
        events.iter().filter(|e| **e == "invoice_total").count(),
        2,
        "{csv}"
    );
}

#[tokio::test]
async fn vault_statement_reconciles_on_sqlite() {
    scenario_reconciles(TestStack::start().await).await;
}

#[tokio::test]
async fn vault_statement_reconciles_on_postgres() {
    let Some(s) = TestStack::start_postgres().await else {
        return;
    };
    scenario_reconciles(s).await;
}
