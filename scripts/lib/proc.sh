# Sourced by azurite.sh and worker.sh: background processes that never outlive us.
#
#   proc_watch PID          Starts a watchdog that stops PID (SIGTERM, then SIGKILL
#                           after 5 s) as soon as the shell that called proc_watch is
#                           gone, even when that shell was SIGKILLed and its traps never
#                           ran. Sets PROC_WATCHDOG to the watchdog's PID.
#   proc_stop PID WATCHDOG SECONDS
#                           SIGTERM to PID, SIGKILL if it still runs after SECONDS, then
#                           ends the watchdog. Empty PIDs are skipped, so it is idempotent.

proc_watch() {
    local pid="$1" owner=$$
    ( trap '' INT TERM
      while kill -0 "$owner" 2>/dev/null && kill -0 "$pid" 2>/dev/null; do sleep 1; done
      if kill "$pid" 2>/dev/null; then
          sleep 5
          kill -9 "$pid" 2>/dev/null
      fi ) >/dev/null 2>&1 &
    PROC_WATCHDOG=$!
}

proc_stop() {
    local pid="$1" watchdog="$2" secs="$3" i
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null
        for i in $(seq 1 $((secs * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    if [ -n "$watchdog" ]; then
        kill "$watchdog" 2>/dev/null
        wait "$watchdog" 2>/dev/null
    fi
}
