#!/usr/bin/env bash
# Starts durable-gateway on the embedded default storage: installs what is
# missing, starts Azurite on loopback with its data in .azurite/, builds, and
# runs the gateway in the foreground. Ctrl-C stops both.
#   DG_PORT (default 7071) and DG_LISTEN (default 127.0.0.1) choose where it listens.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target durable-gateway

. scripts/lib/azurite.sh
trap 'azurite_stop' EXIT
trap 'exit 130' INT TERM
azurite_start disk "$root/.azurite" || { echo "run: Azurite did not start (ports 10000-10002 in use?)" >&2; exit 1; }
echo "run: Azurite is up (blob 10000, queue 10001, table 10002; data in .azurite/)"

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
AzureWebJobsStorage="UseDevelopmentStorage=true" ./build/durable-gateway --listen "$listen" --port "$port" --key-file "$keyfile" &
gw=$!
trap 'kill $gw 2>/dev/null; wait $gw 2>/dev/null; azurite_stop' EXIT
wait $gw
