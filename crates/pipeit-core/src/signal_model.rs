//! The on-box signal model: momentum and volatility of the ETH/USD prices the indexer records,
//! turned into a [`MarketSignal`]. Deterministic, decimal arithmetic only; and its backtest.
//!
//! - momentum: `last / first - 1` over the lookback window;
//! - volatility: mean absolute return between consecutive prices in the window (no square root
//!   needed, and less swayed by one outlier than a standard deviation);
//! - trend = momentum / `full_trend_move`, clamped to `[-1, 1]`;
//! - risk = 0.7 × volatility / `full_risk_volatility` + 0.3 × max(0, −trend), clamped to `[0, 1]`:
//!   a falling market is riskier for a vault whose assets are ETH.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::signal::{clamp, MarketSignal};

/// The model's name, used as the signal's source.
pub const MODEL_SOURCE: &str = "onbox-v1";

/// One recorded price: when the feed updated (unix seconds) and USD per ETH.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricePoint {
    /// The feed's `updatedAt`.
    pub at: u64,
    /// USD per ETH.
    #[serde(with = "rust_decimal::serde::str")]
    pub price: Decimal,
}

/// The model's knobs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelParams {
    /// Seconds of history the signal looks at.
    pub lookback_secs: u64,
    /// Fewest prices in the window for a signal (fewer: no signal).
    pub min_points: usize,
    /// A move of this size over the window is a full trend (0.10 = 10 %).
    pub full_trend_move: Decimal,
    /// A mean absolute return of this size is full risk (0.02 = 2 % between readings).
    pub full_risk_volatility: Decimal,
}

impl Default for ModelParams {
    fn default() -> Self {
        Self {
            lookback_secs: 24 * 3600,
            min_points: 3,
            full_trend_move: Decimal::new(10, 2),
            full_risk_volatility: Decimal::new(2, 2),
        }
    }
}

/// What the model measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reading {
    /// `last / first - 1` in the window.
    #[serde(with = "rust_decimal::serde::str")]
    pub momentum: Decimal,
    /// Mean absolute return in the window.
    #[serde(with = "rust_decimal::serde::str")]
    pub volatility: Decimal,
    /// Prices used.
    pub points: usize,
}

/// Momentum and volatility of the prices in `(now - lookback, now]`; `None` with too few prices.
/// `prices` must be in time order (the indexer stores them by block).
pub fn read(prices: &[PricePoint], now: u64, params: &ModelParams) -> Option<Reading> {
    let from = now.saturating_sub(params.lookback_secs);
    let window: Vec<&PricePoint> = prices
        .iter()
        .filter(|p| p.at > from && p.at <= now && p.price > Decimal::ZERO)
        .collect();
    if window.len() < params.min_points.max(2) {
        return None;
    }
    let first = window.first()?.price;
    let last = window.last()?.price;
    let momentum = (last / first - Decimal::ONE).round_dp(8);
    let mut total = Decimal::ZERO;
    for pair in window.windows(2) {
        total += ((pair[1].price / pair[0].price) - Decimal::ONE).abs();
    }
    let volatility = (total / Decimal::from(window.len() - 1)).round_dp(8);
    Some(Reading {
        momentum,
        volatility,
        points: window.len(),
    })
}

/// The signal for a reading.
pub fn signal(reading: &Reading, as_of: DateTime<Utc>, params: &ModelParams) -> MarketSignal {
    let trend = clamp(
        reading.momentum / params.full_trend_move,
        -Decimal::ONE,
        Decimal::ONE,
    )
    .round_dp(4);
    let vol = reading.volatility / params.full_risk_volatility;
    let downside = (-trend).max(Decimal::ZERO);
    let risk = clamp(
        Decimal::new(7, 1) * vol + Decimal::new(3, 1) * downside,
        Decimal::ZERO,
        Decimal::ONE,
    )
    .round_dp(4);
    MarketSignal {
        source: MODEL_SOURCE.to_owned(),
        as_of,
        risk,
        trend,
        summary: format!(
            "ETH moved {}% over {} prices, mean move {}% between readings",
            (reading.momentum * Decimal::ONE_HUNDRED).round_dp(2),
            reading.points,
            (reading.volatility * Decimal::ONE_HUNDRED).round_dp(3)
        ),
    }
}

/// Share of idle capital the signal would hedge into the USD stablecoin: none when calm and rising,
/// up to `max_hedge` when the trend is down and risk is high.
pub fn hedge_share(signal: &MarketSignal, max_hedge: Decimal) -> Decimal {
    let bearish = (-signal.trend).max(Decimal::ZERO);
    let pressure = clamp(
        (bearish + signal.risk) / Decimal::TWO,
        Decimal::ZERO,
        Decimal::ONE,
    );
    (max_hedge * pressure).round_dp(4)
}

/// A backtest over recorded prices: at each price, the model's signal from what came before, then
/// what happened next. The baseline is holding ETH unhedged (what the vault does without signals).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backtest {
    /// Prices given.
    pub prices: usize,
    /// Steps with a signal (enough history).
    pub steps: usize,
    /// Steps whose trend sign matched the next move's sign (flat trend or move: not counted).
    pub direction_hits: usize,
    /// Steps with a non-zero trend and a non-zero next move.
    pub direction_calls: usize,
    /// Growth of 1 ETH-worth held unhedged over the steps (baseline), in USD terms.
    #[serde(with = "rust_decimal::serde::str")]
    pub unhedged_growth: Decimal,
    /// Growth with the signal's hedge share held in USD between steps.
    #[serde(with = "rust_decimal::serde::str")]
    pub hedged_growth: Decimal,
    /// Worst peak-to-trough fall, unhedged.
    #[serde(with = "rust_decimal::serde::str")]
    pub unhedged_max_drawdown: Decimal,
    /// Worst peak-to-trough fall, hedged.
    #[serde(with = "rust_decimal::serde::str")]
    pub hedged_max_drawdown: Decimal,
    /// Mean risk of the signals.
    #[serde(with = "rust_decimal::serde::str")]
    pub mean_risk: Decimal,
}

/// Runs the model over `prices` (time order). Deterministic.
pub fn backtest(prices: &[PricePoint], params: &ModelParams, max_hedge: Decimal) -> Backtest {
    let mut out = Backtest {
        prices: prices.len(),
        steps: 0,
        direction_hits: 0,
        direction_calls: 0,
        unhedged_growth: Decimal::ONE,
        hedged_growth: Decimal::ONE,
        unhedged_max_drawdown: Decimal::ZERO,
        hedged_max_drawdown: Decimal::ZERO,
        mean_risk: Decimal::ZERO,
    };
    let (mut peak_u, mut peak_h) = (Decimal::ONE, Decimal::ONE);
    let mut risk_sum = Decimal::ZERO;
    for i in 0..prices.len().saturating_sub(1) {
        let now = prices[i].at;
        let Some(reading) = read(&prices[..=i], now, params) else {
            continue;
        };
        let as_of =
            DateTime::<Utc>::from_timestamp(i64::try_from(now).unwrap_or(0), 0).unwrap_or_default();
        let s = signal(&reading, as_of, params);
        let next = prices[i + 1].price / prices[i].price - Decimal::ONE;
        out.steps += 1;
        risk_sum += s.risk;
        if !s.trend.is_zero() && !next.is_zero() {
            out.direction_calls += 1;
            if s.trend.is_sign_positive() == next.is_sign_positive() {
                out.direction_hits += 1;
            }
        }
        let hedge = hedge_share(&s, max_hedge);
        out.unhedged_growth = (out.unhedged_growth * (Decimal::ONE + next)).round_dp(12);
        out.hedged_growth =
            (out.hedged_growth * (Decimal::ONE + (Decimal::ONE - hedge) * next)).round_dp(12);
        peak_u = peak_u.max(out.unhedged_growth);
        peak_h = peak_h.max(out.hedged_growth);
        out.unhedged_max_drawdown = out
            .unhedged_max_drawdown
            .max((Decimal::ONE - out.unhedged_growth / peak_u).round_dp(8));
        out.hedged_max_drawdown = out
            .hedged_max_drawdown
            .max((Decimal::ONE - out.hedged_growth / peak_h).round_dp(8));
    }
    if out.steps > 0 {
        out.mean_risk = (risk_sum / Decimal::from(out.steps)).round_dp(4);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    use super::*;

    fn series(prices: &[Decimal]) -> Vec<PricePoint> {
        prices
            .iter()
            .enumerate()
            .map(|(i, p)| PricePoint {
                at: 1_000_000 + 3600 * u64::try_from(i).unwrap(),
                price: *p,
            })
            .collect()
    }

    fn as_of() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    }

    #[test]
    fn rising_calm_market_is_bullish_and_low_risk() {
        let p = series(&[dec!(3000), dec!(3030), dec!(3060), dec!(3090), dec!(3120)]);
        let r = read(&p, p[4].at, &ModelParams::default()).unwrap();
        assert_eq!(r.momentum, dec!(0.04));
        assert_eq!(r.points, 5);
        let s = signal(&r, as_of(), &ModelParams::default());
        assert_eq!(s.trend, dec!(0.4));
        assert!(s.risk < dec!(0.4), "{}", s.risk);
        assert_eq!(s.source, MODEL_SOURCE);
        s.validate().unwrap();
        assert_eq!(
            hedge_share(&s, dec!(0.5)),
            (dec!(0.5) * (s.risk / dec!(2))).round_dp(4)
        );
    }

    #[test]
    fn falling_volatile_market_is_bearish_and_risky() {
        let p = series(&[dec!(3000), dec!(2800), dec!(2950), dec!(2600), dec!(2500)]);
        let r = read(&p, p[4].at, &ModelParams::default()).unwrap();
        let s = signal(&r, as_of(), &ModelParams::default());
        assert_eq!(s.trend, dec!(-1));
        assert_eq!(s.risk, dec!(1));
        assert_eq!(hedge_share(&s, dec!(0.5)), dec!(0.5));
    }

    #[test]
    fn too_few_or_stale_prices_give_no_reading() {
        let p = series(&[dec!(3000), dec!(3010)]);
        assert!(read(&p, p[1].at, &ModelParams::default()).is_none());
        let p = series(&[dec!(3000), dec!(3010), dec!(3020)]);
        assert!(read(&p, p[2].at + 48 * 3600, &ModelParams::default()).is_none());
    }

    #[test]
    fn backtest_is_deterministic_and_hedging_softens_a_crash() {
        let mut prices = vec![dec!(3000), dec!(3010), dec!(3020)];
        for i in 0..10 {
            prices
                .push(prices[prices.len() - 1] * (dec!(1) - dec!(0.03) * Decimal::from(i % 2 + 1)));
        }
        let p = series(&prices);
        let a = backtest(&p, &ModelParams::default(), dec!(0.5));
        assert_eq!(a, backtest(&p, &ModelParams::default(), dec!(0.5)));
        assert_eq!(a.prices, 13);
        assert_eq!(a.steps, 10);
        assert!(a.hedged_growth > a.unhedged_growth);
        assert!(a.hedged_max_drawdown < a.unhedged_max_drawdown);
        // With no hedge allowed, hedged and unhedged are the same path.
        let none = backtest(&p, &ModelParams::default(), dec!(0));
        assert_eq!(none.hedged_growth, none.unhedged_growth);
    }
}
