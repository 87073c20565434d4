#!/bin/sh
# Browser tests of the web app against the real stack: `pipeit dev` (Anvil, deployment, API,
# keeper) on a fresh data dir and free ports, the built app served by `pipeit dev --web-dir`
# (or, while the binary lacks that flag, by `vite preview` proxying /v1 to it), Debian's chromium
# driven by playwright-core. Screenshots go to $E2E_ARTIFACTS (default web/e2e-artifacts).
#   PIPEIT_BIN   the pipeit binary (default /tmp/pipeit-bin/pipeit)
#   SKIP_BUILD=1 use the existing web/dist
set -eu
web=$(cd "$(dirname "$0")/.." && pwd)
root=$(cd "$web/.." && pwd)
bin=${PIPEIT_BIN:-/tmp/pipeit-bin/pipeit}
artifacts=${E2E_ARTIFACTS:-$web/e2e-artifacts}
chromium=${CHROMIUM:-/usr/bin/chromium}

[ -x "$bin" ] || { echo "e2e: no pipeit binary at $bin (set PIPEIT_BIN)" >&2; exit 1; }
[ -x "$chromium" ] || { echo "e2e: $chromium is missing (apt-get install -y chromium)" >&2; exit 1; }
[ -d "$web/node_modules" ] || (cd "$web" && npm ci)
if [ "${SKIP_BUILD:-0}" != 1 ] || [ ! -f "$web/dist/index.html" ]; then
  (cd "$web" && npm run build --silent)
fi

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
api_port=$(free_port)
anvil_port=$(free_port)
while [ "$anvil_port" = "$api_port" ]; do anvil_port=$(free_port); done
data=$(mktemp -d "${TMPDIR:-/tmp}/pipeit-e2e-XXXXXX")
rm -rf "$artifacts"
mkdir -p "$artifacts"

dev_pid=
preview_pid=
cleanup() {
  status=$?
  [ -n "$preview_pid" ] && kill "$preview_pid" 2>/dev/null || true
  if [ -n "$dev_pid" ]; then
    kill -TERM "$dev_pid" 2>/dev/null || true
    i=0
    while kill -0 "$dev_pid" 2>/dev/null && [ $i -lt 60 ]; do sleep 0.5; i=$((i + 1)); done
    kill -KILL "$dev_pid" 2>/dev/null || true
  fi
  cp "$data/dev.log" "$artifacts/dev.log" 2>/dev/null || true
  [ -f "$data/preview.log" ] && cp "$data/preview.log" "$artifacts/preview.log"
  rm -rf "$data"
  exit $status
}
trap cleanup EXIT INT TERM

if "$bin" dev --help 2>/dev/null | grep -q -- '--web-dir'; then
  app_port=$api_port
  web_args="--web-dir $web/dist"
else
  app_port=$(free_port)
  web_args=
fi

echo "e2e: pipeit dev (API 127.0.0.1:$api_port, Anvil $anvil_port, data $data)"
cd "$root"
# shellcheck disable=SC2086
PIPEIT_DATA_DIR="$data" PIPEIT_ANVIL_PORT=$anvil_port PIPEIT_LISTEN=127.0.0.1:$api_port \
  PIPEIT_SIWE_DOMAIN=127.0.0.1:$app_port "$bin" dev $web_args > "$data/dev.log" 2>&1 &
dev_pid=$!

if [ -z "$web_args" ]; then
  echo "e2e: this binary has no --web-dir: serving web/dist with vite preview on 127.0.0.1:$app_port"
  (cd "$web" && PIPEIT_API=http://127.0.0.1:$api_port exec node_modules/.bin/vite preview --port "$app_port" --strictPort --bypass-lock > "$data/preview.log" 2>&1) &
  preview_pid=$!
fi

i=0
until curl -fsS "http://127.0.0.1:$app_port/v1/vault" > /dev/null 2>&1 && curl -fsS "http://127.0.0.1:$app_port/" > /dev/null 2>&1; do
  i=$((i + 1))
  if [ $i -gt 360 ] || ! kill -0 "$dev_pid" 2>/dev/null || { [ -n "$preview_pid" ] && ! kill -0 "$preview_pid" 2>/dev/null; }; then
    echo "e2e: the stack did not come up; its logs:" >&2
    grep -v 'tick report\|no fresh signal' "$data/dev.log" | tail -30 >&2
    [ -f "$data/preview.log" ] && tail -20 "$data/preview.log" >&2
    exit 1
  fi
  sleep 0.5
done

cd "$web"
APP_URL=http://127.0.0.1:$app_port RPC_URL=http://127.0.0.1:$anvil_port MANIFEST="$data/manifest.json" \
  E2E_ARTIFACTS="$artifacts" CHROMIUM="$chromium" \
  node --test --test-concurrency=1 --test-reporter=spec tests/e2e/app.test.mjs
echo "e2e: screenshots in $artifacts"
