//! Who is calling: businesses by API key, investors by a session opened with Sign-In with Ethereum.
//!
//! Secrets are 32 random bytes; only their keccak-256 is stored, so a database leak gives no usable
//! key. A key is `pk_<prefix>_<secret>`: the prefix finds the row, the hash checks the secret.

use alloy::primitives::{
    eip191_hash_message, keccak256, Address, Bytes, FixedBytes, Signature, B256,
};
use alloy::providers::Provider;
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;

use crate::error::ApiError;
use crate::state::AppState;

alloy::sol! {
    #[sol(rpc)]
    interface IERC1271 {
        function isValidSignature(bytes32 hash, bytes signature) external view returns (bytes4);
    }
}

/// EIP-1271's answer for a valid signature.
const ERC1271_MAGIC: [u8; 4] = [0x16, 0x26, 0xba, 0x7e];
/// A key's last-use time is written at most this often (a write per request would cost more than
/// the request).
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// A new API key: the secret to hand out once, and what is stored.
#[derive(Debug)]
pub struct NewApiKey {
    /// The key to give to the business; never stored, never logged.
    pub secret: String,
    /// The public prefix (listings, lookup).
    pub prefix: String,
    /// The stored hash of the whole key.
    pub hash: String,
}

/// Makes a fresh API key.
pub fn new_api_key() -> NewApiKey {
    let prefix = hex_random(6);
    let secret = format!("pk_{prefix}_{}", hex_random(32));
    NewApiKey {
        hash: hash_secret(&secret),
        prefix,
        secret,
    }
}

/// A fresh session token (`pis_…`) and its hash.
pub fn new_session_token() -> (String, B256) {
    let token = format!("pis_{}", hex_random(32));
    let hash = keccak256(token.as_bytes());
    (token, hash)
}

/// A random nonce for sign-in messages: 16 alphanumeric characters (EIP-4361 wants ≥ 8).
pub fn new_nonce() -> String {
    hex_random(8)
}

fn hex_random(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    alloy::hex::encode(buf)
}

fn hash_secret(secret: &str) -> String {
    format!("{:#x}", keccak256(secret.as_bytes()))
}

/// Registers `business_id`'s new key in the database and returns the secret (shown once).
pub async fn issue_api_key(
    db: &pipeit_db::Db,
    business_id: i64,
) -> Result<(pipeit_db::ApiKey, String), pipeit_db::Error> {
    let key = new_api_key();
    let stored = db
        .insert_api_key(business_id, &key.prefix, &key.hash)
        .await?;
    Ok((stored, key.secret))
}

/// The bearer token of the request.
fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::unauthorized(
                "missing Authorization header: send `Authorization: Bearer <key>`",
            )
        })?
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not ASCII"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| ApiError::unauthorized("expected `Authorization: Bearer <key>`"))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::unauthorized(format!(
            "unsupported scheme {scheme:?}: use `Bearer`"
        )));
    }
    Ok(token.trim())
}

/// A request authenticated by a business's API key.
#[derive(Debug, Clone, Copy)]
pub struct BusinessAuth {
    /// The business.
    pub business_id: i64,
    /// The key used.
    pub key_id: i64,
}

impl FromRequestParts<AppState> for BusinessAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)?;
        let invalid = || ApiError::unauthorized("invalid API key");
        let prefix = token
            .strip_prefix("pk_")
            .and_then(|rest| rest.split_once('_'))
            .map(|(prefix, _)| prefix)
            .ok_or_else(invalid)?;
        let key = state
            .db()
            .api_key_by_prefix(prefix)
            .await?
            .ok_or_else(invalid)?;
        if key.key_hash != hash_secret(token) {
            return Err(invalid());
        }
        if key.revoked_at.is_some() {
            return Err(ApiError::unauthorized(
                "this API key was revoked: ask the operator for a new one",
            ));
        }
        state.check_rate(&format!("key:{}", key.id))?;
        let stale = key
            .last_used_at
            .is_none_or(|at| state.now() - at > TOUCH_EVERY);
        if stale {
            let _turn = state.write_turn().await;
            state.db().touch_api_key(key.id).await?;
        }
        Ok(BusinessAuth {
            business_id: key.business_id,
            key_id: key.id,
        })
    }
}

/// A request of a signed-in investor.
#[derive(Debug, Clone, Copy)]
pub struct InvestorAuth {
    /// The wallet that signed in.
    pub address: Address,
    /// When the session ends.
    pub expires_at: DateTime<Utc>,
}

impl FromRequestParts<AppState> for InvestorAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)?;
        if !token.starts_with("pis_") {
            return Err(ApiError::unauthorized(
                "not a session token: sign in at POST /v1/auth/siwe",
            ));
        }
        let session = state
            .db()
            .session(keccak256(token.as_bytes()), state.now())
            .await?
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "unknown or expired session: sign in again at POST /v1/auth/siwe",
                )
            })?;
        state.check_rate(&format!("investor:{:#x}", session.address))?;
        Ok(InvestorAuth {
            address: session.address,
            expires_at: session.expires_at,
        })
    }
}

/// Refuses (401 naming `signature`) unless `signature_hex` over `message` is `signer`'s (see
/// [`signed_by`]); a signature that is not hex is a 400.
pub async fn require_signature(
    state: &AppState,
    signer: Address,
    message: &str,
    signature_hex: &str,
) -> Result<(), ApiError> {
    let signature: Bytes = signature_hex
        .parse()
        .map_err(|_| ApiError::malformed("signature", "expected 0x-prefixed hex"))?;
    if signed_by(&state.chain().provider, signer, message, &signature).await? {
        Ok(())
    } else {
        Err(ApiError::sign_in_refused(
            "signature",
            format!(
                "not a signature of this message by {}",
                signer.to_checksum(None)
            ),
        ))
    }
}

/// Whether `signature` over the EIP-191 `message` is `signer`'s: an ECDSA signature by the
/// address itself, or, when `signer` is a contract, its EIP-1271 `isValidSignature` answer.
pub async fn signed_by<P: Provider>(
    provider: &P,
    signer: Address,
    message: &str,
    signature: &Bytes,
) -> Result<bool, ApiError> {
    if let Ok(sig) = Signature::try_from(signature.as_ref()) {
        if sig.recover_address_from_msg(message).ok() == Some(signer) {
            return Ok(true);
        }
    }
    let code = provider
        .get_code_at(signer)
        .await
        .map_err(|e| ApiError::unavailable(format!("could not read the signer's code: {e}")))?;
    if code.is_empty() {
        return Ok(false);
    }
    let hash = eip191_hash_message(message);
    let answer = IERC1271::new(signer, provider)
        .isValidSignature(hash, signature.clone())
        .call()
        .await;
    // A contract without the function, or one that reverts, did not sign.
    Ok(matches!(answer, Ok(magic) if magic == FixedBytes(ERC1271_MAGIC)))
}
