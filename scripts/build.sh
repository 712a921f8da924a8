#!/usr/bin/env bash
# Builds the shipped artifact: the size-optimised .wasm plus its JavaScript glue.
#
#   pkg/web/      wasm-bindgen --target web      (an ES module that fetches the .wasm itself)
#   pkg/bundler/  wasm-bindgen --target bundler  (for webpack / vite / rollup)
#
# Steps: cargo build with the `wasm` profile (opt-level z, panic=abort), wasm-bindgen, then
# wasm-opt -Oz on each `_bg.wasm`. Ends with the raw and `gzip -9` sizes of every .wasm and .js.
# Needs what scripts/bootstrap.sh installs. Usage: scripts/build.sh [--if-stale]
#   --if-stale   do nothing when pkg/ is newer than every source and build input (the demo and
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

cargo build --profile "$PROFILE" --target "$TARGET" --lib
RAW="target/$TARGET/$PROFILE/$CRATE.wasm"
[ -f "$RAW" ] || die "cargo produced no $RAW"

for js_target in web bundler; do
    out="pkg/$js_target"
    rm -rf "$out"
    wasm-bindgen --target "$js_target" --out-dir "$out" "$RAW"
    bg="$out/${CRATE}_bg.wasm"
    # --converge repeats -Oz until it stops shrinking (-125 B gzip). --low-memory-unused lets
    # wasm-opt fold small constant offsets into loads and stores (-185 B gzip); it assumes no
    # access reaches the first 1 KiB of memory through address wrap-around, which Rust code never
    # does (that region is the far end of the 1 MiB stack). The two --strip passes drop the
    # `producers` and `target_features` custom sections (~260 bytes the browser never reads);
    # they run after -Oz, in command-line order.
    "$WASM_OPT" "${WASM_FEATURES[@]}" -Oz --converge --low-memory-unused \
        --strip-producers --strip-target-features -o "$bg.opt" "$bg"
    mv "$bg.opt" "$bg"
done

gz_size() { gzip -9 -c "$1" | wc -c; }
echo
printf '%-56s %9s %9s\n' "file (sizes in bytes)" "raw" "gzip -9"
printf '%-56s %9s %9s\n' "$RAW" "$(wc -c <"$RAW")" "$(gz_size "$RAW")"
for f in pkg/web/*.wasm pkg/web/*.js pkg/bundler/*.wasm pkg/bundler/*.js; do
    [ -f "$f" ] || continue
    printf '%-56s %9s %9s\n' "$f" "$(wc -c <"$f")" "$(gz_size "$f")"
done
