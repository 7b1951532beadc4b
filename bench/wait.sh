#!/usr/bin/env bash
# Long-poll benchmark: 10,000 concurrent waiters over 100 instances on one
# gateway (release build) and one in-memory Azurite started here. Prints memory
# per waiter, CPU while waiting, storage reads against a per-request poller,
# completion-to-answer latency against the retry interval, and answer counts.
# usage: bench/wait.sh [WAITERS] [INSTANCES] [INTERVAL_S]   (default 10000 100 1)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
waiters="${1:-10000}" instances="${2:-100}" interval="${3:-1}"
bash scripts/setup.sh >/dev/null
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target durable-gateway bench_wait >/dev/null
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true   # each process holds one socket per waiter
. scripts/lib/azurite.sh
. scripts/lib/proc.sh
work="$(mktemp -d)"
gw=""
cleanup() { [ -n "$gw" ] && kill "$gw" 2>/dev/null; azurite_stop; rm -rf "$work"; }
trap cleanup EXIT
azurite_start memory "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
hub="Bench$RANDOM$RANDOM"
AzureWebJobsStorage="$AZURITE_CONNECTION_STRING" ./build/durable-gateway --no-auth --port "$port" \
    --task-hub "$hub" --log-level warn --max-waiters $((waiters + 1000)) --connection-limit $((waiters + 1000)) \
    >"$work/gateway.log" 2>&1 &
gw=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.05; done
AZURITE_CONNECTION_STRING="$AZURITE_CONNECTION_STRING" ./build/bench/bench_wait "$gw" "$port" "$hub" \
    "$waiters" "$instances" "$interval"
