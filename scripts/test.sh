#!/usr/bin/env bash
# The test command: everything that must pass before a change lands.
#
#   1. native   `cargo test`: unit tests of the core, the simulations under tests/, doc tests;
#               then the Rust driver's unit tests (`--features web`, src/web)
#   2. wasm     scripts/build.sh: the shipped .wasm and JS glue, with their sizes
#   3. browser  `cargo test --target wasm32-unknown-unknown --test browser` in three engines, one
#               after the other: headless Chromium (chromedriver), headless Firefox ESR
#               (geckodriver) and WebKitGTK (WebKitWebDriver, on an Xvfb display when there is
#               none): every tests/*.rs that says `wasm_bindgen_test_configure!(run_in_browser)`
#               (the core compiled to wasm32). BROWSER_ENGINES="chromium firefox" picks fewer.
#   4. e2e      scripts/e2e.sh: the built module in headless Chromium against moto (Cognito), the
#               fault proxy and the protected API, started by the tests on 127.0.0.1, the
#               behaviour contract in Chromium, Firefox ESR and WebKitGTK
#               (tests/e2e/engines.test.mjs), the Rust driver (cognito_session::web) inside the
#               Rust consumer app against the same (tests/e2e/rust.test.mjs, built by
#               scripts/rust-app.sh), and the JS shell against a stubbed fetch
#               (tests/e2e/shell.test.mjs)
#   5. consumers scripts/package.sh packs the npm tarball (and prints the size budget); apps under
#               tests/consumers/ install it the way users do and run in headless Chromium against
#               the same rig: the untouched `create vite` React-TS template (dev server, build,
#               Content-Security-Policy, Vitest), Vite + React, webpack 5, Rollup, esbuild,
#               Parcel, Vite 7, Jest, Next.js, axios, the script tag; and plain Node
#
# Every step runs even when an earlier one failed, then a summary says which passed and how many
# tests ran; the exit status is non-zero when any step failed. Logs: target/test-logs/.
# Installs what is missing first (scripts/bootstrap.sh, idempotent). Usage: scripts/test.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

bash scripts/bootstrap.sh

LOGS="$ROOT/target/test-logs"
mkdir -p "$LOGS"

names=()
results=()
seconds=()

# run_step NAME COMMAND...: runs the command with its output shown and logged to $LOGS/NAME.log.
run_step() {
    local name="$1"
    shift
    printf '\n=== %s: %s\n' "$name" "$*"
    local start=$SECONDS status=0
    "$@" 2>&1 | tee "$LOGS/$name.log" || status=$?
    names+=("$name")
    seconds+=("$((SECONDS - start))")
    if [ "$status" -eq 0 ]; then results+=("ok"); else results+=("FAILED (exit $status)"); fi
}

# The integration tests that run in the browser: tests/NAME.rs with `run_in_browser`.
browser_test_args=()
for file in tests/*.rs; do
    if grep -q 'wasm_bindgen_test_configure!(run_in_browser)' "$file"; then
        browser_test_args+=(--test "$(basename "$file" .rs)")
    fi
done

# shellcheck disable=SC2317 # called through run_step
browser_tests() {
    echo "browser test files: ${browser_test_args[*]}"
    local engine status=0 driver
    for engine in ${BROWSER_ENGINES:-chromium firefox webkit}; do
        echo "--- browser tests in $engine"
        # wasm-bindgen-test-runner takes the driver from the first of GECKODRIVER, SAFARIDRIVER,
        # CHROMEDRIVER that is set; WebKitWebDriver speaks safaridriver's command line.
        case "$engine" in
        chromium) driver=(CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}") ;;
        firefox) driver=(GECKODRIVER="${GECKODRIVER:-$(command -v geckodriver || echo geckodriver)}") ;;
        webkit) driver=(SAFARIDRIVER="${WEBKIT_WEBDRIVER:-/usr/bin/WebKitWebDriver}") ;;
        *)
            echo "unknown engine $engine"
            status=1
            continue
            ;;
        esac
        local display=()
        [ "$engine" = webkit ] && [ -z "${DISPLAY:-}" ] && display=(xvfb-run -a)
        env -u CHROMEDRIVER -u GECKODRIVER -u SAFARIDRIVER "${driver[@]}" \
            CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
            WASM_BINDGEN_TEST_WEBDRIVER_JSON="$ROOT/webdriver.json" \
            WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-180}" \
            WASM_BINDGEN_TEST_DRIVER_TIMEOUT="${WASM_BINDGEN_TEST_DRIVER_TIMEOUT:-60}" \
            "${display[@]}" cargo test --no-fail-fast --target wasm32-unknown-unknown "${browser_test_args[@]}" ||
            status=$?
    done
    return "$status"
}

# shellcheck disable=SC2317 # called through run_step
consumer_tests() {
    bash scripts/package.sh
    bash tests/e2e/rig/setup.sh
    node --test --test-reporter=spec tests/consumers/*.test.mjs
}

# shellcheck disable=SC2317 # called through run_step
native_tests() {
    local status=0
    cargo test --no-fail-fast || status=$?
    # The Rust driver's own unit tests (src/web: redacted Debug, the error codes, the events);
    # its behaviour in the browser is tests/e2e/rust.test.mjs's.
    cargo test --no-fail-fast --features web --lib web:: || status=$?
    return "$status"
}

run_step native native_tests
run_step wasm bash scripts/build.sh
run_step browser browser_tests
run_step e2e bash scripts/e2e.sh
run_step consumers consumer_tests
# fuzz: scripts/fuzz.sh smoke runs every fuzz target under fuzz/ for 10 s each (it says so and
# passes when the nightly toolchain or cargo-fuzz is missing). Its targets are not tests: its log
# is not among the totals below, and it ends with its own line "fuzz: N passed, N failed".
run_step fuzz bash scripts/fuzz.sh smoke

# Totals from the test runners' own closing lines: cargo's and wasm-bindgen-test's
# "test result:", and node's "ℹ pass N" / "ℹ fail N" / "ℹ skipped N".
totals() {
    awk '/^ℹ pass [0-9]+$/ { p += $3 }
        /^ℹ fail [0-9]+$/ { f += $3 }
        /^ℹ skipped [0-9]+$/ { s += $3 }
        /^test result: / {
            for (i = 1; i <= NF; i++) {
                if ($(i + 1) ~ /^passed/) p += $i
                if ($(i + 1) ~ /^failed/) f += $i
                if ($(i + 1) ~ /^ignored/) s += $i
            }
        }
        END { printf "%d %d %d", p, f, s }' "$@"
}

echo
echo "=== summary"
failed=0
for i in "${!names[@]}"; do
    name="${names[$i]}"
    counts=""
    if [ "$name" != wasm ]; then
        read -r p f s <<<"$(totals "$LOGS/$name.log")"
        counts="$p passed, $f failed, $s ignored"
    fi
    printf '%-9s %-20s %5ss  %s\n' "$name" "${results[$i]}" "${seconds[$i]}" "$counts"
    [ "${results[$i]}" = ok ] || failed=1
done
read -r p f s <<<"$(totals "$LOGS/native.log" "$LOGS/browser.log" "$LOGS/e2e.log" "$LOGS/consumers.log")"
if [ "$failed" -eq 0 ] && [ "$p" -eq 0 ]; then
    echo "FAILED: no test ran"
    failed=1
elif [ "$failed" -ne 0 ]; then
    echo "FAILED: see the output above or target/test-logs/"
else
    echo "all steps passed"
fi
# Last line, in the plain form CI reads: the tests counted over every step.
echo "tests: $p passed, $f failed, $s skipped"
exit "$failed"
