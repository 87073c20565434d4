// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC4626, ERC20, IERC20} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @notice Local-chain stand-in for "any ERC-4626 yield vault over WETH": a plain OZ ERC4626 whose owner adds
/// yield or takes a loss by moving assets in or out (`totalAssets` is the asset balance).
contract DevYieldVault is ERC4626, Ownable {
    using SafeERC20 for IERC20;

    event YieldSimulated(uint256 amount);
    event LossSimulated(uint256 amount, address indexed to);

    constructor(IERC20 asset_) ERC4626(asset_) ERC20("Dev Yield Vault", "dyVAULT") Ownable(msg.sender) {}

    /// @notice Pulls `amount` of the asset from the owner (approval needed): share price rises.
    function simulateYield(uint256 amount) external onlyOwner {
        IERC20(asset()).safeTransferFrom(msg.sender, address(this), amount);
        emit YieldSimulated(amount);
    }

    /// @notice Sends `amount` of the asset to `to`: share price falls.
    function simulateLoss(uint256 amount, address to) external onlyOwner {
        IERC20(asset()).safeTransfer(to, amount);
        emit LossSimulated(amount, to);
    }
}
