#!/usr/bin/env bash
# Management API benchmark: status, list (top=100) and start through the
# gateway (release build, one kept-alive client connection) against the same
# storage operations issued directly, in one run against one in-memory Azurite
# started here. Prints ops/s and latency for both and the gateway's overhead.
# usage: bench/api.sh [N]   (default 2000 status calls; list N/4, start N/2)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
n="${1:-2000}"
bash scripts/setup.sh >/dev/null
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target durable-gateway bench_api >/dev/null
. scripts/lib/azurite.sh
work="$(mktemp -d)"
gw=""
cleanup() { [ -n "$gw" ] && kill "$gw" 2>/dev/null; azurite_stop; rm -rf "$work"; }
trap cleanup EXIT
azurite_start memory "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
hub="Api$RANDOM$RANDOM"
AzureWebJobsStorage="$AZURITE_CONNECTION_STRING" ./build/durable-gateway --no-auth --port "$port" \
    --task-hub "$hub" --log-level warn >"$work/gateway.log" 2>&1 &
gw=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.05; done
AZURITE_CONNECTION_STRING="$AZURITE_CONNECTION_STRING" ./build/bench/bench_api "$port" "$hub" "$n"
