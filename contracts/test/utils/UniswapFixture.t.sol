// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {BaseChain} from "./BaseChain.sol";
import {IUniswapV3Factory, IUniswapV3Pool} from "./UniswapInterfaces.sol";
import {IWETH9} from "../../src/interfaces/IWETH9.sol";
import {ISwapRouter02} from "../../src/interfaces/ISwapRouter02.sol";
import {DevStablecoin} from "../../src/devnet/DevStablecoin.sol";
import {DevPriceFeed} from "../../src/devnet/DevPriceFeed.sol";
import {DevYieldVault} from "../../src/devnet/DevYieldVault.sol";

interface IWETH9Metadata {
    function name() external view returns (string memory);
    function symbol() external view returns (string memory);
    function decimals() external view returns (uint8);
}

/// @notice Proves the Base fixture: WETH9 at its predeploy address, Uniswap V3 from the npm artifacts with a
/// WETH/USDC pool at the requested price (both token orderings), and the devnet stand-ins.
contract UniswapFixtureTest is BaseChain {
    event log_named_uint(string key, uint256 val);
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);

    uint256 internal constant ETH_USD = 3_000;
    uint24 internal constant FEE = 500;
    uint256 internal constant POOL_WETH = 2_000 ether;

    IWETH9 internal weth;
    address internal factory;
    address internal npm;
    address internal router;
    DevStablecoin internal usdcHigh; // address above WETH: WETH is token0
    DevStablecoin internal usdcLow; // address below WETH: WETH is token1
    address internal poolHigh;
    address internal poolLow;

    receive() external payable {}

    function setUp() public {
        vm.warp(1_767_225_600);
        _installWeth9();
        weth = IWETH9(WETH_ADDR);
        (factory, npm, router) = _deployUniswapV3();

        usdcHigh = new DevStablecoin(address(this));
        while (address(usdcHigh) < WETH_ADDR) usdcHigh = new DevStablecoin(address(this));
        usdcLow = new DevStablecoin(address(this));
        while (address(usdcLow) > WETH_ADDR) usdcLow = new DevStablecoin(address(this));

        poolHigh = _createPoolWithLiquidity(address(usdcHigh), FEE, ETH_USD, POOL_WETH);
        poolLow = _createPoolWithLiquidity(address(usdcLow), FEE, ETH_USD, POOL_WETH);
    }

    // ---------------------------------------------------------------- WETH9

    function test_weth9_wrapsAndUnwrapsAtBaseAddress() public {
        assertGt(WETH_ADDR.code.length, 0, "no code at 0x42..06");
        assertEq(IWETH9Metadata(WETH_ADDR).name(), "Wrapped Ether");
        assertEq(IWETH9Metadata(WETH_ADDR).symbol(), "WETH");
        assertEq(uint256(IWETH9Metadata(WETH_ADDR).decimals()), 18);
        assertEq(weth.totalSupply(), 2 * POOL_WETH, "supply = the two pools' WETH");

        address user = makeAddr("user");
        vm.deal(user, 5 ether);
        vm.startPrank(user);
        weth.deposit{value: 2 ether}();
        assertEq(weth.balanceOf(user), 2 ether);
        assertEq(user.balance, 3 ether);
        weth.withdraw(0.5 ether);
        vm.stopPrank();
        assertEq(weth.balanceOf(user), 1.5 ether);
        assertEq(user.balance, 3.5 ether);
        assertEq(WETH_ADDR.balance, 2 * POOL_WETH + 1.5 ether, "WETH9 holds the wrapped ETH");
    }

    // ---------------------------------------------------------------- Uniswap V3

    function test_deploy_wiring() public view {
        assertEq(factory, uniV3Factory);
        assertEq(IUniswapV3Factory(factory).owner(), address(this));
        assertEq(IUniswapV3Factory(factory).feeAmountTickSpacing(FEE), int256(10));
        assertEq(IUniswapV3Factory(factory).getPool(WETH_ADDR, address(usdcHigh), FEE), poolHigh);
        assertEq(IUniswapV3Factory(factory).getPool(address(usdcLow), WETH_ADDR, FEE), poolLow);
        assertEq(IUniswapV3Pool(poolHigh).token0(), WETH_ADDR);
        assertEq(IUniswapV3Pool(poolLow).token1(), WETH_ADDR);
        assertGt(uint256(IUniswapV3Pool(poolHigh).liquidity()), 0);
        assertGt(uint256(IUniswapV3Pool(poolLow).liquidity()), 0);
    }

    function test_poolPrice_matchesRequestedUsd_wethToken0() public view {
        assertApproxEqRel(_poolUsdPerEthE6(poolHigh), ETH_USD * 1e6, 0.001e18, "slot0 price");
    }

    function test_poolPrice_matchesRequestedUsd_wethToken1() public view {
        assertApproxEqRel(_poolUsdPerEthE6(poolLow), ETH_USD * 1e6, 0.001e18, "slot0 price");
    }

    function test_poolHoldsRequestedLiquidity() public view {
        assertApproxEqRel(weth.balanceOf(poolHigh), POOL_WETH, 0.001e18, "WETH in pool");
        assertApproxEqRel(usdcHigh.balanceOf(poolHigh), POOL_WETH * ETH_USD / 1e12, 0.001e18, "USDC in pool");
        assertApproxEqRel(weth.balanceOf(poolLow), POOL_WETH, 0.001e18, "WETH in pool");
        assertApproxEqRel(usdcLow.balanceOf(poolLow), POOL_WETH * ETH_USD / 1e12, 0.001e18, "USDC in pool");
    }

    function test_swap_oneWethForUsdc_wethToken0() public {
        _checkSwapOneWeth(usdcHigh);
    }

    function test_swap_oneWethForUsdc_wethToken1() public {
        _checkSwapOneWeth(usdcLow);
    }

    function test_swap_usdcForWeth() public {
        address trader = makeAddr("trader");
        usdcHigh.mint(trader, 3_000e6);
        vm.startPrank(trader);
        usdcHigh.approve(router, 3_000e6);
        uint256 out = ISwapRouter02(router)
            .exactInputSingle(
                ISwapRouter02.ExactInputSingleParams({
                tokenIn: address(usdcHigh),
                tokenOut: WETH_ADDR,
                fee: FEE,
                recipient: trader,
                amountIn: 3_000e6,
                amountOutMinimum: 0,
                sqrtPriceLimitX96: 0
            })
            );
        vm.stopPrank();
        assertEq(weth.balanceOf(trader), out);
        assertLt(out, 1 ether);
        assertApproxEqRel(out, 1 ether, 0.01e18, "about 1 WETH for 3000 USDC");
    }

    // ---------------------------------------------------------------- devnet stand-ins

    function test_devStablecoin_metadataAndOwnerOnlyMint() public {
        assertEq(uint256(usdcHigh.decimals()), 6);
        assertEq(usdcHigh.symbol(), "USDC");
        assertEq(usdcHigh.name(), "USD Coin (dev)");
        address stranger = makeAddr("stranger");
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        usdcHigh.mint(stranger, 1);
    }

    function test_devPriceFeed_staleRoundAndSequencer() public {
        DevPriceFeed feed = new DevPriceFeed(8, 3_000e8, "ETH / USD");
        assertEq(uint256(feed.decimals()), 8);
        assertEq(feed.description(), "ETH / USD");
        (uint80 id, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredIn) = feed.latestRoundData();
        assertEq(uint256(id), 1);
        assertEq(answer, int256(3_000e8));
        assertEq(startedAt, block.timestamp);
        assertEq(updatedAt, block.timestamp);
        assertEq(uint256(answeredIn), 1);

        vm.warp(block.timestamp + 1 days);
        vm.expectEmit(true, true, false, true, address(feed));
        emit AnswerUpdated(2_900e8, 2, block.timestamp - 2 hours);
        feed.setRound(2_900e8, block.timestamp - 2 hours, block.timestamp - 2 hours);
        (id, answer,, updatedAt,) = feed.latestRoundData();
        assertEq(uint256(id), 2);
        assertEq(answer, int256(2_900e8));
        assertEq(block.timestamp - updatedAt, 2 hours, "stale by two hours");

        (, answer,,,) = feed.getRoundData(1);
        assertEq(answer, int256(3_000e8), "old round kept");
        vm.expectRevert(DevPriceFeed.NoDataPresent.selector);
        feed.getRoundData(3);

        feed.setAnswer(3_100e8);
        (id, answer,, updatedAt,) = feed.latestRoundData();
        assertEq(uint256(id), 3);
        assertEq(answer, int256(3_100e8));
        assertEq(updatedAt, block.timestamp);

        // Sequencer uptime feed: 1 = down since `startedAt`.
        DevPriceFeed sequencer = new DevPriceFeed(0, 0, "L2 Sequencer Uptime Status Feed");
        sequencer.setRound(1, block.timestamp - 10 minutes, block.timestamp - 10 minutes);
        (, answer, startedAt,,) = sequencer.latestRoundData();
        assertEq(answer, int256(1));
        assertEq(startedAt, block.timestamp - 10 minutes);

        vm.prank(makeAddr("stranger"));
        vm.expectRevert();
        feed.setAnswer(1);
    }

    function test_devYieldVault_yieldRaisesAndLossLowersShareValue() public {
        DevYieldVault yv = new DevYieldVault(IERC20(WETH_ADDR));
        vm.deal(address(this), 20 ether);
        weth.deposit{value: 20 ether}();
        weth.approve(address(yv), type(uint256).max);

        yv.deposit(10 ether, address(this));
        uint256 priceBefore = yv.convertToAssets(1 ether);
        assertApproxEqAbs(priceBefore, 1 ether, 1);

        yv.simulateYield(1 ether);
        assertEq(yv.totalAssets(), 11 ether);
        assertGt(yv.convertToAssets(1 ether), priceBefore, "yield raises share value");
        assertApproxEqRel(yv.convertToAssets(1 ether), 1.1 ether, 1e12);

        address sink = makeAddr("sink");
        yv.simulateLoss(5.5 ether, sink);
        assertEq(weth.balanceOf(sink), 5.5 ether);
        assertApproxEqRel(yv.convertToAssets(1 ether), 0.55 ether, 1e12, "loss lowers share value");

        vm.prank(sink);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, sink));
        yv.simulateYield(1);
    }

    // ---------------------------------------------------------------- helpers

    function _checkSwapOneWeth(DevStablecoin usdc) internal {
        address trader = makeAddr("trader");
        vm.deal(trader, 1 ether);
        vm.startPrank(trader);
        weth.deposit{value: 1 ether}();
        weth.approve(router, 1 ether);
        uint256 gasBefore = gasleft();
        uint256 out = ISwapRouter02(router)
            .exactInputSingle(
                ISwapRouter02.ExactInputSingleParams({
                tokenIn: WETH_ADDR,
                tokenOut: address(usdc),
                fee: FEE,
                recipient: trader,
                amountIn: 1 ether,
                amountOutMinimum: 0,
                sqrtPriceLimitX96: 0
            })
            );
        uint256 gasUsed = gasBefore - gasleft();
        vm.stopPrank();
        emit log_named_uint("exactInputSingle gas", gasUsed);
        emit log_named_uint("USDC out for 1 WETH (1e-6)", out);

        assertEq(usdc.balanceOf(trader), out);
        assertEq(weth.balanceOf(trader), 0);
        uint256 afterFee = ETH_USD * 1e6 * (1e6 - FEE) / 1e6; // fee in hundredths of a bip
        assertLt(out, afterFee, "fee and price impact are paid");
        assertApproxEqRel(out, afterFee, 0.01e18, "about usdPerEth minus fee");
    }

    /// @dev The pool's spot price as dollars per ETH with 6 decimals, whichever token is token0.
    function _poolUsdPerEthE6(address pool) internal view returns (uint256) {
        (uint160 sqrtPriceX96,,,,,,) = IUniswapV3Pool(pool).slot0();
        uint256 priceX192 = uint256(sqrtPriceX96) * sqrtPriceX96; // token1 per token0 (raw units) << 192
        // raw USDC per raw WETH = usd * 1e6 / 1e18, so usdE6 = raw price * 1e18.
        if (IUniswapV3Pool(pool).token0() == WETH_ADDR) return Math.mulDiv(priceX192, 1e18, 1 << 192);
        return Math.mulDiv(1 << 192, 1e18, priceX192);
    }
}
