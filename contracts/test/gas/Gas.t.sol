// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BaseTest} from "../utils/BaseTest.sol";
import {PlainWethVault} from "../utils/PlainWethVault.sol";
import {AdvanceRequest} from "../../src/interfaces/IFactoringVault.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @notice Gas benchmark, not a test of behaviour: `forge snapshot --match-path contracts/test/gas/*` writes
/// `.gas-snapshot`. Each test makes exactly one call on a vault that is already in use (warm business
/// accounts, existing holders), next to a plain OpenZeppelin ERC-4626 over WETH measured the same way.
abstract contract GasBase is BaseTest {
    PlainWethVault internal plain;
    uint40 internal constant DUE_30 = uint40(START - 12 hours + 30 days);
    bytes32 constant REPAY_ID = keccak256("repay-me");
    bytes32 constant LATE_ID = keccak256("late");

    function setUp() public virtual override {
        super.setUp();
        plain = new PlainWethVault(IERC20(address(weth)));
        _fundWeth(alice, 20 ether);
        vm.startPrank(alice);
        weth.approve(address(vault), type(uint256).max);
        weth.approve(address(plain), type(uint256).max);
        vm.stopPrank();
        // Both vaults already have holders, alice included.
        _deposit(bob, 2_000 ether);
        _deposit(alice, 10 ether);
        _fundWeth(bob, 10 ether);
        vm.startPrank(bob);
        weth.approve(address(plain), type(uint256).max);
        plain.deposit(10 ether, bob);
        vm.stopPrank();
        vm.prank(alice);
        plain.deposit(1 ether, alice);

        // Repeat businesses: each already has an invoice (and an account).
        for (uint256 i; i < 20; ++i) {
            address biz = address(uint160(0xB000 + i));
            vm.deal(biz, 1 ether);
            _advance(keccak256(abi.encode("old", i)), biz, 1 ether, 0.01 ether, 60);
        }
        _advance(REPAY_ID, business, 10 ether, 0.2 ether, 30);
        require(_dueIn(30) == DUE_30, "DUE_30 is midnight 30 days after START");
        vm.deal(business, 100 ether);
        vm.deal(alice, 10 ether);
    }

    function _fundWeth(address who, uint256 amount) internal {
        vm.deal(who, amount);
        vm.prank(who);
        weth.deposit{value: amount}();
    }

}

contract GasTest is GasBase {
    // ---- shares, with the baseline
    function test_gas_baseline_deposit() public {
        vm.prank(alice);
        plain.deposit(1 ether, alice);
    }

    function test_gas_deposit() public {
        vm.prank(alice);
        vault.deposit(1 ether, alice);
    }

    function test_gas_depositETH() public {
        vm.prank(alice);
        vault.depositETH{value: 1 ether}(alice);
    }

    function test_gas_baseline_redeem() public {
        vm.prank(alice);
        plain.redeem(1e18, alice, alice);
    }

    function test_gas_redeem_instant() public {
        vm.prank(alice);
        vault.redeem(1e21, alice, alice);
    }

    // ---- invoices
    /// @dev Arguments built in memory from constants: the figure is the vault's, not the test's storage reads.
    function test_gas_advance_1() public {
        AdvanceRequest[] memory b = new AdvanceRequest[](1);
        b[0] = AdvanceRequest(keccak256("one"), address(0xB000), 10 ether, 0.2 ether, DUE_30, 10);
        vm.prank(keeper);
        vault.advance(b);
    }

    function test_gas_advance_batch20() public {
        AdvanceRequest[] memory b = new AdvanceRequest[](20);
        for (uint256 i; i < 20; ++i) {
            b[i] = AdvanceRequest(bytes32(i + 1), address(uint160(0xB000 + i)), 5 ether, 0.1 ether, DUE_30 + uint40(i % 5) * 1 days, 10);
        }
        vm.prank(keeper);
        vault.advance(b);
    }

    function test_gas_repay_full() public {
        vm.prank(business);
        vault.repayETH{value: 10.2 ether}(REPAY_ID);
    }

    function test_gas_repay_partial() public {
        vm.prank(business);
        vault.repayETH{value: 3 ether}(REPAY_ID);
    }

    function test_gas_writeOff() public {
        vm.warp(block.timestamp + 60 days);
        vm.prank(keeper);
        vault.writeOff(REPAY_ID);
    }

    function test_gas_requestRedeem() public {
        vm.prank(alice);
        vault.requestRedeem(1e21, alice);
    }
}

contract GasQueueTest is GasBase {
    function setUp() public override {
        super.setUp();
        // One filled request to claim, then ten waiting for liquidity.
        vm.prank(bob);
        vault.requestRedeem(1e21, bob);
        vault.processQueue(1);
        for (uint256 i; i < 10; ++i) {
            vm.prank(bob);
            vault.requestRedeem(1e21, bob);
        }
    }

    function test_gas_processQueue_10() public {
        vault.processQueue(10);
    }

    function test_gas_claim() public {
        vm.prank(bob);
        vault.claim(0, false);
    }
}

/// @notice The same deposit while both strategies hold capital: each is valued, the hedge through the oracle.
contract GasFundedStrategiesTest is GasBase {
    function setUp() public override {
        super.setUp();
        vm.startPrank(keeper);
        vault.allocate(address(yieldStrategy), 50 ether);
        vault.allocate(address(hedge), 50 ether);
        vm.stopPrank();
    }

    function test_gas_deposit_strategiesFunded() public {
        vm.prank(alice);
        vault.deposit(1 ether, alice);
    }
}
