//! Fixtures: a fresh database per test on each back-end, and sample rows.
//!
//! SQLite: a file in a temporary directory. PostgreSQL: `CREATE DATABASE t_<unique>` on the server
//! of `PIPEIT_TEST_PG_URL`, dropped when the test ends (even when it fails), so tests run in
//! parallel. Without `PIPEIT_TEST_PG_URL` the PostgreSQL tests fail with the way to set it, unless
//! `PIPEIT_SKIP_PG=1` says to skip them.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use alloy_primitives::{Address, B256, U256};
use chrono::NaiveDate;
use pipeit_core::{Currency, InvoiceRecord};
use pipeit_db::scratch::ScratchDatabase;
use pipeit_db::{ChainContract, Db, VaultEvent};
use rust_decimal_macros::dec;

pub const PG_URL_VAR: &str = "PIPEIT_TEST_PG_URL";
pub const SKIP_PG_VAR: &str = "PIPEIT_SKIP_PG";

/// Runs each listed `async fn name(t: &TestDb)` of the enclosing file once per back-end, as
/// `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let t = $crate::common::TestDb::sqlite().await;
                    super::$name(&t).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(t) = $crate::common::TestDb::postgres().await else { return };
                    super::$name(&t).await;
                }
            )*
        }
    };
}

/// A fresh, migrated database that is deleted afterwards.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(#[allow(dead_code)] ScratchDatabase),
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("pipeit.db").display());
        let db = Db::connect(&url).await.expect("open SQLite test database");
        TestDb {
            db,
            url,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// `None` only when PostgreSQL is skipped explicitly.
    pub async fn postgres() -> Option<TestDb> {
        let Some(admin_url) = std::env::var(PG_URL_VAR).ok().filter(|u| !u.is_empty()) else {
            if std::env::var(SKIP_PG_VAR).as_deref() == Ok("1") {
                eprintln!("PostgreSQL test skipped: {SKIP_PG_VAR}=1");
                return None;
            }
            panic!(
                "{PG_URL_VAR} is not set, so the PostgreSQL half of this suite cannot run. Start a \
                 throwaway server and point the tests at it:\n  scripts/pg-test-cluster start\n  \
                 {PG_URL_VAR}=$(scripts/pg-test-cluster url) cargo test -p pipeit-db\n  \
                 scripts/pg-test-cluster stop\nor set {SKIP_PG_VAR}=1 to skip PostgreSQL on purpose."
            );
        };
        let scratch = ScratchDatabase::create(&admin_url, "t")
            .await
            .unwrap_or_else(|e| panic!("{PG_URL_VAR}={admin_url}: cannot create a database: {e}"));
        let url = scratch.url.clone();
        let db = Db::connect(&url)
            .await
            .expect("open PostgreSQL test database");
        Some(TestDb {
            db,
            url,
            cleanup: Cleanup::Postgres(scratch),
        })
    }

    /// Records a migration this build does not have, as a newer pipeit would have.
    pub async fn fake_applied_migration(&self, version: i64) {
        const SQL: &str = "INSERT INTO _sqlx_migrations \
             (version, description, success, checksum, execution_time) VALUES ($1, $2, $3, $4, $5)";
        let description = "from a newer pipeit";
        let checksum = vec![0_u8; 48];
        match &self.db {
            Db::Sqlite(pool) => sqlx::query(SQL)
                .bind(version)
                .bind(description)
                .bind(true)
                .bind(checksum)
                .bind(0_i64)
                .execute(pool)
                .await
                .map(drop),
            Db::Postgres(pool) => sqlx::query(SQL)
                .bind(version)
                .bind(description)
                .bind(true)
                .bind(checksum)
                .bind(0_i64)
                .execute(pool)
                .await
                .map(drop),
        }
        .expect("insert a fake migration");
    }

    /// The first column of every row of `sql`, as text (`NULL` → `None`).
    pub async fn texts(&self, sql: &str) -> Vec<Option<String>> {
        match &self.db {
            Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
            Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
        }
        .expect(sql)
    }

    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        match &self.db {
            Db::Sqlite(pool) => sqlx::query_scalar(&sql).fetch_one(pool).await,
            Db::Postgres(pool) => sqlx::query_scalar(&sql).fetch_one(pool).await,
        }
        .expect(&sql)
    }
}

// ---- sample rows ----

pub fn at() -> ChainContract {
    ChainContract {
        chain_id: 31337,
        contract: Address::repeat_byte(0xaa),
    }
}

/// A distinct, recognisable hash for `n`.
pub fn hash(n: u64) -> B256 {
    B256::from(U256::from(n) | (U256::from(0xbeef_u64) << 200))
}

pub fn event(block: u64, tx: u64, log_index: u64) -> VaultEvent {
    VaultEvent {
        block_number: block,
        block_hash: hash(block),
        tx_hash: hash(1_000_000 + tx),
        log_index,
        name: "Deposit".to_owned(),
        fields: serde_json::json!({
            "sender": format!("{:#x}", Address::repeat_byte(0x11)),
            "assets": "1000000000000000000",
        }),
        invoice_id: None,
        account: Some(Address::repeat_byte(0x11)),
        shares: Some(U256::from(1_000u64) * U256::from(10u64).pow(U256::from(21u64))),
        assets: Some(U256::from(10u64).pow(U256::from(18u64))),
    }
}

pub fn invoice_record(number: &str) -> InvoiceRecord {
    InvoiceRecord {
        debtor_name: "Acme GmbH".to_owned(),
        debtor_tax_id: "DE 123.456-789".to_owned(),
        debtor_country: "DE".to_owned(),
        invoice_number: number.to_owned(),
        currency: Currency::Eur,
        amount: dec!(1234.50),
        issue_date: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        due_date: NaiveDate::from_ymd_opt(2026, 4, 30).unwrap(),
        document_hash: Some(hash(42)),
    }
}
