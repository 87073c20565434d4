//! Typed bindings (`sol!`) generated from forge's artifacts under `<repo>/out/` (see `build.rs`).
//!
//! The vault's ABI lists only the events its own code emits (Deposit, Withdraw, Transfer,
//! InvoiceAdvanced, ...). Events emitted inside the external libraries (QueueLogic, StrategyLogic,
//! InvoiceLogic: InvoiceRepaid, RedeemRequested, ...) come from the vault's address too, but only
//! [`EventsLib`] lists them all: decode vault logs with both (see `pipeit-indexer`).
//!
//! Contracts that link external libraries carry unlinked bytecode (`ignore_unlinked`): deploy them
//! with forge (`scripts/deploy-devnet`), not from Rust.
#![allow(missing_docs, clippy::too_many_arguments)]

alloy::sol!(
    #[sol(rpc, abi, ignore_unlinked)]
    #[derive(Debug)]
    FactoringVault,
    "../../out/FactoringVault.sol/FactoringVault.json"
);
alloy::sol!(
    #[sol(abi)]
    #[derive(Debug)]
    EventsLib,
    "../../out/EventsLib.sol/EventsLib.json"
);
alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    OracleGuard,
    "../../out/OracleGuard.sol/OracleGuard.json"
);
alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    ERC4626Strategy,
    "../../out/ERC4626Strategy.sol/ERC4626Strategy.json"
);
alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    UniswapV3SwapStrategy,
    "../../out/UniswapV3SwapStrategy.sol/UniswapV3SwapStrategy.json"
);
alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    DevPriceFeed,
    "../../out/DevPriceFeed.sol/DevPriceFeed.json"
);
alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    DevStablecoin,
    "../../out/DevStablecoin.sol/DevStablecoin.json"
);
alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    DevYieldVault,
    "../../out/DevYieldVault.sol/DevYieldVault.json"
);
alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    IWETH9,
    "../../out/IWETH9.sol/IWETH9.json"
);
alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    DevSmartWallet,
    "../../out/DevSmartWallet.sol/DevSmartWallet.json"
);
