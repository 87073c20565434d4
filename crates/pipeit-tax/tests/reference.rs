//! Reference scenario with hand-computed results (see the comments): several deposits at
//! different share prices, partial redemptions, share transfers between wallets, a queue claim
//! and a write-off in the year; FIFO, LIFO and HIFO give different gains, each checked to the cent,
//! through the whole path (rows in SQLite and PostgreSQL → stream → CSV).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{TimeZone, Utc};
use common::*;
use pipeit_db::Db;
use pipeit_tax::{investor_report, InvestorReportRequest};

/// The wallet ME (gas 0.01 ETH = $20 on lot 1, etc.). Lots:
///   1  2024-01-10 deposit 10 ETH → 10 sh, gas 0.01, $2000   basis 10.01 ETH  $20,020.00 ($2002/sh)
///   2  2024-06-01 deposit  6 ETH →  5 sh, $3000 (gas paid by another wallet) 6 ETH $18,000 ($3600/sh)
///   3  2025-02-01 deposit 5.5 ETH → 5 sh, gas 0.005, $2500   5.505 ETH $13,762.50 ($2752.50/sh)
///   4  2025-03-01 2 sh in from OTHER at 1.3 ETH/sh, $2400     2.6 ETH  $6,240.00 ($3120/sh)
///   5  2025-06-10 deposit 3 ETH → 3 sh, $1500                  3 ETH    $4,500.00 ($1500/sh)
/// Disposals:
///   A  2025-04-01 withdraw 6 sh for 7.8 ETH, gas 0.002 → 7.798 ETH × $2500 = $19,495.00
///   B  2025-05-01 3 sh out to OTHER at 1.4 ETH/sh = 4.2 ETH, gas 0.001 → 4.199 × $3000 = $12,597.00
///   C  2025-06-01 queue request of 2 sh (gas 0.001), filled 06-02 for 2.8 ETH, claimed 06-03
///      (gas 0.0005) → 2.8 − 0.0015 = 2.7985 ETH × $3500 = $9,794.75
///   D  2025-07-01 withdraw 1 sh for 0.9 ETH after a write-off (06-20), $2000 → $1,800.00
fn scenario() -> Vec<Step> {
    vec![
        Step::new(1, ts(2024, 1, 10), "2000")
            .deposit(ME, wei("10"), sh("10"))
            .gas(ME, "0.01"),
        Step::new(2, ts(2024, 6, 1), "3000")
            .deposit(ME, wei("6"), sh("5"))
            .gas(OTHER, "0.02"),
        Step::new(3, ts(2024, 8, 1), "2600").deposit(OTHER, wei("20"), sh("17")),
        Step::new(4, ts(2025, 2, 1), "2500")
            .deposit(ME, wei("5.5"), sh("5"))
            .gas(ME, "0.005"),
        Step::new(5, ts(2025, 3, 1), "2400")
            .share_price("1.3")
            .transfer(OTHER, ME, sh("2"))
            .gas(OTHER, "0.003"),
        Step::new(6, ts(2025, 4, 1), "2500")
            .withdraw(ME, wei("7.8"), sh("6"))
            .gas(ME, "0.002"),
        Step::new(7, ts(2025, 5, 1), "3000")
            .share_price("1.4")
            .transfer(ME, OTHER, sh("3"))
            .gas(ME, "0.001"),
        Step::new(8, ts(2025, 6, 1), "3400")
            .request(ME, 7, sh("2"))
            .gas(ME, "0.001"),
        Step::new(9, ts(2025, 6, 1) + 60, "3400")
            .request(OTHER, 8, sh("1"))
            .gas(OTHER, "0.001"),
        Step::new(10, ts(2025, 6, 2), "3450")
            .fill(7, sh("2"), wei("2.8"))
            .fill(8, sh("1"), wei("1.4")),
        Step::new(11, ts(2025, 6, 3), "3500")
            .claim(ME, 7, wei("2.8"))
            .gas(ME, "0.0005"),
        Step::new(12, ts(2025, 6, 10), "1500")
            .deposit(ME, wei("3"), sh("3"))
            .gas(OTHER, "0.001"),
        Step::new(13, ts(2025, 6, 20), "1900").write_off(wei("5")),
        Step::new(14, ts(2025, 7, 1), "2000")
            .withdraw(ME, wei("0.9"), sh("1"))
            .gas(OTHER, "0.001"),
        Step::new(15, ts(2026, 1, 5), "2000")
            .withdraw(ME, wei("0.9"), sh("1"))
            .gas(ME, "0.001"),
    ]
}

const HEADER: &str =
    "Part,(a) Description of property,(b) Date acquired,(c) Date sold or disposed of,\
(d) Proceeds,(e) Cost or other basis,(f) Code(s),(g) Amount of adjustment,(h) Gain or (loss)\n";

fn row(part: &str, shares: &str, acquired: &str, sold: &str, d: &str, e: &str, h: &str) -> String {
    let part = if part == "I" {
        "I (short-term)"
    } else {
        "II (long-term)"
    };
    format!("{part},{shares} pfETH (pipeit vault shares),{acquired},{sold},{d},{e},,,{h}\n")
}

fn totals(part: &str, d: &str, e: &str, h: &str) -> String {
    let part = if part == "I" {
        "I (short-term)"
    } else {
        "II (long-term)"
    };
    format!("{part},Totals,,,{d},{e},,,{h}\n")
}

/// FIFO: every disposal comes from lots 1 and 2, held over a year.
///   A lot 1 6/10: basis 6.006 ETH $12,012.00 → 19,495.00 − 12,012.00 = 7,483.00 long
///   B lot 1 3/4 of what is left (4 sh, $8,008): $6,006.00 → 12,597.00 − 6,006.00 = 6,591.00 long
///   C locks lot 1 (1 sh, $2,002) + lot 2 1 sh ($3,600); proceeds split 1:1 = 4,897.375 → 4,897.38
///     each: 2,895.38 and 1,297.38, both long (lot 2: 2024-06-01 → 2025-06-03, past the anniversary)
///   D lot 2 1 sh $3,600: 1,800.00 − 3,600.00 = −1,800.00 long
fn fifo() -> String {
    [
        HEADER.to_owned(),
        totals("I", "0.00", "0.00", "0.00"),
        row(
            "II",
            "6.000000000000000000000",
            "2024-01-10",
            "2025-04-01",
            "19495.00",
            "12012.00",
            "7483.00",
        ),
        row(
            "II",
            "3.000000000000000000000",
            "2024-01-10",
            "2025-05-01",
            "12597.00",
            "6006.00",
            "6591.00",
        ),
        row(
            "II",
            "1.000000000000000000000",
            "2024-01-10",
            "2025-06-03",
            "4897.38",
            "2002.00",
            "2895.38",
        ),
        row(
            "II",
            "1.000000000000000000000",
            "2024-06-01",
            "2025-06-03",
            "4897.38",
            "3600.00",
            "1297.38",
        ),
        row(
            "II",
            "1.000000000000000000000",
            "2024-06-01",
            "2025-07-01",
            "1800.00",
            "3600.00",
            "-1800.00",
        ),
        totals("II", "43686.76", "27220.00", "16466.76"),
    ]
    .concat()
}

/// LIFO:
///   A lot 4 (2 sh) then lot 3 4/5: proceeds 2/6 = 6,498.333… → 6,498.33 and the rest 12,996.67;
///     basis $6,240.00 and $11,010.00 → 258.33 and 1,986.67 short
///   B lot 3 (1 sh, $2,752.50) then lot 2 2/5 ($7,200): 1/3 of 12,597 = 4,199.00 and 8,398.00 →
///     1,446.50 and 1,198.00 short (lot 2 2024-06-01 → 2025-05-01: not past the anniversary)
///   C locks lot 2 2 sh ($7,200): 9,794.75 − 7,200.00 = 2,594.75 long
///   D lot 5 1 sh ($1,500): 1,800.00 − 1,500.00 = 300.00 short
fn lifo() -> String {
    [
        HEADER.to_owned(),
        row(
            "I",
            "2.000000000000000000000",
            "2025-03-01",
            "2025-04-01",
            "6498.33",
            "6240.00",
            "258.33",
        ),
        row(
            "I",
            "4.000000000000000000000",
            "2025-02-01",
            "2025-04-01",
            "12996.67",
            "11010.00",
            "1986.67",
        ),
        row(
            "I",
            "1.000000000000000000000",
            "2025-02-01",
            "2025-05-01",
            "4199.00",
            "2752.50",
            "1446.50",
        ),
        row(
            "I",
            "2.000000000000000000000",
            "2024-06-01",
            "2025-05-01",
            "8398.00",
            "7200.00",
            "1198.00",
        ),
        row(
            "I",
            "1.000000000000000000000",
            "2025-06-10",
            "2025-07-01",
            "1800.00",
            "1500.00",
            "300.00",
        ),
        totals("I", "33892.00", "28702.50", "5189.50"),
        row(
            "II",
            "2.000000000000000000000",
            "2024-06-01",
            "2025-06-03",
            "9794.75",
            "7200.00",
            "2594.75",
        ),
        totals("II", "9794.75", "7200.00", "2594.75"),
    ]
    .concat()
}

/// HIFO (highest $/share first: lot 2 $3,600, lot 4 $3,120, lot 3 $2,752.50, lot 1 $2,002, lot 5 $1,500):
///   A lot 2 (5 sh, $18,000) then lot 4 1/2 ($3,120): 5/6 of 19,495 = 16,245.83, rest 3,249.17 →
///     −1,754.17 and 129.17 short
///   B lot 4 (1 sh, $3,120) then lot 3 2/5 ($5,505): 4,199.00 and 8,398.00 → 1,079.00 and 2,893.00
///   C locks lot 3 2 of its 3 sh ($5,505.00): 9,794.75 − 5,505.00 = 4,289.75 short
///   D lot 3 1 sh ($2,752.50): 1,800.00 − 2,752.50 = −952.50 short
fn hifo() -> String {
    [
        HEADER.to_owned(),
        row(
            "I",
            "5.000000000000000000000",
            "2024-06-01",
            "2025-04-01",
            "16245.83",
            "18000.00",
            "-1754.17",
        ),
        row(
            "I",
            "1.000000000000000000000",
            "2025-03-01",
            "2025-04-01",
            "3249.17",
            "3120.00",
            "129.17",
        ),
        row(
            "I",
            "1.000000000000000000000",
            "2025-03-01",
            "2025-05-01",
            "4199.00",
            "3120.00",
            "1079.00",
        ),
        row(
            "I",
            "2.000000000000000000000",
            "2025-02-01",
            "2025-05-01",
            "8398.00",
            "5505.00",
            "2893.00",
        ),
        row(
            "I",
            "2.000000000000000000000",
            "2025-02-01",
            "2025-06-03",
            "9794.75",
            "5505.00",
            "4289.75",
        ),
        row(
            "I",
            "1.000000000000000000000",
            "2025-02-01",
            "2025-07-01",
            "1800.00",
            "2752.50",
            "-952.50",
        ),
        totals("I", "43686.75", "38002.50", "5684.25"),
        totals("II", "0.00", "0.00", "0.00"),
    ]
    .concat()
}

fn request(method: &str, format: &str, year: &str) -> InvestorReportRequest {
    let now = Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap();
    InvestorReportRequest::parse(
        at(),
        &format!("{ME:#x}"),
        year,
        Some(method),
        Some(format),
        None,
        now,
    )
    .unwrap()
}

async fn report(db: &Db, method: &str, format: &str, year: &str) -> String {
    collect(investor_report(db.clone(), request(method, format, year)))
        .await
        .unwrap()
}

async fn check_all(db: &Db) {
    store(db, &scenario()).await;
    assert_eq!(report(db, "fifo", "8949", "2025").await, fifo(), "FIFO");
    assert_eq!(report(db, "lifo", "8949", "2025").await, lifo(), "LIFO");
    assert_eq!(report(db, "hifo", "8949", "2025").await, hifo(), "HIFO");

    // Koinly: the universal header exactly, one row per acquisition and disposal of 2025 (lots 3,
    // 4, 5; disposals A, B, C, D), the queue request and fill are not trades.
    let koinly = report(db, "fifo", "koinly", "2025").await;
    let mut lines = koinly.lines();
    assert_eq!(
        lines.next().unwrap(),
        "Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,\
         Net Worth Amount,Net Worth Currency,Label,Description,TxHash"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 7, "{koinly}");
    assert!(rows[0].starts_with("2025-02-01T12:00:00Z,5.500000000000000000,ETH,5.000000000000000000000,pfETH,0.005000000000000000,ETH,13750.00,USD,,pipeit vault deposit,0x"), "{}", rows[0]);
    assert!(rows[3].starts_with("2025-05-01T12:00:00Z,3.000000000000000000000,pfETH,,,0.001000000000000000,ETH,12600.00,USD,,pipeit vault shares sent to 0xb2b2"), "{}", rows[3]);
    assert!(rows[4].starts_with("2025-06-03T12:00:00Z,2.000000000000000000000,pfETH,2.800000000000000000,ETH,0.001500000000000000,ETH,9800.00,USD,,pipeit vault redemption (queue claim)"), "{}", rows[4]);

    // Ledger: lots opened and closed with ETH figures; the claim's gas includes the request's.
    let ledger = report(db, "fifo", "ledger", "2025").await;
    let claim: Vec<&str> = ledger
        .lines()
        .filter(|l| l.contains(",queue_claim,"))
        .collect();
    assert_eq!(claim.len(), 2, "{ledger}");
    assert!(claim[0].contains(",2.000000000000000000000,2.800000000000000000,0.001500000000000000,3500,9800.00,1,2024-01-10T12:00:00Z,1.000000000000000000000,1.001000000000000000,2002.00,1.399250000000000000,4897.38,0.398250000000000000,2895.38,long"), "{}", claim[0]);
    assert!(
        ledger
            .lines()
            .any(|l| l.contains(",queue_request,,7,2.000000000000000000000,")),
        "{ledger}"
    );
    assert!(
        !ledger.contains("2026-"),
        "rows after the year are left out"
    );

    // A year with no activity: the header only (and zero totals for Form 8949).
    assert_eq!(
        report(db, "fifo", "ledger", "2023").await.lines().count(),
        1
    );
    assert_eq!(
        report(db, "fifo", "8949", "2023").await,
        [
            HEADER.to_owned(),
            totals("I", "0.00", "0.00", "0.00"),
            totals("II", "0.00", "0.00", "0.00")
        ]
        .concat()
    );

    // An address the index never saw is an error naming the address, before any byte.
    let now = Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap();
    let stranger = InvestorReportRequest::parse(
        at(),
        "0x00000000000000000000000000000000000000c3",
        "2025",
        None,
        None,
        None,
        now,
    )
    .unwrap();
    let err = collect(investor_report(db.clone(), stranger))
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("address"), "{err}");
}

#[tokio::test]
async fn reference_gains_sqlite() {
    let (db, _dir) = sqlite().await;
    check_all(&db).await;
}

#[tokio::test]
async fn reference_gains_postgres() {
    let Some((db, _scratch)) = postgres().await else {
        return;
    };
    check_all(&db).await;
}
