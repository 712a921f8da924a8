#!/usr/bin/env bash
# Mutation testing of the engine (issue 13): cargo-mutants changes src/engine one mutant at a
# time (a `+` for a `-`, a function body for a default value, ...) and runs the engine's unit
# tests (`cargo test --lib`) against each. A mutant the tests do not notice is "missed": either a
# test is missing or the mutant does the same thing as the code. Prints caught / missed /
# unviable / timeout per file, and the missed mutants. Long: every mutant is a rebuild, so the whole
# engine takes hours on two cores; name files to narrow it.
#
#   scripts/mutants.sh [FILE...]      default: every src/engine/*.rs
#
# The test timeout is 10 s: the unit tests take under a second, and a mutant that makes them loop
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
cargo mutants "${args[@]}" --jobs 2 --timeout 10 --iterate --output target/mutants -- --lib || true

out=target/mutants/mutants.out
# Every run's outcomes are appended to a ledger, so the table counts what earlier runs found too
# (with --iterate a run does not retest what was caught); a mutant's latest outcome counts.
# "caught %" is caught / (caught + missed): a timeout is a mutant that made the tests hang, and an
# unviable one does not compile; neither is counted.
ledger=target/mutants/ledger.txt
for kind in caught missed unviable timeout; do
    [ -f "$out/$kind.txt" ] && sed "s/^/$kind /" "$out/$kind.txt"
done >>"$ledger"
awk '{ kind = $1; $1 = ""; latest[$0] = kind }
    END { for (m in latest) { split(m, p, ":"); print latest[m], substr(p[1], 2) } }' "$ledger" |
    sort -k2 | awk '
    { n[$2, $1]++; if (!($2 in seen)) { seen[$2] = 1; order[++files] = $2 } total[$1]++ }
    function row(name, c, m, t, u) { printf "%-28s %7d %7d %8d %9d %8.1f%%\n", name, c, m, t, u, (c + m) ? 100 * c / (c + m) : 100 }
    END {
        printf "%-28s %7s %7s %8s %9s %9s\n", "file", "caught", "missed", "timeout", "unviable", "caught %"
        for (i = 1; i <= files; i++) { f = order[i]; row(f, n[f, "caught"], n[f, "missed"], n[f, "timeout"], n[f, "unviable"]) }
        row("total", total["caught"], total["missed"], total["timeout"], total["unviable"])
    }'
if [ -s "$out/missed.txt" ]; then
    echo "missed:"
    sed 's/^/  /' "$out/missed.txt"
fi
