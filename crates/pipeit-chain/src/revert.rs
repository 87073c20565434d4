//! Revert data decoded into the contracts' custom error names (`InsufficientLiquidity(requested: …,
//! available: …)`), from the ABIs forge wrote: every error of `ErrorsLib` (the vault's libraries, the
//! oracle guard, the strategies) and of the vault itself (OpenZeppelin's).

use std::sync::OnceLock;

use alloy::dyn_abi::{DynSolValue, JsonAbiExt};
use alloy::json_abi::{Error as AbiError, JsonAbi};
use alloy::primitives::Selector;

const ERRORS_LIB: &str = include_str!("../../../out/ErrorsLib.sol/ErrorsLib.json");
const VAULT: &str = include_str!("../../../out/FactoringVault.sol/FactoringVault.json");

fn errors() -> &'static Vec<AbiError> {
    static ERRORS: OnceLock<Vec<AbiError>> = OnceLock::new();
    ERRORS.get_or_init(|| {
        let mut all = Vec::new();
        for artifact in [ERRORS_LIB, VAULT] {
            let abi = serde_json::from_str::<serde_json::Value>(artifact)
                .ok()
                .and_then(|v| serde_json::from_value::<JsonAbi>(v.get("abi")?.clone()).ok());
            if let Some(abi) = abi {
                for e in abi.errors() {
                    if !all.iter().any(|k: &AbiError| k.selector() == e.selector()) {
                        all.push(e.clone());
                    }
                }
            }
        }
        all
    })
}

/// A decoded revert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revert {
    /// The custom error's name (`"InsufficientLiquidity"`), `"Error"` for `require` strings,
    /// `"Panic"`, or `"Unknown(0x…)"`.
    pub name: String,
    /// The name with its arguments, for logs.
    pub detail: String,
}

/// Decodes revert data (selector + ABI-encoded arguments).
pub fn decode(data: &[u8]) -> Revert {
    if data.len() < 4 {
        return Revert {
            name: "EmptyRevert".to_owned(),
            detail: "reverted without data".to_owned(),
        };
    }
    let selector = Selector::from_slice(&data[..4]);
    if let Some(error) = errors().iter().find(|e| e.selector() == selector) {
        let args = error
            .abi_decode_input(&data[4..])
            .map(|values| {
                error
                    .inputs
                    .iter()
                    .zip(values)
                    .map(|(p, v)| format!("{}: {}", p.name, show(&v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_else(|_| "undecodable arguments".to_owned());
        return Revert {
            name: error.name.clone(),
            detail: format!("{}({args})", error.name),
        };
    }
    // Error(string) and Panic(uint256), the built-in reverts.
    if selector == Selector::from([0x08, 0xc3, 0x79, 0xa0]) {
        let text = alloy::sol_types::decode_revert_reason(data).unwrap_or_default();
        return Revert {
            name: "Error".to_owned(),
            detail: text,
        };
    }
    if selector == Selector::from([0x4e, 0x48, 0x7b, 0x71]) {
        return Revert {
            name: "Panic".to_owned(),
            detail: alloy::sol_types::decode_revert_reason(data).unwrap_or_default(),
        };
    }
    Revert {
        name: format!("Unknown({selector})"),
        detail: format!("unknown revert 0x{}", alloy::primitives::hex::encode(data)),
    }
}

fn show(value: &DynSolValue) -> String {
    match value {
        DynSolValue::Uint(v, _) => v.to_string(),
        DynSolValue::Int(v, _) => v.to_string(),
        DynSolValue::Address(a) => a.to_string(),
        DynSolValue::FixedBytes(b, _) => b.to_string(),
        DynSolValue::Bool(b) => b.to_string(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use alloy::primitives::U256;
    use alloy::sol_types::SolValue;

    use super::*;

    #[test]
    fn custom_errors_are_named_with_their_arguments() {
        let sel = alloy::primitives::keccak256("InsufficientLiquidity(uint256,uint256)");
        let mut data = sel[..4].to_vec();
        data.extend((U256::from(5u64), U256::from(3u64)).abi_encode_params());
        let r = decode(&data);
        assert_eq!(r.name, "InsufficientLiquidity");
        assert_eq!(
            r.detail,
            "InsufficientLiquidity(requested: 5, available: 3)"
        );
        let sel = alloy::primitives::keccak256("EnforcedPause()");
        assert_eq!(decode(&sel[..4]).name, "EnforcedPause");
        assert_eq!(decode(&[1, 2, 3, 4]).name, "Unknown(0x01020304)");
        assert_eq!(decode(&[]).name, "EmptyRevert");
    }
}
