# Sourced by the other scripts: repository root and the npm toolchain on PATH.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$ROOT/node_modules/@foundry-rs/forge-linux-amd64/bin:$ROOT/node_modules/@foundry-rs/anvil-linux-amd64/bin:$ROOT/node_modules/@foundry-rs/cast-linux-amd64/bin:$PATH"
export FOUNDRY_DISABLE_NIGHTLY_WARNING=1
cd "$ROOT"
