# Sourced by the interop tests: build, start and drive the real Durable Task Framework
# worker in tests/interop/worker (a .NET console program; see its Program.cs).
#
#   worker_build                        dotnet build -c Release, quietly, only when a source
#                                       file is newer than the built dll. Returns 2 (with a
#                                       message) when dotnet is not installed.
#   worker_start HUB PARTITIONS LOGFILE Starts "run" in the background against
#                                       $AZURITE_CONNECTION_STRING (see azurite.sh), waits up
#                                       to 120 s for "worker ready", sets WORKER_PID,
#                                       WORKER_HUB, WORKER_PARTITIONS and WORKER_READY_MS.
#                                       Extra arguments are passed to "run" (e.g. --log-level
#                                       Information, --worker-id ID, --poll-ms 1000).
#   worker_stop                         SIGTERM, then SIGKILL after 20 s (idempotent).
#   worker_cli ARGS...                  Runs a client subcommand (start, status, wait, raise,
#                                       terminate, rewind, list, peek, artefacts, ...) with
#                                       --hub/--partitions of the started worker unless given.
#
# A watchdog process kills the worker as soon as the shell that started it is gone, even
# when that shell is killed with SIGKILL and its traps never run.

WORKER_ROOT="${WORKER_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
WORKER_PROJECT_DIR="$WORKER_ROOT/tests/interop/worker"
WORKER_DLL="$WORKER_PROJECT_DIR/bin/Release/net10.0/DurableGatewayInteropWorker.dll"
. "$(dirname "${BASH_SOURCE[0]}")/proc.sh"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

_worker_need_dotnet() {
    if ! command -v dotnet >/dev/null 2>&1; then
        echo "worker: the .NET SDK (dotnet) is not installed; the interop worker cannot be built or run" >&2
        return 2
    fi
}

worker_build() {
    _worker_need_dotnet || return 2
    if [ -f "$WORKER_DLL" ] && [ -z "$(find "$WORKER_PROJECT_DIR" -maxdepth 1 -type f \
            \( -name '*.cs' -o -name '*.csproj' -o -name 'packages.lock.json' \) -newer "$WORKER_DLL")" ]; then
        return 0
    fi
    local out rc
    mkdir -p "$WORKER_PROJECT_DIR/obj"
    # Locked restore: the build fails instead of silently changing packages.lock.json.
    # flock serializes concurrent test runs building the same tree.
    if command -v flock >/dev/null 2>&1; then
        out=$(flock "$WORKER_PROJECT_DIR/obj/.build.lock" \
              dotnet build "$WORKER_PROJECT_DIR/Worker.csproj" -c Release -nologo -v q -clp:NoSummary \
              -p:RestoreLockedMode=true 2>&1)
    else
        out=$(dotnet build "$WORKER_PROJECT_DIR/Worker.csproj" -c Release -nologo -v q -clp:NoSummary \
              -p:RestoreLockedMode=true 2>&1)
    fi
    rc=$?
    if [ $rc -ne 0 ] || [ ! -f "$WORKER_DLL" ]; then
        echo "worker: dotnet build failed (exit $rc):" >&2
        echo "$out" >&2
        return 1
    fi
    # dotnet build does not touch the dll when nothing changed; mark it up to date.
    touch "$WORKER_DLL"
}

worker_start() {
    local hub="$1" partitions="$2" log="$3"
    shift 3 2>/dev/null || { echo "worker: usage: worker_start HUB PARTITIONS LOGFILE [RUN ARGS...]" >&2; return 2; }
    _worker_need_dotnet || return 2
    if [ -z "${AZURITE_CONNECTION_STRING:-}" ]; then
        echo "worker: AZURITE_CONNECTION_STRING is not set (start Azurite with azurite_start first)" >&2
        return 1
    fi
    if [ ! -f "$WORKER_DLL" ]; then
        worker_build || return $?
    fi
    mkdir -p "$(dirname "$log")"
    : > "$log"
    local t0
    t0=$(date +%s%N)
    # stdin is /dev/null for a background job, hence --ignore-stdin; SIGTERM stops it.
    dotnet "$WORKER_DLL" run --hub "$hub" --partitions "$partitions" --ignore-stdin "$@" \
        < /dev/null > "$log" 2>&1 &
    WORKER_PID=$!
    WORKER_HUB="$hub"
    WORKER_PARTITIONS="$partitions"
    proc_watch "$WORKER_PID"
    WORKER_WATCHDOG=$PROC_WATCHDOG
    local i
    for i in $(seq 1 1200); do
        if grep -q '^worker ready$' "$log" 2>/dev/null; then
            WORKER_READY_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
            export WORKER_PID WORKER_HUB WORKER_PARTITIONS WORKER_READY_MS
            return 0
        fi
        if ! kill -0 "$WORKER_PID" 2>/dev/null; then
            echo "worker: exited during start-up; its log:" >&2
            cat "$log" >&2
            worker_stop
            return 1
        fi
        sleep 0.1
    done
    echo "worker: not ready after 120 s; its log:" >&2
    cat "$log" >&2
    worker_stop
    return 1
}

worker_stop() {
    proc_stop "${WORKER_PID:-}" "${WORKER_WATCHDOG:-}" 20
    WORKER_PID=
    WORKER_WATCHDOG=
}

worker_cli() {
    _worker_need_dotnet || return 2
    if [ ! -f "$WORKER_DLL" ]; then
        worker_build || return $?
    fi
    local defaults=() a
    local have_hub= have_partitions=
    for a in "$@"; do
        case "$a" in
            --hub|--hub=*) have_hub=1 ;;
            --partitions|--partitions=*) have_partitions=1 ;;
        esac
    done
    [ -z "$have_hub" ] && [ -n "${WORKER_HUB:-}" ] && defaults+=(--hub "$WORKER_HUB")
    [ -z "$have_partitions" ] && [ -n "${WORKER_PARTITIONS:-}" ] && defaults+=(--partitions "$WORKER_PARTITIONS")
    dotnet "$WORKER_DLL" "${defaults[@]}" "$@"
}
