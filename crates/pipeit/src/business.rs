//! `pipeit business add|list|revoke-key`: onboarding businesses and their API keys.

use clap::{Args, Subcommand};
use eyre::{bail, WrapErr};
use serde_json::json;

use crate::config::Config;

/// `pipeit business …`.
#[derive(Debug, Args)]
pub struct BusinessArgs {
    #[command(subcommand)]
    command: BusinessCommand,
}

#[derive(Debug, Subcommand)]
enum BusinessCommand {
    /// Register a business and print its first API key (shown once; only its hash is stored).
    Add {
        /// Legal name.
        #[arg(long)]
        name: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Issue another API key for a business (shown once).
    NewKey {
        /// Business id.
        #[arg(long)]
        business: i64,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// List businesses with their keys (prefix, created, last used, revoked).
    List {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Revoke an API key by its prefix (the part after `pk_`, before the next `_`).
    RevokeKey {
        /// The key's prefix.
        #[arg(long)]
        prefix: String,
    },
}

/// Runs a `business` command.
pub async fn run(args: BusinessArgs, config: &Config) -> eyre::Result<()> {
    let db = pipeit_db::Db::connect(&config.database_url).await?;
    match args.command {
        BusinessCommand::Add { name, json } => {
            // The payout address stays unset (zero) until the business signs for one.
            let business = db
                .insert_business(&name, alloy::primitives::Address::ZERO)
                .await
                .wrap_err("cannot add the business")?;
            print_key(&db, business.id, &business.name, json).await
        }
        BusinessCommand::NewKey { business, json } => {
            let Some(found) = db.business(business).await? else {
                bail!("no business {business}: `pipeit business list` shows the ids");
            };
            print_key(&db, found.id, &found.name, json).await
        }
        BusinessCommand::List { json } => list(&db, json).await,
        BusinessCommand::RevokeKey { prefix } => {
            let Some(key) = db.api_key_by_prefix(&prefix).await? else {
                bail!(
                    "no API key with prefix {prefix:?}: `pipeit business list` shows the prefixes"
                );
            };
            let revoked = db.revoke_api_key(key.id).await?;
            println!(
                "revoked key {} of business {} (at {})",
                revoked.prefix,
                revoked.business_id,
                revoked
                    .revoked_at
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_default()
            );
            Ok(())
        }
    }
}

async fn print_key(
    db: &pipeit_db::Db,
    business_id: i64,
    name: &str,
    json: bool,
) -> eyre::Result<()> {
    let (key, secret) = pipeit_api::auth::issue_api_key(db, business_id).await?;
    if json {
        println!(
            "{}",
            json!({ "business_id": business_id, "name": name, "key_prefix": key.prefix, "api_key": secret })
        );
    } else {
        println!("business {business_id} ({name})");
        println!("API key (shown once, store it now): {secret}");
        println!("send it as `Authorization: Bearer <key>`; revoke with `pipeit business revoke-key --prefix {}`", key.prefix);
    }
    Ok(())
}

async fn list(db: &pipeit_db::Db, json: bool) -> eyre::Result<()> {
    let mut rows = Vec::new();
    for business in db.list_businesses().await? {
        let keys = db.api_keys_of(business.id).await?;
        rows.push((business, keys));
    }
    if json {
        let out: Vec<_> = rows
            .iter()
            .map(|(b, keys)| {
                json!({
                    "id": b.id,
                    "name": b.name,
                    "payout_address": (!b.payout_address.is_zero()).then(|| b.payout_address.to_checksum(None)),
                    "keys": keys.iter().map(|k| json!({
                        "prefix": k.prefix,
                        "created_at": k.created_at,
                        "last_used_at": k.last_used_at,
                        "revoked_at": k.revoked_at,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(out));
        return Ok(());
    }
    for (b, keys) in rows {
        let payout = if b.payout_address.is_zero() {
            "(payout address not set)".to_owned()
        } else {
            b.payout_address.to_checksum(None)
        };
        println!("{:>4}  {}  {payout}", b.id, b.name);
        for k in keys {
            let state = match (k.revoked_at, k.last_used_at) {
                (Some(at), _) => format!("revoked {}", at.to_rfc3339()),
                (None, Some(at)) => format!("last used {}", at.to_rfc3339()),
                (None, None) => "never used".to_owned(),
            };
            println!("      key {}  {state}", k.prefix);
        }
    }
    Ok(())
}
