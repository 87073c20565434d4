// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @notice Wrapped Ether (WETH9), deployed on Base at 0x4200000000000000000000000000000000000006.
interface IWETH9 is IERC20 {
    /// @notice Wraps `msg.value` ETH into as much WETH for the caller.
    function deposit() external payable;

    /// @notice Burns `wad` WETH of the caller and sends it as much ETH.
    function withdraw(uint256 wad) external;
}
