//! From a vault log to a database row.

use std::collections::HashMap;
use std::sync::LazyLock;

use alloy::dyn_abi::{DynSolValue, EventExt};
use alloy::json_abi::{Event, Param};
use alloy::primitives::{Address, B256, U256};
use alloy::rpc::types::Log;
use alloy::sol_types::SolEventInterface;
use pipeit_chain::bindings::{EventsLib, FactoringVault};
use pipeit_db::VaultEvent;
use serde_json::{json, Map, Value};

/// A decoded vault log, without its position in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedLog {
    /// Event name (`"Deposit"`, `"InvoiceRepaid"`, ...); `"Unknown"` for a log no ABI knows.
    pub name: String,
    /// Every field by name (uint256 as decimal strings, addresses checksummed, bytes as hex);
    /// for an unknown log its raw `topics` and `data`.
    pub fields: Value,
    /// The invoice it is about.
    pub invoice_id: Option<B256>,
    /// The account it is about (owner, payer, payout, receiver, strategy, treasury).
    pub account: Option<Address>,
    /// Shares moved.
    pub shares: Option<U256>,
    /// Assets (wei) moved.
    pub assets: Option<U256>,
}

impl DecodedLog {
    /// The row for `log` (which must be mined: block number and hash set).
    pub fn into_event(self, log: &Log) -> VaultEvent {
        VaultEvent {
            block_number: log.block_number.unwrap_or_default(),
            block_hash: log.block_hash.unwrap_or_default(),
            tx_hash: log.transaction_hash.unwrap_or_default(),
            log_index: log.log_index.unwrap_or_default(),
            name: self.name,
            fields: self.fields,
            invoice_id: self.invoice_id,
            account: self.account,
            shares: self.shares,
            assets: self.assets,
        }
    }
}

/// Every event a vault log can be: the vault's own ABI (ERC-4626, ERC-20, access control, and the
/// events its own code emits) and EventsLib's (also those emitted inside the external libraries,
/// which the vault's ABI does not list).
static EVENTS: LazyLock<HashMap<B256, Event>> = LazyLock::new(|| {
    let mut events = HashMap::new();
    for abi in [EventsLib::abi::contract(), FactoringVault::abi::contract()] {
        for event in abi.events() {
            events
                .entry(event.selector())
                .or_insert_with(|| event.clone());
        }
    }
    events
});

/// Decodes one log of the vault.
pub fn decode_log(log: &Log) -> DecodedLog {
    let fields = fields(log);
    let mut out = DecodedLog {
        name: fields
            .as_ref()
            .map_or_else(|| "Unknown".to_owned(), |(name, _)| name.clone()),
        fields: fields.map_or_else(|| raw(log), |(_, f)| f),
        invoice_id: None,
        account: None,
        shares: None,
        assets: None,
    };
    use EventsLib::EventsLibEvents as L;
    use FactoringVault::FactoringVaultEvents as V;
    if let Ok(decoded) = L::decode_log(&log.inner) {
        match decoded.data {
            L::InvoiceAdvanced(e) => {
                out.invoice_id = Some(e.id);
                out.account = Some(e.payout);
                out.assets = Some(e.principal);
            }
            L::InvoiceRepaid(e) => {
                out.invoice_id = Some(e.id);
                out.account = Some(e.payer);
                out.assets = Some(e.lateFeePaid + e.feePaid + e.principalPaid);
            }
            L::InvoiceWrittenOff(e) => {
                out.invoice_id = Some(e.id);
                out.account = Some(e.by);
                out.assets = Some(e.principalLost);
            }
            L::RecoveryReceived(e) => {
                out.invoice_id = Some(e.id);
                out.account = Some(e.payer);
                out.assets = Some(e.amount);
            }
            L::RedeemRequested(e) => {
                out.account = Some(e.owner);
                out.shares = Some(e.shares);
            }
            L::RedeemFilled(e) => {
                out.shares = Some(e.shares);
                out.assets = Some(e.assets);
            }
            L::RedeemClaimed(e) => {
                out.account = Some(e.receiver);
                out.assets = Some(e.assets);
            }
            L::RedeemCancelled(e) => {
                out.account = Some(e.owner);
                out.shares = Some(e.sharesReturned);
            }
            L::Allocated(e) => {
                out.account = Some(e.strategy);
                out.assets = Some(e.assets);
            }
            L::Deallocated(e) => {
                out.account = Some(e.strategy);
                out.assets = Some(e.received);
            }
            L::ProtocolFeesClaimed(e) => {
                out.account = Some(e.treasury);
                out.assets = Some(e.amount);
            }
            _ => {}
        }
    } else if let Ok(decoded) = V::decode_log(&log.inner) {
        match decoded.data {
            V::Deposit(e) => {
                out.account = Some(e.owner);
                out.assets = Some(e.assets);
                out.shares = Some(e.shares);
            }
            V::Withdraw(e) => {
                out.account = Some(e.owner);
                out.assets = Some(e.assets);
                out.shares = Some(e.shares);
            }
            V::Transfer(e) => {
                out.shares = Some(e.value);
            }
            _ => {}
        }
    }
    out
}

/// The event's name and fields, by the ABI.
fn fields(log: &Log) -> Option<(String, Value)> {
    let event = EVENTS.get(log.topic0()?)?;
    let decoded = event.decode_log(&log.inner.data).ok()?;
    let mut indexed = decoded.indexed.iter();
    let mut body = decoded.body.iter();
    let mut map = Map::new();
    for input in &event.inputs {
        let value = if input.indexed {
            indexed.next()?
        } else {
            body.next()?
        };
        map.insert(input.name.clone(), to_json(value, &input.components));
    }
    Some((event.name.clone(), Value::Object(map)))
}

fn raw(log: &Log) -> Value {
    json!({
        "topics": log.topics().iter().map(|t| format!("{t:#x}")).collect::<Vec<_>>(),
        "data": format!("{}", log.inner.data.data),
    })
}

/// JSON for an ABI value: integers as decimal strings (exact), addresses checksummed, bytes as
/// 0x-hex, structs as objects when their components are named.
fn to_json(value: &DynSolValue, components: &[Param]) -> Value {
    match value {
        DynSolValue::Bool(b) => Value::Bool(*b),
        DynSolValue::Int(i, _) => Value::String(i.to_string()),
        DynSolValue::Uint(u, _) => Value::String(u.to_string()),
        DynSolValue::FixedBytes(word, size) => {
            Value::String(format!("0x{}", alloy::hex::encode(&word[..*size])))
        }
        DynSolValue::Address(a) => Value::String(a.to_checksum(None)),
        DynSolValue::Function(f) => Value::String(format!("{f}")),
        DynSolValue::Bytes(b) => Value::String(format!("0x{}", alloy::hex::encode(b))),
        DynSolValue::String(s) => Value::String(s.clone()),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) => {
            Value::Array(items.iter().map(|v| to_json(v, components)).collect())
        }
        DynSolValue::Tuple(items) => {
            let named =
                components.len() == items.len() && components.iter().all(|c| !c.name.is_empty());
            if named {
                Value::Object(
                    items
                        .iter()
                        .zip(components)
                        .map(|(v, c)| (c.name.clone(), to_json(v, &c.components)))
                        .collect(),
                )
            } else {
                Value::Array(items.iter().map(|v| to_json(v, &[])).collect())
            }
        }
        #[allow(unreachable_patterns)]
        _ => Value::Null,
    }
}
