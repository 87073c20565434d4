//! The pipeit keeper.
//!
//! - [`signals`]: market signals behind one trait (Token Metrics, the on-box model, a file).
#![warn(missing_docs, clippy::print_stdout, clippy::print_stderr)]

pub mod signals;
