//! `pipeit serve`: the HTTP service (pipeit-api) on a TCP address until Ctrl-C / SIGTERM.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use clap::Args;
use eyre::WrapErr;

use crate::config::Config;

/// Settings of `pipeit serve` (and of the API inside `pipeit dev`).
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PIPEIT_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The domain investors' sign-in messages must name (EIP-4361), e.g. app.example.com: the host
    /// the web app is opened at (default: the --listen address, where the app is served).
    #[arg(long, env = "PIPEIT_SIWE_DOMAIN")]
    pub siwe_domain: Option<String>,
    /// The built web app to serve at `/` (`web/dist`, made by scripts/setup); absent: the API only.
    #[arg(long, env = "PIPEIT_WEB_DIR")]
    pub web_dir: Option<std::path::PathBuf>,
    /// Origins allowed by CORS, comma-separated (`*` for any; none by default).
    #[arg(long, env = "PIPEIT_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Requests per minute per API key or investor session (per process).
    #[arg(long, env = "PIPEIT_RATE_LIMIT_PER_MINUTE", default_value_t = NonZeroU32::new(600).unwrap_or(NonZeroU32::MIN))]
    pub rate_limit_per_minute: NonZeroU32,
    /// Largest accepted request body, bytes.
    #[arg(long, env = "PIPEIT_BODY_LIMIT_BYTES", default_value_t = 64 * 1024)]
    pub body_limit_bytes: usize,
    /// Seconds before a request is answered 408.
    #[arg(long, env = "PIPEIT_REQUEST_TIMEOUT_SECONDS", default_value_t = 30)]
    pub request_timeout_seconds: u64,
}

impl ServeArgs {
    fn api_config(&self) -> pipeit_api::ApiConfig {
        pipeit_api::ApiConfig {
            siwe_domain: self
                .siwe_domain
                .clone()
                .unwrap_or_else(|| self.listen.to_string()),
            web_dir: self.web_dir.clone(),
            rate_limit_per_minute: self.rate_limit_per_minute,
            cors_origins: self.cors_origins.clone(),
            body_limit_bytes: self.body_limit_bytes,
            request_timeout: Duration::from_secs(self.request_timeout_seconds),
            ..pipeit_api::ApiConfig::default()
        }
    }
}

/// Serves until `shutdown` resolves; requests in flight finish first.
pub async fn run(
    args: &ServeArgs,
    config: &Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> eyre::Result<()> {
    let manifest = pipeit_chain::Manifest::load(&config.manifest)?;
    let provider = pipeit_chain::connect(&config.rpc_url, &manifest).await?;
    serve_with(
        args,
        &config.database_url,
        pipeit_api::Chain { provider, manifest },
        shutdown,
    )
    .await
}

/// Serves the database at `database_url` and `chain` (also the API service of `pipeit dev`).
pub async fn serve_with(
    args: &ServeArgs,
    database_url: &str,
    chain: pipeit_api::Chain,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> eyre::Result<()> {
    if let Some(dir) = &args.web_dir {
        if !dir.join("index.html").is_file() {
            eyre::bail!(
                "--web-dir {}: no index.html there (build the app: `cd web && npm ci && npm run build`, which scripts/setup does)",
                dir.display()
            );
        }
    }
    let db = pipeit_db::Db::connect(database_url).await?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .wrap_err_with(|| {
            format!(
                "cannot listen on {} (is another server using it? set --listen / PIPEIT_LISTEN)",
                args.listen
            )
        })?;
    let address = listener.local_addr()?;
    let state = pipeit_api::AppState::new(db, chain, args.api_config());
    if args.web_dir.is_some() {
        println!("pipeit serve: the web app at http://{address}/ (API at /v1, OpenAPI at /openapi.json)");
    } else {
        println!("pipeit serve: listening on http://{address} (OpenAPI at /openapi.json)");
    }
    tracing::info!(%address, "HTTP service started");
    pipeit_api::serve(listener, state, shutdown).await?;
    tracing::info!("HTTP service stopped");
    Ok(())
}
