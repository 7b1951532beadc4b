#!/usr/bin/env bash
# The real binary over HTTP, on a private Azurite (run under tests/support/with-azurite.sh):
# the list's continuation header goes out even when empty, and comes in.
set -u
bin="$1"
. "$(cd "$(dirname "$0")" && pwd)/../../support/keep-logs.sh"
fail=0; pass=0
. "$(dirname "$0")/../../support/gateway.sh"
check() { if eval "$2"; then pass=$((pass+1)); echo "PASS $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }

log=$(mktemp)
hdr=$(mktemp)
"$bin" --port 0 --connection-string "$AZURITE_CONNECTION_STRING" --no-auth --task-hub EmptyHub1 > "$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; dg_keep_logs list "$log"; rm -f "$log" "$hdr"' EXIT
port=$(listening_port "$log")
check "listens" '[ -n "$port" ]'
base="http://127.0.0.1:$port/runtime/webhooks/durabletask"

body=$(curl -s -D "$hdr" "$base/instances/")
check "an empty hub lists []" '[ "$body" = "[]" ] && grep -q "^HTTP/1.1 200" "$hdr"'
check "the continuation header is sent, empty, on the last page" \
    'grep -qiE "^x-ms-continuation-token:[[:space:]]*$(printf "\r")?$" "$hdr"'
body=$(curl -s -D "$hdr" -H "x-ms-continuation-token: %%%" "$base/instances")
check "a bad token is 400 form A" \
    '[ "$body" = "{\"Message\":\"The continuation token is not valid.\"}" ] && grep -q "^HTTP/1.1 400" "$hdr"'
body=$(curl -s -D "$hdr" -X DELETE "$base/instances")
check "purge by filter without createdTimeFrom is 400 form C" \
    '[ "$body" = "\"Please provide value for '"'"'createdTimeFrom'"'"' parameter.\"" ] && grep -q "^HTTP/1.1 400" "$hdr"'
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$base/instances/nobody")
check "purging an unknown instance is 404" '[ "$code" = 404 ]'
kill -TERM $pid; wait $pid
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
