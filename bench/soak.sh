#!/usr/bin/env bash
# bench/soak.sh [N] [VALGRIND_N]: N mixed requests (default 1,000,000) against
# the gateway over an in-memory Azurite, then VALGRIND_N (default 20,000) more
# against a second gateway under valgrind's memcheck (README, "Soak").
#
# The mix, from bench_load processes running at once: status 60%, list 10%,
# raise 10% and terminate 10% over 100 instances started first, and start 10%
# (generated ids) into a hub of their own: an in-memory Azurite scans a whole
# table for a query, so a list over the 100,000 started rows would measure
# Azurite slowing down, not the gateway. The first tenth is the warm-up; after it and at the end the
# gateway is left idle (settle, below) and its resident memory and open
# descriptors are read from /proc. Claims: resident memory grows under 5%
# from the warm-up to the end, descriptors end where the warm-up left them,
# and every answer is the expected 2xx (no other status, no timeout, no
# connection error). Under memcheck: zero errors (definite leaks included)
# and the same answers. Figures are printed per part; the last line is
# "soak: N checks, M failed".
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root" || exit 2
N="${1:-1000000}"
VN="${2:-20000}"
nice cmake --build build -j2 --target durable-gateway bench_load >/dev/null || exit 2
. scripts/lib/azurite.sh
bin=build/durable-gateway
load_bin=build/bench/bench_load
work="$(mktemp -d "${TMPDIR:-/tmp}/dg-soak.XXXXXX")"
gpid="" gpw=""
cleanup() {
    proc_stop "$gpid" "$gpw" 10
    azurite_stop
    [ -n "${KEEP:-}" ] && echo "work directory kept: $work" || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
nchecks=0 nfailed=0
check() {
    nchecks=$((nchecks + 1))
    if eval "$2"; then echo "  ok    $1"; else nfailed=$((nfailed + 1)); echo "  FAIL  $1"; fi
}
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

azurite_start memory "$work/az" || exit 2
key=soak-master-key-0123456789abcdef
printf '{"masterKey":"%s"}' "$key" > "$work/keys.json"
H="x-functions-key: $key"
start_gateway() { # log prefix-command...: sets gpid, port
    local log="$1"; shift
    "$@" "$bin" --port 0 --connection-string "$AZURITE_CONNECTION_STRING" --key-file "$work/keys.json" \
        --threads 2 > "$log" 2>&1 &
    gpid=$!
    proc_watch "$gpid"; gpw=$PROC_WATCHDOG
    port=""
    for _ in $(seq 600); do
        port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$log")
        [ -n "$port" ] && break
        sleep 0.05
    done
}
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# Idle: 7 s with no request (the storage connections' idle limit is 5 s, a
# burst's memory goes back after 1 s), then 20 status reads one at a time, so
# each loop's libcurl closes the connections that aged out (it looks when a
# transfer starts), then the reading.
settle() {
    sleep 7
    for i in $(seq 20); do
        curl -s -o /dev/null -H "$H" "http://127.0.0.1:$port/runtime/webhooks/durabletask/instances/bench-$i"
    done
    sleep 0.5
}
fds() { ls "/proc/$1/fd" | wc -l; }

# share%  name  bench_load options
MIX=(
    "60 status --connections 12 --ids 100 --path-template /runtime/webhooks/durabletask/instances/{id}"
    "10 list --connections 2 --path-template /runtime/webhooks/durabletask/instances?top=20"
    "10 start --connections 2 --method POST --header Content-Type:application/json --body {\"n\":1} --path-template /runtime/webhooks/durabletask/orchestrators/Hello?taskHub=SoakStarts1"
    "10 raise --connections 2 --ids 100 --method POST --header Content-Type:application/json --body \"x\" --path-template /runtime/webhooks/durabletask/instances/{id}/raiseEvent/Ping"
    "10 terminate --connections 2 --ids 100 --method POST --path-template /runtime/webhooks/durabletask/instances/{id}/terminate?reason=soak"
)
run_mix() { # tag total timeout-ms: runs the mix to `total` answers; prints its figures; sets mix_ok
    local tag="$1" total="$2" tmo="$3" i pids=() t0 t1
    t0=$(date +%s%N)
    for i in "${!MIX[@]}"; do
        read -r -a a <<<"${MIX[$i]}"
        "$load_bin" --url-base "http://127.0.0.1:$port" --header "$H" --timeout-ms "$tmo" \
            --requests $((total * a[0] / 100)) "${a[@]:2}" > "$work/$tag.${a[1]}" 2>&1 &
        pids+=($!)
    done
    wait "${pids[@]}"
    t1=$(date +%s%N)
    local n=0 bad=0 s504=0 l
    for i in "${!MIX[@]}"; do
        read -r -a a <<<"${MIX[$i]}"
        l=$(tail -n 1 "$work/$tag.${a[1]}")
        local r2 rn
        r2=$(field status_2xx "$l"); rn=$(field requests "$l")
        n=$((n + rn))
        # A 504 is the answer to storage that stopped answering (see stalls below), not a fault of the gateway's.
        s504=$((s504 + $(field status_504 "$l")))
        bad=$((bad + rn - r2 - $(field status_504 "$l") + $(field errors "$l") + $(field timeouts "$l")))
        printf '    %-10s %8d answers  p50 %6.2f ms  p99 %7.2f ms  max %8.2f ms  non-2xx %d  errors %d  timeouts %d\n' \
            "${a[1]}" "$rn" "$(field p50_ms "$l")" "$(field p99_ms "$l")" "$(field max_ms "$l")" $((rn - r2)) \
            "$(field errors "$l")" "$(field timeouts "$l")"
    done
    local secs; secs=$(awk "BEGIN { printf \"%.1f\", ($t1 - $t0) / 1e9 }")
    echo "    $tag: $n answers in $secs s ($(awk "BEGIN { printf \"%.0f\", $n / $secs }")/s), $bad unexpected, $s504 answered 504"
    mix_n=$n mix_bad=$bad mix_504=$s504
}
seed() {
    local i
    for i in $(seq 0 99); do
        curl -s -o /dev/null -X POST -H "$H" "http://127.0.0.1:$port/runtime/webhooks/durabletask/orchestrators/Hello/bench-$i"
    done
}

# ---- the soak ----
start_gateway "$work/gw.log"
seed
echo "soak: $N mixed requests through the gateway (pid $gpid, 2 loops) to an in-memory Azurite"
warm=$((N / 10))
run_mix warmup "$warm" 30000
wbad=$mix_bad w504=$mix_504
settle
rss_w=$(rss "$gpid") fd_w=$(fds "$gpid")
echo "  after the warm-up ($warm requests), idle: RSS $rss_w KiB, $fd_w descriptors"
# the rest, with RSS and descriptors sampled every 5 s
( while kill -0 "$gpid" 2>/dev/null; do echo "$(date +%s) $(rss "$gpid") $(fds "$gpid")"; sleep 5; done ) > "$work/samples" 2>/dev/null &
sampler=$!
run_mix main $((N - warm)) 30000
mbad=$mix_bad mn=$mix_n m504=$mix_504
kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null
settle
rss_e=$(rss "$gpid") fd_e=$(fds "$gpid")
peak=$(awk 'BEGIN { m = 0 } $2 > m { m = $2 } END { print m }' "$work/samples")
fdpeak=$(awk 'BEGIN { m = 0 } $3 > m { m = $3 } END { print m }' "$work/samples")
growth=$(awk "BEGIN { printf \"%.2f\", 100 * ($rss_e - $rss_w) / $rss_w }")
echo "  at the end, idle: RSS $rss_e KiB (${growth}% from the warm-up; peak under load $peak KiB), $fd_e descriptors (peak under load $fdpeak)"
check "resident memory grew under 5% after the warm-up (${growth}%)" "awk 'BEGIN{exit !($growth < 5)}'"
check "open descriptors flat ($fd_w -> $fd_e)" "[ $fd_e -le $((fd_w + 2)) ]"
check "zero unexpected answers, errors or timeouts in $((warm + mn)) requests ($wbad + $mbad)" "[ $((wbad + mbad)) -eq 0 ] && [ $((warm + mn)) -ge $N ]"
# Storage stalls: the readiness probe reads one row every second on a loop of
# its own; its read timing out means storage, not a request loop, stood still.
stalls=$(grep -c 'Instances()?$select=PartitionKey&$top=1: Timeout was reached' "$work/gw.log")
echo "  $((w504 + m504)) requests answered 504 (the storage deadline, 15 s); the readiness probe's own storage reads timed out $stalls times"
check "every 504 came while storage stood still (the readiness probe's reads timing out too)" "[ $((w504 + m504)) -eq 0 ] || [ $stalls -gt 0 ]"
proc_stop "$gpid" "$gpw" 10; gpid=""
check "the gateway stopped cleanly" '! grep -q " error " "$work/gw.log"'

# ---- the same under memcheck, smaller ----
if ! command -v valgrind > /dev/null; then
    echo "soak: installing valgrind from Debian"
    apt-get install -y -q valgrind > /dev/null 2>&1 || { apt-get update -q > /dev/null 2>&1 && apt-get install -y -q valgrind > /dev/null 2>&1; }
fi
if command -v valgrind > /dev/null; then
    echo "soak under valgrind memcheck: $VN mixed requests"
    start_gateway "$work/vg.gw.log" nice valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
        --show-leak-kinds=definite --log-file="$work/vg.txt"
    [ -n "$port" ] || { echo "  the gateway did not start under valgrind"; cat "$work/vg.gw.log"; }
    run_mix valgrind "$VN" 60000
    vbad=$mix_bad vn=$mix_n
    kill -TERM "$gpid"; wait "$gpid"; vrc=$?
    proc_stop "" "$gpw" 1; gpid=""
    errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$work/vg.txt" | tail -n 1)
    leak=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$work/vg.txt" | tail -n 1)
    echo "  memcheck: ${errs:-?} errors, definitely lost ${leak:-0} bytes, exit $vrc"
    [ "${errs:-1}" = 0 ] || grep -m 40 -A12 '^==[0-9]*== [A-Z][a-z]' "$work/vg.txt" | head -60
    check "memcheck: zero errors, no definite leak, clean exit (errors ${errs:-?}, exit $vrc)" '[ "${errs:-1}" = 0 ] && [ $vrc -eq 0 ]'
    check "memcheck: zero unexpected answers, errors or timeouts in $vn requests ($vbad; $mix_504 answered 504)" "[ $vbad -eq 0 ] && [ $vn -ge $VN ]"
else
    nchecks=$((nchecks + 1)) nfailed=$((nfailed + 1))
    echo "  FAIL  valgrind is not installed and could not be installed"
fi
echo "soak: $nchecks checks, $nfailed failed"
[ "$nfailed" -eq 0 ]
