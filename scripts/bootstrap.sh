#!/usr/bin/env bash
# Installs what building and testing cognito-session needs, skipping whatever is already there:
#
#   - the Rust target wasm32-unknown-unknown (rustup)
#   - wasm-bindgen-cli (wasm-bindgen, wasm-bindgen-test-runner) at the exact version Cargo.lock
#     pins for the `wasm-bindgen` crate: the CLI and the crate must match
#   - Debian's chromium and chromium-driver for the headless browser tests (apt, as root or via
#     sudo)
#   - the other two engines the browser tests run in (apt, like chromium): Debian's firefox-esr,
#     webkit2gtk-driver (WebKitWebDriver and WebKitGTK's MiniBrowser) and xvfb (MiniBrowser
#     needs a display); and geckodriver, Firefox's WebDriver server, which Debian does not
#     package: `cargo install geckodriver` at a pinned version (compiles in about four minutes)
#   - wasm-opt from the npm package `binaryen`, and esbuild (scripts/build.sh bundles the web
#     entry with it; scripts/package.sh the script-tag file), into .tools/ (project-local,
#     gitignored), from the npm registry at pinned versions
#
# Safe to run again: a second run changes nothing and takes a second or two.
# Usage: scripts/bootstrap.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

BINARYEN_VERSION=132
GECKODRIVER_VERSION=0.37.1
ESBUILD_VERSION=0.28.2
missing=()

say() { printf 'bootstrap: %s\n' "$*"; }

# Runs a command as root: directly when we are root, through sudo when it needs no password.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        return 126
    fi
}

# --- Rust and the wasm32 target ----------------------------------------------------------------
if ! command -v cargo >/dev/null 2>&1; then
    say "cargo not found: install Rust with rustup (https://rustup.rs), then run this again."
    exit 1
fi
if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    say "wasm32-unknown-unknown target: present"
else
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
fi

# --- wasm-bindgen-cli at the Cargo.lock version -------------------------------------------------
if [ ! -f Cargo.lock ]; then
    say "no Cargo.lock: generating it"
    cargo generate-lockfile
fi
WB_VERSION="$(awk '
    $0 == "name = \"wasm-bindgen\"" { found = 1; next }
    found && /^version = / { gsub(/"/, "", $3); print $3; exit }
' Cargo.lock)"
if [ -z "$WB_VERSION" ]; then
    say "could not read the wasm-bindgen version from Cargo.lock"
    exit 1
fi
have_wb="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
have_runner="$(wasm-bindgen-test-runner --version 2>/dev/null | awk '{print $2}' || true)"
if [ "$have_wb" = "$WB_VERSION" ] && [ "$have_runner" = "$WB_VERSION" ]; then
    say "wasm-bindgen-cli $WB_VERSION: present"
else
    say "installing wasm-bindgen-cli $WB_VERSION (found '${have_wb:-none}'; takes a few minutes)"
    # No --locked: the CLI's own lock file does not build with this toolchain.
    cargo install wasm-bindgen-cli --version "$WB_VERSION" --force
fi

# --- Chromium and ChromeDriver (Debian packages) ------------------------------------------------
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    say "chromium + chromedriver: present ($(/usr/bin/chromium --version 2>/dev/null || echo '?'))"
else
    say "installing Debian's chromium and chromium-driver"
    export DEBIAN_FRONTEND=noninteractive
    if as_root apt-get update -qq </dev/null &&
        as_root apt-get install -y -qq chromium chromium-driver </dev/null; then
        say "chromium + chromedriver: installed"
    else
        status=$?
        if [ "$status" -eq 126 ]; then
            say "cannot install chromium: not root and no password-less sudo."
        else
            say "apt-get failed (exit $status) installing chromium chromium-driver."
        fi
        say "  run as root: apt-get update && apt-get install -y chromium chromium-driver"
        missing+=("chromium chromium-driver")
    fi
fi

# --- Firefox ESR, WebKitGTK's WebDriver, Xvfb (Debian packages) ----------------------------------
if [ -x /usr/bin/firefox-esr ] && [ -x /usr/bin/WebKitWebDriver ] && command -v Xvfb >/dev/null 2>&1; then
    say "firefox-esr + webkit2gtk-driver + xvfb: present ($(/usr/bin/firefox-esr --version 2>/dev/null || echo '?'))"
else
    say "installing Debian's firefox-esr, webkit2gtk-driver and xvfb"
    export DEBIAN_FRONTEND=noninteractive
    if as_root apt-get update -qq </dev/null &&
        as_root apt-get install -y -qq firefox-esr webkit2gtk-driver xvfb </dev/null; then
        say "firefox-esr + webkit2gtk-driver + xvfb: installed"
    else
        status=$?
        if [ "$status" -eq 126 ]; then
            say "cannot install firefox-esr: not root and no password-less sudo."
        else
            say "apt-get failed (exit $status) installing firefox-esr webkit2gtk-driver xvfb."
        fi
        say "  run as root: apt-get update && apt-get install -y firefox-esr webkit2gtk-driver xvfb"
        missing+=("firefox-esr webkit2gtk-driver xvfb")
    fi
fi

# --- geckodriver (crates.io) ---------------------------------------------------------------------
have_gecko="$(geckodriver --version 2>/dev/null | awk 'NR == 1 {print $2}' || true)"
if [ "$have_gecko" = "$GECKODRIVER_VERSION" ]; then
    say "geckodriver $GECKODRIVER_VERSION: present"
else
    say "installing geckodriver $GECKODRIVER_VERSION (found '${have_gecko:-none}'; takes a few minutes)"
    cargo install geckodriver --version "$GECKODRIVER_VERSION" --force
fi

# --- wasm-opt (npm package binaryen, project-local) ---------------------------------------------
WASM_OPT="$ROOT/.tools/node_modules/.bin/wasm-opt"
have_opt="$("$WASM_OPT" --version 2>/dev/null | awk '{print $3}' || true)"
if [ "$have_opt" = "$BINARYEN_VERSION" ]; then
    say "wasm-opt $BINARYEN_VERSION (.tools): present"
elif ! command -v npm >/dev/null 2>&1; then
    say "npm not found: install Node.js and npm, then run this again (needed for wasm-opt)."
    missing+=("npm (for binaryen/wasm-opt)")
else
    say "installing binaryen@$BINARYEN_VERSION (wasm-opt) into .tools/"
    mkdir -p .tools
    npm install --prefix .tools --no-audit --no-fund --loglevel=error \
        "binaryen@$BINARYEN_VERSION" </dev/null
    "$WASM_OPT" --version
fi

# --- esbuild (npm, project-local) ----------------------------------------------------------------
ESBUILD="$ROOT/.tools/node_modules/.bin/esbuild"
have_esbuild="$("$ESBUILD" --version 2>/dev/null || true)"
if [ "$have_esbuild" = "$ESBUILD_VERSION" ]; then
    say "esbuild $ESBUILD_VERSION (.tools): present"
elif ! command -v npm >/dev/null 2>&1; then
    say "npm not found: install Node.js and npm, then run this again (needed for esbuild)."
    missing+=("npm (for esbuild)")
else
    say "installing esbuild@$ESBUILD_VERSION into .tools/ (found '${have_esbuild:-none}')"
    mkdir -p .tools
    npm install --prefix .tools --save-exact --no-audit --no-fund --loglevel=error \
        "esbuild@$ESBUILD_VERSION" </dev/null
    "$ESBUILD" --version
fi

if [ "${#missing[@]}" -gt 0 ]; then
    say "NOT READY, missing: ${missing[*]}"
    exit 1
fi
say "ready"
