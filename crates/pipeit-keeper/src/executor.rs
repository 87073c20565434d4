//! The transaction executor over the database outbox.
//!
//! Order of writes, so that a crash anywhere is recoverable (see [`crate::crash`]):
//! 1. the intent (`pending`, payload = target, calldata, value);
//! 2. simulation (`eth_estimateGas`): a revert is decoded and the intent marked `failed` with the
//!    custom error's name, nothing sent;
//! 3. the signed transaction (raw bytes, nonce, fees) saved with the entry, then the entry marked
//!    `sent` with nonce and hash;
//! 4. broadcast.
//!
//! Reconciliation looks at every `sent` entry: a receipt for any of its attempts settles it
//! (`mined`, or `failed` with the decoded revert); no receipt and its nonce used by another
//! transaction: `replaced`; unknown to the node: the saved raw transaction is broadcast again;
//! pending too long: the fees are bumped (same nonce, +12.5 %, replacing it in the mempool).
//!
//! Nonces are the keeper's own (alloy issue #2385: the cached nonce manager drifts after failures):
//! the next nonce is `max(the node's pending count, 1 + the highest nonce among sent entries)`,
//! kept in memory and re-read from the node when it refuses a nonce.

use std::time::Duration;

use alloy::consensus::TxEnvelope;
use alloy::eips::eip2718::Encodable2718;
use alloy::eips::BlockNumberOrTag;
use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::transports::TransportError;
use pipeit_db::{Db, OutboxEntry, OutboxStatus};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::crash::{self, CrashPoint};
use crate::revert::{self, Revert};
use crate::Error;

/// Gas and fee settings.
#[derive(Debug, Clone)]
pub struct ExecConfig {
    /// Priority fee (tip) of a first attempt, wei per gas.
    pub priority_fee: u128,
    /// Never pay more than this per gas.
    pub max_fee_cap: u128,
    /// Bump fees when a transaction is still pending this many blocks after it was sent.
    pub bump_after_blocks: u64,
    /// Gas limit = estimate × 3 / 2 + this (the vault's payout forwards capped gas: never run at an
    /// estimate's edge).
    pub gas_margin: u64,
    /// Simulate before sending (a revert is recorded without spending gas). Off only in tests that
    /// need a revert mined on-chain.
    pub simulate: bool,
    /// Fixed gas limit when not simulating.
    pub fixed_gas: u64,
    /// RPC retries.
    pub rpc: pipeit_chain::Backoff,
}

impl Default for ExecConfig {
    fn default() -> Self {
        Self {
            priority_fee: 1_000_000_000,
            max_fee_cap: 500_000_000_000,
            bump_after_blocks: 3,
            gas_margin: 100_000,
            simulate: true,
            fixed_gas: 5_000_000,
            rpc: pipeit_chain::Backoff::default(),
        }
    }
}

/// A call to make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxCall {
    /// Target.
    pub to: Address,
    /// Calldata.
    pub data: Bytes,
    /// Wei sent.
    pub value: U256,
}

/// One signed and sent version of an entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Attempt {
    nonce: u64,
    hash: B256,
    raw: Bytes,
    max_fee: u128,
    priority_fee: u128,
    gas: u64,
    sent_block: u64,
}

/// What happened to a submission.
#[derive(Debug, Clone)]
pub enum Submitted {
    /// Broadcast (or saved for broadcast).
    Sent {
        /// Outbox id.
        id: i64,
        /// Transaction hash.
        hash: B256,
    },
    /// The simulation reverted; recorded as failed, nothing sent.
    Refused {
        /// Outbox id.
        id: i64,
        /// The decoded revert.
        revert: Revert,
    },
    /// The same intent is already live or mined.
    Duplicate,
}

/// What reconciliation settled.
#[derive(Debug, Clone)]
pub struct Settled {
    /// The entry, as now stored.
    pub entry: OutboxEntry,
    /// Its receipt when mined (successfully or not).
    pub receipt: Option<TransactionReceipt>,
    /// The decoded revert of a failed entry.
    pub revert: Option<Revert>,
}

/// The executor.
#[derive(Debug)]
pub struct Executor {
    db: Db,
    provider: DynProvider,
    wallet: EthereumWallet,
    from: Address,
    chain_id: u64,
    next_nonce: Option<u64>,
    config: ExecConfig,
}

impl Executor {
    /// An executor sending from `from` (one of `wallet`'s signers).
    pub fn new(
        db: Db,
        provider: DynProvider,
        wallet: EthereumWallet,
        from: Address,
        chain_id: u64,
        config: ExecConfig,
    ) -> Self {
        Self {
            db,
            provider,
            wallet,
            from,
            chain_id,
            next_nonce: None,
            config,
        }
    }

    /// The sending address.
    pub fn from(&self) -> Address {
        self.from
    }

    /// Records the intent and sends it (see the module documentation).
    pub async fn submit(
        &mut self,
        kind: &str,
        intent_key: &str,
        call: TxCall,
        extra: Value,
    ) -> Result<Submitted, Error> {
        let payload = json!({ "call": call, "extra": extra });
        let entry = match self.db.outbox_insert(kind, intent_key, &payload).await {
            Ok(entry) => entry,
            Err(e) if e.is_conflict() => return Ok(Submitted::Duplicate),
            Err(e) => return Err(e.into()),
        };
        crash::point(CrashPoint::AfterIntent);
        self.send_entry(&entry).await
    }

    /// Sends every `pending` entry (intents recorded before a crash).
    pub async fn send_pending(&mut self) -> Result<Vec<Submitted>, Error> {
        let mut out = Vec::new();
        for entry in self.db.outbox_pending().await? {
            tracing::info!(id = entry.id, kind = %entry.kind, key = %entry.intent_key, "sending an intent recorded before a restart");
            out.push(self.send_entry(&entry).await?);
        }
        Ok(out)
    }

    async fn send_entry(&mut self, entry: &OutboxEntry) -> Result<Submitted, Error> {
        let call: TxCall = serde_json::from_value(entry.payload["call"].clone())
            .map_err(|e| Error::Corrupt(format!("outbox entry {}: {e}", entry.id)))?;
        let request = TransactionRequest::default()
            .with_from(self.from)
            .with_to(call.to)
            .with_input(call.data.clone())
            .with_value(call.value);
        let gas = if self.config.simulate {
            match self.provider.estimate_gas(request.clone()).await {
                Ok(estimate) => estimate
                    .saturating_mul(3)
                    .saturating_div(2)
                    .saturating_add(self.config.gas_margin),
                Err(e) => match revert_of(&e) {
                    Some(revert) => {
                        tracing::warn!(id = entry.id, kind = %entry.kind, error = %revert.detail, "simulation reverted: not sent");
                        self.db.outbox_mark_failed(entry.id, &revert.name).await?;
                        return Ok(Submitted::Refused {
                            id: entry.id,
                            revert,
                        });
                    }
                    None => return Err(rpc("eth_estimateGas", e)),
                },
            }
        } else {
            self.config.fixed_gas
        };
        let nonce = self.next_nonce().await?;
        let (max_fee, priority_fee) = self.fees(None).await?;
        let attempt = self
            .sign(&request, nonce, gas, max_fee, priority_fee)
            .await?;
        self.save_attempt(entry.id, &attempt).await?;
        self.db
            .outbox_mark_sent(entry.id, nonce, attempt.hash)
            .await?;
        self.next_nonce = Some(nonce + 1);
        crash::point(CrashPoint::BeforeBroadcast);
        self.broadcast(entry.id, &attempt).await?;
        crash::point(CrashPoint::AfterBroadcast);
        Ok(Submitted::Sent {
            id: entry.id,
            hash: attempt.hash,
        })
    }

    async fn sign(
        &self,
        request: &TransactionRequest,
        nonce: u64,
        gas: u64,
        max_fee: u128,
        priority_fee: u128,
    ) -> Result<Attempt, Error> {
        let request = request
            .clone()
            .with_nonce(nonce)
            .with_chain_id(self.chain_id)
            .with_gas_limit(gas)
            .with_max_fee_per_gas(max_fee)
            .with_max_priority_fee_per_gas(priority_fee);
        let envelope: TxEnvelope = request
            .build(&self.wallet)
            .await
            .map_err(|e| Error::Sign(e.to_string()))?;
        let sent_block = self.block_number().await?;
        Ok(Attempt {
            nonce,
            hash: *envelope.tx_hash(),
            raw: envelope.encoded_2718().into(),
            max_fee,
            priority_fee,
            gas,
            sent_block,
        })
    }

    async fn broadcast(&mut self, id: i64, attempt: &Attempt) -> Result<(), Error> {
        let result = self
            .config
            .rpc
            .retry(|| self.provider.send_raw_transaction(&attempt.raw))
            .await;
        match result {
            Ok(_) => Ok(()),
            Err((_, e)) => {
                let text = e.to_string().to_lowercase();
                if text.contains("already known") || text.contains("already imported") {
                    return Ok(());
                }
                if text.contains("nonce too low") || text.contains("nonce too high") {
                    // Re-read at the next send; reconciliation settles this entry (replaced, or
                    // mined if it was ours).
                    tracing::warn!(id, nonce = attempt.nonce, error = %e, "node refused the nonce; re-reading it");
                    self.next_nonce = None;
                    return Ok(());
                }
                // Left `sent`: reconciliation broadcasts the saved transaction again.
                tracing::warn!(id, error = %e, "broadcast failed; will retry");
                Ok(())
            }
        }
    }

    /// Settles `sent` entries (see the module documentation).
    pub async fn reconcile(&mut self) -> Result<Vec<Settled>, Error> {
        let mut settled = Vec::new();
        let sent = self.db.outbox_list(OutboxStatus::Sent).await?;
        if sent.is_empty() {
            return Ok(settled);
        }
        let mined_nonce = self
            .config
            .rpc
            .retry(|| async {
                self.provider
                    .get_transaction_count(self.from)
                    .latest()
                    .await
            })
            .await
            .map_err(|(_, e)| rpc("eth_getTransactionCount", e))?;
        let head = self.block_number().await?;
        for entry in sent {
            let attempts = self.attempts(entry.id).await?;
            let mut receipt = None;
            for a in attempts.iter().rev() {
                if let Some(r) = self
                    .config
                    .rpc
                    .retry(|| self.provider.get_transaction_receipt(a.hash))
                    .await
                    .map_err(|(_, e)| rpc("eth_getTransactionReceipt", e))?
                {
                    receipt = Some((a.clone(), r));
                    break;
                }
            }
            if let Some((attempt, r)) = receipt {
                if Some(attempt.hash) != entry.tx_hash {
                    // An earlier attempt won the race against its fee bump: record its hash.
                    self.db
                        .outbox_mark_sent(entry.id, attempt.nonce, attempt.hash)
                        .await?;
                }
                if r.status() {
                    let entry = self.db.outbox_mark_mined(entry.id).await?;
                    settled.push(Settled {
                        entry,
                        receipt: Some(r),
                        revert: None,
                    });
                } else {
                    let revert = self.replay_revert(&entry, &r).await;
                    tracing::warn!(id = entry.id, kind = %entry.kind, tx = %r.transaction_hash, error = %revert.detail, "transaction reverted");
                    let entry = self.db.outbox_mark_failed(entry.id, &revert.name).await?;
                    settled.push(Settled {
                        entry,
                        receipt: Some(r),
                        revert: Some(revert),
                    });
                }
                continue;
            }
            let Some(last) = attempts.last().cloned() else {
                // Marked sent without a saved attempt cannot happen (saved first); be safe.
                let entry = self.db.outbox_mark_failed(entry.id, "LostAttempt").await?;
                settled.push(Settled {
                    entry,
                    receipt: None,
                    revert: None,
                });
                continue;
            };
            if mined_nonce > last.nonce {
                // The nonce is used and none of our hashes has a receipt: another transaction took it.
                tracing::warn!(
                    id = entry.id,
                    nonce = last.nonce,
                    "nonce taken by another transaction: replaced"
                );
                let entry = self.db.outbox_mark_replaced(entry.id).await?;
                settled.push(Settled {
                    entry,
                    receipt: None,
                    revert: None,
                });
                continue;
            }
            let known = self
                .config
                .rpc
                .retry(|| self.provider.get_transaction_by_hash(last.hash))
                .await
                .map_err(|(_, e)| rpc("eth_getTransactionByHash", e))?
                .is_some();
            let stuck = head >= last.sent_block + self.config.bump_after_blocks;
            if stuck {
                // Pending too long, or dropped by the node (a base fee above its max fee evicts
                // it): the same nonce again with higher fees.
                self.bump(&entry, &last).await?;
            } else if !known {
                tracing::info!(id = entry.id, tx = %last.hash, "not known to the node: broadcasting the saved transaction again");
                self.broadcast(entry.id, &last).await?;
            }
        }
        Ok(settled)
    }

    /// Waits (polling) until none of `ids` is `sent`, or `timeout`; settles what it can.
    pub async fn wait_settled(
        &mut self,
        ids: &[i64],
        timeout: Duration,
    ) -> Result<Vec<Settled>, Error> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut all = Vec::new();
        loop {
            all.extend(self.reconcile().await?);
            let mut open = false;
            for id in ids {
                if let Some(e) = self.db.outbox_entry(*id).await? {
                    open |= e.status == OutboxStatus::Sent;
                }
            }
            if !open || tokio::time::Instant::now() >= deadline {
                return Ok(all);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn bump(&mut self, entry: &OutboxEntry, last: &Attempt) -> Result<(), Error> {
        let (base_max, base_tip) = self.fees(None).await?;
        // Replacement needs both fees up by at least 10 %: +12.5 %, and never below today's fees.
        let tip = (last.priority_fee + last.priority_fee / 8 + 1).max(base_tip);
        let max_fee = (last.max_fee + last.max_fee / 8 + 1).max(base_max).max(tip);
        if max_fee > self.config.max_fee_cap {
            tracing::warn!(
                id = entry.id,
                max_fee,
                cap = self.config.max_fee_cap,
                "fee bump would pass the cap; waiting"
            );
            return Ok(());
        }
        let call: TxCall = serde_json::from_value(entry.payload["call"].clone())
            .map_err(|e| Error::Corrupt(format!("outbox entry {}: {e}", entry.id)))?;
        let request = TransactionRequest::default()
            .with_from(self.from)
            .with_to(call.to)
            .with_input(call.data)
            .with_value(call.value);
        let attempt = self
            .sign(&request, last.nonce, last.gas, max_fee, tip)
            .await?;
        tracing::info!(id = entry.id, nonce = last.nonce, max_fee, tip, tx = %attempt.hash, "fee bump");
        self.save_attempt(entry.id, &attempt).await?;
        self.db
            .outbox_mark_sent(entry.id, attempt.nonce, attempt.hash)
            .await?;
        self.broadcast(entry.id, &attempt).await
    }

    /// The reason a mined transaction reverted: the same call replayed on the state before its block.
    async fn replay_revert(&self, entry: &OutboxEntry, receipt: &TransactionReceipt) -> Revert {
        let Ok(call) = serde_json::from_value::<TxCall>(entry.payload["call"].clone()) else {
            return unknown_revert();
        };
        let request = TransactionRequest::default()
            .with_from(self.from)
            .with_to(call.to)
            .with_input(call.data)
            .with_value(call.value);
        let block = receipt.block_number.unwrap_or(1).saturating_sub(1);
        match self.provider.call(request).block(block.into()).await {
            Err(e) => revert_of(&e).unwrap_or_else(unknown_revert),
            Ok(_) => unknown_revert(),
        }
    }

    async fn next_nonce(&mut self) -> Result<u64, Error> {
        if let Some(n) = self.next_nonce {
            return Ok(n);
        }
        let pending = self
            .config
            .rpc
            .retry(|| async {
                self.provider
                    .get_transaction_count(self.from)
                    .pending()
                    .await
            })
            .await
            .map_err(|(_, e)| rpc("eth_getTransactionCount", e))?;
        let ours = self
            .db
            .outbox_list(OutboxStatus::Sent)
            .await?
            .iter()
            .filter_map(|e| e.nonce)
            .max()
            .map_or(0, |n| n + 1);
        let next = pending.max(ours);
        self.next_nonce = Some(next);
        Ok(next)
    }

    /// `(max fee, priority fee)` per gas: twice the latest base fee plus the tip, capped.
    async fn fees(&self, _hint: Option<u128>) -> Result<(u128, u128), Error> {
        let block = self
            .config
            .rpc
            .retry(|| async {
                self.provider
                    .get_block_by_number(BlockNumberOrTag::Latest)
                    .await
            })
            .await
            .map_err(|(_, e)| rpc("eth_getBlockByNumber", e))?;
        let base = block
            .and_then(|b| b.header.base_fee_per_gas)
            .map_or(0, u128::from);
        let tip = self.config.priority_fee;
        let max_fee = (base * 2 + tip).min(self.config.max_fee_cap).max(tip);
        Ok((max_fee, tip))
    }

    async fn block_number(&self) -> Result<u64, Error> {
        self.config
            .rpc
            .retry(|| self.provider.get_block_number())
            .await
            .map_err(|(_, e)| rpc("eth_blockNumber", e))
    }

    async fn attempts(&self, id: i64) -> Result<Vec<Attempt>, Error> {
        match self.db.keeper_state(&attempts_key(id)).await? {
            None => Ok(Vec::new()),
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| Error::Corrupt(format!("attempts of outbox entry {id}: {e}"))),
        }
    }

    async fn save_attempt(&self, id: i64, attempt: &Attempt) -> Result<(), Error> {
        let mut all = self.attempts(id).await?;
        all.push(attempt.clone());
        let text = serde_json::to_string(&all)
            .map_err(|e| Error::Corrupt(format!("attempts of outbox entry {id}: {e}")))?;
        self.db.set_keeper_state(&attempts_key(id), &text).await?;
        Ok(())
    }
}

fn attempts_key(id: i64) -> String {
    format!("outbox:{id}:attempts")
}

fn unknown_revert() -> Revert {
    Revert {
        name: "UnknownRevert".to_owned(),
        detail: "reverted; the replay did not reproduce it".to_owned(),
    }
}

/// The decoded revert carried by an RPC error, if it is one.
pub(crate) fn revert_of(error: &TransportError) -> Option<Revert> {
    let resp = error.as_error_resp()?;
    if let Some(data) = resp.as_revert_data() {
        return Some(revert::decode(&data));
    }
    let message = resp.message.to_lowercase();
    message.contains("revert").then(|| Revert {
        name: "EmptyRevert".to_owned(),
        detail: resp.message.to_string(),
    })
}

fn rpc(what: &'static str, error: TransportError) -> Error {
    Error::Rpc {
        what,
        message: error.to_string(),
    }
}
