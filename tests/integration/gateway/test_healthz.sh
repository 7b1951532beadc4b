#!/usr/bin/env bash
# The real binary: --version, --help, a bad connection string, /healthz over HTTP, the config file.
set -u
bin="$1"
. "$(cd "$(dirname "$0")" && pwd)/../../support/keep-logs.sh"
fail=0; pass=0
. "$(dirname "$0")/../../support/gateway.sh"
check() { if eval "$2"; then pass=$((pass+1)); echo "PASS $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }

check "version prints" '"$bin" --version | grep -q "^durable-gateway [0-9]"'
check "help lists every option" '"$bin" --help | grep -q -- "--connection-string" && "$bin" --help | grep -q -- "--port"'
check "unknown option exits 2" '"$bin" --bogus >/dev/null 2>&1; [ $? -eq 2 ]'
out=$(AzureWebJobsStorage= "$bin" --no-auth --connection-string "AccountName=a;AccountKey=s3cr3t!!" 2>&1); rc=$?
check "bad connection string exits 2 without echoing the key" '[ $rc -eq 2 ] && ! grep -q s3cr3t <<<"$out" && grep -q "AccountKey is not valid base64" <<<"$out"'

for hub in bad-hub ab 1Hub "Hub name" HubNameOfFortySixCharactersIsOneTooManyForIt12; do
    out=$(DG_TASK_HUB= "$bin" --no-auth --connection-string UseDevelopmentStorage=true --task-hub "$hub" 2>&1); rc=$?
    check "--task-hub '$hub' stops the gateway with exit 2" '[ $rc -eq 2 ] && grep -q "task hub name is not valid" <<<"$out"'
done
out=$(DG_TASK_HUB=bad_hub "$bin" --no-auth --connection-string UseDevelopmentStorage=true 2>&1); rc=$?
check "DG_TASK_HUB is checked too" '[ $rc -eq 2 ] && grep -q "task hub name is not valid" <<<"$out"'
hjdir=$(mktemp -d)
printf '{"extensions":{"durableTask":{"hubName":"my-hub"}}}' > "$hjdir/host.json"
out=$(cd "$hjdir" && DG_TASK_HUB= "$bin" --no-auth --connection-string UseDevelopmentStorage=true 2>&1); rc=$?
rm -rf "$hjdir"
check "a bad hubName in host.json stops it too" '[ $rc -eq 2 ] && grep -q "host.json" <<<"$out"'

out=$("$bin" --connection-string UseDevelopmentStorage=true 2>&1); rc=$?
check "no key file and no --no-auth refuses to start" '[ $rc -eq 2 ] && grep -q -- "--key-file" <<<"$out"'
keys=$(mktemp)
printf '{"masterKey":"test-master-key-0123456789","readOnlyKeys":["test-dashboard-0123456789"]}' > "$keys"
log=$(mktemp)
"$bin" --port 0 --connection-string UseDevelopmentStorage=true --key-file "$keys" > "$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; dg_keep_logs healthz "$log" "$keys"; rm -f "$log" "$keys"' EXIT
port=$(listening_port "$log")
check "listens on a free port" '[ -n "$port" ]'
body=$(curl -s -w ' %{http_code}' "http://127.0.0.1:$port/healthz")
check "/healthz answers 200 healthy" 'grep -q "\"status\":\"healthy\"" <<<"$body" && [ "${body##* }" = 200 ]'
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nope")
check "unknown path is 404" '[ "$code" = 404 ]'
access='info  \[[0-9a-f]{12}\] request method=GET target=/nope route=unmatched status=404 duration_ms=[0-9.]+ storage_calls=0 bytes_in=0 bytes_out=0$'
for _ in $(seq 40); do grep -qE "$access" "$log" && break; sleep 0.05; done # written once the answer has left
check "one text access line per request, with its route and its X-Request-Id" 'grep -qE "$access" "$log"'
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/healthz")
check "POST /healthz is 405" '[ "$code" = 405 ]'
code=$(head -c 5000000 /dev/zero | curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @- "http://127.0.0.1:$port/x")
check "a body over the cap is 413" '[ "$code" = 413 ]'
check "auth is on: no warning about --no-auth" '! grep -q "AUTH IS DISABLED" "$log"'
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/runtime/webhooks/durabletask/instances/x")
check "a management route without a key is 401" '[ "$code" = 401 ]'
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/runtime/webhooks/durabletask/instances/x?code=nope-nope-nope-nope")
check "an unknown key is 401" '[ "$code" = 401 ]'
check "the key never reaches the log" '! grep -q "nope-nope" "$log" && grep -q "code=REDACTED" "$log"'
many=(); for i in $(seq 70); do many+=(-H "X-Filler-$i: $i"); done
code=$(curl -s -o /dev/null -w '%{http_code}' "${many[@]}" -H "x-functions-key: test-master-key-0123456789" \
    "http://127.0.0.1:$port/runtime/webhooks/durabletask/instances/x")
check "a key after 70 other headers still authenticates (not 401: $code)" '[ "$code" != 401 ] && [ "$code" != 000 ]'
code=$(curl -s -o /dev/null -w '%{http_code}' "${many[@]}" "http://127.0.0.1:$port/runtime/webhooks/durabletask/instances/x")
check "...and without it, 401" '[ "$code" = 401 ]'
curl -s -o /dev/null "http://127.0.0.1:$port/runtime/webhooks/durabletask/instances/x?%63ode=encoded-name-secret&a=1"
curl -s -o /dev/null "http://127.0.0.1:$port/runtime/webhooks/durabletask/instances/x?CoDe=semi;colon-secret"
check "a key under an encoded name or holding ';' never reaches the log" '! grep -q "encoded-name-secret\|colon-secret" "$log" && grep -q "%63ode=REDACTED&a=1" "$log"'
# Raw bytes in the target (curl refuses them, so the request is written by hand).
printf 'GET /runtime/webhooks/durabletask/instances/x\x1b[2J\x01\x7f\xff?a=\x1b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n' |
    timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; cat >&3; cat <&3 >/dev/null" 2>/dev/null
until_true 10 in_file "$log" 'instances/x\\x1b'   # its request line is in the log
check "raw control and non-UTF-8 bytes of a target are escaped in the log" '! LC_ALL=C grep -q "$(printf "[\x01\x1b\x7f\xff]")" "$log" && grep -q "instances/x\\\\x1b\[2J\\\\x01\\\\x7f\\\\xff?a=\\\\x1b" "$log"'
kill -TERM $pid; wait $pid; rc=$?
check "SIGTERM stops it cleanly" '[ $rc -eq 0 ]'
log2=$(mktemp)
"$bin" --port 0 --connection-string UseDevelopmentStorage=true --no-auth > "$log2" 2>&1 &
pid2=$!
listening_port "$log2" >/dev/null   # started (or gave up waiting)
kill -TERM $pid2; wait $pid2
check "--no-auth says so loudly" 'grep -q "AUTH IS DISABLED" "$log2"'
dg_keep_logs healthz "$log2"
rm -f "$log2"

# The config file: below flags and environment, above defaults; unknown names refused.
cfg=$(mktemp)
printf '{"port": 0, "no-auth": true, "connection-string": "UseDevelopmentStorage=true", "task-hub": "FromFile1"}' > "$cfg"
log3=$(mktemp)
AzureWebJobsStorage= "$bin" --config "$cfg" > "$log3" 2>&1 &
pid3=$!
port3=$(listening_port "$log3")
check "a config file sets the options" '[ -n "$port3" ] && grep -q "AUTH IS DISABLED" "$log3"'
kill -TERM $pid3; wait $pid3
printf '{"port": 0, "bogus-option": 1}' > "$cfg"
out=$("$bin" --config "$cfg" 2>&1); rc=$?
check "an unknown config key stops the gateway" '[ $rc -eq 2 ] && grep -q "unknown option" <<<"$out"'
printf '{"port": 0, "no-auth": true, "connection-string": "UseDevelopmentStorage=true"}' > "$cfg"
out=$(DG_PORT=abc "$bin" --config "$cfg" 2>&1); rc=$?
check "the environment wins over the config file" '[ $rc -eq 2 ] && grep -q "port must be a whole number" <<<"$out"'
dg_keep_logs healthz "$log3"
rm -f "$cfg" "$log3"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
