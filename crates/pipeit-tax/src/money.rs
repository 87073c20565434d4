//! Fixed-scale decimal strings and fiat conversion.
//!
//! Rounding: wei and shares are exact integers and are printed exactly (18 and 21 decimals). Fiat is
//! kept at full `Decimal` precision while computing and rounded once per printed figure to the cent,
//! half away from zero (the rule the IRS instructions use for rounding). A gain is the difference of
//! the rounded proceeds and the rounded basis, so a Form 8949 row adds up: (h) = (d) − (e). These
//! are reports; no money moves on them, so there is no party for the rounding to favour.

use alloy_primitives::{I256, U256};
use rust_decimal::{Decimal, RoundingStrategy};

/// Decimals of ETH / WETH amounts.
pub const ETH_DECIMALS: usize = 18;
/// Decimals of vault shares (WETH's 18 + the vault's decimals offset of 3).
pub const SHARE_DECIMALS: usize = 21;
/// Decimals of fiat amounts.
pub const FIAT_DECIMALS: u32 = 2;

/// `value / 10^decimals` as a plain decimal string with exactly `decimals` digits after the point.
pub fn units(value: U256, decimals: usize) -> String {
    let digits = value.to_string();
    if digits.len() <= decimals {
        let mut out = String::with_capacity(decimals + 2);
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', decimals - digits.len()));
        out.push_str(&digits);
        out
    } else {
        let (int, frac) = digits.split_at(digits.len() - decimals);
        let mut out = String::with_capacity(digits.len() + 1);
        out.push_str(int);
        if decimals > 0 {
            out.push('.');
            out.push_str(frac);
        }
        out
    }
}

/// A wei amount as ETH with 18 decimals.
pub fn eth(wei: U256) -> String {
    units(wei, ETH_DECIMALS)
}

/// A share amount with 21 decimals.
pub fn shares(value: U256) -> String {
    units(value, SHARE_DECIMALS)
}

/// A signed wei amount as ETH with 18 decimals (`-0.5…`).
pub fn signed_eth(wei: I256) -> String {
    let magnitude = eth(wei.unsigned_abs());
    if wei.is_negative() {
        format!("-{magnitude}")
    } else {
        magnitude
    }
}

/// Rounds to the cent, half away from zero (see the module documentation).
pub fn cents(value: Decimal) -> Decimal {
    let mut rounded =
        value.round_dp_with_strategy(FIAT_DECIMALS, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(FIAT_DECIMALS);
    rounded
}

/// A fiat amount rounded to the cent, always with two decimals.
pub fn fiat(value: Decimal) -> String {
    let rounded = cents(value);
    if rounded.is_zero() {
        "0.00".to_owned() // never "-0.00"
    } else {
        rounded.to_string()
    }
}

/// ETH per wei as a `Decimal` (exact for amounts below 2^96 wei, about 79 billion ETH).
pub fn wei_to_eth(wei: U256) -> Option<Decimal> {
    let mantissa = i128::try_from(wei).ok()?;
    Decimal::try_from_i128_with_scale(mantissa, ETH_DECIMALS as u32).ok()
}

/// The fiat value of `wei` at `price` (fiat per ETH), unrounded.
pub fn wei_fiat(wei: U256, price: Decimal) -> Option<Decimal> {
    wei_to_eth(wei)?.checked_mul(price)
}

/// `a − b` as a signed wei amount.
pub fn diff(a: U256, b: U256) -> I256 {
    if a >= b {
        I256::from_raw(a - b)
    } else {
        -I256::from_raw(b - a)
    }
}

/// `value × numerator / denominator`, rounded down (`None` if the denominator is zero).
pub fn mul_div(value: U256, numerator: U256, denominator: U256) -> Option<U256> {
    if denominator.is_zero() {
        return None;
    }
    // value × numerator fits in 512 bits; amounts here are far below 2^128, so U256 is enough, and
    // checked_mul says so when it is not.
    value.checked_mul(numerator).map(|p| p / denominator)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn units_pad_and_keep_every_digit() {
        assert_eq!(eth(U256::ZERO), "0.000000000000000000");
        assert_eq!(eth(U256::from(1u8)), "0.000000000000000001");
        assert_eq!(
            eth(U256::from(1_500_000_000_000_000_000u128)),
            "1.500000000000000000"
        );
        assert_eq!(
            shares(U256::from(10u128.pow(21) * 3)),
            "3.000000000000000000000"
        );
        assert_eq!(
            signed_eth(diff(U256::from(1u8), U256::from(3u8))),
            "-0.000000000000000002"
        );
    }

    #[test]
    fn fiat_rounds_half_away_from_zero_to_two_decimals() {
        assert_eq!(fiat(dec!(1.005)), "1.01");
        assert_eq!(fiat(dec!(-1.005)), "-1.01");
        assert_eq!(fiat(dec!(1.004999)), "1.00");
        assert_eq!(fiat(dec!(7)), "7.00");
        assert_eq!(fiat(dec!(-0.001)), "0.00");
    }

    #[test]
    fn wei_fiat_is_exact_for_whole_cents() {
        let wei = U256::from(1_234_000_000_000_000_000u128); // 1.234 ETH
        assert_eq!(wei_fiat(wei, dec!(2000)), Some(dec!(2468)));
    }
}
