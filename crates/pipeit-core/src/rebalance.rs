//! The rebalancing plan for idle capital: how much of what is not needed for advances and
//! redemptions sits in the ERC-4626 yield strategy, how much in the USD hedge, and what stays idle.
//! Pure: the keeper reads the vault, calls [`plan`], stores the plan and sends its moves.
//!
//! - Kept idle: the vault's reserve (`minIdleBps` of NAV) plus an operating buffer for advances.
//! - Hedge share of the rest: [`crate::signal_model::hedge_share`] of the signal (more when bearish
//!   and risky), at most `max_hedge`.
//! - Yield share: `max_yield × (1 − risk)`, within what the hedge leaves.
//! - Moves smaller than `min_change_bps` of NAV are skipped; none within `min_wait_secs` of the last
//!   rebalance; each move fits the strategy's cap and, together, the keeper's move allowance left
//!   in the vault's window. The vault enforces all of these again, and the swap strategy bounds its
//!   swap by the oracle (min-out = oracle value less its slippage limit).

use alloy_primitives::U256;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::math::{mul_div, Rounding, BPS};
use crate::signal::{clamp, MarketSignal};
use crate::signal_model::hedge_share;

/// The knobs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RebalancePolicy {
    /// Largest share of deployable capital in the hedge.
    pub max_hedge: Decimal,
    /// Share of deployable capital in the yield strategy when risk is 0.
    pub max_yield: Decimal,
    /// Kept idle above the vault's reserve, bps of NAV (room for advances).
    pub operating_buffer_bps: u16,
    /// Smallest move, bps of NAV.
    pub min_change_bps: u16,
    /// Least time between two rebalances, seconds.
    pub min_wait_secs: u64,
}

impl Default for RebalancePolicy {
    fn default() -> Self {
        Self {
            max_hedge: Decimal::new(5, 1),
            max_yield: Decimal::new(6, 1),
            operating_buffer_bps: 2_000,
            min_change_bps: 100,
            min_wait_secs: 3_600,
        }
    }
}

/// Which strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    /// The ERC-4626 yield strategy.
    Yield,
    /// The USD hedge (swap strategy).
    Hedge,
}

/// A move of WETH.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    /// Into (allocate) or out of (deallocate) the strategy.
    pub allocate: bool,
    /// The strategy.
    pub bucket: Bucket,
    /// Wei.
    pub assets: U256,
}

/// What the keeper read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RebalanceInput {
    /// Idle WETH not owed to the redemption queue.
    pub available: U256,
    /// NAV at book (idle + principal + strategies).
    pub nav: U256,
    /// The vault's reserve, bps of NAV.
    pub min_idle_bps: u16,
    /// The yield strategy's value and cap (`None`: not deployed).
    pub yield_strategy: Option<(U256, U256)>,
    /// The hedge's value and cap (`None`: not deployed).
    pub hedge_strategy: Option<(U256, U256)>,
    /// What the keeper may still move in the vault's window.
    pub move_allowance: U256,
    /// The signal (`None`: risk assumed 0.5, trend 0).
    pub signal: Option<MarketSignal>,
    /// Seconds since the last rebalance that moved money (`None`: never).
    pub since_last_secs: Option<u64>,
}

/// The plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Capital that may be deployed (available + strategies − reserve − buffer).
    pub deployable: U256,
    /// Target share in the yield strategy.
    pub yield_share: Decimal,
    /// Target share in the hedge.
    pub hedge_share: Decimal,
    /// Target values.
    pub yield_target: U256,
    /// Target values.
    pub hedge_target: U256,
    /// Moves to send (empty: nothing to do, or held back: see `act`).
    pub moves: Vec<Move>,
    /// Whether to send them now.
    pub act: bool,
    /// Why, line by line.
    pub reasons: Vec<String>,
}

/// The plan for `input` (see the module documentation). Amounts are floored: the vault keeps any
/// rounding idle, where it is available for redemptions.
pub fn plan(input: &RebalanceInput, policy: &RebalancePolicy) -> Plan {
    let mut reasons = Vec::new();
    let (risk, trend) = match &input.signal {
        Some(s) if s.validate().is_ok() => {
            reasons.push(format!(
                "signal {}: risk {}, trend {}",
                s.source, s.risk, s.trend
            ));
            (s.risk, s.trend)
        }
        _ => {
            reasons.push("no signal: risk assumed 0.5, trend 0".to_owned());
            (Decimal::new(5, 1), Decimal::ZERO)
        }
    };
    let assumed = MarketSignal {
        source: String::new(),
        as_of: chrono::DateTime::UNIX_EPOCH,
        risk,
        trend,
        summary: String::new(),
    };
    let hedge = if input.hedge_strategy.is_some() {
        hedge_share(&assumed, policy.max_hedge)
    } else {
        Decimal::ZERO
    };
    let yield_share = if input.yield_strategy.is_some() {
        clamp(
            policy.max_yield * (Decimal::ONE - risk),
            Decimal::ZERO,
            Decimal::ONE - hedge,
        )
        .round_dp(4)
    } else {
        Decimal::ZERO
    };
    let current_yield = input.yield_strategy.map_or(U256::ZERO, |s| s.0);
    let current_hedge = input.hedge_strategy.map_or(U256::ZERO, |s| s.0);
    let free = input.available + current_yield + current_hedge;
    // Ceil: the reserve kept idle is never rounded away.
    let keep_bps = u64::from(input.min_idle_bps) + u64::from(policy.operating_buffer_bps);
    let keep = mul_div(
        input.nav,
        U256::from(keep_bps),
        U256::from(BPS),
        Rounding::Ceil,
    )
    .unwrap_or(input.nav);
    let deployable = free.saturating_sub(keep);
    reasons.push(format!(
        "deployable {deployable} wei = available {} + strategies {} - kept idle {keep} ({keep_bps} bps of NAV)",
        input.available,
        current_yield + current_hedge
    ));
    let target = |share: Decimal, cap: U256| -> U256 {
        let bps = (share * Decimal::from(BPS)).trunc();
        let bps = U256::from(u64::try_from(bps.mantissa()).unwrap_or(0));
        mul_div(deployable, bps, U256::from(BPS), Rounding::Floor)
            .unwrap_or(U256::ZERO)
            .min(cap)
    };
    let yield_target = input
        .yield_strategy
        .map_or(U256::ZERO, |(_, cap)| target(yield_share, cap));
    let hedge_target = input
        .hedge_strategy
        .map_or(U256::ZERO, |(_, cap)| target(hedge, cap));
    reasons.push(format!(
        "targets: yield {yield_share} of deployable = {yield_target} wei (now {current_yield}), hedge {hedge} = {hedge_target} wei (now {current_hedge})"
    ));

    let min_change = mul_div(
        input.nav,
        U256::from(policy.min_change_bps),
        U256::from(BPS),
        Rounding::Floor,
    )
    .unwrap_or(U256::MAX);
    let mut moves = Vec::new();
    // Exits first: they free liquidity for the entries.
    for (bucket, now, goal) in [
        (Bucket::Yield, current_yield, yield_target),
        (Bucket::Hedge, current_hedge, hedge_target),
    ] {
        if now > goal && now - goal >= min_change.max(U256::from(1)) {
            moves.push(Move {
                allocate: false,
                bucket,
                assets: now - goal,
            });
        }
    }
    let mut room = input.available.saturating_sub(keep_idle_now(input, keep));
    for (bucket, now, goal) in [
        (Bucket::Yield, current_yield, yield_target),
        (Bucket::Hedge, current_hedge, hedge_target),
    ] {
        if goal > now && goal - now >= min_change.max(U256::from(1)) {
            let exits: U256 = moves.iter().filter(|m| !m.allocate).map(|m| m.assets).sum();
            let assets = (goal - now).min(room + exits);
            if assets >= min_change.max(U256::from(1)) {
                room = room.saturating_sub(assets);
                moves.push(Move {
                    allocate: true,
                    bucket,
                    assets,
                });
            }
        }
    }
    // The keeper's move allowance in the vault's window counts both directions.
    let mut allowance = input.move_allowance;
    moves.retain_mut(|m| {
        if allowance.is_zero() {
            return false;
        }
        m.assets = m.assets.min(allowance);
        allowance -= m.assets;
        true
    });
    let mut act = !moves.is_empty();
    if moves.is_empty() {
        reasons.push(format!(
            "no move of at least {min_change} wei ({} bps of NAV) needed",
            policy.min_change_bps
        ));
    } else if let Some(since) = input.since_last_secs.filter(|s| *s < policy.min_wait_secs) {
        act = false;
        reasons.push(format!(
            "last rebalance {since} s ago; waiting {} s between rebalances",
            policy.min_wait_secs
        ));
    }
    Plan {
        deployable,
        yield_share,
        hedge_share: hedge,
        yield_target,
        hedge_target,
        moves,
        act,
        reasons,
    }
}

/// What must stay idle out of `available` right now (strategies' value counts toward `keep` only
/// after it comes back).
fn keep_idle_now(input: &RebalanceInput, keep: U256) -> U256 {
    keep.min(input.available)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    use super::*;

    const E: u128 = 1_000_000_000_000_000_000;

    fn eth(n: u128) -> U256 {
        U256::from(n * E)
    }

    fn input(risk: Decimal, trend: Decimal) -> RebalanceInput {
        RebalanceInput {
            available: eth(100),
            nav: eth(100),
            min_idle_bps: 1_000,
            yield_strategy: Some((U256::ZERO, eth(1_000))),
            hedge_strategy: Some((U256::ZERO, eth(1_000))),
            move_allowance: eth(1_000),
            signal: Some(MarketSignal {
                source: "file".into(),
                as_of: chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
                risk,
                trend,
                summary: String::new(),
            }),
            since_last_secs: None,
        }
    }

    #[test]
    fn calm_bull_market_puts_capital_to_yield_and_none_to_hedge() {
        let p = plan(&input(dec!(0), dec!(1)), &RebalancePolicy::default());
        // Keep 10 % reserve + 20 % buffer: 70 ETH deployable; yield 0.6 of it, hedge 0.
        assert_eq!(p.deployable, eth(70));
        assert_eq!(p.hedge_share, dec!(0));
        assert_eq!(p.yield_target, eth(42));
        assert!(p.act);
        assert_eq!(
            p.moves,
            [Move {
                allocate: true,
                bucket: Bucket::Yield,
                assets: eth(42)
            }]
        );
    }

    #[test]
    fn bearish_risky_market_hedges_and_leaves_yield() {
        let mut i = input(dec!(1), dec!(-1));
        i.available = eth(58);
        i.yield_strategy = Some((eth(42), eth(1_000)));
        let p = plan(&i, &RebalancePolicy::default());
        assert_eq!(p.hedge_share, dec!(0.5));
        assert_eq!(p.yield_share, dec!(0));
        assert_eq!(
            p.moves[0],
            Move {
                allocate: false,
                bucket: Bucket::Yield,
                assets: eth(42)
            }
        );
        assert_eq!(
            p.moves[1],
            Move {
                allocate: true,
                bucket: Bucket::Hedge,
                assets: eth(35)
            }
        );
    }

    #[test]
    fn small_moves_wait_and_caps_bind() {
        let mut i = input(dec!(0), dec!(1));
        i.yield_strategy = Some((eth(41) + U256::from(1), eth(1_000)));
        i.available = eth(59) - U256::from(1);
        let p = plan(&i, &RebalancePolicy::default());
        assert!(p.moves.is_empty(), "{:?}", p.moves);
        assert!(!p.act);

        let mut i = input(dec!(0), dec!(1));
        i.since_last_secs = Some(60);
        let p = plan(&i, &RebalancePolicy::default());
        assert!(!p.act);
        assert!(p.reasons.iter().any(|r| r.contains("waiting")));

        let mut i = input(dec!(0), dec!(1));
        i.yield_strategy = Some((U256::ZERO, eth(10)));
        i.move_allowance = eth(5);
        let p = plan(&i, &RebalancePolicy::default());
        assert_eq!(p.yield_target, eth(10));
        assert_eq!(p.moves[0].assets, eth(5));
    }

    #[test]
    fn no_strategies_no_moves() {
        let mut i = input(dec!(0), dec!(1));
        i.yield_strategy = None;
        i.hedge_strategy = None;
        let p = plan(&i, &RebalancePolicy::default());
        assert!(p.moves.is_empty());
    }
}
