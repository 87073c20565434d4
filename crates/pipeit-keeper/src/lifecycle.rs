//! After the advance: repayments and write-offs seen on-chain become outcomes (which teach the next
//! scores); due dates make invoices overdue; past the grace period the keeper writes them off;
//! `settle()` when a due date passed; the redemption queue is filled when liquidity allows.

use chrono::{DateTime, Utc};
use pipeit_core::fees::late_days;
use pipeit_db::keeper::Outcome;
use pipeit_db::{InvoiceStatus, OutboxStatus};
use serde_json::json;

use crate::chain::OnChain;
use crate::executor::Submitted;
use crate::{Error, Keeper, TickReport};

/// Requests filled per `processQueue` call.
const QUEUE_BATCH: u64 = 50;

impl Keeper {
    /// Follows `advanced` and `overdue` invoices on-chain.
    pub(crate) async fn follow_invoices(
        &mut self,
        now: DateTime<Utc>,
        report: &mut TickReport,
    ) -> Result<(), Error> {
        let now_secs = u64::try_from(now.timestamp()).unwrap_or(0);
        let mut open = self
            .db
            .list_invoices(None, Some(InvoiceStatus::Advanced))
            .await?;
        open.extend(
            self.db
                .list_invoices(None, Some(InvoiceStatus::Overdue))
                .await?,
        );
        let repaid_or_off = self.closed_since_last_look().await?;
        for invoice in open {
            let due = invoice.record.due_at().unwrap_or(u64::MAX);
            // Only invoices with news (an indexed repayment or write-off) or past their due date
            // need a read: the rest cannot have changed in a way the keeper acts on.
            if !repaid_or_off.contains(&invoice.canonical_id) && now_secs < due {
                continue;
            }
            let (status, _) = self.chain.invoice(invoice.canonical_id).await?;
            match status {
                OnChain::Repaid => {
                    let late_fee = self.chain.late_fee_paid(invoice.canonical_id).await?;
                    let (outcome, days) = if late_fee.is_zero() && now_secs <= due {
                        (Outcome::OnTime, 0)
                    } else if late_fee.is_zero() {
                        // Repaid before the due date, seen later (no late fee was charged).
                        (Outcome::OnTime, 0)
                    } else {
                        (
                            Outcome::Late,
                            u32::try_from(late_days(due, now_secs)).unwrap_or(u32::MAX),
                        )
                    };
                    self.db
                        .set_invoice_status(invoice.id, InvoiceStatus::Repaid)
                        .await?;
                    self.db.record_outcome(invoice.id, outcome, days).await?;
                    report.repaid += 1;
                    tracing::info!(invoice = invoice.id, %outcome, "repaid");
                }
                OnChain::WrittenOff => {
                    self.db
                        .set_invoice_status(invoice.id, InvoiceStatus::WrittenOff)
                        .await?;
                    let days = u32::try_from(late_days(due, now_secs)).unwrap_or(u32::MAX);
                    self.db
                        .record_outcome(invoice.id, Outcome::Defaulted, days)
                        .await?;
                    report.written_off += 1;
                    tracing::info!(invoice = invoice.id, "written off");
                }
                OnChain::Performing if now_secs >= due => {
                    if invoice.status == InvoiceStatus::Advanced {
                        self.db
                            .set_invoice_status(invoice.id, InvoiceStatus::Overdue)
                            .await?;
                        report.overdue += 1;
                    }
                    let allowed_at = self.chain.keeper_write_off_at(invoice.canonical_id).await?;
                    if now_secs >= allowed_at {
                        let key = format!("write_off:{}", invoice.canonical_id);
                        let call = self.chain.write_off_call(invoice.canonical_id);
                        match self
                            .executor
                            .submit("write_off", &key, call, json!({ "invoices": [invoice.id] }))
                            .await?
                        {
                            Submitted::Sent { .. } => report.write_offs_sent += 1,
                            Submitted::Refused { revert, .. } => report.reverts.push(revert.name),
                            Submitted::Duplicate => {}
                        }
                    }
                }
                OnChain::Performing | OnChain::None => {}
            }
        }
        Ok(())
    }

    /// Invoice ids with an indexed repayment or write-off since the last look (a cursor in the
    /// keeper state, so each event is looked at once).
    async fn closed_since_last_look(
        &self,
    ) -> Result<std::collections::BTreeSet<alloy::primitives::B256>, Error> {
        const CURSOR: &str = "lifecycle:next_block";
        let at = self.indexer.chain_contract();
        let from: u64 = self
            .db
            .keeper_state(CURSOR)
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let Some(checkpoint) = self.db.checkpoint(at).await? else {
            return Ok(Default::default());
        };
        if checkpoint.block_number < from {
            return Ok(Default::default());
        }
        let events = self
            .db
            .events_between(at, from, checkpoint.block_number)
            .await?;
        let ids = events
            .into_iter()
            .filter(|e| {
                matches!(
                    e.name.as_str(),
                    "InvoiceRepaid" | "InvoiceWrittenOff" | "RecoveryReceived"
                )
            })
            .filter_map(|e| e.invoice_id)
            .collect();
        // The cursor moves now; should the tick fail before the invoices are handled, each of them
        // is still read at its due date (every open invoice past due is read each tick), so an
        // event is never lost, only noticed later.
        self.db
            .set_keeper_state(CURSOR, &(checkpoint.block_number + 1).to_string())
            .await?;
        Ok(ids)
    }

    /// `settle()` when a due date passed; `processQueue` when requests can be filled.
    pub(crate) async fn settle_and_queue(
        &mut self,
        now: DateTime<Utc>,
        report: &mut TickReport,
    ) -> Result<(), Error> {
        let from = self.executor.from();
        let live =
            |kind: &str, entries: &[pipeit_db::OutboxEntry]| entries.iter().any(|e| e.kind == kind);
        let mut live_entries = self.db.outbox_list(OutboxStatus::Sent).await?;
        live_entries.extend(self.db.outbox_pending().await?);
        if !live(SETTLE, &live_entries) && self.chain.settlement_due().await? {
            let key = format!("settle:{}", now.timestamp() / 86_400);
            let call = self.chain.settle_call();
            match self.executor.submit(SETTLE, &key, call, json!({})).await? {
                Submitted::Sent { .. } => report.settled = true,
                Submitted::Refused { revert, .. } => report.reverts.push(revert.name),
                Submitted::Duplicate => {}
            }
        }
        if live(QUEUE, &live_entries) {
            return Ok(());
        }
        let (head, next, queued) = self.chain.queue().await?;
        if queued.is_zero() || head >= next {
            return Ok(());
        }
        let fillable = self.chain.queue_fillable(from, QUEUE_BATCH).await?;
        if fillable == 0 {
            return Ok(());
        }
        let key = format!("process_queue:{head}:{}", now.timestamp());
        let call = self.chain.process_queue_call(QUEUE_BATCH);
        match self
            .executor
            .submit(QUEUE, &key, call, json!({ "fillable": fillable }))
            .await?
        {
            Submitted::Sent { id, .. } => {
                report.queue_processed = true;
                let settled = self
                    .executor
                    .wait_settled(&[id], self.config.receipt_timeout)
                    .await?;
                self.apply_settled(&settled, report).await?;
                tracing::info!(fillable, "redemption queue processed");
            }
            Submitted::Refused { revert, .. } => report.reverts.push(revert.name),
            Submitted::Duplicate => {}
        }
        Ok(())
    }
}

const SETTLE: &str = "settle";
const QUEUE: &str = "process_queue";
