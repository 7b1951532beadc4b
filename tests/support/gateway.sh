# Shell helpers for the script tests of the real binary: they poll for what a
# test waits on instead of sleeping for a guessed time. Source it.

# until_true SECONDS COMMAND [ARGS...]: runs COMMAND every 50 ms until it
# succeeds (status 0) or SECONDS pass (status 1).
until_true() {
    local end=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -ge "$end" ] && return 1
        sleep 0.05
    done
}

# in_file FILE PATTERN: grep -q, for until_true.
in_file() { grep -q -- "$2" "$1" 2>/dev/null; }

# listening_port LOG: prints the port of the gateway's "listening on" log line,
# waiting up to 20 s for it; prints nothing when it never comes.
listening_port() {
    local p=""
    for _ in $(seq 400); do
        p=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$1")
        [ -n "$p" ] && break
        sleep 0.05
    done
    printf '%s' "$p"
}
