// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Risk parameters. Each is set within bounds fixed in the code (see `FactoringVault.setRiskParams`).
struct RiskParams {
    uint128 maxAdvancePerInvoice; // wei
    uint128 maxExposurePerBusiness; // wei of principal outstanding per payout address
    uint16 maxUtilisationBps; // principal outstanding / book NAV
    uint16 minIdleBps; // liquidity reserve that advances and allocations may not touch
    uint16 protocolFeeBps; // share of fee income that goes to the treasury
    uint16 maxLateFeeBpsPerDay;
    uint32 maxTenor; // seconds from advance to due date
    uint32 gracePeriod; // after the due date, before the keeper may write off
    uint32 publicWriteOffDelay; // after the grace period, before anyone may write off
    uint32 moveWindow; // rolling window of the keeper's strategy moves
    uint128 moveCapPerWindow; // wei the keeper may move in and out of strategies per window
}

/// @notice One invoice to finance. `id` is the hash of the canonical invoice record (no personal data on-chain).
struct AdvanceRequest {
    bytes32 id;
    address payout;
    uint128 principal;
    uint128 fee;
    uint40 dueAt; // midnight UTC of the due date
    uint16 lateFeeBpsPerDay;
}

enum InvoiceStatus {
    None,
    Performing,
    Repaid,
    WrittenOff
}

/// @notice An invoice's on-chain record: two storage slots.
struct Invoice {
    address payout;
    uint32 advancedAt;
    uint24 dueDay; // due timestamp / 1 days
    uint16 lateFeeBpsPerDay;
    uint16 protocolFeeBps; // fixed at advance, so later parameter changes cannot re-split the fee
    InvoiceStatus status;
    uint128 principal; // outstanding (or, once written off, still recoverable)
    uint128 fee; // outstanding, protocol share included
}

struct RedeemRequest {
    address owner;
    address receiver;
    uint128 sharesPending; // locked in the vault, not yet filled
    uint128 assetsClaimable; // filled, waiting for the claim
}

/// @title IFactoringVault
/// @notice An ERC-4626 vault over WETH that finances invoices. NatSpec for every entry point lives here.
interface IFactoringVault {
    // ---------------------------------------------------------------- ETH entry points
    /// @notice Deposits `msg.value` ETH (wrapped to WETH) and mints shares to `receiver`.
    function depositETH(address receiver) external payable returns (uint256 shares);

    /// @notice Like `redeem`, paid out in ETH.
    function redeemETH(uint256 shares, address receiver, address owner) external returns (uint256 assets);

    /// @notice Like `withdraw`, paid out in ETH.
    function withdrawETH(uint256 assets, address receiver, address owner) external returns (uint256 shares);

    // ---------------------------------------------------------------- invoices
    /// @notice Keeper only. Finances a batch of invoices: each payout receives its principal in ETH, or in WETH
    /// when the address refuses ETH. Reverts as a whole if any entry breaks a limit.
    function advance(AdvanceRequest[] calldata requests) external;

    /// @notice Pays `amount` WETH (pulled from the caller) towards invoice `id`: late fee, then fee, then
    /// principal. Only what is owed is pulled. On a written-off invoice, the payment is a recovery.
    function repay(bytes32 id, uint256 amount) external returns (uint256 paid);

    /// @notice Pays `msg.value` ETH towards invoice `id`; anything above what is owed is refunded.
    function repayETH(bytes32 id) external payable returns (uint256 paid);

    /// @notice Writes an overdue invoice off: the keeper after the grace period, anyone after the public delay.
    function writeOff(bytes32 id) external;

    /// @notice Catches fee accrual up to now. Anyone may call; state-changing entry points do it themselves.
    function settle() external;

    /// @notice The invoice's on-chain record.
    function invoice(bytes32 id) external view returns (Invoice memory);

    /// @notice What it takes to close the invoice now.
    function amountOwed(bytes32 id) external view returns (uint256 lateFee, uint256 fee, uint256 principal, uint256 total);

    /// @notice Fee income earned by the schedule and not yet received (negative balances clamp to zero).
    function accruedFees() external view returns (uint256);

    /// @notice True when a due date passed since the last settlement, i.e. `settle()` would change the issuance rate.
    function settlementDue() external view returns (bool);

    /// @notice When the keeper, and when anyone, may write invoice `id` off.
    function writeOffTimes(bytes32 id) external view returns (uint256 keeperAt, uint256 publicAt);

    // ---------------------------------------------------------------- redemption queue
    /// @notice Locks `shares` of the caller in the queue; they are redeemed at the share price when filled.
    function requestRedeem(uint256 shares, address receiver) external returns (uint256 requestId);

    /// @notice Fills up to `maxCount` requests in FIFO order from idle liquidity. Anyone may call.
    function processQueue(uint256 maxCount) external returns (uint256 filled);

    /// @notice Sends the filled assets of request `requestId` to its receiver, in ETH or WETH.
    function claim(uint256 requestId, bool asEth) external returns (uint256 assets);

    /// @notice Returns the unfilled shares of the caller's request.
    function cancelRequest(uint256 requestId) external returns (uint256 shares);

    function redeemRequest(uint256 requestId) external view returns (RedeemRequest memory);

    /// @notice Idle WETH that instant redemptions may take now: idle minus what the queue is waiting for.
    function availableLiquidity() external view returns (uint256);

    // ---------------------------------------------------------------- strategies
    function allocate(address strategy, uint256 assets) external;

    function deallocate(address strategy, uint256 assets) external returns (uint256 received);

    function strategies() external view returns (address[] memory);
}
