#!/usr/bin/env bash
# Observability through the real binary against Azurite (run by
# with-azurite.sh with AZURITE_DEBUG=1, so Azurite logs every request's
# headers): every metric of /metrics moving when it should (scraped before
# and after), the JSON access log's fields, request ids (kept, capped, made,
# returned as X-Request-Id, on every log line of the request) and their
# propagation to storage as x-ms-client-request-id, seen in Azurite's log.
set -u
bin="$1"
fail=0; pass=0
check() { if eval "$2"; then pass=$((pass+1)); echo "PASS $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
work=$(mktemp -d)
gpid=""
cleanup() { [ -n "$gpid" ] && kill -9 "$gpid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
[ -n "${AZURITE_CONNECTION_STRING:-}" ] || { echo "FAIL needs with-azurite.sh"; exit 1; }
azlog="${AZURITE_DEBUG_LOG:-}"
key=test-observability-key-0123456789
printf '{"masterKey":"%s"}' "$key" > "$work/keys.json"
dead=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

out=$("$bin" --log-format xml --no-auth --connection-string UseDevelopmentStorage=true 2>&1); rc=$?
check "--log-format xml stops the gateway with exit 2" '[ $rc -eq 2 ] && grep -q -- "--log-format must be text or json" <<<"$out"'

# A second connection to a port nobody listens on: its calls fail and are retried.
DeadStorage="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:$dead/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$dead/devstoreaccount1;BlobEndpoint=http://127.0.0.1:$dead/devstoreaccount1" \
    "$bin" --port 0 --connection-string "$AZURITE_CONNECTION_STRING" --key-file "$work/keys.json" \
    --task-hub ObsHub --log-format json --connections DeadStorage --storage-timeout-ms 600 > "$work/gw.log" 2>&1 &
gpid=$!
port=""
for _ in $(seq 200); do
    port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/gw.log")
    [ -n "$port" ] && break
    sleep 0.05
done
check "starts with --log-format json" '[ -n "$port" ]'
root="http://127.0.0.1:$port"
base="$root/runtime/webhooks/durabletask"
scrape() { curl -s "$root/metrics" > "$work/$1.prom"; }
# value of one series (exact name and labels) in a scrape; 0 when absent
val() { awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$work/$1.prom"; }
delta() { awk -v a="$(val before "$1")" -v b="$(val after "$1")" 'BEGIN { print b - a }'; }
moved() { # series want: the series grew by exactly want (or at least, with a trailing +)
    local d; d=$(delta "$1")
    case "$2" in *+) awk -v d="$d" -v w="${2%+}" 'BEGIN { exit !(d >= w) }' ;; *) [ "$d" = "$2" ] ;; esac
}
hdr() { tr -d '\r' < "$1" | sed -n "s/^$2: //Ip" | head -n 1; }

# ---- the requests ----
scrape before
curl -s -D "$work/h.health" -o /dev/null -H "X-Request-Id: obs-health-1" "$root/healthz"
curl -s -D "$work/h.ready" -o /dev/null "$root/readyz"
curl -s -D "$work/h.nope" -o /dev/null "$root/nope"
curl -s -D "$work/h.401" -o /dev/null "$base/instances/obs-x"
curl -s -D "$work/h.404" -o /dev/null -H "x-functions-key: $key" "$base/instances/obs-missing"
curl -s -D "$work/h.start" -o "$work/b.start" -H "x-functions-key: $key" -H "x-ms-client-request-id: obs-start-1" \
    -H "X-Request-Id: loses-to-the-ms-header" -H "Content-Type: application/json" --data '"input-17"' \
    "$base/orchestrators/Hello/obs-inst-1"
curl -s -D "$work/h.status" -o /dev/null -H "x-functions-key: $key" "$base/instances/obs-inst-1"
curl -s -D "$work/h.bad" -o /dev/null -H "x-functions-key: $key" -H "X-Request-Id: has spaces;and=more" "$base/instances/obs-inst-1"
long=$(printf 'L%.0s' $(seq 200))
curl -s -D "$work/h.long" -o /dev/null -H "X-Request-Id: $long" "$root/healthz"
curl -s -D "$work/h.dead" -o /dev/null -H "x-functions-key: $key" -H "X-Request-Id: obs-dead-1" \
    "$base/instances/obs-inst-1?connection=DeadStorage"
curl -s -o /dev/null "$base/instances/obs-inst-1?code=$key"
# a long-poll held while we look, answered 202 at its timeout
curl -s -D "$work/h.wait" -o /dev/null -H "x-functions-key: $key" -H "X-Request-Id: obs-wait-1" \
    "$base/instances/obs-inst-1/wait?timeout=2&retryInterval=1" &
wpid=$!
# an idle kept-alive client connection
exec 3<>"/dev/tcp/127.0.0.1/$port"
for _ in $(seq 100); do curl -s "$root/metrics" > "$work/during.prom"; [ "$(val during durable_gateway_waits_held)" = 1 ] && break; sleep 0.05; done
wait "$wpid"
exec 3>&-
sleep 0.2
scrape after

# ---- request ids ----
check "a client's X-Request-Id comes back (/healthz)" '[ "$(hdr "$work/h.health" X-Request-Id)" = obs-health-1 ]'
check "x-ms-client-request-id wins over X-Request-Id" '[ "$(hdr "$work/h.start" X-Request-Id)" = obs-start-1 ]'
for f in ready nope 401 404 status; do
    check "an answer without a client id gets a made one ($f)" '[[ "$(hdr "$work/h.$f" X-Request-Id)" =~ ^[0-9a-f]{12}$ ]]'
done
check "an id with unsafe characters is replaced by a made one" '[[ "$(hdr "$work/h.bad" X-Request-Id)" =~ ^[0-9a-f]{12}$ ]]'
check "a 200-character id is cut to 64" '[ "$(hdr "$work/h.long" X-Request-Id)" = "${long:0:64}" ]'
check "the long-poll's 202 carries the client's id" 'grep -q "^HTTP/1.1 202" "$work/h.wait" && [ "$(hdr "$work/h.wait" X-Request-Id)" = obs-wait-1 ]'
check "a storage failure's 503 carries it too" 'grep -q "^HTTP/1.1 503" "$work/h.dead" && [ "$(hdr "$work/h.dead" X-Request-Id)" = obs-dead-1 ]'
if [ -n "$azlog" ] && [ -f "$azlog" ]; then
    check "storage receives the request's id as x-ms-client-request-id: the Queue service (the start's message)" \
        'grep "QueueStorageContextMiddleware" "$azlog" | grep -q "\"x-ms-client-request-id\":\"obs-start-1\""'
    check "...and the Table service (the start's row)" \
        'grep "TableStorageContextMiddleware" "$azlog" | grep -q "\"x-ms-client-request-id\":\"obs-start-1\""'
    made=$(hdr "$work/h.status" X-Request-Id)
    check "...a made id as well" 'grep -q "\"x-ms-client-request-id\":\"$made\"" "$azlog"'
else
    check "Azurite's debug log is there (AZURITE_DEBUG=1)" 'false'
fi

# ---- metrics ----
check "requests_total{route=healthz,code=200} +2" 'moved "durable_gateway_requests_total{route=\"healthz\",code=\"200\"}" 2'
check "requests_total{route=readyz} +1" '[ "$(( $(delta "durable_gateway_requests_total{route=\"readyz\",code=\"200\"}") + $(delta "durable_gateway_requests_total{route=\"readyz\",code=\"503\"}") ))" = 1 ]'
check "requests_total{route=unmatched,code=404} +1" 'moved "durable_gateway_requests_total{route=\"unmatched\",code=\"404\"}" 1'
check "requests_total{route=get_status,code=401} +1" 'moved "durable_gateway_requests_total{route=\"get_status\",code=\"401\"}" 1'
check "requests_total{route=get_status,code=404} +1" 'moved "durable_gateway_requests_total{route=\"get_status\",code=\"404\"}" 1'
check "requests_total{route=get_status,code=202} +3 (a Pending instance)" 'moved "durable_gateway_requests_total{route=\"get_status\",code=\"202\"}" 3'
check "requests_total{route=get_status,code=503} +1 (storage down)" 'moved "durable_gateway_requests_total{route=\"get_status\",code=\"503\"}" 1'
check "requests_total{route=start,code=202} +1" 'moved "durable_gateway_requests_total{route=\"start\",code=\"202\"}" 1'
check "requests_total{route=wait,code=202} +1" 'moved "durable_gateway_requests_total{route=\"wait\",code=\"202\"}" 1'
check "requests_total{route=metrics,code=200} counts the scrapes" 'moved "durable_gateway_requests_total{route=\"metrics\",code=\"200\"}" 2+'
check "request_duration_seconds_count{route=start} +1" 'moved "durable_gateway_request_duration_seconds_count{route=\"start\"}" 1'
check "request_duration_seconds: the 2 s long-poll is in no bucket below 1 s" \
    'moved "durable_gateway_request_duration_seconds_bucket{route=\"wait\",le=\"2.5\"}" 1 && moved "durable_gateway_request_duration_seconds_bucket{route=\"wait\",le=\"1\"}" 0'
check "request_duration_seconds_sum{route=wait} grew by about 2 s" 'awk -v d="$(delta "durable_gateway_request_duration_seconds_sum{route=\"wait\"}")" "BEGIN{exit !(d >= 1.9 && d < 3)}"'
check "storage_calls_total{queue,put_message,ok} +1" 'moved "durable_gateway_storage_calls_total{service=\"queue\",operation=\"put_message\",outcome=\"ok\"}" 1'
check "storage_calls_total{table,insert_entity,ok} moves (the row, the new hub's partitions)" 'moved "durable_gateway_storage_calls_total{service=\"table\",operation=\"insert_entity\",outcome=\"ok\"}" 1+'
check "storage_calls_total{table,query_entities,ok} moves (status reads)" 'moved "durable_gateway_storage_calls_total{service=\"table\",operation=\"query_entities\",outcome=\"ok\"}" 1+'
check "storage_calls_total{...,outcome=unavailable} moves (the dead connection)" 'awk "/^durable_gateway_storage_calls_total\\{.*outcome=\"unavailable\"\\}/ { s += \$2 } END { exit !(s >= 1) }" "$work/after.prom"'
check "storage_call_duration_seconds_count{queue,put_message} +1" 'moved "durable_gateway_storage_call_duration_seconds_count{service=\"queue\",operation=\"put_message\"}" 1'
check "storage_attempts_total{queue,put_message} +1" 'moved "durable_gateway_storage_attempts_total{service=\"queue\",operation=\"put_message\"}" 1'
check "storage_retries_total moves on the dead connection" 'awk "/^durable_gateway_storage_retries_total\\{/ { s += \$2 } END { exit !(s >= 1) }" "$work/after.prom"'
check "status_reads_total moves" 'moved durable_gateway_status_reads_total 1+'
check "wait_reads_total moves" 'moved durable_gateway_wait_reads_total 1+'
check "wait_timeouts_total +1" 'moved durable_gateway_wait_timeouts_total 1'
check "waits_held was 1 while the long-poll was held, 0 after" '[ "$(val during durable_gateway_waits_held)" = 1 ] && [ "$(val after durable_gateway_waits_held)" = 0 ]'
check "requests_in_flight counted the held long-poll and the scrape (>= 2), 1 after (the scrape)" '[ "$(val during durable_gateway_requests_in_flight)" -ge 2 ] && [ "$(val after durable_gateway_requests_in_flight)" = 1 ]'
check "client_connections counted the idle connection, and it left" '[ "$(val during durable_gateway_client_connections)" -ge 2 ] && [ "$(val after durable_gateway_client_connections)" = 1 ]'
check "requests_running is 0 at rest" '[ "$(val after durable_gateway_requests_running)" = 0 ]'
now=$(date +%s)
check "process_start_time_seconds is within a minute of now" 'awk -v t="$(val after process_start_time_seconds)" -v n="$now" "BEGIN{exit !(t > n - 60 && t <= n + 1)}"'
check "process_resident_memory_bytes and process_open_fds are plausible" 'awk -v r="$(val after process_resident_memory_bytes)" -v f="$(val after process_open_fds)" "BEGIN{exit !(r > 1000000 && f >= 5)}"'
check "the upstream metrics are reserved (declared, no series yet)" 'grep -q "^# TYPE durable_gateway_upstream_requests_total counter" "$work/after.prom" && grep -q "^# TYPE durable_gateway_upstream_request_duration_seconds histogram" "$work/after.prom"'
check "no metric is named after a raw path" '! grep -v "^#" "$work/after.prom" | grep -q "obs-inst-1\|/runtime\|/nope"'
check "every sample line is name{labels} value" '! grep -v "^#" "$work/after.prom" | grep -vqE "^[a-z_]+(\{[a-z_]+=\"[^\"]*\"(,[a-z_]+=\"[^\"]*\")*\})? -?[0-9.e+]+$"'
check "build_info carries the version" 'grep -qE "^durable_gateway_build_info\{version=\"[0-9]+\.[0-9]+\.[0-9]+\"\} 1$" "$work/after.prom"'
check "the old dg_ names are gone" '! grep -q "^dg_" "$work/after.prom"'

kill -TERM "$gpid"; wait "$gpid"; gpid=""

# ---- the JSON log ----
cat > "$work/log.py" <<'EOF'
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
bad = [l for l in lines if not l.startswith("{")]
objs = []
for l in lines:
    try:
        objs.append(json.loads(l))
    except ValueError:
        bad.append(l)
if bad:
    print("not JSON:", bad[:3]); sys.exit(1)
for o in objs:
    for k in ("time", "level", "request_id", "msg"):
        if k not in o:
            print("missing", k, o); sys.exit(1)
acc = [o for o in objs if o["msg"] == "request"]
need = {"method": str, "target": str, "route": str, "status": int, "duration_ms": float,
        "storage_calls": int, "bytes_in": int, "bytes_out": int}
for o in acc:
    for k, t in need.items():
        if not isinstance(o.get(k), t):
            print("field", k, "of", o); sys.exit(1)
def one(rid):
    m = [o for o in acc if o["request_id"] == rid]
    if len(m) != 1:
        print("access lines of", rid, m); sys.exit(1)
    return m[0]
s = one("obs-start-1")
assert s["method"] == "POST" and s["route"] == "start" and s["status"] == 202, s
assert s["bytes_in"] == len('"input-17"') and s["bytes_out"] > 0 and s["storage_calls"] >= 2, s
assert s["target"].endswith("/orchestrators/Hello/obs-inst-1"), s
h = one("obs-health-1")
assert h["route"] == "healthz" and h["storage_calls"] == 0 and h["bytes_out"] > 0, h
w = one("obs-wait-1")
assert w["route"] == "wait" and w["status"] == 202 and w["duration_ms"] >= 1900, w
d = one("obs-dead-1")
assert d["status"] == 503 and d["storage_calls"] >= 1, d
others = [o for o in objs if o["request_id"] == "obs-dead-1" and o["msg"] != "request"]
assert any("storage" in o["msg"] for o in others), others  # the storage warnings of that request carry its id
n = [o for o in acc if o["route"] == "unmatched" and o["status"] == 404]
assert n and n[0]["target"] == "/nope", n
print("ok", len(objs), "lines,", len(acc), "access lines")
EOF
out=$(python3 "$work/log.py" "$work/gw.log" 2>&1)
check "every log line is a JSON object with time, level, request_id, msg; access lines have their fields ($out)" '[[ "$out" == ok* ]]'
check "the key never reaches the log (in a header or as code=)" '! grep -q "$key" "$work/gw.log" && grep -q "code=REDACTED" "$work/gw.log"'
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
