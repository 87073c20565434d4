//! Reading the index: each report is one query whose rows are streamed (`fetch`) in chain order,
//! never collected. The SQL is written once with two spellings of JSON access and numeric-to-text
//! casts, one per back-end.

use std::str::FromStr;

use alloy_primitives::{Address, U256};
use futures_util::stream::{BoxStream, StreamExt};
use pipeit_db::{ChainContract, Db};
use rust_decimal::Decimal;

use crate::error::{Result, TaxError};
use crate::investor::InvestorEvent;

/// The SQL spellings that differ between SQLite and PostgreSQL.
struct Dialect {
    postgres: bool,
}

impl Dialect {
    fn of(db: &Db) -> Dialect {
        Dialect {
            postgres: matches!(db, Db::Postgres(_)),
        }
    }

    /// A field of `alias.fields` (JSON) as text.
    fn json(&self, alias: &str, field: &str) -> String {
        if self.postgres {
            format!("({alias}.fields->>'{field}')")
        } else {
            format!("json_extract({alias}.fields, '$.{field}')")
        }
    }

    /// A NUMERIC column as text (SQLite stores it as TEXT already).
    fn text(&self, column: &str) -> String {
        if self.postgres {
            format!("{column}::text")
        } else {
            column.to_owned()
        }
    }
}

pub(crate) struct Keys {
    chain_id: i64,
    contract: String,
}

impl Keys {
    pub(crate) fn of(at: ChainContract) -> Keys {
        Keys {
            chain_id: i64::try_from(at.chain_id).unwrap_or(i64::MAX),
            contract: lower_hex(at.contract),
        }
    }
}

pub(crate) fn lower_hex(a: Address) -> String {
    format!("{a:#x}")
}

/// The joins that bring each event's block timestamp, ETH/USD price and share price.
const BLOCK_JOINS: &str = "LEFT JOIN share_price_history s ON s.chain_id = e.chain_id \
     AND s.contract = e.contract AND s.block_number = e.block_number \
     LEFT JOIN eth_usd_prices p ON p.chain_id = e.chain_id AND p.contract = e.contract \
     AND p.block_number = e.block_number";

/// Every event that can concern `$3` up to unix time `$4` (exclusive), in chain order: the
/// wallet's own deposits, withdrawals and queue requests, transfers from or to it, and the fills
/// and claims of its queue requests. Columns only some events use are NULL for the others (fewer
/// JSON extractions and values to decode per row).
pub fn investor_sql(db: &Db) -> String {
    let d = Dialect::of(db);
    let (from, to, request) = (
        d.json("e", "from"),
        d.json("e", "to"),
        d.json("e", "requestId"),
    );
    let r_request = d.json("r", "requestId");
    format!(
        "SELECT e.block_number, e.log_index, e.tx_hash, e.event_name, e.account, \
         {shares} AS shares, {assets} AS assets, \
         CASE WHEN e.event_name = 'Transfer' THEN lower({from}) END AS f_from, \
         CASE WHEN e.event_name = 'Transfer' THEN lower({to}) END AS f_to, \
         CASE WHEN e.event_name LIKE 'Redeem%' THEN {request} END AS f_request, \
         s.timestamp AS ts, {price} AS price, \
         CASE WHEN e.event_name = 'Transfer' THEN {total_assets} END AS total_assets, \
         CASE WHEN e.event_name = 'Transfer' THEN {total_supply} END AS total_supply, \
         {fee} AS fee_wei, g.from_address AS fee_from \
         FROM vault_events e {BLOCK_JOINS} \
         LEFT JOIN tx_fees g ON g.chain_id = e.chain_id AND g.contract = e.contract \
         AND g.tx_hash = e.tx_hash \
         WHERE e.chain_id = $1 AND e.contract = $2 AND (s.timestamp IS NULL OR s.timestamp < $4) \
         AND ((e.account = $3 AND e.event_name IN ('Deposit', 'Withdraw', 'RedeemRequested', 'RedeemCancelled')) \
         OR (e.event_name = 'Transfer' AND (lower({from}) = $3 OR lower({to}) = $3)) \
         OR (e.event_name IN ('RedeemFilled', 'RedeemClaimed') AND {request} IN \
         (SELECT {r_request} FROM vault_events r WHERE r.chain_id = $1 AND r.contract = $2 \
         AND r.event_name = 'RedeemRequested' AND r.account = $3))) \
         ORDER BY e.block_number, e.log_index",
        shares = d.text("e.shares"),
        assets = d.text("e.assets"),
        price = d.text("p.price"),
        total_assets = d.text("s.total_assets"),
        total_supply = d.text("s.total_supply"),
        fee = d.text("g.fee_wei"),
    )
}

struct RawInvestor {
    block_number: i64,
    log_index: i64,
    tx_hash: String,
    event_name: String,
    account: Option<String>,
    shares: Option<String>,
    assets: Option<String>,
    f_from: Option<String>,
    f_to: Option<String>,
    f_request: Option<String>,
    ts: Option<i64>,
    price: Option<String>,
    total_assets: Option<String>,
    total_supply: Option<String>,
    fee_wei: Option<String>,
    fee_from: Option<String>,
}

/// Decoded by column position (the SELECT's order): a name lookup per column per row costs more
/// than the rest of the decoding on a million rows.
macro_rules! raw_investor_from_row {
    ($row:ty) => {
        impl<'r> sqlx::FromRow<'r, $row> for RawInvestor {
            fn from_row(r: &'r $row) -> Result<Self, sqlx::Error> {
                use sqlx::Row as _;
                Ok(RawInvestor {
                    block_number: r.try_get(0)?,
                    log_index: r.try_get(1)?,
                    tx_hash: r.try_get(2)?,
                    event_name: r.try_get(3)?,
                    account: r.try_get(4)?,
                    shares: r.try_get(5)?,
                    assets: r.try_get(6)?,
                    f_from: r.try_get(7)?,
                    f_to: r.try_get(8)?,
                    f_request: r.try_get(9)?,
                    ts: r.try_get(10)?,
                    price: r.try_get(11)?,
                    total_assets: r.try_get(12)?,
                    total_supply: r.try_get(13)?,
                    fee_wei: r.try_get(14)?,
                    fee_from: r.try_get(15)?,
                })
            }
        }
    };
}
raw_investor_from_row!(sqlx::sqlite::SqliteRow);
raw_investor_from_row!(sqlx::postgres::PgRow);

impl RawInvestor {
    fn parse(self) -> Result<InvestorEvent> {
        let block = u64::try_from(self.block_number).unwrap_or_default();
        let p = Parser { block };
        Ok(InvestorEvent {
            block,
            log_index: u64::try_from(self.log_index).unwrap_or_default(),
            tx_hash: self.tx_hash,
            name: self.event_name,
            account: p.address(self.account)?,
            shares: p.wei(self.shares)?,
            assets: p.wei(self.assets)?,
            from: p.address(self.f_from)?,
            to: p.address(self.f_to)?,
            request_id: p.wei(self.f_request)?,
            timestamp: self.ts,
            price: p.decimal(self.price)?,
            total_assets: p.wei(self.total_assets)?,
            total_supply: p.wei(self.total_supply)?,
            gas_fee: p.wei(self.fee_wei)?,
            gas_payer: p.address(self.fee_from)?,
        })
    }
}

/// Parses stored text, naming the block of a malformed value.
pub(crate) struct Parser {
    pub(crate) block: u64,
}

impl Parser {
    fn bad(&self, what: &str, v: &str) -> TaxError {
        TaxError::IncompleteIndex {
            block: self.block,
            reason: format!("malformed {what} {v:?} in the index"),
        }
    }

    pub(crate) fn wei(&self, v: Option<String>) -> Result<Option<U256>> {
        v.map(|s| U256::from_str_radix(&s, 10).map_err(|_| self.bad("integer", &s)))
            .transpose()
    }

    pub(crate) fn decimal(&self, v: Option<String>) -> Result<Option<Decimal>> {
        v.map(|s| Decimal::from_str(&s).map_err(|_| self.bad("decimal", &s)))
            .transpose()
    }

    pub(crate) fn address(&self, v: Option<String>) -> Result<Option<Address>> {
        v.map(|s| Address::from_str(&s).map_err(|_| self.bad("address", &s)))
            .transpose()
    }
}

/// Streams the rows of `sql` bound to `(chain id, contract, address, end)` and parsed by `parse`.
macro_rules! stream_rows {
    ($db:expr, $sql:expr, $raw:ty, $parse:expr, $($bind:expr),*) => {
        match $db {
            Db::Sqlite(pool) => sqlx::query_as::<_, $raw>($sql)
                $(.bind($bind))*
                .fetch(pool)
                .map(|r| r.map_err(TaxError::from).and_then($parse))
                .boxed(),
            Db::Postgres(pool) => sqlx::query_as::<_, $raw>($sql)
                $(.bind($bind))*
                .fetch(pool)
                .map(|r| r.map_err(TaxError::from).and_then($parse))
                .boxed(),
        }
    };
}

/// The investor's events (see [`investor_sql`]) as a stream.
pub(crate) fn investor_events<'a>(
    db: &'a Db,
    sql: &'a str,
    keys: &'a Keys,
    address: &'a str,
    end: i64,
) -> BoxStream<'a, Result<InvestorEvent>> {
    stream_rows!(
        db,
        sql,
        RawInvestor,
        RawInvestor::parse,
        keys.chain_id,
        &keys.contract,
        address,
        end
    )
}

/// Whether `address` appears in any event of the vault (its own or as a transfer party).
pub(crate) async fn address_known(
    db: &Db,
    keys: &Keys,
    address: &str,
    payout_only: bool,
) -> Result<bool> {
    let d = Dialect::of(db);
    let sql = if payout_only {
        "SELECT 1 AS one FROM vault_events e WHERE e.chain_id = $1 AND e.contract = $2 \
         AND e.event_name = 'InvoiceAdvanced' AND e.account = $3 LIMIT 1"
            .to_owned()
    } else {
        format!(
            "SELECT 1 AS one FROM vault_events e WHERE e.chain_id = $1 AND e.contract = $2 \
             AND (e.account = $3 OR (e.event_name = 'Transfer' AND (lower({}) = $3 OR lower({}) = $3))) \
             LIMIT 1",
            d.json("e", "from"),
            d.json("e", "to")
        )
    };
    let found: Option<i32> = match db {
        Db::Sqlite(pool) => {
            sqlx::query_scalar(&sql)
                .bind(keys.chain_id)
                .bind(&keys.contract)
                .bind(address)
                .fetch_optional(pool)
                .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_scalar(&sql)
                .bind(keys.chain_id)
                .bind(&keys.contract)
                .bind(address)
                .fetch_optional(pool)
                .await?
        }
    };
    Ok(found.is_some())
}

// ------------------------------------------------------------------------ business

/// Every invoice event (advance, repayment, write-off, recovery) of the invoices paid out to `$3`,
/// in the period `[$4, $5)`, grouped by invoice in chain order.
pub(crate) fn business_sql(db: &Db) -> String {
    let d = Dialect::of(db);
    let j = |f: &str| d.json("e", f);
    format!(
        "SELECT e.block_number, e.log_index, e.tx_hash, e.event_name, e.invoice_id, \
         i.invoice_number, {principal} AS principal, {fee} AS fee, {late} AS late_fee_paid, \
         {fee_paid} AS fee_paid, {principal_paid} AS principal_paid, {lost} AS principal_lost, \
         {fee_lost} AS fee_lost, {amount} AS amount, s.timestamp AS ts, {price} AS price \
         FROM vault_events e {BLOCK_JOINS} \
         LEFT JOIN invoices i ON i.canonical_id = e.invoice_id \
         WHERE e.chain_id = $1 AND e.contract = $2 \
         AND e.event_name IN ('InvoiceAdvanced', 'InvoiceRepaid', 'InvoiceWrittenOff', 'RecoveryReceived') \
         AND e.invoice_id IN (SELECT a.invoice_id FROM vault_events a WHERE a.chain_id = $1 \
         AND a.contract = $2 AND a.event_name = 'InvoiceAdvanced' AND a.account = $3) \
         AND (s.timestamp IS NULL OR (s.timestamp >= $4 AND s.timestamp < $5)) \
         ORDER BY e.invoice_id, e.block_number, e.log_index",
        principal = j("principal"),
        fee = j("fee"),
        late = j("lateFeePaid"),
        fee_paid = j("feePaid"),
        principal_paid = j("principalPaid"),
        lost = j("principalLost"),
        fee_lost = j("lpFeeLost"),
        amount = j("amount"),
        price = d.text("p.price"),
    )
}

/// One invoice event of a business.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceEvent {
    /// Block number.
    pub block: u64,
    /// Log index.
    pub log_index: u64,
    /// Transaction hash.
    pub tx_hash: String,
    /// Event name.
    pub name: String,
    /// Invoice id (0x-hex).
    pub invoice_id: String,
    /// The off-chain invoice number, when the invoice is in the database.
    pub invoice_number: Option<String>,
    /// Advance: principal paid out.
    pub principal: Option<U256>,
    /// Advance: the fee agreed.
    pub fee: Option<U256>,
    /// Repayment: late fee part.
    pub late_fee_paid: Option<U256>,
    /// Repayment: fee part.
    pub fee_paid: Option<U256>,
    /// Repayment: principal part.
    pub principal_paid: Option<U256>,
    /// Write-off: principal lost.
    pub principal_lost: Option<U256>,
    /// Write-off: the vault's unpaid fee lost.
    pub fee_lost: Option<U256>,
    /// Recovery: amount used.
    pub amount: Option<U256>,
    /// Block timestamp.
    pub timestamp: Option<i64>,
    /// ETH/USD at the block.
    pub price: Option<Decimal>,
}

#[derive(sqlx::FromRow)]
struct RawInvoiceEvent {
    block_number: i64,
    log_index: i64,
    tx_hash: String,
    event_name: String,
    invoice_id: Option<String>,
    invoice_number: Option<String>,
    principal: Option<String>,
    fee: Option<String>,
    late_fee_paid: Option<String>,
    fee_paid: Option<String>,
    principal_paid: Option<String>,
    principal_lost: Option<String>,
    fee_lost: Option<String>,
    amount: Option<String>,
    ts: Option<i64>,
    price: Option<String>,
}

impl RawInvoiceEvent {
    fn parse(self) -> Result<InvoiceEvent> {
        let block = u64::try_from(self.block_number).unwrap_or_default();
        let p = Parser { block };
        Ok(InvoiceEvent {
            block,
            log_index: u64::try_from(self.log_index).unwrap_or_default(),
            tx_hash: self.tx_hash,
            name: self.event_name,
            invoice_id: self.invoice_id.unwrap_or_default(),
            invoice_number: self.invoice_number,
            principal: p.wei(self.principal)?,
            fee: p.wei(self.fee)?,
            late_fee_paid: p.wei(self.late_fee_paid)?,
            fee_paid: p.wei(self.fee_paid)?,
            principal_paid: p.wei(self.principal_paid)?,
            principal_lost: p.wei(self.principal_lost)?,
            fee_lost: p.wei(self.fee_lost)?,
            amount: p.wei(self.amount)?,
            timestamp: self.ts,
            price: p.decimal(self.price)?,
        })
    }
}

/// A business's invoice events (see [`business_sql`]) as a stream.
pub(crate) fn invoice_events<'a>(
    db: &'a Db,
    sql: &'a str,
    keys: &'a Keys,
    address: &'a str,
    start: i64,
    end: i64,
) -> BoxStream<'a, Result<InvoiceEvent>> {
    stream_rows!(
        db,
        sql,
        RawInvoiceEvent,
        RawInvoiceEvent::parse,
        keys.chain_id,
        &keys.contract,
        address,
        start,
        end
    )
}

// ------------------------------------------------------------------------ vault

/// The vault's income and capital events in the period `[$3, $4)`, in chain order.
pub(crate) fn vault_sql(db: &Db) -> String {
    let d = Dialect::of(db);
    let j = |f: &str| d.json("e", f);
    format!(
        "SELECT e.block_number, e.event_name, {assets} AS assets, {late} AS late_fee_paid, \
         {fee_paid} AS fee_paid, {protocol} AS protocol_fee, {lost} AS principal_lost, \
         {fee_lost} AS fee_lost, {amount} AS amount, {pnl} AS realised_pnl, \
         s.timestamp AS ts, {price} AS price \
         FROM vault_events e {BLOCK_JOINS} \
         WHERE e.chain_id = $1 AND e.contract = $2 \
         AND e.event_name IN ('Deposit', 'Withdraw', 'RedeemFilled', 'InvoiceRepaid', \
         'RecoveryReceived', 'InvoiceWrittenOff', 'Deallocated') \
         AND (s.timestamp IS NULL OR (s.timestamp >= $3 AND s.timestamp < $4)) \
         ORDER BY e.block_number, e.log_index",
        assets = d.text("e.assets"),
        late = j("lateFeePaid"),
        fee_paid = j("feePaid"),
        protocol = j("protocolFee"),
        lost = j("principalLost"),
        fee_lost = j("lpFeeLost"),
        amount = j("amount"),
        pnl = j("realisedPnl"),
        price = d.text("p.price"),
    )
}

/// One income or capital event of the vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultEventRow {
    /// Block number.
    pub block: u64,
    /// Event name.
    pub name: String,
    /// Assets column (deposits, withdrawals, fills).
    pub assets: Option<U256>,
    /// Repayment: late fee part.
    pub late_fee_paid: Option<U256>,
    /// Repayment: fee part.
    pub fee_paid: Option<U256>,
    /// Repayment: the protocol's cut.
    pub protocol_fee: Option<U256>,
    /// Write-off: principal lost.
    pub principal_lost: Option<U256>,
    /// Write-off: the vault's unpaid fee lost.
    pub fee_lost: Option<U256>,
    /// Recovery: amount used.
    pub amount: Option<U256>,
    /// Strategy exit: realised gain or loss (signed decimal string).
    pub realised_pnl: Option<String>,
    /// Block timestamp.
    pub timestamp: Option<i64>,
    /// ETH/USD at the block.
    pub price: Option<Decimal>,
}

#[derive(sqlx::FromRow)]
struct RawVaultEvent {
    block_number: i64,
    event_name: String,
    assets: Option<String>,
    late_fee_paid: Option<String>,
    fee_paid: Option<String>,
    protocol_fee: Option<String>,
    principal_lost: Option<String>,
    fee_lost: Option<String>,
    amount: Option<String>,
    realised_pnl: Option<String>,
    ts: Option<i64>,
    price: Option<String>,
}

impl RawVaultEvent {
    fn parse(self) -> Result<VaultEventRow> {
        let block = u64::try_from(self.block_number).unwrap_or_default();
        let p = Parser { block };
        Ok(VaultEventRow {
            block,
            name: self.event_name,
            assets: p.wei(self.assets)?,
            late_fee_paid: p.wei(self.late_fee_paid)?,
            fee_paid: p.wei(self.fee_paid)?,
            protocol_fee: p.wei(self.protocol_fee)?,
            principal_lost: p.wei(self.principal_lost)?,
            fee_lost: p.wei(self.fee_lost)?,
            amount: p.wei(self.amount)?,
            realised_pnl: self.realised_pnl,
            timestamp: self.ts,
            price: p.decimal(self.price)?,
        })
    }
}

/// The vault's events in a period as a stream.
pub(crate) fn vault_events<'a>(
    db: &'a Db,
    sql: &'a str,
    keys: &'a Keys,
    start: i64,
    end: i64,
) -> BoxStream<'a, Result<VaultEventRow>> {
    stream_rows!(
        db,
        sql,
        RawVaultEvent,
        RawVaultEvent::parse,
        keys.chain_id,
        &keys.contract,
        start,
        end
    )
}

/// The vault's totals after the last indexed block before unix time `before`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotalsAt {
    /// The block.
    pub block: u64,
    /// Its timestamp.
    pub timestamp: i64,
    /// Total assets, wei.
    pub total_assets: U256,
    /// ETH/USD at that block, if recorded.
    pub price: Option<Decimal>,
}

#[derive(sqlx::FromRow)]
struct RawTotals {
    block_number: i64,
    timestamp: i64,
    total_assets: String,
    price: Option<String>,
}

pub(crate) async fn totals_before(db: &Db, keys: &Keys, before: i64) -> Result<Option<TotalsAt>> {
    let d = Dialect::of(db);
    let sql = format!(
        "SELECT s.block_number, s.timestamp, {ta} AS total_assets, {price} AS price \
         FROM share_price_history s LEFT JOIN eth_usd_prices p ON p.chain_id = s.chain_id \
         AND p.contract = s.contract AND p.block_number = s.block_number \
         WHERE s.chain_id = $1 AND s.contract = $2 AND s.timestamp < $3 \
         ORDER BY s.block_number DESC LIMIT 1",
        ta = d.text("s.total_assets"),
        price = d.text("p.price"),
    );
    let raw: Option<RawTotals> = match db {
        Db::Sqlite(pool) => {
            sqlx::query_as(&sql)
                .bind(keys.chain_id)
                .bind(&keys.contract)
                .bind(before)
                .fetch_optional(pool)
                .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_as(&sql)
                .bind(keys.chain_id)
                .bind(&keys.contract)
                .bind(before)
                .fetch_optional(pool)
                .await?
        }
    };
    raw.map(|r| {
        let block = u64::try_from(r.block_number).unwrap_or_default();
        let p = Parser { block };
        Ok(TotalsAt {
            block,
            timestamp: r.timestamp,
            total_assets: p.wei(Some(r.total_assets))?.unwrap_or_default(),
            price: p.decimal(r.price)?,
        })
    })
    .transpose()
}
