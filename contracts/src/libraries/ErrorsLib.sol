// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ErrorsLib
/// @notice Every custom error of pipeit's contracts, in one place. Each names what was wrong and by how much.
library ErrorsLib {
    // --- generic input ---
    error ZeroAmount();
    error ZeroAddress();
    error PlainEthNotAccepted(address sender, uint256 value);
    error EthTransferFailed(address to, uint256 amount);
    error ParamOutOfBounds(bytes32 name, uint256 value, uint256 min, uint256 max);

    // --- invoices ---
    error InvalidInvoiceId();
    error InvoiceAlreadyFinanced(bytes32 id);
    error UnknownInvoice(bytes32 id);
    error InvoiceNotOutstanding(bytes32 id);
    error EmptyBatch();
    error DueDateNotDayAligned(uint256 dueAt);
    error DueDateInPast(uint256 dueAt, uint256 nowTs);
    error TenorTooLong(uint256 tenor, uint256 maxTenor);
    error TenorTooShort(uint256 tenor, uint256 minTenor);
    error AdvanceTooLarge(bytes32 id, uint256 principal, uint256 max);
    error FeeTooHigh(bytes32 id, uint256 fee, uint256 max);
    error LateFeeTooHigh(bytes32 id, uint256 bpsPerDay, uint256 max);
    error BusinessExposureExceeded(address business, uint256 exposure, uint256 max);
    error UtilisationCapExceeded(uint256 utilisationBps, uint256 maxBps);
    error LiquidityReserveBreached(uint256 idleAfter, uint256 minIdle);
    error InsufficientLiquidity(uint256 requested, uint256 available);
    error NotYetWriteOffable(bytes32 id, uint256 allowedAt);

    // --- redemption queue ---
    error UnknownRequest(uint256 requestId);
    error NotRequestOwner(uint256 requestId, address caller);
    error NothingToClaim(uint256 requestId);
    error NothingToCancel(uint256 requestId);

    // --- strategies ---
    error StrategyNotActive(address strategy);
    error StrategyAlreadyAdded(address strategy);
    error StrategyMismatch(address strategy);
    error TooManyStrategies(uint256 max);
    error StrategyNotEmpty(address strategy, uint256 book);
    error StrategyCapExceeded(address strategy, uint256 valueAfter, uint256 cap);
    error MoveCapExceeded(uint256 requested, uint256 available);
    error OnlyVault(address caller);
    error SlippageExceeded(uint256 amountOut, uint256 minAmountOut);

    // --- oracle ---
    error SequencerDown();
    error SequencerGracePeriod(uint256 upSince, uint256 usableAt);
    error StalePrice(address feed, uint256 updatedAt, uint256 maxAge);
    error InvalidPrice(address feed, int256 answer);
    error UnknownToken(address token);
    error FeedDecimalsTooHigh(address feed, uint8 decimals);
}
