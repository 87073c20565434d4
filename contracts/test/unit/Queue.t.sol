// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BaseTest} from "../utils/BaseTest.sol";
import {ErrorsLib} from "../../src/libraries/ErrorsLib.sol";
import {EventsLib} from "../../src/libraries/EventsLib.sol";
import {AdvanceRequest, RedeemRequest} from "../../src/interfaces/IFactoringVault.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";

contract QueueTest is BaseTest {
    bytes32[9] ids;
    uint256 aliceShares;
    uint256 bobShares;

    function setUp() public override {
        super.setUp();
        aliceShares = _deposit(alice, 600 ether);
        bobShares = _deposit(bob, 400 ether);
        // 850 ETH lent out to three businesses: 150 ETH idle.
        AdvanceRequest[] memory batch = new AdvanceRequest[](9);
        address[3] memory payouts = [business, business2, carol];
        for (uint256 i; i < 9; ++i) {
            ids[i] = keccak256(abi.encode(i));
            uint256 principal = i == 8 ? 50 ether : 100 ether;
            batch[i] = _request(ids[i], payouts[i / 3], principal, principal / 100, 30);
        }
        vm.prank(keeper);
        vault.advance(batch);
    }

    function test_RequestRedeem_LocksShares() public {
        vm.expectEmit(true, true, true, true, address(vault));
        emit EventsLib.RedeemRequested(0, alice, carol, aliceShares);
        vm.prank(alice);
        uint256 id = vault.requestRedeem(aliceShares, carol);
        assertEq(id, 0);
        assertEq(vault.balanceOf(alice), 0);
        assertEq(vault.balanceOf(address(vault)), aliceShares);
        (uint256 head, uint256 nextId, uint256 queued, uint256 claimable) = vault.queueState();
        assertEq(head, 0);
        assertEq(nextId, 1);
        assertEq(queued, aliceShares);
        assertEq(claimable, 0);
    }

    function test_ProcessQueue_FifoPartialFillThenCompletesAfterRepayment() public {
        vm.prank(alice);
        vault.requestRedeem(aliceShares, alice);
        vm.prank(bob);
        vault.requestRedeem(bobShares / 2, bob);

        uint256 filled = vault.processQueue(10);
        assertEq(filled, 1, "only alice, partly: 150 ETH idle");
        RedeemRequest memory a = vault.redeemRequest(0);
        assertApproxEqAbs(a.assetsClaimable, 150 ether, 1e6);
        assertGt(a.sharesPending, 0);
        assertEq(vault.redeemRequest(1).assetsClaimable, 0, "bob waits behind alice");
        assertEq(vault.availableLiquidity(), 0);

        _skip(10 days);
        for (uint256 i; i < 9; ++i) {
            _repayETH(business, ids[i], 101 ether);
        }
        uint256 priceBefore = _sharePrice();
        vault.processQueue(10);
        assertEq(_sharePrice(), priceBefore, "a fill does not move the share price");
        a = vault.redeemRequest(0);
        assertEq(a.sharesPending, 0);
        RedeemRequest memory b = vault.redeemRequest(1);
        assertEq(b.sharesPending, 0, "bob filled from the same repayment");
        assertApproxEqAbs(b.assetsClaimable, vault.convertToAssets(bobShares / 2), 1e9);
        (uint256 head,, uint256 queued,) = vault.queueState();
        assertEq(head, 2);
        assertEq(queued, 0);
        assertGt(a.assetsClaimable, 600 ether, "alice earned the fee accrued while queued");
    }

    function test_Claim_InEthOrWeth_ByOwnerOrReceiver() public {
        uint256 shares_alice = vault.convertToShares(100 ether);
        vm.prank(alice);
        vault.requestRedeem(shares_alice, carol);
        vault.processQueue(1);
        uint256 assets = vault.redeemRequest(0).assetsClaimable;
        uint256 carolBefore = carol.balance;
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.NotRequestOwner.selector, 0, stranger));
        vault.claim(0, true);
        vm.prank(alice);
        vault.claim(0, true);
        assertEq(carol.balance - carolBefore, assets, "paid to the receiver in ETH");
        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.NothingToClaim.selector, 0));
        vault.claim(0, false);

        uint256 shares_bob = vault.convertToShares(10 ether);
        vm.prank(bob);
        vault.requestRedeem(shares_bob, bob);
        vault.processQueue(1);
        vm.prank(bob);
        uint256 got = vault.claim(1, false);
        assertEq(weth.balanceOf(bob), got);
    }

    function test_Cancel_ReturnsUnfilledShares() public {
        vm.prank(alice);
        vault.requestRedeem(aliceShares, alice);
        vault.processQueue(1);
        uint256 pending = vault.redeemRequest(0).sharesPending;
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.NotRequestOwner.selector, 0, bob));
        vault.cancelRequest(0);
        vm.expectEmit(true, true, false, true, address(vault));
        emit EventsLib.RedeemCancelled(0, alice, pending);
        vm.prank(alice);
        vault.cancelRequest(0);
        assertEq(vault.balanceOf(alice), pending);
        assertGt(vault.redeemRequest(0).assetsClaimable, 0, "the filled part stays claimable");
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.NothingToCancel.selector, 0));
        vault.cancelRequest(0);
        (,, uint256 queued,) = vault.queueState();
        assertEq(queued, 0);
    }

    function test_QueueIsServedBeforeInstantRedemptions() public {
        assertEq(vault.maxWithdraw(bob), 150 ether);
        uint256 shares_alice = vault.convertToShares(120 ether);
        vm.prank(alice);
        vault.requestRedeem(shares_alice, alice);
        assertApproxEqAbs(vault.availableLiquidity(), 30 ether, 1);
        assertApproxEqAbs(vault.maxWithdraw(bob), 30 ether, 1);
        uint256 maxShares = vault.maxRedeem(bob);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxRedeem.selector, bob, maxShares + 1, maxShares));
        vault.redeem(maxShares + 1, bob, bob);
        vm.prank(bob);
        vault.redeem(maxShares, bob, bob);
    }

    function test_PauseNeverBlocksQueueOrClaims() public {
        vm.prank(pauser);
        vault.pause();
        uint256 shares_alice = vault.convertToShares(50 ether);
        vm.prank(alice);
        vault.requestRedeem(shares_alice, alice);
        vault.processQueue(1);
        vm.prank(alice);
        uint256 got = vault.claim(0, true);
        assertApproxEqAbs(got, 50 ether, 1);
        uint256 out_bob = vault.convertToShares(10 ether);
        vm.prank(bob);
        vault.redeemETH(out_bob, bob, bob);
    }

    function test_RevertWhen_BadRequests() public {
        vm.startPrank(alice);
        vm.expectRevert(ErrorsLib.ZeroAmount.selector);
        vault.requestRedeem(0, alice);
        vm.expectRevert(ErrorsLib.ZeroAddress.selector);
        vault.requestRedeem(1, address(0));
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.UnknownRequest.selector, 7));
        vault.claim(7, true);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.UnknownRequest.selector, 7));
        vault.cancelRequest(7);
        vm.stopPrank();
    }
}
