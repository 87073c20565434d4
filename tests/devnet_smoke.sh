#!/usr/bin/env bash
# Smoke test of scripts/dev on a throwaway data dir and a free port:
#   1. `scripts/dev --check` deploys and writes the manifest;
#   2. `scripts/dev --check` again resumes (same manifest, no redeploy);
#   3. `scripts/dev` (foreground mode, here in the background): the vault is over WETH and empty, an investor
#      deposits ETH, totalAssets follows; SIGTERM stops it cleanly (exit 0, chain saved);
#   4. `scripts/dev` again: same vault address, the deposit is still there (state resumed).
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"

MNEMONIC="test test test test test test test test test test test junk" # Anvil's default, public
WETH=0x4200000000000000000000000000000000000006
DEPOSIT=1500000000000000000 # 1.5 ETH

TMP=$(mktemp -d)
export PIPEIT_DATA_DIR="$TMP/devnet"
# A port nobody listens on (the OS picks it), so the test runs next to a developer's own devnet on 8545.
PIPEIT_ANVIL_PORT=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
export PIPEIT_ANVIL_PORT
# The API that `scripts/dev` also starts: another free port.
API_PORT=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
export PIPEIT_LISTEN="127.0.0.1:$API_PORT"
RPC="http://127.0.0.1:$PIPEIT_ANVIL_PORT"
MANIFEST="$PIPEIT_DATA_DIR/manifest.json"

DEV_PID=""
cleanup() {
  if [ -n "$DEV_PID" ] && kill -0 "$DEV_PID" 2>/dev/null; then kill -TERM "$DEV_PID"; wait "$DEV_PID" || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

fail() { echo "devnet_smoke: FAIL: $*" >&2; exit 1; }
ok() { echo "devnet_smoke: ok: $*" >&2; }
field() { node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).contracts[process.argv[2]]' "$MANIFEST" "$1"; }
uint() { cast call --rpc-url "$RPC" "$@" | cut -d' ' -f1; } # cast prints "1500000000000000000 [1.5e18]"

# Starts `scripts/dev` in the background (so SIGINT is ignored, as for any background job: SIGTERM stops it) and
# waits until it says it is running.
start_dev() {
  scripts/dev >"$TMP/dev.out" 2>&1 &
  DEV_PID=$!
  for _ in $(seq 600); do
    grep -q "dev: running" "$TMP/dev.out" && return 0
    kill -0 "$DEV_PID" 2>/dev/null || { cat "$TMP/dev.out" >&2; fail "scripts/dev exited early"; }
    sleep 0.5
  done
  fail "scripts/dev not running after 300 s"
}
stop_dev() {
  kill -TERM "$DEV_PID"
  local rc=0
  wait "$DEV_PID" || rc=$?
  DEV_PID=""
  [ "$rc" = 0 ] || fail "scripts/dev exited $rc on SIGTERM"
  ! cast chain-id --rpc-url "$RPC" >/dev/null 2>&1 || fail "anvil still answers after scripts/dev stopped"
}

# 1. fresh deployment
scripts/dev --check >"$TMP/run1.out" 2>&1 || { cat "$TMP/run1.out" >&2; fail "first scripts/dev --check"; }
grep -q "pipeit devnet: deployed" "$TMP/run1.out" || fail "first run did not deploy"
[ -s "$MANIFEST" ] || fail "no manifest at $MANIFEST"
[ "$(field weth)" = "$WETH" ] || fail "manifest weth"
cp "$MANIFEST" "$TMP/manifest.first.json"
! cast chain-id --rpc-url "$RPC" >/dev/null 2>&1 || fail "anvil still answers after --check"
ok "deployed, manifest written, anvil stopped"

# 2. resume with --check
scripts/dev --check >"$TMP/run2.out" 2>&1 || { cat "$TMP/run2.out" >&2; fail "second scripts/dev --check"; }
grep -q "pipeit devnet: resumed" "$TMP/run2.out" || fail "second run did not resume"
cmp -s "$MANIFEST" "$TMP/manifest.first.json" || fail "manifest changed on resume (redeployed?)"
ok "resumed without redeploying"

# 3. foreground mode: the vault works; deposit as investor #3 (Anvil's public test key, local chain only)
start_dev
VAULT=$(field vault)
[ "$(cast call --rpc-url "$RPC" "$VAULT" 'asset()(address)')" = "$WETH" ] || fail "vault asset() is not WETH"
[ "$(uint "$VAULT" 'totalAssets()(uint256)')" = 0 ] || fail "totalAssets() not 0 before any deposit"
INVESTOR_KEY=$(cast wallet private-key "$MNEMONIC" 3)
INVESTOR=$(cast wallet address "$INVESTOR_KEY")
# The indexer (and the keeper, which indexes first in each tick) run inside `pipeit dev`: count the indexed
# deposits in its SQLite database.
deposits_indexed() { sqlite3 "$PIPEIT_DATA_DIR/pipeit.sqlite" "SELECT COUNT(*) FROM vault_events WHERE event_name = 'Deposit'" 2>/dev/null || echo 0; }
indexed_before=$(deposits_indexed)
cast send --rpc-url "$RPC" --private-key "$INVESTOR_KEY" "$VAULT" 'depositETH(address)' "$INVESTOR" \
  --value "$DEPOSIT" >/dev/null
[ "$(uint "$VAULT" 'totalAssets()(uint256)')" = "$DEPOSIT" ] || fail "totalAssets() is not the deposit"
SHARES=$(uint "$VAULT" 'balanceOf(address)(uint256)' "$INVESTOR")
[ "$SHARES" != 0 ] || fail "investor got no shares"
# The indexer scripts/dev started picks the deposit up once it has 2 confirmations.
cast rpc --rpc-url "$RPC" anvil_mine 3 >/dev/null
for _ in $(seq 60); do
  [ "$(deposits_indexed)" -gt "${indexed_before:-0}" ] && break
  sleep 0.5
done
[ "$(deposits_indexed)" -gt "${indexed_before:-0}" ] || { cat "$TMP/dev.out" >&2; fail "the indexer did not pick up the deposit"; }
# The HTTP service scripts/dev started answers with the vault's figures, the deposit included.
VAULT_JSON=$(curl -sS "http://$PIPEIT_LISTEN/v1/vault" || true)
# (the keeper may have moved idle capital into the strategies already: compare the share supply)
grep -q "\"total_supply\":\"$(uint "$VAULT" 'totalSupply()(uint256)')\"" <<<"$VAULT_JSON" \
  || { cat "$TMP/dev.out" >&2; fail "GET /v1/vault on the API scripts/dev started did not show the deposit: $VAULT_JSON"; }
grep -q "tick report=" "$TMP/dev.out" || { cat "$TMP/dev.out" >&2; fail "the keeper scripts/dev started did not tick"; }
SUPPLY=$(uint "$VAULT" 'totalSupply()(uint256)')
stop_dev
ok "asset() = WETH, depositETH 1.5 ETH -> totalAssets() = $DEPOSIT, indexed, served by the API, keeper ticking, SIGTERM stopped it cleanly"

# 4. the deposit survived the restart
start_dev
grep -q "pipeit devnet: resumed" "$TMP/dev.out" || fail "fourth run did not resume"
[ "$(field vault)" = "$VAULT" ] || fail "vault address changed"
# (totalAssets may differ from the deposit by now: the keeper scripts/dev runs puts idle capital to work.)
[ "$(uint "$VAULT" 'totalSupply()(uint256)')" = "$SUPPLY" ] || fail "share supply changed across restart"
[ "$(uint "$VAULT" 'balanceOf(address)(uint256)' "$INVESTOR")" = "$SHARES" ] || fail "shares lost across restart"
stop_dev
ok "deposit and shares still there after a restart"
echo "devnet_smoke: PASS" >&2
