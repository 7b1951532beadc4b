#!/usr/bin/env bash
# The event-driven pipeline through the real binary, over the project's
# stand-in storage service (bench_standin): slow and hung storage never stalls
# /healthz, a request past its deadline is 504 in the host's error form,
# /readyz follows storage, a hang-up is counted, SIGTERM cuts hung requests
# to 503 within the grace, and concurrent status reads of one instance share
# storage reads. Functional checks with wide margins, not timings.
set -u
bin="$1"
. "$(cd "$(dirname "$0")" && pwd)/../../support/keep-logs.sh"
standin="$2"
fail=0; pass=0
. "$(dirname "$0")/../../support/gateway.sh"
check() { if eval "$2"; then pass=$((pass+1)); echo "PASS $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
work=$(mktemp -d)
spid="" gpid=""
cleanup() { [ -n "$gpid" ] && kill -9 "$gpid" 2>/dev/null; [ -n "$spid" ] && kill "$spid" 2>/dev/null; dg_keep_logs pipeline "$work/gw.log" "$work/keys.json"; rm -rf "$work"; }
trap cleanup EXIT
key=test-pipeline-key-0123456789
printf '{"masterKey":"%s"}' "$key" > "$work/keys.json"

start_standin() { # options
    [ -n "$spid" ] && { kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null; }
    "$standin" --port 0 "$@" > "$work/standin.out" 2>/dev/null &
    spid=$!
    sport=""
    for _ in $(seq 100); do
        sport=$(sed -n 's/^port=//p' "$work/standin.out")
        [ -n "$sport" ] && break
        sleep 0.05
    done
    cs="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:$sport/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$sport/devstoreaccount1;BlobEndpoint=http://127.0.0.1:$sport/devstoreaccount1"
}
start_gateway() { # options
    [ -n "$gpid" ] && { kill -9 "$gpid" 2>/dev/null; wait "$gpid" 2>/dev/null; dg_keep_logs pipeline "$work/gw.log"; }
    "$bin" --port 0 --connection-string "$cs" --key-file "$work/keys.json" "$@" > "$work/gw.log" 2>&1 &
    gpid=$!
    port=$(listening_port "$work/gw.log")
    base="http://127.0.0.1:$port/runtime/webhooks/durabletask"
}
metric() { curl -s "http://127.0.0.1:$port/metrics" | sed -n "s/^$1 //p"; }
status() { curl -s -D "$work/head.$1" -o "$work/body.$1" -w '%{http_code} %{time_total}' -H "x-functions-key: $key" "$base/instances/$1"; }

# ---- storage answers: status works, readiness follows ----
start_standin --delay-ms 50
start_gateway
out=$(status ok-1)
check "a status read through the loop answers 200" '[ "${out%% *}" = 200 ] && grep -q "\"runtimeStatus\":\"Completed\"" "$work/body.ok-1"'
nr=""
readyz_is() { nr=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz"); [ "$nr" = "$1" ]; }
until_true 20 readyz_is 200
check "/readyz is 200 while storage answers" '[ "$nr" = 200 ]'

# ---- collapse: 20 concurrent reads of one instance share storage reads ----
r0=$(metric durable_gateway_status_reads_total)
pids=()
for i in $(seq 20); do status same-1 > "$work/c.$i" & pids+=($!); done
wait "${pids[@]}"
r1=$(metric durable_gateway_status_reads_total)
ok=0; for i in $(seq 20); do [ "$(cut -d' ' -f1 "$work/c.$i")" = 200 ] && ok=$((ok+1)); done
check "20 concurrent status requests: all 200" '[ $ok -eq 20 ]'
check "...from fewer storage reads than requests ($((r1-r0)))" '[ $((r1-r0)) -lt 20 ] && [ "$(metric durable_gateway_status_reads_collapsed_total)" -gt 0 ]'

# ---- hung storage: deadlines, liveness, hang-ups ----
start_standin --hang
start_gateway --request-timeout-ms 3000 --shutdown-grace-ms 500
pids=()
for i in $(seq 30); do status hung-$i > "$work/h.$i" & pids+=($!); done
running_ge() { [ "$(metric durable_gateway_requests_running)" -ge "$1" ]; }
until_true 3 running_ge 30   # all 30 are in the gateway, hung on storage
t=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/healthz")
check "/healthz answers at once while 30 requests hang on storage (${t}s)" 'awk "BEGIN{exit !($t < 1.5)}"'
nr=""
until_true 20 readyz_is 503
wait "${pids[@]}"
ok=0; for i in $(seq 30); do set -- $(cat "$work/h.$i"); [ "$1" = 504 ] && awk "BEGIN{exit !($2 >= 2.9 && $2 < 6)}" && ok=$((ok+1)); done
check "every hung request is 504 at its deadline ($ok of 30)" '[ $ok -eq 30 ]'
check "...in the host's error form" 'grep -q "\"Message\":\"The request did not complete within the gateway" "$work/body.hung-1"'
check "...with its X-Request-Id" 'grep -qiE "^X-Request-Id: [0-9a-f]{12}\s*$" "$work/head.hung-1"'
check "...counted in /metrics" '[ "$(metric durable_gateway_request_deadlines_total)" -ge 30 ]'
check "/readyz turns 503 when storage stops answering" '[ "$nr" = 503 ]'
curl -s -m 0.3 -o /dev/null -H "x-functions-key: $key" "$base/instances/gone-1"
hangups_ge() { [ "$(metric durable_gateway_request_hangups_total)" -ge "$1" ]; }
until_true 10 hangups_ge 1
check "a client that hangs up is seen while its request waits on storage" '[ "$(metric durable_gateway_request_hangups_total)" -ge 1 ]'
answered_499() { [ -n "$(metric 'durable_gateway_requests_total{route="get_status",code="499"}')" ]; }
until_true 10 answered_499
check "...and counted as answered 499 (no answer)" '[ "$(metric "durable_gateway_requests_total{route=\"get_status\",code=\"499\"}")" -ge 1 ]'

# ---- SIGTERM while requests hang: every one answered, exit within the grace ----
start_gateway --request-timeout-ms 60000 --shutdown-grace-ms 500
pids=()
for i in $(seq 20); do status term-$i > "$work/t.$i" & pids+=($!); done
until_true 20 running_ge 20
t0=$(date +%s%N)
kill -TERM "$gpid"
wait "$gpid"; rc=$?
t1=$(date +%s%N)
gpid=""
wait "${pids[@]}"
ok=0; for i in $(seq 20); do [ "$(cut -d' ' -f1 "$work/t.$i")" = 503 ] && ok=$((ok+1)); done
ms=$(( (t1 - t0) / 1000000 ))
check "SIGTERM with 20 hung requests exits 0 within the grace, not at their 60 s deadline (${ms} ms)" '[ $rc -eq 0 ] && [ $ms -lt 3000 ]'
check "...and answers every one of them 503 with Retry-After ($ok of 20)" '[ $ok -eq 20 ] && grep -qi "^Retry-After:" "$work/head.term-1"'
check "...and its X-Request-Id" 'grep -qiE "^X-Request-Id: [0-9a-f]{12}\s*$" "$work/head.term-1"'
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
