// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BaseTest} from "../utils/BaseTest.sol";
import {Test} from "../utils/Test.sol";
import {FeeMath} from "../../src/libraries/FeeMath.sol";
import {Invoice} from "../../src/interfaces/IFactoringVault.sol";

/// @notice Pure money math: every split adds up and every rounding goes the vault's way.
contract FeeMathFuzzTest is Test {
    function testFuzz_Waterfall_PartsAddUp_FeesFirst(uint256 amount, uint128 late, uint128 fee, uint128 principal) public pure {
        amount = bound(amount, 0, type(uint128).max);
        (uint256 l, uint256 f, uint256 p, uint256 refund) = FeeMath.waterfall(amount, late, fee, principal);
        assertEq(l + f + p + refund, amount);
        assertLe(l, late);
        assertLe(f, fee);
        assertLe(p, principal);
        if (f > 0) assertEq(l, late, "no fee before the late fee is paid");
        if (p > 0) assertEq(f, fee, "no principal before the fee is paid");
        if (refund > 0) assertEq(l + f + p, uint256(late) + fee + principal, "refund only above what is owed");
    }

    function testFuzz_ProtocolCut_NeverAboveItsShare(uint128 amount, uint256 bps) public pure {
        bps = bound(bps, 0, 2_000);
        uint256 cut = FeeMath.protocolCut(amount, bps);
        assertLe(cut * 10_000, uint256(amount) * bps);
        assertGt(cut * 10_000 + 10_000, uint256(amount) * bps, "floor, off by less than one wei");
    }

    function testFuzz_LateFee_AStartedDayCounts_RoundsUp(uint128 principal, uint256 bps, uint256 late) public pure {
        bps = bound(bps, 1, 100);
        late = bound(late, 1, 400 days);
        uint256 dueAt = 1_000_000_000;
        uint256 fee = FeeMath.lateFeeAccrued(principal, bps, dueAt, dueAt + late);
        uint256 days_ = (late + 1 days - 1) / 1 days;
        uint256 exactNumerator = uint256(principal) * bps * days_;
        assertGe(fee * 10_000, exactNumerator);
        assertLt(fee * 10_000, exactNumerator + 10_000);
        assertEq(FeeMath.lateFeeAccrued(principal, bps, dueAt, dueAt), 0, "nothing on the due date itself");
    }

    function testFuzz_IssuanceRate_NeverAccruesMoreThanTheFee(uint128 lpFee, uint256 tenor) public pure {
        tenor = bound(tenor, 1, 180 days);
        uint256 rate = FeeMath.issuanceRate(lpFee, tenor);
        uint256 accrued = rate * tenor / 1e18;
        assertLe(accrued, lpFee);
        assertGe(accrued + 1, lpFee, "short of the fee by at most one wei");
    }

    function testFuzz_DecayedUsage_NeverGrows(uint128 used, uint128 cap, uint256 elapsed, uint256 window) public pure {
        window = bound(window, 1 hours, 7 days);
        uint256 after_ = FeeMath.decayedUsage(used, cap, elapsed, window);
        assertLe(after_, used);
        if (elapsed >= window) assertEq(after_, used > cap ? used - cap : 0);
    }
}

/// @notice The same rules through the deployed vault.
contract VaultMathFuzzTest is BaseTest {
    function setUp() public override {
        super.setUp();
        _deposit(alice, 1_000 ether);
    }

    function testFuzz_Accrual_LinearAndCapped(uint256 principal, uint256 feeBps, uint256 tenorDays, uint256 elapsed) public {
        principal = bound(principal, 1 ether, 100 ether);
        uint256 fee = principal * bound(feeBps, 0, 2_500) / 10_000;
        tenorDays = bound(tenorDays, 2, 120);
        _advance(keccak256("f"), business, principal, fee, tenorDays);
        Invoice memory inv = vault.invoice(keccak256("f"));
        uint256 dueAt = uint256(inv.dueDay) * 1 days;
        uint256 tenor = dueAt - block.timestamp;
        uint256 lpFee = fee - fee / 10;
        elapsed = bound(elapsed, 0, tenor + 30 days);
        _skip(elapsed);
        uint256 expected = lpFee * (elapsed > tenor ? tenor : elapsed) / tenor;
        assertLe(vault.accruedFees(), lpFee);
        assertApproxEqAbs(vault.accruedFees(), expected, 2);
        assertApproxEqAbs(vault.totalAssets(), 1_000 ether + expected, 2);
    }

    function testFuzz_Previews_MatchActions_RoundAgainstCaller(uint256 assets, uint256 warpBy) public {
        _advance(keccak256("f"), business, 100 ether, 3 ether, 60);
        _skip(bound(warpBy, 0, 50 days));
        assets = bound(assets, 1e6, 100 ether);
        uint256 preview = vault.previewDeposit(assets);
        uint256 shares = _deposit(bob, assets);
        assertEq(shares, preview);
        assertLe(vault.convertToAssets(shares), assets, "shares never worth more than what was paid");
        uint256 previewOut = vault.previewRedeem(shares);
        vm.prank(bob);
        uint256 out = vault.redeemETH(shares, bob, bob);
        assertEq(out, previewOut);
        assertLe(out, assets, "a round trip never gains");
        uint256 wanted = assets / 2;
        uint256 needShares = vault.previewWithdraw(wanted);
        assertGe(vault.convertToAssets(needShares) + 1, wanted);
    }

    function testFuzz_Repay_RefundsExactlyTheExcess(uint256 amount, uint256 warpBy) public {
        _advance(keccak256("f"), business, 10 ether, 0.3 ether, 30);
        _skip(bound(warpBy, 0, 60 days));
        (,,, uint256 owed) = vault.amountOwed(keccak256("f"));
        amount = bound(amount, 1, owed * 2);
        address payer = makeAddr("payer");
        uint256 paid = _repayETH(payer, keccak256("f"), amount);
        uint256 expectedPaid = amount < owed ? amount : owed;
        assertEq(paid, expectedPaid);
        assertEq(payer.balance, amount - expectedPaid);
        (,,, uint256 left) = vault.amountOwed(keccak256("f"));
        assertEq(left, owed - expectedPaid);
    }

    function testFuzz_Repay_NeverMovesTheSharePriceDown(uint256 amount, uint256 warpBy) public {
        _advance(keccak256("f"), business, 10 ether, 0.3 ether, 30);
        _skip(bound(warpBy, 0, 40 days));
        uint256 before = vault.totalAssets();
        _repayETH(makeAddr("payer"), keccak256("f"), bound(amount, 1, 11 ether));
        assertGe(vault.totalAssets(), before);
    }
}
