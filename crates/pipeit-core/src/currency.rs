//! ISO 4217 currencies an invoice may be in, with their minor units.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A fiat currency pipeit accepts. Serialised as its ISO 4217 code (`"USD"`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub enum Currency {
    /// US dollar.
    #[default]
    Usd,
    /// Euro.
    Eur,
    /// Pound sterling.
    Gbp,
    /// Japanese yen.
    Jpy,
    /// Swiss franc.
    Chf,
    /// Canadian dollar.
    Cad,
    /// Australian dollar.
    Aud,
    /// New Zealand dollar.
    Nzd,
    /// Swedish krona.
    Sek,
    /// Norwegian krone.
    Nok,
    /// Danish krone.
    Dkk,
    /// Singapore dollar.
    Sgd,
    /// Hong Kong dollar.
    Hkd,
}

/// A currency code that is malformed or not supported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CurrencyError {
    /// Not three uppercase ASCII letters.
    #[error("currency code {code:?} is not three uppercase letters (ISO 4217, e.g. \"USD\")")]
    Malformed {
        /// The code given.
        code: String,
    },
    /// Well-formed but not one pipeit accepts.
    #[error("currency {code} is not supported (supported: {supported})")]
    Unsupported {
        /// The code given.
        code: String,
        /// The supported codes, comma-separated.
        supported: String,
    },
}

impl Currency {
    /// Every supported currency.
    pub const ALL: [Currency; 13] = [
        Currency::Usd,
        Currency::Eur,
        Currency::Gbp,
        Currency::Jpy,
        Currency::Chf,
        Currency::Cad,
        Currency::Aud,
        Currency::Nzd,
        Currency::Sek,
        Currency::Nok,
        Currency::Dkk,
        Currency::Sgd,
        Currency::Hkd,
    ];

    /// The ISO 4217 alphabetic code.
    pub const fn code(self) -> &'static str {
        match self {
            Currency::Usd => "USD",
            Currency::Eur => "EUR",
            Currency::Gbp => "GBP",
            Currency::Jpy => "JPY",
            Currency::Chf => "CHF",
            Currency::Cad => "CAD",
            Currency::Aud => "AUD",
            Currency::Nzd => "NZD",
            Currency::Sek => "SEK",
            Currency::Nok => "NOK",
            Currency::Dkk => "DKK",
            Currency::Sgd => "SGD",
            Currency::Hkd => "HKD",
        }
    }

    /// ISO 4217 minor units: decimal places of the smallest unit (2 for cents, 0 for yen).
    pub const fn minor_units(self) -> u32 {
        match self {
            Currency::Jpy => 0,
            _ => 2,
        }
    }
}

impl FromStr for Currency {
    type Err = CurrencyError;

    /// Parses an ISO 4217 code; only exact uppercase codes are accepted.
    fn from_str(code: &str) -> Result<Self, Self::Err> {
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(CurrencyError::Malformed {
                code: code.to_owned(),
            });
        }
        Currency::ALL
            .into_iter()
            .find(|c| c.code() == code)
            .ok_or_else(|| CurrencyError::Unsupported {
                code: code.to_owned(),
                supported: Currency::ALL.map(Currency::code).join(", "),
            })
    }
}

impl TryFrom<String> for Currency {
    type Error = CurrencyError;

    fn try_from(code: String) -> Result<Self, Self::Error> {
        code.parse()
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> Self {
        currency.code().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn required_currencies_and_minor_units() {
        let expected = [
            ("USD", 2),
            ("EUR", 2),
            ("GBP", 2),
            ("JPY", 0),
            ("CHF", 2),
            ("CAD", 2),
            ("AUD", 2),
        ];
        for (code, minor) in expected {
            let currency: Currency = code.parse().unwrap();
            assert_eq!(currency.code(), code);
            assert_eq!(currency.minor_units(), minor, "{code}");
        }
    }

    #[test]
    fn every_supported_code_round_trips() {
        for currency in Currency::ALL {
            assert_eq!(currency.code().parse::<Currency>().unwrap(), currency);
            assert_eq!(currency.to_string(), currency.code());
        }
    }

    #[test]
    fn default_is_usd() {
        assert_eq!(Currency::default(), Currency::Usd);
    }

    #[test]
    fn unknown_code_is_named_in_the_error() {
        let err = "XYZ".parse::<Currency>().unwrap_err();
        assert!(matches!(&err, CurrencyError::Unsupported { code, .. } if code == "XYZ"));
        let message = err.to_string();
        assert!(
            message.contains("XYZ") && message.contains("USD"),
            "{message}"
        );
    }

    #[test]
    fn malformed_codes_are_rejected() {
        for code in ["usd", "US", "USDT", "", "U$D", " USD", "ÜSD"] {
            let err = code.parse::<Currency>().unwrap_err();
            assert_eq!(
                err,
                CurrencyError::Malformed {
                    code: code.to_owned()
                },
                "{code:?}"
            );
        }
    }

    #[test]
    fn serialises_as_the_code() {
        assert_eq!(serde_json::to_string(&Currency::Jpy).unwrap(), "\"JPY\"");
        assert_eq!(
            serde_json::from_str::<Currency>("\"EUR\"").unwrap(),
            Currency::Eur
        );
        let err = serde_json::from_str::<Currency>("\"ABC\"").unwrap_err();
        assert!(err.to_string().contains("ABC"));
    }
}
