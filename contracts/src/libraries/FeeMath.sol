// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title FeeMath
/// @notice Pure money math of the vault. `crates/pipeit-core` mirrors it formula by formula.
library FeeMath {
    uint256 internal constant BPS = 10_000;
    uint256 internal constant WAD = 1e18;
    uint256 internal constant DAY = 1 days;

    /// @dev The treasury's cut of a fee payment. Floor: the treasury never gets more than its share.
    function protocolCut(uint256 amount, uint256 protocolFeeBps) internal pure returns (uint256) {
        return amount * protocolFeeBps / BPS;
    }

    /// @dev WAD-scaled wei per second at which the vault earns `lpFee` over the tenor. Floor: accrual never
    /// runs ahead of what is earned.
    function issuanceRate(uint256 lpFee, uint256 tenor) internal pure returns (uint256) {
        return lpFee * WAD / tenor;
    }

    /// @dev Started days past `dueAt` (a started day counts: for the vault).
    function lateDays(uint256 dueAt, uint256 nowTs) internal pure returns (uint256) {
        return nowTs <= dueAt ? 0 : Math.ceilDiv(nowTs - dueAt, DAY);
    }

    /// @dev Late fee on `principal` for `days_` days, rounded up (for the vault).
    function lateFeeForDays(uint256 principal, uint256 bpsPerDay, uint256 days_) internal pure returns (uint256) {
        return Math.mulDiv(principal, bpsPerDay * days_, BPS, Math.Rounding.Ceil);
    }

    /// @dev Late fee accrued on an unchanged `principal` from `dueAt` to `nowTs`.
    function lateFeeAccrued(uint256 principal, uint256 bpsPerDay, uint256 dueAt, uint256 nowTs)
        internal
        pure
        returns (uint256)
    {
        return lateFeeForDays(principal, bpsPerDay, lateDays(dueAt, nowTs));
    }

    /// @dev Splits a payment: late fee first, then fee, then principal; what is left is refunded.
    function waterfall(uint256 amount, uint256 lateFee, uint256 fee, uint256 principal)
        internal
        pure
        returns (uint256 latePaid, uint256 feePaid, uint256 principalPaid, uint256 refund)
    {
        latePaid = Math.min(amount, lateFee);
        amount -= latePaid;
        feePaid = Math.min(amount, fee);
        amount -= feePaid;
        principalPaid = Math.min(amount, principal);
        refund = amount - principalPaid;
    }

    /// @dev Decays the keeper's used move allowance linearly over the window (a rolling window without a loop).
    function decayedUsage(uint256 used, uint256 cap, uint256 elapsed, uint256 window) internal pure returns (uint256) {
        uint256 decay = elapsed >= window ? cap : cap * elapsed / window;
        return used > decay ? used - decay : 0;
    }
}
