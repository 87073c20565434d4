//! `pipeit tax investor|business|vault`: CSV tax reports from the index (crate pipeit-tax).
//!
//! The report streams chunk by chunk to stdout (`--out -`, the default) or to a file. A file is
//! written under a temporary name next to it and renamed at the end, so a failed report leaves
//! nothing half-written; bad input (an unknown method, a year in the future, an unknown address)
//! fails before anything is written.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::Utc;
use clap::{Args, Subcommand};
use eyre::WrapErr;
use futures_util::{Stream, TryStreamExt};
use pipeit_db::{ChainContract, Db};
use pipeit_tax::{BusinessReportRequest, InvestorReportRequest, TaxError, VaultReportRequest};

use crate::config::Config;

/// `pipeit tax …`
#[derive(Debug, Args)]
pub struct TaxArgs {
    #[command(subcommand)]
    report: Report,
}

#[derive(Debug, Subcommand)]
enum Report {
    /// An investor's disposals and gains for a tax year (koinly, 8949 or ledger CSV).
    Investor {
        /// The investor's wallet (0x…).
        #[arg(long, env = "PIPEIT_TAX_ADDRESS")]
        address: String,
        /// The tax year (e.g. 2025).
        #[arg(long, env = "PIPEIT_TAX_YEAR")]
        year: String,
        /// Lot matching: fifo, lifo or hifo.
        #[arg(long, env = "PIPEIT_TAX_METHOD", default_value = "fifo")]
        method: String,
        /// koinly (Koinly universal import), 8949 (Form 8949 columns a-h) or ledger (every event and lot).
        #[arg(long, env = "PIPEIT_TAX_FORMAT", default_value = "koinly")]
        format: String,
        #[command(flatten)]
        common: Common,
    },
    /// A business's invoices for a tax year: advances, fees, late fees, repayments, write-offs.
    Business {
        /// The business's payout address (0x…).
        #[arg(long, env = "PIPEIT_TAX_ADDRESS")]
        address: String,
        /// The tax year (e.g. 2025).
        #[arg(long, env = "PIPEIT_TAX_YEAR")]
        year: String,
        #[command(flatten)]
        common: Common,
    },
    /// The vault's income statement for a year or from/to dates, reconciled with total assets.
    Vault {
        /// The year (or give --from and --to).
        #[arg(long, env = "PIPEIT_TAX_YEAR")]
        year: Option<String>,
        /// First day (YYYY-MM-DD), with --to.
        #[arg(long, env = "PIPEIT_TAX_FROM")]
        from: Option<String>,
        /// Last day included (YYYY-MM-DD), with --from.
        #[arg(long, env = "PIPEIT_TAX_TO")]
        to: Option<String>,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, Args)]
struct Common {
    /// IANA time zone of the tax year's boundaries (UTC, Europe/Berlin, America/New_York).
    #[arg(long, env = "PIPEIT_TAX_TZ", default_value = "UTC")]
    tz: String,
    /// Where to write the CSV; `-` is stdout.
    #[arg(long, env = "PIPEIT_TAX_OUT", default_value = "-")]
    out: PathBuf,
}

/// Runs `pipeit tax …`.
pub async fn run(args: TaxArgs, config: &Config) -> eyre::Result<()> {
    let manifest = pipeit_chain::Manifest::load(&config.manifest)?;
    let at = ChainContract {
        chain_id: manifest.chain_id,
        contract: manifest.contracts.vault,
    };
    let now = Utc::now();
    // Requests are checked before the database is opened: a typo fails fast.
    match args.report {
        Report::Investor {
            address,
            year,
            method,
            format,
            common,
        } => {
            let req = InvestorReportRequest::parse(
                at,
                &address,
                &year,
                Some(&method),
                Some(&format),
                Some(&common.tz),
                now,
            )?;
            let db = open(config).await?;
            pipeit_tax::check_investor(&db, &req).await?;
            write(pipeit_tax::investor_report(db, req), &common.out).await
        }
        Report::Business {
            address,
            year,
            common,
        } => {
            let req = BusinessReportRequest::parse(at, &address, &year, Some(&common.tz), now)?;
            let db = open(config).await?;
            pipeit_tax::check_business(&db, &req).await?;
            write(pipeit_tax::business_report(db, req), &common.out).await
        }
        Report::Vault {
            year,
            from,
            to,
            common,
        } => {
            let req = VaultReportRequest::parse(
                at,
                year.as_deref(),
                from.as_deref(),
                to.as_deref(),
                Some(&common.tz),
                now,
            )?;
            let db = open(config).await?;
            write(pipeit_tax::vault_report(db, req), &common.out).await
        }
    }
}

async fn open(config: &Config) -> eyre::Result<Db> {
    Ok(Db::connect(&config.database_url).await?)
}

/// Writes the stream to stdout or, through a temporary file renamed at the end, to `out`.
async fn write<S>(stream: S, out: &Path) -> eyre::Result<()>
where
    S: Stream<Item = Result<bytes::Bytes, TaxError>>,
{
    futures_util::pin_mut!(stream);
    if out == Path::new("-") {
        let mut stdout = std::io::stdout().lock();
        while let Some(chunk) = stream.try_next().await? {
            stdout.write_all(&chunk).wrap_err("writing to stdout")?;
        }
        return stdout.flush().wrap_err("writing to stdout");
    }
    let name = out
        .file_name()
        .ok_or_else(|| eyre::eyre!("--out {}: not a file path", out.display()))?;
    let partial = out.with_file_name(format!(".{}.partial", name.to_string_lossy()));
    let result = async {
        let mut file = std::io::BufWriter::new(
            std::fs::File::create(&partial)
                .wrap_err_with(|| format!("--out {}: cannot create the file", out.display()))?,
        );
        while let Some(chunk) = stream.try_next().await? {
            file.write_all(&chunk)?;
        }
        file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&partial, out)?;
        eyre::Ok(())
    }
    .await;
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result.wrap_err_with(|| format!("writing {}", out.display()))
}
