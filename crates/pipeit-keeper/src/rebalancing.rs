//! Rebalancing idle capital: read the vault, [`pipeit_core::rebalance::plan`], store the decision
//! with its reasons, send the moves through the outbox.

use chrono::{DateTime, Utc};
use pipeit_core::rebalance::{self, Bucket, RebalanceInput, RebalancePolicy};
use pipeit_core::signal::MarketSignal;
use pipeit_db::keeper::NewRebalance;
use serde_json::json;

use crate::executor::Submitted;
use crate::{Error, Keeper, TickReport};

/// Held-back decisions are stored at most this often (the same deferral every tick says nothing new).
const DEFERRAL_RECORD_SECS: i64 = 600;

impl Keeper {
    pub(crate) async fn rebalance(
        &mut self,
        policy: &RebalancePolicy,
        signal: Option<&MarketSignal>,
        now: DateTime<Utc>,
        report: &mut TickReport,
    ) -> Result<(), Error> {
        let contracts = self.chain.manifest().contracts.clone();
        let mut live = self.db.outbox_list(pipeit_db::OutboxStatus::Sent).await?;
        live.extend(self.db.outbox_pending().await?);
        if live
            .iter()
            .any(|e| e.kind == "allocate" || e.kind == "deallocate")
        {
            return Ok(()); // the last moves are not settled yet
        }
        let liquidity = self.chain.liquidity().await?;
        let strategy = |active: bool, value, cap| active.then_some((value, cap));
        let (y_value, y_cap, y_active) = self.chain.strategy(contracts.erc4626_strategy).await?;
        let (h_value, h_cap, h_active) = self
            .chain
            .strategy(contracts.uniswap_v3_swap_strategy)
            .await?;
        let last = self.db.rebalances(true, 1).await?.into_iter().next();
        let since_last =
            last.map(|r| u64::try_from((now - r.decided_at).num_seconds().max(0)).unwrap_or(0));
        let input = RebalanceInput {
            available: liquidity.available,
            nav: liquidity.idle + liquidity.principal + liquidity.strategy_book,
            min_idle_bps: liquidity.min_idle_bps,
            yield_strategy: strategy(y_active, y_value, y_cap),
            hedge_strategy: strategy(h_active, h_value, h_cap),
            move_allowance: liquidity.move_cap.saturating_sub(liquidity.move_used),
            signal: signal.cloned(),
            since_last_secs: since_last,
        };
        let plan = rebalance::plan(&input, policy);
        if plan.moves.is_empty() {
            return Ok(());
        }
        if !plan.act {
            let last_deferral: Option<i64> = self
                .db
                .keeper_state("rebalance:last_deferral")
                .await?
                .and_then(|v| v.parse().ok());
            if last_deferral.is_some_and(|t| now.timestamp() - t < DEFERRAL_RECORD_SECS) {
                return Ok(());
            }
            self.db
                .set_keeper_state("rebalance:last_deferral", &now.timestamp().to_string())
                .await?;
        }
        let stored = self
            .db
            .record_rebalance(&NewRebalance {
                inputs: serde_json::to_value(&input).unwrap_or_default(),
                target: json!({
                    "deployable": plan.deployable.to_string(),
                    "yield_share": plan.yield_share.to_string(),
                    "hedge_share": plan.hedge_share.to_string(),
                    "yield_target": plan.yield_target.to_string(),
                    "hedge_target": plan.hedge_target.to_string(),
                }),
                actions: serde_json::to_value(&plan.moves).unwrap_or_default(),
                acted: plan.act,
                reasons: json!(plan.reasons),
            })
            .await?;
        report.rebalance = Some(format!(
            "decision {}: {} move(s), {}",
            stored.id,
            plan.moves.len(),
            if plan.act { "sent" } else { "held back" }
        ));
        if !plan.act {
            return Ok(());
        }
        for (n, m) in plan.moves.iter().enumerate() {
            let strategy = match m.bucket {
                Bucket::Yield => contracts.erc4626_strategy,
                Bucket::Hedge => contracts.uniswap_v3_swap_strategy,
            };
            let (kind, call) = if m.allocate {
                ("allocate", self.chain.allocate_call(strategy, m.assets))
            } else {
                ("deallocate", self.chain.deallocate_call(strategy, m.assets))
            };
            let key = format!("rebalance:{}:{n}", stored.id);
            match self
                .executor
                .submit(
                    kind,
                    &key,
                    call,
                    json!({ "decision": stored.id, "move": m }),
                )
                .await?
            {
                Submitted::Sent { id, .. } => {
                    // One after the other: an exit must land before the entry that uses its WETH.
                    let settled = self
                        .executor
                        .wait_settled(&[id], self.config.receipt_timeout)
                        .await?;
                    self.apply_settled(&settled, report).await?;
                }
                Submitted::Refused { revert, .. } => {
                    tracing::warn!(decision = stored.id, error = %revert.detail, "rebalancing move refused by the vault");
                    report.reverts.push(revert.name);
                    break;
                }
                Submitted::Duplicate => {}
            }
        }
        Ok(())
    }
}
