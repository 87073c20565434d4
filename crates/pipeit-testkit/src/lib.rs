//! Test fixtures shared by the workspace's integration tests (a dev-dependency only).
//!
//! [`TestStack::start`] gives a local Base with the whole system deployed and a fresh database:
//! - Anvil (the npm binary, chain id 8453, a free port, Anvil's public test mnemonic),
//! - the deployment by `scripts/deploy-devnet` (WETH9 at 0x4200…0006, then
//!   `contracts/script/DeployDevnet.s.sol`): the same bootstrap as `scripts/dev`,
//! - the manifest it wrote, a provider whose wallet holds every dev account's key (send from any
//!   role with `.from(address)`), and the role addresses,
//! - a fresh database: a SQLite file in a temporary directory, or (with
//!   [`TestStack::start_postgres`]) a new database on the server of `PIPEIT_TEST_PG_URL`, dropped
//!   with the stack.
//!
//! Anvil's log goes to `anvil.log` in [`TestStack::dir`].
//!
//! Deployment takes one to a few seconds: start one stack per test. Helpers panic with a message on
//! failure (they are for tests).
#![allow(clippy::expect_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use alloy::network::EthereumWallet;
use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::primitives::{keccak256, Address, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionReceipt;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEvent;
use pipeit_chain::bindings::{EventsLib, FactoringVault, IWETH9};
use pipeit_chain::Manifest;
use pipeit_db::scratch::ScratchDatabase;
use pipeit_db::{ChainContract, Db};

pub use pipeit_chain;
pub use pipeit_db;

/// Every stack's chain begins at this time (Anvil's genesis timestamp, 2026-03-02T00:00:00Z; later
/// blocks follow the time elapsed since), whatever the wall clock says. Tests take dates and years
/// from the chain ([`TestStack::now`]), so a suite green in June is green at Christmas; the date is
/// far from a year's end, so a scenario that moves the chain some months forward stays in one year.
pub const CHAIN_START: u64 = 1_772_409_600;

/// The chain's date at [`CHAIN_START`] (for request bodies built before any time passes).
pub fn chain_start_date() -> chrono::NaiveDate {
    chrono::DateTime::from_timestamp(i64::try_from(CHAIN_START).unwrap_or_default(), 0)
        .expect("CHAIN_START is a valid time")
        .date_naive()
}

/// The environment variable naming a PostgreSQL server for tests (`scripts/pg-test-cluster url`).
pub const PG_URL_VAR: &str = "PIPEIT_TEST_PG_URL";

/// The vault binding on the stack's provider.
pub type Vault = FactoringVault::FactoringVaultInstance<DynProvider>;

/// A running Anvil with the system deployed, and a fresh database.
pub struct TestStack {
    /// The node; killed when the stack is dropped.
    pub anvil: AnvilInstance,
    /// Its HTTP endpoint.
    pub rpc_url: String,
    /// The deployment manifest.
    pub manifest: Manifest,
    /// Where the manifest is (inside [`TestStack::dir`]).
    pub manifest_path: PathBuf,
    /// A provider that signs for every dev account (default: the admin).
    pub provider: DynProvider,
    /// Admin (and deployer, pauser).
    pub admin: Address,
    /// Keeper.
    pub keeper: Address,
    /// Funded investors.
    pub investors: Vec<Address>,
    /// Funded businesses.
    pub businesses: Vec<Address>,
    /// The fresh database.
    pub db: Db,
    /// Its URL.
    pub db_url: String,
    next_invoice: AtomicU32,
    /// Held so a PostgreSQL database is dropped with the stack.
    _pg_database: Option<ScratchDatabase>,
    dir: tempfile::TempDir,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

impl TestStack {
    /// A stack with a SQLite database.
    pub async fn start() -> TestStack {
        let dir = tempfile::tempdir().expect("temporary directory");
        let db_url = format!("sqlite://{}", dir.path().join("pipeit.db").display());
        let db = Db::connect(&db_url)
            .await
            .expect("open SQLite test database");
        TestStack::with_db(dir, db, db_url, None).await
    }

    /// A stack with a fresh PostgreSQL database on the server of `PIPEIT_TEST_PG_URL`; `None` (and
    /// a note on stderr) when that variable is not set.
    pub async fn start_postgres() -> Option<TestStack> {
        let Some(admin_url) = std::env::var(PG_URL_VAR).ok().filter(|u| !u.is_empty()) else {
            eprintln!(
                "PostgreSQL case skipped: {PG_URL_VAR} is not set (scripts/pg-test-cluster start; \
                 {PG_URL_VAR}=$(scripts/pg-test-cluster url) cargo test ...)"
            );
            return None;
        };
        let scratch = ScratchDatabase::create(&admin_url, "stack")
            .await
            .unwrap_or_else(|e| panic!("{PG_URL_VAR}: cannot create a database: {e}"));
        let db_url = scratch.url.clone();
        let db = Db::connect(&db_url)
            .await
            .expect("open PostgreSQL test database");
        let dir = tempfile::tempdir().expect("temporary directory");
        Some(TestStack::with_db(dir, db, db_url, Some(scratch)).await)
    }

    async fn with_db(
        dir: tempfile::TempDir,
        db: Db,
        db_url: String,
        pg_database: Option<ScratchDatabase>,
    ) -> TestStack {
        let root = repo_root();
        let mut anvil = Anvil::new()
            .path(root.join("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"))
            .chain_id(8453)
            .arg("--timestamp")
            .arg(CHAIN_START.to_string())
            .timeout(30_000)
            .keep_stdout()
            .try_spawn()
            .expect("start anvil (run scripts/setup first if it is missing)");
        // Anvil logs every request and transaction to stdout. Left alone, the pipe is either closed
        // (writes fail) or fills up (Anvil blocks): drain it into <dir>/anvil.log instead.
        if let Some(mut stdout) = anvil.child_mut().stdout.take() {
            let log = dir.path().join("anvil.log");
            std::thread::spawn(move || match std::fs::File::create(&log) {
                Ok(mut file) => drop(std::io::copy(&mut stdout, &mut file)),
                Err(_) => drop(std::io::copy(&mut stdout, &mut std::io::sink())),
            });
        }
        let rpc_url = anvil.endpoint();
        let manifest_path = dir.path().join("manifest.json");
        let out = tokio::process::Command::new(root.join("scripts/deploy-devnet"))
            .arg(&rpc_url)
            .arg(&manifest_path)
            .output()
            .await
            .expect("run scripts/deploy-devnet");
        assert!(
            out.status.success(),
            "scripts/deploy-devnet failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let manifest = Manifest::load(&manifest_path).expect("load the manifest");
        let mut wallet: Option<EthereumWallet> = None;
        for key in anvil.keys() {
            let signer = PrivateKeySigner::from(key.clone());
            match wallet.as_mut() {
                None => wallet = Some(EthereumWallet::from(signer)),
                Some(w) => w.register_signer(signer),
            }
        }
        let wallet = wallet.expect("anvil has dev accounts");
        let provider = pipeit_chain::connect_with_wallet(&rpc_url, &manifest, wallet)
            .await
            .expect("connect to anvil");
        TestStack {
            admin: manifest.roles.admin,
            keeper: manifest.roles.keeper,
            investors: manifest.roles.investors.clone(),
            businesses: manifest.roles.businesses.clone(),
            anvil,
            rpc_url,
            manifest,
            manifest_path,
            provider,
            db,
            db_url,
            next_invoice: AtomicU32::new(1),
            _pg_database: pg_database,
            dir,
        }
    }

    /// The stack's temporary directory (manifest, SQLite file).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The vault's index key in the database.
    pub fn chain_contract(&self) -> ChainContract {
        ChainContract {
            chain_id: self.manifest.chain_id,
            contract: self.manifest.contracts.vault,
        }
    }

    /// The vault binding.
    pub fn vault(&self) -> Vault {
        FactoringVault::new(self.manifest.contracts.vault, self.provider.clone())
    }

    // ------------------------------------------------------------ vault actions

    /// `depositETH(investor)` from `investor`; the shares minted.
    pub async fn deposit(&self, investor: Address, assets: U256) -> U256 {
        let receipt = send(
            "depositETH",
            self.vault()
                .depositETH(investor)
                .value(assets)
                .from(investor),
        )
        .await;
        let deposit = receipt
            .logs()
            .iter()
            .find_map(|l| FactoringVault::Deposit::decode_log(&l.inner).ok())
            .expect("a Deposit event");
        deposit.shares
    }

    /// Advances one invoice (from the keeper) to `business`, due `tenor_days` days from now
    /// (midnight UTC); returns its id.
    pub async fn advance(
        &self,
        business: Address,
        principal: U256,
        fee: U256,
        tenor_days: u64,
    ) -> B256 {
        let n = self.next_invoice.fetch_add(1, Ordering::Relaxed);
        let id = keccak256(format!("pipeit-testkit invoice {n}"));
        let now = self.timestamp().await;
        let due_at = (now / 86_400 + tenor_days) * 86_400;
        let request = FactoringVault::AdvanceRequest {
            id,
            payout: business,
            principal: principal.to(),
            fee: fee.to(),
            dueAt: alloy::primitives::Uint::from(due_at),
            lateFeeBpsPerDay: 10,
        };
        send(
            "advance",
            self.vault().advance(vec![request]).from(self.keeper),
        )
        .await;
        id
    }

    /// `repayETH(id)` with `amount` wei from `payer`.
    pub async fn repay(&self, payer: Address, id: B256, amount: U256) -> TransactionReceipt {
        send(
            "repayETH",
            self.vault().repayETH(id).value(amount).from(payer),
        )
        .await
    }

    /// What invoice `id` still owes in all (late fee + fee + principal).
    pub async fn amount_owed(&self, id: B256) -> U256 {
        self.vault()
            .amountOwed(id)
            .call()
            .await
            .expect("amountOwed")
            ._3 // (lateFee, fee, principal, total)
    }

    /// `requestRedeem(shares, owner)` from `owner`; the request id.
    pub async fn request_redeem(&self, owner: Address, shares: U256) -> U256 {
        let receipt = send(
            "requestRedeem",
            self.vault().requestRedeem(shares, owner).from(owner),
        )
        .await;
        receipt
            .logs()
            .iter()
            .find_map(|l| EventsLib::RedeemRequested::decode_log(&l.inner).ok())
            .expect("a RedeemRequested event")
            .requestId
    }

    /// `processQueue(max)` from the keeper.
    pub async fn process_queue(&self, max: u64) -> TransactionReceipt {
        send(
            "processQueue",
            self.vault().processQueue(U256::from(max)).from(self.keeper),
        )
        .await
    }

    /// `claim(request_id, as_eth)` from `owner`.
    pub async fn claim(
        &self,
        owner: Address,
        request_id: U256,
        as_eth: bool,
    ) -> TransactionReceipt {
        send("claim", self.vault().claim(request_id, as_eth).from(owner)).await
    }

    /// Transfers vault shares.
    pub async fn transfer_shares(&self, from: Address, to: Address, shares: U256) {
        send("transfer", self.vault().transfer(to, shares).from(from)).await;
    }

    /// WETH balance of `who`.
    pub async fn weth_balance(&self, who: Address) -> U256 {
        IWETH9::new(self.manifest.contracts.weth, &self.provider)
            .balanceOf(who)
            .call()
            .await
            .expect("WETH balanceOf")
    }

    // ------------------------------------------------------------ chain control

    /// The latest block number.
    pub async fn block_number(&self) -> u64 {
        self.provider
            .get_block_number()
            .await
            .expect("eth_blockNumber")
    }

    /// The latest block's timestamp.
    pub async fn timestamp(&self) -> u64 {
        self.provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .expect("eth_getBlockByNumber")
            .expect("a latest block")
            .header
            .timestamp
    }

    /// The chain's clock: the latest block's time.
    pub async fn now(&self) -> chrono::DateTime<chrono::Utc> {
        let seconds = i64::try_from(self.timestamp().await).expect("a timestamp in range");
        chrono::DateTime::from_timestamp(seconds, 0).expect("a valid time")
    }

    /// The chain's date (UTC).
    pub async fn today(&self) -> chrono::NaiveDate {
        self.now().await.date_naive()
    }

    /// Mines `n` empty blocks.
    pub async fn mine(&self, n: u64) {
        let () = self
            .provider
            .raw_request("anvil_mine".into(), (U256::from(n),))
            .await
            .map(|_: serde_json::Value| ())
            .expect("anvil_mine");
    }

    /// Moves the clock `seconds` forward (applies to the next block).
    pub async fn increase_time(&self, seconds: u64) {
        let _: serde_json::Value = self
            .provider
            .raw_request("evm_increaseTime".into(), (U256::from(seconds),))
            .await
            .expect("evm_increaseTime");
    }

    /// Takes a snapshot of the chain; [`TestStack::revert`] goes back to it.
    pub async fn snapshot(&self) -> U256 {
        self.provider
            .raw_request("evm_snapshot".into(), ())
            .await
            .expect("evm_snapshot")
    }

    /// Goes back to `snapshot` (blocks after it are dropped; new ones get new hashes).
    pub async fn revert(&self, snapshot: U256) {
        let reverted: bool = self
            .provider
            .raw_request("evm_revert".into(), (snapshot,))
            .await
            .expect("evm_revert");
        assert!(reverted, "evm_revert({snapshot}) returned false");
    }

    /// Replaces the last `depth` blocks with empty ones (`anvil_reorg`): their hashes change and
    /// their transactions are gone.
    pub async fn reorg(&self, depth: u64) {
        let _: serde_json::Value = self
            .provider
            .raw_request(
                "anvil_reorg".into(),
                (depth, Vec::<serde_json::Value>::new()),
            )
            .await
            .expect("anvil_reorg");
    }
}

/// Sends a call and waits for a successful receipt.
pub async fn send<D>(
    what: &str,
    call: alloy::contract::CallBuilder<&DynProvider, D>,
) -> TransactionReceipt
where
    D: alloy::contract::CallDecoder,
{
    // A fixed, ample gas limit: no estimate, so a call that forwards a capped amount of gas (the vault's
    // 30k payout stipend) never runs at an estimate's edge, where the 63/64 rule changes what it gets.
    let receipt = call
        .gas(5_000_000)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{what}: send failed: {e}"))
        .get_receipt()
        .await
        .unwrap_or_else(|e| panic!("{what}: no receipt: {e}"));
    assert!(
        receipt.status(),
        "{what}: reverted (tx {:#x})",
        receipt.transaction_hash
    );
    receipt
}
