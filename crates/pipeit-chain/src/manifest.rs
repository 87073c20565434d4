//! The deployment manifest: chain id, deployment block, addresses, roles, settings.

use std::path::Path;

use alloy::primitives::Address;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// What `contracts/script/DeployDevnet.s.sol` (and later `pipeit deploy`) writes: every address and
/// role other commands need. Unknown fields are ignored, so a newer manifest still loads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// EIP-155 chain id the contracts live on.
    pub chain_id: u64,
    /// The first block that can hold the vault's logs: indexers start here.
    pub deployment_block: u64,
    /// Contract addresses.
    pub contracts: Contracts,
    /// Role holders.
    pub roles: Roles,
    /// Deployment settings.
    pub settings: Settings,
}

/// Contract addresses of a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contracts {
    /// The FactoringVault (ERC-4626; its shares are the ERC-20 at the same address).
    pub vault: Address,
    /// WETH9 (Base's predeploy 0x4200…0006).
    pub weth: Address,
    /// The 6-decimals USD stablecoin.
    pub usdc: Address,
    /// Uniswap V3 factory.
    pub uniswap_v3_factory: Address,
    /// Uniswap V3 NonfungiblePositionManager.
    pub nonfungible_position_manager: Address,
    /// Uniswap SwapRouter02.
    pub swap_router02: Address,
    /// The WETH/USDC pool.
    pub weth_usdc_pool: Address,
    /// Chainlink-style ETH/USD feed.
    pub eth_usd_feed: Address,
    /// Chainlink-style USDC/USD feed.
    pub usdc_usd_feed: Address,
    /// L2 sequencer-uptime feed.
    pub sequencer_uptime_feed: Address,
    /// The OracleGuard.
    pub oracle_guard: Address,
    /// The ERC-4626 yield vault behind the ERC-4626 strategy (a dev vault on the devnet).
    pub dev_yield_vault: Address,
    /// The ERC-4626 strategy adapter.
    pub erc4626_strategy: Address,
    /// The Uniswap V3 swap (hedge) strategy adapter.
    pub uniswap_v3_swap_strategy: Address,
}

/// Role holders of a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Roles {
    /// Admin (and deployer).
    pub admin: Address,
    /// Keeper.
    pub keeper: Address,
    /// Pauser.
    pub pauser: Address,
    /// Protocol-fee treasury.
    pub treasury: Address,
    /// Funded investor accounts (devnet).
    #[serde(default)]
    pub investors: Vec<Address>,
    /// Funded business accounts (devnet).
    #[serde(default)]
    pub businesses: Vec<Address>,
}

/// Settings the deployment was made with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// Initial ETH/USD price of the dev feed, whole dollars.
    pub eth_usd_price: u64,
    /// Uniswap pool fee (hundredths of a bip).
    pub pool_fee: u32,
    /// Swap strategy's slippage limit, bps.
    pub max_slippage_bps: u64,
    /// Feed staleness limit, seconds.
    pub feed_max_age_seconds: u64,
    /// Sequencer grace period, seconds.
    pub sequencer_grace_seconds: u64,
    /// Admin transfer delay, seconds.
    pub admin_delay_seconds: u64,
}

impl Manifest {
    /// Reads and checks the manifest at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Manifest> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                Error::ManifestMissing {
                    path: path.to_owned(),
                }
            } else {
                Error::ManifestRead {
                    path: path.to_owned(),
                    source,
                }
            }
        })?;
        Manifest::parse(&text).map_err(|(field, reason)| Error::ManifestMalformed {
            path: path.to_owned(),
            field,
            reason,
        })
    }

    /// Parses a manifest; on error, the JSON path of the offending field and what is wrong.
    fn parse(text: &str) -> std::result::Result<Manifest, (String, String)> {
        let mut de = serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let field = e.path().to_string();
            // serde_json's message ends with " at line L column C": keep it, it points at the spot.
            (field, e.into_inner().to_string())
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const DEVNET: &str = r#"{
      "chainId": 8453,
      "contracts": {
        "devYieldVault": "0xc6e7DF5E7b4f2A278906862b61205850344D4e7d",
        "erc4626Strategy": "0x59b670e9fA9D0A427751Af201D676719a970857b",
        "ethUsdFeed": "0x9A676e781A523b5d0C0e43731313A708CB607508",
        "nonfungiblePositionManager": "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707",
        "oracleGuard": "0x68B1D87F95878fE05B998F19b66F4baba5De1aed",
        "sequencerUptimeFeed": "0x959922bE3CAee4b8Cd9a407cc3ac1C251C2007B1",
        "swapRouter02": "0x0165878A594ca255338adfa4d48449f69242Eb8F",
        "uniswapV3Factory": "0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9",
        "uniswapV3SwapStrategy": "0x4ed7c70F96B99c776995fB64377f0d4aB3B0e1C1",
        "usdc": "0xa513E6E4b8f2a923D98304ec87F64353C4D5C853",
        "usdcUsdFeed": "0x0B306BF915C4d645ff596e518fAf3F9669b97016",
        "vault": "0x3Aa5ebB10DC797CAC828524e59A333d0A371443c",
        "weth": "0x4200000000000000000000000000000000000006",
        "wethUsdcPool": "0x119A2D401ee3aAC665404dCC0Ea3b51fE4D4Fb9F"
      },
      "deploymentBlock": 1,
      "roles": {
        "admin": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
        "businesses": ["0x976EA74026E726554dB657fA54763abd0C3a0aa9"],
        "investors": ["0x90F79bf6EB2c4f870365E785982E1f101E93b906"],
        "keeper": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "pauser": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
        "treasury": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
      },
      "settings": {
        "adminDelaySeconds": 3600, "ethUsdPrice": 3000, "feedMaxAgeSeconds": 172800,
        "maxSlippageBps": 100, "poolFee": 500, "sequencerGraceSeconds": 3600
      }
    }"#;

    fn write(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("manifest.json");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn load_reads_what_the_deploy_script_writes() {
        let (_dir, path) = write(DEVNET);
        let m = Manifest::load(&path).unwrap();
        assert_eq!(m.chain_id, 8453);
        assert_eq!(m.deployment_block, 1);
        assert_eq!(
            m.contracts.vault,
            "0x3Aa5ebB10DC797CAC828524e59A333d0A371443c"
                .parse::<Address>()
                .unwrap()
        );
        assert_eq!(m.roles.investors.len(), 1);
        assert_eq!(m.settings.eth_usd_price, 3000);
    }

    #[test]
    fn load_of_a_missing_file_says_how_to_create_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = Manifest::load(dir.path().join("nope.json")).unwrap_err();
        assert!(matches!(err, Error::ManifestMissing { .. }));
        assert!(
            err.to_string()
                .contains("run scripts/dev or pipeit deploy first"),
            "{err}"
        );
    }

    #[test]
    fn load_names_the_malformed_field() {
        let (_dir, path) = write(&DEVNET.replace(
            "\"vault\": \"0x3Aa5ebB10DC797CAC828524e59A333d0A371443c\"",
            "\"vault\": \"0x1234\"",
        ));
        let err = Manifest::load(&path).unwrap_err();
        match &err {
            Error::ManifestMalformed { field, .. } => assert_eq!(field, "contracts.vault"),
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.to_string().contains("contracts.vault"), "{err}");
    }

    #[test]
    fn load_names_a_missing_field() {
        let (_dir, path) = write(&DEVNET.replace("\"deploymentBlock\": 1,", ""));
        let err = Manifest::load(&path).unwrap_err();
        assert!(err.to_string().contains("deploymentBlock"), "{err}");
    }

    #[test]
    fn load_of_non_json_is_malformed() {
        let (_dir, path) = write("not json");
        assert!(matches!(
            Manifest::load(&path).unwrap_err(),
            Error::ManifestMalformed { .. }
        ));
    }
}
