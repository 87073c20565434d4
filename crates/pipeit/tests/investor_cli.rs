//! `pipeit investor …` as a real process on Anvil: a dev account, an encrypted keystore, bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

use alloy::primitives::U256;
use alloy::signers::local::PrivateKeySigner;
use pipeit_testkit::TestStack;

fn pipeit(stack: &TestStack, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pipeit"));
    command
        .args(args)
        .env("PIPEIT_RPC_URL", &stack.rpc_url)
        .env("PIPEIT_MANIFEST", &stack.manifest_path)
        .env("PIPEIT_DATABASE_URL", &stack.db_url)
        .env("PIPEIT_LOG", "warn")
        .env_remove("PIPEIT_KEYSTORE_PASSWORD");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn err(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn investor_commands_deposit_queue_and_report() {
    let stack = TestStack::start().await;
    let investor = stack.investors[0];

    ok(&pipeit(
        &stack,
        &[
            "investor",
            "deposit",
            "--eth",
            "1.5",
            "--dev-account",
            "investor-0",
        ],
        &[],
    ));
    let shares = stack.vault().balanceOf(investor).call().await.unwrap();
    assert_eq!(
        stack.vault().convertToAssets(shares).call().await.unwrap(),
        U256::from(1_500_000_000_000_000_000u64),
        "1.5 ETH deposited (an empty vault prices shares 1:1000)"
    );
    let queued = ok(&pipeit(
        &stack,
        &[
            "investor",
            "request-redeem",
            "--shares",
            "all",
            "--dev-account",
            "investor-0",
            "--json",
        ],
        &[],
    ));
    let queued: serde_json::Value = serde_json::from_str(&queued).unwrap();
    assert_eq!(queued["action"], "requestRedeem");
    assert!(queued["request_id"].is_string(), "{queued}");
    assert_eq!(
        stack.vault().balanceOf(investor).call().await.unwrap(),
        U256::ZERO
    );
    let position = ok(&pipeit(
        &stack,
        &["investor", "position", "--address", &investor.to_string()],
        &[],
    ));
    assert!(position.contains("0 shares"), "{position}");

    // An encrypted keystore: the right password sends, a wrong one is a clear error.
    let dir = tempfile::tempdir().unwrap();
    let key = stack.anvil.keys()[0].clone();
    let signer = PrivateKeySigner::from(key.clone());
    let mut rng = alloy::signers::k256::elliptic_curve::rand_core::OsRng;
    PrivateKeySigner::encrypt_keystore(
        dir.path(),
        &mut rng,
        key.to_bytes(),
        "correct horse",
        Some("investor.json"),
    )
    .unwrap();
    let keystore = dir.path().join("investor.json");
    let keystore = keystore.to_str().unwrap();
    ok(&pipeit(
        &stack,
        &[
            "investor",
            "deposit",
            "--eth",
            "0.25",
            "--keystore",
            keystore,
        ],
        &[("PIPEIT_KEYSTORE_PASSWORD", "correct horse")],
    ));
    assert!(
        stack
            .vault()
            .balanceOf(signer.address())
            .call()
            .await
            .unwrap()
            > U256::ZERO
    );
    let wrong = err(&pipeit(
        &stack,
        &[
            "investor",
            "deposit",
            "--eth",
            "0.25",
            "--keystore",
            keystore,
        ],
        &[("PIPEIT_KEYSTORE_PASSWORD", "wrong")],
    ));
    assert!(wrong.contains("wrong password"), "{wrong}");
    assert!(!wrong.contains("correct horse"));

    // Bad input: each a message with the fix.
    let none = err(&pipeit(&stack, &["investor", "deposit", "--eth", "1"], &[]));
    assert!(
        none.contains("--keystore") && none.contains("--dev-account"),
        "{none}"
    );
    let bad_amount = err(&pipeit(
        &stack,
        &[
            "investor",
            "deposit",
            "--eth",
            "lots",
            "--dev-account",
            "investor-0",
        ],
        &[],
    ));
    assert!(bad_amount.contains("decimal amount of ETH"), "{bad_amount}");
    let unknown = err(&pipeit(
        &stack,
        &[
            "investor",
            "deposit",
            "--eth",
            "1",
            "--dev-account",
            "alice",
        ],
        &[],
    ));
    assert!(unknown.contains("investor-0"), "{unknown}");
    let too_many = err(&pipeit(
        &stack,
        &[
            "investor",
            "redeem",
            "--shares",
            "999999999999999999999999999",
            "--dev-account",
            "investor-1",
        ],
        &[],
    ));
    assert!(too_many.contains("redeemable"), "{too_many}");
}
