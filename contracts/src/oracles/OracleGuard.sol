// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {AggregatorV3Interface} from "../interfaces/IAggregatorV3.sol";
import {IOracleGuard} from "../interfaces/IOracleGuard.sol";
import {ErrorsLib} from "../libraries/ErrorsLib.sol";

/// @title OracleGuard
/// @notice Immutable price guard: ETH/USD and token/USD Chainlink feeds, each with its own staleness limit,
/// behind the L2 sequencer-uptime feed and a grace period after the sequencer comes back.
contract OracleGuard is IOracleGuard {
    uint256 public constant MIN_MAX_AGE = 1 minutes;
    uint256 public constant MAX_MAX_AGE = 2 days;
    uint256 public constant MIN_GRACE = 10 minutes;
    uint256 public constant MAX_GRACE = 1 days;

    struct Feed {
        AggregatorV3Interface feed;
        uint32 maxAge;
        uint8 tokenDecimals;
    }

    AggregatorV3Interface public immutable SEQUENCER_FEED;
    uint256 public immutable SEQUENCER_GRACE;
    AggregatorV3Interface public immutable ETH_USD_FEED;
    uint256 public immutable ETH_USD_MAX_AGE;

    mapping(address token => Feed) internal _tokenFeeds;

    struct TokenFeedConfig {
        address token;
        AggregatorV3Interface feed;
        uint32 maxAge;
        uint8 tokenDecimals;
    }

    constructor(
        AggregatorV3Interface sequencerFeed,
        uint256 sequencerGrace,
        AggregatorV3Interface ethUsdFeed,
        uint256 ethUsdMaxAge,
        TokenFeedConfig[] memory tokenFeeds
    ) {
        if (address(sequencerFeed) == address(0) || address(ethUsdFeed) == address(0)) revert ErrorsLib.ZeroAddress();
        _checkBounds("sequencerGrace", sequencerGrace, MIN_GRACE, MAX_GRACE);
        _checkBounds("ethUsdMaxAge", ethUsdMaxAge, MIN_MAX_AGE, MAX_MAX_AGE);
        SEQUENCER_FEED = sequencerFeed;
        SEQUENCER_GRACE = sequencerGrace;
        ETH_USD_FEED = ethUsdFeed;
        ETH_USD_MAX_AGE = ethUsdMaxAge;
        for (uint256 i; i < tokenFeeds.length; ++i) {
            TokenFeedConfig memory c = tokenFeeds[i];
            if (c.token == address(0) || address(c.feed) == address(0)) revert ErrorsLib.ZeroAddress();
            _checkBounds("tokenMaxAge", c.maxAge, MIN_MAX_AGE, MAX_MAX_AGE);
            _checkBounds("tokenDecimals", c.tokenDecimals, 0, 36);
            _tokenFeeds[c.token] = Feed(c.feed, c.maxAge, c.tokenDecimals);
        }
    }

    /// @inheritdoc IOracleGuard
    function checkSequencer() public view {
        (, int256 status, uint256 startedAt,,) = SEQUENCER_FEED.latestRoundData();
        // Chainlink's uptime feed: 0 = up, 1 = down; startedAt = when the status last changed.
        if (status != 0) revert ErrorsLib.SequencerDown();
        uint256 usableAt = startedAt + SEQUENCER_GRACE;
        if (startedAt == 0 || block.timestamp < usableAt) revert ErrorsLib.SequencerGracePeriod(startedAt, usableAt);
    }

    /// @inheritdoc IOracleGuard
    function ethUsd() public view returns (uint256) {
        checkSequencer();
        return _read(ETH_USD_FEED, ETH_USD_MAX_AGE);
    }

    /// @inheritdoc IOracleGuard
    function tokenUsd(address token) public view returns (uint256) {
        checkSequencer();
        Feed memory f = _feedOf(token);
        return _read(f.feed, f.maxAge);
    }

    /// @inheritdoc IOracleGuard
    function wethValueOf(address token, uint256 amount) external view returns (uint256) {
        if (amount == 0) return 0;
        Feed memory f = _feedOf(token);
        uint256 eth = ethUsd();
        uint256 usd = _read(f.feed, f.maxAge);
        // Floor: a holding is never valued above what the feeds say it is worth.
        return Math.mulDiv(amount * 1e18, usd, eth * 10 ** f.tokenDecimals, Math.Rounding.Floor);
    }

    /// @inheritdoc IOracleGuard
    function tokenAmountFor(address token, uint256 wethAmount) external view returns (uint256) {
        if (wethAmount == 0) return 0;
        Feed memory f = _feedOf(token);
        uint256 eth = ethUsd();
        uint256 usd = _read(f.feed, f.maxAge);
        // Ceil: the token amount always covers the WETH amount asked for.
        return Math.mulDiv(wethAmount * 10 ** f.tokenDecimals, eth, usd * 1e18, Math.Rounding.Ceil);
    }

    function _feedOf(address token) internal view returns (Feed memory f) {
        f = _tokenFeeds[token];
        if (address(f.feed) == address(0)) revert ErrorsLib.UnknownToken(token);
    }

    /// @dev A positive, fresh answer normalised to 18 decimals, or a custom error.
    function _read(AggregatorV3Interface feed, uint256 maxAge) internal view returns (uint256) {
        (, int256 answer,, uint256 updatedAt,) = feed.latestRoundData();
        if (answer <= 0) revert ErrorsLib.InvalidPrice(address(feed), answer);
        if (updatedAt == 0 || updatedAt > block.timestamp || block.timestamp - updatedAt > maxAge) {
            revert ErrorsLib.StalePrice(address(feed), updatedAt, maxAge);
        }
        uint8 decimals = feed.decimals();
        if (decimals > 18) revert ErrorsLib.FeedDecimalsTooHigh(address(feed), decimals);
        return uint256(answer) * 10 ** (18 - decimals);
    }

    function _checkBounds(bytes32 name, uint256 value, uint256 min, uint256 max) internal pure {
        if (value < min || value > max) revert ErrorsLib.ParamOutOfBounds(name, value, min, max);
    }
}
