// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The part of Uniswap's SwapRouter02 (`IV3SwapRouter`) used here. Unlike the original V3 SwapRouter,
/// SwapRouter02's params carry no `deadline`.
interface ISwapRouter02 {
    struct ExactInputSingleParams {
        address tokenIn;
        address tokenOut;
        uint24 fee;
        address recipient;
        uint256 amountIn;
        uint256 amountOutMinimum;
        uint160 sqrtPriceLimitX96;
    }

    /// @notice Swaps `amountIn` of `tokenIn` for as much `tokenOut` as possible through one V3 pool.
    function exactInputSingle(ExactInputSingleParams calldata params) external payable returns (uint256 amountOut);
}
