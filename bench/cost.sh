#!/usr/bin/env bash
# CPU cost of a status request, counted rather than timed: instructions per
# GET instances/{id} (valgrind callgrind, every thread of the gateway), for
# build/durable-gateway and a reference binary run the same way in the same
# run, over bench_standin (0 ms storage). Counts do not depend on what else
# the machine runs, so a change of a few percent shows even where
# bench/frontend.sh's requests per second are noise.
# usage: bench/cost.sh REFERENCE_BINARY [REQUESTS]   (default 5000, after 2000 not counted)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
ref="${1:?usage: bench/cost.sh REFERENCE_BINARY [REQUESTS]}"
n="${2:-5000}"
if ! command -v valgrind >/dev/null; then
    echo "cost: installing valgrind from Debian"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get install -y -q valgrind >/dev/null 2>&1 ||
        { $sudo apt-get update -q >/dev/null 2>&1 && $sudo apt-get install -y -q valgrind >/dev/null 2>&1; }
    command -v valgrind >/dev/null || { echo "cost: valgrind could not be installed"; exit 2; }
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || exit 2
cmake --build build -j"$(nproc)" --target durable-gateway bench_standin bench_load >/dev/null || exit 2
work="$(mktemp -d)"
spid="" gpid=""
cleanup() { for p in $gpid $spid; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
build/bench/bench_standin --port 0 --delay-ms 0 >"$work/standin.out" 2>/dev/null &
spid=$!
sport=""
for _ in $(seq 100); do sport=$(sed -n 's/^port=//p' "$work/standin.out"); [ -n "$sport" ] && break; sleep 0.05; done
ep="http://127.0.0.1:$sport/devstoreaccount1"
cs="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=$ep;QueueEndpoint=$ep;BlobEndpoint=$ep"
key="cost-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '{"masterKey":"%s"}\n' "$key" >"$work/keys.json"

count() { # binary: instructions per request
    local bin="$1" gport i
    gport=$(free_port)
    rm -f "$work"/cg.*
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p" "$bin" --port "$gport" --connection-string "$cs" \
        --key-file "$work/keys.json" --threads 2 --log-level warn >"$work/gw.log" 2>&1 &
    gpid=$!
    for i in $(seq 600); do curl -fs -o /dev/null "http://127.0.0.1:$gport/healthz" && break; sleep 0.1; done
    load() { build/bench/bench_load --url-base "http://127.0.0.1:$gport" --header "x-functions-key: $key" \
        --connections 20 --path-template '/runtime/webhooks/durabletask/instances/{id}' "$@"; }
    load --requests 2000 >/dev/null 2>&1     # warm-up: connections, the hub's discovery
    callgrind_control --zero "$gpid" >/dev/null 2>&1
    load --requests "$n" >"$work/load.out" 2>/dev/null
    callgrind_control --dump "$gpid" >/dev/null 2>&1
    kill "$gpid"; wait "$gpid" 2>/dev/null; gpid=""
    local ok; ok=$(tail -n 1 "$work/load.out" | tr ' ' '\n' | sed -n 's/^status_2xx=//p')
    [ "$ok" = "$n" ] || { echo "cost: $bin answered $ok of $n with 2xx" >&2; return 1; }
    # the dump after --zero (cg.PID.1) holds the counted requests only
    sed -n 's/^summary: //p' "$work"/cg.*.1 | awk -v n="$n" '{ s += $1 } END { printf "%.0f", s / n }'
}
echo "cost: $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null), $n status requests, 20 connections"
b=$(count "$root/build/durable-gateway") || exit 1
r=$(count "$ref") || exit 1
printf '%-40s %12s\n' "binary" "instr/request"
printf '%-40s %12s\n' "build/durable-gateway" "$b" "reference $(basename "$ref")" "$r"
awk -v b="$b" -v r="$r" 'BEGIN { printf "ratio build/reference: %.3f\n", b / r }'
