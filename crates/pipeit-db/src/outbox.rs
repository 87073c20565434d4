//! The transaction outbox: the keeper records what it means to send before sending, and reconciles
//! after, so that a crash anywhere never sends the same thing twice nor forgets it.

use std::fmt;
use std::str::FromStr;

use alloy_primitives::B256;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::error::BoxDynError;
use sqlx::types::Json;

use crate::col::{now, DbText, Text, Ts, U64};
use crate::error::{conflict_or, Op};
use crate::invoices::UnknownStatus;
use crate::{Db, Error, Result};

/// Where an outbox entry is.
///
/// `pending` → `sent` (again on a fee bump: same nonce, new hash) → `mined` | `failed` | `replaced`;
/// `pending` → `failed` when it could not be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Recorded, not yet sent.
    Pending,
    /// Broadcast; waiting to be mined.
    Sent,
    /// Mined (successfully: a revert is `failed`).
    Mined,
    /// Reverted or refused; `error_name` says why.
    Failed,
    /// Another transaction took its nonce.
    Replaced,
}

impl OutboxStatus {
    /// Every status.
    pub const ALL: [OutboxStatus; 5] = [
        OutboxStatus::Pending,
        OutboxStatus::Sent,
        OutboxStatus::Mined,
        OutboxStatus::Failed,
        OutboxStatus::Replaced,
    ];

    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Mined => "mined",
            OutboxStatus::Failed => "failed",
            OutboxStatus::Replaced => "replaced",
        }
    }

    /// Whether an entry may go from `self` to `to`.
    pub const fn can_become(self, to: OutboxStatus) -> bool {
        use OutboxStatus::*;
        matches!(
            (self, to),
            (Pending, Sent | Failed) | (Sent, Sent | Mined | Failed | Replaced)
        )
    }
}

impl fmt::Display for OutboxStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OutboxStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OutboxStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

impl DbText for OutboxStatus {
    fn to_text(&self) -> String {
        self.as_str().to_owned()
    }
    fn from_text(text: &str) -> Result<Self, BoxDynError> {
        Ok(text.parse()?)
    }
}

/// A transaction the keeper intends to send, or has sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Id.
    pub id: i64,
    /// What it does (`"advance"`, `"write_off"`, ...).
    pub kind: String,
    /// What it is for, unique among live and mined entries (`"advance:0x…"`): the same intent
    /// cannot be queued twice unless the earlier entry failed or was replaced.
    pub intent_key: String,
    /// Everything needed to build the transaction.
    pub payload: Value,
    /// Nonce it was sent with.
    pub nonce: Option<u64>,
    /// Where it is.
    pub status: OutboxStatus,
    /// Hash of the (last) broadcast transaction.
    pub tx_hash: Option<B256>,
    /// Why it failed (a decoded custom error name such as `"UtilisationCapExceeded"`).
    pub error_name: Option<String>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

from_row!(OutboxEntry, |r| Ok(OutboxEntry {
    id: r.try_get("id")?,
    kind: r.try_get("kind")?,
    intent_key: r.try_get("intent_key")?,
    payload: r.try_get::<Json<Value>, _>("payload")?.0,
    nonce: r.try_get::<Option<U64>, _>("nonce")?.map(|n| n.0),
    status: r.try_get::<Text<OutboxStatus>, _>("status")?.0,
    tx_hash: r.try_get::<Option<Text<B256>>, _>("tx_hash")?.map(|h| h.0),
    error_name: r.try_get("error_name")?,
    created_at: r.try_get::<Ts, _>("created_at")?.0,
    updated_at: r.try_get::<Ts, _>("updated_at")?.0,
}));

/// What a status change also records.
#[derive(Default)]
struct Change<'a> {
    nonce: Option<u64>,
    tx_hash: Option<B256>,
    error_name: Option<&'a str>,
}

impl Db {
    /// Records the intent to send a transaction, status `pending`. Another live (pending, sent) or
    /// mined entry with the same `intent_key` is [`Error::Conflict`].
    pub async fn outbox_insert(
        &self,
        kind: &str,
        intent_key: &str,
        payload: &Value,
    ) -> Result<OutboxEntry> {
        let at = now();
        on_pool!(self, |pool| sqlx::query_as(
            "INSERT INTO tx_outbox (kind, intent_key, payload, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING *",
        )
        .bind(kind)
        .bind(intent_key)
        .bind(Json(payload))
        .bind(Text(OutboxStatus::Pending))
        .bind(Ts(at))
        .fetch_one(pool)
        .await)
        .map_err(|e| {
            conflict_or(e, "insert outbox entry", "outbox intent", || {
                intent_key.to_owned()
            })
        })
    }

    /// The outbox entry `id`.
    pub async fn outbox_entry(&self, id: i64) -> Result<Option<OutboxEntry>> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM tx_outbox WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(pool)
        .await)
        .op("read outbox entry")
    }

    /// Entries in `status`, oldest first.
    pub async fn outbox_list(&self, status: OutboxStatus) -> Result<Vec<OutboxEntry>> {
        on_pool!(self, |pool| sqlx::query_as(
            "SELECT * FROM tx_outbox WHERE status = $1 ORDER BY id"
        )
        .bind(Text(status))
        .fetch_all(pool)
        .await)
        .op("list outbox entries")
    }

    /// Entries still to send, oldest first.
    pub async fn outbox_pending(&self) -> Result<Vec<OutboxEntry>> {
        self.outbox_list(OutboxStatus::Pending).await
    }

    /// Records that entry `id` was broadcast as `tx_hash` with `nonce` (again after a fee bump).
    pub async fn outbox_mark_sent(
        &self,
        id: i64,
        nonce: u64,
        tx_hash: B256,
    ) -> Result<OutboxEntry> {
        let change = Change {
            nonce: Some(nonce),
            tx_hash: Some(tx_hash),
            error_name: None,
        };
        self.outbox_move(id, OutboxStatus::Sent, change).await
    }

    /// Records that entry `id` was mined successfully.
    pub async fn outbox_mark_mined(&self, id: i64) -> Result<OutboxEntry> {
        self.outbox_move(id, OutboxStatus::Mined, Change::default())
            .await
    }

    /// Records that entry `id` failed, and why (`error_name`: a decoded revert, `"Timeout"`, ...).
    pub async fn outbox_mark_failed(&self, id: i64, error_name: &str) -> Result<OutboxEntry> {
        let change = Change {
            error_name: Some(error_name),
            ..Change::default()
        };
        self.outbox_move(id, OutboxStatus::Failed, change).await
    }

    /// Records that another transaction took entry `id`'s nonce.
    pub async fn outbox_mark_replaced(&self, id: i64) -> Result<OutboxEntry> {
        self.outbox_move(id, OutboxStatus::Replaced, Change::default())
            .await
    }

    /// Compare-and-set on the status, like invoices.
    async fn outbox_move(
        &self,
        id: i64,
        to: OutboxStatus,
        change: Change<'_>,
    ) -> Result<OutboxEntry> {
        const OP: &str = "change outbox entry";
        let current = self
            .outbox_entry(id)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: "outbox entry",
                key: id.to_string(),
            })?;
        let from = current.status;
        let refused = |from: String| Error::InvalidTransition {
            what: "outbox entry",
            id,
            from,
            to: to.to_string(),
        };
        if !from.can_become(to) {
            return Err(refused(from.to_string()));
        }
        on_pool!(self, |pool| sqlx::query_as(
            "UPDATE tx_outbox SET status = $2, nonce = COALESCE($3, nonce), \
             tx_hash = COALESCE($4, tx_hash), error_name = COALESCE($5, error_name), updated_at = $6 \
             WHERE id = $1 AND status = $7 RETURNING *",
        )
        .bind(id)
        .bind(Text(to))
        .bind(change.nonce.map(U64))
        .bind(change.tx_hash.map(Text))
        .bind(change.error_name)
        .bind(Ts(now()))
        .bind(Text(from))
        .fetch_optional(pool)
        .await)
        .op(OP)?
        .ok_or_else(|| refused(format!("{from} (changed meanwhile)")))
    }
}
