//! `pipeit dev`: a local Base on Anvil with the whole system, in the foreground (`scripts/dev`
//! sets up and builds, then runs this).
//!
//! 1. Start Anvil (chain id 8453, its state saved to and loaded from the data dir) or, with
//!    `--attach`, use the node at `--rpc-url`.
//! 2. Deploy with the one bootstrap (`scripts/deploy-devnet`, as the Rust `TestStack`), or resume
//!    a deployment whose vault is still on the chain; on resume the dev feeds are refreshed (their
//!    answers would be stale after a pause).
//! 3. Print the RPC URL, contracts and funded accounts, then run the services in-process until
//!    Ctrl-C / SIGTERM: each gets a shutdown signal and is awaited, then Anvil gets one SIGINT, on
//!    which it writes its state (the next run resumes it).
//!
//! Services are tasks of [`Services`]: adding the HTTP API or the keeper is one line in
//! [`run`] (see "SERVICES" there).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use alloy::primitives::{keccak256, Address, U256};
use alloy::providers::{DynProvider, Provider};
use clap::Args;
use eyre::{bail, eyre, WrapErr};
use pipeit_chain::bindings::{DevPriceFeed, FactoringVault};
use pipeit_chain::Manifest;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::Config;

/// `pipeit dev` flags (the data dir, RPC URL and database are the global ones).
#[derive(Debug, Clone, Args)]
pub struct DevArgs {
    /// Port of the Anvil it starts.
    #[arg(long, env = "PIPEIT_ANVIL_PORT", default_value_t = 8545)]
    pub port: u16,
    /// Use the node at --rpc-url instead of starting Anvil (it must be chain id 8453 with unlocked dev accounts).
    #[arg(long, env = "PIPEIT_DEV_ATTACH")]
    pub attach: bool,
    /// Deploy or resume, index once, print the summary, stop: for smoke tests.
    #[arg(long)]
    pub check: bool,
    /// The HTTP service's settings.
    #[command(flatten)]
    pub serve: crate::serve::ServeArgs,
}

/// Base's chain id, which the devnet mirrors.
const CHAIN_ID: u64 = 8453;

/// What every service gets: where the chain and the database are.
#[derive(Debug, Clone)]
#[allow(dead_code)] // `rpc_url`, `manifest_path`, `data_dir`: for the API and keeper services (see SERVICES)
pub struct DevContext {
    /// The global configuration pointed at this devnet (RPC URL, manifest, database, data dir), for
    /// services that take a `&Config` like `pipeit serve` and `pipeit keeper run`.
    pub config: Config,
    /// The node.
    pub rpc_url: String,
    /// A provider for it (Anvil's dev accounts are unlocked: send with `.from(address)`).
    pub provider: DynProvider,
    /// The deployment.
    pub manifest: Manifest,
    /// Its path.
    pub manifest_path: PathBuf,
    /// The database (SQLite in the data dir unless `PIPEIT_DATABASE_URL` says otherwise).
    pub database_url: String,
    /// The data dir.
    pub data_dir: PathBuf,
}

/// A shutdown signal for services: `wait().await` returns once Ctrl-C / SIGTERM arrived.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    /// Resolves when the devnet is stopping.
    pub async fn wait(mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

/// The services running in-process, each a named task.
struct Services {
    tasks: JoinSet<(&'static str, eyre::Result<()>)>,
    stop: watch::Sender<bool>,
}

impl Services {
    fn new() -> Services {
        Services {
            tasks: JoinSet::new(),
            stop: watch::channel(false).0,
        }
    }

    fn shutdown(&self) -> Shutdown {
        Shutdown(self.stop.subscribe())
    }

    /// Runs `service` until it returns or the shutdown signal (which it must honour).
    fn spawn<F>(&mut self, name: &'static str, service: F)
    where
        F: Future<Output = eyre::Result<()>> + Send + 'static,
    {
        tracing::info!(service = name, "starting");
        self.tasks.spawn(async move { (name, service.await) });
    }

    /// Runs the service `make(config, shutdown)` returns: `config` is the devnet's [`Config`], the
    /// service must return once `shutdown.wait()` resolves.
    fn spawn_with<F, Fut>(&mut self, name: &'static str, ctx: &DevContext, make: F)
    where
        F: FnOnce(Config, Shutdown) -> Fut,
        Fut: Future<Output = eyre::Result<()>> + Send + 'static,
    {
        let service = make(ctx.config.clone(), self.shutdown());
        self.spawn(name, service);
    }

    /// Signals every service and waits for them (at most `grace` in all).
    async fn stop(mut self, grace: Duration) {
        let _ = self.stop.send(true);
        let all = async {
            while let Some(done) = self.tasks.join_next().await {
                match done {
                    Ok((name, Ok(()))) => tracing::info!(service = name, "stopped"),
                    Ok((name, Err(e))) => {
                        tracing::error!(service = name, "stopped with an error: {e:#}")
                    }
                    Err(e) => tracing::error!("a service panicked: {e}"),
                }
            }
        };
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!("services did not stop within {grace:?}: aborting them");
            self.tasks.abort_all();
        }
    }
}

/// Runs `pipeit dev`.
pub async fn run(args: DevArgs, config: &Config, rpc_url_given: bool) -> eyre::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .wrap_err_with(|| format!("cannot create the data dir {}", config.data_dir.display()))?;
    let data_dir = config.data_dir.canonicalize()?;
    let manifest_path = if config.manifest == config.data_dir.join("manifest.json") {
        data_dir.join("manifest.json")
    } else {
        config.manifest.clone()
    };
    let rpc_url = if args.attach || rpc_url_given {
        config.rpc_url.clone()
    } else {
        format!("http://127.0.0.1:{}", args.port)
    };
    let mut anvil = if args.attach {
        None
    } else {
        Some(Anvil::start(&rpc_url, args.port, &data_dir).await?)
    };
    // From here on Anvil must be stopped (and so save its state) whatever happens.
    let result = run_on_node(
        &args,
        config,
        &rpc_url,
        &data_dir,
        &manifest_path,
        &mut anvil,
    )
    .await;
    if let Some(anvil) = anvil {
        anvil.stop().await;
    }
    result
}

async fn run_on_node(
    args: &DevArgs,
    config: &Config,
    rpc_url: &str,
    data_dir: &Path,
    manifest_path: &Path,
    anvil: &mut Option<Anvil>,
) -> eyre::Result<()> {
    let (provider, chain_id) = pipeit_chain::connect_any(rpc_url).await?;
    if chain_id != CHAIN_ID {
        bail!("the node at {} is on chain id {chain_id}, not {CHAIN_ID}: start Anvil with --chain-id {CHAIN_ID}", pipeit_chain::redact_url(rpc_url));
    }
    let mode = deploy_or_resume(&provider, rpc_url, data_dir, manifest_path).await?;
    let manifest = Manifest::load(manifest_path)?;
    print_summary(
        &provider,
        &manifest,
        rpc_url,
        manifest_path,
        data_dir,
        &mode,
    )
    .await?;

    let ctx = DevContext {
        config: Config {
            data_dir: data_dir.to_owned(),
            rpc_url: rpc_url.to_owned(),
            database_url: config.database_url.clone(),
            manifest: manifest_path.to_owned(),
            ..config.clone()
        },
        rpc_url: rpc_url.to_owned(),
        provider,
        manifest,
        manifest_path: manifest_path.to_owned(),
        database_url: config.database_url.clone(),
        data_dir: data_dir.to_owned(),
    };
    if args.check {
        let db = pipeit_db::Db::connect(&ctx.database_url).await?;
        let mut indexer = pipeit_indexer::Indexer::new(
            db,
            ctx.provider.clone(),
            ctx.manifest.clone(),
            indexer_config(config),
        );
        let report = indexer.sync_once().await.wrap_err("index pass failed")?;
        println!(
            "indexed to block {} (safe head {}): {} events",
            report
                .checkpoint
                .map_or_else(|| "-".to_owned(), |b| b.to_string()),
            report.safe_head,
            report.events
        );
        eprintln!("dev: --check: done");
        return Ok(());
    }

    let mut services = Services::new();
    // ---------------------------------------------------------------- SERVICES
    // One line per service: `spawn_with(name, &ctx, |config, stop| future)`; `config` is the global
    // Config pointed at this devnet, the future must return once `stop.wait()` resolves.
    // The keeper indexes as the first step of each tick: one indexer per database (two would race
    // for the same blocks).
    let serve = args.serve.clone();
    services.spawn_with("api", &ctx, |config, stop| async move {
        crate::serve::run(&serve, &config, stop.wait()).await
    });
    let keeper_key = dev_keeper_signer(&ctx.manifest)?;
    services.spawn_with("keeper", &ctx, |config, stop| async move {
        let manifest = Manifest::load(&config.manifest)?;
        let mut keeper = pipeit_keeper::KeeperConfig::new(
            config.rpc_url.clone(),
            config.database_url.clone(),
            manifest,
            keeper_key,
        );
        keeper.indexer.confirmations = config.confirmations;
        // Base makes a block every 2 s: tick (and index) at that pace on the devnet.
        keeper.interval = Duration::from_secs(2);
        pipeit_keeper::run(keeper, stop.wait())
            .await
            .map_err(Into::into)
    });
    // ---------------------------------------------------------------- end of SERVICES
    eprintln!(
        "dev: running (database {}); Ctrl-C stops the services and Anvil, which saves the chain (the next run resumes)",
        pipeit_db::redact(&ctx.database_url)
    );

    let ended = tokio::select! {
        () = crate::shutdown_signal() => None,
        exit = async { match anvil.as_mut() { Some(a) => a.exited().await, None => std::future::pending().await } } => {
            Some(eyre!("anvil exited on its own ({exit}); see {}", data_dir.join("anvil.log").display()))
        }
        Some(done) = services.tasks.join_next() => Some(match done {
            Ok((name, Ok(()))) => eyre!("service {name} ended on its own"),
            Ok((name, Err(e))) => e.wrap_err(format!("service {name} failed")),
            Err(e) => eyre!("a service panicked: {e}"),
        }),
    };
    eprintln!("dev: stopping");
    services.stop(Duration::from_secs(15)).await;
    match ended {
        None => Ok(()),
        Some(e) => Err(e),
    }
}

fn indexer_config(config: &Config) -> pipeit_indexer::IndexerConfig {
    pipeit_indexer::IndexerConfig {
        confirmations: config.confirmations,
        ..Default::default()
    }
}

/// Anvil's account 1 of its public test mnemonic ("test test ... junk"), the devnet's keeper
/// (contracts/script/DeployDevnet.s.sol): a published test key that never holds real money.
const ANVIL_ACCOUNT_1_KEY: &str =
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

/// The keeper's signer on the devnet: `PIPEIT_KEEPER_KEY` if set, else Anvil's account 1; refused
/// unless it is the manifest's keeper.
fn dev_keeper_signer(manifest: &Manifest) -> eyre::Result<alloy::signers::local::PrivateKeySigner> {
    let key =
        std::env::var(crate::keeper::KEY_VAR).unwrap_or_else(|_| ANVIL_ACCOUNT_1_KEY.to_owned());
    let signer: alloy::signers::local::PrivateKeySigner = key.trim().parse().map_err(|_| {
        eyre!(
            "{} is not a private key (the value is not shown)",
            crate::keeper::KEY_VAR
        )
    })?;
    if signer.address() != manifest.roles.keeper {
        return Err(eyre!(
            "the keeper key is for {} but the manifest's keeper is {}: set {} to the keeper's key",
            signer.address(),
            manifest.roles.keeper,
            crate::keeper::KEY_VAR
        ));
    }
    Ok(signer)
}

// ------------------------------------------------------------------ deploy or resume

/// How the devnet came up.
enum Mode {
    Deployed,
    Resumed { build_changed: bool },
}

async fn deploy_or_resume(
    provider: &DynProvider,
    rpc_url: &str,
    data_dir: &Path,
    manifest_path: &Path,
) -> eyre::Result<Mode> {
    let build_file = data_dir.join("build.keccak");
    if manifest_path.exists() {
        let manifest = Manifest::load(manifest_path)?;
        if !provider
            .get_code_at(manifest.contracts.vault)
            .await?
            .is_empty()
        {
            refresh_feeds(provider, &manifest).await?;
            let build_changed = std::fs::read_to_string(&build_file).ok().as_deref()
                != Some(build_fingerprint()?.as_str());
            return Ok(Mode::Resumed { build_changed });
        }
        eprintln!("dev: the manifest's vault has no code on this chain (state file lost?): deploying afresh");
    }
    eprintln!("dev: installing WETH9 and deploying (scripts/deploy-devnet: the same bootstrap as the Rust TestStack)");
    let script = repo_root().join("scripts/deploy-devnet");
    let out = tokio::process::Command::new(&script)
        .arg(rpc_url)
        .arg(manifest_path)
        .stdin(Stdio::null())
        .output()
        .await
        .wrap_err_with(|| format!("cannot run {}", script.display()))?;
    if !out.status.success() {
        bail!(
            "scripts/deploy-devnet failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::write(&build_file, build_fingerprint()?)?;
    Ok(Mode::Deployed)
}

/// Re-posts each dev feed's answer so it is fresh again (they go stale after 2 days, and a resumed
/// chain's clock has moved on). Anvil's dev accounts are unlocked: the admin sends, no key here.
async fn refresh_feeds(provider: &DynProvider, manifest: &Manifest) -> eyre::Result<()> {
    for feed in [
        manifest.contracts.eth_usd_feed,
        manifest.contracts.usdc_usd_feed,
    ] {
        let feed = DevPriceFeed::new(feed, provider);
        let answer = feed.latestAnswer().call().await?;
        let receipt = feed
            .setAnswer(answer)
            .from(manifest.roles.admin)
            .send()
            .await?
            .get_receipt()
            .await?;
        if !receipt.status() {
            bail!("refreshing the feed {} reverted", feed.address());
        }
    }
    Ok(())
}

/// A fingerprint of every contract compiled from contracts/src: a resumed chain keeps the code it
/// was deployed with, so say so when the sources changed since.
fn build_fingerprint() -> eyre::Result<String> {
    let out = repo_root().join("out");
    let mut files = Vec::new();
    for dir in std::fs::read_dir(&out)
        .wrap_err_with(|| format!("cannot read {}: run forge build", out.display()))?
    {
        for file in std::fs::read_dir(dir?.path())? {
            files.push(file?.path());
        }
    }
    files.sort();
    let mut all = Vec::new();
    for path in files {
        let artifact: serde_json::Value = match std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
        {
            Some(v) => v,
            None => continue,
        };
        let source = artifact["metadata"]["settings"]["compilationTarget"]
            .as_object()
            .and_then(|o| o.keys().next().cloned())
            .unwrap_or_default();
        if source.starts_with("contracts/src/") {
            all.extend_from_slice(source.as_bytes());
            all.extend_from_slice(
                artifact["bytecode"]["object"]
                    .as_str()
                    .unwrap_or_default()
                    .as_bytes(),
            );
        }
    }
    Ok(keccak256(all).to_string())
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

// ------------------------------------------------------------------ summary

async fn print_summary(
    provider: &DynProvider,
    m: &Manifest,
    rpc_url: &str,
    manifest_path: &Path,
    data_dir: &Path,
    mode: &Mode,
) -> eyre::Result<()> {
    let mode_text = match mode {
        Mode::Deployed => "deployed".to_owned(),
        Mode::Resumed { .. } => format!(
            "resumed from {}",
            data_dir.join("anvil-state.json").display()
        ),
    };
    if let Mode::Resumed {
        build_changed: true,
    } = mode
    {
        eprintln!("dev: WARNING: the contracts changed since this devnet was deployed; it still runs the old code.");
        eprintln!(
            "dev: WARNING: to redeploy, stop it and remove {} (its chain state goes with it).",
            data_dir.display()
        );
    }
    let c = &m.contracts;
    let mut out = format!(
        "\npipeit devnet: {mode_text}\n  RPC URL           {rpc_url}\n  chain id          {} (Base)\n  deployment block  {}\n  manifest          {}\n  feeds             ETH/USD {}, stale after {} h (refreshed on resume)\n\nContracts\n",
        m.chain_id,
        m.deployment_block,
        manifest_path.display(),
        m.settings.eth_usd_price,
        m.settings.feed_max_age_seconds / 3600
    );
    let named: [(&str, Address); 14] = [
        ("vault", c.vault),
        ("weth", c.weth),
        ("usdc", c.usdc),
        ("oracleGuard", c.oracle_guard),
        ("devYieldVault", c.dev_yield_vault),
        ("erc4626Strategy", c.erc4626_strategy),
        ("ethUsdFeed", c.eth_usd_feed),
        ("nonfungiblePositionManager", c.nonfungible_position_manager),
        ("sequencerUptimeFeed", c.sequencer_uptime_feed),
        ("swapRouter02", c.swap_router02),
        ("uniswapV3Factory", c.uniswap_v3_factory),
        ("uniswapV3SwapStrategy", c.uniswap_v3_swap_strategy),
        ("usdcUsdFeed", c.usdc_usd_feed),
        ("wethUsdcPool", c.weth_usdc_pool),
    ];
    for (name, address) in named {
        out.push_str(&format!("  {name:<27} {address}\n"));
    }
    let vault = FactoringVault::new(c.vault, provider);
    out.push_str("\nAccounts (Anvil's dev accounts from the mnemonic \"test test ... junk\")\n");
    let accounts = provider.get_accounts().await?;
    for (i, a) in accounts.iter().enumerate() {
        let mut roles = Vec::new();
        for (role, holder) in [
            ("admin", m.roles.admin),
            ("pauser", m.roles.pauser),
            ("keeper", m.roles.keeper),
            ("treasury", m.roles.treasury),
        ] {
            if holder == *a {
                roles.push(role.to_owned());
            }
        }
        if *a == m.roles.admin {
            roles.push("deployer, owner of the dev USDC, price feeds and yield vault".into());
        }
        if m.roles.investors.contains(a) {
            roles.push("investor (100,000 USDC)".into());
        }
        if m.roles.businesses.contains(a) {
            roles.push("business (100,000 USDC)".into());
        }
        let balance = provider.get_balance(*a).await?;
        let shares = vault.balanceOf(*a).call().await.unwrap_or(U256::ZERO);
        let shares_text = if shares.is_zero() {
            String::new()
        } else {
            format!(", {shares} vault shares")
        };
        out.push_str(&format!(
            "  #{i}  {a}  {} ETH{shares_text}  {}\n",
            alloy::primitives::utils::format_ether(balance),
            if roles.is_empty() {
                "-".to_owned()
            } else {
                roles.join(", ")
            }
        ));
    }
    out.push_str(&format!(
        "  Their private keys are Anvil's public test keys (listed in {}): anyone can spend from them,\n  so use them on this local chain only.\n",
        data_dir.join("anvil.log").display()
    ));
    println!("{out}");
    Ok(())
}

// ------------------------------------------------------------------ anvil

/// The Anvil this command started.
struct Anvil {
    child: tokio::process::Child,
    state: PathBuf,
}

impl Anvil {
    async fn start(rpc_url: &str, port: u16, data_dir: &Path) -> eyre::Result<Anvil> {
        // Another node on the port would silently receive our deployment: refuse instead.
        if pipeit_chain::connect_any_once(rpc_url).await.is_some() {
            bail!(
                "something already answers on {rpc_url} (a previous devnet? pid in {}); stop it or set PIPEIT_ANVIL_PORT",
                data_dir.join("anvil.pid").display()
            );
        }
        let state = data_dir.join("anvil-state.json");
        let log = std::fs::File::create(data_dir.join("anvil.log"))?;
        let anvil_bin = which_anvil();
        // Its own process group: Ctrl-C on the terminal reaches only us, and we send Anvil exactly
        // one SIGINT, then wait for its state dump (a second signal mid-dump could cut it short).
        // --state loads the file if present and dumps on exit; --state-interval also every minute, in
        // case we are killed without a chance to stop it. The dump keeps blocks, receipts and logs,
        // so indexers can replay from the deployment block after a resume.
        let child = tokio::process::Command::new(&anvil_bin)
            .args([
                "--chain-id",
                &CHAIN_ID.to_string(),
                "--port",
                &port.to_string(),
                "--accounts",
                "10",
                "--balance",
                "10000",
            ])
            .arg("--state")
            .arg(&state)
            .args(["--state-interval", "60"])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .wrap_err_with(|| {
                format!(
                    "cannot start {} (run scripts/setup, which installs it)",
                    anvil_bin.display()
                )
            })?;
        if let Some(pid) = child.id() {
            std::fs::write(data_dir.join("anvil.pid"), pid.to_string())?;
        }
        let mut anvil = Anvil { child, state };
        for _ in 0..300 {
            if let Some(status) = anvil.child.try_wait()? {
                let log = std::fs::read_to_string(data_dir.join("anvil.log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(20).collect();
                bail!(
                    "anvil exited at start ({status}):\n{}",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                );
            }
            if pipeit_chain::connect_any_once(rpc_url).await.is_some() {
                return Ok(anvil);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anvil.stop().await;
        bail!("anvil did not answer on {rpc_url} within 30 s")
    }

    async fn exited(&mut self) -> String {
        match self.child.wait().await {
            Ok(status) => status.to_string(),
            Err(e) => e.to_string(),
        }
    }

    /// One SIGINT (Anvil writes its state), then waits; SIGKILL only if it hangs for 30 s (the last
    /// --state-interval dump is then what remains).
    async fn stop(mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        if let Some(pid) = self.child.id() {
            // `kill -INT`: std offers only SIGKILL, and this crate forbids unsafe (libc::kill).
            let _ = tokio::process::Command::new("kill")
                .args(["-INT", &pid.to_string()])
                .status()
                .await;
        }
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(_) => eprintln!(
                "dev: anvil stopped; chain saved to {}",
                self.state.display()
            ),
            Err(_) => {
                let _ = self.child.kill().await;
                eprintln!("dev: anvil did not stop within 30 s: killed it");
            }
        }
    }
}

/// `anvil` from PATH (scripts/env.sh puts the npm one there), else the repository's npm binary.
fn which_anvil() -> PathBuf {
    let in_repo = repo_root().join("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("anvil"))
        .find(|p| p.is_file())
        .unwrap_or(in_repo)
}
