#!/usr/bin/env bash
# Management API benchmark: status, list (top=100) and start through the gateway (release
# build, keys on as users run it: a key file and the x-functions-key header, one kept-alive
# client connection) against the same storage operations issued directly, with the same
# $filter and $select, in one run against one in-memory Azurite started here. Prints ops/s
# and latency for both and the gateway's overhead.
# usage: bench/api.sh [N]   (default 2000 status calls; list N/4, start N/2)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-2000}"
. bench/lib.sh
bench_build durable-gateway bench_api
bench_azurite
hub="Api$RANDOM$RANDOM"
bench_gateway --task-hub "$hub"
AZURITE_CONNECTION_STRING="$AZURITE_CONNECTION_STRING" ./build/bench/bench_api "$BENCH_PORT" "$hub" "$n"
