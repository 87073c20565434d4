//! Shared by the integration tests: fresh databases and an indexed-events builder.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::type_complexity
)]

use alloy_primitives::{Address, B256, U256};
use chrono::{TimeZone, Utc};
use futures_util::TryStreamExt;
use pipeit_db::{
    BlockBatch, BlockRecord, ChainContract, Db, EthUsdPrice, SharePrice, TxFee, VaultEvent,
};
use rust_decimal::Decimal;
use serde_json::{json, Value};

pub const VAULT: Address = Address::repeat_byte(0x7a);
pub const ME: Address = Address::repeat_byte(0xa1);
pub const OTHER: Address = Address::repeat_byte(0xb2);

pub fn at() -> ChainContract {
    ChainContract {
        chain_id: 8453,
        contract: VAULT,
    }
}

/// A fresh SQLite file database (kept alive by the returned directory).
pub async fn sqlite() -> (Db, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    (db, dir)
}

/// A fresh PostgreSQL database on `PIPEIT_TEST_PG_URL`; `None` (with a note) when unset.
pub async fn postgres() -> Option<(Db, pipeit_db::scratch::ScratchDatabase)> {
    let Ok(url) = std::env::var("PIPEIT_TEST_PG_URL") else {
        assert!(
            std::env::var("PIPEIT_SKIP_PG").is_ok(),
            "PIPEIT_TEST_PG_URL is not set: export PIPEIT_TEST_PG_URL=$(scripts/pg-test-cluster url) \
             (or PIPEIT_SKIP_PG=1 to skip the PostgreSQL cases)"
        );
        return None;
    };
    let scratch = pipeit_db::scratch::ScratchDatabase::create(&url, "tax")
        .await
        .unwrap();
    let db = Db::connect(&scratch.url).await.unwrap();
    Some((db, scratch))
}

pub fn wei(eth: &str) -> U256 {
    let d: Decimal = eth.parse().unwrap();
    U256::from(
        (d * Decimal::from(1_000_000_000_000_000_000u64))
            .trunc()
            .mantissa() as u128,
    )
}

pub fn sh(shares: &str) -> U256 {
    wei(shares) * U256::from(1000u16) // 21 decimals
}

pub fn ts(y: i32, m: u32, d: u32) -> u64 {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap().timestamp() as u64
}

fn h(n: u64, salt: u8) -> B256 {
    let mut b = [0u8; 32];
    b[0] = salt;
    b[24..].copy_from_slice(&n.to_be_bytes());
    B256::from(b)
}

/// One block of indexed history: its events, ETH/USD price, totals and gas of its transaction.
pub struct Step {
    pub block: u64,
    pub timestamp: u64,
    pub price: Decimal,
    pub total_assets: U256,
    pub total_supply: U256,
    pub events: Vec<(
        String,
        Value,
        Option<Address>,
        Option<U256>,
        Option<U256>,
        Option<B256>,
    )>,
    pub gas: Option<(Address, U256)>,
}

impl Step {
    pub fn new(block: u64, timestamp: u64, price: &str) -> Step {
        Step {
            block,
            timestamp,
            price: price.parse().unwrap(),
            total_assets: wei("100"),
            total_supply: sh("100"),
            events: Vec::new(),
            gas: None,
        }
    }
    /// Share price `assets / 1e21 shares` exactly as the vault converts (virtual offset cancelled).
    pub fn share_price(mut self, eth_per_share: &str) -> Step {
        self.total_assets = wei(eth_per_share) * U256::from(100u8) - U256::from(1u8);
        self.total_supply = sh("100") - U256::from(1000u16);
        self
    }
    pub fn gas(mut self, payer: Address, eth: &str) -> Step {
        self.gas = Some((payer, wei(eth)));
        self
    }
    fn ev(
        mut self,
        name: &str,
        f: Value,
        account: Option<Address>,
        shares: Option<U256>,
        assets: Option<U256>,
    ) -> Step {
        self.events
            .push((name.to_owned(), f, account, shares, assets, None));
        self
    }
    pub fn deposit(self, owner: Address, assets: U256, shares: U256) -> Step {
        let f = json!({"sender": owner.to_checksum(None), "owner": owner.to_checksum(None), "assets": assets.to_string(), "shares": shares.to_string()});
        self.ev("Transfer", json!({"from": Address::ZERO.to_checksum(None), "to": owner.to_checksum(None), "value": shares.to_string()}), None, Some(shares), None)
            .ev("Deposit", f, Some(owner), Some(shares), Some(assets))
    }
    pub fn withdraw(self, owner: Address, assets: U256, shares: U256) -> Step {
        let f = json!({"sender": owner.to_checksum(None), "receiver": owner.to_checksum(None), "owner": owner.to_checksum(None), "assets": assets.to_string(), "shares": shares.to_string()});
        self.ev("Withdraw", f, Some(owner), Some(shares), Some(assets))
            .ev("Transfer", json!({"from": owner.to_checksum(None), "to": Address::ZERO.to_checksum(None), "value": shares.to_string()}), None, Some(shares), None)
    }
    pub fn transfer(self, from: Address, to: Address, shares: U256) -> Step {
        self.ev("Transfer", json!({"from": from.to_checksum(None), "to": to.to_checksum(None), "value": shares.to_string()}), None, Some(shares), None)
    }
    pub fn request(self, owner: Address, id: u64, shares: U256) -> Step {
        self.transfer(owner, VAULT, shares).ev(
            "RedeemRequested",
            json!({"requestId": id.to_string(), "owner": owner.to_checksum(None), "receiver": owner.to_checksum(None), "shares": shares.to_string()}),
            Some(owner), Some(shares), None,
        )
    }
    pub fn fill(self, id: u64, shares: U256, assets: U256) -> Step {
        self.ev("RedeemFilled", json!({"requestId": id.to_string(), "shares": shares.to_string(), "assets": assets.to_string(), "sharesRemaining": "0"}), None, Some(shares), Some(assets))
            .ev("Transfer", json!({"from": VAULT.to_checksum(None), "to": Address::ZERO.to_checksum(None), "value": shares.to_string()}), None, Some(shares), None)
    }
    pub fn claim(self, receiver: Address, id: u64, assets: U256) -> Step {
        self.ev("RedeemClaimed", json!({"requestId": id.to_string(), "receiver": receiver.to_checksum(None), "assets": assets.to_string(), "asEth": true}), Some(receiver), None, Some(assets))
    }
    pub fn write_off(self, principal: U256) -> Step {
        let mut s = self.ev("InvoiceWrittenOff", json!({"id": format!("{:#x}", h(9, 9)), "by": OTHER.to_checksum(None), "principalLost": principal.to_string(), "lpFeeLost": "0"}), Some(OTHER), None, Some(principal));
        if let Some(last) = s.events.last_mut() {
            last.5 = Some(h(9, 9));
        }
        s
    }
}

/// Stores the steps as the indexer would (one batch per step).
pub async fn store(db: &Db, steps: &[Step]) {
    for s in steps {
        let tx = h(s.block, 1);
        let events = s
            .events
            .iter()
            .enumerate()
            .map(
                |(i, (name, fields, account, shares, assets, invoice))| VaultEvent {
                    block_number: s.block,
                    block_hash: h(s.block, 2),
                    tx_hash: tx,
                    log_index: i as u64,
                    name: name.clone(),
                    fields: fields.clone(),
                    invoice_id: *invoice,
                    account: *account,
                    shares: *shares,
                    assets: *assets,
                },
            )
            .collect();
        let batch = BlockBatch {
            blocks: vec![BlockRecord {
                number: s.block,
                hash: h(s.block, 2),
                parent_hash: h(s.block - 1, 2),
            }],
            events,
            eth_usd_prices: vec![EthUsdPrice {
                block_number: s.block,
                price: s.price,
                round_id: U256::from(s.block),
                updated_at: s.timestamp,
            }],
            share_prices: vec![SharePrice {
                block_number: s.block,
                timestamp: s.timestamp,
                total_assets: s.total_assets,
                total_supply: s.total_supply,
            }],
            checkpoint_block: s.block,
            checkpoint_hash: h(s.block, 2),
        };
        let fees: Vec<TxFee> = s
            .gas
            .iter()
            .map(|(payer, fee)| TxFee {
                tx_hash: tx,
                block_number: s.block,
                from: *payer,
                gas_used: *fee,
                effective_gas_price: U256::from(1u8),
            })
            .collect();
        db.save_block_batch_with_fees(at(), &batch, &fees)
            .await
            .unwrap();
    }
}

/// Collects a report stream into a string.
pub async fn collect<S>(stream: S) -> Result<String, pipeit_tax::TaxError>
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, pipeit_tax::TaxError>>,
{
    let chunks: Vec<bytes::Bytes> = stream.try_collect().await?;
    Ok(chunks
        .iter()
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect())
}
