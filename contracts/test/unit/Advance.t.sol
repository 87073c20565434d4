// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BaseTest} from "../utils/BaseTest.sol";
import {ErrorsLib} from "../../src/libraries/ErrorsLib.sol";
import {EventsLib} from "../../src/libraries/EventsLib.sol";
import {AdvanceRequest, Invoice, InvoiceStatus} from "../../src/interfaces/IFactoringVault.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {FactoringVault} from "../../src/FactoringVault.sol";

contract EthRefuser {
    receive() external payable {
        revert("no ETH");
    }
}

contract GasBurner {
    receive() external payable {
        while (true) {}
    }
}

/// @dev A payout address that tries to re-enter the vault while receiving its advance.
contract ReentrantPayout {
    FactoringVault internal immutable vault;
    bytes4 public reentryError = 0xffffffff; // non-zero, so the write inside receive() stays cheap

    constructor(FactoringVault vault_) {
        vault = vault_;
    }

    receive() external payable {
        try vault.settle() {} catch (bytes memory err) {
            reentryError = bytes4(err);
        }
    }
}

contract AdvanceTest is BaseTest {
    bytes32 constant ID = keccak256("invoice-1");

    function setUp() public override {
        super.setUp();
        _deposit(alice, 1_000 ether);
    }

    function test_Advance_PaysPrincipalInEthAndBooksTheInvoice() public {
        uint256 before = business.balance;
        uint256 assetsBefore = vault.totalAssets();
        AdvanceRequest memory r = _request(ID, business, 10 ether, 0.3 ether, 30);
        vm.expectEmit(true, true, false, true, address(vault));
        emit EventsLib.InvoiceAdvanced(ID, business, 10 ether, 0.3 ether, 1_000, block.timestamp, r.dueAt, 10, false);
        vm.prank(keeper);
        vault.advance(_one(r));

        assertEq(business.balance - before, 10 ether, "payout in ETH");
        Invoice memory inv = vault.invoice(ID);
        assertEq(uint256(inv.status), uint256(InvoiceStatus.Performing));
        assertEq(inv.principal, 10 ether);
        assertEq(inv.fee, 0.3 ether);
        assertEq(uint256(inv.dueDay) * 1 days, r.dueAt);
        assertEq(vault.exposureOf(business), 10 ether);
        assertEq(vault.totalAssets(), assetsBefore, "an advance moves idle into principal: NAV unchanged");
        assertEq(vault.availableLiquidity(), 990 ether);
    }

    function test_Advance_PayoutRefusingEthGetsWeth() public {
        address refuser = address(new EthRefuser());
        _advance(ID, refuser, 5 ether, 0.1 ether, 30);
        assertEq(weth.balanceOf(refuser), 5 ether);
        assertEq(refuser.balance, 0);
    }

    function test_Advance_ReentrancyThroughPayout_IsBlocked() public {
        ReentrantPayout payout = new ReentrantPayout(vault);
        _advance(ID, address(payout), 5 ether, 0.1 ether, 30);
        assertEq(payout.reentryError(), ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
        assertEq(address(payout).balance, 5 ether, "paid in ETH all the same");
    }

    function test_Advance_GasBurningPayoutDoesNotBlockTheBatch() public {
        address burner = address(new GasBurner());
        AdvanceRequest[] memory batch = new AdvanceRequest[](2);
        batch[0] = _request(ID, burner, 5 ether, 0.1 ether, 30);
        batch[1] = _request(keccak256("2"), business, 5 ether, 0.1 ether, 30);
        vm.prank(keeper);
        vault.advance(batch);
        assertEq(weth.balanceOf(burner), 5 ether);
        assertEq(vault.exposureOf(business), 5 ether);
    }

    function test_Advance_BatchOfTwenty() public {
        AdvanceRequest[] memory batch = new AdvanceRequest[](20);
        for (uint256 i; i < 20; ++i) {
            batch[i] = _request(keccak256(abi.encode(i)), i % 2 == 0 ? business : business2, 10 ether, 0.2 ether, 30 + i);
        }
        vm.prank(keeper);
        vault.advance(batch);
        assertEq(vault.exposureOf(business), 100 ether);
        assertEq(vault.exposureOf(business2), 100 ether);
        (, uint256 principal,,,) = vault.assetBreakdown();
        assertEq(principal, 200 ether);
    }

    function test_RevertWhen_EmptyBatch() public {
        vm.prank(keeper);
        vm.expectRevert(ErrorsLib.EmptyBatch.selector);
        vault.advance(new AdvanceRequest[](0));
    }

    function test_RevertWhen_InvoiceIdZero() public {
        _expectAdvanceRevert(_request(bytes32(0), business, 1 ether, 0, 30), abi.encodeWithSelector(ErrorsLib.InvalidInvoiceId.selector));
    }

    function test_RevertWhen_PayoutZero() public {
        _expectAdvanceRevert(_request(ID, address(0), 1 ether, 0, 30), abi.encodeWithSelector(ErrorsLib.ZeroAddress.selector));
    }

    function test_RevertWhen_PrincipalZero() public {
        _expectAdvanceRevert(_request(ID, business, 0, 0, 30), abi.encodeWithSelector(ErrorsLib.ZeroAmount.selector));
    }

    function test_RevertWhen_InvoiceAlreadyFinanced() public {
        _advance(ID, business, 1 ether, 0, 30);
        _expectAdvanceRevert(
            _request(ID, business2, 1 ether, 0, 30), abi.encodeWithSelector(ErrorsLib.InvoiceAlreadyFinanced.selector, ID)
        );
    }

    function test_RevertWhen_SameInvoiceTwiceInOneBatch() public {
        AdvanceRequest[] memory batch = new AdvanceRequest[](2);
        batch[0] = _request(ID, business, 1 ether, 0, 30);
        batch[1] = _request(ID, business2, 1 ether, 0, 30);
        vm.prank(keeper);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.InvoiceAlreadyFinanced.selector, ID));
        vault.advance(batch);
    }

    function test_RevertWhen_AdvanceTooLarge() public {
        _expectAdvanceRevert(
            _request(ID, business, 101 ether, 0, 30),
            abi.encodeWithSelector(ErrorsLib.AdvanceTooLarge.selector, ID, 101 ether, 100 ether)
        );
    }

    function test_RevertWhen_FeeTooHigh() public {
        _expectAdvanceRevert(
            _request(ID, business, 10 ether, 2.6 ether, 30),
            abi.encodeWithSelector(ErrorsLib.FeeTooHigh.selector, ID, 2.6 ether, 2.5 ether)
        );
    }

    function test_RevertWhen_LateFeeTooHigh() public {
        AdvanceRequest memory r = _request(ID, business, 10 ether, 0, 30);
        r.lateFeeBpsPerDay = 51;
        _expectAdvanceRevert(r, abi.encodeWithSelector(ErrorsLib.LateFeeTooHigh.selector, ID, 51, 50));
    }

    function test_RevertWhen_DueDateNotDayAligned() public {
        AdvanceRequest memory r = _request(ID, business, 10 ether, 0, 30);
        r.dueAt += 1 hours;
        _expectAdvanceRevert(r, abi.encodeWithSelector(ErrorsLib.DueDateNotDayAligned.selector, r.dueAt));
    }

    function test_RevertWhen_DueDateInPast() public {
        AdvanceRequest memory r = _request(ID, business, 10 ether, 0, 0); // midnight today, already past
        _expectAdvanceRevert(r, abi.encodeWithSelector(ErrorsLib.DueDateInPast.selector, r.dueAt, block.timestamp));
    }

    function test_RevertWhen_TenorTooLong() public {
        AdvanceRequest memory r = _request(ID, business, 10 ether, 0, 121);
        _expectAdvanceRevert(
            r, abi.encodeWithSelector(ErrorsLib.TenorTooLong.selector, r.dueAt - block.timestamp, 120 days)
        );
    }

    function test_RevertWhen_BusinessExposureExceeded() public {
        for (uint256 i; i < 3; ++i) {
            _advance(keccak256(abi.encode(i)), business, 100 ether, 0, 30);
        }
        _expectAdvanceRevert(
            _request(ID, business, 1 ether, 0, 30),
            abi.encodeWithSelector(ErrorsLib.BusinessExposureExceeded.selector, business, 301 ether, 300 ether)
        );
    }

    function test_RevertWhen_UtilisationCapExceeded() public {
        // 1,000 ETH NAV, 90 % cap: 900 ETH of principal at most.
        for (uint256 i; i < 9; ++i) {
            _advance(keccak256(abi.encode(i)), address(uint160(0xb000 + i)), 100 ether, 0, 30);
        }
        _expectAdvanceRevert(
            _request(ID, business, 1 ether, 0, 30),
            abi.encodeWithSelector(ErrorsLib.UtilisationCapExceeded.selector, 9_010, 9_000)
        );
    }

    function test_RevertWhen_LiquidityReserveBreached() public {
        vm.prank(keeper);
        vault.allocate(address(yieldStrategy), 400 ether);
        // NAV 1,000 ETH: 580 ETH of advances keep utilisation at 58 % but leave 20 ETH idle, under the 5 % reserve.
        AdvanceRequest[] memory batch = new AdvanceRequest[](6);
        for (uint256 i; i < 6; ++i) {
            batch[i] = _request(keccak256(abi.encode(i)), address(uint160(0xb000 + i)), i == 5 ? 80 ether : 100 ether, 0, 30);
        }
        vm.prank(keeper);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.LiquidityReserveBreached.selector, 20 ether, 50 ether));
        vault.advance(batch);
    }

    function test_RevertWhen_InsufficientLiquidity() public {
        vm.startPrank(keeper);
        vault.allocate(address(yieldStrategy), 500 ether);
        vault.allocate(address(hedge), 300 ether);
        vm.stopPrank();
        AdvanceRequest[] memory batch = new AdvanceRequest[](3);
        for (uint256 i; i < 3; ++i) {
            batch[i] = _request(keccak256(abi.encode(i)), address(uint160(0xb000 + i)), i == 2 ? 50 ether : 100 ether, 0, 30);
        }
        vm.prank(keeper);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.InsufficientLiquidity.selector, 250 ether, 200 ether));
        vault.advance(batch);
    }

    function test_RevertWhen_NotKeeper() public {
        bytes32 role = vault.KEEPER_ROLE();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role));
        vault.advance(_one(_request(ID, business, 1 ether, 0, 30)));
    }

    function test_RevertWhen_Paused() public {
        vm.prank(pauser);
        vault.pause();
        _expectAdvanceRevert(_request(ID, business, 1 ether, 0, 30), abi.encodeWithSelector(Pausable.EnforcedPause.selector));
    }

    function test_RevertWhen_EthUsdPriceStale() public {
        vm.warp(block.timestamp + 1 hours + 1);
        (, , , uint256 updatedAt,) = ethUsdFeed.latestRoundData();
        _expectAdvanceRevert(
            _request(ID, business, 1 ether, 0, 30),
            abi.encodeWithSelector(ErrorsLib.StalePrice.selector, address(ethUsdFeed), updatedAt, 1 hours)
        );
    }

    function test_RevertWhen_SequencerDown() public {
        sequencerFeed.setRound(1, block.timestamp, block.timestamp);
        _expectAdvanceRevert(_request(ID, business, 1 ether, 0, 30), abi.encodeWithSelector(ErrorsLib.SequencerDown.selector));
    }

    function test_RevertWhen_SequencerJustRestarted() public {
        sequencerFeed.setRound(0, block.timestamp - 10 minutes, block.timestamp);
        _expectAdvanceRevert(
            _request(ID, business, 1 ether, 0, 30),
            abi.encodeWithSelector(
                ErrorsLib.SequencerGracePeriod.selector, block.timestamp - 10 minutes, block.timestamp + 50 minutes
            )
        );
    }

    function test_RevertWhen_AllocateTakesWhatTheQueueIsOwed() public {
        vm.prank(alice);
        vault.requestRedeem(995e21, alice);
        vm.prank(keeper);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.InsufficientLiquidity.selector, 10 ether, 5 ether));
        vault.allocate(address(yieldStrategy), 10 ether);
    }

    function test_RevertWhen_AdvanceTakesWhatTheQueueIsOwed() public {
        vm.prank(alice);
        vault.requestRedeem(995e21, alice);
        _expectAdvanceRevert(
            _request(ID, business, 10 ether, 0, 30),
            abi.encodeWithSelector(ErrorsLib.InsufficientLiquidity.selector, 10 ether, 5 ether)
        );
    }

    function test_DustRedemptionRequest_DoesNotBlockAdvances() public {
        vm.prank(alice);
        vault.requestRedeem(1, alice);
        _advance(ID, business, 10 ether, 0.1 ether, 30);
        assertEq(vault.exposureOf(business), 10 ether);
    }

    function test_RevertWhen_TenorShorterThanADay() public {
        AdvanceRequest memory r = _request(ID, business, 1 ether, 0, 1); // midnight tonight: 12 hours away
        _expectAdvanceRevert(
            r, abi.encodeWithSelector(ErrorsLib.TenorTooShort.selector, r.dueAt - block.timestamp, 1 days)
        );
    }

    function _expectAdvanceRevert(AdvanceRequest memory r, bytes memory err) internal {
        uint256 assets = vault.totalAssets();
        vm.prank(keeper);
        vm.expectRevert(err);
        vault.advance(_one(r));
        assertEq(vault.totalAssets(), assets, "nothing half-written");
    }
}
