// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BaseTest} from "../utils/BaseTest.sol";
import {ErrorsLib} from "../../src/libraries/ErrorsLib.sol";
import {FactoringVault} from "../../src/FactoringVault.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @dev Tries to re-enter the vault when it receives ETH.
contract ReentrantReceiver {
    FactoringVault internal immutable vault;
    bool public reentered;

    constructor(FactoringVault vault_) {
        vault = vault_;
    }

    function redeemAll() external {
        vault.redeemETH(vault.balanceOf(address(this)), address(this), address(this));
    }

    receive() external payable {
        if (msg.sender == address(vault)) vault.redeemETH(1, address(this), address(this));
    }
}

contract SharesTest is BaseTest {
    function test_DepositETH_MintsSharesWithDecimalsOffset() public {
        uint256 shares = _deposit(alice, 5 ether);
        assertEq(shares, 5 ether * 1e3);
        assertEq(vault.decimals(), 21);
        assertEq(vault.totalAssets(), 5 ether);
        assertEq(weth.balanceOf(address(vault)), 5 ether);
    }

    function test_DepositAndMintWeth() public {
        vm.deal(alice, 10 ether);
        vm.startPrank(alice);
        weth.deposit{value: 10 ether}();
        weth.approve(address(vault), 10 ether);
        uint256 shares = vault.deposit(4 ether, alice);
        uint256 assets = vault.mint(1e21, alice);
        vm.stopPrank();
        assertEq(shares, 4e21);
        assertEq(assets, 1 ether);
        assertEq(vault.balanceOf(alice), 5e21);
    }

    function test_RedeemAndWithdraw_InWethAndEth() public {
        _deposit(alice, 10 ether);
        vm.startPrank(alice);
        vault.redeem(1e21, alice, alice);
        vault.withdraw(1 ether, alice, alice);
        vault.redeemETH(1e21, bob, alice);
        vault.withdrawETH(1 ether, bob, alice);
        vm.stopPrank();
        assertEq(weth.balanceOf(alice), 2 ether);
        assertEq(bob.balance, 2 ether);
        assertEq(vault.totalAssets(), 6 ether);
    }

    function test_RedeemOnBehalf_SpendsAllowance() public {
        _deposit(alice, 2 ether);
        vm.prank(alice);
        vault.approve(bob, 1e21);
        vm.prank(bob);
        vault.redeemETH(1e21, bob, alice);
        assertEq(bob.balance, 1 ether);
        vm.prank(bob);
        vm.expectRevert();
        vault.redeemETH(1e21, bob, alice);
    }

    function test_DonationChangesNothing() public {
        _deposit(alice, 10 ether);
        uint256 price = _sharePrice();
        vm.deal(stranger, 5 ether);
        vm.startPrank(stranger);
        weth.deposit{value: 5 ether}();
        IERC20(address(weth)).transfer(address(vault), 5 ether);
        vm.stopPrank();
        assertEq(vault.totalAssets(), 10 ether);
        assertEq(_sharePrice(), price);
    }

    function test_RevertWhen_PlainEthSent() public {
        vm.deal(stranger, 1 ether);
        vm.prank(stranger);
        (bool ok, bytes memory err) = address(vault).call{value: 1 ether}("");
        assertFalse(ok);
        assertEq(err, abi.encodeWithSelector(ErrorsLib.PlainEthNotAccepted.selector, stranger, 1 ether));
    }

    function test_RevertWhen_ZeroAmounts() public {
        vm.expectRevert(ErrorsLib.ZeroAmount.selector);
        vault.depositETH{value: 0}(alice);
        vm.expectRevert(ErrorsLib.ZeroAmount.selector);
        vault.deposit(0, alice);
        _deposit(alice, 1 ether);
        vm.prank(alice);
        vm.expectRevert(ErrorsLib.ZeroAmount.selector);
        vault.redeem(0, alice, alice);
    }

    function test_RevertWhen_DepositWhilePaused_ButRedeemWorks() public {
        _deposit(alice, 2 ether);
        vm.prank(pauser);
        vault.pause();
        assertEq(vault.maxDeposit(alice), 0);
        assertEq(vault.maxMint(alice), 0);
        vm.deal(alice, 1 ether);
        vm.prank(alice);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vault.depositETH{value: 1 ether}(alice);
        vm.prank(alice);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vault.deposit(1 ether, alice);
        vm.prank(alice);
        vault.redeemETH(1e21, alice, alice);
        assertEq(alice.balance, 2 ether);
    }

    function test_MaxWithdrawTellsTheTruthAboutLiquidity() public {
        _deposit(alice, 100 ether);
        _advance(keccak256("x"), business, 60 ether, 1 ether, 30);
        assertEq(vault.maxWithdraw(alice), 40 ether);
        assertEq(vault.maxRedeem(alice), vault.convertToShares(40 ether));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxWithdraw.selector, alice, 41 ether, 40 ether));
        vault.withdraw(41 ether, alice, alice);
        vm.prank(alice);
        vault.withdraw(40 ether, alice, alice);
    }

    function test_ReentrancyThroughRedeemETH_IsBlocked() public {
        ReentrantReceiver r = new ReentrantReceiver(vault);
        _deposit(address(r), 1 ether);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.EthTransferFailed.selector, address(r), 1 ether));
        r.redeemAll();
    }
}
