#!/usr/bin/env bash
# Pass-through benchmark: the gateway's --upstream against nginx proxy_pass to
# the same loopback upstream in the same run. The upstream is bench_standin
# (bench/frontend/standin.c) answering a small GET (a 752-byte JSON entity)
# after --delay-ms; both proxies keep their upstream connections alive.
# Rows: 1, small GETs at 0 ms upstream latency, 50 connections; 2, at 10 ms and
# 500 connections; 3, a 256 MiB answer streamed through each (MiB/s, and the
# gateway's resident memory growth while it streams).
# usage: bench/proxy.sh [SECONDS]   (default 10 per timed row, after a 2 s warm-up)
# PROXY_GATEWAY=/path/to/durable-gateway measures that binary instead of build/'s.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
secs="${1:-10}"
warm=2
cores=$(nproc)
bench=proxy
. bench/lib/common.sh
bench_need_nginx
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || exit 2
cmake --build build -j"$cores" --target durable-gateway bench_standin bench_load >/dev/null || exit 2
gw_bin="${PROXY_GATEWAY:-$root/build/durable-gateway}"
standin_bin="$root/build/bench/bench_standin"
load_bin="$root/build/bench/bench_load"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
clk=$(getconf CLK_TCK)

work="$(mktemp -d)"
chmod 755 "$work" # nginx workers may run as another user
gw_pid="" up_pid=""
cleanup() {
    stop_pid "$gw_pid" 3
    stop_pid "$nginx_pid" 3
    stop_pid "$standin_pid" 1
    stop_pid "$up_pid" 1
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_standin
start_nginx "$sport" || exit 2
printf '{"masterKey":"proxy-bench-%s"}\n' "$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$work/keys.json"
gport=0
start_gateway() { # upstream-url
    stop_pid "$gw_pid" 3
    gport=$(free_port)
    "$gw_bin" --port "$gport" --connection-string UseDevelopmentStorage=true --key-file "$work/keys.json" \
        --threads "$cores" --log-level warn --connection-limit 16000 --upstream "$1" >"$work/gateway.log" 2>&1 &
    gw_pid=$!
    for _ in $(seq 200); do
        curl -fs -o /dev/null --max-time 1 "http://127.0.0.1:$gport/healthz" && return 0
        kill -0 "$gw_pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "proxy: the gateway did not start"
    cat "$work/gateway.log"
    exit 2
}

last="" cpu_note=""
load() { # port target-pids -- bench_load options
    local port="$1" pids="$2"
    shift 2
    local t0 s0 t1 s1 w0 w1
    t0=$(cpu_ticks $pids)
    s0=$(cpu_ticks "$standin_pid")
    w0=$(date +%s%N)
    "$load_bin" --url-base "http://127.0.0.1:$port" "$@" >"$work/load.out" 2>"$work/load.err"
    w1=$(date +%s%N)
    t1=$(cpu_ticks $pids)
    s1=$(cpu_ticks "$standin_pid")
    last=$(tail -n 1 "$work/load.out")
    local wall=$(((w1 - w0) / 1000000)) lc
    lc=$(field load_cpu_s "$last")
    cpu_note=$(calc "'cpu over the run: proxy %.0f%%, upstream %.0f%%, bench_load %.0f%% of one core' % (100.0*($t1-$t0)/$clk/($wall/1000.0), 100.0*($s1-$s0)/$clk/($wall/1000.0), 100.0*$lc/($wall/1000.0))")
}
detail() {
    printf '      %s: p50 %s p99 %s max %s ms, 2xx %s, non-2xx %s, errors %s, timeouts %s\n' "$1" \
        "$(field p50_ms "$2")" "$(field p99_ms "$2")" "$(field max_ms "$2")" "$(field status_2xx "$2")" \
        "$(($(field status_4xx "$2") + $(field status_5xx "$2")))" "$(field errors "$2")" "$(field timeouts "$2")"
}
passed=0 failed=0
row() {
    printf '%-44s %11s %11s %7s  %-10s %s\n' "$1" "$2" "$3" "$4" "$5" "$6"
    case "$6" in PASS*) passed=$((passed + 1)) ;; FAIL*) failed=$((failed + 1)) ;; esac
}
verdict() { [ "$(calc "1 if $1 else 0")" = 1 ] && echo PASS || echo FAIL; }

echo "proxy: $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "machine: $cores cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "versions: $("$nginx_bin" -v 2>&1), $("$gw_bin" --version 2>&1 | head -n 1)"
echo "setup: upstream bench_standin 127.0.0.1:$sport; nginx worker_processes 2, upstream keepalive 1024;" \
    "gateway --threads $cores --upstream; $secs s per timed row after a $warm s warm-up"
echo
printf '%-44s %11s %11s %7s  %-10s %s\n' "row" "gateway" "nginx" "ratio" "target" "result"

path="/devstoreaccount1/ProxyInstances(PartitionKey='{id}',RowKey='')"
get_row() { # label delay connections
    local label="$1" delay="$2" conns="$3" ng gw r
    start_standin --delay-ms "$delay"
    load "$nport" "$(nginx_pids)" --connections "$conns" --warmup-s "$warm" --duration-s "$secs" \
        --path-template "$path" --timeout-ms 30000
    ng="$last"
    local ng_cpu="$cpu_note"
    start_gateway "http://127.0.0.1:$sport"
    load "$gport" "$gw_pid" --connections "$conns" --warmup-s "$warm" --duration-s "$secs" \
        --path-template "$path" --timeout-ms 30000
    gw="$last"
    r=$(calc "'%.2f' % ($(field rps "$gw") / max($(field rps "$ng"), 0.001))")
    row "$label" "$(field rps "$gw")" "$(field rps "$ng")" "$r" ">= 0.70" "$(verdict "$r >= 0.7")"
    detail gateway "$gw"
    echo "      gateway $cpu_note"
    detail nginx "$ng"
    echo "      nginx $ng_cpu"
}
get_row "1  small GET rps, 0 ms upstream, 50 conns" 0 50
get_row "2  small GET rps, 10 ms upstream, 500 conns" 10 500

# ---- 3: streaming a large answer (the stand-in app of the tests) ----
node tests/support/upstream.js >"$work/up.out" 2>"$work/up.err" &
up_pid=$!
for _ in $(seq 100); do grep -q '^port=' "$work/up.out" 2>/dev/null && break; sleep 0.05; done
uport=$(sed -n 's/^port=//p' "$work/up.out")
start_gateway "http://127.0.0.1:$uport"
stop_pid "$nginx_pid" 3
start_nginx "$uport" >/dev/null 2>&1 # /__stats is not the app's: nginx is up all the same
bytes=$((256 * 1048576))
mibs() { # url: MiB/s of one download
    curl -s -o /dev/null -w '%{speed_download}' "$1" | python3 -c "import sys; print('%.0f' % (float(sys.stdin.read()) / 1048576))"
}
curl -s -o /dev/null "http://127.0.0.1:$gport/big?bytes=1000000"
base=$(awk '/^VmRSS/ {print $2}' "/proc/$gw_pid/status")
echo 5 >"/proc/$gw_pid/clear_refs" 2>/dev/null || true
g=$(mibs "http://127.0.0.1:$gport/big?bytes=$bytes")
n=$(mibs "http://127.0.0.1:$nport/big?bytes=$bytes")
peak=$(awk '/^VmHWM/ {print $2}' "/proc/$gw_pid/status")
r=$(calc "'%.2f' % ($g / max($n, 0.001))")
row "3  256 MiB answer streamed, MiB/s" "$g" "$n" "$r" "-" "(figure)"
echo "      gateway resident memory: ${base} KiB before, peak ${peak} KiB while streaming (+$((peak - base)) KiB)"
echo
echo "proxy: $passed passed, $failed failed"
