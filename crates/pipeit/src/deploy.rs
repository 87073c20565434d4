//! `pipeit deploy`: the production system on a network from its preset (`deploy/presets/*.toml`).
//!
//! The deployer's key comes from `PIPEIT_DEPLOYER_KEY` or an encrypted keystore (`--keystore`, the
//! password from `PIPEIT_KEYSTORE_PASSWORD` or a prompt), never from a flag, and is never printed.
//! The logic is in `pipeit_chain::deploy`; this module reads the key, prints the plan and progress.

use std::path::{Path, PathBuf};

use alloy::network::EthereumWallet;
use alloy::primitives::utils::{format_ether, format_units};
use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use clap::Args;
use eyre::{bail, eyre, WrapErr};
use pipeit_chain::deploy::{self, Plan, Preset, Progress, RoleOverrides, Start};

/// Environment variable holding the deployer's private key (hex).
pub const KEY_VAR: &str = "PIPEIT_DEPLOYER_KEY";
/// Environment variable holding the keystore's password.
pub use crate::keys::PASSWORD_VAR;

/// `pipeit deploy` flags. The RPC URL and manifest path are the global `--rpc-url` / `--manifest`.
#[derive(Debug, Clone, Args)]
pub struct DeployArgs {
    /// `base`, `base-sepolia` (presets in deploy/presets) or a path to a preset TOML file.
    #[arg(long, env = "PIPEIT_NETWORK")]
    pub network: String,
    /// Encrypted JSON keystore of the deployer (password: PIPEIT_KEYSTORE_PASSWORD or a prompt).
    /// Without it the key comes from PIPEIT_DEPLOYER_KEY.
    #[arg(long, env = "PIPEIT_KEYSTORE")]
    pub keystore: Option<PathBuf>,
    /// Print the plan (contracts, constructor arguments, roles, estimated gas) and send nothing.
    #[arg(long, env = "PIPEIT_DRY_RUN")]
    pub dry_run: bool,
    /// With --dry-run and no key at hand: plan as if this address deployed.
    #[arg(long, env = "PIPEIT_DEPLOYER", requires = "dry_run")]
    pub deployer: Option<Address>,
    /// The vault's admin (overrides the preset's roles.admin).
    #[arg(long, env = "PIPEIT_ADMIN")]
    pub admin: Option<Address>,
    /// The keeper (overrides roles.keeper).
    #[arg(long, env = "PIPEIT_KEEPER")]
    pub keeper: Option<Address>,
    /// The pauser (overrides roles.pauser).
    #[arg(long, env = "PIPEIT_PAUSER")]
    pub pauser: Option<Address>,
    /// The protocol-fee treasury (overrides roles.treasury).
    #[arg(long, env = "PIPEIT_TREASURY")]
    pub treasury: Option<Address>,
}

/// Refuses a private key on the command line before anything parses (or echoes) it: a key in argv
/// is visible in `ps` and kept in shell history. Looks for key-like flags and any 32-byte hex value.
pub fn refuse_secrets_in_argv(args: &[String]) -> eyre::Result<()> {
    const FIX: &str =
        "keys are never taken from the command line (they show in `ps` and shell history): \
                       set PIPEIT_DEPLOYER_KEY in the environment, or pass --keystore PATH";
    // Only `pipeit deploy` handles a key; other commands take 32-byte hashes (invoice ids) as arguments.
    if !args.iter().skip(1).any(|a| a == "deploy") {
        return Ok(());
    }
    for arg in args.iter().skip(1) {
        let name = arg.split('=').next().unwrap_or_default();
        if [
            "--private-key",
            "--key",
            "--deployer-key",
            "--mnemonic",
            "--password",
            "--keystore-password",
        ]
        .contains(&name)
        {
            bail!("{name} is refused: {FIX}");
        }
        let value = arg.rsplit('=').next().unwrap_or_default();
        let hex = value.strip_prefix("0x").unwrap_or(value);
        if hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            bail!("an argument looks like a private key (64 hex digits; not repeated here): {FIX}");
        }
    }
    Ok(())
}

/// Where the deployer's key comes from.
enum KeySource {
    Env(String),
    Keystore(PathBuf),
}

fn key_source(args: &DeployArgs) -> eyre::Result<Option<KeySource>> {
    let env_key = std::env::var(KEY_VAR).ok().filter(|k| !k.trim().is_empty());
    match (&args.keystore, env_key) {
        (Some(_), Some(_)) => bail!(
            "both --keystore and {KEY_VAR} are set: keep one (unset {KEY_VAR} to use the keystore)"
        ),
        (Some(path), None) => Ok(Some(KeySource::Keystore(path.clone()))),
        (None, Some(key)) => Ok(Some(KeySource::Env(key))),
        (None, None) => Ok(None),
    }
}

fn load_signer(source: KeySource) -> eyre::Result<PrivateKeySigner> {
    match source {
        KeySource::Env(key) => key.trim().parse::<PrivateKeySigner>().map_err(|_| {
            eyre!("{KEY_VAR} is not a private key (expected 32 bytes as 64 hex digits, 0x optional; the value is not shown)")
        }),
        KeySource::Keystore(path) => crate::keys::decrypt_keystore(&path, PASSWORD_VAR),
    }
}

/// Default manifest path of a deployment: `.data/deploy/<network>/manifest.json`.
fn default_manifest(network: &str) -> PathBuf {
    Path::new(".data/deploy")
        .join(network)
        .join("manifest.json")
}

/// Runs `pipeit deploy`.
pub async fn run(args: DeployArgs, rpc_url: &str, manifest: Option<PathBuf>) -> eyre::Result<()> {
    let roles = RoleOverrides {
        admin: args.admin,
        keeper: args.keeper,
        pauser: args.pauser,
        treasury: args.treasury,
    };
    let preset = Preset::load(&args.network, &roles)?;
    let signer = match key_source(&args)? {
        Some(source) => Some(load_signer(source)?),
        None if args.dry_run && args.deployer.is_some() => None,
        None if args.dry_run => bail!(
            "no deployer: set {KEY_VAR} or pass --keystore PATH (or, for a dry run only, --deployer ADDRESS)"
        ),
        None => bail!(
            "no deployer key: set {KEY_VAR} (hex private key) in the environment, or pass --keystore PATH \
             (password from {PASSWORD_VAR} or a prompt); keys are never flags"
        ),
    };
    let deployer = match (&signer, args.deployer) {
        (Some(s), _) => s.address(),
        (None, Some(a)) => a,
        (None, None) => unreachable_deployer()?,
    };
    let manifest_path = manifest.unwrap_or_else(|| default_manifest(&preset.name));
    let (provider, _) = pipeit_chain::connect_any(rpc_url).await?;

    let start = deploy::start(&manifest_path, &preset.name, deployer)?;
    let resume_nonce = match &start {
        Start::Done(_) => {
            println!(
                "already deployed: {} describes it (journal {}); nothing to do",
                manifest_path.display(),
                deploy::journal_path(&manifest_path).display()
            );
            return Ok(());
        }
        Start::Resume(j) => Some(j.start_nonce),
        Start::Fresh => None,
    };
    let plan = deploy::plan(&provider, rpc_url, preset, deployer, resume_nonce).await?;
    let estimates = deploy::estimate(&provider, &plan).await;
    let fee = deploy::max_fee_per_gas(&provider).await?;
    let balance = provider
        .get_balance(deployer)
        .await
        .wrap_err("eth_getBalance of the deployer")?;
    print_plan(
        &plan,
        &estimates,
        fee,
        balance,
        &manifest_path,
        resume_nonce.is_some(),
    );
    if args.dry_run {
        println!("dry run: nothing was sent");
        return Ok(());
    }
    let estimated: u64 = estimates.iter().flatten().sum();
    if estimates.iter().any(|e| {
        e.as_ref()
            .is_err_and(|why| why != "needs the vault deployed")
    }) {
        tracing::warn!("some creations could not be estimated (see the plan): the balance check covers the others only");
    }
    let needed = U256::from(estimated) * U256::from(fee);
    if resume_nonce.is_none() && balance < needed {
        return Err(deploy::DeployError::InsufficientFunds {
            deployer,
            balance: format_ether(balance),
            needed: format_ether(needed),
        }
        .into());
    }
    let Some(signer) = signer else {
        return unreachable_deployer();
    };
    let wallet = EthereumWallet::from(signer);
    let journal = match start {
        Start::Resume(j) => {
            println!(
                "resuming the deployment recorded in {}",
                deploy::journal_path(&manifest_path).display()
            );
            Some(j)
        }
        _ => None,
    };
    let manifest = deploy::execute(
        &provider,
        &wallet,
        &plan,
        journal,
        &manifest_path,
        |p| match p {
            Progress::AlreadyDone { step } => println!("  = {step}: mined in an earlier run"),
            Progress::Sent { step, hash, resent } => {
                let how = if resent { "re-broadcast" } else { "sent" };
                println!("  > {step}: {how} {hash}");
            }
            Progress::Mined {
                step,
                gas_used,
                address,
            } => match address {
                Some(a) => println!("  ✓ {step}: {a} ({gas_used} gas)"),
                None => println!("  ✓ {step} ({gas_used} gas)"),
            },
        },
    )
    .await?;
    println!(
        "\ndeployed: vault {} from block {}; manifest {} (use it with --manifest or PIPEIT_MANIFEST)",
        manifest.contracts.vault,
        manifest.deployment_block,
        manifest_path.display()
    );
    if plan.preset.admin != deployer {
        println!(
            "admin: {} must call acceptDefaultAdminTransfer() on the vault after {} s; until then the deployer {} is admin",
            plan.preset.admin, plan.preset.admin_delay_seconds, deployer
        );
    }
    Ok(())
}

fn unreachable_deployer<T>() -> eyre::Result<T> {
    Err(eyre!(
        "no deployer address: set {KEY_VAR} or pass --keystore PATH"
    ))
}

fn print_plan(
    plan: &Plan,
    estimates: &[Result<u64, String>],
    fee: u128,
    balance: U256,
    manifest: &Path,
    resume: bool,
) {
    let p = &plan.preset;
    println!(
        "pipeit deploy: network {} (chain id {}), preset {}",
        p.name,
        p.chain_id,
        p.source.display()
    );
    println!(
        "  deployer {} (balance {} ETH), nonces {}..={}{}",
        plan.deployer,
        format_ether(balance),
        plan.start_nonce,
        plan.start_nonce + plan.steps.len() as u64 - 1,
        if resume { " (resumed plan)" } else { "" }
    );
    println!("  manifest {}", manifest.display());
    println!("  network contracts: WETH {}, USDC {} ({} decimals), SwapRouter02 {}, WETH/USDC pool (fee {}) {}",
        p.weth, p.usdc, plan.usdc_decimals, p.swap_router02, p.pool_fee,
        if plan.pool.is_zero() { "none yet: the hedge cannot swap until one exists".to_owned() } else { plan.pool.to_string() });
    println!(
        "  roles: admin {}, keeper {}, pauser {}, treasury {}",
        p.admin, p.keeper, p.pauser, p.treasury
    );
    println!("\n  #  step                                     address / target                            gas (estimate)");
    let mut total = 0u64;
    let mut unestimated = 0;
    for (i, (step, gas)) in plan.steps.iter().zip(estimates).enumerate() {
        let target = step
            .creates
            .or(step.to)
            .map(|a| a.to_string())
            .unwrap_or_default();
        let gas_text = match gas {
            Ok(g) => {
                total += g;
                g.to_string()
            }
            Err(why) => {
                unestimated += 1;
                format!("not estimated: {why}")
            }
        };
        println!(
            "  {:<2} {:<40} {:<43} {}",
            i + 1,
            step.name,
            target,
            gas_text
        );
        for (name, value) in &step.args {
            println!("       {name} = {value}");
        }
    }
    let cost = U256::from(total) * U256::from(fee);
    println!(
        "\n  estimated gas {total} (+{unestimated} steps estimated when sent); \
         at the current max fee {} gwei: at most {} ETH",
        format_units(U256::from(fee), "gwei").unwrap_or_default(),
        format_ether(cost)
    );
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn keys_on_the_command_line_are_refused_without_echoing_them() {
        let key = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
        for argv in [
            args(&[
                "pipeit",
                "deploy",
                "--network",
                "base",
                "--private-key",
                key,
            ]),
            args(&["pipeit", "deploy", &format!("--private-key={key}")]),
            args(&["pipeit", "deploy", "--network", "base", &format!("0x{key}")]),
        ] {
            let err = refuse_secrets_in_argv(&argv).unwrap_err().to_string();
            assert!(err.contains("PIPEIT_DEPLOYER_KEY"), "{err}");
            assert!(!err.contains(key), "{err}");
        }
        refuse_secrets_in_argv(&args(&[
            "pipeit",
            "deploy",
            "--network",
            "base",
            "--admin",
            "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        ]))
        .unwrap();
    }
}
