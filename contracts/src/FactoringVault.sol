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

    // Hard bounds: parameters can move only inside these, whoever the admin is.
    uint256 public constant MAX_ADVANCE_CAP = 10_000 ether;
    uint256 public constant MAX_EXPOSURE_CAP = 100_000 ether;
    uint256 public constant MIN_UTILISATION_BPS = 1_000;
    uint256 public constant MAX_UTILISATION_BPS = 9_500;
    uint256 public constant MIN_IDLE_BPS = 100;
    uint256 public constant MAX_IDLE_BPS = 5_000;
    uint256 public constant MAX_PROTOCOL_FEE_BPS = 2_000;
    uint256 public constant MAX_LATE_FEE_BPS_PER_DAY = 100;
    uint256 public constant MAX_FEE_BPS = 2_500; // of principal, per invoice
    uint256 public constant MAX_TENOR_CAP = 180 days;
    uint256 public constant MIN_GRACE = 1 days;
    uint256 public constant MAX_GRACE = 90 days;
    uint256 public constant MIN_PUBLIC_DELAY = 1 days;
    uint256 public constant MAX_PUBLIC_DELAY = 30 days;
    uint256 public constant MIN_MOVE_WINDOW = 1 hours;
    uint256 public constant MAX_MOVE_WINDOW = 7 days;
    uint256 public constant MAX_MOVE_CAP = 1_000_000 ether;
    uint256 public constant MIN_ADMIN_DELAY = 1 hours;
    uint256 public constant MAX_ADMIN_DELAY = 30 days;
    uint256 public constant MAX_STRATEGIES = 8;
    /// @dev Gas a payout address gets to accept ETH; a hostile receiver cannot burn the batch's gas.
    uint256 public constant PAYOUT_GAS = 30_000;
    /// @dev Late fees and recoveries are income vested over this many days, so a deposit made just before such a
    ///      payment (a flash deposit by the payer, say) captures none of it.
    uint256 public constant INCOME_VESTING_DAYS = 7;
    uint256 public constant MIN_TENOR = 1 days;

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
    uint128 internal _totalClaimable;
    uint128 internal _strategyBook;
    uint128 internal _queuedShares;
    uint64 internal _queueHead;
    uint64 internal _nextRequestId;
    uint128 internal _moveUsed;
    uint40 internal _moveUpdatedAt;

    RiskParams internal _params;
    address public treasury;

    mapping(bytes32 id => Invoice) internal _invoices;
    /// @dev Late fee checkpoint, written only when a late invoice is paid: what had accrued, what was paid,
    ///      and over how many started days it was charged (so a later principal payment never reprices them).
    struct LateFee {
        uint112 accrued;
        uint112 paid;
        uint32 daysCharged;
    }

    mapping(bytes32 id => LateFee) internal _lateFees;
    mapping(address payout => uint256) public exposureOf;
    mapping(uint256 day => uint256) internal _rateEndingOn;
    mapping(uint256 word => uint256) internal _dueDayBits;
    mapping(uint256 requestId => RedeemRequest) internal _requests;

    struct StrategyConfig {
        bool active;
        uint128 cap;
        uint128 book;
    }

    address[] internal _strategyList;
    mapping(address strategy => StrategyConfig) public strategyConfig;

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
        _checkBounds("adminDelay", adminDelay, MIN_ADMIN_DELAY, MAX_ADMIN_DELAY);
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
        uint256 total;
        for (uint256 i; i < requests.length; ++i) {
            total += requests[i].principal;
        }
        _checkLiquidityAfterAdvance(total, p);
        _idle -= total.toUint128();
        _principalOutstanding += total.toUint128();
        WETH.withdraw(total);

        for (uint256 i; i < requests.length; ++i) {
            _advanceOne(requests[i], p);
        }
    }

    function _advanceOne(AdvanceRequest calldata r, RiskParams memory p) internal {
        _checkAdvance(r, p);
        uint256 exposure = exposureOf[r.payout] + r.principal;
        if (exposure > p.maxExposurePerBusiness) {
            revert ErrorsLib.BusinessExposureExceeded(r.payout, exposure, p.maxExposurePerBusiness);
        }
        exposureOf[r.payout] = exposure;

        uint256 dueDay = r.dueAt / FeeMath.DAY;
        _schedule(dueDay, r.fee - FeeMath.protocolCut(r.fee, p.protocolFeeBps), r.dueAt - block.timestamp);
        _invoices[r.id] = Invoice({
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

    function _checkAdvance(AdvanceRequest calldata r, RiskParams memory p) internal view {
        if (r.id == bytes32(0)) revert ErrorsLib.InvalidInvoiceId();
        if (r.payout == address(0)) revert ErrorsLib.ZeroAddress();
        if (r.principal == 0) revert ErrorsLib.ZeroAmount();
        if (_invoices[r.id].status != InvoiceStatus.None) revert ErrorsLib.InvoiceAlreadyFinanced(r.id);
        if (r.principal > p.maxAdvancePerInvoice) {
            revert ErrorsLib.AdvanceTooLarge(r.id, r.principal, p.maxAdvancePerInvoice);
        }
        uint256 maxFee = uint256(r.principal) * MAX_FEE_BPS / FeeMath.BPS;
        if (r.fee > maxFee) revert ErrorsLib.FeeTooHigh(r.id, r.fee, maxFee);
        if (r.lateFeeBpsPerDay > p.maxLateFeeBpsPerDay) {
            revert ErrorsLib.LateFeeTooHigh(r.id, r.lateFeeBpsPerDay, p.maxLateFeeBpsPerDay);
        }
        if (r.dueAt % FeeMath.DAY != 0) revert ErrorsLib.DueDateNotDayAligned(r.dueAt);
        if (r.dueAt <= block.timestamp) revert ErrorsLib.DueDateInPast(r.dueAt, block.timestamp);
        if (r.dueAt - block.timestamp < MIN_TENOR) revert ErrorsLib.TenorTooShort(r.dueAt - block.timestamp, MIN_TENOR);
        if (r.dueAt - block.timestamp > p.maxTenor) {
            revert ErrorsLib.TenorTooLong(r.dueAt - block.timestamp, p.maxTenor);
        }
    }

    /// @dev Utilisation cap and liquidity reserve, on book NAV (idle + principal + strategies at cost): no oracle
    /// call on the hot path, and accrued fees (not yet cash) never count as lendable.
    /// @dev What the redemption queue is owed is never lent out.
    function _checkLiquidityAfterAdvance(uint256 total, RiskParams memory p) internal view {
        uint256 available = availableLiquidity();
        if (total > available) revert ErrorsLib.InsufficientLiquidity(total, available);
        uint256 nav = uint256(_idle) + _principalOutstanding + _strategyBook;
        uint256 utilisation = Math.mulDiv(_principalOutstanding + total, FeeMath.BPS, nav, Math.Rounding.Ceil);
        if (utilisation > p.maxUtilisationBps) revert ErrorsLib.UtilisationCapExceeded(utilisation, p.maxUtilisationBps);
        _checkReserve(available - total, nav, p);
    }

    function _checkReserve(uint256 idleAfter, uint256 nav, RiskParams memory p) internal pure {
        // Ceil: the reserve is never rounded away.
        uint256 minIdle = Math.mulDiv(nav, p.minIdleBps, FeeMath.BPS, Math.Rounding.Ceil);
        if (idleAfter < minIdle) revert ErrorsLib.LiquidityReserveBreached(idleAfter, minIdle);
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
        if (msg.value > paid) _sendEthOrWeth(msg.sender, msg.value - paid);
    }

    /// @dev Books a payment of up to `amount`; returns what it used. The caller moves the money.
    function _applyPayment(bytes32 id, uint256 amount, address payer) internal returns (uint256) {
        Invoice storage inv = _invoices[id];
        InvoiceStatus status = inv.status;
        if (status == InvoiceStatus.None) revert ErrorsLib.UnknownInvoice(id);
        if (status == InvoiceStatus.Repaid) revert ErrorsLib.InvoiceNotOutstanding(id);
        _accrue();
        if (status == InvoiceStatus.WrittenOff) return _applyRecovery(inv, id, amount, payer);

        Payment memory pay;
        (uint256 lateAccrued, uint256 latePaid, uint256 daysLate) = _lateFeeState(inv, id);
        (pay.late, pay.fee, pay.principal, pay.refund) =
            FeeMath.waterfall(amount, lateAccrued - Math.min(latePaid, lateAccrued), inv.fee, inv.principal);
        uint256 lateCut = FeeMath.protocolCut(pay.late, inv.protocolFeeBps);
        uint256 feeCut = FeeMath.protocolCut(pay.fee, inv.protocolFeeBps);
        pay.protocolFee = lateCut + feeCut;
        // The scheduled (vault) part of the fee leaves the receivable; the late fee is income, vested.
        _feesSettled += (pay.fee - feeCut + pay.late - lateCut).toUint128();
        _idle += (pay.late + pay.fee + pay.principal - pay.protocolFee).toUint128();
        _protocolFeesOwed += pay.protocolFee.toUint128();
        if (pay.late != lateCut) _vest(pay.late - lateCut);
        if (pay.principal != 0) {
            _principalOutstanding -= pay.principal.toUint128();
            exposureOf[inv.payout] -= pay.principal;
        }
        if (daysLate != 0) {
            _lateFees[id] = LateFee(lateAccrued.toUint112(), (latePaid + pay.late).toUint112(), uint32(daysLate));
        }
        _bookPayment(inv, id, payer, pay);
        return amount - pay.refund;
    }

    /// @dev One payment split by the waterfall.
    struct Payment {
        uint256 late;
        uint256 fee;
        uint256 principal;
        uint256 refund;
        uint256 protocolFee;
    }

    function _bookPayment(Invoice storage inv, bytes32 id, address payer, Payment memory pay) internal {
        uint256 principalLeft = inv.principal - pay.principal;
        uint256 feeLeft = inv.fee - pay.fee;
        inv.principal = uint128(principalLeft);
        inv.fee = uint128(feeLeft);
        if (principalLeft == 0 && feeLeft == 0) inv.status = InvoiceStatus.Repaid;
        emit EventsLib.InvoiceRepaid(
            id, payer, pay.late, pay.fee, pay.principal, pay.protocolFee, pay.refund, principalLeft, feeLeft
        );
    }

    /// @dev A payment on a written-off invoice is income for the vault (fee first, then principal).
    function _applyRecovery(Invoice storage inv, bytes32 id, uint256 amount, address payer) internal returns (uint256) {
        uint256 fee = inv.fee;
        uint256 principal = inv.principal;
        (, uint256 feePaid, uint256 principalPaid, uint256 refund) = FeeMath.waterfall(amount, 0, fee, principal);
        uint256 used = feePaid + principalPaid;
        _idle += used.toUint128();
        _feesSettled += used.toUint128(); // income, vested like a late fee
        _vest(used);
        inv.fee = uint128(fee - feePaid);
        inv.principal = uint128(principal - principalPaid);
        uint256 left = fee - feePaid + principal - principalPaid;
        if (left == 0) inv.status = InvoiceStatus.Repaid;
        emit EventsLib.RecoveryReceived(id, payer, used, refund, left);
        return used;
    }

    /// @inheritdoc IFactoringVault
    function writeOff(bytes32 id) external nonReentrant {
        Invoice storage inv = _invoices[id];
        if (inv.status == InvoiceStatus.None) revert ErrorsLib.UnknownInvoice(id);
        if (inv.status != InvoiceStatus.Performing) revert ErrorsLib.InvoiceNotOutstanding(id);
        (uint256 keeperAt, uint256 publicAt) = _writeOffTimes(inv);
        uint256 allowedAt = hasRole(KEEPER_ROLE, msg.sender) ? keeperAt : publicAt;
        if (block.timestamp < allowedAt) revert ErrorsLib.NotYetWriteOffable(id, allowedAt);
        _accrue();

        uint256 principal = inv.principal;
        uint256 fee = inv.fee;
        uint256 lateOwed = _lateFeeOwed(inv, id);
        // The loss hits totalAssets at once: principal leaves the books, the vault's share of the fee leaves
        // the receivable. Principal and fee stay on the invoice as what is still recoverable.
        uint256 lpFeeLost = fee - FeeMath.protocolCut(fee, inv.protocolFeeBps);
        _principalOutstanding -= principal.toUint128();
        exposureOf[inv.payout] -= principal;
        _feesSettled += lpFeeLost.toUint128();
        inv.fee = (fee + lateOwed).toUint128(); // the late fee owed stays recoverable
        inv.status = InvoiceStatus.WrittenOff;
        emit EventsLib.InvoiceWrittenOff(id, msg.sender, principal, lpFeeLost);
    }

    /// @inheritdoc IFactoringVault
    function settle() external nonReentrant {
        _accrue();
    }

    /// @inheritdoc IFactoringVault
    function invoice(bytes32 id) external view returns (Invoice memory) {
        return _invoices[id];
    }

    /// @inheritdoc IFactoringVault
    function amountOwed(bytes32 id) external view returns (uint256 lateFee, uint256 fee, uint256 principal, uint256 total) {
        Invoice storage inv = _invoices[id];
        if (inv.status == InvoiceStatus.None) revert ErrorsLib.UnknownInvoice(id);
        if (inv.status == InvoiceStatus.Performing) lateFee = _lateFeeOwed(inv, id);
        fee = inv.fee;
        principal = inv.principal;
        total = lateFee + fee + principal;
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
        Invoice storage inv = _invoices[id];
        if (inv.status == InvoiceStatus.None) revert ErrorsLib.UnknownInvoice(id);
        return _writeOffTimes(inv);
    }

    function _writeOffTimes(Invoice storage inv) internal view returns (uint256 keeperAt, uint256 publicAt) {
        keeperAt = uint256(inv.dueDay) * FeeMath.DAY + _params.gracePeriod;
        publicAt = keeperAt + _params.publicWriteOffDelay;
    }

    function _lateFeeOwed(Invoice storage inv, bytes32 id) internal view returns (uint256) {
        (uint256 accrued, uint256 paid,) = _lateFeeState(inv, id);
        return accrued > paid ? accrued - paid : 0;
    }

    /// @dev Late fee accrued so far: the checkpoint plus the days started since it, on today's principal.
    function _lateFeeState(Invoice storage inv, bytes32 id)
        internal
        view
        returns (uint256 accrued, uint256 paid, uint256 daysLate)
    {
        uint256 dueAt = uint256(inv.dueDay) * FeeMath.DAY;
        daysLate = FeeMath.lateDays(dueAt, block.timestamp);
        if (daysLate == 0) return (0, 0, 0); // not late: skip the cold read of the checkpoint
        LateFee memory c = _lateFees[id];
        accrued = c.accrued + FeeMath.lateFeeForDays(inv.principal, inv.lateFeeBpsPerDay, daysLate - c.daysCharged);
        paid = c.paid;
    }

    /// @notice Late fee paid so far on invoice `id`.
    function lateFeePaid(bytes32 id) external view returns (uint256) {
        return _lateFees[id].paid;
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
        if (shares == 0) revert ErrorsLib.ZeroAmount();
        if (receiver == address(0)) revert ErrorsLib.ZeroAddress();
        _transfer(msg.sender, address(this), shares);
        requestId = _nextRequestId++;
        _requests[requestId] = RedeemRequest(msg.sender, receiver, shares.toUint128(), 0);
        _queuedShares += shares.toUint128();
        emit EventsLib.RedeemRequested(requestId, msg.sender, receiver, shares);
    }

    /// @dev Running figures of one processQueue call, kept in memory so a fill does not move the share price.
    struct Book {
        uint256 assets;
        uint256 supply;
        uint256 idle;
    }

    /// @inheritdoc IFactoringVault
    function processQueue(uint256 maxCount) external nonReentrant returns (uint256 filled) {
        uint256 head = _queueHead;
        uint256 end = _nextRequestId;
        Book memory book = Book(totalAssets(), totalSupply(), _idle);
        for (uint256 n; n < maxCount && head < end; ++n) {
            (bool touched, bool exhausted) = _fill(head, book);
            if (touched) ++filled;
            if (exhausted) break;
            ++head;
        }
        _idle = uint128(book.idle);
        _queueHead = uint64(head);
    }

    /// @dev Fills request `id` as far as idle allows. `exhausted` when liquidity ran out before the request did.
    function _fill(uint256 id, Book memory book) internal returns (bool touched, bool exhausted) {
        RedeemRequest storage r = _requests[id];
        uint256 shares = r.sharesPending;
        if (shares == 0) return (false, false); // cancelled or already served
        uint256 virtualShares = 10 ** _decimalsOffset();
        // Floor both ways: a fill never pays out more than the shares are worth.
        uint256 assets = Math.mulDiv(shares, book.assets + 1, book.supply + virtualShares, Math.Rounding.Floor);
        if (assets > book.idle) {
            shares = Math.mulDiv(book.idle, book.supply + virtualShares, book.assets + 1, Math.Rounding.Floor);
            assets = Math.mulDiv(shares, book.assets + 1, book.supply + virtualShares, Math.Rounding.Floor);
            if (shares == 0 || assets == 0) return (false, true);
        }
        uint256 pending = r.sharesPending - shares;
        r.sharesPending = uint128(pending);
        r.assetsClaimable += uint128(assets);
        _burn(address(this), shares);
        book.supply -= shares;
        book.assets -= assets;
        book.idle -= assets;
        _queuedShares -= uint128(shares);
        _totalClaimable += uint128(assets);
        emit EventsLib.RedeemFilled(id, shares, assets, pending);
        return (true, pending != 0);
    }

    /// @inheritdoc IFactoringVault
    function claim(uint256 requestId, bool asEth) external nonReentrant returns (uint256 assets) {
        RedeemRequest storage r = _requestOf(requestId);
        if (msg.sender != r.owner && msg.sender != r.receiver) revert ErrorsLib.NotRequestOwner(requestId, msg.sender);
        assets = r.assetsClaimable;
        if (assets == 0) revert ErrorsLib.NothingToClaim(requestId);
        r.assetsClaimable = 0;
        _totalClaimable -= uint128(assets);
        address receiver = r.receiver;
        _send(receiver, assets, asEth);
        emit EventsLib.RedeemClaimed(requestId, receiver, assets, asEth);
    }

    /// @inheritdoc IFactoringVault
    function cancelRequest(uint256 requestId) external nonReentrant returns (uint256 shares) {
        RedeemRequest storage r = _requestOf(requestId);
        if (msg.sender != r.owner) revert ErrorsLib.NotRequestOwner(requestId, msg.sender);
        shares = r.sharesPending;
        if (shares == 0) revert ErrorsLib.NothingToCancel(requestId);
        r.sharesPending = 0;
        _queuedShares -= uint128(shares);
        _transfer(address(this), msg.sender, shares);
        emit EventsLib.RedeemCancelled(requestId, msg.sender, shares);
    }

    /// @inheritdoc IFactoringVault
    function redeemRequest(uint256 requestId) external view returns (RedeemRequest memory) {
        return _requestOf(requestId);
    }

    function _requestOf(uint256 requestId) internal view returns (RedeemRequest storage r) {
        if (requestId >= _nextRequestId) revert ErrorsLib.UnknownRequest(requestId);
        r = _requests[requestId];
    }

    /// @inheritdoc IFactoringVault
    function availableLiquidity() public view returns (uint256) {
        uint256 idle = _idle;
        uint256 queued = _queuedShares;
        if (queued == 0) return idle;
        // Ceil: the queue's claim on idle is never understated.
        uint256 owedToQueue = _convertToAssets(queued, Math.Rounding.Ceil);
        return idle > owedToQueue ? idle - owedToQueue : 0;
    }

    /// @notice Queue counters: next request to serve, next id, shares waiting, WETH waiting to be claimed.
    function queueState() external view returns (uint256 head, uint256 nextId, uint256 queuedShares, uint256 claimable) {
        return (_queueHead, _nextRequestId, _queuedShares, _totalClaimable);
    }

    // =================================================================== strategies

    /// @inheritdoc IFactoringVault
    function allocate(address strategy, uint256 assets) external onlyRole(KEEPER_ROLE) whenNotPaused nonReentrant {
        if (assets == 0) revert ErrorsLib.ZeroAmount();
        StrategyConfig storage cfg = _activeStrategy(strategy);
        RiskParams memory p = _params;
        _consumeMove(assets, p);
        uint256 idle = _idle;
        uint256 available = availableLiquidity();
        if (assets > available) revert ErrorsLib.InsufficientLiquidity(assets, available);
        uint256 valueAfter = IStrategy(strategy).totalValue() + assets;
        if (valueAfter > cfg.cap) revert ErrorsLib.StrategyCapExceeded(strategy, valueAfter, cfg.cap);
        _checkReserve(available - assets, idle + _principalOutstanding + _strategyBook, p);

        _idle = uint128(idle - assets);
        cfg.book += assets.toUint128();
        _strategyBook += assets.toUint128();
        IERC20(address(WETH)).safeTransfer(strategy, assets);
        uint256 reported = IStrategy(strategy).allocate(assets);
        emit EventsLib.Allocated(strategy, assets, reported);
    }

    /// @inheritdoc IFactoringVault
    /// @dev Not stopped by pause: exits bring liquidity back for redemptions. The admin may exit without
    ///      using the keeper's move allowance.
    function deallocate(address strategy, uint256 assets) external nonReentrant returns (uint256 received) {
        bool isAdmin = msg.sender == owner();
        if (!isAdmin) _checkRole(KEEPER_ROLE);
        if (assets == 0) revert ErrorsLib.ZeroAmount();
        StrategyConfig storage cfg = _activeStrategy(strategy);
        if (!isAdmin) _consumeMove(assets, _params);
        uint256 valueBefore = IStrategy(strategy).totalValue();
        uint256 balanceBefore = WETH.balanceOf(address(this));
        IStrategy(strategy).deallocate(assets);
        received = WETH.balanceOf(address(this)) - balanceBefore; // trust the balance, not the adapter
        uint256 released = _bookReleased(cfg.book, valueBefore, IStrategy(strategy).totalValue());
        uint256 book = cfg.book;
        cfg.book = uint128(book - released);
        _strategyBook -= uint128(released);
        _idle += received.toUint128();
        emit EventsLib.Deallocated(strategy, assets, received, released, int256(received) - int256(released));
    }

    /// @dev The share of the book that left with the value that actually left (an adapter may return less than
    ///      asked). Ceil, so a realised gain is never overstated; a strategy still holding value keeps a book,
    ///      so it stays in totalAssets.
    function _bookReleased(uint256 book, uint256 valueBefore, uint256 valueAfter) internal pure returns (uint256) {
        if (valueBefore == 0 || valueAfter == 0) return book;
        uint256 left = valueBefore > valueAfter ? valueBefore - valueAfter : 0;
        uint256 released = Math.min(book, Math.mulDiv(book, left, valueBefore, Math.Rounding.Ceil));
        return released == book && book != 0 ? book - 1 : released;
    }

    /// @inheritdoc IFactoringVault
    function strategies() external view returns (address[] memory) {
        return _strategyList;
    }

    function addStrategy(address strategy, uint256 cap) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (strategy == address(0)) revert ErrorsLib.ZeroAddress();
        if (strategyConfig[strategy].active) revert ErrorsLib.StrategyAlreadyAdded(strategy);
        if (_strategyList.length >= MAX_STRATEGIES) revert ErrorsLib.TooManyStrategies(MAX_STRATEGIES);
        if (IStrategy(strategy).vault() != address(this) || IStrategy(strategy).asset() != address(WETH)) {
            revert ErrorsLib.StrategyMismatch(strategy);
        }
        _checkBounds("strategyCap", cap, 0, MAX_MOVE_CAP);
        strategyConfig[strategy] = StrategyConfig(true, uint128(cap), 0);
        _strategyList.push(strategy);
        emit EventsLib.StrategyAdded(strategy, cap);
    }

    function setStrategyCap(address strategy, uint256 cap) external onlyRole(DEFAULT_ADMIN_ROLE) {
        StrategyConfig storage cfg = _activeStrategy(strategy);
        _checkBounds("strategyCap", cap, 0, MAX_MOVE_CAP);
        cfg.cap = uint128(cap);
        emit EventsLib.StrategyCapSet(strategy, cap);
    }

    /// @dev Only a strategy the vault has fully exited leaves the list, so no value silently drops out of
    ///      totalAssets.
    function removeStrategy(address strategy) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 book = _activeStrategy(strategy).book;
        // By book, not value: tokens donated to the strategy cannot block its removal.
        if (book != 0) revert ErrorsLib.StrategyNotEmpty(strategy, book);
        delete strategyConfig[strategy];
        uint256 n = _strategyList.length;
        for (uint256 i; i < n; ++i) {
            if (_strategyList[i] == strategy) {
                _strategyList[i] = _strategyList[n - 1];
                _strategyList.pop();
                break;
            }
        }
        emit EventsLib.StrategyRemoved(strategy);
    }

    function _activeStrategy(address strategy) internal view returns (StrategyConfig storage cfg) {
        cfg = strategyConfig[strategy];
        if (!cfg.active) revert ErrorsLib.StrategyNotActive(strategy);
    }

    /// @dev A strategy the vault has nothing in (book 0) counts 0: tokens sent to it are a donation, and an
    ///      empty strategy costs no oracle calls.
    function _strategiesValue() internal view returns (uint256 value) {
        if (_strategyBook == 0) return 0; // nothing allocated anywhere: one read instead of the list
        uint256 n = _strategyList.length;
        for (uint256 i; i < n; ++i) {
            address s = _strategyList[i];
            if (strategyConfig[s].book != 0) value += IStrategy(s).totalValue();
        }
    }

    function _consumeMove(uint256 assets, RiskParams memory p) internal {
        uint256 used =
            FeeMath.decayedUsage(_moveUsed, p.moveCapPerWindow, block.timestamp - _moveUpdatedAt, p.moveWindow);
        uint256 left = p.moveCapPerWindow - Math.min(used, p.moveCapPerWindow);
        if (assets > left) revert ErrorsLib.MoveCapExceeded(assets, left);
        _moveUsed = uint128(used + assets);
        _moveUpdatedAt = uint40(block.timestamp);
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
        _checkBounds("adminDelay", newDelay, MIN_ADMIN_DELAY, MAX_ADMIN_DELAY);
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
        strategyBook = _strategyBook;
        RiskParams memory p = _params;
        moveUsed = FeeMath.decayedUsage(_moveUsed, p.moveCapPerWindow, block.timestamp - _moveUpdatedAt, p.moveWindow);
    }

    function _setRiskParams(RiskParams memory p) internal {
        _checkBounds("maxAdvancePerInvoice", p.maxAdvancePerInvoice, 1, MAX_ADVANCE_CAP);
        _checkBounds("maxExposurePerBusiness", p.maxExposurePerBusiness, p.maxAdvancePerInvoice, MAX_EXPOSURE_CAP);
        _checkBounds("maxUtilisationBps", p.maxUtilisationBps, MIN_UTILISATION_BPS, MAX_UTILISATION_BPS);
        _checkBounds("minIdleBps", p.minIdleBps, MIN_IDLE_BPS, MAX_IDLE_BPS);
        _checkBounds("protocolFeeBps", p.protocolFeeBps, 0, MAX_PROTOCOL_FEE_BPS);
        _checkBounds("maxLateFeeBpsPerDay", p.maxLateFeeBpsPerDay, 0, MAX_LATE_FEE_BPS_PER_DAY);
        _checkBounds("maxTenor", p.maxTenor, 1 days, MAX_TENOR_CAP);
        _checkBounds("gracePeriod", p.gracePeriod, MIN_GRACE, MAX_GRACE);
        _checkBounds("publicWriteOffDelay", p.publicWriteOffDelay, MIN_PUBLIC_DELAY, MAX_PUBLIC_DELAY);
        _checkBounds("moveWindow", p.moveWindow, MIN_MOVE_WINDOW, MAX_MOVE_WINDOW);
        _checkBounds("moveCapPerWindow", p.moveCapPerWindow, 1, MAX_MOVE_CAP);
        _params = p;
        emit EventsLib.RiskParamsSet(p);
    }

    function _setTreasury(address treasury_) internal {
        if (treasury_ == address(0)) revert ErrorsLib.ZeroAddress();
        emit EventsLib.TreasurySet(treasury, treasury_);
        treasury = treasury_;
    }

    function _checkBounds(bytes32 name, uint256 value, uint256 min, uint256 max) internal pure {
        if (value < min || value > max) revert ErrorsLib.ParamOutOfBounds(name, value, min, max);
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

    function _sendEthOrWeth(address to, uint256 amount) internal {
        _payout(to, amount);
    }

    // =================================================================== overrides

    function decimals() public view override(ERC4626) returns (uint8) {
        return super.decimals();
    }

    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return super.supportsInterface(interfaceId);
    }
}
