#!/bin/sh
# Generates the typed API client's schema from the pipeit binary's OpenAPI document:
#   web/openapi.json         the document (`pipeit openapi`)
#   web/src/api/schema.d.ts  its TypeScript types (openapi-typescript)
# `--check` regenerates into a temporary folder and fails when either committed file differs (drift).
# The binary: $PIPEIT_BIN (default /tmp/pipeit-bin/pipeit). Without an `openapi` subcommand, set
# OPENAPI_URL=http://127.0.0.1:8180/openapi.json to read the document a running service serves.
set -eu
web=$(cd "$(dirname "$0")/.." && pwd)
bin=${PIPEIT_BIN:-/tmp/pipeit-bin/pipeit}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ -n "${OPENAPI_URL:-}" ]; then
  curl -fsS "$OPENAPI_URL" > "$tmp/raw.json"
else
  if [ ! -x "$bin" ]; then
    echo "gen-api: no pipeit binary at $bin (set PIPEIT_BIN, or OPENAPI_URL to a running service)" >&2
    exit 1
  fi
  if ! "$bin" openapi > "$tmp/raw.json" 2> "$tmp/err"; then
    echo "gen-api: \`$bin openapi\` failed (a binary without the subcommand? set OPENAPI_URL to a running service's /openapi.json):" >&2
    cat "$tmp/err" >&2
    exit 1
  fi
fi
# One canonical layout (sorted keys are not needed: the document is printed deterministically).
node -e 'const fs=require("fs");const d=JSON.parse(fs.readFileSync(process.argv[1],"utf8"));fs.writeFileSync(process.argv[2],JSON.stringify(d,null,2)+"\n")' "$tmp/raw.json" "$tmp/openapi.json"
"$web/node_modules/.bin/openapi-typescript" "$tmp/openapi.json" -o "$tmp/schema.d.ts" >/dev/null

if [ "${1:-}" = "--check" ]; then
  status=0
  cmp -s "$tmp/openapi.json" "$web/openapi.json" || { echo "gen-api: web/openapi.json is out of date" >&2; diff -u "$web/openapi.json" "$tmp/openapi.json" | head -40 >&2 || true; status=1; }
  cmp -s "$tmp/schema.d.ts" "$web/src/api/schema.d.ts" || { echo "gen-api: web/src/api/schema.d.ts is out of date" >&2; status=1; }
  if [ $status -ne 0 ]; then
    echo "gen-api: run \`npm run api:gen\` in web/ and commit the result" >&2
    exit 1
  fi
  echo "gen-api: API client up to date"
else
  cp "$tmp/openapi.json" "$web/openapi.json"
  cp "$tmp/schema.d.ts" "$web/src/api/schema.d.ts"
  echo "gen-api: wrote web/openapi.json and web/src/api/schema.d.ts"
fi
