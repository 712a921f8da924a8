#!/usr/bin/env bash
# The end-to-end tests: the built module in headless Chromium against moto (Cognito), the fault
# proxy and the protected API, all started by the tests on 127.0.0.1 (tests/e2e/session.test.mjs),
# against oidc-provider with rotating refresh tokens (tests/e2e/oidc.test.mjs), the sessions of
# Amplify v6, amazon-cognito-identity-js and oidc-client-ts taken over (tests/e2e/adopt.test.mjs),
# the behaviour contract's scenarios (written once, tests/e2e/rig/contract.mjs) run in Chromium,
# Firefox ESR and WebKitGTK (tests/e2e/engines.test.mjs, through tests/e2e/engines/;
# ENGINES=firefox,webkit picks fewer, ENGINES_SMOKE=1 runs one test per item of the contract),
# the Rust driver (`cognito_session::web`) in the Rust consumer app, held to the same counts by
# the same scenarios, with a JavaScript tab beside it (tests/e2e/rust.test.mjs), and the JS shell
# against a stubbed fetch (tests/e2e/shell.test.mjs).
#
#   1. tests/e2e/rig/setup.sh   moto in .tools/venv, playwright-core and oidc-provider in
#                               tests/e2e, those libraries in tests/e2e/adopt-libs (skips what
#                               is there)
#   2. scripts/build.sh         only when pkg/web/ is missing or older than the sources
#                               (after scripts/bootstrap.sh, which installs the build tools);
#      scripts/rust-app.sh      the same for the Rust consumer app (www/rust/pkg/: about 1.5 min
#                               of compiling web-sys and the app the first time)
#   3. node --test tests/e2e/ (and the rig's self-test)   ends with node's summary; three files
#      at a time (E2E_CONCURRENCY, default 3): the files mostly wait (backoff windows, throttle
#      storms, a key set down 30 s) and each starts its own servers on ports of its own, so on
#      two cores 3 run in 269 s what 1 (node's default there) ran in 705 s, every test passing
#      (2: 306 s, 4: 222 s; E2E_CONCURRENCY=1 runs them one by one)
#
# `scripts/e2e.sh bench` runs the micro-benchmark (tests/e2e/bench.mjs: ns per getAccessToken(),
# session.fetch / fetch) instead of the tests, after the same steps 1 and 2.
# Usage: scripts/e2e.sh [bench]
set -euo pipefail

MODE="${1:-test}"
case "$MODE" in
test | bench) ;;
*)
    echo "usage: scripts/e2e.sh [bench]" >&2
    exit 2
    ;;
esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf 'e2e: %s\n' "$*"; }

bash tests/e2e/rig/setup.sh

bash scripts/bootstrap.sh
bash scripts/build.sh --if-stale
bash scripts/rust-app.sh --if-stale

[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || {
    say "no Chromium at ${CHROMIUM:-/usr/bin/chromium}: run scripts/bootstrap.sh (installs Debian's chromium)"
    exit 1
}

if [ "$MODE" = bench ]; then
    say "running the micro-benchmark"
    exec node tests/e2e/bench.mjs
fi
say "running node --test tests/e2e/ and the rig's own self-test"
exec node --test --test-concurrency="${E2E_CONCURRENCY:-3}" --test-reporter=spec tests/e2e/ tests/e2e/rig/selftest.mjs
