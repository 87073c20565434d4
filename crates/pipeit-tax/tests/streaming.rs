//! Memory stays flat however many rows: 1,000,000 indexed events exported as a ledger by a child
//! process, whose peak resident memory (VmHWM, read by the child itself at the end) must stay far
//! below the size of what it wrote. Buffering the rows or the output would show as hundreds of MB.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

#[path = "common/synth.rs"]
mod synth;

use std::io::Write;

use chrono::{TimeZone, Utc};
use futures_util::TryStreamExt;
use pipeit_db::{ChainContract, Db};
use pipeit_tax::{investor_report, InvestorReportRequest};

const ROWS: u64 = 1_000_000;
const CHILD: &str = "PIPEIT_TAX_STREAMING_CHILD_DB";

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// In the child: export the ledger to /dev/null, print rows, bytes and peak memory.
async fn export(url: &str) {
    let db = Db::connect(url).await.unwrap();
    let at = ChainContract {
        chain_id: 8453,
        contract: synth::SYNTH_VAULT.parse().unwrap(),
    };
    let now = Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap();
    let req = InvestorReportRequest::parse(
        at,
        synth::SYNTH_INVESTOR,
        "2024",
        None,
        Some("ledger"),
        None,
        now,
    )
    .unwrap();
    let mut sink = std::io::sink();
    let (mut bytes, mut lines) = (0usize, 0usize);
    let stream = investor_report(db, req);
    futures_util::pin_mut!(stream);
    while let Some(chunk) = stream.try_next().await.unwrap() {
        bytes += chunk.len();
        lines += chunk.iter().filter(|b| **b == b'\n').count();
        sink.write_all(&chunk).unwrap();
    }
    println!(
        "RESULT lines={lines} bytes={bytes} peak_kib={}",
        peak_rss_kib()
    );
}

#[tokio::test]
async fn a_million_rows_stream_in_flat_memory() {
    if let Ok(url) = std::env::var(CHILD) {
        export(&url).await;
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("million.db").display());
    let db = Db::connect(&url).await.unwrap();
    synth::fill(&db, ROWS).await.unwrap();
    db.close().await;

    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_million_rows_stream_in_flat_memory",
            "--nocapture",
        ])
        .env(CHILD, &url)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result = stdout
        .lines()
        .find(|l| l.starts_with("RESULT"))
        .expect("a RESULT line");
    let field = |name: &str| -> u64 {
        result
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .unwrap()
            .parse()
            .unwrap()
    };
    let (lines, bytes, peak_kib) = (field("lines"), field("bytes"), field("peak_kib"));
    println!(
        "{ROWS} events: {lines} lines, {} MiB written, peak RSS {} MiB",
        bytes >> 20,
        peak_kib >> 10
    );
    assert_eq!(
        lines,
        ROWS + 1,
        "every event is a ledger row, plus the header"
    );
    assert!(bytes > 250 << 20, "the export is large: {bytes} bytes");
    // The child's whole process (runtime, SQLite page cache, one chunk) stays under 64 MiB while it
    // writes over 250 MiB: nothing is held back.
    assert!(
        peak_kib < 64 << 10,
        "peak RSS {peak_kib} KiB for {bytes} bytes written"
    );
}
