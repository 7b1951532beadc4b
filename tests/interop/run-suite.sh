#!/usr/bin/env bash
# usage: run-suite.sh SUITE GATEWAY_BINARY [RESULTS_FILE]
#
# Runs one interop suite against the real Durable Task Framework worker
# (tests/interop/worker) and the gateway binary given:
#   worker   tests/interop/worker-suite.js: the gateway's HTTP API over what the worker runs
#   client   tests/interop/client/client-suite.js: the npm durable-functions DurableClient
#   cli      tests/interop/cli-suite.js: the durable command-line client (the durable binary
#            beside GATEWAY_BINARY), straight to storage and through the gateway
#   rewind   tests/interop/rewind_e2e.sh: the gateway's rewind against the framework's own,
#            row for row
#   entities tests/interop/entities.sh: the entity routes against the worker's entity
#            dispatcher and the provider's entity reader
#
# It starts a private in-memory Azurite, the worker (hub InteropHub, 4 partitions) and the
# gateway with a key file; the client suite also starts a second gateway with --no-auth for
# the client's RPC mode (the host's local RPC listener checks no key either). All of them
# listen on loopback only and die with this script, even if it is SIGKILLed (proc.sh's
# watchdog). Each scenario prints "PASS name" or "FAIL name: why"; the gateway's own exit
# (a sanitizer report, a leak, a crash) is one more scenario. The output is also written to
# RESULTS_FILE when given.
#
# Exit 0 when every scenario passed, 1 otherwise, and 77 (CTest's skip) when dotnet is
# missing, unless DG_REQUIRE_INTEROP=1 (set by .ci/run), which makes that a failure.
set -u
suite="${1:-}"
gateway="${2:-}"
results="${3:-}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

case "$suite" in
    worker) driver="$here/worker-suite.js" ;;
    client) driver="$here/client/client-suite.js" ;;
    cli) driver="$here/cli-suite.js" ;;
    rewind) driver="$here/rewind_e2e.sh" ;;
    entities) driver="$here/entities.sh" ;;
    *) echo "usage: run-suite.sh worker|client|cli|rewind|entities GATEWAY_BINARY [RESULTS_FILE]" >&2; exit 2 ;;
esac
if [ ! -x "$gateway" ]; then
    echo "run-suite: gateway binary '$gateway' is not executable" >&2
    exit 2
fi
DG_DURABLE_BIN="$(dirname "$gateway")/durable"
if [ "$suite" = cli ] && [ ! -x "$DG_DURABLE_BIN" ]; then
    echo "run-suite: the durable client '$DG_DURABLE_BIN' (beside the gateway) is not executable" >&2
    exit 2
fi

if [ -n "$results" ]; then
    mkdir -p "$(dirname "$results")"
    : > "$results"
    exec > >(tee -a "$results") 2>&1
fi
echo "interop $suite suite: $(date -u +%Y-%m-%dT%H:%M:%SZ), gateway $gateway"

if ! command -v dotnet >/dev/null 2>&1; then
    if [ "${DG_REQUIRE_INTEROP:-0}" = 1 ]; then
        echo "FAIL interop-$suite: the .NET SDK (dotnet) is not installed, and DG_REQUIRE_INTEROP=1 requires this suite"
        echo "0 passed, 1 failed"
        exit 1
    fi
    echo "SKIP interop-$suite: the .NET SDK (dotnet) is not installed, so the real Durable Task worker cannot run" \
         "(install dotnet-sdk-10.0; DG_REQUIRE_INTEROP=1 turns this skip into a failure)"
    exit 77
fi
if [ ! -f "$root/node_modules/durable-functions/package.json" ] || [ ! -f "$root/node_modules/azurite/package.json" ]; then
    echo "FAIL interop-$suite: node_modules is incomplete; run scripts/setup.sh (npm ci)"
    echo "0 passed, 1 failed"
    exit 1
fi

. "$root/scripts/lib/azurite.sh"
. "$root/scripts/lib/worker.sh"

work="$(mktemp -d "${TMPDIR:-/tmp}/dg-interop-$suite.XXXXXX")"
GW_PIDS=()
GW_WATCHDOGS=()
NODE_PID=
NODE_WATCHDOG=
cleanup() {
    local i
    proc_stop "$NODE_PID" "$NODE_WATCHDOG" 2
    for i in "${!GW_PIDS[@]}"; do proc_stop "${GW_PIDS[$i]}" "${GW_WATCHDOGS[$i]}" 10; done
    GW_PIDS=()
    worker_stop
    azurite_stop
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t0=$(date +%s%N)
ms() { echo $(( ($(date +%s%N) - t0) / 1000000 )); }

fail_setup() {
    echo "FAIL interop-$suite: $1"
    for f in "$work"/*.log; do
        [ -s "$f" ] || continue
        echo "--- $(basename "$f") (last 30 lines)"
        tail -n 30 "$f"
    done
    echo "0 passed, 1 failed"
    exit 1
}

worker_build || fail_setup "the worker did not build (dotnet build from the pinned lock file)"
build_ms=$(ms)
azurite_start memory "$work/azurite" || fail_setup "Azurite did not start"
HUB=InteropHub
worker_start "$HUB" 4 "$work/worker.log" --poll-ms 200 || fail_setup "the worker did not start"
worker_ms=$(ms)

# Keys: a master key, the durabletask_extension system key, a key of another extension
# (403) and a read-only key. The suites send the system key unless a scenario says otherwise.
DG_MASTER_KEY="interop-master-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
DG_KEY="interop-system-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
DG_OTHER_KEY="interop-other-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
DG_READONLY_KEY="interop-readonly-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '{"masterKey":"%s","systemKeys":{"durabletask_extension":["%s"],"other_extension":"%s"},"readOnlyKeys":["%s"]}\n' \
    "$DG_MASTER_KEY" "$DG_KEY" "$DG_OTHER_KEY" "$DG_READONLY_KEY" > "$work/keys.json"

# gw_start NAME ARGS...: a gateway on a free loopback port; sets GW_PORT.
gw_start() {
    local name="$1"; shift
    local log="$work/$name.log" i pid
    AzureWebJobsStorage="$AZURITE_CONNECTION_STRING" "$gateway" --listen 127.0.0.1 --port 0 \
        --task-hub "$HUB" --threads 8 "$@" > "$log" 2>&1 &
    pid=$!
    proc_watch "$pid"
    GW_PIDS+=("$pid")
    GW_WATCHDOGS+=("$PROC_WATCHDOG")
    GW_PORT=""
    for i in $(seq 1 200); do
        GW_PORT=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$log")
        [ -n "$GW_PORT" ] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    fail_setup "gateway $name did not start"
}

# The worker's orchestrations, as the host knows its functions: start refuses other names
# with 400 (docs/http-api.md §4.1) instead of leaving a Pending instance no worker can run.
ORCHESTRATORS=E1_HelloSequence,WaitForEvent,CustomStatusTimer,FailOnce,FailOnceTree,AlwaysFail,ContinueAsNewCounter,ParentOrchestration,LargePayload,Echo
gw_start gateway --key-file "$work/keys.json" --orchestrators "$ORCHESTRATORS"
DG_URL="http://127.0.0.1:$GW_PORT"
DG_RPC_URL=""
if [ "$suite" = client ]; then
    gw_start gateway-rpc --no-auth --orchestrators "$ORCHESTRATORS"
    DG_RPC_URL="http://127.0.0.1:$GW_PORT"
fi
echo "setup: worker build ${build_ms} ms, worker ready ${WORKER_READY_MS} ms (at ${worker_ms} ms), gateway $DG_URL${DG_RPC_URL:+, RPC gateway $DG_RPC_URL}"

export DG_URL DG_RPC_URL DG_KEY DG_MASTER_KEY DG_OTHER_KEY DG_READONLY_KEY DG_DURABLE_BIN
export DG_HUB="$HUB" DG_WORKER_DLL="$WORKER_DLL" DG_PARTITIONS=4 AZURITE_CONNECTION_STRING
export NODE_PATH="$root/node_modules"
export DG_COUNTS_FILE="$work/counts"
# The driver too runs under a watchdog, so a killed harness leaves nothing behind.
case "$driver" in
    *.sh) bash "$driver" & ;;
    *) node "$driver" & ;;
esac
NODE_PID=$!
proc_watch "$NODE_PID"
NODE_WATCHDOG=$PROC_WATCHDOG
wait "$NODE_PID"
rc=$?
proc_stop "" "$NODE_WATCHDOG" 0
NODE_PID=
NODE_WATCHDOG=
[ $rc -eq 0 ] || [ $rc -eq 1 ] || echo "FAIL $suite-driver: node exited with $rc"
read -r passed failed < "$work/counts" 2>/dev/null || { passed=0; failed=1; }

# The gateways' own exits: SIGTERM must stop them cleanly, with no sanitizer report.
sanitizer_fail=0
for i in "${!GW_PIDS[@]}"; do
    pid="${GW_PIDS[$i]}"
    name=gateway; [ "$i" -gt 0 ] && name=gateway-rpc
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    grc=$?
    kill "${GW_WATCHDOGS[$i]}" 2>/dev/null
    wait "${GW_WATCHDOGS[$i]}" 2>/dev/null
    log="$work/$name.log"
    if [ $grc -ne 0 ] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log"; then
        echo "FAIL $name-clean-exit: exit status $grc after SIGTERM; its log:"
        grep -nE -A40 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log" | head -n 80
        [ $grc -ne 0 ] && tail -n 20 "$log"
        sanitizer_fail=1
        failed=$((failed + 1))
    else
        echo "PASS $name-clean-exit (no sanitizer report, exit 0 on SIGTERM)"
        passed=$((passed + 1))
    fi
done
GW_PIDS=()
GW_WATCHDOGS=()

if [ $rc -ne 0 ] || [ $sanitizer_fail -ne 0 ]; then
    echo "--- worker log (last 20 lines)"
    tail -n 20 "$work/worker.log"
    for f in "$work"/gateway*.log; do
        echo "--- $(basename "$f"): last 20 lines"
        tail -n 20 "$f"
    done
fi
echo "interop $suite suite: $(ms) ms in all"
echo "interop-$suite: $passed passed, $failed failed"
[ $rc -eq 0 ] && [ $sanitizer_fail -eq 0 ]
