//! Signal sources against real things: Token Metrics' documented response shapes served by a local
//! HTTP server (nothing reaches the network), a real database, real files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy::primitives::{Address, B256, U256};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use pipeit_db::{BlockBatch, BlockRecord, ChainContract, Db, EthUsdPrice};
use pipeit_keeper::signals::{
    ApiKey, FileSignal, OnBox, SignalError, SignalSource, TokenMetrics, TokenMetricsConfig,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::{json, Value};

const KEY: &str = "tm-test-key-0123";

/// How the fake API behaves.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// The documented shapes, upper-case field names.
    Documented,
    /// The same with lower-case field names.
    LowerCase,
    /// 429 (Retry-After: 0) for the first two calls of each endpoint, then the documented shape.
    RateLimitedTwice,
    /// 503 always.
    Down,
}

#[derive(Clone)]
struct Fake {
    mode: Mode,
    calls: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<(String, String)>>>,
}

fn documented(path: &str) -> Value {
    // The envelope and fields as Token Metrics documents them for /v2 (token 3306 = Ethereum).
    let data = match path {
        "trading-signals" => json!([{
            "TOKEN_ID": 3306, "TOKEN_NAME": "Ethereum", "TOKEN_SYMBOL": "ETH", "DATE": "2026-05-01",
            "TRADING_SIGNAL": -1, "TOKEN_TREND": -1, "TRADING_SIGNALS_RETURNS": 12.41,
            "HOLDING_RETURNS": 3.2, "TM_LINK": "ethereum", "TM_TRADER_GRADE": 31.07,
            "TM_INVESTOR_GRADE": 64.5
        }]),
        "trader-grades" => json!([{
            "TOKEN_ID": 3306, "TOKEN_NAME": "Ethereum", "TOKEN_SYMBOL": "ETH", "DATE": "2026-05-01",
            "TM_TRADER_GRADE": 31.07, "TA_GRADE": 28.4, "QUANT_GRADE": 40.1,
            "TM_TRADER_GRADE_24H_PCT_CHANGE": -4.2
        }]),
        _ => json!([{
            "TOKEN_ID": 3306, "TOKEN_NAME": "Ethereum", "TOKEN_SYMBOL": "ETH", "CURRENT_PRICE": 2487.61
        }]),
    };
    json!({"success": true, "message": "Data fetched successfully", "length": 1, "data": data})
}

fn lower(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), lower(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(lower).collect()),
        other => other.clone(),
    }
}

async fn endpoint(
    path: &'static str,
    State(fake): State<Fake>,
    headers: HeaderMap,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let n = fake.calls.fetch_add(1, Ordering::SeqCst);
    let key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    fake.seen
        .lock()
        .unwrap()
        .push((path.to_owned(), key.clone()));
    if key != KEY {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"success": false, "message": "Invalid API key"})),
        )
            .into_response();
    }
    if query.get("token_id").map(String::as_str) != Some("3306") {
        return (StatusCode::BAD_REQUEST, "token_id missing").into_response();
    }
    match fake.mode {
        Mode::Down => (StatusCode::SERVICE_UNAVAILABLE, "maintenance").into_response(),
        Mode::RateLimitedTwice
            if fake
                .seen
                .lock()
                .unwrap()
                .iter()
                .filter(|(p, _)| p == path)
                .count()
                <= 2 =>
        {
            let _ = n;
            (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "0")],
                Json(json!({"success": false, "message": "Too many requests"})),
            )
                .into_response()
        }
        Mode::LowerCase => Json(lower(&documented(path))).into_response(),
        _ => Json(documented(path)).into_response(),
    }
}

async fn serve(mode: Mode) -> (String, Fake) {
    let fake = Fake {
        mode,
        calls: Arc::default(),
        seen: Arc::default(),
    };
    let app = Router::new()
        .route(
            "/v2/trading-signals",
            get(|s, h, q| endpoint("trading-signals", s, h, q)),
        )
        .route(
            "/v2/trader-grades",
            get(|s, h, q| endpoint("trader-grades", s, h, q)),
        )
        .route("/v2/price", get(|s, h, q| endpoint("price", s, h, q)))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), fake)
}

/// A fixed "now" (tests never read the wall clock for dates: the daily budget is per date).
fn clock() -> chrono::DateTime<Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-12-31T23:59:30Z")
        .unwrap()
        .with_timezone(&Utc)
}

async fn fresh_db() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("k.db").display());
    let db = Db::connect(&url).await.unwrap();
    (dir, db)
}

fn config(base: &str, key: &str) -> TokenMetricsConfig {
    let mut c = TokenMetricsConfig::new(ApiKey::new(key).unwrap());
    c.base_url = base.to_owned();
    c.initial_backoff = Duration::from_millis(10);
    c.attempts = 4;
    c
}

#[tokio::test]
async fn documented_shapes_give_a_signal_and_the_cache_saves_calls() {
    let (base, fake) = serve(Mode::Documented).await;
    let (_dir, db) = fresh_db().await;
    let tm = TokenMetrics::new(config(&base, KEY), db.clone()).unwrap();
    let signal = tm.fetch(clock()).await.unwrap();
    // trend = 0.6 * -1 + 0.4 * (31.07 - 50) / 50 = -0.75144; risk = 0.7 * 0.6893 + 0.3 = 0.78251.
    assert_eq!(signal.trend, dec!(-0.7514));
    assert_eq!(signal.risk, dec!(0.7825));
    assert_eq!(signal.source, "token_metrics");
    assert!(signal.summary.contains("2487.61"), "{}", signal.summary);
    assert_eq!(fake.calls.load(Ordering::SeqCst), 3);
    assert!(fake.seen.lock().unwrap().iter().all(|(_, k)| k == KEY));
    // Within the cache's lifetime: no call at all.
    let again = tm.fetch(clock()).await.unwrap();
    assert_eq!(again.trend, signal.trend);
    assert_eq!(fake.calls.load(Ordering::SeqCst), 3);
    assert_eq!(tm.calls_today(clock()).await.unwrap(), 3);
}

#[tokio::test]
async fn lower_case_field_names_read_the_same() {
    let (base, _) = serve(Mode::LowerCase).await;
    let (_dir, db) = fresh_db().await;
    let tm = TokenMetrics::new(config(&base, KEY), db).unwrap();
    let signal = tm.fetch(clock()).await.unwrap();
    assert_eq!((signal.trend, signal.risk), (dec!(-0.7514), dec!(0.7825)));
}

#[tokio::test]
async fn a_rejected_key_is_fatal_and_never_shown() {
    let (base, fake) = serve(Mode::Documented).await;
    let (_dir, db) = fresh_db().await;
    let tm = TokenMetrics::new(config(&base, "tm-wrong-key-9876"), db).unwrap();
    let err = tm.fetch(clock()).await.unwrap_err();
    assert!(
        matches!(err, SignalError::Unauthorized { status: 401 }),
        "{err}"
    );
    assert!(err.is_fatal());
    let message = err.to_string();
    assert!(
        message.contains("PIPEIT_TOKEN_METRICS_API_KEY"),
        "{message}"
    );
    assert!(!message.contains("wrong-key"), "{message}");
    assert_eq!(fake.calls.load(Ordering::SeqCst), 1, "no retry on 401");
}

#[tokio::test]
async fn rate_limits_are_retried() {
    let (base, fake) = serve(Mode::RateLimitedTwice).await;
    let (_dir, db) = fresh_db().await;
    let tm = TokenMetrics::new(config(&base, KEY), db).unwrap();
    let signal = tm.fetch(clock()).await.unwrap();
    assert_eq!(signal.trend, dec!(-0.7514));
    assert_eq!(
        fake.calls.load(Ordering::SeqCst),
        9,
        "three tries per endpoint"
    );
}

#[tokio::test]
async fn a_server_that_stays_down_is_an_error_after_the_attempts() {
    let (base, fake) = serve(Mode::Down).await;
    let (_dir, db) = fresh_db().await;
    let tm = TokenMetrics::new(config(&base, KEY), db).unwrap();
    let err = tm.fetch(clock()).await.unwrap_err();
    assert!(
        matches!(
            &err,
            SignalError::Http {
                status: 503,
                attempts: 4,
                ..
            }
        ),
        "{err}"
    );
    assert!(!err.is_fatal());
    assert_eq!(fake.calls.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn past_the_budget_a_stale_answer_is_used_and_nothing_is_called() {
    let (base, fake) = serve(Mode::Documented).await;
    let (_dir, db) = fresh_db().await;
    let mut c = config(&base, KEY);
    c.daily_budget = 3;
    c.cache_ttl = Duration::ZERO;
    let tm = TokenMetrics::new(c.clone(), db.clone()).unwrap();
    tm.fetch(clock()).await.unwrap();
    assert_eq!(fake.calls.load(Ordering::SeqCst), 3);
    let stale = tm.fetch(clock()).await.unwrap();
    assert_eq!(stale.trend, dec!(-0.7514));
    assert_eq!(fake.calls.load(Ordering::SeqCst), 3, "over budget: no call");

    // A fresh database with no budget left and nothing cached: a clear error.
    let (_dir2, db2) = fresh_db().await;
    c.daily_budget = 0;
    let tm = TokenMetrics::new(c, db2).unwrap();
    let err = tm.fetch(clock()).await.unwrap_err();
    assert!(
        matches!(err, SignalError::QuotaExhausted { budget: 0, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn file_signal_is_read_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signal.json");
    std::fs::write(
        &path,
        r#"{"as_of": "2026-05-01T12:00:00Z", "risk": "0.3", "trend": -0.2, "summary": "desk view"}"#,
    )
    .unwrap();
    let source = FileSignal::new(&path);
    let signal = source.fetch(clock()).await.unwrap();
    assert_eq!((signal.risk, signal.trend), (dec!(0.3), dec!(-0.2)));
    assert_eq!(signal.source, "file");
    std::fs::write(
        &path,
        r#"{"as_of": "2026-05-01T12:00:00Z", "risk": "1.3", "trend": 0}"#,
    )
    .unwrap();
    let err = source.fetch(clock()).await.unwrap_err();
    assert!(err.to_string().contains("risk: 1.3"), "{err}");
    let err = FileSignal::new(dir.path().join("missing.json"))
        .fetch(clock())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("missing.json"), "{err}");
}

#[tokio::test]
async fn onbox_model_reads_recorded_prices() {
    let (_dir, db) = fresh_db().await;
    let at = ChainContract {
        chain_id: 8453,
        contract: Address::repeat_byte(0xaa),
    };
    let now = clock().timestamp() as u64;
    let source = OnBox::new(db.clone(), at, Default::default());
    let err = source.fetch(clock()).await.unwrap_err();
    assert!(matches!(err, SignalError::NoData(_)), "{err}");

    // Five readings an hour apart, falling 2 % each; one repeated (same feed update) is merged.
    let prices: Vec<(u64, Decimal)> = (0..5u64)
        .map(|i| {
            (
                now - (4 - i) * 3600,
                dec!(3000) * (dec!(1) - dec!(0.02) * Decimal::from(i)),
            )
        })
        .collect();
    let mut rows = Vec::new();
    for (i, (t, p)) in prices.iter().enumerate() {
        for repeat in 0..2u64 {
            let block = 10 + 2 * i as u64 + repeat;
            rows.push(EthUsdPrice {
                block_number: block,
                price: *p,
                round_id: U256::from(i),
                updated_at: *t,
            });
        }
    }
    let last = rows.last().unwrap().block_number;
    db.save_block_batch(
        at,
        &BlockBatch {
            blocks: vec![BlockRecord {
                number: last,
                hash: B256::repeat_byte(1),
                parent_hash: B256::repeat_byte(2),
            }],
            events: vec![],
            eth_usd_prices: rows,
            share_prices: vec![],
            checkpoint_block: last,
            checkpoint_hash: B256::repeat_byte(1),
        },
    )
    .await
    .unwrap();
    assert_eq!(source.prices_since(0).await.unwrap().len(), 5);
    let signal = source.fetch(clock()).await.unwrap();
    // 3000 -> 2760: -8 % over the window = trend -0.8.
    assert_eq!(signal.trend, dec!(-0.8));
    assert!(signal.risk > dec!(0.5), "{}", signal.risk);
    assert_eq!(signal.source, "onbox-v1");
}
