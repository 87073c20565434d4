//! `pipeit deploy` end to end on Anvil: a preset pointing at the TestStack's local WETH, USDC,
//! Uniswap, feeds and yield vault (the stand-ins for Base's), the real binary, the real key paths
//! (environment and an encrypted keystore made by `cast wallet new`), and every bad input the
//! command must refuse with a clear message.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed setup should panic

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use pipeit_chain::bindings::{FactoringVault, OracleGuard};
use pipeit_chain::deploy::{journal_path, Journal};
use pipeit_chain::Manifest;
use pipeit_testkit::TestStack;

/// Anvil's dev account the tests deploy from (its key is public: local chains only).
const DEPLOYER_INDEX: usize = 8;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn key_hex(stack: &TestStack, index: usize) -> String {
    format!(
        "0x{}",
        alloy::primitives::hex::encode(stack.anvil.keys()[index].to_bytes())
    )
}

fn account(stack: &TestStack, index: usize) -> Address {
    stack.anvil.addresses()[index]
}

/// A preset for chain `chain_id` over the stack's local contracts; admin is account 9 (not the
/// deployer, so the two-step admin transfer runs), keeper 1, pauser 7, treasury 2.
fn write_preset(
    stack: &TestStack,
    dir: &Path,
    chain_id: u64,
    tweak: impl FnOnce(String) -> String,
) -> PathBuf {
    let c = &stack.manifest.contracts;
    let text = format!(
        r#"name = "anvil-local"
chain_id = {chain_id}
[contracts]
weth = "{}"
usdc = "{}"
uniswap_v3_factory = "{}"
nonfungible_position_manager = "{}"
swap_router02 = "{}"
eth_usd_feed = "{}"
usdc_usd_feed = "{}"
sequencer_uptime_feed = "{}"
erc4626_target = "{}"
[roles]
admin = "{}"
keeper = "{}"
pauser = "{}"
treasury = "{}"
[settings]
pool_fee = 500
max_slippage_bps = 100
eth_usd_max_age_seconds = 172800
usdc_usd_max_age_seconds = 172800
sequencer_grace_seconds = 3600
admin_delay_seconds = 3600
yield_strategy_cap_eth = "500"
hedge_strategy_cap_eth = "300"
[risk]
max_advance_per_invoice_eth = "100"
max_exposure_per_business_eth = "300"
max_utilisation_bps = 9000
min_idle_bps = 500
protocol_fee_bps = 1000
max_late_fee_bps_per_day = 50
max_tenor_seconds = 10368000
grace_period_seconds = 1296000
public_write_off_delay_seconds = 1296000
move_window_seconds = 86400
move_cap_per_window_eth = "1000"
"#,
        c.weth,
        c.usdc,
        c.uniswap_v3_factory,
        c.nonfungible_position_manager,
        c.swap_router02,
        c.eth_usd_feed,
        c.usdc_usd_feed,
        c.sequencer_uptime_feed,
        c.dev_yield_vault,
        account(stack, 9),
        account(stack, 1),
        account(stack, 7),
        account(stack, 2),
    );
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("anvil-local.toml");
    std::fs::write(&path, tweak(text)).unwrap();
    path
}

/// `pipeit deploy` with a clean environment: only what `envs` sets.
fn deploy_cmd(stack: &TestStack, args: &[&str], envs: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pipeit"));
    cmd.arg("deploy")
        .args(args)
        .env("PIPEIT_RPC_URL", &stack.rpc_url)
        .env_remove("PIPEIT_DEPLOYER_KEY")
        .env_remove("PIPEIT_KEYSTORE_PASSWORD")
        .env_remove("PIPEIT_MANIFEST")
        .stdin(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd
}

fn deploy(stack: &TestStack, args: &[&str], envs: &[(&str, &str)]) -> Output {
    deploy_cmd(stack, args, envs).output().expect("pipeit runs")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_fails_with(out: &Output, needles: &[&str]) {
    let (stdout, stderr) = text(out);
    assert!(
        !out.status.success(),
        "expected a failure; stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for n in needles {
        assert!(stderr.contains(n), "stderr lacks {n:?}:\n{stderr}");
    }
}

/// Checks on chain that `manifest` describes a working production deployment of `stack`'s preset.
async fn check_deployment(stack: &TestStack, manifest: &Manifest) {
    let vault = FactoringVault::new(manifest.contracts.vault, &stack.provider);
    assert_eq!(
        vault.asset().call().await.unwrap(),
        stack.manifest.contracts.weth
    );
    assert_eq!(
        vault.ORACLE().call().await.unwrap(),
        manifest.contracts.oracle_guard
    );
    let keeper_role = vault.KEEPER_ROLE().call().await.unwrap();
    let pauser_role = vault.PAUSER_ROLE().call().await.unwrap();
    assert!(vault
        .hasRole(keeper_role, account(stack, 1))
        .call()
        .await
        .unwrap());
    assert!(vault
        .hasRole(pauser_role, account(stack, 7))
        .call()
        .await
        .unwrap());
    assert!(!vault
        .hasRole(keeper_role, account(stack, DEPLOYER_INDEX))
        .call()
        .await
        .unwrap());
    // The configured admin takes over through the two-step transfer the deploy started.
    let pending = vault.pendingDefaultAdmin().call().await.unwrap();
    assert_eq!(pending.newAdmin, account(stack, 9));
    assert_eq!(
        vault.defaultAdmin().call().await.unwrap(),
        account(stack, DEPLOYER_INDEX)
    );
    let strategies = vault.strategies().call().await.unwrap();
    assert_eq!(
        strategies,
        vec![
            manifest.contracts.erc4626_strategy,
            manifest.contracts.uniswap_v3_swap_strategy
        ]
    );
    // The oracle guard reads the (local) Chainlink-style feeds: 3,000 USD with 18 decimals.
    let oracle = OracleGuard::new(manifest.contracts.oracle_guard, &stack.provider);
    assert_eq!(
        oracle.ethUsd().call().await.unwrap(),
        U256::from(3_000u64) * U256::from(10u64).pow(U256::from(18))
    );
    // The vault works: a deposit goes through. Sent like every TestStack action, with a fixed gas
    // limit: once, with alloy's estimate as the limit, this deposit reverted (an estimate made on one
    // block can fall short on the next, e.g. when the accrual walks a new day).
    let investor = stack.investors[0];
    let owned = FactoringVault::new(manifest.contracts.vault, stack.provider.clone());
    pipeit_testkit::send(
        "depositETH",
        owned
            .depositETH(investor)
            .value(U256::from(10u64).pow(U256::from(18)))
            .from(investor),
    )
    .await;
    assert_eq!(manifest.roles.admin, account(stack, 9));
    assert_eq!(manifest.chain_id, 8453);
    assert!(manifest.deployment_block > 0);
}

#[tokio::test]
async fn dry_run_then_deploy_from_a_local_preset_then_nothing_to_do() {
    let stack = TestStack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let preset = write_preset(&stack, dir.path(), 8453, |t| t);
    let manifest_path = dir.path().join("out/manifest.json");
    let key = key_hex(&stack, DEPLOYER_INDEX);
    let deployer = account(&stack, DEPLOYER_INDEX);
    let args = [
        "--network",
        preset.to_str().unwrap(),
        "--manifest",
        manifest_path.to_str().unwrap(),
    ];
    let nonce_before = stack
        .provider
        .get_transaction_count(deployer)
        .await
        .unwrap();

    // Dry run: the plan, with constructor arguments, roles and gas; nothing sent, nothing written.
    let mut dry_args = args.to_vec();
    dry_args.push("--dry-run");
    let out = deploy(&stack, &dry_args, &[("PIPEIT_DEPLOYER_KEY", &key)]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for needle in [
        "network anvil-local (chain id 8453)",
        "InvoiceLogic",
        "ParamsLib",
        "OracleGuard",
        "FactoringVault",
        "ERC4626Strategy",
        "UniswapV3SwapStrategy",
        "vault.addStrategy(ERC4626Strategy)",
        "vault.beginDefaultAdminTransfer",
        "keeper = ",
        "dry run: nothing was sent",
    ] {
        assert!(
            stdout.contains(needle),
            "dry run lacks {needle:?}:\n{stdout}"
        );
    }
    assert!(
        !stdout.contains("CreateCollision") && stdout.matches("not estimated").count() == 3,
        "every creation is estimated, only the 3 calls on the vault are not:\n{stdout}"
    );
    let vault_line = stdout
        .lines()
        .find(|l| l.contains(" FactoringVault "))
        .unwrap();
    let gas: u64 = vault_line
        .split_whitespace()
        .last()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("the vault's creation is estimated:\n{stdout}"));
    assert!(gas > 1_000_000, "{vault_line}");
    assert!(
        !stdout.contains(&key[2..]) && !stderr.contains(&key[2..]),
        "the key is never printed"
    );
    assert_eq!(
        stack
            .provider
            .get_transaction_count(deployer)
            .await
            .unwrap(),
        nonce_before
    );
    assert!(!manifest_path.exists() && !journal_path(&manifest_path).exists());

    // A dry run needs no key when told the deployer's address; a real run does.
    let deployer_text = deployer.to_string();
    let mut keyless = dry_args.clone();
    keyless.extend(["--deployer", deployer_text.as_str()]);
    let out = deploy(&stack, &keyless, &[]);
    let (dry_keyless, stderr) = text(&out);
    assert!(out.status.success(), "{dry_keyless}\n{stderr}");
    assert!(
        dry_keyless.contains(&format!("deployer {deployer}")),
        "{dry_keyless}"
    );
    let mut not_dry = args.to_vec();
    not_dry.extend(["--deployer", deployer_text.as_str()]);
    assert!(
        !deploy(&stack, &not_dry, &[]).status.success(),
        "--deployer requires --dry-run"
    );

    // The deployment.
    let out = deploy(&stack, &args, &[("PIPEIT_DEPLOYER_KEY", &key)]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    eprintln!("{stdout}");
    assert!(
        !stdout.contains(&key[2..]) && !stderr.contains(&key[2..]),
        "the key is never printed"
    );
    let manifest = Manifest::load(&manifest_path).expect("the manifest other commands read");
    check_deployment(&stack, &manifest).await;
    let journal = Journal::load(&journal_path(&manifest_path))
        .unwrap()
        .unwrap();
    assert!(journal.complete);
    assert_eq!(journal.txs.len(), 11);

    // Other commands read it: the indexer indexes the new vault from its deployment block.
    let db = dir.path().join("index.sqlite");
    let out = Command::new(env!("CARGO_BIN_EXE_pipeit"))
        .args(["index", "--once"])
        .env("PIPEIT_RPC_URL", &stack.rpc_url)
        .env("PIPEIT_MANIFEST", &manifest_path)
        .env("PIPEIT_DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("PIPEIT_CONFIRMATIONS", "0")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(
        out.status.success() && stdout.starts_with("indexed to block"),
        "{stdout}\n{stderr}"
    );
    assert!(
        !stdout.contains(" 0 events"),
        "the deposit is indexed: {stdout}"
    );

    // Running it again changes nothing.
    let nonce = stack
        .provider
        .get_transaction_count(deployer)
        .await
        .unwrap();
    let out = deploy(&stack, &args, &[("PIPEIT_DEPLOYER_KEY", &key)]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("already deployed"), "{stdout}");
    assert_eq!(
        stack
            .provider
            .get_transaction_count(deployer)
            .await
            .unwrap(),
        nonce
    );
}

async fn set_automine(stack: &TestStack, on: bool) {
    let _: serde_json::Value = stack
        .provider
        .raw_request("evm_setAutomine".into(), (on,))
        .await
        .unwrap();
}

/// Waits until the journal records `n` signed transactions and the node has the last one.
async fn wait_for_journaled(stack: &TestStack, journal: &Path, n: usize, deployer: Address) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(Some(j)) = Journal::load(journal) {
            let pending = stack
                .provider
                .get_transaction_count(deployer)
                .pending()
                .await
                .unwrap();
            if j.txs.len() >= n && pending > j.txs[n - 1].nonce {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the deploy never journaled {n} transactions"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// SIGKILL while a transaction waits to be mined, twice: once it is then mined (the resumed run
/// finds its receipt), once it is dropped from the node (the resumed run re-broadcasts the same
/// signed bytes). The key comes from an encrypted keystore.
#[tokio::test]
async fn a_deployment_killed_mid_way_resumes_from_its_journal() {
    let stack = TestStack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let preset = write_preset(&stack, dir.path(), 8453, |t| t);
    let manifest_path = dir.path().join("manifest.json");
    let journal = journal_path(&manifest_path);
    let deployer = account(&stack, DEPLOYER_INDEX);
    let keystore = make_keystore(&stack, dir.path(), DEPLOYER_INDEX, "correct horse");
    let args = [
        "--network",
        preset.to_str().unwrap(),
        "--manifest",
        manifest_path.to_str().unwrap(),
        "--keystore",
        keystore.to_str().unwrap(),
    ];
    let envs = [("PIPEIT_KEYSTORE_PASSWORD", "correct horse")];

    // 1. Killed with InvoiceLogic's transaction in the mempool; then it is mined.
    set_automine(&stack, false).await;
    let mut child = deploy_cmd(&stack, &args, &envs)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_journaled(&stack, &journal, 1, deployer).await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let _: serde_json::Value = stack
        .provider
        .raw_request("evm_mine".into(), ())
        .await
        .unwrap();

    // 2. Resumed, killed with QueueLogic's transaction pending; then the node drops it.
    let mut child = deploy_cmd(&stack, &args, &envs)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_journaled(&stack, &journal, 2, deployer).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let _: serde_json::Value = stack
        .provider
        .raw_request("anvil_dropAllTransactions".into(), ())
        .await
        .unwrap();
    assert_eq!(
        stack
            .provider
            .get_transaction_count(deployer)
            .pending()
            .await
            .unwrap(),
        Journal::load(&journal).unwrap().unwrap().txs[1].nonce
    );
    assert!(
        !manifest_path.exists(),
        "no manifest for a partial deployment"
    );

    // 3. Resumed to the end.
    set_automine(&stack, true).await;
    let out = deploy(&stack, &args, &envs);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("resuming the deployment"), "{stdout}");
    assert!(
        stdout.contains("= InvoiceLogic: mined in an earlier run"),
        "{stdout}"
    );
    assert!(stdout.contains("> QueueLogic: re-broadcast"), "{stdout}");
    let manifest = Manifest::load(&manifest_path).unwrap();
    check_deployment(&stack, &manifest).await;
    // Exactly the planned transactions: 11 nonces used, nothing deployed twice.
    let j = Journal::load(&journal).unwrap().unwrap();
    assert_eq!(
        stack
            .provider
            .get_transaction_count(deployer)
            .await
            .unwrap(),
        j.start_nonce + 11
    );
}

/// An encrypted keystore of Anvil account `index`, made with `cast wallet import`.
fn make_keystore(stack: &TestStack, dir: &Path, index: usize, password: &str) -> PathBuf {
    let cast = repo_root().join("node_modules/@foundry-rs/cast-linux-amd64/bin/cast");
    let keystores = dir.join("keystores");
    std::fs::create_dir_all(&keystores).unwrap();
    let out = Command::new(cast)
        .args(["wallet", "import", "deployer", "--keystore-dir"])
        .arg(&keystores)
        .args([
            "--private-key",
            &key_hex(stack, index),
            "--unsafe-password",
            password,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cast wallet import: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    keystores.join("deployer")
}

#[tokio::test]
async fn bad_inputs_are_refused_with_the_fix() {
    let stack = TestStack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let preset = write_preset(&stack, dir.path(), 8453, |t| t);
    let p = preset.to_str().unwrap();
    let manifest = dir.path().join("m.json");
    let m = manifest.to_str().unwrap();
    let key = key_hex(&stack, DEPLOYER_INDEX);
    let with_key = [("PIPEIT_DEPLOYER_KEY", key.as_str())];

    // Unknown network: the presets are listed.
    assert_fails_with(
        &deploy(&stack, &["--network", "base-goerli"], &with_key),
        &["unknown network \"base-goerli\"", "base, base-sepolia"],
    );
    // A committed preset with what cannot be committed missing: each field named.
    assert_fails_with(
        &deploy(&stack, &["--network", "base", "--manifest", m], &with_key),
        &[
            "roles.admin is required: set it in the preset or pass --admin",
            "contracts.erc4626_target is required",
        ],
    );
    // Wrong chain id: both named, nothing sent.
    let other_chain = write_preset(&stack, &dir.path().join("x"), 84532, |t| t);
    assert_fails_with(
        &deploy(
            &stack,
            &["--network", other_chain.to_str().unwrap(), "--manifest", m],
            &with_key,
        ),
        &["chain id 8453", "is for chain id 84532"],
    );
    // A preset address that is not what it claims (the USDC/USD feed as ETH/USD).
    let usdc_feed = stack.manifest.contracts.usdc_usd_feed.to_string();
    let eth_feed = stack.manifest.contracts.eth_usd_feed.to_string();
    let swapped = write_preset(&stack, &dir.path().join("y"), 8453, |t| {
        t.replacen(
            &format!("eth_usd_feed = \"{eth_feed}\""),
            &format!("eth_usd_feed = \"{usdc_feed}\""),
            1,
        )
    });
    assert_fails_with(
        &deploy(
            &stack,
            &["--network", swapped.to_str().unwrap(), "--manifest", m],
            &with_key,
        ),
        &[
            "contracts.eth_usd_feed",
            "describes itself as \"USDC / USD\", not \"ETH / USD\"",
        ],
    );
    // No key at all.
    assert_fails_with(
        &deploy(&stack, &["--network", p, "--manifest", m], &[]),
        &["no deployer key", "PIPEIT_DEPLOYER_KEY", "--keystore"],
    );
    // A malformed key in the environment: refused, not echoed.
    let out = deploy(
        &stack,
        &["--network", p, "--manifest", m],
        &[("PIPEIT_DEPLOYER_KEY", "0xnot-a-key-SECRETISH")],
    );
    assert_fails_with(&out, &["PIPEIT_DEPLOYER_KEY is not a private key"]);
    assert!(!text(&out).1.contains("SECRETISH"));
    // A key on the command line: refused before parsing, never echoed.
    for argv in [
        vec!["--network", p, "--private-key", &key],
        vec!["--network", p, &key],
    ] {
        let out = deploy(&stack, &argv, &[]);
        assert_fails_with(
            &out,
            &["never taken from the command line", "PIPEIT_DEPLOYER_KEY"],
        );
        let (stdout, stderr) = text(&out);
        assert!(!stderr.contains(&key[2..]) && !stdout.contains(&key[2..]));
    }
    // Keystore: wrong password, no password without a terminal, missing file, both sources at once.
    let keystore = make_keystore(&stack, dir.path(), DEPLOYER_INDEX, "right");
    let ks = keystore.to_str().unwrap();
    assert_fails_with(
        &deploy(
            &stack,
            &["--network", p, "--manifest", m, "--keystore", ks],
            &[("PIPEIT_KEYSTORE_PASSWORD", "wrong")],
        ),
        &["cannot decrypt the keystore", "wrong password"],
    );
    assert_fails_with(
        &deploy(
            &stack,
            &["--network", p, "--manifest", m, "--keystore", ks],
            &[],
        ),
        &["needs a password", "PIPEIT_KEYSTORE_PASSWORD"],
    );
    assert_fails_with(
        &deploy(
            &stack,
            &[
                "--network",
                p,
                "--manifest",
                m,
                "--keystore",
                "/nope/ks.json",
            ],
            &[("PIPEIT_KEYSTORE_PASSWORD", "x")],
        ),
        &["no keystore at /nope/ks.json"],
    );
    assert_fails_with(
        &deploy(
            &stack,
            &["--network", p, "--manifest", m, "--keystore", ks],
            &with_key,
        ),
        &["both --keystore and PIPEIT_DEPLOYER_KEY"],
    );
    // An unrelated manifest in the way is not overwritten.
    std::fs::write(&manifest, "{}").unwrap();
    assert_fails_with(
        &deploy(&stack, &["--network", p, "--manifest", m], &with_key),
        &["a manifest already exists at", "choose another --manifest"],
    );
    // None of the refusals sent anything.
    assert_eq!(
        stack
            .provider
            .get_transaction_count(account(&stack, DEPLOYER_INDEX))
            .await
            .unwrap(),
        0
    );
}

/// The journal's next transaction was dropped and the deployer then spent that nonce on something
/// else: the planned addresses no longer hold, so the resumed run refuses (naming the journal)
/// instead of deploying at other addresses.
#[tokio::test]
async fn a_plan_whose_nonce_was_taken_is_refused() {
    let stack = TestStack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let preset = write_preset(&stack, dir.path(), 8453, |t| t);
    let manifest_path = dir.path().join("manifest.json");
    let journal = journal_path(&manifest_path);
    let deployer = account(&stack, DEPLOYER_INDEX);
    let key = key_hex(&stack, DEPLOYER_INDEX);
    let args = [
        "--network",
        preset.to_str().unwrap(),
        "--manifest",
        manifest_path.to_str().unwrap(),
    ];
    let envs = [("PIPEIT_DEPLOYER_KEY", key.as_str())];

    set_automine(&stack, false).await;
    let mut child = deploy_cmd(&stack, &args, &envs)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_journaled(&stack, &journal, 1, deployer).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let _: serde_json::Value = stack
        .provider
        .raw_request("anvil_dropAllTransactions".into(), ())
        .await
        .unwrap();
    set_automine(&stack, true).await;
    // The deployer sends something else with the nonce the plan had for InvoiceLogic.
    let tx = alloy::rpc::types::TransactionRequest::default()
        .from(deployer)
        .to(account(&stack, 9))
        .value(U256::from(1u64));
    let receipt = stack
        .provider
        .send_transaction(tx)
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status());

    let out = deploy(&stack, &args, &envs);
    assert_fails_with(
        &out,
        &[
            "step InvoiceLogic was to be sent with nonce 0",
            "used that nonce for another transaction",
            "deploy afresh",
        ],
    );
    assert!(!manifest_path.exists());
    // Nothing more was sent.
    assert_eq!(
        stack
            .provider
            .get_transaction_count(deployer)
            .await
            .unwrap(),
        1
    );
}
