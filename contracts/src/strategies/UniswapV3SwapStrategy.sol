// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {StrategyBase} from "./StrategyBase.sol";
import {ISwapRouter02} from "../interfaces/ISwapRouter02.sol";
import {IOracleGuard} from "../interfaces/IOracleGuard.sol";
import {ErrorsLib} from "../libraries/ErrorsLib.sol";

/// @title UniswapV3SwapStrategy
/// @notice Holds a token (a USD stablecoin: the hedge the keeper's signals steer), bought and sold for WETH
/// through Uniswap's SwapRouter02. Valued in WETH by the oracle, never by the pool's spot price; every swap's
/// minimum output comes from the oracle less a slippage bound fixed at deployment.
contract UniswapV3SwapStrategy is StrategyBase {
    using SafeERC20 for IERC20;

    uint256 public constant BPS = 10_000;
    uint256 public constant MAX_SLIPPAGE_BPS = 300;

    address public immutable token;
    ISwapRouter02 public immutable router;
    IOracleGuard public immutable oracle;
    uint24 public immutable poolFee;
    uint256 public immutable maxSlippageBps;

    constructor(
        address vault_,
        address weth,
        address token_,
        ISwapRouter02 router_,
        IOracleGuard oracle_,
        uint24 poolFee_,
        uint256 maxSlippageBps_
    ) StrategyBase(vault_, weth) {
        if (token_ == address(0) || address(router_) == address(0) || address(oracle_) == address(0)) {
            revert ErrorsLib.ZeroAddress();
        }
        if (maxSlippageBps_ > MAX_SLIPPAGE_BPS) {
            revert ErrorsLib.ParamOutOfBounds("maxSlippageBps", maxSlippageBps_, 0, MAX_SLIPPAGE_BPS);
        }
        token = token_;
        router = router_;
        oracle = oracle_;
        poolFee = poolFee_;
        maxSlippageBps = maxSlippageBps_;
    }

    function totalValue() public view returns (uint256) {
        return oracle.wethValueOf(token, IERC20(token).balanceOf(address(this)));
    }

    /// @dev Sells `assets` WETH for the token; reverts with SlippageExceeded below the oracle's price less the bound.
    function allocate(uint256 assets) external onlyVault returns (uint256) {
        if (assets == 0) revert ErrorsLib.ZeroAmount();
        uint256 fair = oracle.tokenAmountFor(token, assets) ;
        _swap(asset, token, assets, _lessSlippage(fair), address(this));
        return totalValue();
    }

    /// @dev Sells enough token for about `assets` WETH (all of it when it holds less), straight to the vault.
    function deallocate(uint256 assets) external onlyVault returns (uint256 received) {
        if (assets == 0) revert ErrorsLib.ZeroAmount();
        uint256 balance = IERC20(token).balanceOf(address(this));
        uint256 amountIn = Math.min(balance, oracle.tokenAmountFor(token, assets));
        if (amountIn == 0) return 0;
        uint256 fair = oracle.wethValueOf(token, amountIn);
        received = _swap(token, asset, amountIn, _lessSlippage(fair), vault);
    }

    /// @dev Sells everything with the caller's minimum instead of the oracle's (the oracle is what failed).
    function emergencyExit(uint256 minOut) external onlyVault returns (uint256 received) {
        uint256 balance = IERC20(token).balanceOf(address(this));
        if (balance == 0) return 0;
        received = _swap(token, asset, balance, minOut, vault);
    }

    /// @dev Floor: the minimum accepted output is never above the bound the vault agreed to.
    function _lessSlippage(uint256 fair) internal view returns (uint256) {
        return fair * (BPS - maxSlippageBps) / BPS;
    }

    function _swap(address tokenIn, address tokenOut, uint256 amountIn, uint256 minOut, address recipient)
        internal
        returns (uint256 amountOut)
    {
        IERC20(tokenIn).forceApprove(address(router), amountIn);
        // The router's own minimum is left at 0 so that the check below can revert with a named error.
        amountOut = router.exactInputSingle(
            ISwapRouter02.ExactInputSingleParams({
                tokenIn: tokenIn,
                tokenOut: tokenOut,
                fee: poolFee,
                recipient: recipient,
                amountIn: amountIn,
                amountOutMinimum: 0,
                sqrtPriceLimitX96: 0
            })
        );
        if (amountOut < minOut) revert ErrorsLib.SlippageExceeded(amountOut, minOut);
    }
}
