//! Fiat amounts and their conversion to and from wei with a Chainlink-style price.
//!
//! All conversions are integer math on the price feed's raw answer (no `f64`, no intermediate
//! `Decimal` division), so the result is exact up to the single rounding each function states.

use std::fmt;

use alloy_primitives::{I256, U256};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::currency::Currency;
use crate::math::{self, mul_div, MathError, Rounding};

/// Decimal places of ether: 1 ETH = 10^18 wei.
const ETH_DECIMALS: u32 = 18;

/// A fiat amount or price that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FiatError {
    /// An amount of zero or less.
    #[error("amount must be greater than zero, got {amount} {currency}")]
    NonPositiveAmount {
        /// The currency of the amount.
        currency: Currency,
        /// The amount given.
        amount: Decimal,
    },
    /// More decimal places than the currency's minor unit.
    #[error("{amount} {currency} has {decimals} decimal places; {currency} allows at most {max}")]
    TooManyDecimals {
        /// The currency of the amount.
        currency: Currency,
        /// The amount given.
        amount: Decimal,
        /// Its decimal places (trailing zeros not counted).
        decimals: u32,
        /// The currency's minor units.
        max: u32,
    },
    /// A price feed answer of zero or less.
    #[error("price must be greater than zero, got answer {answer}")]
    NonPositivePrice {
        /// The answer given.
        answer: String,
    },
    /// A feed with more decimals than the vault's oracle guard accepts.
    #[error("price has {decimals} decimals; at most {max} are accepted")]
    FeedDecimalsTooHigh {
        /// The decimals given.
        decimals: u32,
        /// The largest value accepted.
        max: u8,
    },
    /// Converting an amount with a price quoted in another currency.
    #[error("amount is in {amount} but the price is in {price}")]
    CurrencyMismatch {
        /// Currency of the amount.
        amount: Currency,
        /// Currency of the price.
        price: Currency,
    },
    /// A value too large for a `Decimal` (96-bit mantissa).
    #[error("{what} is too large to represent as a decimal")]
    TooLarge {
        /// What overflowed.
        what: &'static str,
    },
    /// Integer math failed (overflow).
    #[error(transparent)]
    Math(#[from] MathError),
}

/// A positive amount of a fiat currency with no more decimals than its minor unit.
///
/// The amount is stored at exactly the currency's minor-unit scale (`10.5 USD` becomes `10.50`).
/// Serialised as `{"currency": "USD", "amount": "1234.56"}`; the amount must be a JSON string, so no
/// floating-point number ever carries money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "FiatAmountRepr", into = "FiatAmountRepr")]
pub struct FiatAmount {
    currency: Currency,
    amount: Decimal,
}

impl FiatAmount {
    /// Validates `amount > 0` and `amount` has at most `currency.minor_units()` decimal places
    /// (trailing zeros do not count: `10.500` USD is fine).
    pub fn new(currency: Currency, amount: Decimal) -> Result<Self, FiatError> {
        if amount <= Decimal::ZERO {
            return Err(FiatError::NonPositiveAmount { currency, amount });
        }
        let max = currency.minor_units();
        let mut scaled = amount.normalize();
        if scaled.scale() > max {
            return Err(FiatError::TooManyDecimals {
                currency,
                amount,
                decimals: scaled.scale(),
                max,
            });
        }
        scaled.rescale(max);
        if scaled.scale() != max {
            return Err(FiatError::TooLarge { what: "amount" });
        }
        Ok(Self {
            currency,
            amount: scaled,
        })
    }

    /// An amount given as an integer count of minor units (cents for USD).
    pub fn from_minor_units(currency: Currency, minor_units: u128) -> Result<Self, FiatError> {
        let mantissa =
            i128::try_from(minor_units).map_err(|_| FiatError::TooLarge { what: "amount" })?;
        let amount = Decimal::try_from_i128_with_scale(mantissa, currency.minor_units())
            .map_err(|_| FiatError::TooLarge { what: "amount" })?;
        Self::new(currency, amount)
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The amount, at the currency's minor-unit scale.
    pub fn amount(&self) -> Decimal {
        self.amount
    }

    /// The amount as an integer count of minor units (`1234.56` USD is `123456`).
    pub fn minor_units(&self) -> u128 {
        // Exact: the amount is positive and stored at the minor-unit scale.
        self.amount.mantissa().unsigned_abs()
    }
}

impl fmt::Display for FiatAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

#[derive(Serialize, Deserialize)]
struct FiatAmountRepr {
    currency: Currency,
    #[serde(with = "rust_decimal::serde::str")]
    amount: Decimal,
}

impl TryFrom<FiatAmountRepr> for FiatAmount {
    type Error = FiatError;

    fn try_from(repr: FiatAmountRepr) -> Result<Self, Self::Error> {
        Self::new(repr.currency, repr.amount)
    }
}

impl From<FiatAmount> for FiatAmountRepr {
    fn from(value: FiatAmount) -> Self {
        Self {
            currency: value.currency,
            amount: value.amount,
        }
    }
}

/// The price of 1 ETH in a fiat currency as a Chainlink-style feed reports it: an integer `answer`
/// with `decimals` decimal places (ETH/USD at 2500.12 with 8 decimals is `answer = 250012000000`).
///
/// Like the vault's oracle guard, it accepts only a positive answer and at most 18 decimals.
/// Serialised as `{"currency": "USD", "answer": "250012000000", "decimals": 8}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "EthPriceRepr", into = "EthPriceRepr")]
pub struct EthPrice {
    currency: Currency,
    answer: U256,
    decimals: u8,
}

impl EthPrice {
    /// Largest number of feed decimals accepted (the oracle guard's limit).
    pub const MAX_DECIMALS: u8 = 18;

    /// A price from a feed's `latestRoundData().answer` and `decimals()`.
    pub fn from_feed(currency: Currency, answer: I256, decimals: u8) -> Result<Self, FiatError> {
        if !answer.is_positive() {
            return Err(FiatError::NonPositivePrice {
                answer: answer.to_string(),
            });
        }
        check_decimals(u32::from(decimals))?;
        Ok(Self {
            currency,
            answer: answer.into_raw(),
            decimals,
        })
    }

    /// A price given as a decimal number of currency units per ETH (`2500.12`).
    pub fn from_decimal(currency: Currency, price: Decimal) -> Result<Self, FiatError> {
        if price <= Decimal::ZERO {
            return Err(FiatError::NonPositivePrice {
                answer: price.to_string(),
            });
        }
        let price = price.normalize();
        check_decimals(price.scale())?;
        let decimals = u8::try_from(price.scale()).map_err(|_| FiatError::TooLarge {
            what: "price decimals",
        })?;
        let answer = U256::from(price.mantissa().unsigned_abs());
        Ok(Self {
            currency,
            answer,
            decimals,
        })
    }

    /// The currency the price is quoted in.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The raw feed answer (always positive).
    pub fn answer(&self) -> U256 {
        self.answer
    }

    /// The feed's decimals.
    pub fn decimals(&self) -> u8 {
        self.decimals
    }

    /// Currency units per ETH as a decimal (`answer / 10^decimals`), exact.
    pub fn to_decimal(&self) -> Result<Decimal, FiatError> {
        let too_large = FiatError::TooLarge { what: "price" };
        let mantissa = i128::try_from(self.answer).map_err(|_| too_large.clone())?;
        Decimal::try_from_i128_with_scale(mantissa, u32::from(self.decimals)).map_err(|_| too_large)
    }
}

impl fmt::Display for EthPrice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_decimal() {
            Ok(price) => write!(f, "{price} {}/ETH", self.currency),
            Err(_) => write!(
                f,
                "{}e-{} {}/ETH",
                self.answer, self.decimals, self.currency
            ),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct EthPriceRepr {
    currency: Currency,
    answer: String,
    decimals: u8,
}

impl TryFrom<EthPriceRepr> for EthPrice {
    type Error = FiatError;

    fn try_from(repr: EthPriceRepr) -> Result<Self, Self::Error> {
        let answer = I256::from_dec_str(&repr.answer).map_err(|_| FiatError::NonPositivePrice {
            answer: repr.answer.clone(),
        })?;
        Self::from_feed(repr.currency, answer, repr.decimals)
    }
}

impl From<EthPrice> for EthPriceRepr {
    fn from(price: EthPrice) -> Self {
        Self {
            currency: price.currency,
            answer: price.answer.to_string(),
            decimals: price.decimals,
        }
    }
}

/// Wei the vault pays out for `amount` (an advance). Floor: the vault never pays more than the amount is worth.
pub fn fiat_to_wei_floor(amount: &FiatAmount, price: &EthPrice) -> Result<U256, FiatError> {
    fiat_to_wei(amount, price, Rounding::Floor)
}

/// Wei a business owes for `amount` (fee, amount owed). Ceil: the vault never receives less than it is owed.
pub fn fiat_to_wei_ceil(amount: &FiatAmount, price: &EthPrice) -> Result<U256, FiatError> {
    fiat_to_wei(amount, price, Rounding::Ceil)
}

/// `amount` in wei at `price`: `minor_units * 10^18 * 10^decimals / (answer * 10^minor_unit_scale)`,
/// rounded as asked. Prefer [`fiat_to_wei_floor`] and [`fiat_to_wei_ceil`], which name who the rounding favours.
pub fn fiat_to_wei(
    amount: &FiatAmount,
    price: &EthPrice,
    rounding: Rounding,
) -> Result<U256, FiatError> {
    check_same_currency(amount.currency, price.currency)?;
    let numerator = math::pow10(ETH_DECIMALS + u32::from(price.decimals), "fiat_to_wei")?;
    let minor_scale = math::pow10(amount.currency.minor_units(), "fiat_to_wei")?;
    let denominator = math::mul(price.answer, minor_scale, "fiat_to_wei")?;
    Ok(mul_div(
        U256::from(amount.minor_units()),
        numerator,
        denominator,
        rounding,
    )?)
}

/// `wei` valued at `price`, rounded as asked to the currency's minor unit (the result has exactly that
/// many decimal places). Floor when valuing what someone receives from the vault, ceil when valuing
/// what someone owes it.
pub fn wei_to_fiat(wei: U256, price: &EthPrice, rounding: Rounding) -> Result<Decimal, FiatError> {
    let minor_units = price.currency.minor_units();
    let minor_scale = math::pow10(minor_units, "wei_to_fiat")?;
    let numerator = math::mul(price.answer, minor_scale, "wei_to_fiat")?;
    let denominator = math::pow10(ETH_DECIMALS + u32::from(price.decimals), "wei_to_fiat")?;
    let minor = mul_div(wei, numerator, denominator, rounding)?;
    let too_large = FiatError::TooLarge { what: "fiat value" };
    let mantissa = i128::try_from(minor).map_err(|_| too_large.clone())?;
    Decimal::try_from_i128_with_scale(mantissa, minor_units).map_err(|_| too_large)
}

fn check_decimals(decimals: u32) -> Result<(), FiatError> {
    if decimals > u32::from(EthPrice::MAX_DECIMALS) {
        return Err(FiatError::FeedDecimalsTooHigh {
            decimals,
            max: EthPrice::MAX_DECIMALS,
        });
    }
    Ok(())
}

fn check_same_currency(amount: Currency, price: Currency) -> Result<(), FiatError> {
    if amount != price {
        return Err(FiatError::CurrencyMismatch { amount, price });
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    const ETH: u128 = 1_000_000_000_000_000_000;

    fn usd(amount: Decimal) -> FiatAmount {
        FiatAmount::new(Currency::Usd, amount).unwrap()
    }

    fn feed(answer: i128, decimals: u8) -> EthPrice {
        EthPrice::from_feed(Currency::Usd, I256::try_from(answer).unwrap(), decimals).unwrap()
    }

    #[test]
    fn amount_is_stored_at_the_minor_unit_scale() {
        let a = usd(dec!(10.5));
        assert_eq!(a.amount().to_string(), "10.50");
        assert_eq!(a.minor_units(), 1_050);
        assert_eq!(a.to_string(), "10.50 USD");
        assert_eq!(usd(dec!(10.5000)).minor_units(), 1_050);
        let yen = FiatAmount::new(Currency::Jpy, dec!(1000)).unwrap();
        assert_eq!(yen.minor_units(), 1_000);
        assert_eq!(yen.to_string(), "1000 JPY");
    }

    #[test]
    fn from_minor_units_matches_new() {
        assert_eq!(
            FiatAmount::from_minor_units(Currency::Usd, 123_456).unwrap(),
            usd(dec!(1234.56))
        );
        assert!(FiatAmount::from_minor_units(Currency::Usd, 0).is_err());
        assert_eq!(
            FiatAmount::from_minor_units(Currency::Usd, u128::MAX),
            Err(FiatError::TooLarge { what: "amount" })
        );
    }

    #[test]
    fn zero_and_negative_amounts_are_rejected() {
        for amount in [dec!(0), dec!(-0.01), dec!(-5)] {
            let err = FiatAmount::new(Currency::Usd, amount).unwrap_err();
            assert_eq!(
                err,
                FiatError::NonPositiveAmount {
                    currency: Currency::Usd,
                    amount
                }
            );
        }
    }

    #[test]
    fn too_many_decimals_are_rejected_with_the_counts() {
        let err = FiatAmount::new(Currency::Usd, dec!(10.123)).unwrap_err();
        assert_eq!(
            err,
            FiatError::TooManyDecimals {
                currency: Currency::Usd,
                amount: dec!(10.123),
                decimals: 3,
                max: 2
            }
        );
        assert_eq!(
            err.to_string(),
            "10.123 USD has 3 decimal places; USD allows at most 2"
        );
        assert!(FiatAmount::new(Currency::Jpy, dec!(100.5)).is_err());
    }

    #[test]
    fn an_amount_too_large_for_its_scale_is_rejected() {
        assert_eq!(
            FiatAmount::new(Currency::Usd, Decimal::MAX),
            Err(FiatError::TooLarge { what: "amount" })
        );
    }

    #[test]
    fn amount_serde_uses_strings_and_validates() {
        let a = usd(dec!(1234.56));
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, r#"{"currency":"USD","amount":"1234.56"}"#);
        assert_eq!(serde_json::from_str::<FiatAmount>(&json).unwrap(), a);
        // A JSON number would pass through f64: refused.
        assert!(
            serde_json::from_str::<FiatAmount>(r#"{"currency":"USD","amount":1234.56}"#).is_err()
        );
        assert!(serde_json::from_str::<FiatAmount>(r#"{"currency":"USD","amount":"0"}"#).is_err());
        assert!(
            serde_json::from_str::<FiatAmount>(r#"{"currency":"USD","amount":"1.001"}"#).is_err()
        );
        assert!(serde_json::from_str::<FiatAmount>(r#"{"currency":"XXX","amount":"1"}"#).is_err());
    }

    #[test]
    fn price_from_feed_and_decimal_agree() {
        let from_feed = feed(250_012_000_000, 8);
        assert_eq!(from_feed.to_decimal().unwrap(), dec!(2500.12));
        let from_decimal = EthPrice::from_decimal(Currency::Usd, dec!(2500.12)).unwrap();
        assert_eq!(from_decimal.answer(), U256::from(250_012u64));
        assert_eq!(from_decimal.decimals(), 2);
        assert_eq!(from_decimal.to_decimal().unwrap(), dec!(2500.12));
        assert_eq!(from_feed.to_string(), "2500.12000000 USD/ETH");
    }

    #[test]
    fn zero_or_negative_price_is_rejected() {
        for answer in [0i128, -1, -250_000_000_000] {
            let err =
                EthPrice::from_feed(Currency::Usd, I256::try_from(answer).unwrap(), 8).unwrap_err();
            assert_eq!(
                err,
                FiatError::NonPositivePrice {
                    answer: answer.to_string()
                }
            );
        }
        assert!(EthPrice::from_decimal(Currency::Usd, dec!(0)).is_err());
        assert!(EthPrice::from_decimal(Currency::Usd, dec!(-1.5)).is_err());
    }

    #[test]
    fn feed_decimals_above_18_are_rejected() {
        let err = EthPrice::from_feed(Currency::Usd, I256::ONE, 19).unwrap_err();
        assert_eq!(
            err,
            FiatError::FeedDecimalsTooHigh {
                decimals: 19,
                max: 18
            }
        );
        assert!(EthPrice::from_decimal(Currency::Usd, dec!(0.0000000000000000001)).is_err());
    }

    #[test]
    fn price_serde_round_trips_and_validates() {
        let p = feed(250_012_000_000, 8);
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(
            json,
            r#"{"currency":"USD","answer":"250012000000","decimals":8}"#
        );
        assert_eq!(serde_json::from_str::<EthPrice>(&json).unwrap(), p);
        assert!(serde_json::from_str::<EthPrice>(
            r#"{"currency":"USD","answer":"-1","decimals":8}"#
        )
        .is_err());
        assert!(serde_json::from_str::<EthPrice>(
            r#"{"currency":"USD","answer":"abc","decimals":8}"#
        )
        .is_err());
    }

    #[test]
    fn exact_conversion_is_the_same_both_ways() {
        // 1234.56 USD at 2500 USD/ETH = 0.493824 ETH exactly.
        let price = feed(250_000_000_000, 8);
        let amount = usd(dec!(1234.56));
        let expected = U256::from(493_824_000_000_000_000u128);
        assert_eq!(fiat_to_wei_floor(&amount, &price).unwrap(), expected);
        assert_eq!(fiat_to_wei_ceil(&amount, &price).unwrap(), expected);
    }

    #[test]
    fn inexact_conversion_rounds_for_the_vault() {
        // 100 USD at 3000 USD/ETH = 0.0333... ETH: pay out the floor, be owed the ceil.
        let price = feed(300_000_000_000, 8);
        let amount = usd(dec!(100));
        assert_eq!(
            fiat_to_wei_floor(&amount, &price).unwrap(),
            U256::from(33_333_333_333_333_333u128)
        );
        assert_eq!(
            fiat_to_wei_ceil(&amount, &price).unwrap(),
            U256::from(33_333_333_333_333_334u128)
        );
    }

    #[test]
    fn conversion_with_zero_minor_units_and_18_decimal_feed() {
        // 1000 JPY at 500000 JPY/ETH = 0.002 ETH.
        let price =
            EthPrice::from_feed(Currency::Jpy, I256::try_from(500_000 * ETH).unwrap(), 18).unwrap();
        let amount = FiatAmount::new(Currency::Jpy, dec!(1000)).unwrap();
        assert_eq!(
            fiat_to_wei_floor(&amount, &price).unwrap(),
            U256::from(2_000_000_000_000_000u128)
        );
    }

    #[test]
    fn conversion_refuses_a_price_in_another_currency() {
        let eur = FiatAmount::new(Currency::Eur, dec!(100)).unwrap();
        let err = fiat_to_wei_floor(&eur, &feed(300_000_000_000, 8)).unwrap_err();
        assert_eq!(
            err,
            FiatError::CurrencyMismatch {
                amount: Currency::Eur,
                price: Currency::Usd
            }
        );
    }

    #[test]
    fn wei_to_fiat_rounds_to_cents_as_asked() {
        let price = feed(300_012_345_678, 8); // 3000.12345678 USD/ETH
        let one_eth = U256::from(ETH);
        assert_eq!(
            wei_to_fiat(one_eth, &price, Rounding::Floor)
                .unwrap()
                .to_string(),
            "3000.12"
        );
        assert_eq!(
            wei_to_fiat(one_eth, &price, Rounding::Ceil)
                .unwrap()
                .to_string(),
            "3000.13"
        );
        assert_eq!(
            wei_to_fiat(U256::ZERO, &price, Rounding::Ceil).unwrap(),
            Decimal::ZERO
        );
        // 1 wei is worth a fraction of a cent: nothing rounded down, one cent rounded up.
        assert_eq!(
            wei_to_fiat(U256::from(1), &price, Rounding::Floor).unwrap(),
            dec!(0.00)
        );
        assert_eq!(
            wei_to_fiat(U256::from(1), &price, Rounding::Ceil).unwrap(),
            dec!(0.01)
        );
    }

    #[test]
    fn wei_to_fiat_in_yen_has_no_decimals() {
        let price = EthPrice::from_decimal(Currency::Jpy, dec!(500000.5)).unwrap();
        let one_eth = U256::from(ETH);
        assert_eq!(
            wei_to_fiat(one_eth, &price, Rounding::Floor)
                .unwrap()
                .to_string(),
            "500000"
        );
        assert_eq!(
            wei_to_fiat(one_eth, &price, Rounding::Ceil)
                .unwrap()
                .to_string(),
            "500001"
        );
    }

    #[test]
    fn wei_to_fiat_too_large_for_decimal_is_an_error() {
        let price = feed(i128::from(i64::MAX), 0);
        let err = wei_to_fiat(U256::MAX >> 100, &price, Rounding::Floor).unwrap_err();
        assert!(
            matches!(err, FiatError::TooLarge { .. } | FiatError::Math(_)),
            "{err:?}"
        );
    }
}
