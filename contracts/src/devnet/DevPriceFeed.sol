// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {AggregatorV3Interface} from "../interfaces/IAggregatorV3.sol";

/// @notice Local-chain Chainlink feed whose rounds are set by its owner: a price feed (`setAnswer`) or, with
/// `decimals = 0`, an L2 sequencer uptime feed (answer 0 = up, 1 = down; `startedAt` = when the status changed).
/// `setRound` writes arbitrary timestamps, for tests of stale prices and sequencer grace periods.
contract DevPriceFeed is AggregatorV3Interface, Ownable {
    /// @dev One slot per round, packed like Chainlink's OCR aggregator (`int192` answer, `uint32` timestamps),
    ///      so reading the feed costs about what it costs on Base.
    struct Round {
        int192 answer;
        uint32 startedAt;
        uint32 updatedAt;
    }

    /// @dev Same events as Chainlink's aggregators.
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);
    event NewRound(uint256 indexed roundId, address indexed startedBy, uint256 startedAt);

    error NoDataPresent();

    uint8 public immutable override decimals;
    string public override description;
    uint80 public latestRound;
    mapping(uint80 roundId => Round) private _rounds;

    constructor(uint8 decimals_, int256 initialAnswer, string memory description_) Ownable(msg.sender) {
        decimals = decimals_;
        description = description_;
        _newRound(initialAnswer, block.timestamp, block.timestamp);
    }

    function version() external pure override returns (uint256) {
        return 4;
    }

    /// @notice Starts a new round with `answer`, started and updated now.
    function setAnswer(int256 answer) external onlyOwner {
        _newRound(answer, block.timestamp, block.timestamp);
    }

    /// @notice Starts a new round with the given answer and timestamps (may lie in the past, for staleness tests).
    function setRound(int256 answer, uint256 startedAt, uint256 updatedAt) external onlyOwner {
        _newRound(answer, startedAt, updatedAt);
    }

    function getRoundData(uint80 roundId)
        external
        view
        override
        returns (uint80, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        Round memory r = _rounds[roundId];
        if (r.updatedAt == 0) revert NoDataPresent();
        return (roundId, r.answer, r.startedAt, r.updatedAt, roundId);
    }

    function latestRoundData()
        external
        view
        override
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        roundId = latestRound;
        Round memory r = _rounds[roundId];
        return (roundId, r.answer, r.startedAt, r.updatedAt, roundId);
    }

    /// @notice The latest answer (Chainlink's legacy `latestAnswer`).
    function latestAnswer() external view returns (int256) {
        return _rounds[latestRound].answer;
    }

    function _newRound(int256 answer, uint256 startedAt, uint256 updatedAt) private {
        uint80 roundId = ++latestRound;
        _rounds[roundId] = Round(SafeCast.toInt192(answer), SafeCast.toUint32(startedAt), SafeCast.toUint32(updatedAt));
        emit NewRound(roundId, msg.sender, startedAt);
        emit AnswerUpdated(answer, roundId, updatedAt);
    }
}
