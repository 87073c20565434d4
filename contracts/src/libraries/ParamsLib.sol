// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {RiskParams, AdvanceRequest} from "../interfaces/IFactoringVault.sol";
import {ErrorsLib} from "./ErrorsLib.sol";

/// @title ParamsLib
/// @notice The hard bounds of every risk parameter: whoever the admin is, a parameter moves only inside these.
/// `validate` is external so its code lives outside the vault (EIP-170).
library ParamsLib {
    uint256 internal constant MAX_ADVANCE_CAP = 10_000 ether;
    uint256 internal constant MAX_EXPOSURE_CAP = 100_000 ether;
    uint256 internal constant MIN_UTILISATION_BPS = 1_000;
    uint256 internal constant MAX_UTILISATION_BPS = 9_500;
    uint256 internal constant MIN_IDLE_BPS = 100;
    uint256 internal constant MAX_IDLE_BPS = 5_000;
    uint256 internal constant MAX_PROTOCOL_FEE_BPS = 2_000;
    uint256 internal constant MAX_LATE_FEE_BPS_PER_DAY = 100;
    uint256 internal constant MAX_FEE_BPS = 2_500; // of principal, per invoice
    uint256 internal constant MIN_TENOR = 1 days;
    uint256 internal constant MAX_TENOR_CAP = 180 days;
    uint256 internal constant MIN_GRACE = 1 days;
    uint256 internal constant MAX_GRACE = 90 days;
    uint256 internal constant MIN_PUBLIC_DELAY = 1 days;
    uint256 internal constant MAX_PUBLIC_DELAY = 30 days;
    uint256 internal constant MIN_MOVE_WINDOW = 1 hours;
    uint256 internal constant MAX_MOVE_WINDOW = 7 days;
    uint256 internal constant MAX_MOVE_CAP = 1_000_000 ether;
    uint256 internal constant MIN_ADMIN_DELAY = 1 hours;
    uint256 internal constant MAX_ADMIN_DELAY = 30 days;

    function validate(RiskParams memory p) external pure {
        check("maxAdvancePerInvoice", p.maxAdvancePerInvoice, 1, MAX_ADVANCE_CAP);
        check("maxExposurePerBusiness", p.maxExposurePerBusiness, p.maxAdvancePerInvoice, MAX_EXPOSURE_CAP);
        check("maxUtilisationBps", p.maxUtilisationBps, MIN_UTILISATION_BPS, MAX_UTILISATION_BPS);
        check("minIdleBps", p.minIdleBps, MIN_IDLE_BPS, MAX_IDLE_BPS);
        check("protocolFeeBps", p.protocolFeeBps, 0, MAX_PROTOCOL_FEE_BPS);
        check("maxLateFeeBpsPerDay", p.maxLateFeeBpsPerDay, 0, MAX_LATE_FEE_BPS_PER_DAY);
        check("maxTenor", p.maxTenor, MIN_TENOR, MAX_TENOR_CAP);
        check("gracePeriod", p.gracePeriod, MIN_GRACE, MAX_GRACE);
        check("publicWriteOffDelay", p.publicWriteOffDelay, MIN_PUBLIC_DELAY, MAX_PUBLIC_DELAY);
        check("moveWindow", p.moveWindow, MIN_MOVE_WINDOW, MAX_MOVE_WINDOW);
        check("moveCapPerWindow", p.moveCapPerWindow, 1, MAX_MOVE_CAP);
    }

    /// @dev The checks of a batch that need no storage; returns the batch's total principal. (Whether an invoice
    ///      was financed before, and each business's exposure, the vault checks itself.)
    function checkAdvances(AdvanceRequest[] calldata requests, RiskParams memory p)
        external
        view
        returns (uint256 total)
    {
        for (uint256 i; i < requests.length; ++i) {
            AdvanceRequest calldata r = requests[i];
            _checkAdvance(r, p);
            total += r.principal;
        }
    }

    function _checkAdvance(AdvanceRequest calldata r, RiskParams memory p) private view {
        if (r.id == bytes32(0)) revert ErrorsLib.InvalidInvoiceId();
        if (r.payout == address(0)) revert ErrorsLib.ZeroAddress();
        if (r.principal == 0) revert ErrorsLib.ZeroAmount();
        if (r.principal > p.maxAdvancePerInvoice) {
            revert ErrorsLib.AdvanceTooLarge(r.id, r.principal, p.maxAdvancePerInvoice);
        }
        uint256 maxFee = uint256(r.principal) * MAX_FEE_BPS / 10_000;
        if (r.fee > maxFee) revert ErrorsLib.FeeTooHigh(r.id, r.fee, maxFee);
        if (r.lateFeeBpsPerDay > p.maxLateFeeBpsPerDay) {
            revert ErrorsLib.LateFeeTooHigh(r.id, r.lateFeeBpsPerDay, p.maxLateFeeBpsPerDay);
        }
        if (r.dueAt % 1 days != 0) revert ErrorsLib.DueDateNotDayAligned(r.dueAt);
        if (r.dueAt <= block.timestamp) revert ErrorsLib.DueDateInPast(r.dueAt, block.timestamp);
        uint256 tenor = r.dueAt - block.timestamp;
        if (tenor < MIN_TENOR) revert ErrorsLib.TenorTooShort(tenor, MIN_TENOR);
        if (tenor > p.maxTenor) revert ErrorsLib.TenorTooLong(tenor, p.maxTenor);
    }

    function check(bytes32 name, uint256 value, uint256 min, uint256 max) internal pure {
        if (value < min || value > max) revert ErrorsLib.ParamOutOfBounds(name, value, min, max);
    }
}
