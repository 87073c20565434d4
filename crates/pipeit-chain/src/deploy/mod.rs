//! `pipeit deploy`: the production system on a real network, from a [`Preset`].
//!
//! Why Rust and not the forge script: the deployment must take its key from a keystore or the
//! environment (never a flag), resume after an interruption, and write the manifest other commands
//! read; a forge script can do none of these without wrapping. The code sent is forge's own (the
//! artifacts under `out/`, compiled into the binary, see [`artifacts`]); libraries are linked from the
//! artifacts' `linkReferences`.
//!
//! The plan is fixed before anything is sent: every contract's address follows from the deployer's
//! nonce (`CREATE`), so the whole plan, constructor arguments included, can be printed by a dry run,
//! and a run that stops half-way can be resumed. Each transaction is signed locally and written to a
//! journal (nonce, hash, raw bytes) *before* it is broadcast; a resumed run finds each step either
//! mined (receipt by hash), still pending or dropped (the same signed bytes re-broadcast), or its nonce
//! taken by another transaction (refused: the plan's addresses no longer hold).

pub mod artifacts;
pub mod preset;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use alloy::eips::eip2718::Encodable2718;
use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::utils::format_ether;
use alloy::primitives::{keccak256, Address, Bytes, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::state::{AccountOverride, StateOverride};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::sol_types::{SolCall, SolConstructor};
use serde::{Deserialize, Serialize};

use crate::bindings::{FactoringVault, OracleGuard};
use crate::{Contracts, Manifest, Roles, Settings};
pub use preset::{Preset, PresetError, RoleOverrides};

alloy::sol! {
    #[sol(rpc)]
    interface IPresetToken {
        function decimals() external view returns (uint8);
    }
    #[sol(rpc)]
    interface IPresetFeed {
        function description() external view returns (string);
        function decimals() external view returns (uint8);
        function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80);
    }
    #[sol(rpc)]
    interface IPresetErc4626 {
        function asset() external view returns (address);
    }
    #[sol(rpc)]
    interface IPresetV3Factory {
        function getPool(address a, address b, uint24 fee) external view returns (address);
    }
}

/// The libraries the vault links, in deployment order.
pub const LIBRARIES: [&str; 4] = ["InvoiceLogic", "QueueLogic", "StrategyLogic", "ParamsLib"];

/// How long to wait for one receipt before giving up (the run can then be resumed).
const RECEIPT_TIMEOUT: Duration = Duration::from_secs(300);

/// What can go wrong. Each message says how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The preset.
    #[error(transparent)]
    Preset(#[from] PresetError),
    /// The node is on another chain than the preset's.
    #[error(
        "the node at {url} is on chain id {actual}, but the preset {network:?} is for chain id {expected}: \
         point --rpc-url at a {network} node or pick the preset of that chain"
    )]
    WrongChain {
        /// The URL (redacted).
        url: String,
        /// The preset's name.
        network: String,
        /// The preset's chain id.
        expected: u64,
        /// The node's.
        actual: u64,
    },
    /// A preset address does not hold what it should.
    #[error("the preset's {field} ({address}) {problem}: check the address for chain id {chain_id} and fix the preset")]
    BadPresetAddress {
        /// The preset field.
        field: &'static str,
        /// Its address.
        address: Address,
        /// What is wrong.
        problem: String,
        /// The chain.
        chain_id: u64,
    },
    /// The deployer cannot pay.
    #[error(
        "the deployer {deployer} holds {balance} ETH, the deployment needs about {needed} ETH \
         (estimated gas × current fee): fund it and run the same command again"
    )]
    InsufficientFunds {
        /// The deployer.
        deployer: Address,
        /// Its balance (ETH).
        balance: String,
        /// The estimate (ETH).
        needed: String,
    },
    /// The deployer has transactions in the mempool: the plan's addresses would not hold.
    #[error(
        "the deployer {deployer} has pending transactions (nonce {confirmed} mined, {pending} pending): \
         wait for them to be mined, then run again"
    )]
    PendingTransactions {
        /// The deployer.
        deployer: Address,
        /// Mined nonce.
        confirmed: u64,
        /// Pending nonce.
        pending: u64,
    },
    /// A journal of another deployment is in the way.
    #[error(
        "{path} records a partial deployment with other inputs ({reason}): resume it with the same preset, \
         roles and key, or move it away to start a new deployment"
    )]
    JournalMismatch {
        /// The journal.
        path: PathBuf,
        /// What differs.
        reason: String,
    },
    /// Refuse to overwrite a manifest of a deployment we have no journal for.
    #[error(
        "a manifest already exists at {0}: choose another --manifest for this deployment (or remove the file if \
         it is stale)"
    )]
    ManifestExists(PathBuf),
    /// The plan's nonce was used by something else.
    #[error(
        "step {step} was to be sent with nonce {nonce}, but the deployer used that nonce for another \
         transaction, so the planned addresses no longer hold: move {journal} away and deploy afresh"
    )]
    NonceTaken {
        /// The step.
        step: String,
        /// The nonce.
        nonce: u64,
        /// The journal.
        journal: PathBuf,
    },
    /// A step reverted.
    #[error("step {step} reverted (tx {hash}): nothing after it was sent; see the transaction, fix the cause and run again to resume")]
    Reverted {
        /// The step.
        step: String,
        /// Its transaction.
        hash: B256,
    },
    /// A creation landed elsewhere than planned.
    #[error("step {step} created {actual}, not the planned {expected}: the deployer's nonce moved; move {journal} away and deploy afresh")]
    UnexpectedAddress {
        /// The step.
        step: String,
        /// Planned.
        expected: Address,
        /// Actual.
        actual: Address,
        /// The journal.
        journal: PathBuf,
    },
    /// No receipt in time.
    #[error("no receipt for step {step} (tx {hash}) within {secs} s: it stays in the journal; run the same command again to resume")]
    ReceiptTimeout {
        /// The step.
        step: String,
        /// Its transaction.
        hash: B256,
        /// How long we waited.
        secs: u64,
    },
    /// Linking (a stale build).
    #[error(transparent)]
    Link(#[from] artifacts::LinkError),
    /// An artifact is not compiled in.
    #[error("no artifact for {0}: rebuild pipeit after forge build")]
    MissingArtifact(String),
    /// RPC failure.
    #[error("RPC call {what} failed: {reason}")]
    Rpc {
        /// What was called.
        what: String,
        /// The error.
        reason: String,
    },
    /// Journal or manifest I/O.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Signing failed.
    #[error("cannot sign step {step}: {reason}")]
    Sign {
        /// The step.
        step: String,
        /// Why.
        reason: String,
    },
}

fn rpc(what: impl Into<String>) -> impl FnOnce(alloy::transports::TransportError) -> DeployError {
    let what = what.into();
    move |e| DeployError::Rpc {
        what,
        reason: e.to_string(),
    }
}

fn contract_err(what: &'static str) -> impl FnOnce(alloy::contract::Error) -> DeployError {
    move |e| DeployError::Rpc {
        what: what.to_owned(),
        reason: e.to_string(),
    }
}

/// One transaction of the plan.
#[derive(Debug, Clone)]
pub struct Step {
    /// Short name (`FactoringVault`, `addStrategy(ERC4626Strategy)`, ...).
    pub name: String,
    /// The nonce it is sent with.
    pub nonce: u64,
    /// `None` for a creation.
    pub to: Option<Address>,
    /// Creation code + constructor arguments, or calldata.
    pub input: Bytes,
    /// The created address (creations).
    pub creates: Option<Address>,
    /// What the arguments are, for the plan (name, value).
    pub args: Vec<(String, String)>,
}

/// The whole deployment, fixed before anything is sent.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The preset.
    pub preset: Preset,
    /// Who sends.
    pub deployer: Address,
    /// The first nonce.
    pub start_nonce: u64,
    /// Decimals of the preset's USDC (read on chain).
    pub usdc_decimals: u8,
    /// The WETH/USDC pool at the preset's fee (zero if none).
    pub pool: Address,
    /// ETH/USD now, whole dollars (for the manifest's settings).
    pub eth_usd_price: u64,
    /// The transactions.
    pub steps: Vec<Step>,
}

impl Plan {
    /// The address created by step `name`.
    pub fn address_of(&self, name: &str) -> Address {
        self.steps
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| s.creates)
            .unwrap_or(Address::ZERO)
    }

    /// A fingerprint of everything sent: a journal resumes only the same plan.
    pub fn hash(&self) -> B256 {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(self.deployer.as_slice());
        bytes.extend_from_slice(&self.start_nonce.to_be_bytes());
        for s in &self.steps {
            bytes.extend_from_slice(s.to.unwrap_or_default().as_slice());
            bytes.extend_from_slice(keccak256(&s.input).as_slice());
        }
        keccak256(bytes)
    }
}

/// Checks the node and the preset's addresses, then fixes the plan for `deployer` from nonce
/// `start_nonce` (the deployer's next nonce on a fresh run, the journal's on a resume).
pub async fn plan(
    provider: &DynProvider,
    rpc_url: &str,
    preset: Preset,
    deployer: Address,
    start_nonce: Option<u64>,
) -> Result<Plan, DeployError> {
    let chain_id = provider.get_chain_id().await.map_err(rpc("eth_chainId"))?;
    if chain_id != preset.chain_id {
        return Err(DeployError::WrongChain {
            url: crate::redact_url(rpc_url),
            network: preset.name.clone(),
            expected: preset.chain_id,
            actual: chain_id,
        });
    }
    let checked = check_preset(provider, &preset).await?;
    let start_nonce = match start_nonce {
        Some(n) => n,
        None => provider
            .get_transaction_count(deployer)
            .await
            .map_err(rpc("eth_getTransactionCount"))?,
    };
    build_plan(preset, deployer, start_nonce, checked)
}

/// What the node says about the preset's addresses.
struct Checked {
    usdc_decimals: u8,
    pool: Address,
    eth_usd_price: u64,
}

async fn check_preset(provider: &DynProvider, p: &Preset) -> Result<Checked, DeployError> {
    let bad =
        |field: &'static str, address: Address, problem: String| DeployError::BadPresetAddress {
            field,
            address,
            problem,
            chain_id: p.chain_id,
        };
    let code_checks: [(&'static str, Address); 9] = [
        ("contracts.weth", p.weth),
        ("contracts.usdc", p.usdc),
        ("contracts.uniswap_v3_factory", p.uniswap_v3_factory),
        (
            "contracts.nonfungible_position_manager",
            p.nonfungible_position_manager,
        ),
        ("contracts.swap_router02", p.swap_router02),
        ("contracts.eth_usd_feed", p.eth_usd_feed),
        ("contracts.usdc_usd_feed", p.usdc_usd_feed),
        ("contracts.sequencer_uptime_feed", p.sequencer_uptime_feed),
        ("contracts.erc4626_target", p.erc4626_target),
    ];
    for (field, address) in code_checks {
        let code = provider
            .get_code_at(address)
            .await
            .map_err(rpc(format!("eth_getCode({address})")))?;
        if code.is_empty() {
            return Err(bad(field, address, "has no code".into()));
        }
    }
    let weth_decimals = IPresetToken::new(p.weth, provider)
        .decimals()
        .call()
        .await
        .map_err(|e| {
            bad(
                "contracts.weth",
                p.weth,
                format!("does not answer decimals() ({e})"),
            )
        })?;
    if weth_decimals != 18 {
        return Err(bad(
            "contracts.weth",
            p.weth,
            format!("has {weth_decimals} decimals, not 18"),
        ));
    }
    let usdc_decimals = IPresetToken::new(p.usdc, provider)
        .decimals()
        .call()
        .await
        .map_err(|e| {
            bad(
                "contracts.usdc",
                p.usdc,
                format!("does not answer decimals() ({e})"),
            )
        })?;
    for (field, address, expected) in [
        ("contracts.eth_usd_feed", p.eth_usd_feed, "ETH / USD"),
        ("contracts.usdc_usd_feed", p.usdc_usd_feed, "USDC / USD"),
        (
            "contracts.sequencer_uptime_feed",
            p.sequencer_uptime_feed,
            "L2 Sequencer Uptime Status Feed",
        ),
    ] {
        let description = IPresetFeed::new(address, provider)
            .description()
            .call()
            .await
            .map_err(|e| {
                bad(
                    field,
                    address,
                    format!("does not answer description() ({e})"),
                )
            })?;
        if description != expected {
            return Err(bad(
                field,
                address,
                format!("describes itself as {description:?}, not {expected:?}"),
            ));
        }
    }
    let asset = IPresetErc4626::new(p.erc4626_target, provider)
        .asset()
        .call()
        .await
        .map_err(|e| {
            bad(
                "contracts.erc4626_target",
                p.erc4626_target,
                format!("is not an ERC-4626 vault ({e})"),
            )
        })?;
    if asset != p.weth {
        return Err(bad(
            "contracts.erc4626_target",
            p.erc4626_target,
            format!("is a vault of {asset}, not of WETH {}", p.weth),
        ));
    }
    let pool = IPresetV3Factory::new(p.uniswap_v3_factory, provider)
        .getPool(p.weth, p.usdc, alloy::primitives::Uint::from(p.pool_fee))
        .call()
        .await
        .map_err(|e| {
            bad(
                "contracts.uniswap_v3_factory",
                p.uniswap_v3_factory,
                format!("getPool failed ({e})"),
            )
        })?;
    let feed = IPresetFeed::new(p.eth_usd_feed, provider);
    let feed_decimals = feed
        .decimals()
        .call()
        .await
        .map_err(contract_err("ETH/USD decimals()"))?;
    let round = feed
        .latestRoundData()
        .call()
        .await
        .map_err(contract_err("ETH/USD latestRoundData()"))?;
    // Whole dollars, rounded down: a label in the manifest, never used in money math.
    let answer = U256::try_from(round._1).unwrap_or_default();
    let eth_usd_price = (answer / U256::from(10u64).pow(U256::from(feed_decimals)))
        .try_into()
        .unwrap_or(u64::MAX);
    Ok(Checked {
        usdc_decimals,
        pool,
        eth_usd_price,
    })
}

fn build_plan(
    preset: Preset,
    deployer: Address,
    start_nonce: u64,
    checked: Checked,
) -> Result<Plan, DeployError> {
    let mut steps: Vec<Step> = Vec::new();
    let next_nonce = |steps: &Vec<Step>| start_nonce + steps.len() as u64;
    let load = |name: &str| {
        artifacts::artifact(name).ok_or_else(|| DeployError::MissingArtifact(name.into()))
    };
    let mut libraries = BTreeMap::new();
    let create = |steps: &mut Vec<Step>,
                  name: &str,
                  libraries: &BTreeMap<String, Address>,
                  args: Vec<u8>,
                  shown: Vec<(String, String)>|
     -> Result<Address, DeployError> {
        let nonce = next_nonce(steps);
        let mut input = load(name)?.bytecode.link(name, libraries)?.to_vec();
        input.extend_from_slice(&args);
        let address = deployer.create(nonce);
        steps.push(Step {
            name: name.to_owned(),
            nonce,
            to: None,
            input: input.into(),
            creates: Some(address),
            args: shown,
        });
        Ok(address)
    };
    let none = BTreeMap::new();
    for lib in LIBRARIES {
        let address = create(&mut steps, lib, &none, Vec::new(), Vec::new())?;
        libraries.insert(lib.to_owned(), address);
    }
    let p = &preset;
    let a = |x: Address| x.to_string();
    let oracle_args = OracleGuard::constructorCall {
        sequencerFeed: p.sequencer_uptime_feed,
        sequencerGrace: U256::from(p.sequencer_grace_seconds),
        ethUsdFeed: p.eth_usd_feed,
        ethUsdMaxAge: U256::from(p.eth_usd_max_age_seconds),
        tokenFeeds: vec![OracleGuard::TokenFeedConfig {
            token: p.usdc,
            feed: p.usdc_usd_feed,
            maxAge: p.usdc_usd_max_age_seconds,
            tokenDecimals: checked.usdc_decimals,
        }],
    };
    let oracle = create(
        &mut steps,
        "OracleGuard",
        &none,
        oracle_args.abi_encode(),
        vec![
            ("sequencerFeed".into(), a(p.sequencer_uptime_feed)),
            (
                "sequencerGrace".into(),
                format!("{} s", p.sequencer_grace_seconds),
            ),
            ("ethUsdFeed".into(), a(p.eth_usd_feed)),
            (
                "ethUsdMaxAge".into(),
                format!("{} s", p.eth_usd_max_age_seconds),
            ),
            (
                "tokenFeeds[0]".into(),
                format!(
                    "USDC {} via {} (max age {} s, {} decimals)",
                    p.usdc, p.usdc_usd_feed, p.usdc_usd_max_age_seconds, checked.usdc_decimals
                ),
            ),
        ],
    )?;
    // The deployer is the vault's first admin so that it can add the strategies; the configured
    // admin then takes over through the vault's two-step transfer (it accepts after the delay).
    let r = &p.risk;
    let vault_args = FactoringVault::constructorCall {
        weth: p.weth,
        oracle,
        admin: deployer,
        adminDelay: alloy::primitives::Uint::from(p.admin_delay_seconds),
        keeper: p.keeper,
        pauser: p.pauser,
        treasury_: p.treasury,
        params: FactoringVault::RiskParams {
            maxAdvancePerInvoice: r.max_advance_per_invoice,
            maxExposurePerBusiness: r.max_exposure_per_business,
            maxUtilisationBps: r.max_utilisation_bps,
            minIdleBps: r.min_idle_bps,
            protocolFeeBps: r.protocol_fee_bps,
            maxLateFeeBpsPerDay: r.max_late_fee_bps_per_day,
            maxTenor: r.max_tenor,
            gracePeriod: r.grace_period,
            publicWriteOffDelay: r.public_write_off_delay,
            moveWindow: r.move_window,
            moveCapPerWindow: r.move_cap_per_window,
        },
    };
    let vault = create(
        &mut steps,
        "FactoringVault",
        &libraries,
        vault_args.abi_encode(),
        vec![
            ("asset (WETH)".into(), a(p.weth)),
            ("oracle".into(), a(oracle)),
            ("admin (first; see below)".into(), a(deployer)),
            ("adminDelay".into(), format!("{} s", p.admin_delay_seconds)),
            ("keeper".into(), a(p.keeper)),
            ("pauser".into(), a(p.pauser)),
            ("treasury".into(), a(p.treasury)),
            (
                "risk".into(),
                format!(
                    "max advance {} ETH, max exposure {} ETH, utilisation ≤ {} bps, idle ≥ {} bps, protocol fee {} bps, \
                     late fee ≤ {} bps/day, tenor ≤ {} s, grace {} s, public write-off +{} s, moves ≤ {} ETH per {} s",
                    format_ether(U256::from(r.max_advance_per_invoice)),
                    format_ether(U256::from(r.max_exposure_per_business)),
                    r.max_utilisation_bps,
                    r.min_idle_bps,
                    r.protocol_fee_bps,
                    r.max_late_fee_bps_per_day,
                    r.max_tenor,
                    r.grace_period,
                    r.public_write_off_delay,
                    format_ether(U256::from(r.move_cap_per_window)),
                    r.move_window
                ),
            ),
        ],
    )?;
    let yield_args = crate::bindings::ERC4626Strategy::constructorCall {
        vault_: vault,
        target_: p.erc4626_target,
    };
    let yield_strategy = create(
        &mut steps,
        "ERC4626Strategy",
        &none,
        yield_args.abi_encode(),
        vec![
            ("vault".into(), a(vault)),
            ("target".into(), a(p.erc4626_target)),
        ],
    )?;
    let hedge_args = crate::bindings::UniswapV3SwapStrategy::constructorCall {
        vault_: vault,
        weth: p.weth,
        token_: p.usdc,
        router_: p.swap_router02,
        oracle_: oracle,
        poolFee_: alloy::primitives::Uint::from(p.pool_fee),
        maxSlippageBps_: U256::from(p.max_slippage_bps),
    };
    let hedge = create(
        &mut steps,
        "UniswapV3SwapStrategy",
        &none,
        hedge_args.abi_encode(),
        vec![
            ("vault".into(), a(vault)),
            ("weth".into(), a(p.weth)),
            ("token (USDC)".into(), a(p.usdc)),
            ("router (SwapRouter02)".into(), a(p.swap_router02)),
            ("oracle".into(), a(oracle)),
            ("poolFee".into(), p.pool_fee.to_string()),
            ("maxSlippageBps".into(), p.max_slippage_bps.to_string()),
        ],
    )?;
    let call =
        |steps: &mut Vec<Step>, name: String, input: Vec<u8>, shown: Vec<(String, String)>| {
            let nonce = next_nonce(steps);
            steps.push(Step {
                name,
                nonce,
                to: Some(vault),
                input: input.into(),
                creates: None,
                args: shown,
            });
        };
    for (name, strategy, cap) in [
        ("ERC4626Strategy", yield_strategy, p.yield_strategy_cap),
        ("UniswapV3SwapStrategy", hedge, p.hedge_strategy_cap),
    ] {
        call(
            &mut steps,
            format!("vault.addStrategy({name})"),
            FactoringVault::addStrategyCall { strategy, cap }.abi_encode(),
            vec![
                ("strategy".into(), a(strategy)),
                ("cap".into(), format!("{} ETH", format_ether(cap))),
            ],
        );
    }
    if p.admin != deployer {
        call(
            &mut steps,
            "vault.beginDefaultAdminTransfer".into(),
            FactoringVault::beginDefaultAdminTransferCall { newAdmin: p.admin }.abi_encode(),
            vec![(
                "newAdmin".into(),
                format!(
                    "{} (accepts with acceptDefaultAdminTransfer() after {} s)",
                    p.admin, p.admin_delay_seconds
                ),
            )],
        );
    }
    Ok(Plan {
        preset,
        deployer,
        start_nonce,
        usdc_decimals: checked.usdc_decimals,
        pool: checked.pool,
        eth_usd_price: checked.eth_usd_price,
        steps,
    })
}

/// Gas of each step as the node estimates it now: `Ok(gas)`, or why not. The calls on the vault
/// are not estimated (they need the vault's state). Creations are estimated with the libraries
/// planned before them placed at their addresses by a state override (in a dry run they are not
/// deployed yet; the vault's constructor calls ParamsLib); no other constructor calls a contract
/// of the plan.
pub async fn estimate(provider: &DynProvider, plan: &Plan) -> Vec<Result<u64, String>> {
    let mut out = Vec::new();
    for step in &plan.steps {
        if step.to.is_some() {
            out.push(Err("needs the vault deployed".to_owned()));
            continue;
        }
        // The libraries planned before this step, at their addresses; the deployer at the step's
        // own nonce, so it creates at the planned address.
        let mut overrides = StateOverride::default();
        for lib in LIBRARIES {
            let Some(lib_step) = plan.steps.iter().find(|s| s.name == lib) else {
                continue;
            };
            if lib_step.nonce >= step.nonce {
                continue;
            }
            if let Some(code) = artifacts::artifact(lib)
                .and_then(|a| a.deployed_bytecode.link(lib, &BTreeMap::new()).ok())
            {
                overrides.insert(
                    plan.address_of(lib),
                    AccountOverride {
                        code: Some(code),
                        ..Default::default()
                    },
                );
            }
        }
        overrides.insert(
            plan.deployer,
            AccountOverride {
                nonce: Some(step.nonce),
                ..Default::default()
            },
        );
        let tx = TransactionRequest::default()
            .with_from(plan.deployer)
            .with_deploy_code(step.input.clone());
        let estimate = provider.estimate_gas(tx).overrides(overrides).await;
        out.push(estimate.map_err(|e| e.to_string()));
    }
    out
}

/// Current fee per gas (EIP-1559 max fee), for the cost estimate.
pub async fn max_fee_per_gas(provider: &DynProvider) -> Result<u128, DeployError> {
    provider
        .estimate_eip1559_fees()
        .await
        .map(|f| f.max_fee_per_gas)
        .map_err(rpc("fee estimate"))
}

// ------------------------------------------------------------------ journal

/// One signed transaction of the plan, written before it is broadcast.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct JournalTx {
    /// The step.
    pub step: String,
    /// Its nonce.
    pub nonce: u64,
    /// Its hash.
    pub hash: B256,
    /// The signed bytes (public once broadcast): re-broadcast on resume if dropped.
    pub raw: Bytes,
    /// Block it was mined in, once known.
    #[serde(default)]
    pub block: Option<u64>,
}

/// The deployment journal (`<manifest>.deploy.json`), the record of a deployment in progress or
/// done.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Journal {
    /// The preset's name.
    pub network: String,
    /// Its chain.
    pub chain_id: u64,
    /// Who sends.
    pub deployer: Address,
    /// The plan's first nonce.
    pub start_nonce: u64,
    /// [`Plan::hash`].
    pub plan_hash: B256,
    /// Every transaction signed so far.
    pub txs: Vec<JournalTx>,
    /// Set when the manifest was written.
    #[serde(default)]
    pub complete: bool,
}

/// Where the journal of `manifest` lives.
pub fn journal_path(manifest: &Path) -> PathBuf {
    let mut name = manifest
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".deploy.json");
    manifest.with_file_name(name)
}

impl Journal {
    /// The journal at `path`, if any.
    pub fn load(path: &Path) -> Result<Option<Journal>, DeployError> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                serde_json::from_str(&text)
                    .map(Some)
                    .map_err(|e| DeployError::JournalMismatch {
                        path: path.to_owned(),
                        reason: format!("unreadable: {e}"),
                    })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(DeployError::Io {
                path: path.to_owned(),
                source,
            }),
        }
    }

    fn save(&self, path: &Path) -> Result<(), DeployError> {
        let text = serde_json::to_string_pretty(self).unwrap_or_default();
        write_atomically(path, &text)
    }
}

/// Writes `text` to `path` through a temporary file and a rename: a reader sees the old or the new
/// file, never half of one.
fn write_atomically(path: &Path, text: &str) -> Result<(), DeployError> {
    let io = |source| DeployError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

// ------------------------------------------------------------------ execution

/// What happens, step by step, for the caller to print.
#[derive(Debug, Clone)]
pub enum Progress {
    /// Already mined in an earlier run.
    AlreadyDone {
        /// The step.
        step: String,
    },
    /// Signed and broadcast (or re-broadcast), waiting for the receipt.
    Sent {
        /// The step.
        step: String,
        /// Its transaction.
        hash: B256,
        /// Re-broadcast from the journal.
        resent: bool,
    },
    /// Mined.
    Mined {
        /// The step.
        step: String,
        /// Gas used.
        gas_used: u64,
        /// The created contract.
        address: Option<Address>,
    },
}

/// Where a fresh or resumed deployment stands.
#[derive(Debug)]
pub enum Start {
    /// Nothing recorded: start at the deployer's next nonce.
    Fresh,
    /// A journal of the same network and deployer: resume from its nonce.
    Resume(Journal),
    /// Already complete: the manifest is there.
    Done(Journal),
}

/// Decides between a fresh run, a resume and "already done", refusing a manifest that is not ours.
pub fn start(manifest: &Path, network: &str, deployer: Address) -> Result<Start, DeployError> {
    let path = journal_path(manifest);
    match Journal::load(&path)? {
        None if manifest.exists() => Err(DeployError::ManifestExists(manifest.to_owned())),
        None => Ok(Start::Fresh),
        Some(j) if j.network != network || j.deployer != deployer => {
            Err(DeployError::JournalMismatch {
                path,
                reason: format!(
                    "it is for network {:?} from deployer {}",
                    j.network, j.deployer
                ),
            })
        }
        Some(j) if j.complete && manifest.exists() => Ok(Start::Done(j)),
        Some(j) => Ok(Start::Resume(j)),
    }
}

/// Sends (or resumes) the plan, then writes the manifest. `journal` is the resumed journal, if any.
pub async fn execute(
    provider: &DynProvider,
    wallet: &EthereumWallet,
    plan: &Plan,
    journal: Option<Journal>,
    manifest_path: &Path,
    mut progress: impl FnMut(Progress),
) -> Result<Manifest, DeployError> {
    let journal_file = journal_path(manifest_path);
    let mut journal = match journal {
        Some(j) if j.plan_hash != plan.hash() => {
            return Err(DeployError::JournalMismatch {
                path: journal_file,
                reason: "the preset, roles or contracts changed since it was started".into(),
            })
        }
        Some(j) => j,
        None => {
            let confirmed = provider
                .get_transaction_count(plan.deployer)
                .await
                .map_err(rpc("eth_getTransactionCount"))?;
            let pending = provider
                .get_transaction_count(plan.deployer)
                .pending()
                .await
                .map_err(rpc("eth_getTransactionCount(pending)"))?;
            if pending != confirmed {
                return Err(DeployError::PendingTransactions {
                    deployer: plan.deployer,
                    confirmed,
                    pending,
                });
            }
            Journal {
                network: plan.preset.name.clone(),
                chain_id: plan.preset.chain_id,
                deployer: plan.deployer,
                start_nonce: plan.start_nonce,
                plan_hash: plan.hash(),
                txs: Vec::new(),
                complete: false,
            }
        }
    };
    journal.save(&journal_file)?;
    let fees = provider
        .estimate_eip1559_fees()
        .await
        .map_err(rpc("fee estimate"))?;

    for step in &plan.steps {
        let confirmed = provider
            .get_transaction_count(plan.deployer)
            .await
            .map_err(rpc("eth_getTransactionCount"))?;
        let recorded = journal.txs.iter().position(|t| t.step == step.name);
        let receipt = match recorded {
            Some(i) if journal.txs[i].block.is_some() => {
                progress(Progress::AlreadyDone {
                    step: step.name.clone(),
                });
                continue;
            }
            Some(i) => {
                let tx = journal.txs[i].clone();
                let found = provider
                    .get_transaction_receipt(tx.hash)
                    .await
                    .map_err(rpc("eth_getTransactionReceipt"))?;
                match found {
                    Some(r) => {
                        progress(Progress::AlreadyDone {
                            step: step.name.clone(),
                        });
                        r
                    }
                    None if confirmed > tx.nonce => {
                        return Err(DeployError::NonceTaken {
                            step: step.name.clone(),
                            nonce: tx.nonce,
                            journal: journal_file,
                        })
                    }
                    None => {
                        // Pending or dropped: the same signed bytes again (a node that still has
                        // it may say so; the receipt decides).
                        let _ = provider.send_raw_transaction(&tx.raw).await;
                        progress(Progress::Sent {
                            step: step.name.clone(),
                            hash: tx.hash,
                            resent: true,
                        });
                        wait_receipt(provider, &step.name, tx.hash).await?
                    }
                }
            }
            None => {
                if confirmed != step.nonce {
                    return Err(DeployError::NonceTaken {
                        step: step.name.clone(),
                        nonce: step.nonce,
                        journal: journal_file,
                    });
                }
                let (hash, raw) = sign(provider, wallet, plan, step, &fees).await?;
                journal.txs.push(JournalTx {
                    step: step.name.clone(),
                    nonce: step.nonce,
                    hash,
                    raw: raw.clone(),
                    block: None,
                });
                journal.save(&journal_file)?;
                provider
                    .send_raw_transaction(&raw)
                    .await
                    .map_err(rpc(format!("eth_sendRawTransaction ({})", step.name)))
                    .map(drop)?; // the receipt is polled below, also on a resume
                progress(Progress::Sent {
                    step: step.name.clone(),
                    hash,
                    resent: false,
                });
                wait_receipt(provider, &step.name, hash).await?
            }
        };
        if !receipt.status() {
            return Err(DeployError::Reverted {
                step: step.name.clone(),
                hash: receipt.transaction_hash,
            });
        }
        if let Some(expected) = step.creates {
            let actual = receipt.contract_address.unwrap_or_default();
            if actual != expected {
                return Err(DeployError::UnexpectedAddress {
                    step: step.name.clone(),
                    expected,
                    actual,
                    journal: journal_file,
                });
            }
        }
        if let Some(t) = journal.txs.iter_mut().find(|t| t.step == step.name) {
            t.block = receipt.block_number;
        }
        journal.save(&journal_file)?;
        progress(Progress::Mined {
            step: step.name.clone(),
            gas_used: receipt.gas_used,
            address: step.creates,
        });
    }

    let deployment_block = journal
        .txs
        .iter()
        .find(|t| t.step == "FactoringVault")
        .and_then(|t| t.block)
        .unwrap_or_default();
    let manifest = manifest_of(plan, deployment_block);
    let text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
    write_atomically(manifest_path, &text)?;
    journal.complete = true;
    journal.save(&journal_file)?;
    Ok(manifest)
}

async fn sign(
    provider: &DynProvider,
    wallet: &EthereumWallet,
    plan: &Plan,
    step: &Step,
    fees: &alloy::eips::eip1559::Eip1559Estimation,
) -> Result<(B256, Bytes), DeployError> {
    let mut tx = TransactionRequest::default()
        .with_from(plan.deployer)
        .with_nonce(step.nonce)
        .with_chain_id(plan.preset.chain_id)
        .with_max_fee_per_gas(fees.max_fee_per_gas)
        .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas);
    tx = match step.to {
        Some(to) => tx.with_to(to).with_input(step.input.clone()),
        None => tx.with_deploy_code(step.input.clone()),
    };
    let gas = provider
        .estimate_gas(tx.clone())
        .await
        .map_err(rpc(format!("eth_estimateGas ({})", step.name)))?;
    // A fifth more than the estimate: unused gas is not paid, an out-of-gas revert is.
    let tx = tx.with_gas_limit(gas + gas / 5);
    let envelope = tx.build(wallet).await.map_err(|e| DeployError::Sign {
        step: step.name.clone(),
        reason: e.to_string(),
    })?;
    let hash = *envelope.tx_hash();
    Ok((hash, envelope.encoded_2718().into()))
}

async fn wait_receipt(
    provider: &DynProvider,
    step: &str,
    hash: B256,
) -> Result<TransactionReceipt, DeployError> {
    let deadline = tokio::time::Instant::now() + RECEIPT_TIMEOUT;
    let mut wait = Duration::from_millis(100);
    loop {
        if let Some(r) = provider
            .get_transaction_receipt(hash)
            .await
            .map_err(rpc("eth_getTransactionReceipt"))?
        {
            return Ok(r);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(DeployError::ReceiptTimeout {
                step: step.to_owned(),
                hash,
                secs: RECEIPT_TIMEOUT.as_secs(),
            });
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(4));
    }
}

/// The manifest of a completed plan (the same format the devnet deployment writes).
pub fn manifest_of(plan: &Plan, deployment_block: u64) -> Manifest {
    let p = &plan.preset;
    Manifest {
        chain_id: p.chain_id,
        deployment_block,
        contracts: Contracts {
            vault: plan.address_of("FactoringVault"),
            weth: p.weth,
            usdc: p.usdc,
            uniswap_v3_factory: p.uniswap_v3_factory,
            nonfungible_position_manager: p.nonfungible_position_manager,
            swap_router02: p.swap_router02,
            weth_usdc_pool: plan.pool,
            eth_usd_feed: p.eth_usd_feed,
            usdc_usd_feed: p.usdc_usd_feed,
            sequencer_uptime_feed: p.sequencer_uptime_feed,
            oracle_guard: plan.address_of("OracleGuard"),
            dev_yield_vault: p.erc4626_target,
            erc4626_strategy: plan.address_of("ERC4626Strategy"),
            uniswap_v3_swap_strategy: plan.address_of("UniswapV3SwapStrategy"),
        },
        roles: Roles {
            admin: p.admin,
            keeper: p.keeper,
            pauser: p.pauser,
            treasury: p.treasury,
            investors: Vec::new(),
            businesses: Vec::new(),
        },
        settings: Settings {
            eth_usd_price: plan.eth_usd_price,
            pool_fee: p.pool_fee,
            max_slippage_bps: p.max_slippage_bps,
            feed_max_age_seconds: u64::from(p.eth_usd_max_age_seconds),
            sequencer_grace_seconds: p.sequencer_grace_seconds,
            admin_delay_seconds: p.admin_delay_seconds,
        },
    }
}
