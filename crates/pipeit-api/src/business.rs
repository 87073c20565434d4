//! Business endpoints (API key): invoices, repayment transactions, the payout address.

use alloy::primitives::{keccak256, Address, U256};
use alloy::sol_types::SolCall;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use pipeit_chain::bindings::FactoringVault;
use pipeit_db::{Idempotent, InvoiceStatus, StoredResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{require_signature, BusinessAuth};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, InvoiceId};
use crate::invoices::{withdrawable, InvoiceRequest, InvoiceView};
use crate::state::AppState;
use crate::tx::UnsignedTx;

/// The business routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(quote))
        .routes(routes!(submit_invoice, list_invoices))
        .routes(routes!(get_invoice, withdraw_invoice))
        .routes(routes!(repayment))
        .routes(routes!(business_profile))
        .routes(routes!(payout_challenge))
        .routes(routes!(set_payout_address))
}

/// Price an invoice without submitting it.
///
/// The same `pipeit_core::pricing::quote` the keeper runs before advancing: score, decision and
/// reasons, advance rate, advance and fee in fiat and wei (advance rounded down, fee up: in the
/// vault's favour), what is owed at the due date, when the quote expires, and the ETH price risk.
#[utoipa::path(post, path = "/v1/quotes", tag = "business",
    request_body = InvoiceRequest,
    responses(
        (status = 200, description = "the quote (a decline is a quote too, with its reasons)", body = Object),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "ETH/USD price stale or node unavailable", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = [])))]
async fn quote(
    State(state): State<AppState>,
    auth: BusinessAuth,
    ApiJson(request): ApiJson<InvoiceRequest>,
) -> ApiResult<Json<pipeit_core::pricing::Quote>> {
    use pipeit_core::pricing::{self, QuoteError, QuoteInput};
    use pipeit_core::scoring::{DebtorKey, Policy};
    let now = state.chain_now().await?;
    let record = request.to_record(now.date_naive())?;
    let context = state
        .db()
        .scoring_context(auth.business_id, &DebtorKey::of(&record), record.currency)
        .await?;
    let signal = state.db().latest_market_signal(None).await?;
    let input = QuoteInput {
        invoice: record,
        context,
        signal,
        price: eth_usd_observation(&state).await?,
        policy: Policy::default(),
        now,
    };
    pricing::quote(&input).map(Json).map_err(|e| match e {
        QuoteError::Invoice(e) => ApiError::field(e.field(), e.to_string()),
        QuoteError::StalePrice { .. } | QuoteError::PriceFromTheFuture { .. } => {
            ApiError::unavailable(format!("no fresh ETH/USD price: {e}"))
        }
        other => ApiError::internal(&other),
    })
}

/// The ETH/USD feed's latest answer, for pricing (the pricing checks its age).
async fn eth_usd_observation(
    state: &AppState,
) -> ApiResult<pipeit_core::pricing::PriceObservation> {
    let chain = state.chain();
    let feed = pipeit_chain::bindings::DevPriceFeed::new(
        chain.manifest.contracts.eth_usd_feed,
        &chain.provider,
    );
    let rpc = |e: alloy::contract::Error| ApiError::unavailable(format!("the node failed: {e}"));
    let round = feed.latestRoundData().call().await.map_err(rpc)?;
    let decimals = feed.decimals().call().await.map_err(rpc)?;
    let price =
        pipeit_core::EthPrice::from_feed(pipeit_core::Currency::Usd, round.answer, decimals)
            .map_err(|e| {
                ApiError::unavailable(format!("the ETH/USD feed answered nonsense: {e}"))
            })?;
    Ok(pipeit_core::pricing::PriceObservation {
        price,
        updated_at: u64::try_from(round.updatedAt).unwrap_or_default(),
    })
}

/// Longest accepted `Idempotency-Key`.
const MAX_IDEMPOTENCY_KEY: usize = 255;

fn idempotency_key(headers: &HeaderMap) -> ApiResult<String> {
    const FIELD: &str = "Idempotency-Key";
    let value = headers
        .get(FIELD)
        .ok_or_else(|| {
            ApiError::malformed(
                FIELD,
                "required: a unique value per invoice (a UUID, say), reused only to retry",
            )
        })?
        .to_str()
        .map_err(|_| ApiError::malformed(FIELD, "must be printable ASCII"))?
        .trim();
    if value.is_empty() || value.len() > MAX_IDEMPOTENCY_KEY {
        return Err(ApiError::malformed(
            FIELD,
            format!("must be 1 to {MAX_IDEMPOTENCY_KEY} characters"),
        ));
    }
    Ok(value.to_owned())
}

fn stored_response(response: StoredResponse) -> Response {
    let status = StatusCode::from_u16(response.status_code).unwrap_or(StatusCode::OK);
    (status, Json(response.body)).into_response()
}

/// Submit an invoice for financing.
///
/// Send an `Idempotency-Key` header: a retry with the same key and body returns the first response;
/// the same key with another body is a 409. The same invoice (same debtor id, country, number,
/// currency, amount and dates), by any business, is a 409.
#[utoipa::path(post, path = "/v1/invoices", tag = "business",
    params(("Idempotency-Key" = String, Header, description = "unique per invoice; reuse only to retry")),
    request_body = InvoiceRequest,
    responses(
        (status = 201, description = "stored, waiting for scoring", body = InvoiceView),
        (status = 400, description = "malformed body or header", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "missing, invalid or revoked API key", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "duplicate invoice or reused Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = [])))]
async fn submit_invoice(
    State(state): State<AppState>,
    auth: BusinessAuth,
    headers: HeaderMap,
    ApiJson(request): ApiJson<InvoiceRequest>,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers)?;
    let record = request.to_record(state.chain_now().await?.date_naive())?;
    let request_hash = keccak256(serde_json::to_vec(&request).unwrap_or_default());
    let _turn = state.write_turn().await;
    let outcome = state
        .db()
        .insert_invoice_idempotent(auth.business_id, &key, request_hash, &record, |invoice| {
            StoredResponse {
                status_code: StatusCode::CREATED.as_u16(),
                body: serde_json::to_value(InvoiceView::new(invoice, None)).unwrap_or_default(),
            }
        })
        .await;
    match outcome {
        Ok(Idempotent::Created(_, response) | Idempotent::Replayed(response)) => {
            Ok(stored_response(response))
        }
        Ok(Idempotent::KeyReused) => Err(ApiError::conflict(
            "Idempotency-Key",
            "this key was used for a different request: use a new key for a new invoice",
        )),
        Err(pipeit_db::Error::Conflict { key, .. }) => Err(ApiError::conflict(
            "invoice",
            format!("this invoice was already submitted (canonical id {key})"),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Page through invoices.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// At most this many (1–100, default 50).
    limit: Option<u32>,
    /// Only invoices with an id below this (the previous page's `next_before`).
    before: Option<i64>,
}

/// A page of invoices, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InvoicePage {
    /// The invoices.
    pub invoices: Vec<InvoiceView>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_before: Option<i64>,
}

/// List the business's invoices, newest first.
#[utoipa::path(get, path = "/v1/invoices", tag = "business", params(ListQuery),
    responses(
        (status = 200, body = InvoicePage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = [])))]
async fn list_invoices(
    State(state): State<AppState>,
    auth: BusinessAuth,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<InvoicePage>> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::field("limit", "must be between 1 and 100"));
    }
    let invoices = state
        .db()
        .business_invoices(auth.business_id, query.before, limit)
        .await?;
    let next_before = (invoices.len() == limit as usize)
        .then(|| invoices.last().map(|i| i.id))
        .flatten();
    let mut views = Vec::with_capacity(invoices.len());
    for invoice in &invoices {
        let scores = state.db().scores(invoice.id).await?;
        views.push(InvoiceView::new(invoice, scores.last()));
    }
    Ok(Json(InvoicePage {
        invoices: views,
        next_before,
    }))
}

/// The business's invoice `id`; another business's is "not found".
async fn own_invoice(
    state: &AppState,
    auth: BusinessAuth,
    id: i64,
) -> ApiResult<pipeit_db::Invoice> {
    match state.db().invoice(id).await? {
        Some(invoice) if invoice.business_id == auth.business_id => Ok(invoice),
        _ => Err(ApiError::not_found("invoice")),
    }
}

/// One invoice with its status and the latest decision.
#[utoipa::path(get, path = "/v1/invoices/{id}", tag = "business",
    params(("id" = i64, Path, description = "invoice id")),
    responses(
        (status = 200, body = InvoiceView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such invoice of this business", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = [])))]
async fn get_invoice(
    State(state): State<AppState>,
    auth: BusinessAuth,
    InvoiceId(id): InvoiceId,
) -> ApiResult<Json<InvoiceView>> {
    let invoice = own_invoice(&state, auth, id).await?;
    let scores = state.db().scores(id).await?;
    Ok(Json(InvoiceView::new(&invoice, scores.last())))
}

/// Withdraw an invoice before it is advanced.
#[utoipa::path(delete, path = "/v1/invoices/{id}", tag = "business",
    params(("id" = i64, Path, description = "invoice id")),
    responses(
        (status = 200, description = "withdrawn", body = InvoiceView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "already advanced or closed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = [])))]
async fn withdraw_invoice(
    State(state): State<AppState>,
    auth: BusinessAuth,
    InvoiceId(id): InvoiceId,
) -> ApiResult<Json<InvoiceView>> {
    let invoice = own_invoice(&state, auth, id).await?;
    if !withdrawable(invoice.status) {
        return Err(ApiError::conflict(
            "status",
            format!(
                "an invoice that is {} can no longer be withdrawn",
                invoice.status
            ),
        ));
    }
    let withdrawn = state
        .db()
        .set_invoice_status(id, InvoiceStatus::Withdrawn)
        .await?;
    Ok(Json(InvoiceView::new(&withdrawn, None)))
}

/// What is owed on an advanced invoice now, and the transactions that pay it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RepaymentView {
    /// The invoice's on-chain id.
    pub canonical_id: String,
    /// Late fee owed now, wei (decimal string).
    pub late_fee_wei: String,
    /// Fee owed, wei.
    pub fee_wei: String,
    /// Principal owed, wei.
    pub principal_wei: String,
    /// Total owed now, wei.
    pub total_wei: String,
    /// Pay in ETH: `value` covers what is owed plus one more day of late fee, so a transaction mined
    /// tomorrow still settles in full; the vault refunds anything above what is owed.
    pub pay_with_eth: UnsignedTx,
    /// Pay in WETH: approve the vault, then repay (only what is owed is pulled).
    pub pay_with_weth: Vec<UnsignedTx>,
}

/// The amount owed now and unsigned transactions to repay it (ETH or WETH).
#[utoipa::path(get, path = "/v1/invoices/{id}/repayment", tag = "business",
    params(("id" = i64, Path, description = "invoice id")),
    responses(
        (status = 200, body = RepaymentView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "not advanced, or already closed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = [])))]
async fn repayment(
    State(state): State<AppState>,
    auth: BusinessAuth,
    InvoiceId(id): InvoiceId,
) -> ApiResult<Json<RepaymentView>> {
    let invoice = own_invoice(&state, auth, id).await?;
    if !matches!(
        invoice.status,
        InvoiceStatus::Advanced | InvoiceStatus::Overdue
    ) {
        return Err(ApiError::conflict(
            "status",
            format!("an invoice that is {} has nothing to repay", invoice.status),
        ));
    }
    let chain = state.chain();
    let vault = FactoringVault::new(chain.manifest.contracts.vault, &chain.provider);
    let rpc = |e: alloy::contract::Error| ApiError::unavailable(format!("the node failed: {e}"));
    let owed = vault
        .amountOwed(invoice.canonical_id)
        .call()
        .await
        .map_err(rpc)?;
    let on_chain = vault
        .invoice(invoice.canonical_id)
        .call()
        .await
        .map_err(rpc)?;
    // One more day of late fee, rounded up (the refund returns any excess to the payer).
    let day_of_late_fee = (U256::from(on_chain.principal) * U256::from(on_chain.lateFeeBpsPerDay))
        .div_ceil(U256::from(10_000u64));
    let value = owed._3 + day_of_late_fee;
    let to = chain.manifest.contracts.vault;
    let chain_id = chain.manifest.chain_id;
    let repay_eth = FactoringVault::repayETHCall {
        id: invoice.canonical_id,
    }
    .abi_encode();
    let approve = pipeit_chain::bindings::IWETH9::approveCall {
        spender: to,
        value: owed._3,
    }
    .abi_encode();
    let repay = FactoringVault::repayCall {
        id: invoice.canonical_id,
        amount: owed._3,
    }
    .abi_encode();
    Ok(Json(RepaymentView {
        canonical_id: format!("{:#x}", invoice.canonical_id),
        late_fee_wei: owed._0.to_string(),
        fee_wei: owed._1.to_string(),
        principal_wei: owed._2.to_string(),
        total_wei: owed._3.to_string(),
        pay_with_eth: chain.vault_tx(value, repay_eth, "repayETH(id)"),
        pay_with_weth: vec![
            UnsignedTx::new(
                chain_id,
                chain.manifest.contracts.weth,
                U256::ZERO,
                approve,
                "WETH.approve(vault, total)",
            ),
            chain.vault_tx(U256::ZERO, repay, "repay(id, total)"),
        ],
    }))
}

/// The business as the service knows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BusinessView {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Where advances are paid; absent until set by a message signed by that address.
    pub payout_address: Option<String>,
}

/// The calling business.
#[utoipa::path(get, path = "/v1/business", tag = "business",
    responses((status = 200, body = BusinessView), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
async fn business_profile(
    State(state): State<AppState>,
    auth: BusinessAuth,
) -> ApiResult<Json<BusinessView>> {
    let business = state
        .db()
        .business(auth.business_id)
        .await?
        .ok_or_else(|| ApiError::not_found("business"))?;
    Ok(Json(business_view(&business)))
}

fn business_view(business: &pipeit_db::Business) -> BusinessView {
    BusinessView {
        id: business.id,
        name: business.name.clone(),
        payout_address: (!business.payout_address.is_zero())
            .then(|| business.payout_address.to_checksum(None)),
    }
}

/// The address to make the payout address.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayoutChallengeRequest {
    /// The new payout address (checksummed or lowercase hex).
    pub address: String,
}

/// The message the new payout address must sign.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PayoutChallenge {
    /// Sign this exact text with the new address (EIP-191 `personal_sign`), then send it back.
    pub message: String,
}

fn parse_address(field: &str, text: &str) -> ApiResult<Address> {
    let address: Address = text
        .parse()
        .map_err(|_| ApiError::field(field, "expected 0x followed by 40 hex digits"))?;
    if address.is_zero() {
        return Err(ApiError::field(
            field,
            "the zero address cannot receive money",
        ));
    }
    Ok(address)
}

/// The fixed text a payout-address change is signed over.
fn payout_message(business_id: i64, address: Address, chain_id: u64, nonce: &str) -> String {
    format!(
        "pipeit: pay the advances of business {business_id} to {address}\n\
         Chain ID: {chain_id}\nNonce: {nonce}",
        address = address.to_checksum(None),
    )
}

/// Get the message a new payout address must sign.
///
/// The payout address is set only by a message signed by that address, so a stolen API key cannot
/// redirect advances.
#[utoipa::path(post, path = "/v1/business/payout-address/challenge", tag = "business",
    request_body = PayoutChallengeRequest,
    responses((status = 200, body = PayoutChallenge), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
async fn payout_challenge(
    State(state): State<AppState>,
    auth: BusinessAuth,
    ApiJson(request): ApiJson<PayoutChallengeRequest>,
) -> ApiResult<Json<PayoutChallenge>> {
    let address = parse_address("address", &request.address)?;
    let nonce = crate::auth::new_nonce();
    let ttl = chrono::Duration::from_std(state.config().nonce_ttl).unwrap_or_default();
    let now = state.now();
    state.db().insert_nonce(&nonce, now, now + ttl).await?;
    let chain_id = state.chain().manifest.chain_id;
    Ok(Json(PayoutChallenge {
        message: payout_message(auth.business_id, address, chain_id, &nonce),
    }))
}

/// The signed challenge.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPayoutAddress {
    /// The message from the challenge, unchanged.
    pub message: String,
    /// The new address's signature over it, 0x-hex.
    pub signature: String,
}

/// Set the payout address with a message signed by that address (EOA or EIP-1271 wallet).
#[utoipa::path(put, path = "/v1/business/payout-address", tag = "business",
    request_body = SetPayoutAddress,
    responses(
        (status = 200, body = BusinessView),
        (status = 401, description = "signature or nonce refused", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = [])))]
async fn set_payout_address(
    State(state): State<AppState>,
    auth: BusinessAuth,
    ApiJson(request): ApiJson<SetPayoutAddress>,
) -> ApiResult<Json<BusinessView>> {
    let (address, nonce) = parse_payout_message(&request.message)?;
    let chain_id = state.chain().manifest.chain_id;
    if request.message != payout_message(auth.business_id, address, chain_id, &nonce) {
        return Err(ApiError::field(
            "message",
            "not the challenge issued to this business on this chain: request a new one",
        ));
    }
    require_signature(&state, address, &request.message, &request.signature).await?;
    if !state.db().consume_nonce(&nonce, state.now()).await? {
        return Err(ApiError::sign_in_refused(
            "message",
            "the challenge's nonce is unknown, used or expired: request a new challenge",
        ));
    }
    let business = state
        .db()
        .set_payout_address(
            auth.business_id,
            address,
            &request.message,
            &request.signature,
        )
        .await?;
    Ok(Json(business_view(&business)))
}

fn parse_payout_message(message: &str) -> ApiResult<(Address, String)> {
    let bad = || {
        ApiError::field(
            "message",
            "not a payout-address challenge: request one first",
        )
    };
    let first = message.lines().next().ok_or_else(bad)?;
    let address = first.rsplit(' ').next().ok_or_else(bad)?;
    let address: Address = address.parse().map_err(|_| bad())?;
    let nonce = message
        .lines()
        .find_map(|l| l.strip_prefix("Nonce: "))
        .ok_or_else(bad)?;
    Ok((address, nonce.to_owned()))
}
