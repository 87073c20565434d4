// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BaseTest} from "../utils/BaseTest.sol";
import {ErrorsLib} from "../../src/libraries/ErrorsLib.sol";
import {OracleGuard} from "../../src/oracles/OracleGuard.sol";
import {AggregatorV3Interface} from "../../src/interfaces/IAggregatorV3.sol";
import {DevPriceFeed} from "../../src/devnet/DevPriceFeed.sol";

contract OracleTest is BaseTest {
    function test_PricesNormalisedTo18Decimals() public view {
        assertEq(oracle.ethUsd(), 3_000e18);
        assertEq(oracle.tokenUsd(address(usdc)), 1e18);
        assertEq(oracle.wethValueOf(address(usdc), 3_000e6), 1 ether);
        assertEq(oracle.tokenAmountFor(address(usdc), 1 ether), 3_000e6);
    }

    function test_Roundings_FavourTheVault() public view {
        // 1 micro-USDC is worth 1/3000e-6 ETH: the value rounds down, the amount needed rounds up.
        assertEq(oracle.wethValueOf(address(usdc), 1), 333_333_333);
        assertEq(oracle.tokenAmountFor(address(usdc), 1), 1);
    }

    function test_RevertWhen_PriceStale() public {
        vm.warp(block.timestamp + 1 hours + 1);
        (,,, uint256 updatedAt,) = ethUsdFeed.latestRoundData();
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.StalePrice.selector, address(ethUsdFeed), updatedAt, 1 hours));
        oracle.ethUsd();
    }

    function test_RevertWhen_PriceNegativeOrZero() public {
        ethUsdFeed.setAnswer(-1);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.InvalidPrice.selector, address(ethUsdFeed), int256(-1)));
        oracle.ethUsd();
        ethUsdFeed.setAnswer(0);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.InvalidPrice.selector, address(ethUsdFeed), int256(0)));
        oracle.ethUsd();
    }

    function test_RevertWhen_SequencerDownOrInGrace() public {
        sequencerFeed.setRound(1, block.timestamp, block.timestamp);
        vm.expectRevert(ErrorsLib.SequencerDown.selector);
        oracle.tokenUsd(address(usdc));
        sequencerFeed.setRound(0, block.timestamp, block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.SequencerGracePeriod.selector, block.timestamp, block.timestamp + 1 hours));
        oracle.ethUsd();
        _skip(1 hours);
        assertEq(oracle.ethUsd(), 3_000e18);
    }

    function test_RevertWhen_UnknownToken() public {
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.UnknownToken.selector, stranger));
        oracle.wethValueOf(stranger, 1);
    }

    function test_RevertWhen_FeedDecimalsTooHigh() public {
        DevPriceFeed odd = new DevPriceFeed(19, 1, "odd");
        OracleGuard g = new OracleGuard(
            AggregatorV3Interface(address(sequencerFeed)), 1 hours, AggregatorV3Interface(address(odd)), 1 hours,
            new OracleGuard.TokenFeedConfig[](0)
        );
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.FeedDecimalsTooHigh.selector, address(odd), uint8(19)));
        g.ethUsd();
    }

    function test_RevertWhen_ConstructorBoundsBroken() public {
        OracleGuard.TokenFeedConfig[] memory none = new OracleGuard.TokenFeedConfig[](0);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.ParamOutOfBounds.selector, bytes32("ethUsdMaxAge"), 3 days, 1 minutes, 2 days));
        new OracleGuard(AggregatorV3Interface(address(sequencerFeed)), 1 hours, AggregatorV3Interface(address(ethUsdFeed)), 3 days, none);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.ParamOutOfBounds.selector, bytes32("sequencerGrace"), 1, 10 minutes, 1 days));
        new OracleGuard(AggregatorV3Interface(address(sequencerFeed)), 1, AggregatorV3Interface(address(ethUsdFeed)), 1 hours, none);
        vm.expectRevert(ErrorsLib.ZeroAddress.selector);
        new OracleGuard(AggregatorV3Interface(address(0)), 1 hours, AggregatorV3Interface(address(ethUsdFeed)), 1 hours, none);
    }
}
