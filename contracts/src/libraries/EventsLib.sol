// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {RiskParams} from "../interfaces/IFactoringVault.sol";

/// @title EventsLib
/// @notice Every event of the vault. Each carries what an indexer needs without another call.
library EventsLib {
    /// @notice An invoice was financed. `paidInWeth` is true when the payout address refused ETH.
    event InvoiceAdvanced(
        bytes32 indexed id,
        address indexed payout,
        uint256 principal,
        uint256 fee,
        uint256 protocolFeeBps,
        uint256 advancedAt,
        uint256 dueAt,
        uint256 lateFeeBpsPerDay,
        bool paidInWeth
    );
    /// @notice A payment on a performing invoice. Amounts split by the waterfall: late fee, fee, principal.
    event InvoiceRepaid(
        bytes32 indexed id,
        address indexed payer,
        uint256 lateFeePaid,
        uint256 feePaid,
        uint256 principalPaid,
        uint256 protocolFee,
        uint256 refund,
        uint256 principalRemaining,
        uint256 feeRemaining
    );
    /// @notice A performing invoice left the books: its principal and unpaid fee are lost to the vault.
    event InvoiceWrittenOff(bytes32 indexed id, address indexed by, uint256 principalLost, uint256 lpFeeLost);
    /// @notice Money paid on a written-off invoice: income for the vault.
    event RecoveryReceived(bytes32 indexed id, address indexed payer, uint256 amount, uint256 refund, uint256 stillRecoverable);

    event RedeemRequested(uint256 indexed requestId, address indexed owner, address indexed receiver, uint256 shares);
    event RedeemFilled(uint256 indexed requestId, uint256 shares, uint256 assets, uint256 sharesRemaining);
    event RedeemClaimed(uint256 indexed requestId, address indexed receiver, uint256 assets, bool asEth);
    event RedeemCancelled(uint256 indexed requestId, address indexed owner, uint256 sharesReturned);

    event StrategyAdded(address indexed strategy, uint256 cap);
    event StrategyCapSet(address indexed strategy, uint256 cap);
    event StrategyRemoved(address indexed strategy);
    event Allocated(address indexed strategy, uint256 assets, uint256 valueAfter);
    event Deallocated(address indexed strategy, uint256 requested, uint256 received, uint256 bookReleased, int256 realisedPnl);

    event RiskParamsSet(RiskParams params);
    event TreasurySet(address indexed previous, address indexed current);
    event ProtocolFeesClaimed(address indexed treasury, uint256 amount);
    /// @notice Fee accrual caught up to `toTs`: `feesAccrued` is the vault's cumulative fee income so far.
    event Settled(uint256 fromTs, uint256 toTs, uint256 feesAccrued, uint256 issuanceRate);
}
