#!/usr/bin/env bash
# Front-end benchmark: the gateway's HTTP front end and storage concurrency
# against nginx proxying to the same stand-in storage service in the same run.
# Starts bench_standin (a stand-in Azure Storage service, Table, Queue and Blob
# on one loopback port, answering after --delay-ms), nginx (proxy_pass to the
# stand-in, worker_processes 2 to match the gateway's two event loops) and
# build/durable-gateway (--threads = cores), drives them with bench_load and
# prints one row per figure: gateway, nginx where it applies, ratio, target,
# PASS/FAIL (or SKIP when the gateway lacks the option a row needs).
# usage: bench/frontend.sh [SECONDS]   (default 10: each timed row measures
# SECONDS after a 2 s warm-up; the memory and hang rows run until done)
# FRONTEND_GATEWAY=/path/to/durable-gateway measures that binary instead of build/'s;
# FRONTEND_ROWS="1 5" runs only those rows (1 to 6).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
secs="${1:-10}"
rows="${FRONTEND_ROWS:-1 2 3 4 5 6}"
want() { [[ " $rows " == *" $1 "* ]]; }
warm=2
cores=$(nproc)

bench=frontend
. bench/lib/common.sh
bench_need_nginx
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || exit 2
cmake --build build -j"$cores" --target durable-gateway bench_standin bench_load >/dev/null || exit 2
gw_bin="${FRONTEND_GATEWAY:-$root/build/durable-gateway}" # another build may be measured instead
standin_bin="$root/build/bench/bench_standin"
load_bin="$root/build/bench/bench_load"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true # 10,000 connections, twice in nginx
clk=$(getconf CLK_TCK)

work="$(mktemp -d)"
chmod 755 "$work" # nginx workers may run as another user
gw_pid="" sampler_pids=()
cleanup() {
    for p in "${sampler_pids[@]}"; do kill "$p" 2>/dev/null; done
    stop_pid "$gw_pid" 3
    stop_pid "$nginx_pid" 3
    stop_pid "$standin_pid" 1
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- stand-in ----
start_standin
cs="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:$sport/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$sport/devstoreaccount1;BlobEndpoint=http://127.0.0.1:$sport/devstoreaccount1"

# ---- nginx: proxy_pass to the stand-in over kept-alive upstream connections ----
start_nginx "$sport" || exit 2

# ---- gateway ----
key="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '{"masterKey":"%s-master","systemKeys":{"durabletask_extension":"%s"}}\n' "$key" "$key" >"$work/keys.json"
gport=0
start_gateway() { # extra gateway options; returns 2 when the gateway refuses one (usage error)
    stop_pid "$gw_pid" 3
    gw_pid=""
    gport=$(free_port)
    "$gw_bin" --port "$gport" --connection-string "$cs" --key-file "$work/keys.json" --threads "$cores" \
        --log-level warn --connection-limit 16000 "$@" >"$work/gateway.log" 2>&1 &
    gw_pid=$!
    for _ in $(seq 200); do
        curl -fs -o /dev/null --max-time 1 "http://127.0.0.1:$gport/healthz" && return 0
        if ! kill -0 "$gw_pid" 2>/dev/null; then
            wait "$gw_pid"
            local rc=$?
            gw_pid=""
            grep -qi "unknown option\|usage" "$work/gateway.log" && return 2
            echo "frontend: the gateway exited ($rc):"
            cat "$work/gateway.log"
            return 1
        fi
        sleep 0.05
    done
    echo "frontend: the gateway did not answer /healthz"
    return 1
}

# ---- load ----
status_path='/runtime/webhooks/durabletask/instances/{id}'
start_path='/runtime/webhooks/durabletask/orchestrators/E1_HelloSequence' # the generated-id form: two storage calls (queue put, row insert)
last="" cpu_note=""
load() { # port target-pids -- bench_load options: sets $last to the result line, $cpu_note to CPU shares
    local port="$1" pids="$2"
    shift 2
    local t0 l0 s0 t1 l1 s1 w0 w1
    t0=$(cpu_ticks $pids)
    s0=$(cpu_ticks "$standin_pid")
    w0=$(date +%s%N)
    "$load_bin" --url-base "http://127.0.0.1:$port" --header "x-functions-key: $key" "$@" \
        >"$work/load.out" 2>"$work/load.err"
    w1=$(date +%s%N)
    t1=$(cpu_ticks $pids)
    s1=$(cpu_ticks "$standin_pid")
    last=$(tail -n 1 "$work/load.out")
    local wall=$(((w1 - w0) / 1000000)) lc
    lc=$(field load_cpu_s "$last")
    cpu_note=$(calc "'cpu over the run: target %.0f%%, stand-in %.0f%%, bench_load %.0f%% of one core' % (100.0*($t1-$t0)/$clk/($wall/1000.0), 100.0*($s1-$s0)/$clk/($wall/1000.0), 100.0*$lc/($wall/1000.0))")
}
detail() { # line: latency and status detail of a result
    printf '      %s: p50 %s p99 %s max %s ms, 2xx %s 4xx %s 5xx %s, errors %s, timeouts %s\n' "$1" \
        "$(field p50_ms "$2")" "$(field p99_ms "$2")" "$(field max_ms "$2")" "$(field status_2xx "$2")" \
        "$(field status_4xx "$2")" "$(field status_5xx "$2")" "$(field errors "$2")" "$(field timeouts "$2")"
}

passed=0 failed=0 skipped=0
row() { # name gateway nginx ratio target verdict
    printf '%-46s %11s %11s %7s  %-22s %s\n' "$1" "$2" "$3" "$4" "$5" "$6"
    case "$6" in
    PASS*) passed=$((passed + 1)) ;;
    FAIL*) failed=$((failed + 1)) ;;
    SKIP*) skipped=$((skipped + 1)) ;;
    esac
}
verdict() { [ "$(calc "1 if $1 else 0")" = 1 ] && echo PASS || echo FAIL; }

echo "frontend: $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "machine: $cores cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "versions: $("$nginx_bin" -v 2>&1), $("$gw_bin" --version 2>&1 | head -n 1), bench_standin 1 loop"
echo "setup: stand-in 127.0.0.1:$sport; nginx 127.0.0.1:$nport (worker_processes 2, upstream keepalive 1024);" \
    "gateway --threads $cores; $secs s per timed row after a $warm s warm-up"
echo
printf '%-46s %11s %11s %7s  %-22s %s\n' "row" "gateway" "nginx" "ratio" "target" "result"

# ---- 1, 2: status reads, every connection its own instance ----
gw1=0
status_row() { # label delay connections
    local label="$1" delay="$2" conns="$3" ng gw
    start_standin --delay-ms "$delay"
    load "$nport" "$(nginx_pids)" --connections "$conns" --warmup-s "$warm" --duration-s "$secs" \
        --path-template "$status_path" --timeout-ms 30000
    ng="$last"
    local ng_cpu="$cpu_note"
    if ! start_gateway; then
        row "$label" "-" "$(field rps "$ng")" "-" ">= 0.70" "FAIL (gateway did not start)"
        return
    fi
    load "$gport" "$gw_pid" --connections "$conns" --warmup-s "$warm" --duration-s "$secs" \
        --path-template "$status_path" --timeout-ms 30000
    gw="$last"
    local r
    r=$(calc "'%.2f' % ($(field rps "$gw") / max($(field rps "$ng"), 0.001))")
    row "$label" "$(field rps "$gw")" "$(field rps "$ng")" "$r" ">= 0.70" "$(verdict "$r >= 0.7")"
    detail gateway "$gw"
    echo "      gateway $cpu_note"
    detail nginx "$ng"
    echo "      nginx $ng_cpu"
    [ "$delay" = 0 ] && gw1=$(field rps "$gw")
}
want 1 && status_row "1  status rps, 0 ms storage, 50 conns" 0 50
if want 2; then
    status_row "2a status rps, 10 ms storage, 200 conns" 10 200
    status_row "2b status rps, 100 ms storage, 2000 conns" 100 2000
fi

# ---- 3: starts ----
if ! want 3; then
    :
elif start_standin --delay-ms 10 && start_gateway; then
    load "$gport" "$gw_pid" --connections 200 --warmup-s "$warm" --duration-s "$secs" --method POST --body '"x"' \
        --unique-ids --path-template "$start_path" --timeout-ms 30000
    gw="$last"
    target=7000
    which="0.7 x 200 / (2 x 10 ms) = 7000/s applies"
    if [ "$gw1" = 0 ]; then
        which="row 1 did not run: 7000/s"
    elif [ "$(calc "1 if $gw1 < 7000 else 0")" = 1 ]; then
        target=$gw1
        which="the CPU ceiling (row 1's gateway rps $gw1) applies"
    fi
    row "3  starts/s, 10 ms storage, 200 conns" "$(field rps "$gw")" "-" "-" ">= $(calc "round($target)")/s" \
        "$(verdict "$(field rps "$gw") >= $target")"
    echo "      target = min(7000, row-1 gateway rps $gw1): $which"
    detail gateway "$gw"
    echo "      gateway $cpu_note"
else
    row "3  starts/s, 10 ms storage, 200 conns" "-" "-" "-" ">= 7000/s" "FAIL (gateway did not start)"
fi

# ---- 4: resident memory per in-flight request ----
rss_kib() { local k v _; while read -r k v _; do [ "$k" = VmRSS: ] && { echo "$v"; return; }; done <"/proc/$1/status"; }
if ! want 4; then
    :
elif start_standin --delay-ms 8000 && start_gateway; then
    # 10,000 at once: each connection sends one request (--once) and the stand-in
    # holds every answer 8 s, so all are in flight together. At the 100 ms of
    # the other rows a closed loop would need 100,000 requests/s to keep
    # 10,000 in flight, past what two cores serve: the figure per request does
    # not depend on how long storage takes.
    # Warm-up: lazy allocations (storage handles, pools) done before the base figure.
    "$load_bin" --url-base "http://127.0.0.1:$gport" --header "x-functions-key: $key" --connections 50 \
        --requests 500 --duration-s 3 --path-template "$status_path" >/dev/null 2>&1
    sleep 0.5
    base=$(rss_kib "$gw_pid")
    echo "$base" >"$work/rss.max"
    echo 0 >"$work/open.max"
    (
        max=$base
        while [ ! -f "$work/sampler.stop" ]; do
            v=$(rss_kib "$gw_pid" 2>/dev/null) || break
            [ "${v:-0}" -gt "$max" ] && { max=$v; echo "$max" >"$work/rss.max"; }
            sleep 0.05
        done
    ) &
    sampler_pids+=($!)
    (
        max=0
        while [ ! -f "$work/sampler.stop" ]; do
            v=$(curl -s --max-time 1 "http://127.0.0.1:$gport/metrics" | sed -n 's/^durable_gateway_requests_in_flight //p')
            [ -n "$v" ] && [ "$v" -gt "$max" ] && { max=$v; echo "$max" >"$work/open.max"; }
            sleep 0.2
        done
    ) &
    sampler_pids+=($!)
    load "$gport" "$gw_pid" --connections 10000 --once --ids 10000 --path-template "$status_path" \
        --timeout-ms 60000 --max-connecting 512
    touch "$work/sampler.stop"
    for p in "${sampler_pids[@]}"; do wait "$p" 2>/dev/null; done
    sampler_pids=()
    rm -f "$work/sampler.stop"
    peak=$(cat "$work/rss.max")
    open=$(cat "$work/open.max")
    pend=$(json_field pending_max "$(standin_stats)")
    per=$(calc "round(($peak - $base) / 10000.0, 2)")
    v=$(verdict "$per <= 24")
    inflight=$open
    [ "$inflight" -gt 0 ] || inflight=$pend
    [ "${inflight:-0}" -ge 9000 ] || v="FAIL (only ${inflight:-0} in flight)"
    row "4  KiB RSS per in-flight request, 10000" "$per" "-" "-" "<= 24 KiB" "$v"
    echo "      VmRSS base $base KiB, peak $peak KiB; in flight: durable_gateway_requests_in_flight max $open, storage reads" \
        "pending at once max $pend (stand-in); $(field answered "$last") answered (stand-in delay 8 s)"
    echo "      gateway $cpu_note"
else
    row "4  KiB RSS per in-flight request, 10000" "-" "-" "-" "<= 24 KiB" "FAIL (gateway did not start)"
fi

# ---- 5: hung storage: deadlines, liveness, shutdown ----
rc=3
if want 5; then
    start_standin --hang
    start_gateway --request-timeout-ms 2000
    rc=$?
fi
if [ $rc = 3 ]; then
    :
elif [ $rc = 2 ]; then
    row "5a healthz p99 ms, 2000 hung requests" "-" "-" "-" "<= 20 ms" "SKIP (option missing)"
    row "5b 2000 hung: answered (504) at 2 s deadline" "-" "-" "-" "all, max <= 3000 ms" "SKIP (option missing)"
elif [ $rc = 0 ]; then
    load "$gport" "$gw_pid" --connections 2000 --once --timeout-ms 10000 --path-template "$status_path" \
        --probe-path /healthz --probe-interval-ms 10 --max-connecting 512
    gw="$last"
    p99=$(field probe_p99_ms "$gw")
    row "5a healthz p99 ms, 2000 hung requests" "$p99" "-" "-" "<= 20 ms" "$(verdict "$p99 <= 20")"
    echo "      probe: $(field probe_requests "$gw") answers, p50 $(field probe_p50_ms "$gw") max" \
        "$(field probe_max_ms "$gw") ms, $(field probe_timeouts "$gw") timeouts, $(field probe_errors "$gw") errors"
    ans=$(field answered "$gw")
    mx=$(field max_ms "$gw")
    row "5b 2000 hung: answered (504) at 2 s deadline" "$ans ($(field status_504 "$gw"))" "-" "-" \
        "all, max <= 3000 ms" "$(verdict "$ans == 2000 and $mx <= 3000")"
    echo "      max answer $mx ms, p50 $(field p50_ms "$gw") ms; errors $(field errors "$gw")," \
        "timeouts $(field timeouts "$gw"); $cpu_note"
else
    row "5a healthz p99 ms, 2000 hung requests" "-" "-" "-" "<= 20 ms" "FAIL (gateway did not start)"
    row "5b 2000 hung: answered (504) at 2 s deadline" "-" "-" "-" "all, max <= 3000 ms" "FAIL (gateway did not start)"
fi
rc=3
if want 5; then
    start_standin --hang
    start_gateway --request-timeout-ms 60000 --shutdown-grace-ms 1000
    rc=$?
fi
if [ $rc = 3 ]; then
    :
elif [ $rc = 2 ]; then
    row "5c SIGTERM with 2000 hung: exit s" "-" "-" "-" "<= 2 s, all answered" "SKIP (option missing)"
elif [ $rc = 0 ]; then
    "$load_bin" --url-base "http://127.0.0.1:$gport" --header "x-functions-key: $key" --connections 2000 --once \
        --timeout-ms 20000 --path-template "$status_path" --max-connecting 512 >"$work/load.out" 2>"$work/load.err" &
    lp=$!
    for _ in $(seq 200); do
        [ "$(json_field pending "$(standin_stats)")" -ge 2000 ] 2>/dev/null && break
        sleep 0.05
    done
    held=$(json_field pending "$(standin_stats)")
    t0=$(date +%s%N)
    kill -TERM "$gw_pid"
    for _ in $(seq 1000); do kill -0 "$gw_pid" 2>/dev/null || break; sleep 0.01; done
    t1=$(date +%s%N)
    stop_pid "$gw_pid" 0 # still running after 10 s: killed
    gw_pid=""
    wait "$lp"
    gw=$(tail -n 1 "$work/load.out")
    ex=$(calc "round(($t1 - $t0) / 1e9, 2)")
    ans=$(field answered "$gw")
    row "5c SIGTERM with 2000 hung: exit s" "$ex" "-" "-" "<= 2 s, all answered" \
        "$(verdict "$ex <= 2 and $ans == 2000 and $(field errors "$gw") == 0")"
    echo "      $held storage reads hung at SIGTERM; answered $ans (503: $(field status_503 "$gw")), errors" \
        "$(field errors "$gw"), timeouts $(field timeouts "$gw"), max answer $(field max_ms "$gw") ms"
else
    row "5c SIGTERM with 2000 hung: exit s" "-" "-" "-" "<= 2 s, all answered" "FAIL (gateway did not start)"
fi

# ---- 6: storage reads per status request, 1000 connections over 100 instances ----
reads_row() { # label target gateway-options...
    local label="$1" target="$2"
    shift 2
    start_standin --delay-ms 10
    start_gateway "$@"
    local rc=$?
    if [ $rc = 2 ]; then
        row "$label" "-" "-" "-" "<= $target" "SKIP (option missing)"
        return
    elif [ $rc != 0 ]; then
        row "$label" "-" "-" "-" "<= $target" "FAIL (gateway did not start)"
        return
    fi
    local g0 g1 gw r
    g0=$(json_field table_get "$(standin_stats)")
    load "$gport" "$gw_pid" --connections 1000 --ids 100 --warmup-s "$warm" --duration-s "$secs" \
        --path-template "$status_path" --timeout-ms 30000
    gw="$last"
    g1=$(json_field table_get "$(standin_stats)")
    local ans
    ans=$(field answered "$gw")
    r=$(calc "'%.3f' % (($g1 - $g0) / max($ans, 1))")
    row "$label" "$r" "-" "-" "<= $target" "$(verdict "$r <= $target")"
    echo "      $((g1 - g0)) table reads for $ans answers ($(field rps "$gw")/s measured);" \
        "p50 $(field p50_ms "$gw") p99 $(field p99_ms "$gw") ms; $cpu_note"
}
if want 6; then
    reads_row "6a storage reads/request, 1000 conns, 100 ids" 0.2
    reads_row "6b the same, --status-cache-ms 1000" 0.02 --status-cache-ms 1000
fi

echo
echo "frontend: $passed passed, $failed failed ($skipped skipped)"
[ "$failed" -eq 0 ]
