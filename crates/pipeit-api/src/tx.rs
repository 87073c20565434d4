//! Unsigned transactions handed to wallets: the service never holds a key.

use alloy::primitives::{Address, U256};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A transaction for the caller's wallet to sign and send (`eth_sendTransaction` fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UnsignedTx {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// The contract called.
    pub to: String,
    /// Wei sent with it, decimal string.
    pub value: String,
    /// Calldata, 0x-hex.
    pub data: String,
    /// What it does, for people.
    pub description: String,
}

impl UnsignedTx {
    /// A call of `to` with `data` and `value` wei.
    pub fn new(
        chain_id: u64,
        to: Address,
        value: U256,
        data: Vec<u8>,
        description: &str,
    ) -> UnsignedTx {
        UnsignedTx {
            chain_id,
            to: to.to_checksum(None),
            value: value.to_string(),
            data: format!("0x{}", alloy::hex::encode(data)),
            description: description.to_owned(),
        }
    }
}
