# Sourced by the bench/*.sh scripts: the release build, a private in-memory Azurite and
# a gateway started as users run it (a key file, the durabletask_extension system key).
#
#   bench_build TARGET...   scripts/setup.sh, then configure build/ (RelWithDebInfo) and
#                           build those targets
#   bench_azurite           creates BENCH_WORK (a temporary directory) and starts Azurite
#                           there; both go when the script exits (with the gateway)
#   bench_gateway ARGS...   build/durable-gateway on a free loopback port with a fresh key
#                           file and ARGS, its log in BENCH_WORK/gateway.log; waits for
#                           /healthz. Sets BENCH_PORT, BENCH_KEY (the system key, exported)
#                           and BENCH_GW_PID.

BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_WORK=""
BENCH_GW_PID=""

bench_build() {
    bash "$BENCH_ROOT/scripts/setup.sh" >/dev/null
    cmake -S "$BENCH_ROOT" -B "$BENCH_ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$BENCH_ROOT/build" -j"$(nproc)" --target "$@" >/dev/null
}

_bench_cleanup() {
    [ -n "$BENCH_GW_PID" ] && kill "$BENCH_GW_PID" 2>/dev/null
    azurite_stop
    [ -n "$BENCH_WORK" ] && rm -rf "$BENCH_WORK"
}

bench_azurite() {
    . "$BENCH_ROOT/scripts/lib/azurite.sh"
    BENCH_WORK="$(mktemp -d)"
    trap _bench_cleanup EXIT
    trap 'exit 130' INT TERM
    azurite_start memory "$BENCH_WORK"
}

bench_gateway() {
    BENCH_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    BENCH_KEY="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    export BENCH_KEY
    printf '{"systemKeys":{"durabletask_extension":"%s"}}\n' "$BENCH_KEY" > "$BENCH_WORK/keys.json"
    AzureWebJobsStorage="$AZURITE_CONNECTION_STRING" "$BENCH_ROOT/build/durable-gateway" \
        --key-file "$BENCH_WORK/keys.json" --port "$BENCH_PORT" --log-level warn "$@" \
        >"$BENCH_WORK/gateway.log" 2>&1 &
    BENCH_GW_PID=$!
    for _ in $(seq 200); do
        curl -fs "http://127.0.0.1:$BENCH_PORT/healthz" >/dev/null && return 0
        sleep 0.05
    done
    echo "bench: the gateway did not start:" >&2
    cat "$BENCH_WORK/gateway.log" >&2
    return 1
}
