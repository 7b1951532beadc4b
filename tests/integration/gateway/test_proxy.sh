#!/usr/bin/env bash
# The pass-through to the function app (--upstream) against a stand-in app
# (tests/support/upstream.js): every method with bodies and odd headers,
# hop-by-hop headers both ways, X-Forwarded-*, streaming both ways with the
# gateway's resident memory measured, 502 and 504, link rewriting (and that
# nothing else in the body changes), and that a slow upstream stalls nothing.
# usage: test_proxy.sh GATEWAY_BINARY   (DG_PROXY_BIG_MB: streamed size, default 1024)
set -u
bin="$1"
here="$(cd "$(dirname "$0")" && pwd)"
big_mb="${DG_PROXY_BIG_MB:-1024}"
fail=0 pass=0
check() { if eval "$2"; then pass=$((pass + 1)); echo "PASS $1"; else fail=$((fail + 1)); echo "FAIL $1"; fi; }
work="$(mktemp -d)"
up_pid="" gw_pid="" gw2_pid=""
cleanup() {
    for p in $gw_pid $gw2_pid $up_pid; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    [ -n "${KEEP_WORK:-}" ] && { echo "kept $work"; return; }
    rm -rf "$work"
}
trap cleanup EXIT

node "$here/../../support/upstream.js" >"$work/up.out" 2>"$work/up.err" &
up_pid=$!
for _ in $(seq 100); do grep -q '^port=' "$work/up.out" 2>/dev/null && break; sleep 0.05; done
uport=$(sed -n 's/^port=//p' "$work/up.out")
[ -n "$uport" ] || { echo "FAIL the stand-in app did not start"; cat "$work/up.err"; exit 1; }

printf '{"masterKey":"proxy-test-master-key-0123456789"}' >"$work/keys.json"
# AddressSanitizer keeps freed blocks resident on purpose (its quarantine,
# 256 MiB): without it the resident figure is the gateway's own again.
# Its allocator's own per-thread caches still take a few MiB more than
# glibc's, so the sanitized build gets a looser bound; the plain build is
# held to the issue's 2 MiB.
mem_cap=2048
if ldd "$bin" 2>/dev/null | grep -q libasan; then
    export ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=0"
    mem_cap=8192
fi
start_gw() { # log extra-args...
    local log="$1"; shift
    "$bin" --port 0 --connection-string UseDevelopmentStorage=true --key-file "$work/keys.json" \
        --log-level info "$@" >"$log" 2>&1 &
    local pid=$! port=""
    for _ in $(seq 200); do
        port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$log")
        [ -n "$port" ] && break
        sleep 0.05
    done
    echo "$pid $port"
}
read -r gw_pid gport < <(start_gw "$work/gw.log" --upstream "http://127.0.0.1:$uport" --rewrite-upstream-links \
    --upstream-timeout-ms 1000)
[ -n "$gport" ] || { echo "FAIL the gateway did not start"; cat "$work/gw.log"; exit 1; }
gw="http://127.0.0.1:$gport"
js() { node -e "const j=JSON.parse(require('fs').readFileSync(0,'utf8')); console.log($1)"; }

for u in "ftp://h" "http://" "http://h?x=1" "http://user@h" "http://a b"; do
    out=$("$bin" --no-auth --connection-string UseDevelopmentStorage=true --port 0 --upstream "$u" 2>&1); rc=$?
    check "--upstream '$u' stops the gateway with exit 2 and a message" '[ $rc -eq 2 ] && grep -q -- "--upstream must be" <<<"$out"'
done

# ---- methods, bodies, odd headers ----
for m in GET POST PUT PATCH DELETE OPTIONS; do
    out=$(printf 'body-of-%s' "$m" | curl -s -X "$m" --data-binary @- -H 'Content-Type: text/plain' "$gw/echo?x=1&y=%2F")
    want=$(printf 'body-of-%s' "$m" | sha256sum | cut -d' ' -f1)
    check "$m with a body passes method, query and body" \
        '[ "$(js "j.method+\" \"+j.url+\" \"+j.sha256" <<<"$out")" = "$m /echo?x=1&y=%2F $want" ]'
done
out=$(curl -s "$gw/echo")
check "GET without a body sends none" '[ "$(js "j.method+j.bodyBytes+(j.headers[\"content-length\"]||\"-\")" <<<"$out")" = "GET0-" ]'
hdrs=$(curl -s -I "$gw/big?bytes=12345")
check "HEAD passes the length and no body" 'grep -qi "^Content-Length: 12345" <<<"$hdrs"'
out=$(curl -s -H 'X-Repeat: one' -H 'X-Repeat: two' -H "X-Long: $(head -c 3000 /dev/zero | tr '\0' a)" \
    -H 'X-Odd: a;b=c, "quoted" \t' -H 'traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' \
    -H 'x-functions-key: app-key' "$gw/echo")
check "repeated headers arrive in order" \
    '[ "$(js "j.rawHeaders.filter((v,i,a)=>i%2==1&&a[i-1]===\"X-Repeat\").join(\"|\")" <<<"$out")" = "one|two" ]'
check "a 3,000-byte header value arrives whole" '[ "$(js "j.headers[\"x-long\"].length" <<<"$out")" = 3000 ]'
check "traceparent and the app's own key pass through" \
    '[ "$(js "j.headers.traceparent.slice(0,5)+j.headers[\"x-functions-key\"]" <<<"$out")" = "00-0aapp-key" ]'
out=$(curl -s -H 'Connection: keep-alive, X-Private' -H 'X-Private: 1' -H 'Keep-Alive: timeout=5' -H 'TE: trailers' \
    -H 'Proxy-Authorization: Basic Zm9vOmJhcg==' -H 'Upgrade: websocket' -H 'X-Kept: yes' "$gw/echo")
check "hop-by-hop request headers are not forwarded" \
    '[ "$(js "[\"connection\",\"x-private\",\"keep-alive\",\"te\",\"proxy-authorization\",\"upgrade\"].filter(h=>h in j.headers).join()" <<<"$out")" = "" ]'
check "other request headers are" '[ "$(js "j.headers[\"x-kept\"]" <<<"$out")" = yes ]'
check "X-Forwarded-For, -Proto and -Host are set" \
    '[ "$(js "j.headers[\"x-forwarded-for\"]+\" \"+j.headers[\"x-forwarded-proto\"]+\" \"+j.headers[\"x-forwarded-host\"]" <<<"$out")" = "127.0.0.1 http 127.0.0.1:$gport" ]'
out=$(curl -s -H 'X-Forwarded-For: 203.0.113.9' -H 'X-Forwarded-Proto: https' "$gw/echo")
check "a client's X-Forwarded-* is replaced without --trust-forwarded" \
    '[ "$(js "j.headers[\"x-forwarded-for\"]+\" \"+j.headers[\"x-forwarded-proto\"]" <<<"$out")" = "127.0.0.1 http" ]'
hdrs=$(curl -s -D - -o /dev/null "$gw/hop")
check "hop-by-hop answer headers are not passed back" \
    '! grep -qiE "^(X-Up-Private|Keep-Alive|Proxy-Authenticate|Upgrade):" <<<"$hdrs"'
check "other answer headers are, repeated ones too" \
    'grep -qi "^X-Up-Public: kept" <<<"$hdrs" && [ "$(grep -ci "^Set-Cookie:" <<<"$hdrs")" = 2 ]'
check "one Date header" '[ "$(grep -ci "^Date:" <<<"$hdrs")" = 1 ]'

hdrs=$(curl -s -D - -o "$work/echo.json" "$gw/echo")
rid=$(sed -n 's/^X-Request-Id: \([^[:space:]]*\).*/\1/Ip' <<<"$hdrs")
check "the answer carries X-Request-Id, and the app got the same id" \
    '[ -n "$rid" ] && [ "$(js "j.headers[\"x-request-id\"]" <"$work/echo.json")" = "$rid" ]'
out=$(curl -s -D "$work/rid.h" -H 'X-Request-Id: client-id-42' "$gw/echo")
check "a client's X-Request-Id passes to the app and comes back" \
    '[ "$(js "j.headers[\"x-request-id\"]" <<<"$out")" = client-id-42 ] && grep -qi "^X-Request-Id: client-id-42" "$work/rid.h"'

# ---- the gateway's own paths are never passed through ----
check "/healthz is the gateway's" 'curl -s "$gw/healthz" | grep -q healthy'
check "management routes are the gateway's (401 without its key)" \
    '[ "$(curl -s -o /dev/null -w "%{http_code}" "$gw/runtime/webhooks/durabletask/instances/x")" = 401 ]'
check "/api/orchestrators/x/wait is the gateway's" \
    '[ "$(curl -s -o /dev/null -w "%{http_code}" -X POST "$gw/api/orchestrators/x/wait")" = 401 ]'
check "an unknown path goes to the app" '[ "$(curl -s -w " %{http_code}" "$gw/nowhere")" = "no such path 404" ]'

# ---- link rewriting ----
raw=$(curl -s "http://127.0.0.1:$uport/start" -X POST)
got=$(curl -s -D "$work/start.h" "$gw/start" -X POST)
want=${raw//"http://127.0.0.1:$uport/runtime"/"$gw/runtime"}
want=${want//"http:\\/\\/127.0.0.1:$uport\\/runtime"/"http:\\/\\/127.0.0.1:$gport\\/runtime"}
# ...but not the members that are not links, nor the nested object's:
want=${want//"\"note\":\"$gw/stays"/"\"note\":\"http://127.0.0.1:$uport/stays"}
want=${want//"{\"statusQueryGetUri\":\"$gw/"/"{\"statusQueryGetUri\":\"http://127.0.0.1:$uport/"}
check "check-status links point at the gateway, every other byte kept" '[ "$got" = "$want" ]'
check "Location points at the gateway" \
    'grep -qi "^Location: $gw/runtime/webhooks/durabletask/instances/abc123?taskHub=TestHub" "$work/start.h"'
check "the status is the app's" 'head -n1 "$work/start.h" | grep -q " 202"'
check "the app's origin stays where it is no link" 'grep -q "\"note\":\"http://127.0.0.1:$uport/stays" <<<"$got"'

# ---- errors: 502, 504, nothing else stalls ----
out=$(curl -s -w ' %{http_code}' "$gw/drop")
check "an upstream that drops the connection: 502 in the host's form" 'grep -q "\"Message\":.* 502$" <<<"$out"'
t0=$(date +%s%N)
out=$(curl -s -w ' %{http_code}' "$gw/slow?ms=3000") &
slow=$!
sleep 0.2
h0=$(date +%s%N)
curl -s -o /dev/null "$gw/healthz"
h1=$(date +%s%N)
check "/healthz answers while the upstream is slow" '[ $(((h1 - h0) / 1000000)) -lt 200 ]'
wait $slow
out=$(curl -s -w ' %{http_code}' "$gw/slow?ms=3000")
t1=$(date +%s%N)
check "an upstream silent past --upstream-timeout-ms: 504 in the host's form" 'grep -q "\"Message\":.* 504$" <<<"$out"'
check "...within the timeout and a bit" '[ $(((t1 - t0) / 1000000)) -lt 4500 ]'
m=$(curl -s "$gw/metrics")
check "metrics: upstream answers by code" \
    'grep -q "^durable_gateway_upstream_requests_total{code=\"200\"} [1-9]" <<<"$m" && grep -q "^durable_gateway_upstream_requests_total{code=\"502\"} [1-9]" <<<"$m"'
check "metrics: passed-through requests under route upstream, with their latency" \
    'grep -q "^durable_gateway_requests_total{route=\"upstream\",code=\"200\"} [1-9]" <<<"$m" && grep -q "^durable_gateway_upstream_request_duration_seconds_count [1-9]" <<<"$m"'
read -r gw2_pid g2port < <(start_gw "$work/gw2.log" --upstream "http://127.0.0.1:1")
out=$(curl -s -w ' %{http_code}' "http://127.0.0.1:$g2port/anything")
check "an unreachable upstream: 502" 'grep -q "\"Message\":.* 502$" <<<"$out"'
kill "$gw2_pid"; gw2_pid=""
read -r gw2_pid g2port < <(start_gw "$work/gw3.log")
check "without --upstream other paths stay 404" \
    '[ "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$g2port/echo")" = 404 ]'
kill "$gw2_pid"; gw2_pid=""

# ---- streaming both ways, the gateway's memory measured ----
rss() { awk '/^VmRSS/ {print $2}' "/proc/$gw_pid/status"; }
hwm() { awk '/^VmHWM/ {print $2}' "/proc/$gw_pid/status"; }
for _ in 1 2 3; do curl -s -o /dev/null "$gw/big?bytes=1000000"; head -c 1000000 /dev/zero | curl -s -o /dev/null --data-binary @- "$gw/echo"; done
base=$(rss)
echo 0 > "/proc/$gw_pid/clear_refs" 2>/dev/null || true
echo 5 > "/proc/$gw_pid/clear_refs" 2>/dev/null || true # resets VmHWM to the current RSS
bytes=$((big_mb * 1048576))
got=$(curl -s -o /dev/null -w '%{size_download} %{http_code}' "$gw/big?bytes=$bytes")
check "a ${big_mb} MiB answer streams through whole" '[ "$got" = "$bytes 200" ]'
got=$(curl -s -o /dev/null -w '%{size_download} %{http_code}' "$gw/big?bytes=$((bytes / 4))&chunked=1")
check "a chunked answer streams through whole" '[ "$got" = "$((bytes / 4)) 200" ]'
want=$(head -c "$bytes" /dev/zero | sha256sum | cut -d' ' -f1)
truncate -s "$bytes" "$work/big.bin" # sparse: no disk, and curl -T streams it with its Content-Length
out=$(curl -s -X POST -H 'Content-Type: application/octet-stream' -T "$work/big.bin" "$gw/echo")
check "a ${big_mb} MiB request body streams through whole" '[ "$(js "j.bodyBytes+\" \"+j.sha256" <<<"$out")" = "$bytes $want" ]'
out=$(head -c $((bytes / 4)) /dev/zero | curl -s -X POST -T - "$gw/echo") # stdin: chunked
check "a chunked request body streams through whole" '[ "$(js "j.bodyBytes" <<<"$out")" = $((bytes / 4)) ]'
out=$(head -c 3000000 /dev/zero | curl -s --data-binary @- "$gw/sink?rate=65536")
check "a slow upstream reader gets the whole body (back-pressure)" '[ "$(js "j.bodyBytes" <<<"$out")" = 3000000 ]'
peak=$(hwm)
growth=$((peak - base))
echo "memory: resident ${base} KiB before, peak ${peak} KiB while streaming ${big_mb} MiB each way: +${growth} KiB"
check "resident memory stays within $((mem_cap / 1024)) MiB of where it started" '[ "$growth" -le $mem_cap ]'
check "the gateway is still alive" 'kill -0 $gw_pid'
check "no key appears in the log" '! grep -q "proxy-test-master-key" "$work/gw.log"'

# ---- SIGTERM: a request waiting on the app is answered 503, a streaming answer is cut, exit bounded ----
read -r gw2_pid g2port < <(start_gw "$work/gw4.log" --upstream "http://127.0.0.1:$uport" --shutdown-grace-ms 1000)
curl -s -w ' %{http_code}' "http://127.0.0.1:$g2port/slow?ms=8000" >"$work/c1.out" &
c1=$!
curl -s -o /dev/null --limit-rate 1M -w '%{http_code}' "http://127.0.0.1:$g2port/big?bytes=2000000000" >"$work/c2.out" &
c2=$!
sleep 0.5
t0=$(date +%s%N)
kill -TERM "$gw2_pid"
# Started from a subshell, the gateway is not our child: it may linger as a zombie until reaped.
running() { [ -e "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }
for _ in $(seq 200); do running "$gw2_pid" || break; sleep 0.02; done
t1=$(date +%s%N)
wait "$c1" "$c2"
echo "SIGTERM to exit: $(((t1 - t0) / 1000000)) ms"
check "SIGTERM: the gateway exits within the grace and a second" '[ $(((t1 - t0) / 1000000)) -le 2000 ]'
check "SIGTERM: a request waiting on the app is answered 503" 'grep -q "shutting down.* 503$" "$work/c1.out"'
check "SIGTERM: a streaming answer is cut, not left hanging" '[ -s "$work/c2.out" ]'
gw2_pid=""

echo "test_proxy: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
