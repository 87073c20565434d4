// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BaseTest} from "../utils/BaseTest.sol";
import {ErrorsLib} from "../../src/libraries/ErrorsLib.sol";
import {EventsLib} from "../../src/libraries/EventsLib.sol";
import {FactoringVault} from "../../src/FactoringVault.sol";
import {Invoice, InvoiceStatus} from "../../src/interfaces/IFactoringVault.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @dev Overpays, then tries to re-enter the vault from the refund.
contract ReentrantPayer {
    FactoringVault internal immutable vault;
    bytes32 internal immutable id;
    bytes4 public reentryError;

    constructor(FactoringVault vault_, bytes32 id_) {
        vault = vault_;
        id = id_;
    }

    function pay() external payable {
        vault.repayETH{value: msg.value}(id);
    }

    receive() external payable {
        if (msg.sender != address(vault)) return;
        try vault.repayETH{value: 0}(id) {} catch (bytes memory err) {
            reentryError = bytes4(err);
        }
    }
}

contract RepayTest is BaseTest {
    bytes32 constant ID = keccak256("invoice-1");
    uint256 constant PRINCIPAL = 10 ether;
    uint256 constant FEE = 0.3 ether; // 10 % of it is the protocol's
    uint256 constant LP_FEE = 0.27 ether;
    address payer = makeAddr("payer");
    uint256 dueAt;

    function setUp() public override {
        super.setUp();
        _deposit(alice, 1_000 ether);
        _advance(ID, business, PRINCIPAL, FEE, 30);
        dueAt = uint256(vault.invoice(ID).dueDay) * 1 days;
    }

    function test_FeesAccrueLinearlyToTheDueDate() public {
        uint256 start = block.timestamp;
        uint256 tenor = dueAt - start;
        _warp(start + tenor / 2);
        assertApproxEqAbs(vault.accruedFees(), LP_FEE / 2, 2);
        assertApproxEqAbs(vault.totalAssets(), 1_000 ether + LP_FEE / 2, 2);
        _warp(dueAt + 3 days);
        assertApproxEqAbs(vault.accruedFees(), LP_FEE, 2, "accrual stops at the due date");
        assertLe(vault.accruedFees(), LP_FEE, "never more than the fee");
        assertTrue(vault.settlementDue());
        vault.settle();
        assertFalse(vault.settlementDue());
        assertApproxEqAbs(vault.accruedFees(), LP_FEE, 2);
    }

    function test_FullRepayBeforeDue_NoJumpInTotalAssets() public {
        _warp(block.timestamp + 10 days);
        uint256 assetsBefore = vault.totalAssets();
        vm.expectEmit(true, true, false, true, address(vault));
        emit EventsLib.InvoiceRepaid(ID, payer, 0, FEE, PRINCIPAL, 0.03 ether, 0, 0, 0);
        uint256 paid = _repayETH(payer, ID, PRINCIPAL + FEE);
        assertEq(paid, PRINCIPAL + FEE);
        assertEq(vault.totalAssets(), assetsBefore, "a repayment cannot be captured by a deposit just before it");
        assertEq(uint256(vault.invoice(ID).status), uint256(InvoiceStatus.Repaid));
        assertEq(vault.exposureOf(business), 0);
        assertEq(vault.protocolFeesOwed(), 0.03 ether);
        _warp(dueAt + 1 days);
        assertApproxEqAbs(vault.totalAssets(), 1_000 ether + LP_FEE, 2, "the fee is earned by the due date");
    }

    function test_RepayInWeth_PullsOnlyWhatIsOwed() public {
        vm.deal(payer, 20 ether);
        vm.startPrank(payer);
        weth.deposit{value: 20 ether}();
        weth.approve(address(vault), type(uint256).max);
        uint256 paid = vault.repay(ID, 20 ether);
        vm.stopPrank();
        assertEq(paid, PRINCIPAL + FEE);
        assertEq(weth.balanceOf(payer), 20 ether - PRINCIPAL - FEE);
    }

    function test_Overpayment_IsRefunded() public {
        uint256 paid = _repayETH(payer, ID, 11 ether);
        assertEq(paid, PRINCIPAL + FEE);
        assertEq(payer.balance, 11 ether - PRINCIPAL - FEE);
    }

    function test_PartialRepay_FeesBeforePrincipal() public {
        _repayETH(payer, ID, 0.2 ether);
        Invoice memory inv = vault.invoice(ID);
        assertEq(inv.fee, 0.1 ether);
        assertEq(inv.principal, PRINCIPAL);
        _repayETH(payer, ID, 4 ether);
        inv = vault.invoice(ID);
        assertEq(inv.fee, 0);
        assertEq(inv.principal, PRINCIPAL - 3.9 ether);
        assertEq(vault.exposureOf(business), PRINCIPAL - 3.9 ether);
        assertEq(uint256(inv.status), uint256(InvoiceStatus.Performing));
    }

    function test_LateFee_PerStartedDay_IsIncomeWhenPaid() public {
        _warp(dueAt + 1);
        (uint256 late, uint256 fee, uint256 principal, uint256 total) = vault.amountOwed(ID);
        assertEq(late, 0.01 ether, "10 bps of 10 ETH for one started day");
        assertEq(total, late + fee + principal);
        _warp(dueAt + 2 days + 1);
        (late,,,) = vault.amountOwed(ID);
        assertEq(late, 0.03 ether);
        vault.settle();
        uint256 assetsBefore = vault.totalAssets();
        _repayETH(payer, ID, 0.03 ether);
        assertEq(vault.totalAssets(), assetsBefore, "income vests: nothing to capture with a flash deposit");
        assertEq(vault.lateFeePaid(ID), 0.03 ether);
        (late,,,) = vault.amountOwed(ID);
        assertEq(late, 0);
        _skip(7 days);
        assertApproxEqAbs(vault.totalAssets() - assetsBefore, 0.027 ether, 2, "late fee less the protocol's 10 %, vested");
    }

    function test_LateFee_NotRepricedByAPartialPrincipalPayment() public {
        _warp(dueAt + 10 days);
        (uint256 late,,,) = vault.amountOwed(ID);
        assertEq(late, 0.1 ether, "10 days at 10 bps of 10 ETH");
        _repayETH(payer, ID, late + FEE + 9 ether); // late fee, fee, 9 of the 10 ETH principal
        _warp(dueAt + 14 days);
        (late,,,) = vault.amountOwed(ID);
        assertEq(late, 0.004 ether, "4 more days on the 1 ETH left");
    }

    function test_FlashDepositAroundALateFee_CapturesNothing() public {
        _warp(dueAt + 20 days);
        vault.settle();
        address flash = makeAddr("flash");
        uint256 shares = _deposit(flash, 9_000 ether);
        (uint256 late,,,) = vault.amountOwed(ID);
        _repayETH(payer, ID, late);
        vm.prank(flash);
        uint256 out = vault.redeemETH(shares, flash, flash);
        assertLe(out, 9_000 ether);
    }

    function test_RepayWorksWhilePaused() public {
        vm.prank(pauser);
        vault.pause();
        _repayETH(payer, ID, PRINCIPAL + FEE);
        assertEq(uint256(vault.invoice(ID).status), uint256(InvoiceStatus.Repaid));
    }

    function test_ReentrancyThroughRefund_IsBlocked() public {
        ReentrantPayer attacker = new ReentrantPayer(vault, ID);
        vm.deal(address(this), 11 ether);
        attacker.pay{value: 11 ether}();
        assertEq(attacker.reentryError(), ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
        assertEq(address(attacker).balance, 11 ether - PRINCIPAL - FEE);
        assertEq(uint256(vault.invoice(ID).status), uint256(InvoiceStatus.Repaid));
    }

    function test_RevertWhen_RepayZero() public {
        vm.expectRevert(ErrorsLib.ZeroAmount.selector);
        vault.repayETH{value: 0}(ID);
        vm.expectRevert(ErrorsLib.ZeroAmount.selector);
        vault.repay(ID, 0);
    }

    function test_RevertWhen_UnknownInvoice() public {
        vm.deal(address(this), 1 ether);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.UnknownInvoice.selector, bytes32("nope")));
        vault.repayETH{value: 1 ether}(bytes32("nope"));
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.UnknownInvoice.selector, bytes32("nope")));
        vault.amountOwed(bytes32("nope"));
    }

    function test_RevertWhen_AlreadyRepaid() public {
        _repayETH(payer, ID, PRINCIPAL + FEE);
        vm.deal(payer, 1 ether);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.InvoiceNotOutstanding.selector, ID));
        vault.repayETH{value: 1 ether}(ID);
    }

    function test_ProtocolFees_GoToTheTreasury() public {
        _repayETH(payer, ID, PRINCIPAL + FEE);
        uint256 amount = vault.claimProtocolFees();
        assertEq(amount, 0.03 ether);
        assertEq(weth.balanceOf(treasury), 0.03 ether);
        vm.expectRevert(ErrorsLib.ZeroAmount.selector);
        vault.claimProtocolFees();
    }
}

contract WriteOffTest is BaseTest {
    bytes32 constant ID = keccak256("invoice-1");
    uint256 dueAt;

    function setUp() public override {
        super.setUp();
        _deposit(alice, 1_000 ether);
        _advance(ID, business, 10 ether, 0.3 ether, 30);
        dueAt = uint256(vault.invoice(ID).dueDay) * 1 days;
    }

    function test_KeeperWritesOffAfterGrace_LossAtOnce() public {
        _warp(dueAt + 15 days);
        vault.settle();
        uint256 before = vault.totalAssets();
        vm.expectEmit(true, true, false, true, address(vault));
        emit EventsLib.InvoiceWrittenOff(ID, keeper, 10 ether, 0.27 ether);
        vm.prank(keeper);
        vault.writeOff(ID);
        assertEq(before - vault.totalAssets(), 10.27 ether, "principal and the vault's fee leave at once");
        assertEq(vault.exposureOf(business), 0);
        assertEq(uint256(vault.invoice(ID).status), uint256(InvoiceStatus.WrittenOff));
    }

    function test_RevertWhen_KeeperWritesOffDuringGrace() public {
        _warp(dueAt + 15 days - 1);
        vm.prank(keeper);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.NotYetWriteOffable.selector, ID, dueAt + 15 days));
        vault.writeOff(ID);
    }

    function test_AnyoneWritesOffAfterThePublicDelay() public {
        _warp(dueAt + 30 days - 1);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.NotYetWriteOffable.selector, ID, dueAt + 30 days));
        vault.writeOff(ID);
        _warp(dueAt + 30 days);
        vm.prank(stranger);
        vault.writeOff(ID);
        (uint256 keeperAt, uint256 publicAt) = vault.writeOffTimes(ID);
        assertEq(keeperAt, dueAt + 15 days);
        assertEq(publicAt, dueAt + 30 days);
    }

    function test_RecoveryAfterWriteOff_IsIncome() public {
        _warp(dueAt + 15 days);
        vm.prank(keeper);
        vault.writeOff(ID);
        uint256 before = vault.totalAssets();
        address payer = makeAddr("payer");
        // Recoverable: principal, fee, and the late fee frozen at write-off (15 days x 10 bps x 10 ETH).
        vm.expectEmit(true, true, false, true, address(vault));
        emit EventsLib.RecoveryReceived(ID, payer, 4 ether, 0, 6.45 ether);
        _repayETH(payer, ID, 4 ether);
        assertEq(vault.totalAssets(), before, "a recovery vests: a flash deposit captures nothing");
        _skip(7 days);
        assertApproxEqAbs(vault.totalAssets() - before, 4 ether, 2);
        uint256 paid = _repayETH(payer, ID, 7 ether);
        assertEq(paid, 6.45 ether);
        assertEq(payer.balance, 0.55 ether, "refund of the excess");
        assertEq(uint256(vault.invoice(ID).status), uint256(InvoiceStatus.Repaid));
    }

    function test_RevertWhen_WriteOffTwiceOrUnknown() public {
        _warp(dueAt + 15 days);
        vm.startPrank(keeper);
        vault.writeOff(ID);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.InvoiceNotOutstanding.selector, ID));
        vault.writeOff(ID);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.UnknownInvoice.selector, bytes32("x")));
        vault.writeOff(bytes32("x"));
        vm.stopPrank();
    }
}

contract EthRefusingPayer {
    function pay(address vault, bytes32 id) external payable {
        (bool ok, bytes memory err) = vault.call{value: msg.value}(abi.encodeWithSignature("repayETH(bytes32)", id));
        if (!ok) {
            assembly {
                revert(add(err, 32), mload(err))
            }
        }
    }
}

contract RefundTest is BaseTest {
    function test_RefundToAPayerRefusingEth_IsPaidInWeth() public {
        _deposit(alice, 100 ether);
        _advance(keccak256("i"), business, 1 ether, 0.01 ether, 30);
        EthRefusingPayer payer = new EthRefusingPayer();
        vm.deal(address(this), 2 ether);
        payer.pay{value: 2 ether}(address(vault), keccak256("i"));
        assertEq(weth.balanceOf(address(payer)), 0.99 ether);
    }
}
