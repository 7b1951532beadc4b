#!/usr/bin/env bash
# Starts durable-gateway on the embedded default storage: installs what is
# missing, starts Azurite on loopback with its data in .azurite/, builds (the
# gateway and the durable command-line client), and runs the gateway in the
# foreground. Ctrl-C stops everything.
#   --with-worker  also builds and starts the sample Durable Task worker
#                  (tests/interop/worker, .NET) on the task hub DurableFunctionsHub,
#                  so that started orchestrations (E1_HelloSequence, ...) run.
#   DG_PORT (default 7071) and DG_LISTEN (default 127.0.0.1) choose where it listens.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
with_worker=""
for arg in "$@"; do
    case "$arg" in
        --with-worker) with_worker=1 ;;
        *) echo "usage: scripts/run.sh [--with-worker]" >&2; exit 2 ;;
    esac
done
. scripts/lib/azurite.sh
. scripts/lib/worker.sh
if [ -n "$with_worker" ] && ! command -v dotnet >/dev/null 2>&1; then
    echo "run: --with-worker needs the .NET SDK (dotnet) to build the sample worker in tests/interop/worker;" \
         "install it (Debian: dotnet-sdk-10.0 from packages.microsoft.com), or run without --with-worker" >&2
    exit 1
fi
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target durable-gateway durable
if [ -n "$with_worker" ]; then
    echo "run: building the sample worker (tests/interop/worker)"
    worker_build
fi

trap 'worker_stop; azurite_stop' EXIT
trap 'exit 130' INT TERM
azurite_start disk "$root/.azurite" || { echo "run: Azurite did not start (ports 10000-10002 in use?)" >&2; exit 1; }
echo "run: Azurite is up (blob 10000, queue 10001, table 10002; data in .azurite/)"
if [ -n "$with_worker" ]; then
    worklog="$root/.durable-gateway/worker.log"
    echo "run: starting the sample worker on DurableFunctionsHub (its log: .durable-gateway/worker.log)"
    worker_start DurableFunctionsHub 4 "$worklog" || { echo "run: the worker did not start" >&2; exit 1; }
    echo "run: the worker runs E1_HelloSequence, WaitForEvent, FailOnce and the other orchestrations of tests/interop/worker/Orchestrations.cs"
fi

# The system key for the management API, made once with a random value.
keyfile="$root/.durable-gateway/keys.json"
if [ ! -f "$keyfile" ]; then
    mkdir -p "$(dirname "$keyfile")"
    umask 077
    key="$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    printf '{\n  "masterKey": "%s"\n}\n' "$key" > "$keyfile"
fi
key="$(sed -n 's/.*"masterKey": *"\([^"]*\)".*/\1/p' "$keyfile")"
port="${DG_PORT:-7071}"
listen="${DG_LISTEN:-127.0.0.1}"
echo "run: durable-gateway on http://$listen:$port  (try: curl http://$listen:$port/healthz)"
echo "run: system key (x-functions-key header or code= query): $key   [from .durable-gateway/keys.json]"
echo "run: e.g. curl -H 'x-functions-key: $key' http://$listen:$port/runtime/webhooks/durabletask/instances/ID"
echo "run: or: AzureWebJobsStorage=UseDevelopmentStorage=true build/durable get-instances   (build/durable --help)"
AzureWebJobsStorage="UseDevelopmentStorage=true" ./build/durable-gateway --listen "$listen" --port "$port" --key-file "$keyfile" &
gw=$!
trap 'kill $gw 2>/dev/null; wait $gw 2>/dev/null; worker_stop; azurite_stop' EXIT
wait $gw
