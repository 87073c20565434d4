//! The HTTP service end to end: every endpoint through the router on a real Anvil deployment and a
//! real database (SQLite and PostgreSQL), one test over a real socket, the bad-input corpus, and the
//! OpenAPI document.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::num::NonZeroU32;

use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use alloy::signers::SignerSync;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use chrono::{Datelike, Duration, Utc};
use http_body_util::BodyExt;
use pipeit_api::{app, ApiConfig, AppState, Chain, Clock};
use pipeit_chain::bindings::FactoringVault;
use pipeit_testkit::{send, TestStack};
use serde_json::{json, Value};
use tower::ServiceExt;

const DOMAIN: &str = "app.pipeit.test";

/// Runs each scenario on SQLite and on PostgreSQL.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let stack = pipeit_testkit::TestStack::start().await;
                    super::$name(&stack).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(stack) = pipeit_testkit::TestStack::start_postgres().await else {
                        assert_eq!(std::env::var("PIPEIT_SKIP_PG").as_deref(), Ok("1"),
                            "set PIPEIT_TEST_PG_URL (scripts/pg-test-cluster start) or PIPEIT_SKIP_PG=1");
                        return;
                    };
                    super::$name(&stack).await;
                }
            )*
        }
    };
}

on_both_backends!(
    business_invoice_life,
    bad_input_corpus_is_refused_and_writes_nothing,
    investor_signs_in_and_sees_position,
    vault_figures_match_the_chain,
    operations_and_openapi,
);

struct Api {
    router: Router,
    state: AppState,
}

fn config() -> ApiConfig {
    ApiConfig {
        siwe_domain: DOMAIN.to_owned(),
        rate_limit_per_minute: NonZeroU32::new(10_000).unwrap(),
        ..ApiConfig::default()
    }
}

fn api(stack: &TestStack) -> Api {
    api_with(stack, config())
}

/// The service's wall clock in these tests: fixed (sign-in messages are issued at it), so no
/// test reads the real one.
fn service_now() -> chrono::DateTime<Utc> {
    chrono::DateTime::from_timestamp(i64::try_from(pipeit_testkit::CHAIN_START).unwrap(), 0)
        .unwrap()
}

fn api_with(stack: &TestStack, config: ApiConfig) -> Api {
    let chain = Chain {
        provider: stack.provider.clone(),
        manifest: stack.manifest.clone(),
    };
    let state = AppState::with_clock(
        stack.db.clone(),
        chain,
        config,
        Clock::fixed(service_now()),
    );
    Api {
        router: app(state.clone()),
        state,
    }
}

struct Reply {
    status: StatusCode,
    body: Value,
    content_type: String,
    request_id: Option<String>,
}

impl Api {
    async fn call(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let has_content_type = headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-type"));
        if body.is_some() && !has_content_type {
            request = request.header("content-type", "application/json");
        }
        let request = request
            .body(body.map_or_else(Body::empty, Body::from))
            .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let request_id = response
            .headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Reply {
            status,
            body,
            content_type,
            request_id,
        }
    }

    async fn get(&self, path: &str, key: &str) -> Reply {
        let auth = format!("Bearer {key}");
        self.call(Method::GET, path, &[("authorization", &auth)], None)
            .await
    }

    async fn post(&self, path: &str, key: &str, body: Value) -> Reply {
        let auth = format!("Bearer {key}");
        self.call(
            Method::POST,
            path,
            &[("authorization", &auth)],
            Some(body.to_string()),
        )
        .await
    }

    async fn submit(&self, key: &str, idempotency_key: &str, body: &Value) -> Reply {
        let auth = format!("Bearer {key}");
        self.call(
            Method::POST,
            "/v1/invoices",
            &[
                ("authorization", &auth),
                ("idempotency-key", idempotency_key),
            ],
            Some(body.to_string()),
        )
        .await
    }
}

/// A business with an API key: (business id, key).
async fn onboard(stack: &TestStack, name: &str) -> (i64, String) {
    let business = stack.db.insert_business(name, Address::ZERO).await.unwrap();
    let (_, secret) = pipeit_api::auth::issue_api_key(&stack.db, business.id)
        .await
        .unwrap();
    (business.id, secret)
}

fn invoice_body(number: &str) -> Value {
    // Dates from the chain's clock (every stack starts at CHAIN_START), never the wall clock's.
    let today = pipeit_testkit::chain_start_date();
    json!({
        "debtor": { "name": "Acme Inc.", "registration_id": "US-12-3456789", "country": "US" },
        "invoice_number": number,
        "currency": "USD",
        "amount": "12500.00",
        "issue_date": (today - Duration::days(3)).to_string(),
        "due_date": (today + Duration::days(45)).to_string(),
    })
}

/// The dev key of `address` (Anvil's public test mnemonic).
fn signer_of(stack: &TestStack, address: Address) -> PrivateKeySigner {
    stack
        .anvil
        .keys()
        .iter()
        .map(|k| PrivateKeySigner::from(k.clone()))
        .find(|s| s.address() == address)
        .expect("a dev key for this address")
}

fn sign(signer: &PrivateKeySigner, message: &str) -> String {
    let signature = signer.sign_message_sync(message.as_bytes()).unwrap();
    format!("0x{}", alloy::hex::encode(signature.as_bytes()))
}

// ------------------------------------------------------------------------------------ business

async fn business_invoice_life(stack: &TestStack) {
    let api = api(stack);
    let (business_id, key) = onboard(stack, "Northwind Ltd").await;
    let (_, other_key) = onboard(stack, "Contoso").await;

    // A quote: priced by pipeit_core::pricing::quote, nothing stored.
    let quote = api.post("/v1/quotes", &key, invoice_body("Q-1")).await;
    assert_eq!(quote.status, StatusCode::OK, "{}", quote.body);
    assert!(quote.body["expires_at"].is_string(), "{}", quote.body);
    assert!(
        quote.body["eth_price_risk"]
            .as_str()
            .unwrap()
            .contains("ETH"),
        "{}",
        quote.body
    );
    assert!(
        quote.body["assessment"]["reasons"].is_array(),
        "{}",
        quote.body
    );
    let terms = &quote.body["terms"];
    assert!(
        terms.is_object(),
        "an ordinary USD invoice is priced: {}",
        quote.body
    );
    let rate: rust_decimal::Decimal = terms["advance_rate"].as_str().unwrap().parse().unwrap();
    assert!(
        rate >= rust_decimal_macros::dec!(0.70) && rate <= rust_decimal_macros::dec!(0.90),
        "{rate}"
    );
    assert_eq!(stack.db.list_invoices(None, None).await.unwrap().len(), 0);

    // Submit; a replay gives the first answer; another body under the same key is a 409.
    let body = invoice_body("INV-100");
    let created = api.submit(&key, "idem-1", &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["status"], "submitted");
    let id = created.body["id"].as_i64().unwrap();
    let replay = api.submit(&key, "idem-1", &body).await;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert_eq!(replay.body, created.body);
    let reuse = api.submit(&key, "idem-1", &invoice_body("INV-101")).await;
    assert_eq!(reuse.status, StatusCode::CONFLICT);
    assert_eq!(reuse.body["errors"][0]["field"], "Idempotency-Key");
    // The same invoice by another business: 409 naming the invoice.
    let duplicate = api.submit(&other_key, "idem-x", &body).await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT, "{}", duplicate.body);
    assert_eq!(duplicate.body["errors"][0]["field"], "invoice");
    assert_eq!(stack.db.list_invoices(None, None).await.unwrap().len(), 1);

    // Read back; another business sees nothing.
    let got = api.get(&format!("/v1/invoices/{id}"), &key).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["debtor"]["country"], "US");
    assert_eq!(got.body["amount"], "12500.00");
    let hidden = api.get(&format!("/v1/invoices/{id}"), &other_key).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let list = api.get("/v1/invoices?limit=10", &key).await;
    assert_eq!(list.body["invoices"].as_array().unwrap().len(), 1);
    assert_eq!(
        api.get("/v1/invoices", &other_key).await.body["invoices"],
        json!([])
    );

    // Withdraw before the advance; then it cannot be withdrawn again.
    let second = api.submit(&key, "idem-2", &invoice_body("INV-102")).await;
    let second_id = second.body["id"].as_i64().unwrap();
    let auth = format!("Bearer {key}");
    let withdrawn = api
        .call(
            Method::DELETE,
            &format!("/v1/invoices/{second_id}"),
            &[("authorization", &auth)],
            None,
        )
        .await;
    assert_eq!(withdrawn.status, StatusCode::OK, "{}", withdrawn.body);
    assert_eq!(withdrawn.body["status"], "withdrawn");
    let again = api
        .call(
            Method::DELETE,
            &format!("/v1/invoices/{second_id}"),
            &[("authorization", &auth)],
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    // Payout address: set only by a message the address signs.
    let payee = stack.businesses[0];
    let challenge = api
        .post(
            "/v1/business/payout-address/challenge",
            &key,
            json!({ "address": payee.to_string() }),
        )
        .await;
    assert_eq!(challenge.status, StatusCode::OK, "{}", challenge.body);
    let message = challenge.body["message"].as_str().unwrap().to_owned();
    let stranger = signer_of(stack, stack.investors[0]);
    let auth = format!("Bearer {key}");
    let refused = api
        .call(
            Method::PUT,
            "/v1/business/payout-address",
            &[("authorization", &auth)],
            Some(json!({ "message": message, "signature": sign(&stranger, &message) }).to_string()),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    assert_eq!(refused.body["errors"][0]["field"], "signature");
    let signed =
        json!({ "message": message, "signature": sign(&signer_of(stack, payee), &message) })
            .to_string();
    let set = api
        .call(
            Method::PUT,
            "/v1/business/payout-address",
            &[("authorization", &auth)],
            Some(signed.clone()),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(set.body["payout_address"], payee.to_checksum(None));
    let replayed = api
        .call(
            Method::PUT,
            "/v1/business/payout-address",
            &[("authorization", &auth)],
            Some(signed),
        )
        .await;
    assert_eq!(
        replayed.status,
        StatusCode::UNAUTHORIZED,
        "a challenge is used once: {}",
        replayed.body
    );
    assert_eq!(
        api.get("/v1/business", &key).await.body["business_id"],
        Value::Null
    );
    assert_eq!(api.get("/v1/business", &key).await.body["id"], business_id);

    // Advance it on-chain (as the keeper would), then the repayment transactions pay it off.
    let invoice = stack.db.invoice(id).await.unwrap().unwrap();
    let principal = U256::from(10u64).pow(U256::from(18u64));
    stack
        .deposit(stack.investors[0], principal * U256::from(5u64))
        .await;
    let due_at = (stack.timestamp().await / 86_400 + 45) * 86_400;
    let request = FactoringVault::AdvanceRequest {
        id: invoice.canonical_id,
        payout: payee,
        principal: principal.to(),
        fee: (principal / U256::from(50u64)).to(),
        dueAt: alloy::primitives::Uint::from(due_at),
        lateFeeBpsPerDay: 10,
    };
    let receipt = send(
        "advance",
        stack.vault().advance(vec![request]).from(stack.keeper),
    )
    .await;
    let not_yet = api.get(&format!("/v1/invoices/{id}/repayment"), &key).await;
    assert_eq!(
        not_yet.status,
        StatusCode::CONFLICT,
        "not advanced in the database yet"
    );
    stack
        .db
        .record_score(&pipeit_db::NewScore {
            invoice_id: id,
            model_version: "test".into(),
            features: json!({}),
            score: 80,
            probability_of_default: rust_decimal_macros::dec!(0.02),
            advance_rate: rust_decimal_macros::dec!(0.8),
            fee_rate: rust_decimal_macros::dec!(0.02),
            accepted: true,
            reasons: json!(["test"]),
        })
        .await
        .unwrap();
    stack
        .db
        .mark_invoice_advanced(id, receipt.transaction_hash)
        .await
        .unwrap();
    let advanced = api.get(&format!("/v1/invoices/{id}"), &key).await;
    assert_eq!(advanced.body["status"], "advanced");
    assert_eq!(
        advanced.body["advance_tx_hash"],
        format!("{:#x}", receipt.transaction_hash)
    );
    assert_eq!(advanced.body["decision"]["score"], 80);

    let repayment = api.get(&format!("/v1/invoices/{id}/repayment"), &key).await;
    assert_eq!(repayment.status, StatusCode::OK, "{}", repayment.body);
    let total: U256 = repayment.body["total_wei"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(total, principal + principal / U256::from(50u64));
    let tx = &repayment.body["pay_with_eth"];
    let value: U256 = tx["value"].as_str().unwrap().parse().unwrap();
    let data: Bytes = tx["data"].as_str().unwrap().parse().unwrap();
    let to: Address = tx["to"].as_str().unwrap().parse().unwrap();
    let request = alloy::rpc::types::TransactionRequest::default()
        .from(payee)
        .to(to)
        .value(value)
        .input(data.into());
    let mined = stack
        .provider
        .send_transaction(request)
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(
        mined.status(),
        "the repayment transaction the API built was mined"
    );
    let owed = stack
        .vault()
        .amountOwed(invoice.canonical_id)
        .call()
        .await
        .unwrap();
    assert_eq!(
        owed._3,
        U256::ZERO,
        "repaid in full by the API's transaction"
    );
}

// ------------------------------------------------------------------------------ bad input

/// Who a corpus case calls as.
#[derive(Clone, Copy)]
enum Caller {
    Business,
    Other,
    Revoked,
    Garbage,
    NoKey,
}

struct Case {
    name: &'static str,
    method: Method,
    path: String,
    caller: Caller,
    headers: Vec<(&'static str, String)>,
    body: Option<String>,
    status: u16,
    field: &'static str,
}

fn case(name: &'static str, body: Value, field: &'static str) -> Case {
    Case {
        name,
        method: Method::POST,
        path: "/v1/invoices".into(),
        caller: Caller::Business,
        headers: vec![("idempotency-key", format!("corpus-{name}"))],
        body: Some(body.to_string()),
        status: 422,
        field,
    }
}

fn with(mut body: Value, path: &[&str], value: Value) -> Value {
    let mut at = &mut body;
    for key in &path[..path.len() - 1] {
        at = &mut at[*key];
    }
    at[path[path.len() - 1]] = value;
    body
}

fn without(mut body: Value, key: &str) -> Value {
    body.as_object_mut().unwrap().remove(key);
    body
}

async fn bad_input_corpus_is_refused_and_writes_nothing(stack: &TestStack) {
    let api = api(stack);
    let (_, key) = onboard(stack, "Northwind Ltd").await;
    let (_, other_key) = onboard(stack, "Contoso").await;
    let (revoked_id, revoked_key) = {
        let business = stack
            .db
            .insert_business("Gone", Address::ZERO)
            .await
            .unwrap();
        let (stored, secret) = pipeit_api::auth::issue_api_key(&stack.db, business.id)
            .await
            .unwrap();
        stack.db.revoke_api_key(stored.id).await.unwrap();
        (business.id, secret)
    };
    assert!(revoked_id > 0);
    let existing = api.submit(&key, "existing", &invoice_body("INV-1")).await;
    let existing_id = existing.body["id"].as_i64().unwrap();
    let today = stack.today().await;
    let ok = invoice_body("INV-2");

    let mut cases = vec![
        // Types and shapes.
        Case {
            status: 400,
            ..case(
                "amount as number",
                with(ok.clone(), &["amount"], json!(12500.5)),
                "amount",
            )
        },
        case(
            "amount negative",
            with(ok.clone(), &["amount"], json!("-1")),
            "amount",
        ),
        case(
            "amount zero",
            with(ok.clone(), &["amount"], json!("0")),
            "amount",
        ),
        case(
            "amount exponent",
            with(ok.clone(), &["amount"], json!("1e5")),
            "amount",
        ),
        case(
            "amount comma",
            with(ok.clone(), &["amount"], json!("12,500.00")),
            "amount",
        ),
        case(
            "amount too precise for USD",
            with(ok.clone(), &["amount"], json!("1.001")),
            "amount",
        ),
        case(
            "amount huge",
            with(
                ok.clone(),
                &["amount"],
                json!("99999999999999999999999999999999"),
            ),
            "amount",
        ),
        case(
            "amount empty",
            with(ok.clone(), &["amount"], json!("")),
            "amount",
        ),
        case(
            "currency unknown",
            with(ok.clone(), &["currency"], json!("XYZ")),
            "currency",
        ),
        case(
            "currency lowercase junk",
            with(ok.clone(), &["currency"], json!("dollars")),
            "currency",
        ),
        Case {
            status: 400,
            ..case(
                "currency number",
                with(ok.clone(), &["currency"], json!(840)),
                "currency",
            )
        },
        case(
            "country unknown",
            with(ok.clone(), &["debtor", "country"], json!("ZZ")),
            "debtor.country",
        ),
        case(
            "country long",
            with(ok.clone(), &["debtor", "country"], json!("USA")),
            "debtor.country",
        ),
        case(
            "debtor name empty",
            with(ok.clone(), &["debtor", "name"], json!("   ")),
            "debtor.name",
        ),
        case(
            "debtor name too long",
            with(ok.clone(), &["debtor", "name"], json!("x".repeat(201))),
            "debtor.name",
        ),
        case(
            "debtor name control char",
            with(ok.clone(), &["debtor", "name"], json!("Acme\u{0007}")),
            "debtor.name",
        ),
        case(
            "registration id punctuation only",
            with(ok.clone(), &["debtor", "registration_id"], json!("--..")),
            "debtor.registration_id",
        ),
        case(
            "invoice number unicode control",
            with(ok.clone(), &["invoice_number"], json!("INV\u{202e}1")),
            "invoice_number",
        ),
        case(
            "invoice number too long",
            with(ok.clone(), &["invoice_number"], json!("9".repeat(65))),
            "invoice_number",
        ),
        case(
            "issue date format",
            with(ok.clone(), &["issue_date"], json!("01/11/2026")),
            "issue_date",
        ),
        case(
            "issue date impossible",
            with(ok.clone(), &["issue_date"], json!("2026-02-30")),
            "issue_date",
        ),
        case(
            "issue date future",
            with(
                ok.clone(),
                &["issue_date"],
                json!((today + Duration::days(2)).to_string()),
            ),
            "issue_date",
        ),
        case(
            "due date past",
            with(
                ok.clone(),
                &["due_date"],
                json!((today - Duration::days(1)).to_string()),
            ),
            "due_date",
        ),
        case(
            "due date today",
            with(ok.clone(), &["due_date"], json!(today.to_string())),
            "due_date",
        ),
        case(
            "document hash short",
            with(ok.clone(), &["document_hash"], json!("0x1234")),
            "document_hash",
        ),
        case(
            "document hash zero",
            with(
                ok.clone(),
                &["document_hash"],
                json!(format!("0x{}", "0".repeat(64))),
            ),
            "document_hash",
        ),
        // Missing / unknown fields: 400 naming them.
        Case {
            status: 400,
            ..case("missing amount", without(ok.clone(), "amount"), "amount")
        },
        Case {
            status: 400,
            ..case("missing debtor", without(ok.clone(), "debtor"), "debtor")
        },
        Case {
            status: 400,
            ..case(
                "missing debtor country",
                json!({"debtor": {"name": "A", "registration_id": "1"}, "invoice_number": "1", "currency": "USD", "amount": "1", "issue_date": "2026-01-01", "due_date": "2027-01-01"}),
                "debtor.country",
            )
        },
        Case {
            status: 400,
            ..case(
                "unknown field",
                with(ok.clone(), &["discount"], json!("5")),
                "discount",
            )
        },
        Case {
            status: 400,
            ..case(
                "debtor not an object",
                with(ok.clone(), &["debtor"], json!("Acme")),
                "debtor",
            )
        },
        Case {
            status: 400,
            ..case("not json", json!(null), "body")
        },
        // Headers and sizes.
        Case {
            headers: vec![],
            status: 400,
            ..case("no idempotency key", ok.clone(), "Idempotency-Key")
        },
        Case {
            headers: vec![("idempotency-key", "k".repeat(256))],
            status: 400,
            ..case("idempotency key too long", ok.clone(), "Idempotency-Key")
        },
        Case {
            headers: vec![
                ("idempotency-key", "k".into()),
                ("content-type", "text/plain".into()),
            ],
            status: 415,
            ..case("not json content type", ok.clone(), "Content-Type")
        },
        Case {
            status: 413,
            ..case(
                "body too large",
                with(
                    ok.clone(),
                    &["debtor", "name"],
                    json!("x".repeat(70 * 1024)),
                ),
                "body",
            )
        },
        // Duplicates and idempotency conflicts.
        Case {
            status: 409,
            ..case("same invoice again", invoice_body("INV-1"), "invoice")
        },
        Case {
            headers: vec![("idempotency-key", "existing".into())],
            status: 409,
            ..case("idempotency key reused", ok.clone(), "Idempotency-Key")
        },
        // Keys.
        Case {
            caller: Caller::NoKey,
            status: 401,
            ..case("no key", ok.clone(), "Authorization")
        },
        Case {
            caller: Caller::Garbage,
            status: 401,
            ..case("invalid key", ok.clone(), "Authorization")
        },
        Case {
            caller: Caller::Revoked,
            status: 401,
            ..case("revoked key", ok.clone(), "Authorization")
        },
        // Another business's invoice: not found, whatever the verb.
        Case {
            method: Method::GET,
            path: format!("/v1/invoices/{existing_id}"),
            caller: Caller::Other,
            body: None,
            status: 404,
            ..case("other business get", json!(null), "none")
        },
        Case {
            method: Method::DELETE,
            path: format!("/v1/invoices/{existing_id}"),
            caller: Caller::Other,
            body: None,
            status: 404,
            ..case("other business delete", json!(null), "none")
        },
        Case {
            method: Method::GET,
            path: format!("/v1/invoices/{existing_id}/repayment"),
            caller: Caller::Other,
            body: None,
            status: 404,
            ..case("other business repayment", json!(null), "none")
        },
        Case {
            method: Method::GET,
            path: "/v1/invoices/abc".into(),
            body: None,
            status: 400,
            ..case("non-numeric id", json!(null), "none")
        },
        Case {
            method: Method::GET,
            path: "/v1/invoices?limit=0".into(),
            body: None,
            status: 422,
            ..case("limit zero", json!(null), "limit")
        },
        Case {
            method: Method::GET,
            path: "/v1/invoices?limit=ten".into(),
            body: None,
            status: 400,
            ..case("limit not a number", json!(null), "limit")
        },
        Case {
            method: Method::GET,
            path: "/v1/invoices?sort=asc".into(),
            body: None,
            status: 400,
            ..case("unknown query parameter", json!(null), "sort")
        },
        Case {
            method: Method::GET,
            path: "/v1/vault/history?from=10&to=5".into(),
            caller: Caller::NoKey,
            body: None,
            status: 422,
            ..case("history from after to", json!(null), "from")
        },
        // Payout address.
        Case {
            path: "/v1/business/payout-address/challenge".into(),
            status: 422,
            ..case(
                "payout zero address",
                json!({"address": Address::ZERO.to_string()}),
                "address",
            )
        },
        Case {
            path: "/v1/business/payout-address/challenge".into(),
            status: 422,
            ..case("payout bad address", json!({"address": "0x12"}), "address")
        },
        Case {
            method: Method::PUT,
            path: "/v1/business/payout-address".into(),
            status: 422,
            ..case(
                "payout forged message",
                json!({"message": "pay me", "signature": "0x00"}),
                "message",
            )
        },
        // Investor endpoints without a session.
        Case {
            method: Method::GET,
            path: "/v1/investor/position".into(),
            caller: Caller::Business,
            body: None,
            status: 401,
            ..case("business key as session", json!(null), "Authorization")
        },
        Case {
            method: Method::POST,
            path: "/v1/investor/transactions/deposit".into(),
            caller: Caller::NoKey,
            status: 401,
            ..case(
                "deposit without session",
                json!({"assets_wei": "1"}),
                "Authorization",
            )
        },
    ];
    // Every case is a POST to /v1/invoices unless it says otherwise; a JSON null body is "not JSON"
    // only for that case.
    for c in &mut cases {
        if c.name == "not json" {
            c.body = Some("{\"debtor\": ".into());
        }
    }
    assert!(cases.len() >= 40, "{} cases", cases.len());

    let before = stack.db.row_counts().await.unwrap();
    for c in cases {
        let auth = match c.caller {
            Caller::Business => Some(format!("Bearer {key}")),
            Caller::Other => Some(format!("Bearer {other_key}")),
            Caller::Revoked => Some(format!("Bearer {revoked_key}")),
            Caller::Garbage => Some("Bearer pk_0000_nonsense".to_owned()),
            Caller::NoKey => None,
        };
        let mut headers: Vec<(&str, &str)> =
            c.headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        if let Some(auth) = &auth {
            headers.push(("authorization", auth));
        }
        let reply = api
            .call(c.method.clone(), &c.path, &headers, c.body.clone())
            .await;
        assert_eq!(
            reply.status.as_u16(),
            c.status,
            "{}: {}",
            c.name,
            reply.body
        );
        assert_eq!(reply.content_type, "application/problem+json", "{}", c.name);
        assert_eq!(reply.body["status"], c.status, "{}", c.name);
        if c.field != "none" {
            let fields: Vec<&str> = reply.body["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["field"].as_str().unwrap())
                .collect();
            assert!(
                fields.contains(&c.field),
                "{}: expected field {}, got {fields:?} ({})",
                c.name,
                c.field,
                reply.body
            );
        }
    }
    assert_eq!(
        stack.db.row_counts().await.unwrap(),
        before,
        "a refused request wrote nothing"
    );
}

// ------------------------------------------------------------------------------ investors

fn siwe_message(
    address: Address,
    nonce: &str,
    chain_id: u64,
    domain: &str,
    issued: chrono::DateTime<Utc>,
) -> String {
    format!(
        "{domain} wants you to sign in with your Ethereum account:\n{}\n\nSign in to pipeit.\n\nURI: https://{domain}\nVersion: 1\nChain ID: {chain_id}\nNonce: {nonce}\nIssued At: {}",
        address.to_checksum(None),
        issued.format("%Y-%m-%dT%H:%M:%SZ"),
    )
}

async fn sign_in(api: &Api, signer: &PrivateKeySigner, chain_id: u64, domain: &str) -> Reply {
    let nonce = api.call(Method::POST, "/v1/auth/nonce", &[], None).await;
    let nonce = nonce.body["nonce"].as_str().unwrap().to_owned();
    let message = siwe_message(signer.address(), &nonce, chain_id, domain, service_now());
    let body = json!({ "message": message, "signature": sign(signer, &message) });
    api.call(Method::POST, "/v1/auth/siwe", &[], Some(body.to_string()))
        .await
}

async fn investor_signs_in_and_sees_position(stack: &TestStack) {
    let api = api(stack);
    let investor = stack.investors[1];
    let signer = signer_of(stack, investor);
    let chain_id = stack.manifest.chain_id;

    // Refusals: wrong domain, wrong chain, expired, bad signature, reused nonce.
    let wrong_domain = sign_in(&api, &signer, chain_id, "evil.example").await;
    assert_eq!(wrong_domain.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_domain.body["errors"][0]["field"], "message.domain");
    let wrong_chain = sign_in(&api, &signer, 1, DOMAIN).await;
    assert_eq!(wrong_chain.body["errors"][0]["field"], "message.chain_id");
    let nonce = api
        .call(Method::POST, "/v1/auth/nonce", &[], None)
        .await
        .body["nonce"]
        .as_str()
        .unwrap()
        .to_owned();
    let old = siwe_message(
        investor,
        &nonce,
        chain_id,
        DOMAIN,
        service_now() - Duration::hours(2),
    );
    let expired = api
        .call(
            Method::POST,
            "/v1/auth/siwe",
            &[],
            Some(json!({ "message": old, "signature": sign(&signer, &old) }).to_string()),
        )
        .await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert_eq!(expired.body["errors"][0]["field"], "message.issued_at");
    let message = siwe_message(investor, &nonce, chain_id, DOMAIN, service_now());
    let stranger = signer_of(stack, stack.investors[0]);
    let forged = api
        .call(
            Method::POST,
            "/v1/auth/siwe",
            &[],
            Some(json!({ "message": message, "signature": sign(&stranger, &message) }).to_string()),
        )
        .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    assert_eq!(forged.body["errors"][0]["field"], "signature");
    let good = json!({ "message": message, "signature": sign(&signer, &message) }).to_string();
    let session = api
        .call(Method::POST, "/v1/auth/siwe", &[], Some(good.clone()))
        .await;
    assert_eq!(session.status, StatusCode::OK, "{}", session.body);
    let reused = api
        .call(Method::POST, "/v1/auth/siwe", &[], Some(good))
        .await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reused.body["errors"][0]["field"], "message.nonce");
    let token = session.body["token"].as_str().unwrap().to_owned();
    assert_eq!(session.body["address"], investor.to_checksum(None));

    // A deposit built by the API, signed and sent by the investor's wallet.
    let one_eth = U256::from(10u64).pow(U256::from(18u64));
    let tx = api
        .post(
            "/v1/investor/transactions/deposit",
            &token,
            json!({ "assets_wei": (one_eth * U256::from(2u64)).to_string() }),
        )
        .await;
    assert_eq!(tx.status, StatusCode::OK, "{}", tx.body);
    // With a gas limit above the node's estimate for this wallet: estimate + 25 % + 30k.
    let gas: u64 = tx.body["gas"].as_str().unwrap().parse().unwrap();
    let estimate = stack
        .provider
        .estimate_gas(
            alloy::rpc::types::TransactionRequest::default()
                .from(investor)
                .to(stack.manifest.contracts.vault)
                .value(one_eth * U256::from(2u64))
                .input(tx.body["data"].as_str().unwrap().parse::<Bytes>().unwrap().into()),
        )
        .await
        .unwrap();
    assert_eq!(gas, pipeit_api::tx::gas_with_margin(estimate));
    send_built(stack, investor, &tx.body).await;
    let shares = stack.vault().balanceOf(investor).call().await.unwrap();
    assert!(shares > U256::ZERO);

    // Request part of it to the queue, through the API's transaction too.
    let queued = shares / U256::from(4u64);
    let request = api
        .post(
            "/v1/investor/transactions/request-redeem",
            &token,
            json!({ "shares": queued.to_string() }),
        )
        .await;
    assert_eq!(request.status, StatusCode::OK, "{}", request.body);
    send_built(stack, investor, &request.body).await;
    let too_many = api
        .post(
            "/v1/investor/transactions/redeem",
            &token,
            json!({ "shares": (shares * U256::from(2u64)).to_string() }),
        )
        .await;
    assert_eq!(too_many.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(too_many.body["errors"][0]["field"], "shares");

    index(stack).await;
    let position = api.get("/v1/investor/position", &token).await;
    assert_eq!(position.status, StatusCode::OK, "{}", position.body);
    assert_eq!(position.body["shares"], (shares - queued).to_string());
    assert_eq!(position.body["queued_shares"], queued.to_string());
    let value: U256 = position.body["value_wei"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let expected = stack.vault().convertToAssets(shares).call().await.unwrap();
    assert_eq!(value, expected, "held + queued shares valued by the vault");
    assert_eq!(
        position.body["cost_basis_wei"],
        (one_eth * U256::from(2u64)).to_string(),
        "nothing realised yet"
    );
    assert!(position.body["value_usd"].is_string(), "{}", position.body);

    let history = api.get("/v1/investor/history", &token).await;
    let kinds: Vec<&str> = history
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["Deposit", "RedeemRequested"], "{}", history.body);
    assert!(history.body[0]["eth_usd"].is_string());

    // Tax reports through the same writers as `pipeit tax`, streamed as CSV.
    let year = stack.now().await.format("%Y").to_string();
    let csv = api
        .get(
            &format!("/v1/investor/tax?year={year}&format=koinly"),
            &token,
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    assert!(
        csv.content_type.starts_with("text/csv"),
        "{}",
        csv.content_type
    );
    let text = csv.body.as_str().unwrap();
    assert!(text.starts_with("Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,Net Worth Amount,Net Worth Currency,Label,Description,TxHash"), "{text}");
    assert!(text.lines().count() >= 2, "the deposit is in it: {text}");
    let last_year = (stack.now().await.year() - 1).to_string();
    let empty = api
        .get(&format!("/v1/investor/tax?year={last_year}"), &token)
        .await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(
        empty.body.as_str().unwrap().lines().count(),
        1,
        "a year without activity: the header only"
    );
    for (query, field) in [
        ("year=2999", "year"),
        ("year=2026&method=average", "method"),
        ("year=2026&format=pdf", "format"),
        ("year=2026&tz=Mars/Olympus", "tz"),
    ] {
        let refused = api.get(&format!("/v1/investor/tax?{query}"), &token).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            refused.body
        );
        assert_eq!(refused.body["errors"][0]["field"], field, "{query}");
    }
    let statement = api
        .call(
            Method::GET,
            &format!("/v1/vault/income-statement?year={year}"),
            &[],
            None,
        )
        .await;
    assert_eq!(statement.status, StatusCode::OK, "{}", statement.body);
    assert!(statement.content_type.starts_with("text/csv"));
}

/// Sends a transaction the API built, from `from`.
/// Sends a transaction the API built, as a wallet would: with the API's gas limit when it gives one.
async fn send_built(stack: &TestStack, from: Address, tx: &Value) {
    let mut request = alloy::rpc::types::TransactionRequest::default()
        .from(from)
        .to(tx["to"].as_str().unwrap().parse::<Address>().unwrap())
        .value(tx["value"].as_str().unwrap().parse::<U256>().unwrap())
        .input(
            tx["data"]
                .as_str()
                .unwrap()
                .parse::<Bytes>()
                .unwrap()
                .into(),
        );
    if let Some(gas) = tx["gas"].as_str() {
        request = request.gas_limit(gas.parse().unwrap());
    }
    let receipt = stack
        .provider
        .send_transaction(request)
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status(), "{}", tx["description"]);
}

async fn index(stack: &TestStack) {
    let config = pipeit_indexer::IndexerConfig {
        confirmations: 0,
        ..Default::default()
    };
    let mut indexer = pipeit_indexer::Indexer::new(
        stack.db.clone(),
        stack.provider.clone(),
        stack.manifest.clone(),
        config,
    );
    indexer.sync_once().await.unwrap();
}

// ------------------------------------------------------------------------------ vault, ops

async fn vault_figures_match_the_chain(stack: &TestStack) {
    let api = api(stack);
    let one_eth = U256::from(10u64).pow(U256::from(18u64));
    stack
        .deposit(stack.investors[0], one_eth * U256::from(3u64))
        .await;
    stack
        .advance(
            stack.businesses[0],
            one_eth,
            one_eth / U256::from(100u64),
            30,
        )
        .await;
    index(stack).await;
    let reply = api.call(Method::GET, "/v1/vault", &[], None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let v = &reply.body;
    let block = alloy::eips::BlockId::number(v["block_number"].as_u64().unwrap());
    let vault = stack.vault();
    assert_eq!(
        v["total_assets_wei"],
        vault
            .totalAssets()
            .block(block)
            .call()
            .await
            .unwrap()
            .to_string()
    );
    assert_eq!(
        v["total_supply"],
        vault
            .totalSupply()
            .block(block)
            .call()
            .await
            .unwrap()
            .to_string()
    );
    assert_eq!(v["principal_outstanding_wei"], one_eth.to_string());
    let utilisation: rust_decimal::Decimal = v["utilisation"].as_str().unwrap().parse().unwrap();
    assert!(
        utilisation > rust_decimal_macros::dec!(0.3)
            && utilisation < rust_decimal_macros::dec!(0.34),
        "{utilisation}"
    );
    assert_eq!(v["allocations"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["queue_length"], 0);
    assert!(v["eth_usd"].is_string(), "{v}");
    assert_eq!(v["apy_7d"], Value::Null, "no week of history yet");

    let history = api
        .call(Method::GET, "/v1/vault/history?from=0", &[], None)
        .await;
    assert_eq!(history.status, StatusCode::OK);
    assert!(
        !history.body.as_array().unwrap().is_empty(),
        "the indexer's share prices"
    );
}

async fn operations_and_openapi(stack: &TestStack) {
    let api = api(stack);
    let health = api.call(Method::GET, "/healthz", &[], None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert!(
        health.request_id.is_some(),
        "every response carries a request id"
    );
    let given = api
        .call(
            Method::GET,
            "/healthz",
            &[("x-request-id", "abc-123")],
            None,
        )
        .await;
    assert_eq!(
        given.request_id.as_deref(),
        Some("abc-123"),
        "a caller's request id is kept"
    );
    assert_eq!(
        api.call(Method::GET, "/readyz", &[], None).await.status,
        StatusCode::OK
    );
    let missing = api.call(Method::GET, "/nope", &[], None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.content_type, "application/problem+json");
    let wrong_method = api.call(Method::PATCH, "/v1/vault", &[], None).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);

    let metrics = api.call(Method::GET, "/metrics", &[], None).await;
    let text = metrics.body.as_str().unwrap();
    assert!(
        text.contains(
            "pipeit_api_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"
        ),
        "{text}"
    );

    // The rate limit: a tiny quota, then 429.
    let tight = api_with(
        stack,
        ApiConfig {
            rate_limit_per_minute: NonZeroU32::new(2).unwrap(),
            ..config()
        },
    );
    let (_, key) = onboard(stack, "Busy").await;
    let statuses: Vec<u16> = futures_statuses(&tight, &key, 3).await;
    assert_eq!(statuses, [200, 200, 429]);
    let _ = &tight.state;

    // The OpenAPI document: valid structure, every route of the router in it and answered.
    let doc = api.call(Method::GET, "/openapi.json", &[], None).await.body;
    assert_eq!(
        doc["openapi"].as_str().unwrap().split('.').next(),
        Some("3")
    );
    check_refs(&doc, &doc);
    let paths = doc["paths"].as_object().unwrap();
    for expected in [
        "/v1/quotes",
        "/v1/invoices",
        "/v1/invoices/{id}",
        "/v1/invoices/{id}/repayment",
        "/v1/business",
        "/v1/business/payout-address/challenge",
        "/v1/business/payout-address",
        "/v1/auth/nonce",
        "/v1/auth/siwe",
        "/v1/investor/position",
        "/v1/investor/history",
        "/v1/investor/transactions/deposit",
        "/v1/investor/transactions/redeem",
        "/v1/investor/transactions/request-redeem",
        "/v1/vault",
        "/v1/vault/history",
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
    ] {
        assert!(
            paths.contains_key(expected),
            "{expected} missing from the document"
        );
    }
    // Every documented operation exists in the router (no 404 "route" and no 405).
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let concrete = path.replace("{id}", "1");
            let reply = api.call(method.clone(), &concrete, &[], None).await;
            assert_ne!(
                reply.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            let unrouted =
                reply.status == StatusCode::NOT_FOUND && reply.body["detail"] == "route not found";
            assert!(!unrouted, "{method} {path} is documented but not routed");
            let op = &item[method.as_str().to_lowercase()];
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path} has responses"
            );
        }
    }
    assert_eq!(paths.len(), pipeit_api::openapi().paths.paths.len());
}

async fn futures_statuses(api: &Api, key: &str, n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(api.get("/v1/business", key).await.status.as_u16());
    }
    out
}

/// Every `$ref` in the document points at a component that exists.
fn check_refs(node: &Value, doc: &Value) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                let pointer = target.strip_prefix('#').expect("local refs only");
                assert!(doc.pointer(pointer).is_some(), "dangling $ref {target}");
            }
            map.values().for_each(|v| check_refs(v, doc));
        }
        Value::Array(items) => items.iter().for_each(|v| check_refs(v, doc)),
        _ => {}
    }
}

// ------------------------------------------------------------------------------ EIP-1271

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contract_wallet_signs_in_with_eip1271() {
    let stack = TestStack::start().await;
    let api = api(&stack);
    let owner = signer_of(&stack, stack.investors[2]);
    let wallet = pipeit_chain::bindings::DevSmartWallet::deploy(&stack.provider, owner.address())
        .await
        .unwrap();
    let wallet = *wallet.address();
    let chain_id = stack.manifest.chain_id;

    let sign_in_as = |signer: PrivateKeySigner| {
        let api = &api;
        async move {
            let nonce = api
                .call(Method::POST, "/v1/auth/nonce", &[], None)
                .await
                .body["nonce"]
                .as_str()
                .unwrap()
                .to_owned();
            let message = siwe_message(wallet, &nonce, chain_id, DOMAIN, service_now());
            let body = json!({ "message": message, "signature": sign(&signer, &message) });
            api.call(Method::POST, "/v1/auth/siwe", &[], Some(body.to_string()))
                .await
        }
    };
    let stranger = sign_in_as(signer_of(&stack, stack.investors[0])).await;
    assert_eq!(
        stranger.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        stranger.body
    );
    let session = sign_in_as(owner).await;
    assert_eq!(session.status, StatusCode::OK, "{}", session.body);
    assert_eq!(
        session.body["address"],
        wallet.to_checksum(None),
        "the session is the wallet's, not its owner's"
    );
}

// ------------------------------------------------------------------------------ real socket

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_over_a_real_socket_and_shuts_down_gracefully() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let stack = TestStack::start().await;
    let api = api(&stack);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(pipeit_api::serve(listener, api.state.clone(), async {
        let _ = stopped.await;
    }));
    let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
    socket
        .write_all(b"GET /v1/vault HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    socket.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.to_lowercase().contains("x-request-id:"),
        "{response}"
    );
    assert!(response.contains("\"total_assets_wei\""), "{response}");
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
