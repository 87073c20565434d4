//! Injected crash points, for the crash-safety tests: with `PIPEIT_KEEPER_CRASH_AT=<point>` (and
//! optionally `PIPEIT_KEEPER_CRASH_AFTER=<n>`, default 1) the keeper process SIGKILLs itself the
//! n-th time it reaches `<point>`. Unset (production), the check costs one atomic load.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Where the keeper can be told to die.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// An intent is recorded (pending) and the transaction not yet signed.
    AfterIntent,
    /// Signed and recorded as sent (nonce, hash), not yet broadcast: "after record, before send".
    BeforeBroadcast,
    /// Broadcast, not yet reconciled (mined? invoices marked?): "after send, before record".
    AfterBroadcast,
    /// Between two batches of one tick's advances: "in the middle of a batch run".
    BetweenBatches,
}

impl CrashPoint {
    fn name(self) -> &'static str {
        match self {
            CrashPoint::AfterIntent => "after_intent",
            CrashPoint::BeforeBroadcast => "before_broadcast",
            CrashPoint::AfterBroadcast => "after_broadcast",
            CrashPoint::BetweenBatches => "between_batches",
        }
    }
}

struct Plan {
    point: Option<String>,
    after: u64,
    hits: AtomicU64,
}

fn plan() -> &'static Plan {
    static PLAN: OnceLock<Plan> = OnceLock::new();
    PLAN.get_or_init(|| Plan {
        point: std::env::var("PIPEIT_KEEPER_CRASH_AT")
            .ok()
            .filter(|p| !p.is_empty()),
        after: std::env::var("PIPEIT_KEEPER_CRASH_AFTER")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(1),
        hits: AtomicU64::new(0),
    })
}

/// Dies here (SIGKILL, no cleanup, no flush) if this point was asked for.
pub fn point(at: CrashPoint) {
    let plan = plan();
    if plan.point.as_deref() != Some(at.name()) {
        return;
    }
    let n = plan.hits.fetch_add(1, Ordering::SeqCst) + 1;
    if n < plan.after {
        return;
    }
    tracing::warn!(point = at.name(), "injected crash: SIGKILL");
    let pid = std::process::id().to_string();
    // A real SIGKILL, as an operator's `kill -9` or the OOM killer would send it.
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &pid])
        .status();
    // `kill` may take a moment to land; never carry on past the point.
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}
