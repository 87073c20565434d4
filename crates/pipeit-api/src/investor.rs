//! Investor endpoints: Sign-In with Ethereum (EIP-4361, EIP-1271 wallets too), position, history,
//! and unsigned transactions for deposits and redemptions.

use std::str::FromStr;

use alloy::primitives::{Address, U256};
use alloy::sol_types::SolCall;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use pipeit_chain::bindings::FactoringVault;
use pipeit_db::VaultEvent;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{new_nonce, new_session_token, require_signature, InvestorAuth};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::tx::UnsignedTx;
use crate::vault::{eth, eth_usd, indexed, usd_value};

/// The investor routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(nonce))
        .routes(routes!(sign_in))
        .routes(routes!(position))
        .routes(routes!(history))
        .routes(routes!(deposit_tx))
        .routes(routes!(redeem_tx))
        .routes(routes!(request_redeem_tx))
}

/// Clocks differ: a message issued this far in the future is still accepted.
const CLOCK_SKEW_SECONDS: i64 = 60;

/// A fresh nonce for a sign-in message.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NonceView {
    /// Put it in the message's `Nonce:` line; usable once, until `expires_at`.
    pub nonce: String,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
    /// The `domain` the message must name.
    pub domain: String,
    /// The `Chain ID` the message must name.
    pub chain_id: u64,
}

/// Get a nonce to sign in with.
#[utoipa::path(post, path = "/v1/auth/nonce", tag = "investor", responses((status = 200, body = NonceView)))]
async fn nonce(State(state): State<AppState>) -> ApiResult<Json<NonceView>> {
    let nonce = new_nonce();
    let ttl = chrono::Duration::from_std(state.config().nonce_ttl).unwrap_or_default();
    let now = state.now();
    let expires_at = now + ttl;
    state.db().insert_nonce(&nonce, now, expires_at).await?;
    Ok(Json(NonceView {
        nonce,
        expires_at,
        domain: state.config().siwe_domain.clone(),
        chain_id: state.chain().manifest.chain_id,
    }))
}

/// A signed EIP-4361 message.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// The EIP-4361 message, exactly as signed.
    pub message: String,
    /// The signature over it (EIP-191), 0x-hex; a contract wallet's EIP-1271 signature too.
    pub signature: String,
}

/// An open session.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionView {
    /// Send as `Authorization: Bearer <token>`; shown once.
    pub token: String,
    /// The wallet signed in.
    pub address: String,
    /// When the session ends.
    pub expires_at: DateTime<Utc>,
}

/// Sign in with Ethereum: a signed message with a nonce from `/v1/auth/nonce` opens a session.
#[utoipa::path(post, path = "/v1/auth/siwe", tag = "investor", request_body = SignInRequest,
    responses(
        (status = 200, body = SessionView),
        (status = 400, description = "not an EIP-4361 message", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "wrong domain or chain, expired, reused nonce, bad signature", body = Problem, content_type = "application/problem+json"),
    ))]
async fn sign_in(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<SignInRequest>,
) -> ApiResult<Json<SessionView>> {
    let message = siwe::Message::from_str(&request.message)
        .map_err(|e| ApiError::malformed("message", format!("not an EIP-4361 message: {e}")))?;
    check_message(&state, &message)?;
    let address = Address::from(message.address);
    require_signature(&state, address, &request.message, &request.signature).await?;
    // Last, so that a refused message does not burn the nonce; atomic, so it is used once.
    if !state.db().consume_nonce(&message.nonce, state.now()).await? {
        return Err(ApiError::sign_in_refused(
            "message.nonce",
            "unknown, already used or expired: get a new one at POST /v1/auth/nonce",
        ));
    }
    let (token, hash) = new_session_token();
    let ttl = chrono::Duration::from_std(state.config().session_ttl).unwrap_or_default();
    let now = state.now();
    let expires_at = now + ttl;
    state.db().insert_session(hash, address, now, expires_at).await?;
    Ok(Json(SessionView {
        token,
        address: address.to_checksum(None),
        expires_at,
    }))
}

/// The message's claims, against this service: domain, chain, times.
fn check_message(state: &AppState, message: &siwe::Message) -> ApiResult<()> {
    let domain = message.domain.to_string();
    if domain != state.config().siwe_domain {
        return Err(ApiError::sign_in_refused(
            "message.domain",
            format!(
                "{domain:?} is not this service ({:?})",
                state.config().siwe_domain
            ),
        ));
    }
    let chain_id = state.chain().manifest.chain_id;
    if message.chain_id != chain_id {
        return Err(ApiError::sign_in_refused(
            "message.chain_id",
            format!(
                "chain {} is not this vault's chain {chain_id}",
                message.chain_id
            ),
        ));
    }
    let now = time::OffsetDateTime::from_unix_timestamp(state.now().timestamp())
        .map_err(|e| ApiError::internal(&e))?;
    if !message.valid_at(&now) {
        return Err(ApiError::sign_in_refused(
            "message.expiration_time",
            "the message has expired or is not valid yet",
        ));
    }
    let issued: &time::OffsetDateTime = message.issued_at.as_ref();
    let age = now - *issued;
    let max_age = time::Duration::seconds(
        i64::try_from(state.config().nonce_ttl.as_secs()).unwrap_or(i64::MAX),
    );
    if age > max_age || age < -time::Duration::seconds(CLOCK_SKEW_SECONDS) {
        return Err(ApiError::sign_in_refused(
            "message.issued_at",
            "issued too long ago or in the future: sign a new message",
        ));
    }
    Ok(())
}

/// An investor's position.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PositionView {
    /// The wallet.
    pub address: String,
    /// Shares held in the wallet.
    pub shares: String,
    /// Shares waiting in the redemption queue.
    pub queued_shares: String,
    /// Value of held and queued shares plus filled, unclaimed WETH, wei (rounded down).
    pub value_wei: String,
    /// The same in ETH.
    pub value_eth: String,
    /// The same in USD at the oracle's price (absent when the oracle refuses).
    pub value_usd: Option<String>,
    /// Cost of the shares still held (average cost), wei.
    pub cost_basis_wei: String,
    /// value − cost basis, wei (negative with a leading `-`).
    pub unrealised_gain_wei: String,
    /// value + everything taken out − everything put in, wei.
    pub yield_since_first_deposit_wei: String,
    /// When the first deposit was made (block time), if any.
    pub first_deposit_block: Option<u64>,
}

/// Money in and out of one wallet, from its indexed events.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Flows {
    /// Σ assets deposited.
    pub deposited: U256,
    /// Σ assets withdrawn, redeemed or claimed from the queue.
    pub taken_out: U256,
    /// Cost of the shares held in the wallet (average cost).
    pub held_basis: U256,
    /// Shares held by this accounting.
    pub held_shares: U256,
    /// Queue requests made and not cancelled: id → (shares requested, cost basis they carried).
    pub requests: std::collections::BTreeMap<U256, (U256, U256)>,
    /// First deposit's block.
    pub first_block: Option<u64>,
}

fn request_id(event: &VaultEvent) -> Option<U256> {
    let id = event.fields.get("requestId")?.as_str()?;
    U256::from_str_radix(id, 10).ok()
}

/// Folds an account's events (chain order) into its flows, at average cost: shares leaving the
/// wallet (an instant redemption, or a queue request) take their share of the basis, rounded up
/// so the basis left is never overstated; a cancelled request brings its shares and basis back.
/// Share transfers between wallets are not in an account's events and are left out here (the tax
/// reports follow them).
pub fn flows(events: &[VaultEvent]) -> Flows {
    let mut f = Flows::default();
    for event in events {
        let assets = event.assets.unwrap_or_default();
        let shares = event.shares.unwrap_or_default();
        match event.name.as_str() {
            "Deposit" => {
                f.deposited += assets;
                f.held_basis += assets;
                f.held_shares += shares;
                f.first_block.get_or_insert(event.block_number);
            }
            "Withdraw" | "RedeemRequested" => {
                let leaving = shares.min(f.held_shares);
                let basis = if f.held_shares.is_zero() {
                    U256::ZERO
                } else {
                    (f.held_basis * leaving)
                        .div_ceil(f.held_shares)
                        .min(f.held_basis)
                };
                f.held_basis -= basis;
                f.held_shares -= leaving;
                if event.name == "Withdraw" {
                    f.taken_out += assets;
                } else if let Some(id) = request_id(event) {
                    f.requests.insert(id, (shares, basis));
                }
            }
            "RedeemCancelled" => {
                if let Some((_, basis)) = request_id(event).and_then(|id| f.requests.remove(&id)) {
                    f.held_basis += basis;
                    f.held_shares += shares;
                }
            }
            "RedeemClaimed" => f.taken_out += assets,
            _ => {}
        }
    }
    f
}

/// The signed-in investor's position.
#[utoipa::path(get, path = "/v1/investor/position", tag = "investor",
    responses((status = 200, body = PositionView), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("session" = [])))]
async fn position(
    State(state): State<AppState>,
    auth: InvestorAuth,
) -> ApiResult<Json<PositionView>> {
    let chain = state.chain();
    let vault = FactoringVault::new(chain.manifest.contracts.vault, &chain.provider);
    let rpc = |e: alloy::contract::Error| ApiError::unavailable(format!("the node failed: {e}"));
    let shares = vault.balanceOf(auth.address).call().await.map_err(rpc)?;
    let events = state
        .db()
        .account_events(indexed(chain), auth.address)
        .await?;
    let f = flows(&events);
    // Open requests: shares still queued and WETH filled but not claimed are still the investor's.
    let (mut queued, mut claimable, mut queued_basis) = (U256::ZERO, U256::ZERO, U256::ZERO);
    for (id, (_, basis)) in &f.requests {
        let request = vault.redeemRequest(*id).call().await.map_err(rpc)?;
        if request.sharesPending != 0 || request.assetsClaimable != 0 {
            queued += U256::from(request.sharesPending);
            claimable += U256::from(request.assetsClaimable);
            queued_basis += *basis;
        }
    }
    let value = vault
        .convertToAssets(shares + queued)
        .call()
        .await
        .map_err(rpc)?
        + claimable;
    let basis = f.held_basis + queued_basis;
    let usd = eth_usd(chain).await;
    Ok(Json(PositionView {
        address: auth.address.to_checksum(None),
        shares: shares.to_string(),
        queued_shares: queued.to_string(),
        value_wei: value.to_string(),
        value_eth: eth(value),
        value_usd: usd.and_then(|p| usd_value(value, p)),
        cost_basis_wei: basis.to_string(),
        unrealised_gain_wei: signed_difference(value, basis),
        yield_since_first_deposit_wei: signed_difference(value + f.taken_out, f.deposited),
        first_deposit_block: f.first_block,
    }))
}

fn signed_difference(a: U256, b: U256) -> String {
    if a >= b {
        (a - b).to_string()
    } else {
        format!("-{}", b - a)
    }
}

/// One event in an investor's history.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryEntry {
    /// Deposit, Withdraw, RedeemRequested, RedeemClaimed, RedeemCancelled, ...
    pub kind: String,
    /// Block.
    pub block_number: u64,
    /// Transaction.
    pub tx_hash: String,
    /// Assets moved, wei.
    pub assets_wei: Option<String>,
    /// Shares moved.
    pub shares: Option<String>,
    /// ETH/USD recorded at that block.
    pub eth_usd: Option<String>,
    /// The decoded event.
    #[schema(value_type = Object)]
    pub fields: serde_json::Value,
}

/// Deposits, redemptions, queue requests and claims of the signed-in investor.
#[utoipa::path(get, path = "/v1/investor/history", operation_id = "investor_history", tag = "investor",
    responses((status = 200, body = [HistoryEntry]), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("session" = [])))]
async fn history(
    State(state): State<AppState>,
    auth: InvestorAuth,
) -> ApiResult<Json<Vec<HistoryEntry>>> {
    let at = indexed(state.chain());
    let events = state.db().account_events(at, auth.address).await?;
    let mut entries = Vec::with_capacity(events.len());
    for event in events {
        let price = state.db().eth_usd_price_at(at, event.block_number).await?;
        entries.push(HistoryEntry {
            kind: event.name.clone(),
            block_number: event.block_number,
            tx_hash: format!("{:#x}", event.tx_hash),
            assets_wei: event.assets.map(|a| a.to_string()),
            shares: event.shares.map(|s| s.to_string()),
            eth_usd: price.map(|p| p.price.to_string()),
            fields: event.fields,
        });
    }
    Ok(Json(entries))
}

/// An amount of ETH to deposit.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepositRequest {
    /// Wei, decimal string.
    pub assets_wei: String,
}

/// A number of shares to redeem.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SharesRequest {
    /// Shares (21 decimals), decimal string.
    pub shares: String,
}

fn positive_u256(field: &str, text: &str) -> ApiResult<U256> {
    let value = U256::from_str_radix(text, 10).map_err(|_| {
        ApiError::field(field, format!("{text:?} is not a whole number in decimal"))
    })?;
    if value.is_zero() {
        return Err(ApiError::field(field, "must be greater than zero"));
    }
    Ok(value)
}

/// A deposit transaction for the signed-in investor.
#[utoipa::path(post, path = "/v1/investor/transactions/deposit", tag = "investor", request_body = DepositRequest,
    responses((status = 200, body = UnsignedTx), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("session" = [])))]
async fn deposit_tx(
    State(state): State<AppState>,
    auth: InvestorAuth,
    ApiJson(request): ApiJson<DepositRequest>,
) -> ApiResult<Json<UnsignedTx>> {
    let assets = positive_u256("assets_wei", &request.assets_wei)?;
    let chain = state.chain();
    let vault = FactoringVault::new(chain.manifest.contracts.vault, &chain.provider);
    let max = vault
        .maxDeposit(auth.address)
        .call()
        .await
        .map_err(|e| ApiError::unavailable(format!("the node failed: {e}")))?;
    if assets > max {
        return Err(ApiError::field(
            "assets_wei",
            format!("above what the vault accepts now ({max} wei)"),
        ));
    }
    let data = FactoringVault::depositETHCall {
        receiver: auth.address,
    }
    .abi_encode();
    Ok(Json(
        chain
            .vault_tx_from(auth.address, assets, data, "depositETH(you)")
            .await?,
    ))
}

async fn shares_limit(
    state: &AppState,
    owner: Address,
    shares: U256,
    instant: bool,
) -> ApiResult<()> {
    let chain = state.chain();
    let vault = FactoringVault::new(chain.manifest.contracts.vault, &chain.provider);
    let rpc = |e: alloy::contract::Error| ApiError::unavailable(format!("the node failed: {e}"));
    let (limit, what) = if instant {
        (
            vault.maxRedeem(owner).call().await.map_err(rpc)?,
            "redeemable now from idle liquidity (queue the rest with request-redeem)",
        )
    } else {
        (vault.balanceOf(owner).call().await.map_err(rpc)?, "held")
    };
    if shares > limit {
        return Err(ApiError::field(
            "shares",
            format!("above the shares {what}: {limit}"),
        ));
    }
    Ok(())
}

/// An instant redemption (paid in ETH) for the signed-in investor.
#[utoipa::path(post, path = "/v1/investor/transactions/redeem", tag = "investor", request_body = SharesRequest,
    responses((status = 200, body = UnsignedTx), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("session" = [])))]
async fn redeem_tx(
    State(state): State<AppState>,
    auth: InvestorAuth,
    ApiJson(request): ApiJson<SharesRequest>,
) -> ApiResult<Json<UnsignedTx>> {
    let shares = positive_u256("shares", &request.shares)?;
    shares_limit(&state, auth.address, shares, true).await?;
    let data = FactoringVault::redeemETHCall {
        shares,
        receiver: auth.address,
        owner: auth.address,
    }
    .abi_encode();
    Ok(Json(
        state
            .chain()
            .vault_tx_from(auth.address, U256::ZERO, data, "redeemETH(shares, you, you)")
            .await?,
    ))
}

/// A queued redemption request for the signed-in investor.
#[utoipa::path(post, path = "/v1/investor/transactions/request-redeem", tag = "investor", request_body = SharesRequest,
    responses((status = 200, body = UnsignedTx), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("session" = [])))]
async fn request_redeem_tx(
    State(state): State<AppState>,
    auth: InvestorAuth,
    ApiJson(request): ApiJson<SharesRequest>,
) -> ApiResult<Json<UnsignedTx>> {
    let shares = positive_u256("shares", &request.shares)?;
    shares_limit(&state, auth.address, shares, false).await?;
    let data = FactoringVault::requestRedeemCall {
        shares,
        receiver: auth.address,
    }
    .abi_encode();
    Ok(Json(
        state
            .chain()
            .vault_tx_from(auth.address, U256::ZERO, data, "requestRedeem(shares, you)")
            .await?,
    ))
}
