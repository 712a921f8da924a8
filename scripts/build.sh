#!/usr/bin/env bash
# Builds the shipped artifact: the size-optimised .wasm (the sans-IO core behind a narrow
# export surface, src/shell/exports.rs), its wasm-bindgen glue and the JS shell (src/shell/js).
#
#   pkg/bundler/  the modules the package's main entry is made of (pkg-template/index.js for
#                 browsers and bundlers, node.js for Node), left to the app's bundler:
#                 cognito_session.js (src/shell/js/bundler.js) exports `Session`;
#                 cognito_session_core.js (src/shell/js/load.js) loads the .wasm when an entry
#                 asks, from `new URL('./cognito_session_bg.wasm', import.meta.url)` or bytes;
#                 cognito_session_bg.js is the wasm-bindgen glue (--target bundler, whose own
#                 ES-module import of the .wasm is not shipped)
#   pkg/web/      for a page without a bundler: ONE ES module, cognito_session.js, exporting
#                 `default init`, `initSync` and `Session` (src/shell/js/web.js and every module
#                 it imports, bundled by esbuild: not minified, apps minify), whose `init()`
#                 fetches cognito_session_bg.wasm from next to itself, so a page loads two files
#                 instead of a waterfall of imports
#
# Each holds cognito_session.js, cognito_session.d.ts (src/shell/js/types.d.ts, plus
# web-init.d.ts for pkg/web) and cognito_session_bg.wasm; pkg/bundler also the glue and every
# other src/shell/js/*.js. Steps: cargo build with the `wasm` profile (opt-level z, panic=abort)
# and a 48 KiB stack (STACK_SIZE), wasm-bindgen, wasm-opt on the `_bg.wasm` (one, shared by both
# directories), then the JS files. Ends with the raw and `gzip -9` sizes of every file
# (scripts/package.sh measures what a user downloads).
# Needs what scripts/bootstrap.sh installs (wasm-bindgen, wasm-opt and esbuild).
# Usage: scripts/build.sh [--if-stale]
#   --if-stale   do nothing when pkg/ is newer than every source (src/, the JS shell in
#                src/shell/js included) and build input (the demo and
#                the e2e tests build this way, so a second run starts at once)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

CRATE=cognito_session

if [ "${1:-}" = --if-stale ]; then
    built="pkg/web/${CRATE}_bg.wasm"
    if [ -f "$built" ] && [ -f "pkg/bundler/${CRATE}_bg.wasm" ] &&
        [ -z "$(find src Cargo.toml Cargo.lock scripts/build.sh -newer "$built" -print -quit 2>/dev/null)" ]; then
        echo "build: pkg/ is up to date with the sources"
        exit 0
    fi
fi
TARGET=wasm32-unknown-unknown
PROFILE=wasm
# The .wasm's stack, in bytes: the shadow stack in linear memory, for what does not fit in wasm
# locals. rustc links wasm32 with --stack-first, so it is [0, STACK_SIZE), data and heap above.
# Rust's default, 1 MiB, made the linear memory 1,114,112 B at instantiation; this makes it
# 65,536 B (one page: the stack and ~5 KB of data). Measured on the shipped build: the deepest
# path is JSON nested to json::MAX_DEPTH (64) around JWTs whose payloads are nested to it too,
# in a tab message or storage record, or in a sign-in or refresh answer of MAX_BODY (64 KiB).
# It writes 10,904 B of stack; builds with -zstack-size=10928 trap on it (memory access out of
# bounds), 10944 runs every such input. 48 KiB is 4.5 times that. The margin also keeps
# wasm-opt's --low-memory-unused (below) sound: the deepest frame stays 38,208 B above address 0,
# far from the first 1 KiB. tests/e2e/memory.test.mjs drives the storage and sign-in ones through
# the built .wasm and fails if they trap or use over half the stack, or memory passes 256 KiB.
# Set for this build only, not in .cargo/config.toml: [target.wasm32-unknown-unknown] rustflags
# there would also size the stack of the wasm-bindgen-test browser tests (std, the test harness,
# opt-level 2 with debug assertions), whose needs nobody measured and which do not ship.
# WASM_STACK_SIZE overrides it for experiments (--if-stale does not notice that).
STACK_SIZE="${WASM_STACK_SIZE:-49152}"
# The wasm features rustc 1.95 enables by default for wasm32-unknown-unknown
# (`rustc --print cfg --target wasm32-unknown-unknown | grep target_feature`); wasm-opt must
# accept every one the input uses or it refuses the module.
WASM_FEATURES=(
    --enable-bulk-memory
    --enable-multivalue
    --enable-mutable-globals
    --enable-nontrapping-float-to-int
    --enable-reference-types
    --enable-sign-ext
)

die() {
    printf 'build: %s\n' "$*" >&2
    exit 1
}

WASM_OPT="${WASM_OPT:-$ROOT/.tools/node_modules/.bin/wasm-opt}"
[ -x "$WASM_OPT" ] || WASM_OPT="$(command -v wasm-opt || true)"
[ -n "$WASM_OPT" ] || die "wasm-opt not found: run scripts/bootstrap.sh"
command -v wasm-bindgen >/dev/null || die "wasm-bindgen not found: run scripts/bootstrap.sh"
ESBUILD="$ROOT/.tools/node_modules/.bin/esbuild"
[ -x "$ESBUILD" ] || die "esbuild not found in .tools/: run scripts/bootstrap.sh"

# `cargo rustc` passes the link argument to this crate's link only (the dependencies keep their
# fingerprints); a later -zstack-size overrides rustc's default one.
cargo rustc --profile "$PROFILE" --target "$TARGET" --lib --features panic-handler -- \
    -C link-arg=-zstack-size="$STACK_SIZE"
RAW="target/$TARGET/$PROFILE/$CRATE.wasm"
[ -f "$RAW" ] || die "cargo produced no $RAW"

# wasm-bindgen writes here; the shell's modules join its output, and only what ships goes to pkg/.
# One copy of the .wasm, so a concurrent cargo build in target/ cannot change it under us.
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
cp "$RAW" "$STAGE/$CRATE.wasm"

# One wasm-bindgen run, --target bundler: its cognito_session_bg.js is the glue (the `Core` class
# and the functions the .wasm imports), which does not load anything itself. Its
# cognito_session.js would import the .wasm as an ES module (the WebAssembly ESM integration,
# which webpack and Vite need configuring for): it is dropped, and its slot,
# cognito_session_core.js, the module driver.js takes `Core` from, is src/shell/js/load.js,
# which the package entries call to load the .wasm. Every other module of the shell goes beside
# them, whatever src/shell/js holds: they reach each other and the glue by relative imports.
# --encode-into always: the glue writes strings into the module's memory with
# TextEncoder.encodeInto without testing for it first (every browser with top-level await, which
# the main entry needs, has it: Chrome 74, Firefox 66, Safari 14.1), so no fallback ships.
gen="$STAGE/gen"
wasm-bindgen --target bundler --no-typescript --encode-into always --out-dir "$gen" "$STAGE/$CRATE.wasm"
rm "$gen/$CRATE.js"
cp src/shell/js/load.js "$gen/${CRATE}_core.js"
for module in src/shell/js/*.js; do
    case "$(basename "$module")" in web.js | bundler.js | load.js) ;; *) cp "$module" "$gen/" ;; esac
done
bg="$gen/${CRATE}_bg.wasm"
# -Os, then --flatten and --rereloop (binaryen rebuilds every function's control flow
# with its relooper), then -Os again: -139 B gzip against -Oz alone on this crate (measured
# at the typed-wire commit: 30,877 -> 30,738; -Oz's extra inlining limits bought nothing
# here). --converge repeats the pipeline until it stops shrinking (-125 B gzip).
# --low-memory-unused lets wasm-opt fold small constant offsets into loads and stores (-185 B
# gzip); it assumes no access reaches the first 1 KiB of memory through address wrap-around.
# That region is the far end of the stack (STACK_SIZE above), so this holds while the stack
# stays more than 1 KiB from overflowing (an overflow then traps rather than wrapping). The
# two --strip passes drop the `producers` and `target_features` custom sections (~260 bytes
# the browser never reads); passes run in command-line order.
"$WASM_OPT" "${WASM_FEATURES[@]}" -Os --flatten --rereloop -Os --converge --low-memory-unused \
    --strip-producers --strip-target-features -o "$bg.opt" "$bg"
mv "$bg.opt" "$bg"

rm -rf pkg/web pkg/bundler
mkdir -p pkg/web pkg/bundler
# pkg/bundler: the modules as they are, the entry being src/shell/js/bundler.js.
cp -R "$gen/." pkg/bundler/
cp src/shell/js/bundler.js "pkg/bundler/$CRATE.js"
cp src/shell/js/types.d.ts "pkg/bundler/$CRATE.d.ts"
# pkg/web: one module, src/shell/js/web.js and all it imports, as ESM, not minified, syntax
# untouched (no --target). load.js's `new URL('./cognito_session_bg.wasm', import.meta.url)`
# stays as written, so the bundle, next to the .wasm, finds it. Run from the staging directory
# so the bundle's file comments name the modules (`// session.js`), not temporary paths.
cp src/shell/js/web.js "$gen/$CRATE.js"
(cd "$gen" && "$ESBUILD" "$CRATE.js" --bundle --format=esm --platform=browser \
    --charset=utf8 --log-level=warning --outfile="$ROOT/pkg/web/$CRATE.js")
cp "$bg" pkg/web/
cat src/shell/js/types.d.ts src/shell/js/web-init.d.ts >"pkg/web/$CRATE.d.ts"

gz_size() { gzip -9 -c "$1" | wc -c; }
echo
printf '%-56s %9s %9s\n' "file (sizes in bytes)" "raw" "gzip -9"
printf '%-56s %9s %9s\n' "$RAW" "$(wc -c <"$RAW")" "$(gz_size "$RAW")"
for f in pkg/web/*.wasm pkg/web/*.js pkg/bundler/*.wasm pkg/bundler/*.js; do
    [ -f "$f" ] || continue
    printf '%-56s %9s %9s\n' "$f" "$(wc -c <"$f")" "$(gz_size "$f")"
done
# What a user downloads (the .wasm plus the JS minified as an app bundler ships it, and the
# script-tag file) is measured by scripts/package.sh, which builds on this.
