//! Invoice fee math, formula by formula as `contracts/src/libraries/FeeMath.sol` and the vault compute it.
//!
//! Amounts are wei (`U256`), times are unix seconds, rates are wei per second scaled by [`WAD`].

use alloy_primitives::U256;
use serde::{Deserialize, Serialize};

use crate::math::{self, mul_div, MathError, Rounding, BPS, DAY, WAD};

/// The treasury's cut of a fee payment: `amount * protocol_fee_bps / BPS`.
///
/// Floor: the treasury never gets more than its share; the vault keeps the dust.
pub fn protocol_cut(amount: U256, protocol_fee_bps: u16) -> Result<U256, MathError> {
    check_bps(protocol_fee_bps)?;
    Ok(math::mul(amount, U256::from(protocol_fee_bps), "protocol_cut")? / U256::from(BPS))
}

/// The part of an invoice fee the liquidity providers earn: `fee - protocol_cut(fee)`.
///
/// Rounds up for the vault, since the cut rounds down.
pub fn lp_fee(fee: U256, protocol_fee_bps: u16) -> Result<U256, MathError> {
    Ok(fee - protocol_cut(fee, protocol_fee_bps)?)
}

/// WAD-scaled wei per second at which the vault earns `lp_fee` between `advanced_at` and `due_at`:
/// `lp_fee * WAD / (due_at - advanced_at)`.
///
/// Floor: accrual never runs ahead of what is earned (the vault reports at most 1 wei less at the due date).
pub fn issuance_rate(lp_fee: U256, advanced_at: u64, due_at: u64) -> Result<U256, MathError> {
    let tenor = tenor(advanced_at, due_at)?;
    Ok(math::mul(lp_fee, WAD, "issuance_rate")? / U256::from(tenor))
}

/// Fee accrued at `now` by an advance earning `rate` (see [`issuance_rate`]):
/// `rate * (min(now, due_at) - advanced_at) / WAD`, and 0 until `now` passes `advanced_at`.
///
/// Floor: income is never counted before it is earned; it favours the vault's existing holders
/// against someone redeeming at an inflated share price.
pub fn accrued_fee(rate: U256, advanced_at: u64, due_at: u64, now: u64) -> Result<U256, MathError> {
    tenor(advanced_at, due_at)?;
    if now <= advanced_at {
        return Ok(U256::ZERO);
    }
    let elapsed = now.min(due_at) - advanced_at;
    Ok(math::mul(rate, U256::from(elapsed), "accrued_fee")? / WAD)
}

/// Days a payment keeps vesting: late fees and recoveries reach `totalAssets` linearly over this many days
/// (the vault's `INCOME_VESTING_DAYS`), so a deposit made just before such a payment captures none of it.
pub const INCOME_VESTING_DAYS: u64 = 7;

/// When income received at `now` has fully vested: midnight UTC, [`INCOME_VESTING_DAYS`] days after today.
pub fn vesting_end(now: u64) -> u64 {
    (now / DAY + INCOME_VESTING_DAYS) * DAY
}

/// Started days past `due_at` (`ceil((now - due_at) / DAY)`, 0 when not late): a started day counts, for the vault.
pub fn late_days(due_at: u64, now: u64) -> u64 {
    if now <= due_at {
        return 0;
    }
    (now - due_at).div_ceil(DAY)
}

/// Late fee on `principal` for `days` days: `ceil(principal * bps_per_day * days / BPS)` (rounded up, for the vault).
pub fn late_fee_for_days(
    principal: U256,
    late_fee_bps_per_day: u16,
    days: u64,
) -> Result<U256, MathError> {
    let bps_days = math::mul(
        U256::from(late_fee_bps_per_day),
        U256::from(days),
        "late_fee_for_days",
    )?;
    mul_div(principal, bps_days, U256::from(BPS), Rounding::Ceil)
}

/// Late fee accrued on an unchanged `principal_outstanding` from `due_at` to `now`, before subtracting what
/// was paid. Both roundings favour the vault: a started day counts as a whole day, and the amount rounds up.
pub fn late_fee_accrued(
    principal_outstanding: U256,
    late_fee_bps_per_day: u16,
    due_at: u64,
    now: u64,
) -> Result<U256, MathError> {
    late_fee_for_days(
        principal_outstanding,
        late_fee_bps_per_day,
        late_days(due_at, now),
    )
}

/// The vault's late-fee checkpoint of an invoice, written at each payment while it is late: the late fee
/// accrued until then, what was paid, and over how many started days it was charged. Days already charged are
/// never repriced when principal is paid down.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LateFeeCheckpoint {
    /// Late fee accrued up to the checkpoint.
    pub accrued: U256,
    /// Late fee paid so far.
    pub paid: U256,
    /// Started days past due already charged in `accrued`.
    pub days_charged: u64,
}

impl LateFeeCheckpoint {
    /// A checkpoint that only records a payment (what an invoice without an earlier late payment looks like
    /// after paying `paid` on day 0).
    pub fn paid_only(paid: U256) -> Self {
        Self {
            paid,
            ..Self::default()
        }
    }
}

/// Late fee still owed at `now`, as the vault computes it: the checkpoint's accrued fee plus the days started
/// since it on today's principal, minus what was paid, never below zero.
pub fn late_fee_owed(
    principal_outstanding: U256,
    late_fee_bps_per_day: u16,
    due_at: u64,
    now: u64,
    checkpoint: &LateFeeCheckpoint,
) -> Result<U256, MathError> {
    let days = late_days(due_at, now);
    if days == 0 {
        return Ok(U256::ZERO);
    }
    let since = late_fee_for_days(
        principal_outstanding,
        late_fee_bps_per_day,
        days.saturating_sub(checkpoint.days_charged),
    )?;
    let accrued = math::add(checkpoint.accrued, since, "late_fee_owed")?;
    Ok(accrued.saturating_sub(checkpoint.paid))
}

/// Everything a payer must send to close an invoice: `late_fee_owed + fee_outstanding + principal_outstanding`.
pub fn amount_owed(
    late_fee_owed: U256,
    fee_outstanding: U256,
    principal_outstanding: U256,
) -> Result<U256, MathError> {
    AmountOwed {
        late_fee: late_fee_owed,
        fee: fee_outstanding,
        principal: principal_outstanding,
    }
    .total()
}

/// What an invoice owes, in the order a payment settles it (the vault's `amountOwed` view).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AmountOwed {
    /// Late fee owed now (see [`late_fee_owed`]).
    pub late_fee: U256,
    /// Scheduled fee not yet paid.
    pub fee: U256,
    /// Principal not yet repaid.
    pub principal: U256,
}

impl AmountOwed {
    /// The sum of the three parts.
    pub fn total(&self) -> Result<U256, MathError> {
        math::add(
            math::add(self.late_fee, self.fee, "amount_owed")?,
            self.principal,
            "amount_owed",
        )
    }
}

/// How one payment is split by [`waterfall`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Repayment {
    /// Paid toward the late fee.
    pub late_fee_paid: U256,
    /// Paid toward the scheduled fee.
    pub fee_paid: U256,
    /// Paid toward the principal.
    pub principal_paid: U256,
    /// Sent back to the payer: what exceeded the amount owed.
    pub refund: U256,
    /// Treasury's cut of `late_fee_paid` (floor).
    pub late_fee_protocol_cut: U256,
    /// Treasury's cut of `fee_paid` (floor).
    pub fee_protocol_cut: U256,
}

impl Repayment {
    /// The part of the payment the vault keeps (everything but the refund).
    pub fn applied(&self) -> U256 {
        self.late_fee_paid + self.fee_paid + self.principal_paid
    }

    /// The treasury's total cut, as the `InvoiceRepaid` event reports it.
    pub fn protocol_cut(&self) -> U256 {
        self.late_fee_protocol_cut + self.fee_protocol_cut
    }
}

/// Splits a payment of `amount` against `owed`: late fee first, then the scheduled fee, then principal;
/// the rest is refunded. Fees before principal, so a partial payment never leaves fees unpaid behind
/// repaid principal.
///
/// The protocol cut is taken from the late-fee part and the fee part separately, each rounded down
/// (the vault keeps the dust of both), exactly as the contract does.
pub fn waterfall(
    amount: U256,
    owed: &AmountOwed,
    protocol_fee_bps: u16,
) -> Result<Repayment, MathError> {
    let late_fee_paid = amount.min(owed.late_fee);
    let rest = amount - late_fee_paid;
    let fee_paid = rest.min(owed.fee);
    let rest = rest - fee_paid;
    let principal_paid = rest.min(owed.principal);
    Ok(Repayment {
        late_fee_paid,
        fee_paid,
        principal_paid,
        refund: rest - principal_paid,
        late_fee_protocol_cut: protocol_cut(late_fee_paid, protocol_fee_bps)?,
        fee_protocol_cut: protocol_cut(fee_paid, protocol_fee_bps)?,
    })
}

fn check_bps(bps: u16) -> Result<(), MathError> {
    if bps > BPS {
        return Err(MathError::BpsOutOfRange { bps, max: BPS });
    }
    Ok(())
}

fn tenor(advanced_at: u64, due_at: u64) -> Result<u64, MathError> {
    if due_at <= advanced_at {
        return Err(MathError::NonPositiveTenor {
            advanced_at,
            due_at,
        });
    }
    Ok(due_at - advanced_at)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const ETH: u128 = 1_000_000_000_000_000_000;
    /// 2024-03-01T00:00:00Z, day-aligned.
    const T0: u64 = 1_709_251_200;

    fn u(x: u128) -> U256 {
        U256::from(x)
    }

    /// A 30-day invoice with a 0.03 ETH fee and a 10 % protocol fee.
    mod thirty_day_invoice {
        use super::*;

        const FEE: u128 = 30_000_000_000_000_000;
        const PROTOCOL_BPS: u16 = 1_000;
        const DUE: u64 = T0 + 30 * DAY;

        #[test]
        fn protocol_takes_a_tenth_of_the_fee() {
            assert_eq!(
                protocol_cut(u(FEE), PROTOCOL_BPS).unwrap(),
                u(3_000_000_000_000_000)
            );
        }

        #[test]
        fn lp_fee_is_the_rest() {
            assert_eq!(
                lp_fee(u(FEE), PROTOCOL_BPS).unwrap(),
                u(27_000_000_000_000_000)
            );
        }

        #[test]
        fn rate_is_lp_fee_per_second_in_wad_rounded_down() {
            // 0.027e18 * 1e18 / 2_592_000 = 10_416_666_666_666_666_666_666_666_666.67
            let rate = issuance_rate(u(27_000_000_000_000_000), T0, DUE).unwrap();
            assert_eq!(rate, u(10_416_666_666_666_666_666_666_666_666));
        }

        #[test]
        fn accrues_a_third_after_ten_days_less_the_rounding_wei() {
            let rate = issuance_rate(u(27_000_000_000_000_000), T0, DUE).unwrap();
            // rate * 864_000 / 1e18 = 8_999_999_999_999_999.9994 -> floor
            assert_eq!(
                accrued_fee(rate, T0, DUE, T0 + 10 * DAY).unwrap(),
                u(8_999_999_999_999_999)
            );
        }

        #[test]
        fn accrual_stops_at_the_due_date_one_wei_short() {
            let rate = issuance_rate(u(27_000_000_000_000_000), T0, DUE).unwrap();
            let at_due = accrued_fee(rate, T0, DUE, DUE).unwrap();
            assert_eq!(at_due, u(26_999_999_999_999_999));
            assert_eq!(accrued_fee(rate, T0, DUE, DUE + 365 * DAY).unwrap(), at_due);
        }

        #[test]
        fn nothing_accrues_before_or_at_the_advance() {
            let rate = issuance_rate(u(27_000_000_000_000_000), T0, DUE).unwrap();
            assert_eq!(accrued_fee(rate, T0, DUE, T0).unwrap(), U256::ZERO);
            assert_eq!(accrued_fee(rate, T0, DUE, T0 - 1).unwrap(), U256::ZERO);
        }
    }

    #[test]
    fn protocol_cut_rounds_down_for_the_vault() {
        // 7 wei * 10 % = 0.7 wei -> the treasury gets nothing, the vault keeps it.
        assert_eq!(protocol_cut(u(7), 1_000).unwrap(), U256::ZERO);
        assert_eq!(lp_fee(u(7), 1_000).unwrap(), u(7));
        assert_eq!(protocol_cut(u(19), 1_000).unwrap(), u(1));
        assert_eq!(lp_fee(u(19), 1_000).unwrap(), u(18));
    }

    #[test]
    fn protocol_cut_edges() {
        assert_eq!(protocol_cut(u(ETH), 0).unwrap(), U256::ZERO);
        assert_eq!(protocol_cut(u(ETH), BPS).unwrap(), u(ETH));
        assert_eq!(lp_fee(u(ETH), BPS).unwrap(), U256::ZERO);
    }

    #[test]
    fn protocol_cut_rejects_more_than_all_of_it() {
        assert_eq!(
            protocol_cut(u(ETH), 10_001),
            Err(MathError::BpsOutOfRange {
                bps: 10_001,
                max: 10_000
            })
        );
        assert!(lp_fee(u(ETH), u16::MAX).is_err());
    }

    #[test]
    fn protocol_cut_reverts_like_solidity_on_overflow() {
        assert_eq!(
            protocol_cut(U256::MAX, 2),
            Err(MathError::Overflow { op: "protocol_cut" })
        );
    }

    #[test]
    fn issuance_rate_rejects_zero_or_negative_tenor() {
        let zero = issuance_rate(u(ETH), T0, T0);
        assert_eq!(
            zero,
            Err(MathError::NonPositiveTenor {
                advanced_at: T0,
                due_at: T0
            })
        );
        assert!(issuance_rate(u(ETH), T0, T0 - 1).is_err());
        assert!(accrued_fee(u(1), T0, T0, T0 + 1).is_err());
    }

    #[test]
    fn issuance_rate_overflow_is_an_error() {
        assert_eq!(
            issuance_rate(U256::MAX, T0, T0 + DAY),
            Err(MathError::Overflow {
                op: "issuance_rate"
            })
        );
    }

    #[test]
    fn zero_fee_accrues_nothing() {
        let rate = issuance_rate(U256::ZERO, T0, T0 + DAY).unwrap();
        assert_eq!(rate, U256::ZERO);
        assert_eq!(
            accrued_fee(rate, T0, T0 + DAY, T0 + DAY).unwrap(),
            U256::ZERO
        );
    }

    #[test]
    fn late_fee_is_zero_until_after_due() {
        assert_eq!(
            late_fee_owed(u(ETH), 50, T0, T0 - 1, &LateFeeCheckpoint::default()).unwrap(),
            U256::ZERO
        );
        assert_eq!(
            late_fee_owed(u(ETH), 50, T0, T0, &LateFeeCheckpoint::default()).unwrap(),
            U256::ZERO
        );
    }

    #[test]
    fn one_second_late_is_a_full_day() {
        // 1 ETH * 50 bps = 0.005 ETH per started day.
        assert_eq!(
            late_fee_owed(u(ETH), 50, T0, T0 + 1, &LateFeeCheckpoint::default()).unwrap(),
            u(5_000_000_000_000_000)
        );
        assert_eq!(
            late_fee_owed(u(ETH), 50, T0, T0 + DAY, &LateFeeCheckpoint::default()).unwrap(),
            u(5_000_000_000_000_000)
        );
    }

    #[test]
    fn a_second_day_starts_one_second_after_the_first_ends() {
        assert_eq!(
            late_fee_owed(u(ETH), 50, T0, T0 + DAY + 1, &LateFeeCheckpoint::default()).unwrap(),
            u(10_000_000_000_000_000)
        );
        assert_eq!(
            late_fee_owed(u(ETH), 50, T0, T0 + 10 * DAY, &LateFeeCheckpoint::default()).unwrap(),
            u(50_000_000_000_000_000)
        );
    }

    #[test]
    fn late_fee_amount_rounds_up_for_the_vault() {
        // 3 wei * 1 bps = 0.0003 wei -> 1 wei.
        assert_eq!(late_fee_accrued(u(3), 1, T0, T0 + 1).unwrap(), u(1));
        // 10_001 wei * 1 bps * 2 days = 2.0002 -> 3 wei.
        assert_eq!(
            late_fee_accrued(u(10_001), 1, T0, T0 + DAY + 1).unwrap(),
            u(3)
        );
        // Exact: 20_000 wei * 1 bps * 1 day = 2 wei.
        assert_eq!(late_fee_accrued(u(20_000), 1, T0, T0 + 1).unwrap(), u(2));
    }

    #[test]
    fn late_fee_paid_is_subtracted_and_saturates_at_zero() {
        let owed = late_fee_owed(
            u(ETH),
            50,
            T0,
            T0 + 1,
            &LateFeeCheckpoint::paid_only(u(1_000_000_000_000_000)),
        )
        .unwrap();
        assert_eq!(owed, u(4_000_000_000_000_000));
        assert_eq!(
            late_fee_owed(
                u(ETH),
                50,
                T0,
                T0 + 1,
                &LateFeeCheckpoint::paid_only(u(ETH))
            )
            .unwrap(),
            U256::ZERO
        );
    }

    #[test]
    fn late_fee_zero_rate_or_principal_is_zero() {
        assert_eq!(
            late_fee_accrued(u(ETH), 0, T0, T0 + 100 * DAY).unwrap(),
            U256::ZERO
        );
        assert_eq!(
            late_fee_accrued(U256::ZERO, 100, T0, T0 + 100 * DAY).unwrap(),
            U256::ZERO
        );
    }

    #[test]
    fn late_fee_on_a_huge_principal_is_exact_or_an_error() {
        // MAX * 1 bps * 1 day / 10_000 fits: the product needs 512 bits, the result does not.
        let fee = late_fee_accrued(U256::MAX, 1, T0, T0 + 1).unwrap();
        assert_eq!(fee, U256::MAX / u(10_000) + u(1));
        assert!(late_fee_accrued(U256::MAX, 10_001, T0, T0 + 1).is_err());
    }

    #[test]
    fn amount_owed_adds_the_three_parts() {
        assert_eq!(amount_owed(u(5), u(30), u(1_000)).unwrap(), u(1_035));
        assert_eq!(
            amount_owed(U256::MAX, u(1), U256::ZERO),
            Err(MathError::Overflow { op: "amount_owed" })
        );
    }

    fn owed() -> AmountOwed {
        AmountOwed {
            late_fee: u(5_000_000_000_000_000),
            fee: u(30_000_000_000_000_000),
            principal: u(ETH),
        }
    }

    #[test]
    fn overpayment_settles_everything_and_refunds_the_rest() {
        let r = waterfall(u(1_100_000_000_000_000_000), &owed(), 1_000).unwrap();
        assert_eq!(r.late_fee_paid, u(5_000_000_000_000_000));
        assert_eq!(r.fee_paid, u(30_000_000_000_000_000));
        assert_eq!(r.principal_paid, u(ETH));
        assert_eq!(r.refund, u(65_000_000_000_000_000));
        assert_eq!(r.late_fee_protocol_cut, u(500_000_000_000_000));
        assert_eq!(r.fee_protocol_cut, u(3_000_000_000_000_000));
        assert_eq!(r.protocol_cut(), u(3_500_000_000_000_000));
        assert_eq!(r.applied(), owed().total().unwrap());
    }

    #[test]
    fn partial_payment_goes_to_fees_before_principal() {
        let r = waterfall(u(20_000_000_000_000_000), &owed(), 1_000).unwrap();
        assert_eq!(r.late_fee_paid, u(5_000_000_000_000_000));
        assert_eq!(r.fee_paid, u(15_000_000_000_000_000));
        assert_eq!(r.principal_paid, U256::ZERO);
        assert_eq!(r.refund, U256::ZERO);
        assert_eq!(r.late_fee_protocol_cut, u(500_000_000_000_000));
        assert_eq!(r.fee_protocol_cut, u(1_500_000_000_000_000));
    }

    #[test]
    fn payment_smaller_than_the_late_fee_only_pays_late_fee() {
        let r = waterfall(u(1_000), &owed(), 1_000).unwrap();
        assert_eq!(
            (r.late_fee_paid, r.fee_paid, r.principal_paid, r.refund),
            (u(1_000), U256::ZERO, U256::ZERO, U256::ZERO)
        );
        assert_eq!(r.late_fee_protocol_cut, u(100));
    }

    #[test]
    fn exact_payment_leaves_no_refund() {
        let r = waterfall(u(1_035_000_000_000_000_000), &owed(), 0).unwrap();
        assert_eq!(r.refund, U256::ZERO);
        assert_eq!(r.principal_paid, u(ETH));
        assert_eq!(r.protocol_cut(), U256::ZERO);
    }

    #[test]
    fn cuts_round_down_separately() {
        // Late 9 wei and fee 9 wei at 10 %: 0 + 0, where 18 wei together would give 1.
        let owed = AmountOwed {
            late_fee: u(9),
            fee: u(9),
            principal: u(100),
        };
        let r = waterfall(u(18), &owed, 1_000).unwrap();
        assert_eq!(r.protocol_cut(), U256::ZERO);
    }

    #[test]
    fn payment_on_a_settled_invoice_is_refunded_whole() {
        let r = waterfall(u(42), &AmountOwed::default(), 1_000).unwrap();
        assert_eq!(r.refund, u(42));
        assert_eq!(r.applied(), U256::ZERO);
    }

    #[test]
    fn waterfall_rejects_bad_bps() {
        assert!(waterfall(u(1), &owed(), 10_001).is_err());
    }

    #[test]
    fn late_fee_checkpoint_keeps_days_already_charged() {
        // 10 ETH at 10 bps/day, 10 days late: 0.1 ETH. Then 9 ETH of principal paid; 4 days later the
        // remaining 1 ETH owes 4 more days (0.004 ETH), not a repricing of all 14 days on 1 ETH.
        let ten = u(10 * ETH);
        let accrued = late_fee_accrued(ten, 10, T0, T0 + 10 * DAY).unwrap();
        assert_eq!(accrued, u(ETH / 10));
        let checkpoint = LateFeeCheckpoint {
            accrued,
            paid: accrued,
            days_charged: 10,
        };
        let owed = late_fee_owed(u(ETH), 10, T0, T0 + 14 * DAY, &checkpoint).unwrap();
        assert_eq!(owed, u(4 * ETH / 1000));
        assert_eq!(late_days(T0, T0 + 1), 1);
        assert_eq!(vesting_end(T0 + 5), (T0 / DAY + 7) * DAY);
    }
}
