// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Vm} from "./Vm.sol";

/// @notice Minimal stand-in for forge-std's `Test`: the cheatcode handle, assertions that revert with both values
/// in the message, `bound` (forge-std semantics) and `makeAddr`.
abstract contract Test {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    bool public IS_TEST = true;

    // ================================================================ equality

    function assertEq(uint256 left, uint256 right) internal pure virtual {
        if (left != right) _fail("", vm.toString(left), " != ", vm.toString(right));
    }

    function assertEq(uint256 left, uint256 right, string memory err) internal pure virtual {
        if (left != right) _fail(err, vm.toString(left), " != ", vm.toString(right));
    }

    function assertEq(int256 left, int256 right) internal pure virtual {
        if (left != right) _fail("", vm.toString(left), " != ", vm.toString(right));
    }

    function assertEq(int256 left, int256 right, string memory err) internal pure virtual {
        if (left != right) _fail(err, vm.toString(left), " != ", vm.toString(right));
    }

    function assertEq(address left, address right) internal pure virtual {
        if (left != right) _fail("", vm.toString(left), " != ", vm.toString(right));
    }

    function assertEq(address left, address right, string memory err) internal pure virtual {
        if (left != right) _fail(err, vm.toString(left), " != ", vm.toString(right));
    }

    function assertEq(bytes32 left, bytes32 right) internal pure virtual {
        if (left != right) _fail("", vm.toString(left), " != ", vm.toString(right));
    }

    function assertEq(bytes32 left, bytes32 right, string memory err) internal pure virtual {
        if (left != right) _fail(err, vm.toString(left), " != ", vm.toString(right));
    }

    function assertEq(bool left, bool right) internal pure virtual {
        if (left != right) _fail("", vm.toString(left), " != ", vm.toString(right));
    }

    function assertEq(bool left, bool right, string memory err) internal pure virtual {
        if (left != right) _fail(err, vm.toString(left), " != ", vm.toString(right));
    }

    function assertEq(string memory left, string memory right) internal pure virtual {
        if (keccak256(bytes(left)) != keccak256(bytes(right))) _fail("", _quote(left), " != ", _quote(right));
    }

    function assertEq(string memory left, string memory right, string memory err) internal pure virtual {
        if (keccak256(bytes(left)) != keccak256(bytes(right))) _fail(err, _quote(left), " != ", _quote(right));
    }

    function assertEq(bytes memory left, bytes memory right) internal pure virtual {
        if (keccak256(left) != keccak256(right)) _fail("", vm.toString(left), " != ", vm.toString(right));
    }

    function assertEq(bytes memory left, bytes memory right, string memory err) internal pure virtual {
        if (keccak256(left) != keccak256(right)) _fail(err, vm.toString(left), " != ", vm.toString(right));
    }

    function assertNotEq(uint256 left, uint256 right) internal pure virtual {
        if (left == right) _fail("", vm.toString(left), " == ", vm.toString(right));
    }

    function assertNotEq(uint256 left, uint256 right, string memory err) internal pure virtual {
        if (left == right) _fail(err, vm.toString(left), " == ", vm.toString(right));
    }

    function assertNotEq(address left, address right) internal pure virtual {
        if (left == right) _fail("", vm.toString(left), " == ", vm.toString(right));
    }

    function assertNotEq(bytes32 left, bytes32 right) internal pure virtual {
        if (left == right) _fail("", vm.toString(left), " == ", vm.toString(right));
    }

    // ================================================================ booleans

    function assertTrue(bool condition) internal pure virtual {
        if (!condition) _fail("", "false", "", "");
    }

    function assertTrue(bool condition, string memory err) internal pure virtual {
        if (!condition) _fail(err, "false", "", "");
    }

    function assertFalse(bool condition) internal pure virtual {
        if (condition) _fail("", "true", "", "");
    }

    function assertFalse(bool condition, string memory err) internal pure virtual {
        if (condition) _fail(err, "true", "", "");
    }

    // ================================================================ ordering (uint256)

    function assertGt(uint256 left, uint256 right) internal pure virtual {
        if (left <= right) _fail("", vm.toString(left), " <= ", vm.toString(right));
    }

    function assertGt(uint256 left, uint256 right, string memory err) internal pure virtual {
        if (left <= right) _fail(err, vm.toString(left), " <= ", vm.toString(right));
    }

    function assertGe(uint256 left, uint256 right) internal pure virtual {
        if (left < right) _fail("", vm.toString(left), " < ", vm.toString(right));
    }

    function assertGe(uint256 left, uint256 right, string memory err) internal pure virtual {
        if (left < right) _fail(err, vm.toString(left), " < ", vm.toString(right));
    }

    function assertLt(uint256 left, uint256 right) internal pure virtual {
        if (left >= right) _fail("", vm.toString(left), " >= ", vm.toString(right));
    }

    function assertLt(uint256 left, uint256 right, string memory err) internal pure virtual {
        if (left >= right) _fail(err, vm.toString(left), " >= ", vm.toString(right));
    }

    function assertLe(uint256 left, uint256 right) internal pure virtual {
        if (left > right) _fail("", vm.toString(left), " > ", vm.toString(right));
    }

    function assertLe(uint256 left, uint256 right, string memory err) internal pure virtual {
        if (left > right) _fail(err, vm.toString(left), " > ", vm.toString(right));
    }

    // ================================================================ approximate equality

    /// @dev Passes when |left - right| <= maxDelta.
    function assertApproxEqAbs(uint256 left, uint256 right, uint256 maxDelta) internal pure virtual {
        assertApproxEqAbs(left, right, maxDelta, "");
    }

    function assertApproxEqAbs(uint256 left, uint256 right, uint256 maxDelta, string memory err) internal pure virtual {
        uint256 delta = left > right ? left - right : right - left;
        if (delta > maxDelta) {
            _fail(
                err,
                vm.toString(left),
                " !~= ",
                string.concat(
                    vm.toString(right),
                    " (max delta: ",
                    vm.toString(maxDelta),
                    ", real delta: ",
                    vm.toString(delta),
                    ")"
                )
            );
        }
    }

    /// @dev Passes when |left - right| <= right * maxPercentDelta / 1e18 (1e18 = 100 %), as in forge-std.
    function assertApproxEqRel(uint256 left, uint256 right, uint256 maxPercentDelta) internal pure virtual {
        assertApproxEqRel(left, right, maxPercentDelta, "");
    }

    function assertApproxEqRel(uint256 left, uint256 right, uint256 maxPercentDelta, string memory err)
        internal
        pure
        virtual
    {
        if (right == 0) {
            assertEq(left, right, err);
            return;
        }
        uint256 delta = left > right ? left - right : right - left;
        uint256 percentDelta = delta * 1e18 / right;
        if (percentDelta > maxPercentDelta) {
            _fail(
                err,
                vm.toString(left),
                " !~= ",
                string.concat(
                    vm.toString(right),
                    " (max delta: ",
                    vm.toString(maxPercentDelta),
                    "e-18, real delta: ",
                    vm.toString(percentDelta),
                    "e-18)"
                )
            );
        }
    }

    // ================================================================ fuzzing helpers

    /// @dev forge-std's `bound`: values already in [min, max] are kept, others are wrapped into the range (so
    /// no fuzz run is discarded); 0..3 map to min..min+3 and type(uint256).max-3.. map to max-3..max.
    function bound(uint256 x, uint256 min, uint256 max) internal pure virtual returns (uint256 result) {
        require(min <= max, "bound(uint256,uint256,uint256): max is less than min");
        if (x >= min && x <= max) return x;

        uint256 size = max - min + 1;
        if (x <= 3 && size > x) return min + x;
        if (x >= type(uint256).max - 3 && size > type(uint256).max - x) return max - (type(uint256).max - x);

        if (x > max) {
            uint256 rem = (x - max) % size;
            if (rem == 0) return max;
            result = min + rem - 1;
        } else {
            uint256 rem = (min - x) % size;
            if (rem == 0) return min;
            result = max - rem + 1;
        }
    }

    /// @dev A deterministic address derived from `name` (as forge-std's `makeAddr`), labelled in traces.
    function makeAddr(string memory name) internal virtual returns (address addr) {
        addr = vm.addr(uint256(keccak256(abi.encodePacked(name))));
        vm.label(addr, name);
    }

    // ================================================================ internals

    function _fail(string memory err, string memory left, string memory op, string memory right) private pure {
        string memory prefix = bytes(err).length == 0 ? "assertion failed: " : string.concat(err, ": ");
        revert(string.concat(prefix, left, op, right));
    }

    function _quote(string memory s) private pure returns (string memory) {
        return string.concat("\"", s, "\"");
    }
}

/// @notice Minimal stand-in for forge-std's `StdInvariant`. Forge calls the public view functions below by name
/// (same names and return types as forge-std) to decide which contracts, selectors and senders to fuzz.
abstract contract InvariantTest is Test {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    address[] private _targetedContracts;
    address[] private _excludedContracts;
    address[] private _targetedSenders;
    address[] private _excludedSenders;
    FuzzSelector[] private _targetedSelectors;
    FuzzSelector[] private _excludedSelectors;

    // ---------------------------------------------------------------- for tests

    function targetContract(address newTargetedContract_) internal {
        _targetedContracts.push(newTargetedContract_);
    }

    function excludeContract(address newExcludedContract_) internal {
        _excludedContracts.push(newExcludedContract_);
    }

    function targetSelector(FuzzSelector memory newTargetedSelector_) internal {
        _targetedSelectors.push(newTargetedSelector_);
    }

    function excludeSelector(FuzzSelector memory newExcludedSelector_) internal {
        _excludedSelectors.push(newExcludedSelector_);
    }

    function targetSender(address newTargetedSender_) internal {
        _targetedSenders.push(newTargetedSender_);
    }

    function excludeSender(address newExcludedSender_) internal {
        _excludedSenders.push(newExcludedSender_);
    }

    // ---------------------------------------------------------------- called by forge

    function targetContracts() public view returns (address[] memory targetedContracts_) {
        targetedContracts_ = _targetedContracts;
    }

    function excludeContracts() public view returns (address[] memory excludedContracts_) {
        excludedContracts_ = _excludedContracts;
    }

    function targetSelectors() public view returns (FuzzSelector[] memory targetedSelectors_) {
        targetedSelectors_ = _targetedSelectors;
    }

    function excludeSelectors() public view returns (FuzzSelector[] memory excludedSelectors_) {
        excludedSelectors_ = _excludedSelectors;
    }

    function targetSenders() public view returns (address[] memory targetedSenders_) {
        targetedSenders_ = _targetedSenders;
    }

    function excludeSenders() public view returns (address[] memory excludedSenders_) {
        excludedSenders_ = _excludedSenders;
    }
}
