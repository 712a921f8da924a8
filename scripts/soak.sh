#!/usr/bin/env bash
# The soak: the single-session simulation (tests/simulation.rs) over many more seeded schedules
# than CI's 10,000, sharded over the machine's cores. Each shard is one process of the release
# test binary with SIM_SCHEDULES and SIM_SHARD=i/n; the script adds up their SIM_TOTALS lines and
# prints schedules, events, tokens handed out, refreshes, logins, offline periods and violations
# (schedules that broke the contract; each failing seed is in that shard's log with SIM_SEED=n to
# replay it).
#
#   scripts/soak.sh [SCHEDULES]     default 100000; SOAK_SHARDS=n overrides the core count
#
# Exit status: non-zero when any shard failed (a violation, or a shard that did not finish).
# Logs: target/soak/shard-i.log.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

schedules="${1:-100000}"
shards="${SOAK_SHARDS:-$(nproc 2>/dev/null || echo 2)}"
case "$schedules$shards" in
*[!0-9]*) echo "usage: scripts/soak.sh [SCHEDULES] (SOAK_SHARDS=n)" >&2; exit 2 ;;
esac
[ "$shards" -ge 1 ] || shards=1

logs="$ROOT/target/soak"
mkdir -p "$logs"

# Build once; the shards then run the same binary side by side.
binary="$(cargo test --release --test simulation --no-run 2>&1 |
    sed -n 's/^ *Executable tests\/simulation\.rs (\(.*\))$/\1/p' | tail -n 1)"
if [ -z "$binary" ] || [ ! -x "$binary" ]; then
    echo "soak: could not build the simulation test binary" >&2
    cargo test --release --test simulation --no-run >&2
    exit 1
fi

echo "soak: $schedules schedules over $shards shards ($binary)"
start=$SECONDS
pids=()
for ((i = 0; i < shards; i++)); do
    SIM_SCHEDULES="$schedules" SIM_SHARD="$i/$shards" \
        "$binary" --exact every_seeded_schedule_keeps_the_behaviour_contract --nocapture \
        >"$logs/shard-$i.log" 2>&1 &
    pids+=("$!")
done

status=0
for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
        echo "soak: shard $i/$shards failed (see $logs/shard-$i.log)"
        status=1
    fi
done
elapsed=$((SECONDS - start))

# Sum the shards' SIM_TOTALS lines; a shard without one did not finish.
totals="$(cat "$logs"/shard-*.log | awk -v shards="$shards" '
    /^SIM_TOTALS / {
        seen++
        for (i = 2; i <= NF; i++) { split($i, kv, "="); sum[kv[1]] += kv[2] }
    }
    END {
        printf "schedules %d\nevents %d\ntokens handed out %d\nrefreshes %d\nlogins %d\noffline periods %d\nviolations %d\n",
            sum["schedules"], sum["events"], sum["handed_out"], sum["refreshes"], sum["logins"],
            sum["offline_periods"], sum["violations"]
        if (seen != shards) printf "shards reporting %d of %d\n", seen, shards
    }')"
echo "$totals"
echo "wall time ${elapsed}s"
grep -h "replay with SIM_SEED=" "$logs"/shard-*.log | sort -u | head -n 20 || true
if ! grep -q "^violations 0$" <<<"$totals" || grep -q "^shards reporting" <<<"$totals"; then
    status=1
fi
exit "$status"
