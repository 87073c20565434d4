//! The business report: per invoice, what was advanced, paid, recovered and written off.

use alloy_primitives::U256;
use rust_decimal::Decimal;

use crate::csvout::{iso_utc, Chunks};
use crate::error::{Result, TaxError};
use crate::money::{cents, eth, fiat, wei_fiat};
use crate::source::InvoiceEvent;

/// Amount columns, in order.
const AMOUNTS: [&str; 7] = [
    "advance",
    "fee_paid",
    "late_fee_paid",
    "principal_repaid",
    "recovery_paid",
    "written_off_principal",
    "written_off_fee",
];

/// The business report's header: event columns, then each amount in ETH and in USD.
pub fn header() -> Vec<String> {
    let mut h: Vec<String> = [
        "date",
        "invoice_id",
        "invoice_number",
        "event",
        "tx_hash",
        "eth_usd",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for a in AMOUNTS {
        h.push(format!("{a}_eth"));
        h.push(format!("{a}_usd"));
    }
    h
}

/// Sums of the amount columns (fiat: sums of the rounded row figures, so totals add up).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// Wei per amount column.
    pub eth: [U256; 7],
    /// Fiat per amount column, rounded to the cent.
    pub fiat: [Decimal; 7],
}

impl Totals {
    fn add(&mut self, other: &Totals) {
        for i in 0..AMOUNTS.len() {
            self.eth[i] += other.eth[i];
            self.fiat[i] += other.fiat[i];
        }
    }
}

/// The amounts of one event (all zero for an unknown event name).
pub fn amounts(e: &InvoiceEvent) -> Result<Totals> {
    let mut wei = [U256::ZERO; 7];
    match e.name.as_str() {
        "InvoiceAdvanced" => wei[0] = e.principal.unwrap_or_default(),
        "InvoiceRepaid" => {
            wei[1] = e.fee_paid.unwrap_or_default();
            wei[2] = e.late_fee_paid.unwrap_or_default();
            wei[3] = e.principal_paid.unwrap_or_default();
        }
        "RecoveryReceived" => wei[4] = e.amount.unwrap_or_default(),
        "InvoiceWrittenOff" => {
            wei[5] = e.principal_lost.unwrap_or_default();
            wei[6] = e.fee_lost.unwrap_or_default();
        }
        _ => {}
    }
    let price = e.price.ok_or_else(|| TaxError::IncompleteIndex {
        block: e.block,
        reason: "no ETH/USD price recorded".to_owned(),
    })?;
    let mut fiat = [Decimal::ZERO; 7];
    for (f, w) in fiat.iter_mut().zip(wei) {
        *f = cents(wei_fiat(w, price).ok_or(TaxError::Overflow {
            block: e.block,
            what: "invoice amount",
        })?);
    }
    Ok(Totals { eth: wei, fiat })
}

fn event_label(name: &str) -> &str {
    match name {
        "InvoiceAdvanced" => "advance",
        "InvoiceRepaid" => "repayment",
        "RecoveryReceived" => "recovery",
        "InvoiceWrittenOff" => "write_off",
        other => other,
    }
}

/// Groups events by invoice (they arrive sorted by invoice, then chain order) and writes each
/// event, each invoice's total and the grand total.
#[derive(Debug, Default)]
pub(crate) struct BusinessWriter {
    current: Option<(String, Option<String>)>,
    invoice: Totals,
    all: Totals,
}

impl BusinessWriter {
    pub(crate) fn event(&mut self, out: &mut Chunks, e: &InvoiceEvent) -> Result<()> {
        let key = (e.invoice_id.clone(), e.invoice_number.clone());
        if self.current.as_ref().map(|c| &c.0) != Some(&key.0) {
            self.close_invoice(out)?;
            self.current = Some(key);
        }
        let t = amounts(e)?;
        let ts = e.timestamp.ok_or_else(|| TaxError::IncompleteIndex {
            block: e.block,
            reason: "no block timestamp recorded".to_owned(),
        })?;
        let mut row = vec![
            iso_utc(ts),
            e.invoice_id.clone(),
            e.invoice_number.clone().unwrap_or_default(),
            event_label(&e.name).to_owned(),
            e.tx_hash.clone(),
            e.price.map(|p| p.to_string()).unwrap_or_default(),
        ];
        push_amounts(&mut row, &t, true);
        out.row(&row)?;
        self.invoice.add(&t);
        Ok(())
    }

    fn close_invoice(&mut self, out: &mut Chunks) -> Result<()> {
        if let Some((id, number)) = self.current.take() {
            let mut row = vec![
                String::new(),
                id,
                number.unwrap_or_default(),
                "invoice_total".to_owned(),
                String::new(),
                String::new(),
            ];
            push_amounts(&mut row, &self.invoice, false);
            out.row(&row)?;
            let invoice = std::mem::take(&mut self.invoice);
            self.all.add(&invoice);
        }
        Ok(())
    }

    pub(crate) fn finish(&mut self, out: &mut Chunks) -> Result<()> {
        self.close_invoice(out)?;
        let mut row = vec![
            String::new(),
            String::new(),
            String::new(),
            "total".to_owned(),
            String::new(),
            String::new(),
        ];
        push_amounts(&mut row, &self.all, false);
        out.row(&row)
    }
}

/// Appends each amount as ETH and fiat; on event rows a zero is left blank.
fn push_amounts(row: &mut Vec<String>, t: &Totals, blank_zero: bool) {
    for i in 0..AMOUNTS.len() {
        if blank_zero && t.eth[i].is_zero() {
            row.push(String::new());
            row.push(String::new());
        } else {
            row.push(eth(t.eth[i]));
            row.push(fiat(t.fiat[i]));
        }
    }
}
