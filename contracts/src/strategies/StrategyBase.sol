// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IStrategy} from "../interfaces/IStrategy.sol";
import {ErrorsLib} from "../libraries/ErrorsLib.sol";

/// @title StrategyBase
/// @notice What every adapter shares: its vault, its asset, and the rule that only the vault moves money.
abstract contract StrategyBase is IStrategy {
    address public immutable vault;
    address public immutable asset;

    constructor(address vault_, address asset_) {
        if (vault_ == address(0) || asset_ == address(0)) revert ErrorsLib.ZeroAddress();
        vault = vault_;
        asset = asset_;
    }

    modifier onlyVault() {
        if (msg.sender != vault) revert ErrorsLib.OnlyVault(msg.sender);
        _;
    }
}
