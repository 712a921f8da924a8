#!/usr/bin/env bash
# The demo: one command from a fresh clone. Installs what is missing (scripts/bootstrap.sh, the
# rig's tests/e2e/rig/setup.sh), builds pkg/ and the npm package (scripts/package.sh, skipped when up to date), then
# starts moto seeded with a user pool, app client and user, the fault-injecting proxy, the
# protected API and a static server for www/ (with the built module under /pkg/, and the Rust
# consumer app, built by scripts/rust-app.sh, at /rust/), all on 127.0.0.1, and prints the URL
# of the demo page. Runs until Ctrl-C, which stops everything.
#
#   scripts/demo.sh                 demo page at http://127.0.0.1:8080/
#   DEMO_PORT=9000 scripts/demo.sh  another port (0: any free port)
#   DEMO_TOKEN_LIFETIME=40 ...      tokens live 40 s (default 60; 3600 is moto's own)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PORT="${DEMO_PORT:-8080}"
LIFETIME="${DEMO_TOKEN_LIFETIME:-60}"

say() { printf 'demo: %s\n' "$*"; }

say "checking the toolchain (scripts/bootstrap.sh)"
bash scripts/bootstrap.sh
say "checking moto and the rig's npm packages (tests/e2e/rig/setup.sh)"
bash tests/e2e/rig/setup.sh
say "building pkg/ and the script-tag file unless they are up to date (scripts/package.sh)"
bash scripts/package.sh
say "building the Rust consumer app into www/rust/ unless it is up to date (scripts/rust-app.sh)"
bash scripts/rust-app.sh --if-stale

lifetime_args=()
if [ "$LIFETIME" != 3600 ]; then lifetime_args=(--token-lifetime "$LIFETIME"); fi

say "starting moto, the fault proxy, the protected API and the demo page (Ctrl-C stops them all)"
node tests/e2e/rig/serve.mjs --static www --mount /pkg/=pkg --port "$PORT" "${lifetime_args[@]}" &
pid=$!
# Ctrl-C reaches the whole foreground process group; serve.mjs ends moto on SIGINT/SIGTERM.
trap 'kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; exit 130' INT TERM
status=0
wait "$pid" || status=$?
# 130 and 143: stopped by Ctrl-C or a TERM, which is how the demo ends; anything else is a failure.
if [ "$status" -ne 0 ] && [ "$status" -ne 130 ] && [ "$status" -ne 143 ]; then
    say "the demo servers stopped (exit $status): see the messages above."
    if [ "$PORT" != 0 ]; then say "if port $PORT is taken: DEMO_PORT=0 scripts/demo.sh (any free port)"; fi
fi
exit "$status"
