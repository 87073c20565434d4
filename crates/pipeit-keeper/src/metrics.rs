//! Prometheus metrics: ticks, lag behind head, pending transactions, keeper balance, decisions.

use std::net::SocketAddr;
use std::sync::Arc;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::{Error, TickReport};

/// The keeper's metrics. Cheap to clone (shared counters).
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    /// Ticks that completed.
    pub ticks_ok: Counter,
    /// Ticks that failed.
    pub ticks_failed: Counter,
    /// Ticks whose scoring and advances were blocked (oracle).
    pub ticks_blocked: Counter,
    /// Blocks between the head and the index checkpoint.
    pub lag_blocks: Gauge,
    /// Outbox entries waiting to be mined.
    pub pending_txs: Gauge,
    /// The keeper's balance, gwei.
    pub keeper_balance_gwei: Gauge,
    /// Invoices scored (any decision).
    pub scored: Counter,
    /// Invoices whose advance was mined.
    pub advanced: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every metric, prefixed `pipeit_keeper_`.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("pipeit_keeper");
        let m = Self {
            registry: Arc::new(Registry::default()),
            ticks_ok: Counter::default(),
            ticks_failed: Counter::default(),
            ticks_blocked: Counter::default(),
            lag_blocks: Gauge::default(),
            pending_txs: Gauge::default(),
            keeper_balance_gwei: Gauge::default(),
            scored: Counter::default(),
            advanced: Counter::default(),
        };
        registry.register("ticks_ok", "Ticks completed", m.ticks_ok.clone());
        registry.register("ticks_failed", "Ticks failed", m.ticks_failed.clone());
        registry.register(
            "ticks_blocked",
            "Ticks without scoring or advances (oracle not usable)",
            m.ticks_blocked.clone(),
        );
        registry.register(
            "lag_blocks",
            "Blocks between the chain head and the index",
            m.lag_blocks.clone(),
        );
        registry.register(
            "pending_txs",
            "Transactions recorded and not yet mined",
            m.pending_txs.clone(),
        );
        registry.register(
            "balance_gwei",
            "The keeper account's balance in gwei",
            m.keeper_balance_gwei.clone(),
        );
        registry.register("invoices_scored", "Invoices scored", m.scored.clone());
        registry.register(
            "invoices_advanced",
            "Invoices whose advance was mined",
            m.advanced.clone(),
        );
        Self {
            registry: Arc::new(registry),
            ..m
        }
    }

    pub(crate) fn record_tick(&self, report: Option<&TickReport>) {
        match report {
            Some(r) => {
                self.ticks_ok.inc();
                if r.blocked.is_some() {
                    self.ticks_blocked.inc();
                }
            }
            None => {
                self.ticks_failed.inc();
            }
        }
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }

    /// Serves `GET /metrics` on `addr` in the background.
    pub async fn serve(&self, addr: SocketAddr) -> Result<(), Error> {
        let metrics = self.clone();
        let app = axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let m = metrics.clone();
                async move {
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )],
                        m.render(),
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Error::Config(format!("metrics address {addr}: {e}")))?;
        tracing::info!(%addr, "metrics on /metrics");
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "metrics server stopped");
            }
        });
        Ok(())
    }
}
