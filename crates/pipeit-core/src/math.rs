//! The vault's constants, rounding direction and exact `mulDiv`, shared by fees, shares and fiat.
//!
//! Solidity's checked arithmetic reverts on overflow; here the same cases return [`MathError`], so
//! an `Err` means "the contract would revert", never a silently wrapped number.

use alloy_primitives::{U256, U512};
use serde::{Deserialize, Serialize};

/// Basis points in one whole (100 %).
pub const BPS: u16 = 10_000;

/// Fixed-point scale of the issuance rate (1e18).
pub const WAD: U256 = U256::from_limbs([1_000_000_000_000_000_000, 0, 0, 0]);

/// Seconds in a day; due dates are day-aligned (`due_at % DAY == 0`).
pub const DAY: u64 = 86_400;

/// Direction of an integer division, as OpenZeppelin's `Math.Rounding`.
///
/// Every call site says which side its choice favours; the rule is that the vault never loses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rounding {
    /// Toward zero.
    Floor,
    /// Away from zero (up, for the unsigned values used here).
    Ceil,
}

/// What went wrong in integer math: the cases where the contract would revert.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MathError {
    /// A result did not fit in 256 bits.
    #[error("overflow in {op}: the result does not fit in 256 bits")]
    Overflow {
        /// The computation that overflowed.
        op: &'static str,
    },
    /// A divisor was zero.
    #[error("division by zero in {op}")]
    DivisionByZero {
        /// The computation whose divisor was zero.
        op: &'static str,
    },
    /// A basis-point share above 100 %.
    #[error("{bps} basis points exceed the maximum of {max}")]
    BpsOutOfRange {
        /// The value given.
        bps: u16,
        /// The largest value allowed.
        max: u16,
    },
    /// An advance whose due date is not after its start.
    #[error("tenor must be positive: due_at {due_at} is not after advanced_at {advanced_at}")]
    NonPositiveTenor {
        /// Start of accrual, unix seconds.
        advanced_at: u64,
        /// Due date, unix seconds.
        due_at: u64,
    },
}

/// `a * b / denominator` with a 512-bit intermediate, rounded as asked (OpenZeppelin `Math.mulDiv`).
///
/// Only the final result must fit in 256 bits; the product never overflows.
pub fn mul_div(a: U256, b: U256, denominator: U256, rounding: Rounding) -> Result<U256, MathError> {
    const OP: &str = "mul_div";
    if denominator.is_zero() {
        return Err(MathError::DivisionByZero { op: OP });
    }
    let product: U512 = a.widening_mul(b);
    let (quotient, remainder) = product.div_rem(U512::from(denominator));
    let quotient = U256::checked_from_limbs_slice(quotient.as_limbs())
        .ok_or(MathError::Overflow { op: OP })?;
    if rounding == Rounding::Ceil && !remainder.is_zero() {
        return quotient
            .checked_add(U256::from(1))
            .ok_or(MathError::Overflow { op: OP });
    }
    Ok(quotient)
}

/// `ceil(a / b)` (OpenZeppelin `Math.ceilDiv`).
pub fn ceil_div(a: U256, b: U256) -> Result<U256, MathError> {
    if b.is_zero() {
        return Err(MathError::DivisionByZero { op: "ceil_div" });
    }
    let (quotient, remainder) = a.div_rem(b);
    // Cannot overflow: quotient < MAX whenever there is a remainder.
    Ok(if remainder.is_zero() {
        quotient
    } else {
        quotient + U256::from(1)
    })
}

/// `10^exp`, or an overflow error naming `op`.
pub(crate) fn pow10(exp: u32, op: &'static str) -> Result<U256, MathError> {
    U256::from(10)
        .checked_pow(U256::from(exp))
        .ok_or(MathError::Overflow { op })
}

/// Checked `a * b`, the error naming `op` (Solidity 0.8 reverts there).
pub(crate) fn mul(a: U256, b: U256, op: &'static str) -> Result<U256, MathError> {
    a.checked_mul(b).ok_or(MathError::Overflow { op })
}

/// Checked `a + b`, the error naming `op`.
pub(crate) fn add(a: U256, b: U256, op: &'static str) -> Result<U256, MathError> {
    a.checked_add(b).ok_or(MathError::Overflow { op })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn u(x: u128) -> U256 {
        U256::from(x)
    }

    #[test]
    fn constants_match_the_contract() {
        assert_eq!(WAD, U256::from(10u64).pow(U256::from(18)));
        assert_eq!(BPS, 10_000);
        assert_eq!(DAY, 24 * 60 * 60);
    }

    #[test]
    fn mul_div_rounds_as_asked() {
        assert_eq!(mul_div(u(7), u(1), u(2), Rounding::Floor).unwrap(), u(3));
        assert_eq!(mul_div(u(7), u(1), u(2), Rounding::Ceil).unwrap(), u(4));
        assert_eq!(mul_div(u(8), u(1), u(2), Rounding::Ceil).unwrap(), u(4));
        assert_eq!(
            mul_div(U256::ZERO, u(5), u(3), Rounding::Ceil).unwrap(),
            U256::ZERO
        );
    }

    #[test]
    fn mul_div_is_exact_when_the_product_needs_512_bits() {
        let max = U256::MAX;
        assert_eq!(mul_div(max, max, max, Rounding::Floor).unwrap(), max);
        assert_eq!(mul_div(max, max, max, Rounding::Ceil).unwrap(), max);
        // (2^256 - 1) * 2^128 / 2^129 = (2^256 - 1) / 2, floor and ceil.
        let two_128 = U256::from(1) << 128;
        let two_129 = U256::from(1) << 129;
        assert_eq!(
            mul_div(max, two_128, two_129, Rounding::Floor).unwrap(),
            max >> 1
        );
        assert_eq!(
            mul_div(max, two_128, two_129, Rounding::Ceil).unwrap(),
            (max >> 1) + u(1)
        );
    }

    #[test]
    fn mul_div_rejects_a_result_above_256_bits() {
        assert_eq!(
            mul_div(U256::MAX, u(2), u(1), Rounding::Floor),
            Err(MathError::Overflow { op: "mul_div" })
        );
    }

    #[test]
    fn mul_div_rejects_ceil_past_the_maximum() {
        // MAX * MAX / (MAX - 1) is just above MAX even before rounding up.
        assert!(mul_div(U256::MAX, U256::MAX, U256::MAX - u(1), Rounding::Ceil).is_err());
    }

    #[test]
    fn mul_div_rejects_zero_denominator() {
        assert_eq!(
            mul_div(u(1), u(1), U256::ZERO, Rounding::Floor),
            Err(MathError::DivisionByZero { op: "mul_div" })
        );
    }

    #[test]
    fn ceil_div_counts_a_started_unit() {
        assert_eq!(ceil_div(u(1), u(86_400)).unwrap(), u(1));
        assert_eq!(ceil_div(u(86_400), u(86_400)).unwrap(), u(1));
        assert_eq!(ceil_div(u(86_401), u(86_400)).unwrap(), u(2));
        assert_eq!(ceil_div(U256::ZERO, u(3)).unwrap(), U256::ZERO);
        assert_eq!(ceil_div(U256::MAX, U256::MAX).unwrap(), u(1));
        assert!(ceil_div(u(1), U256::ZERO).is_err());
    }

    #[test]
    fn pow10_overflows_past_77() {
        assert_eq!(pow10(0, "t").unwrap(), u(1));
        assert_eq!(pow10(18, "t").unwrap(), WAD);
        assert!(pow10(77, "t").is_ok());
        assert_eq!(pow10(78, "t"), Err(MathError::Overflow { op: "t" }));
    }

    #[test]
    fn rounding_serialises_in_lowercase() {
        assert_eq!(serde_json::to_string(&Rounding::Ceil).unwrap(), "\"ceil\"");
        assert_eq!(
            serde_json::from_str::<Rounding>("\"floor\"").unwrap(),
            Rounding::Floor
        );
    }
}
