// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IStrategy
/// @notice An allow-listed adapter that puts the vault's idle WETH to work. Only the vault moves money in or out.
interface IStrategy {
    /// @notice The vault this strategy serves.
    function vault() external view returns (address);

    /// @notice The asset the vault sends and receives (WETH).
    function asset() external view returns (address);

    /// @notice What the strategy holds, valued in WETH through the oracle (never an AMM spot price), rounded down.
    function totalValue() external view returns (uint256);

    /// @notice Puts `assets` WETH, already transferred by the vault, to work.
    /// @return valueAfter The strategy's `totalValue()` afterwards.
    function allocate(uint256 assets) external returns (uint256 valueAfter);

    /// @notice Exits about `assets` worth of WETH (everything when it holds less) and sends the WETH to the vault.
    /// @return received The WETH the vault received.
    function deallocate(uint256 assets) external returns (uint256 received);

    /// @notice Exits everything without reading the oracle, accepting no less than `minOut` WETH, and sends the
    /// WETH to the vault: the admin's way out when the oracle cannot value the position.
    function emergencyExit(uint256 minOut) external returns (uint256 received);
}
