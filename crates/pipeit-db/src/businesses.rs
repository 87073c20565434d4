//! Businesses and their API keys.

use alloy_primitives::Address;
use chrono::{DateTime, Utc};

use crate::col::{now, Text, Ts};
use crate::error::{conflict_or, is_foreign_key_violation, Op};
use crate::{Db, Error, Result};

/// A business that finances invoices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Business {
    /// Id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Where advances are paid.
    pub payout_address: Address,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}

/// An API key of a business. The key itself is never stored: only its prefix (to find it) and a
/// hash (to check it), both made by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Id.
    pub id: i64,
    /// The business it acts for.
    pub business_id: i64,
    /// The public prefix shown in listings and used to look the key up.
    pub prefix: String,
    /// The hash of the full key.
    pub key_hash: String,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it was last accepted.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked; a revoked key is refused.
    pub revoked_at: Option<DateTime<Utc>>,
}

from_row!(Business, |r| Ok(Business {
    id: r.try_get("id")?,
    name: r.try_get("name")?,
    payout_address: r.try_get::<Text<Address>, _>("payout_address")?.0,
    created_at: r.try_get::<Ts, _>("created_at")?.0,
}));

from_row!(ApiKey, |r| Ok(ApiKey {
    id: r.try_get("id")?,
    business_id: r.try_get("business_id")?,
    prefix: r.try_get("prefix")?,
    key_hash: r.try_get("key_hash")?,
    created_at: r.try_get::<Ts, _>("created_at")?.0,
    last_used_at: r.try_get::<Option<Ts>, _>("last_used_at")?.map(|t| t.0),
    revoked_at: r.try_get::<Option<Ts>, _>("revoked_at")?.map(|t| t.0),
}));

impl Db {
    /// Registers a business.
    pub async fn insert_business(&self, name: &str, payout_address: Address) -> Result<Business> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::InvalidInput {
                what: "business name",
                reason: "must not be empty".to_owned(),
            });
        }
        on_pool!(self, |pool| sqlx::query_as(
            "INSERT INTO businesses (name, payout_address, created_at) VALUES ($1, $2, $3) RETURNING *",
        )
        .bind(name)
        .bind(Text(payout_address))
        .bind(Ts(now()))
        .fetch_one(pool)
        .await)
        .op("insert business")
    }

    /// The business `id`.
    pub async fn business(&self, id: i64) -> Result<Option<Business>> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM businesses WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(pool)
        .await)
        .op("read business")
    }

    /// Every business, oldest first.
    pub async fn list_businesses(&self) -> Result<Vec<Business>> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM businesses ORDER BY id"
        )
        .fetch_all(pool)
        .await)
        .op("list businesses")
    }

    /// Stores a new API key of `business_id`. A taken prefix is [`Error::Conflict`], an unknown
    /// business [`Error::NotFound`].
    pub async fn insert_api_key(
        &self,
        business_id: i64,
        prefix: &str,
        key_hash: &str,
    ) -> Result<ApiKey> {
        const OP: &str = "insert API key";
        on_pool!(self, |pool| sqlx::query_as(
            "INSERT INTO api_keys (business_id, prefix, key_hash, created_at) \
             VALUES ($1, $2, $3, $4) RETURNING *",
        )
        .bind(business_id)
        .bind(prefix)
        .bind(key_hash)
        .bind(Ts(now()))
        .fetch_one(pool)
        .await)
        .map_err(|e| {
            if is_foreign_key_violation(&e) {
                Error::NotFound {
                    what: "business",
                    key: business_id.to_string(),
                }
            } else {
                conflict_or(e, OP, "API key prefix", || prefix.to_owned())
            }
        })
    }

    /// The API key with this prefix, revoked or not (the caller checks `revoked_at`).
    pub async fn api_key_by_prefix(&self, prefix: &str) -> Result<Option<ApiKey>> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM api_keys WHERE prefix = $1"
        )
        .bind(prefix)
        .fetch_optional(pool)
        .await)
        .op("read API key")
    }

    /// Records that key `id` was just used.
    pub async fn touch_api_key(&self, id: i64) -> Result<()> {
        let done = on_pool!(self, |pool| sqlx::query(
            "UPDATE api_keys SET last_used_at = $2 WHERE id = $1"
        )
        .bind(id)
        .bind(Ts(now()))
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))
        .op("touch API key")?;
        match done {
            0 => Err(Error::NotFound {
                what: "API key",
                key: id.to_string(),
            }),
            _ => Ok(()),
        }
    }

    /// Revokes key `id` (revoking twice keeps the first time).
    pub async fn revoke_api_key(&self, id: i64) -> Result<ApiKey> {
        on_pool!(self, |pool| sqlx::query_as(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(Ts(now()))
        .fetch_optional(pool)
        .await)
        .op("revoke API key")?
        .ok_or_else(|| Error::NotFound {
            what: "API key",
            key: id.to_string(),
        })
    }
}
