//! What the HTTP service keeps about access: idempotent submissions, one-use sign-in nonces,
//! investor sessions and the signed payout-address changes.

use alloy_primitives::{Address, B256};
use chrono::{DateTime, Utc};
use pipeit_core::InvoiceRecord;
use serde_json::Value;
use sqlx::types::Json;

use crate::businesses::Business;
use crate::col::{now, Text, Ts};
use crate::error::Op;
use crate::invoices::{insert_invoice_error, insert_invoice_query, Invoice};
use crate::{Db, Error, Result, WritePool};

/// The stored answer to a request made with an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// HTTP status code.
    pub status_code: u16,
    /// JSON body.
    pub body: Value,
}

/// What an idempotent submission did.
#[derive(Debug, Clone, PartialEq)]
pub enum Idempotent {
    /// First use of the key: the invoice was stored with this response.
    Created(Box<Invoice>, StoredResponse),
    /// The same request again: the first response, nothing written.
    Replayed(StoredResponse),
    /// The key was used before for a different request: nothing written.
    KeyReused,
}

/// A signed-in investor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    /// The wallet that signed in.
    pub address: Address,
    /// When the session ends.
    pub expires_at: DateTime<Utc>,
}

from_row!(StoredResponse, |r| Ok(StoredResponse {
    status_code: u16::try_from(r.try_get::<i32, _>("status_code")?).map_err(|e| {
        sqlx::Error::ColumnDecode {
            index: "status_code".to_owned(),
            source: Box::new(e),
        }
    })?,
    body: r.try_get::<Json<Value>, _>("response")?.0,
}));

from_row!(Session, |r| Ok(Session {
    address: r.try_get::<Text<Address>, _>("address")?.0,
    expires_at: r.try_get::<Ts, _>("expires_at")?.0,
}));

const SELECT_KEY: &str = "SELECT request_hash, status_code, response FROM idempotency_keys \
     WHERE business_id = $1 AND key = $2";

/// A replay when the request is the same as the one stored under the key, else `KeyReused`.
fn answer((hash, status_code, body): (String, i32, Json<Value>), request_hash: B256) -> Idempotent {
    if hash == format!("{request_hash:#x}") {
        Idempotent::Replayed(StoredResponse {
            status_code: u16::try_from(status_code).unwrap_or(500),
            body: body.0,
        })
    } else {
        Idempotent::KeyReused
    }
}

impl Db {
    /// Stores invoice `record` of `business_id` under `(business_id, key)` with the response
    /// `respond` renders, in one transaction: a replay of the same `request_hash` returns the first
    /// response, another request under the same key is [`Idempotent::KeyReused`]. A duplicate
    /// invoice is [`Error::Conflict`] and stores nothing (not even the key, so a corrected retry
    /// may reuse it). Two requests with one key racing (two replicas, say): the loser answers as
    /// if it had come second (a replay or `KeyReused`), not with the unique violation it hit; a
    /// plain replay takes the same path.
    pub async fn insert_invoice_idempotent(
        &self,
        business_id: i64,
        key: &str,
        request_hash: B256,
        record: &InvoiceRecord,
        respond: impl FnOnce(&Invoice) -> StoredResponse + Send,
    ) -> Result<Idempotent> {
        let outcome = self
            .try_insert_invoice_idempotent(business_id, key, request_hash, record, respond)
            .await;
        let lost_a_race = match &outcome {
            Err(Error::Conflict { .. }) => true,
            Err(Error::Query { source, .. }) => crate::error::is_unique_violation(source),
            _ => false,
        };
        if lost_a_race {
            if let Some(earlier) = self.earlier_answer(business_id, key, request_hash).await? {
                return Ok(earlier);
            }
        }
        outcome
    }

    async fn try_insert_invoice_idempotent(
        &self,
        business_id: i64,
        key: &str,
        request_hash: B256,
        record: &InvoiceRecord,
        respond: impl FnOnce(&Invoice) -> StoredResponse + Send,
    ) -> Result<Idempotent> {
        const OP: &str = "insert invoice (idempotent)";
        let canonical_id = record.canonical_id()?;
        let at = now();
        on_pool!(self, |pool| {
            // No read of the key first: a replay hits the invoice's unique id, another body under the
            // key hits the key's primary key, and the caller then answers from the stored key. The
            // happy path is two statements (each a round trip to the database's worker).
            let mut tx = pool.begin_write().await.op(OP)?;
            let invoice = insert_invoice_query(business_id, canonical_id, record, at)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| insert_invoice_error(e, business_id, canonical_id))?;
            let response = respond(&invoice);
            sqlx::query(
                "INSERT INTO idempotency_keys (business_id, key, request_hash, status_code, \
                 response, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(business_id)
            .bind(key)
            .bind(format!("{request_hash:#x}"))
            .bind(i32::from(response.status_code))
            .bind(Json(&response.body))
            .bind(Ts(at))
            .execute(&mut *tx)
            .await
            .op(OP)?;
            tx.commit().await.op(OP)?;
            Ok(Idempotent::Created(Box::new(invoice), response))
        })
    }

    /// What an earlier request under `(business_id, key)` makes of this one, if there was one.
    async fn earlier_answer(
        &self,
        business_id: i64,
        key: &str,
        request_hash: B256,
    ) -> Result<Option<Idempotent>> {
        let earlier: Option<(String, i32, Json<Value>)> =
            on_pool!(self, |pool| sqlx::query_as(SELECT_KEY)
                .bind(business_id)
                .bind(key)
                .fetch_optional(pool)
                .await)
            .op("read idempotency key")?;
        Ok(earlier.map(|e| answer(e, request_hash)))
    }

    /// Stores a one-use nonce issued at `now`, valid until `expires_at`.
    pub async fn insert_nonce(
        &self,
        nonce: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO auth_nonces (nonce, created_at, expires_at) VALUES ($1, $2, $3)"
        )
        .bind(nonce)
        .bind(Ts(now))
        .bind(Ts(expires_at))
        .execute(pool)
        .await
        .map(drop))
        .op("insert nonce")?;
        Ok(())
    }

    /// Uses `nonce` up at `now`: true if it existed, was unused and had not expired (atomic, so
    /// two requests racing with one nonce cannot both win). The time is the caller's clock (the
    /// service's), so expiry is decided by the same clock that set it.
    pub async fn consume_nonce(&self, nonce: &str, now: DateTime<Utc>) -> Result<bool> {
        let at = now;
        let used = on_pool!(self, |pool| sqlx::query(
            "UPDATE auth_nonces SET used_at = $2 WHERE nonce = $1 AND used_at IS NULL \
             AND expires_at > $2"
        )
        .bind(nonce)
        .bind(Ts(at))
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))
        .op("consume nonce")?;
        Ok(used == 1)
    }

    /// Opens an investor session at `now`; only the hash of its token is stored.
    pub async fn insert_session(
        &self,
        token_hash: B256,
        address: Address,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO investor_sessions (token_hash, address, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)"
        )
        .bind(Text(token_hash))
        .bind(Text(address))
        .bind(Ts(now))
        .bind(Ts(expires_at))
        .execute(pool)
        .await
        .map(drop))
        .op("insert session")?;
        Ok(())
    }

    /// The session whose token hashes to `token_hash`, live at `now` (`None` if unknown or
    /// expired).
    pub async fn session(&self, token_hash: B256, now: DateTime<Utc>) -> Result<Option<Session>> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT address, expires_at FROM investor_sessions WHERE token_hash = $1 \
             AND expires_at > $2"
        )
        .bind(Text(token_hash))
        .bind(Ts(now))
        .fetch_optional(pool)
        .await)
        .op("read session")
    }

    /// Sets the payout address of `business_id` and records the signed message that asked for
    /// it, in one transaction.
    pub async fn set_payout_address(
        &self,
        business_id: i64,
        address: Address,
        message: &str,
        signature: &str,
    ) -> Result<Business> {
        const OP: &str = "set payout address";
        if address.is_zero() {
            return Err(Error::InvalidInput {
                what: "payout address",
                reason: "the zero address cannot receive advances".to_owned(),
            });
        }
        let at = now();
        on_pool!(self, |pool| {
            let mut tx = pool.begin_write().await.op(OP)?;
            let business: Business = sqlx::query_as(
                "UPDATE businesses SET payout_address = $2 WHERE id = $1 RETURNING *",
            )
            .bind(business_id)
            .bind(Text(address))
            .fetch_optional(&mut *tx)
            .await
            .op(OP)?
            .ok_or_else(|| Error::NotFound {
                what: "business",
                key: business_id.to_string(),
            })?;
            sqlx::query(
                "INSERT INTO payout_address_changes (business_id, address, message, signature, \
                 created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(business_id)
            .bind(Text(address))
            .bind(message)
            .bind(signature)
            .bind(Ts(at))
            .execute(&mut *tx)
            .await
            .op(OP)?;
            tx.commit().await.op(OP)?;
            Ok(business)
        })
    }

    /// Invoices of `business_id`, newest first, at most `limit`, with ids below `before` if given
    /// (keyset pagination).
    pub async fn business_invoices(
        &self,
        business_id: i64,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Invoice>> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM invoices WHERE business_id = $1 AND ($2 IS NULL OR id < $2) \
             ORDER BY id DESC LIMIT $3"
        )
        .bind(business_id)
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await)
        .op("list business invoices")
    }

    /// Rows in the tables of this module and of invoices, for tests that check nothing was
    /// written by a refused request.
    pub async fn row_counts(&self) -> Result<Vec<(&'static str, i64)>> {
        const TABLES: [&str; 7] = [
            "businesses",
            "api_keys",
            "invoices",
            "idempotency_keys",
            "auth_nonces",
            "investor_sessions",
            "payout_address_changes",
        ];
        let mut counts = Vec::with_capacity(TABLES.len());
        for table in TABLES {
            let sql = format!("SELECT COUNT(*) FROM {table}");
            let n: i64 = on_pool!(self, |pool| sqlx::query_scalar(&sql).fetch_one(pool).await)
                .op("count rows")?;
            counts.push((table, n));
        }
        Ok(counts)
    }
}

impl Db {
    /// The API keys of `business_id`, oldest first.
    pub async fn api_keys_of(&self, business_id: i64) -> Result<Vec<crate::ApiKey>> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM api_keys WHERE business_id = $1 ORDER BY id"
        )
        .bind(business_id)
        .fetch_all(pool)
        .await)
        .op("list API keys")
    }
}
