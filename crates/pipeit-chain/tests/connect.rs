//! `connect` against real nodes: a stopped one, one on another chain, the devnet.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use alloy::node_bindings::Anvil;
use alloy::primitives::Address;
use pipeit_chain::{connect, Contracts, Error, Manifest, Roles, Settings};

fn manifest(chain_id: u64) -> Manifest {
    let a = Address::repeat_byte(1);
    Manifest {
        chain_id,
        deployment_block: 1,
        contracts: Contracts {
            vault: a,
            weth: a,
            usdc: a,
            uniswap_v3_factory: a,
            nonfungible_position_manager: a,
            swap_router02: a,
            weth_usdc_pool: a,
            eth_usd_feed: a,
            usdc_usd_feed: a,
            sequencer_uptime_feed: a,
            oracle_guard: a,
            dev_yield_vault: a,
            erc4626_strategy: a,
            uniswap_v3_swap_strategy: a,
        },
        roles: Roles {
            admin: a,
            keeper: a,
            pauser: a,
            treasury: a,
            investors: vec![],
            businesses: vec![],
        },
        settings: Settings {
            eth_usd_price: 3000,
            pool_fee: 500,
            max_slippage_bps: 100,
            feed_max_age_seconds: 1,
            sequencer_grace_seconds: 1,
            admin_delay_seconds: 1,
        },
    }
}

fn anvil_bin() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
}

#[tokio::test]
async fn connect_to_a_stopped_node_retries_then_asks_whether_it_runs() {
    // A port nobody listens on: bind, read the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let started = std::time::Instant::now();
    let err = connect(&url, &manifest(8453)).await.unwrap_err();
    match &err {
        Error::RpcUnreachable { attempts, .. } => assert_eq!(*attempts, 5),
        other => panic!("unexpected {other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains(&url), "{message}");
    assert!(message.contains("is the node running?"), "{message}");
    // It backed off (0.25 + 0.5 + 1 + 2 s) before giving up.
    assert!(started.elapsed() >= std::time::Duration::from_millis(3_500));
}

#[tokio::test]
async fn connect_refuses_a_node_on_another_chain_naming_both_ids() {
    let anvil = Anvil::new().path(anvil_bin()).chain_id(31337).spawn();
    let err = connect(&anvil.endpoint(), &manifest(8453))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::WrongChain {
                expected: 8453,
                actual: 31337,
                ..
            }
        ),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("8453") && message.contains("31337"),
        "{message}"
    );
}

#[tokio::test]
async fn connect_accepts_the_manifests_chain() {
    let anvil = Anvil::new().path(anvil_bin()).chain_id(8453).spawn();
    connect(&anvil.endpoint(), &manifest(8453)).await.unwrap();
}

#[tokio::test]
async fn connect_rejects_a_non_http_url() {
    let err = connect("ws://127.0.0.1:8545", &manifest(8453))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRpcUrl { .. }), "{err:?}");
}
