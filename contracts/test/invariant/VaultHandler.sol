// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "../utils/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IWETH9} from "../../src/interfaces/IWETH9.sol";
import {FactoringVault} from "../../src/FactoringVault.sol";
import {AdvanceRequest, Invoice, InvoiceStatus, RedeemRequest} from "../../src/interfaces/IFactoringVault.sol";
import {DevPriceFeed} from "../../src/devnet/DevPriceFeed.sol";
import {DevYieldVault} from "../../src/devnet/DevYieldVault.sol";

/// @notice Drives every user and keeper action at random, with time warps, oracle moves and donations, and keeps
/// ghost variables that the invariants compare with the vault.
contract VaultHandler is Test {
    FactoringVault internal immutable vault;
    IWETH9 internal immutable weth;
    DevPriceFeed internal immutable ethUsdFeed;
    DevPriceFeed internal immutable usdcUsdFeed;
    DevYieldVault internal immutable yieldVault;
    address internal immutable keeper;
    address internal immutable pauser;
    address[] internal strategyList;

    address[3] internal investors = [address(0xA11CE), address(0xB0B), address(0xCA201)];
    address[3] internal businesses = [address(0xB1), address(0xB2), address(0xB3)];

    // ---- ghosts
    bytes32[] public advancedIds;
    mapping(bytes32 => uint256) public timesAdvanced;
    uint256[] public requestShares;
    mapping(uint256 => bool) public cancelled;
    bool public priceFellWithoutLoss;
    bool public roundTripProfited;
    bool public repayOrClaimBlocked;
    bool public donationChangedAssets;
    uint256 public calls;
    uint256 internal lastAccrued;
    bool public accrualWentBack;

    constructor(
        FactoringVault vault_,
        DevPriceFeed ethUsdFeed_,
        DevPriceFeed usdcUsdFeed_,
        DevYieldVault yieldVault_,
        address keeper_,
        address pauser_
    ) {
        vault = vault_;
        weth = IWETH9(vault_.asset());
        ethUsdFeed = ethUsdFeed_;
        usdcUsdFeed = usdcUsdFeed_;
        yieldVault = yieldVault_;
        keeper = keeper_;
        pauser = pauser_;
        strategyList = vault_.strategies();
    }

    /// @dev Share price must not fall across an action that cannot lose money (1 wei of rounding allowed).
    modifier priceHolds(bool mayFall) {
        uint256 before = vault.convertToAssets(1e21);
        _;
        uint256 afterwards = vault.convertToAssets(1e21);
        if (!mayFall && afterwards + 1 < before) priceFellWithoutLoss = true;
        (,, uint256 accrued,,) = vault.assetBreakdown();
        if (accrued < lastAccrued) accrualWentBack = true;
        lastAccrued = accrued;
        ++calls;
    }

    // ------------------------------------------------------------------ investors

    function deposit(uint256 who, uint256 assets, bool asEth) external priceHolds(false) {
        if (vault.paused()) return;
        address a = investors[who % 3];
        assets = bound(assets, 1e9, 200 ether);
        vm.deal(a, assets);
        vm.startPrank(a);
        if (asEth) {
            vault.depositETH{value: assets}(a);
        } else {
            weth.deposit{value: assets}();
            weth.approve(address(vault), assets);
            vault.deposit(assets, a);
        }
        vm.stopPrank();
    }

    function redeem(uint256 who, uint256 shares, bool asEth) external priceHolds(false) {
        address a = investors[who % 3];
        uint256 max = vault.maxRedeem(a);
        if (max == 0) return;
        shares = bound(shares, 1, max);
        if (vault.previewRedeem(shares) == 0) return;
        vm.prank(a);
        if (asEth) vault.redeemETH(shares, a, a);
        else vault.redeem(shares, a, a);
    }

    function roundTrip(uint256 who, uint256 assets) external priceHolds(false) {
        if (vault.paused()) return;
        address a = investors[who % 3];
        assets = bound(assets, 1e9, 50 ether);
        vm.deal(a, assets);
        vm.startPrank(a);
        uint256 shares = vault.depositETH{value: assets}(a);
        if (shares <= vault.maxRedeem(a)) {
            uint256 out = vault.redeemETH(shares, a, a);
            if (out > assets) roundTripProfited = true;
        }
        vm.stopPrank();
    }

    function requestRedeem(uint256 who, uint256 shares) external priceHolds(false) {
        address a = investors[who % 3];
        uint256 bal = vault.balanceOf(a);
        if (bal == 0) return;
        shares = bound(shares, 1, bal);
        vm.prank(a);
        uint256 id = vault.requestRedeem(shares, a);
        requestShares.push(shares);
        require(id == requestShares.length - 1, "request ids are sequential");
    }

    function cancel(uint256 seed) external priceHolds(false) {
        if (requestShares.length == 0) return;
        uint256 id = seed % requestShares.length;
        RedeemRequest memory r = vault.redeemRequest(id);
        if (r.sharesPending == 0) return;
        vm.prank(r.owner);
        vault.cancelRequest(id);
        cancelled[id] = true;
    }

    function processQueue(uint256 count) external priceHolds(false) {
        vault.processQueue(bound(count, 1, 10));
    }

    function claim(uint256 seed, bool asEth) external priceHolds(false) {
        if (requestShares.length == 0) return;
        uint256 id = seed % requestShares.length;
        RedeemRequest memory r = vault.redeemRequest(id);
        if (r.assetsClaimable == 0) return;
        vm.prank(r.owner);
        try vault.claim(id, asEth) {} catch {
            repayOrClaimBlocked = true;
        }
    }

    // ------------------------------------------------------------------ keeper and businesses

    function advance(uint256 idSeed, uint256 biz, uint256 principal, uint256 feeBps, uint256 tenorDays, uint256 n)
        external
        priceHolds(false)
    {
        n = bound(n, 1, 3);
        AdvanceRequest[] memory batch = new AdvanceRequest[](n);
        for (uint256 i; i < n; ++i) {
            batch[i] = AdvanceRequest({
                id: keccak256(abi.encode((idSeed + i) % 40)), // a small pool: re-advances are attempted often
                payout: businesses[(biz + i) % 3],
                principal: uint128(bound(principal >> (i * 8), 0.01 ether, 60 ether)),
                fee: 0,
                dueAt: uint40((block.timestamp / 1 days + bound(tenorDays, 1, 119)) * 1 days),
                lateFeeBpsPerDay: uint16(bound(feeBps, 0, 50))
            });
            batch[i].fee = uint128(uint256(batch[i].principal) * bound(feeBps, 0, 2_500) / 10_000);
        }
        vm.prank(keeper);
        try vault.advance(batch) {
            for (uint256 i; i < n; ++i) {
                if (timesAdvanced[batch[i].id]++ == 0) advancedIds.push(batch[i].id);
            }
        } catch {}
    }

    function repay(uint256 seed, uint256 amount, bool asEth) external priceHolds(false) {
        if (advancedIds.length == 0) return;
        bytes32 id = advancedIds[seed % advancedIds.length];
        Invoice memory inv = vault.invoice(id);
        if (inv.status == InvoiceStatus.Repaid) return;
        (,,, uint256 total) = vault.amountOwed(id);
        amount = bound(amount, 1, total + 1 ether);
        address payer = address(0xFEE);
        vm.deal(payer, amount);
        vm.startPrank(payer);
        if (asEth) {
            try vault.repayETH{value: amount}(id) {} catch {
                repayOrClaimBlocked = true;
            }
        } else {
            weth.deposit{value: amount}();
            weth.approve(address(vault), amount);
            try vault.repay(id, amount) {} catch {
                repayOrClaimBlocked = true;
            }
        }
        vm.stopPrank();
    }

    function writeOff(uint256 seed, bool asKeeper) external priceHolds(true) {
        if (advancedIds.length == 0) return;
        bytes32 id = advancedIds[seed % advancedIds.length];
        if (vault.invoice(id).status != InvoiceStatus.Performing) return;
        (uint256 keeperAt, uint256 publicAt) = vault.writeOffTimes(id);
        if (block.timestamp < (asKeeper ? keeperAt : publicAt)) return;
        vm.prank(asKeeper ? keeper : address(0xD00D));
        vault.writeOff(id);
    }

    function allocate(uint256 which, uint256 assets) external priceHolds(true) {
        address s = strategyList[which % strategyList.length];
        assets = bound(assets, 1 ether, 100 ether);
        vm.prank(keeper);
        try vault.allocate(s, assets) {} catch {}
    }

    function deallocate(uint256 which, uint256 assets) external priceHolds(true) {
        address s = strategyList[which % strategyList.length];
        assets = bound(assets, 1 ether, 100 ether);
        vm.prank(keeper);
        try vault.deallocate(s, assets) {} catch {}
    }

    function strategyLoss(uint256 amount) external priceHolds(true) {
        uint256 held = weth.balanceOf(address(yieldVault));
        if (held == 0) return;
        yieldVault.simulateLoss(bound(amount, 1, held), address(0xDEAD));
    }

    // ------------------------------------------------------------------ the world

    function warp(uint256 secs) external priceHolds(false) {
        vm.warp(block.timestamp + bound(secs, 1 minutes, 20 days));
        _refreshFeeds();
    }

    function moveOracle(uint256 pct) external priceHolds(true) {
        (, int256 answer,,,) = ethUsdFeed.latestRoundData();
        int256 next = answer * int256(bound(pct, 80, 120)) / 100;
        if (next < 1_000e8 || next > 10_000e8) return;
        ethUsdFeed.setAnswer(next);
    }

    function donate(uint256 assets) external priceHolds(false) {
        assets = bound(assets, 1, 50 ether);
        uint256 before = vault.totalAssets();
        vm.deal(address(this), assets);
        weth.deposit{value: assets}();
        IERC20(address(weth)).transfer(address(vault), assets);
        if (vault.totalAssets() != before) donationChangedAssets = true;
    }

    function togglePause() external priceHolds(false) {
        vm.startPrank(pauser);
        if (vault.paused()) vault.unpause();
        else vault.pause();
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ views for the invariants

    function advancedCount() external view returns (uint256) {
        return advancedIds.length;
    }

    function requestCount() external view returns (uint256) {
        return requestShares.length;
    }

    function _refreshFeeds() internal {
        (, int256 eth,,,) = ethUsdFeed.latestRoundData();
        (, int256 usd,,,) = usdcUsdFeed.latestRoundData();
        ethUsdFeed.setAnswer(eth);
        usdcUsdFeed.setAnswer(usd);
    }

    receive() external payable {}
}
