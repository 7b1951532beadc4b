#!/usr/bin/env bash
# Long-poll benchmark: 10,000 concurrent waiters over 100 instances on one gateway (release
# build, keys on) and one in-memory Azurite started here. Prints memory per waiter, CPU while
# waiting, storage reads against per-request pollers measured in the same run (clients that
# each poll GET instances/{id} every interval, as the host's held requests read), completion
# to answer latency against the retry interval, and answer counts.
# usage: bench/wait.sh [WAITERS] [INSTANCES] [INTERVAL_S] [POLLERS]   (default 10000 100 1 500;
#        POLLERS, at most WAITERS, poll for 5 intervals: the reference, scaled to WAITERS)
set -euo pipefail
cd "$(dirname "$0")/.."
waiters="${1:-10000}" instances="${2:-100}" interval="${3:-1}" pollers="${4:-500}"
[ "$pollers" -gt "$waiters" ] && pollers=$waiters
. bench/lib.sh
bench_build durable-gateway bench_wait
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true   # each process holds one socket per waiter
bench_azurite
hub="Bench$RANDOM$RANDOM"
bench_gateway --task-hub "$hub" --max-waiters $((waiters + 1000)) --connection-limit $((waiters + 1000))
AZURITE_CONNECTION_STRING="$AZURITE_CONNECTION_STRING" ./build/bench/bench_wait "$BENCH_GW_PID" "$BENCH_PORT" \
    "$hub" "$waiters" "$instances" "$interval" "$pollers"
