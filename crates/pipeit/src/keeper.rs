//! `pipeit keeper run | tick` and `pipeit signals backtest`.
//!
//! The keeper's key comes from `PIPEIT_KEEPER_KEY` (hex) or an encrypted keystore
//! (`--keystore`, password from `PIPEIT_KEEPER_KEYSTORE_PASSWORD` or a prompt); never a flag.
//! The Token Metrics key, when that source is chosen, from `PIPEIT_TOKEN_METRICS_API_KEY`.
//!
//! `pipeit keeper tick` exit codes: 0 done, 2 done with something to look at (a transaction
//! refused or reverted, scoring blocked by the oracle), 3 another keeper holds the lock, 1 failed.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use alloy::signers::local::PrivateKeySigner;
use clap::{Args, Subcommand, ValueEnum};
use eyre::{bail, eyre};
use pipeit_core::signal_model::{self, ModelParams, PricePoint};
use pipeit_keeper::signals::{ApiKey, TokenMetricsConfig};
use pipeit_keeper::{Keeper, KeeperConfig, SignalsConfig};
use rust_decimal::Decimal;

use crate::config::Config;

/// Environment variable holding the keeper's private key (hex).
pub const KEY_VAR: &str = "PIPEIT_KEEPER_KEY";
/// Environment variable holding the keystore's password.
pub const PASSWORD_VAR: &str = "PIPEIT_KEEPER_KEYSTORE_PASSWORD";
/// Environment variable holding the Token Metrics API key.
pub const TM_KEY_VAR: &str = "PIPEIT_TOKEN_METRICS_API_KEY";

#[derive(Debug, Args)]
pub struct KeeperArgs {
    #[command(subcommand)]
    command: KeeperCommand,
}

#[derive(Debug, Subcommand)]
enum KeeperCommand {
    /// Run until Ctrl-C / SIGTERM (the step in progress finishes first).
    Run(RunArgs),
    /// One pass, then exit (for cron); the exit code says how it went (0 ok, 2 look, 3 locked, 1 failed).
    Tick(RunArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SourceArg {
    /// The on-box model over the ETH/USD prices the indexer recorded.
    Onbox,
    /// A JSON file (--signal-file).
    File,
    /// The Token Metrics API (key in PIPEIT_TOKEN_METRICS_API_KEY).
    TokenMetrics,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Encrypted JSON keystore of the keeper key (else PIPEIT_KEEPER_KEY).
    #[arg(long, env = "PIPEIT_KEEPER_KEYSTORE")]
    keystore: Option<PathBuf>,
    /// Seconds between ticks (run).
    #[arg(long, env = "PIPEIT_KEEPER_INTERVAL_SECS", default_value_t = 5)]
    interval_secs: u64,
    /// Most invoices per advance transaction.
    #[arg(long, env = "PIPEIT_KEEPER_BATCH_SIZE", default_value_t = 25)]
    batch_size: usize,
    /// Where the market signal comes from.
    #[arg(long, env = "PIPEIT_KEEPER_SIGNALS", value_enum, default_value_t = SourceArg::Onbox)]
    signals: SourceArg,
    /// The signal file for --signals file.
    #[arg(long, env = "PIPEIT_KEEPER_SIGNAL_FILE")]
    signal_file: Option<PathBuf>,
    /// Token Metrics base URL (tests point it at a local server).
    #[arg(long, env = "PIPEIT_TOKEN_METRICS_URL")]
    token_metrics_url: Option<String>,
    /// Serve Prometheus metrics on this address (run), e.g. 127.0.0.1:9464.
    #[arg(long, env = "PIPEIT_KEEPER_METRICS_ADDR")]
    metrics_addr: Option<SocketAddr>,
    /// Do not rebalance idle capital.
    #[arg(long, env = "PIPEIT_KEEPER_NO_REBALANCE", value_parser = clap::builder::BoolishValueParser::new())]
    no_rebalance: bool,
    /// Seconds a tick waits for its own transactions to be mined.
    #[arg(long, env = "PIPEIT_KEEPER_RECEIPT_TIMEOUT_SECS", default_value_t = 30)]
    receipt_timeout_secs: u64,
    /// Send without simulating first (a revert is then mined and decoded from the receipt).
    #[arg(long, env = "PIPEIT_KEEPER_NO_SIMULATE", hide = true, value_parser = clap::builder::BoolishValueParser::new())]
    no_simulate: bool,
}

pub async fn run(args: KeeperArgs, config: &Config) -> eyre::Result<()> {
    match args.command {
        KeeperCommand::Run(a) => {
            let keeper_config = keeper_config(&a, config)?;
            pipeit_keeper::run(keeper_config, crate::shutdown_signal()).await?;
            tracing::info!("keeper stopped");
            Ok(())
        }
        KeeperCommand::Tick(a) => {
            let keeper_config = keeper_config(&a, config)?;
            let code = tick(keeper_config).await;
            std::process::exit(code);
        }
    }
}

async fn tick(config: KeeperConfig) -> i32 {
    let mut keeper = match Keeper::start(config).await {
        Ok(k) => k,
        Err(pipeit_keeper::Error::NotLeader) => {
            eprintln!("another keeper holds the lock: nothing done");
            return 3;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    match keeper.tick().await {
        Ok(report) => {
            match serde_json::to_string_pretty(&report) {
                Ok(json) => println!("{json}"),
                Err(e) => eprintln!("error: {e}"),
            }
            if report.has_problems() {
                2
            } else {
                0
            }
        }
        Err(e) => {
            eprintln!("error: tick failed: {e}");
            1
        }
    }
}

fn keeper_config(a: &RunArgs, config: &Config) -> eyre::Result<KeeperConfig> {
    let manifest = pipeit_chain::Manifest::load(&config.manifest)?;
    let signer = load_signer(a.keystore.as_ref())?;
    let mut k = KeeperConfig::new(
        config.rpc_url.clone(),
        config.database_url.clone(),
        manifest,
        signer,
    );
    k.interval = Duration::from_secs(a.interval_secs.max(1));
    k.batch_size = a.batch_size;
    k.indexer.confirmations = config.confirmations;
    k.metrics_addr = a.metrics_addr;
    k.receipt_timeout = Duration::from_secs(a.receipt_timeout_secs);
    k.exec.simulate = !a.no_simulate;
    if a.no_rebalance {
        k.rebalance = None;
    }
    k.signals = match a.signals {
        SourceArg::Onbox => SignalsConfig::OnBox(ModelParams::default()),
        SourceArg::File => SignalsConfig::File(
            a.signal_file
                .clone()
                .ok_or_else(|| eyre!("--signals file needs --signal-file PATH"))?,
        ),
        SourceArg::TokenMetrics => {
            let key = std::env::var(TM_KEY_VAR).unwrap_or_default();
            let key = ApiKey::new(key).ok_or_else(|| {
                eyre!("--signals token-metrics needs the API key in {TM_KEY_VAR}")
            })?;
            let mut tm = TokenMetricsConfig::new(key);
            if let Some(url) = &a.token_metrics_url {
                tm.base_url = url.clone();
            }
            SignalsConfig::TokenMetrics(tm)
        }
    };
    Ok(k)
}

fn load_signer(keystore: Option<&PathBuf>) -> eyre::Result<PrivateKeySigner> {
    let env_key = std::env::var(KEY_VAR).ok().filter(|k| !k.trim().is_empty());
    match (keystore, env_key) {
        (Some(_), Some(_)) => bail!(
            "both --keystore and {KEY_VAR} are set: keep one (unset {KEY_VAR} to use the keystore)"
        ),
        (None, Some(key)) => key.trim().parse::<PrivateKeySigner>().map_err(|_| {
            // Never echo the value.
            eyre!("{KEY_VAR} is not a hex private key (32 bytes, with or without 0x)")
        }),
        (Some(path), None) => crate::keys::decrypt_keystore(path, PASSWORD_VAR),
        (None, None) => bail!(
            "no keeper key: set {KEY_VAR} (hex private key) in the environment, or pass --keystore PATH"
        ),
    }
}

#[derive(Debug, Args)]
pub struct SignalsArgs {
    #[command(subcommand)]
    command: SignalsCommand,
}

#[derive(Debug, Subcommand)]
enum SignalsCommand {
    /// Replay the on-box model over the ETH/USD prices the indexer recorded; compare hedging by its
    /// signal with holding unhedged (the baseline).
    Backtest {
        /// Largest share hedged (0..1).
        #[arg(long, env = "PIPEIT_BACKTEST_MAX_HEDGE", default_value = "0.5")]
        max_hedge: Decimal,
        /// Seconds of history each signal looks at.
        #[arg(long, env = "PIPEIT_BACKTEST_LOOKBACK_SECS", default_value_t = 86_400)]
        lookback_secs: u64,
    },
}

pub async fn signals(args: SignalsArgs, config: &Config) -> eyre::Result<()> {
    match args.command {
        SignalsCommand::Backtest {
            max_hedge,
            lookback_secs,
        } => {
            if max_hedge < Decimal::ZERO || max_hedge > Decimal::ONE {
                bail!("--max-hedge {max_hedge} must be between 0 and 1");
            }
            let manifest = pipeit_chain::Manifest::load(&config.manifest)?;
            let db = pipeit_db::Db::connect(&config.database_url).await?;
            let at = pipeit_db::ChainContract {
                chain_id: manifest.chain_id,
                contract: manifest.contracts.vault,
            };
            let mut points: Vec<PricePoint> = Vec::new();
            for row in db.eth_usd_prices_since(at, 0).await? {
                if points.last().is_none_or(|p| p.at != row.updated_at) {
                    points.push(PricePoint {
                        at: row.updated_at,
                        price: row.price,
                    });
                }
            }
            let params = ModelParams {
                lookback_secs,
                ..ModelParams::default()
            };
            let result = signal_model::backtest(&points, &params, max_hedge);
            println!("{}", serde_json::to_string_pretty(&result)?);
            if result.steps == 0 {
                eprintln!(
                    "no step had enough history ({} distinct recorded prices; {} within {lookback_secs} s needed): index more blocks first",
                    points.len(),
                    params.min_points
                );
            }
            Ok(())
        }
    }
}
