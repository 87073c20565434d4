//! A network preset: the network's own contracts (WETH, USDC, Uniswap, Chainlink feeds), the
//! ERC-4626 target of the yield strategy, the role holders and the deployment settings.
//!
//! Committed presets live in `deploy/presets/<network>.toml`; `--network` takes a preset name or a
//! path to a TOML file. An empty string means "not set": [`Preset::resolve`] lists every field
//! still missing at once, each with where to set it.

use std::path::{Path, PathBuf};

use alloy::primitives::utils::parse_ether;
use alloy::primitives::{Address, U256};
use serde::Deserialize;

/// A preset as written in the TOML file (addresses may be missing, see [`Preset::resolve`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetFile {
    /// Network name (shown in the plan and the manifest's folder).
    pub name: String,
    /// EIP-155 chain id the addresses belong to: the node must answer with it.
    pub chain_id: u64,
    /// The network's contracts.
    pub contracts: PresetContracts,
    /// Role holders. Flags (`--admin`, ...) override them.
    #[serde(default)]
    pub roles: PresetRoles,
    /// Oracle, strategy and admin settings.
    pub settings: PresetSettings,
    /// The vault's risk parameters.
    pub risk: PresetRisk,
}

/// The network's contracts; `""` = not set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct PresetContracts {
    pub weth: String,
    pub usdc: String,
    pub uniswap_v3_factory: String,
    pub nonfungible_position_manager: String,
    pub swap_router02: String,
    pub eth_usd_feed: String,
    pub usdc_usd_feed: String,
    pub sequencer_uptime_feed: String,
    /// The WETH ERC-4626 vault the yield strategy deposits into.
    pub erc4626_target: String,
}

/// Role holders; `""` = not set.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct PresetRoles {
    #[serde(default)]
    pub admin: String,
    #[serde(default)]
    pub keeper: String,
    #[serde(default)]
    pub pauser: String,
    #[serde(default)]
    pub treasury: String,
}

/// Settings (ETH amounts as decimal strings, parsed exactly).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct PresetSettings {
    pub pool_fee: u32,
    pub max_slippage_bps: u64,
    pub eth_usd_max_age_seconds: u32,
    pub usdc_usd_max_age_seconds: u32,
    pub sequencer_grace_seconds: u64,
    pub admin_delay_seconds: u64,
    pub yield_strategy_cap_eth: String,
    pub hedge_strategy_cap_eth: String,
}

/// The vault's risk parameters (ETH amounts as decimal strings).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct PresetRisk {
    pub max_advance_per_invoice_eth: String,
    pub max_exposure_per_business_eth: String,
    pub max_utilisation_bps: u16,
    pub min_idle_bps: u16,
    pub protocol_fee_bps: u16,
    pub max_late_fee_bps_per_day: u16,
    pub max_tenor_seconds: u32,
    pub grace_period_seconds: u32,
    pub public_write_off_delay_seconds: u32,
    pub move_window_seconds: u32,
    pub move_cap_per_window_eth: String,
}

/// Role holders given on the command line (they win over the preset's).
#[derive(Debug, Clone, Default)]
#[allow(missing_docs)]
pub struct RoleOverrides {
    pub admin: Option<Address>,
    pub keeper: Option<Address>,
    pub pauser: Option<Address>,
    pub treasury: Option<Address>,
}

/// A complete, checked preset.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Preset {
    pub name: String,
    pub source: PathBuf,
    pub chain_id: u64,
    pub weth: Address,
    pub usdc: Address,
    pub uniswap_v3_factory: Address,
    pub nonfungible_position_manager: Address,
    pub swap_router02: Address,
    pub eth_usd_feed: Address,
    pub usdc_usd_feed: Address,
    pub sequencer_uptime_feed: Address,
    pub erc4626_target: Address,
    pub admin: Address,
    pub keeper: Address,
    pub pauser: Address,
    pub treasury: Address,
    pub pool_fee: u32,
    pub max_slippage_bps: u64,
    pub eth_usd_max_age_seconds: u32,
    pub usdc_usd_max_age_seconds: u32,
    pub sequencer_grace_seconds: u64,
    pub admin_delay_seconds: u64,
    pub yield_strategy_cap: U256,
    pub hedge_strategy_cap: U256,
    pub risk: Risk,
}

/// The vault's risk parameters in wei and seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Risk {
    pub max_advance_per_invoice: u128,
    pub max_exposure_per_business: u128,
    pub max_utilisation_bps: u16,
    pub min_idle_bps: u16,
    pub protocol_fee_bps: u16,
    pub max_late_fee_bps_per_day: u16,
    pub max_tenor: u32,
    pub grace_period: u32,
    pub public_write_off_delay: u32,
    pub move_window: u32,
    pub move_cap_per_window: u128,
}

/// What is wrong with a preset. Each message names the field and the fix.
#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    /// Neither a committed preset nor a file.
    #[error(
        "unknown network {network:?}: use one of {known} (presets in {dir}), or a path to a preset TOML file"
    )]
    Unknown {
        /// What was asked for.
        network: String,
        /// The committed presets.
        known: String,
        /// Where they are.
        dir: String,
    },
    /// The file cannot be read.
    #[error("cannot read the preset {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML / unknown or mistyped key.
    #[error("the preset {path} is not valid: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// toml's message (names the key).
        message: String,
    },
    /// Fields missing or malformed; all of them.
    #[error("the preset {path} is incomplete:\n{}", problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// One line per field.
        problems: Vec<String>,
    },
}

/// The committed presets' folder (`<repo>/deploy/presets`).
pub fn presets_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/presets")
}

/// The names of the committed presets, sorted.
pub fn known_presets() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(presets_dir())
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .filter_map(|e| {
                    let path = e.path();
                    (path.extension()? == "toml")
                        .then(|| path.file_stem()?.to_str().map(str::to_owned))?
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

impl Preset {
    /// Loads `network` (a committed preset's name, or a path to a TOML file) and checks it
    /// with the command line's role holders applied.
    pub fn load(network: &str, roles: &RoleOverrides) -> Result<Preset, PresetError> {
        let path = locate(network)?;
        let text = std::fs::read_to_string(&path).map_err(|source| PresetError::Read {
            path: path.clone(),
            source,
        })?;
        let file: PresetFile = toml::from_str(&text).map_err(|e| PresetError::Parse {
            path: path.clone(),
            message: e.to_string().trim().replace('\n', " "),
        })?;
        file.resolve(&path, roles)
    }
}

fn locate(network: &str) -> Result<PathBuf, PresetError> {
    let as_path = Path::new(network);
    if network.ends_with(".toml") || as_path.components().count() > 1 {
        if as_path.is_file() {
            return Ok(as_path.to_path_buf());
        }
    } else {
        let committed = presets_dir().join(format!("{network}.toml"));
        if committed.is_file() {
            return Ok(committed);
        }
    }
    Err(PresetError::Unknown {
        network: network.to_owned(),
        known: known_presets().join(", "),
        dir: "deploy/presets".to_owned(),
    })
}

/// An address; a mixed-case one must carry a valid EIP-55 checksum (a copied address with a
/// typo in it is refused rather than deployed against).
fn parse_address(text: &str) -> Result<Address, String> {
    let hex = text.strip_prefix("0x").unwrap_or(text);
    let mixed =
        hex.chars().any(|c| c.is_ascii_uppercase()) && hex.chars().any(|c| c.is_ascii_lowercase());
    if mixed {
        Address::parse_checksummed(text, None)
            .map_err(|e| format!("{e}; a typo? copy it again from its source"))
    } else {
        text.parse::<Address>().map_err(|e| e.to_string())
    }
}

impl PresetFile {
    /// Checks every field; all problems at once.
    pub fn resolve(self, path: &Path, roles: &RoleOverrides) -> Result<Preset, PresetError> {
        let mut problems = Vec::new();
        let mut addr = |field: &str, value: &str, flag: Option<&str>| -> Address {
            let how = match flag {
                Some(flag) => format!("set it in the preset or pass {flag}"),
                None => "set it in the preset".to_owned(),
            };
            if value.trim().is_empty() {
                problems.push(format!("{field} is required: {how}"));
                return Address::ZERO;
            }
            match parse_address(value.trim()) {
                Ok(a) if a == Address::ZERO => {
                    problems.push(format!("{field} is the zero address: {how}"));
                    a
                }
                Ok(a) => a,
                Err(e) => {
                    problems.push(format!(
                        "{field} = {value:?} is not an address ({e}): {how}"
                    ));
                    Address::ZERO
                }
            }
        };
        let c = &self.contracts;
        let weth = addr("contracts.weth", &c.weth, None);
        let usdc = addr("contracts.usdc", &c.usdc, None);
        let uniswap_v3_factory = addr("contracts.uniswap_v3_factory", &c.uniswap_v3_factory, None);
        let nonfungible_position_manager = addr(
            "contracts.nonfungible_position_manager",
            &c.nonfungible_position_manager,
            None,
        );
        let swap_router02 = addr("contracts.swap_router02", &c.swap_router02, None);
        let eth_usd_feed = addr("contracts.eth_usd_feed", &c.eth_usd_feed, None);
        let usdc_usd_feed = addr("contracts.usdc_usd_feed", &c.usdc_usd_feed, None);
        let sequencer_uptime_feed = addr(
            "contracts.sequencer_uptime_feed",
            &c.sequencer_uptime_feed,
            None,
        );
        let erc4626_target = addr("contracts.erc4626_target", &c.erc4626_target, None);
        let role = |over: Option<Address>, value: &str| {
            over.map(|a| a.to_string())
                .unwrap_or_else(|| value.to_owned())
        };
        let admin = addr(
            "roles.admin",
            &role(roles.admin, &self.roles.admin),
            Some("--admin"),
        );
        let keeper = addr(
            "roles.keeper",
            &role(roles.keeper, &self.roles.keeper),
            Some("--keeper"),
        );
        let pauser = addr(
            "roles.pauser",
            &role(roles.pauser, &self.roles.pauser),
            Some("--pauser"),
        );
        let treasury = addr(
            "roles.treasury",
            &role(roles.treasury, &self.roles.treasury),
            Some("--treasury"),
        );
        let mut eth = |field: &str, value: &str| -> U256 {
            match parse_ether(value.trim()) {
                Ok(v) => v,
                Err(e) => {
                    problems.push(format!(
                        "{field} = {value:?} is not an ETH amount ({e}): write it like \"100\" or \"0.5\""
                    ));
                    U256::ZERO
                }
            }
        };
        let s = &self.settings;
        let yield_strategy_cap = eth("settings.yield_strategy_cap_eth", &s.yield_strategy_cap_eth);
        let hedge_strategy_cap = eth("settings.hedge_strategy_cap_eth", &s.hedge_strategy_cap_eth);
        let r = &self.risk;
        let max_advance = eth(
            "risk.max_advance_per_invoice_eth",
            &r.max_advance_per_invoice_eth,
        );
        let max_exposure = eth(
            "risk.max_exposure_per_business_eth",
            &r.max_exposure_per_business_eth,
        );
        let move_cap = eth("risk.move_cap_per_window_eth", &r.move_cap_per_window_eth);
        let mut wei128 = |field: &str, v: U256| -> u128 {
            u128::try_from(v).unwrap_or_else(|_| {
                problems.push(format!("{field} is too large for the vault (uint128 wei)"));
                0
            })
        };
        let risk = Risk {
            max_advance_per_invoice: wei128("risk.max_advance_per_invoice_eth", max_advance),
            max_exposure_per_business: wei128("risk.max_exposure_per_business_eth", max_exposure),
            max_utilisation_bps: r.max_utilisation_bps,
            min_idle_bps: r.min_idle_bps,
            protocol_fee_bps: r.protocol_fee_bps,
            max_late_fee_bps_per_day: r.max_late_fee_bps_per_day,
            max_tenor: r.max_tenor_seconds,
            grace_period: r.grace_period_seconds,
            public_write_off_delay: r.public_write_off_delay_seconds,
            move_window: r.move_window_seconds,
            move_cap_per_window: wei128("risk.move_cap_per_window_eth", move_cap),
        };
        if s.admin_delay_seconds > u64::from(u32::MAX) {
            problems.push("settings.admin_delay_seconds is out of range (the vault bounds it to 1 h – 30 days)".into());
        }
        if !problems.is_empty() {
            return Err(PresetError::Invalid {
                path: path.to_path_buf(),
                problems,
            });
        }
        Ok(Preset {
            name: self.name,
            source: path.to_path_buf(),
            chain_id: self.chain_id,
            weth,
            usdc,
            uniswap_v3_factory,
            nonfungible_position_manager,
            swap_router02,
            eth_usd_feed,
            usdc_usd_feed,
            sequencer_uptime_feed,
            erc4626_target,
            admin,
            keeper,
            pauser,
            treasury,
            pool_fee: s.pool_fee,
            max_slippage_bps: s.max_slippage_bps,
            eth_usd_max_age_seconds: s.eth_usd_max_age_seconds,
            usdc_usd_max_age_seconds: s.usdc_usd_max_age_seconds,
            sequencer_grace_seconds: s.sequencer_grace_seconds,
            admin_delay_seconds: s.admin_delay_seconds,
            yield_strategy_cap,
            hedge_strategy_cap,
            risk,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn committed_presets_parse_and_name_what_is_left_to_fill() {
        for name in ["base", "base-sepolia"] {
            let err = Preset::load(name, &RoleOverrides::default()).unwrap_err();
            let msg = err.to_string();
            // Only what cannot be committed is missing: the roles and the ERC-4626 target (and, on
            // Base Sepolia, the feeds Chainlink does not list there).
            assert!(
                msg.contains("roles.admin is required: set it in the preset or pass --admin"),
                "{msg}"
            );
            assert!(
                msg.contains("contracts.erc4626_target is required"),
                "{msg}"
            );
            assert!(!msg.contains("contracts.weth"), "{msg}");
            assert!(!msg.contains("contracts.eth_usd_feed"), "{msg}");
        }
    }

    #[test]
    fn unknown_network_lists_the_presets() {
        let msg = Preset::load("base-goerli", &RoleOverrides::default())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("unknown network \"base-goerli\""), "{msg}");
        assert!(msg.contains("base, base-sepolia"), "{msg}");
    }

    #[test]
    fn amounts_parse_exactly_and_bad_ones_are_named() {
        let path = presets_dir().join("base.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let mut file: PresetFile = toml::from_str(&text).unwrap();
        file.contracts.erc4626_target = "0x0000000000000000000000000000000000000001".into();
        let one = "0x0000000000000000000000000000000000000002";
        file.roles = PresetRoles {
            admin: one.into(),
            keeper: one.into(),
            pauser: one.into(),
            treasury: one.into(),
        };
        file.settings.yield_strategy_cap_eth = "0.000000000000000001".into();
        let p = file
            .clone()
            .resolve(&path, &RoleOverrides::default())
            .unwrap();
        assert_eq!(p.yield_strategy_cap, U256::from(1));
        file.settings.hedge_strategy_cap_eth = "1e3".into();
        file.roles.keeper = "0x1234".into();
        let msg = file
            .resolve(&path, &RoleOverrides::default())
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("settings.hedge_strategy_cap_eth = \"1e3\""),
            "{msg}"
        );
        assert!(
            msg.contains("roles.keeper = \"0x1234\" is not an address"),
            "{msg}"
        );
        // One character of a checksummed address changed: refused.
        let mut file: PresetFile = toml::from_str(&text).unwrap();
        file.contracts.weth = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02914".into();
        let msg = file
            .resolve(&path, &RoleOverrides::default())
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("contracts.weth") && msg.contains("a typo?"),
            "{msg}"
        );
    }
}
