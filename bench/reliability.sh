#!/usr/bin/env bash
# bench/reliability.sh [PHASE_SECONDS]: the gateway while storage fails and
# clients misbehave, with a figure for each claim (README, "Reliability").
#
# Storage faults: the gateway talks to a disk-backed Azurite through
# bench_faultproxy. Under a bounded mixed load (status, list, raise and
# terminate from bench_load, starts with ids of their own from starts.js, a
# /healthz probe every 20 ms) each fault runs PHASE_SECONDS (default 5): 503
# and 500 with Retry-After, latency, slow answers, dropped and reset
# connections, accept-and-never-answer, storage refusing connections, and
# Azurite stopped and restarted. Checked: every request answered within its
# deadline (no timeout, no connection error, no 5xx but 503 and 504, refusals
# in the host's error form), /healthz answering, service back within 2 s of
# storage returning, threads, descriptors and connections back where they
# were; then nothing half-written (every Pending row has its start message,
# every 202 has both, every failed start retried with its id is 202 or 409),
# and a purge by filter cut off by a storage outage finishes when repeated.
#
# Hostile clients: 1,000 slow clients beside a normal one (its status p99);
# idle connections up to --connection-limit and what the next client sees;
# the per-address limit; injections through every parameter; keys.
#
# The last line is "reliability: N checks, M failed"; exit 1 if any failed.
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root" || exit 2
PHASE_S="${1:-5}"
nice cmake --build build -j2 --target durable-gateway bench_load bench_faultproxy bench_hubcheck bench_seed \
    >/dev/null || exit 2
. scripts/lib/azurite.sh
bin=build/durable-gateway
load_bin=build/bench/bench_load
proxy_bin=build/bench/bench_faultproxy
check_bin=build/bench/bench_hubcheck
work="$(mktemp -d "${TMPDIR:-/tmp}/dg-reliability.XXXXXX")"
ppid_="" ppw="" gpid="" gpw="" hpid="" hpw=""
cleanup() {
    proc_stop "$gpid" "$gpw" 5
    proc_stop "$hpid" "$hpw" 5
    proc_stop "$ppid_" "$ppw" 2
    azurite_stop
    [ -n "${KEEP:-}" ] && echo "work directory kept: $work" || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

nchecks=0 nfailed=0
check() { # name condition
    nchecks=$((nchecks + 1))
    if eval "$2"; then echo "  ok    $1"; else nfailed=$((nfailed + 1)); echo "  FAIL  $1"; fi
}
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }
ms_now() { echo $(( $(date +%s%N) / 1000000 )); }

# ---- storage: Azurite on disk (it keeps its data across a restart) on fixed free ports ----
read -r bp qp tp < <(node -e '
const net = require("net");
Promise.all([0, 1, 2].map(() => new Promise(r => { const s = net.createServer();
  s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => r(p)); }); })))
  .then(p => console.log(p.join(" ")));')
export AZURITE_BLOB_PORT=$bp AZURITE_QUEUE_PORT=$qp AZURITE_TABLE_PORT=$tp
azurite_start disk "$work/az" || exit 2
direct_cs="$AZURITE_CONNECTION_STRING"

"$proxy_bin" --upstream "$bp" --upstream "$qp" --upstream "$tp" > "$work/proxy.out" 2>&1 &
ppid_=$!
proc_watch "$ppid_"; ppw=$PROC_WATCHDOG
for _ in $(seq 100); do grep -q '^control' "$work/proxy.out" && break; sleep 0.05; done
pport() { awk -v u="$1" '$1 == "listen" && $2 == u { print $3 }' "$work/proxy.out"; }
ctl="http://127.0.0.1:$(awk '$1 == "control" { print $2 }' "$work/proxy.out")"
fault() { curl -s "$ctl/mode?$1" > /dev/null; }
acct="AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
proxied_cs="DefaultEndpointsProtocol=http;$acct;BlobEndpoint=http://127.0.0.1:$(pport "$bp")/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$(pport "$qp")/devstoreaccount1;TableEndpoint=http://127.0.0.1:$(pport "$tp")/devstoreaccount1"

key=reliability-master-key-0123456789abcdef
rokey=reliability-readonly-key-0123456789abcdef
printf '{"masterKey":"%s","readOnlyKeys":["%s"]}' "$key" "$rokey" > "$work/keys.json"
DEADLINE_MS=3000
start_gateway() { # log-file options...: sets gpid, port, base
    local log="$1"; shift
    "$bin" --port 0 --connection-string "$proxied_cs" --key-file "$work/keys.json" --threads 2 \
        --log-level debug --request-timeout-ms $DEADLINE_MS --storage-timeout-ms 2000 --purge-budget-ms 1500 \
        "$@" > "$log" 2>&1 &
    gpid=$!
    proc_watch "$gpid"; gpw=$PROC_WATCHDOG
    port=""
    for _ in $(seq 200); do
        port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$log")
        [ -n "$port" ] && break
        sleep 0.05
    done
    base="http://127.0.0.1:$port/runtime/webhooks/durabletask"
}
metric() { curl -s "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
proc_figures() { # pid: threads fds sockets rss_kib
    local t f s r
    t=$(awk '/^Threads:/ { print $2 }' "/proc/$1/status")
    r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status")
    f=$(ls "/proc/$1/fd" | wc -l)
    s=$(ls -l "/proc/$1/fd" 2>/dev/null | grep -c 'socket:')
    echo "$t $f $s $r"
}

start_gateway "$work/gw.log"
gw_main_pid=$gpid
echo "reliability: gateway on :$port through bench_faultproxy to Azurite (disk) :$tp; deadline ${DEADLINE_MS} ms, phases of ${PHASE_S} s"

# 40 instances for the status, raise and terminate load (bench_load names them bench-0 ..)
seq 0 39 | sed 's/^/bench-/' | node bench/faults/starts.js "http://127.0.0.1:$port" "$key" - 4 0 10000 > "$work/seed.txt"
check "40 instances started for the load ($(grep -c ' 202 ' "$work/seed.txt") answered 202)" '[ "$(grep -c " 202 " "$work/seed.txt")" = 40 ]'

# ---- storage faults under load ----
LOADS=(
    "status --connections 8 --ids 40 --path-template /runtime/webhooks/durabletask/instances/{id} --probe-path /healthz --probe-interval-ms 20"
    "list --connections 2 --path-template /runtime/webhooks/durabletask/instances?top=20"
    "raise --connections 3 --ids 40 --method POST --header Content-Type:application/json --body \"x\" --path-template /runtime/webhooks/durabletask/instances/{id}/raiseEvent/Ping"
    "terminate --connections 2 --ids 40 --method POST --path-template /runtime/webhooks/durabletask/instances/{id}/terminate?reason=storm"
)
run_phase() { # name fault-query [during-command]
    local name="$1" q="$2" during="${3:-}" i
    fault "$q"
    local pids=()
    for i in "${!LOADS[@]}"; do
        read -r -a a <<<"${LOADS[$i]}"
        "$load_bin" --url-base "http://127.0.0.1:$port" --header "$H" --duration-s "$PHASE_S" \
            --timeout-ms $((DEADLINE_MS + 2000)) "${a[@]:1}" > "$work/load.$name.${a[0]}" 2>&1 &
        pids+=($!)
    done
    node bench/faults/starts.js "http://127.0.0.1:$port" "$key" "storm-$name" 4 "$PHASE_S" $((DEADLINE_MS + 2000)) \
        > "$work/starts.$name" &
    pids+=($!)
    [ -n "$during" ] && { sleep "$(awk "BEGIN{print $PHASE_S / 3}")"; eval "$during"; }
    wait "${pids[@]}"
    # storage is back: how long until the first status is answered
    local t0 t1 code=""
    [ "$name" != azurite-restart ] && fault "m=pass"
    t0=$(ms_now)
    for _ in $(seq 300); do
        code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' -H "$H" "$base/instances/bench-1")
        [ "$code" = 200 ] || [ "$code" = 202 ] && break # 202: the instance is Pending
        sleep 0.02
    done
    t1=$(ms_now)
    recovery_ms=$((t1 - t0))
    [ "$name" = azurite-restart ] && recovery_ms=$((t1 - restarted_at))
    local n=0 to=0 er=0 s5=0 s503=0 s504=0 s2=0 s4=0 mx=0 p99=0 l
    for i in "${!LOADS[@]}"; do
        read -r -a a <<<"${LOADS[$i]}"
        l=$(tail -n 1 "$work/load.$name.${a[0]}")
        n=$((n + $(field requests "$l"))); to=$((to + $(field timeouts "$l"))); er=$((er + $(field errors "$l")))
        s2=$((s2 + $(field status_2xx "$l"))); s4=$((s4 + $(field status_4xx "$l")))
        s5=$((s5 + $(field status_5xx "$l"))); s503=$((s503 + $(field status_503 "$l"))); s504=$((s504 + $(field status_504 "$l")))
        mx=$(awk -v a="$mx" -v b="$(field max_ms "$l")" 'BEGIN { print (b > a ? b : a) }')
        p99=$(awk -v a="$p99" -v b="$(field p99_ms "$l")" 'BEGIN { print (b > a ? b : a) }')
    done
    local sl; sl=$(tail -n 1 "$work/load.$name.status")
    local st_n st_202 st_bad st_to st_max
    st_n=$(wc -l < "$work/starts.$name"); st_202=$(awk '$2 == 202' "$work/starts.$name" | wc -l)
    st_bad=$(awk '$4 != "ok"' "$work/starts.$name" | wc -l)
    st_max=$(awk 'BEGIN { m = 0 } $3 > m { m = $3 } END { print m }' "$work/starts.$name")
    st_other=$(awk '$2 != 202 && $2 != 503 && $2 != 504' "$work/starts.$name" | wc -l)
    printf '  %-16s %6d req  2xx %5d  4xx %4d  503 %5d  504 %4d  other-5xx %d  timeouts %d  errors %d  p99 %7.1f ms  max %7.1f ms | starts %4d (202: %d, bad form: %d, max %d ms) | healthz p99 %s ms max %s ms (%s errors) | back in %d ms\n' \
        "$name" "$n" "$s2" "$s4" "$s503" "$s504" $((s5 - s503 - s504)) "$to" "$er" "$p99" "$mx" "$st_n" "$st_202" "$st_bad" "$st_max" \
        "$(field probe_p99_ms "$sl")" "$(field probe_max_ms "$sl")" "$(( $(field probe_errors "$sl") + $(field probe_timeouts "$sl") ))" "$recovery_ms"
    check "$name: every request answered within the deadline + 0.5 s (max ${mx} ms, starts ${st_max} ms; no timeout, no connection error)" \
        "[ $to -eq 0 ] && [ $er -eq 0 ] && awk 'BEGIN{exit !($mx <= $DEADLINE_MS + 500 && $st_max <= $DEADLINE_MS + 500)}'"
    check "$name: no 5xx but 503 and 504; every refused start in the host's error form" "[ $((s5 - s503 - s504)) -eq 0 ] && [ $st_bad -eq 0 ] && [ $st_other -eq 0 ]"
    check "$name: /healthz answered throughout (p99 $(field probe_p99_ms "$sl") ms)" \
        "[ $(( $(field probe_errors "$sl") + $(field probe_timeouts "$sl") )) -eq 0 ] && awk 'BEGIN{exit !($(field probe_p99_ms "$sl") < 100)}'"
    check "$name: service back within 2 s of storage returning ($recovery_ms ms)" "[ '${code:0:1}' = 2 ] && [ $recovery_ms -le 2000 ]"
}
restart_azurite() {
    azurite_stop
    sleep 1
    azurite_start disk "$work/az" > /dev/null || echo "  azurite did not restart"
    restarted_at=$(ms_now)
}

# Idle: 6 s with no request (storage connections age out after 5 s), then 20
# status reads one at a time, so each loop's libcurl closes the connections
# that aged out (it looks when a transfer starts), then the reading.
settle() {
    sleep 6
    for i in $(seq 20); do curl -s -o /dev/null -H "$H" "$base/instances/bench-$((i % 40))"; done
    sleep 0.5
}
H="x-functions-key: $key"
settle # the baseline
read -r th0 fd0 so0 rss0 <<<"$(proc_figures "$gw_main_pid")"
echo "storage faults (figures per phase: all loads together):"
run_phase pass "m=pass"
run_phase status-503 "m=status&code=503&retry_after=1&p=0.5"
run_phase status-500 "m=status&code=500&retry_after=1&p=1"
run_phase latency-400ms "m=latency&ms=400&p=1"
run_phase slow-answers "m=slow&ms=5&p=1"
run_phase drop "m=drop&p=0.5"
run_phase reset "m=reset&p=0.5"
run_phase hang "m=hang&p=1"
run_phase refused "m=down"
run_phase azurite-restart "m=pass" restart_azurite
settle
read -r th1 fd1 so1 rss1 <<<"$(proc_figures "$gw_main_pid")"
echo "  gateway before the storm: threads $th0, fds $fd0 (sockets $so0), RSS $rss0 KiB; after, idle again: threads $th1, fds $fd1 (sockets $so1), RSS $rss1 KiB"
check "no thread leaked ($th0 -> $th1)" "[ $th1 -eq $th0 ]"
check "no descriptor or connection leaked (fds $fd0 -> $fd1, sockets $so0 -> $so1)" "[ $fd1 -le $((fd0 + 2)) ] && [ $so1 -le $((so0 + 2)) ]"
check "client connections all closed ($(metric durable_gateway_client_connections) open: the metrics request itself)" '[ "$(metric durable_gateway_client_connections)" = 1 ]'
check "no crash: the gateway still runs" "kill -0 $gw_main_pid"

# ---- nothing half-written ----
echo "nothing half-written:"
cat "$work"/starts.* > "$work/answers"
awk '$2 != 202 { print $1 }' "$work/answers" > "$work/failed"
node bench/faults/starts.js "http://127.0.0.1:$port" "$key" - 4 0 10000 < "$work/failed" > "$work/retried"
nfail=$(wc -l < "$work/failed")
r202=$(awk '$2 == 202' "$work/retried" | wc -l); r409=$(awk '$2 == 409' "$work/retried" | wc -l)
echo "  starts: $(wc -l < "$work/answers") in the storm, $(awk '$2 == 202' "$work/answers" | wc -l) answered 202, $nfail failed; retried with the same id: $r202 answered 202, $r409 answered 409 (the failed attempt had landed)"
check "every failed start retried with its id is 202, or 409 for an instance its first attempt made" "[ $((r202 + r409)) -eq $nfail ]"
# the final answer of each id: its retry's where it was retried
awk 'NR == FNR { r[$1] = $2; next } { print $1, ($1 in r ? r[$1] : $2) }' "$work/retried" "$work/answers" > "$work/final"
awk '$2 == 409 { print $1 }' "$work/final" > "$work/conflicts"
out=$(AZURITE_CONNECTION_STRING="$direct_cs" "$check_bin" starts DurableFunctionsHub "$work/final" 2> "$work/check.err"); rc=$?
echo "  storage: $out"
sed 's/^/  /' "$work/check.err" | head -5
check "every Pending row has its start message, every 202 has row and message" "[ $rc -eq 0 ]"

# a purge by filter cut off by a storage outage finishes when repeated
AZURITE_CONNECTION_STRING="$direct_cs" build/bench/bench_seed DurableFunctionsHub 300 6 4 > /dev/null
purge_q="runtimeStatus=Completed&createdTimeFrom=2024-05-01T00:00:00Z&createdTimeTo=2024-05-02T00:00:00Z"
before=$(AZURITE_CONNECTION_STRING="$direct_cs" "$check_bin" count DurableFunctionsHub bench-000)
( sleep 0.4; fault "m=down" ) &
cut_pid=$!
c1=$(curl -s -D "$work/purge.1h" -o "$work/purge.1" -w '%{http_code}' -m 10 -X DELETE -H "$H" "$base/instances?$purge_q")
grep -qi '^x-ms-continuation-token: *[^ \r]' "$work/purge.1h" && c1="$c1 $(cat "$work/purge.1") with a continuation token" || c1="$c1 $(cat "$work/purge.1")"
wait "$cut_pid"
fault "m=pass"
mid=$(AZURITE_CONNECTION_STRING="$direct_cs" "$check_bin" count DurableFunctionsHub bench-000)
codes="$c1"
for i in $(seq 20); do
    c=$(curl -s -D "$work/purge.h" -o "$work/purge.b" -w '%{http_code}' -m 10 -X DELETE -H "$H" "$base/instances?$purge_q")
    codes="$codes $c"
    [ "$c" = 404 ] && break # nothing left to purge
    [ "$c" = 200 ] && ! grep -qi '^x-ms-continuation-token: *[^ \r]' "$work/purge.h" && \
        grep -q '"instancesDeleted":0' "$work/purge.b" && break
done
after=$(AZURITE_CONNECTION_STRING="$direct_cs" "$check_bin" count DurableFunctionsHub bench-000)
echo "  purge of 300 Completed instances (6 history rows each): before $before; cut off by storage refusing connections (answer $c1): $mid left; repeated ($codes): $after"
check "an interrupted purge finishes when repeated (nothing left: $after)" '[ "$after" = "instances=0 history=0" ]'
fault "m=pass"

# ---- hostile clients ----
echo "hostile clients:"
SLOW_N=1000
"$load_bin" --url-base "http://127.0.0.1:$port" --header "$H" --connections 1 --duration-s 5 \
    --path-template /runtime/webhooks/durabletask/instances/bench-1 > "$work/normal.ref" 2>&1
node bench/faults/hostile.js slow "$port" "$SLOW_N" 2000 > "$work/slow.out" &
slow_pid=$!
sleep 1.5
slow_open=$(metric durable_gateway_client_connections)
"$load_bin" --url-base "http://127.0.0.1:$port" --header "$H" --connections 1 --duration-s 7 \
    --path-template /runtime/webhooks/durabletask/instances/bench-1 > "$work/normal.slow" 2>&1
wait "$slow_pid"
ref=$(tail -n 1 "$work/normal.ref") hos=$(tail -n 1 "$work/normal.slow")
read -r _ sn sclosed sfirst slast < "$work/slow.out"
echo "  a normal client's status reads alone: p50 $(field p50_ms "$ref") ms, p99 $(field p99_ms "$ref") ms ($(field rps "$ref")/s); beside $SLOW_N slow clients ($slow_open connections open): p50 $(field p50_ms "$hos") ms, p99 $(field p99_ms "$hos") ms ($(field rps "$hos")/s), ratio of p99s $(awk "BEGIN { printf \"%.2f\", $(field p99_ms "$hos") / $(field p99_ms "$ref") }")"
echo "  the $sn slow clients (a header byte every 2 s): $sclosed dropped by the gateway, the first after $sfirst s, the last after $slast s (--header-timeout-ms 10000)"
check "a normal client's status p99 stays under 100 ms beside $SLOW_N slow clients ($(field p99_ms "$hos") ms, $(field errors "$hos") errors)" \
    "[ '$(field errors "$hos")' = 0 ] && [ '$(field status_2xx "$hos")' = '$(field requests "$hos")' ] && awk 'BEGIN{exit !($(field p99_ms "$hos") < 100)}'"
check "all $SLOW_N slow clients held, then dropped at the head deadline ($sclosed, ${sfirst}-${slast} s)" \
    "[ '$sclosed' = $SLOW_N ] && [ '$slow_open' -ge $SLOW_N ] && awk 'BEGIN{exit !($sfirst >= 9.5 && $slast <= 14)}'"
node bench/faults/hostile.js inject "$port" "$key" > "$work/inject.out"
read -r _ ni nbad <<<"$(tail -n 1 "$work/inject.out")"
echo "  injections: $ni tried, $nbad answered otherwise than expected"
grep '^FAIL' "$work/inject.out" | sed 's/^/    /'
check "injections (OData, CR/LF and control bytes, traversal, duplicates, huge numbers) answered 4xx in the host's form, no header injected ($nbad of $ni otherwise)" "[ '$nbad' = 0 ]"
node bench/faults/hostile.js keys "$port" "$key" "$rokey" > "$work/keys.out"
read -r _ nk kbad kseen <<<"$(tail -n 1 "$work/keys.out")"
echo "  keys: $nk requests over every route (no key, a wrong key, 9 near misses, by header and by code=, the read-only key on writes): answers $kseen"
grep '^FAIL' "$work/keys.out" | head -10 | sed 's/^/    /'
check "every route refuses a missing, wrong or near-miss key (401) and the read-only key on writes ($kbad otherwise)" "[ '$kbad' = 0 ]"
proc_stop "$gpid" "$gpw" 5; gpid=""
check "the log holds no raw control byte, every line is a log line" \
    "! LC_ALL=C grep -q '[[:cntrl:]]' <(tr -d '\n' < '$work/gw.log') && [ \$(grep -cv '^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T' '$work/gw.log') = 0 ]"
check "no key, signature or account key in the gateway's debug log ($(wc -l < "$work/gw.log") lines)" "bash tests/check_secrets.sh '$work' > '$work/secrets.out'"
sed 's/^/  /' "$work/secrets.out" | tail -3

# connection limits
start_gateway "$work/gw2.log" --connection-limit 300
out=$(node tests/integration/gateway/clients.js hold "$port" 300 1000)
read -r -a f <<<"$out"
echo "  300 idle connections at --connection-limit 300: the next client reads ${f[0]//_/ } (Retry-After ${f[1]}, body in the host's form: ${f[2]}) after ${f[3]} s"
check "at --connection-limit, a new client is answered 503 with Retry-After at once" '[ "${f[0]}" = HTTP/1.1_503_Service_Unavailable ] && [ "${f[1]}" = 1 ] && [ "${f[2]}" = json ] && awk "BEGIN{exit !(${f[3]} < 0.5)}"'
sleep 0.5
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")
check "once they leave, a new client is served ($code)" '[ "$code" = 200 ]'
proc_stop "$gpid" "$gpw" 5; gpid=""
start_gateway "$work/gw3.log" --per-ip-connection-limit 50
out=$(node tests/integration/gateway/clients.js hold "$port" 50 500)
read -r -a f <<<"$out"
echo "  50 connections from 127.0.0.1 at --per-ip-connection-limit 50: the next one reads ${f[0]//_/ } (Retry-After ${f[1]}) after ${f[3]} s"
check "past the per-address limit, a new client is answered 503 with Retry-After" '[ "${f[0]}" = HTTP/1.1_503_Service_Unavailable ] && [ "${f[1]}" = 1 ]'
proc_stop "$gpid" "$gpw" 5; gpid=""

echo "reliability: $nchecks checks, $nfailed failed"
[ "$nfailed" -eq 0 ]
