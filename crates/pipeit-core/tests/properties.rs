//! Property tests of the money math: the invariants the vault relies on hold for any input.
#![allow(clippy::unwrap_used)]

use alloy_primitives::{I256, U256};
use chrono::NaiveDate;
use pipeit_core::{
    accrued_fee, convert_to_assets, convert_to_shares, fiat_to_wei_ceil, fiat_to_wei_floor,
    issuance_rate, late_fee_owed, lp_fee, mul_div, protocol_cut, waterfall, wei_to_fiat,
    AmountOwed, Currency, EthPrice, FiatAmount, InvoiceRecord, LateFeeCheckpoint, Rounding, DAY,
    VAULT_DECIMALS_OFFSET,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

/// Unix seconds between 2020 and 2100.
const T_MIN: u64 = 1_577_836_800;
const T_MAX: u64 = 4_102_444_800;
/// Tenors up to ten years (the vault caps them at 180 days).
const MAX_TENOR: u64 = 10 * 365 * DAY;

fn wei() -> impl Strategy<Value = U256> {
    // Up to ~3.4e20 ETH: far beyond any real balance, small enough that fee * WAD fits in 256 bits.
    any::<u128>().prop_map(U256::from)
}

fn small_wei() -> impl Strategy<Value = U256> {
    prop_oneof![
        0u128..1_000,
        any::<u64>().prop_map(u128::from),
        any::<u128>()
    ]
    .prop_map(U256::from)
}

fn bps() -> impl Strategy<Value = u16> {
    0u16..=10_000
}

fn currency() -> impl Strategy<Value = Currency> {
    proptest::sample::select(Currency::ALL.to_vec())
}

fn fiat_amount(currency: Currency) -> impl Strategy<Value = FiatAmount> {
    (1u128..=10_000_000_000_000_000u128)
        .prop_map(move |minor| FiatAmount::from_minor_units(currency, minor).unwrap())
}

fn eth_price(currency: Currency) -> impl Strategy<Value = EthPrice> {
    (1i128..=1_000_000_000_000_000_000_000_000i128, 0u8..=18).prop_map(move |(answer, decimals)| {
        EthPrice::from_feed(currency, I256::try_from(answer).unwrap(), decimals).unwrap()
    })
}

proptest! {
    #[test]
    fn mul_div_matches_u128_reference(a in any::<u64>(), b in any::<u64>(), d in 1u64..) {
        let product = u128::from(a) * u128::from(b);
        let d128 = u128::from(d);
        let floor = product / d128;
        let ceil = product.div_ceil(d128);
        let (a, b, d) = (U256::from(a), U256::from(b), U256::from(d));
        prop_assert_eq!(mul_div(a, b, d, Rounding::Floor).unwrap(), U256::from(floor));
        prop_assert_eq!(mul_div(a, b, d, Rounding::Ceil).unwrap(), U256::from(ceil));
    }

    #[test]
    fn protocol_cut_plus_lp_fee_is_the_fee(fee in wei(), bps in bps()) {
        let cut = protocol_cut(fee, bps).unwrap();
        prop_assert_eq!(cut + lp_fee(fee, bps).unwrap(), fee);
        // Floor: the cut never exceeds the exact share.
        prop_assert!(cut * U256::from(10_000u16) <= fee * U256::from(bps));
    }

    #[test]
    fn accrual_never_exceeds_the_lp_fee_and_reaches_it_within_a_wei(
        fee in wei(),
        advanced_at in T_MIN..T_MAX,
        tenor in 1..=MAX_TENOR,
        elapsed in 0..=2 * MAX_TENOR,
    ) {
        let due_at = advanced_at + tenor;
        let rate = issuance_rate(fee, advanced_at, due_at).unwrap();
        let accrued = accrued_fee(rate, advanced_at, due_at, advanced_at + elapsed).unwrap();
        prop_assert!(accrued <= fee);
        let at_due = accrued_fee(rate, advanced_at, due_at, due_at).unwrap();
        // tenor < WAD, so the two floors lose less than 2 wei together, and at most 1 after the second floor.
        prop_assert!(at_due + U256::from(1) >= fee, "at due {} of {}", at_due, fee);
        prop_assert!(accrued <= at_due);
    }

    #[test]
    fn accrual_is_monotonic_in_time(
        fee in wei(),
        advanced_at in T_MIN..T_MAX,
        tenor in 1..=MAX_TENOR,
        a in 0..=MAX_TENOR,
        b in 0..=MAX_TENOR,
    ) {
        let due_at = advanced_at + tenor;
        let rate = issuance_rate(fee, advanced_at, due_at).unwrap();
        let (early, late) = (a.min(b), a.max(b));
        let early = accrued_fee(rate, advanced_at, due_at, advanced_at + early).unwrap();
        let late = accrued_fee(rate, advanced_at, due_at, advanced_at + late).unwrap();
        prop_assert!(early <= late);
    }

    #[test]
    fn late_fee_counts_started_days(
        principal in wei(),
        bps_per_day in 0u16..=100,
        due_days in 18_262u64..47_482,
        seconds_late in 1..=365 * DAY,
    ) {
        let due_at = due_days * DAY;
        let now = due_at + seconds_late;
        let days = seconds_late.div_ceil(DAY);
        let owed = late_fee_owed(principal, bps_per_day, due_at, now, &LateFeeCheckpoint::default()).unwrap();
        let exact_times_bps = principal * U256::from(bps_per_day) * U256::from(days);
        // Ceil: never less than the exact fee, less than one wei more.
        prop_assert!(owed * U256::from(10_000u16) >= exact_times_bps);
        prop_assert!(owed * U256::from(10_000u16) < exact_times_bps + U256::from(10_000u16));
        // The whole started day costs the same.
        let day_end = due_at + days * DAY;
        prop_assert_eq!(late_fee_owed(principal, bps_per_day, due_at, day_end, &LateFeeCheckpoint::default()).unwrap(), owed);
    }

    #[test]
    fn late_fee_grows_with_time_and_shrinks_with_payments(
        principal in wei(),
        bps_per_day in 0u16..=100,
        a in 0..=400 * DAY,
        b in 0..=400 * DAY,
        paid in small_wei(),
    ) {
        let due_at = 20_000 * DAY;
        let early = late_fee_owed(principal, bps_per_day, due_at, due_at + a.min(b), &LateFeeCheckpoint::default()).unwrap();
        let late = late_fee_owed(principal, bps_per_day, due_at, due_at + a.max(b), &LateFeeCheckpoint::default()).unwrap();
        prop_assert!(early <= late);
        let after_payment = late_fee_owed(principal, bps_per_day, due_at, due_at + a.max(b), &LateFeeCheckpoint::paid_only(paid)).unwrap();
        prop_assert_eq!(after_payment, late.saturating_sub(paid));
    }

    #[test]
    fn waterfall_parts_sum_to_the_amount(
        amount in small_wei(),
        late_fee in small_wei(),
        fee in small_wei(),
        principal in small_wei(),
        bps in bps(),
    ) {
        let owed = AmountOwed { late_fee, fee, principal };
        let r = waterfall(amount, &owed, bps).unwrap();
        prop_assert_eq!(r.late_fee_paid + r.fee_paid + r.principal_paid + r.refund, amount);
        prop_assert!(r.late_fee_paid <= late_fee && r.fee_paid <= fee && r.principal_paid <= principal);
        prop_assert!(r.late_fee_protocol_cut <= r.late_fee_paid && r.fee_protocol_cut <= r.fee_paid);
        // Fees before principal; a refund only once everything is paid.
        if r.principal_paid > U256::ZERO {
            prop_assert_eq!((r.late_fee_paid, r.fee_paid), (late_fee, fee));
        }
        if r.refund > U256::ZERO {
            prop_assert_eq!(r.applied(), owed.total().unwrap());
        }
    }

    #[test]
    fn fiat_to_wei_floor_and_ceil_are_at_most_one_wei_apart(
        (amount, price) in currency().prop_flat_map(|c| (fiat_amount(c), eth_price(c)))
    ) {
        let floor = fiat_to_wei_floor(&amount, &price).unwrap();
        let ceil = fiat_to_wei_ceil(&amount, &price).unwrap();
        prop_assert!(floor <= ceil);
        prop_assert!(ceil <= floor + U256::from(1));
    }

    #[test]
    fn fiat_round_trips_favour_the_vault(
        (amount, price) in currency().prop_flat_map(|c| (fiat_amount(c), eth_price(c)))
    ) {
        // Paid out: worth no more than the amount. Owed: worth no less.
        let paid = fiat_to_wei_floor(&amount, &price).unwrap();
        prop_assert!(wei_to_fiat(paid, &price, Rounding::Floor).unwrap() <= amount.amount());
        let owed = fiat_to_wei_ceil(&amount, &price).unwrap();
        prop_assert!(wei_to_fiat(owed, &price, Rounding::Ceil).unwrap() >= amount.amount());
    }

    #[test]
    fn wei_to_fiat_floor_and_ceil_are_one_minor_unit_apart_at_most(
        wei in any::<u64>().prop_map(U256::from),
        price in currency().prop_flat_map(eth_price),
    ) {
        let floor = wei_to_fiat(wei, &price, Rounding::Floor).unwrap();
        let ceil = wei_to_fiat(wei, &price, Rounding::Ceil).unwrap();
        let unit = Decimal::new(1, price.currency().minor_units());
        prop_assert!(floor <= ceil && ceil <= floor + unit);
        prop_assert_eq!(floor.scale(), price.currency().minor_units());
    }

    #[test]
    fn share_round_trip_never_gains(
        assets in small_wei(),
        total_supply in wei(),
        total_assets in wei(),
    ) {
        let offset = VAULT_DECIMALS_OFFSET;
        let shares = convert_to_shares(assets, total_supply, total_assets, offset, Rounding::Floor).unwrap();
        let back = convert_to_assets(shares, total_supply, total_assets, offset, Rounding::Floor).unwrap();
        prop_assert!(back <= assets);
        // Withdrawing `assets` burns shares (ceil) worth at least `assets`, at most one share more than a deposit gives.
        let burnt = convert_to_shares(assets, total_supply, total_assets, offset, Rounding::Ceil).unwrap();
        prop_assert!(shares <= burnt && burnt <= shares + U256::from(1));
        prop_assert!(convert_to_assets(burnt, total_supply, total_assets, offset, Rounding::Ceil).unwrap() >= assets);
        // Minting the shares a deposit gives never costs more than the deposit.
        prop_assert!(convert_to_assets(shares, total_supply, total_assets, offset, Rounding::Ceil).unwrap() <= assets);
    }

    #[test]
    fn canonical_id_ignores_case_and_spacing_of_tax_id_and_invoice_number(
        tax_chars in proptest::collection::vec(("[A-Za-z0-9]", "[ \t.-]{0,2}"), 1..20),
        number in "[A-Za-z0-9][A-Za-z0-9/#_-]{0,20}",
        pad_left in "[ \t]{0,3}",
        pad_right in "[ \t]{0,3}",
        upper in any::<bool>(),
    ) {
        let tax_id: String = tax_chars.iter().map(|(c, sep)| format!("{c}{sep}")).collect();
        let canonical_tax_id: String = tax_chars.iter().map(|(c, _)| c.to_uppercase()).collect();
        let spelled_number = format!(
            "{pad_left}{}{pad_right}",
            if upper { number.to_uppercase() } else { number.to_lowercase() }
        );
        let submitted = invoice(&tax_id, &spelled_number);
        let reference = invoice(&canonical_tax_id, &number.to_uppercase());
        prop_assert_eq!(submitted.canonical_id().unwrap(), reference.canonical_id().unwrap());
    }
}

fn invoice(tax_id: &str, number: &str) -> InvoiceRecord {
    InvoiceRecord {
        debtor_name: "ACME Corp".to_owned(),
        debtor_tax_id: tax_id.to_owned(),
        debtor_country: "US".to_owned(),
        invoice_number: number.to_owned(),
        currency: Currency::Usd,
        amount: Decimal::new(123_456, 2),
        issue_date: NaiveDate::from_ymd_opt(2024, 1, 15).unwrap(),
        due_date: NaiveDate::from_ymd_opt(2024, 2, 14).unwrap(),
        document_hash: None,
    }
}
