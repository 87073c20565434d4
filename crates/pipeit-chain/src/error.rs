use std::path::PathBuf;

/// What can go wrong on the chain side. Each message says how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No manifest at the path.
    #[error("no deployment manifest at {path}: run scripts/dev or pipeit deploy first")]
    ManifestMissing {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The manifest exists but cannot be read.
    #[error("cannot read the deployment manifest {path}: {source}")]
    ManifestRead {
        /// The manifest.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The manifest is not what `DeployDevnet.s.sol` / `pipeit deploy` write.
    #[error(
        "malformed deployment manifest {path}: field `{field}`: {reason}; \
         regenerate it with scripts/dev or pipeit deploy"
    )]
    ManifestMalformed {
        /// The manifest.
        path: PathBuf,
        /// The JSON path of the offending field (`.` for the document itself).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The RPC URL does not parse.
    #[error("invalid RPC URL {url:?}: {reason}")]
    InvalidRpcUrl {
        /// The URL (redacted).
        url: String,
        /// Why.
        reason: String,
    },
    /// The node did not answer, even after retries.
    #[error(
        "cannot reach the node at {url} after {attempts} attempts ({reason}): is the node running?"
    )]
    RpcUnreachable {
        /// The URL (redacted).
        url: String,
        /// How many times it was tried.
        attempts: u32,
        /// The last error.
        reason: String,
    },
    /// The node is on another chain than the manifest's.
    #[error(
        "the node at {url} is on chain id {actual}, but the manifest is for chain id {expected}: \
         point the RPC URL at the right node or use that chain's manifest"
    )]
    WrongChain {
        /// The URL (redacted).
        url: String,
        /// The manifest's chain id.
        expected: u64,
        /// The node's chain id.
        actual: u64,
    },
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
