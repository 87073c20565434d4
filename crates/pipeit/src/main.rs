//! The `pipeit` command line: results on stdout, logs (tracing) on stderr.

mod business;
mod config;
mod deploy;
mod dev;
mod investor;
mod keeper;
mod keys;
mod serve;
mod tax;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use eyre::WrapErr;

use config::{Config, GlobalArgs};

#[derive(Debug, Parser)]
#[command(
    name = "pipeit",
    version,
    about = "Invoice factoring on Base: indexer, keeper and API"
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Index the vault's events into the database: one pass with --once, else until Ctrl-C / SIGTERM.
    Index {
        /// One pass to the safe head, then exit.
        #[arg(long, env = "PIPEIT_INDEX_ONCE")]
        once: bool,
        /// Most blocks per eth_getLogs call (halved on provider errors).
        #[arg(long, env = "PIPEIT_MAX_LOG_RANGE", default_value_t = 2_000)]
        max_range: u64,
    },
    /// Print the resolved configuration (the database URL without its password).
    Config,
    /// Deploy the production system to a network from its preset (key from PIPEIT_DEPLOYER_KEY or --keystore).
    Deploy(deploy::DeployArgs),
    /// A local Base on Anvil with everything deployed and the services running, until Ctrl-C (scripts/dev runs it).
    Dev(dev::DevArgs),
    /// CSV tax reports from the index: investor (koinly, 8949, ledger), business, vault.
    Tax(tax::TaxArgs),
    /// The keeper: `run` (daemon) or `tick` (one pass; key from PIPEIT_KEEPER_KEY or --keystore).
    Keeper(keeper::KeeperArgs),
    /// The HTTP service for businesses and investors, until Ctrl-C / SIGTERM.
    Serve(serve::ServeArgs),
    /// Businesses and their API keys: add, new-key, list, revoke-key.
    Business(business::BusinessArgs),
    /// The investor side: deposit, redeem, request-redeem, claim, position (keystore, or a dev account on Anvil).
    Investor(investor::InvestorArgs),
    /// Market signals: `backtest` the on-box model over the recorded ETH/USD prices.
    Signals(keeper::SignalsArgs),
    /// Print the HTTP service's OpenAPI document (the web app's typed client is generated from it).
    Openapi,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colour codes only for a terminal: log files and pipes get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PIPEIT_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    let argv: Vec<String> = std::env::args().collect();
    if let Err(report) = deploy::refuse_secrets_in_argv(&argv) {
        eprintln!("error: {report:#}");
        return ExitCode::FAILURE;
    }
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(report) => {
            eprintln!("error: {report:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> eyre::Result<()> {
    let config = Config::resolve(&cli.global)?;
    match cli.command {
        Command::Openapi => match pipeit_api::openapi().to_pretty_json() {
            Ok(json) => {
                println!("{json}");
                Ok(())
            }
            Err(e) => Err(eyre::eyre!("cannot write the OpenAPI document: {e}")),
        },
        Command::Config => {
            println!("data_dir      = {}", config.data_dir.display());
            println!(
                "rpc_url       = {}",
                pipeit_chain::redact_url(&config.rpc_url)
            );
            println!(
                "database_url  = {}",
                pipeit_db::redact(&config.database_url)
            );
            println!("manifest      = {}", config.manifest.display());
            println!("confirmations = {}", config.confirmations);
            Ok(())
        }
        Command::Index { once, max_range } => index(&config, once, max_range).await,
        Command::Dev(args) => dev::run(args, &config, cli.global.rpc_url.is_some()).await,
        Command::Deploy(args) => {
            deploy::run(args, &config.rpc_url, cli.global.manifest.clone()).await
        }
        Command::Tax(args) => tax::run(args, &config).await,
        Command::Serve(args) => serve::run(&args, &config, shutdown_signal()).await,
        Command::Business(args) => business::run(args, &config).await,
        Command::Investor(args) => investor::run(args, &config).await,
        Command::Keeper(args) => keeper::run(args, &config).await,
        Command::Signals(args) => keeper::signals(args, &config).await,
    }
}

async fn index(config: &Config, once: bool, max_range: u64) -> eyre::Result<()> {
    let manifest = pipeit_chain::Manifest::load(&config.manifest)?;
    let provider = pipeit_chain::connect(&config.rpc_url, &manifest).await?;
    let db = pipeit_db::Db::connect(&config.database_url).await?;
    let indexer_config = pipeit_indexer::IndexerConfig {
        confirmations: config.confirmations,
        max_range,
        ..Default::default()
    };
    let mut indexer = pipeit_indexer::Indexer::new(db, provider, manifest, indexer_config);
    if once {
        let report = indexer.sync_once().await.wrap_err("index pass failed")?;
        println!(
            "indexed to block {} (safe head {}): {} events in {} batches, {} reorgs undone",
            report
                .checkpoint
                .map_or_else(|| "-".to_string(), |b| b.to_string()),
            report.safe_head,
            report.events,
            report.batches,
            report.reorgs
        );
        return Ok(());
    }
    indexer.run(shutdown_signal()).await?;
    tracing::info!("indexer stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM: the current step finishes (a range is stored whole or not at all).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
