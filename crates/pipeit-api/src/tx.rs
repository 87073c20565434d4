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
    /// Gas limit to send it with, decimal string: the node's estimate for the caller at the latest
    /// block plus [`GAS_MARGIN_PERCENT`] % and [`GAS_MARGIN_FIXED`]. Absent when the sender is not
    /// known in advance (a repayment anyone may send): the wallet estimates then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gas: Option<String>,
}

/// Margin over the node's estimate, in percent. A wallet's transaction is mined in a later block
/// than the one it was estimated at; an exact estimate runs out of gas when the state it meets
/// costs more (the fee accrual walks one more due day after midnight, the queue moved, a slot
/// written by someone else in between turns from cheap to cold).
pub const GAS_MARGIN_PERCENT: u64 = 25;

/// Fixed margin over the node's estimate, in gas: about a dozen extra cold storage reads.
pub const GAS_MARGIN_FIXED: u64 = 30_000;

/// The gas limit sent for an estimate of `estimate` (never below it, never wrapping).
pub fn gas_with_margin(estimate: u64) -> u64 {
    estimate
        .saturating_add(estimate.saturating_mul(GAS_MARGIN_PERCENT) / 100)
        .saturating_add(GAS_MARGIN_FIXED)
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
            gas: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_margin_is_a_quarter_plus_thirty_thousand() {
        assert_eq!(gas_with_margin(100_000), 155_000);
        assert_eq!(gas_with_margin(u64::MAX), u64::MAX);
    }
}
