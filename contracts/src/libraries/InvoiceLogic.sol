// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Invoice, InvoiceStatus} from "../interfaces/IFactoringVault.sol";
import {ErrorsLib} from "./ErrorsLib.sol";
import {EventsLib} from "./EventsLib.sol";
import {FeeMath} from "./FeeMath.sol";

/// @dev Late fee checkpoint, written only when a late invoice is paid: what had accrued, what was paid, and over
///      how many started days it was charged (so a later principal payment never reprices them).
struct LateFee {
    uint112 accrued;
    uint112 paid;
    uint32 daysCharged;
}

/// @notice The invoices' storage: records, late-fee checkpoints, principal outstanding per payout address.
struct InvoiceBook {
    mapping(bytes32 id => Invoice) invoices;
    mapping(bytes32 id => LateFee) lateFees;
    mapping(address payout => uint256) exposure;
}

/// @notice What a payment changes in the vault's totals.
struct PaymentEffect {
    uint256 used; // taken from the payer; the rest is refunded
    uint256 toIdle; // cash that joins idle (the protocol's share excluded)
    uint256 principalPaid; // leaves principal outstanding
    uint256 settled; // leaves the fee receivable (scheduled fee) or vests (late fee, recovery)
    uint256 protocolFee;
    uint256 vest; // income to vest: late fee and recoveries
}

/// @title InvoiceLogic
/// @notice Payments and write-offs of invoices, as an external library (its code lives outside the vault, which
/// stays under EIP-170's size limit). The vault applies the returned effect to its totals.
library InvoiceLogic {
    using SafeCast for uint256;

    /// @dev Splits a payment of up to `amount` by the waterfall (late fee, fee, principal) and books it on the
    ///      invoice; on a written-off invoice it is a recovery (fee, then principal), all of it vested income.
    function pay(InvoiceBook storage b, bytes32 id, uint256 amount, address payer)
        external
        returns (PaymentEffect memory e)
    {
        Invoice storage inv = b.invoices[id];
        InvoiceStatus status = inv.status;
        if (status == InvoiceStatus.None) revert ErrorsLib.UnknownInvoice(id);
        if (status == InvoiceStatus.Repaid) revert ErrorsLib.InvoiceNotOutstanding(id);
        if (status == InvoiceStatus.WrittenOff) return _recover(inv, id, amount, payer);

        (uint256 lateAccrued, uint256 latePaid, uint256 daysLate) = lateFeeState(b, id);
        Split memory w;
        (w.late, w.fee, w.principal, w.refund) =
            FeeMath.waterfall(amount, lateAccrued - Math.min(latePaid, lateAccrued), inv.fee, inv.principal);
        e = _effect(w, amount, inv.protocolFeeBps);
        if (w.principal != 0) b.exposure[inv.payout] -= w.principal;
        if (daysLate != 0) {
            b.lateFees[id] = LateFee(lateAccrued.toUint112(), (latePaid + w.late).toUint112(), uint32(daysLate));
        }
        _book(inv, id, payer, w, e.protocolFee);
    }

    /// @dev One payment split by the waterfall.
    struct Split {
        uint256 late;
        uint256 fee;
        uint256 principal;
        uint256 refund;
    }

    function _effect(Split memory w, uint256 amount, uint256 protocolFeeBps) private pure returns (PaymentEffect memory e) {
        uint256 lateCut = FeeMath.protocolCut(w.late, protocolFeeBps);
        uint256 feeCut = FeeMath.protocolCut(w.fee, protocolFeeBps);
        e.used = amount - w.refund;
        e.protocolFee = lateCut + feeCut;
        e.toIdle = e.used - e.protocolFee;
        e.principalPaid = w.principal;
        // The scheduled (vault) part of the fee leaves the receivable; the late fee is income, vested.
        e.vest = w.late - lateCut;
        e.settled = w.fee - feeCut + e.vest;
    }

    function _book(Invoice storage inv, bytes32 id, address payer, Split memory w, uint256 protocolFee) private {
        uint256 principalLeft = inv.principal - w.principal;
        uint256 feeLeft = inv.fee - w.fee;
        inv.principal = uint128(principalLeft);
        inv.fee = uint128(feeLeft);
        if (principalLeft == 0 && feeLeft == 0) inv.status = InvoiceStatus.Repaid;
        emit EventsLib.InvoiceRepaid(id, payer, w.late, w.fee, w.principal, protocolFee, w.refund, principalLeft, feeLeft);
    }

    function _recover(Invoice storage inv, bytes32 id, uint256 amount, address payer)
        private
        returns (PaymentEffect memory e)
    {
        uint256 fee = inv.fee;
        uint256 principal = inv.principal;
        (, uint256 feePaid, uint256 principalPaid, uint256 refund) = FeeMath.waterfall(amount, 0, fee, principal);
        e.used = feePaid + principalPaid;
        e.toIdle = e.used;
        e.settled = e.used;
        e.vest = e.used;
        inv.fee = uint128(fee - feePaid);
        inv.principal = uint128(principal - principalPaid);
        uint256 left = fee - feePaid + principal - principalPaid;
        if (left == 0) inv.status = InvoiceStatus.Repaid;
        emit EventsLib.RecoveryReceived(id, payer, e.used, refund, left);
    }

    /// @dev Takes a performing invoice off the books once `caller` may. Returns the principal lost and the vault's
    ///      share of the unpaid fee; principal, fee and the late fee owed stay on it as what is still recoverable.
    function writeOff(InvoiceBook storage b, bytes32 id, address caller, bool isKeeper, uint256 grace, uint256 delay)
        external
        returns (uint256 principal, uint256 lpFeeLost)
    {
        Invoice storage inv = b.invoices[id];
        if (inv.status == InvoiceStatus.None) revert ErrorsLib.UnknownInvoice(id);
        if (inv.status != InvoiceStatus.Performing) revert ErrorsLib.InvoiceNotOutstanding(id);
        (uint256 keeperAt, uint256 publicAt) = writeOffTimes(inv, grace, delay);
        uint256 allowedAt = isKeeper ? keeperAt : publicAt;
        if (block.timestamp < allowedAt) revert ErrorsLib.NotYetWriteOffable(id, allowedAt);

        principal = inv.principal;
        uint256 fee = inv.fee;
        lpFeeLost = fee - FeeMath.protocolCut(fee, inv.protocolFeeBps);
        b.exposure[inv.payout] -= principal;
        inv.fee = (fee + lateFeeOwed(b, id)).toUint128();
        inv.status = InvoiceStatus.WrittenOff;
        emit EventsLib.InvoiceWrittenOff(id, caller, principal, lpFeeLost);
    }

    /// @dev What it takes to close invoice `id` now (the late fee only while it performs).
    function amountOwed(InvoiceBook storage b, bytes32 id)
        external
        view
        returns (uint256 lateFee, uint256 fee, uint256 principal, uint256 total)
    {
        Invoice storage inv = b.invoices[id];
        if (inv.status == InvoiceStatus.None) revert ErrorsLib.UnknownInvoice(id);
        if (inv.status == InvoiceStatus.Performing) lateFee = lateFeeOwed(b, id);
        fee = inv.fee;
        principal = inv.principal;
        total = lateFee + fee + principal;
    }

    function writeOffTimes(Invoice storage inv, uint256 grace, uint256 delay)
        internal
        view
        returns (uint256 keeperAt, uint256 publicAt)
    {
        keeperAt = uint256(inv.dueDay) * FeeMath.DAY + grace;
        publicAt = keeperAt + delay;
    }

    function lateFeeOwed(InvoiceBook storage b, bytes32 id) internal view returns (uint256) {
        (uint256 accrued, uint256 paid,) = lateFeeState(b, id);
        return accrued > paid ? accrued - paid : 0;
    }

    /// @dev Late fee accrued so far: the checkpoint plus the days started since it, on today's principal.
    function lateFeeState(InvoiceBook storage b, bytes32 id)
        internal
        view
        returns (uint256 accrued, uint256 paid, uint256 daysLate)
    {
        Invoice storage inv = b.invoices[id];
        daysLate = FeeMath.lateDays(uint256(inv.dueDay) * FeeMath.DAY, block.timestamp);
        if (daysLate == 0) return (0, 0, 0); // not late: skip the cold read of the checkpoint
        LateFee memory c = b.lateFees[id];
        accrued = c.accrued + FeeMath.lateFeeForDays(inv.principal, inv.lateFeeBpsPerDay, daysLate - c.daysCharged);
        paid = c.paid;
    }
}
