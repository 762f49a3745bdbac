#!/usr/bin/env bash
# Browser tests: starts a real server with the demo data and drives Debian's
# headless Chromium through the pages with playwright-core (tests/browser/flow.mjs).
# Installs chromium (apt) and playwright-core (npm ci) when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v chromium >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q && apt-get install -y -q chromium
fi
(cd tests/browser && npm ci --no-audit --no-fund --silent)
cargo build --locked -q --bin tillit
root=$(pwd)
work=$(mktemp -d)
server=""
port=18779
idp_port=18780
idp=""
keep_logs() {
  mkdir -p "$root/target/reports"
  cp "$work/err.txt" "$root/target/reports/browser-server.log" 2>/dev/null || true
  cp "$work/idp.txt" "$root/target/reports/browser-idp.log" 2>/dev/null || true
}
trap 'keep_logs; [ -n "$server" ] && kill "$server" 2>/dev/null; [ -n "$idp" ] && kill "$idp" 2>/dev/null; rm -rf "$work"; true' EXIT
# A real OpenID Connect provider (oidc-provider) as Boxholm's identity provider.
node tests/browser/idp.mjs "$idp_port" "http://localhost:$port" > "$work/idp.txt" 2>&1 &
idp=$!
for _ in $(seq 1 60); do
  curl -fsS "http://localhost:$idp_port/.well-known/openid-configuration" >/dev/null 2>&1 && break
  sleep 0.5
done
cat > "$work/sso.json" <<JSON
{
  "public_url": "http://localhost:$port",
  "providers": [
    {"org": "boxholm", "label": "Boxholms kommun (test-IdP)", "issuer": "http://localhost:$idp_port",
     "client_id": "tillit-boxholm", "client_secret_env": "TILLIT_TEST_BOXHOLM_SECRET", "scopes": ["profile"]}
  ]
}
JSON
(cd "$work" && exec env TILLIT_RATE_LIMIT=0 RUST_LOG=info TILLIT_TEST_BOXHOLM_SECRET=test-secret-for-boxholm-0123456789abcdef \
  "$root/target/debug/tillit" serve --demo --bind "127.0.0.1:$port" --sso-config "$work/sso.json" > out.txt 2> err.txt) &
server=$!
for _ in $(seq 1 120); do
  grep -q "user name bodil" "$work/out.txt" 2>/dev/null && curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done
password=$(grep -o "demo-[0-9a-f]*" "$work/out.txt" | head -n 1)
node tests/browser/flow.mjs "http://localhost:$port" "$password" "http://localhost:$idp_port"
