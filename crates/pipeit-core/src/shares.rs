//! ERC-4626 share math as OpenZeppelin 5 computes it, with a decimals offset (virtual shares and one
//! virtual asset) against the inflation attack.
//!
//! The vault rounds against the caller: deposits and redemptions use [`Rounding::Floor`]
//! (fewer shares, fewer assets), mints and withdrawals use [`Rounding::Ceil`] (more assets in,
//! more shares burnt). Pick the direction the contract function you predict uses.

use alloy_primitives::U256;

use crate::math::{self, mul_div, MathError, Rounding};

/// The vault's `_decimalsOffset()`: 10^3 virtual shares.
pub const VAULT_DECIMALS_OFFSET: u8 = 3;

/// Shares worth `assets`: `mulDiv(assets, total_supply + 10^offset, total_assets + 1, rounding)`.
pub fn convert_to_shares(
    assets: U256,
    total_supply: U256,
    total_assets: U256,
    decimals_offset: u8,
    rounding: Rounding,
) -> Result<U256, MathError> {
    let (virtual_supply, virtual_assets) =
        virtual_totals(total_supply, total_assets, decimals_offset)?;
    mul_div(assets, virtual_supply, virtual_assets, rounding)
}

/// Assets worth `shares`: `mulDiv(shares, total_assets + 1, total_supply + 10^offset, rounding)`.
pub fn convert_to_assets(
    shares: U256,
    total_supply: U256,
    total_assets: U256,
    decimals_offset: u8,
    rounding: Rounding,
) -> Result<U256, MathError> {
    let (virtual_supply, virtual_assets) =
        virtual_totals(total_supply, total_assets, decimals_offset)?;
    mul_div(shares, virtual_assets, virtual_supply, rounding)
}

/// `(total_supply + 10^offset, total_assets + 1)`.
fn virtual_totals(
    total_supply: U256,
    total_assets: U256,
    decimals_offset: u8,
) -> Result<(U256, U256), MathError> {
    let virtual_shares = math::pow10(u32::from(decimals_offset), "virtual shares")?;
    Ok((
        math::add(total_supply, virtual_shares, "virtual shares")?,
        math::add(total_assets, U256::from(1), "virtual assets")?,
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const ETH: u128 = 1_000_000_000_000_000_000;
    const OFFSET: u8 = VAULT_DECIMALS_OFFSET;

    fn u(x: u128) -> U256 {
        U256::from(x)
    }

    #[test]
    fn first_deposit_gets_a_thousand_shares_per_wei() {
        let shares =
            convert_to_shares(u(ETH), U256::ZERO, U256::ZERO, OFFSET, Rounding::Floor).unwrap();
        assert_eq!(shares, u(1_000 * ETH));
        let assets =
            convert_to_assets(shares, U256::ZERO, U256::ZERO, OFFSET, Rounding::Floor).unwrap();
        assert_eq!(assets, u(ETH));
    }

    #[test]
    fn after_ten_percent_profit_a_deposit_gets_fewer_shares() {
        // 1e18 * (1e21 + 1e3) / (1.1e18 + 1) = 909_090_909_090_909_090_991.9...
        let (supply, assets) = (u(1_000 * ETH), u(1_100_000_000_000_000_000));
        let floor = convert_to_shares(u(ETH), supply, assets, OFFSET, Rounding::Floor).unwrap();
        let ceil = convert_to_shares(u(ETH), supply, assets, OFFSET, Rounding::Ceil).unwrap();
        assert_eq!(floor, u(909_090_909_090_909_090_991));
        assert_eq!(ceil, floor + u(1));
    }

    #[test]
    fn round_trip_loses_a_wei_to_the_vault() {
        let (supply, assets) = (u(1_000 * ETH), u(1_100_000_000_000_000_000));
        let shares = convert_to_shares(u(ETH), supply, assets, OFFSET, Rounding::Floor).unwrap();
        let back = convert_to_assets(shares, supply, assets, OFFSET, Rounding::Floor).unwrap();
        assert_eq!(back, u(ETH - 1));
    }

    #[test]
    fn zero_offset_matches_plain_erc4626_with_one_virtual_share() {
        assert_eq!(
            convert_to_shares(u(100), U256::ZERO, U256::ZERO, 0, Rounding::Floor).unwrap(),
            u(100)
        );
        // 100 * (10 + 1) / (20 + 1) = 52.38
        assert_eq!(
            convert_to_shares(u(100), u(10), u(20), 0, Rounding::Floor).unwrap(),
            u(52)
        );
        assert_eq!(
            convert_to_shares(u(100), u(10), u(20), 0, Rounding::Ceil).unwrap(),
            u(53)
        );
        // 100 * 21 / 11 = 190.9
        assert_eq!(
            convert_to_assets(u(100), u(10), u(20), 0, Rounding::Floor).unwrap(),
            u(190)
        );
        assert_eq!(
            convert_to_assets(u(100), u(10), u(20), 0, Rounding::Ceil).unwrap(),
            u(191)
        );
    }

    #[test]
    fn donation_cannot_steal_a_small_deposit() {
        // Attacker holds 1 share unit (of 1e3 virtual) and the vault counts 1 ETH more: a 1e15-wei deposit
        // still gets shares (the inflation attack costs the attacker most of the donation).
        let shares =
            convert_to_shares(u(ETH / 1_000), u(1), u(ETH), OFFSET, Rounding::Floor).unwrap();
        assert!(shares > U256::ZERO);
    }

    #[test]
    fn huge_values_use_the_512_bit_intermediate() {
        let half = U256::MAX >> 1;
        let shares = convert_to_shares(half, half, half, 0, Rounding::Floor).unwrap();
        assert_eq!(shares, half); // half * (half + 1) / (half + 1)
    }

    #[test]
    fn overflowing_totals_are_errors() {
        assert_eq!(
            convert_to_shares(u(1), U256::MAX, U256::ZERO, OFFSET, Rounding::Floor),
            Err(MathError::Overflow {
                op: "virtual shares"
            })
        );
        assert_eq!(
            convert_to_assets(u(1), U256::ZERO, U256::MAX, OFFSET, Rounding::Floor),
            Err(MathError::Overflow {
                op: "virtual assets"
            })
        );
        assert!(convert_to_shares(u(1), U256::ZERO, U256::ZERO, 78, Rounding::Floor).is_err());
        assert!(
            convert_to_shares(U256::MAX, U256::ZERO, U256::ZERO, OFFSET, Rounding::Floor).is_err()
        );
    }
}
