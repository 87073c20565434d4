//! The real `pipeit keeper tick` process SIGKILLed at injected points — after recording an intent,
//! after recording a signed transaction but before broadcasting it, after broadcasting it but before
//! recording the outcome, between two batches — and restarted many times, with new invoices arriving
//! in between. Afterwards: every invoice advanced exactly once on-chain, none lost, the business paid
//! exactly once per invoice, the outbox consistent. On SQLite and PostgreSQL. And two `tick`s started
//! together: one acts, the other exits 3.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Output, Stdio};

use alloy::primitives::{B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEvent;
use chrono::{DateTime, Days, Utc};
use pipeit_chain::bindings::EventsLib;
use pipeit_core::{Currency, InvoiceRecord};
use pipeit_db::{Db, InvoiceStatus, OutboxStatus};
use pipeit_testkit::TestStack;
use rust_decimal::Decimal;

const ETH: u128 = 1_000_000_000_000_000_000;

struct Env {
    _dir: tempfile::TempDir,
    signal: std::path::PathBuf,
    data: std::path::PathBuf,
    key: String,
}

fn env(stack: &TestStack) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let key = stack
        .anvil
        .keys()
        .iter()
        .map(|k| PrivateKeySigner::from(k.clone()))
        .find(|s| s.address() == stack.keeper)
        .unwrap();
    Env {
        signal: dir.path().join("signal.json"),
        data: dir.path().join("data"),
        key: alloy::primitives::hex::encode(key.to_bytes()),
        _dir: dir,
    }
}

fn tick(stack: &TestStack, env: &Env, crash: Option<(&str, u32)>) -> std::process::Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pipeit"));
    cmd.args(["keeper", "tick"])
        .env("PIPEIT_RPC_URL", &stack.rpc_url)
        .env("PIPEIT_MANIFEST", &stack.manifest_path)
        .env("PIPEIT_DATABASE_URL", &stack.db_url)
        .env("PIPEIT_DATA_DIR", &env.data)
        .env("PIPEIT_CONFIRMATIONS", "0")
        .env("PIPEIT_KEEPER_KEY", &env.key)
        .env("PIPEIT_KEEPER_SIGNALS", "file")
        .env("PIPEIT_KEEPER_SIGNAL_FILE", &env.signal)
        .env("PIPEIT_KEEPER_NO_REBALANCE", "1")
        .env("PIPEIT_KEEPER_BATCH_SIZE", "3")
        .env("PIPEIT_KEEPER_RECEIPT_TIMEOUT_SECS", "10")
        .env("PIPEIT_LOG", "warn")
        .env_remove("PIPEIT_KEEPER_CRASH_AT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some((point, after)) = crash {
        cmd.env("PIPEIT_KEEPER_CRASH_AT", point)
            .env("PIPEIT_KEEPER_CRASH_AFTER", after.to_string());
    }
    cmd.spawn().expect("start pipeit keeper tick")
}

fn wait(child: std::process::Child) -> Output {
    child.wait_with_output().unwrap()
}

async fn add_invoices(stack: &TestStack, business: i64, from: u32, n: u32) -> Vec<i64> {
    let now = DateTime::from_timestamp(stack.timestamp().await as i64, 0).unwrap();
    let today = now.date_naive();
    let mut ids = Vec::new();
    for i in from..from + n {
        let record = InvoiceRecord {
            debtor_name: format!("Debtor {i}"),
            debtor_tax_id: format!("GB{:06}", i),
            debtor_country: "GB".into(),
            invoice_number: format!("K-{i}"),
            currency: Currency::Usd,
            amount: Decimal::from(2_400 + i64::from(i)),
            issue_date: today - Days::new(3),
            due_date: today + Days::new(45),
            document_hash: None,
        };
        ids.push(stack.db.insert_invoice(business, &record).await.unwrap().id);
    }
    ids
}

fn write_signal(env: &Env, now: DateTime<Utc>) {
    std::fs::write(
        &env.signal,
        format!(
            r#"{{"as_of": "{}", "risk": "0.2", "trend": "0"}}"#,
            now.to_rfc3339()
        ),
    )
    .unwrap();
}

async fn crash_and_restart(stack: TestStack) {
    let env = env(&stack);
    let now = DateTime::from_timestamp(stack.timestamp().await as i64, 0).unwrap();
    write_signal(&env, now);
    stack
        .deposit(stack.investors[0], U256::from(200 * ETH))
        .await;
    let payout = stack.businesses[0];
    let business = stack.db.insert_business("Acme", payout).await.unwrap();
    let balance_before = stack.provider.get_balance(payout).await.unwrap();

    let plan: &[(&str, u32)] = &[
        ("after_intent", 1),
        ("before_broadcast", 1),
        ("after_broadcast", 1),
        ("between_batches", 1),
        ("before_broadcast", 2),
        ("after_broadcast", 3),
        ("between_batches", 2),
        ("after_intent", 2),
        ("after_broadcast", 1),
        ("before_broadcast", 1),
    ];
    let mut all = Vec::new();
    let mut next = 0;
    let mut killed = 0;
    for (point, after) in plan {
        all.extend(add_invoices(&stack, business.id, next, 7).await);
        next += 7;
        let out = wait(tick(&stack, &env, Some((point, *after))));
        if out.status.signal() == Some(9) {
            killed += 1;
        } else {
            assert!(
                out.status.code().is_some_and(|c| c == 0 || c == 2),
                "{point}/{after}: {}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    assert!(
        killed >= 8,
        "the injected points were reached ({killed} kills)"
    );
    // Restarts without crashes until nothing is left to do.
    for _ in 0..6 {
        let out = wait(tick(&stack, &env, None));
        assert!(
            out.status.code().is_some_and(|c| c == 0 || c == 2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if stack
            .db
            .list_invoices(None, Some(InvoiceStatus::Scored))
            .await
            .unwrap()
            .is_empty()
            && stack
                .db
                .list_invoices(None, Some(InvoiceStatus::Submitted))
                .await
                .unwrap()
                .is_empty()
        {
            break;
        }
    }
    check_consistent(&stack, &all, balance_before).await;
}

async fn check_consistent(stack: &TestStack, all: &[i64], balance_before: U256) {
    let db: &Db = &stack.db;
    // None lost: every invoice advanced, in the database and on-chain.
    let mut by_canonical = BTreeMap::new();
    for id in all {
        let inv = db.invoice(*id).await.unwrap().unwrap();
        assert_eq!(inv.status, InvoiceStatus::Advanced, "invoice {id}");
        by_canonical.insert(inv.canonical_id, *id);
    }
    // Never twice: one InvoiceAdvanced log per invoice, and the business paid exactly the principals.
    let logs = stack
        .provider
        .get_logs(
            &Filter::new()
                .address(stack.manifest.contracts.vault)
                .event_signature(EventsLib::InvoiceAdvanced::SIGNATURE_HASH)
                .from_block(0),
        )
        .await
        .unwrap();
    let mut seen: BTreeMap<B256, u32> = BTreeMap::new();
    let mut principal = U256::ZERO;
    for log in &logs {
        let e = EventsLib::InvoiceAdvanced::decode_log(&log.inner).unwrap();
        *seen.entry(e.id).or_default() += 1;
        principal += e.principal;
    }
    assert_eq!(seen.len(), all.len());
    assert!(seen.values().all(|n| *n == 1), "{seen:?}");
    assert!(seen.keys().all(|k| by_canonical.contains_key(k)));
    // The keeper pays gas, not the business: its balance moved by the principals exactly.
    let balance_after = stack
        .provider
        .get_balance(stack.businesses[0])
        .await
        .unwrap();
    assert_eq!(balance_after - balance_before, principal);
    // The outbox: nothing left in flight; each invoice in exactly one mined advance, whose hash it carries.
    assert!(db.outbox_pending().await.unwrap().is_empty());
    assert!(db.outbox_list(OutboxStatus::Sent).await.unwrap().is_empty());
    let mut carried: BTreeMap<i64, u32> = BTreeMap::new();
    let mut nonces = BTreeSet::new();
    for entry in db.outbox_list(OutboxStatus::Mined).await.unwrap() {
        assert!(
            nonces.insert(entry.nonce.unwrap()),
            "nonce reused by two mined entries"
        );
        let receipt = stack
            .provider
            .get_transaction_receipt(entry.tx_hash.unwrap())
            .await
            .unwrap()
            .expect("mined entry has a receipt");
        assert!(receipt.status());
        for id in entry.payload["extra"]["invoices"].as_array().unwrap() {
            let id = id.as_i64().unwrap();
            *carried.entry(id).or_default() += 1;
            let inv = db.invoice(id).await.unwrap().unwrap();
            assert_eq!(inv.advance_tx_hash, entry.tx_hash, "invoice {id}");
        }
    }
    for id in all {
        assert_eq!(carried.get(id), Some(&1), "invoice {id} in mined advances");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_safety_on_sqlite() {
    crash_and_restart(TestStack::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_safety_on_postgres() {
    if let Some(stack) = TestStack::start_postgres().await {
        crash_and_restart(stack).await;
    }
}

async fn two_at_once(stack: TestStack) {
    let env = env(&stack);
    let now = DateTime::from_timestamp(stack.timestamp().await as i64, 0).unwrap();
    write_signal(&env, now);
    stack
        .deposit(stack.investors[0], U256::from(50 * ETH))
        .await;
    let balance_before = stack
        .provider
        .get_balance(stack.businesses[0])
        .await
        .unwrap();
    let business = stack
        .db
        .insert_business("Acme", stack.businesses[0])
        .await
        .unwrap();
    let all = add_invoices(&stack, business.id, 0, 6).await;

    // A keeper holds the lock: a second one does nothing and says why (exit code 3).
    let key = stack
        .anvil
        .keys()
        .iter()
        .map(|k| PrivateKeySigner::from(k.clone()))
        .find(|s| s.address() == stack.keeper)
        .unwrap();
    let config = pipeit_keeper::KeeperConfig::new(
        stack.rpc_url.clone(),
        stack.db_url.clone(),
        stack.manifest.clone(),
        key,
    );
    let holder = pipeit_keeper::Keeper::start_with_db(config, stack.db.clone())
        .await
        .unwrap();
    let out = wait(tick(&stack, &env, None));
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("another keeper holds the lock"));
    assert_eq!(
        stack
            .db
            .list_invoices(None, Some(InvoiceStatus::Submitted))
            .await
            .unwrap()
            .len(),
        6,
        "the second keeper did nothing"
    );
    drop(holder);

    // Two started together: one acts (the other exits 3), or they did not overlap and the second
    // found nothing left to do; either way nothing is advanced twice.
    let a = tick(&stack, &env, None);
    let b = tick(&stack, &env, None);
    let (a, b) = (wait(a), wait(b));
    let mut codes = [a.status.code().unwrap(), b.status.code().unwrap()];
    codes.sort_unstable();
    assert!(
        codes == [0, 3] || codes == [0, 0],
        "{codes:?}: {}{}",
        String::from_utf8_lossy(&a.stderr),
        String::from_utf8_lossy(&b.stderr)
    );
    check_consistent(&stack, &all, balance_before).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_keepers_at_once_on_sqlite() {
    two_at_once(TestStack::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_keepers_at_once_on_postgres() {
    if let Some(stack) = TestStack::start_postgres().await {
        two_at_once(stack).await;
    }
}

/// `pipeit keeper run` as a process: it advances what arrives, serves /metrics, and exits 0 on
/// SIGTERM once the tick in progress is done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keeper_run_serves_metrics_and_stops_on_sigterm() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let stack = TestStack::start().await;
    let env = env(&stack);
    let now = DateTime::from_timestamp(stack.timestamp().await as i64, 0).unwrap();
    write_signal(&env, now);
    stack
        .deposit(stack.investors[0], U256::from(20 * ETH))
        .await;
    let business = stack
        .db
        .insert_business("Acme", stack.businesses[0])
        .await
        .unwrap();
    let ids = add_invoices(&stack, business.id, 0, 2).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pipeit"));
    cmd.args(["keeper", "run", "--interval-secs", "1"])
        .env("PIPEIT_RPC_URL", &stack.rpc_url)
        .env("PIPEIT_MANIFEST", &stack.manifest_path)
        .env("PIPEIT_DATABASE_URL", &stack.db_url)
        .env("PIPEIT_DATA_DIR", &env.data)
        .env("PIPEIT_CONFIRMATIONS", "0")
        .env("PIPEIT_KEEPER_KEY", &env.key)
        .env("PIPEIT_KEEPER_SIGNALS", "file")
        .env("PIPEIT_KEEPER_SIGNAL_FILE", &env.signal)
        .env("PIPEIT_KEEPER_NO_REBALANCE", "true")
        .env("PIPEIT_KEEPER_METRICS_ADDR", format!("127.0.0.1:{port}"))
        .env("PIPEIT_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let all_advanced = {
            let mut ok = true;
            for id in &ids {
                ok &=
                    stack.db.invoice(*id).await.unwrap().unwrap().status == InvoiceStatus::Advanced;
            }
            ok
        };
        if all_advanced {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not advanced");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    conn.write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut body = String::new();
    conn.read_to_string(&mut body).await.unwrap();
    assert!(body.contains("pipeit_keeper_ticks_ok_total"), "{body}");
    assert!(
        body.contains("pipeit_keeper_invoices_advanced_total 2"),
        "{body}"
    );
    assert!(body.contains("pipeit_keeper_lag_blocks"), "{body}");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("keeper stopped"));
}
