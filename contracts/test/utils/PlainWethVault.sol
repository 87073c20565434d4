// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC4626, ERC20, IERC20} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";

/// @notice The gas baseline: a plain OpenZeppelin ERC-4626 over WETH, nothing else.
contract PlainWethVault is ERC4626 {
    constructor(IERC20 weth) ERC20("plain", "PLAIN") ERC4626(weth) {}
}
