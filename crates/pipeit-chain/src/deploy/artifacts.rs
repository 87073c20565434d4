//! Forge's artifacts for what `pipeit deploy` sends, compiled into the binary (so it deploys without
//! the repository), and library linking by the artifacts' `linkReferences`.

use std::collections::BTreeMap;

use alloy::primitives::{hex, Address, Bytes};
use serde::Deserialize;

/// One contract's creation and runtime code, unlinked.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// Creation code.
    pub bytecode: Code,
    /// Runtime code (used for the dry run's gas estimates: libraries placed by state override).
    pub deployed_bytecode: Code,
}

/// Hex code with `__$…$__` placeholders where libraries go.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Code {
    /// `0x…` with placeholders.
    pub object: String,
    /// source file → library name → where its address goes.
    #[serde(default)]
    pub link_references: BTreeMap<String, BTreeMap<String, Vec<LinkReference>>>,
}

/// A 20-byte slot for a library's address.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct LinkReference {
    /// Byte offset in the code.
    pub start: usize,
    /// Always 20.
    pub length: usize,
}

/// Linking failed: the artifacts and the deployer disagree (a bug or a stale build, not user input).
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// A library the code needs was not given.
    #[error("{contract} needs library {library}, which is not part of the deployment: rebuild (forge build) and update pipeit")]
    MissingLibrary {
        /// The contract being linked.
        contract: String,
        /// The library.
        library: String,
    },
    /// The artifact is not what forge writes.
    #[error("artifact of {contract} is malformed: {reason}; run forge build")]
    Malformed {
        /// The contract.
        contract: String,
        /// Why.
        reason: String,
    },
}

/// The contracts `pipeit deploy` sends, by name.
pub fn artifact(name: &str) -> Option<Artifact> {
    let json = match name {
        "InvoiceLogic" => include_str!("../../../../out/InvoiceLogic.sol/InvoiceLogic.json"),
        "QueueLogic" => include_str!("../../../../out/QueueLogic.sol/QueueLogic.json"),
        "StrategyLogic" => include_str!("../../../../out/StrategyLogic.sol/StrategyLogic.json"),
        "ParamsLib" => include_str!("../../../../out/ParamsLib.sol/ParamsLib.json"),
        "OracleGuard" => include_str!("../../../../out/OracleGuard.sol/OracleGuard.json"),
        "FactoringVault" => include_str!("../../../../out/FactoringVault.sol/FactoringVault.json"),
        "ERC4626Strategy" => {
            include_str!("../../../../out/ERC4626Strategy.sol/ERC4626Strategy.json")
        }
        "UniswapV3SwapStrategy" => {
            include_str!("../../../../out/UniswapV3SwapStrategy.sol/UniswapV3SwapStrategy.json")
        }
        _ => return None,
    };
    serde_json::from_str(json).ok()
}

impl Code {
    /// The code with every library placeholder replaced by its address in `libraries` (by library
    /// name); an error names a library that is needed but not given.
    pub fn link(
        &self,
        contract: &str,
        libraries: &BTreeMap<String, Address>,
    ) -> Result<Bytes, LinkError> {
        let mut hex_code = self
            .object
            .strip_prefix("0x")
            .unwrap_or(&self.object)
            .to_owned();
        for libs in self.link_references.values() {
            for (library, refs) in libs {
                let address = libraries
                    .get(library)
                    .ok_or_else(|| LinkError::MissingLibrary {
                        contract: contract.to_owned(),
                        library: library.clone(),
                    })?;
                let text = hex::encode(address);
                for r in refs {
                    let (from, to) = (2 * r.start, 2 * (r.start + r.length));
                    if r.length != 20 || to > hex_code.len() {
                        return Err(LinkError::Malformed {
                            contract: contract.to_owned(),
                            reason: format!(
                                "link reference of {library} at {} (length {})",
                                r.start, r.length
                            ),
                        });
                    }
                    hex_code.replace_range(from..to, &text);
                }
            }
        }
        hex::decode(&hex_code)
            .map(Bytes::from)
            .map_err(|e| LinkError::Malformed {
                contract: contract.to_owned(),
                reason: format!("code is not hex after linking ({e}): an unlinked library remains"),
            })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_vault_links_its_four_libraries_and_only_them() {
        let vault = artifact("FactoringVault").unwrap();
        let mut libs = BTreeMap::new();
        let names = ["InvoiceLogic", "QueueLogic", "StrategyLogic", "ParamsLib"];
        for (i, name) in names.iter().enumerate() {
            libs.insert((*name).to_owned(), Address::with_last_byte(0xa0 + i as u8));
        }
        let code = vault.bytecode.link("FactoringVault", &libs).unwrap();
        // Every reference now holds its library's address.
        for refs_by_lib in vault.bytecode.link_references.values() {
            for (lib, refs) in refs_by_lib {
                for r in refs {
                    assert_eq!(
                        &code[r.start..r.start + 20],
                        libs[lib].as_slice(),
                        "{lib} at {}",
                        r.start
                    );
                }
            }
        }
        libs.remove("ParamsLib");
        let err = vault.bytecode.link("FactoringVault", &libs).unwrap_err();
        assert!(err.to_string().contains("library ParamsLib"), "{err}");
    }

    #[test]
    fn every_deployed_contract_is_compiled_in() {
        for name in [
            "InvoiceLogic",
            "QueueLogic",
            "StrategyLogic",
            "ParamsLib",
            "OracleGuard",
            "FactoringVault",
            "ERC4626Strategy",
            "UniswapV3SwapStrategy",
        ] {
            let a = artifact(name).unwrap_or_else(|| panic!("{name}"));
            assert!(a.bytecode.object.len() > 100, "{name}");
        }
    }
}
