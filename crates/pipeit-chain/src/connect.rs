//! A provider for an RPC URL, checked against the manifest's chain id.

use std::future::Future;
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::transports::http::reqwest::Url;

use crate::{Error, Manifest, Result};

/// Exponential backoff for calls to a node that may not be up yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// How many times to try in all (at least once).
    pub attempts: u32,
    /// Wait after the first failure; doubled after each further one.
    pub initial: Duration,
    /// Longest single wait.
    pub max: Duration,
}

impl Default for Backoff {
    /// 5 attempts, waiting 0.25, 0.5, 1 and 2 s in between (under 4 s in all).
    fn default() -> Self {
        Backoff {
            attempts: 5,
            initial: Duration::from_millis(250),
            max: Duration::from_secs(5),
        }
    }
}

impl Backoff {
    /// Runs `op` until it succeeds or the attempts are used up; then the number of attempts made
    /// and the last error.
    pub async fn retry<T, E, F, Fut>(&self, mut op: F) -> std::result::Result<T, (u32, E)>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = std::result::Result<T, E>>,
        E: std::fmt::Display,
    {
        let attempts = self.attempts.max(1);
        let mut wait = self.initial;
        let mut attempt = 1;
        loop {
            match op().await {
                Ok(value) => return Ok(value),
                Err(error) if attempt >= attempts => return Err((attempt, error)),
                Err(error) => {
                    tracing::debug!(attempt, %error, ?wait, "retrying");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(self.max);
                    attempt += 1;
                }
            }
        }
    }
}

/// A read-only provider for `rpc_url`, once the node answers (retried with [`Backoff::default`])
/// and is on the manifest's chain.
pub async fn connect(rpc_url: &str, manifest: &Manifest) -> Result<DynProvider> {
    let url = parse(rpc_url)?;
    let provider = ProviderBuilder::new().connect_http(url).erased();
    check_chain(&provider, rpc_url, manifest).await?;
    Ok(provider)
}

/// A read-only provider for `rpc_url` on whatever chain it is, once the node answers (retried with
/// [`Backoff::default`]); the chain id with it, for the caller to check (`pipeit deploy` against its
/// preset).
pub async fn connect_any(rpc_url: &str) -> Result<(DynProvider, u64)> {
    let url = parse(rpc_url)?;
    let provider = ProviderBuilder::new().connect_http(url).erased();
    let chain_id = Backoff::default()
        .retry(|| provider.get_chain_id())
        .await
        .map_err(|(attempts, error)| Error::RpcUnreachable {
            url: redact_url(rpc_url),
            attempts,
            reason: error.to_string(),
        })?;
    Ok((provider, chain_id))
}

/// The chain id of the node at `rpc_url` if it answers right now (one try, no backoff): to check
/// that a port is free, or that a node just started is up.
pub async fn connect_any_once(rpc_url: &str) -> Option<u64> {
    let url = parse(rpc_url).ok()?;
    let provider = ProviderBuilder::new().connect_http(url);
    provider.get_chain_id().await.ok()
}

/// Like [`connect`], with `wallet`'s signers filling and signing transactions (nonce, gas, chain
/// id filled in). A transaction is sent from its `from` address, or the wallet's default signer.
pub async fn connect_with_wallet(
    rpc_url: &str,
    manifest: &Manifest,
    wallet: EthereumWallet,
) -> Result<DynProvider> {
    let url = parse(rpc_url)?;
    let provider = ProviderBuilder::new()
        .wallet(wallet)
        .connect_http(url)
        .erased();
    check_chain(&provider, rpc_url, manifest).await?;
    Ok(provider)
}

fn parse(rpc_url: &str) -> Result<Url> {
    let url: Url = rpc_url.parse().map_err(|e| Error::InvalidRpcUrl {
        url: redact_url(rpc_url),
        reason: format!("{e}"),
    })?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(Error::InvalidRpcUrl {
            url: redact_url(rpc_url),
            reason: format!("scheme {other:?} is not supported, use http:// or https://"),
        }),
    }
}

async fn check_chain(provider: &DynProvider, rpc_url: &str, manifest: &Manifest) -> Result<()> {
    let actual = Backoff::default()
        .retry(|| provider.get_chain_id())
        .await
        .map_err(|(attempts, error)| Error::RpcUnreachable {
            url: redact_url(rpc_url),
            attempts,
            reason: error.to_string(),
        })?;
    if actual != manifest.chain_id {
        return Err(Error::WrongChain {
            url: redact_url(rpc_url),
            expected: manifest.chain_id,
            actual,
        });
    }
    Ok(())
}

/// The URL without what may be a secret (user info, path, query: hosted RPC URLs carry API keys
/// there), for messages and logs: `https://base-mainnet.example.com/…`.
pub fn redact_url(url: &str) -> String {
    match url.parse::<Url>() {
        Ok(u) => {
            let host = u.host_str().unwrap_or("");
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            let rest = if u.path().len() > 1 || u.query().is_some() {
                "/…"
            } else {
                ""
            };
            format!("{}://{host}{port}{rest}", u.scheme())
        }
        Err(_) => "<unparsable URL>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redact_url_hides_paths_and_credentials() {
        assert_eq!(redact_url("http://127.0.0.1:8545"), "http://127.0.0.1:8545");
        assert_eq!(
            redact_url("https://user:pw@base.example.com/v2/SECRETKEY?x=1"),
            "https://base.example.com/…"
        );
    }
}
