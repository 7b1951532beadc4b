#!/usr/bin/env bash
# The gateway's entity routes against the real worker (tests/interop/worker: DurableTask.Core
# 3.11.2's entity dispatcher over DurableTask.AzureStorage 2.11.2, the counter entity of
# Entities.cs) and the provider's own entity reader (worker_cli entity-get / entity-list).
# A driver of run-suite.sh (CTest: interop_entities, in the sanitized build):
#
#   tests/interop/run-suite.sh entities path/to/durable-gateway
#
# run-suite.sh starts Azurite, the worker (hub $DG_HUB) and the gateway with keys ($DG_URL,
# $DG_KEY). This signals through the gateway and checks that the worker ran the operations,
# that the gateway reads what the provider's reader reads, the shape of the Instances rows
# the worker wrote, and that a gateway signal carries what the core client's own signal
# carries. DG_ENTITIES_OUT (default: a temporary directory, removed) receives the raw rows
# and messages. The counts go to $DG_COUNTS_FILE ("PASSED FAILED").
set -u
root="$(cd "$(dirname "$0")/../.." && pwd)"
: "${DG_URL:?run by run-suite.sh}" "${DG_KEY:?run by run-suite.sh}"
. "$root/scripts/lib/worker.sh"
if [ -n "${DG_ENTITIES_OUT:-}" ]; then out="$DG_ENTITIES_OUT"; else out=$(mktemp -d); trap 'rm -rf "$out"' EXIT; fi
mkdir -p "$out"
fail=0 pass=0
check() { if eval "$2"; then pass=$((pass + 1)); echo "PASS $1"; else fail=$((fail + 1)); echo "FAIL $1"; fi; }
base="$DG_URL/runtime/webhooks/durabletask"
K=(-H "x-functions-key: $DG_KEY")

signal() { # METHOD PATH CONTENT-TYPE BODY
    curl -s "${K[@]}" -o /dev/null -w '%{http_code}' -X "$1" "$base/$2" ${3:+-H "Content-Type: $3"} ${4:+--data-binary "$4"}
}
check "signal add 5 is 202" '[ "$(signal POST "entities/Counter/k1?op=add" application/json 5)" = 202 ]'
check "signal add 3 is 202" '[ "$(signal POST "entities/counter/k1?op=add" application/json 3)" = 202 ]'
check "signal set object" '[ "$(signal POST "entities/counter/obj?op=set" application/json "{\"a\": [1, true], \"s\": \"q\\\"\"}")" = 202 ]'
check "signal set text" '[ "$(signal POST "entities/counter/txt?op=set" text/plain "hello \"there\"")" = 202 ]'
check "signal the empty key" '[ "$(signal POST "entities/counter?op=add" "" "")" = 202 ]'
check "signal a key with ^ and @" '[ "$(signal POST "entities/counter/a%5Eb%40c?op=add" "" "")" = 202 ]'
python3 -c 'import json; print(json.dumps({"big": "y" * 50000}))' > "$out/big.json"
check "signal a 50 KB state (the message goes to a blob)" \
    '[ "$(signal POST "entities/counter/big?op=set" application/json @"$out/big.json")" = 202 ]'
check "signal add then delete" \
    '[ "$(signal POST "entities/counter/gone?op=add" "" "")" = 202 ] && [ "$(signal DELETE entities/counter/gone "" "")" = 202 ]'

# Wait until the worker has run everything (the provider's reader sees the last states).
for _ in $(seq 1 100); do
    s=$(worker_cli entity-get counter k1 2>/dev/null)
    g=$(worker_cli entity-get counter gone 2>/dev/null)
    b=$(worker_cli entity-get counter big 2>/dev/null)
    [[ "$s" == *'"state":"8"'* && "$g" == null && "$b" == *'"state"'* ]] && break
    sleep 0.2
done
check "the worker ran the operations (reader: k1 = 8)" '[[ "$s" == *"\"state\":\"8\""* ]]'
check "the worker ran the delete (reader: gone = null)" '[ "$g" = null ]'

worker_cli rows Instances > "$out/instances.jsonl"
worker_cli rows History '@counter@k1' > "$out/history-k1.jsonl"
row() { grep "\"PartitionKey\":\"$1\"" "$out/instances.jsonl"; }
k1=$(row '@counter@k1')
check "row: Name is the instance id" '[[ "$k1" == *"\"Name\":\"@counter@k1\""* ]]'
check "row: Running, Version empty" '[[ "$k1" == *"\"RuntimeStatus\":\"Running\""* && "$k1" == *"\"Version\":\"\""* ]]'
check "row: core format Input, no exists" '[[ "$k1" == *"\"Input\":\"{\\\"state\\\":\\\"8\\\",\\\"sorter\\\":{}}\""* ]]'
check "row: CustomStatus entityExists" '[[ "$k1" == *"\"CustomStatus\":\"{\\\"entityExists\\\":true}\""* ]]'
check "row: no Generation, Output or CompletedTime column" \
    '[[ "$k1" != *"\"Generation\""* && "$k1" != *"\"Output\""* && "$k1" != *"\"CompletedTime\""* ]]'
gone=$(row '@counter@gone')
check "row of a deleted entity stays: Input {\"sorter\":{}}, CustomStatus {}" \
    '[[ "$gone" == *"\"Input\":\"{\\\"sorter\\\":{}}\""* && "$gone" == *"\"CustomStatus\":\"{}\""* ]]'
check "row: '^' escaped, '@' not" '[ -n "$(row "@counter@a^^b@c")" ]'
check "row: a big state is a blob URL" '[[ "$(row "@counter@big")" == *"\"Input\":\"http://"*"-largemessages/%40counter%40big/history-"*"-ExecutionStarted-"*"-Input.json.gz\""* ]]'

# Reads: the gateway against the provider's reader.
get() { curl -s "${K[@]}" "$base/$1"; }
check "GET k1 = 8" '[ "$(get entities/counter/k1)" = 8 ]'
check "GET obj = the object" '[ "$(get entities/counter/obj)" = "{\"a\":[1,true],\"s\":\"q\\\"\"}" ]'
check "GET txt = the string" '[ "$(get entities/counter/txt)" = "\"hello \\\"there\\\"\"" ]'
check "GET \$ = the empty key" '[ "$(get "entities/counter/\$")" = 1 ]'
check "GET big = 50 KB" '[ "$(get entities/counter/big | wc -c)" -gt 50000 ]'
check "GET gone is 404" '[ "$(curl -s "${K[@]}" -o /dev/null -w "%{http_code}" "$base/entities/counter/gone")" = 404 ]'
worker_cli entity-list "" true > "$out/reader-list-state.jsonl" 2>/dev/null
worker_cli entity-list "" false > "$out/reader-list.jsonl" 2>/dev/null
get "entities?fetchState=true" > "$out/gateway-list-state.json"
get "entities" > "$out/gateway-list.json"
cmp_lists() { # READER_JSONL GATEWAY_JSON WITH_STATE
    python3 - "$1" "$2" "$3" <<'EOF'
import json, sys
reader = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
gateway = json.load(open(sys.argv[2]))
def t(s):  # the reader prints 7 digits; the gateway drops trailing zeros
    d, f = s[:-1].split('.') if '.' in s else (s[:-1], '')
    return d + '.' + (f + '0000000')[:7] + 'Z'
want = [(r['name'], r['key'], t(r['lastModifiedTime']),
         None if r['state'] is None else json.loads(r['state'])) for r in reader]
got = [(g['entityId']['name'], g['entityId']['key'], t(g['lastOperationTime']), g['state']) for g in gateway]
if sys.argv[3] == 'false':
    want = [w[:3] + (None,) for w in want]
if want != got:
    print('reader: ', want)
    print('gateway:', got)
    sys.exit(1)
EOF
}
check "list with state = the reader's" 'cmp_lists "$out/reader-list-state.jsonl" "$out/gateway-list-state.json" true'
check "list without state = the reader's" 'cmp_lists "$out/reader-list.jsonl" "$out/gateway-list.json" false'

# Messages: a gateway signal and the core client's signal to a hub no worker serves.
quiet=EntQuiet
check "gateway signal (makes the hub)" '[ "$(signal POST "entities/counter/k1?op=add&taskHub=$quiet" application/json 5)" = 202 ]'
check "core client signal" 'worker_cli --hub $quiet --partitions 4 entity-signal counter k1 add 5 >/dev/null'
worker_cli --hub "$quiet" --partitions 4 peek all > "$out/messages.jsonl"
check "messages on one control queue (FNV-1a of @counter@k1: 03)" \
    '[ "$(grep -c "\"queue\":\"entquiet-control-03\"" "$out/messages.jsonl")" = 2 ]'
check "the same event, instance and request fields (the gateway's a subset)" 'python3 - "$out/messages.jsonl" <<EOF
import json, sys
m = [json.loads(json.loads(l)["text"]) for l in open(sys.argv[1])]
gw, core = m[0], m[1]
def ev(x): return x["TaskMessage"]["Event"]
def req(x): return json.loads(ev(x)["Input"])
assert ev(core)["Name"] == ev(gw)["Name"] == "op"
assert core["TaskMessage"]["OrchestrationInstance"] == gw["TaskMessage"]["OrchestrationInstance"]
assert gw["TaskMessage"]["OrchestrationInstance"]["ExecutionId"] is None
assert core["Sender"] == gw["Sender"]
rc, rg = req(core), req(gw)
assert set(rg) <= set(rc), (rg, rc)
for k in rg:
    assert k == "id" or rg[k] == rc[k], (k, rg[k], rc[k])
extra = sorted(set(rc) - set(rg))
assert extra == ["IsLockRequest", "createTrace"], extra
EOF'

echo "$pass passed, $fail failed${DG_ENTITIES_OUT:+ (rows and messages in $out)}"
[ -n "${DG_COUNTS_FILE:-}" ] && echo "$pass $fail" > "$DG_COUNTS_FILE"
[ "$fail" -eq 0 ]
