//! Signing keys for the commands that send transactions: an encrypted JSON keystore (password from
//! `PIPEIT_KEYSTORE_PASSWORD` or a prompt), never a flag; the key is never printed.

use std::io::IsTerminal;
use std::path::Path;

use alloy::signers::local::PrivateKeySigner;
use eyre::{bail, eyre, WrapErr};

/// Environment variable holding a keystore's password (the keeper has its own, so that one
/// environment can hold both).
pub const PASSWORD_VAR: &str = "PIPEIT_KEYSTORE_PASSWORD";

/// Decrypts the keystore at `path`; the password comes from `password_var` or a terminal prompt.
pub fn decrypt_keystore(path: &Path, password_var: &str) -> eyre::Result<PrivateKeySigner> {
    if !path.is_file() {
        bail!(
            "no keystore at {}: give the path of an encrypted JSON keystore (e.g. from `cast wallet new`)",
            path.display()
        );
    }
    let password = match std::env::var(password_var) {
        Ok(p) => p,
        Err(_) if std::io::stdin().is_terminal() => {
            rpassword::prompt_password(format!("password for {}: ", path.display()))
                .wrap_err("cannot read the password from the terminal")?
        }
        Err(_) => bail!(
            "the keystore {} needs a password: set {password_var}, or run on a terminal to be prompted",
            path.display()
        ),
    };
    PrivateKeySigner::decrypt_keystore(path, password).map_err(|e| {
        let why = e.to_string();
        if why.to_lowercase().contains("mac") {
            eyre!(
                "cannot decrypt the keystore {}: wrong password (check {password_var} or what you typed)",
                path.display()
            )
        } else {
            eyre!(
                "cannot read the keystore {}: {why}: is it an encrypted JSON keystore?",
                path.display()
            )
        }
    })
}
