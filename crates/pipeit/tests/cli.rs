//! The `pipeit` binary end to end: a real Anvil with the devnet deployed, a real SQLite file, the real process.
#![allow(clippy::unwrap_used)] // tests: a failed setup should panic

use std::process::Command;

use alloy::primitives::U256;
use pipeit_testkit::TestStack;

fn pipeit(stack: &TestStack, db_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pipeit"))
        .args(args)
        .env("PIPEIT_RPC_URL", &stack.rpc_url)
        .env("PIPEIT_MANIFEST", &stack.manifest_path)
        .env("PIPEIT_DATABASE_URL", db_url)
        .env("PIPEIT_CONFIRMATIONS", "0")
        .output()
        .expect("pipeit runs")
}

#[tokio::test]
async fn index_once_stores_the_vault_events() {
    let stack = TestStack::start().await;
    stack
        .deposit(stack.investors[0], U256::from(10u64).pow(U256::from(18u64)))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}", dir.path().join("cli.sqlite").display());

    let out = pipeit(&stack, &db_url, &["index", "--once"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("indexed to block"), "{stdout}");
    assert!(
        !stdout.contains(" 0 events"),
        "the deposit (and the deployment's events) are indexed: {stdout}"
    );

    // A second pass finds nothing new.
    let again = pipeit(&stack, &db_url, &["index", "--once"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains(" 0 events"));
}

#[tokio::test]
async fn wrong_chain_and_missing_manifest_are_clear_errors() {
    let stack = TestStack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}", dir.path().join("cli.sqlite").display());

    let missing = Command::new(env!("CARGO_BIN_EXE_pipeit"))
        .args([
            "index",
            "--once",
            "--manifest",
            "/nope/manifest.json",
            "--database-url",
            &db_url,
        ])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("run scripts/dev or pipeit deploy first"),
        "{stderr}"
    );

    let manifest = std::fs::read_to_string(&stack.manifest_path)
        .unwrap()
        .replace("8453", "84532");
    let other = dir.path().join("manifest.json");
    std::fs::write(&other, manifest).unwrap();
    let wrong = Command::new(env!("CARGO_BIN_EXE_pipeit"))
        .args([
            "index",
            "--once",
            "--rpc-url",
            &stack.rpc_url,
            "--database-url",
            &db_url,
        ])
        .arg("--manifest")
        .arg(&other)
        .output()
        .unwrap();
    assert!(!wrong.status.success());
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        stderr.contains("84532") && stderr.contains("8453"),
        "{stderr}"
    );
}

#[test]
fn config_never_prints_the_database_password() {
    let out = Command::new(env!("CARGO_BIN_EXE_pipeit"))
        .args(["config"])
        .env(
            "PIPEIT_DATABASE_URL",
            "postgres://pipeit:s3cret@db.example/pipeit",
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(stdout.contains("db.example"), "{stdout}");
    assert!(!stdout.contains("s3cret"), "{stdout}");
}
