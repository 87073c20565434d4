//! One configuration from flags, `PIPEIT_*` environment variables and an optional TOML file, in that order of
//! precedence. Secrets (private keys, API keys) are never flags: they come from the environment or a keystore.

use std::path::{Path, PathBuf};

use clap::Args;
use serde::Deserialize;

/// Flags shared by every command. Each has a long name and an environment variable.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// TOML file with any of the settings below (flags and environment variables win over it).
    #[arg(long, env = "PIPEIT_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Where pipeit keeps its files (SQLite database, devnet state, manifest).
    #[arg(long, env = "PIPEIT_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// JSON-RPC endpoint of the chain.
    #[arg(long, env = "PIPEIT_RPC_URL", global = true)]
    pub rpc_url: Option<String>,
    /// `sqlite://path` (default: a file in the data dir) or `postgres://user@host/db`.
    #[arg(
        long,
        env = "PIPEIT_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// Deployment manifest written by `scripts/dev` or `pipeit deploy`.
    #[arg(long, env = "PIPEIT_MANIFEST", global = true)]
    pub manifest: Option<PathBuf>,
    /// Blocks an event must be buried under before it counts.
    #[arg(long, env = "PIPEIT_CONFIRMATIONS", global = true)]
    pub confirmations: Option<u64>,
}

/// The same settings as a TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub rpc_url: Option<String>,
    pub database_url: Option<String>,
    pub manifest: Option<PathBuf>,
    pub confirmations: Option<u64>,
}

/// The resolved configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub data_dir: PathBuf,
    pub rpc_url: String,
    pub database_url: String,
    pub manifest: PathBuf,
    pub confirmations: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the config file {path} is not valid: {message} (keys: data_dir, rpc_url, database_url, manifest, confirmations)")]
    Parse { path: PathBuf, message: String },
}

pub const DEFAULT_DATA_DIR: &str = ".data/devnet";
pub const DEFAULT_RPC_URL: &str = "http://127.0.0.1:8545";
pub const DEFAULT_CONFIRMATIONS: u64 = 2;

impl Config {
    /// Flags/environment first, then the file, then defaults (all under the data dir).
    pub fn resolve(args: &GlobalArgs) -> Result<Config, ConfigError> {
        let file = match &args.config {
            Some(path) => load_file(path)?,
            None => FileConfig::default(),
        };
        let data_dir = args
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database_url = args
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("pipeit.sqlite").display()));
        Ok(Config {
            rpc_url: args
                .rpc_url
                .clone()
                .or(file.rpc_url)
                .unwrap_or_else(|| DEFAULT_RPC_URL.to_string()),
            manifest: args
                .manifest
                .clone()
                .or(file.manifest)
                .unwrap_or_else(|| data_dir.join("manifest.json")),
            confirmations: args
                .confirmations
                .or(file.confirmations)
                .unwrap_or(DEFAULT_CONFIRMATIONS),
            database_url,
            data_dir,
        })
    }
}

fn load_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.message().to_string(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn defaults_live_in_the_data_dir() {
        let c = Config::resolve(&GlobalArgs {
            data_dir: Some("/d".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.database_url, "sqlite:///d/pipeit.sqlite");
        assert_eq!(c.manifest, PathBuf::from("/d/manifest.json"));
        assert_eq!(c.rpc_url, DEFAULT_RPC_URL);
        assert_eq!(c.confirmations, DEFAULT_CONFIRMATIONS);
    }

    #[test]
    fn flags_win_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pipeit.toml");
        std::fs::write(&path, "rpc_url = \"http://file:1\"\nconfirmations = 5\n").unwrap();
        let args = GlobalArgs {
            config: Some(path),
            rpc_url: Some("http://flag:2".into()),
            ..Default::default()
        };
        let c = Config::resolve(&args).unwrap();
        assert_eq!(c.rpc_url, "http://flag:2");
        assert_eq!(c.confirmations, 5);
    }

    #[test]
    fn unknown_key_in_the_file_names_the_valid_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pipeit.toml");
        std::fs::write(&path, "rpc = \"x\"\n").unwrap();
        let err = Config::resolve(&GlobalArgs {
            config: Some(path),
            ..Default::default()
        })
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("unknown field `rpc`"), "{msg}");
        assert!(msg.contains("rpc_url"), "{msg}");
    }

    #[test]
    fn missing_file_is_a_clear_error() {
        let err = Config::resolve(&GlobalArgs {
            config: Some("/nope/pipeit.toml".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("/nope/pipeit.toml"));
    }
}
