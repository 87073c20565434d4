//! The indexer on a real devnet (TestStack), on SQLite and on PostgreSQL (when
//! `PIPEIT_TEST_PG_URL` is set; otherwise the PostgreSQL cases say so and pass).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};

use alloy::primitives::{utils::parse_ether, Address, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use pipeit_chain::bindings::{EventsLib, FactoringVault};
use pipeit_db::VaultEvent;
use pipeit_indexer::{Indexer, IndexerConfig, SyncReport};
use pipeit_testkit::TestStack;
use rust_decimal::Decimal;

/// Runs each `async fn name(s: TestStack)` once per back-end.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(pipeit_testkit::TestStack::start().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(s) = pipeit_testkit::TestStack::start_postgres().await else { return };
                    super::$name(s).await;
                }
            )*
        }
    };
}

on_both_backends!(
    events_become_rows_exactly,
    restart_mid_backfill_leaves_no_duplicate_and_no_gap,
    reorg_by_snapshot_revert_rolls_back_and_replays,
    anvil_reorg_drops_the_rows_of_replaced_blocks,
    database_reproduces_share_supply_and_balances,
);

const ALL: u64 = i64::MAX as u64;

fn indexer(s: &TestStack, config: IndexerConfig) -> Indexer {
    Indexer::new(s.db.clone(), s.provider.clone(), s.manifest.clone(), config)
}

fn config() -> IndexerConfig {
    IndexerConfig {
        progress_bar: false,
        ..IndexerConfig::default()
    }
}

fn eth(s: &str) -> U256 {
    parse_ether(s).unwrap()
}

/// Deposits by two investors, a share transfer, an advance, a full repayment after ten days, a
/// queued redemption filled and claimed; then enough blocks for everything to be final.
async fn scenario(s: &TestStack) {
    let (alice, bob, carol) = (s.investors[0], s.investors[1], s.investors[2]);
    let alice_shares = s.deposit(alice, eth("10")).await;
    let bob_shares = s.deposit(bob, eth("5")).await;
    s.transfer_shares(alice, carol, alice_shares / U256::from(4))
        .await;
    let id = s.advance(s.businesses[0], eth("2"), eth("0.1"), 30).await;
    s.increase_time(10 * 86_400).await;
    s.mine(1).await;
    let owed = s.amount_owed(id).await;
    s.repay(s.businesses[0], id, owed).await;
    let request = s.request_redeem(bob, bob_shares / U256::from(2)).await;
    s.process_queue(10).await;
    s.claim(bob, request, false).await;
    s.mine(IndexerConfig::default().confirmations).await;
}

/// The vault's logs on the chain, as (block, block hash, tx, log index, event name).
async fn chain_logs(s: &TestStack) -> Vec<(u64, B256, B256, u64, String)> {
    let names: HashMap<B256, String> = EventsLib::abi::contract()
        .events()
        .chain(FactoringVault::abi::contract().events())
        .map(|e| (e.selector(), e.name.clone()))
        .collect();
    let filter = Filter::new()
        .address(s.manifest.contracts.vault)
        .from_block(s.manifest.deployment_block)
        .to_block(s.block_number().await - IndexerConfig::default().confirmations);
    s.provider
        .get_logs(&filter)
        .await
        .unwrap()
        .iter()
        .map(|l| {
            (
                l.block_number.unwrap(),
                l.block_hash.unwrap(),
                l.transaction_hash.unwrap(),
                l.log_index.unwrap(),
                names[l.topic0().unwrap()].clone(),
            )
        })
        .collect()
}

async fn rows(s: &TestStack) -> Vec<VaultEvent> {
    s.db.events_between(s.chain_contract(), 0, ALL)
        .await
        .unwrap()
}

fn keys(rows: &[VaultEvent]) -> Vec<(u64, B256, B256, u64, String)> {
    rows.iter()
        .map(|e| {
            (
                e.block_number,
                e.block_hash,
                e.tx_hash,
                e.log_index,
                e.name.clone(),
            )
        })
        .collect()
}

fn field(e: &VaultEvent, name: &str) -> String {
    e.fields[name]
        .as_str()
        .unwrap_or_else(|| panic!("{} has no {name}: {}", e.name, e.fields))
        .to_owned()
}

async fn events_become_rows_exactly(s: TestStack) {
    scenario(&s).await;
    let report: SyncReport = indexer(&s, config()).sync_once().await.unwrap();
    let rows = rows(&s).await;
    let expected = chain_logs(&s).await;
    assert_eq!(keys(&rows), expected, "one row per log, in chain order");
    assert_eq!(report.events, rows.len() as u64);
    assert_eq!(report.checkpoint, Some(report.safe_head));

    let names: Vec<&str> = rows.iter().map(|e| e.name.as_str()).collect();
    for name in [
        "Deposit",
        "Transfer",
        "InvoiceAdvanced",
        "InvoiceRepaid",
        "RedeemRequested",
        "RedeemFilled",
        "RedeemClaimed",
    ] {
        assert!(names.contains(&name), "no {name} row in {names:?}");
    }
    // Values exactly, decimal strings and typed columns.
    let deposit = rows.iter().find(|e| e.name == "Deposit").unwrap();
    assert_eq!(field(deposit, "assets"), "10000000000000000000");
    assert_eq!(deposit.assets, Some(eth("10")));
    assert_eq!(deposit.account, Some(s.investors[0]));
    let advanced = rows.iter().find(|e| e.name == "InvoiceAdvanced").unwrap();
    assert_eq!(advanced.assets, Some(eth("2")));
    assert_eq!(field(advanced, "fee"), "100000000000000000");
    assert_eq!(advanced.account, Some(s.businesses[0]));
    let repaid = rows.iter().find(|e| e.name == "InvoiceRepaid").unwrap();
    assert_eq!(repaid.invoice_id, advanced.invoice_id);
    assert_eq!(field(repaid, "principalPaid"), "2000000000000000000");

    // ETH/USD at each event's block, and the share price history.
    let at = s.chain_contract();
    let price =
        s.db.eth_usd_price_at(at, deposit.block_number)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(price.block_number, deposit.block_number);
    assert_eq!(price.price, Decimal::from(3000));
    let shares = s.db.share_prices_between(at, 0, ALL).await.unwrap();
    let event_blocks: std::collections::BTreeSet<u64> =
        rows.iter().map(|e| e.block_number).collect();
    assert_eq!(
        shares
            .iter()
            .map(|p| p.block_number)
            .collect::<std::collections::BTreeSet<_>>(),
        event_blocks
    );
    let vault = s.vault();
    for p in &shares {
        let assets = vault
            .totalAssets()
            .block(p.block_number.into())
            .call()
            .await
            .unwrap();
        assert_eq!(
            p.total_assets, assets,
            "totalAssets at block {}",
            p.block_number
        );
    }

    // A second pass with nothing new stores nothing.
    let again = indexer(&s, config()).sync_once().await.unwrap();
    assert_eq!((again.events, again.batches), (0, 0));
}

async fn restart_mid_backfill_leaves_no_duplicate_and_no_gap(s: TestStack) {
    scenario(&s).await;
    let safe = s.block_number().await - IndexerConfig::default().confirmations;
    let mid = (s.manifest.deployment_block + safe) / 2;
    {
        let mut first = indexer(
            &s,
            IndexerConfig {
                max_range: 3,
                ..config()
            },
        );
        let report = first.sync_until(mid).await.unwrap();
        assert_eq!(report.checkpoint, Some(mid));
        assert!(report.batches > 1, "several small ranges: {report:?}");
    } // dropped mid-backfill, as a killed process would be
    let stored = rows(&s).await;
    assert!(stored.iter().all(|e| e.block_number <= mid));
    let report = indexer(&s, config()).sync_once().await.unwrap();
    assert_eq!(report.checkpoint, Some(safe));
    assert_eq!(keys(&rows(&s).await), chain_logs(&s).await);
}

async fn reorg_by_snapshot_revert_rolls_back_and_replays(s: TestStack) {
    let (alice, bob, carol) = (s.investors[0], s.investors[1], s.investors[2]);
    s.deposit(alice, eth("10")).await;
    s.mine(2).await;
    let snapshot = s.snapshot().await;
    s.deposit(bob, eth("3")).await;
    s.advance(s.businesses[0], eth("1"), eth("0.05"), 20).await;
    s.mine(3).await;
    let mut idx = indexer(&s, config());
    idx.sync_once().await.unwrap();
    let before = rows(&s).await;
    assert!(before.iter().any(|e| e.name == "InvoiceAdvanced"));

    // The chain forgets the last blocks; different transactions take their place (and more blocks).
    s.revert(snapshot).await;
    s.deposit(carol, eth("7")).await;
    s.mine(6).await;
    let report = idx.sync_once().await.unwrap();
    assert_eq!(report.reorgs, 1, "{report:?}");
    let after = rows(&s).await;
    assert_eq!(keys(&after), chain_logs(&s).await);
    assert!(
        !after.iter().any(|e| e.name == "InvoiceAdvanced"),
        "the advance was rolled back"
    );
    assert!(after
        .iter()
        .any(|e| e.name == "Deposit" && e.account == Some(carol)));
    assert!(!after
        .iter()
        .any(|e| e.name == "Deposit" && e.account == Some(bob)));
    // No price or share-price row of a block that is gone survives.
    let shares =
        s.db.share_prices_between(s.chain_contract(), 0, ALL)
            .await
            .unwrap();
    let event_blocks: std::collections::BTreeSet<u64> =
        after.iter().map(|e| e.block_number).collect();
    assert_eq!(
        shares
            .iter()
            .map(|p| p.block_number)
            .collect::<std::collections::BTreeSet<_>>(),
        event_blocks
    );
}

async fn anvil_reorg_drops_the_rows_of_replaced_blocks(s: TestStack) {
    s.deposit(s.investors[0], eth("4")).await;
    s.mine(3).await;
    s.deposit(s.investors[1], eth("2")).await; // at tip − 3 after the next line
    s.mine(3).await;
    let mut idx = indexer(&s, config());
    idx.sync_once().await.unwrap();
    assert_eq!(
        rows(&s)
            .await
            .iter()
            .filter(|e| e.name == "Deposit")
            .count(),
        2
    );

    s.reorg(4).await; // the last 4 blocks, the second deposit's among them, become empty blocks
    s.mine(1).await;
    let report = idx.sync_once().await.unwrap();
    assert_eq!(report.reorgs, 1, "{report:?}");
    let after = rows(&s).await;
    assert_eq!(keys(&after), chain_logs(&s).await);
    assert_eq!(after.iter().filter(|e| e.name == "Deposit").count(), 1);
}

async fn database_reproduces_share_supply_and_balances(s: TestStack) {
    scenario(&s).await;
    indexer(&s, config()).sync_once().await.unwrap();
    let rows = rows(&s).await;

    // Balances from the ERC-20 Transfers of shares (mints from, burns to the zero address).
    let mut balances: BTreeMap<Address, U256> = BTreeMap::new();
    let mut supply = U256::ZERO;
    let (mut minted, mut burned) = (U256::ZERO, U256::ZERO);
    for e in rows.iter().filter(|e| e.name == "Transfer") {
        let from: Address = field(e, "from").parse().unwrap();
        let to: Address = field(e, "to").parse().unwrap();
        let value: U256 = field(e, "value").parse().unwrap();
        if from == Address::ZERO {
            supply += value;
            minted += value;
        } else {
            *balances.entry(from).or_default() -= value;
        }
        if to == Address::ZERO {
            supply -= value;
            burned += value;
        } else {
            *balances.entry(to).or_default() += value;
        }
    }
    // Every mint is a Deposit; every burn a Withdraw or a filled queue request.
    let sum = |name: &str| -> U256 {
        rows.iter()
            .filter(|e| e.name == name)
            .map(|e| e.shares.unwrap())
            .sum()
    };
    assert_eq!(minted, sum("Deposit"));
    assert_eq!(burned, sum("Withdraw") + sum("RedeemFilled"));

    let vault = s.vault();
    let block = rows.last().unwrap().block_number;
    assert_eq!(
        supply,
        vault
            .totalSupply()
            .block(block.into())
            .call()
            .await
            .unwrap()
    );
    let mut holders: Vec<Address> = s.investors.clone();
    holders.push(s.manifest.contracts.vault); // shares locked in the queue
    holders.extend(balances.keys().copied());
    for who in holders {
        assert_eq!(
            balances.get(&who).copied().unwrap_or_default(),
            vault
                .balanceOf(who)
                .block(block.into())
                .call()
                .await
                .unwrap(),
            "shares of {who}"
        );
    }
    // NAV: the last share-price row is the vault's totalAssets/totalSupply at that block.
    let last =
        s.db.share_prices_between(s.chain_contract(), 0, ALL)
            .await
            .unwrap()
            .pop()
            .unwrap();
    assert_eq!(last.block_number, block);
    assert_eq!(
        last.total_assets,
        vault
            .totalAssets()
            .block(block.into())
            .call()
            .await
            .unwrap()
    );
    assert_eq!(last.total_supply, supply);
}
