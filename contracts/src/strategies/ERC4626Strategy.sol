// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {StrategyBase} from "./StrategyBase.sol";
import {ErrorsLib} from "../libraries/ErrorsLib.sol";

/// @title ERC4626Strategy
/// @notice Lends the vault's idle WETH to any ERC-4626 vault whose asset is WETH. Its value is in WETH already,
/// so no price feed is involved: the target's own `previewRedeem` (rounding down) values the position.
contract ERC4626Strategy is StrategyBase {
    using SafeERC20 for IERC20;

    IERC4626 public immutable target;

    constructor(address vault_, IERC4626 target_) StrategyBase(vault_, target_.asset()) {
        target = target_;
    }

    function totalValue() public view returns (uint256) {
        return target.previewRedeem(target.balanceOf(address(this)));
    }

    function allocate(uint256 assets) external onlyVault returns (uint256) {
        if (assets == 0) revert ErrorsLib.ZeroAmount();
        IERC20(asset).forceApprove(address(target), assets);
        target.deposit(assets, address(this));
        return totalValue();
    }

    function emergencyExit(uint256 minOut) external onlyVault returns (uint256 received) {
        received = target.redeem(target.maxRedeem(address(this)), vault, address(this));
        if (received < minOut) revert ErrorsLib.SlippageExceeded(received, minOut);
    }

    function deallocate(uint256 assets) external onlyVault returns (uint256 received) {
        if (assets == 0) revert ErrorsLib.ZeroAmount();
        uint256 available = target.maxWithdraw(address(this));
        received = Math.min(assets, available);
        if (received == 0) return 0;
        target.withdraw(received, vault, address(this));
    }
}
