// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test, InvariantTest} from "./Test.sol";
import {Vm} from "./Vm.sol";

/// @notice Checks the home-made forge-std replacement: every cheatcode declared in `Vm` is called once (a wrong
/// signature would revert with an unknown selector), the assertion messages, `bound` and `makeAddr`.
contract TestHarnessTest is Test {
    event Ping(uint256 indexed n, string note);

    error Custom(uint256 code);
    error Bare();

    function test_cheatcodes_environment() public {
        vm.warp(1_000_000);
        vm.roll(4_242);
        assertEq(block.timestamp, 1_000_000);
        assertEq(block.number, 4_242);

        address who = makeAddr("who");
        assertEq(who, vm.addr(uint256(keccak256(abi.encodePacked("who")))));
        vm.deal(who, 7 ether);
        assertEq(who.balance, 7 ether);

        HarnessProbe probe = new HarnessProbe();
        vm.prank(who);
        assertEq(probe.sender(), who);
        assertEq(probe.sender(), address(this), "prank lasts one call");
        vm.startPrank(who);
        assertEq(probe.sender(), who);
        assertEq(probe.sender(), who);
        vm.stopPrank();
        assertEq(probe.sender(), address(this));

        vm.store(address(probe), bytes32(uint256(0)), bytes32(uint256(99)));
        assertEq(vm.load(address(probe), bytes32(uint256(0))), bytes32(uint256(99)));
        assertEq(probe.value(), 99);

        uint256 snap = vm.snapshotState();
        probe.set(5);
        assertEq(probe.value(), 5);
        assertTrue(vm.revertToState(snap));
        assertEq(probe.value(), 99);

        vm.etch(who, address(probe).code);
        assertEq(who.code.length, address(probe).code.length);

        assertEq(vm.envOr("PIPEIT_SURELY_UNSET_VARIABLE", uint256(17)), 17);
        assertEq(vm.toString(uint256(42)), "42");
        assertEq(vm.toString(int256(-42)), "-42");
        assertEq(vm.toString(address(0xBEEF)), "0x000000000000000000000000000000000000bEEF");
        assertEq(vm.toString(true), "true");
        assertEq(vm.toString(bytes32(uint256(1))), "0x0000000000000000000000000000000000000000000000000000000000000001");
        bytes memory beef = hex"beef";
        assertEq(vm.toString(beef), "0xbeef");
    }

    function test_cheatcodes_artifacts() public view {
        bytes memory creation =
            vm.getCode("node_modules/@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json");
        assertGt(creation.length, 20_000);
        string memory json = vm.readFile("node_modules/canonical-weth/build/contracts/WETH9.json");
        bytes memory runtime = vm.parseJsonBytes(json, ".deployedBytecode");
        assertGt(runtime.length, 1_000);
    }

    function test_cheatcodes_expectations() public {
        vm.expectRevert(bytes("plain"));
        this.revertWithString("plain");
        // expectRevert(bytes4) matches the whole revert data: only for errors without arguments.
        vm.expectRevert(Bare.selector);
        this.revertBare();
        vm.expectRevert(abi.encodeWithSelector(Custom.selector, 7));
        this.revertWithCustom(7);
        vm.expectRevert();
        this.revertWithString("anything");

        vm.expectEmit(true, false, false, true);
        emit Ping(1, "one");
        emit Ping(1, "one");
        vm.expectEmit();
        emit Ping(2, "two");
        emit Ping(2, "two");

        vm.recordLogs();
        emit Ping(3, "three");
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 1);
        assertEq(logs[0].emitter, address(this));
        assertEq(logs[0].topics[0], Ping.selector);
        assertEq(logs[0].topics[1], bytes32(uint256(3)));
        assertEq(abi.decode(logs[0].data, (string)), "three");
    }

    function testFuzz_assume(uint256 x) public pure {
        vm.assume(x % 2 == 0);
        assertEq(x % 2, 0);
    }

    function testFuzz_bound_staysInRange(uint256 x, uint256 a, uint256 b) public pure {
        (uint256 lo, uint256 hi) = a <= b ? (a, b) : (b, a);
        uint256 y = bound(x, lo, hi);
        assertGe(y, lo);
        assertLe(y, hi);
        if (x >= lo && x <= hi) assertEq(y, x, "in-range values are kept");
    }

    function test_bound_matchesForgeStd() public pure {
        assertEq(bound(5, 10, 20), 16); // below the range: max - ((min - x) % size) + 1
        assertEq(bound(0, 10, 20), 10);
        assertEq(bound(3, 10, 20), 13);
        assertEq(bound(21, 10, 20), 10);
        assertEq(bound(22, 10, 20), 11);
        assertEq(bound(type(uint256).max, 10, 20), 20);
        assertEq(bound(type(uint256).max - 1, 10, 20), 19);
        assertEq(bound(123, 0, type(uint256).max), 123);
        assertEq(bound(7, 5, 5), 5);
    }

    function test_assertionMessages() public {
        vm.expectRevert(bytes("assertion failed: 1 != 2"));
        this.failEqUint(1, 2);
        vm.expectRevert(bytes("balances: 1 != 2"));
        this.failEqUintMsg(1, 2, "balances");
        vm.expectRevert(bytes("assertion failed: -1 != 1"));
        this.failEqInt(-1, 1);
        vm.expectRevert(bytes("assertion failed: \"a\" != \"b\""));
        this.failEqString("a", "b");
        vm.expectRevert(bytes("assertion failed: 5 <= 5"));
        this.failGt(5, 5);
        vm.expectRevert(bytes("assertion failed: 10 !~= 13 (max delta: 2, real delta: 3)"));
        this.failApproxAbs(10, 13, 2);
        vm.expectRevert(bytes("flag: false"));
        this.failTrue("flag");
    }

    // ---------------------------------------------------------------- external wrappers for expectRevert

    function revertWithString(string calldata reason) external pure {
        revert(reason);
    }

    function revertBare() external pure {
        revert Bare();
    }

    function revertWithCustom(uint256 code) external pure {
        revert Custom(code);
    }

    function failEqUint(uint256 a, uint256 b) external pure {
        assertEq(a, b);
    }

    function failEqUintMsg(uint256 a, uint256 b, string calldata err) external pure {
        assertEq(a, b, err);
    }

    function failEqInt(int256 a, int256 b) external pure {
        assertEq(a, b);
    }

    function failEqString(string calldata a, string calldata b) external pure {
        assertEq(a, b);
    }

    function failGt(uint256 a, uint256 b) external pure {
        assertGt(a, b);
    }

    function failApproxAbs(uint256 a, uint256 b, uint256 d) external pure {
        assertApproxEqAbs(a, b, d);
    }

    function failTrue(string calldata err) external pure {
        assertTrue(false, err);
    }
}

contract HarnessProbe {
    uint256 public value;

    function sender() external view returns (address) {
        return msg.sender;
    }

    function set(uint256 v) external {
        value = v;
    }
}

/// @dev Target of the invariant harness test: only `inc` is targeted; `poison` must never be called.
contract HarnessCounter {
    uint256 public count;
    bool public poisoned;
    bool public excludedSenderSeen;
    address public immutable excluded;

    constructor(address excluded_) {
        excluded = excluded_;
    }

    function inc() external {
        if (msg.sender == excluded) excludedSenderSeen = true;
        count++;
    }

    function poison() external {
        poisoned = true;
    }
}

/// @dev Not targeted: if forge ignored `targetContracts`, it would call `smash` and poison the counter.
contract HarnessBreaker {
    HarnessCounter internal immutable counter;

    constructor(HarnessCounter c) {
        counter = c;
    }

    function smash() external {
        counter.poison();
    }
}

/// @notice Proves forge reads `targetContracts`, `targetSelectors` and `excludeSenders` from `InvariantTest`.
contract InvariantHarnessTest is InvariantTest {
    HarnessCounter internal counter;
    HarnessBreaker internal breaker;
    address internal excludedSender = address(0xBAD);

    function setUp() public {
        counter = new HarnessCounter(excludedSender);
        breaker = new HarnessBreaker(counter);
        targetContract(address(counter));
        bytes4[] memory selectors = new bytes4[](1);
        selectors[0] = HarnessCounter.inc.selector;
        targetSelector(FuzzSelector({addr: address(counter), selectors: selectors}));
        excludeSender(excludedSender);
    }

    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 20
    function invariant_onlyTargetedSelectorRuns() public view {
        assertFalse(counter.poisoned(), "poison() was called");
        assertFalse(counter.excludedSenderSeen(), "excluded sender was used");
    }

    function test_targetsAreExposed() public view {
        assertEq(targetContracts().length, 1);
        assertEq(targetContracts()[0], address(counter));
        assertEq(targetSelectors()[0].selectors[0], HarnessCounter.inc.selector);
        assertEq(excludeSenders()[0], excludedSender);
    }
}
