//! Compiles the contracts with the project's own `forge` (npm) before the bindings are generated:
//! `sol!` in `src/bindings.rs` reads forge's artifacts under `<repo>/out/`, so after `scripts/setup`
//! a plain `cargo build` has bindings from exactly what `forge test` compiles.
use std::path::PathBuf;
use std::process::{exit, Command};

/// The artifacts `src/bindings.rs` reads, relative to the repository root.
const ARTIFACTS: &[&str] = &[
    "out/FactoringVault.sol/FactoringVault.json",
    "out/EventsLib.sol/EventsLib.json",
    "out/OracleGuard.sol/OracleGuard.json",
    "out/ERC4626Strategy.sol/ERC4626Strategy.json",
    "out/UniswapV3SwapStrategy.sol/UniswapV3SwapStrategy.json",
    "out/DevPriceFeed.sol/DevPriceFeed.json",
    "out/DevStablecoin.sol/DevStablecoin.json",
    "out/DevYieldVault.sol/DevYieldVault.json",
    "out/IWETH9.sol/IWETH9.json",
    // Compiled into `pipeit deploy` (src/deploy/artifacts.rs).
    "out/InvoiceLogic.sol/InvoiceLogic.json",
    "out/QueueLogic.sol/QueueLogic.json",
    "out/StrategyLogic.sol/StrategyLogic.json",
    "out/ParamsLib.sol/ParamsLib.json",
];

fn main() {
    let crate_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let root = crate_dir.join("../..");
    println!("cargo:rerun-if-changed=../../contracts/src");
    println!("cargo:rerun-if-changed=../../foundry.toml");
    for artifact in ARTIFACTS {
        println!("cargo:rerun-if-changed=../../{artifact}");
    }

    let forge = root.join("node_modules/@foundry-rs/forge-linux-amd64/bin/forge");
    if !forge.is_file() {
        eprintln!(
            "pipeit-chain: forge not found at {}: run scripts/setup first (it installs the npm toolchain)",
            forge.display()
        );
        exit(1);
    }
    let output = Command::new(&forge)
        .arg("build")
        .current_dir(&root)
        .env("FOUNDRY_DISABLE_NIGHTLY_WARNING", "1")
        .output();
    match output {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            eprintln!("{}", String::from_utf8_lossy(&out.stdout));
            eprintln!("{}", String::from_utf8_lossy(&out.stderr));
            eprintln!("pipeit-chain: `forge build` failed (output above); fix the contracts, or run scripts/setup if the toolchain is incomplete");
            exit(1);
        }
        Err(e) => {
            eprintln!(
                "pipeit-chain: could not run {}: {e}; run scripts/setup first",
                forge.display()
            );
            exit(1);
        }
    }
    for artifact in ARTIFACTS {
        if !root.join(artifact).is_file() {
            eprintln!(
                "pipeit-chain: `forge build` did not produce {artifact}: was the contract renamed?"
            );
            exit(1);
        }
    }
}
