// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ScriptVm} from "./ScriptVm.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {IUniswapV3Factory, INonfungiblePositionManager} from "../test/utils/UniswapInterfaces.sol";
import {IWETH9} from "../src/interfaces/IWETH9.sol";
import {ISwapRouter02} from "../src/interfaces/ISwapRouter02.sol";
import {AggregatorV3Interface} from "../src/interfaces/IAggregatorV3.sol";
import {RiskParams} from "../src/interfaces/IFactoringVault.sol";
import {FactoringVault} from "../src/FactoringVault.sol";
import {OracleGuard} from "../src/oracles/OracleGuard.sol";
import {ERC4626Strategy} from "../src/strategies/ERC4626Strategy.sol";
import {UniswapV3SwapStrategy} from "../src/strategies/UniswapV3SwapStrategy.sol";
import {DevStablecoin} from "../src/devnet/DevStablecoin.sol";
import {DevPriceFeed} from "../src/devnet/DevPriceFeed.sol";
import {DevYieldVault} from "../src/devnet/DevYieldVault.sol";

/// @notice Deploys the whole system on a local Base (Anvil, chain id 8453) the way `BaseTest.setUp` builds it in
/// tests, but as real transactions, and writes a deployment manifest. Run by `scripts/dev`:
///
///     forge script contracts/script/DeployDevnet.s.sol --rpc-url http://127.0.0.1:8545 --broadcast \
///         --private-key <Anvil dev key 0>
///
/// WETH9 must already be at 0x4200..0006 (a broadcast cannot etch code): `scripts/dev` installs it with
/// `anvil_setCode` + `anvil_setStorageAt` first. Accounts come from Anvil's well-known mnemonic; the broadcaster
/// must be account 0 (admin and owner of the dev tokens and feeds). Their keys are public: local chains only.
///
/// Differences from BaseTest, on purpose:
/// - Oracle staleness is 2 days (the OracleGuard maximum) instead of 1 hour, so a dev chain left idle over a
///   weekend still prices (scripts/dev also refreshes the feeds on every resume). Sequencer grace stays 1 hour.
/// - Admin transfer delay 1 hour (the minimum) instead of 1 day, so role hand-overs can be tried out quickly.
/// - Pool liquidity 1,000 WETH (from the deployer's 10,000 ETH) instead of 100,000.
contract DeployDevnet {
    ScriptVm internal constant vm = ScriptVm(address(uint160(uint256(keccak256("hevm cheat code")))));

    // ---------------------------------------------------------------- Base and Uniswap (as BaseChain.sol)
    address internal constant WETH_ADDR = 0x4200000000000000000000000000000000000006;
    string internal constant V3_FACTORY_ARTIFACT =
        "node_modules/@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json";
    string internal constant POSITION_MANAGER_ARTIFACT =
        "node_modules/@uniswap/v3-periphery/artifacts/contracts/NonfungiblePositionManager.sol/NonfungiblePositionManager.json";
    string internal constant SWAP_ROUTER02_ARTIFACT =
        "node_modules/@uniswap/swap-router-contracts/artifacts/contracts/SwapRouter02.sol/SwapRouter02.json";
    int24 internal constant UNI_MAX_TICK = 887_272;

    // ---------------------------------------------------------------- devnet settings
    string internal constant ANVIL_MNEMONIC = "test test test test test test test test test test test junk";
    uint256 internal constant ETH_USD = 3_000;
    uint24 internal constant POOL_FEE = 500;
    uint256 internal constant MAX_SLIPPAGE_BPS = 100;
    uint256 internal constant POOL_WETH = 1_000 ether;
    uint32 internal constant FEED_MAX_AGE = 2 days;
    uint256 internal constant SEQUENCER_GRACE = 1 hours;
    uint48 internal constant ADMIN_DELAY = 1 hours;
    uint256 internal constant YIELD_STRATEGY_CAP = 500 ether;
    uint256 internal constant HEDGE_STRATEGY_CAP = 300 ether;
    uint256 internal constant USDC_PER_ACCOUNT = 100_000e6;

    // ---------------------------------------------------------------- roles (Anvil account indexes)
    // 0 admin + pauser + deployer, 1 keeper, 2 treasury, 3-5 investors, 6-8 businesses, 9 spare.
    address internal admin;
    address internal keeper;
    address internal treasury;
    address[] internal investors;
    address[] internal businesses;

    // ---------------------------------------------------------------- deployed
    address internal uniV3Factory;
    address internal uniPositionManager;
    address internal uniSwapRouter02;
    DevStablecoin internal usdc;
    address internal pool;
    DevPriceFeed internal ethUsdFeed;
    DevPriceFeed internal usdcUsdFeed;
    DevPriceFeed internal sequencerFeed;
    OracleGuard internal oracle;
    FactoringVault internal vault;
    DevYieldVault internal yieldVault;
    ERC4626Strategy internal yieldStrategy;
    UniswapV3SwapStrategy internal hedge;

    function run() external {
        _loadAccounts();
        require(msg.sender == admin, "DeployDevnet: broadcast with --private-key of Anvil account 0 (the admin)");
        require(WETH_ADDR.code.length > 0, "DeployDevnet: no WETH9 at 0x4200..0006: scripts/dev installs it first");
        // Logs of the deployment start in the next block (Anvil mines one block per transaction); an indexer
        // starts here.
        uint256 deploymentBlock = block.number + 1;

        vm.startBroadcast();
        _deployUniswapV3();
        usdc = new DevStablecoin(admin);
        pool = _createPoolWithLiquidity();

        ethUsdFeed = new DevPriceFeed(8, int256(ETH_USD * 1e8), "ETH / USD");
        usdcUsdFeed = new DevPriceFeed(8, 1e8, "USDC / USD");
        sequencerFeed = new DevPriceFeed(0, 0, "L2 Sequencer Uptime Status Feed");
        // Up since a day ago: the sequencer grace period is already over when the chain starts.
        sequencerFeed.setRound(0, block.timestamp - 1 days, block.timestamp);

        OracleGuard.TokenFeedConfig[] memory feeds = new OracleGuard.TokenFeedConfig[](1);
        feeds[0] =
            OracleGuard.TokenFeedConfig(address(usdc), AggregatorV3Interface(address(usdcUsdFeed)), FEED_MAX_AGE, 6);
        oracle = new OracleGuard(
            AggregatorV3Interface(address(sequencerFeed)),
            SEQUENCER_GRACE,
            AggregatorV3Interface(address(ethUsdFeed)),
            FEED_MAX_AGE,
            feeds
        );

        vault =
            new FactoringVault(IWETH9(WETH_ADDR), oracle, admin, ADMIN_DELAY, keeper, admin, treasury, defaultParams());
        yieldVault = new DevYieldVault(IERC20(WETH_ADDR));
        yieldStrategy = new ERC4626Strategy(address(vault), IERC4626(address(yieldVault)));
        hedge = new UniswapV3SwapStrategy(
            address(vault), WETH_ADDR, address(usdc), ISwapRouter02(uniSwapRouter02), oracle, POOL_FEE, MAX_SLIPPAGE_BPS
        );
        vault.addStrategy(address(yieldStrategy), YIELD_STRATEGY_CAP);
        vault.addStrategy(address(hedge), HEDGE_STRATEGY_CAP);

        for (uint256 i; i < investors.length; ++i) {
            usdc.mint(investors[i], USDC_PER_ACCOUNT);
        }
        for (uint256 i; i < businesses.length; ++i) {
            usdc.mint(businesses[i], USDC_PER_ACCOUNT);
        }
        vm.stopBroadcast();

        _writeManifest(deploymentBlock);
    }

    /// @dev Same as `BaseTest.defaultParams()`.
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

    // ------------------------------------------------------------------ steps

    function _loadAccounts() internal {
        admin = _account(0);
        keeper = _account(1);
        treasury = _account(2);
        for (uint32 i = 3; i <= 5; ++i) {
            investors.push(_account(i));
        }
        for (uint32 i = 6; i <= 8; ++i) {
            businesses.push(_account(i));
        }
    }

    function _account(uint32 index) internal pure returns (address) {
        return vm.addr(vm.deriveKey(ANVIL_MNEMONIC, index));
    }

    /// @dev As `BaseChain._deployUniswapV3`: no token descriptor, no V2 factory.
    function _deployUniswapV3() internal {
        uniV3Factory = _deployArtifact(V3_FACTORY_ARTIFACT, "");
        uniPositionManager = _deployArtifact(POSITION_MANAGER_ARTIFACT, abi.encode(uniV3Factory, WETH_ADDR, address(0)));
        uniSwapRouter02 = _deployArtifact(
            SWAP_ROUTER02_ARTIFACT, abi.encode(address(0), uniV3Factory, uniPositionManager, WETH_ADDR)
        );
    }

    /// @dev As `BaseChain._createPoolWithLiquidity`, with the deployer's own ETH (wrapped) and freshly minted USDC
    /// instead of vm.deal; the full-range position NFT goes to the admin.
    function _createPoolWithLiquidity() internal returns (address pool_) {
        uint256 usdcAmount = POOL_WETH * ETH_USD / 1e12; // 18 -> 6 decimals
        bool wethIsToken0 = WETH_ADDR < address(usdc);
        // Price from one whole ETH against its dollar price, independent of the rounding of `usdcAmount`.
        uint160 sqrtPriceX96 =
            wethIsToken0 ? _sqrtPriceX96(1 ether, ETH_USD * 1e6) : _sqrtPriceX96(ETH_USD * 1e6, 1 ether);
        (address token0, address token1) = wethIsToken0 ? (WETH_ADDR, address(usdc)) : (address(usdc), WETH_ADDR);
        pool_ = INonfungiblePositionManager(uniPositionManager)
            .createAndInitializePoolIfNecessary(token0, token1, POOL_FEE, sqrtPriceX96);

        IWETH9(WETH_ADDR).deposit{value: POOL_WETH}();
        usdc.mint(admin, usdcAmount);
        (uint256 amount0, uint256 amount1) = wethIsToken0 ? (POOL_WETH, usdcAmount) : (usdcAmount, POOL_WETH);
        IERC20(token0).approve(uniPositionManager, amount0);
        IERC20(token1).approve(uniPositionManager, amount1);
        int24 spacing = IUniswapV3Factory(uniV3Factory).feeAmountTickSpacing(POOL_FEE);
        // forge-lint: disable-next-line(divide-before-multiply)
        int24 maxTick = (UNI_MAX_TICK / spacing) * spacing; // the largest usable tick: rounding down is the point
        INonfungiblePositionManager(uniPositionManager)
            .mint(
                INonfungiblePositionManager.MintParams({
                token0: token0,
                token1: token1,
                fee: POOL_FEE,
                tickLower: -maxTick,
                tickUpper: maxTick,
                amount0Desired: amount0,
                amount1Desired: amount1,
                amount0Min: 0,
                amount1Min: 0,
                recipient: admin,
                deadline: block.timestamp + 1 hours
            })
            );
    }

    /// @dev Where the script writes the manifest: `PIPEIT_MANIFEST_OUT`, a path under ./.data (foundry.toml's
    /// fs_permissions). scripts/dev points it at a staging file and moves it into the data dir once the broadcast
    /// has succeeded, so a manifest never describes contracts that were only simulated.
    function _writeManifest(uint256 deploymentBlock) internal {
        string memory c = "contracts";
        vm.serializeAddress(c, "weth", WETH_ADDR);
        vm.serializeAddress(c, "usdc", address(usdc));
        vm.serializeAddress(c, "uniswapV3Factory", uniV3Factory);
        vm.serializeAddress(c, "nonfungiblePositionManager", uniPositionManager);
        vm.serializeAddress(c, "swapRouter02", uniSwapRouter02);
        vm.serializeAddress(c, "wethUsdcPool", pool);
        vm.serializeAddress(c, "ethUsdFeed", address(ethUsdFeed));
        vm.serializeAddress(c, "usdcUsdFeed", address(usdcUsdFeed));
        vm.serializeAddress(c, "sequencerUptimeFeed", address(sequencerFeed));
        vm.serializeAddress(c, "oracleGuard", address(oracle));
        vm.serializeAddress(c, "vault", address(vault));
        vm.serializeAddress(c, "devYieldVault", address(yieldVault));
        vm.serializeAddress(c, "erc4626Strategy", address(yieldStrategy));
        string memory contractsJson = vm.serializeAddress(c, "uniswapV3SwapStrategy", address(hedge));

        string memory r = "roles";
        vm.serializeAddress(r, "admin", admin);
        vm.serializeAddress(r, "keeper", keeper);
        vm.serializeAddress(r, "pauser", admin);
        vm.serializeAddress(r, "treasury", treasury);
        vm.serializeAddress(r, "investors", investors);
        string memory rolesJson = vm.serializeAddress(r, "businesses", businesses);

        string memory s = "settings";
        vm.serializeUint(s, "ethUsdPrice", ETH_USD);
        vm.serializeUint(s, "poolFee", POOL_FEE);
        vm.serializeUint(s, "maxSlippageBps", MAX_SLIPPAGE_BPS);
        vm.serializeUint(s, "feedMaxAgeSeconds", FEED_MAX_AGE);
        vm.serializeUint(s, "sequencerGraceSeconds", SEQUENCER_GRACE);
        string memory settingsJson = vm.serializeUint(s, "adminDelaySeconds", ADMIN_DELAY);

        string memory m = "manifest";
        vm.serializeUint(m, "chainId", block.chainid);
        vm.serializeUint(m, "deploymentBlock", deploymentBlock);
        vm.serializeString(m, "contracts", contractsJson);
        vm.serializeString(m, "roles", rolesJson);
        string memory json = vm.serializeString(m, "settings", settingsJson);
        vm.writeJson(json, vm.envOr("PIPEIT_MANIFEST_OUT", string(".data/devnet/manifest.json")));
    }

    // ------------------------------------------------------------------ helpers (as BaseChain.sol)

    function _sqrtPriceX96(uint256 amount0, uint256 amount1) internal pure returns (uint160) {
        return SafeCast.toUint160(Math.sqrt(Math.mulDiv(amount1, 1 << 192, amount0)));
    }

    /// @dev A CREATE from the script contract while broadcasting becomes a contract-creation transaction.
    function _deployArtifact(string memory artifact, bytes memory args) internal returns (address deployed) {
        bytes memory initCode = bytes.concat(vm.getCode(artifact), args);
        assembly ("memory-safe") {
            deployed := create(0, add(initCode, 0x20), mload(initCode))
        }
        require(deployed != address(0), string.concat("DeployDevnet: deploy failed: ", artifact));
    }
}
