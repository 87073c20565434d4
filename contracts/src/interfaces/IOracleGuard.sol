// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IOracleGuard
/// @notice Chainlink-style prices checked for staleness and L2 sequencer uptime, normalised to 18 decimals.
/// Every function reverts with a custom error (SequencerDown, SequencerGracePeriod, StalePrice, InvalidPrice)
/// rather than return an unusable price.
interface IOracleGuard {
    /// @notice Reverts unless the sequencer is up and has been for the grace period.
    function checkSequencer() external view;

    /// @notice USD per ETH, 18 decimals.
    function ethUsd() external view returns (uint256);

    /// @notice USD per whole `token`, 18 decimals.
    function tokenUsd(address token) external view returns (uint256);

    /// @notice The WETH value of `amount` of `token`, rounded down (holdings are never overvalued).
    function wethValueOf(address token, uint256 amount) external view returns (uint256);

    /// @notice The amount of `token` worth `wethAmount`, rounded up.
    function tokenAmountFor(address token, uint256 wethAmount) external view returns (uint256);
}
