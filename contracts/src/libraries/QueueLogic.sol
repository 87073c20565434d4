// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {RedeemRequest} from "../interfaces/IFactoringVault.sol";
import {ErrorsLib} from "./ErrorsLib.sol";
import {EventsLib} from "./EventsLib.sol";

/// @notice The redemption queue's storage: requests by id, served FIFO from `head`.
struct Queue {
    mapping(uint256 requestId => RedeemRequest) requests;
    uint128 queuedShares; // locked in the vault, not yet filled
    uint128 totalClaimable; // filled WETH waiting for claims
    uint64 head;
    uint64 nextId;
}

/// @notice Running figures of one `process` call, so a fill does not move the share price.
struct FillBook {
    uint256 assets;
    uint256 supply;
    uint256 idle;
    uint256 virtualShares;
}

/// @title QueueLogic
/// @notice The redemption queue's bookkeeping, as an external library (its code lives outside the vault, which
/// stays under EIP-170's size limit). The vault moves shares and WETH; this library keeps the requests.
library QueueLogic {
    using SafeCast for uint256;

    function enqueue(Queue storage q, address owner, address receiver, uint256 shares)
        external
        returns (uint256 requestId)
    {
        if (shares == 0) revert ErrorsLib.ZeroAmount();
        if (receiver == address(0)) revert ErrorsLib.ZeroAddress();
        requestId = q.nextId++;
        q.requests[requestId] = RedeemRequest(owner, receiver, shares.toUint128(), 0);
        q.queuedShares += shares.toUint128();
        emit EventsLib.RedeemRequested(requestId, owner, receiver, shares);
    }

    /// @dev Fills up to `maxCount` requests FIFO from `book.idle`. Returns the shares the vault must burn and the
    ///      assets that leave idle.
    function process(Queue storage q, uint256 maxCount, FillBook memory book)
        external
        returns (uint256 filled, uint256 sharesBurned, uint256 assetsFilled)
    {
        uint256 head = q.head;
        uint256 end = q.nextId;
        uint256 idleBefore = book.idle;
        uint256 supplyBefore = book.supply;
        for (uint256 n; n < maxCount && head < end; ++n) {
            (bool touched, bool exhausted) = _fill(q, head, book);
            if (touched) ++filled;
            if (exhausted) break;
            ++head;
        }
        q.head = uint64(head);
        sharesBurned = supplyBefore - book.supply;
        assetsFilled = idleBefore - book.idle;
        q.queuedShares -= sharesBurned.toUint128();
        q.totalClaimable += assetsFilled.toUint128();
    }

    /// @dev Fills request `id` as far as idle allows. `exhausted` when liquidity ran out before the request did.
    function _fill(Queue storage q, uint256 id, FillBook memory book) private returns (bool touched, bool exhausted) {
        RedeemRequest storage r = q.requests[id];
        uint256 shares = r.sharesPending;
        if (shares == 0) return (false, false); // cancelled or already served
        // Floor both ways: a fill never pays out more than the shares are worth.
        uint256 assets = Math.mulDiv(shares, book.assets + 1, book.supply + book.virtualShares, Math.Rounding.Floor);
        if (assets > book.idle) {
            shares = Math.mulDiv(book.idle, book.supply + book.virtualShares, book.assets + 1, Math.Rounding.Floor);
            assets = Math.mulDiv(shares, book.assets + 1, book.supply + book.virtualShares, Math.Rounding.Floor);
            if (shares == 0 || assets == 0) return (false, true);
        }
        uint256 pending = r.sharesPending - shares;
        r.sharesPending = uint128(pending);
        r.assetsClaimable += uint128(assets);
        book.supply -= shares;
        book.assets -= assets;
        book.idle -= assets;
        emit EventsLib.RedeemFilled(id, shares, assets, pending);
        return (true, pending != 0);
    }

    /// @dev Empties the request's claimable assets; the vault sends them to the returned receiver.
    function claim(Queue storage q, uint256 requestId, address caller, bool asEth)
        external
        returns (address receiver, uint256 assets)
    {
        RedeemRequest storage r = requestOf(q, requestId);
        if (caller != r.owner && caller != r.receiver) revert ErrorsLib.NotRequestOwner(requestId, caller);
        assets = r.assetsClaimable;
        if (assets == 0) revert ErrorsLib.NothingToClaim(requestId);
        r.assetsClaimable = 0;
        q.totalClaimable -= uint128(assets);
        receiver = r.receiver;
        emit EventsLib.RedeemClaimed(requestId, receiver, assets, asEth);
    }

    /// @dev Takes the unfilled shares out of the queue; the vault returns them to the owner.
    function cancel(Queue storage q, uint256 requestId, address caller) external returns (uint256 shares) {
        RedeemRequest storage r = requestOf(q, requestId);
        if (caller != r.owner) revert ErrorsLib.NotRequestOwner(requestId, caller);
        shares = r.sharesPending;
        if (shares == 0) revert ErrorsLib.NothingToCancel(requestId);
        r.sharesPending = 0;
        q.queuedShares -= uint128(shares);
        emit EventsLib.RedeemCancelled(requestId, caller, shares);
    }

    function requestOf(Queue storage q, uint256 requestId) internal view returns (RedeemRequest storage) {
        if (requestId >= q.nextId) revert ErrorsLib.UnknownRequest(requestId);
        return q.requests[requestId];
    }
}
