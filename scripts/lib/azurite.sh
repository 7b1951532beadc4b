# Sourced by the run, test and bench scripts: start and stop Azurite.
#
#   azurite_start MODE DIR   MODE is "memory" (in-memory, free ports: tests) or
#                            "disk" (data in DIR, the default ports: the run command).
#                            Sets AZURITE_PID, AZURITE_BLOB_PORT, AZURITE_QUEUE_PORT,
#                            AZURITE_TABLE_PORT and AZURITE_CONNECTION_STRING.
#                            With AZURITE_DEBUG set, Azurite logs every request
#                            (headers included) to AZURITE_DEBUG_LOG (DIR/debug.log).
#   azurite_stop             Stops it (idempotent).
#
# A watchdog process kills Azurite as soon as the shell that started it is gone,
# even when that shell is killed with SIGKILL and its traps never run, so no
# test run can leave Azurite behind.

AZURITE_ROOT="${AZURITE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
. "$(dirname "${BASH_SOURCE[0]}")/proc.sh"

azurite_start() {
    local mode="$1" dir="$2"
    local js="$AZURITE_ROOT/node_modules/azurite/dist/src/azurite.js"
    if [ ! -f "$js" ]; then
        echo "azurite: $js is missing; run scripts/setup.sh (npm ci) first" >&2
        return 1
    fi
    mkdir -p "$dir"
    local log="$dir/azurite.log"
    local args=(--blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1
                --skipApiVersionCheck --loose --disableTelemetry)
    if [ "$mode" = memory ]; then
        args+=(--inMemoryPersistence --blobPort 0 --queuePort 0 --tablePort 0)
    else
        args+=(--location "$dir/data" --blobPort "${AZURITE_BLOB_PORT:-10000}"
               --queuePort "${AZURITE_QUEUE_PORT:-10001}" --tablePort "${AZURITE_TABLE_PORT:-10002}")
    fi
    if [ -n "${AZURITE_DEBUG:-}" ]; then # every request, headers included, in DIR/debug.log
        args+=(--debug "$dir/debug.log")
        export AZURITE_DEBUG_LOG="$dir/debug.log"
    fi
    : > "$log"
    node "$js" "${args[@]}" > "$log" 2>&1 &
    AZURITE_PID=$!
    proc_watch "$AZURITE_PID"
    AZURITE_WATCHDOG=$PROC_WATCHDOG
    local i
    for i in $(seq 1 200); do
        AZURITE_BLOB_PORT=$(sed -n 's/.*Blob service is successfully listening at http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$log")
        AZURITE_QUEUE_PORT=$(sed -n 's/.*Queue service is successfully listening at http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$log")
        AZURITE_TABLE_PORT=$(sed -n 's/.*Table service is successfully listening at http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$log")
        if [ -n "$AZURITE_BLOB_PORT" ] && [ -n "$AZURITE_QUEUE_PORT" ] && [ -n "$AZURITE_TABLE_PORT" ]; then
            break
        fi
        if ! kill -0 "$AZURITE_PID" 2>/dev/null; then
            echo "azurite: exited during start-up; its log:" >&2
            cat "$log" >&2
            return 1
        fi
        sleep 0.05
    done
    if [ -z "$AZURITE_TABLE_PORT" ]; then
        echo "azurite: not listening after 10 s; its log:" >&2
        cat "$log" >&2
        azurite_stop
        return 1
    fi
    local key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
    AZURITE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$key;BlobEndpoint=http://127.0.0.1:$AZURITE_BLOB_PORT/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$AZURITE_QUEUE_PORT/devstoreaccount1;TableEndpoint=http://127.0.0.1:$AZURITE_TABLE_PORT/devstoreaccount1"
    export AZURITE_PID AZURITE_BLOB_PORT AZURITE_QUEUE_PORT AZURITE_TABLE_PORT AZURITE_CONNECTION_STRING
}

azurite_stop() {
    proc_stop "${AZURITE_PID:-}" "${AZURITE_WATCHDOG:-}" 5
    AZURITE_PID=
    AZURITE_WATCHDOG=
}
