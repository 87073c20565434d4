// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC4626, ERC20, IERC20} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IWETH9} from "./interfaces/IWETH9.sol";
import {IOracleGuard} from "./interfaces/IOracleGuard.sol";
import {IStrategy} from "./interfaces/IStrategy.sol";
import {
    IFactoringVault,
    RiskParams,
    AdvanceRequest,
    Invoice,
    InvoiceStatus,
    RedeemRequest
} from "./interfaces/IFactoringVault.sol";
import {ErrorsLib} from "./libraries/ErrorsLib.sol";
import {EventsLib} from "./libraries/EventsLib.sol";
import {FeeMath} from "./libraries/FeeMath.sol";
import {ParamsLib} from "./libraries/ParamsLib.sol";
import {QueueLogic, Queue, FillBook} from "./libraries/QueueLogic.sol";
import {StrategyLogic, StrategyBook, StrategyConfig} from "./libraries/StrategyLogic.sol";
import {InvoiceLogic, InvoiceBook, PaymentEffect} from "./libraries/InvoiceLogic.sol";

/// @title FactoringVault
/// @notice ERC-4626 vault over WETH financing invoices. See IFactoringVault for every entry point.
/// @dev totalAssets = idle + principal outstanding + fees accrued by schedule - fees received or written off
///      + strategies' oracle value. WETH held beyond `idle`, claims and protocol fees (donations) counts for
///      nothing. Fees accrue linearly to each due date: an aggregate issuance rate, and per due day the rate
///      that ends that day, found through a bitmap, so views stay exact and loop only over due days that
///      passed since the last state change (at most max tenor / 1 day of them).
contract FactoringVault is
    IFactoringVault,
    ERC4626,
    AccessControlDefaultAdminRules,
    Pausable,
    ReentrancyGuardTransient
{
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    bytes32 public constant KEEPER_ROLE = keccak256("KEEPER_ROLE");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @dev Gas a payout address gets to accept ETH; a hostile receiver cannot burn the batch's gas.
    uint256 public constant PAYOUT_GAS = 30_000;
    /// @dev Late fees and recoveries are income vested over this many days, so a deposit made just before such a
    ///      payment (a flash deposit by the payer, say) captures none of it.
    uint256 public constant INCOME_VESTING_DAYS = 7;

    IWETH9 public immutable WETH;
    IOracleGuard public immutable ORACLE;

    // ---- accounting (packed: each line below is one slot)
    uint128 internal _idle;
    uint128 internal _principalOutstanding;
    uint128 internal _issuanceRate; // WAD-scaled wei per second
    uint40 internal _lastAccrual;
    uint128 internal _feesAccrued; // cumulative, by schedule, up to _lastAccrual
    uint128 internal _feesSettled; // cumulative fees received or written off (vault share)
    uint128 internal _protocolFeesOwed;
    Queue internal _queue;
    StrategyBook internal _strategies;

    RiskParams internal _params;
    address public treasury;

    InvoiceBook internal _book;
    mapping(uint256 day => uint256) internal _rateEndingOn;
    mapping(uint256 word => uint256) internal _dueDayBits;

    constructor(
        IWETH9 weth,
        IOracleGuard oracle,
        address admin,
        uint48 adminDelay,
        address keeper,
        address pauser,
        address treasury_,
        RiskParams memory params
    )
        ERC20("pipeit Factoring ETH", "pfETH")
        ERC4626(IERC20(address(weth)))
        AccessControlDefaultAdminRules(adminDelay, admin)
    {
        if (address(oracle) == address(0) || keeper == address(0) || pauser == address(0)) {
            revert ErrorsLib.ZeroAddress();
        }
        ParamsLib.check("adminDelay", adminDelay, ParamsLib.MIN_ADMIN_DELAY, ParamsLib.MAX_ADMIN_DELAY);
        WETH = weth;
        ORACLE = oracle;
        _grantRole(KEEPER_ROLE, keeper);
        _grantRole(PAUSER_ROLE, pauser);
        _setTreasury(treasury_);
        _setRiskParams(params);
        _lastAccrual = uint40(block.timestamp);
    }

    /// @dev Only WETH unwrapping sends plain ETH here; anything else would be a silent donation.
    receive() external payable {
        if (msg.sender != address(WETH)) revert ErrorsLib.PlainEthNotAccepted(msg.sender, msg.value);
    }

    // =================================================================== ERC-4626

    /// @dev Internal accounting only: WETH sent to the vault by anyone changes nothing.
    function totalAssets() public view override returns (uint256) {
        (uint256 accrued,) = _accrualAt(block.timestamp);
        uint256 gross = uint256(_idle) + _principalOutstanding + accrued + _strategiesValue();
        // Fees received ahead of schedule sit in idle already, so gross >= settled up to rounding dust.
        return gross > _feesSettled ? gross - _feesSettled : 0;
    }

    /// @dev 10^3 virtual shares: with internal accounting a donation cannot inflate the price anyway.
    function _decimalsOffset() internal pure override returns (uint8) {
        return 3;
    }

    function maxDeposit(address) public view override returns (uint256) {
        return paused() ? 0 : type(uint256).max;
    }

    function maxMint(address) public view override returns (uint256) {
        return paused() ? 0 : type(uint256).max;
    }

    /// @dev Limited by what is idle now after the queue's claim on it.
    function maxWithdraw(address owner) public view override returns (uint256) {
        return Math.min(_convertToAssets(balanceOf(owner), Math.Rounding.Floor), availableLiquidity());
    }

    function maxRedeem(address owner) public view override returns (uint256) {
        return Math.min(balanceOf(owner), _convertToShares(availableLiquidity(), Math.Rounding.Floor));
    }

    function deposit(uint256 assets, address receiver) public override whenNotPaused returns (uint256) {
        return super.deposit(assets, receiver);
    }

    function mint(uint256 shares, address receiver) public override whenNotPaused returns (uint256) {
        return super.mint(shares, receiver);
    }

    function withdraw(uint256 assets, address receiver, address owner) public override nonReentrant returns (uint256) {
        return super.withdraw(assets, receiver, owner);
    }

    function redeem(uint256 shares, address receiver, address owner) public override nonReentrant returns (uint256) {
        return super.redeem(shares, receiver, owner);
    }

    /// @inheritdoc IFactoringVault
    function depositETH(address receiver) external payable whenNotPaused nonReentrant returns (uint256 shares) {
        shares = previewDeposit(msg.value);
        WETH.deposit{value: msg.value}();
        _enter(msg.sender, receiver, msg.value, shares, false);
    }

    /// @inheritdoc IFactoringVault
    function redeemETH(uint256 shares, address receiver, address owner) external nonReentrant returns (uint256 assets) {
        uint256 maxShares = maxRedeem(owner);
        if (shares > maxShares) revert ERC4626ExceededMaxRedeem(owner, shares, maxShares);
        assets = previewRedeem(shares);
        _exit(msg.sender, receiver, owner, assets, shares, true);
    }

    /// @inheritdoc IFactoringVault
    function withdrawETH(uint256 assets, address receiver, address owner) external nonReentrant returns (uint256 shares) {
        uint256 maxAssets = maxWithdraw(owner);
        if (assets > maxAssets) revert ERC4626ExceededMaxWithdraw(owner, assets, maxAssets);
        shares = previewWithdraw(assets);
        _exit(msg.sender, receiver, owner, assets, shares, true);
    }

    function _deposit(address caller, address receiver, uint256 assets, uint256 shares) internal override {
        _enter(caller, receiver, assets, shares, true);
    }

    function _withdraw(address caller, address receiver, address owner, uint256 assets, uint256 shares)
        internal
        override
    {
        _exit(caller, receiver, owner, assets, shares, false);
    }

    function _enter(address caller, address receiver, uint256 assets, uint256 shares, bool pull) internal {
        if (assets == 0 || shares == 0) revert ErrorsLib.ZeroAmount();
        if (pull) IERC20(address(WETH)).safeTransferFrom(caller, address(this), assets);
        _idle += assets.toUint128();
        _mint(receiver, shares);
        emit Deposit(caller, receiver, assets, shares);
    }

    function _exit(address caller, address receiver, address owner, uint256 assets, uint256 shares, bool asEth)
        internal
    {
        if (assets == 0 || shares == 0) revert ErrorsLib.ZeroAmount();
        if (caller != owner) _spendAllowance(owner, caller, shares);
        _burn(owner, shares);
        _idle -= assets.toUint128();
        _send(receiver, assets, asEth);
        emit Withdraw(caller, receiver, owner, assets, shares);
    }

    // =================================================================== invoices

    /// @inheritdoc IFactoringVault
    function advance(AdvanceRequest[] calldata requests) external onlyRole(KEEPER_ROLE) whenNotPaused nonReentrant {
        if (requests.length == 0) revert ErrorsLib.EmptyBatch();
        ORACLE.ethUsd(); // reverts when the sequencer is down or the ETH/USD price is stale: no advance then
        _accrue();

        RiskParams memory p = _params;
        uint256 total = ParamsLib.checkAdvances(requests, p);
        _checkLiquidityAfterAdvance(total, p);
        _idle -= total.toUint128();
        _principalOutstanding += total.toUint128();
        WETH.withdraw(total);

        for (uint256 i; i < requests.length; ++i) {
            _advanceOne(requests[i], p);
        }
    }

    function _advanceOne(AdvanceRequest calldata r, RiskParams memory p) internal {
        if (_book.invoices[r.id].status != InvoiceStatus.None) revert ErrorsLib.InvoiceAlreadyFinanced(r.id);
        uint256 exposure = _book.exposure[r.payout] + r.principal;
        if (exposure > p.maxExposurePerBusiness) {
            revert ErrorsLib.BusinessExposureExceeded(r.payout, exposure, p.maxExposurePerBusiness);
        }
        _book.exposure[r.payout] = exposure;

        uint256 dueDay = r.dueAt / FeeMath.DAY;
        _schedule(dueDay, r.fee - FeeMath.protocolCut(r.fee, p.protocolFeeBps), r.dueAt - block.timestamp);
        _book.invoices[r.id] = Invoice({
            payout: r.payout,
            advancedAt: uint32(block.timestamp),
            dueDay: uint24(dueDay),
            lateFeeBpsPerDay: r.lateFeeBpsPerDay,
            protocolFeeBps: p.protocolFeeBps,
            status: InvoiceStatus.Performing,
            principal: r.principal,
            fee: r.fee
        });
        _emitAdvanced(r, p.protocolFeeBps, _payout(r.payout, r.principal));
    }

    /// @dev Adds the invoice's issuance rate, and marks its due day so accrual stops there.
    function _schedule(uint256 dueDay, uint256 lpFee, uint256 tenor) internal {
        uint256 rate = FeeMath.issuanceRate(lpFee, tenor);
        if (rate == 0) return;
        _issuanceRate += rate.toUint128();
        _rateEndingOn[dueDay] += rate;
        uint256 word = dueDay >> 8;
        uint256 bit = uint256(1) << (dueDay & 255);
        uint256 bits = _dueDayBits[word];
        if (bits & bit == 0) _dueDayBits[word] = bits | bit;
    }

    function _emitAdvanced(AdvanceRequest calldata r, uint256 protocolFeeBps, bool paidInWeth) internal {
        emit EventsLib.InvoiceAdvanced(
            r.id, r.payout, r.principal, r.fee, protocolFeeBps, block.timestamp, r.dueAt, r.lateFeeBpsPerDay, paidInWeth
        );
    }

    /// @dev Utilisation cap and liquidity reserve, on book NAV (idle + principal + strategies at cost): no oracle
    /// call on the hot path, and accrued fees (not yet cash) never count as lendable.
    /// @dev What the redemption queue is owed is never lent out.
    function _checkLiquidityAfterAdvance(uint256 total, RiskParams memory p) internal view {
        uint256 available = availableLiquidity();
        if (total > available) revert ErrorsLib.InsufficientLiquidity(total, available);
        uint256 nav = uint256(_idle) + _principalOutstanding + _strategies.total;
        uint256 utilisation = Math.mulDiv(_principalOutstanding + total, FeeMath.BPS, nav, Math.Rounding.Ceil);
        if (utilisation > p.maxUtilisationBps) revert ErrorsLib.UtilisationCapExceeded(utilisation, p.maxUtilisationBps);
        // Ceil: the reserve is never rounded away.
        uint256 minIdle = Math.mulDiv(nav, p.minIdleBps, FeeMath.BPS, Math.Rounding.Ceil);
        if (available - total < minIdle) revert ErrorsLib.LiquidityReserveBreached(available - total, minIdle);
    }

    /// @inheritdoc IFactoringVault
    function repay(bytes32 id, uint256 amount) external nonReentrant returns (uint256 paid) {
        if (amount == 0) revert ErrorsLib.ZeroAmount();
        paid = _applyPayment(id, amount, msg.sender);
        IERC20(address(WETH)).safeTransferFrom(msg.sender, address(this), paid);
    }

    /// @inheritdoc IFactoringVault
    function repayETH(bytes32 id) external payable nonReentrant returns (uint256 paid) {
        if (msg.value == 0) revert ErrorsLib.ZeroAmount();
        paid = _applyPayment(id, msg.value, msg.sender);
        WETH.deposit{value: paid}();
        if (msg.value > paid) _payout(msg.sender, msg.value - paid); // a refund: ETH, or WETH if refused
    }

    /// @dev Books a payment of up to `amount`; returns what it used. The caller moves the money.
    function _applyPayment(bytes32 id, uint256 amount, address payer) internal returns (uint256) {
        _accrue();
        PaymentEffect memory e = InvoiceLogic.pay(_book, id, amount, payer);
        _idle += e.toIdle.toUint128();
        _principalOutstanding -= e.principalPaid.toUint128();
        _feesSettled += e.settled.toUint128();
        _protocolFeesOwed += e.protocolFee.toUint128();
        if (e.vest != 0) _vest(e.vest);
        return e.used;
    }

    /// @inheritdoc IFactoringVault
    function writeOff(bytes32 id) external nonReentrant {
        _accrue();
        (uint256 principal, uint256 lpFeeLost) = InvoiceLogic.writeOff(
            _book, id, msg.sender, hasRole(KEEPER_ROLE, msg.sender), _params.gracePeriod, _params.publicWriteOffDelay
        );
        // The loss hits totalAssets at once: principal leaves the books, the vault's share of the fee leaves
        // the receivable.
        _principalOutstanding -= principal.toUint128();
        _feesSettled += lpFeeLost.toUint128();
    }

    /// @inheritdoc IFactoringVault
    function settle() external nonReentrant {
        _accrue();
    }

    /// @inheritdoc IFactoringVault
    function invoice(bytes32 id) external view returns (Invoice memory) {
        return _book.invoices[id];
    }

    /// @inheritdoc IFactoringVault
    function amountOwed(bytes32 id) external view returns (uint256, uint256, uint256, uint256) {
        return InvoiceLogic.amountOwed(_book, id);
    }

    /// @inheritdoc IFactoringVault
    function accruedFees() external view returns (uint256) {
        (uint256 accrued,) = _accrualAt(block.timestamp);
        return accrued > _feesSettled ? accrued - _feesSettled : 0;
    }

    /// @inheritdoc IFactoringVault
    function settlementDue() external view returns (bool) {
        (, uint256 rate) = _accrualAt(block.timestamp);
        return rate != _issuanceRate;
    }

    /// @inheritdoc IFactoringVault
    function writeOffTimes(bytes32 id) external view returns (uint256 keeperAt, uint256 publicAt) {
        return InvoiceLogic.writeOffTimes(_knownInvoice(id), _params.gracePeriod, _params.publicWriteOffDelay);
    }

    /// @notice Late fee paid so far on invoice `id`.
    function lateFeePaid(bytes32 id) external view returns (uint256) {
        return _book.lateFees[id].paid;
    }

    /// @notice Principal outstanding on the invoices paid to `payout`.
    function exposureOf(address payout) external view returns (uint256) {
        return _book.exposure[payout];
    }

    function _knownInvoice(bytes32 id) internal view returns (Invoice storage inv) {
        inv = _book.invoices[id];
        if (inv.status == InvoiceStatus.None) revert ErrorsLib.UnknownInvoice(id);
    }

    /// @dev Income received in cash (already in idle and in `_feesSettled`) accrues back over the vesting days.
    function _vest(uint256 amount) internal {
        uint256 endDay = block.timestamp / FeeMath.DAY + INCOME_VESTING_DAYS;
        _schedule(endDay, amount, endDay * FeeMath.DAY - block.timestamp);
    }

    // =================================================================== fee accrual

    /// @dev Fees accrued by schedule and the issuance rate at `ts`, walking only the due days in
    ///      (lastAccrual, ts] through the bitmap. Each segment rounds down: income is never counted early.
    function _accrualAt(uint256 ts) internal view returns (uint256 accrued, uint256 rate) {
        accrued = _feesAccrued;
        rate = _issuanceRate;
        uint256 t = _lastAccrual;
        if (ts <= t) return (accrued, rate);
        uint256 firstDay = t / FeeMath.DAY + 1;
        uint256 lastDay = ts / FeeMath.DAY;
        if (rate != 0 && firstDay <= lastDay) {
            for (uint256 word = firstDay >> 8; word <= lastDay >> 8; ++word) {
                uint256 bits = _dueDayBits[word];
                if (word == firstDay >> 8) bits &= type(uint256).max << (firstDay & 255);
                if (word == lastDay >> 8 && (lastDay & 255) < 255) bits &= (uint256(1) << ((lastDay & 255) + 1)) - 1;
                while (bits != 0) {
                    uint256 lowest = bits & (~bits + 1);
                    bits ^= lowest;
                    uint256 day = (word << 8) | Math.log2(lowest);
                    uint256 dayTs = day * FeeMath.DAY;
                    accrued += rate * (dayTs - t) / FeeMath.WAD;
                    t = dayTs;
                    rate -= _rateEndingOn[day];
                }
            }
        }
        accrued += rate * (ts - t) / FeeMath.WAD;
    }

    function _accrue() internal {
        uint256 from = _lastAccrual;
        if (block.timestamp == from) return;
        (uint256 accrued, uint256 rate) = _accrualAt(block.timestamp);
        if (rate != _issuanceRate) {
            _issuanceRate = uint128(rate);
            emit EventsLib.Settled(from, block.timestamp, accrued, rate);
        }
        _feesAccrued = accrued.toUint128();
        _lastAccrual = uint40(block.timestamp);
    }

    // =================================================================== redemption queue

    /// @inheritdoc IFactoringVault
    function requestRedeem(uint256 shares, address receiver) external nonReentrant returns (uint256 requestId) {
        requestId = QueueLogic.enqueue(_queue, msg.sender, receiver, shares);
        _transfer(msg.sender, address(this), shares);
    }

    /// @inheritdoc IFactoringVault
    function processQueue(uint256 maxCount) external nonReentrant returns (uint256 filled) {
        FillBook memory book = FillBook(totalAssets(), totalSupply(), _idle, 10 ** _decimalsOffset());
        uint256 sharesBurned;
        uint256 assetsFilled;
        (filled, sharesBurned, assetsFilled) = QueueLogic.process(_queue, maxCount, book);
        if (sharesBurned != 0) _burn(address(this), sharesBurned);
        _idle -= uint128(assetsFilled);
    }

    /// @inheritdoc IFactoringVault
    function claim(uint256 requestId, bool asEth) external nonReentrant returns (uint256 assets) {
        address receiver;
        (receiver, assets) = QueueLogic.claim(_queue, requestId, msg.sender, asEth);
        _send(receiver, assets, asEth);
    }

    /// @inheritdoc IFactoringVault
    function cancelRequest(uint256 requestId) external nonReentrant returns (uint256 shares) {
        shares = QueueLogic.cancel(_queue, requestId, msg.sender);
        _transfer(address(this), msg.sender, shares);
    }

    /// @inheritdoc IFactoringVault
    function redeemRequest(uint256 requestId) external view returns (RedeemRequest memory) {
        return QueueLogic.requestOf(_queue, requestId);
    }

    /// @inheritdoc IFactoringVault
    function availableLiquidity() public view returns (uint256) {
        uint256 idle = _idle;
        uint256 queued = _queue.queuedShares;
        if (queued == 0) return idle;
        // Ceil: the queue's claim on idle is never understated.
        uint256 owedToQueue = _convertToAssets(queued, Math.Rounding.Ceil);
        return idle > owedToQueue ? idle - owedToQueue : 0;
    }

    /// @notice Queue counters: next request to serve, next id, shares waiting, WETH waiting to be claimed.
    function queueState() external view returns (uint256 head, uint256 nextId, uint256 queuedShares, uint256 claimable) {
        return (_queue.head, _queue.nextId, _queue.queuedShares, _queue.totalClaimable);
    }

    // =================================================================== strategies

    /// @inheritdoc IFactoringVault
    function allocate(address strategy, uint256 assets) external onlyRole(KEEPER_ROLE) whenNotPaused nonReentrant {
        uint256 nav = uint256(_idle) + _principalOutstanding + _strategies.total;
        StrategyLogic.allocate(_strategies, strategy, assets, availableLiquidity(), nav, _params, address(WETH));
        _idle -= assets.toUint128();
    }

    /// @inheritdoc IFactoringVault
    /// @dev Not stopped by pause: exits bring liquidity back for redemptions. The admin may exit without
    ///      using the keeper's move allowance.
    function deallocate(address strategy, uint256 assets) external nonReentrant returns (uint256 received) {
        bool isAdmin = msg.sender == owner();
        if (!isAdmin) _checkRole(KEEPER_ROLE);
        received = StrategyLogic.deallocate(_strategies, strategy, assets, !isAdmin, _params, address(WETH));
        _idle += received.toUint128();
    }

    /// @inheritdoc IFactoringVault
    function strategies() external view returns (address[] memory) {
        return _strategies.list;
    }

    function strategyConfig(address strategy) external view returns (StrategyConfig memory) {
        return _strategies.configs[strategy];
    }

    function addStrategy(address strategy, uint256 cap) external onlyRole(DEFAULT_ADMIN_ROLE) {
        StrategyLogic.add(_strategies, strategy, cap, address(WETH));
    }

    function setStrategyCap(address strategy, uint256 cap) external onlyRole(DEFAULT_ADMIN_ROLE) {
        StrategyLogic.setCap(_strategies, strategy, cap);
    }

    /// @notice Admin only: exits a strategy without the oracle (which is what failed), accepting `minOut` WETH.
    function emergencyExit(address strategy, uint256 minOut) external onlyRole(DEFAULT_ADMIN_ROLE) nonReentrant {
        _idle += StrategyLogic.emergencyExit(_strategies, strategy, minOut, address(WETH)).toUint128();
    }

    function removeStrategy(address strategy) external onlyRole(DEFAULT_ADMIN_ROLE) {
        StrategyLogic.remove(_strategies, strategy);
    }

    function _strategiesValue() internal view returns (uint256) {
        if (_strategies.total == 0) return 0; // nothing allocated anywhere: no call at all
        return StrategyLogic.totalValue(_strategies);
    }

    // =================================================================== parameters and roles

    function riskParams() external view returns (RiskParams memory) {
        return _params;
    }

    function setRiskParams(RiskParams calldata params) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _accrue(); // accrual up to now under the old parameters
        _setRiskParams(params);
    }

    /// @dev The delay's bounds hold for every change, not only at construction.
    function changeDefaultAdminDelay(uint48 newDelay) public override {
        ParamsLib.check("adminDelay", newDelay, ParamsLib.MIN_ADMIN_DELAY, ParamsLib.MAX_ADMIN_DELAY);
        super.changeDefaultAdminDelay(newDelay);
    }

    function setTreasury(address treasury_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setTreasury(treasury_);
    }

    /// @notice Sends the protocol's accumulated fee share to the treasury. Anyone may call.
    function claimProtocolFees() external nonReentrant returns (uint256 amount) {
        amount = _protocolFeesOwed;
        if (amount == 0) revert ErrorsLib.ZeroAmount();
        _protocolFeesOwed = 0;
        IERC20(address(WETH)).safeTransfer(treasury, amount);
        emit EventsLib.ProtocolFeesClaimed(treasury, amount);
    }

    function protocolFeesOwed() external view returns (uint256) {
        return _protocolFeesOwed;
    }

    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    /// @notice The parts of totalAssets, for indexers and invariant checks.
    function assetBreakdown()
        external
        view
        returns (uint256 idle, uint256 principal, uint256 feesAccrued, uint256 feesSettled, uint256 strategyValue)
    {
        (feesAccrued,) = _accrualAt(block.timestamp);
        return (_idle, _principalOutstanding, feesAccrued, _feesSettled, _strategiesValue());
    }

    /// @notice Issuance rate (WAD-scaled wei/s), strategies at cost, and the keeper's used move allowance now.
    function bookState() external view returns (uint256 issuanceRate, uint256 strategyBook, uint256 moveUsed) {
        (, issuanceRate) = _accrualAt(block.timestamp);
        strategyBook = _strategies.total;
        moveUsed = StrategyLogic.moveUsed(_strategies, _params);
    }

    function _setRiskParams(RiskParams memory p) internal {
        ParamsLib.validate(p);
        _params = p;
        emit EventsLib.RiskParamsSet(p);
    }

    function _setTreasury(address treasury_) internal {
        if (treasury_ == address(0)) revert ErrorsLib.ZeroAddress();
        emit EventsLib.TreasurySet(treasury, treasury_);
        treasury = treasury_;
    }


    // =================================================================== money out

    function _send(address to, uint256 assets, bool asEth) internal {
        if (!asEth) {
            IERC20(address(WETH)).safeTransfer(to, assets);
            return;
        }
        WETH.withdraw(assets);
        (bool ok,) = to.call{value: assets}("");
        if (!ok) revert ErrorsLib.EthTransferFailed(to, assets);
    }

    /// @dev Pays an advance out of the ETH unwrapped for the batch; an address refusing ETH gets WETH.
    function _payout(address to, uint256 amount) internal returns (bool paidInWeth) {
        (bool ok,) = to.call{value: amount, gas: PAYOUT_GAS}("");
        if (ok) return false;
        WETH.deposit{value: amount}();
        IERC20(address(WETH)).safeTransfer(to, amount);
        return true;
    }
}
