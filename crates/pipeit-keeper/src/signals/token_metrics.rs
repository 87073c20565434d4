//! The Token Metrics API as a signal source.
//!
//! Three `/v2` endpoints for ETH (token id 3306): `trading-signals` (`TRADING_SIGNAL`: 1 bullish,
//! -1 bearish, 0 none), `trader-grades` (`TM_TRADER_GRADE`, 0–100) and `price` (`CURRENT_PRICE`).
//! Each answers `{success, message, length, data: [...]}`; field names have come in upper and lower
//! case over the API's versions, so keys are compared case-insensitively.
//!
//! - The key goes in the `x-api-key` header only; it is never logged, shown or cached.
//! - 401/403: fatal, with a clear message. 429 and 5xx (and transport errors): retried with
//!   exponential backoff, honouring `Retry-After`.
//! - Every response is cached in the database (`signal_cache`) for `cache_ttl`; every HTTP attempt
//!   counts against a daily budget kept in the database too, so cron ticks share it. Past the budget
//!   a stale cached answer is used, with a warning; with none, [`SignalError::QuotaExhausted`].
//!
//! The signal: trend = 0.6 × trading signal + 0.4 × (grade − 50) / 50; risk = 0.7 × (100 − grade)
//! / 100, plus 0.3 when the trading signal is bearish; both clamped.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use pipeit_core::signal::MarketSignal;
use pipeit_db::Db;
use reqwest::header::{HeaderValue, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::file::decimal;
use super::{SignalError, SignalSource};

/// The source name stored with its signals.
pub const TOKEN_METRICS_SOURCE: &str = "token_metrics";
/// The public API.
pub const DEFAULT_BASE_URL: &str = "https://api.tokenmetrics.com";
/// Token Metrics' id for Ethereum.
pub const ETH_TOKEN_ID: u64 = 3306;

/// A Token Metrics API key. Its `Debug` and `Display` never show it.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    /// A key; `None` when empty.
    pub fn new(key: impl Into<String>) -> Option<Self> {
        let key = key.into().trim().to_owned();
        (!key.is_empty()).then_some(Self(key))
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

/// How the client talks to the API.
#[derive(Debug, Clone)]
pub struct TokenMetricsConfig {
    /// Scheme and host (tests point it at a local server).
    pub base_url: String,
    /// The key.
    pub api_key: ApiKey,
    /// The token followed.
    pub token_id: u64,
    /// How long a response is reused without a call.
    pub cache_ttl: Duration,
    /// HTTP attempts allowed per UTC day (retries included).
    pub daily_budget: u32,
    /// Attempts per request (at least 1).
    pub attempts: u32,
    /// First wait after a retryable failure; doubled each time.
    pub initial_backoff: Duration,
    /// Longest wait (a longer `Retry-After` ends the retries).
    pub max_backoff: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl TokenMetricsConfig {
    /// The defaults: the public API, ETH, 15-minute cache, 500 calls a day, 4 attempts from 0.5 s.
    pub fn new(api_key: ApiKey) -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key,
            token_id: ETH_TOKEN_ID,
            cache_ttl: Duration::from_secs(15 * 60),
            daily_budget: 500,
            attempts: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            timeout: Duration::from_secs(20),
        }
    }
}

/// The client.
#[derive(Debug, Clone)]
pub struct TokenMetrics {
    config: TokenMetricsConfig,
    base: Url,
    http: reqwest::Client,
    db: Db,
}

/// One `data` row, keys uppercased.
type Row = Map<String, Value>;

impl TokenMetrics {
    /// A client; the database holds its cache and its call counter.
    pub fn new(config: TokenMetricsConfig, db: Db) -> Result<Self, SignalError> {
        let base = Url::parse(&config.base_url).map_err(|e| SignalError::Malformed {
            what: "Token Metrics base URL".to_owned(),
            reason: format!("{:?}: {e}", config.base_url),
        })?;
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| SignalError::Malformed {
                what: "HTTP client".to_owned(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            config,
            base,
            http,
            db,
        })
    }

    /// HTTP attempts made today (UTC), from the shared counter.
    pub async fn calls_today(&self, now: DateTime<Utc>) -> Result<i64, SignalError> {
        Ok(self
            .db
            .keeper_state(&quota_key(now))
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// The `data` rows of `path` for the token, from the cache when fresh, else from the API.
    async fn rows(
        &self,
        path: &str,
        extra: &[(&str, &str)],
        now: DateTime<Utc>,
    ) -> Result<Vec<Row>, SignalError> {
        let mut url = self.base.clone();
        url.set_path(path);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("token_id", &self.config.token_id.to_string());
            for (k, v) in extra {
                q.append_pair(k, v);
            }
        }
        let cache_key = format!("tm:{}?{}", path, url.query().unwrap_or(""));
        let cached = self.db.signal_cache_get(&cache_key).await?;
        if let Some((body, at)) = &cached {
            let age = (now - *at).to_std().unwrap_or_default();
            if age < self.config.cache_ttl {
                tracing::debug!(path, age_secs = age.as_secs(), "Token Metrics: cached");
                return envelope(path, body);
            }
        }
        match self.call(path, &url, now).await {
            Ok(body) => {
                let rows = envelope(path, &body)?;
                self.db.signal_cache_put(&cache_key, &body, now).await?;
                Ok(rows)
            }
            Err(error @ SignalError::QuotaExhausted { .. }) => match cached {
                Some((body, at)) => {
                    tracing::warn!(path, fetched_at = %at, "Token Metrics: daily budget used up; using the stale cached answer");
                    envelope(path, &body)
                }
                None => Err(error),
            },
            Err(error) => Err(error),
        }
    }

    /// One request with retries; each attempt counts against the budget.
    async fn call(&self, path: &str, url: &Url, now: DateTime<Utc>) -> Result<Value, SignalError> {
        let attempts = self.config.attempts.max(1);
        let mut wait = self.config.initial_backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            if self.calls_today(now).await? >= i64::from(self.config.daily_budget) {
                return Err(SignalError::QuotaExhausted {
                    path: path.to_owned(),
                    budget: self.config.daily_budget,
                });
            }
            self.db.add_keeper_counter(&quota_key(now), 1).await?;
            let outcome = self
                .http
                .get(url.clone())
                .header("x-api-key", self.config.api_key.0.as_str())
                .header("accept", "application/json")
                .send()
                .await;
            let (retry_after, failure) = match outcome {
                Err(e) => (
                    None,
                    SignalError::Unreachable {
                        path: path.to_owned(),
                        attempts: attempt,
                        // Without the URL: reqwest's message may carry it, and the URL is harmless
                        // here, but keep errors short.
                        message: e.without_url().to_string(),
                    },
                ),
                Ok(response) => {
                    let status = response.status();
                    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                        return Err(SignalError::Unauthorized {
                            status: status.as_u16(),
                        });
                    }
                    let retry_after = response.headers().get(RETRY_AFTER).and_then(seconds);
                    let bytes = response
                        .bytes()
                        .await
                        .map_err(|e| SignalError::Unreachable {
                            path: path.to_owned(),
                            attempts: attempt,
                            message: e.without_url().to_string(),
                        })?;
                    if status.is_success() {
                        return serde_json::from_slice(&bytes).map_err(|e| {
                            SignalError::Malformed {
                                what: format!("Token Metrics {path}"),
                                reason: format!("not JSON: {e}"),
                            }
                        });
                    }
                    let message = String::from_utf8_lossy(&bytes).chars().take(200).collect();
                    let failure = SignalError::Http {
                        path: path.to_owned(),
                        status: status.as_u16(),
                        attempts: attempt,
                        message,
                    };
                    if !(status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()) {
                        return Err(failure);
                    }
                    (retry_after, failure)
                }
            };
            if attempt >= attempts {
                return Err(failure);
            }
            let pause = retry_after.unwrap_or(wait);
            if pause > self.config.max_backoff {
                tracing::warn!(
                    path,
                    retry_after_secs = pause.as_secs(),
                    "Token Metrics asks to wait longer than the keeper will; giving up for now"
                );
                return Err(failure);
            }
            tracing::info!(path, attempt, wait_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX), error = %failure, "Token Metrics: retrying");
            tokio::time::sleep(pause).await;
            wait = (wait * 2).min(self.config.max_backoff);
        }
    }
}

impl SignalSource for TokenMetrics {
    fn name(&self) -> &str {
        TOKEN_METRICS_SOURCE
    }

    async fn fetch(&self, now: DateTime<Utc>) -> Result<MarketSignal, SignalError> {
        let signals = self
            .rows("/v2/trading-signals", &[("limit", "1")], now)
            .await?;
        let grades = self
            .rows("/v2/trader-grades", &[("limit", "1")], now)
            .await?;
        let price = self.rows("/v2/price", &[], now).await?;
        combine(&signals, &grades, &price, now)
    }
}

/// The signal from the three endpoints' rows (the first row of each).
fn combine(
    signals: &[Row],
    grades: &[Row],
    price: &[Row],
    now: DateTime<Utc>,
) -> Result<MarketSignal, SignalError> {
    let s_row = signals
        .first()
        .ok_or_else(|| no_data("/v2/trading-signals"))?;
    let g_row = grades.first().ok_or_else(|| no_data("/v2/trader-grades"))?;
    let trading = field(s_row, "TRADING_SIGNAL", "/v2/trading-signals")?;
    let trading = trading.round().max(-Decimal::ONE).min(Decimal::ONE);
    // The grade is on the grades endpoint; the signals rows carried it too in some versions.
    let grade = field(g_row, "TM_TRADER_GRADE", "/v2/trader-grades")
        .or_else(|_| field(s_row, "TM_TRADER_GRADE", "/v2/trading-signals"))?;
    let grade = grade.max(Decimal::ZERO).min(Decimal::ONE_HUNDRED);
    let fifty = Decimal::from(50);
    let trend = (Decimal::new(6, 1) * trading + Decimal::new(4, 1) * (grade - fifty) / fifty)
        .max(-Decimal::ONE)
        .min(Decimal::ONE)
        .round_dp(4);
    let bearish = if trading < Decimal::ZERO {
        Decimal::new(3, 1)
    } else {
        Decimal::ZERO
    };
    let risk = (Decimal::new(7, 1) * (Decimal::ONE_HUNDRED - grade) / Decimal::ONE_HUNDRED
        + bearish)
        .max(Decimal::ZERO)
        .min(Decimal::ONE)
        .round_dp(4);
    let date = text(s_row, "DATE").unwrap_or_else(|| "?".to_owned());
    let price = price
        .first()
        .and_then(|r| field(r, "CURRENT_PRICE", "/v2/price").ok())
        .map(|p| format!(", price {} USD", p.round_dp(2)))
        .unwrap_or_default();
    Ok(MarketSignal {
        source: TOKEN_METRICS_SOURCE.to_owned(),
        as_of: now,
        risk,
        trend,
        summary: format!(
            "Token Metrics: trading signal {trading} ({date}), trader grade {}{price}",
            grade.round_dp(2)
        ),
    })
}

fn no_data(path: &str) -> SignalError {
    SignalError::NoData(format!("Token Metrics {path}: no data for the token"))
}

fn field(row: &Row, name: &str, path: &str) -> Result<Decimal, SignalError> {
    let value = row
        .get(name)
        .filter(|v| !v.is_null())
        .ok_or_else(|| SignalError::Malformed {
            what: format!("Token Metrics {path}"),
            reason: format!("no field {name} (case-insensitive)"),
        })?;
    decimal(&format!("Token Metrics {path}: {name}"), value)
}

fn text(row: &Row, name: &str) -> Option<String> {
    match row.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// The `data` rows of a `{success, message, length, data}` envelope, with keys uppercased (the API
/// has sent both `TOKEN_ID` and `token_id`). Top-level keys are matched case-insensitively too.
fn envelope(path: &str, body: &Value) -> Result<Vec<Row>, SignalError> {
    let malformed = |reason: String| SignalError::Malformed {
        what: format!("Token Metrics {path}"),
        reason,
    };
    let top = body
        .as_object()
        .ok_or_else(|| malformed("the body is not a JSON object".to_owned()))?;
    let get = |key: &str| {
        top.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    };
    let success = match get("success") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        _ => return Err(malformed("no `success` field".to_owned())),
    };
    if !success {
        let message = get("message")
            .and_then(Value::as_str)
            .unwrap_or("success: false")
            .to_owned();
        return Err(SignalError::Api {
            path: path.to_owned(),
            message,
        });
    }
    let items: Vec<&Value> = match get("data") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(obj @ Value::Object(_)) => vec![obj],
        Some(Value::Null) | None => Vec::new(),
        Some(other) => return Err(malformed(format!("`data` is not a list: {other}"))),
    };
    items
        .into_iter()
        .map(|item| {
            let obj = item
                .as_object()
                .ok_or_else(|| malformed(format!("a `data` item is not an object: {item}")))?;
            Ok(obj
                .iter()
                .map(|(k, v)| (k.to_ascii_uppercase(), v.clone()))
                .collect())
        })
        .collect()
}

fn quota_key(now: DateTime<Utc>) -> String {
    format!("tm_calls:{}", now.format("%Y-%m-%d"))
}

fn seconds(value: &HeaderValue) -> Option<Duration> {
    value
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use rust_decimal_macros::dec;
    use serde_json::json;

    use super::*;

    #[test]
    fn key_is_never_printed() {
        let key = ApiKey::new("tm-secret-123").unwrap();
        assert_eq!(format!("{key:?}"), "ApiKey(***)");
        let config = TokenMetricsConfig::new(key);
        assert!(!format!("{config:?}").contains("secret"));
        assert!(ApiKey::new("  ").is_none());
    }

    #[test]
    fn envelope_tolerates_case_drift() {
        let upper = json!({"success": true, "message": "ok", "length": 1,
            "data": [{"TOKEN_ID": 3306, "TRADING_SIGNAL": 1}]});
        let lower = json!({"Success": "true", "MESSAGE": "ok", "Length": 1,
            "DATA": [{"token_id": 3306, "trading_signal": 1}]});
        assert_eq!(
            envelope("p", &upper).unwrap(),
            envelope("p", &lower).unwrap()
        );
        let failed =
            json!({"success": false, "message": "Invalid token_id", "length": 0, "data": []});
        assert!(
            matches!(envelope("p", &failed), Err(SignalError::Api { message, .. }) if message == "Invalid token_id")
        );
        assert!(envelope("p", &json!([1])).is_err());
    }

    #[test]
    fn bearish_low_grade_is_risky_and_down() {
        let row = |v: Value| envelope("p", &json!({"success": true, "data": [v]})).unwrap();
        let s = combine(
            &row(json!({"TRADING_SIGNAL": -1, "DATE": "2026-05-01"})),
            &row(json!({"TM_TRADER_GRADE": "20.5"})),
            &row(json!({"CURRENT_PRICE": 2512.337})),
            Utc::now(),
        )
        .unwrap();
        // trend = -0.6 + 0.4 * (20.5 - 50) / 50 = -0.836; risk = 0.7 * 0.795 + 0.3 = 0.8565.
        assert_eq!(s.trend, dec!(-0.836));
        assert_eq!(s.risk, dec!(0.8565));
        assert!(s.summary.contains("2512.34"), "{}", s.summary);
        s.validate().unwrap();
        let s = combine(
            &row(json!({"trading_signal": 1})),
            &row(json!({"tm_trader_grade": 90})),
            &[],
            Utc::now(),
        )
        .unwrap();
        assert_eq!(s.trend, dec!(0.92));
        assert_eq!(s.risk, dec!(0.07));
    }

    #[test]
    fn missing_fields_are_named() {
        let row = |v: Value| envelope("p", &json!({"success": true, "data": [v]})).unwrap();
        let err = combine(&row(json!({"X": 1})), &row(json!({})), &[], Utc::now()).unwrap_err();
        assert!(err.to_string().contains("TRADING_SIGNAL"), "{err}");
        let err = combine(&[], &[], &[], Utc::now()).unwrap_err();
        assert!(err.to_string().contains("no data"), "{err}");
    }
}
