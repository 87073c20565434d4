//! Scoring submitted invoices and sending the advances of accepted ones, in batches.

use std::collections::{BTreeSet, HashMap};

use alloy::primitives::{keccak256, Uint, B256};
use chrono::{DateTime, Utc};
use pipeit_chain::bindings::FactoringVault::AdvanceRequest;
use pipeit_core::pricing::{self, PriceObservation, Quote, QuoteInput};
use pipeit_core::scoring::{DebtorKey, Decision};
use pipeit_core::signal::MarketSignal;
use pipeit_db::{Invoice, InvoiceStatus, NewScore, OutboxEntry, OutboxStatus};
use rust_decimal::Decimal;
use serde_json::json;

use crate::chain::OnChain;
use crate::crash::{self, CrashPoint};
use crate::executor::{Settled, Submitted};
use crate::{Error, Keeper, TickReport};

/// Outbox kind of an advance batch.
pub(crate) const ADVANCE: &str = "advance";

impl Keeper {
    /// Quotes every `submitted` invoice; records the decision (accepted: `scored`; declined:
    /// `declined`; manual review: stays `submitted`, listed for a person). Returns this tick's quotes.
    pub(crate) async fn score_submitted(
        &mut self,
        price: &PriceObservation,
        signal: Option<&MarketSignal>,
        now: DateTime<Utc>,
        report: &mut TickReport,
    ) -> Result<HashMap<i64, Quote>, Error> {
        let mut quotes = HashMap::new();
        let reviews: BTreeSet<i64> = self.db.open_manual_reviews().await?.into_iter().collect();
        for invoice in self
            .db
            .list_invoices(None, Some(InvoiceStatus::Submitted))
            .await?
        {
            if reviews.contains(&invoice.id) {
                continue;
            }
            let quote = match self.quote(&invoice, price, signal, now, false).await? {
                Ok(q) => q,
                Err(e) => {
                    tracing::warn!(invoice = invoice.id, error = %e, "cannot quote; left submitted");
                    continue;
                }
            };
            match quote.decision() {
                Decision::ManualReview => {
                    let assessment = serde_json::to_value(&quote.assessment)
                        .map_err(|e| Error::Corrupt(e.to_string()))?;
                    self.db
                        .insert_manual_review(invoice.id, &assessment)
                        .await?;
                    report.manual_review += 1;
                    tracing::info!(
                        invoice = invoice.id,
                        score = quote.assessment.score,
                        "manual review"
                    );
                }
                Decision::Accept | Decision::Decline => {
                    self.db.record_score(&new_score(invoice.id, &quote)).await?;
                    if quote.decision() == Decision::Accept {
                        report.accepted += 1;
                        quotes.insert(invoice.id, quote);
                    } else {
                        report.declined += 1;
                        let why: Vec<&str> = quote
                            .reasons()
                            .iter()
                            .filter(|r| r.points < 0 || r.code.starts_with("ineligible_"))
                            .map(|r| r.text.as_str())
                            .collect();
                        tracing::info!(invoice = invoice.id, score = quote.assessment.score, reasons = ?why, "declined");
                    }
                }
            }
        }
        self.metrics
            .scored
            .inc_by(report.accepted + report.declined + report.manual_review);
        Ok(quotes)
    }

    /// The quote for a stored invoice now. `own_open`: the invoice is already `scored`, so the
    /// context counts it as open; take it out so it is not counted twice.
    async fn quote(
        &self,
        invoice: &Invoice,
        price: &PriceObservation,
        signal: Option<&MarketSignal>,
        now: DateTime<Utc>,
        own_open: bool,
    ) -> Result<Result<Quote, pricing::QuoteError>, Error> {
        let record = &invoice.record;
        let mut context = self
            .db
            .scoring_context(invoice.business_id, &DebtorKey::of(record), record.currency)
            .await?;
        if own_open {
            let less = |v: Decimal| (v - record.amount).max(Decimal::ZERO);
            context.business.open_exposure = less(context.business.open_exposure);
            context.business.open_invoices = context.business.open_invoices.saturating_sub(1);
            context.debtor.open_exposure = less(context.debtor.open_exposure);
            context.portfolio_open = less(context.portfolio_open);
        }
        Ok(pricing::quote(&QuoteInput {
            invoice: record.clone(),
            context,
            signal: signal.cloned(),
            price: *price,
            policy: self.config.policy.clone(),
            now,
        }))
    }

    /// Sends the advances of `scored` invoices that no live transaction carries, in batches of up
    /// to `batch_size`, each priced now (a fresh price, the current context).
    pub(crate) async fn advance_scored(
        &mut self,
        price: &PriceObservation,
        signal: Option<&MarketSignal>,
        now: DateTime<Utc>,
        mut quotes: HashMap<i64, Quote>,
        report: &mut TickReport,
    ) -> Result<(), Error> {
        let carried = self
            .invoices_in(&[OutboxStatus::Pending, OutboxStatus::Sent])
            .await?;
        let mut ready: Vec<(Invoice, Quote, alloy::primitives::Address)> = Vec::new();
        let mut payouts = HashMap::new();
        for invoice in self
            .db
            .list_invoices(None, Some(InvoiceStatus::Scored))
            .await?
        {
            if carried.contains(&invoice.id) {
                continue;
            }
            let quote = match quotes.remove(&invoice.id) {
                Some(q) => q,
                None => match self.quote(&invoice, price, signal, now, true).await? {
                    Ok(q) => q,
                    Err(e) => {
                        tracing::warn!(invoice = invoice.id, error = %e, "cannot price the advance; left scored");
                        continue;
                    }
                },
            };
            if quote.decision() == Decision::Decline {
                // Conditions changed since it was accepted (aged, exposure, ...): record why.
                self.db.record_score(&new_score(invoice.id, &quote)).await?;
                report.declined += 1;
                continue;
            }
            if quote.decision() == Decision::ManualReview || quote.terms.is_none() {
                tracing::info!(
                    invoice = invoice.id,
                    "no longer an automatic accept; left scored for a person"
                );
                continue;
            }
            let payout = match payouts.get(&invoice.business_id) {
                Some(p) => *p,
                None => {
                    let p = self
                        .db
                        .business(invoice.business_id)
                        .await?
                        .map(|b| b.payout_address)
                        .unwrap_or_default();
                    payouts.insert(invoice.business_id, p);
                    p
                }
            };
            if payout.is_zero() {
                tracing::warn!(
                    invoice = invoice.id,
                    business = invoice.business_id,
                    "the business has no proven payout address: not advanced"
                );
                continue;
            }
            ready.push((invoice, quote, payout));
        }
        let mut batches: std::collections::VecDeque<Vec<_>> = ready
            .chunks(self.config.batch_size)
            .map(<[_]>::to_vec)
            .collect();
        let mut sent_ids = Vec::new();
        let mut n = 0;
        while let Some(batch) = batches.pop_front() {
            if n > 0 {
                crash::point(CrashPoint::BetweenBatches);
            }
            n += 1;
            let mut requests = Vec::with_capacity(batch.len());
            let mut ids = Vec::with_capacity(batch.len());
            let mut key_material = Vec::new();
            for (invoice, quote, payout) in &batch {
                let Some(terms) = &quote.terms else { continue };
                let (Ok(principal), Ok(fee)) = (
                    u128::try_from(terms.advance_wei),
                    u128::try_from(terms.fee_wei),
                ) else {
                    tracing::warn!(
                        invoice = invoice.id,
                        "amounts do not fit the vault's uint128: skipped"
                    );
                    continue;
                };
                requests.push(AdvanceRequest {
                    id: invoice.canonical_id,
                    payout: *payout,
                    principal,
                    fee,
                    dueAt: Uint::<40, 1>::from(quote.due_at),
                    lateFeeBpsPerDay: terms.late_fee_bps_per_day,
                });
                ids.push(invoice.id);
                key_material.extend_from_slice(invoice.canonical_id.as_slice());
            }
            if requests.is_empty() {
                continue;
            }
            let key = format!("advance:{}", keccak256(&key_material));
            let count = requests.len() as u64;
            let call = self.chain.advance_call(requests);
            let extra = json!({ "invoices": ids, "price_answer": price.price.answer().to_string(), "price_updated_at": price.updated_at });
            match self.executor.submit(ADVANCE, &key, call, extra).await? {
                Submitted::Sent { id, hash } => {
                    tracing::info!(outbox = id, tx = %hash, invoices = count, "advance batch sent");
                    report.advance_batches += 1;
                    report.invoices_sent += count;
                    sent_ids.push(id);
                }
                Submitted::Refused { id, revert } => {
                    tracing::warn!(outbox = id, error = %revert.detail, "advance batch refused by the vault: not sent");
                    report.reverts.push(revert.name);
                    // The vault refuses a batch as a whole: one invoice it refuses must not hold
                    // the others back, so a refused batch is tried again one invoice at a time.
                    if batch.len() > 1 {
                        for single in batch.into_iter().rev() {
                            batches.push_front(vec![single]);
                        }
                    }
                }
                Submitted::Duplicate => {}
            }
        }
        if !sent_ids.is_empty() {
            let settled = self
                .executor
                .wait_settled(&sent_ids, self.config.receipt_timeout)
                .await?;
            self.apply_settled(&settled, report).await?;
        }
        Ok(())
    }

    /// Applies what reconciliation settled: mined advances mark their invoices advanced.
    pub(crate) async fn apply_settled(
        &mut self,
        settled: &[Settled],
        report: &mut TickReport,
    ) -> Result<(), Error> {
        for s in settled {
            if let Some(revert) = &s.revert {
                report.reverts.push(revert.name.clone());
            }
            if s.entry.kind != ADVANCE || s.entry.status != OutboxStatus::Mined {
                continue;
            }
            let Some(hash) = s.entry.tx_hash else {
                continue;
            };
            for id in invoice_ids(&s.entry) {
                if self.mark_advanced(id, hash).await? {
                    report.invoices_advanced += 1;
                }
            }
        }
        self.metrics.advanced.inc_by(report.invoices_advanced);
        Ok(())
    }

    /// Invoices still `scored` that an earlier transaction may have advanced (a crash between the
    /// send and the bookkeeping): the chain says, and the mined entry gives the hash.
    pub(crate) async fn recover_advances(&mut self, report: &mut TickReport) -> Result<(), Error> {
        let scored: BTreeSet<i64> = self
            .db
            .list_invoices(None, Some(InvoiceStatus::Scored))
            .await?
            .into_iter()
            .map(|i| i.id)
            .collect();
        if scored.is_empty() {
            return Ok(());
        }
        let live = self
            .invoices_in(&[OutboxStatus::Pending, OutboxStatus::Sent])
            .await?;
        let mut mined_hash: HashMap<i64, B256> = HashMap::new();
        let mut touched = BTreeSet::new();
        for status in [
            OutboxStatus::Mined,
            OutboxStatus::Failed,
            OutboxStatus::Replaced,
        ] {
            for entry in self.advance_entries(status).await? {
                for id in invoice_ids(&entry) {
                    touched.insert(id);
                    if status == OutboxStatus::Mined {
                        if let Some(h) = entry.tx_hash {
                            mined_hash.insert(id, h);
                        }
                    }
                }
            }
        }
        for id in scored.intersection(&touched) {
            if live.contains(id) {
                continue;
            }
            let Some(invoice) = self.db.invoice(*id).await? else {
                continue;
            };
            let (status, _) = self.chain.invoice(invoice.canonical_id).await?;
            if status == OnChain::None {
                continue; // lost or refused: it will be batched again
            }
            match mined_hash.get(id) {
                Some(hash) => {
                    if self.mark_advanced(*id, *hash).await? {
                        tracing::info!(invoice = id, "advance found on-chain after a restart");
                        report.invoices_advanced += 1;
                    }
                }
                None => {
                    // Financed on-chain, but by none of our transactions: the same invoice went
                    // through another keeper or database. Not ours to advance or to follow.
                    tracing::warn!(invoice = id, canonical_id = %invoice.canonical_id, "already financed on-chain by someone else: declined here");
                    self.db
                        .set_invoice_status(*id, InvoiceStatus::Declined)
                        .await?;
                    report.declined += 1;
                }
            }
        }
        Ok(())
    }

    async fn mark_advanced(&self, id: i64, hash: B256) -> Result<bool, Error> {
        match self.db.mark_invoice_advanced(id, hash).await {
            Ok(_) => Ok(true),
            // Already advanced (or moved on): nothing to do.
            Err(pipeit_db::Error::InvalidTransition { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn advance_entries(&self, status: OutboxStatus) -> Result<Vec<OutboxEntry>, Error> {
        Ok(self
            .db
            .outbox_list(status)
            .await?
            .into_iter()
            .filter(|e| e.kind == ADVANCE)
            .collect())
    }

    async fn invoices_in(&self, statuses: &[OutboxStatus]) -> Result<BTreeSet<i64>, Error> {
        let mut out = BTreeSet::new();
        for status in statuses {
            for entry in self.advance_entries(*status).await? {
                out.extend(invoice_ids(&entry));
            }
        }
        Ok(out)
    }
}

fn invoice_ids(entry: &OutboxEntry) -> Vec<i64> {
    entry.payload["extra"]["invoices"]
        .as_array()
        .map(|ids| ids.iter().filter_map(serde_json::Value::as_i64).collect())
        .unwrap_or_default()
}

fn new_score(invoice_id: i64, quote: &Quote) -> NewScore {
    let (advance_rate, fee_rate) = quote
        .terms
        .as_ref()
        .map_or((Decimal::ZERO, Decimal::ZERO), |t| {
            (t.advance_rate, t.fee_rate)
        });
    NewScore {
        invoice_id,
        model_version: quote.assessment.model_version.clone(),
        features: json!({
            "features": quote.assessment.features,
            "quote": {
                "eth_price": quote.eth_price,
                "price_updated_at": quote.price_updated_at,
                "terms": quote.terms,
                "due_at": quote.due_at,
            }
        }),
        score: quote.assessment.score,
        probability_of_default: quote.assessment.probability_of_default,
        advance_rate,
        fee_rate,
        accepted: quote.decision() == Decision::Accept,
        reasons: serde_json::to_value(&quote.assessment.reasons).unwrap_or_default(),
    }
}
