//! pipeit's on-chain side: typed bindings of the contracts, the deployment manifest, and a checked
//! connection to a node.
//!
//! - [`bindings`]: alloy `sol!` bindings generated from forge's artifacts. `build.rs` runs the
//!   project's own `forge build` (the npm binary) first. We call forge itself rather than compiling
//!   with foundry-compilers (as issue 5 first proposed) so that the bindings come from exactly the
//!   same compiler settings as `forge test` and the deploy script (foundry.toml, the solc shim,
//!   remappings, library linking), with no second compiler crate to keep in step (and 20–45 s less
//!   on a clean build).
//! - [`Manifest`]: the deployment manifest (`contracts/script/DeployDevnet.s.sol` writes it), the
//!   single source of addresses and roles for every other command.
//! - [`deploy`]: `pipeit deploy`, the production system from a network preset (`deploy/presets`).
//! - [`revert`]: revert data decoded into the contracts' custom errors (keeper logs, API answers).
//! - [`connect`]: a provider for an RPC URL, after checking that the node is on the manifest's
//!   chain; an unreachable node is retried with exponential backoff first.
#![warn(missing_docs, clippy::print_stdout, clippy::print_stderr)]

pub mod bindings;
mod connect;
pub mod deploy;
mod error;
mod manifest;
pub mod revert;

pub use connect::{
    connect, connect_any, connect_any_once, connect_with_wallet, redact_url, Backoff,
};
pub use error::{Error, Result};
pub use manifest::{Contracts, Manifest, Roles, Settings};
