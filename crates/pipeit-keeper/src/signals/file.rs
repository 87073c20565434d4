//! A signal read from a JSON file:
//! `{"as_of": "2026-05-01T12:00:00Z", "risk": "0.3", "trend": "-0.2", "summary": "..."}`
//! (numbers as strings or plain JSON numbers; `source` defaults to `"file"`).

use std::path::PathBuf;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use pipeit_core::signal::MarketSignal;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

use super::{SignalError, SignalSource};

/// The file source.
#[derive(Debug, Clone)]
pub struct FileSignal {
    path: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBody {
    #[serde(default)]
    source: Option<String>,
    as_of: DateTime<Utc>,
    risk: Value,
    trend: Value,
    #[serde(default)]
    summary: String,
}

impl FileSignal {
    /// A source reading `path` at each fetch (so an operator may edit it while the keeper runs).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

/// A decimal from a JSON string or number. Signals are not money; a JSON number is read through
/// its decimal text, never through `f64` arithmetic.
pub(crate) fn decimal(what: &str, value: &Value) -> Result<Decimal, SignalError> {
    let text = match value {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        other => {
            return Err(SignalError::Malformed {
                what: what.to_owned(),
                reason: format!("expected a number, got {other}"),
            })
        }
    };
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map_err(|e| SignalError::Malformed {
            what: what.to_owned(),
            reason: format!("{text:?} is not a number: {e}"),
        })
}

impl SignalSource for FileSignal {
    fn name(&self) -> &str {
        "file"
    }

    async fn fetch(&self, _now: DateTime<Utc>) -> Result<MarketSignal, SignalError> {
        let shown = self.path.display().to_string();
        let text = tokio::fs::read_to_string(&self.path)
            .await
            .map_err(|source| SignalError::Io {
                path: shown.clone(),
                source,
            })?;
        let body: FileBody = serde_json::from_str(&text).map_err(|e| SignalError::Malformed {
            what: format!("signal file {shown}"),
            reason: e.to_string(),
        })?;
        let signal = MarketSignal {
            source: body.source.unwrap_or_else(|| "file".to_owned()),
            as_of: body.as_of,
            risk: decimal(&format!("signal file {shown}: risk"), &body.risk)?,
            trend: decimal(&format!("signal file {shown}: trend"), &body.trend)?,
            summary: body.summary,
        };
        signal.validate().map_err(|e| SignalError::Malformed {
            what: format!("signal file {shown}"),
            reason: e.to_string(),
        })?;
        Ok(signal)
    }
}
