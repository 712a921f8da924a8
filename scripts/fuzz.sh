#!/usr/bin/env bash
# Fuzzing (issue 13): the cargo-fuzz targets under fuzz/ (one per input path of the engine; each
# target's doc comment says what it checks), built with the nightly toolchain. The shipped build
# stays on stable: fuzz/ is its own workspace, which the main crate never builds.
#
#   scripts/fuzz.sh smoke [SECONDS]            every target for SECONDS (10) each, from the seeds
#                                              and regressions; without nightly or cargo-fuzz it
#                                              says so and exits 0. Ends with "fuzz: N passed, N
#                                              failed".
#   scripts/fuzz.sh run [SECONDS] [TARGET...]  long runs (300 s each, every target), one target at
#                                              a time under `nice -n 19`, growing fuzz/work/TARGET;
#                                              prints executions, exec/s and coverage per target.
#                                              FUZZ_RUNS=N ends a target's run after N executions.
#   scripts/fuzz.sh min TARGET CRASH           minimizes a crash into fuzz/regressions/TARGET/
#                                              and prints its stack trace.
#   scripts/fuzz.sh regressions                replays fuzz/regressions/ with the checks of known
#                                              findings on (FUZZ_STRICT=1): which still fail.
#   scripts/fuzz.sh seeds                      rewrites fuzz/corpus/ (fuzz/examples/seeds.rs).
#   scripts/fuzz.sh list                       the targets.
#
# Inputs: fuzz/corpus/TARGET (committed seeds, real-shaped), fuzz/regressions/TARGET (minimized
# crashes, committed), fuzz/work/TARGET (what the fuzzer grew; not committed). Crashes land in
# fuzz/artifacts/TARGET/, logs in fuzz/work/logs/. The targets are built once per invocation
# with `cargo +nightly fuzz build -O -a` (optimized, with debug assertions and overflow checks;
# see `build` for the sanitizer), then run directly.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

FUZZ="$ROOT/fuzz"
WORK="$FUZZ/work"

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
    exit "${1:-0}"
}

# The fuzz targets: the [[bin]]s of fuzz/Cargo.toml.
targets() {
    awk '/^\[\[bin\]\]/ { bin = 1; next } /^\[/ { bin = 0 } bin && /^name = / { gsub(/"/, "", $3); print $3 }' "$FUZZ/Cargo.toml"
}

# Whether nightly and cargo-fuzz are here; says what is missing otherwise.
have_tools() {
    if ! command -v rustup >/dev/null 2>&1 || ! rustup run nightly rustc --version >/dev/null 2>&1; then
        echo "no nightly toolchain (rustup toolchain install nightly)"
        return 1
    fi
    if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
        echo "no cargo-fuzz (cargo install cargo-fuzz)"
        return 1
    fi
}

# The engine forbids unsafe code, so AddressSanitizer finds nothing a panic would not, at two to
# three times the cost per run: the targets build without it unless FUZZ_SANITIZER says
# otherwise (address, memory, ...). Debug assertions and overflow checks stay on (`-a`).
build() {
    nice -n 19 cargo +nightly fuzz build -O -a --sanitizer "${FUZZ_SANITIZER:-none}" || return 1
    local host
    host="$(rustc +nightly -vV | sed -n 's/^host: //p')"
    BIN="$FUZZ/target/$host/release"
}

# max_len per target: JWTs are refused past 16 KiB, so that target needs longer inputs.
max_len() {
    case "$1" in
        jwt) echo 20000 ;;
        *) echo 8192 ;;
    esac
}

# fuzz_one TARGET SECONDS WORKDIR LOG: one libFuzzer run; its exit status.
fuzz_one() {
    local target="$1" seconds="$2" work="$3" log="$4"
    local dirs=("$work" "$FUZZ/corpus/$target")
    [ -d "$FUZZ/regressions/$target" ] && dirs+=("$FUZZ/regressions/$target")
    mkdir -p "$work" "$FUZZ/artifacts/$target" "$(dirname "$log")"
    nice -n 19 "$BIN/$target" \
        -max_total_time="$seconds" \
        -max_len="$(max_len "$target")" \
        -timeout=10 \
        -rss_limit_mb=2048 \
        -print_final_stats=1 \
        ${FUZZ_RUNS:+-runs="$FUZZ_RUNS"} \
        -artifact_prefix="$FUZZ/artifacts/$target/" \
        "${dirs[@]}" >"$log" 2>&1
}

# stats LOG: "executions exec/s cov ft" from libFuzzer's final lines.
stats() {
    awk '/^stat::number_of_executed_units:/ { runs = $2 }
        /^stat::average_exec_per_sec:/ { rate = $2 }
        /^#[0-9]+\t/ { for (i = 1; i <= NF; i++) { if ($i == "cov:") cov = $(i + 1); if ($i == "ft:") ft = $(i + 1) } }
        END { printf "%s %s %s %s", runs + 0, rate + 0, cov + 0, ft + 0 }' "$1"
}

# The crash libFuzzer wrote, if any.
crash_of() {
    sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$1" | tail -n 1
}

smoke() {
    local seconds="${1:-10}"
    local why
    if ! why="$(have_tools)"; then
        echo "fuzz smoke skipped: $why"
        echo "fuzz: 0 passed, 0 failed (skipped)"
        return 0
    fi
    if ! build; then
        echo "fuzz: 0 passed, 1 failed (the targets do not build)"
        return 1
    fi
    local passed=0 failed=0 target dir
    dir="$(mktemp -d)"
    for target in $(targets); do
        local log="$WORK/logs/smoke-$target.log"
        if fuzz_one "$target" "$seconds" "$dir/$target" "$log"; then
            read -r runs rate cov ft <<<"$(stats "$log")"
            printf 'fuzz smoke %-16s ok      %9s runs %7s/s  cov %5s ft %6s\n' "$target" "$runs" "$rate" "$cov" "$ft"
            passed=$((passed + 1))
        else
            printf 'fuzz smoke %-16s FAILED  crash: %s (log %s)\n' "$target" "$(crash_of "$log")" "$log"
            grep -E '^(thread|panicked|==[0-9]+==ERROR|SUMMARY)' "$log" | head -n 5 || true
            failed=$((failed + 1))
        fi
    done
    rm -rf "$dir"
    echo "fuzz: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

run() {
    local seconds=300
    if [[ "${1:-}" =~ ^[0-9]+$ ]]; then
        seconds="$1"
        shift
    fi
    local chosen=("$@")
    [ "${#chosen[@]}" -gt 0 ] || mapfile -t chosen < <(targets)
    local why
    if ! why="$(have_tools)"; then
        echo "cannot fuzz: $why" >&2
        return 1
    fi
    build || return 1
    local status=0 target lines=()
    for target in "${chosen[@]}"; do
        local log="$WORK/logs/run-$target.log" result=ok
        echo "fuzzing $target for ${seconds}s (log $log)"
        local start=$SECONDS
        fuzz_one "$target" "$seconds" "$WORK/$target" "$log" || { result="CRASH $(crash_of "$log")"; status=1; }
        read -r runs rate cov ft <<<"$(stats "$log")"
        lines+=("$(printf '%-16s %11s runs %8s/s  cov %5s ft %6s  %4ss  %s' "$target" "$runs" "$rate" "$cov" "$ft" "$((SECONDS - start))" "$result")")
    done
    echo
    echo "=== executions per target"
    printf '%s\n' "${lines[@]}"
    return "$status"
}

minimize() {
    local target="${1:?target}" crash="${2:?crash file}"
    build || return 1
    local out="$FUZZ/regressions/$target"
    mkdir -p "$out"
    local name
    name="$(basename "$crash")"
    # FUZZ_STRICT=1: the checks of known findings run too (see fuzz/src/lib.rs, `strict`).
    FUZZ_STRICT=1 nice -n 19 "$BIN/$target" -minimize_crash=1 -max_total_time=120 \
        -exact_artifact_path="$out/$name" "$crash" 2>&1 | tail -n 3
    [ -f "$out/$name" ] || cp "$crash" "$out/$name"
    echo "minimized: $out/$name ($(wc -c <"$out/$name") bytes)"
    echo "replay: FUZZ_STRICT=1 $BIN/$target $out/$name"
    FUZZ_STRICT=1 RUST_BACKTRACE=1 "$BIN/$target" "$out/$name" 2>&1 |
        sed -n '/panicked at/,/^note:/p; /==ERROR/,/^SUMMARY/p' | head -n 60 || true
}

# Replays every regression input strictly; lists each with "fixed" or "FAILS".
regressions() {
    build || return 1
    local target file failing=0
    for target in $(targets); do
        [ -d "$FUZZ/regressions/$target" ] || continue
        for file in "$FUZZ/regressions/$target"/*; do
            if FUZZ_STRICT=1 "$BIN/$target" "$file" >"$WORK/logs/replay.log" 2>&1; then
                printf '%-16s %-40s fixed\n' "$target" "$(basename "$file")"
            else
                printf '%-16s %-40s FAILS: %s\n' "$target" "$(basename "$file")" \
                    "$(grep -m1 -A1 'panicked at' "$WORK/logs/replay.log" | tail -n 1)"
                failing=$((failing + 1))
            fi
        done
    done
    [ "$failing" -eq 0 ]
}

case "${1:-}" in
    smoke) shift; smoke "$@" ;;
    run) shift; run "$@" ;;
    min) shift; minimize "$@" ;;
    regressions) mkdir -p "$WORK/logs"; regressions ;;
    seeds)
        rm -rf "$FUZZ/corpus"
        cargo +nightly run --quiet --manifest-path "$FUZZ/Cargo.toml" --example seeds -- "$FUZZ/corpus"
        ;;
    list) targets ;;
    -h | --help | help) usage ;;
    *) usage 1 ;;
esac
