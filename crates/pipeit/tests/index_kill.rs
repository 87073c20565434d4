//! The real `pipeit index` process SIGKILLed in the middle of a backfill, several times, then
//! restarted: the database holds every vault log of the chain exactly once (no duplicate, no gap),
//! on SQLite and on PostgreSQL. A range is stored in one transaction with its checkpoint, so a kill
//! can only lose a whole uncommitted range, which the next run indexes again.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed setup should panic

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use alloy::primitives::{B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use pipeit_testkit::TestStack;

const CONFIRMATIONS: u64 = 2;
/// Deposits: each is a block with Deposit + Transfer logs from the vault.
const DEPOSITS: u64 = 240;
/// Blocks per eth_getLogs range: many small ranges, so a kill lands inside the backfill.
const MAX_RANGE: &str = "2";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    killed_mid_backfill_then_restarted(TestStack::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    let Some(stack) = TestStack::start_postgres().await else {
        return;
    };
    killed_mid_backfill_then_restarted(stack).await;
}

fn index_cmd(stack: &TestStack) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pipeit"));
    cmd.args(["index", "--once", "--max-range", MAX_RANGE])
        .env("PIPEIT_RPC_URL", &stack.rpc_url)
        .env("PIPEIT_MANIFEST", &stack.manifest_path)
        .env("PIPEIT_DATABASE_URL", &stack.db_url)
        .env("PIPEIT_CONFIRMATIONS", CONFIRMATIONS.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

async fn checkpoint(stack: &TestStack) -> u64 {
    stack
        .db
        .checkpoint(stack.chain_contract())
        .await
        .unwrap()
        .map_or(0, |c| c.block_number)
}

/// The vault's logs on chain up to `to`, as (block, block hash, tx, log index).
async fn chain_logs(stack: &TestStack, to: u64) -> Vec<(u64, B256, B256, u64)> {
    let filter = Filter::new()
        .address(stack.manifest.contracts.vault)
        .from_block(stack.manifest.deployment_block)
        .to_block(to);
    stack
        .provider
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
            )
        })
        .collect()
}

async fn killed_mid_backfill_then_restarted(stack: TestStack) {
    let wei = U256::from(10u64).pow(U256::from(15)); // 0.001 ETH per deposit
    for i in 0..DEPOSITS {
        let investor = stack.investors[(i % 3) as usize];
        stack.deposit(investor, wei * U256::from(i + 1)).await;
    }
    stack.mine(CONFIRMATIONS).await;
    let safe = stack.block_number().await - CONFIRMATIONS;
    let span = safe - stack.manifest.deployment_block;

    // Kill the process once the checkpoint passes a quarter, a half and three quarters of the
    // backfill (each run resumes from where the previous one was killed).
    let mut kills = Vec::new();
    for quarter in 1..=3u64 {
        let target = stack.manifest.deployment_block + span * quarter / 4;
        let mut child = index_cmd(&stack).spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if checkpoint(&stack).await >= target {
                break;
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("pipeit index exited ({status}) before block {target}: backfill too fast to kill mid-way");
            }
            assert!(Instant::now() < deadline, "no progress to block {target}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        child.kill().unwrap(); // SIGKILL: no chance to finish the range it is in
        child.wait().unwrap();
        let at = checkpoint(&stack).await;
        assert!(
            at < safe,
            "killed after the backfill ended (checkpoint {at}, safe head {safe}): not mid-backfill"
        );
        // What is stored is exactly the chain up to the checkpoint: the range being written when
        // the process died is either all there or not at all.
        let stored = stored(&stack).await;
        assert_eq!(
            stored,
            chain_logs(&stack, at).await,
            "after kill {quarter} at block {at}"
        );
        kills.push(at);
    }
    assert!(
        kills.windows(2).all(|w| w[0] < w[1]),
        "each restart went further: {kills:?}"
    );

    // A last run to the end.
    let status = index_cmd(&stack).status().unwrap();
    assert!(status.success());
    assert_eq!(checkpoint(&stack).await, safe);
    let stored = stored(&stack).await;
    let chain = chain_logs(&stack, safe).await;
    assert!(chain.len() as u64 >= 2 * DEPOSITS, "{} logs", chain.len());
    assert_eq!(stored.len(), chain.len(), "rows = chain");
    assert_eq!(
        stored, chain,
        "no duplicate, no gap, same blocks and transactions"
    );
    eprintln!(
        "killed at checkpoints {kills:?} (deployment block {}, safe head {safe}); {} rows = {} chain logs",
        stack.manifest.deployment_block,
        stored.len(),
        chain.len()
    );
}

async fn stored(stack: &TestStack) -> Vec<(u64, B256, B256, u64)> {
    stack
        .db
        .events_between(stack.chain_contract(), 0, i64::MAX as u64)
        .await
        .unwrap()
        .iter()
        .map(|e| (e.block_number, e.block_hash, e.tx_hash, e.log_index))
        .collect()
}
