// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC4626, ERC20, IERC20} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @notice A WETH yield vault that can only pay out `liquidity` at a time (a lending market at high utilisation).
contract ShallowYieldVault is ERC4626 {
    uint256 public liquidity = type(uint256).max;

    constructor(IERC20 weth) ERC20("shallow", "SHALLOW") ERC4626(weth) {}

    function setLiquidity(uint256 amount) external {
        liquidity = amount;
    }

    function maxWithdraw(address owner) public view override returns (uint256) {
        return Math.min(super.maxWithdraw(owner), liquidity);
    }
}
