// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BaseTest} from "../utils/BaseTest.sol";
import {InvariantTest} from "../utils/Test.sol";
import {VaultHandler} from "./VaultHandler.sol";
import {Invoice, InvoiceStatus, RedeemRequest} from "../../src/interfaces/IFactoringVault.sol";

/// @notice The vault's invariants under random sequences of every action (256 runs x depth 100 in CI).
contract VaultInvariantsTest is BaseTest, InvariantTest {
    VaultHandler internal handler;

    function setUp() public override {
        super.setUp();
        // The handler plays the feeds' and the yield vault's owner.
        handler = new VaultHandler(vault, ethUsdFeed, usdcUsdFeed, yieldVault, keeper, pauser);
        ethUsdFeed.transferOwnership(address(handler));
        usdcUsdFeed.transferOwnership(address(handler));
        yieldVault.transferOwnership(address(handler));
        vm.deal(address(this), 300 ether);
        vault.depositETH{value: 300 ether}(address(this)); // a first investor who never leaves
        targetContract(address(handler));
    }

    /// 1. totalAssets is exactly the sum of its parts.
    function invariant_totalAssetsIsTheSumOfItsParts() public view {
        (uint256 idle, uint256 principal, uint256 accrued, uint256 settled, uint256 strategies) = vault.assetBreakdown();
        assertEq(vault.totalAssets(), idle + principal + accrued + strategies - settled);
    }

    /// 2. Solvency: the WETH held covers idle, what the queue may claim and the protocol's fees.
    function invariant_solvency() public view {
        (uint256 idle,,,,) = vault.assetBreakdown();
        (,,, uint256 claimable) = vault.queueState();
        assertGe(weth.balanceOf(address(vault)), idle + claimable + vault.protocolFeesOwed());
    }

    /// 3. No invoice is ever advanced twice.
    function invariant_noInvoiceAdvancedTwice() public view {
        for (uint256 i; i < handler.advancedCount(); ++i) {
            assertEq(handler.timesAdvanced(handler.advancedIds(i)), 1);
        }
    }

    /// 4. The share price falls only on write-offs and strategy losses (including swap costs and oracle moves).
    function invariant_sharePriceFallsOnlyOnLosses() public view {
        assertFalse(handler.priceFellWithoutLoss());
    }

    /// 5. A deposit-redeem round trip never returns more than went in.
    function invariant_roundTripNeverProfits() public view {
        assertFalse(handler.roundTripProfited());
    }

    /// 6. FIFO: requests behind the head are untouched (full, or cancelled); those before it are done.
    function invariant_queueIsFifo() public view {
        (uint256 head, uint256 nextId,,) = vault.queueState();
        assertEq(nextId, handler.requestCount());
        for (uint256 id; id < nextId; ++id) {
            RedeemRequest memory r = vault.redeemRequest(id);
            if (id < head) assertEq(r.sharesPending, 0, "served requests have nothing pending");
            if (id > head && !handler.cancelled(id)) {
                assertEq(r.sharesPending, handler.requestShares(id), "nothing behind the head is filled");
            }
        }
    }

    /// 7. Pause (or anything else) never blocks a valid repayment or claim.
    function invariant_repayAndClaimNeverBlocked() public view {
        assertFalse(handler.repayOrClaimBlocked());
    }

    /// 8. Principal outstanding equals the performing invoices' principal, and the businesses' exposures.
    function invariant_principalMatchesInvoicesAndExposure() public view {
        uint256 sum;
        for (uint256 i; i < handler.advancedCount(); ++i) {
            Invoice memory inv = vault.invoice(handler.advancedIds(i));
            if (inv.status == InvoiceStatus.Performing) sum += inv.principal;
        }
        (, uint256 principal,,,) = vault.assetBreakdown();
        assertEq(principal, sum);
        uint256 exposure = vault.exposureOf(address(0xB1)) + vault.exposureOf(address(0xB2)) + vault.exposureOf(address(0xB3));
        assertEq(exposure, sum);
    }

    /// 9. Shares locked in the queue are held by the vault; the supply is what holders and the escrow hold.
    function invariant_escrowHoldsQueuedShares() public view {
        (,, uint256 queued,) = vault.queueState();
        assertEq(vault.balanceOf(address(vault)), queued);
        uint256 held = vault.balanceOf(address(this)) + vault.balanceOf(address(0xA11CE)) + vault.balanceOf(address(0xB0B))
            + vault.balanceOf(address(0xCA201)) + queued;
        assertEq(vault.totalSupply(), held);
    }

    /// 10. The claimable total equals the sum over requests.
    function invariant_claimableMatchesRequests() public view {
        (,, , uint256 claimable) = vault.queueState();
        uint256 sum;
        for (uint256 id; id < handler.requestCount(); ++id) {
            sum += vault.redeemRequest(id).assetsClaimable;
        }
        assertEq(claimable, sum);
    }

    /// 11. Instant liquidity never exceeds idle, and nobody may withdraw more than it.
    function invariant_maxWithdrawWithinLiquidity() public view {
        (uint256 idle,,,,) = vault.assetBreakdown();
        uint256 available = vault.availableLiquidity();
        assertLe(available, idle);
        assertLe(vault.maxWithdraw(address(0xA11CE)), available);
        assertLe(vault.maxWithdraw(address(this)), available);
    }

    /// 12. Donations change nothing.
    function invariant_donationsChangeNothing() public view {
        assertFalse(handler.donationChangedAssets());
    }

    /// 13. Income accrued by schedule never goes backwards, whatever happens.
    function invariant_accrualOnlyGrows() public view {
        assertFalse(handler.accrualWentBack());
    }

    /// 14. The fee receivable is backed by the vault's share of fees still owed on performing invoices: a
    ///     write-off or a payment always takes its part out (a few wei of rounding per invoice allowed).
    function invariant_receivableBackedByPerformingInvoices() public view {
        (,, uint256 accrued, uint256 settled,) = vault.assetBreakdown();
        uint256 receivable = accrued > settled ? accrued - settled : 0;
        uint256 backing;
        uint256 n = handler.advancedCount();
        for (uint256 i; i < n; ++i) {
            Invoice memory inv = vault.invoice(handler.advancedIds(i));
            if (inv.status == InvoiceStatus.Performing) backing += inv.fee - uint256(inv.fee) * inv.protocolFeeBps / 10_000;
        }
        assertLe(receivable, backing + 2 * n);
    }

    function invariant_callSummary() public view {
        handler.calls(); // keeps the handler's call count visible in traces
    }
}
