// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BaseTest} from "../utils/BaseTest.sol";
import {ErrorsLib} from "../../src/libraries/ErrorsLib.sol";
import {EventsLib} from "../../src/libraries/EventsLib.sol";
import {FactoringVault} from "../../src/FactoringVault.sol";
import {RiskParams} from "../../src/interfaces/IFactoringVault.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IAccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/IAccessControlDefaultAdminRules.sol";

contract AdminTest is BaseTest {
    function test_SetRiskParams_EmitsAndApplies() public {
        RiskParams memory p = defaultParams();
        p.maxTenor = 90 days;
        vm.expectEmit(false, false, false, true, address(vault));
        emit EventsLib.RiskParamsSet(p);
        vm.prank(admin);
        vault.setRiskParams(p);
        assertEq(vault.riskParams().maxTenor, 90 days);
    }

    function test_RevertWhen_EachParamOutOfBounds() public {
        RiskParams memory p;
        p = defaultParams(); p.maxAdvancePerInvoice = 0;
        _expectBounds(p, "maxAdvancePerInvoice", 0, 1, 10_000 ether);
        p = defaultParams(); p.maxExposurePerBusiness = 1 ether;
        _expectBounds(p, "maxExposurePerBusiness", 1 ether, 100 ether, 100_000 ether);
        p = defaultParams(); p.maxUtilisationBps = 9_501;
        _expectBounds(p, "maxUtilisationBps", 9_501, 1_000, 9_500);
        p = defaultParams(); p.minIdleBps = 99;
        _expectBounds(p, "minIdleBps", 99, 100, 5_000);
        p = defaultParams(); p.protocolFeeBps = 2_001;
        _expectBounds(p, "protocolFeeBps", 2_001, 0, 2_000);
        p = defaultParams(); p.maxLateFeeBpsPerDay = 101;
        _expectBounds(p, "maxLateFeeBpsPerDay", 101, 0, 100);
        p = defaultParams(); p.maxTenor = 181 days;
        _expectBounds(p, "maxTenor", 181 days, 1 days, 180 days);
        p = defaultParams(); p.gracePeriod = 1 hours;
        _expectBounds(p, "gracePeriod", 1 hours, 1 days, 90 days);
        p = defaultParams(); p.publicWriteOffDelay = 31 days;
        _expectBounds(p, "publicWriteOffDelay", 31 days, 1 days, 30 days);
        p = defaultParams(); p.moveWindow = 8 days;
        _expectBounds(p, "moveWindow", 8 days, 1 hours, 7 days);
        p = defaultParams(); p.moveCapPerWindow = 0;
        _expectBounds(p, "moveCapPerWindow", 0, 1, 1_000_000 ether);
    }

    function test_RevertWhen_NotAdmin() public {
        RiskParams memory p = defaultParams();
        vm.prank(keeper);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, keeper, bytes32(0))
        );
        vault.setRiskParams(p);
        bytes32 role = vault.PAUSER_ROLE();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role));
        vault.pause();
    }

    function test_AdminTransfer_IsTwoStepWithDelay() public {
        vm.prank(admin);
        vault.beginDefaultAdminTransfer(bob);
        (address pending, uint48 schedule) = vault.pendingDefaultAdmin();
        assertEq(pending, bob);
        assertEq(schedule, block.timestamp + 1 days);
        vm.prank(bob);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControlDefaultAdminRules.AccessControlEnforcedDefaultAdminDelay.selector, schedule)
        );
        vault.acceptDefaultAdminTransfer();
        vm.warp(schedule + 1);
        vm.prank(bob);
        vault.acceptDefaultAdminTransfer();
        assertEq(vault.defaultAdmin(), bob);
    }

    function test_Treasury_SetAndValidated() public {
        vm.startPrank(admin);
        vm.expectRevert(ErrorsLib.ZeroAddress.selector);
        vault.setTreasury(address(0));
        vault.setTreasury(bob);
        vm.stopPrank();
        assertEq(vault.treasury(), bob);
    }

    function test_RevertWhen_ConstructorAdminDelayOutOfBounds() public {
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.ParamOutOfBounds.selector, bytes32("adminDelay"), 0, 1 hours, 30 days));
        new FactoringVault(weth, oracle, admin, 0, keeper, pauser, treasury, defaultParams());
    }

    function test_RevertWhen_AdminDelayChangedOutOfBounds() public {
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.ParamOutOfBounds.selector, bytes32("adminDelay"), 0, 1 hours, 30 days));
        vault.changeDefaultAdminDelay(0);
    }

    function test_PauseAndUnpause() public {
        vm.startPrank(pauser);
        vault.pause();
        assertTrue(vault.paused());
        vault.unpause();
        assertFalse(vault.paused());
        vm.stopPrank();
    }

    function _expectBounds(RiskParams memory p, bytes32 name, uint256 value, uint256 min, uint256 max) internal {
        vm.prank(admin);
        vm.expectRevert(abi.encodeWithSelector(ErrorsLib.ParamOutOfBounds.selector, name, value, min, max));
        vault.setRiskParams(p);
    }
}
