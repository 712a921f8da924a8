#!/usr/bin/env bash
# Mutation testing of the engine (issue 13): cargo-mutants changes src/engine one mutant at a
# time (a `+` for a `-`, a function body for a default value, ...) and runs the engine's unit
# tests (`cargo test --lib`) against each. A mutant the tests do not notice is "missed": either a
# test is missing or the mutant does the same thing as the code. Prints caught / missed /
# unviable / timeout, and the missed mutants. Long: every mutant is a rebuild, so the whole
# engine takes hours on two cores; name files to narrow it.
#
#   scripts/mutants.sh [FILE...]      default: every src/engine/*.rs
#
# The test timeout is 20 s: the unit tests take under a second, and a mutant that makes them loop
# would otherwise cost minutes. --iterate skips what an earlier run in target/mutants caught.
# Installs cargo-mutants (crates.io) when missing. Results: target/mutants/mutants.out/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

command -v cargo-mutants >/dev/null 2>&1 || cargo install cargo-mutants

files=("$@")
[ "${#files[@]}" -gt 0 ] || files=(src/engine/*.rs)
args=()
for f in "${files[@]}"; do args+=(--file "$f"); done

# Exit status 2 means "some mutants were missed", which is what this command reports on.
cargo mutants "${args[@]}" --jobs 1 --timeout 20 --iterate --output target/mutants -- --lib || true

out=target/mutants/mutants.out
for kind in caught missed unviable timeout; do
    printf '%-9s %s\n' "$kind" "$( [ -f "$out/$kind.txt" ] && wc -l <"$out/$kind.txt" || echo 0)"
done
if [ -s "$out/missed.txt" ]; then
    echo "missed:"
    sed 's/^/  /' "$out/missed.txt"
fi
