//! A market signal: what the keeper's signal sources (Token Metrics, the on-box model, a file) agree
//! on, reduced to two numbers the pure logic uses. No I/O here.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A market reading for ETH.
///
/// - `risk` in `[0, 1]`: 0 calm, 1 stressed. Pricing adds a premium proportional to it.
/// - `trend` in `[-1, 1]`: -1 strongly bearish, 1 strongly bullish. Rebalancing hedges more when bearish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketSignal {
    /// Where it came from (`"token_metrics"`, `"onbox-v1"`, `"file"`).
    pub source: String,
    /// When the reading was taken.
    pub as_of: DateTime<Utc>,
    /// Market stress, 0 to 1.
    #[serde(with = "rust_decimal::serde::str")]
    pub risk: Decimal,
    /// Direction, -1 to 1.
    #[serde(with = "rust_decimal::serde::str")]
    pub trend: Decimal,
    /// One readable line on what the source saw.
    pub summary: String,
}

/// A signal whose numbers are out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignalError {
    /// `risk` outside `[0, 1]`.
    #[error("risk: {0} is not between 0 and 1")]
    Risk(Decimal),
    /// `trend` outside `[-1, 1]`.
    #[error("trend: {0} is not between -1 and 1")]
    Trend(Decimal),
}

impl MarketSignal {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<(), SignalError> {
        if self.risk < Decimal::ZERO || self.risk > Decimal::ONE {
            return Err(SignalError::Risk(self.risk));
        }
        if self.trend < -Decimal::ONE || self.trend > Decimal::ONE {
            return Err(SignalError::Trend(self.trend));
        }
        Ok(())
    }

    /// Age at `now` in seconds (0 if `as_of` is in the future).
    pub fn age_secs(&self, now: DateTime<Utc>) -> i64 {
        (now - self.as_of).num_seconds().max(0)
    }
}

/// Clamps `value` into `[lo, hi]`.
pub(crate) fn clamp(value: Decimal, lo: Decimal, hi: Decimal) -> Decimal {
    value.max(lo).min(hi)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    use super::*;

    fn signal(risk: Decimal, trend: Decimal) -> MarketSignal {
        MarketSignal {
            source: "file".into(),
            as_of: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            risk,
            trend,
            summary: String::new(),
        }
    }

    #[test]
    fn ranges_are_checked() {
        assert!(signal(dec!(0), dec!(-1)).validate().is_ok());
        assert!(signal(dec!(1), dec!(1)).validate().is_ok());
        assert_eq!(
            signal(dec!(1.01), dec!(0)).validate(),
            Err(SignalError::Risk(dec!(1.01)))
        );
        assert_eq!(
            signal(dec!(0.5), dec!(-1.5)).validate(),
            Err(SignalError::Trend(dec!(-1.5)))
        );
    }

    #[test]
    fn json_carries_numbers_as_strings() {
        let json = serde_json::to_value(signal(dec!(0.25), dec!(-0.5))).unwrap();
        assert_eq!(json["risk"], "0.25");
        assert_eq!(json["trend"], "-0.5");
    }
}
