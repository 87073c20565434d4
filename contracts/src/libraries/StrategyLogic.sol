// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IStrategy} from "../interfaces/IStrategy.sol";
import {RiskParams} from "../interfaces/IFactoringVault.sol";
import {ErrorsLib} from "./ErrorsLib.sol";
import {EventsLib} from "./EventsLib.sol";
import {FeeMath} from "./FeeMath.sol";

struct StrategyConfig {
    bool active;
    uint128 cap;
    uint128 book; // WETH put in, at cost, less what left
}

/// @notice The vault's strategies: the allow-list, each one's cap and book, and the keeper's move allowance.
struct StrategyBook {
    address[] list;
    mapping(address strategy => StrategyConfig) configs;
    uint128 total; // sum of the books
    uint128 moveUsed;
    uint40 moveUpdatedAt;
}

/// @title StrategyLogic
/// @notice Allocation bookkeeping for the vault's idle capital, as an external library (its code lives outside the
/// vault, which stays under EIP-170's size limit). Runs by delegatecall, so transfers leave from the vault.
library StrategyLogic {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    uint256 internal constant MAX_STRATEGIES = 8;
    uint256 internal constant MAX_CAP = 1_000_000 ether;

    function add(StrategyBook storage b, address strategy, uint256 cap, address weth) external {
        if (strategy == address(0)) revert ErrorsLib.ZeroAddress();
        if (b.configs[strategy].active) revert ErrorsLib.StrategyAlreadyAdded(strategy);
        if (b.list.length >= MAX_STRATEGIES) revert ErrorsLib.TooManyStrategies(MAX_STRATEGIES);
        if (IStrategy(strategy).vault() != address(this) || IStrategy(strategy).asset() != weth) {
            revert ErrorsLib.StrategyMismatch(strategy);
        }
        _checkCap(cap);
        b.configs[strategy] = StrategyConfig(true, uint128(cap), 0);
        b.list.push(strategy);
        emit EventsLib.StrategyAdded(strategy, cap);
    }

    function setCap(StrategyBook storage b, address strategy, uint256 cap) external {
        StrategyConfig storage cfg = activeConfig(b, strategy);
        _checkCap(cap);
        cfg.cap = uint128(cap);
        emit EventsLib.StrategyCapSet(strategy, cap);
    }

    /// @dev Only a strategy the vault has fully exited (book 0) leaves the list, so no value silently drops out of
    ///      totalAssets; by book, not value, so tokens donated to it cannot block the removal.
    function remove(StrategyBook storage b, address strategy) external {
        uint256 book = activeConfig(b, strategy).book;
        if (book != 0) revert ErrorsLib.StrategyNotEmpty(strategy, book);
        delete b.configs[strategy];
        uint256 n = b.list.length;
        for (uint256 i; i < n; ++i) {
            if (b.list[i] == strategy) {
                b.list[i] = b.list[n - 1];
                b.list.pop();
                break;
            }
        }
        emit EventsLib.StrategyRemoved(strategy);
    }

    /// @dev Checks the cap, the keeper's allowance and the reserve, then moves `assets` WETH into the strategy.
    ///      `available` is idle after the queue's claim; `nav` the book NAV the reserve is measured on.
    function allocate(
        StrategyBook storage b,
        address strategy,
        uint256 assets,
        uint256 available,
        uint256 nav,
        RiskParams memory p,
        address weth
    ) external {
        if (assets == 0) revert ErrorsLib.ZeroAmount();
        StrategyConfig storage cfg = activeConfig(b, strategy);
        _consumeMove(b, assets, p);
        if (assets > available) revert ErrorsLib.InsufficientLiquidity(assets, available);
        uint256 valueAfter = IStrategy(strategy).totalValue() + assets;
        if (valueAfter > cfg.cap) revert ErrorsLib.StrategyCapExceeded(strategy, valueAfter, cfg.cap);
        // Ceil: the reserve is never rounded away.
        uint256 minIdle = Math.mulDiv(nav, p.minIdleBps, FeeMath.BPS, Math.Rounding.Ceil);
        if (available - assets < minIdle) revert ErrorsLib.LiquidityReserveBreached(available - assets, minIdle);

        cfg.book += assets.toUint128();
        b.total += assets.toUint128();
        IERC20(weth).safeTransfer(strategy, assets);
        uint256 reported = IStrategy(strategy).allocate(assets);
        emit EventsLib.Allocated(strategy, assets, reported);
    }

    /// @dev Exits about `assets` from the strategy; returns the WETH that actually arrived.
    function deallocate(
        StrategyBook storage b,
        address strategy,
        uint256 assets,
        bool useAllowance,
        RiskParams memory p,
        address weth
    ) external returns (uint256 received) {
        if (assets == 0) revert ErrorsLib.ZeroAmount();
        StrategyConfig storage cfg = activeConfig(b, strategy);
        if (useAllowance) _consumeMove(b, assets, p);
        uint256 valueBefore = IStrategy(strategy).totalValue();
        uint256 balanceBefore = IERC20(weth).balanceOf(address(this));
        IStrategy(strategy).deallocate(assets);
        received = IERC20(weth).balanceOf(address(this)) - balanceBefore; // trust the balance, not the adapter
        uint256 book = cfg.book;
        uint256 released = bookReleased(book, valueBefore, IStrategy(strategy).totalValue());
        cfg.book = uint128(book - released);
        b.total -= uint128(released);
        emit EventsLib.Deallocated(strategy, assets, received, released, int256(received) - int256(released));
    }

    /// @dev The admin's exit when the oracle cannot value the strategy: everything out, no oracle read, the admin's
    ///      minimum; the whole book is released, so the strategy stops counting in totalAssets.
    function emergencyExit(StrategyBook storage b, address strategy, uint256 minOut, address weth)
        external
        returns (uint256 received)
    {
        StrategyConfig storage cfg = activeConfig(b, strategy);
        uint256 balanceBefore = IERC20(weth).balanceOf(address(this));
        IStrategy(strategy).emergencyExit(minOut);
        received = IERC20(weth).balanceOf(address(this)) - balanceBefore;
        uint256 released = cfg.book;
        cfg.book = 0;
        b.total -= uint128(released);
        emit EventsLib.Deallocated(strategy, type(uint256).max, received, released, int256(received) - int256(released));
    }

    /// @dev What the strategies the vault has money in are worth now (a strategy with book 0 counts 0: tokens
    ///      sent to it are a donation, and an empty strategy costs no oracle call).
    function totalValue(StrategyBook storage b) external view returns (uint256 value) {
        uint256 n = b.list.length;
        for (uint256 i; i < n; ++i) {
            address s = b.list[i];
            if (b.configs[s].book != 0) value += IStrategy(s).totalValue();
        }
    }

    /// @dev The keeper's used allowance now, after the linear decay.
    function moveUsed(StrategyBook storage b, RiskParams memory p) internal view returns (uint256) {
        return FeeMath.decayedUsage(b.moveUsed, p.moveCapPerWindow, block.timestamp - b.moveUpdatedAt, p.moveWindow);
    }

    /// @dev The share of the book that left with the value that actually left (an adapter may return less than
    ///      asked). Ceil, so a realised gain is never overstated; a strategy still holding value keeps a book,
    ///      so it stays in totalAssets.
    function bookReleased(uint256 book, uint256 valueBefore, uint256 valueAfter) internal pure returns (uint256) {
        if (valueBefore == 0 || valueAfter == 0) return book;
        uint256 left = valueBefore > valueAfter ? valueBefore - valueAfter : 0;
        uint256 released = Math.min(book, Math.mulDiv(book, left, valueBefore, Math.Rounding.Ceil));
        return released == book && book != 0 ? book - 1 : released;
    }

    function activeConfig(StrategyBook storage b, address strategy) internal view returns (StrategyConfig storage cfg) {
        cfg = b.configs[strategy];
        if (!cfg.active) revert ErrorsLib.StrategyNotActive(strategy);
    }

    function _consumeMove(StrategyBook storage b, uint256 assets, RiskParams memory p) private {
        uint256 used = moveUsed(b, p);
        uint256 left = p.moveCapPerWindow - Math.min(used, p.moveCapPerWindow);
        if (assets > left) revert ErrorsLib.MoveCapExceeded(assets, left);
        b.moveUsed = uint128(used + assets);
        b.moveUpdatedAt = uint40(block.timestamp);
    }

    function _checkCap(uint256 cap) private pure {
        if (cap > MAX_CAP) revert ErrorsLib.ParamOutOfBounds("strategyCap", cap, 0, MAX_CAP);
    }
}
