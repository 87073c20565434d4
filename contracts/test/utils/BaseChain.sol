// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Test} from "./Test.sol";
import {IUniswapV3Factory, INonfungiblePositionManager} from "./UniswapInterfaces.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IWETH9} from "../../src/interfaces/IWETH9.sol";
import {DevStablecoin} from "../../src/devnet/DevStablecoin.sol";

/// @notice Rebuilds the Base pieces the vault touches inside a forge test, from the npm artifacts (offline):
/// WETH9 at its Base predeploy address and Uniswap V3 (factory, NonfungiblePositionManager, SwapRouter02).
abstract contract BaseChain is Test {
    /// @dev WETH9 on Base (OP-stack predeploy).
    address internal constant WETH_ADDR = 0x4200000000000000000000000000000000000006;

    string internal constant WETH9_ARTIFACT = "node_modules/canonical-weth/build/contracts/WETH9.json";
    string internal constant V3_FACTORY_ARTIFACT =
        "node_modules/@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json";
    string internal constant POSITION_MANAGER_ARTIFACT =
        "node_modules/@uniswap/v3-periphery/artifacts/contracts/NonfungiblePositionManager.sol/NonfungiblePositionManager.json";
    string internal constant SWAP_ROUTER02_ARTIFACT =
        "node_modules/@uniswap/swap-router-contracts/artifacts/contracts/SwapRouter02.sol/SwapRouter02.json";

    /// @dev Uniswap V3's MAX_TICK (TickMath).
    int24 internal constant UNI_MAX_TICK = 887_272;

    /// @dev Set by `_deployUniswapV3`.
    address internal uniV3Factory;
    address internal uniPositionManager;
    address internal uniSwapRouter02;

    /// @notice Puts WETH9's runtime bytecode at 0x4200..0006, as on Base (its storage starts empty: no supply).
    function _installWeth9() internal {
        bytes memory runtime = vm.parseJsonBytes(vm.readFile(WETH9_ARTIFACT), ".deployedBytecode");
        vm.etch(WETH_ADDR, runtime);
        // etch copies code only: set what WETH9's constructor would have (name, symbol, decimals), as Base's
        // genesis does. Short strings are stored left-aligned with twice their length in the last byte.
        vm.store(WETH_ADDR, bytes32(uint256(0)), bytes32(uint256(bytes32("Wrapped Ether")) | 26));
        vm.store(WETH_ADDR, bytes32(uint256(1)), bytes32(uint256(bytes32("WETH")) | 8));
        vm.store(WETH_ADDR, bytes32(uint256(2)), bytes32(uint256(18)));
        vm.label(WETH_ADDR, "WETH9");
    }

    /// @notice Deploys UniswapV3Factory, NonfungiblePositionManager (no token descriptor) and SwapRouter02 (no V2
    /// factory) against WETH9 at `WETH_ADDR`. Call `_installWeth9` first.
    function _deployUniswapV3() internal returns (address factory, address positionManager, address swapRouter02) {
        factory = _deployArtifact(V3_FACTORY_ARTIFACT, "");
        positionManager = _deployArtifact(POSITION_MANAGER_ARTIFACT, abi.encode(factory, WETH_ADDR, address(0)));
        swapRouter02 =
            _deployArtifact(SWAP_ROUTER02_ARTIFACT, abi.encode(address(0), factory, positionManager, WETH_ADDR));
        (uniV3Factory, uniPositionManager, uniSwapRouter02) = (factory, positionManager, swapRouter02);
        vm.label(factory, "UniswapV3Factory");
        vm.label(positionManager, "NonfungiblePositionManager");
        vm.label(swapRouter02, "SwapRouter02");
    }

    /// @notice Creates the WETH/`token` pool at `usdPerEth` dollars per ETH (`token` is a 6-decimal dollar, a
    /// `DevStablecoin` owned by this contract) and adds full-range liquidity of `wethAmount` WETH plus the
    /// matching `token` amount, both minted here (vm.deal + WETH deposit, DevStablecoin mint). The position NFT
    /// goes to this contract. Call `_deployUniswapV3` first.
    function _createPoolWithLiquidity(address token, uint24 fee, uint256 usdPerEth, uint256 wethAmount)
        internal
        returns (address pool)
    {
        require(uniPositionManager != address(0), "BaseChain: call _deployUniswapV3 first");
        uint256 tokenAmount = wethAmount * usdPerEth / 1e12; // 18 -> 6 decimals

        // Price from one whole ETH against its dollar price, so it does not depend on rounding of `tokenAmount`.
        bool wethIsToken0 = WETH_ADDR < token;
        uint160 sqrtPriceX96 =
            wethIsToken0 ? _sqrtPriceX96(1 ether, usdPerEth * 1e6) : _sqrtPriceX96(usdPerEth * 1e6, 1 ether);
        (address token0, address token1) = wethIsToken0 ? (WETH_ADDR, token) : (token, WETH_ADDR);
        pool = INonfungiblePositionManager(uniPositionManager)
            .createAndInitializePoolIfNecessary(token0, token1, fee, sqrtPriceX96);

        vm.deal(address(this), address(this).balance + wethAmount);
        IWETH9(WETH_ADDR).deposit{value: wethAmount}();
        DevStablecoin(token).mint(address(this), tokenAmount);
        (uint256 amount0, uint256 amount1) = wethIsToken0 ? (wethAmount, tokenAmount) : (tokenAmount, wethAmount);
        _mintFullRange(token0, token1, fee, amount0, amount1);
        vm.label(pool, "UniswapV3Pool WETH/token");
    }

    /// @dev Adds full-range liquidity from this contract's balances; the position NFT goes to this contract.
    function _mintFullRange(address token0, address token1, uint24 fee, uint256 amount0, uint256 amount1)
        internal
        returns (uint256 tokenId, uint128 liquidity)
    {
        address npm = uniPositionManager;
        IERC20(token0).approve(npm, amount0);
        IERC20(token1).approve(npm, amount1);
        int24 spacing = IUniswapV3Factory(uniV3Factory).feeAmountTickSpacing(fee);
        require(spacing > 0, "BaseChain: fee tier not enabled");
        // forge-lint: disable-next-line(divide-before-multiply)
        int24 maxTick = (UNI_MAX_TICK / spacing) * spacing; // the largest usable tick: rounding down is the point
        (tokenId, liquidity,,) = INonfungiblePositionManager(npm)
            .mint(
                INonfungiblePositionManager.MintParams({
                token0: token0,
                token1: token1,
                fee: fee,
                tickLower: -maxTick,
                tickUpper: maxTick,
                amount0Desired: amount0,
                amount1Desired: amount1,
                amount0Min: 0,
                amount1Min: 0,
                recipient: address(this),
                deadline: block.timestamp
            })
            );
    }

    /// @dev sqrt(amount1 / amount0) in Q64.96, i.e. sqrt((amount1 << 192) / amount0), the product taken in 512
    /// bits so that large amounts cannot silently overflow the shift.
    function _sqrtPriceX96(uint256 amount0, uint256 amount1) internal pure returns (uint160) {
        return SafeCast.toUint160(Math.sqrt(Math.mulDiv(amount1, 1 << 192, amount0)));
    }

    /// @dev Deploys a hardhat artifact's creation bytecode with ABI-encoded constructor arguments.
    function _deployArtifact(string memory artifact, bytes memory args) internal returns (address deployed) {
        bytes memory initCode = bytes.concat(vm.getCode(artifact), args);
        assembly ("memory-safe") {
            deployed := create(0, add(initCode, 0x20), mload(initCode))
        }
        require(deployed != address(0), string.concat("BaseChain: deploy failed: ", artifact));
    }
}
