#!/usr/bin/env bash
# Builds the Rust consumer app (tests/consumers/rust-app: a plain wasm-bindgen + web-sys
# frontend on cognito-session's `web` feature) into www/rust/pkg/, where the demo command serves
# it at /rust/ and tests/e2e/rust.test.mjs loads it. Steps: cargo build --release for
# wasm32-unknown-unknown (its own target dir, target/rust-app), wasm-bindgen --target web,
# wasm-opt -Oz. Ends with the .wasm's size, raw and gzip -9: what a Rust app pays for the session
# on top of what it links anyway.
# Usage: scripts/rust-app.sh [--if-stale]
#   --if-stale   do nothing when www/rust/pkg/ is newer than the app's and the crate's sources
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

APP=tests/consumers/rust-app
OUT=www/rust/pkg
WASM="$OUT/rust_app_bg.wasm"

if [ "${1:-}" = --if-stale ] && [ -f "$WASM" ] &&
    [ -z "$(find src Cargo.toml "$APP/src" "$APP/Cargo.toml" "$APP/Cargo.lock" scripts/rust-app.sh -newer "$WASM" -print -quit 2>/dev/null)" ]; then
    echo "rust-app: $OUT is up to date with the sources"
    exit 0
fi

WASM_OPT="${WASM_OPT:-$ROOT/.tools/node_modules/.bin/wasm-opt}"
[ -x "$WASM_OPT" ] || WASM_OPT="$(command -v wasm-opt || true)"
command -v wasm-bindgen >/dev/null || {
    echo "rust-app: wasm-bindgen not found: run scripts/bootstrap.sh" >&2
    exit 1
}

CARGO_TARGET_DIR="$ROOT/target/rust-app" cargo build --release --target wasm32-unknown-unknown \
    --manifest-path "$APP/Cargo.toml"
rm -rf "$OUT"
wasm-bindgen --target web --no-typescript --out-dir "$OUT" \
    "$ROOT/target/rust-app/wasm32-unknown-unknown/release/rust_app.wasm"
if [ -n "$WASM_OPT" ]; then
    # The features rustc enables by default for wasm32 (as scripts/build.sh lists them).
    "$WASM_OPT" --enable-bulk-memory --enable-multivalue --enable-mutable-globals \
        --enable-nontrapping-float-to-int --enable-reference-types --enable-sign-ext \
        -Oz --strip-producers -o "$WASM.opt" "$WASM"
    mv "$WASM.opt" "$WASM"
fi
printf '%-40s %9s %9s\n' "rust-app (sizes in bytes)" "raw" "gzip -9"
for f in "$WASM" "$OUT/rust_app.js"; do
    printf '%-40s %9s %9s\n' "$f" "$(wc -c <"$f")" "$(gzip -9 -c "$f" | wc -c)"
done
