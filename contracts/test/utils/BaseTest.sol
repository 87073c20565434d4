// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BaseChain} from "./BaseChain.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IWETH9} from "../../src/interfaces/IWETH9.sol";
import {ISwapRouter02} from "../../src/interfaces/ISwapRouter02.sol";
import {AggregatorV3Interface} from "../../src/interfaces/IAggregatorV3.sol";
import {FactoringVault} from "../../src/FactoringVault.sol";
import {RiskParams, AdvanceRequest} from "../../src/interfaces/IFactoringVault.sol";
import {OracleGuard} from "../../src/oracles/OracleGuard.sol";
import {ERC4626Strategy} from "../../src/strategies/ERC4626Strategy.sol";
import {UniswapV3SwapStrategy} from "../../src/strategies/UniswapV3SwapStrategy.sol";
import {DevStablecoin} from "../../src/devnet/DevStablecoin.sol";
import {DevPriceFeed} from "../../src/devnet/DevPriceFeed.sol";
import {DevYieldVault} from "../../src/devnet/DevYieldVault.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";

/// @notice Deploys the whole system the way it runs on Base: WETH9 at 0x42..06, Uniswap V3 from the npm
/// artifacts with a funded WETH/USDC pool, Chainlink-style feeds, the oracle guard, the vault, two strategies.
abstract contract BaseTest is BaseChain {
    uint256 internal constant START = 1_767_225_600 + 12 hours; // 2026-01-01 12:00 UTC
    uint256 internal constant ETH_USD = 3_000;
    uint24 internal constant POOL_FEE = 500;

    IWETH9 internal weth;
    DevStablecoin internal usdc;
    DevPriceFeed internal ethUsdFeed;
    DevPriceFeed internal usdcUsdFeed;
    DevPriceFeed internal sequencerFeed;
    OracleGuard internal oracle;
    FactoringVault internal vault;
    DevYieldVault internal yieldVault;
    ERC4626Strategy internal yieldStrategy;
    UniswapV3SwapStrategy internal hedge;
    address internal router;
    address internal pool;

    address internal admin = makeAddr("admin");
    address internal keeper = makeAddr("keeper");
    address internal pauser = makeAddr("pauser");
    address internal treasury = makeAddr("treasury");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");
    address internal business = makeAddr("business");
    address internal business2 = makeAddr("business2");
    address internal stranger = makeAddr("stranger");

    function setUp() public virtual {
        vm.warp(START);
        _installWeth9();
        weth = IWETH9(WETH_ADDR);
        (, , address router_) = _deployUniswapV3();
        router = router_;
        usdc = new DevStablecoin(address(this));
        pool = _createPoolWithLiquidity(address(usdc), POOL_FEE, ETH_USD, 100_000 ether);

        ethUsdFeed = new DevPriceFeed(8, int256(ETH_USD * 1e8), "ETH / USD");
        usdcUsdFeed = new DevPriceFeed(8, 1e8, "USDC / USD");
        sequencerFeed = new DevPriceFeed(0, 0, "L2 Sequencer Uptime Status Feed");
        sequencerFeed.setRound(0, block.timestamp - 1 days, block.timestamp);

        OracleGuard.TokenFeedConfig[] memory feeds = new OracleGuard.TokenFeedConfig[](1);
        feeds[0] = OracleGuard.TokenFeedConfig(address(usdc), AggregatorV3Interface(address(usdcUsdFeed)), 1 days, 6);
        oracle = new OracleGuard(
            AggregatorV3Interface(address(sequencerFeed)), 1 hours, AggregatorV3Interface(address(ethUsdFeed)), 1 hours, feeds
        );

        vault = new FactoringVault(weth, oracle, admin, 1 days, keeper, pauser, treasury, defaultParams());
        yieldVault = new DevYieldVault(IERC20(address(weth)));
        yieldStrategy = new ERC4626Strategy(address(vault), IERC4626(address(yieldVault)));
        hedge = new UniswapV3SwapStrategy(
            address(vault), address(weth), address(usdc), ISwapRouter02(router), oracle, POOL_FEE, 100
        );
        vm.startPrank(admin);
        vault.addStrategy(address(yieldStrategy), 500 ether);
        vault.addStrategy(address(hedge), 300 ether);
        vm.stopPrank();

        vm.label(address(vault), "vault");
        vm.label(address(oracle), "oracle");
        vm.label(address(weth), "WETH");
    }

    function defaultParams() internal pure returns (RiskParams memory) {
        return RiskParams({
            maxAdvancePerInvoice: 100 ether,
            maxExposurePerBusiness: 300 ether,
            maxUtilisationBps: 9_000,
            minIdleBps: 500,
            protocolFeeBps: 1_000,
            maxLateFeeBpsPerDay: 50,
            maxTenor: 120 days,
            gracePeriod: 15 days,
            publicWriteOffDelay: 15 days,
            moveWindow: 1 days,
            moveCapPerWindow: 1_000 ether
        });
    }

    // ------------------------------------------------------------------ helpers

    /// @dev Moves time and refreshes the price feeds (as Chainlink's heartbeat would).
    function _warp(uint256 ts) internal {
        vm.warp(ts);
        (, int256 eth,,,) = ethUsdFeed.latestRoundData();
        (, int256 usd,,,) = usdcUsdFeed.latestRoundData();
        ethUsdFeed.setAnswer(eth);
        usdcUsdFeed.setAnswer(usd);
    }

    function _skip(uint256 secs) internal {
        _warp(block.timestamp + secs);
    }

    /// @dev Midnight UTC `n` days from today.
    function _dueIn(uint256 n) internal view returns (uint40) {
        return uint40((block.timestamp / 1 days + n) * 1 days);
    }

    function _deposit(address who, uint256 assets) internal returns (uint256 shares) {
        vm.deal(who, who.balance + assets);
        vm.prank(who);
        shares = vault.depositETH{value: assets}(who);
    }

    function _request(bytes32 id, address payout, uint256 principal, uint256 fee, uint256 tenorDays)
        internal
        view
        returns (AdvanceRequest memory)
    {
        return AdvanceRequest(id, payout, uint128(principal), uint128(fee), _dueIn(tenorDays), 10);
    }

    function _advance(bytes32 id, address payout, uint256 principal, uint256 fee, uint256 tenorDays) internal {
        AdvanceRequest[] memory batch = new AdvanceRequest[](1);
        batch[0] = _request(id, payout, principal, fee, tenorDays);
        vm.prank(keeper);
        vault.advance(batch);
    }

    function _one(AdvanceRequest memory r) internal pure returns (AdvanceRequest[] memory batch) {
        batch = new AdvanceRequest[](1);
        batch[0] = r;
    }

    function _repayETH(address payer, bytes32 id, uint256 amount) internal returns (uint256 paid) {
        vm.deal(payer, payer.balance + amount);
        vm.prank(payer);
        paid = vault.repayETH{value: amount}(id);
    }

    function _sharePrice() internal view returns (uint256) {
        return vault.convertToAssets(1e21);
    }
}
