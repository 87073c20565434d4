//! `scripts/bench tax`: export PIPEIT_BENCH_ROWS (1,000,000) investor ledger rows to CSV, next to
//! `sqlite3 -csv` dumping the same rows (the report's own query) in the same run. Both run as child
//! processes under `/usr/bin/time` for wall time and peak memory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

#[path = "../tests/common/synth.rs"]
mod synth;

use std::process::Command;
use std::time::Instant;

use rust_decimal::Decimal;

use chrono::{TimeZone, Utc};
use futures_util::TryStreamExt;
use pipeit_db::{ChainContract, Db};
use std::io::Write;

/// Wall and CPU (user + system) seconds and peak RSS in KiB of `cmd`; seconds as `Decimal`
/// (`/usr/bin/time` prints them as decimal text).
fn measured(mut cmd: Command) -> (Decimal, Decimal, u64) {
    let report = tempfile::NamedTempFile::new().unwrap();
    let mut timed = Command::new("/usr/bin/time");
    timed
        .args(["-f", "%U %S %M", "-o"])
        .arg(report.path())
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            timed.env(k, v);
        }
    }
    timed.stdout(std::fs::File::create("/dev/null").unwrap());
    let start = Instant::now();
    let status = timed.status().unwrap();
    let secs = Decimal::from(start.elapsed().as_millis()) / Decimal::ONE_THOUSAND;
    assert!(status.success(), "{:?} failed", cmd.get_program());
    let text = std::fs::read_to_string(report.path()).unwrap();
    let fields: Vec<Decimal> = text
        .trim()
        .lines()
        .last()
        .unwrap()
        .split_whitespace()
        .map(|f| f.parse().unwrap())
        .collect();
    let _ = &mut cmd;
    let kib = u64::try_from(fields[2]).unwrap();
    (secs, fields[0] + fields[1], kib)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--export") {
        // The child: the report to stdout, as `pipeit tax investor --format ledger --out -` does.
        let db = Db::connect(&args[2]).await.unwrap();
        let at = ChainContract {
            chain_id: 8453,
            contract: synth::SYNTH_VAULT.parse().unwrap(),
        };
        let now = Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap();
        let req = pipeit_tax::InvestorReportRequest::parse(
            at,
            synth::SYNTH_INVESTOR,
            "2024",
            None,
            Some("ledger"),
            None,
            now,
        )
        .unwrap();
        let stream = pipeit_tax::investor_report(db, req);
        futures_util::pin_mut!(stream);
        let mut out = std::io::stdout().lock();
        while let Some(chunk) = stream.try_next().await.unwrap() {
            out.write_all(&chunk).unwrap();
        }
        return;
    }
    if args.get(1).map(String::as_str) == Some("--generate") {
        // For profiling: `bench_tax --generate FILE` then `bench_tax --export sqlite://FILE`.
        let db = Db::connect(&format!("sqlite://{}", args[2])).await.unwrap();
        synth::fill(&db, 1_000_000).await.unwrap();
        db.close().await;
        return;
    }
    let rows: u64 = std::env::var("PIPEIT_BENCH_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.db");
    let url = format!("sqlite://{}", path.display());
    let db = Db::connect(&url).await.unwrap();
    let t = Instant::now();
    synth::fill(&db, rows).await.unwrap();
    let sql = pipeit_tax::source::investor_sql(&db)
        .replace("$1", "8453")
        .replace("$2", &format!("'{}'", synth::SYNTH_VAULT))
        .replace("$3", &format!("'{}'", synth::SYNTH_INVESTOR))
        .replace(
            "$4",
            &Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
                .unwrap()
                .timestamp()
                .to_string(),
        );
    db.close().await;
    println!(
        "generated {rows} events in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let mut sqlite = Command::new("sqlite3");
    // A busy timeout: the generator's pool may still be letting go of the file.
    sqlite
        .args(["-csv", "-cmd", ".timeout 10000"])
        .arg(&path)
        .arg(&sql);
    let (base_s, base_cpu, base_kib) = measured(sqlite);
    let mut export = Command::new(std::env::current_exe().unwrap());
    export.arg("--export").arg(&url);
    let (ours_s, ours_cpu, ours_kib) = measured(export);
    println!(
        "{:<36} {:>9} {:>9} {:>12}",
        "", "wall s", "CPU s", "peak RSS"
    );
    for (name, wall, cpu, kib) in [
        (
            "sqlite3 -csv (same query, baseline)",
            base_s,
            base_cpu,
            base_kib,
        ),
        ("pipeit-tax ledger export", ours_s, ours_cpu, ours_kib),
    ] {
        println!(
            "{name:<36} {:>9} {:>9} {:>8} MiB",
            wall.round_dp(2),
            cpu.round_dp(2),
            kib >> 10
        );
    }
    println!(
        "ratio: {}x the sqlite3 wall time (target <= 1.5x), {}x its CPU time",
        (ours_s / base_s).round_dp(2),
        (ours_cpu / base_cpu).round_dp(2)
    );
}
