//! `pipeit investor deposit|redeem|request-redeem|claim|position`: the investor side from a
//! terminal. Signs with an encrypted keystore, or, on a local Anvil chain only, sends from a named
//! dev account of the manifest (Anvil's dev accounts are unlocked: no key is handled at all).

use std::path::PathBuf;

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::utils::parse_ether;
use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::{SolCall, SolEvent as _};
use clap::{Args, Subcommand};
use eyre::{bail, eyre, WrapErr};
use pipeit_chain::bindings::FactoringVault;
use pipeit_chain::Manifest;
use serde_json::json;

use crate::config::Config;

/// `pipeit investor …`.
#[derive(Debug, Args)]
pub struct InvestorArgs {
    /// Encrypted JSON keystore of the investor (password: PIPEIT_KEYSTORE_PASSWORD or a prompt).
    #[arg(long, env = "PIPEIT_INVESTOR_KEYSTORE", global = true)]
    keystore: Option<PathBuf>,
    /// Local chain only: act as a dev account of the manifest (`investor-0`, `investor-1`, ...).
    #[arg(long, env = "PIPEIT_DEV_ACCOUNT", global = true)]
    dev_account: Option<String>,
    /// Machine-readable output.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: InvestorCommand,
}

#[derive(Debug, Subcommand)]
enum InvestorCommand {
    /// Deposit ETH (e.g. `--eth 1.5`).
    Deposit {
        /// ETH to deposit, a decimal number.
        #[arg(long)]
        eth: String,
    },
    /// Redeem shares now from idle liquidity, paid in ETH (`--shares all` for everything redeemable).
    Redeem {
        /// Shares (21 decimals, whole units of the smallest share), or `all`.
        #[arg(long)]
        shares: String,
    },
    /// Queue shares for redemption when liquidity returns.
    RequestRedeem {
        /// Shares, or `all`.
        #[arg(long)]
        shares: String,
    },
    /// Claim a filled queue request, in ETH (or WETH with --weth).
    Claim {
        /// The request id (printed by request-redeem).
        #[arg(long)]
        request_id: u64,
        /// Receive WETH instead of ETH.
        #[arg(long)]
        weth: bool,
    },
    /// Shares, value and queued shares of the investor (or of --address, read-only).
    Position {
        /// Any address (no key needed).
        #[arg(long)]
        address: Option<Address>,
    },
}

/// Who sends: a local signer, or an unlocked Anvil dev account.
struct Sender {
    address: Address,
    provider: DynProvider,
}

async fn sender(args: &InvestorArgs, config: &Config, manifest: &Manifest) -> eyre::Result<Sender> {
    match (&args.keystore, &args.dev_account) {
        (Some(_), Some(_)) => bail!("give --keystore or --dev-account, not both"),
        (Some(path), None) => {
            let signer = crate::keys::decrypt_keystore(path, crate::keys::PASSWORD_VAR)?;
            let address = signer.address();
            let provider =
                pipeit_chain::connect_with_wallet(&config.rpc_url, manifest, EthereumWallet::from(signer)).await?;
            Ok(Sender { address, provider })
        }
        (None, Some(name)) => {
            let provider = pipeit_chain::connect(&config.rpc_url, manifest).await?;
            let client = provider.get_client_version().await.unwrap_or_default();
            if !client.to_lowercase().contains("anvil") {
                bail!("--dev-account works only on a local Anvil chain (this node is {client:?}): use --keystore");
            }
            let index: usize = name
                .strip_prefix("investor-")
                .and_then(|i| i.parse().ok())
                .ok_or_else(|| eyre!("dev account {name:?}: expected investor-0, investor-1, ..."))?;
            let address = *manifest.roles.investors.get(index).ok_or_else(|| {
                eyre!("the manifest has {} investor accounts; {name} is not one", manifest.roles.investors.len())
            })?;
            Ok(Sender { address, provider })
        }
        (None, None) => bail!(
            "no investor key: pass --keystore PATH (password from PIPEIT_KEYSTORE_PASSWORD), or on a local chain --dev-account investor-0"
        ),
    }
}

/// Runs an `investor` command.
pub async fn run(args: InvestorArgs, config: &Config) -> eyre::Result<()> {
    let manifest = Manifest::load(&config.manifest)?;
    if let InvestorCommand::Position {
        address: Some(address),
    } = &args.command
    {
        let provider = pipeit_chain::connect(&config.rpc_url, &manifest).await?;
        return position(&provider, &manifest, *address, args.json).await;
    }
    let from = sender(&args, config, &manifest).await?;
    let vault = FactoringVault::new(manifest.contracts.vault, &from.provider);
    let (description, data, value) = match &args.command {
        InvestorCommand::Deposit { eth } => {
            let wei = parse_ether(eth).map_err(|_| {
                eyre!("--eth {eth:?}: expected a decimal amount of ETH such as 1.5")
            })?;
            if wei.is_zero() {
                bail!("--eth must be more than 0");
            }
            let max = vault.maxDeposit(from.address).call().await?;
            if wei > max {
                bail!("--eth {eth}: the vault accepts at most {max} wei now");
            }
            (
                "depositETH",
                FactoringVault::depositETHCall {
                    receiver: from.address,
                }
                .abi_encode(),
                wei,
            )
        }
        InvestorCommand::Redeem { shares } => {
            let max = vault.maxRedeem(from.address).call().await?;
            let shares = shares_arg(
                shares,
                max,
                "redeemable now (queue the rest with request-redeem)",
            )?;
            let call = FactoringVault::redeemETHCall {
                shares,
                receiver: from.address,
                owner: from.address,
            };
            ("redeemETH", call.abi_encode(), U256::ZERO)
        }
        InvestorCommand::RequestRedeem { shares } => {
            let held = vault.balanceOf(from.address).call().await?;
            let shares = shares_arg(shares, held, "held")?;
            let call = FactoringVault::requestRedeemCall {
                shares,
                receiver: from.address,
            };
            ("requestRedeem", call.abi_encode(), U256::ZERO)
        }
        InvestorCommand::Claim { request_id, weth } => {
            let call = FactoringVault::claimCall {
                requestId: U256::from(*request_id),
                asEth: !weth,
            };
            ("claim", call.abi_encode(), U256::ZERO)
        }
        InvestorCommand::Position { .. } => {
            return position(&from.provider, &manifest, from.address, args.json).await;
        }
    };
    let request = TransactionRequest::default()
        .with_from(from.address)
        .with_to(manifest.contracts.vault)
        .with_value(value)
        .with_input(data);
    let receipt = from
        .provider
        .send_transaction(request)
        .await
        .wrap_err_with(|| format!("{description} was refused by the node"))?
        .get_receipt()
        .await
        .wrap_err("waiting for the receipt")?;
    if !receipt.status() {
        bail!("{description} reverted in {:#x}", receipt.transaction_hash);
    }
    let request_id = receipt.inner.logs().iter().find_map(|log| {
        pipeit_chain::bindings::EventsLib::RedeemRequested::decode_log(&log.inner)
            .ok()
            .map(|e| e.requestId)
    });
    if args.json {
        println!(
            "{}",
            json!({ "action": description, "tx_hash": format!("{:#x}", receipt.transaction_hash), "block": receipt.block_number, "request_id": request_id.map(|i| i.to_string()) })
        );
    } else {
        println!(
            "{description}: mined in block {} ({:#x})",
            receipt.block_number.unwrap_or_default(),
            receipt.transaction_hash
        );
        if let Some(id) = request_id {
            println!("queue request id {id}: claim it with `pipeit investor claim --request-id {id}` once filled");
        }
    }
    Ok(())
}

fn shares_arg(text: &str, max: U256, what: &str) -> eyre::Result<U256> {
    let shares = if text == "all" {
        max
    } else {
        U256::from_str_radix(text, 10)
            .map_err(|_| eyre!("--shares {text:?}: expected a whole number of shares or `all`"))?
    };
    if shares.is_zero() {
        bail!("--shares: nothing to do (0 shares {what})");
    }
    if shares > max {
        bail!("--shares {shares}: more than the {max} shares {what}");
    }
    Ok(shares)
}

async fn position(
    provider: &DynProvider,
    manifest: &Manifest,
    address: Address,
    json: bool,
) -> eyre::Result<()> {
    let vault = FactoringVault::new(manifest.contracts.vault, provider);
    let shares = vault.balanceOf(address).call().await?;
    let value = vault.convertToAssets(shares).call().await?;
    let redeemable = vault.maxRedeem(address).call().await?;
    let eth = alloy::primitives::utils::format_ether(value);
    if json {
        println!(
            "{}",
            json!({ "address": address.to_checksum(None), "shares": shares.to_string(), "value_wei": value.to_string(), "value_eth": eth, "redeemable_now_shares": redeemable.to_string() })
        );
    } else {
        println!(
            "{}: {shares} shares worth {eth} ETH ({redeemable} shares redeemable now)",
            address.to_checksum(None)
        );
    }
    Ok(())
}
