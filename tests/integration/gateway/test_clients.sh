#!/usr/bin/env bash
# Hostile and ordinary clients at the front end (no storage needed: every
# answer here comes before a storage call): a body over the cap is a 413 the
# client can read (curl and node, Content-Length and chunked, with or without
# Expect); a client dribbling its request head or body is dropped at the
# overall deadline although each byte comes well within the idle timeout;
# past --connection-limit and --per-ip-connection-limit a new client is
# answered 503 with Retry-After at once, in the host's error form.
set -u
bin="$1"
here="$(cd "$(dirname "$0")" && pwd)"
js="$here/clients.js"
. "$here/../../support/keep-logs.sh"
fail=0; pass=0
check() { if eval "$2"; then pass=$((pass+1)); echo "PASS $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
work=$(mktemp -d)
gpid=""
cleanup() { [ -n "$gpid" ] && kill "$gpid" 2>/dev/null; dg_keep_logs clients "$work/gw.log"; rm -rf "$work"; }
trap cleanup EXIT
start_gateway() { # options
    [ -n "$gpid" ] && { kill "$gpid" 2>/dev/null; wait "$gpid" 2>/dev/null; dg_keep_logs clients "$work/gw.log"; }
    : > "$work/gw.log" # emptied here, not by the child's redirection: the loop below must not read the last one's port
    "$bin" --port 0 --no-auth --connection-string "UseDevelopmentStorage=true" --threads 2 "$@" >> "$work/gw.log" 2>&1 &
    gpid=$!
    port=""
    for _ in $(seq 200); do
        port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/gw.log")
        [ -n "$port" ] && break
        sleep 0.05
    done
}
metric() { curl -s "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
healthy() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")" = 200 ]; }
within() { awk "BEGIN{exit !($1 >= $2 && $1 <= $3)}"; } # value low high

# ---- a body over the cap: a 413 every client reads ----
start_gateway
TOO_BIG='{"Message":"The request body exceeds the gateway'"'"'s limit of 4 MiB."}'
for mode in length chunked; do
    for mb in 5 20 100; do
        out=$(timeout 60 node "$js" post "$port" $((mb * 1000000)) "$mode")
        check "node http, $mb MB body ($mode): the 413 is read, no reset ($out)" '[ "$out" = "status 413 $TOO_BIG" ]'
    done
done
head -c 20000000 /dev/zero > "$work/big"
for hdr in "Expect: 100-continue" "Expect:" "Transfer-Encoding: chunked"; do
    out=$(curl -s -H "$hdr" -w ' %{http_code}' --data-binary @"$work/big" "http://127.0.0.1:$port/runtime/webhooks/durabletask/orchestrators/Big"; echo " rc=$?")
    check "curl --data-binary @20MB ($hdr): 413 in the host's form ($out)" '[ "$out" = "$TOO_BIG 413 rc=0" ]'
done
check "...the refused bodies were drained before closing ($(metric durable_gateway_connections_lingered_total))" '[ "$(metric durable_gateway_connections_lingered_total)" -ge 9 ]'
check "...and the gateway answers on" 'healthy'
code=$(head -c 4000000 /dev/zero | curl -s -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' --data-binary @- "http://127.0.0.1:$port/runtime/webhooks/durabletask/orchestrators/Big")
check "a chunked body under the cap is read whole (not 413: $code)" '[ "$code" != 413 ] && [ "$code" != 000 ]'

for name in 'Hel%0D%0AX-Injected:%201lo' 'Hel%1Blo' 'Hel%FFlo' 'Hel%C0%80lo'; do
    code=$(curl -s -D "$work/h" -o "$work/b" -w '%{http_code}' -X POST "http://127.0.0.1:$port/runtime/webhooks/durabletask/orchestrators/$name")
    check "a start whose orchestrator name holds $name is 400 in the host's form, nothing echoed into headers ($code)" \
        '[ "$code" = 400 ] && grep -q "\"Message\":" "$work/b" && ! grep -qi "^X-Injected" "$work/h"'
done

# ---- slow clients: overall deadlines, not an idle timer every byte resets ----
start_gateway --header-timeout-ms 1500 --body-timeout-ms 1500 --connection-timeout 5
out=$(timeout 20 node "$js" dribble "$port" 300)
check "a request head dribbled a byte per 300 ms is dropped at --header-timeout-ms 1500 ($out s)" 'within "${out#closed }" 1.3 3'
out=$(timeout 20 node "$js" dribble "$port" 300 body)
check "a body dribbled a byte per 300 ms is dropped at --body-timeout-ms 1500 ($out s)" 'within "${out#closed }" 1.3 3'
check "...both counted in /metrics" '[ "$(metric "durable_gateway_connections_dropped_head_total")" = 1 ] && [ "$(metric "durable_gateway_connections_dropped_body_total")" = 1 ]'
check "...and logged with the client's address" 'grep -q "connection from 127.0.0.1 dropped: request line and headers not complete within 1500 ms" "$work/gw.log"'
timeout 20 node "$js" dribble "$port" 200 head 50 > "$work/d.50" &
dpid=$!
for _ in $(seq 100); do [ "$(metric durable_gateway_client_connections)" -ge 51 ] && break; sleep 0.02; done
t=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/healthz")
check "/healthz answers at once beside 50 dribbling clients (${t}s)" 'awk "BEGIN{exit !($t < 0.5)}"'
wait "$dpid"
ok=0; while read -r _ v; do within "$v" 1.3 3.5 && ok=$((ok+1)); done < "$work/d.50"
check "...and all 50 are dropped at the deadline ($ok of 50)" '[ $ok -eq 50 ]'
sleep 0.2
check "...leaving no connection behind ($(metric durable_gateway_client_connections) open: this one)" '[ "$(metric durable_gateway_client_connections)" = 1 ]'

# ---- connection limits: 503 at once, never the backlog ----
start_gateway --connection-limit 16
out=$(timeout 20 node "$js" hold "$port" 15 300)
check "15 idle connections under --connection-limit 16: a new client is served ($out)" '[ "${out%% *}" = HTTP/1.1_200_OK ]'
out=$(timeout 20 node "$js" hold "$port" 16 300)
read -r -a f <<<"$out"
check "16 idle connections at --connection-limit 16: a new client gets 503 with Retry-After at once ($out)" '[ "${f[0]}" = HTTP/1.1_503_Service_Unavailable ] && [ "${f[1]}" = 1 ] && [ "${f[2]}" = json ] && within "${f[3]}" 0 0.5'
check "...counted in /metrics" '[ "$(metric "durable_gateway_connections_refused_limit_total")" = 1 ]'
sleep 0.3
check "...and once they leave, clients are served again" 'healthy'
start_gateway --per-ip-connection-limit 4
out=$(timeout 20 node "$js" hold "$port" 3 300)
check "3 connections from one address under --per-ip-connection-limit 4: served ($out)" '[ "${out%% *}" = HTTP/1.1_200_OK ]'
out=$(timeout 20 node "$js" hold "$port" 4 300)
read -r -a f <<<"$out"
check "4 from one address: the 5th gets 503 with Retry-After ($out)" '[ "${f[0]}" = HTTP/1.1_503_Service_Unavailable ] && [ "${f[1]}" = 1 ] && [ "${f[2]}" = json ]'
check "...counted in /metrics" '[ "$(metric "durable_gateway_connections_refused_per_ip_total")" = 1 ]'
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")
check "curl at the per-address limit's edge is served once the others left ($code)" '[ "$code" = 200 ]'
kill "$gpid"; wait "$gpid"; rc=$?; gpid=""
check "SIGTERM stops it cleanly" '[ $rc -eq 0 ]'
check "libmicrohttpd logged no error" '! grep -q "warn  \[-\] http:" "$work/gw.log"'
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
